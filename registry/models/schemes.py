"""Certification schemes and their levels: data the scheme owner configures, not code."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from registry.models.base import UtcDateTime


class SchemeBase(SQLModel):
    id: str = Field(primary_key=True, max_length=63)
    name_en: str | None = Field(default=None, max_length=500)
    name_ja: str | None = Field(default=None, max_length=500)
    version: str = Field(max_length=50)
    # The bundled demonstration scheme says so, in the data and on every page that shows it.
    example: bool = False
    validity_years: int
    surveillance_interval_months: int


class Scheme(SchemeBase, table=True):
    __tablename__ = "schemes"

    # The scheme document as loaded (issuer.Scheme), from which signers are built.
    definition: dict[str, Any] = Field(sa_type=sa.JSON)
    created_at: datetime = Field(sa_type=UtcDateTime)


class LevelBase(SQLModel):
    scheme_id: str = Field(foreign_key="schemes.id", primary_key=True, max_length=63)
    id: str = Field(primary_key=True, max_length=50)
    name_en: str | None = Field(default=None, max_length=500)
    name_ja: str | None = Field(default=None, max_length=500)
    description: str = Field(sa_type=sa.Text)
    criteria: str = Field(sa_type=sa.Text)


class Level(LevelBase, table=True):
    __tablename__ = "levels"

    position: int
