"""Baked badges (Open Badges 3.0 §5.3): get the credential out of an SVG or PNG, and check the SVG's picture.

Badges arrive from strangers, so both readers are written for hostile input:

- SVG is read with the standard library's expat, configured like defusedxml and stricter: a DOCTYPE is refused
  outright (so no entity, internal or external, is ever declared: no billion laughs, no XXE), there are caps on
  size, depth, element count and attribute length, and nothing is ever fetched.
- PNG is walked chunk by chunk with the signature, every length and every CRC checked, within a byte cap.
  The credential's `iTXt` chunk must not be compressed (OB 3.0 §5.3.1), so a compressed one is refused
  without being inflated: no decompression bomb can be fed through it.

The badge's visible text is what a person reads; `badge_text` says what it must be for a credential, and
`badge_svg` (verifier._badge_svg) the whole picture: the issuer's renderer draws exactly that. But a browser
shows what the SVG draws, not what its text elements say, so `compare_badge_text` is strict: an SVG badge
passes only if it is node for node the picture the renderer draws for its own token, with nothing added (no
script, style, image, foreignObject, use, event handler or stylesheet), nothing moved, hidden or restyled, and a
link and QR code that open the credential's own page (its id). Anything else fails, naming the element or
attribute: a tampered badge is invalid, not merely suspicious.

    VerifierError
    └── BadgeError      not a badge we can read; `.problem` is its problem type URI
"""

from __future__ import annotations

import hashlib
import re
import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC
from typing import Any, Literal
from urllib.parse import urlsplit
from xml.parsers import expat

from verifier import problems
from verifier._badge_svg import BADGE_LAYOUT, badge_svg
from verifier._errors import VerifierError
from verifier._hosts import is_loopback_host
from verifier._model import parse_date_time_stamp
from verifier._result import CheckResult, Outcome, Verdict, VerificationResult
from verifier._trust import TrustStore
from verifier._verify import verify

OB3_NAMESPACE = "https://purl.imsglobal.org/ob/v3p0"
SVG_NAMESPACE = "http://www.w3.org/2000/svg"
XML_NAMESPACE = "http://www.w3.org/XML/1998/namespace"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
PNG_KEYWORD = b"openbadgecredential"
BADGE_MISMATCH = "urn:aigov:problem:badge-mismatch"
NOT_A_BADGE = "urn:aigov:problem:not-a-badge"

# A badge is tens of KB; these caps leave room for a designer's artwork and refuse anything much bigger.
MAX_BADGE_BYTES = 4 * 1024 * 1024
MAX_SVG_DEPTH = 64
MAX_SVG_ELEMENTS = 50_000
MAX_ATTRIBUTE_CHARS = 64 * 1024  # the `verify` attribute holds the JWS and may be longer
MAX_TOKEN_CHARS = 1024 * 1024
MAX_PNG_CHUNKS = 10_000

LANGS = ("ja", "en")
STATUSES = ("valid", "suspended", "revoked", "expired")
# Which text elements a badge carries, and in which order the renderer draws them.
FIELDS = (
    "title",
    "desc",
    "mark",
    "scheme",
    "level-label",
    "level",
    "achievement",
    "company-ja",
    "company-en",
    "number-label",
    "number",
    "valid-until-label",
    "valid-until",
    "issuer-label",
    "issuer",
    "qr-label",
    "status",
)
_LABELS: dict[str, dict[str, str]] = {
    "ja": {
        "mark": "AIガバナンス認証",
        "level-label": "レベル",
        "number-label": "認証番号",
        "valid-until-label": "有効期限",
        "issuer-label": "認証機関",
        "qr-label": "スキャンして検証",
        "valid": "有効 ・ VALID",
        "suspended": "一時停止中 ・ SUSPENDED",
        "revoked": "取消済み ・ REVOKED",
        "expired": "期限切れ ・ EXPIRED",
    },
    "en": {
        "mark": "AI GOVERNANCE CERTIFIED",
        "level-label": "LEVEL",
        "number-label": "Certificate No.",
        "valid-until-label": "Valid until",
        "issuer-label": "Certified by",
        "qr-label": "Scan to verify",
        "valid": "VALID ・ 有効",
        "suspended": "SUSPENDED ・ 一時停止中",
        "revoked": "REVOKED ・ 取消済み",
        "expired": "EXPIRED ・ 期限切れ",
    },
}
# XML whitespace only (XML 1.0 §2.3 S): what a renderer collapses. Not `\s`, which also takes U+1680 OGHAM SPACE
# MARK (drawn as a dash), U+3000, U+2028, U+0085 and others that a browser draws or moves text with.
_SPACES = re.compile(r"[ \t\r\n]+")
_XML_SPACE = " \t\r\n"
_LEGACY_SPACES = re.compile(r"\s+")  # what badges drawn before 2026-11-26 collapsed
# XML 1.0 §2.2 Char: what may not appear in a document even escaped.
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


class BadgeError(VerifierError):
    """Bytes that are not a badge we can read (or a hostile one); `.problem` is its problem type URI."""

    def __init__(self, message: str, *, problem: str = problems.PARSING_ERROR) -> None:
        super().__init__(message)
        self.problem = problem


@dataclass(frozen=True, slots=True)
class Badge:
    """What a baked badge holds: the compact JWS, and for SVG the text a person sees, per field.

    `text` is None for PNG: pixels cannot be read back as text, so a PNG's picture cannot be compared.
    `unlabelled` lists visible text that belongs to no known field (an edit that added text). `drawing` is the
    SVG as a flat list of nodes (elements with their attributes, text, processing instructions), which
    `compare_badge_text` holds against the picture the issuer's renderer draws.
    """

    kind: Literal["svg", "png"]
    token: str
    text: Mapping[str, str] | None = None
    lang: str | None = None
    unlabelled: tuple[str, ...] = field(default=())
    drawing: tuple[Node, ...] | None = field(default=None, compare=False, repr=False)


def badge_text(
    credential: Mapping[str, Any],
    *,
    lang: str = "ja",
    status: str | None = None,
    legacy_spaces: bool = False,
) -> dict[str, str]:
    """The visible text of the badge of `credential`, per field, as the renderer draws it and a check expects.

    Values are the credential's own strings (XML whitespace collapsed), never truncated: the renderer fits long
    ones by squeezing the glyphs, so that the picture says exactly what was signed. `legacy_spaces` gives the
    text as renderers before 2026-11-26 drew it (every Unicode space a plain one), to check badges of that time.
    """
    if lang not in LANGS:
        raise ValueError(f"lang must be one of {', '.join(LANGS)}, not {lang!r}")
    if status is not None and status not in STATUSES:
        raise ValueError(f"status must be one of {', '.join(STATUSES)} or None, not {status!r}")
    labels = _LABELS[lang]
    text_of = _legacy_str if legacy_spaces else _plain_str
    subject = _member(credential, "credentialSubject")
    certification = _member(subject, "certification")
    achievement = _member(subject, "achievement")
    names = _member(subject, "legalName")
    issuer = credential.get("issuer")
    issuer_name = text_of(_member(credential, "issuer").get("name")) or text_of(issuer)
    until = _date(credential.get("validUntil"))
    text = {
        "mark": labels["mark"],
        "scheme": text_of(certification.get("scheme")) or text_of(credential.get("name")),
        "level-label": labels["level-label"],
        "level": text_of(certification.get("level")),
        "achievement": text_of(achievement.get("name")),
        "company-ja": text_of(names.get("ja")),
        "company-en": text_of(names.get("en")),
        "number-label": labels["number-label"],
        "number": text_of(certification.get("certificateNumber")),
        "valid-until-label": labels["valid-until-label"],
        "valid-until": until,
        "issuer-label": labels["issuer-label"],
        "issuer": issuer_name,
        "qr-label": labels["qr-label"],
        "status": labels[status] if status else "",
    }
    company = " / ".join(n for n in (text["company-ja"], text["company-en"]) if n) or "?"
    level = text["level"] or "?"
    if lang == "ja":
        text["title"] = f"{company} — AIガバナンス認証 レベル{level}"
        text["desc"] = (
            f"認証番号 {text['number'] or '?'}、有効期限 {until or '?'}、認証機関 {issuer_name or '?'}。"
            "この画像には署名付きの証明書 (Open Badges 3.0) が埋め込まれています。"
        )
    else:
        text["title"] = f"{company} — AI Governance Certification, Level {level}"
        text["desc"] = (
            f"Certificate {text['number'] or '?'}, valid until {until or '?'}, certified by "
            f"{issuer_name or '?'}. The signed certificate (Open Badges 3.0) is baked into this image."
        )
    if status:
        text["desc"] += f" {labels[status]}."
    return {name: text[name] for name in FIELDS if text[name]}


def extract_badge(data: bytes, *, filename: str | None = None) -> Badge:
    """The baked credential of an SVG or PNG badge (chosen by its bytes, not its name); raises BadgeError."""
    where = f"{filename}: " if filename else ""
    if len(data) > MAX_BADGE_BYTES:
        raise BadgeError(f"{where}badge is larger than {MAX_BADGE_BYTES:,} bytes", problem=NOT_A_BADGE)
    try:
        if data.startswith(PNG_SIGNATURE):
            return _read_png(data)
        if _looks_like_xml(data):
            return _read_svg(data)
    except BadgeError as e:
        raise BadgeError(f"{where}{e}", problem=e.problem) from None
    raise BadgeError(f"{where}not a badge: neither a PNG nor an SVG image", problem=NOT_A_BADGE)


def compare_badge_text(badge: Badge, credential: Mapping[str, Any] | None) -> CheckResult:
    """Check `badge`: is it the picture the issuer's renderer draws for the signed credential, and no more?

    Only SVG can be read back. A PNG's pixels cannot, and metadata written beside them would not prove what the
    pixels show, so for PNG the check is reported not applicable rather than passed.

    An SVG is what a browser makes of it, not what its text elements say: a picture laid over the company's
    name, a style that hides a field, a script, a link to a look-alike page all leave the text intact. So the
    check is strict, in this order, and any finding fails it (a tampered badge is invalid, not suspicious):

    1. allow-list: only the elements and attributes the renderer writes (`ALLOWED_ATTRIBUTES`); no script,
       style, image, foreignObject, use, event handler, `style`/`class`/`opacity`/`transform` on text, no
       external reference or processing instruction; the link is https (http only to a loopback host);
    2. the visible text, field by field, against `badge_text` of the credential;
    3. the whole drawing against `badge_svg` redrawn from the embedded token (node by node, every attribute
       value: a field moved off the card, shrunk to nothing or painted the paper's colour is an edit);
    4. the link and the QR code: see `_link_problem`. The QR code is read with zxing-cpp (the badges extra);
       without it the check is indeterminate (`QR_CODE_NOT_READ`): a link that checks out says nothing of where
       the code people scan leads.
    """
    if credential is None:
        return CheckResult("badge", Outcome.SKIPPED, "not checked: the credential could not be read")
    if badge.text is None:
        return CheckResult(
            "badge",
            Outcome.SKIPPED,
            "not applicable: a PNG's picture cannot be read back; compare it with the certificate above",
        )
    nodes = badge.drawing or ()
    refused = _allow_list_problem(nodes, badge.token)
    if refused:
        return _edited([refused])
    if badge.lang not in LANGS:
        return _edited([f"<svg> has xml:lang={_quote(badge.lang)}, the issuer's renderer draws ja or en"])
    lang = badge.lang
    allowed_status = {_LABELS[lang][s]: s for s in STATUSES}
    wrong = _text_differences(badge, badge_text(credential, lang=lang), allowed_status)
    # Badges drawn before 2026-11-26 show any Unicode space (U+3000 in a Japanese name, a no-break space) as
    # a plain one: such a badge is redrawn the way it was drawn, or genuine badges on companies' sites fail.
    legacy = False
    if wrong and not _text_differences(
        badge, badge_text(credential, lang=lang, legacy_spaces=True), allowed_status
    ):
        wrong, legacy = [], True
    wrong += [f"text {_quote(t)} is not from the credential" for t in badge.unlabelled]
    if wrong:
        return _edited(wrong)
    status_label = badge.text.get("status")
    status = allowed_status[status_label] if status_label else None
    href, qr = _link_and_qr(nodes)
    if qr is None:
        return _edited(["the QR code is not the one the issuer's renderer draws (one path of whole modules)"])
    redrawn = badge_svg(
        badge.token,
        badge_text(credential, lang=lang, status=status, legacy_spaces=legacy),
        page_url=href or "",
        qr=qr,
        status=status,
        lang=lang,
    )
    difference = _first_difference(nodes, _read_svg(redrawn.encode()).drawing or ())
    if difference:
        return _edited([difference])
    read = _read_qr(qr)
    problem = _link_problem(href or "", credential)
    if problem is None and read is not None and read != [href]:
        shown = ", ".join(_url(t) for t in read) or "nothing a scanner can read"
        problem = f"the QR code opens {shown}, not the badge's link {_url(href)}"
    if problem:
        return CheckResult(
            "badge",
            Outcome.FAILED,
            f"the badge does not lead to the credential's own page: {problem}",
            BADGE_MISMATCH,
        )
    note = f" (its ribbon says {status})" if status else ""
    matches = (
        "the badge's visible text matches the signed credential, it is drawn exactly as the issuer draws it,"
    )
    if read is None:
        # The light verifier: the QR code is what people scan, and where it leads cannot be told without a
        # reader that checks its Reed-Solomon codes (a crafted error-correction block makes phones read another
        # URL than the raw data codewords say), so the badge is undecided, never valid on its link alone.
        return CheckResult(
            "badge",
            Outcome.INDETERMINATE,
            f"{matches} and its link opens the credential's page {href}{note}, but its QR code could not be read "
            "here: install aigov[badges] (zxing-cpp) to check where it leads",
            problems.QR_CODE_NOT_READ,
        )
    return CheckResult(
        "badge", Outcome.PASSED, f"{matches} and its link and QR code open the credential's page {href}{note}"
    )


def _text_differences(
    badge: Badge, expected: Mapping[str, str], allowed_status: Mapping[str, str]
) -> list[str]:
    """How the badge's text differs from `expected`, field by field."""
    assert badge.text is not None  # noqa: S101 - an SVG's
    wrong: list[str] = []
    for name in FIELDS:
        seen, want = badge.text.get(name), expected.get(name)
        if name == "status":
            if seen is not None and seen not in allowed_status:
                wrong.append(f"status ribbon reads {seen!r}")
        elif seen != want:
            # The description may end with the status sentence the live badge adds.
            if name == "desc" and any(seen == f"{want} {label}." for label in allowed_status):
                continue
            wrong.append(f"{name} reads {_quote(seen)}, the credential says {_quote(want)}")
    return wrong


def _edited(wrong: list[str]) -> CheckResult:
    shown = "; ".join(wrong[:3]) + (f"; and {len(wrong) - 3} more" if len(wrong) > 3 else "")
    return CheckResult("badge", Outcome.FAILED, f"the badge's picture was edited: {shown}", BADGE_MISMATCH)


# -- the SVG against the renderer ---------------------------------------------------------------------------------
Node = tuple[str, str, tuple[tuple[str, str], ...]]  # ("start"|"end"|"text"|"pi", name or data, attributes)

_SVG, _OB3, _XML = SVG_NAMESPACE + " ", OB3_NAMESPACE + " ", XML_NAMESPACE + " "
# Every element and attribute the renderer writes (verifier._badge_svg): nothing else may appear in a badge.
ALLOWED_ATTRIBUTES: dict[str, frozenset[str]] = {
    _SVG + "svg": frozenset(
        {"width", "height", "viewBox", "role", "lang", _XML + "lang", "aria-labelledby", "font-family"}
    ),
    _OB3 + "credential": frozenset({"verify"}),
    _SVG + "title": frozenset({"id"}),
    _SVG + "desc": frozenset({"id"}),
    _SVG + "rect": frozenset(
        {"x", "y", "width", "height", "rx", "fill", "fill-opacity", "stroke", "stroke-width"}
    ),
    _SVG + "circle": frozenset({"cx", "cy", "r", "fill", "stroke", "stroke-width", "stroke-dasharray"}),
    _SVG + "path": frozenset({"id", "d", "fill", "stroke", "stroke-width", "transform", "shape-rendering"}),
    _SVG + "text": frozenset(
        {
            "data-field",
            "x",
            "y",
            "font-size",
            "font-weight",
            "text-anchor",
            "textLength",
            "lengthAdjust",
            "fill",
            "letter-spacing",
        }
    ),
    _SVG + "textPath": frozenset({"href", "startOffset", "text-anchor", "textLength", "lengthAdjust"}),
    _SVG + "a": frozenset({"href"}),
    _SVG + "g": frozenset({"transform"}),
}
_ACTIVE = {
    "script": "runs code",
    "style": "restyles the badge",
    "image": "draws a picture over the badge",
    "foreignObject": "draws HTML over the badge",
    "use": "copies in content from elsewhere",
    "iframe": "loads a page",
    "animate": "changes the picture after it is checked",
    "animateMotion": "changes the picture after it is checked",
    "animateTransform": "changes the picture after it is checked",
    "set": "changes the picture after it is checked",
    "filter": "can blur or hide what it applies to",
    "mask": "can hide what it applies to",
    "clipPath": "can hide what it applies to",
}
_QR_RUN = re.compile(r"M(\d{1,3}) (\d{1,3})h(\d{1,3})v1h-(\d{1,3})z")


def _display(name: str) -> str:
    """`svg:rect` as `rect`, the OB 3.0 namespace as `openbadges:`, xml: as `xml:`, any other as `{uri}name`."""
    namespace, _, local = name.rpartition(" ")
    if namespace in ("", SVG_NAMESPACE):
        return local
    prefix = {OB3_NAMESPACE: "openbadges", XML_NAMESPACE: "xml", "http://www.w3.org/1999/xlink": "xlink"}.get(
        namespace
    )
    return f"{prefix}:{local}" if prefix else f"{{{namespace}}}{local}"


def _describe(node: Node) -> str:
    """An element as a person finds it in the file: `<text data-field="company-en">`, `<rect>`."""
    kind, name, attributes = node
    if kind == "pi":
        return f"<?{name}?>"
    if kind == "text":
        return f"text {_quote(_SPACES.sub(' ', name).strip(' '))}"
    named = dict(attributes)
    key = next((k for k in ("data-field", "id") if k in named), None)
    tag = f"<{_display(name)}" + (f' {key}="{_clip(named[key])}"' if key else "") + ">"
    return tag if kind == "start" else f"the end of {tag}"


def _clip(value: str, limit: int = 60) -> str:
    return value if len(value) <= limit else value[: limit - 3] + "…"


def _allow_list_problem(nodes: Sequence[Node], token: str) -> str | None:
    """The first element, attribute or reference in the badge that the renderer never writes."""
    uid = hashlib.sha256(token.encode()).hexdigest()[:10]
    for node in nodes:
        kind, name, attributes = node
        if kind == "pi":
            return f"a processing instruction <?{name} {_clip(attributes[0][1])}?> is not part of a badge"
        if kind != "start":
            continue
        allowed = ALLOWED_ATTRIBUTES.get(name)
        if allowed is None:
            local = name.rpartition(" ")[2]
            why = f" (it {_ACTIVE[local]})" if local in _ACTIVE else ""
            return f"element <{_display(name)}>{why} is not part of a badge the issuer draws"
        for attribute, value in attributes:
            if attribute not in allowed:
                local = attribute.rpartition(" ")[2]
                what = "an event handler" if local.lower().startswith("on") else "an attribute"
                return (
                    f"{_describe(node)} has {_display(attribute)}={_quote(value)}, {what} the issuer's renderer "
                    "never writes"
                )
        named = dict(attributes)
        local = name.rpartition(" ")[2]
        if local == "a" and page_url_problem(named.get("href", "")):
            return f"<a href={_url(named.get('href', ''))}>: {page_url_problem(named.get('href', ''))}"
        if local == "textPath" and named.get("href") != f"#ring-{uid}":
            return f"<textPath href={_quote(named.get('href'))}> does not follow the seal's ring #ring-{uid}"
    return None


def _link_and_qr(nodes: Sequence[Node]) -> tuple[str | None, tuple[int, str] | None]:
    """The badge's link and its QR code as (modules per side, path), None when the path is not whole modules.

    The path must be what the renderer writes: one `M x yh wv1h-wz` run of dark modules after another, all
    inside a square of 21-177 modules (versions 1-40): nothing drawn outside the QR code's box.
    """
    href: str | None = None
    inside = False
    for kind, name, attributes in nodes:
        if name == _SVG + "a":
            inside = kind == "start"
            if inside and href is None:
                href = dict(attributes).get("href")
        elif inside and kind == "start" and name == _SVG + "path":
            d = dict(attributes).get("d", "")
            runs = [m.groups() for m in _QR_RUN.finditer(d)]
            if not runs or sum(len(f"M{x} {y}h{w}v1h-{w2}z") for x, y, w, w2 in runs) != len(d):
                return href, None
            cells = [(int(x), int(y), int(w)) for x, y, w, w2 in runs if w == w2]
            if len(cells) != len(runs) or any(w < 1 for _, _, w in cells):
                return href, None
            side = max(y for _, y, _ in cells) + 1
            if not 21 <= side <= 177 or (side - 17) % 4 or any(x + w > side for x, _, w in cells):
                return href, None
            return href, (side, d)
    return href, None


def _first_difference(seen: Sequence[Node], drawn: Sequence[Node]) -> str | None:
    """Where the badge departs from the renderer's drawing, naming the element and the attribute."""
    for index in range(max(len(seen), len(drawn))):
        mine = seen[index] if index < len(seen) else None
        theirs = drawn[index] if index < len(drawn) else None
        if mine == theirs:
            continue
        if mine is None:
            assert theirs is not None  # noqa: S101 - one of the two lists is longer
            return f"{_describe(theirs)} is missing"
        if theirs is None or mine[:2] != theirs[:2]:
            where = f" where the issuer's renderer draws {_describe(theirs)}" if theirs else ""
            return f"{_describe(mine)}{where}"
        have, want = dict(mine[2]), dict(theirs[2])
        for attribute in sorted(have.keys() | want.keys()):
            if have.get(attribute) != want.get(attribute):
                if attribute not in want:
                    return f"{_describe(mine)} has {_display(attribute)}={_quote(have[attribute])}, which the renderer does not write there"
                return (
                    f"{_describe(mine)} has {_display(attribute)}={_quote(have.get(attribute))}, the issuer's "
                    f"renderer draws {_display(attribute)}={_quote(want[attribute])}"
                )
    return None


def page_url_problem(url: str) -> str | None:
    """Why `url` may not be a badge's link or QR code (None when it may): https only, plain http only to a
    loopback host (a registry on a developer's machine), as everywhere else in aigov; no user info, no spaces,
    quotes or angle brackets. The issuer's renderer refuses what this refuses, so it never draws a bad badge.
    """
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number
    except ValueError:
        return f"{_quote(url)} is not a URL"
    if parts.scheme not in ("https", "http"):
        scheme = f"a {parts.scheme}: URL" if parts.scheme else "a relative one"
        return f"the link must be an https URL, not {scheme}"
    if not host or any(c.isspace() or ord(c) < 0x20 or c in "<>\"'`\\" for c in url):
        return f"{_quote(url)} is not an absolute URL without spaces, quotes or angle brackets"
    if parts.username is not None or parts.password is not None:
        return "a URL with user information (user@host) misleads whoever reads it"
    if parts.scheme == "http" and not is_loopback_host(host):
        return "plain http is allowed only to a loopback host (development): the link must be https"
    return None


def _link_problem(href: str, credential: Mapping[str, Any]) -> str | None:
    """Why the badge's link is not the credential's own page.

    A certified company puts the badge on its own site; a visitor clicks it or scans its QR code to see, on
    the registry that issued the certificate, that it is real. So the link must be the credential's `id`,
    exactly: its public record on the issuer's registry (the renderer's default, and what the registry's
    live badges write). Any other URL, even https and even on the same registry, is a page the badge's holder
    chose: a look-alike "registry" that confirms anything, or another company's certificate. The signature
    covers the id, not the link, so the link is checked here.
    """
    identifier = credential.get("id")
    if not isinstance(identifier, str) or page_url_problem(identifier):
        return (
            f"the credential's id {_quote(identifier if isinstance(identifier, str) else None)} is not an https "
            "URL, so a badge cannot link to its page"
        )
    if href != identifier:
        return f"the link goes to {_url(href)}, not to the credential's page {_url(identifier)}"
    return None


def _read_qr(qr: tuple[int, str]) -> list[str] | None:
    """The texts a scanner reads from the QR code's modules (zxing-cpp, the badges extra); None without it.

    The modules are laid out as a clean image, 3 pixels a module inside the quiet zone: what a phone sees of
    the badge, without the blur. zxing-cpp checks the Reed-Solomon codes, so what it reads is what a phone
    reads, not merely the data codewords.
    """
    try:
        import zxingcpp  # noqa: PLC0415 - the badges extra, loaded only when a QR code is read
    except ImportError:
        return None
    side, path = qr
    quiet, k = BADGE_LAYOUT.quiet, 3
    width = (side + 2 * quiet) * k
    rows = [bytearray(b"\xff" * (side + 2 * quiet)) for _ in range(side + 2 * quiet)]
    for m in _QR_RUN.finditer(path):
        x, y, w = int(m[1]), int(m[2]), int(m[3])
        rows[y + quiet][x + quiet : x + quiet + w] = bytes(w)
    pixels = b"".join(bytes(b for b in row for _ in range(k)) * k for row in rows)
    found = zxingcpp.read_barcodes(
        memoryview(pixels).cast("B", (width, width)),
        formats=zxingcpp.BarcodeFormats(zxingcpp.BarcodeFormat.QRCode),
        try_invert=False,
    )
    return [barcode.text for barcode in found if barcode.valid]


# -- SVG ----------------------------------------------------------------------------------------------------------
class _SvgReader:
    """expat callbacks that refuse DTDs and entities, enforce caps, and collect the credential and the text."""

    def __init__(self) -> None:
        self.depth = 0
        self.elements = 0
        self.tokens: list[str] = []
        self.lang: str | None = None
        self.text: dict[str, str] = {}
        self.unlabelled: list[str] = []
        self.root_seen = False
        # The text element being read: (field or None, depth, pieces).
        self.current: tuple[str | None, int, list[str]] | None = None
        self.nodes: list[Node] = []
        self.pending: list[str] = []  # character data since the last tag (expat delivers it in pieces)

    def flush(self) -> None:
        if self.pending:
            data = "".join(self.pending)
            self.pending.clear()
            if data.strip(_XML_SPACE):  # XML whitespace between elements draws nothing, anything else does
                self.nodes.append(("text", data, ()))

    def start(self, name: str, attributes: dict[str, str]) -> None:
        self.flush()
        self.nodes.append(("start", name, tuple(sorted(attributes.items()))))
        self.depth += 1
        self.elements += 1
        if self.depth > MAX_SVG_DEPTH:
            raise BadgeError(f"SVG nested deeper than {MAX_SVG_DEPTH} elements")
        if self.elements > MAX_SVG_ELEMENTS:
            raise BadgeError(f"SVG has more than {MAX_SVG_ELEMENTS:,} elements")
        namespace, _, local = name.rpartition(" ")
        for attribute, value in attributes.items():
            limit = MAX_TOKEN_CHARS if attribute == "verify" else MAX_ATTRIBUTE_CHARS
            if len(value) > limit:
                raise BadgeError(
                    f"SVG attribute {attribute.rpartition(' ')[2]!r} is longer than {limit:,} characters"
                )
        if not self.root_seen:
            self.root_seen = True
            if namespace != SVG_NAMESPACE or local != "svg":
                raise BadgeError("not an SVG image: the root element is not <svg> in the SVG namespace")
            self.lang = attributes.get(f"{XML_NAMESPACE} lang") or attributes.get("lang")
        if namespace == OB3_NAMESPACE and local == "credential":
            verify = attributes.get("verify")
            if verify is None:
                raise BadgeError(
                    "the <openbadges:credential> element has no verify attribute: only VC-JWT (compact JWS) "
                    "badges are supported, not embedded proofs"
                )
            self.tokens.append(verify.strip())
        elif namespace == SVG_NAMESPACE and local in ("text", "title", "desc") and self.current is None:
            label = attributes.get("data-field") if local == "text" else local
            self.current = (label, self.depth, [])

    def end(self, name: str) -> None:
        self.flush()
        self.nodes.append(("end", name, ()))
        if self.current is not None and self.current[1] == self.depth:
            label, _, pieces = self.current
            self.current = None
            value = _SPACES.sub(" ", "".join(pieces)).strip(" ")
            if label in FIELDS and label not in self.text:
                self.text[label] = value
            elif value and (label not in FIELDS or self.text[label] != value):
                self.unlabelled.append(value)
        self.depth -= 1

    def characters(self, data: str) -> None:
        self.pending.append(data)
        if self.current is not None:
            self.current[2].append(data)

    def instruction(self, target: str, data: str) -> None:
        """A processing instruction (`<?xml-stylesheet href=…?>` restyles an SVG opened on its own): kept, refused
        by the check."""
        self.flush()
        self.nodes.append(("pi", target, (("data", data),)))

    @staticmethod
    def refuse_doctype(*_: object) -> None:
        raise BadgeError("SVG with a DOCTYPE refused: no DTD, no entities, no external references")

    @staticmethod
    def refuse_entity(*_: object) -> None:
        raise BadgeError("SVG with an entity declaration or reference refused")


def _read_svg(data: bytes) -> Badge:
    reader = _SvgReader()
    parser = expat.ParserCreate(namespace_separator=" ")
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
    parser.StartDoctypeDeclHandler = reader.refuse_doctype
    parser.EntityDeclHandler = reader.refuse_entity
    parser.UnparsedEntityDeclHandler = reader.refuse_entity
    parser.ExternalEntityRefHandler = reader.refuse_entity  # type: ignore[assignment]
    parser.SkippedEntityHandler = reader.refuse_entity
    parser.StartElementHandler = reader.start
    parser.EndElementHandler = reader.end
    parser.CharacterDataHandler = reader.characters
    parser.ProcessingInstructionHandler = reader.instruction
    try:
        parser.Parse(data, True)
    except expat.ExpatError as e:
        raise BadgeError(f"not well-formed SVG: {expat.ErrorString(e.code)} at line {e.lineno}") from None
    except LookupError as e:  # an XML declaration naming an encoding Python does not know (expat asks Python)
        raise BadgeError(f"not well-formed SVG: {e}") from None
    except ValueError as e:
        # An encoding Python knows but expat cannot take: multi-byte ones (shift_jis, cp932, euc-jp, utf-7,
        # utf-32: "multi-byte encodings are not supported") and codecs that fail on a byte table (idna, undefined).
        named = _declared_encoding(data)
        which = f"the encoding its XML declaration names ({named})" if named else "its encoding"
        raise BadgeError(
            f"not well-formed SVG: {which} cannot be read here ({e}): save it as UTF-8"
        ) from None
    except RecursionError:  # pragma: no cover - the depth cap stops well before
        raise BadgeError(f"SVG nested deeper than {MAX_SVG_DEPTH} elements") from None
    if not reader.tokens:
        raise BadgeError(
            f"no <openbadges:credential> element (namespace {OB3_NAMESPACE}): this SVG carries no credential",
            problem=NOT_A_BADGE,
        )
    if len(reader.tokens) > 1:
        raise BadgeError(
            f"{len(reader.tokens)} <openbadges:credential> elements: a badge must carry exactly one (OB 3.0 §5.3.2)"
        )
    return Badge(
        "svg", reader.tokens[0], reader.text, reader.lang, tuple(reader.unlabelled), tuple(reader.nodes)
    )


_ENCODING = re.compile(rb"<\?xml[^>]{0,200}?encoding\s*=\s*[\"']([^\"'>]{1,40})[\"']")


def _declared_encoding(data: bytes) -> str | None:
    """The encoding an XML declaration names, quoted for a message (a stranger's bytes: shown, not trusted)."""
    found = _ENCODING.search(data[:512])
    return repr(found[1].decode("ascii", "replace")) if found else None


def _looks_like_xml(data: bytes) -> bool:
    head = data[:512].lstrip(b"\xef\xbb\xbf").lstrip()
    return head.startswith(b"<")


# -- PNG ----------------------------------------------------------------------------------------------------------
def _read_png(data: bytes) -> Badge:
    """Walk the chunks (PNG §5.3): length, type, data, CRC-32 of type and data; IHDR first, IEND last."""
    position = len(PNG_SIGNATURE)
    tokens: list[str] = []
    chunks = 0
    while True:
        if position + 12 > len(data):
            raise BadgeError(f"truncated PNG: chunk header at byte {position} runs past the end of the file")
        length = int.from_bytes(data[position : position + 4], "big")
        kind = data[position + 4 : position + 8]
        if length > 0x7FFFFFFF:
            raise BadgeError(f"oversized PNG chunk at byte {position}: length {length:,} exceeds 2^31-1")
        end = position + 12 + length
        if end > len(data):
            raise BadgeError(
                f"truncated PNG: chunk {_chunk_name(kind)} at byte {position} declares {length:,} bytes, "
                f"{max(0, len(data) - position - 12):,} remain"
            )
        if not (kind.isascii() and kind.isalpha()):
            raise BadgeError(f"corrupt PNG: chunk type {kind!r} at byte {position} is not four letters")
        body = data[position + 8 : position + 8 + length]
        crc = int.from_bytes(data[position + 8 + length : end], "big")
        if zlib.crc32(kind + body) != crc:
            raise BadgeError(f"corrupt PNG: wrong CRC in chunk {_chunk_name(kind)} at byte {position}")
        chunks += 1
        if chunks == 1 and kind != b"IHDR":
            raise BadgeError("corrupt PNG: the first chunk is not IHDR")
        if chunks > MAX_PNG_CHUNKS:
            raise BadgeError(f"PNG has more than {MAX_PNG_CHUNKS:,} chunks")
        if kind == b"iTXt":
            token = _credential_itxt(body)
            if token is not None:
                tokens.append(token)
        position = end
        if kind == b"IEND":
            break
    if not tokens:
        raise BadgeError(
            "no iTXt chunk with keyword 'openbadgecredential': this PNG carries no credential",
            problem=NOT_A_BADGE,
        )
    if len(tokens) > 1:
        raise BadgeError(
            f"{len(tokens)} 'openbadgecredential' iTXt chunks: a badge must carry exactly one (OB 3.0 §5.3.1)"
        )
    return Badge("png", tokens[0])


def _credential_itxt(body: bytes) -> str | None:
    """The text of an `openbadgecredential` iTXt chunk (PNG §11.3.4.5), None for another keyword."""
    keyword, sep, rest = body.partition(b"\0")
    if keyword != PNG_KEYWORD:
        return None
    if not sep or len(rest) < 2:
        raise BadgeError("corrupt PNG: the 'openbadgecredential' iTXt chunk is truncated")
    if rest[0] != 0:
        # OB 3.0 §5.3.1: "Compression MUST NOT be used." Refused without inflating (no bomb can go off).
        raise BadgeError("the 'openbadgecredential' iTXt chunk is compressed; OB 3.0 forbids compression")
    parts = rest[2:].split(b"\0", 2)
    if len(parts) != 3:
        raise BadgeError("corrupt PNG: the 'openbadgecredential' iTXt chunk is missing its separators")
    if len(parts[2]) > MAX_TOKEN_CHARS:
        raise BadgeError(f"the baked credential is longer than {MAX_TOKEN_CHARS:,} bytes")
    try:
        return parts[2].decode("utf-8").strip()
    except UnicodeDecodeError:
        raise BadgeError("the 'openbadgecredential' iTXt text is not UTF-8") from None


def _chunk_name(kind: bytes) -> str:
    return kind.decode("ascii", "replace") if kind.isascii() and kind.isalpha() else repr(kind)


# -- helpers ------------------------------------------------------------------------------------------------------
def _member(value: Mapping[str, Any], name: str) -> Mapping[str, Any]:
    member = value.get(name)
    return member if isinstance(member, Mapping) else {}


def _plain_str(value: object) -> str:
    """A credential string as a badge shows it: XML whitespace collapsed, characters XML 1.0 forbids replaced."""
    if not isinstance(value, str):
        return ""
    return _SPACES.sub(" ", _NOT_XML.sub("\ufffd", value)).strip(" ")


def _legacy_str(value: object) -> str:
    """As renderers before 2026-11-26 drew it: every Unicode space (`\\s`) collapsed to one plain space."""
    if not isinstance(value, str):
        return ""
    return _LEGACY_SPACES.sub(" ", _NOT_XML.sub("\ufffd", value)).strip()


def _date(value: object) -> str:
    """validUntil as a calendar date in UTC (what a person compares), or '' when absent or malformed."""
    try:
        return parse_date_time_stamp(value).astimezone(UTC).date().isoformat()
    except (ValueError, TypeError, OverflowError):  # OverflowError: a date before year 1 in UTC
        return ""


def _url(value: str | None) -> str:
    """A URL as a person must compare it: whole, up to 200 characters."""
    return repr(value if value is None or len(value) <= 200 else value[:197] + "…")


def _quote(value: str | None) -> str:
    if value is None:
        return "nothing"
    return repr(value if len(value) <= 60 else value[:57] + "…")


def verify_badge(
    data: bytes, trust: TrustStore, *, filename: str | None = None, **options: Any
) -> VerificationResult:
    """Extract the credential baked into `data`, verify it (options as for `verify`), and check the picture.

    The result carries one more check, `badge`; a badge whose visible text contradicts the signed credential
    is `invalid` even when the credential itself is valid: the picture claims what was not certified.
    Raises BadgeError when `data` is not a badge that can be read.
    """
    badge = extract_badge(data, filename=filename)
    return with_badge_check(verify(badge.token, trust, **options), badge)


def with_badge_check(result: VerificationResult, badge: Badge | None) -> VerificationResult:
    """`result` with the `badge` check appended (unchanged when `badge` is None); see `verify_badge`."""
    if badge is None:
        return result
    check = compare_badge_text(badge, result.credential)
    verdict, summary = result.verdict, result.summary
    if check.outcome is Outcome.FAILED and verdict is not Verdict.INVALID:
        verdict, summary = Verdict.INVALID, f"do not rely on this badge: {check.detail}"
    elif check.outcome is Outcome.INDETERMINATE and verdict is Verdict.VALID:
        verdict, summary = Verdict.INDETERMINATE, f"cannot tell whether this badge is genuine: {check.detail}"
    return replace(result, verdict=verdict, summary=summary, checks=(*result.checks, check))
