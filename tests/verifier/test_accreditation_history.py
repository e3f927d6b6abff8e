"""Whether a body was accredited when it issued a certificate, read from the trust list's signed history.

Lifting a suspension must not make what the body issued before it invalid (a registry that moved `validFrom`
to the decision did exactly that); what it issued while suspended stays refused; a withdrawal ends the
recognition of everything issued before it, even after a later re-accreditation. Real keys: the scheme owner
signs lists built by `issuer.build_trust_list`; certificates come from the session's `world`.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import issuer
from keys import KeyRecord, KeyState, PublishedKey, SigningKey
from verifier import Outcome, TrustStore, Verdict, problems

OWNER_DID = "did:web:registry.example"
OWNER = SigningKey.generate()
REGISTRY = "https://registry.example"
ISSUED = datetime(2026, 11, 1, tzinfo=UTC)  # tests/verifier/conftest.py: every certificate's issue time
NOW = datetime(2026, 11, 15, 12, 0, tzinfo=UTC)
ACCREDITED = datetime(2026, 1, 1, tzinfo=UTC)
DAY = timedelta(days=1)


def chain(
    world: Any,
    history: Sequence[tuple[str, datetime]],
    *,
    valid_from: datetime = ACCREDITED,
    valid_until: datetime | None = None,
) -> TrustStore:
    key = KeyRecord(
        kid=world.cb.key.kid,
        alg=world.cb.key.alg,
        state=KeyState.ACTIVE,
        created=ACCREDITED,
        retired_at=None,
        compromised_at=None,
        public_key=world.cb.key.public_key,
        history=((KeyState.ACTIVE, ACCREDITED),),
    )
    entry = issuer.AccreditationEntry(
        "example-aigov-scheme", ("1", "2", "3"), valid_from, valid_until, history
    )
    body = issuer.ListedBody(world.cb.did, world.cb.name, None, [key], [entry])
    signed = NOW - timedelta(hours=1)
    credential = issuer.build_trust_list(
        registry_url=REGISTRY, owner_did=OWNER_DID, bodies=[body], version=3, now=signed
    )
    trust = TrustStore()
    trust.pin_scheme_owner(OWNER_DID, [PublishedKey(OWNER.public_key)])
    token = issuer.sign_credential(credential, key=OWNER, kid=f"{OWNER_DID}#{OWNER.kid}", now=signed)
    assert trust.add_trust_list(token).verdict is Verdict.VALID
    for status in world.status_tokens.values():
        trust.add_status_list(status)
    return trust


def test_issued_before_a_lifted_suspension_stays_valid(world: Any) -> None:
    history = [("active", ACCREDITED), ("suspended", ISSUED + DAY), ("active", ISSUED + 3 * DAY)]
    result = world.verify(world.valid_token, chain(world, history))
    assert result.verdict is Verdict.VALID, result.render_text()
    assert result.check("issuer_trust").outcome is Outcome.PASSED


def test_a_list_whose_valid_from_moved_on_lifting_is_read_from_its_history(world: Any) -> None:
    # What the registry signed before the fix: validFrom reset to the decision that lifted the suspension.
    lifted = ISSUED + 3 * DAY
    history = [("active", ACCREDITED), ("suspended", ISSUED + DAY), ("active", lifted)]
    result = world.verify(world.valid_token, chain(world, history, valid_from=lifted))
    assert result.verdict is Verdict.VALID, result.render_text()


def test_a_start_set_on_purpose_after_a_lifted_suspension_is_kept(world: Any) -> None:
    """`accredit --from LATER` on lifting: the operator's start is not the lifting moment, so the period
    decides, and a certificate issued before that start is refused (the history alone would accept it)."""
    history = [("active", ACCREDITED), ("suspended", ISSUED + DAY), ("active", ISSUED + 3 * DAY)]
    result = world.verify(world.valid_token, chain(world, history, valid_from=ISSUED + 2 * DAY))
    world.expect(
        result,
        "issuer_trust",
        Outcome.FAILED,
        problems.NOT_ACCREDITED,
        "its accreditation runs from 2026-11-03T00:00:00Z",
    )


def test_issued_while_suspended_is_refused_after_the_suspension_is_lifted(world: Any) -> None:
    history = [("active", ACCREDITED), ("suspended", ISSUED - DAY), ("active", ISSUED + DAY)]
    for valid_from in (ACCREDITED, ISSUED + DAY):  # the start kept, or moved by the lifting decision
        result = world.verify(world.valid_token, chain(world, history, valid_from=valid_from))
        world.expect(
            result,
            "issuer_trust",
            Outcome.FAILED,
            problems.ACCREDITATION_SUSPENDED,
            "was suspended since 2026-10-31T00:00:00Z when it issued this (2026-11-01T00:00:00Z)",
        )


def test_a_future_start_is_not_overridden_by_the_history(world: Any) -> None:
    # Accredited (decided) before the certificate, but from a start after it, with no suspension between.
    history = [("active", ISSUED - DAY)]
    result = world.verify(world.valid_token, chain(world, history, valid_from=ISSUED + DAY))
    world.expect(
        result,
        "issuer_trust",
        Outcome.FAILED,
        problems.NOT_ACCREDITED,
        "was not accredited when it issued this (2026-11-01T00:00:00Z): its accreditation runs from "
        "2026-11-02T00:00:00Z",
    )


def test_an_earlier_start_covers_the_time_before_the_history(world: Any) -> None:
    # The owner moved the start back (an explicit --from) after the first decision was recorded.
    history = [("active", ISSUED + DAY)]
    trusted = chain(world, history, valid_from=ISSUED - DAY)
    assert world.verify(world.valid_token, trusted).verdict is Verdict.VALID
    later = chain(world, history, valid_from=ISSUED + DAY)
    world.expect(
        world.verify(world.valid_token, later), "issuer_trust", Outcome.FAILED, problems.NOT_ACCREDITED
    )


def test_the_end_of_the_period_still_bounds_the_history(world: Any) -> None:
    history = [("active", ACCREDITED)]
    result = world.verify(world.valid_token, chain(world, history, valid_until=ISSUED))
    world.expect(
        result, "issuer_trust", Outcome.FAILED, problems.NOT_ACCREDITED, "until 2026-11-01T00:00:00Z"
    )


def test_a_withdrawal_is_not_undone_by_a_later_accreditation(world: Any) -> None:
    history = [("active", ACCREDITED), ("withdrawn", ISSUED + DAY), ("active", ISSUED + 5 * DAY)]
    for valid_from in (ACCREDITED, ISSUED + 5 * DAY):
        result = world.verify(world.valid_token, chain(world, history, valid_from=valid_from))
        world.expect(
            result,
            "issuer_trust",
            Outcome.FAILED,
            problems.ACCREDITATION_WITHDRAWN,
            "withdrawn on 2026-11-02T00:00:00Z: the certificates it issued before are no longer recognised",
        )


def test_an_issuer_absent_from_the_list_is_not_accredited_by_the_owner(world: Any) -> None:
    trust = chain(world, [("active", ACCREDITED)])
    token = world.token(key=world.other.key, kid=f"{world.other.did}#{world.other.key.kid}")
    result = world.verify(token, trust)
    world.expect(
        result,
        "key",
        Outcome.FAILED,
        problems.UNTRUSTED_ISSUER,
        f"issuer {world.other.did} is not accredited by the scheme owner {OWNER_DID}: it is not on trust list "
        "version 3",
    )
