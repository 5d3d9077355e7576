"""Building blocks of the chain vectors: deterministic chains, items, and the case checker.

Shared by the generator (:mod:`chainaudit.conformance.vectorgen.chain`) and the tests
(including the hypothesis properties), so the vectors and the properties
build chains the same way. Everything is a pure function of its arguments:
no clock, no randomness. Formats: ``docs/vectors.md`` (Chain vectors).
"""

from __future__ import annotations

import calendar
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from chainaudit.chain.boundary import make_boundary
from chainaudit.chain.checkpoint import ChainExpectation, verify_checkpoint
from chainaudit.chain.events import (
    chain_event_from_entity,
    genesis_hash,
    is_lifecycle,
    lifecycle_record,
    seal,
)
from chainaudit.chain.uuid7 import make as make_uuid7
from chainaudit.chain.verify import ChainPolicy, ChainVerifier, resolve
from chainaudit.findings import Finding, Result
from chainaudit.keys.signing import TrustStore, private_key_from_label
from chainaudit.records.address import EntityType
from chainaudit.records.item import (
    item_from_record,
    record_from_item,
    typed_from_json,
    typed_to_json,
)
from chainaudit.records.model import AttrValue, AuditEvent, EntityRecord

CASE_TYPE = "chainaudit/chain-vector"
STORE_A = "dynamodb"
STORE_B = "postgres"
#: 2026-01-02T03:04:05.000Z, the time of event 0 of every base chain.
T0_MS = calendar.timegm((2026, 1, 2, 3, 4, 5, 0, 0, 0)) * 1000

OPERATIONS = (
    "wrap_dek",
    "encrypt",
    "decrypt",
    "unwrap_dek",
    "derive_kek",
    "encrypt",
    "rotate_dek",
    "destroy_dek",
)
OUTCOMES = ("success", "success", "failure", "denied")
ENTITY_TYPES = ("meta", "perspective", "tension", "claim")
EVENT_TYPES = ("created", "updated", "status_changed")
#: Lifecycle fields that live in the item's address, not in attributes (CHAIN-5).
ADDRESS_FIELDS = ("entity_type", "entity_id", "timestamp")


@dataclass
class Ev:
    """One event as the vectors hold it: chain id, store label, fields."""

    chain_id: str
    store: str
    fields: dict[str, Any] = field(default_factory=dict)

    @property
    def hash(self) -> str:
        return str(self.fields["event_hash"])

    def copy(self) -> Ev:
        return Ev(self.chain_id, self.store, dict(self.fields))


def ts_text(ms: int) -> str:
    """CHAIN-2 timestamp with exactly three fraction digits."""
    secs, milli = divmod(ms, 1000)
    y, mo, d, h, mi, s = time.gmtime(secs)[:6]
    return f"{y:04d}-{mo:02d}-{d:02d}T{h:02d}:{mi:02d}:{s:02d}.{milli:03d}Z"


def event_fields(chain_id: str, i: int, seq: int, ms: int, alg: str) -> dict[str, Any]:
    """The payload fields of base event ``i`` (no ``previous_hash``/``event_hash``).

    Audit: ``trace_id`` = 32 hex digits of i, ``span_id`` = 16, operation,
    outcome and key version cycle with i (docs/vectors.md).
    """
    out: dict[str, Any] = {
        "event_id": make_uuid7(ms, i % 4096, i),
        "seq": seq,
        "timestamp": ts_text(ms),
        "hash_alg": alg,
    }
    if is_lifecycle(chain_id):
        out.update(
            {
                "event_type": EVENT_TYPES[i % 3],
                "entity_type": ENTITY_TYPES[i % 4],
                "entity_id": f"e-{i:02d}",
                "principal": "expert:alice",
            }
        )
    else:
        out.update(
            {
                "trace_id": f"{i:032x}",
                "span_id": f"{i:016x}",
                "operation": OPERATIONS[i % 8],
                "key_id": f"dek#dlg-0001#{1 + i // 8}",
                "principal": "svc:dialogues",
                "outcome": OUTCOMES[i % 4],
            }
        )
    return out


def build_chain(
    chain_id: str,
    length: int,
    alg: str = "sha256",
    store: str = STORE_A,
    start_ms: int = T0_MS,
    step_ms: int = 1000,
    first_seq: int = 0,
    previous_hash: str | None = None,
) -> list[Ev]:
    """A valid chain segment: events ``first_seq .. first_seq+length-1``, linked and sealed."""
    prev = previous_hash if previous_hash is not None else genesis_hash(chain_id, alg)
    out: list[Ev] = []
    for k in range(length):
        seq = first_seq + k
        f = event_fields(chain_id, seq, seq, start_ms + seq * step_ms, alg)
        f["previous_hash"] = prev
        ev = Ev(chain_id, store, seal(f))
        prev = ev.hash
        out.append(ev)
    return out


def rechain(events: list[Ev], start: int) -> None:
    """Reseal ``events[start:]`` (one chain, chain order) so every link holds again:
    what an attacker without keys can always do after an edit."""
    for j in range(start, len(events)):
        f = events[j].fields
        if j > 0:
            f["previous_hash"] = events[j - 1].hash
        elif f.get("seq") == 0 and isinstance(f.get("hash_alg"), str):
            f["previous_hash"] = genesis_hash(events[j].chain_id, f["hash_alg"])
        events[j].fields = seal(f)


def boundary_event(
    signer_label: str,
    source: Sequence[Ev],
    source_chain_id: str,
    target_chain_id: str,
    ms: int,
    hash_alg: str,
    *,
    source_count: int | None = None,
    source_tip: str | None = None,
    source_alg: str | None = None,
    manifest_digest: str | None = None,
    source_backend: str = STORE_A,
    target_backend: str = STORE_B,
    store: str = STORE_B,
) -> Ev:
    """A signed boundary continuing ``source`` (its events, possibly empty) in the target."""
    count = len(source) if source_count is None else source_count
    if source_tip is None:
        source_tip = source[-1].hash if source else genesis_hash(source_chain_id, "sha256")
    if source_alg is None:
        source_alg = str(source[-1].fields["hash_alg"]) if source else "sha256"
    extra: dict[str, Any] | None = None
    if is_lifecycle(target_chain_id):
        dialogue = target_chain_id[len("dialogue:") : -len("/events")]
        extra = {"entity_type": "meta", "entity_id": dialogue}
    fields = make_boundary(
        private_key_from_label(signer_label),
        event_id=make_uuid7(ms, 0xB0B, count),
        timestamp=ts_text(ms),
        hash_alg=hash_alg,
        source_backend=source_backend,
        source_chain_id=source_chain_id,
        source_count=count,
        source_tip_hash=source_tip,
        source_hash_alg=source_alg,
        target_backend=target_backend,
        target_chain_id=target_chain_id,
        manifest_digest=manifest_digest,
        extra=extra,
    )
    return Ev(target_chain_id, store, fields)


# --- items (MODEL, CHAIN-5) -----------------------------------------------------


def to_item(ev: Ev) -> dict[str, Any]:
    """The physical item of an event, as typed JSON (docs/model.md)."""
    if not is_lifecycle(ev.chain_id):
        return typed_to_json_item(item_from_record(AuditEvent(ev.chain_id, ev.fields)))
    dialogue = ev.chain_id[len("dialogue:") : -len("/events")]
    return typed_to_json_item(item_from_record(lifecycle_record(dialogue, ev.fields)))


def typed_to_json_item(item: Mapping[str, AttrValue]) -> dict[str, Any]:
    return {k: typed_to_json(v) for k, v in item.items()}


def event_from_item(obj: Mapping[str, Any], origin: str) -> AuditEvent | Finding:
    """Item JSON -> chain event, through the record model and the CHAIN-5 adapter."""
    item = {k: typed_from_json(v, k) for k, v in obj.items()}
    record = record_from_item(item, origin)
    if isinstance(record, AuditEvent | Finding):
        return record
    if isinstance(record, EntityRecord) and record.address.entity_type is EntityType.EVENT:
        return chain_event_from_entity(record)
    raise ValueError(f"{origin}: not a chain event item")


# --- running a case ------------------------------------------------------------


@dataclass
class CaseRun:
    """The findings of one case in report order, and the final tips."""

    findings: list[Finding]
    tips: dict[str, tuple[int, str]]
    ok: bool


def run_case(doc: Mapping[str, Any]) -> CaseRun:
    """Run a chain vector: checkpoint findings, then item/adapter findings in
    stream order, then the verifier's findings (docs/vectors.md)."""
    trust = TrustStore.of(bytes.fromhex(k) for k in doc.get("trusted_keys", []))
    pre: list[Finding] = []
    expectations: list[ChainExpectation] = []
    for i, cp in enumerate(doc.get("checkpoints", [])):
        got = verify_checkpoint(cp, trust, f"checkpoints[{i}]")
        if isinstance(got, Finding):
            pre.append(got)
        else:
            expectations.append(got)
    for m in doc.get("manifest_expectations", []):
        expectations.append(
            ChainExpectation(
                m["chain_id"], m["count"], m["tip_hash"], m.get("hash_alg"), "manifest", "manifest"
            )
        )
    policy = ChainPolicy(trust, tuple(expectations), doc.get("skew_ms", 300_000))
    v = ChainVerifier(policy)
    for i, entry in enumerate(doc.get("events", [])):
        got_ev = event_from_item(entry["item"], f"events[{i}]")
        if isinstance(got_ev, Finding):
            pre.append(got_ev)
        else:
            v.feed(got_ev, entry.get("store", ""))
    partial = v.finish_partial()
    result: Result = resolve([partial])
    findings = pre + list(result.findings)
    ok = not any(f.severity.value != "notice" for f in findings)
    return CaseRun(findings, dict(partial.tips), ok)


def position(f: Finding) -> tuple[str | None, Any]:
    """(chain id, seq) a finding is located at, from its ``extra``."""
    return f.extra.get("chain_id"), f.extra.get("seq")


def check_case(doc: Mapping[str, Any]) -> list[str]:
    """Problems of one chain vector case against what it expects ([] = pass)."""
    run = run_case(doc)
    expect = doc["expect"]
    problems: list[str] = []
    if run.ok != expect["ok"]:
        problems.append(
            f"ok is {run.ok}, expected {expect['ok']}: {[str(f) for f in run.findings]}"
        )
    for cid, tip in expect.get("tips", {}).items():
        got = run.tips.get(cid)
        if got != (tip["count"], tip["tip_hash"]):
            problems.append(f"tip of {cid} is {got}, expected {tip}")
    first = expect.get("first")
    if first is not None:
        if not run.findings:
            problems.append(f"no finding, expected {first}")
        else:
            f = run.findings[0]
            cid, seq = position(f)
            want = (first["code"], first["chain_id"], first["seq"])
            if (f.code.name, cid, seq) != want:
                problems.append(
                    f"first finding is {(f.code.name, cid, seq)} ({f}), expected {want}"
                )
    every = expect.get("all")
    if every is not None:
        got_all = [
            {"code": f.code.name, "chain_id": position(f)[0], "seq": position(f)[1]}
            for f in run.findings
        ]
        if got_all != every:
            problems.append(f"findings {got_all} != expected {every}")
    return problems


def case_events(events: Iterable[Ev]) -> list[dict[str, Any]]:
    """Events as a case lists them: store label and physical item."""
    return [{"store": ev.store, "item": to_item(ev)} for ev in events]
