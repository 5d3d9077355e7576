"""Generator of the export-format golden vectors (``vectors/export/``, EXP-12).

Three input formats, one case file each (``<format>-<name>.json``), next to
the input it describes:

* ``ndjson/<name>.ndjson[.gz]``: a chainaudit export v1, intact or with one
  named mutation (truncation, an edited byte, an added/removed/reordered
  line, forged counts, trailing data, ...);
* ``ddb/<name>/``: a DynamoDB Export to S3 directory (manifests, gzipped
  DynamoDB JSON data files, an empty file, an unlisted file), intact or
  mutated;
* ``pg/<name>/``: PostgreSQL ``row_to_json`` COPY files, text-escaped
  (``.copy.json``) and raw (``.jsonl``).

Every case names what a reader must produce: the record count and finding
codes in order, or an input error at a line. The records are fixed (no
clock, no randomness: bytes are SHA-256 of labels) and the gzip streams are
written with mtime 0 and no file name, so the output is byte-reproducible.
The fixture builders live in :mod:`chainaudit.conformance.vectorgen.export_fixtures`.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import blake3

from chainaudit.conformance.vectorgen import derive, write_json
from chainaudit.conformance.vectorgen.export_check import EXPORT_TYPE, check_export_case
from chainaudit.conformance.vectorgen.export_fixtures import (
    CREATED_AT,
    write_ddb_export,
    write_ddb_manifests,
    write_pg_copy,
)
from chainaudit.outfile import write_output
from chainaudit.records.address import Address
from chainaudit.records.item import item_from_record
from chainaudit.records.model import (
    AuditEvent,
    EntityRecord,
    Envelope,
    KeyState,
    Record,
    WrappedDek,
)
from chainaudit.sources.jsonlines import canonical_json
from chainaudit.sources.ndjson import write_export

TYPE = EXPORT_TYPE
VERSION = 1
#: Plug-in for :mod:`chainaudit.conformance.check`: how to check files of this type.
VECTOR_CHECKERS = {EXPORT_TYPE: check_export_case}
SUBDIR = "export"
DOMAIN = b"chainaudit/vectors/export/"


def records() -> list[Record]:
    """The fixed records of every vector: each kind, binary, sets, maps, unicode, escapes."""
    d = "dlg-0001"
    meta = Address.of(d, "meta")
    persp = Address.of(d, "perspective", "01", "02")
    ref = Address.of(d, "ref", "p#1", "supports", "c/2")
    expert = Address.of(d, "expert", "zoë")

    def env(addr: Address, label: str) -> Envelope:
        return Envelope(
            ciphertext=derive(DOMAIN, f"ct/{label}", 32) + derive(DOMAIN, f"tag/{label}", 16),
            nonce=derive(DOMAIN, f"nonce/{label}", 12),
            key_id=f"dek#{d}#1",
            aad_hash=hashlib.sha256(addr.to_bytes()).hexdigest(),
        )

    return [
        EntityRecord(
            meta, {"status": {"S": "open"}, "created_at": {"S": CREATED_AT}}, env(meta, "meta")
        ),
        EntityRecord(
            persp,
            {
                "score": {"N": "0.75"},
                "tags": {"SS": ["a", "β"]},
                "digest": {"B": derive(DOMAIN, "digest", 8)},
                "nested": {"M": {"k": {"L": [{"NULL": True}, {"BS": [b"\x00", b"\x01"]}]}}},
            },
            env(persp, "persp"),
        ),
        EntityRecord(expert, {"tier": {"N": "2"}}, env(expert, "expert")),
        EntityRecord(ref, {"ref_type": {"S": "supports"}}, None),
        WrappedDek(
            key_id=f"dek#{d}#1",
            dialogue=d,
            version=1,
            owner="alice",
            wrap_alg="A256GCM-KEYID-V1",
            wrapped_key=derive(DOMAIN, "wrapped", 32) + derive(DOMAIN, "wraptag", 16),
            wrap_nonce=derive(DOMAIN, "wrapnonce", 12),
            state=KeyState.ACTIVE,
            created_at=CREATED_AT,
        ),
        AuditEvent(
            "crypto-log",
            {
                "event_id": "01890000-0000-7000-8000-000000000001",
                "operation": "encrypt",
                "outcome": "success",
                "previous_hash": None,
                "seq": 1,
            },
        ),
    ]


# --- cases -------------------------------------------------------------------


def _case(
    out: Path, fmt: str, name: str, desc: str, input_: str, expect: dict[str, Any], **extra: Any
) -> Path:
    obj = {"type": TYPE, "version": VERSION, "desc": desc, "format": fmt, "input": input_}
    obj.update(extra)
    obj["expect"] = expect
    return write_json(out / f"{fmt}-{name}.json", obj)


def _ok(n: int, findings: Sequence[str] = ()) -> dict[str, Any]:
    return {"records": n, "findings": list(findings)}


def _err(line: int, reason: str) -> dict[str, Any]:
    return {"error": "InputError", "line": line, "reason_contains": reason}


def _retrailer(lines: list[bytes], counts: dict[str, int] | None = None) -> list[bytes]:
    body = lines[:-1]
    trailer = json.loads(lines[-1])
    trailer["digest"] = "sha256:" + hashlib.sha256(b"".join(body)).hexdigest()
    if counts is not None:
        trailer["counts"] = counts
    return [*body, canonical_json(trailer) + b"\n"]


def _ndjson_cases(out: Path) -> list[Path]:
    d = out / "ndjson"
    d.mkdir(parents=True, exist_ok=True)
    recs = records()
    n = len(recs)
    valid = d / "valid.ndjson"
    write_export(valid, recs, source="vectors", created_at=CREATED_AT)
    write_export(d / "valid.ndjson.gz", recs, source="vectors", created_at=CREATED_AT)
    lines = valid.read_bytes().splitlines(keepends=True)
    items = [json.loads(ln)["item"] for ln in lines[1:-1]]
    written = [
        _case(out, "ndjson", "valid", "intact export", "ndjson/valid.ndjson", _ok(n), items=items),
        _case(out, "ndjson", "valid-gz", "intact export, gzip", "ndjson/valid.ndjson.gz", _ok(n)),
    ]

    def mutant(name: str, data: bytes, desc: str, expect: dict[str, Any]) -> None:
        write_output(d / f"{name}.ndjson", data, "a vector file")
        written.append(_case(out, "ndjson", name, desc, f"ndjson/{name}.ndjson", expect))

    full = b"".join(lines)
    mutant(
        "truncated-no-trailer",
        b"".join(lines[:-1]),
        "trailer line removed",
        _ok(n, ["EXPORT_TRUNCATED"]),
    )
    mutant(
        "truncated-mid-line",
        b"".join(lines[:3]) + lines[3][:20],
        "file cut inside the third record line",
        _ok(2, ["EXPORT_TRUNCATED"]),
    )
    edited = list(lines)
    i_open = next(i for i, ln in enumerate(lines) if b'"open"' in ln)
    edited[i_open] = edited[i_open].replace(b'"open"', b'"shut"')
    mutant(
        "edited-value",
        b"".join(edited),
        "one attribute value changed",
        _ok(n, ["EXPORT_DIGEST_MISMATCH"]),
    )
    added = list(lines)
    added.insert(3, lines[2])
    mutant(
        "added-line",
        b"".join(added),
        "a record line repeated",
        _ok(n + 1, ["EXPORT_DUPLICATE_KEY", "EXPORT_COUNT_MISMATCH", "EXPORT_DIGEST_MISMATCH"]),
    )
    removed = [ln for i, ln in enumerate(lines) if i != 2]
    mutant(
        "removed-line",
        b"".join(removed),
        "a record line deleted",
        _ok(n - 1, ["EXPORT_COUNT_MISMATCH", "EXPORT_DIGEST_MISMATCH"]),
    )
    forged = json.loads(lines[-1])["counts"]
    forged["entity"] += 1
    mutant(
        "counts-forged",
        b"".join(_retrailer(list(lines), forged)),
        "trailer counts changed, digest recomputed",
        _ok(n, ["EXPORT_COUNT_MISMATCH"]),
    )
    mutant(
        "trailing-data",
        full + lines[2],
        "a line appended after the trailer",
        _ok(n, ["EXPORT_TRAILING_DATA"]),
    )
    swapped = list(lines)
    swapped[2], swapped[3] = swapped[3], swapped[2]
    mutant(
        "out-of-order",
        b"".join(_retrailer(swapped)),
        "two record lines swapped, digest recomputed",
        _ok(n, ["EXPORT_OUT_OF_ORDER"]),
    )
    spaced = list(lines)
    spaced[2] = json.dumps(json.loads(spaced[2]), ensure_ascii=False).encode() + b"\n"
    mutant(
        "not-canonical",
        b"".join(_retrailer(spaced)),
        "a record line with insignificant whitespace, digest recomputed",
        _ok(n, ["EXPORT_NOT_CANONICAL"]),
    )
    unsorted = list(lines)
    i_set = next(i for i, ln in enumerate(lines) if '"SS":["a","β"]'.encode() in ln)
    unsorted[i_set] = unsorted[i_set].replace('"SS":["a","β"]'.encode(), '"SS":["β","a"]'.encode())
    mutant(
        "set-unsorted",
        b"".join(_retrailer(unsorted)),
        "set members out of MODEL-3 order in a JCS-canonical line, digest recomputed",
        _ok(n, ["EXPORT_NOT_CANONICAL"]),
    )
    mutant(
        "trailer-no-lf",
        full[:-1],
        "the trailer line lacks its LF: a cut file, whatever the line holds",
        _ok(n, ["EXPORT_TRUNCATED"]),
    )
    other_alg = json.loads(lines[-1])
    other_alg["digest"] = "blake3:" + blake3.blake3(b"".join(lines[:-1])).hexdigest()
    mutant(
        "trailer-other-algorithm",
        b"".join([*lines[:-1], canonical_json(other_alg) + b"\n"]),
        "the trailer's digest names blake3, the header sha256 (the hex is a correct BLAKE3)",
        _ok(n, ["EXPORT_DIGEST_MISMATCH"]),
    )
    several = list(lines)
    several[1], several[2] = several[2], several[1]
    several[4] = json.dumps(json.loads(several[4]), ensure_ascii=False).encode() + b"\n"
    del several[5]
    mutant(
        "several-faults",
        b"".join(several),
        "lines swapped, one respaced, one removed: the end-of-file findings in their order",
        _ok(
            n - 1,
            [
                "EXPORT_OUT_OF_ORDER",
                "EXPORT_NOT_CANONICAL",
                "EXPORT_COUNT_MISMATCH",
                "EXPORT_DIGEST_MISMATCH",
            ],
        ),
    )
    i_num = next(i for i, ln in enumerate(lines) if b'"N":"2"' in ln)
    mutant(
        "number-out-of-range",
        full.replace(b'"N":"2"', b'"N":"1e126"', 1),
        "a number beyond DynamoDB's range (MODEL-3)",
        _err(i_num + 1, "number DynamoDB accepts"),
    )
    mutant(
        "version-2",
        full.replace(b'"version":1', b'"version":2', 1),
        "header announces an unknown format version",
        _err(1, "unsupported export version 2"),
    )
    broken = list(lines)
    broken[3] = broken[3][:-3] + b"\n"
    mutant(
        "malformed-line",
        b"".join(broken),
        "a record line that is not JSON",
        _err(4, "malformed JSON"),
    )
    mutant(
        "bad-base64",
        full.replace(b'"B":"', b'"B":"*', 1),
        "a binary value that is not base64",
        _err(next(i + 1 for i, ln in enumerate(lines) if b'"B":"' in ln), "base64"),
    )
    return written


def _ddb_cases(out: Path) -> list[Path]:
    recs = records()
    items = [item_from_record(r) for r in recs]
    files = [items[:3], [], items[3:]]
    written = []

    def build(name: str) -> tuple[Path, list[dict[str, Any]]]:
        directory = out / "ddb" / name
        entries = write_ddb_export(directory, files, unlisted=items[:1])
        return directory, entries

    build("valid")
    written.append(
        _case(
            out,
            "ddb",
            "valid",
            "two data files, one empty file, one unlisted file (ignored)",
            "ddb/valid",
            _ok(len(items)),
        )
    )
    directory, entries = build("checksum-mismatch")
    entries[0]["md5Checksum"] = base64.b64encode(b"\x00" * 16).decode()
    write_ddb_manifests(directory, entries)
    written.append(
        _case(
            out,
            "ddb",
            "checksum-mismatch",
            "manifest MD5 of the first file altered",
            "ddb/checksum-mismatch",
            _ok(len(items), ["DDB_EXPORT_CHECKSUM_MISMATCH"]),
        )
    )
    directory, entries = build("count-mismatch")
    write_ddb_manifests(directory, entries, item_count=len(items) + 1)
    written.append(
        _case(
            out,
            "ddb",
            "count-mismatch",
            "summary itemCount one higher than the files hold",
            "ddb/count-mismatch",
            _ok(len(items), ["DDB_EXPORT_COUNT_MISMATCH"]),
        )
    )
    directory, entries = build("file-missing")
    (directory / entries[2]["dataFileS3Key"].split("/", 3)[3]).unlink()
    written.append(
        _case(
            out,
            "ddb",
            "file-missing",
            "the last listed data file deleted",
            "ddb/file-missing",
            _ok(3, ["DDB_EXPORT_FILE_MISSING", "DDB_EXPORT_COUNT_MISMATCH"]),
        )
    )
    return written


def _pg_cases(out: Path) -> list[Path]:
    recs = records()
    written = []
    write_pg_copy(out / "pg" / "copy-text", recs, copy_text=True)
    write_pg_copy(out / "pg" / "raw", recs, copy_text=False)
    written.append(
        _case(
            out,
            "pg",
            "copy-text",
            "COPY text format: backslashes doubled",
            "pg/copy-text",
            _ok(len(recs)),
        )
    )
    written.append(
        _case(out, "pg", "raw", "row_to_json lines without COPY escaping", "pg/raw", _ok(len(recs)))
    )
    clash = out / "pg" / "attribute-named-pk"
    paths = write_pg_copy(clash, recs, copy_text=False)
    for p in paths[1:]:
        p.unlink()
    text = (
        paths[0]
        .read_bytes()
        .replace(b'"attributes":{', b'"attributes":{"pk":{"S":"dialogue#other"},', 1)
    )
    write_output(paths[0], text, "a vector file")
    written.append(
        _case(
            out,
            "pg",
            "attribute-named-pk",
            "an attributes member named like the key: it would override the key columns",
            "pg/attribute-named-pk",
            _err(1, "may not have a member named 'pk'"),
        )
    )
    bad = out / "pg" / "bad-bytea"
    paths = write_pg_copy(bad, recs, copy_text=True)
    for p in paths[1:]:
        p.unlink()
    text = paths[0].read_bytes().replace(b'"\\\\\\\\x', b'"\\\\\\\\y', 1)
    write_output(paths[0], text, "a vector file")
    written.append(
        _case(
            out,
            "pg",
            "bad-bytea",
            "a bytea value that is not \\x hex",
            "pg/bad-bytea",
            _err(1, "not bytea hex output"),
        )
    )
    return written


def generate(out_dir: Path) -> list[Path]:
    """Write every export vector under ``out_dir / "export"``; returns the case files."""
    out = out_dir / SUBDIR
    out.mkdir(parents=True, exist_ok=True)
    return [*_ndjson_cases(out), *_ddb_cases(out), *_pg_cases(out)]
