"""Badge rendering: the SVG and PNG of real signed certificates, baked the Open Badges 3.0 way, with a QR code
that a real decoder (zxing-cpp) reads, accessible markup, status ribbons, escaping, and clear errors.
"""

from __future__ import annotations

import importlib.util
import io
import os
import re
import struct
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import pytest

from issuer import (
    BadgeRenderError,
    Issuer,
    StatusSlot,
    parse_decision,
    render_badge_png,
    render_badge_svg,
    render_qr_svg,
)
from issuer._badge import FONT_CANDIDATES, find_cjk_font
from verifier import Outcome, compare_badge_text, extract_badge


def _require(ok: bool, reason: str) -> None:
    """Skip when a component is missing, or fail under AIGOV_REQUIRE_ALL=1 (as .ci/run sets it)."""
    if not ok:
        if os.environ.get("AIGOV_REQUIRE_ALL") == "1":
            pytest.fail(f"AIGOV_REQUIRE_ALL=1: {reason}")
        pytest.skip(reason, allow_module_level=True)


_require(
    all(importlib.util.find_spec(name) for name in ("PIL", "zxingcpp")),
    "the badges extra is not installed: pip install 'aigov[badges]'",
)
_require(
    any(path.is_file() for path in FONT_CANDIDATES),
    "no CJK font for PNG badges: apt-get install fonts-ipafont-gothic",
)

zxingcpp: Any = importlib.import_module("zxingcpp")  # after the skip above
Image: Any = importlib.import_module("PIL.Image")

PAGE = "https://registry.example/credentials/5a1d7c52-6f0e-4b7e-9f1a-2b3c4d5e6f70"
OB3 = "https://purl.imsglobal.org/ob/v3p0"
SVG = "http://www.w3.org/2000/svg"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
STATUSES = ("valid", "suspended", "revoked", "expired")


def parse_xml(text: str) -> ElementTree.Element:
    """Python's own XML reader, independent of ours, on our own output (trusted here, hence the noqa)."""
    return ElementTree.fromstring(text)  # noqa: S314


@pytest.fixture
def issue(
    make_issuer: Callable[..., Issuer], make_decision: Callable[..., dict[str, Any]]
) -> Callable[..., Any]:
    """Issue a real signed certificate; keyword arguments replace members of the decision's subject."""

    def issue(**subject: Any) -> Any:
        return make_issuer().issue(
            parse_decision(make_decision(subject=subject)),
            revocation=StatusSlot("https://registry.example/status/1", 48213),
            suspension=StatusSlot("https://registry.example/status/2", 1234),
        )

    return issue


@pytest.fixture
def token(issue: Callable[..., Any]) -> str:
    return str(issue().token)


def decode(png: bytes) -> list[str]:
    """zxing-cpp directly on the PNG (not through verifier.decode_qr)."""
    with Image.open(io.BytesIO(png)) as image:
        return [b.text for b in zxingcpp.read_barcodes(image.convert("L"))]


def itxt_chunks(png: bytes) -> list[bytes]:
    """The data of every iTXt chunk, by an independent walk of the PNG (CRCs asserted)."""
    position, found = 8, []
    while position < len(png):
        (length,) = struct.unpack(">I", png[position : position + 4])
        kind, body = png[position + 4 : position + 8], png[position + 8 : position + 8 + length]
        assert (
            zlib.crc32(kind + body)
            == struct.unpack(">I", png[position + 8 + length : position + 12 + length])[0]
        )
        if kind == b"iTXt":
            found.append(body)
        position += 12 + length
    return found


# -- SVG ----------------------------------------------------------------------------------------------------------
def test_svg_is_baked_accessible_and_shows_the_certificate(token: str) -> None:
    svg = render_badge_svg(token, page_url=PAGE)
    root = parse_xml(svg)
    assert root.get("role") == "img"
    assert (root.get("lang"), root.get(XML_LANG)) == ("ja", "ja")
    [title] = root.findall(f"{{{SVG}}}title")
    [desc] = root.findall(f"{{{SVG}}}desc")
    assert root.get("aria-labelledby") == f"{title.get('id')} {desc.get('id')}"
    assert "アクメ株式会社" in (title.text or "")
    assert "AIGC-2026-000123" in (desc.text or "")
    credentials = root.findall(f"{{{OB3}}}credential")
    assert len(credentials) == 1
    assert credentials[0].get("verify") == token
    assert svg.count("openbadges:credential") == 2  # one element: its start and end tags
    texts = {e.get("data-field"): "".join(e.itertext()) for e in root.iter(f"{{{SVG}}}text")}
    assert texts["company-ja"] == "アクメ株式会社"
    assert texts["company-en"] == "ACME Corp."
    assert texts["level"] == "2"
    assert texts["number"] == "AIGC-2026-000123"
    assert texts["valid-until"] == "2029-10-31"
    assert texts["scheme"].startswith("EXAMPLE AI Governance Certification Scheme")
    assert "status" not in texts
    [link] = root.iter(f"{{{SVG}}}a")
    assert link.get("href") == PAGE


def test_svg_in_english(token: str) -> None:
    root = parse_xml(render_badge_svg(token, page_url=PAGE, lang="en"))
    assert root.get(XML_LANG) == "en"
    labels = {e.get("data-field"): e.text for e in root.iter(f"{{{SVG}}}text")}
    assert labels["number-label"] == "Certificate No."
    assert labels["valid-until-label"] == "Valid until"


@pytest.mark.parametrize("status", STATUSES)
def test_status_ribbons(token: str, status: str) -> None:
    svg = render_badge_svg(token, page_url=_payload(token)["id"], status=status)
    root = parse_xml(svg)
    ribbons = [e.text or "" for e in root.iter(f"{{{SVG}}}text") if e.get("data-field") == "status"]
    assert ribbons
    assert all(status.upper() in text for text in ribbons)
    # A withdrawn certificate is stamped across the card as well as on the ribbon.
    assert len(ribbons) == (1 if status == "valid" else 2)
    assert status.upper() in (root.findtext(f"{{{SVG}}}desc") or "")
    assert compare_badge_text(extract_badge(svg.encode()), _payload(token)).outcome is Outcome.PASSED


def test_long_names_are_squeezed_not_cut(issue: Callable[..., Any]) -> None:
    long_name = "株式会社" + "とても長い名前の人工知能研究開発" * 5
    issued = issue(legalName={"ja": long_name, "en": "A" * 150})
    root = parse_xml(render_badge_svg(issued.token, page_url=PAGE))
    [company] = [e for e in root.iter(f"{{{SVG}}}text") if e.get("data-field") == "company-ja"]
    assert company.text == long_name
    assert company.get("lengthAdjust") == "spacingAndGlyphs"
    assert company.get("textLength") == "262"


def test_a_company_with_one_name_only(issue: Callable[..., Any]) -> None:
    issued = issue(legalName={"en": "Only English Ltd."})
    svg = render_badge_svg(issued.token, page_url=issued.credential["id"])
    assert 'data-field="company-ja"' not in svg
    assert compare_badge_text(extract_badge(svg.encode()), issued.credential).outcome is Outcome.PASSED


def rasterize_qr_path(svg: str) -> Any:
    """The badge's vector QR, rasterized by hand from its path (6 px a module, 4 modules of quiet zone)."""
    root = parse_xml(svg)
    [qr] = [p for p in root.iter(f"{{{SVG}}}path") if p.get("shape-rendering") == "crispEdges"]
    runs = [
        tuple(int(v) for v in run) for run in re.findall(r"M(\d+) (\d+)h(\d+)v1h-\d+z", qr.get("d") or "")
    ]
    assert runs
    size = 1 + max(y for _, y, _ in runs)
    scale, border = 6, 4
    image = Image.new("L", ((size + 2 * border) * scale,) * 2, 255)
    for x, y, width in runs:
        image.paste(
            0,
            (
                (x + border) * scale,
                (y + border) * scale,
                (x + width + border) * scale,
                (y + border + 1) * scale,
            ),
        )
    return image


def decoded(image: Any) -> list[str]:
    return [b.text for b in zxingcpp.read_barcodes(image)]


def test_the_svg_qr_path_is_a_real_qr_code(token: str) -> None:
    """The vector QR, rasterized by hand from its path, decodes to the page URL."""
    assert decoded(rasterize_qr_path(render_badge_svg(token, page_url=PAGE))) == [PAGE]


QR_URLS = [
    pytest.param("https://registry.example/credentials/0f7c1c8e-3d5a-4a39-9d7e-0c1d2e3f4a5b", id="ascii"),
    pytest.param("HTTPS://R.EXAMPLE/C/0F7C1C8E", id="upper-case-alphanumeric-mode"),
    pytest.param("https://registry.example/" + "credentials/" * 60 + "end?x=1", id="long-740-chars"),
    pytest.param(
        "https://registry.example/%E8%A8%BC%E6%98%8E%E6%9B%B8/0f7c1c8e?q=a%20b&lang=ja#top",
        id="percent-encoded",
    ),
    pytest.param("https://registry.example/a", id="short"),
]


@pytest.mark.parametrize("url", QR_URLS)
def test_every_qr_rendering_decodes_to_its_url(token: str, url: str) -> None:
    """The SVG path, the PNG pixels and the standalone QR SVG all decode (zxing-cpp) to exactly `url`."""
    assert decoded(rasterize_qr_path(render_badge_svg(token, page_url=url))) == [url]
    with Image.open(io.BytesIO(render_badge_png(token, page_url=url, scale=1))) as image:
        image.load()
        assert decoded(image) == [url]
    standalone = render_qr_svg(url)
    root = parse_xml(standalone)
    assert root.get("viewBox", "").startswith("0 0 ")
    # The standalone SVG's path is the badge's path (one encoder, one cache).
    [path] = list(root.iter(f"{{{SVG}}}path"))
    assert f'd="{path.get("d")}"' in render_badge_svg(token, page_url=url)


def test_a_page_url_too_long_for_a_qr_code_is_refused_clearly(token: str) -> None:
    too_long = "https://registry.example/" + "a" * 2400  # a version 40 code holds 2,331 bytes at level M
    with pytest.raises(BadgeRenderError, match="does not fit in a QR code"):
        render_badge_svg(token, page_url=too_long)
    with pytest.raises(BadgeRenderError, match="does not fit in a QR code"):
        render_badge_png(token, page_url=too_long)


@pytest.mark.parametrize(
    ("url", "message"),
    [("", "needs a page URL"), ("https://registry.example/\ud800", "not encodable text")],
    ids=["empty", "lone-surrogate"],
)
def test_a_page_url_that_is_no_text_is_refused_clearly(token: str, url: str, message: str) -> None:
    with pytest.raises(BadgeRenderError, match=message):
        render_badge_svg(token, page_url=url)


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("javascript:alert(1)", "must be an https URL, not a javascript: URL"),
        ("JavaScript:alert(1)", "must be an https URL, not a javascript: URL"),
        ("data:image/svg+xml,<svg/>", "not a data: URL"),
        ("ftp://registry.example/c", "not a ftp: URL"),
        ("//registry.example/c", "not a relative one"),
        ("http://registry.example/c", "plain http is allowed only to a loopback host"),
        ("http://10.0.0.1/c", "plain http is allowed only to a loopback host"),
        ("https://registry.example@evil.example/c", "user information"),
        ("https://registry.example/c d", "without spaces, quotes or angle brackets"),
        ("https:///c", "without spaces, quotes or angle brackets"),
        ("https://registry.example:http/c", "is not a URL"),
    ],
)
def test_a_page_url_that_is_not_https_is_refused(token: str, url: str, message: str) -> None:
    for render in (render_badge_svg, render_badge_png):
        with pytest.raises(BadgeRenderError, match=f"^page URL refused: .*{re.escape(message)}"):
            render(token, page_url=url)


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8000/credentials/x",
        "http://localhost/c",
        "http://[::1]:8000/c",
        "https://r.example/c",
    ],
)
def test_https_and_plain_http_to_loopback_are_drawn(token: str, url: str) -> None:
    assert f'<a href="{url}">' in render_badge_svg(token, page_url=url)


def test_a_qr_code_wider_than_its_png_box_is_refused_not_drawn_over_the_badge(token: str) -> None:
    long = "https://registry.example/credentials/" + "a" * 1500  # > 150 modules with the quiet zone
    with pytest.raises(BadgeRenderError, match="more than a PNG at scale 1 has pixels for"):
        render_badge_png(token, page_url=long, scale=1)
    assert decode(render_badge_png(token, page_url=long, scale=4)) == [long]  # 4 px a module scans


# -- PNG ----------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("status", [None, "revoked"])
def test_png_is_baked_once_uncompressed_and_its_qr_opens_the_page(token: str, status: str | None) -> None:
    png = render_badge_png(token, page_url=PAGE, status=status)
    [chunk] = itxt_chunks(png)
    keyword, rest = chunk.split(b"\0", 1)
    assert keyword == b"openbadgecredential"
    assert rest[:2] == b"\0\0"  # compression flag 0, method 0
    language, translated, text = rest[2:].split(b"\0", 2)
    assert (language, translated, text) == (b"", b"", token.encode())
    with Image.open(io.BytesIO(png)) as image:
        image.load()
        assert image.size == (1520, 672 if status else 584)
    assert decode(png) == [PAGE]  # even veiled under a "revoked" stamp


def test_png_at_scale_one_still_scans(token: str) -> None:
    png = render_badge_png(token, page_url=PAGE, scale=1)
    with Image.open(io.BytesIO(png)) as image:
        assert image.size == (760, 292)
    assert decode(png) == [PAGE]
    with pytest.raises(BadgeRenderError, match="scale must be 1, 2, 3 or 4, not 5"):
        render_badge_png(token, page_url=PAGE, scale=5)


def test_png_in_english_with_every_status_renders(token: str) -> None:
    for status in STATUSES:
        png = render_badge_png(token, page_url=PAGE, status=status, lang="en")
        assert extract_badge(png).token == token


def test_png_without_a_font_fails_clearly(token: str, tmp_path: Path) -> None:
    with pytest.raises(
        BadgeRenderError, match="no Japanese font found for PNG badges: install Debian's fonts-ipafont-gothic"
    ):
        find_cjk_font((tmp_path / "missing.ttf",))
    not_a_font = tmp_path / "font.ttf"
    not_a_font.write_bytes(b"not a font")
    with pytest.raises(BadgeRenderError, match="cannot use the font"):
        render_badge_png(token, page_url=PAGE, font_files=[not_a_font])


# -- errors -------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("token", "message"),
    [
        ("not a token", "a compact JWS has three parts"),
        ("a.!!!.c", "not a credential token"),
        ("a.WzFd.c", "the payload is not a JSON object"),
    ],
)
def test_a_non_credential_is_refused(token: str, message: str) -> None:
    with pytest.raises(BadgeRenderError, match=message):
        render_badge_svg(token, page_url=PAGE)
    with pytest.raises(BadgeRenderError, match=message):
        render_badge_png(token, page_url=PAGE)


def test_unknown_language_or_status_is_refused(token: str) -> None:
    with pytest.raises(BadgeRenderError, match="lang must be one of ja, en"):
        render_badge_svg(token, page_url=PAGE, lang="fr")
    with pytest.raises(BadgeRenderError, match="status must be one of"):
        render_badge_png(token, page_url=PAGE, status="ok")


def _payload(token: str) -> dict[str, Any]:
    import json

    from keys import b64url_decode

    payload: dict[str, Any] = json.loads(b64url_decode(token.split(".")[1]))
    return payload
