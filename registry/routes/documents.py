"""The aigov JSON-LD context and JSON Schema, published from the verifier's package data."""

from __future__ import annotations

from functools import cache
from importlib import resources

from fastapi import APIRouter, Response

from registry.routes._responses import CORS, raw
from verifier import AIGOV_CONTEXT_PATH, AIGOV_SCHEMA_PATH

router = APIRouter(tags=["documents"])

# Versioned documents: a change gets a new path, so caches may keep them for a day.
_CACHE = {**CORS, "Cache-Control": "public, max-age=86400"}


@cache
def _data(name: str) -> bytes:
    return resources.files("verifier").joinpath("data", name).read_bytes()


@router.get(
    AIGOV_CONTEXT_PATH,
    response_model=None,
    response_class=Response,
    responses=raw("application/ld+json", "The aigov JSON-LD context."),
)
def context() -> Response:
    """The JSON-LD context that defines the certificate's own terms."""
    return Response(_data("aigov-context-v1.jsonld"), media_type="application/ld+json", headers=_CACHE)


@router.get(
    AIGOV_SCHEMA_PATH,
    response_model=None,
    response_class=Response,
    responses=raw("application/schema+json", "The JSON Schema of the certificate."),
)
def schema() -> Response:
    """The JSON Schema that `credentialSchema` names."""
    return Response(
        _data("aigov-certification-v1.schema.json"), media_type="application/schema+json", headers=_CACHE
    )
