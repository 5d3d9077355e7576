"""Merging per-worker chain verification results (CHAIN-8, CHAIN-12 step 5).

Chains are independent, so a run splits by :func:`partition` across worker
processes. Each worker returns a :class:`Partial`; :func:`resolve` merges
them into exactly what a serial run reports: boundary claims about other
chains are checked once every chain's final count and tip is known, and
findings are grouped by chain id so the order does not depend on how the
work was split. No I/O of its own: per-chain state moves to private scratch
files past a limit (:mod:`chainaudit.spillmap`, :mod:`chainaudit.findings.bychain`).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, MutableMapping
from dataclasses import dataclass, field
from typing import Any

from chainaudit.findings import Finding, Result, codes
from chainaudit.findings.bychain import ByChain, merged_by_chain
from chainaudit.primitives.crypto import equal
from chainaudit.spillmap import TUPLE, SpillMap


def partition(chain_id: str, n: int) -> int:
    """CHAIN-8: the partition of a chain among ``n`` workers."""
    digest = hashlib.sha256(chain_id.encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") % n


@dataclass
class Claim:
    """A boundary's statement about another chain, checked once all chains ended."""

    source_chain_id: str
    count: int
    tip: str
    target_chain_id: str
    where: str
    extra: dict[str, Any]


@dataclass
class Partial:
    """One worker's outcome: findings per chain, final (count, tip) per chain, open claims."""

    #: Each chain's findings (a chain may be present with none).
    findings: ByChain = field(default_factory=ByChain)
    #: On disk past a limit (:mod:`chainaudit.spillmap`): one entry per chain.
    tips: MutableMapping[str, tuple[int, str]] = field(default_factory=lambda: SpillMap(TUPLE))
    claims: list[Claim] = field(default_factory=list)
    events: int = 0
    #: Chains that ended with no finding and are not in ``findings`` (a verifier
    #: that closes chains as it goes keeps no entry for them): counted only.
    quiet: int = 0
    #: The chains with an expectation that this verifier saw (lazy expectations).
    expected_seen: set[str] = field(default_factory=set)


def resolve(parts: Iterable[Partial]) -> Result:
    """CHAIN-8/CHAIN-12 step 5: merge worker outcomes into one result.

    Boundary claims about other chains are checked here, where every
    chain's final count and tip is known. Findings are grouped by chain id
    (sorted by UTF-8 bytes), each chain's in the order found.
    """
    parts = list(parts)
    # One part's tips are used as they are: a per-chain map is not copied.
    tips = parts[0].tips if len(parts) == 1 else SpillMap(TUPLE)
    claims: list[Claim] = []
    events = 0
    quiet = 0
    for p in parts:
        quiet += p.quiet
        if p.tips is not tips:
            tips.update(p.tips.items())
        claims.extend(p.claims)
        events += p.events
    # A boundary's mismatch joins its chain's findings, after the parts' own.
    mismatches: dict[str, list[Finding]] = {}
    for c in claims:
        src = tips.get(c.source_chain_id)
        if src is None:
            continue  # CHAIN-12 step 6: the source is not in this run
        if src[0] != c.count or not equal(src[1], c.tip):
            target = c.target_chain_id
            if target not in mismatches and not any(target in p.findings for p in parts):
                quiet -= 1  # it ended with no finding of its own: counted once
            mismatches.setdefault(target, []).append(
                Finding(
                    codes.BOUNDARY_SOURCE_MISMATCH,
                    c.where,
                    f"the source chain {c.source_chain_id} does not end where the boundary says",
                    expected=f"count={src[0]} tip={src[1]}",
                    actual=f"count={c.count} tip={c.tip}",
                    extra=c.extra,
                )
            )
    result = Result()
    chains, last = 0, None
    for chain_id, found in merged_by_chain([*(p.findings for p in parts), mismatches]):
        chains += chain_id != last
        last = chain_id
        result.extend(found)
    result.checked["chain_events"] += events
    result.checked["chains"] += chains + quiet
    result.chain_lengths.update((cid, n) for cid, (n, _) in tips.items())
    return result
