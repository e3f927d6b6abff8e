"""JWKS, did:web documents and did:key: shapes, round trips, published vectors and hostile input."""

from __future__ import annotations

import copy
import re
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519

from keys import (
    CID_CONTEXT,
    DID_CONTEXT,
    Algorithm,
    DidError,
    InvalidKeyError,
    PublicKey,
    PublishedKey,
    SigningKey,
    b64url_encode,
    did_key,
    did_web_document,
    did_web_url,
    format_date_time_stamp,
    jwks,
    parse_date_time_stamp,
    parse_did_document,
    parse_jwks,
    public_key_from_did_key,
    verification_method_id,
)
from keys._publication import _base58_encode

if TYPE_CHECKING:
    from collections.abc import Callable

DID = "did:web:issuer.example"
RETIRED = datetime(2026, 11, 1, tzinfo=UTC)
COMPROMISED = datetime(2026, 12, 24, 13, 5, 7, 250000, tzinfo=UTC)


@pytest.fixture(scope="module")
def published() -> list[PublishedKey]:
    """A retired EdDSA key, a compromised one, and the active ES256 key."""
    retired, compromised, active = (SigningKey.generate(alg) for alg in ("EdDSA", "EdDSA", "ES256"))
    return [
        PublishedKey(retired.public_key, expires=RETIRED),
        PublishedKey(compromised.public_key, expires=RETIRED + timedelta(days=30), revoked=COMPROMISED),
        PublishedKey(active.public_key),
    ]


@pytest.fixture
def document(published: list[PublishedKey]) -> dict[str, Any]:
    return did_web_document(DID, published)


def test_verification_method_id() -> None:
    assert verification_method_id(DID, "abc") == "did:web:issuer.example#abc"


# --- did:web URLs --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("did", "url"),
    [
        # did:web method §3.2.2 examples
        ("did:web:w3c-ccg.github.io", "https://w3c-ccg.github.io/.well-known/did.json"),
        ("did:web:w3c-ccg.github.io:user:alice", "https://w3c-ccg.github.io/user/alice/did.json"),
        ("did:web:example.com%3A3000:user:alice", "https://example.com:3000/user/alice/did.json"),
        ("did:web:localhost%3a8443", "https://localhost:8443/.well-known/did.json"),
        ("did:web:example.com:caf%C3%A9", "https://example.com/caf%C3%A9/did.json"),
    ],
)
def test_did_web_url(did: str, url: str) -> None:
    assert did_web_url(did) == url


@pytest.mark.parametrize(
    ("did", "message"),
    [
        ("did:key:z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp", "not a did:web DID"),
        (42, "not a did:web DID: 42"),
        ("did:web:", "is not a well-formed DID"),
        ("did:web:example.com/path", "is not a well-formed DID"),
        ("did:web:example.com#key-1", "is not a well-formed DID"),
        ("did:web:exa mple.com", "is not a well-formed DID"),
        ("did:web:user%40example.com", "is not a domain name with an optional %3A-encoded port"),
        ("did:web:-example.com", "'-example.com' is not a valid domain name"),
        ("did:web:example..com", "is not a valid domain name"),
        ("did:web:127.0.0.1", "did:web names a domain, not an IP address"),
        ("did:web:example.com%3A0", "port 0 is out of range"),
        ("did:web:example.com%3A65536", "port 65536 is out of range"),
        ("did:web:example.com::alice", "path segment '' is empty or unsafe"),
        ("did:web:example.com:..", "path segment '..' is empty or unsafe"),
        ("did:web:example.com:%2E%2E", "path segment '%2E%2E' is empty or unsafe"),
        ("did:web:example.com:a%2Fb", "path segment 'a%2Fb' is empty or unsafe"),
    ],
)
def test_did_web_url_refuses(did: Any, message: str) -> None:
    with pytest.raises(DidError, match=re.escape(message)):
        did_web_url(did)


# --- JWKS and DID document shapes ----------------------------------------------------------------------


def test_jwks_shape(published: list[PublishedKey]) -> None:
    document = jwks(published)

    retired, compromised, active = document["keys"]
    for entry, key in zip(document["keys"], published, strict=True):
        assert entry["kid"] == key.kid
        assert entry["use"] == "sig"
        assert entry["alg"] == key.public_key.alg.value
        assert "d" not in entry
    assert retired["expires"] == "2026-11-01T00:00:00Z"
    assert "revoked" not in retired
    assert compromised["revoked"] == "2026-12-24T13:05:07.250000Z"
    assert active.keys() == {"kty", "crv", "x", "y", "kid", "alg", "use"}


def test_did_document_shape(published: list[PublishedKey], document: dict[str, Any]) -> None:
    assert document["@context"] == [DID_CONTEXT, CID_CONTEXT]
    assert document["id"] == DID
    ids = [f"{DID}#{key.kid}" for key in published]
    assert [method["id"] for method in document["verificationMethod"]] == ids
    # Retired and compromised keys stay authorized: their expires/revoked times bound what they verify.
    assert document["assertionMethod"] == ids
    retired, compromised, active = document["verificationMethod"]
    for method, key in zip(document["verificationMethod"], published, strict=True):
        assert method["type"] == "JsonWebKey"
        assert method["controller"] == DID
        assert method["publicKeyJwk"]["kid"] == key.kid
        assert method["publicKeyJwk"]["alg"] == key.public_key.alg.value
        assert "use" not in method["publicKeyJwk"]
    assert retired["expires"] == "2026-11-01T00:00:00Z"
    assert compromised["revoked"] == "2026-12-24T13:05:07.250000Z"
    assert "expires" not in active
    assert "revoked" not in active


def test_round_trips(published: list[PublishedKey], document: dict[str, Any]) -> None:
    assert parse_did_document(document, expected_did=DID) == published
    assert parse_did_document(document) == published
    assert parse_jwks(jwks(published)) == published


def test_publishing_a_key_twice_is_refused(published: list[PublishedKey]) -> None:
    with pytest.raises(InvalidKeyError, match=f"key {published[0].kid} is listed twice"):
        jwks([published[0], published[0]])
    with pytest.raises(InvalidKeyError, match="is listed twice"):
        did_web_document(DID, [published[1], published[1]])


def test_did_document_needs_a_did_web(published: list[PublishedKey]) -> None:
    with pytest.raises(DidError, match="not a did:web DID"):
        did_web_document("https://issuer.example", published)


# --- parsing DID documents -----------------------------------------------------------------------------


def test_methods_outside_assertion_method_are_not_returned(
    published: list[PublishedKey], document: dict[str, Any]
) -> None:
    document["assertionMethod"] = document["assertionMethod"][2:]

    assert parse_did_document(document) == published[2:]


def test_relative_references_and_embedded_methods(
    published: list[PublishedKey], document: dict[str, Any]
) -> None:
    first, second, third = document["verificationMethod"]
    first["id"] = "#" + published[0].kid
    document["verificationMethod"] = [first, second]
    document["assertionMethod"] = ["#" + published[0].kid, second["id"], third]

    assert parse_did_document(document) == published


def test_legacy_json_web_key_2020_type_is_read(
    published: list[PublishedKey], document: dict[str, Any]
) -> None:
    document["verificationMethod"][0]["type"] = "JsonWebKey2020"

    assert parse_did_document(document)[0] == published[0]


def _set(path: str, value: Any) -> Callable[[dict[str, Any]], Any]:
    """Set a member by a dotted path such as 'verificationMethod.0.publicKeyJwk.kid'."""

    def mutate(document: dict[str, Any]) -> Any:
        *parents, last = path.split(".")
        target: Any = document
        for part in parents:
            target = target[int(part)] if isinstance(target, list) else target[part]
        target[int(last) if isinstance(target, list) else last] = value
        return document

    return mutate


def _delete(path: str) -> Callable[[dict[str, Any]], Any]:
    def mutate(document: dict[str, Any]) -> Any:
        *parents, last = path.split(".")
        target: Any = document
        for part in parents:
            target = target[int(part)] if isinstance(target, list) else target[part]
        del target[last]
        return document

    return mutate


def _duplicate_method(document: dict[str, Any]) -> Any:
    document["verificationMethod"].append(copy.deepcopy(document["verificationMethod"][0]))
    return document


def _duplicate_assertion(document: dict[str, Any]) -> Any:
    document["assertionMethod"].append(document["assertionMethod"][0])
    return document


def _embed_existing(document: dict[str, Any]) -> Any:
    document["assertionMethod"][0] = copy.deepcopy(document["verificationMethod"][0])
    return document


def _method_of_another_did(document: dict[str, Any]) -> Any:
    kid = document["verificationMethod"][0]["publicKeyJwk"]["kid"]
    document["verificationMethod"][0]["id"] = f"did:web:attacker.example#{kid}"
    return document


def _fragment_not_thumbprint(document: dict[str, Any]) -> Any:
    document["verificationMethod"][0]["id"] = f"{DID}#key-1"
    del document["verificationMethod"][0]["publicKeyJwk"]["kid"]
    document["assertionMethod"][0] = f"{DID}#key-1"
    return document


def _private_key(document: dict[str, Any]) -> Any:
    document["verificationMethod"][0]["publicKeyJwk"]["d"] = b64url_encode(bytes(32))
    return document


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda document: [document], "a DID document must be a JSON object"),
        (_delete("id"), "DID document 'id' must be a DID, got None"),
        (_set("id", "https://issuer.example"), "'id' must be a DID, got 'https://issuer.example'"),
        (
            _set("id", "did:web:other.example"),
            "the DID document is for did:web:other.example, not the expected",
        ),
        (_set("@context", 7), "'@context' must be a string or an array"),
        (_set("verificationMethod", {}), "'verificationMethod' must be an array"),
        (_set("assertionMethod", "x"), "'assertionMethod' must be an array"),
        (_set("verificationMethod.0", "x"), "verificationMethod #0 must be a JSON object"),
        (_delete("verificationMethod.0.id"), "verificationMethod #0 has no string 'id'"),
        (_method_of_another_did, "is not a verification method of did:web:issuer.example"),
        (_set("verificationMethod.0.id", DID), "is not a verification method of"),
        (_duplicate_method, "is listed twice"),
        (_private_key, "publishes a private key ('d' in publicKeyJwk)"),
        (_set("verificationMethod.0.secretKeyJwk", {}), "publishes secret key material (secretKeyJwk)"),
        (
            _set("verificationMethod.0.privateKeyBase58", "x"),
            "publishes secret key material (privateKeyBase58)",
        ),
        (
            _set("verificationMethod.0.publicKeyJwk.kid", "key-1"),
            "'kid' 'key-1' is not the RFC 7638 thumbprint",
        ),
        (_fragment_not_thumbprint, "the id fragment 'key-1' is not the RFC 7638 thumbprint of the key"),
        (_set("verificationMethod.0.type", "Multikey"), "has type 'Multikey'; aigov reads only 'JsonWebKey'"),
        (_delete("verificationMethod.0.controller"), "has controller None; expected the document's DID"),
        (_set("verificationMethod.0.controller", "did:web:x.example"), "has controller 'did:web:x.example'"),
        (_delete("verificationMethod.0.publicKeyJwk"), "has no publicKeyJwk"),
        (
            _set("verificationMethod.0.publicKeyMultibase", "z6Mk"),
            "has both publicKeyJwk and publicKeyMultibase",
        ),
        (_set("verificationMethod.0.publicKeyJwk", "x"), "a JWK must be a JSON object"),
        (_set("verificationMethod.0.publicKeyJwk.kty", "RSA"), "unsupported JWK kty='RSA'"),
        (
            _set("verificationMethod.0.publicKeyJwk.alg", "ES256"),
            "JWK 'alg' 'ES256' does not match its key type",
        ),
        (_set("verificationMethod.0.publicKeyJwk.x", "not base64url!"), "invalid JWK: not base64url"),
        (
            _set("verificationMethod.0.publicKeyJwk.use", "enc"),
            "'use' is 'enc'; a signature verification key",
        ),
        (
            _set("verificationMethod.0.publicKeyJwk.key_ops", ["sign"]),
            "'key_ops' must be an array that includes 'verify'",
        ),
        (_set("verificationMethod.0.expires", "2026-11-01"), "'expires' must be an XML Schema dateTimeStamp"),
        (_set("verificationMethod.0.expires", "2026-11-01T00:00:00"), "must be an XML Schema dateTimeStamp"),
        (_set("verificationMethod.0.expires", 1700000000), "must be an XML Schema dateTimeStamp"),
        (
            _set("verificationMethod.1.revoked", "2026-13-01T00:00:00Z"),
            "'revoked' '2026-13-01T00:00:00Z' is not a",
        ),
        (
            _set("verificationMethod.0.expires", "9999-12-31T23:59:59-01:00"),
            "'expires' '9999-12-31T23:59:59-01:00' is out of range: in UTC it falls outside the years 1 to 9999",
        ),
        (
            _set("verificationMethod.1.revoked", "0001-01-01T00:00:00+01:00"),
            "'revoked' '0001-01-01T00:00:00+01:00' is out of range",
        ),
        (
            _set("assertionMethod.0", f"{DID}#nope"),
            f"refers to {DID}#nope, which is not in verificationMethod",
        ),
        (
            _set("assertionMethod.0", "did:web:evil.example#x"),
            "assertionMethod #0: 'did:web:evil.example#x' is not",
        ),
        (_set("assertionMethod.0", 5), "assertionMethod #0 must be a JSON object"),
        (_duplicate_assertion, "assertionMethod lists did:web:issuer.example#"),
        (_embed_existing, "embeds did:web:issuer.example#"),
    ],
)
def test_hostile_did_documents(
    document: dict[str, Any], mutate: Callable[[dict[str, Any]], Any], message: str
) -> None:
    hostile = mutate(copy.deepcopy(document))

    with pytest.raises(DidError, match=re.escape(message)):
        parse_did_document(hostile, expected_did=DID)


# --- parsing JWKS --------------------------------------------------------------------------------------


def _duplicate_jwk(document: dict[str, Any]) -> Any:
    document["keys"].append(dict(document["keys"][0]))
    return document


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda document: document["keys"], "a JWKS must be a JSON object with a 'keys' array"),
        (_delete("keys"), "JWKS member 'keys' is missing or not an array"),
        (_set("keys", {}), "JWKS member 'keys' is missing or not an array"),
        (_set("keys.0", "x"), "JWKS key #0: a JWK must be a JSON object"),
        (_delete("keys.0.kid"), "JWKS key #0: no 'kid'"),
        (_set("keys.1.kid", "abc"), "JWKS key #1: 'kid' 'abc' is not the RFC 7638 thumbprint"),
        (_duplicate_jwk, "JWKS key #3: duplicate kid"),
        (_set("keys.0.d", b64url_encode(bytes(32))), "refusing a JWK with private key material"),
        (_set("keys.0.k", "c2VjcmV0"), "refusing a JWK with private key material"),
        (_set("keys.0.crv", "X25519"), "unsupported JWK kty='OKP' crv='X25519'"),
        (_set("keys.2.x", "AAAA"), "P-256 JWK: 'x' and 'y' must be 32 bytes each"),
        # The identity point: OpenSSL would accept R = identity, S = 0 as its signature of any message.
        (
            _set("keys.0.x", b64url_encode(b"\x01" + bytes(31))),
            "Ed25519 key is not a valid point of prime order",
        ),
        (_set("keys.0.expires", "soon"), "JWKS key #0: 'expires' must be an XML Schema dateTimeStamp"),
        (
            _set("keys.1.expires", "0001-01-01T00:00:00+01:00"),
            "JWKS key #1: 'expires' '0001-01-01T00:00:00+01:00' is out of range",
        ),
        (
            _set("keys.2.revoked", "9999-12-31T23:59:59-01:00"),
            "JWKS key #2: 'revoked' '9999-12-31T23:59:59-01:00' is out of range",
        ),
        (_set("keys.0.use", "enc"), "JWKS key #0: 'use' is 'enc'"),
        (_set("keys.0.key_ops", "verify"), "'key_ops' must be an array that includes 'verify', got 'verify'"),
    ],
)
def test_hostile_jwks(
    published: list[PublishedKey], mutate: Callable[[dict[str, Any]], Any], message: str
) -> None:
    hostile = mutate(copy.deepcopy(jwks(published)))

    with pytest.raises(InvalidKeyError, match=re.escape(message)):
        parse_jwks(hostile)


def test_empty_jwks() -> None:
    assert parse_jwks({"keys": []}) == []


# --- timestamps ----------------------------------------------------------------------------------------


def test_date_time_stamps() -> None:
    tokyo = datetime.fromisoformat("2026-11-01T09:00:00+09:00")

    assert format_date_time_stamp(tokyo) == "2026-11-01T00:00:00Z"
    assert format_date_time_stamp(COMPROMISED) == "2026-12-24T13:05:07.250000Z"
    assert parse_date_time_stamp("2026-11-01T09:00:00+09:00", what="t") == RETIRED
    assert parse_date_time_stamp("2026-12-24T13:05:07.25Z", what="t") == COMPROMISED
    with pytest.raises(ValueError, match="naive datetime"):
        format_date_time_stamp(datetime(2026, 11, 1))  # noqa: DTZ001 - the point of the test


@pytest.mark.parametrize(
    ("value", "utc"),
    [
        ("0001-01-01T00:00:00Z", datetime.min.replace(tzinfo=UTC)),
        ("0001-01-01T00:00:00-01:00", datetime(1, 1, 1, 1, tzinfo=UTC)),
        ("9999-12-31T23:59:59.999999Z", datetime.max.replace(tzinfo=UTC)),
        ("9999-12-31T23:59:59+01:00", datetime(9999, 12, 31, 22, 59, 59, tzinfo=UTC)),
    ],
)
def test_date_time_stamps_at_the_calendar_s_ends(value: str, utc: datetime) -> None:
    assert parse_date_time_stamp(value, what="t") == utc


@pytest.mark.parametrize(
    "value", ["0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00", "9999-12-31T23:00:00-23:59"]
)
def test_date_time_stamps_off_the_calendar_in_utc(value: str) -> None:
    with pytest.raises(DidError) as raised:
        parse_date_time_stamp(value, what="'expires'", error=DidError)
    assert (
        str(raised.value)
        == f"'expires' {value!r} is out of range: in UTC it falls outside the years 1 to 9999"
    )
    assert isinstance(raised.value.__cause__, OverflowError)


# --- did:key -------------------------------------------------------------------------------------------

# did:key method test vectors (w3c-ccg/did-method-key, test-vectors/ed25519-x25519.json): the Ed25519 key from
# the all-zero seed, whose publicKeyBase58 is 4zvwRjXUKGfvwnParsHAS3HuSVzV5cA4McphgmoCtajS.
ED25519_VECTOR = "did:key:z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp"
# test-vectors/nist-curves.json: the first P-256 key.
P256_VECTOR = "did:key:zDnaerx9CtbPJ1q36T5Ln5wYt3MQYeGRG5ehnPAmxcf5mDZpv"
P256_VECTOR_JWK = {
    "kty": "EC",
    "crv": "P-256",
    "x": "igrFmi0whuihKnj9R3Om1SoMph72wUGeFaBbzG2vzns",
    "y": "efsX5b10x8yjyrj4ny3pGfLcY7Xby1KzgqOdqnsrJIM",
}


def test_did_key_ed25519_vector() -> None:
    private = ed25519.Ed25519PrivateKey.from_private_bytes(bytes(32))
    raw = private.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    public_key = PublicKey.from_jwk({"kty": "OKP", "crv": "Ed25519", "x": b64url_encode(raw)})

    assert _base58_encode(raw) == "4zvwRjXUKGfvwnParsHAS3HuSVzV5cA4McphgmoCtajS"
    assert did_key(public_key) == ED25519_VECTOR
    assert public_key_from_did_key(ED25519_VECTOR) == public_key


def test_did_key_p256_vector() -> None:
    public_key = PublicKey.from_jwk(P256_VECTOR_JWK)

    assert did_key(public_key) == P256_VECTOR
    assert public_key_from_did_key(P256_VECTOR) == public_key


@pytest.mark.parametrize("alg", ["EdDSA", "ES256"])
def test_did_key_round_trip(alg: str) -> None:
    for _ in range(8):  # both parities of y for P-256
        public_key = SigningKey.generate(alg).public_key
        assert public_key_from_did_key(did_key(public_key)) == public_key


@pytest.mark.parametrize(
    ("did", "message"),
    [
        ("did:key:6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp", "it must start with 'did:key:z'"),
        (None, "not a base58btc did:key DID"),
        ("did:key:z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooW0", "'0' is not a base58btc character"),
        # the X25519 key agreement key of the same vector: not a signature key
        (
            "did:key:z6LShs9GGnqk85isEBzzshkuVWrVKsRp24GnDuHk8QWkARMW",
            "unsupported did:key type (multicodec prefix ec01",
        ),
        ("did:key:z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDoo", "unsupported did:key type"),
        ("did:key:z" + "2" * 101, "did:key value too long"),
    ],
)
def test_did_key_refuses(did: Any, message: str) -> None:
    with pytest.raises(DidError, match=re.escape(message)):
        public_key_from_did_key(did)


def _on_p256(x: int) -> bool:
    try:
        ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), b"\x02" + x.to_bytes(32, "big"))
    except ValueError:
        return False
    return True


def test_did_key_p256_point_not_on_the_curve() -> None:
    x = next(x for x in range(100) if not _on_p256(x))
    did = "did:key:z" + _base58_encode(b"\x80\x24\x02" + x.to_bytes(32, "big"))

    with pytest.raises(DidError, match="not a valid public key"):
        public_key_from_did_key(did)


def test_a_forgery_that_a_lax_verifier_accepts_is_refused() -> None:
    """Under the identity key, R = identity and S = 0 satisfy the cofactorless equation for any message:
    OpenSSL's Ed25519 accepts it. Such a key is refused, and libsodium refuses the signature too."""
    identity = b"\x01" + bytes(31)
    lax = ed25519.Ed25519PublicKey.from_public_bytes(identity)
    lax.verify(identity + bytes(32), b"any message")  # what a lax verifier does: no exception

    with pytest.raises(InvalidKeyError, match="small-order"):
        PublicKey(lax)


@pytest.mark.parametrize("alg", ["EdDSA", "ES256"])
@pytest.mark.parametrize(
    "tamper",
    [
        lambda sig: sig[:-1],
        lambda sig: sig + b"\x00",
        lambda sig: b"",
        lambda sig: bytes([sig[0] ^ 1]) + sig[1:],
        # S + L: the same scalar to a lax Ed25519 verifier; modulo 2**256 so a large P-256 S cannot overflow.
        lambda sig: (
            sig[:32] + ((int.from_bytes(sig[32:], "little") + _ED25519_ORDER) % 2**256).to_bytes(32, "little")
        ),
    ],
    ids=["short", "long", "empty", "flipped-bit", "s-plus-order"],
)
def test_a_bad_signature_is_false_never_an_exception(alg: str, tamper: Callable[[bytes], bytes]) -> None:
    key = SigningKey.generate(Algorithm(alg))
    signature = key.sign(b"message")
    assert key.public_key.verify(signature, b"message")

    assert key.public_key.verify(tamper(signature), b"message") is False


_ED25519_ORDER = 2**252 + 27742317777372353535851937790883648493


@pytest.mark.parametrize("alg", ["EdDSA", "ES256"])
def test_odd_arguments_are_false_never_true_nor_an_exception(alg: str) -> None:
    key = SigningKey.generate(Algorithm(alg))
    signature = key.sign(b"message")
    public = key.public_key

    assert public.verify(
        bytearray(signature), b"message"
    )  # bytes-like forms of a good signature still verify
    assert public.verify(memoryview(signature), bytearray(b"message"))
    # PyNaCl reads a missing signature as "signature and message joined": that must never verify.
    assert public.verify(None, signature + b"message") is False  # type: ignore[arg-type]
    assert public.verify(signature.hex(), b"message") is False  # type: ignore[arg-type]
    assert public.verify(signature, "message") is False  # type: ignore[arg-type]


def test_ed25519_signatures_are_those_of_rfc_8032_whichever_library_makes_them() -> None:
    """keys signs Ed25519 with libsodium; the scheme is deterministic, so the bytes are exactly `cryptography`'s
    (and RFC 8032 §7.1's first test vector's), and bytes-like data signs as its bytes."""
    seed = bytes.fromhex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60")
    key = SigningKey(ed25519.Ed25519PrivateKey.from_private_bytes(seed))
    expected = bytes.fromhex(
        "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e06522490155"
        "5fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b"
    )
    assert key.sign(b"") == expected

    other = ed25519.Ed25519PrivateKey.generate()
    for message in (b"m", bytes(range(256)) * 20):
        assert SigningKey(other).sign(bytearray(message)) == other.sign(message)
        assert SigningKey(other).sign(memoryview(message)) == other.sign(message)
    with pytest.raises(TypeError):
        key.sign(5)  # type: ignore[arg-type]  # not five zero bytes
