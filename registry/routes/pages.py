"""The public web pages (server-rendered, Japanese and English; see registry.web).

They work without JavaScript: search is a GET form, pagination links carry the cursor, the verify page is a
multipart POST, the language switch is a link (`?lang=`) remembered in a cookie. `GET /credentials/{id}` is
also where every credential's `id` points, so it negotiates: `application/vc+jwt` gets the signed credential
and `application/json` the public record (the same answers as the API's two endpoints), anything else the
page. Errors a person meets here are pages; errors a machine meets (by Accept) stay RFC 9457 problems.
"""

from __future__ import annotations

import hashlib
import logging
import uuid
from collections.abc import Mapping
from datetime import datetime
from functools import lru_cache, partial
from importlib import resources
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import RedirectResponse
from sqlalchemy.engine import Engine
from sqlmodel import Session
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException

from issuer import BadgeRenderError, render_badge_png, render_badge_svg, render_qr_svg
from registry import search
from registry.db import LoopReader
from registry.errors import InvalidRequestError, NotFoundError
from registry.identity import credential_url
from registry.lifecycle import Context
from registry.problems import problem_response
from registry.routes import credentials, trust
from registry.search import BadQueryError, PublicStatus
from registry.web import checking, i18n, views
from registry.web.render import BADGE_HEADERS, PAGE_HEADERS, RenderCache, page, page_bytes
from verifier import JwsError, parse_compact

router = APIRouter(include_in_schema=False)
logger = logging.getLogger("registry")

PAGE_SIZE = 20
_RENDERED = RenderCache(max_entries=2048)  # certificate pages (≈ 6 KB each)
_SEARCHED = RenderCache(max_entries=1024)  # search pages (≈ 15 KB each)
_SEARCH_PARAMETERS = frozenset({"q", "status", "level", "issuer", "cursor", "lang"})
_MAX_CACHED_QUERY = 1024
_STATIC_TYPES = {".css": "text/css; charset=utf-8", ".js": "text/javascript; charset=utf-8"}
_STATIC_FILES = ("site.css", "site.js")


# -- helpers ------------------------------------------------------------------------------------------------------


class _Page:
    """Per-request page state: the language, whether to remember it, links to this page in each language."""

    def __init__(self, request: Request) -> None:
        query = request.query_params.get("lang")
        self.request = request
        self.lang = i18n.choose(
            query=query,
            cookie=request.cookies.get(i18n.COOKIE),
            accept_language=request.headers.get("accept-language"),
        )
        self.remember = i18n.supported(query) is not None

    def links(self) -> dict[str, str]:
        """This page's URL in each language (the query kept, `lang` replaced)."""
        items = [(k, v) for k, v in self.request.query_params.multi_items() if k != "lang"]
        path = self.request.url.path
        return {lang: f"{path}?{urlencode([*items, ('lang', lang)])}" for lang in i18n.LANGUAGES}

    def render(self, template: str, context: Mapping[str, Any], *, status_code: int = 200) -> Response:
        ctx: Context = self.request.app.state.ctx
        full = {
            "language_links": self.links(),
            "public_url": ctx.public_url,
            "path": self.request.url.path,
            **context,
        }
        return page(
            template,
            self.lang,
            full,
            status_code=status_code,
            remember_language=self.remember,
            secure_cookie=ctx.public_url.startswith("https://"),
        )

    def respond(self, body: bytes) -> Response:
        """A page rendered before, with this request's headers and cookie."""
        ctx: Context = self.request.app.state.ctx
        return page_bytes(
            body,
            self.lang,
            remember_language=self.remember,
            secure_cookie=ctx.public_url.startswith("https://"),
        )

    def error(self, status_code: int, message: str) -> Response:
        return self.render(
            "error.html", {"status_code": status_code, "message": message}, status_code=status_code
        )


def _context(request: Request) -> Context:
    ctx: Context = request.app.state.ctx
    return ctx


def _engine(request: Request) -> Engine:
    engine: Engine = request.app.state.engine
    return engine


def _parse_id(raw: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(raw)
    except ValueError:
        return None


_OFFERS = ("text/html", "application/vc+jwt", "application/json")


def preferred_type(accept: str | None) -> str:
    """Which of `_OFFERS` the Accept header prefers (RFC 9110 §12.5.1): the highest q of the most specific
    matching range; ties and a missing header go to the page."""
    if not accept:
        return _OFFERS[0]
    ranges: list[tuple[str, str, float]] = []
    for item in accept[:2000].split(","):
        media, _, params = item.strip().partition(";")
        kind, _, sub = media.strip().lower().partition("/")
        quality = i18n.q_value(params)
        ranges.append((kind, sub, quality))
    best, best_q = _OFFERS[0], 0.0
    for offer in _OFFERS:
        kind, sub = offer.split("/")
        specificity, quality = -1, 0.0
        for r_kind, r_sub, r_q in ranges:
            if (r_kind, r_sub) == (kind, sub):
                level = 2
            elif r_kind == kind and r_sub == "*":
                level = 1
            elif r_kind == "*" and r_sub == "*":
                level = 0
            else:
                continue
            if level > specificity:
                specificity, quality = level, r_q
        if quality > best_q:
            best, best_q = offer, quality
    return best


# -- search -------------------------------------------------------------------------------------------------------


def _search(engine: Engine, now: datetime, params: Mapping[str, str]) -> tuple[dict[str, Any], str | None]:
    """The search page's data, or a message explaining a bad parameter."""
    with Session(engine) as session:
        body_list, level_list = views.choices(session=session)
        context: dict[str, Any] = {
            "bodies": body_list,
            "levels": level_list,
            "statuses": [s.value for s in PublicStatus],
            "form": {name: params.get(name, "") for name in ("q", "status", "level", "issuer")},
            "results": [],
            "next_url": None,
            "first_url": None,
        }
        try:
            status = params.get("status") or None
            if status is not None and status not in {s.value for s in PublicStatus}:
                raise BadQueryError("unknown status", field="status")
            filters = search.resolve_filters(
                session=session,
                q=params.get("q") or None,
                status=PublicStatus(status) if status else None,
                level=params.get("level") or None,
                issuer=params.get("issuer") or None,
            )
            cursor = params.get("cursor") or None
            if cursor is not None and len(cursor) > search.MAX_CURSOR_LENGTH:
                raise BadQueryError("cursor is not a cursor this query returned", field="cursor")
            after = None if cursor is None else search.decode_credential_cursor(cursor, filters)
            found = search.search_credentials(
                session=session, filters=filters, now=now, limit=PAGE_SIZE, after=after
            )
        except InvalidRequestError as e:
            return context, e.field or "q"
    kept = [(name, params[name]) for name in ("q", "status", "level", "issuer", "lang") if params.get(name)]
    context["results"] = found.items
    if found.more:
        next_cursor = search.credential_cursor(found.items[-1].key, filters)
        context["next_url"] = "/?" + urlencode([*kept, ("cursor", next_cursor)])
    if after is not None:
        context["first_url"] = "/?" + urlencode(kept) if kept else "/"
    return context, None


@router.get("/")
async def home(request: Request) -> Response:
    """Home and search: by company name (either language), corporate number or certificate number."""
    view = _Page(request)
    params = dict(request.query_params.items())
    context, bad = await run_in_threadpool(_search, _engine(request), _context(request).clock(), params)
    context["bad_field"] = bad
    if bad:
        return view.render("home.html", context, status_code=400)
    # The page follows from the language, the query (form values, language links), the registry's address and
    # what was found, all in the key: a query asked before whose results did not move is served without
    # rendering again. Only the search form's own parameters, in a query of a sane length, are kept: anything
    # else would let a client fill the cache with pages of its making.
    query = request.url.query
    if len(query) > _MAX_CACHED_QUERY or not params.keys() <= _SEARCH_PARAMETERS:
        return view.render("home.html", context)
    digest = hashlib.blake2b(repr(context).encode(), digest_size=16).digest()
    cache_key = (view.lang, query, str(request.base_url), digest)
    body = _SEARCHED.get(cache_key)
    if body is None:
        response = view.render("home.html", context)
        _SEARCHED.put(cache_key, bytes(response.body))
        return response
    return view.respond(body)


# -- the certificate ----------------------------------------------------------------------------------------------


async def _certificate(request: Request, credential_id: uuid.UUID) -> views.CertificateView | None:
    now = _context(request).clock()
    reader: LoopReader | None = request.app.state.reader
    found = reader.run(partial(views.certificate_sqlite, credential_id, now)) if reader is not None else None
    if found is None:
        found = await run_in_threadpool(views.certificate_session, _engine(request), credential_id, now)
    return found if isinstance(found, views.CertificateView) else None


@router.get("/credentials/{credential_id}")
async def certificate(credential_id: str, request: Request) -> Response:
    """A certificate's page; its signed credential or public record for machine clients (by Accept)."""
    wanted = preferred_type(request.headers.get("accept"))
    if wanted == "application/vc+jwt":
        response = await credentials.credential_token(credential_id, request)
        response.headers["Vary"] = "Accept"
        return response
    if wanted == "application/json":
        response = await credentials.read_credential(credential_id, request)
        response.headers["Vary"] = "Accept"
        return response
    view = _Page(request)
    key = _parse_id(credential_id)
    if key is not None and credential_id != str(key):
        # One URL per page (uuid.UUID also reads upper case, braces and urn:uuid:): the page's own links are
        # built from the URL it was asked by, and a cached page must not carry another spelling's.
        query = f"?{request.url.query}" if request.url.query else ""
        return RedirectResponse(f"{key}{query}", status_code=308)
    found = None if key is None else await _certificate(request, key)
    if found is None:
        return view.error(404, "no_certificate")
    ctx = _context(request)
    now = ctx.clock()
    # Everything the page shows follows from the view, the language, the query (language links) and the day
    # (an overdue surveillance): pages already rendered are served again while none of these moved.
    cache_key = (view.lang, str(request.url.query), now.date(), repr(found))
    body = _RENDERED.get(cache_key)
    if body is None:
        page_url = credential_url(ctx.public_url, found.id)
        response = view.render("certificate.html", {"cert": found, "page_url": page_url, "now": now})
        _RENDERED.put(cache_key, bytes(response.body))
        return response
    return view.respond(body)


# -- the live badge and the QR code ------------------------------------------------------------------------------

# The badge's ribbon says what the registry says now; a superseded certificate is no longer in force.
_RIBBON = {
    PublicStatus.ACTIVE: "valid",
    PublicStatus.SUSPENDED: "suspended",
    PublicStatus.REVOKED: "revoked",
    PublicStatus.EXPIRED: "expired",
    PublicStatus.SUPERSEDED: "expired",
}
BADGE_MAX_AGE = 60  # seconds: a revocation shows on embedding sites within a minute


async def _signed(request: Request, credential_id: str) -> views.SignedView | None:
    key = _parse_id(credential_id)
    if key is None:
        return None
    now = _context(request).clock()
    reader: LoopReader | None = request.app.state.reader
    found = reader.run(partial(views.signed_sqlite, key, now)) if reader is not None else None
    if found is None:
        found = await run_in_threadpool(views.signed_session, _engine(request), key, now)
    return found if isinstance(found, views.SignedView) else None


def _badge_language(request: Request) -> str:
    """The badge's language: `?lang=` only (an embedded image must not vary by visitor), Japanese by default."""
    return i18n.supported(request.query_params.get("lang")) or i18n.DEFAULT_LANGUAGE


def _badge_headers(request: Request, credential_id: str, extension: str) -> dict[str, str]:
    headers = {**BADGE_HEADERS, "Cache-Control": f"public, max-age={BADGE_MAX_AGE}"}
    if request.query_params.get("download"):
        headers["Content-Disposition"] = (
            f'attachment; filename="aigov-{_parse_id(credential_id)}.{extension}"'
        )
    return headers


def _badge_unavailable(request: Request) -> Response:
    logger.exception("badge rendering failed for %s", request.url.path)
    return problem_response(503, "the badge cannot be drawn at the moment", instance=request.url.path)


@lru_cache(maxsize=1024)
def _signed_page_url(token: str, fallback: str) -> str:
    """The live badge's link and QR code: the credential's `id` as signed, which a verifier requires them to be.

    Not the URL under today's public URL: an operator may move the registry (AIGOV_PUBLIC_URL), but the
    credentials it issued keep the id they were signed with, and a badge linking elsewhere would fail the check.
    """
    try:
        identifier = parse_compact(token).payload.get("id")
    except JwsError:  # pragma: no cover - the registry stores only the tokens it signed
        return fallback
    return identifier if isinstance(identifier, str) else fallback


@lru_cache(maxsize=256)
def _png(token: str, page_url: str, ribbon: str, lang: str) -> bytes:
    """A rendered PNG badge (≈ 50 ms to draw): the token never changes, so its status and language key it."""
    return render_badge_png(token, page_url=page_url, status=ribbon, lang=lang)


@router.get("/credentials/{credential_id}/badge.svg")
async def badge_svg(credential_id: str, request: Request) -> Response:
    """The live badge: the credential baked in, and a ribbon with its status now."""
    found = await _signed(request, credential_id)
    if found is None:
        raise NotFoundError("credential", credential_id[:100])
    page_url = _signed_page_url(
        found.token, credential_url(_context(request).public_url, _parse_id(credential_id))
    )
    try:
        svg = render_badge_svg(
            found.token, page_url=page_url, status=_RIBBON[found.status], lang=_badge_language(request)
        )
    except BadgeRenderError:
        return _badge_unavailable(request)
    return Response(svg, media_type="image/svg+xml", headers=_badge_headers(request, credential_id, "svg"))


@router.get("/credentials/{credential_id}/badge.png")
async def badge_png(credential_id: str, request: Request) -> Response:
    """The live badge as a PNG (the credential baked in an iTXt chunk)."""
    found = await _signed(request, credential_id)
    if found is None:
        raise NotFoundError("credential", credential_id[:100])
    page_url = _signed_page_url(
        found.token, credential_url(_context(request).public_url, _parse_id(credential_id))
    )
    try:
        png = await run_in_threadpool(
            _png, found.token, page_url, _RIBBON[found.status], _badge_language(request)
        )
    except BadgeRenderError:
        return _badge_unavailable(request)
    return Response(png, media_type="image/png", headers=_badge_headers(request, credential_id, "png"))


@lru_cache(maxsize=1024)
def _qr_svg(url: str) -> bytes:
    return render_qr_svg(url).encode()


@router.get("/credentials/{credential_id}/qr.svg")
async def qr_code(credential_id: str, request: Request) -> Response:
    """A QR code that opens the certificate's page."""
    key = _parse_id(credential_id)
    if key is None or await _signed(request, credential_id) is None:
        raise NotFoundError("credential", credential_id[:100])
    svg = _qr_svg(credential_url(_context(request).public_url, key))
    headers = {**BADGE_HEADERS, "Cache-Control": "public, max-age=86400"}
    return Response(svg, media_type="image/svg+xml", headers=headers)


# -- verify -------------------------------------------------------------------------------------------------------


def _check(request: Request, token: str | None, data: bytes | None) -> checking.Outcome:
    """Verify a pasted token or an uploaded file in the threadpool (database reads, signature checks, and
    for QR images, image decoding)."""
    ctx = _context(request)
    with Session(_engine(request)) as session:
        options: dict[str, Any] = {
            "session": session,
            "ctx": ctx,
            "refresher": request.app.state.refresher,
            "trust_list": trust.current_trust_list(session, ctx, trust.trust_cache(request)).token,
            "now": ctx.clock(),
        }
        if token is not None:
            result = checking.check_token(token, **options)
            return checking.Outcome(
                result=result, source="jwt", credential_id=checking.own_id(result, ctx.public_url)
            )
        assert data is not None  # noqa: S101
        return checking.check_upload(data, **options)


def _verify_page(
    view: _Page,
    *,
    outcome: checking.Outcome | None = None,
    error: str | None = None,
    detail: str | None = None,
    status_code: int = 200,
) -> Response:
    return view.render(
        "verify.html", {"outcome": outcome, "error": error, "error_detail": detail}, status_code=status_code
    )


@router.get("/verify")
async def verify_form(request: Request) -> Response:
    """The verify page: upload a badge or a QR image, or paste a JWT."""
    return _verify_page(_Page(request))


@router.post("/verify")
async def verify_submit(request: Request) -> Response:
    """Verify what was sent, with this registry's trust. Nothing is stored: the body is at most the app's
    body cap (registry.limits), which Starlette keeps in memory (its spool rolls to disk only past 1 MiB)."""
    view = _Page(request)
    content_type = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if content_type not in {"multipart/form-data", "application/x-www-form-urlencoded"}:
        return _verify_page(view, error="bad_form", status_code=415)
    try:
        form = await request.form(max_files=1, max_fields=4, max_part_size=checking.MAX_UPLOAD_BYTES)
    except HTTPException:
        return _verify_page(view, error="bad_form", status_code=400)
    try:
        pasted = form.get("jwt")
        upload = form.get("file")
        token: str | None = None
        data: bytes | None = None
        if isinstance(pasted, str) and pasted.strip():
            token = pasted.strip()
        elif isinstance(upload, UploadFile) and (upload.filename or upload.size):
            data = await upload.read(checking.MAX_UPLOAD_BYTES + 1)
            if len(data) > checking.MAX_UPLOAD_BYTES:
                return _verify_page(view, error="too_large", status_code=413)
            if not data:
                return _verify_page(view, error="nothing", status_code=400)
        else:
            return _verify_page(view, error="nothing", status_code=400)
    finally:
        await form.close()
    try:
        outcome = await run_in_threadpool(_check, request, token, data)
    except checking.UploadError as e:
        return _verify_page(view, error=e.code, detail=e.detail, status_code=400)
    return _verify_page(view, outcome=outcome)


# -- certification bodies, about ----------------------------------------------------------------------------------


def _bodies(engine: Engine, signers: Any) -> list[dict[str, Any]]:
    with Session(engine) as session:
        listed = views.bodies(session=session)
        accredited = views.accreditations(session=session)
    return [
        {
            "body": body,
            "keys": signers.published_keys(body.slug),
            "accreditations": accredited.get(body.id or 0, []),
        }
        for body in listed
    ]


@router.get("/bodies")
async def certification_bodies(request: Request) -> Response:
    """The certification bodies: accreditation state, DID and keys."""
    ctx = _context(request)
    listed = await run_in_threadpool(_bodies, _engine(request), ctx.signers)
    return _Page(request).render("bodies.html", {"bodies": listed})


@router.get("/about")
async def about(request: Request) -> Response:
    """What the registry is, and how to use its API."""
    return _Page(request).render("about.html", {})


# -- static files -------------------------------------------------------------------------------------------------

_STATIC: dict[str, bytes] = {
    name: resources.files("registry.web").joinpath("static", name).read_bytes() for name in _STATIC_FILES
}


@router.get("/static/{name}")
async def static(name: str) -> Response:
    """The pages' stylesheet and script (no inline code anywhere)."""
    body = _STATIC.get(name)
    if body is None:
        raise HTTPException(404)
    media_type = _STATIC_TYPES[name[name.rfind(".") :]]
    headers = {"Cache-Control": "public, max-age=3600", "X-Content-Type-Options": "nosniff"}
    return Response(body, media_type=media_type, headers=headers)


__all__ = ["PAGE_HEADERS", "router"]
