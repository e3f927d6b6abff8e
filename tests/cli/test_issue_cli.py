"""`aigov issue` and `aigov status-list` in-process: a real encrypted keystore, options from the environment."""

from __future__ import annotations

import copy
import io
import json
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

import issuer
from aigov.cli import EXIT_OK, EXIT_USAGE, main
from keys import Keystore, b64url_decode, did_web_document
from verifier import Outcome, TrustStore, verify

PASSPHRASE = "issue-cli test passphrase"
DID = "did:web:cb.test.example"
NAME = "Test Certification Body"
SAMPLE = Path(issuer.__file__).parent / "data" / "sample-decision.json"
LIST_SIZE = 131_072


@pytest.fixture(scope="module")
def keystore(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One encrypted keystore with an active Ed25519 key for the module: signing only reads it."""
    path = tmp_path_factory.mktemp("issue-cli") / "keys"
    Keystore(path, passphrase=PASSPHRASE.encode()).generate()
    return path


@pytest.fixture
def env(keystore: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The issuer named by the environment, as a certification body's shell would; cwd is tmp_path."""
    monkeypatch.setenv("AIGOV_KEYSTORE", str(keystore))
    monkeypatch.setenv("AIGOV_KEY_PASSPHRASE", PASSPHRASE)
    monkeypatch.setenv("AIGOV_ISSUER_DID", DID)
    monkeypatch.setenv("AIGOV_ISSUER_NAME", NAME)
    for name in ("AIGOV_ISSUER_NAME_JA", "AIGOV_PUBLIC_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.fixture
def trust(keystore: Path) -> TrustStore:
    store = TrustStore()
    store.add_did_document(
        did_web_document(DID, Keystore(keystore, passphrase=None, allow_plaintext_keys=True).published_keys())
    )
    return store


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def assert_one_line_error(code: int, err: str, *fragments: str) -> None:
    assert code == EXIT_USAGE
    assert err.startswith("error: ")
    assert err.count("\n") == 1, err
    assert "Traceback" not in err
    for fragment in fragments:
        assert fragment in err


def claims(token: str) -> dict[str, Any]:
    payload: dict[str, Any] = json.loads(b64url_decode(token.split(".")[1]))
    return payload


def sample() -> dict[str, Any]:
    decision: dict[str, Any] = json.loads(SAMPLE.read_text(encoding="utf-8"))
    return decision


def write_decision(path: Path, change: Callable[[dict[str, Any]], object]) -> Path:
    decision = copy.deepcopy(sample())
    change(decision)
    path.write_text(json.dumps(decision), encoding="utf-8")
    return path


# -- issue ---------------------------------------------------------------------------------------------------
def test_issue_writes_a_token_that_verifies(
    env: Path, trust: TrustStore, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(capsys, "issue", str(SAMPLE), "-o", "cert.jwt", "--json")

    assert (code, err) == (EXIT_OK, "")
    token = (env / "cert.jwt").read_text(encoding="utf-8")
    assert token.endswith("\n")
    assert token.count("\n") == 1
    credential = json.loads(out)
    payload = claims(token.strip())
    assert {name: payload[name] for name in credential} == credential  # --json shows what was signed
    assert set(payload) - set(credential) == {"iss", "jti", "sub", "iat", "nbf", "exp"}
    assert credential["issuer"]["id"] == DID
    assert credential["issuer"]["name"] == NAME
    assert credential["credentialSubject"]["certification"]["certificateNumber"] == "AIGC-2026-000123"

    result = verify(token.strip(), trust)
    signature_and_data = [result.check(name).outcome for name in ("signature", "data_model", "profile")]
    assert signature_and_data == [Outcome.PASSED] * 3
    assert result.credential == payload


def test_issue_prints_the_token_by_default(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "issue", str(SAMPLE))

    assert code == EXIT_OK
    [token] = out.splitlines()
    header = json.loads(b64url_decode(token.split(".")[0]))
    assert (header["typ"], header["alg"]) == ("vc+jwt", "EdDSA")
    assert header["kid"].startswith(f"{DID}#")


def test_status_entries_point_at_the_standalone_lists(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "issue", str(SAMPLE), "--registry", "https://reg.test.example/", "--json")

    assert code == EXIT_OK
    credential = json.loads(out.split("\n", 1)[1])
    entries = {entry["statusPurpose"]: entry for entry in credential["credentialStatus"]}
    assert set(entries) == {"revocation", "suspension"}
    for purpose, number in (("revocation", 1), ("suspension", 2)):
        entry = entries[purpose]
        assert entry["type"] == "BitstringStatusListEntry"
        assert entry["statusListCredential"] == f"https://reg.test.example/status/{number}"
        index = entry["statusListIndex"]
        assert index.isdigit()
        assert 0 <= int(index) < LIST_SIZE
        assert entry["id"] == f"{entry['statusListCredential']}#{index}"
    assert credential["id"].startswith("https://reg.test.example/credentials/")


def test_options_override_the_environment(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "issue", str(SAMPLE), "--name", "Other Name", "--json")

    assert code == EXIT_OK
    credential = json.loads(out.split("\n", 1)[1])
    assert credential["issuer"]["name"] == "Other Name"


def test_japanese_issuer_name_is_not_dropped(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "issue", str(SAMPLE), "--name-ja", "テスト認証機関", "--json")

    assert code == EXIT_OK
    assert "テスト認証機関" in json.dumps(json.loads(out.split("\n", 1)[1])["issuer"], ensure_ascii=False)


def test_decision_from_standard_input(
    env: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(SAMPLE.read_bytes())))

    code, out, _ = run(capsys, "issue", "-")

    assert code == EXIT_OK
    assert claims(out.strip())["credentialSubject"]["legalName"]["ja"] == "アクメ株式会社"


@pytest.mark.parametrize(
    ("change", "fragments"),
    [
        (
            lambda d: d["subject"].update(corporateNumber="7000012050003"),
            ("subject.corporateNumber", "check"),
        ),
        (lambda d: d.pop("level"), ("level", "required")),
        (lambda d: d.update(assessedOn="yesterday"), ("assessedOn", "'yesterday'")),
        (lambda d: d.update(aiRoles=["ai_wizard"]), ("aiRoles",)),
        (lambda d: d.update(unexpected=1), ("unexpected",)),
        (lambda d: d["subject"].update(website="http://acme.example"), ("subject.website",)),
        (lambda d: d["subject"].pop("legalName"), ("subject.legalName",)),
        (lambda d: d.update(scheme="another-scheme"), ("scheme", "'another-scheme'")),
        (lambda d: d.update(level="9"), ("level", "'9'")),
    ],
    ids=[
        "corporate-number",
        "no-level",
        "assessed-on",
        "ai-role",
        "extra",
        "website",
        "legal-name",
        "scheme",
        "level",
    ],
)
def test_bad_decision_names_the_field(
    env: Path,
    capsys: pytest.CaptureFixture[str],
    change: Callable[[dict[str, Any]], object],
    fragments: tuple[str, ...],
) -> None:
    decision = write_decision(env / "decision.json", change)

    code, out, err = run(capsys, "issue", str(decision), "-o", "cert.jwt")

    assert_one_line_error(code, err, *fragments)
    assert out == ""
    assert not (env / "cert.jwt").exists()


@pytest.mark.parametrize(("text", "fragment"), [("{", "not valid JSON"), ("", "not valid JSON"), ("[1]", "")])
def test_decision_that_is_not_an_object(
    env: Path, capsys: pytest.CaptureFixture[str], text: str, fragment: str
) -> None:
    (env / "decision.json").write_text(text, encoding="utf-8")

    code, _, err = run(capsys, "issue", "decision.json")

    assert_one_line_error(code, err, fragment)


def test_unreadable_decision(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "issue", "missing.json")

    assert_one_line_error(code, err, "cannot read missing.json")


@pytest.mark.parametrize("unset", ["AIGOV_ISSUER_DID", "AIGOV_ISSUER_NAME"])
def test_issuer_must_be_named(
    env: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, unset: str
) -> None:
    monkeypatch.delenv(unset)

    for command in (["issue", str(SAMPLE)], ["status-list", "--purpose", "revocation"]):
        code, _, err = run(capsys, *command)
        assert_one_line_error(code, err, "--did and --name")


def test_wrong_passphrase(
    env: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AIGOV_KEY_PASSPHRASE", "not the passphrase")

    code, out, err = run(capsys, "issue", str(SAMPLE))

    assert_one_line_error(code, err, "wrong passphrase")
    assert out == ""


def test_keystore_without_an_active_key(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "issue", str(SAMPLE), "--keystore", str(env / "empty"))

    assert_one_line_error(code, err, "no active key", "aigov keys new")


def test_unwritable_output(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "issue", str(SAMPLE), "-o", str(env / "no-such-dir" / "cert.jwt"))

    assert_one_line_error(code, err, "cannot write")


# -- status-list ---------------------------------------------------------------------------------------------
def test_status_list_with_indices_set(
    env: Path, trust: TrustStore, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, _ = run(
        capsys, "status-list", "--purpose", "suspension", "--set", "7", "--set", "131071", "-o", "s.jwt"
    )

    assert code == EXIT_OK
    snapshot = trust.add_status_list((env / "s.jwt").read_bytes().strip())
    assert snapshot.bits is not None, snapshot.result.summary
    assert (snapshot.url, snapshot.purpose, snapshot.issuer) == (
        "https://registry.aigov.example/status/2",
        "suspension",
        DID,
    )
    assert len(snapshot.bits) == LIST_SIZE
    assert [i for i in (0, 6, 7, 8, 131071) if snapshot.bits.get(i)] == [7, 131071]


def test_status_list_url_and_ttl(env: Path, trust: TrustStore, capsys: pytest.CaptureFixture[str]) -> None:
    url = "https://reg.test.example/status/42"

    code, out, _ = run(capsys, "status-list", "--purpose", "revocation", "--url", url, "--ttl", "60")

    assert code == EXIT_OK
    snapshot = trust.add_status_list(out.strip())
    assert (snapshot.url, snapshot.purpose) == (url, "revocation")
    assert snapshot.bits is not None
    assert not any(snapshot.bits.get(i) for i in range(0, LIST_SIZE, 4099))
    assert "60" in json.dumps(claims(out.strip())["credentialSubject"])


def test_status_list_valid_for(env: Path, trust: TrustStore, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "status-list", "--purpose", "revocation", "--valid-for", "7d")

    assert code == EXIT_OK
    signed = claims(out.strip())
    snapshot = trust.add_status_list(out.strip())
    assert snapshot.valid_from is not None
    assert snapshot.valid_until == snapshot.valid_from + timedelta(days=7)
    assert signed["exp"] == int(snapshot.valid_until.timestamp())
    _, default, _ = run(capsys, "status-list", "--purpose", "revocation")
    signed_by_default = trust.add_status_list(default.strip())
    assert signed_by_default.valid_from is not None
    assert signed_by_default.valid_until == signed_by_default.valid_from + timedelta(days=3)  # as a registry


@pytest.mark.parametrize(
    ("argv", "fragments"),
    [
        (("--valid-for", "0"), ("positive",)),
        (("--valid-for", "soon"), ("not a duration",)),
        (("--size", "131064"), ("131072",)),
        (("--size", "1000"), ("131072",)),
        (("--size", "800000000000"), ("16,777,216", "largest list")),
        (("--set", "131072"), ("131072", "range")),
        (("--set", "-1"), ("-1",)),
        (("--set", "seven"), ("invalid int value",)),
        (("--purpose", "expiry"), ("invalid choice",)),
    ],
)
def test_status_list_errors(
    env: Path, capsys: pytest.CaptureFixture[str], argv: tuple[str, ...], fragments: tuple[str, ...]
) -> None:
    purpose = () if "--purpose" in argv else ("--purpose", "revocation")

    code, out, err = run(capsys, "status-list", *purpose, *argv)

    assert_one_line_error(code, err, *fragments)
    assert out == ""
