"""Building blocks of the commitment vectors: a deterministic dialogue writer and the checker.

:class:`DialogueWriter` writes one dialogue the way a committing writer
does (docs/commitments.md COMMIT-9): every record version it stores is
followed by a ``record_commit`` event in the dialogue's lifecycle chain,
built with :func:`chainaudit.commitments.events.commit_fields` (the code the
verifier trusts). Keys, nonces and signing keys derive from fixed labels;
time is a counter. Shared by the generator and the tests.
Formats: ``docs/vectors.md`` (Commitment vectors).
"""

from __future__ import annotations

import calendar
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from chainaudit.chain.boundary import make_boundary
from chainaudit.chain.checkpoint import ChainExpectation, make_checkpoint, verify_checkpoint
from chainaudit.chain.events import (
    chain_event_from_entity,
    genesis_hash,
    lifecycle_chain_id,
    lifecycle_order_key,
    lifecycle_record,
    seal,
)
from chainaudit.chain.uuid7 import make as make_uuid7
from chainaudit.chain.verify import ChainPolicy, verify_events
from chainaudit.commitments.events import commit_fields, committable, item_digest, receipt_fields
from chainaudit.commitments.verify import COUNTERS, verify_commitments
from chainaudit.conformance.vectorgen import derive
from chainaudit.conformance.vectorgen.chain_build import ts_text
from chainaudit.envelope.seal import seal as seal_envelope
from chainaudit.findings import Finding
from chainaudit.keys.hierarchy import derive_kek, destroy, format_key_id, retire, wrap_dek
from chainaudit.keys.signing import TrustStore, private_key_from_label, public_bytes
from chainaudit.keys.umk import Umk
from chainaudit.records.address import Address, EntityType
from chainaudit.records.digest import canonical_record_json, record_key
from chainaudit.records.item import (
    item_from_record,
    record_from_item,
    typed_from_json,
    typed_to_json,
)
from chainaudit.records.model import AttrValue, AuditEvent, EntityRecord, Record, WrappedDek

CASE_TYPE = "chainaudit/commitment-vector"
VERSION = 1
SUBDIR = "commitment"
DEK_DOMAIN = b"chainaudit/vectors/commitment/dek/"
NONCE_DOMAIN = b"chainaudit/vectors/commitment/nonce/"
UMK_DOMAIN = b"chainaudit/vectors/commitment/umk/"
#: 2026-01-02T03:04:05.000Z: the time of every vector dialogue's first event.
T0_MS = calendar.timegm((2026, 1, 2, 3, 4, 5, 0, 0, 0)) * 1000
OWNER = "alice"
PRINCIPAL = "svc:dialogues"
CHECKPOINT_TIME = "2026-01-03T00:00:00.000Z"

#: Signing keys (CHAIN-10 label derivation); ``mallory`` is never pinned.
SIGNERS = ("checkpoint-signer", "erasure-authority", "migration-signer", "mallory")
PINNED = ("checkpoint-signer", "erasure-authority", "migration-signer")


def signer(label: str) -> Any:
    return private_key_from_label(label)


def pinned_keys() -> list[str]:
    return [public_bytes(signer(label)).hex() for label in PINNED]


def umk() -> Umk:
    return Umk.from_hex(derive(UMK_DOMAIN, "main", 32).hex())


def dek(kid: str) -> bytes:
    return derive(DEK_DOMAIN, kid, 32)


@dataclass
class DialogueWriter:
    """One dialogue written with commitments; ``records`` holds each key's current version."""

    dialogue: str
    alg: str = "sha256"
    ms: int = T0_MS
    records: dict[str, Record] = field(default_factory=dict)
    events: list[dict[str, Any]] = field(default_factory=list)
    _n: int = 0

    @property
    def chain_id(self) -> str:
        return lifecycle_chain_id(self.dialogue)

    @property
    def tip(self) -> tuple[int, str]:
        if not self.events:
            return 0, genesis_hash(self.chain_id, self.alg)
        last = self.events[-1]
        return int(last["seq"]) + 1, str(last["event_hash"])

    def _stamp(self) -> str:
        self.ms += 1000
        return ts_text(self.ms)

    def _uuid(self, seq: int, rand_a: int = 0) -> str:
        return make_uuid7(self.ms, rand_a or seq % 4096, seq)

    def append(self, fields: dict[str, Any]) -> dict[str, Any]:
        """Continue the chain with ``fields`` (seq, links and hash set here)."""
        seq, prev = self.tip
        out = dict(fields)
        if "timestamp" not in out:
            out["timestamp"] = self._stamp()
        out.setdefault("event_id", self._uuid(seq))
        out.update({"seq": seq, "hash_alg": self.alg, "previous_hash": prev})
        sealed = seal(out)
        self.events.append(sealed)
        return sealed

    # -- records ------------------------------------------------------------------

    def new_key(self, version: int) -> WrappedDek:
        kid = format_key_id(self.dialogue, version)
        for rec in list(self.records.values()):
            if isinstance(rec, WrappedDek) and rec.state.value == "active":
                self.put(retire(rec))
        rec = wrap_dek(
            derive_kek(umk(), OWNER), dek(kid), kid, OWNER, self.dialogue, version,
            derive(NONCE_DOMAIN, f"wrap/{kid}", 12), ts_text(self.ms),
        )  # fmt: skip
        self.put(rec)
        return rec

    def entity(
        self,
        etype: EntityType,
        parts: Sequence[str],
        payload: Mapping[str, Any],
        attrs: Mapping[str, AttrValue] | None = None,
        version: int = 1,
        label: str = "",
    ) -> EntityRecord:
        """Seal (unless a ref) and store a version of an entity, committed."""
        address = Address.of(self.dialogue, etype, *parts)
        cleartext: dict[str, AttrValue] = {"entity_type": {"S": etype.value}}
        cleartext.update(attrs or {})
        envelope = None
        if address.has_envelope:
            kid = format_key_id(self.dialogue, version)
            nonce = derive(NONCE_DOMAIN, f"{address}/{label or len(self.events)}", 12)
            envelope = seal_envelope(address, payload, dek(kid), kid, nonce)
        return self.put(EntityRecord(address, cleartext, envelope))  # type: ignore[return-value]

    def put(self, record: Record) -> Record:
        self.records[record_key(record)] = record
        self.append(
            commit_fields(
                record, op="put", alg=self.alg, timestamp=self._stamp(), principal=PRINCIPAL
            )
        )
        return record

    def delete(self, key: str) -> None:
        record = self.records.pop(key)
        self.append(
            commit_fields(
                record, op="delete", alg=self.alg, timestamp=self._stamp(), principal=PRINCIPAL
            )
        )

    def note(self, event_type: str, address: Address) -> None:
        """An ordinary lifecycle event (not a commitment)."""
        self.append(
            {
                "event_type": event_type,
                "entity_type": address.entity_type.value,
                "entity_id": address.subkey if address.parts else address.dialogue_id,
                "timestamp": self._stamp(),
                "principal": PRINCIPAL,
            }
        )

    def shred(self, version: int, authority: str | None = "erasure-authority") -> str:
        """COMMIT-9: receipt (when an authority signs), destroyed record, its commitment."""
        kid = format_key_id(self.dialogue, version)
        at = ts_text(self.ms + 500)
        if authority is not None:
            seq, prev = self.tip
            stamp = self._stamp()
            self.events.append(
                seal(
                    receipt_fields(
                        signer(authority), self.chain_id, key=kid, destroyed_at=at,
                        tip_count=seq, tip_hash=prev, event_id=self._uuid(seq, 0xE2A),
                        timestamp=stamp, hash_alg=self.alg, principal="erasure:authority",
                        entity_id=self.dialogue,
                    )
                )
            )  # fmt: skip
        rec = self.records[kid]
        assert isinstance(rec, WrappedDek)
        self.put(destroy(rec, at))
        return at

    def boundary(self, label: str = "migration-signer", alg: str = "blake3") -> None:
        seq, prev = self.tip
        stamp = self._stamp()
        fields = make_boundary(
            signer(label),
            event_id=make_uuid7(self.ms, 0xB0B, seq),
            timestamp=stamp,
            hash_alg=alg,
            source_backend="dynamodb",
            source_chain_id=self.chain_id,
            source_count=seq,
            source_tip_hash=prev,
            source_hash_alg=self.alg,
            target_backend="postgres",
            target_chain_id=self.chain_id,
            extra={"entity_type": "meta", "entity_id": self.dialogue},
        )
        self.events.append(fields)
        self.alg = alg

    def checkpoint(
        self, count: int | None = None, label: str = "checkpoint-signer"
    ) -> dict[str, Any]:
        n = len(self.events) if count is None else count
        last = self.events[n - 1]
        return make_checkpoint(
            signer(label), self.chain_id, int(last["seq"]) + 1, str(last["event_hash"]),
            str(last["hash_alg"]), CHECKPOINT_TIME,
        )  # fmt: skip


def rechain(events: list[dict[str, Any]], start: int, chain_id: str) -> None:
    """Reseal ``events[start:]`` so every link holds again, renumbering ``seq`` from
    the previous event: what a store writer without keys can always do."""
    for j in range(start, len(events)):
        f = dict(events[j])
        if j > 0:
            f["seq"] = int(events[j - 1]["seq"]) + 1
            f["previous_hash"] = events[j - 1]["event_hash"]
        else:
            f["seq"] = 0
            f["previous_hash"] = genesis_hash(chain_id, str(f["hash_alg"]))
        events[j] = seal(f)


# --- rendering -------------------------------------------------------------------


def json_item(record: Record) -> dict[str, Any]:
    return {k: typed_to_json(v) for k, v in item_from_record(record).items()}


def event_item(dialogue: str, fields: Mapping[str, Any]) -> dict[str, Any]:
    return json_item(lifecycle_record(dialogue, fields))


def digests(records: Sequence[Record], alg: str) -> list[dict[str, Any]]:
    """COMMIT-3 intermediates of every committable record (informative)."""
    return [
        {
            "record_key": record_key(r),
            "canonical_json": canonical_record_json(r).decode("utf-8"),
            "hash_alg": alg,
            "digest": item_digest(r, alg),
        }
        for r in records
        if committable(r)
    ]


# --- checking ----------------------------------------------------------------------


def records_of(doc: Mapping[str, Any]) -> list[Record]:
    out: list[Record] = []
    for i, obj in enumerate(doc["items"]):
        item = {k: typed_from_json(v, k) for k, v in obj.items()}
        got = record_from_item(item, f"items[{i}]")
        if isinstance(got, Finding):
            raise ValueError(f"items[{i}] does not map to a record: {got}")
        out.append(got)
    return out


def run_case(
    doc: Mapping[str, Any],
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], dict[str, int]]:
    """(COMMIT findings, CHAIN findings, counters) of one case, as the case lists them."""
    trust = TrustStore.of(bytes.fromhex(k) for k in doc["trusted_keys"])
    expectations: list[ChainExpectation] = []
    for i, cp in enumerate(doc["checkpoints"]):
        got = verify_checkpoint(cp, trust, f"checkpoints[{i}]")
        if isinstance(got, Finding):
            raise ValueError(f"checkpoints[{i}] does not verify: {got}")
        expectations.append(got)
    records = records_of(doc)
    result = verify_commitments(records, trust, expectations)
    commit = [
        {"code": f.code.name, "where": f.where, "seq": f.extra.get("seq")} for f in result.findings
    ]
    events: list[AuditEvent] = []
    for r in records:
        if isinstance(r, EntityRecord) and r.address.entity_type is EntityType.EVENT:
            ev = chain_event_from_entity(r)
            if isinstance(ev, AuditEvent):
                events.append(ev)
    events.sort(key=lambda e: (e.chain_id.encode("utf-8"), *lifecycle_order_key(e)))
    chain_result = verify_events(events, ChainPolicy(trust, tuple(expectations)))
    chain = [
        {"code": f.code.name, "chain_id": f.extra.get("chain_id"), "seq": f.extra.get("seq")}
        for f in chain_result.findings
    ]
    return commit, chain, {name: result.checked[name] for name in COUNTERS}


def check_case(doc: Mapping[str, Any]) -> list[str]:
    """Problems of one commitment vector against what it expects ([] = pass)."""
    problems: list[str] = []
    if doc.get("version") != VERSION:
        return [f"version {doc.get('version')!r} is not {VERSION}"]
    commit, chain, checked = run_case(doc)
    expect = doc["expect"]
    if commit != expect["findings"]:
        problems.append(f"findings {commit} != expected {expect['findings']}")
    if chain != expect["chain_findings"]:
        problems.append(f"chain findings {chain} != expected {expect['chain_findings']}")
    if checked != expect["checked"]:
        problems.append(f"counters {checked} != expected {expect['checked']}")
    ok = not commit and not chain
    if ok != expect["ok"]:
        problems.append(f"ok is {ok}, expected {expect['ok']}")
    by_key = {record_key(r): r for r in records_of(doc)}
    for d in doc.get("digests", []):
        r = by_key.get(d["record_key"])
        if r is None or item_digest(r, d["hash_alg"]) != d["digest"]:  # ct-ok: public vector values
            problems.append(f"digest of {d['record_key']} is not {d['digest']}")
        elif canonical_record_json(r).decode("utf-8") != d["canonical_json"]:
            problems.append(f"canonical JSON of {d['record_key']} differs")
    return problems


__all__ = [
    "CASE_TYPE",
    "DialogueWriter",
    "check_case",
    "event_item",
    "json_item",
    "rechain",
    "run_case",
]
