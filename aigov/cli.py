"""`aigov` command line: `main(argv) -> int`, testable in-process.

Subcommand modules are imported to build the parser but keep their heavy imports inside their handlers, so
`aigov verify` never loads a web framework or an ORM.

Exit codes: 0 success (or a valid credential), 1 invalid, 2 indeterminate, 3 bad usage or unreadable input.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence
from typing import NoReturn

EXIT_OK = 0
EXIT_INVALID = 1
EXIT_INDETERMINATE = 2
EXIT_USAGE = 3

# name -> module under aigov.commands that defines `register(subparsers)`.
_COMMANDS = ("keys", "issue", "verify", "verify_batch", "serve", "db", "admin", "badge", "bundle")


class UsageError(Exception):
    """Bad command-line usage or unreadable input: exit code 3 with a one-line message."""


class _Parser(argparse.ArgumentParser):
    """argparse exits with 2 on bad usage, which is our 'indeterminate'; we raise instead."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{self.prog}: {message}")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="aigov",
        description="Issue, publish and verify AI governance certifications.",
        epilog="Exit codes: 0 ok/valid, 1 invalid, 2 indeterminate, 3 bad usage or unreadable input.",
    )
    subparsers = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    for name in _COMMANDS:
        importlib.import_module(f"aigov.commands.{name}").register(subparsers)
    return parser


# Options whose value is a key's RFC 7638 thumbprint: base64url, so one in 64 begins with "-", which argparse
# would read as another option ("expected one argument").
_THUMBPRINT_OPTIONS = frozenset({"--scheme-owner", "--scheme-owner-fingerprint"})


def _glue_thumbprints(argv: Sequence[str]) -> list[str]:
    """`--scheme-owner -x…` as `--scheme-owner=-x…`, so a thumbprint that begins with "-" is read as the value."""
    glued: list[str] = []
    values = iter(argv)
    for arg in values:
        if arg in _THUMBPRINT_OPTIONS:
            value = next(values, None)
            if value is not None and value.startswith("-") and not value.startswith("--"):
                glued.append(f"{arg}={value}")
                continue
            glued.append(arg)
            if value is not None:
                glued.append(value)
            continue
        glued.append(arg)
    return glued


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; returns the exit code instead of exiting."""
    try:
        args = build_parser().parse_args(_glue_thumbprints(sys.argv[1:] if argv is None else argv))
        code: int = args.handler(args)
    except UsageError as e:
        print(f"error: {e}", file=sys.stderr)
        return EXIT_USAGE
    except SystemExit as e:  # --help and --version print and exit through argparse
        return e.code if isinstance(e.code, int) else EXIT_OK
    return code


def run() -> None:
    """Console-script entry point.

    Output piped into a reader that stops early (`aigov keys jwks | head -c 300`) is not an error: exit quietly,
    pointing stdout at devnull so the interpreter's final flush does not fail again (Python docs, "Note on
    SIGPIPE", signal module).
    """
    try:
        code = main()
        sys.stdout.flush()
    except BrokenPipeError:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        sys.exit(1)
    sys.exit(code)
