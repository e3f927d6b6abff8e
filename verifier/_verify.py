"""Verification of a `vc+jwt` credential (VC-JOSE-COSE §3.1.1) against a TrustStore, explained step by step.

The steps run in the order of `CHECK_NAMES`. A step whose prerequisite failed is reported `skipped`, so a
forged signature is never "checked for revocation". Nothing here raises on a bad credential.
"""

from __future__ import annotations

import functools
import re
from datetime import UTC, datetime, timedelta
from typing import Any

from pydantic import ValidationError

from keys import Algorithm, PublishedKey
from verifier import problems
from verifier._clock import clamped_add, clamped_sub, in_utc
from verifier._jws import (
    CACHED_HEADER_BYTES,
    DEFAULT_MAX_TOKEN_BYTES,
    CompactJws,
    JwsError,
    parse_compact,
    parse_header,
)
from verifier._model import (
    AIGOV_TYPE,
    CertificationCredential,
    Credential,
    LegacyCredential,
    describe_validation_error,
    format_date_time_stamp,
    validate_certificate,
)
from verifier._result import CHECK_NAMES, CheckResult, Outcome, Verdict, VerificationResult
from verifier._statuslist import Bitstring, StatusListError, parse_index
from verifier._trust import StatusSnapshot, TrustedIssuer, TrustStore
from verifier._trustlist import check_listed_issuer, describe_age

DEFAULT_MAX_CLOCK_SKEW = timedelta(seconds=300)
# Status list credentials are larger than credentials (Bitstring Status List §5.1: 16,777,216 entries of random
# bits compress to ≈2 MB).
MAX_STATUS_LIST_TOKEN_BYTES = 4 * 1024 * 1024

_TYP = frozenset({"vc+jwt", "application/vc+jwt"})
_LEGACY_TYP = frozenset({"JWT", "jwt", "application/jwt"})
_CTY = frozenset({"vc", "application/vc"})
# RFC 7515 §4.1.2-§4.1.6: a token must never choose the key that verifies it.
_KEY_CARRYING_HEADERS = ("jku", "jwk", "x5u", "x5c")
_SYMMETRIC = ("HS256", "HS384", "HS512")
# "Ed25519" is the fully-specified name of EdDSA over Ed25519 (RFC 9864); we sign with "EdDSA" (VC-JOSE-COSE).
_ALLOWED_ALGS = {"EdDSA": Algorithm.EDDSA, "Ed25519": Algorithm.EDDSA, "ES256": Algorithm.ES256}
# DID Core §3.1 did-url syntax (method-specific-id chars, then an RFC 3986 fragment), ASCII only.
_DID_URL = re.compile(r"did:[a-z0-9]+(:[A-Za-z0-9._%-]*)*:[A-Za-z0-9._%-]+#[A-Za-z0-9._~!$&'()*+,;=:@/?%-]+")
_NUMERIC_DATES = ("iat", "nbf", "exp")
# Enum members and .value are looked up through EnumType, ≈ 0.2 µs each here: the happy path uses constants.
_PASSED = Outcome.PASSED
_VALID = Verdict.VALID
_SIGNATURE_VERIFIED = {alg: f"{alg.value} signature verified" for alg in Algorithm}
# CheckResult is a NamedTuple; tuple.__new__ builds one without the Python-level __new__ namedtuple adds,
# which matters for the dozen results of every verification.
_new_check = tuple.__new__
_STATUS_PURPOSE_PROBLEM = {"revocation": problems.REVOKED, "suspension": problems.SUSPENDED}


def verify(
    token: str | bytes,
    trust: TrustStore,
    *,
    now: datetime | None = None,
    max_clock_skew: timedelta = DEFAULT_MAX_CLOCK_SKEW,
    allow_legacy: bool = False,
    max_token_bytes: int = DEFAULT_MAX_TOKEN_BYTES,
) -> VerificationResult:
    """Verify a compact-JWS credential offline against `trust`, at `now` (default: the current time).

    `allow_legacy` also accepts VC 1.1 JWTs (`typ: JWT`, a `vc` claim), reported with a warning.
    """
    when = datetime.now(UTC) if now is None else now
    return _Run(trust, when, max_clock_skew, allow_legacy).credential(token, max_token_bytes)


def verify_status_list(token: str | bytes, trust: TrustStore) -> StatusSnapshot:
    """Verify a BitstringStatusListCredential (all but its validity window) and decode its list."""
    run = _Run(trust, None, DEFAULT_MAX_CLOCK_SKEW, allow_legacy=False)
    result, credential = run.status_list(token)
    if result.verdict is Verdict.INVALID or credential is None:
        # The URL a failed snapshot claims is kept only to explain the failure; the store never lets it
        # replace a snapshot that verified.
        return StatusSnapshot(url=_claimed_id(token), result=result)
    url = str(credential.id)
    subject = credential.credential_subject[0]
    return StatusSnapshot(
        url=url,
        result=result,
        issuer=credential.issuer_id,
        purpose=subject["statusPurpose"],
        bits=run.bits,
        valid_from=credential.valid_from,
        valid_until=credential.valid_until,
    )


def _claimed_id(token: str | bytes) -> str:
    try:
        claimed = parse_compact(token, max_bytes=MAX_STATUS_LIST_TOKEN_BYTES).payload.get("id")
    except JwsError:
        claimed = None
    return claimed if isinstance(claimed, str) else "(a status list that could not be read)"


class _Run:
    """One verification: the checks so far, and what earlier steps established for later ones."""

    def __init__(self, trust: TrustStore, now: datetime | None, skew: timedelta, allow_legacy: bool) -> None:
        self.trust = trust
        self.now = now
        self.skew = skew
        # The clock's tolerance, computed once: validity and each status snapshot compare against it.
        # Clamped at the calendar's ends: verifying as of year 9999 says "expired", never OverflowError.
        self.latest = None if now is None else clamped_add(now, skew)  # "not yet valid" only after this
        self.earliest = None if now is None else clamped_sub(now, skew)  # "expired" only before this
        self.allow_legacy = allow_legacy
        self.checks: list[CheckResult] = []
        self.issuer: TrustedIssuer | None = None
        self.key: PublishedKey | None = None
        self.signed_at: datetime | None = None
        self.bits: Bitstring | None = None
        self.times: dict[str, datetime | None] = {}  # the JWT's NumericDate claims, None where not a date

    # -- bookkeeping -------------------------------------------------------------------------------------------
    def passed(self, name: str, detail: str) -> None:
        self.checks.append(_new_check(CheckResult, (name, _PASSED, detail, None)))

    def add(self, name: str, outcome: Outcome, detail: str, problem: str | None = None) -> None:
        self.checks.append(_new_check(CheckResult, (name, outcome, detail, problem)))

    def stop(
        self, name: str, detail: str, problem: str, credential: dict[str, Any] | None = None
    ) -> VerificationResult:
        """Fail `name` and mark every later check skipped."""
        self.add(name, Outcome.FAILED, detail, problem)
        for later in CHECK_NAMES[CHECK_NAMES.index(name) + 1 :]:
            self.add(later, Outcome.SKIPPED, f"not checked: {name} failed")
        return self.result(credential)

    def result(self, credential: dict[str, Any] | None) -> VerificationResult:
        for check in self.checks:  # by identity: an Outcome's hash is a Python-level call
            if check[1] is not _PASSED:
                break
        else:
            return VerificationResult(
                _VALID, tuple(self.checks), _valid_summary(credential, self.issuer), credential
            )
        outcomes = {c[1] for c in self.checks}
        if Outcome.FAILED in outcomes:
            verdict = Verdict.INVALID
            first = next(c for c in self.checks if c.outcome is Outcome.FAILED)
            summary = f"do not rely on this credential: {first.detail}"
        elif Outcome.INDETERMINATE in outcomes:
            verdict = Verdict.INDETERMINATE
            first = next(c for c in self.checks if c.outcome is Outcome.INDETERMINATE)
            summary = f"cannot tell whether this credential is valid: {first.detail}"
        else:
            verdict = Verdict.VALID
            summary = _valid_summary(credential, self.issuer)
        return VerificationResult(verdict, tuple(self.checks), summary, credential)

    # -- the steps shared by credentials and status lists -------------------------------------------------------
    def authenticate(
        self, token: str | bytes, max_bytes: int
    ) -> tuple[CompactJws, bool] | VerificationResult:
        """parse, header, key and signature. Returns the token and whether it is a legacy JWT, or the result."""
        try:
            jws = parse_compact(token, max_bytes=max_bytes)
        except JwsError as e:
            return self.stop("parse", str(e), e.problem)
        self.passed("parse", f"compact JWS, {jws.size:,} bytes")

        header = jws.header
        typ = header.get("typ", "JWT")
        legacy = self.allow_legacy and isinstance(typ, str) and typ in _LEGACY_TYP and "vc" in jws.payload
        problem, detail = _header_verdict(jws, legacy, self.allow_legacy)
        if problem:
            return self.stop("header", problem, problems.CRYPTOGRAPHIC_SECURITY_ERROR)
        self.passed("header", detail)
        alg = _ALLOWED_ALGS[header["alg"]]
        kid: str = header["kid"]
        resolved = self.trust.resolve_key(kid)
        if resolved is None:
            did = kid.partition("#")[0]
            listed = self.trust.trust_list
            if self.trust.issuer(did) is None and listed is not None:
                return self.stop(
                    "key",
                    f"issuer {did} is not accredited by the scheme owner {listed.issuer}: it is not on "
                    f"trust list version {listed.version}",
                    problems.UNTRUSTED_ISSUER,
                )
            if self.trust.issuer(did) is None:
                return self.stop(
                    "key",
                    f"issuer {did} is not in the trust store: no key of it is pinned",
                    problems.UNTRUSTED_ISSUER,
                )
            return self.stop("key", f"key {kid} is not among the pinned keys of {did}", problems.UNKNOWN_KEY)
        issuer, key = resolved
        if key.public_key.alg is not alg:
            return self.stop(
                "key",
                f"header alg {alg.value} does not match the key's algorithm {key.public_key.alg.value}",
                problems.CRYPTOGRAPHIC_SECURITY_ERROR,
            )
        if not key.public_key.verify(jws.signature, jws.signing_input):
            self.passed("key", f"pinned key of {issuer.id}")
            return self.stop(
                "signature",
                "signature does not match: the token was altered after signing, or signed by another key",
                problems.CRYPTOGRAPHIC_SECURITY_ERROR,
            )
        # Only now is the payload authentic enough to say when it was signed.
        payload = jws.payload
        times: dict[str, datetime | None] = {}
        for claim in _NUMERIC_DATES:
            if claim in payload:
                times[claim] = _from_ts(payload[claim])
        self.times = times
        signed_at = self.times.get("iat") or self.times.get("nbf")
        unusable = _key_unusable(key, signed_at)
        if unusable:
            return self.stop("key", unusable, problems.KEY_NOT_USABLE)
        self.issuer, self.key, self.signed_at = issuer, key, signed_at
        self.passed("key", f"pinned key of {issuer.name or issuer.id}{_key_state(key)}")
        self.passed("signature", _SIGNATURE_VERIFIED[alg])
        return jws, legacy

    def claims(
        self,
        jws: CompactJws,
        issuer_id: str,
        credential_id: str | None,
        subject_ids: list[str],
        window: tuple[datetime | None, datetime | None] = (None, None),
    ) -> str | None:
        """VC-JOSE-COSE §3.1.2: JWT claims, when present, must agree with the credential."""
        payload = jws.payload
        kid_did = jws.header["kid"].partition("#")[0]
        if kid_did != issuer_id:
            return f"signed with a key of {kid_did}, but the credential names {issuer_id} as its issuer"
        if "iss" in payload and payload["iss"] != issuer_id:
            return f"'iss' is {_show(payload['iss'])} but the issuer is {issuer_id!r}"
        if "jti" in payload and payload["jti"] != credential_id:
            return f"'jti' is {_show(payload['jti'])} but the credential id is {credential_id!r}"
        if "sub" in payload and payload["sub"] not in subject_ids:
            return f"'sub' is {_show(payload['sub'])} but no credentialSubject has that id"
        times = self.times
        for claim, moment in times.items():
            if moment is None:
                return (
                    f"'{claim}' must be a NumericDate (seconds since the epoch), not {_show(payload[claim])}"
                )
        for claim, member, expected in (("nbf", "validFrom", window[0]), ("exp", "validUntil", window[1])):
            moment = times.get(claim)
            if (
                moment is not None
                and expected is not None
                and int(payload[claim]) != int(expected.timestamp())
            ):
                return f"'{claim}' ({_fmt(moment)}) contradicts {member} ({_fmt(expected)})"
        return None

    # -- credentials -------------------------------------------------------------------------------------------
    def credential(self, token: str | bytes, max_bytes: int) -> VerificationResult:
        authenticated = self.authenticate(token, max_bytes)
        if isinstance(authenticated, VerificationResult):
            return authenticated
        jws, legacy = authenticated
        if legacy:
            return self.legacy(jws)
        payload = jws.payload
        if "vc" in payload:
            return self.stop(
                "data_model",
                "a vc+jwt carries the credential itself as its claims; a 'vc' claim is the VC 1.1 JWT encoding",
                problems.MALFORMED_VALUE_ERROR,
                payload,
            )

        profile_error: str | None = None
        certificate: CertificationCredential | None = None
        is_profile = AIGOV_TYPE in _types(payload)
        try:
            if is_profile:
                certificate = validate_certificate(payload)
            else:
                model = Credential.model_validate(payload)
        except ValidationError as e:
            if not is_profile:
                return self.stop(
                    "data_model", describe_validation_error(e), problems.MALFORMED_VALUE_ERROR, payload
                )
            profile_error = describe_validation_error(e)
            try:  # Was it the profile or the data model that failed? Only the error path pays for asking.
                model = Credential.model_validate(payload)
            except ValidationError as generic:
                return self.stop(
                    "data_model", describe_validation_error(generic), problems.MALFORMED_VALUE_ERROR, payload
                )
        self.passed("data_model", "W3C Verifiable Credentials Data Model 2.0")

        credential_id: str | None
        window: tuple[datetime | None, datetime | None]
        if certificate is not None:
            subject_id = certificate["credentialSubject"].get("id")
            issuer_id, credential_id = certificate["issuer"]["id"], certificate["id"]
            subject_ids = [subject_id] if subject_id else []
            window = (
                datetime.fromisoformat(certificate["validFrom"]),
                datetime.fromisoformat(certificate["validUntil"]),
            )
        else:
            issuer_id, credential_id = model.issuer_id, model.id
            subject_ids = [s["id"] for s in model.credential_subject if "id" in s]
            window = (model.valid_from, model.valid_until)
        mismatch = self.claims(jws, issuer_id, credential_id, subject_ids, window)
        if mismatch:
            return self.stop("claims", mismatch, problems.CLAIM_MISMATCH, payload)
        self.passed("claims", "iss, jti, sub, iat, nbf and exp agree with the credential")

        if profile_error:
            return self.stop(
                "profile",
                f"not a valid AI governance certificate: {profile_error}",
                problems.PROFILE_VIOLATION,
                payload,
            )
        if is_profile:
            self.passed("profile", "AI governance certificate (aigov profile, Open Badges 3.0)")
        else:
            self.add("profile", Outcome.SKIPPED, "not applicable: not an AI governance certificate")

        self.validity(*window, payload)
        self.issuer_trust(payload)
        self.status(payload, issuer_id)
        return self.result(payload)

    def legacy(self, jws: CompactJws) -> VerificationResult:
        """A VC 1.1 JWT (VC DM 1.1 §6.3.1): the credential sits in `vc`, dates and ids in the JWT claims."""
        payload = jws.payload
        vc = payload["vc"]
        if not isinstance(vc, dict):
            return self.stop(
                "data_model", "the 'vc' claim must be a JSON object", problems.MALFORMED_VALUE_ERROR, payload
            )
        merged: dict[str, Any] = dict(vc)
        if "iss" in payload:
            merged.setdefault("issuer", payload["iss"])
        if "jti" in payload:
            merged.setdefault("id", payload["jti"])
        try:
            model = LegacyCredential.model_validate(merged)
        except ValidationError as e:
            return self.stop(
                "data_model", describe_validation_error(e), problems.MALFORMED_VALUE_ERROR, payload
            )
        self.add(
            "data_model",
            Outcome.WARNING,
            "legacy VC Data Model 1.1 JWT (accepted on request)",
            problems.LEGACY_FORMAT,
        )
        subject_ids = [s["id"] for s in model.credential_subject if "id" in s]
        mismatch = self.claims(jws, model.issuer_id, model.id, subject_ids)
        if mismatch:
            return self.stop("claims", mismatch, problems.CLAIM_MISMATCH, payload)
        self.passed("claims", "iss, jti, sub, iat, nbf and exp agree with the credential")
        self.add("profile", Outcome.SKIPPED, "not applicable: legacy credential")
        valid_from = self.times.get("nbf") or model.issuance_date
        valid_until = self.times.get("exp") or model.expiration_date
        self.validity(valid_from, valid_until, payload)
        self.issuer_trust(payload)
        self.add(
            "status", Outcome.SKIPPED, "not checked: status lists of VC 1.1 credentials are not supported"
        )
        return self.result(payload)

    def validity(
        self, valid_from: datetime | None, valid_until: datetime | None, payload: dict[str, Any]
    ) -> None:
        """The validity window against the injected clock, with bounded skew (VC DM 2.0 §4.9)."""
        latest, earliest = self.latest, self.earliest
        assert latest is not None  # noqa: S101 - status lists check their window when used
        assert earliest is not None  # noqa: S101
        valid_from = _later(valid_from, self.times.get("nbf"))
        valid_until = _earlier(valid_until, self.times.get("exp"))
        issued = self.times.get("iat")
        if valid_from is not None and latest < valid_from:
            self.add(
                "validity_period",
                Outcome.FAILED,
                f"not valid before {_fmt(valid_from)}",
                problems.NOT_YET_VALID,
            )
        elif valid_until is not None and earliest > valid_until:
            self.add("validity_period", Outcome.FAILED, f"expired on {_fmt(valid_until)}", problems.EXPIRED)
        elif issued is not None and issued > latest:
            detail = f"issued in the future: 'iat' is {_fmt(issued)}"
            self.add("validity_period", Outcome.FAILED, detail, problems.NOT_YET_VALID)
        else:
            window = f"valid from {_fmt(valid_from) if valid_from else '(unbounded)'}"
            window += f" until {_fmt(valid_until)}" if valid_until else ", no expiry"
            self.passed("validity_period", window)

    def issuer_trust(self, payload: dict[str, Any]) -> None:
        """Without a trust list: the issuer is pinned. With one: the whole chain (verifier._trustlist)."""
        assert self.issuer is not None  # noqa: S101 - set by authenticate()
        assert self.key is not None  # noqa: S101
        trust_list = self.trust.trust_list
        if trust_list is None:
            self.passed("issuer_trust", f"issuer {self.issuer.id} is pinned in the trust store")
            return
        assert self.now is not None  # noqa: S101
        issued_at = self.signed_at or self.times.get("nbf")
        self.checks.append(
            check_listed_issuer(
                trust_list,
                issuer_did=self.issuer.id,
                kid=f"{self.issuer.id}#{self.key.kid}",
                payload=payload,
                issued_at=issued_at,
                now=self.now,
                skew=self.skew,
            )
        )

    def status(self, payload: dict[str, Any], issuer_id: str) -> None:
        """Bitstring Status List v1.0 §3.2 for each entry, against the store's verified snapshots.

        Reads the raw entries: the model has already checked their shape, and dumping it again costs more.
        """
        entries = payload.get("credentialStatus") or []
        if not entries:
            self.add(
                "status",
                Outcome.WARNING,
                "the credential has no credentialStatus: revocation cannot be checked",
            )
            return
        append = self.checks.append
        for entry in entries if isinstance(entries, list) else [entries]:
            purpose = entry.get("statusPurpose")
            name = f"status.{purpose}" if isinstance(purpose, str) else "status"
            append(_new_check(CheckResult, (name, *self.status_entry(entry, issuer_id))))

    def status_entry(self, entry: dict[str, Any], issuer_id: str) -> tuple[Outcome, str, str | None]:
        if entry.get("type") != "BitstringStatusListEntry":
            return (
                Outcome.INDETERMINATE,
                f"unsupported status type {entry.get('type')!r}",
                problems.STATUS_RETRIEVAL_ERROR,
            )
        purpose, url = entry.get("statusPurpose"), entry.get("statusListCredential")
        if not isinstance(purpose, str) or not isinstance(url, str):
            return (
                Outcome.FAILED,
                "status entry lacks statusPurpose or statusListCredential",
                problems.MALFORMED_VALUE_ERROR,
            )
        snapshot = self.trust.status_snapshot(url)
        if snapshot is None:
            return (
                Outcome.INDETERMINATE,
                f"{purpose} status unknown: no snapshot of {url}",
                problems.STATUS_RETRIEVAL_ERROR,
            )
        if snapshot.bits is None:
            return (
                Outcome.INDETERMINATE,
                f"{purpose} status unknown: the snapshot of {url} did not verify: {snapshot.result.problems[0].detail}",
                problems.STATUS_VERIFICATION_ERROR,
            )
        if snapshot.issuer != issuer_id:
            return (
                Outcome.INDETERMINATE,
                f"{purpose} status unknown: {url} is signed by {snapshot.issuer}, not by the credential's issuer",
                problems.STATUS_VERIFICATION_ERROR,
            )
        if snapshot.purpose != purpose:
            return (
                Outcome.INDETERMINATE,
                f"{purpose} status unknown: {url} is a {snapshot.purpose} list",
                problems.STATUS_VERIFICATION_ERROR,
            )
        now, latest, earliest = self.now, self.latest, self.earliest
        assert now is not None  # noqa: S101
        assert latest is not None  # noqa: S101
        assert earliest is not None  # noqa: S101
        if snapshot.valid_until is not None and earliest > snapshot.valid_until:
            return (
                Outcome.INDETERMINATE,
                f"{purpose} status unknown: the snapshot of {url} expired on {_fmt(snapshot.valid_until)}",
                problems.STATUS_VERIFICATION_ERROR,
            )
        if snapshot.valid_from is not None and latest < snapshot.valid_from:
            return (
                Outcome.INDETERMINATE,
                f"{purpose} status unknown: the snapshot of {url} is not valid before {_fmt(snapshot.valid_from)}",
                problems.STATUS_VERIFICATION_ERROR,
            )
        stale = self.trust.snapshot_age_problem(url, now)
        if stale:
            return Outcome.INDETERMINATE, f"{purpose} status unknown: {stale[0]}", stale[1]
        bits = snapshot.bits
        try:
            index = parse_index(entry.get("statusListIndex"), size=len(bits))
        except StatusListError as e:
            return Outcome.FAILED, f"{purpose} status: {e}", e.problem
        taken = snapshot.valid_from
        age = f" (snapshot of {_fmt(taken)}, {describe_age(now - taken)} old)" if taken else ""
        flagged = _PAST.get(purpose) or f"flagged for {purpose}"
        if bits.get(index):
            problem = _STATUS_PURPOSE_PROBLEM.get(purpose, problems.STATUS_VERIFICATION_ERROR)
            return Outcome.FAILED, f"the credential is {flagged}{age}", problem
        return _PASSED, f"not {flagged}{age}", None

    # -- status list credentials -------------------------------------------------------------------------------
    def status_list(self, token: str | bytes) -> tuple[VerificationResult, Credential | None]:
        authenticated = self.authenticate(token, MAX_STATUS_LIST_TOKEN_BYTES)
        if isinstance(authenticated, VerificationResult):
            return authenticated, None
        jws, _ = authenticated
        try:
            model = Credential.model_validate(jws.payload)
            problem = _status_list_problem(model)
        except ValidationError as e:
            problem = describe_validation_error(e)
        if problem:
            return self.stop("data_model", problem, problems.MALFORMED_VALUE_ERROR, jws.payload), None
        self.passed("data_model", "BitstringStatusListCredential")
        subject_ids = [s["id"] for s in model.credential_subject if "id" in s]
        mismatch = self.claims(
            jws, model.issuer_id, model.id, subject_ids, (model.valid_from, model.valid_until)
        )
        if mismatch:
            return self.stop("claims", mismatch, problems.CLAIM_MISMATCH, jws.payload), model
        self.passed("claims", "JWT claims agree with the credential")
        try:
            self.bits = Bitstring.decode(model.credential_subject[0]["encodedList"])
        except StatusListError as e:
            return self.stop("profile", f"encodedList: {e}", e.problem, jws.payload), model
        self.passed("profile", f"bitstring of {len(self.bits):,} entries")
        for later in ("validity_period", "issuer_trust", "status"):
            self.add(later, Outcome.SKIPPED, "checked when the snapshot is used")
        return self.result(jws.payload), model


_PAST = {"revocation": "revoked", "suspension": "suspended"}


def _status_list_problem(model: Credential) -> str | None:
    """Bitstring Status List v1.0 §2.2: the shape of a BitstringStatusListCredential."""
    if "BitstringStatusListCredential" not in model.type:
        return "not a BitstringStatusListCredential"
    if model.id is None:
        return "a status list credential needs an 'id' (its URL)"
    if len(model.credential_subject) != 1:
        return "a status list credential has exactly one credentialSubject"
    subject = model.credential_subject[0]
    if subject.get("type") != "BitstringStatusList":
        return "credentialSubject.type must be 'BitstringStatusList'"
    if not isinstance(subject.get("statusPurpose"), str):
        return "credentialSubject.statusPurpose must be a string"
    if not isinstance(subject.get("encodedList"), str):
        return "credentialSubject.encodedList must be a string"
    return None


def _header_verdict(jws: CompactJws, legacy: bool, legacy_allowed: bool) -> tuple[str | None, str]:
    """The header check's (problem, detail); judged once per distinct header of a real header's size."""
    segment = jws.header_segment
    if len(segment) <= CACHED_HEADER_BYTES:
        return _cached_header_verdict(segment, legacy, legacy_allowed)
    return _judge_header(jws.header, legacy, legacy_allowed)


@functools.lru_cache(maxsize=256)
def _cached_header_verdict(segment: bytes, legacy: bool, legacy_allowed: bool) -> tuple[str | None, str]:
    """One issuer key signs many credentials with the same header bytes, and the verdict depends on nothing
    else."""
    return _judge_header(parse_header(segment), legacy, legacy_allowed)


def _judge_header(header: dict[str, Any], legacy: bool, legacy_allowed: bool) -> tuple[str | None, str]:
    problem = _header_problem(header, legacy, legacy_allowed)
    if problem:
        return problem, ""
    return None, f"{header['alg']}, typ {header.get('typ', 'JWT')}, kid {header['kid']}"


def _header_problem(header: dict[str, Any], legacy: bool, legacy_allowed: bool) -> str | None:
    """RFC 7515 §4.1 and VC-JOSE-COSE §3.1.1: what a header must and must not say."""
    alg = header.get("alg")
    if alg == "none":
        return "alg 'none' is refused: an unsigned token proves nothing"
    if alg in _SYMMETRIC:
        return f"alg {alg!r} is refused: a shared-secret MAC cannot show who issued a credential"
    if not isinstance(alg, str) or alg not in _ALLOWED_ALGS:
        return f"alg {_show(alg)} is not accepted; allowed: EdDSA (or Ed25519), ES256"
    carried = [h for h in _KEY_CARRYING_HEADERS if h in header]
    if carried:
        return (
            f"header carries {', '.join(carried)}: keys never come from the token, only from the trust store"
        )
    if "crit" in header:
        return f"header marks {_show(header['crit'])} as critical, which is not understood (RFC 7515 §4.1.11)"
    if "b64" in header:
        return "header 'b64' (RFC 7797 unencoded payload) is not supported"
    if "zip" in header:
        return "header 'zip' (compressed payload) is not allowed"
    typ = header.get("typ")
    if legacy:
        if typ is not None and typ not in _LEGACY_TYP:
            return f"typ {_show(typ)} is not a legacy JWT type"
    elif not isinstance(typ, str) or typ not in _TYP:
        if isinstance(typ, str) and typ in _LEGACY_TYP:
            hint = (
                " (a VC 1.1 JWT carries its credential in a 'vc' claim, and this payload has none)"
                if legacy_allowed
                else " (a VC 1.1 JWT? it is accepted only with the legacy option)"
            )
        else:
            hint = ""
        return f"typ must be 'vc+jwt', not {_show(typ)}{hint}"
    cty = header.get("cty", "vc")
    if not isinstance(cty, str) or cty not in _CTY:
        return f"cty must be 'vc', not {_show(cty)}"
    kid = header.get("kid")
    if not isinstance(kid, str) or len(kid) > 512 or _DID_URL.fullmatch(kid) is None:
        return f"kid must be an absolute DID URL (did:method:id#key), not {_show(kid)}"
    return None


def _show(value: object, limit: int = 80) -> str:
    """A value from a token, quoted for a message and cut short: a hostile token must not fill the report."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _key_unusable(key: PublishedKey, signed_at: datetime | None) -> str | None:
    if signed_at is None:
        if key.revoked or key.expires:
            return f"key {key.kid} is no longer in service and the token does not say when it was signed"
        return None
    if key.revoked is not None and signed_at >= key.revoked:
        return f"key {key.kid} was compromised on {_fmt(key.revoked)}; nothing it signed after that verifies"
    if key.expires is not None and signed_at >= key.expires:
        return f"key {key.kid} was retired on {_fmt(key.expires)}, before this token was signed ({_fmt(signed_at)})"
    return None


def _key_state(key: PublishedKey) -> str:
    if key.revoked:
        return f" (compromised on {_fmt(key.revoked)}; this was signed before)"
    if key.expires:
        return f" (retired on {_fmt(key.expires)}; this was signed while it was active)"
    return ""


def _types(payload: dict[str, Any]) -> list[Any]:
    value = payload.get("type")
    return value if isinstance(value, list) else [value]


def _from_ts(value: object) -> datetime | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):  # a tuple: faster than int | float
        return None
    try:
        return datetime.fromtimestamp(value, UTC)
    except (OverflowError, OSError, ValueError):
        return None


def _later(a: datetime | None, b: datetime | None) -> datetime | None:
    return max(a, b) if a and b else a or b


def _earlier(a: datetime | None, b: datetime | None) -> datetime | None:
    return min(a, b) if a and b else a or b


@functools.lru_cache(maxsize=4096)
def _fmt(moment: datetime) -> str:
    return format_date_time_stamp(in_utc(moment).replace(microsecond=0))


def _valid_summary(credential: dict[str, Any] | None, issuer: TrustedIssuer | None) -> str:
    subject = credential.get("credentialSubject") if credential else None
    who = ""
    if isinstance(subject, dict) and isinstance(subject.get("legalName"), dict):
        names = subject["legalName"]
        who = f" for {names.get('en') or names.get('ja')}"
    name = credential.get("name") if credential else None
    by = f", issued by {issuer.name or issuer.id}" if issuer else ""
    return f"{name if isinstance(name, str) else 'the credential'}{who} is valid{by}"
