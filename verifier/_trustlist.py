"""The trust chain: the scheme owner signs a trust list of accredited certification bodies.

A verifier pins only the scheme owner's key. The trust list credential (a `vc+jwt`, W3C VC DM 2.0, shaped after
ETSI TS 119 612 trusted lists and the EBSI Trusted Issuers Registry, much simplified) names every certification
body with its DID, names, public keys (with their validity windows and states) and its accreditations: the
scheme, the levels it may certify, the accreditation period and the status history. A certificate is then
checked through the list like a certificate chain: issuer listed, accredited for that scheme and level when it
issued (by the signed history), not withdrawn since, signing key one of its listed keys and valid at issuance.

An offline bundle is a second owner-signed credential holding the trust list token, the bodies' DID documents
and every status list token, with its time of issue, so that `verify` works with no network at all.

No I/O and no httpx here: the online module fetches, this module judges.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import Field, ValidationError, model_validator

from keys import KeysError, PublicKey, PublishedKey
from verifier import problems
from verifier._clock import clamped_sub, in_utc
from verifier._model import (
    VC2_CONTEXT,
    DateTimeStamp,
    DateTimeStampText,
    LocalizedName,
    TypeList,
    Url,
    _Closed,
    _Dated,
    _Open,
    describe_validation_error,
    format_date_time_stamp,
)
from verifier._result import CheckResult, Outcome, Verdict, VerificationResult

if TYPE_CHECKING:
    from verifier._verify import _Run

TRUST_LIST_TYPE = "AIGovernanceTrustList"
BUNDLE_TYPE = "AIGovernanceTrustBundle"
# Where a registry serves them (the credential ids).
TRUST_LIST_PATH = "/trust-list"
# The JSON-LD context of trust lists and bundles (verifier/data/aigov-trust-context-v1.jsonld), kept apart from
# the certificate's so that none of its terms is active in a certificate.
TRUST_CONTEXT_PATH = "/contexts/aigov-trust/v1"
BUNDLE_PATH = "/api/v1/bundle"
DEFAULT_BUNDLE_MAX_AGE = timedelta(hours=24)
# A bundle carries every status list token: 1,000 lists of random bits would be ~20 MB; most are far smaller.
MAX_BUNDLE_TOKEN_BYTES = 32 * 1024 * 1024
MAX_TRUST_LIST_TOKEN_BYTES = 4 * 1024 * 1024

AccreditationStatus = Literal["active", "suspended", "withdrawn"]
KeyStatus = Literal["active", "retired", "compromised"]
SchemeId = Annotated[str, Field(min_length=1, max_length=2048)]
LevelId = Annotated[str, Field(min_length=1, max_length=100)]
# achievement.id of a certificate: {registry}/schemes/{scheme_id}/levels/{level_id} (issuer/_build.py).
_ACHIEVEMENT = re.compile(r"(?P<scheme>[^?#]+/schemes/[^/?#]+)/levels/(?P<level>[^/?#]+)")


class ListedKey(_Closed):
    """A body's public key as the scheme owner lists it. `retired`/`compromised` end its signatures' validity
    exactly as `expires`/`revoked` do in a DID document; `validFrom` is when it entered service."""

    kid: Annotated[str, Field(min_length=1, max_length=200)]
    public_key_jwk: dict[str, Any]
    state: KeyStatus
    valid_from: DateTimeStamp
    retired: DateTimeStamp | None = None
    compromised: DateTimeStamp | None = None

    @model_validator(mode="after")
    def _consistent(self) -> ListedKey:
        if self.state == "retired" and self.retired is None:
            raise ValueError("a retired key needs 'retired' (when)")
        if self.state == "compromised" and self.compromised is None:
            raise ValueError("a compromised key needs 'compromised' (when)")
        return self

    def published(self) -> PublishedKey:
        """The key as the verifier uses it; raises KeysError if the JWK is not a key we accept or its kid
        is not its RFC 7638 thumbprint."""
        public_key = PublicKey.from_jwk(self.public_key_jwk)
        if public_key.kid != self.kid:
            raise ValueError(f"key {self.kid}: kid is not the RFC 7638 thumbprint of its JWK")
        return PublishedKey(public_key, expires=self.retired, revoked=self.compromised)


class StatusChange(_Closed):
    """One entry of an accreditation's history: from `from` on, its status was `status`."""

    status: AccreditationStatus
    since: DateTimeStamp = Field(alias="from")


class Accreditation(_Closed):
    """What a body may certify: a scheme (its URL), levels, a period, and the status with its history."""

    scheme: SchemeId
    levels: Annotated[list[LevelId], Field(min_length=1, max_length=100)]
    valid_from: DateTimeStamp
    valid_until: DateTimeStamp | None = None
    status: AccreditationStatus
    history: Annotated[list[StatusChange], Field(min_length=1, max_length=1000)]

    @model_validator(mode="after")
    def _consistent(self) -> Accreditation:
        moments = [change.since for change in self.history]
        if moments != sorted(moments):
            raise ValueError("history must be in time order")
        if self.history[-1].status != self.status:
            raise ValueError("status must be the last status of the history")
        if self.valid_until is not None and self.valid_until <= self.valid_from:
            raise ValueError("validUntil must be after validFrom")
        return self

    def status_at(self, moment: datetime) -> AccreditationStatus | None:
        """The status at `moment` from the history; None before the first entry."""
        found: AccreditationStatus | None = None
        for change in self.history:
            if change.since > moment:
                break
            found = change.status
        return found

    def withdrawn_after(self, moment: datetime) -> datetime | None:
        """When the accreditation was first withdrawn after `moment` (None if never): a withdrawal ends the
        recognition of what the body issued before it, even if it is accredited again later."""
        return next((c.since for c in self.history if c.status == "withdrawn" and c.since > moment), None)

    def since(self, moment: datetime) -> datetime | None:
        """When the status in force at `moment` began (a run of equal statuses counts from its first)."""
        start: datetime | None = None
        previous: str | None = None
        for change in self.history:
            if change.since > moment:
                break
            if change.status != previous:
                start, previous = change.since, change.status
        return start


class ListedIssuer(_Closed):
    """A certification body on the trust list."""

    id: Url
    legal_name: LocalizedName
    keys: Annotated[list[ListedKey], Field(max_length=100)]
    accreditations: Annotated[list[Accreditation], Field(max_length=100)]

    def key(self, kid: str) -> ListedKey | None:
        return next((k for k in self.keys if k.kid == kid), None)

    def accreditation(self, scheme: str) -> Accreditation | None:
        return next((a for a in self.accreditations if a.scheme == scheme), None)

    @property
    def display_name(self) -> str:
        return self.legal_name.en or self.legal_name.ja or self.id


class TrustListSubject(_Closed):
    id: Url | None = None
    type: TypeList
    version: Annotated[int, Field(ge=1)]
    issuers: Annotated[list[ListedIssuer], Field(max_length=10_000)]

    @model_validator(mode="after")
    def _unique(self) -> TrustListSubject:
        ids = [issuer.id for issuer in self.issuers]
        if len(set(ids)) != len(ids):
            raise ValueError("an issuer is listed twice")
        for issuer in self.issuers:
            schemes = [a.scheme for a in issuer.accreditations]
            if len(set(schemes)) != len(schemes):
                raise ValueError(f"issuer {issuer.id} has two accreditations for one scheme")
        return self


class _OwnerCredential(_Dated):
    """What trust lists and bundles share: VC 2.0, issued by the scheme owner (a DID string), dated."""

    context: Annotated[list[str | dict[str, Any]], Field(alias="@context", min_length=1, max_length=10)]
    id: Url
    type: TypeList
    issuer: Url
    valid_from_text: DateTimeStampText = Field(alias="validFrom")
    valid_until_text: DateTimeStampText | None = Field(default=None, alias="validUntil")

    @model_validator(mode="after")
    def _vc(self) -> _OwnerCredential:
        if self.context[0] != VC2_CONTEXT:
            raise ValueError(f"the first @context must be {VC2_CONTEXT!r}")
        if "VerifiableCredential" not in self.type:
            raise ValueError("type must include VerifiableCredential")
        if (
            self.valid_from is not None
            and self.valid_until is not None
            and self.valid_from > self.valid_until
        ):
            raise ValueError("validFrom is after validUntil")
        return self


class TrustListCredential(_OwnerCredential):
    """The trust list credential: type [VerifiableCredential, AIGovernanceTrustList]."""

    credential_subject: TrustListSubject

    @model_validator(mode="after")
    def _type(self) -> TrustListCredential:
        if TRUST_LIST_TYPE not in self.type:
            raise ValueError(f"type must include {TRUST_LIST_TYPE}")
        if self.valid_until_text is None:
            raise ValueError("a trust list needs validUntil: its short validity bounds how long it counts")
        return self

    @property
    def version(self) -> int:
        return self.credential_subject.version

    def issuer_entry(self, did: str) -> ListedIssuer | None:
        return next((i for i in self.credential_subject.issuers if i.id == did), None)


class BundleSubject(_Open):
    type: TypeList
    issued: DateTimeStamp
    scheme_owner: dict[str, Any]  # the owner's DID document (used only with a pinned fingerprint)
    trust_list: Annotated[str, Field(min_length=1)]
    did_documents: Annotated[list[dict[str, Any]], Field(max_length=10_000)]
    status_lists: Annotated[list[str], Field(max_length=100_000)]


class BundleCredential(_OwnerCredential):
    """An offline bundle: type [VerifiableCredential, AIGovernanceTrustBundle]. No validUntil: its freshness
    is the verifier's policy (max-age), not the publisher's."""

    credential_subject: BundleSubject

    @model_validator(mode="after")
    def _type(self) -> BundleCredential:
        if BUNDLE_TYPE not in self.type:
            raise ValueError(f"type must include {BUNDLE_TYPE}")
        return self


@dataclass(frozen=True, slots=True)
class TrustListResult(VerificationResult):
    """The verification of a trust list; `trust_list` is the verified list (None unless the verdict is valid)."""

    trust_list: TrustListCredential | None = None
    listed_keys: dict[str, list[PublishedKey]] = field(default_factory=dict, repr=False)


@dataclass(frozen=True, slots=True)
class BundleResult(VerificationResult):
    """The verification of an offline bundle: its own checks, its time of issue and age, and what it held."""

    bundle: BundleCredential | None = None
    issued: datetime | None = None
    age: timedelta | None = None
    max_age: timedelta = DEFAULT_BUNDLE_MAX_AGE
    trust_list_result: TrustListResult | None = None
    status_results: tuple[VerificationResult, ...] = ()

    @property
    def stale(self) -> bool:
        return self.age is not None and self.age > self.max_age


def verify_trust_list(
    token: str | bytes,
    owner_keys: Iterable[PublishedKey],
    *,
    owner_did: str | None = None,
    now: datetime | None,
    max_clock_skew: timedelta | None = None,
) -> TrustListResult:
    """Verify a trust list credential signed by the scheme owner (one of `owner_keys`), valid at `now`.

    `owner_did`, when given, must be the list's issuer and the DID of its signing key; without it the DID is
    taken from the token, and only the pinned key material counts. `now=None` leaves the validity window to
    be checked each time the list is used (TrustStore does so: an expired list then gives `indeterminate`).
    """
    run, model, payload = _verify_owner(
        token,
        owner_keys,
        owner_did=owner_did,
        now=now,
        skew=max_clock_skew,
        model_type=TrustListCredential,
        max_bytes=MAX_TRUST_LIST_TOKEN_BYTES,
    )
    base = run.result(payload)
    verified = base.verdict is Verdict.VALID and isinstance(model, TrustListCredential)
    return TrustListResult(
        base.verdict,
        base.checks,
        _owner_summary(base, "trust list"),
        base.credential,
        trust_list=model if verified and isinstance(model, TrustListCredential) else None,
        listed_keys=_listed_keys(model) if verified and isinstance(model, TrustListCredential) else {},
    )


def verify_bundle(
    token: str | bytes,
    owner_keys: Iterable[PublishedKey],
    *,
    owner_did: str | None = None,
    now: datetime,
    max_age: timedelta = DEFAULT_BUNDLE_MAX_AGE,
    max_clock_skew: timedelta | None = None,
) -> BundleResult:
    """Verify an offline bundle's own signature and shape (its contents: TrustStore.add_bundle).

    A bundle has no validity window of its own: how old it may be is the verifier's policy (`max_age`),
    applied when a status it carries is used, so that an old bundle gives `indeterminate`, never `invalid`.
    """
    run, model, payload = _verify_owner(
        token,
        owner_keys,
        owner_did=owner_did,
        now=None,
        skew=max_clock_skew,
        model_type=BundleCredential,
        max_bytes=MAX_BUNDLE_TOKEN_BYTES,
    )
    base = run.result(payload)
    if base.verdict is not Verdict.VALID or not isinstance(model, BundleCredential):
        return BundleResult(base.verdict, base.checks, _owner_summary(base, "bundle"), None, max_age=max_age)
    issued = model.credential_subject.issued
    age = now - issued
    return BundleResult(
        base.verdict,
        base.checks,
        f"bundle of {_fmt(issued)}, {describe_age(age)} old",
        None,
        bundle=model,
        issued=issued,
        age=age,
        max_age=max_age,
    )


def owner_keys_by_fingerprint(did_document: object, fingerprint: str) -> tuple[str, list[PublishedKey]]:
    """The keys of a scheme owner's DID document whose RFC 7638 thumbprint is `fingerprint`, with its DID.

    Pinning by fingerprint: the key material may come from anywhere (a bundle carries it), because only a key
    with the pinned thumbprint is kept; the thumbprint is recomputed from the JWK, never read from a `kid`.
    Raises ValueError when the document holds no such key.
    """
    from keys import KeysError, parse_did_document  # noqa: PLC0415

    if not isinstance(did_document, dict) or not isinstance(did_document.get("id"), str):
        raise ValueError("the scheme owner's DID document needs a string 'id'")
    did = did_document["id"]
    try:
        keys = parse_did_document(did_document, expected_did=did)
    except KeysError as e:
        raise ValueError(f"scheme owner DID document: {e}") from e
    pinned = [key for key in keys if key.public_key.kid == fingerprint.strip()]
    if not pinned:
        raise ValueError(f"no key of {did} has the pinned fingerprint {fingerprint.strip()}")
    return did, pinned


def _verify_owner(
    token: str | bytes,
    owner_keys: Iterable[PublishedKey],
    *,
    owner_did: str | None,
    now: datetime | None,
    skew: timedelta | None,
    model_type: type[_OwnerCredential],
    max_bytes: int,
) -> tuple[_Run, _OwnerCredential | None, dict[str, Any] | None]:
    """The checks of an owner-signed credential, as a `_Run` (parse … validity_period, issuer_trust, status)."""
    from verifier._jws import JwsError, parse_compact  # noqa: PLC0415
    from verifier._trust import TrustStore  # noqa: PLC0415 - _trust imports this module
    from verifier._verify import DEFAULT_MAX_CLOCK_SKEW, _Run  # noqa: PLC0415 - _verify imports this module

    keys = list(owner_keys)
    did = owner_did
    if did is None:
        try:
            kid = parse_compact(token, max_bytes=max_bytes).header.get("kid")
        except JwsError:
            kid = None
        did = kid.partition("#")[0] if isinstance(kid, str) else "did:invalid:owner"
    pinned = TrustStore()
    if keys:
        pinned.add_issuer(did, keys, name="the scheme owner")
    run = _Run(pinned, now, skew or DEFAULT_MAX_CLOCK_SKEW, allow_legacy=False)
    authenticated = run.authenticate(token, max_bytes)
    if isinstance(authenticated, VerificationResult):
        return run, None, None
    jws, _ = authenticated
    payload = jws.payload
    try:
        model = model_type.model_validate(payload)
        if isinstance(model, TrustListCredential):
            _listed_keys(model)  # a listed key we cannot use makes the list malformed
    except (ValidationError, ValueError) as e:
        run.stop("data_model", describe_validation_error(e), problems.MALFORMED_VALUE_ERROR, payload)
        return run, None, payload
    run.passed("data_model", "W3C Verifiable Credentials Data Model 2.0")
    subject_id = getattr(getattr(model, "credential_subject", None), "id", None)
    subject_ids = [subject_id] if isinstance(subject_id, str) else []
    mismatch = run.claims(jws, model.issuer, model.id, subject_ids, (model.valid_from, model.valid_until))
    if mismatch:
        run.stop("claims", mismatch, problems.CLAIM_MISMATCH, payload)
        return run, None, payload
    run.passed("claims", "iss, jti, iat, nbf and exp agree with the credential")
    if isinstance(model, TrustListCredential):
        issuers = model.credential_subject.issuers
        run.passed("profile", f"trust list version {model.version} of {len(issuers)} certification bodies")
    elif isinstance(model, BundleCredential):
        subject = model.credential_subject
        run.passed(
            "profile",
            f"offline bundle of {_fmt(subject.issued)} with {len(subject.status_lists)} status lists",
        )
    if now is None:
        run.add("validity_period", Outcome.SKIPPED, "checked each time it is used")
    else:
        run.validity(model.valid_from, model.valid_until, payload)
    run.passed("issuer_trust", f"signed by the pinned scheme owner {model.issuer}")
    run.add("status", Outcome.SKIPPED, "not applicable: its own validity or age bounds how long it counts")
    return run, model, payload


def _listed_keys(model: TrustListCredential) -> dict[str, list[PublishedKey]]:
    """Each listed body's keys, usable by the verifier. A key that is not a key we accept makes the whole list
    malformed: a list the owner signed with a broken entry is a bug to surface, not to half-use."""
    listed: dict[str, list[PublishedKey]] = {}
    for entry in model.credential_subject.issuers:
        try:
            listed[entry.id] = [key.published() for key in entry.keys]
        except (KeysError, ValueError) as e:  # reported as the list's problem
            raise ValueError(f"issuer {entry.id}: {e}") from e
    return listed


def _owner_summary(result: VerificationResult, what: str) -> str:
    if result.verdict is Verdict.VALID:
        return f"the {what} is authentic and current"
    first = result.problems[0] if result.problems else None
    return f"do not use this {what}: {first.detail if first else result.summary}"


# -- the issuer_trust check of a certificate, against a verified trust list ---------------------------------------


def check_listed_issuer(
    trust_list: TrustListCredential,
    *,
    issuer_did: str,
    kid: str,
    payload: dict[str, Any],
    issued_at: datetime | None,
    now: datetime,
    skew: timedelta,
) -> CheckResult:
    """The certificate's issuer against the trust list: listed, its key listed and in service when it signed,
    accredited for the certificate's scheme and level at issuance, and not withdrawn now.

    Policy: withdrawal ends the recognition of every certificate the body issued (ISO/IEC 17011 §7.11 practice:
    its certificates must be transferred or re-certified), so a withdrawal fails what the body issued before
    it, even once it is accredited again; a suspended body issues nothing new, but what it issued before the
    suspension stays recognised (a warning while suspended, a pass once the suspension is lifted). Whether the
    body was accredited at issuance is read from the signed history (`_not_accredited_then`).
    """
    name = "issuer_trust"
    owner = trust_list.issuer
    version = f"trust list version {trust_list.version} of {owner}"
    valid_until = trust_list.valid_until
    if valid_until is not None and clamped_sub(now, skew) > valid_until:
        return CheckResult(
            name,
            Outcome.INDETERMINATE,
            f"the {version} expired on {_fmt(valid_until)}: get a current one",
            problems.TRUST_LIST_EXPIRED,
        )
    entry = trust_list.issuer_entry(issuer_did)
    if entry is None:
        return CheckResult(
            name, Outcome.FAILED, f"issuer {issuer_did} is not on the {version}", problems.UNTRUSTED_ISSUER
        )
    fragment = kid.partition("#")[2]
    key = entry.key(fragment)
    if kid.partition("#")[0] != issuer_did or key is None:
        return CheckResult(
            name,
            Outcome.FAILED,
            f"key {kid} is not one of the keys the {version} lists for {issuer_did}",
            problems.UNKNOWN_KEY,
        )
    if issued_at is None:
        return CheckResult(
            name,
            Outcome.FAILED,
            "the credential does not say when it was issued (no iat, nbf or validFrom)",
            problems.NOT_ACCREDITED,
        )
    if issued_at < clamped_sub(key.valid_from, skew):
        return CheckResult(
            name,
            Outcome.FAILED,
            f"key {fragment} entered service on {_fmt(key.valid_from)}, after this was signed ({_fmt(issued_at)})",
            problems.KEY_NOT_USABLE,
        )
    scheme, level = _scheme_and_level(payload)
    if scheme is None or level is None:
        return CheckResult(
            name,
            Outcome.FAILED,
            "the credential names no scheme and level (credentialSubject.achievement.id "
            "…/schemes/{scheme}/levels/{level}, and certification.level)",
            problems.NOT_ACCREDITED,
        )
    who = entry.display_name
    accreditation = entry.accreditation(scheme)
    if accreditation is None:
        return CheckResult(
            name,
            Outcome.FAILED,
            f"{who} is on the trust list but not accredited for the scheme {scheme}",
            problems.NOT_ACCREDITED,
        )
    if level not in accreditation.levels:
        levels = ", ".join(accreditation.levels)
        return CheckResult(
            name,
            Outcome.FAILED,
            f"{who} is accredited for {scheme} levels {levels}, not level {level}",
            problems.NOT_ACCREDITED,
        )
    # A withdrawal after issuance ends recognition whatever the body's standing was then: the final reason.
    withdrawn = accreditation.withdrawn_after(issued_at)
    if withdrawn is not None:
        return CheckResult(
            name,
            Outcome.FAILED,
            f"{who}'s accreditation was withdrawn on {_fmt(withdrawn)}: the certificates it issued before "
            "are no longer recognised",
            problems.ACCREDITATION_WITHDRAWN,
        )
    refused = _not_accredited_then(accreditation, issued_at, who)
    if refused is not None:
        detail, problem = refused
        return CheckResult(name, Outcome.FAILED, detail, problem)
    at = _fmt(issued_at)
    current = accreditation.status
    passed = f"{who} is accredited by {owner} for level {level} of {scheme} ({version})"
    if current == "suspended":
        since = accreditation.history[-1].since
        return CheckResult(
            name,
            Outcome.WARNING,
            f"{who}'s accreditation is suspended since {_fmt(since)}; it issued this before ({at}), which "
            "stays recognised, but it issues no new certificates",
            problems.ACCREDITATION_SUSPENDED,
        )
    if accreditation.valid_until is not None and clamped_sub(now, skew) > accreditation.valid_until:
        return CheckResult(
            name,
            Outcome.WARNING,
            f"{who} was accredited when it issued this; its accreditation period ended on "
            f"{_fmt(accreditation.valid_until)}",
            problems.NOT_ACCREDITED,
        )
    return CheckResult(name, Outcome.PASSED, passed)


def _not_accredited_then(
    accreditation: Accreditation, issued_at: datetime, who: str
) -> tuple[str, str] | None:
    """Why `who` was not accredited (active, within the period) at `issued_at`, with the problem type; None if
    it was.

    The signed history decides: the status in force then must be `active`. The period bounds it: nothing
    counts from `validUntil` on, nor before `validFrom` — except where `validFrom` is the very moment a
    suspension imposed after the issue time was lifted (`_start_moved_by_lift`: earlier registries moved the
    start there), when the history, not the period, says the body was active then. Before the history's first
    entry only the period speaks (a start the owner set earlier than the first decision).
    """
    at = _fmt(issued_at)
    start, until = accreditation.valid_from, accreditation.valid_until
    period = (
        f"{who} was not accredited when it issued this ({at}): its accreditation runs from {_fmt(start)}"
        + (f" until {_fmt(until)}" if until else ""),
        problems.NOT_ACCREDITED,
    )
    if until is not None and issued_at >= until:
        return period
    then = accreditation.status_at(issued_at)
    if then is None:
        return period if issued_at < start else None
    if then != "active":
        since = accreditation.since(issued_at) or issued_at
        problem = (
            problems.ACCREDITATION_SUSPENDED if then == "suspended" else problems.ACCREDITATION_WITHDRAWN
        )
        return f"{who}'s accreditation was {then} since {_fmt(since)} when it issued this ({at})", problem
    if issued_at < start and not _start_moved_by_lift(accreditation, issued_at):
        return period
    return None


def _start_moved_by_lift(accreditation: Accreditation, issued_at: datetime) -> bool:
    """Whether `validFrom` is the moment a suspension imposed after `issued_at` was lifted: registries before
    2026-11-26 moved the start there when lifting one (the history still shows the body active at issuance).
    A start an operator set on purpose (`--from`) is any other moment, and then the period decides."""
    history = accreditation.history
    return any(
        before.status == "suspended"
        and after.status == "active"
        and issued_at < before.since
        and after.since == accreditation.valid_from
        for before, after in itertools.pairwise(history)
    )


def _scheme_and_level(payload: dict[str, Any]) -> tuple[str | None, str | None]:
    subject = payload.get("credentialSubject")
    if not isinstance(subject, dict):
        return None, None
    achievement = subject.get("achievement")
    certification = subject.get("certification")
    achievement_id = achievement.get("id") if isinstance(achievement, dict) else None
    level = certification.get("level") if isinstance(certification, dict) else None
    if not isinstance(achievement_id, str) or not isinstance(level, str):
        return None, None
    match = _ACHIEVEMENT.fullmatch(achievement_id)
    if match is None or match["level"] != level:
        return None, None
    return match["scheme"], level


def describe_age(delta: timedelta) -> str:
    seconds = max(0, int(delta.total_seconds()))
    if seconds < 3600:
        return f"{seconds // 60} min"
    if seconds < 86400 * 2:
        return f"{seconds // 3600} h"
    return f"{seconds // 86400} days"


def _fmt(moment: datetime) -> str:
    return format_date_time_stamp(in_utc(moment).replace(microsecond=0))
