"""Rules the specification used to leave to inference (H14), pinned as behaviour.

Each test names the section that now states the rule: MODEL-3 numbers and
their MAN-1.3 canonical form, EXP-9.2 key resolution, EXP-3/5 counts in
``extra``, MAN-1.1 verbatim event ids in the leaves file, MAN-3.2 seq
reading of lifecycle events.
"""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chainaudit.chain.tips import chain_event_of
from chainaudit.conformance.vectorgen.export import records
from chainaudit.conformance.vectorgen.export_fixtures import write_ddb_export
from chainaudit.errors import InputError
from chainaudit.findings import Finding, codes
from chainaudit.migration.manifest import leaves_line, read_leaves
from chainaudit.records.address import Address
from chainaudit.records.digest import canonical_number, record_digest
from chainaudit.records.item import is_number, item_from_record, record_from_item
from chainaudit.records.model import AuditEvent, EntityRecord
from chainaudit.sources.ddb_export import DynamoDBExportSource
from chainaudit.sources.ndjson import NdjsonSource

VECTORS = Path(__file__).resolve().parent.parent / "vectors" / "export"


def _in_dynamodb_range(text: str) -> bool:
    """Reference for MODEL-3's range, through Decimal (slow, exact)."""
    d = Decimal(text)
    if d.is_zero():
        return True
    _sign, digits, exponent = d.as_tuple()
    assert isinstance(exponent, int)
    trimmed = "".join(map(str, digits)).strip("0")
    lead = d.adjusted()
    return len(trimmed) <= 38 and -130 <= lead <= 125


numbers = st.from_regex(
    r"\A[+-]?([0-9]{1,45}(\.[0-9]{0,45})?|\.[0-9]{1,45})([eE][+-]?[0-9]{1,4})?\Z"
)


@settings(max_examples=300)
@given(numbers)
def test_is_number_agrees_with_a_decimal_reference(text: str) -> None:
    """MODEL-3: syntax and DynamoDB's range (38 digits, exponent -130..125)."""
    assert is_number(text) == _in_dynamodb_range(text)


@settings(max_examples=300)
@given(numbers)
def test_canonical_number_keeps_the_value_and_is_short(text: str) -> None:
    """MAN-1.3: every MODEL-3 number is rewritten to a short plain decimal of equal value."""
    if not is_number(text):
        return
    out = canonical_number(text)
    assert Decimal(out) == Decimal(text)
    assert len(out) <= 1 + 130 + 38
    assert canonical_number(out) == out
    assert "e" not in out.lower() and not out.startswith("+")


def test_number_spellings_digest_alike() -> None:
    """MAN-1.3: +1, 1, 1.0 and 1e0 are one value; a DynamoDB round trip must not change a digest."""
    addr = Address.parse("dialogue:d-1/entity:meta")
    digests = {
        record_digest(EntityRecord(addr, {"n": {"N": t}}, None)) for t in ("+1", "1", "1.0", "1e0")
    }
    assert len(digests) == 1
    halves = {record_digest(EntityRecord(addr, {"n": {"N": t}}, None)) for t in (".5", "0.50")}
    assert len(halves) == 1


def test_numbers_outside_dynamodb_range_are_not_records() -> None:
    item = item_from_record(EntityRecord(Address.parse("dialogue:d-1/entity:meta"), {}, None))
    item["n"] = {"N": "1e126"}
    out = record_from_item(item, "x:1")
    assert isinstance(out, Finding) and out.code is codes.RECORD_MALFORMED


def _ddb(tmp_path: Path, **summary_changes: object) -> DynamoDBExportSource:
    items = [item_from_record(r) for r in records()]
    entries = write_ddb_export(tmp_path, [items], prefix="exports")
    summary = json.loads((tmp_path / "manifest-summary.json").read_text())
    summary.update(summary_changes)
    (tmp_path / "manifest-summary.json").write_text(json.dumps(summary))
    if summary.get("manifestFilesS3Key") == "manifest-files.json":
        name = entries[0]["dataFileS3Key"].rsplit("/", 1)[1]
        entries[0]["dataFileS3Key"] = f"data/{name}"
        (tmp_path / "manifest-files.json").write_text(json.dumps(entries[0]) + "\n")
    return DynamoDBExportSource(tmp_path)


def test_ddb_manifest_key_without_slash_means_the_bucket_root(tmp_path: Path) -> None:
    """EXP-9.2: an empty root; the data key itself must be data/<name>."""
    out = list(_ddb(tmp_path, manifestFilesS3Key="manifest-files.json").read())
    assert not [x for x in out if isinstance(x, Finding)]
    assert len(out) == len(records())


def test_ddb_root_from_arn_may_follow_a_prefix(tmp_path: Path) -> None:
    """EXP-9.2: without manifestFilesS3Key the root AWSDynamoDB/<id> may follow any prefix."""
    out = list(_ddb(tmp_path, manifestFilesS3Key=None).read())
    assert len(out) == len(records())


def test_ddb_root_from_manifest_key_must_start_the_data_key(tmp_path: Path) -> None:
    """EXP-9.2: a root from manifestFilesS3Key is a prefix, even when it begins AWSDynamoDB/."""
    with pytest.raises(InputError, match="not under the export's key"):
        list(_ddb(tmp_path, manifestFilesS3Key="AWSDynamoDB/01700000000000-0a1b2c3d/m.json").read())


def test_one_per_file_export_findings_carry_their_count() -> None:
    """EXP-3/EXP-5: where = the first such line, extra.count = how many."""
    out = list(NdjsonSource(VECTORS / "ndjson" / "several-faults.ndjson").read())
    found = {f.code.name: f for f in out if isinstance(f, Finding)}
    assert found["EXPORT_OUT_OF_ORDER"].extra == {"count": 1}
    assert found["EXPORT_OUT_OF_ORDER"].where.endswith(":3")
    assert found["EXPORT_NOT_CANONICAL"].extra == {"count": 1}


def test_event_ids_with_control_characters_keep_the_leaves_file_one_line_per_key() -> None:
    """MAN-1.1/MAN-3.4: event ids are verbatim in keys; JCS escapes them in the leaves file."""
    from chainaudit.records.digest import record_key

    ev = AuditEvent("c/1", {"event_id": "e\n2\u2028x", "seq": 0})
    key = record_key(ev)
    assert key == "audit:c%2F1/e\n2\u2028x"
    line = leaves_line(key, record_digest(ev))
    assert line.count(b"\n") == 1 and line.endswith(b"\n")
    assert [k for k, _ in read_leaves([line])] == [key]


@pytest.mark.parametrize("seq", ["--5", "\u0662", "1.0", "+-1"])
def test_lifecycle_seq_that_is_not_an_ascii_integer_is_no_seq(seq: str) -> None:
    """MAN-3.2: such an event has no seq (it used to raise ValueError for '--5')."""
    addr = Address.parse("dialogue:d-1/entity:event/perspective#01%2301#2026-01-01T00:00:00.000Z")
    ev = chain_event_of(EntityRecord(addr, {"seq": {"N": seq}}, None), "k")
    assert ev is not None and ev.seq is None
