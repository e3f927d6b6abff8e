"""The SVG badge check is strict: a badge is the picture the issuer's renderer draws for its credential, or it fails.

Each attack of the user audit (an image, HTML, a style, opacity or font-size 0 over or on the company's name, a
script, an event handler, a `javascript:` or look-alike link) was verified VALID before; each is now INVALID
with a reason naming the element or attribute. Badges are drawn by the real renderer from tokens signed with
real keys (`world`), then edited here as an attacker would edit them; legitimate badges in both languages and
every status still verify VALID, and PNG badges are unaffected.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import issuer
from verifier import (
    Outcome,
    Verdict,
    badge_svg,
    badge_text,
    compare_badge_text,
    extract_badge,
    page_url_problem,
    parse_compact,
    problems,
    verify_badge,
)

pytestmark = pytest.mark.badges(font=True)

PAGE = "https://registry.example/credentials/0f7c1c8e-3d5a-4a39-9d7e-0c1d2e3f4a5b"  # the credential's id
EVIL = "https://evil.example/fake-registry"
COMPANY_EN = '<text data-field="company-en" x="300" y="92" font-size="17" fill="#14315c">ACME Corp.</text>'
# A 1x1 transparent PNG: what the audit drew "EVIL Corp." with, shrunk to the point.
DATA_PNG = "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg=="


@pytest.fixture(scope="module")
def svg(world: Any) -> str:
    drawn = issuer.render_badge_svg(world.valid_token, page_url=PAGE)
    assert drawn.count(COMPANY_EN) == 1
    return drawn


def check(result: Any) -> Any:
    [found] = [c for c in result.checks if c.name == "badge"]
    return found


def verified(world: Any, data: str | bytes) -> Any:
    raw = data.encode() if isinstance(data, str) else data
    return verify_badge(raw, world.default_trust, now=world.now)


def assert_refused(world: Any, data: str | bytes, reason: str) -> None:
    """`data` verifies INVALID, its credential is fine, and the badge check names `reason`."""
    result = verified(world, data)
    badge = check(result)
    assert result.verdict is Verdict.INVALID, result.render_text()
    assert badge.outcome is Outcome.FAILED
    assert badge.problem == "urn:aigov:problem:badge-mismatch"
    assert reason in badge.detail, badge.detail
    assert result.summary.startswith("do not rely on this badge: ")
    assert [c.outcome for c in result.checks if c.name == "signature"] == [Outcome.PASSED]


def appended(svg: str, markup: str) -> str:
    return svg.replace("</svg>\n", f"{markup}</svg>\n")


def company_en_with(svg: str, attributes: str) -> str:
    return svg.replace(COMPANY_EN, COMPANY_EN.replace(' fill="#14315c">', f' fill="#14315c" {attributes}>'))


# -- the audit's attacks ----------------------------------------------------------------------------------------------
AUDIT = [
    pytest.param(
        lambda s: appended(s, f'<image href="{DATA_PNG}" x="295" y="70" width="380" height="45"/>'),
        "element <image> (it draws a picture over the badge) is not part of a badge the issuer draws",
        id="image-data-uri-over-the-name",
    ),
    pytest.param(
        lambda s: appended(
            s,
            '<foreignObject x="0" y="0" width="760" height="292"><div xmlns="http://www.w3.org/1999/xhtml" '
            'style="background:white;font-size:40px">EVIL Corp.</div></foreignObject>',
        ),
        "element <foreignObject> (it draws HTML over the badge)",
        id="foreign-object-html",
    ),
    pytest.param(
        lambda s: appended(s, "<style>[data-field=company-en]{display:none}</style>"),
        "element <style> (it restyles the badge)",
        id="style-element-hides-a-field",
    ),
    pytest.param(
        lambda s: company_en_with(s, 'opacity="0"'),
        "<text data-field=\"company-en\"> has opacity='0', an attribute the issuer's renderer never writes",
        id="opacity-0",
    ),
    pytest.param(
        lambda s: s.replace(COMPANY_EN, COMPANY_EN.replace('font-size="17"', 'font-size="0"')),
        "<text data-field=\"company-en\"> has font-size='0', the issuer's renderer draws font-size='17'",
        id="font-size-0",
    ),
    pytest.param(
        lambda s: appended(s, "<script>alert(document.cookie)</script>"),
        "element <script> (it runs code)",
        id="script",
    ),
    pytest.param(
        lambda s: s.replace("<svg ", '<svg onload="alert(1)" ', 1),
        "<svg> has onload='alert(1)', an event handler the issuer's renderer never writes",
        id="onload-on-the-root",
    ),
    pytest.param(
        lambda s: s.replace(f'<a href="{PAGE}">', '<a href="javascript:alert(1)">'),
        "<a href='javascript:alert(1)'>: the link must be an https URL, not a javascript: URL",
        id="javascript-link",
    ),
]


@pytest.mark.parametrize(("edit", "reason"), AUDIT)
def test_the_audits_attacks_are_invalid(world: Any, svg: str, edit: Any, reason: str) -> None:
    assert_refused(world, edit(svg), reason)


def test_a_badge_drawn_with_a_phishing_page_url_is_invalid(world: Any) -> None:
    """The renderer draws any https URL (`aigov badge` refuses it); the verifier refuses the badge."""
    phishing = issuer.render_badge_svg(world.valid_token, page_url=EVIL)
    assert_refused(
        world,
        phishing,
        f"the badge does not lead to the credential's own page: the link goes to {EVIL!r}, "
        f"not to the credential's page {PAGE!r}",
    )


def test_a_qr_code_that_opens_another_page_than_the_link_is_invalid(world: Any, svg: str) -> None:
    """The link is left alone and only the QR code is swapped: a phone would open the phishing page."""
    qr = re.compile(r"<path transform=[^>]*crispEdges[^>]*/>")
    [evil_qr] = qr.findall(issuer.render_badge_svg(world.valid_token, page_url=EVIL + "/x" * 3))
    swapped = qr.sub(evil_qr, svg)
    assert swapped != svg
    assert_refused(world, swapped, f"the QR code opens '{EVIL}/x/x/x', not the badge's link {PAGE!r}")


# -- more of the same kind -------------------------------------------------------------------------------------------
MORE = [
    pytest.param(
        lambda s: company_en_with(s, 'style="display:none"'), "has style='display:none'", id="style-attr"
    ),
    pytest.param(
        lambda s: company_en_with(s, 'visibility="hidden"'), "has visibility='hidden'", id="visibility"
    ),
    pytest.param(lambda s: company_en_with(s, 'class="x"'), "has class='x'", id="class"),
    pytest.param(
        lambda s: company_en_with(s, 'transform="translate(2000 0)"'),
        "has transform=",
        id="transform-on-text",
    ),
    pytest.param(
        lambda s: company_en_with(s, 'onclick="steal()"'),
        "has onclick='steal()', an event handler",
        id="onclick",
    ),
    pytest.param(
        lambda s: s.replace(COMPANY_EN, COMPANY_EN.replace('fill="#14315c"', 'fill="#fbf9f2"')),
        "<text data-field=\"company-en\"> has fill='#fbf9f2', the issuer's renderer draws fill='#14315c'",
        id="painted-in-the-papers-colour",
    ),
    pytest.param(
        lambda s: s.replace(COMPANY_EN, COMPANY_EN.replace('x="300"', 'x="9999"')),
        "has x='9999', the issuer's renderer draws x='300'",
        id="moved-off-the-card",
    ),
    pytest.param(
        lambda s: s.replace(
            COMPANY_EN, COMPANY_EN.replace(" fill=", ' textLength="1" lengthAdjust="spacingAndGlyphs" fill=')
        ),
        "has lengthAdjust='spacingAndGlyphs', which the renderer does not write there",
        id="squeezed-to-nothing",
    ),
    pytest.param(
        lambda s: s.replace(
            COMPANY_EN, '<rect x="295" y="70" width="270" height="30" fill="#fbf9f2"/>' + COMPANY_EN
        ),
        '<rect> where the issuer\'s renderer draws <text data-field="company-en">',
        id="covered-by-an-allowed-element",
    ),
    pytest.param(
        lambda s: appended(s, '<rect x="295" y="70" width="270" height="30" fill="#fbf9f2"/>'),
        "<rect> where the issuer's renderer draws the end of <svg>",
        id="covered-at-the-end",
    ),
    pytest.param(
        lambda s: appended(s, '<use href="#ring-x"/>'),
        "element <use> (it copies in content from elsewhere)",
        id="use",
    ),
    pytest.param(
        lambda s: appended(s, '<set attributeName="opacity" to="0"/>'),
        "element <set> (it changes the picture after it is checked)",
        id="set-animation",
    ),
    pytest.param(
        lambda s: s.replace("<svg ", '<?xml-stylesheet href="https://evil.example/x.css"?><svg ', 1),
        'a processing instruction <?xml-stylesheet href="https://evil.example/x.css"?> is not part of a badge',
        id="xml-stylesheet",
    ),
    pytest.param(
        lambda s: re.sub(
            r'<textPath href="#ring-\w+"', '<textPath xmlns:x="http://www.w3.org/1999/xlink" x:href="#a"', s
        ),
        "has xlink:href='#a'",
        id="xlink-href",
    ),
    pytest.param(
        lambda s: re.sub(r'<textPath href="#ring-\w+"', '<textPath href="https://evil.example/p.svg#p"', s),
        "<textPath href='https://evil.example/p.svg#p'> does not follow the seal's ring",
        id="external-text-path",
    ),
    pytest.param(
        lambda s: s.replace(
            COMPANY_EN, COMPANY_EN.replace("ACME Corp.</text>", "ACME Corp.<tspan>EVIL</tspan></text>")
        ),
        "element <tspan> is not part of a badge",
        id="tspan",
    ),
    pytest.param(
        lambda s: re.sub(r'<path d="M300 108H562"[^>]*/>', "", s),
        "<a> where the issuer's renderer draws <path>",
        id="an-element-removed",
    ),
    pytest.param(
        lambda s: re.sub(r'(crispEdges" d=")', r"\1M-200 -50h120v1h-120z", s),
        "the QR code is not the one the issuer's renderer draws",
        id="qr-path-drawing-outside-its-box",
    ),
    pytest.param(
        lambda s: re.sub(r'(crispEdges" d=")', r"\1M0 0L300 0", s),
        "the QR code is not the one the issuer's renderer draws",
        id="qr-path-with-other-commands",
    ),
    pytest.param(
        lambda s: s.replace('xml:lang="ja"', 'xml:lang="fr"'),
        "<svg> has xml:lang='fr', the issuer's renderer draws ja or en",
        id="unknown-language",
    ),
    pytest.param(
        lambda s: s.replace(' lang="ja" xml:lang="ja"', ' lang="en" xml:lang="ja"'),
        "<svg> has lang='en', the issuer's renderer draws lang='ja'",
        id="two-languages",
    ),
]


@pytest.mark.parametrize(("edit", "reason"), MORE)
def test_other_edits_that_change_what_a_browser_shows_are_invalid(
    world: Any, svg: str, edit: Any, reason: str
) -> None:
    edited = edit(svg)
    assert edited != svg
    assert_refused(world, edited, reason)


def test_a_qr_code_a_scanner_cannot_read_is_invalid(world: Any, svg: str) -> None:
    """The top rows (two finder patterns) rubbed out: whole modules inside the box, but no QR code any more."""
    d = re.search(r'crispEdges" d="([^"]*)"', svg)
    assert d is not None
    runs = re.findall(r"M\d+ \d+h\d+v1h-\d+z", d[1])
    damaged = svg.replace(d[1], "".join(runs[40:]))
    assert_refused(
        world, damaged, f"the QR code opens nothing a scanner can read, not the badge's link {PAGE!r}"
    )


def test_a_module_flipped_that_error_correction_absorbs_still_opens_the_page(world: Any, svg: str) -> None:
    """The QR code is judged by what a scanner reads (error correction M restores a module), not by its bytes."""
    flipped = re.sub(r'(crispEdges" d=")', r"\g<1>M13 12h1v1h-1z", svg)
    row_12 = [(int(x), int(w)) for x, w in re.findall(r"M(\d+) 12h(\d+)v", svg)]
    assert not any(x <= 13 < x + w for x, w in row_12)  # module (13, 12) was light: the run makes it dark
    assert flipped != svg
    result = verified(world, flipped)
    assert check(result).outcome is Outcome.PASSED, check(result).detail


def test_whitespace_and_comments_change_nothing_a_browser_shows(world: Any, svg: str) -> None:
    reformatted = svg.replace("><", ">\n  <").replace("</svg>\n", "<!-- a comment --></svg>\n")
    assert check(verified(world, reformatted)).outcome is Outcome.PASSED


def test_a_credential_whose_id_is_not_a_web_page_cannot_have_a_valid_badge_link(world: Any) -> None:
    credential = world.credential(id="urn:uuid:58172aac-d8ba-11ed-83dd-0b3aef56cc33")
    token = world.token(credential)
    badge = extract_badge(issuer.render_badge_svg(token, page_url=PAGE).encode())
    result = compare_badge_text(badge, credential)
    assert result.outcome is Outcome.FAILED
    assert (
        "the credential's id 'urn:uuid:58172aac-d8ba-11ed-83dd-0b3aef56cc33' is not an https URL"
        in result.detail
    )


def test_a_signed_date_before_year_one_in_utc_is_a_result_not_a_crash(world: Any) -> None:
    credential = world.credential(validUntil="0001-01-01T00:00:00+09:00")
    badge = extract_badge(issuer.render_badge_svg(world.valid_token, page_url=PAGE).encode())
    assert compare_badge_text(badge, credential).outcome is Outcome.FAILED  # the drawn text does not match


# -- legitimate badges ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("lang", ["ja", "en"])
@pytest.mark.parametrize("status", [None, "valid", "suspended", "revoked", "expired"])
def test_every_badge_the_renderer_draws_verifies(world: Any, lang: str, status: str | None) -> None:
    drawn = issuer.render_badge_svg(world.valid_token, page_url=PAGE, status=status, lang=lang)
    result = verified(world, drawn)
    assert result.verdict is Verdict.VALID, result.render_text()
    assert check(result).outcome is Outcome.PASSED
    assert check(result).detail.startswith(
        "the badge's visible text matches the signed credential, it is drawn exactly as the issuer draws it, "
        f"and its link and QR code open the credential's page {PAGE}"
    )


def test_long_and_hostile_names_squeezed_by_the_renderer_verify(world: Any) -> None:
    names = {"ja": "株式会社" + "とても長い名前の人工知能研究開発" * 5, "en": '<b>"A & B"</b> ' * 20}
    credential = world.credential(
        credentialSubject={**world.credential()["credentialSubject"], "legalName": names}
    )
    drawn = issuer.render_badge_svg(world.token(credential), page_url=PAGE, lang="en")
    assert 'textLength="262"' in drawn
    assert compare_badge_text(extract_badge(drawn.encode()), credential).outcome is Outcome.PASSED


def test_png_badges_are_unaffected(world: Any) -> None:
    result = verified(world, issuer.render_badge_png(world.valid_token, page_url=PAGE, scale=1))
    assert result.verdict is Verdict.VALID
    assert check(result).outcome is Outcome.SKIPPED


def test_badge_svg_is_the_renderers_picture(world: Any) -> None:
    """The verifier's template and the issuer's renderer are one: the renderer adds only the QR code."""
    from issuer._badge import _qr_path

    credential = world.credential()
    for lang, status in (("ja", None), ("en", "revoked")):
        text = badge_text(credential, lang=lang, status=status)
        assert badge_svg(
            world.valid_token, text, page_url=PAGE, qr=_qr_path(PAGE), status=status, lang=lang
        ) == issuer.render_badge_svg(world.valid_token, page_url=PAGE, status=status, lang=lang)


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("https://registry.example/c", None),
        ("http://127.0.0.1:8000/c", None),
        ("http://localhost/c", None),
        ("http://[::1]/c", None),
        ("http://registry.example/c", "plain http is allowed only to a loopback host"),
        ("javascript:alert(1)", "not a javascript: URL"),
        ("vbscript:x", "not a vbscript: URL"),
        ("", "not a relative one"),
        ("https://a@registry.example/c", "user information"),
        ("https://registry.example/c\n", "without spaces"),
    ],
)
def test_page_url_problem(url: str, problem: str | None) -> None:
    found = page_url_problem(url)
    assert found is None if problem is None else problem in (found or "")


# -- without the badges extra -------------------------------------------------------------------------------------
WITHOUT_ZXING = """
import json, sys
sys.modules["zxingcpp"] = None  # as if not installed
from keys import b64url_decode
import verifier
badge = verifier.extract_badge(sys.stdin.buffer.read())
result = verifier.compare_badge_text(badge, json.loads(b64url_decode(badge.token.split(".")[1])))
print(result.outcome.value)
print(result.problem)
print(result.detail)
"""
UNREAD = "its QR code could not be read here: install aigov[badges] (zxing-cpp) to check where it leads"


@pytest.fixture
def light(monkeypatch: pytest.MonkeyPatch) -> None:
    """The light install, in this process: `import zxingcpp` raises ImportError, as without the badges extra."""
    monkeypatch.setitem(sys.modules, "zxingcpp", None)


def test_without_the_badges_extra_the_qr_code_is_said_to_be_unread(svg: str) -> None:
    """In a fresh interpreter where zxing-cpp cannot be imported (not merely patched after the fact)."""
    done = subprocess.run(  # noqa: S603 - our own interpreter and script
        [sys.executable, "-c", WITHOUT_ZXING],
        input=svg.encode(),
        capture_output=True,
        check=False,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr.decode()
    outcome, problem, detail = done.stdout.decode().splitlines()
    assert (outcome, problem) == ("indeterminate", problems.QR_CODE_NOT_READ)
    assert UNREAD in detail


def test_the_light_verifier_leaves_a_genuine_badge_indeterminate(world: Any, svg: str, light: None) -> None:
    """Everything but the QR code checks out, and the verdict says that the rest could not be decided."""
    result = verified(world, svg)
    badge = check(result)
    assert (badge.outcome, badge.problem) == (Outcome.INDETERMINATE, problems.QR_CODE_NOT_READ)
    assert f"its link opens the credential's page {PAGE}, but {UNREAD}" in badge.detail
    assert result.verdict is Verdict.INDETERMINATE, result.render_text()
    assert result.summary == f"cannot tell whether this badge is genuine: {badge.detail}"
    assert [c.name for c in result.problems] == ["badge"]  # the credential itself is fine


def test_the_light_verifier_never_accepts_a_qr_code_that_opens_a_phishing_page(
    world: Any, svg: str, light: None
) -> None:
    """The reviewer's attack: the link is the credential's id, the QR code opens evil.example. Valid before."""
    qr = re.compile(r"<path transform=[^>]*crispEdges[^>]*/>")
    [evil_qr] = qr.findall(issuer.render_badge_svg(world.valid_token, page_url=EVIL))
    swapped = qr.sub(evil_qr, svg)
    assert swapped != svg
    result = verified(world, swapped)
    assert result.verdict is Verdict.INDETERMINATE, result.render_text()
    assert check(result).outcome is Outcome.INDETERMINATE
    assert UNREAD in check(result).detail
    # With zxing-cpp (the test above this section's fixture) the same badge is invalid: see
    # test_a_qr_code_that_opens_another_page_than_the_link_is_invalid.


def test_the_light_verifier_still_refuses_what_it_can_read(world: Any, svg: str, light: None) -> None:
    """A phishing link or an edited name is found without reading the QR code: invalid, not indeterminate."""
    assert_refused(world, issuer.render_badge_svg(world.valid_token, page_url=EVIL), "the link goes to")
    assert_refused(world, svg.replace("ACME Corp.", "EVIL Corp."), "company-en reads 'EVIL Corp.'")


def test_the_light_verifier_keeps_an_invalid_credential_invalid(world: Any, light: None) -> None:
    expired = world.token(world.credential(validUntil="2020-01-01T00:00:00Z"))
    result = verified(world, issuer.render_badge_svg(expired, page_url=PAGE))
    assert result.verdict is Verdict.INVALID
    assert check(result).outcome is Outcome.INDETERMINATE


def test_the_light_verifier_leaves_png_badges_unaffected(world: Any, light: None) -> None:
    png = issuer.render_badge_png(world.valid_token, page_url=PAGE, scale=1)
    result = verified(world, png)
    assert result.verdict is Verdict.VALID, result.render_text()
    assert check(result).outcome is Outcome.SKIPPED
    assert check(result).detail.startswith("not applicable")


# -- Unicode whitespace ------------------------------------------------------------------------------------------------
# Only XML whitespace (space, tab, CR, LF) draws nothing between elements and is collapsed in text; these are drawn
# (U+1680 OGHAM SPACE MARK as a dash), or move text (U+2028, U+0085 break lines), or widen it (U+3000).
DRAWN_SPACES = ["\u1680", "\u3000", "\u2028", "\u0085", "\u00a0", "\u2003", "\u200b", "\ufeff"]


@pytest.mark.parametrize("char", DRAWN_SPACES, ids=[f"U+{ord(c):04X}" for c in DRAWN_SPACES])
def test_unicode_spaces_between_elements_are_drawn_text(world: Any, svg: str, char: str) -> None:
    edited = svg.replace(COMPANY_EN, COMPANY_EN + char)
    assert_refused(world, edited, f"text {char!r} where the issuer's renderer draws")


@pytest.mark.parametrize("char", DRAWN_SPACES, ids=[f"U+{ord(c):04X}" for c in DRAWN_SPACES])
@pytest.mark.parametrize(
    "where",
    [
        lambda c: "ACME Corp.".replace(" ", c),  # instead of the space
        lambda c: "ACME" + c + " Corp.",  # beside it
        lambda c: c + "ACME Corp.",  # leading
        lambda c: "ACME Corp." + c,  # trailing
    ],
    ids=["instead", "beside", "leading", "trailing"],
)
def test_unicode_spaces_inside_a_field_are_part_of_its_text(
    world: Any, svg: str, char: str, where: Any
) -> None:
    edited = svg.replace(">ACME Corp.</text>", f">{where(char)}</text>")
    assert edited != svg
    assert_refused(world, edited, f"company-en reads {where(char)!r}, the credential says 'ACME Corp.'")


def test_xml_whitespace_between_elements_still_changes_nothing(world: Any, svg: str) -> None:
    edited = svg.replace("><", ">\r\n\t <")
    assert check(verified(world, edited)).outcome is Outcome.PASSED


def test_a_credential_with_unicode_spaces_is_drawn_and_verified_as_signed(world: Any) -> None:
    """A full-width space in a Japanese name (common) is the credential's own text: drawn, and it verifies;
    XML whitespace in a credential string is collapsed by the renderer and the check alike."""
    names = {"ja": "\u3000アクメ\u3000株式会社\u1680", "en": " ACME\n\tCorp. "}
    credential = world.credential(
        credentialSubject={**world.credential()["credentialSubject"], "legalName": names}
    )
    assert badge_text(credential)["company-ja"] == names["ja"]
    assert badge_text(credential)["company-en"] == "ACME Corp."
    token = world.token(credential)
    drawn = issuer.render_badge_svg(token, page_url=PAGE)
    result = verify_badge(drawn.encode(), world.default_trust, now=world.now)
    assert result.verdict is Verdict.VALID, result.render_text()
    # What renderers before 2026-11-26 drew (every Unicode space a plain one) is the earlier drawing: it passes
    # (test_a_badge_drawn_before_unicode_spaces_were_kept_still_passes); anything else is an edit.
    edited = drawn.replace("\u3000アクメ\u3000株式会社\u1680", "アクメ株式会社")
    assert edited != drawn
    refused = compare_badge_text(extract_badge(edited.encode()), credential)
    assert refused.outcome is Outcome.FAILED, refused.detail
    assert "company-ja reads 'アクメ株式会社'" in refused.detail


# -- properties ---------------------------------------------------------------------------------------------------
ATTRIBUTE = re.compile(r' ([\w:-]+)="([^"]*)"')


@settings(max_examples=150, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_any_attribute_set_to_another_value_fails_the_check(
    world: Any, svg: str, data: st.DataObject
) -> None:
    """Every attribute the renderer writes is checked: none can be changed and still pass."""
    found = [
        m
        for m in ATTRIBUTE.finditer(svg, svg.index("<svg "))  # not the XML declaration's version and encoding
        if m[1] not in ("xmlns", "xmlns:openbadges", "verify")
    ]
    match = data.draw(st.sampled_from(found))
    value = data.draw(st.text(alphabet="abcdefxyz0123456789 #.-:/", min_size=0, max_size=12))
    assume(value != match[2])
    edited = svg[: match.start(2)] + value + svg[match.end(2) :]
    result = compare_badge_text(extract_badge(edited.encode()), world.credential())
    assert result.outcome is Outcome.FAILED, (match[1], value)


@settings(max_examples=100, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_any_element_inserted_anywhere_fails_the_check(world: Any, svg: str, data: st.DataObject) -> None:
    """Even an element the renderer draws elsewhere (a rect, a text without a field) is refused where it is not."""
    gaps = [m.end() for m in re.finditer(r">(?=<)", svg)][1:]  # after the root's start tag
    at = data.draw(st.sampled_from(gaps))
    element = data.draw(
        st.sampled_from(
            ['<rect x="0" y="0" width="1" height="1"/>', "<g/>", '<circle r="1"/>', "<desc>x</desc>"]
        )
    )
    edited = svg[:at] + element + svg[at:]
    result = compare_badge_text(extract_badge(edited.encode()), world.credential())
    assert result.outcome is Outcome.FAILED, (at, element)


LEGACY = Path(__file__).parents[1] / "assets" / "badges" / "drawn-before-2026-11-26-unicode-spaces.svg"


def test_a_badge_drawn_before_unicode_spaces_were_kept_still_passes() -> None:
    """Renderers before 2026-11-26 drew every Unicode space as a plain one: a genuine badge of that time, for
    a name with U+3000 and a no-break space, still passes; its picture edited the new way does not."""
    data = LEGACY.read_bytes()
    badge = extract_badge(data)
    credential = parse_compact(badge.token).payload
    assert credential["credentialSubject"]["legalName"] == {
        "ja": "アクメ\u3000株式会社",
        "en": "ACME\u00a0Corp.",
    }
    assert badge.text is not None
    assert badge.text["company-ja"] == "アクメ 株式会社"  # as it was drawn then

    passed = compare_badge_text(badge, credential)

    assert passed.outcome is Outcome.PASSED, passed.detail
    for edit in ("アクメ\u1680株式会社", "アクメ\u3000株式会社"):  # neither the old drawing nor the new one
        edited = extract_badge(data.decode().replace("アクメ 株式会社", edit, 1).encode())
        refused = compare_badge_text(edited, credential)
        assert refused.outcome is Outcome.FAILED, (edit, refused.detail)
