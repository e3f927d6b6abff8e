"""Issue #2 and #6: offline verification against the raw signature check and against peer implementations;
issuance against a raw sign.

Every round times our `verify` (parse, header, key, signature, data model, claims, profile, validity, issuer
trust, 2 status bits from decoded snapshots) in alternating slices with each of, on the same token: `cryptography`'s raw verify of
the same signature (the issue's reference); libsodium's raw verify (PyNaCl), which `keys` calls for Ed25519
because it is faster here, so that our own overhead over the primitive we use stays visible; pyjwt's plain `jwt.decode` (signature, exp/nbf/iat, iss); joserfc's
`jwt.decode` plus its claims registry (iss, exp/nbf/iat); and, in a Node.js subprocess interleaved round by
round, jose's `jwtVerify` with the public JWK (signature, typ, algorithm, iss, exp/nbf/iat). Targets (issue
#2): verification ≤ 1.5x a raw Ed25519 verify, issuance (build + sign) ≤ 3x a raw Ed25519 sign; issue #6:
faster than jose.

Run: `python -m benchmarks` (all) or `python -m benchmarks.bench_credentials`.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from functools import partial

import jwt
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from joserfc import jwt as jose_rfc
from joserfc.errors import SecurityWarning
from joserfc.jwk import ECKey, OKPKey
from nacl.signing import SigningKey as NaclSigningKey
from nacl.signing import VerifyKey

from benchmarks._measure import Ratio, Timer, compare_many, timer
from benchmarks._node import NodePeers, NodeUnavailableError
from benchmarks._setup import NOW, Setup, make_setup
from keys import Algorithm, b64url_decode
from verifier import Verdict, verify

TITLE = "credentials"
ORDER = 10
SKEW = 300
NOTES: list[str] = []  # what could not be measured, for the report


def raw_verifier(setup: Setup) -> Callable[[], object]:
    """`cryptography`'s own verify of the token's signature: no JOSE, no wrapper."""
    signing_input, _, signature_b64 = setup.token.rpartition(".")
    message, signature = signing_input.encode(), b64url_decode(signature_b64)
    jwk = setup.key.public_key.jwk
    if jwk["kty"] == "OKP":
        ed = ed25519.Ed25519PublicKey.from_public_bytes(b64url_decode(jwk["x"]))
        return lambda: ed.verify(signature, message)
    point = b"\x04" + b64url_decode(jwk["x"]) + b64url_decode(jwk["y"])
    ec_key = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), point)
    der = encode_dss_signature(int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big"))
    algorithm = ec.ECDSA(hashes.SHA256())
    return lambda: ec_key.verify(der, message, algorithm)


def sodium_verifier(setup: Setup) -> Callable[[], object]:
    """libsodium's verify (PyNaCl), the primitive `keys.PublicKey` calls for Ed25519: our own floor."""
    signing_input, _, signature_b64 = setup.token.rpartition(".")
    message, signature = signing_input.encode(), b64url_decode(signature_b64)
    key = VerifyKey(b64url_decode(setup.key.public_key.jwk["x"]))
    return lambda: key.verify(message, signature)


def peer_verifiers(setup: Setup) -> dict[str, Callable[[], object]]:
    """pyjwt and joserfc verifying the same token with the same public key, each checked once here."""
    alg = setup.key.alg.value
    jwk: dict[str, str | list[str]] = dict(setup.key.public_key.jwk)
    pyjwt_key = jwt.PyJWK(jwk).key
    rfc_key = (OKPKey if setup.key.alg is Algorithm.EDDSA else ECKey).import_key(jwk)
    registry = jose_rfc.JWTClaimsRegistry(
        now=int(NOW.timestamp()), leeway=SKEW, iss={"essential": True, "value": setup.did}
    )
    token = setup.token

    def pyjwt_decode() -> object:
        # pyjwt checks exp/nbf/iat against the real clock: the sample is valid until 2029.
        return jwt.decode(token, pyjwt_key, algorithms=[alg], issuer=setup.did, leeway=SKEW)

    def joserfc_decode() -> object:
        claims = jose_rfc.decode(token, rfc_key, algorithms=[alg]).claims
        registry.validate(claims)
        return claims

    for check in (pyjwt_decode, joserfc_decode):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", SecurityWarning)
            check()
    return {"pyjwt `jwt.decode`": pyjwt_decode, "joserfc `jwt.decode` + claims": joserfc_decode}


def verification_rows(alg: Algorithm, node: NodePeers | None, *, number: int, rounds: int) -> list[Ratio]:
    setup = make_setup(alg)
    result = verify(setup.token, setup.trust, now=NOW)
    assert result.verdict is Verdict.VALID, result.render_text()
    raw_name = "raw Ed25519 verify" if alg is Algorithm.EDDSA else "raw P-256 verify"
    references: dict[str, Timer] = {f"{raw_name} (cryptography)": timer(raw_verifier(setup))}
    if alg is Algorithm.EDDSA:
        references["raw Ed25519 verify (libsodium, which aigov calls)"] = timer(sodium_verifier(setup))
    references |= {name: timer(fn) for name, fn in peer_verifiers(setup).items()}
    ident = f"token-{alg.value}"
    if node is not None:
        node.call(
            op="jwt",
            id=ident,
            token=setup.token,
            jwk=setup.key.public_key.jwk,
            alg=alg.value,
            issuer=setup.did,
            typ="vc+jwt",
            now=int(NOW.timestamp()),
        )
        references["Node.js jose `jwtVerify` (signature + claims)"] = node.timer(ident, "jose")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SecurityWarning)  # joserfc warns on every EdDSA use (RFC 9864)
        rows = compare_many(
            f"offline verify ({alg.value}: signature, model, claims, validity, 2 status bits)",
            timer(lambda: verify(setup.token, setup.trust, now=NOW)),
            references,
            number=number,
            rounds=rounds,
            targets={f"{raw_name} (cryptography)": 1.5} if alg is Algorithm.EDDSA else None,
        )
    if node is not None:  # jose's own overhead over Node's primitive, for reading the row above
        rows += compare_many(
            f"Node.js jose `jwtVerify` ({alg.value})",
            node.timer(ident, "jose"),
            {"node:crypto verify of the same signature": node.timer(ident, "raw")},
            number=number,
            rounds=rounds,
        )
    return rows


def raw_signers(setup: Setup, message: bytes) -> dict[str, Timer]:
    """The raw Ed25519 sign of `message` with the setup's key: `cryptography`'s (the issue's reference) and
    libsodium's, which `keys` calls (the same signature, deterministic), so that our own overhead over the primitive
    we use stays visible."""
    seed = serialization.load_pem_private_key(setup.key.to_pem(None), password=None).private_bytes(
        serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
    )
    ours = ed25519.Ed25519PrivateKey.from_private_bytes(seed)
    sodium = NaclSigningKey(seed)
    return {
        "raw Ed25519 sign (cryptography)": timer(lambda: ours.sign(message)),
        "raw Ed25519 sign (libsodium, which aigov calls)": timer(lambda: sodium.sign(message)),
    }


def issuance_rows(*, number: int, rounds: int) -> list[Ratio]:
    fast = make_setup(self_check=False)
    checked = make_setup(self_check=True)
    message = fast.token.encode()
    rows = []
    for name, setup, target in (
        ("issue: build + sign", fast, 3.0),
        ("issue: build + sign + self-verify", checked, None),
    ):
        issue = partial(
            setup.issuer.issue, setup.decision, revocation=setup.revocation, suspension=setup.suspension
        )
        rows += compare_many(
            name,
            timer(issue),
            raw_signers(setup, message),
            number=number,
            rounds=rounds,
            targets=None if target is None else {"raw Ed25519 sign (cryptography)": target},
        )
    return rows


def run(*, number: int = 1000, rounds: int = 9) -> list[Ratio]:
    NOTES.clear()
    try:
        node: NodePeers | None = NodePeers()
    except NodeUnavailableError as e:
        node = None
        NOTES.append(f"Node.js peers not measured: {e}")
    try:
        rows = []
        for alg in (Algorithm.EDDSA, Algorithm.ES256):
            rows += verification_rows(alg, node, number=number, rounds=rounds)
    finally:
        if node is not None:
            node.close()
    return rows + issuance_rows(number=max(1, number // 2), rounds=rounds)


if __name__ == "__main__":
    for row in run():
        print(f"{row.ratio:5.2f}x  [{row.low:.2f}-{row.high:.2f}]  {row.name} vs {row.reference}")
