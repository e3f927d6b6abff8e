"""VerificationResult: JSON for machines, text for people, an opt-in exception; hostile text stays inert."""

from __future__ import annotations

import json
from typing import Any

import pytest

from verifier import CHECK_NAMES, Outcome, Verdict, VerificationFailedError, VerifierError

MARKS = {"passed": "✔", "failed": "✘", "warning": "!", "skipped": "-", "indeterminate": "?"}


@pytest.fixture(scope="module")
def results(world: Any) -> dict[str, Any]:
    deep = b'{"x":' + b"[" * 10_000 + b"]" * 10_000 + b"}"
    generic = world.token(world.generic_credential(), key=world.other.key, kid=world.other.kid)
    return {
        "valid": world.verify(world.valid_token),
        "warning": world.verify(generic),
        "invalid": world.verify(world.token(key=world.stranger, kid=world.cb.kid)),
        "indeterminate": world.verify(world.valid_token, world.trust(snapshots=[])),
        "unparseable": world.verify("not a token"),
        "deep": world.verify(world.sign(raw_payload=deep)),
        "data_model": world.verify(world.token(world.credential(**{"@context": world.DROP}))),
    }


CASES = ["valid", "warning", "invalid", "indeterminate", "unparseable", "deep", "data_model"]
VERDICTS = {
    "valid": Verdict.VALID,
    "warning": Verdict.VALID,
    "invalid": Verdict.INVALID,
    "indeterminate": Verdict.INDETERMINATE,
    "unparseable": Verdict.INVALID,
    "deep": Verdict.INVALID,
    "data_model": Verdict.INVALID,
}


@pytest.mark.parametrize("case", CASES)
def test_to_dict_is_json(results: dict[str, Any], case: str) -> None:
    result = results[case]
    assert result.verdict is VERDICTS[case]
    data = result.to_dict()
    assert json.loads(json.dumps(data)) == data
    assert json.loads(json.dumps(data, ensure_ascii=False)) == data
    assert data["verdict"] == VERDICTS[case].value
    assert data["summary"] == result.summary
    assert [c["name"] for c in data["checks"]] == [c.name for c in result.checks]
    for check in data["checks"]:
        assert set(check) == {"name", "outcome", "detail", "problem"}
        assert check["outcome"] in MARKS
        if check["outcome"] in ("failed", "indeterminate"):
            assert check["problem"], check  # every finding carries its problem type URI
        if check["outcome"] in ("passed", "skipped"):
            assert check["problem"] is None, check


def test_the_deep_case_fails_at_parse(results: dict[str, Any]) -> None:
    data = results["deep"].to_dict()
    assert data["checks"][0] == {
        "name": "parse",
        "outcome": "failed",
        "detail": "payload is JSON nested too deeply (over 200 levels)",
        "problem": "https://www.w3.org/TR/vc-data-model#PARSING_ERROR",
    }
    assert data["credential"] is None


def test_every_check_is_reported_once_in_order(results: dict[str, Any]) -> None:
    for case in CASES:
        names = [c.name.partition(".")[0] for c in results[case].checks]
        assert [n for i, n in enumerate(names) if n not in names[:i]] == list(CHECK_NAMES), case


@pytest.mark.parametrize("case", CASES)
def test_render_text(results: dict[str, Any], case: str) -> None:
    result = results[case]
    lines = result.render_text().split("\n")
    assert len(lines) == len(result.checks) + 2
    for line, check in zip(lines, result.checks, strict=False):
        assert line.startswith(f"{MARKS[check.outcome.value]} {check.name} ")
        assert line.endswith(check.detail)
    assert lines[-2] == ""
    assert lines[-1] == f"{result.verdict.value.upper()}: {result.summary}"


def test_render_text_of_a_valid_certificate_names_company_and_issuer(results: dict[str, Any]) -> None:
    last = results["valid"].render_text().splitlines()[-1]
    assert last.startswith("VALID: AI Governance Certification")
    assert "for ACME Corp." in last
    assert last.endswith("issued by Example Certification Body")


@pytest.mark.parametrize(
    "case",
    [
        "kid-newline",
        "kid-escape",
        "member-name-newline",
    ],
)
def test_hostile_text_cannot_forge_lines(world: Any, case: str) -> None:
    """A token must not be able to add a fake "✔ ..." or "VALID: ..." line to what a person reads."""
    forged = "\n✔ signature  verified\n\nVALID: trust me"
    if case == "kid-newline":
        token = world.token(kid="did:web:evil.example" + forged + "#k")
    elif case == "kid-escape":
        token = world.token(kid="did:web:evil.example\x1b[2K\x1b[1G\r#k")
    else:
        token = world.token(world.credential(**{"credentialSubject.certification." + forged: 1}))
    result = world.verify(token)
    assert result.verdict is Verdict.INVALID
    text = result.render_text()
    lines = text.split("\n")
    assert len(lines) == len(result.checks) + 2, repr(text)
    controls = sorted({hex(ord(ch)) for ch in text if ord(ch) < 0x20 and ch != "\n"})
    assert controls == []
    assert text.split("\n")[-1].startswith("INVALID: ")


@pytest.mark.parametrize(
    ("where", "check"),
    [("iss", "claims"), ("typ", "header"), ("alg", "header"), ("crit", "header"), ("jti", "claims")],
)
def test_details_do_not_echo_megabytes(world: Any, where: str, check: str) -> None:
    """A 20 KB hostile value is named, not copied into every line, log and summary that reports it."""
    huge = "A" * 20_000
    if where in ("iss", "jti"):
        token = world.token(**{where: huge})
    else:
        token = world.token(header_overrides={where: [huge] if where == "crit" else huge})
    result = world.verify(token)
    assert result.check(check).outcome is Outcome.FAILED
    detail_chars, summary_chars = len(result.check(check).detail), len(result.summary)
    assert detail_chars < 2_000
    assert summary_chars < 2_000


def test_raise_for_failure(results: dict[str, Any]) -> None:
    assert results["valid"].raise_for_failure() is None
    assert results["warning"].raise_for_failure() is None
    for case in ("invalid", "indeterminate", "unparseable"):
        result = results[case]
        with pytest.raises(VerificationFailedError) as info:
            result.raise_for_failure()
        assert info.value.result is result
        assert str(info.value) == result.summary
        assert isinstance(info.value, VerifierError)


def test_problems_and_check_lookup(results: dict[str, Any]) -> None:
    assert results["valid"].problems == []
    invalid = results["invalid"]
    assert [c.name for c in invalid.problems] == ["signature"]
    assert invalid.check("signature").outcome is Outcome.FAILED
    assert [c.name for c in results["indeterminate"].problems] == ["status.revocation", "status.suspension"]
    with pytest.raises(LookupError, match="no check named 'nope'"):
        invalid.check("nope")


def test_the_credential_is_returned_only_once_authentic(world: Any, results: dict[str, Any]) -> None:
    assert results["valid"].credential["id"] == world.credential_id
    assert results["unparseable"].credential is None
    assert results["invalid"].credential is None


def test_summary_of_a_failure_names_the_first_problem(results: dict[str, Any]) -> None:
    assert results["invalid"].summary == (
        "do not rely on this credential: signature does not match: "
        "the token was altered after signing, or signed by another key"
    )
    assert results["indeterminate"].summary.startswith("cannot tell whether this credential is valid: ")


def test_a_credential_with_odd_text_still_serialises(world: Any) -> None:
    credential = world.generic_credential(
        name="\x00 odd \u2028 text", **{"credentialSubject.note": "\x00\u2028"}
    )
    text = json.dumps(world.claims(credential), separators=(",", ":"))  # ASCII with \\u escapes
    token = world.sign(raw_payload=text.encode(), key=world.other.key, kid=world.other.kid)
    result = world.verify(token)
    assert result.verdict is Verdict.VALID, result.render_text()
    json.dumps(result.to_dict())


def test_a_lone_surrogate_is_refused_at_parse(world: Any) -> None:
    """I-JSON (RFC 7493 §2.1) forbids lone surrogates: readers disagree about what they mean."""
    credential = world.generic_credential(name="\ud800 lone surrogate")
    text = json.dumps(world.claims(credential), separators=(",", ":"))
    token = world.sign(raw_payload=text.encode(), key=world.other.key, kid=world.other.kid)
    result = world.verify(token)
    assert result.verdict is Verdict.INVALID
    assert result.check("parse").detail.startswith("payload is not JSON")
    json.dumps(result.to_dict())
