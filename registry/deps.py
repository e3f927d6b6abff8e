"""FastAPI dependencies: the app's settings and lifecycle context, a database session, the caller's token."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, HTTPException, Request, Security
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.engine import Engine
from sqlmodel import Session

from registry.config import Settings
from registry.lifecycle import Context
from registry.models import CertificationBody
from registry.tokens import Scope, authenticate


async def get_settings(request: Request) -> Settings:
    """The settings the app was built with (not re-read from the environment per request)."""
    settings: Settings = request.app.state.settings
    return settings


async def get_context(request: Request) -> Context:
    """The lifecycle context: status list policy, the cached signers, the clock."""
    ctx: Context = request.app.state.ctx
    return ctx


def get_session(request: Request) -> Iterator[Session]:
    """A session per request; objects stay readable after commit (the response is built after it)."""
    engine: Engine = request.app.state.engine
    with Session(engine, expire_on_commit=False) as session:
        yield session


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


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling: a token of one certification body."""

    token_id: str
    body: CertificationBody


def require(scope: Scope) -> Callable[..., Principal]:
    """A dependency admitting a live token that carries `scope`: 401 otherwise, 403 if only the scope lacks."""

    def dependency(
        session: SessionDep,
        credentials: Annotated[HTTPAuthorizationCredentials | None, Security(_bearer)],
    ) -> Principal:
        found = authenticate(session=session, presented=credentials.credentials if credentials else None)
        session.commit()  # end the read: lifecycle functions open their own write transaction
        if found is None:
            raise HTTPException(401, "a valid bearer token is required", headers=_CHALLENGE)
        token, body = found
        if scope.value not in token.scopes:
            raise HTTPException(
                403,
                f"this token does not have the {scope.value} scope",
                headers={
                    "WWW-Authenticate": f'Bearer realm="aigov", error="insufficient_scope", scope="{scope}"'
                },
            )
        return Principal(token.id, body)

    return dependency
