"""SpillList: a list that moves to a private scratch file past a limit (chainaudit/spilllist.py)."""

from __future__ import annotations

import copy
import pickle
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chainaudit import spilllist
from chainaudit.errors import LocalFaultError
from chainaudit.findings import Finding, codes
from chainaudit.findings.bychain import ByChain, merged_by_chain
from chainaudit.spilllist import SpillList
from chainaudit.spillmap import JSON

items = st.tuples(
    st.integers(-(2**70), 2**70), st.text(st.characters(blacklist_categories=()), max_size=5)
)
script = st.lists(
    st.one_of(
        st.tuples(st.just("append"), items),
        st.tuples(st.just("extend"), st.lists(items, max_size=40)),
        st.tuples(st.just("extend-gen"), st.lists(items, max_size=40)),
        st.tuples(
            st.just("extend-spill"), st.tuples(st.lists(items, max_size=40), st.integers(0, 5))
        ),
        st.tuples(st.just("set"), st.tuples(st.integers(-50, 50), items)),
    ),
    max_size=30,
)


@settings(max_examples=150, deadline=None)
@given(steps=script, limit=st.sampled_from([0, 1, 3, 100]), probe=st.integers(-60, 60))
def test_a_spill_list_is_the_list_of_the_same_operations(
    steps: list[tuple[str, Any]], limit: int, probe: int
) -> None:
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(spilllist, "_BATCH", 3)  # small batches: the disk is reached at once
        _check_list(steps, limit, probe)


def _check_list(steps: list[tuple[str, Any]], limit: int, probe: int) -> None:
    spill: SpillList[Any] = SpillList(limit=limit)
    plain: list[Any] = []
    for op, arg in steps:
        if op == "append":
            spill.append(arg)
            plain.append(arg)
        elif op == "extend":
            spill.extend(arg)
            plain.extend(arg)
        elif op == "extend-gen":
            spill.extend(x for x in arg)
            plain.extend(x for x in arg)
        elif op == "extend-spill":  # stored bytes copied as they are
            values, other_limit = arg
            spill.extend(SpillList(values, limit=other_limit))
            plain.extend(values)
        else:
            index, value = arg
            if -len(plain) <= index < len(plain):
                spill[index] = value
                plain[index] = value
            else:
                with pytest.raises(IndexError):
                    spill[index] = value
        assert len(spill) == len(plain)
    assert list(spill) == plain and spill == plain and plain == spill
    assert bool(spill) == bool(plain)
    if -len(plain) <= probe < len(plain):
        assert spill[probe] == plain[probe]
    else:
        with pytest.raises(IndexError):
            spill[probe]
    for a, b, step in [
        (probe, None, 1),
        (None, probe, 1),
        (1, -1, 1),
        (None, None, 3),
        (None, None, -1),
    ]:
        assert spill[a:b:step] == plain[a:b:step]
    start, stop = sorted((abs(probe) % (len(plain) + 1), len(plain)))
    assert list(spill.iter_range(start, stop)) == plain[start:stop]
    shipped = pickle.loads(pickle.dumps(spill))
    assert type(shipped) is SpillList and shipped == plain and shipped.limit == limit
    assert copy.deepcopy(spill) == plain and copy.copy(spill) == plain
    assert spill.spilled == (len(plain) >= limit + 3)  # a batch past the limit


def test_it_moves_to_disk_in_batches_past_its_limit() -> None:
    s: SpillList[int] = SpillList(limit=10)
    s.extend(range(10))
    assert not s.spilled
    s.extend(range(10, 2500))  # past the limit: written a batch at a time
    assert s.spilled and len(s) == 2500 and list(s) == list(range(2500))
    assert s[1234] == 1234 and s[-1] == 2499 and s[995:1005] == list(range(995, 1005))


def test_a_list_may_grow_while_it_is_read() -> None:
    s: SpillList[int] = SpillList(range(1500), limit=0)
    seen = []
    for x in s:
        seen.append(x)
        if x < 3:
            s.append(1500 + x)
    assert seen == list(range(1503))


def test_findings_counted_by_code_whichever_way_they_are_added() -> None:
    from chainaudit.findings.result import FindingList, code_counts

    found = [_f(n) for n in range(2500)] + [Finding(codes.KEY_SHREDDED, "k", "m")]
    for limit in (0, 3, 5000):
        a: FindingList = FindingList(found[:7], limit=limit)
        a.extend(FindingList(found[7:], limit=limit))  # copied undecoded past the limit
        a.extend(iter(found[:2]))
        a.append(found[0])
        a[0] = Finding(codes.KEY_SHREDDED, "k", "m")
        every = [*found, found[0], found[1], found[0]]
        every[0] = a[0]
        assert list(a) == every and a.counts == code_counts(every)
        assert pickle.loads(pickle.dumps(a)).counts == a.counts


def test_findings_come_back_equal_and_with_their_registered_code() -> None:
    f = Finding(
        codes.CHAIN_LINK_BROKEN, "chain:c@1", "m", "a", "b", "src", {"k": [1, None, "\ud800"]}
    )
    s: SpillList[Finding] = SpillList([f, f], limit=0)
    assert s[0] == f and s[1].code is codes.CHAIN_LINK_BROKEN


def test_another_codec() -> None:
    s: SpillList[Any] = SpillList([{"a": 1}, [2]], codec=JSON, limit=0)
    assert list(s) == [{"a": 1}, [2]] and pickle.loads(pickle.dumps(s)).codec is JSON


def test_a_temporary_directory_that_cannot_be_written_is_a_local_fault(tmp_path: Any) -> None:
    s: SpillList[int] = SpillList(limit=0, directory=str(tmp_path / "missing"))
    with pytest.raises(LocalFaultError):
        s.extend(range(2000))


def _f(n: int) -> Finding:
    return Finding(codes.CHAIN_LINK_BROKEN, f"chain:x@{n}", str(n))


@settings(max_examples=100, deadline=None)
@given(
    adds=st.lists(
        st.tuples(st.sampled_from(["b", "a", "é", "\U0001f600", "z", "\uff61"]), st.integers(0, 3)),
        max_size=20,
    ),
    split=st.integers(0, 20),
)
def test_findings_by_chain_list_chains_in_utf8_order_and_each_in_order_added(
    adds: list[tuple[str, int]], split: int
) -> None:
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("CHAINAUDIT_SPILL_LIMIT", "1")  # both maps and lists on disk
        _check_by_chain(adds, split)


def _check_by_chain(adds: list[tuple[str, int]], split: int) -> None:
    parts = [ByChain(), ByChain()]
    plain: dict[str, list[Finding]] = {}
    n = 0
    for i, (chain, count) in enumerate(adds):
        found = [_f(n + k) for k in range(count)]
        n += count
        parts[i >= split].add(chain, found)
        plain.setdefault(chain, []).extend(found)
    expected = [(c, plain[c]) for c in sorted(plain, key=lambda c: c.encode("utf-8"))]
    merged: dict[str, list[Finding]] = {}
    order = []
    for chain, found in merged_by_chain(parts):
        if not order or order[-1] != chain:
            order.append(chain)
        merged.setdefault(chain, []).extend(found)
    assert order == [c for c, _ in expected]
    assert [(c, merged[c]) for c in order] == expected
    both = ByChain()
    for p in parts:
        for chain in p:
            both.add(chain, p[chain])
    assert dict(both.items()) == plain
    assert sum(p.total for p in parts) == n
