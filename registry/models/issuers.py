"""Certification bodies: the issuers accredited under a scheme, each with its own did:web and keystore."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlmodel import Field, SQLModel

from registry.models.base import UtcDateTime


class BodyState(StrEnum):
    """Accreditation state: only an active body issues; every state keeps its keys published."""

    ACTIVE = "active"
    SUSPENDED = "suspended"
    WITHDRAWN = "withdrawn"


class CertificationBodyBase(SQLModel):
    slug: str = Field(max_length=63, unique=True)
    name_en: str = Field(max_length=500)
    name_ja: str | None = Field(default=None, max_length=500)


class CertificationBodyCreate(CertificationBodyBase):
    scheme_id: str = Field(max_length=63)


class CertificationBody(CertificationBodyBase, table=True):
    __tablename__ = "issuers"

    id: int | None = Field(default=None, primary_key=True)
    did: str = Field(max_length=300, unique=True)
    scheme_id: str = Field(foreign_key="schemes.id", max_length=63)
    state: str = Field(default=BodyState.ACTIVE, max_length=20)
    created_at: datetime = Field(sa_type=UtcDateTime)
    updated_at: datetime = Field(sa_type=UtcDateTime)


class CertificationBodyPublic(CertificationBodyBase):
    did: str
    scheme_id: str
    state: str
