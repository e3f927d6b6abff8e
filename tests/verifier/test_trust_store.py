"""TrustStore: pinned keys from DID documents, JWKS and trust files; bad files give a precise TrustStoreError."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest

from keys import PublishedKey, SigningKey, did_web_document, jwks
from verifier import TrustStore, TrustStoreError, Verdict, VerifierError

MAX_TRUST_FILE_BYTES = 16 * 1024 * 1024


def write(tmp_path: Path, content: object, name: str = "trust.json") -> Path:
    path = tmp_path / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    elif isinstance(content, str):
        path.write_text(content, encoding="utf-8")
    else:
        path.write_text(json.dumps(content), encoding="utf-8")
    return path


def status_files(world: Any, tmp_path: Path) -> list[Path]:
    return [write(tmp_path, token, f"status-{i}.jwt") for i, token in enumerate(world.status_tokens.values())]


def test_load_a_did_document(world: Any, tmp_path: Path) -> None:
    path = write(tmp_path, did_web_document(world.cb.did, world.cb.published))
    store = TrustStore.load(path, status_files(world, tmp_path))
    trusted = store.issuer(world.cb.did)
    assert trusted is not None
    assert set(trusted.keys) == {k.kid for k in world.cb.published}
    assert [s.url for s in store.status_snapshots if s.bits is not None] == [
        world.revocation_url,
        world.suspension_url,
    ]
    result = world.verify(world.valid_token, store)
    assert result.verdict is Verdict.VALID, result.render_text()


def test_load_an_issuers_file(world: Any, tmp_path: Path) -> None:
    content = {
        "issuers": [
            {
                "id": world.cb.did,
                "name": "CB from the file",
                "didDocument": did_web_document(world.cb.did, world.cb.published),
            },
            {"id": world.other.did, "name": "Other", "jwks": jwks(world.other.published)},
        ]
    }
    store = TrustStore.load(write(tmp_path, content), status_files(world, tmp_path))
    assert [i.id for i in store.issuers] == [world.cb.did, world.other.did]
    assert store.issuer(world.cb.did).name == "CB from the file"
    assert world.verify(world.valid_token, store).verdict is Verdict.VALID
    generic = world.token(world.generic_credential(), key=world.other.key, kid=world.other.kid)
    assert world.verify(generic, store).verdict is Verdict.VALID


def test_key_lifetimes_survive_the_file(world: Any, tmp_path: Path) -> None:
    from datetime import UTC, datetime

    old = SigningKey.generate()
    retired = datetime(2026, 11, 10, tzinfo=UTC)
    keys = [PublishedKey(old.public_key, expires=retired), *world.cb.published]
    store = TrustStore.load(write(tmp_path, did_web_document(world.cb.did, keys)))
    assert store.issuer(world.cb.did).keys[old.kid].expires == retired


def test_keys_accumulate_per_issuer(world: Any) -> None:
    store = TrustStore()
    store.add_issuer(world.cb.did, world.cb.published[:1], name="CB")
    store.add_issuer(world.cb.did, world.cb.published[1:])
    assert len(store.issuer(world.cb.did).keys) == 2
    assert store.issuer(world.cb.did).name == "CB"
    assert store.resolve_key(world.cb.kid) is not None
    assert store.resolve_key(world.cb.did + "#nope") is None
    assert store.resolve_key("did:web:nobody.example#" + world.cb.key.kid) is None


def doc(world: Any, **overrides: Any) -> dict[str, Any]:
    document = did_web_document(world.cb.did, world.cb.published)
    document.update(overrides)
    return document


@pytest.mark.parametrize(
    ("content", "phrase"),
    [
        (b"not json", "is not JSON"),
        (b"", "is not JSON"),
        (b"\xff\xfe\x00garbage", "is not UTF-8 text"),
        (b'{"issuers": [], "issuers": [1]}', "duplicate JSON member 'issuers'"),
        (
            b'{"id": "did:web:a.example", "verificationMethod": [{"id": "#k", "id": "#j"}]}',
            "duplicate JSON member 'id'",
        ),
        (b"[]", "must be a JSON object"),
        (b'"did:web:cb.example"', "must be a JSON object"),
        (b'{"issuers": []}', "'issuers' must be a non-empty list"),
        (b'{"issuers": {"id": "did:web:a.example"}}', "'issuers' must be a non-empty list"),
        (b'{"issuers": [1]}', "each issuer needs a string 'id'"),
        (b'{"issuers": [{"name": "x"}]}', "each issuer needs a string 'id'"),
        (
            b'{"issuers": [{"id": "did:web:a.example"}]}',
            "issuer did:web:a.example: needs a 'didDocument' or a 'jwks' object",
        ),
        (
            b'{"issuers": [{"id": "did:web:a.example", "jwks": []}]}',
            "needs a 'didDocument' or a 'jwks' object",
        ),
        (b'{"issuers": [{"id": "did:web:a.example", "jwks": {"keys": {}}}]}', "JWKS for did:web:a.example"),
        (b'{"name": "no id"}', "a DID document needs a string 'id'"),
        (b"[" * 100_000 + b"]" * 100_000, "JSON nested too deeply"),
    ],
    ids=lambda v: repr(v)[:30] if isinstance(v, bytes) else None,
)
def test_bad_trust_files(tmp_path: Path, content: bytes, phrase: str) -> None:
    path = write(tmp_path, content)
    with pytest.raises(TrustStoreError) as info:
        TrustStore.load(path)
    assert phrase in str(info.value)
    assert str(path) in str(info.value)
    assert info.value.source == str(path)
    assert isinstance(info.value, VerifierError)


def test_a_did_document_under_another_id(world: Any, tmp_path: Path) -> None:
    content = {"issuers": [{"id": "did:web:a.example", "didDocument": doc(world)}]}
    with pytest.raises(TrustStoreError, match=r"issuer did:web:a\.example: its didDocument has another id"):
        TrustStore.load(write(tmp_path, content))


def test_a_did_document_publishing_a_private_key(world: Any, tmp_path: Path) -> None:
    document = doc(world)
    document["verificationMethod"][0]["publicKeyJwk"]["d"] = "c2VjcmV0"
    with pytest.raises(TrustStoreError, match=r"DID document did:web:cb.example: .*private key"):
        TrustStore.load(write(tmp_path, document))


def test_a_did_document_with_a_wrong_kid(world: Any, tmp_path: Path) -> None:
    document = doc(world)
    method = document["verificationMethod"][0]
    method["publicKeyJwk"] = world.other.key.public_key.jwk | {}
    method["publicKeyJwk"].pop("use")
    with pytest.raises(TrustStoreError, match="is not the RFC 7638 thumbprint of the key"):
        TrustStore.load(write(tmp_path, document))


def test_a_jwks_with_a_wrong_kid(world: Any, tmp_path: Path) -> None:
    keyset = jwks(world.other.published)
    keyset["keys"][0]["kid"] = "not-the-thumbprint"
    content = {"issuers": [{"id": world.other.did, "jwks": keyset}]}
    with pytest.raises(
        TrustStoreError, match=r"JWKS for did:web:other-cb\.example: .*'kid' 'not-the-thumbprint'"
    ):
        TrustStore.load(write(tmp_path, content))


def test_a_huge_trust_file_is_refused_unread(tmp_path: Path) -> None:
    path = tmp_path / "huge.json"
    with path.open("wb") as f:  # sparse: costs no disk and no time
        f.truncate(MAX_TRUST_FILE_BYTES + 1)
    started = time.perf_counter()
    with pytest.raises(TrustStoreError, match="16,777,217 bytes is over the 16,777,216-byte limit"):
        TrustStore.load(path)
    assert time.perf_counter() - started < 0.5


def test_a_huge_status_list_file_is_refused_unread(world: Any, tmp_path: Path) -> None:
    trust = write(tmp_path, did_web_document(world.cb.did, world.cb.published))
    path = tmp_path / "status.jwt"
    with path.open("wb") as f:
        f.truncate(MAX_TRUST_FILE_BYTES + 1)
    with pytest.raises(TrustStoreError, match="over the 16,777,216-byte limit"):
        TrustStore.load(trust, [path])


@pytest.mark.parametrize("kind", ["missing", "directory"])
def test_unreadable_files(tmp_path: Path, kind: str) -> None:
    path = tmp_path / "nothing.json"
    if kind == "directory":
        path.mkdir()
    with pytest.raises(TrustStoreError, match="cannot read") as info:
        TrustStore.load(path)
    assert info.value.source == str(path)


def test_a_bad_status_list_file_is_kept_as_an_unusable_snapshot(world: Any, tmp_path: Path) -> None:
    trust = write(tmp_path, did_web_document(world.cb.did, world.cb.published))
    store = TrustStore.load(trust, [write(tmp_path, "garbage", "status.jwt")])
    assert [s.bits for s in store.status_snapshots] == [None]
    assert store.status_snapshots[0].result.verdict is Verdict.INVALID


def test_add_trust_document_errors_name_their_source() -> None:
    with pytest.raises(TrustStoreError, match=r"^registry\.example: must be a JSON object$"):
        TrustStore().add_trust_document([], source="registry.example")
