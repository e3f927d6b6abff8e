"""`make bench`: run every benchmark and write benchmarks/RESULTS.md (machine, versions, date, ratios).

Suites are found, not listed: every module `benchmarks/bench_*.py` that defines

    run() -> list[Ratio] | list[str]
                                Ratio rows (benchmarks._measure) become a table; strings are markdown lines
                                written as they are (the registry suite's own tables)
    TITLE: str                  optional: the section's heading in RESULTS.md (default: the module's name)

is run, with no arguments, in the order of its optional `ORDER: int` (default 50; the registry, the longest,
is 90), then its name. A suite may also define `NOTES: list[str]`, filled by `run()` with what it could not measure.
`python -m benchmarks credentials cli` runs only the suites whose module name (without `bench_`) is given,
and prints their report without rewriting RESULTS.md.
"""

from __future__ import annotations

import importlib
import os
import pkgutil
import platform
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from types import ModuleType

import benchmarks
from benchmarks._measure import Ratio
from benchmarks._node import node_version, package_version

PYTHON_PACKAGES = ("cryptography", "pydantic", "pydantic-core", "pyjwt", "joserfc", "fastapi", "uvicorn")
NODE_PACKAGES = ("jose", "@digitalbazaar/vc-bitstring-status-list")


@dataclass(frozen=True)
class Suite:
    name: str
    title: str
    order: int
    run: Callable[[], Sequence[Ratio | str]]
    module: ModuleType


def discover() -> list[Suite]:
    """Every `benchmarks/bench_*.py` module with a `TITLE` and a `run`, in their order."""
    suites = []
    for info in pkgutil.iter_modules(benchmarks.__path__):
        if not info.name.startswith("bench_"):
            continue
        module = importlib.import_module(f"benchmarks.{info.name}")
        name, run = info.name.removeprefix("bench_"), getattr(module, "run", None)
        if callable(run):
            title = str(getattr(module, "TITLE", name.replace("_", " ")))
            suites.append(Suite(name, title, int(getattr(module, "ORDER", 50)), run, module))
    return sorted(suites, key=lambda s: (s.order, s.name))


def _versions() -> str:
    python = ", ".join(f"{n} {metadata.version(n)}" for n in PYTHON_PACKAGES)
    node = ", ".join(f"{n} {package_version(n)}" for n in NODE_PACKAGES)
    return f"{python}; Node.js {node_version()}: {node}"


def _cpu() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "?"


def _row(r: Ratio) -> str:
    target = "" if r.target is None else f"≤ {r.target:.1f}x {'✔' if r.ok else '✘'}"
    return (
        f"| {r.name} | {r.reference} | {r.subject_us:,.1f} | {r.reference_us:,.1f} "
        f"| **{r.ratio:.2f}x** | {r.low:.2f}-{r.high:.2f} | {target} |"
    )


def _load() -> str:
    """The 1-minute load average: on a shared 2-core machine, how much else was running."""
    return f"{os.getloadavg()[0]:.1f}" if hasattr(os, "getloadavg") else "?"


def section(suite: Suite, results: Sequence[Ratio | str], seconds: float, load: str = "?") -> list[str]:
    where = f"`bench_{suite.name}`, {seconds:.0f} s, load average {load}"
    lines = ["", f"## {suite.title}", "", f"<sub>{where}</sub>", ""]
    ratios = [r for r in results if isinstance(r, Ratio)]
    if ratios:
        lines += [
            "| measured | reference | µs | reference µs | ratio | range | target |",
            "|---|---|---:|---:|---:|---|---|",
            *(_row(r) for r in ratios),
        ]
    lines += [r for r in results if isinstance(r, str)]
    notes = getattr(suite.module, "NOTES", [])
    lines += [f"\n- {note}" for note in notes]
    return lines


def main(argv: Sequence[str] | None = None) -> int:
    selected = list(sys.argv[1:] if argv is None else argv)
    suites = discover()
    unknown = set(selected) - {s.name for s in suites}
    if unknown:
        print(f"unknown suites {sorted(unknown)}; known: {[s.name for s in suites]}", file=sys.stderr)
        return 2
    if selected:
        suites = [s for s in suites if s.name in selected]
    started = time.perf_counter()
    lines = [
        "# Benchmark results",
        "",
        f"- date: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC",
        f"- machine: {_cpu()}, {os.cpu_count()} cores, {platform.platform()}",
        f"- Python {platform.python_version()}; {_versions()}",
        "",
        "Ratios are medians over rounds that pair the subject with each reference in alternating slices; the range is",
        "the lowest and highest round. Absolute µs drift with the machine's load; the ratios are what to compare.",
    ]
    for suite in suites:
        print(f"running {suite.title} ...", file=sys.stderr)
        begun, load = time.perf_counter(), _load()
        results = suite.run()
        lines += section(suite, results, time.perf_counter() - begun, f"{load} → {_load()}")
    lines += ["", f"The whole run took {time.perf_counter() - started:.0f} s."]
    if not selected:
        Path(__file__).with_name("RESULTS.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
