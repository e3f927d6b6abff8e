"""The certification body's issuing desk: decision in, signed and self-verified certificate out."""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from pydantic import ValidationError

from issuer._build import IssuerIdentity, StatusSlot, build_credential, build_status_list_credential
from issuer._decision import CertificationDecision
from issuer._errors import DecisionError, SelfCheckError
from issuer._scheme import Scheme
from issuer._signing import sign_credential
from keys import KeyStateError, PublishedKey, SigningKey, verification_method_id
from verifier import Bitstring, Outcome, TrustStore, describe_validation_error, parse_date_time_stamp, verify

Clock = Callable[[], datetime]


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


class Issuer:
    """Signs certificates and status lists for one certification body with its active key.

    `published_keys` are the body's keys as verifiers see them; the issuer checks its own output against them
    (`self_check`) so that nothing it returns fails verification for a reason of its own making.
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
        self._trust: TrustStore | None = None
        if self_check:
            self._trust = TrustStore()
            self._trust.add_issuer(identity.did, published_keys, name=identity.name_en)

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
        token = sign_credential(credential, key=self._key, kid=self._kid, now=now)
        # Checked as of when it takes effect: a certificate may be issued ahead of its validFrom.
        self._self_check(token, max(now, parse_date_time_stamp(credential["validFrom"])))
        return IssuedCredential(token, credential)

    def sign_status_list(
        self,
        *,
        list_url: str,
        purpose: str,
        bits: Bitstring,
        ttl: timedelta,
        valid_for: timedelta | None = None,
    ) -> str:
        """A signed BitstringStatusListCredential for `bits`."""
        now = self._clock()
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

    def _self_check(self, token: str, now: datetime) -> None:
        if self._trust is None:
            return
        result = verify(token, self._trust, now=now)
        failed = [c for c in result.checks if c.outcome is Outcome.FAILED]
        if failed:
            raise SelfCheckError(
                f"the signed credential did not verify ({failed[0].name}: {failed[0].detail}); withheld"
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
