"""Online verification options shared by `aigov verify --online` and `aigov verify-batch`.

httpx is imported only when a verifier is built for `--registry`: `aigov verify` offline and `--help` never
load it.
"""

from __future__ import annotations

import argparse
import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

from aigov.cli import UsageError
from aigov.commands._common import read_input, report


def add_online_options(parser: argparse.ArgumentParser, *, flag: bool = False) -> None:
    """--registry, --scheme-owner, --allow-origin, --allow-insecure-loopback (and --online with `flag`)."""
    if flag:
        parser.add_argument(
            "--online",
            action="store_true",
            help="fetch status lists (and the trust list) from --registry; FILE may then be a credential id or URL",
        )
    parser.add_argument("--registry", metavar="URL", help="online: the registry to fetch status lists from")
    parser.add_argument(
        "--scheme-owner",
        metavar="FILE|THUMBPRINT",
        help="online: pin the scheme owner (its DID document file, or its key's RFC 7638 thumbprint) and "
        "trust the certification bodies on the registry's trust list",
    )
    parser.add_argument(
        "--allow-origin",
        action="append",
        default=[],
        metavar="URL",
        help="online: another origin status lists may be fetched from (repeatable)",
    )
    parser.add_argument(
        "--allow-insecure-loopback",
        action="store_true",
        help="online, development only: allow plain http to 127.0.0.1 / localhost",
    )


def check_plain_http(url: str, *, allow_insecure_loopback: bool, option: str) -> None:
    """A plain-http URL is bad usage (exit 3) unless it is loopback and --allow-insecure-loopback is given:
    the fetcher would refuse every request, and ten skipped checks would hide the reason."""
    from urllib.parse import urlsplit

    from verifier import is_loopback_host

    try:
        parts = urlsplit(url.strip())
        host = (parts.hostname or "").lower()
    except ValueError:
        return  # unparsable: the fetcher says why
    if parts.scheme.lower() != "http":
        return
    if not is_loopback_host(host):
        raise UsageError(
            f"{option} {url}: only https is fetched; use https (plain http is allowed only to a local "
            "development registry on 127.0.0.1 or localhost, with --allow-insecure-loopback)"
        )
    if not allow_insecure_loopback:
        raise UsageError(
            f"{option} {url}: only https is fetched; use https or, for a local development registry, "
            "add --allow-insecure-loopback"
        )


def make_verifier(args: argparse.Namespace, **options: Any) -> Any:
    """An OnlineVerifier with --registry, else the TrustStore for offline verification."""
    from verifier import TrustStore, TrustStoreError, read_json_file

    if args.status_list and not args.trust:
        raise UsageError(
            "--status-list needs --trust: a status list is verified with its issuer's pinned keys"
        )
    try:
        max_age = getattr(args, "max_age", None)
        trust = (
            TrustStore.load(args.trust, args.status_list, status_max_age=max_age)
            if args.trust
            else TrustStore()
        )
    except TrustStoreError as e:
        raise UsageError(str(e)) from e
    if not args.registry:
        if args.scheme_owner or args.allow_origin or args.allow_insecure_loopback:
            raise UsageError("--scheme-owner, --allow-origin and --allow-insecure-loopback need --registry")
        if not args.trust:
            raise UsageError("name what you trust: --trust FILE (offline), or --registry URL (online)")
        return trust
    # `aigov verify` also has --scheme-owner-fingerprint (for bundles); online it means the same as a thumbprint.
    pinned = args.scheme_owner or getattr(args, "scheme_owner_fingerprint", None)
    if not args.trust and not pinned:
        raise UsageError("online verification needs --scheme-owner or --trust")
    owner: Any = None
    if pinned:
        path = Path(pinned)
        if path.is_file():
            try:
                owner = read_json_file(path)
            except TrustStoreError as e:
                raise UsageError(str(e)) from e
        else:
            owner = pinned.strip()
    from verifier import OnlineVerifier

    check_plain_http(args.registry, allow_insecure_loopback=args.allow_insecure_loopback, option="--registry")
    try:
        return OnlineVerifier(
            args.registry,
            trust=trust,
            scheme_owner=owner,
            allowed_origins=args.allow_origin,
            allow_insecure_loopback=args.allow_insecure_loopback,
            **options,
        )
    except ValueError as e:  # a URL that does not parse (verifier.FetchError, a ValueError too)
        origins = args.allow_origin or []
        option = "--allow-origin" if getattr(e, "url", None) in origins else "--registry"
        raise UsageError(f"{option}: {e}") from e


def looks_like_reference(name: str) -> bool:
    """A credential id (UUID) or an http(s) URL rather than a file name."""
    if name.startswith(("https://", "http://")):
        return True
    try:
        uuid.UUID(name)
    except ValueError:
        return False
    return not Path(name).exists()


def run_online(args: argparse.Namespace) -> int:
    """`aigov verify --online`: one credential (file, badge, id or URL), status fetched from the registry."""
    from aigov.commands._badge_input import read_credential
    from verifier import OnlineVerifier, with_badge_check

    if not args.registry:
        raise UsageError("--online needs --registry URL")
    verifier = make_verifier(
        args, max_clock_skew=timedelta(seconds=args.max_clock_skew), allow_legacy=args.allow_legacy
    )
    assert isinstance(verifier, OnlineVerifier)  # noqa: S101 - make_verifier returns one with --registry
    badge = None
    claim: str | bytes
    if looks_like_reference(args.file):
        claim = args.file
    else:
        claim, badge = read_credential(read_input(args.file), args.file)
    with verifier:
        result = verifier.verify(claim, now=args.now)
    return report(with_badge_check(result, badge), as_json=args.json)
