"""One read of the live stores (CLI-5): PostgreSQL and DynamoDB are read grouped.

PostgreSQL hands its rows on in key order (the audit log, then each
dialogue's entities and wrapped DEKs merged by sort key), DynamoDB each
partition's items together although parallel Scan segments interleave
their pages. ``verify`` then reads each store once, keys or not, and
reports exactly what a spooled read of the same store reports.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from chainaudit.audit import AuditOptions, audit
from chainaudit.keys.signing import TrustStore, public_bytes
from chainaudit.records.model import EntityRecord, Record, WrappedDek
from chainaudit.report.assurance import Evidence
from chainaudit.sample import Sample, build_sample, iter_records
from chainaudit.sources import SourceItem
from chainaudit.sources.dynamodb import DynamoDBStore
from chainaudit.sources.postgres import PostgresStore


@pytest.fixture(scope="module")
def sample() -> Sample:
    return build_sample()


class Counting:
    """A store, counting its reads; ``grouped`` says which way it is read."""

    def __init__(self, store: Any, grouped: bool) -> None:
        self.store, self.grouped, self.reads = store, grouped, 0

    def describe(self) -> str:
        return str(self.store.describe())

    def read(self) -> Iterator[SourceItem]:
        self.reads += 1
        return iter(self.store.read())


def _options(sample: Sample, keyed: bool) -> AuditOptions:
    assert sample.signer is not None and sample.erasure_signer is not None
    trust = TrustStore.of([public_bytes(sample.signer), public_bytes(sample.erasure_signer)])
    return AuditOptions(umk=sample.umk if keyed else None, trust=trust)


def _same_either_way(store: Any, sample: Sample) -> None:
    for keyed in (False, True):
        grouped, spooled = Counting(store, True), Counting(store, False)
        ev_g, ev_s = Evidence(), Evidence()
        got = audit(grouped, _options(sample, keyed), evidence=ev_g)
        want = audit(spooled, _options(sample, keyed), evidence=ev_s)
        assert [f.to_json() for f in got.findings] == [f.to_json() for f in want.findings]
        assert got.checked == want.checked and ev_g == ev_s
        assert grouped.reads == 1 and spooled.reads == 1
        assert got.checked["records"] == len(list(iter_records(sample)))


def _tampered(sample: Sample) -> list[Record]:
    """The sample with one ciphertext changed: findings to compare, too."""
    records = list(iter_records(sample))
    for i, r in enumerate(records):
        if isinstance(r, EntityRecord) and r.envelope is not None and i % 7 == 3:
            env = r.envelope
            flipped = bytes([env.ciphertext[0] ^ 1]) + env.ciphertext[1:]
            records[i] = EntityRecord(
                r.address,
                r.attributes,
                type(env)(flipped, env.nonce, env.key_id, env.aad_hash),
                r.origin,
            )
            break
    return records


def test_postgresql_is_read_once_in_key_order(pg_dsn: str, sample: Sample) -> None:
    store = PostgresStore(pg_dsn, fetch_size=7, batch_size=50)
    store.create_schema()
    store.import_records(_tampered(sample))
    items = list(store.read())
    keys = []
    for item in items:
        if isinstance(item, EntityRecord):
            pk, sk = item.address.to_dynamodb()
        elif isinstance(item, WrappedDek):
            pk, sk = f"dialogue#{item.dialogue}", f"dek#{item.version}"
        else:
            pk, sk = f"audit#{item.chain_id}", f"event#{item.fields['event_id']}"  # type: ignore[union-attr]
        keys.append((pk.encode(), sk.encode()))
    assert keys == sorted(keys)  # an export's order (EXP-5)
    _same_either_way(store, sample)


def test_dynamodb_is_read_once_partition_by_partition(
    dynamodb_options: dict[str, Any], dynamodb_table_name: str, sample: Sample
) -> None:
    store = DynamoDBStore(dynamodb_table_name, **dynamodb_options, segments=4, page_size=5)
    store.create_table(wait_delay=0.05)
    store.import_records(_tampered(sample))
    seen: list[str] = []
    for item in store.read():
        if isinstance(item, EntityRecord):
            group = "dialogue#" + item.address.dialogue
        elif isinstance(item, WrappedDek):
            group = "dialogue#" + item.dialogue
        else:
            group = "audit#" + item.chain_id  # type: ignore[union-attr]
        if not seen or seen[-1] != group:
            assert group not in seen, f"{group} comes back"
            seen.append(group)
    assert len(seen) > 3
    _same_either_way(store, sample)
