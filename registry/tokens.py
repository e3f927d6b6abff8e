"""API tokens: `aigov_<id>_<secret>`, stored as the SHA-256 of the secret, scoped to one certification body.

The id makes lookup a primary-key read (never a scan over hashes); the secret is compared in constant time.
A missing, malformed, unknown, revoked, expired or wrong token all give the caller the same answer: `None`.
A token lives until it is revoked, or until its expiry when it was created with one (`--expires-in`).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import secrets
import sqlite3
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session

from registry.errors import InvalidRequestError, NotFoundError
from registry.lifecycle import detached_row
from registry.models import ApiToken, CertificationBody, UtcDateTime

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
    expires_at: datetime | None = None,
) -> tuple[ApiToken, str]:
    """A new token for `body`, valid until revoked or until `expires_at`; returns the row and the full token
    text, which is never stored or shown again."""
    assert body.id is not None  # noqa: S101
    if expires_at is not None and expires_at <= now:
        raise InvalidRequestError("a token must expire after it is created", field="expires_at")
    token_id = secrets.token_hex(8)
    secret = secrets.token_urlsafe(32)
    row = ApiToken(
        id=token_id,
        issuer_id=body.id,
        scopes=parse_scopes(",".join(scopes)),
        secret_sha256=_sha256(secret),
        description=description,
        created_at=now,
        expires_at=expires_at,
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


_TOKENS: sa.Table = ApiToken.__table__  # type: ignore[attr-defined]
_BODIES: sa.Table = CertificationBody.__table__  # type: ignore[attr-defined]
_BODY_COLUMNS = [column.name for column in _BODIES.columns]
_BODY_DATETIMES = {column.name for column in _BODIES.columns if isinstance(column.type, UtcDateTime)}
_LOOKUP = (
    sa.select(
        _TOKENS.c.secret_sha256,
        _TOKENS.c.scopes,
        _TOKENS.c.revoked_at,
        _TOKENS.c.expires_at,
        *_BODIES.columns,
    )
    .join(_BODIES, _BODIES.c.id == _TOKENS.c.issuer_id)
    .where(_TOKENS.c.id == sa.bindparam("b_id"))
)
# The same query for a raw SQLite connection (registry.db.LoopReader): JSON and datetimes come back as text.
_BODY_SELECT = ", ".join(f"b.{name}" for name in _BODY_COLUMNS)
# Column names from the table definition, not input:
_LOOKUP_SQL = (
    f"SELECT t.secret_sha256, t.scopes, t.revoked_at, t.expires_at, {_BODY_SELECT} "  # noqa: S608
    "FROM api_tokens AS t JOIN issuers AS b ON b.id = t.issuer_id WHERE t.id = ?"
)
Found = tuple[str, list[str], CertificationBody]
Lookup = Callable[[str], Mapping[str, Any] | None]


def _check(presented: str | None, lookup: Lookup, now: datetime) -> Found | None:
    """The one rule for a presented token: its form, then the secret's hash compared in constant time even for
    an unknown id, then its revocation and expiry at `now`; `lookup` reads the token (joined to its body) by id."""
    match = _TOKEN.fullmatch(presented) if presented else None
    if match is None:
        return None
    row = lookup(match["id"])
    expected = row["secret_sha256"] if row is not None else _DUMMY_SHA256
    if not hmac.compare_digest(_sha256(match["secret"]), expected) or row is None:
        return None
    if row["revoked_at"] is not None:
        return None
    if row["expires_at"] is not None and now >= row["expires_at"]:
        return None
    body = detached_row(CertificationBody, {name: row[name] for name in _BODY_COLUMNS})
    return match["id"], list(row["scopes"]), body


def authenticate(*, session: Session, presented: str | None, now: datetime) -> Found | None:
    """The token named by `presented`, live at `now`, as (id, scopes, body), or None whatever is wrong with it.

    One prebuilt Core query joining the token to its body (two ORM reads cost several times as much). The body
    is a detached object.
    """

    def lookup(token_id: str) -> Mapping[str, Any] | None:
        row = session.connection().execute(_LOOKUP, {"b_id": token_id}).mappings().first()
        return None if row is None else dict(row)

    return _check(presented, lookup, now)


def authenticate_sqlite(
    presented: str | None, now: datetime, connection: sqlite3.Connection
) -> Found | bool | None:
    """authenticate() through a raw SQLite connection; False (not None) when the token is not valid."""

    def lookup(token_id: str) -> Mapping[str, Any] | None:
        found = connection.execute(_LOOKUP_SQL, (token_id,)).fetchone()
        if found is None:
            return None
        columns = ("secret_sha256", "scopes", "revoked_at", "expires_at", *_BODY_COLUMNS)
        row = dict(zip(columns, found, strict=True))
        row["scopes"] = json.loads(row["scopes"])
        for name in (*_BODY_DATETIMES, "expires_at"):
            if row[name] is not None:
                row[name] = datetime.fromisoformat(row[name]).replace(tzinfo=UTC)
        return row

    return _check(presented, lookup, now) or False


@dataclass(frozen=True)
class TokenSummary:
    """What an operator may see of a token: everything but its secret's hash."""

    id: str
    issuer: str  # the certification body's slug
    scopes: list[str]
    description: str | None
    created_at: datetime
    revoked_at: datetime | None
    expires_at: datetime | None


def list_tokens(
    *, session: Session, now: datetime, issuer: CertificationBody | None = None, include_ended: bool = False
) -> list[TokenSummary]:
    """The tokens (of `issuer`, or of every body), newest first: those live at `now` only, unless
    `include_ended` (revoked and expired ones too).

    Selects the shown columns only, so the hash never leaves the database.
    """
    query = (
        sa.select(
            _TOKENS.c.id,
            _BODIES.c.slug,
            _TOKENS.c.scopes,
            _TOKENS.c.description,
            _TOKENS.c.created_at,
            _TOKENS.c.revoked_at,
            _TOKENS.c.expires_at,
        )
        .join(_BODIES, _BODIES.c.id == _TOKENS.c.issuer_id)
        .order_by(_TOKENS.c.created_at.desc(), _TOKENS.c.id)
    )
    if issuer is not None:
        query = query.where(_TOKENS.c.issuer_id == issuer.id)
    if not include_ended:
        query = query.where(
            _TOKENS.c.revoked_at.is_(None), sa.or_(_TOKENS.c.expires_at.is_(None), _TOKENS.c.expires_at > now)
        )
    return [
        TokenSummary(
            id=row.id,
            issuer=row.slug,
            scopes=list(row.scopes),
            description=row.description,
            created_at=row.created_at,
            revoked_at=row.revoked_at,
            expires_at=row.expires_at,
        )
        for row in session.connection().execute(query)
    ]
