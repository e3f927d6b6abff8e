"""`aigov db backup`: a consistent copy of a running SQLite registry, in-process, on real databases.

The copy is taken while another thread issues certificates; it must hold exactly the certificates of one
committed state, pass SQLite's integrity check, verify its event chain and serve as a registry. Failures are
one line, exit 3, and leave no temporary file behind.
"""

from __future__ import annotations

import os
import resource
import signal
import socket
import sqlite3
import stat
import threading
import time
import uuid
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from aigov.cli import EXIT_INVALID, EXIT_OK, EXIT_USAGE, main
from issuer import CertificationDecision
from registry import lifecycle
from registry.app import create_app
from registry.db import make_engine
from registry.eventlog import verify_chain
from registry.models import Credential, Event

if TYPE_CHECKING:
    from conftest import Registry

on_sqlite = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def backup(
    capsys: pytest.CaptureFixture[str], registry: Registry, target: Path, *extra: str
) -> tuple[int, str, str]:
    return run(capsys, "db", "backup", str(target), "--database-url", registry.settings.database_url, *extra)


def issue(registry: Registry, count: int = 1, name: str = "Backup Test K.K.") -> list[uuid.UUID]:
    decisions = [
        CertificationDecision.model_validate(
            registry.decision(subject={"legalName": {"en": name}, "corporateNumber": "7000012050002"})
        )
        for _ in range(count)
    ]
    with registry.session() as session:
        result = lifecycle.issue_batch(
            session=session, ctx=registry.context(), body=registry.acme, decisions=decisions, actor="test"
        )
    return [credential.id for credential in result.credentials]


def contents(path: Path) -> tuple[set[uuid.UUID], int, bool]:
    """The credential ids, the number of events and whether the chain verifies, read from the copy."""
    assert sqlite3.connect(path).execute("PRAGMA integrity_check").fetchall() == [("ok",)]
    engine = make_engine(f"sqlite:///{path}", pool_size=1, max_overflow=0)
    try:
        with Session(engine) as session:
            ids = set(session.exec(select(Credential.id)))
            events = len(session.exec(select(Event.seq)).all())
            return ids, events, verify_chain(session=session).ok
    finally:
        engine.dispose()


def leftovers(directory: Path, *expected: str) -> list[str]:
    """Files in `directory` other than `expected` (a temporary copy, or SQLite's -wal/-shm of one)."""
    return sorted(path.name for path in directory.iterdir() if path.name not in expected)


@on_sqlite
def test_a_backup_taken_during_issuance_is_one_committed_state(
    registry: Registry, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    issue(registry, 3)
    issued: list[uuid.UUID] = []  # in commit order: one writer
    failures: list[BaseException] = []
    stop = threading.Event()

    def writer() -> None:
        try:
            while not stop.is_set():
                issued.extend(issue(registry))
        except BaseException as e:  # noqa: BLE001  # reported by the test below
            failures.append(e)

    first = {credential.id for credential in _credentials(registry)}
    thread = threading.Thread(target=writer)
    thread.start()
    copies: list[tuple[Path, int, int, str]] = []
    try:
        while len(issued) < 2 and not failures:
            time.sleep(0.001)
        # Until one copy was taken while a certificate was committed (the usual case is the first).
        for n in range(30):
            target = tmp_path / "backups" / f"copy-{n}.db"
            target.parent.mkdir(exist_ok=True)
            before = len(issued)
            code, out, err = backup(capsys, registry, target)
            after = len(issued)
            assert (code, err) == (EXIT_OK, ""), err
            copies.append((target, before, after, out))
            if after > before:
                break
    finally:
        stop.set()
        thread.join()
    assert not failures
    assert copies[-1][2] > copies[-1][1], "no backup overlapped a write"

    for target, before, after, out in copies:
        ids, events, chain_ok = contents(target)
        # A committed certificate is appended to `issued` just after its commit: the copy holds the first k.
        k = len(ids - first)
        assert before <= k <= after + 1
        assert ids == first | set(issued[:k])
        assert chain_ok
        assert events == registry.setup_events + len(ids)  # one event per certificate, no more, no less
        assert out == (
            f"{target}: {target.stat().st_size:,} bytes, {len(ids)} credentials, {events} events, "
            "event chain verifies\n"
        )
    assert leftovers(tmp_path / "backups", *(target.name for target, *_ in copies)) == []


def _credentials(registry: Registry) -> list[Credential]:
    with registry.session() as session:
        return list(session.exec(select(Credential)))


@on_sqlite
def test_the_copy_serves_as_a_registry(
    registry: Registry, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ids = issue(registry, 2, name="Copied Corp.")
    target = tmp_path / "copy.db"
    assert backup(capsys, registry, target)[0] == EXIT_OK
    registry.engine.dispose()
    Path(registry.settings.database_url.removeprefix("sqlite:///")).unlink()  # the original is gone

    settings = registry.settings.model_copy(update={"database_url": f"sqlite:///{target}"})
    with TestClient(create_app(settings, clock=registry.clock, key_cache=registry.key_cache)) as client:
        found = client.get("/api/v1/credentials", params={"q": "Copied Corp"})  # through the FTS5 index
        assert found.status_code == 200, found.text
        assert sorted(item["id"] for item in found.json()["items"]) == sorted(str(i) for i in ids)
        page = client.get(f"/credentials/{ids[0]}")
        assert page.status_code == 200
        assert "Copied Corp." in page.text
    assert run(capsys, "db", "check", "--database-url", f"sqlite:///{target}")[0] == EXIT_OK


@on_sqlite
def test_an_existing_file_is_replaced_only_with_force(
    registry: Registry, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "out" / "copy.db"
    target.parent.mkdir()
    target.write_bytes(b"yesterday's backup")

    code, out, err = backup(capsys, registry, target)
    assert (code, out) == (EXIT_USAGE, "")
    assert err == f"error: {target} exists: name another file, or replace it with --force\n"
    assert target.read_bytes() == b"yesterday's backup"
    assert leftovers(target.parent, "copy.db") == []

    issue(registry)
    code, out, _ = backup(capsys, registry, target, "--force")
    assert code == EXIT_OK
    assert "1 credentials" in out
    assert len(contents(target)[0]) == 1
    assert leftovers(target.parent, "copy.db") == []

    source = Path(registry.settings.database_url.removeprefix("sqlite:///"))
    code, _, err = backup(capsys, registry, source, "--force")
    assert (code, err) == (EXIT_USAGE, f"error: {source} is the database itself\n")
    assert len(contents(source)[0]) == 1


@on_sqlite
@pytest.mark.parametrize("force", [(), ("--force",)], ids=["", "force"])
def test_the_live_database_and_its_wal_shm_and_journal_are_never_targets(
    registry: Registry, tmp_path: Path, capsys: pytest.CaptureFixture[str], force: tuple[str, ...]
) -> None:
    issue(registry)
    source = Path(registry.settings.database_url.removeprefix("sqlite:///"))
    linked = tmp_path / "linked"
    linked.mkdir()
    (linked / "dir").symlink_to(source.parent, target_is_directory=True)
    (linked / "wal").symlink_to(f"{source}-wal")
    sidecars = {suffix: Path(f"{source}{suffix}") for suffix in ("-wal", "-shm")}
    before = {suffix: path.read_bytes() for suffix, path in sidecars.items()}  # the engine keeps them open
    files = sorted(os.listdir(source.parent))
    for suffix, what in (
        ("", "the database itself"),
        ("-wal", "the live database's write-ahead log"),
        ("-shm", "the live database's shared-memory index"),
        ("-journal", "the live database's rollback journal"),  # absent: not created either
    ):
        for target in (
            Path(f"{source}{suffix}"),
            linked / "dir" / f"{source.name}{suffix}",  # through a symlinked directory
            source.parent / ".." / source.parent.name / f"{source.name}{suffix}",  # through ..
        ):
            code, out, err = backup(capsys, registry, target, *force)
            assert (code, out, err) == (EXIT_USAGE, "", f"error: {target} is {what}\n")
    code, _, err = backup(capsys, registry, linked / "wal", *force)  # a symlink to the log itself
    assert (code, err) == (EXIT_USAGE, f"error: {linked / 'wal'} is the live database's write-ahead log\n")
    assert not Path(f"{source}-journal").exists()
    assert {suffix: path.read_bytes() for suffix, path in sidecars.items()} == before
    assert sorted(os.listdir(source.parent)) == files  # no copy, no temporary file
    assert len(contents(source)[0]) == 1  # the registry still reads


@on_sqlite
@pytest.mark.parametrize("force", [(), ("--force",)], ids=["", "force"])
def test_a_target_that_is_not_a_regular_file_is_never_replaced(
    registry: Registry, tmp_path: Path, capsys: pytest.CaptureFixture[str], force: tuple[str, ...]
) -> None:
    out = tmp_path / "o"
    out.mkdir()
    fifo = out / "fifo"
    os.mkfifo(fifo)
    device = out / "null"
    device.symlink_to("/dev/null")  # a character device, through a symlink (mknod needs privileges)
    listening = socket.socket(socket.AF_UNIX)
    listening.bind(str(out / "sock"))
    directory = out / "dir"
    directory.mkdir()
    try:
        for target, kind in (
            (fifo, "a FIFO"),
            (device, "a character device"),
            (out / "sock", "a socket"),
            (directory, "a directory"),
        ):
            code, stdout, err = backup(capsys, registry, target, *force)
            assert (code, stdout, err) == (
                EXIT_USAGE,
                "",
                f"error: cannot write {target}: it is {kind}, not a regular file\n",
            )
    finally:
        listening.close()
    assert stat.S_ISFIFO(fifo.lstat().st_mode)
    assert device.is_symlink()
    assert stat.S_ISSOCK((out / "sock").lstat().st_mode)
    assert directory.is_dir()
    assert leftovers(out, "fifo", "null", "sock", "dir") == []


def one_line_error(result: tuple[int, str, str], message: str) -> None:
    code, out, err = result
    assert (code, out) == (EXIT_USAGE, "")
    assert err.startswith("error: ")
    assert err.count("\n") == 1
    assert "Traceback" not in err
    assert message in err


@on_sqlite
def test_errors_are_one_line_and_leave_nothing_behind(
    registry: Registry, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    out.mkdir()
    missing = tmp_path / "nothing-here.db"
    one_line_error(
        run(capsys, "db", "backup", str(out / "copy.db"), "--database-url", f"sqlite:///{missing}"),
        f"no SQLite database at {missing}",
    )
    assert not missing.exists()  # not created as an empty database
    one_line_error(backup(capsys, registry, tmp_path / "no-dir" / "copy.db"), "no directory")
    (tmp_path / "a-file").write_text("")
    one_line_error(backup(capsys, registry, tmp_path / "a-file" / "copy.db"), "no directory")
    one_line_error(backup(capsys, registry, out), "is a directory")
    one_line_error(backup(capsys, registry, Path("/proc/aigov-copy.db")), "cannot write in /proc")
    not_a_database = tmp_path / "notes.txt"
    not_a_database.write_text("not a database " * 100)
    one_line_error(
        run(capsys, "db", "backup", str(out / "copy.db"), "--database-url", f"sqlite:///{not_a_database}"),
        "file is not a database",
    )
    assert leftovers(out) == []


@on_sqlite
def test_a_full_disk_fails_in_one_line_and_leaves_no_temporary_file(
    registry: Registry, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """RLIMIT_FSIZE makes writes past 64 KiB fail (EFBIG, SIGXFSZ ignored), as a full disk fails them."""
    issue(registry, 5)
    source = Path(registry.settings.database_url.removeprefix("sqlite:///"))
    assert source.stat().st_size > 128 * 1024
    out = tmp_path / "out"
    out.mkdir()
    soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    previous = signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (64 * 1024, hard))
    try:
        code = main(["db", "backup", str(out / "copy.db"), "--database-url", registry.settings.database_url])
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))
        signal.signal(signal.SIGXFSZ, previous)
    captured = capsys.readouterr()
    one_line_error((code, captured.out, captured.err), f"cannot copy {source} into {out}")
    assert leftovers(out) == []


def corrupt_index(path: Path, index: str, old: bytes, new: bytes) -> None:
    """Change `old` into `new` in the root page of `index`: the index then disagrees with its table."""
    with sqlite3.connect(path) as connection:
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        page_size = connection.execute("PRAGMA page_size").fetchone()[0]
        root = connection.execute("SELECT rootpage FROM sqlite_master WHERE name = ?", (index,)).fetchone()[0]
    connection.close()
    data = bytearray(path.read_bytes())
    start = (root - 1) * page_size
    page = bytes(data[start : start + page_size])
    assert page.count(old) == 1
    data[start : start + page_size] = page.replace(old, new)
    path.write_bytes(bytes(data))


@on_sqlite
def test_a_damaged_database_is_not_backed_up(
    registry: Registry, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    issue(registry, name="Damaged Index Ltd.")
    registry.engine.dispose()
    source = Path(registry.settings.database_url.removeprefix("sqlite:///"))
    corrupt_index(source, "ix_credentials_corporate_number", b"7000012050002", b"7000012050003")
    out = tmp_path / "out"
    out.mkdir()
    one_line_error(
        backup(capsys, registry, out / "copy.db"), "fails PRAGMA integrity_check (row 1 missing from index"
    )
    assert leftovers(out) == []


@on_sqlite
def test_a_copy_of_a_broken_chain_is_kept_and_says_so(
    registry: Registry, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A faithful copy of a tampered log is evidence: written, but the line and the exit code (1) say it."""
    with registry.engine.begin() as connection:
        connection.execute(sa.text("UPDATE events SET reason = 'rewritten' WHERE seq = 2"))
    target = tmp_path / "copy.db"
    code, out, err = backup(capsys, registry, target)
    assert (code, err) == (EXIT_INVALID, "")
    assert out.endswith(
        "event chain does NOT verify (event 2: the event does not match its hash (1 events before it verify))\n"
    )
    assert target.is_file()


@pytest.mark.postgres
@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
def test_postgresql_is_pointed_to_pg_dump(
    database_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    parsed = sa.engine.make_url(database_url)
    target = tmp_path / "registry.dump"
    code, out, err = run(capsys, "db", "backup", str(target), "--database-url", database_url)
    assert (code, out) == (EXIT_USAGE, "")
    connection = f"postgresql://{parsed.username}@{parsed.host}:{parsed.port}/{parsed.database}"
    assert err == (
        "error: aigov db backup copies SQLite databases; back PostgreSQL up with its logical dump: "
        f"pg_dump --format=custom --file {target} {connection}\n"
    )
    assert f":{parsed.password}@" not in err
    assert list(tmp_path.iterdir()) == []


def test_the_pg_dump_command_is_quoted_and_has_no_password(capsys: pytest.CaptureFixture[str]) -> None:
    url = "postgresql://ops:s3cret@db.example:5433/aigov?sslmode=require"
    code, _, err = run(capsys, "db", "backup", "/backups/registry of today.dump", "--database-url", url)
    assert code == EXIT_USAGE
    assert err.endswith(
        "pg_dump --format=custom --file '/backups/registry of today.dump' "
        "'postgresql://ops@db.example:5433/aigov?sslmode=require'\n"
    )
    assert "s3cret" not in err
