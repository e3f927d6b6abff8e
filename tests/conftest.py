"""Fixtures for every test package. (pytest runs with --import-mode=importlib, so tests/ is not on sys.path and
tests/keys cannot shadow the keys package.)"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest


class FixedClock:
    """A clock that stands still until a test moves it; pass it wherever code takes a `clock`."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> datetime:
        """Move forward by `timedelta(**delta)` and return the new time."""
        self.now += timedelta(**delta)
        return self.now


@pytest.fixture
def fixed_clock() -> FixedClock:
    """A clock at 2026-11-01T00:00:00Z."""
    return FixedClock(datetime(2026, 11, 1, tzinfo=UTC))
