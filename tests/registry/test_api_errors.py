"""Bad input and faults: every error is RFC 9457 problem JSON with a type URI, never a 500 for bad input."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import httpx
import pytest
from fastapi.testclient import TestClient

from issuer import IssuedCredential, Issuer
from registry.models import Credential
from registry.signers import SignerSpec

if TYPE_CHECKING:
    from conftest import Registry

PARSING_ERROR = "https://www.w3.org/TR/vc-data-model#PARSING_ERROR"


def assert_problem(response: httpx.Response, status: int, type_uri: str | None = None) -> dict[str, Any]:
    """A problem document (RFC 9457 §3.1) with `status`, and no trace of a stack."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    problem: dict[str, Any] = response.json()
    assert problem["status"] == status
    assert problem["title"]
    assert problem["detail"]
    assert problem["type"].startswith(("urn:aigov:problem:", "https://www.w3.org/"))
    if type_uri is not None:
        assert problem["type"] == type_uri
    assert "Traceback" not in response.text
    assert 'File "' not in response.text
    return problem


def issue(
    client: TestClient, registry: Registry, token: str, body: Any = None, **kwargs: Any
) -> httpx.Response:
    if body is None and "content" not in kwargs:
        body = registry.decision()
    headers = {**registry.bearer(token), **kwargs.pop("headers", {})}
    return client.post("/api/v1/credentials", json=body, headers=headers, **kwargs)


def test_malformed_json(client: TestClient, registry: Registry, token: str) -> None:
    response = issue(
        client, registry, token, content=b'{"subject": ', headers={"Content-Type": "application/json"}
    )
    assert_problem(response, 400, PARSING_ERROR)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"colour": "blue"}, "colour"),
        (
            {"subject": {"legalName": {"en": "X"}, "corporateNumber": "1234567890123"}},
            "subject.corporateNumber",
        ),
        ({"validFrom": "2027-01-01T00:00:00Z", "validUntil": "2026-01-01T00:00:00Z"}, None),
        ({"level": ""}, "level"),
        ({"certificateNumber": "lower-case"}, "certificateNumber"),
        ({"aiRoles": ["ai_overlord"]}, "aiRoles.0"),
        ({"assessedOn": "2026-02-30"}, "assessedOn"),
    ],
    ids=[
        "unknown-field",
        "corporate-number",
        "valid-until-before-from",
        "empty-level",
        "number",
        "role",
        "date",
    ],
)
def test_invalid_decisions(
    client: TestClient, registry: Registry, token: str, change: dict[str, Any], field: str | None
) -> None:
    problem = assert_problem(issue(client, registry, token, registry.decision(**change)), 422)

    assert problem["type"] == "urn:aigov:problem:invalid-request"
    if field is not None:
        assert problem["errors"][0]["field"] == field
        assert problem["errors"][0]["in"] == "body"
    assert registry.count(Credential) == 0


def test_a_json_array_is_not_a_decision(client: TestClient, registry: Registry, token: str) -> None:
    assert_problem(issue(client, registry, token, [1, 2]), 422)


def test_domain_rules_are_422_or_409(client: TestClient, registry: Registry, token: str) -> None:
    wrong_scheme = assert_problem(
        issue(client, registry, token, registry.decision(scheme="another-scheme")), 422
    )
    assert wrong_scheme["errors"][0]["field"] == "scheme"
    unknown_level = assert_problem(issue(client, registry, token, registry.decision(level="7")), 422)
    assert unknown_level["errors"][0]["field"] == "level"

    decision = registry.decision()
    assert issue(client, registry, token, decision).status_code == 201
    assert_problem(issue(client, registry, token, decision), 409, "urn:aigov:problem:conflict")


def test_oversized_bodies_are_refused_before_parsing(registry: Registry, token: str) -> None:
    registry.settings = registry.settings.model_copy(update={"max_body_bytes": 4096})
    big = registry.decision(scope="x" * 5000)
    with TestClient(registry.app()) as client:
        declared = client.post("/api/v1/credentials", json=big, headers=registry.bearer(token))
        assert_problem(declared, 413, "urn:aigov:problem:payload-too-large")
        # Refused before authentication, let alone parsing.
        assert_problem(client.post("/api/v1/credentials", json=big), 413)

        def chunks() -> Iterator[bytes]:  # no Content-Length: counted as it streams
            yield b'{"scope": "'
            for _ in range(10):
                yield b"x" * 1000
            yield b'"}'

        streamed = client.post(
            "/api/v1/credentials",
            content=chunks(),
            headers={**registry.bearer(token), "Content-Type": "application/json"},
        )
        assert "content-length" not in streamed.request.headers
        assert_problem(streamed, 413, "urn:aigov:problem:payload-too-large")
        fine = client.post("/api/v1/credentials", json=registry.decision(), headers=registry.bearer(token))
        assert fine.status_code == 201
    assert registry.count(Credential) == 1


def test_the_default_cap_is_one_mebibyte(client: TestClient, registry: Registry, token: str) -> None:
    body = b"[" + b" " * (1024 * 1024) + b"]"
    response = client.post(
        "/api/v1/credentials/batch",
        content=body,
        headers={**registry.bearer(token), "Content-Type": "application/json"},
    )
    assert_problem(response, 413)


def test_unknown_routes_and_methods(client: TestClient) -> None:
    assert_problem(client.get("/no/such/thing"), 404, "urn:aigov:problem:not-found")
    wrong_method = assert_problem(
        client.delete("/api/v1/credentials/x"), 405, "urn:aigov:problem:method-not-allowed"
    )
    assert wrong_method["instance"] == "/api/v1/credentials/x"
    assert_problem(client.get("/status/abc"), 404)
    assert_problem(client.get("/status/999"), 404)
    assert_problem(client.get("/issuers/nobody/did.json"), 404)
    # No redirect to "the same path without its slash" at the request's own Host header.
    for path in ("/verify/", "/api/v1/credentials/", "/status/1/"):
        answer = client.get(path, headers={"Host": "evil.example"}, follow_redirects=False)
        assert answer.status_code == 404, path
        assert "location" not in answer.headers


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("suspend", {"reasonCode": "because"}),
        ("suspend", {}),
        ("revoke", {"reasonCode": "superseded"}),
        ("revoke", {"reasonCode": "other", "reason": ""}),
        ("revoke", {"reasonCode": "other", "extra": 1}),
        ("reinstate", {"reason": "x" * 2001}),
    ],
)
def test_invalid_status_changes(
    client: TestClient, registry: Registry, token: str, path: str, body: dict[str, Any]
) -> None:
    credential = issue(client, registry, token).json()
    response = client.post(
        f"/api/v1/credentials/{credential['id']}/{path}", json=body, headers=registry.bearer(token)
    )
    assert_problem(response, 422)


def test_invalid_idempotency_key(client: TestClient, registry: Registry, token: str) -> None:
    response = issue(client, registry, token, headers={"Idempotency-Key": "k" * 300})
    problem = assert_problem(response, 422)
    assert problem["errors"][0] == {
        "in": "header",
        "field": "Idempotency-Key",
        "detail": problem["errors"][0]["detail"],
    }


def test_status_change_of_an_unknown_credential(client: TestClient, registry: Registry, token: str) -> None:
    for cid in ("00000000-0000-4000-8000-000000000000", "nope"):
        response = client.post(
            f"/api/v1/credentials/{cid}/revoke", json={"reasonCode": "other"}, headers=registry.bearer(token)
        )
        assert_problem(response, 404)


class _BrokenIssuer(Issuer):
    def issue(self, *args: Any, **kwargs: Any) -> IssuedCredential:
        raise RuntimeError("secret internal detail /etc/aigov")


def _broken(spec: SignerSpec) -> Issuer:
    return _BrokenIssuer(
        identity=spec.identity,
        signing_key=spec.signing_key,
        published_keys=spec.published_keys,
        scheme=spec.scheme,
        registry_url=spec.registry_url,
    )


def test_an_internal_error_is_a_500_problem_without_details(registry: Registry, token: str) -> None:
    with TestClient(registry.app(issuer_factory=_broken), raise_server_exceptions=False) as client:
        response = issue(client, registry, token)

    problem = assert_problem(response, 500, "urn:aigov:problem:internal-error")
    assert "secret internal detail" not in response.text
    assert problem["instance"].startswith("urn:uuid:")
    assert registry.count(Credential) == 0


def test_a_body_without_a_key_cannot_sign(registry: Registry, tmp_path: Any, token: str) -> None:
    settings = registry.settings.model_copy(update={"keystore_path": tmp_path / "empty"})
    registry.settings = settings
    with TestClient(registry.app()) as client:
        response = issue(client, registry, token)

    problem = assert_problem(response, 503, "urn:aigov:problem:signing-unavailable")
    assert "keystore" not in problem["detail"]
