"""Ratios against a reference measured in the same run, interleaved so that machine noise hits both alike."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

# A timer: given a number of calls, runs them and returns the mean µs per call. Lets a round mix in-process
# callables with timings reported by another process (the Node.js peers), measured at the same moment.
Timer = Callable[[int], float]


@dataclass(frozen=True)
class Ratio:
    name: str
    reference: str
    subject_us: float
    reference_us: float
    ratio: float
    low: float
    high: float
    target: float | None = None

    @property
    def ok(self) -> bool | None:
        return None if self.target is None else self.ratio <= self.target


def per_call_us(fn: Callable[[], object], number: int) -> float:
    start = time.perf_counter()
    for _ in range(number):
        fn()
    return (time.perf_counter() - start) / number * 1e6


def timer(fn: Callable[[], object]) -> Timer:
    """The timer of an in-process callable."""
    return lambda number: per_call_us(fn, number)


def compare_many(
    name: str,
    subject: Timer,
    references: Mapping[str, Timer],
    *,
    number: int = 2000,
    rounds: int = 9,
    targets: Mapping[str, float] | None = None,
) -> list[Ratio]:
    """One ratio per reference: median over `rounds` of subject/reference, where each round times the
    subject and then every reference back to back, so that all of them see the same machine load."""
    targets = targets or {}
    timers = {"": subject, **references}
    for time_it in timers.values():  # warm caches, lazy imports, JIT
        time_it(max(1, number // 10))
    samples: dict[str, list[float]] = {key: [] for key in timers}
    order = list(timers)
    for n in range(rounds):
        # Each round starts with a different timer: whatever one leaves behind (a Node process's background
        # GC and compiler threads, caches filled by another library) must not always land on the same one.
        for key in order[n % len(order) :] + order[: n % len(order)]:
            samples[key].append(timers[key](number))
    out = []
    for ref in references:
        ratios = [s / r for s, r in zip(samples[""], samples[ref], strict=True)]
        out.append(
            Ratio(
                name,
                ref,
                statistics.median(samples[""]),
                statistics.median(samples[ref]),
                statistics.median(ratios),
                min(ratios),
                max(ratios),
                targets.get(ref),
            )
        )
    return out


def compare(
    name: str,
    subject: Callable[[], object],
    reference_name: str,
    reference: Callable[[], object],
    *,
    number: int = 2000,
    rounds: int = 9,
    target: float | None = None,
) -> Ratio:
    """Median over `rounds` of subject/reference, each round timing both back to back."""
    targets = None if target is None else {reference_name: target}
    (ratio,) = compare_many(
        name,
        timer(subject),
        {reference_name: timer(reference)},
        number=number,
        rounds=rounds,
        targets=targets,
    )
    return ratio
