"""The whole registry (or a filtered part) as CSV or JSON Lines, streamed in constant memory.

`export_stream` walks the credentials table by primary key in chunks (keyset pagination, `EXPORT_CHUNK`
rows), each read in its own short transaction on a fresh session that is closed before the chunk's bytes
are yielded. Why not one read transaction for the whole export: the download runs at the client's pace, and a
transaction held that long pins a pooled connection, holds back PostgreSQL's vacuum horizon, and on SQLite
stops WAL checkpoints so the WAL grows for as long as the slowest client reads. What the per-chunk walk gives
up is a single snapshot; what it keeps, because it walks by `id`, which never changes: every certificate
that existed when the export began appears exactly once, in a state no older than the export's start.
Certificates issued during the export may or may not appear. For an exact view, the response names the last
event committed before the export began (`Aigov-Event-Seq`): replaying the event feed after it brings the
export up to date.

CSV (RFC 4180): a header row, CRLF line ends, fields quoted when they need it, UTF-8 — by default with a byte
order mark, because Excel (notably in Japan, where it otherwise assumes Shift_JIS) decodes UTF-8 CSV
correctly only with one; `bom=false` leaves it out. Cells that a spreadsheet would run as a formula (starting
with `=`, `+`, `-`, `@`, tab or CR) get a leading `'` (OWASP "CSV injection"); JSON Lines is never altered and
never has a BOM (RFC 8259 §8.1).
"""

from __future__ import annotations

import csv
import json
from collections.abc import Callable, Iterator
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlmodel import Session

from registry.schemas import CredentialSummary
from registry.search import CredentialFilters, CredentialRecord, credential_chunk

EXPORT_CHUNK = 500
BOM = "\ufeff"
# The CSV columns, in order: the JSON member names of CredentialSummary.
CSV_COLUMNS = tuple(field.alias or name for name, field in CredentialSummary.model_fields.items())
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


class ExportFormat(StrEnum):
    CSV = "csv"
    JSONL = "jsonl"


MEDIA_TYPES = {
    ExportFormat.CSV: "text/csv; charset=utf-8; header=present",  # RFC 4180 §3, RFC 7111
    ExportFormat.JSONL: "application/jsonl",  # https://jsonlines.org/
}


def filename(fmt: ExportFormat, now: datetime) -> str:
    """`aigov-registry-<UTC date>.<format>`, for Content-Disposition."""
    return f"aigov-registry-{now.date().isoformat()}.{fmt.value}"


def export_stream(
    *,
    sessions: Callable[[], Session],
    filters: CredentialFilters,
    now: datetime,
    public_url: str,
    fmt: ExportFormat,
    bom: bool = True,
    chunk_size: int = EXPORT_CHUNK,
) -> Iterator[bytes]:
    """The encoded export, one `bytes` per chunk of rows (the CSV header comes first, alone).

    `sessions` makes a new session; one is opened and closed per chunk, so nothing is held between yields.
    """
    if fmt is ExportFormat.CSV:
        yield ((BOM if bom else "") + ",".join(CSV_COLUMNS) + "\r\n").encode("utf-8")
    after = None
    while True:
        with sessions() as session:
            records = credential_chunk(
                session=session, filters=filters, now=now, limit=chunk_size, after=after
            )
        if not records:
            return
        after, last = records[-1].id, len(records) < chunk_size
        encoded = _encode(records, fmt, public_url)
        # Nothing of a chunk stays in the generator while the client reads it, nor while the next is built.
        del records
        yield encoded
        del encoded
        if last:
            return


def _encode(records: list[CredentialRecord], fmt: ExportFormat, public_url: str) -> bytes:
    """A chunk's lines, encoded row by row (no model per row is held to the end of the chunk)."""
    lines = _Utf8Lines()
    if fmt is ExportFormat.CSV:
        writer = csv.writer(lines, lineterminator="\r\n")
        for record in records:
            writer.writerow(_csv_row(CredentialSummary.of(record, public_url)))
    else:
        for record in records:
            lines.write(CredentialSummary.of(record, public_url).model_dump_json() + "\n")
    return b"".join(lines.parts)


class _Utf8Lines:
    """A text sink (for csv.writer) that keeps UTF-8 bytes: an io.StringIO holding Japanese text costs four
    bytes per character, then two more for getvalue(), before encoding — eight times the chunk's size."""

    def __init__(self) -> None:
        self.parts: list[bytes] = []

    def write(self, text: str) -> int:
        self.parts.append(text.encode("utf-8"))
        return len(text)


def _csv_row(summary: CredentialSummary) -> list[str]:
    values = summary.model_dump(mode="json")
    return [_cell(values[column]) for column in CSV_COLUMNS]


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        return ";".join(_cell(item) for item in value)
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    text = str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text
