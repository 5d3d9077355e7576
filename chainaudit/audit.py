"""The full verification of one source: envelopes, keys, chains, key history, commitments.

This is what ``chainaudit verify`` runs. It wires the pure verifiers to a
:class:`~chainaudit.sources.Source` and returns one
:class:`~chainaudit.findings.Result` whose ``checked`` counters say what was
covered. No verifier here reads the clock or prints.

**One read of the source, keys or not** (docs/cli.md CLI-5). Every item is
taken once: its source findings kept, wrapped-DEK records checked and fed to
the key ring, the key-history and commitment checks fed, envelopes checked,
chain events verified. Envelopes need their dialogue's wrapped DEKs, and a
lifecycle chain its events in chain order, so each item waits where it must,
in one of two ways:

* **grouped**, for a source whose ``grouped`` attribute is true (an NDJSON
  export, sorted by key; the live stores, read partition by partition): it
  promises that each dialogue's records (entities and wrapped DEKs) arrive
  together and each crypto-audit chain's events in sort-key order. A
  dialogue is held in memory until the next one starts (a sorted export
  stores ``claim#...`` before ``dek#...``): then its keys are unwrapped, its
  envelopes opened, its lifecycle events put in chain order and verified,
  its commitments judged, and all of it released. Memory: one dialogue
  (at most :data:`MAX_GROUP` items), plus the few facts kept per chain and
  key (tips, lengths, counters).
* **spooled**, for any other source: envelopes that need keys are spilled
  to a temporary file until the last wrapped DEK is known, chain events go
  to the on-disk spool (:mod:`chainaudit.chain.spool`) and commitments to theirs;
  all are checked at the end of the read. Memory stays bounded; disk use is
  linear in the source.

A grouped source that breaks its promise (a dialogue or an audit chain
reappears after another began, an audit chain's sort keys go backwards, an
audit-log partition names a lifecycle chain, a dialogue holds more than
:data:`MAX_GROUP` items) is read a second time, spooled: the result is then
exactly what a spooled read gives, and :func:`audit` returns only that.
Both ways give the same result on the same data (tests/test_one_pass.py).

The keys' verdict is global: a UMK that unwraps none of the keys is
reported once (UMK_MISMATCH) and envelopes count as checked without keys.
A grouped read learns that only at the end, so it drops then the per-record
key findings (the only difference keys make when no key unwrapped).
"""

from __future__ import annotations

import copy
import dataclasses
import pickle
import tempfile
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, MutableMapping
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import IO, Any, TypeVar

from chainaudit.chain.checkpoint import ChainExpectation, verify_checkpoint
from chainaudit.chain.events import chain_event_from_entity, is_lifecycle, lifecycle_order_key
from chainaudit.chain.spool import EventSpool, read_spool
from chainaudit.chain.verify import ChainPolicy, ChainVerifier, Partial, resolve, verify_events
from chainaudit.commitments.verify import CommitmentVerifier, Judged, merge_judged
from chainaudit.envelope.nonces import LedgerPart, NonceLedger, merged_findings
from chainaudit.envelope.verify import EnvelopeVerifier
from chainaudit.errors import ChainauditError, local_faults
from chainaudit.findings import Finding, Result, codes
from chainaudit.findings.result import FindingList
from chainaudit.keys.dekmap import DekMap
from chainaudit.keys.hierarchy import check_dek_record
from chainaudit.keys.history import KeyHistory
from chainaudit.keys.keyring import KeyRing
from chainaudit.keys.resolver import DekStatus
from chainaudit.keys.signing import TrustStore
from chainaudit.keys.umk import Umk
from chainaudit.records.address import EntityType
from chainaudit.records.model import AuditEvent, EntityRecord, WrappedDek
from chainaudit.report.assurance import Anchor, Evidence
from chainaudit.sources import Source, SourceItem
from chainaudit.sources.jsonlines import parse_json_line
from chainaudit.spilllist import SpillList
from chainaudit.spillmap import NONE, SpillMap

_T = TypeVar("_T")

Progress = Callable[[int], None]


def _announce(progress: Progress | None, phase: str) -> None:
    """Tell a progress display that a phase after the read began (it may not care)."""
    start = getattr(progress, "start_phase", None)
    if start is not None:
        start(phase)

#: The most items of one dialogue a grouped read holds in memory; a larger
#: dialogue makes the run read the source again, spooled.
MAX_GROUP = 200_000

#: Per-record findings that only a key lookup produces (KEY-5): with a UMK
#: that unwraps no key at all, they are all the keys added to the keyless checks.
_LOOKUP_CODES = frozenset(
    {codes.KEY_SHREDDED.name, codes.KEY_MISSING.name, codes.KEY_UNWRAP_FAILED.name}
)


@dataclass
class AuditOptions:
    """What the user supplied: keys, pinned signers, checkpoints, parallelism."""

    umk: Umk | None = None
    #: Data keys the caller holds, instead of a UMK (docs/api.md API-5): the
    #: run is keyed, with the map as its key ring. Ignored when ``umk`` is given.
    deks: DekMap | None = None
    trust: TrustStore = field(default_factory=TrustStore)
    checkpoints: list[tuple[str, dict[str, object]]] = field(default_factory=list)
    expectations: list[ChainExpectation] = field(default_factory=list)
    workers: int = 1
    key_history: bool = True


def audit(
    source: Source,
    options: AuditOptions,
    progress: Progress | None = None,
    evidence: Evidence | None = None,
) -> Result:
    """Verify everything in ``source``, reading it once; see the module docstring.

    ``evidence``, when given, is filled with what the assurance statement
    (REP-7) needs beyond the result: whether envelopes were opened with
    keys, the anchors that verified, every chain's length, what the source
    offers against removal.

    ``result.checked`` says what was covered: ``records`` (every item read),
    ``entities``, ``deks``, ``audit_events``, ``unreadable``, ``dialogues``,
    ``chains``, ``keys``, and the verifiers' own counters (``envelopes``,
    ``decrypted``, ``chain_events``, the commitments').

    With ``options.workers`` above 1, a source that can be cut into parts at
    partition boundaries (an uncompressed NDJSON export, or a store that
    splits itself: DynamoDB Scan segments, PostgreSQL key ranges of one
    snapshot) is read by that many worker processes, each verifying its
    part as a grouped read does; the parts are merged into exactly the
    one-process result. A DynamoDB Export to S3 cannot be cut that way (any
    data file holds any dialogue): ``chainaudit verify --workers N`` reads it
    with :func:`chainaudit.distributed.audit_dask` on a local Dask cluster;
    here, ``workers`` splits only its chain verification.
    """
    ev = evidence if evidence is not None else Evidence()
    if getattr(source, "grouped", False):
        trial = copy.deepcopy(ev)
        try:
            result = None
            if options.workers > 1:
                result = _parallel(source, options, trial)
            if result is None:
                result = _Run(source, options, trial, grouped=True).run(progress)
        except _Ungrouped:
            pass  # read it again, spooled; the trial's evidence is dropped
        else:
            for f in dataclasses.fields(ev):
                setattr(ev, f.name, getattr(trial, f.name))
            return result
    return _Run(source, options, ev, grouped=False).run(progress)


class _Ungrouped(Exception):
    """A grouped source broke its promise: the run must be spooled instead."""


def _group_of(item: WrappedDek | AuditEvent | EntityRecord) -> str:
    """The partition an item lives in: its ``pk``."""
    if isinstance(item, EntityRecord):
        return "dialogue#" + item.address.dialogue
    if isinstance(item, WrappedDek):
        return "dialogue#" + item.dialogue
    return "audit#" + item.chain_id


@dataclass
class _Setup:
    """What a run knows before it reads: checkpoint findings (the first of the
    result), every expectation (given and from verified checkpoints)."""

    head: list[Finding]
    expectations: list[ChainExpectation]
    policy: ChainPolicy


def _setup(source: Source, options: AuditOptions, ev: Evidence) -> _Setup:
    head: list[Finding] = []
    expectations = list(options.expectations)
    ev.umk_fingerprint = options.umk.fingerprint() if options.umk is not None else None
    ev.integrity_basis = getattr(source, "integrity_basis", ev.integrity_basis)
    for x in options.expectations:
        ev.anchors.append(Anchor(x.chain_id, x.count, x.kind, x.origin))
    for origin, doc in options.checkpoints:
        got = verify_checkpoint(doc, options.trust, origin)
        if isinstance(got, Finding):
            head.append(got)
        else:
            expectations.append(got)
            signer = doc.get("signer_key_id")
            ev.anchors.append(
                Anchor(
                    got.chain_id,
                    got.count,
                    got.kind,
                    origin,
                    signer if isinstance(signer, str) else "",
                )
            )
    policy = ChainPolicy(trust=options.trust, expectations=tuple(expectations))
    return _Setup(head, expectations, policy)


@dataclass
class _Part:
    """What a grouped read of (part of) a source found, before the verdicts
    that need all of it: :func:`_merge` makes the result of one or several."""

    stream: SpillList[Finding]
    kinds: Counter[str]
    dialogues: int
    history: KeyHistory
    found: int
    failed: list[tuple[str, str]]
    envelopes: Result
    ledger: NonceLedger | LedgerPart
    chains: Partial
    chain_count: int
    commits: Judged
    timeline: MutableMapping[str, list[tuple[int, str, str]]]


class _Run:
    """One read of a source (see the module docstring); :meth:`run` once.

    ``worker=True``: a grouped read of one part of a source, by a worker of a
    parallel run; :meth:`part` then gives what it found for the merge.
    """

    def __init__(
        self,
        source: Source,
        options: AuditOptions,
        ev: Evidence,
        grouped: bool,
        *,
        setup: _Setup | None = None,
        worker: bool = False,
    ) -> None:
        self.source = source
        self.options = options
        self.ev = ev
        self.grouped = grouped
        self.worker = worker
        self.setup = setup if setup is not None else _setup(source, options, ev)
        #: Every finding made at an item as it was read (source findings,
        #: wrapped-DEK records, unmappable events), in that order.
        self.stream: SpillList[Finding] = SpillList()
        self.kinds: Counter[str] = Counter()
        self.ring: KeyRing | DekMap | None = (
            KeyRing(options.umk) if options.umk is not None else options.deks
        )
        self.history = KeyHistory()
        self.dialogues: set[str] = set()
        self.dialogue_count = 0
        self.policy = self.setup.policy
        # Keyless envelope checks need nothing else: they run as items arrive.
        # With keys, a grouped read opens each dialogue's envelopes when it
        # ends, a spooled one every envelope after the read. A worker's nonce
        # ledger keeps every entry, to be checked with the other parts'.
        self.ledger = NonceLedger(keep_all=worker)
        self.envelopes = EnvelopeVerifier(self.ring if grouped else None, ledger=self.ledger)
        self.opens_now = self.ring is None
        self.found = 0
        self.failed: list[tuple[str, str]] = []
        self.commits = CommitmentVerifier(
            options.trust, self.setup.expectations, grouped=grouped
        )
        # grouped: the chains verified as each group ends
        self.chains = ChainVerifier(self.policy, lazy=True)
        self.chain_count = 0
        self.group = ""
        #: The partitions met (their hashes), on disk past a limit (spillmap).
        self.groups: SpillMap[int, None] = SpillMap(NONE)
        self.held = 0
        self.deks: list[WrappedDek] = []
        self.pending: list[EntityRecord] = []
        self.lifecycle: list[AuditEvent] = []
        self.group_chains: set[str] = set()
        self.last_key: dict[str, str] = {}
        # spooled: the files
        self.spool: EventSpool | None = None
        self.spill: _RecordSpill | None = None

    # -- the read ---------------------------------------------------------------

    def run(self, progress: Progress | None) -> Result:
        self.progress = progress
        try:
            self._read(progress)
            if self.grouped:
                return _merge(
                    self.source, self.options, self.ev, self.setup, [self.part()], []
                )
            return self._finish()
        finally:
            self.close()

    def part(self) -> _Part:
        """What a grouped read found (after :meth:`_read`)."""
        judged = self.commits.take_judged()
        return _Part(
            self.stream,
            self.kinds,
            self.dialogue_count,
            self.history,
            self.found,
            self.failed,
            self.envelopes.records_result(),
            self.ledger.export() if self.worker else self.ledger,
            self.chains.finish_partial(),
            self.chain_count,
            judged,
            self.ev.timeline,
        )

    def close(self) -> None:
        self.envelopes.close()
        self.commits.close()
        if self.spool is not None:
            self.spool.close()
        if self.spill is not None:
            self.spill.close()

    def _read(self, progress: Progress | None) -> None:
        if not self.grouped:
            self.spool = EventSpool()
            if not self.opens_now:
                self.spill = _RecordSpill()
        items = self.source.read()
        try:
            for seen, item in enumerate(items, 1):
                if progress is not None and seen % 10_000 == 0:
                    progress(seen)
                self._item(item)
            if self.grouped:
                self._end_group()
        finally:
            close = getattr(items, "close", None)
            if close is not None:
                close()

    def _item(self, item: SourceItem) -> None:
        if isinstance(item, Finding):
            if item.code in _ITEM_CODES:  # an item that did not map; not a file-level fact
                self.kinds["unreadable"] += 1
            self.stream.append(item)
            return
        if self.grouped:
            group = _group_of(item)
            if group != self.group:
                self._end_group()
                # Hashes, not the keys: memory; a collision only costs a spooled re-read.
                if hash(group) in self.groups:
                    raise _Ungrouped(f"partition {group!r} reappears")
                self.groups[hash(group)] = None
                self.group = group
                if group.startswith("dialogue#"):
                    self.dialogue_count += 1
        self.history.feed(item)
        self.commits.add(item, getattr(self.source, "item_json", None))
        if isinstance(item, WrappedDek):
            self.kinds["dek"] += 1
            if not self.grouped:
                self.dialogues.add(item.dialogue)
            self.stream.extend(check_dek_record(item))
            if self.ring is not None:
                self.ring.add(item)
                if self.grouped:
                    self.deks.append(item)
                    self._hold()
        elif isinstance(item, AuditEvent):
            self.kinds["audit_event"] += 1
            self._event(item)
            self.ev.note_event(item)  # REP-8: the HTML report's timeline
        else:
            self.kinds["entity"] += 1
            if not self.grouped:
                self.dialogues.add(item.address.dialogue)
            if self.opens_now:
                self.envelopes.add(item)
            elif self.spill is not None:
                self.spill.add(item)
            else:
                self.pending.append(item)
                self._hold()
            if item.address.entity_type is EntityType.EVENT:
                event = chain_event_from_entity(item)
                if isinstance(event, Finding):
                    self.stream.append(event)
                else:
                    self._event(event)
                    self.ev.note_event(event)  # REP-8: the HTML report's timeline
                    if self.spool is not None:
                        self.commits.add_event(event)
                    # grouped: when the group ends, with the chain verifier's verdict

    def _event(self, event: AuditEvent) -> None:
        if self.spool is not None:
            self.spool.add(event)
            return
        chain_id = event.chain_id
        if is_lifecycle(chain_id):
            # Chain order is (seq, event_id), not the sort-key order: put the
            # dialogue's events in order when it ends.
            if self.group.startswith("audit#"):
                raise _Ungrouped(f"the audit-log partition {self.group!r} names a lifecycle chain")
            self.lifecycle.append(event)
            self._hold()
        else:
            # An audit chain is verified in stored (sort-key) order as it arrives.
            key = str(event.fields.get("event_id"))
            last = self.last_key.get(chain_id)
            if last is not None and key < last:
                raise _Ungrouped(f"chain {chain_id!r} is not in sort-key order")
            self.last_key[chain_id] = key
            self.chains.feed(event)
        if chain_id not in self.group_chains:
            self.group_chains.add(chain_id)
            self.chain_count += 1

    def _hold(self) -> None:
        self.held += 1
        if self.held > MAX_GROUP:
            raise _Ungrouped(f"partition {self.group!r} holds more than {MAX_GROUP} items")

    def _end_group(self) -> None:
        """A grouped read has left a partition: check what waited for its end."""
        if self.ring is not None and self.deks:
            first: dict[str, WrappedDek] = {}
            for record in self.deks:  # ring order: one record per key id, the first
                first.setdefault(f"dek#{record.dialogue}#{record.version}", record)
            found, failed = _resolve_keys(self.ring, first.values())
            self.found += found
            self.failed.extend(failed)
        for entity in self.pending:
            self.envelopes.add(entity)
        if self.lifecycle:
            # The spool's order: (seq, event_id), then arrival (sorted() is stable).
            shaped = {}
            for event in sorted(self.lifecycle, key=lifecycle_order_key):
                shaped[id(event)] = self.chains.feed(event)
            for event in self.lifecycle:  # in arrival order, as the spooled read does
                self.commits.add_event(event, shaped[id(event)])
        for chain_id in self.group_chains:
            self.chains.close_chain(chain_id)
            self.last_key.pop(chain_id, None)
        self.commits.end_group()
        if self.ring is not None and self.group.startswith("dialogue#"):
            self.ring.forget(self.group[len("dialogue#") :])
        self.deks, self.pending, self.lifecycle = [], [], []
        self.group_chains = set()
        self.held = 0

    # -- the result of a spooled read ---------------------------------------------

    def _finish(self) -> Result:
        options, ev, kinds = self.options, self.ev, self.kinds
        result = Result()
        result.extend(self.setup.head)
        result.extend(self.stream)
        if self.ring is None:
            result.merge(self.envelopes.result())
        else:
            found, failed = _resolve_keys(self.ring, self.ring.records())
            mismatch = _mismatch(found, failed, options.umk)
            ev.keyed = not mismatch
            result.extend(_key_ring_findings(found, failed, options.umk))
            envelopes = EnvelopeVerifier(None if mismatch else self.ring)
            _announce(self.progress, "opening envelopes")
            with envelopes:
                assert self.spill is not None
                for record in self.spill.records():
                    envelopes.add(record)
                result.merge(envelopes.result())
        ev.audit_log = kinds["audit_event"] > 0
        _key_history(result, options, self.source, kinds, self.history)
        assert self.spool is not None
        self.spool.seal(max(1, options.workers))
        _announce(self.progress, "verifying chains")
        chains = _verify_spooled(self.spool, self.policy, options.workers)
        result.merge(chains)
        _note_lengths(ev, chains.chain_lengths)
        result.merge(self.commits.finish())  # COMMIT-6, COMMIT-8: records_committed, ...
        ev.commitments_checked = True
        _conclude(result, options, self.source, kinds, len(self.dialogues), self.history)
        result.checked["chains"] = self.spool.chains()
        return result


def _note_lengths(ev: Evidence, lengths: MutableMapping[str, int]) -> None:
    """The chain lengths of a run into the evidence's own map (never the
    result's object: a caller may change one, or reuse the evidence)."""
    ev.chain_lengths.update(lengths.items())


def _merge(
    source: Source,
    options: AuditOptions,
    ev: Evidence,
    setup: _Setup,
    parts: list[_Part],
    tail: list[Finding],
) -> Result:
    """The result of a grouped read from what it found in each consecutive part
    of the source (one part when read in one process), and ``tail``, the
    source's own findings after its records (a parallel NDJSON read's)."""
    result = Result()
    result.extend(setup.head)
    kinds: Counter[str] = Counter()
    # The first part's key history, the others merged into it: a one-part
    # run copies no per-key map.
    history = parts[0].history if parts else KeyHistory()
    found, failed = 0, []
    envelopes = Result()
    for part in parts:
        result.extend(part.stream)
        kinds.update(part.kinds)
        if part.history is not history:
            history.merge(part.history)
        found += part.found
        failed.extend(part.failed)
        envelopes.merge(part.envelopes)
    result.extend(tail)
    ledgers = [part.ledger for part in parts]
    if len(ledgers) == 1 and isinstance(ledgers[0], NonceLedger):
        envelopes.extend(ledgers[0].findings())
    else:
        envelopes.extend(merged_findings([x for x in ledgers if isinstance(x, LedgerPart)]))
    if options.umk is not None or options.deks is not None:
        mismatch = _mismatch(found, failed, options.umk)
        ev.keyed = not mismatch
        result.extend(_key_ring_findings(found, failed, options.umk))
        if mismatch:  # what a keyless check of the same envelopes reports
            envelopes.findings = FindingList(
                f for f in envelopes.findings if f.code.name not in _LOOKUP_CODES
            )
    result.merge(envelopes)
    ev.audit_log = kinds["audit_event"] > 0
    _key_history(result, options, source, kinds, history)
    partials = [part.chains for part in parts]
    # A lazy verifier names the expected chains it saw; any other keeps an
    # entry in ``findings`` for every chain it has an expectation of.
    unseen = tuple(
        x
        for x in setup.expectations
        if not any(x.chain_id in p.findings or x.chain_id in p.expected_seen for p in partials)
    )
    if unseen:  # chains only an expectation names: ended once, here
        policy = ChainPolicy(options.trust, unseen, setup.policy.skew_ms)
        partials.append(ChainVerifier(policy).finish_partial())
    chains = resolve(partials)
    del partials
    for part in parts:  # consumed: the tips need not outlive the resolution
        part.chains = Partial()
    result.findings.extend(chains.findings)
    result.checked.update(chains.checked)
    result.chain_lengths = chains.chain_lengths  # the one copy (the result's is empty)
    _note_lengths(ev, chains.chain_lengths)
    result.merge(merge_judged(part.commits for part in parts))  # COMMIT-6, COMMIT-8
    ev.commitments_checked = True
    for part in parts:
        if part.timeline is not ev.timeline:
            ev.timeline.update(part.timeline)
    dialogues = sum(part.dialogues for part in parts)
    _conclude(result, options, source, kinds, dialogues, history)
    result.checked["chains"] = sum(part.chain_count for part in parts)
    return result


def _key_history(
    result: Result, options: AuditOptions, source: Source, kinds: Counter[str], history: KeyHistory
) -> None:
    if options.key_history:
        if kinds["audit_event"]:
            result.extend(history.findings())
        elif history.used:
            # A per-dialogue export carries no crypto audit log: the key
            # history cannot be checked here, which is not evidence of a gap.
            result.add(
                Finding(
                    codes.KEY_HISTORY_UNCHECKED,
                    source.describe(),
                    "no crypto audit log events in this source; the history of "
                    f"{len(history.used)} key(s) was not checked",
                )
            )


def _conclude(
    result: Result,
    options: AuditOptions,
    source: Source,
    kinds: Counter[str],
    dialogues: int,
    history: KeyHistory,
) -> None:
    for name in ("entity", "dek", "audit_event", "unreadable"):
        result.checked[_PLURAL[name]] = kinds[name]
    result.checked["records"] = sum(kinds.values())
    result.checked["dialogues"] = dialogues
    # The key ids records use (envelopes, wrapped DEKs): the key history's.
    result.checked["keys"] = len(history.used)
    if not options.trust.keys:
        _fold_untrusted(result)
    if result.checked["records"] == 0:
        result.add(Finding(codes.NOTHING_CHECKED, source.describe(), "the source holds no records"))


# --- parallel reading -----------------------------------------------------------------------


def _parallel(source: Source, options: AuditOptions, ev: Evidence) -> Result | None:
    """A grouped read by ``options.workers`` processes, each one part of the
    source; None when the source cannot be cut (then one process reads it).

    An uncompressed NDJSON export is cut at line starts where the partition
    key changes (:meth:`NdjsonSource.spans`), so no dialogue and no chain is
    split; a live store that can split itself (:class:`Splittable`) is read
    by :func:`_parallel_parts`. Each worker reads and verifies its part
    (:meth:`NdjsonSource.read_span`) as a grouped read does; the export's own
    end-of-file facts (order, canonical form, trailer counts and digest) are
    put together from the parts here, the digest hashed meanwhile in a thread
    of this process. An export found out of order is read again, spooled.
    """
    from chainaudit.sources.ndjson import NdjsonSource

    if not isinstance(source, NdjsonSource):
        return _parallel_parts(source, options, ev)
    spans = source.spans(options.workers)
    if spans is None or len(spans) < 2:
        return None
    setup = _setup(source, options, ev)
    work = _Work(source, options, setup, spans)
    # The digest is hashed by a thread started after the fork (a thread is not forked).
    outcomes, digest = _in_workers(work, _span_worker, lambda: _DigestThread(source))
    digest.join()
    return _merge_spans(source, options, ev, setup, spans, outcomes, digest)


@dataclass
class _Work:
    """What the forked workers of a parallel read share (nothing is pickled)."""

    source: Any
    options: AuditOptions
    setup: _Setup
    parts: list[Any]  # NDJSON spans (start, end, first line), or a store's part sources


_WORK: _Work | None = None
#: The files the outcomes come back through (see :func:`_in_workers`).
_FILES: list[IO[bytes]] = []


def _in_workers(
    work: _Work, worker: Callable[[int], tuple[str, Any]], beside: Callable[[], _T]
) -> tuple[list[tuple[str, Any]], _T]:
    """``worker(i)`` for every part of ``work``, each in a process forked with
    ``work`` in hand, and ``beside()`` in this process meanwhile (after the fork).

    Each outcome comes back through a file of its own, not the pool's pipe:
    the pipe would carry it as one pickled ``bytes`` object, held whole by
    the worker and again by this process, so memory would grow with the
    part's chains. The files are made here before the fork and unlinked at
    once (nothing is left behind however the run ends); a worker pickles
    its outcome into its file as a stream, and this process unpickles it as
    a stream into the parts' own spill maps and lists.
    """
    import multiprocessing

    global _WORK, _FILES
    files = [_outcome_file() for _ in work.parts]
    try:
        _WORK, _FILES = work, files
        try:
            with multiprocessing.get_context("fork").Pool(len(work.parts)) as pool:
                alongside = beside()
                pool.map(partial(_shipped, worker), range(len(work.parts)), chunksize=1)
        finally:
            _WORK, _FILES = None, []
        outcomes = []
        for f in files:
            with local_faults(tempfile.gettempdir(), _SHIPPED):
                f.seek(0)
                outcomes.append(pickle.load(f))  # written by our own worker
    finally:
        for f in files:
            f.close()
    return outcomes, alongside


_SHIPPED = "a worker's result"


def _outcome_file() -> IO[bytes]:
    """An anonymous temporary file (unlinked from the start) for one outcome."""
    with local_faults(tempfile.gettempdir(), _SHIPPED):
        return tempfile.TemporaryFile(prefix="chainaudit-part-")


def _shipped(worker: Callable[[int], tuple[str, Any]], index: int) -> None:
    """In a worker: ``worker(index)``, pickled into ``_FILES[index]`` (the
    parent's file, shared through the fork)."""
    outcome = worker(index)
    f = _FILES[index]
    with local_faults(tempfile.gettempdir(), _SHIPPED):
        pickle.dump(outcome, f, protocol=pickle.HIGHEST_PROTOCOL)
        f.flush()


def _read_part(source: Any, work: _Work) -> tuple[str, Any]:
    """Read and verify one part as a grouped read does, in a worker: ``("ok",
    part)``, ``("ungrouped", None)``, or ``("error", exc)`` for the parent to raise."""
    run = _Run(source, work.options, Evidence(), True, setup=work.setup, worker=True)
    try:
        run._read(None)
        return "ok", run.part()
    except _Ungrouped:
        return "ungrouped", None
    except ChainauditError as exc:  # InputError, StoreError, ...: raised in the parent
        return "error", exc
    finally:
        run.close()



# --- parallel reading of a store that splits itself -----------------------------------------


def _parallel_parts(source: Source, options: AuditOptions, ev: Evidence) -> Result | None:
    """A grouped read by ``options.workers`` processes of a source that splits
    itself into parts (:class:`chainaudit.sources.Splittable`): DynamoDB scan
    segments, PostgreSQL key ranges of one exported snapshot. Each worker
    reads and verifies its part as a grouped read does; the parts, consecutive
    in the source's order, merge into the one-process result. None when the
    source does not split (then one process reads it)."""
    split = getattr(source, "split", None)
    if split is None:
        return None
    with split(options.workers) as parts:
        if parts is None or len(parts) < 2:
            return None
        setup = _setup(source, options, ev)
        outcomes, _ = _in_workers(_Work(source, options, setup, parts), _part_worker, lambda: None)
    found: list[_Part] = []
    try:
        for kind, value in outcomes:
            if kind == "ungrouped":
                raise _Ungrouped("a worker's part broke the grouping")
            if kind == "error":
                raise value
            found.append(value)
    except BaseException:
        _remove_ledgers([(k, (v,)) for k, v in outcomes])
        raise
    return _merge(source, options, ev, setup, found, [])


def _part_worker(index: int) -> tuple[str, Any]:
    """One worker of a store's parallel read: verify part ``index``."""
    assert _WORK is not None
    return _read_part(_WORK.parts[index], _WORK)


def _span_worker(index: int) -> tuple[str, Any]:
    """One worker of a parallel read: verify span ``index`` of the export."""
    from chainaudit.sources.ndjson import ReadState, Stop

    work = _WORK
    assert work is not None
    start, end, first_line = work.parts[index]
    state, stop = ReadState(), Stop()
    kind, value = _read_part(_Span(work.source, start, end, first_line, state, stop), work)
    return (kind, (value, state, stop)) if kind == "ok" else (kind, value)


class _Span:
    """One span of an NDJSON export, as a source for a worker's run."""

    def __init__(self, source: Any, start: int, end: int, first: int, state: Any, stop: Any) -> None:
        self._source, self._args = source, (start, end, first, state, stop)

    def describe(self) -> str:
        return str(self._source.describe())

    def read(self) -> Iterator[SourceItem]:
        return iter(self._source.read_span(*self._args))

    @property
    def item_json(self) -> bytes | None:
        return self._source.item_json  # type: ignore[no-any-return]


class _DigestThread:
    """The export's digest over every byte before its last line (where the
    trailer normally is), computed while the workers read."""

    def __init__(self, source: Any) -> None:
        import threading

        self.source = source
        self.offset, self.hexdigest = source.last_line_start(), ""
        self._thread = threading.Thread(target=self._run, daemon=True, name="export-digest")
        self._error: BaseException | None = None
        self._thread.start()

    def _run(self) -> None:
        try:
            if self.offset is not None:
                self.hexdigest = self.source.digest_of_prefix(self.offset)
        except BaseException as exc:  # reported by whoever needs the digest
            self._error = exc

    def join(self) -> None:
        self._thread.join()

    def of_prefix(self, offset: int) -> str:
        if offset == self.offset and self._error is None:
            return self.hexdigest
        return str(self.source.digest_of_prefix(offset))


def _merge_spans(
    source: Any,
    options: AuditOptions,
    ev: Evidence,
    setup: _Setup,
    spans: list[tuple[int, int, int]],
    outcomes: list[tuple[str, Any]],
    digest: _DigestThread,
) -> Result:
    """The parallel read's result: the spans up to the first that ends the
    records (an error, a trailer, a line cut short), and the export's end."""
    from chainaudit.sources.ndjson import ReadState, Stop

    kept: list[tuple[_Part, Any, Any]] = []
    stop = Stop()
    try:
        for (start, _end, _first), (kind, value) in zip(spans, outcomes, strict=True):
            if kind == "ungrouped":
                raise _Ungrouped("a worker's part broke the grouping")
            if kind == "error":
                raise value
            part, state, stop = value
            kept.append((part, state, stop))
            if stop.kind != "eof":
                stop.offset += start  # the trailer's place in the file
                break
        merged = ReadState()
        previous = None
        for _, state, _ in kept:
            if state.out_of_order or (
                previous is not None
                and state.first_key is not None
                and state.first_key <= previous
            ):
                raise _Ungrouped("the export is not in key order")
            previous = state.previous_key or previous
            merged.counts.update(state.counts)
            merged.lines += state.lines - 1
            if state.not_canonical:
                merged.not_canonical += state.not_canonical
                merged.first_not_canonical = (
                    merged.first_not_canonical or state.first_not_canonical
                )
        trailer, hexdigest = None, ""
        if stop.kind == "trailer":
            trailer = parse_json_line(stop.raw[:-1], f"{source.label}:{stop.line}")
            hexdigest = digest.of_prefix(stop.offset)
        after = stop.offset + len(stop.raw)
        tail = list(
            source.end_findings(
                merged,
                stop,
                trailer,
                hexdigest,
                lambda: source.count_lines_from(after, stop.line + 1),
            )
        )
    except BaseException:
        _remove_ledgers(outcomes)
        raise
    for kind, value in outcomes:  # the spans after the end of the records
        if kind == "ok" and all(value[0] is not k[0] for k in kept):
            _remove_ledgers([(kind, value)])
    return _merge(source, options, ev, setup, [k[0] for k in kept], tail)


def _remove_ledgers(outcomes: list[tuple[str, Any]]) -> None:
    """Remove the nonce-ledger files of the workers' parts (on the way out)."""
    for kind, value in outcomes:
        if kind == "ok" and isinstance(value[0].ledger, LedgerPart):
            value[0].ledger.remove()


class _RecordSpill:
    """Entity records written to an anonymous temporary file in batches and read
    back in order: the envelopes a spooled read opens after the last key."""

    _BATCH = 2000
    _WHAT = "the temporary envelope spill"

    def __init__(self) -> None:
        self._dir = tempfile.gettempdir()
        with local_faults(self._dir, self._WHAT):
            self._file: IO[bytes] = tempfile.TemporaryFile(prefix="chainaudit-envelopes-")  # noqa: SIM115
        self._batch: list[EntityRecord] = []

    def add(self, record: EntityRecord) -> None:
        self._batch.append(record)
        if len(self._batch) >= self._BATCH:
            self._flush()

    def _flush(self) -> None:
        if self._batch:
            with local_faults(self._dir, self._WHAT):
                pickle.dump(self._batch, self._file, protocol=pickle.HIGHEST_PROTOCOL)
            self._batch = []

    def records(self) -> Iterator[EntityRecord]:
        self._flush()
        with local_faults(self._dir, self._WHAT):
            self._file.seek(0)
        while True:
            try:
                batch: list[EntityRecord] = pickle.load(self._file)  # our own file
            except EOFError:
                return
            yield from batch

    def close(self) -> None:
        self._file.close()


_PLURAL = {
    "entity": "entities",
    "dek": "deks",
    "audit_event": "audit_events",
    "unreadable": "unreadable",
}


_ITEM_CODES = frozenset({codes.RECORD_MALFORMED, codes.ADDRESS_INVALID})
_UNTRUSTED = frozenset(
    {
        codes.BOUNDARY_SIGNER_UNTRUSTED,
        codes.CHECKPOINT_SIGNER_UNTRUSTED,
        codes.ERASURE_SIGNER_UNTRUSTED,  # COMMIT-8: a receipt is a signature like the others
    }
)


def _resolve_keys(
    ring: KeyRing | DekMap, records: Iterable[WrappedDek]
) -> tuple[int, list[tuple[str, str]]]:
    """Unwrap each of ``records``'s keys once: how many unwrapped, and the
    (location, origin) of each that did not, in the order given."""
    failed: list[tuple[str, str]] = []
    found = 0
    for record in records:
        location = f"dek#{record.dialogue}#{record.version}"
        lookup = ring.resolve(location)
        if lookup.status is DekStatus.FOUND:
            found += 1
        elif lookup.status is DekStatus.UNWRAP_FAILED:
            failed.append((location, record.origin))
    return found, failed


def _key_ring_findings(found: int, failed: list[tuple[str, str]], umk: Umk | None) -> list[Finding]:
    """What the wrapped DEKs say once every one was unwrapped (or not).

    A UMK that opens none of the wrapped keys is almost certainly the wrong
    UMK, not a store where every key was tampered with: say so once
    (UMK_MISMATCH, unverified); the run then reports envelopes as checked
    without keys. Otherwise each key that does not unwrap is named once, at
    its own record (KEY-4); the records sealed under it report it too.
    """
    if failed and not found and umk is not None:
        return [
            Finding(
                codes.UMK_MISMATCH,
                f"umk:{umk.fingerprint()}",
                f"the UMK (fingerprint {umk.fingerprint()}) unwraps none of the {len(failed)} "
                "wrapped keys: it is probably not the UMK these keys were wrapped under; "
                "envelopes were checked without keys",
                extra={"keys": len(failed)},
            )
        ]
    return [
        Finding(
            codes.KEY_UNWRAP_FAILED,
            location,
            "this wrapped DEK does not unwrap under its owner's KEK while others do: "
            "the record was altered, or it belongs to another owner or UMK",
            source=origin or None,
        )
        for location, origin in failed
    ]


def _mismatch(found: int, failed: list[tuple[str, str]], umk: Umk | None) -> bool:
    return bool(failed) and not found and umk is not None


def _fold_untrusted(result: Result) -> None:
    """With no key pinned at all, 'untrusted signer' is a missing option, not a
    forged signature: fold those findings into one SIGNATURES_UNCHECKED."""
    untrusted = [f for f in result.findings if f.code in _UNTRUSTED]
    if not untrusted:
        return
    result.findings = FindingList(f for f in result.findings if f.code not in _UNTRUSTED)
    signers = sorted({f.actual for f in untrusted if f.actual})
    result.add(
        Finding(
            codes.SIGNATURES_UNCHECKED,
            untrusted[0].where,
            f"no --trusted-keys given: {len(untrusted)} signature(s) on boundary events, "
            f"checkpoints or erasure receipts were not checked (signer key ids: {', '.join(signers) or 'unknown'})",
            extra={"signatures": len(untrusted), "first": [f.where for f in untrusted[:5]]},
        )
    )


def _verify_spooled(spool: EventSpool, policy: ChainPolicy, workers: int) -> Result:
    if workers <= 1 or len(spool) == 0:
        return verify_events(spool.events(), policy)
    import multiprocessing

    with multiprocessing.get_context("fork").Pool(workers) as pool:
        parts = pool.map(partial(_worker, spool.path, policy, workers), range(workers))
    return resolve(parts)


def _worker(path: Path, policy: ChainPolicy, n: int, index: int) -> Partial:
    """One worker process: verify the chains of partition ``index`` of ``n``."""
    verifier = ChainVerifier(policy, (index, n))
    for event in read_spool(path, index):
        verifier.feed(event)
    return verifier.finish_partial()
