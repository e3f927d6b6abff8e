"""The certification body's issuing desk: decision in, signed and self-verified certificate out.

The self-check re-verifies every signature with the body's published key and validates the credential against
the verifier's profile (`validate_certificate`): what a verifier would refuse for a reason of the
issuer's own making (a faulty signature, a key that is not the published one, a profile violation) is never
returned, except by `sign_many` as `SignedBatch.unverified`, which its caller holds back until
`SignedBatch.verified()` has returned (the registry stores a batch in its open transaction meanwhile). It skips what cannot fail for output the issuer has just built: parsing the token back, the claims
it derived from the credential, and the issuer's trust and key state, checked once when the Issuer is built.
"""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from pydantic import ValidationError

from issuer._build import IssuerIdentity, StatusSlot, build_credential, build_status_list_credential
from issuer._decision import CertificationDecision
from issuer._errors import DecisionError, SelfCheckError
from issuer._scheme import Scheme
from issuer._signing import sign_credential
from keys import KeyStateError, PublicKey, PublishedKey, SigningKey, b64url_decode, verification_method_id
from verifier import Bitstring, describe_validation_error, validate_certificate

Clock = Callable[[], datetime]
# libsodium (called through cffi) releases the GIL while it verifies (and keys signs Ed25519 with it):
# `sign_many` verifies a batch's signatures on these threads while its caller goes on (the registry stores them).
_CHECKERS = ThreadPoolExecutor(max_workers=2, thread_name_prefix="aigov-self-check")
# Signatures per checker task: a task per signature would wake a thread per signature (when the checks ran beside
# the signing, chunks of 16 took 250-259 ms per 1,000 signed and checked, one by one 285-295 ms).
_CHECK_CHUNK = 16


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class IssuedCredential:
    """A signed certificate: the `vc+jwt` token and the credential it carries."""

    token: str
    credential: dict[str, Any]

    @property
    def id(self) -> str:
        return str(self.credential["id"])


@dataclass(frozen=True, slots=True)
class IssueRequest:
    """One certificate for `Issuer.issue_many`: the arguments of `Issuer.issue`."""

    decision: CertificationDecision
    revocation: StatusSlot
    suspension: StatusSlot
    credential_id: str | None = None


@dataclass(frozen=True, slots=True)
class SignedBatch:
    """Credentials signed and checked against the profile, whose signatures are still being checked."""

    unverified: list[IssuedCredential]
    _checks: list[Future[int | None]]

    def verified(self) -> list[IssuedCredential]:
        """The credentials once every signature check has passed; SelfCheckError naming the first that did not."""
        failed = [n for n in (check.result() for check in self._checks) if n is not None]
        if failed:
            raise _bad_signature(failed[0])
        return self.unverified


class Issuer:
    """Signs certificates and status lists for one certification body with its active key.

    `published_keys` are the body's keys as verifiers see them; the issuer checks its own output against them
    (`self_check`) so that nothing it returns fails verification for a reason of its own making (`sign_many`:
    nothing that `SignedBatch.verified()` returns).
    """

    def __init__(
        self,
        *,
        identity: IssuerIdentity,
        signing_key: SigningKey,
        published_keys: list[PublishedKey],
        scheme: Scheme,
        registry_url: str,
        clock: Clock = utc_now,
        self_check: bool = True,
    ) -> None:
        kids = [k.kid for k in published_keys]
        if len(set(kids)) != len(kids):
            duplicate = next(kid for kid in kids if kids.count(kid) > 1)
            raise KeyStateError(
                f"key {duplicate} is published twice: its state would be ambiguous", kid=duplicate
            )
        mine = next((k for k in published_keys if k.kid == signing_key.kid), None)
        if mine is None:
            raise KeyStateError(f"key {signing_key.kid} is not among the published keys", kid=signing_key.kid)
        if mine.expires is not None or mine.revoked is not None:
            raise KeyStateError(
                f"key {signing_key.kid} is retired or compromised: it signs nothing", kid=mine.kid
            )
        self.identity = identity
        self.scheme = scheme
        self.registry_url = registry_url.rstrip("/")
        self._key = signing_key
        self._kid = verification_method_id(identity.did, signing_key.kid)
        self._clock = clock
        # The published key the signatures are checked with: the body's key as verifiers see it.
        self._published: PublicKey | None = mine.public_key if self_check else None

    def issue(
        self,
        decision: CertificationDecision | dict[str, Any],
        *,
        revocation: StatusSlot,
        suspension: StatusSlot,
        credential_id: str | None = None,
    ) -> IssuedCredential:
        """Build, sign and self-verify the certificate for `decision`."""
        if not isinstance(decision, CertificationDecision):
            decision = parse_decision(decision)
        issued = self._sign(decision, revocation, suspension, credential_id)
        self._check_model(issued)
        self._check_signature(issued.token)
        return issued

    def issue_many(self, requests: Sequence[IssueRequest]) -> list[IssuedCredential]:
        """`issue` for each request, all or none: the same credentials, signed and self-checked alike.
        A DecisionError names the request by its position: `field` is `<position>.<field>`."""
        return self.sign_many(requests).verified()

    def sign_many(self, requests: Sequence[IssueRequest]) -> SignedBatch:
        """Build, sign and profile-check a credential for each request, and start checking their signatures on
        other threads, `_CHECK_CHUNK` at a time: `SignedBatch.verified()` waits for the checks.

        The caller may store the batch in an open transaction meanwhile (the registry does), and must commit or
        return nothing before `verified()` returns. The checks start after the last signature rather than
        during the signing: the checking threads' hand-offs of the GIL slowed each signature by a third, while
        the caller's database work overlaps them almost for free (a batch of 1,000 in the registry: 290 -> 250 ms,
        benchmarks/README.md, session 13).
        """
        issued: list[IssuedCredential] = []
        for position, request in enumerate(requests):
            try:
                one = self._sign(
                    request.decision, request.revocation, request.suspension, request.credential_id
                )
            except DecisionError as e:
                raise DecisionError(
                    str(e), field=f"{position}.{e.field}" if e.field else str(position)
                ) from e
            self._check_model(one)
            issued.append(one)
        key = self._published
        checks = (
            []
            if key is None
            else [
                _CHECKERS.submit(
                    _first_forged, key, [one.token for one in issued[start : start + _CHECK_CHUNK]], start
                )
                for start in range(0, len(issued), _CHECK_CHUNK)
            ]
        )
        return SignedBatch(issued, checks)

    def _sign(
        self,
        decision: CertificationDecision,
        revocation: StatusSlot,
        suspension: StatusSlot,
        credential_id: str | None,
    ) -> IssuedCredential:
        if decision.scheme != self.scheme.id:
            raise DecisionError(
                f"decision is for scheme {decision.scheme!r}, this issuer certifies {self.scheme.id!r}",
                field="scheme",
            )
        now = self._clock()
        credential = build_credential(
            decision,
            issuer=self.identity,
            scheme=self.scheme,
            registry_url=self.registry_url,
            credential_id=credential_id or f"{self.registry_url}/credentials/{uuid.uuid4()}",
            revocation=revocation,
            suspension=suspension,
            now=now,
        )
        return IssuedCredential(
            sign_credential(credential, key=self._key, kid=self._kid, now=now), credential
        )

    def sign_status_list(
        self,
        *,
        list_url: str,
        purpose: str,
        bits: Bitstring,
        ttl: timedelta,
        valid_for: timedelta | None = None,
        now: datetime | None = None,
    ) -> str:
        """A signed BitstringStatusListCredential for `bits`, valid from `now` (default: the clock's now)."""
        now = self._clock() if now is None else now
        credential = build_status_list_credential(
            list_url=list_url,
            purpose=purpose,
            encoded_list=bits.encode(),
            issuer=self.identity,
            now=now,
            ttl=ttl,
            valid_for=valid_for,
        )
        return sign_credential(credential, key=self._key, kid=self._kid, now=now)

    def _check_model(self, issued: IssuedCredential) -> None:
        """The credential against the verifier's profile (its data model and cross-field rules)."""
        if self._published is None:
            return
        try:
            validate_certificate(issued.credential)
        except ValidationError as e:
            raise SelfCheckError(
                f"the signed credential did not verify (profile: {describe_validation_error(e)}); withheld"
            ) from None

    def _check_signature(self, token: str) -> None:
        if self._published is not None and not _signature_holds(self._published, token):
            raise _bad_signature()


def _signature_holds(key: PublicKey, token: str) -> bool:
    """Whether the compact JWS `token` carries a valid signature by `key` of its own header and payload."""
    signing_input, _, signature = token.rpartition(".")
    return key.verify(b64url_decode(signature), signing_input.encode("ascii"))


def _first_forged(key: PublicKey, tokens: list[str], start: int) -> int | None:
    """The position of the first of `tokens` (numbered from `start`) whose signature does not hold, or None."""
    for offset, token in enumerate(tokens):
        if not _signature_holds(key, token):
            return start + offset
    return None


def _bad_signature(position: int | None = None) -> SelfCheckError:
    which = "the signed credential" if position is None else f"signed credential {position}"
    return SelfCheckError(
        f"{which} did not verify (signature: not a valid signature by the published key); withheld"
    )


def random_slot(list_url: str, size: int) -> StatusSlot:
    """A random index in a list of `size` entries (Bitstring Status List v1.0 §6.1: indices must not reveal order).

    Uniqueness within a list is the caller's job (the registry keeps an allocation table).
    """
    return StatusSlot(list_url, secrets.randbelow(size))


def parse_decision(data: object) -> CertificationDecision:
    """Validate a decision read from JSON, with a one-line explanation of what is wrong."""
    try:
        return CertificationDecision.model_validate(data)
    except ValidationError as e:
        first = e.errors(include_url=False)[0]
        raise DecisionError(
            describe_validation_error(e), field=".".join(str(p) for p in first["loc"]) or None
        ) from None
