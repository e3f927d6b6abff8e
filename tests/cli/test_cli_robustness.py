"""The CLI never ends in a traceback: a reader that closes the pipe early, a database URL aigov cannot use."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from aigov.cli import EXIT_USAGE, main


def test_a_closed_pipe_ends_quietly(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`aigov keys jwks | head -c 300`: the reader is gone before aigov writes; no BrokenPipeError traceback."""
    keystore = ["--keystore", str(tmp_path / "keys"), "--insecure-plaintext-keys"]
    assert main(["keys", "new", *keystore]) == 0
    capsys.readouterr()
    read, write = os.pipe()
    os.close(read)  # closed before the child writes a byte: every write fails with EPIPE
    try:
        done = subprocess.run(  # noqa: S603 - our own interpreter and module, fixed arguments
            [sys.executable, "-m", "aigov", "keys", "jwks", *keystore],
            stdout=write,
            stderr=subprocess.PIPE,
            timeout=60,
            check=False,
        )
    finally:
        os.close(write)
    assert done.stderr.decode() == ""
    assert done.returncode == 1  # what Python's docs do on SIGPIPE: quiet, but not "success"


@pytest.mark.parametrize(
    ("url", "where"),
    [
        ("mysql://x", "AIGOV_DATABASE_URL"),
        ("mysql+pymysql://u:p@db/aigov", "AIGOV_DATABASE_URL"),
        ("postgresql+psycopg2://u:p@db/aigov", "AIGOV_DATABASE_URL"),  # psycopg2: not installed
        ("postgresql+asyncpg://u:p@db/aigov", "AIGOV_DATABASE_URL"),
        ("postgres:/db/aigov", "AIGOV_DATABASE_URL"),
        ("not a url", "AIGOV_DATABASE_URL"),
    ],
)
def test_an_unsupported_database_url_is_bad_usage(
    url: str, where: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("AIGOV_DATABASE_URL", url)
    for command in (["db", "upgrade"], ["db", "current"]):
        assert main(command) == EXIT_USAGE
        err = capsys.readouterr().err
        assert err == (
            f"error: invalid registry settings: {where}: unsupported database URL: "
            "use sqlite:///… or postgresql://… (postgresql+psycopg://…)\n"
        )
    monkeypatch.delenv("AIGOV_DATABASE_URL")
    assert main(["db", "upgrade", "--database-url", url]) == EXIT_USAGE
    assert "--database-url: unsupported database URL" in capsys.readouterr().err


@pytest.mark.parametrize("option", ["--scheme-owner", "--scheme-owner-fingerprint"])
def test_a_thumbprint_that_begins_with_a_dash_is_read_as_the_value(
    option: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """RFC 7638 thumbprints are base64url: one in 64 begins with "-", which argparse took for an option."""
    missing = tmp_path / "bundle.jwt"
    code = main(
        [
            "verify",
            str(missing),
            "--bundle",
            str(missing),
            option,
            "-Qx3kT0d9yJm0nWbXzN1pKvLhA8sE2rU5gF7cI4oY6w",
        ]
    )

    err = capsys.readouterr().err
    assert code == EXIT_USAGE
    assert "expected one argument" not in err
    assert str(missing) in err  # it got as far as reading the files
