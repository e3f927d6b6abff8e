"""Status lists expire: each row keeps the `validUntil` its signed list carries.

Lists signed before this revision have none (NULL): the registry re-signs each, with a `validUntil`, the first
time a reader asks for it (registry.refresher).

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-26
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("status_lists") as batch:
        batch.add_column(sa.Column("valid_until", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("status_lists") as batch:
        batch.drop_column("valid_until")
