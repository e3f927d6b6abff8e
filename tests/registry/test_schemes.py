"""The URLs certificates name their scheme and level by resolve on the registry that issued them."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import pytest
from fastapi.testclient import TestClient

from keys import b64url_decode
from verifier import OB3_CONTEXT

if TYPE_CHECKING:
    from conftest import Registry


def issued_claims(client: TestClient, registry: Registry, token: str) -> dict[str, Any]:
    response = client.post("/api/v1/credentials", json=registry.decision(), headers=registry.bearer(token))
    assert response.status_code == 201, response.text
    claims: dict[str, Any] = json.loads(b64url_decode(response.json()["token"].split(".")[1]))
    return claims


def test_a_certificates_achievement_id_serves_that_achievement(
    client: TestClient, registry: Registry, token: str
) -> None:
    embedded = issued_claims(client, registry, token)["credentialSubject"]["achievement"]
    assert embedded["id"].startswith(registry.settings.public_url + "/schemes/")

    response = client.get(embedded["id"].removeprefix(registry.settings.public_url))

    assert response.status_code == 200
    assert response.headers["content-type"] == "application/ld+json"
    assert response.headers["access-control-allow-origin"] == "*"
    assert response.json() == {"@context": [OB3_CONTEXT], **embedded}


def test_the_scheme_lists_its_levels_as_the_certificates_embed_them(
    client: TestClient, registry: Registry, token: str
) -> None:
    embedded = issued_claims(client, registry, token)["credentialSubject"]["achievement"]
    scheme_url = embedded["id"].rsplit("/levels/", 1)[0]

    scheme = client.get(scheme_url.removeprefix(registry.settings.public_url)).json()

    assert scheme["id"] == scheme_url
    assert scheme["example"] is True  # the bundled demonstration scheme says so wherever it is shown
    assert [level["id"].rsplit("/", 1)[1] for level in scheme["levels"]] == ["1", "2", "3"]
    assert embedded in scheme["levels"]


@pytest.mark.parametrize(
    "path",
    [
        "/schemes/no-such-scheme",
        "/schemes/no-such-scheme/levels/1",
        "/schemes/example-aigov-scheme/levels/9",
        "/schemes/example-aigov-scheme/levels/" + "9" * 5000,
        "/schemes/%E2%80%AE%00",
        "/schemes/..%2F..%2Fetc%2Fpasswd/levels/1",
    ],
)
def test_unknown_schemes_and_levels_are_404_problems(client: TestClient, path: str) -> None:
    response = client.get(path)

    assert response.status_code == 404, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["status"] == 404
