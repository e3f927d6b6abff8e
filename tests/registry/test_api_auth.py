"""Bearer tokens: one answer for every bad token, scopes, and no view of another body's credentials."""

from __future__ import annotations

import secrets
from datetime import timedelta
from typing import TYPE_CHECKING, Any

import httpx
import pytest
from fastapi.testclient import TestClient

from registry.errors import InvalidRequestError
from registry.models import Credential
from registry.tokens import revoke_token

if TYPE_CHECKING:
    from conftest import Registry


def issue(client: TestClient, registry: Registry, headers: dict[str, str]) -> httpx.Response:
    return client.post("/api/v1/credentials", json=registry.decision(), headers=headers)


def comparable(response: httpx.Response) -> tuple[int, dict[str, Any], str | None]:
    return response.status_code, response.json(), response.headers.get("www-authenticate")


def test_every_bad_token_gets_the_same_401(client: TestClient, registry: Registry, token: str) -> None:
    token_id = token.split("_")[1]
    revoked = registry.token()
    expired = registry.token(expires_at=registry.clock() + timedelta(hours=1))
    registry.clock.advance(hours=1)
    with registry.session() as session:
        revoke_token(session=session, token_id=revoked.split("_")[1], now=registry.clock())
        session.commit()
    unknown = f"aigov_{secrets.token_hex(8)}_{secrets.token_urlsafe(32)}"
    wrong_secret = f"aigov_{token_id}_{secrets.token_urlsafe(32)}"
    attempts = {
        "missing": {},
        "empty": {"Authorization": "Bearer "},
        "basic": {"Authorization": "Basic dXNlcjpwYXNz"},
        "malformed": registry.bearer("not-a-token"),
        "unknown": registry.bearer(unknown),
        "wrong-secret": registry.bearer(wrong_secret),
        "revoked": registry.bearer(revoked),
        "expired": registry.bearer(expired),
    }
    answers = {name: comparable(issue(client, registry, headers)) for name, headers in attempts.items()}

    first = answers["missing"]
    assert first[0] == 401
    assert first[1]["type"] == "urn:aigov:problem:unauthorized"
    assert first[2] == 'Bearer realm="aigov"'
    assert all(answer == first for answer in answers.values()), answers
    assert registry.count(Credential) == 0


def test_a_token_works_until_it_expires(client: TestClient, registry: Registry) -> None:
    """`--expires-in`: refused from its expiry on, on the event-loop path (SQLite) and the threadpool one."""
    expires = registry.clock() + timedelta(days=90)
    headers = registry.bearer(registry.token(expires_at=expires))
    assert issue(client, registry, headers).status_code == 201
    registry.clock.now = expires - timedelta(seconds=1)
    assert issue(client, registry, headers).status_code == 201
    registry.clock.now = expires
    refused = issue(client, registry, headers)
    assert refused.status_code == 401, refused.text
    assert refused.json()["type"] == "urn:aigov:problem:unauthorized"
    assert registry.count(Credential) == 2


def test_a_token_must_expire_after_it_is_created(registry: Registry) -> None:
    with pytest.raises(InvalidRequestError, match="a token must expire after it is created"):
        registry.token(expires_at=registry.clock())


def test_a_token_without_the_scope_is_403(client: TestClient, registry: Registry) -> None:
    issuer_only = registry.token(scopes=["credentials:issue"])
    credential = issue(client, registry, registry.bearer(issuer_only)).json()

    response = client.post(
        f"/api/v1/credentials/{credential['id']}/revoke",
        json={"reasonCode": "other"},
        headers=registry.bearer(issuer_only),
    )

    assert response.status_code == 403
    assert response.json()["type"] == "urn:aigov:problem:forbidden"
    assert 'error="insufficient_scope"' in response.headers["www-authenticate"]
    assert client.get(f"/api/v1/credentials/{credential['id']}").json()["status"] == "active"


@pytest.mark.parametrize("verb", ["suspend", "revoke", "reinstate", "renew"])
def test_another_bodys_credential_looks_like_no_credential(
    client: TestClient, registry: Registry, token: str, verb: str
) -> None:
    credential = issue(client, registry, registry.bearer(token)).json()
    intruder = registry.token(registry.other)
    body = {"renew": registry.decision(), "reinstate": {}}.get(verb, {"reasonCode": "other"})
    unknown_id = "00000000-0000-4000-8000-000000000000"

    theirs = client.post(
        f"/api/v1/credentials/{credential['id']}/{verb}", json=body, headers=registry.bearer(intruder)
    )
    missing = client.post(
        f"/api/v1/credentials/{unknown_id}/{verb}", json=body, headers=registry.bearer(intruder)
    )

    assert theirs.status_code == missing.status_code == 404
    assert theirs.json()["type"] == missing.json()["type"]
    assert theirs.json()["detail"].replace(credential["id"], unknown_id) == missing.json()["detail"]
    assert client.get(f"/api/v1/credentials/{credential['id']}").json()["status"] == "active"


def test_a_suspended_body_cannot_change_certificates(
    client: TestClient, registry: Registry, token: str
) -> None:
    with registry.session() as session:
        body = session.merge(registry.acme)
        body.state = "suspended"
        session.commit()

    response = issue(client, registry, registry.bearer(token))

    assert response.status_code == 403
    assert "suspended" in response.json()["detail"]
