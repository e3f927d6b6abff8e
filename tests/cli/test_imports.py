"""What `aigov verify` and the library packages import, and the shape of their public API.

Procurement teams run `aigov verify` on laptops: it must not load a web framework, an ORM or the HTTP client
(`import fastapi, sqlmodel` alone costs ≈ 0.44 s). Checked in a fresh interpreter, since this test process has
long since imported everything.
"""

from __future__ import annotations

import json
import subprocess
import sys
import types
import typing
from pathlib import Path

import pytest

import issuer
import keys
import verifier
from aigov.cli import EXIT_OK, main

HEAVY = ("fastapi", "starlette", "sqlalchemy", "sqlmodel", "alembic", "uvicorn", "httpx")
SAMPLE = Path(issuer.__file__).parent / "data" / "sample-decision.json"

# Runs argv[1:] as `aigov`, quietly, then reports the exit code and which heavy modules were loaded.
VERIFY_SCRIPT = f"""
import contextlib, io, json, sys
from aigov.cli import build_parser, main
build_parser()
with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
    code = main(sys.argv[1:])
heavy = sorted(name for name in sys.modules if name.partition(".")[0] in {HEAVY!r})
print(json.dumps({{"code": code, "heavy": heavy}}))
"""

IMPORT_SCRIPT = f"""
import json, sys
import {{package}}
print(json.dumps(sorted(name for name in sys.modules if name.partition(".")[0] in {HEAVY!r})))
"""


def run_python(script: str, *argv: str, cwd: Path | None = None) -> str:
    completed = subprocess.run(  # noqa: S603 - this interpreter, a script of ours
        [sys.executable, "-c", script, *argv],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
        cwd=cwd,
    )
    assert completed.returncode == 0, completed.stderr
    return completed.stdout


@pytest.fixture
def certificate(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Path:
    """A real certificate and its issuer's DID document (trust.json) in tmp_path; throwaway plaintext keys."""
    monkeypatch.setenv("AIGOV_KEYSTORE", str(tmp_path / "keystore"))  # a "keys" dir in cwd would shadow keys
    monkeypatch.setenv("AIGOV_ISSUER_DID", "did:web:cb.test.example")
    monkeypatch.setenv("AIGOV_ISSUER_NAME", "Test Certification Body")
    plain = "--insecure-plaintext-keys"
    for argv in (
        ["keys", "new", plain],
        ["keys", "did", plain, "-o", str(tmp_path / "trust.json")],
        ["issue", str(SAMPLE), plain, "-o", str(tmp_path / "certificate.jwt")],
        ["status-list", "--purpose", "revocation", plain, "-o", str(tmp_path / "revocation.jwt")],
        ["status-list", "--purpose", "suspension", plain, "-o", str(tmp_path / "suspension.jwt")],
    ):
        assert main(argv) == EXIT_OK, capsys.readouterr().err
    capsys.readouterr()
    return tmp_path / "certificate.jwt"


def test_verify_loads_no_web_framework_orm_or_http_client(certificate: Path) -> None:
    directory = certificate.parent
    argv = ["verify", "certificate.jwt", "--trust", "trust.json"]
    lists = ["--status-list", "revocation.jwt", "--status-list", "suspension.jwt"]

    report = json.loads(run_python(VERIFY_SCRIPT, *argv, *lists, cwd=directory))

    assert report == {"code": EXIT_OK, "heavy": []}  # exit 0: a whole, valid verification ran


def test_help_loads_nothing_heavy() -> None:
    report = json.loads(run_python(VERIFY_SCRIPT, "verify", "--help"))

    assert report == {"code": EXIT_OK, "heavy": []}


@pytest.mark.parametrize("package", ["keys", "verifier", "issuer"])
def test_library_import_is_light(package: str) -> None:
    assert json.loads(run_python(IMPORT_SCRIPT.format(package=package))) == []


# -- public API (tests/keys/test_keys_api.py covers keys except the order of its __all__) ----------------------
def isort_order(name: str) -> tuple[int, str]:
    """The order ruff's RUF022 keeps `__all__` in: CONSTANTS, then Classes, then functions."""
    return (0 if name.isupper() else 1 if name[:1].isupper() else 2, name)


@pytest.mark.parametrize("package", [keys, verifier, issuer], ids=lambda p: p.__name__)
def test_all_is_sorted(package: types.ModuleType) -> None:
    assert package.__all__ == sorted(package.__all__, key=isort_order)


@pytest.mark.parametrize("package", [verifier, issuer], ids=lambda p: p.__name__)
def test_all_names_exist_and_are_the_public_names(package: types.ModuleType) -> None:
    assert [name for name in package.__all__ if not hasattr(package, name)] == []
    assert len(set(package.__all__)) == len(package.__all__)
    public = {
        name
        for name, value in vars(package).items()
        if not name.startswith("_") and not isinstance(value, types.ModuleType)
    }
    assert public == set(package.__all__)


@pytest.mark.parametrize("package", [verifier, issuer], ids=lambda p: p.__name__)
def test_public_objects_live_in_private_modules(package: types.ModuleType) -> None:
    for name in package.__all__:
        if typing.get_origin(getattr(package, name)) is not None:
            continue  # a type alias (Annotated, Literal): it reports the module of what it wraps
        module = getattr(getattr(package, name), "__module__", None)
        if module is not None and module != "builtins" and not isinstance(getattr(package, name), str):
            assert module.startswith(f"{package.__name__}._"), name
