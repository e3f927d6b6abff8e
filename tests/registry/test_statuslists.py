"""Status list allocation: random indices, collisions, crowded lists, and a new list when one fills."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlmodel import col, select

from issuer import CertificationDecision
from registry import lifecycle
from registry.models import Credential, StatusList
from verifier import TrustStore

if TYPE_CHECKING:
    from conftest import Registry


def scripted(values: list[int]) -> Any:
    """A `randbelow` that returns `values` in turn, then repeats the last one."""
    it: Iterator[int] = iter(values)
    last = values[-1]

    def randbelow(n: int) -> int:
        nonlocal last
        last = next(it, last)
        assert 0 <= last < n
        return last

    return randbelow


def issue(registry: Registry, randbelow: Any = None) -> Credential:
    ctx = registry.context(randbelow=randbelow) if randbelow else registry.context()
    with registry.session() as session:
        result = lifecycle.issue(
            session=session,
            ctx=ctx,
            body=registry.acme,
            decision=CertificationDecision.model_validate(registry.decision()),
            actor="test",
        )
    return result.credentials[0]


def test_a_taken_index_is_drawn_again(registry: Registry) -> None:
    randbelow = scripted([7, 7, 7, 9, 7, 11])
    first, second = issue(registry, randbelow), issue(registry, randbelow)

    assert (first.revocation_index, first.suspension_index) == (7, 7)
    assert (second.revocation_index, second.suspension_index) == (9, 11)


def test_a_crowded_list_chooses_among_the_free_indices(registry: Registry) -> None:
    issue(registry, scripted([5]))
    # Every random probe now hits 5; the fallback picks free[5], which is index 6.
    second = issue(registry, scripted([5]))
    assert (second.revocation_index, second.suspension_index) == (6, 6)


def test_a_full_list_is_followed_by_a_new_one(registry: Registry) -> None:
    first = issue(registry)
    with registry.session() as session:
        session.exec(sa.update(StatusList).values(allocated=StatusList.size))  # type: ignore[call-overload]
        session.commit()

    second = issue(registry)

    assert second.revocation_list_id > first.suspension_list_id
    assert second.suspension_list_id > second.revocation_list_id
    with registry.session() as session:
        lists = session.exec(select(StatusList).order_by(col(StatusList.id))).all()
    assert [(lst.purpose, lst.allocated) for lst in lists] == [
        ("revocation", lists[0].size),
        ("suspension", lists[1].size),
        ("revocation", 1),
        ("suspension", 1),
    ]


def test_a_new_list_is_signed_at_once_and_empty(registry: Registry) -> None:
    credential = issue(registry)
    trust = TrustStore()
    trust.add_issuer(registry.acme.did, registry.keystore("acme-cb").published_keys())
    with registry.session() as session:
        lst = session.get(StatusList, credential.revocation_list_id)
        assert lst is not None
    snapshot = trust.add_status_list(lst.token)

    assert snapshot.bits is not None, snapshot.result
    assert snapshot.url == f"{registry.settings.public_url}/status/{lst.id}"
    assert (snapshot.purpose, len(snapshot.bits)) == ("revocation", registry.settings.status_list_size)
    assert not any(snapshot.bits.get(i) for i in range(0, len(snapshot.bits), 997))
    assert lst.etag.startswith('"')


def test_a_nearly_full_list_still_gives_distinct_free_indices(registry: Registry) -> None:
    """At 98 % (as the list's count says) each round draws dozens of candidates per index it needs."""
    first = issue(registry)
    with registry.session() as session:
        session.exec(sa.update(StatusList).values(allocated=StatusList.size * 98 // 100))  # type: ignore[call-overload]
        session.commit()
    with registry.session() as session:
        batch = lifecycle.issue_batch(
            session=session,
            ctx=registry.context(),
            body=registry.acme,
            decisions=[CertificationDecision.model_validate(registry.decision()) for _ in range(50)],
            actor="test",
        ).credentials
    for purpose in ("revocation_index", "suspension_index"):
        indices = [getattr(c, purpose) for c in [first, *batch]]
        assert len(set(indices)) == 51
    assert {c.revocation_list_id for c in batch} == {first.revocation_list_id}
