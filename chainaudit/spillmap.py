"""A mapping that keeps its first entries in memory and the rest on disk.

A run keeps a few facts per chain or per partition until its end: a chain's
final count and tip (boundary claims about it are checked once every chain
has ended), its length (the report's anchoring), its timeline (the HTML
report), whether a partition was already seen. Kept in dicts they grow
with the number of chains, so memory would not be flat from a million
records to ten million. :class:`SpillMap` is such a dict up to ``limit``
entries; at the next new key every entry moves to a private scratch SQLite
file (:func:`chainaudit.scratch.open_scratch_db`) and the map lives there
from then on, so its memory is bounded whatever the data holds.

It behaves as a ``dict`` in every way the run relies on: insertion order
(an updated key keeps its place), ``get``, ``setdefault``, ``update``,
deletion, equality with a dict. A value must be given back with the same
meaning, so a map that spills takes a codec (:data:`JSON`, :data:`TUPLE`,
:data:`TUPLES`, :data:`NONE`); values are not shared after a spill, so a
caller updates a value by storing it again, never by mutating it in place.
Unpickled (a worker's result shipped to its parent), it is a ``SpillMap``
again, filled an entry at a time.

Why not always on disk: most runs have a few thousand chains, and a dict
is faster than any file; the limit (:data:`DEFAULT_LIMIT`, or
``CHAINAUDIT_SPILL_LIMIT`` in the environment) is where memory starts to
matter. A full or unusable temporary directory is one line, exit 3
(:func:`chainaudit.errors.local_faults`).
"""

from __future__ import annotations

import json
import os
import pickle
import sqlite3
import weakref
from collections.abc import (
    Callable,
    ItemsView,
    Iterable,
    Iterator,
    Mapping,
    MutableMapping,
    ValuesView,
)
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, Generic, NoReturn, TypeVar

import orjson

from chainaudit.errors import local_faults
from chainaudit.scratch import open_scratch_db

K = TypeVar("K", str, int)
V = TypeVar("V")

#: Entries a map holds in memory before it moves to disk: a run's maps then
#: hold a few MiB at most, and a map on disk costs a SQLite statement per
#: chain or key, not per record.
DEFAULT_LIMIT = 4096
#: The environment variable that overrides :data:`DEFAULT_LIMIT` (tests set
#: it to 0 or 1 to run whole commands with every map on disk).
LIMIT_ENV = "CHAINAUDIT_SPILL_LIMIT"
_BATCH = 1000
_CACHE_KIB = 256


@dataclass(frozen=True, slots=True)
class Codec(Generic[V]):
    """How a value is stored in the spill file and read back equal.

    ``name`` is the codec's name in this module: a pickled map names its
    codec (the functions may be lambdas, which do not pickle)."""

    encode: Callable[[V], bytes]
    decode: Callable[[bytes], V]
    name: str

    def __reduce__(self) -> str:
        return self.name


def _dumps(value: Any) -> bytes:
    """``orjson``'s bytes, or for what it refuses (a lone surrogate from the
    data, an integer beyond 64 bits) the standard library's ASCII text after
    a NUL byte, which ``orjson`` output never starts with."""
    try:
        return orjson.dumps(value)
    except TypeError:
        return b"\0" + json.dumps(value).encode("ascii")


def _loads(data: bytes) -> Any:
    # Not orjson for the standard library's text: it reads an integer
    # beyond 64 bits as a float.
    return json.loads(data[1:]) if data[:1] == b"\0" else orjson.loads(data)


def _tuple(data: bytes) -> tuple[Any, ...]:
    return tuple(_loads(data))


def _tuples(data: bytes) -> list[tuple[Any, ...]]:
    return [tuple(x) for x in _loads(data)]


#: The frozensets a map of sets reads back, shared: a run's key history holds
#: a few distinct sets of operations for thousands of keys.
_SETS: dict[frozenset[str], frozenset[str]] = {}


def _frozenset(data: bytes) -> frozenset[str]:
    value = frozenset(_loads(data))
    if len(_SETS) < 4096:
        return _SETS.setdefault(value, value)
    return _SETS.get(value, value)


#: JSON values (ints, strings, lists, dicts) stored as they are.
JSON: Codec[Any] = Codec(_dumps, _loads, "JSON")
#: A tuple of JSON values (a chain's ``(count, tip)``).
TUPLE: Codec[Any] = Codec(_dumps, _tuple, "TUPLE")
#: A list of tuples of JSON values (a chain's timeline).
TUPLES: Codec[Any] = Codec(_dumps, _tuples, "TUPLES")
#: A frozenset of strings, stored as its sorted list (a key's operations).
FROZENSET: Codec[frozenset[str]] = Codec(lambda v: _dumps(sorted(v)), _frozenset, "FROZENSET")
#: Any picklable value (findings): the spill file is this process's own,
#: private and unlinked at once (docs/threat-model.md ``#scratch``).
PICKLE: Codec[Any] = Codec(
    lambda v: pickle.dumps(v, protocol=pickle.HIGHEST_PROTOCOL),
    pickle.loads,  # only ever this process's own file
    "PICKLE",
)
#: Only the keys matter (a set).
NONE: Codec[None] = Codec(lambda _v: b"", lambda _b: None, "NONE")


class Spilling:
    """What a map and a list that move to disk share (:class:`SpillMap`,
    :class:`chainaudit.spilllist.SpillList`): their settings, their scratch
    file once open, and how a failing disk is reported. A subclass names its
    file's ``prefix``, its ``table`` and ``what`` it holds (for messages)."""

    prefix: ClassVar[str]
    table: ClassVar[str]
    what: ClassVar[str]

    def __init__(self, codec: Codec[Any], limit: int | None, directory: str | None) -> None:
        self.codec = codec
        self.limit = default_limit() if limit is None else limit
        self.directory = directory
        self._db: sqlite3.Connection | None = None
        self._path: Path | None = None

    @property
    def spilled(self) -> bool:
        """True once the entries live on disk."""
        return self._db is not None

    def _open(self) -> sqlite3.Connection:
        """The scratch SQLite file, made now, closed when this is collected.

        Unlinked at once: SQLite keeps its one descriptor (no journal), and
        the disk space comes back when the owner is dropped or the process
        ends, however it ends (a worker killed mid-run leaves nothing). A
        run has several: each keeps a small page cache (SQLite's default is
        2 MiB a connection), so together they stay small. The connection
        may be used from another thread than this one (a result holding it
        is pickled on another thread by Dask).
        """
        path, db = open_scratch_db(
            self.prefix, self.directory, self.what, [self.table], any_thread=True
        )
        self._path, self._db = path, db
        weakref.finalize(self, db.close)
        with local_faults(self._where(), self.what):
            path.unlink()
            db.execute(f"PRAGMA cache_size=-{_CACHE_KIB}")
        return db

    def _where(self) -> str:
        """The directory of the scratch file (only asked once it is open)."""
        assert self._path is not None
        return str(self._path.parent)

    def _fault(self) -> NoReturn:
        """The SQLite error being handled (an OperationalError: a full disk, an
        I/O error), as :func:`local_faults` reports it (one line naming the
        directory, exit 3); not a context manager per statement, as those
        cost more than the statement. Other SQLite errors are bugs: raised."""
        with local_faults(self._where(), self.what):
            raise  # the SQLite error being handled, for local_faults to translate


def default_limit() -> int:
    """:data:`LIMIT_ENV` when it is set to a whole number >= 0, else :data:`DEFAULT_LIMIT`."""
    text = os.environ.get(LIMIT_ENV, "").strip()
    return int(text) if text.isascii() and text.isdigit() else DEFAULT_LIMIT


class SpillMap(Spilling, MutableMapping[K, V]):
    """A ``dict`` of at most ``limit`` entries in memory, past that on disk
    (see the module's docstring). Keys are ``str`` or ``int``."""

    prefix = "chainaudit-map-"
    table = "CREATE TABLE m (k PRIMARY KEY NOT NULL, v BLOB NOT NULL)"
    what = "the temporary per-chain state"
    codec: Codec[V]

    def __init__(
        self,
        codec: Codec[V],
        items: Iterable[tuple[K, V]] = (),
        *,
        limit: int | None = None,
        directory: str | None = None,
    ) -> None:
        super().__init__(codec, limit, directory)
        self._memory: dict[K, V] = {}
        self._len = 0
        for key, value in items:
            self[key] = value

    # -- reading ----------------------------------------------------------------

    def __getitem__(self, key: K) -> V:
        if self._db is None:
            return self._memory[key]
        stored = _k(key)
        if stored is None:
            raise KeyError(key)
        try:
            row = self._db.execute("SELECT v FROM m WHERE k = ?", (stored,)).fetchone()
        except sqlite3.OperationalError:
            self._fault()
        if row is None:
            raise KeyError(key)
        return self.codec.decode(row[0])

    def __contains__(self, key: object) -> bool:
        if self._db is None:
            return key in self._memory
        stored = _k(key)
        if stored is None:
            return False
        try:
            row = self._db.execute("SELECT 1 FROM m WHERE k = ?", (stored,)).fetchone()
        except sqlite3.OperationalError:
            self._fault()
        return row is not None

    def __len__(self) -> int:
        return len(self._memory) if self._db is None else self._len

    def __iter__(self) -> Iterator[K]:
        if self._db is None:
            yield from self._memory
            return
        for (key,) in self._rows("k"):
            yield _unk(key)

    def items(self) -> ItemsView[K, V]:
        """``(key, value)`` in insertion order (from disk: read in batches)."""
        return _Items(self)

    def values(self) -> ValuesView[V]:
        """The values in insertion order (from disk: read in batches)."""
        return _Values(self)

    def _pairs(self) -> Iterator[tuple[K, V]]:
        if self._db is None:
            yield from self._memory.items()
            return
        decode = self.codec.decode
        for key, data in self._rows("k, v"):
            yield _unk(key), decode(data)

    def items_by_utf8(self) -> Iterator[tuple[K, V]]:
        """``(key, value)`` sorted by the UTF-8 bytes of the (``str``) keys:
        the order the report lists chains in (on disk the keys are those
        bytes, and SQLite compares them byte by byte: the same order)."""
        if self._db is None:
            yield from sorted(self._memory.items(), key=_by_stored_key)
            return
        with local_faults(self._where(), self.what):
            rows = self._db.execute("SELECT k, v FROM m ORDER BY k")
            while batch := rows.fetchmany(_BATCH):
                for key, data in batch:
                    yield _unk(key), self.codec.decode(data)

    def _rows(self, columns: str) -> Iterator[tuple[Any, ...]]:
        """``columns`` of every row in insertion (rowid) order, a batch at a
        time by rowid ranges, so the map may be written while it is read."""
        assert self._db is not None
        last = -1
        while True:
            with local_faults(self._where(), self.what):
                batch = self._db.execute(
                    f"SELECT rowid, {columns} FROM m WHERE rowid > ? ORDER BY rowid LIMIT ?",
                    (last, _BATCH),
                ).fetchall()
            if not batch:
                return
            for row in batch:
                yield row[1:]
            last = batch[-1][0]

    # -- writing ----------------------------------------------------------------

    def __setitem__(self, key: K, value: V) -> None:
        stored = _k(key)
        if stored is None:  # in memory too: the map may move to disk later
            raise TypeError(f"a SpillMap key is a str or a 64-bit int, not {key!r}")
        if self._db is None:
            if key in self._memory or len(self._memory) < self.limit:
                self._memory[key] = value
                return
            self._spill()
        assert self._db is not None
        data = self.codec.encode(value)
        try:
            # An update keeps the key's rowid: its place in insertion order, as in a dict.
            db = self._db
            if db.execute("INSERT OR IGNORE INTO m (k, v) VALUES (?, ?)", (stored, data)).rowcount:
                self._len += 1
            else:
                db.execute("UPDATE m SET v = ? WHERE k = ?", (data, stored))
        except sqlite3.OperationalError:
            self._fault()

    def put_new(self, key: K, value: V) -> bool:
        """Set ``key`` to ``value`` unless it is present; True when it was not
        (one statement on disk, where ``setdefault`` takes two)."""
        if self._db is None:
            if key in self._memory:
                return False
            self[key] = value
            return True
        stored = _k(key)
        if stored is None:
            raise TypeError(f"a SpillMap key is a str or a 64-bit int, not {key!r}")
        try:
            new = self._db.execute(
                "INSERT OR IGNORE INTO m (k, v) VALUES (?, ?)", (stored, self.codec.encode(value))
            ).rowcount
        except sqlite3.OperationalError:
            self._fault()
        self._len += new
        return bool(new)

    def __delitem__(self, key: K) -> None:
        if self._db is None:
            del self._memory[key]
            return
        stored = _k(key)
        if stored is None:
            raise KeyError(key)
        with local_faults(self._where(), self.what):
            gone = self._db.execute("DELETE FROM m WHERE k = ?", (stored,)).rowcount
        if not gone:
            raise KeyError(key)
        self._len -= 1

    def _spill(self) -> None:
        db = self._open()
        encode = self.codec.encode
        with local_faults(self._where(), self.what):
            db.executemany(
                "INSERT INTO m (k, v) VALUES (?, ?)",
                ((_k(k), encode(v)) for k, v in self._memory.items()),
            )
        self._len = len(self._memory)
        self._memory = {}

    # -- as a value -------------------------------------------------------------

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Mapping) or len(self) != len(other):
            return False
        return all(k in other and other[k] == v for k, v in self._pairs())

    __hash__ = None  # type: ignore[assignment]  # mutable, as a dict

    def __repr__(self) -> str:
        where = "on disk" if self.spilled else "in memory"
        return f"SpillMap({len(self)} entries {where})"

    def __reduce__(self) -> tuple[Any, ...]:
        """A pickled map (a worker's result shipped to its parent) is a
        ``SpillMap`` again when unpickled, with the same codec and limit, in
        memory or on disk by its size there: its items are streamed as
        pickle streams a dict's, in batches, never as one list or one dict
        on either side, so a parent that merges its workers' results keeps
        the same bounded memory as they do. The scratch file stays behind."""
        return (_unpickled, (self.codec, self.limit), None, None, self._pairs())

    def __copy__(self) -> SpillMap[K, V]:
        return SpillMap(self.codec, self._pairs(), limit=self.limit, directory=self.directory)

    def __deepcopy__(self, memo: dict[int, Any]) -> SpillMap[K, V]:
        """A map of its own (a run's trial evidence), values copied through the codec."""
        codec = self.codec
        pairs = ((k, codec.decode(codec.encode(v))) for k, v in self._pairs())
        return SpillMap(codec, pairs, limit=self.limit, directory=self.directory)


def _unpickled(codec: Codec[Any], limit: int) -> SpillMap[Any, Any]:
    """An empty map the unpickler then fills (see :meth:`SpillMap.__reduce__`)."""
    return SpillMap(codec, limit=limit)


class _Items(ItemsView[K, V]):
    _mapping: SpillMap[K, V]

    def __iter__(self) -> Iterator[tuple[K, V]]:
        return self._mapping._pairs()


class _Values(ValuesView[V]):
    _mapping: SpillMap[Any, V]

    def __iter__(self) -> Iterator[V]:
        return (v for _, v in self._mapping._pairs())


def _k(key: Any) -> Any:
    """A key as stored: text as its UTF-8 bytes (a lone surrogate from the
    data kept), so that SQLite's byte order is the UTF-8 order; a 64-bit int
    as it is; None for anything else (which no map holds)."""
    if type(key) is str:
        return key.encode("utf-8", "surrogatepass")
    if type(key) is int and -(2**63) <= key < 2**63:
        return key
    return None


def _unk(stored: Any) -> Any:
    return stored.decode("utf-8", "surrogatepass") if type(stored) is bytes else stored


def _by_stored_key(pair: tuple[Any, Any]) -> Any:
    return _k(pair[0])


def sorted_by_utf8(mapping: Mapping[K, V]) -> Iterable[tuple[K, V]]:
    """``mapping``'s items sorted by the UTF-8 bytes of their (``str``) keys,
    the order the report lists chains and keys in (code point order, for
    valid text): a SpillMap's read from disk in that order, any other
    mapping's sorted in memory."""
    if isinstance(mapping, SpillMap):
        return mapping.items_by_utf8()
    return sorted(mapping.items(), key=_by_stored_key)
