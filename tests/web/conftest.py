"""Fixtures for the web pages: one seeded registry per test session, served in-process (TestClient) and, for
the browser tests, by uvicorn on loopback with Chromium driven by playwright.

The registry is real: a migrated SQLite file, encrypted keystores, a certification body, and certificates
issued (and one revoked) through the HTTP API with a bearer token. The clock is fixed (2026-11-01), in the
app as in the tests, so verdicts do not depend on the day the tests run.
"""

from __future__ import annotations

import os
import shutil
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlmodel import Session

from issuer import load_scheme
from registry import trustlist
from registry.app import create_app
from registry.bodies import add_scheme, create_body
from registry.config import Settings
from registry.db import make_engine
from registry.identity import REGISTRY_KEYSTORE
from registry.migrate import upgrade
from registry.models import CertificationBody, CertificationBodyCreate
from registry.signers import KeyCache, Signers
from registry.tokens import Scope, create_token

PASSPHRASE = "web tests: not a real passphrase"
NOW = datetime(2026, 11, 1, tzinfo=UTC)
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",  # root in a container
    "--disable-gpu",
    "--disable-background-networking",  # the closed network refuses background connections
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
HOSTILE_NAME = '<script>alert("x")</script><img src=x onerror=alert(1)>'


def fixed_clock() -> datetime:
    return NOW


def decision(number: str, **subject: Any) -> dict[str, Any]:
    base = {
        "legalName": {"en": "ACME Corp.", "ja": "アクメ株式会社"},
        "corporateNumber": "7000012050002",
        "website": "https://acme.example",
    }
    return {
        "subject": {**base, **subject},
        "scheme": load_scheme().id,
        "level": "2",
        "scope": "Generative AI customer-support assistant of the Retail Banking unit",
        "aiRoles": ["ai_developer", "ai_provider"],
        "assessedOn": "2026-10-20",
        "certificateNumber": number,
    }


@dataclass
class Site:
    """The seeded registry: settings, the certification body's token and the ids of its certificates."""

    settings: Settings
    key_cache: KeyCache
    token: str
    ids: dict[str, str] = field(default_factory=dict)
    tokens: dict[str, str] = field(default_factory=dict)

    def app(self) -> FastAPI:
        return create_app(self.settings, clock=fixed_clock, key_cache=self.key_cache)

    @property
    def bearer(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


def accredit(session: Session, settings: Settings, body: CertificationBody) -> None:
    """Accredit `body` for levels 1 and 2, as `aigov admin accredit` does (signs the trust list): only an
    accredited body issues."""
    trustlist.accredit(
        session=session,
        signers=Signers(
            keystore_path=settings.keystore_path,
            passphrase=PASSPHRASE.encode(),
            public_url=settings.public_url,
            clock=fixed_clock,
        ),
        policy=trustlist.TrustListPolicy(public_url=settings.public_url),
        body=body,
        scheme_id=load_scheme().id,
        levels=["1", "2"],
        valid_from=NOW,
        valid_until=datetime(2029, 10, 31, tzinfo=UTC),
        reason="initial accreditation",
        actor="tests",
        now=NOW,
    )
    session.commit()


def _free_socket() -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    return sock


@pytest.fixture(scope="session")
def listening_socket() -> Iterator[socket.socket]:
    """The loopback socket the live server will serve on (bound first: the public URL names its port)."""
    sock = _free_socket()
    yield sock
    sock.close()


@pytest.fixture(scope="session")
def site(
    tmp_path_factory: pytest.TempPathFactory,
    listening_socket: socket.socket,
    make_keystores: Callable[..., Path],
) -> Iterator[Site]:
    root = tmp_path_factory.mktemp("web")
    keystores = make_keystores(root / "keys", (REGISTRY_KEYSTORE, "web-cb"), PASSPHRASE)
    url = f"sqlite:///{root / 'registry.db'}"
    upgrade(url)
    port = listening_socket.getsockname()[1]
    values: dict[str, Any] = {
        "database_url": url,
        "public_url": f"http://127.0.0.1:{port}",
        "keystore_path": keystores,
        "key_passphrase": PASSPHRASE,
        "environment": "development",
    }
    if "rate_limit_enabled" in Settings.model_fields:
        values["rate_limit_enabled"] = False
    settings = Settings(**values)
    engine = make_engine(url)
    with Session(engine, expire_on_commit=False) as session:
        add_scheme(session=session, scheme=load_scheme(), now=NOW)
        body = create_body(
            session=session,
            data=CertificationBodyCreate(
                slug="web-cb",
                name_en="Web Certification",
                name_ja="ウェブ認証機関",
                scheme_id=load_scheme().id,
            ),
            public_url=settings.public_url,
            now=NOW,
        )
        session.commit()
        _, secret = create_token(session=session, body=body, scopes=[scope.value for scope in Scope], now=NOW)
        session.commit()
        accredit(session, settings, body)
    engine.dispose()
    result = Site(settings=settings, key_cache=KeyCache(), token=secret)
    seeds = {
        "acme": decision("AIGC-WEB-000001"),
        "revoked": decision(
            "AIGC-WEB-000002", legalName={"en": "Withdrawn Ltd.", "ja": "撤回株式会社"}, corporateNumber=None
        ),
        "suspended": decision(
            "AIGC-WEB-000003", legalName={"en": "Paused Inc.", "ja": "停止中株式会社"}, corporateNumber=None
        ),
        "hostile": decision(
            "AIGC-WEB-000004",
            legalName={"en": HOSTILE_NAME, "ja": "危険な名前株式会社"},
            corporateNumber=None,
        ),
        "browser-revoke": decision(
            "AIGC-WEB-000005",
            legalName={"en": "Browser Revoke Co.", "ja": "ブラウザ取消株式会社"},
            corporateNumber=None,
        ),
    }
    for index in range(6, 6 + 23):  # enough rows for two pages of search results
        seeds[f"filler-{index}"] = decision(
            f"AIGC-WEB-{index:06d}",
            legalName={"en": f"Filler {index} KK", "ja": f"フィラー{index}株式会社"},
            corporateNumber=None,
        )
    with TestClient(result.app()) as client:
        for name, body_json in seeds.items():
            response = client.post("/api/v1/credentials", json=body_json, headers=result.bearer)
            assert response.status_code == 201, response.text
            result.ids[name] = response.json()["id"]
            result.tokens[name] = response.json()["token"]
        for name, action, reason in (
            ("revoked", "revoke", {"reasonCode": "nonconformity", "reason": "<b>bold</b> finding"}),
            ("suspended", "suspend", {"reasonCode": "surveillance_not_performed"}),
        ):
            response = client.post(
                f"/api/v1/credentials/{result.ids[name]}/{action}", json=reason, headers=result.bearer
            )
            assert response.status_code == 200, response.text
    yield result
    shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="session")
def client(site: Site) -> Iterator[TestClient]:
    with TestClient(site.app()) as test_client:
        yield test_client


# -- the browser --------------------------------------------------------------------------------------------------


def require_browser() -> None:
    """Skip without Chromium or playwright; fail instead under AIGOV_REQUIRE_ALL=1."""
    missing = None
    if not CHROMIUM.exists():
        missing = f"{CHROMIUM} (apt-get install chromium)"
    else:
        try:
            import playwright.sync_api  # noqa: F401
        except ImportError:
            missing = "playwright (pip install playwright; no browser download needed)"
    if missing is not None:
        reason = f"browser tests need {missing}"
        if os.environ.get("AIGOV_REQUIRE_ALL") == "1":
            pytest.fail(f"AIGOV_REQUIRE_ALL=1: {reason}")
        pytest.skip(reason)


@pytest.fixture(scope="session")
def live_url(site: Site, listening_socket: socket.socket) -> Iterator[str]:
    """The registry served by uvicorn on loopback, in a thread of this process (so it shares the fixed
    clock)."""
    require_browser()
    import uvicorn

    config = uvicorn.Config(site.app(), log_level="warning", lifespan="on")
    server = uvicorn.Server(config)
    listening_socket.listen(64)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [listening_socket]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the registry did not start")
        time.sleep(0.02)
    yield site.settings.public_url
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture(scope="session")
def browser(live_url: str) -> Iterator[Any]:
    """One Chromium for the session (Debian's, never a downloaded one)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    """A fresh browser context (no cookies) and page per test, preferring English unless a test says."""
    context = browser.new_context(locale="en-US")
    context.set_default_timeout(10_000)
    tab = context.new_page()
    yield tab
    context.close()
