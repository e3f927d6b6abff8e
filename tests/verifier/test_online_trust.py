"""OnlineVerifier with only the scheme owner pinned: the trust list is fetched from the registry, verified with the
pinned key, cached, and then trusted for the accredited bodies' keys and hosts; a trust list that cannot be
obtained or does not verify gives `indeterminate`, never `valid`."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import httpx
import pytest

import issuer
from keys import KeyRecord, KeyState, PublishedKey, SigningKey, b64url_encode, did_web_document
from verifier import OnlineVerifier, Outcome, Verdict, problems

if TYPE_CHECKING:
    from conftest import World  # tests/verifier/conftest.py

OWNER_DID = "did:web:registry.example"
OWNER = SigningKey.generate()
OWNER_KID = f"{OWNER_DID}#{OWNER.kid}"
OWNER_DOCUMENT = did_web_document(OWNER_DID, [PublishedKey(OWNER.public_key)])
ACCREDITED = datetime(2026, 1, 1, tzinfo=UTC)
JWT = "application/vc+jwt"


def _record(key: SigningKey) -> KeyRecord:
    return KeyRecord(
        kid=key.kid,
        alg=key.alg,
        state=KeyState.ACTIVE,
        created=ACCREDITED,
        retired_at=None,
        compromised_at=None,
        public_key=key.public_key,
        history=((KeyState.ACTIVE, ACCREDITED),),
    )


def trust_list(
    world: World, *, key: SigningKey = OWNER, signed: datetime | None = None, bodies: Any = None
) -> str:
    signed = signed or world.now - timedelta(hours=1)
    accreditation = issuer.AccreditationEntry(
        "example-aigov-scheme", ("1", "2", "3"), ACCREDITED, None, (("active", ACCREDITED),)
    )
    listed = (
        bodies
        if bodies is not None
        else [issuer.ListedBody(world.cb.did, world.cb.name, None, [_record(world.cb.key)], [accreditation])]
    )
    credential = issuer.build_trust_list(
        registry_url=world.registry, owner_did=OWNER_DID, bodies=listed, version=1, now=signed
    )
    return issuer.sign_credential(credential, key=key, kid=f"{OWNER_DID}#{key.kid}", now=signed)


class Server:
    def __init__(self, world: World, trust_list_token: str | None) -> None:
        self.documents: dict[str, bytes | httpx.Response] = {
            url: token.encode() for url, token in world.status_tokens.items()
        }
        if trust_list_token is not None:
            self.documents[f"{world.registry}/trust-list"] = trust_list_token.encode()
        self.served: Counter[str] = Counter()

    def __call__(self, request: httpx.Request) -> httpx.Response:
        url = str(request.url)
        self.served[url] += 1
        found = self.documents.get(url)
        if found is None:
            return httpx.Response(404)
        if isinstance(found, httpx.Response):
            return found
        kind = "application/did+json" if url.endswith(".json") else JWT
        return httpx.Response(
            200,
            stream=httpx.ByteStream(found),
            headers={"content-type": kind, "cache-control": "max-age=300"},
        )


def online(world: World, server: Server, owner: Any = OWNER_DOCUMENT) -> OnlineVerifier:
    return OnlineVerifier(
        world.registry, scheme_owner=owner, transport=httpx.MockTransport(server), clock=lambda: world.now
    )


def test_trust_through_the_trust_list_only(world: World) -> None:
    server = Server(world, trust_list(world))
    verifier = online(world, server)
    for _ in range(3):
        result = verifier.verify(world.valid_token)
        assert result.verdict is Verdict.VALID, result.render_text()
    assert server.served[f"{world.registry}/trust-list"] == 1
    assert verifier.trust.trust_list is not None


def test_an_accredited_bodys_own_host_becomes_a_trusted_origin(world: World) -> None:
    url = "https://cb.example/status/9"
    server = Server(world, trust_list(world))
    server.documents[url] = world.status_list(url, "revocation").encode()
    credential = world.credential(**{"credentialStatus.0.statusListCredential": url})
    assert online(world, server).verify(world.token(credential)).verdict is Verdict.VALID


def test_the_owner_pinned_by_thumbprint(world: World) -> None:
    import json

    server = Server(world, trust_list(world))
    server.documents[f"{world.registry}/.well-known/did.json"] = json.dumps(OWNER_DOCUMENT).encode()
    assert online(world, server, OWNER.kid).verify(world.valid_token).verdict is Verdict.VALID
    wrong = online(world, server, SigningKey.generate().kid).verify(world.valid_token)
    assert wrong.verdict is Verdict.INDETERMINATE
    assert "the scheme owner's key cannot be pinned" in wrong.summary


def _tampered(world: World) -> str:
    header, payload, _signature = trust_list(world).split(".")
    return f"{header}.{payload}.{b64url_encode(bytes(64))}"


@pytest.mark.parametrize(
    ("make", "problem"),
    [
        (_tampered, problems.CRYPTOGRAPHIC_SECURITY_ERROR),
        (lambda w: trust_list(w, key=SigningKey.generate()), problems.UNKNOWN_KEY),
        (lambda w: "eyJ.not.a-list", problems.PARSING_ERROR),
    ],
    ids=["tampered", "another-key", "garbage"],
)
def test_a_trust_list_that_does_not_verify(world: World, make: Any, problem: str) -> None:
    server = Server(world, make(world))
    result = online(world, server).verify(world.valid_token)
    check = result.check("issuer_trust")
    assert (check.outcome, result.verdict) == (Outcome.INDETERMINATE, Verdict.INDETERMINATE)
    assert check.problem == problem, check
    assert f"the trust list at {world.registry}/trust-list did not verify" in check.detail
    assert not any(url.endswith("/status/1") for url in server.served)  # nothing else is fetched


def test_a_trust_list_that_cannot_be_fetched(world: World) -> None:
    server = Server(world, None)
    server.documents[f"{world.registry}/trust-list"] = httpx.Response(503)
    result = online(world, server).verify(world.valid_token)
    check = world.expect(result, "issuer_trust", Outcome.INDETERMINATE, problems.STATUS_RETRIEVAL_ERROR)
    assert "cannot check the issuer's accreditation" in check.detail
    assert "answered HTTP 503" in check.detail


def test_an_expired_trust_list_is_not_trusted(world: World) -> None:
    server = Server(world, trust_list(world, signed=world.now - timedelta(days=10)))
    result = online(world, server).verify(world.valid_token)
    assert result.verdict is Verdict.INDETERMINATE, result.render_text()


def test_an_issuer_not_on_the_list_is_not_valid(world: World) -> None:
    other = issuer.ListedBody(world.other.did, world.other.name, None, [_record(world.other.key)], [])
    server = Server(world, trust_list(world, bodies=[other]))
    result = online(world, server).verify(world.valid_token)
    assert result.verdict is not Verdict.VALID, result.render_text()
