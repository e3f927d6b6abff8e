"""Settings (and what they refuse outside development), and the identifiers derived from the public URL."""

from __future__ import annotations

import gc
from pathlib import Path

import pytest
from pydantic import ValidationError

from aigov.cli import EXIT_OK, EXIT_USAGE, main
from keys import did_web_url
from registry.app import create_app_from_env
from registry.config import DEVELOPMENT_PASSPHRASE, MIN_STATUS_LIST_SIZE, DatabaseSettings, Settings
from registry.db import make_engine
from registry.identity import issuer_did, registry_did

STRICT = {"public_url": "https://registry.example", "key_passphrase": "a real passphrase"}


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("DATABASE_URL", "PUBLIC_URL", "KEYSTORE_PATH", "KEY_PASSPHRASE", "ENVIRONMENT"):
        monkeypatch.delenv(f"AIGOV_{name}", raising=False)


def test_development_defaults() -> None:
    settings = Settings(environment="development")

    assert settings.database_url == "sqlite:///./var/aigov.db"
    assert settings.public_url == "http://127.0.0.1:8000"
    assert settings.keystore_path == Path("var/keys")
    assert settings.status_list_size == MIN_STATUS_LIST_SIZE
    assert settings.status_ttl_seconds == 300
    assert settings.max_body_bytes == 1024 * 1024
    assert settings.passphrase() == DEVELOPMENT_PASSPHRASE.encode()


def test_production_is_the_default_and_refuses_development_secrets() -> None:
    with pytest.raises(ValidationError, match="AIGOV_KEY_PASSPHRASE"):
        Settings(public_url="https://registry.example")
    with pytest.raises(ValidationError, match="AIGOV_KEY_PASSPHRASE"):
        Settings(public_url="https://registry.example", key_passphrase="")
    with pytest.raises(ValidationError, match="https"):
        Settings(public_url="http://registry.example", key_passphrase="a real passphrase")
    assert Settings(**STRICT).environment == "production"


def test_settings_come_from_aigov_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AIGOV_DATABASE_URL", "postgresql+psycopg://u:p@db/aigov")
    monkeypatch.setenv("AIGOV_PUBLIC_URL", "https://Registry.Example:8443/")
    monkeypatch.setenv("AIGOV_KEY_PASSPHRASE", "from the environment")
    monkeypatch.setenv("AIGOV_STATUS_TTL_SECONDS", "60")

    settings = Settings()

    assert settings.database_url == "postgresql+psycopg://u:p@db/aigov"
    assert settings.public_url == "https://registry.example:8443"
    assert settings.passphrase() == b"from the environment"
    assert settings.status_ttl_seconds == 60
    assert "from the environment" not in repr(settings)


@pytest.mark.parametrize(
    "change",
    [
        {"status_list_size": MIN_STATUS_LIST_SIZE - 8},
        {"status_list_size": MIN_STATUS_LIST_SIZE + 1},
        {"public_url": "https://registry.example/registry"},
        {"public_url": "https://registry.example?x=1"},
        {"public_url": "ftp://registry.example"},
        {"public_url": "https://192.0.2.7"},
        {"max_body_bytes": 10},
        {"environment": "staging"},
    ],
)
def test_invalid_settings(change: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        Settings(**{**STRICT, **change})


def test_dids_follow_the_public_url_and_resolve_to_our_routes() -> None:
    assert registry_did("https://registry.example") == "did:web:registry.example"
    assert (
        issuer_did("https://registry.example:8443", "acme-cb")
        == "did:web:registry.example%3A8443:issuers:acme-cb"
    )
    assert did_web_url(issuer_did("https://registry.example:8443", "acme-cb")) == (
        "https://registry.example:8443/issuers/acme-cb/did.json"
    )
    assert (
        did_web_url(registry_did("https://registry.example"))
        == "https://registry.example/.well-known/did.json"
    )
    # did:web names domains only: a loopback address (a developer's machine) becomes localhost.
    assert registry_did("http://127.0.0.1:8000") == "did:web:localhost%3A8000"
    with pytest.raises(ValueError, match="slug"):
        issuer_did("https://registry.example", "Not A Slug")


@pytest.mark.parametrize(
    ("given", "used"),
    [
        ("postgresql://u:p@db/aigov", "postgresql+psycopg://u:p@db/aigov"),
        (
            "postgres://u:p@db:5433/aigov?sslmode=require",
            "postgresql+psycopg://u:p@db:5433/aigov?sslmode=require",
        ),
        ("PostgreSQL://u@db/aigov", "postgresql+psycopg://u@db/aigov"),
        ("postgresql+psycopg://u@db/aigov", "postgresql+psycopg://u@db/aigov"),
        ("sqlite:///./var/other.db", "sqlite:///./var/other.db"),
        ("SQLite:///./var/Other.db", "sqlite:///./var/Other.db"),  # the driver lower-cased, nothing else
        ("POSTGRESQL+PSYCOPG://u@db/aigov", "postgresql+psycopg://u@db/aigov"),
    ],
)
def test_the_usual_postgresql_urls_are_read_as_psycopg_3(given: str, used: str) -> None:
    """Deployments write postgresql:// or postgres://; SQLAlchemy would read the first as psycopg2 (not
    installed) and refuses the second, so both become psycopg 3, the driver aigov ships."""
    assert DatabaseSettings(database_url=given).database_url == used
    settings = Settings(**STRICT, database_url=given)
    assert settings.database_url == used
    engine = make_engine(settings.database_url, pool_size=1, max_overflow=0)  # no connection is made
    assert engine.dialect.driver == ("psycopg" if used.startswith("postgresql") else "pysqlite")
    engine.dispose()


@pytest.mark.parametrize(
    "url",
    [
        "mysql://u@db/aigov",
        "postgresql+psycopg2://u@db/aigov",
        "postgresql+asyncpg://u@db/aigov",
        "postgresqlx://u@db/aigov",
        "oracle://u@db",
        "postgres:/db/aigov",
        "db.example/aigov",
    ],
)
def test_other_database_urls_are_refused(url: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(ValidationError, match="unsupported database URL"):
        DatabaseSettings(database_url=url)
    assert main(["db", "current", "--database-url", url]) == EXIT_USAGE
    assert "--database-url: unsupported database URL" in capsys.readouterr().err


@pytest.mark.parametrize(
    "empty_database_url", [pytest.param("postgres", marks=pytest.mark.postgres)], indirect=True
)
def test_db_upgrade_and_current_take_plain_postgresql_urls(
    empty_database_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The paths `aigov db upgrade` and `aigov serve`'s settings take, against a real server."""
    rest = empty_database_url.partition("://")[2]
    assert main(["db", "upgrade", "--database-url", f"postgresql://{rest}"]) == EXIT_OK, (
        capsys.readouterr().err
    )
    monkeypatch.setenv("AIGOV_DATABASE_URL", f"postgres://{rest}")
    assert main(["db", "current"]) == EXIT_OK, capsys.readouterr().err
    assert "the database schema is up to date" in capsys.readouterr().err


def test_the_server_app_keeps_what_it_built_out_of_the_collectors_sight(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """`aigov serve` workers freeze the objects built with the app (registry.app.create_app_from_env), so that a
    full collection in a batch of issuances does not walk them again."""
    monkeypatch.setenv("AIGOV_ENVIRONMENT", "development")
    monkeypatch.setenv("AIGOV_DATABASE_URL", f"sqlite:///{tmp_path / 'aigov.db'}")
    monkeypatch.setenv("AIGOV_KEYSTORE_PATH", str(tmp_path / "keys"))
    gc.unfreeze()
    try:
        app = create_app_from_env()
        frozen = gc.get_freeze_count()
    finally:
        gc.unfreeze()  # the test process keeps collecting as before
    assert frozen > 10_000
    assert app.state.settings.database_url.endswith("aigov.db")
