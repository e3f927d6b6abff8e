"""Properties of badge extraction (hypothesis, bounded, no example database): any bytes, and any mutation of a
real baked SVG or PNG, give a Badge or a BadgeError (never another exception) within bounded time, and a
mutated badge never verifies as valid unless it still carries the genuine, unchanged token.

The badges are drawn by the real renderer (issuer.render_badge_svg/png) from a token signed with real keys.
"""

from __future__ import annotations

import struct
import time
import zlib
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import issuer
from verifier import Badge, BadgeError, Verdict, extract_badge, verify_badge

pytestmark = pytest.mark.badges(font=True)

PAGE = "https://registry.example/credentials/0f7c1c8e-3d5a-4a39-9d7e-0c1d2e3f4a5b"
LIMIT = 0.5  # seconds per extraction (each takes a few milliseconds)
FAST = settings(max_examples=150, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])


@pytest.fixture(scope="module")
def svg(world: Any) -> bytes:
    return issuer.render_badge_svg(world.valid_token, page_url=PAGE).encode("utf-8")


@pytest.fixture(scope="module")
def png(world: Any) -> bytes:
    return issuer.render_badge_png(world.valid_token, page_url=PAGE)


def extract(data: bytes) -> Badge | BadgeError:
    """extract_badge's outcome; any exception but BadgeError, or a slow answer, fails the test."""
    start = time.perf_counter()
    try:
        outcome: Badge | BadgeError = extract_badge(data)
    except BadgeError as e:
        outcome = e
    if isinstance(outcome, BadgeError):
        assert outcome.problem.startswith(("urn:aigov:problem:", "https://www.w3.org/")), outcome.problem
        assert str(outcome)
    assert time.perf_counter() - start < LIMIT
    return outcome


@st.composite
def mutated(draw: st.DrawFn, data: bytes) -> bytes:
    """`data` with 1-4 edits: a byte flipped, bytes inserted or deleted, or the end cut off."""
    out = bytearray(data)
    for _ in range(draw(st.integers(1, 4))):
        edit = draw(st.sampled_from(["flip", "insert", "delete", "truncate"]))
        at = draw(st.integers(0, max(0, len(out) - 1)))
        if edit == "flip" and out:
            out[at] ^= draw(st.integers(1, 255))
        elif edit == "insert":
            out[at:at] = draw(st.binary(min_size=1, max_size=8))
        elif edit == "delete":
            del out[at : at + draw(st.integers(1, 16))]
        else:
            del out[at:]
    return bytes(out)


def check_mutant(world: Any, original: bytes, data: bytes) -> None:
    outcome = extract(data)
    if isinstance(outcome, BadgeError):
        return
    result = verify_badge(data, world.default_trust, now=world.now)
    if outcome.token != world.valid_token:
        assert result.verdict is not Verdict.VALID, result.render_text()
    if result.verdict is Verdict.VALID:
        assert outcome.token == world.valid_token


@FAST
@given(data=st.binary(max_size=2000))
def test_any_bytes(data: bytes) -> None:
    extract(data)


@FAST
@given(
    prefix=st.sampled_from([b"\x89PNG\r\n\x1a\n", b"<", b"\xef\xbb\xbf<?xml", b"<svg ", b"<!DOCTYPE"]),
    data=st.binary(max_size=2000),
)
def test_any_bytes_after_a_magic_prefix(prefix: bytes, data: bytes) -> None:
    extract(prefix + data)


@FAST
@given(text=st.text(max_size=500))
def test_any_text_inside_an_svg_element(text: str) -> None:
    body = f'<svg xmlns="http://www.w3.org/2000/svg">{text}</svg>'.encode("utf-8", "surrogatepass")
    extract(body)


@FAST
@given(data=st.data())
def test_mutated_svg(world: Any, svg: bytes, data: st.DataObject) -> None:
    check_mutant(world, svg, data.draw(mutated(svg)))


@FAST
@given(data=st.data())
def test_mutated_png(world: Any, png: bytes, data: st.DataObject) -> None:
    check_mutant(world, png, data.draw(mutated(png)))


@FAST
@given(data=st.data())
def test_mutated_token_inside_the_badge_never_verifies(
    world: Any, svg: bytes, png: bytes, data: st.DataObject
) -> None:
    """Edits aimed at the baked token itself (hypothesis rarely lands there by chance in a large image)."""
    token = world.valid_token.encode("ascii")
    image = data.draw(st.sampled_from([svg, png]))
    start = image.index(token)
    at = data.draw(st.integers(0, len(token) - 1))
    replacement = data.draw(
        st.sampled_from(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.")
    )
    if replacement == token[at]:
        replacement = ord("A") if token[at] != ord("A") else ord("B")
    forged = image[: start + at] + bytes([replacement]) + image[start + at + 1 :]
    if image is png:  # keep the CRC right, so that the edit reaches the verifier
        forged = _fix_crcs(forged)
    outcome = extract(forged)
    assert isinstance(outcome, Badge), outcome
    assert outcome.token != world.valid_token
    result = verify_badge(forged, world.default_trust, now=world.now)
    assert result.verdict is not Verdict.VALID, result.render_text()


def _fix_crcs(png: bytes) -> bytes:
    out, position = bytearray(png[:8]), 8
    while position < len(png):
        (length,) = struct.unpack(">I", png[position : position + 4])
        kind_body = png[position + 4 : position + 8 + length]
        out += png[position : position + 8 + length] + struct.pack(">I", zlib.crc32(kind_body))
        position += 12 + length
    return bytes(out)


def test_the_originals_verify(world: Any, svg: bytes, png: bytes) -> None:
    """The properties above are only meaningful if the unmutated badges are valid."""
    for image in (svg, png):
        assert verify_badge(image, world.default_trust, now=world.now).verdict is Verdict.VALID
