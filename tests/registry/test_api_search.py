"""GET /api/v1/credentials: search, filters, cursor pagination, and every bad input as a 400 problem."""

from __future__ import annotations

import base64
import uuid
from typing import TYPE_CHECKING, Any

import httpx
import pytest
from fastapi.testclient import TestClient

from issuer import CertificationDecision
from registry import lifecycle
from registry.lifecycle import Context
from registry.models import CertificationBody, Credential, ReasonCode
from verifier._corporate_number import corporate_number_check_digit

if TYPE_CHECKING:
    from conftest import Registry

URL = "/api/v1/credentials"
INVALID_REQUEST = "urn:aigov:problem:invalid-request"
PUBLIC_FIELDS = {
    "id",
    "url",
    "certificateNumber",
    "legalNameEn",
    "legalNameJa",
    "corporateNumber",
    "website",
    "scheme",
    "level",
    "scope",
    "aiRoles",
    "issuer",
    "issuerNameEn",
    "issuerNameJa",
    "issuerDid",
    "validFrom",
    "validUntil",
    "nextSurveillanceDue",
    "status",
    "statusReasonCode",
    "statusChangedAt",
    "updatedAt",
}


def corporate_number(base: int) -> str:
    digits = f"{base:012d}"
    return f"{corporate_number_check_digit(digits)}{digits}"


def company(en: str, ja: str | None = None, number: str | None = None) -> dict[str, Any]:
    subject: dict[str, Any] = {"legalName": {"en": en, **({"ja": ja} if ja else {})}}
    if number:
        subject["corporateNumber"] = number
    return {"subject": subject}


def issue(
    registry: Registry, ctx: Context, body: CertificationBody | None = None, **overrides: Any
) -> Credential:
    decision = CertificationDecision.model_validate(registry.decision(**overrides))
    with registry.session() as session:
        return lifecycle.issue(
            session=session, ctx=ctx, body=body or registry.acme, decision=decision, actor="test"
        ).credentials[0]


def change(registry: Registry, ctx: Context, verb: str, credential: Credential, **kwargs: Any) -> Any:
    body = registry.acme if credential.issuer_id == registry.acme.id else registry.other
    with registry.session() as session:
        return getattr(lifecycle, verb)(
            session=session, ctx=ctx, body=body, credential_id=credential.id, actor="test", **kwargs
        )


def found(client: TestClient, **params: Any) -> list[str]:
    """The certificate numbers a search returns (one page of up to 200)."""
    response = client.get(URL, params={"limit": 200, **params})
    assert response.status_code == 200, response.text
    return sorted(item["certificateNumber"] for item in response.json()["items"])


def assert_problem(response: httpx.Response, field: str | None = None) -> dict[str, Any]:
    """A 400 problem document (RFC 9457) naming `field`, and no trace of a stack."""
    assert response.status_code == 400, response.text
    assert response.headers["content-type"] == "application/problem+json"
    problem: dict[str, Any] = response.json()
    assert problem["type"] == INVALID_REQUEST
    assert problem["status"] == 400
    assert problem["title"] == "Bad Request"
    assert problem["detail"]
    assert "Traceback" not in response.text
    if field is not None:
        assert problem["errors"][0]["in"] == "query"
        assert problem["errors"][0]["field"] == field
    return problem


# -- search ---------------------------------------------------------------------------------------------------


@pytest.fixture
def companies(registry: Registry) -> dict[str, Credential]:
    ctx = registry.context()
    return {
        "acme": issue(registry, ctx, **company("ACME Corp.", "アクメ株式会社", "7000012050002")),
        "percent": issue(registry, ctx, **company("100% Pure Water Ltd.", "ピュアウォーター株式会社")),
        "under": issue(registry, ctx, **company("Snake_Case Systems", None, corporate_number(123456789012))),
        "gamma": issue(
            registry, ctx, registry.other, **company("Gamma K.K.", "ガンマ株式会社", corporate_number(42))
        ),
    }


def test_q_matches_names_in_both_languages_case_insensitively(
    client: TestClient, companies: dict[str, Credential]
) -> None:
    acme = [companies["acme"].certificate_number]
    assert found(client, q="acme") == acme
    assert found(client, q="aCmE cOrP") == acme
    assert found(client, q="アクメ") == acme
    assert found(client, q="株式会社") == sorted(
        companies[k].certificate_number for k in ("acme", "percent", "gamma")
    )
    assert found(client, q="  gamma  ") == [companies["gamma"].certificate_number]
    assert found(client, q="no such company") == []


def test_q_matches_corporate_and_certificate_numbers_exactly(
    client: TestClient, companies: dict[str, Credential]
) -> None:
    gamma = companies["gamma"]
    assert gamma.corporate_number is not None
    assert found(client, q=gamma.corporate_number) == [gamma.certificate_number]
    # Full-width digits and separators, as people type them, name the same corporate number.
    full_width = "".join(chr(ord(digit) + 0xFEE0) for digit in gamma.corporate_number)  # U+FF10..U+FF19
    assert found(client, q=full_width) == [gamma.certificate_number]
    hyphenated = f"{gamma.corporate_number[:1]}-{gamma.corporate_number[1:5]}-{gamma.corporate_number[5:]}"
    assert found(client, q=hyphenated) == [gamma.certificate_number]
    # 13 digits are a corporate number, never a substring of something else.
    assert found(client, q=gamma.corporate_number[:12]) == []
    assert found(client, q=gamma.certificate_number.lower()) == [gamma.certificate_number]
    assert found(client, q=gamma.certificate_number[:-1]) == []  # exact, not a prefix


def test_like_metacharacters_and_sql_are_literal(
    client: TestClient, companies: dict[str, Credential]
) -> None:
    assert found(client) == sorted(c.certificate_number for c in companies.values())
    assert found(client, q="%") == [companies["percent"].certificate_number]
    assert found(client, q="_") == [companies["under"].certificate_number]
    assert found(client, q="100%") == [companies["percent"].certificate_number]
    assert found(client, q="e_c") == [companies["under"].certificate_number]  # not "any one character"
    assert found(client, q="\\") == []
    for hostile in ("' OR '1'='1", "'; DROP TABLE credentials; --", '" OR ""="', "%' --", "[a-z]*"):
        assert found(client, q=hostile) == []
    assert len(found(client)) == 4  # the table is still there


def test_items_carry_public_fields_only(
    client: TestClient, registry: Registry, companies: dict[str, Credential]
) -> None:
    response = client.get(URL, params={"q": "acme"})
    assert response.headers["access-control-allow-origin"] == "*"
    [item] = response.json()["items"]
    assert set(item) == PUBLIC_FIELDS
    acme = companies["acme"]
    assert item["id"] == str(acme.id)
    assert item["url"] == f"{registry.settings.public_url}/credentials/{acme.id}"
    assert item["legalNameJa"] == "アクメ株式会社"
    assert item["corporateNumber"] == "7000012050002"
    assert (item["issuer"], item["issuerNameEn"], item["issuerDid"]) == (
        "acme-cb",
        "ACME Certification",
        registry.acme.did,
    )
    assert (item["status"], item["statusReasonCode"], item["statusChangedAt"]) == ("active", None, None)
    assert item["validFrom"] == "2026-11-01T00:00:00Z"
    assert item["updatedAt"] == "2026-11-01T00:00:00Z"
    assert acme.token not in response.text


# -- filters --------------------------------------------------------------------------------------------------


def test_filters_by_status_level_issuer_validity_and_update_time(
    client: TestClient, registry: Registry
) -> None:
    ctx = registry.context()
    clock = registry.clock
    active = issue(registry, ctx, level="1")
    suspended = issue(registry, ctx)
    revoked = issue(registry, ctx)
    renewed = issue(registry, ctx)
    other = issue(registry, ctx, registry.other, level="3")
    clock.advance(days=10)
    change(registry, ctx, "suspend", suspended, reason_code=ReasonCode.NONCONFORMITY)
    change(registry, ctx, "revoke", revoked, reason_code=ReasonCode.MISUSE_OF_MARK)
    renewal = change(
        registry, ctx, "renew", renewed, decision=CertificationDecision.model_validate(registry.decision())
    )
    number = {c.id: c.certificate_number for c in (active, suspended, revoked, renewed, other, renewal)}

    def numbers(*credentials: Credential) -> list[str]:
        return sorted(number[c.id] for c in credentials)

    assert found(client, status="active") == numbers(active, other, renewal)
    assert found(client, status="suspended") == numbers(suspended)
    assert found(client, status="revoked") == numbers(revoked)
    assert found(client, status="superseded") == numbers(renewed)
    assert found(client, status="expired") == []
    assert found(client, level="1") == numbers(active)
    assert found(client, level="3") == numbers(other)
    assert found(client, issuer="other-cb") == numbers(other)
    assert found(client, issuer="acme-cb", status="active") == numbers(active, renewal)
    assert found(client, updated_since="2026-11-05T00:00:00Z") == numbers(
        suspended, revoked, renewed, renewal
    )
    assert found(client, updated_since="2026-11-11T09:00:00+09:00") == numbers(
        suspended, revoked, renewed, renewal
    )
    [item] = client.get(URL, params={"status": "revoked"}).json()["items"]
    assert (item["statusReasonCode"], item["statusChangedAt"]) == ("misuse_of_mark", "2026-11-11T00:00:00Z")

    # Three years on, the first five have expired — except what was final before: revoked and superseded.
    first_until = registry.credential(active.id).valid_until
    renewal_until = registry.credential(renewal.id).valid_until
    assert first_until < renewal_until
    assert found(client, valid_on="2026-10-31") == []
    assert found(client, valid_on="2026-11-01") == numbers(active, suspended, revoked, renewed, other)
    assert found(client, valid_on=first_until.date().isoformat()) == sorted(number.values())
    clock.now = first_until + (renewal_until - first_until) / 2
    assert found(client, status="expired") == numbers(active, suspended, other)
    assert found(client, status="active") == numbers(renewal)
    assert found(client, status="suspended") == []
    assert found(client, status="revoked") == numbers(revoked)
    [item] = client.get(URL, params={"q": number[suspended.id]}).json()["items"]
    assert (item["status"], item["statusReasonCode"]) == ("expired", "nonconformity")
    assert found(client, valid_on=clock.now.date().isoformat()) == numbers(renewal)


# -- pagination -----------------------------------------------------------------------------------------------


def pages(client: TestClient, registry: Registry, url: str, **params: Any) -> list[list[dict[str, Any]]]:
    """Every page, following the Link header, checking it against nextCursor."""
    result = []
    response = client.get(url, params=params)
    while True:
        assert response.status_code == 200, response.text
        page = response.json()
        result.append(page["items"])
        if page["nextCursor"] is None:
            assert "link" not in response.headers
            return result
        link = response.headers["link"]
        assert link.endswith('>; rel="next"')
        target = link[1 : -len('>; rel="next"')]
        assert target.startswith(registry.settings.public_url + url + "?")
        assert httpx.URL(target).params["cursor"] == page["nextCursor"]
        response = client.get(target.removeprefix(registry.settings.public_url))


def test_cursor_pagination_is_a_total_order(client: TestClient, registry: Registry) -> None:
    ctx = registry.context()
    # The clock stands still: all seven share one updated_at, and the id alone breaks the ties.
    issued = [issue(registry, ctx) for _ in range(7)]
    walked = pages(client, registry, URL, limit=3)
    assert [len(page) for page in walked] == [3, 3, 1]
    ids = [item["id"] for page in walked for item in page]
    assert ids == sorted(str(c.id) for c in issued)  # uuid order is hex order on both backends

    exact = pages(client, registry, URL, limit=7)
    assert [len(page) for page in exact] == [7]

    filtered = pages(client, registry, URL, limit=2, issuer="acme-cb", status="active")
    assert [item["id"] for page in filtered for item in page] == ids


def test_a_follower_sees_a_change_made_while_it_pages(client: TestClient, registry: Registry) -> None:
    ctx = registry.context()
    issued = [issue(registry, ctx) for _ in range(5)]
    first = client.get(URL, params={"limit": 2}).json()
    seen = [item["id"] for item in first["items"]]
    # Between two pages, one certificate already seen is suspended: it moves past the cursor.
    registry.clock.advance(minutes=1)
    change(registry, ctx, "suspend", registry.credential(uuid.UUID(seen[0])), reason_code=ReasonCode.OTHER)
    rest = []
    cursor = first["nextCursor"]
    while cursor:
        page = client.get(URL, params={"limit": 2, "cursor": cursor}).json()
        rest.extend(page["items"])
        cursor = page["nextCursor"]
    assert {item["id"] for item in rest} | set(seen) == {str(c.id) for c in issued}  # nothing skipped
    assert rest[-1]["id"] == seen[0]
    assert rest[-1]["status"] == "suspended"


def test_a_cursor_belongs_to_its_filters(client: TestClient, registry: Registry) -> None:
    ctx = registry.context()
    for _ in range(3):
        issue(registry, ctx)
    cursor = client.get(URL, params={"limit": 1, "status": "active"}).json()["nextCursor"]
    assert client.get(URL, params={"limit": 1, "status": "active", "cursor": cursor}).status_code == 200
    problem = assert_problem(client.get(URL, params={"limit": 1, "cursor": cursor}), "cursor")
    assert "filters" in problem["detail"]
    assert_problem(client.get(URL, params={"limit": 1, "status": "revoked", "cursor": cursor}), "cursor")


def tampered(cursor: str) -> list[str]:
    """Well-formed base64url cursors that differ from `cursor`: a changed key, tag or version."""
    raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    body, _, tag = raw.rpartition(".")
    kind, micros, key = body.split(".")
    variants = [
        f"{kind}.{int(micros) + 1}.{key}.{tag}",
        f"{kind}.{micros}.{key[:-1]}{'0' if key[-1] != '0' else '1'}.{tag}",
        f"{kind}.{micros}.{key}.{tag[:-1]}{'0' if tag[-1] != '0' else '1'}",
        f"c2.{micros}.{key}.{tag}",
        f"e1.{micros}.{key}.{tag}",
        f"{kind}.{micros}.{key}",
        f"{kind}.-1.{key}.{tag}",
        f"{kind}.99999999999999999.{key}.{tag}",
    ]
    return [base64.urlsafe_b64encode(v.encode()).rstrip(b"=").decode() for v in variants]


def test_malformed_and_tampered_cursors_are_400(client: TestClient, registry: Registry) -> None:
    ctx = registry.context()
    for _ in range(2):
        issue(registry, ctx)
    cursor = client.get(URL, params={"limit": 1}).json()["nextCursor"]
    assert cursor
    bad = [
        *tampered(cursor),
        "",
        "x",
        "not a cursor",
        "!!!!",
        cursor + "=",
        cursor + "A",
        cursor[:-1],
        cursor.replace("-", "+").replace("_", "/") + "+/",
        base64.urlsafe_b64encode(b"\xff\xfe\x00garbage").decode(),
        base64.urlsafe_b64encode(b'{"updated_at": 0}').decode(),
        "A" * 201,
    ]
    for value in bad:
        response = client.get(URL, params={"limit": 1, "cursor": value})
        assert_problem(response, "cursor")


# -- bad input ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("params", "field", "says"),
    [
        ({"limit": "0"}, "limit", "greater than or equal to 1"),
        ({"limit": "201"}, "limit", "less than or equal to 200"),
        ({"limit": "ten"}, "limit", "integer"),
        ({"limit": "1.5"}, "limit", "integer"),
        ({"status": "valid"}, "status", "'active', 'suspended', 'revoked', 'superseded' or 'expired'"),
        ({"status": "ACTIVE"}, "status", "'active'"),
        ({"level": "9"}, "level", "one of: 1, 2, 3"),
        ({"issuer": "nobody-cb"}, "issuer", "certification body"),
        ({"issuer": "../../etc"}, "issuer", "certification body"),
        ({"valid_on": "2026-13-01"}, "valid_on", "2026-11-01"),
        ({"valid_on": "20261101"}, "valid_on", "2026-11-01"),
        ({"valid_on": "tomorrow"}, "valid_on", "2026-11-01"),
        ({"valid_on": "2026-11-01T00:00:00Z"}, "valid_on", "2026-11-01"),
        ({"updated_since": "2026-11-01T00:00:00"}, "updated_since", "time zone"),
        ({"updated_since": "2026-11-01"}, "updated_since", "time zone"),
        ({"updated_since": "1700000000"}, "updated_since", "time zone"),
        ({"updated_since": "2026-02-30T00:00:00Z"}, "updated_since", "time zone"),
        (
            {"updated_since": "0001-01-01T00:00:00+01:00"},
            "updated_since",
            "time zone",
        ),  # before year 1 in UTC
        ({"updated_since": "10000-01-01T00:00:00Z"}, "updated_since", "time zone"),
        ({"q": "x" * 201}, "q", "at most 200 characters"),
        ({"q": "acme\x00"}, "q", "control characters"),
        ({"updatedSince": "2026-11-01T00:00:00Z"}, "updatedSince", "unknown query parameter"),
    ],
)
def test_bad_parameters_are_400_problems(
    client: TestClient, params: dict[str, str], field: str, says: str
) -> None:
    problem = assert_problem(client.get(URL, params=params), field)
    assert says in problem["errors"][0]["detail"]
    assert problem["detail"].startswith(f"{field}: ")


def test_extreme_but_valid_values_are_fine(client: TestClient, registry: Registry) -> None:
    issue(registry, registry.context())
    assert found(client, q="株" * 200) == []
    assert found(client, valid_on="9999-12-31") == []
    assert found(client, valid_on="0001-01-01") == []
    assert found(client, updated_since="9999-12-31T23:59:59.999999Z") == []
    assert len(found(client, updated_since="0001-01-01T00:00:00Z")) == 1
    assert len(found(client, updated_since="2026-11-01T09:00:00+09:00")) == 1


# -- OpenAPI --------------------------------------------------------------------------------------------------


def test_the_public_api_is_documented(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    paths = spec["paths"]
    search = paths["/api/v1/credentials"]["get"]
    assert "security" not in search
    assert {p["name"] for p in search["parameters"]} == {
        "q",
        "status",
        "level",
        "issuer",
        "valid_on",
        "updated_since",
        "limit",
        "cursor",
    }
    assert "application/problem+json" in search["responses"]["400"]["content"]
    assert "422" not in search["responses"]  # bad query parameters are 400 here
    page = search["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]
    assert page.endswith("/CredentialPage")
    schemas = spec["components"]["schemas"]
    assert schemas["CredentialSummary"]["examples"][0]["certificateNumber"]
    assert set(schemas["CredentialSummary"]["properties"]) == PUBLIC_FIELDS
    for path in ("/api/v1/events", "/api/v1/export", "/api/v1/stats"):
        assert "get" in paths[path]
    export = paths["/api/v1/export"]["get"]
    assert set(export["responses"]["200"]["content"]) == {
        "text/csv; charset=utf-8; header=present",
        "application/jsonl",
    }
    assert "Content-Disposition" in export["responses"]["200"]["headers"]
