"""Hostile tokens that need real keys (tests/assets/hostile/signed.json): OWASP's JWT cheat sheet and the CVE
classes of JWT libraries, each built at test time from its recipe with the test's keys, each with the check that
must refuse it, its problem type and a phrase of the reason.

A recipe says how to build the token:
- `header`: members set on the default header (alg of the signing key, kid of `kid`, typ vc+jwt, cty vc);
  `rawHeader` replaces the header bytes; `rawHeaderBom` puts a UTF-8 BOM before them; `headerPadBytes` adds
  a member of that many bytes; `headerDepth` adds a member nested that deep.
- `payloadOverrides` (dotted paths into the claims), `payloadInject` ([find, replace] once in the claims'
  JSON text), `rawPayload` (the payload bytes), `unencodedPayload` (RFC 7797: the payload segment is the raw
  JSON and the signature covers it).
- `kid`: whose key the header names (`cb` by default, `cb-p256`, `other`); `sign`: `cb`, `cb-p256`, `other`,
  `stranger` (a key nobody pinned), `hmac-public-raw|jwk|pem` (HMAC-SHA with the issuer's public key as the
  secret), `empty` (no signature); `signature`: a change to the signature (`zero`, `der`, `s-plus-l`,
  `truncate`, `append`, `other-token`).
Placeholders `{cb_kid}`, `{stranger_kid}`, `{stranger_jwk}` and `{valid_token}` are filled in.

The `control-valid` vector must verify: it shows that a token built by the recipes is refused for its hostile
part, not because the recipes are broken.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import utils

from keys import SigningKey, b64url_decode, b64url_encode
from verifier import Outcome, Verdict

MANIFEST = json.loads(
    (Path(__file__).parent.parent / "assets" / "hostile" / "signed.json").read_text(encoding="utf-8")
)
VECTORS = MANIFEST["vectors"]
ED25519_L = 2**252 + 27742317777372353535851937790883648493  # RFC 8032 §5.1: the group order
OTHER_DID = "did:web:other-cb.example"


def fill(value: Any, placeholders: dict[str, Any]) -> Any:
    """Replace placeholders in strings (a whole-string placeholder may stand for a non-string value)."""
    if isinstance(value, str):
        if value in placeholders:
            return placeholders[value]
        for name, replacement in placeholders.items():
            if isinstance(replacement, str):
                value = value.replace(name, replacement)
        return value
    if isinstance(value, list):
        return [fill(item, placeholders) for item in value]
    if isinstance(value, dict):
        return {key: fill(item, placeholders) for key, item in value.items()}
    return value


def compact(value: object) -> bytes:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def build(world: Any, vector: dict[str, Any]) -> str:
    """The token `vector`'s recipe describes, with `world`'s keys."""
    keys: dict[str, SigningKey] = {
        "cb": world.cb.key,
        "cb-p256": world.cb_p256,
        "other": world.other.key,
        "stranger": world.stranger,
    }
    kids = {
        "cb": world.cb.kid,
        "cb-p256": world.cb_p256_kid,
        "other": world.other.kid,
    }
    placeholders: dict[str, Any] = {
        "{cb_kid}": world.cb.key.kid,
        "{stranger_kid}": world.stranger.kid,
        "{stranger_jwk}": world.stranger.public_key.jwk,
        "{valid_token}": world.valid_token,
    }
    sign_with = vector["sign"]
    signer = keys.get(sign_with, world.cb.key)
    header: dict[str, Any] = {
        "alg": signer.alg.value,
        "kid": kids[vector.get("kid", "cb")],
        "typ": "vc+jwt",
        "cty": "vc",
    }
    header.update(fill(vector.get("header", {}), placeholders))
    if "headerPadBytes" in vector:
        header["pad"] = "A" * vector["headerPadBytes"]
    header_bytes = compact(header)
    if "headerDepth" in vector:
        depth = vector["headerDepth"]
        header_bytes = header_bytes[:-1] + b',"x":' + b"[" * depth + b"]" * depth + b"}"
    if "rawHeader" in vector:
        header_bytes = fill(vector["rawHeader"], placeholders).encode("utf-8")
    if vector.get("rawHeaderBom"):
        header_bytes = b"\xef\xbb\xbf" + header_bytes

    claims = world.claims(world.credential(), **fill(vector.get("payloadOverrides", {}), placeholders))
    payload = compact(claims)
    if "payloadInject" in vector:
        find, replace = (part.encode("utf-8") for part in vector["payloadInject"])
        assert find in payload, vector["name"]
        payload = payload.replace(find, replace, 1)
    if "rawPayload" in vector:
        payload = fill(vector["rawPayload"], placeholders).encode("utf-8")

    encoded_header = b64url_encode(header_bytes)
    if vector.get("unencodedPayload"):
        signing_input = encoded_header.encode("ascii") + b"." + payload
        payload_segment = payload.decode("utf-8")
    else:
        payload_segment = b64url_encode(payload)
        signing_input = f"{encoded_header}.{payload_segment}".encode("ascii")

    if sign_with.startswith("hmac-public-"):
        public = world.cb.key.public_key
        secret = {
            "hmac-public-raw": b64url_decode(public.jwk["x"]),
            "hmac-public-jwk": compact(public.jwk),
            "hmac-public-pem": public._key.public_bytes(  # the PEM an attacker would download
                serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
            ),
        }[sign_with]
        digest = {"HS256": hashlib.sha256, "HS512": hashlib.sha512}[header["alg"]]
        signature = hmac.new(secret, signing_input, digest).digest()
    elif sign_with == "empty":
        signature = b""
    else:
        signature = signer.sign(signing_input)

    signature = change_signature(world, vector.get("signature"), signature)
    return f"{encoded_header}.{payload_segment}.{b64url_encode(signature)}"


def change_signature(world: Any, change: str | None, signature: bytes) -> bytes:
    """The signature after the recipe's `signature` change."""
    if change == "zero":
        signature = bytes(len(signature))
    elif change == "der":
        half = len(signature) // 2
        r, s = int.from_bytes(signature[:half], "big"), int.from_bytes(signature[half:], "big")
        signature = utils.encode_dss_signature(r, s)
    elif change == "s-plus-l":
        s = int.from_bytes(signature[32:], "little") + ED25519_L
        signature = signature[:32] + s.to_bytes(32, "little")
    elif change == "truncate":
        signature = signature[:-1]
    elif change == "append":
        signature += b"\0"
    elif change == "other-token":
        signature = b64url_decode(world.token(world.credential(name="Another certificate")).rsplit(".", 1)[1])
    return signature


def test_the_manifest_is_well_formed() -> None:
    names = [vector["name"] for vector in VECTORS]
    assert len(names) == len(set(names))
    for vector in VECTORS:
        assert vector["verdict"] in {"valid", "invalid"}
        assert vector["attack"]
        if vector["verdict"] == "invalid":
            assert vector["check"]
    assert [v["name"] for v in VECTORS if v["verdict"] == "valid"] == ["control-valid"]


@pytest.mark.parametrize("vector", VECTORS, ids=lambda v: v["name"])
def test_hostile_signed_vector(world: Any, vector: dict[str, Any]) -> None:
    token = build(world, vector)
    started = time.perf_counter()
    result = world.verify(token)
    elapsed = time.perf_counter() - started
    assert elapsed < 0.5, f"{vector['name']} took {elapsed:.2f} s"
    if vector["verdict"] == "valid":
        assert result.verdict is Verdict.VALID, result.render_text()
        return
    assert result.verdict is Verdict.INVALID, result.render_text()
    check = world.expect(result, vector["check"], Outcome.FAILED, vector["problem"], vector["detailContains"])
    assert check.outcome is Outcome.FAILED
    world.skipped_after(result, vector["check"])
