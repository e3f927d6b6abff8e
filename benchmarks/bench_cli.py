"""Issue #6: `aigov verify` end to end (a new process: start-up, imports, reading the files, verification,
the printed explanation) against the start-up floor of any Python verifier, `python -c "import jwt,
cryptography"`, and against a bare `python -c pass`; one process after the other, interleaved round by round.

Run: `python -m benchmarks.bench_cli`.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from benchmarks._measure import Ratio, Timer, compare_many
from benchmarks._setup import NOW, make_setup
from keys import did_web_document

TITLE = "aigov verify, end to end"
ORDER = 30


def _command() -> list[str]:
    """The installed console script, as users run it; `python -m aigov` when it is not installed."""
    script = Path(sys.executable).with_name("aigov")
    return [str(script)] if script.exists() else [sys.executable, "-m", "aigov"]


def process_timer(argv: list[str], *, expect: int = 0) -> Timer:
    """Mean µs of running `argv` to completion `number` times."""

    def time_it(number: int) -> float:
        import time  # noqa: PLC0415 - keeps this module's own imports minimal

        start = time.perf_counter()
        for _ in range(number):
            done = subprocess.run(argv, capture_output=True, timeout=60, check=False)
            if done.returncode != expect:
                raise RuntimeError(f"{argv} exited {done.returncode}: {done.stderr.decode()[-500:]}")
        return (time.perf_counter() - start) / number * 1e6

    return time_it


def run(*, number: int = 2, rounds: int = 7) -> list[Ratio]:
    setup = make_setup()
    root = Path(tempfile.mkdtemp(prefix="aigov-bench-cli-"))
    try:
        (root / "certificate.jwt").write_text(setup.token, encoding="utf-8")
        (root / "trust.json").write_text(json.dumps(did_web_document(setup.did, setup.published)), "utf-8")
        lists = []
        for n, token in enumerate(setup.status_tokens):
            lists += ["--status-list", str(root / f"status-{n}.jwt")]
            (root / f"status-{n}.jwt").write_text(token, encoding="utf-8")
        verify = [
            *_command(),
            "verify",
            str(root / "certificate.jwt"),
            "--trust",
            str(root / "trust.json"),
            *lists,
            "--now",
            NOW.isoformat(),
        ]
        python = [sys.executable, "-c"]
        return compare_many(
            "`aigov verify` of one certificate with 2 status lists (new process)",
            process_timer(verify),
            {
                '`python -c "import jwt, cryptography"`': process_timer(
                    [*python, "import jwt, cryptography"]
                ),
                '`python -c "pass"`': process_timer([*python, "pass"]),
            },
            number=number,
            rounds=rounds,
        )
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    for row in run():
        print(f"{row.ratio:5.2f}x  {row.subject_us / 1e3:8.1f} ms  {row.name} vs {row.reference}")
