"""Verify AI-governance certificates, or any VC 2.0 `vc+jwt` credential, and explain every check.

The light package that procurement teams install: no web server, no ORM. Offline verification needs only a
`TrustStore` (pinned keys, status-list snapshots) and a clock. `verifier.problems` holds the problem type URIs
(VC Data Model 2.0 §7.2, Bitstring Status List §3.5, `urn:aigov:problem:*`) that results and the registry use.
"""

import importlib
import typing

from verifier._badge import (
    Badge,
    BadgeError,
    badge_text,
    compare_badge_text,
    extract_badge,
    page_url_problem,
    verify_badge,
    with_badge_check,
)
from verifier._badge_svg import BADGE_LAYOUT, BadgeLayout, badge_svg
from verifier._batch import (
    BatchRow,
    Claim,
    decode_claims,
    normalize_company,
    read_claims,
    report_csv,
    report_html,
    report_json,
    summarize,
    verify_batch,
)
from verifier._corporate_number import corporate_number_check_digit, validate_corporate_number
from verifier._errors import TrustStoreError, VerificationFailedError, VerifierError
from verifier._hosts import is_loopback_host
from verifier._json import loads as parse_json
from verifier._jws import CompactJws, JwsError, parse_compact
from verifier._model import (
    AIGOV_CONTEXT_PATH,
    AIGOV_SCHEMA_PATH,
    AIGOV_TYPE,
    OB3_CONTEXT,
    VC2_CONTEXT,
    AIRole,
    CertificateNumber,
    CertificationCredential,
    Credential,
    Date,
    HttpsUrl,
    LocalizedName,
    LongText,
    ShortText,
    Url,
    describe_validation_error,
    format_date_time_stamp,
    parse_date_time_stamp,
    validate_certificate,
)
from verifier._qr import decode_qr
from verifier._result import CHECK_NAMES, CheckResult, Outcome, Verdict, VerificationResult
from verifier._statuslist import MAX_DECODED_BYTES, MIN_ENTRIES, Bitstring, StatusListError, parse_index
from verifier._trust import (
    StatusSnapshot,
    TrustedIssuer,
    TrustStore,
    describe_duration,
    read_json_file,
)
from verifier._trustlist import (
    BUNDLE_PATH,
    BUNDLE_TYPE,
    DEFAULT_BUNDLE_MAX_AGE,
    MAX_BUNDLE_TOKEN_BYTES,
    TRUST_CONTEXT_PATH,
    TRUST_LIST_PATH,
    TRUST_LIST_TYPE,
    BundleCredential,
    BundleResult,
    TrustListCredential,
    TrustListResult,
    describe_age,
    owner_keys_by_fingerprint,
    verify_bundle,
    verify_trust_list,
)
from verifier._verify import DEFAULT_MAX_CLOCK_SKEW, verify, verify_status_list

__all__ = [
    "AIGOV_CONTEXT_PATH",
    "AIGOV_SCHEMA_PATH",
    "AIGOV_TYPE",
    "BADGE_LAYOUT",
    "BUNDLE_PATH",
    "BUNDLE_TYPE",
    "CHECK_NAMES",
    "DEFAULT_BUNDLE_MAX_AGE",
    "DEFAULT_MAX_CLOCK_SKEW",
    "MAX_BUNDLE_TOKEN_BYTES",
    "MAX_DECODED_BYTES",
    "MIN_ENTRIES",
    "OB3_CONTEXT",
    "TRUST_CONTEXT_PATH",
    "TRUST_LIST_PATH",
    "TRUST_LIST_TYPE",
    "VC2_CONTEXT",
    "AIRole",
    "Badge",
    "BadgeError",
    "BadgeLayout",
    "BatchRow",
    "Bitstring",
    "BundleCredential",
    "BundleResult",
    "CertificateNumber",
    "CertificationCredential",
    "CheckResult",
    "Claim",
    "CompactJws",
    "Credential",
    "Date",
    "FetchError",
    "Fetcher",
    "HttpsUrl",
    "JwsError",
    "LocalizedName",
    "LongText",
    "OnlineVerifier",
    "Outcome",
    "ShortText",
    "StatusListError",
    "StatusSnapshot",
    "TrustListCredential",
    "TrustListResult",
    "TrustStore",
    "TrustStoreError",
    "TrustedIssuer",
    "Url",
    "Verdict",
    "VerificationFailedError",
    "VerificationResult",
    "VerifierError",
    "badge_svg",
    "badge_text",
    "compare_badge_text",
    "corporate_number_check_digit",
    "decode_claims",
    "decode_qr",
    "describe_age",
    "describe_duration",
    "describe_validation_error",
    "extract_badge",
    "format_date_time_stamp",
    "is_loopback_host",
    "normalize_company",
    "origin_of",
    "owner_keys_by_fingerprint",
    "page_url_problem",
    "parse_compact",
    "parse_date_time_stamp",
    "parse_index",
    "parse_json",
    "read_claims",
    "read_json_file",
    "report_csv",
    "report_html",
    "report_json",
    "summarize",
    "validate_certificate",
    "validate_corporate_number",
    "verify",
    "verify_badge",
    "verify_batch",
    "verify_bundle",
    "verify_status_list",
    "verify_trust_list",
    "with_badge_check",
]

if typing.TYPE_CHECKING:
    from verifier._online import Fetcher, FetchError, OnlineVerifier, origin_of

# The online verifier is the only part that needs httpx: it is imported when first used, so that `import
# verifier` (and `aigov verify` offline) stays free of an HTTP client.
_LAZY = dict.fromkeys(("FetchError", "Fetcher", "OnlineVerifier", "origin_of"), "verifier._online")


def __getattr__(name: str) -> object:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'verifier' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value
