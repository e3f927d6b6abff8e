"""A certificate's lifecycle: issue (one or a batch), suspend, reinstate, revoke, renew.

Each function runs ONE write transaction on the session it is given (which must not be in a transaction):
the credential row, its status list bits, the re-signed status list credential and the event log entry are
committed together or not at all. They know nothing of HTTP.

Lock order, the same everywhere so that PostgreSQL never deadlocks: the credential row, then status lists in
ascending id (a body's current revocation list is created before its suspension list), then the event chain
head. On SQLite the whole transaction holds the database write lock from BEGIN.

The writes go through SQLAlchemy Core on the session's connection, not through the ORM unit of work (an ORM
flush costs several times the SQL it sends), and the statements of issuance run prebuilt on the DB-API cursor
(registry.db.Prepared). A batch of n certificates costs a fixed number of statements, not n times as many:
one to check the body's accreditation, one to check its certificate numbers, three per status purpose to
allocate its indices (registry.statuslists), one executemany each for the credentials, their allocations and
their events (on SQLite, INSERTs of up to 500 rows: see registry.db.Prepared), and two for the chain head. A
batch's signatures are self-checked on other threads while it is stored, before the commit
(issuer.Issuer.sign_many). Issuance returns the rows it wrote; the other functions return Credential objects
built from the values they wrote (detached: in no session).
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Callable, Sequence, Set
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, TypeVar, cast

import sqlalchemy as sa
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.instrumentation import manager_of_class
from sqlmodel import Session, SQLModel

from issuer import (
    CertificationDecision,
    DecisionError,
    Issuer,
    IssueRequest,
    SchemeError,
    SignedBatch,
    StatusSlot,
)
from registry import statuslists
from registry.db import Prepared, write_transaction
from registry.errors import (
    DuplicateError,
    IdempotencyKeyReusedError,
    InvalidRequestError,
    NotAccreditedError,
    NotFoundError,
    StateConflictError,
)
from registry.eventlog import canonical_json, row_hash
from registry.identity import credential_url, new_credential_id, status_list_url
from registry.models import (
    Accreditation,
    Action,
    BodyState,
    CertificationBody,
    ChainHead,
    Credential,
    CredentialStatus,
    Event,
    IdempotencyRecord,
    ReasonCode,
    StatusPurpose,
)
from registry.signers import Signers
from verifier import format_date_time_stamp, parse_date_time_stamp

Clock = Callable[[], datetime]
T = TypeVar("T")
M = TypeVar("M", bound=SQLModel)
_FINAL = {CredentialStatus.REVOKED, CredentialStatus.SUPERSEDED}

CREDENTIALS: sa.Table = Credential.__table__  # type: ignore[attr-defined]
EVENTS: sa.Table = Event.__table__  # type: ignore[attr-defined]
CHAIN_HEAD: sa.Table = ChainHead.__table__  # type: ignore[attr-defined]
IDEMPOTENCY: sa.Table = IdempotencyRecord.__table__  # type: ignore[attr-defined]
ACCREDITATIONS: sa.Table = Accreditation.__table__  # type: ignore[attr-defined]

# Statements are built once, here: building a statement costs several times executing it. Those of the
# issuance path run on the DB-API cursor (registry.db.Prepared: a tenth of a Core execute's overhead).
_CLAIMED = Prepared(
    sa.select(IDEMPOTENCY.c.request_sha256, IDEMPOTENCY.c.credential_ids).where(
        IDEMPOTENCY.c.token_id == sa.bindparam("b_token"), IDEMPOTENCY.c.key == sa.bindparam("b_key")
    )
)
# Updates set the columns named by the keys of the parameters they are executed with.
_RECORD_IDS = Prepared(
    sa.update(IDEMPOTENCY).where(
        IDEMPOTENCY.c.token_id == sa.bindparam("b_token"), IDEMPOTENCY.c.key == sa.bindparam("b_key")
    )
)
_NUMBERS_TAKEN = Prepared(
    sa.select(CREDENTIALS.c.certificate_number).where(
        CREDENTIALS.c.issuer_id == sa.bindparam("b_issuer"),
        CREDENTIALS.c.certificate_number.in_(sa.bindparam("b_numbers", expanding=True)),
    )
)
_LOCK_CREDENTIAL = (
    sa.select(CREDENTIALS).where(CREDENTIALS.c.id == sa.bindparam("b_id")).with_for_update(key_share=True)
)
_ACCREDITATION = sa.select(
    ACCREDITATIONS.c.levels, ACCREDITATIONS.c.state, ACCREDITATIONS.c.valid_from, ACCREDITATIONS.c.valid_until
).where(
    ACCREDITATIONS.c.issuer_id == sa.bindparam("b_issuer"),
    ACCREDITATIONS.c.scheme_id == sa.bindparam("b_scheme"),
)
_CREDENTIALS_BY_ID = sa.select(CREDENTIALS).where(CREDENTIALS.c.id.in_(sa.bindparam("b_ids", expanding=True)))
_UPDATE_CREDENTIAL = sa.update(CREDENTIALS).where(CREDENTIALS.c.id == sa.bindparam("b_id"))
_LOCK_HEAD = Prepared(
    sa.select(CHAIN_HEAD.c.seq, CHAIN_HEAD.c.hash).where(CHAIN_HEAD.c.id == 1).with_for_update(key_share=True)
)
_MOVE_HEAD = Prepared(sa.update(CHAIN_HEAD).where(CHAIN_HEAD.c.id == 1))
_INSERT_CREDENTIALS = Prepared(sa.insert(CREDENTIALS))
_INSERT_EVENTS = Prepared(sa.insert(EVENTS))
_INSERT_CLAIM = Prepared(sa.insert(IDEMPOTENCY))
_INSERT_ALLOCATIONS = Prepared(sa.insert(statuslists.ALLOCATIONS))

sa.orm.configure_mappers()  # detached objects are built without a session: their attributes must be ready


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
    """The credentials an issuance produced, as their stored rows; `replayed` when an Idempotency-Key
    returned earlier ones. A batch's answer is written from the rows (schemas.batch_issued_json)."""

    rows: list[dict[str, Any]]
    replayed: bool = False

    @property
    def credentials(self) -> list[Credential]:
        """The rows as detached ORM objects."""
        return [detached(row) for row in self.rows]


def detached_row(model: type[M], values: dict[str, Any]) -> M:
    """A `model` object holding `values` (a full row, as stored), outside any session.

    Built without validation (the values were just written or read), which costs a fifth of `model(...)`;
    it is a complete ORM instance, so it can be read, changed or merged into a session like any other.
    """
    instance = cast(M, model.model_construct(**values))
    manager_of_class(model).setup_instance(instance)
    return instance


def detached(values: dict[str, Any]) -> Credential:
    """A detached Credential holding `values` (see detached_row)."""
    return detached_row(Credential, values)


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
    _check_batch(decisions)
    request_sha256 = None
    if idempotency_key is not None:
        request_sha256 = hashlib.sha256(
            canonical_json(
                {
                    "batch": batch,
                    "decisions": [
                        d.model_dump(mode="json", by_alias=True, exclude_none=True) for d in decisions
                    ],
                }
            )
        ).hexdigest()

    def work(now: datetime) -> Issuance:
        connection = session.connection()
        if idempotency_key is not None and request_sha256 is not None:
            earlier = _claim(connection, actor, idempotency_key, request_sha256, now)
            if earlier is not None:
                return Issuance(_rows(connection, earlier), replayed=True)
        signer = _signer(session, ctx, body)
        issued = _issue_many(
            connection, ctx, body, signer, decisions, actor=actor, now=now, batch=batch, supersedes=None
        )
        if idempotency_key is not None:
            _RECORD_IDS.execute(
                connection,
                {
                    "b_token": actor,
                    "b_key": idempotency_key,
                    "credential_ids": [str(row["id"]) for row in issued],
                },
            )
        return Issuance(issued)

    return _transaction(session, ctx, work)


def _claim(
    connection: Connection, actor: str, key: str, request_sha256: str, now: datetime
) -> list[uuid.UUID] | None:
    """The credentials an earlier use of the key issued, or None after claiming the key for this request.

    The claim is an insert: a concurrent twin waits on it (PostgreSQL: the unique key; SQLite: the write
    lock), then fails with an IntegrityError, and its retry finds the key taken.
    """
    found = _CLAIMED.execute(connection, {"b_token": actor, "b_key": key})
    if found:
        claimed_sha256, ids = found[0]
        if claimed_sha256 != request_sha256:
            raise IdempotencyKeyReusedError
        return [uuid.UUID(value) for value in (json.loads(ids) if isinstance(ids, str) else ids)]
    _INSERT_CLAIM.execute(
        connection,
        {
            "token_id": actor,
            "key": key,
            "request_sha256": request_sha256,
            "credential_ids": [],
            "created_at": now,
        },
    )
    return None


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


def _issue_many(
    connection: Connection,
    ctx: Context,
    body: CertificationBody,
    signer: Issuer,
    decisions: Sequence[CertificationDecision],
    *,
    actor: str,
    now: datetime,
    batch: bool,
    supersedes: uuid.UUID | None,
) -> list[dict[str, Any]]:
    """Check, allocate, sign and write the credentials for `decisions`; their rows, in order."""
    assert body.id is not None  # noqa: S101

    def where(position: int) -> str:
        return f"decisions.{position}." if batch else ""

    for position, decision in enumerate(decisions):
        if decision.scheme != body.scheme_id:
            raise InvalidRequestError(
                f"{body.slug} certifies under scheme {body.scheme_id!r}, not {decision.scheme!r}",
                field=where(position) + "scheme",
            )
        try:
            signer.scheme.level(decision.level)
        except SchemeError as e:
            raise InvalidRequestError(str(e), field=where(position) + "level") from e
    _require_accreditation(connection, body, [decision.level for decision in decisions], now)
    numbers = [decision.certificate_number for decision in decisions]
    taken = _numbers_taken(connection, body.id, numbers)
    if taken:
        position = next(n for n, number in enumerate(numbers) if number in taken)
        raise DuplicateError(
            f"{body.slug} has already issued certificate number {numbers[position]}",
            field=where(position) + "certificateNumber",
        )
    slots = {
        purpose: statuslists.allocate(
            connection,
            body=body,
            purpose=purpose,
            count=len(decisions),
            policy=ctx.policy,
            signer=signer,
            now=now,
        )
        for purpose in (StatusPurpose.REVOCATION, StatusPurpose.SUSPENSION)
    }
    credential_ids = [new_credential_id(now) for _ in decisions]
    requests = [
        IssueRequest(
            decision,
            StatusSlot(status_list_url(ctx.public_url, revocation[0]), revocation[1]),
            StatusSlot(status_list_url(ctx.public_url, suspension[0]), suspension[1]),
            credential_url(ctx.public_url, credential_id),
        )
        for decision, revocation, suspension, credential_id in zip(
            decisions,
            slots[StatusPurpose.REVOCATION],
            slots[StatusPurpose.SUSPENSION],
            credential_ids,
            strict=True,
        )
    ]
    batch_signed = _sign(signer, requests, batch=batch)
    issued = batch_signed.unverified
    rows: list[dict[str, Any]] = []
    allocations: list[dict[str, Any]] = []
    events: list[tuple[Action, uuid.UUID, dict[str, Any]]] = []
    action = Action.ISSUED if supersedes is None else Action.RENEWED
    for position, decision in enumerate(decisions):
        (revocation_list_id, revocation_index) = slots[StatusPurpose.REVOCATION][position]
        (suspension_list_id, suspension_index) = slots[StatusPurpose.SUSPENSION][position]
        credential_id = credential_ids[position]
        signed = issued[position]
        certification = signed.credential["credentialSubject"]["certification"]
        company = decision.subject
        rows.append(
            {
                "id": credential_id,
                "issuer_id": body.id,
                "certificate_number": decision.certificate_number,
                "corporate_number": company.corporate_number,
                "subject_id": company.id,
                "legal_name_en": company.legal_name.en,
                "legal_name_ja": company.legal_name.ja,
                "website": company.website,
                "scheme_id": decision.scheme,
                "level": decision.level,
                "scope": decision.scope,
                "ai_roles": list(decision.ai_roles),
                "assessed_on": decision.assessed_on,
                "next_surveillance_due": date.fromisoformat(certification["nextSurveillanceDue"]),
                "valid_from": parse_date_time_stamp(signed.credential["validFrom"]),
                "valid_until": parse_date_time_stamp(signed.credential["validUntil"]),
                "status": CredentialStatus.ACTIVE.value,
                "status_reason_code": None,
                "status_reason": None,
                "status_changed_at": None,
                "token": signed.token,
                "revocation_list_id": revocation_list_id,
                "revocation_index": revocation_index,
                "suspension_list_id": suspension_list_id,
                "suspension_index": suspension_index,
                "supersedes_id": supersedes,
                "superseded_by_id": None,
                "created_at": now,
                "updated_at": now,
            }
        )
        allocations += [
            {"list_id": revocation_list_id, "status_index": revocation_index, "credential_id": credential_id},
            {"list_id": suspension_list_id, "status_index": suspension_index, "credential_id": credential_id},
        ]
        payload: dict[str, Any] = {
            "certificateNumber": decision.certificate_number,
            "credentialSha256": hashlib.sha256(signed.token.encode("ascii")).hexdigest(),
        }
        if supersedes is not None:
            payload["supersedes"] = str(supersedes)
        events.append((action, credential_id, payload))
    # Rows that refer to a credential come after it: there are no ORM relationships to order the inserts.
    _INSERT_CREDENTIALS.execute(connection, rows)
    _INSERT_ALLOCATIONS.execute(connection, allocations)
    # The signatures hold, or a SelfCheckError rolls the whole batch back. Checked before the events: appending
    # them locks the chain head, which every write of every body takes (PostgreSQL), and which must not wait on
    # the checking threads (shared by all requests).
    batch_signed.verified()
    _append_events(
        connection,
        body=body,
        actor=actor,
        at=now,
        entries=[(action, credential_id, None, None, payload) for action, credential_id, payload in events],
    )
    return rows


def _sign(signer: Issuer, requests: list[IssueRequest], *, batch: bool) -> SignedBatch:
    """Sign the credentials. A batch's signatures are checked on other threads while the caller stores it, and
    must hold before the transaction commits (`SignedBatch.verified`); one credential is checked inline."""
    if batch:
        try:
            return signer.sign_many(requests)
        except DecisionError as e:
            raise InvalidRequestError(str(e), field=f"decisions.{e.field}") from e
    (request,) = requests
    try:
        one = signer.issue(
            request.decision,
            revocation=request.revocation,
            suspension=request.suspension,
            credential_id=request.credential_id,
        )
    except DecisionError as e:
        raise InvalidRequestError(str(e), field=e.field or "") from e
    return SignedBatch([one], [])


def _require_accreditation(
    connection: Connection, body: CertificationBody, levels: list[str], now: datetime
) -> None:
    """Refuse to issue unless the scheme owner's accreditation of `body` for its scheme is active now and
    covers every level: what it issued otherwise, no verifier pinning the scheme owner would recognise."""
    scheme = body.scheme_id
    found = connection.execute(_ACCREDITATION, {"b_issuer": body.id, "b_scheme": scheme}).first()
    if found is None:
        raise NotAccreditedError(
            f"certification body {body.slug} is not accredited for the scheme {scheme}: the scheme owner "
            "accredits it (aigov admin accredit) before it issues certificates"
        )
    accredited, state, valid_from, valid_until = found
    if state != BodyState.ACTIVE:
        raise NotAccreditedError(
            f"the accreditation of {body.slug} for the scheme {scheme} is {state}: it cannot issue, renew or "
            "reinstate certificates (it may still suspend and revoke them)"
        )
    if now < valid_from:
        raise NotAccreditedError(
            f"the accreditation of {body.slug} for the scheme {scheme} starts on "
            f"{format_date_time_stamp(valid_from)}"
        )
    if valid_until is not None and now >= valid_until:
        raise NotAccreditedError(
            f"the accreditation of {body.slug} for the scheme {scheme} ended on "
            f"{format_date_time_stamp(valid_until)}"
        )
    outside = [level for level in dict.fromkeys(levels) if level not in accredited]
    if outside:
        raise NotAccreditedError(
            f"{body.slug} is accredited for the scheme {scheme} at levels {', '.join(accredited)}, not "
            f"level {', '.join(outside)}"
        )


def _numbers_taken(connection: Connection, issuer_id: int, numbers: list[str]) -> set[str]:
    taken: set[str] = set()
    for start in range(0, len(numbers), 1000):
        chunk = numbers[start : start + 1000]
        rows = _NUMBERS_TAKEN.execute(connection, {"b_issuer": issuer_id, "b_numbers": chunk})
        taken.update(row[0] for row in rows)
    return taken


# -- the event log --------------------------------------------------------------------------------------------

# (action, credential id, reason code, reason, payload)
EventEntry = tuple[Action, uuid.UUID | None, str | None, str | None, dict[str, Any]]


def _append_events(
    connection: Connection, *, body: CertificationBody, actor: str, at: datetime, entries: list[EventEntry]
) -> list[int]:
    """Append events to the hash chain inside the caller's transaction (registry.eventlog's format); their seqs.

    Locks the chain head row, so concurrent transactions append one after the other and the chain never
    forks; taken last, after every other lock, to hold it briefly. One insert for all the events.
    """
    assert body.id is not None  # noqa: S101  # a persisted body
    ((seq, previous),) = _LOCK_HEAD.execute(connection)
    rows = []
    for action, credential_id, reason_code, reason, payload in entries:
        seq += 1
        values: dict[str, Any] = {
            "seq": seq,
            "at": at,
            "actor": actor,
            "issuer_id": body.id,
            "credential_id": credential_id,
            "action": action.value,
            "reason_code": reason_code,
            "reason": reason,
            "payload": payload,
            "prev_hash": previous,
            "hash": "",
        }
        values["hash"] = previous = row_hash(values, body.did)  # registry.eventlog's hash of these values
        rows.append(values)
    _INSERT_EVENTS.execute(connection, rows)
    _MOVE_HEAD.execute(connection, {"seq": seq, "hash": previous})
    return [row["seq"] for row in rows]


# -- status changes -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Transition:
    """A status change: from which states, which list's bit to set or clear, and what it is recorded as."""

    verb: str
    allowed: frozenset[CredentialStatus]
    purpose: StatusPurpose
    value: bool
    status: CredentialStatus
    action: Action


_SUSPEND = _Transition(
    "suspend",
    frozenset({CredentialStatus.ACTIVE}),
    StatusPurpose.SUSPENSION,
    True,
    CredentialStatus.SUSPENDED,
    Action.SUSPENDED,
)
_REINSTATE = _Transition(
    "reinstate",
    frozenset({CredentialStatus.SUSPENDED}),
    StatusPurpose.SUSPENSION,
    False,
    CredentialStatus.ACTIVE,
    Action.REINSTATED,
)
_REVOKE = _Transition(
    "revoke",
    frozenset({CredentialStatus.ACTIVE, CredentialStatus.SUSPENDED}),
    StatusPurpose.REVOCATION,
    True,
    CredentialStatus.REVOKED,
    Action.REVOKED,
)


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
    return _transition(
        session, ctx, body, credential_id, _SUSPEND, actor=actor, reason_code=reason_code, reason=reason
    )


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
    return _transition(
        session, ctx, body, credential_id, _REINSTATE, actor=actor, reason_code=None, reason=reason
    )


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
    return _transition(
        session, ctx, body, credential_id, _REVOKE, actor=actor, reason_code=reason_code, reason=reason
    )


def _transition(
    session: Session,
    ctx: Context,
    body: CertificationBody,
    credential_id: uuid.UUID,
    transition: _Transition,
    *,
    actor: str,
    reason_code: ReasonCode | None,
    reason: str | None,
) -> Credential:
    def work(now: datetime) -> Credential:
        connection = session.connection()
        credential = _locked(connection, body, credential_id)
        _require(credential, transition.allowed, transition.verb)
        # Setting a bit (suspend, revoke) only takes trust away; clearing one (reinstate) grants it again,
        # which needs what issuing needs: an accreditation in force now that covers the certificate's level.
        grants = not transition.value
        if grants:
            _require_accreditation(connection, body, [credential.level], now)
        signer = _signer(session, ctx, body, grants=grants)
        return _change(
            connection,
            session,
            ctx,
            body,
            credential,
            purpose=transition.purpose,
            value=transition.value,
            status=transition.status,
            action=transition.action,
            actor=actor,
            now=now,
            reason_code=reason_code,
            reason=reason,
            signer=signer,
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

    The new decision must certify the same company (`_same_company`) and carry a new certificate number.
    """

    def work(now: datetime) -> Credential:
        connection = session.connection()
        old = _locked(connection, body, credential_id)
        _require(old, {CredentialStatus.ACTIVE, CredentialStatus.SUSPENDED}, "renew")
        _same_company(old, decision)
        signer = _signer(session, ctx, body)
        _change(
            connection,
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
        (new,) = _issue_many(
            connection, ctx, body, signer, [decision], actor=actor, now=now, batch=False, supersedes=old.id
        )
        connection.execute(_UPDATE_CREDENTIAL, {"b_id": old.id, "superseded_by_id": new["id"]})
        return detached(new)

    return _transaction(session, ctx, work)


def _same_company(old: Credential, decision: CertificationDecision) -> None:
    """A renewal certifies the company the old certificate names, by the strongest identifier it carries: its
    corporate number, else its subject id (a DID), else its legal names, unchanged. Otherwise renewal (its own
    scope) would issue a certificate for any company, and end the old one without the revoke scope. A company
    that changed what identifies it gets a new certificate (issue) and its old one revoked."""
    subject = decision.subject
    if old.corporate_number:
        if subject.corporate_number != old.corporate_number:
            raise InvalidRequestError(
                f"a renewal certifies the same company: corporateNumber must be {old.corporate_number}",
                field="subject.corporateNumber",
            )
    elif old.subject_id:
        if subject.id != old.subject_id:
            raise InvalidRequestError(
                f"a renewal certifies the same company: subject id must be {old.subject_id}",
                field="subject.id",
            )
    elif (subject.legal_name.en, subject.legal_name.ja) != (old.legal_name_en, old.legal_name_ja):
        raise InvalidRequestError(
            "a renewal certifies the same company: the certificate has no corporate number and no subject id, so "
            f"its legal names must stay {old.legal_name_en!r} (en) and {old.legal_name_ja!r} (ja)",
            field="subject.legalName",
        )


def _check_reason(reason_code: ReasonCode) -> None:
    if reason_code is ReasonCode.SUPERSEDED:
        raise InvalidRequestError("reason 'superseded' is set by renewal only", field="reasonCode")


def _locked(connection: Connection, body: CertificationBody, credential_id: uuid.UUID) -> Credential:
    """The body's credential, locked; another body's credential is reported as not found."""
    row = connection.execute(_LOCK_CREDENTIAL, {"b_id": credential_id}).mappings().first()
    if row is None or row["issuer_id"] != body.id:
        raise NotFoundError("credential", credential_id)
    return detached(dict(row))


def _require(credential: Credential, allowed: Set[CredentialStatus], verb: str) -> None:
    status = CredentialStatus(credential.status)
    if status in allowed:
        return
    if status in _FINAL:
        message = f"cannot {verb} a {status.value} credential: {status.value} is final"
    else:
        message = f"cannot {verb} a credential that is {status.value}"
    raise StateConflictError(message, status=status.value)


def _change(
    connection: Connection,
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
    version = statuslists.set_bit(
        connection,
        list_id=list_id,
        index=index,
        value=value,
        policy=ctx.policy,
        signer=signer or _signer(session, ctx, body),
        now=now,
    )
    changes: dict[str, Any] = {
        "status": status.value,
        "status_reason_code": None if reason_code is None else reason_code.value,
        "status_reason": reason,
        "status_changed_at": now,
        "updated_at": now,
    }
    connection.execute(_UPDATE_CREDENTIAL, {"b_id": credential.id, **changes})
    for name, changed in changes.items():
        setattr(credential, name, changed)
    _append_events(
        connection,
        body=body,
        actor=actor,
        at=now,
        entries=[
            (
                action,
                credential.id,
                credential.status_reason_code,
                reason,
                {
                    "statusPurpose": purpose.value,
                    "statusListCredential": status_list_url(ctx.public_url, list_id),
                    "statusListIndex": str(index),
                    "statusListVersion": version,
                    "value": value,
                },
            )
        ],
    )
    return credential


# -- plumbing -------------------------------------------------------------------------------------------------


def _signer(session: Session, ctx: Context, body: CertificationBody, *, grants: bool = True) -> Issuer:
    """The body's signer. Only an accredited (active) body may grant trust: issue, renew, reinstate. One whose
    accreditation is suspended or withdrawn may still revoke and suspend (`grants=False`): those only take
    trust away, and its certificates may still be recognised (those issued before a suspension are), so it
    must be able to end them; it signs its own status lists with its own key, which stays listed."""
    if grants and body.state != BodyState.ACTIVE:
        raise NotAccreditedError(
            f"certification body {body.slug} is {body.state}: it cannot issue, renew or reinstate "
            "certificates (it may still suspend and revoke them)"
        )
    return ctx.signers.for_body(session, body)


def _rows(connection: Connection, ids: list[uuid.UUID]) -> list[dict[str, Any]]:
    """The credentials' rows, in the order of `ids`."""
    rows = {row["id"]: dict(row) for row in connection.execute(_CREDENTIALS_BY_ID, {"b_ids": ids}).mappings()}
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
