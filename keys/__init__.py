"""Issuer signing keys: generation, an encrypted keystore, rotation, and publication as JWKS and DIDs.

The bottom layer of aigov: it imports nothing from the other packages.
"""

from keys._algorithms import Algorithm, PublicKey, SigningKey, jwk_thumbprint
from keys._b64 import b64url_decode, b64url_encode
from keys._errors import (
    CorruptKeyFileError,
    DidError,
    InvalidKeyError,
    KeyNotFoundError,
    KeysError,
    KeyStateError,
    KeystoreError,
    UnsupportedAlgorithmError,
    WrongPassphraseError,
)
from keys._keystore import KeyRecord, KeyState, Keystore
from keys._publication import (
    CID_CONTEXT,
    DID_CONTEXT,
    JSON_WEB_KEY,
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
from keys._published import PublishedKey

__all__ = [
    "CID_CONTEXT",
    "DID_CONTEXT",
    "JSON_WEB_KEY",
    "Algorithm",
    "CorruptKeyFileError",
    "DidError",
    "InvalidKeyError",
    "KeyNotFoundError",
    "KeyRecord",
    "KeyState",
    "KeyStateError",
    "KeysError",
    "Keystore",
    "KeystoreError",
    "PublicKey",
    "PublishedKey",
    "SigningKey",
    "UnsupportedAlgorithmError",
    "WrongPassphraseError",
    "b64url_decode",
    "b64url_encode",
    "did_key",
    "did_web_document",
    "did_web_url",
    "format_date_time_stamp",
    "jwk_thumbprint",
    "jwks",
    "parse_date_time_stamp",
    "parse_did_document",
    "parse_jwks",
    "public_key_from_did_key",
    "verification_method_id",
]
