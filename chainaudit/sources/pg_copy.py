"""Read PostgreSQL rows dumped as JSON, one row per line, natively (EXP-10).

The input is what ::

    COPY (SELECT row_to_json(t) FROM entities t) TO STDOUT

writes for one table of the reference schema (``chainaudit/sql/schema.sql``,
STORE-3). Two spellings exist and both are read:

* ``<table>.copy.json`` -- COPY's *text* format. COPY escapes every
  backslash of the value as ``\\\\`` (and would write ``\\n``, ``\\t`` ... for
  raw control characters, which JSON never contains), so a bytea that
  ``row_to_json`` renders as the JSON string ``"\\\\x0a0b"`` appears as
  ``"\\\\\\\\x0a0b"``. The reader undoes COPY's text escaping first (EXP-10.2).
* ``<table>.jsonl`` -- the same JSON without COPY's escaping (``psql -At -c
  "SELECT row_to_json(t) ..."``, or COPY in CSV format with quoting disabled).

The file name says which table the rows are from (the last dotted name
before the suffix: ``2026-11-26.entities.copy.json``); ``table=`` overrides
it. ``.gz`` is read transparently. Rows become items exactly as the live
PostgreSQL adapter maps them (MODEL-7), then records via
:func:`chainaudit.records.item.record_from_item`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from chainaudit.errors import InputError
from chainaudit.findings import Finding, codes
from chainaudit.records.address import Address, AddressError
from chainaudit.records.item import (
    AUDIT_PK_PREFIX,
    AUDIT_SK_PREFIX,
    DEK_SK_PREFIX,
    record_from_item,
    typed_from_json,
    typed_from_plain,
)
from chainaudit.records.model import ENVELOPE_ATTRS, Item
from chainaudit.sources import SourceItem
from chainaudit.sources.jsonlines import MAX_LINE_BYTES, iter_lines, parse_json_line

#: EXP-10.1: the columns of each table, with their JSON type in row_to_json output.
#: "text", "text?" (nullable), "int", "int?", "bytea?", "object".
TABLES: dict[str, dict[str, str]] = {
    "entities": {
        "dialogue_id": "text",
        "entity_type": "text",
        "subkey": "text",
        "attributes": "object",
        "content_encrypted": "bytea?",
        "content_nonce": "bytea?",
        "key_id": "text?",
        "aad_hash": "text?",
        "envelope_version": "int?",
    },
    "wrapped_deks": {
        "dialogue_id": "text",
        "version": "int",
        "key_id": "text",
        "owner": "text",
        "wrap_alg": "text",
        "wrapped_key": "bytea?",
        "wrap_nonce": "bytea?",
        "state": "text",
        "created_at": "text",
        "destroyed_at": "text?",
    },
    "audit_events": {"chain_id": "text", "event_id": "text", "fields": "object"},
}

#: EXP-10.1: which escaping a file name announces.
COPY_TEXT = "copy-text"
RAW_JSON = "none"
_SUFFIXES = {".copy.json": COPY_TEXT, ".jsonl": RAW_JSON}

_ESCAPE = re.compile(rb"\\(?:[0-7]{1,3}|x[0-9A-Fa-f]{1,2}|.)", re.DOTALL)
_SIMPLE = {b"b": b"\b", b"f": b"\f", b"n": b"\n", b"r": b"\r", b"t": b"\t", b"v": b"\v"}
_HEX = re.compile(r"[0-9a-f]*\Z")


def copy_text_unescape(line: bytes) -> bytes:
    """Undo PostgreSQL COPY text-format escaping of one single-column line (EXP-10.2).

    ``\\\\`` -> backslash; ``\\b \\f \\n \\r \\t \\v``; ``\\`` + 1-3 octal digits
    and ``\\x`` + 1-2 hex digits -> that byte; any other escaped character ->
    itself (the PostgreSQL COPY reference, "Text Format").
    """
    if b"\\" not in line:
        return line

    def one(m: re.Match[bytes]) -> bytes:
        body = m.group(0)[1:]
        if body in _SIMPLE:
            return _SIMPLE[body]
        if body[:1] == b"x" and len(body) > 1:
            return bytes([int(body[1:], 16)])
        if body[:1].isdigit() and body[:1] not in (b"8", b"9"):
            return bytes([int(body, 8) & 0xFF])
        return body

    return _ESCAPE.sub(one, line)


def table_of(path: Path) -> tuple[str, str]:
    """``(table, escaping)`` announced by a file name such as ``entities.copy.json.gz``."""
    name = path.name.removesuffix(".gz")
    for suffix, escaping in _SUFFIXES.items():
        if name.endswith(suffix):
            table = name.removesuffix(suffix).rsplit(".", 1)[-1]
            return table, escaping
    raise InputError(str(path), "name must end in .copy.json or .jsonl (optionally .gz)")


def is_pg_copy_file(path: Path) -> bool:
    name = path.name.removesuffix(".gz")
    return any(name.endswith(s) for s in _SUFFIXES)


class PgCopySource:
    """One table's rows as JSON lines, as a :class:`~chainaudit.sources.Source`."""

    #: REP-4: which export checks apply to this source.
    kind = "copy"
    #: REP-7: what this source itself offers against a removed record.
    integrity_basis = (
        "nothing signed: the COPY file's own contents only"
    )

    def __init__(
        self,
        path: Path | str,
        *,
        table: str | None = None,
        escaping: str | None = None,
        max_line_bytes: int = MAX_LINE_BYTES,
    ) -> None:
        self.path = Path(path)
        named_table, named_escaping = (
            table_of(self.path) if table is None or escaping is None else (table, escaping)
        )
        self.table = table or named_table
        self.escaping = escaping or named_escaping
        if self.table not in TABLES:
            raise InputError(
                str(self.path), f"unknown table {self.table!r} (expected one of {sorted(TABLES)})"
            )
        if self.escaping not in (COPY_TEXT, RAW_JSON):
            raise InputError(str(self.path), f"unknown escaping {self.escaping!r}")
        self.max_line_bytes = max_line_bytes

    def describe(self) -> str:
        return f"pg-copy:{self.table}:{self.path}"

    def read(self) -> Iterator[SourceItem]:
        """Stream every row as a record, or a finding when its key does not map."""
        to_item = _TO_ITEM[self.table]
        ended = False
        for lineno, raw in iter_lines(self.path, self.max_line_bytes):
            where = f"{self.path}:{lineno}"
            line = raw.removesuffix(b"\n")
            if ended:
                raise InputError(where, "data after the end-of-data marker \\.")
            if self.escaping == COPY_TEXT:
                if line == b"\\.":
                    ended = True
                    continue
                if line == b"\\N":
                    raise InputError(where, "the row is NULL (\\N), not a JSON object")
                if b"\t" in line:
                    raise InputError(where, "more than one column (a tab): select row_to_json only")
                line = copy_text_unescape(line)
            row = parse_json_line(line, where)
            if not isinstance(row, dict):
                raise InputError(where, "a row must be a JSON object (row_to_json output)")
            values = self._check_columns(row, where)
            try:
                item = to_item(values, where)
            except AddressError as exc:
                yield Finding(codes.ADDRESS_INVALID, where, str(exc), source=where)
                continue
            yield record_from_item(item, where)

    def _check_columns(self, row: dict[str, Any], where: str) -> dict[str, Any]:
        columns = TABLES[self.table]
        missing = [c for c in columns if c not in row]
        if missing:
            raise InputError(where, f"{self.table} row lacks column(s) {', '.join(missing)}")
        extra = sorted(set(row) - set(columns))
        if extra:
            raise InputError(where, f"{self.table} row has unknown column(s) {', '.join(extra)}")
        out: dict[str, Any] = {}
        for name, kind in columns.items():
            out[name] = self._value(row[name], kind, f"{self.table}.{name}", where)
        return out

    def _value(self, value: Any, kind: str, column: str, where: str) -> Any:
        if value is None:
            if kind.endswith("?"):
                return None
            raise InputError(where, f"{column} is null")
        base = kind.rstrip("?")
        if base == "text" and isinstance(value, str):
            return value
        if base == "int" and type(value) is int:
            return value
        if base == "object" and isinstance(value, dict):
            return value
        if base == "bytea" and isinstance(value, str):
            return self._bytea(value, column, where)
        raise InputError(where, f"{column} must be {base}, got {type(value).__name__}")

    def _bytea(self, text: str, column: str, where: str) -> bytes:
        # EXP-10.3: bytea_output = hex renders "\x" + lowercase hex.
        if text.startswith("\\\\x") and self.escaping == RAW_JSON:
            raise InputError(
                where,
                f"{column} starts with two backslashes: the file looks COPY text-escaped "
                "(name it .copy.json)",
            )
        if not text.startswith("\\x"):
            raise InputError(where, f"{column} is not bytea hex output (\\x...; bytea_output=hex)")
        digits = text[2:]
        if len(digits) % 2 or not _HEX.match(digits):
            raise InputError(where, f"{column} has malformed bytea hex")
        return bytes.fromhex(digits)


# --- rows -> items (MODEL-7, the same mapping as the live PostgreSQL store) ---


#: EXP-10.3: names an ``attributes`` member may not have: the key and the
#: envelope have columns of their own, so such a member could only override
#: them (a writer never produces one, MODEL-4 item 5).
_COLUMN_ATTRS = frozenset({"pk", "sk", *ENVELOPE_ATTRS})


def _attributes(obj: dict[str, Any], column: str, where: str) -> Item:
    item: Item = {}
    for name, value in obj.items():
        if name in _COLUMN_ATTRS or name == "":
            raise InputError(where, f"{column} may not have a member named {name!r} (EXP-10.3)")
        try:
            item[name] = typed_from_json(value, f"{column}.{name}")
        except ValueError as exc:
            raise InputError(where, str(exc)) from None
    return item


def _entity_item(row: dict[str, Any], where: str) -> Item:
    address = Address.from_sql(row["dialogue_id"], row["entity_type"], row["subkey"])
    pk, sk = address.to_dynamodb()
    item: Item = {"pk": {"S": pk}, "sk": {"S": sk}}
    item.update(_attributes(row["attributes"], "attributes", where))
    for name, tag in (
        ("content_encrypted", "B"),
        ("content_nonce", "B"),
        ("key_id", "S"),
        ("aad_hash", "S"),
    ):
        if row[name] is not None:
            item[name] = {tag: row[name]}
    if row["envelope_version"] is not None:
        item["envelope_version"] = {"N": str(row["envelope_version"])}
    return item


def _dek_item(row: dict[str, Any], where: str) -> Item:
    item: Item = {
        "pk": {"S": f"dialogue#{row['dialogue_id']}"},
        "sk": {"S": f"{DEK_SK_PREFIX}{row['version']}"},
    }
    for name in ("key_id", "owner", "wrap_alg", "state", "created_at", "destroyed_at"):
        if row[name] is not None:
            item[name] = {"S": row[name]}
    for name in ("wrapped_key", "wrap_nonce"):
        if row[name] is not None:
            item[name] = {"B": row[name]}
    return item


def _audit_item(row: dict[str, Any], where: str) -> Item:
    item: Item = {
        "pk": {"S": f"{AUDIT_PK_PREFIX}{row['chain_id']}"},
        "sk": {"S": f"{AUDIT_SK_PREFIX}{row['event_id']}"},
    }
    for name, value in row["fields"].items():
        if name in ("pk", "sk", ""):
            # EXP-10.3: the key comes from chain_id and event_id only.
            raise InputError(where, f"fields may not have a member named {name!r} (EXP-10.3)")
        if value is not None and not isinstance(value, str) and type(value) is not int:
            raise InputError(where, f"fields.{name} is not a string, integer or null")
        item[name] = typed_from_plain(value)
    return item


_TO_ITEM: dict[str, Callable[[dict[str, Any], str], Item]] = {
    "entities": _entity_item,
    "wrapped_deks": _dek_item,
    "audit_events": _audit_item,
}
