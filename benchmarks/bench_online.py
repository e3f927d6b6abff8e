"""Issue #4 online targets: bulk verification against a local registry, and one online verification with a warm
cache, each against the same work done offline in the same run.

What runs, all in this process and on 127.0.0.1, stopped at the end: the registry app (`registry.app.create_app`)
under uvicorn in a thread, on a migrated SQLite database in a temporary directory, with 5 certification bodies
that have issued 2,000 real certificates each through `registry.lifecycle.issue_batch` (so 10 status lists: a
revocation and a suspension list per body). The verifier pins the bodies' DID documents and reaches the
registry over real HTTP with the address-checking transport (`allow_insecure_loopback`: plain http on loopback).

(a) `verify_batch` of the 10,000 tokens with a fresh `OnlineVerifier` each round (a cold cache: each of the 10
    lists is fetched and verified once) against `verify_batch` of the same tokens with a `TrustStore` holding the
    same 10 lists (offline), same concurrency. Target 1.5x.
(b) `OnlineVerifier.verify` of one token with a warm cache against `verifier.verify` offline. Target 1.2x.

Run: `python -m benchmarks online` (or `python -m benchmarks.bench_online`).
"""

from __future__ import annotations

import socket
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import httpx
import uvicorn
from sqlmodel import Session

from benchmarks._measure import Ratio, compare_many, timer
from benchmarks.bench_registry import decisions
from issuer import CertificationDecision, load_scheme, utc_now
from keys import Keystore
from registry import lifecycle, trustlist
from registry.app import create_app
from registry.bodies import add_scheme, create_body
from registry.config import Settings
from registry.db import make_engine
from registry.identity import REGISTRY_KEYSTORE
from registry.migrate import upgrade
from registry.models import CertificationBodyCreate
from registry.signers import KeyCache, Signers
from registry.statuslists import ListPolicy
from verifier import OnlineVerifier, TrustStore, Verdict, verify, verify_batch
from verifier._jws import parse_compact

TITLE = "online and bulk verification"
ORDER = 60
BODIES = 5
PER_BODY = 2_000
CONCURRENCY = 8
PASSPHRASE = "benchmark passphrase, not a secret"  # noqa: S105 - throwaway keys in a temporary directory
NOTES: list[str] = []


@dataclass
class Local:
    url: str
    tokens: list[str]
    did_documents: list[dict[str, object]]
    status_tokens: list[bytes]

    def trust(self, *, with_lists: bool) -> TrustStore:
        store = TrustStore()
        for document in self.did_documents:
            store.add_did_document(document)
        if with_lists:
            for token in self.status_tokens:
                assert store.add_status_list(token).bits is not None
        return store

    def online(self) -> OnlineVerifier:
        return OnlineVerifier(self.url, trust=self.trust(with_lists=False), allow_insecure_loopback=True)


@contextmanager
def local_registry(bodies: int = BODIES, per_body: int = PER_BODY) -> Iterator[Local]:
    """The registry on loopback with `bodies` certification bodies of `per_body` certificates each."""
    with tempfile.TemporaryDirectory(prefix="aigov-bench-online-") as tmp:
        root = Path(tmp)
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{sock.getsockname()[1]}"
        database = f"sqlite:///{root / 'registry.db'}"
        upgrade(database)
        settings = Settings(
            database_url=database,
            public_url=url,
            keystore_path=root / "keys",
            key_passphrase=PASSPHRASE,
            environment="development",
        )
        slugs = [f"bench-cb-{n}" for n in range(bodies)]
        for name in (REGISTRY_KEYSTORE, *slugs):
            Keystore(root / "keys" / name, passphrase=PASSPHRASE.encode()).generate()
        key_cache = KeyCache()
        ctx = lifecycle.Context(
            policy=ListPolicy(public_url=url, size=settings.status_list_size, ttl=timedelta(minutes=5)),
            signers=Signers(
                keystore_path=settings.keystore_path,
                passphrase=settings.passphrase(),
                public_url=url,
                clock=utc_now,
                key_cache=key_cache,
            ),
            clock=utc_now,
        )
        engine = make_engine(database, pool_size=1, max_overflow=0)
        tokens: list[str] = []
        started = time.perf_counter()
        with Session(engine, expire_on_commit=False) as session:
            scheme = load_scheme()
            add_scheme(session=session, scheme=scheme, now=utc_now())
            for n, slug in enumerate(slugs):
                body = create_body(
                    session=session,
                    data=CertificationBodyCreate(slug=slug, name_en=slug, name_ja=None, scheme_id=scheme.id),
                    public_url=url,
                    now=utc_now(),
                )
                session.commit()
                # Only an accredited body issues: the scheme owner accredits it (and signs the trust list).
                trustlist.accredit(
                    session=session,
                    signers=ctx.signers,
                    policy=trustlist.TrustListPolicy(public_url=url),
                    body=body,
                    scheme_id=scheme.id,
                    levels=None,
                    valid_from=utc_now(),
                    valid_until=None,
                    reason="benchmark accreditation",
                    actor="benchmark",
                    now=utc_now(),
                )
                session.commit()
                for start in range(0, per_body, 1000):
                    chunk = decisions(
                        min(1000, per_body - start), prefix=f"ONL{n}", start=n * per_body + start
                    )
                    issued = lifecycle.issue_batch(
                        session=session,
                        ctx=ctx,
                        body=body,
                        decisions=[CertificationDecision.model_validate(d) for d in chunk],
                        actor="benchmark",
                    ).credentials
                    tokens += [c.token for c in issued]
        engine.dispose()
        print(f"  online: issued {len(tokens):,} in {time.perf_counter() - started:.0f} s", file=sys.stderr)
        server = uvicorn.Server(
            uvicorn.Config(
                create_app(settings, key_cache=key_cache),
                log_level="warning",
                access_log=False,
                lifespan="on",
            )
        )
        thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
        thread.start()
        deadline = time.monotonic() + 30
        while not server.started:
            if time.monotonic() > deadline or not thread.is_alive():
                raise RuntimeError("the registry did not start")
            time.sleep(0.01)
        try:
            with httpx.Client(base_url=url, timeout=30) as client:
                documents = [client.get(f"/issuers/{slug}/did.json").json() for slug in slugs]
                lists = sorted(
                    {e["statusListCredential"] for t in tokens[:: per_body // 2] for e in _entries(t)}
                )
                status_tokens = [client.get(u).content for u in lists]
            assert len(status_tokens) == 2 * bodies, lists
            yield Local(url, tokens, documents, status_tokens)
        finally:
            server.should_exit = True
            thread.join(timeout=30)
            sock.close()


def _entries(token: str) -> list[dict[str, str]]:
    entries: list[dict[str, str]] = parse_compact(token).payload["credentialStatus"]
    return entries


def bulk(local: Local, *, rounds: int = 2) -> Ratio:
    """(a) A batch with a cold online verifier against the same batch offline."""
    offline = local.trust(with_lists=True)

    def online_batch() -> None:
        with local.online() as verifier:
            rows = verify_batch(local.tokens, verifier, concurrency=CONCURRENCY)
        assert all(r.verdict == "valid" for r in rows), next(r for r in rows if r.verdict != "valid")

    def offline_batch() -> None:
        rows = verify_batch(local.tokens, offline, concurrency=CONCURRENCY)
        assert all(r.verdict == "valid" for r in rows)

    (ratio,) = compare_many(
        f"bulk: {len(local.tokens):,} certificates over {len(local.status_tokens)} status lists, "
        f"verify_batch (concurrency {CONCURRENCY}), lists fetched from a local registry",
        timer(online_batch),
        {"the same batch offline (the same lists in a TrustStore)": timer(offline_batch)},
        number=1,
        rounds=rounds,
        targets={"the same batch offline (the same lists in a TrustStore)": 1.5},
    )
    return ratio


def warm(local: Local, *, number: int = 1000, rounds: int = 7) -> Ratio:
    """(b) One online verification with a warm cache against the same verification offline."""
    token = local.tokens[len(local.tokens) // 2]
    offline = local.trust(with_lists=True)
    online = local.online()
    assert online.verify(token).verdict is Verdict.VALID  # warms the cache
    assert verify(token, offline).verdict is Verdict.VALID
    reference = "verifier.verify offline (the same lists in a TrustStore)"
    (ratio,) = compare_many(
        "online: OnlineVerifier.verify of one certificate, warm cache",
        timer(lambda: online.verify(token)),
        {reference: timer(lambda: verify(token, offline))},
        number=number,
        rounds=rounds,
        targets={reference: 1.2},
    )
    online.close()
    return ratio


def run() -> list[Ratio]:
    with local_registry() as local:
        return [warm(local), bulk(local)]


if __name__ == "__main__":
    for row in run():
        verdict = "" if row.ok is None else (" ok" if row.ok else " OVER TARGET")
        print(
            f"{row.name}\n  vs {row.reference}: {row.ratio:.3f}x "
            f"(min {row.low:.3f}, max {row.high:.3f}; {row.subject_us:,.0f} µs vs {row.reference_us:,.0f} µs)"
            f"{verdict}"
        )
