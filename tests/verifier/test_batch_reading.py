"""Reading a claims file (verifier.read_claims): rows are read one at a time and no further than the per-batch
limit, and a header-less file's first row is not mistaken for a header."""

from __future__ import annotations

import csv
import io
import tracemalloc

import pytest

from verifier import read_claims
from verifier._batch import MAX_CLAIMS

JWS_A = "eyJhbGciOiJFZERTQSJ9.eyJhIjoxfQ.AAAA"
JWS_B = "eyJhbGciOiJFZERTQSJ9.eyJiIjoyfQ.BBBB"
ID = "3f2c9a4e-0000-4000-8000-000000000000"


# -- the limit -----------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("row", [b"x\n", b'"x"\n'], ids=["csv", "jsonl"])
def test_reading_stops_at_the_first_claim_over_the_limit(row: bytes) -> None:
    """Ten times the limit: the rows past the first one over it are never made into lines or claims."""
    data = row * (10 * MAX_CLAIMS)
    tracemalloc.start()
    try:
        with pytest.raises(ValueError, match="over the limit") as info:
            read_claims(data)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert str(info.value) == (
        f"over the limit of {MAX_CLAIMS:,} claims per batch: claim {MAX_CLAIMS + 1:,} is on line "
        f"{MAX_CLAIMS + 1:,}; split the file there"
    )
    # Reading up to claim 100,001 peaks at about 14 MB; reading every row first, as before, at 110 to 165 MB.
    assert peak < 40 * 1024 * 1024, f"{peak:,} bytes"


def test_the_limit_itself_is_allowed() -> None:
    claims = read_claims(b"claim\n" + b"x\n" * MAX_CLAIMS + b"\n\n")
    assert len(claims) == MAX_CLAIMS
    assert claims[-1].line == MAX_CLAIMS + 1


@pytest.mark.parametrize(
    "text",
    [
        "",
        "a",
        "a\n",
        "a\r\nb",
        "a\rb\r",
        "\r\n\r\n",
        "a\n\rb\r\r\n",
        "x\u2028y\n",
        "\r",
        "\n\r",
        '"a\rb",c\r\nd',
    ],
)
def test_line_ends_are_read_as_the_csv_module_reads_them(text: str) -> None:
    reader = csv.reader(io.StringIO(text, newline=""))
    expected = [(row[0], reader.line_num) for row in reader if row]
    assert [(c.claim, c.line) for c in read_claims(text, fmt="csv")] == expected


def test_line_numbers_and_line_ends_as_before() -> None:
    claims = read_claims(f'claim,vendor\r\n{JWS_A},ACME\r\r\n{JWS_B},"Two\nLines"\n{ID}\rx\n')
    assert [(c.claim, c.vendor, c.line) for c in claims] == [
        (JWS_A, "ACME", 2),
        (JWS_B, "Two\nLines", 5),
        (ID, None, 6),
        ("x", None, 7),
    ]
    jsonl = read_claims(f'"{JWS_A}"\r\n\n{{"claim": "{JWS_B}", "vendor": "A\\u2028B"}}\n')
    assert [(c.claim, c.vendor, c.line) for c in jsonl] == [(JWS_A, None, 1), (JWS_B, "A\u2028B", 3)]


# -- the header ----------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("vendor", ["ID", "Token", "Badge", "credential", " url "])
@pytest.mark.parametrize("claim", [JWS_A, ID, "https://registry.example/credentials/1", "badges/b.svg"])
def test_a_header_less_first_row_whose_vendor_is_a_column_name_is_data(claim: str, vendor: str) -> None:
    claims = read_claims(f"{claim},{vendor}\n{JWS_B},ACME KK\n".encode())
    assert [(c.claim, c.vendor, c.line) for c in claims] == [
        (claim, vendor.strip(), 1),
        (JWS_B, "ACME KK", 2),
    ]


@pytest.mark.parametrize(
    ("header", "row", "expected"),
    [
        ("claim,vendor", f"{JWS_A},ACME", (JWS_A, "ACME")),
        ("Claim", JWS_A, (JWS_A, None)),
        ("vendor,claim", f"ACME,{JWS_A}", (JWS_A, "ACME")),
        ("Company,URL", f"ACME,{JWS_A}", (JWS_A, "ACME")),
        ("No.,ID,Vendor,Notes", f"1,{ID},ACME,checked", (ID, "ACME")),  # columns of its own
        ("\ufeffbadge , name", "b.svg,ACME", ("b.svg", "ACME")),
    ],
)
def test_a_real_header_is_still_a_header(header: str, row: str, expected: tuple[str, str | None]) -> None:
    [claim] = read_claims(f"{header}\n{row}\n")
    assert (claim.claim, claim.vendor, claim.line) == (*expected, 2)
