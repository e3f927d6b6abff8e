"""Factories for verifier tests: issuers with real keys, credentials, hand-assembled (hostile) tokens, trust.

Tests reach everything through the session-scoped `world` fixture (a conftest cannot be imported under
--import-mode=importlib). `world` is read-only; each test that changes trust builds its own with
`world.trust()`. Every time is fixed: credentials are issued at `world.issued`, verified at `world.now`.

The main certification body (`world.cb`, did:web:cb.example) has an Ed25519 key that signs everything the
`Issuer` signs, and a second, P-256 key (`world.cb_p256`) for ES256 tokens. `world.other` is a second
trusted issuer; `world.stranger` is a key nobody pinned.
"""

from __future__ import annotations

import contextlib
import copy
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from importlib import resources
from typing import Any

import pytest

import issuer
import verifier
from keys import PublishedKey, SigningKey, b64url_encode, verification_method_id
from verifier import CheckResult, Outcome, TrustStore, Verdict, VerificationResult

ISSUED = datetime(2026, 11, 1, tzinfo=UTC)  # the issuer's clock: validFrom and iat of every credential
NOW = datetime(2026, 11, 15, 12, 0, tzinfo=UTC)  # when tests verify, unless they say otherwise
REGISTRY = "https://registry.example"
CB_DID = "did:web:cb.example"
OTHER_DID = "did:web:other-cb.example"
REVOCATION_URL = f"{REGISTRY}/status/1"
SUSPENSION_URL = f"{REGISTRY}/status/2"
OTHER_STATUS_URL = "https://other-cb.example/status/1"
CREDENTIAL_ID = f"{REGISTRY}/credentials/0f7c1c8e-3d5a-4a39-9d7e-0c1d2e3f4a5b"
REVOCATION_INDEX = 48213  # the default credential's slots: not set in the default snapshots
SUSPENSION_INDEX = 1234
REVOKED_INDEX = 4242  # set in the default revocation snapshot
SUSPENDED_INDEX = 777  # set in the default suspension snapshot
LIST_SIZE = verifier.MIN_ENTRIES

DROP: Any = object()  # an override value that removes the member


def apply(target: dict[str, Any], overrides: Mapping[str, Any]) -> dict[str, Any]:
    """Set (or, with DROP, remove) members of `target`; keys with dots reach into nested objects."""
    for path, value in overrides.items():
        *parents, last = path.split(".")
        node = target
        for part in parents:
            node = node[int(part)] if isinstance(node, list) else node[part]
        if value is DROP:
            del node[last]
        elif isinstance(node, list):
            node[int(last)] = value
        else:
            node[last] = value
    return target


def compact_json(value: object) -> bytes:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


@dataclass(frozen=True)
class Party:
    """An issuer as the tests know it: its DID, signing key, `kid` (absolute DID URL) and `Issuer`."""

    did: str
    name: str
    key: SigningKey
    kid: str
    published: tuple[PublishedKey, ...]
    desk: issuer.Issuer


class World:
    """Everything a verifier test builds its inputs from. See the module docstring."""

    DROP = DROP
    issued = ISSUED
    now = NOW
    registry = REGISTRY
    credential_id = CREDENTIAL_ID
    revocation_url = REVOCATION_URL
    suspension_url = SUSPENSION_URL
    other_status_url = OTHER_STATUS_URL
    revoked_index = REVOKED_INDEX
    suspended_index = SUSPENDED_INDEX
    list_size = LIST_SIZE

    def __init__(self) -> None:
        self.scheme = issuer.load_scheme()
        text = resources.files("issuer").joinpath("data/sample-decision.json").read_text("utf-8")
        self.decision = issuer.parse_decision(json.loads(text))
        self.cb_p256 = SigningKey.generate("ES256")
        self.cb_p256_kid = verification_method_id(CB_DID, self.cb_p256.kid)
        self.cb = self._party(
            CB_DID, "Example Certification Body", SigningKey.generate(), extra=[self.cb_p256]
        )
        self.other = self._party(OTHER_DID, "Other Certification Body", SigningKey.generate())
        self.stranger = SigningKey.generate()
        self.status_tokens = {
            REVOCATION_URL: self.status_list(REVOCATION_URL, "revocation", set_bits=[REVOKED_INDEX]),
            SUSPENSION_URL: self.status_list(SUSPENSION_URL, "suspension", set_bits=[SUSPENDED_INDEX]),
            OTHER_STATUS_URL: self.status_list(OTHER_STATUS_URL, "revocation", party=self.other),
        }
        self.valid_token = self.token()

    @staticmethod
    def _party(did: str, name: str, key: SigningKey, extra: Iterable[SigningKey] = ()) -> Party:
        published = (PublishedKey(key.public_key), *(PublishedKey(k.public_key) for k in extra))
        desk = issuer.Issuer(
            identity=issuer.IssuerIdentity(did, name),
            signing_key=key,
            published_keys=list(published),
            scheme=issuer.load_scheme(),
            registry_url=REGISTRY,
            clock=lambda: ISSUED,
            self_check=True,
        )
        return Party(did, name, key, verification_method_id(did, key.kid), published, desk)

    # -- credentials ---------------------------------------------------------------------------------------
    def credential(self, **overrides: Any) -> dict[str, Any]:
        """The AI-governance certificate of the sample decision, issued by `cb`, with `overrides` applied."""
        built = issuer.build_credential(
            self.decision,
            issuer=self.cb.desk.identity,
            scheme=self.scheme,
            registry_url=REGISTRY,
            credential_id=CREDENTIAL_ID,
            revocation=issuer.StatusSlot(REVOCATION_URL, REVOCATION_INDEX),
            suspension=issuer.StatusSlot(SUSPENSION_URL, SUSPENSION_INDEX),
            now=ISSUED,
        )
        return apply(built, overrides)

    def generic_credential(self, **overrides: Any) -> dict[str, Any]:
        """A plain VC 2.0 credential from `other`: no Open Badges context, no aigov type, no status."""
        credential: dict[str, Any] = {
            "@context": [verifier.VC2_CONTEXT, "https://www.w3.org/ns/credentials/examples/v2"],
            "id": "urn:uuid:58172aac-d8ba-11ed-83dd-0b3aef56cc33",
            "type": ["VerifiableCredential", "ExampleAlumniCredential"],
            "issuer": OTHER_DID,
            "validFrom": "2026-11-01T00:00:00Z",
            "validUntil": "2027-11-01T00:00:00Z",
            "credentialSubject": {
                "id": "did:example:ebfeb1f712ebc6f1c276e12ec21",
                "alumniOf": {"name": "Example University"},
            },
        }
        return apply(credential, overrides)

    def claims(
        self, credential: Mapping[str, Any], *, signed_at: datetime | None = ISSUED, **overrides: Any
    ) -> dict[str, Any]:
        """The JWT claims set of `credential` as issuer.sign_credential writes it (`iat` from `signed_at`),
        with `overrides` applied."""
        claims = copy.deepcopy(dict(credential))
        credential_issuer = credential.get("issuer")
        if isinstance(credential_issuer, str):
            claims["iss"] = credential_issuer
        elif isinstance(credential_issuer, dict) and "id" in credential_issuer:
            claims["iss"] = credential_issuer["id"]
        if "id" in credential:
            claims["jti"] = credential["id"]
        subject = credential.get("credentialSubject")
        if isinstance(subject, dict) and "id" in subject:
            claims["sub"] = subject["id"]
        if signed_at is not None:
            claims["iat"] = int(signed_at.timestamp())
        for member, claim in (("validFrom", "nbf"), ("validUntil", "exp")):
            with contextlib.suppress(KeyError, ValueError):  # a hostile or missing date: no claim
                claims[claim] = int(verifier.parse_date_time_stamp(credential[member]).timestamp())
        return apply(claims, overrides)

    # -- tokens --------------------------------------------------------------------------------------------
    def sign(
        self,
        payload: Mapping[str, Any] | None = None,
        *,
        key: SigningKey | None = None,
        kid: str | None = None,
        header_overrides: Mapping[str, Any] | None = None,
        raw_header: bytes | None = None,
        raw_payload: bytes | None = None,
    ) -> str:
        """A compact JWS assembled by hand: any header or payload bytes, signed by `key` (default: cb's)."""
        key = key or self.cb.key
        header: dict[str, Any] = {
            "alg": key.alg.value,
            "kid": kid or verification_method_id(CB_DID, key.kid),
            "typ": "vc+jwt",
            "cty": "vc",
        }
        apply(header, header_overrides or {})
        header_bytes = compact_json(header) if raw_header is None else raw_header
        if raw_payload is None:
            assert payload is not None, "give a payload or raw_payload"
            raw_payload = compact_json(payload)
        signing_input = b64url_encode(header_bytes) + "." + b64url_encode(raw_payload)
        return signing_input + "." + b64url_encode(key.sign(signing_input.encode("ascii")))

    def token(
        self,
        credential: Mapping[str, Any] | None = None,
        *,
        key: SigningKey | None = None,
        kid: str | None = None,
        signed_at: datetime | None = ISSUED,
        header_overrides: Mapping[str, Any] | None = None,
        **claim_overrides: Any,
    ) -> str:
        """`credential` (default: the certificate) with its JWT claims, signed by hand."""
        claims = self.claims(credential or self.credential(), signed_at=signed_at, **claim_overrides)
        return self.sign(claims, key=key, kid=kid, header_overrides=header_overrides)

    def status_list(
        self,
        url: str,
        purpose: str,
        *,
        set_bits: Iterable[int] = (),
        party: Party | None = None,
        at: datetime = ISSUED,
        valid_for: timedelta | None = None,
    ) -> str:
        """A BitstringStatusListCredential signed by `party` (default: cb) at `at`."""
        party = party or self.cb
        bits = verifier.Bitstring(LIST_SIZE)
        for index in set_bits:
            bits.set(index, True)
        desk = party.desk
        if at != ISSUED:
            desk = issuer.Issuer(
                identity=desk.identity,
                signing_key=party.key,
                published_keys=list(party.published),
                scheme=self.scheme,
                registry_url=REGISTRY,
                clock=lambda: at,
                self_check=False,
            )
        return desk.sign_status_list(
            list_url=url, purpose=purpose, bits=bits, ttl=timedelta(minutes=5), valid_for=valid_for
        )

    # -- trust ---------------------------------------------------------------------------------------------
    def trust(
        self,
        *,
        issuers: Iterable[Party] | None = None,
        snapshots: Iterable[str] | None = None,
        cb_keys: Iterable[PublishedKey] | None = None,
    ) -> TrustStore:
        """A fresh store: `issuers` pinned (default cb and other), then the default `snapshots` by URL."""
        store = TrustStore()
        for party in (self.cb, self.other) if issuers is None else issuers:
            keys = party.published if party is not self.cb or cb_keys is None else cb_keys
            store.add_issuer(party.did, keys, name=party.name)
        for url in self.status_tokens if snapshots is None else snapshots:
            store.add_status_list(self.status_tokens[url])
        return store

    # -- running and asserting -----------------------------------------------------------------------------
    def verify(
        self, token: str | bytes, trust: TrustStore | None = None, *, now: datetime = NOW, **kwargs: Any
    ) -> VerificationResult:
        """Verify, and check on the way that the result always serialises and renders."""
        result = verifier.verify(token, trust or self.default_trust, now=now, **kwargs)
        json.dumps(result.to_dict())
        result.render_text()
        return result

    @property
    def default_trust(self) -> TrustStore:
        store: TrustStore | None = getattr(self, "_default_trust", None)
        if store is None:
            store = self._default_trust = self.trust()
        return store

    @staticmethod
    def expect(
        result: VerificationResult,
        name: str,
        outcome: Outcome,
        problem: str | None = None,
        phrase: str = "",
        *,
        verdict: Verdict | None = None,
    ) -> CheckResult:
        """Assert the check `name`: outcome, problem URI, a phrase of its detail, and the verdict it implies."""
        check = next((c for c in result.checks if c.name == name), None)
        assert check is not None, f"no check {name!r} in\n{result.render_text()}"
        assert (check.outcome, check.problem) == (outcome, problem), result.render_text()
        assert phrase in check.detail, f"{phrase!r} not in {check.detail!r}"
        if verdict is None:
            verdict = {
                Outcome.FAILED: Verdict.INVALID,
                Outcome.INDETERMINATE: Verdict.INDETERMINATE,
            }.get(outcome)
        if verdict is not None:
            assert result.verdict is verdict, result.render_text()
        return check

    @staticmethod
    def skipped_after(result: VerificationResult, name: str) -> list[str]:
        """The checks after `name`; asserts each is `skipped`, naming `name` as the reason."""
        names = [c.name for c in result.checks]
        later = result.checks[names.index(name) + 1 :]
        assert later, result.render_text()
        for check in later:
            assert check.outcome is Outcome.SKIPPED, result.render_text()
            assert name in check.detail
        return [c.name for c in later]


@pytest.fixture(scope="session")
def world() -> World:
    return World()


@pytest.fixture
def make_credential(world: World) -> Any:
    """`make_credential(**overrides)`: the certificate dict (dotted keys reach nested members, DROP removes)."""
    return world.credential


@pytest.fixture
def sign(world: World) -> Any:
    """`sign(payload, *, key, kid, header_overrides=None, raw_header=None, raw_payload=None)` -> token."""
    return world.sign
