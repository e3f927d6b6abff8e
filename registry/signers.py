"""One `issuer.Issuer` per certification body, kept between requests.

Decrypting a key costs a PBKDF2 run (≈0.2 s here), so decrypted keys are cached; an Issuer is rebuilt only when
its keystore's metadata changes (rotation, compromise: the files are replaced, so their mtimes change) or the
body's identity or scheme does. Each keystore directory is `<keystore_path>/<slug>`; the scheme owner's is
`<keystore_path>/_registry`.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlmodel import Session

from issuer import Issuer, IssuerIdentity, Scheme, utc_now
from keys import KeysError, Keystore, PublishedKey, SigningKey
from registry.config import Settings
from registry.errors import SigningUnavailableError
from registry.identity import REGISTRY_KEYSTORE
from registry.models import CertificationBody
from registry.models import Scheme as SchemeRow

Clock = Callable[[], datetime]
Fingerprint = tuple[object, ...]


@dataclass(frozen=True, slots=True)
class SignerSpec:
    """Everything an Issuer is built from; a factory that fails here leaves the registry unchanged."""

    identity: IssuerIdentity
    signing_key: SigningKey
    published_keys: list[PublishedKey]
    scheme: Scheme
    registry_url: str
    clock: Clock


def build_issuer(spec: SignerSpec) -> Issuer:
    """The default factory: an Issuer that self-checks everything it signs."""
    return Issuer(
        identity=spec.identity,
        signing_key=spec.signing_key,
        published_keys=spec.published_keys,
        scheme=spec.scheme,
        registry_url=spec.registry_url,
        clock=spec.clock,
    )


IssuerFactory = Callable[[SignerSpec], Issuer]


class KeyCache:
    """Decrypted signing keys by keystore directory and kid. Shareable between apps in one process."""

    def __init__(self) -> None:
        self._keys: dict[tuple[Path, str], SigningKey] = {}
        self._lock = threading.Lock()

    def signing_key(self, keystore: Keystore, kid: str) -> SigningKey:
        """Key `kid` of `keystore`, decrypted once per process."""
        key = (keystore.path.resolve(), kid)
        with self._lock:
            cached = self._keys.get(key)
            if cached is None:
                cached = self._keys[key] = keystore.signing_key(kid)
            return cached


def keystore_fingerprint(path: Path) -> Fingerprint:
    """Names, sizes and mtimes of the keystore's metadata files: changes whenever a key's state changes.

    Checked on every signing request, so one directory scan and one stat per file.
    """
    try:
        with os.scandir(path) as entries:
            found = [(entry.name, entry.stat()) for entry in entries if entry.name.endswith(".json")]
    except OSError:
        return ()
    return tuple(sorted((name, stat.st_mtime_ns, stat.st_size) for name, stat in found))


class Signers:
    """Issuers per certification body and published keys per keystore, rebuilt when their inputs change."""

    def __init__(
        self,
        *,
        keystore_path: Path,
        passphrase: bytes,
        public_url: str,
        clock: Clock,
        key_cache: KeyCache | None = None,
        factory: IssuerFactory = build_issuer,
    ) -> None:
        self._root = keystore_path
        self._passphrase = passphrase
        self._public_url = public_url
        self._clock = clock
        self._keys = key_cache or KeyCache()
        self._factory = factory
        self._issuers: dict[int, tuple[Fingerprint, Issuer]] = {}
        self._published: dict[str, tuple[Fingerprint, list[PublishedKey]]] = {}
        self._lock = threading.Lock()

    @classmethod
    def of(
        cls,
        settings: Settings,
        *,
        clock: Clock = utc_now,
        key_cache: KeyCache | None = None,
        factory: IssuerFactory = build_issuer,
    ) -> Signers:
        """The signers of a deployment: its keystores, passphrase and public URL (server and CLI alike)."""
        return cls(
            keystore_path=settings.keystore_path,
            passphrase=settings.passphrase(),
            public_url=settings.public_url,
            clock=clock,
            key_cache=key_cache,
            factory=factory,
        )

    def keystore(self, name: str) -> Keystore:
        """The keystore of body `name` (its slug), or of the registry itself (REGISTRY_KEYSTORE)."""
        return Keystore(self._root / name, passphrase=self._passphrase, clock=self._clock)

    def published_keys(self, name: str) -> list[PublishedKey]:
        """Every key of keystore `name`, retired and compromised ones included, without decrypting any."""
        keystore = self.keystore(name)
        fingerprint = keystore_fingerprint(keystore.path)
        with self._lock:
            cached = self._published.get(name)
            if cached is not None and cached[0] == fingerprint:
                return cached[1]
        keys = keystore.published_keys()
        with self._lock:
            self._published[name] = (fingerprint, keys)
        return keys

    def registry_keys(self) -> list[PublishedKey]:
        """The scheme owner's own keys, for /.well-known/did.json and jwks.json."""
        return self.published_keys(REGISTRY_KEYSTORE)

    def registry_signing_key(self) -> tuple[str, SigningKey]:
        """The scheme owner's active key (its kid, decrypted once per process), which signs the trust list and
        bundles. Raises SigningUnavailableError if there is none."""
        keystore = self.keystore(REGISTRY_KEYSTORE)
        try:
            active = keystore.active()
            return active.kid, self._keys.signing_key(keystore, active.kid)
        except KeysError as e:
            raise SigningUnavailableError(f"the registry cannot sign: {e}") from e

    def for_body(self, session: Session, body: CertificationBody) -> Issuer:
        """The Issuer that signs for `body` now. Raises SigningUnavailableError if it cannot sign."""
        assert body.id is not None  # noqa: S101  # a persisted body
        keystore = self.keystore(body.slug)
        fingerprint = (
            keystore_fingerprint(keystore.path),
            body.did,
            body.name_en,
            body.name_ja,
            body.scheme_id,
        )
        with self._lock:
            cached = self._issuers.get(body.id)
            if cached is not None and cached[0] == fingerprint:
                return cached[1]
        scheme_row = session.get(SchemeRow, body.scheme_id)
        if scheme_row is None:
            raise SigningUnavailableError(f"scheme {body.scheme_id} of {body.slug} is not in the registry")
        try:
            active = keystore.active()
            spec = SignerSpec(
                identity=IssuerIdentity(did=body.did, name_en=body.name_en, name_ja=body.name_ja),
                signing_key=self._keys.signing_key(keystore, active.kid),
                published_keys=keystore.published_keys(),
                scheme=Scheme.model_validate(scheme_row.definition),
                registry_url=self._public_url,
                clock=self._clock,
            )
            issuer = self._factory(spec)
        except KeysError as e:
            raise SigningUnavailableError(f"{body.slug} cannot sign: {e}") from e
        with self._lock:
            self._issuers[body.id] = (fingerprint, issuer)
        return issuer
