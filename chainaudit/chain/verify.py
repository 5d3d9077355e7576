"""The streaming chain verifier (CHAIN-7, CHAIN-8, CHAIN-11, CHAIN-12).

One pass over events of any number of chains; memory is bounded by the
number of chains, never by their length: per chain it keeps the next
expected ``seq``, the tip, at most one alternative tip after a fork and at
most one held event (to tell two swapped neighbours from a gap). Events of
different chains may interleave; each chain's events must arrive in stored
order (CHAIN-6). Pure: no I/O, no clock.

Chains are independent, so a run splits by :func:`partition` across worker
processes and :func:`resolve` merges the parts into exactly what a serial
run reports (:func:`verify_parallel`).

>>> from chainaudit.records.model import AuditEvent
>>> v = ChainVerifier(ChainPolicy())
>>> v.finish().ok   # nothing checked is not a pass
False
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable, Iterable, MutableMapping
from dataclasses import dataclass, field
from typing import Any

from chainaudit.chain.checkpoint import ChainExpectation
from chainaudit.chain.event_checks import EventView, add_finding, check_event
from chainaudit.chain.events import (
    genesis_hash,
)
from chainaudit.chain.merge import Claim, Partial, partition, resolve
from chainaudit.findings import Code, Finding, Result, codes
from chainaudit.keys.signing import TrustStore
from chainaudit.primitives.crypto import equal
from chainaudit.records.model import AuditEvent
from chainaudit.spilllist import SpillList

__all__ = [
    "ChainPolicy",
    "ChainVerifier",
    "EventInput",
    "Partial",
    "partition",
    "resolve",
    "verify_events",
    "verify_parallel",
]

#: CHAIN-14: expectation kind that also requires a boundary right after ``count``.
MIGRATION = "migration"

#: CHAIN-6: default clock-skew tolerance between timestamp and UUIDv7 time.
DEFAULT_SKEW_MS = 300_000

#: What the verifier consumes: an event, optionally with the label of its store.
EventInput = AuditEvent | tuple[AuditEvent, str]


@dataclass(frozen=True)
class ChainPolicy:
    """What the verifier trusts and expects: pinned keys, checkpoints/manifest
    expectations (already verified), and the clock-skew tolerance."""

    trust: TrustStore = field(default_factory=TrustStore)
    expectations: tuple[ChainExpectation, ...] = ()
    skew_ms: int = DEFAULT_SKEW_MS


@dataclass
class _State:
    chain_id: str
    n: int | None = None
    tip: str = ""
    tip_prev: str = ""
    tip_uuid: int | None = None
    alg: str | None = None
    store: str = ""
    alt: str | None = None
    held: EventView | None = None
    expectations: list[ChainExpectation] = field(default_factory=list)
    #: On disk past a limit: one chain may hold millions of broken events.
    findings: SpillList[Finding] = field(default_factory=SpillList)


class ChainVerifier:
    """Feed events with :meth:`feed`, then call :meth:`finish` once."""

    def __init__(
        self, policy: ChainPolicy, part: tuple[int, int] | None = None, *, lazy: bool = False
    ) -> None:
        """``lazy=True``: an expectation takes part only once its chain is fed
        (a verifier that sees part of the chains; whoever merges the parts
        ends the expectations of chains no part saw)."""
        self.policy = policy
        self._part = part
        self._lazy: dict[str, list[ChainExpectation]] | None = {} if lazy else None
        self._states: dict[str, _State] = {}
        self._claims: list[Claim] = []
        self._closed = Partial()
        self._events = 0
        #: Final (count, tip) per chain, filled by :meth:`finish`.
        self.tips: MutableMapping[str, tuple[int, str]] = {}
        for x in policy.expectations:
            if self._mine(x.chain_id):
                if self._lazy is not None:
                    self._lazy.setdefault(x.chain_id, []).append(x)
                else:
                    self._state(x.chain_id).expectations.append(x)

    def _mine(self, chain_id: str) -> bool:
        return self._part is None or partition(chain_id, self._part[1]) == self._part[0]

    def _state(self, chain_id: str) -> _State:
        st = self._states.get(chain_id)
        if st is None:
            st = self._states[chain_id] = _State(chain_id)
            if self._lazy is not None and chain_id in self._lazy:
                st.expectations.extend(self._lazy[chain_id])
                self._closed.expected_seen.add(chain_id)
        return st

    # -- per event ------------------------------------------------------------

    def feed(self, event: AuditEvent, store: str = "") -> bool | None:
        """Verify one event; events of one chain must come in stored order.

        Returns whether the event is well formed (CHAIN-2: ``shape_problem``
        found nothing), None for an event of another worker's partition.
        """
        if not self._mine(event.chain_id):
            return None
        self._events += 1
        st = self._state(event.chain_id)
        ev = check_event(
            st.chain_id, event, store, self.policy.trust, self.policy.skew_ms, st.findings
        )
        if ev is None:
            return False
        if st.held is not None:
            held, st.held = st.held, None
            if self._resolve_held(st, held, ev):
                return True
        self._link(st, ev)
        return True

    def _add(
        self,
        st: _State,
        code: Code,
        where: str,
        message: str,
        extra: dict[str, Any],
        expected: Any = None,
        actual: Any = None,
        source: str | None = None,
    ) -> None:
        add_finding(st.findings, code, where, message, extra, expected, actual, source)

    def _resolve_held(self, st: _State, p: EventView, ev: EventView) -> bool:
        """CHAIN-7 step 2; True when ``ev`` was consumed (swapped neighbours)."""
        n = 0 if st.n is None else st.n
        if (
            ev.seq == n
            and p.seq == n + 1
            and (st.n is None or equal(ev.prev, st.tip))
            and equal(p.prev, ev.hash)
            and not ev.boundary
        ):
            self._add(
                st,
                codes.CHAIN_OUT_OF_ORDER,
                f"chain:{st.chain_id}@{n}",
                f"events {n} and {n + 1} are stored in swapped order",
                ev.extra,
                source=ev.origin,
                expected=str(n),
                actual=str(p.seq),
            )
            self._link(st, ev)
            self._accept(st, p)
            return True
        self._gap(st, p)
        return False

    def _gap(self, st: _State, p: EventView) -> None:
        if st.n is None:
            self._add(
                st,
                codes.CHAIN_BOUNDARY_MISSING,
                p.where,
                "the chain starts mid-way without a boundary event "
                "(its head was removed, or it was moved here without a boundary)",
                p.extra,
                source=p.origin,
                expected="seq 0 or a migration_boundary event",
                actual=str(p.seq),
            )
        else:
            self._add(
                st,
                codes.CHAIN_GAP,
                f"chain:{st.chain_id}@{st.n}",
                f"{p.seq - st.n} event(s) missing before seq {p.seq}",
                {**p.extra, "seq": st.n},
                source=p.origin,
                expected=str(st.n),
                actual=str(p.seq),
            )
        self._accept(st, p)

    def _link(self, st: _State, ev: EventView) -> None:
        """CHAIN-7 step 3 (ordinary events) and CHAIN-12 steps 4–7 (boundaries)."""
        if ev.boundary and (st.n is None or ev.seq >= st.n):
            self._cross(st, ev)
            return
        if st.n is None:
            if ev.seq == 0:
                if ev.alg_known:
                    genesis = genesis_hash(st.chain_id, ev.alg)
                    if not equal(genesis, ev.prev):
                        self._add(
                            st,
                            codes.CHAIN_GENESIS_MISMATCH,
                            ev.where,
                            "the first event does not start from this chain's genesis value",
                            ev.extra,
                            source=ev.origin,
                            expected=genesis,
                            actual=ev.prev,
                        )
                self._accept(st, ev)
            else:
                st.held = ev  # it may be the later half of swapped neighbours
            return
        if st.store and ev.store and ev.store != st.store and not ev.boundary:
            self._add(
                st,
                codes.CHAIN_BOUNDARY_MISSING,
                ev.where,
                "the chain continues in another store without a migration-boundary event",
                ev.extra,
                source=ev.origin,
                expected=f"a migration_boundary event before leaving {st.store}",
                actual=ev.store,
            )
            st.store = ev.store
        n = st.n
        if ev.seq == n:
            if equal(ev.prev, st.tip):
                pass
            elif st.alt is not None and equal(ev.prev, st.alt):
                st.tip = st.alt  # continue on the other branch of a reported fork
            else:
                self._add(
                    st,
                    codes.CHAIN_LINK_BROKEN,
                    ev.where,
                    "previous_hash is not the previous event's hash",
                    ev.extra,
                    source=ev.origin,
                    expected=st.tip,
                    actual=ev.prev,
                )
            self._accept(st, ev)
        elif ev.seq > n:
            st.held = ev
        elif ev.seq == n - 1 and equal(ev.hash, st.tip):
            self._add(
                st,
                codes.CHAIN_DUPLICATE,
                ev.where,
                "the event is stored twice",
                ev.extra,
                source=ev.origin,
                expected=str(n),
                actual=str(ev.seq),
            )
        elif ev.seq == n - 1 and equal(ev.prev, st.tip_prev):
            self._add(
                st,
                codes.CHAIN_FORK,
                ev.where,
                "two events claim the same predecessor",
                ev.extra,
                source=ev.origin,
                expected=st.tip,
                actual=ev.hash,
            )
            st.alt = ev.hash
        else:
            self._add(
                st,
                codes.CHAIN_OUT_OF_ORDER,
                ev.where,
                f"seq {ev.seq} arrives where seq {n} belongs",
                ev.extra,
                source=ev.origin,
                expected=str(n),
                actual=str(ev.seq),
            )

    def _cross(self, st: _State, ev: EventView) -> None:
        """CHAIN-12 steps 4–7: check the boundary against the source, then accept it."""
        f = ev.fields
        if st.n is not None and (
            f["source_count"] != st.n
            or not equal(f["source_tip_hash"], st.tip)
            or f["source_hash_alg"] != st.alg
        ):
            self._add(
                st,
                codes.BOUNDARY_SOURCE_MISMATCH,
                ev.where,
                "the boundary's source count, tip or algorithm is not what the chain holds",
                ev.extra,
                source=ev.origin,
                expected=f"count={st.n} tip={st.tip} alg={st.alg}",
                actual=f"count={f['source_count']} tip={f['source_tip_hash']} "
                f"alg={f['source_hash_alg']}",
            )
        if f["source_chain_id"] != st.chain_id:
            self._claims.append(
                Claim(
                    f["source_chain_id"],
                    f["source_count"],
                    f["source_tip_hash"],
                    st.chain_id,
                    ev.where,
                    ev.extra,
                )
            )
        st.store = ev.store or st.store
        self._accept(st, ev)

    def _accept(self, st: _State, ev: EventView) -> None:
        """CHAIN-7 step 4: order checks on acceptance, expectations, new state."""
        if st.tip_uuid is not None and ev.uuid is not None and ev.uuid <= st.tip_uuid:
            self._add(
                st,
                codes.CHAIN_UUID_BACKWARDS,
                ev.where,
                "event_id is not greater than the previous event's",
                ev.extra,
                source=ev.origin,
                expected=f"greater than {st.tip_uuid:032x}",
                actual=ev.fields["event_id"],
            )
        # CHAIN-7 step 4: an unknown algorithm (already CHAIN_HASH_ALG_UNKNOWN)
        # neither counts as a change nor becomes the segment's algorithm.
        if not ev.boundary and ev.alg_known and st.alg is not None and ev.alg != st.alg:
            self._add(
                st,
                codes.CHAIN_HASH_ALG_CHANGED,
                ev.where,
                "the hash algorithm changes without a migration-boundary event",
                ev.extra,
                source=ev.origin,
                expected=st.alg,
                actual=ev.alg,
            )
        for x in st.expectations:
            if ev.seq == x.count - 1 and not (
                equal(ev.hash, x.tip_hash) and (x.hash_alg is None or x.hash_alg == ev.alg)
            ):
                self._add(
                    st,
                    codes.CHAIN_TIP_MISMATCH,
                    ev.where,
                    f"the event at the {x.kind}'s count differs from its tip: "
                    "the chain was rewritten since",
                    {**ev.extra, "expectation": x.kind},
                    expected=f"{x.tip_hash} ({x.hash_alg or 'any'})",
                    actual=f"{ev.hash} ({ev.alg})",
                    source=x.origin or None,
                )
            if x.kind == MIGRATION and ev.seq == x.count and not ev.boundary:
                self._boundary_missing_after_migration(st, x, ev.where, ev.extra)
        if ev.alg_known:
            st.alg = ev.alg
        st.n = ev.seq + 1
        st.tip, st.tip_prev = ev.hash, ev.prev
        st.alt = None
        if ev.uuid is not None:
            st.tip_uuid = ev.uuid
        st.store = ev.store or st.store

    def _boundary_missing_after_migration(
        self, st: _State, x: ChainExpectation, where: str, extra: dict[str, Any]
    ) -> None:
        """CHAIN-14: the event after the source's last one must be a boundary."""
        self._add(
            st,
            codes.CHAIN_BOUNDARY_MISSING,
            where,
            f"the chain was migrated with {x.count} event(s), but no boundary event follows them",
            {**extra, "expectation": x.kind},
            expected=f"a migration_boundary event at seq {x.count}",
            actual="none" if extra.get("event_id") is None else str(extra["event_id"]),
            source=x.origin or None,
        )

    # -- end of stream --------------------------------------------------------

    def close_chain(self, chain_id: str) -> None:
        """End one chain now: every event of it has been fed. Its findings and
        tip are kept for :meth:`finish_partial`, its state is released, so a
        run that closes each chain as its source delivers it holds one chain
        at a time. A closed chain must not be fed again."""
        st = self._states.pop(chain_id, None)
        if st is not None:
            self._end(st, self._closed, keep_quiet=False)

    def finish_partial(self) -> Partial:
        """End the stream for this worker: held events, expectations; claims stay open."""
        out, self._closed = self._closed, Partial()
        out.events = self._events
        out.expected_seen = set(out.expected_seen)
        for st in self._states.values():
            self._end(st, out)
        self._states = {}
        out.claims = list(self._claims)
        return out

    def _end(self, st: _State, out: Partial, *, keep_quiet: bool = True) -> None:
        """The end of one chain's stream: held events, expectations, into
        ``out``; a chain with no finding is only counted when not ``keep_quiet``."""
        if st.held is not None:
            held, st.held = st.held, None
            self._gap(st, held)
        count = st.n or 0
        for x in st.expectations:
            where = f"chain:{st.chain_id}@{count}"
            extra = {"chain_id": st.chain_id, "seq": count, "event_id": None}
            if count < x.count:
                self._add(
                    st,
                    codes.CHAIN_TRUNCATED,
                    where,
                    f"the chain has {count} event(s), the {x.kind} recorded {x.count}",
                    {**extra, "expectation": x.kind},
                    expected=str(x.count),
                    actual=str(count),
                    source=x.origin or None,
                )
            elif x.kind == MIGRATION and count == x.count:
                self._boundary_missing_after_migration(st, x, where, extra)
            if x.count == 0:  # CHAIN-11: the empty chain's tip is its genesis value
                genesis = genesis_hash(st.chain_id, x.hash_alg or "sha256")
                if not equal(genesis, x.tip_hash):
                    self._add(
                        st,
                        codes.CHAIN_TIP_MISMATCH,
                        f"chain:{st.chain_id}@0",
                        f"the {x.kind} of the empty chain is not its genesis value",
                        {**extra, "seq": 0, "expectation": x.kind},
                        expected=genesis,
                        actual=x.tip_hash,
                        source=x.origin or None,
                    )
        if st.findings or keep_quiet:
            out.findings.add(st.chain_id, st.findings)
        else:
            out.quiet += 1  # kept small: counted only
        if st.n is not None:
            out.tips[st.chain_id] = (st.n, st.tip)

    def finish(self) -> Result:
        """End the stream and return the result (see :func:`resolve`)."""
        partial = self.finish_partial()
        self.tips = partial.tips
        return resolve([partial])


def _split(item: EventInput) -> tuple[AuditEvent, str]:
    if isinstance(item, tuple):
        return item
    return item, ""


def verify_events(events: Iterable[EventInput], policy: ChainPolicy) -> Result:
    """Verify a stream of events (optionally ``(event, store_label)`` pairs) serially."""
    v = ChainVerifier(policy)
    for item in events:
        v.feed(*_split(item))
    return v.finish()


def _worker(
    factory: Callable[[], Iterable[EventInput]], policy: ChainPolicy, index: int, n: int
) -> Partial:
    v = ChainVerifier(policy, (index, n))
    for item in factory():
        v.feed(*_split(item))
    return v.finish_partial()


def verify_parallel(
    factory: Callable[[], Iterable[EventInput]], policy: ChainPolicy, workers: int
) -> Result:
    """CHAIN-8: verify with ``workers`` processes, each reading the stream from
    ``factory`` (picklable) and keeping only its partition's chains."""
    if workers < 1:
        raise ValueError("workers must be at least 1")
    args = [(factory, policy, i, workers) for i in range(workers)]
    with multiprocessing.get_context("fork").Pool(workers) as pool:
        parts = pool.starmap(_worker, args)
    return resolve(parts)
