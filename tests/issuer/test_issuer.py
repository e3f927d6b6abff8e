"""Issuer: decision in, signed and self-verified certificate out; keys, decisions and schemes it refuses."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from issuer import (
    CertificationDecision,
    DecisionError,
    Issuer,
    IssueRequest,
    IssuerError,
    SchemeError,
    SelfCheckError,
    StatusSlot,
    build_credential,
    parse_decision,
    random_slot,
)
from keys import KeyStateError, Keystore, PublishedKey, SigningKey, b64url_decode
from verifier import MIN_ENTRIES, Bitstring, Outcome, TrustStore, Verdict, verify

REGISTRY = "https://registry.example"
# 7000012050002 in full-width digits, as Japanese forms often write it.
FULL_WIDTH_NUMBER = "7000012050002".translate({ord("0") + i: 0xFF10 + i for i in range(10)})
CB_DID = "did:web:cb.example"
UUID4_ID = re.compile(
    re.escape(REGISTRY) + r"/credentials/[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}"
)

MakeIssuer = Callable[..., Issuer]
MakeDecision = Callable[..., dict[str, Any]]


def trust_for(desk: Issuer, keys: list[PublishedKey], slots: dict[str, StatusSlot]) -> TrustStore:
    """The issuer's keys pinned, and clean status lists it signed for both slots."""
    trust = TrustStore()
    trust.add_issuer(CB_DID, keys)
    for purpose, slot in slots.items():
        bits = Bitstring(MIN_ENTRIES)
        snapshot = trust.add_status_list(
            desk.sign_status_list(
                list_url=slot.list_url, purpose=purpose, bits=bits, ttl=timedelta(minutes=5)
            )
        )
        assert snapshot.bits is not None, snapshot.result.summary
    return trust


# --- issuing -------------------------------------------------------------------------------------------------


def test_issue_signs_what_build_credential_builds_and_it_verifies(
    make_issuer: MakeIssuer,
    make_decision: MakeDecision,
    any_key: SigningKey,
    slots: dict[str, StatusSlot],
    fixed_clock: Any,
) -> None:
    desk = make_issuer(key=any_key)
    credential_id = f"{REGISTRY}/credentials/0f7c1c8e-3d5a-4a39-9d7e-0c1d2e3f4a5b"
    issued = desk.issue(make_decision(), credential_id=credential_id, **slots)
    assert issued.id == credential_id
    assert issued.credential == build_credential(
        parse_decision(make_decision()),
        issuer=desk.identity,
        scheme=desk.scheme,
        registry_url=REGISTRY,
        credential_id=credential_id,
        now=fixed_clock(),
        **slots,
    )
    header = b64url_decode(issued.token.split(".")[0])
    assert f'"kid":"{CB_DID}#{any_key.kid}"'.encode() in header
    result = verify(
        issued.token, trust_for(desk, [PublishedKey(any_key.public_key)], slots), now=fixed_clock()
    )
    assert result.verdict is Verdict.VALID, result.render_text()


def test_credential_ids_are_fresh_uuids(
    make_issuer: MakeIssuer, make_decision: MakeDecision, slots: dict[str, StatusSlot]
) -> None:
    desk = make_issuer()
    first, second = (desk.issue(make_decision(), **slots).id for _ in range(2))
    assert UUID4_ID.fullmatch(first)
    assert UUID4_ID.fullmatch(second)
    assert first != second


def test_a_decision_object_or_a_dict(
    make_issuer: MakeIssuer, make_decision: MakeDecision, slots: dict[str, StatusSlot]
) -> None:
    desk = make_issuer()
    from_object = desk.issue(
        CertificationDecision.model_validate(make_decision()), credential_id="urn:x:1", **slots
    )
    from_dict = desk.issue(make_decision(), credential_id="urn:x:1", **slots)
    assert from_object.credential == from_dict.credential


def test_the_registry_url_may_end_in_a_slash(
    make_issuer: MakeIssuer, make_decision: MakeDecision, slots: dict[str, StatusSlot]
) -> None:
    credential = make_issuer(registry_url=REGISTRY + "/").issue(make_decision(), **slots).credential
    assert credential["@context"][2] == f"{REGISTRY}/contexts/aigov/v1"
    assert credential["credentialSchema"]["id"] == f"{REGISTRY}/schemas/aigov-certification-v1.json"


def test_status_lists_it_signs_are_snapshots(
    make_issuer: MakeIssuer, ed_key: SigningKey, fixed_clock: Any
) -> None:
    desk = make_issuer()
    bits = Bitstring(MIN_ENTRIES)
    bits.set(42, True)
    token = desk.sign_status_list(
        list_url=f"{REGISTRY}/status/1", purpose="revocation", bits=bits, ttl=timedelta(minutes=5)
    )
    trust = TrustStore()
    trust.add_issuer(CB_DID, [PublishedKey(ed_key.public_key)])
    snapshot = trust.add_status_list(token)
    assert (snapshot.url, snapshot.issuer, snapshot.purpose) == (f"{REGISTRY}/status/1", CB_DID, "revocation")
    assert snapshot.bits == bits
    assert snapshot.valid_from == fixed_clock()


# --- keys ----------------------------------------------------------------------------------------------------


@pytest.fixture
def keystore(tmp_path: Path, fixed_clock: Any) -> Keystore:
    return Keystore(tmp_path / "keys", passphrase=None, allow_plaintext_keys=True, clock=fixed_clock)


def test_refuses_a_retired_key(make_issuer: MakeIssuer, keystore: Keystore, fixed_clock: Any) -> None:
    old = keystore.generate()
    old_key = keystore.signing_key()
    fixed_clock.advance(days=30)
    new = keystore.rotate()
    with pytest.raises(KeyStateError, match="retired or compromised") as caught:
        make_issuer(key=old_key, published=keystore.published_keys())
    assert caught.value.kid == old.kid
    make_issuer(key=keystore.signing_key(new.kid), published=keystore.published_keys())  # the new one signs


def test_refuses_a_compromised_key(make_issuer: MakeIssuer, keystore: Keystore, fixed_clock: Any) -> None:
    record = keystore.generate()
    key = keystore.signing_key()
    fixed_clock.advance(days=1)
    keystore.mark_compromised(record.kid, at=fixed_clock() - timedelta(hours=1))
    with pytest.raises(KeyStateError) as caught:
        make_issuer(key=key, published=keystore.published_keys())
    assert caught.value.kid == record.kid


@pytest.mark.parametrize("limit", ["expires", "revoked"])
def test_refuses_a_key_published_with_an_end(
    make_issuer: MakeIssuer, ed_key: SigningKey, fixed_clock: Any, limit: str
) -> None:
    """Even an end in the future: the key is on its way out and must not start new credentials."""
    published = PublishedKey(ed_key.public_key, **{limit: fixed_clock() + timedelta(days=1)})
    with pytest.raises(KeyStateError):
        make_issuer(published=[published])


def test_refuses_an_unpublished_key(make_issuer: MakeIssuer, ed_key: SigningKey) -> None:
    other = SigningKey.generate()
    with pytest.raises(KeyStateError, match="not among the published keys") as caught:
        make_issuer(published=[PublishedKey(other.public_key)])
    assert caught.value.kid == ed_key.kid
    with pytest.raises(KeyStateError):
        make_issuer(published=[])


def test_refuses_the_same_key_published_twice_with_different_states(
    make_issuer: MakeIssuer, ed_key: SigningKey, fixed_clock: Any
) -> None:
    compromised = PublishedKey(ed_key.public_key, revoked=fixed_clock() - timedelta(days=1))
    with pytest.raises(KeyStateError):
        make_issuer(published=[PublishedKey(ed_key.public_key), compromised])


# --- decisions -----------------------------------------------------------------------------------------------


def test_refuses_a_decision_for_another_scheme(
    make_issuer: MakeIssuer, make_decision: MakeDecision, slots: dict[str, StatusSlot]
) -> None:
    with pytest.raises(DecisionError) as caught:
        make_issuer().issue(make_decision(scheme="another-scheme"), **slots)
    assert caught.value.field == "scheme"
    assert "'another-scheme'" in str(caught.value)
    assert "'example-aigov-scheme'" in str(caught.value)


def test_an_unknown_level_is_a_scheme_error(
    make_issuer: MakeIssuer, make_decision: MakeDecision, slots: dict[str, StatusSlot]
) -> None:
    with pytest.raises(SchemeError, match=r"no level '9' \(levels: 1, 2, 3\)"):
        make_issuer().issue(make_decision(level="9"), **slots)


INVALID_DECISIONS: dict[str, tuple[dict[str, Any], str, str]] = {
    # name: (changes, .field, a fragment of the message)
    "unknown member": ({"auditor": "J. Smith"}, "auditor", "Extra inputs are not permitted"),
    "unknown subject member": ({"subject": {"address": "Tokyo"}}, "subject.address", "Extra inputs"),
    "corporate number check digit": (
        {"subject": {"corporateNumber": "1000012050002"}},
        "subject.corporateNumber",
        "check digit is 1, but the number requires 7",
    ),
    "corporate number of 12 digits": (
        {"subject": {"corporateNumber": "700001205000"}},
        "subject.corporateNumber",
        "exactly 13 ASCII digits",
    ),
    "corporate number in full-width digits": (
        {"subject": {"corporateNumber": FULL_WIDTH_NUMBER}},
        "subject.corporateNumber",
        "exactly 13 ASCII digits",
    ),
    "website over http": (
        {"subject": {"website": "http://acme.example"}},
        "subject.website",
        "is not an https URL",
    ),
    "legal name in French": ({"subject": {"legalName": {"fr": "ACME SA"}}}, "subject.legalName.fr", "Extra"),
    "unknown role": (
        {"aiRoles": ["ai_user"]},
        "aiRoles.0",
        "'ai_developer', 'ai_provider' or 'ai_business_user'",
    ),
    "no role": ({"aiRoles": []}, "aiRoles", "at least 1 item"),
    "certificate number in lower case": (
        {"certificateNumber": "aigc-2026-000123"},
        "certificateNumber",
        "is not a certificate number",
    ),
    "certificate number too short": (
        {"certificateNumber": "AB"},
        "certificateNumber",
        "is not a certificate number",
    ),
    "assessedOn not a date": ({"assessedOn": "2026-02-30"}, "assessedOn", "day is out of range"),
    "assessedOn a date-time": ({"assessedOn": "2026-10-20T00:00:00Z"}, "assessedOn", "is not a date"),
    "validFrom without a zone": ({"validFrom": "2026-11-01T00:00:00"}, "validFrom", "dateTimeStamp"),
    "no scope": ({"scope": ""}, "scope", "at least 1 character"),
}


@pytest.mark.parametrize("name", INVALID_DECISIONS)
def test_invalid_decisions(
    name: str, make_issuer: MakeIssuer, make_decision: MakeDecision, slots: dict[str, StatusSlot]
) -> None:
    changes, field, fragment = INVALID_DECISIONS[name]
    with pytest.raises(DecisionError) as caught:
        make_issuer().issue(make_decision(**changes), **slots)
    assert caught.value.field == field
    assert fragment in str(caught.value)
    assert str(caught.value).startswith(field + ":")
    assert caught.value.__cause__ is None  # one line for a person, no pydantic dump behind it


def test_a_missing_member_is_named(make_decision: MakeDecision) -> None:
    with pytest.raises(DecisionError) as caught:
        parse_decision(make_decision(drop=("certificateNumber",)))
    assert (caught.value.field, str(caught.value)) == (
        "certificateNumber",
        "certificateNumber: Field required",
    )


CROSS_FIELD: dict[str, tuple[dict[str, Any], str, str]] = {
    "validUntil before validFrom": (
        {"validFrom": "2026-11-01T00:00:00Z", "validUntil": "2026-10-31T00:00:00Z"},
        "validUntil",
        "validUntil must be after validFrom",
    ),
    "a role twice": ({"aiRoles": ["ai_provider", "ai_provider"]}, "aiRoles", "aiRoles lists a role twice"),
    "surveillance before the assessment": (
        {"nextSurveillanceDue": "2026-10-19"},
        "nextSurveillanceDue",
        "nextSurveillanceDue must be after assessedOn",
    ),
}


@pytest.mark.parametrize("name", CROSS_FIELD)
def test_cross_field_rules(name: str, make_decision: MakeDecision) -> None:
    changes, _, message = CROSS_FIELD[name]
    with pytest.raises(DecisionError, match=message):
        parse_decision(make_decision(**changes))


@pytest.mark.parametrize("name", CROSS_FIELD)
def test_cross_field_rules_name_their_field(name: str, make_decision: MakeDecision) -> None:
    changes, field, _ = CROSS_FIELD[name]
    with pytest.raises(DecisionError) as caught:
        parse_decision(make_decision(**changes))
    assert caught.value.field == field
    assert str(caught.value).startswith(field + ":")


def test_a_corporate_number_given_as_a_json_number(make_decision: MakeDecision) -> None:
    with pytest.raises(DecisionError) as caught:
        parse_decision(make_decision(subject={"corporateNumber": 7000012050002}))
    assert caught.value.field == "subject.corporateNumber"


def test_a_valid_until_in_the_past_is_a_decision_error(
    make_issuer: MakeIssuer, make_decision: MakeDecision, slots: dict[str, StatusSlot]
) -> None:
    with pytest.raises(DecisionError) as caught:
        make_issuer().issue(make_decision(validUntil="2026-01-01T00:00:00Z"), **slots)
    assert caught.value.field == "validUntil"


def test_a_certificate_may_be_issued_before_it_takes_effect(
    make_issuer: MakeIssuer, make_decision: MakeDecision, slots: dict[str, StatusSlot]
) -> None:
    issued = make_issuer().issue(make_decision(validFrom="2026-11-10T00:00:00Z"), **slots)
    assert issued.credential["validFrom"] == "2026-11-10T00:00:00Z"


# --- the self-check ------------------------------------------------------------------------------------------


def test_the_self_check_withholds_what_would_not_verify(
    make_issuer: MakeIssuer,
    make_decision: MakeDecision,
    slots: dict[str, StatusSlot],
    ed_key: SigningKey,
    fixed_clock: Any,
) -> None:
    """A scheme whose version the profile refuses (empty). `Scheme` itself accepts it (see test_scheme.py);
    `model_copy` keeps this test independent of when that is fixed."""
    broken = make_issuer().scheme.model_copy(update={"version": ""})
    with pytest.raises(SelfCheckError, match=r"\(profile: .*schemeVersion.*\); withheld") as caught:
        make_issuer(scheme=broken).issue(make_decision(), **slots)
    assert isinstance(caught.value, IssuerError)
    # Without the check the same token comes out, and a verifier refuses it for the same reason.
    token = make_issuer(scheme=broken, self_check=False).issue(make_decision(), **slots).token
    trust = TrustStore()
    trust.add_issuer(CB_DID, [PublishedKey(ed_key.public_key)])
    result = verify(token, trust, now=fixed_clock())
    assert result.verdict is Verdict.INVALID
    assert result.check("profile").outcome is Outcome.FAILED


class _FaultySigningKey(SigningKey):
    """A key whose signatures come out with one bit flipped: a fault in the signer (hardware, library)."""

    __slots__ = ()

    def sign(self, data: bytes) -> bytes:
        signature = super().sign(data)
        return bytes([signature[0] ^ 1]) + signature[1:]


def faulty(key: SigningKey) -> SigningKey:
    return _FaultySigningKey.from_pem(key.to_pem(None), None)


def test_the_self_check_withholds_a_bad_signature(
    make_issuer: MakeIssuer, make_decision: MakeDecision, slots: dict[str, StatusSlot], any_key: SigningKey
) -> None:
    desk = make_issuer(key=faulty(any_key), published=[PublishedKey(any_key.public_key)])
    with pytest.raises(SelfCheckError, match=r"\(signature: .*published key\); withheld"):
        desk.issue(make_decision(), **slots)
    # The same fault without the check: the token comes out, and a verifier refuses its signature.
    unchecked = make_issuer(
        key=faulty(any_key), published=[PublishedKey(any_key.public_key)], self_check=False
    )
    result = verify(
        unchecked.issue(make_decision(), **slots).token,
        trust_for(unchecked, [PublishedKey(any_key.public_key)], {}),
    )
    assert result.check("signature").outcome is Outcome.FAILED


def requests_for(make_decision: MakeDecision, count: int) -> list[IssueRequest]:
    return [
        IssueRequest(
            parse_decision(make_decision(certificateNumber=f"CB-2026-{n:04d}")),
            StatusSlot(f"{REGISTRY}/status/1", 100 + n),
            StatusSlot(f"{REGISTRY}/status/2", 200 + n),
            f"{REGISTRY}/credentials/00000000-0000-4000-8000-{n:012d}",
        )
        for n in range(count)
    ]


def test_issue_many_issues_what_issue_issues(
    make_issuer: MakeIssuer, make_decision: MakeDecision, any_key: SigningKey, fixed_clock: Any
) -> None:
    desk = make_issuer(key=any_key)
    requests = requests_for(make_decision, 5)
    many = desk.issue_many(requests)
    assert [issued.credential for issued in many] == [
        desk.issue(
            r.decision, revocation=r.revocation, suspension=r.suspension, credential_id=r.credential_id
        ).credential
        for r in requests
    ]
    trust = TrustStore()
    trust.add_issuer(CB_DID, [PublishedKey(any_key.public_key)])
    for issued in many:
        assert verify(issued.token, trust, now=fixed_clock()).check("signature").outcome is Outcome.PASSED


def test_issue_many_withholds_every_credential_when_one_signature_is_bad(
    make_issuer: MakeIssuer, make_decision: MakeDecision, ed_key: SigningKey
) -> None:
    desk = make_issuer(key=faulty(ed_key), published=[PublishedKey(ed_key.public_key)])
    with pytest.raises(SelfCheckError, match=r"signed credential 0 did not verify \(signature: "):
        desk.issue_many(requests_for(make_decision, 3))


def test_sign_many_leaves_the_verdict_to_verified(
    make_issuer: MakeIssuer, make_decision: MakeDecision, ed_key: SigningKey
) -> None:
    """The registry stores a signed batch while its signatures are checked: the bad signature is still
    reported, by `verified()`, which the registry calls before it commits."""
    desk = make_issuer(key=faulty(ed_key), published=[PublishedKey(ed_key.public_key)])
    signed = desk.sign_many(requests_for(make_decision, 3))
    assert len(signed.unverified) == 3
    with pytest.raises(SelfCheckError, match=r"signed credential 0 did not verify \(signature: "):
        signed.verified()


class _OnceFaultySigningKey(SigningKey):
    """A key whose signatures at the given call numbers (from 0) come out with one bit flipped."""

    __slots__ = ("calls", "faults")

    def sign(self, data: bytes) -> bytes:
        signature = super().sign(data)
        call, self.calls = self.calls, self.calls + 1
        return bytes([signature[0] ^ 1]) + signature[1:] if call in self.faults else signature


@pytest.mark.parametrize(
    "case",
    [(40, {20, 31}, 20), (40, {5, 20}, 5), (40, {15}, 15), (40, {16}, 16), (35, {34}, 34), (3, {2}, 2)],
    ids=[
        "second-chunk",
        "two-chunks",
        "end-of-a-chunk",
        "start-of-a-chunk",
        "last-partial-chunk",
        "short-batch",
    ],
)
def test_issue_many_names_the_first_bad_signature_wherever_it_falls(
    make_issuer: MakeIssuer, make_decision: MakeDecision, ed_key: SigningKey, case: tuple[int, set[int], int]
) -> None:
    """The signatures are checked in chunks on other threads; the error still names the first bad one."""
    count, faults, named = case
    key = _OnceFaultySigningKey.from_pem(ed_key.to_pem(None), None)
    key.calls, key.faults = 0, faults
    desk = make_issuer(key=key, published=[PublishedKey(ed_key.public_key)])
    with pytest.raises(SelfCheckError, match=rf"signed credential {named} did not verify \(signature: "):
        desk.issue_many(requests_for(make_decision, count))


def test_issue_many_withholds_a_profile_violation(
    make_issuer: MakeIssuer, make_decision: MakeDecision
) -> None:
    broken = make_issuer().scheme.model_copy(update={"version": ""})
    with pytest.raises(SelfCheckError, match=r"\(profile: .*schemeVersion.*\); withheld"):
        make_issuer(scheme=broken).issue_many(requests_for(make_decision, 2))


def test_issue_many_names_the_decision_it_refuses(
    make_issuer: MakeIssuer, make_decision: MakeDecision
) -> None:
    requests = requests_for(make_decision, 3)
    bad = parse_decision(make_decision(validUntil="2026-01-01T00:00:00Z"))  # before now: validFrom
    requests[1] = IssueRequest(bad, requests[1].revocation, requests[1].suspension)
    with pytest.raises(DecisionError, match="validUntil") as caught:
        make_issuer().issue_many(requests)
    assert caught.value.field == "1.validUntil"


# --- slots ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("size", [1, 2, MIN_ENTRIES, 16 * MIN_ENTRIES])
def test_random_slot_is_in_range(size: int) -> None:
    indices = [random_slot(f"{REGISTRY}/status/7", size).index for _ in range(300)]
    assert all(0 <= index < size for index in indices)
    if (
        size >= MIN_ENTRIES
    ):  # spread over the list, not clustered at the start (2**-299 odds of a false alarm)
        assert min(indices) < size // 2 <= max(indices)
        assert len(set(indices)) > 290


def test_random_slot_names_its_list() -> None:
    slot = random_slot(f"{REGISTRY}/status/7", MIN_ENTRIES)
    assert slot.list_url == f"{REGISTRY}/status/7"
    assert slot.entry("revocation")["statusListCredential"] == f"{REGISTRY}/status/7"
