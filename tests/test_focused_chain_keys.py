"""Focused tests of the chain and key checks (issue 15, docs/mutation.md).

Each test guards one check that mutation testing showed no other test pinned:
it asserts the exact status, finding code, count or detail the check yields,
so that a changed comparison, constant or argument in the check fails it.
"""

from __future__ import annotations

import datetime as dt
import functools
from dataclasses import replace
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chainaudit.chain import events as ev
from chainaudit.chain import uuid7
from chainaudit.chain.checkpoint import ChainExpectation
from chainaudit.chain.event_checks import check_event
from chainaudit.chain.merge import resolve
from chainaudit.chain.verify import (
    MIGRATION,
    ChainPolicy,
    ChainVerifier,
    _worker,
    partition,
    verify_events,
    verify_parallel,
)
from chainaudit.conformance.vectorgen.chain_build import (
    T0_MS,
    boundary_event,
    build_chain,
    rechain,
    ts_text,
)
from chainaudit.findings import Finding, codes
from chainaudit.keys.hierarchy import (
    MAX_OWNER_BYTES,
    WrapAlg,
    check_dek_record,
    derive_kek,
    destroy,
    format_key_id,
    new_dek,
    owner_problem,
    unwrap_dek,
    wrap_dek,
)
from chainaudit.keys.keyring import KeyRing
from chainaudit.keys.resolver import DekLookup, DekStatus
from chainaudit.keys.signing import TrustStore, private_key_from_label, public_bytes
from chainaudit.keys.umk import Umk
from chainaudit.primitives import crypto
from chainaudit.records.address import Address
from chainaudit.records.model import AuditEvent, EntityRecord, KeyState, WrappedDek

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


# --- keys/hierarchy.py -----------------------------------------------------------------


def _dek_findings(rec: WrappedDek) -> list[tuple[str, str | None, str | None]]:
    """(message, expected, actual) of each finding, after checking code and place."""
    found = check_dek_record(rec)
    assert all(f.code is codes.DEK_RECORD_INVALID for f in found)
    assert all(f.where == f"dialogue#{rec.dialogue} dek#{rec.version}" for f in found)
    return [(f.message, f.expected, f.actual) for f in found]


def test_dek_record_wrapped_key_length_names_both_lengths() -> None:
    assert _dek_findings(replace(_record(), wrapped_key=bytes(40))) == [
        ("wrapped_key has the wrong length for A256GCM-KEYID-v1", "48 bytes", "40 bytes")
    ]


def test_dek_record_a256kw_with_a_nonce_names_its_length() -> None:
    rec = replace(_record(alg=WrapAlg.A256KW), wrap_nonce=bytes(12))
    assert _dek_findings(rec) == [("A256KW takes no wrap_nonce", "absent", "12 bytes")]


def test_dek_record_gcm_nonce_absent_or_of_another_length() -> None:
    assert _dek_findings(replace(_record(), wrap_nonce=None)) == [
        ("wrap_nonce has the wrong length for A256GCM-KEYID-v1", "12 bytes", "absent")
    ]
    assert _dek_findings(replace(_record(), wrap_nonce=bytes(16))) == [
        ("wrap_nonce has the wrong length for A256GCM-KEYID-v1", "12 bytes", "16 bytes")
    ]


def test_dek_record_unknown_wrap_alg_lists_the_known_ones() -> None:
    assert _dek_findings(replace(_record(), wrap_alg="A128KW")) == [
        ("unknown wrap_alg", "A256GCM-KEYID-v1, A256KW", "A128KW")
    ]


def test_dek_record_bad_created_at_names_the_format() -> None:
    assert _dek_findings(replace(_record(), created_at="yesterday")) == [
        ("created_at is not an RFC 3339 UTC timestamp", "YYYY-MM-DDThh:mm:ss[.f]Z", "yesterday")
    ]


def test_dek_record_invalid_location_is_one_finding_not_two() -> None:
    found = _dek_findings(replace(_record(), version=0))
    assert len(found) == 1
    assert found[0][0].startswith("the record's location is not a valid key: ")
    assert found[0][1:] == (None, None)


@pytest.mark.parametrize(
    "material",
    [
        {"wrap_nonce": NONCE},
        {"wrapped_key": bytes(48)},
        {"wrap_nonce": NONCE, "wrapped_key": bytes(48)},
    ],
)
def test_dek_record_destroyed_with_any_key_material_left(material: dict[str, bytes]) -> None:
    rec = replace(destroy(_record(), T0), **material)  # type: ignore[arg-type]
    assert _dek_findings(rec) == [
        (
            "state is destroyed but key material is still present: the key was not shredded",
            None,
            None,
        )
    ]


def test_dek_record_destroyed_at_checks_name_the_value() -> None:
    assert _dek_findings(replace(destroy(_record(), T0), destroyed_at="later")) == [
        ("destroyed_at is not an RFC 3339 UTC timestamp", None, "later")
    ]
    assert _dek_findings(replace(_record(), destroyed_at=T0)) == [
        ("destroyed_at is set on a active key", "absent", T0)
    ]


def test_owner_limit_is_inclusive() -> None:
    assert owner_problem("a" * MAX_OWNER_BYTES) == ""
    assert owner_problem("a" * (MAX_OWNER_BYTES + 1)) == (
        f"user id is over the limit of {MAX_OWNER_BYTES} UTF-8 bytes"
    )


def test_wrap_dek_refuses_an_invalid_owner() -> None:
    kek = derive_kek(UMK, "alice")
    with pytest.raises(ValueError, match=r"^empty user id$"):
        wrap_dek(kek, DEK, "dek#d#1", "", "d", 1, NONCE, T0)
    with pytest.raises(ValueError, match=r"^user id is not in Unicode NFC$"):
        wrap_dek(kek, DEK, "dek#d#1", "zoe\u0308", "d", 1, NONCE, T0)


def test_new_dek_with_a256kw_has_no_nonce_and_unwraps() -> None:
    kek = derive_kek(UMK, "alice")
    rec, dek = new_dek(kek, "alice", "d", 1, T0, WrapAlg.A256KW)
    assert rec.wrap_alg == "A256KW" and rec.wrap_nonce is None
    assert len(dek) == 32 and check_dek_record(rec) == []
    assert unwrap_dek(kek, rec) == dek


def test_unwrap_without_a_gcm_nonce_is_an_authentication_error() -> None:
    kek = derive_kek(UMK, "alice")
    with pytest.raises(crypto.AuthenticationError):
        unwrap_dek(kek, replace(_record(), wrap_nonce=None))
    with pytest.raises(crypto.AuthenticationError):
        unwrap_dek(kek, replace(_record(), wrap_nonce=bytes(16)))
    ring = KeyRing(UMK, [replace(_record(), wrap_nonce=None)])
    assert ring.resolve("dek#d-1#1").status is DekStatus.UNWRAP_FAILED


def test_dek_record_exact_messages_of_misplaced_and_undated_records() -> None:
    assert _dek_findings(replace(_record(), key_id="dek#d-2#1")) == [
        (
            "key_id names another dialogue or version than where the record is stored",
            "dek#d-1#1",
            "dek#d-2#1",
        )
    ]
    assert _dek_findings(replace(destroy(_record(), T0), destroyed_at=None)) == [
        ("state is destroyed but destroyed_at is missing", None, None)
    ]


def test_destroy_and_unwrap_refusals_name_the_value() -> None:
    with pytest.raises(ValueError, match=r"^destroyed_at 'soon' is not an RFC 3339 UTC timestamp$"):
        destroy(_record(), "soon")
    kek = derive_kek(UMK, "alice")
    with pytest.raises(
        ValueError, match=r"^wrapped-DEK record 'dek#d-2#1' is stored under another key id$"
    ):
        unwrap_dek(kek, replace(_record(), key_id="dek#d-2#1"))


# --- chain/event_checks.py -------------------------------------------------------------

ORIGIN = "events.ndjson:3"


def _checked(fields: dict[str, object], skew_ms: int = 300_000) -> tuple[list[Finding], object]:
    out: list[Finding] = []
    view = check_event("c", AuditEvent("c", fields, ORIGIN), "s", TrustStore(), skew_ms, out)
    return out, view


def _event(i: int = 2, reseal: bool = True, **changes: object) -> dict[str, object]:
    evs = build_chain("c", 4)
    evs[i].fields.update(changes)
    if reseal:
        rechain(evs, i)
    return dict(evs[i].fields)


def _extra(fields: dict[str, object], seq: object = 2) -> dict[str, object]:
    return {"chain_id": "c", "seq": seq, "event_id": fields.get("event_id")}


def test_event_check_malformed_event_finding_is_exact() -> None:
    fields = _event()
    del fields["key_id"]
    out, view = _checked(fields)
    assert view is None
    assert out == [
        Finding(
            codes.CHAIN_EVENT_MALFORMED,
            "chain:c@2",
            "required field key_id is missing",
            source=ORIGIN,
            extra=_extra(fields),
        )
    ]


def test_event_check_unknown_hash_alg_finding_is_exact() -> None:
    fields = _event(reseal=False, hash_alg="sha1")
    out, view = _checked(fields)
    assert view is not None
    assert out == [
        Finding(
            codes.CHAIN_HASH_ALG_UNKNOWN,
            "chain:c@2",
            "hash_alg is not one version 1 allows; the hash cannot be checked",
            expected="sha256 or blake3",
            actual="sha1",
            source=ORIGIN,
            extra=_extra(fields),
        )
    ]


def test_event_check_edited_event_finding_is_exact() -> None:
    fields = _event()
    computed = fields["event_hash"]
    fields["event_hash"] = "0" * 64
    out, _ = _checked(fields)
    assert out == [
        Finding(
            codes.EVENT_HASH_MISMATCH,
            "chain:c@2",
            "the event's fields do not hash to its event_hash (edited)",
            expected=str(computed),
            actual="0" * 64,
            source=ORIGIN,
            extra=_extra(fields),
        )
    ]


def test_event_check_invalid_uuid_finding_is_exact() -> None:
    fields = _event(event_id="01890A5D-AC96-774B-BCCE-B302099A8057")
    out, _ = _checked(fields)
    assert out == [
        Finding(
            codes.CHAIN_UUID_INVALID,
            "chain:c@2",
            "event_id is not a canonical lowercase UUIDv7",
            actual="01890A5D-AC96-774B-BCCE-B302099A8057",
            source=ORIGIN,
            extra=_extra(fields),
        )
    ]


def test_event_check_clock_skew_finding_is_exact() -> None:
    fields = _event()
    uid = uuid7.parse(str(fields["event_id"]))
    assert uid is not None
    id_ms = uuid7.unix_ms(uid)
    fields = _event(timestamp=ts_text(id_ms + 400_000))
    out, _ = _checked(fields)
    assert out == [
        Finding(
            codes.CHAIN_TIMESTAMP_SKEW,
            "chain:c@2",
            "timestamp and event_id time differ by 400000 ms, over the tolerance of 300000 ms",
            expected=str(id_ms),
            actual=str(id_ms + 400_000),
            source=ORIGIN,
            extra=_extra(fields),
        )
    ]
    assert _checked(fields, skew_ms=400_000)[0] == []  # the tolerance is inclusive


def test_event_check_finding_without_origin_has_no_source() -> None:
    fields = _event(reseal=False, hash_alg="sha1")
    out: list[Finding] = []
    check_event("c", AuditEvent("c", fields, ""), "s", TrustStore(), 300_000, out)
    assert [f.source for f in out] == [None]


def test_linkage_findings_name_the_event_origin() -> None:
    evs = build_chain("c", 4)
    del evs[2]  # a gap before seq 3: reported with the origin of the event after it
    result = verify_events(
        [(AuditEvent("c", e.fields, f"events.ndjson:{i + 1}"), "") for i, e in enumerate(evs)],
        ChainPolicy(),
    )
    assert [(f.code, f.where, f.source) for f in result.findings] == [
        (codes.CHAIN_GAP, "chain:c@2", "events.ndjson:3")
    ]
    out: list[Finding] = []
    view = check_event("c", AuditEvent("c", evs[0].fields, ORIGIN), "s", TrustStore(), 0, out)
    assert view is not None and view.origin == ORIGIN and out == []


# --- chain/events.py --------------------------------------------------------------------

EPOCH = dt.date(1970, 1, 1)


@settings(max_examples=400, deadline=None)
@given(st.integers(0, 9999), st.integers(0, 13), st.integers(0, 32))
def test_day_number_is_days_since_1970_for_every_valid_date(y: int, mo: int, d: int) -> None:
    """For all (year, month, day): the day number of a real date in years
    0001-9999, None for anything else (month 0 or 13, day 0 or past the month's end, year 0)."""
    try:
        expected: int | None = (dt.date(y, mo, d) - EPOCH).days
    except ValueError:
        expected = None
    assert ev._day_number(y, mo, d) == expected


def test_day_number_edges() -> None:
    assert ev._day_number(1970, 1, 1) == 0
    assert ev._day_number(1, 1, 1) == (dt.date(1, 1, 1) - EPOCH).days
    assert ev._day_number(0, 1, 1) is None
    assert ev._day_number(2024, 2, 29) == (dt.date(2024, 2, 29) - EPOCH).days
    assert ev._day_number(2023, 2, 29) is None
    assert ev._day_number(2024, 12, 31) == (dt.date(2024, 12, 31) - EPOCH).days
    assert ev._day_number(2024, 13, 1) is None and ev._day_number(2024, 0, 1) is None
    assert ev._day_number(2024, 1, 0) is None and ev._day_number(2024, 4, 31) is None


@pytest.mark.parametrize(
    ("kind", "value", "problem"),
    [
        ("int", 0, None),
        ("int", ev.MAX_INT, None),
        ("int", ev.MAX_INT + 1, "f must be between 0 and 2^53-1"),
        ("int", -1, "f must be between 0 and 2^53-1"),
        ("int", True, "f must be an integer"),
        ("int", "1", "f must be an integer"),
        ("str", "", None),
        ("str", 1, "f must be a string"),
        ("hash", "0" * 64, None),
        ("hash", None, "f must be a string"),
        ("hash", "A" * 64, "f must be 64 lowercase hex digits"),
        ("hash", "0" * 63, "f must be 64 lowercase hex digits"),
        ("hash?", None, None),
        ("hash?", "0" * 64, None),
        ("hash?", "0" * 65, "f must be 64 lowercase hex digits"),
        ("hash?", 5, "f must be a string"),
        ("sig", "0" * 128, None),
        ("sig", "0" * 64, "f must be 128 lowercase hex digits"),
        ("sig", "G" * 128, "f must be 128 lowercase hex digits"),
        ("ts", "2026-01-02T03:04:05Z", None),
        (
            "ts",
            "2026-02-30T00:00:00Z",
            "f '2026-02-30T00:00:00Z' is not an RFC 3339 UTC timestamp YYYY-MM-DDThh:mm:ss[.f]Z",
        ),
    ],
)
def test_field_value_check_names_the_broken_rule(
    kind: str, value: Any, problem: str | None
) -> None:
    assert ev._check_value("f", kind, value) == problem


def test_lifecycle_order_key_is_seq_then_event_id() -> None:
    assert ev.lifecycle_order_key(AuditEvent("x", {"seq": 2, "event_id": "b"})) == (2, "b")
    assert ev.lifecycle_order_key(AuditEvent("x", {"seq": True, "event_id": "b"})) == (-1, "b")
    assert ev.lifecycle_order_key(AuditEvent("x", {"seq": "2", "event_id": 7})) == (-1, "7")
    assert ev.lifecycle_order_key(AuditEvent("x", {})) == (-1, "None")
    evs = [
        AuditEvent("x", {"seq": 1, "event_id": "b"}),
        AuditEvent("x", {"seq": 1, "event_id": "a"}),
        AuditEvent("x", {"seq": None, "event_id": "z"}),
        AuditEvent("x", {"seq": 0, "event_id": "c"}),
    ]
    assert [(e.fields["seq"], e.fields["event_id"]) for e in ev.order_lifecycle(evs)] == [
        (None, "z"),
        (0, "c"),
        (1, "a"),
        (1, "b"),
    ]


LC = "dialogue:d/events"


def _commit(**changes: object) -> dict[str, Any]:
    fields = dict(build_chain(LC, 1)[0].fields)
    fields.update(
        event_type="record_commit",
        record_key="dialogue:d/entity:claim/01#02",
        record_op="put",
        record_digest="0" * 64,
    )
    fields.update(changes)
    return ev.seal(fields)


def test_commitment_event_checks() -> None:
    assert ev.shape_problem(LC, _commit()) is None
    assert ev.shape_problem(LC, _commit(record_op="delete")) is None
    assert ev.shape_problem(LC, _commit(record_key="dek#d#1")) is None
    assert (
        ev.shape_problem(LC, _commit(record_op="update"))
        == "record_op 'update' is not put or delete"
    )
    other = "dialogue:e/entity:claim/01#02"
    assert ev.shape_problem(LC, _commit(record_key=other)) == (
        f"record_key {other!r} is not the record key of an entity "
        "(other than an event) or a wrapped DEK of this chain's dialogue"
    )
    assert ev.shape_problem(LC, _commit(record_key="dek#e#1")) is not None


def _receipt(**changes: object) -> dict[str, Any]:
    fields = dict(build_chain(LC, 1)[0].fields)
    fields.update(
        event_type="erasure_receipt",
        erased_key_id="dek#d#1",
        destroyed_at="2026-01-02T03:04:05Z",
        tip_count=1,
        tip_hash="0" * 64,
        signer_key_id="1" * 64,
        signature="2" * 128,
    )
    fields.update(changes)
    return ev.seal(fields)


def test_erasure_receipt_key_id_check() -> None:
    assert ev.shape_problem(LC, _receipt()) is None
    assert ev.shape_problem(LC, _receipt(erased_key_id="key#d#1")) == (
        "key id 'key#d#1' does not start with 'dek#'"
    )
    assert ev.shape_problem(LC, _receipt(tip_count=-1)) == "tip_count must be between 0 and 2^53-1"


def test_committed_dialogue() -> None:
    assert ev.committed_dialogue("dialogue:d/entity:claim/01#02") == "d"
    assert ev.committed_dialogue("dek#d%2F1#3") == "d%2F1"
    assert ev.committed_dialogue("dek#d#0") is None
    assert ev.committed_dialogue("dialogue:d/nonsense") is None
    event_key = ev.lifecycle_record("d", dict(build_chain(LC, 1)[0].fields)).address
    assert ev.committed_dialogue(str(event_key)) is None


def _boundary(target: str) -> dict[str, Any]:
    src = build_chain("src", 2)
    return dict(boundary_event("test-signer", src, "src", target, T0_MS + 5000, "sha256").fields)


def test_full_shape_check_accepts_what_the_fast_one_accepts() -> None:
    """_shape_problem (the rule-by-rule check) on well-formed events of each kind."""
    audit = dict(build_chain("c", 1)[0].fields)
    assert ev._shape_problem("c", audit) is None
    assert ev._shape_problem("c", {**audit, "zz": ev.MAX_INT, "zé": -ev.MAX_INT}) is None
    assert ev._shape_problem("c", _boundary("c")) is None
    assert ev._shape_problem(LC, _boundary(LC)) is None
    assert ev._shape_problem(LC, _commit()) is None
    assert ev._shape_problem(LC, _receipt()) is None


def test_full_shape_check_names_the_first_broken_rule() -> None:
    audit = dict(build_chain("c", 1)[0].fields)
    assert ev._shape_problem("c", {**audit, "zz": ev.MAX_INT + 1}) == (
        "field zz is not a string, an I-JSON integer or null"
    )
    assert ev._shape_problem("c", {**audit, "zz": 1.5}) == (
        "field zz is not a string, an I-JSON integer or null"
    )
    assert ev._shape_problem("c", {**audit, "zz": True}) == (
        "field zz is not a string, an I-JSON integer or null"
    )
    assert ev._shape_problem("c", {**audit, "zz": "\ud800"}) == (
        "field zz holds a lone surrogate (not encodable as UTF-8)"
    )
    assert ev._shape_problem("c", {**audit, "\udc00": "x"}) == (
        "field names must be strings of Unicode scalar values"
    )
    assert ev._shape_problem("c", {**audit, 7: "x"}) == (
        "field names must be strings of Unicode scalar values"
    )
    no_key = {k: v for k, v in audit.items() if k != "key_id"}
    assert ev._shape_problem("c", {**no_key, "principal": "é"}) == (
        "required field key_id is missing"
    )
    assert ev._shape_problem("c", {**audit, "event_kind": "other"}) == "unknown event_kind 'other'"
    assert ev._shape_problem("c", {**audit, "operation": "x"}) == "unknown operation 'x'"
    assert ev._shape_problem("c", {**audit, "outcome": "x"}) == "unknown outcome 'x'"
    assert ev._shape_problem("c", {**_boundary("c"), "boundary_version": 2}) == (
        "boundary_version 2 is not 1"
    )
    assert ev._shape_problem(LC, {**_boundary(LC), "entity_type": "claim"}) == (
        "a lifecycle boundary event must be stored under entity type meta"
    )
    commit = {k: v for k, v in _commit().items() if k != "record_key"}
    assert ev.shape_problem(LC, commit) == "required field record_key is missing"
    receipt = {k: v for k, v in _receipt().items() if k != "erased_key_id"}
    assert ev.shape_problem(LC, receipt) == "required field erased_key_id is missing"


def _lc_item(origin: str = "item-1", **attrs: Any) -> EntityRecord:
    fields = dict(build_chain(LC, 1)[0].fields)
    record = ev.lifecycle_record("d", fields)
    merged = {**record.attributes, **attrs}
    return EntityRecord(
        record.address, {k: v for k, v in merged.items() if v is not None}, None, origin
    )


def test_lifecycle_adapter_malformed_finding_is_exact() -> None:
    got = ev.chain_event_from_entity(_lc_item(seq={"N": "07"}))
    item = _lc_item()
    assert got == Finding(
        codes.CHAIN_EVENT_MALFORMED,
        str(item.address),
        "attribute seq must be a canonical non-negative integer",
        source="item-1",
        extra={"chain_id": LC, "seq": None, "event_id": item.attributes["event_id"]["S"]},
    )
    got = ev.chain_event_from_entity(_lc_item(event_id=None))
    assert got == Finding(
        codes.CHAIN_EVENT_MALFORMED,
        str(item.address),
        "attribute event_id must be present with type S",
        source="item-1",
        extra={"chain_id": LC, "seq": 0, "event_id": None},
    )
    got = ev.chain_event_from_entity(_lc_item(seq={"N": 5}))
    assert isinstance(got, Finding)
    assert got.message == "attribute seq must be a canonical non-negative integer"
    assert got.extra["seq"] is None
    got = ev.chain_event_from_entity(_lc_item(event_type=None))
    assert isinstance(got, Finding)
    assert got.message == "attribute event_type must be present with type S"


def test_lifecycle_adapter_origin_is_the_item_or_its_address() -> None:
    got = ev.chain_event_from_entity(_lc_item())
    assert isinstance(got, AuditEvent) and got.origin == "item-1"
    got = ev.chain_event_from_entity(_lc_item(origin=""))
    assert isinstance(got, AuditEvent) and got.origin == str(_lc_item().address)


def test_lifecycle_adapter_reads_the_typed_attributes_of_a_commitment() -> None:
    record = ev.lifecycle_record("d", _commit())
    got = ev.chain_event_from_entity(record)
    assert isinstance(got, AuditEvent)
    assert got.fields == _commit()
    assert ev.shape_problem(LC, got.fields) is None


def test_lifecycle_adapter_reads_any_mapping_of_attributes_alike() -> None:
    """The adapter's general path (attribute values that are not plain dicts)
    gives the same event as its fast path."""
    from collections import OrderedDict

    record = ev.lifecycle_record("d", _commit())
    ordered = EntityRecord(
        record.address,
        {k: OrderedDict(v) for k, v in record.attributes.items()},  # type: ignore[misc]
        None,
        record.origin,
    )
    assert ev.chain_event_from_entity(ordered) == ev.chain_event_from_entity(record)


def test_lifecycle_boundary_entity_id_must_be_the_dialogue() -> None:
    fields = _boundary(LC)
    record = ev.lifecycle_record("d", fields)
    assert isinstance(ev.chain_event_from_entity(record), AuditEvent)
    moved = Address(
        record.address.dialogue, record.address.entity_type, ("meta", "e", fields["timestamp"])
    )
    got = ev.chain_event_from_entity(EntityRecord(moved, record.attributes, None, "item-9"))
    assert got == Finding(
        codes.CHAIN_EVENT_MALFORMED,
        str(moved),
        "a lifecycle boundary event's entity id must be its dialogue id",
        source="item-9",
        extra={"chain_id": LC, "seq": fields["seq"], "event_id": fields["event_id"]},
    )


def test_fast_shape_check_accepts_extreme_integers_nulls_and_non_ascii() -> None:
    """The one-pass check (_well_formed) takes every well-formed event itself,
    including integers at the I-JSON bounds, nulls and non-ASCII names and values."""
    audit = dict(build_chain("c", 1)[0].fields)
    edge = {**audit, "zz": ev.MAX_INT, "zy": -ev.MAX_INT, "zé": "é", "zx": None}
    assert ev._well_formed("c", edge)
    assert ev.shape_problem("c", edge) is None
    assert not ev._well_formed("c", {**audit, "zz": ev.MAX_INT + 1})
    assert not ev._well_formed("c", {**audit, "zz": -ev.MAX_INT - 1})
    boundary = _boundary("c")
    assert boundary["manifest_digest"] is None
    assert ev._well_formed("c", boundary) and ev.shape_problem("c", boundary) is None
    assert ev._well_formed(LC, _boundary(LC))
    assert ev._well_formed(LC, _commit()) and ev._well_formed(LC, _receipt())


def test_event_hash_of_fields_without_event_hash() -> None:
    fields = {k: v for k, v in build_chain("c", 1)[0].fields.items() if k != "event_hash"}
    assert ev.event_hash_well_formed(fields) == ev.event_hash(fields)
    named = {**fields, "zé": "x"}
    assert ev.event_hash_well_formed(named) == ev.event_hash(named)


def test_lifecycle_adapter_survives_attribute_values_that_are_not_typed() -> None:
    got = ev.chain_event_from_entity(_lc_item(seq="0", event_id=7))
    assert got == Finding(
        codes.CHAIN_EVENT_MALFORMED,
        str(_lc_item().address),
        "attribute event_id must be present with type S",
        source="item-1",
        extra={"chain_id": LC, "seq": None, "event_id": None},
    )


def test_day_numbers_are_integers() -> None:
    """A float day number would print as ``1.0`` in a skew finding's figures."""
    assert type(ev._day_number(1970, 1, 2)) is int
    assert type(ev.timestamp_ms.__wrapped__("1969-12-31T00:00:00.5Z")) is int


def test_lifecycle_adapter_refuses_an_attribute_with_two_types() -> None:
    got = ev.chain_event_from_entity(_lc_item(principal={"S": "x", "N": "1"}))
    assert isinstance(got, Finding)
    assert got.message == "attribute principal must be present with type S"


def test_lifecycle_adapter_keeps_digit_strings_as_strings() -> None:
    got = ev.chain_event_from_entity(_lc_item(principal={"S": "12"}))
    assert isinstance(got, AuditEvent) and got.fields["principal"] == "12"


def test_unknown_hash_algorithm_is_named() -> None:
    with pytest.raises(ev.UnknownHashAlgorithm, match=r"^unknown hash algorithm 'sha1'$"):
        ev.digest("sha1", b"")


# --- chain/verify.py --------------------------------------------------------------------


V_SIGNER = "verify-signer"
V_TRUST = TrustStore.of([public_bytes(private_key_from_label(V_SIGNER))])


def _ae(e: Any) -> AuditEvent:
    return AuditEvent(e.chain_id, e.fields)


def _where(result: Any) -> list[tuple[str, str]]:
    return [(f.code.name, f.where) for f in result.findings]


def _items_of(*chains: list[Any]) -> list[Any]:
    return [(_ae(e), e.store) for chain in chains for e in chain]


def _return_items(items: list[Any]) -> list[Any]:
    return items


def test_verifier_store_of_a_bare_event_is_no_store() -> None:
    """An event fed without a store label (bare, or feed()'s default) never
    counts as leaving a store: only two different labels do."""
    evs = build_chain("c", 3)
    result = verify_events([_ae(evs[0]), (_ae(evs[1]), "b"), (_ae(evs[2]), "b")], ChainPolicy())
    assert _where(result) == []
    v = ChainVerifier(ChainPolicy())
    assert v.feed(_ae(evs[0])) is True
    assert v.feed(_ae(evs[1]), "b") is True
    assert v.feed(_ae(evs[2]), "b") is True
    assert _where(v.finish()) == []


def test_verifier_feed_answers_well_formed_malformed_and_other_partition() -> None:
    evs = build_chain("c", 3)
    mine = partition("c", 2)
    v = ChainVerifier(ChainPolicy(), (mine, 2))
    assert v.feed(_ae(evs[0])) is True
    bad = AuditEvent("c", {**evs[1].fields, "seq": "one"})
    assert v.feed(bad) is False
    other = ChainVerifier(ChainPolicy(), (1 - mine, 2))
    assert other.feed(_ae(evs[0])) is None
    # Swapped neighbours: the second one consumes the held event and is well formed.
    w = ChainVerifier(ChainPolicy())
    assert [w.feed(_ae(e)) for e in (evs[0], evs[2], evs[1])] == [True, True, True]
    assert _where(w.finish()) == [("CHAIN_OUT_OF_ORDER", "chain:c@1")]


def test_verifier_tips_are_empty_before_finish_and_final_after() -> None:
    evs = build_chain("c", 3)
    v = ChainVerifier(ChainPolicy())
    assert v.tips == {}
    for e in evs:
        v.feed(_ae(e))
    v.finish()
    assert v.tips == {"c": (3, evs[-1].hash)}


def test_verifier_finish_partial_releases_every_chain() -> None:
    evs = build_chain("c", 2)
    v = ChainVerifier(ChainPolicy())
    for e in evs:
        v.feed(_ae(e))
    first = v.finish_partial()
    assert first.tips == {"c": (2, evs[-1].hash)} and first.events == 2
    again = v.finish_partial()
    assert again.tips == {} and again.findings == {} and again.events == 2


def test_verifier_lazy_expectations_count_only_for_chains_fed() -> None:
    """lazy=True: an expectation of a chain this verifier never sees yields
    nothing here; one of a chain it is fed applies (CHAIN_TRUNCATED)."""
    a = build_chain("a", 2)
    policy = ChainPolicy(
        expectations=(
            ChainExpectation("a", 3, "00" * 32, origin="cp.json"),
            ChainExpectation("b", 2, "11" * 32, origin="cp.json"),
        )
    )
    v = ChainVerifier(policy, lazy=True)
    for e in a:
        v.feed(_ae(e))
    partial = v.finish_partial()
    assert partial.expected_seen == {"a"}
    assert {cid: [(f.code, f.where) for f in fs] for cid, fs in partial.findings.items()} == {
        "a": [(codes.CHAIN_TRUNCATED, "chain:a@2")]
    }
    eager = ChainVerifier(policy)
    for e in a:
        eager.feed(_ae(e))
    assert _where(eager.finish()) == [
        ("CHAIN_TRUNCATED", "chain:a@2"),
        ("CHAIN_TRUNCATED", "chain:b@0"),
    ]


def test_verifier_part_takes_only_the_expectations_of_its_partition() -> None:
    ids = [f"p-{i}" for i in range(12)]
    policy = ChainPolicy(expectations=tuple(ChainExpectation(c, 1, "00" * 32) for c in ids))
    for k in range(3):
        result = ChainVerifier(policy, (k, 3)).finish()
        assert sorted(f.where for f in result.findings) == sorted(
            f"chain:{c}@0" for c in ids if partition(c, 3) == k
        )


def test_verifier_worker_verifies_exactly_its_partition() -> None:
    chains = [build_chain(f"w-{i}", 3) for i in range(9)]
    chains[4].pop(1)  # a gap
    items = _items_of(*chains)
    serial = verify_events(items, ChainPolicy())
    parts = [_worker(lambda: items, ChainPolicy(), k, 3) for k in range(3)]
    for k, p in enumerate(parts):
        assert set(p.tips) == {c[0].chain_id for c in chains if partition(c[0].chain_id, 3) == k}
    merged = resolve(parts)
    assert [f.to_json() for f in merged.findings] == [f.to_json() for f in serial.findings]
    assert merged.checked == serial.checked
    assert _where(serial) == [("CHAIN_GAP", "chain:w-4@1")]


def test_verifier_parallel_with_one_worker_and_refusal_of_none() -> None:
    evs = build_chain("c", 3)
    del evs[1]
    items = _items_of(evs)
    one = verify_parallel(functools.partial(_return_items, items), ChainPolicy(), 1)
    assert _where(one) == [("CHAIN_GAP", "chain:c@1")]
    with pytest.raises(ValueError, match="workers must be at least 1"):
        verify_parallel(functools.partial(_return_items, items), ChainPolicy(), 0)


def test_verifier_close_chain_keeps_findings_and_counts_quiet_chains() -> None:
    good, bad = build_chain("good", 2), build_chain("bad", 3)
    del bad[1]
    v = ChainVerifier(ChainPolicy())
    for e in good:
        v.feed(_ae(e))
    v.close_chain("good")
    for e in bad:
        v.feed(_ae(e))
    v.close_chain("bad")
    v.close_chain("never-fed")  # nothing to end
    for e in build_chain("quiet", 1):
        v.feed(_ae(e))
    v.close_chain("quiet")
    partial = v.finish_partial()
    assert partial.quiet == 2
    assert list(partial.findings) == ["bad"]
    assert [(f.code, f.where) for f in partial.findings["bad"]] == [
        (codes.CHAIN_GAP, "chain:bad@1")
    ]
    assert partial.tips == {
        "good": (2, good[-1].hash),
        "bad": (3, bad[-1].hash),
        "quiet": (1, build_chain("quiet", 1)[0].hash),
    }
    result = resolve([partial])
    assert result.checked["chains"] == 3 and result.checked["chain_events"] == 5


def test_verifier_resolve_held_needs_seq_order_and_links() -> None:
    """Swapped neighbours need all of: the right seqs, the link to the tip and
    the link between them; else the held event is a gap."""
    evs = build_chain("c", 4)
    result = verify_events([_ae(evs[i]) for i in (0, 3, 1)], ChainPolicy())
    assert _where(result) == [("CHAIN_GAP", "chain:c@1"), ("CHAIN_OUT_OF_ORDER", "chain:c@1")]
    # Links hold but the seqs are not n and n+1 (seq 1 edited to 5, resealed).
    forged = build_chain("c", 3)
    forged[1].fields["seq"] = 5
    rechain(forged, 1)
    result = verify_events([_ae(forged[i]) for i in (0, 2, 1)], ChainPolicy())
    assert _where(result) == [
        ("CHAIN_GAP", "chain:c@1"),
        ("CHAIN_GAP", "chain:c@3"),
        ("CHAIN_UUID_BACKWARDS", "chain:c@5"),
    ]


def test_verifier_swapped_neighbours_in_stores() -> None:
    """A held event's store change is kept: the event that follows it in
    another store is a second store change."""
    evs = build_chain("c", 3)
    items = [(_ae(evs[0]), "A"), (_ae(evs[2]), "B"), (_ae(evs[1]), "C")]
    assert [f.code.name for f in verify_events(items, ChainPolicy()).findings] == [
        "CHAIN_BOUNDARY_MISSING",
        "CHAIN_OUT_OF_ORDER",
        "CHAIN_BOUNDARY_MISSING",
    ]


def test_verifier_fork_continues_on_the_other_branch() -> None:
    evs = build_chain("c", 3)
    other = build_chain("c", 2, start_ms=T0_MS + 500)  # seq 0..1 of another branch
    other[0] = evs[0].copy()
    rechain(other, 1)  # seq 1' claims seq 0 as predecessor too
    branch = build_chain("c", 1, first_seq=2, previous_hash=other[1].hash, start_ms=T0_MS + 3000)
    items = [_ae(evs[0]), _ae(evs[1]), _ae(other[1]), _ae(branch[0])]
    assert _where(verify_events(items, ChainPolicy())) == [("CHAIN_FORK", "chain:c@1")]


def test_verifier_migration_boundary_missing_is_located() -> None:
    evs = build_chain("c", 3)
    x = ChainExpectation("c", 2, evs[1].hash, kind=MIGRATION, origin="m.json")
    result = verify_events([_ae(e) for e in evs], ChainPolicy(expectations=(x,)))
    assert _where(result) == [("CHAIN_BOUNDARY_MISSING", "chain:c@2")]
    result = verify_events([_ae(e) for e in evs[:2]], ChainPolicy(expectations=(x,)))
    assert _where(result) == [("CHAIN_BOUNDARY_MISSING", "chain:c@2")]


def test_verifier_empty_chain_expectation_without_alg_is_sha256_genesis() -> None:
    good = ChainExpectation("e", 0, ev.genesis_hash("e"))
    assert _where(verify_events([], ChainPolicy(expectations=(good,)))) == []
    bad = ChainExpectation("e", 0, ev.genesis_hash("e", "blake3"))
    assert _where(verify_events([], ChainPolicy(expectations=(bad,)))) == [
        ("CHAIN_TIP_MISMATCH", "chain:e@0")
    ]


def test_verifier_boundary_claim_mismatch_is_located_at_the_boundary() -> None:
    legacy = build_chain("legacy", 3)
    b = boundary_event(V_SIGNER, legacy[:2], "legacy", "moved", T0_MS + 9000, "sha256")
    result = verify_events([*_items_of(legacy), (_ae(b), b.store)], ChainPolicy(V_TRUST))
    assert [(f.code.name, f.where, f.expected, f.actual) for f in result.findings] == [
        (
            "BOUNDARY_SOURCE_MISMATCH",
            "chain:moved@2",
            f"count=3 tip={legacy[2].hash}",
            f"count=2 tip={legacy[1].hash}",
        )
    ]


def test_verifier_boundary_without_store_keeps_the_chain_store() -> None:
    """A boundary fed without a store label leaves the chain in its store: the
    next event in another store is still a store change without a boundary."""
    evs = build_chain("c", 2)
    b = boundary_event(V_SIGNER, evs, "c", "c", T0_MS + 60_000, "sha256")
    after = build_chain("c", 1, first_seq=3, previous_hash=b.hash, start_ms=T0_MS + 60_000)
    items = [(_ae(evs[0]), "A"), (_ae(evs[1]), "A"), (_ae(b), ""), (_ae(after[0]), "B")]
    assert _where(verify_events(items, ChainPolicy(V_TRUST))) == [
        ("CHAIN_BOUNDARY_MISSING", "chain:c@3")
    ]
    items[2] = (_ae(b), "B")
    assert _where(verify_events(items, ChainPolicy(V_TRUST))) == []


def _whole(result: Any) -> list[tuple[Any, ...]]:
    return [
        (f.code.name, f.where, f.message, f.expected, f.actual, f.extra, f.source)
        for f in result.findings
    ]


def _x(e: Any) -> dict[str, Any]:
    return {"chain_id": e.chain_id, "seq": e.fields["seq"], "event_id": e.fields["event_id"]}


def test_verifier_linkage_findings_are_pinned_whole() -> None:
    """Duplicate, swapped neighbours and a broken link: code, place, message,
    expected/actual, extra and source of each."""
    evs = build_chain("c", 5)
    order = [evs[0], evs[1], evs[1], evs[3], evs[2], evs[4]]
    items = [(AuditEvent("c", e.fields, f"x:{i}"), "") for i, e in enumerate(order)]
    assert _whole(verify_events(items, ChainPolicy())) == [
        ("CHAIN_DUPLICATE", "chain:c@1", "the event is stored twice", "2", "1", _x(evs[1]), "x:2"),
        (
            "CHAIN_OUT_OF_ORDER",
            "chain:c@2",
            "events 2 and 3 are stored in swapped order",
            "2",
            "3",
            _x(evs[2]),
            "x:4",
        ),
    ]
    bad = [e.copy() for e in evs[:3]]
    bad[2].fields = ev.seal({**bad[2].fields, "previous_hash": "ab" * 32})
    items = [(AuditEvent("c", e.fields, f"y:{i}"), "") for i, e in enumerate(bad)]
    assert _whole(verify_events(items, ChainPolicy())) == [
        (
            "CHAIN_LINK_BROKEN",
            "chain:c@2",
            "previous_hash is not the previous event's hash",
            evs[1].hash,
            "ab" * 32,
            _x(evs[2]),
            "y:2",
        )
    ]


def test_verifier_gap_and_fork_findings_are_pinned_whole() -> None:
    evs = build_chain("c", 4)
    items = [(AuditEvent("c", e.fields, f"g:{i}"), "") for i, e in enumerate([evs[0], evs[3]])]
    assert _whole(verify_events(items, ChainPolicy())) == [
        (
            "CHAIN_GAP",
            "chain:c@1",
            "2 event(s) missing before seq 3",
            "1",
            "3",
            {**_x(evs[3]), "seq": 1},
            "g:1",
        )
    ]
    other = build_chain("c", 2, start_ms=T0_MS + 500)
    other[0] = evs[0].copy()
    rechain(other, 1)
    items = [(AuditEvent("c", e.fields, f"f:{i}"), "") for i, e in enumerate(evs[:2] + other[1:])]
    assert _whole(verify_events(items, ChainPolicy())) == [
        (
            "CHAIN_FORK",
            "chain:c@1",
            "two events claim the same predecessor",
            evs[1].hash,
            other[1].hash,
            _x(other[1]),
            "f:2",
        )
    ]
