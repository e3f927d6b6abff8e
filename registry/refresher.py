"""Status lists re-signed before they expire, without making a reader wait or fail.

Every signed status list carries a `validUntil` (`Settings.status_validity_seconds`, three days by default), so
a copy of it cannot be relied on forever: a certificate revoked today must not keep looking valid to whoever
holds last month's list, online or offline. The registry re-signs a list whenever a bit in it changes, which
may be never; so a list past half its validity is re-signed, bits unchanged, when a reader finds it so
(`GET /status/{id}`, the bundle, the /verify page), as the trust list is.

A reader is never held up by it: a list that is still valid is served as it is while one background thread per
process re-signs it (the next read gets the new one). Only a list that has already expired (or was signed
before lists expired) is re-signed before it is served, and the bundle, whose copies must last, re-signs what
it holds first. A re-sign that fails (a body without a usable key, a full disk, a database that is down) is
logged, the stored list is served, and the list is not tried again for one `ttl`. Readers or processes that
find a list due at the same moment do not sign it twice: it is checked again once locked
(registry.statuslists.refresh).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session, col, or_, select

from registry import statuslists
from registry.db import write_transaction
from registry.errors import SigningUnavailableError
from registry.lifecycle import Context
from registry.models import CertificationBody, StatusList

logger = logging.getLogger(__name__)


class Refresher:
    """Re-signs due status lists for one process: in the background, or at once when a reader needs it."""

    def __init__(self, engine: sa.Engine, ctx: Context) -> None:
        self._engine = engine
        self._ctx = ctx
        self._background = ThreadPoolExecutor(max_workers=1, thread_name_prefix="aigov-status-refresh")
        self._pending: set[int] = set()
        self._retry_after: dict[int, datetime] = {}  # lists whose last attempt failed
        self._lock = threading.Lock()

    def may_try(self, list_id: int) -> bool:
        """Whether a re-sign of the list may be attempted now (none failed within the last `ttl`)."""
        retry = self._retry_after.get(list_id)
        return retry is None or self._ctx.clock() >= retry

    def refresh_soon(self, list_id: int, issuer_id: int) -> None:
        """Re-sign the list on the background thread, unless that is already pending or may not be tried yet.
        Never blocks: safe on the event loop."""
        with self._lock:
            if list_id in self._pending or not self.may_try(list_id):
                return
            self._pending.add(list_id)
        try:
            self._background.submit(self._in_background, list_id, issuer_id)
        except RuntimeError:  # shutting down: the next process re-signs it
            with self._lock:
                self._pending.discard(list_id)

    def refresh_now(self, list_id: int, issuer_id: int) -> bool:
        """Re-sign the list in this thread (its own session and transaction) if it is due and may be tried;
        whether it was attempted and succeeded."""
        return self.may_try(list_id) and self._attempt(list_id, issuer_id)

    def catch_up(self, session: Session, list_ids: Sequence[int] | None = None, *, wait: bool) -> None:
        """Re-sign every due list (or each of `list_ids`): all in this thread with `wait`, else only the expired
        ones, the others in the background."""
        now = self._ctx.clock()
        query = select(StatusList.id, StatusList.issuer_id, StatusList.valid_until).where(
            or_(
                col(StatusList.valid_until).is_(None),
                col(StatusList.valid_until) <= self._ctx.policy.refresh_before(now),
            )
        )
        if list_ids is not None:
            query = query.where(col(StatusList.id).in_(list_ids))
        due = session.exec(query.order_by(col(StatusList.id))).all()
        session.rollback()  # end the read: the re-signs below commit, and the caller reads what they wrote
        for list_id, issuer_id, valid_until in due:
            assert list_id is not None  # noqa: S101  # a stored row
            if wait or valid_until is None or valid_until <= now:
                self.refresh_now(list_id, issuer_id)
            else:
                self.refresh_soon(list_id, issuer_id)

    def drain(self) -> None:
        """Wait until every re-sign scheduled so far has ended (one background thread: they run in order)."""
        self._background.submit(lambda: None).result()

    def close(self) -> None:
        """At shutdown: the re-sign under way finishes (its transaction commits or rolls back), queued ones are
        dropped (a list still due is re-signed by the next reader)."""
        self._background.shutdown(wait=True, cancel_futures=True)

    def _failed(self, list_id: int) -> bool:
        with self._lock:
            self._retry_after[list_id] = self._ctx.clock() + self._ctx.policy.ttl
        return False

    def _in_background(self, list_id: int, issuer_id: int) -> None:
        try:
            self._attempt(list_id, issuer_id)
        finally:
            with self._lock:
                self._pending.discard(list_id)

    def _attempt(self, list_id: int, issuer_id: int) -> bool:
        ctx = self._ctx
        try:
            with Session(self._engine) as session, write_transaction(session):
                body = session.get(CertificationBody, issuer_id)
                assert body is not None  # noqa: S101  # a foreign key
                statuslists.refresh(
                    session.connection(),
                    list_id=list_id,
                    policy=ctx.policy,
                    signer=ctx.signers.for_body(session, body),
                    clock=ctx.clock,
                )
        except (SigningUnavailableError, SQLAlchemyError) as e:
            logger.warning("status list %s was not re-signed (it expires if this goes on): %s", list_id, e)
            return self._failed(list_id)
        except Exception:  # a bug: logged with its trace, and not retried on every request either
            logger.exception("status list %s was not re-signed", list_id)
            return self._failed(list_id)
        with self._lock:
            self._retry_after.pop(list_id, None)
        return True
