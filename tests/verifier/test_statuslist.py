"""Bitstring Status List v1.0 codec: round trips, bit order, the spec's example, hostile encodings."""

from __future__ import annotations

import gzip
import json
import pickle
import random
import time
import tracemalloc
import zlib
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from keys import b64url_decode, b64url_encode
from verifier._statuslist import (
    MALFORMED_VALUE_ERROR,
    MAX_DECODED_BYTES,
    MIN_ENTRIES,
    RANGE_ERROR,
    STATUS_LIST_LENGTH_ERROR,
    STATUS_VERIFICATION_ERROR,
    Bitstring,
    StatusListError,
    parse_index,
)

VECTORS: dict[str, Any] = json.loads(
    (Path(__file__).parent.parent / "assets" / "statuslist" / "vectors.json").read_text(encoding="utf-8")
)
# Bitstring Status List v1.0 §2.2, "Example BitstringStatusListCredential" (also in Appendix A).
SPEC_EXAMPLE = "uH4sIAAAAAAAAA-3BMQEAAADCoPVPbQwfoAAAAAAAAAAAAAAAAAAAAIC3AYbSVKsAQAAA"
MIB = 1024 * 1024
B64URL = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"


def u(raw: bytes) -> str:
    """encodedList text for arbitrary (possibly broken) GZIP bytes."""
    return "u" + b64url_encode(raw)


def gz(data: bytes, *, level: int = 6) -> bytes:
    return zlib.compress(data, level, wbits=31)


def expect_problem(encoded: str, problem: str, *, contains: str = "", **kwargs: int) -> StatusListError:
    with pytest.raises(StatusListError) as info:
        Bitstring.decode(encoded, **kwargs)
    assert info.value.problem == problem, str(info.value)
    assert contains in str(info.value)
    return info.value


def random_list(size: int, density: float, seed: int) -> tuple[Bitstring, set[int]]:
    rng = random.Random(seed)  # noqa: S311 - reproducible test data, not a secret
    chosen = set(rng.sample(range(size), int(size * density)))
    bits = Bitstring(size)
    for index in chosen:
        bits.set(index, True)
    return bits, chosen


# --- round trips and bit order -------------------------------------------------------------------


@pytest.mark.parametrize("size", [MIN_ENTRIES, 1_048_576])
def test_round_trip(size: int) -> None:
    bits, chosen = random_list(size, 0.01, seed=size)
    encoded = bits.encode()
    decoded = Bitstring.decode(encoded)
    assert len(decoded) == size
    assert decoded == bits
    assert {i for i in range(size) if decoded.get(i)} == chosen
    assert decoded.encode() == encoded  # deterministic: equal bits, equal text


def test_encoding_is_plain_gzip_with_a_fixed_header() -> None:
    bits, _ = random_list(MIN_ENTRIES, 0.001, seed=1)
    raw = b64url_decode(bits.encode()[1:])
    assert gzip.decompress(raw) == bytes(bits)  # any GZIP reader gets the bits back
    # RFC 1952 §2.3: magic, deflate, no flags, MTIME 0, XFL 0, OS 255 on every platform.
    assert raw[:10] == bytes.fromhex("1f8b08000000000000ff")


def test_bit_order_index_zero_is_the_most_significant_bit() -> None:
    bits = Bitstring(MIN_ENTRIES)
    bits.set(0, True)
    assert bytes(bits)[:2] == b"\x80\x00"
    bits.set(0, False)
    bits.set(7, True)
    assert bytes(bits)[:2] == b"\x01\x00"
    bits.set(8, True)
    assert bytes(bits)[:2] == b"\x01\x80"
    bits.set(MIN_ENTRIES - 1, True)
    assert bytes(bits)[-1] == 0x01
    assert [bits.get(i) for i in (0, 6, 7, 8, 9)] == [False, False, True, True, False]


def test_set_clears_only_its_own_bit() -> None:
    bits = Bitstring.from_bytes(b"\xff" * (MIN_ENTRIES // 8))
    bits.set(3, False)
    assert bytes(bits)[0] == 0xEF
    assert all(bits.get(i) for i in (0, 1, 2, 4, 5, 6, 7, 8))


# --- vectors, including the spec's example --------------------------------------------------------


def test_spec_example_decodes_to_an_empty_list_of_the_minimum_length() -> None:
    bits = Bitstring.decode(SPEC_EXAMPLE)
    assert len(bits) == MIN_ENTRIES  # exactly the §3.2 minimum: 16 KiB of bits
    assert bytes(bits) == bytes(MIN_ENTRIES // 8)  # no entry set
    # The spec's revocable credential points at index "94567" of this list: not revoked.
    assert bits.get(parse_index("94567", size=len(bits))) is False
    # Re-encoded by us it differs only in header bytes and deflate choices, never in the bits.
    assert Bitstring.decode(bits.encode()) == bits


@pytest.mark.parametrize("vector", VECTORS["valid"], ids=lambda v: v["name"])
def test_valid_vectors(vector: dict[str, Any]) -> None:
    bits = Bitstring.decode(vector["encodedList"], min_entries=vector["minEntries"])
    assert len(bits) == vector["entries"]
    assert all(bits.get(i) for i in vector["setIndices"])
    assert not any(bits.get(i) for i in vector["unsetIndices"])
    assert sum(bin(byte).count("1") for byte in bytes(bits)) == len(vector["setIndices"])
    if vector.get("encodeIsExact"):
        # Golden output: a change here changes every published list's bytes and ETag.
        assert bits.encode() == vector["encodedList"]
    if vector["minEntries"] < MIN_ENTRIES:
        expect_problem(vector["encodedList"], STATUS_LIST_LENGTH_ERROR)


@pytest.mark.parametrize("vector", VECTORS["invalid"], ids=lambda v: v["name"])
def test_invalid_vectors(vector: dict[str, Any]) -> None:
    expect_problem(vector["encodedList"], vector["problem"], contains=vector["messageContains"])


def test_padded_vector_is_refused_only_for_its_padding() -> None:
    (padded,) = (v["encodedList"] for v in VECTORS["invalid"] if v["name"] == "padded")
    assert len(Bitstring.decode(padded.rstrip("="))) == MIN_ENTRIES


def test_missing_prefix_message_says_why() -> None:
    error = expect_problem(SPEC_EXAMPLE[1:], MALFORMED_VALUE_ERROR)
    assert "refused rather than guessed" in str(error)


# --- hostile encodings ----------------------------------------------------------------------------


def test_not_a_string() -> None:
    expect_problem(SPEC_EXAMPLE.encode(), MALFORMED_VALUE_ERROR, contains="must be a string")  # type: ignore[arg-type]


@pytest.mark.parametrize("text", ["u!!!!", "u" + SPEC_EXAMPLE[1:] + "A", "uH4sI\u00e9", "u" + "A" * 5])
def test_bad_base64(text: str) -> None:
    expect_problem(text, MALFORMED_VALUE_ERROR, contains="base64url")


@pytest.mark.parametrize("cut", [1, 4, 8, 20, 0.5])
def test_truncated_gzip(cut: float) -> None:
    raw = gz(bytes(MIN_ENTRIES // 8))
    keep = int(len(raw) * cut) if isinstance(cut, float) else len(raw) - cut
    error = expect_problem(u(raw[:keep]), MALFORMED_VALUE_ERROR)
    assert "truncated" in str(error) or "corrupt" in str(error)


def test_truncated_trailer_says_truncated() -> None:
    expect_problem(u(gz(bytes(MIN_ENTRIES // 8))[:-8]), MALFORMED_VALUE_ERROR, contains="truncated GZIP")


def test_header_only_is_truncated() -> None:
    expect_problem(u(bytes.fromhex("1f8b08000000000000ff")), MALFORMED_VALUE_ERROR, contains="truncated")


@pytest.mark.parametrize("junk", [b"\x00", b"garbage", b"\x1f"])
def test_trailing_garbage(junk: bytes) -> None:
    raw = gz(bytes(MIN_ENTRIES // 8)) + junk
    expect_problem(u(raw), MALFORMED_VALUE_ERROR, contains=f"{len(junk)} bytes of trailing data")


def test_second_gzip_member() -> None:
    # Two members that would together make a valid-length list: a splice, refused.
    half = gz(bytes(MIN_ENTRIES // 16))
    expect_problem(u(half + half), MALFORMED_VALUE_ERROR, contains="second GZIP member")


@pytest.mark.parametrize(
    ("raw", "contains"),
    [
        (zlib.compress(bytes(MIN_ENTRIES // 8)), "not GZIP"),  # RFC 1950 zlib
        (zlib.compress(bytes(MIN_ENTRIES // 8), wbits=-15), "not GZIP"),  # raw deflate
        (bytes(MIN_ENTRIES // 8), "not GZIP"),  # uncompressed bits
        (b"\x1f\x8b\x07" + bytes(20), "not GZIP"),  # GZIP magic with a method other than deflate
        (b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff\xff\xff\xff", "corrupt GZIP"),  # invalid deflate
    ],
)
def test_not_gzip(raw: bytes, contains: str) -> None:
    expect_problem(u(raw), MALFORMED_VALUE_ERROR, contains=contains)


@pytest.mark.parametrize(("offset", "what"), [(-8, "data check"), (-1, "length check")])
def test_corrupt_trailer(offset: int, what: str) -> None:
    raw = bytearray(gz(bytes(MIN_ENTRIES // 8)))
    raw[offset] ^= 0x01  # CRC32 (first trailer byte) or ISIZE (last)
    expect_problem(u(bytes(raw)), MALFORMED_VALUE_ERROR, contains=what)


def test_too_short() -> None:
    expect_problem(
        Bitstring(MIN_ENTRIES // 2, min_entries=8).encode(),
        STATUS_LIST_LENGTH_ERROR,
        contains="65536 entries",
    )
    expect_problem(u(gz(b"")), STATUS_LIST_LENGTH_ERROR, contains="0 entries", min_entries=0)


@pytest.fixture(scope="module")
def bomb() -> str:
    """64 MiB of zeros as one GZIP member (~64 KB), built by streaming so it never sits in memory."""
    deflate = zlib.compressobj(9, zlib.DEFLATED, 31)
    zeros = bytes(MIB)
    raw = b"".join(deflate.compress(zeros) for _ in range(64)) + deflate.flush()
    assert len(raw) < MIB // 8
    return u(raw)


def test_gzip_bomb_stops_at_the_cap_quickly(bomb: str) -> None:
    started = time.perf_counter()
    expect_problem(bomb, STATUS_VERIFICATION_ERROR, contains="expands to more than")
    assert time.perf_counter() - started < 1.0  # typically a few ms: it stops at 2 MiB of output


def test_gzip_bomb_memory_stays_bounded(bomb: str) -> None:
    tracemalloc.start()
    try:
        with pytest.raises(StatusListError):
            Bitstring.decode(bomb)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    # zlib's output (cap + 1 bytes) and the bytes object it is joined into: about twice the cap, a
    # small multiple of what an honest list costs anyway, where the bomb would have taken 64 MiB.
    assert peak < 3 * MAX_DECODED_BYTES


def test_cap_is_exact() -> None:
    at_cap = Bitstring(8000, min_entries=8).encode()
    assert len(Bitstring.decode(at_cap, max_bytes=1000, min_entries=8)) == 8000
    expect_problem(
        at_cap, STATUS_VERIFICATION_ERROR, contains="cap of 999 bytes", max_bytes=999, min_entries=8
    )


def test_incompressible_list_at_the_cap_passes_the_length_precheck() -> None:
    raw = random.Random(7).randbytes(MAX_DECODED_BYTES)  # noqa: S311 - incompressible test data
    bits = Bitstring.from_bytes(raw)
    assert bytes(Bitstring.decode(bits.encode())) == raw


def test_overlong_text_is_refused_before_decoding() -> None:
    text = "u" + "A" * (4 * MIB)
    started = time.perf_counter()
    expect_problem(text, STATUS_VERIFICATION_ERROR, contains="characters long")
    assert time.perf_counter() - started < 0.05  # O(1): no byte of the 4 MiB is decoded
    # The precheck follows max_bytes: a short text is refused under a tiny cap.
    expect_problem("u" + "A" * 200, STATUS_VERIFICATION_ERROR, contains="characters long", max_bytes=16)


def test_max_bytes_must_be_positive() -> None:
    # zlib would read max_length=0 as "unlimited": a zero cap must not silently become no cap.
    with pytest.raises(ValueError, match="max_bytes"):
        Bitstring.decode(SPEC_EXAMPLE, max_bytes=0)


_GOOD_SMALL = gz(b"\x80\x01" * 4)


@settings(max_examples=150, deadline=None)
@given(
    st.one_of(
        st.text(max_size=120),
        st.text(alphabet=B64URL, max_size=120).map(lambda s: "u" + s),
        st.binary(max_size=80).map(lambda b: u(b"\x1f\x8b\x08" + b)),
        st.tuples(st.integers(0, len(_GOOD_SMALL) - 1), st.integers(0, 255)).map(
            lambda p: u(_GOOD_SMALL[: p[0]] + bytes([p[1]]) + _GOOD_SMALL[p[0] + 1 :])
        ),
        st.binary(max_size=16).map(lambda b: u(_GOOD_SMALL + b)),
    ),
    st.sampled_from([8, MIN_ENTRIES]),
)
def test_any_text_gives_a_bitstring_or_a_status_list_error(text: str, min_entries: int) -> None:
    try:
        bits = Bitstring.decode(text, min_entries=min_entries)
    except StatusListError as e:
        problem = e.problem
    else:
        assert len(bits) >= min_entries
        return
    assert problem in {MALFORMED_VALUE_ERROR, STATUS_LIST_LENGTH_ERROR, STATUS_VERIFICATION_ERROR}


@settings(max_examples=50, deadline=None)
@given(st.sets(st.integers(0, 255), max_size=40))
def test_round_trip_property(indices: set[int]) -> None:
    bits = Bitstring(256, min_entries=8)
    for index in indices:
        bits.set(index, True)
    decoded = Bitstring.decode(bits.encode(), min_entries=8)
    assert {i for i in range(256) if decoded.get(i)} == indices


# --- the Bitstring object -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("size", "problem"),
    [
        (0, MALFORMED_VALUE_ERROR),
        (-8, MALFORMED_VALUE_ERROR),
        (MIN_ENTRIES + 1, MALFORMED_VALUE_ERROR),
        (MIN_ENTRIES - 8, STATUS_LIST_LENGTH_ERROR),
    ],
)
def test_constructor_sizes(size: int, problem: str) -> None:
    with pytest.raises(StatusListError) as info:
        Bitstring(size)
    assert info.value.problem == problem


def test_small_lists_need_an_explicit_minimum() -> None:
    assert len(Bitstring(16, min_entries=16)) == 16
    with pytest.raises(StatusListError):
        Bitstring.from_bytes(b"\x00\x00")
    assert len(Bitstring.from_bytes(b"\x00\x00", min_entries=16)) == 16


@pytest.mark.parametrize("index", [-1, -MIN_ENTRIES, MIN_ENTRIES, 10**30])
def test_get_and_set_out_of_range(index: int) -> None:
    bits = Bitstring(MIN_ENTRIES)
    for call in (lambda: bits.get(index), lambda: bits.set(index, True)):
        with pytest.raises(StatusListError) as info:
            call()
        assert info.value.problem == RANGE_ERROR
        assert f"[0, {MIN_ENTRIES})" in str(info.value)


@pytest.mark.parametrize("value", [1, 0, "false", None])
def test_set_wants_a_bool(value: object) -> None:
    with pytest.raises(TypeError, match="must be a bool"):
        Bitstring(MIN_ENTRIES).set(0, value)  # type: ignore[arg-type]


def test_from_bytes_copies() -> None:
    source = bytearray(MIN_ENTRIES // 8)
    bits = Bitstring.from_bytes(source)
    source[0] = 0xFF
    assert not bits.get(0)


def test_equality_and_hashing() -> None:
    a, b = Bitstring(MIN_ENTRIES), Bitstring(MIN_ENTRIES)
    assert a == b
    b.set(5, True)
    assert a != b
    assert a != bytes(a)
    with pytest.raises(TypeError):
        hash(a)
    assert repr(a) == f"Bitstring(size={MIN_ENTRIES})"


def test_error_is_a_value_error_and_pickles() -> None:
    error = expect_problem(SPEC_EXAMPLE[1:], MALFORMED_VALUE_ERROR)
    assert isinstance(error, ValueError)
    clone = pickle.loads(pickle.dumps(error))  # noqa: S301 - our own object, for worker processes
    assert (type(clone), clone.problem, str(clone)) == (StatusListError, error.problem, str(error))


# --- statusListIndex --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"), [("0", 0), ("94567", 94567), (str(MIN_ENTRIES - 1), MIN_ENTRIES - 1)]
)
def test_parse_index(text: str, expected: int) -> None:
    assert parse_index(text, size=MIN_ENTRIES) == expected


@pytest.mark.parametrize(
    "value",
    [
        5,
        -5,
        True,
        5.0,
        None,
        ["5"],
        "",
        "-1",
        "-0",
        "+5",
        " 5",
        "5 ",
        "5\n",
        "0x5",
        "1.0",
        "1e3",
        "1_000",
        "\u0663",
        "\uff15",
        "\u00b2",
        "007",
        "00",
    ],
)
def test_parse_index_malformed(value: object) -> None:
    with pytest.raises(StatusListError) as info:
        parse_index(value, size=MIN_ENTRIES)
    assert info.value.problem == MALFORMED_VALUE_ERROR


@pytest.mark.parametrize("text", [str(MIN_ENTRIES), "999999", "9" * 20, "9" * 5000])
def test_parse_index_out_of_range(text: str) -> None:
    with pytest.raises(StatusListError) as info:
        parse_index(text, size=MIN_ENTRIES)
    assert info.value.problem == RANGE_ERROR
    assert f"[0, {MIN_ENTRIES})" in str(info.value)
    assert len(str(info.value)) < 200  # a 5000-digit index is not echoed back in full


def test_parse_index_messages_are_precise() -> None:
    with pytest.raises(StatusListError, match=r"not int 5"):
        parse_index(5, size=MIN_ENTRIES)
    with pytest.raises(StatusListError, match="leading zeros"):
        parse_index("007", size=MIN_ENTRIES)


@settings(max_examples=150, deadline=None)
@given(st.one_of(st.text(max_size=12), st.integers(0, 2 * MIN_ENTRIES).map(str)))
def test_parse_index_property(text: str) -> None:
    try:
        index = parse_index(text, size=MIN_ENTRIES)
    except StatusListError as e:
        problem = e.problem
    else:
        assert 0 <= index < MIN_ENTRIES
        assert str(index) == text  # one spelling per index
        return
    assert problem in {MALFORMED_VALUE_ERROR, RANGE_ERROR}
