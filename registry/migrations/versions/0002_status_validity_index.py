"""Index credentials by (status, valid_until) instead of status alone, for the public read API.

`expired` is computed (an active or suspended certificate past its validUntil), so the status filters and
the counts by status read both columns: with both in one index they are answered from the index alone.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        op.f("ix_credentials_status_valid_until"), "credentials", ["status", "valid_until"], unique=False
    )
    op.drop_index(op.f("ix_credentials_status"), table_name="credentials")


def downgrade() -> None:
    op.create_index(op.f("ix_credentials_status"), "credentials", ["status"], unique=False)
    op.drop_index(op.f("ix_credentials_status_valid_until"), table_name="credentials")
