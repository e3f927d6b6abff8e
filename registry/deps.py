"""FastAPI dependencies: the app's settings and lifecycle context, a database session, the caller's token."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from typing import Annotated

from fastapi import Depends, HTTPException, Request, Security
from fastapi.concurrency import run_in_threadpool
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError
from sqlmodel import Session

from registry import tokens
from registry.config import Settings
from registry.db import LoopReader
from registry.lifecycle import Context
from registry.models import CertificationBody
from registry.tokens import Found, Scope


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
        try:
            if session.in_transaction():
                await run_in_threadpool(session.close)
            else:
                session.close()
        except DBAPIError:
            # The connection died under the request (a database restart): its rollback failed. Discard it
            # instead of failing a request whose answer is already decided (registry.problems maps the
            # request's own database errors to 503).
            session.invalidate()


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


def _authenticate_engine(engine: Engine, presented: str | None, now: datetime) -> Found | None:
    with Session(engine) as session:
        return tokens.authenticate(session=session, presented=presented, now=now)


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
        now = request.app.state.ctx.clock()  # the context's clock: tests move it past a token's expiry
        reader: LoopReader | None = request.app.state.reader
        found = (
            reader.run(partial(tokens.authenticate_sqlite, presented, now)) if reader is not None else None
        )
        if found is None:
            found = await run_in_threadpool(_authenticate_engine, request.app.state.engine, presented, now)
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
