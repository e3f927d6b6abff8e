"""Fixtures for the registry tests: a migrated database per test on SQLite and, when configured, PostgreSQL.

SQLite: a template database is migrated once (`alembic upgrade head`, never `create_all`) and copied for each
test. PostgreSQL (AIGOV_TEST_DATABASE_URL, a role allowed to create databases): a fresh database is created and
migrated per test session, truncated between tests, and dropped at the end. Without the URL the PostgreSQL
variants skip with a reason, unless AIGOV_REQUIRE_ALL=1, which makes that a failure.

Keys: one keystore root (with a passphrase) for the session; decrypted keys are shared through a KeyCache, so
no test pays the PBKDF2 cost twice.
"""

from __future__ import annotations

import copy
import itertools
import os
import secrets
import shutil
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine, make_url
from sqlmodel import Session, SQLModel, col, select

from issuer import load_scheme
from keys import Keystore
from registry.app import create_app
from registry.bodies import add_scheme, create_body
from registry.config import Settings
from registry.db import make_engine, write_transaction
from registry.identity import REGISTRY_KEYSTORE
from registry.lifecycle import Context
from registry.migrate import upgrade
from registry.models import (
    GENESIS_HASH,
    BodyState,
    CertificationBody,
    CertificationBodyCreate,
    Credential,
    Event,
)
from registry.signers import IssuerFactory, KeyCache, Signers, build_issuer
from registry.statuslists import ListPolicy
from registry.tokens import Scope, create_token
from registry.trustlist import TrustListPolicy, accredit

if TYPE_CHECKING:
    from conftest import FixedClock  # tests/conftest.py

PASSPHRASE = "registry tests: not a real passphrase"
PUBLIC_URL = "https://registry.test.example"
ACCREDITED_FROM = datetime(2026, 1, 1, tzinfo=UTC)
SCHEME = load_scheme()
ALL_SCOPES = [scope.value for scope in Scope]
SAMPLE_DECISION: dict[str, Any] = {
    "subject": {
        "id": "did:web:acme.example",
        "legalName": {"en": "ACME Corp.", "ja": "アクメ株式会社"},
        "corporateNumber": "7000012050002",
        "website": "https://acme.example",
    },
    "scheme": SCHEME.id,
    "level": "2",
    "scope": "Generative AI customer-support assistant of the Retail Banking unit",
    "aiRoles": ["ai_developer", "ai_provider"],
    "assessedOn": "2026-10-20",
}
_numbers = itertools.count(1)


def make_decision(**overrides: Any) -> dict[str, Any]:
    """A valid decision (JSON form) with a fresh certificate number; `overrides` replace top-level members.
    A deep copy: a test that edits the nested subject must not change the next test's decision."""
    fresh = copy.deepcopy(SAMPLE_DECISION)
    return {**fresh, "certificateNumber": f"AIGC-TEST-{next(_numbers):06d}", **overrides}


# -- keys ---------------------------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def keystore_root(tmp_path_factory: pytest.TempPathFactory, make_keystores: Callable[..., Path]) -> Path:
    """Keystores for the registry and two certification bodies, encrypted with PASSPHRASE."""
    return make_keystores(
        tmp_path_factory.mktemp("keystores"), (REGISTRY_KEYSTORE, "acme-cb", "other-cb"), PASSPHRASE
    )


@pytest.fixture(scope="session")
def key_cache() -> KeyCache:
    return KeyCache()


# -- databases ----------------------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("sqlite") / "template.db"
    upgrade(f"sqlite:///{path}")
    return path


def _postgres_admin_url() -> str | None:
    return os.environ.get("AIGOV_TEST_DATABASE_URL") or None


def require_postgres() -> str:
    """The PostgreSQL URL for tests, or skip (fail under AIGOV_REQUIRE_ALL=1) when there is none."""
    url = _postgres_admin_url()
    if url is None:
        reason = "PostgreSQL tests need AIGOV_TEST_DATABASE_URL (e.g. postgresql+psycopg://user:pw@host/db)"
        if os.environ.get("AIGOV_REQUIRE_ALL") == "1":
            pytest.fail(f"AIGOV_REQUIRE_ALL=1: {reason}")
        pytest.skip(reason)
    return url


@dataclass
class Postgres:
    """The session's PostgreSQL test database and an engine to reset it with."""

    url: str
    engine: Engine

    def truncate(self) -> None:
        tables = ", ".join(table.name for table in SQLModel.metadata.sorted_tables)
        with self.engine.begin() as connection:
            connection.exec_driver_sql(f"TRUNCATE {tables} RESTART IDENTITY CASCADE")
            connection.execute(
                sa.text("INSERT INTO event_chain_head (id, seq, hash) VALUES (1, 0, :genesis)"),
                {"genesis": GENESIS_HASH},
            )


def create_postgres_database(admin_url: str) -> str:
    """A new, empty database next to the one `admin_url` names; returns its URL."""
    name = f"aigov_test_{secrets.token_hex(6)}"
    admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT", poolclass=sa.NullPool)
    with admin.connect() as connection:
        connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
    admin.dispose()
    return make_url(admin_url).set(database=name).render_as_string(hide_password=False)


def drop_postgres_database(admin_url: str, url: str) -> None:
    """Drop a test database once our connections are closed.

    Not WITH (FORCE): that would try to signal an autovacuum worker, which a non-superuser may not; a plain
    DROP cancels autovacuum itself. Retried briefly, for a backend still on its way out.
    """
    name = make_url(url).database
    admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT", poolclass=sa.NullPool)
    try:
        for attempt in range(20):
            try:
                with admin.connect() as connection:
                    connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}"')
                return
            except sa.exc.OperationalError:
                if attempt == 19:
                    raise
                time.sleep(0.25)
    finally:
        admin.dispose()


@pytest.fixture(scope="session")
def postgres() -> Iterator[Postgres]:
    admin_url = require_postgres()
    url = create_postgres_database(admin_url)
    try:
        upgrade(url)
        engine = make_engine(url, pool_size=1, max_overflow=0)
        yield Postgres(url, engine)
        engine.dispose()
    finally:
        drop_postgres_database(admin_url, url)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path, sqlite_template: Path) -> str:
    """A migrated, empty database for one test, on each backend."""
    if request.param == "sqlite":
        path = tmp_path / "aigov.db"
        shutil.copyfile(sqlite_template, path)
        return f"sqlite:///{path}"
    pg: Postgres = request.getfixturevalue("postgres")
    pg.truncate()
    return pg.url


@pytest.fixture
def new_postgres_database() -> Iterator[Callable[[], str]]:
    """Empty PostgreSQL databases made on demand (each call: a new one, its URL), dropped at the end."""
    made: list[str] = []

    def make() -> str:
        made.append(create_postgres_database(require_postgres()))
        return made[-1]

    yield make
    for url in made:
        drop_postgres_database(require_postgres(), url)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def empty_database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A database with no schema at all, on each backend."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'empty.db'}"
        return
    admin_url = require_postgres()
    url = create_postgres_database(admin_url)
    try:
        yield url
    finally:
        drop_postgres_database(admin_url, url)


# -- the registry -------------------------------------------------------------------------------------------------


@dataclass
class Registry:
    """A registry on a fresh database with the example scheme and two certification bodies, acme and other."""

    settings: Settings
    engine: Engine
    clock: FixedClock
    key_cache: KeyCache
    acme: CertificationBody
    other: CertificationBody
    setup_events: int = 0  # events the fixture logged (accrediting the bodies): a test's own come after

    def events(self) -> list[Event]:
        """The events logged since the fixture's set-up, in order."""
        with self.session() as session:
            return list(
                session.exec(select(Event).where(Event.seq > self.setup_events).order_by(col(Event.seq)))
            )

    @property
    def is_postgres(self) -> bool:
        return self.engine.dialect.name == "postgresql"

    def session(self) -> Session:
        return Session(self.engine, expire_on_commit=False)

    def context(self, *, factory: IssuerFactory = build_issuer, **policy: Any) -> Context:
        signers = Signers(
            keystore_path=self.settings.keystore_path,
            passphrase=self.settings.passphrase(),
            public_url=self.settings.public_url,
            clock=self.clock,
            key_cache=self.key_cache,
            factory=factory,
        )
        list_policy = replace(ListPolicy.of(self.settings), **policy)
        return Context(policy=list_policy, signers=signers, clock=self.clock)

    def app(self, **options: Any) -> Any:
        return create_app(self.settings, clock=self.clock, key_cache=self.key_cache, **options)

    def token(
        self,
        body: CertificationBody | None = None,
        scopes: list[str] | None = None,
        expires_at: datetime | None = None,
    ) -> str:
        with self.session() as session:
            _, secret = create_token(
                session=session,
                body=body or self.acme,
                scopes=scopes or ALL_SCOPES,
                now=self.clock(),
                expires_at=expires_at,
            )
            session.commit()
        return secret

    def credential(self, credential_id: object) -> Credential:
        with self.session() as session:
            found = session.get(Credential, credential_id)
            assert found is not None
            return found

    def decision(self, **overrides: Any) -> dict[str, Any]:
        """A valid decision (JSON form) with a fresh certificate number."""
        return make_decision(**overrides)

    def keystore(self, name: str) -> Keystore:
        return Keystore(
            self.settings.keystore_path / name, passphrase=self.settings.passphrase(), clock=self.clock
        )

    def accredit(self, *bodies: CertificationBody) -> None:
        """What `aigov admin accredit --issuer SLUG` does, for each body (every level of its scheme, from
        ACCREDITED_FROM): one decision each, the trust list re-signed, an event logged."""
        ctx = self.context()
        policy = TrustListPolicy(public_url=self.settings.public_url)
        for body in bodies:
            with self.session() as session, write_transaction(session):
                accredit(
                    session=session,
                    signers=ctx.signers,
                    policy=policy,
                    body=session.get(CertificationBody, body.id),
                    scheme_id=body.scheme_id,
                    levels=None,
                    valid_from=ACCREDITED_FROM,
                    valid_until=None,
                    reason="accredited for the tests",
                    actor="admin",
                    now=self.clock(),
                )
            body.state = BodyState.ACTIVE

    @staticmethod
    def bearer(token: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {token}"}

    def count(self, table: type[SQLModel]) -> int:
        with self.session() as session:
            return int(session.exec(sa.select(sa.func.count()).select_from(table)).one()[0])  # type: ignore[call-overload]


def make_settings(database_url: str, keystore_root: Path, **overrides: Any) -> Settings:
    """Production settings (strict checks on) for tests."""
    values: dict[str, Any] = {
        "database_url": database_url,
        "public_url": PUBLIC_URL,
        "keystore_path": keystore_root,
        "key_passphrase": PASSPHRASE,
        "environment": "production",
        "rate_limit_enabled": False,  # tests/registry/test_ratelimit.py turns them on
        **overrides,
    }
    return Settings(**values)


@pytest.fixture
def accredited() -> bool:
    """Whether the `registry` fixture has the scheme owner accredit both bodies (for every level, from
    ACCREDITED_FROM), as an operator does before a body issues. A module that tests accreditation itself
    overrides this fixture to return False."""
    return True


@pytest.fixture
def registry(  # noqa: PLR0917 - pytest passes fixtures by name
    database_url: str,
    keystore_root: Path,
    key_cache: KeyCache,
    fixed_clock: FixedClock,
    accredited: bool,
    tmp_path: Path,
) -> Iterator[Registry]:
    # Each test its own high-water marks: tests replay one fixed-clock history on one PostgreSQL database.
    settings = make_settings(database_url, keystore_root, high_water_file=tmp_path / "high-water-marks.json")
    engine = make_engine(database_url, pool_size=2, max_overflow=5)
    now = fixed_clock()
    with Session(engine, expire_on_commit=False) as session:
        add_scheme(session=session, scheme=SCHEME, now=now)
        bodies = [
            create_body(
                session=session,
                data=CertificationBodyCreate(slug=slug, name_en=name, name_ja=None, scheme_id=SCHEME.id),
                public_url=settings.public_url,
                now=now,
            )
            for slug, name in (("acme-cb", "ACME Certification"), ("other-cb", "Other Certification"))
        ]
        session.commit()
    try:
        created = Registry(settings, engine, fixed_clock, key_cache, *bodies)
        if accredited:
            created.accredit(created.acme, created.other)
            created.setup_events = created.count(Event)
        yield created
    finally:
        engine.dispose()


@pytest.fixture
def client(registry: Registry) -> Iterator[TestClient]:
    with TestClient(registry.app()) as test_client:
        yield test_client


@pytest.fixture
def token(registry: Registry) -> str:
    """A token of acme-cb with every scope."""
    return registry.token()


@pytest.fixture
def own_keystores(registry: Registry, tmp_path: Path) -> Registry:
    """The registry with a private copy of the keystores, for tests that change keys."""
    root = tmp_path / "keys"
    shutil.copytree(registry.settings.keystore_path, root)
    registry.settings = registry.settings.model_copy(update={"keystore_path": root})
    return registry
