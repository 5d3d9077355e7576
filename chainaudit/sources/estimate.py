"""How many items a source will yield, when it can be known cheaply (for progress).

Progress needs a total to show a percentage and an ETA. Each kind of source
knows it differently, and none of these reads the data:

* a chainaudit NDJSON export (plain): the trailer's counts, read from the
  file's last line by seeking to its end (a ``.gz`` cannot be read
  backwards cheaply: unknown);
* a DynamoDB Export to S3: ``itemCount`` of ``manifest-summary.json``;
* a DynamoDB table: ``DescribeTable``'s ``ItemCount`` (AWS refreshes it about
  every six hours: an estimate);
* PostgreSQL: ``pg_class.reltuples`` of the reference tables (the planner's
  estimate);
* several sources: the sum, when every part is known.

An estimate is never evidence: it only draws the progress bar. Any error
while estimating means "unknown" (None), never a failed run.
"""

from __future__ import annotations

import contextlib
import json
import os
from pathlib import Path
from typing import Any

#: How far from the end of a plain export its trailer line is looked for.
_TAIL = 1 << 16


def estimate_total(source: Any) -> int | None:
    """The number of items ``source`` will yield, or None when not cheaply known."""
    with contextlib.suppress(Exception):
        parts = getattr(source, "sources", None)
        if parts is not None:
            totals = [estimate_total(p) for p in parts]
            return None if any(t is None for t in totals) else sum(t for t in totals if t)
        kind = type(source).__name__
        if kind in ("NdjsonSource", "StdinSource") and isinstance(source.path, Path):
            return _export_total(source.path)
        if kind == "DynamoDBExportSource":
            return int(source.summary()["itemCount"])
        if kind == "DynamoDBStore":
            table = source.client.describe_table(TableName=source.table)["Table"]
            return int(table.get("ItemCount", 0)) or None
        if kind == "PostgresStore":
            return _postgres_total(source)
    return None


def _export_total(path: Path) -> int | None:
    """The record count in a plain export's trailer (EXP-6), read from its end."""
    if path.suffix == ".gz" or not path.is_file():
        return None
    size = path.stat().st_size
    with path.open("rb") as f:
        f.seek(max(0, size - _TAIL), os.SEEK_SET)
        tail = f.read().rstrip(b"\n").rsplit(b"\n", 1)[-1]
    trailer = json.loads(tail)
    counts = trailer.get("counts") if isinstance(trailer, dict) else None
    if not isinstance(counts, dict):
        return None
    return sum(v for k, v in counts.items() if k != "lines" and isinstance(v, int))


#: The reference schema's tables (chainaudit/sql/schema.sql).
_PG_TABLES = ("entities", "wrapped_deks", "audit_events")


def _postgres_total(source: Any) -> int | None:
    import psycopg

    with psycopg.connect(source.dsn, connect_timeout=5) as conn:
        conn.execute("SET statement_timeout = 5000")
        row = conn.execute(
            "SELECT sum(greatest(c.reltuples, 0))::bigint FROM pg_class c "
            "WHERE c.oid = ANY(ARRAY[to_regclass(%s), to_regclass(%s), to_regclass(%s)])",
            _PG_TABLES,
        ).fetchone()
    return int(row[0]) if row and row[0] else None
