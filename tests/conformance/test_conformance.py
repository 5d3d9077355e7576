"""The store conformance suite: written once, run against every store (STORE-9).

What one store passes, all must pass: write then read back identical,
idempotent re-import, conflicts reported and never overwritten, duplicate
keys within a batch, interruption at several points then resumption,
streaming across many pages, and every record kind. The comparison is on
the exact typed items (bytes included), never on a summary.
"""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Iterable, Iterator

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chainaudit.findings import Finding, codes
from chainaudit.records.item import item_from_record
from chainaudit.records.model import (
    AuditEvent,
    EntityRecord,
    Envelope,
    KeyState,
    Record,
    WrappedDek,
)
from chainaudit.sources.migration import export_encrypted_batch, import_encrypted_batch, item_digest
from conformance.conftest import MakeStore
from conformance.records import dialogue_records, many_records, sample_records
from conformance.stores import StoreUnderTest


def snapshot(records: Iterable[Record | Finding]) -> list[str]:
    """The records as a sorted list of exact item fingerprints; fails on a finding."""
    out = []
    for rec in records:
        assert not isinstance(rec, Finding), f"store yielded a finding: {rec}"
        out.append(item_digest(item_from_record(rec)))
    return sorted(out)


def read_all(store: StoreUnderTest) -> list[Record]:
    out: list[Record] = []
    for rec in store.read():
        assert not isinstance(rec, Finding), f"{store.describe()} yielded a finding: {rec}"
        out.append(rec)
    return out


class Crash(Exception):
    """Simulates the importing process dying."""


def crash_after(records: Iterable[Record], k: int) -> Iterator[Record]:
    yield from itertools.islice(records, k)
    raise Crash(f"crashed after {k} records")


def test_write_then_read_back_identical(make_store: MakeStore) -> None:
    store = make_store()
    records = sample_records()
    report = import_encrypted_batch(store, records)
    assert (report.written, report.unchanged, report.conflicts) == (len(records), 0, [])
    back = read_all(store)
    assert snapshot(back) == snapshot(records)

    # Record-level equality too (origin aside): bytes, versions, states, fields.
    def key(r: Record) -> str:
        return item_digest(item_from_record(r))

    got = sorted((dataclasses.replace(r, origin="") for r in back), key=key)
    assert got == sorted(records, key=key)


def test_every_record_kind_survives(make_store: MakeStore) -> None:
    store = make_store()
    import_encrypted_batch(store, sample_records())
    back = read_all(store)
    entities = [r for r in back if isinstance(r, EntityRecord)]
    deks = [r for r in back if isinstance(r, WrappedDek)]
    events = [r for r in back if isinstance(r, AuditEvent)]
    refs = [r for r in entities if r.address.entity_type == "ref"]
    assert refs and all(r.envelope is None for r in refs)
    assert all(isinstance(r.envelope, Envelope) for r in entities if r not in refs)
    destroyed = [d for d in deks if d.state is KeyState.DESTROYED]
    assert destroyed and all(d.wrapped_key is None and d.destroyed_at for d in destroyed)
    assert {d.state for d in deks} == set(KeyState)
    assert len(events) == 5 and all(e.chain_id == "crypto-log" for e in events)
    assert any(e.fields.get("trace_id", 0) is None for e in events)


def test_reimport_changes_nothing(make_store: MakeStore) -> None:
    store = make_store()
    records = sample_records()
    import_encrypted_batch(store, records)
    before = snapshot(read_all(store))
    again = import_encrypted_batch(store, records)
    assert (again.written, again.unchanged, again.conflicts) == (0, len(records), [])
    assert snapshot(read_all(store)) == before


def _tampered(record: EntityRecord) -> EntityRecord:
    assert record.envelope is not None
    ct = bytearray(record.envelope.ciphertext)
    ct[0] ^= 1
    env = dataclasses.replace(record.envelope, ciphertext=bytes(ct))
    return dataclasses.replace(record, envelope=env)


def test_differing_record_is_a_conflict_and_not_overwritten(make_store: MakeStore) -> None:
    store = make_store()
    records = sample_records()
    import_encrypted_batch(store, records)
    victim = next(r for r in records if isinstance(r, EntityRecord) and r.envelope)
    changed_dek = next(r for r in records if isinstance(r, WrappedDek))
    changed_dek = dataclasses.replace(changed_dek, state=KeyState.DESTROYED, wrapped_key=None)
    report = import_encrypted_batch(store, [_tampered(victim), changed_dek])
    assert report.written == 0 and report.unchanged == 0
    assert [f.code for f in report.conflicts] == [codes.IMPORT_CONFLICT] * 2
    pk, sk = victim.address.to_dynamodb()
    assert any(f.where == f"pk={pk!r} sk={sk!r}" for f in report.conflicts)
    assert "content_encrypted" in report.conflicts[0].message + report.conflicts[1].message
    assert snapshot(read_all(store)) == snapshot(records)


def test_duplicate_keys_within_one_batch(make_store: MakeStore) -> None:
    store = make_store()
    first = dialogue_records("dup")[1]
    assert isinstance(first, EntityRecord)
    report = import_encrypted_batch(store, [first, first, _tampered(first)])
    assert (report.written, report.unchanged) == (1, 1)
    assert [f.code for f in report.conflicts] == [codes.IMPORT_CONFLICT]
    assert snapshot(read_all(store)) == snapshot([first])


@pytest.mark.parametrize("k", [0, 1, 4, 5, 6, 23, 43])
def test_interrupted_import_resumes_to_identical(make_store: MakeStore, k: int) -> None:
    store = make_store()
    records = sample_records()
    with pytest.raises(Crash):
        import_encrypted_batch(store, crash_after(records, k))
    kept = read_all(store)
    assert len(kept) <= k  # nothing beyond what was handed over was written
    resumed = import_encrypted_batch(store, records)
    assert resumed.conflicts == []
    assert resumed.written + resumed.unchanged == len(records)
    assert resumed.unchanged == len(kept)
    assert snapshot(read_all(store)) == snapshot(records)
    assert import_encrypted_batch(store, records).written == 0


def test_streams_more_records_than_a_page_or_batch(make_store: MakeStore) -> None:
    store = make_store()
    n = 230  # many pages of 7 and batches of 5
    report = import_encrypted_batch(store, many_records(n))
    assert report.written == n and not report.conflicts
    assert snapshot(read_all(store)) == snapshot(many_records(n))


def test_export_of_some_dialogues(make_store: MakeStore) -> None:
    store = make_store()
    records = sample_records()
    import_encrypted_batch(store, records)
    got = list(export_encrypted_batch(store, dialogues=["d-1"]))
    want = [r for r in records if not isinstance(r, AuditEvent) and _dialogue(r) == "d-1"]
    assert snapshot(got) == snapshot(want)
    assert snapshot(export_encrypted_batch(store)) == snapshot(records)


def _dialogue(record: Record) -> str:
    if isinstance(record, EntityRecord):
        return record.address.dialogue
    assert isinstance(record, WrappedDek)
    return record.dialogue


def test_migration_between_stores_is_verbatim(make_store: MakeStore) -> None:
    source = make_store()
    target = make_store()
    records = sample_records()
    import_encrypted_batch(source, records)
    report = import_encrypted_batch(target, export_encrypted_batch(source))
    assert report.written == len(records)
    assert snapshot(read_all(target)) == snapshot(records)


@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(st.data())
def test_for_all_records_a_store_keeps_them_exactly_or_refuses(
    make_store: MakeStore, data: st.DataObject
) -> None:
    """For every record: read back byte-identical, or refused as not
    representable (and then absent). Never altered, never half-written."""
    from chainaudit.testing.strategies import records as record_strategy

    batch = data.draw(st.lists(record_strategy(), min_size=1, max_size=6))
    unique: dict[tuple[str, str], Record] = {}
    for rec in batch:
        item = item_from_record(rec)
        unique.setdefault((item["pk"]["S"], item["sk"]["S"]), rec)
    store = make_store()
    report = import_encrypted_batch(store, unique.values())
    refused = {f.where for f in report.conflicts}
    assert all(f.code is codes.IMPORT_NOT_REPRESENTABLE for f in report.conflicts)
    kept = [r for key, r in unique.items() if f"pk={key[0]!r} sk={key[1]!r}" not in refused]
    assert report.written == len(kept)
    assert snapshot(read_all(store)) == snapshot(kept)


def test_staged_import_writes_nothing_when_the_input_fails_at_its_end(
    make_store: MakeStore,
) -> None:
    """stage=True: an input judged only at its end (EXP-7) leaves the store untouched."""
    store = make_store()
    records = sample_records()
    with pytest.raises(Crash):
        import_encrypted_batch(store, crash_after(records, len(records)), stage=True)
    assert read_all(store) == []
    report = import_encrypted_batch(store, records, stage=True)
    assert (report.written, report.conflicts) == (len(records), [])
    assert snapshot(read_all(store)) == snapshot(records)
