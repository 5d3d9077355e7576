"""Verification on a Dask cluster (issue 13; docs/distributed.md).

``chainaudit verify SOURCE --dask tcp://scheduler:8786`` (or ``--dask
local:N``) runs :func:`audit_dask`: the same verification as
:func:`chainaudit.audit.audit`, with the same :class:`~chainaudit.findings.Result`
(findings in the same order, the same counters, chain lengths and
evidence), computed by Dask workers. Nothing here is a second verifier or
a second merge: workers run :class:`chainaudit.audit._Run` over their part
of the source, and the client puts the parts together with
:func:`chainaudit.audit._merge` (or :func:`chainaudit.audit._merge_spans`),
exactly as ``--workers N`` does on one machine.

Two shapes of run, as the serial verifier reads the source (CLI-5):

* **grouped** (one NDJSON export, sorted by key): the export is cut at
  partition boundaries (:meth:`NdjsonSource.spans`, as ``--workers``), each
  span read and verified by one task as a grouped read does; no dialogue and
  no chain is split, so nothing is shuffled. A small or compressed export,
  or one object in S3, is one task.
* **spooled** (a DynamoDB Export to S3, local or in S3, several sources, COPY
  files): each *unit* (a listed data file, an NDJSON shard, a COPY file) is
  read by one task, which runs the per-item checks (source findings, wrapped
  DEK records, keyless envelope checks and nonce entries, key history,
  commitment intake) and keeps the rest by **bucket** (``partition(chain_id,
  B)``, the partitioning of CHAIN-8): chain events, commitment rows and
  dialogue ids. One task per bucket then gathers its pieces from every unit
  (the shuffle), puts each chain's events in chain order, verifies every
  chain whole and judges every dialogue's commitments. With keys, a second
  task per unit opens the unit's envelopes once every wrapped DEK of the
  dataset is known (a dialogue's DEK record may lie in another data file).

**Keys** never travel: the UMK is named by where a worker finds it
(:class:`UmkFile`: a path readable on every worker; :class:`UmkKms`: the KMS
ciphertext blob, which each worker decrypts itself), and each worker unwraps
the DEKs it needs from the wrapped-DEK records (ciphertext that the export
holds anyway). A :class:`~chainaudit.keys.umk.Umk` refuses to be pickled, and
DEKs are only ever held by a worker's key ring, so neither can enter a task
graph; ``tests/test_dask.py`` scans the graph for them.

**Faults.** Tasks are pure: a task whose worker dies is run again by Dask
from its inputs, and its result is merged once. A unit a worker cannot read
(an S3 object that is absent or refused, a local file a worker cannot open)
ends the run with exit 3 naming it (``StoreError``), never a silent gap.
"""

from __future__ import annotations

import contextlib
import copy
import dataclasses
import importlib
import logging
import os
import socket
import tempfile
import uuid
import warnings
from collections import Counter
from collections.abc import Callable, Iterator, MutableMapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from chainaudit import errors
from chainaudit.audit import (
    AuditOptions,
    _DigestThread,
    _merge,
    _merge_spans,
    _Part,
    _resolve_keys,
    _Run,
    _Setup,
    _setup,
    _Ungrouped,
)
from chainaudit.chain.events import is_lifecycle, lifecycle_order_key
from chainaudit.chain.merge import Partial, partition
from chainaudit.chain.verify import ChainVerifier
from chainaudit.commitments.verify import CommitmentVerifier, Judged, materialized
from chainaudit.envelope.nonces import LedgerPart, NonceLedger, NonceLimits
from chainaudit.envelope.verify import EnvelopeVerifier
from chainaudit.errors import ChainauditError, InputError, KeySourceError, StoreError
from chainaudit.findings import Finding, Result
from chainaudit.keys.history import KeyHistory
from chainaudit.keys.keyring import KeyRing
from chainaudit.keys.umk import Umk
from chainaudit.records.model import AuditEvent, EntityRecord, WrappedDek
from chainaudit.report.assurance import Evidence
from chainaudit.sources import Source, SourceItem
from chainaudit.sources.ddb_export import DataFile, DynamoDBExportSource
from chainaudit.sources.filetree import LocalTree
from chainaudit.sources.multi import MultiSource, StdinSource
from chainaudit.sources.ndjson import NdjsonSource, ReadState, Stop
from chainaudit.sources.timeouts import StoreTimeouts
from chainaudit.spilllist import SpillList
from chainaudit.spillmap import TUPLES, SpillMap

#: A ``distributed.Client`` (distributed ships no complete type information).
Client = Any

#: What a missing ``dask[distributed]`` says (one line, exit 2).
INSTALL_HINT = "needs the optional dependency dask[distributed]: pip install 'chainaudit[dask]'"

#: Task keys start with this, then the run's token (tests and logs find them by it).
KEY_PREFIX = "chainaudit"


# --- keys: how a worker gets the UMK ------------------------------------------------------


@dataclass(frozen=True)
class UmkFile:
    """The UMK as a file readable at ``path`` on every worker: the path travels,
    never the bytes. ``fingerprint`` is the client's UMK's (public), so a
    worker that finds another key at that path refuses to use it."""

    path: str
    fingerprint: str


@dataclass(frozen=True)
class UmkKms:
    """The UMK as a KMS ciphertext blob: each worker decrypts it with its own
    credentials (``kms:Decrypt``, logged by CloudTrail). The blob is not
    secret: only KMS can open it."""

    blob: bytes
    key_id: str
    region: str | None
    profile: str | None
    fingerprint: str

    def __repr__(self) -> str:
        return f"UmkKms(key_id={self.key_id!r}, fingerprint={self.fingerprint!r})"


UmkRef = UmkFile | UmkKms

#: The UMK a worker process opened, per run token (dropped when the run ends).
_WORKER_UMKS: dict[tuple[str, UmkRef], Umk] = {}


def _worker_umk(token: str, ref: UmkRef) -> Umk:
    """The UMK ``ref`` names, opened by this worker (once per run)."""
    umk = _WORKER_UMKS.get((token, ref))
    if umk is not None:
        return umk
    if isinstance(ref, UmkFile):
        try:
            umk = Umk.from_file(ref.path)
        except ChainauditError as exc:
            raise KeySourceError(f"on Dask worker {_host()}: {exc.diagnostics()}") from None
    else:
        import boto3

        from chainaudit.keys.kms import KmsUmkSource
        from chainaudit.sources.awsconfig import config_problem

        try:
            client: Any = boto3.session.Session(profile_name=ref.profile).client(
                "kms", region_name=ref.region
            )
        except Exception as exc:
            problem = config_problem(exc)  # this worker's AWS configuration
            if problem is None:
                raise
            raise KeySourceError(f"on Dask worker {_host()}: KMS: {problem}") from None
        umk = KmsUmkSource(ref.blob, ref.key_id, client).load()
    if umk.fingerprint() != ref.fingerprint:  # ct-ok: UMK fingerprints are public (KEY-1)
        raise KeySourceError(
            f"on Dask worker {_host()}: the UMK at {_umk_name(ref)} has fingerprint "
            f"{umk.fingerprint()}, the client's {ref.fingerprint}: every worker must "
            "open the same UMK"
        )
    _WORKER_UMKS.clear()  # one run's key at a time
    _WORKER_UMKS[(token, ref)] = umk
    return umk


def _forget_umk(token: str) -> None:
    """Run on every worker when a run ends: drop its UMK."""
    for key in [k for k in _WORKER_UMKS if k[0] == token]:
        del _WORKER_UMKS[key]


def _umk_name(ref: UmkRef) -> str:
    return ref.path if isinstance(ref, UmkFile) else f"KMS key {ref.key_id}"


def _host() -> str:
    return f"{socket.gethostname()} (pid {os.getpid()})"


# --- where a worker reads: S3 settings and units ---------------------------------------------


@dataclass(frozen=True)
class S3Spec:
    """What a worker builds its own S3 client from (a client is never sent)."""

    endpoint_url: str | None = None
    region: str | None = None
    profile: str | None = None
    connect: float = StoreTimeouts.connect
    read: float = StoreTimeouts.read

    @classmethod
    def of(cls, s3: Any) -> S3Spec:
        """The settings of a :class:`chainaudit.sources.s3.S3`."""
        return cls(s3.endpoint_url, s3.region, s3.profile, s3.timeouts.connect, s3.timeouts.read)

    def client(self) -> Any:
        from chainaudit.sources.s3 import S3

        return S3(
            endpoint_url=self.endpoint_url,
            region=self.region,
            profile=self.profile,
            timeouts=StoreTimeouts(self.connect, self.read),
        )


@dataclass(frozen=True)
class _Local:
    """A local file read whole (an NDJSON export, a COPY file), at the same
    path on every worker."""

    kind: str  # "ndjson" or "copy"
    path: str
    options: tuple[tuple[str, Any], ...] = ()

    def describe(self) -> str:
        return self.path

    def open(self) -> Source:
        _readable(self.path)
        if self.kind == "ndjson":
            return NdjsonSource(self.path, **dict(self.options))
        from chainaudit.sources.pg_copy import PgCopySource

        return PgCopySource(self.path, **dict(self.options))


@dataclass(frozen=True)
class _S3Object:
    """One NDJSON export in S3, read at the ETag the client saw."""

    url: str
    etag: str | None
    s3: S3Spec
    max_line_bytes: int

    def describe(self) -> str:
        return self.url

    def open(self) -> Source:
        from chainaudit.sources.s3 import S3NdjsonSource, S3Url

        s3 = self.s3.client()
        where = S3Url.parse(self.url)
        if self.etag is not None:
            s3._etags[(where.bucket, where.key)] = self.etag
        return S3NdjsonSource(s3, where, max_line_bytes=self.max_line_bytes)


@dataclass(frozen=True)
class _DdbFile:
    """One listed data file of a DynamoDB Export to S3 (local or in S3)."""

    root: str  # the export's directory, or its s3:// prefix
    s3: S3Spec | None
    entry: DataFile
    missing: bool
    max_line_bytes: int

    def describe(self) -> str:
        return f"{self.root}/{self.entry.relative}"

    def export(self) -> DynamoDBExportSource:
        if self.s3 is None:
            tree: Any = _WorkerTree(self.root)
        else:
            from chainaudit.sources.s3 import S3Tree, S3Url

            tree = S3Tree(self.s3.client(), S3Url.parse(self.root))
        return DynamoDBExportSource(tree, max_line_bytes=self.max_line_bytes)


@dataclass(frozen=True)
class _Span:
    """Bytes ``start`` to ``end`` of an uncompressed NDJSON export (a grouped part)."""

    path: str
    start: int
    end: int
    first_line: int
    max_line_bytes: int

    def describe(self) -> str:
        return f"{self.path}@{self.start}"


Unit = _Local | _S3Object | _DdbFile


def _readable(path: str) -> None:
    """A local file a worker cannot open is coverage it could not verify (exit 3)."""
    try:
        with open(path, "rb"):
            pass
    except OSError as exc:
        raise StoreError(
            f"{path}: cannot be read on Dask worker {_host()}: {exc.strerror or exc}; "
            "it was not verified (every worker must see the source at the path the "
            "client was given)"
        ) from None


class _WorkerTree(LocalTree):
    """A local export directory on a worker: a listed file it cannot open is exit 3."""

    def open(self, relative: str) -> Any:
        _readable(self.name(relative))
        return super().open(relative)

    def lines(self, relative: str, max_line_bytes: int) -> Iterator[tuple[int, bytes]]:
        _readable(self.name(relative))
        return super().lines(relative, max_line_bytes)


# --- what crosses the wire ---------------------------------------------------------------------


@dataclass(frozen=True)
class _Context:
    """What every task needs: the options without keys, the run's setup, the
    UMK's reference (never the key), the number of buckets."""

    token: str
    options: AuditOptions
    setup: _Setup
    umk: UmkRef | None
    keyed: bool
    buckets: int


@dataclass
class _Shipped:
    """A nonce ledger part's files, carried from a worker to the client."""

    partitions: int
    stored: int
    files: dict[str, bytes] = field(default_factory=dict)


def _ship(part: LedgerPart) -> _Shipped:
    out = _Shipped(part.partitions, part.stored)
    if part.directory is not None:
        for name in sorted(os.listdir(part.directory)):
            out.files[name] = Path(part.directory, name).read_bytes()
        part.remove()
    return out


def _land(shipped: _Shipped, tmp_dir: str | None = None) -> LedgerPart:
    if not shipped.files:
        return LedgerPart(None, shipped.partitions, 0)
    directory = tempfile.mkdtemp(prefix="chainaudit-nonces-", dir=tmp_dir)
    for name, data in shipped.files.items():
        Path(directory, name).write_bytes(data)
    return LedgerPart(directory, shipped.partitions, shipped.stored)


def _pack(exc: ChainauditError) -> tuple[str, tuple[str, ...]]:
    """A deliberate error as plain data (InputError does not unpickle by itself)."""
    if isinstance(exc, InputError):
        return "InputError", (exc.where, exc.message)
    return type(exc).__name__, (str(exc),)


def _unpack(packed: tuple[str, tuple[str, ...]]) -> ChainauditError:
    name, args = packed
    cls = getattr(errors, name, None)
    if not (isinstance(cls, type) and issubclass(cls, ChainauditError)):
        cls = StoreError
    return cls(*args)


@dataclass
class _Bucketed:
    """One unit's share of one bucket: chain events with their arrival number,
    commitment rows, dialogue ids."""

    events: list[tuple[int, AuditEvent]] = field(default_factory=list)
    recs: list[tuple[Any, ...]] = field(default_factory=list)
    evs: list[tuple[Any, ...]] = field(default_factory=list)
    dialogues: set[str] = field(default_factory=set)


@dataclass
class _UnitOut:
    """What a spooled unit's task found: its part of the stream and the
    counters (``summary``), and the pieces the other tasks take from it."""

    error: tuple[str, tuple[str, ...]] | None = None
    stream: SpillList[Finding] = field(default_factory=SpillList)
    kinds: Counter[str] = field(default_factory=Counter)
    history: KeyHistory = field(default_factory=KeyHistory)
    envelopes: Result = field(default_factory=Result)
    ledger: _Shipped | None = None
    items: int = 0
    timeline: MutableMapping[str, list[tuple[int, str, str]]] = field(default_factory=dict)
    #: keyed: the wrapped-DEK records in order, and the dialogues whose
    #: envelopes wait for keys (the second task's ring needs their records)
    deks: list[WrappedDek] = field(default_factory=list)
    needs: set[str] = field(default_factory=set)
    held: list[EntityRecord] = field(default_factory=list)
    buckets: list[_Bucketed] = field(default_factory=list)

    def summary(self) -> _UnitOut:
        return dataclasses.replace(self, held=[], buckets=[])


class _Buckets:
    """Takes the place of the run's event spool: events kept by bucket, in arrival order."""

    def __init__(self, buckets: list[_Bucketed]) -> None:
        self.buckets = buckets
        self.n = 0

    def add(self, event: AuditEvent) -> None:
        self.buckets[partition(event.chain_id, len(self.buckets))].events.append((self.n, event))
        self.n += 1

    def close(self) -> None:
        pass


class _Held(list[EntityRecord]):
    """Takes the place of the run's envelope spill: the records wait in memory
    (Dask spills a task's result to disk under memory pressure)."""

    def add(self, record: EntityRecord) -> None:
        self.append(record)

    def close(self) -> None:
        pass


class _Deks(list[WrappedDek]):
    """Takes the place of the run's key ring while a unit is read: the
    wrapped-DEK records, in order (they are unwrapped by the second task)."""

    def add(self, record: WrappedDek) -> None:
        self.append(record)


class _Named:
    """A unit as the source a run reports about."""

    def __init__(self, name: str, items: Callable[[], Iterator[SourceItem]]) -> None:
        self._name, self._items = name, items

    def describe(self) -> str:
        return self._name

    def read(self) -> Iterator[SourceItem]:
        return self._items()


# --- worker tasks -------------------------------------------------------------------------------


def _unit_task(ctx: _Context, unit: Unit) -> _UnitOut:
    """Read one unit of a spooled run (see the module docstring)."""
    counted = [0]
    if isinstance(unit, _DdbFile):
        export = unit.export()

        def items() -> Iterator[SourceItem]:
            counted[0] = yield from export.read_file(unit.entry, unit.missing)

        source: Any = _Named(unit.describe(), items)
    out = _UnitOut(buckets=[_Bucketed() for _ in range(ctx.buckets)])
    try:
        if not isinstance(unit, _DdbFile):
            source = unit.open()
        run = _Run(source, ctx.options, Evidence(), False, setup=ctx.setup, worker=True)
        try:
            run.commits.close()
            # Rows kept in memory by bucket instead of the run's spool file.
            run.commits = CommitmentVerifier(
                ctx.options.trust, ctx.setup.expectations, grouped=True, lazy=False
            )
            run.spool = _Buckets(out.buckets)  # type: ignore[assignment]
            if ctx.keyed:
                run.ring = _Deks()  # type: ignore[assignment]
                run.opens_now = False
                run.spill = _Held()  # type: ignore[assignment]
            items_read = source.read()
            try:
                for item in items_read:
                    run._item(item)
            finally:
                close = getattr(items_read, "close", None)
                if close is not None:
                    close()
            out.stream, out.kinds, out.history = run.stream, run.kinds, run.history
            out.envelopes = run.envelopes.records_result()
            out.ledger = _ship(run.ledger.export())
            out.timeline = run.ev.timeline
            out.items = counted[0]
            for dialogue in run.dialogues:
                out.buckets[_bucket_of_dialogue(dialogue, ctx.buckets)].dialogues.add(dialogue)
            commits = run.commits
            for row in commits._group_recs:
                out.buckets[partition(row[0], ctx.buckets)].recs.append(materialized(row))
            for row in commits._group_evs:
                out.buckets[partition(row[0], ctx.buckets)].evs.append(row)
            commits._group_recs, commits._group_evs = [], []
            if ctx.keyed:
                out.deks = list(run.ring)  # type: ignore[call-overload]
                out.held = list(run.spill)  # type: ignore[call-overload]
                out.needs = {record.address.dialogue for record in out.held}
        finally:
            run.close()
    except ChainauditError as exc:
        return _UnitOut(error=_pack(exc))
    return out


def _bucket_of_dialogue(dialogue: str, buckets: int) -> int:
    from chainaudit.chain.events import lifecycle_chain_id

    return partition(lifecycle_chain_id(dialogue), buckets)


def _summary(out: _UnitOut) -> _UnitOut:
    return out.summary()


def _piece(out: _UnitOut, bucket: int) -> _Bucketed:
    return out.buckets[bucket] if out.buckets else _Bucketed()


@dataclass
class _BucketOut:
    chains: Partial
    chain_count: int
    commits: Judged
    dialogues: int


def _bucket_task(ctx: _Context, bucket: int, pieces: list[_Bucketed]) -> _BucketOut:
    """Verify the chains and judge the commitments of one bucket, gathered from
    every unit (the shuffle): each chain whole, in the order the serial
    run's spool gives (chain id, order key, arrival)."""
    events: list[tuple[Any, ...]] = []
    recs: list[tuple[Any, ...]] = []
    evs: list[tuple[Any, ...]] = []
    dialogues: set[str] = set()
    for unit, piece in enumerate(pieces):
        for n, event in piece.events:
            if is_lifecycle(event.chain_id):
                k1, k2 = lifecycle_order_key(event)
            else:
                k1, k2 = 0, str(event.fields.get("event_id"))
            events.append((_utf8(event.chain_id), k1, _utf8(k2), unit, n, event))
        # Commitment rows: arrival numbers become (unit, n), which order as the
        # one run's numbers do.
        recs.extend((*row[:2], (unit, row[2]), *row[3:]) for row in piece.recs)
        evs.extend((*row[:3], (unit, row[3]), *row[4:]) for row in piece.evs)
        dialogues |= piece.dialogues
    events.sort(key=lambda e: e[:5])
    verifier = ChainVerifier(ctx.setup.policy, (bucket, ctx.buckets))
    chains: set[str] = set()
    for *_, event in events:
        verifier.feed(event)
        chains.add(event.chain_id)
    by_chain: dict[str, tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]] = {}
    for row in recs:
        by_chain.setdefault(row[0], ([], []))[0].append(row)
    for row in evs:
        by_chain.setdefault(row[0], ([], []))[1].append(row)
    commits = CommitmentVerifier(ctx.options.trust, ctx.setup.expectations, grouped=True)
    try:
        for chain_recs, chain_evs in by_chain.values():  # one dialogue at a time
            commits._group_recs, commits._group_evs = chain_recs, chain_evs
            commits.end_group()
        judged = commits.take_judged()
    finally:
        commits.close()
    return _BucketOut(verifier.finish_partial(), len(chains), judged, len(dialogues))


def _utf8(text: str) -> bytes:
    return text.encode("utf-8", "surrogatepass")


@dataclass
class _KeyedOut:
    error: tuple[str, tuple[str, ...]] | None = None
    envelopes: Result = field(default_factory=Result)
    ledger: _Shipped | None = None
    found: int = 0
    failed: list[tuple[str, str]] = field(default_factory=list)


def _keyed_task(
    ctx: _Context, out: _UnitOut, deks: list[WrappedDek], owned: list[str]
) -> _KeyedOut:
    """Open one unit's envelopes: the worker opens the UMK itself and unwraps
    the DEKs of the dialogues the unit needs from their wrapped records;
    the keys it is first to name are resolved here, once for the dataset."""
    assert ctx.umk is not None
    try:
        ring = KeyRing(_worker_umk(ctx.token, ctx.umk), deks)
        first = {f"dek#{r.dialogue}#{r.version}": r for r in reversed(deks)}
        found, failed = _resolve_keys(ring, [first[location] for location in owned])
        ledger = NonceLedger(keep_all=True)
        envelopes = EnvelopeVerifier(ring, ledger=ledger)
        try:
            for record in out.held:
                envelopes.add(record)
            result = envelopes.records_result()
            shipped = _ship(ledger.export())
        finally:
            envelopes.close()
    except ChainauditError as exc:
        return _KeyedOut(error=_pack(exc))
    return _KeyedOut(None, result, shipped, found, failed)


@dataclass
class _SpanOut:
    kind: str
    value: Any = None


def _span_task(ctx: _Context, span: _Span | _Local | _S3Object) -> _SpanOut:
    """A grouped read of one span of an export (or of a whole export), as
    ``--workers`` runs it in a process of its own."""
    state, stop = ReadState(), Stop()
    try:
        options = ctx.options
        if ctx.umk is not None:
            options = dataclasses.replace(options, umk=_worker_umk(ctx.token, ctx.umk))
        if isinstance(span, _Span):
            _readable(span.path)
            export = NdjsonSource(span.path, max_line_bytes=span.max_line_bytes)
            args = (span.start, span.end, span.first_line, state, stop)
            source: Any = _Named(export.describe(), lambda: iter(export.read_span(*args)))
        else:
            source = span.open()
        run = _Run(source, options, Evidence(), True, setup=ctx.setup, worker=True)
        try:
            run._read(None)
            part = run.part()
        finally:
            run.close()
    except _Ungrouped:
        return _SpanOut("ungrouped")
    except InputError as exc:
        return _SpanOut("input-error", (exc.where, exc.message))
    except ChainauditError as exc:
        return _SpanOut("error", _pack(exc))
    assert isinstance(part.ledger, LedgerPart)
    part.ledger = _ship(part.ledger)  # type: ignore[assignment]
    return _SpanOut("ok", (part, state, stop))


# --- the client ----------------------------------------------------------------------------


def _distributed() -> Any:
    """The ``distributed`` module, or the one-line error of a missing extra (exit 2)."""
    try:
        return importlib.import_module("distributed")
    except ImportError:
        raise InputError("--dask", INSTALL_HINT) from None


def connect(address: str) -> tuple[Client, Callable[[], None]]:
    """A Dask client for ``--dask ADDRESS``: ``tcp://host:port`` (a running
    scheduler) or ``local:N`` (a LocalCluster of N worker processes, one
    thread each); and what closes it."""
    dist = _distributed()
    if not os.environ.get("CHAINAUDIT_DEBUG"):
        logging.getLogger("distributed").setLevel(logging.CRITICAL)
        warnings.filterwarnings("ignore", module="distributed")
    if address.startswith("local:"):
        try:
            n = int(address[len("local:") :])
        except ValueError:
            n = 0
        if not 1 <= n <= 256:
            raise InputError("--dask", f"{address!r}: local:N takes N from 1 to 256 workers")
        cluster = dist.LocalCluster(
            n_workers=n,
            threads_per_worker=1,
            processes=True,
            # Its HTTP routes on a free port (never 8787 taken), on loopback
            # only: ":0" would listen on every interface.
            dashboard_address="127.0.0.1:0",
            # CLI-4: stderr carries progress and one-line errors, not Dask's logs
            # (a restarted worker is Dask's business; CHAINAUDIT_DEBUG=1 shows them).
            silence_logs=logging.DEBUG if os.environ.get("CHAINAUDIT_DEBUG") else logging.CRITICAL,
        )
        client = dist.Client(cluster)

        def close_local() -> None:
            client.close()
            cluster.close()

        return client, close_local
    if "://" not in address:
        raise InputError("--dask", f"{address!r}: expected tcp://HOST:PORT or local:N")
    try:
        client = dist.Client(address, timeout="30s")
    except OSError as exc:
        raise StoreError(f"{address}: cannot reach the Dask scheduler: {exc}") from None
    return client, client.close


def audit_dask(
    source: Source,
    options: AuditOptions,
    client: Client,
    *,
    umk: UmkRef | None = None,
    evidence: Evidence | None = None,
    progress: Callable[[int], None] | None = None,
    buckets: int | None = None,
) -> Result:
    """:func:`chainaudit.audit.audit` on the Dask cluster of ``client``: the
    same result. ``umk`` names where each worker opens the UMK
    (``options.umk`` is the client's copy: its fingerprint names the run's
    key, and it never leaves this process); ``buckets`` is the number of
    chain partitions of a spooled run (default: the cluster's workers)."""
    ev = evidence if evidence is not None else Evidence()
    if options.deks is not None:
        raise KeySourceError(
            "a run with data keys (AuditOptions.deks) cannot use Dask: DEKs are secrets and "
            "would travel in the task graph; give the UMK as a file or KMS blob each worker opens"
        )
    if (options.umk is None) != (umk is None):
        raise KeySourceError(
            "with Dask, the UMK is given twice: the client's (options.umk) and where each "
            "worker opens it (umk=UmkFile(...) or UmkKms(...))"
        )
    if options.umk is not None and umk is not None and options.umk.fingerprint() != umk.fingerprint:  # ct-ok: public fingerprints (KEY-1)
        raise KeySourceError("the UMK the workers are told to open is not the client's")
    workers = max(1, len(client.scheduler_info().get("workers", {})))
    token = uuid.uuid4().hex[:12]
    ctx = _Context(
        token,
        dataclasses.replace(options, umk=None, deks=None, workers=1),
        _setup(source, options, copy.deepcopy(ev)),
        umk,
        options.umk is not None,
        buckets or workers,
    )
    run = _Client(client, ctx, progress)
    try:
        if getattr(source, "grouped", False):
            trial = copy.deepcopy(ev)
            try:
                result = run.grouped(source, options, trial, 2 * workers)
            except _Ungrouped:
                pass  # read again, spooled; the trial's evidence is dropped
            else:
                for f in dataclasses.fields(ev):
                    setattr(ev, f.name, getattr(trial, f.name))
                return result
        return run.spooled(source, options, ev)
    finally:
        if umk is not None:
            with contextlib.suppress(Exception):  # a cluster that is gone has forgotten it
                client.run(_forget_umk, token)


class _Client:
    """One run's tasks, submitted through ``client``."""

    def __init__(
        self, client: Client, ctx: _Context, progress: Callable[[int], None] | None
    ) -> None:
        self.client = client
        self.ctx = ctx
        self.progress = progress
        self.done = 0

    def key(self, *parts: object) -> str:
        return "-".join([KEY_PREFIX, *(str(p) for p in parts), self.ctx.token])

    def submit(self, fn: Callable[..., Any], *args: Any, key: str) -> Any:
        return self.client.submit(fn, *args, key=key, pure=False)

    # -- grouped -------------------------------------------------------------------------

    def grouped(self, source: Source, options: AuditOptions, ev: Evidence, n: int) -> Result:
        setup = _setup(source, options, ev)
        unit = _grouped_unit(source)
        spans = None
        if isinstance(source, NdjsonSource) and isinstance(unit, _Local):
            spans = source.spans(n)
        if not spans or len(spans) < 2:
            (out,) = self.client.gather(
                [self.submit(_span_task, self.ctx, unit, key=self.key("export"))]
            )
            part = self._span_part(out)
            return _merge(source, options, ev, setup, [part[0]], [])
        assert isinstance(source, NdjsonSource)
        units = [
            _Span(str(source.path), start, end, first, source.max_line_bytes)
            for start, end, first in spans
        ]
        futures = [
            self.submit(_span_task, self.ctx, u, key=self.key("span", i))
            for i, u in enumerate(units)
        ]
        digest = _DigestThread(source)
        try:
            outs: list[_SpanOut] = self.client.gather(futures)
        finally:
            digest.join()
        outcomes: list[tuple[str, Any]] = []
        try:
            for out in outs:
                if out.kind == "error":
                    raise _unpack(out.value)
                outcomes.append((out.kind, self._span_part(out) if out.kind == "ok" else out.value))
        except BaseException:
            for kind, value in outcomes:
                if kind == "ok":
                    value[0].ledger.remove()
            raise
        return _merge_spans(source, options, ev, setup, spans, outcomes, digest)

    def _span_part(self, out: _SpanOut) -> tuple[_Part, Any, Any]:
        if out.kind == "ungrouped":
            raise _Ungrouped("a part broke the grouping")
        if out.kind == "input-error":
            raise InputError(*out.value)
        if out.kind == "error":
            raise _unpack(out.value)
        part, state, stop = out.value
        part.ledger = _land(part.ledger)
        self.done += sum(part.kinds.values())
        if self.progress is not None:
            self.progress(self.done)
        return part, state, stop

    # -- spooled -------------------------------------------------------------------------

    def spooled(self, source: Source, options: AuditOptions, ev: Evidence) -> Result:
        setup = _setup(source, options, ev)
        ctx = self.ctx
        plan = _plan(source)
        units = [(i, step) for i, step in enumerate(plan) if isinstance(step, Unit)]
        outs = {i: self.submit(_unit_task, ctx, unit, key=self.key("unit", i)) for i, unit in units}
        summaries_f = [self.submit(_summary, outs[i], key=self.key("summary", i)) for i, _ in units]
        bucket_f = [
            self.submit(
                _bucket_task,
                ctx,
                b,
                [self.submit(_piece, outs[i], b, key=self.key("piece", i, b)) for i, _ in units],
                key=self.key("bucket", b),
            )
            for b in range(ctx.buckets)
        ]
        summaries: dict[int, _UnitOut] = {}
        as_completed = _distributed().as_completed
        index_of = {f.key: i for f, (i, _) in zip(summaries_f, units, strict=True)}
        for future, summary in as_completed(summaries_f, with_results=True):
            index = index_of[future.key]
            summaries[index] = summary
            self.done += sum(summary.kinds.values())
            if self.progress is not None:
                self.progress(self.done)
        # The first error in the order of the read is the run's, as it is serially.
        for i, step in enumerate(plan):
            if isinstance(step, _Failed):
                raise step.error
            if i in summaries and summaries[i].error is not None:
                raise _unpack(summaries[i].error)  # type: ignore[arg-type]
        keyed: dict[int, _KeyedOut] = {}
        if ctx.keyed:
            keyed = self._keyed(units, outs, summaries)
        buckets: list[_BucketOut] = self.client.gather(bucket_f)
        del outs
        parts: list[_Part] = []
        timeline: SpillMap[str, list[tuple[int, str, str]]] = SpillMap(TUPLES)
        from chainaudit.report.assurance import TIMELINE_CAP

        totals: dict[int, int] = {}
        for i, step in enumerate(plan):
            if isinstance(step, _Total):
                total = sum(summaries[j].items for j in step.files)
                stream = SpillList(step.export.total_findings(step.summary, total))
                parts.append(_empty_part(stream=stream))
                totals[i] = total
                continue
            assert not isinstance(step, _Failed)
            out = summaries[i]
            for chain_id, entries in out.timeline.items():
                kept = timeline.get(chain_id, [])
                timeline[chain_id] = kept + entries[: TIMELINE_CAP - len(kept)]
            part = _empty_part(stream=out.stream)
            part.kinds, part.history = out.kinds, out.history
            if ctx.keyed:
                k = keyed[i]
                part.envelopes, part.found, part.failed = k.envelopes, k.found, k.failed
                assert k.ledger is not None
                part.ledger = _land(k.ledger)
            else:
                part.envelopes = out.envelopes
                assert out.ledger is not None
                part.ledger = _land(out.ledger)
            parts.append(part)
        for b in buckets:
            part = _empty_part()
            part.chains, part.chain_count = b.chains, b.chain_count
            part.commits, part.dialogues = b.commits, b.dialogues
            parts.append(part)
        parts[-1].timeline = timeline
        return _merge(source, options, ev, setup, parts, [])

    def _keyed(
        self, units: list[tuple[int, Unit]], outs: dict[int, Any], summaries: dict[int, _UnitOut]
    ) -> dict[int, _KeyedOut]:
        """The second task of each unit: its envelopes, opened by a worker that
        unwraps the DEKs of the dialogues it needs (wrapped records travel,
        never a key). Each key id is resolved once, by the unit where its
        record comes first, so KEY_UNWRAP_FAILED findings keep the read's order."""
        by_dialogue: dict[str, list[WrappedDek]] = {}
        first: dict[str, WrappedDek] = {}
        owned: dict[int, list[str]] = {i: [] for i, _ in units}
        for i, _ in units:
            for record in summaries[i].deks:
                by_dialogue.setdefault(record.dialogue, []).append(record)
                location = f"dek#{record.dialogue}#{record.version}"
                if location not in first:
                    first[location] = record
                    owned[i].append(location)
        futures = {}
        for i, _ in units:
            needs = set(summaries[i].needs)
            needs.update(first[location].dialogue for location in owned[i])
            deks = [r for d in sorted(needs) for r in by_dialogue.get(d, [])]
            futures[i] = self.submit(
                _keyed_task, self.ctx, outs[i], deks, owned[i], key=self.key("keys", i)
            )
        gathered: list[_KeyedOut] = self.client.gather([futures[i] for i, _ in units])
        result = dict(zip([i for i, _ in units], gathered, strict=True))
        for i, _ in units:
            error = result[i].error
            if error is not None:
                raise _unpack(error)
        return result


def _empty_part(stream: SpillList[Finding] | None = None) -> _Part:
    return _Part(
        stream if stream is not None else SpillList(),
        Counter(),
        0,
        KeyHistory(),
        0,
        [],
        Result(),
        LedgerPart(None, NonceLimits().partitions, 0),
        Partial(),
        0,
        Judged(),
        {},
    )


# --- planning: the units of a source, in the order the serial run reads them ---------------


@dataclass(frozen=True)
class _Total:
    """A DynamoDB export's summary count check, after its last file."""

    export: DynamoDBExportSource
    summary: dict[str, Any]
    files: tuple[int, ...]


@dataclass(frozen=True)
class _Failed:
    """An error the serial run would meet here (opening a manifest): raised
    unless a unit before it fails first."""

    error: ChainauditError


Step = _Local | _S3Object | _DdbFile | _Total | _Failed


def _grouped_unit(source: Source) -> _Local | _S3Object:
    from chainaudit.sources.s3 import S3NdjsonSource

    if isinstance(source, S3NdjsonSource):
        return _s3_object(source)
    if isinstance(source, StdinSource):
        raise InputError("-", "standard input cannot be read by Dask workers: save it to a file")
    if isinstance(source, NdjsonSource):
        return _Local("ndjson", str(source.path), (("max_line_bytes", source.max_line_bytes),))
    raise _refused(source)


def _s3_object(source: Any) -> _S3Object:
    """One NDJSON object in S3, at the ETag the client's HeadObject saw."""
    s3, url = source.s3, source.url
    return _S3Object(
        str(url), s3._etags.get((url.bucket, url.key)), S3Spec.of(s3), source.max_line_bytes
    )


def _plan(source: Source) -> list[Step]:
    steps: list[Step] = []
    sources = source.sources if isinstance(source, MultiSource) else [source]
    for one in sources:
        try:
            steps.extend(_plan_one(one, len(steps)))
        except ChainauditError as exc:
            steps.append(_Failed(exc))
            break
    return steps


def _plan_one(source: Source, at: int) -> list[Step]:
    from chainaudit.sources.open import PgCopyDirSource
    from chainaudit.sources.pg_copy import PgCopySource
    from chainaudit.sources.s3 import S3NdjsonSource, S3Tree

    if isinstance(source, DynamoDBExportSource):
        summary = source.summary()
        files = source.data_files(summary)
        tree = source.tree
        if isinstance(tree, S3Tree):
            root, spec = tree.root, S3Spec.of(tree.s3)
            missing = [False] * len(files)
        elif isinstance(tree, LocalTree):
            root, spec = str(tree.directory), None
            missing = [tree.missing(entry.relative) for entry in files]
        else:
            raise _refused(source)
        units: list[Step] = [
            _DdbFile(root, spec, entry, gone, source.max_line_bytes)
            for entry, gone in zip(files, missing, strict=True)
        ]
        return [*units, _Total(source, summary, tuple(range(at, at + len(units))))]
    if isinstance(source, S3NdjsonSource):
        return [_s3_object(source)]
    if isinstance(source, StdinSource):
        raise InputError("-", "standard input cannot be read by Dask workers: save it to a file")
    if isinstance(source, NdjsonSource):
        return [_Local("ndjson", str(source.path), (("max_line_bytes", source.max_line_bytes),))]
    if isinstance(source, PgCopySource):
        return [_copy(source)]
    if isinstance(source, PgCopyDirSource):
        return [_copy(s) for s in source.sources]
    raise _refused(source)


def plannable(source: Source) -> bool:
    """Whether :func:`audit_dask` reads all of ``source`` with its workers
    (exports: local paths, or objects in S3), so that nothing in it is
    refused: a store, standard input. Plans it as the run would."""
    return not any(isinstance(step, _Failed) for step in _plan(source))


def _copy(source: Any) -> _Local:
    options = (
        ("table", source.table),
        ("escaping", source.escaping),
        ("max_line_bytes", source.max_line_bytes),
    )
    return _Local("copy", str(source.path), options)


def _refused(source: Source) -> InputError:
    return InputError(
        source.describe(),
        "--dask verifies exports (a local path every worker can read, or s3://); "
        "a live store is read by one process: leave out --dask",
    )


# --- the command line (verify --dask) ------------------------------------------------------


def umk_ref(
    umk: Umk | None,
    umk_file: str | None,
    kms_blob: str | None,
    kms_key_id: str | None,
    region: str | None,
    profile: str | None,
) -> UmkRef | None:
    """Where the workers open the UMK the client loaded from these options:
    the file's absolute path, or the KMS blob (read here; it is not secret)."""
    if umk is None:
        return None
    if umk_file:
        return UmkFile(os.path.abspath(umk_file), umk.fingerprint())
    assert kms_blob and kms_key_id
    from chainaudit.keys.kms import KmsUmkSource

    blob = KmsUmkSource.from_blob_file(kms_blob, kms_key_id, None).ciphertext_blob
    return UmkKms(blob, kms_key_id, region, profile, umk.fingerprint())


def runner(address: str, umk: UmkRef | None) -> Callable[..., Result]:
    """What ``verify --dask ADDRESS`` verifies with (chainaudit.cli.common.run_audit):
    connects (or starts the LocalCluster), runs :func:`audit_dask`, closes."""
    dist = _distributed()  # a missing extra is exit 2 before anything is read
    del dist

    def run(
        source: Source,
        options: AuditOptions,
        progress: Callable[[int], None] | None,
        evidence: Evidence | None,
    ) -> Result:
        client, close = connect(address)
        try:
            return audit_dask(
                source, options, client, umk=umk, evidence=evidence, progress=progress
            )
        finally:
            close()

    return run
