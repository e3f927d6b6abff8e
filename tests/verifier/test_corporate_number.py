"""Japanese corporate numbers: the check digit agrees with the National Tax Agency's formula, written out."""

from __future__ import annotations

import random

import pytest

from verifier import corporate_number_check_digit, validate_corporate_number


def by_the_formula(base: str) -> int:
    """check = 9 - (Σ Pn·Qn mod 9), Pn the n-th digit from the right, Qn = 1 for odd n and 2 for even n."""
    total = sum(int(digit) * (1 if n % 2 else 2) for n, digit in enumerate(reversed(base), start=1))
    return 9 - total % 9


def test_the_check_digit_is_the_formula_for_every_kind_of_base() -> None:
    rng = random.Random(7)  # noqa: S311 - test data, not secrets
    bases = ["000000000000", "999999999999", "100000000000", "000000000001", "700001205000"]
    bases += ["".join(rng.choice("0123456789") for _ in range(12)) for _ in range(20_000)]
    for base in bases:
        assert corporate_number_check_digit(base) == by_the_formula(base), base
        number = f"{by_the_formula(base)}{base}"
        assert validate_corporate_number(number) == number


def test_the_national_tax_agency_example_passes() -> None:
    assert validate_corporate_number("7000012050002") == "7000012050002"  # the NTA's own published example


@pytest.mark.parametrize(
    "base",
    # Full-width digits pass str.isdigit(); an underscore passes int().
    ["", "12345678901", "1234567890123", "1234_5678901", "12345678901a", "\uff11" * 12],
)
def test_a_base_that_is_not_12_ascii_digits_is_refused(base: str) -> None:
    with pytest.raises(ValueError, match="exactly 12 ASCII digits"):
        corporate_number_check_digit(base)
