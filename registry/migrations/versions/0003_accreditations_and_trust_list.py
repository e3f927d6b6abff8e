"""Accreditations of certification bodies, their status history, and the signed trust list.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "accreditations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("issuer_id", sa.Integer(), nullable=False),
        sa.Column("scheme_id", sa.String(length=63), nullable=False),
        sa.Column("levels", sa.JSON(), nullable=False),
        sa.Column("valid_from", sa.DateTime(timezone=True), nullable=False),
        sa.Column("valid_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["issuer_id"], ["issuers.id"], name=op.f("fk_accreditations_issuer_id_issuers")
        ),
        sa.ForeignKeyConstraint(
            ["scheme_id"], ["schemes.id"], name=op.f("fk_accreditations_scheme_id_schemes")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_accreditations")),
        sa.UniqueConstraint("issuer_id", "scheme_id", name=op.f("uq_accreditations_issuer_id_scheme_id")),
    )
    op.create_table(
        "accreditation_changes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("accreditation_id", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=100), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["accreditation_id"],
            ["accreditations.id"],
            name=op.f("fk_accreditation_changes_accreditation_id_accreditations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_accreditation_changes")),
    )
    op.create_index(
        op.f("ix_accreditation_changes_accreditation_id"),
        "accreditation_changes",
        ["accreditation_id"],
        unique=False,
    )
    op.create_table(
        "trust_lists",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("token", sa.Text(), nullable=False),
        sa.Column("etag", sa.String(length=80), nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("valid_until", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_trust_lists")),
    )


def downgrade() -> None:
    op.drop_table("trust_lists")
    op.drop_index(op.f("ix_accreditation_changes_accreditation_id"), table_name="accreditation_changes")
    op.drop_table("accreditation_changes")
    op.drop_table("accreditations")
