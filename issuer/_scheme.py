"""Certification schemes are data: levels, criteria, validity period. The example scheme is labelled as such."""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from pydantic.alias_generators import to_camel

from issuer._errors import SchemeError
from verifier import LocalizedName, LongText, ShortText


class _Config(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, alias_generator=to_camel, validate_by_name=True)


# Constraints mirror the certificate profile (verifier/_model.py), so a scheme that loads can make certificates.
class Level(_Config):
    id: Annotated[str, Field(min_length=1, max_length=50)]
    name: LocalizedName
    description: LongText
    criteria: LongText


class Scheme(_Config):
    """A certification scheme run by the scheme owner."""

    id: Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9-]{1,62}$")]
    example: bool = False
    name: LocalizedName
    version: Annotated[str, Field(min_length=1, max_length=50)]
    validity_years: Annotated[int, Field(ge=1, le=10)]
    surveillance_interval_months: Annotated[int, Field(ge=1, le=36)]
    standards: list[ShortText] = []
    levels: Annotated[list[Level], Field(min_length=1)]

    def level(self, level_id: str) -> Level:
        for level in self.levels:
            if level.id == level_id:
                return level
        known = ", ".join(level.id for level in self.levels)
        raise SchemeError(f"scheme {self.id!r} has no level {level_id!r} (levels: {known})")


def load_scheme(path: Path | None = None) -> Scheme:
    """A scheme from a JSON file; without a path, the bundled example scheme."""
    try:
        if path is None:
            text = resources.files("issuer").joinpath("data/example-scheme.json").read_text("utf-8")
        else:
            text = path.read_text("utf-8")
        return Scheme.model_validate(json.loads(text))
    except OSError as e:
        raise SchemeError(f"{path}: cannot read: {e.strerror or e}") from e
    except (ValueError, ValidationError) as e:
        raise SchemeError(f"{path or 'example scheme'}: not a valid scheme: {e}") from e
