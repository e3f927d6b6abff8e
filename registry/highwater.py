"""High-water marks: how far this registry's event log had got, kept outside the database, so that a server
never starts on a database that went back in time without being fenced (registry.restore).

A restored backup, or an SQLite file that lost its last commits in a power failure, looks like any other
database; only what was written before tells it apart. The server records the head of the event log in
`<keystore_path>/.high-water-marks.json` (AIGOV_HIGH_WATER_FILE) at start, every minute and at shutdown, under
the hash of the log's first event, which names the registry's history wherever its database lives (restored
under another name or URL, it is the same history). `aigov serve` refuses to start when the database's log no
longer holds the event last recorded for its history; `aigov db after-restore` records the fenced head, after
which it starts. The accreditation commands of `aigov admin`, which log events without a server, check and
record the same way. A restore to a point after the last record (under a minute before the failure) is not
detected, nor one to before the first event.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
import tempfile
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from registry.models import ChainHead, Event

logger = logging.getLogger(__name__)

RECORD_EVERY_SECONDS = 60.0


@dataclass(frozen=True, slots=True)
class Mark:
    """The event log's first event hash (None while it is empty) and its head: last seq and hash."""

    first: str | None
    seq: int
    hash: str


class HighWaterError(Exception):
    """Why `aigov serve` must not start on this database (one line, for the operator)."""


class RolledBackError(HighWaterError):
    """The database's event log is behind (or forked from) what this registry recorded of it."""


class UnreadableMarksError(HighWaterError):
    """The marks file exists but cannot be read: the check fails closed rather than pass on no evidence."""


def current(session: Session) -> Mark:
    head = session.exec(select(ChainHead).where(ChainHead.id == 1)).one()
    first = session.exec(select(Event.hash).where(Event.seq == 1)).first()
    return Mark(first=first, seq=head.seq, hash=head.hash)


def _load(path: Path) -> dict[str, Mark]:
    """Every recorded mark by first event hash; {} if there is no file. UnreadableMarksError if the file or an
    entry cannot be read: a file damaged by the same failure that rolled the database back is no all-clear."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    except (OSError, UnicodeDecodeError) as e:
        raise _unreadable(path, str(e)) from e
    try:
        entries = json.loads(text)
    except ValueError as e:
        raise _unreadable(path, f"not JSON: {e}") from e
    if not isinstance(entries, dict):
        raise _unreadable(path, "not a JSON object")
    marks = {}
    for first, entry in entries.items():
        if not (
            isinstance(entry, dict)
            and isinstance(entry.get("seq"), int)
            and isinstance(entry.get("hash"), str)
        ):
            raise _unreadable(path, f"the entry {first!r} is not {{'seq': int, 'hash': str}}")
        marks[first] = Mark(first=first, seq=entry["seq"], hash=entry["hash"])
    return marks


def _unreadable(path: Path, why: str) -> UnreadableMarksError:
    return UnreadableMarksError(
        f"cannot read the high-water marks in {path} ({why}); if the database may have gone back in time, run "
        "`aigov db after-restore`; otherwise move the file away (AIGOV_HIGH_WATER_FILE names it)"
    )


def read(path: Path, first: str) -> Mark | None:
    """The mark recorded for the history that starts with event `first`; None if there is none."""
    return _load(path).get(first)


def record(path: Path, mark: Mark, *, force: bool = False) -> None:
    """Record `mark`, durably and atomically (a temporary file synced and renamed into place, under a lock:
    several workers record). A mark never moves back, unless `force`: after a fence, the fenced head is the
    new truth. An empty log is not recorded; an unreadable file is never overwritten (UnreadableMarksError)."""
    if mark.first is None:
        return
    with _locked(path):
        marks = _load(path)
        known = marks.get(mark.first)
        if known is not None and known.seq >= mark.seq and not force:
            return
        marks[mark.first] = mark
        _replace(path, {first: {"seq": m.seq, "hash": m.hash} for first, m in sorted(marks.items())})


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    """An exclusive lock on a file beside `path` (the file itself is replaced, so cannot carry the lock)."""
    # Read-only suffices for flock, so a lock file another user created still serves.
    descriptor = os.open(f"{path}.lock", os.O_RDONLY | os.O_CREAT, 0o644)
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX)
        yield
    finally:
        os.close(descriptor)


def _replace(path: Path, content: object) -> None:
    descriptor, name = tempfile.mkstemp(dir=path.parent, prefix=f"{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8") as out:
            json.dump(content, out, indent=2)
            out.flush()
            os.fsync(out.fileno())
        # Readable by all (event hashes are public: /api/v1/events): a server running as another user than
        # the operator who ran `aigov db after-restore` must still read it.
        os.chmod(name, 0o644)
        os.replace(name, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(name)
        raise
    directory = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(directory)  # the rename survives a power failure too
    finally:
        os.close(directory)


def check(session: Session, path: Path) -> None:
    """RolledBackError if the database lost events recorded in `path` for its history (see the module doc);
    UnreadableMarksError if `path` cannot be read."""
    now = current(session)
    recorded = None if now.first is None else read(path, now.first)
    if recorded is None:
        return
    found = session.exec(select(Event.hash).where(Event.seq == recorded.seq)).first()
    if found == recorded.hash:
        return
    if found is None:
        what = f"its event log ends at event {now.seq}, but this registry had recorded event {recorded.seq}"
    else:
        what = f"its event {recorded.seq} is not the one this registry recorded: the log forked"
    raise RolledBackError(
        f"the database went back in time ({what}): it was restored from a backup or lost its last commits. "
        "Credentials issued since then exist but are unknown to it; run `aigov db after-restore` (README, "
        "Restoring) before starting the server"
    )


class Recorder:
    """A thread that records the database's mark every RECORD_EVERY_SECONDS and once more at `stop`."""

    def __init__(self, engine: Engine, path: Path, interval: float = RECORD_EVERY_SECONDS) -> None:
        self._engine, self._path, self._interval = engine, path, interval
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="aigov-high-water-mark", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop the thread and record once more (unless the thread is still busy recording)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
            if self._thread.is_alive():
                return
        self.record_now()

    def record_now(self) -> None:
        """Record the head, after checking the database against the mark: a worker started on a database that
        went back in time (by something else than `aigov serve`) must not record its forked history over it."""
        try:
            with Session(self._engine) as session:
                check(session, self._path)
                mark = current(session)
            record(self._path, mark)
        except (OSError, HighWaterError, sa.exc.SQLAlchemyError) as e:  # read-only directory, database down
            logger.warning("cannot record the high-water mark in %s: %s", self._path, e)

    def _run(self) -> None:
        self.record_now()
        while not self._stop.wait(self._interval):
            self.record_now()
