"""Public endpoints: status lists (the end-to-end proof with the verifier), DIDs and keys, documents."""

from __future__ import annotations

import base64
import hashlib
import json
import re
import shutil
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

from fastapi.testclient import TestClient

from keys import parse_jwks
from verifier import TrustStore, Verdict, verify

if TYPE_CHECKING:
    from conftest import Registry


def issue(client: TestClient, registry: Registry, token: str) -> dict[str, Any]:
    response = client.post("/api/v1/credentials", json=registry.decision(), headers=registry.bearer(token))
    assert response.status_code == 201, response.text
    issued: dict[str, Any] = response.json()
    return issued


def status_urls(credential: dict[str, Any]) -> dict[str, str]:
    return {e["statusPurpose"]: e["statusListCredential"] for e in credential["credentialStatus"]}


def local(url: str, registry: Registry) -> str:
    return url.removeprefix(registry.settings.public_url)


def test_a_revocation_is_visible_to_the_verifier(client: TestClient, registry: Registry, token: str) -> None:
    """Issue, revoke, then verify with nothing but what the registry publishes: the DID document and lists."""
    credential = issue(client, registry, token)
    revoked = client.post(
        f"/api/v1/credentials/{credential['id']}/revoke",
        json={"reasonCode": "nonconformity"},
        headers=registry.bearer(token),
    )
    assert revoked.status_code == 200

    trust = TrustStore()
    did = trust.add_did_document(client.get("/issuers/acme-cb/did.json").json())
    assert did == registry.acme.did
    for url in status_urls(credential).values():
        response = client.get(local(url, registry))
        assert response.status_code == 200
        assert response.headers["content-type"] == "application/vc+jwt"
        snapshot = trust.add_status_list(response.content)
        assert snapshot.bits is not None, snapshot.result

    result = verify(credential["token"], trust, now=registry.clock())

    assert result.verdict is Verdict.INVALID
    assert [(c.name, c.problem) for c in result.problems] == [
        ("status.revocation", "urn:aigov:problem:revoked")
    ]
    # ... while a credential that was not revoked is valid against the same lists.
    other = issue(client, registry, token)
    assert verify(other["token"], trust, now=registry.clock()).verdict is Verdict.VALID


def test_status_list_caching_headers(client: TestClient, registry: Registry, token: str) -> None:
    credential = issue(client, registry, token)
    url = local(status_urls(credential)["suspension"], registry)

    first = client.get(url)
    etag = first.headers["etag"]
    assert etag.startswith('"')
    assert not etag.startswith("W/")
    assert first.headers["cache-control"] == "public, max-age=300"
    assert first.headers["access-control-allow-origin"] == "*"

    not_modified = client.get(url, headers={"If-None-Match": etag})
    assert not_modified.status_code == 304
    assert not_modified.content == b""
    assert not_modified.headers["etag"] == etag
    assert client.get(url, headers={"If-None-Match": f'"other", W/{etag}'}).status_code == 304
    assert client.get(url, headers={"If-None-Match": '"other"'}).status_code == 200

    client.post(
        f"/api/v1/credentials/{credential['id']}/suspend",
        json={"reasonCode": "other"},
        headers=registry.bearer(token),
    )
    changed = client.get(url, headers={"If-None-Match": etag})
    assert changed.status_code == 200
    assert changed.headers["etag"] != etag


def test_issuer_did_document_and_jwks(client: TestClient, registry: Registry) -> None:
    did = client.get("/issuers/acme-cb/did.json")
    jwks = client.get("/issuers/acme-cb/jwks.json")

    assert did.headers["content-type"] == "application/did+json"
    assert did.json()["id"] == "did:web:registry.test.example:issuers:acme-cb"
    assert jwks.headers["content-type"] == "application/jwk-set+json"
    kids = [key.kid for key in parse_jwks(jwks.json())]
    assert kids == [record.kid for record in registry.keystore("acme-cb").records()]
    assert did.json()["assertionMethod"] == [f"{registry.acme.did}#{kid}" for kid in kids]


def test_registry_did_document_and_jwks(client: TestClient, registry: Registry) -> None:
    did = client.get("/.well-known/did.json").json()
    jwks = client.get("/.well-known/jwks.json").json()

    assert did["id"] == "did:web:registry.test.example"
    assert [key.kid for key in parse_jwks(jwks)] == [r.kid for r in registry.keystore("_registry").records()]


def test_retired_keys_stay_published(registry: Registry, tmp_path: Path) -> None:
    root = tmp_path / "keys"
    shutil.copytree(registry.settings.keystore_path, root)
    registry.settings = registry.settings.model_copy(update={"keystore_path": root})
    old = registry.keystore("acme-cb").active().kid
    with TestClient(registry.app()) as client:
        before = client.get("/issuers/acme-cb/jwks.json").json()
        registry.clock.advance(days=1)
        new = registry.keystore("acme-cb").rotate().kid
        after = client.get("/issuers/acme-cb/jwks.json").json()

    assert [k["kid"] for k in before["keys"]] == [old]
    published = {k["kid"]: k for k in after["keys"]}
    assert set(published) == {old, new}
    assert published[old]["expires"] == "2026-11-02T00:00:00Z"
    assert "expires" not in published[new]


def test_context_and_schema_documents(client: TestClient) -> None:
    data = resources.files("verifier").joinpath("data")
    context = client.get("/contexts/aigov/v1")
    schema = client.get("/schemas/aigov-certification-v1.json")

    assert context.headers["content-type"] == "application/ld+json"
    assert context.content == data.joinpath("aigov-context-v1.jsonld").read_bytes()
    assert schema.headers["content-type"] == "application/schema+json"
    assert json.loads(schema.content) == json.loads(
        data.joinpath("aigov-certification-v1.schema.json").read_bytes()
    )
    assert context.headers["access-control-allow-origin"] == "*"


def test_health_and_openapi(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    openapi = client.get("/openapi.json").json()
    paths = openapi["paths"]
    assert "/api/v1/credentials" in paths
    assert "/status/{list_id}" in paths
    issue_operation = paths["/api/v1/credentials"]["post"]
    assert "application/problem+json" in issue_operation["responses"]["422"]["content"]
    assert client.get("/docs").status_code == 200


def test_the_api_docs_page_runs_only_pinned_swagger_ui(client: TestClient) -> None:
    """Operators paste tokens into /docs: its scripts are one pinned release with integrity hashes, and the
    page's CSP admits nothing else (no other origin, no other inline script)."""
    response = client.get("/docs")
    page, csp = response.text, response.headers["content-security-policy"]

    assert response.headers["content-type"].startswith("text/html")
    sources = re.findall(r'<(?:script|link)[^>]* (?:src|href)="([^"]+)"', page)
    assert sources == [
        "https://cdn.jsdelivr.net/npm/swagger-ui-dist@5.35.0/swagger-ui.css",
        "https://cdn.jsdelivr.net/npm/swagger-ui-dist@5.35.0/swagger-ui-bundle.js",
    ]
    assert len(re.findall(r'integrity="sha384-[A-Za-z0-9+/]{64}" crossorigin="anonymous"', page)) == 2
    [inline] = re.findall(r"<script>(.*?)</script>", page, re.DOTALL)
    digest = base64.b64encode(hashlib.sha256(inline.encode()).digest()).decode()
    directives = dict(part.strip().split(" ", 1) for part in csp.split(";"))
    assert directives["script-src"] == (
        f"https://cdn.jsdelivr.net/npm/swagger-ui-dist@5.35.0/swagger-ui-bundle.js 'sha256-{digest}'"
    )
    assert directives["default-src"] == "'none'"
    assert directives["connect-src"] == "'self'"
    assert directives["frame-ancestors"] == "'none'"


def test_the_api_docs_page_follows_the_apps_mount_point(registry: Registry) -> None:
    with TestClient(registry.app(), root_path="/registry") as mounted:
        response = mounted.get("/docs")

    [inline] = re.findall(r"<script>(.*?)</script>", response.text, re.DOTALL)
    assert 'url: "/registry/openapi.json"' in inline
    assert "validatorUrl: null" in inline  # the document is never sent to validator.swagger.io
    digest = base64.b64encode(hashlib.sha256(inline.encode()).digest()).decode()
    assert f"'sha256-{digest}'" in response.headers["content-security-policy"]
