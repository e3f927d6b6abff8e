"""The registry's tables (SQLModel). Alembic owns the schema: see registry/migrations."""

from registry.models.accreditation import Accreditation, AccreditationChange, TrustListRecord
from registry.models.base import UtcDateTime
from registry.models.credentials import Credential, CredentialBase, CredentialStatus, ReasonCode
from registry.models.events import GENESIS_HASH, Action, ChainHead, Event, EventBase
from registry.models.issuers import (
    BodyState,
    CertificationBody,
    CertificationBodyBase,
    CertificationBodyCreate,
    CertificationBodyPublic,
)
from registry.models.schemes import Level, LevelBase, Scheme, SchemeBase
from registry.models.status import StatusAllocation, StatusList, StatusPurpose
from registry.models.tokens import ApiToken, IdempotencyRecord

__all__ = [
    "GENESIS_HASH",
    "Accreditation",
    "AccreditationChange",
    "Action",
    "ApiToken",
    "BodyState",
    "CertificationBody",
    "CertificationBodyBase",
    "CertificationBodyCreate",
    "CertificationBodyPublic",
    "ChainHead",
    "Credential",
    "CredentialBase",
    "CredentialStatus",
    "Event",
    "EventBase",
    "IdempotencyRecord",
    "Level",
    "LevelBase",
    "ReasonCode",
    "Scheme",
    "SchemeBase",
    "StatusAllocation",
    "StatusList",
    "StatusPurpose",
    "TrustListRecord",
    "UtcDateTime",
]
