"""FastAPI dependencies: the app's settings and lifecycle context, a database session, the caller's token."""

from __future__ import annotations

import hmac
import json
import sqlite3
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from typing import Annotated, Any

import sqlalchemy as sa
from fastapi import Depends, HTTPException, Request, Security
from fastapi.concurrency import run_in_threadpool
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.engine import Engine
from sqlmodel import Session

from registry.config import Settings
from registry.db import LoopReader
from registry.lifecycle import Context, detached_row
from registry.models import ApiToken, CertificationBody, UtcDateTime
from registry.tokens import _DUMMY_SHA256, _TOKEN, Scope, _sha256


async def get_settings(request: Request) -> Settings:
    """The settings the app was built with (not re-read from the environment per request)."""
    settings: Settings = request.app.state.settings
    return settings


async def get_context(request: Request) -> Context:
    """The lifecycle context: status list policy, the cached signers, the clock."""
    ctx: Context = request.app.state.ctx
    return ctx


async def get_session(request: Request) -> AsyncIterator[Session]:
    """A session per request; objects stay readable after commit (the response is built after it).

    An async dependency, so that opening it costs no threadpool hop: creating a Session does no I/O (it
    connects on first use, in the endpoint's thread). Closing it does I/O only when a transaction is still
    open (a read that did not commit: the rollback returns its connection to the pool); that close is sent to
    the threadpool, any other is done here.
    """
    engine: Engine = request.app.state.engine
    session = Session(engine, expire_on_commit=False)
    try:
        yield session
    finally:
        if session.in_transaction():
            await run_in_threadpool(session.close)
        else:
            session.close()


SettingsDep = Annotated[Settings, Depends(get_settings)]
ContextDep = Annotated[Context, Depends(get_context)]
SessionDep = Annotated[Session, Depends(get_session)]

_bearer = HTTPBearer(
    auto_error=False,
    bearerFormat="aigov_<id>_<secret>",
    description="An API token of a certification body (`aigov admin create-token`).",
)
# RFC 6750 §3. One challenge for every bad token, so that the answer tells nothing about which tokens exist.
_CHALLENGE = {"WWW-Authenticate": 'Bearer realm="aigov"'}


_TOKENS: sa.Table = ApiToken.__table__  # type: ignore[attr-defined]
_BODIES: sa.Table = CertificationBody.__table__  # type: ignore[attr-defined]
_BODY_COLUMNS = [column.name for column in _BODIES.columns]
_BODY_DATETIMES = {column.name for column in _BODIES.columns if isinstance(column.type, UtcDateTime)}
_LOOKUP = (
    sa.select(_TOKENS.c.secret_sha256, _TOKENS.c.scopes, _TOKENS.c.revoked_at, *_BODIES.columns)
    .join(_BODIES, _BODIES.c.id == _TOKENS.c.issuer_id)
    .where(_TOKENS.c.id == sa.bindparam("b_id"))
)
# The same query for a raw SQLite connection (registry.db.LoopReader): JSON and datetimes come back as text.
_BODY_SELECT = ", ".join(f"b.{name}" for name in _BODY_COLUMNS)
# Column names from the table definition, not input:
_LOOKUP_SQL = (
    f"SELECT t.secret_sha256, t.scopes, t.revoked_at, {_BODY_SELECT} "  # noqa: S608
    "FROM api_tokens AS t JOIN issuers AS b ON b.id = t.issuer_id WHERE t.id = ?"
)
Found = tuple[str, list[str], CertificationBody]
Lookup = Callable[[str], Mapping[str, Any] | None]


def _check(presented: str | None, lookup: Lookup) -> Found | None:
    """The rules of registry.tokens.authenticate: the same parsing, and the secret's hash compared in constant
    time even for an unknown id; `lookup` reads the token (joined to its body) by id."""
    match = _TOKEN.fullmatch(presented) if presented else None
    if match is None:
        return None
    row = lookup(match["id"])
    expected = row["secret_sha256"] if row is not None else _DUMMY_SHA256
    if not hmac.compare_digest(_sha256(match["secret"]), expected) or row is None:
        return None
    if row["revoked_at"] is not None:
        return None
    body = detached_row(CertificationBody, {name: row[name] for name in _BODY_COLUMNS})
    return match["id"], list(row["scopes"]), body


def authenticate(*, session: Session, presented: str | None) -> Found | None:
    """The live token named by `presented` as (id, scopes, body), or None whatever is wrong with it.

    One prebuilt Core query joining the token to its body, where registry.tokens.authenticate does two ORM
    reads that cost several times as much. The body is a detached object.
    """

    def lookup(token_id: str) -> Mapping[str, Any] | None:
        row = session.connection().execute(_LOOKUP, {"b_id": token_id}).mappings().first()
        return None if row is None else dict(row)

    return _check(presented, lookup)


def _authenticate_sqlite(presented: str | None, connection: sqlite3.Connection) -> Found | bool | None:
    """authenticate() through a raw SQLite connection; False (not None) when the token is not valid."""

    def lookup(token_id: str) -> Mapping[str, Any] | None:
        found = connection.execute(_LOOKUP_SQL, (token_id,)).fetchone()
        if found is None:
            return None
        row = dict(zip(("secret_sha256", "scopes", "revoked_at", *_BODY_COLUMNS), found, strict=True))
        row["scopes"] = json.loads(row["scopes"])
        for name in _BODY_DATETIMES:
            row[name] = datetime.fromisoformat(row[name]).replace(tzinfo=UTC)
        return row

    return _check(presented, lookup) or False


def _authenticate_engine(engine: Engine, presented: str | None) -> Found | None:
    with Session(engine) as session:
        return authenticate(session=session, presented=presented)


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling: a token of one certification body."""

    token_id: str
    body: CertificationBody


def require(scope: Scope) -> Callable[..., Awaitable[Principal]]:
    """A dependency admitting a live token that carries `scope`: 401 otherwise, 403 if only the scope lacks."""

    async def dependency(
        request: Request,
        credentials: Annotated[HTTPAuthorizationCredentials | None, Security(_bearer)],
    ) -> Principal:
        # An async dependency: on SQLite the token is read on the event loop (registry.db.LoopReader), and a
        # malformed token is refused without any read; otherwise the read takes one threadpool hop.
        presented = credentials.credentials if credentials else None
        reader: LoopReader | None = request.app.state.reader
        found = reader.run(partial(_authenticate_sqlite, presented)) if reader is not None else None
        if found is None:
            found = await run_in_threadpool(_authenticate_engine, request.app.state.engine, presented)
        if not found:
            raise HTTPException(401, "a valid bearer token is required", headers=_CHALLENGE)
        assert isinstance(found, tuple)  # noqa: S101
        token_id, scopes, body = found
        if scope.value not in scopes:
            raise HTTPException(
                403,
                f"this token does not have the {scope.value} scope",
                headers={
                    "WWW-Authenticate": f'Bearer realm="aigov", error="insufficient_scope", scope="{scope}"'
                },
            )
        return Principal(token_id, body)

    return dependency
