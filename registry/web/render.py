"""HTML responses: one Jinja2 environment per language (autoescaped, gettext installed), security headers.

An environment per language rather than translations swapped per request: templates compile once per
language, and concurrent requests in different languages never share mutable state.

Every page carries a Content-Security-Policy that allows scripts and styles from this origin only (no inline
script or style anywhere; `site.js` only adds conveniences), refuses framing (`frame-ancestors 'none'`) and
posts forms only to this origin. The live badge has its own headers (see `BADGE_HEADERS`): an `<img>` on
any site may show it.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Hashable, Mapping
from datetime import UTC, date, datetime
from functools import cache
from typing import Any

from babel.dates import format_date, format_datetime
from babel.numbers import format_decimal
from fastapi.responses import HTMLResponse
from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from registry.web import i18n
from registry.web.labels import Labels

CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
    "form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
)
PAGE_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "strict-origin-when-cross-origin",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Vary": "Accept, Accept-Language, Cookie",
}
# The live badge is an image meant for other sites' <img>: embeddable anywhere, inert if opened directly.
BADGE_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; img-src data:",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "strict-origin-when-cross-origin",
    "Cross-Origin-Resource-Policy": "cross-origin",
    "Access-Control-Allow-Origin": "*",
}


def _date_filter(language: str) -> Any:
    def fmt(value: date | datetime | None) -> str:
        if value is None:
            return ""
        if isinstance(value, datetime):
            value = value.astimezone(UTC).date()
        return format_date(value, format="long", locale=language)

    return fmt


def _datetime_filter(language: str) -> Any:
    def fmt(value: datetime | None) -> str:
        if value is None:
            return ""
        return format_datetime(value, format="medium", tzinfo=UTC, locale=language) + " UTC"

    return fmt


def _number_filter(language: str) -> Any:
    def fmt(value: int) -> str:
        return format_decimal(value, locale=language)

    return fmt


@cache
def environment(language: str) -> Environment:
    """The template environment of `language`."""
    env = Environment(
        loader=PackageLoader("registry.web", "templates"),
        autoescape=select_autoescape(default=True, default_for_string=True),
        undefined=StrictUndefined,
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
        auto_reload=False,
    )
    env.install_gettext_translations(i18n.translations(language), newstyle=True)  # type: ignore[attr-defined]
    env.filters["date"] = _date_filter(language)
    env.filters["datetime"] = _datetime_filter(language)
    env.filters["number"] = _number_filter(language)
    env.globals["lang"] = language
    env.globals["labels"] = Labels(language, i18n.translations(language).gettext)
    env.globals["languages"] = i18n.LANGUAGES
    return env


def render(template: str, language: str, context: Mapping[str, Any]) -> str:
    return environment(language).get_template(template).render(context)


class RenderCache:
    """Rendered pages by a key that covers everything they show; the oldest entry goes first when full.

    Rendering a certificate page costs about ten times reading it (Jinja2's calls and escaping), and a
    certificate changes rarely: one read decides whether the bytes rendered before still hold.
    """

    def __init__(self, *, max_entries: int, max_bytes: int = 32 * 1024 * 1024) -> None:
        self._entries: OrderedDict[Hashable, bytes] = OrderedDict()
        self._max = max_entries
        self._max_bytes = max_bytes  # bounds memory whatever the pages weigh
        self._bytes = 0
        self._lock = threading.Lock()  # the event loop and threadpool threads both use it

    def get(self, key: Hashable) -> bytes | None:
        with self._lock:
            found = self._entries.get(key)
            if found is not None:
                self._entries.move_to_end(key)
            return found

    def put(self, key: Hashable, body: bytes) -> None:
        if len(body) > self._max_bytes // 64:  # an outsized page is served, not kept
            return
        with self._lock:
            replaced = self._entries.pop(key, None)
            self._bytes += len(body) - (len(replaced) if replaced is not None else 0)
            self._entries[key] = body
            while len(self._entries) > self._max or self._bytes > self._max_bytes:
                _, dropped = self._entries.popitem(last=False)
                self._bytes -= len(dropped)


def _with_language(response: HTMLResponse, language: str, remember: bool, secure: bool) -> HTMLResponse:
    if remember:
        response.set_cookie(
            i18n.COOKIE,
            language,
            max_age=i18n.COOKIE_MAX_AGE,
            httponly=True,
            samesite="lax",
            path="/",
            secure=secure,
        )
    return response


def page_bytes(
    body: bytes, language: str, *, remember_language: bool = False, secure_cookie: bool = False
) -> HTMLResponse:
    """An already rendered page as a response, with the same headers as `page`."""
    response = HTMLResponse(body, headers={**PAGE_HEADERS, "Cache-Control": "no-cache"})
    return _with_language(response, language, remember_language, secure_cookie)


def page(
    template: str,
    language: str,
    context: Mapping[str, Any],
    *,
    status_code: int = 200,
    remember_language: bool = False,
    secure_cookie: bool = False,
    headers: Mapping[str, str] | None = None,
) -> HTMLResponse:
    """The rendered page with the security headers; sets the language cookie when the page was asked for
    in an explicit language (`?lang=`)."""
    response = HTMLResponse(
        render(template, language, context),
        status_code=status_code,
        headers={**PAGE_HEADERS, "Cache-Control": "no-cache", **(headers or {})},
    )
    return _with_language(response, language, remember_language, secure_cookie)
