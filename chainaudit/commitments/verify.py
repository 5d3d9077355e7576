"""Verify records against their commitments, and key destructions against receipts (COMMIT).

:class:`CommitmentVerifier` is fed every record of a source once, in any
order (the audit pipeline's read loop calls :meth:`~CommitmentVerifier.add`
for records and :meth:`~CommitmentVerifier.add_event` for lifecycle events
it already built), and :meth:`~CommitmentVerifier.finish` then judges one
dialogue at a time (COMMIT-6, COMMIT-8). What it keeps per record is its
key, two digests and a few short strings, spooled to a temporary SQLite
file, so memory is bounded by one dialogue, never by the dataset.

Pure apart from that temporary file: no clock, no network. Specification:
``docs/commitments.md``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from chainaudit.chain.boundary import message as boundary_message
from chainaudit.chain.checkpoint import ChainExpectation
from chainaudit.chain.events import (
    COMMIT_EVENT_TYPE,
    HASH_ALGS,
    LIFECYCLE_PREFIX,
    LIFECYCLE_SUFFIX,
    RECEIPT_EVENT_TYPE,
    chain_event_from_entity,
    is_boundary,
    is_lifecycle,
    lifecycle_chain_id,
    shape_problem,
)
from chainaudit.commitments.events import DOMAIN_COMMIT, check_receipt_signature, digest_bytes
from chainaudit.errors import local_faults
from chainaudit.findings import Code, Finding, Result, codes
from chainaudit.findings.bychain import ByChain, merged_by_chain
from chainaudit.keys.hierarchy import parse_key_id
from chainaudit.keys.signing import TrustStore
from chainaudit.primitives.crypto import equal
from chainaudit.records.digest import canonical_record_json, record_key
from chainaudit.records.model import AuditEvent, EntityRecord, KeyState, Record, WrappedDek
from chainaudit.scratch import open_scratch_db, pack_fields, unpack_fields

#: What a full or unusable temporary directory stops (CLI-4: exit 3, one line).
_WHAT = "the temporary commitment spool"

#: The ``result.checked`` counters this verifier sets (COMMIT-6, COMMIT-8).
COUNTERS = (
    "records_committed",
    "records_committed_unanchored",
    "records_uncommitted",
    "erasures_signed",
    "erasures_unproven",
)

_BATCH = 5000


@dataclass(frozen=True, slots=True)
class _Commit:
    seq: int
    event_id: str
    op: str
    digest: str
    alg: str


class _Digests(Mapping[str, str]):
    """A record's COMMIT-3 digests, computed when first asked for.

    A grouped read keeps these instead of the digests: a dialogue with no
    commitment never asks (its records are only counted uncommitted), and
    one that has them asks only for the algorithms its commitments use.
    Held for one dialogue at a time."""

    __slots__ = ("_data", "_done", "_item_json", "_record")

    def __init__(self, record: Record, item_json: bytes | None) -> None:
        self._record, self._item_json = record, item_json
        self._data: bytes | None = None
        self._done: dict[str, str] = {}

    def __getitem__(self, alg: str) -> str:
        done = self._done.get(alg)
        if done is None:
            if alg not in HASH_ALGS:
                raise KeyError(alg)
            if self._data is None:
                item_json = self._item_json
                if item_json is None:
                    item_json = canonical_record_json(self._record)
                self._data = DOMAIN_COMMIT + item_json
            done = self._done[alg] = digest_bytes(alg, self._data)
        return done

    def __iter__(self) -> Iterator[str]:
        return iter(HASH_ALGS)

    def __len__(self) -> int:
        return len(HASH_ALGS)


def materialized(row: tuple[Any, ...]) -> tuple[Any, ...]:
    """A grouped row with its digests computed (to ship it to another process)."""
    lazy = row[3]
    if not isinstance(lazy, _Digests):
        return row
    return (*row[:3], lazy["sha256"], lazy["blake3"], *row[5:])


@dataclass(frozen=True, slots=True)
class _Rec:
    key: str
    digests: Mapping[str, str]
    key_id: str | None  # the envelope's key id (entities) or the DEK's own (wrapped DEKs)
    state: str | None  # wrapped DEKs only
    destroyed_at: str | None
    origin: str


@dataclass(frozen=True, slots=True)
class _Receipt:
    seq: int
    event_id: str
    fields: dict[str, Any]


@dataclass
class Judged:
    """Dialogues judged one at a time (CommitmentVerifier.end_group): the
    findings of those that have any, by chain id, and everyone's counters."""

    findings: ByChain = field(default_factory=ByChain)
    checked: Counter[str] = field(default_factory=Counter)


def merge_judged(parts: Iterable[Judged]) -> Result:
    """What :meth:`CommitmentVerifier.finish` reports for dialogues judged by one
    or several grouped verifiers (each dialogue by one): counters summed,
    findings by chain id in UTF-8 byte order."""
    result = Result()
    for name in COUNTERS:
        result.checked[name] = 0
    parts = list(parts)
    for part in parts:
        result.checked.update(part.checked)
    for _chain_id, found in merged_by_chain([part.findings for part in parts]):
        result.extend(found)
    return result


class CommitmentVerifier:
    """Collect records and lifecycle events, then verify COMMIT-6 and COMMIT-8."""

    def __init__(
        self,
        trust: TrustStore | None = None,
        expectations: Iterable[ChainExpectation] = (),
        directory: str | None = None,
        *,
        grouped: bool = False,
        lazy: bool = True,
    ) -> None:
        """``grouped=True``: the caller feeds each dialogue's records and events
        together and calls :meth:`end_group` after each dialogue; they are then
        judged from memory at once, with the same outcome as from the spool.
        ``lazy`` (grouped only): the first :data:`LAZY_MAX` records of a group
        keep their digests uncomputed until a commitment asks (:class:`_Digests`
        holds the record); ``lazy=False`` computes them at once (rows that
        are kept long or shipped elsewhere)."""
        self.trust = trust if trust is not None else TrustStore()
        self.grouped = grouped
        self.lazy = lazy
        self._lazy_held = 0
        self._group_recs: list[tuple[Any, ...]] = []
        self._group_evs: list[tuple[Any, ...]] = []
        #: What end_group judged: the findings of each chain that has any, and
        #: the counters of all (kept small: one entry per chain with findings).
        self._judged = Judged()
        self._anchors: dict[str, int] = {}
        for x in expectations:
            self._anchors[x.chain_id] = max(self._anchors.get(x.chain_id, 0), x.count)
        self.path, self._db = open_scratch_db(
            "chainaudit-commit-",
            directory,
            _WHAT,
            [
                "CREATE TABLE rec (c TEXT NOT NULL, k TEXT NOT NULL, n INTEGER NOT NULL,"
                " sha TEXT NOT NULL, b3 TEXT NOT NULL, kid TEXT, state TEXT, dat TEXT,"
                " origin TEXT NOT NULL)",
                "CREATE TABLE ev (c TEXT NOT NULL, seq INTEGER NOT NULL, eid TEXT NOT NULL,"
                " n INTEGER NOT NULL, fields TEXT NOT NULL)",
            ],
        )
        self._recs: list[tuple[Any, ...]] = []
        self._evs: list[tuple[Any, ...]] = []
        self._n = 0
        self._closed = False

    # -- feeding ------------------------------------------------------------------

    def add(self, record: Record, item_json: bytes | None = None) -> None:
        """Take any record: committable ones are kept (COMMIT-4), others ignored.

        ``item_json``: the record's :func:`canonical_record_json`, when the
        caller already holds it (an NDJSON export's line shows it).

        Lifecycle ``event`` entities are ignored here: feed their chain events
        to :meth:`add_event` (the audit pipeline builds them anyway;
        :func:`verify_commitments` converts them).
        """
        if isinstance(record, EntityRecord):
            if record.address.entity_type.value == "event":
                return
            dialogue = record.address.dialogue
            kid = record.envelope.key_id if record.envelope is not None else None
            state = dat = None
        elif isinstance(record, WrappedDek):
            dialogue = record.dialogue
            kid = f"dek#{record.dialogue}#{record.version}"
            state, dat = record.state.value, record.destroyed_at
        else:
            return
        self._n += 1
        digests = _Digests(record, item_json)
        sha: str | _Digests
        b3: str | None
        if self.grouped and self.lazy and self._lazy_held < LAZY_MAX:
            # Digests when end_group asks for them (see _Digests); the records
            # held so are bounded per group, whatever a dialogue's size.
            self._lazy_held += 1
            sha, b3 = digests, None
        else:
            sha, b3 = digests["sha256"], digests["blake3"]
        row = (
            lifecycle_chain_id(dialogue),
            record_key(record),
            self._n,
            sha,
            b3,
            kid,
            state,
            dat,
            record.origin or "",
        )
        if self.grouped:
            self._group_recs.append(row)
            return
        self._recs.append(row)
        if len(self._recs) >= _BATCH:
            self._flush()

    def add_event(self, event: AuditEvent, well_formed: bool | None = None) -> None:
        """Take a lifecycle chain event; only well-formed commitments, receipts and
        boundaries are kept (COMMIT-6: malformed events are CHAIN's to report).
        ``well_formed``: whether ``shape_problem`` found nothing, when the caller
        already knows (the chain verifier checked the event)."""
        if not is_lifecycle(event.chain_id):
            return
        fields = event.fields
        if not (is_boundary(fields) or fields.get("event_type") in _KEPT):
            return
        if well_formed is None:
            well_formed = shape_problem(event.chain_id, fields) is None
        if not well_formed:
            return
        self._n += 1
        if self.grouped:
            self._group_evs.append(
                (event.chain_id, fields["seq"], fields["event_id"], self._n, fields)
            )
            return
        self._evs.append(
            (
                event.chain_id,
                fields["seq"],
                fields["event_id"],
                self._n,
                pack_fields(fields),
            )
        )
        if len(self._evs) >= _BATCH:
            self._flush()

    def _flush(self) -> None:
        with local_faults(self.path.parent, _WHAT):
            if self._recs:
                self._db.executemany("INSERT INTO rec VALUES (?,?,?,?,?,?,?,?,?)", self._recs)
                self._recs.clear()
            if self._evs:
                self._db.executemany("INSERT INTO ev VALUES (?,?,?,?,?)", self._evs)
                self._evs.clear()

    # -- judging ------------------------------------------------------------------

    def end_group(self) -> None:
        """Judge the dialogue(s) fed since the last call (``grouped=True`` only;
        each dialogue must be fed within one group).

        The rows are ordered as :meth:`finish` orders them from the spool
        (records by key, then arrival; events by ``seq``, ``event_id``, then
        arrival; text by UTF-8 bytes, SQLite's ``BINARY`` order).
        """
        recs, evs = self._group_recs, self._group_evs
        self._group_recs, self._group_evs = [], []
        self._lazy_held = 0
        chains = {row[0] for row in recs} | {row[0] for row in evs}
        for chain_id in chains:
            mine = sorted((r for r in recs if r[0] == chain_id), key=lambda r: (_utf8(r[1]), r[2]))
            events = sorted(
                (e for e in evs if e[0] == chain_id), key=lambda e: (e[1], _utf8(e[2]), e[3])
            )
            result = Result()
            self._judge(
                chain_id,
                [
                    _Rec(k, _digest_map(sha, b3), kid, st, dat, o)
                    for _, k, _, sha, b3, kid, st, dat, o in mine
                ],
                [(seq, eid, fields) for _, seq, eid, _, fields in events],
                result,
            )
            self._judged.checked.update(result.checked)
            if result.findings:
                self._judged.findings.add(chain_id, result.findings)

    def take_judged(self) -> Judged:
        """End the last group and hand over what was judged (``grouped=True``,
        when nothing was spooled); :func:`merge_judged` makes the result."""
        self.end_group()
        judged, self._judged = self._judged, Judged()
        return judged

    def finish(self) -> Result:
        """Verify every dialogue (in the byte order of its chain id) and close."""
        result = Result()
        for name in COUNTERS:
            result.checked[name] = 0
        try:
            self.end_group()
            self._flush()
            with local_faults(self.path.parent, _WHAT):
                self._db.execute("CREATE INDEX rec_c ON rec (c, k, n)")
                self._db.execute("CREATE INDEX ev_c ON ev (c, seq, eid, n)")
            chains = [
                row[0]
                for row in self._db.execute("SELECT c FROM rec UNION SELECT c FROM ev ORDER BY 1")
            ]
            judged = self._judged
            result.checked.update(judged.checked)
            for chain_id in sorted({*chains, *judged.findings}, key=_utf8):
                done = judged.findings.get(chain_id)
                if done is None:
                    self._dialogue(chain_id, result)
                else:
                    result.extend(done)
        finally:
            self.close()
        return result

    def _rows(self, chain_id: str) -> tuple[list[_Rec], list[tuple[int, str, dict[str, Any]]]]:
        recs = [
            _Rec(k, {"sha256": sha, "blake3": b3}, kid, state, dat, origin)
            for k, sha, b3, kid, state, dat, origin in self._db.execute(
                "SELECT k, sha, b3, kid, state, dat, origin FROM rec WHERE c = ? ORDER BY k, n",
                (chain_id,),
            )
        ]
        events = [
            (seq, eid, unpack_fields(fields))
            for seq, eid, fields in self._db.execute(
                "SELECT seq, eid, fields FROM ev WHERE c = ? ORDER BY seq, eid, n", (chain_id,)
            )
        ]
        return recs, events

    def _dialogue(self, chain_id: str, result: Result) -> None:
        recs, events = self._rows(chain_id)
        self._judge(chain_id, recs, events, result)

    def _judge(
        self,
        chain_id: str,
        recs: list[_Rec],
        events: list[tuple[int, str, dict[str, Any]]],
        result: Result,
    ) -> None:
        """COMMIT-6 and COMMIT-8 for one dialogue, from its ordered rows."""
        dialogue = chain_id[len(LIFECYCLE_PREFIX) : -len(LIFECYCLE_SUFFIX)]
        commits: dict[str, list[_Commit]] = {}
        receipts: list[_Receipt] = []
        anchor = self._anchors.get(chain_id, 0)
        for seq, eid, fields in events:
            if is_boundary(fields):
                if self._boundary_anchors(chain_id, fields):
                    anchor = max(anchor, fields["source_count"])
            elif fields["event_type"] == COMMIT_EVENT_TYPE:
                commits.setdefault(fields["record_key"], []).append(
                    _Commit(
                        seq, eid, fields["record_op"], fields["record_digest"], fields["hash_alg"]
                    )
                )
            else:
                receipts.append(_Receipt(seq, eid, fields))
        by_key: dict[str, list[_Rec]] = {}
        for r in recs:
            by_key.setdefault(r.key, []).append(r)
        deks = {r.key: r for r in recs if r.state is not None}

        # COMMIT-8: receipts, then each destroyed key.
        valid: dict[str, _Receipt] = {}
        for x in receipts:
            problem = self._receipt_problem(chain_id, dialogue, x, deks)
            if problem is None:
                anchor = max(anchor, x.seq)
                valid.setdefault(x.fields["erased_key_id"], x)
            else:
                code, message, expected, actual = problem
                result.add(
                    Finding(
                        code,
                        f"chain:{chain_id}@{x.seq}",
                        message,
                        expected=expected,
                        actual=actual,
                        extra={
                            "chain_id": chain_id,
                            "seq": x.seq,
                            "event_id": x.event_id,
                            "key_id": x.fields["erased_key_id"],
                        },
                    )
                )
        named = {x.fields["erased_key_id"] for x in receipts}
        for key in sorted(deks, key=_utf8):
            r = deks[key]
            if r.state != KeyState.DESTROYED.value:
                continue
            if key in valid:
                result.checked["erasures_signed"] += 1
                continue
            result.checked["erasures_unproven"] += 1
            if key not in named:
                result.add(
                    Finding(
                        codes.ERASURE_UNSIGNED,
                        key,
                        "this key was destroyed, but no erasure receipt in its dialogue's "
                        "lifecycle chain proves it was destroyed on purpose: anyone who can "
                        "write to the store can mark a key destroyed",
                        expected=f"an erasure_receipt event for {key} in {chain_id}",
                        actual="none",
                        source=r.origin or None,
                        extra={"chain_id": chain_id, "seq": None, "key_id": key},
                    )
                )

        # COMMIT-6: every record key of the dialogue, committed or present.
        committed = bool(commits)
        for key in sorted(set(by_key) | set(commits), key=_utf8):
            history = commits.get(key, [])
            latest = history[-1] if history else None
            present = by_key.get(key, [])
            for r in present:
                erased = valid.get(r.key_id) if r.state is None and r.key_id else None
                if erased is not None and (latest is None or latest.seq >= erased.seq):
                    result.add(_after_erasure(chain_id, key, r, latest, erased))
                    continue
                if not committed:
                    result.checked["records_uncommitted"] += 1
                    continue
                finding = _judge(chain_id, key, r, history)
                if finding is not None:
                    result.add(finding)
                elif latest is not None and latest.seq < anchor:
                    result.checked["records_committed"] += 1
                else:
                    result.checked["records_committed_unanchored"] += 1
            if not present and latest is not None and latest.op == "put":
                result.add(
                    Finding(
                        codes.COMMIT_RECORD_MISSING,
                        key,
                        f"the record's latest commitment (chain:{chain_id}@{latest.seq}) puts it, "
                        "but the source does not hold it: it was deleted without a delete "
                        "commitment",
                        expected=latest.digest,
                        actual="absent",
                        extra={"chain_id": chain_id, "seq": latest.seq, "record_key": key},
                    )
                )

    def _boundary_anchors(self, chain_id: str, fields: dict[str, Any]) -> bool:
        """COMMIT-5: a boundary anchors its source prefix when it is pinned, valid and
        consistent with its own position."""
        return (
            fields["target_chain_id"] == chain_id
            and fields["seq"] == fields["source_count"]
            and equal(fields["previous_hash"], fields["source_tip_hash"])
            and self.trust.check(
                fields["signer_key_id"],
                bytes.fromhex(fields["signature"]),
                boundary_message(fields),
            )
            == "valid"
        )

    def _receipt_problem(
        self, chain_id: str, dialogue: str, x: _Receipt, deks: dict[str, _Rec]
    ) -> tuple[Code, str, str | None, str | None] | None:
        """COMMIT-8 steps 1-5: the first problem of receipt ``x``, or None when valid."""
        f = x.fields
        verdict = check_receipt_signature(chain_id, f, self.trust)
        if verdict == "untrusted":
            return (
                codes.ERASURE_SIGNER_UNTRUSTED,
                "the erasure receipt's signer is not a pinned key, so the destruction is not "
                "proven lawful",
                None,
                f["signer_key_id"],
            )
        if verdict == "invalid":
            return (
                codes.ERASURE_RECEIPT_INVALID,
                "the erasure receipt's signature does not verify under the pinned key: the "
                "receipt was altered or forged",
                None,
                f["signer_key_id"],
            )
        if f["tip_count"] != x.seq or not equal(f["tip_hash"], f["previous_hash"]):
            return (
                codes.ERASURE_RECEIPT_MISMATCH,
                "the receipt is not stored at the chain tip it names: events were inserted "
                "before it, or it was moved",
                f"seq={f['tip_count']} previous_hash={f['tip_hash']}",
                f"seq={x.seq} previous_hash={f['previous_hash']}",
            )
        key = f["erased_key_id"]
        key_dialogue, _ = parse_key_id(key)
        if key_dialogue != dialogue:
            return (
                codes.ERASURE_RECEIPT_MISMATCH,
                "the receipt names a key of another dialogue: it was copied here",
                f"a key of dialogue {dialogue}",
                key,
            )
        dek = deks.get(key)
        if dek is None or dek.state != KeyState.DESTROYED.value:
            return (
                codes.ERASURE_RECEIPT_MISMATCH,
                "the receipt says this key was destroyed, but the source holds "
                + ("no wrapped-DEK record for it" if dek is None else f"it in state {dek.state}")
                + ": the erasure did not take effect",
                "destroyed",
                "absent" if dek is None else str(dek.state),
            )
        if dek.destroyed_at != f["destroyed_at"]:
            return (
                codes.ERASURE_RECEIPT_MISMATCH,
                "the receipt's destruction time is not the wrapped-DEK record's destroyed_at",
                f["destroyed_at"],
                str(dek.destroyed_at),
            )
        return None

    def close(self) -> None:
        """Delete the spool file (idempotent)."""
        if not self._closed:
            self._closed = True
            self._db.close()
            self.path.unlink(missing_ok=True)

    def __enter__(self) -> CommitmentVerifier:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


_KEPT = frozenset({COMMIT_EVENT_TYPE, RECEIPT_EVENT_TYPE})
#: Records of one group whose digests may wait (each holds its record).
LAZY_MAX = 2048


def _digest_map(sha: str | _Digests, b3: str | None) -> Mapping[str, str]:
    if isinstance(sha, _Digests):
        return sha
    assert b3 is not None
    return {"sha256": sha, "blake3": b3}


def _utf8(text: str) -> bytes:
    return text.encode("utf-8", "surrogatepass")


def _matches(r: _Rec, c: _Commit) -> bool:
    return c.alg in HASH_ALGS and equal(r.digests[c.alg], c.digest)


def _judge(chain_id: str, key: str, r: _Rec, history: list[_Commit]) -> Finding | None:
    """COMMIT-6 for one present record of a dialogue that has commitments."""
    extra: dict[str, Any] = {"chain_id": chain_id, "seq": None, "record_key": key}
    source = r.origin or None
    if not history:
        return Finding(
            codes.COMMIT_MISSING,
            key,
            f"no commitment in {chain_id} names this record, though the dialogue's records are "
            "committed: it was planted, or written around the writer",
            expected="a record_commit event for this key",
            actual="none",
            source=source,
            extra=extra,
        )
    latest = history[-1]
    extra["seq"] = latest.seq
    if latest.op == "put" and _matches(r, latest):
        return None
    own = r.digests.get(latest.alg, r.digests["sha256"])
    expected = latest.digest if latest.op == "put" else "deleted"
    for earlier in reversed(history[:-1]):
        if earlier.op == "put" and _matches(r, earlier):
            return Finding(
                codes.COMMIT_ROLLBACK,
                key,
                f"the record is the version committed at chain:{chain_id}@{earlier.seq}, not "
                f"the latest one (@{latest.seq}"
                + (", which deletes it" if latest.op == "delete" else "")
                + "): it was rolled back to an older, validly sealed version",
                expected=expected,
                actual=r.digests.get(earlier.alg, own),
                source=source,
                extra={**extra, "matches_seq": earlier.seq},
            )
    return Finding(
        codes.COMMIT_MISMATCH,
        key,
        (
            f"the record differs from its latest commitment (chain:{chain_id}@{latest.seq}) and "
            "from every earlier committed version: it (envelope or cleartext attributes) was "
            "edited after it was committed, or the commitment was forged"
            if latest.op == "put"
            else f"the record's latest commitment (chain:{chain_id}@{latest.seq}) deletes it, "
            "yet it is present, in a version no commitment names"
        ),
        expected=expected,
        actual=own,
        source=source,
        extra=extra,
    )


def _after_erasure(
    chain_id: str, key: str, r: _Rec, latest: _Commit | None, receipt: _Receipt
) -> Finding:
    return Finding(
        codes.ERASURE_RECORD_AFTER,
        key,
        f"this record is sealed under {r.key_id}, which the erasure receipt at "
        f"chain:{chain_id}@{receipt.seq} destroyed, but "
        + (
            "no commitment names it"
            if latest is None
            else f"its latest commitment is at @{latest.seq}, after the receipt's tip"
        )
        + ": it appeared after the erasure (planted, or restored)",
        expected=f"a commitment before seq {receipt.seq}",
        actual="none" if latest is None else f"seq {latest.seq}",
        source=r.origin or None,
        extra={
            "chain_id": chain_id,
            "seq": None if latest is None else latest.seq,
            "record_key": key,
            "key_id": r.key_id,
        },
    )


def verify_commitments(
    records: Iterable[Record],
    trust: TrustStore | None = None,
    expectations: Iterable[ChainExpectation] = (),
) -> Result:
    """COMMIT-6 and COMMIT-8 over ``records`` (any order): the reference entry point."""
    with CommitmentVerifier(trust, expectations) as v:
        for r in records:
            if isinstance(r, EntityRecord) and r.address.entity_type.value == "event":
                event = chain_event_from_entity(r)
                if isinstance(event, AuditEvent):
                    v.add_event(event)
            else:
                v.add(r)
        return v.finish()
