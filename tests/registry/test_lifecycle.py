"""The lifecycle functions on a real database (SQLite and PostgreSQL), without HTTP."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import pytest
from sqlmodel import select

from issuer import CertificationDecision, IssuedCredential, Issuer, SelfCheckError
from keys import SigningKey
from registry import lifecycle
from registry.errors import (
    DuplicateError,
    ForbiddenError,
    IdempotencyKeyReusedError,
    InvalidRequestError,
    NotAccreditedError,
    NotFoundError,
    SigningUnavailableError,
    StateConflictError,
)
from registry.eventlog import verify_chain
from registry.lifecycle import Context
from registry.models import (
    Accreditation,
    BodyState,
    CertificationBody,
    Credential,
    CredentialStatus,
    Event,
    IdempotencyRecord,
    ReasonCode,
    StatusAllocation,
    StatusList,
)
from registry.signers import SignerSpec
from verifier import Bitstring, TrustStore, Verdict, verify

if TYPE_CHECKING:
    from conftest import Registry

_DECISION = {
    "subject": {
        "legalName": {"en": "ACME Corp.", "ja": "アクメ株式会社"},
        "corporateNumber": "7000012050002",
    },
    "scheme": "example-aigov-scheme",
    "level": "2",
    "scope": "AI systems of the retail banking unit",
    "aiRoles": ["ai_provider"],
    "assessedOn": "2026-10-20",
}
_numbers = iter(range(1, 1_000_000))


def decision(**overrides: Any) -> CertificationDecision:
    values = {**_DECISION, "certificateNumber": f"AIGC-LC-{next(_numbers):06d}", **overrides}
    return CertificationDecision.model_validate(values)


def issue(
    registry: Registry, ctx: Context | None = None, body: CertificationBody | None = None, **overrides: Any
) -> Credential:
    with registry.session() as session:
        result = lifecycle.issue(
            session=session,
            ctx=ctx or registry.context(),
            body=body or registry.acme,
            decision=decision(**overrides),
            actor="test",
        )
    return result.credentials[0]


def token_id(registry: Registry) -> str:
    return registry.token().split("_")[1]


def bits(registry: Registry, list_id: int) -> Bitstring:
    with registry.session() as session:
        lst = session.get(StatusList, list_id)
        assert lst is not None
        return Bitstring.from_bytes(lst.bits)


def trust_for(registry: Registry) -> TrustStore:
    trust = TrustStore()
    trust.add_issuer(registry.acme.did, registry.keystore("acme-cb").published_keys())
    with registry.session() as session:
        for lst in session.exec(select(StatusList)):
            trust.add_status_list(lst.token)
    return trust


def nothing_written(registry: Registry) -> bool:
    return registry.count(Event) == registry.setup_events and all(
        registry.count(table) == 0 for table in (Credential, StatusAllocation, StatusList, IdempotencyRecord)
    )


# -- issuance -----------------------------------------------------------------------------------------------------


def test_issue_records_the_credential_its_indices_and_an_event(registry: Registry) -> None:
    credential = issue(registry)

    stored = registry.credential(credential.id)
    assert stored.status == CredentialStatus.ACTIVE
    assert stored.valid_from == registry.clock()
    assert stored.legal_name_ja == "アクメ株式会社"
    assert stored.revocation_list_id != stored.suspension_list_id
    with registry.session() as session:
        allocations = session.exec(select(StatusAllocation)).all()
    events = registry.events()
    assert {(a.list_id, a.status_index) for a in allocations} == {
        (stored.revocation_list_id, stored.revocation_index),
        (stored.suspension_list_id, stored.suspension_index),
    }
    first = registry.setup_events + 1
    assert [(e.seq, e.action, e.credential_id) for e in events] == [(first, "issued", credential.id)]
    result = verify(stored.token, trust_for(registry), now=registry.clock())
    assert result.verdict is Verdict.VALID, result
    assert result.credential is not None
    assert result.credential["id"] == f"{registry.settings.public_url}/credentials/{credential.id}"


def issue_many(registry: Registry, count: int) -> list[Credential]:
    with registry.session() as session:
        return lifecycle.issue_batch(
            session=session,
            ctx=registry.context(),
            body=registry.acme,
            decisions=[decision() for _ in range(count)],
            actor="test",
        ).credentials


def test_indices_are_random_and_distinct(registry: Registry) -> None:
    indices = [c.revocation_index for c in issue_many(registry, 20)]
    assert len(set(indices)) == 20
    assert indices != sorted(indices)  # not in issuance order (fails with probability 1/20!)


def test_credential_ids_are_uuid7_ordered_by_issuance_time(registry: Registry) -> None:
    """RFC 9562 §5.7: the id starts with the issuance time in Unix milliseconds (the indexes keyed by it grow at
    their right edge), then random bits: unique within a batch issued in one millisecond."""
    batch = issue_many(registry, 50)
    registry.clock.advance(seconds=1)
    later = issue(registry)
    ids = [c.id for c in batch]
    assert len(set(ids)) == 50
    for credential in [*batch, later]:
        assert (credential.id.version, credential.id.variant) == (7, uuid.RFC_4122)
        created = credential.created_at.replace(tzinfo=UTC)  # aware or naive UTC, as the database returns it
        unix_ms = (created - datetime(1970, 1, 1, tzinfo=UTC)) // timedelta(milliseconds=1)
        assert credential.id.int >> 80 == unix_ms
    assert all(later.id > earlier for earlier in ids)
    assert later.id.int >> 80 == (batch[0].id.int >> 80) + 1000


def test_an_idempotency_key_returns_the_first_credential(registry: Registry) -> None:
    actor, ctx, same = token_id(registry), registry.context(), decision()

    def run(key: str, chosen: CertificationDecision = same, by: str = actor) -> lifecycle.Issuance:
        with registry.session() as session:
            return lifecycle.issue(
                session=session, ctx=ctx, body=registry.acme, decision=chosen, actor=by, idempotency_key=key
            )

    first, again = run("key-1"), run("key-1")
    assert again.replayed
    assert not first.replayed
    assert again.credentials[0].id == first.credentials[0].id
    assert registry.count(Credential) == 1
    with pytest.raises(IdempotencyKeyReusedError):
        run("key-1", decision())
    # Keys belong to a token: another token's same key names another request.
    assert not run("key-1", decision(), by=token_id(registry)).replayed


def test_batch_is_all_or_nothing(registry: Registry) -> None:
    decisions = [decision(), decision(), decision(level="9")]
    with registry.session() as session, pytest.raises(InvalidRequestError) as raised:
        lifecycle.issue_batch(
            session=session, ctx=registry.context(), body=registry.acme, decisions=decisions, actor="test"
        )
    assert raised.value.field == "decisions.2.level"
    assert nothing_written(registry)


@pytest.mark.parametrize("where", ["batch", "registry"])
def test_certificate_numbers_are_unique_per_issuer(registry: Registry, where: str) -> None:
    existing = issue(registry)
    repeated = existing.certificate_number if where == "registry" else "AIGC-TWICE-1"
    decisions = [decision(certificateNumber="AIGC-TWICE-1"), decision(certificateNumber=repeated)]
    with registry.session() as session, pytest.raises(DuplicateError):
        lifecycle.issue_batch(
            session=session, ctx=registry.context(), body=registry.acme, decisions=decisions, actor="test"
        )
    assert registry.count(Credential) == 1
    # Another body may use the same number.
    assert issue(registry, body=registry.other, certificateNumber=existing.certificate_number)


class _FailingIssuer(Issuer):
    def issue(self, *args: Any, **kwargs: Any) -> IssuedCredential:
        raise RuntimeError("the HSM went away")


def _failing(spec: SignerSpec) -> Issuer:
    return _FailingIssuer(
        identity=spec.identity,
        signing_key=spec.signing_key,
        published_keys=spec.published_keys,
        scheme=spec.scheme,
        registry_url=spec.registry_url,
        clock=spec.clock,
    )


def test_a_signing_failure_leaves_no_row_no_index_no_event(registry: Registry) -> None:
    with pytest.raises(RuntimeError, match="HSM"):
        issue(registry, ctx=registry.context(factory=_failing))

    assert nothing_written(registry)


class _FaultyKey(SigningKey):
    """The body's key, but its fourth signature comes out with a bit flipped (a fault in the signer): the
    two status lists of a first issuance take the first two, so the fourth is the batch's second credential."""

    __slots__ = ("_signed",)

    def __init__(self, key: Any) -> None:
        super().__init__(key)
        self._signed = 0

    def sign(self, data: bytes) -> bytes:
        signature = super().sign(data)
        self._signed += 1
        return bytes([signature[0] ^ 1]) + signature[1:] if self._signed == 4 else signature


def _faulty(spec: SignerSpec) -> Issuer:
    return Issuer(
        identity=spec.identity,
        signing_key=_FaultyKey.from_pem(spec.signing_key.to_pem(None), None),
        published_keys=spec.published_keys,
        scheme=spec.scheme,
        registry_url=spec.registry_url,
        clock=spec.clock,
    )


def test_a_bad_signature_in_the_middle_of_a_batch_leaves_no_row_no_index_no_event(registry: Registry) -> None:
    with registry.session() as session, pytest.raises(SelfCheckError, match=r"signed credential 1 did not"):
        lifecycle.issue_batch(
            session=session,
            ctx=registry.context(factory=_faulty),
            body=registry.acme,
            decisions=[decision() for _ in range(5)],
            actor="test",
        )

    assert nothing_written(registry)


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)  # the FTS5 index; pg_trgm is an index
def test_a_batch_is_in_the_name_index(registry: Registry) -> None:
    """Batches insert many rows per statement; the name search index (a trigger, migration 0004) sees each."""
    names = [f"Batch Index Test {n} K.K." for n in range(7)]
    decisions = [decision(subject={**_DECISION["subject"], "legalName": {"en": name}}) for name in names]
    with registry.session() as session:
        lifecycle.issue_batch(
            session=session, ctx=registry.context(), body=registry.acme, decisions=decisions, actor="test"
        )
    with registry.engine.begin() as connection:
        connection.exec_driver_sql(
            "INSERT INTO credentials_fts(credentials_fts, rank) VALUES ('integrity-check', 1)"
        )
        found = connection.exec_driver_sql(
            "SELECT count(*) FROM credentials_fts WHERE credentials_fts MATCH '\"Index Test\"'"
        ).scalar_one()
    assert found == len(names)


def test_a_key_compromised_in_between_stops_issuance_cleanly(own_keystores: Registry) -> None:
    registry = own_keystores
    ctx = registry.context()
    issue(registry, ctx)  # the signer is built and cached
    keystore = registry.keystore("acme-cb")
    registry.clock.advance(minutes=1)
    keystore.mark_compromised(keystore.active().kid, at=registry.clock())
    before = [registry.count(t) for t in (Credential, StatusAllocation, Event)]

    with pytest.raises(SigningUnavailableError):
        issue(registry, ctx)

    assert [registry.count(t) for t in (Credential, StatusAllocation, Event)] == before


def test_a_suspended_body_cannot_issue(registry: Registry) -> None:
    registry.acme.state = BodyState.SUSPENDED
    with pytest.raises(ForbiddenError):
        issue(registry)


@pytest.mark.parametrize("state", [BodyState.SUSPENDED, BodyState.WITHDRAWN])
def test_a_body_no_longer_accredited_still_takes_trust_away(registry: Registry, state: BodyState) -> None:
    first, second = issue(registry), issue(registry)
    registry.acme.state = state
    suspended = change(registry, "suspend", first.id, reason_code=ReasonCode.NONCONFORMITY)
    assert suspended.status == CredentialStatus.SUSPENDED
    assert bits(registry, first.suspension_list_id).get(first.suspension_index)
    with pytest.raises(NotAccreditedError, match=f"is {state}: it cannot issue, renew or reinstate"):
        change(registry, "reinstate", first.id)
    revoked = change(registry, "revoke", second.id, reason_code=ReasonCode.COMPANY_REQUEST)
    assert revoked.status == CredentialStatus.REVOKED
    assert bits(registry, second.revocation_list_id).get(second.revocation_index)
    with pytest.raises(NotAccreditedError):
        change(registry, "renew", first.id, decision=decision())


def test_reinstating_needs_an_accreditation_in_force(registry: Registry) -> None:
    """Reinstating grants trust again, so it needs what issuing needs: a body whose accreditation period has
    ended (its state still active) may suspend, but not reinstate."""
    first = issue(registry)
    change(registry, "suspend", first.id, reason_code=ReasonCode.NONCONFORMITY)
    with registry.session() as session:
        accreditation = session.exec(
            select(Accreditation).where(Accreditation.issuer_id == registry.acme.id)
        ).one()
        accreditation.valid_until = registry.clock() - timedelta(days=1)
        session.add(accreditation)
        session.commit()

    with pytest.raises(NotAccreditedError, match="ended on"):
        change(registry, "reinstate", first.id)
    assert registry.credential(first.id).status == CredentialStatus.SUSPENDED
    assert bits(registry, first.suspension_list_id).get(first.suspension_index)


# -- status changes -----------------------------------------------------------------------------------------------


def change(registry: Registry, verb: str, credential_id: uuid.UUID, **kwargs: Any) -> Credential:
    function = getattr(lifecycle, verb)
    with registry.session() as session:
        result: Credential = function(
            session=session,
            ctx=registry.context(),
            body=kwargs.pop("body", registry.acme),
            credential_id=credential_id,
            actor="test",
            **kwargs,
        )
    return result


def test_suspend_reinstate_revoke(registry: Registry) -> None:
    credential = issue(registry)
    trust = trust_for(registry)
    assert not bits(registry, credential.suspension_list_id).get(credential.suspension_index)

    suspended = change(
        registry, "suspend", credential.id, reason_code=ReasonCode.NONCONFORMITY, reason="audit"
    )
    assert suspended.status == CredentialStatus.SUSPENDED
    assert suspended.status_reason_code == "nonconformity"
    assert bits(registry, credential.suspension_list_id).get(credential.suspension_index)

    reinstated = change(registry, "reinstate", credential.id, reason="corrected")
    assert reinstated.status == CredentialStatus.ACTIVE
    assert not bits(registry, credential.suspension_list_id).get(credential.suspension_index)

    revoked = change(registry, "revoke", credential.id, reason_code=ReasonCode.MISUSE_OF_MARK)
    assert revoked.status == CredentialStatus.REVOKED
    assert bits(registry, credential.revocation_list_id).get(credential.revocation_index)

    actions = [e.action for e in registry.events()]
    with registry.session() as session:
        versions = {lst.purpose: lst.version for lst in session.exec(select(StatusList))}
    assert actions == ["issued", "suspended", "reinstated", "revoked"]
    assert versions == {"revocation": 2, "suspension": 3}
    # The re-signed lists verify, and the verifier now says revoked.
    trust = trust_for(registry)
    result = verify(credential.token, trust, now=registry.clock())
    assert result.verdict is Verdict.INVALID
    assert [c.name for c in result.problems] == ["status.revocation"]


@pytest.mark.parametrize(
    ("setup", "verb", "kwargs"),
    [
        (["revoke"], "reinstate", {}),
        (["revoke"], "suspend", {"reason_code": ReasonCode.OTHER}),
        (["revoke"], "revoke", {"reason_code": ReasonCode.OTHER}),
        ([], "reinstate", {}),
        (["suspend"], "suspend", {"reason_code": ReasonCode.OTHER}),
    ],
)
def test_forbidden_transitions_conflict(
    registry: Registry, setup: list[str], verb: str, kwargs: dict[str, Any]
) -> None:
    credential = issue(registry)
    for step in setup:
        change(registry, step, credential.id, reason_code=ReasonCode.OTHER)
    events = registry.count(Event)

    with pytest.raises(StateConflictError) as raised:
        change(registry, verb, credential.id, **kwargs)

    assert ("final" in str(raised.value)) == ("revoke" in setup)
    assert registry.count(Event) == events


def test_superseded_is_for_renewal_only(registry: Registry) -> None:
    credential = issue(registry)
    with pytest.raises(InvalidRequestError):
        change(registry, "revoke", credential.id, reason_code=ReasonCode.SUPERSEDED)


def test_another_bodys_credential_is_not_found(registry: Registry) -> None:
    credential = issue(registry)
    with pytest.raises(NotFoundError):
        change(registry, "revoke", credential.id, reason_code=ReasonCode.OTHER, body=registry.other)
    with pytest.raises(NotFoundError):
        change(registry, "reinstate", uuid.uuid4())
    assert registry.credential(credential.id).status == CredentialStatus.ACTIVE


# -- renewal ------------------------------------------------------------------------------------------------------


def renew(registry: Registry, credential_id: uuid.UUID, **overrides: Any) -> Credential:
    with registry.session() as session:
        return lifecycle.renew(
            session=session,
            ctx=registry.context(),
            body=registry.acme,
            credential_id=credential_id,
            decision=decision(**overrides),
            actor="test",
        )


def test_renew_supersedes_the_old_credential(registry: Registry) -> None:
    old = issue(registry)
    registry.clock.advance(days=365)

    new = renew(registry, old.id, assessedOn="2027-10-20")

    old = registry.credential(old.id)
    assert (old.status, old.status_reason_code, old.superseded_by_id) == ("superseded", "superseded", new.id)
    assert new.supersedes_id == old.id
    assert new.valid_from == registry.clock()
    assert bits(registry, old.revocation_list_id).get(old.revocation_index)
    events = registry.events()
    assert [(e.action, e.credential_id) for e in events] == [
        ("issued", old.id),
        ("superseded", old.id),
        ("renewed", new.id),
    ]
    with pytest.raises(StateConflictError, match="final"):
        renew(registry, old.id)


def test_renewal_certifies_the_same_company(registry: Registry) -> None:
    old = issue(registry)
    other_company = {**_DECISION["subject"], "corporateNumber": "1010001000006"}
    with pytest.raises(InvalidRequestError):
        renew(registry, old.id, subject=other_company)
    with pytest.raises(DuplicateError):
        renew(registry, old.id, certificateNumber=old.certificate_number)
    assert registry.credential(old.id).status == CredentialStatus.ACTIVE
    assert registry.count(Credential) == 1


@pytest.mark.parametrize(
    ("old_subject", "new_subject", "field"),
    [
        # Without a corporate number, the subject id (a DID) identifies the company.
        (
            {"id": "did:web:acme.example", "legalName": {"en": "ACME Corp."}},
            {"id": "did:web:megabank.example", "legalName": {"en": "ACME Corp."}},
            "subject.id",
        ),
        (
            {"id": "did:web:acme.example", "legalName": {"en": "ACME Corp."}},
            {"legalName": {"en": "ACME Corp."}},
            "subject.id",
        ),
        # Without either, its legal names do: a renew-only token cannot re-issue it for another company.
        ({"legalName": {"en": "Small Shop"}}, {"legalName": {"en": "Mega Bank"}}, "subject.legalName"),
        (
            {"legalName": {"en": "Small Shop"}},
            {"legalName": {"en": "Small Shop", "ja": "メガバンク"}},
            "subject.legalName",
        ),
    ],
)
def test_renewal_without_a_corporate_number_keeps_the_next_identifier(
    registry: Registry, old_subject: dict[str, Any], new_subject: dict[str, Any], field: str
) -> None:
    old = issue(registry, subject=old_subject)
    with pytest.raises(InvalidRequestError, match="a renewal certifies the same company") as refused:
        renew(registry, old.id, subject=new_subject)
    assert refused.value.field == field
    assert registry.credential(old.id).status == CredentialStatus.ACTIVE
    assert registry.count(Credential) == 1
    # The same identifier renews, even with other names (a company may change its trading name).
    renamed = {**old_subject, "legalName": {"en": "ACME Holdings"}} if "id" in old_subject else old_subject
    assert renew(registry, old.id, subject=renamed).supersedes_id == old.id


# -- the event log ------------------------------------------------------------------------------------------------


def test_verify_chain_accepts_the_log_and_finds_tampering(registry: Registry) -> None:
    credential = issue(registry)
    change(registry, "suspend", credential.id, reason_code=ReasonCode.NONCONFORMITY)
    change(registry, "revoke", credential.id, reason_code=ReasonCode.NONCONFORMITY)
    with registry.session() as session:
        assert verify_chain(session=session).ok
        setup = registry.setup_events
        assert verify_chain(session=session).checked == setup + 3

        event = session.get(Event, setup + 2)
        assert event is not None
        event.reason = "nothing happened"
        session.commit()
        report = verify_chain(session=session)
        assert (report.ok, report.seq) == (False, setup + 2)

        event.reason = None
        session.commit()
        assert verify_chain(session=session).ok

        last = session.get(Event, setup + 3)
        session.delete(last)
        session.commit()
        report = verify_chain(session=session)
        assert not report.ok
        assert report.problem == "the chain head does not match the last event"
