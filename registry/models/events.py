"""The append-only event log: every lifecycle change, hash-chained to its predecessor."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from registry.models.base import UtcDateTime

GENESIS_HASH = "0" * 64


class Action(StrEnum):
    ISSUED = "issued"
    SUSPENDED = "suspended"
    REINSTATED = "reinstated"
    REVOKED = "revoked"
    RENEWED = "renewed"
    SUPERSEDED = "superseded"
    # The scheme owner's decisions about a certification body (registry.trustlist); no credential.
    ACCREDITED = "accredited"
    ACCREDITATION_SUSPENDED = "accr_suspended"
    ACCREDITATION_WITHDRAWN = "accr_withdrawn"
    KEYS_CHANGED = "keys_changed"
    # An operator fenced a restored database (registry.restore): the log forked here.
    RESTORED = "restored"


class EventBase(SQLModel):
    seq: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    at: datetime = Field(sa_type=UtcDateTime, index=True)
    actor: str = Field(max_length=100)
    action: str = Field(max_length=20)
    reason_code: str | None = Field(default=None, max_length=50)
    reason: str | None = Field(default=None, sa_type=sa.Text)
    payload: dict[str, Any] = Field(sa_type=sa.JSON)
    prev_hash: str = Field(max_length=64)
    hash: str = Field(max_length=64, unique=True)


class Event(EventBase, table=True):
    """`hash` = SHA-256 of the canonical JSON of the event (issuer by DID) including `prev_hash`."""

    __tablename__ = "events"

    issuer_id: int = Field(foreign_key="issuers.id", index=True)
    credential_id: uuid.UUID | None = Field(default=None, foreign_key="credentials.id", index=True)


class ChainHead(SQLModel, table=True):
    """The last event's position and hash: one row, locked by every append so the chain never forks."""

    __tablename__ = "event_chain_head"

    id: int = Field(default=1, primary_key=True, sa_column_kwargs={"autoincrement": False})
    seq: int = 0
    hash: str = Field(default=GENESIS_HASH, max_length=64)
