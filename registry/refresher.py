"""Status lists re-signed before they expire.

Every signed status list carries a `validUntil` (`Settings.status_validity_seconds`, three days by default), so
a copy of it cannot be relied on forever: a certificate revoked today must not keep looking valid to whoever
holds last month's list, online or offline. The registry re-signs a list whenever a bit in it changes, which
may be never; so a list past half its validity is re-signed, bits unchanged, by the read that finds it so
(`GET /status/{id}`, the bundle, the /verify page), as the trust list is. What is served always has half its validity left, at
the cost of one signature per list every day and a half. Readers that find it at the same moment do not
re-sign it twice: the list is checked again once locked (registry.statuslists.refresh).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from sqlmodel import Session, col, or_, select

from registry import statuslists
from registry.db import write_transaction
from registry.errors import SigningUnavailableError
from registry.lifecycle import Context
from registry.models import CertificationBody, StatusList

logger = logging.getLogger(__name__)


def refresh_list(session: Session, ctx: Context, list_id: int, issuer_id: int) -> bool:
    """Re-sign list `list_id` of body `issuer_id` in a write transaction of its own if it is due; whether it
    now holds a current signature. False when the body cannot sign (no usable key): its lists then expire,
    and verifiers say the status is unknown rather than trust an old list (logged)."""
    session.rollback()  # end any read: on SQLite the write takes the database lock at BEGIN
    try:
        with write_transaction(session):
            body = session.get(CertificationBody, issuer_id)
            assert body is not None  # noqa: S101  # a foreign key
            statuslists.refresh(
                session.connection(),
                list_id=list_id,
                policy=ctx.policy,
                signer=ctx.signers.for_body(session, body),
                now=ctx.clock(),
            )
    except SigningUnavailableError as e:
        logger.warning("status list %s is not re-signed and will expire: %s", list_id, e)
        return False
    return True


def refresh_due_lists(session: Session, ctx: Context, list_ids: Sequence[int] | None = None) -> None:
    """Re-sign every list (or each of `list_ids`) past half its validity or signed without one, each in its own
    transaction: for readers of the stored tokens (the bundle, the /verify page)."""
    threshold = ctx.policy.refresh_before(ctx.clock())
    query = select(StatusList.id, StatusList.issuer_id).where(
        or_(col(StatusList.valid_until).is_(None), col(StatusList.valid_until) <= threshold)
    )
    if list_ids is not None:
        query = query.where(col(StatusList.id).in_(list_ids))
    for list_id, issuer_id in session.exec(query.order_by(col(StatusList.id))).all():
        assert list_id is not None  # noqa: S101  # a stored row
        refresh_list(session, ctx, list_id, issuer_id)
