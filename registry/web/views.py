"""What the pages show, read from the database: plain records, no HTTP, no HTML.

The certificate page is the hot page (every embedded badge links to it), so on SQLite it is read through the
process's `LoopReader` on the event loop with three raw statements in one snapshot, as the API's record is
(registry.routes.credentials); elsewhere, or when SQLite is busy, through a session in the threadpool. Both
paths build the same `CertificateView` (tests/web/test_pages.py holds them equal).
"""

from __future__ import annotations

import json
import sqlite3
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from registry.models import Accreditation, CertificationBody, Credential, Event, Level, Scheme
from registry.search import PublicStatus, public_status


@dataclass(frozen=True, slots=True)
class BodyView:
    slug: str
    name_en: str
    name_ja: str | None
    did: str
    state: str


@dataclass(frozen=True, slots=True)
class EventView:
    seq: int
    at: datetime
    action: str
    reason_code: str | None
    reason: str | None


@dataclass(frozen=True, slots=True)
class CertificateView:
    """A certificate as its public page shows it, with its status at `now`."""

    id: uuid.UUID
    certificate_number: str
    legal_name_en: str | None
    legal_name_ja: str | None
    corporate_number: str | None
    website: str | None
    scheme_id: str
    scheme_name_en: str | None
    scheme_name_ja: str | None
    scheme_version: str
    scheme_example: bool
    level: str
    level_name_en: str | None
    level_name_ja: str | None
    scope: str
    ai_roles: list[str]
    assessed_on: date
    next_surveillance_due: date
    valid_from: datetime
    valid_until: datetime
    status: PublicStatus
    stored_status: str
    status_reason_code: str | None
    status_reason: str | None
    status_changed_at: datetime | None
    supersedes_id: uuid.UUID | None
    superseded_by_id: uuid.UUID | None
    body: BodyView
    history: list[EventView]


_CERTIFICATE_SQL = (
    "SELECT c.certificate_number, c.legal_name_en, c.legal_name_ja, c.corporate_number, c.website, "
    "c.scheme_id, s.name_en, s.name_ja, s.version, s.example, c.level, l.name_en, l.name_ja, c.scope, "
    "c.ai_roles, c.assessed_on, c.next_surveillance_due, c.valid_from, c.valid_until, c.status, "
    "c.status_reason_code, c.status_reason, c.status_changed_at, c.supersedes_id, c.superseded_by_id, "
    "i.slug, i.name_en, i.name_ja, i.did, i.state "
    "FROM credentials AS c JOIN issuers AS i ON i.id = c.issuer_id "
    "JOIN schemes AS s ON s.id = c.scheme_id "
    "LEFT JOIN levels AS l ON l.scheme_id = c.scheme_id AND l.id = c.level WHERE c.id = ?"
)
_HISTORY_SQL = "SELECT seq, at, action, reason_code, reason FROM events WHERE credential_id = ? ORDER BY seq"
_TOKEN_SQL = "SELECT c.token, c.status, c.valid_until FROM credentials AS c WHERE c.id = ?"  # noqa: S105


def _ts(text: str | None) -> datetime | None:
    # SQLAlchemy stores UtcDateTime on SQLite as naive ISO text in UTC (registry.models.base).
    return None if text is None else datetime.fromisoformat(text).replace(tzinfo=UTC)


def _uuid(text: str | None) -> uuid.UUID | None:
    return None if text is None else uuid.UUID(hex=text)


def certificate_sqlite(
    credential_id: uuid.UUID, now: datetime, connection: sqlite3.Connection
) -> CertificateView | bool:
    """The view read through a raw SQLite connection in one snapshot; False when there is no such id."""
    key = credential_id.hex
    connection.execute("BEGIN")
    try:
        row = connection.execute(_CERTIFICATE_SQL, (key,)).fetchone()
        events = connection.execute(_HISTORY_SQL, (key,)).fetchall() if row is not None else []
    finally:
        connection.execute("COMMIT")
    if row is None:
        return False
    (number, name_en, name_ja, corporate, website, scheme_id, scheme_en, scheme_ja, version, example, level,
     level_en, level_ja, scope, roles, assessed, surveillance, valid_from, valid_until, status, reason_code,
     reason, changed, supersedes, superseded_by, slug, body_en, body_ja, did, state) = row  # fmt: skip
    valid_until_at = _ts(valid_until)
    assert valid_until_at is not None  # noqa: S101  # NOT NULL
    return CertificateView(
        id=credential_id,
        certificate_number=number,
        legal_name_en=name_en,
        legal_name_ja=name_ja,
        corporate_number=corporate,
        website=website,
        scheme_id=scheme_id,
        scheme_name_en=scheme_en,
        scheme_name_ja=scheme_ja,
        scheme_version=version,
        scheme_example=bool(example),
        level=level,
        level_name_en=level_en,
        level_name_ja=level_ja,
        scope=scope,
        ai_roles=list(json.loads(roles)),
        assessed_on=date.fromisoformat(assessed),
        next_surveillance_due=date.fromisoformat(surveillance),
        valid_from=_ts(valid_from),  # type: ignore[arg-type]  # NOT NULL
        valid_until=valid_until_at,
        status=public_status(status, valid_until_at, now),
        stored_status=status,
        status_reason_code=reason_code,
        status_reason=reason,
        status_changed_at=_ts(changed),
        supersedes_id=_uuid(supersedes),
        superseded_by_id=_uuid(superseded_by),
        body=BodyView(slug, body_en, body_ja, did, state),
        history=[
            EventView(seq, _ts(at), action, code, why)  # type: ignore[arg-type]  # NOT NULL
            for seq, at, action, code, why in events
        ],
    )


def certificate_session(engine: Engine, credential_id: uuid.UUID, now: datetime) -> CertificateView | bool:
    """The same view read through a session (any database); False when there is no such id."""
    with Session(engine) as session:
        credential = session.get(Credential, credential_id)
        if credential is None:
            return False
        body = session.get(CertificationBody, credential.issuer_id)
        scheme = session.get(Scheme, credential.scheme_id)
        level = session.get(Level, (credential.scheme_id, credential.level))
        events = session.exec(
            select(Event).where(Event.credential_id == credential.id).order_by(col(Event.seq))
        ).all()
        assert body is not None  # noqa: S101  # foreign keys
        assert scheme is not None  # noqa: S101
        return CertificateView(
            id=credential.id,
            certificate_number=credential.certificate_number,
            legal_name_en=credential.legal_name_en,
            legal_name_ja=credential.legal_name_ja,
            corporate_number=credential.corporate_number,
            website=credential.website,
            scheme_id=credential.scheme_id,
            scheme_name_en=scheme.name_en,
            scheme_name_ja=scheme.name_ja,
            scheme_version=scheme.version,
            scheme_example=scheme.example,
            level=credential.level,
            level_name_en=level.name_en if level else None,
            level_name_ja=level.name_ja if level else None,
            scope=credential.scope,
            ai_roles=list(credential.ai_roles),
            assessed_on=credential.assessed_on,
            next_surveillance_due=credential.next_surveillance_due,
            valid_from=credential.valid_from,
            valid_until=credential.valid_until,
            status=public_status(credential.status, credential.valid_until, now),
            stored_status=credential.status,
            status_reason_code=credential.status_reason_code,
            status_reason=credential.status_reason,
            status_changed_at=credential.status_changed_at,
            supersedes_id=credential.supersedes_id,
            superseded_by_id=credential.superseded_by_id,
            body=BodyView(body.slug, body.name_en, body.name_ja, body.did, body.state),
            history=[EventView(e.seq, e.at, e.action, e.reason_code, e.reason) for e in events],
        )


@dataclass(frozen=True, slots=True)
class SignedView:
    """What the live badge needs: the signed token and the status now."""

    token: str
    status: PublicStatus


def signed_sqlite(
    credential_id: uuid.UUID, now: datetime, connection: sqlite3.Connection
) -> SignedView | bool:
    row = connection.execute(_TOKEN_SQL, (credential_id.hex,)).fetchone()
    if row is None:
        return False
    valid_until = _ts(row[2])
    assert valid_until is not None  # noqa: S101  # NOT NULL
    return SignedView(row[0], public_status(row[1], valid_until, now))


def signed_session(engine: Engine, credential_id: uuid.UUID, now: datetime) -> SignedView | bool:
    with Session(engine) as session:
        row = session.exec(
            select(Credential.token, Credential.status, Credential.valid_until).where(
                Credential.id == credential_id
            )
        ).first()
    if row is None:
        return False
    return SignedView(row[0], public_status(row[1], row[2], now))


@dataclass(frozen=True, slots=True)
class Choice:
    """One option of the search form's filters: a certification body (by slug) or a level (by id)."""

    value: str
    name_en: str | None
    name_ja: str | None


def choices(*, session: Session) -> tuple[tuple[Choice, ...], tuple[Choice, ...]]:
    """The search form's certification bodies (by slug) and levels (in scheme order): only the columns shown,
    as plain values (reading whole rows as ORM objects cost twice as much, on every search)."""
    bodies = session.exec(
        select(CertificationBody.slug, CertificationBody.name_en, CertificationBody.name_ja).order_by(
            col(CertificationBody.slug)
        )
    ).all()
    levels = session.exec(
        select(Level.id, Level.name_en, Level.name_ja).order_by(col(Level.scheme_id), col(Level.position))
    ).all()
    return tuple(Choice(*row) for row in bodies), tuple(Choice(*row) for row in levels)


def bodies(*, session: Session) -> list[CertificationBody]:
    """Every certification body, by slug."""
    return list(session.exec(select(CertificationBody).order_by(col(CertificationBody.slug))).all())


def accreditations(*, session: Session) -> dict[int, list[Accreditation]]:
    """Every accreditation (scheme, levels, period, state), by certification body id."""
    found: dict[int, list[Accreditation]] = {}
    for row in session.exec(select(Accreditation).order_by(col(Accreditation.id))).all():
        found.setdefault(row.issuer_id, []).append(row)
    return found
