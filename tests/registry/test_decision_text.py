"""Text in a certification decision: control characters are refused with a 422 naming the field, on both
databases (a NUL was stored on SQLite and a 500 on PostgreSQL, whose text cannot hold it)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from fastapi.testclient import TestClient

if TYPE_CHECKING:
    from conftest import Registry


@pytest.mark.parametrize(
    ("field", "value"),
    [("scope", "a\x00b"), ("legalName", "ACME\x00"), ("legalName", "ACME\x1b[2J"), ("level", "2\x00")],
)
def test_control_characters_in_a_decision_are_422_on_both_databases(
    client: TestClient, registry: Registry, token: str, field: str, value: str
) -> None:
    """A NUL in a name was stored on SQLite and a 500 on PostgreSQL (its text cannot hold NUL)."""
    decision = registry.decision()
    if field == "legalName":
        decision["subject"]["legalName"]["en"] = value
    else:
        decision[field] = value
    response = client.post("/api/v1/credentials", json=decision, headers=registry.bearer(token))
    assert response.status_code == 422, response.text
    assert "must not contain control characters" in response.json()["detail"]


@pytest.mark.parametrize(
    ("verb", "reason"), [("suspend", "a\x00b"), ("revoke", "x\x1b[2J"), ("reinstate", "\x7f")]
)
def test_control_characters_in_a_reason_are_422_on_both_databases(
    client: TestClient, registry: Registry, token: str, verb: str, reason: str
) -> None:
    """The free-text reason of a status change: a NUL was stored on SQLite and a 500 on PostgreSQL."""
    issued = client.post("/api/v1/credentials", json=registry.decision(), headers=registry.bearer(token))
    path = f"/api/v1/credentials/{issued.json()['id']}"
    if verb == "reinstate":
        suspended = client.post(
            f"{path}/suspend", json={"reasonCode": "other"}, headers=registry.bearer(token)
        )
        assert suspended.status_code == 200, suspended.text
    body = {"reason": reason} if verb == "reinstate" else {"reasonCode": "other", "reason": reason}
    response = client.post(f"{path}/{verb}", json=body, headers=registry.bearer(token))
    assert response.status_code == 422, response.text
    assert "must not contain control characters" in response.json()["detail"]
    kept = client.post(
        f"{path}/{verb}", json={**body, "reason": "line one\nline two\tend"}, headers=registry.bearer(token)
    )
    assert kept.status_code == 200, kept.text


@pytest.mark.parametrize("slug", ["a%00", "%00", "A-CB", "x" * 300])
def test_what_cannot_be_a_slug_is_404_on_both_databases(client: TestClient, slug: str) -> None:
    for document in ("did.json", "jwks.json"):
        response = client.get(f"/issuers/{slug}/{document}")
        assert response.status_code == 404, response.text
        assert response.json()["type"] == "urn:aigov:problem:not-found"
