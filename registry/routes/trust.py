"""The trust chain, served: the signed trust list, its JSON-LD context, and the offline bundle.

`GET /trust-list` serves the stored signed list. A read re-signs it first (in a write transaction, like any
change) when it is past half its validity or when a listed body's keystore changed (rotation, compromise), so
a verifier never gets a list close to expiry or naming stale keys.

`GET /api/v1/bundle` is one scheme-owner-signed `vc+jwt` holding the trust list, the listed bodies' DID
documents, every status list credential (any past half its validity re-signed first, registry.refresher) and
its time of issue. Each process keeps the last bundle it signed, keyed by the trust list's ETag and every status
list's version: while none moved and the bundle is younger than the status `ttl`, it is served again (304 on a
matching If-None-Match) without reading a token or signing.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from importlib import resources

import sqlalchemy as sa
from fastapi import APIRouter, Request, Response
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlmodel import Session, col

from issuer import build_bundle, sign_credential
from keys import did_web_document
from registry.db import write_transaction
from registry.deps import ContextDep, SessionDep
from registry.errors import SigningUnavailableError
from registry.identity import registry_did
from registry.lifecycle import Context
from registry.models import StatusList, TrustListRecord
from registry.problems import documented
from registry.refresher import Refresher
from registry.routes._responses import CORS, VC_JWT, raw
from registry.routes.status import if_none_match
from registry.signers import keystore_fingerprint
from registry.statuslists import strong_etag
from registry.trustlist import TrustListPolicy, accredited_bodies, publish_trust_list, trust_list_content
from verifier import BUNDLE_PATH, TRUST_CONTEXT_PATH, TRUST_LIST_PATH

router = APIRouter(tags=["trust list"])
logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class SignedBundle:
    key: str
    issued: datetime
    body: bytes
    etag: str


class TrustCache:
    """Per process: the keystore fingerprints last checked, and the last bundle signed."""

    def __init__(self) -> None:
        self.fingerprints: tuple[object, ...] | None = None
        self.bundle: SignedBundle | None = None
        self.lock = threading.Lock()


def trust_cache(request: Request) -> TrustCache:
    """The per-process cache of what the trust list was last signed over (shared by pages and routes)."""
    state = request.app.state
    found: TrustCache | None = getattr(state, "trust_cache", None)
    if found is None:
        found = state.trust_cache = TrustCache()
    return found


def _max_age(request: Request) -> int:
    return int(request.app.state.settings.status_ttl_seconds)


def current_trust_list(session: Session, ctx: Context, cache: TrustCache) -> TrustListRecord:
    """The stored list, re-signed first if it is stale or a listed body's keys changed."""
    now = ctx.clock()
    policy = TrustListPolicy(public_url=ctx.public_url)
    row = session.get(TrustListRecord, 1)
    bodies = accredited_bodies(session=session)
    fingerprints = tuple(
        (body.slug, keystore_fingerprint(ctx.signers.keystore(body.slug).path)) for body in bodies
    )
    if row is not None and now < row.issued_at + policy.refresh_after and fingerprints == cache.fingerprints:
        return row
    session.rollback()  # end the read transaction: the write takes the lock at BEGIN (SQLite)
    try:
        with write_transaction(session):
            row, _ = publish_trust_list(session=session, signers=ctx.signers, policy=policy, now=now)
    except IntegrityError:  # another process created the first list at the same moment: use theirs
        session.rollback()
        row = session.get(TrustListRecord, 1)
        if row is None:  # pragma: no cover - the conflicting insert committed
            raise
    except (SQLAlchemyError, SigningUnavailableError) as e:
        # The stored list may still be served when it only needed fresh dates and is still valid (a full disk,
        # the registry's key unreadable); not when what it says changed: it could vouch for a key that was
        # just marked compromised, or a body just suspended.
        session.rollback()
        stored = session.get(TrustListRecord, 1)
        if (
            stored is None
            or now >= stored.valid_until
            or stored.content_hash
            != trust_list_content(session=session, signers=ctx.signers, policy=policy, now=now)
        ):
            raise
        logger.warning("the trust list was not re-signed; serving the stored one until it can be: %s", e)
        return stored
    cache.fingerprints = fingerprints
    return row


def _answer(request: Request, body: bytes, etag: str) -> Response:
    headers = {**CORS, "ETag": etag, "Cache-Control": f"public, max-age={_max_age(request)}"}
    if if_none_match(request.headers.get("if-none-match"), etag):
        return Response(status_code=304, headers=headers)
    return Response(body, media_type=VC_JWT, headers=headers)


@router.get(
    TRUST_LIST_PATH,
    response_model=None,
    response_class=Response,
    responses={
        **raw(VC_JWT, "The trust list credential signed by the scheme owner."),
        304: {"description": "Not Modified"},
        **documented(503),
    },
)
def trust_list(request: Request, session: SessionDep, ctx: ContextDep) -> Response:
    """The scheme owner's signed list of accredited certification bodies, their keys and accreditations."""
    row = current_trust_list(session, ctx, trust_cache(request))
    return _answer(request, row.token.encode("ascii"), row.etag)


@cache
def _trust_context() -> bytes:
    return resources.files("verifier").joinpath("data", "aigov-trust-context-v1.jsonld").read_bytes()


@router.get(
    TRUST_CONTEXT_PATH,
    response_model=None,
    response_class=Response,
    responses=raw("application/ld+json", "The JSON-LD context of trust lists and bundles."),
)
def trust_context() -> Response:
    """The JSON-LD context that defines the trust list's and the bundle's terms."""
    return Response(
        _trust_context(),
        media_type="application/ld+json",
        headers={**CORS, "Cache-Control": "public, max-age=86400"},
    )


_LIST_VERSIONS = sa.select(col(StatusList.id), col(StatusList.version)).order_by(col(StatusList.id))
_LIST_TOKENS = sa.select(col(StatusList.token)).order_by(col(StatusList.id))


def _bundle_key(session: Session, trust_list_etag: str) -> str:
    """What a bundle is made of: the trust list's ETag and every status list's version."""
    versions = session.exec(_LIST_VERSIONS).all()  # type: ignore[call-overload]
    return hashlib.sha256(
        (trust_list_etag + "|" + ",".join(f"{list_id}:{version}" for list_id, version in versions)).encode()
    ).hexdigest()


@router.get(
    BUNDLE_PATH,
    response_model=None,
    response_class=Response,
    responses={
        **raw(
            VC_JWT, "The offline bundle: trust list, DID documents, status lists, signed by the scheme owner."
        ),
        304: {"description": "Not Modified"},
        **documented(503),
    },
)
def bundle(request: Request, session: SessionDep, ctx: ContextDep) -> Response:
    """Everything needed to verify offline, in one signed file; `issued` tells a verifier how old it is."""
    cache_ = trust_cache(request)
    row = current_trust_list(session, ctx, cache_)
    now = ctx.clock()
    held = cache_.bundle
    if (
        held is not None
        and held.key == _bundle_key(session, row.etag)
        and (now - held.issued).total_seconds() < _max_age(request)
    ):
        return _answer(request, held.body, held.etag)
    # What a bundle holds must last as long as the bundle: every list past half its validity is re-signed first.
    refresher: Refresher = request.app.state.refresher
    refresher.catch_up(session, wait=True)
    key = _bundle_key(session, row.etag)
    tokens = [token for (token,) in session.exec(_LIST_TOKENS).all()]  # type: ignore[call-overload]
    signers = ctx.signers
    owner = registry_did(ctx.public_url)
    documents = [
        did_web_document(body.did, signers.published_keys(body.slug))
        for body in accredited_bodies(session=session)
    ]
    credential = build_bundle(
        registry_url=ctx.public_url,
        owner_did=owner,
        owner_document=did_web_document(owner, signers.registry_keys()),
        trust_list=row.token,
        did_documents=documents,
        status_lists=tokens,
        now=now,
    )
    kid, signing_key = signers.registry_signing_key()
    token = sign_credential(credential, key=signing_key, kid=f"{owner}#{kid}", now=now)
    signed = SignedBundle(key, now, token.encode("ascii"), strong_etag(token))
    with cache_.lock:
        cache_.bundle = signed
    return _answer(request, signed.body, signed.etag)
