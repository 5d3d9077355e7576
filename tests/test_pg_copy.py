"""PostgreSQL row_to_json COPY input (EXP-9): both escapings, bytea, mapping, errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chainaudit.conformance.vectorgen.export_fixtures import copy_text_escape, write_pg_copy
from chainaudit.errors import InputError
from chainaudit.findings import Finding
from chainaudit.records.item import item_from_record
from chainaudit.records.model import Record
from chainaudit.sources.open import PgCopyDirSource, open_source
from chainaudit.sources.pg_copy import PgCopySource, copy_text_unescape, table_of
from chainaudit.testing import sample_records, without_origin
from chainaudit.testing.strategies import records


def _read_dir(directory: Path) -> tuple[list[Record], list[str]]:
    recs: list[Record] = []
    codes: list[str] = []
    for x in open_source(str(directory)).read():
        if isinstance(x, Finding):
            codes.append(x.code.name)
        else:
            recs.append(x)
    return recs, codes


def _by_kind(recs: list[Record]) -> list[Record]:
    order = {"EntityRecord": 0, "WrappedDek": 1, "AuditEvent": 2}
    return sorted(recs, key=lambda r: order[type(r).__name__])


@pytest.mark.parametrize("copy_text", [True, False])
def test_rows_map_to_the_same_records(tmp_path: Path, copy_text: bool) -> None:
    write_pg_copy(tmp_path, sample_records(), copy_text=copy_text)
    recs, codes = _read_dir(tmp_path)
    assert codes == []
    assert [without_origin(r) for r in recs] == _by_kind(sample_records())


def test_copy_text_file_has_doubled_backslashes_before_bytea(tmp_path: Path) -> None:
    (path,) = [p for p in write_pg_copy(tmp_path, sample_records()) if "entities" in p.name]
    assert b'"content_encrypted":"\\\\\\\\x' in path.read_bytes()
    (raw,) = [
        p
        for p in write_pg_copy(tmp_path / "r", sample_records(), copy_text=False)
        if "entities" in p.name
    ]
    assert b'"content_encrypted":"\\\\x' in raw.read_bytes()


@settings(max_examples=40, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(records(), max_size=6))
def test_round_trip_for_all_records(tmp_path: Path, recs: list[Record]) -> None:
    seen: dict[tuple[str, str], Record] = {}
    for r in recs:
        item = item_from_record(r)
        seen.setdefault((item["pk"]["S"], item["sk"]["S"]), r)
    recs = list(seen.values())
    for copy_text in (True, False):
        d = tmp_path / f"copy-text-{copy_text}"
        write_pg_copy(d, recs, copy_text=copy_text)
        back, codes = _read_dir(d)
        assert codes == []
        assert [without_origin(r) for r in back] == _by_kind(recs)


@given(st.binary(max_size=40))
def test_copy_text_escaping_round_trips(data: bytes) -> None:
    assert copy_text_unescape(copy_text_escape(data)) == data


@pytest.mark.parametrize(
    ("escaped", "raw"),
    [
        (b"a\\\\b", b"a\\b"),
        (b"\\n\\t\\r\\b\\f\\v", b"\n\t\r\b\f\v"),
        (b"\\101\\x41\\x4", b"AA\x04"),
        (b"\\q", b"q"),
        (b"plain", b"plain"),
    ],
)
def test_copy_text_unescape(escaped: bytes, raw: bytes) -> None:
    assert copy_text_unescape(escaped) == raw


def test_table_and_escaping_from_name() -> None:
    assert table_of(Path("entities.copy.json")) == ("entities", "copy-text")
    assert table_of(Path("2026-11-26.audit_events.jsonl.gz")) == ("audit_events", "none")
    with pytest.raises(InputError):
        table_of(Path("entities.json"))


def test_unknown_table_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "users.copy.json"
    path.write_bytes(b"")
    with pytest.raises(InputError, match="unknown table 'users'"):
        PgCopySource(path)


def test_explicit_table_option(tmp_path: Path) -> None:
    (src,) = [
        p for p in write_pg_copy(tmp_path, sample_records(), copy_text=False) if "wrapped" in p.name
    ]
    renamed = src.rename(tmp_path / "dump.txt")
    recs = list(PgCopySource(renamed, table="wrapped_deks", escaping="none").read())
    assert len(recs) == 1 and not isinstance(recs[0], Finding)


def test_end_of_data_marker(tmp_path: Path) -> None:
    (path,) = [p for p in write_pg_copy(tmp_path, sample_records()) if "audit" in p.name]
    path.write_bytes(path.read_bytes() + b"\\.\n")
    assert len(list(PgCopySource(path).read())) == 2
    path.write_bytes(path.read_bytes() + b"{}\n")
    with pytest.raises(InputError, match="after the end-of-data marker"):
        list(PgCopySource(path).read())


def test_bad_dialogue_id_is_a_finding(tmp_path: Path) -> None:
    path = tmp_path / "entities.jsonl"
    row = {
        "dialogue_id": "a/b",
        "entity_type": "meta",
        "subkey": "",
        "attributes": {},
        "content_encrypted": None,
        "content_nonce": None,
        "key_id": None,
        "aad_hash": None,
        "envelope_version": None,
    }
    path.write_text(json.dumps(row) + "\n")
    (finding,) = list(PgCopySource(path).read())
    assert isinstance(finding, Finding) and finding.code.name == "ADDRESS_INVALID"
    assert finding.where == f"{path}:1"


_ENTITY = {
    "dialogue_id": "d",
    "entity_type": "meta",
    "subkey": "",
    "attributes": {},
    "content_encrypted": "\\x00",
    "content_nonce": "\\x0102",
    "key_id": "dek#d#1",
    "aad_hash": "ab",
    "envelope_version": None,
}


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"content_encrypted": "\\xzz"}, "malformed bytea hex"),
        ({"content_encrypted": "\\x0"}, "malformed bytea hex"),
        ({"content_encrypted": "abc"}, "not bytea hex output"),
        ({"content_encrypted": "\\\\x00"}, "looks COPY text-escaped"),
        ({"subkey": None}, "entities.subkey is null"),
        ({"envelope_version": "1"}, "must be int"),
        ({"attributes": {"x": {"S": 1}}}, "S value must be a string"),
        ({"attributes": []}, "must be object"),
        ({"extra": 1}, "unknown column(s) extra"),
    ],
)
def test_bad_rows_name_file_and_line(
    tmp_path: Path, change: dict[str, object], reason: str
) -> None:
    path = tmp_path / "entities.jsonl"
    good = json.dumps(_ENTITY)
    path.write_text(good + "\n" + json.dumps({**_ENTITY, **change}) + "\n")
    with pytest.raises(InputError) as exc:
        list(PgCopySource(path).read())
    assert exc.value.where == f"{path}:2"
    assert reason in exc.value.message


def test_missing_column(tmp_path: Path) -> None:
    path = tmp_path / "entities.jsonl"
    row = dict(_ENTITY)
    del row["aad_hash"]
    path.write_text(json.dumps(row) + "\n")
    with pytest.raises(InputError, match="lacks column"):
        list(PgCopySource(path).read())


def test_copy_text_errors(tmp_path: Path) -> None:
    path = tmp_path / "entities.copy.json"
    path.write_bytes(b"\\N\n")
    with pytest.raises(InputError, match="NULL"):
        list(PgCopySource(path).read())
    path.write_bytes(b'{"a":1}\t{"b":2}\n')
    with pytest.raises(InputError, match="more than one column"):
        list(PgCopySource(path).read())


def test_raw_json_given_as_copy_text_fails_loudly(tmp_path: Path) -> None:
    (raw,) = [
        p
        for p in write_pg_copy(tmp_path, sample_records(), copy_text=False)
        if "entities" in p.name
    ]
    wrong = raw.rename(tmp_path / "entities.copy.json")
    with pytest.raises(InputError):
        list(PgCopySource(wrong).read())


def test_audit_fields_must_be_plain(tmp_path: Path) -> None:
    path = tmp_path / "audit_events.jsonl"
    row = {"chain_id": "c", "event_id": "e", "fields": {"event_id": "e", "x": 1.5}}
    path.write_text(json.dumps(row) + "\n")
    with pytest.raises(InputError, match=r"fields\.x"):
        list(PgCopySource(path).read())


def test_audit_event_id_column_must_match_fields(tmp_path: Path) -> None:
    path = tmp_path / "audit_events.jsonl"
    row = {"chain_id": "c", "event_id": "e1", "fields": {"event_id": "e2"}}
    path.write_text(json.dumps(row) + "\n")
    (finding,) = list(PgCopySource(path).read())
    assert isinstance(finding, Finding) and finding.code.name == "RECORD_MALFORMED"


def test_directory_reads_tables_in_schema_order(tmp_path: Path) -> None:
    write_pg_copy(tmp_path, sample_records())
    src = open_source(str(tmp_path))
    assert isinstance(src, PgCopyDirSource)
    assert [s.table for s in src.sources] == ["entities", "wrapped_deks", "audit_events"]


def test_ddb_export_to_ndjson_to_pg_copy_to_ndjson_gives_the_same_bytes(tmp_path: Path) -> None:
    from chainaudit.conformance.vectorgen.export_fixtures import write_ddb_export
    from chainaudit.sources.ndjson import write_export

    items = [item_from_record(r) for r in sample_records()]
    write_ddb_export(tmp_path / "ddb", [items[3:], [], items[:3]])  # scan order != key order
    a = tmp_path / "a.ndjson"
    write_export(
        a, open_source(str(tmp_path / "ddb")).read(), source="s", created_at="2026-01-01T00:00:00Z"
    )
    recs = [x for x in open_source(str(a)).read() if not isinstance(x, Finding)]
    write_pg_copy(tmp_path / "pg", recs, copy_text=True)
    b = tmp_path / "b.ndjson"
    write_export(
        b, open_source(str(tmp_path / "pg")).read(), source="s", created_at="2026-01-01T00:00:00Z"
    )
    assert a.read_bytes() == b.read_bytes()
