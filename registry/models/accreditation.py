"""Accreditations of certification bodies by the scheme owner, their history, and the signed trust list.

A body's accreditation names the scheme, the levels it may certify and the period; its status (active,
suspended, withdrawn) changes only through `registry.trustlist`, which appends a row to the history, an event to
the event log, and re-signs the trust list in the same transaction.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from registry.models.base import UtcDateTime


class Accreditation(SQLModel, table=True):
    """One body's accreditation under one scheme (at most one per body and scheme)."""

    __tablename__ = "accreditations"
    __table_args__ = (sa.UniqueConstraint("issuer_id", "scheme_id"),)

    id: int | None = Field(default=None, primary_key=True)
    issuer_id: int = Field(foreign_key="issuers.id")
    scheme_id: str = Field(foreign_key="schemes.id", max_length=63)
    levels: list[str] = Field(sa_type=sa.JSON)
    valid_from: datetime = Field(sa_type=UtcDateTime)
    valid_until: datetime | None = Field(default=None, sa_type=UtcDateTime)
    state: str = Field(max_length=20)
    created_at: datetime = Field(sa_type=UtcDateTime)
    updated_at: datetime = Field(sa_type=UtcDateTime)


class AccreditationChange(SQLModel, table=True):
    """Append-only: each status an accreditation took, when, by whom and why. The trust list publishes it."""

    __tablename__ = "accreditation_changes"

    id: int | None = Field(default=None, primary_key=True)
    accreditation_id: int = Field(foreign_key="accreditations.id", index=True)
    state: str = Field(max_length=20)
    at: datetime = Field(sa_type=UtcDateTime)
    actor: str = Field(max_length=100)
    reason: str | None = Field(default=None, sa_type=sa.Text)


class TrustListRecord(SQLModel, table=True):
    """The current signed trust list: one row, locked by whoever re-signs it, served as stored bytes."""

    __tablename__ = "trust_lists"

    id: int = Field(default=1, primary_key=True, sa_column_kwargs={"autoincrement": False})
    version: int
    token: str = Field(sa_type=sa.Text)
    etag: str = Field(max_length=80)
    # SHA-256 of what the list says apart from its dates: a change of keys or accreditations re-signs it.
    content_hash: str = Field(max_length=64)
    issued_at: datetime = Field(sa_type=UtcDateTime)
    valid_until: datetime = Field(sa_type=UtcDateTime)
