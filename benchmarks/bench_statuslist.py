"""Status list codec: what a verifier pays to decode a list and to read a bit.

Each measurement is put next to the floor it cannot beat, measured in the same run on the same bytes:
``Bitstring.decode`` against ``zlib.decompress`` of its GZIP payload (the rest is strict base64url and the
safety checks), ``Bitstring.encode`` against ``gzip.compress`` at the same level, and ``Bitstring.get``
against the same bit test written inline. Lists have 1% of bits set at random.
"""

from __future__ import annotations

import gzip
import random
import zlib
from functools import partial

from benchmarks._measure import Ratio, compare
from keys import b64url_decode
from verifier import Bitstring

SIZES = (131_072, 1_048_576, 16_777_216)
DENSITY = 0.01


def _sparse_list(size: int) -> Bitstring:
    rng = random.Random(size)  # noqa: S311 - reproducible benchmark data
    bits = Bitstring(size)
    for index in rng.sample(range(size), int(size * DENSITY)):
        bits.set(index, True)
    return bits


def run() -> list[Ratio]:
    rows = []
    for size in SIZES:
        bits = _sparse_list(size)
        encoded = bits.encode()
        payload = b64url_decode(encoded[1:])
        number = max(5, 200_000 // (size // 1024))
        rows.append(
            compare(
                f"status list decode, {size:,} entries",
                partial(Bitstring.decode, encoded),
                "zlib.decompress of the same GZIP",
                partial(zlib.decompress, payload, wbits=31),
                number=number,
                rounds=5,
            )
        )
        if size == SIZES[1]:
            rows.append(
                compare(
                    f"status list encode, {size:,} entries",
                    bits.encode,
                    "gzip.compress level 6",
                    partial(gzip.compress, bytes(bits), compresslevel=6, mtime=0),
                    number=20,
                    rounds=5,
                )
            )
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

    rows.append(compare("Bitstring.get x1000", method, "inline bit test x1000", inline, number=200, rounds=5))
    return rows


if __name__ == "__main__":
    for row in run():
        print(f"{row.ratio:5.2f}x  {row.subject_us:10.1f} µs  {row.name} vs {row.reference}")
