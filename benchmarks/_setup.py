"""A realistic issuer, certificate and trust store for the benchmarks, built through the public APIs."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from importlib import resources

from issuer import Issuer, IssuerIdentity, StatusSlot, load_scheme, parse_decision
from issuer._decision import CertificationDecision
from keys import Algorithm, PublishedKey, SigningKey
from verifier import Bitstring, TrustStore

REGISTRY = "https://registry.aigov.example"
NOW = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)


@dataclass
class Setup:
    key: SigningKey
    issuer: Issuer
    decision: CertificationDecision
    revocation: StatusSlot
    suspension: StatusSlot
    token: str
    trust: TrustStore
    did: str
    published: list[PublishedKey]
    status_tokens: list[str]  # the two signed status lists the trust store holds, as served


def sample_decision() -> CertificationDecision:
    text = resources.files("issuer").joinpath("data/sample-decision.json").read_text("utf-8")
    return parse_decision(json.loads(text))


def make_setup(alg: Algorithm = Algorithm.EDDSA, *, self_check: bool = True) -> Setup:
    key = SigningKey.generate(alg)
    published = [PublishedKey(key.public_key)]
    identity = IssuerIdentity("did:web:cb.aigov.example", "Example Certification Body")
    issuer = Issuer(
        identity=identity,
        signing_key=key,
        published_keys=published,
        scheme=load_scheme(),
        registry_url=REGISTRY,
        clock=lambda: NOW,
        self_check=self_check,
    )
    revocation = StatusSlot(f"{REGISTRY}/status/1", 48213)
    suspension = StatusSlot(f"{REGISTRY}/status/2", 1207)
    decision = sample_decision()
    token = issuer.issue(decision, revocation=revocation, suspension=suspension).token
    trust = TrustStore()
    trust.add_issuer(identity.did, published, name=identity.name_en)
    status_tokens = []
    for slot, purpose in ((revocation, "revocation"), (suspension, "suspension")):
        bits = Bitstring(1_048_576)
        for index in range(7, 1_048_576, 997):  # a list with some entries set, like a live one
            bits.set(index, True)
        bits.set(slot.index, False)
        status_tokens.append(
            issuer.sign_status_list(
                list_url=slot.list_url, purpose=purpose, bits=bits, ttl=timedelta(minutes=5)
            )
        )
        trust.add_status_list(status_tokens[-1])
    return Setup(
        key, issuer, decision, revocation, suspension, token, trust, identity.did, published, status_tokens
    )


__all__ = ["NOW", "REGISTRY", "Setup", "make_setup", "sample_decision", "timedelta"]
