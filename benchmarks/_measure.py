"""Ratios against a reference measured in the same run, interleaved so that machine noise hits both alike."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass


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
    for fn in (subject, reference):  # warm caches and lazy imports
        per_call_us(fn, max(1, number // 10))
    subjects, references, ratios = [], [], []
    for _ in range(rounds):
        s = per_call_us(subject, number)
        r = per_call_us(reference, number)
        subjects.append(s)
        references.append(r)
        ratios.append(s / r)
    return Ratio(
        name,
        reference_name,
        statistics.median(subjects),
        statistics.median(references),
        statistics.median(ratios),
        min(ratios),
        max(ratios),
        target,
    )
