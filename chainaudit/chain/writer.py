"""Writing hash chains: append events, commitments, receipts, boundaries, checkpoints.

A producer (the audited service, another backend, a test) appends events to
a chain with :class:`ChainWriter`, which keeps the chain's tip and fills in
what CHAIN-2..4 derive from it: ``seq``, ``hash_alg``, ``previous_hash``
(the genesis value bound to the chain id for the first event) and
``event_hash``. Record commitments, erasure receipts, migration boundaries
and checkpoints are appended or signed at the tip through the very
functions the verifier checks them with (:mod:`chainaudit.chain.events`,
:mod:`chainaudit.commitments.events`, :mod:`chainaudit.chain.boundary`,
:mod:`chainaudit.chain.checkpoint`), and every event is checked by the verifier's
own CHAIN-2 and CHAIN-6 rules before it is returned, so a writer built on
this module is conformant by construction: a field the spec does not allow
is a ``ValueError`` here, not a finding later. Specification:
``docs/chain.md``, ``docs/commitments.md``; guide: ``docs/api.md``.

Pure except for :func:`new_event_id`, which draws its random bits from the
OS CSPRNG (pass ``event_id`` to stay deterministic). No clock: every
timestamp is a parameter.

>>> w = ChainWriter("crypto-audit")
>>> e = w.append({"timestamp": "2026-03-02T09:00:00.000Z", "trace_id": "t", "span_id": "s",
...               "operation": "encrypt", "key_id": "dek#d-1#1", "principal": "svc",
...               "outcome": "success"})
>>> e["seq"], e["previous_hash"] == genesis_hash("crypto-audit"), w.count, w.tip == e["event_hash"]
(0, True, 1, True)
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Mapping
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from chainaudit.chain import uuid7
from chainaudit.chain.boundary import make_boundary
from chainaudit.chain.checkpoint import make_checkpoint
from chainaudit.chain.events import (
    DEFAULT_HASH_ALG,
    HASH_ALGS,
    LIFECYCLE_PREFIX,
    LIFECYCLE_SUFFIX,
    chain_event_from_entity,
    genesis_hash,
    is_lifecycle,
    lifecycle_record,
    seal,
    shape_problem,
    timestamp_ms,
)
from chainaudit.chain.tips import ChainTally, chain_event_of
from chainaudit.chain.verify import DEFAULT_SKEW_MS
from chainaudit.commitments.events import commit_fields, receipt_fields
from chainaudit.records.address import unescape_component
from chainaudit.records.digest import record_key
from chainaudit.records.model import AuditEvent, EntityRecord, Record

#: Fields the writer derives from the chain's tip (CHAIN-2..4).
DERIVED_FIELDS = ("seq", "hash_alg", "previous_hash", "event_hash")


def new_event_id(timestamp: str, after: str | None = None) -> str:
    """A fresh UUIDv7 (CHAIN-6) for an event at ``timestamp``, greater than ``after``.

    Its time is the timestamp's millisecond value (so no skew), its 74
    other bits random; when ``after`` (the chain's last id) is not smaller,
    the id continues from it instead (same millisecond, next value), so ids
    strictly increase along a chain as CHAIN-6 requires.
    """
    ms = timestamp_ms(timestamp)
    if ms is None:
        raise ValueError(f"{timestamp!r} is not a CHAIN-2 timestamp")
    rand = secrets.randbits(74)
    candidate = uuid7.make(ms, rand >> 62, rand & ((1 << 62) - 1))
    last = uuid7.parse(after) if after is not None else None
    value = uuid7.parse(candidate)
    if last is None or (value is not None and value > last):
        return candidate
    last_ms, rand_a, rand_b = last >> 80, (last >> 64) & 0xFFF, last & ((1 << 62) - 1)
    if rand_b < (1 << 62) - 1:
        return uuid7.make(last_ms, rand_a, rand_b + 1)
    if rand_a < 0xFFF:
        return uuid7.make(last_ms, rand_a + 1, 0)
    return uuid7.make(last_ms + 1, 0, 0)


class ChainWriter:
    """Appends events to one chain, starting at genesis or at a known tip.

    ``count`` is the number of events already in the chain (the next
    ``seq``), ``tip`` the last one's ``event_hash`` (the genesis value when
    ``count`` is 0), ``hash_alg`` the algorithm of the next event (CHAIN-3;
    it changes only at a migration boundary, :meth:`boundary`).
    ``last_event_id`` is the last event's id, so new ids are greater.
    """

    def __init__(
        self,
        chain_id: str,
        *,
        hash_alg: str = DEFAULT_HASH_ALG,
        count: int = 0,
        tip: str | None = None,
        last_event_id: str | None = None,
    ) -> None:
        if not isinstance(chain_id, str) or not chain_id:
            raise ValueError("a chain id is a non-empty string")
        if hash_alg not in HASH_ALGS:
            raise ValueError(f"hash_alg {hash_alg!r} is not one of {', '.join(HASH_ALGS)}")
        if count < 0:
            raise ValueError("count must not be negative")
        if tip is None:
            if count:
                raise ValueError("a chain that has events has a tip: pass tip=")
            tip = genesis_hash(chain_id, hash_alg)
        self.chain_id = chain_id
        self.hash_alg = hash_alg
        self.count = count
        self.tip = tip
        self.last_event_id = last_event_id
        self._dialogue: str | None = None
        if is_lifecycle(chain_id):
            if not chain_id.endswith(LIFECYCLE_SUFFIX):
                raise ValueError(f"{chain_id!r} is not dialogue:{{D}}/events (CHAIN-1)")
            self._dialogue = chain_id[len(LIFECYCLE_PREFIX) : -len(LIFECYCLE_SUFFIX)]
            unescape_component(self._dialogue)

    def __repr__(self) -> str:
        return f"ChainWriter({self.chain_id!r}, count={self.count}, hash_alg={self.hash_alg!r})"

    @classmethod
    def for_dialogue(cls, dialogue: str, *, hash_alg: str = DEFAULT_HASH_ALG) -> ChainWriter:
        """A new lifecycle chain of ``dialogue`` (the escaped id, as in addresses)."""
        return cls(f"{LIFECYCLE_PREFIX}{dialogue}{LIFECYCLE_SUFFIX}", hash_alg=hash_alg)

    @classmethod
    def resume(
        cls, chain_id: str, events: Iterable[Mapping[str, Any] | AuditEvent | EntityRecord]
    ) -> ChainWriter:
        """Continue a stored chain: its event with the highest ``seq`` is the tip.

        ``events`` are event fields, audit events, or lifecycle ``event``
        entities (CHAIN-5) as read from a store; an empty chain starts at genesis.
        """
        top: Mapping[str, Any] | None = None
        for item in events:
            fields = _fields(item)
            seq = fields.get("seq")
            if isinstance(seq, int) and (top is None or seq > top["seq"]):
                top = fields
        if top is None:
            return cls(chain_id)
        return cls(
            chain_id,
            hash_alg=str(top["hash_alg"]),
            count=int(top["seq"]) + 1,
            tip=str(top["event_hash"]),
            last_event_id=str(top["event_id"]),
        )

    @property
    def dialogue(self) -> str:
        """The escaped dialogue id of a lifecycle chain (ValueError for an audit chain)."""
        if self._dialogue is None:
            raise ValueError(f"{self.chain_id!r} is not a lifecycle chain")
        return self._dialogue

    # -- events -----------------------------------------------------------------

    def append(self, fields: Mapping[str, Any]) -> dict[str, Any]:
        """Append one event: ``fields`` without the derived ones (``seq``,
        ``hash_alg``, ``previous_hash``, ``event_hash``; given ones must agree
        with the tip). ``timestamp`` is required; ``event_id`` defaults to
        :func:`new_event_id`. Returns the sealed event fields (CHAIN-3).

        Raises ``ValueError`` when the event would not be well formed
        (CHAIN-2, CHAIN-5) or its id would not increase (CHAIN-6).
        """
        out = {k: v for k, v in fields.items() if k != "event_hash"}
        for name, value in (
            ("seq", self.count),
            ("hash_alg", self.hash_alg),
            ("previous_hash", self.tip),
        ):
            if name in out and out[name] != value:
                raise ValueError(f"{name} {out[name]!r} is not the chain's next {value!r}")
            out[name] = value
        timestamp = out.get("timestamp")
        if not isinstance(timestamp, str):
            raise ValueError("an event needs a timestamp (a CHAIN-2 timestamp string)")
        if "event_id" not in out:
            out["event_id"] = new_event_id(timestamp, self.last_event_id)
        sealed = seal(out)
        self._check(sealed)
        self.count += 1
        self.tip = sealed["event_hash"]
        self.last_event_id = sealed["event_id"]
        return sealed

    def _check(self, fields: Mapping[str, Any]) -> None:
        problem = shape_problem(self.chain_id, fields)
        if problem:
            raise ValueError(f"not a well-formed event of {self.chain_id!r}: {problem}")
        value = uuid7.parse(fields["event_id"])
        if value is None:
            raise ValueError(f"event_id {fields['event_id']!r} is not a canonical UUIDv7")
        last = uuid7.parse(self.last_event_id)
        if last is not None and value <= last:
            raise ValueError(f"event_id {fields['event_id']!r} does not follow the chain's last id")
        ms = timestamp_ms(fields["timestamp"])
        assert ms is not None  # shape_problem checked the timestamp
        if abs(ms - uuid7.unix_ms(value)) > DEFAULT_SKEW_MS:
            raise ValueError("the event id's time and the timestamp are more than 5 minutes apart")

    def append_event(self, fields: Mapping[str, Any]) -> AuditEvent:
        """:meth:`append` to an audit-log chain, as the stored :class:`AuditEvent`."""
        if self._dialogue is not None:
            raise ValueError(f"{self.chain_id!r} is a lifecycle chain: use append_lifecycle")
        return AuditEvent(self.chain_id, self.append(fields))

    def append_lifecycle(self, fields: Mapping[str, Any]) -> EntityRecord:
        """:meth:`append` to a lifecycle chain, as the stored ``event`` entity
        (CHAIN-5: ``entity_type``, ``entity_id`` and ``timestamp`` form its address)."""
        dialogue = self.dialogue  # an audit-log chain: ValueError before anything is appended
        return lifecycle_record(dialogue, self.append(fields))

    def record(self, fields: Mapping[str, Any]) -> Record:
        """:meth:`append_event` or :meth:`append_lifecycle`, by the chain's kind."""
        if self._dialogue is None:
            return self.append_event(fields)
        return self.append_lifecycle(fields)

    # -- commitments and receipts (docs/commitments.md) -------------------------

    def commit(
        self,
        record: Record,
        *,
        timestamp: str,
        principal: str,
        op: str = "put",
        event_id: str | None = None,
    ) -> EntityRecord:
        """COMMIT-4: commit a record version just written (``op`` put) or
        deleted (``op`` delete) in this lifecycle chain, with the digest the
        verifier recomputes (:func:`chainaudit.commitments.events.commit_fields`)."""
        _ = self.dialogue  # an audit-log chain holds no commitments
        fields = commit_fields(
            record, op=op, alg=self.hash_alg, timestamp=timestamp, principal=principal
        )
        if event_id is not None:
            fields["event_id"] = event_id
        return self.append_lifecycle(fields)

    def erasure_receipt(
        self,
        authority: Ed25519PrivateKey,
        *,
        key_id: str,
        destroyed_at: str,
        timestamp: str,
        principal: str,
        event_id: str | None = None,
    ) -> EntityRecord:
        """COMMIT-7: the erasure authority's signed receipt for ``key_id``, at this
        lifecycle chain's tip. Append it before the destroyed DEK record's commitment."""
        fields = receipt_fields(
            authority,
            self.chain_id,
            key=key_id,
            destroyed_at=destroyed_at,
            tip_count=self.count,
            tip_hash=self.tip,
            event_id=event_id or new_event_id(timestamp, self.last_event_id),
            timestamp=timestamp,
            hash_alg=self.hash_alg,
            principal=principal,
            entity_id=unescape_component(self.dialogue),
        )
        return self.append_lifecycle(fields)

    # -- boundaries and checkpoints (CHAIN-11, CHAIN-12) ------------------------

    def boundary(
        self,
        signer: Ed25519PrivateKey,
        *,
        timestamp: str,
        source_backend: str,
        target_backend: str,
        hash_alg: str | None = None,
        target_chain_id: str | None = None,
        manifest_digest: str | None = None,
        event_id: str | None = None,
    ) -> Record:
        """CHAIN-12: a signed migration boundary continuing this chain in another
        store; the chain continues under ``hash_alg`` (default: unchanged)."""
        alg = hash_alg or self.hash_alg
        extra = None
        if self._dialogue is not None:
            extra = {"entity_type": "meta", "entity_id": unescape_component(self._dialogue)}
        fields = make_boundary(
            signer,
            event_id=event_id or new_event_id(timestamp, self.last_event_id),
            timestamp=timestamp,
            hash_alg=alg,
            source_backend=source_backend,
            source_chain_id=self.chain_id,
            source_count=self.count,
            source_tip_hash=self.tip,
            source_hash_alg=self.hash_alg,
            target_backend=target_backend,
            target_chain_id=target_chain_id or self.chain_id,
            manifest_digest=manifest_digest,
            extra=extra,
        )
        previous_alg = self.hash_alg
        self.hash_alg = alg
        try:
            return self.record(fields)
        except ValueError:
            self.hash_alg = previous_alg
            raise

    def checkpoint(self, signer: Ed25519PrivateKey, time: str) -> dict[str, Any]:
        """CHAIN-11: a checkpoint of the chain as it is now, signed by ``signer``."""
        return make_checkpoint(signer, self.chain_id, self.count, self.tip, self.hash_alg, time)


def _fields(item: Mapping[str, Any] | AuditEvent | EntityRecord) -> Mapping[str, Any]:
    if isinstance(item, AuditEvent):
        return item.fields
    if isinstance(item, EntityRecord):
        ev = chain_event_from_entity(item)
        if not isinstance(ev, AuditEvent):
            raise ValueError(f"{item.address} is not a well-formed lifecycle event: {ev}")
        return ev.fields
    return item


def checkpoint_all(
    records: Iterable[Record], signer: Ed25519PrivateKey, time: str
) -> list[dict[str, Any]]:
    """CHAIN-11: a checkpoint of every chain in ``records`` at its tip (the
    event with the highest ``seq``, MAN-3.2), in chain-id order: a bundle for
    ``--checkpoint`` or ``verify(checkpoints=...)``."""
    tally = ChainTally()
    for record in records:
        ev = chain_event_of(record, record_key(record))
        if ev is not None:
            tally.add(ev)
    out = []
    for chain_id, tip in sorted(tally.tips().items()):
        if tip.tip is None or tip.hash_alg is None:
            raise ValueError(f"chain {chain_id!r} has no well-formed last event to checkpoint")
        out.append(make_checkpoint(signer, chain_id, tip.count, tip.tip, tip.hash_alg, time))
    return out


__all__ = ["DERIVED_FIELDS", "ChainWriter", "checkpoint_all", "new_event_id"]
