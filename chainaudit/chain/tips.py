"""Chain tips as the manifest records them (MAN-3.2) and the gate compares them (MAN-4.2).

A chain's tip is the ``event_hash`` of its event with the highest ``seq``
(CHAIN-2), and its count the number of its events. Both chain kinds are
seen here the same way: audit events carry their fields directly, and
lifecycle ``event`` entities carry ``seq``, ``event_hash``, ``hash_alg``
and the boundary fields as cleartext attributes (CHAIN-5). Memory: one
entry per chain. Pure.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from chainaudit.chain.events import lifecycle_chain_id
from chainaudit.records.model import AuditEvent, EntityRecord, Record

#: An ``N`` attribute read as an integer field (ASCII digits; "1.0" is not one).
_INTEGER = re.compile(r"-?[0-9]+\Z")


@dataclass(frozen=True, slots=True)
class ChainTip:
    """A chain's event count and last ``event_hash`` (None when it has no events)."""

    count: int
    tip: str | None
    hash_alg: str | None

    def to_json(self) -> dict[str, Any]:
        return {"count": self.count, "tip": self.tip, "hash_alg": self.hash_alg}


@dataclass(frozen=True, slots=True)
class ChainEvent:
    """The chain-relevant fields of one stored event, wherever it is stored."""

    chain_id: str
    seq: int | None
    fields: Mapping[str, Any]
    record_key: str


def chain_event_of(record: Record, key: str) -> ChainEvent | None:
    """The record as a chain event, if it is one (CHAIN-1, CHAIN-5).

    Audit events belong to their ``chain_id``; lifecycle ``event`` entities to
    ``dialogue:{D}/events`` with their cleartext ``seq``, ``event_hash``,
    ``hash_alg`` and boundary attributes. Fields that are missing or
    mistyped are left out; the chain verifier reports them.
    """
    if isinstance(record, AuditEvent):
        seq = record.fields.get("seq")
        return ChainEvent(
            record.chain_id, seq if isinstance(seq, int) else None, record.fields, key
        )
    if isinstance(record, EntityRecord) and record.address.entity_type.value == "event":
        fields: dict[str, Any] = {}
        for name, av in record.attributes.items():
            if isinstance(av, dict) and len(av) == 1:
                ((tag, val),) = av.items()
                if tag == "S":
                    fields[name] = val
                elif tag == "N" and isinstance(val, str) and _INTEGER.match(val):
                    fields[name] = int(val)
        seq = fields.get("seq")
        chain_id = lifecycle_chain_id(record.address.dialogue)
        return ChainEvent(chain_id, seq if isinstance(seq, int) else None, fields, key)
    return None


class ChainTally:
    """Counts events per chain and keeps the tip: the ``event_hash`` of the
    event with the highest ``seq`` (CHAIN-2). Memory: one entry per chain."""

    def __init__(self) -> None:
        self._count: Counter[str] = Counter()
        self._top: dict[str, tuple[int, str | None, str | None]] = {}

    def add(self, ev: ChainEvent) -> None:
        self._count[ev.chain_id] += 1
        if ev.seq is None:
            return
        best = self._top.get(ev.chain_id)
        if best is None or ev.seq > best[0]:
            h, alg = ev.fields.get("event_hash"), ev.fields.get("hash_alg")
            self._top[ev.chain_id] = (
                ev.seq,
                h if isinstance(h, str) else None,
                alg if isinstance(alg, str) else None,
            )

    def tips(self) -> dict[str, ChainTip]:
        out = {}
        for chain_id, n in self._count.items():
            _, tip, alg = self._top.get(chain_id, (0, None, None))
            out[chain_id] = ChainTip(n, tip, alg)
        return out
