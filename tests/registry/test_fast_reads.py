"""The fast read paths answer exactly as the threadpool paths they shortcut.

On SQLite the registry answers the hot public reads (status lists, a credential's record and signed token) and
the token check on the event loop through its LoopReader, and falls back to the threadpool path whenever the
reader cannot answer at once (SQLite busy). Holding the reader forces the fallback, so each answer is compared
with itself taken both ways.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

import httpx
import pytest
from fastapi.testclient import TestClient

from registry.db import LoopReader

if TYPE_CHECKING:
    from conftest import Registry

# Headers that legitimately differ between two responses: none of ours.
_VOLATILE = {"date"}
# The loop reader is for SQLite only: on PostgreSQL every read takes the threadpool path, which the rest of
# the suite runs on both backends.
on_sqlite = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


@pytest.fixture
def sqlite_client(registry: Registry) -> Iterator[TestClient]:
    assert not registry.is_postgres
    with TestClient(registry.app()) as client:
        yield client


def reader(client: TestClient) -> LoopReader:
    found = client.app.state.reader  # type: ignore[attr-defined]
    assert isinstance(found, LoopReader)
    return found


def both_ways(
    client: TestClient, send: Callable[[], httpx.Response]
) -> tuple[httpx.Response, httpx.Response]:
    fast = send()
    with reader(client).held():
        slow = send()
    return fast, slow


def assert_same(fast: httpx.Response, slow: httpx.Response) -> None:
    assert fast.status_code == slow.status_code
    assert fast.content == slow.content
    assert {k: v for k, v in fast.headers.items() if k not in _VOLATILE} == {
        k: v for k, v in slow.headers.items() if k not in _VOLATILE
    }


def issue(client: TestClient, registry: Registry, token: str, **overrides: Any) -> dict[str, Any]:
    response = client.post(
        "/api/v1/credentials", json=registry.decision(**overrides), headers=registry.bearer(token)
    )
    assert response.status_code == 201, response.text
    issued: dict[str, Any] = response.json()
    return issued


def change(client: TestClient, registry: Registry, token: str, path: str, body: Any = None) -> None:
    response = client.post(f"/api/v1/credentials/{path}", json=body, headers=registry.bearer(token))
    assert response.status_code in (200, 201), response.text


@on_sqlite
def test_status_lists_both_ways(sqlite_client: TestClient, registry: Registry, token: str) -> None:
    client = sqlite_client
    credential = issue(client, registry, token)
    urls = [entry["statusListCredential"] for entry in credential["credentialStatus"]]
    for url in urls:
        path = url.removeprefix(registry.settings.public_url)
        fast, slow = both_ways(client, lambda p=path: client.get(p))
        assert fast.status_code == 200
        assert_same(fast, slow)
        etag = fast.headers["etag"]
        assert_same(*both_ways(client, lambda p=path, e=etag: client.get(p, headers={"If-None-Match": e})))
        assert client.get(path, headers={"If-None-Match": etag}).status_code == 304
    for missing in ("/status/999999", "/status/0", "/status/abc", "/status/" + "9" * 30):
        fast, slow = both_ways(client, lambda m=missing: client.get(m))
        assert fast.status_code == 404
        assert fast.json()["type"] == slow.json()["type"] == "urn:aigov:problem:not-found"


@on_sqlite
def test_a_change_is_served_at_once_whichever_path_cached_the_list(
    sqlite_client: TestClient, registry: Registry, token: str
) -> None:
    client = sqlite_client
    credential = issue(client, registry, token)
    path = credential["credentialStatus"][1]["statusListCredential"].removeprefix(
        registry.settings.public_url
    )
    with reader(client).held():
        before = client.get(path)  # cached by the threadpool path
    change(client, registry, token, f"{credential['id']}/suspend", {"reasonCode": "other"})
    after = client.get(path)  # the fast path sees the new version at once
    assert after.headers["etag"] != before.headers["etag"]
    with reader(client).held():
        assert client.get(path).content == after.content


@on_sqlite
def test_credential_records_both_ways(sqlite_client: TestClient, registry: Registry, token: str) -> None:
    client = sqlite_client
    plain = issue(client, registry, token)
    suspended = issue(client, registry, token)
    change(
        client, registry, token, f"{suspended['id']}/suspend", {"reasonCode": "nonconformity", "reason": "x"}
    )
    old = issue(client, registry, token)
    registry.clock.advance(days=30)
    renewal = client.post(
        f"/api/v1/credentials/{old['id']}/renew",
        json=registry.decision(assessedOn="2026-11-20"),
        headers=registry.bearer(token),
    ).json()
    for credential_id in (plain["id"], suspended["id"], old["id"], renewal["id"]):
        for suffix in ("", "/credential.jwt"):
            url = f"/api/v1/credentials/{credential_id}{suffix}"
            fast, slow = both_ways(client, lambda u=url: client.get(u))
            assert fast.status_code == 200
            assert_same(fast, slow)
    record = client.get(f"/api/v1/credentials/{old['id']}").json()
    assert (record["status"], record["supersededBy"]) == ("superseded", renewal["id"])
    assert [event["action"] for event in record["history"]] == ["issued", "superseded"]
    for unknown in ("00000000-0000-4000-8000-000000000000", "not-a-uuid"):
        fast, slow = both_ways(client, lambda u=unknown: client.get(f"/api/v1/credentials/{u}"))
        assert (fast.status_code, slow.status_code) == (404, 404)


@on_sqlite
def test_tokens_are_checked_alike_both_ways(
    sqlite_client: TestClient, registry: Registry, token: str
) -> None:
    client = sqlite_client
    fine = registry.bearer(token)
    bad = registry.bearer(token[:-4] + "AAAA")
    narrow = registry.bearer(registry.token(scopes=["credentials:revoke"]))
    for headers, status in ((fine, 201), (bad, 401), (narrow, 403)):
        fast, slow = both_ways(
            client, lambda h=headers: client.post("/api/v1/credentials", json=registry.decision(), headers=h)
        )
        assert (fast.status_code, slow.status_code) == (status, status)


def test_the_reader_gives_way_when_held_and_reconnects(tmp_path: Any, sqlite_template: Any) -> None:
    import shutil

    path = tmp_path / "aigov.db"
    shutil.copyfile(sqlite_template, path)
    found = LoopReader.for_url(f"sqlite:///{path}")
    assert found is not None
    assert LoopReader.for_url("postgresql+psycopg://u:p@localhost/db") is None
    assert LoopReader.for_url("sqlite:///:memory:") is None

    def version(connection: Any) -> int:
        return int(connection.execute("SELECT seq FROM event_chain_head").fetchone()[0])

    assert found.run(version) == 0
    with found.held():
        assert found.run(version) is None
    found.close()
    assert found.run(version) == 0  # reopened
    found.close()
    assert LoopReader.for_url(f"sqlite:///{tmp_path / 'absent.db'}").run(version) is None  # type: ignore[union-attr]
