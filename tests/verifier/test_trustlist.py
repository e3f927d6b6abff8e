"""The trust chain: scheme owner → trust list → certification body → certificate, and offline bundles.

Real keys throughout: the scheme owner signs trust lists and bundles built by `issuer.build_trust_list` and
`issuer.build_bundle`; certificates and status lists come from the session's `world` (tests/verifier/conftest.py).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from importlib import resources
from typing import Any

import pytest

import issuer
import verifier
from keys import KeyRecord, KeyState, PublishedKey, SigningKey, b64url_decode, b64url_encode, did_web_document
from verifier import Outcome, TrustStore, Verdict, problems

OWNER_DID = "did:web:registry.example"
OWNER = SigningKey.generate()
OWNER_KID = f"{OWNER_DID}#{OWNER.kid}"
REGISTRY = "https://registry.example"
ISSUED = datetime(2026, 11, 1, tzinfo=UTC)
NOW = datetime(2026, 11, 15, 12, 0, tzinfo=UTC)
LIST_SIGNED = NOW - timedelta(hours=1)
ACCREDITED = datetime(2026, 1, 1, tzinfo=UTC)
SCHEME_ID = "example-aigov-scheme"


def record(key: SigningKey, *, created: datetime = ACCREDITED, retired: datetime | None = None) -> KeyRecord:
    state = KeyState.RETIRED if retired else KeyState.ACTIVE
    return KeyRecord(
        kid=key.kid,
        alg=key.alg,
        state=state,
        created=created,
        retired_at=retired,
        compromised_at=None,
        public_key=key.public_key,
        history=((KeyState.ACTIVE, created),),
    )


def accreditation(
    *,
    scheme: str = SCHEME_ID,
    levels: Sequence[str] = ("1", "2", "3"),
    history: Sequence[tuple[str, datetime]] = (("active", ACCREDITED),),
    valid_from: datetime = ACCREDITED,
    valid_until: datetime | None = None,
) -> issuer.AccreditationEntry:
    return issuer.AccreditationEntry(scheme, levels, valid_from, valid_until, history)


def cb_body(world: Any, *, keys: Sequence[KeyRecord] | None = None, **accredited: Any) -> issuer.ListedBody:
    listed = keys if keys is not None else [record(world.cb.key), record(world.cb_p256)]
    return issuer.ListedBody(
        world.cb.did, world.cb.name, "例示認証機関", listed, [accreditation(**accredited)]
    )


def trust_list_credential(
    bodies: Sequence[issuer.ListedBody], *, version: int = 1, signed: datetime = LIST_SIGNED
) -> dict[str, Any]:
    return issuer.build_trust_list(
        registry_url=REGISTRY, owner_did=OWNER_DID, bodies=bodies, version=version, now=signed
    )


def sign_list(
    credential: dict[str, Any], *, key: SigningKey = OWNER, kid: str = OWNER_KID, at: datetime = LIST_SIGNED
) -> str:
    return issuer.sign_credential(credential, key=key, kid=kid, now=at)


def trust_list(world: Any, **body: Any) -> str:
    return sign_list(trust_list_credential([cb_body(world, **body)]))


def store(token: str | None = None, *, statuses: Sequence[str] = ()) -> TrustStore:
    trust = TrustStore()
    trust.pin_scheme_owner(OWNER_DID, [PublishedKey(OWNER.public_key)])
    if token is not None:
        trust.add_trust_list(token)
    for status in statuses:
        trust.add_status_list(status)
    return trust


def chain(world: Any, token: str | None = None, **body: Any) -> TrustStore:
    return store(token or trust_list(world, **body), statuses=list(world.status_tokens.values()))


def tamper(token: str, **changes: Any) -> str:
    header, payload, signature = token.split(".")
    claims = json.loads(b64url_decode(payload))
    claims["credentialSubject"].update(changes)
    return ".".join([header, b64url_encode(json.dumps(claims).encode()), signature])


# -- the trust list itself -------------------------------------------------------------------------------------


def test_a_trust_list_signed_by_the_owner_verifies(world: Any) -> None:
    result = verifier.verify_trust_list(
        trust_list(world), [PublishedKey(OWNER.public_key)], owner_did=OWNER_DID, now=NOW
    )
    assert result.verdict is Verdict.VALID, result.render_text()
    assert result.trust_list is not None
    assert result.trust_list.version == 1
    assert result.check("profile").detail == "trust list version 1 of 1 certification bodies"
    assert set(result.listed_keys) == {world.cb.did}


def test_a_tampered_trust_list_is_refused_and_trusts_nobody(world: Any) -> None:
    forged = tamper(trust_list(world), version=99)
    trust = store()
    result = trust.add_trust_list(forged)
    world.expect(result, "signature", Outcome.FAILED, problems.CRYPTOGRAPHIC_SECURITY_ERROR)
    assert trust.trust_list is None
    checked = world.verify(world.valid_token, trust)
    world.expect(checked, "key", Outcome.FAILED, problems.UNTRUSTED_ISSUER, "not in the trust store")


def test_an_expired_trust_list_is_refused_with_now_and_indeterminate_when_used(world: Any) -> None:
    token = trust_list(world)
    late = LIST_SIGNED + issuer.DEFAULT_TRUST_LIST_VALIDITY + timedelta(hours=1)
    refused = verifier.verify_trust_list(
        token, [PublishedKey(OWNER.public_key)], owner_did=OWNER_DID, now=late
    )
    world.expect(refused, "validity_period", Outcome.FAILED, problems.EXPIRED, "expired on")
    assert refused.trust_list is None

    trust = chain(world, token)  # added without `now`: its window is checked at each use
    result = world.verify(world.valid_token, trust, now=late)
    world.expect(result, "issuer_trust", Outcome.INDETERMINATE, problems.TRUST_LIST_EXPIRED, "expired on")


def test_a_trust_list_signed_by_another_key_is_refused(world: Any) -> None:
    credential = trust_list_credential([cb_body(world)])
    under_owner_kid = sign_list(credential, key=world.stranger)
    result = store().add_trust_list(under_owner_kid)
    world.expect(result, "signature", Outcome.FAILED, problems.CRYPTOGRAPHIC_SECURITY_ERROR)
    stranger_kid = f"{OWNER_DID}#{world.stranger.kid}"
    result = store().add_trust_list(sign_list(credential, key=world.stranger, kid=stranger_kid))
    world.expect(result, "key", Outcome.FAILED, problems.UNKNOWN_KEY)
    other_did = sign_list(credential, key=world.stranger, kid=f"did:web:evil.example#{world.stranger.kid}")
    world.expect(store().add_trust_list(other_did), "key", Outcome.FAILED, problems.UNTRUSTED_ISSUER)
    # The same key material under the owner's kid but a signature by the owner over other bytes.
    header, payload, _ = trust_list(world).split(".")
    _, _, other_signature = sign_list(trust_list_credential([cb_body(world)], version=2)).split(".")
    spliced = f"{header}.{payload}.{other_signature}"
    world.expect(
        store().add_trust_list(spliced), "signature", Outcome.FAILED, problems.CRYPTOGRAPHIC_SECURITY_ERROR
    )


def test_alg_none_and_hmac_trust_lists_are_refused(world: Any) -> None:
    _, payload, _ = trust_list(world).split(".")
    for alg in ("none", "HS256"):
        forged_header = b64url_encode(json.dumps({"alg": alg, "kid": OWNER_KID, "typ": "vc+jwt"}).encode())
        result = store().add_trust_list(f"{forged_header}.{payload}.")
        assert result.verdict is Verdict.INVALID
        assert result.check("header").outcome is Outcome.FAILED
        assert alg in result.check("header").detail


def test_without_a_pinned_owner_no_trust_list_is_accepted(world: Any) -> None:
    result = TrustStore().add_trust_list(trust_list(world))
    world.expect(result, "key", Outcome.FAILED, problems.UNTRUSTED_ISSUER)


@pytest.mark.parametrize(
    ("change", "phrase"),
    [
        ({"issuers": "nope"}, "issuers"),
        ({"version": 0}, "version"),
        ({"issuers": [{"id": "did:web:x.example"}]}, "legalName"),
    ],
)
def test_a_malformed_trust_list_is_a_data_model_failure(
    world: Any, change: dict[str, Any], phrase: str
) -> None:
    credential = trust_list_credential([cb_body(world)])
    credential["credentialSubject"].update(change)
    result = store().add_trust_list(sign_list(credential))
    world.expect(result, "data_model", Outcome.FAILED, problems.MALFORMED_VALUE_ERROR, phrase)


def test_a_trust_list_without_validity_or_oversized_is_refused(world: Any) -> None:
    credential = trust_list_credential([cb_body(world)])
    del credential["validUntil"]
    result = store().add_trust_list(sign_list(credential))
    world.expect(result, "data_model", Outcome.FAILED, problems.MALFORMED_VALUE_ERROR, "needs validUntil")
    huge = "a" * (4 * 1024 * 1024 + 1)
    world.expect(store().add_trust_list(huge), "parse", Outcome.FAILED, problems.PARSING_ERROR, "over the")
    world.expect(store().add_trust_list("not a token"), "parse", Outcome.FAILED, problems.PARSING_ERROR)


def test_a_listed_key_whose_kid_is_not_its_thumbprint_makes_the_list_malformed(world: Any) -> None:
    credential = trust_list_credential([cb_body(world)])
    credential["credentialSubject"]["issuers"][0]["keys"][0]["kid"] = world.other.key.kid
    result = store().add_trust_list(sign_list(credential))
    world.expect(result, "data_model", Outcome.FAILED, problems.MALFORMED_VALUE_ERROR, "thumbprint")


def test_a_forged_or_older_list_never_displaces_a_verified_one(world: Any) -> None:
    trust = chain(world, sign_list(trust_list_credential([cb_body(world)], version=5)))
    assert trust.add_trust_list(tamper(trust_list(world), version=6)).verdict is Verdict.INVALID
    older = sign_list(trust_list_credential([cb_body(world, history=[("withdrawn", ACCREDITED)])], version=4))
    assert trust.add_trust_list(older).verdict is Verdict.VALID  # authentic, but a rollback
    assert trust.trust_list is not None
    assert trust.trust_list.version == 5
    assert world.verify(world.valid_token, trust).verdict is Verdict.VALID


# -- certificates through the chain ----------------------------------------------------------------------------


def test_an_accredited_issuer_s_certificate_is_valid(world: Any) -> None:
    result = world.verify(world.valid_token, chain(world))
    assert result.verdict is Verdict.VALID, result.render_text()
    detail = result.check("issuer_trust").detail
    assert f"accredited by {OWNER_DID} for level 2 of {REGISTRY}/schemes/{SCHEME_ID}" in detail
    assert "trust list version 1" in detail


def test_an_issuer_not_on_the_list_is_untrusted_even_if_pinned(world: Any) -> None:
    other_only = issuer.ListedBody(
        world.other.did, world.other.name, None, [record(world.other.key)], [accreditation()]
    )
    trust = store(sign_list(trust_list_credential([other_only])), statuses=list(world.status_tokens.values()))
    world.expect(world.verify(world.valid_token, trust), "key", Outcome.FAILED, problems.UNTRUSTED_ISSUER)
    trust.add_issuer(world.cb.did, world.cb.published)  # pinned by hand: the list still decides
    result = world.verify(world.valid_token, trust)
    world.expect(
        result, "issuer_trust", Outcome.FAILED, problems.UNTRUSTED_ISSUER, "is not on the trust list"
    )


def test_an_issuer_accredited_for_another_scheme_fails(world: Any) -> None:
    result = world.verify(world.valid_token, chain(world, scheme="another-scheme"))
    world.expect(
        result, "issuer_trust", Outcome.FAILED, problems.NOT_ACCREDITED, "not accredited for the scheme"
    )


def test_an_issuer_accredited_for_other_levels_fails(world: Any) -> None:
    result = world.verify(world.valid_token, chain(world, levels=("1",)))
    world.expect(result, "issuer_trust", Outcome.FAILED, problems.NOT_ACCREDITED, "levels 1, not level 2")


def test_a_certificate_whose_level_contradicts_its_achievement_fails(world: Any) -> None:
    token = world.token(world.credential(**{"credentialSubject.certification.level": "3"}))
    result = world.verify(token, chain(world))
    world.expect(result, "issuer_trust", Outcome.FAILED, problems.NOT_ACCREDITED, "names no scheme and level")


def test_issued_outside_the_accreditation_period_fails(world: Any) -> None:
    result = world.verify(world.valid_token, chain(world, valid_from=ISSUED + timedelta(days=1)))
    world.expect(result, "issuer_trust", Outcome.FAILED, problems.NOT_ACCREDITED, "was not accredited when")
    ended = chain(world, valid_until=ISSUED - timedelta(days=1))
    world.expect(
        world.verify(world.valid_token, ended), "issuer_trust", Outcome.FAILED, problems.NOT_ACCREDITED
    )


def test_an_issuer_suspended_before_issuance_fails(world: Any) -> None:
    history = [("active", ACCREDITED), ("suspended", ISSUED - timedelta(days=3))]
    result = world.verify(world.valid_token, chain(world, history=history))
    world.expect(
        result,
        "issuer_trust",
        Outcome.FAILED,
        problems.ACCREDITATION_SUSPENDED,
        "was suspended since 2026-10-29",
    )


def test_reinstated_before_issuance_counts_as_active(world: Any) -> None:
    history = [
        ("active", ACCREDITED),
        ("suspended", ISSUED - timedelta(days=30)),
        ("active", ISSUED - timedelta(days=3)),
    ]
    assert world.verify(world.valid_token, chain(world, history=history)).verdict is Verdict.VALID


def test_an_issuer_suspended_after_issuance_is_a_warning(world: Any) -> None:
    history = [("active", ACCREDITED), ("suspended", ISSUED + timedelta(days=3))]
    result = world.verify(world.valid_token, chain(world, history=history))
    world.expect(
        result,
        "issuer_trust",
        Outcome.WARNING,
        problems.ACCREDITATION_SUSPENDED,
        "stays recognised",
        verdict=Verdict.VALID,
    )


def test_an_issuer_withdrawn_after_issuance_is_invalid_now(world: Any) -> None:
    history = [("active", ACCREDITED), ("withdrawn", ISSUED + timedelta(days=3))]
    result = world.verify(world.valid_token, chain(world, history=history))
    world.expect(
        result, "issuer_trust", Outcome.FAILED, problems.ACCREDITATION_WITHDRAWN, "withdrawn on 2026-11-04"
    )


def test_a_key_that_does_not_belong_to_the_issuer_fails(world: Any) -> None:
    # other's key, named as if it were cb's: the list does not give cb that key.
    token = world.token(key=world.other.key, kid=f"{world.cb.did}#{world.other.key.kid}")
    world.expect(world.verify(token, chain(world)), "key", Outcome.FAILED, problems.UNKNOWN_KEY)
    # A key of cb that the list does not carry (only the Ed25519 key is listed): not cb's as far as trust goes.
    trust = chain(world, keys=[record(world.cb.key)])
    p256 = world.token(key=world.cb_p256, kid=world.cb_p256_kid)
    world.expect(world.verify(p256, trust), "key", Outcome.FAILED, problems.UNKNOWN_KEY)


def test_a_key_outside_its_validity_fails(world: Any) -> None:
    later = chain(world, keys=[record(world.cb.key, created=ISSUED + timedelta(days=1))])
    result = world.verify(world.valid_token, later)
    world.expect(
        result, "issuer_trust", Outcome.FAILED, problems.KEY_NOT_USABLE, "entered service on 2026-11-02"
    )
    retired = chain(world, keys=[record(world.cb.key, retired=ISSUED - timedelta(days=1))])
    world.expect(
        world.verify(world.valid_token, retired), "key", Outcome.FAILED, problems.KEY_NOT_USABLE, "retired"
    )
    still_good = chain(world, keys=[record(world.cb.key, retired=ISSUED + timedelta(days=1))])
    assert world.verify(world.valid_token, still_good).verdict is Verdict.VALID


def test_without_a_trust_list_pinned_issuers_behave_as_before(world: Any) -> None:
    result = world.verify(world.valid_token)
    assert result.check("issuer_trust").detail == f"issuer {world.cb.did} is pinned in the trust store"


# -- offline bundles ---------------------------------------------------------------------------------------------


def bundle(
    world: Any,
    *,
    issued: datetime = NOW - timedelta(hours=2),
    statuses: Sequence[str] | None = None,
    key: SigningKey = OWNER,
) -> str:
    credential = issuer.build_bundle(
        registry_url=REGISTRY,
        owner_did=OWNER_DID,
        owner_document=did_web_document(OWNER_DID, [PublishedKey(OWNER.public_key)]),
        trust_list=trust_list(world),
        did_documents=[did_web_document(world.cb.did, world.cb.published)],
        status_lists=list(world.status_tokens.values()) if statuses is None else statuses,
        now=issued,
    )
    return issuer.sign_credential(credential, key=key, kid=OWNER_KID, now=issued)


def test_a_fresh_bundle_verifies_everything_offline(world: Any) -> None:
    trust = store()
    loaded = trust.add_bundle(bundle(world), now=NOW)
    assert loaded.verdict is Verdict.VALID, loaded.render_text()
    assert loaded.age == timedelta(hours=2)
    assert not loaded.stale
    assert loaded.summary.endswith("2 h old")
    assert trust.trust_list is not None
    assert world.verify(world.valid_token, trust).verdict is Verdict.VALID


def test_a_bundle_older_than_max_age_gives_indeterminate_status(world: Any) -> None:
    trust = store()
    loaded = trust.add_bundle(bundle(world, issued=NOW - timedelta(hours=30)), now=NOW)
    assert loaded.stale
    assert loaded.verdict is Verdict.VALID
    result = world.verify(world.valid_token, trust)
    check = world.expect(
        result, "status.revocation", Outcome.INDETERMINATE, problems.STALE_BUNDLE, "30 h old"
    )
    assert "over the 24 h policy" in check.detail
    relaxed = store()
    relaxed.add_bundle(bundle(world, issued=NOW - timedelta(hours=30)), now=NOW, max_age=timedelta(hours=48))
    assert world.verify(world.valid_token, relaxed).verdict is Verdict.VALID


def test_a_second_stale_bundle_carrying_the_same_lists_keeps_them_aged_as_a_bundle(world: Any) -> None:
    """A daily pull often carries the very same lists (the registry re-signs every day and a half): the newer
    bundle, stale too, must still hold them to its age (found in review: VALID through two stale bundles)."""
    trust = store()
    trust.add_bundle(bundle(world, issued=NOW - timedelta(hours=30)), now=NOW)
    trust.add_bundle(bundle(world, issued=NOW - timedelta(hours=29)), now=NOW)
    result = world.verify(world.valid_token, trust)
    world.expect(result, "status.revocation", Outcome.INDETERMINATE, problems.STALE_BUNDLE, "29 h old")


def test_a_tampered_bundle_adds_nothing(world: Any) -> None:
    trust = store()
    loaded = trust.add_bundle(tamper(bundle(world), statusLists=[]), now=NOW)
    world.expect(loaded, "signature", Outcome.FAILED, problems.CRYPTOGRAPHIC_SECURITY_ERROR)
    assert trust.trust_list is None
    assert trust.status_snapshots == []
    assert trust.bundle is None
    by_stranger = store().add_bundle(bundle(world, key=world.stranger), now=NOW)
    assert by_stranger.verdict is Verdict.INVALID


def test_a_bad_status_list_inside_a_bundle_gives_indeterminate(world: Any) -> None:
    good = world.status_tokens[world.suspension_url]
    forged = tamper(world.status_tokens[world.revocation_url], encodedList="uH4sIAAAAAAAA")
    trust = store()
    loaded = trust.add_bundle(bundle(world, statuses=[forged, good]), now=NOW)
    assert loaded.verdict is Verdict.VALID
    assert [r.verdict for r in loaded.status_results] == [Verdict.INVALID, Verdict.VALID]
    result = world.verify(world.valid_token, trust)
    world.expect(result, "status.revocation", Outcome.INDETERMINATE, problems.STATUS_VERIFICATION_ERROR)
    assert result.check("status.suspension").outcome is Outcome.PASSED


def test_pinning_the_owner_by_fingerprint(world: Any) -> None:
    document = did_web_document(
        OWNER_DID, [PublishedKey(OWNER.public_key), PublishedKey(world.stranger.public_key)]
    )
    did, keys = verifier.owner_keys_by_fingerprint(document, OWNER.kid)
    assert (did, [k.kid for k in keys]) == (OWNER_DID, [OWNER.kid])
    with pytest.raises(ValueError, match="fingerprint"):
        verifier.owner_keys_by_fingerprint(document, world.other.key.kid)
    with pytest.raises(ValueError, match="'id'"):
        verifier.owner_keys_by_fingerprint({"verificationMethod": []}, OWNER.kid)


# -- the JSON-LD context defines every term, and no more -----------------------------------------------------------

# Global (not type-scoped) terms of the VC 2.0 context, protected: ours must not redefine them.
_VC2_GLOBAL = {"id", "type", "kid", "iss", "sub", "exp", "nbf", "iat", "description", "name"}
# Terms of VerifiableCredential's type-scoped context (VC 2.0), active at the credential's top level only.
_VC2_CREDENTIAL = {"@context", "issuer", "validFrom", "validUntil", "credentialSubject", "jti"}
# Values that are JSON literals, not nodes: a JWK, DID documents (with their own context), tokens.
_LITERALS = {"publicKeyJwk", "schemeOwner", "didDocuments", "legalName"}


def _terms(context: dict[str, Any]) -> dict[str, Any]:
    return {name: value for name, value in context.items() if not name.startswith("@")}


def _members(node: object, found: set[str]) -> set[str]:
    if isinstance(node, dict):
        for member, value in node.items():
            found.add(member)
            if member not in _LITERALS:
                _members(value, found)
    elif isinstance(node, list):
        for item in node:
            _members(item, found)
    return found


def test_the_trust_context_defines_exactly_the_terms_used(world: Any) -> None:
    text = resources.files("verifier").joinpath("data/aigov-trust-context-v1.jsonld").read_text("utf-8")
    context = json.loads(text)["@context"]
    top = _terms(context)
    credential = trust_list_credential(
        [cb_body(world, history=[("active", ACCREDITED), ("suspended", ISSUED)], valid_until=NOW)]
    )
    key = credential["credentialSubject"]["issuers"][0]["keys"][0]
    key.update(retired="2026-11-02T00:00:00Z", compromised="2026-11-03T00:00:00Z")
    bundled = json.loads(b64url_decode(bundle(world).split(".")[1]))
    assert credential["@context"][1] == REGISTRY + verifier.TRUST_CONTEXT_PATH
    for document, subject_type in (
        (credential, "AccreditedIssuerList"),
        (bundled, "OfflineVerificationBundle"),
    ):
        scoped = context[subject_type]["@context"]
        assert scoped["@protected"] is True
        assert scoped["@propagate"] is True
        assert not set(_terms(scoped)) & _VC2_GLOBAL, "a protected VC 2.0 term may not be redefined"
        subject = document["credentialSubject"]
        assert subject["type"] == [subject_type]
        assert document["type"][1] in top
        inside = _members(subject, set()) - {"id", "type"}
        defined = set(_terms(scoped))
        assert sorted(inside - defined - _VC2_GLOBAL) == []
        assert sorted(defined - inside) == [], "no dead terms"
        assert set(document) - {"iss", "jti", "iat", "nbf", "exp", "id", "type"} <= _VC2_CREDENTIAL
        for name, definition in _terms(scoped).items():
            assert definition["@id"].startswith("https://w3id.org/aigov/vocab#"), name
