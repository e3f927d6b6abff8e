"""Fixtures for every test package. (pytest runs with --import-mode=importlib, so tests/ is not on sys.path and
tests/keys cannot shadow the keys package.)"""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from issuer._badge import FONT_CANDIDATES
from keys import Keystore

# When test keys enter service: before every fixed clock's present, as in a deployment, where a body's key exists
# before it signs anything (the trust list publishes each key's entry into service and `verify` checks it).
KEYS_CREATED = datetime(2025, 12, 1, tzinfo=UTC)


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


MakeKeystores = Callable[[Path, Iterable[str], str], Path]


@pytest.fixture(scope="session")
def make_keystores() -> MakeKeystores:
    """`make_keystores(root, names, passphrase)`: one encrypted keystore per name under `root`, each with an
    active Ed25519 key created at KEYS_CREATED; returns `root`."""

    def make(root: Path, names: Iterable[str], passphrase: str) -> Path:
        for name in names:
            Keystore(root / name, passphrase=passphrase.encode(), clock=lambda: KEYS_CREATED).generate()
        return root

    return make


def pytest_runtest_setup(item: pytest.Item) -> None:
    """`@pytest.mark.badges` (`font=True`: PNG too): the badges extra (and a CJK font) must be installed; without
    them the test is skipped, or fails under AIGOV_REQUIRE_ALL=1 (as .ci/run sets it)."""
    marker = item.get_closest_marker("badges")
    if marker is None:
        return
    missing = [name for name in ("PIL", "zxingcpp") if importlib.util.find_spec(name) is None]
    reasons = (
        [f"the badges extra is not installed (missing {', '.join(missing)}): pip install 'aigov[badges]'"]
        if missing
        else []
    )
    if marker.kwargs.get("font") and not any(path.is_file() for path in FONT_CANDIDATES):
        reasons.append("no CJK font: apt-get install fonts-ipafont-gothic")
    if reasons:
        if os.environ.get("AIGOV_REQUIRE_ALL") == "1":
            pytest.fail(f"AIGOV_REQUIRE_ALL=1: {'; '.join(reasons)}")
        pytest.skip("; ".join(reasons))
