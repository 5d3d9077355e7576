"""Record commitments and erasure receipts (docs/commitments.md): the vectors cover
every code, the registry matches the spec, and every single mutation of a
committed dataset is found at the record it touched (hypothesis)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chainaudit.chain.events import chain_event_from_entity, lifecycle_record, seal, shape_problem
from chainaudit.commitments.events import commit_fields, item_digest, receipt_message
from chainaudit.commitments.verify import COUNTERS, verify_commitments
from chainaudit.conformance.vectorgen import commitment as gen
from chainaudit.conformance.vectorgen.commitment_build import DialogueWriter, signer
from chainaudit.findings import Severity, codes, registry
from chainaudit.keys.signing import TrustStore, public_bytes
from chainaudit.records.address import Address, EntityType
from chainaudit.records.digest import record_key
from chainaudit.records.model import AuditEvent, EntityRecord, Record, WrappedDek

ROOT = Path(__file__).resolve().parent.parent
VECTORS = ROOT / "vectors" / "commitment"
TRUST = TrustStore.of(
    public_bytes(signer(label)) for label in ("checkpoint-signer", "erasure-authority")
)


def commit_codes() -> dict[str, Any]:
    return {n: c for n, c in registry().items() if c.spec.startswith("COMMIT-")}


def test_every_commit_code_is_produced_by_a_vector() -> None:
    seen: set[str] = set()
    for path in sorted(VECTORS.rglob("*.json")):
        doc = json.loads(path.read_text(encoding="utf-8"))
        seen.update(f["code"] for f in doc["expect"]["findings"])
    assert set(commit_codes()) == seen


def test_the_findings_table_of_the_spec_is_the_registry() -> None:
    doc = (ROOT / "docs" / "commitments.md").read_text(encoding="utf-8")
    table = doc.split("## COMMIT-10", 1)[1].split("\n## ", 1)[0]
    rows = dict(re.findall(r"^\| `([A-Z_]+)` \| (\w+) \|", table, re.M))
    assert {n: c.severity.value for n, c in commit_codes().items()} == rows


def test_every_vector_passes_and_the_generator_reproduces_them() -> None:
    from chainaudit.conformance.vectorgen.commitment_build import check_case

    files = sorted(VECTORS.rglob("*.json"))
    assert len(files) == len(gen.cases()) >= 30
    for case in gen.cases():
        doc = gen.render(case)
        path = VECTORS / case.group / f"{case.name}.json"
        assert json.loads(path.read_text(encoding="utf-8")) == doc, case.name
        assert check_case(doc) == [], case.name


def test_unsigned_and_unpinned_receipts_are_unverified_never_notices() -> None:
    c = commit_codes()
    assert c["ERASURE_UNSIGNED"].severity is Severity.UNVERIFIED
    assert c["ERASURE_SIGNER_UNTRUSTED"].severity is Severity.UNVERIFIED
    others = set(c) - {"ERASURE_UNSIGNED", "ERASURE_SIGNER_UNTRUSTED"}
    assert all(c[n].severity is Severity.ERROR for n in others)
    assert "Not tampering" not in codes.KEY_SHREDDED.advice


# --- the event shapes (COMMIT-2, COMMIT-7) --------------------------------------------


def _commit_item(**changes: Any) -> EntityRecord:
    w = DialogueWriter("d-1")
    w.new_key(1)
    fields = dict(w.events[-1], **changes)
    return lifecycle_record("d-1", seal(fields))


def test_a_commitment_event_carries_its_three_fields() -> None:
    ev = chain_event_from_entity(_commit_item())
    assert isinstance(ev, AuditEvent)
    assert {"record_key", "record_op", "record_digest"} <= set(ev.fields)
    assert shape_problem(ev.chain_id, ev.fields) is None


def test_a_commitment_without_its_digest_attribute_is_malformed_at_the_adapter() -> None:
    rec = _commit_item()
    attrs = dict(rec.attributes)
    del attrs["record_digest"]
    got = chain_event_from_entity(EntityRecord(rec.address, attrs, None))
    assert not isinstance(got, AuditEvent)
    assert got.code is codes.CHAIN_EVENT_MALFORMED


def test_commitment_domains() -> None:
    for change, ok in (
        ({"record_op": "delete"}, True),
        ({"record_op": "update"}, False),
        ({"record_digest": "AB" * 32}, False),
        ({"record_key": "dialogue:d-2/entity:meta"}, False),
        ({"record_key": "dialogue:d-1/entity:event/meta#x#2026-01-01T00:00:00Z"}, False),
        ({"record_key": "dek#d-1#7"}, True),
        ({"record_key": "dek#d-2#1"}, False),
    ):
        ev = chain_event_from_entity(_commit_item(**change))
        assert isinstance(ev, AuditEvent)
        assert (shape_problem(ev.chain_id, ev.fields) is None) is ok, change


def test_a_receipt_signature_binds_its_chain() -> None:
    w = DialogueWriter("d-1")
    w.new_key(1)
    w.shred(1)
    receipt = next(e for e in w.events if e["event_type"] == "erasure_receipt")
    assert receipt_message(w.chain_id, receipt) != receipt_message("dialogue:d-2/events", receipt)


# --- properties: every single mutation is found where it happened ---------------------


def _dataset() -> tuple[DialogueWriter, dict[str, Record]]:
    b = gen.base()
    return b.w, b.old


def _run(w: DialogueWriter, records: list[Record]) -> list[tuple[str, str]]:
    events = [lifecycle_record(w.dialogue, f) for f in w.events]
    result = verify_commitments([*records, *events], TRUST)
    return [(f.code.name, f.where) for f in result.findings]


KEYS = sorted(_dataset()[0].records)


@settings(max_examples=60)
@given(
    st.sampled_from(KEYS),
    st.sampled_from(["edit", "add", "drop", "rollback", "plant"]),
    st.text(min_size=1, max_size=8),
)
def test_every_single_mutation_is_found_at_its_record(key: str, how: str, text: str) -> None:
    w, old = _dataset()
    records = dict(w.records)
    r = records[key]
    expect: tuple[str, str]
    if how == "drop":
        del records[key]
        expect = ("COMMIT_RECORD_MISSING", key)
    elif how == "rollback" and key in old:
        records[key] = old[key]
        expect = ("COMMIT_ROLLBACK", key)
    elif (
        how == "plant" and isinstance(r, EntityRecord) and r.address.entity_type is EntityType.CLAIM
    ):
        planted = Address.of(w.dialogue, EntityType.CLAIM, "09", "09")
        records[str(planted)] = EntityRecord(planted, r.attributes, r.envelope)
        expect = ("COMMIT_MISSING", str(planted))
    elif isinstance(r, EntityRecord):
        attrs = dict(r.attributes)
        if how == "add" or "status" not in attrs:
            attrs["x_" + str(len(text))] = {"S": text}
        else:
            attrs["status"] = {"S": attrs["status"]["S"] + text}
        records[key] = EntityRecord(r.address, attrs, r.envelope)
        expect = ("COMMIT_MISMATCH", key)
    else:
        assert isinstance(r, WrappedDek)
        records[key] = WrappedDek(**{**_fields(r), "owner": r.owner + text})
        expect = ("COMMIT_MISMATCH", key)
    assert _run(w, list(records.values())) == [expect]


def _fields(r: WrappedDek) -> dict[str, Any]:
    return {name: getattr(r, name) for name in WrappedDek.__slots__}  # type: ignore[attr-defined]


def test_an_untouched_committed_dataset_has_no_finding() -> None:
    w, _ = _dataset()
    assert _run(w, list(w.records.values())) == []


@settings(max_examples=30)
@given(st.sampled_from(KEYS), st.sampled_from(["sha256", "blake3"]))
def test_one_digest_function_for_writer_and_verifier(key: str, alg: str) -> None:
    w, _ = _dataset()
    r = w.records[key]
    fields = commit_fields(r, alg=alg, timestamp="2026-01-01T00:00:00.000Z", principal="p")
    assert fields["record_key"] == record_key(r) == key
    assert fields["record_digest"] == item_digest(r, alg)


def test_counters_are_always_set() -> None:
    result = verify_commitments([])
    assert set(COUNTERS) <= set(result.checked)
    assert all(result.checked[n] == 0 for n in COUNTERS)


# --- the erasure writer (COMMIT-9) -----------------------------------------------------


def _erase(records: list[Record], key: str, **kw: Any) -> tuple[list[Record], Any]:
    from chainaudit.commitments.erasure import plan_erasure

    plan = plan_erasure(key, records, "2026-11-01T10:00:00.000Z", **kw)
    out = [plan.destroyed if isinstance(r, WrappedDek) and r.key_id == key else r for r in records]
    return [*out, *plan.before, *plan.after], plan  # type: ignore[list-item]


def _sample_trust() -> tuple[list[Record], TrustStore]:
    from chainaudit.sample import build_sample

    s = build_sample()
    assert s.signer is not None and s.erasure_signer is not None
    keys = [public_bytes(k) for k in (s.signer, s.erasure_signer, signer("erasure-authority"))]
    return list(s.records), TrustStore.of(keys)


def test_the_erasure_writer_signs_and_commits_and_the_verifier_agrees() -> None:
    records, trust = _sample_trust()
    after, plan = _erase(records, "dek#dlg-2026-001#1", erasure_key=signer("erasure-authority"))
    assert plan.receipt_written and plan.destroyed is not None and len(plan.after) == 1
    result = verify_commitments(after, trust)
    assert result.findings == [] and result.checked["erasures_signed"] == 2
    _, plan2 = _erase(after, "dek#dlg-2026-001#1", erasure_key=signer("erasure-authority"))
    assert (plan2.before, plan2.destroyed, plan2.after) == ([], None, [])  # idempotent


def test_the_erasure_writer_commits_a_legacy_dialogue_first() -> None:
    records, trust = _sample_trust()
    legacy = [
        r
        for r in records
        if not (
            isinstance(r, EntityRecord)
            and r.address.dialogue == "dlg-2026-001"
            and r.attributes.get("event_type") == {"S": "record_commit"}
        )
    ]
    after, plan = _erase(legacy, "dek#dlg-2026-001#1", erasure_key=signer("erasure-authority"))
    assert plan.committed_before == 32  # 31 entities and the key itself
    result = verify_commitments(after, trust)
    assert result.findings == [] and result.checked["records_uncommitted"] == 0


def test_the_erasure_writer_refuses_to_certify_a_tampered_record() -> None:
    import pytest

    from chainaudit.commitments.erasure import ErasureRefused

    records, _ = _sample_trust()
    target = "dialogue:dlg-2026-001/entity:verdict/final"
    i = next(
        i for i, r in enumerate(records) if isinstance(r, EntityRecord) and str(r.address) == target
    )
    r = records[i]
    assert isinstance(r, EntityRecord)
    records[i] = EntityRecord(r.address, {**r.attributes, "status": {"S": "draft"}}, r.envelope)
    with pytest.raises(ErasureRefused, match="verdict/final does not match its latest commitment"):
        _erase(records, "dek#dlg-2026-001#1", erasure_key=signer("erasure-authority"))


def test_an_unsigned_erasure_is_reported_unverified() -> None:
    records, trust = _sample_trust()
    after, plan = _erase(records, "dek#dlg-2026-001#1")
    assert not plan.receipt_written and len(plan.after) == 1
    result = verify_commitments(after, trust)
    assert [(f.code.name, f.where) for f in result.findings] == [
        ("ERASURE_UNSIGNED", "dek#dlg-2026-001#1")
    ]


def test_an_unusable_temporary_directory_is_a_local_fault(tmp_path: Path) -> None:
    """The commitment spool, like the chain spool, names a temporary directory it
    cannot use (CLI-4: one line, exit 3), never a SQLite or OS traceback."""
    from chainaudit.commitments.verify import CommitmentVerifier
    from chainaudit.errors import LocalFaultError

    missing = tmp_path / "gone"
    with pytest.raises(LocalFaultError, match="gone: cannot write the temporary commitment spool"):
        CommitmentVerifier(directory=str(missing))


def _committable(n: int, dialogue: str = "d-1") -> list[EntityRecord]:
    return [
        EntityRecord(Address.of(dialogue, "claim", f"{i // 10:02d}", f"{i % 10:02d}"), {"n": {"N": str(i)}}, None)
        for i in range(n)
    ]


def test_a_groups_lazy_digests_are_bounded_and_materialize_to_the_eager_row(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """At most LAZY_MAX records of each group keep their record for digests
    computed later (memory stays bounded by a dialogue's size); the rest,
    and every row of lazy=False, carry the digests at once, and a lazy row
    materializes to exactly the eager one."""
    import chainaudit.commitments.verify as cv

    monkeypatch.setattr(cv, "LAZY_MAX", 3)
    with cv.CommitmentVerifier(grouped=True) as lazy, cv.CommitmentVerifier(
        grouped=True, lazy=False
    ) as eager:
        for group in (_committable(5), _committable(4, "d-2")):
            for r in group:
                lazy.add(r)
                eager.add(r)
            held = [isinstance(row[3], cv._Digests) for row in lazy._group_recs]
            assert held == [True, True, True] + [False] * (len(group) - 3)
            assert not any(isinstance(row[3], cv._Digests) for row in eager._group_recs)
            assert [cv.materialized(row) for row in lazy._group_recs] == eager._group_recs
            assert [cv.materialized(row) for row in eager._group_recs] == eager._group_recs
            lazy.end_group()
            eager.end_group()
