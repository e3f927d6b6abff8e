"""Alembic owns the schema: `upgrade head` on an empty database gives exactly the models, on both backends."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlmodel import SQLModel

import registry.models  # noqa: F401  # the tables under test
from registry.db import make_engine
from registry.migrate import SchemaNotCurrentError, alembic_config, check_current, head_revisions, upgrade
from registry.migrations import include_name


def test_upgrade_head_matches_the_models(empty_database_url: str) -> None:
    upgrade(empty_database_url)

    engine = make_engine(empty_database_url, pool_size=1, max_overflow=0)
    try:
        with engine.connect() as connection:
            # As env.py's autogenerate: the name search index (0004) is not in the models.
            opts = {"compare_type": True, "include_name": include_name}
            context = MigrationContext.configure(connection, opts=opts)
            assert compare_metadata(context, SQLModel.metadata) == []
            head = connection.exec_driver_sql("SELECT seq, hash FROM event_chain_head").all()
        assert head == [(0, "0" * 64)]
        check_current(engine)
    finally:
        engine.dispose()


def test_an_unmigrated_database_is_refused_and_downgrade_undoes_everything(empty_database_url: str) -> None:
    engine = make_engine(empty_database_url, pool_size=1, max_overflow=0)
    try:
        with pytest.raises(SchemaNotCurrentError, match="aigov db upgrade") as raised:
            check_current(engine)
        assert (raised.value.current, raised.value.head) == (set(), head_revisions(empty_database_url))

        upgrade(empty_database_url)
        command.downgrade(alembic_config(empty_database_url), "base")
        assert set(sa.inspect(engine).get_table_names()) <= {"alembic_version"}
        upgrade(empty_database_url)
        check_current(engine)
    finally:
        engine.dispose()
