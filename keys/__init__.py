"""Issuer signing keys: generation, an encrypted keystore, rotation, and publication as JWKS and DID documents.

The bottom layer of aigov: it imports nothing from the other packages.
"""

from keys._algorithms import Algorithm, PublicKey, SigningKey, jwk_thumbprint
from keys._b64 import b64url_decode, b64url_encode
from keys._errors import (
    CorruptKeyFileError,
    InvalidKeyError,
    KeyNotFoundError,
    KeysError,
    KeyStateError,
    KeystoreError,
    UnsupportedAlgorithmError,
    WrongPassphraseError,
)
from keys._published import PublishedKey

__all__ = [
    "Algorithm",
    "CorruptKeyFileError",
    "InvalidKeyError",
    "KeyNotFoundError",
    "KeyStateError",
    "KeysError",
    "KeystoreError",
    "PublicKey",
    "PublishedKey",
    "SigningKey",
    "UnsupportedAlgorithmError",
    "WrongPassphraseError",
    "b64url_decode",
    "b64url_encode",
    "jwk_thumbprint",
]
