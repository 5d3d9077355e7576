"""MAN-5: diff names every record only in A, only in B, or changed; memory stays bounded."""

from __future__ import annotations

import dataclasses
import tracemalloc
from collections.abc import Iterator

from hypothesis import given, settings
from hypothesis import strategies as st

from chainaudit.conformance.vectorgen.manifest_build import sample_records
from chainaudit.findings import Finding, codes
from chainaudit.migration.diff import diff_sources, merge_sorted
from chainaudit.records.digest import record_key
from chainaudit.records.model import EntityRecord


def test_identical_stores_have_no_findings() -> None:
    result = diff_sources(sample_records(), list(reversed(sample_records())))
    assert result.findings == []
    assert result.checked["records"] == 20
    assert result.checked["dialogues"] == 2
    assert result.ok


def test_only_in_a_only_in_b_changed() -> None:
    a = sample_records()
    b = sample_records()
    only_a = b.pop(0)
    only_b = a.pop(5)
    r = b[1]
    assert isinstance(r, EntityRecord)
    b[1] = dataclasses.replace(r, attributes={**r.attributes, "tier": {"N": "3"}})
    result = diff_sources(a, b, label_a="dynamodb", label_b="postgres")
    got = [(f.code, f.where) for f in result]
    assert sorted(got, key=str) == sorted(
        [
            (codes.DIFF_ONLY_IN_A, record_key(only_a)),
            (codes.DIFF_ONLY_IN_B, record_key(only_b)),
            (codes.DIFF_CHANGED, record_key(r)),
        ],
        key=str,
    )
    changed = next(f for f in result if f.code is codes.DIFF_CHANGED)
    assert changed.expected != changed.actual
    assert "postgres" in changed.message
    # Findings come in record-key order (UTF-8 bytes).
    wheres = [f.where.encode() for f in result]
    assert wheres == sorted(wheres)


def test_duplicates_and_source_findings() -> None:
    a = sample_records()
    f = Finding(codes.RECORD_MALFORMED, "a.ndjson:9", "bad")
    result = diff_sources([*a, a[0], f], sample_records())
    assert [x.code for x in result] == [codes.RECORD_MALFORMED, codes.RECORD_KEY_DUPLICATE]


@settings(max_examples=30, deadline=None)
@given(st.data())
def test_any_split_of_records_is_named_exactly(data: st.DataObject) -> None:
    recs = sample_records()
    idx = range(len(recs))
    only_a = data.draw(st.sets(st.sampled_from(idx), max_size=4))
    only_b = data.draw(st.sets(st.sampled_from(idx), max_size=4)) - only_a
    changed = data.draw(
        st.sets(st.sampled_from([i for i in idx if isinstance(recs[i], EntityRecord)]), max_size=3)
    )
    changed -= only_a | only_b
    a = [r for i, r in enumerate(recs) if i not in only_b]
    b = [
        dataclasses.replace(r, attributes={**r.attributes, "x": {"S": "y"}}) if i in changed else r  # type: ignore[union-attr, arg-type, type-var]
        for i, r in enumerate(recs)
        if i not in only_a
    ]
    got: dict[str, set[str]] = {}
    for f in diff_sources(a, b):
        got.setdefault(f.code.name, set()).add(f.where)
    assert got.get("DIFF_ONLY_IN_A", set()) == {record_key(recs[i]) for i in only_a}
    assert got.get("DIFF_ONLY_IN_B", set()) == {record_key(recs[i]) for i in only_b}
    assert got.get("DIFF_CHANGED", set()) == {record_key(recs[i]) for i in changed}


@settings(max_examples=100)
@given(
    st.dictionaries(st.text(max_size=5), st.integers(0, 3), max_size=30),
    st.dictionaries(st.text(max_size=5), st.integers(0, 3), max_size=30),
)
def test_merge_matches_a_dictionary_join(a: dict[str, int], b: dict[str, int]) -> None:
    sa = sorted(a.items(), key=lambda kv: kv[0].encode())
    sb = sorted(b.items(), key=lambda kv: kv[0].encode())
    merged = list(merge_sorted(iter(sa), iter(sb)))
    assert [k for k, _, _ in merged] == sorted(set(a) | set(b), key=str.encode)
    assert all(va == a.get(k) and vb == b.get(k) for k, va, vb in merged)


def _stream(n: int, skip: int, tweak: int) -> Iterator[tuple[str, bytes]]:
    for i in range(n):
        if i % skip == 0:
            continue
        yield f"dialogue:d{i:08d}/entity:meta", bytes([i % tweak == 0]) * 32


def test_merge_of_200k_records_runs_in_bounded_memory() -> None:
    tracemalloc.start()
    try:
        counts = {"a": 0, "b": 0, "changed": 0}
        for _, da, db in merge_sorted(_stream(200_000, 997, 10**9), _stream(200_000, 1009, 991)):
            if db is None:
                counts["a"] += 1
            elif da is None:
                counts["b"] += 1
            elif da != db:
                counts["changed"] += 1
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert counts["a"] == sum(1 for i in range(200_000) if i % 1009 == 0 and i % 997 != 0)
    assert counts["b"] == sum(1 for i in range(200_000) if i % 997 == 0 and i % 1009 != 0)
    both = [i for i in range(200_000) if i % 997 and i % 1009]
    assert counts["changed"] == sum(1 for i in both if i % 991 == 0)
    assert peak < 1_000_000, peak


def test_a_boundary_on_one_side_is_a_notice_not_a_lost_write() -> None:
    from chainaudit.migration.bridge import boundary_records, chain_tips
    from chainaudit.report.render import exit_code_for
    from chainaudit.sample import build_sample

    sample = build_sample()
    assert sample.signer is not None
    bounds = list(
        boundary_records(
            chain_tips(sample.records),
            sample.signer,
            time="2026-04-01T00:00:00.000Z",
            source_backend="dynamodb",
            target_backend="postgresql",
        )
    )
    result = diff_sources(iter(sample.records), iter(sample.records + bounds))
    assert result.codes() == ["DIFF_BOUNDARY_ONE_SIDE"] * len(bounds) == ["DIFF_BOUNDARY_ONE_SIDE"] * 6
    assert exit_code_for(result) == 0
    # An ordinary record on one side only is still a lost write.
    lost = diff_sources(iter(sample.records), iter(sample.records[1:] + bounds))
    assert "DIFF_ONLY_IN_A" in lost.codes() and exit_code_for(lost) == 1
