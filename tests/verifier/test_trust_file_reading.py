"""Trust and status list files that have no size to check (pipes, devices): read no further than the limit."""

from __future__ import annotations

import contextlib
import json
import os
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from keys import did_web_document
from verifier import TrustStore, TrustStoreError, read_json_file

MAX_TRUST_FILE_BYTES = 16 * 1024 * 1024
OVER = f"over the {MAX_TRUST_FILE_BYTES:,}-byte limit; not read further"
ZERO = Path("/dev/zero")


@contextlib.contextmanager
def fifo(tmp_path: Path, data: bytes) -> Iterator[Path]:
    """A named pipe a thread writes `data` into, in pieces, until the reader is gone (as `<(cmd)` in a shell)."""
    path = tmp_path / "pipe"
    os.mkfifo(path)

    def feed() -> None:
        with contextlib.suppress(BrokenPipeError), path.open("wb") as f:
            for start in range(0, len(data), 1 << 20):
                f.write(data[start : start + (1 << 20)])

    writer = threading.Thread(target=feed, daemon=True)
    writer.start()
    try:
        yield path
    finally:
        writer.join(timeout=30)


@pytest.mark.skipif(not ZERO.exists(), reason="no /dev/zero")
def test_an_endless_device_as_the_trust_file_is_refused(world: Any, tmp_path: Path) -> None:
    with pytest.raises(TrustStoreError, match=f"^/dev/zero: {OVER}$"):
        TrustStore.load(ZERO)
    with pytest.raises(TrustStoreError, match=f"^/dev/zero: {OVER}$"):
        read_json_file(ZERO)
    trust = tmp_path / "trust.json"
    trust.write_text(json.dumps(did_web_document(world.cb.did, world.cb.published)), encoding="utf-8")
    with pytest.raises(TrustStoreError, match=f"^/dev/zero: {OVER}$"):
        TrustStore.load(trust, [ZERO])


def test_a_pipe_is_read_to_the_limit_and_no_further(world: Any, tmp_path: Path) -> None:
    endless = b" " * (MAX_TRUST_FILE_BYTES + 5 * (1 << 20))  # JSON whitespace: only the size is wrong
    with fifo(tmp_path, endless) as path, pytest.raises(TrustStoreError, match=OVER) as info:
        TrustStore.load(path)
    assert info.value.source == str(tmp_path / "pipe")


def test_a_pipe_within_the_limit_is_read(world: Any, tmp_path: Path) -> None:
    document = json.dumps(did_web_document(world.cb.did, world.cb.published)).encode()
    with fifo(tmp_path, document) as path:
        store = TrustStore.load(path)
    assert [issuer.id for issuer in store.issuers] == [world.cb.did]
