"""build_credential: the certificate exactly as DESIGN.md draws it, dates from the scheme, status and schema."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

import pytest

from issuer import (
    CertificationDecision,
    IssuerIdentity,
    Scheme,
    StatusSlot,
    build_credential,
    parse_decision,
    validity_end,
)
from verifier import validate_certificate

REGISTRY = "https://registry.example"
CREDENTIAL_ID = f"{REGISTRY}/credentials/0f7c1c8e-3d5a-4a39-9d7e-0c1d2e3f4a5b"
NOW = datetime(2026, 11, 1, tzinfo=UTC)

Build = Callable[..., dict[str, Any]]


@pytest.fixture
def build(
    make_decision: Callable[..., dict[str, Any]],
    identity: IssuerIdentity,
    scheme: Scheme,
    slots: dict[str, StatusSlot],
) -> Build:
    def run(*, now: datetime = NOW, **changes: Any) -> dict[str, Any]:
        return build_credential(
            parse_decision(make_decision(**changes)),
            issuer=identity,
            scheme=scheme,
            registry_url=REGISTRY,
            credential_id=CREDENTIAL_ID,
            now=now,
            **slots,
        )

    return run


def test_the_certificate_of_the_sample_decision(build: Build, scheme: Scheme) -> None:
    level = scheme.level("2")
    assert build() == {
        "@context": [
            "https://www.w3.org/ns/credentials/v2",
            "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json",
            "https://registry.example/contexts/aigov/v1",
        ],
        "id": CREDENTIAL_ID,
        "type": ["VerifiableCredential", "OpenBadgeCredential", "AIGovernanceCertification"],
        "name": "AI Governance Certification — Level 2 — Managed",
        "issuer": {
            "id": "did:web:cb.example",
            "type": ["Profile"],
            "name": "Example Certification Body",
            "legalName": {"en": "Example Certification Body", "ja": "例示認証機関"},
        },
        "validFrom": "2026-11-01T00:00:00Z",
        "validUntil": "2029-10-31T23:59:59Z",
        "credentialSubject": {
            "id": "did:web:acme.example",
            "type": ["AchievementSubject"],
            "legalName": {"en": "ACME Corp.", "ja": "アクメ株式会社"},
            "corporateNumber": "7000012050002",
            "website": "https://acme.example",
            "achievement": {
                "id": "https://registry.example/schemes/example-aigov-scheme/levels/2",
                "type": ["Achievement"],
                "name": "Level 2 — Managed",
                "description": level.description,
                "criteria": {"narrative": level.criteria},
            },
            "certification": {
                "certificateNumber": "AIGC-2026-000123",
                "scheme": "EXAMPLE AI Governance Certification Scheme (demonstration only, not a real scheme)",
                "schemeVersion": "2026.1",
                "level": "2",
                "scope": "Generative AI customer-support assistant and credit-scoring models of the Retail "
                "Banking unit",
                "aiRoles": ["ai_developer", "ai_provider"],
                "standards": ["ISO/IEC 42001:2023", "AI Guidelines for Business v1.0 (METI/MIC, 2024)"],
                "assessedOn": "2026-10-20",
                "nextSurveillanceDue": "2027-10-20",
            },
        },
        "credentialStatus": [
            {
                "id": "https://registry.example/status/1#48213",
                "type": "BitstringStatusListEntry",
                "statusPurpose": "revocation",
                "statusListIndex": "48213",
                "statusListCredential": "https://registry.example/status/1",
            },
            {
                "id": "https://registry.example/status/2#1234",
                "type": "BitstringStatusListEntry",
                "statusPurpose": "suspension",
                "statusListIndex": "1234",
                "statusListCredential": "https://registry.example/status/2",
            },
        ],
        "credentialSchema": {
            "id": "https://registry.example/schemas/aigov-certification-v1.json",
            "type": "JsonSchema",
        },
    }


def test_members_come_in_the_order_people_read_them(build: Build) -> None:
    credential = build()
    assert list(credential) == [
        "@context",
        "id",
        "type",
        "name",
        "issuer",
        "validFrom",
        "validUntil",
        "credentialSubject",
        "credentialStatus",
        "credentialSchema",
    ]
    assert list(credential["credentialSubject"]) == [
        "id",
        "type",
        "legalName",
        "corporateNumber",
        "website",
        "achievement",
        "certification",
    ]


def test_the_issuer_has_a_japanese_name_only_when_given(
    make_decision: Callable[..., dict[str, Any]], scheme: Scheme, slots: dict[str, StatusSlot]
) -> None:
    credential = build_credential(
        parse_decision(make_decision()),
        issuer=IssuerIdentity("did:web:cb.example", "Example Certification Body"),
        scheme=scheme,
        registry_url=REGISTRY,
        credential_id=CREDENTIAL_ID,
        now=NOW,
        **slots,
    )
    assert credential["issuer"] == {
        "id": "did:web:cb.example",
        "type": ["Profile"],
        "name": "Example Certification Body",
    }


def test_the_result_is_a_valid_certificate(build: Build) -> None:
    validate_certificate(build())


def test_optional_subject_members_are_left_out_not_null(build: Build) -> None:
    subject = build(drop=("subject.id", "subject.corporateNumber", "subject.website"))["credentialSubject"]
    assert list(subject) == ["type", "legalName", "achievement", "certification"]
    only_ja = build(subject={"legalName": {"ja": "アクメ株式会社"}})["credentialSubject"]["legalName"]
    assert only_ja == {"ja": "アクメ株式会社"}


# --- dates ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("now", "valid_from", "valid_until"),
    [
        (datetime(2026, 11, 1, tzinfo=UTC), "2026-11-01T00:00:00Z", "2029-10-31T23:59:59Z"),
        # Microseconds dropped, the clock's zone converted to UTC.
        (
            datetime(2026, 11, 1, 9, 30, 15, 999_999, tzinfo=timezone(timedelta(hours=9))),
            "2026-11-01T00:30:15Z",
            "2029-11-01T00:30:14Z",
        ),
        (datetime(2026, 12, 31, 23, 59, 59, tzinfo=UTC), "2026-12-31T23:59:59Z", "2029-12-31T23:59:58Z"),
    ],
)
def test_default_validity_is_the_schemes_years_ending_the_second_before_the_anniversary(
    build: Build, now: datetime, valid_from: str, valid_until: str
) -> None:
    credential = build(now=now)
    assert (credential["validFrom"], credential["validUntil"]) == (valid_from, valid_until)


def test_validity_from_a_leap_day(build: Build) -> None:
    """Japan's Civil Code Art. 143(2): a period from 29 February ends, in a common year, at the end of
    28 February; a certificate from 28 February ends a day earlier."""
    credential = build(validFrom="2028-02-29T00:00:00Z")
    assert (credential["validFrom"], credential["validUntil"]) == (
        "2028-02-29T00:00:00Z",
        "2031-02-28T23:59:59Z",
    )
    assert build(validFrom="2028-02-28T00:00:00Z")["validUntil"] == "2031-02-27T23:59:59Z"


@pytest.mark.parametrize(
    ("start", "years", "expected"),
    [
        (datetime(2028, 2, 29, 12, tzinfo=UTC), 1, datetime(2029, 3, 1, 11, 59, 59, tzinfo=UTC)),
        (datetime(2028, 2, 29, 0, tzinfo=UTC), 3, datetime(2031, 2, 28, 23, 59, 59, tzinfo=UTC)),
        (datetime(2028, 2, 29, 12, tzinfo=UTC), 4, datetime(2032, 2, 29, 11, 59, 59, tzinfo=UTC)),
        (datetime(2027, 2, 28, tzinfo=UTC), 1, datetime(2028, 2, 27, 23, 59, 59, tzinfo=UTC)),
        (datetime(2026, 11, 1, 8, 5, 3, tzinfo=UTC), 3, datetime(2029, 11, 1, 8, 5, 2, tzinfo=UTC)),
    ],
)
def test_validity_end(start: datetime, years: int, expected: datetime) -> None:
    assert validity_end(start, years) == expected


def test_the_decisions_dates_win(build: Build) -> None:
    credential = build(validFrom="2026-11-01T00:00:00Z", validUntil="2027-10-31T23:59:59Z")
    assert (credential["validFrom"], credential["validUntil"]) == (
        "2026-11-01T00:00:00Z",
        "2027-10-31T23:59:59Z",
    )
    # validFrom alone: the scheme's years from it, not from the clock.
    credential = build(validFrom="2027-01-15T00:00:00Z")
    assert (credential["validFrom"], credential["validUntil"]) == (
        "2027-01-15T00:00:00Z",
        "2030-01-14T23:59:59Z",
    )


@pytest.mark.parametrize(
    ("assessed_on", "due"),
    [
        ("2026-10-20", "2027-10-20"),
        ("2028-02-29", "2029-02-28"),
        ("2026-12-31", "2027-12-31"),
        ("2026-01-31", "2027-01-31"),
    ],
)
def test_next_surveillance_is_due_twelve_months_after_the_assessment(
    build: Build, assessed_on: str, due: str
) -> None:
    certification = build(assessedOn=assessed_on)["credentialSubject"]["certification"]
    assert (certification["assessedOn"], certification["nextSurveillanceDue"]) == (assessed_on, due)


def test_the_scheme_sets_the_surveillance_interval(scheme: Scheme) -> None:
    six_monthly = scheme.model_copy(update={"surveillance_interval_months": 6})
    decision = parse_decision(_sample())
    credential = build_credential(
        decision,
        issuer=IssuerIdentity("did:web:cb.example", "CB"),
        scheme=six_monthly,
        registry_url=REGISTRY,
        credential_id=CREDENTIAL_ID,
        revocation=StatusSlot(f"{REGISTRY}/status/1", 1),
        suspension=StatusSlot(f"{REGISTRY}/status/2", 2),
        now=NOW,
    )
    assert credential["credentialSubject"]["certification"]["nextSurveillanceDue"] == "2027-04-20"


def test_an_explicit_surveillance_date_is_kept(build: Build) -> None:
    certification = build(nextSurveillanceDue="2027-09-30")["credentialSubject"]["certification"]
    assert certification["nextSurveillanceDue"] == "2027-09-30"


# --- status and schema ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("index", [0, 7, 131_071, 16_777_215])
def test_status_entries_name_list_and_index(
    index: int, make_decision: Callable[..., dict[str, Any]], identity: IssuerIdentity, scheme: Scheme
) -> None:
    credential = build_credential(
        CertificationDecision.model_validate(make_decision()),
        issuer=identity,
        scheme=scheme,
        registry_url=REGISTRY,
        credential_id=CREDENTIAL_ID,
        revocation=StatusSlot(f"{REGISTRY}/status/3", index),
        suspension=StatusSlot(f"{REGISTRY}/status/4", index),
        now=NOW,
    )
    revocation, suspension = credential["credentialStatus"]
    for entry, purpose, url in (
        (revocation, "revocation", "/status/3"),
        (suspension, "suspension", "/status/4"),
    ):
        assert entry == {
            "id": f"{REGISTRY}{url}#{index}",
            "type": "BitstringStatusListEntry",
            "statusPurpose": purpose,
            "statusListIndex": str(index),
            "statusListCredential": f"{REGISTRY}{url}",
        }
        # Bitstring Status List v1.0 §2.1: a base-10 string, no sign, no leading zeros, no spaces.
        assert entry["statusListIndex"].isascii()
        assert entry["statusListIndex"] == str(int(entry["statusListIndex"]))


def test_status_slot_entry() -> None:
    assert StatusSlot("https://r.example/status/9", 42).entry("suspension") == {
        "id": "https://r.example/status/9#42",
        "type": "BitstringStatusListEntry",
        "statusPurpose": "suspension",
        "statusListIndex": "42",
        "statusListCredential": "https://r.example/status/9",
    }


def test_the_schema_is_the_registrys(build: Build) -> None:
    assert build()["credentialSchema"] == {
        "id": "https://registry.example/schemas/aigov-certification-v1.json",
        "type": "JsonSchema",
    }


def _sample() -> dict[str, Any]:
    return {
        "subject": {"legalName": {"en": "ACME Corp."}},
        "scheme": "example-aigov-scheme",
        "level": "1",
        "scope": "All AI systems",
        "aiRoles": ["ai_business_user"],
        "certificateNumber": "AIGC-2026-000124",
        "assessedOn": date(2026, 10, 20).isoformat(),
    }
