"""The scheme owner's credentials: the trust list of accredited certification bodies, and the offline bundle.

Pure functions: the registry gathers the data (bodies, keys, accreditations, status list tokens) and signs the
result with its own key (`sign_credential`). Each built document is checked against the verifier's model before
it is returned, so that the registry never publishes a list its own verifier would refuse.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from issuer._build import scheme_url
from keys import KeyRecord, KeyState, format_date_time_stamp
from verifier import (
    BUNDLE_PATH,
    BUNDLE_TYPE,
    TRUST_CONTEXT_PATH,
    TRUST_LIST_PATH,
    TRUST_LIST_TYPE,
    VC2_CONTEXT,
    BundleCredential,
    TrustListCredential,
)

# Short, so that a withdrawal reaches every verifier within days even if it never fetches again.
DEFAULT_TRUST_LIST_VALIDITY = timedelta(days=3)


@dataclass(frozen=True, slots=True)
class AccreditationEntry:
    """One accreditation of a body: scheme id, levels, period, and (status, since) history in time order."""

    scheme_id: str
    levels: Sequence[str]
    valid_from: datetime
    valid_until: datetime | None
    history: Sequence[tuple[str, datetime]]


@dataclass(frozen=True, slots=True)
class ListedBody:
    """A certification body as the trust list names it."""

    did: str
    name_en: str | None
    name_ja: str | None
    keys: Sequence[KeyRecord]
    accreditations: Sequence[AccreditationEntry] = field(default_factory=tuple)


def _time(moment: datetime) -> str:
    return format_date_time_stamp(moment.replace(microsecond=0))


def _key(record: KeyRecord) -> dict[str, Any]:
    jwk = {name: value for name, value in record.public_key.jwk.items() if name != "use"}
    entry: dict[str, Any] = {
        "kid": record.kid,
        "publicKeyJwk": jwk,
        "state": record.state.value,
        "validFrom": _time(record.created),
    }
    if record.retired_at is not None:
        entry["retired"] = format_date_time_stamp(record.retired_at)
    if record.compromised_at is not None:
        entry["compromised"] = format_date_time_stamp(record.compromised_at)
    if (
        record.state is KeyState.RETIRED and record.retired_at is None
    ):  # pragma: no cover - keystore invariant
        raise ValueError(f"key {record.kid} is retired without a time")
    return entry


def _accreditation(registry_url: str, accreditation: AccreditationEntry) -> dict[str, Any]:
    history = [{"status": status, "from": _time(at)} for status, at in accreditation.history]
    entry: dict[str, Any] = {
        "scheme": scheme_url(registry_url, accreditation.scheme_id),
        "levels": list(accreditation.levels),
        "validFrom": _time(accreditation.valid_from),
        "status": accreditation.history[-1][0],
        "history": history,
    }
    if accreditation.valid_until is not None:
        entry["validUntil"] = _time(accreditation.valid_until)
    return entry


def build_trust_list(
    *,
    registry_url: str,
    owner_did: str,
    bodies: Iterable[ListedBody],
    version: int,
    now: datetime,
    validity: timedelta = DEFAULT_TRUST_LIST_VALIDITY,
) -> dict[str, Any]:
    """The trust list credential (unsigned), valid from `now` for `validity`."""
    issuers = []
    for body in bodies:
        name = {lang: value for lang, value in (("en", body.name_en), ("ja", body.name_ja)) if value}
        issuers.append(
            {
                "id": body.did,
                "legalName": name,
                "keys": [_key(record) for record in body.keys],
                "accreditations": [_accreditation(registry_url, a) for a in body.accreditations],
            }
        )
    start = now.replace(microsecond=0)
    credential: dict[str, Any] = {
        "@context": [VC2_CONTEXT, registry_url + TRUST_CONTEXT_PATH],
        "id": registry_url + TRUST_LIST_PATH,
        "type": ["VerifiableCredential", TRUST_LIST_TYPE],
        "issuer": owner_did,
        "validFrom": _time(start),
        "validUntil": _time(start + validity),
        "credentialSubject": {
            "id": registry_url + TRUST_LIST_PATH + "#issuers",
            "type": ["AccreditedIssuerList"],
            "version": version,
            "issuers": issuers,
        },
    }
    TrustListCredential.model_validate(credential)  # self-check: what we sign, our verifier accepts
    return credential


def build_bundle(
    *,
    registry_url: str,
    owner_did: str,
    owner_document: dict[str, Any],
    trust_list: str,
    did_documents: Sequence[dict[str, Any]],
    status_lists: Sequence[str],
    now: datetime,
) -> dict[str, Any]:
    """The offline bundle (unsigned): the trust list token, the bodies' DID documents, every status list
    token, and the time of issue. No validUntil: its acceptable age is the verifier's policy."""
    issued = _time(now.replace(microsecond=0))
    credential: dict[str, Any] = {
        "@context": [VC2_CONTEXT, registry_url + TRUST_CONTEXT_PATH],
        "id": registry_url + BUNDLE_PATH,
        "type": ["VerifiableCredential", BUNDLE_TYPE],
        "issuer": owner_did,
        "validFrom": issued,
        "credentialSubject": {
            "type": ["OfflineVerificationBundle"],
            "issued": issued,
            "schemeOwner": owner_document,
            "trustList": trust_list,
            "didDocuments": list(did_documents),
            "statusLists": list(status_lists),
        },
    }
    BundleCredential.model_validate(credential)
    return credential
