"""Pick the source adapter for a spec given on the command line (EXP-11).

================================================  =========================
spec                                              adapter
================================================  =========================
``*.ndjson``, ``*.ndjson.gz``                     :class:`NdjsonSource`
directory with ``manifest-summary.json``          :class:`DynamoDBExportSource`
``*.copy.json``, ``*.jsonl`` (optionally ``.gz``) :class:`PgCopySource`
directory of ``*.copy.json`` / ``*.jsonl`` files  :class:`PgCopyDirSource`
================================================  =========================

Store URLs (``postgresql://``, ``dynamodb://``) are handled by the store
adapters' branches below. ``options`` are passed to the adapter's
constructor (e.g. ``table=``/``escaping=`` for COPY files,
``max_line_bytes=`` for every file adapter).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from chainaudit.errors import InputError
from chainaudit.sources import Source, SourceItem
from chainaudit.sources.ddb_export import DynamoDBExportSource, is_export_dir
from chainaudit.sources.ndjson import NdjsonSource
from chainaudit.sources.pg_copy import TABLES, PgCopySource, is_pg_copy_file, table_of


class PgCopyDirSource:
    """Every COPY file of a directory, in schema table order, as one source.

    A PostgreSQL dump is one file per table; reading them together gives the
    whole store (entities, then wrapped DEKs, then audit events).
    """

    #: REP-4: which export checks apply to this source.
    kind = "copy"
    #: REP-7: what this source itself offers against a removed record.
    integrity_basis = (
        "nothing signed: the COPY files' own contents only"
    )

    def __init__(self, directory: Path | str, **options: Any) -> None:
        self.directory = Path(directory)
        files = [p for p in sorted(self.directory.iterdir()) if is_pg_copy_file(p)]
        order = list(TABLES)
        by_table: dict[str, list[Path]] = {}
        for p in files:
            by_table.setdefault(table_of(p)[0], []).append(p)
        unknown = sorted(set(by_table) - set(order))
        if unknown:
            raise InputError(str(self.directory), f"COPY file(s) for unknown table(s) {unknown}")
        self.sources = [PgCopySource(p, **options) for t in order for p in by_table.get(t, [])]

    def describe(self) -> str:
        return f"pg-copy:{self.directory}"

    def read(self) -> Iterator[SourceItem]:
        for source in self.sources:
            yield from source.read()


def open_source(spec: str, **options: Any) -> Source:
    """The source adapter for ``spec``; :class:`InputError` when none fits."""
    if "://" in spec:
        scheme = spec.split("://", 1)[0]
        # Store URLs: postgresql:// and dynamodb:// are added by the store adapters.
        raise InputError(spec, f"no adapter for {scheme}:// URLs")
    path = Path(spec)
    if not path.exists():
        raise InputError(spec, "no such file or directory")
    if path.is_dir():
        if is_export_dir(path):
            return DynamoDBExportSource(path, **options)
        if any(is_pg_copy_file(p) for p in path.iterdir()):
            return PgCopyDirSource(path, **options)
        raise InputError(
            spec, "directory is neither a DynamoDB export nor a set of PostgreSQL COPY files"
        )
    name = path.name.removesuffix(".gz")
    if name.endswith(".ndjson"):
        return NdjsonSource(path, **options)
    if is_pg_copy_file(path):
        return PgCopySource(path, **options)
    raise InputError(
        spec, "cannot tell the format: expected .ndjson, .copy.json or .jsonl (optionally .gz)"
    )
