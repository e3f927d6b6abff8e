"""Stored hostile vectors (tests/assets/hostile/tokens.json): refused at parse or header under any trust."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from verifier import Outcome, TrustStore, Verdict

VECTORS = json.loads(
    (Path(__file__).parent.parent / "assets" / "hostile" / "tokens.json").read_text(encoding="utf-8")
)["vectors"]


@pytest.mark.parametrize("vector", VECTORS, ids=lambda v: v["name"])
@pytest.mark.parametrize("trusting", [False, True], ids=["empty-store", "full-store"])
def test_hostile_vector(world: Any, vector: dict[str, str], trusting: bool) -> None:
    trust = world.default_trust if trusting else TrustStore()
    text = vector["token"]
    # The same ASCII as bytes must meet the same refusal (non-ASCII bytes are a base64url error instead).
    for token in (text, text.encode("ascii")) if text.isascii() else (text,):
        result = world.verify(token, trust)
        world.expect(result, vector["check"], Outcome.FAILED, vector["problem"], vector["detailContains"])
        assert result.verdict is Verdict.INVALID
        world.skipped_after(result, vector["check"])
