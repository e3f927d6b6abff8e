"""API tokens (hashed, scoped to one certification body) and the idempotency keys they have used."""

from __future__ import annotations

import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from registry.models.base import UtcDateTime


class ApiToken(SQLModel, table=True):
    """`aigov_<id>_<secret>`: looked up by id, the secret compared by its SHA-256 in constant time."""

    __tablename__ = "api_tokens"

    id: str = Field(primary_key=True, max_length=32)
    issuer_id: int = Field(foreign_key="issuers.id", index=True)
    scopes: list[str] = Field(sa_type=sa.JSON)
    secret_sha256: str = Field(max_length=64)
    description: str | None = Field(default=None, max_length=200)
    created_at: datetime = Field(sa_type=UtcDateTime)
    revoked_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    expires_at: datetime | None = Field(default=None, sa_type=UtcDateTime)  # None: until revoked


class IdempotencyRecord(SQLModel, table=True):
    """An `Idempotency-Key` a token used, with the request it named and the credentials it produced."""

    __tablename__ = "idempotency_keys"

    token_id: str = Field(foreign_key="api_tokens.id", primary_key=True, max_length=32)
    key: str = Field(primary_key=True, max_length=255)
    request_sha256: str = Field(max_length=64)
    credential_ids: list[str] = Field(sa_type=sa.JSON)
    created_at: datetime = Field(sa_type=UtcDateTime)

    def ids(self) -> list[uuid.UUID]:
        return [uuid.UUID(value) for value in self.credential_ids]
