"""Real-server plumbing for the end-to-end tests: namespaces, URLs, tampering.

The tests drive chainaudit only through its command line; this module does
what an *attacker or operator* does to the stores behind its back: create
an isolated schema or table, copy data in, and change bytes directly with
SQL or DynamoDB calls. Nothing here calls a verifier.

PostgreSQL namespaces are schemas reached through the DSN's ``options``
(``-c search_path=...``), written as a ``postgresql://`` URL because that is
the form the CLI accepts.
"""

from __future__ import annotations

import contextlib
import hashlib
import uuid
from collections.abc import Iterable, Iterator
from typing import Any
from urllib.parse import quote, urlencode, urlsplit, urlunsplit

import boto3
import psycopg
from psycopg.types.json import Jsonb

from chainaudit.chain.events import chain_event_from_entity, event_hash
from chainaudit.findings import Finding
from chainaudit.records.address import Address
from chainaudit.records.item import item_from_record
from chainaudit.records.model import EntityRecord, Record
from chainaudit.sources import SourceItem
from chainaudit.sources.dynamodb import DynamoDBStore
from chainaudit.sources.postgres import PostgresStore

REGION = "us-east-1"
#: dynalite ignores credentials, but botocore refuses to sign without some.
AWS_ENV = {
    "AWS_ACCESS_KEY_ID": "test",
    "AWS_SECRET_ACCESS_KEY": "test",
    "AWS_DEFAULT_REGION": REGION,
}
ENVELOPE_COLUMNS = ("content_encrypted", "content_nonce", "key_id", "aad_hash", "envelope_version")


# --- PostgreSQL -----------------------------------------------------------------


def schema_url(server_url: str, schema: str) -> str:
    """``server_url`` (a ``postgresql://`` URL) with ``search_path`` set to ``schema``."""
    parts = urlsplit(server_url)
    query = urlencode({"options": f"-c search_path={schema}"}, quote_via=quote)
    return urlunsplit((parts.scheme, parts.netloc, parts.path, query, ""))


@contextlib.contextmanager
def pg_schema(server_url: str) -> Iterator[str]:
    """A fresh, empty schema (dropped afterwards); yields its URL."""
    schema = f"e2e_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    try:
        yield schema_url(server_url, schema)
    finally:
        with psycopg.connect(server_url, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


def records_of(items: Iterable[SourceItem]) -> Iterator[Record]:
    for item in items:
        assert not isinstance(item, Finding), item
        yield item


def copy_pg(from_url: str, to_url: str) -> None:
    """Copy every row of one schema into another (through the store, verbatim)."""
    target = PostgresStore(to_url)
    target.create_schema()
    report = target.import_records(records_of(PostgresStore(from_url).read()))
    assert not report.conflicts, report.conflicts


def fill_pg(url: str, records: Iterable[Record]) -> None:
    target = PostgresStore(url)
    target.create_schema()
    report = target.import_records(records)
    assert not report.conflicts, report.conflicts


def pg_fingerprint(url: str) -> str:
    """SHA-256 over every row of the three tables, in key order: equal iff nothing changed."""
    h = hashlib.sha256()
    with psycopg.connect(url) as conn:
        for table, key in (
            ("entities", "dialogue_id, entity_type, subkey"),
            ("wrapped_deks", "dialogue_id, version"),
            ("audit_events", "chain_id, event_id"),
        ):
            for row in conn.execute(f"SELECT t::text FROM {table} t ORDER BY {key}"):
                h.update(row[0].encode("utf-8") + b"\n")
            h.update(b"--\n")
    return h.hexdigest()


def pg_count(url: str, table: str) -> int:
    with psycopg.connect(url) as conn:
        row = conn.execute(f"SELECT count(*) FROM {table}").fetchone()
    assert row is not None
    return int(row[0])


def _where(address: Address) -> tuple[str, tuple[str, str, str]]:
    return (
        "dialogue_id = %s AND entity_type = %s AND subkey = %s",
        (address.dialogue, address.entity_type.value, address.subkey),
    )


def flip_ciphertext_bit(url: str, address: Address, byte: int = 5, bit: int = 0) -> None:
    """One changed bit in the stored ciphertext of ``address``: what a disk, a bug or a person does."""
    cond, params = _where(address)
    with psycopg.connect(url) as conn:
        cur = conn.execute(
            "UPDATE entities SET content_encrypted = set_byte(content_encrypted, %s, "
            f"get_byte(content_encrypted, %s) # %s) WHERE {cond}",
            (byte, byte, 1 << bit, *params),
        )
        assert cur.rowcount == 1, address


def flip_wrapped_key_bit(url: str, dialogue: str, version: int, byte: int = 3) -> None:
    """One changed bit in a stored wrapped DEK."""
    with psycopg.connect(url) as conn:
        cur = conn.execute(
            "UPDATE wrapped_deks SET wrapped_key = set_byte(wrapped_key, %s, "
            "get_byte(wrapped_key, %s) # 1) WHERE dialogue_id = %s AND version = %s",
            (byte, byte, dialogue, version),
        )
        assert cur.rowcount == 1, (dialogue, version)


def set_cleartext(url: str, address: Address, name: str, value: str) -> None:
    """Set a cleartext string attribute (typed JSON ``{"S": ...}``) of an entity row."""
    cond, params = _where(address)
    with psycopg.connect(url) as conn:
        cur = conn.execute(
            f"UPDATE entities SET attributes = attributes || %s WHERE {cond}",
            (Jsonb({name: {"S": value}}), *params),
        )
        assert cur.rowcount == 1, address


def delete_entity(url: str, address: Address) -> None:
    cond, params = _where(address)
    with psycopg.connect(url) as conn:
        assert conn.execute(f"DELETE FROM entities WHERE {cond}", params).rowcount == 1


def move_envelope(url: str, source: Address, target: Address) -> None:
    """Copy the envelope columns of ``source`` over those of ``target`` (a moved ciphertext)."""
    scond, sparams = _where(source)
    tcond, tparams = _where(target)
    cols = ", ".join(ENVELOPE_COLUMNS)
    with psycopg.connect(url) as conn:
        row = conn.execute(f"SELECT {cols} FROM entities WHERE {scond}", sparams).fetchone()
        assert row is not None and row[0] is not None, source
        sets = ", ".join(f"{c} = %s" for c in ENVELOPE_COLUMNS)
        cur = conn.execute(f"UPDATE entities SET {sets} WHERE {tcond}", (*row, *tparams))
        assert cur.rowcount == 1, target


def insert_ref(url: str, address: Address) -> None:
    """A record nobody migrated: a ref entity (refs carry no envelope) written directly."""
    _, params = _where(address)
    with psycopg.connect(url) as conn:
        conn.execute(
            "INSERT INTO entities (dialogue_id, entity_type, subkey, attributes) "
            "VALUES (%s, %s, %s, %s)",
            (*params, Jsonb({"entity_type": {"S": address.entity_type.value}})),
        )


def audit_events(url: str, chain_id: str) -> list[dict[str, Any]]:
    """The stored fields of every event of an audit-log chain, in stored order."""
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "SELECT fields FROM audit_events WHERE chain_id = %s ORDER BY event_id", (chain_id,)
        ).fetchall()
    return [dict(r[0]) for r in rows]


def rewrite_audit_event(url: str, chain_id: str, event_id: str, fields: dict[str, Any]) -> None:
    """Replace one audit event's stored fields, past the append-only triggers.

    The triggers (STORE-4) stop clients, not a superuser:
    ``session_replication_role = replica`` skips ordinary triggers, which is
    exactly the access an insider with database admin rights has.
    """
    with psycopg.connect(url) as conn:
        conn.execute("SET session_replication_role = replica")
        cur = conn.execute(
            "UPDATE audit_events SET event_id = %s, fields = %s WHERE chain_id = %s AND event_id = %s",
            (fields["event_id"], Jsonb(fields), chain_id, event_id),
        )
        assert cur.rowcount == 1, (chain_id, event_id)


def lifecycle_boundary(url: str, dialogue: str) -> tuple[Address, dict[str, Any]]:
    """The boundary event of ``dialogue``'s lifecycle chain in the target: its address
    and its chain-event fields (CHAIN-5)."""
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "SELECT subkey FROM entities WHERE dialogue_id = %s AND entity_type = 'event' "
            "AND attributes ? 'event_kind'",
            (dialogue,),
        ).fetchall()
    assert len(rows) == 1, rows
    address = Address.from_sql(dialogue, "event", rows[0][0])
    for item in PostgresStore(url).read_dialogue(dialogue):
        if isinstance(item, EntityRecord) and item.address == address:
            event = chain_event_from_entity(item)
            assert not isinstance(event, Finding), event
            return address, dict(event.fields)
    raise AssertionError(f"{address} not read back")


def rewrite_lifecycle_event(url: str, address: Address, fields: dict[str, Any]) -> None:
    """Store ``fields`` (minus those the address holds) as the event item's typed attributes,
    past the append-only trigger on event entities (see :func:`rewrite_audit_event`)."""
    attrs: dict[str, Any] = {}
    for name, value in fields.items():
        if name in ("entity_type", "entity_id", "timestamp"):
            continue
        if value is None:
            attrs[name] = {"NULL": True}
        elif isinstance(value, int):
            attrs[name] = {"N": str(value)}
        else:
            attrs[name] = {"S": value}
    cond, params = _where(address)
    with psycopg.connect(url) as conn:
        conn.execute("SET session_replication_role = replica")
        cur = conn.execute(
            f"UPDATE entities SET attributes = attributes || %s WHERE {cond}",
            (Jsonb(attrs), *params),
        )
        assert cur.rowcount == 1, address


def delete_audit_events(url: str, chain_id: str, event_ids: list[str]) -> None:
    """Delete audit events past the append-only triggers (see :func:`rewrite_audit_event`)."""
    with psycopg.connect(url) as conn:
        conn.execute("SET session_replication_role = replica")
        cur = conn.execute(
            "DELETE FROM audit_events WHERE chain_id = %s AND event_id = ANY(%s)",
            (chain_id, event_ids),
        )
        assert cur.rowcount == len(event_ids), event_ids


def reseal(fields: dict[str, Any]) -> dict[str, Any]:
    """``fields`` with a correct ``event_hash`` (hashes are keyless: anyone can do this)."""
    out = dict(fields)
    out["event_hash"] = event_hash({k: v for k, v in out.items() if k != "event_hash"})
    return out


# --- DynamoDB -------------------------------------------------------------------


def ddb_client(endpoint: str) -> Any:
    return boto3.client(
        "dynamodb",
        endpoint_url=endpoint,
        region_name=REGION,
        aws_access_key_id="test",
        aws_secret_access_key="test",
    )


def ddb_store(endpoint: str, table: str) -> DynamoDBStore:
    return DynamoDBStore(
        table,
        endpoint_url=endpoint,
        region=REGION,
        access_key_id="test",
        secret_access_key="test",
    )


@contextlib.contextmanager
def ddb_table(endpoint: str) -> Iterator[str]:
    """A unique table name; the table (if created) is deleted afterwards."""
    name = f"e2e_{uuid.uuid4().hex[:12]}"
    try:
        yield name
    finally:
        client = ddb_client(endpoint)
        with contextlib.suppress(client.exceptions.ResourceNotFoundException):
            client.delete_table(TableName=name)


def fill_ddb(endpoint: str, table: str, records: Iterable[Record]) -> None:
    """Create ``table`` and write ``records`` as items with plain BatchWriteItem.

    Setup only: this is how another writer (the audited service) fills a
    table, and 25 items a request is many times faster on dynalite than the
    store's conditional one-put-per-item import, which the story tests.
    """
    ddb_store(endpoint, table).create_table(wait_delay=0.05)
    client = ddb_client(endpoint)
    items = [item_from_record(r) for r in records]
    for start in range(0, len(items), 25):
        requests = [{"PutRequest": {"Item": item}} for item in items[start : start + 25]]
        while requests:
            resp = client.batch_write_item(RequestItems={table: requests})
            requests = resp.get("UnprocessedItems", {}).get(table, [])


def ddb_delete(endpoint: str, table: str, pk: str, sk: str) -> None:
    resp = ddb_client(endpoint).delete_item(
        TableName=table, Key={"pk": {"S": pk}, "sk": {"S": sk}}, ReturnValues="ALL_OLD"
    )
    assert "Attributes" in resp, (pk, sk)


def ddb_move_envelope(endpoint: str, table: str, source: Address, target: Address) -> None:
    """Copy the envelope attributes of ``source``'s item over ``target``'s (in DynamoDB)."""
    client = ddb_client(endpoint)

    def key(a: Address) -> dict[str, Any]:
        return {
            "pk": {"S": f"dialogue#{a.dialogue}"},
            "sk": {"S": f"{a.entity_type.value}#{a.subkey}"},
        }

    src = client.get_item(TableName=table, Key=key(source), ConsistentRead=True)["Item"]
    dst = client.get_item(TableName=table, Key=key(target), ConsistentRead=True)["Item"]
    for name in ENVELOPE_COLUMNS:
        if name in src:
            dst[name] = src[name]
    client.put_item(TableName=table, Item=dst)


def ddb_count(endpoint: str, table: str) -> int:
    """Items in ``table`` (one Scan COUNT; the test tables are small)."""
    resp = ddb_client(endpoint).scan(TableName=table, Select="COUNT", ConsistentRead=True)
    assert "LastEvaluatedKey" not in resp
    return int(resp["Count"])
