"""Publishing verification keys, and reading what others publish.

Three forms: a JWK Set (RFC 7517 §5); a did:web DID document whose verification methods are of type
`JsonWebKey` (W3C Controlled Identifiers v1.0 §2.2, the form VC-JOSE-COSE resolves `kid` against); and
did:key identifiers (did:key method, Multikey encoding of CID v1.0 §2.2.2).

The parsers read files that strangers give a verifier, so they are strict and say precisely what is wrong:
every `kid` must be the RFC 7638 thumbprint of its key, no private key material, no duplicates, every
verification method under the document's own DID, timestamps in XML Schema `dateTimeStamp` form.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import unquote

from cryptography.hazmat.primitives.asymmetric import ec

from keys._algorithms import Algorithm, PublicKey
from keys._b64 import b64url_decode, b64url_encode
from keys._errors import DidError, InvalidKeyError
from keys._published import PublishedKey

# DID Core v1.0 requires its context first; the CID v1.0 context defines `JsonWebKey`, `expires` and
# `revoked`, which the DID v1.0 context does not (w3c/did#903).
DID_CONTEXT = "https://www.w3.org/ns/did/v1"
CID_CONTEXT = "https://www.w3.org/ns/cid/v1"
JSON_WEB_KEY = "JsonWebKey"
# The pre-CID name of the same structure (W3C CCG JWS 2020); read, never written.
_LEGACY_JSON_WEB_KEY = "JsonWebKey2020"

# DID Core v1.0 §3.1: "did:" method-name ":" method-specific-id; idchar = ALPHA / DIGIT / "." / "-" / "_" /
# pct-encoded.
_IDCHAR = r"(?:[A-Za-z0-9._-]|%[0-9A-Fa-f]{2})"
_DID = re.compile(rf"did:[a-z0-9]+:(?:{_IDCHAR}*:)*{_IDCHAR}+", re.ASCII)
_FRAGMENT = re.compile(r"[A-Za-z0-9._~!$&'()*+,;=:@/?%-]+", re.ASCII)
# did:web §3.2.2: a domain name, optionally with a port whose colon is percent-encoded.
_WEB_HOST = re.compile(r"(?P<host>[A-Za-z0-9.-]+)(?:%3[Aa](?P<port>[0-9]{1,5}))?", re.ASCII)
_DNS_LABEL = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?", re.ASCII)
_WEB_SEGMENT = re.compile(rf"{_IDCHAR}+", re.ASCII)
# XML Schema 1.1 Part 2 §3.4.28 dateTimeStamp: a dateTime whose time zone is required.
_DATE_TIME_STAMP = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:\d{2})", re.ASCII)

# Members that carry secret key material in a verification method (CID v1.0 §2.2.2, §2.2.3) or in older
# verification method types.
_SECRET_MEMBERS = (
    "secretKeyJwk",
    "privateKeyJwk",
    "secretKeyMultibase",
    "privateKeyMultibase",
    "privateKeyBase58",
)

# did:key: multicodec varint prefixes (CID v1.0 §2.2.2 Multikey table) and base58btc (multibase 'z').
_ED25519_PUB = b"\xed\x01"
_P256_PUB = b"\x80\x24"
_BASE58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
_DID_KEY_PREFIX = "did:key:z"
_DID_KEY_MAX = 100  # longer than any key type we read; bounds the big-integer work on hostile input


def format_date_time_stamp(moment: datetime) -> str:
    """`moment` as an XML Schema dateTimeStamp in UTC ("2026-11-01T00:00:00Z"); fractions only if present."""
    if moment.utcoffset() is None:
        raise ValueError(f"refusing a naive datetime {moment!r}: give it a time zone")
    utc = moment.astimezone(UTC)
    return utc.isoformat(timespec="microseconds" if utc.microsecond else "seconds").replace("+00:00", "Z")


def parse_date_time_stamp(
    value: object, *, what: str, error: type[InvalidKeyError] = InvalidKeyError
) -> datetime:
    """Parse an XML Schema dateTimeStamp (time zone required) into an aware UTC datetime, or raise `error`."""
    if not isinstance(value, str) or _DATE_TIME_STAMP.fullmatch(value) is None:
        raise error(
            f"{what} must be an XML Schema dateTimeStamp such as '2026-11-01T00:00:00Z', got {value!r}"
        )
    try:
        moment = datetime.fromisoformat(value)
    except ValueError as e:  # the shape is right but e.g. month 13 or second 60
        raise error(f"{what} {value!r} is not a valid date and time: {e}") from e
    try:
        return moment.astimezone(UTC)
    except OverflowError as e:  # 9999-12-31T23:59:59-01:00 is in year 10000 in UTC
        raise error(f"{what} {value!r} is out of range: in UTC it falls outside the years 1 to 9999") from e


def verification_method_id(did: str, kid: str) -> str:
    """The absolute DID URL of a key in `did`'s document: what a JWS header's `kid` carries."""
    return f"{did}#{kid}"


def did_web_url(did: str) -> str:
    """Where the DID document of a did:web DID is served (did:web method §3.2.2 Read).

    did:web:host → https://host/.well-known/did.json; did:web:host:a:b → https://host/a/b/did.json; a port is
    written percent-encoded (did:web:host%3A8443).
    """
    if not isinstance(did, str) or not did.startswith("did:web:"):
        raise DidError(f"not a did:web DID: {did!r}", did=did if isinstance(did, str) else None)
    if _DID.fullmatch(did) is None:
        raise DidError(
            f"{did!r} is not a well-formed DID: only letters, digits, '.', '-', '_', %-escapes and ':' "
            "between segments are allowed (DID Core §3.1)",
            did=did,
        )
    host_part, *segments = did.removeprefix("did:web:").split(":")
    host = _WEB_HOST.fullmatch(host_part)
    if host is None:
        raise DidError(
            f"{did}: {host_part!r} is not a domain name with an optional %3A-encoded port", did=did
        )
    hostname, port = host["host"], host["port"]
    labels = hostname.split(".")
    if len(hostname) > 253 or not all(_DNS_LABEL.fullmatch(label) for label in labels):
        raise DidError(f"{did}: {hostname!r} is not a valid domain name", did=did)
    if all(label.isdigit() for label in labels):
        raise DidError(f"{did}: did:web names a domain, not an IP address", did=did)
    if port is not None and not 0 < int(port) <= 65535:
        raise DidError(f"{did}: port {port} is out of range", did=did)
    for segment in segments:
        decoded = unquote(segment) if _WEB_SEGMENT.fullmatch(segment) else ""
        if decoded in {"", ".", ".."} or any(c in decoded for c in "/?#\\"):
            raise DidError(f"{did}: path segment {segment!r} is empty or unsafe in a URL path", did=did)
    authority = f"{hostname}:{port}" if port is not None else hostname
    path = "/".join(segments) if segments else ".well-known"
    return f"https://{authority}/{path}/did.json"


def jwks(keys: Iterable[PublishedKey]) -> dict[str, Any]:
    """A JWK Set (RFC 7517 §5) of `keys`; `expires`/`revoked` carry each key's retirement and compromise."""
    return {"keys": [{**key.public_key.jwk, **_lifetime(key)} for key in _unique(keys)]}


def did_web_document(did: str, keys: Iterable[PublishedKey]) -> dict[str, Any]:
    """The DID document for `did` listing `keys` as `JsonWebKey` verification methods.

    Every key, retired and compromised ones included, is listed under `assertionMethod`: its `expires` or
    `revoked` time (CID v1.0 §2.2) is what stops it verifying later signatures, while credentials signed
    before that time keep verifying. Dropping a key from `assertionMethod` would invalidate all of them.
    """
    did_web_url(did)  # validates the DID
    methods = []
    for key in _unique(keys):
        public_jwk = {name: value for name, value in key.public_key.jwk.items() if name != "use"}
        methods.append(
            {
                "id": verification_method_id(did, key.kid),
                "type": JSON_WEB_KEY,
                "controller": did,
                "publicKeyJwk": public_jwk,
                **_lifetime(key),
            }
        )
    return {
        "@context": [DID_CONTEXT, CID_CONTEXT],
        "id": did,
        "verificationMethod": methods,
        "assertionMethod": [method["id"] for method in methods],
    }


def parse_jwks(doc: object) -> list[PublishedKey]:
    """The keys of a JWK Set, strictly: each needs a `kid` equal to its RFC 7638 thumbprint."""
    if not isinstance(doc, Mapping):
        raise InvalidKeyError("a JWKS must be a JSON object with a 'keys' array")
    entries = doc.get("keys")
    if not isinstance(entries, list):
        raise InvalidKeyError("JWKS member 'keys' is missing or not an array")
    keys: list[PublishedKey] = []
    for index, entry in enumerate(entries):
        where = f"JWKS key #{index}"
        public = _public_key(entry, where=where, error=InvalidKeyError, require_kid=True)
        if any(key.kid == public.kid for key in keys):
            raise InvalidKeyError(f"{where}: duplicate kid {public.kid!r}")
        expires, revoked = (
            _optional_time(entry, name, where=where, error=InvalidKeyError) for name in ("expires", "revoked")
        )
        keys.append(PublishedKey(public, expires=expires, revoked=revoked))
    return keys


def parse_did_document(doc: object, *, expected_did: str | None = None) -> list[PublishedKey]:
    """The keys a DID document authorizes for assertions (`assertionMethod`), strictly.

    Verification methods that no `assertionMethod` entry names are not returned: the controller has not
    authorized them to sign credentials (CID v1.0 §2.3).
    """
    if not isinstance(doc, Mapping):
        raise DidError("a DID document must be a JSON object")
    did = doc.get("id")
    if not isinstance(did, str) or _DID.fullmatch(did) is None:
        raise DidError(f"DID document 'id' must be a DID, got {did!r}")
    if expected_did is not None and did != expected_did:
        raise DidError(f"the DID document is for {did}, not the expected {expected_did}", did=did)
    context = doc.get("@context")
    if context is not None and not isinstance(context, str | list):
        raise DidError("DID document '@context' must be a string or an array", did=did)

    methods: dict[str, Mapping[str, Any]] = {}
    for index, method in enumerate(_array(doc, "verificationMethod", did)):
        method_id = _method_id(method, did, where=f"verificationMethod #{index}")
        if method_id in methods:
            raise DidError(f"verification method {method_id} is listed twice", did=did)
        methods[method_id] = method

    keys: list[PublishedKey] = []
    authorized: set[str] = set()
    for index, entry in enumerate(_array(doc, "assertionMethod", did)):
        where = f"assertionMethod #{index}"
        if isinstance(entry, str):  # a reference (CID v1.0 §2.2.4), absolute or relative to the DID
            method_id = _absolute(entry, did, where=where)
            if method_id not in methods:
                raise DidError(f"{where} refers to {method_id}, which is not in verificationMethod", did=did)
            method = methods[method_id]
        else:  # an embedded verification method, authorized for assertions only
            method_id = _method_id(entry, did, where=where)
            if method_id in methods:
                raise DidError(
                    f"{where} embeds {method_id}, an id already used in verificationMethod", did=did
                )
            method = entry
        if method_id in authorized:
            raise DidError(f"assertionMethod lists {method_id} twice", did=did)
        authorized.add(method_id)
        keys.append(_published_method(method, method_id, did))
    return keys


def did_key(public_key: PublicKey) -> str:
    """The did:key DID of `public_key`: multicodec prefix + key bytes, base58btc, multibase 'z'."""
    jwk = public_key.jwk
    if public_key.alg is Algorithm.EDDSA:
        payload = _ED25519_PUB + b64url_decode(jwk["x"])
    else:  # P-256: the SEC 1 compressed point, 0x02/0x03 by the parity of y
        x, y = b64url_decode(jwk["x"]), b64url_decode(jwk["y"])
        payload = _P256_PUB + bytes([2 | (y[-1] & 1)]) + x
    return _DID_KEY_PREFIX + _base58_encode(payload)


def public_key_from_did_key(did: str) -> PublicKey:
    """The public key a did:key DID encodes (Ed25519 or P-256), or DidError."""
    if not isinstance(did, str) or not did.startswith(_DID_KEY_PREFIX):
        raise DidError(f"not a base58btc did:key DID (it must start with {_DID_KEY_PREFIX!r}): {did!r}")
    encoded = did.removeprefix(_DID_KEY_PREFIX)
    if len(encoded) > _DID_KEY_MAX:
        raise DidError(
            f"did:key value too long for an Ed25519 or P-256 key ({len(encoded)} characters)", did=did
        )
    try:
        payload = _base58_decode(encoded)
    except ValueError as e:
        raise DidError(f"{did}: {e}", did=did) from e
    prefix, material = payload[:2], payload[2:]
    try:
        if prefix == _ED25519_PUB and len(material) == 32:
            return PublicKey.from_jwk({"kty": "OKP", "crv": "Ed25519", "x": b64url_encode(material)})
        if prefix == _P256_PUB and len(material) == 33 and material[0] in (2, 3):
            return PublicKey(ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), material))
    except (InvalidKeyError, ValueError) as e:  # e.g. an x coordinate with no point on the curve
        raise DidError(f"{did}: not a valid public key: {e}", did=did) from e
    raise DidError(
        f"{did}: unsupported did:key type (multicodec prefix {prefix.hex()}, {len(material)} key bytes); "
        "aigov reads Ed25519 (ed01) and P-256 (8024, compressed point)",
        did=did,
    )


def _lifetime(key: PublishedKey) -> dict[str, str]:
    times = {"expires": key.expires, "revoked": key.revoked}
    return {name: format_date_time_stamp(moment) for name, moment in times.items() if moment is not None}


def _unique(keys: Iterable[PublishedKey]) -> list[PublishedKey]:
    listed = list(keys)
    kids = [key.kid for key in listed]
    duplicates = sorted({kid for kid in kids if kids.count(kid) > 1})
    if duplicates:
        raise InvalidKeyError(f"key {duplicates[0]} is listed twice")
    return listed


def _public_key(
    jwk: object, *, where: str, error: type[InvalidKeyError], require_kid: bool, fragment: str | None = None
) -> PublicKey:
    if not isinstance(jwk, Mapping):
        raise error(f"{where}: a JWK must be a JSON object")
    use, key_ops, kid = jwk.get("use"), jwk.get("key_ops"), jwk.get("kid")
    if use is not None and use != "sig":  # RFC 7517 §4.2
        raise error(f"{where}: 'use' is {use!r}; a signature verification key has 'sig'")
    if key_ops is not None and (not isinstance(key_ops, list) or "verify" not in key_ops):  # RFC 7517 §4.3
        raise error(f"{where}: 'key_ops' must be an array that includes 'verify', got {key_ops!r}")
    try:
        public = PublicKey.from_jwk(jwk)
    except InvalidKeyError as e:
        raise error(f"{where}: {e}") from e
    if kid is None and require_kid:
        raise error(f"{where}: no 'kid'; aigov keys carry their RFC 7638 thumbprint as 'kid'")
    if kid is not None and kid != public.kid:
        raise error(f"{where}: 'kid' {kid!r} is not the RFC 7638 thumbprint of the key ({public.kid})")
    if fragment is not None and fragment != public.kid:
        raise error(
            f"{where}: the id fragment {fragment!r} is not the RFC 7638 thumbprint of the key ({public.kid})"
        )
    return public


def _optional_time(
    container: Mapping[str, Any], name: str, *, where: str, error: type[InvalidKeyError]
) -> datetime | None:
    value = container.get(name)
    return None if value is None else parse_date_time_stamp(value, what=f"{where}: {name!r}", error=error)


def _array(doc: Mapping[str, Any], name: str, did: str) -> list[Any]:
    value = doc.get(name, [])
    if not isinstance(value, list):
        raise DidError(f"DID document {name!r} must be an array", did=did)
    return value


def _absolute(reference: str, did: str, *, where: str) -> str:
    """Resolve a DID URL reference against the document's DID; only fragments of this DID are accepted."""
    absolute = did + reference if reference.startswith("#") else reference
    prefix = did + "#"
    if not absolute.startswith(prefix) or _FRAGMENT.fullmatch(absolute.removeprefix(prefix)) is None:
        raise DidError(
            f"{where}: {reference!r} is not a verification method of {did} ('{did}#<kid>')", did=did
        )
    return absolute


def _method_id(method: object, did: str, *, where: str) -> str:
    if not isinstance(method, Mapping):
        raise DidError(f"{where} must be a JSON object", did=did)
    method_id = method.get("id")
    if not isinstance(method_id, str):
        raise DidError(f"{where} has no string 'id'", did=did)
    absolute = _absolute(method_id, did, where=where)
    # CID v1.0 §2.2.3: publicKeyJwk MUST NOT carry private members; no verification method may carry a secret.
    secrets_found = [name for name in _SECRET_MEMBERS if name in method]
    if secrets_found:
        raise DidError(
            f"verification method {absolute} publishes secret key material ({secrets_found[0]})", did=did
        )
    public_jwk = method.get("publicKeyJwk")
    if isinstance(public_jwk, Mapping) and "d" in public_jwk:
        raise DidError(
            f"verification method {absolute} publishes a private key ('d' in publicKeyJwk)", did=did
        )
    return absolute


def _published_method(method: Mapping[str, Any], method_id: str, did: str) -> PublishedKey:
    where = f"verification method {method_id}"
    kind = method.get("type")
    if kind not in (JSON_WEB_KEY, _LEGACY_JSON_WEB_KEY):
        raise DidError(f"{where} has type {kind!r}; aigov reads only {JSON_WEB_KEY!r} methods", did=did)
    controller = method.get("controller")
    if controller != did:
        raise DidError(f"{where} has controller {controller!r}; expected the document's DID {did}", did=did)
    if "publicKeyMultibase" in method:  # CID v1.0 §2.2.1: one verification material property only
        raise DidError(f"{where} has both publicKeyJwk and publicKeyMultibase", did=did)
    if "publicKeyJwk" not in method:
        raise DidError(f"{where} has no publicKeyJwk", did=did)
    fragment = method_id.removeprefix(did + "#")
    public = _public_key(
        method["publicKeyJwk"], where=where, error=DidError, require_kid=False, fragment=fragment
    )
    expires, revoked = (
        _optional_time(method, name, where=where, error=DidError) for name in ("expires", "revoked")
    )
    return PublishedKey(public, expires=expires, revoked=revoked)


def _base58_encode(data: bytes) -> str:
    """Bitcoin base58 (draft-msporny-base58 §3): big-endian base-58 digits, one '1' per leading zero byte."""
    number = int.from_bytes(data, "big")
    digits = []
    while number:
        number, remainder = divmod(number, 58)
        digits.append(_BASE58[remainder])
    zeros = len(data) - len(data.lstrip(b"\0"))
    return "1" * zeros + "".join(reversed(digits))


def _base58_decode(text: str) -> bytes:
    number = 0
    for char in text:
        value = _BASE58.find(char)
        if value < 0:
            raise ValueError(f"{char!r} is not a base58btc character")
        number = number * 58 + value
    zeros = len(text) - len(text.lstrip("1"))
    return b"\0" * zeros + number.to_bytes((number.bit_length() + 7) // 8, "big")
