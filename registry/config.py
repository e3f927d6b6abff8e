"""Registry settings, read from `AIGOV_*` environment variables (or passed in by tests and the CLI).

The only module of the registry that reads the environment. Defaults suit a developer's laptop (SQLite under
./var, a loopback URL); outside `environment=development` the defaults that would be unsafe in service are
refused rather than silently used.
"""

from __future__ import annotations

import ipaddress
from pathlib import Path
from typing import Annotated, Literal
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

# Bitstring Status List v1.0 §6.1 (herd privacy): at least 131,072 entries per list.
MIN_STATUS_LIST_SIZE = 131_072
# Like the trust list: a copy of a status list is refused three days after it was signed, and the registry
# re-signs each list after a day and a half, so a list it serves always has more than a day left.
DEFAULT_STATUS_VALIDITY_SECONDS = 3 * 24 * 3600
DEVELOPMENT_PASSPHRASE = "aigov-development-only"  # noqa: S105  # refused outside development, below


class DatabaseSettings(BaseSettings):
    """Just the database, for commands that touch nothing else (`aigov db`, token administration)."""

    model_config = SettingsConfigDict(env_prefix="AIGOV_", extra="ignore", frozen=True)

    database_url: str = "sqlite:///./var/aigov.db"

    @field_validator("database_url")
    @classmethod
    def _database_url(cls, value: str) -> str:
        return check_database_url(value)


# The drivers aigov installs and tests; any other URL would fail later, deep in SQLAlchemy, on a missing module.
_DATABASE_DRIVERS = ("sqlite", "sqlite+pysqlite", "postgresql+psycopg")
# What deployments (Heroku, libpq, docker-compose files) usually write for PostgreSQL. SQLAlchemy would read
# `postgresql://` as psycopg2 (not installed) and no longer knows `postgres://` at all, so both are rewritten to
# psycopg 3, the driver aigov ships; registry/db.py's AsyncPgReader makes the same choice.
_POSTGRESQL_ALIASES = ("postgresql", "postgres")


def check_database_url(url: str) -> str:
    """`url` if it names a database aigov supports (SQLite, PostgreSQL through psycopg 3); ValueError if not.

    `postgresql://` and `postgres://` come back as `postgresql+psycopg://` (the rest of the URL unchanged).
    """
    scheme, separator, rest = url.partition("://")
    if separator and scheme.lower() in _POSTGRESQL_ALIASES:
        return f"postgresql+psycopg://{rest}"
    if not separator or scheme.lower() not in _DATABASE_DRIVERS:
        raise ValueError(
            "unsupported database URL: use sqlite:///… or postgresql://… (postgresql+psycopg://…)"
        )
    return f"{scheme.lower()}://{rest}"  # SQLAlchemy looks drivers up by their lower-case names


class StorageSettings(DatabaseSettings):
    """Where the registry keeps things: its database, the keystores and the event log's high-water marks
    (`aigov db check` reads the marks, never a key)."""

    keystore_path: Path = Path("./var/keys")
    # Where the event log's high-water marks are kept (registry.highwater); default: beside the keystores.
    high_water_file: Path | None = None

    @property
    def high_water_path(self) -> Path:
        return self.high_water_file or self.keystore_path / ".high-water-marks.json"


class Settings(StorageSettings):
    """Everything the registry needs to know about its deployment."""

    # A validation error would otherwise quote its input, which includes the keystore passphrase.
    model_config = SettingsConfigDict(hide_input_in_errors=True)

    public_url: str = "http://127.0.0.1:8000"
    key_passphrase: SecretStr = SecretStr(DEVELOPMENT_PASSPHRASE)
    status_list_size: Annotated[int, Field(ge=MIN_STATUS_LIST_SIZE, multiple_of=8)] = MIN_STATUS_LIST_SIZE
    status_ttl_seconds: Annotated[int, Field(ge=1, le=7 * 24 * 3600)] = 300
    # How long a signed status list may be relied on (its validUntil); re-signed when half has passed.
    status_validity_seconds: Annotated[int, Field(ge=2, le=366 * 24 * 3600)] = DEFAULT_STATUS_VALIDITY_SECONDS
    max_body_bytes: Annotated[int, Field(ge=1024, le=64 * 1024 * 1024)] = 1024 * 1024
    # Fail safe: a deployment that forgot to say what it is gets the strict checks.
    environment: Literal["development", "production"] = "production"
    # Rate limits (registry.ratelimit): None = on in production, off in development (laptops, demo, benchmarks).
    rate_limit_enabled: bool | None = None
    rate_limit_per_minute: Annotated[int, Field(ge=1)] = 600  # per client address, sustained
    rate_limit_burst: Annotated[int, Field(ge=1)] = 120
    rate_limit_auth_failures_per_minute: Annotated[int, Field(ge=1)] = 5  # per address
    rate_limit_auth_failures_burst: Annotated[int, Field(ge=1)] = 10
    # Proxies (addresses or CIDR networks) whose X-Forwarded-For is believed; none by default.
    rate_limit_trusted_proxies: list[str] = []

    @field_validator("public_url")
    @classmethod
    def _public_url(cls, value: str) -> str:
        """An origin only (scheme, host, port): DIDs, credential ids and status list URLs are built on it."""
        parts = urlsplit(value.rstrip("/"))
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError("public_url must be an http(s) URL such as https://registry.example")
        if parts.path or parts.query or parts.fragment or parts.username or parts.password:
            raise ValueError("public_url must be an origin: no path, query, fragment or user info")
        try:
            address = ipaddress.ip_address(parts.hostname)
        except ValueError:
            address = None
        if address is not None and not address.is_loopback:
            raise ValueError(
                "public_url must name its host by domain name: did:web cannot name an IP address"
            )
        return f"{parts.scheme}://{parts.netloc.lower()}"

    @model_validator(mode="after")
    def _validity_outlasts_caching(self) -> Settings:
        """A list is re-signed when half its validity has passed; a cache may keep it `ttl` longer, which must
        still be before it expires."""
        if self.status_validity_seconds < 2 * self.status_ttl_seconds:
            raise ValueError(
                f"status_validity_seconds ({self.status_validity_seconds}) must be at least twice "
                f"status_ttl_seconds ({self.status_ttl_seconds}): a cached status list would expire in the cache"
            )
        return self

    @model_validator(mode="after")
    def _refuse_development_defaults(self) -> Settings:
        if self.environment == "development":
            return self
        passphrase = self.key_passphrase.get_secret_value()
        if not passphrase or passphrase == DEVELOPMENT_PASSPHRASE:
            raise ValueError(
                "set AIGOV_KEY_PASSPHRASE: the default keystore passphrase is for development only "
                "(or set AIGOV_ENVIRONMENT=development on a laptop)"
            )
        if not self.public_url.startswith("https://"):
            raise ValueError(
                "public_url must be https outside development: did:web DIDs resolve over https only"
            )
        return self

    @field_validator("key_passphrase")
    @classmethod
    def _passphrase_is_text(cls, value: SecretStr) -> SecretStr:
        """The keys are encrypted under the passphrase's UTF-8 bytes, as the CLI's are (aigov.commands._common).
        Undecodable bytes in the environment (lone surrogates in Python) are refused, not used raw: the CLI and
        a settings file in another encoding could not reproduce them, and the keystore would not open."""
        try:
            value.get_secret_value().encode("utf-8")
        except UnicodeEncodeError:
            raise ValueError("not valid UTF-8: the keystore passphrase must be UTF-8 text") from None
        return value

    @field_validator("rate_limit_trusted_proxies")
    @classmethod
    def _trusted_proxies(cls, value: list[str]) -> list[str]:
        for entry in value:
            ipaddress.ip_network(entry.strip(), strict=False)  # ValueError names the bad entry
        return value

    @property
    def rate_limits_on(self) -> bool:
        """Whether registry.ratelimit applies: as set, else on everywhere but development."""
        if self.rate_limit_enabled is None:
            return self.environment != "development"
        return self.rate_limit_enabled

    def passphrase(self) -> bytes:
        """The keystore passphrase as bytes, for keys.Keystore."""
        return self.key_passphrase.get_secret_value().encode("utf-8")
