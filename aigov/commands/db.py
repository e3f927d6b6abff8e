"""`aigov db`: the registry's database: its schema (owned by Alembic migrations), backups and checks.

The database comes from AIGOV_DATABASE_URL (default: an SQLite file under ./var) or --database-url.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from aigov.cli import EXIT_INVALID, EXIT_OK, UsageError

if TYPE_CHECKING:
    from pydantic_settings import BaseSettings

S = TypeVar("S", bound="BaseSettings")


def register(subparsers: Any) -> None:
    db = subparsers.add_parser(
        "db", help="migrate, back up and check the registry's database", description=__doc__
    )
    commands = db.add_subparsers(dest="db_command", required=True, metavar="COMMAND")
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--database-url", help="SQLAlchemy URL (env AIGOV_DATABASE_URL)")

    upgrade = commands.add_parser("upgrade", parents=[common], help="apply migrations (creates the schema)")
    upgrade.add_argument("--revision", default="head", help="target revision (default: head)")
    upgrade.set_defaults(handler=run_upgrade)

    current = commands.add_parser("current", parents=[common], help="say whether the schema is up to date")
    current.set_defaults(handler=run_current)

    backup = commands.add_parser(
        "backup",
        parents=[common],
        help="copy a running SQLite registry consistently (PostgreSQL: pg_dump)",
        description="Copy the SQLite database while the server runs (SQLite's online backup: one snapshot), "
        "check the copy, then give it FILE's name. FILE is never the database or its -wal, -shm or -journal "
        "file, nor an existing FIFO, device, socket or directory, even with --force. Exit: 0 written, 1 "
        "written but its event chain does not verify, 3 not written.",
    )
    backup.add_argument("file", type=Path, metavar="FILE", help="the copy to write (refused if it exists)")
    backup.add_argument("--force", action="store_true", help="replace FILE if it exists")
    backup.set_defaults(handler=run_backup)

    check = commands.add_parser(
        "check",
        parents=[common],
        help="check the database's integrity, event hash chain and schema revision",
        description="On SQLite PRAGMA integrity_check and the name search index; on every database the event "
        "log's hash chain and the schema revision, and, once the server has recorded this database's history, "
        "that the log still holds its high-water mark (AIGOV_HIGH_WATER_FILE, else beside AIGOV_KEYSTORE_PATH). "
        "SQLite is opened read-only. Exit: 0 all pass, 1 one fails, 3 no database.",
    )
    check.set_defaults(handler=run_check)

    after_restore = commands.add_parser(
        "after-restore",
        parents=[common],
        help="fence a restored database before the server starts on it",
        description="Run once on a database restored from a backup, before starting the server. Credentials "
        "issued after the backup exist but the restored registry does not know them: every status list is "
        "closed to new indices, every index of a revocation list that no known credential holds is marked "
        "revoked (a lost credential verifies as revoked, so re-issue it), new lists are numbered past "
        "those the backup may not know, and every API token is revoked (unless --keep-tokens). Revocations and suspensions made after the backup are not restored: "
        "make them again. Needs the keystore and its passphrase (the lists are re-signed). Exit: 0 done, 1 fenced "
        "but the high-water mark not recorded (`aigov serve` would refuse to start), 3 not done (nothing changed).",
    )
    after_restore.add_argument(
        "--skip-lists",
        type=int,
        default=None,
        metavar="N",
        help="list numbers left unused after the highest the database holds (default 10,000)",
    )
    after_restore.add_argument(
        "--keep-tokens",
        action="store_true",
        help="leave API tokens active (by default all are revoked: one revoked after the backup would work again)",
    )
    after_restore.set_defaults(handler=run_after_restore)


def database_url(args: argparse.Namespace) -> str:
    """--database-url, else AIGOV_DATABASE_URL, else the default SQLite file."""
    from registry.config import DatabaseSettings, check_database_url

    if getattr(args, "database_url", None):
        try:
            return check_database_url(str(args.database_url))
        except ValueError as e:
            raise UsageError(f"--database-url: {e}") from None
    return load_settings(DatabaseSettings).database_url


def require_database(url: str, *, prefix: str = "") -> None:
    """A usage error, before anything connects, if `url` names an SQLite file that does not exist: only
    `aigov db upgrade` creates a database (registry.db.require_database)."""
    from registry.db import MissingDatabaseError
    from registry.db import require_database as check

    try:
        check(url)
    except MissingDatabaseError as e:
        raise UsageError(f"{prefix}{e}") from None


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

    url = database_url(args)
    require_database(url)
    engine = make_engine(url, pool_size=1, max_overflow=0)
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


def run_backup(args: argparse.Namespace) -> int:
    from sqlalchemy.engine import make_url

    from registry.maintenance import MaintenanceError, backup_sqlite, describe_chain, pg_dump_command

    url = database_url(args)
    if make_url(url).get_backend_name() != "sqlite":
        raise UsageError(
            "aigov db backup copies SQLite databases; back PostgreSQL up with its logical dump: "
            f"{pg_dump_command(url=url, target=args.file)}"
        )
    try:
        report = backup_sqlite(url=url, target=args.file, force=args.force)
    except MaintenanceError as e:
        raise UsageError(str(e)) from e
    chain = (
        "event chain verifies"
        if report.chain.ok
        else f"event chain does NOT verify ({describe_chain(report.chain)})"
    )
    print(
        f"{report.path}: {report.size:,} bytes, {report.credentials} credentials, {report.events} events, {chain}"
    )
    return EXIT_OK if report.chain.ok else EXIT_INVALID


def run_after_restore(args: argparse.Namespace) -> int:
    from datetime import UTC, datetime

    from sqlalchemy.exc import SQLAlchemyError
    from sqlmodel import Session

    from registry import highwater
    from registry.config import Settings
    from registry.db import make_engine
    from registry.errors import RegistryError, SigningUnavailableError
    from registry.migrate import SchemaNotCurrentError, check_current
    from registry.restore import DEFAULT_SKIP, fence_restored
    from registry.signers import Signers
    from registry.statuslists import ListPolicy

    skip = DEFAULT_SKIP if args.skip_lists is None else args.skip_lists
    if skip < 1:
        raise UsageError("--skip-lists must be at least 1")
    settings = load_settings(Settings)
    url = database_url(args)
    require_database(url)
    settings = settings.model_copy(update={"database_url": url})
    signers = Signers.of(settings)
    engine = make_engine(url, pool_size=1, max_overflow=0)
    try:
        check_current(engine)
        with Session(engine, expire_on_commit=False) as session:
            report = fence_restored(
                session=session,
                signers=signers,
                policy=ListPolicy.of(settings),
                now=datetime.now(UTC),
                skip=skip,
                revoke_tokens=not args.keep_tokens,
            )
            head = highwater.current(session)
    except SigningUnavailableError as e:
        raise UsageError(
            f"{e} (nothing changed): every body with status lists signs its fenced lists; make its key usable "
            "(with AIGOV_KEYSTORE=<keystore>/<slug>: `aigov keys new` when it has no active key) and run this again"
        ) from e
    except (SchemaNotCurrentError, RegistryError) as e:
        raise UsageError(f"{e} (nothing changed)") from e
    except SQLAlchemyError as e:
        raise UsageError(f"database error: {describe(e)} (nothing changed)") from e
    finally:
        engine.dispose()
    bodies = "1 certification body" if report.bodies == 1 else f"{report.bodies} certification bodies"
    print(f"status lists closed: {report.closed} (of {bodies})")
    print(f"indices that no known credential holds, marked revoked: {report.revoked:,}")
    print(f"new lists start at number {report.first_new_list}")
    if not args.keep_tokens:
        print(f"API tokens revoked: {report.tokens_revoked} (make new ones: aigov admin create-token)")
    print(
        "Re-issue the certificates issued after the backup; make its later revocations and suspensions again."
    )
    try:
        # The fenced head is now what `aigov serve` compares with (registry.highwater): it may start.
        highwater.record(settings.high_water_path, head, force=True)
    except (OSError, highwater.HighWaterError) as e:
        print(
            f"error: the database is fenced, but its high-water mark could not be recorded in "
            f"{settings.high_water_path} (AIGOV_HIGH_WATER_FILE): {e}. `aigov serve` refuses to start until it "
            "is: make the file writable (or move a damaged one away) and run this again (a second fence only "
            "uses more list numbers)",
            file=sys.stderr,
        )
        return EXIT_INVALID
    return EXIT_OK


def run_check(args: argparse.Namespace) -> int:
    from registry.config import StorageSettings
    from registry.maintenance import MaintenanceError, check_database, open_database

    try:
        engine = open_database(url=database_url(args))
    except MaintenanceError as e:
        raise UsageError(str(e)) from e
    try:
        checks = check_database(engine=engine, high_water=load_settings(StorageSettings).high_water_path)
    finally:
        engine.dispose()
    width = max(len(check.name) for check in checks)
    for check in checks:
        print(f"{'✔' if check.ok else '✘'} {check.name:<{width}}  {check.detail}")
    return EXIT_OK if all(check.ok for check in checks) else EXIT_INVALID
