"""`aigov db after-restore`: a registry restored from a backup never vouches for a credential it no longer knows.

The backup is real: `aigov db backup` on SQLite, `pg_dump` and `pg_restore` into a new database on PostgreSQL,
as the README's restore section says. Credentials issued after the backup exist (their holders have them);
after the restore and the fence they verify as revoked, their list numbers are never reused, and the
credentials the backup holds keep working.
"""

from __future__ import annotations

import json
import subprocess
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError
from sqlmodel import Session, select

from aigov.cli import EXIT_INVALID, EXIT_OK, EXIT_USAGE, main
from registry import highwater
from registry.app import create_app
from registry.db import make_engine
from registry.eventlog import verify_chain
from registry.models import CertificationBody, Event
from registry.tokens import Scope, create_token
from verifier import TrustStore, Verdict, verify

if TYPE_CHECKING:
    from conftest import Registry

    from registry.config import Settings


@pytest.fixture
def cli_env(registry: Registry, monkeypatch: pytest.MonkeyPatch) -> None:
    """What `aigov db after-restore` reads: the registry's keystore, passphrase and public URL. The command
    signs with the real clock, so the registry's clock is moved to the real time too."""
    registry.clock.now = datetime.now(UTC)
    settings = registry.settings
    monkeypatch.setenv("AIGOV_KEYSTORE_PATH", str(settings.keystore_path))
    monkeypatch.setenv("AIGOV_KEY_PASSPHRASE", settings.key_passphrase.get_secret_value())
    monkeypatch.setenv("AIGOV_PUBLIC_URL", settings.public_url)
    monkeypatch.setenv("AIGOV_ENVIRONMENT", settings.environment)
    monkeypatch.setenv("AIGOV_HIGH_WATER_FILE", str(settings.high_water_path))


@pytest.fixture
def backup(registry: Registry, tmp_path: Path, new_postgres_database: Callable[[], str]) -> Callable[[], str]:
    """`backup()` copies the registry's database as its operator would; it returns the restored copy's URL."""

    def take() -> str:
        url = registry.settings.database_url
        if not registry.is_postgres:
            target = tmp_path / "backup.db"
            assert main(["db", "backup", str(target), "--database-url", url]) == EXIT_OK
            return f"sqlite:///{target}"
        dump = tmp_path / "backup.dump"
        subprocess.run(["pg_dump", "--format=custom", f"--file={dump}", _libpq(url)], check=True)  # noqa: S603, S607
        copy = new_postgres_database()
        subprocess.run(["pg_restore", "--no-owner", f"--dbname={_libpq(copy)}", str(dump)], check=True)  # noqa: S603, S607
        return copy

    return take


def _libpq(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def issue(client: TestClient, registry: Registry, token: str) -> dict[str, Any]:
    response = client.post("/api/v1/credentials", json=registry.decision(), headers=registry.bearer(token))
    assert response.status_code == 201, response.text
    return response.json()  # type: ignore[no-any-return]


def list_ids(issued: dict[str, Any]) -> set[int]:
    return {int(entry["statusListCredential"].rsplit("/", 1)[1]) for entry in issued["credentialStatus"]}


def check(client: TestClient, registry: Registry, issued: dict[str, Any]) -> tuple[Verdict, list[str]]:
    """The credential verified against the status lists the registry serves now, and what its checks said."""
    trust = TrustStore()
    for body in (registry.acme, registry.other):
        trust.add_issuer(body.did, registry.keystore(body.slug).published_keys())
    for entry in issued["credentialStatus"]:
        response = client.get(entry["statusListCredential"].removeprefix(registry.settings.public_url))
        if response.status_code == 200:
            trust.add_status_list(response.text)
    result = verify(issued["token"], trust, now=max(datetime.now(UTC), registry.clock()))
    return result.verdict, [c.detail for c in result.checks if c.name.startswith("status")]


def restored_settings(registry: Registry, url: str) -> Settings:
    return registry.settings.model_copy(update={"database_url": url})


@pytest.mark.usefixtures("cli_env")
def test_credentials_the_restore_lost_verify_as_revoked_and_their_lists_are_never_renumbered(
    registry: Registry, backup: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    acme, other = registry.token(), registry.token(registry.other)
    with TestClient(registry.app()) as client:
        kept = issue(client, registry, acme)
    restored_url = backup()
    with TestClient(registry.app()) as client:
        lost = issue(client, registry, acme)  # in the lists the backup knows, at indices it thinks free
        lost_elsewhere = issue(client, registry, other)  # other's first lists: numbers the backup never gave
    assert list_ids(lost) == list_ids(kept)
    lost_lists = list_ids(lost_elsewhere)
    known_lists = list_ids(kept)
    follower_at = head(registry.settings.database_url).seq  # a regulator's mirror of the event log

    capsys.readouterr()  # what the backup printed
    code = main(["db", "after-restore", "--database-url", restored_url])
    out, err = capsys.readouterr()
    assert code == EXIT_OK, err
    first_new = max(known_lists) + 10_000
    assert out.splitlines() == [
        "status lists closed: 2 (of 1 certification body)",
        "indices that no known credential holds, marked revoked: 131,071",
        f"new lists start at number {first_new}",
        "API tokens revoked: 2 (make new ones: aigov admin create-token)",
        "Re-issue the certificates issued after the backup; make its later revocations and suspensions again.",
    ]

    settings = restored_settings(registry, restored_url)
    with TestClient(create_app(settings, clock=registry.clock, key_cache=registry.key_cache)) as client:
        # The mirror learns at its next poll that the log went back, and from where to re-read it.
        assert_log_behind(client, after=follower_at, last=head(restored_url).seq)
        verdict, details = check(client, registry, lost)
        assert verdict is Verdict.INVALID, details
        assert any(d.startswith("the credential is revoked") for d in details), details
        assert check(client, registry, kept)[0] is Verdict.VALID, check(client, registry, kept)[1]
        for list_id in lost_lists:  # unknown to the restored registry: status unknown, never "not revoked"
            assert client.get(f"/status/{list_id}").status_code == 404
        assert check(client, registry, lost_elsewhere)[0] is Verdict.INDETERMINATE

        # Tokens the backup holds are revoked: one revoked after the backup would otherwise work again.
        refused = client.post("/api/v1/credentials", json=registry.decision(), headers=registry.bearer(acme))
        assert refused.status_code == 401, refused.text
        acme, other = (token_in(restored_url, body, registry) for body in (registry.acme, registry.other))

        # New credentials go to new lists, numbered past every list the lost period may have started.
        again = issue(client, registry, acme)
        assert list_ids(again) == {first_new, first_new + 1}
        assert check(client, registry, again)[0] is Verdict.VALID
        fresh = issue(client, registry, other)
        assert min(list_ids(fresh)) > first_new + 1
        assert not list_ids(fresh) & lost_lists
        assert check(client, registry, fresh)[0] is Verdict.VALID

        # A credential the backup holds can still be revoked, in its closed list.
        revoked = client.post(
            f"/api/v1/credentials/{kept['id']}/revoke",
            json={"reasonCode": "company_request"},
            headers=registry.bearer(acme),
        )
        assert revoked.status_code == 200, revoked.text
        assert check(client, registry, kept)[0] is Verdict.INVALID

    engine = make_engine(restored_url)
    try:
        with Session(engine) as session:
            restored_events = [e for e in session.exec(select(Event)) if e.action == "restored"]
            assert [(e.payload["closedLists"], e.payload["newLists"]) for e in restored_events] == [
                (sorted(known_lists), [first_new, first_new + 1])
            ]
            assert verify_chain(session=session).ok
    finally:
        engine.dispose()
    assert main(["db", "check", "--database-url", restored_url]) == EXIT_OK


def assert_log_behind(client: TestClient, *, after: int, last: int) -> None:
    behind = client.get("/api/v1/events", params={"after": after})
    assert behind.status_code == 409, behind.text
    assert behind.json()["type"] == "urn:aigov:problem:event-log-behind"
    assert f"the event log ends at seq {last}, before after={after}" in behind.text


def token_in(url: str, body: CertificationBody, registry: Registry) -> str:
    engine = make_engine(url)
    try:
        with Session(engine, expire_on_commit=False) as session:
            _, secret = create_token(
                session=session, body=body, scopes=[scope.value for scope in Scope], now=registry.clock()
            )
            session.commit()
        return secret
    finally:
        engine.dispose()


@pytest.mark.usefixtures("cli_env")
def test_a_backup_from_before_the_first_issuance_still_numbers_new_lists_past_the_lost_ones(
    registry: Registry, backup: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    restored_url = backup()
    acme = registry.token()  # made after the backup: lost with it
    with TestClient(registry.app()) as client:
        lost = issue(client, registry, acme)
    capsys.readouterr()
    assert main(["db", "after-restore", "--database-url", restored_url, "--skip-lists", "50"]) == EXIT_OK
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "status lists closed: 0 (of 2 certification bodies)"  # each gets new lists all the same
    assert out[2] == "new lists start at number 50"
    settings = restored_settings(registry, restored_url)
    with TestClient(create_app(settings, clock=registry.clock, key_cache=registry.key_cache)) as client:
        for list_id in list_ids(lost):
            assert client.get(f"/status/{list_id}").status_code == 404
        again = issue(client, registry, token_in(restored_url, registry.acme, registry))
        assert min(list_ids(again)) >= 50
        assert check(client, registry, again)[0] is Verdict.VALID


@pytest.mark.parametrize("skip", ["0", "-3", "many"])
def test_a_bad_skip_is_a_usage_error(
    registry: Registry, skip: str, capsys: pytest.CaptureFixture[str], cli_env: None
) -> None:
    code = main(
        ["db", "after-restore", "--database-url", registry.settings.database_url, "--skip-lists", skip]
    )
    assert code == EXIT_USAGE
    assert "--skip-lists" in capsys.readouterr().err


def test_without_the_keystore_nothing_changes(
    registry: Registry,
    capsys: pytest.CaptureFixture[str],
    cli_env: None,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    token = registry.token()
    with TestClient(registry.app()) as client:
        issued = issue(client, registry, token)
        before = client.get(f"/status/{min(list_ids(issued))}").text
    monkeypatch.setenv("AIGOV_KEYSTORE_PATH", str(tmp_path / "no-keys"))
    code = main(["db", "after-restore", "--database-url", registry.settings.database_url])
    err = capsys.readouterr().err
    assert code == EXIT_USAGE
    assert "(nothing changed)" in err
    assert "Traceback" not in err
    with TestClient(registry.app()) as client:
        assert client.get(f"/status/{min(list_ids(issued))}").text == before
    assert registry.count(Event) == registry.setup_events + 1


def head(url: str) -> highwater.Mark:
    engine = make_engine(url)
    try:
        with Session(engine) as session:
            return highwater.current(session)
    finally:
        engine.dispose()


def rolled_back(url: str, registry: Registry) -> str | None:
    """Why `aigov serve` would refuse the database of `url`, or None."""
    engine = make_engine(url)
    try:
        with Session(engine) as session:
            highwater.check(session, registry.settings.high_water_path)
    except highwater.RolledBackError as e:
        return str(e)
    finally:
        engine.dispose()
    return None


@pytest.mark.usefixtures("cli_env")
def test_the_server_refuses_a_database_that_went_back_in_time_until_it_is_fenced(
    registry: Registry, backup: Any, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    token = registry.token()
    restored_url = backup()
    with TestClient(registry.app(record_high_water=True)) as client:  # as `aigov serve` runs it
        issue(client, registry, token)
        issue(client, registry, token)
    original = head(registry.settings.database_url)
    recorded = highwater.read(registry.settings.high_water_path, str(original.first))
    assert recorded == original  # recorded at shutdown
    assert rolled_back(registry.settings.database_url, registry) is None

    capsys.readouterr()
    monkeypatch.setenv("AIGOV_DATABASE_URL", restored_url)

    def started(*_: object, **__: object) -> None:
        pytest.fail("aigov serve started on a database that went back in time")

    monkeypatch.setattr("uvicorn.run", started)
    assert main(["serve"]) == EXIT_USAGE  # refused before it listens
    behind = head(restored_url).seq
    assert capsys.readouterr().err.splitlines()[-1] == (
        f"error: refusing to start: the database went back in time (its event log ends at event {behind}, but "
        f"this registry had recorded event {original.seq}): it was restored from a backup or lost its last "
        "commits. Credentials issued since then exist but are unknown to it; run `aigov db after-restore` "
        "(README, Restoring) before starting the server"
    )

    assert main(["db", "after-restore", "--database-url", restored_url]) == EXIT_OK
    assert rolled_back(restored_url, registry) is None  # fenced: it starts
    # The database the restore replaced is now the other branch of the fork: it must not come back either.
    assert "the log forked" in str(rolled_back(registry.settings.database_url, registry))


def test_a_mark_never_moves_back_unless_forced(tmp_path: Path) -> None:
    path = tmp_path / "marks.json"
    highwater.record(path, highwater.Mark(first="a" * 64, seq=9, hash="b" * 64))
    highwater.record(path, highwater.Mark(first="a" * 64, seq=4, hash="c" * 64))  # a slower worker
    assert highwater.read(path, "a" * 64) == highwater.Mark(first="a" * 64, seq=9, hash="b" * 64)
    highwater.record(path, highwater.Mark(first="a" * 64, seq=4, hash="c" * 64), force=True)
    assert highwater.read(path, "a" * 64) == highwater.Mark(first="a" * 64, seq=4, hash="c" * 64)
    highwater.record(path, highwater.Mark(first=None, seq=0, hash="0" * 64))  # an empty log: nothing to mark
    assert list(json.loads(path.read_text())) == ["a" * 64]
    assert path.stat().st_mode & 0o777 == 0o644  # event hashes are public; the server may run as another user


def test_workers_recording_at_once_never_move_a_mark_back(tmp_path: Path) -> None:
    path = tmp_path / "marks.json"

    def worker(parity: int) -> None:
        for seq in range(parity, 200, 2):
            highwater.record(path, highwater.Mark(first="a" * 64, seq=seq, hash=f"{seq:064d}"))

    threads = [threading.Thread(target=worker, args=(parity,)) for parity in (0, 1)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert highwater.read(path, "a" * 64) == highwater.Mark(first="a" * 64, seq=199, hash=f"{199:064d}")


@pytest.mark.parametrize(
    "content",
    ["", "{", "[1, 2]", '{"' + "a" * 64 + '": {"seq": "9"}}', "\udcff".encode("utf-8", "surrogatepass")],
)
def test_an_unreadable_marks_file_stops_the_server_and_is_never_overwritten(
    registry: Registry, content: str | bytes
) -> None:
    path = registry.settings.high_water_path
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content)
    with pytest.raises(
        highwater.UnreadableMarksError, match=r"cannot read the high-water marks in .*after-restore"
    ):
        highwater.read(path, "a" * 64)
    with pytest.raises(highwater.UnreadableMarksError):  # what `aigov serve` runs: it fails closed
        rolled_back(registry.settings.database_url, registry)
    with pytest.raises(highwater.UnreadableMarksError):
        highwater.record(path, head(registry.settings.database_url))
    assert path.read_bytes() == (content if isinstance(content, bytes) else content.encode())


@pytest.mark.usefixtures("cli_env")
def test_a_fence_whose_mark_cannot_be_recorded_says_so_and_the_server_stays_stopped(
    registry: Registry, backup: Any, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    restored_url = backup()
    registry.settings.high_water_path.mkdir()  # a directory where the file should be
    capsys.readouterr()
    assert main(["db", "after-restore", "--database-url", restored_url]) == EXIT_INVALID
    err = capsys.readouterr().err
    assert "the database is fenced, but its high-water mark could not be recorded" in err
    assert "AIGOV_HIGH_WATER_FILE" in err
    assert head(restored_url).seq == registry.setup_events + 2  # fenced all the same: a restored event each


@pytest.mark.usefixtures("cli_env")
def test_with_no_body_that_can_sign_sqlite_refuses_and_postgresql_moves_its_sequence(
    registry: Registry,
    backup: Any,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    restored_url = backup()
    monkeypatch.setenv("AIGOV_KEYSTORE_PATH", str(tmp_path / "no-keys"))
    capsys.readouterr()
    code = main(["db", "after-restore", "--database-url", restored_url, "--skip-lists", "70"])
    if (
        not registry.is_postgres
    ):  # SQLite numbers a new list from the highest row: nothing could hold the floor
        assert code == EXIT_USAGE
        assert "nothing can hold new list numbers" in capsys.readouterr().err
        assert head(restored_url).seq == registry.setup_events
        return
    assert code == EXIT_OK
    assert "new lists start at number 70" in capsys.readouterr().out
    settings = restored_settings(registry, restored_url)
    with TestClient(create_app(settings, clock=registry.clock, key_cache=registry.key_cache)) as client:
        again = issue(client, registry, token_in(restored_url, registry.acme, registry))
        assert min(list_ids(again)) >= 70


def test_a_mark_that_cannot_be_written_is_logged_and_the_registry_serves_on(
    registry: Registry, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    registry.settings = registry.settings.model_copy(
        update={"high_water_file": tmp_path / "no-such-directory" / "marks.json"}
    )
    with TestClient(registry.app(record_high_water=True)) as client:
        issue(client, registry, registry.token())
    assert "cannot record the high-water mark" in caplog.text


@pytest.mark.usefixtures("cli_env")
def test_another_public_url_is_refused_before_anything_is_signed(
    registry: Registry, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    with TestClient(registry.app()) as client:
        issue(client, registry, registry.token())
    monkeypatch.setenv("AIGOV_PUBLIC_URL", "https://elsewhere.example")
    capsys.readouterr()
    assert main(["db", "after-restore", "--database-url", registry.settings.database_url]) == EXIT_USAGE
    err = capsys.readouterr().err
    assert "the public URL is https://elsewhere.example, but acme-cb is did:web:" in err
    assert "(nothing changed)" in err
    assert registry.count(Event) == registry.setup_events + 1


@pytest.mark.usefixtures("cli_env")
def test_keep_tokens_leaves_them_active(registry: Registry, capsys: pytest.CaptureFixture[str]) -> None:
    token = registry.token()
    with TestClient(registry.app()) as client:
        issue(client, registry, token)
    assert (
        main(["db", "after-restore", "--database-url", registry.settings.database_url, "--keep-tokens"]) == 0
    )
    assert "API tokens revoked" not in capsys.readouterr().out
    with TestClient(registry.app()) as client:
        issue(client, registry, token)


@pytest.mark.usefixtures("cli_env")
def test_a_worker_on_a_database_that_went_back_never_records_over_the_mark(
    registry: Registry, backup: Any, caplog: pytest.LogCaptureFixture
) -> None:
    restored_url = backup()
    with TestClient(registry.app(record_high_water=True)) as client:
        for _ in range(3):
            issue(client, registry, registry.token())
    mark = head(registry.settings.database_url)
    settings = restored_settings(registry, restored_url)
    # Started without `aigov serve` (which would refuse), it writes events of its own: a forked history.
    app = create_app(settings, clock=registry.clock, key_cache=registry.key_cache, record_high_water=True)
    with TestClient(app) as client:
        for _ in range(5):
            issue(client, registry, token_in(restored_url, registry.acme, registry))
    assert head(restored_url).seq > mark.seq
    assert highwater.read(registry.settings.high_water_path, str(mark.first)) == mark
    assert "the database went back in time" in caplog.text


@pytest.mark.usefixtures("cli_env")
def test_accreditation_commands_record_the_high_water_mark_with_no_server_running(
    registry: Registry, backup: Any, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Accreditation events are written by `aigov admin` alone, often while no server runs: the command records
    the log's head itself, so a restore to before them is caught, and it refuses to extend a log that went
    back in time (the event it would add would fork the history)."""
    url = registry.settings.database_url
    monkeypatch.setenv("AIGOV_DATABASE_URL", url)
    restored_url = backup()
    path = registry.settings.high_water_path
    assert not path.exists()

    argv = ["admin", "suspend-accreditation", "--issuer", "acme-cb", "--reason", "overdue surveillance audit"]
    assert main(argv) == EXIT_OK
    mark = head(url)
    assert mark.seq == registry.setup_events + 1  # the suspension, and nothing else
    assert highwater.read(path, str(mark.first)) == mark
    assert main(["admin", "accredit", "--issuer", "acme-cb", "--reason", "audit passed"]) == EXIT_OK
    lifted = head(url)
    assert lifted.seq > mark.seq
    assert highwater.read(path, str(lifted.first)) == lifted

    # The backup, taken before both, is restored: the next accreditation command refuses it, changing nothing.
    monkeypatch.setenv("AIGOV_DATABASE_URL", restored_url)
    before = head(restored_url)
    capsys.readouterr()
    assert main(["admin", "withdraw-accreditation", "--issuer", "other-cb", "--reason", "x"]) == EXIT_USAGE
    err = capsys.readouterr().err
    ends = f"its event log ends at event {before.seq}, but this registry had recorded event {lifted.seq}"
    assert f"error: the database went back in time ({ends})" in err
    assert "run `aigov db after-restore`" in err
    assert head(restored_url) == before
    assert highwater.read(path, str(lifted.first)) == lifted  # the mark stays where it was

    # Fenced, the restored registry takes accreditation commands again, and they move its mark.
    assert main(["db", "after-restore", "--database-url", restored_url]) == EXIT_OK
    assert main(["admin", "withdraw-accreditation", "--issuer", "other-cb", "--reason", "x"]) == EXIT_OK
    assert highwater.read(path, str(lifted.first)) == head(restored_url)
    assert rolled_back(restored_url, registry) is None


@pytest.mark.usefixtures("cli_env")
def test_an_accreditation_command_that_cannot_record_its_mark_warns_and_keeps_its_change(
    registry: Registry, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    url = registry.settings.database_url
    monkeypatch.setenv("AIGOV_DATABASE_URL", url)
    missing = registry.settings.keystore_path / "no-such-directory" / "marks.json"
    monkeypatch.setenv("AIGOV_HIGH_WATER_FILE", str(missing))
    argv = ["admin", "suspend-accreditation", "--issuer", "acme-cb", "--reason", "overdue surveillance audit"]
    assert main(argv) == EXIT_OK
    assert f"warning: cannot record the high-water mark in {missing}" in capsys.readouterr().err
    assert registry.count(Event) == registry.setup_events + 1


@pytest.mark.usefixtures("cli_env")
def test_a_database_lost_after_the_commit_is_a_warning_not_an_error(
    registry: Registry, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The head is read for the mark after the change is committed: a connection that drops then must not turn a
    saved accreditation change into an error, which would invite a retry that logs it twice."""
    monkeypatch.setenv("AIGOV_DATABASE_URL", registry.settings.database_url)
    committed = threading.Event()
    real_current = highwater.current

    def current(session: Session) -> highwater.Mark:
        if committed.is_set():
            raise OperationalError("SELECT event_chain_head", {}, Exception("server closed the connection"))
        return real_current(session)

    def on_commit(_connection: object) -> None:
        committed.set()

    monkeypatch.setattr(highwater, "current", current)
    sa.event.listen(sa.Engine, "commit", on_commit)
    try:
        argv = [
            "admin",
            "suspend-accreditation",
            "--issuer",
            "acme-cb",
            "--reason",
            "overdue surveillance audit",
        ]
        code = main(argv)
    finally:
        sa.event.remove(sa.Engine, "commit", on_commit)
    err = capsys.readouterr().err
    assert code == EXIT_OK, err
    assert "warning: cannot record the high-water mark" in err
    assert "server closed the connection" in err
    assert registry.count(Event) == registry.setup_events + 1


@pytest.mark.usefixtures("cli_env")
def test_an_accreditation_command_refuses_an_unreadable_marks_file(
    registry: Registry, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AIGOV_DATABASE_URL", registry.settings.database_url)
    registry.settings.high_water_path.write_text("{not json", encoding="utf-8")
    argv = ["admin", "suspend-accreditation", "--issuer", "acme-cb", "--reason", "overdue surveillance audit"]
    assert main(argv) == EXIT_USAGE
    assert "cannot read the high-water marks in" in capsys.readouterr().err
    assert registry.count(Event) == registry.setup_events
