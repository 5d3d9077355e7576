"""Read DynamoDB Scan and Query pages straight from the wire (STORE-5).

botocore turns a response body into Python through the service model, one
shape at a time; for a page of items that is most of the CPU a read costs
(measured: about 40 µs per item of ten attributes, more than chainaudit's
checks of it). The page is already the DynamoDB JSON that
:func:`chainaudit.records.item.typed_from_json` reads, so a client of
chainaudit's own reads it here instead:

* a ``before-parse`` handler (botocore's documented hook, run for every
  response before its parser) takes a *successful* Scan or Query response,
  parses the body with ``orjson`` and maps each item's values with
  ``typed_from_json`` (binary decoded from base64, sets in MODEL-3 order);
* the body handed on to botocore keeps everything but ``Items``, so
  ``LastEvaluatedKey``, counts and capacity are parsed as ever; the items
  join the parsed response under ``Items`` with :data:`CANONICAL` set, and
  the reader then builds records without validating the values twice
  (``record_from_item(..., canonical=True)``).

Anything else is left to botocore untouched: an error response, a body
``orjson`` refuses, or a page holding one value ``typed_from_json`` refuses
(the reader then reports that item as it always has). The items equal
botocore's own (up to the order of set members, which MODEL-3 fixes
anyway); ``tests/test_ddb_pages.py`` compares them on a real server.
"""

from __future__ import annotations

from typing import Any

import orjson

from chainaudit.records.item import typed_from_json

#: Set in a parsed page whose ``Items`` this module produced (canonical values).
CANONICAL = "ChainauditCanonicalItems"
#: The operations whose pages are read here.
OPERATIONS = ("Scan", "Query")


def install(client: Any) -> None:
    """Read ``client``'s Scan and Query pages here (a client chainaudit made)."""
    for operation in OPERATIONS:
        client.meta.events.register(
            f"before-parse.dynamodb.{operation}",
            _read_page,
            unique_id=f"chainaudit-pages-{operation}",
        )


def _read_page(
    response_dict: dict[str, Any], customized_response_dict: dict[str, Any], **_: Any
) -> None:
    if response_dict.get("status_code") != 200:
        return
    body = response_dict.get("body")
    if not isinstance(body, bytes):
        return
    mapped = page_items(body)
    if mapped is None:
        return
    response_dict["body"], customized_response_dict["Items"] = mapped
    customized_response_dict[CANONICAL] = True


def page_items(body: bytes) -> tuple[bytes, list[dict[str, Any]]] | None:
    """``(body without Items, items with canonical values)`` of a page, or None
    when the page is not one this reader maps exactly (botocore then does)."""
    try:
        page = orjson.loads(body)
    except orjson.JSONDecodeError:
        return None
    if type(page) is not dict:
        return None
    raw = page.pop("Items", None)
    if type(raw) is not list:
        return None
    items: list[dict[str, Any]] = []
    try:
        for entry in raw:
            if type(entry) is not dict:
                return None
            items.append({name: typed_from_json(value, name) for name, value in entry.items()})
    except (ValueError, TypeError):
        return None
    return orjson.dumps(page), items


__all__ = ["CANONICAL", "OPERATIONS", "install", "page_items"]
