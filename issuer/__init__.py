"""Turn a certification decision into a signed W3C Verifiable Credential (VC-JOSE-COSE `vc+jwt`).

A library with no I/O of its own beyond the files it is pointed at; the registry and the CLI drive it.
"""

from issuer._badge import BadgeRenderError, render_badge_png, render_badge_svg, render_qr_svg
from issuer._build import (
    IssuerIdentity,
    StatusSlot,
    achievement,
    build_credential,
    build_status_list_credential,
    scheme_url,
    validity_end,
)
from issuer._decision import CertificationDecision, Company
from issuer._errors import DecisionError, IssuerError, SchemeError, SelfCheckError
from issuer._issuer import (
    IssuedCredential,
    Issuer,
    IssueRequest,
    SignedBatch,
    parse_decision,
    random_slot,
    utc_now,
)
from issuer._scheme import Level, Scheme, load_scheme
from issuer._signing import MEDIA_TYPE, sign_credential
from issuer._trustlist import (
    DEFAULT_TRUST_LIST_VALIDITY,
    AccreditationEntry,
    ListedBody,
    build_bundle,
    build_trust_list,
)

__all__ = [
    "DEFAULT_TRUST_LIST_VALIDITY",
    "MEDIA_TYPE",
    "AccreditationEntry",
    "BadgeRenderError",
    "CertificationDecision",
    "Company",
    "DecisionError",
    "IssueRequest",
    "IssuedCredential",
    "Issuer",
    "IssuerError",
    "IssuerIdentity",
    "Level",
    "ListedBody",
    "Scheme",
    "SchemeError",
    "SelfCheckError",
    "SignedBatch",
    "StatusSlot",
    "achievement",
    "build_bundle",
    "build_credential",
    "build_status_list_credential",
    "build_trust_list",
    "load_scheme",
    "parse_decision",
    "random_slot",
    "render_badge_png",
    "render_badge_svg",
    "render_qr_svg",
    "scheme_url",
    "sign_credential",
    "utc_now",
    "validity_end",
]
