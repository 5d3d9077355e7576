"""Store factories for the conformance suite: one interface, every store.

Each factory makes a fresh, empty, isolated store (its own PostgreSQL schema,
DynamoDB table or file) that can import records and read them back. Small
batch and page sizes make every test cross batch and page boundaries.

The NDJSON store is a file written whole by ``chainaudit.sources.ndjson``:
its import merges the file's records with the incoming ones under the same
rules as the live stores (shared helpers in ``chainaudit.sources.migration``)
and replaces the file atomically, so an interrupted import leaves the old
file and a re-run completes it.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Protocol

from chainaudit.findings import Finding
from chainaudit.records.item import item_from_record
from chainaudit.records.model import Record
from chainaudit.sources import ImportReport, SourceItem
from chainaudit.sources.migration import dedupe_batch, record_key, settle_existing
from chainaudit.sources.ndjson import NdjsonSource, write_export


class StoreUnderTest(Protocol):
    def describe(self) -> str: ...

    def read(self) -> Iterator[SourceItem]: ...

    def import_records(self, records: Iterable[Record]) -> ImportReport: ...


class NdjsonFileStore:
    """An NDJSON export file used as a store (whole-file atomic rewrite)."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def describe(self) -> str:
        return f"ndjson:{self.path.name}"

    def read(self) -> Iterator[SourceItem]:
        if not self.path.exists():
            return iter(())
        return NdjsonSource(self.path).read()

    def import_records(self, records: Iterable[Record]) -> ImportReport:
        report = ImportReport()
        existing: dict[tuple[str, str], Record] = {}
        for rec in self.read():
            if isinstance(rec, Finding):
                raise AssertionError(f"existing export is not clean: {rec}")
            existing[record_key(item_from_record(rec))] = rec
        incoming = list(records)  # an interruption raises here: the file is untouched
        items = dedupe_batch(incoming, report, self.describe())
        new: list[Record] = []
        by_key = {record_key(item_from_record(r)): r for r in reversed(incoming)}
        for key, item in items.items():
            if key in existing:
                settle_existing(key, item_from_record(existing[key]), item, report, self.describe())
            else:
                new.append(by_key[key])
                report.written += 1
        if new or not self.path.exists():
            write_export(
                self.path,
                [*existing.values(), *new],
                source="conformance",
                created_at="2026-01-01T00:00:00Z",
            )
        return report
