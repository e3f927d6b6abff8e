"""Only `aigov db upgrade` creates a database: every other command, given an SQLite URL whose file does not
exist (a typo, a wrong directory), says so in one line and leaves nothing behind, and `aigov db check` never
writes the file it checks.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from aigov.cli import EXIT_INVALID, EXIT_OK, EXIT_USAGE, main
from registry.db import MissingDatabaseError, require_database

COMMANDS = [
    ["admin", "init"],
    ["admin", "create-issuer", "--slug", "acme-cb", "--name-en", "ACME"],
    ["admin", "create-token", "--issuer", "acme-cb", "--scopes", "credentials:issue"],
    ["admin", "revoke-token", "0123456789abcdef"],
    ["admin", "list-tokens"],
    ["admin", "accredit", "--issuer", "acme-cb", "--reason", "typo"],
    ["admin", "suspend-accreditation", "--issuer", "acme-cb", "--reason", "typo"],
    ["admin", "withdraw-accreditation", "--issuer", "acme-cb", "--reason", "typo"],
    ["db", "current"],
    ["db", "check"],
    ["db", "backup", "copy.db"],
]


@pytest.fixture
def typo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """AIGOV_* settings whose database URL names a file, in a directory, that do not exist."""
    path = tmp_path / "x" / "typo.db"
    monkeypatch.setenv("AIGOV_DATABASE_URL", f"sqlite:///{path}")
    monkeypatch.setenv("AIGOV_ENVIRONMENT", "development")
    monkeypatch.setenv("AIGOV_KEY_PASSPHRASE", "missing database tests: not a real passphrase")
    monkeypatch.setenv("AIGOV_KEYSTORE_PATH", str(tmp_path / "keys"))
    monkeypatch.chdir(tmp_path)
    return path


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.mark.parametrize("argv", COMMANDS, ids=" ".join)
def test_commands_refuse_a_missing_database_and_create_nothing(
    typo: Path, argv: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(capsys, *argv)
    assert (code, out) == (EXIT_USAGE, "")
    assert err == f"error: no SQLite database at {typo}: create it with `aigov db upgrade`\n"
    assert not typo.parent.exists()  # neither the file nor its directory
    assert sorted(os.listdir(typo.parent.parent)) == []  # no keystore, no copy either


def test_serve_refuses_to_start_on_a_missing_database(typo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "serve", "--port", "9")
    assert (code, out) == (EXIT_USAGE, "")
    assert err == (
        f"error: refusing to start: no SQLite database at {typo}: create it with `aigov db upgrade`\n"
    )
    assert not typo.parent.exists()


def test_upgrade_creates_the_database_and_then_the_others_find_it(
    typo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(capsys, "db", "upgrade")[0] == EXIT_OK
    assert typo.is_file()
    assert run(capsys, "admin", "init")[0] == EXIT_OK
    code, out, _ = run(capsys, "admin", "list-tokens")
    assert (code, out) == (EXIT_OK, "")
    assert run(capsys, "db", "current")[0] == EXIT_OK
    assert run(capsys, "db", "check")[0] == EXIT_OK


def test_check_does_not_write_an_empty_file(typo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    typo.parent.mkdir()
    typo.touch()
    code, out, err = run(capsys, "db", "check")
    assert (code, err) == (EXIT_INVALID, "")
    assert "✘ schema" in out
    assert typo.stat().st_size == 0  # not turned into an SQLite file (switching it to WAL would)
    assert os.listdir(typo.parent) == ["typo.db"]  # no -wal, -shm or -journal


def test_check_leaves_a_registry_database_byte_for_byte(
    typo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(capsys, "db", "upgrade")[0] == EXIT_OK
    assert run(capsys, "admin", "init")[0] == EXIT_OK
    capsys.readouterr()
    before = typo.read_bytes(), typo.stat().st_mtime_ns
    code, out, _ = run(capsys, "db", "check")
    assert code == EXIT_OK, out
    assert "✔ search index" in out  # the check that needs a (rolled back) write transaction ran
    assert (typo.read_bytes(), typo.stat().st_mtime_ns) == before


def test_check_refuses_a_directory_in_one_line(typo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    typo.mkdir(parents=True)
    code, out, err = run(capsys, "db", "check")
    assert (code, out) == (EXIT_USAGE, "")
    assert err.count("\n") == 1
    assert str(typo) in err


@pytest.mark.parametrize(
    "url",
    [
        "sqlite://",
        "sqlite:///:memory:",
        "sqlite:///file:shared?mode=memory&cache=shared&uri=true",
        "postgresql+psycopg://nobody@127.0.0.1:9/nothing",
    ],
)
def test_databases_without_a_file_are_not_checked_for_one(url: str) -> None:
    require_database(url)  # nothing to find: no error


def test_a_uri_names_its_file(tmp_path: Path) -> None:
    path = tmp_path / "a b.db"
    url = f"sqlite:///{path.as_uri()}?mode=ro&uri=true"
    with pytest.raises(MissingDatabaseError) as raised:
        require_database(url)
    assert raised.value.path == path
    path.touch()
    require_database(url)
