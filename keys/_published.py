"""A public key as a verifier sees it: the key plus the window in which its signatures count."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from keys._algorithms import PublicKey


@dataclass(frozen=True, slots=True)
class PublishedKey:
    """A published verification key.

    `expires` is when the key was retired and `revoked` when it was compromised (the `expires` and `revoked`
    properties of a verification method, W3C Controlled Identifiers 1.0 §2.2). Signatures made at or after
    either instant do not count; signatures made before them keep verifying, so rotation never breaks old
    credentials.
    """

    public_key: PublicKey
    expires: datetime | None = None
    revoked: datetime | None = None

    @property
    def kid(self) -> str:
        return self.public_key.kid

    def usable_at(self, signed_at: datetime) -> bool:
        """Whether a signature made at `signed_at` counts."""
        return all(limit is None or signed_at < limit for limit in (self.expires, self.revoked))
