"""Generator of the chain golden vectors (``vectors/chain/``).

Positive cases: both chain kinds under SHA-256 and BLAKE3, interleaved
chains, boundaries (same chain id with an algorithm change, a renamed chain,
a lifecycle chain, the target verified alone) and signed checkpoints.
Negative cases: named tampering methods applied to valid base chains, one
file per mutation, each naming the finding code and the first position
(chain id, seq) at which it must be reported. The expected findings are
declared here from the spec (CHAIN-n), not computed by the verifier.
One accumulated vector pins the tips of valid chains of every length 0..64.

Signing keys derive from labels (CHAIN-10); Ed25519 is deterministic; no
clock, no randomness. Format: ``docs/vectors.md`` (Chain vectors).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from chainaudit.chain.events import genesis_hash
from chainaudit.chain.uuid7 import make as make_uuid7
from chainaudit.conformance.vectorgen import derive, write_json
from chainaudit.conformance.vectorgen.chain_boundary_cases import (
    boundary_mutations,
    checkpoint_mutations,
)
from chainaudit.conformance.vectorgen.chain_build import (
    CASE_TYPE,
    STORE_B,
    T0_MS,
    boundary_event,
    build_chain,
    check_case,
    event_from_item,
    typed_to_json_item,
)
from chainaudit.conformance.vectorgen.chain_cases import (
    AUDIT,
    BASE_LEN,
    CHECKPOINTER,
    LIFE,
    LIFE_OTHER,
    MALLORY,
    MIGRATOR,
    OTHER,
    boundary_scenario,
    case,
    checkpoint_doc,
    tweak,
)
from chainaudit.conformance.vectorgen.chain_continuity_cases import (
    CONTINUITY_TYPE,
    PARTITION_TYPE,
    check_continuity,
    check_partition,
    continuity_cases,
    partition_doc,
)
from chainaudit.conformance.vectorgen.chain_mutations import chain_mutations
from chainaudit.findings import Code, Finding, codes
from chainaudit.keys.history import verify_key_history
from chainaudit.keys.signing import key_id, private_key_from_label, public_bytes
from chainaudit.records.address import Address
from chainaudit.records.item import item_from_record, record_from_item, typed_from_json
from chainaudit.records.model import (
    AuditEvent,
    EntityRecord,
    Envelope,
    KeyState,
    Record,
    WrappedDek,
)

SUBDIR = "chain"
KEYS_TYPE = "chainaudit/chain-keys"
ACC_TYPE = "chainaudit/chain-accumulated"
KEYHISTORY_TYPE = "chainaudit/keyhistory-vector"
ACC_DOMAIN = b"chainaudit/vectors/chain/accumulated\x00"
ACC_N = 64

# --- positive cases ---------------------------------------------------------------


def positive_cases() -> list[dict[str, Any]]:
    a, a3 = build_chain(AUDIT, BASE_LEN), build_chain("main-b3", BASE_LEN, "blake3")
    life, life3 = build_chain(LIFE, BASE_LEN), build_chain(LIFE_OTHER, BASE_LEN, "blake3")
    out = [
        case("audit-sha256", "an audit-log chain under SHA-256", a),
        case("audit-blake3", "an audit-log chain under BLAKE3", a3),
        case("lifecycle-sha256", "a dialogue lifecycle chain under SHA-256", life),
        case("lifecycle-blake3", "a dialogue lifecycle chain under BLAKE3", life3),
    ]
    mixed = [e for pair in zip(a, life, a3, strict=True) for e in pair]
    out.append(case("interleaved", "three chains whose events interleave", mixed))
    src, b, after = boundary_scenario(AUDIT)
    out.append(
        case(
            "boundary-sha256-to-blake3",
            "cut after 5 events, bridged, BLAKE3 after the boundary",
            [*src, b, *after],
        )
    )
    out.append(case("boundary-target-only", "only the target store: boundary first", [b, *after]))
    lsrc, lb, lafter = boundary_scenario(LIFE)
    out.append(
        case("lifecycle-boundary", "a lifecycle chain bridged across stores", [*lsrc, lb, *lafter])
    )
    legacy = build_chain("legacy", 4)
    rb = boundary_event(MIGRATOR, legacy, "legacy", "main-pg", T0_MS + 4500, "sha256")
    rest = build_chain("main-pg", 2, first_seq=5, previous_hash=rb.hash, store=STORE_B)
    out.append(
        case(
            "boundary-renamed-chain",
            "legacy (source) continues as main-pg (target)",
            [*legacy, rb, *rest],
        )
    )
    cps = [checkpoint_doc(CHECKPOINTER, a, n, AUDIT) for n in (0, 5, BASE_LEN)]
    manifest = [
        {"chain_id": AUDIT, "count": BASE_LEN, "tip_hash": a[-1].hash, "hash_alg": "sha256"}
    ]
    out.append(
        case(
            "checkpoints-extended",
            "checkpoints at 0, 5 and 8 events, a manifest at 8",
            a + build_chain(AUDIT, 2, first_seq=8, previous_hash=a[-1].hash),
            checkpoints=cps,
            manifest=manifest,
        )
    )
    out.append(
        case(
            "accumulated-base",
            "the 64-event chain of the accumulated vector",
            build_chain("acc", ACC_N),
        )
    )
    return out


# --- accumulated vector -----------------------------------------------------------


def accumulated(alg: str, n: int = ACC_N) -> str:
    """acc_0 = H(ACC_DOMAIN); acc_{L+1} = SHA-256(acc_L || tip of the chain of length L)."""
    acc = hashlib.sha256(ACC_DOMAIN).digest()
    events = build_chain("acc", n, alg)
    for length in range(n + 1):
        tip = events[length - 1].hash if length else genesis_hash("acc", alg)
        acc = hashlib.sha256(acc + bytes.fromhex(tip)).digest()
    return acc.hex()


# --- key history ------------------------------------------------------------------


def _audit_item(i: int, op: str, kid: str, outcome: str = "success") -> dict[str, Any]:
    f = {
        "event_id": make_uuid7(T0_MS + i * 1000, 0, i),
        "operation": op,
        "key_id": kid,
        "outcome": outcome,
        "seq": i,
    }
    return typed_to_json_item(item_from_record(AuditEvent("keylog", f)))


def keyhistory_cases() -> list[dict[str, Any]]:
    k11, k12, k21 = "dek#dlg-0001#1", "dek#dlg-0001#2", "dek#dlg-0002#1"

    def dek(d: str, v: int, state: KeyState) -> dict[str, Any]:
        wrapped = None if state is KeyState.DESTROYED else derive(b"kh/", f"{d}{v}", 32) + bytes(8)
        rec = WrappedDek(
            f"dek#{d}#{v}",
            d,
            v,
            "user-1",
            "A256KW",
            wrapped,
            None,
            state,
            "2026-01-01T00:00:00.000Z",
            "2026-01-05T00:00:00.000Z" if state is KeyState.DESTROYED else None,
        )
        return typed_to_json_item(item_from_record(rec))

    def entity(d: str, kid: str) -> dict[str, Any]:
        addr = Address.of(d, "perspective", "01", "02")
        env = Envelope(bytes(32), bytes(12), kid, hashlib.sha256(addr.to_bytes()).hexdigest())
        return typed_to_json_item(item_from_record(EntityRecord(addr, {}, env)))

    data = [
        dek("dlg-0001", 1, KeyState.RETIRED),
        dek("dlg-0001", 2, KeyState.ACTIVE),
        dek("dlg-0002", 1, KeyState.DESTROYED),
        entity("dlg-0001", k12),
        entity("dlg-0002", k21),
    ]
    log = [
        ("wrap_dek", k11),
        ("rotate_dek", k11),
        ("wrap_dek", k12),
        ("wrap_dek", k21),
        ("destroy_dek", k21),
    ]

    def case(
        name: str,
        desc: str,
        entries: list[tuple[str, str]],
        want: list[tuple[Code, str]],
        outcome: Mapping[int, str] | None = None,
    ) -> dict[str, Any]:
        items = data + [
            _audit_item(i, op, k, (outcome or {}).get(i, "success"))
            for i, (op, k) in enumerate(entries)
        ]
        return {
            "type": KEYHISTORY_TYPE,
            "version": 1,
            "name": name,
            "description": desc,
            "items": items,
            "expect": {
                "ok": not want,
                "findings": [{"code": c.name, "key_id": k} for c, k in want],
            },
        }

    return [
        case("complete", "every key created, the rotation and the destruction logged", log, []),
        case(
            "key-not-logged",
            "no wrap_dek for version 2",
            log[:2] + log[3:],
            [(codes.KEY_NOT_IN_AUDIT_LOG, k12)],
        ),
        case(
            "rotation-unlogged",
            "the retirement of version 1 is not logged",
            log[:1] + log[2:],
            [(codes.KEY_ROTATION_UNLOGGED, k11)],
        ),
        case(
            "destruction-unlogged",
            "the shredding of dlg-0002's key is not logged",
            log[:4],
            [(codes.KEY_DESTRUCTION_UNLOGGED, k21)],
        ),
        case(
            "destruction-failed",
            "destroy_dek logged only as a failure",
            log,
            [(codes.KEY_DESTRUCTION_UNLOGGED, k21)],
            outcome={4: "failure"},
        ),
    ]


# --- entry points -----------------------------------------------------------------


def all_cases() -> dict[str, list[dict[str, Any]]]:
    neg = chain_mutations("audit", AUDIT, OTHER) + chain_mutations("lifecycle", LIFE, LIFE_OTHER)
    neg += boundary_mutations() + checkpoint_mutations()
    return {
        "positive": positive_cases(),
        "negative": neg,
        "keyhistory": keyhistory_cases(),
        "continuity": continuity_cases(),
    }


def generate(out_dir: Path) -> list[Path]:
    """Write every chain vector under ``out_dir / "chain"``; returns the files written."""
    root = out_dir / SUBDIR
    written: list[Path] = []
    keys = []
    for label in (MIGRATOR, CHECKPOINTER, MALLORY):
        sk = private_key_from_label(label)
        seed = hashlib.sha256(b"chainaudit/vectors/ed25519\x00" + label.encode()).hexdigest()
        keys.append(
            {
                "label": label,
                "seed": seed,
                "public_key": public_bytes(sk).hex(),
                "key_id": key_id(public_bytes(sk)),
                "trusted": label != MALLORY,
            }
        )
    written.append(write_json(root / "keys.json", {"type": KEYS_TYPE, "version": 1, "keys": keys}))
    for folder, cases in all_cases().items():
        for doc in cases:
            written.append(write_json(root / folder / f"{doc['name']}.json", doc))
    acc = {
        "type": ACC_TYPE,
        "version": 1,
        "chain_id": "acc",
        "n": ACC_N,
        "accumulated": {alg: accumulated(alg) for alg in ("sha256", "blake3")},
    }
    written.append(write_json(root / "accumulated.json", acc))
    written.append(write_json(root / "partition.json", partition_doc()))
    return written


# --- checking (chainaudit.conformance.check plugs these in) ------------------------------


def _results(doc: Mapping[str, Any], path: str, problems: list[str]) -> list[Any]:
    from chainaudit.conformance.check import CaseResult

    return [CaseResult(str(doc.get("name", doc.get("type"))), path, problems)]


def check_chain_doc(doc: Mapping[str, Any], path: str) -> list[Any]:
    return _results(doc, path, check_case(doc))


def check_keyhistory_doc(doc: Mapping[str, Any], path: str) -> list[Any]:
    records: list[Record] = []
    for i, obj in enumerate(doc["items"]):
        rec = record_from_item({k: typed_from_json(v, k) for k, v in obj.items()}, f"items[{i}]")
        if isinstance(rec, Finding):
            return _results(doc, path, [f"items[{i}]: {rec}"])
        records.append(rec)
    result = verify_key_history(records)
    got = [{"code": f.code.name, "key_id": f.where} for f in result.findings]
    problems = [] if got == doc["expect"]["findings"] else [f"findings {got} != expected"]
    return _results(doc, path, problems)


def check_accumulated_doc(doc: Mapping[str, Any], path: str) -> list[Any]:
    problems = [
        f"{alg}: {accumulated(alg, doc['n'])} != {want}"
        for alg, want in doc["accumulated"].items()
        if accumulated(alg, doc["n"]) != want
    ]
    return _results(doc, path, problems)


def check_keys_doc(doc: Mapping[str, Any], path: str) -> list[Any]:
    problems = []
    for k in doc["keys"]:
        pub = public_bytes(private_key_from_label(k["label"])).hex()
        if pub != k["public_key"] or key_id(bytes.fromhex(pub)) != k["key_id"]:
            problems.append(f"key {k['label']} does not derive as stated")
    return _results(doc, path, problems)


def check_continuity_doc(doc: Mapping[str, Any], path: str) -> list[Any]:
    return _results(doc, path, check_continuity(doc))


def check_partition_doc(doc: Mapping[str, Any], path: str) -> list[Any]:
    return _results(doc, path, check_partition(doc))


VECTOR_CHECKERS = {
    CASE_TYPE: check_chain_doc,
    KEYHISTORY_TYPE: check_keyhistory_doc,
    ACC_TYPE: check_accumulated_doc,
    KEYS_TYPE: check_keys_doc,
    CONTINUITY_TYPE: check_continuity_doc,
    PARTITION_TYPE: check_partition_doc,
}

__all__ = ["VECTOR_CHECKERS", "event_from_item", "generate", "tweak"]
