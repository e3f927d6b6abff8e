"""The credential data model: generic W3C VC 2.0 (and legacy 1.1), and the AI-governance certificate profile.

Validated with pydantic at runtime (the profile: ≈15 µs against ≈170 µs for jsonschema, benchmarks/README.md);
the JSON Schema in `verifier/data/` is the published form of the profile and a test keeps the two in agreement.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Annotated, Any, Literal, NotRequired

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    PlainValidator,
    StringConstraints,
    TypeAdapter,
    ValidationError,
    model_validator,
    with_config,
)
from pydantic.alias_generators import to_camel
from typing_extensions import TypedDict  # pydantic validates typing's TypedDict only from Python 3.12

from verifier._corporate_number import validate_corporate_number

VC2_CONTEXT = "https://www.w3.org/ns/credentials/v2"
VC1_CONTEXT = "https://www.w3.org/2018/credentials/v1"
OB3_CONTEXT = "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"
# Our context is published by each registry at this path; the verifier recognises it on any https origin and
# never fetches it (the profile is validated as JSON, not by JSON-LD expansion).
AIGOV_CONTEXT_PATH = "/contexts/aigov/v1"
AIGOV_SCHEMA_PATH = "/schemas/aigov-certification-v1.json"
AIGOV_TYPE = "AIGovernanceCertification"
_VC_TYPES = frozenset({"VerifiableCredential"})
_CERTIFICATE_TYPES = frozenset({"VerifiableCredential", "OpenBadgeCredential", AIGOV_TYPE})
_PROFILE_TYPES = frozenset({"Profile"})
_SUBJECT_TYPES = frozenset({"AchievementSubject"})
_ACHIEVEMENT_TYPES = frozenset({"Achievement"})
_PURPOSES = {"revocation", "suspension"}
STATUS_LIST_ENTRY_TYPE = "BitstringStatusListEntry"

# XML Schema 1.1 dateTimeStamp: a dateTime with a mandatory time zone (VC DM 2.0 §4.9).
# Patterns serve both Python's `re` (fullmatch) and pydantic-core's Rust regex (search, hence the anchors);
# classes are spelled out in ASCII because Rust's \d and \s are Unicode-aware.
_DATE_TIME_STAMP = re.compile(
    r"^-?[0-9]{4,}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?(Z|[+-][0-9]{2}:[0-9]{2})$"
)
_DATE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")
# An absolute URL or URN, as VC DM 2.0 §4.4 requires for `id` values: a scheme, a colon, no space or controls.
_URL_CHARS = r"[^\x00-\x20<>\"{}|\\^`\x7f]+"
_URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*:" + _URL_CHARS + "$")
_HTTPS_URL = re.compile(r"^https://" + _URL_CHARS + "$")


def parse_date_time_stamp(value: object) -> datetime:
    """An XML Schema dateTimeStamp string to an aware datetime; anything else is a ValueError."""
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValueError("a dateTimeStamp needs a time zone")
        return value
    if not isinstance(value, str) or _DATE_TIME_STAMP.fullmatch(value) is None:
        raise ValueError(f"{value!r} is not an XML Schema dateTimeStamp (e.g. 2026-11-01T00:00:00Z)")
    try:
        return datetime.fromisoformat(value)
    except ValueError as e:
        raise ValueError(f"{value!r} is not a valid date and time: {e}") from e


def format_date_time_stamp(value: datetime) -> str:
    """The canonical form we write: UTC, `Z`, seconds precision unless there are fractions."""
    text = value.isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


def _as_list(value: object) -> object:
    """VC DM 2.0 allows a single value where a set is meant; normalise to a list."""
    return value if isinstance(value, list) else [value]


# Constraints are native (pydantic-core, Rust) wherever possible: a Python validator per field would cost
# more than the rest of model validation on the verification hot path. Cross-field rules run once per
# credential, in one validator (`_rules`, `_profile_rules`).
DateTimeStampText = Annotated[str, StringConstraints(pattern=_DATE_TIME_STAMP.pattern, max_length=64)]
DateText = Annotated[str, StringConstraints(pattern=_DATE.pattern, max_length=10)]
Url = Annotated[str, StringConstraints(pattern=_URL.pattern, max_length=2048)]
HttpsUrl = Annotated[str, StringConstraints(pattern=_HTTPS_URL.pattern, max_length=2048)]
TypeSet = Annotated[list[str], BeforeValidator(_as_list), Field(min_length=1)]
TypeList = Annotated[list[str], Field(min_length=1, max_length=20)]
ShortText = Annotated[str, Field(min_length=1, max_length=500)]
LongText = Annotated[str, Field(min_length=1, max_length=5000)]


def _parse_date(value: object) -> date:
    if not isinstance(value, str) or _DATE.fullmatch(value) is None:
        raise ValueError(f"{value!r} is not a date (YYYY-MM-DD)")
    return date.fromisoformat(value)


Date = Annotated[date, PlainValidator(_parse_date), PlainSerializer(date.isoformat)]
DateTimeStamp = Annotated[
    datetime, PlainValidator(parse_date_time_stamp), PlainSerializer(format_date_time_stamp)
]


class _Open(BaseModel):
    """A JSON-LD node: known members validated, other members allowed (VC DM 2.0 is open-world).

    Extra members are ignored rather than copied into the model: the verifier reports the credential as it was
    signed (the parsed JSON), so the model is for validation only, and copying extras costs time on the hot
    path. For the same reason members are looked up by their JSON names (aliases) only.
    """

    model_config = ConfigDict(extra="ignore", frozen=True, alias_generator=to_camel, validate_by_name=False)


class _Closed(_Open):
    """A node of our own vocabulary: unknown members are refused, so a typo is an error, not data."""

    model_config = ConfigDict(extra="forbid")


def _require_types(types: list[str], required: frozenset[str], where: str) -> None:
    if not required.issubset(types):
        missing = sorted(required.difference(types))
        raise ValueError(f"{where} 'type' must include {', '.join(missing)}")


def _check_context(context: list[Any]) -> None:
    # VC DM 2.0 §4.3: the first item MUST be the v2 context URL.
    if not context or context[0] != VC2_CONTEXT:
        raise ValueError(f"the first @context must be {VC2_CONTEXT!r}")


def _window(valid_from: str | None, valid_until: str | None) -> None:
    """Check that validFrom/validUntil (already in dateTimeStamp form) are real instants, in order."""
    start, end = _instant(valid_from, "validFrom"), _instant(valid_until, "validUntil")
    if start is not None and end is not None and start > end:
        raise ValueError("validFrom is after validUntil")


def _calendar_date(text: str, member: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError as e:  # the form was right, the values not: 2026-02-30
        raise ValueError(f"{member} {text!r}: not a real date: {e}") from None


def _instant(text: str | None, member: str) -> datetime | None:
    try:
        return None if text is None else datetime.fromisoformat(text)
    except ValueError as e:  # the form was right, the values not: 2026-02-30, 25:00
        raise ValueError(f"{member} {text!r}: not a real date and time: {e}") from None


class IssuerRef(_Open):
    id: Url


class StatusEntry(_Open):
    """A credentialStatus entry; its type-specific members are checked by the status step."""

    id: Url | None = None
    type: str


class SchemaRef(_Open):
    id: Url
    type: str


class _Dated(_Open):
    """Keeps validFrom/validUntil as validated text (checked natively) and parses them on request."""

    valid_from_text: DateTimeStampText | None = Field(default=None, alias="validFrom")
    valid_until_text: DateTimeStampText | None = Field(default=None, alias="validUntil")

    @property
    def valid_from(self) -> datetime | None:
        return None if self.valid_from_text is None else datetime.fromisoformat(self.valid_from_text)

    @property
    def valid_until(self) -> datetime | None:
        return None if self.valid_until_text is None else datetime.fromisoformat(self.valid_until_text)


class Credential(_Dated):
    """Any VC Data Model 2.0 credential (§4)."""

    context: Annotated[list[Any], BeforeValidator(_as_list)] = Field(alias="@context", min_length=1)
    id: Url | None = None
    type: TypeSet
    issuer: Url | IssuerRef
    credential_subject: Annotated[list[dict[str, Any]], BeforeValidator(_as_list), Field(min_length=1)]
    credential_status: Annotated[list[StatusEntry], BeforeValidator(_as_list)] = []
    credential_schema: Annotated[list[SchemaRef], BeforeValidator(_as_list)] = []

    @model_validator(mode="after")
    def _rules(self) -> Credential:
        _check_context(self.context)
        _require_types(self.type, _VC_TYPES, "credential")
        _window(self.valid_from_text, self.valid_until_text)
        return self

    @property
    def issuer_id(self) -> str:
        return self.issuer if isinstance(self.issuer, str) else self.issuer.id


class LegacyCredential(_Open):
    """A VC Data Model 1.1 credential, from the `vc` claim of a legacy JWT (accepted only on request)."""

    context: Annotated[list[Any], BeforeValidator(_as_list)] = Field(alias="@context", min_length=1)
    id: Url | None = None
    type: TypeSet
    issuer: Url | IssuerRef
    credential_subject: Annotated[list[dict[str, Any]], BeforeValidator(_as_list), Field(min_length=1)]
    issuance_date: DateTimeStamp | None = None
    expiration_date: DateTimeStamp | None = None
    credential_status: Annotated[list[StatusEntry], BeforeValidator(_as_list)] = []

    @model_validator(mode="after")
    def _rules(self) -> LegacyCredential:
        if self.context[0] != VC1_CONTEXT:
            raise ValueError(f"the first @context of a VC 1.1 credential must be {VC1_CONTEXT!r}")
        _require_types(self.type, _VC_TYPES, "credential")
        return self

    @property
    def issuer_id(self) -> str:
        return self.issuer if isinstance(self.issuer, str) else self.issuer.id


# --- The AI-governance certificate profile -------------------------------------------------------------------
#
# The profile is validated into plain dicts (TypedDicts, one TypeAdapter), not models: it runs on every
# verification, and a model instance per JSON object cost more than every constraint of the profile together
# (benchmarks/README.md). The keys are the JSON member names (the functional TypedDict form where one is not an
# identifier: "@context"). Nodes of the open JSON-LD world ignore members they do not name; nodes of our own
# vocabulary refuse them (extra=forbid).

# Roles in scope, after Japan's AI Guidelines for Business v1.0 (METI/MIC, April 2024), Part 1.
AIRole = Literal["ai_developer", "ai_provider", "ai_business_user"]
_CORPORATE_NUMBER = r"^[0-9]{13}$"
_CERTIFICATE_NUMBER = r"^[A-Z0-9][A-Z0-9-]{2,63}$"
CorporateNumber = Annotated[str, StringConstraints(pattern=_CORPORATE_NUMBER)]
CertificateNumber = Annotated[str, StringConstraints(pattern=_CERTIFICATE_NUMBER)]


class LocalizedName(_Closed):
    """A name in English and Japanese; at least one is required, both are expected for Japanese companies."""

    en: ShortText | None = None
    ja: ShortText | None = None

    @model_validator(mode="after")
    def _one_of(self) -> LocalizedName:
        _require_a_name(self.en, self.ja)
        return self


def _require_a_name(en: str | None, ja: str | None) -> None:
    if en is None and ja is None:
        raise ValueError("a name needs at least one of 'en' or 'ja'")


@with_config(ConfigDict(extra="forbid"))
class _LegalName(TypedDict):
    """A LocalizedName as the certificate carries it: a dict, like the rest of the validated certificate."""

    en: NotRequired[ShortText | None]
    ja: NotRequired[ShortText | None]


def _one_name(names: _LegalName) -> _LegalName:
    _require_a_name(names.get("en"), names.get("ja"))
    return names


class _Criteria(TypedDict):
    narrative: LongText


class _Achievement(TypedDict):
    """The certified level, as an Open Badges 3.0 Achievement (OB 3.0 §B.1.1)."""

    id: Url
    type: TypeList
    name: ShortText
    description: LongText
    criteria: _Criteria


@with_config(ConfigDict(extra="forbid"))
class Certification(TypedDict):
    """What was certified, against which scheme, and when it is next audited."""

    certificateNumber: CertificateNumber
    scheme: ShortText
    schemeVersion: Annotated[str, Field(min_length=1, max_length=50)]
    level: Annotated[str, Field(min_length=1, max_length=100)]
    scope: LongText
    aiRoles: Annotated[list[AIRole], Field(min_length=1, max_length=3)]
    standards: NotRequired[list[ShortText]]
    assessedOn: DateText
    nextSurveillanceDue: NotRequired[DateText | None]


class CertifiedCompany(TypedDict):
    """The credential subject: the certified organisation (an Open Badges AchievementSubject)."""

    id: NotRequired[Url | None]
    type: TypeList
    legalName: Annotated[_LegalName, AfterValidator(_one_name)]
    corporateNumber: NotRequired[CorporateNumber | None]
    website: NotRequired[HttpsUrl | None]
    achievement: _Achievement
    certification: Certification


class IssuerProfile(TypedDict):
    """The certification body, as an Open Badges Profile."""

    id: Url
    type: TypeList
    name: ShortText


class BitstringStatusEntry(TypedDict):
    """Bitstring Status List v1.0 §2.1. The index stays a string: its form is checked against the list."""

    id: NotRequired[Url | None]
    type: Literal["BitstringStatusListEntry"]
    statusPurpose: ShortText
    statusListIndex: Annotated[str, Field(max_length=20)]
    statusListCredential: Url


class _SchemaRef(TypedDict):
    id: Url
    type: str


# The AI-governance certificate: a VC 2.0 OpenBadgeCredential with our context, type and schema. Stricter than
# VC DM 2.0 where we are the only issuer of the type: `type` members are arrays.
CertificationCredential = TypedDict(
    "CertificationCredential",
    {
        "@context": Annotated[list[str | dict[str, Any]], Field(min_length=3, max_length=10)],
        "id": Url,
        "type": TypeList,
        "name": ShortText,
        "description": NotRequired[LongText | None],
        "issuer": IssuerProfile,
        "validFrom": DateTimeStampText,
        "validUntil": DateTimeStampText,
        "credentialSubject": CertifiedCompany,
        "credentialStatus": Annotated[list[BitstringStatusEntry], Field(min_length=2, max_length=2)],
        "credentialSchema": _SchemaRef,
    },
)


def _profile_rules(credential: CertificationCredential) -> CertificationCredential:
    """Every cross-field rule of the profile, in one pass (written flat: it runs on every verification)."""
    context = credential["@context"]
    if context[0] != VC2_CONTEXT:
        raise ValueError(f"the first @context must be {VC2_CONTEXT!r}")
    if OB3_CONTEXT not in context:
        raise ValueError(f"@context must include the Open Badges 3.0 context {OB3_CONTEXT!r}")
    for item in context:
        if isinstance(item, str) and item.endswith(AIGOV_CONTEXT_PATH):
            break
    else:
        raise ValueError(f"@context must include the aigov context (…{AIGOV_CONTEXT_PATH})")
    subject, types, issuer_types = (
        credential["credentialSubject"],
        credential["type"],
        credential["issuer"]["type"],
    )
    if not (  # membership in the short lists: issubset() would build a set of each
        AIGOV_TYPE in types
        and "OpenBadgeCredential" in types
        and "VerifiableCredential" in types
        and "Profile" in issuer_types
        and "AchievementSubject" in subject["type"]
        and "Achievement" in subject["achievement"]["type"]
    ):
        _require_types(types, _CERTIFICATE_TYPES, "credential")
        _require_types(issuer_types, _PROFILE_TYPES, "issuer")
        _require_types(subject["type"], _SUBJECT_TYPES, "credentialSubject")
        _require_types(subject["achievement"]["type"], _ACHIEVEMENT_TYPES, "achievement")
    corporate_number = subject.get("corporateNumber")
    if corporate_number is not None:
        validate_corporate_number(corporate_number)
    certification = subject["certification"]
    roles = certification["aiRoles"]
    if len(set(roles)) != len(roles):
        raise ValueError("aiRoles lists a role twice")
    assessed = _calendar_date(certification["assessedOn"], "assessedOn")
    due = certification.get("nextSurveillanceDue")
    if due is not None and _calendar_date(due, "nextSurveillanceDue") <= assessed:
        raise ValueError("nextSurveillanceDue must be after assessedOn")
    _window(credential["validFrom"], credential["validUntil"])
    status = credential["credentialStatus"]
    if {status[0]["statusPurpose"], status[1]["statusPurpose"]} != _PURPOSES:
        raise ValueError("credentialStatus must have one 'revocation' and one 'suspension' entry")
    schema = credential["credentialSchema"]
    if schema["type"] != "JsonSchema" or not schema["id"].endswith(AIGOV_SCHEMA_PATH):
        raise ValueError(f"credentialSchema must be the aigov JsonSchema (…{AIGOV_SCHEMA_PATH})")
    return credential


_CERTIFICATE = TypeAdapter(Annotated[CertificationCredential, AfterValidator(_profile_rules)])


def validate_certificate(document: object) -> CertificationCredential:
    """Check `document` (parsed JSON) against the AI-governance certificate profile; raise ValidationError.

    Returns the members the profile names, validated; members it does not name are left out.
    """
    return _CERTIFICATE.validate_python(document)


# What each pattern means, for people: a regular expression is not an explanation.
_PATTERN_MEANINGS = {
    _DATE_TIME_STAMP.pattern: "is not an XML Schema dateTimeStamp (e.g. 2026-11-01T00:00:00Z, with a time zone)",
    _DATE.pattern: "is not a date (YYYY-MM-DD)",
    _URL.pattern: "is not an absolute URL",
    _HTTPS_URL.pattern: "is not an https URL",
    _CORPORATE_NUMBER: "is not a corporate number (13 digits)",
    _CERTIFICATE_NUMBER: "is not a certificate number (capital letters, digits and '-', 3 to 64 characters)",
}


_JSON_SHAPES = {"dict_type": "object", "model_type": "object", "list_type": "array"}


def _json_kind(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    return "an array" if isinstance(value, list) else "an object"


def describe_validation_error(error: Exception, *, root: str = "credential") -> str:
    """A one-line account of a pydantic ValidationError: where and what, for a person."""
    if not isinstance(error, ValidationError):
        return str(error)
    parts = []
    for item in error.errors(include_url=False)[:5]:
        where = ".".join(str(p) for p in item["loc"]) or root
        pattern = (item.get("ctx") or {}).get("pattern")
        if item["type"] == "string_pattern_mismatch" and pattern in _PATTERN_MEANINGS:
            message = f"{item['input']!r} {_PATTERN_MEANINGS[pattern]}"
        elif item["type"] in _JSON_SHAPES:  # say it in JSON's words, not Python's ("a valid dictionary")
            message = f"must be a JSON {_JSON_SHAPES[item['type']]}, not {_json_kind(item['input'])}"
        else:
            message = item["msg"].removeprefix("Value error, ")
        parts.append(f"{where}: {message}")
    more = error.error_count() - len(parts)
    return "; ".join(parts) + (f" (and {more} more)" if more > 0 else "")
