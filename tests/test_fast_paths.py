"""The fast paths of reading are exact: each gives what the reference path gives.

Every shortcut taken for speed (``orjson`` parsing and canonical checks in
the NDJSON reader, cached address validation, typed-value fast paths) is
compared here with the code it short-cuts, on generated and mutated input:
the same records and findings, or the same input error with the same text.
"""

from __future__ import annotations

import json
import random
import re
from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chainaudit.errors import InputError
from chainaudit.primitives import strictjson
from chainaudit.records import address as address_mod
from chainaudit.records.address import Address, AddressError, EntityType
from chainaudit.records.item import (
    _typed_from_json,
    item_from_record,
    record_from_item,
    typed_from_json,
)
from chainaudit.records.model import Record
from chainaudit.sources import ndjson
from chainaudit.sources.jsonlines import canonical_json
from chainaudit.sources.ndjson import NdjsonSource, write_export
from chainaudit.testing import sample_records
from chainaudit.testing.strategies import records

ROOT = Path(__file__).resolve().parent.parent
_HIGH = re.compile(rb"[\xee-\xff]")

# --- JSON ----------------------------------------------------------------------------

_strings = st.text(st.characters(exclude_categories=("Cs",)), max_size=8)
_number_free = st.recursive(
    st.one_of(st.none(), st.booleans(), _strings),
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(_strings, inner, max_size=4)
    ),
    max_leaves=16,
)


@settings(max_examples=500)
@given(_number_free)
def test_orjson_sorted_output_is_canonical_json_below_u_e000(value: Any) -> None:
    """The claim _fast_record rests on, for values without numbers."""
    expected = canonical_json(value)
    if _HIGH.search(expected) is None:
        assert orjson.dumps(value, option=orjson.OPT_SORT_KEYS) == expected


@settings(max_examples=500)
@given(_number_free)
def test_orjson_sorted_output_is_pythons_sorted_output(value: Any) -> None:
    """The claim digest.jcs rests on: code-point order, compact, UTF-8."""
    expected = json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    assert orjson.dumps(value, option=orjson.OPT_SORT_KEYS) == expected.encode("utf-8")


@settings(max_examples=300)
@given(_number_free, st.sampled_from([(",", ":"), (", ", ": ")]))
def test_quick_loads_equals_the_reference_without_numbers(value: Any, sep: tuple[str, str]) -> None:
    data = json.dumps(value, ensure_ascii=bool(len(str(value)) % 2), separators=sep).encode()
    got = strictjson.quick_loads(data)
    assert got is strictjson.REFUSED or got == strictjson.loads(data, unique=False)
    assert strictjson.fast_loads(data) == strictjson.loads(data, unique=False)


@pytest.mark.parametrize(
    "data",
    [
        b'"\\ud800"',
        b'["\\udc00x"]',
        b"\xef\xbb\xbf{}",
        b"1e999",
        b"NaN",
        b"[Infinity]",
        b'"a\x01"',
        b"\xff",
        b"[" * 101 + b"]" * 101,
        b"1" * 4301,
        b'{"a":1,"a":2}',
        b"[1,]",
    ],
)
def test_fast_loads_reports_what_the_reference_reports(data: bytes) -> None:
    try:
        expected: Any = strictjson.loads(data, unique=False)
    except strictjson.JsonError as exc:
        with pytest.raises(strictjson.JsonError) as got:
            strictjson.fast_loads(data)
        assert got.value.msg == exc.msg
    else:
        assert strictjson.fast_loads(data) == expected


# --- NDJSON: the fast reader against the reference reader ------------------------------


def _outcome(path: Path, fast: bool, monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setattr(ndjson, "FAST_PATH", fast)
    try:
        return list(NdjsonSource(path).read())
    except InputError as exc:
        return ("InputError", str(exc))


def _same(path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    reference = _outcome(path, False, monkeypatch)
    assert _outcome(path, True, monkeypatch) == reference
    return reference


def test_every_export_vector_reads_the_same(monkeypatch: pytest.MonkeyPatch) -> None:
    inputs = sorted((ROOT / "vectors" / "export" / "ndjson").glob("*.ndjson*"))
    assert inputs
    for path in inputs:
        _same(path, monkeypatch)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.lists(records(), max_size=6))
def test_generated_exports_read_the_same(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, recs: list[Record]
) -> None:
    path = tmp_path / "x.ndjson"
    try:
        write_export(path, recs, source="t", created_at="2026-01-01T00:00:00Z")
    except ValueError:  # two records with one key
        return
    _same(path, monkeypatch)


_SPLICES = [
    b'"',
    b"\\",
    b"\\u0000",
    b"\\ud800",
    b"1",
    b"12345678901234567890123",
    b"-0",
    b"1.5",
    b"[",
    b"]",
    b"{",
    b"}",
    b",",
    b":",
    b" ",
    b"\xc3\xa9",
    b"\xee\x80\x80",
    b"\xff",
    b"null",
    b'"S"',
    b'"N"',
    b'"B"',
    b'"SS":["b","a"]',
    b'{"S":"x"}',
    b'"pk"',
    b'"kind"',
    b"true",
    b"=",
    b"A",
    b"%",
]


def test_mutated_lines_read_the_same(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Random splices into record lines: the fast reader never answers differently."""
    base = tmp_path / "base.ndjson"
    write_export(base, sample_records(), source="t", created_at="2026-01-01T00:00:00Z")
    lines = base.read_bytes().split(b"\n")
    rng = random.Random(20261207)
    for n in range(400):
        i = rng.randrange(1, len(lines) - 2)
        line = lines[i]
        at = rng.randrange(len(line) + 1)
        cut = rng.choice([0, 0, 1, 2])
        mutated = line[:at] + rng.choice(_SPLICES) + line[at + cut :]
        path = tmp_path / f"m{n % 8}.ndjson"
        path.write_bytes(b"\n".join([*lines[:i], mutated, *lines[i + 1 :]]))
        _same(path, monkeypatch)


# --- addresses and typed values ------------------------------------------------------------

_PIECES = ["a", "Z", "0", "-", "%", "%2", "%23", "%2F", "%25", "/", "é", "e\u0301", "\x00"]
_component = st.lists(st.sampled_from([*_PIECES, "\ue000", "\U0001f600"]), max_size=5).map("".join)
_type_names = st.sampled_from([*(t.value for t in EntityType), "Meta", "dek", ""])


@st.composite
def _keys(draw: st.DrawFn) -> tuple[str, str]:
    pk = draw(st.sampled_from(["dialogue#", "dialogue", "audit#", ""])) + draw(_component)
    if draw(st.booleans()):
        return pk, "meta"
    parts = draw(
        st.lists(
            st.one_of(_component, st.sampled_from(["01", "2026-01-01T00:00:00Z", "claim"])),
            max_size=4,
        )
    )
    return pk, "#".join([draw(_type_names), *parts])


def _address(pk: str, sk: str) -> Any:
    try:
        a = Address.from_dynamodb(pk, sk)
    except AddressError as exc:
        return ("AddressError", str(exc))
    return (a, str(a), a.to_dynamodb())


@settings(max_examples=800)
@given(_keys())
def test_cached_address_equals_the_full_check(key: tuple[str, str]) -> None:
    fast = _address(*key)
    fast_again = _address(*key)  # now through the cache
    original = address_mod._fast_from_dynamodb
    try:
        address_mod._fast_from_dynamodb = lambda pk, sk: None  # type: ignore[assignment]
        full = _address(*key)
    finally:
        address_mod._fast_from_dynamodb = original
    assert fast == full == fast_again


def test_address_length_limit_is_the_full_checks() -> None:
    for n in range(990, 1010):
        pk, sk = "dialogue#" + "d" * 200, "ref#" + "#".join(["x" * 250, "y" * 250, "z" * (n - 730)])
        original = address_mod._fast_from_dynamodb
        fast = _address(pk, sk)
        try:
            address_mod._fast_from_dynamodb = lambda pk, sk: None  # type: ignore[assignment]
            assert _address(pk, sk) == fast
        finally:
            address_mod._fast_from_dynamodb = original


def _typed(value: Any) -> Any:
    try:
        return typed_from_json(value, "v")
    except ValueError as exc:
        return ("ValueError", str(exc))


def _typed_reference(value: Any) -> Any:
    try:
        return _typed_from_json(value, "v")
    except ValueError as exc:
        return ("ValueError", str(exc))


@settings(max_examples=600)
@given(
    st.sampled_from(["S", "N", "B"]),
    st.one_of(
        st.text(st.sampled_from("0123456789+-.eE =/AQgw٣²"), max_size=44),
        st.binary(max_size=12).map(lambda b: __import__("base64").b64encode(b).decode()),
    ),
)
def test_typed_value_fast_paths_equal_the_reference(tag: str, text: str) -> None:
    assert _typed({tag: text}) == _typed_reference({tag: text})


@settings(max_examples=300)
@given(records(), st.sampled_from(["", "drop-nonce", "version-1", "version-2", "extra"]))
def test_canonical_mapping_equals_the_checked_mapping(record: Record, change: str) -> None:
    item = item_from_record(record)
    if change == "drop-nonce":
        item.pop("content_nonce", None)
    elif change == "version-1":
        item["envelope_version"] = {"N": "1"}
    elif change == "version-2":
        item["envelope_version"] = {"N": "2"}
    elif change == "extra":
        item["zz"] = {"S": "x"}
    assert record_from_item(dict(item), "o", canonical=True) == record_from_item(dict(item), "o")


def _parsed(text: str) -> Any:
    try:
        a = Address.parse(text)
    except AddressError as exc:
        return ("AddressError", str(exc))
    return (a, str(a))


@st.composite
def _texts(draw: st.DrawFn) -> str:
    head = draw(st.sampled_from(["dialogue:", "dialogue", "Dialogue:", ""]))
    sep = draw(st.sampled_from(["/entity:", "/entity", "/"]))
    type_name = draw(st.sampled_from([*(t.value for t in EntityType), "claim#01", "Meta", ""]))
    parts = draw(
        st.lists(st.one_of(_component, st.sampled_from(["01", "2026-01-01T00:00:00Z"])), max_size=4)
    )
    tail = draw(st.sampled_from(["", "/", "/" + "#".join(parts), "#".join(parts)]))
    return head + draw(_component) + sep + type_name + tail


@settings(max_examples=800)
@given(_texts())
def test_cached_parse_equals_the_full_parse(text: str) -> None:
    fast = _parsed(text)
    original = address_mod._fast_parse
    try:
        address_mod._fast_parse = lambda text: None  # type: ignore[assignment]
        full = _parsed(text)
    finally:
        address_mod._fast_parse = original
    assert fast == full


# --- decrypted payloads (ENV-8) -----------------------------------------------------------

_json_values = st.recursive(
    st.one_of(
        st.none(),
        st.booleans(),
        _strings,
        st.integers(-(2**60), 2**60),
        st.floats(allow_nan=False, allow_infinity=False),
    ),
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(_strings, inner, max_size=3)
    ),
    max_leaves=10,
)


def _payload_outcome(decode: Any, plaintext: bytes) -> Any:
    from chainaudit.envelope.seal import PayloadError

    try:
        return decode(plaintext)
    except PayloadError as exc:
        return ("PayloadError", str(exc))


@settings(max_examples=800)
@given(
    st.dictionaries(_strings, _json_values, max_size=4),
    st.sampled_from(["canonical", "python", "spaced", "duplicate", "bom", "mutated"]),
    st.integers(0, 10_000),
)
def test_payload_fast_path_equals_the_reference(value: Any, form: str, seed: int) -> None:
    from chainaudit.envelope.seal import _decode_payload, decode_payload

    text = json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    if form == "canonical":
        data = canonical_json(value) if _canonical_or_none(value) else text.encode()
    elif form == "python":
        data = text.encode()
    elif form == "spaced":
        data = json.dumps(value).encode()
    elif form == "duplicate":
        data = (text[:-1] + (',"a":1}' if len(text) > 2 else '"a":1,"a":2}')).encode()
    elif form == "bom":
        data = b"\xef\xbb\xbf" + text.encode()
    else:
        rng = random.Random(seed)
        raw = bytearray(text.encode())
        at = rng.randrange(len(raw) + 1)
        raw[at:at] = rng.choice(_SPLICES)
        data = bytes(raw)
    assert _payload_outcome(decode_payload, data) == _payload_outcome(_decode_payload, data)


def _canonical_or_none(value: Any) -> bool:
    try:
        canonical_json(value)
    except (TypeError, ValueError):
        return False
    return True


def _item_jsons(path: Path) -> list[tuple[Any, bytes | None]]:
    source = NdjsonSource(path)
    out = []
    for item in source.read():
        if isinstance(item, Record):
            out.append((item, source.item_json))
    return out


def test_item_json_is_the_record_digests_json(tmp_path: Path) -> None:
    """What the commitment check hashes (COMMIT-3) without encoding it again."""
    from chainaudit.records.digest import canonical_record_json
    from chainaudit.sample import build_sample, iter_records

    path = tmp_path / "s.ndjson"
    write_export(path, iter_records(build_sample()), source="t", created_at="2026-01-01T00:00:00Z")
    shown = 0
    for record, item_json in _item_jsons(path):
        if item_json is not None:
            shown += 1
            assert item_json == canonical_record_json(record)
    assert shown > 300


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.lists(records(), max_size=6))
def test_item_json_of_generated_records(tmp_path: Path, recs: list[Record]) -> None:
    from chainaudit.records.digest import canonical_record_json

    path = tmp_path / "g.ndjson"
    try:
        write_export(path, recs, source="t", created_at="2026-01-01T00:00:00Z")
    except ValueError:
        return
    for record, item_json in _item_jsons(path):
        if item_json is not None:
            assert item_json == canonical_record_json(record)
