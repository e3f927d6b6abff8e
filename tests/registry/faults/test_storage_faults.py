"""Storage that fails: a keystore or database file that cannot be read, a disk that fills up during writes.

Each must give a clear answer (a 503 problem from the API, a one-line error from `aigov serve`) and leave the
database as it was: no credential without its status bits and events, an event chain that verifies.

These tests run as root here, and root reads files whatever their mode, so "unreadable" is made with what
defeats root too: a directory where a file should be (EISDIR), or bytes that are not what they claim to be.
The full disk is a real one: a 4 MiB tmpfs mounted for the test (skipped when mounting is not allowed, a
failure under AIGOV_REQUIRE_ALL=1).
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from keys import b64url_decode
from registry.app import create_app
from registry.db import make_engine
from registry.eventlog import verify_chain
from registry.models import Credential, Event, StatusList
from registry.signers import KeyCache
from verifier import parse_date_time_stamp

if TYPE_CHECKING:
    from conftest import Registry

    from registry.config import Settings

ROOT = Path(__file__).resolve().parents[3]
DATABASE_UNAVAILABLE = "urn:aigov:problem:database-unavailable"


@pytest.fixture
def database_url(tmp_path: Path, sqlite_template: Path) -> str:
    """SQLite only: these faults are about files (overrides the two-backend fixture of conftest.py)."""
    path = tmp_path / "aigov.db"
    shutil.copyfile(sqlite_template, path)
    return f"sqlite:///{path}"


def counts(url: str) -> tuple[int, int, int]:
    engine = make_engine(url)
    try:
        with Session(engine) as session:
            return tuple(  # type: ignore[return-value]
                session.exec(sa.select(sa.func.count()).select_from(table)).one()[0]  # type: ignore[call-overload]
                for table in (Credential, Event, StatusList)
            )
    finally:
        engine.dispose()


def assert_problem(response: Any, status: int, type_uri: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert "Traceback" not in response.text
    assert "sqlite3" not in response.text
    problem: dict[str, Any] = response.json()
    assert problem["type"] == type_uri
    return problem


# -- the keystore -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("damage", ["directory", "garbage", "missing"])
def test_an_unreadable_signing_key_is_a_503_and_changes_nothing(
    registry: Registry, tmp_path: Path, token: str, damage: str
) -> None:
    keystores = tmp_path / "keystores"
    shutil.copytree(registry.settings.keystore_path, keystores)
    (pem,) = (keystores / "acme-cb").glob("*.pem")
    pem.unlink()
    if damage == "directory":
        pem.mkdir()
    elif damage == "garbage":
        pem.write_bytes(
            b"-----BEGIN ENCRYPTED PRIVATE KEY-----\nnot a key\n-----END ENCRYPTED PRIVATE KEY-----\n"
        )
    settings = registry.settings.model_copy(update={"keystore_path": keystores})
    before = counts(settings.database_url)
    # A fresh key cache: the session's already holds the decrypted key.
    with TestClient(create_app(settings, clock=registry.clock, key_cache=KeyCache())) as client:
        response = client.post(
            "/api/v1/credentials", json=registry.decision(), headers=registry.bearer(token)
        )
        problem = assert_problem(response, 503, "urn:aigov:problem:signing-unavailable")
        assert problem["detail"] == "the certification body cannot sign at the moment"
        assert str(keystores) not in response.text  # paths stay in the log
        assert client.get("/api/v1/stats").status_code == 200  # reads are unaffected
    assert counts(settings.database_url) == before


# -- the database file --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("damage", ["not-a-database", "directory"])
def test_an_unreadable_database_is_a_503_on_every_endpoint(
    registry: Registry, tmp_path: Path, token: str, damage: str
) -> None:
    path = tmp_path / "damaged.db"
    if damage == "directory":
        path.mkdir()
    else:
        path.write_bytes(b"this is not an SQLite database, whatever its name says " * 200)
    settings = registry.settings.model_copy(update={"database_url": f"sqlite:///{path}"})
    with TestClient(create_app(settings, clock=registry.clock, key_cache=registry.key_cache)) as client:
        for method, url in (
            ("GET", "/healthz"),
            ("GET", "/api/v1/stats"),
            ("GET", "/api/v1/credentials"),
            ("GET", f"/api/v1/credentials/{uuid.uuid4()}"),
            ("GET", "/status/1"),
            ("POST", "/api/v1/credentials"),
        ):
            response = client.request(method, url, json=registry.decision(), headers=registry.bearer(token))
            assert_problem(response, 503, DATABASE_UNAVAILABLE)
            assert response.headers["retry-after"] == "5"
    if damage == "not-a-database":
        assert path.read_bytes().startswith(b"this is not an SQLite database")  # nothing was written over it


@pytest.mark.slow
def test_serve_refuses_to_start_on_a_file_that_is_not_a_database(registry: Registry, tmp_path: Path) -> None:
    path = tmp_path / "damaged.db"
    path.write_bytes(b"garbage " * 1000)
    env = {name: value for name, value in os.environ.items() if not name.startswith("AIGOV_")}
    env.update(
        {
            "AIGOV_DATABASE_URL": f"sqlite:///{path}",
            "AIGOV_ENVIRONMENT": "development",
            "AIGOV_KEYSTORE_PATH": str(registry.settings.keystore_path),
            "AIGOV_KEY_PASSPHRASE": registry.settings.key_passphrase.get_secret_value(),
        }
    )
    done = subprocess.run(
        [sys.executable, "-m", "aigov", "serve", "--port", "9"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 3, done.stderr
    assert done.stderr.startswith("error: refusing to start: cannot read the database"), done.stderr
    assert "Traceback" not in done.stderr


# -- a full disk --------------------------------------------------------------------------------------------------


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 4 MiB tmpfs, unmounted at the end."""
    mountpoint = tmp_path / "small-disk"
    mountpoint.mkdir()
    done = subprocess.run(  # noqa: S603
        ["mount", "-t", "tmpfs", "-o", "size=4m,mode=0700", "tmpfs", str(mountpoint)],  # noqa: S607
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        reason = f"a full disk is simulated with a tmpfs, which needs mount (as root): {done.stderr.strip()}"
        if os.environ.get("AIGOV_REQUIRE_ALL") == "1":
            pytest.fail(f"AIGOV_REQUIRE_ALL=1: {reason}")
        pytest.skip(reason)
    try:
        yield mountpoint
    finally:
        subprocess.run(["umount", "-l", str(mountpoint)], check=False)  # noqa: S603, S607


def fill(path: Path, leave: int, name: str = "filler") -> Path:
    """A file filling `path`'s file system until about `leave` bytes are free."""
    filler = path / name
    free = shutil.disk_usage(path).free
    with filler.open("wb") as out:
        out.write(b"\0" * max(0, free - leave))
    return filler


def empty_log(settings: Settings) -> None:
    """Copy SQLite's write-ahead log into the database and truncate it. A log that was checkpointed (the
    server's Checkpointer does it every half second) is rewritten from its start by the next commit: space the
    file already holds, which a full disk does not take away. Emptied, the next commit needs new space."""
    with sqlite3.connect(settings.database_url.removeprefix("sqlite:///")) as connection:
        busy, _, _ = connection.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
    assert busy == 0, "the log could not be emptied: a transaction was open"


def moved_to(registry: Registry, directory: Path) -> Settings:
    """The registry fixture's settings with its database copied into `directory` (SQLite's backup API: the
    fixture's last commits may still be in its write-ahead log)."""
    path = directory / "aigov.db"
    with sqlite3.connect(registry.settings.database_url.removeprefix("sqlite:///")) as source:
        target = sqlite3.connect(path)
        source.backup(target)
        target.close()
    return registry.settings.model_copy(update={"database_url": f"sqlite:///{path}"})


@pytest.mark.slow
def test_a_full_disk_fails_writes_cleanly_and_they_resume_when_space_returns(
    registry: Registry, small_disk: Path, token: str
) -> None:
    settings = moved_to(registry, small_disk)
    url = settings.database_url
    path = Path(url.removeprefix("sqlite:///"))
    acknowledged: list[str] = []
    refused = 0
    with TestClient(create_app(settings, clock=registry.clock, key_cache=registry.key_cache)) as client:

        def issue() -> Any:
            return client.post(
                "/api/v1/credentials", json=registry.decision(), headers=registry.bearer(token)
            )

        first = issue()
        assert first.status_code == 201, first.text
        acknowledged.append(first.json()["id"])
        filler = fill(small_disk, leave=96 * 1024)
        for _ in range(60):
            response = issue()
            if response.status_code == 201:
                acknowledged.append(response.json()["id"])
                continue
            problem = assert_problem(response, 503, DATABASE_UNAVAILABLE)
            assert "retry later" in problem["detail"]
            refused += 1
            if refused == 3:
                break
        assert refused == 3, "the disk never filled up"
        # Reads still work on a full disk.
        assert client.get(f"/api/v1/credentials/{acknowledged[-1]}").status_code == 200
        # Space returns: writes resume without a restart.
        filler.unlink()
        response = issue()
        assert response.status_code == 201, response.text
        acknowledged.append(response.json()["id"])

    with sqlite3.connect(path) as connection:
        assert connection.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
    engine = make_engine(url)
    try:
        with Session(engine) as session:
            stored = {str(c.id): c for c in session.exec(select(Credential))}
            assert set(stored) == set(acknowledged)  # every refused issuance left nothing behind
            assert all(c.status == "active" for c in stored.values())
            issued = [e for e in session.exec(select(Event)) if e.action == "issued"]
            assert sorted(str(e.credential_id) for e in issued) == sorted(acknowledged)
            report = verify_chain(session=session)
            assert report.ok, report
    finally:
        engine.dispose()


@pytest.mark.slow
def test_lists_due_to_be_re_signed_are_served_from_a_full_disk(
    registry: Registry, small_disk: Path, token: str
) -> None:
    settings = moved_to(registry, small_disk)
    with TestClient(create_app(settings, clock=registry.clock, key_cache=registry.key_cache)) as client:
        issued = client.post("/api/v1/credentials", json=registry.decision(), headers=registry.bearer(token))
        assert issued.status_code == 201, issued.text
        status_path = (
            "/status/" + issued.json()["credentialStatus"][0]["statusListCredential"].rsplit("/", 1)[1]
        )
        trust_list = client.get("/trust-list")
        assert trust_list.status_code == 200, trust_list.text
        empty_log(settings)
        filler = fill(small_disk, leave=0)
        registry.clock.advance(days=2)  # both lists past half their validity: re-signed in the background

        assert client.get(status_path).status_code == 200
        assert client.get("/trust-list").headers["etag"] == trust_list.headers["etag"]  # no room: as stored
        with TestClient(create_app(settings, clock=registry.clock, key_cache=registry.key_cache)) as fresh:
            # A worker started meanwhile does not know the keys are unchanged: it finds out from the database.
            assert fresh.get("/trust-list").headers["etag"] == trust_list.headers["etag"]
        registry.clock.advance(days=2)  # the status list expired: the read tries to re-sign it first
        assert client.get(status_path).status_code == 200

        filler.unlink()  # space returns: once its ttl has passed, the list is current again
        registry.clock.advance(seconds=registry.settings.status_ttl_seconds)
        listed = client.get(status_path)
        valid_until = json.loads(b64url_decode(listed.text.split(".")[1]))["validUntil"]
        assert parse_date_time_stamp(valid_until) > registry.clock() + timedelta(days=1)
