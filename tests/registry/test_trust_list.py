"""Accreditation decisions and the trust list, on SQLite and PostgreSQL, through a real registry (TestClient).

Each decision commits the accreditation, its history, the body's state, the re-signed list and an event
together; `GET /trust-list` serves the list with ETag, Cache-Control and CORS; the verifier, pinning only the
registry's key, checks certificates through it.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from keys import PublishedKey
from registry.db import write_transaction
from registry.errors import ConflictError, InvalidRequestError, SigningUnavailableError
from registry.eventlog import verify_chain
from registry.identity import REGISTRY_KEYSTORE, registry_did
from registry.models import (
    Accreditation,
    AccreditationChange,
    BodyState,
    CertificationBody,
    Credential,
    Event,
    TrustListRecord,
)
from registry.signers import Signers
from registry.trustlist import TrustListPolicy, accredit, change_accreditation
from verifier import Outcome, TrustStore, Verdict, problems, verify, verify_trust_list

ACCREDITED_FROM = datetime(2026, 1, 1, tzinfo=UTC)
PASSPHRASE = "registry tests: not a real passphrase"  # tests/registry/conftest.py
NOT_ACCREDITED = "urn:aigov:problem:not-accredited"


@pytest.fixture
def accredited() -> bool:
    """These tests make every accreditation decision themselves (tests/registry/conftest.py)."""
    return False


def decide(registry: Any, action: str, body: CertificationBody | None = None, **options: Any) -> Any:
    ctx = registry.context()
    policy = TrustListPolicy(public_url=registry.settings.public_url)
    with registry.session() as session, write_transaction(session):
        target = session.get(CertificationBody, (body or registry.acme).id)
        common = {
            "session": session,
            "signers": ctx.signers,
            "policy": policy,
            "body": target,
            "now": registry.clock(),
            "actor": "admin",
        }
        if action == "accredit":
            defaults = {
                "scheme_id": "example-aigov-scheme",
                "levels": None,
                "valid_from": ACCREDITED_FROM,
                "valid_until": None,
                "reason": "assessment passed",
            }
            return accredit(**common, **{**defaults, **options})
        return change_accreditation(
            **common, state=BodyState(action), reason=options.get("reason", "audit finding")
        )


def owner_keys(registry: Any) -> list[PublishedKey]:
    return registry.keystore(REGISTRY_KEYSTORE).published_keys()


def fetch_list(client: TestClient, registry: Any) -> Any:
    response = client.get("/trust-list")
    assert response.status_code == 200, response.text
    result = verify_trust_list(
        response.text,
        owner_keys(registry),
        owner_did=registry_did(registry.settings.public_url),
        now=registry.clock(),
    )
    assert result.verdict is Verdict.VALID, result.render_text()
    return response, result.trust_list


def test_accrediting_publishes_a_signed_list_served_with_cache_headers(
    client: TestClient, registry: Any
) -> None:
    decide(registry, "accredit", levels=["1", "2"])
    response, listed = fetch_list(client, registry)
    assert response.headers["content-type"] == "application/vc+jwt"
    assert response.headers["access-control-allow-origin"] == "*"
    assert response.headers["cache-control"] == "public, max-age=300"
    assert client.get("/trust-list", headers={"If-None-Match": response.headers["etag"]}).status_code == 304
    assert listed.version == 1
    [entry] = listed.credential_subject.issuers
    assert entry.id == registry.acme.did
    assert [k.kid for k in entry.keys] == [r.kid for r in registry.keystore("acme-cb").records()]
    [accreditation] = entry.accreditations
    assert accreditation.scheme == f"{registry.settings.public_url}/schemes/example-aigov-scheme"
    assert (accreditation.levels, accreditation.status) == (["1", "2"], "active")
    assert accreditation.valid_from == ACCREDITED_FROM
    assert [(c.status, c.since) for c in accreditation.history] == [("active", ACCREDITED_FROM)]
    with registry.session() as session:
        [event] = session.exec(select(Event)).all()
        assert (event.action, event.reason, event.credential_id) == ("accredited", "assessment passed", None)
        assert event.payload["trustListVersion"] == 1
        assert verify_chain(session=session).ok


def test_suspend_and_withdraw_are_logged_and_final(client: TestClient, registry: Any) -> None:
    decide(registry, "accredit")
    registry.clock.advance(days=1)
    decide(registry, "suspended", reason="surveillance audit overdue")
    with registry.session() as session:
        assert session.get(CertificationBody, registry.acme.id).state == "suspended"
    with pytest.raises(ConflictError, match="already suspended"):
        decide(registry, "suspended")
    registry.clock.advance(days=1)
    decide(registry, "withdrawn", reason="misuse of the mark")
    with pytest.raises(ConflictError, match="withdrawn: it cannot be suspended"):
        decide(registry, "suspended")
    _, listed = fetch_list(client, registry)
    assert listed.version == 3
    history = listed.credential_subject.issuers[0].accreditations[0].history
    assert [c.status for c in history] == ["active", "suspended", "withdrawn"]
    with registry.session() as session:
        events = session.exec(select(Event).order_by(Event.seq)).all()
        assert [e.action for e in events] == ["accredited", "accr_suspended", "accr_withdrawn"]
        assert [e.payload["trustListVersion"] for e in events] == [1, 2, 3]
        assert len(session.exec(select(AccreditationChange)).all()) == 3
        assert verify_chain(session=session).ok


def test_bad_decisions_are_refused(registry: Any) -> None:
    with pytest.raises(InvalidRequestError, match="no level 9"):
        decide(registry, "accredit", levels=["9"])
    with pytest.raises(InvalidRequestError, match="reason"):
        decide(registry, "accredit", reason=" ")
    with pytest.raises(InvalidRequestError, match="end after"):
        decide(registry, "accredit", valid_until=ACCREDITED_FROM)
    with pytest.raises(ConflictError, match="not accredited"):
        decide(registry, "suspended")
    assert registry.count(Accreditation) == 0
    assert registry.count(Event) == 0


def test_a_decision_that_cannot_be_signed_leaves_nothing(registry: Any, tmp_path: Path) -> None:
    signers = Signers(
        keystore_path=tmp_path,
        passphrase=registry.settings.passphrase(),
        public_url=registry.settings.public_url,
        clock=registry.clock,
    )
    with registry.session() as session, write_transaction(session):
        body = session.get(CertificationBody, registry.acme.id)
    with pytest.raises(SigningUnavailableError), registry.session() as session, write_transaction(session):
        accredit(
            session=session,
            signers=signers,
            policy=TrustListPolicy(registry.settings.public_url),
            body=body,
            scheme_id="example-aigov-scheme",
            levels=None,
            valid_from=ACCREDITED_FROM,
            valid_until=None,
            reason="r",
            actor="admin",
            now=registry.clock(),
        )
    assert (registry.count(Accreditation), registry.count(AccreditationChange), registry.count(Event)) == (
        0,
        0,
        0,
    )
    assert registry.count(TrustListRecord) == 0


@pytest.mark.slow
def test_a_stale_list_is_re_signed_on_read_and_a_key_rotation_is_logged(
    client: TestClient, registry: Any
) -> None:
    decide(registry, "accredit", body=registry.other)
    first, listed = fetch_list(client, registry)
    registry.clock.advance(days=2)  # past half the 3-day validity
    again, fresher = fetch_list(client, registry)
    assert fresher.version == listed.version
    assert fresher.valid_from > listed.valid_from
    assert again.headers["etag"] != first.headers["etag"]

    rotated = registry.keystore("other-cb").rotate()
    registry.clock.advance(minutes=1)
    _, after = fetch_list(client, registry)
    assert after.version == listed.version + 1
    keys = {k.kid: k for k in after.credential_subject.issuers[0].keys}
    assert keys[rotated.kid].state == "active"
    assert {k.state for kid, k in keys.items() if kid != rotated.kid} == {"retired"}
    with registry.session() as session:
        actions = [e.action for e in session.exec(select(Event).order_by(Event.seq))]
        assert actions == ["accredited", "keys_changed"]
        assert verify_chain(session=session).ok


def test_without_a_registry_key_the_list_is_a_503_problem(registry: Any, tmp_path: Path) -> None:
    from registry.app import create_app

    settings = registry.settings.model_copy(update={"keystore_path": tmp_path})
    with TestClient(create_app(settings, clock=registry.clock, key_cache=registry.key_cache)) as client:
        response = client.get("/trust-list")
    assert response.status_code == 503
    assert response.headers["content-type"] == "application/problem+json"


@pytest.mark.slow
def test_certificates_verify_through_the_served_list(client: TestClient, registry: Any, token: str) -> None:
    decide(registry, "accredit", body=registry.acme, levels=["2"])
    issued = client.post(
        "/api/v1/credentials", json=registry.decision(), headers=registry.bearer(token)
    ).json()
    lists = {entry["statusListCredential"] for entry in issued["credentialStatus"]}

    def verdict(now: datetime) -> Any:
        trust = TrustStore()
        trust.pin_scheme_owner(registry_did(registry.settings.public_url), owner_keys(registry))
        assert trust.add_trust_list(client.get("/trust-list").text).verdict is Verdict.VALID
        for url in lists:
            trust.add_status_list(client.get(url.removeprefix(registry.settings.public_url)).text)
        return verify(issued["token"], trust, now=now)

    result = verdict(registry.clock())
    assert result.verdict is Verdict.VALID, result.render_text()
    assert "accredited by did:web:registry.test.example" in result.check("issuer_trust").detail

    registry.clock.advance(days=10)
    decide(registry, "suspended")
    suspended = verdict(registry.clock())
    assert suspended.check("issuer_trust").outcome is Outcome.WARNING
    assert suspended.verdict is Verdict.VALID
    rejected = client.post("/api/v1/credentials", json=registry.decision(), headers=registry.bearer(token))
    assert rejected.status_code == 403

    registry.clock.advance(days=10)
    decide(registry, "withdrawn")
    withdrawn = verdict(registry.clock())
    assert withdrawn.verdict is Verdict.INVALID
    assert withdrawn.check("issuer_trust").problem == problems.ACCREDITATION_WITHDRAWN


def test_a_level_outside_the_accreditation_is_refused_by_the_verifier(
    client: TestClient, registry: Any, token: str
) -> None:
    decide(registry, "accredit", levels=["1", "2"])
    issued = client.post(
        "/api/v1/credentials", json=registry.decision(), headers=registry.bearer(token)
    ).json()
    registry.clock.advance(days=1)
    decide(registry, "accredit", levels=["1"], valid_from=None, reason="level 2 no longer covered")
    trust = TrustStore()
    trust.pin_scheme_owner(registry_did(registry.settings.public_url), owner_keys(registry))
    trust.add_trust_list(client.get("/trust-list").text)
    result = verify(issued["token"], trust, now=registry.clock())
    assert result.check("issuer_trust").problem == problems.NOT_ACCREDITED
    assert "not level 2" in result.check("issuer_trust").detail


def test_the_trust_context_is_served(client: TestClient) -> None:
    response = client.get("/contexts/aigov-trust/v1")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/ld+json"
    assert "AIGovernanceTrustList" in response.json()["@context"]


def test_reaccrediting_after_withdrawal_restores(client: TestClient, registry: Any) -> None:
    decide(registry, "accredit")
    registry.clock.advance(days=1)
    decide(registry, "withdrawn")
    registry.clock.advance(days=1)
    decide(registry, "accredit", levels=["3"], reason="re-assessed")
    _, listed = fetch_list(client, registry)
    accreditation = listed.credential_subject.issuers[0].accreditations[0]
    assert (accreditation.status, accreditation.levels) == ("active", ["3"])
    assert [c.status for c in accreditation.history] == ["active", "withdrawn", "active"]
    assert accreditation.history[-1].since == registry.clock()


def test_fresh_session_reads_do_not_resign(client: TestClient, registry: Any) -> None:
    decide(registry, "accredit")
    first = client.get("/trust-list")
    registry.clock.advance(hours=1)
    assert client.get("/trust-list").headers["etag"] == first.headers["etag"]
    with Session(registry.engine) as session:
        assert session.get(TrustListRecord, 1).issued_at == datetime(2026, 11, 1, tzinfo=UTC) + timedelta(0)


# -- accreditation and issuance ---------------------------------------------------------------------------------


def verify_through_list(client: TestClient, registry: Any, issued: dict[str, Any]) -> Any:
    trust = TrustStore()
    trust.pin_scheme_owner(registry_did(registry.settings.public_url), owner_keys(registry))
    assert trust.add_trust_list(client.get("/trust-list").text).verdict is Verdict.VALID
    for entry in issued["credentialStatus"]:
        url = entry["statusListCredential"].removeprefix(registry.settings.public_url)
        trust.add_status_list(client.get(url).text)
    return verify(issued["token"], trust, now=registry.clock())


def post(client: TestClient, registry: Any, token: str, path: str, body: dict[str, Any] | None = None) -> Any:
    return client.post(f"/api/v1/credentials{path}", json=body or {}, headers=registry.bearer(token))


def test_lifting_a_suspension_keeps_the_start_and_what_was_issued_before(
    client: TestClient, registry: Any, token: str
) -> None:
    decide(registry, "accredit")
    registry.clock.advance(days=1)
    before = post(client, registry, token, "", registry.decision())
    assert before.status_code == 201, before.text
    registry.clock.advance(days=1)
    decide(registry, "suspended", reason="surveillance audit overdue")
    registry.clock.advance(days=1)
    refused = post(client, registry, token, "", registry.decision())
    assert refused.status_code == 403
    assert refused.json()["type"] == NOT_ACCREDITED
    registry.clock.advance(days=1)
    lifted_at = registry.clock()
    decide(registry, "accredit", valid_from=None, reason="audit done")  # no --from: the start is kept

    _, listed = fetch_list(client, registry)
    accreditation = listed.credential_subject.issuers[0].accreditations[0]
    assert accreditation.valid_from == ACCREDITED_FROM
    assert [(c.status, c.since) for c in accreditation.history][1:] == [
        ("suspended", lifted_at - timedelta(days=2)),
        ("active", lifted_at),
    ]
    result = verify_through_list(client, registry, before.json())
    assert result.verdict is Verdict.VALID, result.render_text()
    assert result.check("issuer_trust").outcome is Outcome.PASSED
    after = post(client, registry, token, "", registry.decision())
    assert after.status_code == 201, after.text
    assert verify_through_list(client, registry, after.json()).verdict is Verdict.VALID


def test_an_explicit_start_moves_the_accreditation(client: TestClient, registry: Any) -> None:
    decide(registry, "accredit")
    earlier = ACCREDITED_FROM - timedelta(days=30)
    decide(registry, "accredit", valid_from=earlier, reason="start corrected")
    _, listed = fetch_list(client, registry)
    assert listed.credential_subject.issuers[0].accreditations[0].valid_from == earlier
    with pytest.raises(InvalidRequestError, match="end after"):
        decide(registry, "accredit", valid_from=None, valid_until=earlier, reason="r")


def test_reaccrediting_after_withdrawal_starts_afresh(client: TestClient, registry: Any, token: str) -> None:
    decide(registry, "accredit")
    issued = post(client, registry, token, "", registry.decision()).json()
    registry.clock.advance(days=1)
    decide(registry, "withdrawn")
    registry.clock.advance(days=1)
    decide(registry, "accredit", valid_from=None, reason="re-assessed")
    _, listed = fetch_list(client, registry)
    assert listed.credential_subject.issuers[0].accreditations[0].valid_from == registry.clock()
    result = verify_through_list(client, registry, issued)
    assert result.verdict is Verdict.INVALID
    assert result.check("issuer_trust").problem == problems.ACCREDITATION_WITHDRAWN


def test_only_a_body_accredited_now_for_the_level_issues(
    client: TestClient, registry: Any, token: str
) -> None:
    def refused(detail: str) -> None:
        response = post(client, registry, token, "", registry.decision())
        assert response.status_code == 403, response.text
        assert response.headers["content-type"] == "application/problem+json"
        problem = response.json()
        assert (problem["type"], problem["status"]) == (NOT_ACCREDITED, 403)
        assert detail in problem["detail"]

    refused("acme-cb is not accredited for the scheme example-aigov-scheme")
    batch = client.post(
        "/api/v1/credentials/batch",
        json={"decisions": [registry.decision()]},
        headers=registry.bearer(token),
    )
    assert (batch.status_code, batch.json()["type"]) == (403, NOT_ACCREDITED)
    decide(registry, "accredit", valid_from=registry.clock() + timedelta(days=1))
    refused("starts on 2026-11-02T00:00:00Z")
    decide(registry, "accredit", valid_until=registry.clock(), reason="ended")
    refused("ended on 2026-11-01T00:00:00Z")
    decide(registry, "accredit", levels=["1"], reason="level 1 only")
    refused("at levels 1, not level 2")
    assert registry.count(Credential) == 0
    decide(registry, "accredit", levels=["1", "2"], reason="level 2 added")
    assert post(client, registry, token, "", registry.decision()).status_code == 201


def test_a_suspended_or_withdrawn_body_still_revokes_and_suspends(
    client: TestClient, registry: Any, token: str
) -> None:
    decide(registry, "accredit")
    first, second, third = (post(client, registry, token, "", registry.decision()).json() for _ in range(3))
    registry.clock.advance(days=1)
    decide(registry, "suspended")
    registry.clock.advance(hours=1)
    suspended = post(client, registry, token, f"/{first['id']}/suspend", {"reasonCode": "nonconformity"})
    assert suspended.status_code == 200, suspended.text
    for path, body in (
        (f"/{first['id']}/reinstate", {}),
        (f"/{second['id']}/renew", registry.decision()),
        ("", registry.decision()),
    ):
        response = post(client, registry, token, path, body)
        assert (response.status_code, response.json()["type"]) == (403, NOT_ACCREDITED), path
        assert "it may still suspend and revoke them" in response.json()["detail"]
    revoked = post(client, registry, token, f"/{second['id']}/revoke", {"reasonCode": "company_request"})
    assert revoked.status_code == 200, revoked.text
    # Verifiers still recognise what it issued before the suspension: the revocation reaches them.
    result = verify_through_list(client, registry, second)
    assert result.verdict is Verdict.INVALID
    assert result.check("status.revocation").outcome is Outcome.FAILED
    assert verify_through_list(client, registry, third).verdict is Verdict.VALID

    registry.clock.advance(days=1)
    decide(registry, "withdrawn")
    withdrawn = post(client, registry, token, f"/{third['id']}/revoke", {"reasonCode": "company_request"})
    assert withdrawn.status_code == 200, withdrawn.text
    with registry.session() as session:
        actions = [e.action for e in session.exec(select(Event).order_by(Event.seq))]
        assert actions.count("revoked") == 2
        assert verify_chain(session=session).ok
