"""Time: the validity window against an injected clock with bounded skew, and key rotation and compromise.

Boundaries are exact: at `max_clock_skew` past a limit a credential still passes, one tick further it fails.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from keys import PublishedKey, SigningKey, verification_method_id
from verifier import DEFAULT_MAX_CLOCK_SKEW, Outcome, Verdict

NOT_YET_VALID = "urn:aigov:problem:not-yet-valid"
EXPIRED = "urn:aigov:problem:expired"
CLAIM_MISMATCH = "urn:aigov:problem:claim-mismatch"
KEY_NOT_USABLE = "urn:aigov:problem:key-not-usable"
FAILED, PASSED = Outcome.FAILED, Outcome.PASSED

VALID_UNTIL = datetime(2029, 10, 31, 23, 59, 59, tzinfo=UTC)  # the default certificate's
LATER_START = datetime(2026, 12, 1, tzinfo=UTC)
SKEW = DEFAULT_MAX_CLOCK_SKEW
TICK = timedelta(microseconds=1)


def test_default_skew_is_five_minutes() -> None:
    assert timedelta(seconds=300) == SKEW


@pytest.fixture(scope="module")
def starts_later(world: Any) -> str:
    """A certificate issued (iat) on 1 November that takes effect on 1 December."""
    return world.token(world.credential(validFrom="2026-12-01T00:00:00Z"))


# --- expiry ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("now", "skew", "valid"),
    [
        (VALID_UNTIL, SKEW, True),
        (VALID_UNTIL + SKEW, SKEW, True),  # exactly at the skew: passes
        (VALID_UNTIL + SKEW + TICK, SKEW, False),  # just beyond: fails
        (VALID_UNTIL + SKEW + timedelta(seconds=1), SKEW, False),
        (VALID_UNTIL, timedelta(0), True),
        (VALID_UNTIL + TICK, timedelta(0), False),
        (VALID_UNTIL + timedelta(hours=1), timedelta(hours=1), True),
        (VALID_UNTIL + timedelta(hours=1, seconds=1), timedelta(hours=1), False),
        (datetime(2040, 1, 1, tzinfo=UTC), SKEW, False),
    ],
    ids=[
        "at-end",
        "at-skew",
        "skew+1us",
        "skew+1s",
        "no-skew-at-end",
        "no-skew+1us",
        "1h-skew",
        "1h-skew+1s",
        "long-after",
    ],
)
def test_expiry(world: Any, now: datetime, skew: timedelta, valid: bool) -> None:
    result = world.verify(world.valid_token, now=now, max_clock_skew=skew)
    if valid:
        assert result.verdict is Verdict.VALID, result.render_text()
        world.expect(result, "validity_period", PASSED, None, "until 2029-10-31T23:59:59Z")
    else:
        world.expect(result, "validity_period", FAILED, EXPIRED, "expired on 2029-10-31T23:59:59Z")
        assert "expired on 2029-10-31T23:59:59Z" in result.summary
        # Expiry is a finding, not a broken prerequisite: the later checks still run and explain.
        world.expect(result, "issuer_trust", PASSED)


def test_expiry_in_another_time_zone(world: Any) -> None:
    """`now` is an instant; its time zone does not matter."""
    tokyo = VALID_UNTIL.astimezone(datetime.fromisoformat("2000-01-01T00:00:00+09:00").tzinfo)
    assert world.verify(world.valid_token, now=tokyo + SKEW).verdict is Verdict.VALID
    assert world.verify(world.valid_token, now=tokyo + SKEW + TICK).verdict is Verdict.INVALID


def test_exp_earlier_than_valid_until_is_a_mismatch_not_a_shorter_window(world: Any) -> None:
    token = world.token(exp=int(datetime(2027, 1, 1, tzinfo=UTC).timestamp()))
    result = world.verify(token)
    world.expect(
        result, "claims", FAILED, CLAIM_MISMATCH, "'exp' (2027-01-01T00:00:00Z) contradicts validUntil"
    )


# --- not yet valid --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("now", "skew", "valid"),
    [
        (LATER_START, SKEW, True),
        (LATER_START - SKEW, SKEW, True),  # exactly at the skew: passes
        (LATER_START - SKEW - TICK, SKEW, False),  # just beyond: fails
        (LATER_START - SKEW - timedelta(seconds=1), SKEW, False),
        (LATER_START, timedelta(0), True),
        (LATER_START - TICK, timedelta(0), False),
        (LATER_START - timedelta(days=10), SKEW, False),
    ],
    ids=["at-start", "at-skew", "skew-1us", "skew-1s", "no-skew-at-start", "no-skew-1us", "days-before"],
)
def test_not_yet_valid(world: Any, starts_later: str, now: datetime, skew: timedelta, valid: bool) -> None:
    result = world.verify(starts_later, now=now, max_clock_skew=skew)
    if valid:
        assert result.verdict is Verdict.VALID, result.render_text()
    else:
        world.expect(
            result, "validity_period", FAILED, NOT_YET_VALID, "not valid before 2026-12-01T00:00:00Z"
        )


def test_a_credential_without_any_window_never_expires(world: Any) -> None:
    credential = world.generic_credential(validFrom=world.DROP, validUntil=world.DROP)
    token = world.token(credential, key=world.other.key, kid=world.other.kid)
    result = world.verify(token, now=datetime(2099, 1, 1, tzinfo=UTC))
    assert result.verdict is Verdict.VALID, result.render_text()
    world.expect(result, "validity_period", PASSED, None, "valid from (unbounded), no expiry")


def test_nbf_and_exp_alone_bound_the_window(world: Any) -> None:
    """A generic credential without validFrom/validUntil is still bounded by its JWT claims."""
    credential = world.generic_credential(validFrom=world.DROP, validUntil=world.DROP)
    end = datetime(2027, 1, 1, tzinfo=UTC)
    token = world.token(credential, key=world.other.key, kid=world.other.kid, exp=int(end.timestamp()))
    assert world.verify(token, now=end + SKEW).verdict is Verdict.VALID
    world.expect(
        world.verify(token, now=end + SKEW + TICK),
        "validity_period",
        FAILED,
        EXPIRED,
        "expired on 2027-01-01",
    )


# --- iat in the future --------------------------------------------------------------------------------


def test_iat_in_the_future_beyond_the_skew(world: Any) -> None:
    limit = world.now + SKEW
    assert world.verify(world.token(iat=int(limit.timestamp()))).verdict is Verdict.VALID
    result = world.verify(world.token(iat=int(limit.timestamp()) + 1))
    world.expect(
        result,
        "validity_period",
        FAILED,
        NOT_YET_VALID,
        "issued in the future: 'iat' is 2026-11-15T12:05:01Z",
    )
    world.expect(result, "claims", PASSED)


# --- key rotation and compromise -------------------------------------------------------------------------

RETIRED = datetime(2026, 11, 10, tzinfo=UTC)
COMPROMISED = datetime(2026, 11, 10, tzinfo=UTC)


@pytest.fixture(scope="module")
def old_key() -> SigningKey:
    return SigningKey.generate()


def rotated_trust(world: Any, old_key: SigningKey, **lifetime: datetime) -> Any:
    return world.trust(cb_keys=[PublishedKey(old_key.public_key, **lifetime), *world.cb.published])


def signed_by(world: Any, key: SigningKey, at: datetime | None, **claims: Any) -> str:
    kid = verification_method_id(world.cb.did, key.kid)
    credential = world.credential(validFrom="2026-11-01T00:00:00Z")
    return world.token(credential, key=key, kid=kid, signed_at=at, **claims)


@pytest.mark.parametrize(
    ("signed_at", "valid"),
    [
        (RETIRED - timedelta(days=9), True),
        (RETIRED - timedelta(seconds=1), True),
        (RETIRED, False),  # at the retirement instant: no longer in service
        (RETIRED + timedelta(days=1), False),
    ],
    ids=["long-before", "1s-before", "at", "after"],
)
def test_a_retired_key(world: Any, old_key: SigningKey, signed_at: datetime, valid: bool) -> None:
    trust = rotated_trust(world, old_key, expires=RETIRED)
    result = world.verify(signed_by(world, old_key, signed_at), trust)
    if valid:
        assert result.verdict is Verdict.VALID, result.render_text()
        world.expect(
            result,
            "key",
            PASSED,
            None,
            "(retired on 2026-11-10T00:00:00Z; this was signed while it was active)",
        )
    else:
        world.expect(
            result, "key", FAILED, KEY_NOT_USABLE, f"key {old_key.kid} was retired on 2026-11-10T00:00:00Z"
        )
        world.skipped_after(result, "key")


@pytest.mark.parametrize(
    ("signed_at", "valid"),
    [
        (COMPROMISED - timedelta(seconds=1), True),
        (COMPROMISED, False),
        (COMPROMISED + timedelta(seconds=1), False),
        (COMPROMISED + timedelta(days=3), False),
    ],
    ids=["1s-before", "at", "1s-after", "days-after"],
)
def test_a_compromised_key(world: Any, old_key: SigningKey, signed_at: datetime, valid: bool) -> None:
    trust = rotated_trust(world, old_key, revoked=COMPROMISED)
    result = world.verify(signed_by(world, old_key, signed_at), trust)
    if valid:
        assert result.verdict is Verdict.VALID, result.render_text()
        world.expect(
            result, "key", PASSED, None, "(compromised on 2026-11-10T00:00:00Z; this was signed before)"
        )
    else:
        world.expect(
            result,
            "key",
            FAILED,
            KEY_NOT_USABLE,
            "was compromised on 2026-11-10T00:00:00Z; nothing it signed after that verifies",
        )
        world.skipped_after(result, "key")


def test_compromise_wins_over_retirement(world: Any, old_key: SigningKey) -> None:
    trust = rotated_trust(world, old_key, expires=RETIRED + timedelta(days=2), revoked=RETIRED)
    result = world.verify(signed_by(world, old_key, RETIRED + timedelta(days=1)), trust)
    world.expect(result, "key", FAILED, KEY_NOT_USABLE, "was compromised on")


@pytest.mark.parametrize("lifetime", ["expires", "revoked"])
def test_signing_time_falls_back_to_nbf(world: Any, old_key: SigningKey, lifetime: str) -> None:
    trust = rotated_trust(world, old_key, **{lifetime: RETIRED})
    token = signed_by(world, old_key, None)  # no iat; nbf = validFrom = 1 November
    assert world.verify(token, trust).verdict is Verdict.VALID


@pytest.mark.parametrize("lifetime", ["expires", "revoked"])
def test_a_token_that_does_not_say_when_it_was_signed(world: Any, old_key: SigningKey, lifetime: str) -> None:
    trust = rotated_trust(world, old_key, **{lifetime: RETIRED})
    token = signed_by(world, old_key, None, nbf=world.DROP)
    result = world.verify(token, trust)
    world.expect(result, "key", FAILED, KEY_NOT_USABLE, "the token does not say when it was signed")


@pytest.mark.parametrize("iat", ["2026-11-01T00:00:00Z", True, None, [1]], ids=repr)
def test_a_malformed_iat_cannot_dodge_retirement(world: Any, old_key: SigningKey, iat: object) -> None:
    """An iat that is not a NumericDate must not make a retired key's late signature count."""
    trust = rotated_trust(world, old_key, expires=RETIRED)
    token = signed_by(world, old_key, None, iat=iat, nbf=world.DROP)
    assert world.verify(token, trust).verdict is Verdict.INVALID


def test_a_key_retired_before_the_nbf_it_claims(world: Any, old_key: SigningKey) -> None:
    """No iat, but nbf after retirement: nbf is the best evidence of when it was signed."""
    trust = rotated_trust(world, old_key, expires=RETIRED)
    credential = world.credential(validFrom="2026-12-01T00:00:00Z")
    token = world.token(
        credential, key=old_key, kid=verification_method_id(world.cb.did, old_key.kid), signed_at=None
    )
    world.expect(world.verify(token, trust), "key", FAILED, KEY_NOT_USABLE, "was retired on")


def test_the_successor_key_keeps_verifying(world: Any, old_key: SigningKey) -> None:
    trust = rotated_trust(world, old_key, revoked=COMPROMISED)
    assert world.verify(world.valid_token, trust).verdict is Verdict.VALID
