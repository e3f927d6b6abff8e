"""`aigov db check`: integrity, name search index, schema revision and event chain, on SQLite and PostgreSQL.

Each check is made to fail by damaging the database the way it guards against: an event edited with SQL, a
schema behind the migrations, a search index that disagrees with its table, a damaged SQLite index.
"""

from __future__ import annotations

import socket
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
import sqlalchemy as sa

from aigov.cli import EXIT_INVALID, EXIT_OK, EXIT_USAGE, main
from issuer import CertificationDecision
from registry import highwater, lifecycle
from registry.migrate import upgrade

if TYPE_CHECKING:
    from conftest import Registry

on_sqlite = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


@pytest.fixture(autouse=True)
def marks_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Where `aigov db check` looks for high-water marks: this test's own file (none unless a test writes it)."""
    path = tmp_path / "high-water-marks.json"
    monkeypatch.setenv("AIGOV_HIGH_WATER_FILE", str(path))
    return path


def check(capsys: pytest.CaptureFixture[str], url: str) -> tuple[int, list[str], str]:
    code = main(["db", "check", "--database-url", url])
    captured = capsys.readouterr()
    return code, captured.out.splitlines(), captured.err


def issue(registry: Registry, name: str = "Check Test K.K.") -> None:
    decision = CertificationDecision.model_validate(
        registry.decision(subject={"legalName": {"en": name}, "corporateNumber": "7000012050002"})
    )
    with registry.session() as session:
        lifecycle.issue(
            session=session, ctx=registry.context(), body=registry.acme, decision=decision, actor="test"
        )


def marks(lines: list[str]) -> dict[str, str]:
    """check name -> its mark (✔ or ✘)."""
    return {line[2:].split("  ")[0].strip(): line[0] for line in lines}


def test_a_sound_database_passes(registry: Registry, capsys: pytest.CaptureFixture[str]) -> None:
    issue(registry)
    issue(registry)
    code, lines, err = check(capsys, registry.settings.database_url)
    assert (code, err) == (EXIT_OK, "")
    chain = f"{registry.setup_events + 2} events: every hash and link verifies, and so does the chain head"
    if registry.is_postgres:  # no SQLite checks
        expected = ["✔ schema       at 0007, the head revision", f"✔ event chain  {chain}"]
    else:
        expected = [
            "✔ integrity     PRAGMA integrity_check: ok",
            "✔ search index  credentials_fts matches the credentials it indexes",
            "✔ schema        at 0007, the head revision",
            f"✔ event chain   {chain}",
        ]
    assert lines == expected


def test_an_event_edited_with_sql_fails_the_chain(
    registry: Registry, capsys: pytest.CaptureFixture[str]
) -> None:
    issue(registry)
    with registry.engine.begin() as connection:
        connection.execute(sa.text("""UPDATE events SET payload = '{"tampered": true}' WHERE seq = 1"""))
    code, lines, err = check(capsys, registry.settings.database_url)
    assert (code, err) == (EXIT_INVALID, "")
    assert marks(lines) == (
        {"schema": "✔", "event chain": "✘"}
        if registry.is_postgres
        else {"integrity": "✔", "search index": "✔", "schema": "✔", "event chain": "✘"}
    )
    assert lines[-1].endswith("event 1: the event does not match its hash (0 events before it verify)")


def test_a_deleted_last_event_fails_at_the_chain_head(
    registry: Registry, capsys: pytest.CaptureFixture[str]
) -> None:
    """A truncated tail leaves every remaining link intact: the chain head row catches it."""
    with registry.engine.begin() as connection:
        connection.execute(sa.text("DELETE FROM events WHERE seq = (SELECT max(seq) FROM events)"))
    code, lines, _ = check(capsys, registry.settings.database_url)
    assert code == EXIT_INVALID
    assert lines[-1].startswith("✘ event chain")
    assert "the chain head does not match the last event" in lines[-1]


def test_a_schema_behind_the_head_fails(empty_database_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    upgrade(empty_database_url, "0004")
    code, lines, _ = check(capsys, empty_database_url)
    assert code == EXIT_INVALID
    sqlite = {} if empty_database_url.startswith("postgresql") else {"integrity": "✔", "search index": "✔"}
    assert marks(lines) == {**sqlite, "schema": "✘", "event chain": "✔"}
    assert [line.split(None, 2)[2] for line in lines if "schema" in line] == [
        "the database is at 0004, this registry needs 0007: run `aigov db upgrade`"
    ]


@on_sqlite
def test_a_search_index_out_of_step_fails(registry: Registry, capsys: pytest.CaptureFixture[str]) -> None:
    issue(registry)
    with registry.engine.begin() as connection:  # an index entry without its row
        connection.exec_driver_sql(
            "INSERT INTO credentials_fts(rowid, legal_name_en, legal_name_ja, certificate_number) "
            "VALUES (9999, 'Ghost K.K.', NULL, 'AIGC-GHOST')"
        )
    code, lines, _ = check(capsys, registry.settings.database_url)
    assert code == EXIT_INVALID
    assert marks(lines) == {"integrity": "✔", "search index": "✘", "schema": "✔", "event chain": "✔"}
    assert "rebuild it: INSERT INTO credentials_fts(credentials_fts) VALUES ('rebuild')" in lines[1]


@on_sqlite
def test_a_damaged_sqlite_file_fails_integrity(
    registry: Registry, capsys: pytest.CaptureFixture[str]
) -> None:
    issue(registry, name="Damaged Index Ltd.")
    registry.engine.dispose()
    path = Path(registry.settings.database_url.removeprefix("sqlite:///"))
    with sqlite3.connect(path) as connection:
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        page_size = connection.execute("PRAGMA page_size").fetchone()[0]
        root = connection.execute(
            "SELECT rootpage FROM sqlite_master WHERE name = 'ix_credentials_corporate_number'"
        ).fetchone()[0]
    connection.close()
    data = bytearray(path.read_bytes())
    start = (root - 1) * page_size
    page = bytes(data[start : start + page_size])
    assert page.count(b"7000012050002") == 1  # the corporate number issue() gives
    data[start : start + page_size] = page.replace(b"7000012050002", b"7000012050003")
    path.write_bytes(bytes(data))

    code, lines, _ = check(capsys, registry.settings.database_url)
    assert code == EXIT_INVALID
    assert lines[0].startswith("✘ integrity     PRAGMA integrity_check: row 1 missing from index")
    assert marks(lines)["event chain"] == "✔"  # the rows themselves are intact


def test_no_database_is_a_usage_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    missing = tmp_path / "nothing-here.db"
    code, lines, err = check(capsys, f"sqlite:///{missing}")
    assert (code, lines) == (EXIT_USAGE, [])
    assert err == f"error: no SQLite database at {missing}: create it with `aigov db upgrade`\n"
    assert not missing.exists()  # not created as an empty database

    with socket_that_refuses() as port:
        code, lines, err = check(capsys, f"postgresql://nobody:pw@127.0.0.1:{port}/nothing")
    assert (code, lines) == (EXIT_USAGE, [])
    assert err.startswith("error: cannot read the database: ")
    assert err.count("\n") == 1
    assert "pw@" not in err


@contextmanager
def socket_that_refuses() -> Iterator[int]:
    """A loopback port nobody listens on (bound, never listening): a connection to it is refused at once."""
    with socket.socket() as bound:
        bound.bind(("127.0.0.1", 0))
        yield int(bound.getsockname()[1])


@pytest.mark.parametrize("content", [bytes(range(256)) * 32, b"SQLite format 3\x00" + bytes(4080)])
def test_a_file_that_is_not_a_sound_database_fails_its_checks_without_a_trace(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: bytes
) -> None:
    damaged = tmp_path / "damaged.db"
    damaged.write_bytes(content)
    code, lines, err = check(capsys, f"sqlite:///{damaged}")
    assert "Traceback" not in err
    assert code in (EXIT_INVALID, EXIT_USAGE)
    assert lines or err.startswith("error: ")
    assert all(line.startswith("✘") for line in lines), lines
    assert damaged.read_bytes() == content  # read-only: left as it was


def test_the_high_water_mark_is_checked_once_the_server_has_recorded_one(
    registry: Registry, capsys: pytest.CaptureFixture[str], marks_file: Path
) -> None:
    issue(registry)
    with registry.session() as session:
        head = highwater.current(session)
    highwater.record(marks_file, head)
    code, lines, _ = check(capsys, registry.settings.database_url)
    assert code == EXIT_OK
    assert lines[-1] == (
        f"✔ high-water mark  event {head.seq}, recorded in {marks_file}, is in the log (which is at {head.seq})"
    )

    # A later event recorded, which the database no longer holds: it went back in time.
    highwater.record(marks_file, highwater.Mark(first=head.first, seq=head.seq + 5, hash="f" * 64))
    code, lines, _ = check(capsys, registry.settings.database_url)
    assert code == EXIT_INVALID
    assert lines[-1].startswith(
        f"✘ high-water mark  the database went back in time (its event log ends at event {head.seq}, but this "
        f"registry had recorded event {head.seq + 5})"
    )

    marks_file.write_text("{")  # a damaged marks file is no all-clear
    code, lines, _ = check(capsys, registry.settings.database_url)
    assert code == EXIT_INVALID
    assert lines[-1].startswith(f"✘ high-water mark  cannot read the high-water marks in {marks_file}")
