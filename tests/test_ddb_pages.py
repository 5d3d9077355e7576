"""chainaudit.sources.ddb_pages: Scan and Query pages read from the wire equal
botocore's own parse of them (STORE-5), for all items, offline against
botocore's parser and the service model, and on the real dynalite server."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import boto3
import botocore.parsers
import botocore.session
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chainaudit.records.item import canonical_typed, record_from_item, typed_to_json
from chainaudit.records.model import EntityRecord
from chainaudit.sources.ddb_pages import CANONICAL, page_items
from chainaudit.sources.dynamodb import DynamoDBStore

_MODEL = botocore.session.get_session().get_service_model("dynamodb")


def _botocore_items(body: bytes, operation: str = "Scan") -> list[dict[str, Any]]:
    parser = botocore.parsers.create_parser("json")
    shape = _MODEL.operation_model(operation).output_shape
    parsed = parser.parse({"body": body, "headers": {}, "status_code": 200}, shape)
    return [{k: canonical_typed(v, k) for k, v in item.items()} for item in parsed["Items"]]


_NUMBER = st.from_regex(r"-?(0|[1-9][0-9]{0,8})(\.[0-9]{0,3}[1-9])?", fullmatch=True)
_SCALAR = st.one_of(
    st.builds(lambda s: {"S": s}, st.text(max_size=8)),
    st.builds(lambda n: {"N": n}, _NUMBER),
    st.builds(lambda b: {"B": b}, st.binary(max_size=12)),
    st.builds(lambda v: {"BOOL": v}, st.booleans()),
    st.just({"NULL": True}),
    st.builds(lambda m: {"SS": sorted(m)}, st.sets(st.text(max_size=4), min_size=1, max_size=4)),
    st.builds(lambda m: {"NS": sorted(m)}, st.sets(_NUMBER, min_size=1, max_size=4)),
    st.builds(lambda m: {"BS": sorted(m)}, st.sets(st.binary(max_size=4), min_size=1, max_size=4)),
)
_VALUE = st.recursive(
    _SCALAR,
    lambda inner: st.builds(lambda v: {"L": v}, st.lists(inner, max_size=3))
    | st.builds(lambda v: {"M": v}, st.dictionaries(st.text(max_size=4), inner, max_size=3)),
    max_leaves=8,
)
_ITEM = st.dictionaries(st.text(min_size=1, max_size=6), _VALUE, min_size=1, max_size=5)


def _wire(items: list[dict[str, Any]], **rest: Any) -> bytes:
    return json.dumps(
        {"Items": [{k: typed_to_json(v) for k, v in item.items()} for item in items], **rest}
    ).encode()


@settings(max_examples=200, deadline=None)
@given(st.lists(_ITEM, max_size=4), st.booleans())
def test_a_page_reads_as_botocore_parses_it(items: list[dict[str, Any]], more: bool) -> None:
    """For all pages of items: the same items, and the rest of the page
    (LastEvaluatedKey, counts) left for botocore, which parses it as before."""
    rest: dict[str, Any] = {"Count": len(items), "ScannedCount": len(items)}
    if more:
        rest["LastEvaluatedKey"] = {"pk": {"S": "dialogue#d"}, "sk": {"B": "AAE="}}
    body = _wire(items, **rest)
    mapped = page_items(body)
    assert mapped is not None
    remaining, ours = mapped
    assert ours == _botocore_items(body)
    assert json.loads(remaining) == rest
    for item in ours:  # canonical values: validating them again changes nothing
        assert {k: canonical_typed(v, k) for k, v in item.items()} == item


@pytest.mark.parametrize(
    "body",
    [
        b"not json",
        b"[]",
        b'{"Count": 0}',  # no Items: botocore reads it (Select=COUNT)
        b'{"Items": {"a": 1}}',
        b'{"Items": [1]}',
        b'{"Items": [{"a": {"B": "not base64!"}}]}',
        b'{"Items": [{"a": {"X": "1"}}]}',
        b'{"Items": [{"a": {"N": "1e999"}}]}',
        b'{"Items": [{"a": {"SS": ["x", "x"]}}]}',
    ],
)
def test_a_page_it_cannot_map_exactly_is_left_to_botocore(body: bytes) -> None:
    assert page_items(body) is None


def test_an_error_response_is_never_touched() -> None:
    from chainaudit.sources.ddb_pages import _read_page

    body = b'{"__type": "x#ResourceNotFoundException", "Items": []}'
    response = {"status_code": 400, "body": body, "headers": {}}
    custom: dict[str, Any] = {}
    _read_page(response_dict=response, customized_response_dict=custom)
    assert response["body"] is body and custom == {}
    ok = {"status_code": 200, "body": _wire([{"a": {"S": "x"}}]), "headers": {}}
    _read_page(response_dict=ok, customized_response_dict=custom)
    assert custom == {"Items": [{"a": {"S": "x"}}], CANONICAL: True}
    assert json.loads(ok["body"]) == {}


# --- on the real server -----------------------------------------------------------


@pytest.fixture()
def filled(dynamodb_options: dict[str, Any], dynamodb_table_name: str) -> Iterator[DynamoDBStore]:
    store = DynamoDBStore(
        dynamodb_table_name, **dynamodb_options, segments=2, page_size=3, max_attempts=2
    )
    store.create_table(wait_delay=0.05)
    rows = [
        {
            "pk": {"S": f"dialogue#d-{i % 4}"},
            "sk": {"S": f"claim#{i:02d}#01"},
            "data": {"B": bytes([i]) * 17},
            "n": {"N": f"{i}.5"},
            "tags": {"SS": ["b", "a", f"z{i}"]},
            "blobs": {"BS": [b"\x02", b"\x01"]},
            "nested": {"M": {"l": {"L": [{"NULL": True}, {"BOOL": False}, {"NS": ["10", "9"]}]}}},
        }
        for i in range(20)
    ]
    for row in rows:
        store.client.put_item(TableName=dynamodb_table_name, Item=row)  # type: ignore[arg-type]
    yield store


def _plain_client(options: dict[str, Any]) -> Any:
    return boto3.client(
        "dynamodb",
        endpoint_url=options["endpoint_url"],
        region_name=options["region"],
        aws_access_key_id=options["access_key_id"],
        aws_secret_access_key=options["secret_access_key"],
    )


def _scan_all(client: Any, table: str) -> tuple[list[dict[str, Any]], int]:
    items: list[dict[str, Any]] = []
    pages = 0
    kwargs: dict[str, Any] = {"TableName": table, "Limit": 3, "ConsistentRead": True}
    while True:
        page = client.scan(**kwargs)
        pages += 1
        items.extend(page["Items"])
        if not page.get("LastEvaluatedKey"):
            return items, pages
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def test_the_stores_pages_equal_a_plain_clients_on_dynalite(
    filled: DynamoDBStore, dynamodb_options: dict[str, Any]
) -> None:
    """Every item, every page boundary (LastEvaluatedKey parsed by botocore
    and sent back), the same values as a plain boto3 client's, canonical."""
    plain, plain_pages = _scan_all(_plain_client(dynamodb_options), filled.table)
    ours, our_pages = _scan_all(filled.client, filled.table)
    assert our_pages == plain_pages > 5
    assert ours == [{k: canonical_typed(v, k) for k, v in item.items()} for item in plain]
    page = filled.client.scan(TableName=filled.table, Limit=3)
    assert page[CANONICAL] is True and page["ResponseMetadata"]["HTTPStatusCode"] == 200


def test_the_store_reads_the_same_records_either_way(
    filled: DynamoDBStore, dynamodb_options: dict[str, Any]
) -> None:
    """The records of a read equal those built from a plain client's items."""
    plain, _ = _scan_all(_plain_client(dynamodb_options), filled.table)
    expected = sorted(
        (record_from_item(item, "x") for item in plain), key=lambda r: str(r.address)
    )
    got = sorted(filled.read(), key=lambda r: str(r.address))  # type: ignore[union-attr]
    assert len(got) == 20 and all(isinstance(r, EntityRecord) for r in got)
    assert [(r.address, r.attributes) for r in got] == [
        (r.address, r.attributes) for r in expected  # type: ignore[union-attr]
    ]
    assert got[3].attributes["blobs"] == {"BS": [b"\x01", b"\x02"]}  # type: ignore[union-attr]
