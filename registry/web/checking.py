"""The verify page's checks: a pasted JWT, an uploaded badge or a QR image, verified with the registry's
own trust.

Trust is what this registry publishes and nothing a credential says: the scheme owner's key, its signed trust
list (so the page makes the same accreditation checks as `aigov verify --online`: a body that is not accredited
is not trusted), and the current signed status lists that
the credential names, when they are this registry's (`<public URL>/status/<n>`). Nothing is fetched from the network; a status
list of another registry is simply not in the store, so such a credential is `indeterminate`, never valid.
Uploads are read into memory (the app's body cap bounds them), checked and dropped; nothing is stored.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import threading
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlmodel import Session, col, select

from registry.identity import registry_did
from registry.lifecycle import Context
from registry.models import Credential, StatusList
from registry.refresher import Refresher
from verifier import (
    Badge,
    BadgeError,
    TrustStore,
    VerificationResult,
    decode_qr,
    extract_badge,
    verify,
    with_badge_check,
)

MAX_UPLOAD_BYTES = 512 * 1024
_PNG = b"\x89PNG\r\n\x1a\n"
MAX_STATUS_LISTS = 4  # a certificate names two; anything beyond is not looked up
_STATUS_PATH = re.compile(r"/status/([1-9][0-9]{0,17})", re.ASCII)
_CREDENTIAL_PATH = re.compile(r"/credentials/([0-9a-fA-F-]{32,36})/?", re.ASCII)


@dataclass(frozen=True, slots=True)
class Outcome:
    """What the verify page shows: the result, where the credential came from, and badge-specific notes."""

    result: VerificationResult
    source: str  # "jwt", "svg", "png" or "qr"
    notes: list[str] = field(default_factory=list)
    credential_id: uuid.UUID | None = None


def trust_store(
    *,
    ctx: Context,
    refresher: Refresher,
    trust_list: str,
    session: Session,
    status_urls: list[str],
    now: datetime,
) -> TrustStore:
    """The scheme owner pinned, its `trust_list` added, and the current signed status lists among
    `status_urls` that this registry serves (an expired one re-signed first, registry.refresher)."""
    public_url = ctx.public_url
    store = TrustStore()
    store.pin_scheme_owner(registry_did(public_url), ctx.signers.registry_keys())
    store.add_trust_list(trust_list, now=now)
    list_ids = []
    for url in status_urls[:MAX_STATUS_LISTS]:
        if url.startswith(public_url) and (match := _STATUS_PATH.fullmatch(url[len(public_url) :])):
            list_ids.append(int(match[1]))
    if list_ids:
        refresher.catch_up(session, list_ids, wait=False)
        tokens = session.exec(select(StatusList.token).where(col(StatusList.id).in_(list_ids))).all()
        for token in tokens:
            store.add_status_list(token)
    return store


def status_urls(token: str) -> list[str]:
    """The status list URLs a compact JWS's payload names, read without trusting it (only to know which
    lists to load; verification decides everything)."""
    parts = token.split(".")
    if len(parts) != 3 or len(parts[1]) > 2 * 1024 * 1024:
        return []
    try:
        payload = json.loads(base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4)))
    except (binascii.Error, ValueError, RecursionError):
        return []
    entries = payload.get("credentialStatus") if isinstance(payload, dict) else None
    if isinstance(entries, dict):
        entries = [entries]
    if not isinstance(entries, list):
        return []
    found = []
    for entry in entries[:MAX_STATUS_LISTS]:
        url = entry.get("statusListCredential") if isinstance(entry, dict) else None
        if isinstance(url, str) and url not in found:
            found.append(url)
    return found


def check_token(
    token: str, *, session: Session, ctx: Context, refresher: Refresher, trust_list: str, now: datetime
) -> VerificationResult:
    """Verify `token` offline with this registry's trust (its current signed `trust_list`) at `now`."""
    store = trust_store(
        session=session,
        ctx=ctx,
        refresher=refresher,
        trust_list=trust_list,
        status_urls=status_urls(token),
        now=now,
    )
    return verify(token, store, now=now)


def own_id(result: VerificationResult, public_url: str) -> uuid.UUID | None:
    """The id of the verified credential when it is one of this registry's (to link to its page)."""
    claimed = result.credential.get("id") if result.credential else None
    return credential_id_of_url(claimed, public_url) if isinstance(claimed, str) else None


def credential_id_of_url(url: str, public_url: str) -> uuid.UUID | None:
    """The credential id in a URL of this registry's certificate pages (what a badge's QR code holds)."""
    if not url.startswith(public_url):
        return None
    match = _CREDENTIAL_PATH.fullmatch(url[len(public_url) :].split("?", 1)[0].split("#", 1)[0])
    if match is None:
        return None
    try:
        return uuid.UUID(match[1])
    except ValueError:
        return None


def token_of(*, session: Session, credential_id: uuid.UUID) -> str | None:
    """The signed credential with this id in this registry, if any."""
    return session.exec(select(Credential.token).where(Credential.id == credential_id)).first()


# Reading a QR code decodes the whole picture: up to 48 MB for the largest one verifier.decode_qr accepts.
# Two at a time per process, whatever the threadpool's size, so that a burst of uploads queues instead of
# taking gigabytes.
_QR_DECODES = threading.BoundedSemaphore(2)


class UploadError(Exception):
    """An upload the page cannot check; `.code` names the message shown, `.detail` the verifier's reason."""

    def __init__(self, code: str, detail: str | None = None) -> None:
        super().__init__(code)
        self.code = code
        self.detail = detail


def _looks_like_svg(data: bytes) -> bool:
    head = data[:512].lstrip(b"\xef\xbb\xbf \t\r\n")
    return head.startswith(b"<")


def check_upload(
    data: bytes,
    *,
    session: Session,
    ctx: Context,
    refresher: Refresher,
    trust_list: str,
    now: datetime,
) -> Outcome:
    """Verify an uploaded badge (SVG or PNG with a baked credential) or a picture of a badge's QR code.

    A QR code is followed only to this registry's own certificate pages (nothing is fetched); raises
    UploadError for anything else.
    """
    public_url = ctx.public_url
    trust: dict[str, Any] = {
        "session": session,
        "ctx": ctx,
        "refresher": refresher,
        "trust_list": trust_list,
        "now": now,
    }
    badge: Badge | None = None
    if data.startswith(_PNG) or _looks_like_svg(data):
        try:
            badge = extract_badge(data)
        except BadgeError as e:
            if not data.startswith(_PNG):  # an SVG that is not a readable badge: say why
                raise UploadError("bad_badge", str(e)) from None
    if badge is not None:
        result = with_badge_check(
            check_token(badge.token, **trust),
            badge,
        )
        return Outcome(result=result, source=badge.kind, credential_id=own_id(result, public_url))
    try:
        with _QR_DECODES:
            texts = decode_qr(data)
    except BadgeError:
        raise UploadError("not_image") from None
    for text in texts:
        credential_id = credential_id_of_url(text, public_url)
        token = None if credential_id is None else token_of(session=session, credential_id=credential_id)
        if token is not None:
            result = check_token(token, **trust)
            return Outcome(result=result, source="qr", credential_id=credential_id)
    raise UploadError("no_credential")
