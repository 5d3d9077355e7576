"""The migration surface shared by every store (STORE-7, STORE-8).

Two operations, the same for DynamoDB, PostgreSQL and NDJSON files:

* :func:`export_encrypted_batch` streams the records of a source (all, or
  only some dialogues) exactly as stored: no decryption, no re-encryption,
  no key is needed or used;
* :func:`import_encrypted_batch` hands records to a sink, which writes the
  absent ones, skips identical ones and reports differing ones as
  ``IMPORT_CONFLICT`` without overwriting them.

Chain continuity across a migration (CHAIN-14) is the migration layer's:
:func:`chainaudit.migration.continuity.verify_chain_continuity`.

The import semantics are defined once here so that every sink behaves the
same: the result of importing a sequence of records equals the result of
importing them one at a time, in order, into the store as it was (STORE-7).
This module is pure: it imports no backend library.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import tempfile
from collections.abc import Callable, Collection, Iterable, Iterator
from itertools import islice
from typing import IO, Any

from chainaudit.errors import StoreError, local_faults
from chainaudit.findings import Finding, codes
from chainaudit.records.item import (
    item_from_record,
    record_from_item,
    typed_from_json,
    typed_to_json,
)
from chainaudit.records.model import AttrValue, AuditEvent, EntityRecord, Item, Record, WrappedDek
from chainaudit.sources import ImportReport, Sink, Source

#: What a full or unusable temporary directory stops (CLI-4: exit 3, one line).
_STAGING = "the import's staging file"

#: The physical key of a record: DynamoDB's ``(pk, sk)``, which maps
#: one-to-one to the SQL key columns (ADDR-4, STORE-2).
RecordKey = tuple[str, str]


def record_key(item: Item) -> RecordKey:
    """The ``(pk, sk)`` of an item built by :func:`item_from_record`."""
    return item["pk"]["S"], item["sk"]["S"]


def item_digest(item: Item) -> str:
    """SHA-256 (hex) of the item's canonical typed JSON: a short, key-free
    fingerprint to name in a conflict (wrapped keys are never printed)."""
    doc = {name: typed_to_json(value) for name, value in item.items()}
    data = json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(data.encode("utf-8")).hexdigest()


def conflict(key: RecordKey, existing: Item, incoming: Item, sink: str) -> Finding:
    """The IMPORT_CONFLICT finding for a key whose stored item differs (STORE-7)."""
    names = sorted(
        name for name in set(existing) | set(incoming) if existing.get(name) != incoming.get(name)
    )
    return Finding(
        codes.IMPORT_CONFLICT,
        f"pk={key[0]!r} sk={key[1]!r}",
        f"{sink} already holds a different item here (differs in: {', '.join(names)}); "
        "it was not overwritten (expected = digest of the stored item, actual = of the incoming one)",
        expected=item_digest(existing),
        actual=item_digest(incoming),
        source=sink,
    )


def not_representable(key: RecordKey, reason: str, sink: str) -> Finding:
    """The IMPORT_NOT_REPRESENTABLE finding: the sink would alter the item (STORE-7)."""
    return Finding(
        codes.IMPORT_NOT_REPRESENTABLE,
        f"pk={key[0]!r} sk={key[1]!r}",
        f"{sink} cannot store this item verbatim: {reason}; it was not written",
        source=sink,
    )


def walk_values(item: Item) -> Iterator[tuple[str, str, Any]]:
    """Every scalar inside an item as ``(path, tag, value)``; attribute and map
    member names are reported with tag ``name``."""
    stack: list[tuple[str, AttrValue]] = []
    for name, value in item.items():
        yield name, "name", name
        stack.append((name, value))
    while stack:
        path, av = stack.pop()
        ((tag, val),) = av.items()
        if tag == "L":
            stack.extend((f"{path}[{i}]", v) for i, v in enumerate(val))
        elif tag == "M":
            for k, v in val.items():
                yield f"{path}.{k}", "name", k
                stack.append((f"{path}.{k}", v))
        elif tag in ("SS", "NS", "BS"):
            for member in val:
                yield path, tag[0], member
        else:
            yield path, tag, val


def batched(records: Iterable[Record], size: int) -> Iterator[list[Record]]:
    """Consecutive lists of at most ``size`` records (bounded memory)."""
    if size < 1:
        raise ValueError("batch size must be at least 1")
    it = iter(records)
    while batch := list(islice(it, size)):
        yield batch


def dedupe_batch(batch: Iterable[Record], report: ImportReport, sink: str) -> dict[RecordKey, Item]:
    """The batch's items by key, first occurrence wins (STORE-7).

    A later record with the same key and the same item counts as unchanged;
    with a different item it is a conflict, exactly as if the first had
    already been written when the second arrived.
    """
    items: dict[RecordKey, Item] = {}
    for record in batch:
        item = item_from_record(record)
        key = record_key(item)
        first = items.get(key)
        if first is None:
            items[key] = item
        elif first == item:
            report.unchanged += 1
        else:
            report.conflicts.append(conflict(key, first, item, sink))
    return items


def settle_existing(
    key: RecordKey, stored: Item, incoming: Item, report: ImportReport, sink: str
) -> None:
    """Count an already-present key as unchanged, or report the conflict."""
    if stored == incoming:
        report.unchanged += 1
    else:
        report.conflicts.append(conflict(key, stored, incoming, sink))


def _dialogue_of(record: Record) -> str:
    if isinstance(record, EntityRecord):
        return record.address.dialogue
    if isinstance(record, WrappedDek):
        return record.dialogue
    return ""


def export_encrypted_batch(
    source: Source,
    dialogues: Collection[str] | None = None,
    on_finding: Callable[[Finding], None] | None = None,
) -> Iterator[Record]:
    """Stream the source's records verbatim, optionally only some dialogues.

    ``dialogues`` are escaped dialogue ids as in addresses; audit-log events
    belong to no dialogue and are exported only when ``dialogues`` is None.
    A source that can read one dialogue directly (``read_dialogue``, e.g. a
    DynamoDB Query) is asked for exactly those; others are filtered.

    An item that does not map to a record cannot be migrated verbatim; it is
    passed to ``on_finding``, and without one the export stops with
    :class:`StoreError` rather than silently leave it behind.
    """

    def emit(items: Iterable[Any]) -> Iterator[Record]:
        for item in items:
            if isinstance(item, Finding):
                if on_finding is None:
                    raise StoreError(
                        f"{source.describe()}: cannot export {item.where}: {item.message}"
                    )
                on_finding(item)
            else:
                yield item

    if dialogues is None:
        yield from emit(source.read())
        return
    wanted = set(dialogues)
    read_dialogue = getattr(source, "read_dialogue", None)
    if callable(read_dialogue):
        for dialogue in sorted(wanted):
            yield from emit(read_dialogue(dialogue))
        return
    for record in emit(source.read()):
        if not isinstance(record, AuditEvent) and _dialogue_of(record) in wanted:
            yield record


def import_encrypted_batch(
    sink: Sink, records: Iterable[Record], *, stage: bool = False
) -> ImportReport:
    """Import records verbatim into ``sink``: idempotent, resumable, never
    overwriting (STORE-7). Conflicts are in the report, not raised.

    ``stage=True`` first copies the whole input to a temporary file (bounded
    memory) and writes nothing to the sink unless the input ended without
    an error: for inputs that can only be judged at their end, such as an
    NDJSON export whose trailer is checked last (EXP-7, STORE-8).
    """
    if not stage:
        return sink.import_records(records)
    staging = tempfile.gettempdir()
    with local_faults(staging, _STAGING):
        spool = tempfile.TemporaryFile()  # noqa: SIM115 (closed below)
    try:
        count = 0
        for record in records:  # an error here leaves the sink untouched
            doc = {k: typed_to_json(v) for k, v in item_from_record(record).items()}
            with local_faults(staging, _STAGING):
                spool.write(json.dumps(doc, ensure_ascii=False).encode("utf-8") + b"\n")
            count += 1
        with local_faults(staging, _STAGING):
            spool.flush()
            spool.seek(0)
        return sink.import_records(_unspool(spool, count))
    finally:
        with contextlib.suppress(OSError):  # unflushed staging data is discarded anyway
            spool.close()


def _unspool(spool: IO[bytes], count: int) -> Iterator[Record]:
    """The records written by :func:`import_encrypted_batch`'s staging, in order."""
    seen = 0
    for n, line in enumerate(spool, 1):
        doc = json.loads(line)
        item = {k: typed_from_json(v, k) for k, v in doc.items()}
        record = record_from_item(item, f"staging:{n}")
        if isinstance(record, Finding):  # MODEL-8 says this cannot happen
            raise StoreError(f"staged record {n} did not map back: {record.message}")
        seen += 1
        yield record
    if seen != count:
        raise StoreError(f"staging file holds {seen} records, {count} were written")

