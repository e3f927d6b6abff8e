"""Drop the plain B-tree indexes on the company's names: no query uses them, and every issuance paid for them.

The public name search matches any part of a name, case-insensitively (`ILIKE '%q%'`), which a B-tree cannot
answer; since 0004 it is served by the trigram indexes (SQLite FTS5, PostgreSQL pg_trgm), or by a scan for
queries under three characters. These two indexes were only written: two more random B-tree inserts (and
pages in the write-ahead log) per credential issued.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-26
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_INDEXES = {"ix_credentials_legal_name_en": "legal_name_en", "ix_credentials_legal_name_ja": "legal_name_ja"}


def upgrade() -> None:
    for name in _INDEXES:
        op.drop_index(name, table_name="credentials")


def downgrade() -> None:
    for name, column in _INDEXES.items():
        op.create_index(name, "credentials", [column], unique=False)
