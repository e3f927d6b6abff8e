"""Compact JWS parsing (RFC 7515 §7.1) for untrusted input.

Hand-written over `cryptography` rather than through pyjwt or joserfc: both decode at 1.4-2.1x the cost of the
raw signature check on their own (CONVENTIONS.md), which leaves no room for the rest of verification within
the 1.5x budget. The format is small; what matters is being strict, and that is tested with hostile vectors
and against two independent JOSE implementations.
"""

from __future__ import annotations

import functools
from typing import Any, NamedTuple

from keys import b64url_decode
from verifier import problems
from verifier._json import loads

# A credential is a few KB; a status list credential for 16,777,216 entries of random bits is ~2.8 MB. Callers
# pass their own cap; this default refuses a 5 MB token before any decoding.
DEFAULT_MAX_TOKEN_BYTES = 1024 * 1024
# A real header (alg, typ, cty and a kid of at most 512 characters) is under 1 KB of base64url. Larger ones are
# decoded every time rather than cached: the registry's public verify page takes anyone's 512 KB token, and
# 256 cached junk headers of that size held 2 GB.
CACHED_HEADER_BYTES = 2048
_new_jws = tuple.__new__  # builds a CompactJws without the Python-level __new__ a NamedTuple adds


class JwsError(ValueError):
    """A token that is not a well-formed compact JWS; `.problem` is its problem type URI."""

    def __init__(self, message: str, problem: str = problems.PARSING_ERROR) -> None:
        super().__init__(message)
        self.problem = problem


class CompactJws(NamedTuple):
    """The decoded parts of a compact JWS, with the exact bytes its signature covers.

    A NamedTuple rather than a frozen dataclass: built once per verification, and a frozen dataclass sets each
    field through object.__setattr__.
    """

    header: dict[str, Any]
    header_segment: bytes
    payload: dict[str, Any]
    signing_input: bytes
    signature: bytes
    size: int


def _json_object(segment: bytes, what: str) -> dict[str, Any]:
    try:
        raw = b64url_decode(segment)
    except ValueError as e:
        raise JwsError(f"{what}: {e}") from e
    try:
        value = loads(raw, what)
    except ValueError as e:
        raise JwsError(str(e)) from None
    if not isinstance(value, dict):
        raise JwsError(f"{what} must be a JSON object, not {type(value).__name__}")
    return value


def parse_header(segment: bytes) -> dict[str, Any]:
    """The decoded header: the caller's own dict, which it may change."""
    if len(segment) <= CACHED_HEADER_BYTES:
        flat = _flat_header(segment)
        if flat is not None:
            return dict(flat)
    return _json_object(segment, "header")


@functools.lru_cache(maxsize=256)
def _flat_header(segment: bytes) -> dict[str, Any] | None:
    """Tokens from one issuer key share their header byte for byte: each distinct header is decoded once.

    Only a header without nested objects or arrays is kept (None otherwise), so that the top-level copy
    parse_header hands out shares nothing a caller could change.
    """
    header = _json_object(segment, "header")
    return None if any(isinstance(value, dict | list) for value in header.values()) else header


def parse_compact(token: str | bytes, *, max_bytes: int = DEFAULT_MAX_TOKEN_BYTES) -> CompactJws:
    """Split and decode a compact JWS without trusting any of it. Raises JwsError with a precise reason."""
    size = len(token)
    if size > max_bytes:
        raise JwsError(f"token is {size:,} bytes, over the {max_bytes:,}-byte limit; not decoded")
    if isinstance(token, str):
        try:
            data = token.strip().encode("ascii")
        except UnicodeEncodeError:
            raise JwsError("token contains non-ASCII characters; a compact JWS is base64url text") from None
    else:  # bytes, or bytearray and memoryview, which cannot key the header cache
        data = bytes(token).strip()
    # find() is memchr-fast; bytes.split walks the token byte by byte.
    first, last = data.find(b"."), data.rfind(b".")
    if data[:1] in (b"{", b"["):  # a DID document or a decoded credential where the token was expected
        raise JwsError(
            "this is JSON, not a signed token: a compact JWS is three base64url parts joined by dots"
        )
    if first == last or data.find(b".", first + 1, last) != -1:
        raise JwsError(f"a compact JWS has 3 dot-separated parts, this has {data.count(b'.') + 1}")
    signing_input = data[:last]
    header_b64, payload_b64, signature_b64 = data[:first], data[first + 1 : last], data[last + 1 :]
    header = parse_header(header_b64)
    payload = _json_object(payload_b64, "payload")
    try:
        signature = b64url_decode(signature_b64)
    except ValueError as e:
        raise JwsError(f"signature: {e}") from e
    return _new_jws(CompactJws, (header, header_b64, payload, signing_input, signature, size))
