"""The registry's ASGI application, built from Settings by `create_app`.

Stateless apart from caches (decrypted keys, Issuer objects): run as many processes as needed on one database.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import datetime, timedelta

from fastapi import FastAPI

from issuer import utc_now
from registry import problems
from registry.config import Settings
from registry.db import make_engine
from registry.lifecycle import Context
from registry.limits import BodySizeLimit
from registry.routes import ROUTERS
from registry.signers import IssuerFactory, KeyCache, Signers, build_issuer
from registry.statuslists import ListPolicy

API_VERSION = "1.0.0"


def create_app(
    settings: Settings,
    *,
    clock: Callable[[], datetime] = utc_now,
    key_cache: KeyCache | None = None,
    issuer_factory: IssuerFactory = build_issuer,
) -> FastAPI:
    """The registry for `settings`. `clock`, `key_cache` and `issuer_factory` are for tests and embedding."""
    engine = make_engine(settings.database_url)
    signers = Signers(
        keystore_path=settings.keystore_path,
        passphrase=settings.passphrase(),
        public_url=settings.public_url,
        clock=clock,
        key_cache=key_cache,
        factory=issuer_factory,
    )
    policy = ListPolicy(
        public_url=settings.public_url,
        size=settings.status_list_size,
        ttl=timedelta(seconds=settings.status_ttl_seconds),
    )

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        yield
        engine.dispose()

    app = FastAPI(
        title="aigov registry",
        version=API_VERSION,
        summary="Verifiable AI governance certificates: issuance, status lists and public records.",
        lifespan=lifespan,
        docs_url="/docs",
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.engine = engine
    app.state.ctx = Context(policy=policy, signers=signers, clock=clock)
    problems.install(app)
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_body_bytes)
    for router in ROUTERS:
        app.include_router(router)
    return app


def create_app_from_env() -> FastAPI:
    """The app for `aigov serve` workers: settings from AIGOV_* environment variables."""
    return create_app(Settings())
