"""After a restore: fence off what the restored database no longer knows it gave out (`aigov db after-restore`).

A restored backup loses everything written after it. For a status registry the dangerous part is not the lost
rows but the credentials they described, which exist (their holders have them):
- a credential issued after the backup holds an index the restored registry thinks is free; it would give that
  index to a new credential, and the lost one would then take the new one's status, and it could never be
  revoked, since the registry does not know it;
- it may sit in a list created after the backup, whose number (and URL) the restored registry would give
  to its next new list.

`fence_restored` closes every list the database holds to new indices, marks every index of a revocation list
that no known credential holds as revoked (so a credential the restore lost verifies as revoked, never as
valid: it must be re-issued), re-signs those lists, and starts each body's next lists numbered `skip` past the
highest list it knows, so that none takes the URL of a lost one (those answer 404: status unknown). One
`restored` event per body records it, where the event log forked. Every API token is revoked (unless asked
not to): one revoked after the backup would work again. All in one transaction.

What no fence can bring back: revocations and suspensions made after the backup, and accreditation decisions.
They must be made again.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Session, col, select

from registry import statuslists
from registry.db import write_transaction
from registry.errors import RegistryError, SigningUnavailableError
from registry.eventlog import append_event
from registry.identity import issuer_did
from registry.models import Action, ApiToken, CertificationBody, StatusList, StatusPurpose
from registry.signers import Signers
from registry.statuslists import ListPolicy

# How many list numbers are left unused after the highest the restored database holds: a registry would have to
# start this many lists (≥ 131,072 entries each) between the backup and the restore to run past it.
DEFAULT_SKIP = 10_000


class WrongPublicUrlError(RegistryError):
    """The settings name another registry than the database's bodies do."""


class NothingToAnchorError(RegistryError):
    """On SQLite, a fence needs at least one body that can sign to number new lists past the lost ones."""


@dataclass(frozen=True, slots=True)
class FenceReport:
    """What `fence_restored` did: lists closed, indices marked revoked, bodies fenced (each with new lists and a
    `restored` event), and the first list number it started."""

    closed: int
    revoked: int
    bodies: int
    first_new_list: int
    tokens_revoked: int


def fence_restored(
    *,
    session: Session,
    signers: Signers,
    policy: ListPolicy,
    now: datetime,
    skip: int = DEFAULT_SKIP,
    revoke_tokens: bool = True,
) -> FenceReport:
    """Fence the restored database of `session` (see the module doc), in one write transaction. With
    `revoke_tokens`, every API token still active is revoked too: one revoked after the backup (a leaked one,
    say) would otherwise work again, and the database cannot tell which."""
    if skip < 1:
        raise ValueError("skip must be at least 1")
    with write_transaction(session):
        connection = session.connection()
        lists = session.exec(select(StatusList.id, StatusList.issuer_id).order_by(col(StatusList.id))).all()
        by_body: dict[int, list[int]] = defaultdict(list)
        highest = 0
        for list_id, issuer_id in lists:
            assert list_id is not None  # noqa: S101  # stored rows
            by_body[issuer_id].append(list_id)
            highest = max(highest, list_id)
        postgres = connection.dialect.name == "postgresql"
        if postgres:  # lists started after the backup were numbered from the sequence, which may be ahead
            highest = max(highest, _sequence_value(connection))
        next_id = highest + skip
        first_new, revoked = next_id, 0
        fenced = _bodies(session, signers, by_body)
        if not fenced and not postgres:
            raise NothingToAnchorError(
                "no status list, and no certification body that can sign: nothing can hold new list numbers "
                "past those started after the backup (SQLite numbers a new list from the highest it holds). "
                "Create the registry's certification bodies (`aigov admin create-issuer`: a body's keystore "
                "from before the restore is used again) and run this again"
            )
        for body, ids in fenced:
            if body.did != issuer_did(policy.public_url, body.slug):
                raise WrongPublicUrlError(
                    f"the public URL is {policy.public_url}, but {body.slug} is {body.did}: its lists would be "
                    "signed under the wrong URLs; set AIGOV_PUBLIC_URL to the registry's own"
                )
            signer = signers.for_body(session, body)
            for list_id in ids:
                revoked += statuslists.close(
                    connection, list_id=list_id, policy=policy, signer=signer, now=now
                )
            started = []
            for purpose in StatusPurpose:
                statuslists.new_list(
                    connection,
                    body=body,
                    purpose=purpose,
                    policy=policy,
                    signer=signer,
                    now=now,
                    list_id=next_id,
                )
                started.append(next_id)
                next_id += 1
            append_event(
                session=session,
                at=now,
                actor="admin-cli",
                body=body,
                action=Action.RESTORED,
                reason="restored from a backup: lists closed, indices no known credential holds marked revoked",
                payload={"closedLists": ids, "newLists": started},
            )
        tokens = 0
        if revoke_tokens:
            revoked_tokens = connection.execute(
                sa.update(ApiToken).where(col(ApiToken.revoked_at).is_(None)).values(revoked_at=now)
            )
            tokens = int(revoked_tokens.rowcount)
        if postgres:  # an explicit id does not move the sequence: move it
            connection.execute(
                sa.text("SELECT setval(CAST(:sequence AS regclass), :last)"),
                {"sequence": _sequence(connection), "last": next_id - 1},
            )
    return FenceReport(
        closed=len(lists),
        revoked=revoked,
        bodies=len(fenced),
        first_new_list=first_new,
        tokens_revoked=tokens,
    )


def _sequence(connection: sa.Connection) -> str:
    name = connection.execute(sa.text("SELECT pg_get_serial_sequence('status_lists', 'id')")).scalar_one()
    if name is None:  # pragma: no cover - the migrations make the column serial
        raise RuntimeError("status_lists.id has no sequence")
    return str(name)


def _sequence_value(connection: sa.Connection) -> int:
    """The last number the status list sequence gave (0 if none): lists created in transactions that rolled
    back, and lists created after the backup, may have taken numbers above the highest stored."""
    sequence = _sequence(connection)
    last, called = connection.execute(
        sa.text(f"SELECT last_value, is_called FROM {sequence}")  # noqa: S608 - a name PostgreSQL gave
    ).one()
    return int(last) if called else 0


def _bodies(
    session: Session, signers: Signers, by_body: dict[int, list[int]]
) -> list[tuple[CertificationBody, list[int]]]:
    """The bodies whose lists to close, with them. When no body has a list (a backup made before the first
    issuance), every body that can sign gets new ones all the same: lists started after the backup were
    numbered from 1, and on SQLite only a row numbered past them keeps the next list from reusing a number."""
    bodies = session.exec(select(CertificationBody).order_by(col(CertificationBody.id))).all()
    if by_body:
        return [(body, by_body[body.id]) for body in bodies if body.id in by_body]
    able: list[tuple[CertificationBody, list[int]]] = []
    for body in bodies:
        try:
            signers.for_body(session, body)
        except SigningUnavailableError:
            continue
        able.append((body, []))
    return able
