"""Schemes are data: the bundled example is labelled as such, and unusable scheme files are SchemeErrors."""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path
from typing import Any

import pytest

from issuer import IssuerError, Scheme, SchemeError, load_scheme, parse_decision


def example_data() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(
        resources.files("issuer").joinpath("data/example-scheme.json").read_text("utf-8")
    )
    return data


def write(tmp_path: Path, data: object) -> Path:
    path = tmp_path / "scheme.json"
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return path


def test_the_example_scheme_says_it_is_an_example() -> None:
    scheme = load_scheme()
    assert scheme.example is True
    assert scheme.name.en is not None
    assert "EXAMPLE" in scheme.name.en
    assert "not a real scheme" in scheme.name.en
    assert scheme.name.ja is not None
    assert "例示" in scheme.name.ja
    assert "example" in scheme.id


def test_the_example_scheme(scheme: Scheme) -> None:
    assert (scheme.validity_years, scheme.surveillance_interval_months) == (3, 12)
    assert [level.id for level in scheme.levels] == ["1", "2", "3"]
    assert "ISO/IEC 42001:2023" in scheme.standards
    assert scheme.level("3").name.en == "Level 3 — Assured"


def test_the_sample_decision_is_for_the_example_scheme(
    scheme: Scheme, sample_decision: dict[str, Any]
) -> None:
    decision = parse_decision(sample_decision)
    assert decision.scheme == scheme.id
    scheme.level(decision.level)


def test_a_scheme_file_round_trips(tmp_path: Path) -> None:
    assert load_scheme(write(tmp_path, example_data())) == load_scheme()


def test_schemes_are_not_examples_unless_they_say_so(tmp_path: Path) -> None:
    data = example_data()
    del data["example"]
    assert load_scheme(write(tmp_path, data)).example is False


def _changed(**changes: Any) -> dict[str, Any]:
    data = example_data()
    for name, value in changes.items():
        if value is None:
            del data[name]
        else:
            data[name] = value
    return data


BAD_SCHEMES: dict[str, tuple[object, str]] = {
    "not an object": ([1, 2], "not a valid scheme"),
    "unknown member": (_changed(validityMonths=36), "Extra inputs are not permitted"),
    "no levels": (_changed(levels=[]), "levels"),
    "no name": (_changed(name=None), "name"),
    "validity of 0 years": (_changed(validityYears=0), "validityYears"),
    "validity of 11 years": (_changed(validityYears=11), "validityYears"),
    "surveillance every 0 months": (_changed(surveillanceIntervalMonths=0), "surveillanceIntervalMonths"),
    "upper-case id": (_changed(id="Example"), "id"),
    "a level without criteria": (
        _changed(levels=[{"id": "1", "name": {"en": "One"}, "description": "d"}]),
        "criteria",
    ),
}


@pytest.mark.parametrize("name", BAD_SCHEMES)
def test_bad_scheme_files(tmp_path: Path, name: str) -> None:
    data, fragment = BAD_SCHEMES[name]
    path = write(tmp_path, data)
    with pytest.raises(SchemeError) as caught:
        load_scheme(path)
    assert str(caught.value).startswith(f"{path}: not a valid scheme")
    assert fragment in str(caught.value)
    assert isinstance(caught.value, IssuerError)


def test_a_file_that_is_not_json(tmp_path: Path) -> None:
    path = tmp_path / "scheme.json"
    path.write_text("{levels: [}", encoding="utf-8")
    with pytest.raises(SchemeError, match="not a valid scheme"):
        load_scheme(path)


def test_a_file_that_is_not_utf_8(tmp_path: Path) -> None:
    path = tmp_path / "scheme.json"
    path.write_bytes(json.dumps(example_data(), ensure_ascii=False).encode("shift_jis", errors="replace"))
    with pytest.raises(SchemeError):
        load_scheme(path)


def test_a_missing_file(tmp_path: Path) -> None:
    with pytest.raises(SchemeError, match="cannot read: No such file or directory") as caught:
        load_scheme(tmp_path / "nowhere.json")
    assert isinstance(caught.value.__cause__, OSError)


def test_a_directory(tmp_path: Path) -> None:
    with pytest.raises(SchemeError, match="cannot read"):
        load_scheme(tmp_path)


@pytest.mark.parametrize(
    "changes",
    [
        {"version": ""},
        {"version": "v" * 51},
        {"standards": [""]},
        {"levels": [{"id": "1", "name": {"en": "One"}, "description": "", "criteria": "c"}]},
    ],
    ids=["empty version", "long version", "empty standard", "empty level description"],
)
def test_a_scheme_that_cannot_make_a_valid_certificate_is_refused(
    tmp_path: Path, changes: dict[str, Any]
) -> None:
    with pytest.raises(SchemeError):
        load_scheme(write(tmp_path, _changed(**changes)))
