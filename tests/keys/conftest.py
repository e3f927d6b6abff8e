"""Fixtures for the keys tests.

`fixed_clock` belongs in tests/conftest.py for every package, but a conftest there puts tests/ on sys.path
(pytest's default "prepend" import mode), where tests/keys, tests/verifier and tests/issuer would shadow the
packages of the same names. It can move once pytest runs with --import-mode=importlib.
"""

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
