"""`/docs`: Swagger UI over the registry's OpenAPI document, its code pinned by Subresource Integrity.

Operators paste API tokens into this page ("Authorize"), so no script may run on it but Swagger UI's own, at a
fixed version: FastAPI's default page loads `swagger-ui-dist@5` (whatever version the CDN serves that day)
without integrity hashes, so a compromised CDN could read those tokens. Here the files are pinned to one
release and their SHA-384 (computed from the npm package, `npm pack swagger-ui-dist@5.35.0`), and the page's
Content-Security-Policy admits those two files, the one inline script (by its hash) and requests to this origin
only. A browser refuses a file whose bytes differ: the page then fails to load, it never runs other code.
"""

from __future__ import annotations

import base64
import hashlib
import json
from functools import cache

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

router = APIRouter(include_in_schema=False)

_CDN = "https://cdn.jsdelivr.net/npm/swagger-ui-dist@5.35.0"
_JS_SRI = "sha384-gjRm0bEPMeTmMh5jT2cHccIwCUZSTd8YC+j0d0sXw0MdGEfScduGpSyF3ZSSLkX9"
_CSS_SRI = "sha384-WlYgdmXYOOBWL5apwjDEZwN+U3HmXSSu5R6V5aGxEcf7z+KuRNwBhoxKVN1i3D5I"


@cache
def _page(root_path: str) -> tuple[str, dict[str, str]]:
    """The page and its headers for an app mounted at `root_path` (its OpenAPI document moves with it)."""
    # JSON in a script: "<" escaped, so no path can close the element.
    url = json.dumps(root_path + "/openapi.json").replace("<", "\\u003c")
    init = (
        f"SwaggerUIBundle({{url: {url}, dom_id: '#swagger-ui', "
        "deepLinking: true, validatorUrl: null, "
        "presets: [SwaggerUIBundle.presets.apis, SwaggerUIBundle.SwaggerUIStandalonePreset]});"
    )
    digest = base64.b64encode(hashlib.sha256(init.encode()).digest()).decode()
    page = f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>aigov registry — API</title>
<link rel="stylesheet" href="{_CDN}/swagger-ui.css" integrity="{_CSS_SRI}" crossorigin="anonymous">
</head>
<body>
<div id="swagger-ui"></div>
<script src="{_CDN}/swagger-ui-bundle.js" integrity="{_JS_SRI}" crossorigin="anonymous"></script>
<script>{init}</script>
</body>
</html>
"""
    headers = {
        # Swagger UI sets style attributes and draws icons as data: images; it calls this origin's API only
        # (validatorUrl: null, so it never sends the document to validator.swagger.io).
        "Content-Security-Policy": (
            f"default-src 'none'; script-src {_CDN}/swagger-ui-bundle.js 'sha256-{digest}'; "
            f"style-src {_CDN}/swagger-ui.css 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; "
            "form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
        ),
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "no-referrer",
        "X-Frame-Options": "DENY",
    }
    return page, headers


@router.get("/docs")
def api_docs(request: Request) -> HTMLResponse:
    """The interactive API documentation."""
    page, headers = _page(request.scope.get("root_path", ""))
    return HTMLResponse(page, headers=headers)
