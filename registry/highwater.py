"""High-water marks: how far this registry's event log had got, kept outside the database, so that a server
never starts on a database that went back in time without being fenced (registry.restore).

A restored backup, or an SQLite file that lost its last commits in a power failure, looks like any other
database; only what was written before tells it apart. The server records the head of the event log in
`<keystore_path>/.high-water-marks.json` (AIGOV_HIGH_WATER_FILE) at start, every minute and at shutdown, under
the hash of the log's first event, which names the registry's history wherever its database lives (restored
under another name or URL, it is the same history). `aigov serve` refuses to start when the database's log no
longer holds the event last recorded for its history; `aigov db after-restore` records the fenced head, after
which it starts. A restore to a point after the last record (under a minute before the failure) is not
detected, nor one to before the first event.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import tempfile
import threading
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

    def entry(self) -> dict[str, object]:
        return {"seq": self.seq, "hash": self.hash}


class RolledBackError(Exception):
    """The database's event log is behind (or forked from) what this registry recorded of it."""


def current(session: Session) -> Mark:
    head = session.exec(select(ChainHead).where(ChainHead.id == 1)).one()
    first = session.exec(select(Event.hash).where(Event.seq == 1)).first()
    return Mark(first=first, seq=head.seq, hash=head.hash)


def _load(path: Path) -> dict[str, object]:
    try:
        marks = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as e:
        logger.warning("cannot read the high-water marks in %s: %s", path, e)
        return {}
    return marks if isinstance(marks, dict) else {}


def read(path: Path, first: str) -> Mark | None:
    """The mark recorded for the history that starts with event `first`; None if there is none."""
    entry = _load(path).get(first)
    if (
        not isinstance(entry, dict)
        or not isinstance(entry.get("seq"), int)
        or not isinstance(entry.get("hash"), str)
    ):
        return None
    return Mark(first=first, seq=entry["seq"], hash=entry["hash"])


def record(path: Path, mark: Mark, *, force: bool = False) -> None:
    """Record `mark`, atomically (a temporary file renamed into place). A mark never moves back (several workers
    record), unless `force`: after a fence, the fenced head is the new truth. An empty log is not recorded."""
    if mark.first is None:
        return
    marks = _load(path)
    known = read(path, mark.first)
    if known is not None and known.seq >= mark.seq and not force:
        return
    marks[mark.first] = mark.entry()
    descriptor, name = tempfile.mkstemp(dir=path.parent, prefix=f"{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8") as out:
            json.dump(marks, out, indent=2, sort_keys=True)
        os.replace(name, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(name)
        raise


def check(session: Session, path: Path) -> None:
    """RolledBackError if the database lost events recorded in `path` for its history (see the module doc)."""
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
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
        self.record_now()

    def record_now(self) -> None:
        try:
            with Session(self._engine) as session:
                mark = current(session)
            record(self._path, mark)
        except (OSError, sa.exc.SQLAlchemyError) as e:  # a read-only keystore, a database that is down
            logger.warning("cannot record the high-water mark in %s: %s", self._path, e)

    def _run(self) -> None:
        self.record_now()
        while not self._stop.wait(self._interval):
            self.record_now()
