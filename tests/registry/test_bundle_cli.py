"""`aigov bundle pull` from a real registry under uvicorn on loopback, then `aigov verify --bundle` with no
network, `--trust-list`, and the accreditation commands of `aigov admin` (SQLite; the registry logic itself is
tested on both backends in test_trust_list.py and test_bundle.py)."""

from __future__ import annotations

import contextlib
import io
import json
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from sqlmodel import select

from aigov.cli import EXIT_INDETERMINATE, EXIT_INVALID, EXIT_OK, EXIT_USAGE, main
from keys import b64url_decode, b64url_encode, did_web_document
from registry.db import write_transaction
from registry.identity import REGISTRY_KEYSTORE, registry_did
from registry.models import Accreditation, AccreditationChange, CertificationBody
from registry.trustlist import TrustListPolicy, accredit

pytestmark = pytest.mark.slow  # a server per test: about a second each

PASSPHRASE = "registry tests: not a real passphrase"  # tests/registry/conftest.py


@pytest.fixture(params=["sqlite"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path, sqlite_template: Path) -> str:
    import shutil

    path = tmp_path / "aigov.db"
    shutil.copyfile(sqlite_template, path)
    return f"sqlite:///{path}"


def run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(list(argv))
    return code, out.getvalue(), err.getvalue()


@dataclass
class Served:
    url: str
    registry: Any
    certificate: Path
    owner_document: Path
    thumbprint: str


@pytest.fixture
def accredited() -> bool:
    """`served` accredits acme-cb itself; the commands below decide about other-cb (tests/registry/conftest.py)."""
    return False


@pytest.fixture
def served(registry: Any, token: str, tmp_path: Path) -> Iterator[Served]:
    ctx = registry.context()
    with registry.session() as session, write_transaction(session):
        accredit(
            session=session,
            signers=ctx.signers,
            policy=TrustListPolicy(public_url=registry.settings.public_url),
            body=session.get(CertificationBody, registry.acme.id),
            scheme_id="example-aigov-scheme",
            levels=None,
            valid_from=datetime(2026, 1, 1, tzinfo=UTC),
            valid_until=None,
            reason="assessment passed",
            actor="admin",
            now=registry.clock(),
        )
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    server = uvicorn.Server(
        uvicorn.Config(registry.app(), log_level="warning", access_log=False, lifespan="on")
    )
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        assert time.monotonic() < deadline, "the server did not start"
        time.sleep(0.01)
    try:
        from fastapi.testclient import TestClient

        with TestClient(registry.app()) as client:
            issued = client.post(
                "/api/v1/credentials", json=registry.decision(), headers=registry.bearer(token)
            ).json()
        certificate = tmp_path / "cert.jwt"
        certificate.write_text(issued["token"])
        owner_keys = registry.keystore(REGISTRY_KEYSTORE).published_keys()
        owner = tmp_path / "owner-did.json"
        owner.write_text(json.dumps(did_web_document(registry_did(registry.settings.public_url), owner_keys)))
        yield Served(url, registry, certificate, owner, owner_keys[0].kid)
    finally:
        server.should_exit = True
        thread.join(timeout=15)
        sock.close()


def when(served: Served, **delta: float) -> str:
    return (served.registry.clock() + timedelta(**delta)).isoformat()


def pull(served: Served, target: Path, *extra: str) -> tuple[int, str, str]:
    return run(
        "bundle",
        "pull",
        f"{served.url}/api/v1/bundle",
        "-o",
        str(target),
        "--allow-insecure-loopback",
        *extra,
    )


def test_pull_then_verify_offline(served: Served, tmp_path: Path) -> None:
    bundle = tmp_path / "bundle.jwt"
    code, out, err = pull(served, bundle, "--scheme-owner-fingerprint", served.thumbprint)
    assert code == EXIT_OK, err
    assert out.strip() == str(bundle)
    assert "verified" in err
    assert "2 status lists" in err

    code, out, err = run(
        "verify",
        str(served.certificate),
        "--bundle",
        str(bundle),
        "--scheme-owner-fingerprint",
        served.thumbprint,
        "--now",
        when(served, hours=2),
    )
    assert code == EXIT_OK, out + err
    assert "bundle of 2026-11-01T00:00:00Z, 2 h old (max-age 24 h)" in err
    assert "is accredited by did:web:registry.test.example" in out

    code, out, _ = run(
        "verify",
        str(served.certificate),
        "--bundle",
        str(bundle),
        "--scheme-owner",
        str(served.owner_document),
        "--now",
        when(served, hours=2),
        "--json",
    )
    assert code == EXIT_OK
    assert json.loads(out)["bundle"] == {
        "issued": "2026-11-01T00:00:00Z",
        "ageSeconds": 7200,
        "maxAgeSeconds": 86400,
    }


def test_an_old_bundle_gives_indeterminate(served: Served, tmp_path: Path) -> None:
    bundle = tmp_path / "bundle.jwt"
    assert pull(served, bundle)[0] == EXIT_OK
    base = ("verify", str(served.certificate), "--bundle", str(bundle), "--scheme-owner", served.thumbprint)
    code, out, err = run(*base, "--now", when(served, hours=3), "--max-age", "1h")
    assert code == EXIT_INDETERMINATE, out + err
    assert "too old" in err
    assert "3 h old, over the 1 h policy" in out
    assert run(*base, "--now", when(served, hours=3), "--max-age", "4h")[0] == EXIT_OK
    assert run(*base, "--max-age", "soon")[0] == EXIT_USAGE


def test_a_tampered_or_foreign_bundle_is_refused(served: Served, tmp_path: Path) -> None:
    bundle = tmp_path / "bundle.jwt"
    assert pull(served, bundle)[0] == EXIT_OK
    header, payload, signature = bundle.read_text().split(".")
    claims = json.loads(b64url_decode(payload))
    claims["credentialSubject"]["statusLists"] = []
    tampered = tmp_path / "tampered.jwt"
    tampered.write_text(f"{header}.{b64url_encode(json.dumps(claims).encode())}.{signature}")
    code, _, err = run(
        "verify", str(served.certificate), "--bundle", str(tampered), "--scheme-owner", served.thumbprint
    )
    assert code == EXIT_USAGE
    assert "signature does not match" in err
    wrong = served.registry.keystore("acme-cb").published_keys()[0].kid
    code, _, err = run(
        "verify", str(served.certificate), "--bundle", str(bundle), "--scheme-owner-fingerprint", wrong
    )
    assert code == EXIT_USAGE
    assert "no key of did:web:registry.test.example has the pinned fingerprint" in err
    assert run("verify", str(served.certificate), "--bundle", str(bundle))[0] == EXIT_USAGE


def test_pull_refuses_plain_http_and_does_not_write_an_unverified_bundle(
    served: Served, tmp_path: Path
) -> None:
    target = tmp_path / "bundle.jwt"
    code, _, err = run("bundle", "pull", f"{served.url}/api/v1/bundle", "-o", str(target))
    assert code == EXIT_USAGE
    assert "only https" in err
    wrong = served.registry.keystore("acme-cb").published_keys()[0].kid
    code, _, err = pull(served, target, "--scheme-owner-fingerprint", wrong)
    assert code == EXIT_USAGE
    assert not target.exists()
    code, _, err = run(
        "bundle", "pull", f"{served.url}/trust-listing", "-o", str(target), "--allow-insecure-loopback"
    )
    assert code == EXIT_USAGE
    assert "404" in err


def test_verify_with_a_trust_list_and_status_list_files(served: Served, tmp_path: Path) -> None:
    import httpx

    trust_list = tmp_path / "trust-list.jwt"
    trust_list.write_text(httpx.get(f"{served.url}/trust-list").text)
    claims = json.loads(b64url_decode(served.certificate.read_text().split(".")[1]))
    statuses = []
    for entry in claims["credentialStatus"]:
        path = tmp_path / f"{entry['statusPurpose']}.jwt"
        path.write_text(
            httpx.get(
                served.url + entry["statusListCredential"].removeprefix("https://registry.test.example")
            ).text
        )
        statuses += ["--status-list", str(path)]
    code, out, err = run(
        "verify",
        str(served.certificate),
        "--trust-list",
        str(trust_list),
        "--scheme-owner",
        str(served.owner_document),
        *statuses,
        "--now",
        when(served, hours=1),
    )
    assert code == EXIT_OK, out + err
    code, _, err = run(
        "verify",
        str(served.certificate),
        "--trust-list",
        str(trust_list),
        "--scheme-owner-fingerprint",
        served.thumbprint,
    )
    assert code == EXIT_USAGE
    assert "does not carry it" in err
    code, out, _ = run(
        "verify",
        str(served.certificate),
        "--trust-list",
        str(trust_list),
        "--scheme-owner",
        str(served.owner_document),
        "--now",
        when(served, days=4),
    )
    assert code == EXIT_INDETERMINATE
    assert "trust list version 1 of did:web:registry.test.example expired" in out


def admin_environment(served: Served, monkeypatch: pytest.MonkeyPatch) -> None:
    settings = served.registry.settings
    monkeypatch.setenv("AIGOV_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("AIGOV_PUBLIC_URL", settings.public_url)
    monkeypatch.setenv("AIGOV_KEYSTORE_PATH", str(settings.keystore_path))
    monkeypatch.setenv("AIGOV_KEY_PASSPHRASE", PASSPHRASE)
    monkeypatch.setenv("AIGOV_ENVIRONMENT", "production")
    # The test's own marks file: the keystores are shared by the session's tests, whose logs start alike.
    monkeypatch.setenv("AIGOV_HIGH_WATER_FILE", str(settings.high_water_path))


def test_lifting_a_suspension_on_the_command_line_keeps_the_start(
    served: Served, monkeypatch: pytest.MonkeyPatch
) -> None:
    admin_environment(served, monkeypatch)
    code, _, err = run("admin", "suspend-accreditation", "--issuer", "acme-cb", "--reason", "overdue audit")
    assert code == EXIT_OK, err
    code, _, err = run("admin", "accredit", "--issuer", "acme-cb", "--levels", "1,2,3", "--reason", "lifted")
    assert code == EXIT_OK, err
    with served.registry.session() as session:
        [row] = session.exec(select(Accreditation).where(Accreditation.issuer_id == served.registry.acme.id))
        assert (row.state, row.valid_from) == ("active", datetime(2026, 1, 1, tzinfo=UTC))
        changes = session.exec(
            select(AccreditationChange.state).where(AccreditationChange.accreditation_id == row.id)
        ).all()
        assert list(changes) == ["active", "suspended", "active"]


def test_admin_accreditation_commands(served: Served, monkeypatch: pytest.MonkeyPatch) -> None:
    settings = served.registry.settings
    admin_environment(served, monkeypatch)
    code, out, err = run(
        "admin", "accredit", "--issuer", "other-cb", "--levels", "1,2", "--reason", "assessed"
    )
    assert code == EXIT_OK, err
    assert out.strip() == f"{settings.public_url}/trust-list"
    assert "other-cb accredited for example-aigov-scheme levels 1, 2" in err
    code, _, err = run("admin", "suspend-accreditation", "--issuer", "other-cb", "--reason", "overdue audit")
    assert code == EXIT_OK, err
    code, _, err = run("admin", "suspend-accreditation", "--issuer", "other-cb", "--reason", "again")
    assert code == EXIT_USAGE
    assert "already suspended" in err
    code, _, err = run("admin", "withdraw-accreditation", "--issuer", "other-cb", "--reason", "misuse")
    assert code == EXIT_OK, err
    assert run("admin", "accredit", "--issuer", "nobody", "--reason", "x")[0] == EXIT_USAGE
    assert run("admin", "accredit", "--issuer", "other-cb", "--levels", "7", "--reason", "x")[0] == EXIT_USAGE
    assert (
        run("admin", "withdraw-accreditation", "--issuer", "other-cb")[0] == EXIT_USAGE
    )  # --reason required
    with served.registry.session() as session:
        body = session.get(CertificationBody, served.registry.other.id)
        assert body.state == "withdrawn"
    assert EXIT_INVALID == 1  # the verify exit codes this file relies on
