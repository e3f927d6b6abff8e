"""The pages in a real browser: Debian's Chromium driven by playwright, against the registry served by uvicorn
on loopback (tests/web/conftest.py). One browser for the session; each test gets a fresh context."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

from .conftest import Site

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def _no_csp_violations(page: Any) -> list[str]:
    """Collects console errors (a CSP violation is reported there)."""
    errors: list[str] = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    return errors


def test_search_finds_a_company_by_its_japanese_name(page: Any, live_url: str) -> None:
    errors = _no_csp_violations(page)
    page.goto(f"{live_url}/?lang=ja")
    page.fill("#q", "アクメ")
    page.press("#q", "Enter")
    page.wait_for_url("**q=*")
    rows = page.locator("table.results tbody tr")
    assert rows.count() == 1
    assert "アクメ株式会社" in rows.first.inner_text()
    assert "有効" in rows.first.locator(".status").inner_text()
    rows.first.locator("a").click()
    assert "この認証は有効です" in page.locator("#status-heading").inner_text()
    assert page.locator("img.badge").evaluate("img => img.complete && img.naturalWidth > 0")
    assert page.locator("img.qr").evaluate("img => img.complete && img.naturalWidth > 0")
    assert page.locator("button.copy").is_visible()  # site.js shows it where the clipboard API exists
    assert errors == []


def test_revoked_through_the_api_shows_on_page_and_live_badge(
    page: Any, browser: Any, live_url: str, site: Site
) -> None:
    credential_id = site.ids["browser-revoke"]
    badge_url = f"{live_url}/credentials/{credential_id}/badge.svg?lang=en"
    page.goto(badge_url)
    assert "REVOKED" not in page.locator("svg").inner_html()
    response = httpx.post(
        f"{live_url}/api/v1/credentials/{credential_id}/revoke",
        json={"reasonCode": "misuse_of_mark", "reason": "badge shown for uncertified products"},
        headers=site.bearer,
        timeout=10,
    )
    assert response.status_code == 200
    page.goto(f"{live_url}/credentials/{credential_id}?lang=en")
    banner = page.locator("section.banner")
    assert "revoked" in banner.inner_text().lower()
    assert "Misuse of the certification mark" in banner.inner_text()
    # The banner's colour comes from the stylesheet (no inline style): red for revoked.
    assert banner.evaluate("el => getComputedStyle(el).borderLeftColor") == "rgb(207, 34, 46)"
    # A new visitor (the badge may be cached for a minute by browsers that showed it before).
    visitor = browser.new_context(locale="ja-JP")
    try:
        badge = visitor.new_page()
        badge.goto(badge_url)
        assert "REVOKED" in " ".join(badge.locator("svg text").all_text_contents())
    finally:
        visitor.close()


def _download(page: Any, url: str, path: Path) -> Path:
    response = page.request.get(url)
    assert response.ok
    path.write_bytes(response.body())
    return path


def _verdict(page: Any) -> str:
    return str(page.locator("#verdict-heading").inner_text())


@pytest.mark.parametrize("kind", ["svg", "png"])
def test_verify_page_accepts_baked_badges(
    page: Any, live_url: str, site: Site, tmp_path: Path, kind: str
) -> None:
    errors = _no_csp_violations(page)
    badge = _download(
        page, f"{live_url}/credentials/{site.ids['acme']}/badge.{kind}?lang=en", tmp_path / f"badge.{kind}"
    )
    page.goto(f"{live_url}/verify?lang=en")
    page.set_input_files("#file", str(badge))
    page.click("form.verify button[type=submit]")
    page.wait_for_selector("#verdict-heading")
    assert "(valid)" in _verdict(page)
    assert page.locator("li.check-failed").count() == 0
    assert errors == []


def test_tampered_badge_is_invalid_with_the_reason(
    page: Any, live_url: str, site: Site, tmp_path: Path
) -> None:
    original = page.request.get(f"{live_url}/credentials/{site.ids['acme']}/badge.svg?lang=en").text()
    tampered = tmp_path / "tampered.svg"
    tampered.write_text(original.replace("ACME Corp.", "EVIL Corp."), encoding="utf-8")
    page.goto(f"{live_url}/verify?lang=en")
    page.set_input_files("#file", str(tampered))
    page.click("form.verify button[type=submit]")
    page.wait_for_selector("#verdict-heading")
    assert "(invalid)" in _verdict(page)
    failed = page.locator("li.check-failed")
    assert failed.count() >= 1
    assert "edited" in failed.first.inner_text()


def test_verify_page_in_japanese_explains_each_check(page: Any, live_url: str, site: Site) -> None:
    """A Japanese reader sees every check explained in Japanese, the verifier's English detail beside it."""
    page.goto(f"{live_url}/verify?lang=ja")
    page.fill("#jwt", site.tokens["revoked"])
    page.click("form.verify button[type=submit]")
    page.wait_for_selector("#verdict-heading")
    assert "(invalid)" in _verdict(page)
    assert "認証機関がこの証明書を取り消しました。" in page.locator("p.summary").inner_text()
    signature = page.locator("li[data-check='signature']")
    assert "署名は本物です。" in signature.locator(".meaning").inner_text()
    revocation = page.locator("li[data-check='status.revocation']")
    assert "不合格" in revocation.locator(".outcome").inner_text()
    assert "認証機関がこの証明書を取り消しました。" in revocation.locator(".meaning").inner_text()
    detail = revocation.locator(".detail")
    assert detail.get_attribute("lang") == "en"
    assert "revoked" in detail.inner_text()


def test_language_switch_works_and_is_remembered(page: Any, live_url: str) -> None:
    page.goto(f"{live_url}/about")  # the context prefers English
    assert page.locator("html").get_attribute("lang") == "en"
    page.click("#lang-ja")
    assert page.locator("html").get_attribute("lang") == "ja"
    assert page.locator("h1").inner_text() == "このサイトとAPI"
    page.click("header nav a[href='/verify']")  # a plain link, no ?lang=: the cookie remembers
    assert page.locator("html").get_attribute("lang") == "ja"
    assert page.locator("h1").inner_text() == "認証を検証する"
    page.click("#lang-en")
    page.goto(f"{live_url}/bodies")
    assert page.locator("html").get_attribute("lang") == "en"


def _tab_until(page: Any, element_id: str, limit: int = 30) -> list[str]:
    seen = []
    for _ in range(limit):
        page.keyboard.press("Tab")
        focused = page.evaluate(
            "document.activeElement && (document.activeElement.id || document.activeElement.tagName)"
        )
        seen.append(focused)
        if focused == element_id:
            return seen
    raise AssertionError(f"Tab never reached #{element_id}: {seen}")


def test_keyboard_reaches_search_and_verify_form(page: Any, live_url: str, site: Site) -> None:
    page.goto(f"{live_url}/?lang=en")
    _tab_until(page, "q")
    page.keyboard.type("Withdrawn")
    page.keyboard.press("Enter")
    page.wait_for_url("**q=Withdrawn*")
    assert page.locator("table.results tbody tr").count() == 1
    page.goto(f"{live_url}/verify?lang=en")
    _tab_until(page, "file")
    _tab_until(page, "jwt", limit=3)
    page.keyboard.insert_text(site.tokens["acme"])  # typed at once: 3 KB key by key takes half a minute
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.type") == "submit"
    page.keyboard.press("Enter")
    page.wait_for_selector("#verdict-heading")
    assert "(valid)" in _verdict(page)
