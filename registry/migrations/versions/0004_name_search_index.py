"""Trigram indexes for the public name search, so that a substring query does not read every certificate.

People search by any part of a company's name, in Japanese (no spaces, so word tokenizers do not apply) or in
English, case-insensitively: `ILIKE '%q%'`. A B-tree cannot answer that; a trigram index can, for queries of
three characters or more (`registry.search` keeps the plain scan for shorter ones).

SQLite: an FTS5 table with the `trigram` tokenizer (SQLite >= 3.34), external content over `credentials`
(keyed by its implicit rowid, so nothing is stored twice), kept in sync by triggers and populated from the
existing rows. Without FTS5 or the trigram tokenizer the table is not created, a warning says so, and the
search falls back to the scan. Two things must keep the rowids and the triggers in place: a later migration
that rebuilds `credentials` in batch mode (copy, drop, rename) drops these triggers with the old table and
must recreate them and run `INSERT INTO credentials_fts(credentials_fts) VALUES ('rebuild')`; and only a
`VACUUM` may renumber the implicit rowids of a table (SQLite's documentation; current versions keep them),
after which the same 'rebuild' restores the index. `tests/registry/test_search_index.py` checks both.

PostgreSQL: the `pg_trgm` extension (trusted since PostgreSQL 13, so the database owner may create it) and a
GIN trigram index on each searched column, which `ILIKE '%q%'` uses directly. If the extension cannot be
created the migration stops with the command a superuser must run, rather than leave a registry that scans.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-26
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

logger = logging.getLogger("registry.migrations")

# These names are also listed in the autogenerate filter (registry/migrations/__init__.py: AUTOGENERATE_IGNORED)
# and known to registry/search.py; a migration stays a fixed record, so it does not import them.
FTS_TABLE = "credentials_fts"
COLUMNS = ("legal_name_en", "legal_name_ja", "certificate_number")
PG_TRIGRAM_INDEXES = {f"ix_credentials_{column}_trgm": column for column in COLUMNS}
_TRIGGERS = ("credentials_fts_insert", "credentials_fts_delete", "credentials_fts_update")


def upgrade() -> None:
    dialect = op.get_context().dialect.name
    if dialect == "sqlite":
        _upgrade_sqlite()
    elif dialect == "postgresql":
        _upgrade_postgresql()


def downgrade() -> None:
    dialect = op.get_context().dialect.name
    if dialect == "sqlite":
        for trigger in _TRIGGERS:
            op.execute(f"DROP TRIGGER IF EXISTS {trigger}")
        op.execute(f"DROP TABLE IF EXISTS {FTS_TABLE}")  # and its shadow tables
    elif dialect == "postgresql":
        for name in PG_TRIGRAM_INDEXES:
            op.drop_index(name, table_name="credentials")
        # The extension stays: other objects may use it, and a DBA may have created it before us.


def _sqlite_has_trigram() -> bool:
    """Whether this SQLite has FTS5 with the trigram tokenizer: tried, not inferred from the version."""
    if op.get_context().as_sql:
        return True  # an offline script (alembic upgrade --sql) is for a database we cannot ask
    connection = op.get_bind()
    try:
        connection.exec_driver_sql(
            "CREATE VIRTUAL TABLE temp.aigov_trigram_probe USING fts5(x, tokenize='trigram')"
        )
    except sa.exc.OperationalError as error:
        version = connection.exec_driver_sql("SELECT sqlite_version()").scalar()
        logger.warning(
            "SQLite %s lacks FTS5 with the trigram tokenizer (%s; SQLite >= 3.34 with FTS5 is needed): the name "
            "search index is not created and name searches will scan every certificate",
            version,
            error.orig,
        )
        return False
    connection.exec_driver_sql("DROP TABLE temp.aigov_trigram_probe")
    return True


def _upgrade_sqlite() -> None:
    if not _sqlite_has_trigram():
        return
    columns = ", ".join(COLUMNS)
    new = ", ".join(f"new.{column}" for column in COLUMNS)
    old = ", ".join(f"old.{column}" for column in COLUMNS)
    # columnsize=0: no per-row token counts (they serve only bm25 ranking, which the search does not use).
    op.execute(
        f"CREATE VIRTUAL TABLE {FTS_TABLE} USING fts5({columns}, content='credentials', content_rowid='rowid', "
        "tokenize='trigram', columnsize=0)"
    )
    # External content: the index is told what to forget with the values it indexed (the FTS5 'delete'
    # command). Updates of other columns (status changes, the common write) leave the index alone.
    # (S608: every name in these statements is a constant of this module.)
    op.execute(
        f"CREATE TRIGGER credentials_fts_insert AFTER INSERT ON credentials BEGIN "  # noqa: S608
        f"INSERT INTO {FTS_TABLE}(rowid, {columns}) VALUES (new.rowid, {new}); END"
    )
    op.execute(
        f"CREATE TRIGGER credentials_fts_delete AFTER DELETE ON credentials BEGIN "  # noqa: S608
        f"INSERT INTO {FTS_TABLE}({FTS_TABLE}, rowid, {columns}) VALUES ('delete', old.rowid, {old}); END"
    )
    op.execute(
        f"CREATE TRIGGER credentials_fts_update AFTER UPDATE OF {columns} ON credentials BEGIN "  # noqa: S608
        f"INSERT INTO {FTS_TABLE}({FTS_TABLE}, rowid, {columns}) VALUES ('delete', old.rowid, {old}); "
        f"INSERT INTO {FTS_TABLE}(rowid, {columns}) VALUES (new.rowid, {new}); END"
    )
    op.execute(f"INSERT INTO {FTS_TABLE}({FTS_TABLE}) VALUES ('rebuild')")  # noqa: S608


def _upgrade_postgresql() -> None:
    try:
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    except sa.exc.DBAPIError as error:
        raise RuntimeError(
            "could not create the pg_trgm extension, which the name search index needs "
            f"({error.orig}). pg_trgm ships with PostgreSQL and is trusted since PostgreSQL 13 (the database "
            "owner may create it); otherwise ask a superuser to run `CREATE EXTENSION pg_trgm;` in this "
            "database, then run `aigov db upgrade` again"
        ) from error
    for name, column in PG_TRIGRAM_INDEXES.items():
        op.create_index(
            name,
            "credentials",
            [column],
            postgresql_using="gin",
            postgresql_ops={column: "gin_trgm_ops"},
        )
