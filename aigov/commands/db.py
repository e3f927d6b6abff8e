"""`aigov db`: the registry's database schema, owned by Alembic migrations.

The database comes from AIGOV_DATABASE_URL (default: an SQLite file under ./var) or --database-url.
"""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING, Any, TypeVar

from aigov.cli import EXIT_OK, UsageError

if TYPE_CHECKING:
    from pydantic_settings import BaseSettings

S = TypeVar("S", bound="BaseSettings")


def register(subparsers: Any) -> None:
    db = subparsers.add_parser("db", help="migrate the registry's database", description=__doc__)
    commands = db.add_subparsers(dest="db_command", required=True, metavar="COMMAND")
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--database-url", help="SQLAlchemy URL (env AIGOV_DATABASE_URL)")

    upgrade = commands.add_parser("upgrade", parents=[common], help="apply migrations (creates the schema)")
    upgrade.add_argument("--revision", default="head", help="target revision (default: head)")
    upgrade.set_defaults(handler=run_upgrade)

    current = commands.add_parser("current", parents=[common], help="say whether the schema is up to date")
    current.set_defaults(handler=run_current)


def database_url(args: argparse.Namespace) -> str:
    """--database-url, else AIGOV_DATABASE_URL, else the default SQLite file."""
    from registry.config import DatabaseSettings, check_database_url

    if getattr(args, "database_url", None):
        try:
            return check_database_url(str(args.database_url))
        except ValueError as e:
            raise UsageError(f"--database-url: {e}") from None
    return load_settings(DatabaseSettings).database_url


def load_settings(kind: type[S]) -> S:
    """Registry settings from AIGOV_* variables; what is wrong with them is a one-line usage error."""
    from pydantic import ValidationError

    from registry.config import DEVELOPMENT_PASSPHRASE, Settings

    try:
        settings = kind()
    except ValidationError as e:
        first = e.errors(include_url=False)[0]
        where = ".".join(str(part) for part in first["loc"])
        message = str(first["msg"]).removeprefix("Value error, ")
        setting = f"AIGOV_{where.upper()}: " if where else ""
        raise UsageError(f"invalid registry settings: {setting}{message}") from None
    # Production refuses it (registry.config); in development it works, but nobody should miss that the
    # keys are then encrypted with a passphrase published in the source.
    if (
        isinstance(settings, Settings)
        and settings.key_passphrase.get_secret_value() == DEVELOPMENT_PASSPHRASE
    ):
        print(
            "warning: AIGOV_KEY_PASSPHRASE is not set: the keystore uses the published development passphrase "
            "(fine on a laptop, never for real keys)",
            file=sys.stderr,
        )
    return settings


def describe(error: Exception) -> str:
    """A database error in one line, without the SQL statement."""
    return str(getattr(error, "orig", None) or error).splitlines()[0]


def run_upgrade(args: argparse.Namespace) -> int:
    from sqlalchemy.exc import SQLAlchemyError

    from registry.migrate import upgrade

    url = database_url(args)
    try:
        upgrade(url, args.revision)
    except SQLAlchemyError as e:
        raise UsageError(f"cannot migrate the database: {describe(e)}") from e
    print(f"database migrated to {args.revision}", file=sys.stderr)
    return EXIT_OK


def run_current(args: argparse.Namespace) -> int:
    from sqlalchemy.exc import SQLAlchemyError

    from registry.db import make_engine
    from registry.migrate import SchemaNotCurrentError, check_current

    engine = make_engine(database_url(args), pool_size=1, max_overflow=0)
    try:
        check_current(engine)
    except SchemaNotCurrentError as e:
        raise UsageError(str(e)) from e
    except SQLAlchemyError as e:
        raise UsageError(f"cannot read the database: {describe(e)}") from e
    finally:
        engine.dispose()
    print("the database schema is up to date", file=sys.stderr)
    return EXIT_OK
