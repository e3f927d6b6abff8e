"""Baked badges in the verifier: extraction from SVG and PNG, hostile images, the picture-versus-credential check,
and QR codes read from images.

Badges are drawn by the real renderer (issuer.render_badge_*) from tokens signed with real keys (`world`);
hostile inputs are built here byte by byte, with CRCs computed by zlib, so each one fails for one reason only.
"""

from __future__ import annotations

import importlib
import io
import struct
import time
import zlib
from typing import Any
from xml.etree import ElementTree

import pytest

import issuer
from verifier import (
    Badge,
    BadgeError,
    Outcome,
    Verdict,
    badge_text,
    compare_badge_text,
    decode_qr,
    extract_badge,
    verify_badge,
)

pytestmark = pytest.mark.badges(font=True)

PAGE = "https://registry.example/credentials/0f7c1c8e-3d5a-4a39-9d7e-0c1d2e3f4a5b"
OB3 = "https://purl.imsglobal.org/ob/v3p0"
SVG_NS = "http://www.w3.org/2000/svg"
BADGE_MISMATCH = "urn:aigov:problem:badge-mismatch"
NOT_A_BADGE = "urn:aigov:problem:not-a-badge"
PARSING_ERROR = "https://www.w3.org/TR/vc-data-model#PARSING_ERROR"


def parse_xml(text: str) -> ElementTree.Element:
    """Python's own XML reader, independent of ours, on our own output (trusted here, hence the noqa)."""
    return ElementTree.fromstring(text)  # noqa: S314


@pytest.fixture(scope="module")
def svg(world: Any) -> str:
    return issuer.render_badge_svg(world.valid_token, page_url=PAGE)


@pytest.fixture(scope="module")
def png(world: Any) -> bytes:
    return issuer.render_badge_png(world.valid_token, page_url=PAGE)


def check(result: Any, name: str = "badge") -> Any:
    [found] = [c for c in result.checks if c.name == name]
    return found


def svg_with(body: str, *, prolog: str = "", root: str = "svg") -> bytes:
    """A minimal SVG around `body` (namespaces declared), after `prolog` (a DOCTYPE, say)."""
    return (
        f'<?xml version="1.0"?>{prolog}<{root} xmlns="{SVG_NS}" xmlns:openbadges="{OB3}">{body}</{root}>'
    ).encode()


def chunk(kind: bytes, body: bytes, *, crc: int | None = None) -> bytes:
    return (
        struct.pack(">I", len(body))
        + kind
        + body
        + struct.pack(">I", zlib.crc32(kind + body) if crc is None else crc)
    )


def png_chunks(png: bytes) -> list[tuple[bytes, bytes]]:
    """An independent PNG walk (not our code): (type, data) of every chunk, CRCs asserted."""
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    position, chunks = 8, []
    while position < len(png):
        (length,) = struct.unpack(">I", png[position : position + 4])
        kind, body = png[position + 4 : position + 8], png[position + 8 : position + 8 + length]
        (crc,) = struct.unpack(">I", png[position + 8 + length : position + 12 + length])
        assert zlib.crc32(kind + body) == crc, kind
        chunks.append((kind, body))
        position += 12 + length
    return chunks


def itxt(text: bytes, *, keyword: bytes = b"openbadgecredential", compressed: bool = False) -> bytes:
    return chunk(b"iTXt", keyword + b"\0" + (b"\1\0" if compressed else b"\0\0") + b"\0\0" + text)


def rebuild(png: bytes, transform: Any) -> bytes:
    """`png` with its chunk list passed through `transform` (a function of the list of (type, data))."""
    return b"\x89PNG\r\n\x1a\n" + b"".join(chunk(k, b) for k, b in transform(png_chunks(png)))


# -- round trips -----------------------------------------------------------------------------------------------
def test_svg_round_trip_verifies_and_its_text_matches(world: Any, svg: str) -> None:
    badge = extract_badge(svg.encode(), filename="badge.svg")
    assert (badge.kind, badge.token, badge.lang) == ("svg", world.valid_token, "ja")
    assert badge.text is not None
    assert badge.text["company-ja"] == "アクメ株式会社"
    assert badge.text["company-en"] == "ACME Corp."
    assert badge.text["number"] == "AIGC-2026-000123"
    assert badge.unlabelled == ()
    result = verify_badge(svg.encode(), world.default_trust, now=world.now)
    assert result.verdict is Verdict.VALID, result.render_text()
    assert check(result).outcome is Outcome.PASSED
    assert "matches the signed credential" in check(result).detail


def test_png_round_trip_verifies_and_says_the_picture_cannot_be_compared(world: Any, png: bytes) -> None:
    badge = extract_badge(png)
    assert (badge.kind, badge.token, badge.text) == ("png", world.valid_token, None)
    result = verify_badge(png, world.default_trust, now=world.now)
    assert result.verdict is Verdict.VALID, result.render_text()
    badge_check = check(result)
    assert badge_check.outcome is Outcome.SKIPPED
    assert badge_check.detail.startswith("not applicable: a PNG's picture cannot be read back")


def test_an_invalid_credential_in_a_badge_stays_invalid(world: Any) -> None:
    forged = world.valid_token[:-6] + ("AAAAAA" if not world.valid_token.endswith("AAAAAA") else "BBBBBB")
    svg = issuer.render_badge_svg(forged, page_url=PAGE)
    result = verify_badge(svg.encode(), world.default_trust, now=world.now)
    assert result.verdict is Verdict.INVALID
    assert check(result, "signature").outcome is Outcome.FAILED


def test_the_svg_is_readable_by_an_independent_xml_reader(world: Any, svg: str) -> None:
    root = parse_xml(svg)
    assert root.tag == f"{{{SVG_NS}}}svg"
    assert root.get("role") == "img"
    assert root.get("{http://www.w3.org/XML/1998/namespace}lang") == "ja"
    credentials = root.findall(f"{{{OB3}}}credential")
    assert len(credentials) == 1
    assert credentials[0].get("verify") == world.valid_token
    assert root[0] is credentials[0]  # OB 3.0 §5.3.2: directly after the <svg> tag
    assert root.find(f"{{{SVG_NS}}}title") is not None
    assert root.find(f"{{{SVG_NS}}}desc") is not None


def test_the_png_is_readable_by_an_independent_png_reader(world: Any, png: bytes) -> None:
    from PIL import Image

    chunks = png_chunks(png)
    credential_chunks = [
        body for kind, body in chunks if kind == b"iTXt" and body.startswith(b"openbadgecredential\0")
    ]
    assert len(credential_chunks) == 1
    _keyword, rest = credential_chunks[0].split(b"\0", 1)
    assert rest[:2] == b"\0\0", "compression flag and method must be 0 (OB 3.0 §5.3.1)"
    assert rest[2:].split(b"\0", 2)[2].decode() == world.valid_token
    with Image.open(io.BytesIO(png)) as image:  # Pillow's own chunk reader
        assert image.text["openbadgecredential"] == world.valid_token


# -- the picture against the credential ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("old", "new", "field"),
    [
        (">アクメ株式会社</text>", ">偽物株式会社</text>", "company-ja"),
        (">ACME Corp.</text>", ">Globex Inc.</text>", "company-en"),
        (">2029-10-31</text>", ">2035-10-31</text>", "valid-until"),
        # A restyle is an edit too: font-size 0 hides a field, so no value but the renderer's is accepted.
        ('font-size="62"', 'font-size="70"', "<text data-field=\"level\"> has font-size='70'"),
    ],
)
def test_edited_visible_text_is_caught(world: Any, svg: str, old: str, new: str, field: str | None) -> None:
    assert svg.count(old) == 1, old
    edited = svg.replace(old, new).encode()
    result = verify_badge(edited, world.default_trust, now=world.now)
    badge_check = check(result)
    if field is None:
        assert result.verdict is Verdict.VALID
        return
    assert result.verdict is Verdict.INVALID
    assert badge_check.outcome is Outcome.FAILED
    assert badge_check.problem == BADGE_MISMATCH
    assert field in badge_check.detail
    assert result.summary.startswith("do not rely on this badge: the badge's picture was edited")
    assert check(result, "signature").outcome is Outcome.PASSED  # the credential itself is fine


def test_the_level_is_compared_too(world: Any, svg: str) -> None:
    edited = svg.replace('font-weight="bold">2</text>', 'font-weight="bold">3</text>')
    assert edited != svg
    assert (
        "level reads '3'" in check(verify_badge(edited.encode(), world.default_trust, now=world.now)).detail
    )


def test_text_added_to_the_picture_is_caught(world: Any, svg: str) -> None:
    edited = svg.replace("</svg>", '<text x="10" y="20">ISO/IEC 27001 certified</text></svg>').encode()
    result = verify_badge(edited, world.default_trust, now=world.now)
    assert result.verdict is Verdict.INVALID
    assert "'ISO/IEC 27001 certified' is not from the credential" in check(result).detail


def test_a_status_ribbon_is_allowed_and_reported_but_a_made_up_one_is_not(world: Any) -> None:
    revoked = issuer.render_badge_svg(world.valid_token, page_url=PAGE, status="revoked", lang="en")
    badge = extract_badge(revoked.encode())
    assert badge.lang == "en"
    assert badge.text is not None
    assert badge.text["status"] == "REVOKED ・ 取消済み"
    result = compare_badge_text(badge, world.credential())
    assert result.outcome is Outcome.PASSED
    assert "revoked" in result.detail
    forged = revoked.replace(">REVOKED ・ 取消済み</text>", ">CERTIFIED FOREVER</text>").encode()
    assert compare_badge_text(extract_badge(forged), world.credential()).outcome is Outcome.FAILED


def test_a_credential_that_cannot_be_read_skips_the_comparison(svg: str) -> None:
    result = compare_badge_text(extract_badge(svg.encode()), None)
    assert result.outcome is Outcome.SKIPPED


def test_html_in_the_credential_renders_as_inert_text(world: Any) -> None:
    hostile = {"en": "<script>alert(1)</script>", "ja": '"><img src=x onerror=alert(1)>&amp;'}
    credential = world.credential(
        credentialSubject={**world.credential()["credentialSubject"], "legalName": hostile}
    )
    token = world.token(credential)
    with pytest.raises(issuer.BadgeRenderError, match="without spaces, quotes or angle brackets"):
        issuer.render_badge_svg(token, page_url=PAGE + '"><script>x</script>')
    svg = issuer.render_badge_svg(token, page_url=PAGE)
    assert "<script" not in svg
    assert "<img" not in svg
    root = parse_xml(svg)
    tags = {element.tag.rpartition("}")[2] for element in root.iter()}
    assert tags <= {
        "svg",
        "credential",
        "title",
        "desc",
        "rect",
        "circle",
        "path",
        "text",
        "textPath",
        "a",
        "g",
    }
    texts = {e.get("data-field"): e.text for e in root.iter(f"{{{SVG_NS}}}text")}
    assert texts["company-en"] == hostile["en"]
    assert texts["company-ja"] == hostile["ja"]
    badge = extract_badge(svg.encode())
    assert compare_badge_text(badge, credential).outcome is Outcome.PASSED


def test_badge_text_refuses_unknown_languages_and_statuses(world: Any) -> None:
    with pytest.raises(ValueError, match="lang"):
        badge_text(world.credential(), lang="fr")
    with pytest.raises(ValueError, match="status"):
        badge_text(world.credential(), status="fine")


# -- hostile SVG --------------------------------------------------------------------------------------------------
BILLION_LAUGHS = (
    '<!DOCTYPE svg [<!ENTITY lol "lol">'
    + "".join(f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10 if i > 1 else "&lol;" * 10}">' for i in range(1, 10))
    + "]>"
)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (svg_with("<text>&lol9;</text>", prolog=BILLION_LAUGHS), "DOCTYPE refused"),
        (
            svg_with(
                "<text>&xxe;</text>", prolog='<!DOCTYPE svg [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
            ),
            "DOCTYPE refused",
        ),
        (
            svg_with(
                "", prolog='<!DOCTYPE svg PUBLIC "-//W3C//DTD SVG 1.1//EN" "http://127.0.0.1:9/svg11.dtd">'
            ),
            "DOCTYPE refused",
        ),
        (svg_with("<text>&undefined;</text>"), "not well-formed SVG: undefined entity"),
        (svg_with(f'<rect fill="{"a" * 70_000}"/>'), "attribute 'fill' is longer than 65,536"),
        (svg_with(f'<openbadges:credential verify="{"a" * 1_100_000}"/>'), "attribute 'verify' is longer"),
        (svg_with("<g>" * 100 + "</g>" * 100), "nested deeper than 64"),
        (svg_with("<g/>" * 50_001), "more than 50,000 elements"),
        (
            svg_with('<openbadges:credential verify="a.b.c"/><openbadges:credential verify="d.e.f"/>'),
            "2 <openbadges:credential> elements",
        ),
        (svg_with("<text>no credential here</text>"), "no <openbadges:credential> element"),
        (svg_with("<openbadges:credential>{}</openbadges:credential>"), "has no verify attribute"),
        (svg_with('<credential verify="a.b.c"/>'), "no <openbadges:credential> element"),  # wrong namespace
        (svg_with('<openbadges:credential verify="a.b.c"/>', root="html"), "root element is not <svg>"),
        (b'<svg xmlns="http://www.w3.org/2000/svg"><g></svg>', "not well-formed SVG: mismatched tag"),
        (b'<?xml version="1.0" encoding="TTF-8"?><svg/>', "not well-formed SVG: unknown encoding: TTF-8"),
        (b"<" + b" " * (5 * 1024 * 1024), "larger than 4,194,304 bytes"),
    ],
    ids=[
        "billion-laughs",
        "external-entity",
        "external-dtd",
        "undefined-entity",
        "enormous-attribute",
        "enormous-verify",
        "deep-nesting",
        "too-many-elements",
        "two-credentials",
        "no-credential",
        "embedded-proof",
        "wrong-namespace",
        "not-svg-root",
        "not-well-formed",
        "unknown-encoding",
        "oversized",
    ],
)
def test_hostile_svg_is_refused_precisely(data: bytes, message: str) -> None:
    started = time.perf_counter()
    with pytest.raises(
        BadgeError, match="^" + ".*" + message.replace("(", r"\(").replace(")", r"\)")
    ) as caught:
        extract_badge(data, filename="hostile.svg")
    assert str(caught.value).startswith("hostile.svg: ")
    assert caught.value.problem in (PARSING_ERROR, NOT_A_BADGE)
    assert time.perf_counter() - started < 1.0


MULTI_BYTE = ["shift_jis", "cp932", "euc-jp", "utf-7", "utf-32", "utf-32-be", "big5", "gb18030", "euc-kr"]


@pytest.mark.parametrize("encoding", MULTI_BYTE)
def test_an_svg_declaring_a_multi_byte_encoding_is_refused_not_a_crash(encoding: str) -> None:
    """expat takes only single-byte encodings from Python and raises ValueError for the rest (a 500 before)."""
    data = svg_with('<openbadges:credential verify="a.b.c"/>').replace(
        b'<?xml version="1.0"?>', f'<?xml version="1.0" encoding="{encoding}"?>'.encode()
    )
    with pytest.raises(BadgeError) as caught:
        extract_badge(data, filename="sjis.svg")
    assert str(caught.value) == (
        f"sjis.svg: not well-formed SVG: the encoding its XML declaration names ({encoding!r}) cannot be read "
        "here (multi-byte encodings are not supported): save it as UTF-8"
    )
    assert caught.value.problem == PARSING_ERROR


def test_every_encoding_python_knows_is_read_or_refused_with_a_badge_error() -> None:
    """All codec names and aliases (idna, punycode and undefined fail inside expat differently again)."""
    import encodings.aliases

    names = {*encodings.aliases.aliases, *encodings.aliases.aliases.values(), "idna", "punycode", "undefined"}
    names |= {"rot13", "base64", "zlib", "x-no-such-encoding", "", "utf-8\u1680"}
    outcomes: dict[str, int] = {}
    started = time.perf_counter()
    for name in sorted(names):
        data = f'<?xml version="1.0" encoding="{name}"?><svg xmlns="{SVG_NS}"/>'.encode()
        try:
            extract_badge(data)
        except BadgeError as e:  # anything else (ValueError, UnicodeError) fails the test
            outcomes[e.problem] = outcomes.get(e.problem, 0) + 1
    assert outcomes.keys() == {PARSING_ERROR, NOT_A_BADGE}
    assert outcomes[NOT_A_BADGE] > 100  # read, but carries no credential
    assert outcomes[PARSING_ERROR] > 100  # refused: multi-byte, unknown, not a text encoding
    assert time.perf_counter() - started < 5.0


def test_only_xml_whitespace_between_elements_is_dropped() -> None:
    """Space, tab, CR and LF between elements draw nothing; U+1680, U+3000, U+2028 and the like are drawn text."""
    credential = '<openbadges:credential verify="a.b.c"/>'
    plain = extract_badge(svg_with(credential + " \t\r\n<g/> \n"))
    assert [kind for kind, _, _ in plain.drawing or ()] == ["start", "start", "end", "start", "end", "end"]
    for char in ("\u1680", "\u3000", "\u2028", "\u0085", "\u00a0"):
        badge = extract_badge(svg_with(credential + f"\n{char}\n<g/>"))
        assert ("text", f"\n{char}\n", ()) in (badge.drawing or ()), char


def test_field_text_keeps_unicode_spaces_and_collapses_xml_whitespace() -> None:
    field = '<text data-field="company-en">{}</text>'
    body = '<openbadges:credential verify="a.b.c"/>' + field.format("\u3000ACME\u1680\t\n Corp.\u2028 ")
    badge = extract_badge(svg_with(body))
    assert badge.text == {"company-en": "\u3000ACME\u1680 Corp.\u2028"}


# -- hostile PNG --------------------------------------------------------------------------------------------------
def test_png_truncated_anywhere_is_refused(png: bytes) -> None:
    for cut in (9, 20, 33, len(png) // 2, len(png) - 1):
        with pytest.raises(BadgeError, match="truncated PNG"):
            extract_badge(png[:cut])


def test_png_with_a_chunk_claiming_more_bytes_than_the_file_has(png: bytes) -> None:
    huge = png[:8] + struct.pack(">I", 0x7FFFFFF0) + png[12:]
    with pytest.raises(BadgeError, match=r"truncated PNG: chunk IHDR at byte 8 declares 2,147,483,632 bytes"):
        extract_badge(huge)
    oversized = png[:8] + struct.pack(">I", 0xFFFFFFF0) + png[12:]
    with pytest.raises(
        BadgeError, match=r"oversized PNG chunk at byte 8: length 4,294,967,280 exceeds 2\^31-1"
    ):
        extract_badge(oversized)


def test_png_with_two_credential_chunks(world: Any, png: bytes) -> None:
    doubled = rebuild(png, lambda cs: [cs[0], *[(k, b) for k, b in cs[1:] if k == b"iTXt"], *cs[1:]])
    with pytest.raises(BadgeError, match="2 'openbadgecredential' iTXt chunks"):
        extract_badge(doubled)


def test_png_with_a_wrong_crc(png: bytes) -> None:
    position = png.index(b"IDAT") - 4
    corrupt = bytearray(png)
    corrupt[position + 8] ^= 0xFF  # the first byte of IDAT's data
    with pytest.raises(BadgeError, match=rf"wrong CRC in chunk IDAT at byte {position}"):
        extract_badge(bytes(corrupt))


def test_png_with_a_compressed_credential_bomb_is_refused_without_inflating(png: bytes) -> None:
    bomb = zlib.compress(b"\0" * (16 * 1024 * 1024), 9)  # 16 MiB of zeros in 16 KB
    bombed = rebuild(
        png,
        lambda cs: [
            cs[0],
            (b"iTXt", b"openbadgecredential\0\1\0\0\0" + bomb),
            *[c for c in cs[1:] if c[0] != b"iTXt"],
        ],
    )
    started = time.perf_counter()
    with pytest.raises(BadgeError, match=r"is compressed; OB 3\.0 forbids compression"):
        extract_badge(bombed)
    assert time.perf_counter() - started < 0.2


@pytest.mark.parametrize(
    ("transform", "message"),
    [
        (lambda cs: [c for c in cs if c[0] != b"iTXt"], "no iTXt chunk with keyword 'openbadgecredential'"),
        (lambda cs: [c for c in cs if c[0] != b"IHDR"], "the first chunk is not IHDR"),
        (lambda cs: [cs[0], (b"iTXt", b"openbadgecredential\0\0"), *cs[1:]], "iTXt chunk is truncated"),
        (lambda cs: [cs[0], (b"iTXt", b"openbadgecredential\0\0\0\0"), *cs[1:]], "missing its separators"),
        (
            lambda cs: [
                cs[0],
                (b"iTXt", b"openbadgecredential\0\0\0\0\0\xff\xfe"),
                *[c for c in cs[1:] if c[0] != b"iTXt"],
            ],
            "iTXt text is not UTF-8",
        ),
        (lambda cs: [cs[0], (b"i7Xt", b"x"), *cs[1:]], "chunk type b'i7Xt' at byte 33 is not four letters"),
    ],
    ids=["no-credential", "no-ihdr", "truncated-itxt", "no-separators", "not-utf8", "bad-chunk-type"],
)
def test_malformed_png_is_refused_precisely(png: bytes, transform: Any, message: str) -> None:
    with pytest.raises(BadgeError, match=message.replace("(", r"\(")):
        extract_badge(rebuild(png, transform))


def test_other_itxt_chunks_are_ignored_even_compressed(world: Any, png: bytes) -> None:
    extra = (b"iTXt", b"Description\0\1\0en\0\0" + zlib.compress(b"A badge"))
    badge = extract_badge(rebuild(png, lambda cs: [cs[0], extra, *cs[1:]]))
    assert badge.token == world.valid_token


# -- not images -------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"hello",
        b"eyJhbGciOiJFZERTQSJ9.e30.c2ln",
        b"\xff\xd8\xff\xe0\0\x10JFIF\0",
        b"%PDF-1.7\n",
        b"GIF89a",
    ],
    ids=["empty", "text", "jws", "jpeg", "pdf", "gif"],
)
def test_not_an_image_is_refused(data: bytes) -> None:
    with pytest.raises(BadgeError, match="not a badge: neither a PNG nor an SVG image") as caught:
        extract_badge(data)
    assert caught.value.problem == NOT_A_BADGE


def test_badge_is_a_plain_value() -> None:
    assert Badge("png", "a.b.c") == Badge("png", "a.b.c")


# -- QR codes in images -----------------------------------------------------------------------------------------
def test_qr_in_a_screenshot_decodes_to_the_page(png: bytes) -> None:
    from PIL import Image

    assert decode_qr(png) == [PAGE]
    with Image.open(io.BytesIO(png)) as image:  # a "photo": scaled down, re-encoded as JPEG
        small = image.convert("RGB").resize((image.width * 2 // 3, image.height * 2 // 3))
        out = io.BytesIO()
        small.save(out, "JPEG", quality=80)
    assert decode_qr(out.getvalue()) == [PAGE]


def test_a_large_phone_photo_is_decoded_in_grey_at_a_reduced_scale(png: bytes) -> None:
    """6,000 x 4,000 in RGB would be 72 MB decoded, over the cap: the JPEG decoder's own scaling keeps it at
    3,000 x 2,000 in grey (6 MB), and the QR code still reads."""
    from PIL import Image

    with Image.open(io.BytesIO(png)) as badge:
        photo = Image.new("RGB", (6000, 4000), "white")
        photo.paste(badge.convert("RGB").resize((badge.width * 3, badge.height * 3)), (1000, 800))
    out = io.BytesIO()
    photo.save(out, "JPEG", quality=85)
    assert decode_qr(out.getvalue()) == [PAGE]


def test_an_image_without_a_qr_code_gives_nothing() -> None:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (64, 64), "white").save(out, "PNG")
    assert decode_qr(out.getvalue()) == []


def _png_header_only(width: int, height: int, color_type: int = 0) -> bytes:
    """A PNG that declares `width` x `height` pixels and carries a few bytes of them: a decompression bomb.
    Colour type 0 is grey (1 byte a pixel decoded), 6 is RGBA (4 bytes)."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, color_type, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", ihdr)
        + chunk(b"IDAT", zlib.compress(b"\0" * 1024))
        + chunk(b"IEND", b"")
    )


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (_png_header_only(6000, 5000), "6000 x 5000 pixels is over the cap of 25,000,000 pixels"),
        (_png_header_only(20000, 20000), "unreadable image"),  # Pillow's own bomb guard, caught
        # Under the pixel cap, but 125 MB decoded with its grey copy (from a file of 100 KB in the wild).
        (_png_header_only(4999, 4999, color_type=6), "would take 124,950,005 bytes decoded, over the cap"),
        # Two bands, but Pillow holds grey with alpha in 4 bytes a pixel: counted as Pillow stores it.
        (_png_header_only(4000, 4000, color_type=4), "would take 80,000,000 bytes decoded, over the cap"),
        (_png_header_only(4096, 4096, color_type=2), "would take 83,886,080 bytes decoded, over the cap"),
        (b"definitely not an image", "not an image"),
        (b"\x89PNG\r\n\x1a\n" + b"\0" * 10, "unreadable image|not an image"),
    ],
    ids=["over-our-cap", "over-pillows-cap", "rgba-over-the-decoded-cap", "la", "rgb", "text", "broken-png"],
)
def test_qr_decoding_refuses_bombs_and_non_images(data: bytes, message: str) -> None:
    """Refused from the header, at once: the bound is far above the few milliseconds it takes, and below the
    seconds decoding would. Pillow and zxing-cpp are imported before the clock starts."""
    for module in ("PIL.Image", "zxingcpp"):
        importlib.import_module(module)
    started = time.perf_counter()
    with pytest.raises(BadgeError, match=message):
        decode_qr(data)
    assert time.perf_counter() - started < 1.0


# -- without the badges extra --------------------------------------------------------------------------------------
WITHOUT_EXTRA = """
import sys
for name in ("PIL", "qrcode", "zxingcpp"):
    sys.modules[name] = None  # as if not installed: importing them raises ImportError
import verifier, issuer
badge = verifier.extract_badge(sys.stdin.buffer.read())
assert badge.kind == "svg", badge
for call in (lambda: verifier.decode_qr(b"x"), lambda: issuer.render_badge_svg(badge.token, page_url="https://x.example")):
    try:
        call()
    except (verifier.BadgeError, issuer.BadgeRenderError) as e:
        print(e)
assert not any(sys.modules.get(n) for n in ("PIL", "qrcode", "zxingcpp"))
"""


def test_reading_badges_needs_no_extra_and_the_rest_says_what_to_install(svg: str) -> None:
    import subprocess
    import sys

    done = subprocess.run(  # noqa: S603 - our own interpreter and script
        [sys.executable, "-c", WITHOUT_EXTRA],
        input=svg.encode(),
        capture_output=True,
        check=False,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr.decode()
    assert done.stdout.decode().splitlines() == [
        "reading QR codes needs the badges extra: pip install 'aigov[badges]'",
        "badges need the badges extra: pip install 'aigov[badges]'",
    ]
