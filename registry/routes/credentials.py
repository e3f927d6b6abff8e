"""Credentials: issue (one or a batch), suspend, reinstate, revoke, renew; and the public record."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Header, Response
from sqlmodel import col, select

from issuer import CertificationDecision
from registry import lifecycle
from registry.deps import ContextDep, Principal, SessionDep, require
from registry.errors import NotFoundError
from registry.models import CertificationBody, Credential, Event
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


def _issued_response(
    response: Response, credential: Credential, principal: Principal, ctx: lifecycle.Context, replayed: bool
) -> CredentialIssued:
    response.headers["Location"] = f"{ctx.public_url}{router.prefix}/{credential.id}"
    if replayed:
        response.headers["Idempotent-Replayed"] = "true"
    return CredentialIssued.of(credential, principal.body, ctx.public_url)


@router.post("", status_code=201, response_model=CredentialIssued, responses=_WRITE_ERRORS)
def issue_credential(
    *,
    decision: CertificationDecision,
    response: Response,
    session: SessionDep,
    ctx: ContextDep,
    principal: Annotated[Principal, Depends(require(Scope.ISSUE))],
    idempotency_key: IdempotencyKey = None,
) -> CredentialIssued:
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
    return _issued_response(response, result.credentials[0], principal, ctx, result.replayed)


@router.post("/batch", status_code=201, response_model=BatchIssued, responses=_WRITE_ERRORS)
def issue_batch(
    *,
    request: BatchRequest,
    response: Response,
    session: SessionDep,
    ctx: ContextDep,
    principal: Annotated[Principal, Depends(require(Scope.ISSUE))],
    idempotency_key: IdempotencyKey = None,
) -> BatchIssued:
    """Issue up to 1,000 certificates, all or none."""
    result = lifecycle.issue_batch(
        session=session,
        ctx=ctx,
        body=principal.body,
        decisions=request.decisions,
        actor=principal.token_id,
        idempotency_key=idempotency_key,
    )
    if result.replayed:
        response.headers["Idempotent-Replayed"] = "true"
    return BatchIssued(
        credentials=[CredentialIssued.of(c, principal.body, ctx.public_url) for c in result.credentials]
    )


@router.post("/{credential_id}/suspend", response_model=CredentialPublic, responses=_WRITE_ERRORS)
def suspend(
    *,
    credential_id: str,
    request: SuspendRequest,
    session: SessionDep,
    ctx: ContextDep,
    principal: Annotated[Principal, Depends(require(Scope.SUSPEND))],
) -> CredentialPublic:
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
    return CredentialPublic.of(credential, principal.body, ctx.public_url)


@router.post("/{credential_id}/reinstate", response_model=CredentialPublic, responses=_WRITE_ERRORS)
def reinstate(
    *,
    credential_id: str,
    session: SessionDep,
    ctx: ContextDep,
    principal: Annotated[Principal, Depends(require(Scope.SUSPEND))],
    request: ReinstateRequest | None = None,
) -> CredentialPublic:
    """Lift a suspension. A revoked certificate cannot be reinstated (409)."""
    credential = lifecycle.reinstate(
        session=session,
        ctx=ctx,
        body=principal.body,
        credential_id=parse_id(credential_id),
        actor=principal.token_id,
        reason=request.reason if request else None,
    )
    return CredentialPublic.of(credential, principal.body, ctx.public_url)


@router.post("/{credential_id}/revoke", response_model=CredentialPublic, responses=_WRITE_ERRORS)
def revoke(
    *,
    credential_id: str,
    request: RevokeRequest,
    session: SessionDep,
    ctx: ContextDep,
    principal: Annotated[Principal, Depends(require(Scope.REVOKE))],
) -> CredentialPublic:
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
    return CredentialPublic.of(credential, principal.body, ctx.public_url)


@router.post(
    "/{credential_id}/renew", status_code=201, response_model=CredentialIssued, responses=_WRITE_ERRORS
)
def renew(
    *,
    credential_id: str,
    decision: CertificationDecision,
    response: Response,
    session: SessionDep,
    ctx: ContextDep,
    principal: Annotated[Principal, Depends(require(Scope.RENEW))],
) -> CredentialIssued:
    """Issue a new certificate (with a new certificate number) that supersedes this one."""
    credential = lifecycle.renew(
        session=session,
        ctx=ctx,
        body=principal.body,
        credential_id=parse_id(credential_id),
        decision=decision,
        actor=principal.token_id,
    )
    return _issued_response(response, credential, principal, ctx, replayed=False)


@router.get("/{credential_id}", response_model=CredentialDetail, responses=documented(404))
def read_credential(
    *, credential_id: str, response: Response, session: SessionDep, ctx: ContextDep
) -> CredentialDetail:
    """A certificate's public record: what it certifies, its current status with the reason, its history."""
    credential, body = _find(session, credential_id)
    events = session.exec(
        select(Event).where(Event.credential_id == credential.id).order_by(col(Event.seq))
    ).all()
    response.headers.update(CORS)
    public = CredentialPublic.of(credential, body, ctx.public_url)
    return CredentialDetail(
        **public.model_dump(by_alias=False), history=[EventPublic.of(e, body.did) for e in events]
    )


@router.get(
    "/{credential_id}/credential.jwt",
    response_model=None,
    response_class=Response,
    responses={**raw(VC_JWT, "The signed credential (VC-JOSE-COSE compact JWS)."), **documented(404)},
)
def credential_token(credential_id: str, session: SessionDep) -> Response:
    """The signed certificate exactly as issued."""
    credential, _ = _find(session, credential_id)
    # A credential's token never changes: its status lives in the status lists.
    headers = {**CORS, "Cache-Control": "public, max-age=86400, immutable"}
    return Response(credential.token, media_type=VC_JWT, headers=headers)


def _find(session: SessionDep, credential_id: str) -> tuple[Credential, CertificationBody]:
    credential = session.get(Credential, parse_id(credential_id))
    body = session.get(CertificationBody, credential.issuer_id) if credential is not None else None
    if credential is None or body is None:
        raise NotFoundError("credential", credential_id[:100])
    return credential, body
