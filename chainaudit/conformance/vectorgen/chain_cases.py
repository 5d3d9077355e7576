"""Helpers shared by the chain vector generators: the base scenario, case
documents, and the deterministic field edit ``tweak`` (docs/vectors.md).

Pure: no clock, no randomness.
"""

from __future__ import annotations

from typing import Any

from chainaudit.chain.checkpoint import make_checkpoint
from chainaudit.chain.events import genesis_hash, timestamp_ms
from chainaudit.conformance.vectorgen.chain_build import (
    CASE_TYPE,
    STORE_B,
    T0_MS,
    Ev,
    boundary_event,
    build_chain,
    case_events,
    ts_text,
)
from chainaudit.findings import Code
from chainaudit.keys.signing import private_key_from_label, public_bytes

MIGRATOR, CHECKPOINTER, MALLORY = "migration-signer", "checkpoint-signer", "mallory"
TRUSTED = [public_bytes(private_key_from_label(k)).hex() for k in (MIGRATOR, CHECKPOINTER)]
AUDIT, OTHER = "main", "other"
LIFE, LIFE_OTHER = "dialogue:dlg-0001/events", "dialogue:dlg-0002/events"
BASE_LEN = 8
TARGET = 3  # the event most single-event mutations hit
CUT = 5  # where boundary scenarios cut the chain

# --- helpers ----------------------------------------------------------------------


def case(name: str, description: str, events: list[Ev], **kw: Any) -> dict[str, Any]:
    doc: dict[str, Any] = {"type": CASE_TYPE, "version": 1, "name": name}
    doc["description"] = description
    doc["trusted_keys"] = TRUSTED
    doc["skew_ms"] = 300_000
    doc["checkpoints"] = kw.get("checkpoints", [])
    doc["manifest_expectations"] = kw.get("manifest", [])
    doc["events"] = case_events(events)
    expect: dict[str, Any] = {"ok": kw.get("first") is None}
    if kw.get("first") is None:
        tips: dict[str, Any] = {}
        for ev in events:
            tips[ev.chain_id] = {"count": ev.fields["seq"] + 1, "tip_hash": ev.hash}
        expect["tips"] = dict(sorted(tips.items()))
    else:
        code, chain_id, seq = kw["first"]
        expect["first"] = {"code": code.name, "chain_id": chain_id, "seq": seq}
        if kw.get("then") is not None:
            # The full ordered finding list (docs/vectors.md `expect.all`), declared
            # for some cases: ``then`` lists the findings after the first.
            all_ = [(code, chain_id, seq), *kw["then"]]
            expect["all"] = [{"code": c.name, "chain_id": i, "seq": q} for c, i, q in all_]
    doc["expect"] = expect
    return doc


def neg(
    name: str, description: str, events: list[Ev], code: Code, chain_id: str, seq: int, **kw: Any
) -> dict[str, Any]:
    return case(name, description, events, first=(code, chain_id, seq), **kw)


def checkpoint_doc(label: str, chain: list[Ev], count: int, chain_id: str) -> dict[str, Any]:
    tip = chain[count - 1].hash if count else genesis_hash(chain_id, "sha256")
    alg = str(chain[count - 1].fields["hash_alg"]) if count else "sha256"
    return make_checkpoint(
        private_key_from_label(label), chain_id, count, tip, alg, "2026-01-03T00:00:00.000Z"
    )


def tweak(name: str, value: Any) -> Any:
    """The deterministic edit applied to one field (docs/vectors.md)."""
    if value is None:
        return "0" * 64
    if isinstance(value, int):
        return value + 1
    swaps = {
        "hash_alg": {"sha256": "blake3", "blake3": "sha256"},
        "operation": {"encrypt": "decrypt"},
        "outcome": {"success": "failure"},
        "entity_type": {
            "meta": "claim",
            "perspective": "tension",
            "tension": "claim",
            "claim": "tension",
        },
    }
    if name in swaps and value in swaps[name]:
        return swaps[name][value]
    if name in ("operation", "outcome"):
        return "encrypt" if name == "operation" else "success"
    if name == "timestamp":
        ms = timestamp_ms(value)
        assert ms is not None
        return ts_text(ms + 1)
    last = value[-1]
    if last in "0123456789abcdef":
        return value[:-1] + "0123456789abcdef"[(int(last, 16) + 1) % 16]
    return value[:-1] + ("y" if last == "x" else "x")


def copy_events(events: list[Ev]) -> list[Ev]:
    return [e.copy() for e in events]


def relabel(events: list[Ev], chain_id: str) -> list[Ev]:
    return [Ev(chain_id, e.store, dict(e.fields)) for e in events]


def boundary_scenario(chain_id: str, alg_after: str = "blake3") -> tuple[list[Ev], Ev, list[Ev]]:
    src = build_chain(chain_id, CUT)
    b = boundary_event(MIGRATOR, src, chain_id, chain_id, T0_MS + CUT * 1000 + 500, alg_after)
    after = build_chain(chain_id, 3, alg_after, STORE_B, first_seq=CUT + 1, previous_hash=b.hash)
    return src, b, after
