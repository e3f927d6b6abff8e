"""A certification decision: what a certification body decided after an audit, before it becomes a credential."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, PlainValidator, model_validator
from pydantic.alias_generators import to_camel

from verifier import LocalizedName, parse_date_time_stamp, validate_corporate_number
from verifier._model import AIRole, CertificateNumber, Date, HttpsUrl, Url


class _Input(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, alias_generator=to_camel, validate_by_name=True)


class Company(_Input):
    """The certified organisation."""

    id: Url | None = None
    legal_name: LocalizedName
    corporate_number: Annotated[str, PlainValidator(validate_corporate_number)] | None = None
    website: HttpsUrl | None = None


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

    @model_validator(mode="after")
    def _rules(self) -> CertificationDecision:
        if len(set(self.ai_roles)) != len(self.ai_roles):
            raise ValueError("aiRoles lists a role twice")
        if self.valid_from and self.valid_until and self.valid_from >= self.valid_until:
            raise ValueError("validUntil must be after validFrom")
        if self.next_surveillance_due is not None and self.next_surveillance_due <= self.assessed_on:
            raise ValueError("nextSurveillanceDue must be after assessedOn")
        return self
