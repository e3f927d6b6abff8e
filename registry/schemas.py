"""The shapes of the HTTP API: request bodies and the public views of the tables (camelCase JSON).

Public views list their fields explicitly (the `XPublic` half of each table family), so internal columns —
list ids, token hashes, the raw bits — never reach a response.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Mapping, Sequence
from datetime import date, datetime
from functools import partial
from typing import Annotated, Any

import pydantic_core
from pydantic import AfterValidator, BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

from issuer import CertificationDecision
from registry.identity import credential_url, status_list_url
from registry.models import CertificationBody, Credential, CredentialBase, Event, EventBase, ReasonCode
from registry.search import CredentialRecord, PublicStatus, Stats

_API = ConfigDict(alias_generator=to_camel, validate_by_name=True, serialize_by_alias=True)
# Free text, shown on pages and in the event feed: line breaks and tabs are fine, other control characters are
# refused (a NUL would be stored by SQLite and refused by PostgreSQL, as an error rather than a 422).
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def _no_controls(text: str) -> str:
    if _CONTROL.search(text):
        raise ValueError("must not contain control characters (line breaks and tabs are fine)")
    return text


Reason = Annotated[str, Field(min_length=1, max_length=2000), AfterValidator(_no_controls)]


def _not_superseded(code: ReasonCode) -> ReasonCode:
    if code is ReasonCode.SUPERSEDED:
        raise ValueError("'superseded' is set by renewal only")
    return code


StatusReasonCode = Annotated[ReasonCode, AfterValidator(_not_superseded)]


class _Request(BaseModel):
    model_config = ConfigDict(**_API, extra="forbid", frozen=True)


class SuspendRequest(_Request):
    reason_code: StatusReasonCode
    reason: Reason | None = None


class RevokeRequest(_Request):
    reason_code: StatusReasonCode
    reason: Reason | None = None


class ReinstateRequest(_Request):
    reason: Reason | None = None


class BatchRequest(_Request):
    decisions: Annotated[list[CertificationDecision], Field(min_length=1, max_length=1000)]


class StatusEntryPublic(BaseModel):
    model_config = _API

    status_purpose: str
    status_list_credential: str
    status_list_index: str


class CredentialPublic(CredentialBase):
    """A certificate's public record and its current status."""

    model_config = _API  # type: ignore[assignment]  # SQLModel's config type is a superset of ConfigDict

    id: uuid.UUID
    url: str
    issuer: str
    issuer_did: str
    credential_status: list[StatusEntryPublic]
    supersedes: uuid.UUID | None = None
    superseded_by: uuid.UUID | None = None

    @classmethod
    def of(cls, credential: Credential, body: CertificationBody, public_url: str) -> CredentialPublic:
        return cls.model_validate(_public_fields(partial(getattr, credential), body, public_url))


class CredentialIssued(CredentialPublic):
    """A newly issued certificate, with its signed `vc+jwt` token."""

    token: str

    @classmethod
    def of(cls, credential: Credential, body: CertificationBody, public_url: str) -> CredentialIssued:
        fields = _public_fields(partial(getattr, credential), body, public_url)
        return cls.model_validate({**fields, "token": credential.token})


class BatchIssued(BaseModel):
    model_config = _API

    credentials: list[CredentialIssued]


def batch_issued_json(rows: Sequence[Mapping[str, Any]], body: CertificationBody, public_url: str) -> bytes:
    """The JSON of `BatchIssued` for credential rows just written (or read back), without a model per row.

    Validating 1,000 `CredentialIssued` models (and building the ORM objects they are made from) cost 40 ms of
    a 350 ms batch for values the registry itself has just stored; this writes the same JSON from the rows in
    7 ms. tests/registry/test_api_credentials.py checks byte for byte that it is the model's JSON.
    """
    return pydantic_core.to_json(
        {
            "credentials": [
                {
                    _ISSUED_ALIASES[name]: value
                    for name, value in _public_fields(
                        row.__getitem__, body, public_url, _status_entry
                    ).items()
                }
                | {"token": row["token"]}
                for row in rows
            ]
        }
    )


class EventPublic(EventBase):
    """One entry of the public event log, with everything its hash covers (so anyone can recompute it;
    `actor` is the id of the API token that acted, never its secret)."""

    model_config = _API  # type: ignore[assignment]

    issuer: str
    credential: uuid.UUID | None

    @classmethod
    def of(cls, event: Event, issuer_did: str) -> EventPublic:
        fields = event.model_dump(exclude={"issuer_id", "credential_id"})
        return cls.model_validate({**fields, "issuer": issuer_did, "credential": event.credential_id})


class CredentialDetail(CredentialPublic):
    """The record, its current status with reason, and its history, oldest first."""

    history: list[EventPublic]


class Health(BaseModel):
    status: str


def _public_fields(
    get: Callable[[str], Any],
    body: CertificationBody,
    public_url: str,
    status_entry: Callable[..., Any] = StatusEntryPublic,
) -> dict[str, Any]:
    """A credential's public fields by name; `get` reads a column (an attribute of an ORM object: a
    model_dump of a table object costs several times more; or a row's item)."""
    credential_id = get("id")
    return {
        **{name: get(name) for name in _BASE_FIELDS},
        "id": credential_id,
        "url": credential_url(public_url, credential_id),
        "issuer": body.slug,
        "issuer_did": body.did,
        "credential_status": [
            status_entry(
                status_purpose="revocation",
                status_list_credential=status_list_url(public_url, get("revocation_list_id")),
                status_list_index=str(get("revocation_index")),
            ),
            status_entry(
                status_purpose="suspension",
                status_list_credential=status_list_url(public_url, get("suspension_list_id")),
                status_list_index=str(get("suspension_index")),
            ),
        ],
        "supersedes": get("supersedes_id"),
        "superseded_by": get("superseded_by_id"),
    }


def _status_entry(**fields: str) -> dict[str, str]:
    """A `StatusEntryPublic` as its JSON object."""
    return {_STATUS_ALIASES[name]: value for name, value in fields.items()}


_BASE_FIELDS = tuple(CredentialBase.model_fields)
_ISSUED_ALIASES = {name: field.alias or name for name, field in CredentialIssued.model_fields.items()}
_STATUS_ALIASES = {name: field.alias or name for name, field in StatusEntryPublic.model_fields.items()}


# -- the public read API (registry.routes.public) ------------------------------------------------------------------

_EXAMPLE_ID = "0b5b3c8e-5d4f-4c51-9a57-5f3c2b3f8a10"
_EXAMPLE_SUMMARY: dict[str, Any] = {
    "id": _EXAMPLE_ID,
    "url": f"https://registry.example/credentials/{_EXAMPLE_ID}",
    "certificateNumber": "AIGC-2026-000123",
    "legalNameEn": "ACME Corp.",
    "legalNameJa": "アクメ株式会社",
    "corporateNumber": "7000012050002",
    "website": "https://acme.example",
    "scheme": "example-aigov-scheme",
    "level": "2",
    "scope": "Generative AI customer-support assistant of the Retail Banking unit",
    "aiRoles": ["ai_developer", "ai_provider"],
    "issuer": "acme-cb",
    "issuerNameEn": "ACME Certification",
    "issuerNameJa": "アクメ認証",
    "issuerDid": "did:web:registry.example:issuers:acme-cb",
    "validFrom": "2026-11-01T00:00:00Z",
    "validUntil": "2029-10-31T23:59:59Z",
    "nextSurveillanceDue": "2027-10-20",
    "status": "suspended",
    "statusReasonCode": "nonconformity",
    "statusChangedAt": "2027-02-03T09:00:00Z",
    "updatedAt": "2027-02-03T09:00:00Z",
}


class CredentialSummary(BaseModel):
    """A certificate in search results and exports: its public fields and its status at the time of the query
    (`expired` when an active or suspended certificate is past `validUntil`)."""

    model_config = ConfigDict(**_API, json_schema_extra={"examples": [_EXAMPLE_SUMMARY]})

    id: uuid.UUID
    url: str
    certificate_number: str
    legal_name_en: str | None
    legal_name_ja: str | None
    corporate_number: str | None
    website: str | None
    scheme: str
    level: str
    scope: str
    ai_roles: list[str]
    issuer: str = Field(description="The certification body's slug.")
    issuer_name_en: str
    issuer_name_ja: str | None
    issuer_did: str
    valid_from: datetime
    valid_until: datetime
    next_surveillance_due: date
    status: PublicStatus
    status_reason_code: str | None
    status_changed_at: datetime | None
    updated_at: datetime

    @classmethod
    def of(cls, record: CredentialRecord, public_url: str) -> CredentialSummary:
        return cls(
            id=record.id,
            url=credential_url(public_url, record.id),
            certificate_number=record.certificate_number,
            legal_name_en=record.legal_name_en,
            legal_name_ja=record.legal_name_ja,
            corporate_number=record.corporate_number,
            website=record.website,
            scheme=record.scheme_id,
            level=record.level,
            scope=record.scope,
            ai_roles=record.ai_roles,
            issuer=record.issuer,
            issuer_name_en=record.issuer_name_en,
            issuer_name_ja=record.issuer_name_ja,
            issuer_did=record.issuer_did,
            valid_from=record.valid_from,
            valid_until=record.valid_until,
            next_surveillance_due=record.next_surveillance_due,
            status=record.status,
            status_reason_code=record.status_reason_code,
            status_changed_at=record.status_changed_at,
            updated_at=record.updated_at,
        )


class CredentialPage(BaseModel):
    """One page of search results; `nextCursor` is null on the last page."""

    model_config = ConfigDict(
        **_API, json_schema_extra={"examples": [{"items": [_EXAMPLE_SUMMARY], "nextCursor": None}]}
    )

    items: list[CredentialSummary]
    next_cursor: str | None


class EventPage(BaseModel):
    """One page of the lifecycle feed, oldest first; `nextCursor` is null on the last page."""

    model_config = ConfigDict(
        **_API,
        json_schema_extra={
            "examples": [
                {
                    "items": [
                        {
                            "seq": 42,
                            "at": "2027-02-03T09:00:00Z",
                            "actor": "3f9a1c0b7e2d4a58",
                            "action": "suspended",
                            "reasonCode": "nonconformity",
                            "reason": None,
                            "payload": {
                                "statusPurpose": "suspension",
                                "statusListCredential": "https://registry.example/status/2",
                                "statusListIndex": "48213",
                                "statusListVersion": 7,
                                "value": True,
                            },
                            "prevHash": "eb5201dbea4f7865a2dd6753936c72216032afbfd0b6cb3aa0cb9d32c301bd96",
                            "hash": "eb50e4a5f8ba694e595f40b0d2b8bd8764399e5ad31908ca82a58de1d666c235",
                            "issuer": "did:web:registry.example:issuers:acme-cb",
                            "credential": _EXAMPLE_ID,
                        }
                    ],
                    "nextCursor": "ZTEuNDIuNmQ5ZjA0YjE3YzJhOGUxMw",
                }
            ]
        },
    )

    items: list[EventPublic]
    next_cursor: str | None


class LevelCountPublic(BaseModel):
    model_config = _API

    scheme: str
    level: str
    count: int


class StatsPublic(BaseModel):
    """Counts of certificates at `asOf`, by status (including computed `expired`), level and issuer slug."""

    model_config = ConfigDict(
        **_API,
        json_schema_extra={
            "examples": [
                {
                    "asOf": "2027-02-03T09:00:00Z",
                    "total": 20,
                    "byStatus": {"active": 14, "suspended": 2, "revoked": 2, "superseded": 1, "expired": 1},
                    "byLevel": [
                        {"scheme": "example-aigov-scheme", "level": "1", "count": 5},
                        {"scheme": "example-aigov-scheme", "level": "2", "count": 15},
                    ],
                    "byIssuer": {"acme-cb": 20},
                }
            ]
        },
    )

    as_of: datetime
    total: int
    by_status: dict[str, int]
    by_level: list[LevelCountPublic]
    by_issuer: dict[str, int]

    @classmethod
    def of(cls, stats: Stats, as_of: datetime) -> StatsPublic:
        return cls(
            as_of=as_of,
            total=stats.total,
            by_status=stats.by_status,
            by_level=[
                LevelCountPublic(scheme=c.scheme, level=c.level, count=c.count) for c in stats.by_level
            ],
            by_issuer=stats.by_issuer,
        )
