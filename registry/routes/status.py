"""Status lists: the signed BitstringStatusListCredential, served from memory while it is current.

The signed bytes are regenerated in the transaction that changes a bit (registry.statuslists), and every
change bumps the list's `version`. Each process keeps the bytes it last served per list, with prebuilt headers,
and serves them again for as long as the database says the version has not moved: one primary-key read of a
small integer per request, never a stale list. That read is done on the event loop, called by the app's
outermost middleware before any routing (the framework's own routing and dependency machinery cost more than
the read): on SQLite by the process's `LoopReader` (`fast_response`), on PostgreSQL by its `AsyncPgReader`
(`fast_response_async`, which answers only from a list already cached at the version read). Whatever they
cannot answer (SQLite busy, the database unreachable, a list not cached at its current version, an unknown
list) the FastAPI route below answers, from the same cache through the threadpool. A list past half its validity
is served while the process re-signs it in the background (registry.refresher), which bumps its version; one
that has expired goes to the route, which re-signs it before answering.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass
from datetime import UTC, datetime

import sqlalchemy as sa
from fastapi import APIRouter, Request, Response
from sqlmodel import Session
from starlette.types import Scope

from registry.db import AsyncPgReader, LoopReader, ReaderConnection
from registry.deps import SessionDep
from registry.errors import NotFoundError
from registry.lifecycle import Clock
from registry.problems import documented
from registry.refresher import Refresher
from registry.routes._responses import CORS, VC_JWT, raw
from registry.statuslists import LISTS, ListPolicy

router = APIRouter(tags=["status lists"])

PATH_PREFIX = "/status/"
# A list's one spelling: ASCII digits without a leading zero, at most 18 (a 64-bit integer). `str.isdigit`
# would also take "²" (which int() refuses) and the Arabic-Indic one (which int() reads as 1: a second URL for list 1).
_LIST_ID = re.compile(r"[1-9][0-9]{0,17}")
_VERSION_SQL = "SELECT version FROM status_lists WHERE id = ?"
_LIST_SQL = "SELECT version, etag, token, valid_until, issuer_id FROM status_lists WHERE id = ?"
_VERSION = sa.select(LISTS.c.version).where(LISTS.c.id == sa.bindparam("list_id"))
_LIST = sa.select(LISTS.c.version, LISTS.c.etag, LISTS.c.token, LISTS.c.valid_until, LISTS.c.issuer_id).where(
    LISTS.c.id == sa.bindparam("list_id")
)
# A list signed before lists expired (no validUntil stored) is due at once.
_LONG_AGO = datetime.min.replace(tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class CachedList:
    """One version of a list as served: body, ETag and the headers of a 200 and of a 304."""

    version: int
    etag: str
    body: bytes
    headers: dict[str, str]
    raw_headers: list[tuple[bytes, bytes]]
    raw_headers_304: list[tuple[bytes, bytes]]
    issuer_id: int
    refresh_at: datetime  # when half its validity has passed (at once if signed under other settings)
    valid_until: datetime
    cacheable_until: datetime  # one ttl before valid_until: from then on no cache may keep it a whole ttl


class StatusListCache:
    """The last served version of each list, by id; at most `max_lists` (the oldest entry goes first)."""

    def __init__(
        self, policy: ListPolicy, refresher: Refresher, clock: Clock, *, max_lists: int = 1024
    ) -> None:
        self._lists: dict[int, CachedList] = {}
        self._lock = threading.Lock()  # the event loop and threadpool threads both fill it
        self._max = max_lists
        self._ttl = policy.ttl
        self._cache_control = f"public, max-age={int(policy.ttl.total_seconds())}"
        self._half_validity = policy.validity / 2
        self._policy = policy
        self._refresher = refresher
        self._clock = clock

    def ready(self, list_id: int, cached: CachedList) -> bool:
        """Whether `cached` may be served as it is now. Past half its validity it is re-signed in the
        background (and served meanwhile); within one `ttl` of its expiry (it could not be re-signed), False:
        the route tries at once, and otherwise serves it with `cache_control`. Never blocks."""
        now = self._clock()
        if now < cached.refresh_at:
            return True
        if now < cached.cacheable_until:
            self._refresher.refresh_soon(list_id, cached.issuer_id)
            return True
        return False

    def cache_control(self, cached: CachedList) -> str:
        """Cache-Control for `cached` now: no cache may keep a list past its validUntil (nor an expired one)."""
        left = (cached.valid_until - self._clock()).total_seconds()
        if left >= self._ttl.total_seconds():
            return self._cache_control
        return f"public, max-age={int(left)}" if left >= 1 else "no-cache"

    def get(self, list_id: int, version: int) -> CachedList | None:
        """The cached list if it is at `version`."""
        cached = self._lists.get(list_id)
        return cached if cached is not None and cached.version == version else None

    def put(
        self,
        list_id: int,
        version: int,
        etag: str,
        token: str,
        *,
        valid_until: datetime | None,
        issuer_id: int,
    ) -> CachedList:
        headers = {**CORS, "ETag": etag, "Cache-Control": self._cache_control}
        common = [
            (name.lower().encode("latin-1"), value.encode("latin-1")) for name, value in headers.items()
        ]
        body = token.encode("ascii")
        entry = CachedList(
            version=version,
            etag=etag,
            body=body,
            headers=headers,
            # What Starlette's Response sends: a 304 has neither Content-Type nor Content-Length.
            raw_headers=[
                (b"content-type", VC_JWT.encode()),
                (b"content-length", str(len(body)).encode()),
                *common,
            ],
            raw_headers_304=common,
            issuer_id=issuer_id,
            refresh_at=(
                valid_until - self._half_validity
                if valid_until is not None and self._policy.signed_as(token)
                else _LONG_AGO
            ),
            valid_until=valid_until or _LONG_AGO,
            cacheable_until=_LONG_AGO if valid_until is None else valid_until - self._ttl,
        )
        with self._lock:
            if list_id not in self._lists and len(self._lists) >= self._max:
                del self._lists[next(iter(self._lists))]
            self._lists[list_id] = entry
        return entry

    def read_sqlite(self, connection: ReaderConnection, list_id: int) -> CachedList | None:
        """The current list through the LoopReader's connection; None if there is no such list.

        `PRAGMA data_version` changes whenever another connection has committed to the database (in any
        process): while it has not, a list this connection already checked is still current and is served
        without reading its row. (The version column sits behind the 16 KB of bits in the row, so reading it
        walks the row's overflow pages: a fifth of the request's time, measured.) After any commit, the
        next request for a list reads its version once.
        """
        data_version = connection.execute("PRAGMA data_version").fetchone()[0]
        checked = connection.memo.get(("status", list_id))
        if checked is not None and checked[0] == data_version:
            entry: CachedList = checked[1]
            return entry
        row = connection.execute(_VERSION_SQL, (list_id,)).fetchone()
        if row is None:
            return None
        cached = self.get(list_id, row[0])
        if cached is None:
            fresh = connection.execute(_LIST_SQL, (list_id,)).fetchone()
            if fresh is None:
                return None
            valid_until = None if fresh[3] is None else datetime.fromisoformat(fresh[3]).replace(tzinfo=UTC)
            cached = self.put(
                list_id, fresh[0], fresh[1], fresh[2], valid_until=valid_until, issuer_id=fresh[4]
            )
        connection.memo[("status", list_id)] = (data_version, cached)
        return cached

    def read_session(self, session: Session, list_id: int) -> CachedList | None:
        """The current list through a session (any database); None if there is no such list."""
        connection = session.connection()
        version = connection.execute(_VERSION, {"list_id": list_id}).scalar()
        if version is None:
            return None
        cached = self.get(list_id, version)
        if cached is not None:
            return cached
        fresh = connection.execute(_LIST, {"list_id": list_id}).first()
        if fresh is None:
            return None
        version, etag, token, valid_until, issuer_id = fresh
        return self.put(list_id, version, etag, token, valid_until=valid_until, issuer_id=issuer_id)


def if_none_match(header: str | None, etag: str) -> bool:
    """RFC 9110 §13.1.2: weak comparison against each listed entity tag, or `*`."""
    if not header:
        return False
    tags = [tag.strip() for tag in header.split(",")]
    return "*" in tags or etag in (tag.removeprefix("W/") for tag in tags)


def _list_id(text: str) -> int | None:
    return int(text) if _LIST_ID.fullmatch(text) else None


def fast_response(
    scope: Scope, reader: LoopReader, cache: StatusListCache
) -> tuple[int, list[tuple[bytes, bytes]], bytes] | None:
    """The answer to `GET /status/{id}` (status, raw headers, body) from the cache after a version read on the
    event loop; None to let the route answer instead (no such list, a malformed id, or SQLite busy)."""
    list_id = _list_id(scope["path"][len(PATH_PREFIX) :])
    if list_id is None:
        return None
    cached = reader.run(lambda connection: cache.read_sqlite(connection, list_id))
    return None if cached is None or not cache.ready(list_id, cached) else _answer(scope, cached)


async def fast_response_async(
    scope: Scope, reader: AsyncPgReader, cache: StatusListCache
) -> tuple[int, list[tuple[bytes, bytes]], bytes] | None:
    """As `fast_response`, with the version read through `reader`; None as well when the cache does not hold
    the list at that version (the route then reads the list and caches it)."""
    list_id = _list_id(scope["path"][len(PATH_PREFIX) :])
    if list_id is None:
        return None
    versions = await reader.versions(list_id)
    version = None if versions is None else versions.get(list_id)
    cached = None if version is None else cache.get(list_id, version)
    return None if cached is None or not cache.ready(list_id, cached) else _answer(scope, cached)


def _answer(scope: Scope, cached: CachedList) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
    condition = None
    for name, value in scope["headers"]:
        if name == b"if-none-match":
            condition = value.decode("latin-1")
            break
    if if_none_match(condition, cached.etag):
        return 304, cached.raw_headers_304, b""
    return 200, cached.raw_headers, cached.body


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
def status_list(list_id: str, request: Request, session: SessionDep) -> Response:
    """Bitstring Status List v1.0 §2.2: cacheable for the list's `ttl`, revalidated by ETag."""
    number = _list_id(list_id)
    if number is None:
        raise NotFoundError("status list", list_id[:100])
    cache: StatusListCache = request.app.state.status_cache
    cached = cache.read_session(session, number)
    if cached is not None and not cache.ready(number, cached):
        refresher: Refresher = request.app.state.refresher
        # The request's connection goes back to the pool first: the re-sign takes one of its own, and a request
        # holds at most one (registry.db), or 40 of these at once would wait on each other.
        session.rollback()
        if refresher.refresh_now(number, cached.issuer_id):  # expired: re-signed before it is served
            cached = cache.read_session(session, number)
    if cached is None:
        raise NotFoundError("status list", list_id)
    headers = {
        **cached.headers,
        "Cache-Control": cache.cache_control(cached),
    }  # its body may be unable to sign
    if if_none_match(request.headers.get("if-none-match"), cached.etag):
        return Response(status_code=304, headers=headers)
    return Response(cached.body, media_type=VC_JWT, headers=headers)


# HEAD, for caches and CDNs that revalidate with it: the same route (the server sends no body), left out of the
# OpenAPI document, where it would be a second operation of the same name.
router.add_api_route(
    "/status/{list_id}", status_list, methods=["HEAD"], response_model=None, include_in_schema=False
)
