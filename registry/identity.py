"""did:web identifiers and URLs derived from the registry's public URL.

The registry is `did:web:<host>` and each certification body `did:web:<host>:issuers:<slug>` (did:web method
§3.2: a port is written percent-encoded, path segments follow the host separated by colons), so that every DID
document is served by this registry under the path the DID names.
"""

from __future__ import annotations

import ipaddress
import re
import secrets
import uuid
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

# A slug is one did:web path segment and one URL path segment: lower-case letters, digits and hyphens.
SLUG_PATTERN = r"^[a-z0-9][a-z0-9-]{1,62}$"
_SLUG = re.compile(SLUG_PATTERN, re.ASCII)
# The registry's own keys live in the keystore directory of this name; no slug can take it.
REGISTRY_KEYSTORE = "_registry"
_UNIX_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def is_valid_slug(slug: str) -> bool:
    """Whether `slug` can name a certification body in its DID and in URL paths."""
    return _SLUG.fullmatch(slug) is not None


def did_host(public_url: str) -> str:
    """The did:web method-specific host part for `public_url`.

    did:web names a domain, never an IP address (the keys package enforces it), so a loopback address, used
    on a developer's machine, becomes `localhost`.
    """
    parts = urlsplit(public_url)
    host = (parts.hostname or "").lower()
    try:
        if ipaddress.ip_address(host).is_loopback:
            host = "localhost"
    except ValueError:
        pass
    return f"{host}%3A{parts.port}" if parts.port is not None else host


def registry_did(public_url: str) -> str:
    """The scheme owner's (this registry's) DID, served at /.well-known/did.json."""
    return f"did:web:{did_host(public_url)}"


def issuer_did(public_url: str, slug: str) -> str:
    """A certification body's DID, served at /issuers/<slug>/did.json."""
    if not is_valid_slug(slug):
        raise ValueError(f"not a valid issuer slug: {slug!r}")
    return f"did:web:{did_host(public_url)}:issuers:{slug}"


def new_credential_id(now: datetime) -> uuid.UUID:
    """A UUIDv7 (RFC 9562 §5.7) for a credential issued at `now`: 48 bits of Unix milliseconds, then 74 random.

    Time-ordered rather than random (v4) so that the indexes keyed by credential id (the credentials' own, the
    allocations', the events') grow at their right edge, as RFC 9562 §6.13 recommends for database keys: a v4
    id lands on a random leaf page of each, so on a 136,000-credential SQLite registry a batch wrote 63-67 KiB of
    write-ahead log per credential, against 31-35 KiB with v7 (benchmarks/README.md, session 8). The time it
    reveals is public anyway (the credential's `iat` and `validFrom`, the `issued` event). Python 3.14's
    `uuid.uuid7()` has the same fields (it keeps a counter in some of the random bits).
    """
    unix_ms = (now - _UNIX_EPOCH) // timedelta(milliseconds=1)
    rand_a, rand_b = secrets.randbits(12), secrets.randbits(62)
    return uuid.UUID(int=(unix_ms << 80) | (0x7 << 76) | (rand_a << 64) | (0b10 << 62) | rand_b)


def credential_url(public_url: str, credential_id: object) -> str:
    """A credential's `id`: where its public record lives."""
    return f"{public_url}/credentials/{credential_id}"


def status_list_url(public_url: str, list_id: int) -> str:
    """A status list credential's `id` and the URL it is served at."""
    return f"{public_url}/status/{list_id}"
