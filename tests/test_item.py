"""item <-> record mapping (docs/model.md): lossless for every record, strict on
every item, and the regressions of the bugs fixed in records/item.py."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given

from chainaudit.findings import Finding
from chainaudit.records.item import (
    canonical_typed,
    item_from_record,
    plain_from_typed,
    record_from_item,
    typed_from_json,
    typed_to_json,
)
from chainaudit.records.model import EntityRecord, Envelope, Record, WrappedDek
from chainaudit.testing import sample_records
from chainaudit.testing.strategies import records, typed_values


def _code(result: Any) -> str:
    assert isinstance(result, Finding), result
    return result.code.name


@given(records())
def test_record_item_record_is_identity(record: Record) -> None:
    assert record_from_item(item_from_record(record), "") == record


@given(records())
def test_item_record_item_is_identity(record: Record) -> None:
    item = item_from_record(record)
    back = record_from_item(item, "")
    assert not isinstance(back, Finding)
    assert item_from_record(back) == item


@given(typed_values())
def test_typed_json_round_trip(value: Any) -> None:
    canonical = canonical_typed(value)
    assert typed_from_json(typed_to_json(value)) == canonical
    assert typed_to_json(canonical) == typed_to_json(value)


def test_sets_are_sorted_and_checked() -> None:
    assert canonical_typed({"SS": ["b", "a", "é"]}) == {"SS": ["a", "b", "é"]}
    assert canonical_typed({"NS": ["10", "9"]}) == {"NS": ["10", "9"]}  # by UTF-8 bytes
    assert canonical_typed({"BS": [b"\x02", b"\x01"]}) == {"BS": [b"\x01", b"\x02"]}
    for bad in ({"SS": []}, {"SS": ["a", "a"]}, {"BS": [b"x", b"x"]}, {"NS": ["x"]}, {"SS": [1]}):
        with pytest.raises(ValueError):
            canonical_typed(bad)


@pytest.mark.parametrize(
    "bad",
    [
        {"S": 1},
        {"N": "1x"},
        {"N": 1},
        {"B": "AA=="},  # binary in records is bytes, not base64
        {"BOOL": 1},
        {"NULL": False},
        {"L": "x"},
        {"M": []},
        {"S": "a", "N": "1"},
        {"Z": "a"},
    ],
)
def test_canonical_typed_rejects(bad: Any) -> None:
    with pytest.raises(ValueError):
        canonical_typed(bad)


@pytest.mark.parametrize("text", ["AA", "AA==\n", "A===", "AB==", " AA=="])
def test_base64_must_be_canonical_padded(text: str) -> None:
    with pytest.raises(ValueError):
        typed_from_json({"B": text})


def _entity_item() -> dict[str, Any]:
    rec = sample_records()[1]
    assert isinstance(rec, EntityRecord)
    return item_from_record(rec)


def test_entity_attributes_are_canonicalised_on_read() -> None:
    item = _entity_item()
    item["tags"] = {"SS": ["z", "a"]}
    rec = record_from_item(item, "o")
    assert isinstance(rec, EntityRecord) and rec.attributes["tags"] == {"SS": ["a", "z"]}


def test_bad_entity_attribute_is_malformed() -> None:
    item = _entity_item()
    item["tags"] = {"SS": []}
    assert _code(record_from_item(item, "o")) == "RECORD_MALFORMED"


def test_envelope_version_without_envelope_is_malformed() -> None:
    item = {"pk": {"S": "dialogue#d"}, "sk": {"S": "meta"}, "envelope_version": {"N": "1"}}
    assert _code(record_from_item(item, "o")) == "RECORD_MALFORMED"


def test_explicit_envelope_version_one_is_kept() -> None:
    item = _entity_item()
    item["envelope_version"] = {"N": "1"}
    rec = record_from_item(item, "o")
    assert isinstance(rec, EntityRecord) and rec.envelope is not None
    assert rec.envelope.version == 1 and rec.envelope.explicit_version
    assert item_from_record(rec) == item
    del item["envelope_version"]
    rec2 = record_from_item(item, "o")
    assert isinstance(rec2, EntityRecord) and rec2.envelope is not None
    assert not rec2.envelope.explicit_version and "envelope_version" not in item_from_record(rec2)


@pytest.mark.parametrize("text", ["01", "", "-1", "1.0", "١", " 1"])
def test_non_canonical_envelope_version_is_malformed(text: str) -> None:
    item = _entity_item()
    item["envelope_version"] = {"N": text}
    assert _code(record_from_item(item, "o")) == "RECORD_MALFORMED"


def test_partial_envelope_is_malformed() -> None:
    item = _entity_item()
    del item["content_nonce"]
    result = record_from_item(item, "o")
    assert _code(result) == "RECORD_MALFORMED"
    assert isinstance(result, Finding) and "content_nonce" in result.message


def _dek_item() -> dict[str, Any]:
    rec = sample_records()[3]
    assert isinstance(rec, WrappedDek)
    return item_from_record(rec)


@pytest.mark.parametrize("sk", ["dek#0", "dek#01", "dek#١", "dek#", "dek#1.0", "dek#²"])
def test_dek_version_must_be_canonical_ascii(sk: str) -> None:
    item = _dek_item()
    item["sk"] = {"S": sk}
    assert _code(record_from_item(item, "o")) == "RECORD_MALFORMED"


def test_dek_unknown_attribute_is_malformed_not_dropped() -> None:
    item = _dek_item()
    item["note"] = {"S": "x"}
    result = record_from_item(item, "o")
    assert _code(result) == "RECORD_MALFORMED"
    assert isinstance(result, Finding) and "note" in result.message


def test_dek_with_bad_dialogue_is_address_invalid() -> None:
    item = _dek_item()
    item["pk"] = {"S": "dialogue#a/b"}
    assert _code(record_from_item(item, "o")) == "ADDRESS_INVALID"


def _audit_item() -> dict[str, Any]:
    return item_from_record(sample_records()[4])


@pytest.mark.parametrize("number", ["--5", "007", "-0", "1e3", "+1", "١"])
def test_audit_numbers_must_be_canonical_integers(number: str) -> None:
    item = _audit_item()
    item["seq"] = {"N": number}
    assert _code(record_from_item(item, "o")) == "RECORD_MALFORMED"


def test_audit_sort_key_must_match_event_id() -> None:
    item = _audit_item()
    item["sk"] = {"S": "event#other"}
    assert _code(record_from_item(item, "o")) == "RECORD_MALFORMED"
    item = _audit_item()
    del item["event_id"]
    assert _code(record_from_item(item, "o")) == "RECORD_MALFORMED"


def test_audit_field_types() -> None:
    item = _audit_item()
    item["x"] = {"BOOL": True}
    assert _code(record_from_item(item, "o")) == "RECORD_MALFORMED"
    assert plain_from_typed({"N": "-12"}) == -12


@pytest.mark.parametrize(
    ("item", "code"),
    [
        ({"sk": {"S": "meta"}}, "RECORD_MALFORMED"),
        ({"pk": {"N": "1"}, "sk": {"S": "meta"}}, "RECORD_MALFORMED"),
        ({"pk": {"S": "user#1"}, "sk": {"S": "meta"}}, "ADDRESS_INVALID"),
        ({"pk": {"S": "dialogue#d"}, "sk": {"S": "meta#1"}}, "ADDRESS_INVALID"),
        ({"pk": {"S": "audit#"}, "sk": {"S": "event#1"}}, "RECORD_MALFORMED"),
    ],
)
def test_unmappable_items_are_findings(item: dict[str, Any], code: str) -> None:
    result = record_from_item(item, "file:3")
    assert _code(result) == code
    assert isinstance(result, Finding) and result.source == "file:3"


def test_envelope_defaults_are_backwards_compatible() -> None:
    env = Envelope(b"c" * 16, b"n" * 12, "dek#d#1", "00" * 32)
    assert env.version == 1 and env.explicit_version is False
