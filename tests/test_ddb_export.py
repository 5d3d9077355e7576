"""DynamoDB Export to S3 reader (EXP-8), on directories built to the documented layout."""

from __future__ import annotations

import base64
import gzip
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chainaudit.conformance.vectorgen.export_fixtures import (
    ddb_json_line,
    gzip_bytes,
    write_ddb_export,
    write_ddb_manifests,
)
from chainaudit.errors import InputError
from chainaudit.findings import Finding
from chainaudit.records.item import item_from_record
from chainaudit.records.model import EntityRecord, Record
from chainaudit.sources.ddb_export import DynamoDBExportSource
from chainaudit.sources.open import open_source
from chainaudit.testing import sample_records, without_origin
from chainaudit.testing.strategies import records


def _items() -> list[Any]:
    return [item_from_record(r) for r in sample_records()]


def _build(tmp_path: Path, **kw: Any) -> tuple[Path, list[dict[str, Any]]]:
    items = _items()
    directory = tmp_path / "export"
    entries = write_ddb_export(directory, [items[:2], [], items[2:]], unlisted=items[:1], **kw)
    return directory, entries


def _read(directory: Path) -> tuple[list[Record], list[str]]:
    recs: list[Record] = []
    codes: list[str] = []
    for x in DynamoDBExportSource(directory).read():
        if isinstance(x, Finding):
            codes.append(x.code.name)
        else:
            recs.append(x)
    return recs, codes


def test_reads_every_listed_item_with_binary_decoded(tmp_path: Path) -> None:
    directory, _ = _build(tmp_path)
    recs, codes = _read(directory)
    assert codes == []
    assert [without_origin(r) for r in recs] == sample_records()
    entity = next(r for r in recs if isinstance(r, EntityRecord) and r.envelope is not None)
    assert entity.envelope is not None and isinstance(entity.envelope.ciphertext, bytes)
    assert entity.attributes["blob"] == {"B": b"\x00\xff"}
    assert entity.attributes["nested"]["M"]["k"]["L"][1] == {"BS": [b"\x00", b"\x01"]}
    assert recs[0].origin.endswith(".json.gz:1")


@settings(max_examples=30, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(records(), max_size=6), st.integers(1, 3))
def test_round_trip_for_all_records(tmp_path: Path, recs: list[Record], n_files: int) -> None:
    by_key = {}
    for r in recs:
        item = item_from_record(r)
        by_key.setdefault((item["pk"]["S"], item["sk"]["S"]), r)
    recs = list(by_key.values())
    files: list[list[Any]] = [[] for _ in range(n_files)]
    for i, r in enumerate(recs):
        files[i % n_files].append(item_from_record(r))
    directory = tmp_path / f"rt-{len(list(tmp_path.iterdir()))}"
    write_ddb_export(directory, files)
    back, codes = _read(directory)
    assert codes == []
    expected = [r for k in range(n_files) for r in recs[k::n_files]]
    assert [without_origin(r) for r in back] == expected


def test_unlisted_file_is_ignored(tmp_path: Path) -> None:
    directory, _ = _build(tmp_path)
    assert (directory / "data" / "unlisted-0000.json.gz").exists()
    recs, _ = _read(directory)
    assert len(recs) == len(sample_records())  # the unlisted copy of item 0 was not read


def test_empty_data_file_and_zero_byte_file_are_accepted(tmp_path: Path) -> None:
    directory, entries = _build(tmp_path)
    empty = directory / entries[1]["dataFileS3Key"].split("/", 3)[3]
    assert gzip.decompress(empty.read_bytes()) == b""
    empty.write_bytes(b"")  # an S3 object of zero bytes
    entries[1]["md5Checksum"] = "1B2M2Y8AsgTpgAmY7PhCfg=="  # MD5 of nothing
    write_ddb_manifests(directory, entries)
    assert _read(directory)[1] == []


def test_checksum_mismatch(tmp_path: Path) -> None:
    directory, entries = _build(tmp_path)
    entries[2]["md5Checksum"] = base64.b64encode(b"\x01" * 16).decode()
    write_ddb_manifests(directory, entries)
    recs, codes = _read(directory)
    assert codes == ["DDB_EXPORT_CHECKSUM_MISMATCH"]
    assert len(recs) == len(sample_records())


def test_altered_data_file_is_a_checksum_mismatch(tmp_path: Path) -> None:
    directory, entries = _build(tmp_path)
    path = directory / entries[0]["dataFileS3Key"].split("/", 3)[3]
    lines = gzip.decompress(path.read_bytes()).replace(b'"open"', b'"shut"')
    path.write_bytes(gzip_bytes(lines))
    assert _read(directory)[1] == ["DDB_EXPORT_CHECKSUM_MISMATCH"]


def test_file_count_mismatch(tmp_path: Path) -> None:
    directory, entries = _build(tmp_path)
    entries[0]["itemCount"] += 1
    write_ddb_manifests(directory, entries)
    assert _read(directory)[1] == ["DDB_EXPORT_COUNT_MISMATCH", "DDB_EXPORT_COUNT_MISMATCH"]


def test_summary_count_mismatch(tmp_path: Path) -> None:
    directory, entries = _build(tmp_path)
    write_ddb_manifests(directory, entries, item_count=1)
    assert _read(directory)[1] == ["DDB_EXPORT_COUNT_MISMATCH"]


def test_missing_listed_file(tmp_path: Path) -> None:
    directory, entries = _build(tmp_path)
    (directory / entries[0]["dataFileS3Key"].split("/", 3)[3]).unlink()
    recs, codes = _read(directory)
    assert codes == ["DDB_EXPORT_FILE_MISSING", "DDB_EXPORT_COUNT_MISMATCH"]
    assert len(recs) == len(sample_records()) - 2


def test_bad_key_is_a_finding(tmp_path: Path) -> None:
    items = _items()
    items[0]["sk"] = {"S": "nosuchtype#1"}
    directory = tmp_path / "e"
    write_ddb_export(directory, [items])
    assert _read(directory)[1] == ["ADDRESS_INVALID"]


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        (b'{"Item":{"pk":{"S":"dialogue#d"},"b":{"B":"not base64!"}}}', "base64"),
        (b'{"Keys":{}}', '{"Item": {...}}'),
        (b'{"Item":{"pk":{"Q":"x"}}}', "unknown type tag"),
        (b"{oops", "malformed JSON"),
    ],
)
def test_malformed_data_line_names_file_and_line(tmp_path: Path, line: bytes, reason: str) -> None:
    directory, entries = _build(tmp_path)
    path = directory / entries[2]["dataFileS3Key"].split("/", 3)[3]
    body = gzip.decompress(path.read_bytes()) + line + b"\n"
    path.write_bytes(gzip_bytes(body))
    n = body.count(b"\n")
    with pytest.raises(InputError) as exc:
        _read(directory)
    assert exc.value.where == f"{path}:{n}"
    assert reason in exc.value.message


def test_truncated_gzip_is_an_input_error(tmp_path: Path) -> None:
    directory, entries = _build(tmp_path)
    path = directory / entries[0]["dataFileS3Key"].split("/", 3)[3]
    path.write_bytes(path.read_bytes()[:-10])
    with pytest.raises(InputError) as exc:
        _read(directory)
    assert str(path) in str(exc.value) and "gzip" in exc.value.message


@pytest.mark.parametrize(
    ("field", "value", "reason"),
    [
        ("outputFormat", "ION", "outputFormat"),
        ("exportType", "INCREMENTAL_EXPORT", "FULL_EXPORT"),
        ("itemCount", "7", "itemCount"),
    ],
)
def test_unsupported_summary(tmp_path: Path, field: str, value: str, reason: str) -> None:
    directory, _ = _build(tmp_path)
    path = directory / "manifest-summary.json"
    summary = json.loads(path.read_text())
    summary[field] = value
    path.write_text(json.dumps(summary))
    with pytest.raises(InputError, match=reason):
        _read(directory)


@pytest.mark.parametrize(
    "key",
    [
        "exports/AWSDynamoDB/01700000000000-0a1b2c3d/../../etc/passwd",
        "exports/AWSDynamoDB/01700000000000-0a1b2c3d/data/../../x.json.gz",
        "other/AWSDynamoDB/zzz/data/x.json.gz",
        "exports/AWSDynamoDB/01700000000000-0a1b2c3d/data/sub/x.json.gz",
    ],
)
def test_data_key_outside_the_export_is_refused(tmp_path: Path, key: str) -> None:
    directory, entries = _build(tmp_path)
    entries[0]["dataFileS3Key"] = key
    write_ddb_manifests(directory, entries)
    with pytest.raises(InputError) as exc:
        _read(directory)
    assert exc.value.where == f"{directory / 'manifest-files.json'}:1"


def test_key_resolved_from_export_arn_when_manifest_key_absent(tmp_path: Path) -> None:
    directory, _ = _build(tmp_path)
    path = directory / "manifest-summary.json"
    summary = json.loads(path.read_text())
    del summary["manifestFilesS3Key"]
    path.write_text(json.dumps(summary))
    assert _read(directory)[1] == []


def test_open_source_detects_an_export_directory(tmp_path: Path) -> None:
    directory, _ = _build(tmp_path)
    assert isinstance(open_source(str(directory)), DynamoDBExportSource)


def test_data_line_format_matches_dynamodb_json(tmp_path: Path) -> None:
    line = ddb_json_line({"pk": {"S": "a"}, "b": {"B": b"\xff"}, "s": {"BS": [b"\x01"]}})
    assert line == b'{"Item":{"pk":{"S":"a"},"b":{"B":"/w=="},"s":{"BS":["AQ=="]}}}\n'
