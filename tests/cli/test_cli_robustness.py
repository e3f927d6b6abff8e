"""The CLI never ends in a traceback: a reader that closes the pipe early, a database URL aigov cannot use, a
time or duration past the ends of the calendar."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from aigov.cli import EXIT_USAGE, main
from keys import b64url_decode


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


def test_a_registry_passphrase_that_is_not_utf8_is_bad_usage(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("AIGOV_KEY_PASSPHRASE", "pass\udcffword")  # how Python reads the bytes pass\xffword
    monkeypatch.setenv("AIGOV_ENVIRONMENT", "development")
    monkeypatch.setenv("AIGOV_DATABASE_URL", f"sqlite:///{tmp_path / 'aigov.db'}")
    monkeypatch.setenv("AIGOV_KEYSTORE_PATH", str(tmp_path / "keys"))
    accredit = ["admin", "accredit", "--issuer", "cb", "--reason", "audit passed"]  # reads the key first

    for command in (accredit, ["admin", "init"]):
        assert main(command) == EXIT_USAGE
        assert capsys.readouterr().err == (
            "error: invalid registry settings: AIGOV_KEY_PASSPHRASE: not valid UTF-8: "
            "the keystore passphrase must be UTF-8 text\n"
        )
    assert list(tmp_path.iterdir()) == []


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


# -- times and durations at the ends of the calendar ------------------------------------------------------------
# `datetime` holds years 1 to 9999 and `timedelta` 999,999,999 days: every option that becomes one is bounded, so a
# far-off value is a one-line error naming the option (exit 3), never an OverflowError, a crash or a hang.
CLOCK_RANGE = "give a time from 1970-01-01T00:00:00Z to 9999-12-31T23:59:59Z"
DURATION_RANGE = "a duration must be at most 36500d (100 years)"


@pytest.mark.parametrize(
    ("argv", "fragments"),
    [
        (
            ["verify", "c.jwt", "--trust", "t.json", "--now", "0001-01-01T00:00:00Z"],
            ("argument --now", CLOCK_RANGE),
        ),
        (
            ["verify", "c.jwt", "--trust", "t.json", "--now", "0001-01-01T00:00:00+09:00"],
            ("--now", CLOCK_RANGE),
        ),
        (
            ["verify", "c.jwt", "--trust", "t.json", "--now", "9999-12-31T23:00:00-05:00"],
            ("--now", CLOCK_RANGE),
        ),
        (["verify", "c.jwt", "--trust", "t.json", "--now", "1969-12-31T23:59:59Z"], ("--now", CLOCK_RANGE)),
        (
            ["verify", "c.jwt", "--trust", "t.json", "--max-clock-skew", "99999999999999"],
            ("argument --max-clock-skew", "at most 604,800 seconds (7 days), not 99,999,999,999,999"),
        ),
        (
            ["verify", "c.jwt", "--trust", "t.json", "--max-clock-skew", "604801"],
            ("--max-clock-skew", "7 days"),
        ),
        (
            ["verify", "c.jwt", "--trust", "t.json", "--max-age", "999999999d"],
            ("argument --max-age", DURATION_RANGE),
        ),
        (
            ["verify", "c.jwt", "--bundle", "b.jwt", "--max-age", "36501d"],
            ("argument --max-age", DURATION_RANGE),
        ),
        (["verify-batch", "-", "--trust", "t.json", "--now", "0001-01-01T00:00:00Z"], ("--now", CLOCK_RANGE)),
        (["verify-batch", "-", "--trust", "t.json", "--max-age", "3000000d"], ("--max-age", DURATION_RANGE)),
        (
            ["status-list", "--purpose", "revocation", "--valid-for", "3000000d"],
            ("argument --valid-for", DURATION_RANGE),
        ),
        (
            ["status-list", "--purpose", "revocation", "--ttl", "99999999999999"],
            ("argument --ttl", "at most 3,153,600,000 seconds (100 years)"),
        ),
        (
            ["status-list", "--purpose", "revocation", "--ttl", "-5"],
            ("argument --ttl", "must not be negative"),
        ),
        (
            ["bundle", "pull", "https://r.example/b", "-o", "b.jwt", "--timeout", "nan"],
            ("argument --timeout",),
        ),
        (
            ["bundle", "pull", "https://r.example/b", "-o", "b.jwt", "--timeout", "inf"],
            ("argument --timeout",),
        ),
        (
            ["bundle", "pull", "https://r.example/b", "-o", "b.jwt", "--timeout", "1e309"],
            ("argument --timeout",),
        ),
        (
            ["bundle", "pull", "https://r.example/b", "-o", "b.jwt", "--timeout", "-1"],
            ("argument --timeout",),
        ),
        (
            ["bundle", "pull", "https://r.example/b", "-o", "b.jwt", "--timeout", "0"],
            ("argument --timeout", "more than 0 and at most 3600 seconds"),
        ),
        (["keys", "compromised", "k", "--at", "0001-01-01T00:00:00+09:00"], (CLOCK_RANGE,)),
    ],
    ids=lambda value: " ".join(value) if isinstance(value, list) else None,
)
def test_a_time_or_duration_off_the_calendar_is_one_line_and_exit_3(
    argv: list[str], fragments: tuple[str, ...], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    if argv[0] == "keys":
        argv = [*argv, "--keystore", str(tmp_path / "keys"), "--insecure-plaintext-keys"]
    code = main(argv)

    captured = capsys.readouterr()
    assert code == EXIT_USAGE
    assert captured.out == ""
    assert captured.err.startswith("error: ")
    assert captured.err.count("\n") == 1, captured.err
    for fragment in fragments:
        assert fragment in captured.err


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Path]:
    """A certificate, the DID document pinning its key, and the issuer's keystore (plaintext: a throwaway)."""
    root = tmp_path_factory.mktemp("extreme-times")
    keystore = ["--keystore", str(root / "keys"), "--insecure-plaintext-keys"]
    issuer_options = ["--did", "did:web:cb.test.example", "--name", "Test Certification Body", *keystore]
    sample = Path(__file__).parents[2] / "issuer" / "data" / "sample-decision.json"
    steps = (
        ["keys", "new", *keystore],
        ["keys", "did", "--did", "did:web:cb.test.example", "-o", str(root / "trust.json"), *keystore],
        ["issue", str(sample), "-o", str(root / "certificate.jwt"), *issuer_options],
    )
    for step in steps:
        assert main(step) == 0, step
    return root / "certificate.jwt", root / "trust.json", root / "keys"


@pytest.mark.parametrize(
    ("extra", "verdict"),
    [
        (["--now", "9999-12-31T23:59:59Z"], "INVALID: do not rely on this credential: expired on "),
        (["--now", "9999-12-31T23:59:59Z", "--max-clock-skew", "604800"], "INVALID: do not rely on this "),
        (["--now", "1970-01-01T00:00:00Z"], "INVALID: do not rely on this credential: not valid before "),
        (
            ["--now", "1970-01-01T09:00:00+09:00", "--max-clock-skew", "604800"],
            "INVALID: do not rely on this ",
        ),
    ],
    ids=lambda value: " ".join(value) if isinstance(value, list) else None,
)
def test_the_calendar_s_ends_give_a_verdict(
    certificate: tuple[Path, Path, Path], extra: list[str], verdict: str, capsys: pytest.CaptureFixture[str]
) -> None:
    capsys.readouterr()
    token, trust, _ = certificate
    code = main(["verify", str(token), "--trust", str(trust), "--max-age", "36500d", *extra])

    captured = capsys.readouterr()
    assert (code, captured.err) == (1, "")
    assert captured.out.rstrip("\n").rsplit("\n", 1)[-1].startswith(verdict), captured.out


@pytest.mark.parametrize("member", ["expires", "revoked"])
@pytest.mark.parametrize("value", ["9999-12-31T23:59:59-01:00", "0001-01-01T00:00:00+01:00"])
def test_a_trusted_key_time_off_the_calendar_is_one_line_and_exit_3(
    certificate: tuple[Path, Path, Path],
    member: str,
    value: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    token, trust, _ = certificate
    document = json.loads(trust.read_text())
    document["verificationMethod"][0][member] = value  # a dateTimeStamp in year 10000 or year 0 in UTC
    hostile = tmp_path / "did.json"
    hostile.write_text(json.dumps(document))
    capsys.readouterr()

    code = main(["verify", str(token), "--trust", str(hostile)])

    captured = capsys.readouterr()
    assert (code, captured.out) == (EXIT_USAGE, "")
    assert captured.err.startswith(f"error: {hostile}: DID document did:web:cb.test.example: ")
    assert captured.err.endswith(
        f"{member!r} {value!r} is out of range: in UTC it falls outside the years 1 to 9999\n"
    )
    assert captured.err.count("\n") == 1


def test_the_longest_status_list_lifetime_signs(
    certificate: tuple[Path, Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    _, _, keystore = certificate
    capsys.readouterr()
    code = main(
        [
            "status-list",
            "--purpose",
            "revocation",
            "--valid-for",
            "36500d",
            "--ttl",
            "3153600000",
            "--did",
            "did:web:cb.test.example",
            "--name",
            "Test Certification Body",
            "--keystore",
            str(keystore),
            "--insecure-plaintext-keys",
        ]
    )

    captured = capsys.readouterr()
    assert (code, captured.err) == (0, "")
    payload = json.loads(b64url_decode(captured.out.strip().split(".")[1]))
    assert payload["credentialSubject"]["ttl"] == 3_153_600_000_000
    lifetime = datetime.fromisoformat(payload["validUntil"]) - datetime.fromisoformat(payload["validFrom"])
    assert lifetime == timedelta(days=36_500)
