"""Japanese corporate numbers (法人番号): 13 digits whose first digit is a check digit.

National Tax Agency, "法人番号の指定等に関する省令" 第2条: check = 9 - (Σ Pn*Qn mod 9), where Pn is the n-th
digit of the 12-digit base number counted from the right and Qn is 1 for odd n and 2 for even n.
"""

from __future__ import annotations


def corporate_number_check_digit(base: str) -> int:
    """The check digit for a 12-digit base number."""
    # Summing ASCII codes of the odd positions from the right (Q=1) and the even ones (Q=2) is done in C;
    # the ASCII offset of '0' (48) is taken off once per digit.
    codes = base.encode("ascii")
    total = sum(codes[-1::-2]) + 2 * sum(codes[-2::-2]) - 48 * (len(codes[-1::-2]) + 2 * len(codes[-2::-2]))
    return 9 - total % 9


def validate_corporate_number(value: object) -> str:
    """Return `value` if it is a valid corporate number; raise ValueError saying what is wrong otherwise."""
    if not isinstance(value, str):
        raise ValueError(
            "a corporate number is a string of 13 digits (a JSON number would lose leading zeros)"
        )
    if len(value) != 13 or not value.isascii() or not value.isdigit():
        raise ValueError("a corporate number is exactly 13 ASCII digits")
    expected = corporate_number_check_digit(value[1:])
    if int(value[0]) != expected:
        raise ValueError(f"corporate number check digit is {value[0]}, but the number requires {expected}")
    return value
