"""Status list codec benchmark: what a verifier pays to decode a list and to read a bit.

Each measurement is put next to the floor it cannot beat, measured in the same run on the same bytes:
``Bitstring.decode`` against ``zlib.decompress`` of its GZIP payload (the rest is strict base64url and
the safety checks), ``Bitstring.encode`` against ``gzip.compress`` at the same level, and
``Bitstring.get`` against the same bit test written inline. Lists have 1% of bits set at random.

Run: ``.venv/bin/python benchmarks/bench_statuslist.py``. ``run()`` returns the rows for a collector.
"""

from __future__ import annotations

import gc
import gzip
import random
import statistics
import time
import zlib
from collections.abc import Callable
from functools import partial
from typing import Any

from keys import b64url_decode
from verifier._statuslist import Bitstring

SIZES = (131_072, 1_048_576, 16_777_216)
DENSITY = 0.01
SAMPLE_SECONDS = 0.05  # each sample runs the operation this long, so timer resolution does not matter


def _median_us(operation: Callable[[], object], *, repeats: int) -> float:
    """Median time of one call in µs, over ``repeats`` samples of a calibrated number of calls."""
    number = 1
    while True:
        started = time.perf_counter()
        for _ in range(number):
            operation()
        if time.perf_counter() - started >= SAMPLE_SECONDS / 4:
            break
        number *= 2
    samples = []
    gc.disable()
    try:
        for _ in range(repeats):
            started = time.perf_counter()
            for _ in range(number):
                operation()
            samples.append((time.perf_counter() - started) / number)
    finally:
        gc.enable()
    return statistics.median(samples) * 1e6


def _sparse_list(size: int) -> Bitstring:
    rng = random.Random(size)  # noqa: S311 - reproducible benchmark data
    bits = Bitstring(size)
    for index in rng.sample(range(size), int(size * DENSITY)):
        bits.set(index, True)
    return bits


def _pair(name: str, ours: float, reference: str, floor: float) -> list[dict[str, Any]]:
    return [
        {"name": name, "median_us": ours, "ratio_vs": ours / floor, "reference": reference},
        {"name": reference, "median_us": floor, "ratio_vs": None, "reference": None},
    ]


def run(*, repeats: int = 7) -> list[dict[str, Any]]:
    """Measure decode, encode and get; rows are {name, median_us, ratio_vs, reference}.

    ``ratio_vs`` is ``median_us`` divided by the reference row's ``median_us`` (None on reference rows).
    """
    rows: list[dict[str, Any]] = []
    for size in SIZES:
        bits = _sparse_list(size)
        encoded = bits.encode()
        payload = b64url_decode(encoded[1:])
        raw = bytes(bits)
        decode = _median_us(partial(Bitstring.decode, encoded), repeats=repeats)
        inflate = _median_us(partial(zlib.decompress, payload, wbits=31), repeats=repeats)
        rows += _pair(f"statuslist.decode[{size}]", decode, f"zlib.decompress[{size}]", inflate)
        encode = _median_us(bits.encode, repeats=repeats)
        deflate = _median_us(partial(gzip.compress, raw, compresslevel=6, mtime=0), repeats=repeats)
        rows += _pair(f"statuslist.encode[{size}]", encode, f"gzip.compress[{size}]", deflate)

    # get: 1,000 random reads per call, divided back to one read.
    bits = _sparse_list(SIZES[1])
    store = bytearray(bytes(bits))
    indices = random.Random(1).sample(range(SIZES[1]), 1000)  # noqa: S311 - benchmark data
    get = bits.get

    def method() -> None:
        for i in indices:
            get(i)

    def inline() -> None:
        for i in indices:
            store[i >> 3] & (0x80 >> (i & 7)) != 0  # noqa: B015 - the bare expression is what is timed

    ours = _median_us(method, repeats=repeats) / len(indices)
    floor = _median_us(inline, repeats=repeats) / len(indices)
    rows += _pair("statuslist.get", ours, "inline bit test on a bytearray", floor)
    return rows


def main() -> None:
    rows = run()
    by_name = {row["name"]: row for row in rows}
    for row in rows:
        if row["reference"] is None:
            continue
        floor = by_name[row["reference"]]["median_us"]
        print(
            f"{row['name']:28} {row['median_us']:9.2f} µs median = {row['ratio_vs']:4.2f}x "
            f"{row['reference']} ({floor:.2f} µs)"
        )


if __name__ == "__main__":
    main()
