"""`make bench`: run every benchmark and write benchmarks/RESULTS.md (machine, versions, date, ratios)."""

from __future__ import annotations

import os
import platform
import sys
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path

from benchmarks import bench_credentials, bench_registry, bench_statuslist
from benchmarks._measure import Ratio

SUITES = {"credentials": bench_credentials.run, "status lists": bench_statuslist.run}


def _versions() -> str:
    names = ("cryptography", "pydantic", "pydantic-core")
    return ", ".join(f"{n} {metadata.version(n)}" for n in names)


def _row(r: Ratio) -> str:
    target = "" if r.target is None else f"≤ {r.target:.1f}x {'✔' if r.ok else '✘'}"
    return (
        f"| {r.name} | {r.reference} | {r.subject_us:,.1f} | {r.reference_us:,.1f} "
        f"| **{r.ratio:.2f}x** | {r.low:.2f}-{r.high:.2f} | {target} |"
    )


def main() -> int:
    lines = [
        "# Benchmark results",
        "",
        f"- date: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC",
        f"- machine: {platform.machine()}, {os.cpu_count()} cores, {platform.platform()}",
        f"- Python {platform.python_version()}; {_versions()}",
        "",
        "Ratios are medians over interleaved rounds (subject, then reference, back to back); the range is the",
        "lowest and highest round. Absolute µs drift with the machine's load; the ratios are what to compare.",
    ]
    for title, run in SUITES.items():
        print(f"running {title} ...", file=sys.stderr)
        rows = run()
        lines += [
            "",
            f"## {title}",
            "",
            "| measured | reference | µs | reference µs | ratio | range | target |",
            "|---|---|---:|---:|---:|---|---|",
            *(_row(r) for r in rows),
        ]
    # The registry against its targets: a real server under load, nginx as the reference (issue #3).
    print("running registry (a server on loopback, wrk, nginx) ...", file=sys.stderr)
    lines += ["", "## registry", "", *bench_registry.run()]
    out = Path(__file__).with_name("RESULTS.md")
    out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
