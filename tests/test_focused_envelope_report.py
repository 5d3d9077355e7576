"""Focused tests that kill the mutants scripts/mutation.sh found surviving in the
record commitments, the migration manifest and gate, the envelope seal and
check, the address parser and the report renderer (issue 15; docs/mutation.md).

Each test is named after the behaviour it pins and asserts the exact value,
finding code or exit a broken check would change.
"""

from __future__ import annotations

import dataclasses
import hashlib
import io
import itertools
import json
from pathlib import Path
from typing import Any

import pytest
import rfc8785
from hypothesis import given, settings
from hypothesis import strategies as st

from chainaudit.chain.events import (
    UnknownHashAlgorithm,
    chain_event_from_entity,
    genesis_hash,
    lifecycle_record,
    seal,
    timestamp_ms,
)
from chainaudit.chain.tips import ChainTip
from chainaudit.chain.uuid7 import make as make_uuid7
from chainaudit.chain.verify import ChainPolicy, verify_events
from chainaudit.commitments import events as cev
from chainaudit.commitments.erasure import ErasureRefused, plan_erasure
from chainaudit.commitments.verify import verify_commitments
from chainaudit.conformance.vectorgen.commitment_build import DialogueWriter, signer
from chainaudit.conformance.vectorgen.manifest_build import (
    OTHER_LABEL,
    SIGNER_LABEL,
    audit_events,
    boundary_event,
    sample_manifest,
    sample_records,
    vector_key,
)
from chainaudit.envelope.seal import (
    PayloadError,
    aad_from_hash,
    decode_payload,
    encode_payload,
    open_envelope,
    seal_random,
)
from chainaudit.errors import InputError, LocalFaultError
from chainaudit.findings import Finding, Severity, codes
from chainaudit.keys.signing import TrustStore, public_bytes
from chainaudit.migration.gate import gate_post
from chainaudit.migration.manifest import (
    LeavesError,
    ManifestBuilder,
    build_manifest,
    check_shape,
    dump_manifest,
    key_dialogue,
    load_manifest,
    manifest_digest,
    public_key_bytes,
    read_leaves,
    sign_manifest,
    verify_manifest,
)
from chainaudit.records.address import Address, AddressError, EntityType
from chainaudit.records.digest import keyed_digest, record_key
from chainaudit.records.model import AuditEvent, EntityRecord, KeyState, WrappedDek

STAMP = "2026-01-01T00:00:00.000Z"


def _dek(dialogue: str = "d-1", version: int = 1) -> WrappedDek:
    return WrappedDek(
        key_id=f"dek#{dialogue}#{version}",
        dialogue=dialogue,
        version=version,
        owner="svc",
        wrap_alg="AES-256-GCM",
        wrapped_key=b"\x01" * 40,
        wrap_nonce=b"\x02" * 12,
        state=KeyState.ACTIVE,
        created_at=STAMP,
    )


def _claim(dialogue: str = "d-1") -> EntityRecord:
    return EntityRecord(Address.of(dialogue, EntityType.CLAIM, "01", "01"), {}, None)


# --- commitments/events.py ------------------------------------------------------------


@pytest.mark.parametrize(("key", "digest"), [(None, None), ("dek#d-1#1", None), (None, "ab" * 32)])
def test_a_commitment_without_its_record_needs_both_key_and_digest(
    key: str | None, digest: str | None
) -> None:
    with pytest.raises(ValueError, match=r"^a commitment needs the record, or its key and digest$"):
        cev.commit_fields(None, key=key, digest=digest, timestamp=STAMP, principal="p")


def test_a_commitment_of_a_deleted_record_by_key_and_digest_names_that_key() -> None:
    key = "dialogue:d-1/entity:meta"
    fields = cev.commit_fields(
        None, op="delete", key=key, digest="ab" * 32, timestamp=STAMP, principal="p"
    )
    assert fields == {
        "event_type": "record_commit",
        "entity_type": "meta",
        "entity_id": key,
        "timestamp": STAMP,
        "principal": "p",
        "record_key": key,
        "record_op": "delete",
        "record_digest": "ab" * 32,
    }


def test_a_commitment_takes_the_given_key_and_digest_over_the_records_own() -> None:
    r = _claim()
    fields = cev.commit_fields(r, key="k", digest="cd" * 32, timestamp=STAMP, principal="p")
    assert fields["record_key"] == "k" != record_key(r)
    assert fields["record_digest"] == "cd" * 32 != cev.item_digest(r, "sha256")
    assert (fields["entity_type"], fields["entity_id"]) == ("claim", "01#01")


def test_a_wrapped_dek_commitment_is_addressed_to_meta() -> None:
    fields = cev.commit_fields(_dek(version=3), timestamp=STAMP, principal="p")
    assert (fields["entity_type"], fields["entity_id"]) == ("meta", "dek#3")
    assert fields["record_key"] == "dek#d-1#3"


def test_only_non_event_entities_and_wrapped_deks_are_committable() -> None:
    w = DialogueWriter("d-1")
    w.new_key(1)
    event_entity = lifecycle_record("d-1", seal(dict(w.events[-1])))
    assert event_entity.address.entity_type.value == "event"
    assert cev.committable(event_entity) is False
    assert cev.committable(_claim()) is True
    assert cev.committable(_dek()) is True
    assert cev.committable(AuditEvent("dialogue:d-1/events", {})) is False


def test_an_unknown_item_digest_algorithm_is_refused_by_name() -> None:
    assert cev.digest_bytes("blake3", b"x") != cev.digest_bytes("sha256", b"x")
    with pytest.raises(UnknownHashAlgorithm, match=r"^unknown hash algorithm 'md5'$"):
        cev.digest_bytes("md5", b"x")


@settings(max_examples=40)
@given(
    st.sampled_from(["dialogue:d-1/events", "dialogue:x/events", "audit:crypto", "d-1/events"]),
    st.sampled_from(["record_commit", "erasure_receipt", "key_created", None]),
)
def test_commitment_and_receipt_events_are_lifecycle_events_of_their_type(
    chain_id: str, event_type: str | None
) -> None:
    fields: dict[str, Any] = {} if event_type is None else {"event_type": event_type}
    ev = AuditEvent(chain_id, fields)
    lifecycle = chain_id.startswith("dialogue:")
    assert cev.is_commitment(ev) is (lifecycle and event_type == "record_commit")
    assert cev.is_receipt(ev) is (lifecycle and event_type == "erasure_receipt")


# --- commitments/erasure.py: the plan of `keys destroy` (COMMIT-9) ------------------

AT = "2026-11-01T10:00:00.000Z"


def _dialogue(alg: str = "sha256", keys: int = 1) -> DialogueWriter:
    """A committed dialogue: ``keys`` data keys (the last active), a claim and a verdict."""
    w = DialogueWriter("d-1", alg=alg)
    for v in range(1, keys + 1):
        w.new_key(v)
    w.entity(EntityType.CLAIM, ["01", "01"], {"t": "x"}, version=keys)
    w.entity(EntityType.CLAIM, ["01", "02"], {"t": "y"}, version=keys)
    return w


def _items(w: DialogueWriter, events: list[dict[str, Any]] | None = None) -> list[Any]:
    evs = w.events if events is None else events
    return [*w.records.values(), *(lifecycle_record(w.dialogue, f) for f in evs)]


def _planned(plan: Any) -> list[dict[str, Any]]:
    out = []
    for r in [*plan.before, *plan.after]:
        ev = chain_event_from_entity(r)
        assert isinstance(ev, AuditEvent), ev
        out.append(dict(ev.fields))
    return out


def _derived_uuid(chain_id: str, count: int, label: str, ms: int) -> str:
    """The event id the plan derives from its inputs (a re-run plans the same ids)."""
    seed = hashlib.sha256(f"{chain_id}\n{count}\n{label}".encode()).digest()
    r = int.from_bytes(seed[:10], "big")
    return make_uuid7(ms, r & 0xFFF, (r >> 12) & ((1 << 62) - 1))


@pytest.mark.parametrize("alg", ["sha256", "blake3"])
def test_an_erasure_plan_continues_the_chain_at_its_tip_under_its_algorithm(alg: str) -> None:
    w = _dialogue(alg)
    seq, tip = w.tip
    plan = plan_erasure("dek#d-1#1", _items(w), AT, erasure_key=signer("erasure-authority"))
    assert (plan.key_id, plan.destroyed_at, plan.record) == (
        "dek#d-1#1",
        AT,
        w.records["dek#d-1#1"],
    )
    assert plan.receipt_written and not plan.receipt_present and plan.committed_before == 0
    assert plan.destroyed is not None and plan.destroyed.state is KeyState.DESTROYED
    receipt, commit = _planned(plan)
    at_ms = timestamp_ms(AT)
    assert at_ms is not None
    assert receipt["event_type"] == "erasure_receipt"
    assert (receipt["seq"], receipt["previous_hash"], receipt["hash_alg"]) == (seq, tip, alg)
    assert (receipt["tip_count"], receipt["tip_hash"]) == (seq, tip)
    assert (receipt["entity_id"], receipt["principal"]) == ("d-1", "svc:chainaudit")
    assert receipt["event_id"] == _derived_uuid(
        w.chain_id, seq, f"erasure_receipt\ndek#d-1#1\n{AT}", at_ms
    )
    assert (commit["seq"], commit["previous_hash"]) == (seq + 1, receipt["event_hash"])
    assert commit["timestamp"] == "2026-11-01T10:00:00.001Z"
    assert commit["event_id"] == _derived_uuid(
        w.chain_id, seq + 1, "record_commit\ndek#d-1#1\n2026-11-01T10:00:00.001Z", at_ms + 1
    )
    assert (commit["hash_alg"], commit["principal"], commit["record_op"]) == (
        alg,
        "svc:chainaudit",
        "put",
    )
    assert commit["record_digest"] == cev.item_digest(plan.destroyed, alg)
    trust = TrustStore.of([public_bytes(signer("erasure-authority"))])
    after = [plan.destroyed if k == "dek#d-1#1" else r for k, r in w.records.items()]
    events = [*(lifecycle_record("d-1", f) for f in w.events), *plan.before, *plan.after]
    chain = verify_events(
        [e for e in (chain_event_from_entity(x) for x in events) if isinstance(e, AuditEvent)],
        ChainPolicy(trust=trust),
    )
    assert [f.code.name for f in chain.findings if f.severity is Severity.ERROR] == []
    assert verify_commitments([*after, *events], trust).findings == []


def test_a_legacy_dialogue_is_committed_from_the_genesis_of_its_chain() -> None:
    w = _dialogue()
    legacy = [w.records[k] for k in sorted(w.records, key=str.encode, reverse=True)]
    plan = plan_erasure("dek#d-1#1", legacy, "1970-01-01T00:00:00.000Z", principal="svc:x")
    assert plan.committed_before == 3 and not plan.receipt_written
    evs = _planned(plan)
    assert [f["seq"] for f in evs] == [0, 1, 2, 3]
    assert evs[0]["previous_hash"] == genesis_hash("dialogue:d-1/events", "sha256")
    assert all(b["previous_hash"] == a["event_hash"] for a, b in itertools.pairwise(evs))
    assert {f["hash_alg"] for f in evs} == {"sha256"} and {f["principal"] for f in evs} == {"svc:x"}
    # committed in the byte order of their record keys, each just after the previous event
    assert [f["record_key"] for f in evs] == [*sorted(w.records, key=str.encode), "dek#d-1#1"]
    assert [f["timestamp"] for f in evs] == [f"1970-01-01T00:00:00.00{i}Z" for i in range(1, 5)]


def test_an_erasure_stamps_its_events_after_the_chains_last_event() -> None:
    w = _dialogue()
    last = timestamp_ms(w.events[-1]["timestamp"])
    assert last is not None
    plan = plan_erasure("dek#d-1#1", _items(w), "2025-01-01T00:00:00.000Z")
    (commit,) = _planned(plan)
    assert plan.destroyed_at == "2025-01-01T00:00:00.000Z"
    assert timestamp_ms(commit["timestamp"]) == last + 1


def test_an_erasure_without_its_key_record_is_refused_by_name() -> None:
    w = _dialogue()
    with pytest.raises(ErasureRefused, match=r"^no wrapped-DEK record dek#d-1#9 in the store$"):
        plan_erasure("dek#d-1#9", _items(w), AT)


def test_an_erasure_time_that_is_not_a_timestamp_is_refused_by_name() -> None:
    w = _dialogue()
    with pytest.raises(ValueError, match=r"^'yesterday' is not an RFC 3339 UTC timestamp$"):
        plan_erasure("dek#d-1#1", _items(w), "yesterday")


def test_a_receipt_for_another_key_does_not_stand_for_this_ones() -> None:
    w = _dialogue(keys=2)
    w.shred(1)
    plan = plan_erasure("dek#d-1#2", _items(w), AT, erasure_key=signer("erasure-authority"))
    assert plan.receipt_written and not plan.receipt_present
    again = plan_erasure("dek#d-1#1", _items(w), AT, erasure_key=signer("erasure-authority"))
    assert again.receipt_present and not again.receipt_written and again.before == []


def test_a_malformed_lifecycle_event_is_left_out_of_the_plan() -> None:
    w = _dialogue()
    bad = lifecycle_record("d-1", dict(w.events[-1]))
    attrs = dict(bad.attributes)
    del attrs["record_digest"]
    items = [*_items(w), EntityRecord(bad.address, attrs, None)]
    assert not isinstance(chain_event_from_entity(items[-1]), AuditEvent)
    (commit,) = _planned(plan_erasure("dek#d-1#1", items, AT))
    assert commit["seq"] == w.tip[0]


def _refused(items: list[Any]) -> None:
    with pytest.raises(ErasureRefused) as info:
        plan_erasure("dek#d-1#1", items, AT)
    assert str(info.value) == (
        "dialogue:d-1/entity:claim/01#02 does not match its latest commitment in "
        "dialogue:d-1/events: run `chainaudit verify` and resolve that before erasing the "
        "dialogue (a receipt would certify the tampered state)"
    )


def test_an_erasure_checks_every_record_after_the_key_itself() -> None:
    w = _dialogue()
    k = "dialogue:d-1/entity:claim/01#02"
    r = w.records[k]
    assert isinstance(r, EntityRecord)
    tampered = EntityRecord(r.address, {**r.attributes, "x": {"S": "1"}}, r.envelope)
    _refused([w.records["dek#d-1#1"], tampered, *_items(w)[2:]])


def test_an_erasure_refuses_a_record_whose_latest_commitment_is_a_delete() -> None:
    w = _dialogue()
    k = "dialogue:d-1/entity:claim/01#02"
    r = w.records[k]
    w.delete(k)
    _refused([*_items(w), r])


def test_an_erasure_refuses_an_uncommitted_record_of_a_committed_dialogue() -> None:
    w = _dialogue()
    k = "dialogue:d-1/entity:claim/01#02"
    events = [f for f in w.events if f.get("record_key") != k]
    _refused(_items(w, events))


def test_an_erasure_refuses_a_commitment_under_an_unknown_algorithm() -> None:
    w = _dialogue()
    k = "dialogue:d-1/entity:claim/01#02"
    events = [dict(f, hash_alg="md5") if f.get("record_key") == k else f for f in w.events]
    _refused(_items(w, events))


def test_an_erasure_judges_a_record_by_its_latest_commitment_in_chain_order() -> None:
    """Two commitments at one ``seq``: the one with the greater ``event_id`` is the
    latest (CHAIN-6), whichever the store returned first."""
    w = _dialogue()
    k = "dialogue:d-1/entity:claim/01#02"
    good = next(f for f in w.events if f.get("record_key") == k)
    low, high = "00" + good["event_id"][2:], "0f" + good["event_id"][2:]
    assert low < good["event_id"] < high
    bad = dict(good, record_digest="00" * 32, event_id=low)
    others = [f for f in w.events if f is not good]
    plan = plan_erasure("dek#d-1#1", _items(w, [*others, good, bad]), AT)
    assert len(plan.after) == 1
    worse = dict(good, record_digest="00" * 32, event_id=high)
    _refused(_items(w, [*others, worse, good]))


# --- migration/gate.py: gate post (MAN-4) ----------------------------------------------

GATE_PINNED = [public_key_bytes(vector_key(SIGNER_LABEL))]
GATE_MANIFEST, GATE_LEAVES = sample_manifest()


def _gate(target: list[Any], **kw: Any) -> Any:
    kw.setdefault("pinned", GATE_PINNED)
    kw.setdefault("leaves", GATE_LEAVES.splitlines(keepends=True))
    return gate_post(kw.pop("manifest", GATE_MANIFEST), iter(target), **kw)


def _codes(result: Any) -> list[tuple[str, str]]:
    return [(f.code.name, f.where) for f in result]


def _manifest_with(records: list[Any], chains: dict[str, ChainTip]) -> tuple[Any, list[bytes]]:
    buf = io.BytesIO()
    with ManifestBuilder() as b:
        b.add_all(records)
        st_ = b.statement(created_at="t", source={}, chains=chains, leaves_out=buf)
    return sign_manifest(st_, vector_key(SIGNER_LABEL)), buf.getvalue().splitlines(keepends=True)


def test_gate_counts_records_dialogues_and_chains_appended_included() -> None:
    tip = GATE_MANIFEST["chains"]["crypto"]["tip"]
    b = boundary_event("crypto", 4, tip, manifest_digest(GATE_MANIFEST))
    after = audit_events("crypto", 2, start=5, prev=b.fields["event_hash"])
    result = _gate([*sample_records(), *reversed(after), b])
    assert _codes(result) == [("MANIFEST_CHAIN_BRIDGED", "chain:crypto@4")]
    assert result.checked == {"records": 23, "dialogues": 2, "chains": 3}


def test_gate_names_the_target_by_its_label_in_every_record_finding() -> None:
    recs = sample_records()
    gone = recs.pop(0)
    dup = recs[0]
    assert isinstance(dup, EntityRecord)
    result = _gate([*recs, dataclasses.replace(dup, origin="")])
    missing = next(f for f in result if f.code.name == "MANIFEST_RECORD_MISSING")
    assert (missing.where, missing.message) == (
        record_key(gone),
        "listed in the manifest, absent from target",
    )
    dupe = next(f for f in result if f.code.name == "RECORD_KEY_DUPLICATE")
    assert dupe.message == "target holds more than one record with this record key"
    result = _gate([*recs[1:], recs[0], recs[0]], label="new-db")
    messages = {f.code.name: f.message for f in result}
    assert messages["MANIFEST_RECORD_MISSING"] == "listed in the manifest, absent from new-db"
    assert (
        messages["RECORD_KEY_DUPLICATE"] == "new-db holds more than one record with this record key"
    )


def test_gate_goes_on_after_an_untrusted_manifest_and_a_source_finding() -> None:
    other = [public_key_bytes(vector_key(OTHER_LABEL))]
    f = Finding(codes.RECORD_MALFORMED, "x.ndjson:3", "bad")
    result = _gate([f, *sample_records()[1:]], pinned=other)
    got = _codes(result)
    assert got[:2] == [
        ("MANIFEST_SIGNER_UNTRUSTED", "manifest"),
        ("RECORD_MALFORMED", "x.ndjson:3"),
    ]
    missing = [w for code, w in got if code == "MANIFEST_RECORD_MISSING"]
    assert missing == ["dialogue:d-1/entity:meta"]  # every record after the finding was read


def test_gate_puts_its_index_where_it_is_told(tmp_path: Path) -> None:
    with pytest.raises(LocalFaultError):
        _gate(sample_records(), index_dir=str(tmp_path / "gone"))


def test_gate_does_not_ask_for_the_leaves_file_it_was_given() -> None:
    recs = sample_records()
    recs.pop(0)
    got = {code for code, _ in _codes(_gate(recs))}
    assert "MANIFEST_ROOT_MISMATCH" in got and "MANIFEST_LEAVES_ABSENT" not in got


def test_a_leaves_file_with_one_digest_changed_is_invalid_and_names_its_line() -> None:
    lines = GATE_LEAVES.splitlines(keepends=True)
    key, digest = json.loads(lines[0])
    lines[0] = json.dumps([key, digest[::-1]], separators=(",", ":")).encode() + b"\n"
    result = _gate(sample_records(), leaves=lines)
    assert _codes(result) == [("MANIFEST_LEAVES_INVALID", "leaves")]
    bad = _gate(sample_records(), leaves=[b"not a leaf\n"])
    assert bad.findings[0].message.startswith("leaves:1: not a canonical leaves line")


def test_gate_counts_a_dialogue_wholly_missing_or_wholly_new() -> None:
    recs = [r for r in sample_records() if "d%2F2" not in record_key(r)]
    result = _gate(recs, leaves=None)
    counts = [
        f
        for f in result
        if f.code.name == "MANIFEST_COUNT_MISMATCH" and not f.where.startswith("chain:")
    ]
    assert [(f.where, f.expected, f.actual) for f in counts] == [
        ("totals", "entities=14 deks=2 audit_events=4", "entities=7 deks=1 audit_events=4"),
        ("dialogue:d%2F2", "entities=7 deks=1", "entities=0 deks=0"),
    ]
    template = sample_records()[1]
    assert isinstance(template, EntityRecord)
    new = dataclasses.replace(template, address=Address.parse("dialogue:d-9/entity:expert/ada"))
    result = _gate([*sample_records(), new], leaves=None)
    counts = [f for f in result if f.code.name == "MANIFEST_COUNT_MISMATCH"]
    assert [(f.where, f.expected, f.actual) for f in counts] == [
        ("totals", "entities=14 deks=2 audit_events=4", "entities=15 deks=2 audit_events=4"),
        ("dialogue:d-9", "entities=0 deks=0", "entities=1 deks=0"),
    ]


def test_gate_takes_events_of_a_chain_the_manifest_does_not_list_as_records() -> None:
    extra = audit_events("other", 1)
    got = _codes(_gate([*sample_records(), *extra]))
    assert ("MANIFEST_RECORD_EXTRA", record_key(extra[0])) in got


def test_gate_finds_another_event_at_the_manifests_tip() -> None:
    recs = sample_records()
    i = next(i for i, r in enumerate(recs) if getattr(r, "fields", {}).get("seq") == 3)
    ev = recs[i]
    assert isinstance(ev, AuditEvent)
    recs[i] = AuditEvent(ev.chain_id, {**ev.fields, "event_hash": "ab" * 32}, ev.origin)
    tip = [f for f in _gate(recs) if f.code.name == "MANIFEST_CHAIN_TIP_MISMATCH"]
    assert _finding_dicts(tip) == [
        {
            "code": "MANIFEST_CHAIN_TIP_MISMATCH",
            "where": "chain:crypto@3",
            "message": "the event at the manifest's tip position has another event_hash",
            "expected": GATE_MANIFEST["chains"]["crypto"]["tip"],
            "actual": "ab" * 32,
            "extra": {"chain_id": "crypto"},
        }
    ]


def test_gate_finds_no_event_at_the_manifests_tip_when_the_base_is_full_of_others() -> None:
    recs = sample_records()
    last = next(r for r in recs if getattr(r, "fields", {}).get("seq") == 3)
    assert isinstance(last, AuditEvent)
    twin = AuditEvent("crypto", {**last.fields, "seq": 2}, "twin")
    recs = [r for r in recs if r is not last] + [twin]
    tip = [f for f in _gate(recs) if f.code.name == "MANIFEST_CHAIN_TIP_MISMATCH"]
    assert [(f.where, f.actual) for f in tip] == [("chain:crypto@3", None)]


def test_gate_judges_the_first_appended_event_whatever_the_feed_order() -> None:
    tip = GATE_MANIFEST["chains"]["crypto"]["tip"]
    b = boundary_event("crypto", 4, tip, manifest_digest(GATE_MANIFEST))
    after = audit_events("crypto", 2, start=5, prev=b.fields["event_hash"])
    assert _codes(_gate([*after, b, *sample_records()])) == [
        ("MANIFEST_CHAIN_BRIDGED", "chain:crypto@4")
    ]


def test_gate_checks_tips_and_bridges_of_chains_of_one_event_but_not_of_none() -> None:
    one = audit_events("one", 1)
    records = [*sample_records(), *one]
    chains = {
        "one": ChainTip(1, one[0].fields["event_hash"], "sha256"),
        "none": ChainTip(0, "ab" * 32, "sha256"),
    }
    m, leaves = _manifest_with(records, chains)
    assert _codes(_gate(records, manifest=m, leaves=leaves)) == []
    bridged = _gate(records, manifest=m, leaves=leaves, require_bridge=True)
    unbridged = sorted(f.where for f in bridged if f.code.name == "MANIFEST_CHAIN_UNBRIDGED")
    assert unbridged == sorted(
        [
            "chain:one@1",
            "chain:crypto@4",
            "chain:dialogue:d-1/events@3",
            "chain:dialogue:d%2F2/events@3",
        ]
    )
    wrong = AuditEvent("one", {**one[0].fields, "event_hash": "cd" * 32}, "x")
    got = _gate([*sample_records(), wrong], manifest=m, leaves=leaves)
    assert ("MANIFEST_CHAIN_TIP_MISMATCH", "chain:one@0") in _codes(got)


# --- migration/manifest.py: building, reading and the shape check (MAN-3) ----------------

_SAFE = 2**53 - 1


def _shape_error(m: dict[str, Any]) -> str:
    with pytest.raises(InputError) as info:
        check_shape(m)
    assert info.value.where == "manifest"
    return info.value.message


def _with(path: tuple[str, ...], value: Any) -> dict[str, Any]:
    m = json.loads(json.dumps(GATE_MANIFEST))
    node = m
    for p in path[:-1]:
        node = node[p]
    node[path[-1]] = value
    return m


@pytest.mark.parametrize(
    ("value", "ok"),
    [(0, True), (1, True), (_SAFE, True), (_SAFE + 1, False), (-1, False), (True, False),
     (1.5, False), ("3", False), (None, False)],
)  # fmt: skip
def test_manifest_counts_are_integers_from_zero_to_the_safe_limit(value: Any, ok: bool) -> None:
    for path, what in (
        (("totals", "records"), "totals"),
        (("dialogues", "d-1", "entities"), "dialogue d-1"),
        (("chains", "crypto", "count"), "chain crypto"),
        (("merkle", "tree_size"), "merkle"),
    ):
        m = _with(path, value)
        if ok:
            check_shape(m)
        else:
            assert _shape_error(m) == f"malformed: {what}", path


@pytest.mark.parametrize(
    ("tip", "ok"),
    [(None, True), ("ab" * 32, True), ("ab" * 31 + "a", False), ("AB" * 32, False),
     ("X" * 64, False), ("ab" * 33, False), (7, False)],
)  # fmt: skip
def test_a_manifest_chain_tip_is_64_lowercase_hex_or_null(tip: Any, ok: bool) -> None:
    m = _with(("chains", "crypto", "tip"), tip)
    if ok:
        check_shape(m)
    else:
        assert _shape_error(m) == "malformed: chain crypto"


@pytest.mark.parametrize(
    "chain",
    [
        {"count": 1, "hash_alg": None},  # tip absent
        {"count": -1, "tip": None, "hash_alg": None},
        {"count": 1, "tip": None, "hash_alg": 5},
        {"count": 1, "tip": "zz", "hash_alg": "sha256"},
        [],
    ],
)
def test_a_manifest_chain_needs_every_member_well_typed(chain: Any) -> None:
    assert _shape_error(_with(("chains", "crypto"), chain)) == "malformed: chain crypto"
    check_shape(_with(("chains", "crypto"), {"count": 0, "tip": None, "hash_alg": None}))


def test_manifest_totals_and_dialogues_must_be_objects() -> None:
    assert _shape_error(_with(("totals",), [])) == "malformed: totals"
    assert _shape_error(_with(("dialogues", "d-1"), [])) == "malformed: dialogue d-1"


def test_a_manifest_without_an_rfc8785_form_is_malformed() -> None:
    message = _shape_error(_with(("source", "x"), float("nan")))
    assert message.startswith("malformed: no RFC 8785 form (")


def test_build_manifest_takes_the_callers_chain_tips_and_index_directory(tmp_path: Path) -> None:
    buf = io.BytesIO()
    m, dups = build_manifest(
        sample_records(),
        private_key=vector_key(SIGNER_LABEL),
        created_at="t",
        source={},
        leaves_out=buf,
        chains={"crypto": ChainTip(4, None, None)},
    )
    assert dups == [] and m["chains"]["crypto"] == {"count": 4, "tip": None, "hash_alg": None}
    assert buf.getvalue() == GATE_LEAVES
    with pytest.raises(LocalFaultError):
        build_manifest(
            sample_records(),
            private_key=vector_key(SIGNER_LABEL),
            created_at="t",
            source={},
            leaves_out=io.BytesIO(),
            index_dir=str(tmp_path / "gone"),
        )
    with pytest.raises(LocalFaultError):
        ManifestBuilder(str(tmp_path / "gone"))


def test_signing_a_signed_manifest_again_gives_the_same_manifest() -> None:
    assert sign_manifest(GATE_MANIFEST, vector_key(SIGNER_LABEL)) == GATE_MANIFEST
    other = sign_manifest(GATE_MANIFEST, vector_key(OTHER_LABEL))
    assert other["signer_key_id"] != GATE_MANIFEST["signer_key_id"]
    assert verify_manifest(other, [public_key_bytes(vector_key(OTHER_LABEL))]) == []


def test_the_manifest_digest_covers_every_member() -> None:
    d = manifest_digest(GATE_MANIFEST)
    assert d == hashlib.sha256(rfc8785.dumps(GATE_MANIFEST)).hexdigest()
    assert manifest_digest(_with(("created_at",), "u")) != d


def test_the_manifest_file_is_two_space_sorted_utf8_json_with_a_final_newline() -> None:
    assert dump_manifest({"b": 1, "a": {"é": [2]}}) == (
        '{\n  "a": {\n    "é": [\n      2\n    ]\n  },\n  "b": 1\n}\n'.encode()
    )


def test_manifest_and_leaves_errors_name_their_file() -> None:
    with pytest.raises(InputError) as info:
        load_manifest(b"[1]")
    assert (info.value.where, info.value.message) == ("manifest", "a manifest is a JSON object")
    with pytest.raises(LeavesError) as leaves:
        list(read_leaves([b"nope\n"]))
    assert (leaves.value.where, leaves.value.message) == ("leaves:1", "not a canonical leaves line")
    assert str(leaves.value) == "leaves:1: not a canonical leaves line"


def test_the_dialogue_of_a_key_is_its_first_component() -> None:
    assert key_dialogue("dialogue:d%2F2/entity:meta") == "d%2F2"
    assert key_dialogue("dek#d-1#1") == "d-1"
    assert key_dialogue("dek#d-1#1#x") == "d-1"
    assert key_dialogue("audit:crypto/1") is None


# --- envelope/seal.py: the payload rules (ENV-8) -------------------------------------


@pytest.mark.parametrize("depth", [1010])
@pytest.mark.parametrize("open_, close", [(b'{"a":', b"}"), (b"[", b"]")])
def test_a_payload_nested_deeper_than_the_standard_parser_goes_is_refused(
    depth: int, open_: bytes, close: bytes
) -> None:
    """orjson parses up to 1024 levels; the fast path must not answer for such a
    payload, whose objects or arrays the standard parser refuses (ENV-8)."""
    payload = b'{"x":' + open_ * depth + b"1" + close * depth + b"}"
    with pytest.raises(PayloadError, match=r"^nested too deeply$"):
        decode_payload(payload)


def test_names_from_u_e000_up_are_sorted_by_utf16_not_by_code_point() -> None:
    """RFC 8785 sorts names by UTF-16 code units: an astral name comes before U+E000."""
    by_code_point = '{"\ue000":1,"\U00010000":2}'.encode()
    by_utf16 = '{"\U00010000":2,"\ue000":1}'.encode()
    assert decode_payload(by_code_point) == ({"\ue000": 1, "\U00010000": 2}, False)
    assert decode_payload(by_utf16)[1] is True


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        (b"[1]", "a JSON array, not an object"),
        (b'"s"', "a JSON string, not an object"),
        (b"true", "a JSON boolean, not an object"),
        (b"null", "a JSON null, not an object"),
        (b"1.5", "a JSON number, not an object"),
        (b'\xef\xbb\xbf{"a":1}', "starts with a byte order mark"),
        (b'{"\\ud800":1}', "a string contains a lone surrogate"),
        (b'{"a":["\\udc00"]}', "a string contains a lone surrogate"),
        (b'{"a":{"b":"\\ud800x"}}', "a string contains a lone surrogate"),
        (b'{"a":1,"a":2}', "an object has a duplicate member name"),
        (b'{"a":{"b":1,"b":1}}', "an object has a duplicate member name"),
        (b'{"a":NaN}', "the non-JSON literal NaN is not allowed"),
        (b'{"a":-Infinity}', "the non-JSON literal -Infinity is not allowed"),
        (
            b'{"a":' + b"9" * 5000 + b"}",
            "not JSON (a number has more digits than this reader takes)",
        ),
        (b'{"a":' + b"[" * 3000 + b"]" * 3000 + b"}", "nested too deeply"),
    ],
)
def test_a_payload_that_is_no_json_object_is_refused_by_what_it_is(
    payload: bytes, message: str
) -> None:
    with pytest.raises(PayloadError) as info:
        decode_payload(payload)
    assert str(info.value) == message


def test_only_a_mapping_is_sealed_as_a_payload() -> None:
    with pytest.raises(TypeError) as info:
        encode_payload([1])  # type: ignore[arg-type]
    assert str(info.value) == "an envelope payload must be a JSON object (a mapping)"


def test_a_stored_aad_hash_stands_for_an_aad_only_as_64_lowercase_hex() -> None:
    assert aad_from_hash("ab" * 32) == bytes.fromhex("ab" * 32)
    for bad in ("X" * 64, "AB" * 32, "ab" * 31, "g" * 64):
        assert aad_from_hash(bad) is None, bad


def test_seal_random_keeps_the_key_id_and_draws_a_fresh_nonce() -> None:
    address = Address.of("d-1", EntityType.CLAIM, "01", "01")
    dek = bytes(range(32))
    a = seal_random(address, {"t": "x"}, dek, "dek#d-1#1")
    b = seal_random(address, {"t": "x"}, dek, "dek#d-1#1")
    assert a.key_id == b.key_id == "dek#d-1#1" and a.nonce != b.nonce
    assert open_envelope(address, a, dek) == {"t": "x"}


# --- records/address.py: what the parsers refuse, and how they say it (ADDR-1..4) --------


def _address_error(make: Any) -> str:
    with pytest.raises(AddressError) as info:
        make()
    return str(info.value)


def test_a_type_name_holding_a_hash_is_no_entity_type_even_when_the_sort_key_would_be() -> None:
    """``dialogue:D/entity:claim#01/01`` reads as ``pk``/``sk`` ``claim#01#01``, a valid
    sort key: the text form must still refuse it (its type is ``claim#01``)."""
    assert _address_error(lambda: Address.parse("dialogue:a/entity:claim#01/01")) == (
        "unknown entity type 'claim#01'"
    )
    assert Address.from_dynamodb("dialogue#a", "claim#01#01") == Address.parse(
        "dialogue:a/entity:claim/01#01"
    )


def test_the_full_parsers_name_an_unescaped_slash_where_it_is() -> None:
    assert _address_error(lambda: Address.parse("dialogue:a/b/entity:meta")) == (
        "dialogue id in 'dialogue:a/b/entity:meta' contains an unescaped '/'"
    )
    assert _address_error(lambda: Address.parse("dialogue:a/entity:claim/01#01/entity:meta")) == (
        "subkey '01#01/entity:meta' contains an unescaped '/'"
    )
    assert _address_error(lambda: Address.from_dynamodb("dialogue#a", "claim#0/1#01")) == (
        "subkey '0/1#01' contains an unescaped '/'"
    )


@pytest.mark.parametrize(("dialogue", "parts"), [(5, ("ada",)), ("a", (5,)), (None, ("ada",))])
def test_an_address_of_non_strings_is_an_address_error(dialogue: Any, parts: Any) -> None:
    assert _address_error(lambda: Address(dialogue, EntityType.EXPERT, parts)) == (
        "dialogue and subkey parts must be strings"
    )


@pytest.mark.parametrize(
    ("etype", "parts", "message"),
    [
        (EntityType.CLAIM, ("0/", "01"), "'0/' is not a two-digit number"),
        (EntityType.CLAIM, ("0#", "01"), "'0#' is not a two-digit number"),
        (
            EntityType.EVENT,
            ("claim", "x", "2026-01-01T00:00:00Z%"),
            "'2026-01-01T00:00:00Z%' is not an RFC 3339 UTC timestamp (YYYY-MM-DDThh:mm:ss[.f]Z)",
        ),
        (
            EntityType.EVENT,
            ("cl/aim", "x", "2026-01-01T00:00:00Z"),
            "'cl/aim' is not an entity type an event can describe",
        ),
    ],
)
def test_numbers_timestamps_and_types_are_checked_as_given_never_escaped(
    etype: EntityType, parts: tuple[str, ...], message: str
) -> None:
    assert _address_error(lambda: Address.of("a", etype, *parts)) == message


def test_an_event_time_that_reads_as_no_instant_counts_as_the_epoch() -> None:
    w = DialogueWriter("d-1")
    w.new_key(1)
    events = [dict(f, timestamp="2026-02-30T00:00:00.000Z") for f in w.events]
    items = _items(w, events)
    assert all(isinstance(chain_event_from_entity(x), AuditEvent) for x in items[1:])
    (commit,) = _planned(plan_erasure("dek#d-1#1", items, "1970-01-01T00:00:00.000Z"))
    assert commit["timestamp"] == "1970-01-01T00:00:00.001Z"


def test_of_two_events_at_the_bridging_position_the_gate_judges_the_first_fed() -> None:
    """A fork at the position after the manifest's tip is the chain verifier's to
    report; the gate judges the first of them it reads, and only a later
    *position* displaces it (here a chain the manifest records as empty)."""
    m, leaves = _manifest_with(sample_records(), {"none": ChainTip(0, None, None)})
    b = boundary_event("none", 0, "ab" * 32, manifest_digest(m))
    (plain,) = audit_events("none", 1)
    bridged = _gate([*sample_records(), b, plain], manifest=m, leaves=leaves)
    assert _codes(bridged) == [("MANIFEST_CHAIN_BRIDGED", "chain:none@0")]
    unbridged = _gate([*sample_records(), plain, b], manifest=m, leaves=leaves)
    assert _codes(unbridged) == [("MANIFEST_CHAIN_UNBRIDGED", "chain:none@0")]


#: Every finding of gate post, whole, as the report shows it (REP-2: where, message,
#: expected, actual, source, extra), per scenario of _gate_scenarios.
GATE_FINDINGS: dict[str, list[dict[str, Any]]] = {
    "bridged": [
        {
            "code": "MANIFEST_CHAIN_BRIDGED",
            "where": "chain:crypto@4",
            "message": "continues through a boundary event naming the manifest's tip (3 new event(s))",
            "expected": "count=4 tip=cedac14028e024f95bd615e2644883f74f9d42641c42c211cc6e217afd1129f2",
            "actual": "count=4 tip=cedac14028e024f95bd615e2644883f74f9d42641c42c211cc6e217afd1129f2",
            "source": "audit:crypto/01890a5d-ac96-7384-8000-000000000384",
            "extra": {
                "chain_id": "crypto",
                "appended": 3,
                "first_record": "audit:crypto/01890a5d-ac96-7384-8000-000000000384",
            },
        }
    ],
    "unbridged": [
        {
            "code": "MANIFEST_CHAIN_UNBRIDGED",
            "where": "chain:crypto@4",
            "message": "1 event(s) follow the manifest's tip without a boundary event first",
            "expected": "a migration_boundary event at seq 4",
            "actual": "an ordinary event",
            "source": "audit:crypto/01890a5d-ac96-7005-8000-000000000005",
            "extra": {
                "chain_id": "crypto",
                "appended": 1,
                "first_record": "audit:crypto/01890a5d-ac96-7005-8000-000000000005",
            },
        }
    ],
    "other state": [
        {
            "code": "MANIFEST_CHAIN_TIP_MISMATCH",
            "where": "chain:crypto@4",
            "message": "the boundary event bridges from another source state than the manifest's",
            "expected": "count=4 tip=cedac14028e024f95bd615e2644883f74f9d42641c42c211cc6e217afd1129f2",
            "actual": "count=4 tip=abababababababababababababababababababababababababababababababab",
            "source": "audit:crypto/01890a5d-ac96-7384-8000-000000000384",
            "extra": {
                "chain_id": "crypto",
                "appended": 1,
                "first_record": "audit:crypto/01890a5d-ac96-7384-8000-000000000384",
            },
        }
    ],
    "other manifest": [
        {
            "code": "MANIFEST_CHAIN_TIP_MISMATCH",
            "where": "chain:crypto@4",
            "message": "the boundary event names another manifest",
            "expected": "bfdd17fa396b0ed8db3b43fd0875b93c22e5a85b8fd6c63a50b88c496078ef39",
            "actual": "cdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcd",
            "source": "audit:crypto/01890a5d-ac96-7384-8000-000000000384",
            "extra": {
                "chain_id": "crypto",
                "appended": 1,
                "first_record": "audit:crypto/01890a5d-ac96-7384-8000-000000000384",
            },
        }
    ],
    "required": [
        {
            "code": "MANIFEST_CHAIN_UNBRIDGED",
            "where": "chain:crypto@4",
            "message": "the chain ends at the manifest's tip: no boundary event bridges it into this store",
            "expected": "a migration_boundary event at seq 4",
            "actual": "no event",
            "extra": {"chain_id": "crypto", "appended": 0},
        }
    ],
    "truncated": [
        {
            "code": "MANIFEST_RECORD_MISSING",
            "where": "audit:crypto/01890a5d-ac96-7004-8000-000000000004",
            "message": "listed in the manifest, absent from target",
            "expected": "958604e6dcd1fec8ab15d2f0d123a2cc76a7e7a617d1f2cc7c81c80d48d286da",
            "source": "manifest",
        },
        {
            "code": "MANIFEST_ROOT_MISMATCH",
            "where": "merkle",
            "message": "the target's records do not hash to the manifest's Merkle root",
            "expected": "20 leaves, root 10d51217c29216803e22804a7ba3cda7233d96c9d46bb3c5012b974096c57d04",
            "actual": "19 leaves, root bc71e4beeed62a298a2a2ea657925d38e3f1b328700ee4fcb255d64398b93397",
        },
        {
            "code": "MANIFEST_COUNT_MISMATCH",
            "where": "totals",
            "message": "record counts by kind differ from the manifest's",
            "expected": "entities=14 deks=2 audit_events=4",
            "actual": "entities=14 deks=2 audit_events=3",
        },
        {
            "code": "MANIFEST_COUNT_MISMATCH",
            "where": "chain:crypto",
            "message": "the chain has fewer events up to the manifest's tip than the manifest recorded",
            "expected": "4",
            "actual": "3",
            "extra": {"chain_id": "crypto"},
        },
    ],
    "changed": [
        {
            "code": "MANIFEST_RECORD_CHANGED",
            "where": "dialogue:d-1/entity:perspective/01#01",
            "message": "the record in target differs from the one the manifest lists",
            "expected": "adc60bc8402f75f42d17392044eca33e5b1a2cdc10b38bdcc1dbff7c1347fa8c",
            "actual": "63603b23501f9b9658eb544302964c277a9b4138bd2716ecf9c6f9e18fb83736",
            "source": "sample:dialogue:d-1/entity:perspective/01#01",
        },
        {
            "code": "MANIFEST_ROOT_MISMATCH",
            "where": "merkle",
            "message": "the target's records do not hash to the manifest's Merkle root",
            "expected": "20 leaves, root 10d51217c29216803e22804a7ba3cda7233d96c9d46bb3c5012b974096c57d04",
            "actual": "20 leaves, root cc77c0ea35fad88c935e07efc14eece4ceb47331e44344e6f0913302bfebb062",
        },
    ],
    "extra": [
        {
            "code": "MANIFEST_RECORD_EXTRA",
            "where": "dialogue:d-1/entity:expert/eve",
            "message": "present in target, not listed in the manifest",
            "actual": "471a3aac957d14459e7c9997909fe5ebe51f8b183919a5ae1a1192258b0e5e09",
            "source": "target",
        },
        {
            "code": "MANIFEST_ROOT_MISMATCH",
            "where": "merkle",
            "message": "the target's records do not hash to the manifest's Merkle root",
            "expected": "20 leaves, root 10d51217c29216803e22804a7ba3cda7233d96c9d46bb3c5012b974096c57d04",
            "actual": "21 leaves, root d003aa9b72caa56f2a811fe2ef5295217379ea022fcc54bc081620693b6278f0",
        },
        {
            "code": "MANIFEST_COUNT_MISMATCH",
            "where": "totals",
            "message": "record counts by kind differ from the manifest's",
            "expected": "entities=14 deks=2 audit_events=4",
            "actual": "entities=15 deks=2 audit_events=4",
        },
        {
            "code": "MANIFEST_COUNT_MISMATCH",
            "where": "dialogue:d-1",
            "message": "the dialogue's record counts differ from the manifest's",
            "expected": "entities=7 deks=1",
            "actual": "entities=8 deks=1",
        },
    ],
    "noleaves": [
        {
            "code": "MANIFEST_ROOT_MISMATCH",
            "where": "merkle",
            "message": "the target's records do not hash to the manifest's Merkle root",
            "expected": "20 leaves, root 10d51217c29216803e22804a7ba3cda7233d96c9d46bb3c5012b974096c57d04",
            "actual": "19 leaves, root 9cb82aec537f6befc62df93cb83d65435cd3d0b433933155122229b3c1f645c7",
        },
        {
            "code": "MANIFEST_LEAVES_ABSENT",
            "where": "leaves",
            "message": "pass the manifest's leaves file to name the differing records",
        },
        {
            "code": "MANIFEST_COUNT_MISMATCH",
            "where": "totals",
            "message": "record counts by kind differ from the manifest's",
            "expected": "entities=14 deks=2 audit_events=4",
            "actual": "entities=13 deks=2 audit_events=4",
        },
        {
            "code": "MANIFEST_COUNT_MISMATCH",
            "where": "dialogue:d-1",
            "message": "the dialogue's record counts differ from the manifest's",
            "expected": "entities=7 deks=1",
            "actual": "entities=6 deks=1",
        },
    ],
    "leaves dropped": [
        {
            "code": "MANIFEST_LEAVES_INVALID",
            "where": "leaves",
            "message": "the leaves file does not hash to the manifest's signed Merkle root; the record differences it would name are not reported",
            "expected": "20 leaves, root 10d51217c29216803e22804a7ba3cda7233d96c9d46bb3c5012b974096c57d04",
            "actual": "19 leaves, root edc2361ec3dcee01bdf79a3c92f7dcd64fe8c1e5b282ef59ecbb0425bbcb73b1",
            "extra": {"unreported": 2},
        },
        {
            "code": "MANIFEST_ROOT_MISMATCH",
            "where": "merkle",
            "message": "the target's records do not hash to the manifest's Merkle root",
            "expected": "20 leaves, root 10d51217c29216803e22804a7ba3cda7233d96c9d46bb3c5012b974096c57d04",
            "actual": "19 leaves, root 9cb82aec537f6befc62df93cb83d65435cd3d0b433933155122229b3c1f645c7",
        },
        {
            "code": "MANIFEST_COUNT_MISMATCH",
            "where": "totals",
            "message": "record counts by kind differ from the manifest's",
            "expected": "entities=14 deks=2 audit_events=4",
            "actual": "entities=13 deks=2 audit_events=4",
        },
        {
            "code": "MANIFEST_COUNT_MISMATCH",
            "where": "dialogue:d-1",
            "message": "the dialogue's record counts differ from the manifest's",
            "expected": "entities=7 deks=1",
            "actual": "entities=6 deks=1",
        },
    ],
    "leaves unsorted": [
        {
            "code": "MANIFEST_LEAVES_INVALID",
            "where": "leaves",
            "message": "leaves:2: key 'audit:crypto/01890a5d-ac96-7001-8000-000000000001' is not after the previous key; the record differences it would name are not reported",
            "extra": {"unreported": 1},
        }
    ],
}


def _gate_scenarios() -> dict[str, Any]:
    tip = GATE_MANIFEST["chains"]["crypto"]["tip"]
    ok = boundary_event("crypto", 4, tip, manifest_digest(GATE_MANIFEST))
    after = audit_events("crypto", 2, start=5, prev=ok.fields["event_hash"])
    more = audit_events("crypto", 1, start=4, prev=tip)
    changed = sample_records()
    r = changed[2]
    assert isinstance(r, EntityRecord)
    changed[2] = dataclasses.replace(r, attributes={**r.attributes, "x": {"S": "1"}})
    template = sample_records()[1]
    eve = dataclasses.replace(
        template, address=Address.parse("dialogue:d-1/entity:expert/eve"), origin=""
    )
    lines = GATE_LEAVES.splitlines(keepends=True)
    return {
        "bridged": lambda: _gate([*sample_records(), ok, *after]),
        "unbridged": lambda: _gate([*sample_records(), *more]),
        "other state": lambda: _gate(
            [*sample_records(), boundary_event("crypto", 4, "ab" * 32, None)]
        ),
        "other manifest": lambda: _gate(
            [*sample_records(), boundary_event("crypto", 4, tip, "cd" * 32)]
        ),
        "required": lambda: [
            f for f in _gate(sample_records(), require_bridge=True) if "crypto" in f.where
        ],
        "truncated": lambda: _gate(
            [r for r in sample_records() if getattr(r, "fields", {}).get("seq") != 3]
        ),
        "changed": lambda: _gate(changed),
        "extra": lambda: _gate([*sample_records(), eve]),
        "noleaves": lambda: _gate(sample_records()[1:], leaves=None),
        "leaves dropped": lambda: _gate(sample_records()[1:], leaves=lines[1:]),
        "leaves unsorted": lambda: _gate(sample_records(), leaves=[lines[1], lines[0]]),
    }


@pytest.mark.parametrize("scenario", sorted(GATE_FINDINGS))
def test_every_gate_finding_says_where_what_and_from_what(scenario: str) -> None:
    got = []
    for f in _gate_scenarios()[scenario]():
        d = f.to_json()
        assert (d.pop("severity"), d.pop("spec")) == (f.code.severity.value, f.code.spec)
        got.append(d)
    assert got == GATE_FINDINGS[scenario]


def _finding_dicts(findings: Any) -> list[dict[str, Any]]:
    out = []
    for f in findings:
        d = f.to_json()
        del d["severity"], d["spec"]
        out.append(d)
    return out


def test_every_manifest_trust_finding_says_what_was_expected_and_found() -> None:
    kid = GATE_MANIFEST["signer_key_id"]
    unsupported = "not a manifest type/version this verifier implements"
    cases: list[tuple[dict[str, Any], list[bytes], dict[str, Any]]] = [
        (
            _with(("type",), "x"),
            GATE_PINNED,
            {"code": "MANIFEST_VERSION_UNSUPPORTED", "message": unsupported,
             "expected": "chainaudit/manifest v1", "actual": "x v1"},
        ),
        (
            _with(("version",), 2),
            GATE_PINNED,
            {"code": "MANIFEST_VERSION_UNSUPPORTED", "message": unsupported,
             "expected": "chainaudit/manifest v1", "actual": "chainaudit/manifest v2"},
        ),
        (
            _with(("algorithms", "merkle"), "md5"),
            GATE_PINNED,
            {"code": "MANIFEST_VERSION_UNSUPPORTED", "message": "unknown digest or Merkle algorithm",
             "expected": '{"merkle": "blake3-rfc9162-v1", "record_digest": "blake3-record-v1"}',
             "actual": '{"merkle": "md5", "record_digest": "blake3-record-v1"}'},
        ),
        (
            GATE_MANIFEST,
            [public_key_bytes(vector_key(OTHER_LABEL))],
            {"code": "MANIFEST_SIGNER_UNTRUSTED", "message": "the signer's key is not pinned",
             "actual": kid},
        ),
        (
            _with(("created_at",), "u"),
            GATE_PINNED,
            {"code": "MANIFEST_SIGNATURE_INVALID",
             "message": "the signature does not verify under the pinned key", "actual": kid},
        ),
    ]  # fmt: skip
    for manifest, pinned, want in cases:
        assert _finding_dicts(verify_manifest(manifest, pinned)) == [{"where": "manifest", **want}]


@pytest.mark.parametrize(
    ("path", "value", "message"),
    [
        (("created_at",), 1, "created_at must be a string"),
        (("source",), [], "source must be an object"),
        (("dialogues",), [], "dialogues must be an object"),
        (("chains",), [], "chains must be an object"),
        (("signer_key_id",), "ab", "signer_key_id must be 64 hex digits"),
        (("signature",), "ab" * 32, "signature must be 128 hex digits"),
        (("merkle", "root"), "ab", "merkle"),
    ],
)
def test_the_shape_check_names_the_malformed_member(
    path: tuple[str, ...], value: Any, message: str
) -> None:
    assert _shape_error(_with(path, value)) == f"malformed: {message}"


def test_a_repeated_record_key_is_reported_with_its_digest_and_origin() -> None:
    r = sample_records()
    second = dataclasses.replace(r[1], origin="")  # type: ignore[type-var]
    with ManifestBuilder() as b:
        b.add_all([*r, r[0], second])
        found = _finding_dicts(b.duplicate_findings())
    message = "a second record with this record key; the first one read is in the manifest"
    assert found == [
        {"code": "RECORD_KEY_DUPLICATE", "where": "dialogue:d-1/entity:expert/ada",
         "message": message, "actual": keyed_digest(second)[1].hex()},
        {"code": "RECORD_KEY_DUPLICATE", "where": "dialogue:d-1/entity:meta",
         "message": message, "actual": keyed_digest(r[0])[1].hex(),
         "source": "sample:dialogue:d-1/entity:meta"},
    ]  # fmt: skip


def test_a_manifest_that_is_no_json_says_where_it_stopped() -> None:
    with pytest.raises(InputError) as info:
        load_manifest(b"{")
    assert info.value.where == "manifest"
    assert info.value.message == (
        "not JSON: Expecting property name enclosed in double quotes: line 1 column 2"
    )


def test_subkey_parts_are_split_at_hash_only_never_at_spaces() -> None:
    """``ref#a b c`` is one part where ``ref`` takes three: refused by both paths."""
    assert _address_error(lambda: Address.from_dynamodb("dialogue#a", "ref#a b c")) == (
        "entity type 'ref' takes 3 subkey part(s), got 1"
    )
    assert _address_error(lambda: Address.parse("dialogue:a/entity:ref/a b c")) == (
        "entity type 'ref' takes 3 subkey part(s), got 1"
    )
    assert Address.parse("dialogue:a/entity:expert/a b").parts == ("a b",)


def test_empty_components_and_subkeys_are_named() -> None:
    assert _address_error(lambda: Address.of("a", EntityType.EXPERT, "")) == "empty component"
    assert _address_error(lambda: Address.from_sql("a", "expert", "")) == "empty subkey"
    assert _address_error(lambda: Address.from_sql("a", "meta", "x")) == (
        "meta row must have an empty subkey"
    )


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        (b'{"a":"\xff"}', "not valid UTF-8 (at byte 6)"),
        (b'{"a":}', "not JSON (Expecting value at character 5)"),
        # parsed (600 levels), but too deep for the walk that looks for lone surrogates
        (b'{"a":' + b"[" * 600 + b'"\\u0041"' + b"]" * 600 + b"}", "nested too deeply"),
    ],
)
def test_a_payload_refusal_says_where_or_why(payload: bytes, message: str) -> None:
    with pytest.raises(PayloadError) as info:
        decode_payload(payload)
    assert str(info.value) == message


def test_an_unbridged_chain_names_the_kind_of_event_that_follows_the_tip() -> None:
    tip = GATE_MANIFEST["chains"]["crypto"]["tip"]
    (more,) = audit_events("crypto", 1, start=4, prev=tip)
    odd = AuditEvent("crypto", {**more.fields, "event_kind": "key_rotation"}, more.origin)
    (f,) = _gate([*sample_records(), odd])
    assert (f.code.name, f.actual) == ("MANIFEST_CHAIN_UNBRIDGED", "key_rotation")
