"""`GET /api/v1/bundle`: the offline bundle, on SQLite and PostgreSQL, through a real registry (TestClient).

The bundle is signed by the registry's key and holds the trust list, the accredited bodies' DID documents and
every status list; a verifier pinning only the registry's key checks certificates with it and no network.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from keys import b64url_decode
from registry.db import write_transaction
from registry.identity import REGISTRY_KEYSTORE, registry_did
from registry.models import BodyState, CertificationBody, StatusList
from registry.trustlist import TrustListPolicy, accredit
from verifier import Outcome, TrustStore, Verdict, problems, verify, verify_bundle

PASSPHRASE = "registry tests: not a real passphrase"  # tests/registry/conftest.py


@pytest.fixture
def accredited() -> bool:
    """Only acme-cb is accredited here, by the tests themselves (tests/registry/conftest.py)."""
    return False


def accredit_acme(registry: Any) -> None:
    ctx = registry.context()
    with registry.session() as session, write_transaction(session):
        accredit(
            session=session,
            signers=ctx.signers,
            policy=TrustListPolicy(public_url=registry.settings.public_url),
            body=session.get(CertificationBody, registry.acme.id),
            scheme_id="example-aigov-scheme",
            levels=None,
            valid_from=datetime(2026, 1, 1, tzinfo=UTC),
            valid_until=None,
            reason="assessment passed",
            actor="admin",
            now=registry.clock(),
        )


def pinned(registry: Any) -> TrustStore:
    trust = TrustStore()
    trust.pin_scheme_owner(
        registry_did(registry.settings.public_url), registry.keystore(REGISTRY_KEYSTORE).published_keys()
    )
    return trust


def issue(client: TestClient, registry: Any, token: str) -> dict[str, Any]:
    response = client.post("/api/v1/credentials", json=registry.decision(), headers=registry.bearer(token))
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def payload(token: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(b64url_decode(token.split(".")[1]))
    return loaded


@pytest.mark.slow
def test_the_bundle_verifies_certificates_with_no_network(
    client: TestClient, registry: Any, token: str
) -> None:
    accredit_acme(registry)
    first = issue(client, registry, token)
    response = client.get("/api/v1/bundle")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/vc+jwt"
    assert response.headers["cache-control"] == "public, max-age=300"
    assert response.headers["access-control-allow-origin"] == "*"
    assert (
        client.get("/api/v1/bundle", headers={"If-None-Match": response.headers["etag"]}).status_code == 304
    )

    subject = payload(response.text)["credentialSubject"]
    assert subject["issued"] == "2026-11-01T00:00:00Z"
    assert [d["id"] for d in subject["didDocuments"]] == [registry.acme.did]
    assert len(subject["statusLists"]) == registry.count(StatusList) == 2
    assert subject["trustList"] == client.get("/trust-list").text

    trust = pinned(registry)
    loaded = trust.add_bundle(response.text, now=registry.clock() + timedelta(hours=1))
    assert loaded.verdict is Verdict.VALID, loaded.render_text()
    assert loaded.age == timedelta(hours=1)
    result = verify(first["token"], trust, now=registry.clock() + timedelta(hours=1))
    assert result.verdict is Verdict.VALID, result.render_text()
    # Too old for the policy: status cannot be vouched for.
    later = registry.clock() + timedelta(hours=30)
    stale = verify(first["token"], trust, now=later)
    assert stale.verdict is Verdict.INDETERMINATE
    assert stale.check("status.revocation").problem == problems.STALE_BUNDLE


@pytest.mark.slow
def test_the_bundle_is_re_signed_when_a_status_changes(client: TestClient, registry: Any, token: str) -> None:
    accredit_acme(registry)
    issued = issue(client, registry, token)
    before = client.get("/api/v1/bundle")
    assert client.get("/api/v1/bundle").headers["etag"] == before.headers["etag"]  # cached: nothing moved
    registry.clock.advance(minutes=1)
    revoked = client.post(
        f"/api/v1/credentials/{issued['id']}/revoke",
        json={"reasonCode": "other", "reason": "test"},
        headers=registry.bearer(token),
    )
    assert revoked.status_code == 200, revoked.text
    after = client.get("/api/v1/bundle")
    assert after.headers["etag"] != before.headers["etag"]
    trust = pinned(registry)
    assert trust.add_bundle(after.text, now=registry.clock()).verdict is Verdict.VALID
    result = verify(issued["token"], trust, now=registry.clock())
    assert result.check("status.revocation").outcome is Outcome.FAILED
    assert result.verdict is Verdict.INVALID


def test_a_bundle_is_only_as_trusted_as_the_pinned_key(client: TestClient, registry: Any) -> None:
    accredit_acme(registry)
    body = client.get("/api/v1/bundle").text
    stranger = registry.keystore("other-cb").published_keys()
    result = verify_bundle(
        body, stranger, owner_did=registry_did(registry.settings.public_url), now=registry.clock()
    )
    assert result.verdict is Verdict.INVALID
    assert result.check("key").problem == problems.UNKNOWN_KEY
    header, _, signature = body.split(".")
    forged_claims = payload(body)
    forged_claims["credentialSubject"]["issued"] = "2030-01-01T00:00:00Z"
    from keys import b64url_encode

    forged = f"{header}.{b64url_encode(json.dumps(forged_claims).encode())}.{signature}"
    trust = pinned(registry)
    assert trust.add_bundle(forged, now=registry.clock()).check("signature").outcome is Outcome.FAILED
    assert trust.bundle is None
    assert trust.trust_list is None


def test_withdrawn_bodies_stay_in_the_bundle_to_explain_why(client: TestClient, registry: Any) -> None:
    accredit_acme(registry)
    ctx = registry.context()
    from registry.trustlist import change_accreditation

    with registry.session() as session, write_transaction(session):
        change_accreditation(
            session=session,
            signers=ctx.signers,
            policy=TrustListPolicy(public_url=registry.settings.public_url),
            body=session.get(CertificationBody, registry.acme.id),
            state=BodyState.WITHDRAWN,
            reason="misuse",
            actor="admin",
            now=registry.clock(),
        )
    subject = payload(client.get("/api/v1/bundle").text)["credentialSubject"]
    listed = payload(subject["trustList"])["credentialSubject"]["issuers"]
    assert [(i["id"], i["accreditations"][0]["status"]) for i in listed] == [(registry.acme.did, "withdrawn")]
