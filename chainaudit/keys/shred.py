"""Crypto-shredding as a recorded act (KEY-6, CHAIN-9).

Destroying a dialogue's key is how a dialogue is erased: the records stay,
can no longer be decrypted, and every chain still verifies. The act has two
parts that must both be visible to an auditor: the wrapped-DEK record turns
``destroyed`` (key material removed), and the crypto audit log gains a
``destroy_dek`` event naming the key. This module builds both; it is pure
(time is a parameter, no I/O) and deterministic, so a re-run after an
interruption produces the same record and the same event and the store
reports them unchanged.
"""

from __future__ import annotations

import hashlib

from chainaudit.chain.events import DEFAULT_HASH_ALG, genesis_hash, seal, timestamp_ms
from chainaudit.chain.uuid7 import make as make_uuid7
from chainaudit.keys.hierarchy import destroy
from chainaudit.migration.manifest import ChainTip
from chainaudit.records.model import AuditEvent, KeyState, WrappedDek


def destruction_event(
    key_id: str, chain_id: str, tip: ChainTip | None, at: str, principal: str
) -> AuditEvent:
    """The ``destroy_dek`` event continuing audit chain ``chain_id`` after ``tip``.

    Its event, trace and span ids derive from (chain, key id, time), so the
    same destruction always yields the same event.
    """
    ms = timestamp_ms(at)
    if ms is None:
        raise ValueError(f"{at!r} is not an RFC 3339 UTC timestamp")
    seed = hashlib.sha256(f"destroy_dek\n{chain_id}\n{key_id}\n{at}".encode()).digest()
    r = int.from_bytes(seed[:10], "big")
    alg = tip.hash_alg if tip is not None and tip.hash_alg else DEFAULT_HASH_ALG
    count = tip.count if tip is not None else 0
    previous = tip.tip if tip is not None and tip.tip else genesis_hash(chain_id, alg)
    fields = seal(
        {
            "event_id": make_uuid7(ms, r & 0xFFF, (r >> 12) & ((1 << 62) - 1)),
            "seq": count,
            "timestamp": at,
            "hash_alg": alg,
            "previous_hash": previous,
            "trace_id": seed[10:26].hex(),
            "span_id": hashlib.sha256(seed).hexdigest()[:16],
            "operation": "destroy_dek",
            "key_id": key_id,
            "principal": principal,
            "outcome": "success",
        }
    )
    return AuditEvent(chain_id, fields)


def destroyed_record(record: WrappedDek, at: str) -> WrappedDek:
    """The record after shredding; an already destroyed record is returned as is."""
    if record.state is KeyState.DESTROYED:
        return record
    return destroy(record, at)
