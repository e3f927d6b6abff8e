"""The SVG of a badge, in one place: the issuer draws exactly this, and the verifier expects exactly this back.

`badge_svg` builds the picture from the badge's text (`badge_text`), its page URL and its QR code (modules per
side and one SVG path: the issuer encodes it, the verifier reads it from the badge). The layout is plain data
(`BADGE_LAYOUT`) so that the issuer's PNG renderer draws the same card from the same numbers. String building,
no SVG library: every credential string goes through `html.escape`, so markup in a company name shows as text.
"""

from __future__ import annotations

import hashlib
import html
import math
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass

_NAVY, _GOLD = "#14315c", "#c9a646"


@dataclass(frozen=True, slots=True)
class BadgeLayout:
    """Where everything on a badge goes, in SVG user units (the PNG multiplies them by its scale)."""

    font_family: str = (
        "'IPAPGothic','IPAGothic','IPAexGothic','Noto Sans CJK JP','Hiragino Kaku Gothic ProN','Yu Gothic',"
        "'Meiryo',sans-serif"
    )
    status_colours: tuple[tuple[str, str], ...] = (
        ("valid", "#1b7f3b"),
        ("suspended", "#a05a00"),
        ("revoked", "#b3261e"),
        ("expired", "#55595e"),
    )
    navy: str = _NAVY
    gold: str = _GOLD
    width: int = 760
    seal: tuple[int, int] = (150, 146)  # centre of the seal
    ring: int = 107  # radius of the circle the scheme's name runs along
    # field, baseline y, font size, widest it may be, colour, bold — centred on the seal
    seal_text: tuple[tuple[str, int, float, int, str, bool], ...] = (
        ("mark", 95, 12.5, 140, _NAVY, True),
        ("level-label", 120, 13, 90, _GOLD, True),
        ("level", 186, 62, 120, _NAVY, True),
        ("achievement", 212, 12, 130, "#333333", False),
    )
    left: int = 300  # the company's particulars: left edge
    room: int = 262  # and width
    # field, baseline y, font size, colour, bold
    rows: tuple[tuple[str, int, float, str, bool], ...] = (
        ("company-ja", 62, 26, _NAVY, True),
        ("company-en", 92, 17, _NAVY, False),
        ("number-label", 130, 11.5, "#5b5b5b", False),
        ("number", 150, 17, "#111111", True),
        ("valid-until-label", 178, 11.5, "#5b5b5b", False),
        ("valid-until", 198, 17, "#111111", True),
        ("issuer-label", 226, 11.5, "#5b5b5b", False),
        ("issuer", 246, 14, "#111111", False),
    )
    rule_y: int = 108
    qr_x: int = 588
    qr_y: int = 40
    qr_box: int = 150
    quiet: int = 4  # modules of light margin around a QR code (ISO/IEC 18004 §9.1)
    stamp: tuple[int, int, int, int, int] = (420, 150, 380, 58, 28)  # centre x, y, width, height, font size

    def height(self, status: str | None) -> int:
        """The card is taller when it carries a status ribbon."""
        return 336 if status else 292

    def colour(self, status: str) -> str:
        return dict(self.status_colours)[status]

    def ring_font_size(self, scheme: str) -> tuple[float, float]:
        """The font size for the scheme's name around the seal, and the room it has (90% of the ring)."""
        room = 2 * math.pi * self.ring * 0.9
        return min(15.0, max(6.0, 15.0 * room / max(text_width(scheme, 15.0), 1.0))), room


BADGE_LAYOUT = BadgeLayout()


def text_width(value: str, size: float) -> float:
    """A generous estimate of the drawn width: wide (CJK) characters 1 em, others 0.62 em."""
    return size * sum(1.0 if unicodedata.east_asian_width(c) in "WF" else 0.62 for c in value)


def badge_svg(
    token: str,
    text: Mapping[str, str],
    *,
    page_url: str,
    qr: tuple[int, str],
    status: str | None = None,
    lang: str = "ja",
) -> str:
    """The SVG badge baked with `token`, showing `text` (`badge_text` of its credential, same status and lang).

    `qr` is the QR code of `page_url`: (modules per side without the quiet zone, one SVG path of its dark
    modules in module units). Deterministic: the same arguments give the same bytes.
    """
    layout = BADGE_LAYOUT
    uid = hashlib.sha256(token.encode()).hexdigest()[:10]
    height = layout.height(status)
    width = layout.width
    cx, cy = layout.seal
    ring = layout.ring
    navy, gold = layout.navy, layout.gold
    parts = [
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<svg xmlns="http://www.w3.org/2000/svg" xmlns:openbadges="https://purl.imsglobal.org/ob/v3p0" '
        f'width="{width}" height="{height}" viewBox="0 0 {width} {height}" role="img" lang="{lang}" '
        f'xml:lang="{lang}" aria-labelledby="t-{uid} d-{uid}" font-family="{layout.font_family}">',
        f'<openbadges:credential verify="{_esc(token)}"></openbadges:credential>',
        f'<title id="t-{uid}">{_esc(text["title"])}</title>',
        f'<desc id="d-{uid}">{_esc(text["desc"])}</desc>',
        # The card: ivory paper, navy frame, a gold rule inside.
        f'<rect x="3" y="3" width="754" height="{height - 6}" rx="18" fill="#fbf9f2" stroke="{navy}" '
        'stroke-width="4"/>',
        f'<rect x="11" y="11" width="738" height="{height - 22}" rx="12" fill="none" stroke="{gold}" '
        'stroke-width="1.5"/>',
        # The seal: a navy disc, gold rings, the scheme's name around the ring, the level in the middle.
        f'<circle cx="{cx}" cy="{cy}" r="128" fill="{navy}"/>',
        f'<circle cx="{cx}" cy="{cy}" r="123" fill="none" stroke="{gold}" stroke-width="1.5"/>',
        f'<circle cx="{cx}" cy="{cy}" r="91" fill="#ffffff" stroke="{gold}" stroke-width="3"/>',
        f'<circle cx="{cx}" cy="{cy}" r="85" fill="none" stroke="{gold}" stroke-width="0.8" '
        'stroke-dasharray="2 3"/>',
        # Starts at 6 o'clock and runs clockwise, so text centred at 50% sits on top, reading left to right.
        f'<path id="ring-{uid}" fill="none" d="M{cx} {cy + ring}a{ring} {ring} 0 1 1 0 -{2 * ring}'
        f'a{ring} {ring} 0 1 1 0 {2 * ring}"/>',
    ]
    scheme = text.get("scheme", "")
    if scheme:
        size, room = layout.ring_font_size(scheme)
        fit = ""
        if text_width(scheme, size) > room:
            fit = f' textLength="{room:.0f}" lengthAdjust="spacingAndGlyphs"'
        parts.append(
            f'<text data-field="scheme" font-size="{size:.1f}" fill="#ffffff" letter-spacing="0.3">'
            f'<textPath href="#ring-{uid}" startOffset="50%" text-anchor="middle"{fit}>{_esc(scheme)}</textPath>'
            "</text>"
        )
    for field, y, size, room_, colour, bold in layout.seal_text:
        if field in text:
            extra = f' fill="{colour}"' + (' font-weight="bold"' if bold else "")
            parts.append(
                _text(field, text[field], x=cx, y=y, size=size, width=room_, extra=extra, anchor="middle")
            )
    for field, y, size, colour, bold in layout.rows:
        if field in text:
            extra = f' fill="{colour}"' + (' font-weight="bold"' if bold else "")
            parts.append(
                _text(field, text[field], x=layout.left, y=y, size=size, width=layout.room, extra=extra)
            )
    parts.append(
        f'<path d="M{layout.left} {layout.rule_y}H{layout.left + layout.room}" stroke="{gold}" stroke-width="1.5"/>'
    )
    # The QR code with its quiet zone (4 modules, ISO/IEC 18004 §9.1) on white.
    modules, path = qr
    qx, qy, box = layout.qr_x, layout.qr_y, layout.qr_box
    scale = box / (modules + 2 * layout.quiet)
    parts += [
        f'<a href="{_esc(page_url)}">',
        f'<rect x="{qx}" y="{qy}" width="{box}" height="{box}" fill="#ffffff" stroke="#d8d2bf"/>',
        f'<path transform="translate({qx + 4 * scale:.3f} {qy + 4 * scale:.3f}) scale({scale:.4f})" '
        f'fill="#000000" shape-rendering="crispEdges" d="{path}"/>',
        "</a>",
    ]
    if "qr-label" in text:
        parts.append(
            _text(
                "qr-label",
                text["qr-label"],
                x=qx + box / 2,
                y=qy + box + 20,
                size=12,
                width=box,
                extra=' fill="#5b5b5b"',
                anchor="middle",
            )
        )
    if status:
        colour = layout.colour(status)
        label = text["status"]
        if status != "valid":
            # A withdrawn certificate must not look valid at a glance: veil the card and stamp it.
            sx, sy, sw, sh, ssize = layout.stamp
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
                x=width / 2,
                y=height - 26,
                size=20,
                width=700,
                extra=' fill="#ffffff" font-weight="bold" letter-spacing="1"',
                anchor="middle",
            ),
        ]
    parts.append("</svg>\n")
    return "".join(parts)


def _esc(value: str) -> str:
    return html.escape(value, quote=True)


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
    if text_width(value, size) > width:
        fit = f' textLength="{width:g}" lengthAdjust="spacingAndGlyphs"'
    anchor_attr = f' text-anchor="{anchor}"' if anchor else ""
    return (
        f'<text data-field="{field}" x="{x:g}" y="{y:g}" font-size="{size:g}"{anchor_attr}{fit}{extra}>'
        f"{_esc(value)}</text>"
    )
