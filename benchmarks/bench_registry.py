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
import contextlib
import json
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
from dataclasses import dataclass, field
from datetime import timedelta
from importlib import resources
from pathlib import Path
from typing import Any

import httpx
from sqlmodel import Session, select

from issuer import CertificationDecision, Issuer, utc_now
from registry import lifecycle
from registry.bodies import body_by_slug
from registry.config import Settings
from registry.db import make_engine
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
# Certificate numbers are unique per certification body: each run issues under its own prefix.
RUN = f"{os.getpid() % 10_000:04d}{int(time.time()) % 100_000:05d}"


@dataclass
class Options:
    credentials: int = 100_000
    status_bytes: int = STATUS_LIST_BYTES
    rounds: int = 3
    seconds: float = 8.0
    connections: int = 32
    wrk_threads: int = 1
    issue_count: int = 3000
    issue_seconds: float = 15.0
    batch_size: int = 1000
    batches: int = 10
    batch_seconds: float = 40.0
    workers: int | None = None
    serve_args: list[str] = field(default_factory=list)
    workdir: Path | None = None


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
    percentiles = dict(re.findall(r"^\s+(\d+)%\s+(\S+)$", output, re.MULTILINE))
    rps = float(re.search(r"^Requests/sec:\s+([\d.]+)", output, re.MULTILINE)[1])  # type: ignore[index]
    requests = int(re.search(r"(\d+) requests in", output)[1])  # type: ignore[index]
    errors = 0
    if found := re.search(r"Non-2xx or 3xx responses: (\d+)", output):
        errors += int(found[1])
    if found := re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output):
        errors += sum(int(n) for n in found.groups())
    return Load(rps, _ms(percentiles["50"]), _ms(percentiles["99"]), requests, errors)


def wrk(url: str, opts: Options, *, script: Path | None = None, seconds: float | None = None) -> Load:
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
    return parse_wrk(done.stdout)


# -- the registry and nginx ---------------------------------------------------------------------------------------


@dataclass
class Deployment:
    """A registry directory: database, keystores, settings as AIGOV_* variables."""

    root: Path
    port: int

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def database_url(self) -> str:
        return f"sqlite:///{self.root / 'aigov.db'}"

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
    signed credential reaches `opts.status_bytes`."""
    settings = deployment.settings()
    engine = make_engine(settings.database_url, pool_size=1, max_overflow=0)
    ctx = lifecycle.Context(
        policy=ListPolicy(
            public_url=settings.public_url,
            size=settings.status_list_size,
            ttl=timedelta(seconds=settings.status_ttl_seconds),
        ),
        signers=Signers(
            keystore_path=settings.keystore_path,
            passphrase=settings.passphrase(),
            public_url=settings.public_url,
            clock=utc_now,
        ),
        clock=utc_now,
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
                    f"  populated {start + len(issued):,} in {time.perf_counter() - started:.0f} s",
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
            for credential_id in candidates[:500]:
                lifecycle.revoke(
                    session=session,
                    ctx=ctx,
                    body=body,
                    credential_id=uuid.UUID(credential_id),
                    actor="benchmark",
                    reason_code=ReasonCode.OTHER,
                )
            del candidates[:500]
            revoked += 500
    engine.dispose()
    return Population(ids, list_id, seconds, revoked, time.perf_counter() - started)


def _unchecked(spec: SignerSpec) -> Issuer:
    """An issuer without its self-check: for measuring what the self-check costs, never for serving."""
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


def measure_self_check(deployment: Deployment, rounds: int = 3, size: int = 500) -> SelfCheckCost:
    """In-process batch issuance with and without the issuer's self-check, interleaved round by round."""
    settings = deployment.settings()
    engine = make_engine(settings.database_url, pool_size=1, max_overflow=0)
    policy = ListPolicy(
        public_url=settings.public_url,
        size=settings.status_list_size,
        ttl=timedelta(seconds=settings.status_ttl_seconds),
    )
    contexts = {
        factory: lifecycle.Context(
            policy=policy,
            signers=Signers(
                keystore_path=settings.keystore_path,
                passphrase=settings.passphrase(),
                public_url=settings.public_url,
                clock=utc_now,
                factory=factory,
            ),
            clock=utc_now,
        )
        for factory in (build_issuer, _unchecked)
    }
    rates: dict[object, list[float]] = {factory: [] for factory in contexts}
    with Session(engine, expire_on_commit=False) as session:
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
        wrk(deployment.url + path, opts, seconds=2)  # warm-up
        wrk(nginx_url, opts, seconds=2)
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
    wrk(deployment.url + "/", opts, script=script, seconds=2)  # warm-up
    loads = [wrk(deployment.url + "/", opts, script=script) for _ in range(opts.rounds)]
    return Row(f"GET /api/v1/credentials/{{id}} ({len(ids):,} credentials, random ids)", _median_load(loads))


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
    wrk(deployment.url + "/", one, script=script, seconds=2)  # warm-up: the signer, caches
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


def _deployment(opts: Options) -> tuple[Deployment, bool]:
    if opts.workdir is not None:
        opts.workdir.mkdir(parents=True, exist_ok=True)
        return Deployment(opts.workdir.resolve(), free_port()), (opts.workdir / "populated.json").exists()
    return Deployment(Path(tempfile.mkdtemp(prefix="aigov-bench-")), free_port()), False


def run(opts: Options | None = None) -> list[str]:
    """Run the registry benchmarks; the markdown lines of their report."""
    opts = opts or Options()
    notes = ensure_tools()
    deployment, reuse = _deployment(opts)
    try:
        if reuse:
            saved = json.loads((deployment.root / "populated.json").read_text())
            # The public URL is baked into the credentials: serve on the port they were issued for.
            deployment.port = saved.pop("port", deployment.port)
            population = Population(**saved)
        else:
            upgrade(deployment.database_url)
            deployment.aigov("admin", "init")
            deployment.aigov("admin", "create-issuer", "--slug", BODY_SLUG, "--name-en", "Benchmark CB")
            print(f"populating {opts.credentials:,} credentials ...", file=sys.stderr)
            population = populate(deployment, opts)
            if opts.workdir is not None:
                (deployment.root / "populated.json").write_text(
                    json.dumps({**population.__dict__, "port": deployment.port})
                )
        print("issuance in-process, with and without the self-check ...", file=sys.stderr)
        self_check = measure_self_check(deployment)
        token = deployment.aigov("admin", "create-token", "--issuer", BODY_SLUG, "--scopes", SCOPES)
        with registry_server(deployment, opts):
            print("GET /status/{list} against nginx ...", file=sys.stderr)
            status_row, ratios, _ = bench_status(deployment, population.revocation_list, opts)
            print("GET /api/v1/credentials/{id} ...", file=sys.stderr)
            lookup_row = bench_lookup(deployment, population.ids, opts)
            print("issuance, one at a time ...", file=sys.stderr)
            issue_wrk_row = bench_issue_wrk(deployment, token, opts)
            issue_row = bench_issue(deployment, token, opts)
            print("issuance, batches ...", file=sys.stderr)
            batch_row = bench_batch(deployment, token, opts)
    finally:
        if opts.workdir is None:
            shutil.rmtree(deployment.root, ignore_errors=True)
    return report(
        opts,
        notes,
        population,
        Rows(status_row, ratios, lookup_row, issue_wrk_row, issue_row, batch_row, self_check),
    )


def _met(ok: bool) -> str:
    return "met" if ok else "**not met**"


@dataclass(frozen=True)
class Rows:
    status: Row
    ratios: list[float]
    lookup: Row
    issue_wrk: Row
    issue: Row
    batch: Row
    self_check: SelfCheckCost


def report(opts: Options, notes: list[str], population: Population, rows: Rows) -> list[str]:
    status_row, ratios, lookup_row, issue_row, batch_row = (
        rows.status,
        rows.ratios,
        rows.lookup,
        rows.issue,
        rows.batch,
    )
    status_ratio = status_row.ratio or 0.0
    s, n, lk, w, i, b = (
        status_row.ours,
        status_row.reference,
        lookup_row.ours,
        rows.issue_wrk.ours,
        issue_row.ours,
        batch_row.ours,
    )
    assert n is not None
    lines = [
        f"- server: `aigov serve {' '.join(opts.serve_args)}`"
        + (f" `--workers {opts.workers}`" if opts.workers else " (default workers)")
        + f"; wrk: {opts.wrk_threads} thread(s), {opts.connections} connections, "
        f"{opts.rounds} rounds of {opts.seconds:g} s each, nginx and ours interleaved",
        f"- tools: {_version(['nginx', '-v'])}; {_version([_which('wrk') or 'wrk', '-v'])}"
        + (f"; {'; '.join(notes)}" if notes else ""),
        f"- data: {len(population.ids):,} credentials issued in-process through `lifecycle.issue_batch` in "
        f"{population.seconds:.0f} s ({len(population.ids) / max(population.seconds, 1e-9):,.0f}/s); "
        f"{population.revoked:,} revoked through `lifecycle.revoke` in {population.revoke_seconds:.0f} s "
        f"to bring the status list to {status_row.name.split('(')[1].rstrip(')')}",
        "",
        "| measured | requests/s | p50 ms | p99 ms | reference | target | |",
        "|---|---:|---:|---:|---|---|---|",
        f"| {status_row.name} | {s.rps:,.0f} | {s.p50_ms:.2f} | {s.p99_ms:.2f} "
        f"| nginx {n.rps:,.0f}/s (p99 {n.p99_ms:.2f} ms): **{status_ratio:.2f}x** "
        f"[{min(ratios):.2f}-{max(ratios):.2f}] "
        f"| ≥ {STATUS_RATIO_TARGET}x nginx, p99 < {STATUS_P99_MS:g} ms "
        f"| {_met(status_ratio >= STATUS_RATIO_TARGET and s.p99_ms < STATUS_P99_MS)} |",
        f"| {lookup_row.name} | {lk.rps:,.0f} | {lk.p50_ms:.2f} | {lk.p99_ms:.2f} | — "
        f"| ≥ {LOOKUP_RPS_TARGET:,.0f}/s, p99 < {LOOKUP_P99_MS:g} ms "
        f"| {_met(lk.rps >= LOOKUP_RPS_TARGET and lk.p99_ms < LOOKUP_P99_MS)} |",
        f"| {rows.issue_wrk.name} | {w.rps:,.0f} credentials/s | {w.p50_ms:.2f} | {w.p99_ms:.2f} | — "
        f"| ≥ {ISSUE_TARGET:,.0f}/s | {_met(w.rps >= ISSUE_TARGET)} |",
        f"| {issue_row.name} | {i.rps:,.0f} credentials/s | {i.p50_ms:.2f} | {i.p99_ms:.2f} | — "
        f"| ≥ {ISSUE_TARGET:,.0f}/s | {_met(i.rps >= ISSUE_TARGET)} |",
        f"| {batch_row.name} | {b.rps:,.0f} credentials/s | {b.p50_ms:.0f} (per batch) "
        f"| {b.p99_ms:.0f} (slowest batch) | — | ≥ {BATCH_TARGET:,.0f}/s | {_met(b.rps >= BATCH_TARGET)} |",
    ]
    cost = rows.self_check
    lines += [
        "",
        f"In-process `lifecycle.issue_batch` (no HTTP), batches of 500: {cost.checked:,.0f} credentials/s with "
        f"the issuer's self-check (a full verification of every credential before it is stored), "
        f"{cost.unchecked:,.0f}/s without it: the self-check costs "
        f"{(1 / cost.checked - 1 / cost.unchecked) * 1e6:,.0f} µs per credential.",
    ]
    failed = sum(row.ours.errors for row in (status_row, lookup_row, rows.issue_wrk)) + n.errors
    if failed:
        lines.append(
            f"\n**{failed} requests failed** (non-2xx or socket errors): the numbers above are suspect."
        )
    return lines


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.bench_registry", description=__doc__)
    parser.add_argument(
        "--quick", action="store_true", help="a short smoke run (2,000 credentials, 2 s loads)"
    )
    parser.add_argument("--credentials", type=int, help="credentials in the lookup database (100,000)")
    parser.add_argument(
        "--workers", type=int, help="passed to `aigov serve --workers` (its default if unset)"
    )
    parser.add_argument("--serve-arg", action="append", default=[], help="extra `aigov serve` argument")
    parser.add_argument("--connections", type=int, help="wrk connections (32)")
    parser.add_argument("--wrk-threads", type=int, help="wrk threads (1)")
    parser.add_argument("--seconds", type=float, help="seconds per wrk round (8)")
    parser.add_argument(
        "--workdir", type=Path, help="keep the populated registry here and reuse it next time"
    )
    args = parser.parse_args(argv)
    opts = Options()
    if args.quick:
        opts = Options(
            credentials=2000,
            status_bytes=3000,
            rounds=1,
            seconds=2,
            issue_count=300,
            issue_seconds=3,
            batches=2,
            batch_seconds=10,
        )
    for name in ("credentials", "workers", "connections", "wrk_threads", "seconds", "workdir"):
        if getattr(args, name) is not None:
            setattr(opts, name, getattr(args, name))
    opts.serve_args = args.serve_arg
    print("\n".join(run(opts)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
