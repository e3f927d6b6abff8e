"""The benchmark suites import and their measuring and reporting code runs, on tiny inputs, so they do not rot.

No timing is asserted (timing belongs to `make bench`, not to tests); the ratio arithmetic is checked with
timers whose answers are known.
"""

from __future__ import annotations

from benchmarks import bench_credentials, bench_registry, bench_statuslist
from benchmarks.__main__ import discover, section
from benchmarks._measure import Timer, compare, compare_many
from keys import Algorithm

WRK_OUTPUT = """Running 5s test @ http://127.0.0.1:8000/status/1
  1 threads and 32 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     2.41ms    1.10ms  21.52ms   88.20%
    Req/Sec    13.20k     1.10k   14.50k    80.00%
  Latency Distribution
     50%    2.30ms
     75%    2.80ms
     90%    3.40ms
     99%    1.31s\x20
  65714 requests in 5.00s, 1.24GB read
  Non-2xx or 3xx responses: 3
Requests/sec:  13142.80
Transfer/sec:    254.21MB
"""  # \x20: wrk pads a latency in seconds with a trailing space


def test_every_suite_is_discovered_with_a_runner() -> None:
    suites = {suite.name: suite for suite in discover()}
    assert {"credentials", "statuslist", "cli", "registry"} <= suites.keys()
    assert all(callable(suite.run) for suite in suites.values())
    orders = [suite.order for suite in discover()]
    assert orders == sorted(orders)
    assert suites["registry"].order > suites["credentials"].order  # the long one runs last


def test_ratios_are_medians_of_per_round_ratios_with_their_range() -> None:
    # warm-up (3, 1); then three rounds of two alternating slices, the subject leading in even rounds and the
    # reference in odd ones: s2 r2 s2 r2, r2 s1 r2 s1, s4 r1 s4 r1: ratios 1, 0.5 and 4.
    answers = iter([3.0, 1.0, 2.0, 2.0, 2.0, 2.0, 2.0, 1.0, 2.0, 1.0, 4.0, 1.0, 4.0, 1.0])
    calls: list[tuple[str, int]] = []

    def timed(name: str) -> Timer:
        def time_it(number: int) -> float:
            calls.append((name, number))
            return next(answers)

        return time_it

    (ratio,) = compare_many(
        "s", timed("s"), {"r": timed("r")}, number=10, rounds=3, chunks=2, targets={"r": 1.5}
    )
    subject_first, reference_first = (
        [("s", 5), ("r", 5)] * 2,
        [("r", 5), ("s", 5)] * 2,
    )  # number / chunks each
    assert calls == [("s", 1), ("r", 1), *subject_first, *reference_first, *subject_first]
    assert (ratio.low, ratio.ratio, ratio.high) == (0.5, 1.0, 4.0)
    assert (ratio.subject_us, ratio.reference_us) == (2.0, 2.0)
    assert ratio.ok is True


def test_each_round_starts_with_another_reference() -> None:
    calls: list[str] = []

    def timed(name: str) -> Timer:
        def time_it(number: int) -> float:
            calls.append(name)
            return 1.0

        return time_it

    compare_many("s", timed("s"), {"a": timed("a"), "b": timed("b")}, number=2, rounds=2, chunks=1)
    # warm-up, then round 1 pairs the subject with a, then b; round 2 starts with b (and the references lead)
    assert calls == ["s", "a", "b", "s", "a", "s", "b", "b", "s", "a", "s"]


def test_no_reference_no_ratio() -> None:
    assert compare_many("s", lambda number: 1.0, {}) == []


def test_in_process_comparison_and_its_report_row() -> None:
    ratio = compare("sum", lambda: sum(range(50)), "pass", lambda: None, number=5, rounds=2, target=0.5)
    assert ratio.subject_us > 0
    assert ratio.reference_us > 0
    assert ratio.low <= ratio.ratio <= ratio.high
    [suite] = [s for s in discover() if s.name == "credentials"]
    lines = section(suite, [ratio, "a note"], 1.0)
    assert any(line.startswith("| sum | pass |") and "≤ 0.5x" in line for line in lines)
    assert "a note" in lines


def test_verification_against_raw_crypto_and_python_peers_runs() -> None:
    rows = bench_credentials.verification_rows(Algorithm.EDDSA, None, number=2, rounds=1)
    assert [row.reference for row in rows] == [
        "raw Ed25519 verify (cryptography)",
        "raw Ed25519 verify (libsodium, which aigov calls)",
        "pyjwt `jwt.decode`",
        "joserfc `jwt.decode` + claims",
    ]
    assert rows[0].target == 1.5


def test_status_list_decode_against_zlib_runs() -> None:
    (row,) = bench_statuslist.decode_rows(131_072, None, number=1, rounds=1)
    assert row.reference == "zlib.decompress of the same GZIP"


def test_wrk_output_is_parsed_with_its_failures() -> None:
    load = bench_registry.parse_wrk(WRK_OUTPUT)
    assert load.rps == 13142.8
    assert (load.p50_ms, load.p99_ms) == (2.3, 1310.0)
    assert (load.requests, load.errors) == (65714, 3)


def test_a_timer_of_one_slow_call_is_not_cut_into_slices() -> None:
    """A bulk batch or a new process per call: `number=1` times one call of each per round, not one per slice."""
    calls: list[tuple[str, int]] = []

    def timed(name: str) -> Timer:
        def time_it(number: int) -> float:
            calls.append((name, number))
            return 1.0

        return time_it

    compare_many("s", timed("s"), {"r": timed("r")}, number=1, rounds=2)
    assert calls == [("s", 1), ("r", 1), ("s", 1), ("r", 1), ("r", 1), ("s", 1)]


def test_the_self_checks_cost_is_reported_only_when_the_rounds_show_one() -> None:
    slower = bench_registry.SelfCheckCost(checked=2_000, unchecked=4_000)
    assert bench_registry._self_check_cost(slower) == "the self-check costs 250 µs per credential"
    within_spread = bench_registry.SelfCheckCost(checked=4_100, unchecked=4_000)
    assert "no cost measurable" in bench_registry._self_check_cost(within_spread)
