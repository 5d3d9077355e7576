"""Per-event checks of the chain verifier: everything that needs only the event (CHAIN-7 step 1).

Shape (CHAIN-2), hash algorithm and ``event_hash`` (CHAIN-3), UUIDv7 form
and clock skew (CHAIN-6), and a boundary's own checks (CHAIN-12 steps 1–3).
Stateless and pure, so they are the same in every worker; the stateful
linkage checks live in :mod:`chainaudit.chain.verify`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from chainaudit.chain import uuid7
from chainaudit.chain.boundary import check_boundary
from chainaudit.chain.events import (
    HASH_ALGS,
    event_hash_well_formed,
    is_boundary,
    shape_problem,
    timestamp_ms,
)
from chainaudit.findings import Code, Finding, codes
from chainaudit.keys.signing import TrustStore
from chainaudit.primitives.crypto import equal
from chainaudit.records.model import AuditEvent


class FindingSink(Protocol):
    """Where a check appends its findings: a list, or a chain's
    :class:`~chainaudit.spilllist.SpillList`."""

    def append(self, finding: Finding, /) -> None: ...

    def extend(self, findings: Iterable[Finding], /) -> None: ...


@dataclass(slots=True)
class EventView:
    """A well-formed event with the values linkage needs, and where to report it."""

    fields: Mapping[str, Any]
    seq: int
    hash: str
    prev: str
    uuid: int | None
    alg: str
    alg_known: bool
    boundary: bool
    store: str
    chain_id: str
    origin: str | None = None

    @property
    def where(self) -> str:
        """Where findings about the event are reported: ``chain:ID@SEQ``."""
        return f"chain:{self.chain_id}@{self.seq}"

    @property
    def extra(self) -> dict[str, Any]:
        """The ``extra`` of findings about the event (a new dict each time)."""
        return {"chain_id": self.chain_id, "seq": self.seq, "event_id": self.fields.get("event_id")}


def add_finding(
    out: FindingSink,
    code: Code,
    where: str,
    message: str,
    extra: dict[str, Any],
    expected: Any = None,
    actual: Any = None,
    source: str | None = None,
) -> None:
    out.append(
        Finding(
            code,
            where,
            message,
            expected=None if expected is None else str(expected),
            actual=None if actual is None else str(actual),
            source=source,
            extra=extra,
        )
    )


def check_event(
    chain_id: str,
    event: AuditEvent,
    store: str,
    trust: TrustStore,
    skew_ms: int,
    out: FindingSink,
) -> EventView | None:
    """CHAIN-7 step 1: append the event's own findings to ``out``; return the
    view linkage needs, or None when the event is malformed and cannot be linked."""
    f = event.fields
    src = event.origin or None
    problem = shape_problem(chain_id, f)
    if problem:
        where, extra = _site(chain_id, f)
        add_finding(out, codes.CHAIN_EVENT_MALFORMED, where, problem, extra, source=src)
        return None
    # Well formed: seq is an integer. Where and extra are made only for a finding.
    alg = f["hash_alg"]
    known = alg in HASH_ALGS
    if not known:
        where, extra = _site(chain_id, f)
        add_finding(
            out,
            codes.CHAIN_HASH_ALG_UNKNOWN,
            where,
            "hash_alg is not one version 1 allows; the hash cannot be checked",
            extra,
            expected=" or ".join(HASH_ALGS),
            actual=alg,
            source=src,
        )
    else:
        computed = event_hash_well_formed(f)
        if not equal(computed, f["event_hash"]):
            where, extra = _site(chain_id, f)
            add_finding(
                out,
                codes.EVENT_HASH_MISMATCH,
                where,
                "the event's fields do not hash to its event_hash (edited)",
                extra,
                expected=computed,
                actual=f["event_hash"],
                source=src,
            )
    uid = uuid7.parse(f["event_id"])
    if uid is None:
        where, extra = _site(chain_id, f)
        add_finding(
            out,
            codes.CHAIN_UUID_INVALID,
            where,
            "event_id is not a canonical lowercase UUIDv7",
            extra,
            actual=f["event_id"],
            source=src,
        )
    else:
        ts = timestamp_ms(f["timestamp"])
        assert ts is not None  # shape_problem checked it
        if abs(ts - uuid7.unix_ms(uid)) > skew_ms:
            where, extra = _site(chain_id, f)
            add_finding(
                out,
                codes.CHAIN_TIMESTAMP_SKEW,
                where,
                f"timestamp and event_id time differ by {abs(ts - uuid7.unix_ms(uid))} ms, "
                f"over the tolerance of {skew_ms} ms",
                extra,
                expected=str(uuid7.unix_ms(uid)),
                actual=str(ts),
                source=src,
            )
    boundary = is_boundary(f)
    if boundary:
        where, extra = _site(chain_id, f)
        out.extend(check_boundary(chain_id, f, trust, where, extra))
    return EventView(
        f,
        f["seq"],
        f["event_hash"],
        f["previous_hash"],
        uid,
        alg,
        known,
        boundary,
        store,
        chain_id,
        src,
    )


def _site(chain_id: str, f: Mapping[str, Any]) -> tuple[str, dict[str, Any]]:
    """``where`` and ``extra`` of a finding about an event (CHAIN-13)."""
    seq = f.get("seq")
    if isinstance(seq, bool) or not isinstance(seq, int):
        seq = None  # CHAIN-13: an unreadable seq is reported as null
    where = f"chain:{chain_id}" if seq is None else f"chain:{chain_id}@{seq}"
    return where, {"chain_id": chain_id, "seq": seq, "event_id": f.get("event_id")}
