"""W3C Bitstring Status List v1.0: the ``encodedList`` codec and ``statusListIndex`` parsing.

A status list is a bitstring in which entry *i* says whether credential *i* is revoked (or suspended).
It travels as ``encodedList`` = ``"u"`` (multibase prefix for base64url, no padding) + base64url of a
single GZIP member (RFC 1952) holding the bitstring, index 0 at the most significant bit of byte 0
(Bitstring Status List v1.0 §2.2, "encodedList"; Security Considerations, "Bitstring Encoding").

Decoding treats ``encodedList`` as hostile: it is downloaded from the network or handed over by a holder,
and a few kilobytes of GZIP can expand to gigabytes. Every step is bounded before it runs (text length,
then decompressed size via ``max_length``), and every refusal is a :class:`StatusListError` whose
``problem`` is a standard problem-type URI, so the verifier can report it without guessing.

Exceptions::

    ValueError
     └── StatusListError          .problem: one of the *_ERROR URIs below

Only 1-bit entries (``statusSize`` 1) are supported: aigov keeps revocation and suspension in separate
lists, as the design requires.
"""

from __future__ import annotations

import functools
import struct
import zlib
from typing import Any, ClassVar, Final

from keys import b64url_decode, b64url_encode

__all__ = [
    "MALFORMED_VALUE_ERROR",
    "MAX_DECODED_BYTES",
    "MIN_ENTRIES",
    "RANGE_ERROR",
    "STATUS_LIST_LENGTH_ERROR",
    "STATUS_VERIFICATION_ERROR",
    "Bitstring",
    "StatusListError",
    "parse_index",
]

# Problem types. Bitstring Status List v1.0 §3.5 "Processing Errors" and VC Data Model 2.0 §7.2.
STATUS_LIST_LENGTH_ERROR: Final = "https://www.w3.org/ns/credentials/status-list#STATUS_LIST_LENGTH_ERROR"
STATUS_VERIFICATION_ERROR: Final = "https://www.w3.org/ns/credentials/status-list#STATUS_VERIFICATION_ERROR"
MALFORMED_VALUE_ERROR: Final = "https://www.w3.org/TR/vc-data-model#MALFORMED_VALUE_ERROR"
RANGE_ERROR: Final = "https://www.w3.org/TR/vc-data-model#RANGE_ERROR"

# §3.2 Validate Algorithm step 2: minimumNumberOfEntries is 131,072 (16 KiB of bits) for herd privacy.
MIN_ENTRIES: Final = 131_072
# Our own cap, not the spec's: 2 MiB of bits = 16,777,216 entries, far above any list aigov issues,
# small enough that a hostile list cannot exhaust a laptop running `aigov verify`.
MAX_DECODED_BYTES: Final = 2 * 1024 * 1024

# RFC 1952 §2.3 member header: ID1 ID2, CM=8 (deflate), FLG=0, MTIME=0, XFL=0, OS=255 ("unknown").
# Written by hand rather than by gzip.compress/zlib, whose OS byte depends on the platform (and whose
# header differs between Python versions): the same bits must give the same bytes, hence the same ETag,
# on every registry replica.
_GZIP_HEADER: Final = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff"
_GZIP_MAGIC: Final = b"\x1f\x8b\x08"  # ID1, ID2, CM=deflate: the only method RFC 1952 defines
_COMPRESS_LEVEL: Final = 6  # level 9 costs ~17x the CPU for ~13% fewer bytes (measured, see DESIGN.md)
_MULTIBASE_BASE64URL: Final = "u"
_SHOWN: Final = 40  # how much of a hostile value an error message echoes


def _show(value: object) -> str:
    """repr() of a value, cut short: messages must be precise without echoing megabytes back."""
    text = repr(value)
    return text if len(text) <= _SHOWN else f"{text[:_SHOWN]}...({len(text)} chars)"


def _max_encoded_chars(max_bytes: int) -> int:
    """Longest ``encodedList`` (after the prefix) that can hold at most ``max_bytes`` of bits.

    zlib's deflateBound() for incompressible input is about n + n/4096 + n/16384 + 13 bytes, plus 18
    bytes of GZIP header and trailer; n/1024 + 64 covers that with room to spare. Anything longer spends
    more bytes than any real encoder would, so it is refused before a single byte is decoded.
    """
    max_gzip = max_bytes + (max_bytes >> 10) + 64
    return -(-max_gzip * 4 // 3)  # base64 without padding: ceil(4n / 3) characters


class StatusListError(ValueError):
    """A status list or status list index that cannot be used, with the problem type that says why.

    ``problem`` is one of the module's ``*_ERROR`` URIs; ``str(error)`` is the human detail.
    """

    problem: str

    def __init__(self, message: str, *, problem: str) -> None:
        super().__init__(message)
        self.problem = problem

    def __reduce__(self) -> tuple[Any, ...]:
        # Keyword-only fields do not survive the default exception pickling; batch verification may
        # run in worker processes, so rebuild with the problem type intact.
        return (functools.partial(type(self), problem=self.problem), self.args)


def _range_error(index: int, size: int) -> StatusListError:
    # §3.2 step 10: an index outside the bitstring is a RANGE_ERROR.
    return StatusListError(
        f"status list index {index} is outside the list's range [0, {size})", problem=RANGE_ERROR
    )


class Bitstring:
    """A mutable status bitstring: entry ``i`` is bit ``7 - i % 8`` of byte ``i // 8`` (§2.2).

    ``size`` counts entries and must be a positive multiple of 8, because the encoding carries whole
    bytes: any other size would not survive ``decode(encode())``. It must be at least ``min_entries``
    (default :data:`MIN_ENTRIES`, the spec's herd-privacy minimum); lower it only for tests and vectors.
    Decode once and keep the object: :meth:`get` is cheap, :meth:`decode` is not.
    """

    __slots__ = ("_bits", "_size")
    __hash__: ClassVar[None]  # type: ignore[assignment]  # mutable, so unhashable

    _bits: bytearray
    _size: int

    def __init__(self, size: int, *, min_entries: int = MIN_ENTRIES) -> None:
        _check_size(size, min_entries)
        self._bits = bytearray(size >> 3)
        self._size = size

    @classmethod
    def from_bytes(cls, data: bytes | bytearray, *, min_entries: int = MIN_ENTRIES) -> Bitstring:
        """Wrap a copy of raw bitstring bytes (e.g. a stored list), checking the length as in decode."""
        _check_size(len(data) * 8, min_entries)
        return cls._adopt(bytearray(data))

    @classmethod
    def _adopt(cls, bits: bytearray) -> Bitstring:
        self = cls.__new__(cls)
        self._bits = bits
        self._size = len(bits) * 8
        return self

    def __len__(self) -> int:
        return self._size

    def __bytes__(self) -> bytes:
        return bytes(self._bits)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Bitstring):
            return NotImplemented
        return self._bits == other._bits

    def __repr__(self) -> str:
        return f"Bitstring(size={self._size})"

    def get(self, index: int) -> bool:
        """Whether entry ``index`` is set. Raises StatusListError (RANGE_ERROR) outside [0, len)."""
        # A negative index would silently wrap around the bytearray, so it is checked; an index past
        # the end fails in the subscript itself, which costs nothing on the hot path.
        if index < 0:
            raise _range_error(index, self._size)
        try:
            # Index 0 is the most significant bit of byte 0 (§2.2), hence the mask 0x80 >> (index % 8).
            return self._bits[index >> 3] & (0x80 >> (index & 7)) != 0
        except IndexError:
            raise _range_error(index, self._size) from None

    def set(self, index: int, value: bool) -> None:
        """Set or clear entry ``index``; ``value`` must be a real bool, so ``set(i, "no")`` cannot set it."""
        if not isinstance(value, bool):
            raise TypeError(f"status value must be a bool, not {type(value).__name__}")
        if not 0 <= index < self._size:
            raise _range_error(index, self._size)
        mask = 0x80 >> (index & 7)
        if value:
            self._bits[index >> 3] |= mask
        else:
            self._bits[index >> 3] &= ~mask & 0xFF

    def encode(self) -> str:
        """The ``encodedList`` text: ``"u"`` + base64url(GZIP(bits)), deterministic for equal bits.

        GZIP at level 6 with a fixed header (MTIME 0, OS "unknown"), so that equal lists always give
        equal text and a republished list keeps its ETag. The deflate bytes come from the zlib library;
        the golden vector in tests/assets/statuslist/ fails loudly if a different zlib changes them.
        """
        deflate = zlib.compressobj(_COMPRESS_LEVEL, zlib.DEFLATED, -zlib.MAX_WBITS)  # raw deflate
        body = deflate.compress(self._bits) + deflate.flush()
        # RFC 1952 §2.3.1 trailer: CRC32 then ISIZE (length mod 2**32), both little-endian.
        trailer = struct.pack("<II", zlib.crc32(self._bits), len(self._bits) & 0xFFFFFFFF)
        return _MULTIBASE_BASE64URL + b64url_encode(_GZIP_HEADER + body + trailer)

    @classmethod
    def decode(
        cls, encoded: str, *, max_bytes: int = MAX_DECODED_BYTES, min_entries: int = MIN_ENTRIES
    ) -> Bitstring:
        """Decode an ``encodedList`` (§3.4 Bitstring Expansion Algorithm), refusing anything doubtful.

        Memory and time are bounded by ``max_bytes`` (the largest decompressed list accepted) whatever
        the input. Raises StatusListError: MALFORMED_VALUE_ERROR for a bad encoding,
        STATUS_LIST_LENGTH_ERROR for a list shorter than ``min_entries`` (§3.2 step 9), and
        STATUS_VERIFICATION_ERROR for a list larger than ``max_bytes`` (our cap; the spec sets none).
        """
        if not isinstance(encoded, str):
            raise StatusListError(
                f"encodedList must be a string, not {type(encoded).__name__}", problem=MALFORMED_VALUE_ERROR
            )
        if max_bytes < 1:  # zlib reads max_length=0 as "unlimited": never let a bad argument lift the cap
            raise ValueError(f"max_bytes must be at least 1, got {max_bytes}")
        # Bound the work before doing any: a text too long to be a list within the cap is refused in O(1).
        limit = _max_encoded_chars(max_bytes)
        if len(encoded) - 1 > limit:
            raise StatusListError(
                f"encodedList is {len(encoded)} characters long; a list within this verifier's cap of "
                f"{max_bytes} decompressed bytes needs at most {limit + 1}",
                problem=STATUS_VERIFICATION_ERROR,
            )
        # §2.2: multibase base64url, whose prefix is "u". Un-prefixed text is the pre-standard
        # StatusList2021 form; accepting it would mean guessing the encoding of an untrusted value.
        if not encoded.startswith(_MULTIBASE_BASE64URL):
            raise StatusListError(
                f"encodedList must start with the multibase prefix 'u' (base64url, no padding), got "
                f"{_show(encoded[:8])}; un-prefixed (StatusList2021-style) lists are refused rather "
                "than guessed at",
                problem=MALFORMED_VALUE_ERROR,
            )
        try:
            compressed = b64url_decode(encoded[1:])
        except ValueError as e:
            raise StatusListError(
                f"encodedList is not strict base64url after its 'u' prefix ({e})",
                problem=MALFORMED_VALUE_ERROR,
            ) from e
        return cls._adopt(_gunzip(compressed, max_bytes=max_bytes, min_entries=min_entries))


def _gunzip(compressed: bytes, *, max_bytes: int, min_entries: int) -> bytearray:
    """Expand exactly one GZIP member into at most ``max_bytes`` bytes, or raise StatusListError."""
    if not compressed.startswith(_GZIP_MAGIC):
        raise StatusListError(
            f"encodedList is not GZIP data (RFC 1952): it starts with {compressed[:3].hex() or 'nothing'}, "
            f"not {_GZIP_MAGIC.hex()}",
            problem=MALFORMED_VALUE_ERROR,
        )
    inflater = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)  # GZIP wrapper only, CRC32/ISIZE checked
    try:
        # max_length stops a GZIP bomb at the cap: zlib never produces more than max_bytes + 1 bytes.
        bits = inflater.decompress(compressed, max_bytes + 1)
    except zlib.error as e:
        raise StatusListError(
            f"encodedList holds corrupt GZIP data: {e}", problem=MALFORMED_VALUE_ERROR
        ) from e
    if len(bits) > max_bytes:
        raise StatusListError(
            f"encodedList expands to more than this verifier's cap of {max_bytes} bytes "
            f"({max_bytes * 8} entries); refused before decompressing further",
            problem=STATUS_VERIFICATION_ERROR,
        )
    if not inflater.eof:
        raise StatusListError(
            f"encodedList holds a truncated GZIP stream: it ends after {len(bits)} decompressed bytes "
            "without the end of the deflate data and the CRC32/ISIZE trailer",
            problem=MALFORMED_VALUE_ERROR,
        )
    if inflater.unused_data:
        extra = len(inflater.unused_data)
        if inflater.unused_data.startswith(b"\x1f\x8b"):
            # RFC 1952 allows several members, but a status list is one GZIP-compressed bitstring (§2.2)
            # and every encoder writes one; a second member is a splice, not a list.
            reason = f"a second GZIP member ({extra} bytes) follows the first; only one member is accepted"
        else:
            reason = f"{extra} bytes of trailing data follow the GZIP member"
        raise StatusListError(
            f"encodedList is not a single GZIP member: {reason}", problem=MALFORMED_VALUE_ERROR
        )
    entries = len(bits) * 8
    if entries < min_entries or entries == 0:
        raise StatusListError(
            f"status list has {entries} entries ({len(bits)} bytes); at least {max(min_entries, 1)} are "
            "required for herd privacy (Bitstring Status List §3.2)",
            problem=STATUS_LIST_LENGTH_ERROR,
        )
    return bytearray(bits)


def _check_size(size: int, min_entries: int) -> None:
    if size <= 0 or size % 8:
        raise StatusListError(
            f"a status list holds whole bytes: size must be a positive multiple of 8, got {size}",
            problem=MALFORMED_VALUE_ERROR,
        )
    if size < min_entries:
        raise StatusListError(
            f"status list has {size} entries; at least {min_entries} are required for herd privacy "
            "(Bitstring Status List §3.2)",
            problem=STATUS_LIST_LENGTH_ERROR,
        )


def parse_index(value: object, *, size: int) -> int:
    """Parse a ``statusListIndex`` for a list of ``size`` entries, strictly.

    §2.1: "an arbitrary size integer greater than or equal to 0, expressed as a string in base 10".
    Only ASCII digits are accepted: no sign, whitespace, underscores, ``0x`` or non-ASCII digits (all of
    which Python's ``int()`` would take), and no leading zeros except ``"0"`` itself, so that each
    index has exactly one spelling and string comparison agrees with numeric comparison (a ``"010"``
    is also read as 8 by octal-minded parsers). A JSON number is malformed: the spec says string.
    Raises StatusListError: MALFORMED_VALUE_ERROR for the form, RANGE_ERROR outside ``[0, size)``.
    """
    if not isinstance(value, str):
        raise StatusListError(
            f"statusListIndex must be a string of base-10 digits, not {type(value).__name__} {_show(value)}",
            problem=MALFORMED_VALUE_ERROR,
        )
    if not (value.isascii() and value.isdigit()):
        raise StatusListError(
            f"statusListIndex must be the digits 0-9 only (no sign, space or prefix), got {_show(value)}",
            problem=MALFORMED_VALUE_ERROR,
        )
    if len(value) > 1 and value[0] == "0":
        raise StatusListError(
            f"statusListIndex must not have leading zeros, got {_show(value)}", problem=MALFORMED_VALUE_ERROR
        )
    # A well-formed but huge index is valid per §2.1 yet out of range; decide that without int() on a
    # string of thousands of digits (quadratic, and refused by int_max_str_digits anyway).
    if len(value) > len(str(size)):
        raise StatusListError(
            f"status list index {_show(value)} is outside the list's range [0, {size})", problem=RANGE_ERROR
        )
    index = int(value)
    if index >= size:
        raise _range_error(index, size)
    return index
