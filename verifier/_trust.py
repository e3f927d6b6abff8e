"""What the verifier trusts, passed in as a value: pinned issuer keys and signed status-list snapshots.

Nothing here is derived from what a credential says about itself. A credential names a key (`kid`) and a
status list URL; the store answers only from what its owner put in it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from keys import KeysError, PublishedKey, parse_did_document, parse_jwks
from verifier._errors import TrustStoreError
from verifier._json import loads
from verifier._statuslist import Bitstring

if TYPE_CHECKING:
    from verifier._result import VerificationResult

# A trust file is a few KB; a bundle with status lists stays far below this.
MAX_TRUST_FILE_BYTES = 16 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class TrustedIssuer:
    """An issuer whose keys the user pinned."""

    id: str
    keys: Mapping[str, PublishedKey]
    name: str | None = None


@dataclass(frozen=True, slots=True)
class StatusSnapshot:
    """A status list credential the user supplied, verified when added (all but its validity window, which
    depends on the time of each verification). `result` says why a snapshot that failed cannot be used."""

    url: str
    result: VerificationResult
    issuer: str | None = None
    purpose: str | None = None
    bits: Bitstring | None = field(default=None, repr=False)
    valid_from: datetime | None = None
    valid_until: datetime | None = None


class TrustStore:
    """Pinned keys per issuer, plus status-list snapshots for offline status checks.

    Add issuers before status lists: a snapshot is verified against the keys present when it is added.
    """

    def __init__(self) -> None:
        self._issuers: dict[str, TrustedIssuer] = {}
        self._status: dict[str, StatusSnapshot] = {}

    # -- issuers ---------------------------------------------------------------------------------------------
    def add_issuer(self, issuer_id: str, keys: Iterable[PublishedKey], *, name: str | None = None) -> None:
        """Pin `keys` as the keys of `issuer_id` (adding to any pinned before)."""
        existing = self._issuers.get(issuer_id)
        merged = dict(existing.keys) if existing else {}
        merged.update((k.kid, k) for k in keys)
        self._issuers[issuer_id] = TrustedIssuer(
            issuer_id, merged, name or (existing.name if existing else None)
        )

    def add_did_document(self, document: Mapping[str, Any], *, name: str | None = None) -> str:
        """Pin the assertion keys of a DID document; returns the DID."""
        did = document.get("id") if isinstance(document, Mapping) else None
        if not isinstance(did, str):
            raise TrustStoreError("a DID document needs a string 'id'")
        try:
            keys = parse_did_document(document, expected_did=did)
        except KeysError as e:
            raise TrustStoreError(f"DID document {did}: {e}") from e
        self.add_issuer(did, keys, name=name)
        return did

    def add_jwks(self, issuer_id: str, jwks: Mapping[str, Any], *, name: str | None = None) -> None:
        """Pin the keys of a JWKS as the keys of `issuer_id`."""
        try:
            keys = parse_jwks(jwks)
        except KeysError as e:
            raise TrustStoreError(f"JWKS for {issuer_id}: {e}") from e
        self.add_issuer(issuer_id, keys, name=name)

    def issuer(self, issuer_id: str) -> TrustedIssuer | None:
        return self._issuers.get(issuer_id)

    @property
    def issuers(self) -> list[TrustedIssuer]:
        return list(self._issuers.values())

    def resolve_key(self, kid: str) -> tuple[TrustedIssuer, PublishedKey] | None:
        """The pinned key named by an absolute DID URL `did#fragment`, with its issuer."""
        did, _, fragment = kid.partition("#")
        issuer = self._issuers.get(did)
        key = issuer.keys.get(fragment) if issuer else None
        return (issuer, key) if issuer and key else None

    # -- status lists ----------------------------------------------------------------------------------------
    def add_status_list(self, token: str | bytes) -> StatusSnapshot:
        """Verify a signed BitstringStatusListCredential and keep it as a snapshot for its URL."""
        from verifier._verify import verify_status_list  # noqa: PLC0415 - _verify imports this module

        snapshot = verify_status_list(token, self)
        known = self._status.get(snapshot.url)
        if snapshot.bits is not None or known is None or known.bits is None:
            self._status[snapshot.url] = snapshot  # a forged list never displaces one that verified
        return snapshot

    def status_snapshot(self, url: str) -> StatusSnapshot | None:
        return self._status.get(url)

    @property
    def status_snapshots(self) -> list[StatusSnapshot]:
        return list(self._status.values())

    # -- files -----------------------------------------------------------------------------------------------
    @classmethod
    def load(cls, trust_file: Path, status_lists: Iterable[Path] = ()) -> TrustStore:
        """Build a store from a trust file and status-list files (each a signed status list token).

        A trust file is a DID document, or `{"issuers": [{"id": DID, "name": ..., "didDocument": {...}} |
        {"id": DID, "jwks": {...}}]}`.
        """
        store = cls()
        store.add_trust_document(read_json_file(trust_file), source=str(trust_file))
        for path in status_lists:
            store.add_status_list(_read_bytes(path))
        return store

    def add_trust_document(self, document: object, *, source: str = "trust file") -> None:
        """Add a DID document or an `{"issuers": [...]}` trust file."""
        if not isinstance(document, dict):
            raise TrustStoreError("must be a JSON object", source=source)
        try:
            if "issuers" not in document:
                self.add_did_document(document)
                return
            issuers = document["issuers"]
            if not isinstance(issuers, list) or not issuers:
                raise TrustStoreError("'issuers' must be a non-empty list")
            for entry in issuers:
                self._add_entry(entry)
        except TrustStoreError as e:
            raise TrustStoreError(str(e), source=source) from e

    def _add_entry(self, entry: object) -> None:
        if not isinstance(entry, dict) or not isinstance(entry.get("id"), str):
            raise TrustStoreError("each issuer needs a string 'id'")
        name = entry.get("name") if isinstance(entry.get("name"), str) else None
        if isinstance(entry.get("didDocument"), dict):
            if entry["didDocument"].get("id") != entry["id"]:
                raise TrustStoreError(f"issuer {entry['id']}: its didDocument has another id")
            self.add_did_document(entry["didDocument"], name=name)
        elif isinstance(entry.get("jwks"), dict):
            self.add_jwks(entry["id"], entry["jwks"], name=name)
        else:
            raise TrustStoreError(f"issuer {entry['id']}: needs a 'didDocument' or a 'jwks' object")


def _read_bytes(path: Path) -> bytes:
    try:
        size = path.stat().st_size
        if size > MAX_TRUST_FILE_BYTES:
            raise TrustStoreError(
                f"{size:,} bytes is over the {MAX_TRUST_FILE_BYTES:,}-byte limit", source=str(path)
            )
        return path.read_bytes()
    except OSError as e:
        raise TrustStoreError(f"cannot read: {e.strerror or e}", source=str(path)) from e


def read_json_file(path: Path) -> object:
    """Read a JSON file that a user handed us: size-capped, duplicate members refused, errors explained."""
    data = _read_bytes(path)
    try:
        return loads(data, "file")
    except ValueError as e:
        raise TrustStoreError(str(e), source=str(path)) from None
