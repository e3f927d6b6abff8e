"""An encrypted on-disk keystore for issuer signing keys and their lifecycle: active → retired or compromised.

Layout: a 0700 directory holding, per key, `<kid>.pem` (PKCS#8, encrypted with the keystore passphrase) and
`<kid>.json` (algorithm, public JWK, state and its history). Listing and publishing read only the JSON; only
signing decrypts. Every file is written atomically (temp file, fsync, rename, fsync of the directory) and a
key's PEM is written before its metadata, so a crash leaves the old state or the new one, never a half-written
key: a PEM without metadata is ignored.

Every read-modify-write (generate, rotate, mark_compromised) holds an exclusive flock(2) on `.lock` in the
directory and re-reads the records under it, so concurrent commands and a running server, in other processes or
other threads, see each other's changes instead of overwriting them. Reads take no lock (see `active`).
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import hashlib
import json
import os
import re
import secrets
import stat
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Any

from cryptography.exceptions import UnsupportedAlgorithm

from keys._algorithms import Algorithm, PublicKey, SigningKey
from keys._errors import (
    CorruptKeyFileError,
    InvalidKeyError,
    KeyNotFoundError,
    KeyStateError,
    KeystoreError,
    UnsupportedAlgorithmError,
    WrongPassphraseError,
)
from keys._publication import format_date_time_stamp, parse_date_time_stamp
from keys._published import PublishedKey

_FORMAT = "aigov-keystore/1"
# PKCS#8 encryption in `cryptography` stretches a password with only 2,048 PBKDF2 rounds, and offers no way to
# ask for more. So the PEM password is the passphrase stretched first with scrypt (RFC 7914; N=2^15, r=8: 32 MiB
# and tens of milliseconds per attempt), salted with the key's own thumbprint, which is unique and public.
# The file stays a standard encrypted PKCS#8 PEM; its password is what `pem_password` derives.
_SCRYPT = {"n": 2**15, "r": 8, "p": 1, "maxmem": 64 * 1024 * 1024, "dklen": 32}
_KDF = "scrypt(N=2^15,r=8,p=1,salt='aigov-keystore/1:'+kid)"
# The lock file of the directory. Created once and never deleted: a process waiting on a deleted lock file and
# one locking its replacement would both go ahead.
_LOCK = ".lock"
# A kid is the base64url SHA-256 thumbprint (RFC 7638 §3): 43 characters. Checked before any path is built.
_KID = re.compile(r"[A-Za-z0-9_-]{43}", re.ASCII)
# RFC 7468 §10 (PKCS#8) and §11 (encrypted PKCS#8), strict: one key, complete, nothing around it.
_PEM = re.compile(
    rb"-----BEGIN (ENCRYPTED )?PRIVATE KEY-----\r?\n"
    rb"([A-Za-z0-9+/=\r\n]+)"
    rb"-----END (?(1)ENCRYPTED )PRIVATE KEY-----\r?\n?"
)


class KeyState(StrEnum):
    """Lifecycle of a signing key. Only an active key signs; retired and compromised keys stay published."""

    ACTIVE = "active"
    RETIRED = "retired"
    COMPROMISED = "compromised"


@dataclass(frozen=True, slots=True)
class KeyRecord:
    """What the keystore knows about one key, without its private part."""

    kid: str
    alg: Algorithm
    state: KeyState
    created: datetime
    retired_at: datetime | None
    compromised_at: datetime | None
    public_key: PublicKey
    history: tuple[tuple[KeyState, datetime], ...]

    def published(self) -> PublishedKey:
        """The key as verifiers see it: signatures count before its retirement and before its compromise."""
        return PublishedKey(self.public_key, expires=self.retired_at, revoked=self.compromised_at)


def _utc_now() -> datetime:
    return datetime.now(UTC)


class Keystore:
    """A directory of encrypted signing keys.

    A passphrase is required: `allow_plaintext_keys=True` stores private keys unencrypted and exists only for
    throwaway test keys. One passphrase serves the whole keystore; creating a key first checks that it opens
    the existing ones.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        passphrase: bytes | None,
        allow_plaintext_keys: bool = False,
        clock: Callable[[], datetime] = _utc_now,
    ) -> None:
        self._path = Path(path)
        if passphrase is None and not allow_plaintext_keys:
            raise KeystoreError(
                "a passphrase is required to encrypt private keys at rest "
                "(allow_plaintext_keys=True is for throwaway test keys only)",
                path=self._path,
            )
        if passphrase is not None and not passphrase:
            raise KeystoreError("the passphrase is empty", path=self._path)
        self._passphrase = passphrase
        self._clock = clock

    @property
    def path(self) -> Path:
        return self._path

    def generate(self, alg: Algorithm | str = Algorithm.EDDSA) -> KeyRecord:
        """Create the first active key (or a new one after the active key was compromised)."""
        algorithm = Algorithm.parse(alg)
        with self._locked(exclusive=True):
            records = self.records()
            for record in records:
                if record.state is KeyState.ACTIVE:
                    raise KeyStateError(
                        f"key {record.kid} is already active; rotate to replace it (aigov keys rotate)",
                        kid=record.kid,
                    )
            with_private_key = [record for record in records if self._pem_path(record.kid).exists()]
            if with_private_key:  # one passphrase per keystore: it must open the newest existing key
                self._load(with_private_key[-1])
            record = self._new_key(algorithm, self._now())
            self._save(record)
        return record

    def rotate(self, alg: Algorithm | str | None = None) -> KeyRecord:
        """Make a new active key (by default of the same algorithm) and retire the current one as of now.

        Order on disk: the new PEM, then the old key's metadata (retired), then the new key's metadata. A
        crash in between leaves no active key rather than two, and `generate` recovers.
        """
        self.active()  # fails before the lock would create a keystore that does not exist
        with self._locked(exclusive=True):
            # Read again under the lock: a concurrent rotation or compromise may have replaced the active key.
            old = self._only_active(self.records())
            self._load(old)  # the passphrase must open the current key, so the keystore keeps one passphrase
            now = self._now()
            new = self._new_key(old.alg if alg is None else Algorithm.parse(alg), now)
            retired = replace(
                old, state=KeyState.RETIRED, retired_at=now, history=(*old.history, (KeyState.RETIRED, now))
            )
            self._save(retired)
            self._save(new)
        return new

    def mark_compromised(self, kid: str, *, at: datetime) -> KeyRecord:
        """Record that key `kid` was compromised as of `at`: its signatures from `at` on no longer count.

        Any state may become compromised; an active key stops being active, so a new one must be generated.
        The time can be moved earlier but never later, and never into the future.
        """
        if at.utcoffset() is None:
            raise ValueError(f"refusing a naive compromise time {at!r}: give it a time zone")
        try:
            at = at.astimezone(UTC)
        except OverflowError:  # 0001-01-01T00:00:00+01:00 is in year 0 in UTC
            raise ValueError(
                f"compromise time {at.isoformat()} is out of range: in UTC it falls outside the years 1 to 9999"
            ) from None
        self.record(kid)  # fails before the lock would create a keystore that does not exist
        if at > self._now():
            raise KeyStateError(
                f"compromise time {format_date_time_stamp(at)} is in the future; give the time the key was "
                "(or may have been) exposed",
                kid=kid,
            )
        with self._locked(exclusive=True):
            record = self.record(kid)  # as it is now: a concurrent rotation may have retired it meanwhile
            if record.compromised_at is not None and at >= record.compromised_at:
                raise KeyStateError(
                    f"key {kid} is already compromised as of {format_date_time_stamp(record.compromised_at)}; "
                    "a compromise time can only move earlier",
                    kid=kid,
                )
            updated = replace(
                record,
                state=KeyState.COMPROMISED,
                compromised_at=at,
                history=(*record.history, (KeyState.COMPROMISED, at)),
            )
            self._save(updated)
        return updated

    def records(self) -> list[KeyRecord]:
        """Every key with metadata, oldest first. A PEM without metadata (an interrupted write) is ignored."""
        if not self._check_directory():
            return []
        records = [
            self._read_record(path)
            for path in self._path.glob("*.json")
            if _KID.fullmatch(path.stem) is not None
        ]
        return sorted(records, key=lambda record: (record.created, record.kid))

    def record(self, kid: str) -> KeyRecord:
        """The record of key `kid`, or KeyNotFoundError."""
        path = self._path / f"{kid}.json"
        if _KID.fullmatch(kid) is None or not path.is_file():
            raise KeyNotFoundError(f"no key {kid!r} in keystore {self._path}", path=self._path)
        self._check_directory()
        return self._read_record(path)

    def active(self) -> KeyRecord:
        """The one key that signs now, or KeyStateError.

        Reads take no lock: every file is replaced atomically, so each record read is one a writer saved. A
        rotation saves two, though, retiring the old key before saving the new one; a reader that sees keys but
        none active looks again under a shared lock, which waits for a rotation in progress to finish.
        """
        records = self.records()
        if records and all(record.state is not KeyState.ACTIVE for record in records):
            with self._locked(exclusive=False):
                records = self.records()
        return self._only_active(records)

    def _only_active(self, records: list[KeyRecord]) -> KeyRecord:
        """The one active key among `records`, or the error `active` explains."""
        active = [record for record in records if record.state is KeyState.ACTIVE]
        if not active:
            raise KeyStateError(
                f"keystore {self._path} has no active key; create one with `aigov keys new`", kid=""
            )
        if len(active) > 1:
            raise KeystoreError(
                f"keystore {self._path} has {len(active)} active keys ({', '.join(r.kid for r in active)}); "
                "its metadata was edited or restored inconsistently",
                path=self._path,
            )
        return active[0]

    def signing_key(self, kid: str | None = None) -> SigningKey:
        """Decrypt the active key (or key `kid`, which must be active): only an active key may sign."""
        record = self.active() if kid is None else self.record(kid)
        if record.state is not KeyState.ACTIVE:
            since = record.compromised_at or record.retired_at
            when = f" since {format_date_time_stamp(since)}" if since is not None else ""
            raise KeyStateError(
                f"key {record.kid} is {record.state.value}{when} and can no longer sign; "
                "sign with the active key",
                kid=record.kid,
            )
        return self._load(record)

    def published_keys(self) -> list[PublishedKey]:
        """Every key, for a JWKS or DID document: retired and compromised keys stay published, with times."""
        return [record.published() for record in self.records()]

    # --- private: time, files ---------------------------------------------------------------------------

    def _now(self) -> datetime:
        moment = self._clock()
        if moment.utcoffset() is None:
            raise ValueError(f"the keystore clock returned a naive datetime {moment!r}")
        return moment.astimezone(UTC)

    @contextlib.contextmanager
    def _locked(self, *, exclusive: bool) -> Iterator[None]:
        """Hold the keystore's flock: exclusive to change it (creating it if need be), shared to read it whole.

        flock(2) locks an open file description, so one taken on a descriptor of its own excludes other
        threads of this process as it does other processes. Never nest: a second lock in one thread waits on
        the first forever.
        """
        import fcntl  # noqa: PLC0415 - POSIX only, and `import keys` (aigov verify) must work without it

        if exclusive:
            try:
                self._path.mkdir(mode=0o700, parents=True, exist_ok=True)
            except OSError as e:
                raise KeystoreError(
                    f"cannot create keystore {self._path}: {e.strerror}", path=self._path
                ) from e
            self._check_directory()
        lock = self._path / _LOCK
        flags = os.O_RDONLY | os.O_NOFOLLOW | (os.O_CREAT if exclusive else 0)
        descriptor: int | None
        try:
            descriptor = os.open(lock, flags, 0o600)
        except FileNotFoundError as e:
            if exclusive:  # the directory was removed since it was made
                raise KeystoreError(f"cannot lock keystore {self._path}: {e.strerror}", path=lock) from e
            descriptor = None  # no writer has locked this keystore yet, so none is half-way through a change
        except OSError as e:
            raise KeystoreError(f"cannot lock keystore {self._path}: {e.strerror}", path=lock) from e
        if descriptor is None:
            yield
            return
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH)
            yield
        finally:
            # Unlock explicitly: a child forked meanwhile shares the descriptor and would keep the lock.
            fcntl.flock(descriptor, fcntl.LOCK_UN)
            os.close(descriptor)

    def _pem_password(self, kid: str) -> bytes | None:
        """The PEM password of key `kid`: the passphrase stretched with scrypt (see _SCRYPT)."""
        if self._passphrase is None:
            return None
        salt = f"{_FORMAT}:{kid}".encode()
        return hashlib.scrypt(self._passphrase, salt=salt, **_SCRYPT).hex().encode()

    def _pem_path(self, kid: str) -> Path:
        return self._path / f"{kid}.pem"

    def _new_key(self, alg: Algorithm, now: datetime) -> KeyRecord:
        """Generate a key and write its PEM; its metadata is the caller's to save."""
        signing_key = SigningKey.generate(alg)
        self._write(self._pem_path(signing_key.kid), signing_key.to_pem(self._pem_password(signing_key.kid)))
        return KeyRecord(
            kid=signing_key.kid,
            alg=alg,
            state=KeyState.ACTIVE,
            created=now,
            retired_at=None,
            compromised_at=None,
            public_key=signing_key.public_key,
            history=((KeyState.ACTIVE, now),),
        )

    def _save(self, record: KeyRecord) -> None:
        def stamp(moment: datetime | None) -> str | None:
            return None if moment is None else format_date_time_stamp(moment)

        metadata = {
            "format": _FORMAT,
            "kdf": _KDF,
            "kid": record.kid,
            "alg": record.alg.value,
            "publicKeyJwk": record.public_key.jwk,
            "state": record.state.value,
            "created": stamp(record.created),
            "retired_at": stamp(record.retired_at),
            "compromised_at": stamp(record.compromised_at),
            "history": [{"state": state.value, "at": stamp(at)} for state, at in record.history],
        }
        self._write(self._path / f"{record.kid}.json", (json.dumps(metadata, indent=2) + "\n").encode())

    def _read_record(self, path: Path) -> KeyRecord:
        try:
            data = json.loads(path.read_bytes())
        except OSError as e:
            raise KeystoreError(f"cannot read {path}: {e.strerror}", path=path) from e
        except ValueError as e:  # JSONDecodeError and UnicodeDecodeError
            raise CorruptKeyFileError(f"{path} is not valid JSON: {e}", path=path) from e
        return _record_from_metadata(data, kid=path.stem, path=path)

    def _load(self, record: KeyRecord) -> SigningKey:
        """Decrypt a key's PEM, telling a wrong passphrase from a damaged file as well as PKCS#8 allows."""
        path = self._pem_path(record.kid)
        try:
            pem = path.read_bytes()
        except FileNotFoundError as e:
            raise CorruptKeyFileError(f"private key file {path} is missing", path=path) from e
        except OSError as e:
            raise KeystoreError(f"cannot read {path}: {e.strerror}", path=path) from e
        match = _PEM.fullmatch(pem)
        if match is None:
            raise CorruptKeyFileError(f"{path} is not a complete PKCS#8 PEM private key", path=path)
        encrypted = match[1] is not None
        try:
            der = base64.b64decode(re.sub(rb"\s", b"", match[2]), validate=True)
        except binascii.Error as e:
            raise CorruptKeyFileError(f"{path}: damaged base64 in the PEM body ({e})", path=path) from e
        if not _is_one_der_sequence(der):
            raise CorruptKeyFileError(f"{path}: the PEM body is not one complete DER structure", path=path)
        try:
            key = SigningKey.from_pem(pem, self._pem_password(record.kid))
        except TypeError as e:  # cryptography: a passphrase for a plaintext key, or none for an encrypted key
            if encrypted:
                raise WrongPassphraseError(
                    f"key {record.kid} is encrypted: a passphrase is needed", path=path
                ) from e
            raise KeystoreError(
                f"{path} is stored unencrypted, but this keystore encrypts its keys; remove or re-encrypt it",
                path=path,
            ) from e
        except ValueError as e:  # cryptography: failed decryption, or undecodable key data
            if encrypted:  # the DER envelope parsed above, so decryption is what failed
                raise WrongPassphraseError(
                    f"cannot decrypt key {record.kid}: wrong passphrase (or the file holds another key)",
                    path=path,
                ) from e
            raise CorruptKeyFileError(f"{path}: not a valid private key ({e})", path=path) from e
        except (UnsupportedAlgorithm, InvalidKeyError) as e:  # e.g. an unknown cipher, or an RSA key
            raise CorruptKeyFileError(f"{path}: {e}", path=path) from e
        if key.kid != record.kid:
            raise CorruptKeyFileError(f"{path} holds key {key.kid}, not {record.kid}", path=path)
        return key

    def _check_directory(self) -> bool:
        """Whether the keystore exists; one that others can enter is refused, as ssh refuses loose keys."""
        try:
            mode = self._path.stat().st_mode
        except FileNotFoundError:
            return False
        except OSError as e:
            raise KeystoreError(f"cannot use keystore {self._path}: {e.strerror}", path=self._path) from e
        if not stat.S_ISDIR(mode):
            raise KeystoreError(f"keystore {self._path} is not a directory", path=self._path)
        if mode & 0o077:
            raise KeystoreError(
                f"keystore {self._path} is accessible to other users (mode {stat.S_IMODE(mode):o}); "
                f"run: chmod 700 {self._path}",
                path=self._path,
            )
        return True

    def _write(self, final: Path, data: bytes) -> None:
        """Atomically replace `final`: a 0600 temp file in the same directory, fsync, rename, fsync.

        Called under the exclusive lock, which made and checked the directory.
        """
        temp = final.with_name(f".{final.name}.{secrets.token_hex(8)}.tmp")
        try:
            descriptor = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            try:
                view = memoryview(data)
                while view:
                    view = view[os.write(descriptor, view) :]
                os.fsync(descriptor)
            finally:
                os.close(descriptor)
            os.replace(temp, final)
            _fsync_directory(self._path)
        except BaseException as e:
            with contextlib.suppress(OSError):
                temp.unlink(missing_ok=True)
            if isinstance(e, OSError):
                raise KeystoreError(f"cannot write {final}: {e.strerror or e}", path=final) from e
            raise


def _fsync_directory(directory: Path) -> None:
    """Make a rename durable (POSIX: the directory entry is data of the directory)."""
    descriptor = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def _is_one_der_sequence(der: bytes) -> bool:
    """Whether `der` is exactly one DER SEQUENCE (X.690 §8.1.2-8.1.3): catches cut or padded key files."""
    if len(der) < 2 or der[0] != 0x30:
        return False
    length, offset = der[1], 2
    if length & 0x80:
        count = length & 0x7F
        if not 0 < count <= 4 or len(der) < offset + count:
            return False
        length, offset = int.from_bytes(der[offset : offset + count], "big"), offset + count
    return offset + length == len(der)


def _record_from_metadata(data: Any, *, kid: str, path: Path) -> KeyRecord:
    """Parse and cross-check a metadata file: the file name, `kid`, public key and state must agree."""

    def corrupt(message: str) -> CorruptKeyFileError:
        return CorruptKeyFileError(f"{path}: {message}", path=path)

    def moment(value: Any, what: str) -> datetime:
        try:
            return parse_date_time_stamp(value, what=what)
        except InvalidKeyError as e:
            raise corrupt(str(e)) from e

    def optional_moment(name: str) -> datetime | None:
        value = data.get(name)
        return None if value is None else moment(value, repr(name))

    if not isinstance(data, dict):
        raise corrupt("expected a JSON object")
    if data.get("format") != _FORMAT:
        raise corrupt(f"unknown format {data.get('format')!r}; expected {_FORMAT!r}")
    if data.get("kid") != kid:
        raise corrupt(f"'kid' {data.get('kid')!r} does not match the file name")
    try:
        alg = Algorithm.parse(data.get("alg"))
    except UnsupportedAlgorithmError as e:
        raise corrupt(
            f"unsupported algorithm {data.get('alg')!r}: aigov signs only with EdDSA and ES256"
        ) from e
    jwk = data.get("publicKeyJwk")
    if not isinstance(jwk, dict):
        raise corrupt("'publicKeyJwk' is missing or not an object")
    try:
        public_key = PublicKey.from_jwk(jwk)
    except InvalidKeyError as e:
        raise corrupt(f"'publicKeyJwk': {e}") from e
    if public_key.kid != kid:
        raise corrupt(f"'publicKeyJwk' is key {public_key.kid}, not {kid}")
    if public_key.alg is not alg:
        raise corrupt(f"'alg' is {alg.value} but the key is an {public_key.alg.value} key")
    try:
        state = KeyState(str(data.get("state")))
    except ValueError as e:
        raise corrupt(f"unknown state {data.get('state')!r}") from e
    created = moment(data.get("created"), "'created'")
    retired_at, compromised_at = optional_moment("retired_at"), optional_moment("compromised_at")
    expected = {
        KeyState.ACTIVE: retired_at is None and compromised_at is None,
        KeyState.RETIRED: retired_at is not None and compromised_at is None,
        KeyState.COMPROMISED: compromised_at is not None,
    }
    if not expected[state]:
        raise corrupt(f"state {state.value!r} contradicts retired_at/compromised_at")
    raw_history = data.get("history")
    if not isinstance(raw_history, list) or not all(isinstance(entry, dict) for entry in raw_history):
        raise corrupt("'history' must be an array of {state, at} objects")
    history = []
    for entry in raw_history:
        try:
            entry_state = KeyState(str(entry.get("state")))
        except ValueError as e:
            raise corrupt(f"unknown state {entry.get('state')!r} in 'history'") from e
        history.append((entry_state, moment(entry.get("at"), "'history' time")))
    return KeyRecord(
        kid=kid,
        alg=alg,
        state=state,
        created=created,
        retired_at=retired_at,
        compromised_at=compromised_at,
        public_key=public_key,
        history=tuple(history),
    )
