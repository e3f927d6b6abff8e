"""`aigov bundle pull URL -o FILE`, and the offline trust of `aigov verify --bundle / --trust-list`.

A bundle is one file, signed by the scheme owner, holding the trust list, the certification bodies' DID
documents and every status list, with its time of issue: with it, `aigov verify --bundle FILE` needs no network.
The scheme owner is pinned with `--scheme-owner FILE` (its DID document or JWKS) or by its key's RFC 7638
thumbprint (`--scheme-owner-fingerprint`, or a thumbprint given to `--scheme-owner`); a thumbprint is matched
against the key the bundle carries, recomputed from the key itself.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from aigov.cli import EXIT_OK, UsageError
from aigov.commands._common import OptionValueError, report

if TYPE_CHECKING:
    from keys import PublishedKey
    from verifier import TrustStore

_DURATION = re.compile(r"(?P<number>[0-9]{1,9})(?P<unit>[smhd]?)")
_UNITS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}
# The longest duration an option takes: far beyond any policy, and far from `datetime`'s year 9999 when added to
# a time (a status list's validUntil, a bundle's age).
MAX_DURATION = timedelta(days=36_500)
# `bundle pull --timeout`: a positive, finite number of seconds; an hour is more than any bundle needs.
MAX_TIMEOUT_SECONDS = 3600.0


def parse_duration(text: str) -> timedelta:
    """`24h`, `90m`, `2d`, `3600s` or `3600` (seconds); positive and at most 36500d (100 years)."""
    match = _DURATION.fullmatch(text.strip())
    if match is None:
        raise OptionValueError(f"not a duration: {text!r} (e.g. 24h, 90m, 2d)")
    seconds = int(match["number"]) * _UNITS[match["unit"]]
    if seconds <= 0:
        raise OptionValueError(f"a duration must be positive, not {text!r}")
    if seconds > MAX_DURATION.total_seconds():
        raise OptionValueError(f"a duration must be at most {MAX_DURATION.days}d (100 years), not {text!r}")
    return timedelta(seconds=seconds)


def timeout_seconds(text: str) -> float:
    """An argparse `type=` for a time limit: NaN, a negative value or infinity would crash or hang the fetch."""
    try:
        seconds = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of seconds: {text!r}") from None
    if not 0 < seconds <= MAX_TIMEOUT_SECONDS:  # False for NaN too
        raise argparse.ArgumentTypeError(
            f"must be more than 0 and at most {MAX_TIMEOUT_SECONDS:g} seconds, not {text!r}"
        )
    return seconds


def register(subparsers: Any) -> None:
    bundle = subparsers.add_parser(
        "bundle",
        help="offline bundles: the trust list and every status list in one signed file",
        description=__doc__,
    )
    commands = bundle.add_subparsers(dest="bundle_command", required=True, metavar="COMMAND")
    pull = commands.add_parser("pull", help="download a registry's bundle (GET /api/v1/bundle) to a file")
    pull.add_argument("url", help="the bundle's URL, e.g. https://registry.example/api/v1/bundle")
    pull.add_argument("-o", "--output", required=True, type=Path, help="where to write it")
    add_owner_options(pull)
    pull.add_argument(
        "--timeout",
        type=timeout_seconds,
        default=30.0,
        metavar="SECONDS",
        help="total time limit (30, at most 3600)",
    )
    pull.add_argument(
        "--allow-insecure-loopback",
        action="store_true",
        help="development only: allow plain http to 127.0.0.1 / localhost",
    )
    pull.set_defaults(handler=run_pull)


def add_owner_options(parser: argparse.ArgumentParser) -> None:
    """--scheme-owner-fingerprint (and --scheme-owner where no other command defines it)."""
    if not any("--scheme-owner" in action.option_strings for action in parser._actions):
        parser.add_argument(
            "--scheme-owner",
            metavar="FILE|THUMBPRINT",
            help="pin the scheme owner: its DID document or JWKS file, or its key's RFC 7638 thumbprint",
        )
    parser.add_argument(
        "--scheme-owner-fingerprint",
        metavar="THUMBPRINT",
        help="pin the scheme owner by its key's RFC 7638 thumbprint (the key comes from the bundle)",
    )


def add_verify_options(parser: argparse.ArgumentParser) -> None:
    """The offline trust-chain options of `aigov verify`."""
    parser.add_argument(
        "--bundle",
        type=Path,
        metavar="FILE",
        help="offline bundle (aigov bundle pull): trust list + status lists",
    )
    parser.add_argument(
        "--max-age",
        type=parse_duration,
        metavar="DURATION",
        help="oldest acceptable bundle (default 24h) or --status-list file (default: no limit beyond the "
        "list's own validUntil, three days for a registry's), from when it was signed; older gives "
        "'indeterminate' status",
    )
    parser.add_argument(
        "--trust-list", type=Path, metavar="FILE", help="a trust list credential signed by the scheme owner"
    )
    add_owner_options(parser)


# -- pinning the scheme owner --------------------------------------------------------------------------------


def _fingerprint(args: argparse.Namespace) -> str | None:
    if args.scheme_owner_fingerprint:
        return str(args.scheme_owner_fingerprint).strip()
    owner = getattr(args, "scheme_owner", None)
    if owner and not Path(owner).exists():
        return str(owner).strip()
    return None


def _unverified_payload(token: bytes) -> dict[str, Any]:
    from verifier import MAX_BUNDLE_TOKEN_BYTES, JwsError, parse_compact

    try:
        return parse_compact(token, max_bytes=MAX_BUNDLE_TOKEN_BYTES).payload
    except JwsError as e:
        raise UsageError(f"not a signed bundle: {e}") from e


def owner_pin(args: argparse.Namespace, bundle: bytes | None) -> tuple[str, list[PublishedKey]] | None:
    """(DID, keys) of the scheme owner from the options; None when none is given."""
    from keys import KeysError, PublicKey, PublishedKey, parse_did_document, parse_jwks
    from verifier import TrustStoreError, owner_keys_by_fingerprint, read_json_file

    fingerprint = _fingerprint(args)
    owner = getattr(args, "scheme_owner", None)
    if fingerprint is not None:
        if bundle is None:
            raise UsageError(
                "a fingerprint pins a key but does not carry it: give --scheme-owner FILE, or a --bundle"
            )
        subject = _unverified_payload(bundle).get("credentialSubject")
        document = subject.get("schemeOwner") if isinstance(subject, dict) else None
        try:
            return owner_keys_by_fingerprint(document, fingerprint)
        except ValueError as e:
            raise UsageError(f"scheme owner: {e}") from e
    if not owner:
        return None
    try:
        document = read_json_file(Path(owner))
    except TrustStoreError as e:
        raise UsageError(str(e)) from e
    try:
        if isinstance(document, dict) and isinstance(document.get("keys"), list):
            keys = parse_jwks(document)
        elif isinstance(document, dict) and "kty" in document:
            keys = [PublishedKey(PublicKey.from_jwk(document))]
        elif isinstance(document, dict) and isinstance(document.get("id"), str):
            return document["id"], parse_did_document(document, expected_did=document["id"])
        else:
            raise UsageError(f"{owner}: not a DID document, a JWKS or a JWK")
    except KeysError as e:
        raise UsageError(f"{owner}: {e}") from e
    # A JWKS or JWK names no DID: the DID is the bundle's or trust list's issuer, checked against the key.
    return "", keys


def bundle_max_age(args: argparse.Namespace) -> timedelta:
    """--max-age for a bundle: 24 h unless given. A bundle is signed when it is pulled, so its age is how long
    ago the registry vouched for every list in it."""
    from verifier import DEFAULT_BUNDLE_MAX_AGE

    max_age: timedelta | None = args.max_age
    return DEFAULT_BUNDLE_MAX_AGE if max_age is None else max_age


def _read_capped(path: Path, what: str) -> bytes:
    from verifier import MAX_BUNDLE_TOKEN_BYTES

    try:
        with path.open("rb") as f:
            data = f.read(MAX_BUNDLE_TOKEN_BYTES + 1)
    except OSError as e:
        raise UsageError(f"cannot read {what} {path}: {e.strerror or e}") from e
    if len(data) > MAX_BUNDLE_TOKEN_BYTES:
        raise UsageError(f"{what} {path} is larger than {MAX_BUNDLE_TOKEN_BYTES:,} bytes")
    return data


def offline_trust(args: argparse.Namespace, now: datetime) -> TrustStore:
    """The TrustStore of `aigov verify --bundle/--trust-list`: the pinned owner, then what it vouches for."""
    from verifier import TrustStore, TrustStoreError, Verdict, read_json_file

    bundle = _read_capped(args.bundle, "bundle") if args.bundle else None
    pinned = owner_pin(args, bundle)
    if pinned is None:
        raise UsageError(
            "--bundle and --trust-list need the scheme owner: --scheme-owner FILE or a fingerprint"
        )
    did, keys = pinned
    trust = TrustStore()
    trust.pin_scheme_owner(did or _owner_did(bundle, args), keys)
    if args.trust:
        try:
            trust.add_trust_document(read_json_file(args.trust), source=str(args.trust))
        except TrustStoreError as e:
            raise UsageError(str(e)) from e
    if args.trust_list:
        listed = trust.add_trust_list(_read_capped(args.trust_list, "trust list"))
        if listed.verdict is not Verdict.VALID:
            raise UsageError(f"trust list {args.trust_list}: {listed.summary}")
    if bundle is not None:
        loaded = trust.add_bundle(bundle, now=now, max_age=bundle_max_age(args))
        if loaded.verdict is not Verdict.VALID or loaded.issued is None:
            raise UsageError(f"bundle {args.bundle}: {loaded.summary}")
        note = f"bundle of {_fmt(loaded.issued)}, {_age(loaded.age)} old (max-age {_exact(bundle_max_age(args))})"
        if loaded.stale:
            note += ": too old, status checks will be indeterminate (aigov bundle pull for a fresh one)"
        print(note, file=sys.stderr)
        if loaded.trust_list_result is not None and loaded.trust_list_result.verdict is not Verdict.VALID:
            print(f"warning: the bundle's trust list: {loaded.trust_list_result.summary}", file=sys.stderr)
    for path in args.status_list:
        trust.add_status_list(_read_capped(path, "status list"), max_age=args.max_age)
    for snapshot in trust.status_snapshots:
        if snapshot.bits is None:
            print(
                f"warning: status list {snapshot.url} unusable: {snapshot.result.problems[0].detail}",
                file=sys.stderr,
            )
    return trust


def _owner_did(bundle: bytes | None, args: argparse.Namespace) -> str:
    """With a bare key (JWKS/JWK), the owner's DID is the signed document's issuer (the signature binds it)."""
    token = bundle if bundle is not None else _read_capped(args.trust_list, "trust list")
    issuer = _unverified_payload(token).get("issuer")
    if not isinstance(issuer, str):
        raise UsageError("the bundle or trust list names no issuer")
    return issuer


def run_with_bundle(args: argparse.Namespace) -> int:
    """`aigov verify FILE --bundle B | --trust-list T`: verify offline through the scheme owner's trust chain."""
    from aigov.commands._badge_input import read_credential
    from aigov.commands._common import read_input
    from verifier import verify, with_badge_check

    now = args.now or datetime.now(UTC)
    token, badge = read_credential(read_input(args.file), args.file)
    trust = offline_trust(args, now)
    result = verify(
        token,
        trust,
        now=now,
        max_clock_skew=timedelta(seconds=args.max_clock_skew),
        allow_legacy=args.allow_legacy,
    )
    extra = {}
    if trust.bundle is not None and trust.bundle.issued is not None:
        extra["bundle"] = {
            "issued": _fmt(trust.bundle.issued),
            "ageSeconds": int((now - trust.bundle.issued).total_seconds()),
            "maxAgeSeconds": int(bundle_max_age(args).total_seconds()),
        }
    return report(with_badge_check(result, badge), as_json=args.json, extra=extra)


# -- aigov bundle pull --------------------------------------------------------------------------------------------


def run_pull(args: argparse.Namespace) -> int:
    """Download through the verifier's guarded fetcher (https only, byte cap, timeouts, checked redirects)."""
    try:
        from verifier import Fetcher, FetchError, origin_of
    except ImportError as e:  # the light install has no httpx
        raise UsageError(f"bundle pull needs the online extra (httpx): {e}") from e
    from aigov.commands._online_options import check_plain_http
    from verifier import MAX_BUNDLE_TOKEN_BYTES, Verdict, verify_bundle

    check_plain_http(args.url, allow_insecure_loopback=args.allow_insecure_loopback, option="bundle pull")
    try:
        origin = origin_of(args.url)
    except ValueError as e:
        raise UsageError(f"not a usable URL: {args.url!r}") from e
    fetcher = Fetcher(
        [origin],
        allow_insecure_loopback=args.allow_insecure_loopback,
        total_timeout=args.timeout,
        read_timeout=min(args.timeout, 30.0),
        max_bytes=MAX_BUNDLE_TOKEN_BYTES,
    )
    try:
        fetched = fetcher.get(args.url, accept=["application/vc+jwt"])
    except FetchError as e:
        raise UsageError(str(e)) from e
    finally:
        fetcher.close()
    body = fetched.body
    payload = _unverified_payload(body)
    pinned = owner_pin(args, body)
    now = datetime.now(UTC)
    if pinned is not None:
        did, keys = pinned
        checked = verify_bundle(body, keys, owner_did=did or None, now=now)
        if checked.verdict is not Verdict.VALID:
            raise UsageError(f"the bundle did not verify, not written: {checked.summary}")
        state = "verified"
    else:
        state = "not verified (no --scheme-owner given; aigov verify --bundle checks it)"
    _write_atomically(args.output, body)
    subject = payload.get("credentialSubject") if isinstance(payload.get("credentialSubject"), dict) else {}
    lists = subject.get("statusLists") if isinstance(subject, dict) else None
    print(
        f"bundle of {subject.get('issued') if isinstance(subject, dict) else '?'} with "
        f"{len(lists) if isinstance(lists, list) else '?'} status lists, {len(body):,} bytes, {state}",
        file=sys.stderr,
    )
    print(args.output)
    return EXIT_OK


def _write_atomically(path: Path, data: bytes) -> None:
    """Write `data` to a temporary file beside `path`, then rename it: `path` is the old bundle or the new one,
    and a failed write (a full disk) leaves neither half a bundle nor the temporary file."""
    temporary: str | None = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        Path(temporary).replace(path)
    except OSError as e:
        if temporary is not None:
            Path(temporary).unlink(missing_ok=True)
        raise UsageError(f"cannot write {path}: {e.strerror or e}") from e


def _fmt(moment: datetime) -> str:
    from keys import format_date_time_stamp

    return format_date_time_stamp(moment.replace(microsecond=0))


def _age(delta: timedelta | None) -> str:
    from verifier import describe_duration

    return describe_duration(delta or timedelta(0), units=2)


def _exact(delta: timedelta) -> str:
    from verifier import describe_duration

    return describe_duration(delta)
