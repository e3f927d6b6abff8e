"""Errors raised by the verifier package. Verification itself returns results; these are for misuse and for
inputs that are not credentials at all (a trust file that cannot be read, an opt-in raise).

    VerifierError                   base of everything below
    ├── TrustStoreError             a trust file, DID document, JWKS or status snapshot that cannot be used
    └── VerificationFailedError     raised by VerificationResult.raise_for_failure(); carries `.result`
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from verifier._result import VerificationResult


class VerifierError(Exception):
    """Base class of every error the verifier package raises."""


class TrustStoreError(VerifierError):
    """Trust material that cannot be used, with the file or URL it came from."""

    def __init__(self, message: str, *, source: str | None = None) -> None:
        super().__init__(f"{source}: {message}" if source else message)
        self.source = source


class VerificationFailedError(VerifierError):
    """A credential that did not verify as valid (raised only on request)."""

    def __init__(self, message: str, *, result: VerificationResult) -> None:
        super().__init__(message)
        self.result = result
