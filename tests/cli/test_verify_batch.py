"""`aigov verify-batch` in-process (offline here; online against a real registry: tests/registry/
test_online_registry.py), and the batch API underneath: vendor names, malformed rows, reports."""

from __future__ import annotations

import contextlib
import csv
import io
import json
import re
from dataclasses import dataclass
from pathlib import Path

import pytest

import issuer
from aigov.cli import EXIT_INDETERMINATE, EXIT_INVALID, EXIT_OK, EXIT_USAGE, main
from verifier import (
    BatchRow,
    Claim,
    TrustStore,
    normalize_company,
    read_claims,
    report_csv,
    report_html,
    report_json,
    verify_batch,
)

PASSPHRASE = "verify-batch test passphrase"
ENV = {
    "AIGOV_KEY_PASSPHRASE": PASSPHRASE,
    "AIGOV_ISSUER_DID": "did:web:cb.batch.example",
    "AIGOV_ISSUER_NAME": "Batch Certification Body",
}
SAMPLE = Path(issuer.__file__).parent / "data" / "sample-decision.json"


def quietly(*argv: str) -> str:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(list(argv))
    assert code == EXIT_OK, err.getvalue()
    return out.getvalue()


@dataclass(frozen=True)
class Material:
    root: Path
    token: str
    trust: Path
    revocation: Path
    suspension: Path
    badge: Path
    company_en: str
    company_ja: str


@pytest.fixture(scope="module")
def material(tmp_path_factory: pytest.TempPathFactory) -> Material:
    root = tmp_path_factory.mktemp("verify-batch")
    with pytest.MonkeyPatch.context() as mp:
        for name, value in ENV.items():
            mp.setenv(name, value)
        mp.setenv("AIGOV_KEYSTORE", str(root / "keys"))
        mp.delenv("AIGOV_PUBLIC_URL", raising=False)
        quietly("keys", "new")
        quietly("keys", "did", "-o", str(root / "trust.json"))
        quietly("issue", str(SAMPLE), "-o", str(root / "certificate.jwt"))
        for purpose in ("revocation", "suspension"):
            quietly("status-list", "--purpose", purpose, "-o", str(root / f"{purpose}.jwt"))
        quietly("badge", str(root / "certificate.jwt"), "-o", str(root / "badge.svg"))
    sample = json.loads(SAMPLE.read_text("utf-8"))
    names = sample["subject"]["legalName"]
    return Material(
        root,
        (root / "certificate.jwt").read_text().strip(),
        root / "trust.json",
        root / "revocation.jwt",
        root / "suspension.jwt",
        root / "badge.svg",
        names["en"],
        names["ja"],
    )


def batch(material: Material, claims: Path, *extra: str, lists: bool = True) -> list[str]:
    argv = ["verify-batch", str(claims), "--trust", str(material.trust), "--no-progress"]
    if lists:
        argv += ["--status-list", str(material.revocation), "--status-list", str(material.suspension)]
    return [*argv, *extra]


def run(capsys: pytest.CaptureFixture[str], argv: list[str]) -> tuple[int, str, str]:
    code = main(argv)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


# -- the command -------------------------------------------------------------------------------------------------
def test_a_csv_batch_with_every_kind_of_row(
    material: Material, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    shutil_badge = tmp_path / "badge.svg"
    shutil_badge.write_bytes(material.badge.read_bytes())
    claims = tmp_path / "claims.csv"
    rows = [
        ["claim", "vendor"],
        [
            material.token,
            f"  {material.company_en.upper()} Co., Ltd. ",
        ],  # valid, matching after normalisation
        [material.token, material.company_ja.replace("株式会社", "(株)")],  # valid, Japanese name
        [material.token, "Somebody Else K.K."],  # valid certificate, wrong vendor: the claim is invalid
        [material.token[:-4] + "AAAA", ""],  # forged signature
        ["badge.svg", material.company_en],  # a badge file, relative to the claims file
        ["no-such-badge.png", ""],  # malformed row
        ["3f2c9a4e-0000-4000-8000-000000000000", ""],  # an id, but offline
        ['=HYPERLINK("http://evil")', ""],  # a hostile cell
    ]
    with claims.open("w", newline="", encoding="utf-8") as f:
        csv.writer(f).writerows(rows)

    code, out, err = run(capsys, batch(material, claims))

    assert code == EXIT_INVALID, err
    report = list(csv.DictReader(io.StringIO(out)))
    assert [r["verdict"] for r in report] == [
        "valid",
        "valid",
        "invalid",
        "invalid",
        "valid",
        "error",
        "error",
        "error",
    ]
    assert [r["line"] for r in report] == ["2", "3", "4", "5", "6", "7", "8", "9"]
    assert report[0]["vendorMatch"] == "true"
    assert report[0]["company"] == f"{material.company_en} / {material.company_ja}"
    assert report[0]["level"].startswith("2")
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", report[0]["validUntil"])
    assert "not 'Somebody Else K.K.'" in report[2]["reason"]
    assert report[2]["vendorMatch"] == "false"
    assert "signature does not match" in report[3]["reason"]
    assert report[3]["company"] == ""  # nothing from a forged payload is shown
    assert "no badge file 'no-such-badge.png'" in report[5]["reason"]
    assert "need online verification" in report[6]["reason"]
    assert report[7]["claim"].startswith("'=HYPERLINK")  # never a formula in a spreadsheet
    assert "8 claims: 3 valid, 2 invalid, 0 indeterminate, 3 unreadable" in err
    assert "\r" not in err  # no progress bar when stderr is not a terminal


def test_json_lines_and_the_three_reports(
    material: Material, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    claims = tmp_path / "claims.jsonl"
    claims.write_text(
        "\n".join(
            [
                json.dumps({"claim": material.token, "vendor": material.company_en}),
                json.dumps(material.token),
                "{not json",
                json.dumps({"vendor": "no claim"}),
                json.dumps([1, 2]),
                "",
            ]
        ),
        encoding="utf-8",
    )
    base = tmp_path / "out" / "report"
    base.parent.mkdir()

    code, out, err = run(capsys, batch(material, claims, "-o", str(base)))

    assert code == EXIT_INDETERMINATE, err
    assert out == ""
    document = json.loads((tmp_path / "out" / "report.json").read_text("utf-8"))
    assert document["summary"] == {"total": 5, "valid": 2, "invalid": 0, "indeterminate": 0, "error": 3}
    assert [r["verdict"] for r in document["rows"]] == ["valid", "valid", "error", "error", "error"]
    assert "not JSON" in document["rows"][2]["reason"]
    assert {c["name"] for c in document["rows"][0]["checks"]} >= {"signature", "status.revocation"}
    page = (tmp_path / "out" / "report.html").read_text("utf-8")
    assert page.startswith("<!DOCTYPE html>")
    assert "<script" not in page
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", page)  # no external resource
    assert material.company_ja in page
    assert len(list(csv.reader(io.StringIO((tmp_path / "out" / "report.csv").read_text("utf-8"))))) == 6


def test_without_status_lists_the_rows_are_indeterminate(
    material: Material, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    claims = tmp_path / "claims.csv"
    claims.write_text(material.token + "\n", encoding="utf-8")
    code, out, _ = run(capsys, batch(material, claims, "--json", lists=False))
    assert code == EXIT_INDETERMINATE
    [row] = json.loads(out)["rows"]
    assert row["verdict"] == "indeterminate"
    assert "status unknown" in row["reason"]


@pytest.mark.parametrize(
    ("extra", "phrase"),
    [
        (["--concurrency", "0"], "--concurrency"),
        (["--concurrency", "1000"], "between 1 and 64"),
        (["--scheme-owner", "abc"], "need --registry"),
        (["--allow-insecure-loopback"], "need --registry"),
    ],
)
def test_bad_usage(
    material: Material, tmp_path: Path, capsys: pytest.CaptureFixture[str], extra: list[str], phrase: str
) -> None:
    claims = tmp_path / "claims.csv"
    claims.write_text(material.token + "\n", encoding="utf-8")
    code, _, err = run(capsys, batch(material, claims, *extra))
    assert code == EXIT_USAGE
    assert phrase in err


def test_no_trust_at_all_is_bad_usage(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    claims = tmp_path / "claims.csv"
    claims.write_text("x\n", encoding="utf-8")
    code, _, err = run(capsys, ["verify-batch", str(claims)])
    assert code == EXIT_USAGE
    assert "--trust FILE (offline), or --registry URL (online)" in err
    code, _, err = run(capsys, ["verify-batch", str(tmp_path / "missing.csv"), "--trust", "x"])
    assert code == EXIT_USAGE
    assert "cannot read" in err


def test_the_progress_bar(material: Material, tmp_path: Path) -> None:
    from aigov.commands.verify_batch import ProgressBar

    stream = io.StringIO()
    bar = ProgressBar(stream)
    for done in range(1, 11):
        bar(done, 10)
    text = stream.getvalue()
    assert text.startswith("\r[")
    assert text.endswith("] 10/10\n")


# -- the Python API ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("アクメ株式会社", "アクメ"),
        ("ｱｸﾒ(株)", "アクメ株式会社"),  # half-width katakana and the (株) abbreviation
        ("株式会社アクメ", "アクメ"),
        ("ACME Corp.", "acme"),
        ("Acme Co., Ltd.", "ACME  CORPORATION"),
        ("ACME K.K.", "acme kk"),
        (
            "\uff21\uff23\uff2d\uff25\u3000\uff29\uff4e\uff43\uff0e",
            "Acme Inc",
        ),  # full-width letters, ideographic space and full stop
    ],
)
def test_company_names_match_across_forms(a: str, b: str) -> None:
    assert normalize_company(a) == normalize_company(b)


@pytest.mark.parametrize(("a", "b"), [("ACME Corp.", "ACNE Corp."), ("アクメ株式会社", "アクメ商事株式会社")])
def test_different_companies_do_not_match(a: str, b: str) -> None:
    assert normalize_company(a) != normalize_company(b)


def test_verify_batch_keeps_order_and_reports_progress(material: Material) -> None:
    trust = TrustStore.load(material.trust, [material.revocation, material.suspension])
    claims: list[Claim | str | bytes] = (
        [material.token] * 20 + [Claim("", line=99, error="broken")] + ["eyJ.x.y"]
    )
    seen: list[tuple[int, int]] = []
    rows = verify_batch(claims, trust, concurrency=4, progress=lambda done, total: seen.append((done, total)))
    assert [r.verdict for r in rows] == ["valid"] * 20 + ["error", "invalid"]
    assert rows[20].line == 99
    assert sorted(seen) == [(n, 22) for n in range(1, 23)]


def test_read_claims_limits_and_forms() -> None:
    claims = read_claims(b"\xef\xbb\xbfclaim,vendor\neyJ.a.b,ACME\n\n,Nobody\n")
    assert [(c.claim, c.vendor, c.error) for c in claims] == [
        ("eyJ.a.b", "ACME", None),
        ("", "Nobody", "the claim is empty"),
    ]
    headerless = read_claims(b"eyJ.a.b\n")
    assert [(c.claim, c.line) for c in headerless] == [("eyJ.a.b", 1)]
    with pytest.raises(ValueError, match="over the limit"):
        read_claims(b"x\n" * 100_001)


def test_reports_escape_everything() -> None:
    hostile = "<script>alert(1)</script>"
    rows = [BatchRow(1, hostile, hostile, "invalid", hostile, company=hostile, level="2", valid_until=None)]
    page = report_html(rows)
    assert hostile not in page
    assert "&lt;script&gt;" in page
    assert json.loads(report_json(rows))["rows"][0]["claim"] == hostile
    assert next(csv.DictReader(io.StringIO(report_csv(rows))))["claim"] == hostile
