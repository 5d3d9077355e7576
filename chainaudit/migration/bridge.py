"""Migration-boundary records for chains moved to another store (CHAIN-12).

After an import, every chain that arrived in the target is continued by a
signed boundary event that names the source chain's count and tip. This
module builds those records from the imported records; it is pure (time
and the signing key are parameters).

Idempotency: the boundary of a chain is a function of (chain, count, tip,
time, signer, manifest digest) only — the event id is derived from them and
Ed25519 signatures are deterministic — so re-running an import with the same
manifest (whose ``created_at`` is the default boundary time) writes the same
bytes and the store reports them unchanged instead of forking the chain.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from chainaudit.chain.boundary import make_boundary
from chainaudit.chain.events import (
    LIFECYCLE_PREFIX,
    LIFECYCLE_SUFFIX,
    is_lifecycle,
    lifecycle_record,
    timestamp_ms,
)
from chainaudit.chain.uuid7 import make as make_uuid7
from chainaudit.migration.manifest import ChainTally, ChainTip, chain_event_of
from chainaudit.records.address import unescape_component
from chainaudit.records.digest import record_key
from chainaudit.records.model import AuditEvent, Record


def chain_tips(records: Iterable[Record]) -> dict[str, ChainTip]:
    """Count and tip of every chain among ``records`` (memory: one entry per chain)."""
    tally = ChainTally()
    for record in records:
        ev = chain_event_of(record, record_key(record))
        if ev is not None:
            tally.add(ev)
    return tally.tips()


def boundary_records(
    tips: dict[str, ChainTip],
    signer: Ed25519PrivateKey,
    *,
    time: str,
    source_backend: str,
    target_backend: str,
    hash_alg: str | None = None,
    manifest_digest: str | None = None,
) -> Iterator[Record]:
    """One signed boundary record per chain with at least one event, in chain id order.

    ``hash_alg`` switches the target segment's algorithm (None keeps the
    source's). ``time`` is the boundary's timestamp (RFC 3339 UTC).
    """
    ms = timestamp_ms(time)
    if ms is None:
        raise ValueError(f"boundary time {time!r} is not an RFC 3339 UTC timestamp")
    for chain_id in sorted(tips, key=lambda c: c.encode("utf-8")):
        tip = tips[chain_id]
        if tip.tip is None or tip.hash_alg is None or tip.count == 0:
            continue
        seed = hashlib.sha256(f"{chain_id}\n{tip.count}\n{tip.tip}\n{time}".encode()).digest()
        r = int.from_bytes(seed[:10], "big")
        event_id = make_uuid7(ms, r & 0xFFF, (r >> 12) & ((1 << 62) - 1))
        extra = None
        dialogue = ""
        if is_lifecycle(chain_id):
            dialogue = chain_id[len(LIFECYCLE_PREFIX) : -len(LIFECYCLE_SUFFIX)]
            extra = {"entity_type": "meta", "entity_id": unescape_component(dialogue)}
        fields = make_boundary(
            signer,
            event_id=event_id,
            timestamp=time,
            hash_alg=hash_alg or tip.hash_alg,
            source_backend=source_backend,
            source_chain_id=chain_id,
            source_count=tip.count,
            source_tip_hash=tip.tip,
            source_hash_alg=tip.hash_alg,
            target_backend=target_backend,
            target_chain_id=chain_id,
            manifest_digest=manifest_digest,
            extra=extra,
        )
        if is_lifecycle(chain_id):
            yield lifecycle_record(dialogue, fields)
        else:
            yield AuditEvent(chain_id, fields)
