"""`make demo` (`python -m aigov.demo`) on a fresh directory, twice, and the "try next" commands it prints."""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from aigov.cli import EXIT_INDETERMINATE, EXIT_INVALID, EXIT_OK, main
from keys import b64url_decode


def run_demo(cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    """The demo in a fresh interpreter with no AIGOV_* settings but `env`, in `cwd` (so var/ lands there)."""
    clean = {name: value for name, value in os.environ.items() if not name.startswith("AIGOV_")}
    return subprocess.run(
        [sys.executable, "-m", "aigov.demo"],
        cwd=cwd,
        env={**clean, **env},
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )


def try_next(out: str) -> tuple[dict[str, str], list[list[str]]]:
    """The exported variables and the `aigov` commands (from the subcommand on) of the "try next" section."""
    section = out.split("Try next", 1)[1]
    exports: dict[str, str] = {}
    commands = []
    for line in section.splitlines():
        words = shlex.split(line, comments=True)
        if words[:1] == ["export"]:
            name, _, value = words[1].partition("=")
            exports[name] = value
        for i, word in enumerate(words):
            if word in ("verify", "status-list"):
                commands.append(words[i:])
                break
    return exports, commands


def test_demo_runs_twice_and_its_commands_work(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    first = run_demo(tmp_path)
    assert first.returncode == 0, first.stderr
    assert "\nVALID: " in first.stdout
    assert "DEMO passphrase" in first.stdout
    assert "issuer key: created" in first.stdout

    second = run_demo(tmp_path)  # idempotent: reuses the key, re-issues, clears the lists
    assert second.returncode == 0, second.stderr
    assert "\nVALID: " in second.stdout
    assert "issuer key: reusing" in second.stdout
    assert len(list((tmp_path / "var" / "demo" / "keys").glob("*.pem"))) == 1

    exports, commands = try_next(second.stdout)
    assert set(exports) == {"AIGOV_KEYSTORE", "AIGOV_ISSUER_DID", "AIGOV_ISSUER_NAME", "AIGOV_KEY_PASSPHRASE"}
    assert exports["AIGOV_ISSUER_NAME"] == "Demo Certification Body (EXAMPLE)"
    token = (tmp_path / "var" / "demo" / "certificate.jwt").read_text(encoding="utf-8").strip()
    credential = json.loads(b64url_decode(token.split(".")[1]))
    [suspension] = [e for e in credential["credentialStatus"] if e["statusPurpose"] == "suspension"]

    # The commands, run as a person would after copying them: JSON, suspend, verify, no lists, help.
    for name, value in exports.items():
        monkeypatch.setenv(name, value)
    monkeypatch.chdir(tmp_path)
    as_json, suspend, after_suspension, without_lists, help_ = commands
    assert suspend[suspend.index("--set") + 1] == suspension["statusListIndex"]
    assert main(as_json) == EXIT_OK
    assert json.loads(capsys.readouterr().out)["verdict"] == "valid"
    assert main(suspend) == EXIT_OK
    assert main(after_suspension) == EXIT_INVALID
    assert "INVALID: " in capsys.readouterr().out
    assert main(without_lists) == EXIT_INDETERMINATE
    assert main(help_) == EXIT_OK
    assert "--status-list" in capsys.readouterr().out

    third = run_demo(tmp_path)  # and a new run puts everything back
    assert third.returncode == 0, third.stderr
    assert "\nVALID: " in third.stdout


def test_passphrase_from_the_environment_is_used_not_shown(tmp_path: Path) -> None:
    secret = "a passphrase of the user's own"

    result = run_demo(tmp_path, AIGOV_KEY_PASSPHRASE=secret)

    assert result.returncode == 0, result.stderr
    assert "\nVALID: " in result.stdout
    assert secret not in result.stdout + result.stderr
    assert "DEMO passphrase" not in result.stdout

    again = run_demo(tmp_path, AIGOV_KEY_PASSPHRASE="another passphrase")

    assert again.returncode != 0
    assert again.stdout.count("VALID") == 0
    assert "demo failed:" in again.stderr
    assert "wrong passphrase" in again.stderr
    assert "rm -rf var/demo" in again.stderr
    assert "Traceback" not in again.stderr
