"""Status lists expire (validUntil) and are re-signed, bits unchanged, when a read finds them past half their
validity: in the background while the list is still valid (the read is not held up), before answering once it
has expired. A copy cannot be relied on forever, and a failed re-sign never fails the read."""

from __future__ import annotations

import json
import logging
import re
import threading
from datetime import timedelta
from typing import TYPE_CHECKING, Any

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from pydantic import ValidationError

from keys import b64url_decode
from registry.config import Settings
from registry.models import StatusList
from registry.refresher import Refresher
from verifier import Outcome, TrustStore, Verdict, parse_date_time_stamp, verify

if TYPE_CHECKING:
    from conftest import Registry

VALIDITY = timedelta(days=3)  # the default


def claims(token: str) -> dict[str, Any]:
    return json.loads(b64url_decode(token.split(".")[1]))  # type: ignore[no-any-return]


def issue(client: TestClient, registry: Registry, token: str) -> dict[str, Any]:
    response = client.post("/api/v1/credentials", json=registry.decision(), headers=registry.bearer(token))
    assert response.status_code == 201, response.text
    return response.json()  # type: ignore[no-any-return]


def lists_of(issued: dict[str, Any], registry: Registry) -> dict[str, str]:
    """purpose → the path of its status list."""
    prefix = registry.settings.public_url
    return {
        e["statusPurpose"]: e["statusListCredential"].removeprefix(prefix) for e in issued["credentialStatus"]
    }


def stored(registry: Registry, path: str) -> StatusList:
    with registry.session() as session:
        row = session.get(StatusList, int(path.rsplit("/", 1)[1]))
        assert row is not None
        return row


def verdict(registry: Registry, issued: dict[str, Any], lists: list[str]) -> Any:
    trust = TrustStore()
    trust.add_issuer(registry.acme.did, registry.keystore("acme-cb").published_keys())
    for status_list in lists:
        trust.add_status_list(status_list)
    return verify(issued["token"], trust, now=registry.clock())


def test_a_served_list_is_valid_for_three_days_from_its_signing(
    client: TestClient, registry: Registry, token: str
) -> None:
    issued = issue(client, registry, token)
    for path in lists_of(issued, registry).values():
        response = client.get(path)
        signed = claims(response.text)
        valid_from, valid_until = (parse_date_time_stamp(signed[k]) for k in ("validFrom", "validUntil"))
        assert valid_until - valid_from == VALIDITY
        assert signed["exp"] == int(valid_until.timestamp())
        assert stored(registry, path).valid_until == valid_until


def test_a_list_past_half_its_validity_is_served_while_it_is_re_signed_in_the_background(
    client: TestClient, registry: Registry, token: str
) -> None:
    paths = lists_of(issue(client, registry, token), registry)
    old = {purpose: client.get(path) for purpose, path in paths.items()}
    version = stored(registry, paths["revocation"]).version
    refresher = client.app.state.refresher  # type: ignore[attr-defined]

    registry.clock.advance(seconds=VALIDITY.total_seconds() / 2 - 60)  # not yet due
    assert client.get(paths["revocation"]).headers["etag"] == old["revocation"].headers["etag"]
    refresher.drain()
    assert stored(registry, paths["revocation"]).version == version

    registry.clock.advance(seconds=61)
    for purpose, path in paths.items():  # still valid: served at once, re-signed behind it
        assert client.get(path).headers["etag"] == old[purpose].headers["etag"]
    refresher.drain()
    for purpose, path in paths.items():
        response = client.get(path)
        assert response.status_code == 200
        assert response.headers["etag"] != old[purpose].headers["etag"]
        before, after = claims(old[purpose].text), claims(response.text)
        assert parse_date_time_stamp(after["validFrom"]) == registry.clock().replace(microsecond=0)
        assert after["credentialSubject"]["encodedList"] == before["credentialSubject"]["encodedList"]
    assert stored(registry, paths["revocation"]).version == version + 1
    conditional = client.get(
        paths["revocation"], headers={"If-None-Match": old["revocation"].headers["etag"]}
    )
    assert conditional.status_code == 200  # the old ETag no longer matches


def test_an_expired_list_is_re_signed_before_it_is_served(
    client: TestClient, registry: Registry, token: str
) -> None:
    path = lists_of(issue(client, registry, token), registry)["revocation"]
    registry.clock.advance(days=4)  # nobody read it for longer than its validity

    served = claims(client.get(path).text)

    assert parse_date_time_stamp(served["validUntil"]) == registry.clock().replace(microsecond=0) + VALIDITY


def test_a_copy_made_before_a_revocation_stops_vouching_once_it_expires(
    client: TestClient, registry: Registry, token: str
) -> None:
    issued = issue(client, registry, token)
    paths = lists_of(issued, registry)
    copies = [client.get(path).text for path in paths.values()]
    assert verdict(registry, issued, copies).verdict is Verdict.VALID
    revoked = client.post(
        f"/api/v1/credentials/{issued['id']}/revoke",
        json={"reasonCode": "company_request"},
        headers=registry.bearer(token),
    )
    assert revoked.status_code == 200, revoked.text

    registry.clock.advance(days=3, minutes=10)  # past the copies' validUntil and the verifier's clock skew

    stale = verdict(registry, issued, copies)
    assert stale.verdict is Verdict.INDETERMINATE, stale.render_text()
    assert "expired on" in stale.check("status.revocation").detail
    current = verdict(registry, issued, [client.get(path).text for path in paths.values()])
    assert current.verdict is Verdict.INVALID
    assert current.check("status.revocation").outcome is Outcome.FAILED


def test_a_list_signed_before_lists_expired_is_re_signed_at_once(
    client: TestClient, registry: Registry, token: str
) -> None:
    path = lists_of(issue(client, registry, token), registry)["revocation"]
    row = stored(registry, path)
    with registry.session() as session:  # as migration 0005 leaves a list signed before it
        row.valid_until = None
        session.add(row)
        session.commit()

    served = claims(client.get(path).text)

    assert stored(registry, path).version == row.version + 1
    assert parse_date_time_stamp(served["validUntil"]) == registry.clock().replace(microsecond=0) + VALIDITY


def test_processes_racing_to_re_sign_a_list_sign_it_once(
    client: TestClient, registry: Registry, token: str
) -> None:
    path = lists_of(issue(client, registry, token), registry)["suspension"]
    row = stored(registry, path)
    registry.clock.advance(days=2)
    refreshers = [Refresher(registry.engine, registry.context()) for _ in range(4)]  # one per process
    start = threading.Barrier(len(refreshers))
    results: list[bool] = []

    def race(refresher: Refresher) -> None:
        start.wait()
        results.append(refresher.refresh_now(row.id or 0, row.issuer_id))

    threads = [threading.Thread(target=race, args=(refresher,)) for refresher in refreshers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for refresher in refreshers:
        refresher.close()

    assert results == [True] * 4
    assert stored(registry, path).version == row.version + 1


def test_a_list_that_cannot_be_re_signed_is_still_served_and_tried_again_once_per_ttl(
    own_keystores: Registry, caplog: pytest.LogCaptureFixture
) -> None:
    registry = own_keystores
    with TestClient(registry.app()) as client:
        refresher = client.app.state.refresher  # type: ignore[attr-defined]
        path = lists_of(issue(client, registry, registry.token()), registry)["revocation"]
        first = client.get(path)
        keystore = registry.keystore("acme-cb")
        keystore.mark_compromised(keystore.active().kid, at=registry.clock())

        with caplog.at_level(logging.WARNING, logger="registry.refresher"):
            registry.clock.advance(days=2)  # due, still valid: the background re-sign fails
            served = [client.get(path) for _ in range(3)]
            refresher.drain()
            served += [client.get(path) for _ in range(3)]
            refresher.drain()
            registry.clock.advance(days=1, seconds=-100)  # 100 s left: the read tries at once, fails
            served.append(client.get(path))
            registry.clock.advance(seconds=200)  # expired: tried again only after a ttl
            served += [client.get(path) for _ in range(3)]
            refresher.drain()

    assert [(r.status_code, r.headers["etag"]) for r in served] == [(200, first.headers["etag"])] * 10
    cache_control = [r.headers["cache-control"] for r in served]
    # No cache may keep it past its validUntil, nor at all once it has expired.
    assert cache_control == [first.headers["cache-control"]] * 6 + ["public, max-age=100"] + ["no-cache"] * 3
    warnings = [r.getMessage() for r in caplog.records if r.name == "registry.refresher"]
    assert len(warnings) == 2, warnings  # once when due, once near expiry: not on every request
    assert all("was not re-signed" in warning for warning in warnings)


def test_a_list_signed_under_other_settings_is_re_signed(registry: Registry, token: str) -> None:
    with TestClient(registry.app()) as client:
        path = lists_of(issue(client, registry, token), registry)["revocation"]
        assert claims(client.get(path).text)["credentialSubject"]["ttl"] == 300_000
    registry.settings = registry.settings.model_copy(
        update={"status_ttl_seconds": 60, "status_validity_seconds": 86_400}
    )
    with TestClient(registry.app()) as client:
        assert client.get(path).status_code == 200  # still valid: served, and re-signed behind it
        client.app.state.refresher.drain()  # type: ignore[attr-defined]
        response = client.get(path)
    signed = claims(response.text)
    assert signed["credentialSubject"]["ttl"] == 60_000
    assert response.headers["cache-control"] == "public, max-age=60"
    valid = parse_date_time_stamp(signed["validUntil"]) - parse_date_time_stamp(signed["validFrom"])
    assert valid == timedelta(days=1)


def test_re_signing_an_expired_list_holds_one_connection_at_a_time(
    client: TestClient, registry: Registry, token: str
) -> None:
    """A request holds at most one pooled connection (registry.db): forty reads of expired lists at once must
    not each wait for a second one (found in review: the route kept its own while the re-sign took another)."""
    path = lists_of(issue(client, registry, token), registry)["revocation"]
    engine = client.app.state.engine  # type: ignore[attr-defined]
    out, peak = [0], [0]

    def checkout(*_: object) -> None:
        out[0] += 1
        peak[0] = max(peak[0], out[0])

    def checkin(*_: object) -> None:
        out[0] -= 1

    registry.clock.advance(days=4)
    sa.event.listen(engine, "checkout", checkout)
    sa.event.listen(engine, "checkin", checkin)
    try:
        served = claims(client.get(path).text)
    finally:
        sa.event.remove(engine, "checkout", checkout)
        sa.event.remove(engine, "checkin", checkin)
    assert parse_date_time_stamp(served["validFrom"]) == registry.clock().replace(microsecond=0)
    assert peak[0] == 1


def test_a_later_version_is_never_signed_as_older(client: TestClient, registry: Registry, token: str) -> None:
    """A writer whose clock read comes before another's lock, or a host whose clock is behind, must not sign the
    next version with an earlier validFrom: verifiers keep the later signed of two copies."""
    issued = issue(client, registry, token)
    path = lists_of(issued, registry)["revocation"]
    before = parse_date_time_stamp(claims(client.get(path).text)["validFrom"])
    registry.clock.advance(minutes=-10)  # this writer's clock is behind
    revoked = client.post(
        f"/api/v1/credentials/{issued['id']}/revoke",
        json={"reasonCode": "company_request"},
        headers=registry.bearer(token),
    )
    assert revoked.status_code == 200, revoked.text
    after = parse_date_time_stamp(claims(client.get(path).text)["validFrom"])
    assert after >= before


def test_the_bundle_holds_re_signed_lists(client: TestClient, registry: Registry, token: str) -> None:
    paths = lists_of(issue(client, registry, token), registry)
    registry.clock.advance(days=2)

    response = client.get("/api/v1/bundle")

    assert response.status_code == 200, response.text
    held = claims(response.text)["credentialSubject"]["statusLists"]
    assert len(held) == 2
    for status_list in held:
        signed = claims(status_list)
        assert parse_date_time_stamp(signed["validUntil"]) - registry.clock() > VALIDITY / 2
    assert all(stored(registry, p).version == 2 for p in paths.values())


def test_the_verify_page_re_signs_the_lists_it_reads(
    client: TestClient, registry: Registry, token: str
) -> None:
    issued = issue(client, registry, token)
    paths = lists_of(issued, registry)
    registry.clock.advance(days=3, minutes=10)  # the lists as signed at issuance have expired

    page = client.post("/verify", data={"jwt": issued["token"]}, params={"lang": "en"})

    assert page.status_code == 200
    found = re.search(r'<span class="verdict-code">\((\w+)\)</span>', page.text)
    assert found is not None, page.text
    assert found[1] == "valid", page.text
    assert all(stored(registry, p).version == 2 for p in paths.values())


def test_a_validity_shorter_than_two_ttls_is_refused() -> None:
    with pytest.raises(ValidationError, match="at least twice status_ttl_seconds"):
        Settings(environment="development", status_ttl_seconds=600, status_validity_seconds=1000)
