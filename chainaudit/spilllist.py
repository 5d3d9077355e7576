"""A list that keeps its first items in memory and the rest on disk.

What a run finds is a list of findings, and an export can hold a finding
for every record: ten million edited envelopes are ten million findings,
gigabytes as objects. A security tool must still finish and report on the
worst input it is handed, so the lists a run keeps until its end (the
result's findings, the findings made as items are read, a chain's own) are
:class:`SpillList`: a ``list`` of up to ``limit`` items; past that, further
items go to a private scratch SQLite file (as :class:`chainaudit.spillmap.SpillMap`
does, and with the same limit and environment variable), written a batch at
a time and read back in order. Memory is then bounded whatever the data.

It behaves as a ``list`` in every way the run and its callers rely on:
``append``, ``extend``, ``len``, iteration in order, indexing and slices
(a slice is a plain list), replacing an item, truth, equality with a list.
Items are not removed (a run only appends). Unpickled (a worker's findings shipped to its
parent), it is a ``SpillList`` again, filled a batch at a time.

Items are stored with :data:`chainaudit.spillmap.PICKLE` by default: the file is this process's
own (created private, unlinked at once, see docs/threat-model.md
``#scratch``), and a finding's values (its ``extra``) are any JSON the data
held, which pickle gives back exactly.
"""

from __future__ import annotations

import itertools
import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from typing import Any, Generic, TypeVar, overload

from chainaudit.spillmap import PICKLE, Codec, Spilling

T = TypeVar("T")

_BATCH = 1000


class SpillList(Spilling, Sequence[T], Generic[T]):
    """A ``list`` of at most ``limit`` items in memory, the rest on disk (see
    the module's docstring). Append-only."""

    prefix = "chainaudit-list-"
    table = "CREATE TABLE l (v BLOB NOT NULL)"
    what = "the temporary list of findings"

    def __init__(
        self,
        items: Iterable[T] = (),
        *,
        codec: Codec[Any] = PICKLE,
        limit: int | None = None,
        directory: str | None = None,
    ) -> None:
        super().__init__(codec, limit, directory)
        self._memory: list[T] = []
        #: Items past the limit not yet written (written a batch at a time).
        self._pending: list[T] = []
        self._stored = 0  # rows on disk (rowids 1..stored)
        self.extend(items)

    @property
    def in_memory(self) -> int:
        """How many items are held in memory: at most ``limit``, and fewer than
        a batch (1,000) more waiting to be written."""
        return len(self._memory) + len(self._pending)

    # -- writing ----------------------------------------------------------------

    def append(self, item: T) -> None:
        self._add(item)

    def _add(self, item: T) -> None:
        if self._db is None and len(self._memory) < self.limit:
            self._memory.append(item)
            return
        self._pending.append(item)
        if len(self._pending) >= _BATCH:
            self._flush()

    def extend(self, items: Iterable[T]) -> None:
        if self._db is None and not self._pending:
            room = self.limit - len(self._memory)
            if isinstance(items, list) and len(items) <= room:
                self._memory.extend(items)
                return
        if items is self:  # as list.extend: the items it holds now, once
            items = itertools.islice(iter(self), len(self))
        elif isinstance(items, SpillList) and items.codec is self.codec:
            self._extend_from(items)
            return
        add = self._add  # not append: a subclass's append may count
        for item in items:
            add(item)

    def _extend_from(self, other: SpillList[T]) -> None:
        """``extend`` by another list of the same codec: its items on disk are
        copied as the stored bytes, not decoded and encoded again (a run's
        findings pass through several lists on their way to the result)."""
        add = self._add
        for item in other._memory:
            add(item)
        if other._db is None:
            for item in other._pending:
                add(item)
            return
        other._flush()
        decode = other.codec.decode
        raw: list[bytes] = []  # stored bytes, written a batch at a time
        for data in other._stored_rows():
            if self._db is None and len(self._memory) < self.limit:
                self._memory.append(decode(data))
                continue
            if self._db is None:
                self._open()
            if self._pending:
                self._flush()  # what is pending goes first
            raw.append(data)
            if len(raw) >= _BATCH:
                self._insert(raw)
                raw = []
        self._insert(raw)

    def _insert(self, rows: list[bytes]) -> None:
        """Write stored bytes after the rows on disk (the file is open)."""
        if not rows:
            return
        assert self._db is not None
        try:
            self._db.executemany("INSERT INTO l (v) VALUES (?)", [(d,) for d in rows])
        except sqlite3.OperationalError:
            self._fault()
        self._stored += len(rows)

    def _stored_rows(self) -> Iterator[bytes]:
        """The stored bytes of every row on disk, in order, a batch at a time."""
        at = 0
        while rows := self._fetch(at, _BATCH):
            for (data,) in rows:
                yield data
            at += len(rows)

    def _fetch(self, at: int, count: int) -> list[tuple[bytes]]:
        """Up to ``count`` stored rows after the first ``at`` on disk."""
        assert self._db is not None
        try:
            return self._db.execute(
                "SELECT v FROM l WHERE rowid > ? ORDER BY rowid LIMIT ?", (at, count)
            ).fetchall()
        except sqlite3.OperationalError:
            self._fault()

    def __setitem__(self, index: int, item: T) -> None:
        """Replace one item (a caller's own edit of a result; a run only appends)."""
        n = len(self)
        if index < 0:
            index += n
        if not 0 <= index < n:
            raise IndexError("SpillList assignment index out of range")
        memory = len(self._memory)
        if index < memory:
            self._memory[index] = item
            return
        if self._db is None:
            self._pending[index - memory] = item
            return
        self._flush()
        try:
            self._db.execute(
                "UPDATE l SET v = ? WHERE rowid = ?", (self.codec.encode(item), index - memory + 1)
            )
        except sqlite3.OperationalError:
            self._fault()

    def __iadd__(self, items: Iterable[T]) -> SpillList[T]:
        self.extend(items)
        return self

    def _flush(self) -> None:
        """Write what is pending, opening the file if it is not yet."""
        if self._db is None:
            if not self._pending:
                return
            self._open()
        encode = self.codec.encode
        self._insert([encode(item) for item in self._pending])
        self._pending = []

    # -- reading ----------------------------------------------------------------

    def __len__(self) -> int:
        return len(self._memory) + self._stored + len(self._pending)

    def __iter__(self) -> Iterator[T]:
        yield from self._memory
        if self._db is None:
            yield from self._pending
            return
        yield from self._range(0, None)

    def _range(self, start: int, stop: int | None) -> Iterator[T]:
        """The items on disk (and pending) from ``start`` up to ``stop``
        (indexes past the memory part, ``stop`` None: to the end), read a
        batch at a time, so the list may grow while it is read."""
        self._flush()
        decode = self.codec.decode
        at = start
        while stop is None or at < stop:
            rows = self._fetch(at, _BATCH if stop is None else min(_BATCH, stop - at))
            if not rows:
                if self._pending:  # appended while being read
                    self._flush()
                    continue
                return
            for (data,) in rows:
                yield decode(data)
            at += len(rows)

    @overload
    def __getitem__(self, index: int) -> T: ...

    @overload
    def __getitem__(self, index: slice) -> list[T]: ...

    def __getitem__(self, index: int | slice) -> T | list[T]:
        n = len(self)
        if isinstance(index, slice):
            start, stop, step = index.indices(n)
            if step != 1:
                return [self[i] for i in range(start, stop, step)]
            return list(self.iter_range(start, max(start, stop)))
        if index < 0:
            index += n
        if not 0 <= index < n:
            raise IndexError("SpillList index out of range")
        return next(self.iter_range(index, index + 1))

    def iter_range(self, start: int, stop: int) -> Iterator[T]:
        """Items ``start`` (included) to ``stop`` (excluded), both within the
        list, streamed: ``self[start:stop]`` without building the list."""
        memory = len(self._memory)
        yield from self._memory[start:stop] if start < memory else ()
        if stop > memory:
            first = max(start, memory) - memory
            if self._db is None:
                yield from self._pending[first : stop - memory]
            else:
                yield from self._range(first, stop - memory)

    # -- as a value -------------------------------------------------------------

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, (list, SpillList)) or len(self) != len(other):
            return False
        return all(a == b for a, b in zip(self, other, strict=True))

    __hash__ = None  # type: ignore[assignment]  # mutable, as a list

    def __add__(self, other: Iterable[T]) -> list[T]:
        return [*self, *other]

    def __repr__(self) -> str:
        if self._db is None:
            return repr(self._memory + self._pending)
        return f"SpillList({len(self)} items, {self._stored + len(self._pending)} on disk)"

    def __reduce__(self) -> tuple[Any, ...]:
        """A pickled list is a ``SpillList`` again when unpickled, filled by
        ``extend`` a batch at a time: never one list on either side."""
        return (_unpickled, (type(self), self.codec, self.limit), None, iter(self))

    def __copy__(self) -> SpillList[T]:
        return type(self)(self, codec=self.codec, limit=self.limit, directory=self.directory)

    def __deepcopy__(self, memo: dict[int, Any]) -> SpillList[T]:
        codec = self.codec
        copies = (codec.decode(codec.encode(item)) for item in self)
        return type(self)(copies, codec=codec, limit=self.limit, directory=self.directory)


def _unpickled(cls: type[SpillList[Any]], codec: Codec[Any], limit: int) -> SpillList[Any]:
    """An empty list the unpickler then fills (see :meth:`SpillList.__reduce__`)."""
    return cls(codec=codec, limit=limit)
