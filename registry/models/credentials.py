"""Certificates as the registry keeps them: the fields people search by, the signed token, the live status."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from registry.models.base import UtcDateTime


class CredentialStatus(StrEnum):
    """Current status. Revoked and superseded are final; suspended can be reinstated."""

    ACTIVE = "active"
    SUSPENDED = "suspended"
    REVOKED = "revoked"
    SUPERSEDED = "superseded"


class ReasonCode(StrEnum):
    """Why a certificate was suspended or revoked (after RFC 5280 §5.3.1 CRLReason, for certification).

    `superseded` is set by renewal only.
    """

    WITHDRAWN_BY_CERTIFICATION_BODY = "withdrawn_by_certification_body"
    NONCONFORMITY = "nonconformity"
    SURVEILLANCE_NOT_PERFORMED = "surveillance_not_performed"
    SCOPE_REDUCED_TO_NOTHING = "scope_reduced_to_nothing"
    COMPANY_REQUEST = "company_request"
    MISUSE_OF_MARK = "misuse_of_mark"
    SUPERSEDED = "superseded"
    OTHER = "other"


class CredentialBase(SQLModel):
    """What a certificate says about the company and its certification: public, searchable."""

    certificate_number: str = Field(max_length=64)
    corporate_number: str | None = Field(default=None, max_length=13, index=True)
    subject_id: str | None = Field(default=None, max_length=2048)
    legal_name_en: str | None = Field(default=None, max_length=500)
    legal_name_ja: str | None = Field(default=None, max_length=500)
    website: str | None = Field(default=None, max_length=2048)
    scheme_id: str = Field(foreign_key="schemes.id", max_length=63)
    level: str = Field(max_length=50)
    scope: str = Field(sa_type=sa.Text)
    ai_roles: list[str] = Field(sa_type=sa.JSON)
    assessed_on: date
    next_surveillance_due: date
    valid_from: datetime = Field(sa_type=UtcDateTime)
    valid_until: datetime = Field(sa_type=UtcDateTime, index=True)
    status: str = Field(default=CredentialStatus.ACTIVE, max_length=20)
    status_reason_code: str | None = Field(default=None, max_length=50)
    status_reason: str | None = Field(default=None, sa_type=sa.Text)
    status_changed_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    created_at: datetime = Field(sa_type=UtcDateTime)
    updated_at: datetime = Field(sa_type=UtcDateTime)


class Credential(CredentialBase, table=True):
    __tablename__ = "credentials"
    __table_args__ = (
        sa.UniqueConstraint("issuer_id", "certificate_number"),
        sa.Index(None, "scheme_id", "level"),
        # Stable cursor pagination and "updated since" feeds: (updated_at, id) is a total order.
        sa.Index(None, "updated_at", "id"),
        # Status filters and statistics: `expired` is a status and a validUntil in the past, so both together
        # answer "active", "expired" and the counts by status from the index alone.
        sa.Index(None, "status", "valid_until"),
    )

    id: uuid.UUID = Field(primary_key=True)
    # Indexed by the (issuer_id, certificate_number) unique constraint, whose leading column it is.
    issuer_id: int = Field(foreign_key="issuers.id")
    token: str = Field(sa_type=sa.Text)
    revocation_list_id: int = Field(foreign_key="status_lists.id")
    revocation_index: int
    suspension_list_id: int = Field(foreign_key="status_lists.id")
    suspension_index: int
    supersedes_id: uuid.UUID | None = Field(default=None, foreign_key="credentials.id", unique=True)
    superseded_by_id: uuid.UUID | None = Field(default=None, foreign_key="credentials.id", unique=True)
