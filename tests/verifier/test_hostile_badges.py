"""Replay tests/assets/hostile/badges/badges.json: every hostile badge gives its BadgeError, or extracts and then
fails the badge check with its reason (scripts, styles, images, handlers, links: see `check` entries), fast.

The stored files are small; the entries under `generated` (over a cap) are built here by the named generator.
Each extraction must finish within `LIMIT` seconds: a parser that expands entities, fetches, or inflates would
not. The manifest is also checked against the directory, so a file cannot be added without a verdict.
"""

from __future__ import annotations

import json
import struct
import time
import zlib
from pathlib import Path
from typing import Any

import pytest

from keys import b64url_decode
from verifier import Badge, BadgeError, compare_badge_text, extract_badge

HERE = Path(__file__).resolve().parents[1] / "assets" / "hostile" / "badges"
MANIFEST: dict[str, Any] = json.loads((HERE / "badges.json").read_text("utf-8"))
LIMIT = 1.0  # seconds per badge; each takes milliseconds
SVG_OPEN = b'<svg xmlns="http://www.w3.org/2000/svg" xmlns:openbadges="https://purl.imsglobal.org/ob/v3p0">'
CREDENTIAL = b'<openbadges:credential verify="a.b.c"/>'


def _chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def generate(name: str, size: int) -> bytes:
    """The bytes of a `generated` entry: over a cap by one, otherwise a well-formed badge."""
    ihdr = _chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 0, 0, 0, 0))
    png = b"\x89PNG\r\n\x1a\n"
    if name == "svg-padding":
        head = SVG_OPEN + CREDENTIAL
        return head + b" " * (size - len(head) - 6) + b"</svg>"
    if name == "svg-elements":
        return SVG_OPEN + CREDENTIAL + b"<g/>" * size + b"</svg>"
    if name == "svg-attribute":
        return SVG_OPEN + CREDENTIAL + b'<g id="' + b"x" * size + b'"/></svg>'
    if name == "svg-verify":
        return SVG_OPEN + b'<openbadges:credential verify="' + b"x" * size + b'"/></svg>'
    if name == "png-chunks":
        return png + ihdr + _chunk(b"tEXt", b"k\0v") * size + _chunk(b"IEND", b"")
    if name == "png-itxt":
        itxt = b"openbadgecredential\0\0\0\0\0" + b"x" * size
        return png + ihdr + _chunk(b"iTXt", itxt) + _chunk(b"IEND", b"")
    raise AssertionError(f"unknown generator {name!r}")


def timed(data: bytes) -> tuple[Badge | BadgeError, float]:
    start = time.perf_counter()
    try:
        outcome: Badge | BadgeError = extract_badge(data, filename="hostile")
    except BadgeError as e:
        outcome = e
    return outcome, time.perf_counter() - start


def assert_expected(entry: dict[str, Any], data: bytes) -> None:
    outcome, elapsed = timed(data)
    assert elapsed < LIMIT, f"{elapsed:.2f} s"
    if "badge" in entry:
        assert isinstance(outcome, Badge), outcome
        assert (outcome.kind, outcome.token) == (entry["badge"]["kind"], entry["badge"]["token"])
        if "check" in entry:  # extracted, but not the picture the issuer draws: the badge check fails
            payload = json.loads(b64url_decode(outcome.token.split(".")[1]))
            result = compare_badge_text(outcome, payload)
            assert (result.outcome.value, result.problem) == (
                entry["check"]["outcome"],
                entry["check"]["problem"],
            )
            assert entry["check"]["detailContains"] in result.detail, result.detail
    else:
        assert isinstance(outcome, BadgeError), f"accepted: {outcome!r}"
        assert outcome.problem == entry["error"]["problem"], str(outcome)
        assert entry["error"]["messageContains"] in str(outcome)
        assert str(outcome).startswith("hostile: ")  # the filename leads the message


@pytest.mark.parametrize("entry", MANIFEST["vectors"], ids=[e["file"] for e in MANIFEST["vectors"]])
def test_stored_badge(entry: dict[str, Any]) -> None:
    data = (HERE / entry["file"]).read_bytes()
    assert len(data) < 64 * 1024
    assert_expected(entry, data)


@pytest.mark.parametrize("entry", MANIFEST["generated"], ids=[e["name"] for e in MANIFEST["generated"]])
def test_generated_badge(entry: dict[str, Any]) -> None:
    assert_expected(entry, generate(entry["generator"], entry["size"]))


def test_every_file_has_a_verdict_and_every_verdict_a_file() -> None:
    listed = {e["file"] for e in MANIFEST["vectors"]}
    stored = {p.name for p in HERE.iterdir() if p.suffix in (".svg", ".png")}
    assert listed == stored
    assert any("badge" in e for e in MANIFEST["vectors"]), "a control that must extract"
    assert any("check" in e for e in MANIFEST["vectors"]), "badges that extract and fail the badge check"
