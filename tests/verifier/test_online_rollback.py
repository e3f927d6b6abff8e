"""OnlineVerifier never rolls back what it has verified: an older trust list version, or an older copy of a status
list, served after a newer one (a stale cache or CDN edge, a replayed copy still within its validUntil) does not
displace it, by the offline TrustStore's rules, even when a failure or `no-store` emptied the cache in between.
Against a real HTTP server on 127.0.0.1."""

from __future__ import annotations

import http.server
import threading
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

import pytest

import issuer
from keys import KeyRecord, KeyState, PublishedKey, SigningKey, did_web_document
from verifier import OnlineVerifier, Outcome, Verdict, VerificationResult, problems

if TYPE_CHECKING:
    from conftest import World  # tests/verifier/conftest.py

JWT = "application/vc+jwt"
OWNER_DID = "did:web:registry.example"
OWNER = SigningKey.generate()
OWNER_DOCUMENT = did_web_document(OWNER_DID, [PublishedKey(OWNER.public_key)])
ACCREDITED = datetime(2026, 1, 1, tzinfo=UTC)


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


class Origin(http.server.ThreadingHTTPServer):
    """A registry on 127.0.0.1: path → token, or an HTTP status to answer; counts what it was asked for."""

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.url = f"http://127.0.0.1:{self.server_port}"
        self.documents: dict[str, str | int] = {}
        self.cache_control = "max-age=60"
        self.asked: Counter[str] = Counter()


class _Handler(http.server.BaseHTTPRequestHandler):
    server: Origin

    def do_GET(self) -> None:
        self.server.asked[self.path] += 1
        found = self.server.documents.get(self.path, 404)
        body = b"" if isinstance(found, int) else found.encode()
        self.send_response(found if isinstance(found, int) else 200)
        if body:
            self.send_header("Content-Type", JWT)
        self.send_header("Cache-Control", self.server.cache_control)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *_: object) -> None:
        pass


@pytest.fixture
def origin() -> Iterator[Origin]:
    server = Origin()
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def certificate(world: World, origin: Origin) -> str:
    """The certificate, with its status lists on `origin` (/status/1 revocation, /status/2 suspension)."""
    entries = {}
    for i, (path, index) in enumerate((("/status/1", 48213), ("/status/2", 1234))):
        entries[f"credentialStatus.{i}.statusListCredential"] = origin.url + path
        entries[f"credentialStatus.{i}.id"] = f"{origin.url}{path}#{index}"
    return world.token(world.credential(**entries))


def status_list(world: World, origin: Origin, path: str, *, at: datetime, revoked: bool = False) -> str:
    purpose = "revocation" if path == "/status/1" else "suspension"
    bits = [48213] if revoked else []
    return world.status_list(origin.url + path, purpose, set_bits=bits, at=at, valid_for=timedelta(days=3))


def verifier(world: World, origin: Origin, clock: Clock, **options: object) -> OnlineVerifier:
    return OnlineVerifier(origin.url, clock=clock, allow_insecure_loopback=True, **options)  # type: ignore[arg-type]


def revocation(result: VerificationResult) -> tuple[Outcome, str | None]:
    check = result.check("status.revocation")
    return check.outcome, check.problem


# -- status lists ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("cache_control", ["max-age=60", "no-store"])
def test_an_older_status_list_does_not_hide_a_revocation(
    world: World, origin: Origin, cache_control: str
) -> None:
    """Revoked in the list of 11:00; then the origin fails, then serves the list of the day before (not revoked,
    still within its validUntil): the revocation stands, as offline (TrustStore.add_status_list)."""
    clock = Clock(world.now)
    origin.cache_control = cache_control
    newer = status_list(world, origin, "/status/1", at=world.now - timedelta(hours=1), revoked=True)
    older = status_list(world, origin, "/status/1", at=world.now - timedelta(days=1))
    origin.documents["/status/1"] = newer
    origin.documents["/status/2"] = status_list(world, origin, "/status/2", at=world.now - timedelta(hours=1))
    token = certificate(world, origin)
    online = verifier(world, origin, clock, trust=world.trust(snapshots=[]))

    assert revocation(online.verify(token)) == (Outcome.FAILED, problems.REVOKED)
    origin.documents["/status/1"] = 503
    clock.now += timedelta(minutes=6)
    assert online.verify(token).verdict is Verdict.INDETERMINATE  # the failure replaced the cached list
    origin.documents["/status/1"] = older
    clock.now += timedelta(minutes=6)
    result = online.verify(token)
    assert revocation(result) == (Outcome.FAILED, problems.REVOKED), result.render_text()
    assert "snapshot of 2026-11-15T11:00:00Z" in result.check("status.revocation").detail
    assert origin.asked["/status/1"] == 3  # the older list was fetched, and refused
    online.close()


def test_a_newer_status_list_still_replaces_the_held_one(world: World, origin: Origin) -> None:
    clock = Clock(world.now)
    origin.documents["/status/1"] = status_list(
        world, origin, "/status/1", at=world.now - timedelta(hours=2), revoked=True
    )
    origin.documents["/status/2"] = status_list(world, origin, "/status/2", at=world.now - timedelta(hours=2))
    token = certificate(world, origin)
    online = verifier(world, origin, clock, trust=world.trust(snapshots=[]))
    assert revocation(online.verify(token)) == (Outcome.FAILED, problems.REVOKED)
    origin.documents["/status/1"] = status_list(world, origin, "/status/1", at=world.now - timedelta(hours=1))
    clock.now += timedelta(minutes=6)
    result = online.verify(token)
    assert result.verdict is Verdict.VALID, result.render_text()
    online.close()


# -- the trust list ----------------------------------------------------------------------------------------------
def _record(key: SigningKey, compromised: datetime | None = None) -> KeyRecord:
    history = ((KeyState.ACTIVE, ACCREDITED),)
    if compromised is not None:
        history += ((KeyState.COMPROMISED, compromised),)
    return KeyRecord(
        kid=key.kid,
        alg=key.alg,
        state=KeyState.COMPROMISED if compromised else KeyState.ACTIVE,
        created=ACCREDITED,
        retired_at=None,
        compromised_at=compromised,
        public_key=key.public_key,
        history=history,
    )


def trust_list(
    world: World,
    version: int,
    *,
    signed: datetime,
    withdrawn: datetime | None = None,
    compromised: datetime | None = None,
) -> str:
    """Version `version` of the scheme owner's trust list: cb accredited, its accreditation withdrawn or its key
    compromised when given."""
    history: tuple[tuple[str, datetime], ...] = (("active", ACCREDITED),)
    if withdrawn is not None:
        history += (("withdrawn", withdrawn),)
    accreditation = issuer.AccreditationEntry(
        "example-aigov-scheme", ("1", "2", "3"), ACCREDITED, None, history
    )
    body = issuer.ListedBody(
        world.cb.did, world.cb.name, None, [_record(world.cb.key, compromised)], [accreditation]
    )
    credential = issuer.build_trust_list(
        registry_url=world.registry, owner_did=OWNER_DID, bodies=[body], version=version, now=signed
    )
    return issuer.sign_credential(credential, key=OWNER, kid=f"{OWNER_DID}#{OWNER.kid}", now=signed)


@pytest.mark.parametrize("cache_control", ["max-age=60", "no-store"])
def test_an_older_trust_list_does_not_bring_back_a_withdrawn_accreditation(
    world: World, origin: Origin, cache_control: str
) -> None:
    clock = Clock(world.now)
    origin.cache_control = cache_control
    v1 = trust_list(world, 1, signed=world.now - timedelta(days=1))
    v2 = trust_list(world, 2, signed=world.now - timedelta(hours=1), withdrawn=world.now - timedelta(hours=2))
    for path in ("/status/1", "/status/2"):
        origin.documents[path] = status_list(world, origin, path, at=world.now - timedelta(hours=1))
    origin.documents["/trust-list"] = v2
    token = certificate(world, origin)
    online = verifier(world, origin, clock, scheme_owner=OWNER_DOCUMENT)
    world.expect(online.verify(token), "issuer_trust", Outcome.FAILED, problems.ACCREDITATION_WITHDRAWN)

    origin.documents["/trust-list"] = 503
    clock.now += timedelta(minutes=6)
    assert online.verify(token).verdict is Verdict.INDETERMINATE  # the failure replaced the cached list
    origin.documents["/trust-list"] = v1
    clock.now += timedelta(minutes=6)
    check = world.expect(
        online.verify(token), "issuer_trust", Outcome.FAILED, problems.ACCREDITATION_WITHDRAWN, "withdrawn"
    )
    assert (
        f"{origin.url}/trust-list served trust list version 1, older than version 2 already verified, "
        "which is kept" in check.detail
    )
    assert online.trust.trust_list is not None
    assert online.trust.trust_list.version == 2
    assert origin.asked["/trust-list"] == 3  # the older list was fetched, and refused

    origin.documents["/trust-list"] = trust_list(
        world, 3, signed=world.now, withdrawn=world.now - timedelta(hours=2)
    )
    clock.now += timedelta(minutes=6)
    check = world.expect(
        online.verify(token), "issuer_trust", Outcome.FAILED, problems.ACCREDITATION_WITHDRAWN
    )
    assert "older than" not in check.detail
    assert online.trust.trust_list.version == 3
    online.close()


def test_a_held_status_list_is_verified_again_when_the_trust_list_changes(
    world: World, origin: Origin
) -> None:
    """The newest status list held was signed at 11:50 with cb's key; version 2 of the trust list then says that
    key was compromised at 11:30. The held list no longer counts, so the older, genuine list (revoked) is used:
    holding on to the newest list never keeps one that the current trust refuses."""
    clock = Clock(world.now)
    origin.documents["/trust-list"] = trust_list(world, 1, signed=world.now - timedelta(days=1))
    origin.documents["/status/1"] = status_list(
        world, origin, "/status/1", at=world.now - timedelta(minutes=10)
    )
    origin.documents["/status/2"] = status_list(world, origin, "/status/2", at=world.now - timedelta(hours=1))
    token = certificate(world, origin)
    online = verifier(world, origin, clock, scheme_owner=OWNER_DOCUMENT)
    first = online.verify(token)
    assert first.verdict is Verdict.VALID, first.render_text()

    origin.documents["/trust-list"] = trust_list(
        world, 2, signed=world.now - timedelta(minutes=5), compromised=world.now - timedelta(minutes=30)
    )
    origin.documents["/status/1"] = status_list(
        world, origin, "/status/1", at=world.now - timedelta(hours=1), revoked=True
    )
    clock.now += timedelta(minutes=6)
    result = online.verify(token)
    assert revocation(result) == (Outcome.FAILED, problems.REVOKED), result.render_text()
    online.close()
