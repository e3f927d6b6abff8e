"""Factories for issuer tests: the example scheme, decisions, keys and issuing desks (the clock is shared).

A conftest cannot be imported under --import-mode=importlib, so helpers are fixtures returning factories.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from importlib import resources
from typing import TYPE_CHECKING, Any

import pytest

from issuer import Issuer, IssuerIdentity, Scheme, StatusSlot, load_scheme
from keys import PublishedKey, SigningKey

if TYPE_CHECKING:
    from conftest import FixedClock  # tests/conftest.py

REGISTRY = "https://registry.example"
CB_DID = "did:web:cb.example"
REVOCATION_URL = f"{REGISTRY}/status/1"
SUSPENSION_URL = f"{REGISTRY}/status/2"


@pytest.fixture(scope="session")
def scheme() -> Scheme:
    return load_scheme()


@pytest.fixture(scope="session")
def sample_decision() -> dict[str, Any]:
    text = resources.files("issuer").joinpath("data/sample-decision.json").read_text("utf-8")
    data: dict[str, Any] = json.loads(text)
    return data


@pytest.fixture
def make_decision(sample_decision: dict[str, Any]) -> Callable[..., dict[str, Any]]:
    """The sample decision with members replaced; `subject=` replaces members of the subject."""

    def make(
        *, subject: dict[str, Any] | None = None, drop: tuple[str, ...] = (), **members: Any
    ) -> dict[str, Any]:
        decision = copy.deepcopy(sample_decision)
        decision["subject"].update(subject or {})
        decision.update(members)
        for name in drop:
            if name.startswith("subject."):
                del decision["subject"][name.removeprefix("subject.")]
            else:
                del decision[name]
        return decision

    return make


@pytest.fixture(scope="session")
def identity() -> IssuerIdentity:
    return IssuerIdentity(CB_DID, "Example Certification Body", "例示認証機関")


@pytest.fixture(scope="session", params=["EdDSA", "ES256"])
def any_key(request: pytest.FixtureRequest) -> SigningKey:
    return SigningKey.generate(request.param)


@pytest.fixture(scope="session")
def ed_key() -> SigningKey:
    return SigningKey.generate("EdDSA")


@pytest.fixture
def slots() -> dict[str, StatusSlot]:
    return {"revocation": StatusSlot(REVOCATION_URL, 48213), "suspension": StatusSlot(SUSPENSION_URL, 1234)}


@pytest.fixture
def make_issuer(
    identity: IssuerIdentity, scheme: Scheme, ed_key: SigningKey, fixed_clock: FixedClock
) -> Callable[..., Issuer]:
    def make(
        *,
        key: SigningKey | None = None,
        published: list[PublishedKey] | None = None,
        **options: Any,
    ) -> Issuer:
        key = key or ed_key
        arguments: dict[str, Any] = {
            "identity": identity,
            "signing_key": key,
            "published_keys": published if published is not None else [PublishedKey(key.public_key)],
            "scheme": scheme,
            "registry_url": REGISTRY,
            "clock": fixed_clock,
        }
        arguments.update(options)
        return Issuer(**arguments)

    return make
