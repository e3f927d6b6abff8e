"""Badges: drawing a certificate's SVG and PNG badge, and reading the credential back out of them.

Targets (issue 5) are absolute: an SVG within 2 ms, a PNG within 50 ms. Each is also put next to the raw
Ed25519 signature measured in the same run (the unit every other suite counts in), so that a slower machine
shows up as a slower reference rather than as a regression. "Warm" is the registry's live badge: the QR code
of a page URL it has drawn before comes from a cache. "Cold" draws a QR code for a URL never seen before.
"""

from __future__ import annotations

import itertools
import json
import statistics
import time
from collections.abc import Callable
from datetime import UTC, datetime
from importlib import resources

from cryptography.hazmat.primitives.asymmetric import ed25519

from benchmarks._measure import Ratio, compare_many, timer
from issuer import (
    Issuer,
    IssuerIdentity,
    StatusSlot,
    load_scheme,
    parse_decision,
    render_badge_png,
    render_badge_svg,
)
from keys import PublishedKey, SigningKey
from verifier import extract_badge

TITLE = "badges"
ORDER = 30
NOTES: list[str] = []
PAGE = "https://registry.example/credentials/0f7c1c8e-3d5a-4a39-9d7e-0c1d2e3f4a5b"
SVG_TARGET_MS, PNG_TARGET_MS = 2.0, 50.0


def _token() -> str:
    key = SigningKey.generate("EdDSA")
    desk = Issuer(
        identity=IssuerIdentity("did:web:cb.example", "Example Certification Body", "例示認証機関"),
        signing_key=key,
        published_keys=[PublishedKey(key.public_key)],
        scheme=load_scheme(),
        registry_url="https://registry.example",
        clock=lambda: datetime(2026, 11, 1, tzinfo=UTC),
    )
    decision = json.loads(resources.files("issuer").joinpath("data/sample-decision.json").read_text("utf-8"))
    issued = desk.issue(
        parse_decision(decision),
        revocation=StatusSlot("https://registry.example/status/1", 48213),
        suspension=StatusSlot("https://registry.example/status/2", 1234),
    )
    return str(issued.token)


def _median_ms(fn: Callable[[], object], number: int, rounds: int = 7) -> tuple[float, float]:
    """Median over `rounds` of the wall-clock and of the CPU time (this process) per call, in ms.

    CPU time is reported beside wall-clock because on a shared machine the latter mostly measures the others.
    """
    wall, cpu = [], []
    for _ in range(rounds):
        start, start_cpu = time.perf_counter(), time.process_time()
        for _ in range(number):
            fn()
        wall.append((time.perf_counter() - start) / number * 1000)
        cpu.append((time.process_time() - start_cpu) / number * 1000)
    return statistics.median(wall), statistics.median(cpu)


def run() -> list[Ratio | str]:
    token = _token()
    key = ed25519.Ed25519PrivateKey.generate()  # the yardstick: `cryptography`'s raw sign, as in every suite
    message = token.rsplit(".", 1)[0].encode()
    sign = timer(lambda: key.sign(message))
    fresh = (f"{PAGE}?n={n}" for n in itertools.count())
    svg = render_badge_svg(token, page_url=PAGE).encode()
    png = render_badge_png(token, page_url=PAGE)
    rows: list[Ratio | str] = []
    rows += compare_many(
        "render_badge_svg, warm (live badge)",
        timer(lambda: render_badge_svg(token, page_url=PAGE, status="valid")),
        {"raw Ed25519 sign": sign},
        number=200,
        rounds=7,
    )
    rows += compare_many(
        "render_badge_svg, cold (new QR code)",
        timer(lambda: render_badge_svg(token, page_url=next(fresh))),
        {"raw Ed25519 sign": sign},
        number=20,
        rounds=5,
    )
    rows += compare_many(
        "render_badge_png, warm",
        timer(lambda: render_badge_png(token, page_url=PAGE, status="valid")),
        {"raw Ed25519 sign": sign},
        number=5,
        rounds=5,
    )
    rows += compare_many(
        "extract_badge (SVG)",
        timer(lambda: extract_badge(svg)),
        {"raw Ed25519 sign": sign},
        number=200,
        rounds=5,
    )
    rows += compare_many(
        "extract_badge (PNG)",
        timer(lambda: extract_badge(png)),
        {"raw Ed25519 sign": sign},
        number=200,
        rounds=5,
    )
    svg_ms, svg_cpu = _median_ms(lambda: render_badge_svg(token, page_url=PAGE, status="valid"), 200)
    cold_ms, cold_cpu = _median_ms(lambda: render_badge_svg(token, page_url=next(fresh)), 20, rounds=5)
    png_ms, png_cpu = _median_ms(
        lambda: render_badge_png(token, page_url=PAGE, status="revoked"), 5, rounds=5
    )
    small_ms, small_cpu = _median_ms(
        lambda: render_badge_png(token, page_url=PAGE, status="revoked", scale=1), 5, 5
    )
    sign_ms, sign_cpu = _median_ms(lambda: key.sign(message), 2000)
    rows += [
        "",
        f"Absolute times (median of rounds; raw Ed25519 sign in the same run: {sign_ms * 1000:.0f} µs wall, "
        f"{sign_cpu * 1000:.0f} µs CPU):",
        "",
        "| badge | wall-clock | CPU | target |",
        "|---|---:|---:|---:|",
        f"| SVG, warm (live badge) | {svg_ms:.3f} ms | {svg_cpu:.3f} ms | {SVG_TARGET_MS:g} ms {_mark(svg_ms, SVG_TARGET_MS)} |",
        f"| SVG, cold (QR computed) | {cold_ms:.3f} ms | {cold_cpu:.3f} ms | {SVG_TARGET_MS:g} ms {_mark(cold_ms, SVG_TARGET_MS)} |",
        f"| PNG (revoked: veil and stamp; 1520 x 672) | {png_ms:.1f} ms | {png_cpu:.1f} ms | {PNG_TARGET_MS:g} ms {_mark(png_ms, PNG_TARGET_MS)} |",
        f"| PNG at scale 1 (760 x 336) | {small_ms:.1f} ms | {small_cpu:.1f} ms | |",
        f"| sizes | SVG {len(svg):,} B | PNG {len(png):,} B | |",
    ]
    return rows


def _mark(value: float, target: float) -> str:
    return "✔" if value <= target else "✘"


if __name__ == "__main__":
    for row in run():
        print(row)
