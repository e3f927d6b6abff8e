"""API tokens: `aigov_<id>_<secret>`, stored as the SHA-256 of the secret, scoped to one certification body.

The id makes lookup a primary-key read (never a scan over hashes); the secret is compared in constant time.
A missing, malformed, unknown, revoked or wrong token all give the caller the same answer: `None`.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from datetime import datetime
from enum import StrEnum

from sqlmodel import Session

from registry.errors import InvalidRequestError, NotFoundError
from registry.models import ApiToken, CertificationBody

TOKEN_PREFIX = "aigov"  # noqa: S105  # a prefix that makes leaked tokens easy to scan for, not a secret
_TOKEN = re.compile(r"aigov_(?P<id>[0-9a-f]{16})_(?P<secret>[A-Za-z0-9_-]{43})", re.ASCII)
# Compared against when the id is unknown, so that an unknown id costs what a wrong secret costs.
_DUMMY_SHA256 = hashlib.sha256(b"aigov: no such token").hexdigest()


class Scope(StrEnum):
    """What a token may do, always for its own certification body only."""

    ISSUE = "credentials:issue"
    SUSPEND = "credentials:suspend"  # and reinstate
    REVOKE = "credentials:revoke"
    RENEW = "credentials:renew"


def parse_scopes(text: str) -> list[str]:
    """Comma- or space-separated scope names, each checked against Scope."""
    names = [name for name in re.split(r"[\s,]+", text.strip()) if name]
    known = {scope.value for scope in Scope}
    unknown = [name for name in names if name not in known]
    if unknown or not names:
        problem = f"unknown scope {unknown[0]!r}" if unknown else "no scope given"
        raise InvalidRequestError(f"{problem} (scopes: {', '.join(sorted(known))})", field="scopes")
    return sorted(set(names))


def _sha256(secret: str) -> str:
    return hashlib.sha256(secret.encode("ascii")).hexdigest()


def create_token(
    *,
    session: Session,
    body: CertificationBody,
    scopes: list[str],
    now: datetime,
    description: str | None = None,
) -> tuple[ApiToken, str]:
    """A new token for `body`; returns the row and the full token text, which is never stored or shown again."""
    assert body.id is not None  # noqa: S101
    token_id = secrets.token_hex(8)
    secret = secrets.token_urlsafe(32)
    row = ApiToken(
        id=token_id,
        issuer_id=body.id,
        scopes=parse_scopes(",".join(scopes)),
        secret_sha256=_sha256(secret),
        description=description,
        created_at=now,
    )
    session.add(row)
    return row, f"{TOKEN_PREFIX}_{token_id}_{secret}"


def revoke_token(*, session: Session, token_id: str, now: datetime) -> ApiToken:
    """Revoke a token from `now` on. Revoking twice keeps the first time."""
    row = session.get(ApiToken, token_id)
    if row is None:
        raise NotFoundError("token", token_id)
    if row.revoked_at is None:
        row.revoked_at = now
        session.add(row)
    return row


def authenticate(*, session: Session, presented: str | None) -> tuple[ApiToken, CertificationBody] | None:
    """The live token named by `presented` and its body, or None whatever is wrong with it."""
    match = _TOKEN.fullmatch(presented) if presented else None
    if match is None:
        return None
    row = session.get(ApiToken, match["id"])
    expected = row.secret_sha256 if row is not None else _DUMMY_SHA256
    if not hmac.compare_digest(_sha256(match["secret"]), expected) or row is None:
        return None
    if row.revoked_at is not None:
        return None
    body = session.get(CertificationBody, row.issuer_id)
    return (row, body) if body is not None else None
