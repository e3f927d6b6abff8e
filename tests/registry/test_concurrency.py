"""Concurrent status changes against a real server on loopback lose nothing (SQLite and PostgreSQL).

200 revocations and suspensions of credentials that share one revocation list and one suspension list, sent
by 16 threads at once: every change the server acknowledged must be in the list it then serves, and each
list's version must count every change exactly once.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING

import httpx
import pytest
import uvicorn
from sqlmodel import select

from issuer import CertificationDecision
from registry import lifecycle
from registry.eventlog import verify_chain
from registry.models import Credential, StatusList
from verifier import TrustStore

if TYPE_CHECKING:
    from conftest import Registry

CHANGES = 200
THREADS = 16


@pytest.fixture
def server(registry: Registry) -> Iterator[str]:
    """The registry under uvicorn on 127.0.0.1, on a port the OS picked; stopped after the test."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(registry.app(), log_level="warning", access_log=False, lifespan="on")
    instance = uvicorn.Server(config)
    thread = threading.Thread(target=instance.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not instance.started:
        assert time.monotonic() < deadline, "the server did not start"
        assert thread.is_alive(), "the server stopped"
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        instance.should_exit = True
        thread.join(timeout=15)
        sock.close()


@pytest.mark.slow
def test_concurrent_changes_lose_nothing(registry: Registry, server: str) -> None:
    with registry.session() as session:
        decisions = [CertificationDecision.model_validate(registry.decision()) for _ in range(CHANGES)]
        issued = lifecycle.issue_batch(
            session=session, ctx=registry.context(), body=registry.acme, decisions=decisions, actor="setup"
        ).credentials
    assert len({c.revocation_list_id for c in issued}) == len({c.suspension_list_id for c in issued}) == 1
    headers = registry.bearer(registry.token())
    plan = [(c, "revoke" if n % 2 == 0 else "suspend") for n, c in enumerate(issued)]

    with httpx.Client(base_url=server, headers=headers, timeout=30) as client:

        def send(item: tuple[Credential, str]) -> tuple[Credential, str, int]:
            credential, verb = item
            response = client.post(
                f"/api/v1/credentials/{credential.id}/{verb}", json={"reasonCode": "other"}
            )
            return credential, verb, response.status_code

        started = time.monotonic()
        with ThreadPoolExecutor(THREADS) as pool:
            results = list(pool.map(send, plan))
        elapsed = time.monotonic() - started

        acknowledged = [(c, verb) for c, verb, status in results if status == 200]
        assert [status for _, _, status in results if status != 200] == []
        trust = TrustStore()
        trust.add_did_document(client.get("/issuers/acme-cb/did.json").json())
        lists = {}
        for purpose, list_id in (
            ("revocation", issued[0].revocation_list_id),
            ("suspension", issued[0].suspension_list_id),
        ):
            snapshot = trust.add_status_list(client.get(f"/status/{list_id}").content)
            assert snapshot.bits is not None, snapshot.result
            lists[purpose] = snapshot.bits

    for credential, verb in acknowledged:
        if verb == "revoke":
            assert lists["revocation"].get(credential.revocation_index), credential.id
        else:
            assert lists["suspension"].get(credential.suspension_index), credential.id
    set_bits = sum(lists["revocation"].get(c.revocation_index) for c in issued)
    assert set_bits == CHANGES // 2
    with registry.session() as session:
        versions = sorted(lst.version for lst in session.exec(select(StatusList)))
        assert versions == [1 + CHANGES // 2, 1 + CHANGES // 2]
        report = verify_chain(session=session)
    assert report.ok
    assert report.checked == registry.setup_events + 2 * CHANGES
    assert elapsed < 60, f"{CHANGES} changes took {elapsed:.1f} s"


def test_concurrent_retries_with_one_idempotency_key_issue_once(registry: Registry, server: str) -> None:
    decision = registry.decision()
    headers = {**registry.bearer(registry.token()), "Idempotency-Key": "retry-storm"}

    with httpx.Client(base_url=server, headers=headers, timeout=30) as client:

        def send(_: int) -> httpx.Response:
            return client.post("/api/v1/credentials", json=decision)

        with ThreadPoolExecutor(8) as pool:
            responses = list(pool.map(send, range(8)))

    assert [r.status_code for r in responses] == [201] * 8, [r.text for r in responses]
    assert len({r.json()["id"] for r in responses}) == 1
    assert sum(r.headers.get("idempotent-replayed") == "true" for r in responses) == 7
    assert registry.count(Credential) == 1
