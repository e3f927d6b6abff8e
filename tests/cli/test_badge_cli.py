"""`aigov badge` and `aigov verify BADGE` in-process, on a certificate issued by the real commands.

Exit codes: 0 valid, 1 invalid, 3 bad usage or unreadable input (aigov/cli.py).
"""

from __future__ import annotations

import contextlib
import io
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

import issuer
from aigov.cli import EXIT_INVALID, EXIT_OK, EXIT_USAGE, main

pytestmark = pytest.mark.badges(font=True)

ENV = {
    "AIGOV_KEY_PASSPHRASE": "badge-cli test passphrase",
    "AIGOV_ISSUER_DID": "did:web:cb.test.example",
    "AIGOV_ISSUER_NAME": "Test Certification Body",
}
SAMPLE = Path(issuer.__file__).parent / "data" / "sample-decision.json"


@dataclass(frozen=True)
class Issued:
    root: Path
    certificate: Path
    trust: Path
    lists: tuple[Path, Path]
    credential: dict[str, Any]

    def verify(self, file: Path, *extra: str) -> list[str]:
        argv = ["verify", str(file), "--trust", str(self.trust)]
        for path in self.lists:
            argv += ["--status-list", str(path)]
        return [*argv, *extra]


def quietly(*argv: str) -> str:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(list(argv))
    assert code == EXIT_OK, err.getvalue()
    return out.getvalue()


@pytest.fixture(scope="module")
def issued(tmp_path_factory: pytest.TempPathFactory) -> Issued:
    root = tmp_path_factory.mktemp("badge-cli")
    with pytest.MonkeyPatch.context() as mp:
        for name, value in ENV.items():
            mp.setenv(name, value)
        mp.setenv("AIGOV_KEYSTORE", str(root / "keys"))
        mp.delenv("AIGOV_PUBLIC_URL", raising=False)
        # Plaintext throwaway keys: the keystore's scrypt would cost seconds here and is tested elsewhere.
        plain = "--insecure-plaintext-keys"
        quietly("keys", "new", plain)
        quietly("keys", "did", "-o", str(root / "trust.json"), plain)
        out = quietly("issue", str(SAMPLE), "-o", str(root / "certificate.jwt"), "--json", plain)
        for purpose in ("revocation", "suspension"):
            quietly("status-list", "--purpose", purpose, "-o", str(root / f"{purpose}.jwt"), plain)
        quietly("badge", str(root / "certificate.jwt"), "-o", str(root / "badge.svg"))
        quietly("badge", str(root / "certificate.jwt"), "-o", str(root / "badge.png"), "--lang", "en")
    return Issued(
        root,
        root / "certificate.jwt",
        root / "trust.json",
        (root / "revocation.jwt", root / "suspension.jwt"),
        json.loads(out),
    )


def run(capsys: pytest.CaptureFixture[str], argv: list[str]) -> tuple[int, str, str]:
    code = main(argv)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def badge_line(out: str) -> str:
    [line] = [line for line in out.splitlines() if line.split()[1:2] == ["badge"]]
    return line


def test_badge_writes_baked_svg_and_png(issued: Issued) -> None:
    token = issued.certificate.read_text().strip()
    svg = (issued.root / "badge.svg").read_text("utf-8")
    assert f'<openbadges:credential verify="{token}">' in svg
    assert 'xml:lang="ja"' in svg
    png = (issued.root / "badge.png").read_bytes()
    assert png.startswith(b"\x89PNG")
    assert b"openbadgecredential\0\0\0\0\0" + token.encode() in png


def test_the_qr_opens_the_credentials_page_by_default_or_the_given_same_url(
    issued: Issued, tmp_path: Path
) -> None:
    from verifier import decode_qr

    assert decode_qr((issued.root / "badge.png").read_bytes()) == [issued.credential["id"]]
    out = tmp_path / "same.png"
    quietly("badge", str(issued.certificate), "-o", str(out), "--page-url", issued.credential["id"])
    assert decode_qr(out.read_bytes()) == [issued.credential["id"]]


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("javascript:alert(1)", "must be an https URL, not a javascript: URL"),
        ("data:text/html,<script>alert(1)</script>", "must be an https URL, not a data: URL"),
        ("http://evil.example/fake-registry", "plain http is allowed only to a loopback host"),
        ("https://user@evil.example/", "user information"),
        ("/credentials/x", "not a relative one"),
        ("https://evil.example/fake-registry", "a badge must link to the credential's own page"),
        (
            "https://registry.aigov.example/credentials/other",
            "a badge must link to the credential's own page",
        ),
    ],
    ids=["javascript", "data", "plain-http", "userinfo", "relative", "phishing-https", "another-page"],
)
@pytest.mark.parametrize("suffix", [".svg", ".png"])
def test_a_page_url_that_is_not_the_credentials_page_is_refused(
    issued: Issued, capsys: pytest.CaptureFixture[str], tmp_path: Path, *, url: str, message: str, suffix: str
) -> None:
    out = tmp_path / f"badge{suffix}"
    code, stdout, err = run(capsys, ["badge", str(issued.certificate), "-o", str(out), "--page-url", url])
    assert (code, stdout) == (EXIT_USAGE, "")
    assert err.startswith(f"error: --page-url {url!r} refused: ")
    assert message in err
    assert not out.exists()


@pytest.mark.parametrize("name", ["badge.svg", "badge.png"])
def test_verify_a_badge(issued: Issued, capsys: pytest.CaptureFixture[str], name: str) -> None:
    code, out, err = run(capsys, issued.verify(issued.root / name))
    assert (code, err) == (EXIT_OK, ""), out
    assert out.rstrip().splitlines()[-1].startswith("VALID: ")
    line = badge_line(out)
    if name.endswith(".svg"):
        assert line.startswith("✔ badge")
        assert "matches the signed credential" in line
    else:
        assert line.startswith("- badge")
        assert "not applicable" in line


def test_verify_a_badge_as_json(issued: Issued, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, issued.verify(issued.root / "badge.svg", "--json"))
    result = json.loads(out)
    assert (code, result["verdict"]) == (EXIT_OK, "valid")
    assert result["checks"][-1]["name"] == "badge"
    assert result["checks"][-1]["outcome"] == "passed"


def test_an_edited_badge_is_invalid(
    issued: Issued, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    svg = (issued.root / "badge.svg").read_text("utf-8")
    edited = tmp_path / "edited.svg"
    edited.write_text(svg.replace(">AIGC-2026-000123</text>", ">AIGC-2026-999999</text>"), "utf-8")
    code, out, _ = run(capsys, issued.verify(edited))
    assert code == EXIT_INVALID
    assert badge_line(out).startswith("✘ badge")
    assert "number reads 'AIGC-2026-999999', the credential says 'AIGC-2026-000123'" in out
    assert out.rstrip().splitlines()[-1].startswith("INVALID: do not rely on this badge")


def test_a_redrawn_badge_from_a_badge(issued: Issued, tmp_path: Path) -> None:
    out = tmp_path / "again.svg"
    quietly("badge", str(issued.root / "badge.png"), "-o", str(out), "--status", "valid", "--lang", "en")
    assert "VALID ・ 有効" in out.read_text("utf-8")


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (
            b'<svg xmlns="http://www.w3.org/2000/svg" xmlns:o="https://purl.imsglobal.org/ob/v3p0">'
            b'<o:credential verify="a.b.c"/><o:credential verify="a.b.c"/></svg>',
            "2 <openbadges:credential> elements",
        ),
        (b'<!DOCTYPE svg [<!ENTITY a "b">]><svg/>', "DOCTYPE refused"),
        (b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR", "truncated PNG"),
    ],
    ids=["two-credentials", "doctype", "truncated-png"],
)
def test_verify_a_hostile_badge_is_a_one_line_error(
    issued: Issued, capsys: pytest.CaptureFixture[str], tmp_path: Path, content: bytes, message: str
) -> None:
    path = tmp_path / "hostile"
    path.write_bytes(content)
    code, out, err = run(capsys, issued.verify(path))
    assert (code, out) == (EXIT_USAGE, "")
    assert err.startswith(f"error: {path}: ")
    assert message in err
    assert err.count("\n") == 1


@pytest.mark.parametrize(
    ("content", "output", "message"),
    [
        (None, "badge.gif", "must end in .svg or .png"),
        (b"not a token", "badge.svg", "not a credential token"),
        (b"\xff\xfe", "badge.svg", "not a compact JWS"),
    ],
)
def test_badge_usage_errors(
    issued: Issued,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    *,
    content: bytes | None,
    output: str,
    message: str,
) -> None:
    source = issued.certificate
    if content is not None:
        source = tmp_path / "input"
        source.write_bytes(content)
    code, _, err = run(capsys, ["badge", str(source), "-o", str(tmp_path / output)])
    assert code == EXIT_USAGE
    assert message in err
    assert not (tmp_path / output).exists()
