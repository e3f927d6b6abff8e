"""Issue #2 targets: offline verification within 1.5x a raw Ed25519 verify; issuance within 3x a raw sign.

Run: `python -m benchmarks` (all) or `python -m benchmarks.bench_credentials`.
"""

from __future__ import annotations

from benchmarks._measure import Ratio, compare
from benchmarks._setup import NOW, make_setup
from keys import Algorithm, b64url_decode
from verifier import Verdict, verify


def run() -> list[Ratio]:
    rows = []
    for alg, raw_name in ((Algorithm.EDDSA, "raw Ed25519"), (Algorithm.ES256, "raw P-256")):
        setup = make_setup(alg)
        result = verify(setup.token, setup.trust, now=NOW)
        assert result.verdict is Verdict.VALID, result.render_text()
        signing_input, _, signature_b64 = setup.token.rpartition(".")
        message, signature = signing_input.encode(), b64url_decode(signature_b64)
        public = setup.key.public_key
        rows.append(
            compare(
                f"offline verify ({alg.value}: signature, model, claims, validity, 2 status bits)",
                lambda s=setup: verify(s.token, s.trust, now=NOW),
                f"{raw_name} verify",
                lambda p=public, m=message, g=signature: p.verify(g, m),
                target=1.5 if alg is Algorithm.EDDSA else None,
            )
        )
    fast = make_setup(self_check=False)
    checked = make_setup(self_check=True)
    message = fast.token.encode()
    for name, setup, target in (
        ("issue: build + sign", fast, 3.0),
        ("issue: build + sign + self-verify", checked, None),
    ):
        rows.append(
            compare(
                name,
                lambda s=setup: s.issuer.issue(s.decision, revocation=s.revocation, suspension=s.suspension),
                "raw Ed25519 sign",
                lambda k=setup.key, m=message: k.sign(m),
                number=1000,
                target=target,
            )
        )
    return rows


if __name__ == "__main__":
    for row in run():
        print(f"{row.ratio:5.2f}x  [{row.low:.2f}-{row.high:.2f}]  {row.name} vs {row.reference}")
