"""sign_credential: a compact JWS whose header is VC-JOSE-COSE's and whose claims are the credential itself."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from issuer import MEDIA_TYPE, sign_credential
from keys import SigningKey, b64url_decode

NOW = datetime(2026, 11, 1, 0, 0, 7, tzinfo=UTC)
KID_PREFIX = "did:web:cb.example#"


def decode(token: str) -> tuple[dict[str, Any], dict[str, Any], bytes, bytes]:
    header, payload, signature = token.split(".")
    return (
        json.loads(b64url_decode(header)),
        json.loads(b64url_decode(payload)),
        f"{header}.{payload}".encode("ascii"),
        b64url_decode(signature),
    )


def credential() -> dict[str, Any]:
    return {
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "id": "https://registry.example/credentials/1",
        "type": ["VerifiableCredential"],
        "issuer": {"id": "did:web:cb.example", "type": ["Profile"], "name": "CB"},
        "validFrom": "2026-11-01T00:00:00Z",
        "validUntil": "2029-10-31T23:59:59Z",
        "credentialSubject": {"id": "did:web:acme.example", "name": "ACME Corp. — アクメ"},
    }


def test_media_type() -> None:
    assert MEDIA_TYPE == "application/vc+jwt"


def test_header_and_claims(any_key: SigningKey) -> None:
    kid = KID_PREFIX + any_key.kid
    token = sign_credential(credential(), key=any_key, kid=kid, now=NOW)
    header, claims, signing_input, signature = decode(token)
    assert header == {"alg": any_key.alg.value, "kid": kid, "typ": "vc+jwt", "cty": "vc"}
    assert claims == {
        **credential(),
        "iss": "did:web:cb.example",
        "jti": "https://registry.example/credentials/1",
        "sub": "did:web:acme.example",
        "iat": int(NOW.timestamp()),
        "nbf": int(datetime(2026, 11, 1, tzinfo=UTC).timestamp()),
        "exp": int(datetime(2029, 10, 31, 23, 59, 59, tzinfo=UTC).timestamp()),
    }
    assert "vc" not in claims  # VC-JOSE-COSE: the claims set is the credential, no `vc` claim
    assert any_key.public_key.verify(signature, signing_input)


def test_the_credential_is_not_changed(ed_key: SigningKey) -> None:
    original = credential()
    sign_credential(original, key=ed_key, kid=KID_PREFIX + ed_key.kid, now=NOW)
    assert original == credential()


def test_claims_follow_what_the_credential_has(ed_key: SigningKey) -> None:
    bare = credential()
    bare["issuer"] = "did:web:cb.example"
    del bare["id"], bare["validUntil"], bare["validFrom"]
    bare["credentialSubject"] = {"name": "no id"}
    _, claims, _, _ = decode(sign_credential(bare, key=ed_key, kid=KID_PREFIX + ed_key.kid, now=NOW))
    assert claims == {**bare, "iss": "did:web:cb.example", "iat": int(NOW.timestamp())}


def test_offsets_become_numeric_dates(ed_key: SigningKey) -> None:
    dated = {
        **credential(),
        "validFrom": "2026-11-01T09:00:00+09:00",
        "validUntil": "2027-01-01T00:00:00.900Z",
    }
    _, claims, _, _ = decode(sign_credential(dated, key=ed_key, kid=KID_PREFIX + ed_key.kid, now=NOW))
    assert claims["nbf"] == int(datetime(2026, 11, 1, tzinfo=UTC).timestamp())
    assert claims["exp"] == int(datetime(2027, 1, 1, tzinfo=UTC).timestamp())


def test_compact_json(ed_key: SigningKey) -> None:
    _, payload, _ = sign_credential(credential(), key=ed_key, kid=KID_PREFIX + ed_key.kid, now=NOW).split(".")
    raw = b64url_decode(payload)
    assert b", " not in raw
    assert b": " not in raw
    assert json.loads(raw.decode("utf-8"))["credentialSubject"]["name"] == "ACME Corp. — アクメ"
    assert b"=" not in payload.encode()
