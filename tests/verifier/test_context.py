"""The aigov JSON-LD context (verifier/data/aigov-context-v1.jsonld) defines every term our certificate uses.

VC DM 2.0's context has an `@vocab` (issuer-dependent#), so a term nobody defines still expands, silently, to
an IRI that means nothing. These tests make sure each member of a certificate built by `issuer.build_credential`
is defined by the VC 2.0 context, the Open Badges 3.0.3 context or ours, with the scoping JSON-LD 1.1 applies:
type-scoped contexts hold for the node of that type only, property-scoped contexts for the value of the
property and below. No network: the other two contexts' term names are written out below.
"""

from __future__ import annotations

import fnmatch
import json
import re
import tomllib
import typing
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import Any

from issuer import CertificationDecision, IssuerIdentity, StatusSlot, build_credential, load_scheme
from verifier import AIGOV_CONTEXT_PATH, OB3_CONTEXT, VC2_CONTEXT
from verifier._model import AIRole

CONTEXT_RESOURCE = "data/aigov-context-v1.jsonld"
NAMESPACE = "https://w3id.org/aigov/vocab#"
XSD = "http://www.w3.org/2001/XMLSchema#"
REGISTRY = "https://registry.example"


def terms(names: str) -> frozenset[str]:
    return frozenset(names.split())


# Term names of the two contexts before ours, written out (no network). Each context is protected; a
# type-scoped context holds for the node of that type only.
# W3C VC Data Model 2.0, https://www.w3.org/ns/credentials/v2 (W3C Recommendation, 2025).
VC2_TERMS = terms(
    """
    id type kid iss sub jku x5u aud exp nbf iat cnf _sd_alg _sd ... digestSRI digestMultibase mediaType
    description name EnvelopedVerifiableCredential VerifiableCredential VerifiablePresentation
    JsonSchemaCredential JsonSchema BitstringStatusListCredential BitstringStatusList BitstringStatusListEntry
    DataIntegrityProof
    """
)
VC2_TYPE_SCOPED = {
    "VerifiableCredential": terms(
        """
        credentialSchema credentialStatus credentialSubject description evidence validFrom validUntil issuer
        name proof refreshService termsOfUse confidenceMethod relatedResource
        """
    ),
    "BitstringStatusListEntry": terms("statusPurpose statusListIndex statusListCredential"),
    "BitstringStatusList": terms("statusPurpose encodedList ttl statusReference statusSize statusMessage"),
    "JsonSchema": terms("jsonSchema"),
}
# 1EdTech Open Badges 3.0, https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json.
OB3_TERMS = terms(
    """
    id type OpenBadgeCredential Achievement AchievementCredential AchievementSubject Address Alignment Criteria
    EndorsementCredential EndorsementSubject Evidence GeoCoordinates IdentifierEntry IdentityObject Image
    Profile Related Result ResultDescription RubricCriterionLevel alignment description endorsement image name
    narrative url
    """
)
OB3_TYPE_SCOPED = {
    "Achievement": terms(
        """
        achievementType alignment creator creditsAvailable criteria fieldOfStudy humanCode image
        otherIdentifier related resultDescription specialization tag version
        """
    ),
    "AchievementSubject": terms(
        """
        achievement activityEndDate activityStartDate creditsEarned identifier image licenseNumber result role
        source term
        """
    ),
    "Profile": terms(
        """
        additionalName address dateOfBirth email familyName familyNamePrefix givenName honorificPrefix
        honorificSuffix image otherIdentifier parentOrg patronymicName phone official
        """
    ),
    "Address": terms(
        """
        addressCountry addressCountryCode addressLocality addressRegion geo postOfficeBoxNumber postalCode
        streetAddress
        """
    ),
    "Alignment": terms("targetCode targetDescription targetFramework targetName targetType targetUrl"),
    "EndorsementSubject": terms("endorsementComment"),
    "Evidence": terms("audience genre"),
    "GeoCoordinates": terms("latitude longitude"),
    "IdentifierEntry": terms("identifier identifierType"),
    "IdentityObject": terms("hashed identityHash identityType salt"),
    "Image": terms("caption"),
    "Related": terms("version"),
    "Result": terms("achievedLevel resultDescription status value"),
    "ResultDescription": terms(
        "allowedValue requiredLevel requiredValue resultType rubricCriterionLevel valueMax valueMin"
    ),
    "RubricCriterionLevel": terms("level points"),
}
# Terms JSON-LD lets any context restate identically, even when protected.
KEYWORD_ALIASES = frozenset({"id", "type"})
# BCP 47 language tags, as keys of a language map.
LANGUAGE_TAG = re.compile(r"[a-z]{2,3}(-[A-Za-z0-9]{1,8})*")


def load_context() -> dict[str, Any]:
    text = resources.files("verifier").joinpath(CONTEXT_RESOURCE).read_text("utf-8")
    document = json.loads(text)
    assert list(document) == ["@context"]
    context: dict[str, Any] = document["@context"]
    return context


def terms_of(context: dict[str, Any]) -> dict[str, Any]:
    return {name: value for name, value in context.items() if not name.startswith("@")}


def scoped(definition: object) -> dict[str, Any]:
    return definition.get("@context", {}) if isinstance(definition, dict) else {}


def iri(definition: object) -> str:
    if isinstance(definition, str):
        return definition
    assert isinstance(definition, dict)
    value = definition["@id"]
    assert isinstance(value, str)
    return value


def full_credential() -> dict[str, Any]:
    """A certificate with every optional member present."""
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
            "aiRoles": ["ai_developer", "ai_provider", "ai_business_user"],
            "certificateNumber": "AIGC-2026-000123",
            "assessedOn": "2026-10-20",
            "nextSurveillanceDue": "2027-10-01",
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


# --- the document ------------------------------------------------------------------------------------------------


def test_is_shipped_as_package_data_and_is_json_ld_1_1() -> None:
    resource = resources.files("verifier").joinpath(CONTEXT_RESOURCE)
    assert resource.is_file()
    context = load_context()
    assert context["@version"] == 1.1
    assert context["@protected"] is True


def test_package_data_globs_include_the_context() -> None:
    """An editable install finds the file anyway; a wheel carries only what these globs match."""
    pyproject = tomllib.loads((Path(__file__).parents[2] / "pyproject.toml").read_text("utf-8"))
    globs = pyproject["tool"]["setuptools"]["package-data"]["verifier"]
    assert any(fnmatch.fnmatch(CONTEXT_RESOURCE, pattern) for pattern in globs)


def test_has_no_vocab_and_every_term_is_explicit() -> None:
    """No `@vocab` at any level: an undefined term must stay visible, not map to a guessed IRI."""

    def walk(context: dict[str, Any]) -> None:
        assert "@vocab" not in context
        for name, definition in terms_of(context).items():
            if name in KEYWORD_ALIASES:
                assert definition == f"@{name}"
                continue
            assert iri(definition).startswith(NAMESPACE), name
            if isinstance(definition, dict):
                assert set(definition) <= {"@id", "@type", "@container", "@context"}, name
                assert definition.get("@type", "@id") in {"@id", "@vocab"} or definition["@type"].startswith(
                    XSD
                )
                assert definition.get("@container", "@set") in {"@set", "@language"}
                if "@context" in definition:
                    assert definition["@context"].get("@protected") is True, name
                    walk(definition["@context"])

    walk(load_context())


def test_term_iris_are_unique_and_stable() -> None:
    seen: dict[str, str] = {}

    def walk(context: dict[str, Any]) -> None:
        for name, definition in terms_of(context).items():
            if name in KEYWORD_ALIASES:
                continue
            assert iri(definition) not in seen, f"{name} and {seen.get(iri(definition))} share an IRI"
            seen[iri(definition)] = name
            walk(scoped(definition))

    walk(load_context())
    assert seen[NAMESPACE + "AIGovernanceCertification"] == "AIGovernanceCertification"
    assert seen[NAMESPACE + "certification"] == "certification"


def test_value_types() -> None:
    context = load_context()
    assert context["legalName"]["@container"] == "@language"  # {"en": ..., "ja": ...} is a language map
    assert context["website"]["@type"] == "@id"
    certification = scoped(context["certification"])
    for name in ("assessedOn", "nextSurveillanceDue"):
        assert certification[name]["@type"] == XSD + "date"
    assert certification["standards"]["@container"] == "@set"
    roles = certification["aiRoles"]
    assert (roles["@type"], roles["@container"]) == ("@vocab", "@set")


def test_role_values_are_the_models_roles() -> None:
    """aiRoles values expand through the property-scoped context (`@type: @vocab`), like VC's proofPurpose."""
    roles = terms_of(scoped(scoped(load_context()["certification"])["aiRoles"]))
    assert set(roles) == set(typing.get_args(AIRole))


def test_top_level_terms_collide_with_no_protected_term_of_vc_or_ob() -> None:
    """Our top-level terms are active in every node, also inside the type-scoped contexts of VC and OB, which
    are protected: a term defined there differently would make JSON-LD processing fail. Generic words
    (level, scope, scheme) therefore live in the property-scoped context of `certification` only; OB's
    RubricCriterionLevel, for one, defines `level`."""
    ours = set(terms_of(load_context())) - KEYWORD_ALIASES
    theirs = VC2_TERMS | OB3_TERMS
    for scoped_terms in (*VC2_TYPE_SCOPED.values(), *OB3_TYPE_SCOPED.values()):
        theirs |= scoped_terms
    assert ours.isdisjoint(theirs), ours & theirs


# --- the terms a certificate uses ---------------------------------------------------------------------------


def test_every_member_of_a_built_credential_is_defined() -> None:
    credential = full_credential()
    assert credential["@context"] == [VC2_CONTEXT, OB3_CONTEXT, REGISTRY + AIGOV_CONTEXT_PATH]
    ours = load_context()
    global_terms = VC2_TERMS | OB3_TERMS | set(terms_of(ours))
    type_scoped: dict[str, frozenset[str]] = {}
    for table in (VC2_TYPE_SCOPED, OB3_TYPE_SCOPED):
        for type_name, names in table.items():
            type_scoped[type_name] = type_scoped.get(type_name, frozenset()) | names
    undefined: list[str] = []
    used: set[str] = set()

    def walk(node: dict[str, Any], where: str, local: dict[str, Any]) -> None:
        types = node.get("type", [])
        types = types if isinstance(types, list) else [types]
        for type_name in types:
            if type_name not in global_terms:
                undefined.append(f"{where}.type {type_name}")
        defined = global_terms | set(local)
        for type_name in types:
            defined |= type_scoped.get(type_name, frozenset())
        for name, value in node.items():
            if name == "@context":
                continue
            if name not in defined:
                undefined.append(f"{where}.{name}")
            used.add(name)
            definition = local.get(name, ours.get(name))
            below = {**local, **terms_of(scoped(definition))}  # property-scoped contexts propagate
            if isinstance(definition, dict) and definition.get("@container") == "@language":
                assert isinstance(value, dict)
                assert all(LANGUAGE_TAG.fullmatch(tag) for tag in value), value
                assert all(isinstance(text, str) for text in value.values())
            elif isinstance(definition, dict) and definition.get("@type") == "@vocab":
                vocabulary = terms_of(scoped(definition))
                assert all(item in vocabulary for item in value), value
                used.update(value)
            elif isinstance(value, dict):
                walk(value, f"{where}.{name}", below)
            elif isinstance(value, list):
                for index, item in enumerate(value):
                    if isinstance(item, dict):
                        walk(item, f"{where}.{name}[{index}]", below)

    walk(credential, "credential", {})
    assert undefined == []
    # And no dead terms: each of ours is used by the certificate (types count as used).
    used.update(credential["type"])

    def all_terms(context: dict[str, Any]) -> set[str]:
        names = set(terms_of(context)) - KEYWORD_ALIASES
        for definition in terms_of(context).values():
            names |= all_terms(scoped(definition))
        return names

    assert all_terms(ours) <= used
