"""The audit pipeline (chainaudit.audit) over the sample dataset, in memory."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

import pytest

from chainaudit.audit import AuditOptions, audit
from chainaudit.findings import Result
from chainaudit.keys.signing import TrustStore, public_bytes
from chainaudit.records.address import EntityType
from chainaudit.records.model import AuditEvent, EntityRecord, Record, WrappedDek
from chainaudit.report.render import exit_code_for
from chainaudit.sample import Sample, build_sample
from chainaudit.sources import SourceItem


class Memory:
    """A re-readable in-memory source, counting its reads."""

    def __init__(self, items: list[Record]) -> None:
        self.items = items
        self.reads = 0

    def describe(self) -> str:
        return "memory"

    def read(self) -> Iterator[SourceItem]:
        self.reads += 1
        return iter(self.items)


@pytest.fixture(scope="module")
def sample() -> Sample:
    return build_sample()


def run(sample: Sample, records: list[Record], keyed: bool = True, workers: int = 1) -> Result:
    assert sample.signer is not None and sample.erasure_signer is not None
    options = AuditOptions(
        umk=sample.umk if keyed else None,
        # the migration signer and the erasure authority (COMMIT-7)
        trust=TrustStore.of([public_bytes(sample.signer), public_bytes(sample.erasure_signer)]),
        workers=workers,
    )
    return audit(Memory(records), options)


def test_sample_is_sound_with_and_without_keys(sample: Sample) -> None:
    for keyed in (False, True):
        result = run(sample, sample.records, keyed)
        assert exit_code_for(result) == 0, [str(f) for f in result.errors + result.unverified]
        assert result.checked["records"] == len(sample.records)
        assert result.checked["dialogues"] == 5
        assert result.checked["chains"] == 6  # the audit log and five lifecycle chains
    keyed_result = run(sample, sample.records)
    assert keyed_result.checked["decrypted"] > 100
    assert set(keyed_result.codes()) == {"KEY_SHREDDED"}  # the erased dialogue, as notices


def test_the_source_is_read_once_with_or_without_keys(sample: Sample) -> None:
    """CLI-5: one read, keys or not (tests/test_one_pass.py: grouped and spooled)."""
    for umk in (None, sample.umk):
        src = Memory(sample.records)
        audit(src, AuditOptions(umk=umk))
        assert src.reads == 1


def test_parallel_chain_verification_equals_serial(sample: Sample) -> None:
    records = list(sample.records)
    i = next(i for i, r in enumerate(records) if isinstance(r, AuditEvent) and r.fields["seq"] == 7)
    ev = records[i]
    assert isinstance(ev, AuditEvent)
    records[i] = replace(ev, fields={**ev.fields, "principal": "mallory"})
    serial = run(sample, records, keyed=False)
    parallel = run(sample, records, keyed=False, workers=2)
    assert serial.codes() == parallel.codes() == ["EVENT_HASH_MISMATCH"]
    assert [f.where for f in serial] == [f.where for f in parallel]


def test_one_flipped_ciphertext_bit_is_named_by_address(sample: Sample) -> None:
    records = list(sample.records)
    i = next(
        i
        for i, r in enumerate(records)
        if isinstance(r, EntityRecord)
        and r.envelope is not None
        and r.address.dialogue == "dlg-2026-001"
    )
    rec = records[i]
    assert isinstance(rec, EntityRecord) and rec.envelope is not None
    ct = bytearray(rec.envelope.ciphertext)
    ct[0] ^= 1
    records[i] = replace(rec, envelope=replace(rec.envelope, ciphertext=bytes(ct)))
    # Keyless, GCM cannot see it; the record's commitment (COMMIT-6) does.
    keyless = run(sample, records, keyed=False)
    assert [(f.code.name, f.where) for f in keyless.errors] == [
        ("COMMIT_MISMATCH", str(rec.address))
    ]
    keyed = run(sample, records)
    assert [(f.code.name, f.where) for f in keyed.errors] == [
        ("AUTHENTICATION_FAILED", str(rec.address)),
        ("COMMIT_MISMATCH", str(rec.address)),
    ]
    assert exit_code_for(keyed) == 1


def test_per_dialogue_export_does_not_claim_key_history_gaps(sample: Sample) -> None:
    one = [
        r
        for r in sample.records
        if (isinstance(r, EntityRecord) and r.address.dialogue == "dlg-2026-001")
        or (isinstance(r, WrappedDek) and r.dialogue == "dlg-2026-001")
    ]
    result = run(sample, one)
    assert exit_code_for(result) == 0
    assert result.codes() == ["KEY_HISTORY_UNCHECKED"]


def test_key_used_but_never_logged_is_found(sample: Sample) -> None:
    records = [
        r
        for r in sample.records
        if not (isinstance(r, AuditEvent) and r.fields.get("key_id") == "dek#dlg-2026-001#1")
    ]
    result = run(sample, records, keyed=False)
    assert "KEY_NOT_IN_AUDIT_LOG" in result.codes()


def test_nothing_to_check_is_never_a_pass(sample: Sample) -> None:
    result = run(sample, [])
    assert result.codes() == ["NOTHING_CHECKED"]
    assert exit_code_for(result) == 3


def test_lifecycle_events_in_scan_order_still_verify(sample: Sample) -> None:
    """Stores return a dialogue's events in sort-key order, not chain order."""
    events = [
        r
        for r in sample.records
        if isinstance(r, EntityRecord) and r.address.entity_type is EntityType.EVENT
    ]
    others = [r for r in sample.records if r not in events]
    shuffled = others + sorted(events, key=lambda r: str(r.address), reverse=True)  # type: ignore[union-attr]
    assert exit_code_for(run(sample, shuffled, keyed=False)) == 0
