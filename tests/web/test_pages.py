"""The public pages through the ASGI app (TestClient): both languages, escaping, headers, content negotiation,
uploads, pagination, errors. The browser tests (test_browser.py) cover what only a browser can show."""

from __future__ import annotations

import io
import os
import re
import secrets
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from html.parser import HTMLParser
from typing import Any

import pytest
import qrcode
import sqlalchemy as sa
from fastapi.testclient import TestClient
from sqlalchemy.engine import make_url
from sqlmodel import Session

from issuer import load_scheme
from registry.app import create_app
from registry.bodies import add_scheme, create_body
from registry.db import make_engine
from registry.migrate import upgrade
from registry.models import CertificationBodyCreate
from registry.routes import pages
from registry.routes.pages import PAGE_SIZE, preferred_type
from registry.tokens import Scope, create_token
from registry.web import checking, views
from registry.web.render import RenderCache
from verifier import extract_badge

from .conftest import HOSTILE_NAME, NOW, Site, accredit, decision

HTML = {"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"}


class _Audit(HTMLParser):
    """Collects what a CSP without 'unsafe-inline' would block: inline scripts, styles and handlers."""

    def __init__(self) -> None:
        super().__init__()
        self.inline: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        names = {name for name, _ in attrs}
        if tag == "style" or "style" in names or any(n.startswith("on") for n in names):
            self.inline.append(f"<{tag} {sorted(names)}>")
        if tag == "script":
            if "src" not in names:
                self.inline.append("<script> without src")
            self._in_script = True

    def handle_data(self, data: str) -> None:
        if self._in_script and data.strip():
            self.inline.append("script body")

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._in_script = False


def _pages(site: Site) -> list[str]:
    return ["/", "/verify", "/bodies", "/about", f"/credentials/{site.ids['acme']}"]


@pytest.mark.parametrize("lang", ["ja", "en"])
def test_every_page_renders_in_both_languages(client: TestClient, site: Site, lang: str) -> None:
    expected = {"ja": "AIガバナンス認証登録簿", "en": "AI Governance Certification Registry"}[lang]
    for path in _pages(site):
        response = client.get(path, params={"lang": lang}, headers=HTML)
        assert response.status_code == 200, path
        assert response.headers["content-type"] == "text/html; charset=utf-8"
        assert f'<html lang="{lang}">' in response.text
        assert expected in response.text, path
        audit = _Audit()
        audit.feed(response.text)
        assert audit.inline == [], path


def test_dates_are_formatted_per_language(client: TestClient, site: Site) -> None:
    path = f"/credentials/{site.ids['acme']}"
    ja = client.get(path, params={"lang": "ja"}, headers=HTML).text
    en = client.get(path, params={"lang": "en"}, headers=HTML).text
    assert "2026年10月20日" in ja  # assessed on
    assert "October 20, 2026" in en


def test_security_headers(client: TestClient, site: Site) -> None:
    for path in _pages(site):
        headers = client.get(path, headers=HTML).headers
        csp = headers["content-security-policy"]
        assert "script-src 'self'" in csp
        assert "unsafe-inline" not in csp
        assert "frame-ancestors 'none'" in csp
        assert "default-src 'none'" in csp
        assert headers["x-content-type-options"] == "nosniff"
        assert headers["referrer-policy"] == "strict-origin-when-cross-origin"
    badge = client.get(f"/credentials/{site.ids['acme']}/badge.svg")
    assert badge.status_code == 200
    # An <img> on any site may show the badge: no frame-ancestors, cross-origin resource policy open.
    assert "frame-ancestors" not in badge.headers["content-security-policy"]
    assert "script-src" not in badge.headers["content-security-policy"]  # default-src 'none': no script runs
    assert badge.headers["cross-origin-resource-policy"] == "cross-origin"
    assert badge.headers["x-content-type-options"] == "nosniff"
    assert badge.headers["cache-control"] == "public, max-age=60"


def test_language_is_chosen_by_accept_language_switched_and_remembered(site: Site) -> None:
    with TestClient(site.app()) as fresh:
        assert '<html lang="en">' in fresh.get("/about", headers={"Accept-Language": "en-GB,en;q=0.9"}).text
        assert '<html lang="ja">' in fresh.get("/about", headers={"Accept-Language": "fr"}).text
        switched = fresh.get("/about", params={"lang": "en"}, headers={"Accept-Language": "ja"})
        assert '<html lang="en">' in switched.text
        cookie = switched.headers["set-cookie"]
        assert cookie.startswith("aigov_lang=en;")
        assert "HttpOnly" in cookie
        assert "SameSite=lax" in cookie
        # Remembered: the next page, without ?lang=, with a Japanese browser, stays English.
        assert '<html lang="en">' in fresh.get("/bodies", headers={"Accept-Language": "ja"}).text
        # Every page links to itself in the other language, keeping its query.
        page = fresh.get("/", params={"q": "アクメ"}).text
        assert 'href="/?q=%E3%82%A2%E3%82%AF%E3%83%A1&amp;lang=ja"' in page


def test_hostile_fields_render_inert(client: TestClient, site: Site) -> None:
    page = client.get(f"/credentials/{site.ids['hostile']}", params={"lang": "en"}, headers=HTML).text
    assert HOSTILE_NAME not in page
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in page
    assert "<img src=x" not in page
    revoked = client.get(f"/credentials/{site.ids['revoked']}", params={"lang": "en"}, headers=HTML).text
    assert "&lt;b&gt;bold&lt;/b&gt; finding" in revoked  # the revocation reason, as typed
    results = client.get("/", params={"q": "script", "lang": "en"}).text
    assert "AIGC-WEB-000004" in results
    assert HOSTILE_NAME not in results
    # The same token pasted into the verify page: its fields are shown escaped too.
    verified = client.post("/verify", data={"jwt": site.tokens["hostile"]}).text
    assert HOSTILE_NAME not in verified
    assert "<script>alert" not in verified


def test_certificate_page_shows_status_details_and_history(client: TestClient, site: Site) -> None:
    page = client.get(f"/credentials/{site.ids['revoked']}", params={"lang": "en"}, headers=HTML).text
    assert "This certificate has been revoked" in page
    assert "banner-revoked" in page
    assert "Nonconformity found" in page
    assert page.count('<time datetime="') == 2  # issued, revoked
    assert "Web Certification" in page
    assert "Accredited" in page
    assert "EXAMPLE scheme" in page
    assert f"/api/v1/credentials/{site.ids['revoked']}/credential.jwt" in page
    assert "badge.png" in page
    assert "qr.svg" in page
    assert '&lt;img src="http://127.0.0.1:' in page  # the embed snippet, shown as text
    ja = client.get(f"/credentials/{site.ids['suspended']}", params={"lang": "ja"}, headers=HTML).text
    assert "この認証は一時停止中です" in ja
    assert "維持審査の未実施" in ja


@pytest.mark.parametrize(
    ("accept", "kind"),
    [
        (None, "page"),
        ("*/*", "page"),
        ("text/html", "page"),
        ("text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", "page"),
        ("application/vc+jwt", "jwt"),
        ("application/json", "json"),
        ("application/json, text/html;q=0.5", "json"),
        ("application/*", "jwt"),
        ("text/html;q=0.1, application/vc+jwt", "jwt"),
    ],
)
def test_content_negotiation(client: TestClient, site: Site, accept: str | None, kind: str) -> None:
    credential_id = site.ids["acme"]
    headers = {"Accept": accept} if accept is not None else {}
    response = client.get(f"/credentials/{credential_id}", headers=headers)
    assert response.status_code == 200
    if kind == "page":
        assert response.headers["content-type"].startswith("text/html")
    elif kind == "jwt":
        assert response.headers["content-type"] == "application/vc+jwt"
        assert response.text == site.tokens["acme"]
        assert response.headers["vary"] == "Accept"
    else:
        api = client.get(f"/api/v1/credentials/{credential_id}")
        assert response.headers["content-type"] == "application/json"
        assert response.content == api.content
        assert response.headers["vary"] == "Accept"


def test_preferred_type_ignores_garbage() -> None:
    assert preferred_type("q=;;,,/,*/x;q=z") == "text/html"
    assert preferred_type("application/vc+jwt;q=0") == "text/html"
    assert preferred_type("x" * 100_000) == "text/html"


def test_another_spelling_of_a_certificates_id_redirects_to_its_page(client: TestClient, site: Site) -> None:
    """uuid.UUID reads several spellings; the page has one URL, so that a cached page never links to another."""
    canonical = site.ids["acme"]
    for spelling in (
        canonical.upper(),
        f"urn:uuid:{canonical}",
        "{" + canonical + "}",
        canonical.replace("-", ""),
    ):
        moved = client.get(
            f"/credentials/{spelling}", params={"lang": "en"}, headers=HTML, follow_redirects=False
        )
        assert moved.status_code == 308, spelling
        assert moved.headers["location"] == f"{canonical}?lang=en"
        page = client.get(f"/credentials/{spelling}", params={"lang": "en"}, headers=HTML)
        assert page.status_code == 200
        assert str(page.url).endswith(f"/credentials/{canonical}?lang=en")
        assert f"/credentials/{spelling}" not in page.text  # its language links, its hreflang alternates


def test_unknown_certificate(client: TestClient) -> None:
    for raw in (str(uuid.uuid4()), "not-a-uuid", "%3Cscript%3E"):
        page = client.get(f"/credentials/{raw}", headers=HTML)
        assert page.status_code == 404
        assert page.headers["content-type"].startswith("text/html")
        assert "<script>" not in page.text
        problem = client.get(f"/credentials/{raw}", headers={"Accept": "application/json"})
        assert problem.status_code == 404
        assert problem.headers["content-type"] == "application/problem+json"
        assert client.get(f"/credentials/{raw}/badge.svg").status_code == 404
        assert client.get(f"/credentials/{raw}/qr.svg").status_code == 404


# -- search -------------------------------------------------------------------------------------------------------


def _rows(page: str) -> list[str]:
    return re.findall(r'<td><a href="/credentials/([0-9a-f-]{36})">', page)


@pytest.mark.parametrize(
    ("q", "expected"),
    [("アクメ", "acme"), ("acme corp", "acme"), ("7000012050002", "acme"), ("aigc-web-000002", "revoked")],
)
def test_search(client: TestClient, site: Site, q: str, expected: str) -> None:
    page = client.get("/", params={"q": q}).text
    assert _rows(page) == [site.ids[expected]]


def test_search_filters_and_status_in_colour_and_words(client: TestClient, site: Site) -> None:
    page = client.get("/", params={"status": "revoked", "lang": "en"}).text
    assert site.ids["revoked"] in _rows(page)  # (the browser tests revoke one more)
    assert site.ids["acme"] not in _rows(page)
    assert page.count("status-revoked") == len(_rows(page))
    assert (
        '<span class="status status-revoked"><span class="dot" aria-hidden="true"></span>Revoked</span>'
        in page
    )
    assert len(_rows(client.get("/", params={"level": "2", "issuer": "web-cb"}).text)) == PAGE_SIZE
    assert _rows(client.get("/", params={"q": "no such company"}).text) == []


def test_a_search_page_asked_again_shows_what_changed(client: TestClient, site: Site) -> None:
    """Search pages are served again without rendering while their results hold (pages.py): a status that
    changed, or another language, gives another page."""
    issued = client.post(
        "/api/v1/credentials",
        json=decision(
            "AIGC-WEB-000099",
            legalName={"en": "Cache Probe K.K.", "ja": "キャッシュ検査株式会社"},
            corporateNumber=None,
        ),
        headers=site.bearer,
    )
    assert issued.status_code == 201, issued.text
    credential_id = issued.json()["id"]
    params = {"q": "Cache Probe", "lang": "en"}
    first = client.get("/", params=params).text
    assert _rows(first) == [credential_id]
    assert "status-active" in first
    assert client.get("/", params=params).text == first
    assert "キャッシュ検査株式会社" in client.get("/", params={**params, "lang": "ja"}).text
    suspended = client.post(
        f"/api/v1/credentials/{credential_id}/suspend",
        json={"reasonCode": "surveillance_not_performed"},
        headers=site.bearer,
    )
    assert suspended.status_code == 200, suspended.text
    again = client.get("/", params=params).text
    assert _rows(again) == [credential_id]
    assert "status-suspended" in again
    assert "status-active" not in again


def test_the_search_page_cache_keeps_only_the_forms_own_queries(client: TestClient) -> None:
    """A client cannot fill the cache with pages of its making: unknown parameters or an outsized query are
    answered, rendered each time, and not kept; the cache is bounded in bytes whatever the pages weigh."""
    kept_before = len(pages._SEARCHED._entries)
    padded = client.get("/", params={"q": "Company", "pad": "x" * 5000})
    assert padded.status_code == 200
    tracked = client.get("/", params={"q": "Company", "utm_source": "newsletter"})
    assert tracked.status_code == 200
    assert len(pages._SEARCHED._entries) == kept_before
    assert client.get("/", params={"q": f"Company {secrets.token_hex(4)}"}).status_code == 200
    assert len(pages._SEARCHED._entries) == kept_before + 1  # the form's own query is kept

    cache = RenderCache(max_entries=100, max_bytes=64 * 1000)
    for n in range(100):
        cache.put(n, b"z" * 900)
    assert cache._bytes <= 64 * 1000
    assert cache.get(0) is None  # the oldest went first
    assert cache.get(99) == b"z" * 900
    cache.put("huge", b"z" * 2000)  # over a 64th of the budget: served by the caller, never kept
    assert cache.get("huge") is None


def test_pagination(client: TestClient, site: Site) -> None:
    first = client.get("/", params={"lang": "en"}).text
    assert len(_rows(first)) == PAGE_SIZE
    next_url = re.search(r'<a href="([^"]+)" rel="next">', first)
    assert next_url is not None
    second = client.get(next_url[1].replace("&amp;", "&"))
    assert second.status_code == 200
    rest = _rows(second.text)
    assert len(rest) == client.get("/api/v1/stats").json()["total"] - PAGE_SIZE
    assert not set(rest) & set(_rows(first))
    assert 'rel="next"' not in second.text
    assert "First page" in second.text


@pytest.mark.parametrize(
    "params",
    [
        {"cursor": "bogus"},
        {"cursor": "x" * 5000},
        {"status": "valid-ish"},
        {"level": "99"},
        {"issuer": "no-such-body"},
        {"q": "x" * 201},
        {"q": "a\x00b"},
    ],
)
def test_bad_search_parameters_are_explained(client: TestClient, params: dict[str, str]) -> None:
    response = client.get("/", params={**params, "lang": "en"})
    assert response.status_code == 400
    assert 'role="alert"' in response.text
    assert _rows(response.text) == []


def test_cursor_bound_to_its_filters(client: TestClient) -> None:
    first = client.get("/", params={"lang": "en"}).text
    next_url = re.search(r'<a href="([^"]+)" rel="next">', first)
    assert next_url is not None
    cursor = re.search(r"cursor=([A-Za-z0-9_-]+)", next_url[1])
    assert cursor is not None
    response = client.get("/", params={"cursor": cursor[1], "status": "revoked"})
    assert response.status_code == 400


# -- verify -------------------------------------------------------------------------------------------------------


def _verdict(page: str) -> str:
    found = re.search(r'<span class="verdict-code">\((\w+)\)</span>', page)
    assert found is not None, page
    return found[1]


def test_verify_pasted_tokens(client: TestClient, site: Site) -> None:
    valid = client.post("/verify", data={"jwt": site.tokens["acme"]}, params={"lang": "en"})
    assert valid.status_code == 200
    assert _verdict(valid.text) == "valid"
    assert f'href="/credentials/{site.ids["acme"]}"' in valid.text
    revoked = client.post("/verify", data={"jwt": site.tokens["revoked"]}, params={"lang": "en"}).text
    assert _verdict(revoked) == "invalid"
    assert "revoked" in revoked
    header, payload, signature = site.tokens["acme"].split(".")
    forged = f"{header}.{payload}.{signature[:-4]}AAAA"
    tampered = client.post("/verify", files={"jwt": (None, forged)}, params={"lang": "en"}).text
    assert _verdict(tampered) == "invalid"
    assert "check-failed" in tampered
    garbage = client.post("/verify", data={"jwt": "<b>not a jwt</b>"}, params={"lang": "en"}).text
    assert _verdict(garbage) == "invalid"
    assert "<b>not a jwt" not in garbage


def _checks(page: str) -> dict[str, tuple[str, str, str, str]]:
    """Each check item of a verify page: name -> (label, outcome, plain-language meaning, English detail)."""
    found = re.findall(
        r'<li class="check check-\w+" data-check="([\w.]+)">\s*<span class="mark" aria-hidden="true"></span>\s*'
        r'<strong>(.*?)</strong> — <span class="outcome">(.*?)</span>\s*<br><span class="meaning">(.*?)</span>\s*'
        r'<br><span class="detail" lang="en">(.*?)</span>',
        page,
        flags=re.S,
    )
    return {name: (label, outcome, meaning, detail) for name, label, outcome, meaning, detail in found}


def _japanese(text: str) -> bool:
    return any("\u3040" <= c <= "\u30ff" or "\u4e00" <= c <= "\u9fff" for c in text)


def test_verify_page_explains_every_check_in_the_page_language(client: TestClient, site: Site) -> None:
    """A Japanese reader gets every check, the verdict and the summary in Japanese; the verifier's precise
    English detail stays beside each, marked lang="en" (and the same page in English says it in English)."""
    ja = client.post("/verify", data={"jwt": site.tokens["revoked"]}, params={"lang": "ja"}).text
    assert _verdict(ja) == "invalid"
    checks = _checks(ja)
    assert len(checks) == ja.count('<li class="check ')  # every item matched, none skipped by the pattern
    assert {"signature", "status.revocation", "status.suspension", "issuer_trust"} <= checks.keys()
    for name, (label, outcome, meaning, detail) in checks.items():
        assert all(_japanese(text) for text in (label, outcome, meaning)), name
        assert detail, name
        assert not _japanese(detail), name
    assert checks["signature"][:3] == (
        "署名が正しい",
        "合格",
        "署名は本物です。署名後に内容は一切変更されていません。",
    )
    assert checks["status.revocation"][1:3] == ("不合格", "認証機関がこの証明書を取り消しました。")
    assert "the credential is revoked" in checks["status.revocation"][3]
    summary = re.search(r'<p class="summary">(.*?)<br><span class="detail" lang="en">(.*?)</span>', ja, re.S)
    assert summary is not None
    assert summary[1].strip() == "この証明書を信頼しないでください：認証機関がこの証明書を取り消しました。"  # noqa: RUF001
    assert summary[2].startswith("do not rely on this credential: the credential is revoked")

    en = _checks(client.post("/verify", data={"jwt": site.tokens["revoked"]}, params={"lang": "en"}).text)
    assert en["signature"][:3] == (
        "The signature is genuine",
        "Passed",
        "The signature is genuine: nothing has been changed since it was signed.",
    )
    assert en["status.revocation"][1:3] == ("Failed", "The certification body has revoked this certificate.")

    valid = client.post("/verify", data={"jwt": site.tokens["acme"]}, params={"lang": "ja"}).text
    assert "アクメ株式会社 の証明書は本物で、現在有効です。" in valid
    header, payload, signature = site.tokens["acme"].split(".")
    forged = _checks(
        client.post(
            "/verify", data={"jwt": f"{header}.{payload}.{signature[:-4]}AAAA"}, params={"lang": "ja"}
        ).text
    )
    assert forged["signature"][1:3] == (
        "不合格",
        "署名が一致しません。署名後に改ざんされたか、偽造された証明書です。",
    )
    assert forged["status"][1:3] == ("未確認", "前の確認が不合格のため、確認していません。")


def test_every_check_and_problem_of_the_verifier_has_a_translated_explanation() -> None:
    """A new check name or problem type in the verifier must get its plain-language line here too."""
    from registry.web import i18n
    from registry.web.labels import CHECK, CHECK_PASSED, PROBLEM
    from verifier import CHECK_NAMES, problems

    uris = {
        v for k, v in vars(problems).items() if k.isupper() and not k.startswith("_") and isinstance(v, str)
    }
    assert sorted(uris - PROBLEM.keys()) == []
    assert sorted(set(CHECK_NAMES) - CHECK_PASSED.keys()) == []
    assert sorted(set(CHECK_NAMES) - CHECK.keys()) == []
    japanese = i18n.translations("ja").gettext
    for message in [*PROBLEM.values(), *CHECK_PASSED.values()]:
        assert _japanese(japanese(message)), message


def test_verify_baked_badges(client: TestClient, site: Site) -> None:
    for kind in ("svg", "png"):
        badge = client.get(f"/credentials/{site.ids['acme']}/badge.{kind}", params={"lang": "en"})
        assert badge.status_code == 200
        assert extract_badge(badge.content).token == site.tokens["acme"]
        result = client.post(
            "/verify", files={"file": (f"badge.{kind}", badge.content)}, params={"lang": "en"}
        ).text
        assert _verdict(result) == "valid", kind


def test_verify_tampered_svg_badge(client: TestClient, site: Site) -> None:
    svg = client.get(f"/credentials/{site.ids['acme']}/badge.svg", params={"lang": "en"}).text
    edited = svg.replace("ACME Corp.", "EVIL Corp.")
    assert edited != svg
    result = client.post(
        "/verify", files={"file": ("badge.svg", edited.encode())}, params={"lang": "en"}
    ).text
    assert _verdict(result) == "invalid"
    assert "edited" in result


def test_verify_qr_image(client: TestClient, site: Site) -> None:
    image = qrcode.make(f"{site.settings.public_url}/credentials/{site.ids['acme']}")
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    result = client.post("/verify", files={"file": ("qr.png", buffer.getvalue())}, params={"lang": "en"}).text
    assert _verdict(result) == "valid"
    # A QR code of another site is not followed (nothing is fetched).
    other = qrcode.make("https://elsewhere.example/credentials/" + site.ids["acme"])
    buffer = io.BytesIO()
    other.save(buffer, format="PNG")
    refused = client.post("/verify", files={"file": ("qr.png", buffer.getvalue())}, params={"lang": "en"})
    assert refused.status_code == 400
    assert "no QR code of this registry" in refused.text


def test_a_burst_of_qr_uploads_decodes_two_pictures_at_a_time(
    client: TestClient, site: Site, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each decode may take ≈ 60 MB: eight uploads at once (the threadpool takes 40) queue for two slots."""
    running, most = 0, 0
    lock = threading.Lock()
    real = checking.decode_qr

    def decode_slowly(data: bytes) -> list[str]:
        nonlocal running, most
        with lock:
            running += 1
            most = max(most, running)
        time.sleep(0.05)
        with lock:
            running -= 1
        return real(data)

    monkeypatch.setattr(checking, "decode_qr", decode_slowly)
    image = qrcode.make(f"{site.settings.public_url}/credentials/{site.ids['acme']}")
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    with ThreadPoolExecutor(8) as pool:
        answers = list(
            pool.map(
                lambda _: client.post("/verify", files={"file": ("qr.png", buffer.getvalue())}).status_code,
                range(8),
            )
        )
    assert answers == [200] * 8
    assert most == 2


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"%PDF-1.7 not an image", "This file is not a badge"),
        (b"\x89PNG\r\n\x1a\n" + b"\x00" * 64, "This file is not a badge"),
        (b'<?xml version="1.0"?><!DOCTYPE svg [<!ENTITY a "aaaa">]><svg>&a;</svg>', "not a badge that can"),
        (b"<svg xmlns='http://www.w3.org/2000/svg'></svg>", "not a badge that can"),
    ],
)
def test_verify_refuses_what_is_not_a_badge(client: TestClient, content: bytes, message: str) -> None:
    response = client.post("/verify", files={"file": ("upload.bin", content)}, params={"lang": "en"})
    assert response.status_code == 400
    assert message in response.text
    assert response.headers["content-type"].startswith("text/html")


def test_verify_upload_caps(client: TestClient, site: Site) -> None:
    over_page_cap = b"<svg>" + b" " * checking.MAX_UPLOAD_BYTES
    page = client.post("/verify", files={"file": ("big.svg", over_page_cap)}, params={"lang": "en"})
    assert page.status_code == 413
    assert "too large" in page.text
    over_body_cap = b"\x89PNG" + b"\x00" * site.settings.max_body_bytes
    problem = client.post("/verify", files={"file": ("huge.png", over_body_cap)})
    assert problem.status_code == 413
    assert problem.headers["content-type"] == "application/problem+json"


def test_verify_form_errors(client: TestClient) -> None:
    assert client.post("/verify", data={"jwt": "  "}).status_code == 400
    assert client.post("/verify").status_code == 415  # no form at all
    assert client.post("/verify", files={"file": ("empty.svg", b"")}).status_code == 400
    wrong_type = client.post("/verify", content=b"{}", headers={"Content-Type": "application/json"})
    assert wrong_type.status_code == 415
    too_many = client.post("/verify", data={f"f{i}": "x" for i in range(10)})
    assert too_many.status_code == 400


# -- the rest -----------------------------------------------------------------------------------------------------


def test_live_badge_follows_status(client: TestClient, site: Site) -> None:
    revoked = client.get(f"/credentials/{site.ids['revoked']}/badge.svg", params={"lang": "en"}).text
    assert "REVOKED" in revoked.upper()
    valid = client.get(f"/credentials/{site.ids['acme']}/badge.svg", params={"lang": "en"}).text
    assert "REVOKED" not in valid.upper()
    download = client.get(f"/credentials/{site.ids['acme']}/badge.png", params={"download": "1"})
    assert download.headers["content-disposition"] == f'attachment; filename="aigov-{site.ids["acme"]}.png"'
    assert download.headers["content-type"] == "image/png"


def test_qr_code_and_static_files(client: TestClient, site: Site) -> None:
    qr = client.get(f"/credentials/{site.ids['acme']}/qr.svg")
    assert qr.status_code == 200
    assert qr.headers["content-type"] == "image/svg+xml"
    assert b"<svg" in qr.content
    css = client.get("/static/site.css")
    assert css.headers["content-type"] == "text/css; charset=utf-8"
    assert client.get("/static/site.js").headers["content-type"] == "text/javascript; charset=utf-8"
    assert client.get("/static/../app.py").status_code == 404
    assert client.get("/static/nope.css").status_code == 404


def test_bodies_page_shows_accreditation_and_keys(client: TestClient, site: Site) -> None:
    page = client.get("/bodies", params={"lang": "ja"}).text
    assert "ウェブ認証機関" in page
    assert "認定中" in page
    assert "/issuers/web-cb/did.json" in page
    assert "EdDSA" in page
    assert "使用中" in page
    assert "レベル 1, 2" in page  # the accreditation: scheme, levels and period
    assert "2029年10月31日 まで" in page


def test_fast_and_session_reads_agree(client: TestClient, site: Site) -> None:
    app: Any = client.app
    for name in ("acme", "revoked", "hostile"):
        key = uuid.UUID(site.ids[name])
        fast = app.state.reader.run(
            lambda connection, key=key: views.certificate_sqlite(key, NOW, connection)
        )
        slow = views.certificate_session(app.state.engine, key, NOW)
        assert isinstance(fast, views.CertificateView)
        assert fast == slow
    assert views.certificate_session(app.state.engine, uuid.uuid4(), NOW) is False


def test_rendered_pages_follow_every_change(client: TestClient, site: Site) -> None:
    issued = client.post(
        "/api/v1/credentials", json=decision("AIGC-WEB-000100", corporateNumber=None), headers=site.bearer
    )
    assert issued.status_code == 201
    path = f"/credentials/{issued.json()['id']}"
    for _ in range(2):  # the second is served from the render cache
        page = client.get(path, params={"lang": "en"}, headers=HTML)
        assert "This certificate is valid" in page.text
        assert page.headers["set-cookie"].startswith("aigov_lang=en;")
        assert page.headers["content-security-policy"]
    for action, body, expected in (
        ("suspend", {"reasonCode": "company_request"}, "This certificate is suspended"),
        ("reinstate", {}, "This certificate is valid"),
        ("revoke", {"reasonCode": "other", "reason": "closed"}, "This certificate has been revoked"),
    ):
        changed = client.post(f"/api/v1/{path.lstrip('/')}/{action}", json=body, headers=site.bearer)
        assert changed.status_code == 200, changed.text
        page = client.get(path, params={"lang": "en"}, headers=HTML).text
        assert expected in page
    assert page.count('<time datetime="') == 4


@pytest.mark.postgres
@pytest.mark.slow
def test_pages_on_postgresql(site: Site) -> None:
    """The same pages on PostgreSQL, where every read takes the session path (no loop reader)."""
    admin_url = os.environ.get("AIGOV_TEST_DATABASE_URL")
    if not admin_url:
        reason = "PostgreSQL tests need AIGOV_TEST_DATABASE_URL"
        if os.environ.get("AIGOV_REQUIRE_ALL") == "1":
            pytest.fail(f"AIGOV_REQUIRE_ALL=1: {reason}")
        pytest.skip(reason)
    name = f"aigov_web_{secrets.token_hex(5)}"
    admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT", poolclass=sa.NullPool)
    with admin.connect() as connection:
        connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
    url = make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    try:
        upgrade(url)
        settings = site.settings.model_copy(update={"database_url": url})
        engine = make_engine(url, pool_size=1, max_overflow=0)
        with Session(engine, expire_on_commit=False) as session:
            add_scheme(session=session, scheme=load_scheme(), now=NOW)
            body = create_body(
                session=session,
                data=CertificationBodyCreate(slug="web-cb", name_en="PG CB", scheme_id=load_scheme().id),
                public_url=settings.public_url,
                now=NOW,
            )
            session.commit()
            _, secret = create_token(session=session, body=body, scopes=[s.value for s in Scope], now=NOW)
            session.commit()
            accredit(session, settings, body)
        engine.dispose()
        with TestClient(create_app(settings, clock=lambda: NOW, key_cache=site.key_cache)) as pg:
            assert pg.app.state.reader is None  # type: ignore[attr-defined]
            bearer = {"Authorization": f"Bearer {secret}"}
            issued = pg.post("/api/v1/credentials", json=decision("AIGC-PG-000001"), headers=bearer).json()
            pg.post(
                f"/api/v1/credentials/{issued['id']}/revoke", json={"reasonCode": "other"}, headers=bearer
            )
            page = pg.get(f"/credentials/{issued['id']}", params={"lang": "en"}, headers=HTML).text
            assert "This certificate has been revoked" in page
            assert _rows(pg.get("/", params={"q": "アクメ"}).text) == [issued["id"]]
            assert "REVOKED" in pg.get(f"/credentials/{issued['id']}/badge.svg", params={"lang": "en"}).text
            verified = pg.post("/verify", data={"jwt": issued["token"]}, params={"lang": "en"}).text
            assert _verdict(verified) == "invalid"
            assert pg.get("/bodies").status_code == 200
    finally:
        with admin.connect() as connection:
            connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}"')
        admin.dispose()
