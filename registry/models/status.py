"""Bitstring status lists (one per issuer and purpose at a time) and the indices handed out in them."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from registry.models.base import UtcDateTime


class StatusPurpose(StrEnum):
    """Bitstring Status List v1.0 §2.1 statusPurpose values the registry uses."""

    REVOCATION = "revocation"
    SUSPENSION = "suspension"


class StatusList(SQLModel, table=True):
    """A list's bits and its signed BitstringStatusListCredential, re-signed in the transaction that changes
    a bit, so that what is served is always what was committed, and when half its validity has passed
    (registry.refresher)."""

    __tablename__ = "status_lists"
    __table_args__ = (sa.Index(None, "issuer_id", "purpose"),)

    id: int | None = Field(default=None, primary_key=True)
    issuer_id: int = Field(foreign_key="issuers.id")
    purpose: str = Field(max_length=20)
    size: int
    allocated: int = 0
    bits: bytes = Field(sa_type=sa.LargeBinary)
    version: int = 1
    token: str = Field(sa_type=sa.Text)
    etag: str = Field(max_length=80)
    created_at: datetime = Field(sa_type=UtcDateTime)
    updated_at: datetime = Field(sa_type=UtcDateTime)
    # The signed list's validUntil (None: signed before lists expired, so re-signed at the next refresh).
    valid_until: datetime | None = Field(default=None, sa_type=UtcDateTime)


class StatusAllocation(SQLModel, table=True):
    """An index given out in a list. Never deleted: an index is never reused (§6.1)."""

    __tablename__ = "status_allocations"

    list_id: int = Field(foreign_key="status_lists.id", primary_key=True)
    status_index: int = Field(primary_key=True)
    credential_id: uuid.UUID = Field(foreign_key="credentials.id", index=True)
