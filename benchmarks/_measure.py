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
    chunks: int = 5,
    targets: Mapping[str, float] | None = None,
) -> list[Ratio]:
    """One ratio per reference: the median over `rounds` of subject/reference.

    In each round every reference is paired with the subject: `chunks` slices of `number // chunks` calls of
    each, taken in turn, so that the two sides of a ratio see the same machine load even where the load changes
    within a second, as it does on a shared machine. Whatever one timer leaves behind (a Node process's
    background GC and compiler threads, caches filled by another library) must not always land on the same
    one: the subject leads the pair in even rounds, the reference in odd ones, and each round starts with
    another reference.
    """
    if not references:
        return []
    targets = targets or {}
    for time_it in (subject, *references.values()):  # warm caches, lazy imports, JIT
        time_it(max(1, number // 10))
    # A timer of a few slow calls (a new process, a bulk batch) is not cut finer than one call per slice.
    chunks = max(1, min(chunks, number))
    per_chunk = number // chunks
    subject_us: list[float] = []
    ratios: dict[str, list[float]] = {key: [] for key in references}
    reference_us: dict[str, list[float]] = {key: [] for key in references}
    order = list(references)
    for n in range(rounds):
        for key in order[n % len(order) :] + order[: n % len(order)]:
            reference = references[key]
            ours = theirs = 0.0
            for _ in range(chunks):
                if n % 2 == 0:
                    ours += subject(per_chunk)
                    theirs += reference(per_chunk)
                else:
                    theirs += reference(per_chunk)
                    ours += subject(per_chunk)
            subject_us.append(ours / chunks)
            reference_us[key].append(theirs / chunks)
            ratios[key].append(ours / theirs)
    return [
        Ratio(
            name,
            ref,
            statistics.median(subject_us),
            statistics.median(reference_us[ref]),
            statistics.median(ratios[ref]),
            min(ratios[ref]),
            max(ratios[ref]),
            targets.get(ref),
        )
        for ref in references
    ]


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
    """Median over `rounds` of subject/reference, each round timing both in alternating slices."""
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
