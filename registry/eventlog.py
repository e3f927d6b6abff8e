"""The append-only event log: each event is hashed together with its predecessor's hash.

hash(n) = SHA-256(canonical JSON of event n, which includes hash(n-1)); the first event chains to 64 zeros.
Changing, inserting or deleting any event breaks every later link, and the chain head (the last seq and hash,
kept in its own row) catches a truncated tail. The same canonical form will feed the transparency log
(Merkle tree, signed checkpoints) planned in DESIGN.md.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlmodel import Session, col, select

from keys import format_date_time_stamp
from registry.models import GENESIS_HASH, Action, CertificationBody, ChainHead, Event


def canonical_json(value: object) -> bytes:
    """Sorted keys, no insignificant whitespace, UTF-8: the RFC 8785 (JCS) form for the values we log
    (strings, integers, booleans, null, objects and arrays; never floats)."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def event_document(event: Event, issuer_did: str) -> dict[str, Any]:
    """What an event's hash covers: everything it says, the issuer by DID, and the previous hash."""
    return {
        "seq": event.seq,
        "at": format_date_time_stamp(event.at),
        "actor": event.actor,
        "issuer": issuer_did,
        "credential": None if event.credential_id is None else str(event.credential_id),
        "action": event.action,
        "reasonCode": event.reason_code,
        "reason": event.reason,
        "payload": event.payload,
        "prevHash": event.prev_hash,
    }


def event_hash(event: Event, issuer_did: str) -> str:
    """SHA-256 (hex) of the event's canonical document."""
    return hashlib.sha256(canonical_json(event_document(event, issuer_did))).hexdigest()


def row_hash(row: Mapping[str, Any], issuer_did: str) -> str:
    """`event_hash` of the event that `row` (the column values of an `events` row) would load as.

    For writers that insert rows without building Event objects (registry.lifecycle); the document is
    `event_document`'s, member for member: `verify_chain` recomputes every hash with `event_hash`.
    """
    credential_id = row["credential_id"]
    document = {
        "seq": row["seq"],
        "at": format_date_time_stamp(row["at"]),
        "actor": row["actor"],
        "issuer": issuer_did,
        "credential": None if credential_id is None else str(credential_id),
        "action": row["action"],
        "reasonCode": row["reason_code"],
        "reason": row["reason"],
        "payload": row["payload"],
        "prevHash": row["prev_hash"],
    }
    return hashlib.sha256(canonical_json(document)).hexdigest()


def append_event(
    *,
    session: Session,
    at: datetime,
    actor: str,
    body: CertificationBody,
    action: Action,
    credential_id: uuid.UUID | None = None,
    reason_code: str | None = None,
    reason: str | None = None,
    payload: dict[str, Any] | None = None,
) -> Event:
    """Append one event inside the caller's transaction.

    Locks the chain head row, so concurrent transactions append one after the other and the chain never
    forks; take it last, after every other lock, to hold it briefly.
    """
    head = session.exec(select(ChainHead).where(ChainHead.id == 1).with_for_update(key_share=True)).one()
    assert body.id is not None  # noqa: S101  # a persisted body
    event = Event(
        seq=head.seq + 1,
        at=at,
        actor=actor,
        issuer_id=body.id,
        credential_id=credential_id,
        action=action.value,
        reason_code=reason_code,
        reason=reason,
        payload=payload or {},
        prev_hash=head.hash,
        hash="",
    )
    event.hash = event_hash(event, body.did)
    head.seq, head.hash = event.seq, event.hash
    session.add(event)
    session.add(head)
    return event


@dataclass(frozen=True, slots=True)
class ChainReport:
    """The outcome of checking the chain: `ok`, how many events were checked, and the first problem."""

    ok: bool
    checked: int
    problem: str | None = None
    seq: int | None = None


def verify_chain(*, session: Session, batch: int = 1000) -> ChainReport:
    """Recompute every hash in order and check each link, the numbering and the chain head."""
    dids = {body.id: body.did for body in session.exec(select(CertificationBody))}
    expected_prev, expected_seq, checked = GENESIS_HASH, 1, 0
    # yield_per streams (a server-side cursor on PostgreSQL): close it even when stopping early.
    with session.exec(select(Event).order_by(col(Event.seq)).execution_options(yield_per=batch)) as events:
        for event in events:
            if event.seq != expected_seq:
                return ChainReport(False, checked, f"event {expected_seq} is missing", event.seq)
            if event.prev_hash != expected_prev:
                return ChainReport(False, checked, "prev_hash does not match the previous event", event.seq)
            did = dids.get(event.issuer_id)
            if did is None or event_hash(event, did) != event.hash:
                return ChainReport(False, checked, "the event does not match its hash", event.seq)
            expected_prev, expected_seq, checked = event.hash, expected_seq + 1, checked + 1
    head = session.get(ChainHead, 1)
    if head is None or head.seq != checked or head.hash != expected_prev:
        return ChainReport(False, checked, "the chain head does not match the last event", checked or None)
    return ChainReport(True, checked)
