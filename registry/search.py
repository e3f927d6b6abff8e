"""Public queries: credential search and filters, the lifecycle event feed, statistics, opaque cursors.

Functions take keyword-only arguments (`*, session, ...`), return plain records and know nothing of HTTP;
bad input is a `BadQueryError` naming the query parameter. Time is a parameter (`now`, from the app's clock):
`expired` is not stored but computed — an active or suspended certificate whose `valid_until` has passed.

Ordering and cursors
--------------------
Search pages are ordered by `(updated_at, id)` (indexed; `id` breaks ties, so the order is total). A follower
that keeps a registry mirror pages through and then resumes with `updated_since`: a certificate updated while
the walk is in progress moves past the cursor and is seen again in its new state, never skipped (`updated_at`
only grows, from the one clock of every write), so the mirror ends current by upserting on `id`. Ordering by
`created_at` would keep each row in place but would never show a later change again. One caveat: a write
reads the clock when its transaction begins. On SQLite it holds the database lock from BEGIN, so timestamps
follow commit order; on PostgreSQL a transaction can commit a few milliseconds after a later-stamped one, so a
follower resuming with `updated_since` overlaps by a few seconds. The event feed (`list_events`) has no such
gap: sequence numbers are assigned under the chain-head lock, held to commit, so they become visible in order
— it is the exact change feed.

A cursor is `base64url("<kind>1.<key>.<tag>")`: the last row's key and a tag binding it to the query's filters
(a truncated SHA-256, not a secret: a cursor grants nothing that `updated_since` does not). Anything that does
not decode to the expected shape, or whose tag does not match the filters it is sent with, is refused.

Name search
-----------
A name query is a substring of either legal name (`_substring_condition`), which no B-tree can answer. From
three characters on, a trigram index (migration 0004: FTS5 on SQLite, pg_trgm on PostgreSQL) first narrows the
rows to a superset of the answer, and the same condition then decides (`_indexed_candidates`): results, order
and cursors are those of the scan. Measured at 100,000 certificates: 1-2 ms instead of 250-530 ms for a rare
name. A substring matching more than MAX_INDEX_CANDIDATES rows is walked in result order instead, as before.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import logging
import re
import unicodedata
import uuid
import weakref
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from typing import Any, Generic, TypeVar

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session, col, func, select

from registry.errors import InvalidRequestError, LogBehindError
from registry.identity import is_valid_slug
from registry.models import CertificationBody, Credential, CredentialStatus, Event, Level
from verifier import parse_date_time_stamp

T = TypeVar("T")

MAX_LIMIT = 200
DEFAULT_LIMIT = 50
MAX_Q_LENGTH = 200
MAX_CURSOR_LENGTH = 200
# Event sequence numbers are 32-bit integers in the schema (PostgreSQL `integer`).
MAX_SEQ = 2**31 - 1
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_CORPORATE_NUMBER = re.compile(r"[0-9]{13}", re.ASCII)
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", re.ASCII)
_CURSOR_TEXT = re.compile(r"[A-Za-z0-9_-]+", re.ASCII)
_CREDENTIAL_KEY = re.compile(r"(0|[1-9][0-9]{0,16})\.([0-9a-f]{32})", re.ASCII)
_EVENT_KEY = re.compile(r"(0|[1-9][0-9]{0,9})", re.ASCII)
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_FROM_URLSAFE = str.maketrans("-_", "+/")
# LIKE metacharacters (and the escape character itself) are matched literally.
_LIKE_ESCAPE = "\\"
_LIKE_SPECIAL = re.compile(r"([\\%_])")
# Name search indexes (migration 0004): trigram indexes answer substrings of at least three characters.
MIN_INDEXED_LENGTH = 3
# Above this many index matches the rows are walked in result order instead (see _indexed_candidates).
MAX_INDEX_CANDIDATES = 2000
# SQLite first asks the index for a few matches; past FEW_CANDIDATES it walks a window of this many rows per
# result wanted (at most MAX_PROBE_ROWS) in result order, where a common name fills its page (search_credentials).
FEW_CANDIDATES = 64
PROBE_ROWS_PER_RESULT = 4
MAX_PROBE_ROWS = 256
_FTS_TABLE = "credentials_fts"
_PG_TRIGRAM_INDEXES = tuple(
    f"ix_credentials_{column}_trgm" for column in ("legal_name_en", "legal_name_ja", "certificate_number")
)
_FTS_ROWIDS = sa.text(
    f"SELECT rowid FROM {_FTS_TABLE} WHERE {_FTS_TABLE} MATCH :phrase ORDER BY rowid LIMIT :cap"  # noqa: S608
)
logger = logging.getLogger(__name__)


class BadQueryError(InvalidRequestError):
    """A query parameter the registry cannot use (`.field` names it); answered as 400."""

    def __init__(self, message: str, *, field: str) -> None:
        super().__init__(message, field=field)


class PublicStatus(StrEnum):
    """A certificate's status as the public sees it at a moment: the stored status, or `expired`."""

    ACTIVE = "active"
    SUSPENDED = "suspended"
    REVOKED = "revoked"
    SUPERSEDED = "superseded"
    EXPIRED = "expired"


_FINAL = (CredentialStatus.REVOKED.value, CredentialStatus.SUPERSEDED.value)
_LIVE = (CredentialStatus.ACTIVE.value, CredentialStatus.SUSPENDED.value)


def public_status(stored: str, valid_until: datetime, now: datetime) -> PublicStatus:
    """Revoked and superseded are final; otherwise a certificate past its `valid_until` is expired."""
    if stored not in _FINAL and valid_until < now:
        return PublicStatus.EXPIRED
    return PublicStatus(stored)


# -- parameters ---------------------------------------------------------------------------------------------------


def parse_date(text: str, *, field: str) -> date:
    """A calendar date `YYYY-MM-DD` (ISO 8601 extended form only)."""
    try:
        if _DATE.fullmatch(text) is None:
            raise ValueError(text)
        return date.fromisoformat(text)
    except ValueError:
        raise BadQueryError(f"{field} must be a date such as 2026-11-01", field=field) from None


def parse_timestamp(text: str, *, field: str) -> datetime:
    """An XML Schema dateTimeStamp (a time zone is required), as UTC."""
    try:
        return parse_date_time_stamp(text).astimezone(UTC)
    except (ValueError, OverflowError):
        raise BadQueryError(
            f"{field} must be a date and time with a time zone, such as 2026-11-01T00:00:00Z", field=field
        ) from None


def check_text(text: str, *, field: str, max_length: int = MAX_Q_LENGTH) -> str:
    """Free text from a query string: bounded, and without control characters (PostgreSQL refuses NUL)."""
    if len(text) > max_length:
        raise BadQueryError(f"{field} must be at most {max_length} characters", field=field)
    if _CONTROL.search(text):
        raise BadQueryError(f"{field} must not contain control characters", field=field)
    return text


@dataclass(frozen=True, slots=True)
class CredentialFilters:
    """What a search or export selects; every member optional. Built by `resolve_filters`."""

    q: str | None = None
    status: PublicStatus | None = None
    level: str | None = None
    issuer: str | None = None
    issuer_id: int | None = None
    valid_on: date | None = None
    updated_since: datetime | None = None

    def scope(self) -> str:
        """A canonical text of the filters, to which cursors are bound."""
        return json.dumps(
            [
                self.q,
                self.status,
                self.level,
                self.issuer,
                None if self.valid_on is None else self.valid_on.isoformat(),
                None if self.updated_since is None else _micros(self.updated_since),
            ],
            ensure_ascii=True,
            separators=(",", ":"),
        )


def resolve_filters(
    *,
    session: Session,
    q: str | None = None,
    status: PublicStatus | None = None,
    level: str | None = None,
    issuer: str | None = None,
    valid_on: date | None = None,
    updated_since: datetime | None = None,
) -> CredentialFilters:
    """Check the filters against the registry (known levels, existing certification bodies)."""
    if q is not None:
        q = check_text(q, field="q").strip() or None
    if level is not None:
        known = sorted(set(session.exec(select(Level.id)).all()))
        if level not in known:
            allowed = ", ".join(known) or "none (no scheme is configured)"
            raise BadQueryError(f"level must be one of: {allowed}", field="level")
    issuer_id = None
    if issuer is not None:
        found = None
        if is_valid_slug(issuer):
            found = session.exec(select(CertificationBody.id).where(CertificationBody.slug == issuer)).first()
        if found is None:
            raise BadQueryError(
                "issuer must be the slug of a certification body in this registry", field="issuer"
            )
        issuer_id = found
    if updated_since is not None and updated_since.utcoffset() is None:
        raise BadQueryError("updated_since needs a time zone", field="updated_since")
    return CredentialFilters(q, status, level, issuer, issuer_id, valid_on, updated_since)


# -- cursors ------------------------------------------------------------------------------------------------------


def _tag(body: str, scope: str) -> str:
    return hashlib.sha256(f"{body}\n{scope}".encode()).hexdigest()[:16]


def _encode(kind: str, key: str, scope: str) -> str:
    body = f"{kind}1.{key}"
    raw = f"{body}.{_tag(body, scope)}".encode("ascii")
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _decode(cursor: str, kind: str, key_pattern: re.Pattern[str], scope: str) -> re.Match[str]:
    invalid = BadQueryError("cursor is not a cursor this query returned", field="cursor")
    if len(cursor) > MAX_CURSOR_LENGTH or _CURSOR_TEXT.fullmatch(cursor) is None or len(cursor) % 4 == 1:
        raise invalid
    try:
        raw = base64.b64decode(cursor.translate(_FROM_URLSAFE) + "=" * (-len(cursor) % 4), validate=True)
        text = raw.decode("ascii")
    except (binascii.Error, UnicodeDecodeError):
        raise invalid from None
    # Only the canonical encoding (no stray trailing bits) of a well-formed payload is accepted.
    if base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii") != cursor:
        raise invalid
    body, _, tag = text.rpartition(".")
    prefix = f"{kind}1."
    match = key_pattern.fullmatch(body[len(prefix) :]) if body.startswith(prefix) else None
    if match is None:
        raise invalid
    if not hmac.compare_digest(tag, _tag(body, scope)):
        raise BadQueryError(
            "cursor does not belong to this query: repeat the filters of the request that returned it",
            field="cursor",
        )
    return match


def _micros(moment: datetime) -> int:
    delta = moment.astimezone(UTC) - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


@dataclass(frozen=True, slots=True)
class CredentialKey:
    """A position in the search order."""

    updated_at: datetime
    id: uuid.UUID


def credential_cursor(key: CredentialKey, filters: CredentialFilters) -> str:
    return _encode("c", f"{_micros(key.updated_at)}.{key.id.hex}", filters.scope())


def decode_credential_cursor(cursor: str, filters: CredentialFilters) -> CredentialKey:
    match = _decode(cursor, "c", _CREDENTIAL_KEY, filters.scope())
    try:
        updated_at = _EPOCH + timedelta(microseconds=int(match[1]))
    except OverflowError:
        raise BadQueryError("cursor is not a cursor this query returned", field="cursor") from None
    return CredentialKey(updated_at, uuid.UUID(hex=match[2]))


def event_cursor(seq: int, since: datetime | None) -> str:
    return _encode("e", str(seq), _event_scope(since))


def decode_event_cursor(cursor: str, since: datetime | None) -> int:
    seq = int(_decode(cursor, "e", _EVENT_KEY, _event_scope(since))[1])
    if seq > MAX_SEQ:
        raise BadQueryError("cursor is not a cursor this query returned", field="cursor")
    return seq


def _event_scope(since: datetime | None) -> str:
    return "" if since is None else str(_micros(since))


# -- credentials --------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CredentialRecord:
    """A certificate's public fields, with its issuer, and its status at the query's `now`."""

    id: uuid.UUID
    certificate_number: str
    legal_name_en: str | None
    legal_name_ja: str | None
    corporate_number: str | None
    website: str | None
    scheme_id: str
    level: str
    scope: str
    ai_roles: list[str]
    valid_from: datetime
    valid_until: datetime
    next_surveillance_due: date
    status: PublicStatus
    status_reason_code: str | None
    status_changed_at: datetime | None
    updated_at: datetime
    issuer: str
    issuer_name_en: str
    issuer_name_ja: str | None
    issuer_did: str

    @property
    def key(self) -> CredentialKey:
        return CredentialKey(self.updated_at, self.id)


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    """A page of results; `more` when rows remain after the last one."""

    items: list[T]
    more: bool


# Typed loosely: the typed `select` overloads stop at a few columns; rows are read by name in _records.
_COLUMNS: tuple[Any, ...] = (
    col(Credential.id),
    col(Credential.certificate_number),
    col(Credential.legal_name_en),
    col(Credential.legal_name_ja),
    col(Credential.corporate_number),
    col(Credential.website),
    col(Credential.scheme_id),
    col(Credential.level),
    col(Credential.scope),
    col(Credential.ai_roles),
    col(Credential.valid_from),
    col(Credential.valid_until),
    col(Credential.next_surveillance_due),
    col(Credential.status),
    col(Credential.status_reason_code),
    col(Credential.status_changed_at),
    col(Credential.updated_at),
    col(CertificationBody.slug).label("issuer"),
    col(CertificationBody.name_en).label("issuer_name_en"),
    col(CertificationBody.name_ja).label("issuer_name_ja"),
    col(CertificationBody.did).label("issuer_did"),
)


def _escape_like(text: str) -> str:
    return _LIKE_SPECIAL.sub(lambda m: _LIKE_ESCAPE + m[1], text)


def _corporate_number(q: str) -> str | None:
    """The corporate number `q` names: 13 digits, full-width digits and separators allowed."""
    digits = re.sub(r"[\s-]", "", unicodedata.normalize("NFKC", q))
    return digits if _CORPORATE_NUMBER.fullmatch(digits) else None


def _q_condition(
    q: str, session: Session, *, ask_index: bool = True, candidates: ColumnElement[bool] | None = None
) -> ColumnElement[bool]:
    """13 digits (full-width and separators allowed) name a corporate number exactly; anything else is a
    case-insensitive substring of either legal name, or a certificate number exactly (ignoring case).
    The name index narrows the rows (`_indexed_candidates`) unless `ask_index` is false, or `candidates`
    already says what it found; the substring condition decides either way."""
    number = _corporate_number(q)
    if number is not None:
        return col(Credential.corporate_number) == number
    condition = _substring_condition(q)
    if candidates is None and ask_index:
        candidates = _indexed_candidates(q, session)
    return condition if candidates is None else sa.and_(candidates, condition)


def _substring_condition(q: str) -> ColumnElement[bool]:
    """What a name query means, on every path: `ILIKE '%q%'` on either legal name (LIKE metacharacters
    literal), or the certificate number equal ignoring case. The backend's own case rules apply: PostgreSQL
    folds every cased letter (full-width included), SQLite only A-Z; no NFKC folding, since the stored names
    are not folded either (a name written in full-width letters is found by a full-width query, not by the
    same letters in ASCII)."""
    pattern = f"%{_escape_like(q)}%"
    return sa.or_(
        col(Credential.legal_name_en).ilike(pattern, escape=_LIKE_ESCAPE),
        col(Credential.legal_name_ja).ilike(pattern, escape=_LIKE_ESCAPE),
        func.lower(col(Credential.certificate_number)) == func.lower(q),
    )


def _indexed_candidates(
    q: str, session: Session, *, cap: int = MAX_INDEX_CANDIDATES
) -> ColumnElement[bool] | None:
    """A condition true of (at least) every row that `_substring_condition(q)` selects, which a trigram index
    answers without reading every row; None when the plain scan is the better plan (on SQLite: when the
    index finds more than `cap` rows).

    The caller ANDs it with `_substring_condition`, which decides: the index only narrows the rows, so both
    paths return exactly the same results, whatever each backend's index folds (FTS5 folds all Unicode case,
    more than SQLite's LIKE; the PostgreSQL index is rechecked by the same ILIKE).
    """
    if len(q) < MIN_INDEXED_LENGTH:
        return None  # a trigram index holds nothing shorter than three characters
    index = _name_index(session)
    if index == "fts5":
        rowids = _fts_rowids(q, session, cap)
        if len(rowids) > cap:
            # A common substring ("株式会社", "corp"): fetching and sorting every match costs more than
            # walking the (updated_at, id) index until a page is full, which a dense match does quickly.
            return None
        return _rowid_in(rowids)
    if index == "pg_trgm":
        # Every branch indexable (the certificate number too: equal ignoring case implies containing), so the
        # planner can combine the three GIN indexes instead of scanning. The best plan depends on the pattern
        # (rare: the indexes; common: walk the (updated_at, id) index), but psycopg prepares a statement run
        # five times and PostgreSQL may then keep one generic plan for every pattern: measured, it walked all
        # 100,000 rows for a rare name (300+ ms instead of 6). So this transaction plans with the values.
        session.connection().exec_driver_sql("SET LOCAL plan_cache_mode = force_custom_plan")
        pattern = f"%{_escape_like(q)}%"
        return sa.or_(
            col(Credential.legal_name_en).ilike(pattern, escape=_LIKE_ESCAPE),
            col(Credential.legal_name_ja).ilike(pattern, escape=_LIKE_ESCAPE),
            col(Credential.certificate_number).ilike(pattern, escape=_LIKE_ESCAPE),
        )
    return None


def _fts_rowids(q: str, session: Session, cap: int) -> Sequence[int]:
    """The first `cap` + 1 rowids (ascending) whose names contain `q` by the SQLite trigram index: one more
    than `cap` says there are more. The index is asked once: its rowids go to the main query as a list.

    Inside double quotes an FTS5 query is one literal string, `"` written twice (FTS5 query syntax, "FTS5
    Strings"): no operator, prefix or column filter can be smuggled in. The trigram tokenizer matches such a
    phrase as a substring.
    """
    phrase = '"' + q.replace('"', '""') + '"'
    return session.connection().execute(_FTS_ROWIDS, {"phrase": phrase, "cap": cap + 1}).scalars().all()


def _rowid_in(rowids: Sequence[int]) -> ColumnElement[bool]:
    return sa.literal_column(f"{Credential.__tablename__}.rowid").in_(
        sa.bindparam("fts_rowids", list(rowids), expanding=True)
    )


_NAME_INDEXES: weakref.WeakKeyDictionary[Engine, str | None] = weakref.WeakKeyDictionary()


def _name_index(session: Session) -> str | None:
    """The name search index of this database ("fts5", "pg_trgm" or None), looked up once per engine.

    Missing when migration 0004 found no FTS5 trigram tokenizer in SQLite (or the database is not migrated):
    searches still work, by scanning, and a warning says so once.
    """
    engine = session.get_bind().engine
    if engine in _NAME_INDEXES:
        return _NAME_INDEXES[engine]
    connection = session.connection()
    index: str | None = None
    if engine.dialect.name == "sqlite":
        statement = sa.text("SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = :name")
        if connection.execute(statement, {"name": _FTS_TABLE}).scalar_one():
            index = "fts5"
    elif engine.dialect.name == "postgresql":
        names = ", ".join(f"to_regclass('{name}')" for name in _PG_TRIGRAM_INDEXES)
        if None not in connection.exec_driver_sql(f"SELECT {names}").one():
            index = "pg_trgm"
    if index is None:
        logger.warning(
            "no name search index in this %s database (migration 0004; SQLite needs FTS5 with the trigram "
            "tokenizer, 3.34 or later): name searches scan every certificate",
            engine.dialect.name,
        )
    _NAME_INDEXES[engine] = index
    return index


def _status_condition(status: PublicStatus, now: datetime) -> ColumnElement[bool]:
    stored = col(Credential.status)
    if status is PublicStatus.EXPIRED:
        return sa.and_(stored.in_(_LIVE), col(Credential.valid_until) < now)
    if status.value in _FINAL:
        return stored == status.value
    return sa.and_(stored == status.value, col(Credential.valid_until) >= now)


def _conditions(
    filters: CredentialFilters,
    now: datetime,
    session: Session,
    *,
    ask_index: bool = True,
    candidates: ColumnElement[bool] | None = None,
) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    if filters.q is not None:
        conditions.append(_q_condition(filters.q, session, ask_index=ask_index, candidates=candidates))
    if filters.status is not None:
        conditions.append(_status_condition(filters.status, now))
    if filters.level is not None:
        conditions.append(col(Credential.level) == filters.level)
    if filters.issuer_id is not None:
        conditions.append(col(Credential.issuer_id) == filters.issuer_id)
    if filters.valid_on is not None:
        # The validity window intersects that UTC day. Not "in good standing on that day": the status history
        # at a past date is not reconstructed here.
        start = datetime.combine(filters.valid_on, time.min, UTC)
        conditions.append(col(Credential.valid_until) >= start)
        if filters.valid_on < date.max:
            conditions.append(col(Credential.valid_from) < start + timedelta(days=1))
    if filters.updated_since is not None:
        conditions.append(col(Credential.updated_at) >= filters.updated_since)
    return conditions


# `status` in _COLUMNS (and CredentialRecord, whose fields follow the same order), found rather than counted.
_STATUS_COLUMN = [column.key for column in _COLUMNS].index("status")


def _records(rows: Sequence[Any], now: datetime) -> list[CredentialRecord]:
    """Rows of `_COLUMNS` as records, positionally (measured: a third of the cost of going by name)."""
    records = []
    for row in rows:
        status = public_status(row[_STATUS_COLUMN], row.valid_until, now)
        values = (*row[:_STATUS_COLUMN], status, *row[_STATUS_COLUMN + 1 :])
        records.append(CredentialRecord(*values))
    return records


# The search statement, built once: building it (21 columns, a join, the ordering) cost more than running it.
_updated_at, _credential_id = col(Credential.updated_at), col(Credential.id)
_SEARCH = (
    select(*_COLUMNS)
    .join(CertificationBody, col(CertificationBody.id) == col(Credential.issuer_id))
    .order_by(_updated_at, _credential_id)
)


def _after(prefix: str) -> ColumnElement[bool]:
    """Rows after the key bound as `<prefix>_updated_at`, `<prefix>_id` in `(updated_at, id)` order, written as
    a range plus a tie-break rather than a row-value comparison, so that both backends walk that index."""
    at = sa.bindparam(f"{prefix}_updated_at", type_=Credential.__table__.c.updated_at.type)  # type: ignore[attr-defined]
    key = sa.bindparam(f"{prefix}_id", type_=Credential.__table__.c.id.type)  # type: ignore[attr-defined]
    return sa.and_(_updated_at >= at, sa.or_(_updated_at > at, _credential_id > key))


_AFTER = _after("after")
_WINDOW_END = select(_updated_at, _credential_id).order_by(_updated_at, _credential_id).limit(1)


def _window(after: bool) -> ColumnElement[bool]:
    """The window of search_credentials: the rows after the cursor (or from the start) up to the one at
    offset `window_offset`, bounded by that row's key, read from the (updated_at, id) index. When fewer rows
    remain the key is NULL and the window empty: the index is asked then, so a window never decides a page it
    did not fill."""
    end = (_WINDOW_END.where(_AFTER) if after else _WINDOW_END).offset(
        sa.bindparam("window_offset", type_=sa.Integer)
    )
    bound = end.subquery()
    end_at = sa.select(bound.c.updated_at).scalar_subquery()
    end_id = sa.select(bound.c.id).scalar_subquery()
    return sa.and_(_updated_at <= end_at, sa.or_(_updated_at < end_at, _credential_id <= end_id))


_WINDOWS = {after: _window(after) for after in (False, True)}


def search_credentials(
    *,
    session: Session,
    filters: CredentialFilters,
    now: datetime,
    limit: int = DEFAULT_LIMIT,
    after: CredentialKey | None = None,
) -> Page[CredentialRecord]:
    """Certificates matching `filters`, in `(updated_at, id)` order, from just after `after`.

    A name query on SQLite asks the index for FEW_CANDIDATES + 1 rowids first (ascending): a rare name is
    answered from them. When there are more, how far they reach estimates the name's density: a dense one
    (one row in PROBE_ROWS_PER_RESULT or more) walks a short window of rows in result order (`_window`) and,
    when its page fills there, those are exactly its rows. Anything else asks the index for up to
    MAX_INDEX_CANDIDATES (`_indexed_candidates`), as before. Every path applies the same substring condition,
    so they differ in cost, never in results. Measured at 100,000 certificates: a common name ("株式会社",
    "Company") fills its page within a few dozen rows, where the index took 1-2 ms only to find thousands.
    """
    if not 1 <= limit <= MAX_LIMIT:
        raise BadQueryError(f"limit must be between 1 and {MAX_LIMIT}", field="limit")
    statement = _SEARCH.limit(limit + 1)
    params: dict[str, Any] = {}
    if after is not None:
        statement = statement.where(_AFTER)
        params.update(after_updated_at=after.updated_at, after_id=after.id)
    # Core rather than ORM execution: the rows are plain columns, and the ORM's bookkeeping cost more than
    # the query.
    connection = session.connection()
    if filters.q is not None and _probe_first(filters, session):
        few = _fts_rowids(filters.q, session, FEW_CANDIDATES)
        if len(few) <= FEW_CANDIDATES:
            candidates = _rowid_in(few)
            found = connection.execute(
                statement.where(*_conditions(filters, now, session, candidates=candidates)), params
            ).all()
            return Page(_records(found[:limit], now), more=len(found) > limit)
        if few[-1] <= len(few) * PROBE_ROWS_PER_RESULT:  # rowids count from 1, in the order of insertion
            rows = min(PROBE_ROWS_PER_RESULT * (limit + 1), MAX_PROBE_ROWS)
            probe = statement.where(
                *_conditions(filters, now, session, ask_index=False), _WINDOWS[after is not None]
            )
            found = connection.execute(probe, {**params, "window_offset": rows - 1}).all()
            if len(found) > limit:
                return Page(_records(found[:limit], now), more=True)
    found = connection.execute(statement.where(*_conditions(filters, now, session)), params).all()
    return Page(_records(found[:limit], now), more=len(found) > limit)


def _probe_first(filters: CredentialFilters, session: Session) -> bool:
    """Whether a window walk may spare asking the name index: a name query the SQLite index would answer."""
    q = filters.q
    return (
        q is not None
        and len(q) >= MIN_INDEXED_LENGTH
        and _corporate_number(q) is None
        and _name_index(session) == "fts5"
    )


def credential_chunk(
    *, session: Session, filters: CredentialFilters, now: datetime, limit: int, after: uuid.UUID | None = None
) -> list[CredentialRecord]:
    """Up to `limit` certificates matching `filters` in `id` order after `after`: the export's keyset walk.

    `id` never changes, so a walk in short transactions meets every certificate that existed when it began
    exactly once, however many are updated meanwhile.
    """
    statement = (
        select(*_COLUMNS)
        .join(CertificationBody, col(CertificationBody.id) == col(Credential.issuer_id))
        .where(*_conditions(filters, now, session))
        .order_by(col(Credential.id))
        .limit(limit)
    )
    if after is not None:
        statement = statement.where(col(Credential.id) > after)
    return _records(session.exec(statement).all(), now)


# -- events -------------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class EventRecord:
    """An event of the log with its issuer's DID (what its hash covers) and slug."""

    event: Event
    issuer_did: str
    issuer_slug: str


def list_events(
    *, session: Session, after: int = 0, since: datetime | None = None, limit: int = DEFAULT_LIMIT
) -> Page[EventRecord]:
    """Events with `seq > after` (and `at >= since`), in `seq` order: the order in which they committed."""
    if not 1 <= limit <= MAX_LIMIT:
        raise BadQueryError(f"limit must be between 1 and {MAX_LIMIT}", field="limit")
    if not 0 <= after <= MAX_SEQ:
        raise BadQueryError(f"after must be between 0 and {MAX_SEQ}", field="after")
    statement = (
        select(Event, CertificationBody.did, CertificationBody.slug)
        .join(CertificationBody, col(CertificationBody.id) == col(Event.issuer_id))
        .where(col(Event.seq) > after)
        .order_by(col(Event.seq))
        .limit(limit + 1)
    )
    if since is not None:
        statement = statement.where(col(Event.at) >= since)
    rows = session.exec(statement).all()
    if not rows and after > 0:
        # A position past the end is one the log no longer reaches (a restore): say so, rather than answer
        # empty pages until the log passes it again and then an event that does not chain to what the
        # follower holds. Checked only on an empty page, the one a follower that is up to date gets.
        last = last_event_seq(session=session)
        if after > last:
            raise LogBehindError(after, last)
    return Page([EventRecord(*row) for row in rows[:limit]], more=len(rows) > limit)


def last_event_seq(*, session: Session) -> int:
    """The sequence number of the newest committed event (0 when there is none)."""
    return int(session.exec(select(func.coalesce(func.max(Event.seq), 0))).one())


# -- statistics ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class LevelCount:
    scheme: str
    level: str
    count: int


@dataclass(frozen=True, slots=True)
class Stats:
    """Counts at `now`: every status, level and certification body is listed, with zero when it has none."""

    total: int
    by_status: dict[str, int]
    by_level: list[LevelCount]
    by_issuer: dict[str, int]


def registry_stats(*, session: Session, now: datetime) -> Stats:
    """Three GROUP BY queries, each answered from an index: (status, valid_until), (scheme_id, level) and
    (issuer_id, certificate_number)."""
    # One statement for the statuses, so that the stored and the expired counts come from one snapshot.
    past = sa.case((col(Credential.valid_until) < now, 1), else_=0)
    by_status = dict.fromkeys((s.value for s in PublicStatus), 0)
    for stored, count, expired in session.exec(
        select(Credential.status, func.count(), func.coalesce(func.sum(past), 0)).group_by(
            col(Credential.status)
        )
    ):
        if stored in _FINAL:
            by_status[stored] += int(count)
        else:
            by_status[stored] += int(count) - int(expired)
            by_status[PublicStatus.EXPIRED.value] += int(expired)

    levels = session.exec(
        select(Level.scheme_id, Level.id).order_by(col(Level.scheme_id), col(Level.position))
    ).all()
    level_counts = {(str(s), str(lv)): 0 for s, lv in levels}
    for scheme, level, count in session.exec(
        select(Credential.scheme_id, Credential.level, func.count()).group_by(
            col(Credential.scheme_id), col(Credential.level)
        )
    ):
        level_counts[(scheme, level)] = int(count)

    issuer_counts = (
        select(Credential.issuer_id, func.count().label("n")).group_by(col(Credential.issuer_id)).subquery()
    )
    by_issuer = {
        slug: int(count or 0)
        for slug, count in session.exec(
            select(CertificationBody.slug, issuer_counts.c.n)
            .outerjoin(issuer_counts, issuer_counts.c.issuer_id == col(CertificationBody.id))
            .order_by(col(CertificationBody.slug))
        )
    }
    return Stats(
        total=sum(by_status.values()),
        by_status=by_status,
        by_level=[LevelCount(s, lv, n) for (s, lv), n in level_counts.items()],
        by_issuer=by_issuer,
    )
