"""Hostile tokens: the compact JWS, its header, key resolution and the signature (issue "Foundation").

Each bad input must give a result, never an exception: the check that caught it, its outcome, its problem
type URI and a phrase of its explanation; the checks after it are `skipped`.
"""

from __future__ import annotations

import base64
import gc
import hashlib
import hmac
import json
import socket
import time
import tracemalloc
from typing import Any

import pytest

import issuer
from keys import SigningKey, b64url_decode, b64url_encode, verification_method_id
from verifier import Outcome, Verdict
from verifier._jws import parse_compact

PARSING_ERROR = "https://www.w3.org/TR/vc-data-model#PARSING_ERROR"
CRYPTOGRAPHIC_SECURITY_ERROR = "https://www.w3.org/TR/vc-data-model#CRYPTOGRAPHIC_SECURITY_ERROR"
UNKNOWN_KEY = "urn:aigov:problem:unknown-key"
UNTRUSTED_ISSUER = "urn:aigov:problem:untrusted-issuer"
FAILED = Outcome.FAILED


def segments(token: str) -> list[str]:
    return token.split(".")


def join(*parts: str) -> str:
    return ".".join(parts)


def expect_parse_error(world: Any, token: str | bytes, phrase: str) -> None:
    result = world.verify(token)
    world.expect(result, "parse", FAILED, PARSING_ERROR, phrase)
    assert result.credential is None
    world.skipped_after(result, "parse")


def expect_header_refused(world: Any, token: str, phrase: str, **kwargs: Any) -> None:
    result = world.verify(token, **kwargs)
    world.expect(result, "parse", Outcome.PASSED)
    world.expect(result, "header", FAILED, CRYPTOGRAPHIC_SECURITY_ERROR, phrase)
    world.skipped_after(result, "header")


# --- the baseline these tests mutate ----------------------------------------------------------------------


def test_the_baseline_token_is_valid_and_is_what_the_issuer_signs(world: Any) -> None:
    result = world.verify(world.valid_token)
    assert result.verdict is Verdict.VALID, result.render_text()
    assert [c.outcome for c in result.checks] == [Outcome.PASSED] * len(result.checks)
    # The hand-assembled token says what the issuer library writes, so the hostile variants below differ from
    # real tokens only where a test says so.
    genuine = issuer.sign_credential(world.credential(), key=world.cb.key, kid=world.cb.kid, now=world.issued)
    for mine, theirs in zip(segments(world.valid_token)[:2], segments(genuine)[:2], strict=True):
        assert json.loads(b64url_decode(mine)) == json.loads(b64url_decode(theirs))


def test_issued_credentials_verify(world: Any) -> None:
    issued = world.cb.desk.issue(
        world.decision,
        revocation=issuer.StatusSlot(world.revocation_url, 99),
        suspension=issuer.StatusSlot(world.suspension_url, 98),
    )
    assert world.verify(issued.token).verdict is Verdict.VALID


def test_bytes_and_str_tokens_give_the_same_result(world: Any) -> None:
    as_str = world.verify(world.valid_token)
    as_bytes = world.verify(world.valid_token.encode("ascii"))
    assert as_bytes.verdict is Verdict.VALID
    assert as_bytes.to_dict() == as_str.to_dict()


@pytest.mark.parametrize("kind", [bytearray, memoryview])
def test_other_bytes_like_tokens_give_the_same_result(world: Any, kind: type) -> None:
    as_str = world.verify(world.valid_token)
    other = world.verify(kind(world.valid_token.encode("ascii")))
    assert other.verdict is Verdict.VALID
    assert other.to_dict() == as_str.to_dict()


@pytest.mark.parametrize("wrap", ["{}\n", " {} ", "\r\n{}\r\n", "\t{}"])
def test_surrounding_whitespace_is_tolerated(world: Any, wrap: str) -> None:
    """A token pasted from a file or a terminal usually ends in a newline."""
    assert world.verify(wrap.format(world.valid_token)).verdict is Verdict.VALID
    assert world.verify(wrap.format(world.valid_token).encode()).verdict is Verdict.VALID


def test_es256_tokens_verify(world: Any) -> None:
    token = world.token(key=world.cb_p256, kid=world.cb_p256_kid)
    result = world.verify(token)
    assert result.verdict is Verdict.VALID, result.render_text()
    world.expect(result, "signature", Outcome.PASSED, None, "ES256")


# --- the compact serialisation ----------------------------------------------------------------------------


@pytest.mark.parametrize("token", ["", b"", "   ", "\n", b"\t\r\n"], ids=repr)
def test_empty_token(world: Any, token: str | bytes) -> None:
    expect_parse_error(world, token, "3 dot-separated parts, this has 1")


@pytest.mark.parametrize(
    "text",
    [
        '{"id": "did:web:cb.example", "verificationMethod": [{"id": "did:web:cb.example#k"}]}',
        "[1, 2]",
        ' {"a.b": 1}',
    ],
)
def test_json_given_for_a_token_is_named(world: Any, text: str) -> None:
    expect_parse_error(world, text, "this is JSON, not a signed token")


@pytest.mark.parametrize(
    ("shape", "count"),
    [("{h}.{p}", 2), ("{h}", 1), ("{h}.{p}.{s}.", 4), ("{h}.{p}.{s}.{s}.{s}", 5), ("..", 3)],
)
def test_wrong_number_of_segments(world: Any, shape: str, count: int) -> None:
    h, p, s = segments(world.valid_token)
    token = shape.format(h=h, p=p, s=s)
    if count == 3:  # three empty segments: the count is right, the header is not
        expect_parse_error(world, token, "header")
    else:
        expect_parse_error(world, token, f"3 dot-separated parts, this has {count}")


@pytest.mark.parametrize("where", [0, 10, -5])
def test_non_ascii_str_token(world: Any, where: int) -> None:
    token = world.valid_token
    position = where % len(token)
    expect_parse_error(world, token[:position] + "é" + token[position:], "non-ASCII")


def test_non_ascii_bytes_token(world: Any) -> None:
    h, p, s = segments(world.valid_token)
    token = join(h, p[:10] + "\u00e9" + p[10:], s).encode("utf-8")
    expect_parse_error(world, token, "payload: not base64url")


def test_fullwidth_dot_is_not_a_separator(world: Any) -> None:
    expect_parse_error(world, world.valid_token.replace(".", "\uff0e", 1), "non-ASCII")


# --- base64url: one alphabet, no padding, canonical trailing bits (RFC 7515 §2, RFC 4648 §3.5) ------------


@pytest.mark.parametrize("segment", [0, 1, 2], ids=["header", "payload", "signature"])
@pytest.mark.parametrize("bad", ["=", "+", "/"])
def test_padding_and_standard_alphabet_are_refused(world: Any, segment: int, bad: str) -> None:
    parts = segments(world.valid_token)
    parts[segment] = parts[segment][:4] + bad + parts[segment][5:] if bad != "=" else parts[segment] + "=="
    name = ["header", "payload", "signature"][segment]
    expect_parse_error(world, join(*parts), f"{name}: not base64url: '+', '/' and '=' padding")


def test_correctly_padded_standard_base64_is_refused(world: Any) -> None:
    """What a careless encoder writes: standard alphabet with '=' padding."""
    h, p, s = segments(world.valid_token)
    padded = base64.b64encode(b64url_decode(s)).decode()
    assert padded.endswith("=")
    expect_parse_error(world, join(h, p, padded), "signature: not base64url")


@pytest.mark.parametrize("bad", ["!", "*", " ", "%", "\x00", "\x7f"], ids=repr)
def test_characters_outside_the_alphabet(world: Any, bad: str) -> None:
    h, p, s = segments(world.valid_token)
    expect_parse_error(world, join(h, p[:8] + bad + p[9:], s), "payload: not base64url: only A-Z a-z 0-9 - _")


def test_impossible_length(world: Any) -> None:
    h, p, s = segments(world.valid_token)
    assert len(s) % 4 == 2
    expect_parse_error(world, join(h, p, s[:-1]), "signature: not base64url: impossible length")


def test_stray_trailing_bits_are_refused(world: Any) -> None:
    """Two spellings of one signature would let a copy pass as a different token (RFC 4648 §3.5)."""
    h, p, s = segments(world.valid_token)
    # 64 bytes: the last character carries 2 bits of data and 4 bits that must be zero.
    assert len(s) % 4 == 2
    assert s[-1] in "AQgw"
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    same_bits = alphabet[alphabet.index(s[-1]) + 1]  # differs only in the unused low bits
    expect_parse_error(world, join(h, p, s[:-1] + same_bits), "signature: not base64url: non-canonical")


# --- JSON: objects only, no duplicates, no NaN, bounded depth ---------------------------------------------


def raw_token(world: Any, *, header: bytes | None = None, payload: bytes | None = None) -> str:
    claims = world.claims(world.credential())
    return world.sign(claims if payload is None else None, raw_header=header, raw_payload=payload)


@pytest.mark.parametrize(
    ("raw", "phrase"),
    [
        (b"not json", "header is not JSON"),
        (b"", "header is not JSON"),
        (b'["EdDSA"]', "header must be a JSON object, not list"),
        (b'"EdDSA"', "header must be a JSON object, not str"),
        (b"null", "header must be a JSON object, not NoneType"),
        (b"\xff\xfe{}", "header is not UTF-8 text"),
        (b'{"alg":"EdDSA"', "header is not JSON"),
        (b'{"alg":"EdDSA","alg":"none","typ":"vc+jwt"}', "header: duplicate JSON member 'alg'"),
        (b'{"alg":"EdDSA","typ":"vc+jwt","typ":"JWT"}', "header: duplicate JSON member 'typ'"),
        (b'{"alg":"EdDSA","x":NaN}', "header: NaN is not JSON"),
        (b'{"alg":"EdDSA","x":Infinity}', "header: Infinity is not JSON"),
        (b'{"alg":"EdDSA","x":-Infinity}', "header: -Infinity is not JSON"),
    ],
    ids=repr,
)
def test_bad_header_json(world: Any, raw: bytes, phrase: str) -> None:
    expect_parse_error(world, raw_token(world, header=raw), phrase)


def test_duplicate_alg_cannot_smuggle_none(world: Any) -> None:
    """Two readers that keep the first and the last 'alg' would disagree about what was signed."""
    header = b'{"alg":"none","kid":"%s","typ":"vc+jwt","alg":"EdDSA"}' % world.cb.kid.encode()
    expect_parse_error(world, raw_token(world, header=header), "duplicate JSON member 'alg'")


@pytest.mark.parametrize(
    ("raw", "phrase"),
    [
        (b"hello", "payload is not JSON"),
        (b"", "payload is not JSON"),
        (b"[1, 2]", "payload must be a JSON object, not list"),
        (b"42", "payload must be a JSON object, not int"),
        (b"\xc3\x28", "payload is not UTF-8 text"),
        (b'{"a":1}garbage', "payload is not JSON"),
        (
            b'{"iss":"did:web:cb.example","iss":"did:web:evil.example"}',
            "payload: duplicate JSON member 'iss'",
        ),
        (b'{"credentialSubject":{"id":"a","id":"b"}}', "payload: duplicate JSON member 'id'"),
        (b'{"exp":NaN}', "payload: NaN is not JSON"),
        (b'{"nbf":Infinity}', "payload: Infinity is not JSON"),
        (b'{"x":[-Infinity]}', "payload: -Infinity is not JSON"),
    ],
    ids=repr,
)
def test_bad_payload_json(world: Any, raw: bytes, phrase: str) -> None:
    expect_parse_error(world, raw_token(world, payload=raw), phrase)


def test_duplicate_member_inside_a_signed_credential(world: Any) -> None:
    """A duplicate in an otherwise genuine, correctly signed credential is refused all the same."""
    raw = json.dumps(world.claims(world.credential()), separators=(",", ":")).encode()
    raw = raw.replace(b'"validUntil":', b'"validUntil":"2099-01-01T00:00:00Z","validUntil":', 1)
    expect_parse_error(world, raw_token(world, payload=raw), "duplicate JSON member 'validUntil'")


@pytest.mark.parametrize("where", ["header", "payload"])
@pytest.mark.parametrize(("opener", "closer"), [(b"[", b"]"), (b'{"a":', b"}")], ids=["arrays", "objects"])
def test_json_nested_10000_deep(world: Any, where: str, opener: bytes, closer: bytes) -> None:
    deep = opener * 10_000 + b"1" + closer * 10_000
    if where == "header":
        token = raw_token(world, header=b'{"alg":"EdDSA","x":' + deep + b"}")
    else:
        token = raw_token(world, payload=b'{"x":' + deep + b"}")
    started = time.perf_counter()
    result = world.verify(token)
    elapsed = time.perf_counter() - started
    world.expect(result, "parse", FAILED, PARSING_ERROR, f"{where} is JSON nested too deeply")
    json.dumps(result.to_dict())  # the result itself is shallow
    assert elapsed < 1.0


# --- size ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("as_bytes", [False, True], ids=["str", "bytes"])
def test_a_5_mb_token_is_refused_before_decoding(world: Any, as_bytes: bool) -> None:
    h, _, s = segments(world.valid_token)
    token = join(h, "A" * (5 * 1024 * 1024), s)
    started = time.perf_counter()
    result = world.verify(token.encode() if as_bytes else token)
    elapsed = time.perf_counter() - started
    world.expect(result, "parse", FAILED, PARSING_ERROR, "over the 1,048,576-byte limit; not decoded")
    assert elapsed < 0.2, f"{elapsed:.3f} s: the token was processed before it was measured"


def test_5_mb_of_non_ascii_is_refused_by_size_first(world: Any) -> None:
    started = time.perf_counter()
    result = world.verify("é" * (5 * 1024 * 1024))
    world.expect(result, "parse", FAILED, PARSING_ERROR, "not decoded")
    assert time.perf_counter() - started < 0.2


def test_max_token_bytes_is_honoured(world: Any) -> None:
    size = len(world.valid_token)
    assert world.verify(world.valid_token, max_token_bytes=size).verdict is Verdict.VALID
    result = world.verify(world.valid_token, max_token_bytes=size - 1)
    world.expect(result, "parse", FAILED, PARSING_ERROR, f"over the {size - 1:,}-byte limit")


# --- the header (RFC 7515 §4.1, VC-JOSE-COSE §3.1.1) ---------------------------------------------------------


def test_alg_none(world: Any) -> None:
    header = {"alg": "none", "kid": world.cb.kid, "typ": "vc+jwt"}
    h = b64url_encode(json.dumps(header).encode())
    p = segments(world.valid_token)[1]
    for token in (join(h, p, ""), join(h, p, segments(world.valid_token)[2])):
        expect_header_refused(world, token, "alg 'none' is refused")


@pytest.mark.parametrize("alg", ["None", "NONE", "nOnE"])
def test_alg_none_spelled_otherwise(world: Any, alg: str) -> None:
    token = world.token(header_overrides={"alg": alg})
    expect_header_refused(world, token, f"alg {alg!r} is not accepted; allowed: EdDSA (or Ed25519), ES256")


@pytest.mark.parametrize(
    ("digest", "alg"), [(hashlib.sha256, "HS256"), (hashlib.sha384, "HS384"), (hashlib.sha512, "HS512")]
)
@pytest.mark.parametrize("secret", ["raw", "jwk", "pem"])
def test_hmac_keyed_with_the_issuers_public_key(world: Any, digest: Any, alg: str, secret: str) -> None:
    """The algorithm-confusion attack: a MAC whose 'secret' is the public key every verifier has."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    public = world.cb.key.public_key
    raw = b64url_decode(public.jwk["x"])  # what anyone can read from the issuer's DID document
    key_bytes = {
        "raw": raw,
        "jwk": json.dumps(public.jwk).encode(),
        "pem": Ed25519PublicKey.from_public_bytes(raw).public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        ),
    }[secret]
    header = {"alg": alg, "kid": world.cb.kid, "typ": "vc+jwt", "cty": "vc"}
    payload = world.claims(world.credential(**{"credentialSubject.legalName.en": "Forged Corp."}))
    signing_input = (
        b64url_encode(json.dumps(header).encode()) + "." + b64url_encode(json.dumps(payload).encode())
    )
    mac = hmac.new(key_bytes, signing_input.encode(), digest).digest()
    token = signing_input + "." + b64url_encode(mac)
    expect_header_refused(world, token, f"alg {alg!r} is refused: a shared-secret MAC")


@pytest.mark.parametrize(
    "alg", ["RS256", "PS256", "ES384", "ES256K", "eddsa", "ed25519", "", 0, None, ["EdDSA"], {"EdDSA": 1}]
)
def test_algorithms_outside_the_allow_list(world: Any, alg: object) -> None:
    token = world.token(header_overrides={"alg": alg})
    expect_header_refused(world, token, f"alg {alg!r} is not accepted; allowed: EdDSA (or Ed25519), ES256")


def test_the_fully_specified_ed25519_name_is_accepted(world: Any) -> None:
    """RFC 9864 names EdDSA over Ed25519 "Ed25519"; a token using that name verifies like one saying EdDSA."""
    token = world.token(header_overrides={"alg": "Ed25519"})
    result = world.verify(token)
    assert result.check("signature").outcome.value == "passed", result.render_text()


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> list[object]:
    """Records any attempt to resolve a name or open a connection; verification must make none."""
    attempts: list[object] = []

    def refuse(*args: object, **kwargs: object) -> None:
        attempts.append(args)
        raise OSError("network access during offline verification")

    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    return attempts


@pytest.mark.parametrize(
    ("member", "value"),
    [
        ("jku", "https://attacker.example/jwks.json"),
        ("x5u", "https://attacker.example/cert.pem"),
        ("jwk", "ATTACKER_JWK"),
        ("x5c", ["MIIBszCCAVmgAwIBAgIUY29uZnVzZWQ="]),
    ],
)
def test_key_carrying_headers_are_refused_and_never_used(
    world: Any, no_network: list[object], member: str, value: object
) -> None:
    """RFC 7515 §4.1.2-6: a token never chooses its own verification key; nothing is fetched."""
    attacker = SigningKey.generate()
    if value == "ATTACKER_JWK":
        value = attacker.public_key.jwk
    for key, kid in ((attacker, verification_method_id(world.cb.did, attacker.kid)), (world.cb.key, None)):
        token = world.token(key=key, kid=kid, header_overrides={member: value})
        expect_header_refused(world, token, f"header carries {member}: keys never come from the token")
    assert no_network == []


@pytest.mark.parametrize("crit", [["exp"], ["b64"], ["urn:example:unknown"], [], "exp"])
def test_unknown_crit(world: Any, crit: object) -> None:
    token = world.token(header_overrides={"crit": crit, "exp": 1})
    expect_header_refused(world, token, "as critical, which is not understood")


@pytest.mark.parametrize("b64", [False, True])
def test_b64_header(world: Any, b64: bool) -> None:
    """RFC 7797: an unencoded payload changes what is signed; it is not supported, even as b64: true."""
    token = world.token(header_overrides={"b64": b64})
    expect_header_refused(world, token, "'b64' (RFC 7797 unencoded payload) is not supported")


def test_b64_false_with_crit(world: Any) -> None:
    """RFC 7797 §6 requires crit: ["b64"] alongside; refused for that, and never read as unencoded."""
    h = b64url_encode(
        json.dumps(
            {"alg": "EdDSA", "kid": world.cb.kid, "typ": "vc+jwt", "b64": False, "crit": ["b64"]}
        ).encode()
    )
    payload = json.dumps(world.claims(world.credential()))
    signing_input = h.encode() + b"." + payload.encode()
    token = h + ".." + b64url_encode(world.cb.key.sign(signing_input))  # detached, as RFC 7797 shows
    result = world.verify(token)
    assert result.verdict is Verdict.INVALID
    assert result.problems[0].name in ("parse", "header")


def test_zip_header(world: Any) -> None:
    expect_header_refused(world, world.token(header_overrides={"zip": "DEF"}), "'zip'")


@pytest.mark.parametrize(
    ("typ", "phrase"),
    [
        (None, "typ must be 'vc+jwt', not None"),
        ("JWT", "typ must be 'vc+jwt', not 'JWT' (a VC 1.1 JWT? it is accepted only with the legacy option)"),
        ("vc+sd-jwt", "typ must be 'vc+jwt', not 'vc+sd-jwt'"),
        ("vp+jwt", "typ must be 'vc+jwt', not 'vp+jwt'"),
        ("VC+JWT", "typ must be 'vc+jwt', not 'VC+JWT'"),
        ("", "typ must be 'vc+jwt', not ''"),
        (["vc+jwt"], "typ must be 'vc+jwt', not ['vc+jwt']"),
    ],
)
def test_wrong_or_missing_typ(world: Any, typ: object, phrase: str) -> None:
    token = world.token(header_overrides={"typ": world.DROP if typ is None else typ})
    expect_header_refused(world, token, phrase)


def test_typ_may_be_the_full_media_type(world: Any) -> None:
    token = world.token(header_overrides={"typ": "application/vc+jwt"})
    assert world.verify(token).verdict is Verdict.VALID


def test_cty_is_optional(world: Any) -> None:
    assert world.verify(world.token(header_overrides={"cty": world.DROP})).verdict is Verdict.VALID
    assert world.verify(world.token(header_overrides={"cty": "application/vc"})).verdict is Verdict.VALID


@pytest.mark.parametrize(
    ("cty", "shown"), [("vp", "'vp'"), ("", "''"), (["vc"], "['vc']"), ({"vc": 1}, "{'vc': 1}")]
)
def test_cty_must_be_vc_when_present(world: Any, cty: object, shown: str) -> None:
    token = world.token(header_overrides={"cty": cty})
    expect_header_refused(world, token, f"cty must be 'vc', not {shown}")


@pytest.mark.parametrize(
    "kid",
    [
        None,
        "",
        "#key",
        "key-1",
        "https://cb.example/keys/1",
        "did:web:cb.example",
        42,
        "did:web:cb.example#" + "k" * 600,
    ],
    ids=lambda v: repr(v)[:40],
)
def test_kid_must_be_an_absolute_did_url(world: Any, kid: object) -> None:
    token = world.token(header_overrides={"kid": world.DROP if kid is None else kid})
    expect_header_refused(world, token, "kid must be an absolute DID URL")


# --- key resolution: only pinned keys, of the algorithm the header names ----------------------------------


def test_es256_header_on_an_ed25519_key(world: Any) -> None:
    token = world.token(header_overrides={"alg": "ES256"})  # signed by cb's Ed25519 key
    result = world.verify(token)
    world.expect(
        result,
        "key",
        FAILED,
        CRYPTOGRAPHIC_SECURITY_ERROR,
        "header alg ES256 does not match the key's algorithm EdDSA",
    )
    world.skipped_after(result, "key")


def test_eddsa_header_on_a_p256_key(world: Any) -> None:
    token = world.token(key=world.cb_p256, kid=world.cb_p256_kid, header_overrides={"alg": "EdDSA"})
    result = world.verify(token)
    world.expect(
        result,
        "key",
        FAILED,
        CRYPTOGRAPHIC_SECURITY_ERROR,
        "header alg EdDSA does not match the key's algorithm ES256",
    )
    world.skipped_after(result, "key")


def test_unknown_kid_of_a_known_issuer(world: Any) -> None:
    kid = verification_method_id(world.cb.did, world.stranger.kid)
    result = world.verify(world.token(key=world.stranger, kid=kid))
    world.expect(
        result, "key", FAILED, UNKNOWN_KEY, f"key {kid} is not among the pinned keys of {world.cb.did}"
    )
    world.skipped_after(result, "key")


def test_kid_of_an_unknown_issuer(world: Any) -> None:
    did = "did:web:nobody.example"
    token = world.token(key=world.stranger, kid=verification_method_id(did, world.stranger.kid))
    result = world.verify(token)
    world.expect(result, "key", FAILED, UNTRUSTED_ISSUER, f"issuer {did} is not in the trust store")
    world.skipped_after(result, "key")


def test_empty_trust_store_trusts_nothing(world: Any) -> None:
    from verifier import TrustStore

    result = world.verify(world.valid_token, TrustStore())
    world.expect(result, "key", FAILED, UNTRUSTED_ISSUER, f"issuer {world.cb.did} is not in the trust store")


def test_a_key_pinned_for_one_issuer_is_not_a_key_of_another(world: Any) -> None:
    """The other issuer's key, named under cb's DID, is unknown there: keys are pinned per issuer."""
    kid = verification_method_id(world.cb.did, world.other.key.kid)
    result = world.verify(world.token(key=world.other.key, kid=kid))
    world.expect(result, "key", FAILED, UNKNOWN_KEY, "is not among the pinned keys")


# --- the signature ----------------------------------------------------------------------------------------


def expect_forged(world: Any, token: str) -> None:
    result = world.verify(token)
    world.expect(result, "key", Outcome.PASSED)
    world.expect(result, "signature", FAILED, CRYPTOGRAPHIC_SECURITY_ERROR, "signature does not match")
    # A forged signature is never "checked for revocation" or anything else.
    later = world.skipped_after(result, "signature")
    assert later == ["data_model", "claims", "profile", "validity_period", "issuer_trust", "status"]
    assert result.credential is None, "an unauthenticated payload must not be handed back as the credential"


def test_tampered_payload(world: Any) -> None:
    h, p, s = segments(world.valid_token)
    claims = json.loads(b64url_decode(p))
    claims["credentialSubject"]["legalName"]["en"] = "Mallory Corp."
    expect_forged(world, join(h, b64url_encode(json.dumps(claims, separators=(",", ":")).encode()), s))


@pytest.mark.parametrize("position", [0, 31, 32, 63])
def test_flipped_signature_byte(world: Any, position: int) -> None:
    h, p, s = segments(world.valid_token)
    signature = bytearray(b64url_decode(s))
    signature[position] ^= 0x01
    expect_forged(world, join(h, p, b64url_encode(bytes(signature))))


@pytest.mark.parametrize("position", [0, 100, 1000, -3])
def test_flipped_payload_byte(world: Any, position: int) -> None:
    """A flipped bit inside a JSON string keeps the JSON valid; only the signature notices."""
    h, p, s = segments(world.valid_token)
    payload = bytearray(b64url_decode(p))
    index = position % len(payload)
    while chr(payload[index]) not in "abcdefghijklmnopqrstuvwxyz":  # stay inside text
        index -= 1
    payload[index] ^= 0x01
    expect_forged(world, join(h, b64url_encode(bytes(payload)), s))


def test_tampered_header(world: Any) -> None:
    h, p, s = segments(world.valid_token)
    header = json.loads(b64url_decode(h))
    header["cty"] = "application/vc"  # still acceptable, but not what was signed
    expect_forged(world, join(b64url_encode(json.dumps(header).encode()), p, s))


@pytest.mark.parametrize("signature", [b"", b"\x00" * 64, b"\x00" * 63, b"\xff" * 65, b"\x01" * 128])
def test_signatures_of_the_wrong_shape(world: Any, signature: bytes) -> None:
    h, p, _ = segments(world.valid_token)
    expect_forged(world, join(h, p, b64url_encode(signature)))


def test_es256_signature_of_the_wrong_shape(world: Any) -> None:
    h, p, s = segments(world.token(key=world.cb_p256, kid=world.cb_p256_kid))
    expect_forged(world, join(h, p, b64url_encode(b64url_decode(s)[:61])))
    expect_forged(world, join(h, p, b64url_encode(b"\x00" * 64)))


def test_signature_spliced_from_another_token(world: Any) -> None:
    other = world.token(world.credential(name="AI Governance Certification — Level 3"))
    h, p, _ = segments(world.valid_token)
    expect_forged(world, join(h, p, segments(other)[2]))


def test_a_stranger_signing_under_a_pinned_kid(world: Any) -> None:
    expect_forged(world, world.token(key=world.stranger, kid=world.cb.kid))


def test_junk_headers_leave_no_memory_behind(world: Any) -> None:
    """Anyone may paste a 512 KB token into the registry's verify page: a stream of distinct huge headers,
    each refused, must not pile up in the verifier's header caches (256 of them once held 2 GB)."""
    padding = b"[" + b"{}," * 40_000 + b"{}]"  # 120 KB of header, a large object tree once decoded

    def junk(n: int) -> str:
        header = b'{"alg":"EdDSA","typ":"vc+jwt","n":%d,"pad":%s}' % (n, padding)
        return raw_token(world, header=header)

    world.verify(junk(-1))  # imports, first-use caches
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        for n in range(40):
            world.expect(world.verify(junk(n)), "header", FAILED, CRYPTOGRAPHIC_SECURITY_ERROR, "kid")
        gc.collect()
        kept = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert kept < 2_000_000, f"{kept:,} bytes kept after 40 refused 120 KB headers"


def test_changing_a_parsed_header_changes_no_later_parse(world: Any) -> None:
    """parse_compact hands each caller its own header, nested members included."""
    nested = raw_token(world, header=b'{"alg":"EdDSA","typ":"vc+jwt","x":{"note":"as signed"},"y":[1]}')
    flat = world.valid_token
    for token in (nested, flat):
        first = parse_compact(token).header
        first["alg"] = "none"
        for value in first.values():
            if isinstance(value, dict):
                value["note"] = "changed by a caller"
            elif isinstance(value, list):
                value.append(2)
        again = parse_compact(token).header
        assert again["alg"] == "EdDSA"
        assert again.get("x", {"note": "as signed"}) == {"note": "as signed"}
        assert again.get("y", [1]) == [1]
    assert world.verify(flat).verdict is Verdict.VALID
