"""Property-based tests of the public read API's query parameters and path segments: whatever a client sends,
the answer is a 2xx or a clean 4xx RFC 9457 problem (never a 500, never a traceback), within bounded time.

Generated: known parameter names and unknown ones, repeated names, values that are plausible (dates, limits,
statuses, cursors), hostile (control characters, NUL, lone surrogates escaped in URLs, huge numbers, very long
strings, SQL and LIKE wildcards, percent-encoding) or random text. SQLite only: the same code runs on both.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

if TYPE_CHECKING:
    from conftest import Registry

pytestmark = pytest.mark.slow
MAX_SECONDS = 2.0
EXAMPLES = 100

SEARCH_NAMES = ["q", "status", "level", "issuer", "valid_on", "updated_since", "limit", "cursor"]
EVENT_NAMES = ["after", "since", "limit", "cursor"]
EXPORT_NAMES = [*SEARCH_NAMES, "format", "bom"]

plausible = st.sampled_from(
    [
        "",
        "0",
        "-1",
        "1",
        "200",
        "201",
        "9" * 30,
        "1e9",
        "NaN",
        "true",
        "false",
        "active",
        "revoked",
        "expired",
        "ACTIVE",
        "2",
        "csv",
        "jsonl",
        "xml",
        "2026-11-01",
        "2026-02-30",
        "0000-01-01",
        "9999-12-31",
        "2026-11-01T00:00:00Z",
        "2026-11-01T00:00:00",
        "2026-11-01T00:00:00+14:00",
        "7000012050002",
        "AIGC-TEST-000001",
        "アクメ",
        "ACME",
        "%",
        "_",
        "\\",
        "' OR 1=1 --",
        "acme-cb",
        "eyJzb21lIjoiY3Vyc29yIn0",
        "\x00",
        "\t",
        "\u202e",
        "\ufeff",
        "x" * 5000,
    ]
)
values = st.one_of(plausible, st.text(max_size=300), st.integers().map(str))


def params(names: list[str]) -> st.SearchStrategy[list[tuple[str, str]]]:
    name = st.one_of(st.sampled_from(names), st.text(min_size=1, max_size=20))
    return st.lists(st.tuples(name, values), max_size=6)


@pytest.fixture
def database_url(tmp_path: Path, sqlite_template: Path) -> str:
    """SQLite only (overrides the two-backend fixture of conftest.py)."""
    path = tmp_path / "aigov.db"
    shutil.copyfile(sqlite_template, path)
    return f"sqlite:///{path}"


@pytest.fixture
def api(registry: Registry, token: str) -> Iterator[TestClient]:
    """A registry with a few credentials in every state."""
    with TestClient(registry.app()) as client:
        ids = []
        for _ in range(4):
            response = client.post(
                "/api/v1/credentials", json=registry.decision(), headers=registry.bearer(token)
            )
            assert response.status_code == 201
            ids.append(response.json()["id"])
        for cid, verb in zip(ids[1:], ("suspend", "revoke"), strict=False):
            answer = client.post(
                f"/api/v1/credentials/{cid}/{verb}",
                json={"reasonCode": "other"},
                headers=registry.bearer(token),
            )
            assert answer.status_code == 200
        yield client


def assert_clean(response: Any, elapsed: float, *, ok: set[int]) -> None:
    assert elapsed < MAX_SECONDS, f"{response.request.url} took {elapsed:.2f} s"
    assert response.status_code in ok | {400, 404, 422}, (response.request.url, response.text[:500])
    if response.status_code >= 400:
        assert response.headers["content-type"] == "application/problem+json", response.text[:300]
        problem = response.json()
        assert problem["status"] == response.status_code
        assert problem["type"].startswith(("urn:aigov:problem:", "https://www.w3.org/"))
        assert "Traceback" not in response.text


def get(client: TestClient, path: str, query: list[tuple[str, str]]) -> tuple[Any, float]:
    started = time.perf_counter()
    response = client.get(path, params=query)
    if path == "/api/v1/export" and response.status_code == 200:
        assert response.content is not None  # the whole stream, not just its head
    return response, time.perf_counter() - started


_SETTINGS = settings(
    max_examples=EXAMPLES,
    deadline=None,  # bounded by MAX_SECONDS per request instead: the first request warms caches
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@_SETTINGS
@given(query=params(SEARCH_NAMES))
def test_search_parameters(api: TestClient, query: list[tuple[str, str]]) -> None:
    response, elapsed = get(api, "/api/v1/credentials", query)
    assert_clean(response, elapsed, ok={200})
    if response.status_code == 200:
        assert isinstance(response.json()["items"], list)


@_SETTINGS
@given(query=params(EVENT_NAMES))
def test_event_feed_parameters(api: TestClient, query: list[tuple[str, str]]) -> None:
    response, elapsed = get(api, "/api/v1/events", query)
    assert_clean(response, elapsed, ok={200, 409})  # 409: an `after` past the log's end
    if response.status_code == 409:
        assert response.json()["type"] == "urn:aigov:problem:event-log-behind"


@_SETTINGS
@given(query=params(EXPORT_NAMES))
def test_export_parameters(api: TestClient, query: list[tuple[str, str]]) -> None:
    response, elapsed = get(api, "/api/v1/export", query)
    assert_clean(response, elapsed, ok={200})


@_SETTINGS
@given(
    segment=st.one_of(st.text(min_size=1, max_size=200), st.uuids().map(str), plausible.filter(bool)),
    suffix=st.sampled_from(["", "/credential.jwt"]),
    query=params(["x"]),
)
def test_credential_paths(api: TestClient, segment: str, suffix: str, query: list[tuple[str, str]]) -> None:
    response, elapsed = get(api, f"/api/v1/credentials/{quote(segment, safe='')}{suffix}", query)
    assert_clean(response, elapsed, ok={200})
