"""Fault tests run the registry as it runs in service: `aigov serve` in a subprocess on loopback, which a test
may kill with SIGKILL and start again on the same database.

The subprocess gets the `registry` fixture's settings as AIGOV_* variables (production checks on, rate limits
off: these tests send more than a client address may). It runs in a session of its own, so that SIGKILL reaches
uvicorn and anything it started; its output goes to a log file that a failing test prints.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import pytest

if TYPE_CHECKING:
    from conftest import Registry

    from registry.config import Settings

ROOT = Path(__file__).resolve().parents[3]


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class ServerProcess:
    """`aigov serve --workers 1` (or `workers`) on 127.0.0.1:`port` with `env`; `start`, `kill` (SIGKILL),
    `stop` (SIGTERM)."""

    def __init__(
        self, env: Mapping[str, str], log: Path, *, port: int | None = None, workers: int = 1
    ) -> None:
        self.env = dict(env)
        self.log = log
        self.workers = workers
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def start(self, *, timeout: float = 30) -> None:
        argv = [
            sys.executable,
            "-m",
            "aigov",
            "serve",
            "--port",
            str(self.port),
            "--workers",
            str(self.workers),
        ]
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(  # noqa: S603  # our own interpreter and module
                [*argv, "--no-access-log"],
                cwd=ROOT,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + timeout
        while True:
            if self.process.poll() is not None:
                pytest.fail(f"the server exited with {self.process.returncode}:\n{self.output()}")
            try:
                if httpx.get(f"{self.url}/healthz", timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                self.kill()
                pytest.fail(f"the server did not answer /healthz within {timeout} s:\n{self.output()}")
            time.sleep(0.05)

    def kill(self) -> None:
        """SIGKILL the server's whole process group: no shutdown handler runs, nothing is flushed."""
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
        if self.process is not None:
            self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.kill()

    def output(self) -> str:
        return self.log.read_text(errors="replace")[-4000:] if self.log.exists() else ""


def server_env(settings: Settings, **extra: str) -> dict[str, str]:
    """`settings` (the registry fixture's) as AIGOV_* variables for a subprocess."""
    env = {name: value for name, value in os.environ.items() if not name.startswith("AIGOV_")}
    env.update(
        {
            "AIGOV_DATABASE_URL": settings.database_url,
            "AIGOV_PUBLIC_URL": settings.public_url,
            "AIGOV_KEYSTORE_PATH": str(settings.keystore_path),
            "AIGOV_KEY_PASSPHRASE": settings.key_passphrase.get_secret_value(),
            "AIGOV_ENVIRONMENT": settings.environment,
            "AIGOV_RATE_LIMIT_ENABLED": "false",
            "AIGOV_HIGH_WATER_FILE": str(settings.high_water_path),
            **extra,
        }
    )
    return env


@pytest.fixture
def launch(tmp_path: Path) -> Iterator[Any]:
    """`launch(settings, workers=1, **env)`: a started ServerProcess with `settings`; each is killed at the end."""
    started: list[ServerProcess] = []

    def make(settings: Settings, *, workers: int = 1, **extra: str) -> ServerProcess:
        log = tmp_path / f"server-{len(started)}.log"
        server = ServerProcess(server_env(settings, **extra), log, workers=workers)
        started.append(server)
        server.start()
        return server

    yield make
    for server in started:
        server.kill()


@pytest.fixture
def serve(registry: Registry, launch: Any) -> Any:
    """`serve(workers=1, **env)`: a started ServerProcess on the registry fixture's database."""
    return lambda **extra: launch(registry.settings, **extra)


@pytest.fixture
def tcp_port() -> int:
    """A port that was free a moment ago."""
    return free_port()
