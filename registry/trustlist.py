"""Accreditation and the trust list: the scheme owner's decisions about certification bodies, signed.

Every decision (accredit, suspend, withdraw) is one transaction: the accreditation row and its history, the
body's state (only an active body issues), the re-signed trust list and an event in the event log commit
together or not at all. The trust list is also re-signed when a listed body's keys change (rotation and
compromise happen in its keystore, outside the database: noticed on the next read, logged as `keys_changed`)
and when half its validity has passed, so that what is served is never close to expiry.

Lock order: the trust list row first (every writer of the list takes it, so they queue), the event chain head
last (registry.eventlog).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlmodel import Session, col, select

from issuer import (
    DEFAULT_TRUST_LIST_VALIDITY,
    AccreditationEntry,
    ListedBody,
    build_trust_list,
    sign_credential,
)
from keys import KeyRecord, KeysError, b64url_decode, format_date_time_stamp
from registry.errors import ConflictError, InvalidRequestError, NotFoundError
from registry.eventlog import append_event
from registry.identity import registry_did
from registry.models import (
    Accreditation,
    AccreditationChange,
    Action,
    BodyState,
    CertificationBody,
    Level,
    TrustListRecord,
)
from registry.models import Scheme as SchemeRow
from registry.signers import Signers
from registry.statuslists import strong_etag

_ACTIONS = {
    BodyState.ACTIVE: Action.ACCREDITED,
    BodyState.SUSPENDED: Action.ACCREDITATION_SUSPENDED,
    BodyState.WITHDRAWN: Action.ACCREDITATION_WITHDRAWN,
}


@dataclass(frozen=True, slots=True)
class TrustListPolicy:
    """Deployment constants: the registry's URL and how long a signed list is valid."""

    public_url: str
    validity: timedelta = DEFAULT_TRUST_LIST_VALIDITY

    @property
    def refresh_after(self) -> timedelta:
        return self.validity / 2


def _lock(session: Session) -> TrustListRecord | None:
    return session.exec(select(TrustListRecord).where(TrustListRecord.id == 1).with_for_update()).first()


def _listed_bodies(session: Session, signers: Signers) -> list[ListedBody]:
    """Every body with an accreditation, with its keys and accreditation histories, in a stable order."""
    accreditations = session.exec(
        select(Accreditation).order_by(col(Accreditation.issuer_id), col(Accreditation.scheme_id))
    ).all()
    if not accreditations:
        return []
    ids = [a.id for a in accreditations]
    changes = session.exec(
        select(AccreditationChange)
        .where(col(AccreditationChange.accreditation_id).in_(ids))
        .order_by(
            col(AccreditationChange.accreditation_id),
            col(AccreditationChange.at),
            col(AccreditationChange.id),
        )
    ).all()
    history: dict[int, list[tuple[str, datetime]]] = {}
    for change in changes:
        history.setdefault(change.accreditation_id, []).append((change.state, change.at))
    body_ids = sorted({a.issuer_id for a in accreditations})
    bodies = {
        b.id: b
        for b in session.exec(select(CertificationBody).where(col(CertificationBody.id).in_(body_ids)))
    }
    listed: list[ListedBody] = []
    for body_id in body_ids:
        body = bodies[body_id]
        entries = [
            AccreditationEntry(
                a.scheme_id, list(a.levels), a.valid_from, a.valid_until, history.get(a.id or 0, [])
            )
            for a in accreditations
            if a.issuer_id == body_id
        ]
        listed.append(ListedBody(body.did, body.name_en, body.name_ja, _key_records(signers, body), entries))
    return listed


def _key_records(signers: Signers, body: CertificationBody) -> list[KeyRecord]:
    try:
        return sorted(signers.keystore(body.slug).records(), key=lambda r: (r.created, r.kid))
    except KeysError:
        return []  # a body without a readable keystore is listed without keys: nothing it signs verifies


def _content_hash(credential: dict[str, Any]) -> str:
    issuers = credential["credentialSubject"]["issuers"]
    data = json.dumps(issuers, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    return hashlib.sha256(data).hexdigest()


def _issuer_keys(token: str) -> dict[str, list[str]]:
    """The kids each body had in a stored list (to log which bodies' keys changed)."""
    try:
        payload = json.loads(b64url_decode(token.split(".")[1]))
        return {i["id"]: sorted(k["kid"] for k in i["keys"]) for i in payload["credentialSubject"]["issuers"]}
    except (ValueError, KeyError, IndexError, TypeError):
        return {}


def trust_list_content(*, session: Session, signers: Signers, policy: TrustListPolicy, now: datetime) -> str:
    """What the trust list says now (who is listed, their keys and accreditations) as a hash: equal to the stored
    list's `content_hash` when only its dates would change by re-signing it."""
    credential = build_trust_list(
        registry_url=policy.public_url,
        owner_did=registry_did(policy.public_url),
        bodies=_listed_bodies(session, signers),
        version=1,  # not part of the content
        now=now,
        validity=policy.validity,
    )
    return _content_hash(credential)


def publish_trust_list(
    *,
    session: Session,
    signers: Signers,
    policy: TrustListPolicy,
    now: datetime,
    force: bool = False,
    actor: str = "registry",
) -> tuple[TrustListRecord, bool]:
    """Re-sign the trust list inside the caller's write transaction when its content changed, when it is past
    half its validity, or when `force`; returns the row and whether it was re-signed.

    A change of a body's keys found here (not through an accreditation decision) is logged as `keys_changed`.
    """
    row = _lock(session)
    bodies = _listed_bodies(session, signers)
    version = (row.version if row else 0) + 1
    credential = build_trust_list(
        registry_url=policy.public_url,
        owner_did=registry_did(policy.public_url),
        bodies=bodies,
        version=version,
        now=now,
        validity=policy.validity,
    )
    content = _content_hash(credential)
    if (
        row is not None
        and not force
        and row.content_hash == content
        and now < row.issued_at + policy.refresh_after
    ):
        return row, False
    if row is not None and row.content_hash == content:
        version = row.version  # fresh dates only: the same list, re-signed
        credential["credentialSubject"]["version"] = version
    kid, key = signers.registry_signing_key()
    token = sign_credential(credential, key=key, kid=f"{registry_did(policy.public_url)}#{kid}", now=now)
    if row is not None and row.content_hash != content:
        _log_key_changes(session, before=_issuer_keys(row.token), after=credential, now=now, actor=actor)
    if row is None:
        row = TrustListRecord(
            id=1, version=version, token="", etag="", content_hash="", issued_at=now, valid_until=now
        )
    row.version, row.token, row.etag, row.content_hash = version, token, strong_etag(token), content
    row.issued_at = now.replace(microsecond=0)
    row.valid_until = row.issued_at + policy.validity
    session.add(row)
    session.flush()
    return row, True


def _log_key_changes(
    session: Session, *, before: dict[str, list[str]], after: dict[str, Any], now: datetime, actor: str
) -> None:
    dids = [i["id"] for i in after["credentialSubject"]["issuers"]]
    bodies = {
        b.did: b for b in session.exec(select(CertificationBody).where(col(CertificationBody.did).in_(dids)))
    }
    for entry in after["credentialSubject"]["issuers"]:
        kids = sorted(k["kid"] for k in entry["keys"])
        if entry["id"] in before and before[entry["id"]] != kids and entry["id"] in bodies:
            append_event(
                session=session,
                at=now,
                actor=actor,
                body=bodies[entry["id"]],
                action=Action.KEYS_CHANGED,
                payload={"keys": kids, "trustListVersion": after["credentialSubject"]["version"]},
            )


def accredit(
    *,
    session: Session,
    signers: Signers,
    policy: TrustListPolicy,
    body: CertificationBody,
    scheme_id: str,
    levels: Sequence[str] | None,
    valid_from: datetime | None,
    valid_until: datetime | None,
    reason: str,
    actor: str,
    now: datetime,
) -> Accreditation:
    """Accredit `body` for `levels` (default: all) of `scheme_id`; re-accrediting updates the levels and period
    and makes a suspended accreditation active again.

    The start: `valid_from` when given, otherwise now for a new accreditation, and the accreditation's own
    start when it is re-accredited (lifting a suspension, changing levels or the end): a suspension interrupts
    an accreditation, it does not begin a new one, so what the body issued before it stays recognised. After a
    withdrawal the accreditation starts afresh (from now by default): what the body issued before the
    withdrawal stays unrecognised (the history keeps the withdrawal, and verifiers read it).
    """
    _lock(session)
    if session.get(SchemeRow, scheme_id) is None:
        raise NotFoundError("scheme", scheme_id)
    known = [
        level.id
        for level in session.exec(
            select(Level).where(Level.scheme_id == scheme_id).order_by(col(Level.position))
        )
    ]
    chosen = list(dict.fromkeys(levels)) if levels else known
    unknown = [level for level in chosen if level not in known]
    if unknown:
        raise InvalidRequestError(
            f"scheme {scheme_id} has no level {', '.join(unknown)} (it has {', '.join(known)})",
            field="levels",
        )
    assert body.id is not None  # noqa: S101
    row = session.exec(
        select(Accreditation).where(Accreditation.issuer_id == body.id, Accreditation.scheme_id == scheme_id)
    ).first()
    first = row is None
    if valid_from is not None:
        start = valid_from
    elif row is not None and row.state != BodyState.WITHDRAWN:
        start = row.valid_from
    else:
        start = now
    if valid_until is not None and valid_until <= start:
        raise InvalidRequestError("the accreditation must end after it starts", field="valid_until")
    if row is None:
        row = Accreditation(
            issuer_id=body.id,
            scheme_id=scheme_id,
            levels=chosen,
            valid_from=start,
            valid_until=valid_until,
            state=BodyState.ACTIVE,
            created_at=now,
            updated_at=now,
        )
    else:
        row.levels, row.valid_from, row.valid_until = chosen, start, valid_until
        row.state, row.updated_at = BodyState.ACTIVE, now
    session.add(row)
    session.flush()
    # A first accreditation is active from its start (which may be earlier than the decision is recorded);
    # a later one from the decision (the history is append-only, in time order).
    since = min(start, now) if first else now
    return _decide(
        session=session,
        signers=signers,
        policy=policy,
        body=body,
        rows=[row],
        state=BodyState.ACTIVE,
        reason=reason,
        actor=actor,
        now=now,
        since=since,
    )[0]


def change_accreditation(
    *,
    session: Session,
    signers: Signers,
    policy: TrustListPolicy,
    body: CertificationBody,
    state: BodyState,
    reason: str,
    actor: str,
    now: datetime,
) -> list[Accreditation]:
    """Suspend or withdraw every accreditation of `body`. Withdrawal is final (accredit again to restore)."""
    if state not in (BodyState.SUSPENDED, BodyState.WITHDRAWN):
        raise InvalidRequestError(f"use accredit to make an accreditation {state}", field="state")
    _lock(session)
    rows = list(session.exec(select(Accreditation).where(Accreditation.issuer_id == body.id)))
    if not rows:
        raise ConflictError(f"certification body {body.slug} is not accredited")
    if all(row.state == state for row in rows):
        raise ConflictError(f"the accreditation of {body.slug} is already {state}")
    if state is BodyState.SUSPENDED and all(row.state == BodyState.WITHDRAWN for row in rows):
        raise ConflictError(f"the accreditation of {body.slug} is withdrawn: it cannot be suspended")
    changing = [row for row in rows if row.state not in {state, BodyState.WITHDRAWN}]
    for row in changing:
        row.state, row.updated_at = state, now
        session.add(row)
    return _decide(
        session=session,
        signers=signers,
        policy=policy,
        body=body,
        rows=changing,
        state=state,
        reason=reason,
        actor=actor,
        now=now,
        since=now,
    )


def _decide(
    *,
    session: Session,
    signers: Signers,
    policy: TrustListPolicy,
    body: CertificationBody,
    rows: list[Accreditation],
    state: BodyState,
    reason: str,
    actor: str,
    now: datetime,
    since: datetime,
) -> list[Accreditation]:
    """History rows, the body's state, the re-signed list, then the event (the chain head is locked last)."""
    if not reason.strip():
        raise InvalidRequestError("a reason is required", field="reason")
    for row in rows:
        assert row.id is not None  # noqa: S101
        session.add(
            AccreditationChange(accreditation_id=row.id, state=state, at=since, actor=actor, reason=reason)
        )
    body.state, body.updated_at = state, now
    session.add(body)
    session.flush()
    record, _ = publish_trust_list(session=session, signers=signers, policy=policy, now=now, force=True)
    append_event(
        session=session,
        at=now,
        actor=actor,
        body=body,
        action=_ACTIONS[state],
        reason=reason,
        payload={
            "accreditations": [
                {
                    "scheme": row.scheme_id,
                    "levels": list(row.levels),
                    "validFrom": format_date_time_stamp(row.valid_from),
                    "validUntil": None
                    if row.valid_until is None
                    else format_date_time_stamp(row.valid_until),
                    "status": row.state,
                }
                for row in rows
            ],
            "trustListVersion": record.version,
        },
    )
    return rows


def accredited_bodies(*, session: Session) -> list[CertificationBody]:
    """The bodies on the trust list (any accreditation state)."""
    ids = select(Accreditation.issuer_id).distinct()
    return list(
        session.exec(
            select(CertificationBody)
            .where(col(CertificationBody.id).in_(ids))
            .order_by(col(CertificationBody.id))
        )
    )
