"""Raw (non-JSON-model) responses: signed tokens and published documents, served as stored bytes."""

from __future__ import annotations

import json
from typing import Any

from fastapi import Response

VC_JWT = "application/vc+jwt"
# Public documents are fetched by verifiers running in browsers too.
CORS = {"Access-Control-Allow-Origin": "*", "Access-Control-Expose-Headers": "ETag"}


def document(content: object, media_type: str, *, max_age: int = 300) -> Response:
    """A JSON document (DID document, JWKS) as compact UTF-8, cacheable and readable cross-origin."""
    body = json.dumps(content, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    return Response(
        body, media_type=media_type, headers={**CORS, "Cache-Control": f"public, max-age={max_age}"}
    )


def raw(media_type: str, description: str) -> dict[int | str, dict[str, Any]]:
    """OpenAPI description of a 200 answered with stored bytes: a JSON document (`...+json`) is an object,
    anything else (a compact JWS) a string."""
    schema = {"type": "object"} if media_type.endswith("json") else {"type": "string"}
    return {200: {"description": description, "content": {media_type: {"schema": schema}}}}
