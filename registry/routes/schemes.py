"""Certification schemes and their levels, at the URLs certificates name them by.

Every certificate's `achievement.id` is `<registry>/schemes/<scheme>/levels/<level>`, and the trust list names
schemes by `<registry>/schemes/<scheme>`: a person or program that follows either finds what it stands for.
"""

from __future__ import annotations

from fastapi import APIRouter, Response

from issuer import Scheme, SchemeError, achievement, scheme_url
from registry.deps import ContextDep, SessionDep
from registry.errors import NotFoundError
from registry.identity import is_valid_slug
from registry.models import Scheme as SchemeRow
from registry.problems import documented
from registry.routes._responses import document, raw
from verifier import OB3_CONTEXT

router = APIRouter(prefix="/schemes", tags=["documents"])


def _scheme(session: SessionDep, scheme_id: str) -> Scheme:
    # Only a well-formed id reaches the database (PostgreSQL refuses a NUL in text with an error); scheme ids
    # have the slug form (issuer.Scheme's pattern is SLUG_PATTERN's).
    row = session.get(SchemeRow, scheme_id) if is_valid_slug(scheme_id) else None
    if row is None:
        raise NotFoundError("scheme", scheme_id)
    return Scheme.model_validate(row.definition)


@router.get(
    "/{scheme_id}",
    response_model=None,
    response_class=Response,
    responses={
        **raw("application/json", "The scheme: names, version, periods and levels."),
        **documented(404),
    },
)
def scheme(scheme_id: str, session: SessionDep, ctx: ContextDep) -> Response:
    """A certification scheme: its names, version, validity and surveillance periods, and its levels."""
    found = _scheme(session, scheme_id)
    return document(
        {
            "id": scheme_url(ctx.public_url, found.id),
            "name": found.name.model_dump(exclude_none=True),
            "version": found.version,
            "example": found.example,
            "validityYears": found.validity_years,
            "surveillanceIntervalMonths": found.surveillance_interval_months,
            "standards": list(found.standards),
            "levels": [achievement(found, level, ctx.public_url) for level in found.levels],
        },
        "application/json",
    )


@router.get(
    "/{scheme_id}/levels/{level_id}",
    response_model=None,
    response_class=Response,
    responses={
        **raw("application/ld+json", "The level as an Open Badges 3.0 Achievement."),
        **documented(404),
    },
)
def level(scheme_id: str, level_id: str, session: SessionDep, ctx: ContextDep) -> Response:
    """A level of a scheme as the Open Badges 3.0 Achievement that certificates of that level embed."""
    found = _scheme(session, scheme_id)
    try:
        chosen = found.level(level_id)
    except SchemeError:
        raise NotFoundError("level", f"{level_id} of scheme {scheme_id}") from None
    return document(
        {"@context": [OB3_CONTEXT], **achievement(found, chosen, ctx.public_url)}, "application/ld+json"
    )
