"""PostgreSQL store: the reference schema, streaming reads, idempotent imports.

Layout (``chainaudit/sql/schema.sql``, STORE-3): ``entities`` keyed by the
canonical address split into ``(dialogue_id, entity_type, subkey)``,
``wrapped_deks`` keyed by ``(dialogue_id, version)``, ``audit_events`` keyed
by ``(chain_id, event_id)``. Every row maps to the same DynamoDB-typed item
a DynamoDB table would hold, and :func:`chainaudit.records.item.record_from_item`
turns that into a record: one mapping, so both stores agree byte for byte.

Reads run in one read-only REPEATABLE READ transaction (a consistent
snapshot of all three tables) through server-side cursors fetching
``fetch_size`` rows at a time, ordered by primary key with byte collation,
so memory stays flat and chains arrive in stored order (STORE-6).

Imports commit per batch with ``INSERT ... ON CONFLICT DO NOTHING``; rows
that were already present are read back and compared (STORE-7).

Every wait for the server is bounded (STORE-12, :mod:`chainaudit.sources.timeouts`):
``connect_timeout`` while connecting, then a client-side deadline on every
operation (:class:`_BoundedConnection`) backed by the session's
``statement_timeout``, so a stalled server ends in :class:`StoreError`.

>>> store = PostgresStore("postgresql://postgres@127.0.0.1:5432/postgres")  # doctest: +SKIP
>>> store.create_schema()  # doctest: +SKIP
>>> report = store.import_records(records)  # doctest: +SKIP
"""

from __future__ import annotations

import getpass
import heapq
import math
import os
import re
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from importlib import resources
from typing import Any
from urllib.parse import unquote

import psycopg
from psycopg import sql
from psycopg.abc import RV, PQGen
from psycopg.conninfo import conninfo_to_dict
from psycopg.types.json import Jsonb, set_json_loads

from chainaudit.errors import ConflictError, InputError, StoreError
from chainaudit.findings import Finding, codes
from chainaudit.primitives import strictjson
from chainaudit.records.address import AddressError, EntityType
from chainaudit.records.item import (
    AUDIT_PK_PREFIX,
    AUDIT_SK_PREFIX,
    DEK_SK_PREFIX,
    item_from_record,
    record_from_item,
    typed_from_json,
    typed_from_plain,
    typed_to_json,
)
from chainaudit.records.model import ENVELOPE_ATTRS, Item, Record, WrappedDek
from chainaudit.sources import ImportReport, Source, SourceItem
from chainaudit.sources.migration import (
    RecordKey,
    batched,
    dedupe_batch,
    not_representable,
    settle_existing,
    walk_values,
)
from chainaudit.sources.timeouts import StoreTimeouts

SCHEMA_VERSION = 1

_ENTITY_COLS = (
    "dialogue_id",
    "entity_type",
    "subkey",
    "attributes",
    "content_encrypted",
    "content_nonce",
    "key_id",
    "aad_hash",
    "envelope_version",
)
_DEK_COLS = (
    "dialogue_id",
    "version",
    "key_id",
    "owner",
    "wrap_alg",
    "wrapped_key",
    "wrap_nonce",
    "state",
    "created_at",
    "destroyed_at",
)
_AUDIT_COLS = ("chain_id", "event_id", "fields")

#: table -> (columns, primary-key columns)
_TABLES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "entities": (_ENTITY_COLS, ("dialogue_id", "entity_type", "subkey")),
    "wrapped_deks": (_DEK_COLS, ("dialogue_id", "version")),
    "audit_events": (_AUDIT_COLS, ("chain_id", "event_id")),
}


def schema_sql() -> str:
    """The text of the reference schema shipped in the package (STORE-3)."""
    return resources.files("chainaudit").joinpath("sql/schema.sql").read_text("utf-8")


def create_schema(conn: psycopg.Connection[Any]) -> None:
    """Create the reference schema in the first schema of ``search_path``.

    Idempotent; commits. Existing tables are left as they are.
    """
    with conn.transaction():
        conn.execute(schema_sql().encode("utf-8"))


# --- rows <-> items (STORE-3) -----------------------------------------------


class _Unreadable:
    """A jsonb value the strict reader refused (nested deeper than
    chainaudit.primitives.strictjson allows, a huge number): its row is RECORD_MALFORMED."""

    __slots__ = ("reason",)

    def __init__(self, reason: str) -> None:
        self.reason = reason


def _load_jsonb(data: bytes | bytearray | memoryview | str) -> Any:
    """psycopg's json/jsonb loader: chainaudit.primitives.strictjson, never a RecursionError (CLI-4)."""
    raw = data.encode("utf-8") if isinstance(data, str) else bytes(data)
    try:
        # strictjson.fast_loads reads as the strict reader does, but for an
        # integer beyond 64 bits (a float from orjson): that needs a run of
        # 19 digits, and a text holding one is read strictly.
        if _LONG_DIGITS.search(raw) is None:
            return strictjson.fast_loads(raw)
        return strictjson.loads(raw, unique=False)
    except ValueError as exc:
        return _Unreadable(str(exc))


_LONG_DIGITS = re.compile(rb"[0-9]{19}")


def _entity_item(row: Sequence[Any]) -> Item:
    dialogue_id, entity_type, subkey, attributes, ciphertext, nonce, key_id, aad_hash, ver = row
    # ADDR-4: the columns map to pk/sk by concatenation once entity_type is a
    # known type name (no '#'); record_from_item then validates the address
    # once, exactly as Address.from_sql would.
    if entity_type not in _ENTITY_TYPES:
        raise AddressError(f"unknown entity type {entity_type!r}")
    sk = "meta" if entity_type == "meta" and subkey == "" else f"{entity_type}#{subkey}"
    item: Item = {"pk": {"S": f"dialogue#{dialogue_id}"}, "sk": {"S": sk}}
    if isinstance(attributes, _Unreadable):
        raise ValueError(f"attributes: {attributes.reason}")
    if not isinstance(attributes, dict):
        raise ValueError("attributes is not a JSON object")
    for name, value in attributes.items():
        # EXP-10 / STORE-3: the key and the envelope have columns of their own;
        # an attribute by one of those names would silently replace them.
        if name in ("pk", "sk") or name in ENVELOPE_ATTRS:
            raise ValueError(f"attributes.{name} collides with a column of its own")
        item[name] = typed_from_json(value, f"attributes.{name}")
    if ciphertext is not None:
        item["content_encrypted"] = {"B": bytes(ciphertext)}
    if nonce is not None:
        item["content_nonce"] = {"B": bytes(nonce)}
    if key_id is not None:
        item["key_id"] = {"S": key_id}
    if aad_hash is not None:
        item["aad_hash"] = {"S": aad_hash}
    if ver is not None:
        item["envelope_version"] = {"N": str(ver)}
    return item


def _dek_item(row: Sequence[Any]) -> Item:
    (
        dialogue_id,
        version,
        key_id,
        owner,
        wrap_alg,
        wrapped,
        wrap_nonce,
        state,
        created,
        destroyed,
    ) = row
    item: Item = {
        "pk": {"S": f"dialogue#{dialogue_id}"},
        "sk": {"S": f"{DEK_SK_PREFIX}{version}"},
        "key_id": {"S": key_id},
        "owner": {"S": owner},
        "wrap_alg": {"S": wrap_alg},
        "state": {"S": state},
        "created_at": {"S": created},
    }
    if wrapped is not None:
        item["wrapped_key"] = {"B": bytes(wrapped)}
    if wrap_nonce is not None:
        item["wrap_nonce"] = {"B": bytes(wrap_nonce)}
    if destroyed is not None:
        item["destroyed_at"] = {"S": destroyed}
    return item


def _audit_item(row: Sequence[Any]) -> Item:
    chain_id, event_id, fields = row
    if isinstance(fields, _Unreadable):
        raise ValueError(f"fields: {fields.reason}")
    if not isinstance(fields, dict):
        raise ValueError("fields is not a JSON object")
    item: Item = {
        "pk": {"S": f"{AUDIT_PK_PREFIX}{chain_id}"},
        "sk": {"S": f"{AUDIT_SK_PREFIX}{event_id}"},
    }
    for name, value in fields.items():
        if name in ("pk", "sk"):
            raise ValueError(f"fields.{name} collides with the event's key")
        if isinstance(value, float | list | dict):
            raise ValueError(f"fields.{name} is not a string, integer or null")
        item[name] = typed_from_plain(value)
    return item


_ENTITY_TYPES = frozenset(t.value for t in EntityType)

_ROW_TO_ITEM = {"entities": _entity_item, "wrapped_deks": _dek_item, "audit_events": _audit_item}


def _row_from_item(table: str, item: Item) -> tuple[Any, ...]:
    """The row of an item produced by :func:`chainaudit.records.item.item_from_record`."""
    pk, sk = item["pk"]["S"], item["sk"]["S"]
    if table == "entities":
        # The item came from a valid Address (item_from_record): split, don't re-parse.
        dialogue_id = pk[len("dialogue#") :]
        entity_type, _, subkey = sk.partition("#")
        attrs = {
            name: typed_to_json(value)
            for name, value in item.items()
            # Only the key and the envelope have columns of their own: an
            # attribute that shares a column's name (items carry a cleartext
            # ``entity_type``) is an attribute like any other.
            if name not in ("pk", "sk") and name not in ENVELOPE_ATTRS
        }

        def b(name: str) -> bytes | None:
            return item[name]["B"] if name in item else None

        def s(name: str) -> str | None:
            return item[name]["S"] if name in item else None

        version = int(item["envelope_version"]["N"]) if "envelope_version" in item else None
        return (
            dialogue_id,
            entity_type,
            subkey,
            Jsonb(attrs),
            b("content_encrypted"),
            b("content_nonce"),
            s("key_id"),
            s("aad_hash"),
            version,
        )
    if table == "wrapped_deks":
        return (
            pk[len("dialogue#") :],
            int(sk[len(DEK_SK_PREFIX) :]),
            item["key_id"]["S"],
            item["owner"]["S"],
            item["wrap_alg"]["S"],
            item["wrapped_key"]["B"] if "wrapped_key" in item else None,
            item["wrap_nonce"]["B"] if "wrap_nonce" in item else None,
            item["state"]["S"],
            item["created_at"]["S"],
            item["destroyed_at"]["S"] if "destroyed_at" in item else None,
        )
    fields = {
        name: (None if "NULL" in v else int(v["N"]) if "N" in v else v["S"])
        for name, v in item.items()
        if name not in ("pk", "sk")
    }
    return pk[len(AUDIT_PK_PREFIX) :], sk[len(AUDIT_SK_PREFIX) :], Jsonb(fields)


def not_verbatim_reason(item: Item) -> str | None:
    """Why PostgreSQL could not hold ``item`` byte for byte, or None (STORE-7):
    text and jsonb cannot contain U+0000."""
    for path, tag, value in walk_values(item):
        if tag in ("S", "name") and "\x00" in value:
            return f"U+0000 in {'a name' if tag == 'name' else 'a string'} at {path}"
    return None


def _table_of(item: Item) -> str:
    pk, sk = item["pk"]["S"], item["sk"]["S"]
    if pk.startswith(AUDIT_PK_PREFIX):
        return "audit_events"
    if sk.startswith(DEK_SK_PREFIX):
        return "wrapped_deks"
    return "entities"


def _origin(table: str, row: Sequence[Any]) -> str:
    key_len = len(_TABLES[table][1])
    return f"postgresql:{table}({', '.join(repr(v) for v in row[:key_len])})"


def _entity_sk(entity_type: Any, subkey: Any) -> str:
    """The sort key of an entity row, for ordering only (ADDR-4)."""
    if entity_type == "meta" and subkey == "":
        return "meta"
    return f"{entity_type}#{subkey}"


def _deks_in_key_order(
    rows: Iterable[tuple[Any, ...]],
) -> Iterator[tuple[tuple[str, str], str, tuple[Any, ...]]]:
    """Wrapped-DEK rows (by dialogue, then version) by dialogue, then sort key
    ``dek#{version}`` as text (``dek#10`` before ``dek#2``): one dialogue's
    rows are held at a time."""
    group: list[tuple[tuple[str, str], str, tuple[Any, ...]]] = []
    for row in rows:
        if group and group[0][0][0] != row[0]:
            yield from sorted(group, key=lambda x: x[0])
            group = []
        group.append(((row[0], f"dek#{row[1]}"), "wrapped_deks", row))
    yield from sorted(group, key=lambda x: x[0])


def row_to_source_item(table: str, row: Sequence[Any]) -> SourceItem:
    """Map one row to its record, or to a finding naming the row (STORE-3)."""
    origin = _origin(table, row)
    try:
        item = _ROW_TO_ITEM[table](row)
    except AddressError as exc:
        return Finding(codes.ADDRESS_INVALID, origin, str(exc), source=origin)
    except (ValueError, KeyError, TypeError) as exc:
        return Finding(codes.RECORD_MALFORMED, origin, str(exc), source=origin)
    # The row maps to a fresh item of canonical values (typed_from_json's).
    return record_from_item(item, origin, canonical=True)


def _mask_password(dsn: str, text: str) -> str:
    """``text`` (libpq's message about ``dsn``) with any password of ``dsn`` masked."""
    secrets = re.findall(r"^[A-Za-z][A-Za-z0-9+.-]*://[^/?#@]*?:([^/?#]*)@", dsn)
    secrets += re.findall(r"[?&]password=([^&#]*)", dsn)
    secrets += re.findall(r"\bpassword\s*=\s*('(?:[^'\\]|\\.)*'|\S+)", dsn)
    for secret in sorted({x for s in secrets for x in (s, unquote(s)) if x}, key=len, reverse=True):
        text = text.replace(secret, "***")
    return text


# --- bounded waits (STORE-12) -------------------------------------------------

#: TCP keepalives, unless the DSN sets them: they let either side notice a
#: peer that vanished from the network while the connection is idle. They do
#: not end a wait on a server that is alive but stopped (SIGSTOP, a hung
#: process): its kernel still answers keepalives, as it would honour
#: tcp_user_timeout. Only the client-side deadline below ends that wait.
_KEEPALIVES = {
    "keepalives": "1",
    "keepalives_idle": "30",
    "keepalives_interval": "10",
    "keepalives_count": "3",
}


class _ReadTimeout(psycopg.OperationalError):
    """The server did not finish an operation within the read bound."""


class _BoundedConnection(psycopg.Connection[Any]):
    """A connection whose every wait for the server ends within ``read_bound`` s.

    psycopg runs every operation (execute, fetch, executemany's pipeline,
    commit, and the implicit BEGIN, cursor CLOSE and COMMIT of ``with``
    blocks) as a generator consumed by :meth:`wait`; bounding ``wait``
    bounds them all. When the bound expires the exchange is abandoned
    mid-protocol, so the connection is closed and :class:`_ReadTimeout`
    raised: nothing further waits on it.
    """

    read_bound: float | None = None
    read_message = "no answer within the read timeout"

    def wait(self, gen: PQGen[RV], interval: float = 0.1, timeout: float | None = None) -> RV:
        bound = self.read_bound
        if bound is None or (timeout is not None and timeout <= bound):
            return super().wait(gen, interval, timeout)
        deadline = time.monotonic() + bound
        try:
            return super().wait(gen, interval, bound)
        except psycopg.OperationalError:
            if time.monotonic() < deadline:
                raise
        self.pgconn.finish()
        raise _ReadTimeout(self.read_message) from None


# --- the store --------------------------------------------------------------


#: Rows of ``entities`` sampled to cut a parallel read when no wrapped key says
#: where the dialogues are (:meth:`PostgresStore.split`).
CUT_SAMPLE_ROWS = 20_000


class PostgresStore:
    """A chainaudit store in PostgreSQL, addressed by a ``postgresql://`` DSN.

    ``fetch_size`` bounds the rows held in memory while reading;
    ``batch_size`` is the number of records committed together on import.
    ``timeouts`` bounds every wait for the server (STORE-12): ``connect``
    is libpq's ``connect_timeout`` (whole seconds, at least 2, per address
    tried), ``read`` both the client-side deadline of each operation and the
    session's ``statement_timeout``.
    """

    #: REP-4: which export checks apply to this source.
    kind = "store"
    #: REP-7: what this source itself offers against a removed record.
    integrity_basis = (
        "nothing signed: the tables' current contents only"
    )
    #: CLI-5: :meth:`read` delivers the rows in key order (an export's order),
    #: so each dialogue's records arrive together and the audit reads once.
    grouped = True

    def __init__(
        self,
        dsn: str,
        *,
        fetch_size: int = 2000,
        batch_size: int = 1000,
        timeouts: StoreTimeouts | None = None,
    ) -> None:
        if fetch_size < 1 or batch_size < 1:
            raise ValueError("fetch_size and batch_size must be at least 1")
        self.dsn = dsn
        self.fetch_size = fetch_size
        self.batch_size = batch_size
        self.timeouts = timeouts or StoreTimeouts()

    def describe(self) -> str:
        """``postgresql://host:port/dbname``, never the password."""
        try:
            params = conninfo_to_dict(self.dsn)
        except psycopg.ProgrammingError:
            return "postgresql://?"
        # The effective target, as libpq resolves it: the DSN, then the PG*
        # environment (PGHOST, PGPORT, PGDATABASE, PGUSER), then its defaults.
        env = os.environ
        host = str(params.get("host") or params.get("hostaddr") or env.get("PGHOST") or "")
        port = str(params.get("port") or env.get("PGPORT") or "5432")
        user = str(params.get("user") or env.get("PGUSER") or getpass.getuser())
        dbname = str(params.get("dbname") or env.get("PGDATABASE") or user)
        if not host or host.startswith("/"):
            host = f"[socket {host or 'default'}]"
        return f"postgresql://{host}:{port}/{dbname}"

    def _malformed(self, exc: psycopg.Error) -> InputError:
        """A connection string libpq refuses is the user's input (exit 2, CLI-3);
        libpq's reason is shown with the password masked (CLI-4)."""
        return InputError(
            self.describe(), f"malformed connection string: {_mask_password(self.dsn, str(exc))}"
        )

    def _connect(self) -> psycopg.Connection[Any]:
        """A connection whose every wait is bounded (STORE-12), in a session
        whose ``statement_timeout`` is the read bound; not in autocommit."""
        t = self.timeouts
        params: dict[str, Any] = {"connect_timeout": t.pg_connect_seconds}
        try:
            given = conninfo_to_dict(self.dsn)
        except psycopg.ProgrammingError as exc:
            raise self._malformed(exc) from None
        params.update((k, v) for k, v in _KEEPALIVES.items() if k not in given)
        try:
            conn = _BoundedConnection.connect(self.dsn, autocommit=True, **params)
        except psycopg.errors.ConnectionTimeout:
            raise StoreError(
                f"{self.describe()}: cannot connect: {t.connect_expired(t.pg_connect_seconds)}"
            ) from None
        except psycopg.ProgrammingError as exc:  # libpq refused an option of the DSN
            raise self._malformed(exc) from None
        except psycopg.Error as exc:
            raise StoreError(f"{self.describe()}: cannot connect: {exc}") from None
        set_json_loads(_load_jsonb, conn)
        conn.read_bound = t.read
        conn.read_message = t.read_expired()
        try:
            # The server's own bound: a statement that runs too long (not a
            # stalled server) is cancelled there, with its own clear error.
            conn.execute(
                "SELECT set_config('statement_timeout', %s, false)",
                (f"{math.ceil(t.read * 1000)}ms",),
            )
            conn.autocommit = False
        except psycopg.Error as exc:
            conn.close()
            raise self._failed("cannot connect", exc) from None
        return conn

    def _failed(self, action: str, exc: psycopg.Error) -> StoreError:
        """The StoreError for a failed operation, naming the bound when one expired."""
        if isinstance(exc, psycopg.errors.QueryCanceled) and "statement timeout" in str(exc):
            detail = (
                "the server cancelled a statement at its statement_timeout "
                f"({self.timeouts.read:g} s; --read-timeout)"
            )
        else:
            detail = str(exc)
        return StoreError(f"{self.describe()}: {action}: {detail}")

    def create_schema(self) -> None:
        """Create the reference schema (idempotent)."""
        with self._connect() as conn:
            try:
                create_schema(conn)
            except psycopg.Error as exc:
                raise self._failed("cannot create schema", exc) from None

    # -- reading ---------------------------------------------------------------

    def read(self) -> Iterator[SourceItem]:
        """Every entity, wrapped DEK and audit event, streamed from one snapshot,
        in key order: ``(pk, sk)`` as UTF-8 bytes, the order of an export
        (EXP-5): the audit log's events, then each dialogue's entities and
        wrapped DEKs merged by sort key (CLI-5: one read, grouped)."""
        yield from self._read_where(None)

    @contextmanager
    def split(self, n: int) -> Iterator[list[Source] | None]:
        """``n`` parts for ``verify --workers n`` (:class:`~chainaudit.sources.Splittable`):
        consecutive ranges of ``dialogue_id`` (the audit log's events go with
        the first), cut at the ``1/n, 2/n, ...`` quantiles of the dialogues
        (:meth:`_cuts`). All parts read the one snapshot this transaction
        exports (``pg_export_snapshot``), held open until the block ends, so
        together they see exactly what one read would. None for ``n < 2`` or
        when nothing can be cut (an empty database, one dialogue)."""
        if n < 2:
            yield None
            return
        with self._snapshot("cannot split the read") as conn:
            self._check_version(conn)
            row = conn.execute("SELECT pg_export_snapshot()").fetchone()
            snapshot = str(row[0]) if row else ""
            cuts = self._cuts(conn, n)
            if not cuts:
                yield None
                return
            edges: list[str | None] = [None, *cuts, None]
            yield [
                _RangePart(self, snapshot, (edges[i], edges[i + 1]), audit=i == 0)
                for i in range(len(edges) - 1)
            ]

    @contextmanager
    def _snapshot(self, action: str) -> Iterator[psycopg.Connection[Any]]:
        """A connection inside one read-only ``REPEATABLE READ`` transaction (one
        snapshot of every table); a server error is a StoreError naming ``action``.
        The connection is closed when the block ends."""
        conn = self._connect()
        try:
            conn.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
            conn.read_only = True
            with conn.transaction():
                yield conn
        except psycopg.Error as exc:
            raise self._failed(action, exc) from None
        finally:
            conn.close()

    def _cuts(self, conn: psycopg.Connection[Any], n: int) -> list[str]:
        """Dialogue ids that cut the dialogues into about ``n`` even ranges:
        quantiles of ``wrapped_deks`` (one row per key: small), else of a
        sample of ``entities`` of about :data:`CUT_SAMPLE_ROWS` rows (a
        database without wrapped keys). Any cuts give a correct read; these
        only balance it."""
        fractions = [k / n for k in range(1, n)]

        def quantiles(of: sql.Composable) -> list[str]:
            query = sql.SQL(
                "SELECT percentile_disc(%s::float8[]) WITHIN GROUP (ORDER BY dialogue_id) FROM "
            )
            row = conn.execute(query + of, (fractions,)).fetchone()
            return sorted({c for c in (row[0] if row and row[0] else []) if c})

        cuts = quantiles(sql.SQL("wrapped_deks"))
        if cuts:
            return cuts
        row = conn.execute(
            "SELECT reltuples FROM pg_class WHERE oid = to_regclass('entities')"
        ).fetchone()
        estimate = float(row[0]) if row and row[0] is not None else -1.0
        percent = 100.0 if estimate <= CUT_SAMPLE_ROWS else 100.0 * CUT_SAMPLE_ROWS / estimate
        return quantiles(sql.SQL("entities TABLESAMPLE SYSTEM ({})").format(sql.Literal(percent)))

    def read_range(
        self, snapshot: str, bounds: tuple[str | None, str | None], audit: bool
    ) -> Iterator[SourceItem]:
        """One part of :meth:`split`: the dialogues with ``lo <= dialogue_id < hi``
        (either bound may be open), and the audit log when ``audit``, in key
        order, from the exported ``snapshot``."""
        with self._snapshot("read failed") as conn:
            # The first statement of the transaction: see what the splitter saw.
            conn.execute(sql.SQL("SET TRANSACTION SNAPSHOT {}").format(sql.Literal(snapshot)))
            if audit:
                yield from self._stream(conn, "audit_events", None)
            yield from self._key_order(conn, bounds)

    def read_dialogue(self, dialogue: str) -> Iterator[SourceItem]:
        """The entities and wrapped DEKs of one dialogue (escaped id), in key order."""
        yield from self._read_where(dialogue)

    def _read_where(self, dialogue: str | None) -> Iterator[SourceItem]:
        tables = ("entities", "wrapped_deks") if dialogue is not None else tuple(_TABLES)
        with self._snapshot("read failed") as conn:
            self._check_version(conn)
            if dialogue is None:
                yield from self._stream(conn, "audit_events", None)
                yield from self._key_order(conn)
                return
            for table in tables:
                yield from self._stream(conn, table, dialogue)

    def _check_version(self, conn: psycopg.Connection[Any]) -> None:
        try:
            rows = conn.execute("SELECT version FROM chainaudit_schema").fetchall()
        except psycopg.errors.UndefinedTable:
            raise StoreError(
                f"{self.describe()}: no chainaudit schema here (create it with create_schema)"
            ) from None
        versions = {r[0] for r in rows}
        if versions != {SCHEMA_VERSION}:
            raise StoreError(
                f"{self.describe()}: schema version(s) {sorted(versions)} "
                f"(this chainaudit reads version {SCHEMA_VERSION})"
            )

    def _key_order(
        self, conn: psycopg.Connection[Any], bounds: tuple[str | None, str | None] = (None, None)
    ) -> Iterator[SourceItem]:
        """Entities and wrapped DEKs in key order: by dialogue, then sort key
        (``{type}#{subkey}`` or ``meta``; ``dek#{version}`` as text), from
        two cursors read side by side in the one snapshot; only the dialogues
        within ``bounds`` (``lo <= dialogue_id < hi``, None for open)."""
        entities = (
            ((row[0], _entity_sk(row[1], row[2])), "entities", row)
            for row in self._rows(conn, "entities", None, bounds)
        )
        deks = _deks_in_key_order(self._rows(conn, "wrapped_deks", None, bounds))
        for _, table, row in heapq.merge(deks, entities, key=lambda x: x[0]):
            yield row_to_source_item(table, row)

    def _stream(
        self, conn: psycopg.Connection[Any], table: str, dialogue: str | None
    ) -> Iterator[SourceItem]:
        for row in self._rows(conn, table, dialogue):
            yield row_to_source_item(table, row)

    def _rows(
        self,
        conn: psycopg.Connection[Any],
        table: str,
        dialogue: str | None,
        bounds: tuple[str | None, str | None] = (None, None),
    ) -> Iterator[tuple[Any, ...]]:
        cols, key = _TABLES[table]
        query = sql.SQL("SELECT {cols} FROM {table}").format(
            cols=sql.SQL(", ").join(map(sql.Identifier, cols)), table=sql.Identifier(table)
        )
        where: list[sql.Composable] = []
        params: tuple[Any, ...] = ()
        if dialogue is not None:
            where.append(sql.SQL("dialogue_id = %s"))
            params = (dialogue,)
        lo, hi = bounds
        if lo is not None:
            where.append(sql.SQL("dialogue_id >= %s"))
            params += (lo,)
        if hi is not None:
            where.append(sql.SQL("dialogue_id < %s"))
            params += (hi,)
        if where:
            query += sql.SQL(" WHERE ") + sql.SQL(" AND ").join(where)
        query += sql.SQL(" ORDER BY {}").format(sql.SQL(", ").join(map(sql.Identifier, key)))
        # A named cursor lives on the server; itersize rows cross per fetch.
        with conn.cursor(name=f"chainaudit_{table}") as cur:
            cur.itersize = self.fetch_size
            cur.execute(query, params)
            yield from cur

    # -- importing -------------------------------------------------------------

    def import_records(self, records: Iterable[Record]) -> ImportReport:
        """Import verbatim (STORE-7): absent rows are inserted, identical ones
        skipped, differing ones reported as IMPORT_CONFLICT and left alone.

        Each batch is one transaction, so an interruption keeps every batch
        committed before it and a re-run completes the rest.
        """
        report = ImportReport()
        sink = self.describe()
        with self._connect() as conn:
            for batch in batched(records, self.batch_size):
                items = dedupe_batch(batch, report, sink)
                for key, item in list(items.items()):
                    reason = not_verbatim_reason(item)
                    if reason is not None:
                        report.conflicts.append(not_representable(key, reason, sink))
                        del items[key]
                try:
                    with conn.transaction():
                        self._import_batch(conn, items, report, sink)
                except psycopg.Error as exc:
                    raise self._failed("import failed", exc) from None
        return report

    def _import_batch(
        self,
        conn: psycopg.Connection[Any],
        items: dict[RecordKey, Item],
        report: ImportReport,
        sink: str,
    ) -> None:
        by_table: dict[str, list[tuple[RecordKey, Item]]] = {}
        for key, item in items.items():
            by_table.setdefault(_table_of(item), []).append((key, item))
        for table, entries in by_table.items():
            cols, pkey = _TABLES[table]
            insert = sql.SQL(
                "INSERT INTO {table} ({cols}) VALUES ({vals}) ON CONFLICT DO NOTHING RETURNING 1"
            ).format(
                table=sql.Identifier(table),
                cols=sql.SQL(", ").join(map(sql.Identifier, cols)),
                vals=sql.SQL(", ").join(sql.Placeholder() * len(cols)),
            )
            rows = [_row_from_item(table, item) for _, item in entries]
            present: list[tuple[RecordKey, Item, tuple[Any, ...]]] = []
            with conn.cursor() as cur:
                cur.executemany(insert, rows, returning=True)
                for (key, item), row in zip(entries, rows, strict=True):
                    if cur.fetchone() is not None:
                        report.written += 1
                    else:
                        present.append((key, item, row[: len(pkey)]))
                    cur.nextset()
            if present:
                self._compare_present(conn, table, present, report, sink)

    def _compare_present(
        self,
        conn: psycopg.Connection[Any],
        table: str,
        present: list[tuple[RecordKey, Item, tuple[Any, ...]]],
        report: ImportReport,
        sink: str,
    ) -> None:
        cols, pkey = _TABLES[table]
        select = sql.SQL("SELECT {cols} FROM {table} WHERE ({key}) IN ({rows})").format(
            cols=sql.SQL(", ").join(map(sql.Identifier, cols)),
            table=sql.Identifier(table),
            key=sql.SQL(", ").join(map(sql.Identifier, pkey)),
            rows=sql.SQL(", ").join(
                sql.SQL("({})").format(sql.SQL(", ").join(sql.Placeholder() * len(pkey)))
                for _ in present
            ),
        )
        params = [v for _, _, k in present for v in k]
        stored: dict[tuple[Any, ...], Item] = {}
        for row in conn.execute(select, params):
            stored[tuple(row[: len(pkey)])] = _ROW_TO_ITEM[table](row)
        for key, item, pk_values in present:
            existing = stored.get(tuple(pk_values))
            if existing is None:
                raise StoreError(f"{sink}: row {key} vanished during import")
            settle_existing(key, existing, item, report, sink)

    # -- crypto-shredding (KEY-6) ---------------------------------------------

    def replace_dek(self, old: WrappedDek, new: WrappedDek) -> bool:
        """Compare-and-set one wrapped-DEK row from ``old`` to ``new``.

        The only in-place change chainaudit ever makes: shredding a key. The
        row changes only if it still holds exactly ``old`` (so a concurrent
        writer is never overwritten); True when this call changed it, False
        when it already held ``new``. Anything else raises ConflictError.
        """
        if (old.dialogue, old.version) != (new.dialogue, new.version):
            raise ValueError("replace_dek keeps the key's position: same dialogue and version")
        old_row = _row_from_item("wrapped_deks", item_from_record(old))
        new_row = _row_from_item("wrapped_deks", item_from_record(new))
        sets = sql.SQL(", ").join(
            sql.SQL("{} = %s").format(sql.Identifier(c)) for c in _DEK_COLS[2:]
        )
        guard = sql.SQL(" AND ").join(
            sql.SQL("{} IS NOT DISTINCT FROM %s").format(sql.Identifier(c)) for c in _DEK_COLS
        )
        query = sql.SQL("UPDATE wrapped_deks SET {} WHERE {}").format(sets, guard)
        with self._connect() as conn:
            try:
                cur = conn.execute(query, (*new_row[2:], *old_row))
                if cur.rowcount == 1:
                    return True
                row = conn.execute(
                    sql.SQL(
                        "SELECT {} FROM wrapped_deks WHERE dialogue_id = %s AND version = %s"
                    ).format(sql.SQL(", ").join(sql.Identifier(c) for c in _DEK_COLS)),
                    (old.dialogue, old.version),
                ).fetchone()
            except psycopg.Error as exc:
                raise self._failed(f"cannot update {old.key_id}", exc) from None
        if (
            row is not None
            and tuple(bytes(v) if isinstance(v, memoryview) else v for v in row) == new_row
        ):
            return False
        raise ConflictError(
            f"{self.describe()}: {old.key_id} changed since it was read; not overwritten"
        )


class _RangePart:
    """A range of dialogues of one snapshot: one part of a parallel read
    (:meth:`PostgresStore.split`). It connects when read, in its worker."""

    grouped = True

    def __init__(
        self,
        store: PostgresStore,
        snapshot: str,
        bounds: tuple[str | None, str | None],
        audit: bool,
    ) -> None:
        self.store, self.snapshot, self.bounds, self.audit = store, snapshot, bounds, audit
        self.kind = store.kind
        self.integrity_basis = store.integrity_basis

    def describe(self) -> str:
        return self.store.describe()

    def read(self) -> Iterator[SourceItem]:
        yield from self.store.read_range(self.snapshot, self.bounds, self.audit)
