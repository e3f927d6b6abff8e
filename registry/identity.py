"""did:web identifiers and URLs derived from the registry's public URL.

The registry is `did:web:<host>` and each certification body `did:web:<host>:issuers:<slug>` (did:web method
§3.2: a port is written percent-encoded, path segments follow the host separated by colons), so that every DID
document is served by this registry under the path the DID names.
"""

from __future__ import annotations

import ipaddress
import re
from urllib.parse import urlsplit

# A slug is one did:web path segment and one URL path segment: lower-case letters, digits and hyphens.
SLUG_PATTERN = r"^[a-z0-9][a-z0-9-]{1,62}$"
_SLUG = re.compile(SLUG_PATTERN, re.ASCII)
# The registry's own keys live in the keystore directory of this name; no slug can take it.
REGISTRY_KEYSTORE = "_registry"


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


def credential_url(public_url: str, credential_id: object) -> str:
    """A credential's `id`: where its public record lives."""
    return f"{public_url}/credentials/{credential_id}"


def status_list_url(public_url: str, list_id: int) -> str:
    """A status list credential's `id` and the URL it is served at."""
    return f"{public_url}/status/{list_id}"
