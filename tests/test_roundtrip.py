"""DynamoDB -> NDJSON export -> PostgreSQL -> NDJSON export is byte-identical (STORE-8).

The migration path of the brief, through both real servers: records are
copied verbatim (no key is used to move them), the two exports are the same
file byte for byte, and every envelope still opens, with the same key and
the same address, in every store it passed through.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from conformance.records import TEST_DEK, many_records, sample_records

from chainaudit.envelope.seal import open_envelope
from chainaudit.findings import Finding
from chainaudit.records.model import EntityRecord, Record
from chainaudit.sources import Source
from chainaudit.sources.dynamodb import DynamoDBStore
from chainaudit.sources.migration import export_encrypted_batch, import_encrypted_batch
from chainaudit.sources.ndjson import NdjsonSource, write_export
from chainaudit.sources.postgres import PostgresStore

HEADER = {"source": "migration-test", "created_at": "2026-01-01T00:00:00Z"}


def _records(source: Source) -> list[Record]:
    out: list[Record] = []
    for rec in source.read():
        assert not isinstance(rec, Finding), rec
        out.append(rec)
    return out


def _envelopes_open(records: list[Record]) -> int:
    opened = 0
    for rec in records:
        if isinstance(rec, EntityRecord) and rec.envelope is not None:
            open_envelope(rec.address, rec.envelope, TEST_DEK)  # raises if not authentic
            opened += 1
    return opened


def test_dynamodb_to_ndjson_to_postgres_to_ndjson_is_byte_identical(
    tmp_path: Path,
    dynamodb_options: dict[str, Any],
    dynamodb_table_name: str,
    pg_dsn: str,
) -> None:
    original = [*sample_records(), *many_records(120)]
    sealed = _envelopes_open(original)

    ddb = DynamoDBStore(dynamodb_table_name, **dynamodb_options, segments=2, page_size=25)
    ddb.create_table(wait_delay=0.05)
    assert import_encrypted_batch(ddb, original).written == len(original)
    assert _envelopes_open(_records(ddb)) == sealed

    first = tmp_path / "from-dynamodb.ndjson"
    write_export(first, export_encrypted_batch(ddb), **HEADER)
    exported = _records(NdjsonSource(first))
    assert _envelopes_open(exported) == sealed

    pg = PostgresStore(pg_dsn, fetch_size=50, batch_size=40)
    pg.create_schema()
    report = import_encrypted_batch(pg, exported)
    assert (report.written, report.conflicts) == (len(original), [])
    assert _envelopes_open(_records(pg)) == sealed

    second = tmp_path / "from-postgres.ndjson"
    write_export(second, export_encrypted_batch(pg), **HEADER)
    assert first.read_bytes() == second.read_bytes()

    # And back again: the migration is idempotent in both directions.
    assert import_encrypted_batch(ddb, _records(NdjsonSource(second))).written == 0


def test_sample_dataset_migrates_with_chains_bridged(
    tmp_path: Path,
    dynamodb_options: dict[str, Any],
    dynamodb_table_name: str,
    pg_dsn: str,
) -> None:
    """The realistic sample (rotation, shredding, escaped ids, a chain that
    already crossed one boundary) moves DynamoDB -> NDJSON -> PostgreSQL
    verbatim, every chain is bridged by a signed boundary, and the chain
    layer proves continuity across the two live stores (CHAIN-14)."""
    from chainaudit.keys.signing import TrustStore, public_bytes
    from chainaudit.migration.bridge import boundary_records, chain_tips
    from chainaudit.migration.continuity import verify_chain_continuity
    from chainaudit.sample import build_sample

    sample = build_sample()
    assert sample.signer is not None
    ddb = DynamoDBStore(dynamodb_table_name, **dynamodb_options, segments=3, page_size=20)
    ddb.create_table(wait_delay=0.05)
    loaded = import_encrypted_batch(ddb, sample.records)
    assert (loaded.written, loaded.conflicts) == (len(sample.records), [])

    export = tmp_path / "sample.ndjson.gz"
    write_export(export, export_encrypted_batch(ddb), **HEADER)
    pg = PostgresStore(pg_dsn, fetch_size=16, batch_size=16)
    pg.create_schema()
    moved = import_encrypted_batch(pg, _records(NdjsonSource(export)))
    assert (moved.written, moved.conflicts) == (len(sample.records), [])

    trust = TrustStore.of([public_bytes(sample.signer)])
    unbridged = verify_chain_continuity(ddb, pg, trust)
    assert "CHAIN_BOUNDARY_MISSING" in unbridged.codes()

    tips = chain_tips(_records(pg))
    assert tips, "the sample has chains"
    bounds = list(
        boundary_records(
            tips,
            sample.signer,
            time="2026-06-01T00:00:00.000Z",
            source_backend="dynamodb",
            target_backend="postgresql",
        )
    )
    assert import_encrypted_batch(pg, bounds).written == len(bounds) == len(tips)
    # Re-bridging is idempotent: same bytes, nothing written.
    assert import_encrypted_batch(pg, bounds).written == 0

    result = verify_chain_continuity(ddb, pg, trust)
    assert result.ok, [str(f) for f in result.findings]
