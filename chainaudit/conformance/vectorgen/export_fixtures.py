"""Fixture builders for export inputs: DynamoDB Export-to-S3 directories and
PostgreSQL ``row_to_json`` COPY files, written to the documented layouts
(EXP-9, EXP-10).

DynamoDB's Export to S3 cannot be produced locally, so the tests and the
vector generator build such directories here: gzipped DynamoDB JSON data
files (an empty one for an empty partition), ``manifest-files.json`` with
per-file item counts and base64 MD5 checksums, and ``manifest-summary.json``.
Everything is deterministic (gzip with mtime 0 and no name).
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import io
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from chainaudit.outfile import write_output
from chainaudit.records.item import item_from_record, typed_to_json
from chainaudit.records.model import EntityRecord, Item, Record, WrappedDek

CREATED_AT = "2026-01-02T03:04:05Z"
EXPORT_ID = "01700000000000-0a1b2c3d"
TABLE_ARN = "arn:aws:dynamodb:eu-west-1:111122223333:table/blue_dialogues"


# --- DynamoDB Export to S3 fixture -------------------------------------------


def gzip_bytes(data: bytes) -> bytes:
    """Reproducible gzip: no file name, mtime 0."""
    buf = io.BytesIO()
    with gzip.GzipFile(filename="", fileobj=buf, mode="wb", mtime=0) as f:
        f.write(data)
    return buf.getvalue()


def ddb_json_line(item: Item) -> bytes:
    """One data-file line as DynamoDB writes it: ``{"Item": {...}}``, binary in base64."""
    obj = {"Item": {k: typed_to_json(v) for k, v in item.items()}}
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode("utf-8") + b"\n"


def write_ddb_export(
    directory: Path,
    files: Sequence[Sequence[Item]],
    *,
    export_id: str = EXPORT_ID,
    prefix: str = "exports",
    unlisted: Sequence[Item] = (),
) -> list[dict[str, Any]]:
    """Build a DynamoDB Export to S3 directory (EXP-9) holding ``files``.

    One gzipped data file per entry of ``files`` (an empty entry gives an
    empty gzip member, as DynamoDB writes for an empty partition); an
    ``unlisted`` file is written to ``data/`` but not to the manifest.
    Returns the manifest-files entries so tests can mutate them.
    """
    root = f"{prefix}/AWSDynamoDB/{export_id}"
    data_dir = directory / "data"
    data_dir.mkdir(parents=True, exist_ok=True)
    entries: list[dict[str, Any]] = []
    for i, items in enumerate(files):
        blob = gzip_bytes(b"".join(ddb_json_line(it) for it in items))
        name = f"{hashlib.sha256(f'{export_id}/{i}'.encode()).hexdigest()[:26]}.json.gz"
        write_output(data_dir / name, blob, "a vector file")
        md5 = hashlib.md5(blob, usedforsecurity=False)
        entries.append(
            {
                "itemCount": len(items),
                "md5Checksum": base64.b64encode(md5.digest()).decode("ascii"),
                "etag": md5.hexdigest(),
                "dataFileS3Key": f"{root}/data/{name}",
            }
        )
    if unlisted:
        blob = gzip_bytes(b"".join(ddb_json_line(it) for it in unlisted))
        write_output(data_dir / "unlisted-0000.json.gz", blob, "a vector file")
    write_ddb_manifests(directory, entries, export_id=export_id, prefix=prefix)
    return entries


def write_ddb_manifests(
    directory: Path,
    entries: Sequence[dict[str, Any]],
    *,
    export_id: str = EXPORT_ID,
    prefix: str = "exports",
    item_count: int | None = None,
) -> None:
    """(Re)write manifest-files.json and manifest-summary.json for ``entries``."""
    root = f"{prefix}/AWSDynamoDB/{export_id}"
    lines = b"".join(json.dumps(e, separators=(",", ":")).encode("ascii") + b"\n" for e in entries)
    write_output(directory / "manifest-files.json", lines, "a vector file")
    summary = {
        "version": "2020-06-30",
        "exportArn": f"{TABLE_ARN}/export/{export_id}",
        "startTime": CREATED_AT,
        "endTime": CREATED_AT,
        "tableArn": TABLE_ARN,
        "tableId": "00000000-0000-4000-8000-000000000000",
        "exportTime": CREATED_AT,
        "s3Bucket": "chainaudit-vectors",
        "s3Prefix": prefix,
        "s3SseAlgorithm": "AES256",
        "s3SseKmsKeyId": None,
        "manifestFilesS3Key": f"{root}/manifest-files.json",
        "billedSizeBytes": 0,
        "itemCount": sum(e["itemCount"] for e in entries) if item_count is None else item_count,
        "outputFormat": "DYNAMODB_JSON",
        "exportType": "FULL_EXPORT",
    }
    write_output(
        directory / "manifest-summary.json",
        json.dumps(summary, indent=2).encode("ascii") + b"\n",
        "a vector file",
    )


# --- PostgreSQL COPY fixture -------------------------------------------------


def pg_rows(recs: Sequence[Record]) -> dict[str, list[dict[str, Any]]]:
    """The reference-schema rows of ``recs`` as ``row_to_json`` renders them (EXP-10)."""

    def bytea(b: bytes | None) -> str | None:
        return None if b is None else "\\x" + b.hex()

    out: dict[str, list[dict[str, Any]]] = {"entities": [], "wrapped_deks": [], "audit_events": []}
    for r in recs:
        if isinstance(r, EntityRecord):
            dialogue_id, entity_type, subkey = r.address.to_sql()
            e = r.envelope
            out["entities"].append(
                {
                    "dialogue_id": dialogue_id,
                    "entity_type": entity_type,
                    "subkey": subkey,
                    "attributes": {k: typed_to_json(v) for k, v in r.attributes.items()},
                    "content_encrypted": bytea(e.ciphertext if e else None),
                    "content_nonce": bytea(e.nonce if e else None),
                    "key_id": e.key_id if e else None,
                    "aad_hash": e.aad_hash if e else None,
                    "envelope_version": e.version
                    if e and (e.version != 1 or e.explicit_version)
                    else None,
                }
            )
        elif isinstance(r, WrappedDek):
            out["wrapped_deks"].append(
                {
                    "dialogue_id": r.dialogue,
                    "version": r.version,
                    "key_id": r.key_id,
                    "owner": r.owner,
                    "wrap_alg": r.wrap_alg,
                    "wrapped_key": bytea(r.wrapped_key),
                    "wrap_nonce": bytea(r.wrap_nonce),
                    "state": r.state.value,
                    "created_at": r.created_at,
                    "destroyed_at": r.destroyed_at,
                }
            )
        else:
            item = item_from_record(r)
            out["audit_events"].append(
                {
                    "chain_id": r.chain_id,
                    "event_id": item["sk"]["S"].removeprefix("event#"),
                    "fields": dict(r.fields),
                }
            )
    return out


def row_json(row: dict[str, Any]) -> bytes:
    """A row as ``row_to_json`` prints it (compact, columns in table order)."""
    return json.dumps(row, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def copy_text_escape(line: bytes) -> bytes:
    """COPY TO text-format escaping of a one-column line (EXP-10.2)."""
    out = line.replace(b"\\", b"\\\\")
    for raw, esc in ((b"\n", b"\\n"), (b"\r", b"\\r"), (b"\t", b"\\t")):
        out = out.replace(raw, esc)
    return out


def write_pg_copy(directory: Path, recs: Sequence[Record], *, copy_text: bool = True) -> list[Path]:
    """One COPY file per table of the reference schema."""
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    suffix = ".copy.json" if copy_text else ".jsonl"
    for table, rows in pg_rows(recs).items():
        lines = [row_json(r) for r in rows]
        if copy_text:
            lines = [copy_text_escape(ln) for ln in lines]
        path = directory / f"{table}{suffix}"
        write_output(path, b"".join(ln + b"\n" for ln in lines), "a vector file")
        written.append(path)
    return written
