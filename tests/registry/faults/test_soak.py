"""A bounded soak: mixed reads and writes against `aigov serve` on loopback, with the server's memory and open
file handles flat at the end.

Four clients (one opening a new connection for every request, so that sockets come and go) issue, suspend,
reinstate and revoke certificates and read records, signed credentials, status lists, search pages, exports,
the event feed, statistics, 404s and 422s. The server's RSS and open file descriptors are measured after a
warm-up (every code path taken, the connection pool and caches filled) and again at the end.

Tolerances: open files must be back within 4 of the warm value (sockets of requests still closing); RSS may
grow by at most 16 MiB: SQLite keeps a page cache of up to 2 MiB per pooled connection, the database grows
during the run (so more of it is cached), and CPython's allocator keeps freed arenas; none of that is a leak,
and a leak large enough to matter (tens of KiB per request) passes the bound within the run. The test prints
the growth per request, for the record. SQLite only: the PostgreSQL variant doubles the time for the same
application code (run it with `-k soak` after removing the override below).
"""

from __future__ import annotations

import random
import shutil
import threading
import time
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import psutil
import pytest

if TYPE_CHECKING:
    from conftest import Registry

WARM_UP_SECONDS = 4.0
SOAK_SECONDS = 10.0
RSS_TOLERANCE = 16 * 1024 * 1024
FD_TOLERANCE = 4


@pytest.fixture
def database_url(tmp_path: Path, sqlite_template: Path) -> str:
    """SQLite only (overrides the two-backend fixture of conftest.py)."""
    path = tmp_path / "aigov.db"
    shutil.copyfile(sqlite_template, path)
    return f"sqlite:///{path}"


def measure(pid: int) -> tuple[int, int]:
    process = psutil.Process(pid)
    processes = [process, *process.children(recursive=True)]
    return sum(p.memory_info().rss for p in processes), sum(p.num_fds() for p in processes)


class Traffic:
    def __init__(self, url: str, token: str, registry: Registry) -> None:
        self.url, self.token, self.registry = url, token, registry
        self.statuses: Counter[int] = Counter()
        self.unexpected: list[tuple[str, int, str]] = []
        self.requests = 0
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.threads = [threading.Thread(target=self.run, args=(n,), daemon=True) for n in range(4)]

    def run(self, n: int) -> None:
        rng = random.Random(n)  # noqa: S311  # a test's choice of requests
        mine: dict[str, str] = {}
        lists: list[str] = []
        auth = {"Authorization": f"Bearer {self.token}"}
        fresh_connections = n == 0
        client = httpx.Client(base_url=self.url, timeout=30)
        try:
            while not self.stop.is_set():
                if fresh_connections:
                    client.close()
                    client = httpx.Client(base_url=self.url, timeout=30)
                choice = rng.random()
                expected = {200}
                live = [cid for cid, status in mine.items() if status != "revoked"]
                if choice < 0.15 or not live:
                    method, path, body = "POST", "/api/v1/credentials", self.registry.decision()
                    expected = {201}
                elif choice < 0.3:
                    cid = rng.choice(live)
                    verb = {"active": rng.choice(["suspend", "revoke"]), "suspended": "reinstate"}[mine[cid]]
                    method, path = "POST", f"/api/v1/credentials/{cid}/{verb}"
                    body = {"reasonCode": "other"} if verb != "reinstate" else {}
                    mine[cid] = {"suspend": "suspended", "revoke": "revoked", "reinstate": "active"}[verb]
                else:
                    method, body = "GET", None
                    cid = rng.choice(list(mine))
                    path = rng.choice(
                        [
                            f"/api/v1/credentials/{cid}",
                            f"/api/v1/credentials/{cid}/credential.jwt",
                            *(f"/status/{lst}" for lst in lists[-1:]),
                            "/api/v1/credentials?q=ACME&limit=20",
                            "/api/v1/credentials?status=active&limit=5",
                            "/api/v1/export?format=jsonl",
                            "/api/v1/export?format=csv",
                            "/api/v1/events?after=0&limit=50",
                            "/api/v1/stats",
                            "/.well-known/did.json",
                            "/issuers/acme-cb/jwks.json",
                        ]
                    )
                    if rng.random() < 0.05:
                        path, expected = "/api/v1/credentials/00000000-0000-4000-8000-000000000000", {404}
                    elif rng.random() < 0.05:
                        path, expected = "/api/v1/credentials?limit=100000", {400, 422}
                headers = auth if method == "POST" else {}
                response = client.request(method, path, json=body, headers=headers)
                with self.lock:
                    self.requests += 1
                    self.statuses[response.status_code] += 1
                    if response.status_code not in expected:
                        self.unexpected.append((path, response.status_code, response.text[:200]))
                if method == "POST" and path == "/api/v1/credentials" and response.status_code == 201:
                    issued = response.json()
                    mine[issued["id"]] = "active"
                    lists.append(issued["credentialStatus"][1]["statusListCredential"].rsplit("/", 1)[1])
        finally:
            client.close()


@pytest.mark.slow
def test_soak_keeps_memory_and_file_handles_flat(registry: Registry, serve: Any) -> None:
    token = registry.token()
    server = serve()
    traffic = Traffic(server.url, token, registry)
    for thread in traffic.threads:
        thread.start()
    try:
        time.sleep(WARM_UP_SECONDS)
        warm_rss, warm_fds = measure(server.pid)
        warm_requests = traffic.requests
        time.sleep(SOAK_SECONDS)
    finally:
        traffic.stop.set()
        for thread in traffic.threads:
            thread.join(timeout=60)
    time.sleep(0.5)  # let the last sockets close
    end_rss, end_fds = measure(server.pid)
    soaked = traffic.requests - warm_requests
    print(  # noqa: T201  # the numbers, for the record (pytest -s)
        f"soak: {traffic.requests} requests ({soaked} after warm-up), {dict(traffic.statuses)}; "
        f"RSS {warm_rss / 2**20:.1f} -> {end_rss / 2**20:.1f} MiB "
        f"({(end_rss - warm_rss) / max(soaked, 1):.0f} B/request); fds {warm_fds} -> {end_fds}"
    )
    assert traffic.unexpected == [], traffic.unexpected[:5]
    assert soaked > 200, "too little traffic to judge"
    assert end_fds <= warm_fds + FD_TOLERANCE
    assert end_rss <= warm_rss + RSS_TOLERANCE
