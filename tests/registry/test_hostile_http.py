"""Replay tests/assets/hostile/http/requests.json against the registry on SQLite and PostgreSQL.

Each request must be answered with its expected status: an RFC 9457 problem of the expected type (or, for a
search, JSON with no results), with no stack trace and no SQL in the body, and it must leave the database as it
found it: no credential, event or status list written. Cases already in test_api_errors.py (malformed JSON, a
JSON array as the decision, the 4 KiB cap, a 300-character Idempotency-Key) are not repeated.

Members of a request (see tests/assets/hostile/README.md): `body` is text in which `@MEMBERS@` stands for the
members of a fresh valid decision (less `dropMembers`), `@BIG@` and `@HUGE@` for the generator's output;
`bodyBase64` is raw bytes; `generator` builds what is too big to store; `streamed` sends without
Content-Length; `auth` is `valid` (a Bearer token with every scope), `none`, or the Authorization value.
"""

from __future__ import annotations

import base64
import json
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import pytest
from fastapi.testclient import TestClient

from registry.models import Credential, Event, IdempotencyRecord

if TYPE_CHECKING:
    from conftest import Registry

MANIFEST_PATH = Path(__file__).resolve().parents[1] / "assets" / "hostile" / "http" / "requests.json"
REQUESTS: list[dict[str, Any]] = json.loads(MANIFEST_PATH.read_text("utf-8"))["requests"]
LIMIT = 5.0  # seconds per request; the slowest (a 1 MiB body) takes a fraction of that
# What a leaked stack trace, SQL statement or driver error looks like.
LEAKS = re.compile(
    r"Traceback|File \"|sqlalchemy|psycopg|sqlite3|SELECT .* FROM|INSERT INTO|OperationalError|RecursionError",
    re.IGNORECASE,
)


def generated(spec: dict[str, Any]) -> str:
    name = spec["name"]
    if name == "deep-array":
        return "[" * spec["depth"] + "]" * spec["depth"]
    if name == "deep-object":
        return '{"a":' * spec["depth"] + "1" + "}" * spec["depth"]
    if name == "digits":
        return "9" * spec["digits"]
    if name == "string":
        return "x" * spec["chars"]
    if name == "padding":
        return '{"scope": "' + "x" * (spec["bytes"] - 13) + '"}'
    if name == "members":
        return "{" + ",".join(f'"m{i}":0' for i in range(spec["count"])) + "}"
    raise AssertionError(f"unknown generator {name!r}")


def body_of(entry: dict[str, Any], registry: Registry) -> bytes | None:
    if "bodyBase64" in entry:
        return base64.b64decode(entry["bodyBase64"])
    text = entry.get("body")
    filler = generated(entry["generator"]) if "generator" in entry else ""
    if text is None:
        return filler.encode() if filler else None
    decision = registry.decision()
    for member in entry.get("dropMembers", ()):
        del decision[member]
    members = json.dumps(decision, ensure_ascii=False)[1:-1]
    text = text.replace("@MEMBERS@", members).replace("@BIG@", filler).replace("@HUGE@", filler)
    data = text.encode(entry.get("encoding", "utf-8"))
    return data.replace(b"@LONE-SURROGATE@", b"\xed\xa0\x80").replace(b"@LATIN1-E-ACUTE@", b"\xe9")


def counts(registry: Registry) -> tuple[int, int, int]:
    return registry.count(Credential), registry.count(Event), registry.count(IdempotencyRecord)


def send(client: TestClient, registry: Registry, token: str, entry: dict[str, Any]) -> httpx.Response:
    headers = dict(entry.get("headers", {}))
    auth = entry["auth"]
    if auth == "valid":
        headers["Authorization"] = f"Bearer {token}"
    elif auth != "none":
        headers["Authorization"] = auth
    content: Any = body_of(entry, registry)
    if entry.get("streamed"):
        data = content

        def chunks() -> Iterator[bytes]:
            for start in range(0, len(data), 64 * 1024):
                yield data[start : start + 64 * 1024]

        content = chunks()
    return client.request(entry["method"], entry["path"], headers=headers, content=content)


@pytest.mark.parametrize("entry", REQUESTS, ids=[e["name"] for e in REQUESTS])
def test_hostile_request(client: TestClient, registry: Registry, token: str, entry: dict[str, Any]) -> None:
    before = counts(registry)
    expect = entry["expect"]
    start = time.perf_counter()
    response = send(client, registry, token, entry)
    elapsed = time.perf_counter() - start
    assert elapsed < LIMIT, f"{elapsed:.2f} s"
    assert not LEAKS.search(response.text), response.text[:2000]
    if "knownIssue" in entry:
        if response.status_code != expect["status"]:
            pytest.xfail(f"known issue: {entry['knownIssue']} (got {response.status_code})")
        pytest.fail(f"{entry['name']} is fixed: remove its knownIssue from {MANIFEST_PATH.name}")
    after = counts(registry)
    if expect.get("stores"):
        assert after[0] == before[0] + 1, "an accepted request stores one credential"
    else:
        assert after == before, "the request wrote to the database"
    assert response.status_code == expect["status"], response.text[:2000]
    if expect["status"] < 300:
        assert response.headers["content-type"].startswith("application/json")
        if "items" in expect:
            assert len(response.json()["items"]) == expect["items"]
        return
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["status"] == expect["status"]
    assert problem["type"] == expect["type"], problem
    assert problem["title"]
    assert problem["detail"]


def test_the_database_is_intact_after_the_sql_vectors(
    client: TestClient, registry: Registry, token: str
) -> None:
    """The SQL vectors ran against an empty registry; against one with a credential they still find nothing
    and destroy nothing."""
    issued = client.post("/api/v1/credentials", json=registry.decision(), headers=registry.bearer(token))
    assert issued.status_code == 201, issued.text
    for entry in REQUESTS:
        if entry["name"].startswith("sql-"):
            response = send(client, registry, token, entry)
            assert response.status_code == entry["expect"]["status"], entry["name"]
            if "items" in entry["expect"]:
                assert response.json()["items"] == [], entry["name"]
    assert registry.count(Credential) == 1
    assert client.get(f"/api/v1/credentials/{issued.json()['id']}").status_code == 200
