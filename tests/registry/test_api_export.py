"""GET /api/v1/export: CSV and JSON Lines, the same filters as the search, streamed in constant memory."""

from __future__ import annotations

import csv
import io
import json
import math
import tracemalloc
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import httpx
import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from sqlmodel import Session

from issuer import CertificationDecision
from registry import lifecycle
from registry.export import CSV_COLUMNS, ExportFormat, export_stream
from registry.lifecycle import Context
from registry.models import Credential, ReasonCode
from registry.search import CredentialFilters

if TYPE_CHECKING:
    from conftest import Registry

URL = "/api/v1/export"
INVALID_REQUEST = "urn:aigov:problem:invalid-request"
BOM = "\ufeff".encode()


def assert_problem(response: httpx.Response, field: str | None = None) -> dict[str, Any]:
    assert response.status_code == 400, response.text
    assert response.headers["content-type"] == "application/problem+json"
    problem: dict[str, Any] = response.json()
    assert (problem["type"], problem["status"]) == (INVALID_REQUEST, 400)
    assert "Traceback" not in response.text
    if field is not None:
        assert problem["errors"][0]["field"] == field
    return problem


def decisions(registry: Registry, count: int, **overrides: Any) -> list[CertificationDecision]:
    return [CertificationDecision.model_validate(registry.decision(**overrides)) for _ in range(count)]


def issue(registry: Registry, ctx: Context, count: int = 1, **overrides: Any) -> list[Credential]:
    issued: list[Credential] = []
    for start in range(0, count, 1000):
        with registry.session() as session:
            batch = decisions(registry, min(1000, count - start), **overrides)
            issued += lifecycle.issue_batch(
                session=session, ctx=ctx, body=registry.acme, decisions=batch, actor="test"
            ).credentials
    return issued


def suspend(registry: Registry, ctx: Context, credential: Credential) -> None:
    with registry.session() as session:
        lifecycle.suspend(
            session=session,
            ctx=ctx,
            body=registry.acme,
            credential_id=credential.id,
            actor="test",
            reason_code=ReasonCode.OTHER,
        )


def csv_rows(content: bytes) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(content.decode("utf-8-sig"), newline="")))


# -- formats --------------------------------------------------------------------------------------------------

AWKWARD_SCOPE = 'AI systems of "Retail", Banking;\nand its call centre\r\n(二拠点)'


def test_csv_export(client: TestClient, registry: Registry) -> None:
    ctx = registry.context()
    [plain] = issue(registry, ctx)
    [awkward] = issue(
        registry,
        ctx,
        subject={"legalName": {"en": '=HYPERLINK("http://evil")', "ja": "株式会社「テスト」, 東京"}},
        scope=AWKWARD_SCOPE,
    )
    response = client.get(URL, params={"format": "csv"})
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/csv; charset=utf-8; header=present"
    assert response.headers["content-disposition"] == 'attachment; filename="aigov-registry-2026-11-01.csv"'
    assert response.headers["aigov-event-seq"] == str(registry.setup_events + 2)
    assert response.headers["access-control-allow-origin"] == "*"
    assert response.content.startswith(BOM + b"id,url,certificateNumber,")  # Excel's UTF-8 signal
    assert b"\r\n" in response.content
    rows = {row["id"]: row for row in csv_rows(response.content)}
    assert list(next(iter(rows.values()))) == list(CSV_COLUMNS)
    assert set(rows) == {str(plain.id), str(awkward.id)}
    row = rows[str(awkward.id)]
    assert row["scope"] == AWKWARD_SCOPE  # quoted: commas, quotes and line breaks survive
    assert row["legalNameJa"] == "株式会社「テスト」, 東京"
    assert row["legalNameEn"] == '\'=HYPERLINK("http://evil")'  # never a formula in a spreadsheet
    assert rows[str(plain.id)]["aiRoles"] == "ai_developer;ai_provider"
    assert rows[str(plain.id)]["corporateNumber"] == "7000012050002"
    assert rows[str(plain.id)]["status"] == "active"
    assert rows[str(plain.id)]["statusReasonCode"] == ""
    assert rows[str(plain.id)]["validUntil"] == plain.valid_until.isoformat().replace("+00:00", "Z")

    assert client.get(URL).content == response.content  # csv is the default
    without = client.get(URL, params={"format": "csv", "bom": "false"})
    assert without.content == response.content[len(BOM) :]


def test_jsonl_export_matches_the_search(client: TestClient, registry: Registry) -> None:
    ctx = registry.context()
    issue(registry, ctx, 3)
    issue(registry, ctx, scope=AWKWARD_SCOPE)
    response = client.get(URL, params={"format": "jsonl"})
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/jsonl"
    assert response.headers["content-disposition"] == 'attachment; filename="aigov-registry-2026-11-01.jsonl"'
    assert not response.content.startswith(BOM)
    assert response.content.endswith(b"\n")
    lines = response.content.decode("utf-8").split("\n")[:-1]
    assert len(lines) == 4  # a line break inside a value is escaped, never a new line
    exported = sorted((json.loads(line) for line in lines), key=lambda item: item["id"])
    searched = sorted(client.get("/api/v1/credentials").json()["items"], key=lambda item: item["id"])
    assert exported == searched


def test_filters_apply_to_the_export(client: TestClient, registry: Registry) -> None:
    ctx = registry.context()
    issued = issue(registry, ctx, 4)
    suspend(registry, ctx, issued[1])
    rows = csv_rows(client.get(URL, params={"status": "suspended"}).content)
    assert [row["id"] for row in rows] == [str(issued[1].id)]
    number = issued[2].certificate_number
    lines = client.get(URL, params={"format": "jsonl", "q": number}).content.splitlines()
    assert [json.loads(line)["certificateNumber"] for line in lines] == [number]
    empty = client.get(URL, params={"status": "expired"})
    assert empty.status_code == 200
    assert empty.content == BOM + (",".join(CSV_COLUMNS) + "\r\n").encode()
    assert client.get(URL, params={"status": "expired", "format": "jsonl"}).content == b""


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"format": "xml"}, "format"),
        ({"format": "CSV"}, "format"),
        ({"format": ""}, "format"),
        ({"format": "jsonl", "bom": "true"}, "bom"),
        ({"bom": "maybe"}, "bom"),
        ({"status": "gone"}, "status"),
        ({"level": "0"}, "level"),
        ({"valid_on": "2026-11-31"}, "valid_on"),
        ({"q": "%" * 201}, "q"),
        ({"limit": "10"}, "limit"),  # the export has no pages
        ({"cursor": "abc"}, "cursor"),
    ],
)
def test_bad_parameters_are_400_problems(client: TestClient, params: dict[str, str], field: str) -> None:
    assert_problem(client.get(URL, params=params), field)


# -- streaming in constant memory -----------------------------------------------------------------------------

N = 3_000
CHUNK = 100


def stream(registry: Registry, fmt: ExportFormat, chunk_size: int = CHUNK) -> Iterator[bytes]:
    return export_stream(
        sessions=lambda: Session(registry.engine),
        filters=CredentialFilters(),
        now=registry.clock(),
        public_url=registry.settings.public_url,
        fmt=fmt,
        chunk_size=chunk_size,
    )


def test_a_large_export_streams_in_constant_memory(client: TestClient, registry: Registry) -> None:
    """One test for the 3,000-certificate registry (issuing them is most of its time)."""
    ctx = registry.context()
    issued = issue(registry, ctx, N)
    ids = sorted(str(c.id) for c in issued)
    statements: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if "FROM credentials" in statement:
            statements.append(statement)

    sa.event.listen(registry.engine, "before_cursor_execute", count)
    try:
        # Incremental: the first rows are out after one query, long before the last chunk is read.
        chunks = stream(registry, ExportFormat.CSV)
        header = next(chunks)
        assert header.startswith(BOM + b"id,")
        assert statements == []
        first = next(chunks)
        assert len(statements) == 1
        assert first.count(b"\r\n") == CHUNK
        total = len(header) + len(first) + sum(len(chunk) for chunk in chunks)
        assert len(statements) == math.ceil(N / CHUNK) + (N % CHUNK == 0)  # the last one finds nothing

        # Constant memory: the peak while streaming is a fraction of the body, which holding every row, or
        # building the body, would exceed. (The run above warmed every cache.)
        tracemalloc.start()
        try:
            streamed = 0
            for chunk in stream(registry, ExportFormat.JSONL):
                streamed += len(chunk)
                del chunk
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
    finally:
        sa.event.remove(registry.engine, "before_cursor_execute", count)
    assert total > 1_000_000
    assert streamed > 1_000_000
    assert peak < streamed / 4, f"peak {peak:,} B for a {streamed:,} B export"

    # Every certificate exactly once, in id order, even when some change during the export: the walk is by
    # id, which never changes.
    chunks = stream(registry, ExportFormat.JSONL, chunk_size=1000)
    seen = [json.loads(line)["id"] for line in next(chunks).splitlines()]
    registry.clock.advance(minutes=1)
    ahead, behind = max(issued, key=lambda c: c.id), min(issued, key=lambda c: c.id)
    suspend(registry, ctx, ahead)
    suspend(registry, ctx, behind)
    for chunk in chunks:
        seen.extend(json.loads(line)["id"] for line in chunk.splitlines())
    assert seen == ids

    # Through HTTP, with the default chunk size.
    response = client.get(URL, params={"format": "csv"})
    assert response.status_code == 200
    assert response.headers["aigov-event-seq"] == str(registry.setup_events + N + 2)
    rows = csv_rows(response.content)
    assert [row["id"] for row in rows] == ids
    assert {row["status"] for row in rows if row["id"] in {str(ahead.id), str(behind.id)}} == {"suspended"}
