"""Initial schema: schemes, certification bodies, credentials, status lists, events, API tokens.

Revision ID: 0001
Revises:
Create Date: 2026-11-26
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "event_chain_head",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_event_chain_head")),
    )
    op.bulk_insert(
        sa.table(
            "event_chain_head",
            sa.column("id", sa.Integer),
            sa.column("seq", sa.Integer),
            sa.column("hash", sa.String),
        ),
        [{"id": 1, "seq": 0, "hash": "0" * 64}],  # the genesis: the first event's prev_hash
    )
    op.create_table(
        "schemes",
        sa.Column("id", sa.String(length=63), nullable=False),
        sa.Column("name_en", sa.String(length=500), nullable=True),
        sa.Column("name_ja", sa.String(length=500), nullable=True),
        sa.Column("version", sa.String(length=50), nullable=False),
        sa.Column("example", sa.Boolean(), nullable=False),
        sa.Column("validity_years", sa.Integer(), nullable=False),
        sa.Column("surveillance_interval_months", sa.Integer(), nullable=False),
        sa.Column("definition", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_schemes")),
    )
    op.create_table(
        "issuers",
        sa.Column("slug", sa.String(length=63), nullable=False),
        sa.Column("name_en", sa.String(length=500), nullable=False),
        sa.Column("name_ja", sa.String(length=500), nullable=True),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("did", sa.String(length=300), nullable=False),
        sa.Column("scheme_id", sa.String(length=63), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["scheme_id"], ["schemes.id"], name=op.f("fk_issuers_scheme_id_schemes")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_issuers")),
        sa.UniqueConstraint("did", name=op.f("uq_issuers_did")),
        sa.UniqueConstraint("slug", name=op.f("uq_issuers_slug")),
    )
    op.create_table(
        "levels",
        sa.Column("scheme_id", sa.String(length=63), nullable=False),
        sa.Column("id", sa.String(length=50), nullable=False),
        sa.Column("name_en", sa.String(length=500), nullable=True),
        sa.Column("name_ja", sa.String(length=500), nullable=True),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("criteria", sa.Text(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["scheme_id"], ["schemes.id"], name=op.f("fk_levels_scheme_id_schemes")),
        sa.PrimaryKeyConstraint("scheme_id", "id", name=op.f("pk_levels")),
    )
    op.create_table(
        "api_tokens",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("issuer_id", sa.Integer(), nullable=False),
        sa.Column("scopes", sa.JSON(), nullable=False),
        sa.Column("secret_sha256", sa.String(length=64), nullable=False),
        sa.Column("description", sa.String(length=200), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["issuer_id"], ["issuers.id"], name=op.f("fk_api_tokens_issuer_id_issuers")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_tokens")),
    )
    op.create_index(op.f("ix_api_tokens_issuer_id"), "api_tokens", ["issuer_id"], unique=False)

    op.create_table(
        "status_lists",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("issuer_id", sa.Integer(), nullable=False),
        sa.Column("purpose", sa.String(length=20), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("allocated", sa.Integer(), nullable=False),
        sa.Column("bits", sa.LargeBinary(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("token", sa.Text(), nullable=False),
        sa.Column("etag", sa.String(length=80), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["issuer_id"], ["issuers.id"], name=op.f("fk_status_lists_issuer_id_issuers")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_status_lists")),
    )
    op.create_index(
        op.f("ix_status_lists_issuer_id_purpose"), "status_lists", ["issuer_id", "purpose"], unique=False
    )

    op.create_table(
        "credentials",
        sa.Column("certificate_number", sa.String(length=64), nullable=False),
        sa.Column("corporate_number", sa.String(length=13), nullable=True),
        sa.Column("subject_id", sa.String(length=2048), nullable=True),
        sa.Column("legal_name_en", sa.String(length=500), nullable=True),
        sa.Column("legal_name_ja", sa.String(length=500), nullable=True),
        sa.Column("website", sa.String(length=2048), nullable=True),
        sa.Column("scheme_id", sa.String(length=63), nullable=False),
        sa.Column("level", sa.String(length=50), nullable=False),
        sa.Column("scope", sa.Text(), nullable=False),
        sa.Column("ai_roles", sa.JSON(), nullable=False),
        sa.Column("assessed_on", sa.Date(), nullable=False),
        sa.Column("next_surveillance_due", sa.Date(), nullable=False),
        sa.Column("valid_from", sa.DateTime(timezone=True), nullable=False),
        sa.Column("valid_until", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("status_reason_code", sa.String(length=50), nullable=True),
        sa.Column("status_reason", sa.Text(), nullable=True),
        sa.Column("status_changed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("issuer_id", sa.Integer(), nullable=False),
        sa.Column("token", sa.Text(), nullable=False),
        sa.Column("revocation_list_id", sa.Integer(), nullable=False),
        sa.Column("revocation_index", sa.Integer(), nullable=False),
        sa.Column("suspension_list_id", sa.Integer(), nullable=False),
        sa.Column("suspension_index", sa.Integer(), nullable=False),
        sa.Column("supersedes_id", sa.Uuid(), nullable=True),
        sa.Column("superseded_by_id", sa.Uuid(), nullable=True),
        sa.ForeignKeyConstraint(["issuer_id"], ["issuers.id"], name=op.f("fk_credentials_issuer_id_issuers")),
        sa.ForeignKeyConstraint(
            ["revocation_list_id"],
            ["status_lists.id"],
            name=op.f("fk_credentials_revocation_list_id_status_lists"),
        ),
        sa.ForeignKeyConstraint(["scheme_id"], ["schemes.id"], name=op.f("fk_credentials_scheme_id_schemes")),
        sa.ForeignKeyConstraint(
            ["superseded_by_id"], ["credentials.id"], name=op.f("fk_credentials_superseded_by_id_credentials")
        ),
        sa.ForeignKeyConstraint(
            ["supersedes_id"], ["credentials.id"], name=op.f("fk_credentials_supersedes_id_credentials")
        ),
        sa.ForeignKeyConstraint(
            ["suspension_list_id"],
            ["status_lists.id"],
            name=op.f("fk_credentials_suspension_list_id_status_lists"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_credentials")),
        sa.UniqueConstraint(
            "issuer_id", "certificate_number", name=op.f("uq_credentials_issuer_id_certificate_number")
        ),
        sa.UniqueConstraint("superseded_by_id", name=op.f("uq_credentials_superseded_by_id")),
        sa.UniqueConstraint("supersedes_id", name=op.f("uq_credentials_supersedes_id")),
    )
    op.create_index(
        op.f("ix_credentials_corporate_number"), "credentials", ["corporate_number"], unique=False
    )
    op.create_index(op.f("ix_credentials_legal_name_en"), "credentials", ["legal_name_en"], unique=False)
    op.create_index(op.f("ix_credentials_legal_name_ja"), "credentials", ["legal_name_ja"], unique=False)
    op.create_index(
        op.f("ix_credentials_scheme_id_level"), "credentials", ["scheme_id", "level"], unique=False
    )
    op.create_index(op.f("ix_credentials_status"), "credentials", ["status"], unique=False)
    op.create_index(op.f("ix_credentials_updated_at_id"), "credentials", ["updated_at", "id"], unique=False)
    op.create_index(op.f("ix_credentials_valid_until"), "credentials", ["valid_until"], unique=False)

    op.create_table(
        "idempotency_keys",
        sa.Column("token_id", sa.String(length=32), nullable=False),
        sa.Column("key", sa.String(length=255), nullable=False),
        sa.Column("request_sha256", sa.String(length=64), nullable=False),
        sa.Column("credential_ids", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["token_id"], ["api_tokens.id"], name=op.f("fk_idempotency_keys_token_id_api_tokens")
        ),
        sa.PrimaryKeyConstraint("token_id", "key", name=op.f("pk_idempotency_keys")),
    )
    op.create_table(
        "events",
        sa.Column("seq", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=100), nullable=False),
        sa.Column("action", sa.String(length=20), nullable=False),
        sa.Column("reason_code", sa.String(length=50), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.Column("issuer_id", sa.Integer(), nullable=False),
        sa.Column("credential_id", sa.Uuid(), nullable=True),
        sa.ForeignKeyConstraint(
            ["credential_id"], ["credentials.id"], name=op.f("fk_events_credential_id_credentials")
        ),
        sa.ForeignKeyConstraint(["issuer_id"], ["issuers.id"], name=op.f("fk_events_issuer_id_issuers")),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_events")),
        sa.UniqueConstraint("hash", name=op.f("uq_events_hash")),
    )
    op.create_index(op.f("ix_events_at"), "events", ["at"], unique=False)
    op.create_index(op.f("ix_events_credential_id"), "events", ["credential_id"], unique=False)
    op.create_index(op.f("ix_events_issuer_id"), "events", ["issuer_id"], unique=False)

    op.create_table(
        "status_allocations",
        sa.Column("list_id", sa.Integer(), nullable=False),
        sa.Column("status_index", sa.Integer(), nullable=False),
        sa.Column("credential_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["credential_id"],
            ["credentials.id"],
            name=op.f("fk_status_allocations_credential_id_credentials"),
        ),
        sa.ForeignKeyConstraint(
            ["list_id"], ["status_lists.id"], name=op.f("fk_status_allocations_list_id_status_lists")
        ),
        sa.PrimaryKeyConstraint("list_id", "status_index", name=op.f("pk_status_allocations")),
    )
    op.create_index(
        op.f("ix_status_allocations_credential_id"), "status_allocations", ["credential_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_status_allocations_credential_id"), table_name="status_allocations")

    op.drop_table("status_allocations")
    op.drop_index(op.f("ix_events_issuer_id"), table_name="events")
    op.drop_index(op.f("ix_events_credential_id"), table_name="events")
    op.drop_index(op.f("ix_events_at"), table_name="events")

    op.drop_table("events")
    op.drop_table("idempotency_keys")
    op.drop_index(op.f("ix_credentials_valid_until"), table_name="credentials")
    op.drop_index(op.f("ix_credentials_updated_at_id"), table_name="credentials")
    op.drop_index(op.f("ix_credentials_status"), table_name="credentials")
    op.drop_index(op.f("ix_credentials_scheme_id_level"), table_name="credentials")
    op.drop_index(op.f("ix_credentials_legal_name_ja"), table_name="credentials")
    op.drop_index(op.f("ix_credentials_legal_name_en"), table_name="credentials")
    op.drop_index(op.f("ix_credentials_corporate_number"), table_name="credentials")

    op.drop_table("credentials")
    op.drop_index(op.f("ix_status_lists_issuer_id_purpose"), table_name="status_lists")

    op.drop_table("status_lists")
    op.drop_index(op.f("ix_api_tokens_issuer_id"), table_name="api_tokens")

    op.drop_table("api_tokens")
    op.drop_table("levels")
    op.drop_table("issuers")
    op.drop_table("schemes")
    op.drop_table("event_chain_head")
