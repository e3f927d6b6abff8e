"""Status list codec: what a verifier pays to decode a list and to read a bit.

Each measurement is put next to the floor it cannot beat, measured in the same run on the same bytes:
``Bitstring.decode`` against ``zlib.decompress`` of its GZIP payload (the rest is strict base64url and the
safety checks) and against the Node.js library `@digitalbazaar/vc-bitstring-status-list` (its `decodeList` and
one `getStatus`, in a subprocess interleaved round by round), ``Bitstring.encode`` against ``gzip.compress`` at the same level, and ``Bitstring.get``
against the same bit test written inline. Lists have 1% of bits set at random.
"""

from __future__ import annotations

import gzip
import random
import zlib
from functools import partial

from benchmarks._measure import Ratio, Timer, compare, compare_many, timer
from benchmarks._node import NodePeers, NodeUnavailableError
from keys import b64url_decode
from verifier import Bitstring

TITLE = "status lists"
ORDER = 20
SIZES = (131_072, 1_048_576, 16_777_216)
DENSITY = 0.01
NOTES: list[str] = []  # what could not be measured, for the report


def _sparse_list(size: int) -> Bitstring:
    rng = random.Random(size)  # noqa: S311 - reproducible benchmark data
    bits = Bitstring(size)
    for index in rng.sample(range(size), int(size * DENSITY)):
        bits.set(index, True)
    return bits


def decode_rows(size: int, node: NodePeers | None, *, number: int, rounds: int = 5) -> list[Ratio]:
    """Decode a list of `size` entries and read one bit: ours against zlib alone and against the Node.js library."""
    bits = _sparse_list(size)
    encoded = bits.encode()
    payload = b64url_decode(encoded[1:])
    index = next(i for i in range(size) if bits.get(i))
    references: dict[str, Timer] = {
        "zlib.decompress of the same GZIP": timer(partial(zlib.decompress, payload, wbits=31))
    }
    if node is not None:
        node.call(op="list", id=str(size), encodedList=encoded, index=index, expect=True)
        references["Node.js vc-bitstring-status-list `decodeList` + `getStatus`"] = node.timer(
            str(size), "list"
        )
    assert Bitstring.decode(encoded).get(index)
    return compare_many(
        f"status list decode + 1 bit, {size:,} entries",
        timer(lambda: Bitstring.decode(encoded).get(index)),
        references,
        number=number,
        rounds=rounds,
    )


def run(*, scale: int = 1) -> list[Ratio]:
    NOTES.clear()
    try:
        node: NodePeers | None = NodePeers()
    except NodeUnavailableError as e:
        node = None
        NOTES.append(f"Node.js peers not measured: {e}")
    rows = []
    try:
        for size in SIZES:
            rows += decode_rows(size, node, number=max(3, 100_000 // (size // 1024) // scale))
    finally:
        if node is not None:
            node.close()
    bits = _sparse_list(SIZES[1])
    rows.append(
        compare(
            f"status list encode, {SIZES[1]:,} entries",
            bits.encode,
            "gzip.compress level 6",
            partial(gzip.compress, bytes(bits), compresslevel=6, mtime=0),
            number=max(2, 10 // scale),
            rounds=5,
        )
    )
    store = bytearray(bytes(bits))
    indices = random.Random(1).sample(range(SIZES[1]), 1000)  # noqa: S311 - benchmark data
    get = bits.get

    def method() -> None:
        for i in indices:
            get(i)

    def inline() -> None:
        for i in indices:
            store[i >> 3] & (0x80 >> (i & 7)) != 0  # noqa: B015 - the bare expression is what is timed

    rows.append(
        compare(
            "Bitstring.get x1000",
            method,
            "inline bit test x1000",
            inline,
            number=max(2, 200 // scale),
            rounds=5,
        )
    )
    return rows


if __name__ == "__main__":
    for row in run():
        print(f"{row.ratio:5.2f}x  {row.subject_us:10.1f} µs  {row.name} vs {row.reference}")
