"""Issue #3 registry targets, measured the way the issue states them: a real server, a load generator, loopback.

What runs, all on 127.0.0.1 and all stopped at the end:
- `aigov serve` in a subprocess (its defaults: see `aigov serve --help`) on a migrated SQLite database in a
  temporary directory, with the registry's key, a certification body and an API token made by `aigov admin`;
- nginx from Debian with a temporary configuration on another port, serving the bytes of the same status list
  as a static file with the same headers: the reference for `GET /status/{list}`, measured in the same run;
- wrk (`--latency`) for the GET endpoints, interleaved with nginx round by round;
- a Python client (one keep-alive `httpx.Client`) for issuance, one credential at a time and in batches.

wrk and nginx are Debian packages; when either is missing the benchmark installs it with apt-get (as root)
before it starts, and says so. Every request loop is bounded in count and in time.

The 100,000 credentials of the lookup benchmark are all real: issued in-process, before the server starts,
through `registry.lifecycle.issue_batch` (1,000 per transaction), each signed and self-verified like any
other. Some of them are then revoked through `registry.lifecycle.revoke`, one transaction each, until the
revocation list's signed credential is about 20 KB, the size the issue names.

Run: `python -m benchmarks.bench_registry` (`--quick` for a short smoke run; `--help` for the knobs).
"""

from __future__ import annotations

import argparse
import atexit
import contextlib
import json
import multiprocessing
import os
import random
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
import uuid
from collections.abc import Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field, replace
from importlib import resources
from pathlib import Path
from typing import Any

import httpx
from sqlmodel import Session, select

from issuer import CertificationDecision, Issuer, utc_now
from registry import lifecycle
from registry.bodies import body_by_slug
from registry.config import Settings
from registry.db import Checkpointer, make_engine
from registry.migrate import upgrade
from registry.models import ReasonCode, StatusList
from registry.signers import Signers, SignerSpec, build_issuer
from registry.statuslists import ListPolicy

PASSPHRASE = "benchmark passphrase: not a secret"  # noqa: S105
BODY_SLUG = "bench-cb"
SCOPES = "credentials:issue,credentials:suspend,credentials:revoke,credentials:renew"
# Issue #3's targets.
STATUS_RATIO_TARGET = 0.3
STATUS_P99_MS = 50.0
LOOKUP_RPS_TARGET = 2000.0
LOOKUP_P99_MS = 100.0
ISSUE_TARGET = 300.0
BATCH_TARGET = 3000.0
STATUS_LIST_BYTES = 20_000
REVOKE_STEP = 250  # revocations between two looks at the status list's size
# The server and role that `.ci/run` sets up for the tests (its role has CREATEDB); tried when no URL is given.
DEFAULT_POSTGRES_URL = "postgresql+psycopg://aigov_test:aigov_test@127.0.0.1:5432/aigov_test"
# Certificate numbers are unique per certification body: each run issues under its own prefix.
RUN = f"{os.getpid() % 10_000:04d}{int(time.time()) % 100_000:05d}"


@dataclass
class Options:
    credentials: int = 100_000
    postgres_credentials: int = 20_000
    status_bytes: int = STATUS_LIST_BYTES
    # A revocation costs ≈ 5 ms on SQLite but 20-50 ms on PostgreSQL here (it re-signs and rewrites the list):
    # 20 KB would take 17,500 of them, 6-15 minutes, so PostgreSQL's list is made smaller.
    postgres_status_bytes: int = 5_000
    rounds: int = 3
    seconds: float = 4.0
    connections: int = 32
    wrk_threads: int = 1
    issue_count: int = 2000
    issue_seconds: float = 6.0
    batch_size: int = 1000
    batches: int = 5
    batch_seconds: float = 12.0
    workers: int | None = None
    serve_args: list[str] = field(default_factory=list)
    workdir: Path | None = None
    # PostgreSQL: a server where this role may CREATE DATABASE; the benchmark creates its own database there
    # and drops it at the end. None: AIGOV_BENCH_POSTGRES_URL, else AIGOV_TEST_DATABASE_URL, else skipped.
    postgres_url: str | None = None


# -- tools --------------------------------------------------------------------------------------------------------


def ensure_tools() -> list[str]:
    """wrk and nginx, installed from Debian's packages when missing (root only). Returns what was done."""
    notes = []
    missing = [pkg for pkg, binary in (("wrk", "wrk"), ("nginx", "nginx")) if not _which(binary)]
    if missing:
        if os.geteuid() != 0 or not shutil.which("apt-get"):
            raise SystemExit(
                f"the registry benchmark needs {', '.join(missing)} (Debian: apt-get install ...)"
            )
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        subprocess.run(["apt-get", "update", "-qq"], check=True, env=env, stdout=subprocess.DEVNULL)
        subprocess.run(
            ["apt-get", "install", "-y", "-qq", *missing], check=True, env=env, stdout=subprocess.DEVNULL
        )
        notes.append(f"installed {', '.join(missing)} with apt-get")
    return notes


def _which(name: str) -> str | None:
    return shutil.which(name) or shutil.which(name, path="/usr/sbin:/usr/bin:/sbin:/bin")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _version(argv: list[str]) -> str:
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=10, check=False)
    except OSError:
        return "?"
    text = (done.stdout + done.stderr).strip().splitlines()
    return text[0] if text else "?"


# -- wrk ----------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Load:
    """One wrk run: requests/s and latency percentiles (ms), with the count of failed requests."""

    rps: float
    p50_ms: float
    p99_ms: float
    requests: int
    errors: int


_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 60e3}


def _ms(text: str) -> float:
    match = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text)
    if match is None:
        raise ValueError(f"unexpected wrk latency {text!r}")
    return float(match[1]) * _UNITS[match[2]]


def parse_wrk(output: str) -> Load:
    # wrk pads a latency in seconds with a trailing space ("1.31s "), hence the \s* before the end.
    percentiles = dict(re.findall(r"^\s+(\d+)%\s+(\S+)\s*$", output, re.MULTILINE))
    if "99" not in percentiles:
        raise RuntimeError(f"wrk completed no request:\n{output}")
    rps = float(re.search(r"^Requests/sec:\s+([\d.]+)", output, re.MULTILINE)[1])  # type: ignore[index]
    requests = int(re.search(r"(\d+) requests in", output)[1])  # type: ignore[index]
    errors = 0
    if found := re.search(r"Non-2xx or 3xx responses: (\d+)", output):
        errors += int(found[1])
    if found := re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output):
        errors += sum(int(n) for n in found.groups())
    return Load(rps, _ms(percentiles["50"]), _ms(percentiles["99"]), requests, errors)


def warm_up(url: str, opts: Options, *, script: Path | None = None) -> None:
    """Two seconds of load whose numbers are thrown away (wrk may record none when the first answers are slow)."""
    wrk(url, opts, script=script, seconds=2, parse=False)


def wrk(
    url: str, opts: Options, *, script: Path | None = None, seconds: float | None = None, parse: bool = True
) -> Load:
    argv = [
        _which("wrk") or "wrk",
        f"-t{opts.wrk_threads}",
        f"-c{opts.connections}",
        f"-d{max(1, round(seconds or opts.seconds))}s",
        "--timeout",
        "10s",
        "--latency",
    ]
    if script is not None:
        argv += ["-s", str(script)]
    done = subprocess.run([*argv, url], capture_output=True, text=True, timeout=300, check=True)
    return parse_wrk(done.stdout) if parse else Load(0, 0, 0, 0, 0)


# -- the registry and nginx ---------------------------------------------------------------------------------------


@dataclass
class Deployment:
    """A registry directory: database, keystores, settings as AIGOV_* variables."""

    root: Path
    port: int
    database: str | None = None  # a PostgreSQL URL; None: SQLite in `root`

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def database_url(self) -> str:
        return self.database or f"sqlite:///{self.root / 'aigov.db'}"

    @property
    def engine_name(self) -> str:
        return "SQLite" if self.database is None else "PostgreSQL"

    def env(self) -> dict[str, str]:
        return {
            **os.environ,
            "AIGOV_DATABASE_URL": self.database_url,
            "AIGOV_PUBLIC_URL": self.url,
            "AIGOV_KEYSTORE_PATH": str(self.root / "keystore"),
            "AIGOV_KEY_PASSPHRASE": PASSPHRASE,
            "AIGOV_ENVIRONMENT": "development",  # http on loopback
        }

    def aigov(self, *argv: str) -> str:
        """Run the CLI as an operator would; its standard output."""
        done = subprocess.run(
            [sys.executable, "-m", "aigov", *argv],
            env=self.env(),
            cwd=self.root,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        if done.returncode != 0:
            raise RuntimeError(f"aigov {' '.join(argv)} failed: {done.stderr.strip()}")
        return done.stdout.strip()

    def settings(self) -> Settings:
        return Settings(
            database_url=self.database_url,
            public_url=self.url,
            keystore_path=self.root / "keystore",
            key_passphrase=PASSPHRASE,
            environment="development",
        )


@contextlib.contextmanager
def registry_server(deployment: Deployment, opts: Options) -> Iterator[subprocess.Popen[bytes]]:
    """`aigov serve` in a subprocess, until it answers /healthz; terminated (then killed) on exit."""
    argv = [sys.executable, "-m", "aigov", "serve", "--port", str(deployment.port), "--no-access-log"]
    if opts.workers is not None:
        argv += ["--workers", str(opts.workers)]
    log = (deployment.root / "server.log").open("ab")
    process = subprocess.Popen(
        [*argv, *opts.serve_args],
        env=deployment.env(),
        cwd=deployment.root,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"the server exited: see {deployment.root / 'server.log'}")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{deployment.url}/healthz", timeout=2).status_code == 200:
                    break
            if time.monotonic() > deadline:
                raise RuntimeError("the server did not answer /healthz within 60 s")
            time.sleep(0.1)
        yield process
    finally:
        _stop(process)
        log.close()


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)


@contextlib.contextmanager
def nginx_static(path: str, content: bytes, headers: dict[str, str]) -> Iterator[str]:
    """nginx serving `content` at `path` with `headers` (its own ETag off: ours is sent instead)."""
    root = Path(tempfile.mkdtemp(prefix="aigov-nginx-"))
    root.chmod(0o755)  # readable by nginx's unprivileged workers
    try:
        (root / "body").write_bytes(content)
        (root / "body").chmod(0o644)
        port = free_port()
        media_type = headers.pop("Content-Type")
        add = "\n".join(f"            add_header {k} '{v}' always;" for k, v in headers.items())
        conf = textwrap.dedent(
            f"""\
            worker_processes auto;
            daemon off;
            pid {root}/nginx.pid;
            error_log {root}/error.log warn;
            events {{ worker_connections 4096; }}
            http {{
                access_log off;
                sendfile on;
                tcp_nopush on;
                keepalive_requests 1000000;
                client_body_temp_path {root}/client;
                proxy_temp_path {root}/proxy;
                fastcgi_temp_path {root}/fastcgi;
                uwsgi_temp_path {root}/uwsgi;
                scgi_temp_path {root}/scgi;
                server {{
                    listen 127.0.0.1:{port};
                    server_tokens off;
                    etag off;
                    location = {path} {{
                        types {{ }}
                        default_type {media_type};
            __ADD__
                        alias {root}/body;
                    }}
                }}
            }}
            """
        ).replace("__ADD__", add)
        (root / "nginx.conf").write_text(conf, encoding="utf-8")
        process = subprocess.Popen(
            [_which("nginx") or "nginx", "-p", str(root), "-e", str(root / "error.log"), "-c", "nginx.conf"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        try:
            url = f"http://127.0.0.1:{port}{path}"
            deadline = time.monotonic() + 15
            while True:
                with contextlib.suppress(httpx.HTTPError):
                    if httpx.get(url, timeout=2).content == content:
                        break
                if process.poll() is not None or time.monotonic() > deadline:
                    log = (root / "error.log").read_text(errors="replace")
                    raise RuntimeError(f"nginx did not start: {log[-2000:]}")
                time.sleep(0.05)
            yield url
        finally:
            _stop(process)
    finally:
        shutil.rmtree(root, ignore_errors=True)


# -- data ---------------------------------------------------------------------------------------------------------


def _check_digit(base: str) -> int:
    odd = sum(int(d) for d in base[-1::-2])
    even = sum(int(d) for d in base[-2::-2])
    return 9 - (odd + 2 * even) % 9


def decisions(count: int, *, prefix: str, start: int = 0) -> list[dict[str, Any]]:
    """`count` valid decisions (JSON form) for different companies, with unique certificate numbers."""
    text = resources.files("issuer").joinpath("data/sample-decision.json").read_text("utf-8")
    sample = json.loads(text)
    out = []
    for n in range(start, start + count):
        base = f"{n + 100_000_000_000:012d}"[-12:]
        subject = {
            **sample["subject"],
            "id": f"did:web:company-{n}.example",
            "legalName": {"en": f"Company {n} K.K.", "ja": f"株式会社カンパニー{n}"},
            "corporateNumber": f"{_check_digit(base)}{base}",
            "website": f"https://company-{n}.example",
        }
        out.append({**sample, "subject": subject, "certificateNumber": f"{prefix}-{n:07d}"})
    return out


@dataclass
class Population:
    ids: list[str]
    revocation_list: int
    seconds: float
    revoked: int
    revoke_seconds: float


def populate(deployment: Deployment, opts: Options) -> Population:
    """Issue `opts.credentials` real credentials in-process, then revoke some until the revocation list's
    signed credential reaches `opts.status_bytes`.

    The credentials are built, signed and stored by the registry's own issuance path; only the issuer's
    self-check (its signature verified with the published key and the credential validated against the
    profile before it is stored) is skipped, which shortens the set-up.
    Its cost is measured on its own (`measure_self_check`), and the HTTP benchmarks run with it.
    """
    settings = deployment.settings()
    engine = make_engine(settings.database_url, pool_size=1, max_overflow=0)
    ctx = lifecycle.Context(
        policy=ListPolicy.of(settings), signers=Signers.of(settings, factory=_unchecked), clock=utc_now
    )
    ids: list[str] = []
    started = time.perf_counter()
    with Session(engine, expire_on_commit=False) as session:
        body = body_by_slug(session=session, slug=BODY_SLUG)
        session.commit()
        for start in range(0, opts.credentials, 1000):
            chunk = decisions(min(1000, opts.credentials - start), prefix="POP", start=start)
            issued = lifecycle.issue_batch(
                session=session,
                ctx=ctx,
                body=body,
                decisions=[CertificationDecision.model_validate(d) for d in chunk],
                actor="benchmark",
            ).credentials
            ids += [str(c.id) for c in issued]
            if start % 20_000 == 0:
                print(
                    f"  {deployment.engine_name}: populated {start + len(issued):,} "
                    f"in {time.perf_counter() - started:.0f} s",
                    file=sys.stderr,
                )
        seconds = time.perf_counter() - started
        list_id = issued[0].revocation_list_id
        rng = random.Random(3)  # noqa: S311 - benchmark data
        candidates = rng.sample(ids, len(ids))
        revoked, started = 0, time.perf_counter()
        while candidates:
            size = len(session.exec(select(StatusList.token).where(StatusList.id == list_id)).one())
            session.commit()
            if size >= opts.status_bytes:
                break
            for credential_id in candidates[:REVOKE_STEP]:
                lifecycle.revoke(
                    session=session,
                    ctx=ctx,
                    body=body,
                    credential_id=uuid.UUID(credential_id),
                    actor="benchmark",
                    reason_code=ReasonCode.OTHER,
                )
            del candidates[:REVOKE_STEP]
            revoked += REVOKE_STEP
            if revoked % 5000 == 0:
                print(
                    f"  {deployment.engine_name}: revoked {revoked:,} in {time.perf_counter() - started:.0f} s",
                    file=sys.stderr,
                )
    engine.dispose()
    return Population(ids, list_id, seconds, revoked, time.perf_counter() - started)


def prepare(deployment: Deployment, opts: Options) -> Population:
    """Migrate, make the registry's keys, a certification body, and populate: what an operator would do."""
    upgrade(deployment.database_url)
    deployment.aigov("admin", "init")
    deployment.aigov("admin", "create-issuer", "--slug", BODY_SLUG, "--name-en", "Benchmark CB")
    # Only an accredited body issues: the scheme owner accredits it (and signs the trust list) first.
    deployment.aigov("admin", "accredit", "--issuer", BODY_SLUG, "--reason", "benchmark accreditation")
    print(f"{deployment.engine_name}: populating {opts.credentials:,} credentials ...", file=sys.stderr)
    return populate(deployment, opts)


def postgres_admin_url(opts: Options) -> str:
    """The PostgreSQL server to measure on: the option, the environment, else the one `.ci/run` sets up."""
    return (
        opts.postgres_url
        or os.environ.get("AIGOV_BENCH_POSTGRES_URL")
        or os.environ.get("AIGOV_TEST_DATABASE_URL")
        or DEFAULT_POSTGRES_URL
    )


@contextlib.contextmanager
def postgres_database(admin_url: str) -> Iterator[str]:
    """A new database on `admin_url`'s server (its role needs CREATEDB), dropped on exit; yields its URL."""
    import psycopg  # noqa: PLC0415 - only when PostgreSQL is measured
    from psycopg import sql  # noqa: PLC0415
    from sqlalchemy.engine import make_url  # noqa: PLC0415

    url = make_url(admin_url)
    libpq = url.set(drivername="postgresql").render_as_string(hide_password=False)
    name = f"aigov_bench_{RUN}"
    with psycopg.connect(libpq, autocommit=True, connect_timeout=5) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(libpq, autocommit=True, connect_timeout=5) as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def _unchecked(spec: SignerSpec) -> Issuer:
    """An issuer without its self-check: for measuring what the self-check costs and for populating the
    benchmark's database faster; never for serving."""
    return Issuer(
        identity=spec.identity,
        signing_key=spec.signing_key,
        published_keys=spec.published_keys,
        scheme=spec.scheme,
        registry_url=spec.registry_url,
        clock=spec.clock,
        self_check=False,
    )


@dataclass(frozen=True)
class SelfCheckCost:
    checked: float  # credentials/s through lifecycle.issue_batch, in-process, with the issuer's self-check
    unchecked: float  # the same without it


def _self_check_cost(cost: SelfCheckCost) -> str:
    """What the self-check costs a credential, or that it cost nothing measurable (the checks overlap storing)."""
    extra_us = (1 / cost.checked - 1 / cost.unchecked) * 1e6
    if extra_us <= 0:
        return "no cost measurable: the median round with it was no slower (the checks run while the batch is stored)"
    return f"the self-check costs {extra_us:,.0f} µs per credential"


def measure_self_check(deployment: Deployment, rounds: int = 5, size: int = 1000) -> SelfCheckCost:
    """In-process batch issuance with and without the issuer's self-check, interleaved round by round, with the
    write-ahead log checkpointed in the background as the server does (otherwise a commit every 40 MB of log
    checkpoints it inline, and that commit's round dwarfs the difference measured)."""
    settings = deployment.settings()
    engine = make_engine(settings.database_url, pool_size=1, max_overflow=0)
    checkpointer = Checkpointer.for_url(settings.database_url)
    policy = ListPolicy.of(settings)
    contexts = {
        factory: lifecycle.Context(
            policy=policy, signers=Signers.of(settings, factory=factory), clock=utc_now
        )
        for factory in (build_issuer, _unchecked)
    }
    rates: dict[object, list[float]] = {factory: [] for factory in contexts}
    with contextlib.ExitStack() as stack, Session(engine, expire_on_commit=False) as session:
        if checkpointer is not None:
            checkpointer.start()
            stack.callback(checkpointer.stop)
        body = body_by_slug(session=session, slug=BODY_SLUG)
        session.commit()
        for n in range(rounds + 1):
            for factory, ctx in contexts.items():
                name = "C" if factory is build_issuer else "U"
                chunk = [
                    CertificationDecision.model_validate(d)
                    for d in decisions(size, prefix=f"SC{name}{RUN}{n:02d}")
                ]
                started = time.perf_counter()
                lifecycle.issue_batch(session=session, ctx=ctx, body=body, decisions=chunk, actor="benchmark")
                if n > 0:  # the first round builds the signers (a key decryption each)
                    rates[factory].append(size / (time.perf_counter() - started))
    engine.dispose()
    return SelfCheckCost(statistics.median(rates[build_issuer]), statistics.median(rates[_unchecked]))


# -- measurements -------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Row:
    name: str
    ours: Load
    reference: Load | None = None
    note: str = ""

    @property
    def ratio(self) -> float | None:
        return None if self.reference is None else self.ours.rps / self.reference.rps


def _median_load(loads: Sequence[Load]) -> Load:
    return Load(
        statistics.median(x.rps for x in loads),
        statistics.median(x.p50_ms for x in loads),
        statistics.median(x.p99_ms for x in loads),
        sum(x.requests for x in loads),
        sum(x.errors for x in loads),
    )


def bench_status(deployment: Deployment, list_id: int, opts: Options) -> tuple[Row, list[float], int]:
    path = f"/status/{list_id}"
    response = httpx.get(deployment.url + path)
    response.raise_for_status()
    headers = {
        name: response.headers[name]
        for name in ("Content-Type", "ETag", "Cache-Control", "Access-Control-Allow-Origin")
    }
    headers["Access-Control-Expose-Headers"] = response.headers.get("Access-Control-Expose-Headers", "ETag")
    ours, theirs, ratios = [], [], []
    with nginx_static(path, response.content, dict(headers)) as nginx_url:
        reference = httpx.get(nginx_url)
        assert reference.content == response.content
        assert reference.headers["etag"] == response.headers["etag"]
        warm_up(deployment.url + path, opts)
        warm_up(nginx_url, opts)
        for _ in range(opts.rounds):
            theirs.append(wrk(nginx_url, opts))
            ours.append(wrk(deployment.url + path, opts))
            ratios.append(ours[-1].rps / theirs[-1].rps)
    return (
        Row(
            f"GET /status/{{list}} ({len(response.content):,} bytes)",
            _median_load(ours),
            _median_load(theirs),
        ),
        ratios,
        len(response.content),
    )


def bench_lookup(deployment: Deployment, ids: list[str], opts: Options) -> Row:
    rng = random.Random(7)  # noqa: S311 - benchmark data
    sample = rng.sample(ids, min(len(ids), 2000))
    first = httpx.get(f"{deployment.url}/api/v1/credentials/{sample[0]}")
    first.raise_for_status()
    assert first.json()["id"] == sample[0]
    script = deployment.root / "lookup.lua"
    script.write_text(
        "local ids = {" + ",".join(f'"{i}"' for i in sample) + "}\n"
        "math.randomseed(42)\n"
        "request = function()\n"
        '  return wrk.format("GET", "/api/v1/credentials/" .. ids[math.random(#ids)])\n'
        "end\n",
        encoding="utf-8",
    )
    warm_up(deployment.url + "/", opts, script=script)
    loads = [wrk(deployment.url + "/", opts, script=script) for _ in range(opts.rounds)]
    return Row(f"GET /api/v1/credentials/{{id}} ({len(ids):,} credentials, random ids)", _median_load(loads))


PAGE_PATH = "/credentials/{id}"


def page_unavailable(deployment: Deployment, credential_id: str) -> str | None:
    """Why the registry does not serve the human certificate page (`Accept: text/html`); None when it does."""
    response = httpx.get(
        f"{deployment.url}{PAGE_PATH.format(id=credential_id)}", headers={"Accept": "text/html"}, timeout=10
    )
    media_type = response.headers.get("content-type", "")
    if response.status_code == 200 and media_type.startswith("text/html"):
        return None
    return f"HTTP {response.status_code} {media_type}: {response.text[:120]!r}"


def bench_page(deployment: Deployment, ids: list[str], opts: Options) -> Row:
    """The certificate page, as a browser asks for it, for random ids (like the lookup)."""
    sample = random.Random(11).sample(ids, min(len(ids), 2000))  # noqa: S311 - benchmark data
    script = deployment.root / "page.lua"
    script.write_text(
        "local ids = {" + ",".join(f'"{i}"' for i in sample) + "}\n"
        "math.randomseed(43)\n"
        'local headers = {["Accept"] = "text/html"}\n'
        "request = function()\n"
        '  return wrk.format("GET", "/credentials/" .. ids[math.random(#ids)], headers)\n'
        "end\n",
        encoding="utf-8",
    )
    warm_up(deployment.url + "/", opts, script=script)
    loads = [wrk(deployment.url + "/", opts, script=script) for _ in range(opts.rounds)]
    return Row(f"GET {PAGE_PATH} (Accept: text/html, random ids)", _median_load(loads))


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def bench_issue_wrk(deployment: Deployment, token: str, opts: Options) -> Row:
    """Issuance one at a time from a load generator: wrk, one connection, each request a new decision."""
    sample = decisions(1, prefix="WRK")[0]
    sample["certificateNumber"] = "@NUMBER@"
    before, after = json.dumps(sample).split("@NUMBER@")
    script = deployment.root / "issue.lua"
    script.write_text(
        f"local before = {json.dumps(before)}\n"
        f"local after = {json.dumps(after)}\n"
        f'local headers = {{["Content-Type"] = "application/json", ["Authorization"] = "Bearer {token}"}}\n'
        "local n = 0\n"
        "local run = tostring(os.time()) .. tostring(math.random(1000000))\n"
        "request = function()\n"
        "  n = n + 1\n"
        '  return wrk.format("POST", "/api/v1/credentials", headers, before .. "W" .. run .. "-" .. n .. after)\n'
        "end\n",
        encoding="utf-8",
    )
    one = Options(**{**opts.__dict__, "connections": 1, "wrk_threads": 1})
    warm_up(deployment.url + "/", one, script=script)  # warm-up: the signer, caches
    loads = [wrk(deployment.url + "/", one, script=script) for _ in range(opts.rounds)]
    return Row("POST /api/v1/credentials, wrk, one connection, one at a time", _median_load(loads))


def bench_issue(deployment: Deployment, token: str, opts: Options) -> Row:
    bodies = [json.dumps(d).encode() for d in decisions(opts.issue_count + 20, prefix=f"SEQ{RUN}")]
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    latencies = []
    with httpx.Client(base_url=deployment.url, headers=headers, timeout=30) as client:
        for body in bodies[:20]:  # warm-up: the worker's signer, connection, caches
            client.post("/api/v1/credentials", content=body).raise_for_status()
        started = time.perf_counter()
        deadline = started + opts.issue_seconds
        for body in bodies[20:]:
            sent = time.perf_counter()
            response = client.post("/api/v1/credentials", content=body)
            latencies.append(time.perf_counter() - sent)
            if response.status_code != 201:
                raise RuntimeError(f"issuance failed: {response.status_code} {response.text[:500]}")
            if sent > deadline:
                break
        elapsed = time.perf_counter() - started
    load = Load(
        len(latencies) / elapsed,
        _percentile(latencies, 0.5) * 1e3,
        _percentile(latencies, 0.99) * 1e3,
        len(latencies),
        0,
    )
    return Row("POST /api/v1/credentials, Python client (httpx), one at a time", load)


def bench_batch(deployment: Deployment, token: str, opts: Options) -> Row:
    size = opts.batch_size
    bodies = [
        json.dumps({"decisions": decisions(size, prefix=f"B{RUN}{n:03d}")}).encode()
        for n in range(opts.batches + 1)
    ]
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    latencies, issued = [], 0
    with httpx.Client(base_url=deployment.url, headers=headers, timeout=120) as client:
        warm = json.dumps({"decisions": decisions(10, prefix=f"BW{RUN}")}).encode()
        client.post("/api/v1/credentials/batch", content=warm).raise_for_status()
        started = time.perf_counter()
        deadline = started + opts.batch_seconds
        for body in bodies[: opts.batches]:
            sent = time.perf_counter()
            response = client.post("/api/v1/credentials/batch", content=body)
            latencies.append(time.perf_counter() - sent)
            if response.status_code != 201:
                raise RuntimeError(f"batch issuance failed: {response.status_code} {response.text[:500]}")
            issued += size
            if time.perf_counter() > deadline:
                break
        elapsed = time.perf_counter() - started
    load = Load(
        issued / elapsed,
        statistics.median(latencies) * 1e3,
        max(latencies) * 1e3,
        issued,
        0,
    )
    return Row(f"POST /api/v1/credentials/batch, {size:,} per request, one client", load)


# -- the suite ----------------------------------------------------------------------------------------------------

TITLE = "registry"
ORDER = 90


@dataclass(frozen=True)
class Rows:
    status: Row
    ratios: list[float]
    lookup: Row
    page: Row | str  # the row, or why the page was not measured
    issue_wrk: Row
    issue: Row
    batch: Row
    self_check: SelfCheckCost | None


def measure(deployment: Deployment, population: Population, token: str, opts: Options) -> Rows:
    """Every HTTP measurement against one running server."""
    name = deployment.engine_name
    with registry_server(deployment, opts):
        print(f"{name}: GET /status/{{list}} against nginx ...", file=sys.stderr)
        status_row, ratios, _ = bench_status(deployment, population.revocation_list, opts)
        print(f"{name}: GET /api/v1/credentials/{{id}} ...", file=sys.stderr)
        lookup_row = bench_lookup(deployment, population.ids, opts)
        page_row: Row | str | None = page_unavailable(deployment, population.ids[0])
        if page_row is None:
            print(f"{name}: GET {PAGE_PATH} (text/html) ...", file=sys.stderr)
            page_row = bench_page(deployment, population.ids, opts)
        print(f"{name}: issuance, one at a time ...", file=sys.stderr)
        issue_wrk_row = bench_issue_wrk(deployment, token, opts)
        issue_row = bench_issue(deployment, token, opts)
        print(f"{name}: issuance, batches ...", file=sys.stderr)
        batch_row = bench_batch(deployment, token, opts)
    return Rows(status_row, ratios, lookup_row, page_row, issue_wrk_row, issue_row, batch_row, None)


_SHARED: list[tuple[Deployment, Population]] = []


def shared_sqlite() -> tuple[Deployment, Population] | None:
    """The SQLite registry this suite populated and measured in this process, if it ran: later suites can
    serve it again (`registry_server`) instead of spending two minutes issuing 100,000 credentials anew.
    Its public URL, hence `Deployment.port`, is baked into its credentials: keep the port."""
    return _SHARED[-1] if _SHARED else None


def _sqlite_deployment(opts: Options) -> tuple[Deployment, Population | None]:
    """A fresh SQLite deployment, or the one kept in `opts.workdir` with its population."""
    if opts.workdir is None:
        return Deployment(Path(tempfile.mkdtemp(prefix="aigov-bench-")), free_port()), None
    opts.workdir.mkdir(parents=True, exist_ok=True)
    deployment = Deployment(opts.workdir.resolve(), free_port())
    saved_file = deployment.root / "populated.json"
    if not saved_file.exists():
        return deployment, None
    saved = json.loads(saved_file.read_text())
    # The public URL is baked into the credentials: serve on the port they were issued for.
    deployment.port = saved.pop("port", deployment.port)
    return deployment, Population(**saved)


def run(opts: Options | None = None) -> list[str]:
    """Run the registry benchmarks on SQLite and, when a server is configured, PostgreSQL; the report.

    Both databases are populated at the same time, in two processes (one core each), which halves the
    set-up time; the measurements then run one database after the other, never concurrently.
    """
    opts = opts or Options()
    notes = ensure_tools()
    sqlite, sqlite_population = _sqlite_deployment(opts)
    admin_url = postgres_admin_url(opts)
    sections: list[str] = []
    with contextlib.ExitStack() as stack:
        if opts.workdir is None:  # kept for later suites of the same run (shared_sqlite), removed at exit
            atexit.register(shutil.rmtree, sqlite.root, ignore_errors=True)
        postgres: Deployment | None = None
        pg_future = None
        if opts.postgres_credentials > 0:
            try:
                database = stack.enter_context(postgres_database(admin_url))
            except Exception as e:  # noqa: BLE001 - any failure to reach the server: say so, measure SQLite
                notes.append(
                    f"PostgreSQL not measured ({type(e).__name__}: {str(e).strip()[:200]}): set "
                    "AIGOV_BENCH_POSTGRES_URL to a server whose role may CREATE DATABASE"
                )
            else:
                root = Path(tempfile.mkdtemp(prefix="aigov-bench-pg-"))
                stack.callback(shutil.rmtree, root, ignore_errors=True)
                postgres = Deployment(root, free_port(), database)
                pool = stack.enter_context(
                    ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn"))
                )
                pg_opts = replace(
                    opts, credentials=opts.postgres_credentials, status_bytes=opts.postgres_status_bytes
                )
                pg_future = pool.submit(prepare, postgres, pg_opts)
        if sqlite_population is None:
            sqlite_population = prepare(sqlite, opts)
            if opts.workdir is not None:
                (sqlite.root / "populated.json").write_text(
                    json.dumps({**sqlite_population.__dict__, "port": sqlite.port})
                )
        pg_population = None if pg_future is None else pg_future.result()
        print("SQLite: issuance in-process, with and without the self-check ...", file=sys.stderr)
        self_check = measure_self_check(sqlite)
        token = sqlite.aigov("admin", "create-token", "--issuer", BODY_SLUG, "--scopes", SCOPES)
        rows = replace(measure(sqlite, sqlite_population, token, opts), self_check=self_check)
        _SHARED.append((sqlite, sqlite_population))
        sections += report_engine(sqlite, opts, sqlite_population, rows)
        if postgres is not None and pg_population is not None:
            token = postgres.aigov("admin", "create-token", "--issuer", BODY_SLUG, "--scopes", SCOPES)
            rows = measure(postgres, pg_population, token, opts)
            sections += report_engine(postgres, opts, pg_population, rows)
    return report_header(opts, notes) + sections


def _met(ok: bool) -> str:
    return "met" if ok else "**not met**"


def report_header(opts: Options, notes: list[str]) -> list[str]:
    return [
        f"- server: `aigov serve {' '.join(opts.serve_args)}`"
        + (f" `--workers {opts.workers}`" if opts.workers else " (default workers)")
        + f"; wrk: {opts.wrk_threads} thread(s), {opts.connections} connections, "
        f"{opts.rounds} rounds of {opts.seconds:g} s each after a 2 s warm-up, nginx and ours interleaved",
        f"- tools: {_version(['nginx', '-v'])}; {_version([_which('wrk') or 'wrk', '-v'])}",
        *(f"- {note}" for note in notes),
    ]


def report_engine(deployment: Deployment, opts: Options, population: Population, rows: Rows) -> list[str]:
    """The section of one database: its data, a table against the targets, the notes."""
    status_ratio = rows.status.ratio or 0.0
    s, n, lk, w, i, b = (
        rows.status.ours,
        rows.status.reference,
        rows.lookup.ours,
        rows.issue_wrk.ours,
        rows.issue.ours,
        rows.batch.ours,
    )
    assert n is not None
    sqlite = deployment.database is None
    scope = "" if sqlite else " (target set for SQLite)"
    lines = [
        "",
        f"### {deployment.engine_name}, {len(population.ids):,} credentials",
        "",
        f"- data: {len(population.ids):,} credentials issued in-process through `lifecycle.issue_batch` "
        "(without the self-check, see `populate`) in "
        f"{population.seconds:.0f} s ({len(population.ids) / max(population.seconds, 1e-9):,.0f}/s); "
        f"{population.revoked:,} revoked through `lifecycle.revoke` in {population.revoke_seconds:.0f} s "
        f"to bring the status list to {rows.status.name.split('(')[1].rstrip(')')} (both databases were "
        "populated at the same time, one process each)",
        "",
        "| measured | requests/s | p50 ms | p99 ms | reference | target | |",
        "|---|---:|---:|---:|---|---|---|",
        f"| {rows.status.name} | {s.rps:,.0f} | {s.p50_ms:.2f} | {s.p99_ms:.2f} "
        f"| nginx {n.rps:,.0f}/s (p99 {n.p99_ms:.2f} ms): **{status_ratio:.2f}x** "
        f"[{min(rows.ratios):.2f}-{max(rows.ratios):.2f}] "
        f"| ≥ {STATUS_RATIO_TARGET}x nginx, p99 < {STATUS_P99_MS:g} ms "
        f"| {_met(status_ratio >= STATUS_RATIO_TARGET and s.p99_ms < STATUS_P99_MS)} |",
        f"| {rows.lookup.name} | {lk.rps:,.0f} | {lk.p50_ms:.2f} | {lk.p99_ms:.2f} | — "
        f"| ≥ {LOOKUP_RPS_TARGET:,.0f}/s, p99 < {LOOKUP_P99_MS:g} ms{scope} "
        f"| {_met(lk.rps >= LOOKUP_RPS_TARGET and lk.p99_ms < LOOKUP_P99_MS)} |",
    ]
    if isinstance(rows.page, Row):
        p = rows.page.ours
        lines.append(f"| {rows.page.name} | {p.rps:,.0f} | {p.p50_ms:.2f} | {p.p99_ms:.2f} | — | — | |")
    else:
        reason = rows.page.replace("|", "/")
        lines.append(f"| GET {PAGE_PATH} (Accept: text/html) | not measured: {reason} | | | | | |")
    lines += [
        f"| {rows.issue_wrk.name} | {w.rps:,.0f} credentials/s | {w.p50_ms:.2f} | {w.p99_ms:.2f} | — "
        f"| ≥ {ISSUE_TARGET:,.0f}/s{scope} | {_met(w.rps >= ISSUE_TARGET)} |",
        f"| {rows.issue.name} | {i.rps:,.0f} credentials/s | {i.p50_ms:.2f} | {i.p99_ms:.2f} | — "
        f"| ≥ {ISSUE_TARGET:,.0f}/s{scope} | {_met(i.rps >= ISSUE_TARGET)} |",
        f"| {rows.batch.name} | {b.rps:,.0f} credentials/s | {b.p50_ms:.0f} (per batch) "
        f"| {b.p99_ms:.0f} (slowest batch) | — | ≥ {BATCH_TARGET:,.0f}/s{scope} | {_met(b.rps >= BATCH_TARGET)} |",
    ]
    cost = rows.self_check
    if cost is not None:
        lines += [
            "",
            f"In-process `lifecycle.issue_batch` (no HTTP), batches of 1,000: {cost.checked:,.0f} credentials/s "
            f"with the issuer's self-check (every signature verified with the published key, on other "
            f"threads while the batch is stored, and every credential validated against the profile), "
            f"{cost.unchecked:,.0f}/s without it: {_self_check_cost(cost)}.",
        ]
    measured = [
        rows.status,
        rows.lookup,
        rows.issue_wrk,
        *([rows.page] if isinstance(rows.page, Row) else []),
    ]
    failed = sum(row.ours.errors for row in measured) + n.errors
    if failed:
        lines.append(
            f"\n**{failed} requests failed** (non-2xx or socket errors): the numbers above are suspect."
        )
    return lines


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.bench_registry", description=__doc__)
    parser.add_argument(
        "--quick", action="store_true", help="a short smoke run (2,000 credentials, 3 s loads)"
    )
    parser.add_argument("--credentials", type=int, help="credentials in the SQLite database (100,000)")
    parser.add_argument(
        "--postgres-credentials", type=int, help="credentials in the PostgreSQL database (20,000)"
    )
    parser.add_argument(
        "--postgres-url",
        help="a PostgreSQL server whose role may CREATE DATABASE (default: $AIGOV_BENCH_POSTGRES_URL, "
        "else $AIGOV_TEST_DATABASE_URL, else the test server of .ci/run); --postgres-credentials 0 skips it",
    )
    parser.add_argument(
        "--workers", type=int, help="passed to `aigov serve --workers` (its default if unset)"
    )
    parser.add_argument("--serve-arg", action="append", default=[], help="extra `aigov serve` argument")
    parser.add_argument("--connections", type=int, help="wrk connections (32)")
    parser.add_argument("--wrk-threads", type=int, help="wrk threads (1)")
    parser.add_argument("--seconds", type=float, help="seconds per wrk round (4)")
    parser.add_argument(
        "--workdir", type=Path, help="keep the populated registry here and reuse it next time"
    )
    args = parser.parse_args(argv)
    opts = Options()
    if args.quick:
        opts = Options(
            credentials=2000,
            postgres_credentials=1000,
            status_bytes=3000,
            postgres_status_bytes=3000,
            rounds=1,
            seconds=3,
            issue_count=300,
            issue_seconds=3,
            batches=2,
            batch_seconds=10,
        )
    knobs = ("credentials", "postgres_credentials", "postgres_url", "workers", "connections", "wrk_threads")
    for name in (*knobs, "seconds", "workdir"):
        if getattr(args, name) is not None:
            setattr(opts, name, getattr(args, name))
    opts.serve_args = args.serve_arg
    print("\n".join(run(opts)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
