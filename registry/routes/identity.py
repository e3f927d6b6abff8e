"""Keys and identity: the registry's and each certification body's did:web document and JWKS.

Retired and compromised keys stay listed (with their `expires`/`revoked` times), so credentials signed before
a rotation keep verifying.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Response

from keys import did_web_document, jwks
from registry.bodies import body_by_slug
from registry.deps import ContextDep, SessionDep
from registry.identity import registry_did
from registry.problems import documented
from registry.routes._responses import document

router = APIRouter(tags=["identity"])

DID_JSON = "application/did+json"  # DID Core §6.2.1
JWKS_JSON = "application/jwk-set+json"  # RFC 7517 §8.5.1
_DID: dict[int | str, dict[str, Any]] = {
    200: {"description": "DID document", "content": {DID_JSON: {"schema": {"type": "object"}}}}
}
_JWKS: dict[int | str, dict[str, Any]] = {
    200: {"description": "JWK Set", "content": {JWKS_JSON: {"schema": {"type": "object"}}}}
}


@router.get("/.well-known/did.json", response_model=None, response_class=Response, responses=_DID)
def registry_did_document(ctx: ContextDep) -> Response:
    """The scheme owner's (this registry's) DID document."""
    return document(did_web_document(registry_did(ctx.public_url), ctx.signers.registry_keys()), DID_JSON)


@router.get("/.well-known/jwks.json", response_model=None, response_class=Response, responses=_JWKS)
def registry_jwks(ctx: ContextDep) -> Response:
    """The scheme owner's keys as a JWK Set."""
    return document(jwks(ctx.signers.registry_keys()), JWKS_JSON)


@router.get(
    "/issuers/{slug}/did.json",
    response_model=None,
    response_class=Response,
    responses={**_DID, **documented(404)},
)
def issuer_did_document(slug: str, session: SessionDep, ctx: ContextDep) -> Response:
    """A certification body's DID document (did:web:<host>:issuers:<slug>)."""
    body = body_by_slug(session=session, slug=slug)
    return document(did_web_document(body.did, ctx.signers.published_keys(body.slug)), DID_JSON)


@router.get(
    "/issuers/{slug}/jwks.json",
    response_model=None,
    response_class=Response,
    responses={**_JWKS, **documented(404)},
)
def issuer_jwks(slug: str, session: SessionDep, ctx: ContextDep) -> Response:
    """A certification body's keys as a JWK Set."""
    body = body_by_slug(session=session, slug=slug)
    return document(jwks(ctx.signers.published_keys(body.slug)), JWKS_JSON)
