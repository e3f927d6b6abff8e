"""Status list allocation: random indices, collisions, crowded lists, and a new list when one fills."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import pytest
import sqlalchemy as sa
from sqlmodel import col, select

from issuer import CertificationDecision
from registry import lifecycle
from registry.models import Credential, StatusList
from registry.statuslists import random_indices
from verifier import TrustStore

if TYPE_CHECKING:
    from conftest import Registry


def scripted(values: list[int]) -> Any:
    """A `draw` that returns `values` in turn, then repeats the last one."""
    it: Iterator[int] = iter(values)
    last = values[-1]

    def draw(size: int, count: int) -> list[int]:
        nonlocal last
        drawn = []
        for _ in range(count):
            last = next(it, last)
            assert 0 <= last < size
            drawn.append(last)
        return drawn

    return draw


def issue(registry: Registry, draw: Any = None) -> Credential:
    ctx = registry.context(draw=draw) if draw else registry.context()
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
    draw = scripted([7, 7, 7, 9, 7, 11])
    first, second = issue(registry, draw), issue(registry, draw)

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


def test_random_indices_are_in_range_and_spread_over_it() -> None:
    drawn = random_indices(10, 20_000)

    assert len(drawn) == 20_000
    assert set(drawn) == set(range(10))
    # Each value ≈ 2,000 times; 5 standard deviations (≈ 212) either side.
    assert all(1_788 < drawn.count(value) < 2_212 for value in range(10))
    assert random_indices(131_072, 0) == []
    assert random_indices(1, 3) == [0, 0, 0]
    for size in (0, -3, 2**64 + 1):  # nothing to draw from, or no 64-bit word could be kept
        with pytest.raises(ValueError, match="cannot draw an index below"):
            random_indices(size, 1)


def test_random_indices_discard_the_words_that_would_favour_low_indices(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """With size 3, 2**64 % 3 == 1: the top word would make index 0 likelier; it is discarded and drawn again."""
    words = iter([2**64 - 1, 2**64 - 1, 5, 7])
    monkeypatch.setattr(
        "registry.statuslists.secrets.token_bytes",
        lambda n: b"".join(next(words).to_bytes(8, "little") for _ in range(n // 8)),
    )

    assert random_indices(3, 2) == [5 % 3, 7 % 3]
