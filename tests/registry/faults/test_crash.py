"""SIGKILL the registry in the middle of a stream of writes, restart it, and check what survived (SQLite and
PostgreSQL).

Four client threads issue certificates and suspend, reinstate and revoke the ones they issued, each keeping the
list of what the server acknowledged and the one request it had in flight when the server died. After the
restart:
- every acknowledged change is in the database and in the status lists the server then serves (read with the
  verifier, which also verifies each credential against them);
- the one unacknowledged request per client is either wholly applied or not at all: every credential in the
  database has its two status bits in agreement with its stored status, its two index allocations, and events
  that replay to that status; an issuance that was never acknowledged is either all there or absent;
- no status index is used twice; the event log's hash chain verifies;
- the restarted server takes writes again.
"""

from __future__ import annotations

import random
import secrets
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import httpx
import pytest
import sqlalchemy as sa
from sqlmodel import select

from registry.eventlog import verify_chain
from registry.models import Credential, Event, StatusAllocation
from verifier import TrustStore, Verdict, verify

if TYPE_CHECKING:
    from conftest import Registry

CLIENTS = 4
TRAFFIC_SECONDS = 2.5
MIN_ACKNOWLEDGED = 24
AFTER = {"suspend": "suspended", "reinstate": "active", "revoke": "revoked"}
ACTION_STATUS = {"issued": "active", "suspended": "suspended", "reinstated": "active", "revoked": "revoked"}
REQUEST = {
    "suspend": {"reasonCode": "surveillance_not_performed"},
    "reinstate": {},
    "revoke": {"reasonCode": "nonconformity", "reason": "crash test"},
}


@dataclass
class Client:
    """One client's view: what the server acknowledged, and what it sent without an answer."""

    statuses: dict[str, str] = field(default_factory=dict)  # credential id -> acknowledged status
    pending_change: tuple[str, str] | None = None  # (credential id, status it would have)
    pending_issue: str | None = None  # certificate number of an issuance without an answer
    acknowledged: int = 0
    other_answers: list[tuple[int, str]] = field(default_factory=list)


def run_client(
    state: Client, *, url: str, token: str, decision: Any, stop: threading.Event, seed: int
) -> None:
    """Send writes until `stop` or until the server goes away, recording in `state`."""
    rng = random.Random(seed)  # noqa: S311  # a test's choice of operations, not a secret
    headers = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=url, headers=headers, timeout=20) as http:
        while not stop.is_set():
            live = [cid for cid, status in state.statuses.items() if status != "revoked"]
            if not live or rng.random() < 0.4:
                body = decision()
                try:
                    response = http.post(
                        "/api/v1/credentials",
                        json=body,
                        headers={"Idempotency-Key": secrets.token_hex(16)},
                    )
                except httpx.TransportError:
                    state.pending_issue = body["certificateNumber"]
                    return
                if response.status_code != 201:
                    state.other_answers.append((response.status_code, response.text[:300]))
                    continue
                state.statuses[response.json()["id"]] = "active"
            else:
                cid = rng.choice(live)
                verb = rng.choice(
                    ["reinstate", "revoke"] if state.statuses[cid] == "suspended" else ["suspend", "revoke"]
                )
                try:
                    response = http.post(f"/api/v1/credentials/{cid}/{verb}", json=REQUEST[verb])
                except httpx.TransportError:
                    state.pending_change = (cid, AFTER[verb])
                    return
                if response.status_code != 200:
                    state.other_answers.append((response.status_code, response.text[:300]))
                    continue
                state.statuses[cid] = AFTER[verb]
            state.acknowledged += 1


def replay(actions: list[str]) -> tuple[str, bool, bool]:
    """The status a credential's events lead to, and its revocation and suspension bits (a revocation leaves
    the suspension bit as it was: revoked is final whatever the other list says)."""
    assert actions[:1] == ["issued"], actions
    status, revoked, suspended = "active", False, False
    for action in actions:
        status = ACTION_STATUS.get(action, status)
        revoked = revoked or action == "revoked"
        suspended = {"suspended": True, "reinstated": False}.get(action, suspended)
    return status, revoked, suspended


@pytest.mark.slow
def test_sigkill_mid_stream_loses_no_acknowledged_change(registry: Registry, serve: Any) -> None:
    token = registry.token()
    server = serve()
    stop = threading.Event()
    results: list[Client] = [Client() for _ in range(CLIENTS)]

    def worker(n: int) -> None:
        run_client(results[n], url=server.url, token=token, decision=registry.decision, stop=stop, seed=n)

    threads = [threading.Thread(target=worker, args=(n,), daemon=True) for n in range(CLIENTS)]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + TRAFFIC_SECONDS
    while time.monotonic() < deadline or sum(c.acknowledged for c in results) < MIN_ACKNOWLEDGED:
        time.sleep(0.05)
        assert time.monotonic() < deadline + 20, "too few acknowledged writes"
    server.kill()  # in the middle of the stream: the clients are still sending
    stop.set()
    for thread in threads:
        thread.join(timeout=30)
    assert not any(thread.is_alive() for thread in threads)
    assert [answer for c in results for answer in c.other_answers] == []
    in_flight = sum(c.pending_change is not None or c.pending_issue is not None for c in results)

    restarted = serve()
    with httpx.Client(base_url=restarted.url, timeout=20) as http:
        stored, events = check_after_restart(http, registry, results)
        # The restarted server takes writes again.
        response = http.post("/api/v1/credentials", json=registry.decision(), headers=registry.bearer(token))
        assert response.status_code == 201, response.text
        assert uuid.UUID(response.json()["id"])
    with registry.session() as session:
        total = session.exec(sa.select(sa.func.count()).select_from(Credential)).one()[0]  # type: ignore[call-overload]
    assert total == len(stored) + 1
    print(  # noqa: T201  # the numbers, for the record (pytest -s)
        f"{registry.engine.dialect.name}: {len(stored)} credentials, {len(events)} events, "
        f"{sum(c.acknowledged for c in results)} acknowledged, {in_flight} in flight at the kill"
    )


def check_after_restart(
    http: httpx.Client, registry: Registry, results: list[Client]
) -> tuple[dict[str, Credential], list[Event]]:
    """The checks of the module docstring, through the restarted server and in the database."""
    now = datetime.now(UTC)
    trust = TrustStore()
    trust.add_did_document(http.get("/issuers/acme-cb/did.json").json())
    with registry.session() as session:
        credentials = list(session.exec(select(Credential)))
        allocations = list(session.exec(select(StatusAllocation)))
        events = list(session.exec(select(Event).order_by(Event.seq)))  # type: ignore[arg-type]
        report = verify_chain(session=session)
    lists = {}
    for list_id in {c.revocation_list_id for c in credentials} | {c.suspension_list_id for c in credentials}:
        response = http.get(f"/status/{list_id}")
        assert response.status_code == 200
        snapshot = trust.add_status_list(response.content)
        assert snapshot.bits is not None, snapshot.result
        lists[list_id] = snapshot.bits

    stored = {str(c.id): c for c in credentials}
    # Every acknowledged change is there; the one in flight per client is there or not, never half.
    for client in results:
        for cid, status in client.statuses.items():
            assert cid in stored, f"acknowledged credential {cid} is missing"
            allowed = {status}
            if client.pending_change is not None and client.pending_change[0] == cid:
                allowed.add(client.pending_change[1])
            assert stored[cid].status in allowed, (cid, stored[cid].status, allowed)
        if client.pending_issue is not None:
            found = [c for c in credentials if c.certificate_number == client.pending_issue]
            assert len(found) <= 1
    acknowledged_ids = {cid for client in results for cid in client.statuses}
    unacknowledged = set(stored) - acknowledged_ids
    assert len(unacknowledged) <= sum(c.pending_issue is not None for c in results)

    # Every credential, acknowledged or not: bits, verifier verdict and events agree with its status.
    actions: dict[str, list[str]] = {}
    for event in events:
        if event.credential_id is not None:
            actions.setdefault(str(event.credential_id), []).append(event.action)
    assert set(actions) == set(stored), "events for credentials that do not exist, or the reverse"
    for cid, credential in stored.items():
        status, revoked, suspended = replay(actions[cid])
        assert status == credential.status, (cid, actions[cid])
        assert lists[credential.revocation_list_id].get(credential.revocation_index) is revoked, cid
        assert lists[credential.suspension_list_id].get(credential.suspension_index) is suspended, cid
        served = http.get(f"/api/v1/credentials/{cid}/credential.jwt")
        assert served.status_code == 200
        result = verify(served.content, trust, now=now)
        expected = Verdict.VALID if credential.status == "active" else Verdict.INVALID
        assert result.verdict is expected, (credential.status, result.render_text())

    # No status index used twice, and each credential holds exactly its two.
    slots = Counter((a.list_id, a.status_index) for a in allocations)
    assert max(slots.values(), default=1) == 1
    held = Counter((c.revocation_list_id, c.revocation_index) for c in credentials) + Counter(
        (c.suspension_list_id, c.suspension_index) for c in credentials
    )
    assert max(held.values(), default=1) == 1
    assert set(held) == set(slots)
    assert all(str(a.credential_id) in stored for a in allocations)
    assert report.ok, report
    assert report.checked == len(events)
    return stored, events
