"""The name search index (migration 0004): same results as the plain substring scan, kept in sync by the
database, and safe against whatever text a client sends. On SQLite (FTS5 trigram) and PostgreSQL (pg_trgm).

The reference for "same results" is `search._substring_condition`, the meaning of a name query: run alone it
is the scan every query used before the index existed.
"""

from __future__ import annotations

import itertools
import logging
import shutil
import sqlite3
import uuid
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from sqlmodel import Session, col, select

from issuer import CertificationDecision
from registry import lifecycle, search
from registry.db import make_engine
from registry.models import Credential
from registry.search import MAX_INDEX_CANDIDATES, MIN_INDEXED_LENGTH, resolve_filters, search_credentials

if TYPE_CHECKING:
    from conftest import Registry

URL = "/api/v1/credentials"
_clones = itertools.count()
on_sqlite = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


def fw(ascii_text: str) -> str:
    """The same letters in full width (U+FF01..U+FF5E), as Japanese text often writes Latin names."""
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in ascii_text)


# Names that stress what the two paths might disagree on: case in and beyond ASCII (full-width, accented,
# Greek), Japanese in three scripts and half-width katakana, LIKE and FTS5 metacharacters, and the FTS5
# operators as words.
NAMES: list[tuple[str, str | None]] = [
    ("ACME Corp.", "アクメ株式会社"),
    ("Acme Robotics K.K.", "アクメロボティクス株式会社"),
    (fw("ACME Fullwidth") + " Ltd.", fw("ACME") + "全角株式会社"),
    (fw("acme lower") + " Ltd.", None),
    ("100% Pure Water Ltd.", "ピュアウォーター株式会社"),
    ("Snake_Case Systems", None),
    ('The "Quoted" Company', "「引用」株式会社"),
    ("Star*Power Inc.", "スター" + fw("*") + "パワー合同会社"),
    ("NEAR(Tech) OR Partners", "ニア・テック"),
    ("Minus-Sign - Holdings", "マイナス" + fw("-") + "ホールディングス"),
    ("Back\\Slash Ltd.", None),
    ("Émile Électricité SA", "エミール電気"),
    ("トヨタ Mobility Services", "トヨタモビリティサービス株式会社"),
    ("Toyota Tsusho Corporation", "豊田通商株式会社"),
    (fw("TOYOTA") + " Full Width", "トヨタ全角"),
    ("ｶﾀｶﾅ Half Width", "ｶﾀｶﾅ半角株式会社"),
    ("Σίγμα ΣΊΓΜΑ Greek", None),
    ("Mixed CASE cOmPaNy", "ひらがな　まぜこぜ"),
]
QUERIES = [
    *("acme", "ACME", "aCmE", fw("ACME"), fw("acme"), fw("Acme"), "acm", "ac", "a", fw("cme")),
    *("アクメ", "株式会社", "株式", "株", "トヨタ", "toyota", "TOYOTA", fw("TOYOTA"), fw("toyota")),
    *("100%", "%", "%%%", "_", "e_c", "___", '"Quoted"', '"', '""', '"""', "*", "Star*", "**"),
    *("NEAR(", "NEAR(Tech)", "near(tech) or", "OR", " OR ", "Tech) OR", "-", "Minus-", "- H", "--"),
    *("\\", "Back\\", "\\Sl", "émile", "ÉMILE", "Émile", "électricité", fw("EMILE"), "ｶﾀｶﾅ", "カタカナ"),
    *("σίγμα", "ΣΊΓΜΑ", "company", "COMPANY", "ひらがな", "　まぜ", "Holdings", "no such company"),
    *("AIGC-TEST", "ab" * 100, "株" * 200, "a:b", "{legal_name_en}: acme", "^acme", "acme*", "x OR y"),
]
HOSTILE = [
    *("NEAR(", "NEAR(a b, 2)", "*", "a*", '"', '"unterminated', "OR", "a OR b", "NOT x", "AND"),
    *("-", "-x", "^abc", "legal_name_en:acme", "{legal_name_en}:acme", "(((", ")", "+", ":", "'"),
    *("🤖🤖🤖", "e\u0301mile", "\u200b\u200b\u200b", "\u202eacme", "ｱｸﾒ", "\\\\\\", "%_%_%", "x" * 200),
]


def _decisions(registry: Registry) -> list[CertificationDecision]:
    decisions = []
    for en, ja in NAMES:
        legal_name = {"en": en, **({"ja": ja} if ja else {})}
        decisions.append(
            CertificationDecision.model_validate(registry.decision(subject={"legalName": legal_name}))
        )
    return decisions


@pytest.fixture
def named(registry: Registry) -> list[Credential]:
    """One certificate per name of NAMES, issued together; later ones updated a little later."""
    with registry.session() as session:
        issued = lifecycle.issue_batch(
            session=session,
            ctx=registry.context(),
            body=registry.acme,
            decisions=_decisions(registry),
            actor="t",
        ).credentials
    return list(issued)


def expected(session: Session, q: str) -> list[str]:
    """What a name query selects by the plain scan, in the search order."""
    statement = (
        select(Credential.certificate_number)
        .where(search._substring_condition(q))
        .order_by(col(Credential.updated_at), col(Credential.id))
    )
    return list(session.exec(statement).all())


def searched(registry: Registry, q: str, *, limit: int = 200) -> list[str]:
    """What search_credentials returns for `q`, every page, following the cursor."""
    numbers: list[str] = []
    after = None
    with registry.session() as session:
        filters = resolve_filters(session=session, q=q)
        while True:
            page = search_credentials(
                session=session, filters=filters, now=registry.clock(), limit=limit, after=after
            )
            numbers += [record.certificate_number for record in page.items]
            if not page.more:
                return numbers
            after = page.items[-1].key


def uses_index(registry: Registry, q: str) -> bool:
    with registry.session() as session:
        return search._indexed_candidates(q, session) is not None


def clone(registry: Registry, template: Credential, names: list[tuple[str, str | None]]) -> list[uuid.UUID]:
    """Rows copied from `template` with other names and ids, inserted as SQL (no events, no signing): bulk
    data for the index, and rows that can be deleted."""
    columns = {column.name: getattr(template, column.name) for column in Credential.__table__.columns}  # type: ignore[attr-defined]
    ids = []
    rows = []
    for i, (en, ja) in enumerate(names):
        ids.append(uuid.uuid4())
        rows.append(
            {
                **columns,
                "id": ids[-1],
                "certificate_number": f"AIGC-CLONE-{next(_clones):06d}",
                "legal_name_en": en,
                "legal_name_ja": ja,
                "corporate_number": None,
                "supersedes_id": None,
                "superseded_by_id": None,
                # A spread of update times, not in insertion order, so that the search order is exercised.
                "updated_at": template.updated_at + timedelta(seconds=(i * 7919) % 10007),
            }
        )
    with registry.engine.begin() as connection:
        connection.execute(sa.insert(Credential.__table__), rows)  # type: ignore[attr-defined]
    return ids


def fts_integrity_check(registry: Registry) -> None:
    """SQLite only: FTS5's 'integrity-check' compares the index with the content table, raises if they differ."""
    if not registry.is_postgres:
        with registry.engine.begin() as connection:
            connection.exec_driver_sql(
                "INSERT INTO credentials_fts(credentials_fts, rank) VALUES ('integrity-check', 1)"
            )


# -- the index exists -----------------------------------------------------------------------------------------


def test_the_index_is_there_at_head(registry: Registry) -> None:
    with registry.engine.connect() as connection:
        if registry.is_postgres:
            rows = connection.execute(
                sa.text(
                    "SELECT indexname, indexdef FROM pg_indexes WHERE right(indexname, 5) = '_trgm' ORDER BY 1"
                )
            ).all()
            assert [name for name, _ in rows] == sorted(search._PG_TRIGRAM_INDEXES)
            assert all("USING gin" in definition and "gin_trgm_ops" in definition for _, definition in rows)
        else:
            names = connection.exec_driver_sql(
                "SELECT type, name FROM sqlite_master WHERE name LIKE 'credentials_fts%' ORDER BY 1, 2"
            ).all()
            # A later migration that rebuilds `credentials` (batch mode) would drop the triggers: this fails then.
            assert names == [
                ("table", "credentials_fts"),
                ("table", "credentials_fts_config"),
                ("table", "credentials_fts_data"),
                ("table", "credentials_fts_idx"),
                ("trigger", "credentials_fts_delete"),
                ("trigger", "credentials_fts_insert"),
                ("trigger", "credentials_fts_update"),
            ]
    fts_integrity_check(registry)


# -- same results as the scan ---------------------------------------------------------------------------------


def test_indexed_and_scan_paths_give_the_same_results(registry: Registry, named: list[Credential]) -> None:
    for q in QUERIES:
        stripped = q.strip()
        with registry.session() as session:
            want = expected(session, stripped)
        assert searched(registry, q) == want, q
        assert uses_index(registry, stripped) == (len(stripped) >= MIN_INDEXED_LENGTH), q
        if len(want) > 2:
            assert searched(registry, q, limit=2) == want, (
                q
            )  # the cursor, within one update time (ties on id)
    # The semantics themselves, where the backends agree (ASCII case, Japanese, metacharacters literal).
    number = {en: credential.certificate_number for (en, _), credential in zip(NAMES, named, strict=True)}
    assert sorted(searched(registry, "aCmE")) == sorted([number["ACME Corp."], number["Acme Robotics K.K."]])
    assert set(searched(registry, "トヨタ")) == {
        number["トヨタ Mobility Services"],
        number[fw("TOYOTA") + " Full Width"],
    }
    assert searched(registry, "toyota") == [number["Toyota Tsusho Corporation"]]
    assert searched(registry, '"Quoted"') == [number['The "Quoted" Company']]
    assert searched(registry, "NEAR(Tech) OR") == [number["NEAR(Tech) OR Partners"]]
    assert searched(registry, "Star*") == [number["Star*Power Inc."]]
    assert searched(registry, "100%") == [number["100% Pure Water Ltd."]]
    assert searched(registry, "e_c") == [number["Snake_Case Systems"]]
    assert searched(registry, "Back\\") == [number["Back\\Slash Ltd."]]
    assert searched(registry, named[0].certificate_number.lower()) == [named[0].certificate_number]
    assert searched(registry, named[0].certificate_number[:-1]) == []  # exact, not a substring
    # Full-width letters are found as typed; whether case folds beyond ASCII is the backend's (as before).
    assert number[fw("ACME Fullwidth") + " Ltd."] in searched(registry, fw("ACME"))
    lower_full_width = searched(registry, fw("acme"))
    assert number[fw("acme lower") + " Ltd."] in lower_full_width
    assert (number[fw("ACME Fullwidth") + " Ltd."] in lower_full_width) == registry.is_postgres


@pytest.mark.slow
def test_a_common_substring_walks_the_order_and_pages_the_same(
    registry: Registry, named: list[Credential]
) -> None:
    """Past MAX_INDEX_CANDIDATES matches SQLite walks the (updated_at, id) index instead: same results."""
    common = [
        (f"Common Widgets {i} Ltd.", f"共通ウィジェット{i}株式会社") for i in range(MAX_INDEX_CANDIDATES + 50)
    ]
    clone(registry, named[0], [*common, ("Rare Widgets Ltd.", None)])
    for q in ("Common Widgets", "ウィジェット", "widgets", "Widgets 1", "Rare Widgets"):
        with registry.session() as session:
            want = expected(session, q)
        assert searched(registry, q, limit=200) == want, q
    assert len(searched(registry, "Widgets")) == len(common) + 1
    assert not uses_index(registry, "Common Widgets") or registry.is_postgres
    assert uses_index(registry, "Widgets 1")  # 1,111 matches: indexed, and paged above
    assert uses_index(registry, "Rare Widgets")


def test_few_dense_and_sparse_names_take_their_paths_with_the_same_results(
    registry: Registry, named: list[Credential]
) -> None:
    """SQLite's plans for a name (search_credentials): few matches come from the index's first rowids, a
    dense name from a window walked in result order, a sparse common one from the index as before. Every
    page of every plan is the scan's, and each plan is really taken."""
    # 400 rows: every one "Window Co", every third "Rare", every fifth "Sparse" (80: past FEW_CANDIDATES, yet
    # too sparse for the window), spread in update time (see clone).
    names = [
        (f"Window Co {'Rare ' if i % 3 == 0 else ''}{'Sparse ' if i % 5 == 0 else ''}{i}", f"窓{i}株式会社")
        for i in range(400)
    ]
    clone(registry, named[0], names)
    asked: list[int] = []  # the cap of each question to the SQLite index

    def record(_conn: object, _cursor: object, statement: str, parameters: object, *_args: object) -> None:
        if search._FTS_TABLE in statement and isinstance(parameters, tuple | list):
            asked.append(int(parameters[-1]))

    sa.event.listen(registry.engine, "before_cursor_execute", record)
    try:
        for q in ("Window Co", "window co rare", "株式会社", "Rare 9", "Sparse", "Co 11", "no such window"):
            with registry.session() as session:
                want = expected(session, q)
            for limit in (2, 7, 20, 200):
                assert searched(registry, q, limit=limit) == want, (q, limit)
        if registry.is_postgres:
            return
        few, full = search.FEW_CANDIDATES + 1, search.MAX_INDEX_CANDIDATES + 1
        asked.clear()
        assert len(searched(registry, "Window Co", limit=5)) == 400  # 80 pages, dense: the window decides
        assert asked.count(few) == 80
        assert asked.count(full) <= 6  # only pages within a window's length (4 x 6 rows) of the end
        asked.clear()
        assert len(searched(registry, "Rare 1", limit=5)) == len([n for n, _ in names if "Rare 1" in n]) > 5
        assert set(asked) == {few}  # few matches: answered from the index's first rowids
        asked.clear()
        assert len(searched(registry, "Sparse", limit=5)) == 80
        assert asked.count(full) == 16  # past the few, too sparse for a window: the index, as before
    finally:
        sa.event.remove(registry.engine, "before_cursor_execute", record)


def test_export_selects_what_the_search_selects(
    client: TestClient, registry: Registry, named: list[Credential]
) -> None:
    for q in ("acme", "株式会社", "トヨタ", '"Quoted"', "NEAR(", "ac"):
        response = client.get("/api/v1/export", params={"format": "jsonl", "q": q})
        assert response.status_code == 200, response.text
        exported = sorted(
            line.split('"certificateNumber":"')[1].split('"')[0] for line in response.text.splitlines()
        )
        assert exported == sorted(searched(registry, q)), q


# -- hostile queries ------------------------------------------------------------------------------------------


def test_hostile_queries_get_results_or_a_clean_400(
    client: TestClient, registry: Registry, named: list[Credential]
) -> None:
    for q in HOSTILE:
        response = client.get(URL, params={"q": q, "limit": 200})
        assert response.status_code == 200, (q, response.text)
        with registry.session() as session:
            want = expected(session, q.strip())
        assert [item["certificateNumber"] for item in response.json()["items"]] == want, q
    for q in ("\x00", "acme\x00", "\x1f", "NEAR(\x7f", "a\nb", "x" * 201, "株" * 201):
        response = client.get(URL, params={"q": q})
        assert response.status_code == 400, (q, response.text)
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["errors"][0]["field"] == "q"
    assert client.get("/", params={"q": "NEAR(a b)"}).status_code == 200  # the web page's search


# -- kept in sync ---------------------------------------------------------------------------------------------


def test_renaming_and_deleting_keep_the_index_in_sync(registry: Registry, named: list[Credential]) -> None:
    [renamed_id, deleted_id] = clone(
        registry, named[0], [("Oldname Trading Ltd.", "旧名商事"), ("Doomed Ltd.", "消滅")]
    )
    assert len(searched(registry, "Oldname")) == len(searched(registry, "旧名商事")) == 1
    table = Credential.__table__  # type: ignore[attr-defined]
    with registry.engine.begin() as connection:
        connection.execute(
            sa.update(table)
            .where(table.c.id == renamed_id)
            .values(legal_name_en="Newname Robotics Ltd.", legal_name_ja=None)
        )
        # A status change (the common write) touches no indexed column.
        connection.execute(sa.update(table).where(table.c.id == named[1].id).values(status="suspended"))
        connection.execute(sa.delete(table).where(table.c.id == deleted_id))
    assert searched(registry, "Oldname") == searched(registry, "旧名商事") == []
    [renamed] = searched(registry, "Newname Robotics")
    assert registry.credential(renamed_id).certificate_number == renamed
    assert searched(registry, "Doomed") == searched(registry, "消滅") == []
    assert named[1].certificate_number in searched(registry, "Acme Robotics")
    fts_integrity_check(registry)


@on_sqlite
def test_vacuum_keeps_the_sqlite_index_valid(registry: Registry, named: list[Credential]) -> None:
    """The index is keyed by the implicit rowid, which only VACUUM could renumber: it does not."""
    ids = clone(registry, named[0], [(f"Vacuum Test {i}", None) for i in range(60)])
    table = Credential.__table__  # type: ignore[attr-defined]
    with registry.engine.begin() as connection:
        connection.execute(sa.delete(table).where(table.c.id.in_(ids[::2])))
    registry.engine.dispose()
    with sqlite3.connect(registry.engine.url.database or "") as raw:
        raw.execute("VACUUM")
    raw.close()
    fts_integrity_check(registry)
    for q in ("Vacuum Test", "Vacuum Test 1", "acme", "トヨタ"):
        with registry.session() as session:
            want = expected(session, q)
        assert searched(registry, q) == want


# -- without the index ----------------------------------------------------------------------------------------


@on_sqlite
def test_without_the_index_sqlite_scans_and_says_so(
    registry: Registry, named: list[Credential], tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """An SQLite without the trigram tokenizer gets no index from 0004: searches scan, with a warning."""
    copy = tmp_path / "no-index.db"
    registry.engine.dispose()
    shutil.copyfile(registry.engine.url.database or "", copy)
    with sqlite3.connect(copy) as raw:
        for trigger in ("insert", "delete", "update"):
            raw.execute(f"DROP TRIGGER credentials_fts_{trigger}")
        raw.execute("DROP TABLE credentials_fts")
    raw.close()
    engine = make_engine(f"sqlite:///{copy}", pool_size=1, max_overflow=0)
    try:
        with caplog.at_level(logging.WARNING, logger="registry.search"):
            for q in ("acme", "トヨタ", '"Quoted"', "ac"):
                with Session(engine) as session:
                    filters = resolve_filters(session=session, q=q)
                    page = search_credentials(
                        session=session, filters=filters, now=registry.clock(), limit=200
                    )
                    assert search._indexed_candidates(q, session) is None
                    got = [record.certificate_number for record in page.items]
                with registry.session() as session:
                    assert got == expected(session, q), q
        warnings = [r for r in caplog.records if r.name == "registry.search" and r.levelno == logging.WARNING]
        assert len(warnings) == 1  # once per engine
        assert "scan every certificate" in warnings[0].getMessage()
    finally:
        engine.dispose()
