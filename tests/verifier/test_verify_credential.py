"""The credential inside an authentic token: data model, JWT claims, the aigov profile, legacy VC 1.1 JWTs.

The AI-governance profile is a policy over generic VC 2.0 verification: a plain credential verifies without it,
and a certificate that breaks it fails `profile` while `data_model` passes.
"""

from __future__ import annotations

import json
import math
from typing import Any

import pytest

from keys import b64url_encode
from verifier import Outcome, Verdict

MALFORMED_VALUE_ERROR = "https://www.w3.org/TR/vc-data-model#MALFORMED_VALUE_ERROR"
CRYPTOGRAPHIC_SECURITY_ERROR = "https://www.w3.org/TR/vc-data-model#CRYPTOGRAPHIC_SECURITY_ERROR"
CLAIM_MISMATCH = "urn:aigov:problem:claim-mismatch"
PROFILE_VIOLATION = "urn:aigov:problem:profile-violation"
LEGACY_FORMAT = "urn:aigov:problem:legacy-format"
VC1_CONTEXT = "https://www.w3.org/2018/credentials/v1"
FAILED, PASSED = Outcome.FAILED, Outcome.PASSED
EVIL = "did:web:evil.example"


def raw_claims_token(world: Any, claims: dict[str, Any], replace: dict[str, str]) -> str:
    """Sign JSON text written by hand: for values `json.dumps` cannot produce (1e999 parses as infinity)."""
    text = json.dumps(claims, separators=(",", ":"))
    for old, new in replace.items():
        assert old in text, old
        text = text.replace(old, new)
    return world.sign(raw_payload=text.encode())


# --- the data model (VC DM 2.0 §4) -------------------------------------------------------------------------


def test_a_vc_claim_in_a_vc_jwt(world: Any) -> None:
    credential = world.credential()
    token = world.token(credential, vc=dict(credential))
    result = world.verify(token)
    world.expect(result, "signature", PASSED)
    world.expect(
        result, "data_model", FAILED, MALFORMED_VALUE_ERROR, "a 'vc' claim is the VC 1.1 JWT encoding"
    )
    world.skipped_after(result, "data_model")


def test_a_vc_claim_in_a_vc_jwt_even_with_the_legacy_option(world: Any) -> None:
    credential = world.credential()
    result = world.verify(world.token(credential, vc=dict(credential)), allow_legacy=True)
    world.expect(result, "data_model", FAILED, MALFORMED_VALUE_ERROR, "'vc' claim")


@pytest.mark.parametrize("generic", [False, True], ids=["certificate", "generic"])
@pytest.mark.parametrize(
    ("context", "phrase"),
    [
        (None, "@context"),
        ([], "@context"),
        ([VC1_CONTEXT], "the first @context must be 'https://www.w3.org/ns/credentials/v2'"),
        (
            [
                "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json",
                "https://www.w3.org/ns/credentials/v2",
            ],
            "the first @context must be 'https://www.w3.org/ns/credentials/v2'",
        ),
        ("https://www.w3.org/2018/credentials/v1", "the first @context must be"),
    ],
    ids=["missing", "empty", "vc1", "v2-not-first", "vc1-string"],
)
def test_missing_or_wrong_context(world: Any, generic: bool, context: object, phrase: str) -> None:
    value = world.DROP if context is None else context
    make = world.generic_credential if generic else world.credential
    key, kid = (world.other.key, world.other.kid) if generic else (None, None)
    result = world.verify(world.token(make(**{"@context": value}), key=key, kid=kid))
    world.expect(result, "data_model", FAILED, MALFORMED_VALUE_ERROR, phrase)
    world.skipped_after(result, "data_model")


@pytest.mark.parametrize(
    ("overrides", "phrase"),
    [
        ({"type": "DROP"}, "type"),
        ({"type": ["ExampleCredential"]}, "'type' must include VerifiableCredential"),
        ({"type": []}, "type"),
        ({"issuer": "DROP"}, "issuer"),
        ({"issuer": "not a url"}, "issuer"),
        ({"credentialSubject": "DROP"}, "credentialSubject"),
        ({"credentialSubject": []}, "credentialSubject"),
        ({"id": "not a url"}, "id"),
        ({"credentialStatus": {"id": "https://x.example/1"}}, "credentialStatus"),
    ],
    ids=[
        "no-type",
        "no-vc-type",
        "empty-type",
        "no-issuer",
        "bad-issuer",
        "no-subject",
        "empty-subject",
        "bad-id",
        "status-no-type",
    ],
)
def test_generic_data_model_violations(world: Any, overrides: dict[str, Any], phrase: str) -> None:
    overrides = {k: world.DROP if v == "DROP" else v for k, v in overrides.items()}
    credential = world.generic_credential(**overrides)
    result = world.verify(world.token(credential, key=world.other.key, kid=world.other.kid))
    world.expect(result, "data_model", FAILED, MALFORMED_VALUE_ERROR, phrase)


def test_valid_from_after_valid_until(world: Any) -> None:
    credential = world.credential(validFrom="2027-01-01T00:00:00Z", validUntil="2026-12-31T23:59:59Z")
    result = world.verify(world.token(credential))
    world.expect(result, "data_model", FAILED, MALFORMED_VALUE_ERROR, "validFrom is after validUntil")


@pytest.mark.parametrize(
    ("member", "value", "phrase"),
    [
        ("validFrom", "2026-11-01T00:00:00", "validFrom"),  # no time zone
        ("validUntil", "2029-10-31T23:59:59", "validUntil"),
        ("validFrom", "2026-11-01", "validFrom"),  # a date only
        ("validFrom", "2026-11-01 00:00:00Z", "validFrom"),
        ("validFrom", "2026-11-01T00:00Z", "validFrom"),
        ("validFrom", "20261101T000000Z", "validFrom"),
        ("validFrom", 1_793_491_200, "validFrom"),
        ("validFrom", "2026-02-30T00:00:00Z", "not a real date and time: day is out of range for month"),
        ("validUntil", "2029-02-30T00:00:00Z", "not a real date and time: day is out of range for month"),
        ("validFrom", "2026-11-01T25:00:00Z", "not a real date and time: hour must be in 0..23"),
        ("validFrom", "2026-11-01T00:00:00+24:00", "not a real date and time"),
    ],
    ids=[
        "no-tz",
        "no-tz-until",
        "date-only",
        "space",
        "no-seconds",
        "basic-format",
        "number",
        "feb-30",
        "feb-30-until",
        "hour-25",
        "offset-24",
    ],
)
def test_bad_date_time_stamps(world: Any, member: str, value: object, phrase: str) -> None:
    """VC DM 2.0 §4.9: validFrom/validUntil are XML Schema dateTimeStamps, time zone required."""
    for credential, key, kid in (
        (world.credential(**{member: value}), None, None),
        (world.generic_credential(**{member: value}), world.other.key, world.other.kid),
    ):
        result = world.verify(world.token(credential, key=key, kid=kid))
        world.expect(result, "data_model", FAILED, MALFORMED_VALUE_ERROR, phrase)
        world.skipped_after(result, "data_model")


def test_a_date_time_stamp_error_explains_the_form_not_a_regex(world: Any) -> None:
    """A user told "String should match pattern '^-?[0-9]{4,}-...'" cannot tell what to fix."""
    result = world.verify(world.token(world.credential(validFrom="2026-11-01T00:00:00")))
    check = world.expect(result, "data_model", FAILED, MALFORMED_VALUE_ERROR, "validFrom")
    assert "dateTimeStamp" in check.detail
    assert "[0-9]" not in check.detail


def test_an_impossible_date_names_its_member(world: Any) -> None:
    """Which of validFrom and validUntil is 30 February? The message must say."""
    result = world.verify(world.token(world.credential(validUntil="2029-02-30T00:00:00Z")))
    world.expect(result, "data_model", FAILED, MALFORMED_VALUE_ERROR, "validUntil")


def test_fractional_seconds_and_offsets_are_date_time_stamps(world: Any) -> None:
    credential = world.credential(validFrom="2026-11-01T09:00:00.5+09:00")
    result = world.verify(world.token(credential))
    assert result.verdict is Verdict.VALID, result.render_text()


# --- JWT claims against the credential (VC-JOSE-COSE §3.1.2) -----------------------------------------------


@pytest.mark.parametrize(
    ("claims", "phrase"),
    [
        ({"iss": EVIL}, f"'iss' is '{EVIL}' but the issuer is 'did:web:cb.example'"),
        ({"iss": ["did:web:cb.example"]}, "'iss' is ['did:web:cb.example']"),
        (
            {"jti": "https://registry.example/credentials/other"},
            "'jti' is 'https://registry.example/credentials/other' but the credential id is",
        ),
        (
            {"sub": "did:web:mallory.example"},
            "'sub' is 'did:web:mallory.example' but no credentialSubject has that id",
        ),
        ({"nbf": 1_700_000_000}, "'nbf' (2023-11-14T22:13:20Z) contradicts validFrom (2026-11-01T00:00:00Z)"),
        (
            {"exp": 4_102_444_800},
            "'exp' (2100-01-01T00:00:00Z) contradicts validUntil (2029-10-31T23:59:59Z)",
        ),
        ({"exp": 1_893_455_999}, "'exp' (2029-12-31T23:59:59Z) contradicts validUntil"),
        (
            {"iat": "2026-11-01T00:00:00Z"},
            "'iat' must be a NumericDate (seconds since the epoch), not '2026-11-01",
        ),
        ({"exp": True}, "'exp' must be a NumericDate"),
        ({"nbf": None}, "'nbf' must be a NumericDate"),
        ({"exp": 10**400}, "'exp' must be a NumericDate"),
    ],
    ids=[
        "iss",
        "iss-list",
        "jti",
        "sub",
        "nbf",
        "exp-later",
        "exp-earlier",
        "iat-string",
        "exp-bool",
        "nbf-null",
        "exp-huge",
    ],
)
def test_claims_contradicting_the_credential(world: Any, claims: dict[str, Any], phrase: str) -> None:
    result = world.verify(world.token(**claims))
    world.expect(result, "data_model", PASSED)
    world.expect(result, "claims", FAILED, CLAIM_MISMATCH, phrase)
    world.skipped_after(result, "claims")


def test_a_jti_on_a_credential_without_id(world: Any) -> None:
    credential = world.generic_credential(id=world.DROP)
    result = world.verify(world.token(credential, key=world.other.key, kid=world.other.kid, jti="urn:uuid:1"))
    world.expect(
        result, "claims", FAILED, CLAIM_MISMATCH, "'jti' is 'urn:uuid:1' but the credential id is None"
    )


@pytest.mark.parametrize("claim", ["exp", "nbf", "iat"])
@pytest.mark.parametrize("number", ["1e999", "-1e999"])
def test_numeric_dates_out_of_any_range(world: Any, claim: str, number: str) -> None:
    """JSON numbers that overflow: 1e999 parses as infinity without any 'Infinity' literal."""
    claims = world.claims(world.credential())
    marker = 123_456_789
    claims[claim] = marker
    result = world.verify(raw_claims_token(world, claims, {f'"{claim}":{marker}': f'"{claim}":{number}'}))
    world.expect(result, "signature", PASSED)
    assert result.verdict is Verdict.INVALID, result.render_text()
    first = result.problems[0]
    assert first.name in ("claims", "validity_period"), result.render_text()
    assert f"'{claim}'" in first.detail


def test_missing_claims_are_fine(world: Any) -> None:
    """Every registered claim is optional; the credential's own members decide."""
    token = world.token(
        signed_at=None, iss=world.DROP, jti=world.DROP, sub=world.DROP, nbf=world.DROP, exp=world.DROP
    )
    result = world.verify(token)
    assert result.verdict is Verdict.VALID, result.render_text()


def test_a_trusted_issuers_key_signing_for_another_issuer(world: Any) -> None:
    """Both issuers are trusted, but other's key cannot vouch for a credential that names cb."""
    for claims in ({}, {"iss": world.other.did}):
        token = world.token(key=world.other.key, kid=world.other.kid, **claims)
        result = world.verify(token)
        world.expect(result, "signature", PASSED)
        world.expect(
            result,
            "claims",
            FAILED,
            CLAIM_MISMATCH,
            f"signed with a key of {world.other.did}, but the credential names {world.cb.did} as its issuer",
        )
        world.skipped_after(result, "claims")


def test_a_trusted_issuers_key_signing_for_an_untrusted_issuer(world: Any) -> None:
    credential = world.generic_credential(issuer=EVIL)
    result = world.verify(world.token(credential, key=world.other.key, kid=world.other.kid))
    world.expect(result, "claims", FAILED, CLAIM_MISMATCH, f"but the credential names {EVIL} as its issuer")


# --- the AI-governance profile is a policy over generic verification ----------------------------------------


def test_a_generic_vc2_credential_from_another_issuer(world: Any) -> None:
    credential = world.generic_credential()
    result = world.verify(world.token(credential, key=world.other.key, kid=world.other.kid))
    assert result.verdict is Verdict.VALID, result.render_text()
    world.expect(result, "data_model", PASSED, None, "Verifiable Credentials Data Model 2.0")
    world.expect(result, "profile", Outcome.SKIPPED, None, "not applicable")
    world.expect(result, "status", Outcome.WARNING, None, "no credentialStatus")
    assert "issued by Other Certification Body" in result.summary


def test_a_generic_credential_with_status(world: Any) -> None:
    entry = {
        "id": f"{world.other_status_url}#5",
        "type": "BitstringStatusListEntry",
        "statusPurpose": "revocation",
        "statusListIndex": "5",
        "statusListCredential": world.other_status_url,
    }
    credential = world.generic_credential(credentialStatus=entry, issuer={"id": world.other.did, "name": "O"})
    result = world.verify(world.token(credential, key=world.other.key, kid=world.other.kid))
    assert result.verdict is Verdict.VALID, result.render_text()
    world.expect(result, "status.revocation", PASSED, None, "not revoked")


def test_a_generic_credential_with_several_subjects(world: Any) -> None:
    subjects = [{"id": "did:example:a"}, {"id": "did:example:b"}, {"name": "no id"}]
    credential = world.generic_credential(credentialSubject=subjects)
    token = world.token(credential, key=world.other.key, kid=world.other.kid, sub="did:example:b")
    assert world.verify(token).verdict is Verdict.VALID


@pytest.mark.parametrize(
    ("overrides", "phrase"),
    [
        (
            {"credentialSubject.corporateNumber": "7000012050003"},
            "corporate number check digit is 7, but the number requires 6",
        ),
        ({"credentialSubject.corporateNumber": "700001205000"}, "corporateNumber"),
        ({"credentialSubject.corporateNumber": "\uff17\uff10\uff10\uff10012050002"}, "corporateNumber"),
        ({"credentialSubject.certification.aiRoles": "DROP"}, "aiRoles"),
        ({"credentialSubject.certification.aiRoles": ["ai_user"]}, "aiRoles"),
        (
            {"credentialSubject.certification.aiRoles": ["ai_developer", "ai_developer"]},
            "aiRoles lists a role twice",
        ),
        (
            {"credentialSubject.certification.nextSurveillanceDue": "2026-10-01"},
            "nextSurveillanceDue must be after assessedOn",
        ),
        ({"credentialSubject.certification.surprise": "x"}, "surprise"),
        ({"credentialSubject.legalName": {}}, "a name needs at least one of 'en' or 'ja'"),
        ({"credentialSubject.website": "http://acme.example"}, "website"),
        (
            {"type": ["VerifiableCredential", "AIGovernanceCertification"]},
            "'type' must include OpenBadgeCredential",
        ),
        (
            {
                "@context": [
                    "https://www.w3.org/ns/credentials/v2",
                    "https://x.example/a",
                    "https://registry.example/contexts/aigov/v1",
                ]
            },
            "Open Badges 3.0 context",
        ),
        ({"issuer.type": ["Organization"]}, "issuer 'type' must include Profile"),
        # Each required type, by where it is checked (verifier._model spells the fast path out).
        (
            {"credentialSubject.type": ["Organization"]},
            "credentialSubject 'type' must include AchievementSubject",
        ),
        ({"credentialSubject.achievement.type": ["Thing"]}, "achievement 'type' must include Achievement"),
        (
            {"credentialSchema.id": "https://registry.example/schemas/other.json"},
            "credentialSchema must be the aigov JsonSchema",
        ),
        ({"credentialStatus": "DROP"}, "credentialStatus"),
        ({"credentialStatus.1.statusPurpose": "revocation"}, "one 'revocation' and one 'suspension' entry"),
        ({"validUntil": "DROP"}, "validUntil"),
        ({"name": "DROP"}, "name"),
    ],
    ids=lambda v: str(v)[:40] if isinstance(v, str) else None,
)
def test_a_certificate_violating_the_profile(world: Any, overrides: dict[str, Any], phrase: str) -> None:
    overrides = {k: world.DROP if v == "DROP" else v for k, v in overrides.items()}
    result = world.verify(world.token(world.credential(**overrides)))
    world.expect(result, "data_model", PASSED)
    world.expect(result, "claims", PASSED)
    world.expect(result, "profile", FAILED, PROFILE_VIOLATION, phrase)
    assert result.check("profile").detail.startswith("not a valid AI governance certificate: ")
    world.skipped_after(result, "profile")


# --- legacy VC 1.1 JWTs (VC DM 1.1 §6.3.1) -----------------------------------------------------------------


def legacy_token(world: Any, *, typ: object = "JWT", **claim_overrides: Any) -> str:
    vc = {
        "@context": [VC1_CONTEXT],
        "type": ["VerifiableCredential", "UniversityDegreeCredential"],
        "credentialSubject": {"degree": {"type": "BachelorDegree", "name": "Bachelor of Science"}},
    }
    claims: dict[str, Any] = {
        "vc": vc,
        "iss": world.other.did,
        "jti": "http://example.edu/credentials/3732",
        "sub": "did:example:ebfeb1f712ebc6f1c276e12ec21",
        "nbf": int(world.issued.timestamp()),
        "exp": int(world.issued.timestamp()) + 365 * 86400,
    }
    vc["credentialSubject"]["id"] = claims["sub"]
    for name, value in claim_overrides.items():
        if value == "DROP":
            claims.pop(name, None)
        else:
            claims[name] = value
    header = {"typ": world.DROP} if typ is None else {"typ": typ}
    return world.sign(
        claims, key=world.other.key, kid=world.other.kid, header_overrides={**header, "cty": world.DROP}
    )


def test_legacy_jwt_is_refused_by_default_with_a_hint(world: Any) -> None:
    result = world.verify(legacy_token(world))
    world.expect(
        result,
        "header",
        FAILED,
        CRYPTOGRAPHIC_SECURITY_ERROR,
        "typ must be 'vc+jwt', not 'JWT' (a VC 1.1 JWT? it is accepted only with the legacy option)",
    )


@pytest.mark.parametrize("typ", ["JWT", None], ids=["typ-JWT", "no-typ"])
def test_legacy_jwt_is_accepted_on_request_with_a_warning(world: Any, typ: str | None) -> None:
    result = world.verify(legacy_token(world, typ=typ), allow_legacy=True)
    assert result.verdict is Verdict.VALID, result.render_text()
    world.expect(
        result,
        "data_model",
        Outcome.WARNING,
        LEGACY_FORMAT,
        "legacy VC Data Model 1.1 JWT",
        verdict=Verdict.VALID,
    )
    world.expect(result, "claims", PASSED)
    world.expect(result, "profile", Outcome.SKIPPED, None, "not applicable")
    world.expect(result, "validity_period", PASSED, None, "valid from 2026-11-01T00:00:00Z")
    world.expect(result, "status", Outcome.SKIPPED)


def test_legacy_jwt_expiry_comes_from_exp(world: Any) -> None:
    token = legacy_token(world, exp=int(world.now.timestamp()) - 86400)
    result = world.verify(token, allow_legacy=True)
    world.expect(
        result, "validity_period", FAILED, "urn:aigov:problem:expired", "expired on 2026-11-14T12:00:00Z"
    )


@pytest.mark.parametrize(
    ("overrides", "check", "problem", "phrase"),
    [
        ({"vc": "a string"}, "data_model", MALFORMED_VALUE_ERROR, "the 'vc' claim must be a JSON object"),
        (
            {
                "vc": {
                    "@context": ["https://www.w3.org/ns/credentials/v2"],
                    "type": ["VerifiableCredential"],
                    "credentialSubject": {},
                }
            },
            "data_model",
            MALFORMED_VALUE_ERROR,
            f"the first @context of a VC 1.1 credential must be '{VC1_CONTEXT}'",
        ),
        ({"iss": "DROP"}, "data_model", MALFORMED_VALUE_ERROR, "issuer"),
        ({"iss": EVIL}, "claims", CLAIM_MISMATCH, f"signed with a key of {EVIL.replace('evil', 'other-cb')}"),
        ({"sub": "did:example:other"}, "claims", CLAIM_MISMATCH, "'sub' is 'did:example:other'"),
    ],
    ids=["vc-string", "vc2-context", "no-issuer", "other-issuer", "sub"],
)
def test_broken_legacy_jwts(
    world: Any, overrides: dict[str, Any], check: str, problem: str, phrase: str
) -> None:
    result = world.verify(legacy_token(world, **overrides), allow_legacy=True)
    world.expect(result, check, FAILED, problem, phrase)


@pytest.mark.parametrize("typ", [["JWT"], {"typ": "JWT"}, 1], ids=repr)
def test_odd_typ_values_with_the_legacy_option(world: Any, typ: object) -> None:
    for allow_legacy in (False, True):
        result = world.verify(legacy_token(world, typ=typ), allow_legacy=allow_legacy)
        world.expect(result, "header", FAILED, CRYPTOGRAPHIC_SECURITY_ERROR, "typ")


def test_the_legacy_hint_is_not_given_when_the_option_is_on(world: Any) -> None:
    """typ JWT without a 'vc' claim, legacy option on: telling the user to turn the option on misleads."""
    token = world.token(header_overrides={"typ": "JWT"})
    result = world.verify(token, allow_legacy=True)
    check = world.expect(result, "header", FAILED, CRYPTOGRAPHIC_SECURITY_ERROR, "typ")
    assert "accepted only with the legacy option" not in check.detail


def test_legacy_payloads_under_a_vc_jwt_header_are_not_legacy(world: Any) -> None:
    token = legacy_token(world, typ="vc+jwt")
    result = world.verify(token, allow_legacy=True)
    world.expect(result, "data_model", FAILED, MALFORMED_VALUE_ERROR, "'vc' claim")


def test_b64url_helper_is_the_one_tokens_use(world: Any) -> None:
    assert world.valid_token.split(".")[0] == b64url_encode(
        json.dumps(
            {"alg": "EdDSA", "kid": world.cb.kid, "typ": "vc+jwt", "cty": "vc"}, separators=(",", ":")
        ).encode()
    )


@pytest.mark.parametrize(("number", "written"), [("1e400", 10**309), ("-1e400", -(10**309))])
def test_a_number_too_large_for_a_double_is_written_back_as_json(
    world: Any, number: str, written: int
) -> None:
    """1e400 is valid JSON that every double-based reader (JSON.parse, Python's json, jiter) takes for infinity.
    It is accepted as they accept it; `to_dict` (what `aigov verify --json` prints) stays valid JSON."""
    claims = world.claims(world.credential())
    marker = 987_654_321
    claims["auditScore"] = marker
    result = world.verify(
        raw_claims_token(world, claims, {f'"auditScore":{marker}': f'"auditScore":{number}'})
    )
    assert result.verdict is Verdict.VALID, result.render_text()
    assert result.credential is not None
    assert math.isinf(result.credential["auditScore"])
    text = json.dumps(result.to_dict(), allow_nan=False)  # raises on Infinity
    assert json.loads(text)["credential"]["auditScore"] == written
    read_as_doubles = json.loads(text, parse_int=float)
    assert read_as_doubles["credential"]["auditScore"] == float(number)  # infinity again


def test_to_dict_does_not_copy_a_credential_with_nothing_to_rewrite(world: Any) -> None:
    result = world.verify(world.token())
    assert result.verdict is Verdict.VALID, result.render_text()
    assert result.to_dict()["credential"] is result.credential
