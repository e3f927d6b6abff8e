"""Files the CLI reads or writes where they cannot be: an endless device as a trust file, an output folder that
cannot be made. One line on stderr and exit 3, never a traceback or a MemoryError."""

from __future__ import annotations

import http.server
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from aigov.cli import EXIT_USAGE, main

TOKEN = b"eyJhbGciOiJFZERTQSJ9.e30.AAAA"


def run(capsys: pytest.CaptureFixture[str], argv: list[str]) -> tuple[int, str, str]:
    code = main(argv)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.mark.skipif(not Path("/dev/zero").exists(), reason="no /dev/zero")
@pytest.mark.parametrize("option", ["--trust", "--status-list"])
def test_an_endless_trust_or_status_list_file_is_one_line_and_exit_3(
    option: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    token = tmp_path / "cert.jwt"
    token.write_bytes(TOKEN)
    trust = tmp_path / "did.json"
    trust.write_text('{"id": "did:web:cb.example", "verificationMethod": []}', encoding="utf-8")
    argv = ["verify", str(token), "--trust", "/dev/zero" if option == "--trust" else str(trust)]
    if option == "--status-list":
        argv += ["--status-list", "/dev/zero"]

    code, out, err = run(capsys, argv)

    assert (code, out) == (EXIT_USAGE, "")
    assert err == "error: /dev/zero: over the 16,777,216-byte limit; not read further\n"


@pytest.fixture
def bundle_server() -> Iterator[str]:
    """A loopback server that hands out a (never verified) bundle token."""

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "application/vc+jwt")
            self.send_header("Content-Length", str(len(TOKEN)))
            self.end_headers()
            self.wfile.write(TOKEN)

        def log_message(self, *_: object) -> None:
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/api/v1/bundle"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def test_bundle_pull_to_a_folder_that_cannot_be_made_is_one_line_and_exit_3(
    bundle_server: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "a-file").write_text("not a folder", encoding="utf-8")
    target = tmp_path / "a-file" / "sub" / "bundle.jwt"

    code, out, err = run(
        capsys, ["bundle", "pull", bundle_server, "--allow-insecure-loopback", "-o", str(target)]
    )

    assert (code, out) == (EXIT_USAGE, "")
    assert err == f"error: cannot write {target}: Not a directory\n"
    assert (tmp_path / "a-file").read_text(encoding="utf-8") == "not a folder"
    code, _, err = run(
        capsys,
        ["bundle", "pull", bundle_server, "--allow-insecure-loopback", "-o", str(tmp_path / "new" / "b.jwt")],
    )
    assert code == 0, err
    assert (tmp_path / "new" / "b.jwt").read_bytes() == TOKEN  # a folder that can be made still is


def test_bundle_pull_over_a_folder_leaves_no_temporary_file(
    bundle_server: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The bundle is written beside its target and renamed: when the rename fails, the written copy goes too."""
    target = tmp_path / "bundle.jwt"
    target.mkdir()

    code, out, err = run(
        capsys, ["bundle", "pull", bundle_server, "--allow-insecure-loopback", "-o", str(target)]
    )

    assert (code, out) == (EXIT_USAGE, "")
    assert err.startswith(f"error: cannot write {target}: ")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bundle.jwt"]
