"""The fast read paths answer exactly as the threadpool paths they shortcut.

On SQLite the registry answers the hot public reads (status lists, a credential's record and signed token) and
the token check on the event loop through its LoopReader, and falls back to the threadpool path whenever the
reader cannot answer at once (SQLite busy). On PostgreSQL it answers the status lists on the event loop through
its AsyncPgReader, and falls back to the route when the database cannot be read or the list is not cached at
its current version. Holding the reader forces the fallback, so each answer is compared with itself taken both
ways; and the fast path is also called directly, to show that it answers (and never with a stale list).
"""

from __future__ import annotations

import asyncio
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Any

import httpx
import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from registry.app import RegistryApp
from registry.db import AsyncPgReader, LoopReader
from registry.routes.credentials import (
    _NOT_FOUND,
    _PG_CONCURRENT_READS,
    _on_postgres,
    _record_postgres,
    _record_session,
    _token_postgres,
    _token_session,
)
from registry.routes.status import fast_response, fast_response_async

if TYPE_CHECKING:
    from conftest import Registry

# Headers that legitimately differ between two responses: none of ours.
_VOLATILE = {"date"}
# The loop reader is for SQLite only: on PostgreSQL the records and tokens take the threadpool path, which the
# rest of the suite runs on both backends.
on_sqlite = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
on_postgres = pytest.mark.parametrize(
    "database_url", [pytest.param("postgres", marks=pytest.mark.postgres)], indirect=True
)


@pytest.fixture
def sqlite_client(registry: Registry) -> Iterator[TestClient]:
    assert not registry.is_postgres
    with TestClient(registry.app()) as client:
        yield client


def held(client: TestClient) -> AbstractContextManager[None]:
    """Hold the app's reader, whichever the backend: every read then takes the threadpool path."""
    found = client.app.state.reader or client.app.state.pg_reader  # type: ignore[attr-defined]
    assert isinstance(found, LoopReader | AsyncPgReader)
    return found.held()


def fast_answer(
    client: TestClient, path: str, headers: dict[str, str] | None = None
) -> tuple[int, list[tuple[bytes, bytes]], bytes] | None:
    """What the status list fast path answers for `path` (None: it leaves the request to the route)."""
    app = client.app
    assert isinstance(app, RegistryApp)
    assert app.status_cache is not None
    scope = {
        "type": "http",
        "method": "GET",
        "path": path,
        "headers": [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()],
    }
    if app.pg_reader is not None:
        assert client.portal is not None
        return client.portal.call(fast_response_async, scope, app.pg_reader, app.status_cache)
    assert app.fast_reader is not None
    return fast_response(scope, app.fast_reader, app.status_cache)


def assert_answered(
    answer: tuple[int, list[tuple[bytes, bytes]], bytes] | None, response: httpx.Response
) -> None:
    """The fast path's answer is `response` (status, body, every header but Date)."""
    assert answer is not None
    code, headers, body = answer
    assert (code, body) == (response.status_code, response.content)
    assert {k.decode(): v.decode() for k, v in headers} == {
        k: v for k, v in response.headers.items() if k not in _VOLATILE
    }


def both_ways(
    client: TestClient, send: Callable[[], httpx.Response]
) -> tuple[httpx.Response, httpx.Response]:
    fast = send()
    with held(client):
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


def test_status_lists_both_ways(client: TestClient, registry: Registry, token: str) -> None:
    credential = issue(client, registry, token)
    urls = [entry["statusListCredential"] for entry in credential["credentialStatus"]]
    for url in urls:
        path = url.removeprefix(registry.settings.public_url)
        fast, slow = both_ways(client, lambda p=path: client.get(p))
        assert fast.status_code == 200
        assert_same(fast, slow)
        assert_answered(fast_answer(client, path), fast)
        etag = fast.headers["etag"]
        assert_same(*both_ways(client, lambda p=path, e=etag: client.get(p, headers={"If-None-Match": e})))
        head = client.head(path)  # the route's answer (the fast path takes GET), without its body
        assert (head.status_code, head.content, head.headers["etag"]) == (200, b"", etag)
        assert head.headers["content-length"] == fast.headers["content-length"]
        not_modified = client.get(path, headers={"If-None-Match": etag})
        assert not_modified.status_code == 304
        assert_answered(fast_answer(client, path, {"If-None-Match": f'"x", W/{etag}'}), not_modified)
    # Digits that are not ASCII ("²" which int() refuses, Arabic-Indic 1 which it reads as 1) and a leading zero: one URL
    # per list, and never a 500.
    odd = [f"/status/{text}" for text in ("%C2%B2", "%E2%91%A0", "%D9%A1", "01", "+1", " 1")]
    for missing in ("/status/999999", "/status/0", "/status/abc", "/status/" + "9" * 30, "/status/-1", *odd):
        fast, slow = both_ways(client, lambda m=missing: client.get(m))
        assert fast.status_code == 404
        assert fast.json()["type"] == slow.json()["type"] == "urn:aigov:problem:not-found"
        assert fast_answer(client, missing) is None


def test_a_change_is_served_at_once_whichever_path_cached_the_list(
    client: TestClient, registry: Registry, token: str
) -> None:
    credential = issue(client, registry, token)
    path = credential["credentialStatus"][1]["statusListCredential"].removeprefix(
        registry.settings.public_url
    )
    with held(client):
        before = client.get(path)  # cached by the threadpool path
    assert_answered(fast_answer(client, path), before)
    change(client, registry, token, f"{credential['id']}/suspend", {"reasonCode": "other"})
    # Right after the commit the fast path never serves the old list: on SQLite it reads the new one, on
    # PostgreSQL it leaves the request to the route, which reads and caches it.
    stale = fast_answer(client, path)
    assert stale is None or (b"etag", before.headers["etag"].encode()) not in stale[1]
    after = client.get(path)
    assert after.headers["etag"] != before.headers["etag"]
    assert_answered(fast_answer(client, path), after)
    with held(client):
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


@pytest.fixture
def tokyo(registry: Registry) -> Iterator[sa.Engine]:
    """An engine whose sessions read timestamptz in Tokyo time (the record must still say UTC)."""
    engine = sa.create_engine(
        registry.settings.database_url, connect_args={"options": "-c TimeZone=Asia/Tokyo"}
    )
    try:
        yield engine
    finally:
        engine.dispose()


@on_postgres
def test_postgresql_records_read_with_plain_sql_are_the_session_records(
    client: TestClient, registry: Registry, token: str, tokyo: sa.Engine
) -> None:
    """On PostgreSQL the record and the token are read with plain SQL: byte for byte the session's answer."""
    engine, url = registry.engine, registry.settings.public_url

    def assert_plain_is_session(credential_id: str) -> dict[str, Any]:
        key = uuid.UUID(credential_id)
        plain = _record_postgres(engine, key, url)
        assert isinstance(plain, bytes)
        assert plain == _record_session(engine, key, url) == _record_postgres(tokyo, key, url)
        assert _token_postgres(engine, key) == _token_session(engine, key)
        served = client.get(f"/api/v1/credentials/{credential_id}")
        assert (served.status_code, served.content) == (200, plain)
        signed = client.get(f"/api/v1/credentials/{credential_id}/credential.jwt")
        assert (signed.status_code, signed.text) == (200, _token_session(engine, key))
        record: dict[str, Any] = served.json()
        return record

    subject = {
        "id": "did:web:zürich.example",
        "legalName": {"en": "Ünïcödé & Søn — “AI” 🤖", "ja": "株式会社ｱｲ・テスト〜"},
        "corporateNumber": "7000012050002",
        "website": "https://zürich.example/ä?q=1",
    }
    plain = issue(client, registry, token, subject=subject)
    assert_plain_is_session(plain["id"])  # the first read: before any event but its issuance
    changed = issue(client, registry, token)
    registry.clock.advance(days=3)
    change(
        client,
        registry,
        token,
        f"{changed['id']}/suspend",
        {"reasonCode": "nonconformity", "reason": "監査 ✗"},
    )
    assert assert_plain_is_session(changed["id"])["status"] == "suspended"
    registry.clock.advance(days=3)
    change(client, registry, token, f"{changed['id']}/reinstate", {"reason": "fixed: “ok”"})
    change(client, registry, token, f"{changed['id']}/revoke", {"reasonCode": "misuse_of_mark"})
    revoked = assert_plain_is_session(changed["id"])
    assert (revoked["status"], [event["action"] for event in revoked["history"]]) == (
        "revoked",
        ["issued", "suspended", "reinstated", "revoked"],
    )
    old = issue(client, registry, token)
    registry.clock.advance(days=30)
    renewal = client.post(
        f"/api/v1/credentials/{old['id']}/renew",
        json=registry.decision(assessedOn="2026-11-20"),
        headers=registry.bearer(token),
    ).json()
    assert assert_plain_is_session(old["id"])["supersededBy"] == renewal["id"]
    assert assert_plain_is_session(renewal["id"])["status"] == "active"
    names = assert_plain_is_session(plain["id"])
    assert (names["legalNameEn"], names["legalNameJa"]) == tuple(subject["legalName"].values())
    unknown = uuid.UUID("00000000-0000-4000-8000-000000000000")
    assert _record_postgres(engine, unknown, url) is _record_session(engine, unknown, url) is _NOT_FOUND
    assert _token_postgres(engine, unknown) is _token_session(engine, unknown) is _NOT_FOUND
    for suffix in ("", "/credential.jwt"):
        for missing in (str(unknown), "not-a-uuid"):
            response = client.get(f"/api/v1/credentials/{missing}{suffix}")
            assert response.status_code == 404
            assert response.headers["content-type"] == "application/problem+json"
            assert response.json()["type"] == "urn:aigov:problem:not-found"
    # The pooled connections went back read-write at READ COMMITTED: writes through the same engine still work.
    change(client, registry, token, f"{plain['id']}/suspend", {"reasonCode": "other"})
    with registry.engine.connect() as connection:
        assert connection.exec_driver_sql("SHOW transaction_isolation").scalar() == "read committed"
        assert connection.exec_driver_sql("SHOW transaction_read_only").scalar() == "off"
    with tokyo.connect() as connection:
        assert connection.exec_driver_sql("SHOW TimeZone").scalar() == "Asia/Tokyo"


def test_postgresql_reads_run_at_most_so_many_at_once() -> None:
    """A burst of record reads holds no more pooled connections than the pool keeps (see _on_postgres)."""
    running, peak, lock = 0, 0, threading.Lock()

    def read() -> object:
        nonlocal running, peak
        with lock:
            running += 1
            peak = max(peak, running)
        time.sleep(0.02)
        with lock:
            running -= 1
        return "read"

    async def burst() -> list[object]:
        return list(await asyncio.gather(*(_on_postgres(read) for _ in range(3 * _PG_CONCURRENT_READS))))

    assert asyncio.run(burst()) == ["read"] * 3 * _PG_CONCURRENT_READS
    assert 1 < peak <= _PG_CONCURRENT_READS
    assert asyncio.run(burst()) == ["read"] * 3 * _PG_CONCURRENT_READS  # on another event loop


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


def test_the_postgresql_reader_reads_versions_together_and_gives_way_when_it_cannot(
    registry: Registry, token: str
) -> None:
    if not registry.is_postgres:
        assert AsyncPgReader.for_url(registry.settings.database_url) is None
        return
    found = AsyncPgReader.for_url(registry.settings.database_url)
    assert found is not None
    with TestClient(registry.app()) as client:
        lists = [
            int(entry["statusListCredential"].rsplit("/", 1)[1])
            for entry in issue(client, registry, token)["credentialStatus"]
        ]
    with registry.engine.begin() as connection:
        versions = dict(connection.exec_driver_sql("SELECT id, version FROM status_lists").all())
    asked = [*lists, 999_999, lists[0], 10**17]

    async def read() -> list[dict[int, int] | None]:
        try:
            return list(await asyncio.gather(*(found.versions(list_id) for list_id in asked)))
        finally:
            await found.aclose()

    # Asked at once, they share reads; each caller sees its own list (and an unknown list is not there).
    answers = asyncio.run(read())
    for list_id, answer in zip(asked, answers, strict=True):
        assert answer is not None
        assert answer.get(list_id) == versions.get(list_id)
    assert versions[lists[0]] is not None
    assert 999_999 not in versions
    with found.held():
        assert asyncio.run(read()) == [None] * len(asked)

    async def cancel(which: int) -> list[dict[int, int] | None]:
        """Three requests sharing a read, one of them cancelled (0: the one that sends the read)."""
        try:
            tasks = [asyncio.create_task(found.versions(list_id)) for list_id in lists[:1] * 3]
            await asyncio.sleep(0)  # all three wait for the same read
            tasks[which].cancel()
            done = await asyncio.wait_for(asyncio.gather(*tasks, return_exceptions=True), timeout=5)
            assert isinstance(done.pop(which), asyncio.CancelledError)
            return [answer for answer in done if not isinstance(answer, BaseException)]
        finally:
            await found.aclose()

    # A request gone does not take the others with it: they get the versions, or None (the route answers).
    assert asyncio.run(cancel(1)) == [{lists[0]: versions[lists[0]]}] * 2
    assert asyncio.run(cancel(0)) == [None, None]
    # No server there (a port bound but not listening refuses connections): None, at once.
    with socket.socket() as bound:
        bound.bind(("127.0.0.1", 0))
        port = bound.getsockname()[1]
        unreachable = AsyncPgReader(f"host=127.0.0.1 port={port} dbname=x user=x connect_timeout=2")

        async def read_unreachable() -> tuple[dict[int, int] | None, float]:
            started = time.monotonic()
            return await unreachable.versions(lists[0]), time.monotonic() - started

        answer, took = asyncio.run(read_unreachable())
    assert answer is None
    assert took < 1.5
    assert AsyncPgReader.for_url("sqlite:///x.db") is None
