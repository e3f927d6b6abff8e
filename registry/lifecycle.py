"""A certificate's lifecycle: issue (one or a batch), suspend, reinstate, revoke, renew.

Each function runs ONE write transaction on the session it is given (which must not be in a transaction):
the credential row, its status list bits, the re-signed status list credential and the event log entry are
committed together or not at all. They know nothing of HTTP.

Lock order, the same everywhere so that PostgreSQL never deadlocks: the credential row, then status lists in
ascending id (a body's current revocation list is created before its suspension list), then the event chain
head. On SQLite the whole transaction holds the database write lock from BEGIN.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import TypeVar

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from issuer import CertificationDecision, DecisionError, Issuer, SchemeError, StatusSlot
from registry import statuslists
from registry.db import write_transaction
from registry.errors import (
    DuplicateError,
    ForbiddenError,
    IdempotencyKeyReusedError,
    InvalidRequestError,
    NotFoundError,
    StateConflictError,
)
from registry.eventlog import append_event, canonical_json
from registry.identity import credential_url, status_list_url
from registry.models import (
    Action,
    BodyState,
    CertificationBody,
    Credential,
    CredentialStatus,
    IdempotencyRecord,
    ReasonCode,
    StatusAllocation,
    StatusPurpose,
)
from registry.signers import Signers
from verifier import parse_date_time_stamp

Clock = Callable[[], datetime]
T = TypeVar("T")
_FINAL = {CredentialStatus.REVOKED, CredentialStatus.SUPERSEDED}


@dataclass(frozen=True, slots=True)
class Context:
    """What every lifecycle function needs from the deployment: list policy, signers and the clock."""

    policy: statuslists.ListPolicy
    signers: Signers
    clock: Clock

    @property
    def public_url(self) -> str:
        return self.policy.public_url


@dataclass(frozen=True, slots=True)
class Issuance:
    """The credentials an issuance produced; `replayed` when an Idempotency-Key returned earlier ones."""

    credentials: list[Credential]
    replayed: bool = False


# -- issuance -------------------------------------------------------------------------------------------------


def issue(
    *,
    session: Session,
    ctx: Context,
    body: CertificationBody,
    decision: CertificationDecision,
    actor: str,
    idempotency_key: str | None = None,
) -> Issuance:
    """Issue one certificate for `decision`, signed by `body`. With `idempotency_key`, a retry of the same
    request by the same token returns the first certificate, and never issues twice."""
    return _issue(session, ctx, body, [decision], actor=actor, idempotency_key=idempotency_key, batch=False)


def issue_batch(
    *,
    session: Session,
    ctx: Context,
    body: CertificationBody,
    decisions: Sequence[CertificationDecision],
    actor: str,
    idempotency_key: str | None = None,
) -> Issuance:
    """Issue a certificate for each decision, all or none (and idempotently, as `issue`)."""
    return _issue(session, ctx, body, decisions, actor=actor, idempotency_key=idempotency_key, batch=True)


def _issue(
    session: Session,
    ctx: Context,
    body: CertificationBody,
    decisions: Sequence[CertificationDecision],
    *,
    actor: str,
    idempotency_key: str | None,
    batch: bool,
) -> Issuance:
    request_sha256 = hashlib.sha256(
        canonical_json(
            {
                "batch": batch,
                "decisions": [d.model_dump(mode="json", by_alias=True, exclude_none=True) for d in decisions],
            }
        )
    ).hexdigest()
    _check_batch(decisions)

    def work(now: datetime) -> Issuance:
        record = None
        if idempotency_key is not None:
            record = session.get(IdempotencyRecord, (actor, idempotency_key))
            if record is not None:
                if record.request_sha256 != request_sha256:
                    raise IdempotencyKeyReusedError
                return Issuance(_credentials(session, record.ids()), replayed=True)
            record = IdempotencyRecord(
                token_id=actor,
                key=idempotency_key,
                request_sha256=request_sha256,
                credential_ids=[],
                created_at=now,
            )
            session.add(record)
            session.flush()  # claims the key now: a concurrent twin waits here, then finds it taken
        signer = _signer(session, ctx, body)
        issued = []
        for position, decision in enumerate(decisions):
            where = f"decisions.{position}." if batch else ""
            issued.append(_issue_one(session, ctx, body, signer, decision, actor=actor, now=now, where=where))
        if record is not None:
            record.credential_ids = [str(credential.id) for credential in issued]
            session.add(record)
        return Issuance(issued)

    return _transaction(session, ctx, work)


def _check_batch(decisions: Sequence[CertificationDecision]) -> None:
    if not decisions:
        raise InvalidRequestError("no decisions to issue", field="decisions")
    seen: set[str] = set()
    for position, decision in enumerate(decisions):
        if decision.certificate_number in seen:
            raise DuplicateError(
                f"certificate number {decision.certificate_number} appears twice in the batch",
                field=f"decisions.{position}.certificateNumber",
            )
        seen.add(decision.certificate_number)


def _issue_one(
    session: Session,
    ctx: Context,
    body: CertificationBody,
    signer: Issuer,
    decision: CertificationDecision,
    *,
    actor: str,
    now: datetime,
    where: str = "",
    supersedes: uuid.UUID | None = None,
) -> Credential:
    assert body.id is not None  # noqa: S101
    if decision.scheme != body.scheme_id:
        raise InvalidRequestError(
            f"{body.slug} certifies under scheme {body.scheme_id!r}, not {decision.scheme!r}",
            field=where + "scheme",
        )
    try:
        signer.scheme.level(decision.level)
    except SchemeError as e:
        raise InvalidRequestError(str(e), field=where + "level") from e
    taken = session.exec(
        select(Credential.id).where(
            Credential.issuer_id == body.id, Credential.certificate_number == decision.certificate_number
        )
    ).first()
    if taken is not None:
        raise DuplicateError(
            f"{body.slug} has already issued certificate number {decision.certificate_number}",
            field=where + "certificateNumber",
        )
    slots = {
        purpose: statuslists.allocate(
            session, body=body, purpose=purpose, policy=ctx.policy, signer=signer, now=now
        )
        for purpose in (StatusPurpose.REVOCATION, StatusPurpose.SUSPENSION)
    }
    revocation_list_id, revocation_index = slots[StatusPurpose.REVOCATION]
    suspension_list_id, suspension_index = slots[StatusPurpose.SUSPENSION]
    credential_id = uuid.uuid4()
    try:
        signed = signer.issue(
            decision,
            revocation=StatusSlot(status_list_url(ctx.public_url, revocation_list_id), revocation_index),
            suspension=StatusSlot(status_list_url(ctx.public_url, suspension_list_id), suspension_index),
            credential_id=credential_url(ctx.public_url, credential_id),
        )
    except DecisionError as e:
        raise InvalidRequestError(str(e), field=where + (e.field or "")) from e
    certification = signed.credential["credentialSubject"]["certification"]
    company = decision.subject
    credential = Credential(
        id=credential_id,
        issuer_id=body.id,
        certificate_number=decision.certificate_number,
        corporate_number=company.corporate_number,
        subject_id=company.id,
        legal_name_en=company.legal_name.en,
        legal_name_ja=company.legal_name.ja,
        website=company.website,
        scheme_id=decision.scheme,
        level=decision.level,
        scope=decision.scope,
        ai_roles=list(decision.ai_roles),
        assessed_on=decision.assessed_on,
        next_surveillance_due=date.fromisoformat(certification["nextSurveillanceDue"]),
        valid_from=parse_date_time_stamp(signed.credential["validFrom"]),
        valid_until=parse_date_time_stamp(signed.credential["validUntil"]),
        token=signed.token,
        revocation_list_id=revocation_list_id,
        revocation_index=revocation_index,
        suspension_list_id=suspension_list_id,
        suspension_index=suspension_index,
        supersedes_id=supersedes,
        created_at=now,
        updated_at=now,
    )
    session.add(credential)
    session.flush()  # before the rows that refer to it: without ORM relationships, flush order is ours
    for list_id, index in ((revocation_list_id, revocation_index), (suspension_list_id, suspension_index)):
        session.add(StatusAllocation(list_id=list_id, status_index=index, credential_id=credential_id))
    append_event(
        session=session,
        at=now,
        actor=actor,
        body=body,
        action=Action.ISSUED if supersedes is None else Action.RENEWED,
        credential_id=credential_id,
        payload={
            "certificateNumber": decision.certificate_number,
            "credentialSha256": hashlib.sha256(signed.token.encode("ascii")).hexdigest(),
            **({"supersedes": str(supersedes)} if supersedes is not None else {}),
        },
    )
    return credential


# -- status changes -------------------------------------------------------------------------------------------


def suspend(
    *,
    session: Session,
    ctx: Context,
    body: CertificationBody,
    credential_id: uuid.UUID,
    actor: str,
    reason_code: ReasonCode,
    reason: str | None = None,
) -> Credential:
    """Suspend an active certificate (reversible): sets its bit in the suspension list."""
    _check_reason(reason_code)

    def work(now: datetime) -> Credential:
        credential = _locked(session, body, credential_id)
        _require(credential, {CredentialStatus.ACTIVE}, "suspend")
        return _change(
            session,
            ctx,
            body,
            credential,
            purpose=StatusPurpose.SUSPENSION,
            value=True,
            status=CredentialStatus.SUSPENDED,
            action=Action.SUSPENDED,
            actor=actor,
            now=now,
            reason_code=reason_code,
            reason=reason,
        )

    return _transaction(session, ctx, work)


def reinstate(
    *,
    session: Session,
    ctx: Context,
    body: CertificationBody,
    credential_id: uuid.UUID,
    actor: str,
    reason: str | None = None,
) -> Credential:
    """Lift a suspension: clears the credential's bit in the suspension list."""

    def work(now: datetime) -> Credential:
        credential = _locked(session, body, credential_id)
        _require(credential, {CredentialStatus.SUSPENDED}, "reinstate")
        return _change(
            session,
            ctx,
            body,
            credential,
            purpose=StatusPurpose.SUSPENSION,
            value=False,
            status=CredentialStatus.ACTIVE,
            action=Action.REINSTATED,
            actor=actor,
            now=now,
            reason_code=None,
            reason=reason,
        )

    return _transaction(session, ctx, work)


def revoke(
    *,
    session: Session,
    ctx: Context,
    body: CertificationBody,
    credential_id: uuid.UUID,
    actor: str,
    reason_code: ReasonCode,
    reason: str | None = None,
) -> Credential:
    """Revoke an active or suspended certificate. Final: sets its bit in the revocation list."""
    _check_reason(reason_code)

    def work(now: datetime) -> Credential:
        credential = _locked(session, body, credential_id)
        _require(credential, {CredentialStatus.ACTIVE, CredentialStatus.SUSPENDED}, "revoke")
        return _change(
            session,
            ctx,
            body,
            credential,
            purpose=StatusPurpose.REVOCATION,
            value=True,
            status=CredentialStatus.REVOKED,
            action=Action.REVOKED,
            actor=actor,
            now=now,
            reason_code=reason_code,
            reason=reason,
        )

    return _transaction(session, ctx, work)


def renew(
    *,
    session: Session,
    ctx: Context,
    body: CertificationBody,
    credential_id: uuid.UUID,
    decision: CertificationDecision,
    actor: str,
) -> Credential:
    """Issue a new certificate that supersedes an active or suspended one, which is revoked as `superseded`.

    The new decision must certify the same company (same corporate number when the old one had one) and
    carry a new certificate number.
    """

    def work(now: datetime) -> Credential:
        old = _locked(session, body, credential_id)
        _require(old, {CredentialStatus.ACTIVE, CredentialStatus.SUSPENDED}, "renew")
        if old.corporate_number and decision.subject.corporate_number != old.corporate_number:
            raise InvalidRequestError(
                f"a renewal certifies the same company: corporateNumber must be {old.corporate_number}",
                field="subject.corporateNumber",
            )
        signer = _signer(session, ctx, body)
        _change(
            session,
            ctx,
            body,
            old,
            purpose=StatusPurpose.REVOCATION,
            value=True,
            status=CredentialStatus.SUPERSEDED,
            action=Action.SUPERSEDED,
            actor=actor,
            now=now,
            reason_code=ReasonCode.SUPERSEDED,
            reason=None,
            signer=signer,
        )
        new = _issue_one(session, ctx, body, signer, decision, actor=actor, now=now, supersedes=old.id)
        old.superseded_by_id = new.id
        session.add(old)
        return new

    return _transaction(session, ctx, work)


def _check_reason(reason_code: ReasonCode) -> None:
    if reason_code is ReasonCode.SUPERSEDED:
        raise InvalidRequestError("reason 'superseded' is set by renewal only", field="reasonCode")


def _locked(session: Session, body: CertificationBody, credential_id: uuid.UUID) -> Credential:
    """The body's credential, locked; another body's credential is reported as not found."""
    credential = session.exec(
        select(Credential).where(col(Credential.id) == credential_id).with_for_update(key_share=True)
    ).first()
    if credential is None or credential.issuer_id != body.id:
        raise NotFoundError("credential", credential_id)
    return credential


def _require(credential: Credential, allowed: set[CredentialStatus], verb: str) -> None:
    status = CredentialStatus(credential.status)
    if status in allowed:
        return
    if status in _FINAL:
        message = f"cannot {verb} a {status.value} credential: {status.value} is final"
    else:
        message = f"cannot {verb} a credential that is {status.value}"
    raise StateConflictError(message, status=status.value)


def _change(
    session: Session,
    ctx: Context,
    body: CertificationBody,
    credential: Credential,
    *,
    purpose: StatusPurpose,
    value: bool,
    status: CredentialStatus,
    action: Action,
    actor: str,
    now: datetime,
    reason_code: ReasonCode | None,
    reason: str | None,
    signer: Issuer | None = None,
) -> Credential:
    """Flip the credential's bit for `purpose`, re-sign that list, update the record, log the event."""
    if purpose is StatusPurpose.REVOCATION:
        list_id, index = credential.revocation_list_id, credential.revocation_index
    else:
        list_id, index = credential.suspension_list_id, credential.suspension_index
    lst = statuslists.set_bit(
        session,
        list_id=list_id,
        index=index,
        value=value,
        policy=ctx.policy,
        signer=signer or _signer(session, ctx, body),
        now=now,
    )
    credential.status = status.value
    credential.status_reason_code = None if reason_code is None else reason_code.value
    credential.status_reason = reason
    credential.status_changed_at = now
    credential.updated_at = now
    session.add(credential)
    append_event(
        session=session,
        at=now,
        actor=actor,
        body=body,
        action=action,
        credential_id=credential.id,
        reason_code=credential.status_reason_code,
        reason=reason,
        payload={
            "statusPurpose": purpose.value,
            "statusListCredential": status_list_url(ctx.public_url, list_id),
            "statusListIndex": str(index),
            "statusListVersion": lst.version,
            "value": value,
        },
    )
    return credential


# -- plumbing -------------------------------------------------------------------------------------------------


def _signer(session: Session, ctx: Context, body: CertificationBody) -> Issuer:
    if body.state != BodyState.ACTIVE:
        raise ForbiddenError(f"certification body {body.slug} is {body.state}: it cannot change certificates")
    return ctx.signers.for_body(session, body)


def _credentials(session: Session, ids: list[uuid.UUID]) -> list[Credential]:
    rows = {c.id: c for c in session.exec(select(Credential).where(col(Credential.id).in_(ids)))}
    return [rows[i] for i in ids]


def _transaction(session: Session, ctx: Context, work: Callable[[datetime], T]) -> T:
    """Run `work` in one write transaction, once more if a unique constraint raced a concurrent writer
    (PostgreSQL): the second run sees the winner's row (an idempotency key, a certificate number)."""
    for attempt in (1, 2):
        try:
            with write_transaction(session):
                return work(ctx.clock())
        except IntegrityError:
            if attempt == 2:
                raise
    raise AssertionError("unreachable")  # pragma: no cover
