"""SpillList: a list that moves to a private scratch file past a limit (chainaudit/spilllist.py)."""

from __future__ import annotations

import copy
import itertools
import pickle
import tempfile
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
    with pytest.raises(LocalFaultError, match="temporary list of findings") as caught:
        s.extend(range(2000))
    assert "missing" in str(caught.value)


def _f(n: int) -> Finding:
    return Finding(codes.CHAIN_LINK_BROKEN, f"chain:x@{n}", str(n))


@settings(max_examples=100, deadline=None)
@given(
    adds=st.lists(
        st.tuples(
            st.sampled_from(["b", "a", "é", "\U0001f600", "z", "\uff61", "\ud800x"]),
            st.integers(0, 3),
        ),
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
    expected = [
        (c, plain[c]) for c in sorted(plain, key=lambda c: c.encode("utf-8", "surrogatepass"))
    ]
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


@pytest.mark.parametrize("limit", [0, 1, 2, 5])
def test_every_index_slice_and_assignment_at_every_size(
    limit: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Exhaustive over small sizes, with batches of 3: every item is in memory,
    waiting to be written, or on disk, and each answers as a list's."""
    monkeypatch.setattr(spilllist, "_BATCH", 3)
    for n in range(11):
        plain = list(range(n))
        s: SpillList[int] = SpillList(plain, limit=limit)
        assert s.in_memory <= limit + 2 and s.spilled == (n >= limit + 3)
        for i in range(-n - 2, n + 2):
            if -n <= i < n:
                assert s[i] == plain[i]
            else:
                with pytest.raises(IndexError, match="out of range"):
                    s[i]
        ends = [None, *range(-n - 1, n + 2)]
        for a, b, step in itertools.product(ends, ends, [1, 2, 3, -1, -2]):
            assert s[a:b:step] == plain[a:b:step], (n, a, b, step)
        for a in range(n + 1):
            for b in range(a, n + 1):
                assert list(s.iter_range(a, b)) == plain[a:b]
        for i in range(-n - 1, n + 1):
            t: SpillList[int] = SpillList(plain, limit=limit)
            if -n <= i < n:
                t[i] = -1
                expected = list(plain)
                expected[i] = -1
                assert list(t) == expected and t[i] == -1
            else:
                with pytest.raises(IndexError, match="out of range"):
                    t[i] = -1


@pytest.mark.parametrize("limit", [0, 2, 6])
def test_extending_keeps_at_most_limit_items_in_memory(
    limit: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(spilllist, "_BATCH", 3)
    s: SpillList[int] = SpillList(limit=limit)
    for chunk in ([1, 2, 3, 4], [5], [], [6, 7], list(range(8, 20))):
        s.extend(chunk)
        assert len(s._memory) <= limit and s.in_memory <= limit + 2
    assert list(s) == list(range(1, 20))


@pytest.mark.parametrize("limit", [0, 2, 5000])
def test_a_list_extended_by_itself_doubles(limit: int) -> None:
    s: SpillList[int] = SpillList(range(2500), limit=limit)
    s.extend(s)
    assert len(s) == 5000 and list(s) == [*range(2500), *range(2500)]


def test_a_list_of_another_codec_is_decoded_not_copied() -> None:
    a: SpillList[Any] = SpillList([[1], [2]], codec=JSON, limit=0)
    b: SpillList[Any] = SpillList([[3]] * 1500, limit=0)  # pickled, on disk
    a.extend(b)
    assert list(a) == [[1], [2], *([[3]] * 1500)]


def test_equality_is_a_lists() -> None:
    s: SpillList[int] = SpillList(range(1500), limit=3)
    assert s == list(range(1500)) and s == SpillList(range(1500), limit=0)
    assert s != list(range(1499)) and s != [*range(1499), 7] and s != [*range(1500), 1]
    assert s != tuple(range(1500)) and s != set(range(1500)) and s != 5
    assert SpillList([]) == [] and SpillList([]) != [0] and SpillList([0]) != []


def test_copies_keep_codec_limit_and_directory(tmp_path: Any) -> None:
    s: SpillList[Any] = SpillList([[1], [2]], codec=JSON, limit=1, directory=str(tmp_path))
    for c in (copy.copy(s), copy.deepcopy(s)):
        assert type(c) is SpillList and c == [[1], [2]]
        assert (c.codec, c.limit, c.directory) == (JSON, 1, str(tmp_path))
    s += [[3]]
    assert s == [[1], [2], [3]]


def test_repr_is_a_lists_until_it_spills() -> None:
    assert repr(SpillList([1, "a"], limit=1)) == repr([1, "a"])
    big: SpillList[int] = SpillList(range(2500), limit=100)
    assert repr(big) == "SpillList(2500 items, 2400 on disk)"


def test_a_list_file_that_fails_later_is_a_local_fault(tmp_path: Any) -> None:
    """Past the move to disk, a statement the disk fails is one line naming
    the directory, exit 3; any other SQLite error is a bug, raised as such."""
    import sqlite3

    class FailingDb:
        def __init__(self, error: Exception) -> None:
            self.error = error

        def execute(self, *_args: Any) -> Any:
            raise self.error

        executemany = execute

    s: SpillList[int] = SpillList(range(1500), limit=0, directory=str(tmp_path))
    default: SpillList[int] = SpillList(range(1500), limit=0)  # in $TMPDIR
    default._db = FailingDb(sqlite3.OperationalError("disk I/O error"))  # type: ignore[assignment]
    with pytest.raises(LocalFaultError, match="temporary list of findings") as caught:
        default[1200]
    assert tempfile.gettempdir() in str(caught.value)
    real = s._db
    s._db = FailingDb(sqlite3.OperationalError("disk I/O error"))  # type: ignore[assignment]
    for attempt in (lambda: s[1200], lambda: list(s), lambda: s.__setitem__(3, 9),
                    lambda: s.extend(range(2000))):  # fmt: skip
        with pytest.raises(LocalFaultError, match="temporary list of findings") as caught:
            attempt()
        assert str(tmp_path) in str(caught.value)
    s._db = FailingDb(sqlite3.ProgrammingError("a bug"))  # type: ignore[assignment]
    with pytest.raises(sqlite3.ProgrammingError):
        s[1200]
    s._db = real
