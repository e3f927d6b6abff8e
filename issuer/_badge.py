"""Badges: the certificate as a picture a company puts on its website, with the signed credential baked in.

The SVG is written by hand from a template (string building is ~20x cheaper than any SVG library, and the
2 ms budget allows nothing else); every credential string goes through `html.escape`, so a company name with
markup in it shows as text. The text drawn is exactly `verifier.badge_text(...)`, which is what the verifier
expects back when it compares a badge's picture with its credential. Baking follows Open Badges 3.0 §5.3:
SVG gets one `<openbadges:credential verify="JWS">` right after the `<svg>` tag; PNG one uncompressed `iTXt`
chunk with keyword `openbadgecredential`.

The PNG draws the same layout (shared constants) with Pillow. Measured on this badge: rasterizing the SVG
with resvg took ≈ 130-160 ms at 2x, drawing it with Pillow ≈ 15-20 ms (CPU, palette PNG); CairoSVG needs
libcairo and parses the SVG in Python. Japanese text needs a CJK font from the system: IPA P Gothic (Debian
`fonts-ipafont-gothic`, installed by .ci/run) or Noto Sans CJK (`fonts-noto-cjk`). The QR code is encoded by
zxing-cpp (its writer is zint, compiled; cached per URL) and drawn as one vector path in the SVG, as whole
pixels in the PNG. Measured for a page URL (ECC M, 37 x 37): zxing-cpp ≈ 0.3 ms with the mask chosen by
penalty; the pure-Python `qrcode` ≈ 1.5-3 ms even with a fixed mask, `segno` ≈ 1.3 ms fixed, 6.4 ms searched.
zxing-cpp also reads QR codes (verifier._qr), so one compiled library does both. It and Pillow come with the
`badges` extra and are imported when first used.
"""

from __future__ import annotations

import functools
import hashlib
import html
import io
import json
import math
import re
import struct
import unicodedata
import zlib
from collections.abc import Sequence
from pathlib import Path
from typing import Any, cast

from issuer._errors import IssuerError
from keys import b64url_decode
from verifier import badge_text

# Debian's CJK fonts, first found wins (fonts-ipafont-gothic is what .ci/run installs).
FONT_CANDIDATES = (
    Path("/usr/share/fonts/opentype/ipafont-gothic/ipagp.ttf"),
    Path("/usr/share/fonts/opentype/ipafont-gothic/ipag.ttf"),
    Path("/usr/share/fonts/truetype/fonts-japanese-gothic.ttf"),
    Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"),
    Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc"),
)
_FONT_FAMILY = "'IPAPGothic','IPAGothic','IPAexGothic','Noto Sans CJK JP','Hiragino Kaku Gothic ProN','Yu Gothic','Meiryo',sans-serif"
_STATUS_COLOURS = {"valid": "#1b7f3b", "suspended": "#a05a00", "revoked": "#b3261e", "expired": "#55595e"}
_NAVY, _GOLD = "#14315c", "#c9a646"
PNG_SCALE = 2  # by default the PNG is twice the SVG's size: sharp on high-density screens, QR easy to scan
PNG_KEYWORD = b"openbadgecredential"


class BadgeRenderError(IssuerError):
    """A badge that cannot be drawn: not a credential, or no Japanese font to draw the PNG with."""


def render_badge_svg(token: str, *, page_url: str, status: str | None = None, lang: str = "ja") -> str:
    """The SVG badge of the credential `token` (a compact JWS), baked with it (Open Badges 3.0 §5.3.2).

    `page_url` is what the QR code opens (the certificate's public page); `status` (None, "valid",
    "suspended", "revoked", "expired") adds a ribbon, as the registry's live badge does; `lang` ("ja", "en")
    picks the language of the labels and of the accessible title and description.
    """
    credential = _credential(token)
    try:
        text = badge_text(credential, lang=lang, status=status)
    except ValueError as e:
        raise BadgeRenderError(str(e)) from e
    return _svg(token, text, page_url=page_url, status=status, lang=lang)


def render_badge_png(
    token: str,
    *,
    page_url: str,
    status: str | None = None,
    lang: str = "ja",
    font_files: Sequence[Path] | None = None,
    scale: int = PNG_SCALE,
) -> bytes:
    """The same badge as a PNG, baked with one uncompressed `iTXt` chunk `openbadgecredential` (OB 3.0 §5.3.1).

    `font_files` overrides the system CJK font search; with no CJK font this raises BadgeRenderError rather
    than drawing Japanese names as empty boxes. `scale` (1-4) multiplies the SVG's 760-unit width: 2 by default
    (sharp on high-density screens); 1 costs a quarter of the time.
    """
    if scale not in range(1, 5):
        raise BadgeRenderError(f"scale must be 1, 2, 3 or 4, not {scale!r}")
    credential = _credential(token)
    try:
        text = badge_text(credential, lang=lang, status=status)
    except ValueError as e:
        raise BadgeRenderError(str(e)) from e
    font = str(font_files[0]) if font_files else str(find_cjk_font())
    try:
        png = _png(text, page_url=page_url, status=status, font_path=font, scale=scale)
    except ImportError as e:  # pragma: no cover - the badges extra is installed wherever badges are drawn
        raise BadgeRenderError("PNG badges need the badges extra: pip install 'aigov[badges]'") from e
    except OSError as e:
        raise BadgeRenderError(f"cannot use the font {font}: {e}") from e
    return bake_png(png, token)


def render_qr_svg(url: str, *, size: int = 160) -> str:
    """A QR code (error correction M, 4-module quiet zone) that opens `url`, as a standalone SVG `size` px wide.

    The same code the badges draw, for pages that show the QR code on its own.
    """
    modules, path = _qr_path(url)
    side = modules + 2 * _QUIET
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{size}" height="{size}" viewBox="0 0 {side} {side}" '
        f'shape-rendering="crispEdges"><rect width="{side}" height="{side}" fill="#ffffff"/>'
        f'<path transform="translate({_QUIET} {_QUIET})" fill="#000000" d="{path}"/></svg>\n'
    )


def bake_png(png: bytes, token: str) -> bytes:
    """`png` with one uncompressed `iTXt` chunk `openbadgecredential` holding `token`, right after IHDR."""
    if not png.startswith(b"\x89PNG\r\n\x1a\n") or png[12:16] != b"IHDR":
        raise BadgeRenderError("not a PNG starting with IHDR")
    # PNG §11.3.4.5: keyword, NUL, compression flag 0, method 0, empty language tag, NUL, empty translation, NUL.
    body = PNG_KEYWORD + b"\0\0\0" + b"\0" + b"\0" + token.encode("ascii")
    chunk = struct.pack(">I", len(body)) + b"iTXt" + body + struct.pack(">I", zlib.crc32(b"iTXt" + body))
    end_of_ihdr = 8 + 12 + int.from_bytes(png[8:12], "big")
    return png[:end_of_ihdr] + chunk + png[end_of_ihdr:]


@functools.lru_cache(maxsize=8)
def find_cjk_font(candidates: tuple[Path, ...] = FONT_CANDIDATES) -> Path:
    """The first installed Japanese font of `candidates`; BadgeRenderError names the package to install."""
    for path in candidates:
        if path.is_file():
            return path
    raise BadgeRenderError(
        "no Japanese font found for PNG badges: install Debian's fonts-ipafont-gothic "
        "(apt-get install fonts-ipafont-gothic) or fonts-noto-cjk, or pass font_files="
    )


def _credential(token: str) -> dict[str, Any]:
    """The payload of `token`, read (not verified: the badge shows what the issuer signed, checked elsewhere)."""
    parts = token.split(".")
    if len(token) > 1024 * 1024 or len(parts) != 3:
        raise BadgeRenderError("not a credential token: a compact JWS has three parts")
    try:
        payload = json.loads(b64url_decode(parts[1]))
    except ValueError as e:
        raise BadgeRenderError(f"not a credential token: {e}") from e
    if not isinstance(payload, dict):
        raise BadgeRenderError("not a credential token: the payload is not a JSON object")
    return payload


def _esc(value: str) -> str:
    return html.escape(value, quote=True)


def _width(value: str, size: float) -> float:
    """A generous estimate of the drawn width: wide (CJK) characters 1 em, others 0.62 em."""
    return size * sum(1.0 if unicodedata.east_asian_width(c) in "WF" else 0.62 for c in value)


def _text(
    field: str,
    value: str,
    *,
    x: float,
    y: float,
    size: float,
    width: float,
    extra: str = "",
    anchor: str = "",
) -> str:
    """One labelled <text>; too long for `width`, its glyphs are squeezed to fit (never cut: it is signed text)."""
    fit = ""
    if _width(value, size) > width:
        fit = f' textLength="{width:g}" lengthAdjust="spacingAndGlyphs"'
    anchor_attr = f' text-anchor="{anchor}"' if anchor else ""
    return (
        f'<text data-field="{field}" x="{x:g}" y="{y:g}" font-size="{size:g}"{anchor_attr}{fit}{extra}>'
        f"{_esc(value)}</text>"
    )


_QUIET = 4  # modules of light margin around a QR code (ISO/IEC 18004 §9.1)
_DARK_RUN = re.compile(rb"\x00+")


@functools.lru_cache(maxsize=64)
def _qr_modules(url: str) -> tuple[int, bytes]:
    """The QR code of `url` (error correction M) with its quiet zone: (modules per side, one byte a module,
    row by row, 0 dark and 255 light). zxing-cpp picks the version and the mask (by penalty, as §7.8.3 asks).
    """
    try:
        import zxingcpp  # noqa: PLC0415 - the badges extra, loaded on first use
    except ImportError as e:
        raise BadgeRenderError("badges need the badges extra: pip install 'aigov[badges]'") from e
    if not url:
        raise BadgeRenderError("a QR code needs a page URL; this one is empty")
    try:
        url.encode("utf-8")
    except UnicodeEncodeError as e:  # a lone surrogate: zxing-cpp would fail with a C++ bad_cast
        raise BadgeRenderError(f"the page URL is not encodable text: {e.reason}") from None
    try:
        code = zxingcpp.create_barcode(url, zxingcpp.BarcodeFormat.QRCode, ec_level="M")
    except (ValueError, RuntimeError) as e:  # longer than a version 40 code holds at level M (2,331 bytes)
        raise BadgeRenderError(f"the page URL does not fit in a QR code: {e}") from e
    image = code.to_image(scale=1, add_quiet_zones=True)
    modules = bytes(memoryview(cast(Any, image)))  # an Image is a buffer; zxingcpp.pyi does not say so
    side = image.shape[1]
    # What the drawing relies on: a square of 17 + 4 x version modules inside a light quiet zone of _QUIET.
    inner = side - 2 * _QUIET
    light_margin = (
        modules[: _QUIET * side]
        + modules[-_QUIET * side :]
        + bytes(b for row in range(_QUIET, side - _QUIET) for b in modules[row * side : row * side + _QUIET])
    )
    if (
        image.shape != (side, side)
        or len(modules) != side * side
        or (inner - 17) % 4
        or not 21 <= inner <= 177
        or light_margin.strip(b"\xff")
    ):  # pragma: no cover - zxing-cpp's contract, checked once per URL (cached)
        raise BadgeRenderError(f"unexpected QR image from zxing-cpp (shape {image.shape})")
    return side, modules


@functools.lru_cache(maxsize=1024)  # ≈ 5 KB a URL: a few MB for the registry's most-viewed live badges
def _qr_path(url: str) -> tuple[int, str]:
    """The QR code of `url` (error correction M) as (modules per side, one SVG path in module units).

    One subpath per horizontal run of dark modules; the quiet zone around the modules separates the rows, so
    one scan of the whole buffer finds every run. Cached: the QR is a pure function of the URL.
    """
    side, modules = _qr_modules(url)
    q = _QUIET
    path = "".join(
        [
            f"M{(s := run.start()) % side - q} {s // side - q}h{(w := run.end() - s)}v1h-{w}z"
            for run in _DARK_RUN.finditer(modules)
        ]
    )
    return side - 2 * q, path


# The layout, shared by the SVG and the PNG renderers (SVG user units; the PNG multiplies them by its scale).
_W = 760
_SEAL = (150, 146)  # centre of the seal
_RING = 107  # radius of the circle the scheme's name runs along
# field, baseline y, font size, widest it may be, colour, bold — centred on the seal
_SEAL_TEXT = (
    ("mark", 95, 12.5, 140, _NAVY, True),
    ("level-label", 120, 13, 90, _GOLD, True),
    ("level", 186, 62, 120, _NAVY, True),
    ("achievement", 212, 12, 130, "#333333", False),
)
_LEFT, _ROOM = 300, 262  # the company's particulars: left edge and width
_ROWS = (
    ("company-ja", 62, 26, _NAVY, True),
    ("company-en", 92, 17, _NAVY, False),
    ("number-label", 130, 11.5, "#5b5b5b", False),
    ("number", 150, 17, "#111111", True),
    ("valid-until-label", 178, 11.5, "#5b5b5b", False),
    ("valid-until", 198, 17, "#111111", True),
    ("issuer-label", 226, 11.5, "#5b5b5b", False),
    ("issuer", 246, 14, "#111111", False),
)
_RULE_Y = 108
_QR_X, _QR_Y, _QR_BOX = 588, 40, 150
_STAMP = (420, 150, 380, 58, 28)  # centre x, centre y, width, height, font size; rotated -12 degrees


def _height(status: str | None) -> int:
    return 336 if status else 292


def _svg(token: str, text: dict[str, str], *, page_url: str, status: str | None, lang: str) -> str:
    uid = hashlib.sha256(token.encode()).hexdigest()[:10]
    height = _height(status)
    cx, cy = _SEAL
    ring = _RING
    parts = [
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<svg xmlns="http://www.w3.org/2000/svg" xmlns:openbadges="https://purl.imsglobal.org/ob/v3p0" '
        f'width="{_W}" height="{height}" viewBox="0 0 {_W} {height}" role="img" lang="{lang}" xml:lang="{lang}" '
        f'aria-labelledby="t-{uid} d-{uid}" font-family="{_FONT_FAMILY}">',
        f'<openbadges:credential verify="{_esc(token)}"></openbadges:credential>',
        f'<title id="t-{uid}">{_esc(text["title"])}</title>',
        f'<desc id="d-{uid}">{_esc(text["desc"])}</desc>',
        # The card: ivory paper, navy frame, a gold rule inside.
        f'<rect x="3" y="3" width="754" height="{height - 6}" rx="18" fill="#fbf9f2" stroke="{_NAVY}" '
        'stroke-width="4"/>',
        f'<rect x="11" y="11" width="738" height="{height - 22}" rx="12" fill="none" stroke="{_GOLD}" '
        'stroke-width="1.5"/>',
        # The seal: a navy disc, gold rings, the scheme's name around the ring, the level in the middle.
        f'<circle cx="{cx}" cy="{cy}" r="128" fill="{_NAVY}"/>',
        f'<circle cx="{cx}" cy="{cy}" r="123" fill="none" stroke="{_GOLD}" stroke-width="1.5"/>',
        f'<circle cx="{cx}" cy="{cy}" r="91" fill="#ffffff" stroke="{_GOLD}" stroke-width="3"/>',
        f'<circle cx="{cx}" cy="{cy}" r="85" fill="none" stroke="{_GOLD}" stroke-width="0.8" '
        'stroke-dasharray="2 3"/>',
        # Starts at 6 o'clock and runs clockwise, so text centred at 50% sits on top, reading left to right.
        f'<path id="ring-{uid}" fill="none" d="M{cx} {cy + ring}a{ring} {ring} 0 1 1 0 -{2 * ring}'
        f'a{ring} {ring} 0 1 1 0 {2 * ring}"/>',
    ]
    scheme = text.get("scheme", "")
    if scheme:
        size, room = _ring_font_size(scheme)
        fit = ""
        if _width(scheme, size) > room:
            fit = f' textLength="{room:.0f}" lengthAdjust="spacingAndGlyphs"'
        parts.append(
            f'<text data-field="scheme" font-size="{size:.1f}" fill="#ffffff" letter-spacing="0.3">'
            f'<textPath href="#ring-{uid}" startOffset="50%" text-anchor="middle"{fit}>{_esc(scheme)}</textPath>'
            "</text>"
        )
    for field, y, size, width, colour, bold in _SEAL_TEXT:
        if field in text:
            extra = f' fill="{colour}"' + (' font-weight="bold"' if bold else "")
            parts.append(
                _text(field, text[field], x=cx, y=y, size=size, width=width, extra=extra, anchor="middle")
            )
    for field, y, size, colour, bold in _ROWS:
        if field in text:
            extra = f' fill="{colour}"' + (' font-weight="bold"' if bold else "")
            parts.append(_text(field, text[field], x=_LEFT, y=y, size=size, width=_ROOM, extra=extra))
    parts.append(f'<path d="M{_LEFT} {_RULE_Y}H{_LEFT + _ROOM}" stroke="{_GOLD}" stroke-width="1.5"/>')
    # The QR code with its quiet zone (4 modules, ISO/IEC 18004 §9.1) on white.
    modules, path = _qr_path(page_url)
    scale = _QR_BOX / (modules + 8)
    parts += [
        f'<a href="{_esc(page_url)}">',
        f'<rect x="{_QR_X}" y="{_QR_Y}" width="{_QR_BOX}" height="{_QR_BOX}" fill="#ffffff" stroke="#d8d2bf"/>',
        f'<path transform="translate({_QR_X + 4 * scale:.3f} {_QR_Y + 4 * scale:.3f}) scale({scale:.4f})" '
        f'fill="#000000" shape-rendering="crispEdges" d="{path}"/>',
        "</a>",
    ]
    if "qr-label" in text:
        parts.append(
            _text(
                "qr-label",
                text["qr-label"],
                x=_QR_X + _QR_BOX / 2,
                y=_QR_Y + _QR_BOX + 20,
                size=12,
                width=_QR_BOX,
                extra=' fill="#5b5b5b"',
                anchor="middle",
            )
        )
    if status:
        colour = _STATUS_COLOURS[status]
        label = text["status"]
        if status != "valid":
            # A withdrawn certificate must not look valid at a glance: veil the card and stamp it.
            sx, sy, sw, sh, ssize = _STAMP
            parts += [
                f'<rect x="11" y="11" width="738" height="{height - 70}" fill="#ffffff" fill-opacity="0.62"/>',
                f'<g transform="rotate(-12 {sx} {sy})"><rect x="{sx - sw / 2:g}" y="{sy - sh / 2:g}" '
                f'width="{sw}" height="{sh}" rx="6" fill="none" stroke="{colour}" stroke-width="5"/>',
                _text(
                    "status",
                    label,
                    x=sx,
                    y=sy + ssize * 0.36,
                    size=ssize,
                    width=sw - 44,
                    extra=f' fill="{colour}" font-weight="bold"',
                    anchor="middle",
                ),
                "</g>",
            ]
        parts += [
            f'<rect x="11" y="{height - 56}" width="738" height="45" fill="{colour}"/>',
            _text(
                "status",
                label,
                x=_W / 2,
                y=height - 26,
                size=20,
                width=700,
                extra=' fill="#ffffff" font-weight="bold" letter-spacing="1"',
                anchor="middle",
            ),
        ]
    parts.append("</svg>\n")
    return "".join(parts)


def _ring_font_size(scheme: str) -> tuple[float, float]:
    """The font size for the scheme's name around the seal, and the room it has (90% of the ring)."""
    room = 2 * math.pi * _RING * 0.9
    return min(15.0, max(6.0, 15.0 * room / max(_width(scheme, 15.0), 1.0))), room


# -- PNG: the same layout drawn with Pillow -----------------------------------------------------------------------
def _rgb(colour: str) -> tuple[int, int, int]:
    return int(colour[1:3], 16), int(colour[3:5], 16), int(colour[5:7], 16)


@functools.lru_cache(maxsize=64)
def _font(path: str, size: int) -> Any:
    from PIL import ImageFont  # noqa: PLC0415 - the badges extra

    return ImageFont.truetype(path, size)


def _fitted(path: str, value: str, size: float, width: float) -> Any:
    """The font at `size` (PNG pixels), smaller if `value` would not fit in `width`: never cut, like the SVG."""
    font = _font(path, round(size))
    length = font.getlength(value)
    if length > width:
        font = _font(path, max(6, int(size * width / length)))
    return font


class _Canvas:
    """A Pillow image in badge units: coordinates are the SVG's, multiplied by `scale`."""

    def __init__(self, image: Any, font_path: str, scale: int) -> None:
        from PIL import ImageDraw  # noqa: PLC0415 - the badges extra

        self.image = image
        self.draw = ImageDraw.Draw(image)
        self.font_path = font_path
        self.k = scale

    def write(
        self, value: str, at: tuple[float, float], size: float, width: float, style: tuple[str, bool, str]
    ) -> None:
        """`value` at `at` (its baseline), in `size`, shrunk to `width`; style = (colour, bold, Pillow anchor)."""
        k = self.k
        colour, bold, anchor = style
        fill = _rgb(colour)
        self.draw.text(
            (at[0] * k, at[1] * k),
            value,
            font=_fitted(self.font_path, value, size * k, width * k),
            fill=fill,
            anchor=anchor,
            stroke_width=1 if bold and k > 1 else 0,  # IPA Gothic has no bold face: a stroke stands in
            stroke_fill=fill,
        )


def _png(text: dict[str, str], *, page_url: str, status: str | None, font_path: str, scale: int) -> bytes:
    from PIL import Image  # noqa: PLC0415 - the badges extra

    k = scale
    height = _height(status)
    canvas = _Canvas(Image.new("RGB", (_W * k, height * k), (255, 255, 255)), font_path, k)
    draw = canvas.draw
    draw.rounded_rectangle(
        (3 * k, 3 * k, 757 * k, (height - 3) * k),
        18 * k,
        fill=(0xFB, 0xF9, 0xF2),
        outline=_rgb(_NAVY),
        width=4 * k,
    )
    draw.rounded_rectangle((11 * k, 11 * k, 749 * k, (height - 11) * k), 12 * k, outline=_rgb(_GOLD), width=k)
    seal = _seal_image(tuple(text.get(f, "") for f in _SEAL_FIELDS), font_path, k)
    canvas.image.paste(seal, ((_SEAL[0] - 130) * k, (_SEAL[1] - 130) * k), seal)
    for field, y, size, colour, bold in _ROWS:
        if field in text:
            canvas.write(text[field], (_LEFT, y), size, _ROOM, (colour, bold, "ls"))
    draw.line((_LEFT * k, _RULE_Y * k, (_LEFT + _ROOM) * k, _RULE_Y * k), fill=_rgb(_GOLD), width=k)
    _draw_qr(canvas, page_url)
    if "qr-label" in text:
        canvas.write(
            text["qr-label"],
            (_QR_X + _QR_BOX / 2, _QR_Y + _QR_BOX + 20),
            12,
            _QR_BOX,
            ("#5b5b5b", False, "ms"),
        )
    if status:
        _draw_status(canvas, status, text["status"], height)
    out = io.BytesIO()
    _to_palette(canvas.image, (status, k)).save(out, "PNG", compress_level=3)
    return out.getvalue()


# Palettes by (status, scale): every badge of a kind uses the same colours and the same blends of them.
_PALETTES: dict[tuple[str | None, int], Any] = {}


def _to_palette(image: Any, kind: tuple[str | None, int]) -> Any:
    """`image` in a 64-colour palette: a third of the bytes of RGB, and cheaper to encode.

    Measured on this badge (2x): RGB at zlib level 1 ≈ 39 ms to encode; choosing a palette (octree) ≈ 16 ms,
    mapping to a known palette ≈ 3 ms, a palette PNG at level 3 ≈ 8 ms. So the first badge of each kind
    chooses the palette and the others reuse it (a benign race: two threads may both choose one).
    """
    from PIL import Image  # noqa: PLC0415 - the badges extra

    palette = _PALETTES.get(kind)
    if palette is not None:
        return image.quantize(palette=palette, dither=Image.Dither.NONE)
    quantized = image.quantize(colors=64, method=Image.Quantize.FASTOCTREE)
    palette = Image.new("P", (1, 1))
    palette.putpalette(quantized.getpalette())
    _PALETTES[kind] = palette
    return quantized


_SEAL_FIELDS = ("scheme", *(row[0] for row in _SEAL_TEXT))


@functools.lru_cache(maxsize=64)
def _seal_image(values: tuple[str, ...], font_path: str, k: int) -> Any:
    """The seal (disc, rings, scheme around it, level inside) as an RGBA image 260 units square.

    Cached: it depends only on the scheme, the level and the language, of which a registry has few, and
    laying the scheme's name glyph by glyph around the ring is the most expensive part of the picture.
    """
    from PIL import Image  # noqa: PLC0415 - the badges extra

    canvas = _Canvas(Image.new("RGBA", (260 * k, 260 * k), (0, 0, 0, 0)), font_path, k)
    centre = 130 * k
    navy, gold = _rgb(_NAVY), _rgb(_GOLD)
    for radius, style in (
        (128, {"fill": navy}),
        (123, {"outline": gold, "width": k}),
        (91, {"fill": (255, 255, 255), "outline": gold, "width": 3 * k}),
        (85, {"outline": gold, "width": 1}),
    ):
        canvas.draw.ellipse(
            (centre - radius * k, centre - radius * k, centre + radius * k, centre + radius * k), **style
        )
    scheme, *inner = values
    if scheme:
        _ring_text(canvas.image, scheme, font_path, k)
    for value, (_, y, size, width, colour, bold) in zip(inner, _SEAL_TEXT, strict=True):
        if value:
            canvas.write(value, (130, y - _SEAL[1] + 130), size, width, (colour, bold, "ms"))
    return canvas.image


def _draw_qr(canvas: _Canvas, page_url: str) -> None:
    """The QR code in whole pixels per module (every module sharp), centred in its white box."""
    from PIL import Image  # noqa: PLC0415 - the badges extra

    k = canvas.k
    side, modules = _qr_modules(page_url)
    box = _QR_BOX * k
    pixel = box // side
    if pixel < 1:  # a code wider than its box would be drawn over the artwork, and would not scan
        raise BadgeRenderError(
            f"the page URL needs a QR code of {side} modules, more than a PNG at scale {k} has pixels for: use a "
            "shorter URL or a larger scale"
        )
    offset = (box - pixel * side) // 2
    canvas.draw.rectangle(
        (_QR_X * k, _QR_Y * k, _QR_X * k + box, _QR_Y * k + box),
        fill=(255, 255, 255),
        outline=(0xD8, 0xD2, 0xBF),
    )
    code = Image.frombytes("L", (side, side), modules)
    if pixel > 1:
        code = code.resize((side * pixel, side * pixel), Image.Resampling.NEAREST)
    # The quiet zone is light like the box: pasting it whole keeps the box's outline clear of the modules.
    canvas.image.paste(code, (_QR_X * k + offset, _QR_Y * k + offset))


def _draw_status(canvas: _Canvas, status: str, label: str, height: int) -> None:
    """The ribbon; for anything but valid, also a veil over the card and a rotated stamp across it."""
    from PIL import Image  # noqa: PLC0415 - the badges extra

    k = canvas.k
    colour = _STATUS_COLOURS[status]
    if status != "valid":
        veil = (11 * k, 11 * k, 749 * k, (height - 59) * k)
        canvas.image.paste((255, 255, 255), veil, Image.new("L", (veil[2] - veil[0], veil[3] - veil[1]), 158))
        sx, sy = _STAMP[:2]
        stamp = _stamp_image(colour, label, canvas.font_path, k)
        canvas.image.paste(stamp, (sx * k - stamp.width // 2, sy * k - stamp.height // 2), stamp)
    canvas.draw.rectangle((11 * k, (height - 56) * k, 749 * k, (height - 11) * k), fill=_rgb(colour))
    canvas.write(label, (_W / 2, height - 26), 20, 700, ("#ffffff", True, "ms"))


@functools.lru_cache(maxsize=32)
def _stamp_image(colour: str, label: str, font_path: str, k: int) -> Any:
    """The status stamp, framed and rotated -12 degrees, as an RGBA image (cached: a few statuses, two languages)."""
    from PIL import Image, ImageDraw  # noqa: PLC0415 - the badges extra

    _, _, sw, sh, ssize = _STAMP
    stamp = Image.new("RGBA", (sw * k, sh * k), (0, 0, 0, 0))
    ImageDraw.Draw(stamp).rounded_rectangle(
        (0, 0, sw * k - 1, sh * k - 1), 6 * k, outline=_rgb(colour), width=5 * k
    )
    _Canvas(stamp, font_path, k).write(label, (sw / 2, sh / 2), ssize, sw - 44, (colour, True, "mm"))
    return stamp.rotate(12, expand=True, resample=Image.Resampling.BICUBIC)


def _ring_text(image: Any, scheme: str, font_path: str, k: int) -> None:
    """The scheme's name around the seal (centre 130,130 of `image`), centred on top, one rotated glyph at a time."""
    from PIL import Image, ImageDraw  # noqa: PLC0415 - the badges extra

    size, room = _ring_font_size(scheme)
    font = _font(font_path, round(size * k))
    advances = [font.getlength(c) + 0.3 * k for c in scheme]
    total = sum(advances)
    squeeze = min(1.0, room * k / total) if total else 1.0
    radius = _RING * k
    centre = 130 * k
    position = -total * squeeze / 2  # arc length clockwise from 12 o'clock; the text is centred there
    glyph_box = int(size * k * 2)
    for char, advance in zip(scheme, advances, strict=True):
        middle = position + advance * squeeze / 2
        position += advance * squeeze
        if char.isspace():
            continue
        angle = middle / radius
        glyph = Image.new("L", (glyph_box, glyph_box), 0)
        # Baseline a third of an em below the ring's line, so the glyphs sit centred on it.
        ImageDraw.Draw(glyph).text(
            (glyph_box / 2, glyph_box / 2 + size * k / 3), char, font=font, fill=255, anchor="ms"
        )
        glyph = glyph.rotate(-math.degrees(angle), resample=Image.Resampling.BILINEAR)
        x = centre + radius * math.sin(angle) - glyph_box / 2
        y = centre - radius * math.cos(angle) - glyph_box / 2
        image.paste((255, 255, 255, 255), (round(x), round(y)), glyph)
