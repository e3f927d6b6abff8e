"""Schemes and certification bodies: what the scheme owner sets up before anyone issues."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session, select

from issuer import Scheme
from registry.errors import ConflictError, DuplicateError, InvalidRequestError, NotFoundError
from registry.identity import is_valid_slug, issuer_did
from registry.models import CertificationBody, CertificationBodyCreate, Level
from registry.models import Scheme as SchemeRow


def add_scheme(*, session: Session, scheme: Scheme, now: datetime) -> SchemeRow:
    """Record `scheme` and its levels. Adding the same scheme again is a no-op; a different one under the
    same id is a conflict (a published scheme is never edited in place: give it a new version and id)."""
    definition = scheme.model_dump(mode="json", by_alias=True)
    existing = session.get(SchemeRow, scheme.id)
    if existing is not None:
        if existing.definition != definition:
            raise ConflictError(f"scheme {scheme.id} is already registered with a different definition")
        return existing
    row = SchemeRow(
        id=scheme.id,
        name_en=scheme.name.en,
        name_ja=scheme.name.ja,
        version=scheme.version,
        example=scheme.example,
        validity_years=scheme.validity_years,
        surveillance_interval_months=scheme.surveillance_interval_months,
        definition=definition,
        created_at=now,
    )
    session.add(row)
    session.flush()  # the levels refer to it (no ORM relationships: the flush order is ours to keep)
    for position, level in enumerate(scheme.levels):
        session.add(
            Level(
                scheme_id=scheme.id,
                id=level.id,
                name_en=level.name.en,
                name_ja=level.name.ja,
                description=level.description,
                criteria=level.criteria,
                position=position,
            )
        )
    return row


def create_body(
    *, session: Session, data: CertificationBodyCreate, public_url: str, now: datetime
) -> CertificationBody:
    """Register a certification body under a scheme already in the registry; its DID follows from its slug."""
    if not is_valid_slug(data.slug):
        raise InvalidRequestError(
            f"slug {data.slug!r} must be 2-63 lower-case letters, digits or hyphens", field="slug"
        )
    if session.get(SchemeRow, data.scheme_id) is None:
        raise NotFoundError("scheme", data.scheme_id)
    if session.exec(select(CertificationBody).where(CertificationBody.slug == data.slug)).first():
        raise DuplicateError(f"a certification body {data.slug!r} already exists", field="slug")
    body = CertificationBody(
        slug=data.slug,
        name_en=data.name_en,
        name_ja=data.name_ja,
        scheme_id=data.scheme_id,
        did=issuer_did(public_url, data.slug),
        created_at=now,
        updated_at=now,
    )
    session.add(body)
    session.flush()
    return body


def body_by_slug(*, session: Session, slug: str) -> CertificationBody:
    """The certification body called `slug`, or NotFoundError (at once for what cannot be a slug: PostgreSQL
    refuses a NUL in a query with an error, not an empty answer)."""
    body = (
        session.exec(select(CertificationBody).where(CertificationBody.slug == slug)).first()
        if is_valid_slug(slug)
        else None
    )
    if body is None:
        raise NotFoundError("certification body", slug)
    return body
