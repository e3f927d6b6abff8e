"""`aigov admin`: set up the registry — its own key and scheme, certification bodies, and their API tokens.

Settings come from AIGOV_* environment variables (database, public URL, keystore path and passphrase). An API
token is printed once, on standard output, and stored only as a hash: keep it when it is shown.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from aigov.cli import EXIT_OK, UsageError
from aigov.commands._common import parse_time
from aigov.commands.bundle import parse_duration
from aigov.commands.db import describe, load_settings, require_database

if TYPE_CHECKING:
    from sqlmodel import Session

    from issuer import Scheme
    from keys import Keystore

_ALGORITHMS = ("EdDSA", "ES256")
_SCOPES = ("credentials:issue", "credentials:suspend", "credentials:revoke", "credentials:renew")
Handler = Callable[[argparse.Namespace], int]


def register(subparsers: Any) -> None:
    admin = subparsers.add_parser("admin", help="administer the registry", description=__doc__)
    commands = admin.add_subparsers(dest="admin_command", required=True, metavar="COMMAND")

    init = commands.add_parser("init", help="create the registry's own key and load a scheme")
    init.add_argument("--scheme", type=Path, help="scheme file (default: the bundled EXAMPLE scheme)")
    init.set_defaults(handler=run_init)

    issuer = commands.add_parser("create-issuer", help="register a certification body and create its key")
    issuer.add_argument("--slug", required=True, help="short name in its DID and URLs, e.g. acme-cb")
    issuer.add_argument("--name-en", required=True, help="name in English")
    issuer.add_argument("--name-ja", help="name in Japanese")
    issuer.add_argument("--scheme", help="scheme id it certifies under (default: the example scheme)")
    issuer.add_argument("--alg", choices=_ALGORITHMS, default="EdDSA", help="key algorithm (default EdDSA)")
    issuer.set_defaults(handler=run_create_issuer)

    token = commands.add_parser("create-token", help="create an API token for a certification body")
    token.add_argument("--issuer", required=True, metavar="SLUG", help="the certification body")
    token.add_argument(
        "--scopes", required=True, help=f"comma-separated: {', '.join(_SCOPES)}", metavar="SCOPES"
    )
    token.add_argument("--description", help="what the token is for (shown in listings)")
    token.add_argument(
        "--expires-in",
        type=parse_duration,
        metavar="DURATION",
        help="refuse the token after this long, e.g. 90d or 12h (default: valid until revoked)",
    )
    token.set_defaults(handler=run_create_token)

    revoke = commands.add_parser("revoke-token", help="revoke an API token")
    revoke.add_argument("token_id", metavar="ID", help="the token id (the part after aigov_)")
    revoke.set_defaults(handler=run_revoke_token)

    listing = commands.add_parser(
        "list-tokens",
        help="list API tokens (id, body, scopes, times; never the secret), newest first",
        description="List API tokens, newest first: the id that revoke-token takes, the certification body, "
        "the scopes, when it was created, when it expires and (with --all) when it was revoked or expired, and its "
        "description. Neither the secret nor its hash is shown: a lost token is revoked and replaced, never "
        "recovered.",
    )
    listing.add_argument("--issuer", metavar="SLUG", help="only the tokens of this certification body")
    listing.add_argument("--all", action="store_true", help="include revoked and expired tokens")
    listing.add_argument("--json", action="store_true", help="print a JSON array instead of lines")
    listing.set_defaults(handler=run_list_tokens)

    accredit = commands.add_parser(
        "accredit",
        help="accredit a certification body, or lift the suspension of its accreditation (re-signs the "
        "trust list, logs an event)",
        description="Accredit a certification body for a scheme: it may then issue certificates, and "
        "verifiers that pin the scheme owner recognise them. Run it again to change the levels or the end, or "
        "to lift a suspension: the accreditation keeps its start (what the body issued before the suspension "
        "stays valid; what it issued while suspended does not), unless --from gives another. After a "
        "withdrawal it is a new accreditation, from now unless --from says otherwise; certificates issued "
        "before the withdrawal stay unrecognised. --levels and --until are set anew by every run.",
    )
    accredit.add_argument("--issuer", required=True, metavar="SLUG", help="the certification body")
    accredit.add_argument("--scheme", help="scheme id (default: the body's scheme)")
    accredit.add_argument("--levels", help="comma-separated levels it may certify (default: all)")
    accredit.add_argument(
        "--from",
        dest="valid_from",
        type=parse_time,
        help="start (default: now for a new or withdrawn accreditation, else its current start)",
    )
    accredit.add_argument("--until", dest="valid_until", type=parse_time, help="end (default: open-ended)")
    accredit.add_argument("--reason", required=True, help="why (kept in the history and the event log)")
    accredit.set_defaults(handler=run_accredit)
    for name, verb in (("suspend-accreditation", "suspend"), ("withdraw-accreditation", "withdraw")):
        change = commands.add_parser(
            name, help=f"{verb} a certification body's accreditation (re-signs the trust list, logs an event)"
        )
        change.add_argument("--issuer", required=True, metavar="SLUG", help="the certification body")
        change.add_argument("--reason", required=True, help="why (kept in the history and the event log)")
        change.set_defaults(
            handler=run_change_accreditation, state="suspended" if verb == "suspend" else "withdrawn"
        )


@contextmanager
def _database(url: str, *, high_water: Path | None = None) -> Iterator[Session]:
    """A session on a migrated database, in one write transaction; errors become one-line usage errors.

    Commands that append to the event log pass `high_water` (the marks file, registry.highwater): they refuse a
    database that went back in time, as `aigov serve` does, rather than extend a forked history, and record
    the log's new head once committed, so that a restore to before their events is caught even when no server
    ran after them.
    """
    from sqlalchemy.exc import SQLAlchemyError
    from sqlmodel import Session

    from registry import highwater
    from registry.db import make_engine, write_transaction
    from registry.errors import RegistryError
    from registry.migrate import SchemaNotCurrentError, check_current

    require_database(url)
    engine = make_engine(url, pool_size=1, max_overflow=0)
    try:
        check_current(engine)
        with Session(engine, expire_on_commit=False) as session:
            with write_transaction(session):
                if high_water is not None:
                    highwater.check(session, high_water)
                yield session
            if high_water is not None:
                _record_high_water(session, high_water)
    except highwater.HighWaterError as e:  # from the check, before anything was written
        raise UsageError(f"{e} (nothing changed)") from e
    except (SchemaNotCurrentError, RegistryError) as e:
        raise UsageError(str(e)) from e
    except SQLAlchemyError as e:
        raise UsageError(f"database error: {describe(e)}") from e
    finally:
        engine.dispose()


def _record_high_water(session: Session, path: Path) -> None:
    """Record the committed head; a failure is a warning, never an error: the change is made (a running server
    records the head within a minute, `aigov serve` at its next start), and an error would invite a retry that
    logs it twice."""
    from sqlalchemy.exc import SQLAlchemyError

    from registry import highwater

    try:
        highwater.record(path, highwater.current(session))
    except (OSError, highwater.HighWaterError, SQLAlchemyError) as e:
        print(f"warning: cannot record the high-water mark in {path}: {e}", file=sys.stderr)


def _keystore(root: Path, name: str, passphrase: bytes) -> Keystore:
    from keys import Keystore

    return Keystore(root / name, passphrase=passphrase)


def _ensure_key(keystore: Keystore, alg: str) -> str:
    """The active key's kid, creating the first key if there is none."""
    from keys import KeysError, KeyState

    try:
        active = [record for record in keystore.records() if record.state is KeyState.ACTIVE]
        record = active[0] if active else keystore.generate(alg)
    except KeysError as e:
        raise UsageError(str(e)) from e
    return record.kid


def _scheme(path: Path | None) -> Scheme:
    from issuer import SchemeError, load_scheme

    try:
        return load_scheme(path)
    except SchemeError as e:
        raise UsageError(str(e)) from e


def run_init(args: argparse.Namespace) -> int:
    from registry.bodies import add_scheme
    from registry.config import Settings
    from registry.identity import REGISTRY_KEYSTORE, registry_did

    settings = load_settings(Settings)
    scheme = _scheme(args.scheme)
    with _database(settings.database_url) as session:
        add_scheme(session=session, scheme=scheme, now=datetime.now(UTC))
    kid = _ensure_key(_keystore(settings.keystore_path, REGISTRY_KEYSTORE, settings.passphrase()), "EdDSA")
    label = " (EXAMPLE scheme, for demonstration only)" if scheme.example else ""
    print(f"scheme {scheme.id} {scheme.version} registered{label}", file=sys.stderr)
    print(f"registry key {kid}; DID document at {settings.public_url}/.well-known/did.json", file=sys.stderr)
    print(registry_did(settings.public_url))
    return EXIT_OK


def run_create_issuer(args: argparse.Namespace) -> int:
    from sqlmodel import select

    from registry.bodies import add_scheme, create_body
    from registry.config import Settings
    from registry.models import CertificationBody, CertificationBodyCreate
    from registry.models import Scheme as SchemeRow

    settings = load_settings(Settings)
    example = _scheme(None)
    scheme_id = args.scheme or example.id
    now = datetime.now(UTC)
    with _database(settings.database_url) as session:
        if session.exec(select(CertificationBody).where(CertificationBody.slug == args.slug)).first():
            raise UsageError(f"a certification body {args.slug!r} already exists")
        if scheme_id == example.id and session.get(SchemeRow, scheme_id) is None:
            add_scheme(session=session, scheme=example, now=now)
        data = CertificationBodyCreate(
            slug=args.slug, name_en=args.name_en, name_ja=args.name_ja, scheme_id=scheme_id
        )
        body = create_body(session=session, data=data, public_url=settings.public_url, now=now)
        # The key last but inside the transaction: a key that cannot be made leaves no body behind.
        kid = _ensure_key(_keystore(settings.keystore_path, args.slug, settings.passphrase()), args.alg)
    print(f"certification body {body.slug} registered under scheme {scheme_id}, key {kid}", file=sys.stderr)
    print(f"DID document at {settings.public_url}/issuers/{body.slug}/did.json", file=sys.stderr)
    print(body.did)
    return EXIT_OK


def run_create_token(args: argparse.Namespace) -> int:
    from keys import format_date_time_stamp
    from registry.bodies import body_by_slug
    from registry.config import DatabaseSettings
    from registry.tokens import create_token

    settings = load_settings(DatabaseSettings)
    now = datetime.now(UTC)
    with _database(settings.database_url) as session:
        body = body_by_slug(session=session, slug=args.issuer)
        row, secret = create_token(
            session=session,
            body=body,
            scopes=[args.scopes],
            now=now,
            description=args.description,
            expires_at=None if args.expires_in is None else now + args.expires_in,
        )
    until = "until revoked" if row.expires_at is None else f"until {format_date_time_stamp(row.expires_at)}"
    print(
        f"token {row.id} for {body.slug} with scopes {', '.join(row.scopes)}, valid {until}", file=sys.stderr
    )
    print("it is shown only now: store it in your secret manager", file=sys.stderr)
    print(secret)
    return EXIT_OK


def run_revoke_token(args: argparse.Namespace) -> int:
    from keys import format_date_time_stamp
    from registry.config import DatabaseSettings
    from registry.tokens import revoke_token

    settings = load_settings(DatabaseSettings)
    with _database(settings.database_url) as session:
        row = revoke_token(session=session, token_id=args.token_id, now=datetime.now(UTC))
    assert row.revoked_at is not None  # noqa: S101
    print(f"token {row.id} revoked as of {format_date_time_stamp(row.revoked_at)}")
    return EXIT_OK


def run_list_tokens(args: argparse.Namespace) -> int:
    from keys import format_date_time_stamp
    from registry.bodies import body_by_slug
    from registry.config import DatabaseSettings
    from registry.tokens import list_tokens

    settings = load_settings(DatabaseSettings)
    with _database(settings.database_url) as session:
        body = body_by_slug(session=session, slug=args.issuer) if args.issuer is not None else None
        now = datetime.now(UTC)
        tokens = list_tokens(session=session, now=now, issuer=body, include_ended=args.all)
    if args.json:
        shown = [
            {
                "id": token.id,
                "issuer": token.issuer,
                "scopes": token.scopes,
                "description": token.description,
                "created_at": format_date_time_stamp(token.created_at),
                "revoked_at": None if token.revoked_at is None else format_date_time_stamp(token.revoked_at),
                "expires_at": None if token.expires_at is None else format_date_time_stamp(token.expires_at),
            }
            for token in tokens
        ]
        print(json.dumps(shown, indent=2, ensure_ascii=False))
        return EXIT_OK
    issuer_width = max((len(token.issuer) for token in tokens), default=0)
    scopes_width = max((len(",".join(token.scopes)) for token in tokens), default=0)
    for token in tokens:
        parts = [token.id, token.issuer.ljust(issuer_width), ",".join(token.scopes).ljust(scopes_width)]
        parts.append(f"created {format_date_time_stamp(token.created_at)}")
        if token.expires_at is not None:
            ended = "expired" if token.expires_at <= now else "expires"
            parts.append(f"{ended} {format_date_time_stamp(token.expires_at)}")
        if token.revoked_at is not None:
            parts.append(f"revoked {format_date_time_stamp(token.revoked_at)}")
        if token.description:
            parts.append(repr(token.description))  # quoted, control characters escaped: it is free text
        print("  ".join(parts))
    return EXIT_OK


def _trust_context() -> tuple[Any, Any]:
    """The signers (the registry's key signs the trust list) and the trust list policy, from the settings."""
    from registry.config import Settings
    from registry.signers import Signers
    from registry.trustlist import TrustListPolicy

    settings = load_settings(Settings)
    return settings, (Signers.of(settings), TrustListPolicy(public_url=settings.public_url))


def run_accredit(args: argparse.Namespace) -> int:
    from registry.bodies import body_by_slug
    from registry.trustlist import accredit

    settings, (signers, policy) = _trust_context()
    now = datetime.now(UTC)
    levels = [level.strip() for level in args.levels.split(",") if level.strip()] if args.levels else None
    with _database(settings.database_url, high_water=settings.high_water_path) as session:
        body = body_by_slug(session=session, slug=args.issuer)
        row = accredit(
            session=session,
            signers=signers,
            policy=policy,
            body=body,
            scheme_id=args.scheme or body.scheme_id,
            levels=levels,
            valid_from=args.valid_from,
            valid_until=args.valid_until,
            reason=args.reason,
            actor="admin-cli",
            now=now,
        )
    print(
        f"{body.slug} accredited for {row.scheme_id} levels {', '.join(row.levels)}; trust list re-signed",
        file=sys.stderr,
    )
    print(f"{settings.public_url}/trust-list")
    return EXIT_OK


def run_change_accreditation(args: argparse.Namespace) -> int:
    from registry.bodies import body_by_slug
    from registry.models import BodyState
    from registry.trustlist import change_accreditation

    settings, (signers, policy) = _trust_context()
    with _database(settings.database_url, high_water=settings.high_water_path) as session:
        body = body_by_slug(session=session, slug=args.issuer)
        change_accreditation(
            session=session,
            signers=signers,
            policy=policy,
            body=body,
            state=BodyState(args.state),
            reason=args.reason,
            actor="admin-cli",
            now=datetime.now(UTC),
        )
    print(f"the accreditation of {body.slug} is {args.state}; trust list re-signed", file=sys.stderr)
    print(f"{settings.public_url}/trust-list")
    return EXIT_OK
