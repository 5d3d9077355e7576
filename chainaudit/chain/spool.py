"""An on-disk spool that hands chain events back one chain at a time, in chain order.

Stores do not deliver a chain's events in chain order: a parallel DynamoDB
Scan interleaves partitions, and a dialogue's lifecycle items sort by
``event#{type}#{id}#{ts}``, not by position. The chain verifier needs each
chain's events in order (CHAIN-6), so the audit pipeline spools every
event into a temporary SQLite database and reads it back sorted by
``(chain_id, order key)``. Memory stays bounded whatever the dataset size;
disk use is linear in the number of events.

Order keys: the crypto audit log is read in stored order, i.e. by its sort
key ``event#{event_id}`` (so a verifier still sees events that are out of
order by ``seq``); a lifecycle chain is read by
:func:`chainaudit.chain.events.lifecycle_order_key` (``seq``, then ``event_id``).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from chainaudit.chain.events import is_lifecycle, lifecycle_order_key
from chainaudit.chain.merge import partition
from chainaudit.errors import local_faults
from chainaudit.records.model import AuditEvent
from chainaudit.scratch import open_scratch_db, pack_fields, unpack_fields

_BATCH = 5000
#: What a full or unusable temporary directory stops (CLI-4: exit 3, one line).
_WHAT = "the temporary chain spool"


class EventSpool:
    """Append events in any order, then iterate them grouped and ordered by chain."""

    def __init__(self, directory: str | None = None) -> None:
        self.path, self._db = open_scratch_db(
            "chainaudit-spool-",
            directory,
            _WHAT,
            [
                "CREATE TABLE ev (chain TEXT NOT NULL, part INTEGER NOT NULL, k1 INTEGER NOT NULL,"
                " k2 TEXT NOT NULL, n INTEGER NOT NULL, fields TEXT NOT NULL, origin TEXT NOT NULL)"
            ],
        )
        self._pending: list[tuple[Any, ...]] = []
        self._n = 0
        self._parts = 0

    def add(self, event: AuditEvent) -> None:
        """Spool one event; the arrival number breaks ties so duplicates are kept."""
        if is_lifecycle(event.chain_id):
            k1, k2 = lifecycle_order_key(event)
        else:
            k1, k2 = 0, str(event.fields.get("event_id"))
        self._pending.append(
            (
                event.chain_id,
                0,
                k1,
                k2,
                self._n,
                pack_fields(event.fields),
                event.origin,
            )
        )
        self._n += 1
        if len(self._pending) >= _BATCH:
            self._flush()

    def __len__(self) -> int:
        return self._n

    def _flush(self) -> None:
        if self._pending:
            with local_faults(self.path.parent, _WHAT):
                self._db.executemany("INSERT INTO ev VALUES (?,?,?,?,?,?,?)", self._pending)
            self._pending.clear()

    def seal(self, partitions: int = 1) -> None:
        """Finish writing: assign each chain its worker partition and index the table."""
        self._flush()
        with local_faults(self.path.parent, _WHAT):
            if partitions > 1:
                self._db.create_function("part", 1, lambda c: partition(c, partitions))
                self._db.execute("UPDATE ev SET part = part(chain)")
            self._parts = partitions
            self._db.execute("CREATE INDEX ev_order ON ev (part, chain, k1, k2, n)")
            self._db.commit()

    def events(self, part: int | None = None) -> Iterator[AuditEvent]:
        """Events grouped by chain, each chain in chain order (optionally one partition)."""
        return read_spool(self.path, part)

    def chains(self) -> int:
        """How many distinct chains were spooled."""
        self._flush()
        with local_faults(self.path.parent, _WHAT):
            row = self._db.execute("SELECT COUNT(DISTINCT chain) FROM ev").fetchone()
        return int(row[0])

    def close(self) -> None:
        """Delete the spool file."""
        self._db.close()
        self.path.unlink(missing_ok=True)

    def __enter__(self) -> EventSpool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def read_spool(path: Path, part: int | None = None) -> Iterator[AuditEvent]:
    """Read a sealed spool file (also from a worker process, which gets only the path)."""
    with local_faults(Path(path).parent, _WHAT):
        db = sqlite3.connect(path)
    try:
        sql = "SELECT chain, fields, origin FROM ev"
        args: tuple[Any, ...] = ()
        if part is not None:
            sql += " WHERE part = ?"
            args = (part,)
        sql += " ORDER BY part, chain, k1, k2, n"
        with local_faults(Path(path).parent, _WHAT):
            for chain, fields, origin in db.execute(sql, args):
                yield AuditEvent(chain, unpack_fields(fields), origin)
    finally:
        db.close()
