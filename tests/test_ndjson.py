"""NDJSON export v1 (docs/export.md): round trips, reproducible bytes, every
integrity finding, every input error, gzip, atomic writes and bounded memory."""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import tracemalloc
from collections.abc import Iterator
from pathlib import Path

import pytest
import rfc8785
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chainaudit.errors import InputError
from chainaudit.findings import Finding, Severity
from chainaudit.records.item import item_from_record
from chainaudit.records.model import EntityRecord, Envelope, Record
from chainaudit.sources.jsonlines import canonical_json
from chainaudit.sources.ndjson import NdjsonSource, record_line, write_export
from chainaudit.testing import sample_records, without_origin
from chainaudit.testing.strategies import records

T0 = "2026-01-01T00:00:00Z"


def _write(path: Path, recs: list[Record], **kw: object) -> Path:
    write_export(path, recs, source="test", created_at=T0, **kw)  # type: ignore[arg-type]
    return path


def _read(path: Path) -> tuple[list[Record], list[Finding]]:
    recs: list[Record] = []
    findings: list[Finding] = []
    for x in NdjsonSource(path).read():
        (findings if isinstance(x, Finding) else recs).append(x)
    return recs, findings


def _codes(path: Path) -> list[str]:
    return [f.code.name for f in _read(path)[1]]


def _sort_key(r: Record) -> tuple[bytes, bytes]:
    item = item_from_record(r)
    return item["pk"]["S"].encode(), item["sk"]["S"].encode()


def _unique(recs: list[Record]) -> list[Record]:
    seen: dict[tuple[bytes, bytes], Record] = {}
    for r in recs:
        seen.setdefault(_sort_key(r), r)
    return list(seen.values())


@pytest.fixture()
def export(tmp_path: Path) -> Path:
    return _write(tmp_path / "x.ndjson", sample_records())


# --- round trips and reproducibility -------------------------------------------


@settings(max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(records(), max_size=8))
def test_round_trip_for_all_records(tmp_path: Path, recs: list[Record]) -> None:
    recs = _unique(recs)
    path = _write(tmp_path / "rt.ndjson", recs)
    back, findings = _read(path)
    assert findings == []
    assert [without_origin(r) for r in back] == sorted(recs, key=_sort_key)


@settings(max_examples=30, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(records(), max_size=8), st.randoms())
def test_same_records_give_same_bytes_in_any_order(
    tmp_path: Path, recs: list[Record], rnd: object
) -> None:
    recs = _unique(recs)
    shuffled = list(recs)
    rnd.shuffle(shuffled)  # type: ignore[attr-defined]
    a = _write(tmp_path / "a.ndjson", recs).read_bytes()
    b = _write(tmp_path / "b.ndjson", shuffled, run_bytes=200).read_bytes()  # forces spills
    assert a == b
    # read -> write again is a fixed point
    back, _ = _read(tmp_path / "a.ndjson")
    assert _write(tmp_path / "c.ndjson", back).read_bytes() == a


def test_origin_names_file_and_line(export: Path) -> None:
    recs, _ = _read(export)
    assert [r.origin for r in recs] == [f"{export}:{n}" for n in range(2, 2 + len(recs))]


@settings(max_examples=200)
@given(
    st.recursive(
        st.none() | st.booleans() | st.integers(-(2**53) + 1, 2**53 - 1) | st.text(),
        lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
        max_leaves=12,
    )
)
def test_canonical_json_is_rfc8785(obj: object) -> None:
    try:
        expected = rfc8785.dumps(obj)
    except Exception:  # lone surrogates: neither encoder accepts them
        with pytest.raises(UnicodeEncodeError):
            canonical_json(obj)
        return
    assert canonical_json(obj) == expected


def test_gzip_is_read_transparently_and_reproducible(tmp_path: Path) -> None:
    plain = _write(tmp_path / "x.ndjson", sample_records())
    gz = _write(tmp_path / "x.ndjson.gz", sample_records())
    assert gzip.decompress(gz.read_bytes()) == plain.read_bytes()
    assert [without_origin(r) for r in _read(gz)[0]] == [without_origin(r) for r in _read(plain)[0]]
    assert _write(tmp_path / "y.ndjson.gz", sample_records()).read_bytes() == gz.read_bytes()


def test_truncated_gzip_is_an_input_error_naming_the_file(tmp_path: Path) -> None:
    gz = _write(tmp_path / "x.ndjson.gz", sample_records())
    data = gz.read_bytes()
    for cut in (len(data) - 1, len(data) - 8, len(data) // 2, 11):
        gz.write_bytes(data[:cut])
        with pytest.raises(InputError) as exc:
            _read(gz)
        assert str(gz) in str(exc.value)
        assert "gzip" in exc.value.message


# --- integrity findings --------------------------------------------------------


def test_intact_export_has_no_findings(export: Path) -> None:
    assert _codes(export) == []


def test_truncation_at_every_byte_is_never_silent(export: Path, tmp_path: Path) -> None:
    data = export.read_bytes()
    cut = tmp_path / "cut.ndjson"
    for n in range(len(data)):
        cut.write_bytes(data[:n])
        try:
            codes = _codes(cut)
        except InputError as exc:
            assert exc.where.startswith(f"{cut}:")
            continue
        assert "EXPORT_TRUNCATED" in codes, n


def test_missing_trailer_is_truncated(export: Path) -> None:
    lines = export.read_bytes().splitlines(keepends=True)
    export.write_bytes(b"".join(lines[:-1]))
    assert _codes(export) == ["EXPORT_TRUNCATED"]


def _lines(path: Path) -> list[bytes]:
    return path.read_bytes().splitlines(keepends=True)


def test_edited_byte_is_a_digest_mismatch(export: Path) -> None:
    lines = _lines(export)
    # change one base64 character of the ciphertext: still valid JSON and base64
    i = next(i for i, ln in enumerate(lines) if b"content_encrypted" in ln)
    lines[i] = lines[i].replace(b'"content_encrypted":{"B":"A', b'"content_encrypted":{"B":"B', 1)
    export.write_bytes(b"".join(lines))
    assert _codes(export) == ["EXPORT_DIGEST_MISMATCH"]


def test_every_single_byte_flip_is_detected(export: Path, tmp_path: Path) -> None:
    data = export.read_bytes()
    body_end = data.rindex(b"\n", 0, len(data) - 1) + 1  # the trailer is checked separately
    bad = tmp_path / "flip.ndjson"
    for i in range(0, body_end, 7):
        mutated = bytearray(data)
        mutated[i] ^= 0x01
        bad.write_bytes(bytes(mutated))
        try:
            recs_findings = _read(bad)
        except InputError:
            continue
        assert any(f.severity is Severity.ERROR for f in recs_findings[1]), i


def test_added_line_is_detected(export: Path) -> None:
    lines = _lines(export)
    lines.insert(3, lines[2])
    export.write_bytes(b"".join(lines))
    codes = _codes(export)
    assert {"EXPORT_DIGEST_MISMATCH", "EXPORT_COUNT_MISMATCH", "EXPORT_DUPLICATE_KEY"} <= set(codes)


def test_removed_line_is_detected(export: Path) -> None:
    lines = _lines(export)
    del lines[2]
    export.write_bytes(b"".join(lines))
    assert sorted(_codes(export)) == ["EXPORT_COUNT_MISMATCH", "EXPORT_DIGEST_MISMATCH"]


def _retrailer(lines: list[bytes], counts: dict[str, int] | None = None) -> list[bytes]:
    """Recompute the trailer as a forger would (digest right, counts as given)."""
    body = lines[:-1]
    digest = "sha256:" + hashlib.sha256(b"".join(body)).hexdigest()
    trailer = json.loads(lines[-1])
    trailer["digest"] = digest
    if counts is not None:
        trailer["counts"] = counts
    return [*body, canonical_json(trailer) + b"\n"]


def test_count_mismatch_alone(export: Path) -> None:
    counts = json.loads(_lines(export)[-1])["counts"]
    counts["dek"] += 1
    export.write_bytes(b"".join(_retrailer(_lines(export), counts)))
    assert _codes(export) == ["EXPORT_COUNT_MISMATCH"]


def test_lines_after_trailer(export: Path) -> None:
    lines = _lines(export)
    export.write_bytes(b"".join([*lines, lines[2], b"junk\n"]))
    assert _codes(export) == ["EXPORT_TRAILING_DATA"]


def test_out_of_order_lines(export: Path) -> None:
    lines = _lines(export)
    lines[2], lines[3] = lines[3], lines[2]
    export.write_bytes(b"".join(_retrailer(lines)))
    assert _codes(export) == ["EXPORT_OUT_OF_ORDER"]


def test_kind_mismatch(export: Path) -> None:
    lines = _lines(export)
    i = next(i for i, ln in enumerate(lines) if b'"kind":"dek"' in ln)
    lines[i] = lines[i].replace(b'"kind":"dek"', b'"kind":"entity"')
    export.write_bytes(b"".join(_retrailer(lines, _recount(lines))))
    assert _codes(export) == ["EXPORT_KIND_MISMATCH"]


def _recount(lines: list[bytes]) -> dict[str, int]:
    counts = {"entity": 0, "dek": 0, "audit": 0, "lines": len(lines) - 1}
    for ln in lines[1:-1]:
        counts[json.loads(ln)["kind"]] += 1
    return counts


def test_non_canonical_line_is_a_notice(export: Path) -> None:
    lines = _lines(export)
    obj = json.loads(lines[2])
    lines[2] = json.dumps(obj, indent=None).encode() + b"\n"  # spaces after separators
    export.write_bytes(b"".join(_retrailer(lines)))
    _, findings = _read(export)
    assert [f.code.name for f in findings] == ["EXPORT_NOT_CANONICAL"]
    assert findings[0].severity is Severity.NOTICE


def test_unmappable_item_is_a_finding_and_reading_continues(export: Path) -> None:
    lines = _lines(export)
    i = next(i for i, ln in enumerate(lines) if b'"sk":{"S":"meta"}' in ln)
    lines[i] = lines[i].replace(b'"sk":{"S":"meta"}', b'"sk":{"S":"meta#x"}')  # order kept
    export.write_bytes(b"".join(_retrailer(lines)))
    recs, findings = _read(export)
    assert [f.code.name for f in findings] == ["ADDRESS_INVALID"]
    assert findings[0].source == f"{export}:{i + 1}"
    assert len(recs) == len(sample_records()) - 1


# --- input errors --------------------------------------------------------------

_HEADER = canonical_json(
    {
        "type": "chainaudit-export",
        "version": 1,
        "source": "t",
        "created_at": T0,
        "algorithms": {"digest": "sha256"},
    }
)


@pytest.mark.parametrize(
    ("lines", "bad_line", "reason"),
    [
        ([b""], 1, "no complete header"),
        ([b"not json"], 1, "malformed JSON"),
        ([b'{"type":"other","version":1}'], 1, "not a chainaudit export"),
        ([_HEADER.replace(b'"version":1', b'"version":2')], 1, "unsupported export version 2"),
        ([_HEADER.replace(b'"sha256"', b'"md5"')], 1, "unsupported digest"),
        ([_HEADER, b"{bad"], 2, "malformed JSON"),
        ([_HEADER, b'{"kind":"entity"}'], 2, "exactly 'kind' and 'item'"),
        ([_HEADER, b'{"item":{},"kind":"thing"}'], 2, "unknown record kind"),
        ([_HEADER, b'{"item":{"pk":{"S":1}},"kind":"entity"}'], 2, "S value must be a string"),
        ([_HEADER, b'{"item":{"b":{"B":"AA"}},"kind":"entity"}'], 2, "base64"),
        ([_HEADER, b'{"item":{"b":{"X":"AA"}},"kind":"entity"}'], 2, "unknown type tag"),
        ([_HEADER, b'{"item":{"s":{"SS":[]}},"kind":"entity"}'], 2, "non-empty"),
        ([_HEADER, b'{"item":{"s":{"SS":["a","a"]}},"kind":"entity"}'], 2, "duplicate member"),
        ([_HEADER, b'{"item":{"n":{"N":"x"}},"kind":"entity"}'], 2, "N value"),
        ([_HEADER, b'{"item":{},"kind":"entity","kind":"dek"}'], 2, "duplicate member name"),
        ([_HEADER, b'{"item":{"n":NaN},"kind":"entity"}'], 2, "NaN"),
        ([_HEADER, b'{"item":{"s":{"S":"\\ud800"}},"kind":"entity"}'], 2, "lone surrogate"),
        ([_HEADER, b'{"item":{"s":{"S":"\xff"}},"kind":"entity"}'], 2, "UTF-8"),
        ([_HEADER, b'{"type":"trailer","counts":{},"digest":"x"}'], 2, "trailer counts"),
        ([_HEADER, b""], 2, "malformed JSON"),
    ],
)
def test_input_errors_name_file_line_and_reason(
    tmp_path: Path, lines: list[bytes], bad_line: int, reason: str
) -> None:
    path = tmp_path / "bad.ndjson"
    path.write_bytes(b"".join(ln + b"\n" for ln in lines) if lines != [b""] else b"")
    with pytest.raises(InputError) as exc:
        _read(path)
    assert exc.value.where == f"{path}:{bad_line}"
    assert reason in exc.value.message
    assert "\n" not in exc.value.diagnostics()
    assert exc.value.exit_code == 2


def test_oversized_line_is_rejected_without_reading_it_whole(tmp_path: Path) -> None:
    path = tmp_path / "big.ndjson"
    path.write_bytes(_HEADER + b"\n" + b'{"item":{"s":{"S":"' + b"a" * 5000 + b'"}}}\n')
    with pytest.raises(InputError) as exc:
        list(NdjsonSource(path, max_line_bytes=1000).read())
    assert exc.value.where == f"{path}:2"
    assert "longer than the limit of 1000 bytes" in exc.value.message


def test_line_exactly_at_the_limit_is_accepted(tmp_path: Path) -> None:
    path = _write(tmp_path / "x.ndjson", sample_records())
    longest = max(len(ln) - 1 for ln in _lines(path))
    assert _read(path)[1] == []
    assert [
        x for x in NdjsonSource(path, max_line_bytes=longest).read() if isinstance(x, Finding)
    ] == []
    with pytest.raises(InputError):
        list(NdjsonSource(path, max_line_bytes=longest - 1).read())


# --- writer --------------------------------------------------------------------


def test_writer_refuses_findings_and_leaves_nothing(tmp_path: Path) -> None:
    from chainaudit.findings import codes

    bad = Finding(codes.ADDRESS_INVALID, "pk=x", "bad", source="table:1")
    with pytest.raises(InputError):
        write_export(tmp_path / "x.ndjson", [*sample_records(), bad], source="t", created_at=T0)
    assert list(tmp_path.iterdir()) == []


def test_writer_refuses_duplicate_keys(tmp_path: Path) -> None:
    rec = sample_records()[0]
    with pytest.raises(ValueError, match="share the key"):
        write_export(tmp_path / "x.ndjson", [rec, rec], source="t", created_at=T0)
    assert list(tmp_path.iterdir()) == []


def test_interrupted_write_keeps_the_previous_file(tmp_path: Path) -> None:
    path = _write(tmp_path / "x.ndjson", sample_records())
    before = path.read_bytes()

    def failing() -> Iterator[Record]:
        yield from sample_records()
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        write_export(path, failing(), source="t", created_at=T0)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["x.ndjson"]


def test_unwritable_target_is_an_input_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="cannot write"):
        write_export(tmp_path / "no" / "x.ndjson", [], source="t", created_at=T0)


def test_writer_validates_header_values(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="created_at"):
        write_export(tmp_path / "x.ndjson", [], source="t", created_at="yesterday")
    with pytest.raises(InputError, match="digest"):
        write_export(
            tmp_path / "x.ndjson", [], source="t", created_at=T0, algorithms={"digest": "md5"}
        )


def test_blake3_digest(tmp_path: Path) -> None:
    path = tmp_path / "b.ndjson"
    s = write_export(
        path, sample_records(), source="t", created_at=T0, algorithms={"digest": "blake3"}
    )
    assert s.digest.startswith("blake3:")
    assert _codes(path) == []
    lines = _lines(path)
    del lines[1]
    path.write_bytes(b"".join(lines))
    assert "EXPORT_DIGEST_MISMATCH" in _codes(path)


def test_explicit_envelope_version_one_round_trips(tmp_path: Path) -> None:
    base = sample_records()[1]
    assert isinstance(base, EntityRecord) and base.envelope is not None
    env = base.envelope
    rec = EntityRecord(
        base.address,
        base.attributes,
        Envelope(env.ciphertext, env.nonce, env.key_id, env.aad_hash, 1, explicit_version=True),
    )
    assert b'"envelope_version":{"N":"1"}' in record_line(rec)[2]
    back, _ = _read(_write(tmp_path / "e.ndjson", [rec]))
    assert without_origin(back[0]) == rec


# --- memory --------------------------------------------------------------------


def _big_export(path: Path, n: int) -> None:
    """Write an n-record export line by line (the writer's own sort buffer is not under test)."""
    h = hashlib.sha256()
    with open(path, "wb") as f:
        head = _HEADER + b"\n"
        f.write(head)
        h.update(head)
        for i in range(n):
            line = (
                b'{"item":{"pk":{"S":"dialogue#d-%07d"},"sk":{"S":"meta"},"status":{"S":"open"}},'
                b'"kind":"entity"}\n' % i
            )
            f.write(line)
            h.update(line)
        trailer = {
            "type": "trailer",
            "counts": {"entity": n, "dek": 0, "audit": 0, "lines": n + 1},
            "digest": "sha256:" + h.hexdigest(),
        }
        f.write(canonical_json(trailer) + b"\n")


def _peak_while_streaming(path: Path) -> tuple[int, int]:
    tracemalloc.start()
    try:
        count = 0
        for x in NdjsonSource(path).read():
            assert not isinstance(x, Finding), x
            count += 1
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return count, peak


def test_streaming_keeps_memory_flat(tmp_path: Path) -> None:
    """Peak traced memory stays under 3 MB and does not grow with the line count.

    tracemalloc slows allocation-heavy code several-fold (~0.7 ms/line on the
    shared 2-core CI machines), so by default this compares 5k and 25k lines;
    CHAINAUDIT_BIG_EXPORT=1 runs the full 200k-line stream.
    """
    big = 200_000 if os.environ.get("CHAINAUDIT_BIG_EXPORT") else 25_000
    small_path, big_path = tmp_path / "small.ndjson", tmp_path / "big.ndjson"
    _big_export(small_path, 5_000)
    _big_export(big_path, big)
    n_small, peak_small = _peak_while_streaming(small_path)
    n_big, peak_big = _peak_while_streaming(big_path)
    assert (n_small, n_big) == (5_000, big)
    assert peak_big < 3 * 1024 * 1024, f"peak traced memory {peak_big} bytes"
    assert peak_big - peak_small < 256 * 1024, (peak_small, peak_big)
