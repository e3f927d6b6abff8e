"""Strict base64url without padding (RFC 7515 §2, RFC 4648 §5)."""

from __future__ import annotations

import base64
import binascii
import re

_ALPHABET = re.compile(rb"[A-Za-z0-9_-]*")


def b64url_encode(data: bytes) -> str:
    """Encode bytes as unpadded base64url text."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text: str | bytes) -> bytes:
    """Decode unpadded base64url, refusing padding, foreign characters and non-canonical trailing bits.

    Raises ValueError with a precise reason.
    """
    raw = text.encode("ascii", "replace") if isinstance(text, str) else text
    if _ALPHABET.fullmatch(raw) is None:
        raise ValueError("not base64url: only A-Z a-z 0-9 - _ are allowed, without '=' padding")
    if len(raw) % 4 == 1:
        raise ValueError("not base64url: impossible length")
    padded = raw + b"=" * (-len(raw) % 4)
    try:
        decoded = base64.urlsafe_b64decode(padded)
    except binascii.Error as e:  # pragma: no cover - the alphabet check above leaves nothing for this
        raise ValueError(f"not base64url: {e}") from e
    # Canonical form: re-encoding must give the same text (rejects stray low bits, RFC 4648 §3.5).
    if base64.urlsafe_b64encode(decoded).rstrip(b"=") != raw:
        raise ValueError("not base64url: non-canonical encoding (stray trailing bits)")
    return decoded
