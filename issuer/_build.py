"""From a certification decision to the certificate credential (DESIGN.md, "The certificate")."""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from issuer._decision import CertificationDecision
from issuer._errors import DecisionError
from issuer._scheme import Level, Scheme
from verifier import AIGOV_CONTEXT_PATH, AIGOV_SCHEMA_PATH, OB3_CONTEXT, VC2_CONTEXT, format_date_time_stamp


@dataclass(frozen=True, slots=True)
class IssuerIdentity:
    """The certification body as it appears in credentials: a did:web and its names."""

    did: str
    name_en: str
    name_ja: str | None = None


@dataclass(frozen=True, slots=True)
class StatusSlot:
    """A credential's place in one status list: Bitstring Status List v1.0 §2.1."""

    list_url: str
    index: int

    def entry(self, purpose: str) -> dict[str, str]:
        return {
            "id": f"{self.list_url}#{self.index}",
            "type": "BitstringStatusListEntry",
            "statusPurpose": purpose,
            "statusListIndex": str(self.index),
            "statusListCredential": self.list_url,
        }


def validity_end(start: datetime, years: int) -> datetime:
    """The last second of a period of `years` from `start`: the second before its anniversary.

    As Japan's Civil Code Art. 143(2) counts periods: a period starting on 29 February ends, in a common year,
    at the end of 28 February (the anniversary that does not exist is taken as 1 March).
    """
    try:
        anniversary = start.replace(year=start.year + years)
    except ValueError:  # 29 February in a common year
        anniversary = start.replace(year=start.year + years, month=3, day=1)
    return anniversary - timedelta(seconds=1)


def _whole_seconds(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(microsecond=0)


def add_months(day: date, months: int) -> date:
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return day.replace(year=year, month=month, day=min(day.day, calendar.monthrange(year, month)[1]))


def achievement(scheme: Scheme, level: Level, registry_url: str) -> dict[str, Any]:
    """A level as an Open Badges 3.0 Achievement: what certificates of that level embed, and what the registry
    serves at its id."""
    return {
        "id": f"{scheme_url(registry_url, scheme.id)}/levels/{level.id}",
        "type": ["Achievement"],
        "name": level.name.en or level.name.ja or level.id,
        "description": level.description,
        "criteria": {"narrative": level.criteria},
    }


def scheme_url(registry_url: str, scheme_id: str) -> str:
    """A scheme's identifier: the prefix of the achievement ids of its levels."""
    return f"{registry_url}/schemes/{scheme_id}"


def build_credential(
    decision: CertificationDecision,
    *,
    issuer: IssuerIdentity,
    scheme: Scheme,
    registry_url: str,
    credential_id: str,
    revocation: StatusSlot,
    suspension: StatusSlot,
    now: datetime,
) -> dict[str, Any]:
    """The unsigned credential as a JSON-ready dict, in the member order people read it."""
    level = scheme.level(decision.level)
    valid_from = _whole_seconds(decision.valid_from or now)
    # A management-system certificate runs `validityYears` and ends the second before its anniversary.
    valid_until = _whole_seconds(decision.valid_until or validity_end(valid_from, scheme.validity_years))
    if valid_until <= valid_from:
        raise DecisionError(
            f"validUntil {format_date_time_stamp(valid_until)} is not after validFrom "
            f"{format_date_time_stamp(valid_from)}",
            field="validUntil",
        )
    surveillance = decision.next_surveillance_due or add_months(
        decision.assessed_on, scheme.surveillance_interval_months
    )
    company = decision.subject
    level_name = level.name.en or level.name.ja or level.id
    subject: dict[str, Any] = {}
    if company.id:
        subject["id"] = company.id
    subject["type"] = ["AchievementSubject"]
    subject["legalName"] = company.legal_name.model_dump(exclude_none=True)
    if company.corporate_number:
        subject["corporateNumber"] = company.corporate_number
    if company.website:
        subject["website"] = company.website
    subject["achievement"] = achievement(scheme, level, registry_url)
    subject["certification"] = {
        "certificateNumber": decision.certificate_number,
        "scheme": scheme.name.en or scheme.name.ja,
        "schemeVersion": scheme.version,
        "level": level.id,
        "scope": decision.scope,
        "aiRoles": list(decision.ai_roles),
        "standards": list(scheme.standards),
        "assessedOn": decision.assessed_on.isoformat(),
        "nextSurveillanceDue": surveillance.isoformat(),
    }
    issuer_profile: dict[str, Any] = {"id": issuer.did, "type": ["Profile"], "name": issuer.name_en}
    if issuer.name_ja:  # Open Badges' Profile.name is one string; both languages go in our legalName map
        issuer_profile["legalName"] = {"en": issuer.name_en, "ja": issuer.name_ja}
    return {
        "@context": [VC2_CONTEXT, OB3_CONTEXT, registry_url + AIGOV_CONTEXT_PATH],
        "id": credential_id,
        "type": ["VerifiableCredential", "OpenBadgeCredential", "AIGovernanceCertification"],
        "name": f"AI Governance Certification — {level_name}",
        "issuer": issuer_profile,
        "validFrom": format_date_time_stamp(valid_from),
        "validUntil": format_date_time_stamp(valid_until),
        "credentialSubject": subject,
        "credentialStatus": [revocation.entry("revocation"), suspension.entry("suspension")],
        "credentialSchema": {"id": registry_url + AIGOV_SCHEMA_PATH, "type": "JsonSchema"},
    }


def build_status_list_credential(
    *,
    list_url: str,
    purpose: str,
    encoded_list: str,
    issuer: IssuerIdentity,
    now: datetime,
    ttl: timedelta,
    valid_for: timedelta | None = None,
) -> dict[str, Any]:
    """A BitstringStatusListCredential (Bitstring Status List v1.0 §2.2).

    `ttl` (milliseconds in the credential, as the spec defines it) tells caches how long to keep it;
    `valid_for`, when given, bounds how long a copy may be relied on at all.
    """
    valid_from = now.astimezone(UTC).replace(microsecond=0)
    credential: dict[str, Any] = {
        "@context": [VC2_CONTEXT],
        "id": list_url,
        "type": ["VerifiableCredential", "BitstringStatusListCredential"],
        "issuer": issuer.did,
        "validFrom": format_date_time_stamp(valid_from),
    }
    if valid_for is not None:
        credential["validUntil"] = format_date_time_stamp(valid_from + valid_for)
    credential["credentialSubject"] = {
        "id": f"{list_url}#list",
        "type": "BitstringStatusList",
        "statusPurpose": purpose,
        "encodedList": encoded_list,
        "ttl": int(ttl.total_seconds() * 1000),
    }
    return credential
