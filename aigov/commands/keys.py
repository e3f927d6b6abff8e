"""`aigov keys`: create, rotate and retire issuer signing keys; publish them as a JWKS or a DID document.

The keystore passphrase comes from AIGOV_KEY_PASSPHRASE or, in a terminal, a prompt; never from a
command-line argument, which would show in `ps` and in shell history. Commands that only read public data
(list, jwks, did, did-key) take it too but never decrypt a key.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from aigov.cli import EXIT_OK, UsageError
from aigov.commands._common import add_keystore_options, open_keystore, parse_time, write_output

if TYPE_CHECKING:
    from keys import KeyRecord

ENV_ISSUER_DID = "AIGOV_ISSUER_DID"
_ALGORITHMS = ("EdDSA", "ES256")  # keys.Algorithm values, spelled out so building the parser imports nothing

Handler = Callable[[argparse.Namespace], int]


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add `aigov keys` and its subcommands."""
    keys = subparsers.add_parser("keys", help="manage issuer signing keys", description=__doc__)
    common = argparse.ArgumentParser(add_help=False)
    add_keystore_options(common)
    commands = keys.add_subparsers(dest="keys_command", required=True, metavar="COMMAND")

    new = commands.add_parser("new", parents=[common], help="create the first active key")
    new.add_argument(
        "--alg", choices=_ALGORITHMS, default="EdDSA", help="signature algorithm (default EdDSA)"
    )
    new.set_defaults(handler=_handler(_new))

    listing = commands.add_parser("list", parents=[common], help="list keys and their states")
    listing.add_argument("--json", action="store_true", help="print JSON instead of a table")
    listing.set_defaults(handler=_handler(_list))

    rotate = commands.add_parser("rotate", parents=[common], help="make a new active key, retire the old one")
    rotate.add_argument(
        "--alg", choices=_ALGORITHMS, help="algorithm of the new key (default: the old key's)"
    )
    rotate.set_defaults(handler=_handler(_rotate))

    compromised = commands.add_parser(
        "compromised",
        parents=[common],
        help="mark a key compromised: its signatures from --at on do not count",
    )
    compromised.add_argument(
        "kid",
        metavar="KID",
        help="the key's id; one that begins with '-' goes after '--' (aigov keys compromised -- -Xy…)",
    )
    compromised.add_argument(
        "--at",
        metavar="TIME",
        help="ISO 8601 time with its zone (Z or an offset) from which the key is untrusted (default now)",
    )
    compromised.set_defaults(handler=_handler(_compromised))

    jwks = commands.add_parser("jwks", parents=[common], help="print the JWK Set of all published keys")
    jwks.add_argument("-o", "--output", metavar="FILE", type=Path, help="write to FILE instead of stdout")
    jwks.set_defaults(handler=_handler(_jwks))

    did = commands.add_parser("did", parents=[common], help="print the did:web DID document of all keys")
    did.add_argument(
        "--did",
        default=os.environ.get(ENV_ISSUER_DID),
        metavar="DID",
        help=f"the issuer's did:web DID, e.g. did:web:issuer.example (env {ENV_ISSUER_DID})",
    )
    did.add_argument("-o", "--output", metavar="FILE", type=Path, help="write to FILE instead of stdout")
    did.set_defaults(handler=_handler(_did))

    did_key = commands.add_parser("did-key", parents=[common], help="print the did:key DID of a key")
    did_key.add_argument(
        "kid",
        metavar="KID",
        nargs="?",
        help="the key (default: the active key); after '--' if it begins with '-'",
    )
    did_key.set_defaults(handler=_handler(_did_key))


def _handler(command: Handler) -> Handler:
    """A keys error becomes a usage error: one line on stderr and exit code 3, never a traceback."""

    def handle(args: argparse.Namespace) -> int:
        from keys import KeysError

        try:
            return command(args)
        except KeysError as e:
            raise UsageError(str(e)) from e

    return handle


def _new(args: argparse.Namespace) -> int:
    store = open_keystore(args)
    record = store.generate(args.alg)
    print(f"created active {record.alg.value} key {record.kid} in {store.path}", file=sys.stderr)
    print(record.kid)
    return EXIT_OK


def _list(args: argparse.Namespace) -> int:
    from keys import format_date_time_stamp

    store = open_keystore(args)
    records = store.records()
    if args.json:
        write_output(None, _json([_record_json(record) for record in records]))
        return EXIT_OK
    if not records:
        print(f"no keys in {store.path}", file=sys.stderr)
        return EXIT_OK
    rows: list[tuple[str, ...]] = [("KID", "ALG", "STATE", "CREATED", "RETIRED", "COMPROMISED")]
    for record in records:
        times = (record.created, record.retired_at, record.compromised_at)
        shown = ["-" if moment is None else format_date_time_stamp(moment) for moment in times]
        rows.append((record.kid, record.alg.value, record.state.value, *shown))
    widths = [max(len(row[column]) for row in rows) for column in range(len(rows[0]))]
    for row in rows:
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip())
    return EXIT_OK


def _rotate(args: argparse.Namespace) -> int:
    store = open_keystore(args)
    old = store.active()
    new = store.rotate(args.alg)
    print(f"retired {old.kid}; new active {new.alg.value} key {new.kid}", file=sys.stderr)
    print(new.kid)
    return EXIT_OK


def _compromised(args: argparse.Namespace) -> int:
    from keys import KeyState, format_date_time_stamp

    at = parse_time(args.at) if args.at is not None else datetime.now(UTC)
    store = open_keystore(args)
    was_active = store.record(args.kid).state is KeyState.ACTIVE
    record = store.mark_compromised(args.kid, at=at)
    print(f"key {record.kid} marked compromised as of {format_date_time_stamp(at)}")
    print("republish the JWKS and DID document so that verifiers learn of it", file=sys.stderr)
    if was_active:
        print("there is no active key now: create one with `aigov keys new`", file=sys.stderr)
    return EXIT_OK


def _jwks(args: argparse.Namespace) -> int:
    from keys import jwks

    write_output(args.output, _json(jwks(open_keystore(args).published_keys())))
    return EXIT_OK


def _did(args: argparse.Namespace) -> int:
    from keys import did_web_document, did_web_url

    if not args.did:
        raise UsageError(f"name the issuer with --did (or {ENV_ISSUER_DID}), e.g. did:web:issuer.example")
    document = did_web_document(args.did, open_keystore(args).published_keys())
    write_output(args.output, _json(document))
    print(f"serve it at {did_web_url(args.did)}", file=sys.stderr)
    return EXIT_OK


def _did_key(args: argparse.Namespace) -> int:
    from keys import did_key

    store = open_keystore(args)
    record = store.active() if args.kid is None else store.record(args.kid)
    print(did_key(record.public_key))
    return EXIT_OK


def _record_json(record: KeyRecord) -> dict[str, Any]:
    from keys import format_date_time_stamp

    def stamp(moment: datetime | None) -> str | None:
        return None if moment is None else format_date_time_stamp(moment)

    return {
        "kid": record.kid,
        "alg": record.alg.value,
        "state": record.state.value,
        "created": stamp(record.created),
        "retired_at": stamp(record.retired_at),
        "compromised_at": stamp(record.compromised_at),
    }


def _json(document: object) -> str:
    return json.dumps(document, indent=2, ensure_ascii=False)
