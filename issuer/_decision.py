"""A certification decision: what a certification body decided after an audit, before it becomes a credential."""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, PlainValidator, ValidationInfo, field_validator
from pydantic.alias_generators import to_camel

from verifier import (
    AIRole,
    CertificateNumber,
    Date,
    HttpsUrl,
    LocalizedName,
    Url,
    parse_date_time_stamp,
    validate_corporate_number,
)

# C0 controls and DEL: NUL cannot be stored in PostgreSQL text (it was a 500 there, and silently stored on
# SQLite), and escape sequences in a name would reach every terminal that prints the certificate. Free text
# (scope) may keep tab and line breaks.
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_CONTROL_EXCEPT_LINES = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def _no_controls(text: str, pattern: re.Pattern[str] = _CONTROL) -> str:
    if pattern.search(text):
        raise ValueError("must not contain control characters")
    return text


class _Input(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, alias_generator=to_camel, validate_by_name=True)


class Company(_Input):
    """The certified organisation."""

    id: Url | None = None
    legal_name: LocalizedName
    corporate_number: Annotated[str, PlainValidator(validate_corporate_number)] | None = None
    website: HttpsUrl | None = None

    @field_validator("legal_name")
    @classmethod
    def _printable_names(cls, names: LocalizedName) -> LocalizedName:
        for name in (names.en, names.ja):
            if name is not None:
                _no_controls(name)
        return names


class CertificationDecision(_Input):
    """Input of issuance, from a JSON file or Python. Dates left out follow the scheme's rules."""

    subject: Company
    scheme: Annotated[str, Field(min_length=1, max_length=63)]
    level: Annotated[str, Field(min_length=1, max_length=50)]
    scope: Annotated[str, Field(min_length=1, max_length=5000)]
    ai_roles: Annotated[list[AIRole], Field(min_length=1, max_length=3)]
    certificate_number: CertificateNumber
    assessed_on: Date
    valid_from: Annotated[datetime, PlainValidator(parse_date_time_stamp)] | None = None
    valid_until: Annotated[datetime, PlainValidator(parse_date_time_stamp)] | None = None
    next_surveillance_due: Date | None = None

    @field_validator("scheme", "level")
    @classmethod
    def _printable(cls, text: str) -> str:
        return _no_controls(text)

    @field_validator("scope")
    @classmethod
    def _printable_scope(cls, text: str) -> str:
        return _no_controls(text, _CONTROL_EXCEPT_LINES)

    # Cross-field rules are field validators (earlier fields are in `info.data`) so that an error names its field.
    @field_validator("ai_roles")
    @classmethod
    def _distinct_roles(cls, roles: list[str]) -> list[str]:
        if len(set(roles)) != len(roles):
            raise ValueError("aiRoles lists a role twice")
        return roles

    @field_validator("valid_until")
    @classmethod
    def _after_valid_from(cls, valid_until: datetime | None, info: ValidationInfo) -> datetime | None:
        valid_from = info.data.get("valid_from")
        if valid_until is not None and valid_from is not None and valid_until <= valid_from:
            raise ValueError("validUntil must be after validFrom")
        return valid_until

    @field_validator("next_surveillance_due")
    @classmethod
    def _after_assessment(cls, due: date | None, info: ValidationInfo) -> date | None:
        assessed = info.data.get("assessed_on")
        if due is not None and assessed is not None and due <= assessed:
            raise ValueError("nextSurveillanceDue must be after assessedOn")
        return due
