"""`aigov db`, `aigov admin` and `aigov serve`, in-process (and `serve` once for real, in a subprocess)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from sqlmodel import Session

from aigov.cli import EXIT_OK, EXIT_USAGE, main
from registry.db import make_engine
from registry.tokens import authenticate

PASSPHRASE = "cli tests: not a real passphrase"


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """Production-like AIGOV_* settings pointing into tmp_path."""
    values = {
        "AIGOV_DATABASE_URL": f"sqlite:///{tmp_path / 'registry.db'}",
        "AIGOV_PUBLIC_URL": "https://registry.test.example",
        "AIGOV_KEYSTORE_PATH": str(tmp_path / "keys"),
        "AIGOV_KEY_PASSPHRASE": PASSPHRASE,
        "AIGOV_ENVIRONMENT": "production",
    }
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    monkeypatch.chdir(tmp_path)
    return values


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_unmigrated_database_is_refused(env: dict[str, str], capsys: pytest.CaptureFixture[str]) -> None:
    for argv in (["serve"], ["db", "current"], ["admin", "create-token", "--issuer", "x", "--scopes", "a"]):
        code, _, err = run(capsys, *argv)
        assert code == EXIT_USAGE, argv
        assert "aigov db upgrade" in err
        assert err.count("\n") == 1

    assert run(capsys, "db", "upgrade")[0] == EXIT_OK
    assert run(capsys, "db", "current")[0] == EXIT_OK


def test_admin_workflow(env: dict[str, str], capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, "db", "upgrade")[0] == EXIT_OK

    code, out, err = run(capsys, "admin", "init")
    assert (code, out) == (EXIT_OK, "did:web:registry.test.example\n")
    assert "EXAMPLE scheme" in err

    code, out, _ = run(
        capsys,
        "admin",
        "create-issuer",
        "--slug",
        "acme-cb",
        "--name-en",
        "ACME Certification",
        "--name-ja",
        "アクメ認証",
    )
    assert (code, out) == (EXIT_OK, "did:web:registry.test.example:issuers:acme-cb\n")
    assert (Path(env["AIGOV_KEYSTORE_PATH"]) / "acme-cb").is_dir()
    code, _, err = run(capsys, "admin", "create-issuer", "--slug", "acme-cb", "--name-en", "Again")
    assert code == EXIT_USAGE
    assert "already exists" in err

    code, out, err = run(
        capsys,
        "admin",
        "create-token",
        "--issuer",
        "acme-cb",
        "--scopes",
        "credentials:issue,credentials:revoke",
    )
    assert code == EXIT_OK
    secret = out.strip()
    assert secret.startswith("aigov_")
    assert "shown only now" in err
    engine = make_engine(env["AIGOV_DATABASE_URL"])
    try:
        with Session(engine) as session:
            found = authenticate(session=session, presented=secret, now=datetime.now(UTC))
            assert found is not None
            assert found[1] == ["credentials:issue", "credentials:revoke"]

        code, out, _ = run(capsys, "admin", "revoke-token", found[0])
        assert code == EXIT_OK
        assert "revoked" in out
        with Session(engine) as session:
            assert authenticate(session=session, presented=secret, now=datetime.now(UTC)) is None
    finally:
        engine.dispose()


def test_admin_usage_errors(env: dict[str, str], capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, "db", "upgrade")[0] == EXIT_OK
    assert run(capsys, "admin", "create-issuer", "--slug", "acme-cb", "--name-en", "ACME")[0] == EXIT_OK
    for argv, message in (
        (["create-token", "--issuer", "acme-cb", "--scopes", "credentials:everything"], "unknown scope"),
        (["create-token", "--issuer", "nobody", "--scopes", "credentials:issue"], "no certification body"),
        (["revoke-token", "0123456789abcdef"], "no token"),
        (["create-issuer", "--slug", "Bad Slug", "--name-en", "X"], "slug"),
    ):
        code, _, err = run(capsys, "admin", *argv)
        assert code == EXIT_USAGE, argv
        assert message in err
        assert "Traceback" not in err


def test_development_secrets_are_refused_in_production(
    env: dict[str, str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("AIGOV_KEY_PASSPHRASE")
    code, _, err = run(capsys, "admin", "init")
    assert code == EXIT_USAGE
    assert "AIGOV_KEY_PASSPHRASE" in err


def test_in_development_the_published_passphrase_is_used_with_a_warning(
    env: dict[str, str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("AIGOV_KEY_PASSPHRASE")
    monkeypatch.setenv("AIGOV_ENVIRONMENT", "development")
    assert run(capsys, "db", "upgrade")[0] == EXIT_OK

    code, _, err = run(capsys, "admin", "init")

    assert code == EXIT_OK
    assert "warning: AIGOV_KEY_PASSPHRASE is not set" in err
    monkeypatch.setenv("AIGOV_KEY_PASSPHRASE", PASSPHRASE)  # one of the user's own: no warning
    assert "warning" not in run(capsys, "admin", "create-issuer", "--slug", "cb-x", "--name-en", "X")[2]


@pytest.mark.slow
def test_serve_runs_the_registry(env: dict[str, str], capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, "db", "upgrade")[0] == EXIT_OK
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    process = subprocess.Popen(  # noqa: S603  # this interpreter running our CLI
        [sys.executable, "-m", "aigov", "serve", "--port", str(port), "--no-access-log"],
        env={**os.environ, **env},
        cwd=Path(env["AIGOV_KEYSTORE_PATH"]).parent,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 20
        while True:
            assert process.poll() is None, process.communicate()[1].decode()
            try:
                response = httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1)
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline, "the server did not answer"
                time.sleep(0.1)
        assert response.json() == {"status": "ok"}
        assert "server" not in response.headers  # no version banner
    finally:
        process.terminate()
        process.communicate(timeout=15)
