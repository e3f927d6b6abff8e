"""The shapes of the HTTP API: request bodies and the public views of the tables (camelCase JSON).

Public views list their fields explicitly (the `XPublic` half of each table family), so internal columns —
list ids, token hashes, the raw bits — never reach a response.
"""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

from issuer import CertificationDecision
from registry.identity import credential_url, status_list_url
from registry.models import CertificationBody, Credential, CredentialBase, Event, EventBase, ReasonCode

_API = ConfigDict(alias_generator=to_camel, validate_by_name=True, serialize_by_alias=True)
Reason = Annotated[str, Field(min_length=1, max_length=2000)]


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
        return cls.model_validate(_public_fields(credential, body, public_url))


class CredentialIssued(CredentialPublic):
    """A newly issued certificate, with its signed `vc+jwt` token."""

    token: str

    @classmethod
    def of(cls, credential: Credential, body: CertificationBody, public_url: str) -> CredentialIssued:
        return cls.model_validate({**_public_fields(credential, body, public_url), "token": credential.token})


class BatchIssued(BaseModel):
    model_config = _API

    credentials: list[CredentialIssued]


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


def _public_fields(credential: Credential, body: CertificationBody, public_url: str) -> dict[str, Any]:
    fields = credential.model_dump(include=set(CredentialBase.model_fields))
    return {
        **fields,
        "id": credential.id,
        "url": credential_url(public_url, credential.id),
        "issuer": body.slug,
        "issuer_did": body.did,
        "credential_status": [
            StatusEntryPublic(
                status_purpose=purpose,
                status_list_credential=status_list_url(public_url, list_id),
                status_list_index=str(index),
            )
            for purpose, list_id, index in (
                ("revocation", credential.revocation_list_id, credential.revocation_index),
                ("suspension", credential.suspension_list_id, credential.suspension_index),
            )
        ],
        "supersedes": credential.supersedes_id,
        "superseded_by": credential.superseded_by_id,
    }
