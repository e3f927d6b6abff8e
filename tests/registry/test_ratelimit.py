"""Rate limits (registry.ratelimit): per address on public endpoints, stricter on failed authentication.

The middleware does not depend on the database, so these run on SQLite only.
"""

from __future__ import annotations

import secrets
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from fastapi.testclient import TestClient

from registry.app import create_app
from registry.config import Settings
from registry.ratelimit import RateLimit, TokenBuckets, bucket_key, client_address, parse_networks

if TYPE_CHECKING:
    from conftest import Registry

RATE_LIMITED = "urn:aigov:problem:rate-limited"


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def database_url(tmp_path: Path, sqlite_template: Path) -> str:
    """SQLite only (overrides the two-backend fixture of conftest.py)."""
    path = tmp_path / "aigov.db"
    shutil.copyfile(sqlite_template, path)
    return f"sqlite:///{path}"


@pytest.fixture
def limited(registry: Registry) -> Iterator[Any]:
    """`limited(**settings)`: a TestClient on the registry with rate limits on and `settings` applied."""
    clients: list[TestClient] = []

    def make(address: str = "192.0.2.10", **overrides: Any) -> TestClient:
        settings = registry.settings.model_copy(update={"rate_limit_enabled": True, **overrides})
        app = create_app(settings, clock=registry.clock, key_cache=registry.key_cache)
        # A stopped clock for the buckets: on time.monotonic a slow run (>= 1 s) refills and Retry-After drops.
        [rate_limit] = [middleware for middleware in app.user_middleware if middleware.cls is RateLimit]
        rate_limit.kwargs["clock"] = Clock()
        client = TestClient(app, client=(address, 40000))
        client.__enter__()
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.__exit__(None, None, None)


def assert_429(response: Any, phrase: str) -> int:
    assert response.status_code == 429, response.text
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["type"] == RATE_LIMITED
    assert phrase in problem["detail"]
    assert "Traceback" not in response.text
    retry_after = int(response.headers["retry-after"])
    assert retry_after >= 1
    return retry_after


# -- the buckets --------------------------------------------------------------------------------------------------


def test_a_bucket_allows_its_burst_then_refills_at_its_rate() -> None:
    clock = Clock()
    buckets = TokenBuckets(per_minute=60, burst=3, clock=clock)
    assert [buckets.take("a") for _ in range(3)] == [0.0, 0.0, 0.0]
    assert buckets.take("a") == pytest.approx(1.0)
    assert buckets.take("b") == 0.0  # another key has its own bucket
    clock.now += 0.5
    assert buckets.wait("a") == pytest.approx(0.5)
    assert buckets.take("a") == pytest.approx(0.5)  # a refused take costs nothing
    clock.now += 0.5
    assert buckets.take("a") == 0.0
    assert buckets.take("a") > 0
    clock.now += 3600
    assert [buckets.take("a") for _ in range(4)][:3] == [0.0, 0.0, 0.0]  # never more than the burst


def test_buckets_are_bounded_dropping_the_least_recently_used() -> None:
    buckets = TokenBuckets(per_minute=1, burst=1, max_keys=100, clock=Clock())
    for n in range(1000):
        buckets.take(f"10.0.{n // 256}.{n % 256}")
    assert len(buckets) == 100
    assert buckets.take("10.0.3.231") > 0  # the most recent is still remembered
    assert buckets.take("10.0.0.0") == 0.0  # the oldest was dropped: back to full


# -- the client address -------------------------------------------------------------------------------------------


def scope(peer: str, *forwarded: str) -> dict[str, Any]:
    headers = [(b"x-forwarded-for", value.encode()) for value in forwarded]
    return {"type": "http", "client": (peer, 1234), "headers": headers}


def test_x_forwarded_for_is_ignored_unless_the_peer_is_a_trusted_proxy() -> None:
    assert client_address(scope("198.51.100.7", "203.0.113.9"), ()) == "198.51.100.7"
    proxies = parse_networks(["10.0.0.0/8", "::1"])
    assert client_address(scope("198.51.100.7", "203.0.113.9"), proxies) == "198.51.100.7"
    assert client_address(scope("10.1.2.3", "203.0.113.9"), proxies) == "203.0.113.9"
    # A client's own X-Forwarded-For entries come first: the proxy's appended hop is the one believed.
    assert client_address(scope("10.1.2.3", "1.1.1.1, 203.0.113.9"), proxies) == "203.0.113.9"
    assert client_address(scope("10.1.2.3", "1.1.1.1", "203.0.113.9, 10.9.9.9"), proxies) == "203.0.113.9"
    assert client_address(scope("::1", "2001:db8::5"), proxies) == "2001:db8::5"
    # Garbage where an address should be: the proxy's own address, never the garbage.
    assert client_address(scope("10.1.2.3", "not-an-address"), proxies) == "10.1.2.3"
    assert client_address(scope("10.1.2.3"), proxies) == "10.1.2.3"


def test_trusted_proxies_must_be_addresses_or_networks(registry: Registry) -> None:
    with pytest.raises(ValueError, match="does not appear to be an IPv4 or IPv6"):
        registry.settings.model_validate(
            {**registry.settings.model_dump(), "rate_limit_trusted_proxies": ["proxy.example"]}
        )


def test_limits_are_on_in_production_and_off_in_development_unless_set() -> None:
    strict = {"public_url": "https://registry.example", "key_passphrase": "a real passphrase"}
    assert Settings(**strict).rate_limits_on
    assert not Settings(environment="development").rate_limits_on
    assert Settings(environment="development", rate_limit_enabled=True).rate_limits_on
    assert not Settings(**strict, rate_limit_enabled=False).rate_limits_on


# -- the app ------------------------------------------------------------------------------------------------------


def test_public_reads_past_the_burst_get_429_with_retry_after(limited: Any) -> None:
    client = limited(rate_limit_burst=3, rate_limit_per_minute=1)
    assert [client.get("/api/v1/stats").status_code for _ in range(3)] == [200, 200, 200]
    assert assert_429(client.get("/api/v1/stats"), "too many requests from this address") == 60
    assert_429(client.get("/api/v1/credentials"), "too many requests")  # the bucket is per address
    other = limited(address="192.0.2.11", rate_limit_burst=3, rate_limit_per_minute=1)
    assert other.get("/api/v1/stats").status_code == 200


def test_a_limited_write_is_refused_before_its_body_is_read(limited: Any, registry: Registry) -> None:
    client = limited(rate_limit_burst=1, rate_limit_per_minute=1)
    assert client.get("/api/v1/stats").status_code == 200
    # Bigger than the body cap: were it read, this would be a 413.
    response = client.post("/api/v1/credentials", content=b"x" * (2 * 1024 * 1024))
    assert_429(response, "too many requests")


def test_status_lists_and_health_are_not_limited(limited: Any, registry: Registry, token: str) -> None:
    client = limited(rate_limit_burst=2, rate_limit_per_minute=1)
    issued = client.post("/api/v1/credentials", json=registry.decision(), headers=registry.bearer(token))
    assert issued.status_code == 201, issued.text
    list_url = issued.json()["credentialStatus"][0]["statusListCredential"]
    path = list_url.removeprefix(registry.settings.public_url)
    assert client.get("/api/v1/stats").status_code == 200
    assert client.get("/api/v1/stats").status_code == 429
    for _ in range(10):
        assert client.get(path).status_code == 200
        assert client.get("/healthz").status_code == 200
    with client.app.state.reader.held():  # the route's path (as on PostgreSQL), through the middleware
        for _ in range(10):
            assert client.get(path).status_code == 200
            assert client.head(path).status_code == 200
    # Only reads are exempt: a POST to a status list is a 405 that counts like any other request.
    assert client.post(path, json={}).status_code == 429


def test_failed_authentication_is_limited_per_address(limited: Any, registry: Registry, token: str) -> None:
    client = limited(rate_limit_auth_failures_burst=3, rate_limit_auth_failures_per_minute=1)
    for _ in range(3):
        bad = f"aigov_{secrets.token_hex(8)}_{secrets.token_urlsafe(32)}"
        response = client.post("/api/v1/credentials", json=registry.decision(), headers=registry.bearer(bad))
        assert response.status_code == 401
    # Now even the right token from this address waits: the guesser cannot tell a hit from a miss.
    response = client.post("/api/v1/credentials", json=registry.decision(), headers=registry.bearer(token))
    assert assert_429(response, "too many failed authentication attempts") == 60
    assert_429(client.post("/api/v1/credentials", headers={"Authorization": "Basic eDp5"}), "failed auth")
    # Reading without credentials is still allowed; another address may still authenticate.
    assert client.get("/api/v1/stats").status_code == 200
    other = limited(address="192.0.2.99")
    response = other.post("/api/v1/credentials", json=registry.decision(), headers=registry.bearer(token))
    assert response.status_code == 201


def test_bucket_keys() -> None:
    assert bucket_key("192.0.2.10") == "192.0.2.10"
    assert bucket_key("2001:db8:1:2:aaaa:bbbb:cccc:dddd") == "20010db800010002/64"
    assert bucket_key("2001:db8:1:2::1") == bucket_key("2001:db8:1:2:ffff::9")
    assert bucket_key("2001:db8:1:3::1") != bucket_key("2001:db8:1:2::1")
    assert bucket_key("::ffff:192.0.2.10") == "192.0.2.10"
    assert bucket_key("unknown") == "unknown"


def test_an_ipv6_client_is_limited_by_its_64_not_by_each_address(
    limited: Any, registry: Registry, token: str
) -> None:
    """Every address of a /64 is one subscriber's: fresh addresses from it are not fresh buckets."""
    client = limited(
        address="2001:db8:1:2::10", rate_limit_auth_failures_burst=2, rate_limit_auth_failures_per_minute=1
    )
    for n in range(2):
        guesser = TestClient(client.app, client=(f"2001:db8:1:2::{n + 100:x}", 40000))
        bad = f"aigov_{secrets.token_hex(8)}_{secrets.token_urlsafe(32)}"
        assert guesser.post("/api/v1/credentials", headers=registry.bearer(bad)).status_code == 401
    same_64 = TestClient(client.app, client=("2001:db8:1:2:ffff::1", 40000))
    refused = same_64.post("/api/v1/credentials", json=registry.decision(), headers=registry.bearer(token))
    assert_429(refused, "too many failed authentication attempts")
    next_64 = TestClient(client.app, client=("2001:db8:1:3::10", 40000))
    issued = next_64.post("/api/v1/credentials", json=registry.decision(), headers=registry.bearer(token))
    assert issued.status_code == 201, issued.text


def test_wrong_secrets_for_a_public_token_id_do_not_lock_its_owner_out(
    limited: Any, registry: Registry, token: str
) -> None:
    """The token id is public (the event log names the token that acted by it): anyone may present it with
    wrong secrets from many addresses, and its owner must still be able to revoke (found by a user audit)."""
    token_id = token.split("_")[1]
    settings = {"rate_limit_auth_failures_burst": 4, "rate_limit_auth_failures_per_minute": 1}
    first = limited(address="198.51.100.1", **settings)
    app = first.app
    for n in range(8):  # wrong secrets from eight addresses, twice the failure burst
        client = TestClient(app, client=(f"198.51.100.{n + 1}", 40000))
        wrong = f"aigov_{token_id}_{secrets.token_urlsafe(32)}"
        response = client.post(
            "/api/v1/credentials", json=registry.decision(), headers=registry.bearer(wrong)
        )
        assert response.status_code == 401
    owner = TestClient(app, client=("198.51.100.200", 40000))
    response = owner.post("/api/v1/credentials", json=registry.decision(), headers=registry.bearer(token))
    assert response.status_code == 201, response.text


def test_successful_authentication_costs_nothing_of_the_failure_budget(
    limited: Any, registry: Registry, token: str
) -> None:
    client = limited(rate_limit_auth_failures_burst=1, rate_limit_auth_failures_per_minute=1)
    for _ in range(5):
        response = client.post(
            "/api/v1/credentials", json=registry.decision(), headers=registry.bearer(token)
        )
        assert response.status_code == 201
    # A 403 (right token, missing scope) is not a failed authentication either.
    reader = registry.token(scopes=["credentials:issue"])
    credential = client.post(
        "/api/v1/credentials", json=registry.decision(), headers=registry.bearer(reader)
    ).json()
    for _ in range(3):
        response = client.post(
            f"/api/v1/credentials/{credential['id']}/revoke",
            json={"reasonCode": "other"},
            headers=registry.bearer(reader),
        )
        assert response.status_code == 403


def test_the_middleware_is_absent_when_limits_are_off(registry: Registry) -> None:
    settings = registry.settings.model_copy(update={"rate_limit_enabled": False, "rate_limit_burst": 1})
    app = create_app(settings, clock=registry.clock, key_cache=registry.key_cache)
    assert not any(middleware.cls is RateLimit for middleware in app.user_middleware)
    with TestClient(app) as client:
        assert all(client.get("/api/v1/stats").status_code == 200 for _ in range(5))
