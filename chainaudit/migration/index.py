"""A temporary on-disk index that sorts (record key, digest) pairs with bounded memory.

Stores hand records over in whatever order they keep them (a DynamoDB scan
is ordered by partition hash), but the Merkle tree, the gate and the diff
need the leaves sorted by record key (MAN-2.3). Holding every key in memory
would tie memory to the dataset size, so the pairs go into a temporary
SQLite database (stdlib :mod:`sqlite3`, a B-tree on disk with a small page
cache) and come back out sorted by the key's UTF-8 bytes, which is SQLite's
``memcmp`` order for BLOBs.

Duplicate keys are kept, not overwritten: the first arrival is the leaf and
every repeat is reported by :meth:`LeafIndex.duplicates`, because two
records claiming one identity is itself a finding (RECORD_KEY_DUPLICATE).

>>> with LeafIndex() as ix:
...     ix.add("b", bytes(32)); ix.add("a", bytes(32))
...     [k for k, _ in ix.sorted_leaves()]
['a', 'b']
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import tempfile
from collections.abc import Iterable, Iterator
from types import TracebackType

from chainaudit.errors import local_faults
from chainaudit.primitives.merkle import TreeBuilder, leaf_hash

#: Pairs buffered before one executemany: bounds the Python-side memory.
BATCH = 5000
#: SQLite page cache in KiB (negative PRAGMA cache_size means KiB).
CACHE_KIB = 2048
#: What a full or unusable temporary directory stops (CLI-4: exit 3, one line).
_WHAT = "the temporary record index"


class LeafIndex:
    """Sorted (record key, digest) pairs in a private temporary SQLite file.

    Use as a context manager, or call :meth:`close`; the file is deleted on
    close. ``directory`` chooses where the file goes (default: the system's
    temporary directory).
    """

    def __init__(self, directory: str | os.PathLike[str] | None = None) -> None:
        with local_faults(directory or tempfile.gettempdir(), _WHAT):
            self._dir = tempfile.mkdtemp(prefix="chainaudit-index-", dir=directory)
            self._db = sqlite3.connect(os.path.join(self._dir, "leaves.sqlite3"))
            self._db.executescript(
                f"""
                PRAGMA journal_mode=OFF;
                PRAGMA synchronous=OFF;
                PRAGMA temp_store=FILE;
                PRAGMA cache_size=-{CACHE_KIB};
                CREATE TABLE leaves (
                    key BLOB NOT NULL, seq INTEGER NOT NULL, digest BLOB NOT NULL, origin TEXT,
                    PRIMARY KEY (key, seq)
                ) WITHOUT ROWID;
                """
            )
        self._pending: list[tuple[bytes, int, bytes, str]] = []
        self._seq = 0

    # -- writing ------------------------------------------------------------

    def add(self, key: str, digest: bytes, origin: str = "") -> None:
        """Add one pair; a repeated key is reported by :meth:`duplicates`.

        ``origin`` (file and line, table and key) is kept only to name the
        record in findings.
        """
        self._pending.append((key.encode("utf-8"), self._seq, digest, origin))
        self._seq += 1
        if len(self._pending) >= BATCH:
            self._flush()

    def add_all(self, pairs: Iterable[tuple[str, bytes]]) -> None:
        """Add many pairs (without origins)."""
        for key, digest in pairs:
            self.add(key, digest)

    def _flush(self) -> None:
        if self._pending:
            with local_faults(os.path.dirname(self._dir), _WHAT):
                self._db.executemany("INSERT INTO leaves VALUES (?, ?, ?, ?)", self._pending)
                self._db.commit()
            self._pending.clear()

    @property
    def added(self) -> int:
        """How many pairs were added, duplicates included."""
        return self._seq

    # -- reading ------------------------------------------------------------

    def __len__(self) -> int:
        """The number of distinct keys."""
        self._flush()
        with local_faults(os.path.dirname(self._dir), _WHAT):
            (n,) = self._db.execute("SELECT COUNT(DISTINCT key) FROM leaves").fetchone()
        return int(n)

    def _ordered(self) -> Iterator[tuple[bytes, bytes, str, bool]]:
        """(key, digest, origin, is_repeat) in key order, first arrival first."""
        self._flush()
        prev: bytes | None = None
        sql = "SELECT key, digest, origin FROM leaves ORDER BY key, seq"
        with local_faults(os.path.dirname(self._dir), _WHAT):
            for key, digest, origin in self._db.execute(sql):
                k = bytes(key)
                yield k, bytes(digest), origin or "", k == prev
                prev = k

    def sorted_leaves(self) -> Iterator[tuple[str, bytes]]:
        """Every distinct key with the digest that arrived first, sorted by the
        key's UTF-8 bytes (MAN-2.3)."""
        for key, digest, _, repeat in self._ordered():
            if not repeat:
                yield key.decode("utf-8"), digest

    def sorted_entries(self) -> Iterator[tuple[str, bytes, str]]:
        """Like :meth:`sorted_leaves`, with each record's origin."""
        for key, digest, origin, repeat in self._ordered():
            if not repeat:
                yield key.decode("utf-8"), digest, origin

    def leaf_hashes(self) -> Iterator[bytes]:
        """The Merkle leaf hashes in tree order."""
        for key, digest in self.sorted_leaves():
            yield leaf_hash(key, digest)

    def root(self) -> bytes:
        """The Merkle root over the sorted leaves (MAN-2)."""
        b = TreeBuilder()
        for leaf in self.leaf_hashes():
            b.add(leaf)
        return b.root()

    def position(self, key: str) -> tuple[int, bytes] | None:
        """``(leaf index, digest)`` of ``key``, or None when absent."""
        self._flush()
        raw = key.encode("utf-8")
        with local_faults(os.path.dirname(self._dir), _WHAT):
            row = self._db.execute(
                "SELECT digest FROM leaves WHERE key = ? ORDER BY seq LIMIT 1", (raw,)
            ).fetchone()
            if row is None:
                return None
            (n,) = self._db.execute(
                "SELECT COUNT(DISTINCT key) FROM leaves WHERE key < ?", (raw,)
            ).fetchone()
        return int(n), bytes(row[0])

    def duplicates(self) -> Iterator[tuple[str, bytes, str]]:
        """Every repeat arrival of a key already present (identical or not), by
        key: ``(key, digest, origin)``."""
        for key, digest, origin, repeat in self._ordered():
            if repeat:
                yield key.decode("utf-8"), digest, origin

    # -- lifetime -----------------------------------------------------------

    def close(self) -> None:
        """Close and delete the temporary database."""
        self._db.close()
        shutil.rmtree(self._dir, ignore_errors=True)

    def __enter__(self) -> LeafIndex:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
