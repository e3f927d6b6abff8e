"""`aigov issue` and `aigov status-list`: sign certificates and status lists without a registry.

For trials and offline use. Standalone issuance picks random status indices without remembering them; the
registry (which keeps an allocation table) is the way to issue for real.
"""

from __future__ import annotations

import argparse
import json
from datetime import timedelta
from pathlib import Path
from typing import Any

from aigov.cli import EXIT_OK, UsageError
from aigov.commands._common import add_issuer_options, bounded_seconds, open_issuer, read_input, write_output
from aigov.commands.bundle import MAX_DURATION, parse_duration

DEFAULT_LIST_SIZE = 131_072


def register(subparsers: Any) -> None:
    issue = subparsers.add_parser(
        "issue",
        help="sign a certificate from a certification decision (JSON)",
        description="Build the AI governance certificate for a decision, sign it (vc+jwt) and check it.",
    )
    issue.add_argument("decision", help="certification decision JSON file, or - for standard input")
    issue.add_argument("-o", "--output", type=Path, help="write the token here (default: print it)")
    issue.add_argument("--json", action="store_true", help="print the credential (not the token) as JSON too")
    add_issuer_options(issue)
    issue.set_defaults(handler=run_issue)

    status = subparsers.add_parser(
        "status-list",
        help="sign a Bitstring status list credential (for offline verification)",
        description="Sign a BitstringStatusListCredential with the given indices set.",
    )
    status.add_argument("--purpose", choices=["revocation", "suspension"], required=True)
    status.add_argument("--url", help="the list's URL (default: REGISTRY/status/1 or /status/2 by purpose)")
    status.add_argument(
        "--set", type=int, action="append", default=[], metavar="INDEX", help="an index to set"
    )
    status.add_argument("--size", type=int, default=DEFAULT_LIST_SIZE, help="entries (at least 131072)")
    status.add_argument(
        "--ttl",
        type=bounded_seconds(int(MAX_DURATION.total_seconds()), "100 years"),
        default=300,
        metavar="SECONDS",
        help="cache lifetime (300)",
    )
    status.add_argument(
        "--valid-for",
        type=parse_duration,
        default=timedelta(days=3),
        metavar="DURATION",
        help="how long a copy may be relied on: its validUntil (default 3d, as a registry signs; sign it "
        "again before then, or a verifier says the status is unknown)",
    )
    status.add_argument("-o", "--output", type=Path, help="write the token here (default: print it)")
    add_issuer_options(status)
    status.set_defaults(handler=run_status_list)


def default_list_url(registry: str, purpose: str) -> str:
    """Standalone issuance uses list 1 for revocation and list 2 for suspension."""
    return f"{registry.rstrip('/')}/status/{1 if purpose == 'revocation' else 2}"


def run_issue(args: argparse.Namespace) -> int:
    from issuer import IssuerError, parse_decision, random_slot
    from keys import KeysError

    try:
        decision = parse_decision(json.loads(read_input(args.decision)))
    except ValueError as e:
        raise UsageError(f"{args.decision}: not valid JSON: {e}") from e
    except IssuerError as e:  # checked before the keystore is opened: a bad file fails fast
        raise UsageError(f"{args.decision}: {e}") from e
    try:
        issuer = open_issuer(args)
        issued = issuer.issue(
            decision,
            revocation=random_slot(default_list_url(args.registry, "revocation"), DEFAULT_LIST_SIZE),
            suspension=random_slot(default_list_url(args.registry, "suspension"), DEFAULT_LIST_SIZE),
        )
    except (IssuerError, KeysError) as e:
        raise UsageError(str(e)) from e
    write_output(args.output, issued.token)
    if args.json:
        print(json.dumps(issued.credential, indent=2, ensure_ascii=False))
    return EXIT_OK


def run_status_list(args: argparse.Namespace) -> int:
    from issuer import IssuerError
    from keys import KeysError
    from verifier import MAX_DECODED_BYTES, Bitstring, StatusListError

    if args.size > MAX_DECODED_BYTES * 8:
        raise UsageError(
            f"--size {args.size:,}: at most {MAX_DECODED_BYTES * 8:,} entries, the largest list a verifier reads"
        )
    try:
        bits = Bitstring(args.size)
        for index in args.set:
            bits.set(index, True)
        issuer = open_issuer(args)
        token = issuer.sign_status_list(
            list_url=args.url or default_list_url(args.registry, args.purpose),
            purpose=args.purpose,
            bits=bits,
            ttl=timedelta(seconds=args.ttl),
            valid_for=args.valid_for,
        )
    except (IssuerError, KeysError, StatusListError) as e:
        raise UsageError(str(e)) from e
    write_output(args.output, token)
    return EXIT_OK
