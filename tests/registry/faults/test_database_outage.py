"""PostgreSQL stopped under load: clean 503 problems while it is down (the status lists too, whose fast path
falls back to the route), and recovery by itself when it returns.

The shared test server cannot be stopped (other tests use it), so this test runs its own PostgreSQL cluster,
made with `initdb` in a temporary directory (as the `postgres` user when run as root) on a free port, and
stops and starts that one with `pg_ctl`. The registry runs as `aigov serve` in a subprocess and is never
restarted: the pool must notice the dead connections (pool_pre_ping) and make new ones once the server is back.
"""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import subprocess
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import pytest
from sqlmodel import Session

from issuer import load_scheme
from registry.bodies import add_scheme, create_body
from registry.db import make_engine, write_transaction
from registry.migrate import upgrade
from registry.models import CertificationBodyCreate
from registry.tokens import Scope, create_token
from registry.trustlist import TrustListPolicy, accredit

if TYPE_CHECKING:
    from conftest import Registry

pytestmark = [pytest.mark.slow, pytest.mark.postgres]
THREADS = 4


@pytest.fixture
def database_url(tmp_path: Path, sqlite_template: Path) -> str:
    """The registry fixture on SQLite only: this test brings its own PostgreSQL (overrides conftest.py)."""
    path = tmp_path / "aigov.db"
    shutil.copyfile(sqlite_template, path)
    return f"sqlite:///{path}"


@dataclass
class Cluster:
    """A private PostgreSQL cluster: `stop()` and `start()` it at will."""

    bin: Path
    data: Path
    port: int

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, *argv: str) -> None:
        as_postgres = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        subprocess.run([*as_postgres, *argv], check=True, capture_output=True, timeout=60)  # noqa: S603

    def init(self) -> None:
        self._run(
            str(self.bin / "initdb"), "-D", str(self.data), "-U", "postgres", "-A", "trust", "--no-sync"
        )

    def start(self) -> None:
        options = f"-p {self.port} -k {self.data} -c listen_addresses=127.0.0.1 -c fsync=off"
        log = str(self.data / "server.log")
        self._run(str(self.bin / "pg_ctl"), "-D", str(self.data), "-o", options, "-l", log, "-w", "start")

    def stop(self) -> None:
        # fast: the server disconnects every client and shuts down cleanly, as in a restart or failover.
        self._run(str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "stop")


@pytest.fixture
def cluster(tcp_port: int) -> Iterator[Cluster]:
    binaries = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if not binaries or (os.geteuid() == 0 and shutil.which("runuser") is None):
        reason = "needs PostgreSQL's initdb and pg_ctl (/usr/lib/postgresql/*/bin)"
        if os.environ.get("AIGOV_REQUIRE_ALL") == "1":
            pytest.fail(f"AIGOV_REQUIRE_ALL=1: {reason}")
        pytest.skip(reason)
    root = Path(tempfile.mkdtemp(prefix="aigov-pg-"))
    if os.geteuid() == 0:
        shutil.chown(root, "postgres", "postgres")
    cluster = Cluster(Path(binaries[-1]).parent, root / "data", tcp_port)
    try:
        cluster.init()
        cluster.start()
        yield cluster
    finally:
        with contextlib.suppress(subprocess.CalledProcessError):  # already stopped
            cluster.stop()
        shutil.rmtree(root, ignore_errors=True)


def seed(url: str, registry: Registry) -> str:
    """Migrate and seed the private database like the registry fixture does; returns an API token."""
    upgrade(url)
    engine = make_engine(url, pool_size=1, max_overflow=0)
    now = registry.clock()
    try:
        with Session(engine, expire_on_commit=False) as session:
            add_scheme(session=session, scheme=load_scheme(), now=now)
            body = create_body(
                session=session,
                data=CertificationBodyCreate(
                    slug="acme-cb", name_en="ACME", name_ja=None, scheme_id=load_scheme().id
                ),
                public_url=registry.settings.public_url,
                now=now,
            )
            session.commit()
            _, token = create_token(session=session, body=body, scopes=[s.value for s in Scope], now=now)
            session.commit()
            with write_transaction(session):  # only an accredited body issues (`aigov admin accredit`)
                accredit(
                    session=session,
                    signers=registry.context().signers,
                    policy=TrustListPolicy(public_url=registry.settings.public_url),
                    body=body,
                    scheme_id=body.scheme_id,
                    levels=None,
                    valid_from=now,
                    valid_until=None,
                    reason="accredited for the test",
                    actor="admin",
                    now=now,
                )
    finally:
        engine.dispose()
    return token


class Load:
    """Threads sending a mix of reads and writes, each answer recorded with the phase it was sent in."""

    def __init__(self, url: str, token: str, registry: Registry) -> None:
        self.url, self.token, self.registry = url, token, registry
        self.phase = "up"
        self.answers: list[tuple[str, str, int, str, dict[str, str]]] = []
        self.errors: list[tuple[str, str, str]] = []
        self.known: list[str] = []
        self.lists: list[str] = []
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._threads = [threading.Thread(target=self._run, args=(n,), daemon=True) for n in range(THREADS)]

    def __enter__(self) -> Load:
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=30)

    def wait_for(self, status: int, phase: str, *, timeout: float = 20) -> None:
        """Until `status` was answered twice in `phase` (and at least 0.5 s passed)."""
        deadline, earliest = time.monotonic() + timeout, time.monotonic() + 0.5
        while self.count(phase)[status] < 2 or time.monotonic() < earliest:
            assert time.monotonic() < deadline, (phase, self.count(phase))
            time.sleep(0.05)

    def count(self, phase: str) -> Counter[int]:
        with self._lock:
            return Counter(status for p, _, status, _, _ in self.answers if p == phase)

    def _run(self, n: int) -> None:
        headers = {"Authorization": f"Bearer {self.token}"}
        with httpx.Client(base_url=self.url, timeout=15) as http:
            turn = n
            while not self._stop.is_set():
                turn += 1
                phase = self.phase
                kind = ("issue", "stats", "record", "status", "healthz")[turn % 5]
                try:
                    if kind == "issue":
                        response = http.post(
                            "/api/v1/credentials", json=self.registry.decision(), headers=headers
                        )
                        if response.status_code == 201:
                            with self._lock:
                                self.known.append(response.json()["id"])
                                self.lists.append(
                                    response.json()["credentialStatus"][0]["statusListCredential"]
                                )
                    elif kind == "stats":
                        response = http.get("/api/v1/stats")
                    elif kind == "record" and self.known:
                        response = http.get(f"/api/v1/credentials/{self.known[-1]}")
                    elif kind == "status" and self.lists:
                        response = http.get("/status/" + self.lists[-1].rsplit("/", 1)[1])
                    else:
                        response = http.get("/healthz")
                except httpx.TransportError as e:
                    with self._lock:
                        self.errors.append((phase, kind, repr(e)))
                    continue
                if self.phase != phase:  # sent in one phase, answered in another
                    phase = "transition"
                with self._lock:
                    self.answers.append(
                        (phase, kind, response.status_code, response.text[:2000], dict(response.headers))
                    )


def test_postgresql_stopped_under_load_gives_503_then_recovers(
    registry: Registry, cluster: Cluster, launch: Any
) -> None:
    token = seed(cluster.url, registry)
    server = launch(registry.settings.model_copy(update={"database_url": cluster.url}))
    with Load(server.url, token, registry) as load:
        load.wait_for(201, "up")
        load.phase = "stopping"
        cluster.stop()
        load.phase = "down"
        time.sleep(1.5)
        load.phase = "starting"
        cluster.start()
        load.phase = "recovering"
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{server.url}/healthz", timeout=5).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        recovered_in = 15 - (deadline - time.monotonic())
        load.phase = "back"
        load.wait_for(201, "back")

    assert server.process is not None
    assert server.process.poll() is None, "the server died"
    assert load.errors == [], load.errors[:5]  # the server always answered
    for phase, kind, status, text, headers in load.answers:
        assert status < 500 or status == 503, (phase, kind, status, text)
        assert not any(leak in text for leak in ("Traceback", "psycopg", "OperationalError")), text
        if status >= 400:
            assert headers["content-type"] == "application/problem+json", (phase, kind, status, text)
        if status == 503:
            assert headers["retry-after"] == "5"
            assert '"type":"urn:aigov:problem:database-unavailable"' in text, text
    up, down, back = load.count("up"), load.count("down"), load.count("back")
    for phase, counted in (("up", up), ("back", back)):
        refused = [(k, st, t) for p, k, st, t, _ in load.answers if p == phase and st >= 300]
        assert set(counted) <= {200, 201}, refused[:5]
        assert counted[201] > 0, counted
        assert counted[200] > 0, counted
    assert down[503] > 0, down
    check_status_lists(load, cluster)
    print(  # noqa: T201  # the numbers, for the record (pytest -s)
        f"up {dict(up)}, down {dict(down)}, back {dict(back)}; healthy again {recovered_in:.2f} s after start"
    )


def check_status_lists(load: Load, cluster: Cluster) -> None:
    """The status lists are answered on the event loop (registry.routes.status.fast_response_async) from the
    signed bytes cached in memory: while the database is down they are never served from that cache (the
    route answers 503), and once it is back the fast path reads again, without a restart."""
    lists = {
        phase: Counter(st for p, k, st, _, _ in load.answers if p == phase and k == "status")
        for phase in ("up", "down", "back")
    }
    assert lists["down"], lists
    assert set(lists["down"]) == {503}, lists
    assert lists["up"][200] > 0, lists
    assert lists["back"][200] > 0, lists
    # The fast path's own connection is back: its version read is what some backend last ran.
    engine = make_engine(cluster.url, pool_size=1, max_overflow=0)
    try:
        with engine.connect() as connection:
            queries = connection.exec_driver_sql("SELECT query FROM pg_stat_activity").scalars().all()
    finally:
        engine.dispose()
    assert any(query.startswith("SELECT id, version FROM status_lists") for query in queries), queries
