"""MAN-4: gate post names every missing, extra and changed record, and checks chain tips."""

from __future__ import annotations

import dataclasses
import tracemalloc
from collections.abc import Iterator
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from chainaudit.conformance.vectorgen.manifest_build import (
    OTHER_LABEL,
    SIGNER_LABEL,
    audit_events,
    boundary_event,
    sample_manifest,
    sample_records,
    vector_key,
)
from chainaudit.findings import Finding, Result, codes
from chainaudit.migration.gate import gate_post
from chainaudit.migration.manifest import manifest_digest, public_key_bytes
from chainaudit.records.address import Address
from chainaudit.records.digest import record_key
from chainaudit.records.model import EntityRecord, Record

PINNED = [public_key_bytes(vector_key(SIGNER_LABEL))]
MANIFEST, LEAVES = sample_manifest()


def run(target: list[Record], *, leaves: bool = True, pinned: list[bytes] = PINNED) -> Result:
    lines = LEAVES.splitlines(keepends=True) if leaves else None
    return gate_post(MANIFEST, iter(target), pinned=pinned, leaves=lines)


def by_code(result: Result) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for f in result:
        out.setdefault(f.code.name, []).append(f.where)
    return out


def flip_ciphertext(r: EntityRecord) -> EntityRecord:
    assert r.envelope is not None
    ct = bytearray(r.envelope.ciphertext)
    ct[0] ^= 1
    return dataclasses.replace(r, envelope=dataclasses.replace(r.envelope, ciphertext=bytes(ct)))


def test_exact_copy_passes() -> None:
    result = run(list(reversed(sample_records())))
    assert result.findings == []
    assert result.ok
    assert result.checked["records"] == 20
    assert result.checked["chains"] == 3


def test_missing_record_is_named() -> None:
    recs = sample_records()
    gone = recs.pop(2)
    got = by_code(run(recs))
    assert got["MANIFEST_RECORD_MISSING"] == [record_key(gone)]
    assert got["MANIFEST_ROOT_MISMATCH"] == ["merkle"]
    assert got["MANIFEST_COUNT_MISMATCH"] == ["totals", "dialogue:d-1"]


def test_extra_record_is_named() -> None:
    recs = sample_records()
    extra = dataclasses.replace(
        recs[1], address=type(recs[1].address).parse("dialogue:d-1/entity:expert/eve")
    )  # type: ignore[union-attr]
    result = run([*recs, extra])
    got = by_code(result)
    assert got["MANIFEST_RECORD_EXTRA"] == ["dialogue:d-1/entity:expert/eve"]
    (f,) = [f for f in result if f.code is codes.MANIFEST_RECORD_EXTRA]
    assert f.source == "sample:dialogue:d-1/entity:expert/ada"


def test_changed_record_is_named_with_both_digests() -> None:
    recs = sample_records()
    r = recs[2]
    assert isinstance(r, EntityRecord)
    recs[2] = flip_ciphertext(r)
    result = run(recs)
    changed = [f for f in result if f.code is codes.MANIFEST_RECORD_CHANGED]
    assert [f.where for f in changed] == [str(r.address)]
    assert changed[0].expected != changed[0].actual
    assert "MANIFEST_COUNT_MISMATCH" not in by_code(result)


def test_without_leaves_the_root_still_catches_it() -> None:
    recs = sample_records()
    recs[2] = flip_ciphertext(recs[2])  # type: ignore[arg-type]
    got = by_code(run(recs, leaves=False))
    assert set(got) == {"MANIFEST_ROOT_MISMATCH", "MANIFEST_LEAVES_ABSENT"}
    assert run(sample_records(), leaves=False).findings == []


def test_tampered_leaves_file_is_reported() -> None:
    lines = LEAVES.splitlines(keepends=True)
    # Drop one line: sorted and well formed, but no longer the signed root.
    result = gate_post(MANIFEST, iter(sample_records()), pinned=PINNED, leaves=lines[1:])
    # MAN-3.4: the target is intact (its root is the signed one); the record the
    # dropped line named is not falsely reported as extra.
    assert by_code(result) == {"MANIFEST_LEAVES_INVALID": ["leaves"]}
    assert result.findings[0].extra == {"unreported": 1}
    # A damaged target behind a damaged leaves file: detected by root and counts,
    # never named from the file.
    damaged = sample_records()[1:]
    result = gate_post(MANIFEST, iter(damaged), pinned=PINNED, leaves=lines[1:])
    got = by_code(result)
    assert "MANIFEST_LEAVES_INVALID" in got and "MANIFEST_ROOT_MISMATCH" in got
    assert not {"MANIFEST_RECORD_MISSING", "MANIFEST_RECORD_EXTRA"} & set(got)
    assert result.codes().index("MANIFEST_LEAVES_INVALID") < result.codes().index(
        "MANIFEST_ROOT_MISMATCH"
    )
    # Unsorted: stops naming, still reports.
    result = gate_post(MANIFEST, iter(sample_records()), pinned=PINNED, leaves=[lines[1], lines[0]])
    assert by_code(result)["MANIFEST_LEAVES_INVALID"] == ["leaves"]


def test_untrusted_manifest_is_not_ok() -> None:
    result = run(sample_records(), pinned=[public_key_bytes(vector_key(OTHER_LABEL))])
    assert by_code(result) == {"MANIFEST_SIGNER_UNTRUSTED": ["manifest"]}
    assert not result.ok


def test_chain_bridged_by_boundary_passes_with_a_notice() -> None:
    tip = MANIFEST["chains"]["crypto"]["tip"]
    b = boundary_event("crypto", 4, tip, manifest_digest(MANIFEST))
    after = audit_events("crypto", 2, start=5, prev=b.fields["event_hash"])
    result = run([*sample_records(), b, *after])
    assert by_code(result) == {"MANIFEST_CHAIN_BRIDGED": ["chain:crypto@4"]}
    assert result.findings[0].extra["appended"] == 3
    assert result.ok


def test_chain_grown_without_boundary() -> None:
    tip = MANIFEST["chains"]["crypto"]["tip"]
    more = audit_events("crypto", 1, start=4, prev=tip)
    result = run([*sample_records(), *more])
    assert by_code(result) == {"MANIFEST_CHAIN_UNBRIDGED": ["chain:crypto@4"]}
    assert result.findings[0].source == record_key(more[0])


def test_boundary_from_another_state_or_manifest() -> None:
    b = boundary_event("crypto", 4, "ab" * 32, None)
    assert by_code(run([*sample_records(), b])) == {
        "MANIFEST_CHAIN_TIP_MISMATCH": ["chain:crypto@4"]
    }
    tip = MANIFEST["chains"]["crypto"]["tip"]
    b = boundary_event("crypto", 4, tip, "cd" * 32)
    assert by_code(run([*sample_records(), b])) == {
        "MANIFEST_CHAIN_TIP_MISMATCH": ["chain:crypto@4"]
    }


def test_truncated_chain() -> None:
    recs = [r for r in sample_records() if getattr(r, "fields", {}).get("seq") != 3]
    got = by_code(run(recs))
    assert got["MANIFEST_RECORD_MISSING"] == ["audit:crypto/01890a5d-ac96-7004-8000-000000000004"]
    assert "chain:crypto" in got["MANIFEST_COUNT_MISMATCH"]


def test_source_findings_pass_through() -> None:
    f = Finding(codes.RECORD_MALFORMED, "x.ndjson:3", "bad")
    result = gate_post(
        MANIFEST,
        iter([*sample_records(), f]),
        pinned=PINNED,
        leaves=LEAVES.splitlines(keepends=True),
    )
    assert result.findings == [f]


@settings(max_examples=25, deadline=None)
@given(st.data())
def test_any_deletions_changes_and_additions_are_named_exactly(data: st.DataObject) -> None:
    recs = sample_records()
    entities = [
        i
        for i, r in enumerate(recs)
        if isinstance(r, EntityRecord) and r.envelope and r.address.entity_type.value != "event"
    ]
    delete = data.draw(st.sets(st.sampled_from(entities), max_size=3))
    change = data.draw(st.sets(st.sampled_from(entities), max_size=3)) - delete
    added = data.draw(st.sets(st.sampled_from(["eve", "zed", "a b", "é"]), max_size=2))
    template = recs[1]
    assert isinstance(template, EntityRecord)
    extras = [
        dataclasses.replace(template, address=Address.of("d-1", "expert", slug)) for slug in added
    ]
    target = [
        flip_ciphertext(r) if i in change else r  # type: ignore[arg-type]
        for i, r in enumerate(recs)
        if i not in delete
    ] + extras
    got = by_code(run(target))
    assert sorted(got.get("MANIFEST_RECORD_MISSING", [])) == sorted(
        record_key(recs[i]) for i in delete
    )
    assert sorted(got.get("MANIFEST_RECORD_CHANGED", [])) == sorted(
        record_key(recs[i]) for i in change
    )
    assert sorted(got.get("MANIFEST_RECORD_EXTRA", [])) == sorted(str(e.address) for e in extras)
    assert ("MANIFEST_ROOT_MISMATCH" in got) == bool(delete or change or added)
    net = {d: -sum(1 for i in delete if recs[i].address.dialogue == d) for d in ("d-1", "d%2F2")}  # type: ignore[union-attr]
    net["d-1"] += len(added)
    assert ("MANIFEST_COUNT_MISMATCH" in got) == any(net.values())


def test_null_tip_in_manifest_compares_counts_only() -> None:
    from chainaudit.migration.manifest import ChainTip, ManifestBuilder, sign_manifest

    with ManifestBuilder() as b:
        b.add_all(sample_records())
        st_ = b.statement(created_at="t", source={}, chains={"crypto": ChainTip(4, None, None)})
    m = sign_manifest(st_, vector_key(SIGNER_LABEL))
    assert gate_post(m, iter(sample_records()), pinned=PINNED).findings == []
    b2 = boundary_event("crypto", 4, "ab" * 32, None)
    got = gate_post(m, iter([*sample_records(), b2]), pinned=PINNED)
    assert [f.code for f in got] == [codes.MANIFEST_CHAIN_BRIDGED]


def _gate_peak(tmp_path: Path, n: int) -> int:
    """Peak traced heap of gate pre + gate post over ``n`` records in 7 dialogues."""
    from chainaudit.migration.manifest import build_manifest
    from chainaudit.records.model import Envelope

    def records() -> Iterator[Record]:
        for i in range(n):
            addr = Address.parse(f"dialogue:d{i % 7}/entity:verdict/v{i:06d}")
            env = Envelope(i.to_bytes(4, "big") * 8, b"\x00" * 12, f"dek#d{i % 7}#1", "00" * 32)
            yield EntityRecord(addr, {"status": {"S": "open"}}, env, origin=f"gen:{i}")

    leaves_path = tmp_path / f"m{n}.leaves"
    tracemalloc.start()
    try:
        with leaves_path.open("wb") as out:
            m, dups = build_manifest(
                records(),
                private_key=vector_key(SIGNER_LABEL),
                created_at="t",
                source={},
                leaves_out=out,
            )
        with leaves_path.open("rb") as lines:
            result = gate_post(m, records(), pinned=PINNED, leaves=lines)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert dups == [] and result.findings == [] and result.checked["records"] == n
    return peak


def test_gate_memory_is_bounded_by_dialogues_and_chains_not_records(tmp_path: Path) -> None:
    """Records through gate pre and gate post: the Python heap stays small and does
    not grow with the number of records (the index and merge are tested at 60k and
    200k in test_merkle and test_diff). Bounded caches (parsed sort keys, at most
    4096) fill up with the first few thousand records, so the property is the
    growth from 6k to 18k records, plus an absolute ceiling."""
    small, large = _gate_peak(tmp_path, 6_000), _gate_peak(tmp_path, 18_000)
    assert large < 4_000_000, large
    assert large < small * 1.2 + 100_000, (small, large)


def test_required_bridge_makes_a_plain_copy_fail_per_chain() -> None:
    lines = LEAVES.splitlines(keepends=True)
    result = gate_post(MANIFEST, iter(sample_records()), pinned=PINNED, leaves=lines, require_bridge=True)
    unbridged = [f for f in result if f.code.name == "MANIFEST_CHAIN_UNBRIDGED"]
    chains = {c for c, v in MANIFEST["chains"].items() if v["count"] > 0}
    assert chains and {f.extra["chain_id"] for f in unbridged} == chains
    assert all(f.where == f"chain:{f.extra['chain_id']}@{MANIFEST['chains'][f.extra['chain_id']]['count']}" for f in unbridged)
