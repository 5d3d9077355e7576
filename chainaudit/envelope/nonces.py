"""Nonce-reuse detection across a whole dataset, in bounded memory (ENV-5).

Two GCM envelopes under one key with one nonce leak the XOR of their
plaintexts and the GHASH key, so a single repetition anywhere in an export
matters. Each ``(key_id, nonce)`` pair is reduced to a 16-byte fingerprint.
Up to ``max_in_memory`` fingerprints live in a dict; past that, every
fingerprint is spilled with an ordinal to hash-partitioned temporary files
(24 bytes per record), the addresses go to an indexed side file, and each
partition is checked on its own, split again while it is still larger than
the limit. Memory therefore stays O(max_in_memory) for any dataset size.

>>> ledger = NonceLedger()
>>> ledger.add("dek#d#1", bytes(12), "dialogue:d/entity:meta")
>>> ledger.add("dek#d#1", bytes(12), "dialogue:d/entity:round/01")
>>> [f.code.name for f in ledger.findings()]
['NONCE_REUSE']
>>> ledger.close()
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import struct
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from types import TracebackType
from typing import BinaryIO

from chainaudit.errors import local_faults
from chainaudit.findings import Finding, codes
from chainaudit.findings.result import FindingList

FINGERPRINT_BYTES = 16
#: ENV-5: domain-separation prefix of the fingerprint.
FINGERPRINT_DOMAIN = b"chainaudit-nonce-v1\x00"
CONTENT_DOMAIN = b"chainaudit-nonce-content-v1\x00"
_ENTRY = struct.Struct(">16sQ")  # fingerprint, ordinal in the address store
_INDEX = struct.Struct(">QI")  # offset, length in the address data file
_SPLIT_FANOUT = 16
_READ_ENTRIES = 4096
#: What a full or unusable temporary directory stops (CLI-4: exit 3, one line).
_WHAT = "the nonce ledger's spill files"


def fingerprint(key_id: str, nonce: bytes) -> bytes:
    """ENV-5: the 16-byte fingerprint of a (key_id, nonce) pair."""
    kid = key_id.encode("utf-8")
    h = hashlib.sha256(FINGERPRINT_DOMAIN + struct.pack(">I", len(kid)) + kid + nonce)
    return h.digest()[:FINGERPRINT_BYTES]


@dataclass(frozen=True, slots=True)
class NonceLimits:
    """Memory bounds of the ledger. At the default limit the in-memory part
    holds ~55 MiB (measured: ~110 MiB per 200,000 entries); past it, 16-byte
    fingerprints spill to disk, so memory stays flat for any dataset size."""

    max_in_memory: int = 100_000
    partitions: int = 64
    tmp_dir: str | None = None

    def __post_init__(self) -> None:
        if self.max_in_memory < 1 or self.partitions < 2:
            raise ValueError("max_in_memory must be >= 1 and partitions >= 2")


@dataclass
class _Pending:
    """One occurrence of a fingerprint: the first one while in memory, or a
    spilled entry read back by ordinal."""

    key_id: str
    where: str
    source: str
    content: bytes = b""  # content_digest() of the ciphertext ("" when not given)

    def same_record(self, other: _Pending) -> bool:
        """ENV-5: the same address holding the same ciphertext is one record read twice."""
        return self.where == other.where and self.content == other.content


def content_digest(ciphertext: bytes) -> bytes:
    """16 bytes naming a ciphertext, to tell a record read twice from a reuse (ENV-5)."""
    return hashlib.sha256(CONTENT_DOMAIN + ciphertext).digest()[:FINGERPRINT_BYTES]


class NonceLedger:
    """Collects (key_id, nonce, address) triples and reports every reuse.

    Call :meth:`add` for each envelope, then iterate :meth:`findings` once.
    Use as a context manager (or call :meth:`close`) to remove spill files.
    ``stats`` records what happened, for tests and reports.
    """

    def __init__(self, limits: NonceLimits | None = None, *, keep_all: bool = False) -> None:
        """``keep_all=True``: store every occurrence on disk from the first, so
        that ledgers of several parts of one dataset can be checked together
        (:meth:`export`, :func:`merged_findings`); :meth:`findings` is not
        used then."""
        self.limits = limits or NonceLimits()
        self.keep_all = keep_all
        self._memory: dict[bytes, _Pending] = {}
        self._early = FindingList()  # one per reuse: on disk past a limit
        self._dir: str | None = None
        self._parts: list[BinaryIO] = []
        self._data: BinaryIO | None = None
        self._index: BinaryIO | None = None
        self._stored = 0
        self._data_size = 0
        self._finished = False
        #: The parts of a merged ledger (merged_findings), whose files hold the entries.
        self._merge: list[LedgerPart] | None = None
        self.stats: dict[str, int] = {
            "added": 0,
            "spilled": 0,
            "splits": 0,
            "max_resident": 0,
            "partitions_checked": 0,
        }

    # -- collecting ---------------------------------------------------------

    def add(
        self,
        key_id: str,
        nonce: bytes,
        where: str,
        source: str = "",
        ciphertext: bytes | None = None,
    ) -> None:
        """Record one envelope's key id and nonce at address ``where``.

        ``source`` (file and line, table and key) is carried into findings.
        ``ciphertext`` (``content_encrypted``) tells a record read twice (same
        address, same bytes: not reuse) from two seals at one address (reuse).
        Each occurrence is compared with the *first* occurrence of its pair
        only (ENV-5), so the ledger holds one entry per pair.
        """
        if self._finished:
            raise RuntimeError("NonceLedger.add() after findings() was called")
        self.stats["added"] += 1
        fp = fingerprint(key_id, nonce)
        entry = _Pending(
            key_id, where, source, b"" if ciphertext is None else content_digest(ciphertext)
        )
        if self.keep_all and self._dir is None:
            self._start_spilling()
        if self._dir is not None:
            with local_faults(os.path.dirname(self._dir), _WHAT):
                self._spill_one(fp, entry)
            return
        first = self._memory.get(fp)
        if first is not None:
            if not first.same_record(entry):
                self._early.append(_finding(first, entry))
            return
        self._memory[fp] = entry
        self.stats["max_resident"] = max(self.stats["max_resident"], len(self._memory))
        if len(self._memory) >= self.limits.max_in_memory:
            self._start_spilling()

    def _start_spilling(self) -> None:
        with local_faults(self.limits.tmp_dir or tempfile.gettempdir(), _WHAT):
            self._dir = tempfile.mkdtemp(prefix="chainaudit-nonces-", dir=self.limits.tmp_dir)
        with local_faults(os.path.dirname(self._dir), _WHAT):
            self._parts = [
                open(os.path.join(self._dir, f"p{i:03d}"), "w+b")  # noqa: SIM115
                for i in range(self.limits.partitions)
            ]
            self._data = open(os.path.join(self._dir, "addresses"), "w+b")  # noqa: SIM115
            self._index = open(os.path.join(self._dir, "index"), "w+b")  # noqa: SIM115
            memory, self._memory = self._memory, {}
            for fp, pending in memory.items():
                self._spill_one(fp, pending)

    def _spill_one(self, fp: bytes, entry: _Pending) -> None:
        assert self._data is not None and self._index is not None
        raw = b"".join(
            struct.pack(">I", len(b)) + b
            for b in (
                *(s.encode("utf-8") for s in (entry.key_id, entry.where, entry.source)),
                entry.content,
            )
        )
        self._data.write(raw)
        self._index.write(_INDEX.pack(self._data_size, len(raw)))
        self._data_size += len(raw)
        self._parts[fp[0] % len(self._parts)].write(_ENTRY.pack(fp, self._stored))
        self._stored += 1
        self.stats["spilled"] += 1

    # -- checking -------------------------------------------------------------

    def findings(self) -> Iterator[Finding]:
        """Every NONCE_REUSE: each repeat paired with the first occurrence, in
        the order the repeats were added (whether or not the ledger spilled)."""
        if self._finished:
            raise RuntimeError("NonceLedger.findings() may be called only once")
        self._finished = True
        yield from self._early
        self._memory.clear()
        if self._dir is None:
            return
        assert self._data is not None
        with local_faults(os.path.dirname(self._dir), _WHAT):
            self._data.flush()
            found: list[tuple[int, Finding]] = []
            for part in self._parts:
                part.flush()
                part.seek(0)
                found.extend(self._check(part, depth=0))
        # Spilled repeats were all added after the in-memory ones, and their
        # ordinals are in the order they were added.
        found.sort(key=lambda pair: pair[0])
        for _, finding in found:
            yield finding

    def export(self) -> LedgerPart:
        """Close a ``keep_all`` ledger for writing and hand its files on; they are
        then removed by :func:`merged_findings` (or :meth:`LedgerPart.remove`)."""
        if not self.keep_all:
            raise RuntimeError("NonceLedger.export() needs keep_all=True")
        self._finished = True
        if self._dir is None:
            return LedgerPart(None, self.limits.partitions, 0)
        with local_faults(os.path.dirname(self._dir), _WHAT):
            for f in [*self._parts, self._data, self._index]:
                if f is not None:
                    f.close()
        part = LedgerPart(self._dir, self.limits.partitions, self._stored)
        self._parts, self._data, self._index, self._dir = [], None, None, None
        return part

    def _check(self, part: BinaryIO, depth: int) -> Iterator[tuple[int, Finding]]:
        size = part.seek(0, os.SEEK_END) // _ENTRY.size
        part.seek(0)
        if size <= self.limits.max_in_memory:
            yield from self._check_in_memory(part)
            return
        if self._all_equal(part):
            yield from self._check_all_equal(part)
            return
        # Still too large: split by a depth-salted hash of the fingerprint.
        # Equal fingerprints always land in the same bucket.
        self.stats["splits"] += 1
        with contextlib.ExitStack() as stack:
            buckets = [
                stack.enter_context(tempfile.TemporaryFile(dir=self._dir))
                for _ in range(_SPLIT_FANOUT)
            ]
            for fp, ordinal in _entries(part):
                b = hashlib.sha256(bytes([depth & 0xFF]) + fp).digest()[0] % _SPLIT_FANOUT
                buckets[b].write(_ENTRY.pack(fp, ordinal))
            for bucket in buckets:
                bucket.flush()
                yield from self._check(bucket, depth + 1)

    def _check_in_memory(self, part: BinaryIO) -> Iterator[tuple[int, Finding]]:
        self.stats["partitions_checked"] += 1
        first: dict[bytes, int] = {}
        for fp, ordinal in _entries(part):
            seen = first.get(fp)
            if seen is None:
                first[fp] = ordinal
                self.stats["max_resident"] = max(self.stats["max_resident"], len(first))
                continue
            yield from self._pair(seen, ordinal)

    def _all_equal(self, part: BinaryIO) -> bool:
        fp0: bytes | None = None
        for fp, _ in _entries(part):
            if fp0 is None:
                fp0 = fp
            elif fp != fp0:  # ct-ok: nonce fingerprints of public nonces (stored in clear)
                part.seek(0)
                return False
        part.seek(0)
        return True

    def _check_all_equal(self, part: BinaryIO) -> Iterator[tuple[int, Finding]]:
        self.stats["partitions_checked"] += 1
        first: int | None = None
        for _, ordinal in _entries(part):
            if first is None:
                first = ordinal
            else:
                yield from self._pair(first, ordinal)

    def _pair(self, first: int, second: int) -> Iterator[tuple[int, Finding]]:
        a, b = self._stored_entry(first), self._stored_entry(second)
        if not a.same_record(b):  # the same record read twice is not reuse (ENV-5)
            yield second, _finding(a, b)

    def _stored_entry(self, ordinal: int) -> _Pending:
        """The entry spilled under ``ordinal`` (of a merged ledger: in its part)."""
        if self._merge is not None:
            part = self._merge[ordinal >> _PART_SHIFT]
            assert part.directory is not None
            ordinal &= (1 << _PART_SHIFT) - 1
            with open(os.path.join(part.directory, "index"), "rb") as index:
                index.seek(ordinal * _INDEX.size)
                offset, length = _INDEX.unpack(index.read(_INDEX.size))
            with open(os.path.join(part.directory, "addresses"), "rb") as data:
                data.seek(offset)
                raw = data.read(length)
            return _decode_entry(raw)
        assert self._data is not None and self._index is not None
        self._index.seek(ordinal * _INDEX.size)
        offset, length = _INDEX.unpack(self._index.read(_INDEX.size))
        self._data.seek(offset)
        raw = self._data.read(length)
        return _decode_entry(raw)

    # -- lifecycle --------------------------------------------------------------

    def close(self) -> None:
        """Remove the spill files (idempotent)."""
        for f in [*self._parts, self._data, self._index]:
            if f is not None:
                with contextlib.suppress(OSError):  # unflushed spill data is discarded anyway
                    f.close()
        self._parts = []
        self._data = self._index = None
        if self._dir is not None:
            shutil.rmtree(self._dir, ignore_errors=True)
            self._dir = None

    def __enter__(self) -> NonceLedger:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


@dataclass(frozen=True)
class LedgerPart:
    """The files of an exported ``keep_all`` ledger: ``directory`` (None when it
    holds nothing) with ``partitions`` partition files and ``stored`` entries."""

    directory: str | None
    partitions: int
    stored: int

    def remove(self) -> None:
        if self.directory is not None:
            shutil.rmtree(self.directory, ignore_errors=True)


#: How the ordinal of an entry of a merged ledger names its part: the part's
#: index in the high bits, the entry's ordinal in that part in the low ones.
_PART_SHIFT = 40


def merged_findings(parts: list[LedgerPart], limits: NonceLimits | None = None) -> list[Finding]:
    """Every NONCE_REUSE across the ledgers of consecutive parts of one dataset,
    exactly what one ledger fed the parts in order reports (first occurrence
    and repeats by dataset order, findings in the order of the repeats).
    Removes the parts' files."""
    limits = limits or NonceLimits()
    merged = NonceLedger(limits)
    merged._finished = True
    merged._merge = [p for p in parts]
    try:
        live = [p for p in parts if p.directory is not None]
        if not live:
            return []
        base = os.path.dirname(live[0].directory or "")
        with local_faults(base, _WHAT):
            merged._dir = tempfile.mkdtemp(prefix="chainaudit-nonces-", dir=limits.tmp_dir)
            found: list[tuple[int, Finding]] = []
            for p in range(live[0].partitions):
                with tempfile.TemporaryFile(dir=merged._dir) as combined:
                    for index, part in enumerate(parts):
                        if part.directory is None:
                            continue
                        with open(os.path.join(part.directory, f"p{p:03d}"), "rb") as src:
                            for fp, ordinal in _entries(src):
                                combined.write(_ENTRY.pack(fp, (index << _PART_SHIFT) | ordinal))
                    combined.flush()
                    combined.seek(0)
                    found.extend(merged._check(combined, depth=0))
        found.sort(key=lambda pair: pair[0])
        return [finding for _, finding in found]
    finally:
        merged.close()
        for part in parts:
            part.remove()


def _entries(part: BinaryIO) -> Iterator[tuple[bytes, int]]:
    while True:
        chunk = part.read(_ENTRY.size * _READ_ENTRIES)
        if not chunk:
            return
        for fp, ordinal in _ENTRY.iter_unpack(chunk):  # noqa: UP028  (typed unpacking)
            yield fp, ordinal


def _decode_entry(raw: bytes) -> _Pending:
    fields: list[bytes] = []
    pos = 0
    for _ in range(4):
        (n,) = struct.unpack_from(">I", raw, pos)
        fields.append(raw[pos + 4 : pos + 4 + n])
        pos += 4 + n
    key_id, where, source = (f.decode("utf-8") for f in fields[:3])
    return _Pending(key_id, where, source, fields[3])


def _finding(first: _Pending, second: _Pending) -> Finding:
    """ENV-5: one reuse, located at the repeat, naming the first occurrence."""
    extra: dict[str, object] = {"key_id": first.key_id, "first": first.where, "second": second.where}
    if first.source:
        extra["first_source"] = first.source
    message = f"the nonce under key {first.key_id} is also used by {first.where}"
    if first.content and first.content == second.content:
        # Same nonce and the same ciphertext bytes: a copy of that record
        # (cut-and-paste), not a writer that reused a nonce for new content.
        message += "; the ciphertext is identical too: this record is a copy of that one"
        extra["identical_ciphertext"] = True
    return Finding(
        codes.NONCE_REUSE,
        second.where,
        message,
        source=second.source or None,
        extra=extra,
    )
