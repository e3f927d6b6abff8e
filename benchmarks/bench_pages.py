"""The public web pages under load: the certificate page, the live badge and the search page (issue #5).

`python -m benchmarks.bench_pages [--credentials N] [--seconds S] [--workdir DIR]` (also run by `make bench`).
It reuses the registry suite's machinery (benchmarks/bench_registry.py): a registry set up with the real
commands, `aigov serve` in a subprocess with its defaults, credentials issued in-process through
`registry.lifecycle.issue_batch`, and wrk (1 thread, 32 connections, `--latency`, median of 3 rounds) with a
Lua script that picks a random id among 2,000 for each request. Target (issue #5): the certificate page at
≥ 500 req/s with p99 < 100 ms on SQLite with 100,000 certificates.
"""

from __future__ import annotations

import argparse
import contextlib
import random
import shutil
import sqlite3
import sys
import tempfile
import uuid
from collections.abc import Sequence
from pathlib import Path

from benchmarks.bench_registry import (
    Deployment,
    Load,
    Options,
    _median_load,
    bench_lookup,
    bench_page,
    ensure_tools,
    free_port,
    prepare,
    registry_server,
    shared_sqlite,
    warm_up,
    wrk,
)

TITLE = "web pages"
ORDER = 91
NOTES: list[str] = []
PAGE_RPS_TARGET = 500.0
PAGE_P99_TARGET_MS = 100.0


def _random_path_script(root: Path, name: str, ids: list[str], template: str) -> Path:
    """A wrk script requesting `template` (with `{id}`) for a random id among 2,000, as a browser would."""
    sample = random.Random(17).sample(ids, min(len(ids), 2000))  # noqa: S311 - benchmark data
    before, after = template.split("{id}")
    script = root / f"{name}.lua"
    script.write_text(
        "local ids = {" + ",".join(f'"{i}"' for i in sample) + "}\n"
        "math.randomseed(47)\n"
        'local headers = {["Accept"] = "text/html"}\n'
        "request = function()\n"
        f'  return wrk.format("GET", "{before}" .. ids[math.random(#ids)] .. "{after}", headers)\n'
        "end\n",
        encoding="utf-8",
    )
    return script


def _query_script(root: Path, name: str, query: str, variants: int) -> Path:
    """A wrk script searching `query` in English, `{n}` replaced by a random number in 1..`variants`."""
    before, _, after = query.replace(" ", "%20").partition("{n}")
    number = f' .. math.random(1, {variants}) .. "{after}"' if "{n}" in query else ""
    script = root / f"{name}.lua"
    script.write_text(
        "math.randomseed(59)\n"
        "request = function()\n"
        f'  return wrk.format("GET", "/?lang=en&q={before}"{number})\n'
        "end\n",
        encoding="utf-8",
    )
    return script


def _existing_ids(root: Path) -> list[str]:
    """The credential ids of a registry populated by an earlier run in `--workdir` (none: populate)."""
    database = root / "aigov.db"
    if not database.exists():
        return []
    with contextlib.closing(sqlite3.connect(database)) as connection:
        return [str(uuid.UUID(hex=row[0])) for row in connection.execute("SELECT id FROM credentials")]


def _load(deployment: Deployment, opts: Options, script: Path) -> Load:
    warm_up(deployment.url + "/", opts, script=script)
    return _median_load([wrk(deployment.url + "/", opts, script=script) for _ in range(opts.rounds)])


def _row(name: str, load: Load, target: str = "") -> str:
    return f"| {name} | {load.rps:,.0f} | {load.p50_ms:.1f} | {load.p99_ms:.1f} | {load.errors} | {target} |"


def run(opts: Options | None = None) -> list[str]:
    """Populate a registry, serve it, and load each page; the report as markdown lines."""
    opts = opts or Options(status_bytes=0, rounds=2)  # 2 rounds: the 10-minute budget of `make bench`
    NOTES.extend(ensure_tools())
    shared = shared_sqlite() if opts.workdir is None else None
    if shared is not None:  # the registry suite's 100,000 credentials, served again: no second population
        deployment, population = shared
        root, owned = deployment.root, False
    else:
        root = opts.workdir or Path(tempfile.mkdtemp(prefix="aigov-bench-pages-"))
        root.mkdir(parents=True, exist_ok=True)
        deployment, population, owned = Deployment(root, free_port()), None, opts.workdir is None
    try:
        ids = population.ids if population else _existing_ids(root) or prepare(deployment, opts).ids
        with registry_server(deployment, opts):
            print("pages: GET /api/v1/credentials/{id} (reference) ...", file=sys.stderr)
            lookup = bench_lookup(deployment, ids, opts).ours
            print("pages: GET /credentials/{id} (text/html) ...", file=sys.stderr)
            page = bench_page(deployment, ids, opts).ours
            print("pages: GET /credentials/{id}/badge.svg ...", file=sys.stderr)
            badge = _load(
                deployment,
                opts,
                _random_path_script(root, "badge", ids, "/credentials/{id}/badge.svg"),
            )
            print("pages: GET /?q=... (search) ...", file=sys.stderr)
            search_script = root / "search.lua"
            search_script.write_text(
                "math.randomseed(53)\n"
                "request = function()\n"
                '  return wrk.format("GET", "/?lang=en&q=Company%20" .. math.random(1, 999) .. "%20K")\n'
                "end\n",
                encoding="utf-8",
            )
            search = _load(deployment, opts, search_script)
            print("pages: GET /?q=... (search: a common name, a rare one) ...", file=sys.stderr)
            common = _load(deployment, opts, _query_script(root, "common", "Company", 1))
            rare = _load(deployment, opts, _query_script(root, "rare", "Company {n} K.K.", len(ids)))
    finally:
        if owned:
            shutil.rmtree(root, ignore_errors=True)
    met = page.rps >= PAGE_RPS_TARGET and page.p99_ms < PAGE_P99_TARGET_MS
    return [
        f"SQLite, {len(ids):,} credentials, `aigov serve` defaults, wrk -t{opts.wrk_threads} "
        f"-c{opts.connections}, median of {opts.rounds} rounds of {opts.seconds:.0f} s.",
        "",
        "The API's record lookup is the reference measured in the same run (a machine shared with other work",
        f"moves absolute rates; the ratio moves less): page / lookup = {page.rps / lookup.rps:.2f}x.",
        "",
        "| GET | req/s | p50 ms | p99 ms | errors | target |",
        "|---|---:|---:|---:|---:|---|",
        _row("/api/v1/credentials/{id} (reference: the JSON record, random ids)", lookup),
        _row(
            "/credentials/{id} (Accept: text/html, random ids)",
            page,
            f"≥ {PAGE_RPS_TARGET:.0f} req/s, p99 < {PAGE_P99_TARGET_MS:.0f} ms: {'met' if met else '**not met**'}",
        ),
        _row("/credentials/{id}/badge.svg (live badge, random ids)", badge),
        _row("/?q=… (search page, name substring)", search),
        _row("/?q=Company (search page, a common name: every certificate, 20 a page)", common),
        _row("/?q=Company N K.K. (search page, a rare name: one match, N random, few asked twice)", rare),
    ]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.bench_pages", description=__doc__)
    parser.add_argument("--credentials", type=int, default=100_000, help="credentials (100,000)")
    parser.add_argument("--seconds", type=float, default=5.0, help="seconds per wrk round (5)")
    parser.add_argument("--workdir", type=Path, help="keep the populated registry here")
    args = parser.parse_args(argv)
    opts = Options(credentials=args.credentials, seconds=args.seconds, status_bytes=0, workdir=args.workdir)
    print("\n".join(run(opts)))
    for note in NOTES:
        print(f"note: {note}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
