"""Online verification against a real registry under uvicorn on loopback (SQLite and PostgreSQL): credentials by
JWT, id and URL, status lists fetched once and revalidated by ETag, a revocation seen after the list's ttl, and
`aigov verify --online` / `aigov verify-batch --registry` end to end.

The registry's public URL is http://127.0.0.1:<port> (development), so the verifier runs with the explicit
development option `allow_insecure_loopback`; the transport is the real, address-checking one.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import json
import socket
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import pytest
import uvicorn
from sqlmodel import Session

from aigov.cli import EXIT_INVALID, EXIT_OK, EXIT_USAGE, main
from issuer import CertificationDecision
from registry import lifecycle
from registry import problems as registry_problems
from registry.bodies import create_body
from registry.db import write_transaction
from registry.identity import REGISTRY_KEYSTORE
from registry.models import CertificationBody, CertificationBodyCreate, Credential, ReasonCode
from registry.models.issuers import BodyState
from registry.trustlist import TrustListPolicy, accredit, change_accreditation
from verifier import OnlineVerifier, Outcome, TrustStore, Verdict, problems, verify_batch
from verifier._online import REGISTRY_NOT_FOUND, guarded_transport

if TYPE_CHECKING:
    from conftest import Registry

PASSPHRASE = "registry tests: not a real passphrase"  # tests/registry/conftest.py
KEYS_CREATED = datetime(2026, 1, 1, tzinfo=UTC)
pytestmark = pytest.mark.slow  # a server per test: about 1.5 s each

PAGE = "/api/v1/credentials/{}/credential.jwt"


class CountingTransport(httpx.BaseTransport):
    """The real, guarded transport, counting 200s and 304s per path."""

    def __init__(self) -> None:
        self.inner = guarded_transport(allow_loopback=True)
        self.ok: Counter[str] = Counter()
        self.not_modified: Counter[str] = Counter()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = self.inner.handle_request(request)
        (self.ok if response.status_code == 200 else self.not_modified)[request.url.path] += 1
        return response

    def close(self) -> None:
        self.inner.close()


@dataclass
class Live:
    url: str
    registry: Registry
    credentials: list[Credential]
    did_document: dict[str, Any]

    def trust(self) -> TrustStore:
        store = TrustStore()
        store.add_did_document(self.did_document)
        return store

    def verifier(
        self, transport: httpx.BaseTransport | None = None, *, registry_url_suffix: str = "", **options: Any
    ) -> OnlineVerifier:
        return OnlineVerifier(
            self.url + registry_url_suffix,
            trust=self.trust(),
            transport=transport,
            clock=self.registry.clock,
            allow_insecure_loopback=True,
            **options,
        )


@pytest.fixture(scope="module")
def keystore_root(tmp_path_factory: pytest.TempPathFactory, make_keystores: Callable[..., Path]) -> Path:
    """The usual keystores plus one for `loop-cb`, the body served on loopback."""
    names = (REGISTRY_KEYSTORE, "acme-cb", "other-cb", "loop-cb")
    return make_keystores(tmp_path_factory.mktemp("keystores"), names, PASSPHRASE)


@pytest.fixture
def live(registry: Registry, keystore_root: Path) -> Iterator[Live]:
    """The test registry's database served by uvicorn on 127.0.0.1, its public URL, with a certification body
    `loop-cb` (did:web:localhost%3A<port>:issuers:loop-cb) that has issued 12 certificates."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    settings = registry.settings.model_copy(update={"public_url": url, "environment": "development"})
    with Session(registry.engine, expire_on_commit=False) as session:
        body = create_body(
            session=session,
            data=CertificationBodyCreate(
                slug="loop-cb",
                name_en="Loopback Certification",
                name_ja=None,
                scheme_id=registry.acme.scheme_id,
            ),
            public_url=url,
            now=registry.clock(),
        )
        session.commit()
    loop = dataclasses.replace(registry, settings=settings, acme=body)
    loop.accredit(body)
    with loop.session() as session:
        decisions = [CertificationDecision.model_validate(loop.decision()) for _ in range(12)]
        issued = lifecycle.issue_batch(
            session=session, ctx=loop.context(), body=body, decisions=decisions, actor="setup"
        ).credentials
    config = uvicorn.Config(loop.app(), log_level="warning", access_log=False, lifespan="on")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        assert time.monotonic() < deadline, "the server did not start"
        time.sleep(0.01)
    try:
        # What a procurement team pins: the certification body's DID document, read once out of band.
        document = httpx.get(f"{url}/issuers/loop-cb/did.json").json()
        yield Live(url, loop, list(issued), document)
    finally:
        server.should_exit = True
        thread.join(timeout=15)
        sock.close()


def _change(live: Live, credential: Credential, action: str) -> None:
    with live.registry.session() as session:
        getattr(lifecycle, action)(
            session=session,
            ctx=live.registry.context(),
            body=live.registry.acme,
            credential_id=credential.id,
            actor="test",
            reason_code=ReasonCode.NONCONFORMITY,
        )


def test_online_against_the_registry(live: Live) -> None:
    transport = CountingTransport()
    verifier = live.verifier(transport)
    first, second = live.credentials[:2]
    assert verifier.verify(first.token).verdict is Verdict.VALID
    for claim in (
        str(second.id),
        f"{live.url}/credentials/{second.id}",
        f"{live.url}{PAGE.format(second.id)}",
    ):
        result = verifier.verify(claim)
        assert result.verdict is Verdict.VALID, result.render_text()
    lists = {p for p in transport.ok if p.startswith("/status/")}
    assert len(lists) == 2
    assert all(transport.ok[p] == 1 for p in lists)  # fetched once for four verifications

    _change(live, first, "revoke")
    _change(live, second, "suspend")
    assert verifier.verify(first.token).verdict is Verdict.VALID  # the cached list is fresh for its ttl
    live.registry.clock.advance(seconds=301)
    revoked = verifier.verify(first.token)
    live.registry.clock.advance(seconds=0)
    assert revoked.check("status.revocation").problem == problems.REVOKED, revoked.render_text()
    suspended = verifier.verify(str(second.id))
    assert suspended.verdict is Verdict.INVALID
    assert [c.outcome for c in suspended.checks if c.name == "status.suspension"] == [Outcome.FAILED]
    assert all(transport.ok[p] == 2 for p in lists)  # changed lists: fetched again, once each

    live.registry.clock.advance(seconds=301)
    assert verifier.verify(live.credentials[2].token).verdict is Verdict.VALID
    assert all(transport.not_modified[p] == 1 for p in lists)  # unchanged since: revalidated by ETag, 304
    verifier.close()


def test_a_missing_credential_and_a_foreign_status_url(live: Live) -> None:
    with live.verifier() as verifier:
        result = verifier.verify("3f2c9a4e-0000-4000-8000-000000000000")
        assert result.verdict is Verdict.INVALID  # the registry's 404: no such certificate, not "cannot tell"
        assert result.check("parse").problem == problems.UNKNOWN_CREDENTIAL
        assert "(HTTP 404)" in result.check("parse").detail
        # The registry's did:web host is "localhost": not the origin it is served from, and never fetched.
        assert "refusing" in verifier.verify("http://localhost:1/credentials/x").check("parse").detail
    # What the verifier takes for "no such certificate" is exactly what the registry sends.
    assert REGISTRY_NOT_FOUND == registry_problems.NOT_FOUND
    # A wrong --registry (a path prefix): the same server's 404s, even its own problems, prove nothing.
    with live.verifier(registry_url_suffix="/aigov") as wrong:
        result = wrong.verify("3f2c9a4e-0000-4000-8000-000000000000")
        assert result.verdict is Verdict.INDETERMINATE, result.render_text()
        assert "HTTP 404" in result.check("parse").detail


def test_batch_over_the_registry_fetches_each_list_once(live: Live) -> None:
    transport = CountingTransport()
    with live.verifier(transport) as verifier:
        rows = verify_batch([c.token for c in live.credentials] * 5, verifier, concurrency=8)
    assert {r.verdict for r in rows} == {"valid"}
    assert len(rows) == 60
    assert sorted(transport.ok.values()) == [1, 1]


def test_the_commands_online(live: Live, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    did = tmp_path / "did.json"
    did.write_text(json.dumps(live.did_document), encoding="utf-8")
    _change(live, live.credentials[1], "revoke")
    now = (live.registry.clock() + timedelta(minutes=1)).isoformat()
    online = ["--registry", live.url, "--allow-insecure-loopback", "--trust", str(did), "--now", now]

    assert main(["verify", "--online", str(live.credentials[0].id), *online]) == EXIT_OK
    assert "VALID" in capsys.readouterr().out
    assert main(["verify", "--online", str(live.credentials[1].id), *online]) == EXIT_INVALID
    assert "revoked" in capsys.readouterr().out
    assert main(
        ["verify", "--online", str(live.credentials[0].id), "--registry", live.url, "--trust", str(did)]
    ) == (EXIT_USAGE)  # plain http to loopback without the development option: bad usage, with the hint
    assert "--allow-insecure-loopback" in capsys.readouterr().err

    claims = tmp_path / "claims.csv"
    with claims.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["claim", "vendor"])
        writer.writerow([str(live.credentials[0].id), "ACME Corp."])
        writer.writerow([f"{live.url}/credentials/{live.credentials[1].id}", ""])
        writer.writerow([live.credentials[2].token, "アクメ"])
        writer.writerow(["https://169.254.169.254/latest/meta-data/", ""])
    code = main(["verify-batch", str(claims), "--no-progress", *online])
    out = capsys.readouterr().out
    rows = list(csv.DictReader(io.StringIO(out)))
    assert [r["verdict"] for r in rows] == ["valid", "invalid", "valid", "indeterminate"], out
    assert "link-local" in rows[3]["reason"]
    assert code == EXIT_INVALID


def test_trust_from_the_scheme_owners_thumbprint_alone(live: Live) -> None:
    """Nothing pinned but the registry key's thumbprint: its DID document, the trust list and the status lists
    are fetched; the accredited body's certificates verify, and a withdrawal is seen once the cached list is stale."""
    loop = live.registry
    with loop.session() as session, write_transaction(session):
        accredit(
            session=session,
            signers=loop.context().signers,
            policy=TrustListPolicy(public_url=live.url),
            body=session.get(CertificationBody, loop.acme.id),
            scheme_id=loop.acme.scheme_id,
            levels=None,
            valid_from=KEYS_CREATED,
            valid_until=None,
            reason="assessment passed",
            actor="admin",
            now=loop.clock(),
        )
    thumbprint = loop.keystore(REGISTRY_KEYSTORE).published_keys()[0].kid
    transport = CountingTransport()
    verifier = OnlineVerifier(
        live.url, scheme_owner=thumbprint, transport=transport, clock=loop.clock, allow_insecure_loopback=True
    )
    for credential in live.credentials[:3]:
        result = verifier.verify(str(credential.id))
        assert result.verdict is Verdict.VALID, result.render_text()
    assert transport.ok["/trust-list"] == 1
    assert transport.ok["/.well-known/did.json"] == 1
    assert verifier.trust.trust_list is not None

    with loop.session() as session, write_transaction(session):
        change_accreditation(
            session=session,
            signers=loop.context().signers,
            policy=TrustListPolicy(public_url=live.url),
            body=session.get(CertificationBody, loop.acme.id),
            state=BodyState.WITHDRAWN,
            reason="accreditation withdrawn",
            actor="admin",
            now=loop.clock(),
        )
    assert (
        verifier.verify(live.credentials[0].token).verdict is Verdict.VALID
    )  # the list is fresh for max-age
    loop.clock.advance(seconds=301)
    withdrawn = verifier.verify(live.credentials[0].token)
    assert withdrawn.verdict is Verdict.INVALID, withdrawn.render_text()
    assert withdrawn.check("issuer_trust").problem == problems.ACCREDITATION_WITHDRAWN
    assert transport.ok["/trust-list"] == 2
    with OnlineVerifier(
        live.url, scheme_owner="A" * 43, clock=loop.clock, allow_insecure_loopback=True
    ) as other:
        wrong = other.verify(live.credentials[0].token)
    assert wrong.verdict is Verdict.INDETERMINATE
    assert "no key of" in wrong.summary
    verifier.close()
