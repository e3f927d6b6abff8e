"""`aigov verify-batch FILE`: verify a CSV or JSON Lines of vendor claims and write one report row per claim.

Each row names a credential id or URL, a compact JWS, or a badge (SVG/PNG) or token file (a relative path that
stays under FILE's folder), and optionally the vendor that claims it. Online (`--registry`) status lists are
fetched once each; offline (`--trust` and `--status-list`, or the scheme owner's `--bundle` or `--trust-list`)
only tokens and badges can be checked. A malformed row gives a row that says why; the batch never stops early.
The file is read as UTF-8 (with or without a BOM); any other encoding must be named with --encoding (cp932 for
Japanese Excel's "CSV"), never guessed. Exit: 0 all valid, 1 any invalid, 2 any indeterminate or unreadable
row, 3 bad usage.
"""

from __future__ import annotations

import argparse
import os
import re
import stat
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from aigov.cli import EXIT_INDETERMINATE, EXIT_INVALID, EXIT_OK, UsageError
from aigov.commands._common import MAX_INPUT_BYTES, parse_time, read_input, write_output
from aigov.commands._online_options import add_online_options, make_verifier
from aigov.commands.bundle import add_verify_options, offline_trust

if TYPE_CHECKING:
    from verifier import Claim, TrustStore

MAX_CLAIMS_FILE_BYTES = 256 * 1024 * 1024  # 100,000 claims of a few KB each
_PNG = b"\x89PNG\r\n\x1a\n"
_COMPACT_JWS = re.compile(rb"ey[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*")
_SHOWN = 120


def register(subparsers: Any) -> None:
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "verify-batch",
        help="verify many vendor claims (CSV or JSON Lines) and write a CSV, JSON and HTML report",
        description=__doc__,
    )
    parser.add_argument(
        "file", help="claims: CSV (columns claim[,vendor]) or JSON Lines; - for standard input"
    )
    parser.add_argument(
        "--format", choices=("auto", "csv", "jsonl"), default="auto", help="input format (auto)"
    )
    parser.add_argument(
        "--encoding",
        metavar="NAME",
        help="the claims file's encoding when it is not UTF-8, e.g. cp932 for Japanese Excel's 'CSV' (Shift_JIS) "
        "or cp1252 for Western Windows Excel; default: UTF-8 only, anything else is refused",
    )
    parser.add_argument(
        "-o", "--output", type=Path, metavar="BASE", help="write BASE.csv, BASE.json and BASE.html"
    )
    parser.add_argument("--json", action="store_true", help="print the JSON report (default: the CSV report)")
    parser.add_argument("--concurrency", type=int, default=8, help="claims verified at once (8)")
    parser.add_argument("--now", type=parse_time, help="verify as of this time (ISO 8601, default: now)")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar even on a terminal")
    parser.add_argument("--trust", type=Path, help="trust file: a DID document or {'issuers': [...]}")
    parser.add_argument(
        "--status-list",
        action="append",
        default=[],
        type=Path,
        metavar="FILE",
        help="offline: a signed status list credential (repeatable)",
    )
    add_online_options(parser)
    # --bundle --max-age --trust-list --scheme-owner-fingerprint, as `aigov verify` (aigov.commands.bundle)
    add_verify_options(parser)
    parser.set_defaults(handler=run)


def _claims(args: argparse.Namespace) -> list[Claim]:
    from verifier import Claim, decode_claims, read_claims

    if args.encoding is not None:
        try:
            decode_claims(b"", args.encoding)  # the name checked before a large file is read
        except ValueError as e:
            raise UsageError(f"--encoding: {e}") from e
    data = read_input(args.file, max_bytes=MAX_CLAIMS_FILE_BYTES)
    try:
        claims = read_claims(data, fmt=args.format, encoding=args.encoding)
    except ValueError as e:
        raise UsageError(f"{args.file}: {e}") from e
    base = Path(args.file).parent if args.file != "-" else Path()
    return [_with_badge(claim, base) if claim.error is None else claim for claim in claims] or [
        Claim("", line=0, error="the file holds no claims")
    ]


def _with_badge(claim: Claim, base: Path) -> Claim:
    """A row naming a file (not a JWS, id or URL) becomes the file's bytes (a badge, or a token file), named.

    The claims file may come from a vendor: a row may name only a regular file under the claims file's folder
    (symlinks resolved) that holds a badge or a compact JWS. Any other file's bytes would be sent on as the
    claim and echoed in the report (`/proc/self/environ`), so such a row is an error that never shows them.
    """
    from dataclasses import replace

    value = claim.claim
    if not isinstance(value, str) or value.startswith(("ey", "http://", "https://")) or _is_uuid(value):
        return claim
    if "://" in value:
        return claim  # another scheme: the verifier refuses it with its reason
    name = value if len(value) <= _SHOWN else value[:_SHOWN] + "…"
    if Path(value).is_absolute():
        return replace(
            claim,
            error=f"{name!r} is an absolute path: a badge or token file is named relative to the claims file",
        )
    missing = f"not a JWT, credential id or URL, and no badge file {name!r}"
    try:
        folder = os.path.realpath(base)
        path = os.path.realpath(os.path.join(folder, value))
    except ValueError:  # a NUL character (possible in JSON Lines): no file has that name
        return replace(claim, error=missing)
    if os.path.commonpath((folder, path)) != folder:
        return replace(
            claim,
            error=f"{name!r} leads outside the claims file's folder: a badge or token file must be in it or below",
        )
    try:
        # O_NONBLOCK: a FIFO opens at once (and is refused below) instead of waiting for a writer.
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except FileNotFoundError:
        return replace(claim, error=missing)
    except OSError as e:
        return replace(claim, error=f"cannot read badge file {name!r}: {e.strerror or e}")
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return replace(claim, error=f"{name!r} is not a regular file (a badge or token file)")
        with os.fdopen(fd, "rb", closefd=False) as f:
            data = f.read(MAX_INPUT_BYTES + 1)
    except OSError as e:
        return replace(claim, error=f"cannot read badge file {name!r}: {e.strerror or e}")
    finally:
        os.close(fd)
    if len(data) > MAX_INPUT_BYTES:
        return replace(claim, error=f"badge file {name!r} is larger than {MAX_INPUT_BYTES:,} bytes")
    # What verify_claim takes for a badge (extracted) or a JWS (verified), the JWS stricter; nothing else goes on.
    if not (data.startswith(_PNG) or b"<svg" in data[:4096] or _COMPACT_JWS.fullmatch(data.strip())):
        return replace(claim, error=f"file {name!r} is neither a badge (SVG or PNG) nor a compact JWS")
    return replace(claim, claim=data, source=value)


def _is_uuid(value: str) -> bool:
    import uuid

    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


def _through_trust_list(args: argparse.Namespace, now: datetime) -> TrustStore:
    """Offline through the scheme owner's trust chain, loaded as `aigov verify --bundle/--trust-list` does (the
    bundle's age on stderr): the bodies on its trust list are trusted, with the status lists it carries."""
    if args.registry:
        raise UsageError(
            "--bundle and --trust-list verify offline: drop --registry, or verify online with "
            "--registry and --scheme-owner alone"
        )
    if args.allow_origin or args.allow_insecure_loopback:
        raise UsageError("--allow-origin and --allow-insecure-loopback need --registry")
    return offline_trust(args, now)


class ProgressBar:
    """A one-line bar on a terminal's stderr, redrawn at most ten times a second."""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream
        self._last = 0.0

    def __call__(self, done: int, total: int) -> None:
        now = time.monotonic()
        if done < total and now - self._last < 0.1:
            return
        self._last = now
        width = 30
        filled = width * done // max(total, 1)
        self._stream.write(f"\r[{'#' * filled}{' ' * (width - filled)}] {done:,}/{total:,}")
        if done >= total:
            self._stream.write("\n")
        self._stream.flush()


def run(args: argparse.Namespace) -> int:
    from verifier import report_csv, report_html, report_json, summarize, verify_batch

    if not 1 <= args.concurrency <= 64:
        raise UsageError("--concurrency must be between 1 and 64")
    claims = _claims(args)
    now: datetime | None = args.now
    verifier: Any
    if args.bundle or args.trust_list:
        now = now or datetime.now(UTC)  # one time for the whole batch: the bundle's age is judged at it
        verifier = _through_trust_list(args, now)
    else:
        if args.scheme_owner_fingerprint and not args.registry:
            raise UsageError("--scheme-owner-fingerprint needs --bundle (offline) or --registry (online)")
        verifier = make_verifier(args)
    progress = ProgressBar(sys.stderr) if sys.stderr.isatty() and not args.no_progress else None
    try:
        rows = verify_batch(claims, verifier, concurrency=args.concurrency, progress=progress, now=now)
    finally:
        close = getattr(verifier, "close", None)
        if close is not None:
            close()
    counts = summarize(rows)
    if args.output:
        title = f"Certificate verification report: {Path(args.file).name}"
        for suffix, text in (
            # A BOM, as the registry's CSV export has: without it Excel reads UTF-8 as Shift_JIS in Japan.
            (".csv", "\ufeff" + report_csv(rows)),
            (".json", report_json(rows, details=True)),
            (".html", report_html(rows, title=title)),
        ):
            write_output(args.output.with_name(args.output.name + suffix), text.rstrip("\n"))
    else:
        print(report_json(rows) if args.json else report_csv(rows), end="" if not args.json else "\n")
    print(
        f"{counts['total']:,} claims: {counts['valid']:,} valid, {counts['invalid']:,} invalid, "
        f"{counts['indeterminate']:,} indeterminate, {counts['error']:,} unreadable",
        file=sys.stderr,
    )
    if counts["invalid"]:
        return EXIT_INVALID
    if counts["indeterminate"] or counts["error"]:
        return EXIT_INDETERMINATE
    return EXIT_OK
