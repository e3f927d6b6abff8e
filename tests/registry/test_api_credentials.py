"""The write API and the public credential record, through HTTP (TestClient)."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

import httpx
import pytest
from fastapi.testclient import TestClient

from registry.models import Credential, StatusAllocation
from registry.schemas import BatchIssued, CredentialIssued

if TYPE_CHECKING:
    from conftest import Registry

# Internal columns that must never appear in a response.
INTERNAL = {"revocationListId", "suspensionListId", "issuerId", "secretSha256", "bits", "token_hash"}


def issue(client: TestClient, registry: Registry, token: str, **overrides: Any) -> dict[str, Any]:
    response = client.post(
        "/api/v1/credentials", json=registry.decision(**overrides), headers=registry.bearer(token)
    )
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def post(client: TestClient, registry: Registry, token: str, path: str, body: Any = None) -> httpx.Response:
    return client.post(f"/api/v1/credentials/{path}", json=body, headers=registry.bearer(token))


def test_issue(client: TestClient, registry: Registry, token: str) -> None:
    decision = registry.decision()
    response = client.post("/api/v1/credentials", json=decision, headers=registry.bearer(token))

    assert response.status_code == 201
    body = response.json()
    assert response.headers["location"] == f"{registry.settings.public_url}/api/v1/credentials/{body['id']}"
    assert body["url"] == f"{registry.settings.public_url}/credentials/{body['id']}"
    assert body["certificateNumber"] == decision["certificateNumber"]
    assert body["legalNameJa"] == "アクメ株式会社"
    assert body["issuer"] == "acme-cb"
    assert body["issuerDid"] == "did:web:registry.test.example:issuers:acme-cb"
    assert body["status"] == "active"
    assert body["validFrom"] == "2026-11-01T00:00:00Z"
    assert body["validUntil"] == "2029-10-31T23:59:59Z"
    assert {entry["statusPurpose"] for entry in body["credentialStatus"]} == {"revocation", "suspension"}
    assert body["token"].count(".") == 2
    assert not INTERNAL & set(body)


def test_idempotency_key(client: TestClient, registry: Registry, token: str) -> None:
    decision, headers = registry.decision(), {**registry.bearer(token), "Idempotency-Key": "order-42"}
    first = client.post("/api/v1/credentials", json=decision, headers=headers)
    again = client.post("/api/v1/credentials", json=decision, headers=headers)
    changed = client.post("/api/v1/credentials", json=registry.decision(), headers=headers)

    assert (first.status_code, again.status_code) == (201, 201)
    assert again.json()["id"] == first.json()["id"]
    assert again.headers["idempotent-replayed"] == "true"
    assert "idempotent-replayed" not in first.headers
    assert changed.status_code == 422
    assert changed.json()["errors"][0]["field"] == "Idempotency-Key"
    assert registry.count(Credential) == 1


def test_batch(client: TestClient, registry: Registry, token: str) -> None:
    decisions = [registry.decision() for _ in range(5)]
    response = client.post(
        "/api/v1/credentials/batch", json={"decisions": decisions}, headers=registry.bearer(token)
    )

    assert response.status_code == 201, response.text
    issued = response.json()["credentials"]
    assert [c["certificateNumber"] for c in issued] == [d["certificateNumber"] for d in decisions]
    assert registry.count(Credential) == 5
    assert len(registry.events()) == 5


def test_batch_answer_is_the_documented_model_byte_for_byte(
    client: TestClient, registry: Registry, token: str
) -> None:
    """The batch answer is written from the stored rows, not through its response model: it must be exactly
    what the model would write for the stored credentials, first time and on an idempotent replay."""
    decisions = [registry.decision() for _ in range(3)]
    for optional in ("id", "corporateNumber", "website"):  # stored as NULL, written as null
        decisions[1]["subject"].pop(optional)
    headers = {**registry.bearer(token), "Idempotency-Key": "batch-bytes"}
    first = client.post("/api/v1/credentials/batch", json={"decisions": decisions}, headers=headers)
    replay = client.post("/api/v1/credentials/batch", json={"decisions": decisions}, headers=headers)

    assert first.status_code == replay.status_code == 201, first.text
    stored = [registry.credential(uuid.UUID(c["id"])) for c in first.json()["credentials"]]
    model = BatchIssued(
        credentials=[CredentialIssued.of(c, registry.acme, registry.settings.public_url) for c in stored]
    )
    assert first.content == replay.content == model.model_dump_json().encode()
    assert first.headers["content-type"] == "application/json"
    assert replay.headers["idempotent-replayed"] == "true"


def test_batch_with_one_bad_decision_issues_nothing(
    client: TestClient, registry: Registry, token: str
) -> None:
    decisions = [registry.decision(), registry.decision(level="42"), registry.decision()]
    response = client.post(
        "/api/v1/credentials/batch", json={"decisions": decisions}, headers=registry.bearer(token)
    )

    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "decisions.1.level"
    assert [registry.count(t) for t in (Credential, StatusAllocation)] == [0, 0]
    assert registry.events() == []


def test_suspend_reinstate_revoke(client: TestClient, registry: Registry, token: str) -> None:
    credential = issue(client, registry, token)
    cid = credential["id"]

    suspended = post(
        client, registry, token, f"{cid}/suspend", {"reasonCode": "nonconformity", "reason": "audit"}
    )
    assert suspended.status_code == 200, suspended.text
    assert (suspended.json()["status"], suspended.json()["statusReason"]) == ("suspended", "audit")
    assert not INTERNAL & set(suspended.json())

    reinstated = post(client, registry, token, f"{cid}/reinstate")
    assert (reinstated.status_code, reinstated.json()["status"]) == (200, "active")

    revoked = post(client, registry, token, f"{cid}/revoke", {"reasonCode": "company_request"})
    assert (revoked.status_code, revoked.json()["status"]) == (200, "revoked")
    assert revoked.json()["statusReasonCode"] == "company_request"

    again = post(client, registry, token, f"{cid}/reinstate", {"reason": "please"})
    assert again.status_code == 409
    assert again.headers["content-type"] == "application/problem+json"
    assert again.json()["type"] == "urn:aigov:problem:conflict"
    assert "revoked is final" in again.json()["detail"]


def test_renew(client: TestClient, registry: Registry, token: str) -> None:
    old = issue(client, registry, token)
    registry.clock.advance(days=300)

    response = post(client, registry, token, f"{old['id']}/renew", registry.decision(assessedOn="2027-08-01"))

    assert response.status_code == 201, response.text
    new = response.json()
    assert new["supersedes"] == old["id"]
    assert new["token"] != old["token"]
    record = client.get(f"/api/v1/credentials/{old['id']}").json()
    assert (record["status"], record["supersededBy"]) == ("superseded", new["id"])
    assert [event["action"] for event in record["history"]] == ["issued", "superseded"]


def test_public_record_with_history(client: TestClient, registry: Registry, token: str) -> None:
    credential = issue(client, registry, token)
    registry.clock.advance(hours=1)
    post(client, registry, token, f"{credential['id']}/suspend", {"reasonCode": "surveillance_not_performed"})

    response = client.get(f"/api/v1/credentials/{credential['id']}")  # no token: public

    assert response.status_code == 200
    record = response.json()
    assert (record["status"], record["statusReasonCode"]) == ("suspended", "surveillance_not_performed")
    assert record["statusChangedAt"] == "2026-11-01T01:00:00Z"
    assert "token" not in record
    assert not INTERNAL & set(record)
    history = record["history"]
    first = registry.setup_events + 1
    assert [(e["seq"], e["action"]) for e in history] == [(first, "issued"), (first + 1, "suspended")]
    assert history[1]["prevHash"] == history[0]["hash"]
    assert history[1]["issuer"] == registry.acme.did
    assert history[1]["payload"]["statusPurpose"] == "suspension"
    assert response.headers["access-control-allow-origin"] == "*"


def test_signed_credential_download(client: TestClient, registry: Registry, token: str) -> None:
    credential = issue(client, registry, token)

    response = client.get(f"/api/v1/credentials/{credential['id']}/credential.jwt")

    assert response.status_code == 200
    assert response.headers["content-type"] == "application/vc+jwt"
    assert response.text == credential["token"]


@pytest.mark.parametrize("path", ["00000000-0000-4000-8000-000000000000", "not-a-uuid"])
def test_unknown_credentials_are_404(client: TestClient, path: str) -> None:
    for url in (f"/api/v1/credentials/{path}", f"/api/v1/credentials/{path}/credential.jwt"):
        response = client.get(url)
        assert response.status_code == 404
        assert response.json()["type"] == "urn:aigov:problem:not-found"
