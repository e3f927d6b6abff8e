"""(b) Certificates and (c) status lists signed by joserfc or jwcrypto verify with our verifier.

The foreign library signs a claims set we build (credential + JWT claims) with a key it generated; we pin the
public JWK it exports. Status snapshots come from our own Issuer for the same DID, or (c) from joserfc.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from issuer import build_status_list_credential
from keys import PublishedKey, b64url_decode
from verifier import MIN_ENTRIES, Bitstring, Outcome, TrustStore, Verdict, verify

# See test_our_tokens.py: RFC 9864 deprecates the alg name "EdDSA"; joserfc warns, DESIGN.md keeps EdDSA.
pytestmark = pytest.mark.filterwarnings(
    "ignore:EdDSA is deprecated via RFC 9864:joserfc.errors.SecurityWarning"
)


def statuses(result: Any) -> dict[str, Outcome]:
    return {c.name: c.outcome for c in result.checks if c.name.startswith("status")}


def test_their_jwk_is_our_kid(foreign: Any) -> None:
    """The foreign library's RFC 7638 thumbprint is the kid we compute for the JWK it exported."""
    assert foreign.published().kid == foreign.thumbprint


def test_a_certificate_they_sign_is_valid(foreign: Any, interop: Any) -> None:
    credential = interop.credential()
    token = foreign.sign(foreign.header(), interop.claims(credential))
    header = json.loads(b64url_decode(token.split(".")[0]))
    assert header["alg"] == foreign.alg  # their serialisation, their member order
    result = verify(token, interop.trust(foreign.published()), now=interop.now)
    assert result.verdict is Verdict.VALID, result.render_text()
    assert [c.outcome for c in result.checks] == [Outcome.PASSED] * len(result.checks)
    assert statuses(result) == {"status.revocation": Outcome.PASSED, "status.suspension": Outcome.PASSED}
    assert result.credential == interop.claims(credential)


def test_without_status_snapshots_only_status_is_undecided(foreign: Any, interop: Any) -> None:
    token = foreign.sign(foreign.header(), interop.claims(interop.credential()))
    trust = TrustStore()
    trust.add_issuer(interop.did, [foreign.published()])
    result = verify(token, trust, now=interop.now)
    assert result.verdict is Verdict.INDETERMINATE
    undecided = [c.name for c in result.checks if c.outcome is not Outcome.PASSED]
    assert undecided == ["status.revocation", "status.suspension"]


def test_a_certificate_they_sign_can_be_revoked(foreign: Any, interop: Any) -> None:
    token = foreign.sign(foreign.header(), interop.claims(interop.credential(revocation=4242)))
    result = verify(token, interop.trust(foreign.published(), revoked=[4242]), now=interop.now)
    assert result.verdict is Verdict.INVALID
    assert statuses(result) == {"status.revocation": Outcome.FAILED, "status.suspension": Outcome.PASSED}


def test_a_forged_issuer_is_still_refused(foreign: Any, interop: Any) -> None:
    """A correct foreign signature counts only for a pinned key: not pinned, not trusted."""
    token = foreign.sign(foreign.header(), interop.claims(interop.credential()))
    result = verify(token, interop.trust(), now=interop.now)
    assert result.verdict is Verdict.INVALID
    assert result.check("key").outcome is Outcome.FAILED


# --- (c) status lists ----------------------------------------------------------------------------------------


def test_a_status_list_signed_by_joserfc_is_a_snapshot(joserfc_eddsa: Any, interop: Any) -> None:
    bits = Bitstring(MIN_ENTRIES)
    for index in (0, 4242, MIN_ENTRIES - 1):
        bits.set(index, True)
    status_list = build_status_list_credential(
        list_url=interop.revocation_url,
        purpose="revocation",
        encoded_list=bits.encode(),
        issuer=interop.identity,
        now=interop.issued,
        ttl=interop.ttl,
    )
    assert status_list["credentialSubject"]["ttl"] == 300_000
    token = joserfc_eddsa.sign(joserfc_eddsa.header(), interop.claims(status_list))
    trust = TrustStore()
    trust.add_issuer(interop.did, [joserfc_eddsa.published(), PublishedKey(interop.desk_key.public_key)])
    snapshot = trust.add_status_list(token)
    assert snapshot.result.verdict is Verdict.VALID, snapshot.result.render_text()
    assert (snapshot.url, snapshot.issuer, snapshot.purpose) == (
        interop.revocation_url,
        interop.did,
        "revocation",
    )
    assert snapshot.bits == bits
    assert (snapshot.valid_from, snapshot.valid_until) == (interop.issued, None)

    # And it decides the status of our certificates: one revoked, one not.
    trust.add_status_list(interop.status_list(interop.suspension_url, "suspension"))
    for index, verdict in ((4242, Verdict.INVALID), (4243, Verdict.VALID)):
        issued = interop.desk.issue(interop.decision, **interop.slots(revocation=index))
        result = verify(issued.token, trust, now=interop.now)
        assert result.verdict is verdict, result.render_text()
