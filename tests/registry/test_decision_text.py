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
