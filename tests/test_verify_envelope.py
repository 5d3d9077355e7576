"""The envelope verifier (ENV-2..ENV-10): one test per finding code, the keyed
diagnosis order, the streaming result, and properties over all addresses."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chainaudit.envelope.seal import aad_hash, legacy_aad_for, legacy_aad_hash, seal, seal_bytes
from chainaudit.envelope.verify import CODES, EnvelopeVerifier, check_record, verify_envelopes
from chainaudit.findings import Finding, Severity, registry
from chainaudit.keys.resolver import DekResolver, DekStatus
from chainaudit.primitives import crypto
from chainaudit.records.address import Address, EntityType
from chainaudit.records.item import record_from_item
from chainaudit.records.model import EntityRecord, Envelope, KeyState, WrappedDek
from chainaudit.sources import SourceItem
from chainaudit.testing import dek, nonce, resolver_for, sealed_record
from chainaudit.testing import key_id_for as kid
from chainaudit.testing.strategies import addresses, payloads

#: Every entity type an envelope may be sealed for (all but ref, ENV-2).
SEALABLE = [t for t in EntityType if t is not EntityType.REF]

A = Address.of("d-1", "claim", "01", "02")
B = Address.of("d-1", "claim", "01", "03")
OTHER = Address.of("d-2", "claim", "01", "02")
REF = Address.of("d-1", "ref", "a", "cites", "b")


def _env(record: EntityRecord, **changes: Any) -> EntityRecord:
    assert record.envelope is not None
    return dataclasses.replace(record, envelope=dataclasses.replace(record.envelope, **changes))


def _legacy(address: Address, stored_hash: str) -> EntityRecord:
    k = kid(address)
    ct = crypto.gcm_encrypt(dek(k), nonce("legacy"), legacy_aad_for(address), b'{"a":1}')
    return EntityRecord(address, {}, Envelope(ct, nonce("legacy"), k, stored_hash))


def _plain(plaintext: bytes) -> EntityRecord:
    return EntityRecord(A, {}, seal_bytes(A, plaintext, dek(kid(A)), kid(A), nonce("p")))


def _codes(items: list[SourceItem], resolver: DekResolver | None) -> list[str]:
    return sorted(verify_envelopes(items, resolver).codes())


_ITEM = {"pk": {"S": "dialogue#d-1"}, "sk": {"S": "claim#01#02"}}

#: code -> (items, resolver or None for keyless). One case per code the
#: envelope checks can produce; test_every_code_has_a_test keeps it complete.
CASES: dict[str, Callable[[], tuple[list[SourceItem], DekResolver | None]]] = {
    "ADDRESS_INVALID": lambda: (
        [record_from_item({**_ITEM, "pk": {"S": "dialogue#a%b"}}, "t")],
        None,
    ),
    "RECORD_MALFORMED": lambda: (
        [record_from_item({**_ITEM, "key_id": {"S": "dek#d-1#1"}}, "t")],
        None,
    ),
    "ENVELOPE_MISSING": lambda: ([EntityRecord(A, {}, None)], None),
    "ENVELOPE_UNEXPECTED": lambda: (
        [EntityRecord(REF, {}, sealed_record(A).envelope)],
        None,
    ),
    "ENVELOPE_VERSION_UNSUPPORTED": lambda: ([_env(sealed_record(A), version=2)], None),
    "AAD_HASH_MISMATCH": lambda: ([_env(sealed_record(A), aad_hash="0" * 64)], None),
    "LEGACY_AAD": lambda: ([_legacy(A, legacy_aad_hash(A))], None),
    "NONCE_LENGTH": lambda: ([_env(sealed_record(A), nonce=bytes(8))], None),
    "NONCE_REUSE": lambda: (_reuse(), None),
    "CIPHERTEXT_TOO_SHORT": lambda: ([_env(sealed_record(A), ciphertext=bytes(15))], None),
    "KEY_ID_INVALID": lambda: ([_env(sealed_record(A), key_id="dek#d-1#01")], None),
    "KEY_ID_WRONG_DIALOGUE": lambda: ([_env(sealed_record(A), key_id="dek#d-2#1")], None),
    "AUTHENTICATION_FAILED": lambda: (
        [_env(sealed_record(A), nonce=bytes(12))],
        resolver_for(A),
    ),
    "ADDRESS_MOVED": lambda: ([_moved(sealed_record(A), B)], resolver_for(A)),
    "WRONG_KEY_VERSION": lambda: (
        [_env(sealed_record(A, version=1), key_id=kid(A, 2))],
        resolver_for(A, versions=2),
    ),
    "TAG_TRUNCATED": lambda: ([_cut(sealed_record(A), 4)], resolver_for(A)),
    "PAYLOAD_NOT_JSON_OBJECT": lambda: ([_plain(b"[1]")], resolver_for(A)),
    "PAYLOAD_NOT_CANONICAL": lambda: ([_plain(b'{"b":1,"a":1}')], resolver_for(A)),
    "KEY_SHREDDED": lambda: (
        [sealed_record(A)],
        resolver_for(A, states={kid(A): DekStatus.SHREDDED}),
    ),
    "KEY_MISSING": lambda: ([sealed_record(A)], resolver_for(Address.of("d-9", "meta"))),
    "KEY_UNWRAP_FAILED": lambda: (
        [sealed_record(A)],
        resolver_for(A, states={kid(A): DekStatus.UNWRAP_FAILED}),
    ),
}


def _reuse() -> list[SourceItem]:
    """Two sound records at A and B sealed with one key and one nonce."""
    first = sealed_record(A)
    assert first.envelope is not None
    second = seal(B, {"y": 2}, dek(kid(B)), kid(B), first.envelope.nonce)
    return [first, EntityRecord(B, {}, second)]


def _moved(record: EntityRecord, to: Address) -> EntityRecord:
    return dataclasses.replace(record, address=to)


def _cut(record: EntityRecord, k: int) -> EntityRecord:
    assert record.envelope is not None
    return _env(record, ciphertext=record.envelope.ciphertext[:-k])


def test_every_code_has_a_test() -> None:
    assert set(CASES) == set(CODES)
    env_codes = {n for n, c in registry().items() if c.spec.startswith("ENV-")}
    assert env_codes <= CODES, "an ENV-* code the envelope verifier cannot produce"


@pytest.mark.parametrize("code", sorted(CASES))
def test_each_code_is_produced(code: str) -> None:
    items, resolver = CASES[code]()
    got = verify_envelopes(items, resolver).codes()
    assert code in got
    assert len(got) == len(set(got)), "a code is reported more than once"


def test_sound_record_has_no_findings_keyless_and_keyed() -> None:
    rec = sealed_record(A)
    assert check_record(rec) == []
    assert check_record(rec, resolver_for(A)) == []
    assert check_record(EntityRecord(REF, {}, None)) == []


def test_keyed_legacy_replaces_the_keyless_finding() -> None:
    (finding,) = check_record(_legacy(A, legacy_aad_hash(A)), resolver_for(A))
    assert finding.code.name == "LEGACY_AAD" and "not portable" in finding.message


def test_a_legacy_hash_on_a_v1_ciphertext_is_refuted_by_the_key() -> None:
    """ENV-9: keyless LEGACY_AAD is a presumption; opening under the own AAD
    turns it into AAD_HASH_MISMATCH."""
    rec = _env(sealed_record(A), aad_hash=legacy_aad_hash(A))
    assert [f.code.name for f in check_record(rec)] == ["LEGACY_AAD"]
    (finding,) = check_record(rec, resolver_for(A))
    assert finding.code.name == "AAD_HASH_MISMATCH"
    assert (finding.expected, finding.actual) == (aad_hash(A), legacy_aad_hash(A))
    garbled = _env(rec, ciphertext=bytes(len(rec.envelope.ciphertext)))  # type: ignore[union-attr]
    assert sorted(f.code.name for f in check_record(garbled, resolver_for(A))) == [
        "AUTHENTICATION_FAILED",
        "LEGACY_AAD",
    ]


def test_no_payload_check_after_a_diagnosis() -> None:
    """ENV-7: the plaintext of a diagnostic open is not checked (ENV-8)."""
    k = kid(A)
    ct = crypto.gcm_encrypt(dek(k), nonce("legacy"), legacy_aad_for(A), b"[1]")
    rec = EntityRecord(A, {}, Envelope(ct, nonce("legacy"), k, aad_hash(A)))
    assert [f.code.name for f in check_record(rec, resolver_for(A))] == ["LEGACY_AAD"]


def test_legacy_with_rewritten_aad_hash_is_found_only_with_keys() -> None:
    rec = _legacy(A, aad_hash(A))
    assert check_record(rec) == []
    assert [f.code.name for f in check_record(rec, resolver_for(A))] == ["LEGACY_AAD"]


def test_moved_names_the_stored_hash() -> None:
    moved = _moved(sealed_record(A), B)
    found = {f.code.name: f for f in check_record(moved, resolver_for(A))}
    assert set(found) == {"AAD_HASH_MISMATCH", "ADDRESS_MOVED"}
    assert found["ADDRESS_MOVED"].actual == aad_hash(A)
    assert found["ADDRESS_MOVED"].expected == aad_hash(B)


def test_moved_across_dialogues_never_uses_the_other_dialogues_key() -> None:
    moved = _moved(sealed_record(A), OTHER)
    got = [f.code.name for f in check_record(moved, resolver_for(A, OTHER))]
    assert sorted(got) == ["AAD_HASH_MISMATCH", "KEY_ID_WRONG_DIALOGUE"]


def test_wrong_key_version_names_the_version_that_opens() -> None:
    rec = _env(sealed_record(A, version=1), key_id=kid(A, 2))
    (f,) = check_record(rec, resolver_for(A, versions=3))
    assert f.code.name == "WRONG_KEY_VERSION" and f.expected == kid(A, 1) and f.actual == kid(A, 2)


@pytest.mark.parametrize("k", [1, 2, 3, 4, 8, 12])
def test_truncated_tag_lengths(k: int) -> None:
    rec = sealed_record(A, {"long enough": "to keep 16 bytes after the cut"})
    (f,) = check_record(_cut(rec, k), resolver_for(A))
    assert f.code.name == "TAG_TRUNCATED" and f.actual == f"{16 - k}-byte tag"


@pytest.mark.parametrize("k", [5, 6, 7, 9, 10, 11, 13])
def test_other_truncations_are_authentication_failures(k: int) -> None:
    rec = sealed_record(A, {"long enough": "to keep 16 bytes after the cut"})
    assert [f.code.name for f in check_record(_cut(rec, k), resolver_for(A))] == [
        "AUTHENTICATION_FAILED"
    ]


def test_shredded_is_a_notice_and_the_run_still_passes() -> None:
    result = verify_envelopes(
        [sealed_record(A)], resolver_for(A, states={kid(A): DekStatus.SHREDDED})
    )
    assert result.codes() == ["KEY_SHREDDED"]
    assert result.findings[0].severity is Severity.NOTICE
    assert result.ok and result.checked["decrypted"] == 0


def test_missing_key_leaves_the_run_unverified() -> None:
    result = verify_envelopes([sealed_record(A)], resolver_for(Address.of("x", "meta")))
    assert result.codes() == ["KEY_MISSING"] and not result.ok and not result.errors


def test_streaming_result_counts_what_was_checked() -> None:
    items: list[SourceItem] = [
        sealed_record(A),
        sealed_record(B),
        EntityRecord(REF, {}, None),
        WrappedDek("dek#d-1#1", "d-1", 1, "u", "x", None, None, KeyState.DESTROYED, "t"),
        Finding(registry()["RECORD_MALFORMED"], "file:3", "bad item"),
    ]
    with EnvelopeVerifier(resolver_for(A)) as verifier:
        result = verifier.feed(items).result()
    assert result.checked["records"] == 4  # the wrapped DEK is not an entity
    assert result.checked["envelopes"] == 2
    assert result.checked["decrypted"] == 2
    assert result.codes() == ["RECORD_MALFORMED"] and not result.ok


def test_misuse_raises() -> None:
    with pytest.raises(TypeError):
        check_record(WrappedDek("k", "d", 1, "u", "x", None, None, KeyState.ACTIVE, "t"))  # type: ignore[arg-type]
    verifier = EnvelopeVerifier()
    verifier.result()
    with pytest.raises(RuntimeError):
        verifier.add(sealed_record(A))


def test_findings_never_contain_payload_content() -> None:
    secret = "SECRET-PAYLOAD"
    bad = [
        f'{{"{secret}":1,"{secret}":2}}'.encode(),
        f'["{secret}"]'.encode(),
        f'{{"z":"{secret}","a":1}}'.encode(),
        f'{{"a":"{secret}"'.encode(),
    ]
    for plaintext in bad:
        for f in check_record(_plain(plaintext), resolver_for(A)):
            assert secret not in str(f) and secret not in str(f.to_json())


@settings(max_examples=40, deadline=None)
@given(addresses(entity_types=SEALABLE), addresses(), payloads())
def test_a_sealed_record_at_any_other_address_is_detected(
    a: Address, b: Address, payload: dict[str, object]
) -> None:
    moved = _moved(sealed_record(a, payload), b)
    keyless = {f.code.name for f in check_record(moved)}
    keyed = {f.code.name for f in check_record(moved, resolver_for(a, b))}
    if a == b:
        assert keyless == keyed == set()
        return
    if not b.has_envelope:
        assert keyless == keyed == {"ENVELOPE_UNEXPECTED"}
        return
    assert "AAD_HASH_MISMATCH" in keyless
    if a.dialogue == b.dialogue:
        assert keyed == {"AAD_HASH_MISMATCH", "ADDRESS_MOVED"}
    else:
        assert keyed == keyless == {"AAD_HASH_MISMATCH", "KEY_ID_WRONG_DIALOGUE"}


@settings(max_examples=60, deadline=None)
@given(st.data())
def test_any_single_bit_change_is_detected_with_keys(data: st.DataObject) -> None:
    address = data.draw(addresses(entity_types=SEALABLE))
    rec = sealed_record(address, data.draw(payloads()))
    assert rec.envelope is not None
    field = data.draw(st.sampled_from(["ciphertext", "nonce"]))
    value = bytearray(getattr(rec.envelope, field))
    bit = data.draw(st.integers(0, 8 * len(value) - 1))
    value[bit // 8] ^= 0x80 >> (bit % 8)
    codes = [
        f.code.name for f in check_record(_env(rec, **{field: bytes(value)}), resolver_for(address))
    ]
    assert codes == ["AUTHENTICATION_FAILED"]


def test_with_the_real_key_ring() -> None:
    """The verifier through chainaudit.keys.keyring.KeyRing (H1): found, rotated, shredded, wrong UMK."""
    from chainaudit.keys.hierarchy import derive_kek, destroy, wrap_dek
    from chainaudit.keys.keyring import KeyRing
    from chainaudit.keys.umk import Umk

    umk = Umk.from_hex("11" * 32)
    kek = derive_kek(umk, "alice")
    ts = "2026-01-01T00:00:00Z"
    v1 = wrap_dek(kek, dek(kid(A, 1)), kid(A, 1), "alice", A.dialogue, 1, nonce("w1"), ts)
    v2 = wrap_dek(kek, dek(kid(A, 2)), kid(A, 2), "alice", A.dialogue, 2, nonce("w2"), ts)
    sound = sealed_record(A, version=2)
    swapped = _env(sealed_record(B, version=1), key_id=kid(B, 2))
    ring = KeyRing(umk, [v1, v2])
    result = verify_envelopes([sound, swapped], ring)
    assert result.codes() == ["WRONG_KEY_VERSION"]
    assert result.checked["decrypted"] == 1
    shredded = KeyRing(umk, [v1, destroy(v2, "2026-02-01T00:00:00Z")])
    assert verify_envelopes([sound], shredded).codes() == ["KEY_SHREDDED"]
    wrong_umk = KeyRing(Umk.from_hex("22" * 32), [v1, v2])
    assert verify_envelopes([sound], wrong_umk).codes() == ["KEY_UNWRAP_FAILED"]
    assert verify_envelopes([sound], KeyRing(umk, [v1])).codes() == ["KEY_MISSING"]


def test_envelope_is_optional_only_for_lifecycle_events() -> None:
    """ENV-2: refs never have one, events may, every other type must."""
    from chainaudit.records.address import SUBKEY_PARTS, EntityType

    parts = {"nn": "01", "id": "x", "type": "claim", "ts": "2026-01-02T03:04:05Z"}
    for et in EntityType:
        address = Address.of("d-1", et, *(parts[k] for k in SUBKEY_PARTS[et]))
        got = [f.code.name for f in check_record(EntityRecord(address, {}, None))]
        want = [] if et in (EntityType.REF, EntityType.EVENT) else ["ENVELOPE_MISSING"]
        assert got == want, et
