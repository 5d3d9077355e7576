"""Chain vectors for continuity across a migration (CHAIN-14) and partitioning (CHAIN-8).

A continuity case is two stores given as typed items, ``source`` and
``target``, in the order a store might deliver them (not chain order: the
verifier orders each chain itself, CHAIN-6), and the exact ordered list of
findings :func:`chainaudit.migration.continuity.verify_chain_continuity` yields. The
partition vector pins the function that splits chains among workers.
Expected findings are declared here from the spec, not computed. Pure: no
clock, no randomness. Format: ``docs/vectors.md`` (Chain vectors).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from chainaudit.chain.merge import partition
from chainaudit.conformance.vectorgen.chain_build import (
    T0_MS,
    Ev,
    boundary_event,
    build_chain,
    rechain,
    to_item,
)
from chainaudit.conformance.vectorgen.chain_cases import (
    AUDIT,
    CUT,
    LIFE,
    MIGRATOR,
    TRUSTED,
    copy_events,
)
from chainaudit.findings import Code, codes
from chainaudit.keys.signing import TrustStore
from chainaudit.migration.continuity import verify_chain_continuity
from chainaudit.records.item import record_from_item, typed_from_json
from chainaudit.sources import SourceItem

CONTINUITY_TYPE = "chainaudit/continuity-vector"
PARTITION_TYPE = "chainaudit/chain-partition"
#: CHAIN-8: chain ids and worker counts the partition vector pins.
PARTITION_IDS = (
    "main",
    "other",
    "acc",
    "legacy",
    "main-pg",
    "Ωmega",
    LIFE,
    "dialogue:dlg-0002/events",
)
PARTITION_WORKERS = (1, 2, 3, 4, 7, 16)

Want = list[tuple[Code, str, int | None]]


def _bridged(chain: list[Ev], alg: str = "blake3") -> list[Ev]:
    """The target of one chain: the copied events, a boundary, two new events."""
    cid = chain[0].chain_id
    b = boundary_event(MIGRATOR, chain, cid, cid, T0_MS + len(chain) * 1000 + 500, alg)
    after = build_chain(cid, 2, alg, chain[0].store, first_seq=len(chain) + 1, previous_hash=b.hash)
    return [*chain, b, *after]


def _case(
    name: str, description: str, source: list[Ev], target: list[Ev], want: Want
) -> dict[str, Any]:
    return {
        "type": CONTINUITY_TYPE,
        "version": 1,
        "name": name,
        "description": description,
        "trusted_keys": TRUSTED,
        "skew_ms": 300_000,
        # Stores deliver items in their own order; the target's is reversed here
        # so that only the verifier's own ordering (CHAIN-6) can pass the case.
        "source": [to_item(e) for e in source],
        "target": [to_item(e) for e in reversed(target)],
        "expect": {
            "ok": not want,
            "findings": [{"code": c.name, "chain_id": i, "seq": q} for c, i, q in want],
        },
    }


def continuity_cases() -> list[dict[str, Any]]:
    audit, life = build_chain(AUDIT, CUT), build_chain(LIFE, CUT)
    source = [*audit, *life]
    both = [*_bridged(copy_events(audit)), *_bridged(copy_events(life))]
    rewritten = copy_events(audit)
    rewritten[2].fields["principal"] = "mallory"
    rechain(rewritten, 2)
    grown = build_chain(AUDIT, CUT + 1)
    return [
        _case("bridged", "both chains copied and continued through a boundary", source, both, []),
        _case(
            "no-boundary",
            "both chains copied verbatim, no boundary after them",
            source,
            copy_events(source),
            [
                (codes.CHAIN_BOUNDARY_MISSING, LIFE, CUT),
                (codes.CHAIN_BOUNDARY_MISSING, AUDIT, CUT),
            ],
        ),
        _case(
            "target-short",
            "main lost its last event in the target; the lifecycle chain is missing",
            source,
            copy_events(audit[: CUT - 1]),
            [(codes.CHAIN_TRUNCATED, LIFE, 0), (codes.CHAIN_TRUNCATED, AUDIT, CUT - 1)],
        ),
        _case(
            "tail-rewritten",
            "main's event 2 rewritten in the target, tail rehashed and re-bridged",
            source,
            [*_bridged(rewritten), *_bridged(copy_events(life))],
            [(codes.CHAIN_TIP_MISMATCH, AUDIT, CUT - 1)],
        ),
        _case(
            "source-grew",
            "main got a 6th source event after the cut at 5",
            [*grown, *life],
            [*_bridged(copy_events(grown[:CUT])), *_bridged(copy_events(life))],
            [
                (codes.CHAIN_TIP_MISMATCH, AUDIT, CUT),
                (codes.CHAIN_BOUNDARY_MISSING, AUDIT, CUT + 1),
            ],
        ),
    ]


def partition_doc() -> dict[str, Any]:
    return {
        "type": PARTITION_TYPE,
        "version": 1,
        "name": "partition",
        "description": "int(SHA-256(UTF-8(chain_id))[0:8], big-endian) mod N (CHAIN-8)",
        "chain_ids": list(PARTITION_IDS),
        "partitions": {str(n): [partition(c, n) for c in PARTITION_IDS] for n in PARTITION_WORKERS},
    }


# --- checking ---------------------------------------------------------------------


class _ItemSource:
    """A store holding the typed items of a vector."""

    def __init__(self, name: str, items: list[Mapping[str, Any]]) -> None:
        self.name, self.items = name, items

    def describe(self) -> str:
        return self.name

    def read(self) -> Iterator[SourceItem]:
        for i, obj in enumerate(self.items):
            item = {k: typed_from_json(v, k) for k, v in obj.items()}
            yield record_from_item(item, f"{self.name}[{i}]")


def check_continuity(doc: Mapping[str, Any]) -> list[str]:
    """Problems of one continuity vector against what it expects ([] = pass)."""
    trust = TrustStore.of(bytes.fromhex(k) for k in doc["trusted_keys"])
    result = verify_chain_continuity(
        _ItemSource("source", doc["source"]),
        _ItemSource("target", doc["target"]),
        trust,
        doc["skew_ms"],
    )
    got = [
        {"code": f.code.name, "chain_id": f.extra.get("chain_id"), "seq": f.extra.get("seq")}
        for f in result.findings
    ]
    problems = []
    if got != doc["expect"]["findings"]:
        problems.append(f"findings {got} != expected {doc['expect']['findings']}")
    if result.ok != doc["expect"]["ok"]:
        problems.append(f"ok is {result.ok}, expected {doc['expect']['ok']}")
    return problems


def check_partition(doc: Mapping[str, Any]) -> list[str]:
    return [
        f"{n} workers: {[partition(c, int(n)) for c in doc['chain_ids']]} != {want}"
        for n, want in doc["partitions"].items()
        if [partition(c, int(n)) for c in doc["chain_ids"]] != want
    ]
