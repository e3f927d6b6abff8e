"""The Node.js peers (`benchmarks/node/peers.mjs`: jose, @digitalbazaar/vc-bitstring-status-list), run as one
long-lived subprocess so that its timing rounds interleave with ours in the same run.

`make bench` installs the pinned packages with `npm ci` (benchmarks/node/package-lock.json); run directly, the
suite does the same when `node_modules` is missing. Without `node` and `npm` the Node rows are left out and
the report says so.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

from benchmarks._measure import Timer

PACKAGE = Path(__file__).with_name("node")


class NodeUnavailableError(RuntimeError):
    """Node.js or its packages are not available: the Node rows cannot be measured."""


def node_version() -> str:
    node = shutil.which("node")
    if node is None:
        return "not installed"
    done = subprocess.run([node, "--version"], capture_output=True, text=True, timeout=30, check=False)
    return done.stdout.strip()


def package_version(name: str) -> str:
    try:
        manifest = PACKAGE / "node_modules" / name / "package.json"
        return str(json.loads(manifest.read_text("utf-8"))["version"])
    except (OSError, ValueError, KeyError):
        return "?"


def ensure_packages() -> None:
    """`npm ci` when the pinned packages are not installed yet."""
    if (PACKAGE / "node_modules" / ".package-lock.json").exists():
        return
    npm = shutil.which("npm")
    if npm is None or shutil.which("node") is None:
        raise NodeUnavailableError("node and npm are needed for the Node.js peers")
    done = subprocess.run(
        [npm, "ci", "--no-audit", "--no-fund", "--silent"],
        cwd=PACKAGE,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    if done.returncode != 0:
        raise NodeUnavailableError(f"npm ci failed: {done.stderr.strip()[-500:]}")


class NodePeers:
    """The running peers script. Use as a context manager; every call waits for its one-line answer."""

    def __init__(self) -> None:
        ensure_packages()
        node = shutil.which("node")
        if node is None:
            raise NodeUnavailableError("node is not installed")
        self._process = subprocess.Popen(
            [node, str(PACKAGE / "peers.mjs")],
            cwd=PACKAGE,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )

    def __enter__(self) -> NodePeers:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        if self._process.poll() is None:
            assert self._process.stdin is not None
            self._process.stdin.close()
            try:
                self._process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait(timeout=10)

    def call(self, **command: Any) -> dict[str, Any]:
        stdin, stdout = self._process.stdin, self._process.stdout
        assert stdin is not None
        assert stdout is not None
        stdin.write(json.dumps(command) + "\n")
        stdin.flush()
        line = stdout.readline()
        if not line:
            raise NodeUnavailableError(f"the Node.js peers exited ({self._process.poll()})")
        answer: dict[str, Any] = json.loads(line)
        if "error" in answer:
            raise RuntimeError(f"Node.js peers, {command.get('op')}: {answer['error']}")
        return answer

    def timer(self, ident: str, what: str) -> Timer:
        """A timer of `what` ("jose", "raw", "list") for the registered token or list `ident`."""
        return lambda number: float(self.call(op="time", id=ident, what=what, number=number)["us"])
