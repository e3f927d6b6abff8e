"""`aigov keys` in-process: real keystores under tmp_path, the passphrase from the environment."""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from pathlib import Path

import pytest

from aigov.cli import EXIT_OK, EXIT_USAGE, main
from keys import KeyState, Keystore, parse_did_document, parse_jwks, public_key_from_did_key

PASSPHRASE = "correct horse battery staple"


@pytest.fixture
def keystore(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The keystore path, named by AIGOV_KEYSTORE, with the passphrase in AIGOV_KEY_PASSPHRASE."""
    path = tmp_path / "keys"
    monkeypatch.setenv("AIGOV_KEYSTORE", str(path))
    monkeypatch.setenv("AIGOV_KEY_PASSPHRASE", PASSPHRASE)
    monkeypatch.delenv("AIGOV_ISSUER_DID", raising=False)
    monkeypatch.chdir(tmp_path)
    return path


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(["keys", *argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def open_store(path: Path) -> Keystore:
    return Keystore(path, passphrase=PASSPHRASE.encode())


def assert_one_line_error(code: int, err: str, message: str) -> None:
    assert code == EXIT_USAGE
    assert err.startswith("error: ")
    assert message in err
    assert err.count("\n") == 1
    assert "Traceback" not in err


def test_key_lifecycle(keystore: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "new")
    assert code == EXIT_OK
    first = out.strip()
    assert f"created active EdDSA key {first}" in err

    code, out, err = run(capsys, "rotate", "--alg", "ES256")
    assert code == EXIT_OK
    second = out.strip()
    assert f"retired {first}; new active ES256 key {second}" in err

    # A kid is a base64url thumbprint and begins with '-' once in 64: after '--' it is never read as an option.
    code, out, _ = run(capsys, "compromised", "--at", "2020-01-01T09:00:00+09:00", "--", first)
    assert code == EXIT_OK
    assert out == f"key {first} marked compromised as of 2020-01-01T00:00:00Z\n"

    code, _, err = run(capsys, "compromised", "--", second)
    assert code == EXIT_OK
    assert "there is no active key now: create one with `aigov keys new`" in err

    states = {record.kid: record.state for record in open_store(keystore).records()}
    assert states == {first: KeyState.COMPROMISED, second: KeyState.COMPROMISED}


def test_list(keystore: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "list")
    assert (code, err) == (EXIT_OK, f"no keys in {keystore}\n")
    run(capsys, "new", "--alg", "ES256")
    record = open_store(keystore).active()

    code, out, _ = run(capsys, "list")
    header, row = out.splitlines()
    assert header.split() == ["KID", "ALG", "STATE", "CREATED", "RETIRED", "COMPROMISED"]
    assert row.split()[:3] == [record.kid, "ES256", "active"]
    assert row.split()[4:] == ["-", "-"]

    code, out, _ = run(capsys, "list", "--json")
    [listed] = json.loads(out)
    assert listed["kid"] == record.kid
    assert listed["state"] == "active"
    assert listed["retired_at"] is None


def test_jwks_and_did_document(keystore: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run(capsys, "new")
    run(capsys, "rotate")
    published = open_store(keystore).published_keys()

    code, out, _ = run(capsys, "jwks")
    assert code == EXIT_OK
    assert parse_jwks(json.loads(out)) == published

    output = tmp_path / "did.json"
    code, out, err = run(capsys, "did", "--did", "did:web:issuer.example", "-o", str(output))
    assert (code, out) == (EXIT_OK, "")
    assert "serve it at https://issuer.example/.well-known/did.json" in err
    document = json.loads(output.read_text(encoding="utf-8"))
    assert parse_did_document(document, expected_did="did:web:issuer.example") == published


def test_did_key(keystore: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run(capsys, "new")
    store = open_store(keystore)

    code, out, _ = run(capsys, "did-key")
    assert code == EXIT_OK
    assert public_key_from_did_key(out.strip()) == store.active().public_key
    code, out_by_kid, _ = run(capsys, "did-key", "--", store.active().kid)
    assert out_by_kid == out


def test_keystore_option_overrides_the_environment(
    keystore: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    other = tmp_path / "other"

    code, _, _ = run(capsys, "new", "--keystore", str(other))

    assert code == EXIT_OK
    assert len(open_store(other).records()) == 1
    assert not keystore.exists()


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (("rotate",), "has no active key; create one with `aigov keys new`"),
        (("compromised", "no-such-kid"), "no key 'no-such-kid' in keystore"),
        (("compromised", "x", "--at", "yesterday"), "not an ISO 8601 time: 'yesterday'"),
        (("did", "--did", "did:web:127.0.0.1"), "did:web names a domain, not an IP address"),
        (("did-key",), "has no active key"),
        (("did",), "name the issuer with --did (or AIGOV_ISSUER_DID)"),
        (("new", "--alg", "RS256"), "invalid choice: 'RS256'"),
    ],
)
def test_errors_are_one_line(
    keystore: Path, capsys: pytest.CaptureFixture[str], argv: tuple[str, ...], message: str
) -> None:
    code, _, err = run(capsys, *argv)

    assert_one_line_error(code, err, message)


def test_second_new_points_to_rotate(keystore: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run(capsys, "new")

    code, _, err = run(capsys, "new")

    assert_one_line_error(code, err, "is already active; rotate to replace it (aigov keys rotate)")


def test_wrong_passphrase(
    keystore: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    run(capsys, "new")
    monkeypatch.setenv("AIGOV_KEY_PASSPHRASE", "not it")

    code, _, err = run(capsys, "rotate")

    assert_one_line_error(code, err, "wrong passphrase")


def test_damaged_keystore_is_reported_not_raised(keystore: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run(capsys, "new")
    next(keystore.glob("*.json")).write_text("{")

    code, _, err = run(capsys, "list")

    assert_one_line_error(code, err, "is not valid JSON")


def test_no_passphrase_and_no_terminal(
    keystore: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("AIGOV_KEY_PASSPHRASE")
    monkeypatch.setattr("sys.stdin", io.StringIO())

    code, _, err = run(capsys, "new")

    assert_one_line_error(code, err, "set AIGOV_KEY_PASSPHRASE")
    assert not keystore.exists()


class Terminal(io.StringIO):
    """Standard input that says it is a terminal, so the passphrase is asked for."""

    def isatty(self) -> bool:
        return True


def test_passphrase_prompt_on_a_terminal(
    keystore: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("AIGOV_KEY_PASSPHRASE")
    monkeypatch.setattr("sys.stdin", Terminal())
    monkeypatch.setattr("getpass.getpass", lambda prompt="": PASSPHRASE)

    code, out, _ = run(capsys, "new")

    assert code == EXIT_OK
    assert open_store(keystore).signing_key().kid == out.strip()


# The environment's bytes pass\xffword, as Python reads them (undecodable bytes become lone surrogates).
NOT_UTF8 = "pass\udcffword"


def test_a_passphrase_that_is_not_utf8_is_refused(
    keystore: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AIGOV_KEY_PASSPHRASE", NOT_UTF8)

    code, _, err = run(capsys, "new")

    assert err == (
        "error: AIGOV_KEY_PASSPHRASE is not valid UTF-8: the keystore passphrase must be UTF-8 text\n"
    )
    assert code == EXIT_USAGE
    assert not keystore.exists()


def _undecodable(prompt: str = "") -> str:
    raise UnicodeDecodeError("utf-8", b"pass\xffword", 4, 5, "invalid start byte")


@pytest.mark.parametrize(
    "typed", [lambda prompt="": NOT_UTF8, _undecodable], ids=["surrogates", "undecodable"]
)
def test_a_typed_passphrase_that_is_not_utf8_is_refused(
    keystore: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    typed: Callable[[str], str],
) -> None:
    monkeypatch.delenv("AIGOV_KEY_PASSPHRASE")
    monkeypatch.setattr("sys.stdin", Terminal())
    monkeypatch.setattr("getpass.getpass", typed)

    code, _, err = run(capsys, "new")

    assert_one_line_error(code, err, "the passphrase typed is not valid UTF-8")
    assert not keystore.exists()


def test_insecure_plaintext_keys(keystore: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "new", "--insecure-plaintext-keys")

    assert code == EXIT_OK
    pem = (keystore / f"{out.strip()}.pem").read_text()
    assert pem.startswith("-----BEGIN PRIVATE KEY-----")
