"""The public read API: search, the lifecycle event feed, the export and statistics. No authentication.

Bad query parameters — a malformed value, an unknown name, a value out of range, a cursor this API did not
return for the same filters — are answered 400 with an RFC 9457 problem that lists each of them (`errors`),
from `PublicRoute`, never 422 or 500. Pages carry `nextCursor` in the body and a `Link: <...>; rel="next"`
header (RFC 8288).
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.dependencies.models import Dependant
from fastapi.exceptions import RequestValidationError
from fastapi.responses import StreamingResponse
from fastapi.routing import APIRoute
from sqlalchemy.engine import Engine
from sqlmodel import Session

from registry import export, search
from registry.deps import ContextDep, SessionDep
from registry.problems import MEDIA_TYPE, FieldProblem, Problem, documented, problem_response
from registry.routes._responses import CORS
from registry.schemas import CredentialPage, CredentialSummary, EventPage, EventPublic, StatsPublic
from registry.search import MAX_LIMIT, BadQueryError, CredentialFilters, PublicStatus

_PUBLIC = {**CORS, "Access-Control-Expose-Headers": "Link"}
# Bad query parameters are 400 here, never FastAPI's 422: documenting the 4XX range keeps the 422 out.
_ERRORS: dict[int | str, dict[str, Any]] = {
    **documented(400),
    "4XX": {"model": Problem, "content": {MEDIA_TYPE: {}}, "description": "An RFC 9457 problem"},
}


class PublicRoute(APIRoute):
    """Answers bad query parameters with 400 problems: FastAPI's own validation errors (422 elsewhere in the
    API, where they concern a request body), unknown parameter names, and `search.BadQueryError`."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()
        known = _query_names(self.dependant)

        async def route_handler(request: Request) -> Response:
            unknown = sorted({name for name in request.query_params if name not in known})
            if unknown:
                detail = "this endpoint takes no query parameters"
                if known:
                    detail = f"unknown query parameter; known: {', '.join(sorted(known))}"
                return _bad_query(
                    request,
                    [
                        FieldProblem(location="query", field=name[:100], detail=detail)
                        for name in unknown[:20]
                    ],
                )
            try:
                return await handler(request)
            except RequestValidationError as e:
                return _bad_query(request, [_field_problem(error) for error in list(e.errors())[:20]])
            except BadQueryError as e:
                return _bad_query(request, [FieldProblem(location="query", field=e.field, detail=str(e))])

        return route_handler


def _query_names(dependant: Dependant) -> set[str]:
    """The query parameters an endpoint and its dependencies declare."""
    names = {param.alias for param in dependant.query_params}
    for sub in dependant.dependencies:
        names |= _query_names(sub)
    return names


def _field_problem(error: Any) -> FieldProblem:
    location, *path = [str(part) for part in error.get("loc", ())] or ["query"]
    message = str(error.get("msg", "invalid value")).removeprefix("Value error, ")
    return FieldProblem(location=location, field=".".join(path) or None, detail=message)


def _bad_query(request: Request, problems: list[FieldProblem]) -> Response:
    first = problems[0] if problems else FieldProblem(detail="invalid query")
    detail = f"{first.field}: {first.detail}" if first.field else first.detail
    return problem_response(400, detail, instance=request.url.path, errors=problems)


router = APIRouter(prefix="/api/v1", tags=["public registry"], route_class=PublicRoute)

# -- parameters ---------------------------------------------------------------------------------------------------

Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT, description=f"Page size, 1 to {MAX_LIMIT}.")]
Cursor = Annotated[
    str | None,
    Query(
        max_length=search.MAX_CURSOR_LENGTH,
        description="`nextCursor` of the previous page, with the same filters. Opaque.",
    ),
]


def credential_filters(
    *,
    session: SessionDep,
    q: Annotated[
        str | None,
        Query(
            max_length=search.MAX_Q_LENGTH,
            description="Case-insensitive substring of the legal name (English or Japanese), or an exact "
            "certificate number; 13 digits are an exact corporate number (法人番号). `%` and `_` are literal.",
            examples=["アクメ", "acme", "7000012050002", "AIGC-2026-000123"],
        ),
    ] = None,
    status: Annotated[
        PublicStatus | None,
        Query(
            description="Status now. `expired` is computed: an active or suspended certificate past its "
            "validUntil (and such a certificate is then neither `active` nor `suspended`)."
        ),
    ] = None,
    level: Annotated[
        str | None, Query(max_length=50, description="A level id of the scheme.", examples=["2"])
    ] = None,
    issuer: Annotated[
        str | None,
        Query(max_length=63, description="A certification body's slug.", examples=["acme-cb"]),
    ] = None,
    valid_on: Annotated[
        str | None,
        Query(
            description="A date (YYYY-MM-DD): the validity window (validFrom to validUntil) covers part of "
            "that UTC day. The validity window only — not the status on that day.",
            examples=["2027-04-01"],
            json_schema_extra={"format": "date"},
        ),
    ] = None,
    updated_since: Annotated[
        str | None,
        Query(
            description="An XML Schema dateTimeStamp (time zone required): records changed at or after it.",
            examples=["2027-01-01T00:00:00Z"],
            json_schema_extra={"format": "date-time"},
        ),
    ] = None,
) -> CredentialFilters:
    """The search filters, checked; the session's read ends here (a stream must not hold it)."""
    try:
        return search.resolve_filters(
            session=session,
            q=q,
            status=status,
            level=level,
            issuer=issuer,
            valid_on=None if valid_on is None else search.parse_date(valid_on, field="valid_on"),
            updated_since=None
            if updated_since is None
            else search.parse_timestamp(updated_since, field="updated_since"),
        )
    finally:
        session.commit()


FiltersDep = Annotated[CredentialFilters, Depends(credential_filters)]


def _next_link(request: Request, public_url: str, **replace: str) -> str:
    """The URL of the next page: this request's query with the cursor replaced."""
    query = [(k, v) for k, v in request.query_params.multi_items() if k not in {"cursor", "after"}]
    query.extend(replace.items())
    return f'<{public_url}{request.url.path}?{urlencode(query)}>; rel="next"'


# -- endpoints ----------------------------------------------------------------------------------------------------


@router.get("/credentials", response_model=CredentialPage, responses=_ERRORS)
def search_credentials(
    *,
    request: Request,
    response: Response,
    session: SessionDep,
    ctx: ContextDep,
    filters: FiltersDep,
    limit: Limit = search.DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> CredentialPage:
    """Search certificates. Ordered by last update then id, so a mirror can page through and then follow
    with `updated_since` (overlap a few seconds); the event feed is the exact change log."""
    after = None if cursor is None else search.decode_credential_cursor(cursor, filters)
    page = search.search_credentials(
        session=session, filters=filters, now=ctx.clock(), limit=limit, after=after
    )
    response.headers.update(_PUBLIC)
    next_cursor = None
    if page.more:
        next_cursor = search.credential_cursor(page.items[-1].key, filters)
        response.headers["Link"] = _next_link(request, ctx.public_url, cursor=next_cursor)
    return CredentialPage(
        items=[CredentialSummary.of(record, ctx.public_url) for record in page.items], next_cursor=next_cursor
    )


@router.get("/events", response_model=EventPage, responses=_ERRORS)
def lifecycle_events(
    *,
    request: Request,
    response: Response,
    session: SessionDep,
    ctx: ContextDep,
    after: Annotated[
        int | None,
        Query(
            ge=0,
            le=search.MAX_SEQ,
            description="Return events after this `seq` (a follower passes the last `seq` it has seen).",
        ),
    ] = None,
    since: Annotated[
        str | None,
        Query(
            description="An XML Schema dateTimeStamp: only events at or after it.",
            examples=["2027-01-01T00:00:00Z"],
            json_schema_extra={"format": "date-time"},
        ),
    ] = None,
    limit: Limit = search.DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> EventPage:
    """Every lifecycle change (issued, renewed, suspended, reinstated, revoked, superseded) in commit order.

    Each event carries everything its `hash` covers — SHA-256 of the JCS form of
    `{seq, at, actor, issuer, credential, action, reasonCode, reason, payload, prevHash}` — and `prevHash` links
    it to the event before, so a follower can check the chain. `actor` is the id of the API token that acted,
    never its secret. An `after` past the log's last event is a 409 problem (`urn:aigov:problem:event-log-behind`,
    naming that event's `seq`): the registry was restored from a backup and its log forked there.
    """
    since_at = None if since is None else search.parse_timestamp(since, field="since")
    if after is not None and cursor is not None:
        raise BadQueryError("give either after or cursor, not both", field="cursor")
    start = after or 0
    if cursor is not None:
        start = search.decode_event_cursor(cursor, since_at)
    page = search.list_events(session=session, after=start, since=since_at, limit=limit)
    response.headers.update(_PUBLIC)
    next_cursor = None
    if page.more:
        next_cursor = search.event_cursor(page.items[-1].event.seq, since_at)
        response.headers["Link"] = _next_link(request, ctx.public_url, cursor=next_cursor)
    return EventPage(
        items=[EventPublic.of(record.event, record.issuer_did) for record in page.items],
        next_cursor=next_cursor,
    )


_EXPORT_CONTENT = {
    200: {
        "description": "The export, streamed. CSV: a header row, then one certificate per row; "
        "JSON Lines: one CredentialSummary object per line.",
        "headers": {
            "Content-Disposition": {"schema": {"type": "string"}, "example": 'attachment; filename="x.csv"'},
            "Aigov-Event-Seq": {
                "schema": {"type": "integer"},
                "description": "The last event committed before the export began; follow "
                "/api/v1/events?after=<it> to bring the export up to date.",
            },
        },
        "content": {
            export.MEDIA_TYPES[export.ExportFormat.CSV]: {"schema": {"type": "string"}},
            export.MEDIA_TYPES[export.ExportFormat.JSONL]: {"schema": {"type": "string"}},
        },
    },
    **_ERRORS,
}


@router.get("/export", response_class=StreamingResponse, responses=_EXPORT_CONTENT)
def export_registry(
    *,
    request: Request,
    session: SessionDep,
    ctx: ContextDep,
    filters: FiltersDep,
    fmt: Annotated[
        export.ExportFormat, Query(alias="format", description="`csv` (RFC 4180) or `jsonl` (JSON Lines).")
    ] = export.ExportFormat.CSV,
    bom: Annotated[
        bool | None,
        Query(
            description="CSV only: start with a UTF-8 byte order mark, which Excel needs to read UTF-8 "
            "(Japanese names) correctly. Default true for CSV; JSON Lines never has one."
        ),
    ] = None,
) -> StreamingResponse:
    """The whole registry, or the part the search filters select, streamed in constant memory."""
    if bom and fmt is not export.ExportFormat.CSV:
        raise BadQueryError("bom applies to format=csv only", field="bom")
    now = ctx.clock()
    seq = search.last_event_seq(session=session)
    session.commit()  # the stream reads in its own short transactions
    engine: Engine = request.app.state.engine
    stream = export.export_stream(
        sessions=lambda: Session(engine),
        filters=filters,
        now=now,
        public_url=ctx.public_url,
        fmt=fmt,
        bom=bom is not False,
    )
    headers = {
        **CORS,
        "Access-Control-Expose-Headers": "Content-Disposition, Aigov-Event-Seq",
        "Content-Disposition": f'attachment; filename="{export.filename(fmt, now)}"',
        "Aigov-Event-Seq": str(seq),
    }
    return StreamingResponse(stream, media_type=export.MEDIA_TYPES[fmt], headers=headers)


@router.get("/stats", response_model=StatsPublic, responses=_ERRORS)
def registry_stats(*, response: Response, session: SessionDep, ctx: ContextDep) -> StatsPublic:
    """Counts of certificates by status (with the computed `expired`), by scheme level and by issuer slug."""
    now = ctx.clock()
    response.headers.update(CORS)
    return StatsPublic.of(search.registry_stats(session=session, now=now), now)
