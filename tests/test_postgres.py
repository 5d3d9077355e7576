"""PostgreSQL adapter tests against the real server scripts/test.sh starts (STORE-3, STORE-4)."""

from __future__ import annotations

import json

import psycopg
import pytest
from conformance.records import many_records, sample_records
from hypothesis import given, settings
from hypothesis import strategies as st

from chainaudit.errors import StoreError
from chainaudit.findings import Finding, codes
from chainaudit.records.model import EntityRecord
from chainaudit.sources.postgres import PostgresStore, create_schema, schema_sql


def test_postgres_is_a_real_postgresql_15(pg_dsn: str) -> None:
    with psycopg.connect(pg_dsn) as conn:
        row = conn.execute("SHOW server_version_num").fetchone()
    assert row is not None
    assert 150000 <= int(row[0]) < 160000


@pytest.fixture()
def store(pg_dsn: str) -> PostgresStore:
    s = PostgresStore(pg_dsn, fetch_size=10, batch_size=8)
    s.create_schema()
    return s


def test_schema_creation_is_idempotent_and_versioned(pg_dsn: str, store: PostgresStore) -> None:
    store.create_schema()
    with psycopg.connect(pg_dsn) as conn:
        create_schema(conn)
        assert conn.execute("SELECT version FROM chainaudit_schema").fetchall() == [(1,)]
    assert "CREATE TABLE IF NOT EXISTS entities" in schema_sql()


def test_reading_without_the_schema_is_a_store_error(pg_dsn: str) -> None:
    with pytest.raises(StoreError, match="no chainaudit schema"):
        list(PostgresStore(pg_dsn).read())


@pytest.mark.parametrize(
    "statement",
    [
        'UPDATE audit_events SET fields = fields || \'{"outcome": "denied"}\'',
        "DELETE FROM audit_events",
        "TRUNCATE audit_events",
        "UPDATE entities SET attributes = '{}' WHERE entity_type = 'event'",
        "DELETE FROM entities WHERE entity_type = 'event'",
    ],
)
def test_audit_records_are_append_only_in_the_database(
    pg_dsn: str, store: PostgresStore, statement: str
) -> None:
    store.import_records(sample_records())
    with psycopg.connect(pg_dsn) as conn, pytest.raises(psycopg.errors.InsufficientPrivilege):
        conn.execute(statement)
    # Nothing changed.
    again = store.import_records(sample_records())
    assert again.written == 0 and again.conflicts == []


def test_other_entities_stay_updatable(pg_dsn: str, store: PostgresStore) -> None:
    """Only audit records are append-only; a live store updates entities."""
    store.import_records(sample_records())
    with psycopg.connect(pg_dsn) as conn:
        cur = conn.execute("UPDATE entities SET attributes = '{}' WHERE entity_type = 'claim'")
        assert cur.rowcount > 0


def test_reads_stream_through_a_server_side_cursor(pg_dsn: str, store: PostgresStore) -> None:
    store.import_records(many_records(60))
    rows = store.read()
    first = [next(rows) for _ in range(3)]
    assert all(isinstance(r, EntityRecord) for r in first)
    with psycopg.connect(pg_dsn, autocommit=True) as conn:
        queries = [
            q
            for (q,) in conn.execute(
                "SELECT query FROM pg_stat_activity WHERE state = 'idle in transaction'"
            )
        ]
    # The reader's last statement fetched one bounded batch from a named cursor.
    assert any(q.startswith("FETCH FORWARD 10 FROM") for q in queries), queries
    assert sum(1 for _ in rows) == 57


def test_a_row_that_is_not_a_record_is_a_finding_naming_the_row(
    pg_dsn: str, store: PostgresStore
) -> None:
    with psycopg.connect(pg_dsn) as conn:
        conn.execute(
            "INSERT INTO entities (dialogue_id, entity_type, subkey) VALUES ('d', 'nosuch', 'x')"
        )
        conn.execute(
            "INSERT INTO entities (dialogue_id, entity_type, subkey, attributes)"
            " VALUES ('d', 'claim', '01#02', '{\"a\": {\"Q\": 1}}')"
        )
    got = list(store.read())
    assert [f.code for f in got if isinstance(f, Finding)] == [
        codes.RECORD_MALFORMED,
        codes.ADDRESS_INVALID,
    ]
    assert "'nosuch'" in got[1].where


def test_text_postgres_cannot_hold_is_refused_not_altered(store: PostgresStore) -> None:
    record = next(r for r in sample_records() if isinstance(r, EntityRecord))
    odd = EntityRecord(record.address, {"note": {"S": "nul\x00byte"}}, record.envelope)
    report = store.import_records([odd, *sample_records()[1:]])
    assert [f.code for f in report.conflicts] == [codes.IMPORT_NOT_REPRESENTABLE]
    assert report.written == len(sample_records()) - 1


def test_an_unreachable_server_is_a_store_error() -> None:
    store = PostgresStore("postgresql://postgres@127.0.0.1:9/postgres?connect_timeout=2")
    with pytest.raises(StoreError, match="cannot connect"):
        list(store.read())


def test_export_refuses_to_leave_an_unmappable_row_behind(
    pg_dsn: str, store: PostgresStore
) -> None:
    from chainaudit.sources.migration import export_encrypted_batch

    store.import_records(sample_records())
    with psycopg.connect(pg_dsn) as conn:
        conn.execute(
            "INSERT INTO entities (dialogue_id, entity_type, subkey) VALUES ('d-1', 'nosuch', 'x')"
        )
    with pytest.raises(StoreError, match="cannot export"):
        list(export_encrypted_batch(store))
    seen: list[Finding] = []
    records = list(export_encrypted_batch(store, dialogues=["d-1"], on_finding=seen.append))
    assert [f.code for f in seen] == [codes.ADDRESS_INVALID]
    assert len(records) == 13


def test_an_attribute_named_like_a_key_column_is_malformed_not_a_new_key() -> None:
    """A row whose attributes carry 'pk' (or an envelope name) must not replace the key
    the columns give: it is RECORD_MALFORMED naming the row, as in the COPY reader."""
    from chainaudit.findings import Finding
    from chainaudit.sources.postgres import row_to_source_item

    for name in ("pk", "sk", "content_nonce"):
        got = row_to_source_item(
            "entities",
            ("d-1", "meta", "", {name: {"S": "dialogue#other"}}, None, None, None, None, None),
        )
        assert isinstance(got, Finding) and got.code.name == "RECORD_MALFORMED", got
        assert "collides" in got.message
    event = row_to_source_item("audit_events", ("log", "e-1", {"event_id": "e-1", "pk": "audit#x"}))
    assert isinstance(event, Finding) and event.code.name == "RECORD_MALFORMED"


_PLAIN = st.one_of(
    st.none(),
    st.booleans(),
    st.text(max_size=6),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False, allow_infinity=False),
)
_DOC = st.recursive(
    _PLAIN,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner, max_size=3),
    max_leaves=8,
)


@settings(max_examples=300)
@given(st.dictionaries(st.text(max_size=5), _DOC, max_size=4))
def test_the_jsonb_loader_reads_every_column_value_as_the_strict_reader(doc: dict) -> None:
    """For all jsonb texts: the fast reader's value is the strict reader's, with
    the same types (an integer beyond 64 bits stays an integer, not a float)."""
    from chainaudit.primitives import strictjson
    from chainaudit.sources.postgres import _load_jsonb

    text = json.dumps(doc)
    got = _load_jsonb(text.encode())
    expected = strictjson.loads(text, unique=False)
    assert got == expected
    assert json.dumps(got) == json.dumps(expected)  # 1 and 1.0 print differently
