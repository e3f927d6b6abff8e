"""GET /api/v1/stats: counts by status (with the computed `expired`), level and issuer."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from fastapi.testclient import TestClient

from issuer import CertificationDecision
from registry import lifecycle
from registry.lifecycle import Context
from registry.models import CertificationBody, Credential, ReasonCode

if TYPE_CHECKING:
    from conftest import Registry

URL = "/api/v1/stats"
SCHEME = "example-aigov-scheme"


def issue(registry: Registry, ctx: Context, body: CertificationBody, **overrides: Any) -> Credential:
    decision = CertificationDecision.model_validate(registry.decision(**overrides))
    with registry.session() as session:
        return lifecycle.issue(
            session=session, ctx=ctx, body=body, decision=decision, actor="test"
        ).credentials[0]


def change(registry: Registry, ctx: Context, verb: str, credential: Credential, **kwargs: Any) -> Any:
    with registry.session() as session:
        return getattr(lifecycle, verb)(
            session=session, ctx=ctx, body=registry.acme, credential_id=credential.id, actor="test", **kwargs
        )


def levels(counts: dict[str, int]) -> list[dict[str, Any]]:
    return [{"scheme": SCHEME, "level": level, "count": counts.get(level, 0)} for level in ("1", "2", "3")]


def test_an_empty_registry_counts_zeros(client: TestClient) -> None:
    response = client.get(URL)
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == "*"
    assert response.json() == {
        "asOf": "2026-11-01T00:00:00Z",
        "total": 0,
        "byStatus": {"active": 0, "suspended": 0, "revoked": 0, "superseded": 0, "expired": 0},
        "byLevel": levels({}),
        "byIssuer": {"acme-cb": 0, "other-cb": 0},
    }


def test_counts_by_status_level_and_issuer(client: TestClient, registry: Registry) -> None:
    ctx = registry.context()
    acme = [issue(registry, ctx, registry.acme, level=level) for level in ("1", "2", "2", "2", "3")]
    issue(registry, ctx, registry.other, level="3")
    change(registry, ctx, "suspend", acme[1], reason_code=ReasonCode.NONCONFORMITY)
    change(registry, ctx, "revoke", acme[2], reason_code=ReasonCode.OTHER)
    change(
        registry, ctx, "renew", acme[3], decision=CertificationDecision.model_validate(registry.decision())
    )

    stats = client.get(URL).json()
    assert stats["total"] == 7
    assert stats["byStatus"] == {"active": 4, "suspended": 1, "revoked": 1, "superseded": 1, "expired": 0}
    assert stats["byLevel"] == levels({"1": 1, "2": 4, "3": 2})  # the renewal is level 2 too
    assert stats["byIssuer"] == {"acme-cb": 6, "other-cb": 1}
    search = client.get("/api/v1/credentials", params={"limit": 200}).json()["items"]
    assert len(search) == stats["total"]

    # Past the first certificates' validUntil, active and suspended ones are expired; final ones stay.
    registry.clock.now = registry.credential(acme[0].id).valid_until.replace(microsecond=0)
    registry.clock.advance(seconds=1)
    renewal = change(
        registry, ctx, "renew", acme[4], decision=CertificationDecision.model_validate(registry.decision())
    )
    assert renewal.valid_from == registry.clock()
    stats = client.get(URL).json()
    assert stats["asOf"] == registry.clock().isoformat().replace("+00:00", "Z")
    assert stats["total"] == 8
    assert stats["byStatus"] == {"active": 1, "suspended": 0, "revoked": 1, "superseded": 2, "expired": 4}
    assert sum(stats["byStatus"].values()) == stats["total"]
    assert sum(level["count"] for level in stats["byLevel"]) == stats["total"]
    assert sum(stats["byIssuer"].values()) == stats["total"]


def test_stats_take_no_parameters(client: TestClient) -> None:
    response = client.get(URL, params={"issuer": "acme-cb"})
    assert response.status_code == 400
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["type"] == "urn:aigov:problem:invalid-request"
    assert problem["errors"] == [
        {"in": "query", "field": "issuer", "detail": "this endpoint takes no query parameters"}
    ]
