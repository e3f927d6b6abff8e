"""Problem type URIs: VC Data Model 2.0 §7.2, Bitstring Status List v1.0 §3.5, and aigov's own `urn:aigov:problem:*`.

The registry answers HTTP errors with the same URIs (RFC 9457), so a problem means one thing everywhere.
"""

from __future__ import annotations

_VC = "https://www.w3.org/TR/vc-data-model#"
_STATUS = "https://www.w3.org/ns/credentials/status-list#"
_AIGOV = "urn:aigov:problem:"

PARSING_ERROR = _VC + "PARSING_ERROR"
CRYPTOGRAPHIC_SECURITY_ERROR = _VC + "CRYPTOGRAPHIC_SECURITY_ERROR"
MALFORMED_VALUE_ERROR = _VC + "MALFORMED_VALUE_ERROR"
RANGE_ERROR = _VC + "RANGE_ERROR"

STATUS_RETRIEVAL_ERROR = _STATUS + "STATUS_RETRIEVAL_ERROR"
STATUS_VERIFICATION_ERROR = _STATUS + "STATUS_VERIFICATION_ERROR"
STATUS_LIST_LENGTH_ERROR = _STATUS + "STATUS_LIST_LENGTH_ERROR"

UNTRUSTED_ISSUER = _AIGOV + "untrusted-issuer"
UNKNOWN_KEY = _AIGOV + "unknown-key"
KEY_NOT_USABLE = _AIGOV + "key-not-usable"
CLAIM_MISMATCH = _AIGOV + "claim-mismatch"
PROFILE_VIOLATION = _AIGOV + "profile-violation"
NOT_YET_VALID = _AIGOV + "not-yet-valid"
EXPIRED = _AIGOV + "expired"
REVOKED = _AIGOV + "revoked"
SUSPENDED = _AIGOV + "suspended"
LEGACY_FORMAT = _AIGOV + "legacy-format"
RETRIEVAL_ERROR = _AIGOV + "retrieval-error"  # a credential named by id or URL could not be fetched
# The registry answered 404/410 for a credential id on its own origin: it holds no such certificate (invalid).
UNKNOWN_CREDENTIAL = _AIGOV + "unknown-credential"

# The trust chain (scheme owner → certification body → certificate) and offline bundles.
NOT_ACCREDITED = _AIGOV + "not-accredited"
ACCREDITATION_SUSPENDED = _AIGOV + "accreditation-suspended"
ACCREDITATION_WITHDRAWN = _AIGOV + "accreditation-withdrawn"
TRUST_LIST_EXPIRED = _AIGOV + "trust-list-expired"
STALE_BUNDLE = _AIGOV + "stale-bundle"
# A --status-list snapshot older than the verifier's max-age policy (status indeterminate).
STALE_STATUS_LIST = _AIGOV + "stale-status-list"
# A badge's QR code that could not be read here (the light verifier, without zxing-cpp): where the code leads is
# unknown, so the badge is indeterminate. A reader without Reed-Solomon decoding could be fooled, so none is used.
QR_CODE_NOT_READ = _AIGOV + "qr-code-not-read"
