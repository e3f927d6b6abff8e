"""The published JSON Schema and the runtime profile (`validate_certificate`) accept and refuse alike.

The verifier validates with pydantic (≈15 µs against ≈170 µs, benchmarks/README.md); verifier/data holds the JSON
Schema (draft 2020-12) we publish for everyone else. A corpus of credential variants, valid ones and invalid
ones each breaking one rule, goes through both. The rules JSON Schema cannot state are listed in
MODEL_ONLY: the schema lets those through, the model must not.
"""

from __future__ import annotations

import copy
import json
import typing
from datetime import UTC, datetime
from importlib import resources
from typing import Any

import pytest
from jsonschema import Draft202012Validator
from pydantic import ValidationError

from issuer import CertificationDecision, IssuerIdentity, StatusSlot, build_credential, load_scheme
from verifier import validate_certificate
from verifier._model import AIRole, describe_validation_error

SCHEMA_RESOURCE = "data/aigov-certification-v1.schema.json"
REGISTRY = "https://registry.example"
# 7000012050002 in full-width digits, as Japanese forms often write it.
FULL_WIDTH_NUMBER = "7000012050002".translate({ord("0") + i: 0xFF10 + i for i in range(10)})
DROP: Any = object()
Change = dict[str, Any]


def load_schema() -> dict[str, Any]:
    schema: dict[str, Any] = json.loads(
        resources.files("verifier").joinpath(SCHEMA_RESOURCE).read_text("utf-8")
    )
    return schema


SCHEMA = load_schema()
# What the schema promises to any draft 2020-12 validator (formats are annotations by default) ...
PLAIN = Draft202012Validator(SCHEMA)
# ... and to one that asserts formats (here: `date`; `date-time` needs a package jsonschema does not require).
FORMATS = Draft202012Validator(SCHEMA, format_checker=Draft202012Validator.FORMAT_CHECKER)


def base() -> dict[str, Any]:
    decision = CertificationDecision.model_validate(
        {
            "subject": {
                "id": "did:web:acme.example",
                "legalName": {"en": "ACME Corp.", "ja": "アクメ株式会社"},
                "corporateNumber": "7000012050002",
                "website": "https://acme.example",
            },
            "scheme": "example-aigov-scheme",
            "level": "2",
            "scope": "AI systems of the Retail Banking unit",
            "aiRoles": ["ai_developer", "ai_provider"],
            "certificateNumber": "AIGC-2026-000123",
            "assessedOn": "2026-10-20",
        }
    )
    return build_credential(
        decision,
        issuer=IssuerIdentity("did:web:cb.example", "Example Certification Body", "例示認証機関"),
        scheme=load_scheme(),
        registry_url=REGISTRY,
        credential_id=f"{REGISTRY}/credentials/0f7c1c8e-3d5a-4a39-9d7e-0c1d2e3f4a5b",
        revocation=StatusSlot(f"{REGISTRY}/status/1", 48213),
        suspension=StatusSlot(f"{REGISTRY}/status/2", 1234),
        now=datetime(2026, 11, 1, tzinfo=UTC),
    )


BASE = base()


def variant(changes: Change) -> dict[str, Any]:
    """BASE with members set, or removed with DROP; a path is dotted, digits index lists. A callable value is
    applied to the current value."""
    document = copy.deepcopy(BASE)
    for path, value in changes.items():
        *parents, last = path.split(".")
        node: Any = document
        for part in parents:
            node = node[int(part)] if isinstance(node, list) else node[part]
        key: Any = int(last) if isinstance(node, list) else last
        if value is DROP:
            del node[key]
        elif callable(value):
            node[key] = value(node[key])
        else:
            node[key] = value
    return document


def model_accepts(document: dict[str, Any]) -> bool:
    try:
        validate_certificate(document)
    except ValidationError:
        return False
    return True


def model_error(document: dict[str, Any]) -> str:
    with pytest.raises(ValidationError) as caught:
        validate_certificate(document)
    return describe_validation_error(caught.value)


VC2 = "https://www.w3.org/ns/credentials/v2"
OB3 = "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"
AIGOV = f"{REGISTRY}/contexts/aigov/v1"
SUBJECT = "credentialSubject"
CERT = "credentialSubject.certification"


def _swap(items: list[Any]) -> list[Any]:
    return list(reversed(items))


VALID: dict[str, Change] = {
    "as built": {},
    "no optional subject members": {
        f"{SUBJECT}.id": DROP,
        f"{SUBJECT}.corporateNumber": DROP,
        f"{SUBJECT}.website": DROP,
    },
    "optional members null (null is absent)": {
        f"{SUBJECT}.id": None,
        f"{SUBJECT}.corporateNumber": None,
        f"{SUBJECT}.website": None,
        f"{CERT}.nextSurveillanceDue": None,
        "description": None,
    },
    "with a description": {"description": "Certified after a stage-2 audit."},
    "unknown members on JSON-LD nodes": {
        "evidence": [{"id": "https://cb.example/audits/1", "type": ["Evidence"]}],
        "issuer.url": "https://cb.example",
        f"{SUBJECT}.image": "https://acme.example/logo.png",
        f"{SUBJECT}.achievement.tag": ["ai"],
        f"{SUBJECT}.achievement.criteria.id": "https://registry.example/criteria/2",
        "credentialStatus.0.statusSize": 1,
        "credentialSchema.digestSRI": "sha384-abc",
    },
    "an extra inline context": {"@context": lambda c: [*c, {"ex": "https://example.org/vocab#"}]},
    "aigov context before OB's": {"@context": [VC2, AIGOV, OB3]},
    "aigov context of another registry": {"@context": [VC2, OB3, "https://other.example/contexts/aigov/v1"]},
    "more types": {"type": lambda t: [*t, "ExampleCredential"], "issuer.type": ["Profile", "Organization"]},
    "legal name in Japanese only": {f"{SUBJECT}.legalName": {"ja": "アクメ株式会社"}},
    "legal name in English only": {f"{SUBJECT}.legalName": {"en": "ACME Corp."}},
    "legal name en null, ja given": {f"{SUBJECT}.legalName": {"en": None, "ja": "アクメ株式会社"}},
    "no surveillance date": {f"{CERT}.nextSurveillanceDue": DROP},
    "no standards": {f"{CERT}.standards": DROP},
    "empty standards": {f"{CERT}.standards": []},
    "all three roles": {f"{CERT}.aiRoles": ["ai_business_user", "ai_provider", "ai_developer"]},
    "validFrom equals validUntil": {
        "validFrom": "2027-01-01T00:00:00Z",
        "validUntil": "2027-01-01T00:00:00Z",
    },
    "offsets and fractions": {
        "validFrom": "2026-11-01T09:00:00.250+09:00",
        "validUntil": "2029-10-31T23:59:59-05:00",
    },
    "status entries in the other order": {"credentialStatus": _swap},
    "status entries without ids": {"credentialStatus.0.id": DROP, "credentialStatus.1.id": DROP},
    "index 0": {"credentialStatus.0.statusListIndex": "0"},
    "urn ids": {"id": "urn:uuid:0f7c1c8e-3d5a-4a39-9d7e-0c1d2e3f4a5b"},
    "certificate number at its longest": {f"{CERT}.certificateNumber": "A" * 64},
    "name at its longest": {"name": "n" * 500},
}

INVALID: dict[str, Change] = {
    **{f"no {member}": {member: DROP} for member in BASE if member != "@context"},
    "no @context": {"@context": DROP},
    "@context: v2 not first": {"@context": [OB3, VC2, AIGOV]},
    "@context: no OB context": {"@context": [VC2, AIGOV, "https://example.org/other"]},
    "@context: no aigov context": {"@context": [VC2, OB3, "https://example.org/other"]},
    "@context: aigov path with a trailing newline": {"@context": [VC2, OB3, AIGOV + "\n"]},
    "@context: a number": {"@context": lambda c: [*c, 5]},
    "@context: a string": {"@context": VC2},
    "@context: too many": {"@context": lambda c: c + [{}] * 8},
    "type: no AIGovernanceCertification": {"type": ["VerifiableCredential", "OpenBadgeCredential"]},
    "type: a string": {"type": "AIGovernanceCertification"},
    "id: not a URL": {"id": "0f7c1c8e-3d5a-4a39-9d7e-0c1d2e3f4a5b"},
    "id: a space": {"id": "https://registry.example/credentials/a b"},
    "id: a trailing newline": {"id": "https://registry.example/credentials/1\n"},
    "name: empty": {"name": ""},
    "name: too long": {"name": "n" * 501},
    "description: empty": {"description": ""},
    "issuer: a plain DID": {"issuer": "did:web:cb.example"},
    "issuer: no Profile type": {"issuer.type": ["Organization"]},
    "issuer: no name": {"issuer.name": DROP},
    "validFrom: no time zone": {"validFrom": "2026-11-01T00:00:00"},
    "validFrom: a date": {"validFrom": "2026-11-01"},
    "validUntil: five-digit year": {"validUntil": "12029-10-31T23:59:59Z"},
    "validUntil: a number": {"validUntil": 1888185599},
    "subject: an array": {SUBJECT: lambda s: [s]},
    "subject: no AchievementSubject type": {f"{SUBJECT}.type": ["Organization"]},
    "subject: no legalName": {f"{SUBJECT}.legalName": DROP},
    "legalName: a third language (closed)": {f"{SUBJECT}.legalName.fr": "ACME SA"},
    "legalName: empty": {f"{SUBJECT}.legalName": {}},
    "legalName: both null": {f"{SUBJECT}.legalName": {"en": None, "ja": None}},
    "legalName: empty text": {f"{SUBJECT}.legalName.en": ""},
    "legalName: a string": {f"{SUBJECT}.legalName": "ACME Corp."},
    "corporateNumber: 12 digits": {f"{SUBJECT}.corporateNumber": "700001205000"},
    "corporateNumber: trailing newline": {f"{SUBJECT}.corporateNumber": "7000012050002\n"},
    "corporateNumber: a number": {f"{SUBJECT}.corporateNumber": 7000012050002},
    "corporateNumber: full-width digits": {f"{SUBJECT}.corporateNumber": FULL_WIDTH_NUMBER},
    "website: http": {f"{SUBJECT}.website": "http://acme.example"},
    "achievement: no criteria": {f"{SUBJECT}.achievement.criteria": DROP},
    "achievement: no Achievement type": {f"{SUBJECT}.achievement.type": ["Badge"]},
    "achievement: no narrative": {f"{SUBJECT}.achievement.criteria": {"id": "https://registry.example/c"}},
    "certification: unknown member (closed)": {f"{CERT}.auditor": "J. Smith"},
    "certification: no certificateNumber": {f"{CERT}.certificateNumber": DROP},
    "certification: no assessedOn": {f"{CERT}.assessedOn": DROP},
    "certificateNumber: lower case": {f"{CERT}.certificateNumber": "aigc-2026-000123"},
    "certificateNumber: too short": {f"{CERT}.certificateNumber": "AB"},
    "certificateNumber: too long": {f"{CERT}.certificateNumber": "A" * 65},
    "aiRoles: unknown role": {f"{CERT}.aiRoles": ["ai_user"]},
    "aiRoles: empty": {f"{CERT}.aiRoles": []},
    "aiRoles: a role twice": {f"{CERT}.aiRoles": ["ai_developer", "ai_developer"]},
    "aiRoles: a string": {f"{CERT}.aiRoles": "ai_developer"},
    "assessedOn: slashes": {f"{CERT}.assessedOn": "2026/10/20"},
    "assessedOn: a date-time": {f"{CERT}.assessedOn": "2026-10-20T00:00:00Z"},
    "standards: empty text": {f"{CERT}.standards": [""]},
    "schemeVersion: too long": {f"{CERT}.schemeVersion": "v" * 51},
    "level: empty": {f"{CERT}.level": ""},
    "scope: too long": {f"{CERT}.scope": "s" * 5001},
    "credentialStatus: one entry": {"credentialStatus": lambda s: s[:1]},
    "credentialStatus: three entries": {"credentialStatus": lambda s: [*s, s[0]]},
    "credentialStatus: two revocations": {"credentialStatus.1.statusPurpose": "revocation"},
    "credentialStatus: an object": {"credentialStatus": lambda s: s[0]},
    "status entry: another type": {"credentialStatus.0.type": "StatusList2021Entry"},
    "status entry: numeric index": {"credentialStatus.0.statusListIndex": 48213},
    "status entry: index too long": {"credentialStatus.0.statusListIndex": "1" * 21},
    "status entry: no list": {"credentialStatus.1.statusListCredential": DROP},
    "credentialSchema: another type": {"credentialSchema.type": "JsonSchemaCredential"},
    "credentialSchema: another schema": {"credentialSchema.id": f"{REGISTRY}/schemas/other.json"},
    "credentialSchema: an array": {"credentialSchema": lambda s: [s]},
}

# Rules the model enforces and JSON Schema cannot express: the schema accepts these, the model must not.
# (`format: date` also catches the calendar-date ones where a validator asserts formats.)
MODEL_ONLY: dict[str, tuple[Change, str]] = {
    "corporate number check digit": (
        {f"{SUBJECT}.corporateNumber": "1000012050002"},
        "check digit",
    ),
    "validFrom after validUntil": (
        {"validFrom": "2029-11-01T00:00:00Z", "validUntil": "2026-11-01T00:00:00Z"},
        "validFrom is after validUntil",
    ),
    "nextSurveillanceDue on assessedOn": (
        {f"{CERT}.nextSurveillanceDue": "2026-10-20"},
        "nextSurveillanceDue must be after assessedOn",
    ),
    "nextSurveillanceDue before assessedOn": (
        {f"{CERT}.nextSurveillanceDue": "2025-10-20"},
        "nextSurveillanceDue must be after assessedOn",
    ),
    "assessedOn not a real date": ({f"{CERT}.assessedOn": "2026-02-30"}, "day is out of range"),
    "assessedOn not a real date, no surveillance date": (
        {f"{CERT}.assessedOn": "2026-02-30", f"{CERT}.nextSurveillanceDue": DROP},
        "assessedOn '2026-02-30': not a real date",
    ),
    "nextSurveillanceDue not a real date": ({f"{CERT}.nextSurveillanceDue": "2027-13-01"}, "month must be"),
    "validFrom not a real date": ({"validFrom": "2026-02-30T00:00:00Z"}, "not a real date and time"),
    "validUntil not a real time": ({"validUntil": "2029-10-31T24:00:00Z"}, "not a real date and time"),
    "validUntil year 0": ({"validUntil": "0000-01-01T00:00:00Z"}, "not a real date and time"),
}
CALENDAR_DATES = {
    "assessedOn not a real date",
    "assessedOn not a real date, no surveillance date",
    "nextSurveillanceDue not a real date",
}


def test_the_schema_is_valid_draft_2020_12() -> None:
    assert SCHEMA["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    Draft202012Validator.check_schema(SCHEMA)  # also checks each `pattern` is a regex


def test_the_schema_documents_itself() -> None:
    assert SCHEMA["title"]
    assert SCHEMA["description"]
    for name, definition in SCHEMA["$defs"].items():
        assert definition.get("title"), name
        assert definition.get("description"), name


def test_the_schema_states_the_models_enumerations() -> None:
    roles = SCHEMA["$defs"]["certification"]["properties"]["aiRoles"]["items"]["enum"]
    assert roles == list(typing.get_args(AIRole))


def test_patterns_anchor_the_end_in_ecma_and_python_alike() -> None:
    """`$` in Python's `re` (which jsonschema uses) also matches before a final newline; ECMA-262's does not."""

    def patterns(node: object) -> list[str]:
        if isinstance(node, dict):
            own = [node["pattern"]] if isinstance(node.get("pattern"), str) else []
            return own + [p for value in node.values() for p in patterns(value)]
        if isinstance(node, list):
            return [p for value in node for p in patterns(value)]
        return []

    found = patterns(SCHEMA)
    assert len(found) >= 8
    for pattern in found:
        assert pattern.endswith("$(?!\\n)"), pattern


def test_the_base_credential_is_a_certificate() -> None:
    assert model_accepts(BASE)
    assert PLAIN.is_valid(BASE)


@pytest.mark.parametrize("name", VALID)
def test_both_accept(name: str) -> None:
    document = variant(VALID[name])
    errors = [e.message for e in FORMATS.iter_errors(document)]
    assert errors == []
    assert PLAIN.is_valid(document)
    validate_certificate(document)


@pytest.mark.parametrize("name", INVALID)
def test_both_refuse(name: str) -> None:
    document = variant(INVALID[name])
    assert not PLAIN.is_valid(document), "the schema accepts it"
    assert not FORMATS.is_valid(document)
    assert not model_accepts(document), "the model accepts it"


@pytest.mark.parametrize("name", MODEL_ONLY)
def test_model_only_rules(name: str) -> None:
    changes, message = MODEL_ONLY[name]
    document = variant(changes)
    assert PLAIN.is_valid(document), "expressible after all: move it to INVALID"
    assert message in model_error(document)
    assert FORMATS.is_valid(document) is (name not in CALENDAR_DATES)


def test_the_corpus_is_large_enough() -> None:
    assert len(VALID) + len(INVALID) + len(MODEL_ONLY) >= 40
    assert not set(VALID) & set(INVALID)


def test_every_variant_reaches_an_existing_member() -> None:
    """Every path leads through members BASE has: a typo would otherwise raise, or build another document."""
    for changes in (*VALID.values(), *INVALID.values(), *(c for c, _ in MODEL_ONLY.values())):
        for path in changes:
            *parents, _ = path.split(".")
            node: Any = BASE
            for part in parents:
                node = node[int(part)] if isinstance(node, list) else node[part]
            assert isinstance(node, dict | list), path


def test_the_profile_returns_what_it_names_validated() -> None:
    """`validate_certificate` hands back the profile's members (what a caller may rely on), not the extras."""
    document = variant({f"{SUBJECT}.shoeSize": 44, "evidence": [{"id": "https://example.org/audit"}]})
    certificate = validate_certificate(document)
    assert "evidence" not in certificate
    assert "shoeSize" not in certificate["credentialSubject"]
    assert certificate["credentialSubject"]["certification"] == BASE[SUBJECT]["certification"]
    assert certificate["credentialStatus"] == BASE["credentialStatus"]
    assert certificate["credentialSubject"]["legalName"] == {"en": "ACME Corp.", "ja": "アクメ株式会社"}
    json.dumps(certificate)  # plain JSON all the way down
    assert document == variant({f"{SUBJECT}.shoeSize": 44, "evidence": [{"id": "https://example.org/audit"}]})


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"issuer": "did:web:cb.example"}, "issuer: must be a JSON object, not a string"),
        ({SUBJECT: [{}]}, "credentialSubject: must be a JSON object, not an array"),
        ({"type": "VerifiableCredential"}, "type: must be a JSON array, not a string"),
        ({"credentialStatus": None}, "credentialStatus: must be a JSON array, not null"),
        ({f"{SUBJECT}.legalName": True}, "credentialSubject.legalName: must be a JSON object, not a boolean"),
    ],
)
def test_a_member_of_the_wrong_shape_is_named_in_json_terms(changes: Change, message: str) -> None:
    assert model_error(variant(changes)) == message
