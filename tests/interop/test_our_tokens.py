"""(a) Tokens our Issuer signs verify with joserfc and with jwcrypto, given only the published public JWK."""

from __future__ import annotations

import json
from typing import Any

import pytest
from joserfc import jwt as joserfc_jwt
from joserfc.errors import BadSignatureError
from joserfc.jwk import import_key
from jwcrypto import jwk as jwcrypto_jwk
from jwcrypto import jws as jwcrypto_jws

from issuer import IssuedCredential
from keys import SigningKey, b64url_decode, b64url_encode

# RFC 9864 (2025) deprecates the polymorphic JWS alg "EdDSA" for the fully specified "Ed25519"; VC-JOSE-COSE and
# DESIGN.md still name EdDSA, and joserfc warns each time it meets it. The warning is about the name only.
pytestmark = pytest.mark.filterwarnings(
    "ignore:EdDSA is deprecated via RFC 9864:joserfc.errors.SecurityWarning"
)


@pytest.fixture(scope="module")
def issued(interop: Any, our_key: SigningKey) -> IssuedCredential:
    desk = interop.make_desk(our_key)
    result: IssuedCredential = desk.issue(
        interop.decision, credential_id=interop.credential_id, **interop.slots()
    )
    return result


def with_joserfc(token: str, jwk: dict[str, Any], alg: str) -> tuple[dict[str, Any], dict[str, Any]]:
    decoded = joserfc_jwt.decode(token, import_key(jwk), algorithms=[alg])
    return dict(decoded.header), dict(decoded.claims)


def with_jwcrypto(token: str, jwk: dict[str, Any], alg: str) -> tuple[dict[str, Any], dict[str, Any]]:
    jws = jwcrypto_jws.JWS()
    jws.deserialize(token)
    jws.verify(jwcrypto_jwk.JWK(**jwk), alg=alg)  # raises unless the signature is right
    return dict(jws.jose_header), json.loads(jws.payload)


VERIFIERS = {"joserfc": with_joserfc, "jwcrypto": with_jwcrypto}


@pytest.mark.parametrize("library", VERIFIERS)
def test_they_verify_our_signature_and_read_our_claims(
    library: str, issued: IssuedCredential, our_key: SigningKey, interop: Any
) -> None:
    jwk = our_key.public_key.jwk  # what our JWKS and DID document publish
    header, claims = VERIFIERS[library](issued.token, jwk, our_key.alg.value)
    assert header == {
        "alg": our_key.alg.value,
        "kid": f"{interop.did}#{our_key.kid}",
        "typ": "vc+jwt",
        "cty": "vc",
    }
    assert claims == interop.claims(issued.credential)
    assert claims["sub"] == "did:web:acme.example"
    assert "vc" not in claims


def test_our_kid_is_their_thumbprint(our_key: SigningKey) -> None:
    """RFC 7638: the three libraries name the key alike, so a `kid` resolves the same everywhere."""
    jwk = our_key.public_key.jwk
    assert import_key(jwk).thumbprint() == our_key.kid
    assert jwcrypto_jwk.JWK(**jwk).thumbprint() == our_key.kid


@pytest.mark.parametrize("library", VERIFIERS)
def test_they_refuse_an_altered_token(library: str, issued: IssuedCredential, our_key: SigningKey) -> None:
    header, payload, signature = issued.token.split(".")
    claims = json.loads(b64url_decode(payload))
    claims["credentialSubject"]["certification"]["level"] = "3"
    altered = ".".join([header, b64url_encode(json.dumps(claims).encode()), signature])
    with pytest.raises((BadSignatureError, jwcrypto_jws.InvalidJWSSignature)):
        VERIFIERS[library](altered, our_key.public_key.jwk, our_key.alg.value)
