"""Properties over many inputs (hypothesis, bounded, no example database): verify never raises on any token,
anything that is not a genuine token is `invalid`, and no single-character change of a valid token is valid.
"""

from __future__ import annotations

import json
from typing import Any

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from keys import b64url_encode
from verifier import Verdict, VerificationResult

B64URL = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
FAST = settings(max_examples=100, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=12,
)


def check_invalid(world: Any, token: str | bytes) -> VerificationResult:
    result = world.verify(token)
    assert isinstance(result, VerificationResult)
    assert result.verdict is Verdict.INVALID, result.render_text()
    return result


@FAST
@given(token=st.text(max_size=300))
def test_any_text_is_an_invalid_token(world: Any, token: str) -> None:
    check_invalid(world, token)


@FAST
@given(token=st.binary(max_size=300))
def test_any_bytes_are_an_invalid_token(world: Any, token: bytes) -> None:
    check_invalid(world, token)


@FAST
@given(parts=st.lists(st.text(alphabet=B64URL + "=+/.", max_size=60), min_size=3, max_size=3))
def test_three_segments_of_base64ish_text(world: Any, parts: list[str]) -> None:
    check_invalid(world, ".".join(parts))


@FAST
@given(
    header=st.dictionaries(
        st.sampled_from(["alg", "typ", "cty", "kid", "crit", "b64", "zip", "jku"]), json_values
    )
)
def test_arbitrary_headers_never_raise(world: Any, header: dict[str, Any]) -> None:
    """Real signatures over real payloads, under headers with any JSON values."""
    base = {"alg": "EdDSA", "kid": world.cb.kid, "typ": "vc+jwt"}
    token = world.sign(world.claims(world.credential()), raw_header=json.dumps({**base, **header}).encode())
    result = world.verify(token)
    assert isinstance(result, VerificationResult)
    if result.verdict is Verdict.VALID:  # only a header that says what a genuine one says
        merged = {**base, **header}
        assert merged.pop("alg") == "EdDSA"
        assert merged.pop("kid") == world.cb.kid
        assert merged.pop("typ") in ("vc+jwt", "application/vc+jwt")
        assert merged.pop("cty", "vc") in ("vc", "application/vc")
        assert merged == {}, result.render_text()


MEMBERS = [
    "@context",
    "id",
    "type",
    "name",
    "issuer",
    "issuer.id",
    "validFrom",
    "validUntil",
    "credentialSubject",
    "credentialSubject.id",
    "credentialSubject.legalName",
    "credentialSubject.corporateNumber",
    "credentialSubject.certification",
    "credentialSubject.certification.aiRoles",
    "credentialStatus",
    "credentialStatus.0",
    "credentialStatus.0.statusListIndex",
    "credentialStatus.1.statusPurpose",
    "credentialSchema",
    "iss",
    "jti",
    "sub",
    "iat",
    "nbf",
    "exp",
    "vc",
]


@settings(max_examples=120, deadline=None, database=None)
@given(member=st.sampled_from(MEMBERS), value=json_values)
def test_genuinely_signed_credentials_with_any_member_replaced_never_raise(
    world: Any, member: str, value: object
) -> None:
    """The issuer's own key signs the hostile payload: every check after the signature gets exercised."""
    claims = world.claims(world.credential())
    *parents, last = member.split(".")
    node: Any = claims
    for part in parents:
        node = node[int(part)] if isinstance(node, list) else node[part]
    if isinstance(node, list):
        node[int(last)] = value
    else:
        node[last] = value
    result = world.verify(world.sign(claims))
    assert isinstance(result, VerificationResult)
    json.dumps(result.to_dict())


@settings(max_examples=150, deadline=None, database=None)
@given(data=st.data())
def test_no_single_character_change_of_a_valid_token_is_valid(world: Any, data: st.DataObject) -> None:
    token = world.valid_token
    position = data.draw(st.integers(0, len(token) - 1), label="position")
    replacement = data.draw(st.sampled_from(B64URL + ".=+/ ~\x00é") | st.characters(), label="replacement")
    assume(replacement != token[position])
    check_invalid(world, token[:position] + replacement + token[position + 1 :])


@settings(max_examples=100, deadline=None, database=None)
@given(data=st.data())
def test_no_single_byte_change_of_a_valid_bytes_token_is_valid(world: Any, data: st.DataObject) -> None:
    token = bytearray(world.valid_token.encode())
    position = data.draw(st.integers(0, len(token) - 1), label="position")
    value = data.draw(st.integers(0, 255).filter(lambda b: b != token[position]), label="byte")
    token[position] = value
    check_invalid(world, bytes(token))


@settings(max_examples=60, deadline=None, database=None)
@given(data=st.data())
def test_no_single_bit_flip_in_an_es256_token_is_valid(world: Any, data: st.DataObject) -> None:
    token = world.token(key=world.cb_p256, kid=world.cb_p256_kid)
    h, p, s = token.split(".")
    segment = data.draw(st.sampled_from([0, 1, 2]), label="segment")
    parts = [h, p, s]
    from keys import b64url_decode

    raw = bytearray(b64url_decode(parts[segment]))
    bit = data.draw(st.integers(0, len(raw) * 8 - 1), label="bit")
    raw[bit // 8] ^= 0x80 >> (bit % 8)
    parts[segment] = b64url_encode(bytes(raw))
    check_invalid(world, ".".join(parts))
