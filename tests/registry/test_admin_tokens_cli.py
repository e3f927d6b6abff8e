"""`aigov admin list-tokens`: what an operator reads to find the token to revoke, on SQLite and PostgreSQL.

Tokens are made and revoked through the CLI itself, against the `registry` fixture's database (two bodies).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

import pytest
from sqlmodel import select

from aigov.cli import EXIT_OK, EXIT_USAGE, main
from keys import format_date_time_stamp, parse_date_time_stamp
from registry.models import ApiToken

if TYPE_CHECKING:
    from conftest import Registry


@pytest.fixture
def accredited() -> bool:
    """Tokens need no accreditation: skip the fixture's trust-list signing, to keep these tests fast."""
    return False


@pytest.fixture(autouse=True)
def admin_env(registry: Registry, monkeypatch: pytest.MonkeyPatch) -> None:
    """The admin commands read the registry fixture's database from AIGOV_DATABASE_URL, as in production."""
    monkeypatch.setenv("AIGOV_DATABASE_URL", registry.settings.database_url)


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(["admin", *argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def create(capsys: pytest.CaptureFixture[str], issuer: str, scopes: str, *extra: str) -> tuple[str, str]:
    """`create-token` through the CLI; returns (id, the full token it printed once)."""
    code, out, _ = run(capsys, "create-token", "--issuer", issuer, "--scopes", scopes, *extra)
    assert code == EXIT_OK
    secret = out.strip()
    _, token_id, _ = secret.split("_", 2)
    return token_id, secret


def stored(registry: Registry) -> dict[str, ApiToken]:
    with registry.session() as session:
        return {row.id: row for row in session.exec(select(ApiToken))}


def test_lists_live_tokens_of_every_body_newest_first(
    registry: Registry, capsys: pytest.CaptureFixture[str]
) -> None:
    acme_id, acme_secret = create(
        capsys, "acme-cb", "credentials:issue,credentials:revoke", "--description", "CI pipeline"
    )
    other_id, other_secret = create(capsys, "other-cb", "credentials:suspend")
    rows = stored(registry)

    code, out, err = run(capsys, "list-tokens")

    assert (code, err) == (EXIT_OK, "")
    lines = out.splitlines()
    newest_first = sorted(rows.values(), key=lambda row: row.created_at, reverse=True)
    assert [line.split()[0] for line in lines] == [row.id for row in newest_first]
    by_id = {line.split()[0]: line for line in lines}
    assert by_id[acme_id].split()[1:3] == ["acme-cb", "credentials:issue,credentials:revoke"]
    assert f"created {format_date_time_stamp(rows[acme_id].created_at)}" in by_id[acme_id]
    assert by_id[acme_id].endswith("'CI pipeline'")
    assert by_id[other_id].split()[1:3] == ["other-cb", "credentials:suspend"]
    assert "revoked" not in out
    for row, secret in ((rows[acme_id], acme_secret), (rows[other_id], other_secret)):
        assert_nothing_secret(out, row, secret)


def test_json_has_the_same_fields_and_no_secret(
    registry: Registry, capsys: pytest.CaptureFixture[str]
) -> None:
    token_id, secret = create(capsys, "acme-cb", "credentials:issue", "--description", "認証 pipeline")
    row = stored(registry)[token_id]

    code, out, _ = run(capsys, "list-tokens", "--json")

    assert code == EXIT_OK
    assert json.loads(out) == [
        {
            "id": token_id,
            "issuer": "acme-cb",
            "scopes": ["credentials:issue"],
            "description": "認証 pipeline",
            "created_at": format_date_time_stamp(row.created_at),
            "revoked_at": None,
            "expires_at": None,
        }
    ]
    assert_nothing_secret(out, row, secret)


def test_revoked_tokens_only_with_all(registry: Registry, capsys: pytest.CaptureFixture[str]) -> None:
    live_id, _ = create(capsys, "acme-cb", "credentials:issue")
    gone_id, gone_secret = create(capsys, "acme-cb", "credentials:revoke")
    assert run(capsys, "revoke-token", gone_id)[0] == EXIT_OK
    revoked_at = stored(registry)[gone_id].revoked_at
    assert revoked_at is not None

    code, out, _ = run(capsys, "list-tokens")
    assert code == EXIT_OK
    assert [line.split()[0] for line in out.splitlines()] == [live_id]
    assert [entry["id"] for entry in json.loads(run(capsys, "list-tokens", "--json")[1])] == [live_id]

    code, out, _ = run(capsys, "list-tokens", "--all")
    assert code == EXIT_OK
    lines = {line.split()[0]: line for line in out.splitlines()}
    assert set(lines) == {live_id, gone_id}
    assert lines[gone_id].endswith(f"revoked {format_date_time_stamp(revoked_at)}")
    assert "revoked" not in lines[live_id]
    entries = {entry["id"]: entry for entry in json.loads(run(capsys, "list-tokens", "--all", "--json")[1])}
    assert parse_date_time_stamp(entries[gone_id]["revoked_at"], what="revoked_at") == revoked_at
    assert entries[live_id]["revoked_at"] is None
    assert_nothing_secret(out, stored(registry)[gone_id], gone_secret)


def test_expires_in(registry: Registry, capsys: pytest.CaptureFixture[str]) -> None:
    before = datetime.now(UTC)
    token_id, _ = create(capsys, "acme-cb", "credentials:issue", "--expires-in", "90d")
    expires_at = stored(registry)[token_id].expires_at
    assert expires_at is not None
    assert before + timedelta(days=90) <= expires_at <= datetime.now(UTC) + timedelta(days=90)

    out = run(capsys, "list-tokens")[1]
    assert out.rstrip().endswith(f"expires {format_date_time_stamp(expires_at)}")
    [entry] = json.loads(run(capsys, "list-tokens", "--json")[1])
    assert parse_date_time_stamp(entry["expires_at"], what="expires_at") == expires_at


@pytest.mark.parametrize(("value", "message"), [("0", "must be positive"), ("soon", "not a duration")])
def test_expires_in_must_be_a_positive_duration(
    registry: Registry, capsys: pytest.CaptureFixture[str], value: str, message: str
) -> None:
    code, out, err = run(
        capsys, "create-token", "--issuer", "acme-cb", "--scopes", "credentials:issue", "--expires-in", value
    )
    assert code == EXIT_USAGE
    assert out == ""
    assert message in err
    assert stored(registry) == {}


def test_expired_tokens_only_with_all(registry: Registry, capsys: pytest.CaptureFixture[str]) -> None:
    """The registry's clock stands at 2026-11-01: a token that expired an hour after that is shown as ended."""
    live_id, _ = create(capsys, "acme-cb", "credentials:issue")
    registry.token(expires_at=registry.clock() + timedelta(hours=1))
    expired_id = next(token_id for token_id in stored(registry) if token_id != live_id)

    assert [line.split()[0] for line in run(capsys, "list-tokens")[1].splitlines()] == [live_id]
    lines = {line.split()[0]: line for line in run(capsys, "list-tokens", "--all")[1].splitlines()}
    assert set(lines) == {live_id, expired_id}
    assert lines[expired_id].endswith("expired 2026-11-01T01:00:00Z")


def test_issuer_filter(registry: Registry, capsys: pytest.CaptureFixture[str]) -> None:
    acme_id, _ = create(capsys, "acme-cb", "credentials:issue")
    other_id, _ = create(capsys, "other-cb", "credentials:issue")
    revoked_id, _ = create(capsys, "other-cb", "credentials:renew")
    assert run(capsys, "revoke-token", revoked_id)[0] == EXIT_OK

    assert [
        line.split()[0] for line in run(capsys, "list-tokens", "--issuer", "acme-cb")[1].splitlines()
    ] == [acme_id]
    assert [
        line.split()[0] for line in run(capsys, "list-tokens", "--issuer", "other-cb")[1].splitlines()
    ] == [other_id]
    shown = json.loads(run(capsys, "list-tokens", "--issuer", "other-cb", "--all", "--json")[1])
    assert {entry["id"] for entry in shown} == {other_id, revoked_id}
    assert {entry["issuer"] for entry in shown} == {"other-cb"}


@pytest.mark.parametrize("extra", [(), ("--json",), ("--all",)])
def test_unknown_issuer_is_a_one_line_error(
    registry: Registry, capsys: pytest.CaptureFixture[str], extra: tuple[str, ...]
) -> None:
    create(capsys, "acme-cb", "credentials:issue")

    code, out, err = run(capsys, "list-tokens", "--issuer", "nobody", *extra)

    assert code == EXIT_USAGE
    assert out == ""
    assert err == "error: no certification body nobody\n"


def test_no_tokens_prints_nothing_or_an_empty_array(
    registry: Registry, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(capsys, "list-tokens") == (EXIT_OK, "", "")
    assert run(capsys, "list-tokens", "--issuer", "acme-cb", "--all") == (EXIT_OK, "", "")
    code, out, err = run(capsys, "list-tokens", "--json")
    assert (code, json.loads(out), err) == (EXIT_OK, [], "")
    # Revoked only: the default listing is still empty.
    token_id, _ = create(capsys, "acme-cb", "credentials:issue")
    assert run(capsys, "revoke-token", token_id)[0] == EXIT_OK
    assert run(capsys, "list-tokens")[:2] == (EXIT_OK, "")
    assert json.loads(run(capsys, "list-tokens", "--json")[1]) == []


def test_a_description_cannot_write_control_characters(
    registry: Registry, capsys: pytest.CaptureFixture[str]
) -> None:
    hostile = "evil\x1b[2J\nsecond line\u202e"
    token_id, _ = create(capsys, "acme-cb", "credentials:issue", "--description", hostile)

    out = run(capsys, "list-tokens")[1]

    assert out.count("\n") == 1
    assert "\x1b" not in out
    assert "\u202e" not in out
    assert out.startswith(token_id)
    assert json.loads(run(capsys, "list-tokens", "--json")[1])[0]["description"] == hostile


def assert_nothing_secret(out: str, row: ApiToken, secret: str) -> None:
    """Neither the token printed by create-token, nor its secret part, nor the stored hash."""
    _, _, secret_part = secret.split("_", 2)
    assert secret not in out
    assert secret_part not in out
    assert row.secret_sha256 not in out
    assert row.secret_sha256.upper() not in out
