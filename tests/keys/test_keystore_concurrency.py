"""The keystore under concurrent changes: threads of one process, and processes, on one directory.

Threads meet in the clock: every change reads the clock between reading the records and writing them, so a clock
that waits for the other thread holds both changes where a lost update happens. Processes start together and
race through scrypt, which keeps a rotation between its read and its write for tenths of a second.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from keys import KeyRecord, KeyState, KeyStateError, Keystore

if TYPE_CHECKING:
    from collections.abc import Callable

PASSPHRASE = b"correct horse battery staple"
CREATED = datetime(2026, 10, 1, tzinfo=UTC)
NOW = datetime(2026, 11, 1, tzinfo=UTC)
# How long a thread waits in the clock for the other: one holding the keystore lock waits it out in full.
PATIENCE = 0.3


class MeetingClock:
    """A clock standing at NOW whose first reading waits, up to PATIENCE seconds, until `parties` threads read it."""

    def __init__(self, parties: int) -> None:
        self._barrier = threading.Barrier(parties, timeout=PATIENCE)
        self._met = False

    def __call__(self) -> datetime:
        if not self._met:
            # Broken when the other thread is kept out by the keystore lock instead: then go on alone.
            with contextlib.suppress(threading.BrokenBarrierError):
                self._barrier.wait()
            self._met = True
        return NOW


def plaintext_store(path: Path, clock: Callable[[], datetime]) -> Keystore:
    """Unencrypted throwaway keys: without scrypt each change takes milliseconds; the clock makes the race."""
    return Keystore(path, passphrase=None, allow_plaintext_keys=True, clock=clock)


def outcome(change: Callable[[], KeyRecord]) -> KeyRecord | Exception:
    """What `change` returned or raised."""
    try:
        return change()
    except Exception as e:  # noqa: BLE001 - the outcome is what the test checks
        return e


def in_threads(*changes: Callable[[], KeyRecord]) -> list[KeyRecord | Exception]:
    """Run each change in a thread of its own; what each returned or raised, in order."""
    with ThreadPoolExecutor(len(changes)) as pool:
        return list(pool.map(outcome, changes))


def states(store: Keystore) -> list[KeyState]:
    return [record.state for record in store.records()]


def test_rotation_racing_a_compromise_in_threads_never_undoes_it(tmp_path: Path) -> None:
    old = plaintext_store(tmp_path, lambda: CREATED).generate()
    store = plaintext_store(tmp_path, MeetingClock(2))
    at = NOW - timedelta(days=10)

    rotated, compromised = in_threads(store.rotate, lambda: store.mark_compromised(old.kid, at=at))

    assert isinstance(compromised, KeyRecord)
    record = store.record(old.kid)
    assert record.state is KeyState.COMPROMISED
    assert record.compromised_at == at
    assert record.published().revoked == at
    if isinstance(rotated, KeyRecord):  # the rotation went first; the compromise kept its retirement
        assert record.retired_at == NOW
        assert store.active() == rotated
    else:  # the compromise went first, and a compromised key is not rotated
        assert isinstance(rotated, KeyStateError)
        assert "has no active key" in str(rotated)
        assert states(store) == [KeyState.COMPROMISED]


def test_two_rotations_in_threads_leave_one_active_key(tmp_path: Path) -> None:
    first = plaintext_store(tmp_path, lambda: CREATED).generate()
    store = plaintext_store(tmp_path, MeetingClock(2))

    outcomes = in_threads(store.rotate, store.rotate)

    assert all(isinstance(outcome, KeyRecord) for outcome in outcomes)  # one after the other
    assert sorted(states(store)) == [KeyState.ACTIVE, KeyState.RETIRED, KeyState.RETIRED]
    assert store.record(first.kid).state is KeyState.RETIRED
    assert store.active() in outcomes
    assert store.signing_key().kid == store.active().kid


def test_two_generates_in_threads_make_one_key(tmp_path: Path) -> None:
    store = plaintext_store(tmp_path / "keys", MeetingClock(2))

    outcomes = in_threads(store.generate, store.generate)

    [made] = [outcome for outcome in outcomes if isinstance(outcome, KeyRecord)]
    [refused] = [outcome for outcome in outcomes if not isinstance(outcome, KeyRecord)]
    assert isinstance(refused, KeyStateError)
    assert f"key {made.kid} is already active" in str(refused)
    assert store.records() == [made]


def test_a_reader_in_the_middle_of_a_rotation_gets_the_new_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = plaintext_store(tmp_path, lambda: NOW)
    old = store.generate()
    seen: list[KeyRecord | Exception] = []
    reader = threading.Thread(target=lambda: seen.append(outcome(store.active)))
    real_replace = os.replace

    def replace(source: Any, destination: Any) -> None:
        real_replace(source, destination)
        if Path(destination).name == f"{old.kid}.json":  # retired; the new key is not saved yet
            reader.start()
            reader.join(PATIENCE)  # a reader waiting for the lock is still waiting

    monkeypatch.setattr(os, "replace", replace)
    new = store.rotate()
    reader.join()

    assert seen == [new]


# What each process runs: open the keystore, say so, wait for the word, then change it and print the result.
_WORKER = """
import sys
import time
from datetime import datetime
from keys import Keystore

store = Keystore(sys.argv[1], passphrase=sys.argv[2].encode())
print("ready", flush=True)
sys.stdin.readline()
if sys.argv[3] == "rotate":
    print(store.rotate().kid)
else:
    time.sleep(0.05)  # the rotation reads first, then spends tenths of a second in scrypt
    print(store.mark_compromised(sys.argv[4], at=datetime.fromisoformat(sys.argv[5])).state.value)
"""


def in_processes(path: Path, *commands: tuple[str, ...]) -> list[subprocess.CompletedProcess[str]]:
    """Run each command in a process of its own, all let go at once when every one has opened the keystore."""
    workers = [
        subprocess.Popen(  # noqa: S603 - this interpreter, running _WORKER
            [sys.executable, "-c", _WORKER, str(path), PASSPHRASE.decode(), *command],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for command in commands
    ]
    results = []
    try:
        for worker in workers:
            assert worker.stdout is not None
            assert worker.stdout.readline() == "ready\n", worker.communicate()[1]
        for worker in workers:
            assert worker.stdin is not None
            worker.stdin.write("go\n")
            worker.stdin.flush()
        for worker, command in zip(workers, commands, strict=True):
            stdout, stderr = worker.communicate(timeout=30)
            results.append(subprocess.CompletedProcess(command, worker.returncode, stdout, stderr))
    finally:
        for worker in workers:
            if worker.poll() is None:
                worker.kill()
                worker.wait()
    return results


def test_two_rotations_in_processes_leave_one_active_key(tmp_path: Path) -> None:
    Keystore(tmp_path, passphrase=PASSPHRASE).generate()

    results = in_processes(tmp_path, ("rotate",), ("rotate",))

    assert [result.returncode for result in results] == [0, 0], [result.stderr for result in results]
    store = Keystore(tmp_path, passphrase=PASSPHRASE)
    assert sorted(states(store)) == [KeyState.ACTIVE, KeyState.RETIRED, KeyState.RETIRED]
    assert store.active().kid in {result.stdout.strip() for result in results}


def test_rotation_racing_a_compromise_in_processes_never_undoes_it(tmp_path: Path) -> None:
    old = Keystore(tmp_path, passphrase=PASSPHRASE).generate()
    at = datetime.now(UTC) - timedelta(days=1)  # the workers read the real clock

    rotated, compromised = in_processes(tmp_path, ("rotate",), ("compromise", old.kid, at.isoformat()))

    assert (compromised.returncode, compromised.stdout) == (0, "compromised\n"), compromised.stderr
    store = Keystore(tmp_path, passphrase=PASSPHRASE)
    record = store.record(old.kid)
    assert (record.state, record.compromised_at) == (KeyState.COMPROMISED, at)
    if rotated.returncode == 0:  # as the compromise waits 50 ms: it kept the retirement
        assert record.retired_at is not None
        assert store.active().kid == rotated.stdout.strip()
    else:  # the compromise went first, and a compromised key is not rotated
        assert "has no active key" in rotated.stderr
        assert states(store) == [KeyState.COMPROMISED]
