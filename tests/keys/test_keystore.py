"""The encrypted keystore: real keys in real files under tmp_path, with a fixed clock."""

from __future__ import annotations

import base64
import json
import os
import re
import stat
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

from keys import (
    Algorithm,
    CorruptKeyFileError,
    KeyNotFoundError,
    KeyState,
    KeyStateError,
    Keystore,
    KeystoreError,
    SigningKey,
    WrongPassphraseError,
)

if TYPE_CHECKING:
    from collections.abc import Callable

    from conftest import FixedClock

PASSPHRASE = b"correct horse battery staple"


@pytest.fixture
def store_path(tmp_path: Path) -> Path:
    return tmp_path / "keys"


@pytest.fixture
def store(store_path: Path, fixed_clock: FixedClock) -> Keystore:
    return Keystore(store_path, passphrase=PASSPHRASE, clock=fixed_clock)


def reopen(store: Keystore, fixed_clock: FixedClock, passphrase: bytes | None = PASSPHRASE) -> Keystore:
    """The same directory through a new Keystore, as another process would see it."""
    return Keystore(
        store.path, passphrase=passphrase, allow_plaintext_keys=passphrase is None, clock=fixed_clock
    )


def visible_files(store: Keystore) -> list[str]:
    """The keystore's files but its lock file, which the first write creates and nothing deletes."""
    return sorted(path.name for path in store.path.iterdir() if path.name != ".lock")


def raw_private_bytes(signing_key: SigningKey) -> bytes:
    """The secret scalar of a key, to prove it appears nowhere on disk."""
    private = serialization.load_pem_private_key(signing_key.to_pem(None), password=None)
    if isinstance(private, ed25519.Ed25519PrivateKey):
        return private.private_bytes(
            serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
        )
    assert isinstance(private, ec.EllipticCurvePrivateKey)
    return private.private_numbers().private_value.to_bytes(32, "big")


# --- generation, encryption at rest, permissions -------------------------------------------------------


@pytest.mark.parametrize("alg", [Algorithm.EDDSA, Algorithm.ES256])
def test_generate_creates_an_active_key_that_signs(
    store: Keystore, fixed_clock: FixedClock, alg: Algorithm
) -> None:
    record = store.generate(alg)

    assert record.alg is alg
    assert record.state is KeyState.ACTIVE
    assert record.created == fixed_clock.now
    assert (record.retired_at, record.compromised_at) == (None, None)
    assert record.history == ((KeyState.ACTIVE, fixed_clock.now),)
    assert store.records() == [record]
    assert store.active() == record
    signing_key = store.signing_key()
    assert signing_key.kid == record.kid
    assert record.public_key.verify(signing_key.sign(b"payload"), b"payload")


def test_generate_defaults_to_eddsa(store: Keystore) -> None:
    assert store.generate().alg is Algorithm.EDDSA


@pytest.mark.parametrize("alg", [Algorithm.EDDSA, Algorithm.ES256])
def test_private_key_is_encrypted_at_rest(store: Keystore, alg: Algorithm) -> None:
    record = store.generate(alg)
    pem = (store.path / f"{record.kid}.pem").read_bytes()
    metadata = (store.path / f"{record.kid}.json").read_bytes()

    assert pem.startswith(b"-----BEGIN ENCRYPTED PRIVATE KEY-----\n")
    der = base64.b64decode(b"".join(pem.splitlines()[1:-1]))
    secret = raw_private_bytes(store.signing_key())
    for stored in (pem, der, metadata):
        assert secret not in stored
    assert '"d"' not in metadata.decode()


def test_files_and_directory_are_private(store: Keystore) -> None:
    record = store.generate()

    assert stat.S_IMODE(store.path.stat().st_mode) == 0o700
    for name in (f"{record.kid}.pem", f"{record.kid}.json", ".lock"):
        assert stat.S_IMODE((store.path / name).stat().st_mode) == 0o600
    assert visible_files(store) == sorted([f"{record.kid}.pem", f"{record.kid}.json"])


def test_directory_open_to_other_users_is_refused(store: Keystore) -> None:
    store.generate()
    store.path.chmod(0o755)

    with pytest.raises(KeystoreError, match=r"accessible to other users \(mode 755\); run: chmod 700"):
        store.records()


def test_keystore_path_that_is_a_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "not-a-directory"
    path.write_text("")

    with pytest.raises(KeystoreError, match="is not a directory"):
        Keystore(path, passphrase=PASSPHRASE).records()


def test_keystore_under_a_file_is_refused(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("")
    store = Keystore(tmp_path / "file" / "keys", passphrase=PASSPHRASE)

    with pytest.raises(KeystoreError, match=r"cannot use keystore .*/file/keys: Not a directory"):
        store.records()


def test_keystore_that_cannot_be_created(tmp_path: Path) -> None:
    (tmp_path / "dangling").symlink_to(tmp_path / "nowhere")
    store = Keystore(tmp_path / "dangling" / "keys", passphrase=PASSPHRASE)

    assert store.records() == []
    with pytest.raises(KeystoreError, match=r"cannot create keystore .*/dangling/keys: File exists"):
        store.generate()


def test_unreadable_files(store: Keystore) -> None:
    record = store.generate()
    metadata = (store.path / f"{record.kid}.json").read_bytes()
    for suffix in ("pem", "json"):
        path = store.path / f"{record.kid}.{suffix}"
        path.unlink()
        path.mkdir()

    with pytest.raises(KeystoreError, match=f"cannot read .*{record.kid}.json: Is a directory"):
        store.records()
    (store.path / f"{record.kid}.json").rmdir()
    (store.path / f"{record.kid}.json").write_bytes(metadata)
    with pytest.raises(KeystoreError, match=f"cannot read .*{record.kid}.pem: Is a directory"):
        store.signing_key()


def test_missing_directory_is_an_empty_keystore(store: Keystore) -> None:
    assert store.records() == []
    assert store.published_keys() == []
    assert not store.path.exists()


def test_records_survive_a_new_keystore_instance(store: Keystore, fixed_clock: FixedClock) -> None:
    fixed_clock.now = datetime(2026, 11, 1, 9, 30, 15, 123456, tzinfo=UTC)
    first = store.generate()
    fixed_clock.advance(days=1)
    second = store.rotate(Algorithm.ES256)

    assert reopen(store, fixed_clock).records() == store.records()
    assert [record.kid for record in store.records()] == [first.kid, second.kid]


# --- passphrase handling -------------------------------------------------------------------------------


def test_passphrase_is_required_unless_plaintext_is_asked_for(store_path: Path) -> None:
    with pytest.raises(KeystoreError, match="a passphrase is required to encrypt private keys at rest"):
        Keystore(store_path, passphrase=None)
    with pytest.raises(KeystoreError, match="the passphrase is empty"):
        Keystore(store_path, passphrase=b"")


def test_plaintext_keys_only_with_the_loud_option(store_path: Path, fixed_clock: FixedClock) -> None:
    plain = Keystore(store_path, passphrase=None, allow_plaintext_keys=True, clock=fixed_clock)
    record = plain.generate()

    assert (store_path / f"{record.kid}.pem").read_bytes().startswith(b"-----BEGIN PRIVATE KEY-----\n")
    assert plain.signing_key().kid == record.kid
    with pytest.raises(KeystoreError, match="is stored unencrypted, but this keystore encrypts its keys"):
        Keystore(store_path, passphrase=PASSPHRASE).signing_key()


def test_encrypted_key_without_a_passphrase(store: Keystore, fixed_clock: FixedClock) -> None:
    record = store.generate()

    with pytest.raises(WrongPassphraseError, match=f"key {record.kid} is encrypted: a passphrase is needed"):
        reopen(store, fixed_clock, passphrase=None).signing_key()


def test_wrong_passphrase(store: Keystore, fixed_clock: FixedClock) -> None:
    record = store.generate()

    with pytest.raises(WrongPassphraseError) as raised:
        reopen(store, fixed_clock, passphrase=b"wrong").signing_key()
    assert (
        str(raised.value)
        == f"cannot decrypt key {record.kid}: wrong passphrase (or the file holds another key)"
    )
    assert raised.value.path == store.path / f"{record.kid}.pem"


def test_rotate_with_a_different_passphrase_changes_nothing(store: Keystore, fixed_clock: FixedClock) -> None:
    store.generate()
    before = visible_files(store)

    with pytest.raises(WrongPassphraseError, match="wrong passphrase"):
        reopen(store, fixed_clock, passphrase=b"typo").rotate()
    assert visible_files(store) == before


def test_generate_checks_the_passphrase_against_existing_keys(
    store: Keystore, fixed_clock: FixedClock
) -> None:
    record = store.generate()
    store.mark_compromised(record.kid, at=fixed_clock.now)
    before = visible_files(store)

    with pytest.raises(WrongPassphraseError, match="wrong passphrase"):
        reopen(store, fixed_clock, passphrase=b"typo").generate()
    assert visible_files(store) == before


# --- damaged files -------------------------------------------------------------------------------------


def _truncate(pem: bytes) -> bytes:
    return pem[: len(pem) // 2]


def _drop_a_line(pem: bytes) -> bytes:
    lines = pem.splitlines(keepends=True)
    return b"".join(lines[:2] + lines[3:])


def _bad_base64(pem: bytes) -> bytes:
    lines = pem.splitlines(keepends=True)
    return b"".join([lines[0], b"!" + lines[1][1:], *lines[2:]])


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (_truncate, "is not a complete PKCS#8 PEM private key"),
        (lambda pem: b"not a key at all\n", "is not a complete PKCS#8 PEM private key"),
        (lambda pem: pem + b"trailing junk", "is not a complete PKCS#8 PEM private key"),
        (_drop_a_line, "the PEM body is not one complete DER structure"),
        (_bad_base64, "is not a complete PKCS#8 PEM private key"),
    ],
)
def test_damaged_pem(store: Keystore, damage: Callable[[bytes], bytes], message: str) -> None:
    record = store.generate()
    pem_path = store.path / f"{record.kid}.pem"
    pem_path.write_bytes(damage(pem_path.read_bytes()))

    with pytest.raises(CorruptKeyFileError, match=re.escape(message)) as raised:
        store.signing_key()
    assert str(pem_path) in str(raised.value)


def _pem(der: bytes) -> bytes:
    body = base64.encodebytes(der).decode()
    return f"-----BEGIN ENCRYPTED PRIVATE KEY-----\n{body}-----END ENCRYPTED PRIVATE KEY-----\n".encode()


@pytest.mark.parametrize(
    "der",
    [
        b"\x31\x00",  # a SET, not a SEQUENCE
        b"\x30",  # cut after the tag
        b"\x30\x85\x00\x00\x00\x00\x01\x00",  # a length of more than 4 bytes
        b"\x30\x81",  # a long-form length that is cut off
        b"\x30\x81\x05\x05\x00",  # announces more than there is
    ],
)
def test_pem_body_that_is_not_one_der_sequence(store: Keystore, der: bytes) -> None:
    record = store.generate()
    (store.path / f"{record.kid}.pem").write_bytes(_pem(der))

    with pytest.raises(CorruptKeyFileError, match="the PEM body is not one complete DER structure"):
        store.signing_key()


def test_pem_with_invalid_base64_padding(store: Keystore) -> None:
    record = store.generate()
    pem_path = store.path / f"{record.kid}.pem"
    lines = pem_path.read_bytes().splitlines(keepends=True)
    pem_path.write_bytes(b"".join([lines[0], b"A=" + lines[1][2:], *lines[2:]]))

    with pytest.raises(CorruptKeyFileError, match="damaged base64 in the PEM body"):
        store.signing_key()


def test_unencrypted_pem_with_garbage_key_data(store_path: Path, fixed_clock: FixedClock) -> None:
    plain = Keystore(store_path, passphrase=None, allow_plaintext_keys=True, clock=fixed_clock)
    record = plain.generate()
    garbage = base64.encodebytes(b"\x30\x03\x02\x01\x00").decode()
    (store_path / f"{record.kid}.pem").write_text(
        f"-----BEGIN PRIVATE KEY-----\n{garbage}-----END PRIVATE KEY-----\n"
    )

    with pytest.raises(CorruptKeyFileError, match="not a valid private key"):
        plain.signing_key()


def test_pem_holding_an_unsupported_key_type(store: Keystore) -> None:
    record = store.generate()
    rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=1024)  # noqa: S505 - refused for its type, not its size
    pem = rsa_key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(store._pem_password(record.kid) or b""),
    )
    (store.path / f"{record.kid}.pem").write_bytes(pem)

    with pytest.raises(CorruptKeyFileError, match="unsupported private key type"):
        store.signing_key()


def test_pem_swapped_with_another_key(store: Keystore, fixed_clock: FixedClock) -> None:
    old = store.generate()
    fixed_clock.advance(days=1)
    new = store.rotate()
    (store.path / f"{new.kid}.pem").write_bytes((store.path / f"{old.kid}.pem").read_bytes())

    # Each key's PEM password is derived from its own kid, so another key's file does not even decrypt.
    with pytest.raises(WrongPassphraseError, match=f"cannot decrypt key {new.kid}.*holds another key"):
        store.signing_key()


def test_missing_pem(store: Keystore) -> None:
    record = store.generate()
    (store.path / f"{record.kid}.pem").unlink()

    assert store.records() == [record]  # the public half still lists and publishes
    with pytest.raises(CorruptKeyFileError, match=r"private key file .* is missing"):
        store.signing_key()


def _edit(field: str, value: Any) -> Callable[[dict[str, Any]], Any]:
    def edit(metadata: dict[str, Any]) -> Any:
        metadata[field] = value
        return metadata

    return edit


def _other_public_key(metadata: dict[str, Any]) -> Any:
    metadata["publicKeyJwk"] = SigningKey.generate().public_key.jwk
    return metadata


def _wrong_alg_for_the_key(metadata: dict[str, Any]) -> Any:
    metadata["alg"] = "ES256"
    return metadata


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda metadata: [metadata], "expected a JSON object"),
        (_edit("format", "aigov-keystore/99"), "unknown format 'aigov-keystore/99'"),
        (_edit("kid", "x"), "'kid' 'x' does not match the file name"),
        (_edit("alg", "RS256"), "unsupported algorithm 'RS256': aigov signs only with EdDSA and ES256"),
        (_edit("alg", None), "unsupported algorithm None"),
        (_wrong_alg_for_the_key, "'alg' is ES256 but the key is an EdDSA key"),
        (_edit("publicKeyJwk", "x"), "'publicKeyJwk' is missing or not an object"),
        (
            _edit("publicKeyJwk", {"kty": "oct", "k": "c2VjcmV0"}),
            "'publicKeyJwk': refusing a JWK with private",
        ),
        (_other_public_key, "'publicKeyJwk' is key"),
        (_edit("state", "lost"), "unknown state 'lost'"),
        (_edit("state", "retired"), "state 'retired' contradicts retired_at/compromised_at"),
        (_edit("created", "yesterday"), "'created' must be an XML Schema dateTimeStamp"),
        (_edit("created", "2026-02-30T00:00:00Z"), "'created' '2026-02-30T00:00:00Z' is not a valid date"),
        (_edit("retired_at", 5), "'retired_at' must be an XML Schema dateTimeStamp"),
        # dateTimeStamps that datetime can read but not convert: in UTC they are in year 0 and year 10000.
        (
            _edit("created", "0001-01-01T00:00:00+01:00"),
            "'created' '0001-01-01T00:00:00+01:00' is out of range: in UTC it falls outside the years 1 to 9999",
        ),
        (
            _edit("compromised_at", "9999-12-31T23:59:59-01:00"),
            "'compromised_at' '9999-12-31T23:59:59-01:00' is out",
        ),
        (_edit("history", {}), "'history' must be an array of {state, at} objects"),
        (
            _edit("history", [{"state": "gone", "at": "2026-11-01T00:00:00Z"}]),
            "unknown state 'gone' in 'history'",
        ),
        (_edit("history", [{"state": "active"}]), "'history' time must be an XML Schema dateTimeStamp"),
    ],
)
def test_damaged_metadata(store: Keystore, edit: Callable[[dict[str, Any]], Any], message: str) -> None:
    record = store.generate()
    json_path = store.path / f"{record.kid}.json"
    json_path.write_text(json.dumps(edit(json.loads(json_path.read_text()))))

    with pytest.raises(CorruptKeyFileError, match=re.escape(message)) as raised:
        store.records()
    assert str(raised.value).startswith(f"{json_path}: ")
    assert raised.value.path == json_path


@pytest.mark.parametrize("content", [b"{", b"\xff\xfe", b""])
def test_metadata_that_is_not_json(store: Keystore, content: bytes) -> None:
    record = store.generate()
    json_path = store.path / f"{record.kid}.json"
    json_path.write_bytes(content)

    with pytest.raises(CorruptKeyFileError, match=f"{re.escape(str(json_path))} is not valid JSON"):
        store.record(record.kid)


def test_two_active_keys_are_refused(store: Keystore, fixed_clock: FixedClock) -> None:
    old = store.generate()
    fixed_clock.advance(days=1)
    new = store.rotate()
    json_path = store.path / f"{old.kid}.json"
    metadata = json.loads(json_path.read_text())
    metadata.update(state="active", retired_at=None)
    json_path.write_text(json.dumps(metadata))

    with pytest.raises(KeystoreError, match=f"has 2 active keys \\({old.kid}, {new.kid}\\)"):
        store.active()


def test_files_that_are_not_keys_are_ignored(store: Keystore) -> None:
    record = store.generate()
    (store.path / "notes.json").write_text("not a key")
    (store.path / f".{record.kid}.json.0123456789abcdef.tmp").write_text("{")

    assert store.records() == [record]


@pytest.mark.parametrize("kid", ["no-such-key", "../../etc/passwd", "A" * 43])
def test_unknown_kid(store: Keystore, kid: str) -> None:
    store.generate()

    with pytest.raises(KeyNotFoundError, match=f"no key {re.escape(repr(kid))} in keystore"):
        store.record(kid)
    with pytest.raises(KeyNotFoundError):
        store.signing_key(kid)
    with pytest.raises(KeyNotFoundError):
        store.mark_compromised(kid, at=datetime(2026, 1, 1, tzinfo=UTC))


# --- lifecycle: rotation and compromise ----------------------------------------------------------------


def test_second_generate_tells_the_user_to_rotate(store: Keystore) -> None:
    record = store.generate()

    with pytest.raises(
        KeyStateError, match=f"key {record.kid} is already active; rotate to replace it"
    ) as raised:
        store.generate()
    assert raised.value.kid == record.kid


def test_no_active_key(store: Keystore) -> None:
    with pytest.raises(KeyStateError, match="has no active key; create one with `aigov keys new`"):
        store.active()
    with pytest.raises(KeyStateError, match="has no active key"):
        store.rotate()
    with pytest.raises(KeyStateError, match="has no active key"):
        store.signing_key()


def test_rotation_retires_the_old_key_but_keeps_it_published(
    store: Keystore, fixed_clock: FixedClock
) -> None:
    t0 = fixed_clock.now
    old = store.generate()
    t1 = fixed_clock.advance(days=30)
    new = store.rotate()

    assert new.alg is old.alg
    assert new.created == t1
    retired = store.record(old.kid)
    assert retired.state is KeyState.RETIRED
    assert retired.retired_at == t1
    assert retired.history == ((KeyState.ACTIVE, t0), (KeyState.RETIRED, t1))
    assert store.active() == new
    assert store.signing_key().kid == new.kid

    published_old, published_new = store.published_keys()
    assert published_old == retired.published()
    assert published_old.expires == t1
    assert published_old.revoked is None
    assert published_old.usable_at(t1 - timedelta(microseconds=1))
    assert not published_old.usable_at(t1)
    assert not published_old.usable_at(t1 + timedelta(days=1))
    assert published_new.usable_at(t1)


def test_rotation_can_change_algorithm(store: Keystore, fixed_clock: FixedClock) -> None:
    store.generate(Algorithm.EDDSA)
    fixed_clock.advance(hours=1)

    assert store.rotate(Algorithm.ES256).alg is Algorithm.ES256
    fixed_clock.advance(hours=1)
    assert store.rotate().alg is Algorithm.ES256


def test_retired_key_cannot_sign(store: Keystore, fixed_clock: FixedClock) -> None:
    old = store.generate()
    fixed_clock.advance(days=1)
    store.rotate()

    with pytest.raises(KeyStateError, match=f"key {old.kid} is retired since 2026-11-02T00:00:00Z") as raised:
        store.signing_key(old.kid)
    assert raised.value.kid == old.kid


def test_compromised_active_key(store: Keystore, fixed_clock: FixedClock) -> None:
    record = store.generate()
    fixed_clock.advance(days=10)
    compromised_at = fixed_clock.now - timedelta(days=3)

    updated = store.mark_compromised(record.kid, at=compromised_at)

    assert updated.state is KeyState.COMPROMISED
    assert updated.compromised_at == compromised_at
    assert updated.history[-1] == (KeyState.COMPROMISED, compromised_at)
    assert store.record(record.kid) == updated
    published = updated.published()
    assert published.revoked == compromised_at
    assert published.usable_at(compromised_at - timedelta(seconds=1))
    assert not published.usable_at(compromised_at)
    assert not published.usable_at(fixed_clock.now)
    with pytest.raises(KeyStateError, match=f"key {record.kid} is compromised since 2026-11-08T00:00:00Z"):
        store.signing_key(record.kid)
    with pytest.raises(KeyStateError, match="no active key"):
        store.signing_key()
    replacement = store.generate()  # a new key is allowed once none is active
    assert store.active() == replacement


def test_compromised_retired_key_keeps_both_limits(store: Keystore, fixed_clock: FixedClock) -> None:
    old = store.generate()
    retired_at = fixed_clock.advance(days=30)
    store.rotate()
    fixed_clock.advance(days=30)
    compromised_at = retired_at - timedelta(days=5)

    updated = store.mark_compromised(old.kid, at=compromised_at)

    assert (updated.retired_at, updated.compromised_at) == (retired_at, compromised_at)
    assert updated.published().usable_at(compromised_at - timedelta(seconds=1))
    assert not updated.published().usable_at(compromised_at)
    assert store.active().kid != old.kid


def test_compromise_time_rules(store: Keystore, fixed_clock: FixedClock) -> None:
    record = store.generate()
    now = fixed_clock.advance(days=10)

    with pytest.raises(KeyStateError, match="compromise time 2026-11-11T00:00:01Z is in the future"):
        store.mark_compromised(record.kid, at=now + timedelta(seconds=1))
    store.mark_compromised(record.kid, at=now - timedelta(days=1))
    with pytest.raises(
        KeyStateError,
        match=r"already compromised as of 2026-11-10T00:00:00Z; a compromise time can only move earlier",
    ):
        store.mark_compromised(record.kid, at=now)
    earlier = store.mark_compromised(record.kid, at=now - timedelta(days=2))
    assert earlier.compromised_at == now - timedelta(days=2)
    with pytest.raises(ValueError, match="naive compromise time"):
        store.mark_compromised(record.kid, at=datetime(2026, 1, 1))  # noqa: DTZ001 - the point of the test
    with pytest.raises(
        ValueError, match=r"0001-01-01T00:00:00\+01:00 is out of range: in UTC it falls outside"
    ):
        store.mark_compromised(record.kid, at=datetime.fromisoformat("0001-01-01T00:00:00+01:00"))


def test_compromise_time_in_another_zone_is_stored_in_utc(store: Keystore, fixed_clock: FixedClock) -> None:
    record = store.generate()
    tokyo = datetime.fromisoformat("2026-11-01T09:00:00+09:00")

    updated = store.mark_compromised(record.kid, at=tokyo)

    assert updated.compromised_at == fixed_clock.now
    assert updated.compromised_at is not None
    assert updated.compromised_at.tzinfo is UTC


def test_naive_clock_is_refused(store_path: Path) -> None:
    store = Keystore(store_path, passphrase=PASSPHRASE, clock=lambda: datetime(2026, 1, 1))  # noqa: DTZ001

    with pytest.raises(ValueError, match="naive datetime"):
        store.generate()


# --- atomic writes -------------------------------------------------------------------------------------


def fail_replace_call(monkeypatch: pytest.MonkeyPatch, failing_call: int) -> None:
    """Make the `failing_call`-th os.replace fail as a full disk or a crash at that point would."""
    real_replace = os.replace
    calls = 0

    def replace(source: Any, destination: Any) -> None:
        nonlocal calls
        calls += 1
        if calls == failing_call:
            raise OSError(28, "No space left on device")
        real_replace(source, destination)

    monkeypatch.setattr(os, "replace", replace)


def test_crash_writing_the_pem_leaves_nothing(store: Keystore, monkeypatch: pytest.MonkeyPatch) -> None:
    fail_replace_call(monkeypatch, 1)

    with pytest.raises(KeystoreError, match=r"cannot write .*\.pem: No space left on device"):
        store.generate()
    assert visible_files(store) == []
    assert store.records() == []


def test_crash_writing_the_metadata_leaves_an_ignored_pem(
    store: Keystore, monkeypatch: pytest.MonkeyPatch
) -> None:
    fail_replace_call(monkeypatch, 2)

    with pytest.raises(KeystoreError, match=r"cannot write .*\.json"):
        store.generate()
    [orphan] = visible_files(store)
    assert orphan.endswith(".pem")
    assert store.records() == []
    monkeypatch.undo()
    record = store.generate()  # the store is usable: the next key is created normally
    assert store.records() == [record]


def test_crash_during_rotation_leaves_no_active_key_and_recovers(
    store: Keystore, fixed_clock: FixedClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    old = store.generate()
    fixed_clock.advance(days=1)
    fail_replace_call(monkeypatch, 3)  # new PEM, old metadata, then the new metadata fails

    with pytest.raises(KeystoreError, match="cannot write"):
        store.rotate()
    monkeypatch.undo()
    assert [(record.kid, record.state) for record in store.records()] == [(old.kid, KeyState.RETIRED)]
    assert not any(name.endswith(".tmp") for name in visible_files(store))
    new = store.generate()
    assert store.active() == new


def test_interrupted_write_cleans_up_and_propagates(store: Keystore, monkeypatch: pytest.MonkeyPatch) -> None:
    def interrupted(source: Any, destination: Any) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "replace", interrupted)

    with pytest.raises(KeyboardInterrupt):
        store.generate()
    assert visible_files(store) == []


def test_failed_write_keeps_the_previous_metadata(
    store: Keystore, fixed_clock: FixedClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    record = store.generate()
    fail_replace_call(monkeypatch, 1)

    with pytest.raises(KeystoreError, match="cannot write"):
        store.mark_compromised(record.kid, at=fixed_clock.now)
    assert store.record(record.kid) == record
    assert len(visible_files(store)) == 2
