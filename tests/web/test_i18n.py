"""Message catalogues and language choice: every message has its Japanese translation, none is stale, and
Accept-Language is read per RFC 9110 §12.5.4."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from registry.web import i18n

WEB = Path(resources.files("registry.web"))  # type: ignore[arg-type]
METHOD_MAP = [("**.py", "python"), ("**/templates/**.html", "jinja2")]
OPTIONS = {"**/templates/**.html": {"extensions": "jinja2.ext.i18n"}}


def _extracted() -> set[str]:
    ids = set()
    for _file, _line, message, _comments, _context in extract_from_dir(
        str(WEB), METHOD_MAP, options_map=OPTIONS
    ):
        ids.add(message if isinstance(message, str) else message[0])
    return ids


def _catalog(language: str) -> dict[str, str]:
    path = WEB / "locale" / language / "LC_MESSAGES" / "messages.po"
    with path.open("rb") as handle:
        catalog = read_po(handle, locale=language)
    return {str(m.id): str(m.string) for m in catalog if m.id}


def test_every_message_has_a_japanese_translation_and_none_is_stale() -> None:
    extracted = _extracted()
    japanese = _catalog("ja")
    assert len(extracted) > 100
    assert sorted(extracted - japanese.keys()) == [], (
        "run pybabel extract/update (see registry/web/babel.cfg)"
    )
    assert sorted(japanese.keys() - extracted) == [], "stale messages in ja/messages.po"
    assert sorted(k for k, v in japanese.items() if not v.strip()) == []
    assert _catalog("en").keys() == extracted


def test_placeholders_survive_translation() -> None:
    for msgid, msgstr in _catalog("ja").items():
        for name in ("%(when)s", "%(date)s", "%(name)s", "%(status)s", "%(number)s", "%(field)s", "%(size)s"):
            assert (name in msgid) == (name in msgstr), msgid


def test_catalogues_compile_at_load_time() -> None:
    assert i18n.translations("ja").gettext("Revoked") == "取消"
    assert i18n.translations("en").gettext("Revoked") == "Revoked"
    with pytest.raises(ValueError, match="unsupported"):
        i18n.translations("fr")


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (None, None),
        ("", None),
        ("en", "en"),
        ("ja-JP,ja;q=0.9,en;q=0.8", "ja"),
        ("en-US,en;q=0.9,ja;q=0.8", "en"),
        ("fr-FR, ja;q=0.3, en;q=0.5", "en"),
        ("fr, de", None),
        ("*", None),
        ("en;q=0, ja;q=0.1", "ja"),
        ("en;q=abc, ja;q=0.2", "ja"),
        ("EN-gb", "en"),
        ("ja;q=2", None),  # q above 1 is not a quality value
        ("," * 10_000 + "en", None),  # only the first 1,000 characters are read
    ],
)
def test_accept_language(header: str | None, expected: str | None) -> None:
    assert i18n.from_accept_language(header) == expected


def test_explicit_choice_beats_cookie_beats_header() -> None:
    assert i18n.choose(query="en", cookie="ja", accept_language="ja") == "en"
    assert i18n.choose(query=None, cookie="en", accept_language="ja") == "en"
    assert i18n.choose(query="xx", cookie="bogus", accept_language="en") == "en"
    assert i18n.choose(query=None, cookie=None, accept_language=None) == "ja"
