"""Helpers shared by subcommands: inputs read with caps, times, the keystore and issuer options, and how a
verification result is printed and turned into the exit code."""

from __future__ import annotations

import argparse
import getpass
import json
import os
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from aigov.cli import EXIT_INDETERMINATE, EXIT_INVALID, EXIT_OK, UsageError

if TYPE_CHECKING:
    from issuer import Issuer
    from keys import Keystore
    from verifier import VerificationResult

# Larger than any credential or badge we accept; the verifier applies its own, tighter, caps.
MAX_INPUT_BYTES = 8 * 1024 * 1024
# The times an option may name: NumericDates (RFC 7519 §2) start at the epoch, and `datetime` ends with 9999.
EARLIEST_TIME = datetime(1970, 1, 1, tzinfo=UTC)
LATEST_TIME = datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC)


class OptionValueError(UsageError, argparse.ArgumentTypeError):
    """A bad option value: as an argparse `type=` the message names the option (`argument --now: …`); called
    directly it is a UsageError like any other (exit 3)."""


def read_input(name: str, *, max_bytes: int = MAX_INPUT_BYTES) -> bytes:
    """The bytes of a file, or of standard input for '-', refusing oversized input before reading it all."""
    try:
        if name == "-":
            data = sys.stdin.buffer.read(max_bytes + 1)
        else:
            with Path(name).open("rb") as f:
                data = f.read(max_bytes + 1)
    except OSError as e:
        raise UsageError(f"cannot read {name}: {e.strerror or e}") from e
    if len(data) > max_bytes:
        raise UsageError(f"{name} is larger than {max_bytes:,} bytes; refusing to read it")
    return data


def parse_time(text: str) -> datetime:
    """An ISO 8601 time for a command-line option, with its time zone (`Z` or an offset).

    A time without a zone is refused rather than guessed: in Tokyo "09:00" taken as UTC is nine hours off, and
    a verdict as of the wrong time is a wrong verdict.
    """
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise OptionValueError(f"not an ISO 8601 time: {text!r} (e.g. 2026-11-26T09:00:00Z)") from None
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise OptionValueError(
            f"{text!r} has no time zone: add Z for UTC or an offset (e.g. {text}Z or {text}+09:00)"
        )
    try:
        utc = moment.astimezone(UTC)
    except OverflowError:  # 0001-01-01T00:00:00+09:00 is in year 0 in UTC
        utc = None
    if utc is None or not EARLIEST_TIME <= utc <= LATEST_TIME:
        raise OptionValueError(
            f"{text!r} is out of range: give a time from 1970-01-01T00:00:00Z to 9999-12-31T23:59:59Z"
        )
    return utc


def non_negative_seconds(text: str) -> int:
    """A whole number of seconds, zero or more (argparse `type=`: the error names the option)."""
    try:
        seconds = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number of seconds: {text!r}") from None
    if seconds < 0:
        raise argparse.ArgumentTypeError(f"must not be negative, not {seconds}")
    return seconds


def bounded_seconds(maximum: int, meaning: str) -> Callable[[str], int]:
    """An argparse `type=`: whole seconds from zero to `maximum` (`meaning` says it in words, e.g. "7 days"),
    so that no value overflows the timedelta or datetime it becomes."""

    def parse(text: str) -> int:
        seconds = non_negative_seconds(text)
        if seconds > maximum:
            raise argparse.ArgumentTypeError(f"at most {maximum:,} seconds ({meaning}), not {seconds:,}")
        return seconds

    return parse


def add_issuer_options(parser: argparse.ArgumentParser) -> None:
    """Who signs: the certification body's DID, names, registry and keystore."""
    env = os.environ.get
    parser.add_argument("--did", default=env("AIGOV_ISSUER_DID"), help="issuer DID (env AIGOV_ISSUER_DID)")
    parser.add_argument(
        "--name", default=env("AIGOV_ISSUER_NAME"), help="issuer name in English (env AIGOV_ISSUER_NAME)"
    )
    parser.add_argument("--name-ja", default=env("AIGOV_ISSUER_NAME_JA"), help="issuer name in Japanese")
    parser.add_argument(
        "--registry",
        default=env("AIGOV_PUBLIC_URL", "https://registry.aigov.example"),
        help="registry base URL used in credential ids, contexts and status lists (env AIGOV_PUBLIC_URL)",
    )
    parser.add_argument("--scheme", type=Path, help="scheme file (default: the bundled EXAMPLE scheme)")
    add_keystore_options(parser)


def add_keystore_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--keystore",
        type=Path,
        default=Path(os.environ.get("AIGOV_KEYSTORE", "var/keys")),
        help="keystore directory (env AIGOV_KEYSTORE, default ./var/keys)",
    )
    parser.add_argument(
        "--insecure-plaintext-keys",
        action="store_true",
        help="store private keys UNENCRYPTED (throwaway test keys only)",
    )


def keystore_passphrase(args: argparse.Namespace) -> bytes | None:
    """From AIGOV_KEY_PASSPHRASE, else a prompt on a terminal; none only with --insecure-plaintext-keys."""
    if args.insecure_plaintext_keys:
        return None
    # The passphrase is text and the keys are encrypted under its UTF-8 bytes, so the same characters open the
    # keystore from any locale, terminal, or the registry's settings. Bytes that are not UTF-8 are refused rather
    # than used raw: keys encrypted under them would open only for a program handed the very same bytes, which a
    # prompt or a settings file in another encoding would not be.
    not_utf8 = "is not valid UTF-8: the keystore passphrase must be UTF-8 text"
    passphrase = os.environ.get("AIGOV_KEY_PASSPHRASE")
    source = "AIGOV_KEY_PASSPHRASE"
    if passphrase is None:
        if not sys.stdin.isatty():
            raise UsageError(
                "set AIGOV_KEY_PASSPHRASE: the keystore is encrypted and there is no terminal to ask on"
            )
        try:
            passphrase = getpass.getpass("keystore passphrase: ")
        except UnicodeDecodeError:  # bytes the terminal's encoding cannot decode
            raise UsageError(f"the passphrase typed {not_utf8}") from None
        source = "the passphrase typed"
    try:
        return passphrase.encode("utf-8")
    except UnicodeEncodeError:  # undecodable bytes, which Python passes on as lone surrogates
        raise UsageError(f"{source} {not_utf8}") from None


def open_keystore(args: argparse.Namespace) -> Keystore:
    from keys import Keystore

    return Keystore(
        args.keystore, passphrase=keystore_passphrase(args), allow_plaintext_keys=args.insecure_plaintext_keys
    )


def open_issuer(args: argparse.Namespace) -> Issuer:
    """An Issuer for the body named by the options, signing with the keystore's active key."""
    from issuer import Issuer, IssuerIdentity, load_scheme

    if not args.did or not args.name:
        raise UsageError("--did and --name (or AIGOV_ISSUER_DID and AIGOV_ISSUER_NAME) name the issuer")
    keystore = open_keystore(args)
    return Issuer(
        identity=IssuerIdentity(did=args.did, name_en=args.name, name_ja=args.name_ja),
        signing_key=keystore.signing_key(),
        published_keys=keystore.published_keys(),
        scheme=load_scheme(args.scheme),
        registry_url=args.registry,
    )


def write_output(path: Path | None, text: str) -> None:
    """Write to `path` (atomically enough for a CLI: a temp file then rename), or print when no path."""
    if path is None:
        print(text)
        return
    try:
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_text(text + "\n", encoding="utf-8")
        tmp.replace(path)
    except OSError as e:
        raise UsageError(f"cannot write {path}: {e.strerror or e}") from e


def report(result: VerificationResult, *, as_json: bool, extra: dict[str, Any] | None = None) -> int:
    """Print `result` (text, or JSON with `extra` members) and return the exit code of its verdict."""
    from verifier import Verdict

    if as_json:
        print(json.dumps({**result.to_dict(), **(extra or {})}, indent=2, ensure_ascii=False))
    else:
        print(result.render_text())
    sys.stdout.flush()
    return {Verdict.VALID: EXIT_OK, Verdict.INVALID: EXIT_INVALID}.get(result.verdict, EXIT_INDETERMINATE)
