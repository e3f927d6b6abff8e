"""`aigov verify`: check a credential offline against pinned keys and status snapshots, and explain it.

Imports only the verifier (no web framework, no ORM): procurement teams run this on laptops.
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import timedelta
from pathlib import Path
from typing import Any

from aigov.cli import EXIT_INDETERMINATE, EXIT_INVALID, EXIT_OK, UsageError
from aigov.commands._common import parse_time, read_input
from aigov.commands._online_options import add_online_options, run_online
from aigov.commands.bundle import add_verify_options, run_with_bundle


def register(subparsers: Any) -> None:
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "verify",
        help="verify a credential (vc+jwt) offline and explain every check",
        description="Verify a credential offline. Exit: 0 valid, 1 invalid, 2 indeterminate, 3 bad usage.",
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
        "--max-clock-skew", type=int, default=300, metavar="SECONDS", help="tolerated clock skew (300)"
    )
    parser.add_argument(
        "--allow-legacy", action="store_true", help="also accept VC 1.1 JWTs (reported as legacy)"
    )
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    add_online_options(
        parser, flag=True
    )  # --online --registry URL --scheme-owner ... (aigov.commands._online_options)
    add_verify_options(
        parser
    )  # --bundle --max-age --trust-list --scheme-owner-fingerprint (aigov.commands.bundle)
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from aigov.commands._badge_input import read_credential
    from verifier import TrustStore, TrustStoreError, Verdict, verify, with_badge_check

    if args.online:
        return run_online(args)
    if args.bundle or args.trust_list:
        return run_with_bundle(args)  # offline, through the scheme owner's trust list
    if args.trust is None:
        raise UsageError("--trust is required (or verify online: --online --registry URL)")
    token, badge = read_credential(read_input(args.file), args.file)  # a bare token, or a baked SVG/PNG badge
    try:
        trust = TrustStore.load(args.trust, args.status_list)
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
    if args.json:
        print(json.dumps(result.to_dict(), indent=2, ensure_ascii=False))
    else:
        print(result.render_text())
    return {Verdict.VALID: EXIT_OK, Verdict.INVALID: EXIT_INVALID}.get(result.verdict, EXIT_INDETERMINATE)
