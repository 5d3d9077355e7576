"""Nonce-reuse ledger (ENV-5): every reuse found, both addresses named, and the
same answer in bounded memory as in RAM."""

from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chainaudit.envelope.nonces import (
    LedgerPart,
    NonceLedger,
    NonceLimits,
    fingerprint,
    merged_findings,
)
from chainaudit.errors import LocalFaultError

N1, N2 = bytes(12), bytes(11) + b"\x01"


def _exactly(message: str) -> str:
    return f"^{re.escape(message)}$"


def _pairs(ledger: NonceLedger) -> list[tuple[str, str]]:
    return sorted((f.extra["first"], f.extra["second"]) for f in ledger.findings())


def test_reuse_names_both_addresses_and_the_key() -> None:
    with NonceLedger() as ledger:
        ledger.add("dek#d#1", N1, "a")
        ledger.add("dek#d#1", N2, "b")
        ledger.add("dek#d#1", N1, "c")
        (finding,) = list(ledger.findings())
    assert finding.code.name == "NONCE_REUSE"
    assert finding.where == "c"
    assert finding.extra == {"key_id": "dek#d#1", "first": "a", "second": "c"}
    assert "dek#d#1" in finding.message and "a" in finding.message


def test_same_nonce_under_different_keys_is_not_reuse() -> None:
    with NonceLedger() as ledger:
        ledger.add("dek#d#1", N1, "a")
        ledger.add("dek#d#2", N1, "b")
        ledger.add("dek#e#1", N1, "c")
        assert _pairs(ledger) == []


def test_the_same_record_read_twice_is_not_reuse() -> None:
    with NonceLedger() as ledger:
        ledger.add("dek#d#1", N1, "a")
        ledger.add("dek#d#1", N1, "a")
        assert _pairs(ledger) == []


def test_every_repeat_is_paired_with_the_first_occurrence() -> None:
    with NonceLedger() as ledger:
        for where in "abcd":
            ledger.add("k", N1, where)
        assert _pairs(ledger) == [("a", "b"), ("a", "c"), ("a", "d")]


def test_fingerprint_frames_the_key_id() -> None:
    # Without the length prefix, ("k1", n) and ("k", "1"+n) would collide.
    assert fingerprint("k1", N1) != fingerprint("k", b"1" + N1)
    assert fingerprint("k", N1) == fingerprint("k", N1)
    assert len(fingerprint("k", N1)) == 16


def _dataset(n: int, reuse: list[int]) -> list[tuple[str, bytes, str]]:
    rows = [(f"dek#d#{i % 3 + 1}", i.to_bytes(12, "big"), f"addr-{i}") for i in range(n)]
    rows += [(rows[j][0], rows[j][1], f"again-{k}-{j}") for k, j in enumerate(reuse)]
    return rows


def _run(
    rows: list[tuple[str, bytes, str]] | list[tuple[str, bytes, str, str, bytes]],
    limits: NonceLimits | None,
) -> tuple[list[tuple[str, str]], dict[str, int]]:
    with NonceLedger(limits) as ledger:
        for row in rows:
            ledger.add(*row)
        return _pairs(ledger), dict(ledger.stats)


@pytest.mark.parametrize("limits", [None, NonceLimits(max_in_memory=1, partitions=2)])
def test_same_address_with_other_ciphertext_is_reuse(limits: NonceLimits | None) -> None:
    """ENV-5 step 3: a re-read is the same address *and* the same ciphertext."""
    rows = [
        ("k", N1, "a", "", b"one"),
        ("k", N1, "a", "", b"one"),  # read twice: nothing
        ("k", N1, "a", "", b"two"),  # a second seal under the nonce: reuse
    ]
    assert _run(rows, limits)[0] == [("a", "a")]


@pytest.mark.parametrize("limits", [None, NonceLimits(max_in_memory=1, partitions=2)])
def test_each_repeat_is_compared_with_the_first_occurrence_only(
    limits: NonceLimits | None,
) -> None:
    """ENV-5: A, B, B gives two findings; A, A, B gives one."""
    assert _run([("k", N1, "a"), ("k", N1, "b"), ("k", N1, "b")], limits)[0] == [
        ("a", "b"),
        ("a", "b"),
    ]
    assert _run([("k", N1, "a"), ("k", N1, "a"), ("k", N1, "b")], limits)[0] == [("a", "b")]


def test_spilling_finds_the_same_reuse_within_the_memory_limit(tmp_path: Path) -> None:
    rows = _dataset(300, [5, 77, 77, 299, 0])
    in_ram, ram_stats = _run(rows, None)
    spilled, stats = _run(rows, NonceLimits(max_in_memory=4, partitions=2, tmp_dir=str(tmp_path)))
    assert spilled == in_ram and len(in_ram) == 5
    assert ram_stats["spilled"] == 0
    assert stats["spilled"] == len(rows)
    assert stats["max_resident"] <= 4  # never more than the limit in memory
    assert stats["splits"] > 0  # partitions of ~150 were split until they fit
    assert os.listdir(tmp_path) == []  # spill files removed on close


def test_a_partition_of_one_repeated_nonce_streams_in_constant_memory() -> None:
    rows = [("k", N1, f"a{i}") for i in range(50)]
    pairs, stats = _run(rows, NonceLimits(max_in_memory=2, partitions=2))
    assert len(pairs) == 49 and all(p[0] == "a0" for p in pairs)
    assert stats["max_resident"] <= 2


@settings(max_examples=25, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["k1", "k2"]),
            st.integers(0, 12),
            st.integers(0, 30),
            st.integers(0, 1),
        ),
        max_size=60,
    ),
    st.integers(1, 5),
)
def test_bounded_ledger_agrees_with_the_in_memory_ledger(
    rows: list[tuple[str, int, int, int]], limit: int
) -> None:
    data = [(k, n.to_bytes(12, "big"), f"a{w}", "", bytes([c])) for k, n, w, c in rows]
    assert _run(data, NonceLimits(max_in_memory=limit, partitions=2))[0] == _run(data, None)[0]
    # And the in-memory answer is the ENV-5 rule written out: each later
    # occurrence against the first, a re-read is same address and ciphertext.
    first: dict[tuple[str, bytes], tuple[str, bytes]] = {}
    want = []
    for k, n, w, _, c in data:
        if (k, n) in first and first[(k, n)] != (w, c):
            want.append((first[(k, n)][0], w))
        first.setdefault((k, n), (w, c))
    assert _run(data, None)[0] == sorted(want)


def test_misuse_raises() -> None:
    ledger = NonceLedger()
    list(ledger.findings())
    with pytest.raises(
        RuntimeError, match=_exactly("NonceLedger.add() after findings() was called")
    ):
        ledger.add("k", N1, "a")
    with pytest.raises(
        RuntimeError, match=_exactly("NonceLedger.findings() may be called only once")
    ):
        list(ledger.findings())
    limits_message = _exactly("max_in_memory must be >= 1 and partitions >= 2")
    with pytest.raises(ValueError, match=limits_message):
        NonceLimits(max_in_memory=0)
    with pytest.raises(ValueError, match=limits_message):
        NonceLimits(partitions=1)


@pytest.mark.parametrize("limits", [None, NonceLimits(max_in_memory=1, partitions=2)])
def test_findings_carry_both_sources(limits: NonceLimits | None) -> None:
    with NonceLedger(limits) as ledger:
        ledger.add("dek#d#1", N1, "a", "export.ndjson:1")
        ledger.add("dek#d#1", N2, "b", "export.ndjson:2")
        ledger.add("dek#d#1", N1, "c", "export.ndjson:3")
        (finding,) = list(ledger.findings())
    assert finding.source == "export.ndjson:3"
    assert finding.extra["first_source"] == "export.ndjson:1"
    assert finding.extra["key_id"] == "dek#d#1" and finding.extra["first"] == "a"


# --- per-worker ledgers merged (export, LedgerPart, merged_findings) -----------------


def _part(tmp: Path, entries: list[tuple[str, bytes, str]]) -> LedgerPart:
    ledger = NonceLedger(NonceLimits(partitions=4, tmp_dir=str(tmp)), keep_all=True)
    for key_id, nonce, where in entries:
        ledger.add(key_id, nonce, where, f"src:{where}")
    return ledger.export()


def test_export_of_an_empty_ledger_holds_nothing() -> None:
    ledger = NonceLedger(NonceLimits(partitions=4), keep_all=True)
    assert ledger.export() == LedgerPart(None, 4, 0)


def test_export_counts_its_entries_and_ends_the_ledger(tmp_path: Path) -> None:
    ledger = NonceLedger(NonceLimits(partitions=4, tmp_dir=str(tmp_path)), keep_all=True)
    for i in range(3):
        ledger.add("dek#d#1", bytes([i]) * 12, f"r{i}")
    files = [*ledger._parts, ledger._data, ledger._index]
    part = ledger.export()
    assert part.stored == 3 and part.partitions == 4 and part.directory is not None
    assert all(f is not None and f.closed for f in files)  # flushed for the merge
    with pytest.raises(RuntimeError):
        ledger.add("dek#d#1", N1, "late")
    with pytest.raises(RuntimeError):
        list(ledger.findings())
    part.remove()
    part.remove()  # removing again is harmless
    assert list(tmp_path.iterdir()) == []


def test_export_needs_keep_all() -> None:
    with pytest.raises(RuntimeError, match=_exactly("NonceLedger.export() needs keep_all=True")):
        NonceLedger().export()


def test_merged_findings_skip_empty_parts_between_live_ones(tmp_path: Path) -> None:
    first = _part(tmp_path, [("dek#d#1", N1, "a")])
    empty = NonceLedger(NonceLimits(partitions=4), keep_all=True).export()
    last = _part(tmp_path, [("dek#d#1", N2, "b"), ("dek#d#1", N1, "c")])
    found = merged_findings([first, empty, last], NonceLimits(partitions=4))
    assert [(f.where, f.extra["first"], f.source) for f in found] == [("c", "a", "src:c")]
    assert merged_findings([empty]) == []


def test_merged_findings_work_in_the_limits_tmp_dir(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every merge file lives under NonceLimits.tmp_dir, in a directory named
    as the ledger's own, removed afterwards."""
    spill = tmp_path / "spill"
    spill.mkdir()
    parts = [
        _part(tmp_path, [("dek#d#1", bytes([i % 3]) * 12, f"p{k}r{i}") for i in range(6)])
        for k in range(2)
    ]
    made: list[str] = []
    dirs: list[Any] = []
    real_mkdtemp, real_tf = tempfile.mkdtemp, tempfile.TemporaryFile

    def mkdtemp(*a: Any, **kw: Any) -> str:
        d = real_mkdtemp(*a, **kw)
        made.append(d)
        return d

    def temporary_file(*a: Any, **kw: Any) -> Any:
        dirs.append(kw.get("dir"))
        return real_tf(*a, **kw)

    monkeypatch.setattr(tempfile, "mkdtemp", mkdtemp)
    monkeypatch.setattr(tempfile, "TemporaryFile", temporary_file)
    found = merged_findings(parts, NonceLimits(max_in_memory=2, partitions=4, tmp_dir=str(spill)))
    assert len(found) == 9  # 12 entries, 3 nonces
    assert len(made) == 1 and os.path.dirname(made[0]) == str(spill)
    assert os.path.basename(made[0]).startswith("chainaudit-nonces-")
    # one file per partition, and buckets: partitions over max_in_memory were split
    assert len(dirs) > 4 and all(d == made[0] for d in dirs)
    assert list(spill.iterdir()) == [] and sorted(p.name for p in tmp_path.iterdir()) == ["spill"]


def test_merged_findings_name_the_parts_directory_on_a_local_fault(tmp_path: Path) -> None:
    part = _part(tmp_path, [("dek#d#1", N1, "a")])
    assert part.directory is not None
    os.remove(os.path.join(part.directory, "p000"))
    with pytest.raises(LocalFaultError) as err:
        merged_findings([part], NonceLimits(partitions=4))
    assert str(err.value).startswith(
        f"{tmp_path}: cannot write the nonce ledger's spill files: No such file or directory"
    )
