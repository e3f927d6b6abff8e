"""`aigov verify-batch` in-process (offline here; online against a real registry: tests/registry/
test_online_registry.py), and the batch API underneath: vendor names, malformed rows, reports."""

from __future__ import annotations

import contextlib
import csv
import io
import json
import os
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

import issuer
from aigov.cli import EXIT_INDETERMINATE, EXIT_INVALID, EXIT_OK, EXIT_USAGE, main
from aigov.commands._common import MAX_INPUT_BYTES
from keys import b64url_decode, b64url_encode
from verifier import (
    BatchRow,
    Claim,
    TrustStore,
    decode_claims,
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
    assert report[0]["level"] == "Level 2 — Managed"  # the level said once, not "2 — Level 2 — Managed"
    assert report[4]["claim"] == "badge.svg"  # the file the row named, not its size
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


# -- encodings: what Excel saves -----------------------------------------------------------------------------------
NOT_UTF8_HINT = "if Japanese Excel saved it (Shift_JIS), add --encoding cp932, or save it as 'CSV UTF-8'"


def test_a_shift_jis_csv_is_refused_unless_its_encoding_is_named(
    material: Material, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Japanese Excel's default "CSV (コンマ区切り)" is cp932: read exactly when --encoding cp932 says so."""
    claims = tmp_path / "claims.csv"
    text = f"claim,vendor\r\n{material.token},{material.company_ja}\r\n"
    claims.write_bytes(text.encode("cp932"))
    offset = len(f"claim,vendor\r\n{material.token},".encode())

    code, out, err = run(capsys, batch(material, claims))
    assert (code, out) == (EXIT_USAGE, "")
    byte = text.encode("cp932")[offset]
    assert f"claims.csv: not UTF-8 (byte 0x{byte:02x} at offset {offset:,}): {NOT_UTF8_HINT}" in err

    code, out, err = run(capsys, batch(material, claims, "--encoding", "cp932"))
    assert code == EXIT_OK, err
    [row] = list(csv.DictReader(io.StringIO(out)))
    assert (row["verdict"], row["vendor"], row["vendorMatch"]) == ("valid", material.company_ja, "true")
    assert "\ufffd" not in out


def test_a_windows_1252_csv_is_never_guessed_as_shift_jis(
    material: Material, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Western Excel's "CSV" is cp1252, and "Crédit" in cp1252 is valid cp932 ("Cr馘it"): never guessed."""
    vendor = "Crédit Agricole"
    assert vendor.encode("cp1252").decode("cp932") != vendor  # the trap a fallback would fall into
    claims = tmp_path / "claims.csv"
    claims.write_bytes(f"claim,vendor\r\n{material.token},{vendor}\r\n".encode("cp1252"))

    code, out, err = run(capsys, batch(material, claims))
    assert (code, out) == (EXIT_USAGE, "")
    assert "not UTF-8 (byte 0xe9 at offset" in err

    code, out, err = run(capsys, batch(material, claims, "--encoding", "cp1252"))
    [row] = list(csv.DictReader(io.StringIO(out)))
    assert row["vendor"] == vendor
    assert (row["verdict"], row["vendorMatch"]) == ("invalid", "false")  # read right: simply another company
    assert code == EXIT_INVALID, err


@pytest.mark.parametrize(
    ("name", "fragment"),
    [
        ("no-such-encoding", "--encoding: unknown encoding 'no-such-encoding'"),
        ("base64", "--encoding: 'base64' is not an encoding files are saved in"),
        ("unicode_escape", "is not an encoding files are saved in"),
        ("", "unknown encoding ''"),
        ("x" * 5000, "unknown encoding"),
    ],
)
def test_an_unknown_encoding_name_is_bad_usage(
    material: Material, tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str, fragment: str
) -> None:
    claims = tmp_path / "claims.csv"
    claims.write_text(material.token + "\n", encoding="utf-8")
    code, out, err = run(capsys, batch(material, claims, "--encoding", name))
    assert (code, out) == (EXIT_USAGE, "")
    assert fragment in err
    assert len(err) < 1000


def test_a_file_that_does_not_decode_in_the_named_encoding_names_the_first_bad_byte(
    material: Material, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    claims = tmp_path / "claims.csv"
    claims.write_bytes(b"claim,vendor\nx," + "株".encode("cp932")[:1] + b"\xff\n")  # a lead byte, then 0xff
    code, out, err = run(capsys, batch(material, claims, "--encoding", "cp932"))
    assert (code, out) == (EXIT_USAGE, "")
    assert "not cp932 (byte 0x8a at offset 15)" in err
    assert "CSV UTF-8" in err


@pytest.mark.parametrize(
    ("data", "fragment"),
    [
        (b"claim,vendor\n\x80\x81,x\n", f"not UTF-8 (byte 0x80 at offset 13): {NOT_UTF8_HINT}"),
        ("claim,vendor\n".encode("utf-16"), "UTF-16"),
        ("claim\x00株".encode(), "NUL"),
    ],
)
def test_an_undecodable_file_is_refused_not_replaced(
    material: Material, tmp_path: Path, capsys: pytest.CaptureFixture[str], data: bytes, fragment: str
) -> None:
    claims = tmp_path / "claims.csv"
    claims.write_bytes(data)
    code, out, err = run(capsys, batch(material, claims))
    assert code == EXIT_USAGE
    assert out == ""
    assert fragment in err
    assert "CSV UTF-8" in err


def test_decode_claims() -> None:
    assert decode_claims("ベンダー".encode()) == "ベンダー"
    assert decode_claims(b"\xef\xbb\xbf" + "ベンダー".encode()) == "ベンダー"
    assert decode_claims(b"\xef\xbb\xbf" + "ベンダー".encode(), "utf-8") == "ベンダー"  # BOM dropped too
    assert decode_claims("ベンダー".encode("cp932"), "cp932") == "ベンダー"
    assert decode_claims("ベンダー".encode("utf-16"), "utf-16") == "ベンダー"
    with pytest.raises(ValueError, match=r"not UTF-8 \(byte 0x83 at offset 0\)"):
        decode_claims("ベンダー".encode("cp932"))
    assert read_claims("Crédit".encode("cp1252") + b",x\n", encoding="cp1252")[0].claim == "Crédit"
    with pytest.raises(ValueError, match="not UTF-8"):
        read_claims("Crédit".encode("cp1252") + b",x\n")
    assert read_claims("\ufeffeyJ.a.b,アクメ\n")[0].vendor == "アクメ"  # text in, BOM dropped


def test_a_jsonl_row_without_a_claim_says_what_it_needs() -> None:
    [claim] = read_claims(b'{"vendor": "ACME"}\n')
    assert claim.error is not None
    assert claim.error.startswith('needs a "claim" member')
    assert "or credential or id" not in claim.error


# -- the report's columns and files --------------------------------------------------------------------------------
def test_files_are_shown_by_name_and_the_csv_file_has_a_bom(
    material: Material, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "badge.svg").write_bytes(material.badge.read_bytes())
    (tmp_path / "vendor-cert.jwt").write_text(material.token, encoding="utf-8")
    claims = tmp_path / "claims.csv"
    claims.write_text("claim\nbadge.svg\nvendor-cert.jwt\n", encoding="utf-8")
    base = tmp_path / "report"

    code, _, err = run(capsys, batch(material, claims, "-o", str(base)))

    assert code == EXIT_OK, err
    data = (tmp_path / "report.csv").read_bytes()
    assert data.startswith(b"\xef\xbb\xbfline,claim,")  # Excel in Japan reads it as UTF-8
    rows = list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))
    assert [r["claim"] for r in rows] == ["badge.svg", "vendor-cert.jwt"]
    assert [r["verdict"] for r in rows] == ["valid", "valid"]
    assert material.company_ja in data.decode("utf-8-sig")


@pytest.mark.parametrize(
    ("level", "name", "shown"),
    [
        ("3", "Level 3 — Assured", "Level 3 — Assured"),
        ("3", "Assured", "3 — Assured"),
        ("3", "Level 13 — Top", "3 — Level 13 — Top"),
    ],
)
def test_the_level_column_says_the_level_once(level: str, name: str, shown: str) -> None:
    from verifier import Verdict, VerificationResult
    from verifier._batch import _row

    credential = {"credentialSubject": {"certification": {"level": level}, "achievement": {"name": name}}}
    result = VerificationResult(Verdict.VALID, (), "ok", credential)
    assert _row(Claim("x"), "x", result).level == shown


def test_batch_status_lists_older_than_max_age_are_indeterminate(
    material: Material, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from verifier import parse_compact

    signed = datetime.fromisoformat(parse_compact(material.revocation.read_bytes()).payload["validFrom"])
    claims = tmp_path / "claims.csv"
    claims.write_text(material.token + "\n", encoding="utf-8")
    later = (signed + timedelta(days=2)).isoformat()

    code, out, _ = run(capsys, batch(material, claims, "--json", "--now", later, "--max-age", "24h"))
    assert code == EXIT_INDETERMINATE
    assert "over the 24 h policy" in json.loads(out)["rows"][0]["reason"]
    assert run(capsys, batch(material, claims, "--now", later, "--max-age", "3d"))[0] == EXIT_OK
    # No --max-age: the list is used for as long as its own validUntil allows.
    assert run(capsys, batch(material, claims, "--now", later))[0] == EXIT_OK


def test_a_bad_byte_after_a_byte_order_mark_is_named_where_it_is_in_the_file() -> None:
    from verifier import decode_claims

    with pytest.raises(ValueError, match=r"byte 0xff at offset 6\)"):
        decode_claims(b"\xef\xbb\xbfabc\xff")  # Excel's "CSV UTF-8" starts with a BOM: offsets count it


# -- offline through the scheme owner's trust list: --bundle, --trust-list ----------------------------------------
REGISTRY = (
    "https://registry.aigov.example"  # what registry-less issuance names (achievement ids, status lists)
)
OWNER_DID = "did:web:registry.aigov.example"


@dataclass(frozen=True)
class Bundled:
    """A scheme owner's trust list and bundle listing material's body (not `outsider`'s), signed as a registry
    signs them (tests/registry/test_bundle_cli.py pulls a real registry's)."""

    signed: datetime
    owner: Path  # the scheme owner's DID document
    thumbprint: str
    bundle: Path
    foreign: Path  # the same content, under the owner's DID, signed by another key
    trust_list: Path
    revocation: Path  # revokes `revoked`
    suspension: Path
    revoked: str
    outsider: str  # signed by a body that is not on the trust list

    def at(self, **delta: float) -> str:
        return (self.signed + timedelta(**delta)).isoformat()


def _payload(token: str) -> dict[str, Any]:
    from verifier import parse_compact

    return parse_compact(token).payload


@pytest.fixture(scope="module")
def bundled(material: Material, tmp_path_factory: pytest.TempPathFactory) -> Bundled:
    from issuer import AccreditationEntry, ListedBody, build_bundle, build_trust_list, sign_credential
    from keys import Keystore, did_web_document

    root = tmp_path_factory.mktemp("bundle")
    with pytest.MonkeyPatch.context() as mp:
        for name, value in ENV.items():
            mp.setenv(name, value)
        mp.setenv("AIGOV_KEYSTORE", str(material.root / "keys"))
        mp.delenv("AIGOV_PUBLIC_URL", raising=False)
        quietly("issue", str(SAMPLE), "-o", str(root / "revoked.jwt"))
        revoked = (root / "revoked.jwt").read_text().strip()
        [index] = [
            entry["statusListIndex"]
            for entry in _payload(revoked)["credentialStatus"]
            if entry["statusPurpose"] == "revocation"
        ]
        quietly("status-list", "--purpose", "revocation", "--set", index, "-o", str(root / "revocation.jwt"))
        quietly("status-list", "--purpose", "suspension", "-o", str(root / "suspension.jwt"))
        mp.setenv("AIGOV_KEYSTORE", str(root / "outsider-keys"))
        mp.setenv("AIGOV_ISSUER_DID", "did:web:outsider.example")
        quietly("keys", "new")
        quietly("issue", str(SAMPLE), "-o", str(root / "outsider.jwt"))
    statuses = [(root / f"{p}.jwt").read_text().strip() for p in ("revocation", "suspension")]
    signed = datetime.fromisoformat(str(_payload(statuses[0])["validFrom"]))
    body = Keystore(material.root / "keys", passphrase=PASSPHRASE.encode())
    accredited = signed - timedelta(days=30)
    trust_list = build_trust_list(
        registry_url=REGISTRY,
        owner_did=OWNER_DID,
        bodies=[
            ListedBody(
                ENV["AIGOV_ISSUER_DID"],
                ENV["AIGOV_ISSUER_NAME"],
                None,
                body.records(),
                [
                    AccreditationEntry(
                        "example-aigov-scheme", ["1", "2", "3"], accredited, None, [("active", accredited)]
                    )
                ],
            )
        ],
        version=1,
        now=signed,
    )
    signers = []
    for name in ("owner", "impostor"):
        keystore = Keystore(root / name, passphrase=None, allow_plaintext_keys=True)
        kid = keystore.generate().kid
        signers.append((keystore, kid))
    (owner, owner_kid), _ = signers
    owner_document = did_web_document(OWNER_DID, owner.published_keys())
    (root / "owner-did.json").write_text(json.dumps(owner_document))
    trust_list_token = sign_credential(
        trust_list, key=owner.signing_key(), kid=f"{OWNER_DID}#{owner_kid}", now=signed
    )
    (root / "trust-list.jwt").write_text(trust_list_token)
    for (keystore, kid), name in zip(signers, ("bundle", "foreign"), strict=True):
        bundle = build_bundle(
            registry_url=REGISTRY,
            owner_did=OWNER_DID,
            owner_document=did_web_document(OWNER_DID, keystore.published_keys()),
            trust_list=trust_list_token,
            did_documents=[json.loads(material.trust.read_text("utf-8"))],
            status_lists=statuses,
            now=signed,
        )
        token = sign_credential(bundle, key=keystore.signing_key(), kid=f"{OWNER_DID}#{kid}", now=signed)
        (root / f"{name}.jwt").write_text(token)
    return Bundled(
        signed,
        root / "owner-did.json",
        owner_kid,
        root / "bundle.jwt",
        root / "foreign.jwt",
        root / "trust-list.jwt",
        root / "revocation.jwt",
        root / "suspension.jwt",
        revoked,
        (root / "outsider.jwt").read_text().strip(),
    )


def claims_file(tmp_path: Path, material: Material, bundled: Bundled) -> Path:
    claims = tmp_path / "claims.csv"
    badge = tmp_path / "badge.svg"
    badge.write_bytes(material.badge.read_bytes())
    rows = [
        ["claim", "vendor"],
        [material.token, material.company_en],
        ["badge.svg", material.company_ja],
        [bundled.revoked, material.company_en],
        [bundled.outsider, material.company_en],
    ]
    with claims.open("w", newline="", encoding="utf-8") as f:
        csv.writer(f).writerows(rows)
    return claims


def offline(claims: Path, *extra: str) -> list[str]:
    return ["verify-batch", str(claims), "--no-progress", *extra]


@pytest.mark.parametrize("pin", ["file", "fingerprint"])
def test_a_batch_through_a_bundle(
    material: Material, bundled: Bundled, tmp_path: Path, capsys: pytest.CaptureFixture[str], pin: str
) -> None:
    claims = claims_file(tmp_path, material, bundled)
    owner = (
        ["--scheme-owner", str(bundled.owner)]
        if pin == "file"
        else ["--scheme-owner-fingerprint", bundled.thumbprint]
    )
    argv = offline(claims, "--bundle", str(bundled.bundle), *owner, "--now", bundled.at(hours=2), "--json")

    code, out, err = run(capsys, argv)

    assert code == EXIT_INVALID, err
    rows = json.loads(out)["rows"]
    assert [r["verdict"] for r in rows] == ["valid", "valid", "invalid", "invalid"]
    assert rows[1]["claim"] == "badge.svg"
    assert "revoked" in rows[2]["reason"]
    assert (
        f"issuer did:web:outsider.example is not accredited by the scheme owner {OWNER_DID}: it is not on "
        "trust list version 1" in rows[3]["reason"]
    )
    assert "2 h old (max-age 24 h)" in err  # the bundle's age, as `aigov verify --bundle` prints it
    assert "4 claims: 2 valid, 2 invalid, 0 indeterminate, 0 unreadable" in err
    good = tmp_path / "good.csv"
    good.write_text(material.token + "\n", encoding="utf-8")
    code, out, _ = run(
        capsys, offline(good, "--bundle", str(bundled.bundle), *owner, "--now", bundled.at(hours=2))
    )
    assert code == EXIT_OK
    assert (
        next(csv.DictReader(io.StringIO(out)))["verdict"] == "valid"
    )  # the same CSV report as --trust gives


def test_a_stale_bundle_gives_indeterminate_unless_max_age_allows_it(
    material: Material, bundled: Bundled, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    claims = tmp_path / "claims.csv"
    claims.write_text(material.token + "\n", encoding="utf-8")
    base = offline(claims, "--bundle", str(bundled.bundle), "--scheme-owner", str(bundled.owner))

    code, out, err = run(capsys, [*base, "--now", bundled.at(hours=30), "--json"])

    assert code == EXIT_INDETERMINATE
    [row] = json.loads(out)["rows"]
    assert row["verdict"] == "indeterminate"
    assert "30 h old, over the 24 h policy" in row["reason"]
    assert "too old, status checks will be indeterminate" in err
    assert run(capsys, [*base, "--now", bundled.at(hours=30), "--max-age", "2d"])[0] == EXIT_OK
    assert run(capsys, [*base, "--now", bundled.at(hours=3), "--max-age", "1h"])[0] == EXIT_INDETERMINATE


def test_a_bundle_not_signed_by_the_pinned_scheme_owner_is_refused(
    material: Material, bundled: Bundled, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    claims = tmp_path / "claims.csv"
    claims.write_text(material.token + "\n", encoding="utf-8")
    foreign = offline(claims, "--bundle", str(bundled.foreign), "--now", bundled.at(hours=1))

    code, out, err = run(capsys, [*foreign, "--scheme-owner", str(bundled.owner)])
    assert (code, out) == (EXIT_USAGE, "")
    assert err.startswith(f"error: bundle {bundled.foreign}: do not use this bundle: key {OWNER_DID}#")
    assert "is not among the pinned keys" in err
    assert err.count("\n") == 1  # one line, no report, no traceback
    code, out, err = run(capsys, [*foreign, "--scheme-owner-fingerprint", bundled.thumbprint])
    assert (code, out) == (EXIT_USAGE, "")
    assert f"no key of {OWNER_DID} has the pinned fingerprint" in err
    tampered = tmp_path / "tampered.jwt"
    header, payload, signature = bundled.bundle.read_text().split(".")
    content = json.loads(b64url_decode(payload))
    content["credentialSubject"]["statusLists"] = []  # the revocation left out
    tampered.write_text(f"{header}.{b64url_encode(json.dumps(content).encode())}.{signature}")
    code, _, err = run(
        capsys, offline(claims, "--bundle", str(tampered), "--scheme-owner", str(bundled.owner))
    )
    assert code == EXIT_USAGE
    assert "signature does not match" in err
    assert err.count("\n") == 1


def test_a_batch_through_a_trust_list_and_status_list_files(
    material: Material, bundled: Bundled, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    claims = claims_file(tmp_path, material, bundled)
    base = offline(claims, "--trust-list", str(bundled.trust_list), "--now", bundled.at(hours=1), "--json")
    lists = ["--status-list", str(bundled.revocation), "--status-list", str(bundled.suspension)]

    code, out, err = run(capsys, [*base, "--scheme-owner", str(bundled.owner), *lists])

    assert code == EXIT_INVALID, err
    assert [r["verdict"] for r in json.loads(out)["rows"]] == ["valid", "valid", "invalid", "invalid"]
    code, out, _ = run(capsys, [*base, "--scheme-owner", str(bundled.owner)])  # no status lists
    assert code == EXIT_INVALID  # the outsider is still invalid; the others cannot be told
    assert [r["verdict"] for r in json.loads(out)["rows"]] == ["indeterminate"] * 3 + ["invalid"]
    code, _, err = run(capsys, [*base, "--scheme-owner-fingerprint", bundled.thumbprint])
    assert code == EXIT_USAGE
    assert "does not carry it" in err


@pytest.mark.parametrize(
    "case",
    [
        (["--bundle", "{bundle}"], "--bundle and --trust-list need the scheme owner"),
        (["--trust-list", "{trust_list}"], "--bundle and --trust-list need the scheme owner"),
        (
            ["--bundle", "{bundle}", "--scheme-owner", "{owner}", "--registry", REGISTRY],
            "--bundle and --trust-list verify offline: drop --registry",
        ),
        (
            ["--bundle", "{bundle}", "--scheme-owner", "{owner}", "--allow-insecure-loopback"],
            "need --registry",
        ),
        (["--bundle", "{bundle}", "--scheme-owner", "{owner}", "--max-age", "soon"], "not a duration"),
        (["--bundle", "{missing}", "--scheme-owner", "{owner}"], "cannot read bundle"),
        (
            ["--trust", "{trust}", "--scheme-owner-fingerprint", "abc"],
            "needs --bundle (offline) or --registry",
        ),
    ],
)
def test_bad_combinations_are_one_line_usage_errors(
    material: Material,
    bundled: Bundled,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    case: tuple[list[str], str],
) -> None:
    extra, phrase = case
    claims = tmp_path / "claims.csv"
    claims.write_text(material.token + "\n", encoding="utf-8")
    paths = {
        "bundle": bundled.bundle,
        "trust_list": bundled.trust_list,
        "owner": bundled.owner,
        "trust": material.trust,
        "missing": tmp_path / "missing.jwt",
    }
    argv = offline(claims, *(item.format(**paths) for item in extra))
    code, out, err = run(capsys, argv)
    assert (code, out) == (EXIT_USAGE, "")
    assert phrase in err
    assert err.count("\n") == 1


# -- files a claim names: only badges and tokens under the claims file's folder ------------------------------------
SECRET = "aws_secret_access_key=wJalrXUtnFEMI-K7MDENG-SECRET"


@pytest.fixture
def hostile_folder(tmp_path: Path) -> Path:
    """A claims folder next to a secret, with ways out of the folder and files that are not badges in it."""
    (tmp_path / "secret.txt").write_text(SECRET + "\n", encoding="utf-8")
    folder = tmp_path / "claims"
    folder.mkdir()
    (folder / "notes.txt").write_text(SECRET + "\n", encoding="utf-8")  # in the folder, but not a badge
    (folder / "link.svg").symlink_to(tmp_path / "secret.txt")  # named like a badge, leads out
    (folder / "sub").mkdir()
    (folder / "sub" / "up.jwt").symlink_to(Path("..") / ".." / "secret.txt")
    os.mkfifo(folder / "pipe.svg")  # never opened for a writer: reading it would wait forever
    with (folder / "huge.svg").open("wb") as f:  # sparse
        f.truncate(MAX_INPUT_BYTES + 1)
    return folder


HOSTILE_ROWS = [
    ("{secret}", "is an absolute path: a badge or token file is named relative to the claims file"),
    ("../secret.txt", "leads outside the claims file's folder"),
    ("sub/../../secret.txt", "leads outside the claims file's folder"),
    ("{environ}", "leads outside the claims file's folder"),
    ("link.svg", "'link.svg' leads outside the claims file's folder"),
    ("sub/up.jwt", "'sub/up.jwt' leads outside the claims file's folder"),
    ("notes.txt", "file 'notes.txt' is neither a badge (SVG or PNG) nor a compact JWS"),
    ("sub", "'sub' is not a regular file (a badge or token file)"),
    ("pipe.svg", "'pipe.svg' is not a regular file (a badge or token file)"),
    ("huge.svg", f"badge file 'huge.svg' is larger than {MAX_INPUT_BYTES:,} bytes"),
    ("missing.svg", "not a JWT, credential id or URL, and no badge file 'missing.svg'"),
]


def test_a_claim_names_no_file_outside_its_folder_and_no_file_that_is_not_a_badge_or_token(
    material: Material, hostile_folder: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Online, the bytes of a file a row names are sent on as the claim and the reason echoes them: a hostile
    claims file must not make the report carry another file's secret (or /proc/self/environ)."""
    paths = {
        "secret": str(hostile_folder.parent / "secret.txt"),
        "environ": os.path.relpath("/proc/self/environ", hostile_folder),
    }
    claims = hostile_folder / "claims.csv"
    with claims.open("w", newline="", encoding="utf-8") as f:
        csv.writer(f).writerows(
            [["claim", "vendor"], *[[cell.format(**paths), "ACME"] for cell, _ in HOSTILE_ROWS]]
        )
    argv = ["verify-batch", str(claims), "--no-progress", "--json", "--trust", str(material.trust)]

    code, out, err = run(capsys, [*argv, "--registry", "https://registry.invalid"])

    assert code == EXIT_INDETERMINATE, err
    rows = json.loads(out)["rows"]
    assert [r["verdict"] for r in rows] == ["error"] * len(HOSTILE_ROWS)
    for row, (_, reason) in zip(rows, HOSTILE_ROWS, strict=True):
        assert reason in row["reason"], row
    assert "SECRET" not in out + err
    assert "PATH=" not in out + err  # nothing of the environment


def test_badges_and_tokens_under_the_claims_folder_still_verify(
    material: Material, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "badges").mkdir()
    (tmp_path / "badges" / "acme.svg").write_bytes(material.badge.read_bytes())
    (tmp_path / "cert.jwt").write_text(material.token + "\n", encoding="utf-8")
    (tmp_path / "same.svg").symlink_to(tmp_path / "badges" / "acme.svg")  # a link that stays in the folder
    claims = tmp_path / "claims.csv"
    claims.write_text("claim\nbadges/acme.svg\n./cert.jwt\nsame.svg\nbadges/../cert.jwt\n", encoding="utf-8")

    code, out, err = run(capsys, batch(material, claims, "--json"))

    assert code == EXIT_OK, err
    rows = json.loads(out)["rows"]
    assert [r["verdict"] for r in rows] == ["valid"] * 4
    assert [r["claim"] for r in rows] == ["badges/acme.svg", "./cert.jwt", "same.svg", "badges/../cert.jwt"]


def test_a_file_name_with_a_nul_character_is_no_file(
    material: Material, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    claims = tmp_path / "claims.jsonl"
    claims.write_text(json.dumps({"claim": "badge\u0000.svg"}) + "\n", encoding="utf-8")
    code, out, _ = run(capsys, batch(material, claims, "--json"))
    assert code == EXIT_INDETERMINATE
    assert "no badge file 'badge\\x00.svg'" in json.loads(out)["rows"][0]["reason"]
