"""Strict JSON for untrusted input (RFC 8259, read as I-JSON, RFC 7493): one parser for every file and token.

jiter (pydantic's JSON parser) refuses duplicate member names, NaN and Infinity, lone surrogates and nesting
beyond 200 levels, at well under the cost of the standard library's parser with a duplicate-checking hook.
Its error messages are turned into ours on the error path only.
"""

from __future__ import annotations

import re
from typing import Any

import jiter

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
