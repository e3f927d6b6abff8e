"""Language choice and message catalogues.

The language of a page is, in order: an explicit `?lang=` (which the page then remembers in a cookie), the
cookie, the best supported match of `Accept-Language` (RFC 9110 §12.5.4, with q-values), then Japanese.
Catalogues are the `.po` files under `locale/`, compiled to `.mo` in memory on first use with Babel: there is
no build step to forget, and nothing compiled can go stale (tests check every message has a translation).
"""

from __future__ import annotations

import io
from functools import cache
from importlib import resources

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations

LANGUAGES = ("ja", "en")
DEFAULT_LANGUAGE = "ja"
COOKIE = "aigov_lang"
COOKIE_MAX_AGE = 365 * 86_400
DOMAIN = "messages"
_MAX_ACCEPT_LANGUAGE = 1000  # characters of the header considered; the rest is ignored


def supported(value: str | None) -> str | None:
    """`value` if it names a supported language (case-insensitive), else None."""
    if value is None:
        return None
    lowered = value.strip().lower()
    return lowered if lowered in LANGUAGES else None


def q_value(params: str) -> float:
    """The `q` weight among the `;`-separated parameters of one Accept or Accept-Language item (RFC 9110
    §12.4.2): 1 when absent, 0 when unreadable."""
    for param in params.split(";"):
        name, _, value = param.strip().partition("=")
        if name.strip().lower() == "q":
            try:
                return float(value)
            except ValueError:
                return 0.0
    return 1.0


def from_accept_language(header: str | None) -> str | None:
    """The supported language `header` prefers most, or None. `ja-JP` matches `ja`; `*` matches nothing
    in particular (the default applies)."""
    if not header:
        return None
    best: tuple[float, int, str] | None = None
    for position, item in enumerate(header[:_MAX_ACCEPT_LANGUAGE].split(",")):
        tag, _, params = item.strip().partition(";")
        quality = q_value(params)
        primary = tag.strip().lower().split("-", 1)[0]
        if primary not in LANGUAGES or not 0.0 < quality <= 1.0:
            continue
        candidate = (-quality, position, primary)
        if best is None or candidate < best:
            best = candidate
    return None if best is None else best[2]


def choose(*, query: str | None, cookie: str | None, accept_language: str | None) -> str:
    """The page language (see the module docstring)."""
    return supported(query) or supported(cookie) or from_accept_language(accept_language) or DEFAULT_LANGUAGE


@cache
def translations(language: str) -> Translations:
    """The compiled catalogue of `language` (empty for English, the language of the message ids)."""
    if language not in LANGUAGES:
        raise ValueError(f"unsupported language {language!r}")
    po = resources.files("registry.web").joinpath("locale", language, "LC_MESSAGES", f"{DOMAIN}.po")
    with po.open("rb") as handle:
        catalog = read_po(handle, locale=language, domain=DOMAIN)
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return Translations(buffer, domain=DOMAIN)
