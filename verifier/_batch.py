"""Bulk verification for procurement: many claims, bounded concurrency, one report row per claim.

A claim is a credential (compact JWS), a credential id or URL, or a badge's bytes, with an optional vendor name
that must match the certified company. Nothing in a batch aborts it: a row that cannot be read or verified
becomes a row that says why. No HTTP here (the online verifier is passed in), so this module stays httpx-free.
"""

from __future__ import annotations

import codecs
import csv
import html
import io
import json
import re
import unicodedata
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from itertools import islice
from typing import Any, Protocol

from verifier._badge import BadgeError, extract_badge
from verifier._json import loads
from verifier._result import Verdict, VerificationResult
from verifier._trust import TrustStore
from verifier._verify import DEFAULT_MAX_CLOCK_SKEW, verify

ERROR = "error"  # the verdict of a row that could not be read at all
MAX_CLAIMS = 100_000
MAX_FIELD_CHARS = 2 * 1024 * 1024  # a badge-free row: a JWT (1 MiB) with room to spare
_SHOWN = 120


class ClaimVerifier(Protocol):
    """What verify_batch needs: `OnlineVerifier` is one."""

    def verify(self, claim: str | bytes, *, now: datetime | None = None) -> VerificationResult: ...


@dataclass(frozen=True, slots=True)
class Claim:
    """One row of a batch: what is claimed (a JWS, an id or URL, or badge bytes), and by which vendor."""

    claim: str | bytes
    vendor: str | None = None
    line: int = 0
    error: str | None = None  # the row could not be read: the reason
    source: str | None = None  # the file the row named, when `claim` is that file's bytes: shown in reports


@dataclass(frozen=True, slots=True)
class BatchRow:
    """The answer for one claim. `verdict` is valid | invalid | indeterminate, or error for an unreadable row."""

    line: int
    claim: str
    vendor: str | None
    verdict: str
    reason: str
    company: str | None = None
    level: str | None = None
    valid_until: str | None = None
    vendor_match: bool | None = None
    result: VerificationResult | None = field(default=None, repr=False, compare=False)

    def to_dict(self) -> dict[str, Any]:
        return {
            "line": self.line,
            "claim": self.claim,
            "vendor": self.vendor,
            "verdict": self.verdict,
            "reason": self.reason,
            "company": self.company,
            "level": self.level,
            "validUntil": self.valid_until,
            "vendorMatch": self.vendor_match,
        }


# -- reading claims ----------------------------------------------------------------------------------------------
_CLAIM_KEYS = ("claim", "credential", "id", "url", "jwt", "token", "badge")
_VENDOR_KEYS = ("vendor", "vendor_name", "company", "name")
_MEMBER_ERROR = (
    'needs a "claim" member (a credential, id or URL, as a string; "credential", "id", "url", "jwt", "token" '
    'or "badge" also work) and, if any, a string "vendor"'
)


_NOT_UTF8_HINT = "if Japanese Excel saved it (Shift_JIS), add --encoding cp932, or save it as 'CSV UTF-8'"


def decode_claims(data: bytes, encoding: str | None = None) -> str:
    """The text of a claims file: UTF-8 (with or without a BOM), or exactly `encoding` when one is named.

    Decoded strictly, never with replacement characters and never by guessing: a vendor name read wrong turns
    an honest vendor's row `invalid`, and a guess is often wrong without a sign (Windows-1252 "Crédit" is valid
    Shift_JIS, "Cr馘it"). So anything that is not UTF-8 is refused with what to do, unless the caller names the
    encoding (`aigov verify-batch --encoding cp932` for Japanese Excel's "CSV"). ValueError for an unknown or
    non-text encoding name and for bytes that do not decode, naming the first bad byte's offset.
    """
    if encoding is None:
        if data.startswith((b"\xff\xfe", b"\xfe\xff")):
            raise ValueError(
                "the file is UTF-16 (Excel's 'Unicode text'): save it as 'CSV UTF-8', or add --encoding utf-16"
            )
        name, hint = "utf-8-sig", _NOT_UTF8_HINT
    else:
        name, hint = check_encoding(encoding), "name the encoding it was saved in, or save it as 'CSV UTF-8'"
    what = "UTF-8" if encoding is None else encoding[:_SHOWN]
    try:
        text = data.decode(name)
    except UnicodeDecodeError as e:
        # utf-8-sig counts from after a byte order mark: the offset in the file is what a person looks for.
        offset = e.start + len(data) - len(e.object)
        raise ValueError(f"not {what} (byte 0x{data[offset]:02x} at offset {offset:,}): {hint}") from None
    except UnicodeError as e:  # a codec that fails without saying where
        raise ValueError(f"not {what} ({e}): {hint}") from None
    if "\x00" in text:
        raise ValueError(
            f"holds NUL characters (UTF-16 read as {encoding or 'UTF-8'}?): save it as 'CSV UTF-8'"
        )
    return text.removeprefix("\ufeff")


# Text codecs that are not how a spreadsheet saves a file: escapes would rewrite what a row says.
_NOT_FILE_ENCODINGS = frozenset({"undefined", "idna", "punycode", "unicode-escape", "raw-unicode-escape"})


def check_encoding(name: str) -> str:
    """`name` as Python's codec name if it is a text encoding (cp932, cp1252, shift_jis, utf-16...); else
    ValueError (an unknown name, or a bytes-to-bytes codec such as base64 or zlib)."""
    try:
        info = codecs.lookup(name)
    except (LookupError, ValueError):
        raise ValueError(f"unknown encoding {name[:_SHOWN]!r} (for example: utf-8, cp932, cp1252)") from None
    if not getattr(info, "_is_text_encoding", True) or info.name in _NOT_FILE_ENCODINGS:
        raise ValueError(f"{name[:_SHOWN]!r} is not an encoding files are saved in")
    return info.name


def read_claims(data: bytes | str, *, fmt: str = "auto", encoding: str | None = None) -> list[Claim]:
    """Claims from CSV (a header row naming a `claim` column and optionally `vendor`; or one or two columns
    without a header) or JSON Lines (`{"claim": ..., "vendor": ...}` or a JSON string per line).

    `data` is text, or bytes decoded by `decode_claims`: UTF-8 unless `encoding` names another (e.g. "cp932"
    for Japanese Excel's "CSV"); ValueError if it does not decode. A line that cannot be read becomes a Claim
    with `error` set, so the batch reports it and goes on. Rows are read one at a time and reading stops at the
    first claim over MAX_CLAIMS (ValueError): millions of lines never become millions of objects.
    """
    text = decode_claims(data, encoding) if isinstance(data, bytes) else data.removeprefix("\ufeff")
    if fmt == "auto":
        first = next((line.strip() for line in _lines(text) if line.strip()), "")
        fmt = "jsonl" if first.startswith(("{", '"')) else "csv"
    rows = _read_jsonl(text) if fmt == "jsonl" else _read_csv(text)
    claims = list(islice(rows, MAX_CLAIMS + 1))
    if len(claims) > MAX_CLAIMS:
        raise ValueError(
            f"over the limit of {MAX_CLAIMS:,} claims per batch: claim {MAX_CLAIMS + 1:,} is on line "
            f"{claims[-1].line:,}; split the file there"
        )
    return claims


def _lines(text: str) -> Iterator[str]:
    """The lines of `text` with their ends, one at a time, split at \\r\\n, \\r or \\n as
    `io.StringIO(text, newline="")` splits them (what `csv` expects), without copying the whole text."""
    start, size = 0, len(text)
    newline = text.find("\n")
    while start < size:
        if 0 <= newline < start:
            newline = text.find("\n", start)
        stop = newline if newline >= 0 else size
        cr = text.find("\r", start, stop)  # only up to the next newline: linear, not quadratic
        if 0 <= cr != newline - 1:
            stop = cr  # a \r not followed by \n ends the line too
        end = min(stop + 1, size)
        yield text[start:end]
        start = end


def _read_jsonl(text: str) -> Iterator[Claim]:
    for number, line in enumerate(_lines(text), 1):
        if not line.strip():
            continue
        try:
            value = loads(line.encode("utf-8"), "line")
        except ValueError as e:
            yield Claim("", line=number, error=f"not JSON: {e}")
            continue
        if isinstance(value, str):
            yield _claim(value, None, number)
        elif isinstance(value, dict):
            found = next((value[k] for k in _CLAIM_KEYS if k in value), None)
            vendor = next((value[k] for k in _VENDOR_KEYS if k in value), None)
            if not isinstance(found, str) or (vendor is not None and not isinstance(vendor, str)):
                yield Claim("", line=number, error=_MEMBER_ERROR)
            else:
                yield _claim(found, vendor, number)
        else:
            yield Claim(
                "", line=number, error=f"a line must be a JSON object or string, not {type(value).__name__}"
            )


def _read_csv(text: str) -> Iterator[Claim]:
    csv.field_size_limit(MAX_FIELD_CHARS)
    rows = csv.reader(_lines(text))
    first = True
    claim_col, vendor_col = 0, 1
    try:
        for row in rows:
            number = rows.line_num
            if not any(cell.strip() for cell in row):
                continue
            if first:
                first = False
                if _is_header(row):
                    header = [cell.strip().lower() for cell in row]
                    claim_col = next(i for i, h in enumerate(header) if h in _CLAIM_KEYS)
                    vendor_col = next((i for i, h in enumerate(header) if h in _VENDOR_KEYS), -1)
                    continue
            if claim_col >= len(row):
                yield Claim("", line=number, error="the row has no claim column")
                continue
            vendor = (
                row[vendor_col].strip() if 0 <= vendor_col < len(row) and row[vendor_col].strip() else None
            )
            yield _claim(row[claim_col], vendor, number)
    except csv.Error as e:
        yield Claim("", line=rows.line_num, error=f"unreadable CSV: {e}; the rest of the file was not read")


_UUID = re.compile(
    r"(urn:uuid:)?[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}", re.IGNORECASE
)


def _is_header(row: Sequence[str]) -> bool:
    """Whether the first row names the columns. It must name a claim column, and none of its cells may look like
    a claim (a compact JWS, a credential id or URL, a badge or token file): a header-less row whose vendor is
    literally "ID", "Token" or "Badge" is data, while a header may still carry columns of its own ("No.")."""
    cells = [cell.strip() for cell in row]
    return any(cell.lower() in _CLAIM_KEYS for cell in cells) and not any(
        _is_jws(cell)
        or "://" in cell
        or _UUID.fullmatch(cell)
        or cell.lower().endswith((".svg", ".png", ".jwt"))
        for cell in cells
    )


def _claim(value: str, vendor: str | None, line: int) -> Claim:
    value = value.strip()
    if not value:
        return Claim("", vendor, line, "the claim is empty")
    return Claim(value, vendor, line)


# -- vendor names ------------------------------------------------------------------------------------------------
# Corporate forms, Japanese and English, that vendors drop or add at will; removed before comparing.
_JA_FORMS = ("株式会社", "有限会社", "合同会社", "合資会社", "合名会社", "(株)", "(有)", "(同)")
_EN_FORMS = frozenset(
    {
        "co",
        "ltd",
        "limited",
        "inc",
        "incorporated",
        "corp",
        "corporation",
        "company",
        "kk",
        "k.k",
        "gk",
        "llc",
        "plc",
    }
)
_PUNCTUATION = re.compile(r"[\s.,、。・'\"`()\uff08\uff09\[\]&/-]+")  # fullwidth parentheses too


def normalize_company(name: str) -> str:
    """A vendor or company name reduced for comparison: NFKC, case-folded, corporate forms and punctuation gone.

    "アクメ株式会社", "ｱｸﾒ(株)" and "アクメ" agree; so do "ACME Corp.", "Acme Co., Ltd." and "ACME K.K.".
    """
    text = unicodedata.normalize("NFKC", name).casefold()
    for form in _JA_FORMS:
        text = text.replace(form, " ")
    words = [w for w in _PUNCTUATION.split(text.replace("k.k.", " kk ")) if w]
    while words and words[-1] in _EN_FORMS:
        words.pop()
    return "".join(words)


def vendor_matches(vendor: str, names: Iterable[str]) -> bool:
    wanted = normalize_company(vendor)
    return bool(wanted) and any(normalize_company(n) == wanted for n in names)


# -- verifying ---------------------------------------------------------------------------------------------------
def _is_jws(claim: str | bytes) -> bool:
    text = claim.strip() if isinstance(claim, bytes) else claim.strip().encode("utf-8", "replace")
    return text.count(b".") == 2 and text[:2] == b"ey"


def _is_badge(data: bytes) -> bool:
    return data[:8] == b"\x89PNG\r\n\x1a\n" or b"<svg" in data[:4096]


class _Offline:
    """Offline verification behind the ClaimVerifier interface: tokens only, status from the store's snapshots."""

    def __init__(self, trust: TrustStore, skew: timedelta) -> None:
        self._trust = trust
        self._skew = skew

    def verify(self, claim: str | bytes, *, now: datetime | None = None) -> VerificationResult:
        return verify(claim, self._trust, now=now or datetime.now(UTC), max_clock_skew=self._skew)


def verify_claim(
    claim: Claim, verifier: ClaimVerifier | TrustStore, *, now: datetime | None = None
) -> BatchRow:
    """One row: the claim verified (never raises for a bad claim)."""
    shown = _show(claim.source or claim.claim)
    if claim.error is not None:
        return BatchRow(claim.line, shown, claim.vendor, ERROR, claim.error)
    value = claim.claim
    if isinstance(value, bytes) and _is_badge(value):
        try:
            value = extract_badge(value).token
        except BadgeError as e:
            return BatchRow(claim.line, shown, claim.vendor, ERROR, f"unreadable badge: {e}")
    if isinstance(verifier, TrustStore):
        if not _is_jws(value):
            return BatchRow(
                claim.line,
                shown,
                claim.vendor,
                ERROR,
                "not a compact JWS: credential ids and URLs need online verification (--registry)",
            )
        verifier = _Offline(verifier, DEFAULT_MAX_CLOCK_SKEW)
    result = verifier.verify(value, now=now)
    return _row(claim, shown, result)


def _member(parent: dict[str, Any], name: str) -> dict[str, Any]:
    value = parent.get(name)
    return value if isinstance(value, dict) else {}


def _row(claim: Claim, shown: str, result: VerificationResult) -> BatchRow:
    credential = result.credential or {}
    subject = _member(credential, "credentialSubject")
    names = _member(subject, "legalName")
    company_names = [n for n in (names.get("en"), names.get("ja")) if isinstance(n, str)]
    company = " / ".join(company_names) or None
    level = _member(subject, "certification").get("level")
    level_name = _member(subject, "achievement").get("name")
    level_text = level
    if isinstance(level, str) and isinstance(level_name, str):
        # "Level 3 — Assured" already says 3: never "3 — Level 3 — Assured".
        mentioned = re.search(rf"(?<![0-9A-Za-z]){re.escape(level)}(?![0-9A-Za-z])", level_name)
        level_text = level_name if mentioned else f"{level} — {level_name}"
    valid_until = credential.get("validUntil") if isinstance(credential.get("validUntil"), str) else None
    verdict, reason = result.verdict.value, result.summary
    match = None
    if claim.vendor is not None and result.credential is not None:
        match = vendor_matches(claim.vendor, company_names)
        if not match and result.verdict is Verdict.VALID:
            verdict = Verdict.INVALID.value
            reason = f"the certificate is valid but certifies {company or 'an unnamed company'}, not {claim.vendor!r}"
    return BatchRow(
        claim.line,
        shown,
        claim.vendor,
        verdict,
        reason,
        company,
        level_text if isinstance(level_text, str) else None,
        valid_until,
        match,
        result,
    )


def verify_batch(
    claims: Iterable[Claim | str | bytes],
    verifier: ClaimVerifier | TrustStore,
    *,
    concurrency: int = 8,
    progress: Callable[[int, int], None] | None = None,
    now: datetime | None = None,
) -> list[BatchRow]:
    """Verify every claim with at most `concurrency` at a time; rows in the order of `claims`.

    `verifier` is an OnlineVerifier (ids, URLs and tokens; status lists fetched once each) or a TrustStore
    (tokens only, offline). `progress(done, total)` is called as rows complete. A claim that fails in any way
    gives a row that says why; the batch never aborts.
    """
    items = [c if isinstance(c, Claim) else Claim(c, line=n) for n, c in enumerate(claims, 1)]
    total = len(items)
    rows: list[BatchRow | None] = [None] * total

    def one(index: int) -> BatchRow:
        item = items[index]
        try:
            return verify_claim(item, verifier, now=now)
        except Exception as e:  # noqa: BLE001 - one claim must never abort the batch
            return BatchRow(
                item.line,
                _show(item.source or item.claim),
                item.vendor,
                ERROR,
                f"internal error: {type(e).__name__}: {e}",
            )

    if concurrency <= 1 or total <= 1:
        for index in range(total):
            rows[index] = one(index)
            if progress:
                progress(index + 1, total)
    else:
        with ThreadPoolExecutor(max_workers=concurrency) as pool:
            futures = {pool.submit(one, index): index for index in range(total)}
            for done, future in enumerate(as_completed(futures), 1):
                rows[futures[future]] = future.result()
                if progress:
                    progress(done, total)
    return [row for row in rows if row is not None]


def _show(claim: str | bytes) -> str:
    if isinstance(claim, bytes):
        return f"({len(claim):,} bytes)"  # a file's bytes without its name (`Claim.source` names it)
    return claim if len(claim) <= _SHOWN else claim[: _SHOWN - 1] + "…"


# -- reports -----------------------------------------------------------------------------------------------------
REPORT_COLUMNS = (
    "line",
    "claim",
    "vendor",
    "verdict",
    "reason",
    "company",
    "level",
    "validUntil",
    "vendorMatch",
)
_FORMULA = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: object) -> str:
    text = "" if value is None else str(value).lower() if isinstance(value, bool) else str(value)
    # A spreadsheet runs cells that start like formulas; a hostile claim must not become one (OWASP CSV injection).
    return "'" + text if text.startswith(_FORMULA) else text


def report_csv(rows: Sequence[BatchRow]) -> str:
    """One line per claim, with a header; cells that a spreadsheet would run are prefixed with '."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(REPORT_COLUMNS)
    for row in rows:
        data = row.to_dict()
        writer.writerow([_cell(data[c]) for c in REPORT_COLUMNS])
    return out.getvalue()


def report_json(rows: Sequence[BatchRow], *, details: bool = False) -> str:
    """`{"summary": {...}, "rows": [...]}`; with `details`, each row carries its full verification result."""
    items = []
    for row in rows:
        data = row.to_dict()
        if details and row.result is not None:
            data["checks"] = [c.to_dict() for c in row.result.checks]
        items.append(data)
    return json.dumps({"summary": summarize(rows), "rows": items}, ensure_ascii=False, indent=2)


def summarize(rows: Sequence[BatchRow]) -> dict[str, int]:
    counts = {"total": len(rows), "valid": 0, "invalid": 0, "indeterminate": 0, ERROR: 0}
    for row in rows:
        counts[row.verdict] = counts.get(row.verdict, 0) + 1
    return counts


_STYLE = """
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI","Hiragino Sans","Noto Sans JP",sans-serif;margin:2rem;color:#1a1a1a}
h1{font-size:1.4rem}table{border-collapse:collapse;width:100%}th,td{border:1px solid #ccc;padding:.35rem .5rem;
text-align:left;vertical-align:top}th{background:#f3f3f3}td.claim{font-family:ui-monospace,monospace;
word-break:break-all;max-width:22rem}.valid{background:#e6f4ea}.invalid{background:#fce8e6}
.indeterminate{background:#fef7e0}.error{background:#eee}.verdict{font-weight:600;white-space:nowrap}
"""


def report_html(
    rows: Sequence[BatchRow],
    *,
    title: str = "Certificate verification report",
    generated: datetime | None = None,
) -> str:
    """One self-contained page (inline style, no script, no external resource); every value escaped."""
    counts = summarize(rows)
    when = (generated or datetime.now(UTC)).astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    e = html.escape
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">",
        f"<title>{e(title)}</title><style>{_STYLE}</style></head><body>",
        f"<h1>{e(title)}</h1>",
        f"<p>{counts['total']} claims: {counts['valid']} valid, {counts['invalid']} invalid, "
        f"{counts['indeterminate']} indeterminate, {counts[ERROR]} unreadable. Generated {e(when)}.</p>",
        "<table><thead><tr><th>#</th><th>Claim</th><th>Vendor</th><th>Verdict</th><th>Reason</th>"
        "<th>Company</th><th>Level</th><th>Valid until</th></tr></thead><tbody>",
    ]
    for row in rows:
        match = "" if row.vendor_match is None else (" ✔" if row.vendor_match else " ✘")
        parts.append(
            f'<tr class="{e(row.verdict)}"><td>{row.line}</td><td class="claim">{e(row.claim)}</td>'
            f'<td>{e(row.vendor or "")}{match}</td><td class="verdict">{e(row.verdict.upper())}</td>'
            f"<td>{e(row.reason)}</td><td>{e(row.company or '')}</td><td>{e(row.level or '')}</td>"
            f"<td>{e(row.valid_until or '')}</td></tr>"
        )
    parts.append("</tbody></table></body></html>")
    return "\n".join(parts)
