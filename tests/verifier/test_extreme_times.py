"""Times at the ends of the calendar: a result with the right verdict, never an OverflowError.

`datetime` holds years 1 to 9999 only; the verifier is asked about any aware `now`, any clock skew and any
bundle or snapshot age, and a token may carry a dateTimeStamp whose offset puts it past the calendar in UTC.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

import issuer
import verifier
from keys import KeyRecord, KeyState, PublishedKey, SigningKey, did_web_document
from verifier import Outcome, TrustStore, Verdict, problems
from verifier._clock import clamped_add, clamped_sub, in_utc

LAST = datetime.max.replace(tzinfo=UTC)  # 9999-12-31T23:59:59.999999Z
FIRST = datetime.min.replace(tzinfo=UTC)  # 0001-01-01T00:00:00Z
TOKYO, HAWAII = timezone(timedelta(hours=9)), timezone(timedelta(hours=-10))
LATE = [
    pytest.param(LAST, id="9999-12-31T23:59:59.999999Z"),
    pytest.param(datetime(9999, 12, 31, 23, 59, tzinfo=TOKYO), id="9999-12-31T23:59+09:00"),
    pytest.param(datetime.max.replace(tzinfo=HAWAII), id="datetime.max-10:00"),
]
EARLY = [
    pytest.param(FIRST, id="0001-01-01T00:00:00Z"),
    pytest.param(datetime.min.replace(tzinfo=TOKYO), id="datetime.min+09:00"),
    pytest.param(datetime(1, 1, 1, 0, 1, tzinfo=HAWAII), id="0001-01-01T00:01-10:00"),
]
SKEWS = [timedelta(seconds=300), timedelta(days=999_999_999), timedelta.max]

OWNER_DID = "did:web:registry.example"
OWNER = SigningKey.generate()
OWNER_KID = f"{OWNER_DID}#{OWNER.kid}"
REGISTRY = "https://registry.example"
ACCREDITED = datetime(2026, 1, 1, tzinfo=UTC)
LIST_SIGNED = datetime(2026, 11, 15, 11, 0, tzinfo=UTC)


# -- the clamp itself ----------------------------------------------------------------------------------------------


def test_inside_the_calendar_it_is_plain_arithmetic() -> None:
    moment = datetime(2026, 11, 15, 12, 0, tzinfo=TOKYO)
    assert clamped_add(moment, timedelta(minutes=5)) == moment + timedelta(minutes=5)
    assert clamped_sub(moment, timedelta(minutes=5)) == moment - timedelta(minutes=5)
    assert clamped_add(moment, -timedelta(minutes=5)) == clamped_sub(moment, timedelta(minutes=5))
    assert clamped_add(moment, timedelta(minutes=5)).tzinfo is TOKYO


@pytest.mark.parametrize("delta", [timedelta(days=1), timedelta(days=5_000_000), timedelta.max])
def test_off_the_calendar_it_lies_beyond_every_representable_time(delta: timedelta) -> None:
    representable = (LAST, FIRST, datetime.max.replace(tzinfo=HAWAII), datetime.min.replace(tzinfo=TOKYO))
    for last in (LAST, datetime.max.replace(tzinfo=HAWAII)):
        assert all(clamped_add(last, delta) > moment for moment in representable)
    for first in (FIRST, datetime.min.replace(tzinfo=TOKYO)):
        assert all(clamped_sub(first, delta) < moment for moment in representable)
    if delta != timedelta.max:  # -timedelta.max is itself out of range
        assert clamped_add(FIRST, -delta) == clamped_sub(FIRST, delta)
        assert clamped_sub(LAST, -delta) == clamped_add(LAST, delta)


def test_a_naive_time_that_overflows_is_still_the_caller_s_error() -> None:
    with pytest.raises(OverflowError):
        clamped_add(datetime.max, timedelta(seconds=1))  # noqa: DTZ901 - naive on purpose
    with pytest.raises(OverflowError):
        clamped_sub(datetime.min, timedelta(seconds=1))  # noqa: DTZ901 - naive on purpose


def test_in_utc_keeps_an_offset_that_utc_cannot_hold() -> None:
    assert in_utc(datetime(2026, 1, 1, 9, tzinfo=TOKYO)) == datetime(2026, 1, 1, 0, tzinfo=UTC)
    assert in_utc(datetime(2026, 1, 1, 9, tzinfo=TOKYO)).tzinfo is UTC
    edge = datetime.min.replace(tzinfo=TOKYO)  # 0000-12-31T15:00Z: before year 1 in UTC
    assert in_utc(edge) is edge


# -- verify: a credential as of the calendar's ends ---------------------------------------------------------------


@pytest.mark.parametrize("skew", [timedelta(0), timedelta(seconds=300)])
@pytest.mark.parametrize("now", LATE)
def test_year_9999_finds_the_credential_expired(world: Any, now: datetime, skew: timedelta) -> None:
    result = world.verify(world.valid_token, now=now, max_clock_skew=skew)
    world.expect(result, "validity_period", Outcome.FAILED, problems.EXPIRED, "expired on 2029-10-31")


@pytest.mark.parametrize("now", EARLY)
def test_year_1_finds_the_credential_not_yet_valid(world: Any, now: datetime) -> None:
    result = world.verify(world.valid_token, now=now)
    world.expect(
        result, "validity_period", Outcome.FAILED, problems.NOT_YET_VALID, "not valid before 2026-11-01"
    )
    for purpose in (
        "revocation",
        "suspension",
    ):  # the snapshots are not valid yet either: unknown, not a crash
        world.expect(
            result,
            f"status.{purpose}",
            Outcome.INDETERMINATE,
            problems.STATUS_VERIFICATION_ERROR,
            "not valid before",
            verdict=Verdict.INVALID,
        )


@pytest.mark.parametrize("skew", SKEWS[1:])
@pytest.mark.parametrize("now", [*LATE, *EARLY, pytest.param(None, id="the-current-time")])
def test_a_skew_larger_than_the_calendar_tolerates_every_window(
    world: Any, now: datetime | None, skew: timedelta
) -> None:
    """A tolerance of millions of years is absurd but valid: every window then contains `now`."""
    result = verifier.verify(world.valid_token, world.default_trust, now=now, max_clock_skew=skew)
    assert result.verdict is Verdict.VALID, result.render_text()


@pytest.mark.parametrize("now", [*LATE, *EARLY])
def test_a_huge_snapshot_max_age_at_the_calendar_s_ends(world: Any, now: datetime) -> None:
    trust = world.trust(snapshots=[])
    for token in world.status_tokens.values():
        trust.add_status_list(token, max_age=timedelta.max)
    result = world.verify(world.valid_token, trust, now=now)
    assert result.verdict is Verdict.INVALID, result.render_text()
    assert result.check("validity_period").problem in (problems.EXPIRED, problems.NOT_YET_VALID)


@pytest.mark.parametrize(
    ("member", "value", "outcome", "phrase"),
    [
        ("validFrom", "0001-01-01T00:00:00+09:00", Outcome.PASSED, "valid from 0001-01-01T00:00:00+09:00"),
        ("validUntil", "9999-12-31T23:59:59-09:00", Outcome.PASSED, "until 9999-12-31T23:59:59-09:00"),
        ("validUntil", "0001-01-01T08:00:00+09:00", Outcome.FAILED, "expired on 0001-01-01T08:00:00+09:00"),
    ],
)
def test_a_date_that_utc_cannot_hold_is_reported_with_its_own_offset(
    world: Any, member: str, value: str, outcome: Outcome, phrase: str
) -> None:
    """A signed dateTimeStamp whose offset puts it before year 1 (or after 9999) in UTC: shown as written.

    Without `nbf` and `exp`: as NumericDates those instants are off the calendar, and the claims check says so.
    """
    overrides: dict[str, Any] = {member: value}
    if member == "validUntil" and outcome is Outcome.FAILED:
        overrides["validFrom"] = "0001-01-01T00:00:00+09:00"
    credential = world.generic_credential(**overrides)
    token = world.token(credential, key=world.other.key, kid=world.other.kid, nbf=world.DROP, exp=world.DROP)
    result = world.verify(token)
    problem = problems.EXPIRED if outcome is Outcome.FAILED else None
    world.expect(result, "validity_period", outcome, problem, phrase)


# -- the trust chain as of the calendar's ends ---------------------------------------------------------------------


def _record(key: SigningKey, created: datetime = ACCREDITED) -> KeyRecord:
    return KeyRecord(
        kid=key.kid,
        alg=key.alg,
        state=KeyState.ACTIVE,
        created=created,
        retired_at=None,
        compromised_at=None,
        public_key=key.public_key,
        history=((KeyState.ACTIVE, created),),
    )


def _trust_list(
    world: Any, *, key_created: datetime = ACCREDITED, accredited_until: datetime | None = None
) -> str:
    scheme = issuer.AccreditationEntry(
        "example-aigov-scheme", ("1", "2", "3"), ACCREDITED, accredited_until, (("active", ACCREDITED),)
    )
    body = issuer.ListedBody(
        world.cb.did, world.cb.name, "例示認証機関", [_record(world.cb.key, key_created)], [scheme]
    )
    credential = issuer.build_trust_list(
        registry_url=REGISTRY, owner_did=OWNER_DID, bodies=[body], version=1, now=LIST_SIGNED
    )
    return issuer.sign_credential(credential, key=OWNER, kid=OWNER_KID, now=LIST_SIGNED)


def _owner_store() -> TrustStore:
    trust = TrustStore()
    trust.pin_scheme_owner(OWNER_DID, [PublishedKey(OWNER.public_key)])
    return trust


def _chain(world: Any, token: str) -> TrustStore:
    trust = _owner_store()
    trust.add_trust_list(token)
    for status in world.status_tokens.values():
        trust.add_status_list(status)
    return trust


@pytest.mark.parametrize("now", [*LATE, *EARLY])
def test_verify_trust_list_at_the_calendar_s_ends(world: Any, now: datetime) -> None:
    result = verifier.verify_trust_list(
        _trust_list(world), [PublishedKey(OWNER.public_key)], owner_did=OWNER_DID, now=now
    )
    expected = problems.EXPIRED if now.year == 9999 else problems.NOT_YET_VALID
    world.expect(result, "validity_period", Outcome.FAILED, expected)
    assert result.trust_list is None


@pytest.mark.parametrize("now", LATE)
def test_a_certificate_through_a_trust_list_in_year_9999(world: Any, now: datetime) -> None:
    trust = _chain(world, _trust_list(world, accredited_until=datetime(2030, 1, 1, tzinfo=UTC)))
    result = world.verify(world.valid_token, trust, now=now)
    world.expect(result, "validity_period", Outcome.FAILED, problems.EXPIRED)
    world.expect(
        result, "issuer_trust", Outcome.INDETERMINATE, problems.TRUST_LIST_EXPIRED, verdict=Verdict.INVALID
    )


@pytest.mark.parametrize("now", EARLY)
def test_a_certificate_through_a_trust_list_in_year_1(world: Any, now: datetime) -> None:
    trust = _chain(world, _trust_list(world, accredited_until=datetime(2030, 1, 1, tzinfo=UTC)))
    result = world.verify(world.valid_token, trust, now=now)
    world.expect(result, "validity_period", Outcome.FAILED, problems.NOT_YET_VALID)
    world.expect(result, "issuer_trust", Outcome.PASSED, verdict=Verdict.INVALID)


def test_a_listed_key_in_service_since_year_1(world: Any) -> None:
    """`key.valid_from - skew` before year 1: the key was simply in service when the certificate was signed."""
    trust = _chain(world, _trust_list(world, key_created=FIRST))
    result = world.verify(world.valid_token, trust)
    assert result.verdict is Verdict.VALID, result.render_text()


def _bundle(world: Any, issued: datetime) -> str:
    credential = issuer.build_bundle(
        registry_url=REGISTRY,
        owner_did=OWNER_DID,
        owner_document=did_web_document(OWNER_DID, [PublishedKey(OWNER.public_key)]),
        trust_list=_trust_list(world),
        did_documents=[did_web_document(world.cb.did, world.cb.published)],
        status_lists=list(world.status_tokens.values()),
        now=issued,
    )
    return issuer.sign_credential(credential, key=OWNER, kid=OWNER_KID, now=issued)


@pytest.mark.parametrize("max_age", [timedelta(hours=24), timedelta.max])
@pytest.mark.parametrize("now", [*LATE, *EARLY])
def test_a_bundle_at_the_calendar_s_ends(world: Any, now: datetime, max_age: timedelta) -> None:
    token = _bundle(world, LIST_SIGNED)
    checked = verifier.verify_bundle(
        token,
        [PublishedKey(OWNER.public_key)],
        owner_did=OWNER_DID,
        now=now,
        max_age=max_age,
        max_clock_skew=timedelta.max,
    )
    assert checked.verdict is Verdict.VALID, checked.render_text()
    assert checked.stale is (now.year == 9999 and max_age != timedelta.max)
    trust = _owner_store()
    loaded = trust.add_bundle(token, now=now, max_age=max_age, max_clock_skew=timedelta.max)
    assert loaded.verdict is Verdict.VALID, loaded.render_text()
    result = world.verify(world.valid_token, trust, now=now)
    assert result.verdict is Verdict.INVALID, result.render_text()
    expected = problems.EXPIRED if now.year == 9999 else problems.NOT_YET_VALID
    world.expect(result, "validity_period", Outcome.FAILED, expected)
