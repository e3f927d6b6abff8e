"""`aigov verify` in-process, on a certificate issued by the real commands: verdicts, exit codes, bad input.

Exit codes under test: 0 valid, 1 invalid, 2 indeterminate, 3 bad usage or unreadable input (aigov/cli.py).
"""

from __future__ import annotations

import contextlib
import http.server
import io
import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

import issuer
from aigov.cli import EXIT_INDETERMINATE, EXIT_INVALID, EXIT_OK, EXIT_USAGE, main
from keys import b64url_decode
from verifier import problems

PASSPHRASE = "verify-cli test passphrase"
ENV = {
    "AIGOV_KEY_PASSPHRASE": PASSPHRASE,
    "AIGOV_ISSUER_DID": "did:web:cb.test.example",
    "AIGOV_ISSUER_NAME": "Test Certification Body",
}
SAMPLE = Path(issuer.__file__).parent / "data" / "sample-decision.json"
CHECKS = [
    "parse",
    "header",
    "key",
    "signature",
    "data_model",
    "claims",
    "profile",
    "validity_period",
    "issuer_trust",
    "status.revocation",
    "status.suspension",
]
MARKS = {"passed": "✔", "failed": "✘", "warning": "!", "skipped": "-", "indeterminate": "?"}


@dataclass(frozen=True)
class Issued:
    """A certificate, the DID document that pins its key, and clear status lists: what `make demo` makes."""

    keystore: Path
    certificate: Path
    trust: Path
    revocation: Path
    suspension: Path
    credential: dict[str, Any]

    def verify(self, *extra: str, lists: bool = True) -> list[str]:
        argv = ["verify", str(self.certificate), "--trust", str(self.trust)]
        if lists:
            argv += ["--status-list", str(self.revocation), "--status-list", str(self.suspension)]
        return [*argv, *extra]

    def entry(self, purpose: str) -> dict[str, str]:
        [entry] = [e for e in self.credential["credentialStatus"] if e["statusPurpose"] == purpose]
        return dict(entry)


def quietly(*argv: str) -> str:
    """Run a setup command outside any test's capsys; its standard output, failing loudly on an error."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(list(argv))
    assert code == EXIT_OK, err.getvalue()
    return out.getvalue()


@pytest.fixture(scope="module")
def issued(tmp_path_factory: pytest.TempPathFactory) -> Issued:
    """Issued once per module: the key, the certificate and its lists, all through the `aigov` commands."""
    root = tmp_path_factory.mktemp("verify-cli")
    with pytest.MonkeyPatch.context() as mp:
        for name, value in ENV.items():
            mp.setenv(name, value)
        mp.setenv("AIGOV_KEYSTORE", str(root / "keys"))
        mp.delenv("AIGOV_PUBLIC_URL", raising=False)
        quietly("keys", "new")
        quietly("keys", "did", "-o", str(root / "trust.json"))
        out = quietly("issue", str(SAMPLE), "-o", str(root / "certificate.jwt"), "--json")
        for purpose in ("revocation", "suspension"):
            quietly("status-list", "--purpose", purpose, "-o", str(root / f"{purpose}.jwt"))
    return Issued(
        keystore=root / "keys",
        certificate=root / "certificate.jwt",
        trust=root / "trust.json",
        revocation=root / "revocation.jwt",
        suspension=root / "suspension.jwt",
        credential=json.loads(out),
    )


@pytest.fixture
def env(issued: Issued, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The issuer's environment (for tests that re-sign a status list); cwd is tmp_path."""
    for name, value in ENV.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("AIGOV_KEYSTORE", str(issued.keystore))
    monkeypatch.delenv("AIGOV_PUBLIC_URL", raising=False)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def run(capsys: pytest.CaptureFixture[str], argv: list[str]) -> tuple[int, str, str]:
    code = main(argv)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def check_lines(out: str) -> dict[str, str]:
    """The check lines of the text output: check name -> mark; asserts the layout on the way."""
    *lines, blank, verdict = out.rstrip("\n").split("\n")
    assert blank == "", out  # a blank line before the verdict line
    assert verdict.split(":")[0] in ("VALID", "INVALID", "INDETERMINATE"), out
    marks = {}
    for line in lines:
        mark, name, detail = line.split(maxsplit=2)
        assert mark in MARKS.values(), line
        assert detail.strip(), line
        marks[name] = mark
    return marks


def verdict_line(out: str) -> str:
    return out.rstrip("\n").rsplit("\n", 1)[-1]


def assert_one_line_error(code: int, out: str, err: str, *fragments: str) -> None:
    assert code == EXIT_USAGE
    assert out == ""
    assert err.startswith("error: ")
    assert err.count("\n") == 1, err
    assert "Traceback" not in err
    for fragment in fragments:
        assert fragment in err


# -- verdicts ------------------------------------------------------------------------------------------------
def test_valid(issued: Issued, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, issued.verify())

    assert (code, err) == (EXIT_OK, "")
    marks = check_lines(out)
    assert list(marks) == CHECKS
    assert set(marks.values()) == {"✔"}
    assert verdict_line(out).startswith("VALID: ")
    assert "ACME Corp." in verdict_line(out)


def test_json(issued: Issued, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, issued.verify("--json"))

    assert code == EXIT_OK
    result = json.loads(out)
    assert result["verdict"] == "valid"
    assert result["summary"]
    assert [c["name"] for c in result["checks"]] == CHECKS
    assert {c["outcome"] for c in result["checks"]} == {"passed"}
    assert all(set(c) == {"name", "outcome", "detail", "problem"} for c in result["checks"])
    assert result["credential"]["id"] == issued.credential["id"]


@pytest.mark.parametrize("purpose", ["revocation", "suspension"])
def test_revoked_or_suspended_is_invalid(
    issued: Issued, env: Path, capsys: pytest.CaptureFixture[str], purpose: str
) -> None:
    index = issued.entry(purpose)["statusListIndex"]
    assert main(["status-list", "--purpose", purpose, "--set", index, "-o", str(env / "list.jwt")]) == EXIT_OK
    capsys.readouterr()
    other = "suspension" if purpose == "revocation" else "revocation"
    lists = ["--status-list", str(env / "list.jwt"), "--status-list", str(getattr(issued, other))]

    code, out, err = run(capsys, [*issued.verify(lists=False), *lists])

    assert (code, err) == (EXIT_INVALID, "")
    marks = check_lines(out)
    assert marks[f"status.{purpose}"] == "✘"
    assert marks[f"status.{other}"] == "✔"
    assert verdict_line(out).startswith("INVALID: ")
    assert ("revoked" if purpose == "revocation" else "suspended") in verdict_line(out)

    code, out, _ = run(capsys, [*issued.verify("--json", lists=False), *lists])
    assert (code, json.loads(out)["verdict"]) == (EXIT_INVALID, "invalid")


def test_another_index_set_stays_valid(issued: Issued, env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    index = int(issued.entry("revocation")["statusListIndex"])
    neighbour = str(index + 1 if index + 1 < 131_072 else index - 1)
    main(["status-list", "--purpose", "revocation", "--set", neighbour, "-o", str(env / "list.jwt")])
    capsys.readouterr()

    code, _, _ = run(
        capsys,
        [
            *issued.verify(lists=False),
            "--status-list",
            str(env / "list.jwt"),
            "--status-list",
            str(issued.suspension),
        ],
    )

    assert code == EXIT_OK


def test_no_status_lists_is_indeterminate(issued: Issued, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, issued.verify(lists=False))

    assert code == EXIT_INDETERMINATE
    marks = check_lines(out)
    assert (marks["status.revocation"], marks["status.suspension"]) == ("?", "?")
    assert verdict_line(out).startswith("INDETERMINATE: ")


def test_one_status_list_missing_is_indeterminate(issued: Issued, capsys: pytest.CaptureFixture[str]) -> None:
    argv = [*issued.verify(lists=False), "--status-list", str(issued.revocation)]

    code, out, _ = run(capsys, argv)

    assert code == EXIT_INDETERMINATE
    assert check_lines(out)["status.suspension"] == "?"


def test_unusable_status_list_is_reported_and_indeterminate(
    issued: Issued, capsys: pytest.CaptureFixture[str]
) -> None:
    not_a_list = ["--status-list", str(issued.certificate)]

    code, out, err = run(capsys, [*issued.verify(lists=False), *not_a_list])

    assert code == EXIT_INDETERMINATE
    assert err.startswith("warning: status list ")
    assert "unusable" in err
    assert verdict_line(out).startswith("INDETERMINATE: ")


def test_tampered_signature_is_invalid_and_stops(
    issued: Issued, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    head, payload, signature = issued.certificate.read_text(encoding="utf-8").strip().split(".")
    forged = json.loads(b64url_decode(payload))
    forged["credentialSubject"]["legalName"]["en"] = "Mallory Corp."
    from keys import b64url_encode

    (tmp_path / "forged.jwt").write_text(f"{head}.{b64url_encode(json.dumps(forged).encode())}.{signature}")
    argv = issued.verify()
    argv[1] = str(tmp_path / "forged.jwt")

    code, out, _ = run(capsys, argv)

    assert code == EXIT_INVALID
    marks = check_lines(out)
    assert marks["signature"] == "✘"
    assert marks.get("status", marks.get("status.revocation")) == "-"  # never "checked for revocation"
    assert "Mallory" not in verdict_line(out)


# -- time ----------------------------------------------------------------------------------------------------
def test_before_valid_from_is_invalid(issued: Issued, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, issued.verify("--now", "2020-01-01T00:00:00Z"))

    assert code == EXIT_INVALID
    assert verdict_line(out).startswith("INVALID: ")


def test_before_valid_from_is_explained_as_not_yet_valid(
    issued: Issued, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(capsys, issued.verify("--now", "2020-01-01T00:00:00Z", "--json"))

    validity = {c["name"]: c for c in json.loads(out)["checks"]}["validity_period"]
    assert (code, validity["outcome"]) == (EXIT_INVALID, "failed")
    assert "not valid before" in validity["detail"]


def test_after_valid_until_is_expired(issued: Issued, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, issued.verify("--now", "2099-01-01T09:00:00+09:00", "--json"))

    result = json.loads(out)
    validity = {c["name"]: c for c in result["checks"]}["validity_period"]
    assert (code, result["verdict"], validity["outcome"]) == (EXIT_INVALID, "invalid", "failed")
    assert "expired" in validity["detail"]


# -- input ---------------------------------------------------------------------------------------------------
def test_standard_input(
    issued: Issued, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(issued.certificate.read_bytes())))
    argv = issued.verify()
    argv[1] = "-"

    code, out, _ = run(capsys, argv)

    assert code == EXIT_OK
    assert verdict_line(out).startswith("VALID: ")


def test_allow_legacy_is_accepted(issued: Issued, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, issued.verify("--allow-legacy"))

    assert code == EXIT_OK
    assert verdict_line(out).startswith("VALID: ")


def test_five_megabytes_is_refused_quickly(
    issued: Issued, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    big = tmp_path / "big.jwt"
    big.write_bytes(b"A" * (5 * 1024 * 1024))
    argv = issued.verify()
    argv[1] = str(big)

    started = time.perf_counter()
    code, out, err = run(capsys, argv)
    elapsed = time.perf_counter() - started

    assert elapsed < 2.0
    assert "Traceback" not in err
    if code == EXIT_USAGE:
        assert_one_line_error(code, out, err)
    else:
        assert code == EXIT_INVALID
        assert check_lines(out)["parse"] == "✘"


def test_input_over_the_read_cap(issued: Issued, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    huge = tmp_path / "huge.jwt"
    huge.write_bytes(b"A" * (9 * 1024 * 1024))

    code, out, err = run(capsys, ["verify", str(huge), "--trust", str(issued.trust)])

    assert_one_line_error(code, out, err, "larger than")


@pytest.fixture
def bad_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A working directory holding trust files that are not JSON, not an object, or not a DID document."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "not-json.json").write_text("{not json", encoding="utf-8")
    (tmp_path / "array.json").write_text("[]", encoding="utf-8")
    (tmp_path / "empty-object.json").write_text("{}", encoding="utf-8")
    (tmp_path / "jwks.json").write_text('{"keys": [{"kty": "OKP", "crv": "Ed25519", "x": "AA"}]}', "utf-8")
    return tmp_path


@pytest.mark.parametrize(
    ("change", "fragments"),
    [
        ({"file": "missing.jwt"}, ("cannot read missing.jwt",)),
        ({"file": "."}, ("cannot read .",)),
        ({"trust": "missing.json"}, ("missing.json", "cannot read")),
        ({"trust": "not-json.json"}, ("not-json.json", "is not JSON")),
        ({"trust": "array.json"}, ("array.json", "JSON object")),
        ({"trust": "empty-object.json"}, ("empty-object.json",)),
        ({"status": "missing.jwt"}, ("missing.jwt", "cannot read")),
        ({"now": "yesterday"}, ("not an ISO 8601 time: 'yesterday'",)),
        ({"now": ""}, ("not an ISO 8601 time",)),
        ({"skew": "five"}, ("--max-clock-skew", "not a whole number of seconds: 'five'")),
        ({"skew": "-5"}, ("--max-clock-skew", "must not be negative")),
        ({"now": "2027-01-01T00:00:00"}, ("has no time zone", "2027-01-01T00:00:00Z")),
        ({"trust": "jwks.json"}, ("jwks.json", "is a JWKS", "not a trust file", "aigov keys did")),
        ({"max-age": "0"}, ("must be positive",)),
    ],
    ids=lambda change: "-".join(map(str, change.items())) if isinstance(change, dict) else None,
)
def test_bad_input_is_one_line_and_exit_3(
    issued: Issued,
    bad_files: Path,
    capsys: pytest.CaptureFixture[str],
    change: dict[str, str],
    fragments: tuple[str, ...],
) -> None:
    argv = [
        "verify",
        change.get("file", str(issued.certificate)),
        "--trust",
        change.get("trust", str(issued.trust)),
        "--status-list",
        change.get("status", str(issued.revocation)),
    ]
    if "now" in change:
        argv += ["--now", change["now"]]
    if "skew" in change:
        argv += [f"--max-clock-skew={change['skew']}"]
    if "max-age" in change:
        argv += ["--max-age", change["max-age"]]

    code, out, err = run(capsys, argv)

    assert_one_line_error(code, out, err, *fragments)


def test_trust_is_required(issued: Issued, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, ["verify", str(issued.certificate)])

    assert_one_line_error(code, out, err, "--trust FILE", "--bundle FILE", "--trust-list FILE", "--online")


# -- the command line itself ---------------------------------------------------------------------------------
def test_help(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, ["--help"])
    assert code == EXIT_OK
    assert "verify" in out
    assert "issue" in out

    code, out, _ = run(capsys, ["verify", "--help"])
    assert code == EXIT_OK
    for option in ("--trust", "--status-list", "--now", "--json", "--allow-legacy", "indeterminate"):
        assert option in out


@pytest.mark.parametrize(("argv", "fragment"), [(["bogus"], "invalid choice: 'bogus'"), ([], "required")])
def test_unknown_or_missing_subcommand(
    capsys: pytest.CaptureFixture[str], argv: list[str], fragment: str
) -> None:
    code, out, err = run(capsys, argv)

    assert_one_line_error(code, out, err, fragment)


# -- how old a --status-list file may be -------------------------------------------------------------------------
def _signed_at(path: Path) -> datetime:
    from verifier import parse_compact

    return datetime.fromisoformat(parse_compact(path.read_bytes()).payload["validFrom"])


def test_a_status_list_file_older_than_max_age_is_indeterminate(
    issued: Issued, capsys: pytest.CaptureFixture[str]
) -> None:
    """--max-age holds a --status-list file to an age counted from when it was signed."""
    signed = _signed_at(issued.revocation)
    later = (signed + timedelta(hours=25)).isoformat()

    code, out, _ = run(capsys, issued.verify("--now", later, "--max-age", "24h", "--json"))

    result = json.loads(out)
    status = {c["name"]: c for c in result["checks"]}["status.revocation"]
    assert (code, result["verdict"], status["outcome"]) == (
        EXIT_INDETERMINATE,
        "indeterminate",
        "indeterminate",
    )
    assert status["problem"] == problems.STALE_STATUS_LIST
    assert "25 h old, over the 24 h policy" in status["detail"]

    assert run(capsys, issued.verify("--now", later, "--max-age", "2d"))[0] == EXIT_OK
    code, out, _ = run(capsys, issued.verify("--now", later, "--max-age", "90m"))
    assert code == EXIT_INDETERMINATE
    assert "over the 1 h 30 min policy" in out  # durations exactly, never "1 h"
    code, out, _ = run(
        capsys, issued.verify("--now", (signed + timedelta(seconds=20)).isoformat(), "--max-age", "12")
    )
    assert "20 s old, over the 12 s policy" in out  # not "over the 0 min policy"
    assert run(capsys, issued.verify("--now", (signed + timedelta(hours=23)).isoformat()))[0] == EXIT_OK


def test_without_max_age_a_status_list_file_is_read_with_its_age_shown(
    issued: Issued, capsys: pytest.CaptureFixture[str]
) -> None:
    """Without --max-age a list is used for as long as its own validUntil allows (three days here, as a
    registry signs them), and the check says how old it is."""
    later = (_signed_at(issued.revocation) + timedelta(days=2)).isoformat()

    code, out, _ = run(capsys, issued.verify("--now", later))

    assert code == EXIT_OK
    assert "not revoked (snapshot of" in out
    assert "2 days old" in out
    expired = (_signed_at(issued.revocation) + timedelta(days=3, hours=1)).isoformat()
    code, out, _ = run(capsys, issued.verify("--now", expired))
    assert code == EXIT_INDETERMINATE
    assert "expired on" in out


def test_a_revoked_status_stays_invalid_only_while_the_list_is_fresh(
    issued: Issued, capsys: pytest.CaptureFixture[str]
) -> None:
    """Staleness makes status unknown; it never turns a fresh list's answer into a pass."""
    later = (_signed_at(issued.revocation) + timedelta(days=3)).isoformat()
    code, out, _ = run(capsys, issued.verify("--now", later, "--max-age", "1d"))
    assert code == EXIT_INDETERMINATE
    assert verdict_line(out).startswith("INDETERMINATE: ")


# -- online: the registry's answers and its scheme --------------------------------------------------------------
class _Registry(http.server.BaseHTTPRequestHandler):
    """A loopback 'registry' that answers every GET with the status in its server's `answer`: a 404 as the
    registry does (RFC 9457 problem+json, registry/problems.py), unless `bare` says to send no body at all."""

    def do_GET(self) -> None:
        body = b""
        if self.server.answer == 404 and not self.server.bare:  # type: ignore[attr-defined]
            problem = {"type": "urn:aigov:problem:not-found", "title": "Not Found", "status": 404}
            body = json.dumps({**problem, "detail": "no credential", "instance": self.path}).encode()
        self.send_response(self.server.answer)  # type: ignore[attr-defined]
        if body:
            self.send_header("Content-Type", "application/problem+json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *_: object) -> None:
        pass


@pytest.fixture
def registry() -> Iterator[http.server.ThreadingHTTPServer]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Registry)
    server.answer = 404  # type: ignore[attr-defined]
    server.bare = False  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


UNKNOWN_ID = "3f2c9a4e-0000-4000-8000-000000000000"


def test_online_a_made_up_id_is_invalid(
    issued: Issued,
    registry: http.server.ThreadingHTTPServer,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    url = f"http://127.0.0.1:{registry.server_port}"
    argv = ["verify", "--online", UNKNOWN_ID, "--registry", url, "--allow-insecure-loopback"]
    argv += ["--trust", str(issued.trust)]

    code, out, _ = run(capsys, argv)

    assert code == EXIT_INVALID
    assert verdict_line(out) == (
        f"INVALID: no such certificate: the registry {url} has no certificate {UNKNOWN_ID} (HTTP 404); "
        "the id is wrong or was never issued by this registry"
    )
    claims = tmp_path / "claims.csv"
    claims.write_text(f"claim\n{UNKNOWN_ID}\n", encoding="utf-8")
    batch = ["verify-batch", str(claims), "--registry", url, "--allow-insecure-loopback", "--no-progress"]
    batch += ["--trust", str(issued.trust)]
    code, out, _ = run(capsys, batch)
    assert code == EXIT_INVALID
    assert f",invalid,no such certificate: the registry {url} has no certificate {UNKNOWN_ID}" in out

    registry.answer = 503  # type: ignore[attr-defined]
    code, out, _ = run(capsys, argv)
    assert code == EXIT_INDETERMINATE  # the registry failing is "cannot tell", never "no such certificate"
    assert "answered HTTP 503" in verdict_line(out)
    assert run(capsys, batch)[0] == EXIT_INDETERMINATE

    registry.answer, registry.bare = 404, True  # type: ignore[attr-defined]
    code, out, _ = run(capsys, argv)
    assert code == EXIT_INDETERMINATE  # a 404 that is not the registry's own problem proves nothing
    assert "answered HTTP 404" in verdict_line(out)
    code, out, _ = run(capsys, batch)
    assert code == EXIT_INDETERMINATE
    assert ",indeterminate," in out


@pytest.mark.parametrize(
    ("registry_url", "extra", "fragments"),
    [
        ("http://127.0.0.1:8000", [], ("only https is fetched", "use https or", "--allow-insecure-loopback")),
        ("http://localhost:8000", [], ("--allow-insecure-loopback",)),
        (
            "http://registry.example",
            ["--allow-insecure-loopback"],
            ("only https is fetched; use https (plain http is allowed only",),
        ),
    ],
)
def test_online_a_plain_http_registry_is_bad_usage(
    issued: Issued,
    capsys: pytest.CaptureFixture[str],
    registry_url: str,
    extra: list[str],
    fragments: tuple[str, ...],
) -> None:
    argv = [
        "verify",
        "--online",
        UNKNOWN_ID,
        "--registry",
        registry_url,
        "--trust",
        str(issued.trust),
        *extra,
    ]
    code, out, err = run(capsys, argv)
    assert_one_line_error(code, out, err, *fragments)


@pytest.mark.parametrize("option", ["--bundle", "--trust-list"])
def test_online_with_an_offline_trust_chain_is_bad_usage(
    issued: Issued, capsys: pytest.CaptureFixture[str], option: str
) -> None:
    argv = [
        "verify",
        "--online",
        UNKNOWN_ID,
        "--registry",
        "https://registry.example",
        option,
        str(issued.trust),
    ]
    code, out, err = run(capsys, argv)
    assert_one_line_error(code, out, err, "verify offline: drop --online")


@pytest.mark.parametrize(
    "registry_url",
    [
        "http://127.evil.example:8000",
        "http://127.0.0.1.evil.example",
        "http://localhost.evil.example",
        "http://127.0.0.1@evil.example",
        "http://[::ffff:127.0.0.1]:8000",
    ],
)
def test_online_plain_http_to_a_name_that_only_looks_loopback_is_bad_usage(
    issued: Issued, capsys: pytest.CaptureFixture[str], registry_url: str
) -> None:
    """--allow-insecure-loopback means this machine: never a name that starts like a loopback address."""
    argv = ["verify", "--online", UNKNOWN_ID, "--registry", registry_url, "--allow-insecure-loopback"]
    code, out, err = run(capsys, [*argv, "--trust", str(issued.trust)])
    assert_one_line_error(code, out, err, "only https is fetched; use https (plain http is allowed only")


@pytest.mark.parametrize("host", ["127.0.0.1", "127.1.2.3", "[::1]", "localhost", "LOCALHOST"])
def test_online_plain_http_to_loopback_needs_only_the_development_option(
    issued: Issued, capsys: pytest.CaptureFixture[str], host: str
) -> None:
    argv = ["verify", "--online", UNKNOWN_ID, "--registry", f"http://{host}:1", "--trust", str(issued.trust)]
    code, out, err = run(capsys, argv)
    assert_one_line_error(code, out, err, "use https or, for a local development registry")
    code, out, _ = run(capsys, [*argv, "--allow-insecure-loopback", "--json"])
    assert code == EXIT_INDETERMINATE  # accepted: nothing listens on port 1, so the fetch cannot be done
    assert json.loads(out)["verdict"] == "indeterminate"


def test_bundle_pull_over_plain_http_names_the_option(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(
        capsys, ["bundle", "pull", "http://127.0.0.1:8000/api/v1/bundle", "-o", str(tmp_path / "b.jwt")]
    )
    assert_one_line_error(code, out, err, "use https", "--allow-insecure-loopback")
    assert not (tmp_path / "b.jwt").exists()


@pytest.mark.parametrize(
    ("options", "option", "url"),
    [
        (["--registry", "https://[::1"], "--registry", "https://[::1"),
        (
            ["--registry", "https://registry.example", "--allow-origin", "https://0177.0.0.1"],
            "--allow-origin",
            "https://0177.0.0.1",
        ),
    ],
)
def test_online_a_url_that_does_not_parse_is_bad_usage(
    issued: Issued, capsys: pytest.CaptureFixture[str], options: list[str], option: str, url: str
) -> None:
    argv = ["verify", "--online", UNKNOWN_ID, *options, "--trust", str(issued.trust)]
    code, out, err = run(capsys, argv)
    assert_one_line_error(code, out, err, f"{option}: not a usable URL: {url!r}")


def test_bundle_pull_of_a_url_that_does_not_parse_is_bad_usage(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(capsys, ["bundle", "pull", "https://[::1", "-o", str(tmp_path / "b.jwt")])
    assert_one_line_error(code, out, err, "not a usable URL: 'https://[::1'")
    assert not (tmp_path / "b.jwt").exists()


def test_a_refused_badge_names_its_file_once(
    issued: Issued, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    badge = tmp_path / "dtd.svg"
    badge.write_text('<!DOCTYPE svg [<!ENTITY x "y">]><svg xmlns="http://www.w3.org/2000/svg"/>', "utf-8")
    code, out, err = run(capsys, ["verify", str(badge), "--trust", str(issued.trust)])
    assert_one_line_error(code, out, err, "DOCTYPE")
    assert err.count("dtd.svg") == 1, err
