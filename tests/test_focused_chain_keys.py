"""Focused tests of the chain and key checks (issue 15, docs/mutation.md).

Each test guards one check that mutation testing showed no other test pinned:
it asserts the exact status, finding code, count or detail the check yields,
so that a changed comparison, constant or argument in the check fails it.
"""

from __future__ import annotations

from dataclasses import replace

from chainaudit.keys.hierarchy import (
    WrapAlg,
    derive_kek,
    destroy,
    format_key_id,
    wrap_dek,
)
from chainaudit.keys.keyring import KeyRing
from chainaudit.keys.resolver import DekLookup, DekStatus
from chainaudit.keys.umk import Umk
from chainaudit.records.model import KeyState, WrappedDek

UMK = Umk.from_hex(bytes(range(32)).hex())
OTHER_UMK = Umk.from_hex("11" * 32)
DEK = bytes(range(32, 64))
NONCE = bytes(range(64, 76))
T0 = "2026-01-01T00:00:00Z"


def _record(
    dialogue: str = "d-1",
    version: int = 1,
    owner: str = "alice",
    dek: bytes = DEK,
    umk: Umk = UMK,
    alg: WrapAlg = WrapAlg.A256GCM_KEYID_V1,
) -> WrappedDek:
    nonce = NONCE if alg is WrapAlg.A256GCM_KEYID_V1 else None
    key_id = format_key_id(dialogue, version)
    return wrap_dek(derive_kek(umk, owner), dek, key_id, owner, dialogue, version, nonce, T0, alg)


# --- keys/keyring.py -------------------------------------------------------------------


def test_keyring_conflict_added_after_a_resolution_is_not_hidden_by_the_cache() -> None:
    ring = KeyRing(UMK, [_record()])
    assert ring.resolve("dek#d-1#1") == DekLookup(DekStatus.FOUND, DEK)  # cached now
    ring.add(replace(_record(), wrapped_key=bytes(48)))
    assert ring.resolve("dek#d-1#1") == DekLookup(
        DekStatus.UNWRAP_FAILED, detail="conflicting wrapped-DEK records for dek#d-1#1"
    )


def test_keyring_derives_one_kek_per_owner() -> None:
    ring = KeyRing(UMK, [_record(), _record(dialogue="d-2", owner="bob")])
    assert ring.resolve("dek#d-1#1").status is DekStatus.FOUND
    assert ring.resolve("dek#d-2#1").status is DekStatus.FOUND
    assert ring.stats.kek_derivations == 2
    assert ring.stats.unwraps == 2


def test_keyring_counts_every_unwrap_failure() -> None:
    ring = KeyRing(OTHER_UMK, [_record(), _record(version=2)])
    assert ring.resolve("dek#d-1#1").status is DekStatus.UNWRAP_FAILED
    assert ring.resolve("dek#d-1#2").status is DekStatus.UNWRAP_FAILED
    assert ring.stats.unwrap_failures == 2
    assert ring.stats.kek_derivations == 1


def test_keyring_unwrap_failure_names_key_and_owner() -> None:
    lookup = KeyRing(OTHER_UMK, [_record()]).resolve("dek#d-1#1")
    assert lookup == DekLookup(
        DekStatus.UNWRAP_FAILED,
        detail="dek#d-1#1 does not unwrap under the KEK of owner 'alice'",
    )


def test_keyring_malformed_key_id_is_missing_with_the_parser_reason() -> None:
    ring = KeyRing(UMK, [_record()])
    assert ring.resolve("key#d-1#1") == DekLookup(
        DekStatus.MISSING, detail="key id 'key#d-1#1' does not start with 'dek#'"
    )
    assert ring.resolve("dek#d-1#01").detail == (
        "key id 'dek#d-1#01': version '01' is not a positive decimal without leading zeros"
    )


def test_keyring_missing_record_and_shred_time_details() -> None:
    ring = KeyRing(UMK, [replace(destroy(_record(), T0), destroyed_at=None)])
    assert ring.resolve("dek#d-1#1") == DekLookup(
        DekStatus.SHREDDED, detail="dek#d-1#1 destroyed at an unrecorded time"
    )
    assert ring.resolve("dek#d-9#1") == DekLookup(
        DekStatus.MISSING, detail="no wrapped-DEK record for dek#d-9#1"
    )
    timed = KeyRing(None, [destroy(_record(), T0)]).resolve("dek#d-1#1")
    assert timed == DekLookup(DekStatus.SHREDDED, detail=f"dek#d-1#1 destroyed at {T0}")


def test_keyring_forget_drops_records_answers_and_conflicts_of_one_dialogue() -> None:
    ring = KeyRing(UMK, [_record(), _record(version=2), _record(dialogue="d-2")])
    assert ring.resolve("dek#d-1#1").status is DekStatus.FOUND  # cached; d-1#2 is not
    ring.add(replace(_record(version=2), wrapped_key=bytes(48)))  # a conflict on d-1#2
    ring.forget("d-1")
    assert ring.versions("d-1") == []
    assert [r.key_id for r in ring.records()] == ["dek#d-2#1"]
    assert ring.resolve("dek#d-1#1") == DekLookup(
        DekStatus.MISSING, detail="no wrapped-DEK record for dek#d-1#1"
    )
    assert ring.resolve("dek#d-2#1").status is DekStatus.FOUND
    ring.add(_record(version=2))  # the conflict went with the dialogue
    assert ring.resolve("dek#d-1#2") == DekLookup(DekStatus.FOUND, DEK)


def test_keyring_forget_of_an_unknown_dialogue_does_nothing() -> None:
    ring = KeyRing(UMK, [_record()])
    ring.forget("d-9")
    assert ring.versions("d-1") == ["dek#d-1#1"]
    assert ring.resolve("dek#d-1#1") == DekLookup(DekStatus.FOUND, DEK)


def test_keyring_forget_of_a_dialogue_never_resolved() -> None:
    ring = KeyRing(UMK, [_record(), _record(dialogue="d-2")])
    ring.forget("d-1")  # nothing of d-1 was cached
    assert ring.versions("d-1") == [] and ring.versions("d-2") == ["dek#d-2#1"]
    assert ring.resolve("dek#d-1#1").status is DekStatus.MISSING


def test_keyring_destroyed_copy_of_a_resolved_key_is_a_conflict() -> None:
    ring = KeyRing(UMK, [_record()])
    assert ring.resolve("dek#d-1#1").status is DekStatus.FOUND
    gone = destroy(_record(), T0)
    assert gone.state is KeyState.DESTROYED
    ring.add(gone)
    assert ring.resolve("dek#d-1#1").status is DekStatus.UNWRAP_FAILED
