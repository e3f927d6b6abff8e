"""Replay tests/assets/hostile/statuslists/statuslists.json: hostile BitstringStatusListCredentials.

Each vector is a recipe (signed at test time with the `world` keys) and two expectations: what
`verify_status_list` says of the list (`expect`: verdict, and the check that failed with its problem and a phrase
of its detail), and what `verify` then says of the default credential's revocation status when this list is
its only revocation snapshot (`effect`). test_verify_status.py covers the same ground case by case; this corpus
is the data-driven form others can replay. Recipe members are described in tests/assets/hostile/README.md.
"""

from __future__ import annotations

import base64
import copy
import gzip
import json
import time
import zlib
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

import issuer
import verifier
from keys import b64url_encode, verification_method_id
from verifier import Outcome, Verdict

MANIFEST = Path(__file__).resolve().parents[1] / "assets" / "hostile" / "statuslists" / "statuslists.json"
VECTORS: list[dict[str, Any]] = json.loads(MANIFEST.read_text("utf-8"))["vectors"]
LIMIT = 2.0  # seconds to build and verify one list; a decompression bomb would take far longer


def _gzip(data: bytes) -> bytes:
    return gzip.compress(data, mtime=0)


def _u(data: bytes) -> str:
    return "u" + b64url_encode(data)


def encoded_list(world: Any, spec: dict[str, Any]) -> str:
    """The encodedList a recipe's `list` describes: `text` verbatim, a `generator`, or `entries`/`set`."""
    if "text" in spec:
        return str(spec["text"])
    bits = bytes(verifier.MIN_ENTRIES // 8)
    generator = spec.get("generator")
    if generator == "empty-gzip":
        return _u(_gzip(b""))
    if generator == "gzip-bomb":
        return _u(_gzip(bytes(64 * 1024 * 1024)))
    if generator == "truncated-gzip":
        return _u(_gzip(bits)[:-12])
    if generator == "bad-gzip-crc":
        data = bytearray(_gzip(bits))
        data[-8] ^= 0xFF
        return _u(bytes(data))
    if generator == "two-members":
        return _u(_gzip(bits) + _gzip(b"\xff" * 16))
    if generator == "trailing-garbage":
        return _u(_gzip(bits) + b"garbage")
    if generator == "zlib":
        return _u(zlib.compress(bits))
    if generator == "raw":
        return _u(bits)
    if generator == "standard-base64":
        return "u" + base64.b64encode(b"\xfb\xff" + _gzip(bits)).decode()
    if generator == "no-prefix":
        return b64url_encode(_gzip(bits))
    if generator == "z-prefix":
        return "z" + b64url_encode(_gzip(bits))
    if generator == "too-long":
        return "u" + "A" * 2_900_000  # over the 2 MiB decoded cap in base64, under the 4 MiB token cap
    assert generator is None, generator
    size = spec.get("entries", verifier.MIN_ENTRIES)
    bitstring = verifier.Bitstring(size, min_entries=8)
    for index in spec.get("set", []):
        bitstring.set(revocation_index(world) if index == "credential" else index, True)
    return bitstring.encode()


def revocation_index(world: Any) -> int:
    statuses = world.credential()["credentialStatus"]
    [entry] = [s for s in statuses if s["statusPurpose"] == "revocation"]
    return int(entry["statusListIndex"])


def _apply(target: dict[str, Any], path: str, value: Any, *, drop: bool = False) -> None:
    *parents, last = path.split(".")
    for part in parents:
        target = target[part]
    if drop:
        del target[last]
    else:
        target[last] = value


def build(world: Any, recipe: dict[str, Any]) -> str:
    """The signed (or deliberately unsigned) status list token a recipe describes."""
    signer = recipe.get("signer", "cb")
    party = world.other if signer == "other" else world.cb
    at = world.issued
    if "issuedAfterNowHours" in recipe:
        at = world.now + timedelta(hours=recipe["issuedAfterNowHours"])
    valid_for = timedelta(days=recipe["validForDays"]) if "validForDays" in recipe else None
    credential = issuer.build_status_list_credential(
        list_url=world.revocation_url,
        purpose=recipe.get("purpose", "revocation"),
        encoded_list=encoded_list(world, recipe.get("list", {})),
        issuer=party.desk.identity,
        now=at,
        ttl=timedelta(minutes=5),
        valid_for=valid_for,
    )
    for path, value in recipe.get("set", {}).items():
        _apply(credential, path, value)
    for path in recipe.get("drop", []):
        _apply(credential, path, None, drop=True)
    if recipe.get("duplicateSubject"):
        second = copy.deepcopy(credential["credentialSubject"])
        second["id"] += "-2"
        credential["credentialSubject"] = [credential["credentialSubject"], second]
    claims = world.claims(credential, signed_at=at, **recipe.get("claims", {}))
    if signer == "unsigned":
        header = {"alg": "none", "typ": "vc+jwt", "kid": world.cb.kid}
        return f"{b64url_encode(json.dumps(header).encode())}.{b64url_encode(json.dumps(claims).encode())}."
    if signer == "stranger-as-cb":
        kid = verification_method_id(world.cb.did, world.stranger.kid)
        return str(world.sign(claims, key=world.stranger, kid=kid))
    assert signer in ("cb", "other"), signer
    return str(world.sign(claims, key=party.key, kid=party.kid))


@pytest.mark.parametrize("vector", VECTORS, ids=[v["name"] for v in VECTORS])
def test_hostile_status_list(world: Any, vector: dict[str, Any]) -> None:
    start = time.perf_counter()
    token = build(world, vector["recipe"])
    expect = vector["expect"]

    snapshot = verifier.verify_status_list(token, world.trust(snapshots=[]))
    result = snapshot.result
    assert result.verdict is Verdict(expect["verdict"]), result.render_text()
    if "check" in expect:
        world.expect(result, expect["check"], Outcome.FAILED, expect["problem"], expect["detailContains"])
        assert snapshot.bits is None

    trust = world.trust(snapshots=[world.suspension_url])
    trust.add_status_list(token)
    verified = world.verify(world.valid_token, trust)
    check = verified.check(vector["effect"]["check"])
    assert check.outcome is Outcome(vector["effect"]["outcome"]), verified.render_text()
    assert vector["effect"]["detailContains"] in check.detail
    assert (
        verified.verdict
        is {
            Outcome.PASSED: Verdict.VALID,
            Outcome.FAILED: Verdict.INVALID,
            Outcome.INDETERMINATE: Verdict.INDETERMINATE,
        }[check.outcome]
    ), verified.render_text()
    assert time.perf_counter() - start < LIMIT
