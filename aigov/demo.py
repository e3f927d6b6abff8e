"""`make demo` (`python -m aigov.demo`): a registry on 127.0.0.1 with twenty EXAMPLE certificates, in ./var/demo/.

A newcomer's first look at aigov. It sets the registry up with the real commands (`aigov db upgrade`,
`aigov admin init`, `admin create-issuer`, `admin create-token`), issues the certificates, suspends and revokes
some through the HTTP API with the certification body's token (as a certification body would), downloads
what an offline verifier needs, prints what to open and try, and then runs `aigov serve` in the foreground
(Ctrl-C stops it). `--no-serve` (or AIGOV_DEMO_NO_SERVE=1) stops after the set-up, for tests.

Running it again is safe: the database, keys and token in var/demo/ are reused and nothing is issued twice
(the certificate numbers already in the database are skipped; an unfinished suspension or revocation is
completed). `rm -rf var/demo` starts afresh.

Everything here is an EXAMPLE: the companies are made up, the scheme is labelled as an example, and the demo
passphrase is published in this file and protects nothing.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import shlex
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from aigov.cli import EXIT_OK, main
from verifier import corporate_number_check_digit

if TYPE_CHECKING:
    from sqlmodel import Session

DEMO_DIR = Path("var/demo")
DATABASE = DEMO_DIR / "registry.db"
KEYSTORE = DEMO_DIR / "keys"
TOKEN_FILE = DEMO_DIR / "token"
STATE_FILE = DEMO_DIR / "demo.json"
SERVER_LOG = DEMO_DIR / "server.log"
ISSUER_DID_FILE = DEMO_DIR / "issuer-did.json"

HOST = "127.0.0.1"
DEFAULT_PORT = 8000
ISSUER_SLUG = "demo-cb"
ISSUER_NAME_EN = "Demo Certification Body (EXAMPLE)"
ISSUER_NAME_JA = "【例示】デモ認証機関"
SCOPES = "credentials:issue,credentials:suspend,credentials:revoke,credentials:renew"
# Used only when AIGOV_KEY_PASSPHRASE is unset, and said so loudly: never a default for real keys.
DEMO_PASSPHRASE = "aigov-DEMO-ONLY-passphrase-not-a-secret"  # noqa: S105 - published on purpose
READY_TIMEOUT_S = 30.0

ROLES = {"D": "ai_developer", "P": "ai_provider", "U": "ai_business_user"}


class DemoError(Exception):
    """A step failed: the message says which and why."""


@dataclass(frozen=True, slots=True)
class Step:
    """A lifecycle change after issuance: `suspend`, `reinstate` or `revoke` (the API path), and why."""

    action: str
    reason: str
    reason_code: str | None = None


@dataclass(frozen=True, slots=True)
class Company:
    """A made-up certified company and what its certification body decided about it."""

    domain: str
    name_en: str
    name_ja: str
    level: str
    roles: str  # letters of ROLES
    scope: str
    steps: tuple[Step, ...] = ()

    @property
    def status(self) -> str:
        """Its status once the demo has applied its steps."""
        final = {"suspend": "suspended", "revoke": "revoked", "reinstate": "active"}
        return final[self.steps[-1].action] if self.steps else "active"


def _suspend(code: str, reason: str) -> Step:
    return Step("suspend", reason, code)


def _revoke(code: str, reason: str) -> Step:
    return Step("revoke", reason, code)


# Made up, all of them; each is issued as certificate DEMO-AIGC-<position>, so reruns find them again.
COMPANIES = (
    Company("sakura-robotics.example", "Sakura Robotics K.K.", "さくらロボティクス株式会社", "3", "DP",
            "Vision models and motion planning of the autonomous picking robots sold to logistics warehouses"),
    Company("hikari-fg.example", "Hikari Financial Group, Inc.", "ひかりフィナンシャルグループ株式会社", "2", "PU",
            "Credit-scoring models and the generative AI assistant of the Retail Banking division"),
    Company("midori-health.example", "Midori Health Systems Co., Ltd.", "みどりヘルスシステムズ株式会社", "3", "DP",
            "Diagnostic imaging support software for chest X-rays, developed and provided to hospitals"),
    Company("kaze-mobility.example", "Kaze Mobility Corporation", "風モビリティ株式会社", "2", "D",
            "Driver-monitoring and lane-keeping models for commercial trucks",
            (_suspend("surveillance_not_performed",
                      "The annual surveillance audit was not performed by its due date."),)),
    Company("tsubasa-insurance.example", "Tsubasa Property Insurance Co., Ltd.", "つばさ損害保険株式会社", "1", "U",
            "AI-assisted claims triage in the Motor Claims department"),
    Company("aozora-retail.example", "Aozora Retail Holdings, Inc.", "青空リテールホールディングス株式会社", "1", "U",
            "Demand forecasting and automated ordering for 420 supermarkets"),
    Company("yamabuki-mfg.example", "Yamabuki Manufacturing Co., Ltd.", "山吹製作所株式会社", "2", "DU",
            "Predictive maintenance models for the press lines of the Nagoya and Kitakyushu plants"),
    Company("hoshizora-telecom.example", "Hoshizora Telecom Corporation", "星空テレコム株式会社", "2", "PU",
            "Generative AI customer-support chatbot and call summarisation in consumer services",
            (_suspend("nonconformity",
                      "Major nonconformity at surveillance: chatbot answers on billing disputes get no human "
                      "review. Corrective action due within 90 days."),)),
    Company("kawasemi-legal.example", "Kawasemi LegalTech Inc.", "かわせみリーガルテック株式会社", "2", "DP",
            "Contract-review large language model service for corporate legal departments"),
    Company("momiji-hr.example", "Momiji Human Resources Co., Ltd.", "もみじ人材サービス株式会社", "1", "U",
            "Résumé screening support in graduate recruitment",
            (_suspend("nonconformity",
                      "Major nonconformity: no bias assessment of the résumé screening model."),
             _revoke("nonconformity",
                     "The corrective actions for the bias assessment were not completed within 90 days."))),
    Company("suisei-energy.example", "Suisei Energy Co., Ltd.", "彗星エナジー株式会社", "2", "DU",
            "Grid load and solar output forecasting for the Kansai service area"),
    Company("shirakaba-pharma.example", "Shirakaba Pharmaceutical Co., Ltd.", "白樺製薬株式会社", "3", "D",
            "Machine-learning models for compound screening in drug discovery research"),
    Company("umineko-logistics.example", "Umineko Logistics K.K.", "うみねこ物流株式会社", "1", "U",
            "Delivery route optimisation for the Tohoku region",
            (_suspend("surveillance_not_performed", "The surveillance audit was postponed past its due date."),
             Step("reinstate", "Surveillance audit completed with no major nonconformity."))),
    Company("tsukimi-media.example", "Tsukimi Media Inc.", "月見メディア株式会社", "2", "PU",
            "Generative AI image tools and content moderation on the Tsukimi video platform",
            (_revoke("misuse_of_mark",
                     "The certification mark was shown on services outside the certified scope after two "
                     "written warnings."),)),
    Company("hinode-bank.example", "Hinode Bank, Ltd.", "日の出銀行株式会社", "3", "DPU",
            "Anti-money-laundering transaction monitoring models, developed in house and used in all branches"),
    Company("kumo-datalabs.example", "Kumo Data Labs Inc.", "雲データラボ株式会社", "3", "DP",
            "Japanese-language foundation model and its API service"),
    Company("ichigo-edu.example", "Ichigo Education Co., Ltd.", "いちご教育株式会社", "1", "PU",
            "Adaptive learning recommendations of the Ichigo online cram school",
            (_suspend("company_request",
                      "Suspended at the company's request while the certified service moves to a new "
                      "subsidiary."),)),
    Company("nagisa-travel.example", "Nagisa Travel Corporation", "なぎさトラベル株式会社", "1", "U",
            "Dynamic pricing of package tours"),
    Company("koharu-foods.example", "Koharu Foods Co., Ltd.", "こはる食品株式会社", "2", "DU",
            "Camera-based quality inspection on the bento production lines"),
    Company("ajisai-gas.example", "Ajisai Gas Co., Ltd.", "あじさい瓦斯株式会社", "1", "U",
            "AI-assisted triage of gas leak reports at the customer call centre"),
)  # fmt: skip


def certificate_number(position: int) -> str:
    return f"DEMO-AIGC-{position:04d}"


def corporate_number(position: int) -> str:
    """A made-up 13-digit corporate number with a valid check digit (registry office code 9999, serial)."""
    base = f"999901{position * 7919:06d}"
    return f"{corporate_number_check_digit(base)}{base}"


def decision(company: Company, position: int, scheme: str, today: datetime) -> dict[str, Any]:
    """The certification decision a certification body posts to the registry after the audit."""
    assessed = today.date() - timedelta(days=14 + position * 37 % 300)
    return {
        "subject": {
            "id": f"did:web:{company.domain}",
            "legalName": {"en": company.name_en, "ja": company.name_ja},
            "corporateNumber": corporate_number(position),
            "website": f"https://{company.domain}",
        },
        "scheme": scheme,
        "level": company.level,
        "scope": company.scope,
        "aiRoles": [ROLES[letter] for letter in company.roles],
        "certificateNumber": certificate_number(position),
        "assessedOn": assessed.isoformat(),
    }


# -- environment, ports, files --------------------------------------------------------------------------------


def demo_environment(public_url: str) -> dict[str, str]:
    """The AIGOV_* settings of the demo registry (its passphrase: AIGOV_KEY_PASSPHRASE if set, else DEMO)."""
    return {
        "AIGOV_ENVIRONMENT": "development",  # production refuses http URLs and development passphrases
        "AIGOV_DATABASE_URL": f"sqlite:///{DATABASE.as_posix()}",
        "AIGOV_PUBLIC_URL": public_url,
        "AIGOV_KEYSTORE_PATH": str(KEYSTORE),
        "AIGOV_KEY_PASSPHRASE": os.environ.get("AIGOV_KEY_PASSPHRASE") or DEMO_PASSPHRASE,
    }


def passphrase_note() -> str:
    if os.environ.get("AIGOV_KEY_PASSPHRASE"):
        return "keystore passphrase: from AIGOV_KEY_PASSPHRASE"
    return (
        f"keystore passphrase: the DEMO passphrase {DEMO_PASSPHRASE!r} (AIGOV_KEY_PASSPHRASE is not set;\n"
        "  it is published in aigov/demo.py and protects nothing: never use it for real keys)"
    )


def port_is_free(port: int) -> bool:
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn binds
        try:
            probe.bind((HOST, port))
        except OSError:
            return False
    return True


def free_port(preferred: int, *, exact: bool) -> int:
    """`preferred` if it is free, else (unless `exact`) the next free port above it."""
    for port in range(preferred, min(preferred + 1 if exact else preferred + 50, 65536)):
        if port_is_free(port):
            return port
    raise DemoError(
        f"port {preferred} is in use (another demo still running?)"
        if exact
        else f"no free port in {preferred}-{preferred + 49}; choose one with --port"
    )


def any_free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        port: int = probe.getsockname()[1]
    return port


def public_url(requested_port: int | None) -> str:
    """The registry's public URL, chosen on the first run and kept: credential ids and DIDs are built on it."""
    if STATE_FILE.exists():
        try:
            url: str = json.loads(STATE_FILE.read_text(encoding="utf-8"))["publicUrl"]
        except (ValueError, KeyError, TypeError) as e:
            raise DemoError(f"{STATE_FILE} is damaged ({e})") from e
        return url
    port = free_port(requested_port or DEFAULT_PORT, exact=requested_port is not None)
    url = f"http://{HOST}:{port}"
    STATE_FILE.write_text(json.dumps({"publicUrl": url}) + "\n", encoding="utf-8")
    return url


def write_secret(path: Path, text: str) -> None:
    """Write a file only its owner can read (0600, also when it existed before)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as f:
        f.write(text + "\n")
    path.chmod(0o600)


def command_prefix() -> str:
    """How to call `aigov` from this shell: on the PATH, from this interpreter's venv, or as a module."""
    if shutil.which("aigov"):
        return "aigov"
    script = Path(sys.executable).with_name("aigov")
    if script.exists():
        with contextlib.suppress(ValueError):
            return str(script.absolute().relative_to(Path.cwd()))
        return str(script)
    return f"{shlex.quote(sys.executable)} -m aigov"


# -- the aigov commands, the database, the keys ---------------------------------------------------------------


def aigov(*argv: str) -> str:
    """Run one `aigov` command in-process, quietly; its standard output, or DemoError with its message."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(list(argv))
    if code != EXIT_OK:
        message = err.getvalue().strip() or out.getvalue().strip()
        raise DemoError(f"`aigov {shlex.join(argv)}` exited with {code}: {message}")
    return out.getvalue()


@contextlib.contextmanager
def database() -> Iterator[Session]:
    from sqlmodel import Session

    from registry.db import make_engine

    engine = make_engine(os.environ["AIGOV_DATABASE_URL"], pool_size=1, max_overflow=0)
    try:
        with Session(engine) as session:
            yield session
    finally:
        engine.dispose()


def issuer_did() -> str | None:
    """The demo certification body's DID, or None if it is not registered yet."""
    from sqlmodel import select

    from registry.models import CertificationBody

    with database() as session:
        body = session.exec(select(CertificationBody).where(CertificationBody.slug == ISSUER_SLUG)).first()
        return body.did if body is not None else None


def is_accredited() -> bool:
    """Whether the scheme owner has accredited the demo body (it is then on the trust list)."""
    from sqlmodel import select

    from registry.models import Accreditation, CertificationBody

    with database() as session:
        found = session.exec(
            select(Accreditation.id)
            .join(CertificationBody, CertificationBody.id == Accreditation.issuer_id)  # type: ignore[arg-type]
            .where(CertificationBody.slug == ISSUER_SLUG)
        ).first()
        return found is not None


def token_is_live(secret: str) -> bool:
    from registry.tokens import authenticate

    with database() as session:
        found = authenticate(session=session, presented=secret, now=datetime.now(UTC))
        return found is not None and found[2].slug == ISSUER_SLUG


def issued_certificates() -> dict[str, str]:
    """Certificate number -> credential id, for what the demo body has issued already."""
    from sqlmodel import select

    from registry.models import CertificationBody, Credential

    with database() as session:
        rows = session.exec(
            select(Credential.certificate_number, Credential.id)
            .join(CertificationBody, CertificationBody.id == Credential.issuer_id)  # type: ignore[arg-type]
            .where(CertificationBody.slug == ISSUER_SLUG)
        ).all()
    return {number: str(credential_id) for number, credential_id in rows}


def check_keys(*names: str) -> None:
    """Fail now, with the keystore's words, if a key does not open (a different AIGOV_KEY_PASSPHRASE)."""
    from keys import KeysError, Keystore

    passphrase = os.environ["AIGOV_KEY_PASSPHRASE"].encode("utf-8")
    for name in names:
        try:
            Keystore(KEYSTORE / name, passphrase=passphrase).signing_key()
        except KeysError as e:
            raise DemoError(str(e)) from e


# -- the registry over HTTP -----------------------------------------------------------------------------------

# Straight to loopback: an http_proxy in the environment must not see the demo's token.
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def http(
    method: str,
    url: str,
    *,
    token: str | None = None,
    payload: Any = None,
    headers: dict[str, str] | None = None,
) -> bytes:
    """One request to the demo registry; the body of a 2xx answer, or DemoError with the problem's words."""
    data = None if payload is None else json.dumps(payload, ensure_ascii=False).encode("utf-8")
    request = urllib.request.Request(url, data=data, method=method, headers=headers or {})  # noqa: S310
    if data is not None:
        request.add_header("Content-Type", "application/json")
    if token is not None:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with _OPENER.open(request, timeout=30) as response:
            body: bytes = response.read()
            return body
    except urllib.error.HTTPError as e:
        try:
            problem = json.loads(e.read())
            detail = f"{problem.get('title')}: {problem.get('detail')}"
        except ValueError:
            detail = str(e.reason)
        raise DemoError(f"{method} {urlsplit(url).path}: {e.code} {detail}") from e
    except (urllib.error.URLError, OSError) as e:
        raise DemoError(f"{method} {url}: {e}") from e


@contextlib.contextmanager
def registry_server(port: int) -> Iterator[str]:
    """`aigov serve` in a child process, quiet (its log in var/demo/server.log), until the block ends."""
    with SERVER_LOG.open("wb") as log:
        process = subprocess.Popen(  # noqa: S603 - this interpreter running our own CLI
            [sys.executable, "-m", "aigov", "serve", "--port", str(port), "--no-access-log"],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    base = f"http://{HOST}:{port}"
    try:
        deadline = time.monotonic() + READY_TIMEOUT_S
        while True:
            if process.poll() is not None:
                tail = SERVER_LOG.read_text(encoding="utf-8", errors="replace").strip().splitlines()[-3:]
                raise DemoError("the registry did not start: " + " / ".join(tail))
            try:
                http("GET", f"{base}/healthz")
                break
            except DemoError:
                if time.monotonic() > deadline:
                    raise DemoError(f"the registry did not answer within {READY_TIMEOUT_S:.0f} s") from None
                time.sleep(0.05)
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def issue_all(base: str, token: str, scheme: str, issued: dict[str, str]) -> int:
    """POST a decision for every company not issued yet (retry-safe: an Idempotency-Key per certificate)."""
    today = datetime.now(UTC)
    count = 0
    for position, company in enumerate(COMPANIES, 1):
        number = certificate_number(position)
        if number in issued:
            continue
        record = json.loads(
            http(
                "POST",
                f"{base}/api/v1/credentials",
                token=token,
                payload=decision(company, position, scheme, today),
                headers={"Idempotency-Key": f"demo-{number}"},
            )
        )
        issued[number] = record["id"]
        count += 1
    return count


def apply_steps(base: str, token: str, issued: dict[str, str]) -> int:
    """Suspend, reinstate and revoke as planned, continuing from the history the registry already has."""
    count = 0
    for position, company in enumerate(COMPANIES, 1):
        if not company.steps:
            continue
        url = f"{base}/api/v1/credentials/{issued[certificate_number(position)]}"
        done = len(json.loads(http("GET", url))["history"]) - 1  # the first event is its issuance
        for step in company.steps[done:]:
            payload = {"reason": step.reason}
            if step.reason_code is not None:
                payload["reasonCode"] = step.reason_code
            http("POST", f"{url}/{step.action}", token=token, payload=payload)
            count += 1
    return count


def featured() -> dict[str, tuple[int, Company]]:
    """The first valid, suspended and revoked company: the ones the demo points at."""
    chosen: dict[str, tuple[int, Company]] = {}
    for position, company in enumerate(COMPANIES, 1):
        if company.status not in chosen and (company.status != "active" or not company.steps):
            chosen[company.status] = (position, company)
    return {"valid": chosen["active"], "suspended": chosen["suspended"], "revoked": chosen["revoked"]}


def download(base: str, issued: dict[str, str]) -> dict[str, tuple[Path, str]]:
    """What an offline verifier needs, fresh from the registry: three credentials, the issuer's DID document
    and the two status lists they point to. Returns each list's file and URL path, by purpose."""
    for name, (position, _) in featured().items():
        credential_id = issued[certificate_number(position)]
        token = http("GET", f"{base}/api/v1/credentials/{credential_id}/credential.jwt")
        (DEMO_DIR / f"{name}.jwt").write_bytes(token + b"\n")
    ISSUER_DID_FILE.write_bytes(http("GET", f"{base}/issuers/{ISSUER_SLUG}/did.json"))
    position = featured()["valid"][0]
    record = json.loads(http("GET", f"{base}/api/v1/credentials/{issued[certificate_number(position)]}"))
    lists = {}
    for entry in record["credentialStatus"]:
        path, url_path = (
            DEMO_DIR / f"{entry['statusPurpose']}-list.jwt",
            urlsplit(entry["statusListCredential"]).path,
        )
        path.write_bytes(http("GET", base + url_path) + b"\n")
        lists[entry["statusPurpose"]] = (path, url_path)
    # The offline bundle (trust list, DID documents, status lists) and the scheme owner's key to pin it with.
    (DEMO_DIR / "bundle.jwt").write_bytes(http("GET", f"{base}/api/v1/bundle"))
    (DEMO_DIR / "registry-did.json").write_bytes(http("GET", f"{base}/.well-known/did.json"))
    return lists


# -- the demo -------------------------------------------------------------------------------------------------


def set_up(url: str) -> tuple[str, str]:
    """Database, registry key and scheme, certification body and token; returns (token, scheme id)."""
    from issuer import load_scheme
    from registry.identity import REGISTRY_KEYSTORE
    from registry.identity import issuer_did as expected_did

    aigov("db", "upgrade")
    aigov("admin", "init")
    did = issuer_did()
    if did is None:
        did = aigov(
            "admin",
            "create-issuer",
            "--slug",
            ISSUER_SLUG,
            "--name-en",
            ISSUER_NAME_EN,
            "--name-ja",
            ISSUER_NAME_JA,
        ).strip()
    elif did != expected_did(url, ISSUER_SLUG):
        raise DemoError(f"{DEMO_DIR} was set up for another address ({did})")
    check_keys(REGISTRY_KEYSTORE, ISSUER_SLUG)
    if not is_accredited():  # the scheme owner vouches for the body: it appears on the signed trust list
        aigov("admin", "accredit", "--issuer", ISSUER_SLUG, "--reason", "EXAMPLE accreditation for the demo")
    token = TOKEN_FILE.read_text(encoding="ascii").strip() if TOKEN_FILE.exists() else ""
    if not token or not token_is_live(token):
        token = aigov(
            "admin", "create-token", "--issuer", ISSUER_SLUG, "--scopes", SCOPES, "--description", "make demo"
        ).strip()
        write_secret(TOKEN_FILE, token)
    print(f"✔ registry set up: SQLite {DATABASE}, keys in {KEYSTORE}/, EXAMPLE scheme")
    print(f"✔ certification body {ISSUER_SLUG} ({did}), its API token in {TOKEN_FILE}")
    print(f"✔ {ISSUER_SLUG} accredited by the scheme owner: on the signed trust list at {url}/trust-list")
    return token, load_scheme(None).id


def run_demo(*, serve: bool, port: int | None) -> int:
    started = time.monotonic()
    DEMO_DIR.mkdir(parents=True, exist_ok=True)
    url = public_url(port)
    # Credential ids, status list URLs and DIDs name the URL chosen on the first run: serving the registry on
    # another port would make every online check of its own certificates fail, so that is refused.
    listen = urlsplit(url).port or DEFAULT_PORT
    if port is not None and port != listen:
        raise DemoError(
            f"this demo's certificates name {url}, chosen on its first run: serve it with --port {listen}, "
            f"or rm -rf {DEMO_DIR} to start afresh on port {port}"
        )
    print(f"aigov demo: an EXAMPLE registry for {url}, everything in {DEMO_DIR}/")
    print(passphrase_note())
    os.environ.update(demo_environment(url))

    token, scheme = set_up(url)
    issued = issued_certificates()
    with registry_server(any_free_port()) as base:
        new = issue_all(base, token, scheme, issued)
        changes = apply_steps(base, token, issued)
        lists = download(base, issued)
    statuses = [company.status for company in COMPANIES]
    counts = ", ".join(f"{statuses.count(s)} {s}" for s in ("active", "suspended", "revoked"))
    how = "issued through POST /api/v1/credentials" if new else "already issued"
    print(
        f"✔ {len(COMPANIES)} certificates {how} ({counts})"
        + (f", {changes} status changes" if changes else "")
    )
    print(
        f"✔ for offline checks: valid/suspended/revoked.jwt, {ISSUER_DID_FILE.name}, status lists, in {DEMO_DIR}/"
    )

    if serve:
        free_port(listen, exact=True)  # in use: say so now, before printing where to go
    print_next_steps(url, issued, lists)
    print(f"\nReady in {time.monotonic() - started:.1f} s.", end=" ")
    if serve:
        print(f"Serving http://{HOST}:{listen} — Ctrl-C to stop.\n", flush=True)
        # The demo becomes `aigov serve` (what a person would run): its log on the terminal, Ctrl-C stops it.
        argv = [sys.executable, "-m", "aigov", "serve", "--host", HOST, "--port", str(listen)]
        os.execv(sys.executable, argv)  # noqa: S606 - this interpreter running our own CLI
    print("The registry is stopped (--no-serve): `make demo` sets up the same and serves it.")
    return EXIT_OK


def print_next_steps(base: str, issued: dict[str, str], lists: dict[str, tuple[Path, str]]) -> None:
    show = featured()
    ids = {name: issued[certificate_number(p)] for name, (p, _) in show.items()}
    rows = [
        ("home and search", f"{base}/"),
        *(
            (name, f"{base}/credentials/{ids[name]}  {company.name_en}")
            for name, (_, company) in show.items()
        ),
        ("live badge", f"{base}/credentials/{ids['revoked']}/badge.svg"),
        ("verification page", f"{base}/verify"),
        ("API docs", f"{base}/docs"),
        *((f"{purpose} list", base + lists[purpose][1]) for purpose in ("revocation", "suspension")),
        ("registry DID", f"{base}/.well-known/did.json"),
        ("trust list", f"{base}/trust-list"),
        ("offline bundle", f"{base}/api/v1/bundle"),
        ("issuer DID", f"{base}/issuers/{ISSUER_SLUG}/did.json"),
    ]
    print("\nOpen:")
    for label, link in rows:
        print(f"  {label:<18} {link}")
    verify = ["verify", str(DEMO_DIR / "valid.jwt"), "--trust", str(ISSUER_DID_FILE)]
    for purpose in ("revocation", "suspension"):
        verify += ["--status-list", str(lists[purpose][0])]
    aigov, valid = command_prefix(), str(DEMO_DIR / "valid.jwt")
    owner = ["--scheme-owner", str(DEMO_DIR / "registry-did.json")]
    print("\nTry:")
    print(f"  curl -s {base}/api/v1/credentials/{ids['revoked']}")
    print(f"  {aigov} {shlex.join(verify)}")
    print("  # offline: VALID, exit 0; with revoked.jwt or suspended.jwt: INVALID, exit 1")
    bundle = ["verify", valid, "--bundle", str(DEMO_DIR / "bundle.jwt"), *owner]
    print(f"  # through the trust list, no network: {aigov} {shlex.join(bundle)}")
    online = ["verify", valid, "--online", "--registry", base, *owner, "--allow-insecure-loopback"]
    print(f"  # online, against this registry: {aigov} {shlex.join(online)}")
    badge = [
        "badge",
        valid,
        "-o",
        str(DEMO_DIR / "badge.svg"),
        "--page-url",
        f"{base}/credentials/{ids['valid']}",
    ]
    print(f"  # a badge to embed (verify it like a token): {aigov} {shlex.join(badge)}")


def main_entry(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m aigov.demo", description=__doc__.splitlines()[0])
    parser.add_argument(
        "--no-serve",
        action="store_true",
        default=os.environ.get("AIGOV_DEMO_NO_SERVE") == "1",
        help="set up and seed, then leave the registry stopped (env AIGOV_DEMO_NO_SERVE=1)",
    )
    parser.add_argument(
        "--port", type=int, help=f"serve on this port (default {DEFAULT_PORT} or the next free)"
    )
    args = parser.parse_args(argv)
    try:
        return run_demo(serve=not args.no_serve, port=args.port)
    except (DemoError, OSError) as e:
        print(f"\ndemo failed: {e}", file=sys.stderr)
        print(f"(to start over from scratch: rm -rf {DEMO_DIR} && make demo)", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("\ndemo interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main_entry())
