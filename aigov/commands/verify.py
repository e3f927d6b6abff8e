"""`aigov verify`: check a credential or a baked badge, and explain every check: offline against pinned keys
and status snapshots (`--trust`), through the scheme owner's trust list or a bundle (`--bundle`,
`--trust-list`), or online against a registry (`--online`).

Imports only the verifier (no web framework, no ORM): procurement teams run this on laptops.
"""

from __future__ import annotations

import argparse
import sys
from datetime import timedelta
from pathlib import Path
from typing import Any

from aigov.cli import UsageError
from aigov.commands._common import bounded_seconds, parse_time, read_input, report
from aigov.commands._online_options import add_online_options, run_online
from aigov.commands.bundle import add_verify_options, run_with_bundle

MAX_CLOCK_SKEW_SECONDS = 7 * 86_400


def register(subparsers: Any) -> None:
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "verify",
        help="verify a credential (vc+jwt) or a badge and explain every check",
        description="Verify a credential or a baked badge: offline (--trust, --bundle) or online (--online). "
        "Exit: 0 valid, 1 invalid, 2 indeterminate, 3 bad usage.",
    )
    parser.add_argument(
        "file", help="the credential: a compact JWS or a baked badge (SVG/PNG) file, or - for standard input"
    )
    parser.add_argument(
        "--trust", type=Path, help="trust file: a DID document or {'issuers': [...]} (required offline)"
    )
    parser.add_argument(
        "--status-list",
        action="append",
        default=[],
        type=Path,
        metavar="FILE",
        help="a signed status list credential to check status against (repeatable)",
    )
    parser.add_argument("--now", type=parse_time, help="verify as of this time (ISO 8601, default: now)")
    parser.add_argument(
        "--max-clock-skew",
        # A clock is minutes off, or a time zone off: a week is generous, and keeps `now ± skew` in the calendar.
        type=bounded_seconds(MAX_CLOCK_SKEW_SECONDS, "7 days"),
        default=300,
        metavar="SECONDS",
        help="tolerated clock skew (300, at most 604800: 7 days)",
    )
    parser.add_argument(
        "--allow-legacy", action="store_true", help="also accept VC 1.1 JWTs (reported as legacy)"
    )
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    # --online --registry URL --scheme-owner ... (aigov.commands._online_options)
    add_online_options(parser, flag=True)
    # --bundle --max-age --trust-list --scheme-owner-fingerprint (aigov.commands.bundle)
    add_verify_options(parser)
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from aigov.commands._badge_input import read_credential
    from verifier import TrustStore, TrustStoreError, verify, with_badge_check

    if args.online:
        if args.bundle or args.trust_list:  # never quietly ignored: the user would think they were used
            raise UsageError(
                "--bundle and --trust-list verify offline: drop --online, or verify online with "
                "--registry and --scheme-owner alone"
            )
        return run_online(args)
    if args.bundle or args.trust_list:
        return run_with_bundle(args)  # offline, through the scheme owner's trust list
    if args.trust is None:
        raise UsageError(
            "name what you trust: --trust FILE (the issuer's DID document), --bundle FILE or --trust-list FILE "
            "with --scheme-owner, or verify online: --online --registry URL"
        )
    token, badge = read_credential(read_input(args.file), args.file)  # a bare token, or a baked SVG/PNG badge
    try:
        trust = TrustStore.load(args.trust, args.status_list, status_max_age=args.max_age)
    except TrustStoreError as e:
        raise UsageError(str(e)) from e
    for snapshot in trust.status_snapshots:
        if snapshot.bits is None:
            print(
                f"warning: status list {snapshot.url} unusable: {snapshot.result.problems[0].detail}",
                file=sys.stderr,
            )
    result = verify(
        token,
        trust,
        now=args.now,
        max_clock_skew=timedelta(seconds=args.max_clock_skew),
        allow_legacy=args.allow_legacy,
    )
    result = with_badge_check(result, badge)  # adds the `badge` check: does the picture match the credential?
    return report(result, as_json=args.json)
