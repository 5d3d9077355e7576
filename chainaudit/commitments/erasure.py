"""Plan a lawful erasure of one key: commitments, the signed receipt, the destroyed record.

``chainaudit keys destroy`` (COMMIT-9) reads the dialogue's records and
lifecycle chain from the store and asks :func:`plan_erasure` what to write.
The plan is pure (time is a parameter, ids are derived from the inputs, no
I/O), so a re-run after an interruption plans exactly what is still
missing and nothing twice:

1. if the dialogue was never committed (legacy data), a ``put`` commitment
   of every record as it is stored now (COMMIT-4);
2. the erasure receipt, signed by the erasure authority, at the chain's tip
   (COMMIT-7), when a key is given and no receipt for the key exists;
3. the destroyed wrapped-DEK record (KEY-6);
4. its ``put`` commitment, when the dialogue is committed.

A dialogue whose records do not match their latest commitments is refused
(:class:`ErasureRefused`): an erasure must not launder a record that was
tampered with into one "covered before the receipt". Specification:
``docs/commitments.md`` (COMMIT-4, COMMIT-7, COMMIT-9).
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from chainaudit.chain.events import (
    COMMIT_EVENT_TYPE,
    RECEIPT_EVENT_TYPE,
    chain_event_from_entity,
    genesis_hash,
    lifecycle_chain_id,
    lifecycle_record,
    seal,
    timestamp_ms,
)
from chainaudit.chain.uuid7 import make as make_uuid7
from chainaudit.commitments.events import commit_fields, committable, item_digest, receipt_fields
from chainaudit.keys.hierarchy import destroy, parse_key_id
from chainaudit.primitives.crypto import equal
from chainaudit.records.address import unescape_component
from chainaudit.records.digest import record_key
from chainaudit.records.model import AuditEvent, EntityRecord, KeyState, Record, WrappedDek


class ErasureRefused(ValueError):
    """The dialogue is not in a state an erasure may certify."""


@dataclass
class ErasurePlan:
    """What to write, in this order: ``before`` (commitments, receipt), then the
    destroyed record (``destroyed``, None when already destroyed), then ``after``."""

    key_id: str
    destroyed_at: str
    record: WrappedDek
    destroyed: WrappedDek | None = None
    before: list[EntityRecord] = field(default_factory=list)
    after: list[EntityRecord] = field(default_factory=list)
    receipt_written: bool = False
    receipt_present: bool = False
    committed_before: int = 0


class _Chain:
    """The dialogue's lifecycle chain tip, advanced as the plan appends."""

    def __init__(self, dialogue: str, events: list[dict[str, Any]]) -> None:
        self.dialogue = dialogue
        self.chain_id = lifecycle_chain_id(dialogue)
        top = max(events, key=lambda f: f["seq"], default=None)
        self.count = top["seq"] + 1 if top else 0
        self.alg = str(top["hash_alg"]) if top else "sha256"
        self.tip = str(top["event_hash"]) if top else genesis_hash(self.chain_id, self.alg)
        self.last_ms = max((timestamp_ms(f["timestamp"]) or 0 for f in events), default=0)

    def next_stamp(self, at_ms: int) -> tuple[int, str]:
        """The next event time: ``at_ms``, or just after the chain's last event."""
        ms = max(at_ms, self.last_ms + 1)
        self.last_ms = ms
        secs, milli = divmod(ms, 1000)
        y, mo, d, h, mi, s = time.gmtime(secs)[:6]
        return ms, f"{y:04d}-{mo:02d}-{d:02d}T{h:02d}:{mi:02d}:{s:02d}.{milli:03d}Z"

    def uuid(self, ms: int, label: str) -> str:
        seed = hashlib.sha256(f"{self.chain_id}\n{self.count}\n{label}".encode()).digest()
        r = int.from_bytes(seed[:10], "big")
        return make_uuid7(ms, r & 0xFFF, (r >> 12) & ((1 << 62) - 1))

    def append(self, fields: dict[str, Any]) -> EntityRecord:
        fields.update({"seq": self.count, "hash_alg": self.alg, "previous_hash": self.tip})
        sealed = seal(fields)
        self.count += 1
        self.tip = sealed["event_hash"]
        return lifecycle_record(self.dialogue, sealed)


def plan_erasure(
    key_id: str,
    items: Iterable[Record],
    at: str,
    *,
    erasure_key: Ed25519PrivateKey | None = None,
    principal: str = "svc:chainaudit",
) -> ErasurePlan:
    """COMMIT-9: what ``keys destroy`` writes for ``key_id``, given every record of
    its dialogue (other records are ignored) and the destruction time ``at``.

    Raises :class:`ErasureRefused` when the key record is absent or a record
    of a committed dialogue does not match its latest commitment.
    """
    dialogue, version = parse_key_id(key_id)
    at_ms = timestamp_ms(at)
    if at_ms is None:
        raise ValueError(f"{at!r} is not an RFC 3339 UTC timestamp")
    records: list[Record] = []
    events: list[dict[str, Any]] = []
    dek: WrappedDek | None = None
    for item in items:
        if isinstance(item, WrappedDek) and item.dialogue == dialogue:
            records.append(item)
            if item.version == version:
                dek = item
        elif isinstance(item, EntityRecord) and item.address.dialogue == dialogue:
            if item.address.entity_type.value == "event":
                ev = chain_event_from_entity(item)
                if isinstance(ev, AuditEvent) and isinstance(ev.fields.get("seq"), int):
                    events.append(dict(ev.fields))
            elif committable(item):
                records.append(item)
    if dek is None:
        raise ErasureRefused(f"no wrapped-DEK record {key_id} in the store")
    when = dek.destroyed_at or at
    plan = ErasurePlan(key_id, when, dek)
    chain = _Chain(dialogue, events)
    events.sort(key=lambda f: (f["seq"], str(f.get("event_id"))))
    latest: dict[str, dict[str, Any]] = {}
    for f in events:
        if f.get("event_type") == COMMIT_EVENT_TYPE and isinstance(f.get("record_key"), str):
            latest[f["record_key"]] = f
        elif f.get("event_type") == RECEIPT_EVENT_TYPE and f.get("erased_key_id") == key_id:
            plan.receipt_present = True
    committed = bool(latest)
    if committed:
        for r in records:
            k = record_key(r)
            if k == key_id:
                continue  # may already be destroyed by an interrupted run
            c = latest.get(k)
            if c is None or c.get("record_op") != "put" or not _matches(r, c):
                raise ErasureRefused(
                    f"{k} does not match its latest commitment in {chain.chain_id}: run "
                    "`chainaudit verify` and resolve that before erasing the dialogue "
                    "(a receipt would certify the tampered state)"
                )
    else:
        for r in sorted(records, key=lambda r: record_key(r).encode("utf-8")):
            ms, stamp = chain.next_stamp(at_ms)
            plan.before.append(chain.append(_commit(r, chain, ms, stamp, principal)))
            plan.committed_before += 1
        committed = bool(records)
    if erasure_key is not None and not plan.receipt_present:
        ms, stamp = chain.next_stamp(at_ms)
        fields = receipt_fields(
            erasure_key, chain.chain_id, key=key_id, destroyed_at=when, tip_count=chain.count,
            tip_hash=chain.tip, event_id=chain.uuid(ms, f"erasure_receipt\n{key_id}\n{when}"),
            timestamp=stamp, hash_alg=chain.alg, principal=principal,
            entity_id=unescape_component(dialogue),
        )  # fmt: skip
        receipt = seal(fields)
        chain.count += 1
        chain.tip = receipt["event_hash"]
        plan.before.append(lifecycle_record(dialogue, receipt))
        plan.receipt_written = True
    final = dek
    if dek.state is not KeyState.DESTROYED:
        plan.destroyed = final = destroy(dek, when)
    c = latest.get(key_id)
    if committed and (c is None or not _matches(final, c)):
        ms, stamp = chain.next_stamp(at_ms)
        plan.after.append(chain.append(_commit(final, chain, ms, stamp, principal)))
    return plan


def _matches(r: Record, c: dict[str, Any]) -> bool:
    alg = c.get("hash_alg")
    digest = c.get("record_digest")
    if alg not in ("sha256", "blake3") or not isinstance(digest, str):
        return False
    return equal(item_digest(r, str(alg)), digest)


def _commit(r: Record, chain: _Chain, ms: int, stamp: str, principal: str) -> dict[str, Any]:
    fields = commit_fields(r, alg=chain.alg, timestamp=stamp, principal=principal)
    fields["event_id"] = chain.uuid(ms, f"record_commit\n{fields['record_key']}\n{stamp}")
    return fields


__all__ = ["ErasurePlan", "ErasureRefused", "plan_erasure"]
