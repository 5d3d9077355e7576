"""SpillMap: a dict in every way the run relies on, in memory or on disk."""

from __future__ import annotations

import gc
import os
import pickle
import tempfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chainaudit.errors import LocalFaultError
from chainaudit.spillmap import (
    FROZENSET,
    JSON,
    LIMIT_ENV,
    NONE,
    TUPLE,
    TUPLES,
    SpillMap,
    default_limit,
    sorted_by_utf8,
)

keys = st.text(st.characters(blacklist_categories=()), max_size=6)  # lone surrogates too
values = st.tuples(st.integers(-(2**70), 2**70), st.text(st.characters(blacklist_categories=()), max_size=8))
ops = st.lists(
    st.one_of(
        st.tuples(st.just("set"), keys, values),
        st.tuples(st.just("del"), keys, st.none()),
        st.tuples(st.just("setdefault"), keys, values),
        st.tuples(st.just("put_new"), keys, values),
    ),
    max_size=40,
)


def _apply(m: Any, op: str, key: str, value: Any) -> Any:
    if op == "set":
        m[key] = value
        return None
    if op == "setdefault":
        return m.setdefault(key, value)
    if op == "put_new":
        if isinstance(m, SpillMap):
            return m.put_new(key, value)
        new = key not in m
        m.setdefault(key, value)
        return new
    try:
        del m[key]
    except KeyError:
        return "missing"
    return None


@settings(max_examples=300, deadline=None)
@given(ops, st.sampled_from([0, 1, 2, 5, 100]), keys)
def test_a_spill_map_is_the_dict_of_the_same_operations(
    script: list[tuple[str, str, Any]], limit: int, probe: str
) -> None:
    plain: dict[str, Any] = {}
    spill: SpillMap[str, Any] = SpillMap(TUPLE, limit=limit)
    for op, key, value in script:
        assert _apply(spill, op, key, value) == _apply(plain, op, key, value)
        assert len(spill) == len(plain)
    assert list(spill.items()) == list(plain.items())  # insertion order, updates in place
    assert list(spill) == list(plain)
    assert list(spill.values()) == list(plain.values())
    assert spill == plain and plain == dict(spill.items())
    assert (probe in spill) == (probe in plain)
    assert spill.get(probe) == plain.get(probe)
    by_utf8 = sorted(plain.items(), key=lambda kv: kv[0].encode("utf-8", "surrogatepass"))
    assert list(spill.items_by_utf8()) == by_utf8
    assert list(sorted_by_utf8(spill)) == list(sorted_by_utf8(plain)) == by_utf8
    shipped = pickle.loads(pickle.dumps(spill))
    assert shipped == plain and list(shipped.items()) == list(plain.items())
    assert type(shipped) is SpillMap and shipped.codec is TUPLE and shipped.limit == limit
    assert shipped.spilled == (len(plain) > limit)
    assert spill.spilled == (len(plain) > limit or spill.spilled)


def _open_spill_files(directory: Path) -> list[str]:
    """The files under ``directory`` this process holds open (deleted ones too)."""
    out = []
    for fd in Path("/proc/self/fd").iterdir():
        try:
            target = os.readlink(fd)
        except OSError:
            continue
        if target.startswith(str(directory)):
            out.append(target)
    return out


def test_it_moves_to_disk_past_its_limit_and_not_before(tmp_path: Path) -> None:
    m: SpillMap[str, Any] = SpillMap(JSON, limit=2, directory=str(tmp_path))
    m["a"], m["b"] = 1, 2
    m["a"] = 3  # an update is not a new entry
    assert not m.spilled and not _open_spill_files(tmp_path)
    m["c"] = 4
    assert m.spilled
    # On disk, but unlinked at once: nothing is left behind however the process ends.
    assert not list(tmp_path.iterdir())
    assert [t.endswith(" (deleted)") for t in _open_spill_files(tmp_path)] == [True]
    assert dict(m.items()) == {"a": 3, "b": 2, "c": 4}
    del m
    gc.collect()
    assert not _open_spill_files(tmp_path), "the spill file outlives its map"


@pytest.mark.parametrize(
    ("codec", "value"),
    [
        (JSON, {"x": [1, "y", None]}),
        (TUPLE, (7, "ab" * 32)),
        (TUPLES, [(0, "genesis", "2026-01-01T00:00:00Z"), (5, "rotate", "dek#d#2")]),
        (FROZENSET, frozenset({"wrap_dek", "decrypt", "encrypt"})),
        (NONE, None),
    ],
)
@pytest.mark.parametrize("limit", [0, 5])
def test_each_codec_gives_back_an_equal_value(codec: Any, value: Any, limit: int) -> None:
    """On disk, and after a trip through pickle (a worker's result to its parent)."""
    m: SpillMap[str, Any] = SpillMap(codec, limit=limit)
    m["k"] = value
    assert m["k"] == value and type(m["k"]) is type(value)
    shipped = pickle.loads(pickle.dumps(m))
    assert shipped.codec is codec and shipped["k"] == value and type(shipped["k"]) is type(value)


def test_integer_keys(tmp_path: Path) -> None:
    m: SpillMap[int, None] = SpillMap(NONE, limit=1)
    for k in (5, -(2**63), 2**63 - 1):
        m[k] = None
    assert list(m) == [5, -(2**63), 2**63 - 1] and 2**63 - 1 in m and 6 not in m
    assert "5" not in m and 5.5 not in m


def test_a_temporary_directory_that_cannot_be_written_is_a_local_fault(tmp_path: Path) -> None:
    m: SpillMap[str, Any] = SpillMap(JSON, limit=0, directory=str(tmp_path / "missing"))
    with pytest.raises(LocalFaultError, match="missing: cannot write the temporary per-chain state"):
        m["a"] = 1


@pytest.mark.parametrize(("text", "limit"), [("", 4096), ("0", 0), ("7", 7), ("x", 4096), ("\u00b2", 4096), ("-1", 4096)])
def test_the_limit_comes_from_the_environment(
    monkeypatch: pytest.MonkeyPatch, text: str, limit: int
) -> None:
    monkeypatch.setenv(LIMIT_ENV, text)
    assert default_limit() == limit
    assert SpillMap(JSON).limit == limit


def test_a_map_on_disk_is_read_from_another_thread() -> None:
    """A Dask worker pickles a task's result (holding maps) on a thread of its own."""
    import threading

    m: SpillMap[str, Any] = SpillMap(JSON, limit=0)
    m["a"] = 1
    out: list[Any] = []
    t = threading.Thread(target=lambda: out.append(pickle.loads(pickle.dumps(m))))
    t.start()
    t.join()
    assert out == [{"a": 1}]


def test_a_copy_is_a_spill_map_of_its_own() -> None:
    """audit() tries a grouped read on a deep copy of the evidence: the copy
    must still spill, and share no value with the original."""
    import copy

    for limit in (0, 1, 10):
        m: SpillMap[str, Any] = SpillMap(TUPLES, limit=limit)
        m["a"], m["b"] = [(1, "x", "y")], [(2, "z", "w")]
        for c in (copy.copy(m), copy.deepcopy(m)):
            assert type(c) is SpillMap and c == m and c.limit == limit
            assert c.spilled == m.spilled
        deep = copy.deepcopy(m)
        deep["a"].append((0, "", ""))  # in memory: the copy's own list
        deep["c"] = []
        assert m["a"] == [(1, "x", "y")] and "c" not in m


def test_a_spill_file_that_fails_later_is_a_local_fault() -> None:
    """Past the move to disk, a statement the disk fails (full, I/O error) is
    one line, exit 3; any other SQLite error is a bug and is raised as such."""
    import sqlite3

    class FailingDb:
        def __init__(self, error: Exception) -> None:
            self.error = error

        def execute(self, *_args: Any) -> Any:
            raise self.error

    m: SpillMap[str, Any] = SpillMap(JSON, limit=0)
    m["a"] = 1
    real = m._db
    m._db = FailingDb(sqlite3.OperationalError("database or disk is full"))  # type: ignore[assignment]
    for attempt in (lambda: m["a"], lambda: "a" in m, lambda: m.__setitem__("b", 2),
                    lambda: list(m.items()), lambda: m.__delitem__("a")):  # fmt: skip
        with pytest.raises(LocalFaultError, match="cannot write the temporary per-chain state"):
            attempt()
    with pytest.raises(LocalFaultError) as caught:
        m["a"]
    assert tempfile.gettempdir() in str(caught.value)  # the directory it is in
    m._db = FailingDb(sqlite3.ProgrammingError("a bug"))  # type: ignore[assignment]
    with pytest.raises(sqlite3.ProgrammingError):
        m["a"]
    m._db = real


@pytest.mark.parametrize("limit", [0, 100])
def test_keys_are_str_or_64_bit_int_in_memory_and_on_disk(limit: int) -> None:
    m: SpillMap[Any, Any] = SpillMap(JSON, limit=limit)
    m["a"] = 1
    for bad in (None, True, 2**63, -(2**63) - 1, 1.0, ("a", 1), b"a"):
        with pytest.raises(TypeError):
            m[bad] = 1
        assert bad not in m and m.get(bad) is None
        with pytest.raises(KeyError):
            del m[bad]
    assert dict(m.items()) == {"a": 1}


@pytest.mark.parametrize("limit", [0, 3])
def test_lone_surrogate_keys_round_trip_on_disk_in_utf8_order(limit: int) -> None:
    m: SpillMap[str, Any] = SpillMap(JSON, limit=limit)
    keys = ["b", "\ud800", "a", "\U0001f600", "\ue000", "\udfff"]
    for n, k in enumerate(keys):
        m[k] = n
    assert list(m) == keys and [m[k] for k in keys] == list(range(6))
    by_utf8 = sorted(keys, key=lambda k: k.encode("utf-8", "surrogatepass"))
    assert [k for k, _ in m.items_by_utf8()] == by_utf8
    assert [k for k, _ in sorted_by_utf8(dict(m.items()))] == by_utf8


def test_a_set_of_operations_reads_back_as_a_fresh_frozenset() -> None:
    m: SpillMap[str, Any] = SpillMap(FROZENSET, limit=0)
    fresh = frozenset({f"op-{os.getpid()}-{id(m)}", "encrypt"})  # never decoded before
    m["k"] = fresh
    assert m["k"] == fresh and type(m["k"]) is frozenset
    assert m["k"] is m["k"]  # shared: one object per distinct set


def test_equality_is_a_dicts() -> None:
    m: SpillMap[str, Any] = SpillMap(JSON, {"a": 1, "b": 2}.items(), limit=0)
    assert m == {"b": 2, "a": 1} and m == SpillMap(JSON, {"a": 1, "b": 2}.items())
    assert m != {"a": 1} and m != {"a": 1, "b": 3} and m != {"a": 1, "c": 2}
    assert m != {"a": 1, "b": 2, "c": 3} and m != [("a", 1), ("b", 2)] and m != 5


def test_copies_keep_codec_limit_and_directory(tmp_path: Path) -> None:
    import copy

    m: SpillMap[str, Any] = SpillMap(JSON, {"a": [1]}.items(), limit=0, directory=str(tmp_path))
    for c in (copy.copy(m), copy.deepcopy(m)):
        assert type(c) is SpillMap and c == {"a": [1]} and c.spilled
        assert (c.codec, c.limit, c.directory) == (JSON, 0, str(tmp_path))


def test_many_rows_read_in_batches_while_the_map_grows() -> None:
    m: SpillMap[int, Any] = SpillMap(JSON, limit=0)
    for n in range(2500):
        m[n] = n
    seen = []
    for k in m:
        seen.append(k)
        if k < 3:
            m[10_000 + k] = k  # a new key: read in its turn, as a dict would refuse
    assert seen == [*range(2500), 10_000, 10_001, 10_002] and len(m) == 2503
    assert list(m.values())[:3] == [0, 1, 2]


def test_past_its_bound_the_shared_set_table_still_gives_the_set(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from chainaudit import spillmap

    full = {frozenset({str(n)}): frozenset({str(n)}) for n in range(4096)}
    monkeypatch.setattr(spillmap, "_SETS", full)
    m: SpillMap[str, Any] = SpillMap(FROZENSET, limit=0)
    m["k"] = frozenset({"never-seen", "x"})
    assert m["k"] == frozenset({"never-seen", "x"}) and len(full) == 4096
    m["j"] = frozenset({"7"})
    assert m["j"] is full[frozenset({"7"})]
