"""Chain continuity across a migration: the target continues every source chain (CHAIN-14).

This is the migration surface's continuity check (STORE-8; the store side is
:mod:`chainaudit.sources.migration`). Both stores
are read once; their chain events are spooled to disk (stores do not deliver
events in chain order) and verified in chain order. The source's chains
give, per chain, the count and tip at the cut; the target must hold exactly
those events (``CHAIN_TRUNCATED``/``CHAIN_TIP_MISMATCH``) followed by a valid
boundary event at ``seq = count`` (``CHAIN_BOUNDARY_MISSING`` otherwise, and
every boundary check of CHAIN-12). Memory is bounded by the number of chains.
"""

from __future__ import annotations

from collections.abc import Iterator

from chainaudit.chain.checkpoint import ChainExpectation
from chainaudit.chain.events import chain_event_from_entity
from chainaudit.chain.merge import Partial, resolve
from chainaudit.chain.spool import EventSpool
from chainaudit.chain.verify import DEFAULT_SKEW_MS, MIGRATION, ChainPolicy, ChainVerifier
from chainaudit.findings import Finding, Result
from chainaudit.keys.signing import TrustStore
from chainaudit.records.address import EntityType
from chainaudit.records.model import AuditEvent, EntityRecord
from chainaudit.sources import Source


def chain_events(source: Source) -> Iterator[AuditEvent | Finding]:
    """Every chain event of a store (audit events and lifecycle entities), or
    the finding of an item that cannot be one (CHAIN-5)."""
    for item in source.read():
        if isinstance(item, AuditEvent):
            yield item
        elif isinstance(item, EntityRecord) and item.address.entity_type is EntityType.EVENT:
            yield chain_event_from_entity(item)
        elif isinstance(item, Finding):
            yield item


def _verify_store(source: Source, policy: ChainPolicy, label: str, out: Result) -> Partial:
    with EventSpool() as spool:
        for got in chain_events(source):
            if isinstance(got, Finding):
                out.add(got)
            else:
                spool.add(got)
        spool.seal()
        verifier = ChainVerifier(policy)
        for event in spool.events():
            verifier.feed(event, label)
        return verifier.finish_partial()


def verify_chain_continuity(
    source: Source, target: Source, trust: TrustStore | None = None, skew_ms: int = DEFAULT_SKEW_MS
) -> Result:
    """CHAIN-14: verify both stores' chains and that the target continues each
    source chain through a boundary; ``trust`` holds the pinned signer keys."""
    trust = trust or TrustStore()
    result = Result()
    src = _verify_store(source, ChainPolicy(trust, (), skew_ms), "source", result)
    expectations = tuple(
        ChainExpectation(cid, count, tip, None, MIGRATION, source.describe())
        for cid, (count, tip) in sorted(src.tips.items())
    )
    tgt = _verify_store(target, ChainPolicy(trust, expectations, skew_ms), "target", result)
    # Source tips must not shadow the target's when claims are resolved.
    src.tips = {cid: tip for cid, tip in src.tips.items() if cid not in tgt.tips}
    result.merge(resolve([src, tgt]))
    return result
