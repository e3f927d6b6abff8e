"""registry.db.Prepared: a list of rows inserted on SQLite as INSERTs of many rows each, written exactly as
one-row INSERTs would write them, all or none."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
import sqlalchemy as sa

from registry.db import Prepared, make_engine

COLUMNS = 80  # 32,766 parameters per statement: 409 rows of 80 columns, so 900 rows take three statements
_metadata = sa.MetaData()
WIDE = sa.Table(
    "wide",
    _metadata,
    sa.Column("id", sa.Uuid, primary_key=True),
    sa.Column("tags", sa.JSON),
    *(sa.Column(f"c{n}", sa.Integer) for n in range(COLUMNS - 2)),
)
INSERT = Prepared(sa.insert(WIDE))


def rows(count: int) -> list[dict[str, object]]:
    return [
        {"id": uuid.uuid4(), "tags": ["a", n], **{f"c{c}": n * c for c in range(COLUMNS - 2)}}
        for n in range(count)
    ]


@pytest.fixture
def engine(tmp_path: Path) -> sa.Engine:
    engine = make_engine(f"sqlite:///{tmp_path / 'wide.db'}", pool_size=1, max_overflow=0)
    _metadata.create_all(engine)
    return engine


def test_many_rows_take_several_statements_and_are_all_written(engine: sa.Engine) -> None:
    written = rows(900)
    with engine.begin() as connection:
        INSERT.execute(connection, written)
    with engine.connect() as connection:
        stored = {row.id: dict(row._mapping) for row in connection.execute(sa.select(WIDE))}
    assert stored == {row["id"]: row for row in written}  # converted as Core converts (UUID, JSON) and back


def test_a_failing_row_writes_none(engine: sa.Engine) -> None:
    written = rows(900)
    written[850]["id"] = written[3]["id"]  # in the third statement, a duplicate of a row of the first
    with pytest.raises(sa.exc.IntegrityError), engine.begin() as connection:
        INSERT.execute(connection, written)
    with engine.connect() as connection:
        assert connection.execute(sa.select(sa.func.count()).select_from(WIDE)).scalar_one() == 0
