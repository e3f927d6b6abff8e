"""The registry's ASGI application, built from Settings by `create_app`.

Stateless apart from caches (decrypted keys, Issuer objects, the signed status lists last served, each checked
against the database on every request): run as many processes as needed on one database.

Order of a request: `RegistryApp.__call__` answers `GET /status/{id}` from the status list cache before
anything else (when it can); then Starlette's error handler and FastAPI's own layers, `BodySizeLimit`, the routes.
"""

from __future__ import annotations

import asyncio
import gc
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import datetime

from fastapi import FastAPI
from starlette.types import Receive, Scope, Send

from issuer import utc_now
from registry import problems
from registry.config import Settings
from registry.db import AsyncPgReader, Checkpointer, LoopReader, make_engine
from registry.highwater import Recorder
from registry.lifecycle import Context
from registry.limits import BodySizeLimit
from registry.ratelimit import RateLimit, RateLimits, parse_networks
from registry.refresher import Refresher
from registry.routes import ROUTERS, public, status
from registry.signers import IssuerFactory, KeyCache, Signers, build_issuer
from registry.statuslists import ListPolicy

API_VERSION = "1.0.0"


def create_app(
    settings: Settings,
    *,
    clock: Callable[[], datetime] = utc_now,
    key_cache: KeyCache | None = None,
    issuer_factory: IssuerFactory = build_issuer,
    record_high_water: bool = False,
) -> FastAPI:
    """The registry for `settings`. `clock`, `key_cache` and `issuer_factory` are for tests and embedding;
    `record_high_water` keeps the event log's high-water mark beside the keystores (registry.highwater), as
    the server's workers do."""
    engine = make_engine(settings.database_url)
    signers = Signers.of(settings, clock=clock, key_cache=key_cache, factory=issuer_factory)
    policy = ListPolicy.of(settings)

    reader = LoopReader.for_url(settings.database_url)
    pg_reader = AsyncPgReader.for_url(settings.database_url)
    checkpointer = Checkpointer.for_url(settings.database_url)
    ctx = Context(policy=policy, signers=signers, clock=clock)
    refresher = Refresher(engine, ctx)
    recorder = Recorder(engine, settings.high_water_path) if record_high_water else None

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        if checkpointer is not None:
            checkpointer.start()
        if recorder is not None:
            recorder.start()
        yield
        if recorder is not None:
            await asyncio.to_thread(recorder.stop)  # a database that is down must not hold up the loop
        refresher.close()
        if checkpointer is not None:
            checkpointer.stop()
        if reader is not None:
            reader.close()
        if pg_reader is not None:
            await pg_reader.aclose()
        engine.dispose()

    app = RegistryApp(
        title="aigov registry",
        version=API_VERSION,
        summary="Verifiable AI governance certificates: issuance, status lists and public records.",
        lifespan=lifespan,
        docs_url=None,  # registry.routes.apidocs: the same page, its scripts pinned
        redoc_url=None,
        # Starlette would answer `/verify/` with a redirect to the request's own Host header: a cache in front
        # that keys on the path alone could then send visitors anywhere. One URL per resource instead.
        redirect_slashes=False,
    )
    app.state.settings = settings
    app.state.engine = engine
    app.state.ctx = ctx
    app.state.reader = reader
    app.state.pg_reader = pg_reader
    app.state.refresher = refresher
    app.state.status_cache = status.StatusListCache(policy, refresher, clock)
    app.fast_reader, app.pg_reader, app.status_cache = reader, pg_reader, app.state.status_cache
    problems.install(app)
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_body_bytes)
    if settings.rate_limits_on:  # outermost: a refused request is not even read
        limits = RateLimits(
            per_minute=settings.rate_limit_per_minute,
            burst=settings.rate_limit_burst,
            auth_failures_per_minute=settings.rate_limit_auth_failures_per_minute,
            auth_failures_burst=settings.rate_limit_auth_failures_burst,
            trusted_proxies=parse_networks(settings.rate_limit_trusted_proxies),
        )
        app.add_middleware(RateLimit, limits=limits)
    for router in (*ROUTERS, public.router):
        app.include_router(router)
    return app


class RegistryApp(FastAPI):
    """FastAPI, with `GET /status/{id}` answered before anything else.

    The status list is answered from its cache after a version check on the event loop (on SQLite
    registry.routes.status.fast_response, on PostgreSQL fast_response_async), ahead of FastAPI's own
    per-request work (telemetry, middleware, routing): each layer costs a few microseconds, and the whole answer about sixty. Whatever the fast path
    cannot answer, failures included, goes to the full stack, whose route gives the same answers.
    """

    fast_reader: LoopReader | None = None
    pg_reader: AsyncPgReader | None = None
    status_cache: status.StatusListCache | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        reader, pg_reader, cache = self.fast_reader, self.pg_reader, self.status_cache
        if (
            (reader is not None or pg_reader is not None)
            and cache is not None
            and scope["type"] == "http"
            and scope["method"] == "GET"
            and scope["path"].startswith(status.PATH_PREFIX)
        ):
            answer = None
            try:
                if reader is not None:
                    answer = status.fast_response(scope, reader, cache)
                elif pg_reader is not None:
                    answer = await status.fast_response_async(scope, pg_reader, cache)
            except Exception:  # noqa: BLE001  # the route answers instead, through the error handler if need be
                answer = None
            if answer is not None:
                code, headers, body = answer
                await send({"type": "http.response.start", "status": code, "headers": headers})
                await send({"type": "http.response.body", "body": body})
                return
        await super().__call__(scope, receive, send)


def create_app_from_env() -> FastAPI:
    """The app for `aigov serve` workers: settings from AIGOV_* environment variables.

    What exists once the app is built (modules, models, routes: ≈ 130,000 objects) lives as long as the worker,
    so it is moved out of the garbage collector's sight (`gc.freeze`). Otherwise every full collection walks it
    again, and a batch of 1,000 issuances triggers one or two: 79-85 ms each in a worker, 17-36 ms frozen
    (timed by the collector's callbacks). Objects frozen here are still freed when their last reference goes;
    only a reference cycle among them would never be collected.
    """
    app = create_app(Settings(), record_high_water=True)
    gc.collect()
    gc.freeze()
    return app
