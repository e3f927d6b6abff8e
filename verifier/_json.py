"""Strict JSON for untrusted input (RFC 8259, read as I-JSON, RFC 7493): one parser for every file and token.

jiter (pydantic's JSON parser) refuses duplicate member names, NaN and Infinity, lone surrogates and nesting
beyond 200 levels, at well under the cost of the standard library's parser with a duplicate-checking hook.
Its error messages are turned into ours on the error path only.

A number too large for a double (`1e400`) is valid JSON and reads as infinity, as it does in JavaScript's
`JSON.parse` and Python's `json`. Refusing it would cost every verification a walk of the payload (5-9 µs, see
benchmarks/README.md); `json_ready` instead keeps what we write out valid JSON.
"""

from __future__ import annotations

import math
import re
from typing import Any

import jiter

# Written where a parsed number was infinite: an integer above every double, which a reader using doubles takes
# for infinity again, as it took the number it replaces. (NaN never gets this far: `loads` refuses it.)
_ABOVE_EVERY_DOUBLE = 10**309

_DUPLICATE = re.compile(r'duplicate key "(.*)" at line')
_POSITION = re.compile(r"at line (\d+) column (\d+)$")
_NON_NUMBER = re.compile(r"-?(NaN|Infinity)")


def loads(data: bytes, what: str = "input") -> Any:
    """Parse JSON text; a ValueError says precisely what is wrong with `what`."""
    try:
        return jiter.from_json(data, catch_duplicate_keys=True, allow_inf_nan=False)
    except ValueError as e:
        raise ValueError(_explain(data, str(e), what)) from None


def _explain(data: bytes, message: str, what: str) -> str:
    duplicate = _DUPLICATE.search(message)
    if duplicate:
        return f"{what}: duplicate JSON member {duplicate[1]!r}: a duplicate could make two readers disagree"
    if message.startswith("recursion limit exceeded"):
        return f"{what} is JSON nested too deeply (over 200 levels)"
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return f"{what} is not UTF-8 text"
    position = _POSITION.search(message)
    if position:
        line, column = int(position[1]), int(position[2])
        lines = text.split("\n")
        # jiter points at the value, or just past a minus sign
        rest = lines[line - 1][max(column - 2, 0) :] if 0 < line <= len(lines) else ""
        number = _NON_NUMBER.search(rest[:10])
        if number:
            return f"{what}: {number[0]} is not JSON (RFC 8259 has no NaN or Infinity)"
    return f"{what} is not JSON: {message}"


def json_ready(value: Any) -> Any:
    """`value` with every infinite float (from a number literal that overflows) replaced by +/- 10**309, so that
    `json.dumps` writes JSON, not `Infinity`. Unchanged parts are returned as they are, not copied."""
    if isinstance(value, float):
        if math.isinf(value):
            return _ABOVE_EVERY_DOUBLE if value > 0 else -_ABOVE_EVERY_DOUBLE
        return value
    if isinstance(value, dict):
        ready = {k: json_ready(v) for k, v in value.items()}
        return value if all(ready[k] is v for k, v in value.items()) else ready
    if isinstance(value, list):
        elements = [json_ready(v) for v in value]
        return value if all(a is b for a, b in zip(elements, value, strict=True)) else elements
    return value
