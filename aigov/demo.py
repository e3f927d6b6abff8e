"""`make demo` (`python -m aigov.demo`): issue and verify a certificate end to end, offline, in ./var/demo/.

A newcomer's first look at aigov. It drives the real `aigov` commands in-process (`keys new`, `keys did`,
`issue`, `status-list`, `verify`) rather than calling the libraries directly, so the demo shows exactly what a
person would type and breaks when the commands break. Then it prints commands to copy for the next steps:
the JSON result, suspending the certificate, verifying without status lists.

Running it again is safe: the key is reused, while the certificate and the (all clear) status lists are made
afresh, so every run ends in the same known state whatever the "try next" commands changed in between.
Everything here is an EXAMPLE: the demo passphrase is published in this file and protects nothing.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import shlex
import shutil
import sys
from pathlib import Path
from typing import Any

import issuer
from aigov.cli import EXIT_OK, main

DEMO_DIR = Path("var/demo")
KEYSTORE = DEMO_DIR / "keys"
TRUST = DEMO_DIR / "trust.json"
CERTIFICATE = DEMO_DIR / "certificate.jwt"
STATUS_LISTS = {purpose: DEMO_DIR / f"{purpose}.jwt" for purpose in ("revocation", "suspension")}
SAMPLE_DECISION = Path(issuer.__file__).parent / "data" / "sample-decision.json"

ISSUER_DID = "did:web:cb.demo.aigov.example"
ISSUER_NAME = "Demo Certification Body (EXAMPLE)"
# Used only when AIGOV_KEY_PASSPHRASE is unset, and said so loudly: never a default for real keys.
DEMO_PASSPHRASE = "aigov-DEMO-ONLY-passphrase-not-a-secret"  # noqa: S105 - published on purpose


class DemoError(Exception):
    """A step failed: the message says which and why."""


def aigov(*argv: str) -> str:
    """Run one `aigov` command in-process, quietly; its standard output, or DemoError with its message."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(list(argv))
    if code != EXIT_OK:
        message = err.getvalue().strip() or out.getvalue().strip()
        raise DemoError(f"`aigov {shlex.join(argv)}` exited with {code}: {message}")
    return out.getvalue()


def set_environment() -> str:
    """Point the commands at the demo keystore and issuer; returns a note on where the passphrase came from."""
    os.environ["AIGOV_KEYSTORE"] = str(KEYSTORE)
    os.environ["AIGOV_ISSUER_DID"] = ISSUER_DID
    os.environ["AIGOV_ISSUER_NAME"] = ISSUER_NAME
    if os.environ.get("AIGOV_KEY_PASSPHRASE"):
        return "keystore passphrase: from AIGOV_KEY_PASSPHRASE"
    os.environ["AIGOV_KEY_PASSPHRASE"] = DEMO_PASSPHRASE
    return (
        f"keystore passphrase: AIGOV_KEY_PASSPHRASE is not set, so the DEMO passphrase {DEMO_PASSPHRASE!r}\n"
        "  (published in aigov/demo.py, it protects nothing: never use it for real keys)"
    )


def status_entries(credential: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The credential's BitstringStatusListEntry objects by purpose."""
    return {entry["statusPurpose"]: entry for entry in credential["credentialStatus"]}


def command_prefix() -> str:
    """How to call `aigov` from this shell: on the PATH, from this interpreter's venv, or as a module."""
    if shutil.which("aigov"):
        return "aigov"
    script = Path(sys.executable).with_name("aigov")
    if script.exists():
        with contextlib.suppress(ValueError):
            return str(script.absolute().relative_to(Path.cwd()))
        return str(script)
    return f"{shlex.quote(sys.executable)} -m aigov"


def run_demo() -> int:
    print(f"aigov demo: an EXAMPLE certification body issues and verifies a certificate, in {DEMO_DIR}/")
    print(set_environment())
    DEMO_DIR.mkdir(parents=True, exist_ok=True)

    records = json.loads(aigov("keys", "list", "--json"))
    active = [record["kid"] for record in records if record["state"] == "active"]
    if active:
        print(f"1. issuer key: reusing {active[0]} in {KEYSTORE}")
    else:
        print(f"1. issuer key: created {aigov('keys', 'new').strip()} in {KEYSTORE}")

    aigov("keys", "did", "-o", str(TRUST))
    print(f"2. trust file: the DID document of {ISSUER_DID} -> {TRUST}")

    credential = json.loads(aigov("issue", str(SAMPLE_DECISION), "-o", str(CERTIFICATE), "--json"))
    entries = status_entries(credential)
    print(f"3. certificate: {credential['id']} -> {CERTIFICATE}")

    for purpose, path in STATUS_LISTS.items():
        url = entries[purpose]["statusListCredential"]
        aigov("status-list", "--purpose", purpose, "--url", url, "-o", str(path))
        print(f"4. {purpose} list: {url}, nothing set -> {path}")

    verify = ["verify", str(CERTIFICATE), "--trust", str(TRUST)]
    with_lists = [*verify, *(arg for path in STATUS_LISTS.values() for arg in ("--status-list", str(path)))]
    print(f"5. $ {command_prefix()} {shlex.join(with_lists)}\n")
    code = main(with_lists)
    if code != EXIT_OK:
        raise DemoError(f"the fresh certificate did not verify (exit {code}); see above")

    print_try_next(entries["suspension"], verify, with_lists)
    return EXIT_OK


def print_try_next(suspension: dict[str, Any], verify: list[str], with_lists: list[str]) -> None:
    aigov_cmd = command_prefix()
    passphrase = os.environ["AIGOV_KEY_PASSPHRASE"]
    print("\nTry next (in a shell in this directory):\n")
    for name in ("AIGOV_KEYSTORE", "AIGOV_ISSUER_DID", "AIGOV_ISSUER_NAME"):
        print(f"  export {name}={shlex.quote(os.environ[name])}")
    if passphrase == DEMO_PASSPHRASE:
        print(f"  export AIGOV_KEY_PASSPHRASE={shlex.quote(passphrase)}  # the DEMO passphrase")
    else:
        print("  # AIGOV_KEY_PASSPHRASE: keep the one already set in your environment")
    suspend = [
        "status-list",
        "--purpose",
        "suspension",
        "--url",
        suspension["statusListCredential"],
        "--set",
        suspension["statusListIndex"],
        "-o",
        str(STATUS_LISTS["suspension"]),
    ]
    steps = [
        ("the same result as JSON", [[*with_lists, "--json"]]),
        (
            "suspend the certificate offline (re-sign the suspension list with its index set): INVALID, exit 1",
            [suspend, with_lists],
        ),
        ("no status lists, so the status is unknown: INDETERMINATE, exit 2", [verify]),
        ("every option of verify", [["verify", "--help"]]),
    ]
    for title, commands in steps:
        print(f"\n  # {title}")
        for argv in commands:
            print(f"  {aigov_cmd} {shlex.join(argv)}")
    print(
        "\n  # back to a clean state (a fresh certificate, all lists clear): make demo (python -m aigov.demo)"
    )


def main_entry() -> int:
    try:
        return run_demo()
    except (DemoError, OSError) as e:
        print(f"\ndemo failed: {e}", file=sys.stderr)
        print(f"(to start over from scratch: rm -rf {DEMO_DIR} && make demo)", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main_entry())
