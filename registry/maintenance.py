"""Operator maintenance of the registry's database: an online backup of an SQLite registry, and checks of its
integrity, event chain and schema (`aigov db backup`, `aigov db check`).

The backup uses SQLite's online backup API in one step: the copy is read in one read transaction, a snapshot
of one committed state, and in WAL mode a reader blocks no writer, so the server keeps issuing meanwhile. The
copy is written to a temporary file next to the target, checked (`PRAGMA integrity_check`, counts, the event
chain) and only then renamed into place, so the target is never half-written and a failure leaves nothing
behind. PostgreSQL is backed up with its own logical dump (`pg_dump_command`), which is consistent in the same
way (one snapshot) and restores across server versions.

Errors an operator can act on (no database, no such directory, no space, a damaged copy) are a
`MaintenanceError` with a one-line message.
"""

from __future__ import annotations

import contextlib
import os
import shlex
import sqlite3
import stat
import tempfile
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import URL, Engine, make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session, func, select

from registry import highwater
from registry.db import (
    SQLITE_BUSY_TIMEOUT_MS,
    MissingDatabaseError,
    make_engine,
    require_database,
)
from registry.eventlog import ChainReport, verify_chain
from registry.migrate import SchemaNotCurrentError, check_current, current_revisions
from registry.models import Credential, Event

# The name search index (migration 0004); with rank 1 its integrity check also compares it with the
# `credentials` rows it indexes (SQLite FTS5, "The 'integrity-check' Command").
FTS_TABLE = "credentials_fts"
_FTS_CHECK = f"INSERT INTO {FTS_TABLE}({FTS_TABLE}, rank) VALUES ('integrity-check', 1)"  # noqa: S608
_FTS_REBUILD = f"INSERT INTO {FTS_TABLE}({FTS_TABLE}) VALUES ('rebuild')"  # noqa: S608
# How many of integrity_check's messages a report quotes.
_PROBLEMS_QUOTED = 3


class MaintenanceError(Exception):
    """A backup or check that cannot be done, with a one-line message for the operator."""


@dataclass(frozen=True, slots=True)
class BackupReport:
    """What a backup wrote: the file, its size, what the copy holds, and its event chain's verification."""

    path: Path
    size: int
    credentials: int
    events: int
    chain: ChainReport


@dataclass(frozen=True, slots=True)
class Check:
    """One check of `check_database`: its name, whether it passed, and a line saying what was found."""

    name: str
    ok: bool
    detail: str


def sqlite_path(url: str | URL) -> Path | None:
    """The database file of an SQLite URL; None for another database. An in-memory SQLite database has no
    file to back up or check: MaintenanceError."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return None
    if not parsed.database or parsed.database == ":memory:" or parsed.database.startswith("file:"):
        raise MaintenanceError(f"{parsed.render_as_string()} names no database file")
    return Path(parsed.database)


def pg_dump_command(*, url: str | URL, target: Path) -> str:
    """The `pg_dump` command that backs up the PostgreSQL database of `url` into `target` (custom format, for
    `pg_restore`), as a shell line. The password is left out: pg_dump asks for it or reads ~/.pgpass or
    PGPASSWORD, so it never lands in a shell history."""
    parsed = make_url(url)
    connection = URL.create(
        "postgresql",
        username=parsed.username,
        host=parsed.host,
        port=parsed.port,
        database=parsed.database,
        query=parsed.query,
    ).render_as_string()
    return f"pg_dump --format=custom --file {shlex.quote(str(target))} {shlex.quote(connection)}"


def backup_sqlite(*, url: str | URL, target: Path, force: bool = False) -> BackupReport:
    """Copy the SQLite database of `url`, which may be in use, into `target` (refused if it exists, unless
    `force`; never the database or its -wal, -shm or -journal file, nor an existing file that is not a regular
    one). The copy passes `PRAGMA integrity_check` before it takes `target`'s name; a copy whose event
    chain does not verify is kept (it is a faithful copy, evidence) and says so in its report. The copy is
    readable by its owner only (a temporary file's mode): it holds every token hash the registry does."""
    source = _existing(url)
    directory = target.absolute().parent
    if not directory.is_dir():
        raise MaintenanceError(f"cannot write {target}: no directory {directory}")
    _refuse_live_files(source, target)
    kind = _not_regular(target)
    if kind is not None:
        raise MaintenanceError(f"cannot write {target}: it is {kind}, not a regular file")
    if target.exists() and not force:
        raise MaintenanceError(f"{target} exists: name another file, or replace it with --force")
    try:
        descriptor, name = tempfile.mkstemp(dir=directory, prefix=f".{target.name}.", suffix=".tmp")
    except OSError as e:
        raise MaintenanceError(f"cannot write in {directory}: {e.strerror}") from e
    os.close(descriptor)
    temporary = Path(name)
    try:
        _copy(source, temporary)
        credentials, events, chain = _contents(temporary)
        _sync(temporary)
        _place(temporary, target, force=force)
        _sync(directory)  # the rename itself survives a crash
    except BaseException:
        _remove(temporary)
        raise
    return BackupReport(target, target.stat().st_size, credentials, events, chain)


def _existing(url: str | URL) -> Path:
    """The file of an SQLite URL, which must exist (SQLite would create it empty)."""
    source = sqlite_path(url)
    if source is None:
        raise MaintenanceError("only an SQLite database is copied this way")
    try:
        require_database(url)
    except MissingDatabaseError as e:
        raise MaintenanceError(str(e)) from e
    if not source.is_file():
        raise MaintenanceError(f"{source} is not an SQLite database file")
    return source


def _refuse_live_files(source: Path, target: Path) -> None:
    """MaintenanceError if `target` is the database or one of the files SQLite keeps next to it: replacing its
    write-ahead log, shared-memory index or rollback journal with a copy would damage the live database. Paths
    are compared resolved (symlinks, `..`), and an existing target also by inode (a hard link)."""
    resolved = target.resolve()
    for suffix, what in _LIVE_FILES:
        for base in {source.absolute(), source.resolve()}:  # SQLite names them after the resolved path
            live = Path(f"{base}{suffix}")
            same = resolved == live.resolve()
            with contextlib.suppress(OSError):  # either one missing: not the same file
                same = same or target.samefile(live)
            if same:
                raise MaintenanceError(f"{target} is {what}")


# The database file and what SQLite keeps next to it while it is in use.
_LIVE_FILES = (
    ("", "the database itself"),
    ("-wal", "the live database's write-ahead log"),
    ("-shm", "the live database's shared-memory index"),
    ("-journal", "the live database's rollback journal"),
)


def _not_regular(path: Path) -> str | None:
    """What `path` is if it exists and is not a regular file (following a symlink): a FIFO would block the
    copy's rename into place, and a device or socket must never be replaced; None otherwise."""
    try:
        mode = path.stat().st_mode
    except OSError:
        return None
    kinds = (
        (stat.S_ISDIR, "a directory"),
        (stat.S_ISFIFO, "a FIFO"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
        (stat.S_ISSOCK, "a socket"),
    )
    for test, kind in kinds:
        if test(mode):
            return kind
    return None if stat.S_ISREG(mode) else "a special file"


def _copy(source: Path, temporary: Path) -> None:
    """The online backup, in one step (one snapshot), then the copy's integrity check."""
    # mode=rw: a missing file is an error rather than a new, empty database; query_only: read, never write.
    reader = _connect(f"{source.absolute().as_uri()}?mode=rw", uri=True)
    try:
        writer = _connect(str(temporary))
        try:
            reader.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
            reader.execute("PRAGMA query_only=1")
            reader.backup(writer, pages=-1)
            problems = _integrity_problems(writer.execute("PRAGMA integrity_check").fetchall())
        finally:
            writer.close()
    except sqlite3.Error as e:
        raise MaintenanceError(f"cannot copy {source} into {temporary.parent}: {e}") from e
    finally:
        reader.close()
    if problems:
        raise MaintenanceError(
            f"the copy of {source} fails PRAGMA integrity_check ({_quote(problems)}): the database may be "
            "damaged, run `aigov db check`"
        )


def _connect(database: str, *, uri: bool = False) -> sqlite3.Connection:
    try:
        return sqlite3.connect(database, uri=uri, isolation_level=None)
    except sqlite3.Error as e:
        raise MaintenanceError(f"cannot open {database}: {e}") from e


def _contents(path: Path) -> tuple[int, int, ChainReport]:
    """How many credentials and events the copy holds, and its event chain, read through the registry's engine."""
    engine = make_engine(URL.create("sqlite", database=str(path)), pool_size=1, max_overflow=0)
    try:
        with Session(engine) as session:
            credentials = session.exec(select(func.count()).select_from(Credential)).one()
            events = session.exec(select(func.count()).select_from(Event)).one()
            chain = verify_chain(session=session)
    except SQLAlchemyError as e:
        raise MaintenanceError(f"cannot read the copy: {_first_line(e)}") from e
    finally:
        engine.dispose()  # closes the last connection, which removes the copy's -wal and -shm files
    return credentials, events, chain


def _sync(path: Path) -> None:
    """fsync a file or directory: the copy's bytes are on disk before it takes the target's name."""
    try:
        descriptor = os.open(path, os.O_RDONLY)
        try:
            os.fsync(descriptor)
        finally:
            os.close(descriptor)
    except OSError as e:
        raise MaintenanceError(f"cannot write {path}: {e.strerror}") from e


def _place(temporary: Path, target: Path, *, force: bool) -> None:
    """Give the copy its name in one step. Without `force` a hard link, which fails if the name was taken
    meanwhile, rather than a rename, which would replace what took it."""
    try:
        if force:
            os.replace(temporary, target)
            return
        try:
            os.link(temporary, target)
        except FileExistsError:
            raise MaintenanceError(
                f"{target} exists: name another file, or replace it with --force"
            ) from None
        except OSError:  # a file system without hard links: check, then rename
            if target.exists():
                raise MaintenanceError(
                    f"{target} exists: name another file, or replace it with --force"
                ) from None
            os.replace(temporary, target)
            return
        temporary.unlink()
    except OSError as e:
        raise MaintenanceError(f"cannot write {target}: {e.strerror}") from e


def _remove(temporary: Path) -> None:
    """Remove the temporary copy and whatever SQLite left next to it."""
    for suffix in ("", "-wal", "-shm", "-journal"):
        with contextlib.suppress(FileNotFoundError):
            Path(f"{temporary}{suffix}").unlink()


# -- checks -------------------------------------------------------------------------------------------------------


def open_database(*, url: str | URL) -> Engine:
    """An engine on the registry's database, after one successful connection; MaintenanceError if there is
    no such SQLite file (it would create an empty one) or the database cannot be reached.

    SQLite is opened read-only (`mode=ro`): a check never writes the database, not even the header that
    switching an empty or foreign file to WAL mode would write."""
    path = sqlite_path(url)
    engine = make_engine(url, pool_size=1, max_overflow=0) if path is None else _read_only_engine(url)
    try:
        with engine.connect():
            pass
    except SQLAlchemyError as e:
        engine.dispose()
        raise MaintenanceError(f"cannot read the database: {_first_line(e)}") from e
    return engine


def _read_only_engine(url: str | URL) -> Engine:
    """An engine that reads the existing SQLite file of `url` and cannot write it. Each session's reads are
    one transaction (one snapshot), as on the registry's own engine."""
    path = _existing(url)
    if path.is_dir():
        raise MaintenanceError(f"{path} is a directory, not an SQLite database")
    engine = sa.create_engine(
        URL.create("sqlite", database=path.absolute().as_uri(), query={"mode": "ro", "uri": "true"}),
        pool_size=1,
        max_overflow=0,
    )

    @sa.event.listens_for(engine, "connect")
    def _connect(dbapi_connection: sqlite3.Connection, _record: object) -> None:
        dbapi_connection.isolation_level = None  # BEGIN is issued below, for reads too
        dbapi_connection.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")

    @sa.event.listens_for(engine, "begin")
    def _begin(connection: sa.Connection) -> None:
        connection.exec_driver_sql("BEGIN")

    return engine


def check_database(*, engine: Engine, high_water: Path | None = None) -> list[Check]:
    """Every check that applies: on SQLite the file's integrity and the name search index; on both databases
    the schema's revision and the event log's hash chain; and, when the marks in `high_water` hold one for this
    database's history, that its log still holds the event recorded there (registry.highwater: `aigov serve`
    refuses a database that went back in time). A check that cannot run fails with the reason.

    On SQLite `PRAGMA integrity_check` reads every page (minutes for a database of gigabytes) inside one read
    transaction, which blocks no writer; the search index's check briefly holds the write lock and is rolled
    back (FTS5 runs it as an INSERT, which a read-only connection refuses)."""
    planned: list[tuple[str, Callable[[], tuple[bool, str] | None]]] = []
    if engine.dialect.name == "sqlite":
        planned.append(("integrity", lambda: _sqlite_integrity(engine)))
        planned.append(("search index", lambda: _fts_integrity(engine) if _has_fts(engine) else None))
    planned += [("schema", lambda: _schema(engine)), ("event chain", lambda: _chain(engine))]
    if high_water is not None:
        planned.append(("high-water mark", lambda: _high_water(engine, high_water)))
    return [check for name, run in planned if (check := _run(name, run)) is not None]


def _run(name: str, check: Callable[[], tuple[bool, str] | None]) -> Check | None:
    """The check's result; None when it does not apply; a failure saying why when it cannot run."""
    try:
        found = check()
    except SQLAlchemyError as e:
        return Check(name, False, f"cannot run the check: {_first_line(e)}")
    return None if found is None else Check(name, *found)


def _high_water(engine: Engine, path: Path) -> tuple[bool, str] | None:
    with Session(engine) as session:
        try:
            highwater.check(session, path)
        except highwater.HighWaterError as e:
            return False, str(e)
        head = highwater.current(session)
        recorded = None if head.first is None else highwater.read(path, head.first)
    if recorded is None:
        return None  # the server never recorded this history: nothing to compare
    return True, f"event {recorded.seq}, recorded in {path}, is in the log (which is at {head.seq})"


def _sqlite_integrity(engine: Engine) -> tuple[bool, str]:
    with engine.connect() as connection:
        rows = connection.exec_driver_sql("PRAGMA integrity_check").fetchall()
    problems = _integrity_problems(rows)
    if problems:
        return False, f"PRAGMA integrity_check: {_quote(problems)}"
    return True, "PRAGMA integrity_check: ok"


def _has_fts(engine: Engine) -> bool:
    query = sa.text("SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = :name")
    with engine.connect() as connection:
        return bool(connection.execute(query, {"name": FTS_TABLE}).scalar_one())


def _fts_integrity(engine: Engine) -> tuple[bool, str]:
    # Its own read-write connection (`mode=rw` never creates a file), in a transaction that is rolled back:
    # it changes nothing. The engine's read-only connection stays open meanwhile, so closing this one is never
    # the last close of a WAL database, which would checkpoint the log into the file.
    with engine.connect() as reader:
        database = reader.engine.url.database
        try:
            writer = sqlite3.connect(f"{database}?mode=rw", uri=True, isolation_level=None)
        except sqlite3.Error as e:
            return False, f"cannot run the check: {e}"
        try:
            writer.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
            writer.execute("BEGIN IMMEDIATE")
            try:
                writer.execute(_FTS_CHECK)
            finally:
                writer.execute("ROLLBACK")
        except sqlite3.DatabaseError as e:
            if getattr(e, "sqlite_errorname", "").startswith(
                "SQLITE_CORRUPT"
            ):  # the index and table disagree
                return False, f"{FTS_TABLE}: {_first_line(e)}; rebuild it: {_FTS_REBUILD}"
            return False, f"cannot run the check: {_first_line(e)}"
        finally:
            writer.close()
    return True, f"{FTS_TABLE} matches the credentials it indexes"


def _schema(engine: Engine) -> tuple[bool, str]:
    try:
        check_current(engine)
    except SchemaNotCurrentError as e:
        return False, str(e)
    return True, f"at {', '.join(sorted(current_revisions(engine)))}, the head revision"


def _chain(engine: Engine) -> tuple[bool, str]:
    with Session(engine) as session:
        report = verify_chain(session=session)
    return report.ok, describe_chain(report)


def describe_chain(report: ChainReport) -> str:
    """`verify_chain`'s report in one line."""
    if report.ok:
        return f"{report.checked} events: every hash and link verifies, and so does the chain head"
    where = "" if report.seq is None else f"event {report.seq}: "
    return f"{where}{report.problem} ({report.checked} events before it verify)"


def _integrity_problems(rows: Iterable[Sequence[object]]) -> list[str]:
    """integrity_check's messages, none when it says `ok`."""
    messages = [str(row[0]) for row in rows]
    return [] if messages == ["ok"] else messages


def _quote(problems: list[str]) -> str:
    shown = "; ".join(" ".join(problem.split()) for problem in problems[:_PROBLEMS_QUOTED])
    more = len(problems) - _PROBLEMS_QUOTED
    return f"{shown} (and {more} more)" if more > 0 else shown


def _first_line(error: Exception) -> str:
    """A database error in one line, without the SQL statement."""
    lines = str(getattr(error, "orig", None) or error).splitlines()
    return lines[0] if lines else type(error).__name__
