"""Status lists: the signed BitstringStatusListCredential, served from stored bytes (no signing per request)."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from sqlmodel import select

from registry.deps import SessionDep, SettingsDep
from registry.errors import NotFoundError
from registry.models import StatusList
from registry.problems import documented
from registry.routes._responses import CORS, VC_JWT, raw

router = APIRouter(tags=["status lists"])


def if_none_match(header: str | None, etag: str) -> bool:
    """RFC 9110 §13.1.2: weak comparison against each listed entity tag, or `*`."""
    if not header:
        return False
    tags = [tag.strip() for tag in header.split(",")]
    return "*" in tags or etag in (tag.removeprefix("W/") for tag in tags)


@router.get(
    "/status/{list_id}",
    response_model=None,
    response_class=Response,
    responses={
        **raw(VC_JWT, "The signed BitstringStatusListCredential."),
        304: {"description": "Not Modified"},
        **documented(404),
    },
)
def status_list(list_id: str, request: Request, session: SessionDep, settings: SettingsDep) -> Response:
    """Bitstring Status List v1.0 §2.2: cacheable for the list's `ttl`, revalidated by ETag."""
    if not list_id.isdigit() or len(list_id) > 18:
        raise NotFoundError("status list", list_id[:100])
    row = session.exec(select(StatusList.token, StatusList.etag).where(StatusList.id == int(list_id))).first()
    if row is None:
        raise NotFoundError("status list", list_id)
    token, etag = row
    headers = {**CORS, "ETag": etag, "Cache-Control": f"public, max-age={settings.status_ttl_seconds}"}
    if if_none_match(request.headers.get("if-none-match"), etag):
        return Response(status_code=304, headers=headers)
    return Response(token, media_type=VC_JWT, headers=headers)
