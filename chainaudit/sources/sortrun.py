"""External merge sort of keyed lines with bounded memory.

The export writer must emit records in ``(pk, sk)`` order (EXP-5) whatever
order its source produced them in (a DynamoDB scan returns hash order), and
must do so for a million records without holding them all. Lines are
collected into runs of at most ``run_bytes``; each full run is sorted and
spilled to a temporary file in the destination directory; the runs are then
merged with :func:`heapq.merge`. Inputs that fit in one run never touch the
disk.

Run files hold length-prefixed entries (``>III`` lengths of pk, sk and line,
then the three byte strings), so keys may hold any byte.
"""

from __future__ import annotations

import heapq
import struct
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import IO

Keyed = tuple[bytes, bytes, bytes]

_HEAD = struct.Struct(">III")


def sorted_lines(entries: Iterable[Keyed], run_bytes: int, tmp_dir: Path) -> Iterator[Keyed]:
    """Yield ``(pk, sk, line)`` entries in ascending ``(pk, sk)`` order.

    Stable for equal keys (so a caller can detect and report duplicates).
    Temporary run files are removed when the iterator is exhausted or closed.
    """
    run: list[Keyed] = []
    size = 0
    spills: list[IO[bytes]] = []
    try:
        for entry in entries:
            run.append(entry)
            size += len(entry[0]) + len(entry[1]) + len(entry[2]) + 64
            if size >= run_bytes:
                spills.append(_spill(run, tmp_dir))
                run, size = [], 0
        run.sort(key=_key)
        if not spills:
            yield from run
            return
        if run:
            spills.append(_spill(run, tmp_dir))
            run = []
        yield from heapq.merge(*(_read_run(f) for f in spills), key=_key)
    finally:
        for f in spills:
            f.close()


def _key(entry: Keyed) -> tuple[bytes, bytes]:
    return entry[0], entry[1]


def _spill(run: list[Keyed], tmp_dir: Path) -> IO[bytes]:
    run.sort(key=_key)
    # Anonymous (already unlinked) temporary file: nothing is left behind on a crash.
    f = tempfile.TemporaryFile(dir=tmp_dir)  # noqa: SIM115 (closed by sorted_lines)
    for pk, sk, line in run:
        f.write(_HEAD.pack(len(pk), len(sk), len(line)))
        f.write(pk)
        f.write(sk)
        f.write(line)
    f.seek(0)
    return f


def _read_run(f: IO[bytes]) -> Iterator[Keyed]:
    while True:
        head = f.read(_HEAD.size)
        if not head:
            return
        a, b, c = _HEAD.unpack(head)
        yield f.read(a), f.read(b), f.read(c)
