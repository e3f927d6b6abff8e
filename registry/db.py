"""Engines and transactions, one access pattern per backend: sync sessions, used from sync endpoints.

SQLite (the zero set-up default) runs in WAL mode with foreign keys on and a busy timeout; its write
transactions start with `BEGIN IMMEDIATE`, so writers queue for the database lock up front instead of failing
with "database is locked" when a read transaction tries to become a write. PostgreSQL runs at READ COMMITTED
and writers lock the rows they change (`SELECT ... FOR NO KEY UPDATE`); see registry.lifecycle.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import URL, Engine, make_url
from sqlalchemy.pool import ConnectionPoolEntry
from sqlmodel import Session

# An execution option the SQLite begin hook reads: this transaction will write.
_WRITE = "aigov_write"
# Long enough to queue behind a burst of writers; a request that waits longer has a bigger problem.
SQLITE_BUSY_TIMEOUT_MS = 30_000


def make_engine(url: str | URL, *, pool_size: int = 10, max_overflow: int = 20) -> Engine:
    """An engine for `url`, with the SQLite connection settings applied on every new connection."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return sa.create_engine(
            parsed, pool_size=pool_size, max_overflow=max_overflow, pool_pre_ping=True, future=True
        )
    if parsed.database and parsed.database != ":memory:":
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    engine = sa.create_engine(
        parsed,
        # Sync endpoints run in a thread pool: a connection is used by one thread at a time, not always the
        # same one.
        connect_args={"check_same_thread": False},
        pool_size=pool_size,
        max_overflow=max_overflow,
    )
    sa.event.listen(engine, "connect", _sqlite_connect)
    sa.event.listen(engine, "begin", _sqlite_begin)
    return engine


def _sqlite_connect(dbapi_connection: Any, _record: ConnectionPoolEntry) -> None:
    # Take BEGIN away from pysqlite so that _sqlite_begin decides DEFERRED or IMMEDIATE.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA journal_mode=WAL")  # readers never block the writer, nor it them
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    finally:
        cursor.close()


def _sqlite_begin(connection: sa.Connection) -> None:
    immediate = connection.get_execution_options().get(_WRITE, False)
    connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


@contextmanager
def write_transaction(session: Session) -> Iterator[Session]:
    """One write transaction on `session`: committed on success, rolled back on any exception.

    On SQLite it takes the database write lock at BEGIN, which serializes writers; on PostgreSQL the callers
    lock the rows they will change.
    """
    with session.begin():
        session.connection(execution_options={_WRITE: True})
        yield session
