"""`make demo` (`python -m aigov.demo`): a seeded registry in ./var/demo/, rerun safely, and what it prints works.

Each test runs the demo in a fresh interpreter in `tmp_path` (so var/ lands there) with no AIGOV_* settings
but its own. The registry it seeds is then served here, and its answers and the printed `aigov verify`
command are checked against what the demo said it did.
"""

from __future__ import annotations

import os
import re
import shlex
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from aigov.cli import EXIT_INVALID, EXIT_OK, main
from aigov.demo import DEMO_PASSPHRASE, demo_environment
from verifier import TrustStore, verify_status_list

pytestmark = pytest.mark.slow  # each demo run starts a registry: a few seconds

TIMEOUT_S = 55


def clean_environment(**env: str) -> dict[str, str]:
    return {**{k: v for k, v in os.environ.items() if not k.startswith("AIGOV_")}, **env}


def run_demo(cwd: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603  # this interpreter running the demo
        [sys.executable, "-m", "aigov.demo", *args],
        cwd=cwd,
        env=clean_environment(**env),
        capture_output=True,
        text=True,
        check=False,
        timeout=TIMEOUT_S,
    )


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def links(out: str) -> dict[str, str]:
    """The "Open:" section: label -> URL."""
    section = out.split("\nOpen:\n", 1)[1].split("\n\n", 1)[0]
    found = {}
    for line in section.splitlines():
        match = re.fullmatch(r"  (\S.*?)\s{2,}(http://\S+).*", line)
        assert match, line
        found[match[1]] = match[2]
    return found


def verify_command(out: str) -> list[str]:
    """The printed `aigov verify ...` line, from `verify` on."""
    [line] = [line for line in out.splitlines() if " verify " in line and not line.lstrip().startswith("#")]
    words = shlex.split(line)
    return words[words.index("verify") :]


def credential_count(cwd: Path) -> int:
    with sqlite3.connect(cwd / "var" / "demo" / "registry.db") as db:
        count: int = db.execute("SELECT count(*) FROM credentials").fetchone()[0]
    return count


@contextmanager
def answering(process: subprocess.Popen[str], base: str, output: list[str]) -> Iterator[httpx.Client]:
    """A client for the server `process` runs at `base`, once it answers. Afterwards the server is stopped
    with SIGINT (what Ctrl-C sends) and its standard output and error are appended to `output`."""
    client = httpx.Client(base_url=base, timeout=5, trust_env=False)
    try:
        deadline = time.monotonic() + TIMEOUT_S
        while True:
            assert process.poll() is None, process.communicate()
            try:
                client.get("/healthz").raise_for_status()
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline, "the registry did not answer"
                time.sleep(0.1)
        yield client
    finally:
        client.close()
        if process.poll() is None:
            process.send_signal(signal.SIGINT)  # what Ctrl-C does
        try:
            output.extend(process.communicate(timeout=15))
        except subprocess.TimeoutExpired:
            process.kill()
            output.extend(process.communicate())


def check_served_registry(cwd: Path, base: str, opened: dict[str, str]) -> None:
    """Serve the seeded registry in `cwd` (demo settings, a port of our own): the records the demo links to
    have the status it announced, and the served status lists say so too."""
    port = free_port()
    server = subprocess.Popen(  # noqa: S603  # this interpreter running our CLI
        [sys.executable, "-m", "aigov", "serve", "--port", str(port), "--no-access-log"],
        cwd=cwd,
        env=clean_environment(**{**demo_environment(base), "AIGOV_KEY_PASSPHRASE": DEMO_PASSPHRASE}),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    here = f"http://127.0.0.1:{port}"
    with answering(server, here, []) as client:
        # The certificate pages are the credentials' ids: asked for JSON, they answer the public record.
        json_please = {"Accept": "application/json"}
        revoked = client.get(opened["revoked"].replace(base, here), headers=json_please).json()
        suspended = client.get(opened["suspended"].replace(base, here), headers=json_please).json()
        valid = client.get(opened["valid"].replace(base, here), headers=json_please).json()
        page = client.get(opened["revoked"].replace(base, here))
        assert page.headers["content-type"].startswith("text/html")
        assert (revoked["status"], revoked["statusReasonCode"]) == ("revoked", "nonconformity")
        assert [event["action"] for event in revoked["history"]] == ["issued", "suspended", "revoked"]
        assert suspended["status"] == "suspended"
        assert valid["status"] == "active"
        trust = TrustStore.load(cwd / "var" / "demo" / "issuer-did.json", [])
        for record, purpose, expected in (
            (revoked, "revocation", True),
            (suspended, "suspension", True),
            (suspended, "revocation", False),
            (valid, "revocation", False),
            (valid, "suspension", False),
        ):
            [entry] = [e for e in record["credentialStatus"] if e["statusPurpose"] == purpose]
            served = client.get(entry["statusListCredential"].replace(base, here))
            assert served.headers["content-type"] == "application/vc+jwt"
            snapshot = verify_status_list(served.text, trust)
            assert snapshot.bits is not None, snapshot.result.render_text()
            assert snapshot.bits.get(int(entry["statusListIndex"])) is expected, (record["status"], purpose)


def test_demo_seeds_the_registry_once_and_what_it_prints_works(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    first = run_demo(tmp_path, "--no-serve")

    assert first.returncode == 0, first.stderr
    assert "DEMO passphrase" in first.stdout
    assert "20 certificates issued through POST /api/v1/credentials (15 active, 3 suspended, 2 revoked)" in (
        first.stdout
    )
    assert "registry is stopped" in first.stdout
    opened = links(first.stdout)
    origin = re.match(r"http://127\.0\.0\.1:\d+", opened["API docs"])
    assert origin
    base = origin[0]
    assert opened["API docs"] == f"{base}/docs"
    assert opened["registry DID"] == f"{base}/.well-known/did.json"
    assert opened["issuer DID"] == f"{base}/issuers/demo-cb/did.json"
    assert re.fullmatch(rf"{base}/status/\d+", opened["revocation list"])
    assert opened["home and search"] == f"{base}/"
    assert opened["verification page"] == f"{base}/verify"
    for status in ("valid", "suspended", "revoked"):
        assert re.fullmatch(rf"{base}/credentials/[0-9a-f-]{{36}}", opened[status])
    assert opened["live badge"] == f"{opened['revoked']}/badge.svg"
    revoked_id = opened["revoked"].rsplit("/", 1)[1]
    assert f"curl -s {base}/api/v1/credentials/{revoked_id}" in first.stdout
    demo = tmp_path / "var" / "demo"
    token = (demo / "token").read_text(encoding="ascii")
    assert (demo / "token").stat().st_mode & 0o777 == 0o600
    assert token.strip() not in first.stdout + first.stderr
    assert credential_count(tmp_path) == 20

    second = run_demo(tmp_path, "--no-serve")  # idempotent: the same registry, nothing issued twice

    assert second.returncode == 0, second.stderr
    assert "20 certificates already issued (15 active, 3 suspended, 2 revoked)" in second.stdout
    assert links(second.stdout) == opened
    assert credential_count(tmp_path) == 20
    assert (demo / "token").read_text(encoding="ascii") == token
    # Its certificates name the first run's port: serving them on another would break every online check.
    moved = run_demo(tmp_path, "--no-serve", "--port", str(free_port()))
    assert moved.returncode == 1
    assert f"this demo's certificates name {base}" in moved.stderr
    assert f"--port {base.rsplit(':', 1)[1]}" in moved.stderr
    assert "Traceback" not in moved.stderr

    check_served_registry(tmp_path, base, opened)

    # The printed command, offline, with the files the demo wrote.
    monkeypatch.chdir(tmp_path)
    command = verify_command(second.stdout)
    assert main(command) == EXIT_OK
    assert "\nVALID: " in capsys.readouterr().out
    for other in ("revoked", "suspended"):
        assert (
            main([command[0], command[1].replace("valid.jwt", f"{other}.jwt"), *command[2:]]) == EXIT_INVALID
        )
        assert f"the credential is {other}" in capsys.readouterr().out


def test_serves_in_the_foreground_with_the_users_passphrase_never_shown(tmp_path: Path) -> None:
    secret = "a passphrase of the user's own"
    port = free_port()
    demo = subprocess.Popen(  # noqa: S603  # this interpreter running the demo
        [sys.executable, "-m", "aigov.demo", "--port", str(port)],
        cwd=tmp_path,
        env=clean_environment(AIGOV_KEY_PASSPHRASE=secret),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    output: list[str] = []
    with answering(demo, f"http://127.0.0.1:{port}", output) as client:
        assert client.get("/issuers/demo-cb/did.json").status_code == 200
    out, err = output

    assert demo.returncode == 0, err
    assert f"Serving http://127.0.0.1:{port} — Ctrl-C to stop." in out
    assert "from AIGOV_KEY_PASSPHRASE" in out
    assert secret not in out + err
    assert DEMO_PASSPHRASE not in out

    again = run_demo(tmp_path, AIGOV_KEY_PASSPHRASE="another passphrase", AIGOV_DEMO_NO_SERVE="1")

    assert again.returncode == 1
    assert "demo failed:" in again.stderr
    assert "wrong passphrase" in again.stderr
    assert "rm -rf var/demo" in again.stderr
    assert "Traceback" not in again.stderr
    assert credential_count(tmp_path) == 20
