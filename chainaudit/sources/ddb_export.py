"""Read a DynamoDB "Export to S3" full export in DynamoDB JSON, natively (EXP-9).

The directory is the local copy of ``<prefix>/AWSDynamoDB/<ExportId>/``, or
that prefix in S3 itself (:class:`chainaudit.sources.s3.S3Tree`): the reader
reads its files through a :class:`~chainaudit.sources.filetree.FileTree`, so
both give the same records and findings:

* ``manifest-summary.json``: one JSON object (``itemCount``,
  ``outputFormat`` = ``DYNAMODB_JSON``, ``exportType``, ``exportArn``,
  ``manifestFilesS3Key``, ...);
* ``manifest-files.json``: one JSON object per line per data file
  (``itemCount``, ``md5Checksum`` = base64 MD5 of the gzipped object,
  ``etag``, ``dataFileS3Key``);
* ``data/*.json.gz``: gzipped lines ``{"Item": {<DynamoDB JSON>}}``; an empty
  partition gives an empty file.

Only the files listed in the manifest are read (an unlisted file in
``data/`` is not part of the export). Each file's MD5 and item count, and the
total against the summary, are checked; a difference is a finding, not an
error, so the auditor still sees every record that is there. DynamoDB JSON
carries binary (``B``, ``BS``) as base64: it is decoded to bytes first, by
:func:`chainaudit.records.item.typed_from_json`, so no type deserializer ever sees a
base64 string as if it were the value.

>>> src = DynamoDBExportSource("export-dir")   # doctest: +SKIP
>>> for rec_or_finding in src.read(): ...       # doctest: +SKIP
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import posixpath
from collections.abc import Generator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from chainaudit.errors import InputError
from chainaudit.findings import Finding, codes
from chainaudit.records.item import record_from_item, typed_from_json
from chainaudit.records.model import Item
from chainaudit.sources import SourceItem
from chainaudit.sources.filetree import FileTree, LocalTree
from chainaudit.sources.jsonlines import MAX_LINE_BYTES, parse_json_line

SUMMARY_NAME = "manifest-summary.json"
FILES_NAME = "manifest-files.json"
#: The manifest summary is small; refuse anything absurd before parsing it.
_MAX_SUMMARY_BYTES = 1 << 20


@dataclass(frozen=True, slots=True)
class DataFile:
    """One line of ``manifest-files.json``."""

    key: str
    relative: str
    item_count: int
    md5: str
    line: int


def is_export_dir(path: Path) -> bool:
    """Whether ``path`` looks like a DynamoDB export directory (has the summary)."""
    return path.is_dir() and (path / SUMMARY_NAME).is_file()


class DynamoDBExportSource:
    """A DynamoDB Export to S3, a local directory or a :class:`FileTree` (an S3
    prefix), as a :class:`~chainaudit.sources.Source`."""

    #: REP-4: which export checks apply to this source.
    kind = "ddb_export"
    #: REP-7: what this source itself offers against a removed record.
    integrity_basis = (
        "the export's manifest files (item counts and MD5 checksums), which are not signed"
    )

    def __init__(
        self, directory: Path | str | FileTree, *, max_line_bytes: int = MAX_LINE_BYTES
    ) -> None:
        self.tree: FileTree = (
            LocalTree(directory) if isinstance(directory, Path | str) else directory
        )
        self.max_line_bytes = max_line_bytes

    def describe(self) -> str:
        return f"ddb-export:{self.tree.root}"

    # -- manifests ------------------------------------------------------------

    def summary(self) -> dict[str, Any]:
        """The checked manifest summary (EXP-9.1)."""
        where = f"{self.tree.name(SUMMARY_NAME)}:1"
        data = self.tree.read_head(SUMMARY_NAME, _MAX_SUMMARY_BYTES + 1)
        if len(data) > _MAX_SUMMARY_BYTES:
            raise InputError(where, "manifest summary is larger than 1 MiB")
        obj = parse_json_line(data.strip(), where)
        if not isinstance(obj, dict):
            raise InputError(where, "manifest summary must be a JSON object")
        if obj.get("outputFormat") != "DYNAMODB_JSON":
            raise InputError(
                where, f"outputFormat {obj.get('outputFormat')!r} is not supported (DYNAMODB_JSON)"
            )
        if obj.get("exportType", "FULL_EXPORT") != "FULL_EXPORT":
            raise InputError(where, f"exportType {obj.get('exportType')!r} is not FULL_EXPORT")
        if not _is_count(obj.get("itemCount")):
            raise InputError(where, "itemCount must be a non-negative integer")
        return obj

    def data_files(self, summary: dict[str, Any]) -> list[DataFile]:
        """The entries of ``manifest-files.json``, keys resolved to local paths (EXP-9.2)."""
        path = self.tree.name(FILES_NAME)
        root = _root_key(summary, f"{self.tree.name(SUMMARY_NAME)}:1")
        out: list[DataFile] = []
        for lineno, raw in self.tree.lines(FILES_NAME, self.max_line_bytes):
            where = f"{path}:{lineno}"
            if not raw.strip():
                continue
            obj = parse_json_line(raw.rstrip(b"\n"), where)
            if not isinstance(obj, dict):
                raise InputError(where, "a manifest-files line must be a JSON object")
            key, count, md5 = obj.get("dataFileS3Key"), obj.get("itemCount"), obj.get("md5Checksum")
            if not isinstance(key, str) or not key:
                raise InputError(where, "dataFileS3Key must be a non-empty string")
            if not isinstance(count, int) or not _is_count(count):
                raise InputError(where, "itemCount must be a non-negative integer")
            if not isinstance(md5, str) or len(_b64_or_empty(md5)) != 16:
                raise InputError(where, "md5Checksum must be the base64 of a 16-byte MD5")
            out.append(DataFile(key, _relative(key, root, where), count, md5, lineno))
        return out

    # -- reading --------------------------------------------------------------

    def read(self) -> Iterator[SourceItem]:
        """Stream every item of every listed data file, then the count findings."""
        summary = self.summary()
        files = self.data_files(summary)
        total = 0
        for entry in files:
            total += yield from self.read_file(entry)
        yield from self.total_findings(summary, total)

    def read_file(
        self, entry: DataFile, missing: bool | None = None
    ) -> Generator[SourceItem, None, int]:
        """One listed data file's part of :meth:`read` (its findings and items, in
        order); returns the number of items read from it. ``missing``: whether
        the file is absent, when the caller already asked (a Dask worker reads
        a file its client listed, chainaudit.distributed)."""
        path = self.tree.name(entry.relative)
        if missing is None:
            missing = self.tree.missing(entry.relative)
        if missing:
            yield Finding(
                codes.DDB_EXPORT_FILE_MISSING,
                f"{self.tree.name(FILES_NAME)}:{entry.line}",
                f"listed data file {entry.relative} is missing",
                source=path,
            )
            return 0
        actual_md5 = _md5_b64(self.tree, entry.relative)
        if not hmac.compare_digest(actual_md5.encode(), entry.md5.encode()):
            yield Finding(
                codes.DDB_EXPORT_CHECKSUM_MISMATCH,
                path,
                "the data file's MD5 differs from manifest-files.json",
                expected=entry.md5,
                actual=actual_md5,
                source=path,
            )
        n = 0
        for lineno, raw in self.tree.lines(entry.relative, self.max_line_bytes):
            where = f"{path}:{lineno}"
            n += 1
            yield record_from_item(_item(raw, where), where, canonical=True)
        if n != entry.item_count:
            yield Finding(
                codes.DDB_EXPORT_COUNT_MISMATCH,
                path,
                "the data file holds a different number of items than its manifest line",
                expected=str(entry.item_count),
                actual=str(n),
                source=path,
            )
        return n

    def total_findings(self, summary: dict[str, Any], total: int) -> Iterator[Finding]:
        """The summary's count check, after the last file: ``total`` items read."""
        if total != summary["itemCount"]:
            yield Finding(
                codes.DDB_EXPORT_COUNT_MISMATCH,
                self.tree.name(SUMMARY_NAME),
                "the listed data files hold a different number of items than the summary",
                expected=str(summary["itemCount"]),
                actual=str(total),
                source=self.tree.root,
            )


def _item(raw: bytes, where: str) -> Item:
    """One data line ``{"Item": {...}}`` as a typed item, binary decoded (EXP-9.3).

    The values are typed_from_json's canonical ones, in a fresh dict (so the
    caller may build the record with ``canonical=True``).
    """
    obj = parse_json_line(raw.rstrip(b"\n"), where)
    if not isinstance(obj, dict) or set(obj) != {"Item"} or not isinstance(obj["Item"], dict):
        raise InputError(where, 'a data line must be {"Item": {...}} in DynamoDB JSON')
    item: Item = {}
    for name, value in obj["Item"].items():
        try:
            item[name] = typed_from_json(value, f"Item.{name}")
        except ValueError as exc:
            raise InputError(where, str(exc)) from None
    return item


@dataclass(frozen=True, slots=True)
class _Root:
    """The S3 key prefix the directory stands for; ``anywhere``: it may follow
    any prefix of ``/``-separated segments (derived from ``exportArn``)."""

    key: str
    anywhere: bool


def _root_key(summary: dict[str, Any], where: str) -> _Root:
    """The S3 key prefix that the local directory stands for (EXP-9.2).

    ``dirname(manifestFilesS3Key)`` when present (empty when it has no
    ``/``), else ``AWSDynamoDB/<ExportId>`` with the id the last segment of
    an ``exportArn`` containing ``/export/``, after any key prefix.
    """
    files_key = summary.get("manifestFilesS3Key")
    if isinstance(files_key, str) and files_key:
        return _Root(posixpath.dirname(files_key), anywhere=False)
    arn = summary.get("exportArn")
    if isinstance(arn, str) and "/export/" in arn and arn.rsplit("/", 1)[1]:
        return _Root("AWSDynamoDB/" + arn.rsplit("/", 1)[1], anywhere=True)
    raise InputError(where, "neither manifestFilesS3Key nor exportArn names the export's S3 key")


def _relative(key: str, root: _Root, where: str) -> str:
    """Map a dataFileS3Key to ``data/<name>`` under the export directory (EXP-9.2).

    The key must continue ``<root>/``: at its start when the root came from
    manifestFilesS3Key (an empty root: the key itself), after the first
    ``/``-separated prefix that is followed by it when the root came from
    the exportArn. Anything but exactly ``data/<name>`` after it is refused,
    so a manifest cannot make the reader open a file outside the directory.
    """
    if not root.key:
        at, rel = 0, key
    else:
        marker = f"/{root.key}/"
        at = f"/{key}".find(marker)
        rel = f"/{key}"[at + len(marker) :]
    if at < 0 or (at > 0 and not root.anywhere):
        raise InputError(where, f"dataFileS3Key {key!r} is not under the export's key {root.key!r}")
    parts = rel.split("/")
    if len(parts) != 2 or parts[0] != "data" or parts[1] in ("", ".", ".."):
        raise InputError(where, f"dataFileS3Key {key!r} does not name a file under data/")
    return rel


def _md5_b64(tree: FileTree, relative: str) -> str:
    """Base64 MD5 of a file's stored bytes, streamed (EXP-9.4)."""
    h = hashlib.md5(usedforsecurity=False)
    with tree.open(relative) as f:
        try:
            while chunk := f.read(1 << 16):
                h.update(chunk)
        except OSError as exc:
            raise InputError(tree.name(relative), f"cannot read: {exc.strerror or exc}") from None
    return base64.b64encode(h.digest()).decode("ascii")


def _b64_or_empty(text: str) -> bytes:
    try:
        return base64.b64decode(text, validate=True)
    except ValueError:
        return b""


def _is_count(value: Any) -> bool:
    return type(value) is int and value >= 0
