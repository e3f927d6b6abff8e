"""Status lists: random, never reused indices, and bit changes re-signed in the changing transaction.

Bitstring Status List v1.0 §6.1 asks for random indices (their order must not reveal issuance order) in lists of
at least 131,072 entries. Each certification body has one current list per purpose; a new one starts when it
fills. A list row is locked (`FOR NO KEY UPDATE` on PostgreSQL, the database write lock on SQLite) by whoever
allocates in it or flips one of its bits, so no concurrent change is lost, and the signed list credential is
regenerated before commit, so `GET /status/{id}` serves exactly what was committed.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import update
from sqlmodel import Session, col, select

from issuer import Issuer
from registry.identity import status_list_url
from registry.models import CertificationBody, StatusAllocation, StatusList, StatusPurpose
from verifier import Bitstring

RandBelow = Callable[[int], int]
# Random probes before a crowded list is searched exhaustively; at 90 % full, 32 probes all miss with
# probability 0.9**32 ≈ 3 %, so the exhaustive search is for the last few percent of a list only.
MAX_RANDOM_PROBES = 32


@dataclass(frozen=True, slots=True)
class ListPolicy:
    """Deployment constants for status lists."""

    public_url: str
    size: int
    ttl: timedelta
    randbelow: RandBelow = secrets.randbelow


def strong_etag(token: str) -> str:
    """A strong ETag (RFC 9110 §8.8.3) of the served bytes."""
    return '"' + hashlib.sha256(token.encode("ascii")).hexdigest()[:40] + '"'


def lock_list(session: Session, list_id: int) -> StatusList:
    """The list row, locked until the transaction ends."""
    return session.exec(
        select(StatusList).where(StatusList.id == list_id).with_for_update(key_share=True)
    ).one()


def _sign(lst: StatusList, bits: Bitstring, *, policy: ListPolicy, signer: Issuer, now: datetime) -> None:
    assert lst.id is not None  # noqa: S101  # flushed before signing: its URL names its id
    lst.bits = bytes(bits)
    lst.token = signer.sign_status_list(
        list_url=status_list_url(policy.public_url, lst.id),
        purpose=lst.purpose,
        bits=bits,
        ttl=policy.ttl,
    )
    lst.etag = strong_etag(lst.token)
    lst.updated_at = now


def _current_list(session: Session, issuer_id: int, purpose: StatusPurpose) -> tuple[int, int] | None:
    """The id and size of the body's newest list for `purpose` with room left, locked.

    Only the small columns: allocation never needs the bits or the signed token.
    """
    row = session.exec(
        select(StatusList.id, StatusList.size)
        .where(
            StatusList.issuer_id == issuer_id,
            StatusList.purpose == purpose.value,
            col(StatusList.allocated) < col(StatusList.size),
        )
        .order_by(col(StatusList.id).desc())
        .limit(1)
        .with_for_update(key_share=True)
    ).first()
    if row is None or row[0] is None:
        return None
    return row[0], row[1]


def new_list(
    session: Session,
    *,
    body: CertificationBody,
    purpose: StatusPurpose,
    policy: ListPolicy,
    signer: Issuer,
    now: datetime,
) -> StatusList:
    """Start an empty list and sign it, so that its URL answers as soon as a credential names it."""
    assert body.id is not None  # noqa: S101  # a persisted body
    bits = Bitstring(policy.size)
    lst = StatusList(
        issuer_id=body.id,
        purpose=purpose.value,
        size=policy.size,
        bits=bytes(bits),
        token="",
        etag="",
        created_at=now,
        updated_at=now,
    )
    session.add(lst)
    session.flush()  # assigns the id the list's URL is built from
    _sign(lst, bits, policy=policy, signer=signer, now=now)
    return lst


def _is_taken(session: Session, list_id: int, index: int) -> bool:
    found = session.exec(
        select(StatusAllocation.status_index).where(
            StatusAllocation.list_id == list_id, StatusAllocation.status_index == index
        )
    ).first()
    return found is not None


def _free_index(session: Session, list_id: int, size: int, randbelow: RandBelow) -> int:
    for _ in range(MAX_RANDOM_PROBES):
        index = randbelow(size)
        if not _is_taken(session, list_id, index):
            return index
    # A crowded list: choose uniformly among the free indices that remain.
    taken = set(
        session.exec(select(StatusAllocation.status_index).where(StatusAllocation.list_id == list_id))
    )
    free = [index for index in range(size) if index not in taken]
    return free[randbelow(len(free))]


def allocate(
    session: Session,
    *,
    body: CertificationBody,
    purpose: StatusPurpose,
    policy: ListPolicy,
    signer: Issuer,
    now: datetime,
) -> tuple[int, int]:
    """A random unused index in the body's current list for `purpose` (a new list when it is full), as
    (list id, index). The caller records the StatusAllocation row with the credential that takes the index.
    """
    assert body.id is not None  # noqa: S101
    current = _current_list(session, body.id, purpose)
    if current is None:
        lst = new_list(session, body=body, purpose=purpose, policy=policy, signer=signer, now=now)
        assert lst.id is not None  # noqa: S101
        current = (lst.id, lst.size)
    list_id, size = current
    index = _free_index(session, list_id, size, policy.randbelow)
    session.exec(
        update(StatusList).where(col(StatusList.id) == list_id).values(allocated=StatusList.allocated + 1)
    )
    return list_id, index


def set_bit(
    session: Session,
    *,
    list_id: int,
    index: int,
    value: bool,
    policy: ListPolicy,
    signer: Issuer,
    now: datetime,
) -> StatusList:
    """Set or clear one entry, bump the list's version and re-sign it, all inside the caller's transaction."""
    lst = lock_list(session, list_id)
    bits = Bitstring.from_bytes(lst.bits)
    bits.set(index, value)
    lst.version += 1
    _sign(lst, bits, policy=policy, signer=signer, now=now)
    session.add(lst)
    return lst
