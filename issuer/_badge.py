"""Badges: the certificate as a picture a company puts on its website, with the signed credential baked in.

The SVG is written by hand from a template (string building is ~20x cheaper than any SVG library, and the
2 ms budget allows nothing else); every credential string goes through `html.escape`, so a company name with
markup in it shows as text. The template is the verifier's, `verifier.badge_svg` (text `verifier.badge_text`):
the verifier holds a badge against exactly that picture, so the renderer adds only the QR code, and refuses a
page URL that the verifier would refuse (`verifier.page_url_problem`). Baking follows Open Badges 3.0 §5.3:
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
import io
import json
import math
import re
import struct
import zlib
from collections.abc import Sequence
from pathlib import Path
from typing import Any, cast

from issuer._errors import IssuerError
from keys import b64url_decode
from verifier import BADGE_LAYOUT, badge_svg, badge_text, page_url_problem

# Debian's CJK fonts, first found wins (fonts-ipafont-gothic is what .ci/run installs).
FONT_CANDIDATES = (
    Path("/usr/share/fonts/opentype/ipafont-gothic/ipagp.ttf"),
    Path("/usr/share/fonts/opentype/ipafont-gothic/ipag.ttf"),
    Path("/usr/share/fonts/truetype/fonts-japanese-gothic.ttf"),
    Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"),
    Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc"),
)
_STATUS_COLOURS = dict(BADGE_LAYOUT.status_colours)
_NAVY, _GOLD = BADGE_LAYOUT.navy, BADGE_LAYOUT.gold
PNG_SCALE = 2  # by default the PNG is twice the SVG's size: sharp on high-density screens, QR easy to scan
PNG_KEYWORD = b"openbadgecredential"


class BadgeRenderError(IssuerError):
    """A badge that cannot be drawn: not a credential, or no Japanese font to draw the PNG with."""


def render_badge_svg(token: str, *, page_url: str, status: str | None = None, lang: str = "ja") -> str:
    """The SVG badge of the credential `token` (a compact JWS), baked with it (Open Badges 3.0 §5.3.2).

    `page_url` is what the QR code opens (the certificate's public page); `status` (None, "valid",
    "suspended", "revoked", "expired") adds a ribbon, as the registry's live badge does; `lang` ("ja", "en")
    picks the language of the labels and of the accessible title and description. `page_url` must be https
    (plain http only to a loopback host): see `_check_page_url`.
    """
    _check_page_url(page_url)
    credential = _credential(token)
    try:
        text = badge_text(credential, lang=lang, status=status)
    except ValueError as e:
        raise BadgeRenderError(str(e)) from e
    return badge_svg(token, text, page_url=page_url, qr=_qr_path(page_url), status=status, lang=lang)


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
    _check_page_url(page_url)
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


def _check_page_url(page_url: str) -> None:
    """Refuse a link the verifier would refuse (`verifier.page_url_problem`): https, or http to loopback only.

    A badge is clicked and scanned by strangers on the holder's website: `javascript:` would run in the page
    that shows the SVG, plain http can be rewritten on the way. The verifier also requires the link to be the
    credential's own id (its page on the issuing registry); that the callers see to (the registry passes the
    id, `aigov badge` defaults to it and refuses another), the renderer checks only the URL's form.
    """
    if not page_url:
        return  # the QR encoder says that a page URL is needed
    problem = page_url_problem(page_url)
    if problem:
        raise BadgeRenderError(f"page URL refused: {problem}")


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


_QUIET = BADGE_LAYOUT.quiet  # modules of light margin around a QR code (ISO/IEC 18004 §9.1)
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


# The layout is the verifier's (it checks a badge against it): the PNG draws the same card from the same numbers.
_W = BADGE_LAYOUT.width
_SEAL = BADGE_LAYOUT.seal
_RING = BADGE_LAYOUT.ring
_SEAL_TEXT = BADGE_LAYOUT.seal_text
_LEFT, _ROOM = BADGE_LAYOUT.left, BADGE_LAYOUT.room
_ROWS = BADGE_LAYOUT.rows
_RULE_Y = BADGE_LAYOUT.rule_y
_QR_X, _QR_Y, _QR_BOX = BADGE_LAYOUT.qr_x, BADGE_LAYOUT.qr_y, BADGE_LAYOUT.qr_box
_STAMP = BADGE_LAYOUT.stamp
_height = BADGE_LAYOUT.height
_ring_font_size = BADGE_LAYOUT.ring_font_size


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
