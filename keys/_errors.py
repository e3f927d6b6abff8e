"""Errors raised by the keys package.

KeysError                       base of everything below
├── InvalidKeyError             a JWK or PEM that is not a usable key of a supported algorithm
│   ├── UnsupportedAlgorithmError
│   └── DidError                a malformed DID, or a DID document that cannot be trusted
├── KeystoreError               the keystore directory or a file in it is unusable
│   ├── WrongPassphraseError
│   ├── CorruptKeyFileError
│   └── KeyNotFoundError
└── KeyStateError               an operation the key's state forbids (signing with a retired key, ...)
"""

from __future__ import annotations


class KeysError(Exception):
    """Base class of every error the keys package raises."""


class InvalidKeyError(KeysError):
    """A key (JWK, PEM) that is malformed or not of a supported algorithm."""


class UnsupportedAlgorithmError(InvalidKeyError):
    """An algorithm outside the allow-list (EdDSA with Ed25519, ES256 with P-256)."""

    def __init__(self, alg: object) -> None:
        super().__init__(f"unsupported algorithm {alg!r}: aigov signs and verifies only EdDSA and ES256")
        self.alg = alg


class DidError(InvalidKeyError):
    """A DID or DID document that is malformed or unsafe to use (documents are hostile input)."""

    def __init__(self, message: str, *, did: str | None = None) -> None:
        super().__init__(message)
        self.did = did


class KeystoreError(KeysError):
    """The keystore or one of its files cannot be used."""

    def __init__(self, message: str, *, path: object = None) -> None:
        super().__init__(message)
        self.path = path


class WrongPassphraseError(KeystoreError):
    """The passphrase does not decrypt the key file."""


class CorruptKeyFileError(KeystoreError):
    """A key or metadata file exists but cannot be parsed."""


class KeyNotFoundError(KeystoreError):
    """No key with that kid in the keystore."""


class KeyStateError(KeysError):
    """The key's lifecycle state forbids the operation."""

    def __init__(self, message: str, *, kid: str) -> None:
        super().__init__(message)
        self.kid = kid
