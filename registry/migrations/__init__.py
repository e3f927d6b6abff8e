"""Alembic migrations: the only way the registry's schema is created or changed."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from alembic.runtime.environment import NameFilterParentNames, NameFilterType

# Schema objects that a migration creates but the SQLModel models cannot describe: the name search index of
# 0004 (an SQLite FTS5 virtual table with its shadow tables; PostgreSQL GIN trigram indexes). Autogenerate must
# neither propose dropping them nor report them as a difference from the models. Listed by exact name, so that
# anything else that drifts from the models is still reported.
AUTOGENERATE_IGNORED: Mapping[str, frozenset[str]] = {
    "table": frozenset(
        "credentials_fts" + suffix for suffix in ("", "_data", "_idx", "_config", "_docsize", "_content")
    ),
    "index": frozenset(
        f"ix_credentials_{column}_trgm" for column in ("legal_name_en", "legal_name_ja", "certificate_number")
    ),
}


def include_name(name: str | None, type_: NameFilterType, parent_names: NameFilterParentNames) -> bool:
    """Alembic's `include_name` hook: every reflected name except those in AUTOGENERATE_IGNORED."""
    return name not in AUTOGENERATE_IGNORED.get(type_, frozenset())
