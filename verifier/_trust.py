"""What the verifier trusts, passed in as a value: pinned issuer keys and signed status-list snapshots.

Nothing here is derived from what a credential says about itself. A credential names a key (`kid`) and a
status list URL; the store answers only from what its owner put in it.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from keys import KeysError, PublishedKey, format_date_time_stamp, parse_did_document, parse_jwks
from verifier import problems
from verifier._errors import TrustStoreError
from verifier._json import loads
from verifier._statuslist import Bitstring
from verifier._trustlist import (
    DEFAULT_BUNDLE_MAX_AGE,
    BundleResult,
    TrustListCredential,
    TrustListResult,
    verify_bundle,
    verify_trust_list,
)

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
        self._owner: tuple[str, list[PublishedKey]] | None = None
        self._trust_list: TrustListCredential | None = None
        self._listed: dict[str, TrustedIssuer] = {}
        self._bundle: BundleResult | None = None
        self._bundle_urls: frozenset[str] = frozenset()
        self._status_max_age: dict[str, timedelta] = {}

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
        return self._listed.get(issuer_id) or self._issuers.get(issuer_id)

    @property
    def issuers(self) -> list[TrustedIssuer]:
        return list(self._issuers.values())

    def resolve_key(self, kid: str) -> tuple[TrustedIssuer, PublishedKey] | None:
        """The pinned key named by an absolute DID URL `did#fragment`, with its issuer."""
        did, _, fragment = kid.partition("#")
        issuer = self._listed.get(did) or self._issuers.get(did)
        key = issuer.keys.get(fragment) if issuer else None
        return (issuer, key) if issuer and key else None

    # -- the trust chain: scheme owner → certification body ----------------------------------------------------
    def pin_scheme_owner(self, did: str, keys: Iterable[PublishedKey]) -> None:
        """Pin the scheme owner: the only key a verifier needs to trust a trust list and a bundle."""
        pinned = list(keys)
        if not pinned:
            raise TrustStoreError(f"scheme owner {did}: no key to pin")
        self._owner = (did, pinned)

    @property
    def scheme_owner(self) -> tuple[str, list[PublishedKey]] | None:
        return self._owner

    def add_trust_list(
        self, token: str | bytes, *, now: datetime | None = None, max_clock_skew: timedelta | None = None
    ) -> TrustListResult:
        """Verify a trust list with the pinned scheme owner key and, if it verified, use it: its bodies' keys
        are pinned (with their retirement and compromise times) and their accreditations checked by `verify`.

        With `now`, a list not valid at `now` is refused; without it, its validity window is checked at each
        verification (an expired list then gives `indeterminate`). A forged list, or an older version than
        the one held, never displaces a verified one.
        """
        did, keys = self._owner if self._owner else (None, [])
        result = verify_trust_list(token, keys, owner_did=did, now=now, max_clock_skew=max_clock_skew)
        new = result.trust_list
        if new is None:
            return result
        held = self._trust_list
        if held is not None and new.version < held.version:
            return result
        names = {entry.id: entry.display_name for entry in new.credential_subject.issuers}
        self._trust_list = new
        self._listed = {
            issuer_id: TrustedIssuer(issuer_id, {k.kid: k for k in keys}, names.get(issuer_id))
            for issuer_id, keys in result.listed_keys.items()
        }
        return result

    @property
    def trust_list(self) -> TrustListCredential | None:
        """The verified trust list in use; None means trust comes from pinned issuers only."""
        return self._trust_list

    def add_bundle(
        self,
        token: str | bytes,
        *,
        now: datetime,
        max_age: timedelta = DEFAULT_BUNDLE_MAX_AGE,
        max_clock_skew: timedelta | None = None,
    ) -> BundleResult:
        """Verify an offline bundle with the pinned scheme owner key and take its trust list and status lists.

        A bundle older than `max_age` when a status it carries is used gives `indeterminate` for that status.
        The bundle's DID documents are kept for reference (`bundle.bundle.credential_subject.did_documents`);
        keys are trusted through the trust list only.
        """
        did, keys = self._owner if self._owner else (None, [])
        checked = verify_bundle(
            token, keys, owner_did=did, now=now, max_age=max_age, max_clock_skew=max_clock_skew
        )
        if checked.bundle is None:
            return checked
        subject = checked.bundle.credential_subject
        trust_list = self.add_trust_list(subject.trust_list, max_clock_skew=max_clock_skew)
        snapshots = [self.add_status_list(item) for item in subject.status_lists]  # aged as the bundle
        statuses = tuple(snapshot.result for snapshot in snapshots)
        # Aged as the bundle: the lists in use that it carries (the same signing, or merged with it), not a newer
        # copy from elsewhere, which keeps its own policy.
        urls = frozenset(s.url for s in snapshots if s.bits is not None and self._same_signing(s))
        result = BundleResult(
            checked.verdict,
            checked.checks,
            checked.summary,
            None,
            bundle=checked.bundle,
            issued=checked.issued,
            age=checked.age,
            max_age=max_age,
            trust_list_result=trust_list,
            status_results=statuses,
        )
        if self._bundle is None or (
            checked.issued is not None
            and self._bundle.issued is not None
            and checked.issued >= self._bundle.issued
        ):
            self._bundle = result
            self._bundle_urls = urls
        return result

    def _same_signing(self, snapshot: StatusSnapshot) -> bool:
        kept = self._status.get(snapshot.url)
        return kept is not None and (kept.issuer, kept.valid_from) == (snapshot.issuer, snapshot.valid_from)

    @property
    def bundle(self) -> BundleResult | None:
        """The verified offline bundle in use, with its time of issue."""
        return self._bundle

    def bundle_age_problem(self, url: str, now: datetime) -> str | None:
        """Why the snapshot of `url`, taken from the bundle, is too old to use at `now` (None: fine, or not
        from a bundle)."""
        bundle = self._bundle
        if bundle is None or bundle.issued is None or url not in self._bundle_urls:
            return None
        age = now - bundle.issued
        if age <= bundle.max_age:
            return None
        return (
            f"the offline bundle of {format_date_time_stamp(bundle.issued)} is {describe_duration(age, units=2)} old, "
            f"over the {describe_duration(bundle.max_age)} policy: get a fresh one (aigov bundle pull)"
        )

    def snapshot_age_problem(self, url: str, now: datetime) -> tuple[str, str] | None:
        """(why, problem type) when the snapshot of `url` is too old to use at `now`: a bundle's, by the bundle's
        age; one added with a `max_age`, by the age of the status list credential itself (its `validFrom`)."""
        if self._bundle is None and not self._status_max_age:
            return None  # the common case, on every verification: nothing to age
        stale = self.bundle_age_problem(url, now)
        if stale:
            return stale, problems.STALE_BUNDLE
        max_age = self._status_max_age.get(url)
        snapshot = self._status.get(url)
        if max_age is None or snapshot is None:
            return None
        if snapshot.valid_from is None:
            return (
                f"the snapshot of {url} does not say when it was made (no validFrom), so its age "
                f"cannot be held to the {describe_duration(max_age)} policy",
                problems.STALE_STATUS_LIST,
            )
        age = now - snapshot.valid_from
        if age <= max_age:
            return None
        return (
            f"the snapshot of {url} (of {format_date_time_stamp(snapshot.valid_from)}) is "
            f"{describe_duration(age, units=2)} old, over the {describe_duration(max_age)} policy: get a fresh one",
            problems.STALE_STATUS_LIST,
        )

    # -- status lists ----------------------------------------------------------------------------------------
    def add_status_list(self, token: str | bytes, *, max_age: timedelta | None = None) -> StatusSnapshot:
        """Verify a signed BitstringStatusListCredential and keep it as a snapshot for its URL.

        `max_age` is the oldest the list may be (counted from its `validFrom`, when it was signed) when a
        status is read from it; older gives `indeterminate`, as a stale bundle does, and so does a list past
        its own `validUntil` (which aigov registries sign: three days). Give one for a file of unknown
        freshness when the policy is stricter than its issuer's, or when a list has no `validUntil` and
        would otherwise be believed forever (the CLI's `--status-list` uses `--max-age` when given). None
        suits a caller that knows the list is current (the registry reading its own database).
        """
        from verifier._verify import verify_status_list  # noqa: PLC0415 - _verify imports this module

        snapshot = verify_status_list(token, self)
        kept = newest_snapshot(self._status.get(snapshot.url), snapshot)
        if kept is not self._status.get(snapshot.url):
            self._status[snapshot.url] = kept
            if max_age is None:
                self._status_max_age.pop(snapshot.url, None)
            else:
                self._status_max_age[snapshot.url] = max_age
        return snapshot

    def status_snapshot(self, url: str) -> StatusSnapshot | None:
        return self._status.get(url)

    @property
    def status_snapshots(self) -> list[StatusSnapshot]:
        return list(self._status.values())

    # -- files -----------------------------------------------------------------------------------------------
    @classmethod
    def load(
        cls, trust_file: Path, status_lists: Iterable[Path] = (), *, status_max_age: timedelta | None = None
    ) -> TrustStore:
        """Build a store from a trust file and status-list files (each a signed status list token, held to
        `status_max_age`: see `add_status_list`).

        A trust file is a DID document, or `{"issuers": [{"id": DID, "name": ..., "didDocument": {...}} |
        {"id": DID, "jwks": {...}}]}`.
        """
        store = cls()
        store.add_trust_document(read_json_file(trust_file), source=str(trust_file))
        for path in status_lists:
            store.add_status_list(_read_bytes(path), max_age=status_max_age)
        return store

    def add_trust_document(self, document: object, *, source: str = "trust file") -> None:
        """Add a DID document or an `{"issuers": [...]}` trust file."""
        if not isinstance(document, dict):
            raise TrustStoreError("must be a JSON object", source=source)
        try:
            if (
                "issuers" not in document
                and "id" not in document
                and ("keys" in document or "kty" in document)
            ):
                raise TrustStoreError(
                    "this is a JWKS or JWK (bare keys), not a trust file: it does not say whose keys they are. "
                    "Give the issuer's DID document (aigov keys did), or "
                    '{"issuers": [{"id": "did:web:…", "jwks": {"keys": […]}}]}'
                )
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


def describe_duration(delta: timedelta, *, units: int = 4) -> str:
    """A duration in at most `units` units, exact by default: `12 s`, `1 h 30 min`, `2 days 3 h` (a policy of
    90 min must not read as "1 h", nor one of 12 s as "0 min"); `units=2` for an age, where rounding down is fine."""
    seconds = max(0, int(delta.total_seconds()))
    parts: list[str] = []
    for size, unit in ((86400, "days"), (3600, "h"), (60, "min"), (1, "s")):
        if (seconds >= size and (unit != "days" or seconds >= 2 * size)) or (size == 1 and not parts):
            count, seconds = divmod(seconds, size)
            parts.append(f"{count} {'day' if unit == 'days' and count == 1 else unit}")
    return " ".join(parts[:units])


def _read_bytes(path: Path) -> bytes:
    """The file's bytes, at most MAX_TRUST_FILE_BYTES: a regular file's size is checked before reading, and no
    more than the limit plus one byte is ever read, since a pipe or device (`/dev/zero`) has no size to check."""
    try:
        with path.open("rb") as f:
            size = os.fstat(f.fileno()).st_size
            if size > MAX_TRUST_FILE_BYTES:
                raise TrustStoreError(
                    f"{size:,} bytes is over the {MAX_TRUST_FILE_BYTES:,}-byte limit", source=str(path)
                )
            data = f.read(MAX_TRUST_FILE_BYTES + 1)
    except OSError as e:
        raise TrustStoreError(f"cannot read: {e.strerror or e}", source=str(path)) from e
    if len(data) > MAX_TRUST_FILE_BYTES:
        raise TrustStoreError(
            f"over the {MAX_TRUST_FILE_BYTES:,}-byte limit; not read further", source=str(path)
        )
    return data


def read_json_file(path: Path) -> object:
    """Read a JSON file that a user handed us: size-capped, duplicate members refused, errors explained."""
    data = _read_bytes(path)
    try:
        return loads(data, "file")
    except ValueError as e:
        raise TrustStoreError(str(e), source=str(path)) from None


def newest_snapshot(known: StatusSnapshot | None, new: StatusSnapshot) -> StatusSnapshot:
    """Which of two copies of one status list to use: one that verified over one that did not (a forged list
    never displaces a genuine one; nor does a list of the same URL signed by another issuer), else the later
    signed (`validFrom`): an older copy given after a newer one
    must not hide a revocation. Two copies signed in the same second that disagree (a registry can change a
    list twice in a second) are merged, each bit set if either sets it: the answer errs towards revoked or
    suspended, never towards valid."""
    if known is None or known.bits is None:
        return new
    if new.bits is None or new.issuer != known.issuer:
        return known  # another signer's list for this URL: the credential's issuer decides, and it came first
    if new.valid_from != known.valid_from:
        later_is_new = known.valid_from is None or (
            new.valid_from is not None and new.valid_from > known.valid_from
        )
        return new if later_is_new else known
    if bytes(new.bits) == bytes(known.bits) or len(new.bits) != len(known.bits):
        return known
    merged = (int.from_bytes(bytes(known.bits), "big") | int.from_bytes(bytes(new.bits), "big")).to_bytes(
        len(bytes(known.bits)), "big"
    )
    return replace(known, bits=Bitstring.from_bytes(merged))
