"""Engines and transactions: sync sessions, used from sync endpoints in the threadpool; and one connection per
process for the hot public reads answered on the event loop: on SQLite a read-only one (`LoopReader`), on
PostgreSQL an asynchronous one that reads the status lists' versions (`AsyncPgReader`).

SQLite (the zero set-up default) runs in WAL mode with foreign keys on and a busy timeout; its write
transactions start with `BEGIN IMMEDIATE`, so writers queue for the database lock up front instead of failing
with "database is locked" when a read transaction tries to become a write. PostgreSQL runs at READ COMMITTED
and writers lock the rows they change (`SELECT ... FOR NO KEY UPDATE`); see registry.lifecycle.

Pool sizes: sync endpoints run on anyio's threadpool (40 threads), and a request holds at most one
connection, so the pool may grow to 40 (10 kept, 30 more on demand): a thread never waits for a connection
the way one waited 30 s here when an endpoint blocked on a pool smaller than the threadpool. On PostgreSQL
that is up to 40 connections per worker process: keep `workers x 40` under the server's `max_connections`
(100 by default), or put a pooler in front.

Why the event loop may read SQLite directly, against the rule "never block inside async def": the rule is
about a call that can wait on something else (a pool shared with threadpool endpoints, a lock, the network).
A WAL-mode read of a few rows by primary key waits on none of them: readers never wait for the writer, the
connection is this process's own (never from the pool), and its busy timeout is zero, so if SQLite ever
reports the database busy the request is handed to the threadpool path instead of waiting. What remains is
the CPU time of the query, tens of microseconds, less than what the threadpool hop it saves costs.

PostgreSQL is a network round trip away, so its reader is asynchronous (psycopg's AsyncConnection): the event
loop serves other requests while a read is in flight. Requests that arrive meanwhile share the next read
instead of queueing one each: one connection then keeps up with any request rate, and every request is still
answered from a read sent after it arrived, so it sees every write committed before it.
"""

from __future__ import annotations

import asyncio
import re
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import unquote, urlsplit

import psycopg
import sqlalchemy as sa
from sqlalchemy.engine import URL, Engine, make_url
from sqlalchemy.pool import ConnectionPoolEntry
from sqlmodel import Session

T = TypeVar("T")
# An execution option the SQLite begin hook reads: this transaction will write.
_WRITE = "aigov_write"
# Long enough to queue behind a burst of writers; a request that waits longer has a bigger problem.
SQLITE_BUSY_TIMEOUT_MS = 30_000
WAL_AUTOCHECKPOINT_PAGES = 10_000


class MissingDatabaseError(Exception):
    """An SQLite URL names a database file that does not exist (`.path`)."""

    def __init__(self, path: Path) -> None:
        super().__init__(f"no SQLite database at {path}: create it with `aigov db upgrade`")
        self.path = path


def require_database(url: str | URL) -> None:
    """MissingDatabaseError if `url` names an SQLite file that does not exist; nothing for any other database.

    SQLite creates the file it is asked to open, so a command that only reads or adds rows would leave an
    empty database behind a mistyped URL, then fail on the missing schema. Only `aigov db upgrade` (the
    migrations) creates a database; everything else calls this before its first connection.
    """
    parsed = make_url(url)
    database = parsed.database
    if parsed.get_backend_name() != "sqlite" or not database or database == ":memory:":
        return
    if str(parsed.query.get("uri", "")).lower() in ("true", "1"):  # sqlite:///file:name?mode=...&uri=true
        if parsed.query.get("mode") == "memory" or not database.startswith("file:"):
            return
        database = unquote(urlsplit(database).path)
    if not Path(database).exists():
        raise MissingDatabaseError(Path(database))


def make_engine(url: str | URL, *, pool_size: int = 10, max_overflow: int = 30) -> Engine:
    """An engine for `url`, with the SQLite connection settings applied on every new connection."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        # pool_pre_ping: a connection the server dropped (restart, failover) is replaced, not handed out, so
        # the pool recovers by itself; connect_timeout: an unreachable server fails a request in seconds
        # (a 503, registry.problems) instead of holding a threadpool thread for the OS's TCP timeout.
        connect_args = {"connect_timeout": 5} if "connect_timeout" not in parsed.query else {}
        return sa.create_engine(
            parsed,
            pool_size=pool_size,
            max_overflow=max_overflow,
            pool_pre_ping=True,
            connect_args=connect_args,
            future=True,
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
        # In WAL mode NORMAL syncs the log at checkpoints, not at every commit: a commit survives the
        # application crashing (it is in the log, in the OS's hands) but the last ones may be lost, never
        # half-applied, if the machine loses power or the OS crashes. FULL would fsync every commit.
        cursor.execute("PRAGMA synchronous=NORMAL")
        # Checkpoints (copying the log back into the database) are the job of the server's background
        # Checkpointer; a commit runs one itself only if the log reaches 40 MB (CLI tools, or no server).
        cursor.execute(f"PRAGMA wal_autocheckpoint={WAL_AUTOCHECKPOINT_PAGES}")
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


class ReaderConnection(sqlite3.Connection):
    """The LoopReader's connection, with a memo for what its readers learnt through it (it dies with it)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.memo: dict[object, Any] = {}


class LoopReader:
    """A read-only connection to an SQLite database, for reads done on the event loop (see the module doc).

    `run(fn)` calls `fn(connection)` with the raw `sqlite3.Connection` and returns its result, or returns
    None when the read cannot be done here and now: no such database file, SQLite busy (it never waits), or
    another thread using the connection. The caller then takes its threadpool path, which gives the same
    answer. Each statement runs in its own implicit read transaction, so it sees every committed write.
    """

    def __init__(self, path: Path) -> None:
        self._path = path
        self._connection: ReaderConnection | None = None
        self._lock = threading.Lock()

    @property
    def path(self) -> Path:
        return self._path

    @classmethod
    def for_url(cls, url: str | URL) -> LoopReader | None:
        """A reader for an SQLite file database; None for any other database (they use the threadpool)."""
        parsed = make_url(url)
        if parsed.get_backend_name() != "sqlite" or not parsed.database or parsed.database == ":memory:":
            return None
        return cls(Path(parsed.database))

    def _connect(self) -> ReaderConnection:
        # Opened read-write but made query-only: a `mode=ro` connection cannot always open a WAL database
        # (it cannot create the shared-memory index when no other connection has).
        connection = sqlite3.connect(
            self._path,
            isolation_level=None,  # autocommit: every statement reads the latest committed state
            check_same_thread=False,  # one thread at a time, under self._lock
            cached_statements=64,
            factory=ReaderConnection,
        )
        connection.execute("PRAGMA busy_timeout=0")
        connection.execute("PRAGMA query_only=1")
        return connection

    def run(self, fn: Callable[[ReaderConnection], T]) -> T | None:
        if not self._lock.acquire(blocking=False):
            return None
        try:
            if self._connection is None:
                if not self._path.exists():
                    return None
                self._connection = self._connect()
            return fn(self._connection)
        except sqlite3.DatabaseError:
            # Busy, a file that changed under us, or one that is not a database at all: drop the connection and
            # let the threadpool path answer (with a 503 problem if the database is unusable there too).
            self.close()
            return None
        finally:
            self._lock.release()

    @contextmanager
    def held(self) -> Iterator[None]:
        """Hold the reader: meanwhile `run` returns None, as when SQLite is busy, so every read takes the
        threadpool path (tests use it to check that both paths answer alike)."""
        with self._lock:
            yield

    def close(self) -> None:
        """Close the connection (it is reopened on the next read)."""
        connection, self._connection = self._connection, None
        if connection is not None:
            connection.close()


class AsyncPgReader:
    """One PostgreSQL connection per process for the status lists' versions, read on the event loop.

    `versions(list_id)` returns `{id: version}` for the lists asked for by the requests that share one read
    (see the module doc), read after this call; a list not in it does not exist. It returns None when the read
    cannot be done now: the server unreachable or failing (the connection is then closed, and for `retry_after`
    seconds no new one is tried), a read slower than `timeout`, or the reader held. The caller then takes the
    route, which gives the same answer, or a 503 problem. Autocommit: every read sees every committed write.
    """

    _ONE = "SELECT id, version FROM status_lists WHERE id = %s"
    _ANY = "SELECT id, version FROM status_lists WHERE id = ANY(%s::int8[])"

    def __init__(self, conninfo: str, *, timeout: float = 2.0, retry_after: float = 1.0) -> None:
        self._conninfo = conninfo
        self._timeout = timeout
        self._retry_after = retry_after
        self._connection: psycopg.AsyncConnection[Any] | None = None
        self._lock = asyncio.Lock()  # one read at a time on the connection
        self._next: _Batch | None = None  # the read the requests arriving now will share
        self._retry_at = 0.0
        self._held = 0

    @classmethod
    def for_url(cls, url: str | URL) -> AsyncPgReader | None:
        """A reader for a PostgreSQL database (the same connection parameters as the engine's); None for any
        other database."""
        parsed = make_url(url)
        if parsed.get_backend_name() != "postgresql":
            return None
        _, params = parsed.set(drivername="postgresql+psycopg").get_dialect()().create_connect_args(parsed)
        params.setdefault("connect_timeout", 2)  # an unreachable server: back to the route in seconds
        return cls(psycopg.conninfo.make_conninfo(**params))

    async def versions(self, list_id: int) -> dict[int, int] | None:
        if self._held or time.monotonic() < self._retry_at:
            return None
        batch = self._next
        if batch is not None:  # its read is not sent yet: share it
            batch.ids.add(list_id)
            waiter: asyncio.Future[dict[int, int] | None] = asyncio.get_running_loop().create_future()
            batch.waiters.append(waiter)  # one each: a waiter cancelled does not cancel the others
            return await waiter
        batch = self._next = _Batch({list_id}, [])
        result: dict[int, int] | None = None
        try:
            async with self._lock:
                await asyncio.sleep(0)  # let the requests that arrived with this one join it
                if self._next is batch:
                    self._next = None  # whoever arrives from now on waits for the next read
                result = await self._read(sorted(batch.ids))
        finally:
            if self._next is batch:
                self._next = None
            for waiter in batch.waiters:
                if not waiter.done():
                    waiter.set_result(result)
        return result

    async def _read(self, ids: list[int]) -> dict[int, int] | None:
        try:
            async with asyncio.timeout(self._timeout):
                if self._connection is None or self._connection.closed:
                    self._connection = await psycopg.AsyncConnection.connect(self._conninfo, autocommit=True)
                query = (self._ONE, ids[0]) if len(ids) == 1 else (self._ANY, ids)
                cursor = await self._connection.execute(query[0], (query[1],))
                return {row[0]: row[1] for row in await cursor.fetchall()}
        except Exception:  # noqa: BLE001  # whatever it was (psycopg's, the OS's, the event loop's): the route
            self._retry_at = time.monotonic() + self._retry_after
            await self.aclose()
            return None
        except asyncio.CancelledError:  # mid-read: the connection's state is unknown
            await self.aclose()
            raise

    @contextmanager
    def held(self) -> Iterator[None]:
        """Meanwhile `versions` returns None, so every status list takes the route (tests compare the two)."""
        self._held += 1
        try:
            yield
        finally:
            self._held -= 1

    async def aclose(self) -> None:
        """Close the connection (a new one is made on the next read, on whichever event loop then runs)."""
        if not self._lock.locked():
            self._lock = asyncio.Lock()  # a lock is bound to the loop it first waited on
        connection, self._connection = self._connection, None
        if connection is not None:
            with suppress(psycopg.Error, OSError):  # already broken: nothing left to release
                await connection.close()


@dataclass(slots=True)
class _Batch:
    """The lists asked for by the requests sharing one read, and its result."""

    ids: set[int]
    waiters: list[asyncio.Future[dict[int, int] | None]]


class Checkpointer:
    """A thread that checkpoints an SQLite WAL in the background (PASSIVE: it never blocks a reader or writer).

    SQLite's own automatic checkpoint runs inside the commit that crosses its threshold, which then waits for
    the pages to be copied and synced: on a 700 MB registry one issuance in thirty took 20-200 ms longer. Here
    the log is copied back every `interval` seconds by a thread of its own; with several worker processes
    each has one, and a checkpoint that finds another running simply skips its turn.
    """

    def __init__(self, path: Path, *, interval: float = 0.5) -> None:
        self._path = path
        self._interval = interval
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @classmethod
    def for_url(cls, url: str | URL) -> Checkpointer | None:
        reader = LoopReader.for_url(url)
        return None if reader is None else cls(reader.path)

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="aigov-wal-checkpoint", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)

    def _run(self) -> None:
        connection: sqlite3.Connection | None = None
        while not self._stop.wait(self._interval):
            try:
                if connection is None:
                    if not self._path.exists():
                        continue
                    connection = sqlite3.connect(self._path, isolation_level=None, check_same_thread=False)
                    connection.execute("PRAGMA busy_timeout=0")
                connection.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
            except sqlite3.Error:
                if connection is not None:
                    connection.close()
                connection = None
        if connection is not None:
            connection.close()


class Prepared:
    """A Core statement compiled once per dialect, run on the connection's DB-API cursor.

    For the statements of the issuance path. Executing a compiled, cached statement through SQLAlchemy still
    costs ≈ 50 µs here (an execution context, a result object, events), ten times what the same SQL costs on
    the DB-API cursor; an issuance runs about a dozen. The SQL text and the conversion of each parameter are
    SQLAlchemy's own (its bind processors for UUIDs, aware datetimes, JSON, by dialect), so the rows written are
    exactly those a Core execute would write, inside the same transaction. Rows come back as DB-API tuples,
    unconverted: use it for selects of integers and strings.

    Parameters named in `execute` replace the statement's bound values; an update without `.values()` sets the
    columns named by the remaining keys, as in Core. Expanding IN parameters take one placeholder per element.
    """

    def __init__(self, statement: sa.Executable) -> None:
        self._statement = statement
        self._compiled: dict[tuple[str, str, tuple[str, ...]], _Compiled] = {}

    def execute(
        self, connection: sa.Connection, params: Mapping[str, Any] | Sequence[Mapping[str, Any]] | None = None
    ) -> list[tuple[Any, ...]]:
        """Run with `params` (a list of them: executemany); the rows a select returns."""
        if isinstance(params, Sequence):
            first: Mapping[str, Any] = params[0] if params else {}
        else:
            first = params or {}
        dialect = connection.dialect
        key = (dialect.name, dialect.driver, tuple(first))
        compiled = self._compiled.get(key)
        if compiled is None:
            compiled = self._compiled[key] = _Compiled(self._statement, dialect, tuple(first))
        dbapi_error = dialect.loaded_dbapi.Error
        cursor = connection.connection.cursor()
        sql = compiled.sql
        try:
            if isinstance(params, Sequence):
                sql, _ = compiled.render(first)
                values = compiled.many(params)
                if compiled.multirow is None:
                    cursor.executemany(sql, values)
                    return []
                # One INSERT of many rows rather than an executemany of one-row INSERTs (see _Compiled.multirow).
                step = compiled.rows_per_insert
                for start in range(0, len(values), step):
                    chunk = values[start : start + step]
                    sql = compiled.multirow(len(chunk))
                    cursor.execute(sql, [value for row in chunk for value in row])
                return []
            sql, args = compiled.args(first)
            cursor.execute(sql, args)
            return list(cursor.fetchall()) if cursor.description is not None else []
        except dbapi_error as e:
            # As Core would: the DB-API error wrapped in SQLAlchemy's class for it (IntegrityError, ...), and a
            # connection that was lost invalidated, so that the pool does not hand it out again.
            if dialect.is_disconnect(e, connection.connection, cursor):
                connection.invalidate(e)
            raise sa.exc.DBAPIError.instance(sql, None, e, dbapi_error) from e
        finally:
            cursor.close()


class _Compiled:
    """One compilation: the SQL, the parameter order (positional styles), defaults and converters."""

    def __init__(self, statement: sa.Executable, dialect: sa.Dialect, keys: tuple[str, ...]) -> None:
        compiled = statement.compile(dialect=dialect, column_keys=list(keys))  # type: ignore[attr-defined]
        self.sql: str = compiled.string
        self.positional = compiled.positiontup is not None
        self.names: list[str] = (
            list(compiled.positiontup) if self.positional else re.findall(r"%\((\w+)\)s", self.sql)
        )
        self.expanding = {name for name, bind in compiled.binds.items() if bind.expanding}
        self.defaults = {name: bind.value for name, bind in compiled.binds.items()}
        self.converters: dict[str, Callable[[Any], Any] | None] = {
            name: bind.type.dialect_impl(dialect).bind_processor(dialect)
            for name, bind in compiled.binds.items()
        }
        if not self.positional:  # named: an IN list's placeholders are rendered per execution
            self.names += [name for name in sorted(self.expanding) if name not in self.names]
        self._rendered: dict[tuple[int, ...], str] = {}
        # An INSERT of a list of rows, with positional parameters (SQLite), runs as INSERTs of up to
        # `rows_per_insert` rows each instead of an executemany: the name search index (migration 0004: FTS5,
        # kept by a trigger) flushes its pending terms to a new segment at the end of every statement, so an
        # executemany of 1,000 one-row INSERTs writes 1,000 segments and merges them (≈ 110 µs a row here),
        # where one statement writes one (≈ 15 µs a row). PostgreSQL (named parameters) keeps executemany,
        # which psycopg pipelines.
        self.multirow: Callable[[int], str] | None = None
        self.rows_per_insert = 1
        head, values, group = self.sql.rpartition(" VALUES ")
        if (
            self.positional
            and statement.is_insert
            and values
            and group.startswith("(")
            and group.endswith(")")
            and not self.expanding
        ):
            # SQLite allows 32,766 parameters per statement (SQLITE_MAX_VARIABLE_NUMBER since 3.32).
            self.rows_per_insert = max(1, min(500, 32_766 // max(1, len(self.names))))
            statements: dict[int, str] = {}

            def multirow(count: int) -> str:
                if count not in statements:
                    statements[count] = head + values + ", ".join([group] * count)
                return statements[count]

            self.multirow = multirow

    def render(self, params: Mapping[str, Any]) -> tuple[str, tuple[int, ...]]:
        sizes = tuple(len(params[name]) for name in sorted(self.expanding))
        sql = self._rendered.get(sizes)
        if sql is None:
            sql = self.sql
            for name, size in zip(sorted(self.expanding), sizes, strict=True):
                marks = ["?"] * size if self.positional else [f"%({name}_{n})s" for n in range(size)]
                sql = sql.replace(f"__[POSTCOMPILE_{name}]", ", ".join(marks) or "NULL")
            self._rendered[sizes] = sql
        return sql, sizes

    def _value(self, name: str, params: Mapping[str, Any]) -> Any:
        value = params[name] if name in params else self.defaults[name]
        convert = self.converters.get(name)
        return value if convert is None or value is None else convert(value)

    def many(self, rows: Sequence[Mapping[str, Any]]) -> list[Any]:
        """The DB-API arguments of an executemany: `args` of each row (no expanding parameters), with the
        lookups per parameter done once instead of once per row (a batch inserts 1,000 rows of 29 columns)."""
        if self.expanding:
            raise ValueError("an executemany cannot expand IN parameters")
        plan = [(name, self.converters.get(name)) for name in self.names]
        defaults = self.defaults
        # The last value each column converted, and what it became: the rows of one batch share objects (the
        # credentials' created and updated times, the events' time): 14 -> 10 ms for 1,000 credential rows.
        last: list[tuple[Any, Any]] = [(None, None)] * len(plan)
        out: list[Any] = []
        for row in rows:
            values = []
            for column, (name, convert) in enumerate(plan):
                value = row[name] if name in row else defaults[name]
                if convert is not None and value is not None:
                    seen, converted = last[column]
                    if seen is not value:
                        converted = convert(value)
                        last[column] = (value, converted)
                    value = converted
                values.append(value)
            out.append(values if self.positional else dict(zip(self.names, values, strict=True)))
        return out

    def args(self, params: Mapping[str, Any]) -> tuple[str, Any]:
        sql, _ = self.render(params)
        if self.positional:
            values: list[Any] = []
            for name in self.names:
                if name in self.expanding:
                    values.extend(params[name])
                else:
                    values.append(self._value(name, params))
            return sql, values
        named: dict[str, Any] = {}
        for name in self.names:
            if name in self.expanding:
                named.update({f"{name}_{n}": item for n, item in enumerate(params[name])})
            else:
                named[name] = self._value(name, params)
        return sql, named
