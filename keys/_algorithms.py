"""Signing and verification keys for the two algorithms aigov allows: EdDSA (Ed25519) and ES256 (P-256).

Signatures are in JWS form (RFC 7515 §A.3, RFC 8037 §3.1): raw 64 bytes for both algorithms, so ES256's DER
encoding from `cryptography` is converted here and nowhere else.

Ed25519 signatures are verified with libsodium (PyNaCl, the same PyCA maintainers as `cryptography`): measured
here at 74 µs against 134 µs for `cryptography`'s OpenSSL 4 build, on the path every verification takes
(benchmarks/README.md). libsodium is also the stricter verifier: it refuses non-canonical and small-order points
that RFC 8032 leaves to the implementation. Ed25519 signing goes through libsodium too: Ed25519 is deterministic
(RFC 8032 §5.1.6), so the signatures are the very bytes `cryptography` would make, in 40 µs against 48 µs, and
libsodium releases the GIL while it signs, which lets the issuer's self-check verify the signatures made before
on other threads meanwhile (issuer.Issuer.issue_many). Key generation, storage and P-256 stay with `cryptography`.
libsodium's copy of an Ed25519 secret key is a Python bytes object, which, unlike OpenSSL's copy, is not wiped
when the key is dropped: a process's memory holds its decrypted keys either way, and a core dump would too.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from enum import StrEnum
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature, encode_dss_signature
from nacl.bindings import crypto_core_ed25519_is_valid_point, crypto_sign, crypto_sign_seed_keypair
from nacl.exceptions import CryptoError
from nacl.signing import VerifyKey

from keys._b64 import b64url_decode, b64url_encode
from keys._errors import InvalidKeyError, UnsupportedAlgorithmError


class Algorithm(StrEnum):
    """JWS algorithm names (RFC 7518, RFC 8037) that aigov signs and verifies with."""

    EDDSA = "EdDSA"
    ES256 = "ES256"

    @classmethod
    def parse(cls, value: object) -> Algorithm:
        """The algorithm named by `value`, or UnsupportedAlgorithmError."""
        if isinstance(value, str) and value in cls._value2member_map_:
            return cls(value)
        raise UnsupportedAlgorithmError(value)


_PublicKeyObject = ed25519.Ed25519PublicKey | ec.EllipticCurvePublicKey
_PrivateKeyObject = ed25519.Ed25519PrivateKey | ec.EllipticCurvePrivateKey
_ES256 = ec.ECDSA(hashes.SHA256())
_P256_COORDINATE = 32
_SIGNATURE_BYTES = 64  # JWS form, both algorithms: Ed25519 R||S, ES256 r||s
# JWK members that only a private key has (RFC 7518 §6.2.2, §6.3.2; RFC 8037 §2).
_PRIVATE_MEMBERS = frozenset({"d", "p", "q", "dp", "dq", "qi", "oth", "k"})


def jwk_thumbprint(jwk: Mapping[str, Any]) -> str:
    """RFC 7638 SHA-256 thumbprint of a public JWK: the required members, sorted, no whitespace."""
    if jwk.get("kty") == "OKP":
        members = {"crv": jwk["crv"], "kty": "OKP", "x": jwk["x"]}
    elif jwk.get("kty") == "EC":
        members = {"crv": jwk["crv"], "kty": "EC", "x": jwk["x"], "y": jwk["y"]}
    else:
        raise InvalidKeyError(f"cannot compute a thumbprint of key type {jwk.get('kty')!r}")
    canonical = json.dumps(members, separators=(",", ":"), sort_keys=True).encode()
    return b64url_encode(hashlib.sha256(canonical).digest())


class PublicKey:
    """A public verification key with its algorithm and RFC 7638 `kid`."""

    __slots__ = ("_key", "_sodium", "alg", "jwk", "kid")

    def __init__(self, key: _PublicKeyObject) -> None:
        self._key = key
        self._sodium: VerifyKey | None = None
        if isinstance(key, ed25519.Ed25519PublicKey):
            self.alg = Algorithm.EDDSA
            raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
            if not crypto_core_ed25519_is_valid_point(raw):
                # A small-order point (the identity, say) "verifies" forged signatures in lax verifiers:
                # OpenSSL accepts R = identity, S = 0 for any message under the identity key.
                raise InvalidKeyError(
                    "Ed25519 key is not a valid point of prime order (a small-order point?)"
                )
            self._sodium = VerifyKey(raw)
            jwk = {"kty": "OKP", "crv": "Ed25519", "x": b64url_encode(raw)}
        elif isinstance(key, ec.EllipticCurvePublicKey) and isinstance(key.curve, ec.SECP256R1):
            self.alg = Algorithm.ES256
            numbers = key.public_numbers()
            jwk = {
                "kty": "EC",
                "crv": "P-256",
                "x": b64url_encode(numbers.x.to_bytes(_P256_COORDINATE, "big")),
                "y": b64url_encode(numbers.y.to_bytes(_P256_COORDINATE, "big")),
            }
        else:
            raise InvalidKeyError(f"unsupported key type {type(key).__name__}: use Ed25519 or P-256")
        self.kid = jwk_thumbprint(jwk)
        self.jwk: dict[str, str] = {**jwk, "kid": self.kid, "alg": self.alg.value, "use": "sig"}

    @classmethod
    def from_jwk(cls, jwk: Mapping[str, Any]) -> PublicKey:
        """Parse a public JWK strictly; a JWK that carries private material is refused."""
        if not isinstance(jwk, Mapping):
            raise InvalidKeyError("a JWK must be a JSON object")
        if _PRIVATE_MEMBERS & jwk.keys():
            raise InvalidKeyError("refusing a JWK with private key material where a public key is expected")
        kty, crv = jwk.get("kty"), jwk.get("crv")
        try:
            if kty == "OKP" and crv == "Ed25519":
                raw = b64url_decode(_member(jwk, "x"))
                if len(raw) != 32:
                    raise InvalidKeyError("Ed25519 JWK: 'x' must be 32 bytes")
                key: _PublicKeyObject = ed25519.Ed25519PublicKey.from_public_bytes(raw)
            elif kty == "EC" and crv == "P-256":
                x, y = b64url_decode(_member(jwk, "x")), b64url_decode(_member(jwk, "y"))
                if len(x) != _P256_COORDINATE or len(y) != _P256_COORDINATE:
                    raise InvalidKeyError("P-256 JWK: 'x' and 'y' must be 32 bytes each")
                key = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), b"\x04" + x + y)
            else:
                raise InvalidKeyError(f"unsupported JWK kty={kty!r} crv={crv!r}: use OKP/Ed25519 or EC/P-256")
        except ValueError as e:  # bad base64url, or a point not on the curve
            raise InvalidKeyError(f"invalid JWK: {e}") from e
        public = cls(key)
        declared_alg = jwk.get("alg")
        if declared_alg is not None and declared_alg != public.alg.value:
            raise InvalidKeyError(
                f"JWK 'alg' {declared_alg!r} does not match its key type ({public.alg.value})"
            )
        return public

    def verify(self, signature: bytes, data: bytes) -> bool:
        """True when `signature` (JWS form) is a valid signature of `data` by this key."""
        # Anything but 64 bytes is no signature: PyNaCl would read a missing one as "signature + message joined".
        if not isinstance(signature, bytes | bytearray | memoryview) or len(signature) != _SIGNATURE_BYTES:
            return False
        if not isinstance(data, bytes | bytearray | memoryview):
            return False
        if self._sodium is not None:
            try:
                self._sodium.verify(bytes(data), bytes(signature))
            except (CryptoError, ValueError, TypeError):
                return False
            return True
        if not isinstance(self._key, ec.EllipticCurvePublicKey):
            return False
        r = int.from_bytes(signature[:_P256_COORDINATE], "big")
        s = int.from_bytes(signature[_P256_COORDINATE:], "big")
        try:
            self._key.verify(encode_dss_signature(r, s), data, _ES256)
        except InvalidSignature:
            return False
        return True

    def __eq__(self, other: object) -> bool:
        return isinstance(other, PublicKey) and other.kid == self.kid

    def __hash__(self) -> int:
        return hash(self.kid)

    def __repr__(self) -> str:
        return f"PublicKey(alg={self.alg.value}, kid={self.kid!r})"


class SigningKey:
    """A private signing key. Never printed, never serialised unencrypted except on explicit request."""

    __slots__ = ("_key", "_sodium", "public_key")

    def __init__(self, key: _PrivateKeyObject) -> None:
        if isinstance(key, ec.EllipticCurvePrivateKey) and not isinstance(key.curve, ec.SECP256R1):
            raise InvalidKeyError(f"unsupported curve {key.curve.name}: use P-256")
        self._key = key
        self.public_key = PublicKey(key.public_key())
        self._sodium: bytes | None = None  # libsodium's secret key (seed || public key), for Ed25519
        if isinstance(key, ed25519.Ed25519PrivateKey):
            seed = key.private_bytes(
                serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
            )
            self._sodium = crypto_sign_seed_keypair(seed)[1]

    @classmethod
    def generate(cls, alg: Algorithm | str = Algorithm.EDDSA) -> SigningKey:
        """A fresh key for `alg` (EdDSA by default)."""
        if Algorithm.parse(alg) is Algorithm.EDDSA:
            return cls(ed25519.Ed25519PrivateKey.generate())
        return cls(ec.generate_private_key(ec.SECP256R1()))

    @property
    def alg(self) -> Algorithm:
        return self.public_key.alg

    @property
    def kid(self) -> str:
        return self.public_key.kid

    def sign(self, data: bytes) -> bytes:
        """Sign `data`; the signature is in JWS form (64 raw bytes for both algorithms)."""
        if self._sodium is not None:
            message = data if type(data) is bytes else bytes(memoryview(data))  # any bytes-like, never an int
            return crypto_sign(message, self._sodium)[:_SIGNATURE_BYTES]  # signature || message
        assert isinstance(self._key, ec.EllipticCurvePrivateKey)  # noqa: S101
        r, s = decode_dss_signature(self._key.sign(data, _ES256))
        return r.to_bytes(_P256_COORDINATE, "big") + s.to_bytes(_P256_COORDINATE, "big")

    def to_pem(self, passphrase: bytes | None) -> bytes:
        """PKCS#8 PEM, encrypted with `passphrase`; None gives plaintext (callers must make that explicit)."""
        if passphrase is not None and not passphrase:
            raise ValueError("an empty passphrase would store the key unencrypted; pass None to mean that")
        encryption: serialization.KeySerializationEncryption = (
            serialization.NoEncryption()
            if passphrase is None
            else serialization.BestAvailableEncryption(passphrase)
        )
        return self._key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption
        )

    @classmethod
    def from_pem(cls, pem: bytes, passphrase: bytes | None) -> SigningKey:
        """Load a PKCS#8 PEM. Raises TypeError/ValueError from `cryptography` for the keystore to explain."""
        key = serialization.load_pem_private_key(pem, password=passphrase)
        if not isinstance(key, ed25519.Ed25519PrivateKey | ec.EllipticCurvePrivateKey):
            raise InvalidKeyError(f"unsupported private key type {type(key).__name__}: use Ed25519 or P-256")
        return cls(key)

    def __repr__(self) -> str:
        return f"SigningKey(alg={self.alg.value}, kid={self.kid!r})"


def _member(jwk: Mapping[str, Any], name: str) -> str:
    value = jwk.get(name)
    if not isinstance(value, str):
        raise InvalidKeyError(f"JWK member {name!r} is missing or not a string")
    return value
