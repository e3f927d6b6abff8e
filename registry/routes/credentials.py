"""Credentials: issue (one or a batch), suspend, reinstate, revoke, renew; and the public record."""

from __future__ import annotations

import asyncio
import json
import sqlite3
import uuid
import weakref
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime
from functools import partial
from typing import Annotated, Any, cast

import sqlalchemy as sa
from fastapi import APIRouter, Depends, Header, Request, Response
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from issuer import CertificationDecision
from registry import lifecycle
from registry.db import LoopReader, Prepared
from registry.deps import ContextDep, Principal, SessionDep, require
from registry.errors import NotFoundError
from registry.lifecycle import CREDENTIALS
from registry.models import CertificationBody, Credential, Event, UtcDateTime
from registry.problems import documented
from registry.routes._responses import CORS, VC_JWT, raw
from registry.schemas import (
    BatchIssued,
    BatchRequest,
    CredentialDetail,
    CredentialIssued,
    CredentialPublic,
    EventPublic,
    ReinstateRequest,
    RevokeRequest,
    SuspendRequest,
    batch_issued_json,
)
from registry.tokens import Scope

router = APIRouter(prefix="/api/v1/credentials", tags=["credentials"])

# draft-ietf-httpapi-idempotency-key-header: an opaque key chosen by the client, unique per request.
IdempotencyKey = Annotated[
    str | None,
    Header(alias="Idempotency-Key", min_length=1, max_length=255, pattern=r"^[\x21-\x7e]+$"),
]
_WRITE_ERRORS = documented(401, 403, 404, 409, 413, 422, 503)


def parse_id(raw_id: str) -> uuid.UUID:
    """A credential id from a URL: anything that is not a UUID names no credential."""
    try:
        return uuid.UUID(raw_id)
    except ValueError:
        raise NotFoundError("credential", raw_id[:100]) from None


def _json(model: BaseModel, status_code: int = 200, headers: dict[str, str] | None = None) -> Response:
    """`model` as the response, serialized once by its own pydantic model.

    The routes still declare their `response_model` (it is the documented schema, and `model` is an instance
    of it), but return the JSON themselves: FastAPI would otherwise validate the returned model again, in the
    threadpool, before serializing it, which costs three times the serialization (≈ 75 µs per credential).
    """
    return Response(
        model.model_dump_json(), status_code=status_code, media_type="application/json", headers=headers
    )


def _issued_response(
    credential: Credential, principal: Principal, ctx: lifecycle.Context, replayed: bool
) -> Response:
    headers = {"Location": f"{ctx.public_url}{router.prefix}/{credential.id}"}
    if replayed:
        headers["Idempotent-Replayed"] = "true"
    return _json(CredentialIssued.of(credential, principal.body, ctx.public_url), 201, headers)


@router.post("", status_code=201, response_model=CredentialIssued, responses=_WRITE_ERRORS)
def issue_credential(
    *,
    decision: CertificationDecision,
    session: SessionDep,
    ctx: ContextDep,
    principal: Annotated[Principal, Depends(require(Scope.ISSUE))],
    idempotency_key: IdempotencyKey = None,
) -> Response:
    """Issue a certificate from a certification decision. Retrying with the same `Idempotency-Key` returns
    the same certificate."""
    result = lifecycle.issue(
        session=session,
        ctx=ctx,
        body=principal.body,
        decision=decision,
        actor=principal.token_id,
        idempotency_key=idempotency_key,
    )
    return _issued_response(result.credentials[0], principal, ctx, result.replayed)


@router.post("/batch", status_code=201, response_model=BatchIssued, responses=_WRITE_ERRORS)
def issue_batch(
    *,
    request: BatchRequest,
    session: SessionDep,
    ctx: ContextDep,
    principal: Annotated[Principal, Depends(require(Scope.ISSUE))],
    idempotency_key: IdempotencyKey = None,
) -> Response:
    """Issue up to 1,000 certificates, all or none."""
    result = lifecycle.issue_batch(
        session=session,
        ctx=ctx,
        body=principal.body,
        decisions=request.decisions,
        actor=principal.token_id,
        idempotency_key=idempotency_key,
    )
    headers = {"Idempotent-Replayed": "true"} if result.replayed else None
    content = batch_issued_json(result.rows, principal.body, ctx.public_url)
    return Response(content, status_code=201, media_type="application/json", headers=headers)


@router.post("/{credential_id}/suspend", response_model=CredentialPublic, responses=_WRITE_ERRORS)
def suspend(
    *,
    credential_id: str,
    request: SuspendRequest,
    session: SessionDep,
    ctx: ContextDep,
    principal: Annotated[Principal, Depends(require(Scope.SUSPEND))],
) -> Response:
    """Suspend an active certificate (reversible)."""
    credential = lifecycle.suspend(
        session=session,
        ctx=ctx,
        body=principal.body,
        credential_id=parse_id(credential_id),
        actor=principal.token_id,
        reason_code=request.reason_code,
        reason=request.reason,
    )
    return _json(CredentialPublic.of(credential, principal.body, ctx.public_url))


@router.post("/{credential_id}/reinstate", response_model=CredentialPublic, responses=_WRITE_ERRORS)
def reinstate(
    *,
    credential_id: str,
    session: SessionDep,
    ctx: ContextDep,
    principal: Annotated[Principal, Depends(require(Scope.SUSPEND))],
    request: ReinstateRequest | None = None,
) -> Response:
    """Lift a suspension. A revoked certificate cannot be reinstated (409)."""
    credential = lifecycle.reinstate(
        session=session,
        ctx=ctx,
        body=principal.body,
        credential_id=parse_id(credential_id),
        actor=principal.token_id,
        reason=request.reason if request else None,
    )
    return _json(CredentialPublic.of(credential, principal.body, ctx.public_url))


@router.post("/{credential_id}/revoke", response_model=CredentialPublic, responses=_WRITE_ERRORS)
def revoke(
    *,
    credential_id: str,
    request: RevokeRequest,
    session: SessionDep,
    ctx: ContextDep,
    principal: Annotated[Principal, Depends(require(Scope.REVOKE))],
) -> Response:
    """Revoke a certificate. Final."""
    credential = lifecycle.revoke(
        session=session,
        ctx=ctx,
        body=principal.body,
        credential_id=parse_id(credential_id),
        actor=principal.token_id,
        reason_code=request.reason_code,
        reason=request.reason,
    )
    return _json(CredentialPublic.of(credential, principal.body, ctx.public_url))


@router.post(
    "/{credential_id}/renew", status_code=201, response_model=CredentialIssued, responses=_WRITE_ERRORS
)
def renew(
    *,
    credential_id: str,
    decision: CertificationDecision,
    session: SessionDep,
    ctx: ContextDep,
    principal: Annotated[Principal, Depends(require(Scope.RENEW))],
) -> Response:
    """Issue a new certificate (with a new certificate number) that supersedes this one."""
    credential = lifecycle.renew(
        session=session,
        ctx=ctx,
        body=principal.body,
        credential_id=parse_id(credential_id),
        decision=decision,
        actor=principal.token_id,
    )
    return _issued_response(credential, principal, ctx, replayed=False)


# -- the public record ----------------------------------------------------------------------------------------
#
# Both reads are `async def`: on SQLite they read through the process's LoopReader on the event loop (see
# registry.db), with no threadpool hop and no ORM, or when SQLite is busy through a session in the threadpool;
# on PostgreSQL with plain SQL on a pooled connection in the threadpool (sync I/O). The paths build the response
# from the same objects with the same code (`_detail`).

_NOT_FOUND = object()
_CONVERTERS: dict[str, Callable[[Any], Any]] = {}
for _column in CREDENTIALS.columns:
    if isinstance(_column.type, sa.Uuid):
        _CONVERTERS[_column.name] = lambda v: None if v is None else uuid.UUID(v)
    elif isinstance(_column.type, UtcDateTime):
        _CONVERTERS[_column.name] = lambda v: (
            None if v is None else datetime.fromisoformat(v).replace(tzinfo=UTC)
        )
    elif isinstance(_column.type, sa.Date):
        _CONVERTERS[_column.name] = lambda v: None if v is None else date.fromisoformat(v)
    elif isinstance(_column.type, sa.JSON):
        _CONVERTERS[_column.name] = lambda v: None if v is None else json.loads(v)
# Every column but the signed token, which the record never shows (3.4 KB of overflow pages per read).
_COLUMNS = [column.name for column in CREDENTIALS.columns if column.name != "token"]
# SQLite's storage of these types by SQLAlchemy: UUIDs as 32 hex digits, datetimes as ISO text (naive UTC,
# see UtcDateTime), dates as ISO text, JSON as text. tests/registry/test_fast_reads.py holds the two paths equal.
_RECORD_SQL = (
    "SELECT " + ", ".join(f"c.{name}" for name in _COLUMNS) + ", i.slug, i.did "
    "FROM credentials AS c JOIN issuers AS i ON i.id = c.issuer_id WHERE c.id = ?"
)
_HISTORY_SQL = (
    "SELECT seq, at, actor, action, reason_code, reason, payload, prev_hash, hash, issuer_id "
    "FROM events WHERE credential_id = ? ORDER BY seq"
)
_SIGNED_SQL = "SELECT token FROM credentials WHERE id = ?"
# PostgreSQL: the same statements, run on the DB-API cursor of a connection from the engine's pool (Prepared:
# errors wrapped and lost connections invalidated as Core does, without its result objects, which cost more
# than the rest of the read), so psycopg decodes values with the adapters SQLAlchemy set up on it: UUIDs, dates
# and JSON come back as the session path reads them; timestamptz as aware datetimes, in the server session's
# zone, which UtcDateTime's own result processing turns to UTC. The record's two reads share one read-only
# REPEATABLE READ snapshot (psycopg opens it with its BEGIN, no extra round trip; the pool resets both settings
# when the connection returns); the token, one statement, is read in autocommit (no BEGIN, no ROLLBACK).
_PG_RECORD, _PG_HISTORY, _PG_SIGNED = (
    Prepared(sa.text(sql.replace("?", ":id"))) for sql in (_RECORD_SQL, _HISTORY_SQL, _SIGNED_SQL)
)
_PG_SNAPSHOT: dict[str, Any] = {"isolation_level": "REPEATABLE READ", "postgresql_readonly": True}
_PG_DATETIMES = frozenset(name for name in _COLUMNS if isinstance(CREDENTIALS.c[name].type, UtcDateTime))
_UTC = UtcDateTime()


def _detail(
    credential: Credential, body: CertificationBody, events: Sequence[Event], public_url: str
) -> bytes:
    public = CredentialPublic.of(credential, body, public_url)
    detail = CredentialDetail(
        **public.model_dump(by_alias=False), history=[EventPublic.of(e, body.did) for e in events]
    )
    return detail.model_dump_json().encode()


def _record_sqlite(credential_id: uuid.UUID, public_url: str, connection: sqlite3.Connection) -> object:
    """The record's JSON read through a raw SQLite connection (one snapshot), or _NOT_FOUND."""
    key = credential_id.hex
    connection.execute("BEGIN")
    try:
        row = connection.execute(_RECORD_SQL, (key,)).fetchone()
        events = connection.execute(_HISTORY_SQL, (key,)).fetchall() if row is not None else []
    finally:
        connection.execute("COMMIT")
    if row is None:
        return _NOT_FOUND
    values = {
        name: (_CONVERTERS[name](value) if name in _CONVERTERS else value)
        for name, value in zip(_COLUMNS, row, strict=False)
    }
    return _record_from_rows(
        credential_id,
        public_url,
        values,
        row,
        events,
        at=lambda text: datetime.fromisoformat(text).replace(tzinfo=UTC),
        payload=json.loads,
    )


def _record_from_rows(
    credential_id: uuid.UUID,
    public_url: str,
    values: dict[str, Any],
    row: Sequence[Any],
    events: Sequence[Sequence[Any]],
    *,
    at: Callable[[Any], datetime],
    payload: Callable[[Any], Any],
) -> bytes:
    """The record's JSON from the plain-SQL rows of _RECORD_SQL (its columns already converted to `values`)
    and _HISTORY_SQL, whose `at` and `payload` each driver returns in its own form."""
    values["token"] = ""  # not read (see _COLUMNS); _detail does not use it
    body = CertificationBody.model_construct(slug=row[-2], did=row[-1])
    history = [
        Event.model_construct(
            seq=seq,
            at=at(moment),
            actor=actor,
            action=action,
            reason_code=reason_code,
            reason=reason,
            payload=payload(data),
            prev_hash=prev_hash,
            hash=hash_,
            issuer_id=issuer_id,
            credential_id=credential_id,
        )
        for seq, moment, actor, action, reason_code, reason, data, prev_hash, hash_, issuer_id in events
    ]
    return _detail(lifecycle.detached(values), body, history, public_url)


def _record_session(engine: Engine, credential_id: uuid.UUID, public_url: str) -> object:
    """The record's JSON read through a session, or _NOT_FOUND."""
    with Session(engine) as session:
        credential = session.get(Credential, credential_id)
        body = session.get(CertificationBody, credential.issuer_id) if credential is not None else None
        if credential is None or body is None:
            return _NOT_FOUND
        events = session.exec(
            select(Event).where(Event.credential_id == credential.id).order_by(col(Event.seq))
        ).all()
        return _detail(credential, body, events, public_url)


def _record_postgres(engine: Engine, credential_id: uuid.UUID, public_url: str) -> object:
    """The record's JSON read with plain SQL on PostgreSQL (one snapshot), or _NOT_FOUND: as _record_session."""
    key = {"id": credential_id}
    with engine.connect().execution_options(**_PG_SNAPSHOT) as connection:
        rows = _PG_RECORD.execute(connection, key)
        if not rows:
            return _NOT_FOUND
        row = rows[0]
        events = _PG_HISTORY.execute(connection, key)
    dialect = engine.dialect
    values = {
        name: (_UTC.process_result_value(value, dialect) if name in _PG_DATETIMES else value)
        for name, value in zip(_COLUMNS, row, strict=False)
    }
    return _record_from_rows(
        credential_id,
        public_url,
        values,
        row,
        events,
        at=lambda moment: cast(datetime, _UTC.process_result_value(moment, dialect)),
        payload=lambda data: data,  # psycopg decodes JSON itself
    )


def _token_postgres(engine: Engine, credential_id: uuid.UUID) -> object:
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        rows = _PG_SIGNED.execute(connection, {"id": credential_id})
    return rows[0][0] if rows else _NOT_FOUND


# At most this many PostgreSQL reads of records and tokens at once per process, fewer than the 10 connections
# the pool keeps (registry.db): past them the pool opens overflow connections and closes them again on return,
# so a burst of reads (wrk, 32 connections on 2 workers) forked ~30 PostgreSQL backends a second and served
# ~300 req/s; held to 8 they open none and serve ~500. The requests beyond wait on the event loop, not a thread.
_PG_CONCURRENT_READS = 8
_PG_LIMITS: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Semaphore] = (
    weakref.WeakKeyDictionary()
)


async def _on_postgres(read: Callable[[], object]) -> object:
    """`read()` in the threadpool, within this event loop's limit of concurrent PostgreSQL reads."""
    loop = asyncio.get_running_loop()
    limit = _PG_LIMITS.get(loop)
    if limit is None:
        limit = _PG_LIMITS[loop] = asyncio.Semaphore(_PG_CONCURRENT_READS)
    async with limit:
        return await run_in_threadpool(read)


def _token_session(engine: Engine, credential_id: uuid.UUID) -> object:
    with Session(engine) as session:
        token = session.exec(select(Credential.token).where(Credential.id == credential_id)).first()
        return _NOT_FOUND if token is None else token


def _token_sqlite(credential_id: uuid.UUID, connection: sqlite3.Connection) -> object:
    row = connection.execute(_SIGNED_SQL, (credential_id.hex,)).fetchone()
    return _NOT_FOUND if row is None else row[0]


@router.get("/{credential_id}", response_model=CredentialDetail, responses=documented(404))
async def read_credential(credential_id: str, request: Request) -> Response:
    """A certificate's public record: what it certifies, its current status with the reason, its history."""
    key = parse_id(credential_id)
    ctx: lifecycle.Context = request.app.state.ctx
    reader: LoopReader | None = request.app.state.reader
    found = reader.run(partial(_record_sqlite, key, ctx.public_url)) if reader is not None else None
    if found is None:
        engine: Engine = request.app.state.engine
        if engine.dialect.name == "postgresql":
            found = await _on_postgres(partial(_record_postgres, engine, key, ctx.public_url))
        else:
            found = await run_in_threadpool(_record_session, engine, key, ctx.public_url)
    if not isinstance(found, bytes):
        raise NotFoundError("credential", credential_id[:100])
    return Response(found, media_type="application/json", headers=CORS)


@router.get(
    "/{credential_id}/credential.jwt",
    response_model=None,
    response_class=Response,
    responses={**raw(VC_JWT, "The signed credential (VC-JOSE-COSE compact JWS)."), **documented(404)},
)
async def credential_token(credential_id: str, request: Request) -> Response:
    """The signed certificate exactly as issued."""
    key = parse_id(credential_id)
    reader: LoopReader | None = request.app.state.reader
    found = reader.run(partial(_token_sqlite, key)) if reader is not None else None
    if found is None:
        engine: Engine = request.app.state.engine
        if engine.dialect.name == "postgresql":
            found = await _on_postgres(partial(_token_postgres, engine, key))
        else:
            found = await run_in_threadpool(_token_session, engine, key)
    if not isinstance(found, str):
        raise NotFoundError("credential", credential_id[:100])
    # A credential's token never changes: its status lives in the status lists.
    headers = {**CORS, "Cache-Control": "public, max-age=86400, immutable"}
    return Response(found, media_type=VC_JWT, headers=headers)
