"""Japanese corporate numbers (法人番号): 13 digits whose first digit is a check digit.

National Tax Agency, "法人番号の指定等に関する省令" 第2条: check = 9 - (Σ Pn*Qn mod 9), where Pn is the n-th
digit of the 12-digit base number counted from the right and Qn is 1 for odd n and 2 for even n.
"""

from __future__ import annotations


def corporate_number_check_digit(base: str) -> int:
    """The check digit for a 12-digit base number."""
    if len(base) != 12 or not base.isascii() or not base.isdigit():
        raise ValueError("the base of a corporate number is exactly 12 ASCII digits")
    return _check_digit(base)


def _check_digit(base: str) -> int:
    # 10 ≡ 1 (mod 9), so a number is congruent to the sum of its digits: Σ Pn·Qn ≡ Σ Pn + Σ(even n) Pn, that is
    # the base plus its even-position digits read as a number. Two int() parses in C, no loop in Python.
    return 9 - (int(base) + int(base[-2::-2])) % 9


def validate_corporate_number(value: object) -> str:
    """Return `value` if it is a valid corporate number; raise ValueError saying what is wrong otherwise."""
    if not isinstance(value, str):
        raise ValueError(
            "a corporate number is a string of 13 digits (a JSON number would lose leading zeros)"
        )
    if len(value) != 13 or not value.isascii() or not value.isdigit():
        raise ValueError("a corporate number is exactly 13 ASCII digits")
    expected = _check_digit(value[1:])
    if ord(value[0]) - 48 != expected:
        raise ValueError(f"corporate number check digit is {value[0]}, but the number requires {expected}")
    return value
