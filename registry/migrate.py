"""Schema migrations (Alembic) driven from Python: upgrade, and the check that refuses an out-of-date schema."""

from __future__ import annotations

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Engine


class SchemaNotCurrentError(RuntimeError):
    """The database's schema is not at the revision this code expects."""

    def __init__(self, message: str, *, current: set[str], head: set[str]) -> None:
        super().__init__(message)
        self.current = current
        self.head = head


def alembic_config(url: str) -> Config:
    """An Alembic config for `url` using the migrations shipped in this package (no alembic.ini needed)."""
    config = Config()
    config.set_main_option("script_location", "registry:migrations")
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))  # ConfigParser interpolation
    return config


def upgrade(url: str, revision: str = "head") -> None:
    """Apply migrations up to `revision` (creating the schema on an empty database)."""
    command.upgrade(alembic_config(url), revision)


def head_revisions(url: str) -> set[str]:
    """The revisions this code's migrations lead to."""
    return set(ScriptDirectory.from_config(alembic_config(url)).get_heads())


def current_revisions(engine: Engine) -> set[str]:
    """The revisions the database is at (empty for a database Alembic never touched)."""
    with engine.connect() as connection:
        return set(MigrationContext.configure(connection).get_current_heads())


def check_current(engine: Engine) -> None:
    """Raise SchemaNotCurrentError unless the database is migrated to exactly the head revision."""
    current = current_revisions(engine)
    head = head_revisions(engine.url.render_as_string(hide_password=False))
    if current != head:
        state = ", ".join(sorted(current)) or "no schema"
        raise SchemaNotCurrentError(
            f"the database is at {state}, this registry needs {', '.join(sorted(head))}: "
            "run `aigov db upgrade`",
            current=current,
            head=head,
        )
