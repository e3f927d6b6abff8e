"""Verify AI-governance certificates, or any VC 2.0 `vc+jwt` credential, and explain every check.

The light package that procurement teams install: no web server, no ORM. Offline verification needs only a
`TrustStore` (pinned keys, status-list snapshots) and a clock. `verifier.problems` holds the problem type URIs
(VC Data Model 2.0 §7.2, Bitstring Status List §3.5, `urn:aigov:problem:*`) that results and the registry use.
"""

from verifier._corporate_number import validate_corporate_number
from verifier._errors import TrustStoreError, VerificationFailedError, VerifierError
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
)
from verifier._result import CHECK_NAMES, CheckResult, Outcome, Verdict, VerificationResult
from verifier._statuslist import MIN_ENTRIES, Bitstring, StatusListError, parse_index
from verifier._trust import StatusSnapshot, TrustedIssuer, TrustStore
from verifier._verify import DEFAULT_MAX_CLOCK_SKEW, verify, verify_status_list

__all__ = [
    "AIGOV_CONTEXT_PATH",
    "AIGOV_SCHEMA_PATH",
    "AIGOV_TYPE",
    "CHECK_NAMES",
    "DEFAULT_MAX_CLOCK_SKEW",
    "MIN_ENTRIES",
    "OB3_CONTEXT",
    "VC2_CONTEXT",
    "AIRole",
    "Bitstring",
    "CertificateNumber",
    "CertificationCredential",
    "CheckResult",
    "Credential",
    "Date",
    "HttpsUrl",
    "LocalizedName",
    "LongText",
    "Outcome",
    "ShortText",
    "StatusListError",
    "StatusSnapshot",
    "TrustStore",
    "TrustStoreError",
    "TrustedIssuer",
    "Url",
    "Verdict",
    "VerificationFailedError",
    "VerificationResult",
    "VerifierError",
    "describe_validation_error",
    "format_date_time_stamp",
    "parse_date_time_stamp",
    "parse_index",
    "validate_corporate_number",
    "verify",
    "verify_status_list",
]
