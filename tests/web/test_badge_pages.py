"""Badges on the registry's pages: an upload the SVG reader refuses is explained on the page (never a 500), and
the live badge links to the credential's id as signed, so it keeps verifying after the registry's public URL
changes (AIGOV_PUBLIC_URL)."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from registry.app import create_app
from verifier import Outcome, compare_badge_text, extract_badge, parse_compact

from .conftest import Site, fixed_clock

ENCODINGS = ["shift_jis", "cp932", "euc-jp", "utf-7", "utf-32", "idna", "punycode", "undefined"]
MOVED_URL = "https://registry-moved.example"
pytestmark = pytest.mark.badges  # the live badge's QR code is read back


def _verdict(page: str) -> str:
    found = re.search(r'<span class="verdict-code">\((\w+)\)</span>', page)
    assert found is not None, page
    return found[1]


@pytest.mark.parametrize("encoding", ENCODINGS)
def test_an_svg_in_an_encoding_expat_cannot_take_is_explained_not_a_500(
    client: TestClient, site: Site, encoding: str
) -> None:
    """The live badge re-declared as Shift_JIS (its bytes are ASCII, so it is even true) and uploaded."""
    svg = client.get(f"/credentials/{site.ids['acme']}/badge.svg", params={"lang": "en"}).content
    declared = svg.replace(b'encoding="UTF-8"', f'encoding="{encoding}"'.encode(), 1)
    assert declared != svg
    response = client.post("/verify", files={"file": ("badge.svg", declared)}, params={"lang": "en"})
    assert response.status_code == 400, response.text
    assert response.headers["content-type"].startswith("text/html")
    assert "not a badge that can" in response.text
    assert (
        f"the encoding its XML declaration names (&#39;{encoding}&#39;) cannot be read here" in response.text
    )
    assert "Traceback" not in response.text


@pytest.fixture(scope="module")
def moved(site: Site) -> Iterator[TestClient]:
    """The same registry (database, keys) served under another public URL, as after an operator changes it."""
    settings = site.settings.model_copy(update={"public_url": MOVED_URL})
    with TestClient(create_app(settings, clock=fixed_clock, key_cache=site.key_cache)) as test_client:
        yield test_client


@pytest.mark.parametrize("lang", ["ja", "en"])
def test_live_badges_keep_verifying_after_the_public_url_changes(
    client: TestClient, moved: TestClient, site: Site, lang: str
) -> None:
    issued_under = f"{site.settings.public_url}/credentials/{site.ids['acme']}"
    svg = moved.get(f"/credentials/{site.ids['acme']}/badge.svg", params={"lang": lang})
    assert svg.status_code == 200
    assert f'<a href="{issued_under}"' in svg.text  # the id as signed, not today's public URL
    assert MOVED_URL not in svg.text
    badge = extract_badge(svg.content)
    assert badge.token == site.tokens["acme"]
    payload = parse_compact(badge.token).payload
    assert payload["id"] == issued_under
    assert compare_badge_text(badge, payload).outcome is Outcome.PASSED  # link and QR code read by zxing-cpp
    verified = client.post("/verify", files={"file": ("badge.svg", svg.content)}, params={"lang": "en"}).text
    assert _verdict(verified) == "valid"
    png = moved.get(f"/credentials/{site.ids['acme']}/badge.png", params={"lang": lang})
    assert png.status_code == 200
    verified = client.post("/verify", files={"file": ("badge.png", png.content)}, params={"lang": "en"}).text
    assert _verdict(verified) == "valid"


def test_the_live_badge_of_an_unmoved_registry_links_to_the_same_page(client: TestClient, site: Site) -> None:
    svg = client.get(f"/credentials/{site.ids['revoked']}/badge.svg", params={"lang": "en"}).text
    assert f'<a href="{site.settings.public_url}/credentials/{site.ids["revoked"]}"' in svg
