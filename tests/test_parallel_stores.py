"""``verify --workers N`` on live stores (issue 10): the read itself is split.

A DynamoDB table is read in parts of its Scan segments and a PostgreSQL
database in ranges of dialogue ids of one exported snapshot, each part by a
worker process that reads and verifies it as a grouped read does. The merged
result must be the one-process result: the same findings, counters, chain
lengths and evidence, with keys, without, and with the wrong UMK, on an
intact and on a tampered store. PostgreSQL parts are consecutive in key
order, so even the findings' order is the one-process order; a DynamoDB
Scan interleaves segments, so there the findings are compared as a multiset.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest

from chainaudit.audit import AuditOptions, audit
from chainaudit.chain.checkpoint import make_checkpoint
from chainaudit.findings import Result
from chainaudit.keys.signing import TrustStore, public_bytes
from chainaudit.keys.umk import Umk
from chainaudit.records.model import Record
from chainaudit.report.assurance import Evidence
from chainaudit.sample import Sample, build_sample, iter_records
from chainaudit.sources.dynamodb import DynamoDBStore
from chainaudit.sources.postgres import PostgresStore
from chainaudit.testing import mutators

T0 = "2026-03-02T09:00:00Z"
MODES = ["keyless", "keyed", "wrong-umk"]
TAMPERING = [
    mutators.flip_ciphertext_byte,
    mutators.reuse_nonce,
    mutators.drop_chain_event,
    mutators.edit_cleartext_attribute,
    mutators.tamper_wrapped_key,
    mutators.plant_record,
]


@pytest.fixture(scope="module")
def sample() -> Sample:
    return build_sample()


def _records(sample: Sample, tampered: bool) -> list[Record]:
    records = list(iter_records(sample))
    if tampered:
        for mutate in TAMPERING:
            records = mutate(records, pick=1).records
    return records


def _options(sample: Sample, mode: str, workers: int) -> AuditOptions:
    assert sample.signer is not None and sample.erasure_signer is not None and sample.umk
    trust = TrustStore.of([public_bytes(sample.signer), public_bytes(sample.erasure_signer)])
    checkpoints = [
        (f"cp:{chain}", make_checkpoint(sample.signer, chain, count, tip, alg, T0))
        for chain, count, tip, alg in sample.tips[:3]
    ]
    umk = {"keyless": None, "keyed": sample.umk, "wrong-umk": Umk.from_hex("11" * 32)}[mode]
    return AuditOptions(umk=umk, trust=trust, checkpoints=checkpoints, workers=workers)


class _Splits:
    """Counts the parts each split really handed to workers."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, cls: type) -> None:
        self.parts: list[int] = []
        original = cls.split

        @contextlib.contextmanager
        def counting(store: Any, n: int) -> Iterator[Any]:
            with original(store, n) as parts:
                self.parts.append(0 if parts is None else len(parts))
                yield parts

        monkeypatch.setattr(cls, "split", counting)


def _run(store: Any, options: AuditOptions) -> tuple[Result, Evidence]:
    ev = Evidence()
    return audit(store, options, evidence=ev), ev


def _same(one: tuple[Result, Evidence], many: tuple[Result, Evidence], ordered: bool) -> None:
    (r1, ev1), (rn, evn) = one, many
    f1 = [f.to_json() for f in r1.findings]
    fn = [f.to_json() for f in rn.findings]
    if ordered:
        assert fn == f1
    else:
        key = repr
        assert sorted(fn, key=key) == sorted(f1, key=key)
    assert rn.checked == r1.checked
    assert rn.chain_lengths == r1.chain_lengths
    assert evn == ev1


@pytest.fixture(scope="module", params=["intact", "tampered"])
def loaded_pg(request: pytest.FixtureRequest, sample: Sample, pg_server_dsn: str) -> Iterator[str]:
    import uuid

    from psycopg.conninfo import conninfo_to_dict, make_conninfo

    schema = f"t_{uuid.uuid4().hex[:16]}"
    with psycopg.connect(pg_server_dsn, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    params = conninfo_to_dict(pg_server_dsn)
    params["options"] = f"-c search_path={schema}"
    dsn = make_conninfo("", **params)
    store = PostgresStore(dsn)
    store.create_schema()
    store.import_records(_records(sample, request.param == "tampered"))
    try:
        yield dsn
    finally:
        with psycopg.connect(pg_server_dsn, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


@pytest.mark.parametrize("workers", [2, 3])
@pytest.mark.parametrize("mode", MODES)
def test_postgres_in_key_ranges_equals_one_process(
    loaded_pg: str, sample: Sample, mode: str, workers: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    one = _run(PostgresStore(loaded_pg), _options(sample, mode, 1))
    splits = _Splits(monkeypatch, PostgresStore)
    many = _run(PostgresStore(loaded_pg), _options(sample, mode, workers))
    assert splits.parts and splits.parts[0] >= 2, "the read was not split"
    _same(one, many, ordered=True)


def test_postgres_parts_read_the_splitters_snapshot(loaded_pg: str, sample: Sample) -> None:
    """A dialogue committed after the split is in no part: all parts see the
    one snapshot the splitting transaction exported."""
    store = PostgresStore(loaded_pg)
    items = list(store.read())
    held = {str(getattr(x, "address", "")) for x in items}
    before = len(items)
    with store.split(2) as parts:
        assert parts is not None and len(parts) >= 2
        report = PostgresStore(loaded_pg).import_records(_late_record(sample, held))
        assert report.written == 1
        seen = sum(1 for part in parts for _ in part.read())
    assert seen == before
    assert sum(1 for _ in store.read()) > before


def _late_record(sample: Sample, held: set[str]) -> list[Record]:
    """A record (:func:`mutators.plant_record`) at an address the store does not hold."""
    original = list(iter_records(sample))
    known = {id(r) for r in original}
    for pick in range(100):
        mutation = mutators.plant_record(original, pick=pick)
        if mutation.where not in held:
            return [r for r in mutation.records if id(r) not in known]
    raise AssertionError("no free address to plant a record at")


def test_postgres_with_fewer_dialogues_than_workers_is_read_by_one_process(
    pg_dsn: str, sample: Sample
) -> None:
    store = PostgresStore(pg_dsn)
    store.create_schema()
    with store.split(4) as parts:
        assert parts is None  # nothing to cut: an empty table
    with store.split(1) as parts:
        assert parts is None


@pytest.fixture(scope="module", params=["intact", "tampered"])
def loaded_ddb(
    request: pytest.FixtureRequest, sample: Sample, dynamodb_endpoint: str
) -> Iterator[dict[str, Any]]:
    import uuid

    options = {
        "table": f"t_{uuid.uuid4().hex[:16]}",
        "endpoint_url": dynamodb_endpoint,
        "region": "us-east-1",
        "access_key_id": "test",
        "secret_access_key": "test",
    }
    store = DynamoDBStore(**options)
    store.create_table(wait_delay=0.05)
    store.import_records(_records(sample, request.param == "tampered"))
    try:
        yield options
    finally:
        with contextlib.suppress(Exception):
            store.client.delete_table(TableName=options["table"])


@pytest.mark.parametrize(("workers", "segments"), [(2, 4), (3, 1)])
@pytest.mark.parametrize("mode", MODES)
def test_dynamodb_in_scan_segments_equals_one_process(
    loaded_ddb: dict[str, Any],
    sample: Sample,
    mode: str,
    workers: int,
    segments: int,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    one = _run(DynamoDBStore(**loaded_ddb, segments=segments), _options(sample, mode, 1))
    splits = _Splits(monkeypatch, DynamoDBStore)
    many = _run(DynamoDBStore(**loaded_ddb, segments=segments), _options(sample, mode, workers))
    assert splits.parts == [workers]
    _same(one, many, ordered=False)


def test_dynamodb_parts_cover_every_segment_once(loaded_ddb: dict[str, Any]) -> None:
    store = DynamoDBStore(**loaded_ddb, segments=4)
    whole = sorted(repr(x) for x in store.read())
    with store.split(3) as parts:
        assert parts is not None and len(parts) == 3
        assert sorted(s for p in parts for s in p.segments) == list(range(6))  # type: ignore[attr-defined]
        pieces = sorted(repr(x) for p in parts for x in p.read())
    assert pieces == whole


def test_a_dynamodb_store_given_its_client_is_not_split(loaded_ddb: dict[str, Any]) -> None:
    store = DynamoDBStore(**loaded_ddb)
    given = DynamoDBStore(loaded_ddb["table"], client=store.client)
    with given.split(2) as parts:
        assert parts is None


def test_the_command_line_splits_a_postgres_read(loaded_pg: str, tmp_path: Any) -> None:
    """``chainaudit verify postgresql://... --workers 2``: the same report as one process."""
    import json
    import subprocess
    from urllib.parse import quote

    from psycopg.conninfo import conninfo_to_dict

    c = conninfo_to_dict(loaded_pg)
    url = f"postgresql://{c['user']}@{c['host']}:{c['port']}/{c['dbname']}?options={quote(str(c['options']))}"

    def report(workers: int) -> dict[str, Any]:
        out = tmp_path / f"w{workers}.json"
        run = subprocess.run(
            ["chainaudit", "verify", url, "--workers", str(workers), "-q",
             "--format", "json", "-o", str(out)],
            capture_output=True, text=True, timeout=120,
        )  # fmt: skip
        assert run.returncode in (0, 1, 3), run.stderr
        doc = json.loads(out.read_text())
        return {"exit": run.returncode, "findings": doc["findings"], "checked": doc["checked"]}

    assert report(2) == report(1)


def test_postgres_without_wrapped_keys_is_cut_at_sampled_dialogues(
    pg_dsn: str, sample: Sample
) -> None:
    """No wrapped key says where the dialogues are: a sample of the entities
    does, and the parts still hold every item exactly once, in key order."""
    from chainaudit.records.model import WrappedDek

    store = PostgresStore(pg_dsn)
    store.create_schema()
    planted = mutators.plant_record(list(iter_records(sample)), pick=0).records
    records = [r for r in planted if not isinstance(r, WrappedDek)]
    more = [_in_dialogue(r, f"zz-{i}") for i, r in enumerate(records) if hasattr(r, "address")]
    store.import_records(records + more)
    whole = [repr(x) for x in store.read()]
    with store.split(3) as parts:
        assert parts is not None and len(parts) >= 2
        pieces = [repr(x) for part in parts for x in part.read()]
    assert pieces == whole


def _in_dialogue(record: Any, dialogue: str) -> Any:
    """The same entity moved to another dialogue (its envelope no longer opens: only
    where it is stored matters here)."""
    import dataclasses

    from chainaudit.records.address import Address

    address = dataclasses.replace(record.address, dialogue=dialogue)
    assert isinstance(address, Address)
    return dataclasses.replace(record, address=address)


def test_a_part_that_fails_fails_the_run(
    loaded_pg: str, sample: Sample, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A worker whose part cannot be read ends the run with that StoreError (exit 3):
    the other parts' result is never reported as the store's."""
    from chainaudit.errors import StoreError

    original = PostgresStore.read_range

    def second_part_fails(self: PostgresStore, snapshot: str, bounds: Any, audit: bool) -> Any:
        if bounds[0] is not None and bounds[1] is None:
            raise StoreError(f"{self.describe()}: the last part's server went away")
        return original(self, snapshot, bounds, audit)

    monkeypatch.setattr(PostgresStore, "read_range", second_part_fails)
    with pytest.raises(StoreError, match="the last part's server went away") as caught:
        audit(PostgresStore(loaded_pg), _options(sample, "keyed", 2))
    assert caught.value.exit_code == 3
