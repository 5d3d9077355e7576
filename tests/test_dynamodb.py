"""DynamoDB adapter tests against the dynalite server scripts/test.sh starts (STORE-5, STORE-7).

Faults dynalite cannot produce (throttling, empty pages, unprocessed keys,
a concurrent writer) are injected through botocore's event hooks on the
real client, so everything else stays the real server's behaviour.
"""

from __future__ import annotations

import json
import socket
import urllib.parse
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import boto3
import pytest
from botocore.awsrequest import AWSResponse
from conformance.records import many_records, sample_records
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chainaudit.errors import StoreError
from chainaudit.findings import Finding, codes
from chainaudit.records.item import item_from_record
from chainaudit.records.model import EntityRecord
from chainaudit.sources.dynamodb import DynamoDBStore, dynamodb_number, number_problem


def test_dynamodb_endpoint_speaks_dynamodb(dynamodb_options: dict[str, Any]) -> None:
    client = boto3.client(
        "dynamodb",
        endpoint_url=dynamodb_options["endpoint_url"],
        region_name=dynamodb_options["region"],
        aws_access_key_id=dynamodb_options["access_key_id"],
        aws_secret_access_key=dynamodb_options["secret_access_key"],
    )
    with pytest.raises(client.exceptions.ResourceNotFoundException):
        client.describe_table(TableName="does_not_exist")


def test_the_local_server_outlives_a_client_that_hangs_up_mid_request(
    dynamodb_options: dict[str, Any],
) -> None:
    """A client that closes its connection before its answer (a Scan segment
    abandoned when another failed, a read timeout) costs that request only:
    the shared dynalite (scripts/dynalite.js) keeps answering every later
    test. dynalite's own cli.js ends the whole server here."""
    url = urllib.parse.urlsplit(dynamodb_options["endpoint_url"])
    body = b'{"TableName": "does_not_exist"}'
    for sent in (b"", body[:9], body):  # no body, part of it, all of it unanswered
        with socket.create_connection((url.hostname, url.port), timeout=5) as conn:
            conn.sendall(
                b"POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-amz-json-1.0\r\n"
                b"X-Amz-Target: DynamoDB_20120810.Scan\r\n"
                b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + sent
            )
    test_dynamodb_endpoint_speaks_dynamodb(dynamodb_options)


@pytest.fixture()
def store(dynamodb_options: dict[str, Any], dynamodb_table_name: str) -> Iterator[DynamoDBStore]:
    s = DynamoDBStore(
        dynamodb_table_name, **dynamodb_options, segments=3, page_size=10, max_attempts=2
    )
    s.create_table(wait_delay=0.05)
    yield s


def _throttle_response() -> tuple[AWSResponse, dict[str, Any]]:
    body = {
        "__type": "com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException",
        "message": "The level of configured provisioned throughput for the table was exceeded.",
    }
    raw = json.dumps(body).encode()
    http = AWSResponse("http://x", 400, {"x-amzn-requestid": "t"}, None)  # type: ignore[arg-type]
    http._content = raw
    return http, {}


class _Throttle:
    """A before-send hook answering the first ``times`` requests of an operation
    with a 400 throttling error, as DynamoDB does."""

    def __init__(self, times: int) -> None:
        self.times = times
        self.calls = 0

    def __call__(self, request: Any, **_: Any) -> AWSResponse | None:
        self.calls += 1
        if self.calls > self.times:
            return None
        http, _parsed = _throttle_response()
        return http


def _hook_target(store: DynamoDBStore, operation: str, hook: Any) -> None:
    target = "X-Amz-Target"

    def filtered(request: Any, **kwargs: Any) -> Any:
        if request.headers.get(target, b"").endswith(operation.encode()):
            return hook(request, **kwargs)
        return None

    store.client.meta.events.register_first("before-send.dynamodb", filtered)


def test_throttling_that_survives_retries_is_an_error_not_a_partial_result(
    store: DynamoDBStore,
) -> None:
    store.import_records(many_records(40))
    throttle = _Throttle(times=10**6)
    _hook_target(store, "Scan", throttle)
    with pytest.raises(StoreError, match="ProvisionedThroughputExceeded"):
        list(store.read())
    # standard retry mode made max_attempts (2) tries for the failing segment
    assert throttle.calls >= 2


def test_throttling_that_clears_within_retries_loses_nothing(store: DynamoDBStore) -> None:
    store.import_records(many_records(40))
    throttle = _Throttle(times=1)
    _hook_target(store, "Scan", throttle)
    got = [r for r in store.read() if not isinstance(r, Finding)]
    assert len(got) == 40 and throttle.calls > 1


def test_an_empty_page_with_a_last_evaluated_key_does_not_end_the_scan(
    dynamodb_options: dict[str, Any], dynamodb_table_name: str
) -> None:
    store = DynamoDBStore(dynamodb_table_name, **dynamodb_options, segments=1, page_size=5)
    store.create_table(wait_delay=0.05)
    store.import_records(many_records(23))
    seen: list[Any] = []
    calls = {"n": 0}

    def before(params: dict[str, Any], **_: Any) -> Any:
        calls["n"] += 1
        if calls["n"] == 2:
            # DynamoDB may return a page with no items that is not the last one
            # (e.g. 1 MB of scanned data all filtered); continue from the same key.
            body = json.loads(params["body"])
            http = AWSResponse("http://x", 200, {}, None)  # type: ignore[arg-type]
            parsed = {
                "Items": [],
                "Count": 0,
                "ScannedCount": 0,
                "LastEvaluatedKey": {
                    k: {"S": v["S"]} for k, v in body["ExclusiveStartKey"].items()
                },
                "ResponseMetadata": {"HTTPStatusCode": 200},
            }
            seen.append(parsed)
            return http, parsed
        return None

    store.client.meta.events.register("before-call.dynamodb.Scan", before)
    got = [r for r in store.read() if not isinstance(r, Finding)]
    assert seen, "the empty page was not injected"
    assert len(got) == 23


def test_unprocessed_keys_are_retried_with_capped_backoff(store: DynamoDBStore) -> None:
    records = list(many_records(30))
    store.import_records(records)
    sleeps: list[float] = []
    store.sleep = sleeps.append
    calls = {"n": 0}

    def after(parsed: dict[str, Any], **_: Any) -> None:
        calls["n"] += 1
        if calls["n"] % 3:  # two of every three responses come back unprocessed
            items = parsed["Responses"][store.table]
            parsed["UnprocessedKeys"] = {
                store.table: {
                    "Keys": [{"pk": i["pk"], "sk": i["sk"]} for i in items],
                    "ConsistentRead": True,
                }
            }
            parsed["Responses"][store.table] = []

    store.client.meta.events.register("after-call.dynamodb.BatchGetItem", after)
    report = store.import_records(records)
    assert (report.written, report.unchanged, report.conflicts) == (0, 30, [])
    assert sleeps and all(0 <= s <= store.backoff_cap for s in sleeps)


def test_unprocessed_keys_that_persist_raise(store: DynamoDBStore) -> None:
    records = list(many_records(5))
    store.import_records(records)
    sleeps: list[float] = []
    store.sleep = sleeps.append
    store.batch_attempts = 4

    def after(parsed: dict[str, Any], **_: Any) -> None:
        items = parsed["Responses"][store.table]
        keys = [{"pk": i["pk"], "sk": i["sk"]} for i in items]
        keys += parsed.get("UnprocessedKeys", {}).get(store.table, {}).get("Keys", [])
        parsed["UnprocessedKeys"] = {store.table: {"Keys": keys}}
        parsed["Responses"][store.table] = []

    store.client.meta.events.register("after-call.dynamodb.BatchGetItem", after)
    with pytest.raises(StoreError, match="unprocessed after 4 attempts"):
        store.import_records(records)
    assert len(sleeps) == 3


def test_a_concurrent_writer_is_never_overwritten(
    store: DynamoDBStore, dynamodb_options: dict[str, Any]
) -> None:
    """Between our BatchGetItem (key absent) and our PutItem, another writer
    stores a different item at the key: ours must not replace it."""
    record = next(r for r in sample_records() if isinstance(r, EntityRecord))
    theirs = item_from_record(record)
    theirs["status"] = {"S": "written by the other side"}
    other = DynamoDBStore(store.table, **dynamodb_options)

    def after(**_: Any) -> None:
        other.client.put_item(TableName=store.table, Item=theirs)  # type: ignore[arg-type]

    store.client.meta.events.register("after-call.dynamodb.BatchGetItem", after)
    report = store.import_records([record])
    assert report.written == 0
    assert [f.code for f in report.conflicts] == [codes.IMPORT_CONFLICT]
    stored = store.client.get_item(
        TableName=store.table, Key={"pk": theirs["pk"], "sk": theirs["sk"]}
    )
    assert stored["Item"]["status"] == {"S": "written by the other side"}


def test_numbers_dynamodb_would_rewrite_are_refused(store: DynamoDBStore) -> None:
    record = next(r for r in sample_records() if isinstance(r, EntityRecord))
    odd = EntityRecord(
        record.address, {**record.attributes, "score": {"N": "3.50"}}, record.envelope
    )
    report = store.import_records([odd])
    assert report.written == 0
    assert [f.code for f in report.conflicts] == [codes.IMPORT_NOT_REPRESENTABLE]
    assert "'3.50'" in report.conflicts[0].message and "'3.5'" in report.conflicts[0].message
    assert list(store.read()) == []


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("1" * 39, "more than 38 significant digits"),
        ("1" * 38 + "000", None),
        ("1e126", "outside"),
        ("1e-131", "outside"),
        ("0.0", "come back as '0'"),
        ("-0", "come back as '0'"),
        ("+1", "come back as '1'"),
        ("1E+2", "come back as '100'"),
        ("0.000001", None),
        ("-12.5", None),
    ],
)
def test_number_problems_are_predicted_before_writing(text: str, problem: str | None) -> None:
    got = number_problem(text)
    assert (got is None) if problem is None else (got is not None and problem in got)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    st.decimals(
        allow_nan=False, allow_infinity=False, min_value=Decimal("-1e30"), max_value=Decimal("1e30")
    )
    .map(str)
    .filter(lambda t: number_problem(t) is None or "come back as" in (number_problem(t) or ""))
)
def test_dynamodb_number_is_what_the_server_returns(store: DynamoDBStore, text: str) -> None:
    """For all numbers: our prediction of DynamoDB's normal form is the server's."""
    key = {"pk": {"S": "n"}, "sk": {"S": text}}
    store.client.put_item(TableName=store.table, Item={**key, "v": {"N": text}})
    got = store.client.get_item(TableName=store.table, Key=key, ConsistentRead=True)
    assert got["Item"]["v"]["N"] == dynamodb_number(text)


def test_query_reads_one_partition_in_sort_key_order(store: DynamoDBStore) -> None:
    store.import_records(sample_records())
    got = [r for r in store.read_dialogue("d-1")]
    sks = [item_from_record(r)["sk"]["S"] for r in got if not isinstance(r, Finding)]
    assert len(sks) == 13 and sks == sorted(sks, key=lambda s: s.encode())
    chain = [r for r in store.read_chain("crypto-log") if not isinstance(r, Finding)]
    ids = [item_from_record(r)["sk"]["S"] for r in chain]
    assert len(ids) == 5 and ids == sorted(ids)


def test_an_item_that_is_not_a_record_is_a_finding_naming_the_key(store: DynamoDBStore) -> None:
    store.client.put_item(
        TableName=store.table, Item={"pk": {"S": "dialogue#x"}, "sk": {"S": "nosuchtype#1"}}
    )
    (finding,) = list(store.read())
    assert isinstance(finding, Finding) and finding.code is codes.ADDRESS_INVALID
    assert "nosuchtype#1" in finding.where


def test_an_unreachable_endpoint_is_a_store_error() -> None:
    store = DynamoDBStore(
        "t",
        endpoint_url="http://127.0.0.1:9",
        region="us-east-1",
        access_key_id="x",
        secret_access_key="y",
        max_attempts=1,
    )
    with pytest.raises(StoreError, match="dynamodb://t"):
        list(store.read())


@pytest.mark.parametrize("text", ["1" * 39, "1e126", "1e-131"])
def test_the_server_rejects_what_number_problem_flags(store: DynamoDBStore, text: str) -> None:
    assert number_problem(text) is not None
    item = {"pk": {"S": "n"}, "sk": {"S": text}, "v": {"N": text}}
    with pytest.raises(store.client.exceptions.ClientError, match="ValidationException"):
        store.client.put_item(TableName=store.table, Item=item)  # type: ignore[arg-type]


def test_a_scan_page_out_of_sort_key_order_is_an_error(
    dynamodb_options: dict[str, Any], dynamodb_table_name: str
) -> None:
    """STORE-6 is checked, not assumed: a partition out of order stops the read."""
    store = DynamoDBStore(dynamodb_table_name, **dynamodb_options, segments=1, page_size=50)
    store.create_table(wait_delay=0.05)
    store.import_records(sample_records())

    def after(parsed: dict[str, Any], **_: Any) -> None:
        parsed["Items"].reverse()

    store.client.meta.events.register("after-call.dynamodb.Scan", after)
    with pytest.raises(StoreError, match="out of sort-key order"):
        list(store.read())


def test_an_item_dynamodb_refuses_is_reported_and_the_rest_imported(store: DynamoDBStore) -> None:
    records = [r for r in sample_records() if isinstance(r, EntityRecord)][:3]
    big = EntityRecord(
        records[0].address, {"blob": {"B": b"\x00" * (401 * 1024)}}, records[0].envelope
    )
    report = store.import_records([big, *records[1:]])
    assert report.written == 2
    assert [f.code for f in report.conflicts] == [codes.IMPORT_NOT_REPRESENTABLE]
    assert "DynamoDB refused it" in report.conflicts[0].message
