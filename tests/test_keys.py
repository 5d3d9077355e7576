"""Key hierarchy (docs/keys.md): UMK sources, KEK derivation, DEK wrapping,
resolution with caching, shredding, keyless record checks, and the
`vectors/keys/` golden files."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import stat
import subprocess
import sys
import unicodedata
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chainaudit.errors import KeySourceError
from chainaudit.findings import codes
from chainaudit.keys.hierarchy import (
    KEK_SALT,
    MAX_VERSION,
    WrapAlg,
    check_dek_record,
    derive_kek,
    destroy,
    format_key_id,
    new_dek,
    owner_problem,
    parse_key_id,
    retire,
    unwrap_dek,
    wrap_aad,
    wrap_dek,
)
from chainaudit.keys.keyring import KeyRing
from chainaudit.keys.kms import KmsUmkSource, create_kms_umk
from chainaudit.keys.resolver import DekLookup, DekResolver, DekStatus
from chainaudit.keys.umk import Kek, Umk, create_umk_file
from chainaudit.primitives import crypto
from chainaudit.records.model import KeyState, WrappedDek

UMK_HEX = bytes(range(32)).hex()
UMK = Umk.from_hex(UMK_HEX)
DEK = bytes(range(32, 64))
NONCE = bytes(range(64, 76))
T0 = "2026-01-01T00:00:00Z"
ALGS = [WrapAlg.A256GCM_KEYID_V1, WrapAlg.A256KW]


def _record(
    alg: WrapAlg = WrapAlg.A256GCM_KEYID_V1,
    dialogue: str = "d-1",
    version: int = 1,
    owner: str = "alice",
    dek: bytes = DEK,
    umk: Umk = UMK,
) -> WrappedDek:
    nonce = NONCE if alg is WrapAlg.A256GCM_KEYID_V1 else None
    kek = derive_kek(umk, owner)
    key_id = format_key_id(dialogue, version)
    return wrap_dek(kek, dek, key_id, owner, dialogue, version, nonce, T0, alg)


def _write(tmp_path: Path, content: bytes, mode: int = 0o600) -> Path:
    p = tmp_path / "umk.hex"
    p.write_bytes(content)
    os.chmod(p, mode)
    return p


# --- KEY-1 UMK file -------------------------------------------------------------


@pytest.mark.parametrize("mode", [0o600, 0o400])
def test_umk_file_owner_only_is_accepted(tmp_path: Path, mode: int) -> None:
    p = _write(tmp_path, (UMK_HEX + "\n").encode(), mode)
    assert Umk.from_file(p) == UMK


def test_umk_file_without_newline_is_accepted(tmp_path: Path) -> None:
    assert Umk.from_file(_write(tmp_path, UMK_HEX.encode())) == UMK


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604, 0o660, 0o601, 0o610])
def test_umk_file_readable_by_others_is_refused(tmp_path: Path, mode: int) -> None:
    p = _write(tmp_path, UMK_HEX.encode(), mode)
    with pytest.raises(KeySourceError) as info:
        Umk.from_file(p)
    msg = str(info.value)
    assert str(p) in msg
    assert f"chmod 600 {p}" in msg
    assert f"{mode:04o}" in msg
    assert UMK_HEX not in msg


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (UMK_HEX[:-2].encode(), "found 62 characters"),
        ((UMK_HEX + "0").encode(), "found 65 characters"),
        ((UMK_HEX + "\n\n").encode(), "found 65 characters"),
        ((UMK_HEX + "\r\n").encode(), "found 65 characters"),
        (UMK_HEX.upper().encode(), "upper-case"),
        ((UMK_HEX[:-1] + "g").encode(), "not hex digits"),
        ((" " + UMK_HEX[1:]).encode(), "not hex digits"),
        (b"\xef\xbb\xbf" + UMK_HEX.encode(), "not ASCII"),
        (b"", "found 0 characters"),
    ],
)
def test_umk_file_bad_content_is_described_not_echoed(
    tmp_path: Path, content: bytes, reason: str
) -> None:
    p = _write(tmp_path, content)
    with pytest.raises(KeySourceError) as info:
        Umk.from_file(p)
    msg = str(info.value)
    assert reason in msg and str(p) in msg
    assert UMK_HEX[2:40] not in msg.lower()


def test_umk_file_missing_or_not_regular(tmp_path: Path) -> None:
    with pytest.raises(KeySourceError, match="cannot open"):
        Umk.from_file(tmp_path / "nope")
    d = tmp_path / "dir"
    d.mkdir(mode=0o700)
    with pytest.raises(KeySourceError, match="not a regular file"):
        Umk.from_file(d)


def test_create_umk_file(tmp_path: Path) -> None:
    p = tmp_path / "new.umk"
    old = os.umask(0)  # even a permissive umask must not widen the mode
    try:
        umk = create_umk_file(p)
    finally:
        os.umask(old)
    assert stat.S_IMODE(p.stat().st_mode) == 0o600
    text = p.read_text("ascii")
    assert len(text) == 65 and text.endswith("\n")
    assert Umk.from_file(p) == umk
    assert sorted(x.name for x in tmp_path.iterdir()) == ["new.umk"]  # no temp left
    with pytest.raises(KeySourceError, match="already exists"):
        create_umk_file(p)
    assert Umk.from_file(p) == umk  # untouched
    assert create_umk_file(tmp_path / "other") != umk


def test_umk_from_hex_rejects() -> None:
    for bad in ["", "00" * 31, "AA" * 32, "zz" * 32]:
        with pytest.raises(ValueError):
            Umk.from_hex(bad)
    with pytest.raises(ValueError):
        Umk(b"short")


def test_no_key_bytes_in_repr_str_or_pickle() -> None:
    import pickle

    kek = derive_kek(UMK, "alice")
    for secret, material in [(UMK, UMK.reveal()), (kek, kek.reveal())]:
        for text in (repr(secret), str(secret), f"{secret}", repr([secret])):
            assert material.hex() not in text
            assert repr(material) not in text
        with pytest.raises(TypeError):
            pickle.dumps(secret)
    lookup = KeyRing(UMK, [_record()]).resolve("dek#d-1#1")
    assert lookup.dek == DEK
    assert DEK.hex() not in repr(lookup) and repr(DEK) not in repr(lookup)
    assert UMK.fingerprint() in repr(UMK)
    assert UMK.fingerprint() == "8d2bca6441494627"


def test_secret_equality_is_by_value_and_kind() -> None:
    assert Umk.from_hex(UMK_HEX) == UMK
    assert Umk.from_hex("00" * 32) != UMK
    assert Kek(UMK.reveal()) != UMK  # a KEK is never "equal" to a UMK
    with pytest.raises(TypeError):
        hash(UMK)


# --- KEY-1 KMS source -------------------------------------------------------


class FakeKms:
    """Records calls; answers like boto3's KMS client."""

    def __init__(self, plaintext: bytes = UMK.reveal(), error: Exception | None = None) -> None:
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.plaintext = plaintext
        self.error = error

    def decrypt(self, **kwargs: Any) -> Any:
        self.calls.append(("decrypt", kwargs))
        if self.error:
            raise self.error
        return {"KeyId": "arn:aws:kms:eu-west-1:1:key/k", "Plaintext": self.plaintext}

    def generate_data_key(self, **kwargs: Any) -> Any:
        self.calls.append(("generate_data_key", kwargs))
        return {"Plaintext": self.plaintext, "CiphertextBlob": b"blob:" + self.plaintext[:4]}


class _ClientError(Exception):
    def __init__(self) -> None:
        super().__init__("denied")
        self.response = {"Error": {"Code": "AccessDeniedException", "Message": "not allowed"}}


def test_kms_source_decrypts_with_key_id() -> None:
    fake = FakeKms()
    umk = KmsUmkSource(b"blob", "alias/chainaudit", fake).load()
    assert umk == UMK
    assert fake.calls == [
        (
            "decrypt",
            {
                "CiphertextBlob": b"blob",
                "KeyId": "alias/chainaudit",
                "EncryptionAlgorithm": "SYMMETRIC_DEFAULT",
            },
        )
    ]


def test_kms_source_errors_name_key_and_code_not_plaintext() -> None:
    with pytest.raises(KeySourceError) as info:
        KmsUmkSource(b"blob", "alias/x", FakeKms(error=_ClientError())).load()
    assert "alias/x" in str(info.value) and "AccessDeniedException" in str(info.value)
    with pytest.raises(KeySourceError, match="returned 16 plaintext bytes") as info2:
        KmsUmkSource(b"blob", "alias/x", FakeKms(plaintext=b"k" * 16)).load()
    assert "kkkk" not in str(info2.value)
    with pytest.raises(KeySourceError, match="empty ciphertext blob"):
        KmsUmkSource(b"", "alias/x", FakeKms())
    assert "blob" not in repr(KmsUmkSource(b"secretish", "k", FakeKms())).replace("blob=", "")


def test_kms_blob_file_and_create(tmp_path: Path) -> None:
    fake = FakeKms()
    source, umk = create_kms_umk(fake, "alias/k")
    assert umk == UMK
    assert fake.calls[0] == ("generate_data_key", {"KeyId": "alias/k", "KeySpec": "AES_256"})
    blob_file = tmp_path / "umk.blob"
    blob_file.write_text(base64.b64encode(source.ciphertext_blob).decode() + "\n")
    again = KmsUmkSource.from_blob_file(blob_file, "alias/k", fake)
    assert again.ciphertext_blob == source.ciphertext_blob
    assert again.load() == UMK
    blob_file.write_text("not base64!")
    with pytest.raises(KeySourceError, match="not one line of base64"):
        KmsUmkSource.from_blob_file(blob_file, "alias/k", fake)


def test_kms_call_path_through_boto3_and_moto_server() -> None:
    """The KMS wire protocol over HTTP: moto's server mode on loopback answers
    the real boto3 client (its ciphertext format is its own, so this proves
    the call path, not compatibility with real KMS ciphertexts)."""
    import boto3
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        client = boto3.client(
            "kms",
            region_name="eu-west-1",
            endpoint_url=f"http://{host}:{port}",
            aws_access_key_id="test",
            aws_secret_access_key="test",
        )
        key_id = client.create_key()["KeyMetadata"]["KeyId"]
        source, umk = create_kms_umk(client, key_id)
        assert KmsUmkSource(source.ciphertext_blob, key_id, client).load() == umk
        other = client.create_key()["KeyMetadata"]["KeyId"]
        with pytest.raises(KeySourceError, match=other):
            KmsUmkSource(source.ciphertext_blob, other, client).load()
    finally:
        server.stop()


def test_pure_core_does_not_import_boto3() -> None:
    code = (
        "import sys, chainaudit.keys.hierarchy, chainaudit.keys.keyring, chainaudit.keys.umk, chainaudit.keys.kms;"
        "bad = [m for m in ('boto3', 'botocore', 'psycopg') if m in sys.modules];"
        "sys.exit(str(bad) if bad else 0)"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


# --- KEY-2 key ids -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("key_id", "dialogue", "version"),
    [
        ("dek#d-1#1", "d-1", 1),
        ("dek#q%2F2026#12", "q%2F2026", 12),
        ("dek#zoë:x#2147483647", "zoë:x", MAX_VERSION),
    ],
)
def test_parse_key_id(key_id: str, dialogue: str, version: int) -> None:
    assert parse_key_id(key_id) == (dialogue, version)
    assert format_key_id(dialogue, version) == key_id


@pytest.mark.parametrize(
    ("key_id", "reason"),
    [
        ("dek#d-1#01", "without leading zeros"),
        ("dek#d-1#0", "without leading zeros"),
        ("dek#d-1#-1", "without leading zeros"),
        ("dek#d-1#+1", "without leading zeros"),
        ("dek#d-1#٣", "without leading zeros"),
        ("dek#d-1# 1", "without leading zeros"),
        ("dek#d-1#", "without leading zeros"),
        ("dek#d-1#2147483648", "over the limit"),
        ("dek#d-1#99999999999999999999", "over the limit"),
        ("dek#d#1#2", "found 3"),
        ("dek#d-1", "found 1"),
        ("dek#d/x#1", "unescaped '/'"),
        ("dek##1", "empty component"),
        ("dek#a%2f#1", "not one of the escapes"),
        ("dek#e\u0301#1", "not in Unicode NFC"),
        ("DEK#d#1", "does not start with 'dek#'"),
        ("d#1", "does not start with 'dek#'"),
    ],
)
def test_parse_key_id_rejects_with_reason(key_id: str, reason: str) -> None:
    with pytest.raises(ValueError) as info:
        parse_key_id(key_id)
    assert reason in str(info.value)


@pytest.mark.parametrize("version", [0, -1, MAX_VERSION + 1, True])
def test_format_key_id_rejects_bad_versions(version: int) -> None:
    with pytest.raises(ValueError, match="key version"):
        format_key_id("d", version)


@given(st.text(min_size=1, max_size=8), st.integers(1, MAX_VERSION))
def test_key_id_round_trip(logical: str, version: int) -> None:
    from chainaudit.records.address import AddressError, escape_component

    try:
        dialogue = escape_component(logical)
    except AddressError:
        return
    assert parse_key_id(format_key_id(dialogue, version)) == (dialogue, version)


# --- KEY-3 KEK -----------------------------------------------------------------------


def _hkdf_by_hand(ikm: bytes, salt: bytes, info: bytes) -> bytes:
    """RFC 5869 for L = 32 (one expand block), written out independently."""
    prk = hmac.new(salt, ikm, hashlib.sha256).digest()
    return hmac.new(prk, info + b"\x01", hashlib.sha256).digest()


def test_kek_pinned() -> None:
    kek = derive_kek(UMK, "alice").reveal()
    assert kek == _hkdf_by_hand(UMK.reveal(), b"chainaudit/kek/v1", b"user:alice")
    assert kek.hex() == "9bb60b0ce40fda2ba89f1de90383eca5b736b602855b4b18e3657c0ced4fe21d"
    zoe = derive_kek(UMK, "zo\u00eb").reveal()
    assert zoe == _hkdf_by_hand(UMK.reveal(), KEK_SALT, "user:zoë".encode())
    assert zoe.hex() == "b0ee0baaf8b776192699700ab822bc95960924f2c1040bf5ff5678e642ee4ed4"


@given(st.text(min_size=1, max_size=10).filter(lambda s: s.isprintable()))
@settings(max_examples=50)
def test_kek_matches_rfc5869_for_any_user(user: str) -> None:
    import unicodedata

    user = unicodedata.normalize("NFC", user)
    assert derive_kek(UMK, user).reveal() == _hkdf_by_hand(
        UMK.reveal(), KEK_SALT, b"user:" + user.encode()
    )


@pytest.mark.parametrize(
    ("user", "reason"),
    [
        ("", "empty user id"),
        ("zoe\u0308", "not in Unicode NFC"),
        ("a\nb", "U+000A"),
        ("\ud800", "U+D800"),
        ("x" * 256, "over the limit of 255"),
    ],
)
def test_kek_rejects_bad_user_ids(user: str, reason: str) -> None:
    with pytest.raises(ValueError) as info:
        derive_kek(UMK, user)
    assert reason in str(info.value)


# --- KEY-4 wrap / unwrap ----------------------------------------------------------------


@pytest.mark.parametrize("alg", ALGS)
def test_wrap_unwrap_round_trip(alg: WrapAlg) -> None:
    rec = _record(alg)
    assert rec.state is KeyState.ACTIVE and rec.wrap_alg == alg.value
    assert len(rec.wrapped_key or b"") == (48 if alg is WrapAlg.A256GCM_KEYID_V1 else 40)
    assert unwrap_dek(derive_kek(UMK, "alice"), rec) == DEK
    assert check_dek_record(rec) == []


def test_wrap_is_pinned() -> None:
    kek = derive_kek(UMK, "alice")
    gcm = _record(WrapAlg.A256GCM_KEYID_V1)
    aad = wrap_aad("dek#d-1#1", "alice")
    assert aad == b"chainaudit/dek-wrap/v1\ndek#d-1#1\nalice"
    # independent check of the GCM wrap through the primitive
    assert gcm.wrapped_key == crypto.gcm_encrypt(kek.reveal(), NONCE, aad, DEK)
    kw = _record(WrapAlg.A256KW)
    assert kw.wrapped_key is not None
    assert kw.wrapped_key.hex() == (
        "17309a8384c1384e9d90044111f5f8c8d9815f5847553c66aa0726abbb6423578f4bd4e68fc0194c"
    )


@given(st.binary(min_size=32, max_size=32), st.binary(min_size=12, max_size=12), st.data())
@settings(max_examples=40)
def test_any_bit_flip_in_gcm_wrap_is_detected(
    dek: bytes, nonce: bytes, data: st.DataObject
) -> None:
    kek = derive_kek(UMK, "alice")
    rec = wrap_dek(kek, dek, "dek#d#1", "alice", "d", 1, nonce, T0)
    assert unwrap_dek(kek, rec) == dek
    field = data.draw(st.sampled_from(["wrapped_key", "wrap_nonce"]))
    raw = bytearray(getattr(rec, field))
    bit = data.draw(st.integers(0, len(raw) * 8 - 1))
    raw[bit // 8] ^= 1 << (bit % 8)
    tampered = (
        replace(rec, wrapped_key=bytes(raw))
        if field == "wrapped_key"
        else replace(rec, wrap_nonce=bytes(raw))
    )
    with pytest.raises(crypto.AuthenticationError):
        unwrap_dek(kek, tampered)


def test_gcm_wrap_binds_key_id_and_owner() -> None:
    """A wrapped key copied into another version's or dialogue's record, or
    read as another owner's, does not unwrap (A256GCM-KEYID-v1)."""
    v1, v2 = _record(version=1), _record(version=2, dek=bytes(32))
    kek = derive_kek(UMK, "alice")
    swapped = replace(v2, wrapped_key=v1.wrapped_key, wrap_nonce=v1.wrap_nonce)
    with pytest.raises(crypto.AuthenticationError):
        unwrap_dek(kek, swapped)
    other_dialogue = replace(v1, dialogue="d-2", key_id="dek#d-2#1")
    with pytest.raises(crypto.AuthenticationError):
        unwrap_dek(kek, other_dialogue)
    # same UMK, owner field rewritten to bob, unwrapped with bob's KEK: fails
    with pytest.raises(crypto.AuthenticationError):
        unwrap_dek(derive_kek(UMK, "bob"), replace(v1, owner="bob"))


def test_a256kw_binds_nothing() -> None:
    """The documented weakness of A256KW: a swapped wrapped key still unwraps."""
    v1, v2 = _record(WrapAlg.A256KW, version=1), _record(WrapAlg.A256KW, version=2, dek=bytes(32))
    swapped = replace(v2, wrapped_key=v1.wrapped_key)
    assert unwrap_dek(derive_kek(UMK, "alice"), swapped) == DEK
    flipped = bytearray(v1.wrapped_key or b"")
    flipped[5] ^= 1
    with pytest.raises(crypto.AuthenticationError):
        unwrap_dek(derive_kek(UMK, "alice"), replace(v1, wrapped_key=bytes(flipped)))


def test_wrap_dek_misuse() -> None:
    kek = derive_kek(UMK, "alice")
    with pytest.raises(ValueError, match="does not name"):
        wrap_dek(kek, DEK, "dek#d#2", "alice", "d", 1, NONCE, T0)
    with pytest.raises(ValueError, match="32 bytes"):
        wrap_dek(kek, DEK[:16], "dek#d#1", "alice", "d", 1, NONCE, T0)
    with pytest.raises(ValueError, match="12-byte wrap nonce"):
        wrap_dek(kek, DEK, "dek#d#1", "alice", "d", 1, None, T0)
    with pytest.raises(ValueError, match="takes no wrap nonce"):
        wrap_dek(kek, DEK, "dek#d#1", "alice", "d", 1, NONCE, T0, alg="A256KW")
    with pytest.raises(ValueError, match="unknown wrap algorithm"):
        wrap_dek(kek, DEK, "dek#d#1", "alice", "d", 1, NONCE, T0, alg="A128KW")
    with pytest.raises(ValueError, match="RFC 3339"):
        wrap_dek(kek, DEK, "dek#d#1", "alice", "d", 1, NONCE, "2026-01-01")
    with pytest.raises(ValueError, match="holds no key material"):
        unwrap_dek(kek, destroy(_record(), T0))


def test_new_dek_is_random_and_unwraps() -> None:
    kek = derive_kek(UMK, "alice")
    (r1, k1), (r2, k2) = new_dek(kek, "alice", "d", 1, T0), new_dek(kek, "alice", "d", 2, T0)
    assert k1 != k2 and r1.wrap_nonce != r2.wrap_nonce
    assert unwrap_dek(kek, r1) == k1 and unwrap_dek(kek, r2) == k2


# --- KEY-5/6 rotation and destruction ------------------------------------------------------


def test_retire_and_destroy() -> None:
    rec = _record()
    old = retire(rec)
    assert old.state is KeyState.RETIRED and old.wrapped_key == rec.wrapped_key
    with pytest.raises(ValueError, match="only an active key"):
        retire(old)
    gone = destroy(old, "2026-02-01T00:00:00Z")
    assert gone.state is KeyState.DESTROYED
    assert gone.wrapped_key is None and gone.wrap_nonce is None
    assert gone.destroyed_at == "2026-02-01T00:00:00Z"
    assert check_dek_record(gone) == []
    with pytest.raises(ValueError, match="already destroyed"):
        destroy(gone, T0)


# --- KEY-5 KeyRing ------------------------------------------------------------------------


def test_keyring_unwraps_each_key_once(monkeypatch: pytest.MonkeyPatch) -> None:
    import chainaudit.keys.keyring as keyring_mod

    unwraps: list[str] = []
    derivations: list[str] = []
    from chainaudit.keys.hierarchy import derive_kek as real_derive
    from chainaudit.keys.hierarchy import unwrap_dek as real_unwrap

    def counting_unwrap(kek: Kek, record: WrappedDek) -> bytes:
        unwraps.append(record.key_id)
        return real_unwrap(kek, record)

    def counting_derive(umk: Umk, owner: str) -> Kek:
        derivations.append(owner)
        return real_derive(umk, owner)

    monkeypatch.setattr(keyring_mod, "unwrap_dek", counting_unwrap)
    monkeypatch.setattr(keyring_mod, "derive_kek", counting_derive)
    recs = [_record(version=v, dek=bytes([v]) * 32) for v in (1, 2, 3)]
    ring = KeyRing(UMK, recs)
    for i in range(30_000):  # 30k "records" spread over three keys
        lookup = ring.resolve(f"dek#d-1#{i % 3 + 1}")
        assert lookup.status is DekStatus.FOUND
    assert sorted(unwraps) == ["dek#d-1#1", "dek#d-1#2", "dek#d-1#3"]
    assert derivations == ["alice"]
    assert ring.stats.unwraps == 3 and ring.stats.kek_derivations == 1
    assert ring.resolve("dek#d-1#2").dek == bytes([2]) * 32


def test_keyring_statuses() -> None:
    alice, bob = _record(), _record(dialogue="d-2", owner="bob")
    shredded = destroy(_record(dialogue="d-3"), "2026-03-01T00:00:00Z")
    ring = KeyRing(UMK, [alice, retire(bob), shredded])
    assert ring.resolve("dek#d-1#1") == DekLookup(DekStatus.FOUND, DEK)
    assert ring.resolve("dek#d-2#1").status is DekStatus.FOUND  # retired still decrypts
    s = ring.resolve("dek#d-3#1")
    assert s.status is DekStatus.SHREDDED and s.dek is None and "2026-03-01" in s.detail
    m = ring.resolve("dek#d-9#1")
    assert m.status is DekStatus.MISSING and "no wrapped-DEK record" in m.detail
    assert ring.resolve("not-a-key-id").status is DekStatus.MISSING


def test_keyring_shredded_needs_no_umk_and_missing_umk_is_missing() -> None:
    ring = KeyRing(None, [destroy(_record(), T0), _record(dialogue="d-2")])
    assert ring.resolve("dek#d-1#1").status is DekStatus.SHREDDED
    m = ring.resolve("dek#d-2#1")
    assert m.status is DekStatus.MISSING and "no UMK for owner 'alice'" in m.detail
    per_owner = KeyRing({"bob": UMK}, [_record()])
    assert per_owner.resolve("dek#d-1#1").status is DekStatus.MISSING


def test_keyring_unwrap_failed_cases() -> None:
    wrong_umk = KeyRing(Umk.from_hex("11" * 32), [_record()])
    f = wrong_umk.resolve("dek#d-1#1")
    assert f.status is DekStatus.UNWRAP_FAILED and f.dek is None
    assert wrong_umk.stats.unwrap_failures == 1
    assert wrong_umk.resolve("dek#d-1#1") is f  # failure cached too

    bob_umk = Umk.from_hex("22" * 32)
    per_owner = KeyRing(
        {"alice": UMK, "bob": bob_umk},
        [_record(owner="bob", umk=bob_umk), _record(dialogue="d-2", owner="bob")],
    )
    assert per_owner.resolve("dek#d-1#1").status is DekStatus.FOUND  # bob's own UMK
    assert per_owner.resolve("dek#d-2#1").status is DekStatus.UNWRAP_FAILED  # wrapped under alice's

    v1 = _record()
    conflict = KeyRing(UMK, [v1, replace(v1, wrapped_key=bytes(48))])
    c = conflict.resolve("dek#d-1#1")
    assert c.status is DekStatus.UNWRAP_FAILED and "conflicting" in c.detail
    # the same record seen twice (e.g. from two sources) is not a conflict
    dup = KeyRing(UMK, [v1, replace(v1, origin="other.ndjson:7")])
    assert dup.resolve("dek#d-1#1").status is DekStatus.FOUND

    invalid = KeyRing(UMK, [replace(v1, key_id="dek#d-1#2")])
    i = invalid.resolve("dek#d-1#1")
    assert i.status is DekStatus.UNWRAP_FAILED and "invalid" in i.detail


def test_keyring_streaming_add_and_versions() -> None:
    ring = KeyRing(UMK)
    assert ring.resolve("dek#d-1#1").status is DekStatus.MISSING
    ring.add(_record(version=10))
    ring.add(_record(version=2))
    ring.add(_record(version=1))
    ring.add(_record(dialogue="d-2"))
    assert ring.resolve("dek#d-1#1").status is DekStatus.FOUND  # MISSING was not cached
    assert ring.versions("d-1") == ["dek#d-1#1", "dek#d-1#2", "dek#d-1#10"]
    assert ring.versions("d-x") == []
    # a destroyed copy arriving later changes the answer (conflict, not a silent pick)
    ring.add(destroy(_record(version=2), T0))
    assert ring.resolve("dek#d-1#2").status is DekStatus.UNWRAP_FAILED
    assert "KeyRing(" in repr(ring) and DEK.hex() not in repr(ring)


@given(
    owner=st.text(min_size=1, max_size=12).map(lambda s: unicodedata.normalize("NFC", s)),
    logical_dialogue=st.text(min_size=1, max_size=12),
    version=st.integers(1, MAX_VERSION),
    alg=st.sampled_from(ALGS),
    dek=st.binary(min_size=32, max_size=32),
)
@settings(max_examples=60)
def test_any_wrapped_dek_resolves_to_its_dek(
    owner: str, logical_dialogue: str, version: int, alg: WrapAlg, dek: bytes
) -> None:
    """For all valid owners, dialogue ids, versions, algorithms and DEKs: the
    record is well-formed, survives the stored item form, and resolves once."""
    from chainaudit.records.address import AddressError, escape_component
    from chainaudit.records.item import item_from_record, record_from_item

    try:
        dialogue = escape_component(logical_dialogue)
    except AddressError:
        return
    if owner_problem(owner):
        return
    kek = derive_kek(UMK, owner)
    key_id = format_key_id(dialogue, version)
    nonce = NONCE if alg is WrapAlg.A256GCM_KEYID_V1 else None
    rec = wrap_dek(kek, dek, key_id, owner, dialogue, version, nonce, T0, alg)
    assert check_dek_record(rec) == []
    stored = record_from_item(item_from_record(rec), "")
    assert stored == rec
    ring: DekResolver = KeyRing(UMK, [rec])
    assert ring.resolve(key_id) == DekLookup(DekStatus.FOUND, dek)
    assert ring.versions(dialogue) == [key_id]
    shredded = KeyRing(None, [destroy(rec, T0)]).resolve(key_id)
    assert shredded.status is DekStatus.SHREDDED


# --- KEY-7 keyless record checks --------------------------------------------------------


def _bad(rec: WrappedDek) -> list[str]:
    found = check_dek_record(rec)
    assert all(f.code is codes.DEK_RECORD_INVALID for f in found)
    assert all(f.where == f"dialogue#{rec.dialogue} dek#{rec.version}" for f in found)
    return [f.message for f in found]


@pytest.mark.parametrize(
    ("mutate", "reason"),
    [
        (lambda r: replace(r, key_id="dek#d-2#1"), "names another dialogue or version"),
        (lambda r: replace(r, key_id="dek#d-1#2"), "names another dialogue or version"),
        (lambda r: replace(r, key_id="dek#d-1#01"), "key_id is invalid"),
        (lambda r: replace(r, version=0), "location is not a valid key"),
        (lambda r: replace(r, owner=""), "empty user id"),
        (lambda r: replace(r, owner="zoe\u0308"), "not in Unicode NFC"),
        (lambda r: replace(r, wrap_alg="A128KW"), "unknown wrap_alg"),
        (lambda r: replace(r, created_at="yesterday"), "created_at"),
        (
            lambda r: replace(r, state=KeyState.DESTROYED, destroyed_at=T0),
            "key material is still present",
        ),
        (lambda r: replace(destroy(r, T0), destroyed_at=None), "destroyed_at is missing"),
        (lambda r: replace(r, destroyed_at=T0), "destroyed_at is set on a active key"),
        (lambda r: replace(r, wrapped_key=None), "wrapped_key is missing"),
        (lambda r: replace(r, wrapped_key=bytes(40)), "wrong length"),
        (lambda r: replace(r, wrap_nonce=bytes(16)), "wrap_nonce has the wrong length"),
        (lambda r: replace(r, wrap_nonce=None), "wrap_nonce has the wrong length"),
    ],
)
def test_check_dek_record_flags(mutate: Any, reason: str) -> None:
    messages = _bad(mutate(_record()))
    assert any(reason in m for m in messages), messages


def test_check_dek_record_a256kw() -> None:
    rec = _record(WrapAlg.A256KW)
    assert check_dek_record(rec) == []
    assert any("takes no wrap_nonce" in m for m in _bad(replace(rec, wrap_nonce=NONCE)))
    assert any("wrong length" in m for m in _bad(replace(rec, wrapped_key=bytes(48))))
    finding = check_dek_record(replace(rec, key_id="dek#d-2#1", origin="x.ndjson:3"))[0]
    assert (finding.expected, finding.actual, finding.source) == (
        "dek#d-1#1",
        "dek#d-2#1",
        "x.ndjson:3",
    )


# --- KEY-8 golden vectors -----------------------------------------------------------------

VECTORS = Path(__file__).resolve().parent.parent / "vectors" / "keys"


def _vector_files() -> list[Path]:
    return sorted(VECTORS.glob("*/*.json"))


def test_every_key_vector_against_the_library() -> None:
    """Runs the plug-in checker (chainaudit.conformance.vectorgen.keys_check) over every file."""
    from chainaudit.conformance.check import check_file
    from chainaudit.conformance.vectorgen.keys import VECTOR_CHECKERS

    files = _vector_files()
    results = [r for p in files for r in check_file(p, VECTOR_CHECKERS)]
    failing = [f"{r.path}: {'; '.join(r.problems)}" for r in results if not r.passed]
    assert not failing, "\n".join(failing)
    kinds = {json.loads(p.read_text("utf-8"))["kind"] for p in files}
    assert kinds == {"kek", "key_id", "umk_file", "resolve"}
    assert len(files) > 50
    assert len([p for p in files if p.parent.name == "negative"]) > 20


@pytest.mark.parametrize(
    ("name", "edit", "problem"),
    [
        ("negative/swapped-key-id-gcm.json", ("status", "found"), "status unwrap_failed"),
        ("negative/destroyed.json", ("envelope_finding", "KEY_MISSING"), "KEY-5 table"),
        ("positive/wrapped-dek-gcm.json", ("dek", "00" * 32), "resolved DEK differs"),
        ("negative/key-id-mismatch.json", ("record_findings", [[]]), "KEY-7 findings"),
    ],
)
def test_key_vector_checker_catches_a_wrong_expectation(
    name: str, edit: tuple[str, Any], problem: str
) -> None:
    """The checker is a real test: a vector whose expectation is edited fails."""
    from chainaudit.conformance.vectorgen.keys_check import check_keys_case

    doc = json.loads((VECTORS / name).read_text("utf-8"))
    doc["expected"][edit[0]] = edit[1]
    (result,) = check_keys_case(doc, str(VECTORS / name))
    assert not result.passed
    assert any(problem in p for p in result.problems), result.problems


def test_key_vector_checker_catches_a_wrong_kek_and_wrong_umk_file_verdict() -> None:
    from chainaudit.conformance.vectorgen.keys_check import check_keys_case

    doc = json.loads((VECTORS / "positive/kek-user-1.json").read_text("utf-8"))
    doc["user_id"] = "zoe\u0308"  # the NFD spelling is refused, never normalised
    (result,) = check_keys_case(doc, str(VECTORS / "positive/kek-user-1.json"))
    assert not result.passed
    doc = json.loads((VECTORS / "negative/umk-file-mode-0644.json").read_text("utf-8"))
    doc["mode"] = "0600"
    (result,) = check_keys_case(doc, str(VECTORS / "negative/umk-file-mode-0644.json"))
    assert result.problems == ["accepted a file KEY-1 refuses"]


def test_key_vectors_regenerate_byte_for_byte(tmp_path: Path) -> None:
    from chainaudit.conformance.vectorgen.keys import generate

    written = generate(tmp_path)
    fresh = {p.relative_to(tmp_path / "keys"): p.read_bytes() for p in written}
    committed = {p.relative_to(VECTORS): p.read_bytes() for p in _vector_files()}
    assert sorted(fresh) == sorted(committed)
    changed = [str(k) for k in fresh if fresh[k] != committed[k]]
    assert not changed, f"regenerate vectors/keys: {changed}"
