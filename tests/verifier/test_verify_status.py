"""Status (Bitstring Status List v1.0 §3.2) against the trust store's signed snapshots, offline.

Revoked or suspended is `invalid` with the reason; a status that cannot be obtained or trusted is
`indeterminate`, never valid.
"""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest

import issuer
import verifier
from keys import b64url_decode, verification_method_id
from verifier import Outcome, Verdict

REVOKED = "urn:aigov:problem:revoked"
SUSPENDED = "urn:aigov:problem:suspended"
STATUS_RETRIEVAL_ERROR = "https://www.w3.org/ns/credentials/status-list#STATUS_RETRIEVAL_ERROR"
STATUS_VERIFICATION_ERROR = "https://www.w3.org/ns/credentials/status-list#STATUS_VERIFICATION_ERROR"
STATUS_LIST_LENGTH_ERROR = "https://www.w3.org/ns/credentials/status-list#STATUS_LIST_LENGTH_ERROR"
MALFORMED_VALUE_ERROR = "https://www.w3.org/TR/vc-data-model#MALFORMED_VALUE_ERROR"
RANGE_ERROR = "https://www.w3.org/TR/vc-data-model#RANGE_ERROR"
PROFILE_VIOLATION = "urn:aigov:problem:profile-violation"
FAILED, PASSED, INDETERMINATE = Outcome.FAILED, Outcome.PASSED, Outcome.INDETERMINATE


def with_index(world: Any, revocation: object = None, suspension: object = None) -> str:
    overrides: dict[str, object] = {}
    for position, index in ((0, revocation), (1, suspension)):
        if index is not None:
            overrides[f"credentialStatus.{position}.statusListIndex"] = index
    return world.token(world.credential(**overrides))


def test_not_revoked_not_suspended(world: Any) -> None:
    result = world.verify(world.valid_token)
    assert result.verdict is Verdict.VALID
    world.expect(
        result,
        "status.revocation",
        PASSED,
        None,
        "not revoked (snapshot of 2026-11-01T00:00:00Z, 14 days old)",
    )
    world.expect(result, "status.suspension", PASSED, None, "not suspended")


def test_revoked(world: Any) -> None:
    result = world.verify(with_index(world, revocation=str(world.revoked_index)))
    world.expect(
        result, "status.revocation", FAILED, REVOKED, "the credential is revoked (snapshot of 2026-11-01"
    )
    world.expect(result, "status.suspension", PASSED)
    assert "revoked" in result.summary


def test_suspended(world: Any) -> None:
    result = world.verify(with_index(world, suspension=str(world.suspended_index)))
    world.expect(result, "status.revocation", PASSED)
    world.expect(result, "status.suspension", FAILED, SUSPENDED, "the credential is suspended")


def test_revoked_and_suspended(world: Any) -> None:
    result = world.verify(with_index(world, str(world.revoked_index), str(world.suspended_index)))
    world.expect(result, "status.revocation", FAILED, REVOKED, "revoked")
    world.expect(result, "status.suspension", FAILED, SUSPENDED, "suspended")


def test_the_bit_of_a_neighbour_does_not_count(world: Any) -> None:
    for index in (world.revoked_index - 1, world.revoked_index + 1):
        assert world.verify(with_index(world, revocation=str(index))).verdict is Verdict.VALID


def test_no_snapshot(world: Any) -> None:
    result = world.verify(world.valid_token, world.trust(snapshots=[world.suspension_url]))
    world.expect(
        result,
        "status.revocation",
        INDETERMINATE,
        STATUS_RETRIEVAL_ERROR,
        f"revocation status unknown: no snapshot of {world.revocation_url}",
    )
    world.expect(result, "status.suspension", PASSED, verdict=Verdict.INDETERMINATE)
    assert result.summary.startswith("cannot tell whether this credential is valid")


def test_no_snapshots_at_all(world: Any) -> None:
    result = world.verify(world.valid_token, world.trust(snapshots=[]))
    world.expect(result, "status.revocation", INDETERMINATE, STATUS_RETRIEVAL_ERROR, "no snapshot")
    world.expect(result, "status.suspension", INDETERMINATE, STATUS_RETRIEVAL_ERROR, "no snapshot")


def test_a_known_revocation_wins_over_an_unknown_suspension(world: Any) -> None:
    token = with_index(world, revocation=str(world.revoked_index))
    result = world.verify(token, world.trust(snapshots=[world.revocation_url]))
    assert result.verdict is Verdict.INVALID
    world.expect(result, "status.suspension", INDETERMINATE, STATUS_RETRIEVAL_ERROR, verdict=Verdict.INVALID)


# --- snapshots that cannot be relied on ------------------------------------------------------------------


def trust_with(world: Any, revocation_snapshot: str) -> Any:
    trust = world.trust(snapshots=[world.suspension_url])
    trust.add_status_list(revocation_snapshot)
    return trust


def expect_unusable_snapshot(world: Any, snapshot: str, phrase: str) -> None:
    result = world.verify(world.valid_token, trust_with(world, snapshot))
    world.expect(result, "status.revocation", INDETERMINATE, STATUS_VERIFICATION_ERROR, phrase)
    world.expect(result, "status.suspension", PASSED, verdict=Verdict.INDETERMINATE)


def test_a_snapshot_of_the_wrong_purpose(world: Any) -> None:
    snapshot = world.status_list(world.revocation_url, "suspension")
    expect_unusable_snapshot(
        world, snapshot, f"revocation status unknown: {world.revocation_url} is a suspension list"
    )


def test_a_snapshot_signed_by_another_trusted_issuer(world: Any) -> None:
    snapshot = world.status_list(world.revocation_url, "revocation", party=world.other)
    expect_unusable_snapshot(
        world,
        snapshot,
        f"{world.revocation_url} is signed by {world.other.did}, not by the credential's issuer",
    )


def test_an_expired_snapshot(world: Any) -> None:
    snapshot = world.status_list(world.revocation_url, "revocation", valid_for=timedelta(days=1))
    expect_unusable_snapshot(
        world, snapshot, "the snapshot of https://registry.example/status/1 expired on 2026-11-02T00:00:00Z"
    )


def test_snapshot_expiry_honours_the_skew(world: Any) -> None:
    valid_for = world.now - world.issued
    trust = trust_with(world, world.status_list(world.revocation_url, "revocation", valid_for=valid_for))
    skew = verifier.DEFAULT_MAX_CLOCK_SKEW
    assert world.verify(world.valid_token, trust, now=world.now + skew).verdict is Verdict.VALID
    result = world.verify(world.valid_token, trust, now=world.now + skew + timedelta(microseconds=1))
    world.expect(result, "status.revocation", INDETERMINATE, STATUS_VERIFICATION_ERROR, "expired on")


def test_a_snapshot_from_the_future(world: Any) -> None:
    snapshot = world.status_list(world.revocation_url, "revocation", at=world.now + timedelta(hours=1))
    expect_unusable_snapshot(world, snapshot, "is not valid before")


def test_a_snapshot_whose_signature_is_bad(world: Any) -> None:
    h, p, s = world.status_tokens[world.revocation_url].split(".")
    forged = ".".join((h, p, ("B" if s[0] == "A" else "A") + s[1:]))
    expect_unusable_snapshot(world, forged, "did not verify")


def test_a_snapshot_signed_by_an_untrusted_key(world: Any) -> None:
    payload = world.status_tokens[world.revocation_url].split(".")[1]
    claims = json.loads(b64url_decode(payload))
    forged = world.sign(
        claims, key=world.stranger, kid=verification_method_id(world.cb.did, world.stranger.kid)
    )
    expect_unusable_snapshot(world, forged, "did not verify")


def test_a_forged_snapshot_does_not_replace_a_good_one(world: Any) -> None:
    """An all-clear list forged for a URL must not displace the genuine list saying "revoked"."""
    trust = world.trust()
    h, p, s = world.status_tokens[world.revocation_url].split(".")
    trust.add_status_list(".".join((h, p, ("B" if s[0] == "A" else "A") + s[1:])))
    result = world.verify(with_index(world, revocation=str(world.revoked_index)), trust)
    world.expect(result, "status.revocation", FAILED, REVOKED, "revoked")


def signed_status_list(world: Any, encoded_list: str) -> str:
    credential = issuer.build_status_list_credential(
        list_url=world.revocation_url,
        purpose="revocation",
        encoded_list=encoded_list,
        issuer=world.cb.desk.identity,
        now=world.issued,
        ttl=timedelta(minutes=5),
    )
    return issuer.sign_credential(credential, key=world.cb.key, kid=world.cb.kid, now=world.issued)


def test_a_snapshot_with_a_corrupt_list(world: Any) -> None:
    snapshot = signed_status_list(world, "uH4sIAAAAAAAA")
    expect_unusable_snapshot(world, snapshot, "did not verify: encodedList:")


def test_a_snapshot_that_is_too_short(world: Any) -> None:
    short = verifier.Bitstring(1024, min_entries=8).encode()
    trust = world.trust(snapshots=[world.suspension_url])
    added = trust.add_status_list(signed_status_list(world, short))
    assert added.bits is None
    assert added.result.problems[0].problem == STATUS_LIST_LENGTH_ERROR
    result = world.verify(world.valid_token, trust)
    check = result.check("status.revocation")
    assert check.outcome is INDETERMINATE
    assert result.verdict is Verdict.INDETERMINATE
    assert check.problem in (STATUS_VERIFICATION_ERROR, STATUS_LIST_LENGTH_ERROR)
    assert "at least 131072 are required" in check.detail


def test_a_credential_used_as_a_status_list(world: Any) -> None:
    trust = world.trust(snapshots=[world.suspension_url])
    added = trust.add_status_list(world.valid_token)
    assert added.bits is None
    world.expect(
        added.result, "data_model", FAILED, MALFORMED_VALUE_ERROR, "not a BitstringStatusListCredential"
    )


# --- statusListIndex ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("index", "problem", "phrase"),
    [
        ("131072", RANGE_ERROR, "status list index 131072 is outside the list's range [0, 131072)"),
        ("99999999999999999999", RANGE_ERROR, "outside the list's range [0, 131072)"),
        ("01", MALFORMED_VALUE_ERROR, "statusListIndex must not have leading zeros, got '01'"),
        ("-1", MALFORMED_VALUE_ERROR, "statusListIndex must be the digits 0-9 only"),
        ("+5", MALFORMED_VALUE_ERROR, "statusListIndex must be the digits 0-9 only"),
        (" 5", MALFORMED_VALUE_ERROR, "statusListIndex must be the digits 0-9 only"),
        ("5_000", MALFORMED_VALUE_ERROR, "statusListIndex must be the digits 0-9 only"),
        ("0x10", MALFORMED_VALUE_ERROR, "statusListIndex must be the digits 0-9 only"),
        ("\u0665", MALFORMED_VALUE_ERROR, "statusListIndex must be the digits 0-9 only"),
        ("", MALFORMED_VALUE_ERROR, "statusListIndex must be the digits 0-9 only"),
    ],
    ids=repr,
)
def test_bad_status_list_index(world: Any, index: str, problem: str, phrase: str) -> None:
    result = world.verify(with_index(world, revocation=index))
    world.expect(result, "profile", PASSED)
    world.expect(result, "status.revocation", FAILED, problem, phrase)


@pytest.mark.parametrize(("index", "phrase"), [(5, "statusListIndex"), ("1" * 21, "statusListIndex")])
def test_index_that_breaks_the_profile(world: Any, index: object, phrase: str) -> None:
    result = world.verify(with_index(world, revocation=index))
    world.expect(result, "profile", FAILED, PROFILE_VIOLATION, phrase)


def generic_with_status(world: Any, entry: object) -> str:
    credential = world.generic_credential(credentialStatus=entry)
    return world.token(credential, key=world.other.key, kid=world.other.kid)


def test_a_number_as_index_in_a_generic_credential(world: Any) -> None:
    entry = {
        "type": "BitstringStatusListEntry",
        "statusPurpose": "revocation",
        "statusListIndex": 5,
        "statusListCredential": world.other_status_url,
    }
    result = world.verify(generic_with_status(world, entry))
    world.expect(
        result,
        "status.revocation",
        FAILED,
        MALFORMED_VALUE_ERROR,
        "statusListIndex must be a string of base-10 digits",
    )


def test_an_unsupported_status_type(world: Any) -> None:
    entry = {
        "id": "https://other-cb.example/status/2021#5",
        "type": "StatusList2021Entry",
        "statusPurpose": "revocation",
        "statusListIndex": "5",
        "statusListCredential": "https://other-cb.example/status/2021",
    }
    result = world.verify(generic_with_status(world, entry))
    world.expect(
        result,
        "status.revocation",
        INDETERMINATE,
        STATUS_RETRIEVAL_ERROR,
        "unsupported status type 'StatusList2021Entry'",
    )


@pytest.mark.parametrize("missing", ["statusPurpose", "statusListCredential"])
def test_a_status_entry_missing_a_member(world: Any, missing: str) -> None:
    entry = {
        "type": "BitstringStatusListEntry",
        "statusPurpose": "revocation",
        "statusListIndex": "5",
        "statusListCredential": world.other_status_url,
    }
    del entry[missing]
    result = world.verify(generic_with_status(world, entry))
    check = next(c for c in result.checks if c.name.startswith("status"))
    assert (check.outcome, check.problem) == (FAILED, MALFORMED_VALUE_ERROR)
    assert "status entry lacks statusPurpose or statusListCredential" in check.detail


def test_a_credential_without_credential_status(world: Any) -> None:
    credential = world.generic_credential()
    assert "credentialStatus" not in credential
    result = world.verify(world.token(credential, key=world.other.key, kid=world.other.kid))
    world.expect(
        result,
        "status",
        Outcome.WARNING,
        None,
        "the credential has no credentialStatus: revocation cannot be checked",
        verdict=Verdict.VALID,
    )


def test_a_generic_credential_revoked_by_its_issuer(world: Any) -> None:
    trust = world.trust(snapshots=[world.revocation_url, world.suspension_url])
    trust.add_status_list(
        world.status_list(world.other_status_url, "revocation", party=world.other, set_bits=[5])
    )
    entry = {
        "type": "BitstringStatusListEntry",
        "statusPurpose": "revocation",
        "statusListIndex": "5",
        "statusListCredential": world.other_status_url,
    }
    result = world.verify(generic_with_status(world, entry), trust)
    world.expect(result, "status.revocation", FAILED, REVOKED, "revoked")


# --- verify_status_list -------------------------------------------------------------------------------


def test_verify_status_list_returns_a_decoded_snapshot(world: Any) -> None:
    snapshot = verifier.verify_status_list(
        world.status_tokens[world.revocation_url], world.trust(snapshots=[])
    )
    assert snapshot.url == world.revocation_url
    assert (snapshot.issuer, snapshot.purpose) == (world.cb.did, "revocation")
    assert snapshot.bits is not None
    assert len(snapshot.bits) == world.list_size
    assert snapshot.bits.get(world.revoked_index)
    assert not snapshot.bits.get(0)
    assert snapshot.valid_from == world.issued
    assert snapshot.valid_until is None
    assert snapshot.result.verdict is Verdict.VALID


def test_verify_status_list_from_an_untrusted_issuer(world: Any) -> None:
    snapshot = verifier.verify_status_list(world.status_tokens[world.revocation_url], verifier.TrustStore())
    assert snapshot.bits is None
    assert snapshot.result.verdict is Verdict.INVALID
    world.expect(
        snapshot.result, "key", FAILED, "urn:aigov:problem:untrusted-issuer", "not in the trust store"
    )


def test_an_older_copy_given_after_a_newer_one_does_not_hide_a_revocation(world: Any) -> None:
    token = with_index(world, revocation=str(world.revoked_index))
    before = world.status_list(world.revocation_url, "revocation")  # signed at issuance: nothing revoked
    after = world.status_list(
        world.revocation_url,
        "revocation",
        set_bits=[world.revoked_index],
        at=world.issued + timedelta(days=3),
    )
    for order in ((after, before), (before, after)):
        trust = world.trust(snapshots=[world.suspension_url])
        for copy in order:
            trust.add_status_list(copy)
        result = world.verify(token, trust)
        world.expect(result, "status.revocation", FAILED, REVOKED, "revoked (snapshot of 2026-11-04")


def test_two_copies_signed_in_the_same_second_that_disagree_err_towards_revoked(world: Any) -> None:
    token = with_index(world, revocation=str(world.revoked_index))
    at = world.issued + timedelta(days=3)
    clean = world.status_list(world.revocation_url, "revocation", at=at)
    revoked = world.status_list(world.revocation_url, "revocation", set_bits=[world.revoked_index], at=at)
    for order in ((revoked, clean), (clean, revoked)):
        trust = world.trust(snapshots=[world.suspension_url])
        for copy in order:
            trust.add_status_list(copy)
        world.expect(world.verify(token, trust), "status.revocation", FAILED, REVOKED)


def test_another_issuers_list_for_the_same_url_never_displaces_the_genuine_one(world: Any) -> None:
    token = with_index(world, revocation=str(world.revoked_index))
    genuine = world.status_list(world.revocation_url, "revocation", set_bits=[world.revoked_index])
    forged = world.status_list(
        world.revocation_url, "revocation", party=world.other, at=world.issued + timedelta(days=5)
    )
    trust = world.trust(snapshots=[world.suspension_url])
    for copy in (genuine, forged):
        trust.add_status_list(copy)
    world.expect(world.verify(token, trust), "status.revocation", FAILED, REVOKED)
    trust = world.trust(snapshots=[world.suspension_url])
    for copy in (forged, genuine):  # the other issuer's list came first: the status is unknown, never valid
        trust.add_status_list(copy)
    assert world.verify(token, trust).verdict is Verdict.INDETERMINATE
