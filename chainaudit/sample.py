"""A realistic sample dataset, built the way the audited service writes data.

``chainaudit demo`` writes it; the end-to-end tests seed stores with it.
It holds several dialogues with every entity type, a UMK and wrapped DEKs
per dialogue, the crypto audit log chain, each dialogue's lifecycle chain,
a key rotation, a crypto-shredded dialogue, and a dialogue whose lifecycle
chain already crossed a migration boundary (DynamoDB → PostgreSQL). Every
record version it writes (entities and each state of each wrapped DEK) is
committed in its dialogue's lifecycle chain, and the shredded dialogue's
key carries an erasure receipt signed by the sample's erasure authority
(docs/commitments.md COMMIT-9).

Everything derives from a seed label (SHA-256 of label and counter), and
time is a parameter, so the same seed gives the same bytes: the demo's
output can be quoted in docs and compared in tests. Real writers must use
fresh random keys and nonces (``keys.hierarchy.new_dek``, ``envelope.seal.seal_random``).
"""

from __future__ import annotations

import calendar
import hashlib
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from chainaudit.chain.events import lifecycle_chain_id, lifecycle_record
from chainaudit.chain.uuid7 import make as make_uuid7
from chainaudit.chain.writer import ChainWriter
from chainaudit.envelope.seal import seal as seal_envelope
from chainaudit.keys.hierarchy import derive_kek, destroy, format_key_id, retire, wrap_dek
from chainaudit.keys.signing import private_key_from_label
from chainaudit.keys.umk import Umk
from chainaudit.records.address import Address, EntityType, escape_component
from chainaudit.records.model import AttrValue, AuditEvent, EntityRecord, Record, WrappedDek

AUDIT_CHAIN = "crypto-audit"
DEFAULT_SEED = "chainaudit-demo-v1"
#: 2026-03-02T09:00:00Z, when the sample's first event happens.
START_MS = calendar.timegm((2026, 3, 2, 9, 0, 0, 0, 0, 0)) * 1000


def ts(ms: int) -> str:
    """RFC 3339 UTC with milliseconds, as every sample timestamp."""
    secs, milli = divmod(ms, 1000)
    y, mo, d, h, mi, s = time.gmtime(secs)[:6]
    return f"{y:04d}-{mo:02d}-{d:02d}T{h:02d}:{mi:02d}:{s:02d}.{milli:03d}Z"


@dataclass
class Sample:
    """The dataset: records in write order, plus the secrets an auditor is given."""

    records: list[Record] = field(default_factory=list)
    umk: Umk | None = None
    signer: Ed25519PrivateKey | None = None
    notes: list[str] = field(default_factory=list)
    #: The erasure authority that signs destruction receipts (COMMIT-7).
    erasure_signer: Ed25519PrivateKey | None = None
    #: Every chain's final (chain id, count, tip hash, hash_alg), for checkpoints.
    tips: list[tuple[str, int, str, str]] = field(default_factory=list)
    #: Older versions of updated records, validly sealed and committed once:
    #: what a rollback puts back (docs/commitments.md, tests).
    superseded: list[EntityRecord] = field(default_factory=list)


class SampleWriter:
    """Writes entities, keys and both chains as the audited service would.

    Chains are appended through :class:`chainaudit.chain.writer.ChainWriter` (the
    public writer helper): the sample's events, commitments, receipt and
    boundary are what any producer using the public API writes."""

    def __init__(self, seed: str = DEFAULT_SEED, start_ms: int = START_MS) -> None:
        self.seed = seed
        self.now_ms = start_ms
        self._counter = 0
        self.umk = Umk.from_hex(self._bytes("umk").hex())
        self.signer = private_key_from_label(f"{seed}/migration-signer")
        self.erasure_signer = private_key_from_label(f"{seed}/erasure-authority")
        self.records: list[Record] = []
        self.superseded: list[EntityRecord] = []
        self._deks: dict[str, tuple[WrappedDek, bytes]] = {}
        self._chains: dict[str, ChainWriter] = {}

    # -- deterministic sources ------------------------------------------------

    def _bytes(self, label: str, n: int = 32) -> bytes:
        self._counter += 1
        return hashlib.sha256(f"{self.seed}/{label}/{self._counter}".encode()).digest()[:n]

    def _tick(self, ms: int = 1500) -> str:
        self.now_ms += ms
        return ts(self.now_ms)

    def _uuid(self) -> str:
        r = int.from_bytes(self._bytes("uuid", 10), "big")
        return make_uuid7(self.now_ms, r & 0xFFF, (r >> 12) & ((1 << 62) - 1))

    # -- chains ----------------------------------------------------------------

    def _chain(self, chain_id: str) -> ChainWriter:
        ch = self._chains.get(chain_id)
        if ch is None:
            ch = self._chains[chain_id] = ChainWriter(chain_id)
        return ch

    def _append(self, chain_id: str, fields: dict[str, Any]) -> dict[str, Any]:
        ch = self._chain(chain_id)
        fields = {**fields, "event_id": self._uuid()}
        fields.setdefault("timestamp", ts(self.now_ms))
        return ch.append(fields)

    def audit(self, operation: str, key_id: str, outcome: str = "success") -> None:
        """One crypto audit log event (CHAIN-2)."""
        self._tick(200)
        fields = self._append(
            AUDIT_CHAIN,
            {
                "trace_id": self._bytes("trace", 16).hex(),
                "span_id": self._bytes("span", 8).hex(),
                "operation": operation,
                "key_id": key_id,
                "principal": "svc:dialogues",
                "outcome": outcome,
            },
        )
        self.records.append(AuditEvent(AUDIT_CHAIN, fields))

    def lifecycle(self, dialogue_id: str, event_type: str, target: Address) -> None:
        """One lifecycle ``event#...`` item describing ``target`` (CHAIN-5)."""
        stamp = self._tick(300)
        d = escape_component(dialogue_id)
        entity_id = target.subkey if target.parts else dialogue_id
        fields = self._append(
            lifecycle_chain_id(d),
            {
                "event_type": event_type,
                "entity_type": target.entity_type.value,
                "entity_id": entity_id,
                "timestamp": stamp,
                "principal": "svc:dialogues",
            },
        )
        self.records.append(lifecycle_record(d, fields))

    def commit(self, record: Record, op: str = "put") -> None:
        """COMMIT-4: commit a record version just written (or deleted) in its
        dialogue's lifecycle chain, with the digest the verifier computes."""
        if isinstance(record, EntityRecord):
            d = record.address.dialogue
        elif isinstance(record, WrappedDek):
            d = record.dialogue
        else:
            raise TypeError("only entity and wrapped-DEK records are committed")
        stamp = self._tick(300)
        self.records.append(
            self._chain(lifecycle_chain_id(d)).commit(
                record, timestamp=stamp, principal="svc:dialogues", op=op, event_id=self._uuid()
            )
        )

    # -- keys ------------------------------------------------------------------

    def new_key(self, dialogue_id: str, owner: str) -> str:
        """Create (or rotate to) the next DEK version of a dialogue, logged."""
        d = escape_component(dialogue_id)
        versions = [v for (dd, v) in (_split(k) for k in self._deks) if dd == d]
        version = max(versions, default=0) + 1
        key_id = format_key_id(d, version)
        if versions:
            old_id = format_key_id(d, max(versions))
            old, old_dek = self._deks[old_id]
            self._deks[old_id] = (retire(old), old_dek)
            self.commit(self._deks[old_id][0])
        self.audit("derive_kek", key_id)
        dek = self._bytes("dek")
        record = wrap_dek(
            derive_kek(self.umk, owner), dek, key_id, owner, d, version,
            self._bytes("wrap-nonce", 12), self._tick(100),
        )  # fmt: skip
        self._deks[key_id] = (record, dek)
        self.commit(record)
        self.audit("wrap_dek", key_id)
        if versions:
            self.audit("rotate_dek", format_key_id(d, max(versions)))  # CHAIN-9: the retired key
        return key_id

    def shred(self, key_id: str, signed: bool = True) -> None:
        """Crypto-shred a key (KEY-6): the erasure authority's receipt at the
        dialogue's chain tip (COMMIT-7), the destroyed record and its
        commitment, and the ``destroy_dek`` audit event."""
        record, _ = self._deks[key_id]
        at = self._tick(100)
        ch = self._chain(lifecycle_chain_id(record.dialogue))
        if signed:
            stamp = self._tick(300)
            receipt = ch.erasure_receipt(
                self.erasure_signer, key_id=key_id, destroyed_at=at, timestamp=stamp,
                principal="erasure:authority", event_id=self._uuid(),
            )  # fmt: skip
            self.records.append(receipt)
        self._deks[key_id] = (destroy(record, at), b"")
        self.commit(self._deks[key_id][0])
        self.audit("destroy_dek", key_id)

    # -- entities --------------------------------------------------------------

    def entity(
        self, key_id: str, dialogue_id: str, etype: EntityType, parts: tuple[str, ...],
        payload: dict[str, Any], attrs: dict[str, AttrValue] | None = None,
    ) -> Address:  # fmt: skip
        """Seal and store one entity, with its lifecycle event and audit event."""
        address = Address.of(dialogue_id, etype, *parts)
        stamp = self._tick()
        cleartext: dict[str, AttrValue] = {
            "entity_type": {"S": etype.value},
            "created_at": {"S": stamp},
            "updated_at": {"S": stamp},
            **(attrs or {}),
        }
        envelope = None
        if address.has_envelope:
            _, dek = self._deks[key_id]
            envelope = seal_envelope(address, payload, dek, key_id, self._bytes("nonce", 12))
            self.audit("encrypt", key_id)
        self.records.append(EntityRecord(address, cleartext, envelope))
        self.commit(self.records[-1])
        self.lifecycle(dialogue_id, "created", address)
        return address

    def update(
        self, key_id: str, address: Address, payload: dict[str, Any], attrs: dict[str, AttrValue]
    ) -> None:
        """Store a new version of an entity (resealed under ``key_id``), committed;
        the old version is kept in ``superseded``."""
        i = next(
            i for i, r in enumerate(self.records)
            if isinstance(r, EntityRecord) and r.address == address
        )  # fmt: skip
        old = self.records[i]
        assert isinstance(old, EntityRecord)
        stamp = self._tick()
        _, dek = self._deks[key_id]
        envelope = seal_envelope(address, payload, dek, key_id, self._bytes("nonce", 12))
        self.audit("encrypt", key_id)
        new = EntityRecord(
            address, {**old.attributes, "updated_at": {"S": stamp}, **attrs}, envelope
        )
        self.superseded.append(old)
        self.records[i] = new
        self.commit(new)
        self.lifecycle(address.dialogue_id, "updated", address)

    def boundary(self, dialogue_id: str, source: str, target: str) -> None:
        """Cut the dialogue's lifecycle chain here with a signed boundary (CHAIN-12)."""
        ch = self._chains[lifecycle_chain_id(escape_component(dialogue_id))]
        stamp = self._tick(60_000)
        self.records.append(
            ch.boundary(
                self.signer,
                timestamp=stamp,
                source_backend=source,
                target_backend=target,
                hash_alg="blake3",
                event_id=self._uuid(),
            )
        )

    def finish(self) -> Sample:
        """All records, with every wrapped DEK in its final state."""
        records = list(self.records) + [rec for rec, _ in self._deks.values()]
        tips = [(c.chain_id, c.count, c.tip, c.hash_alg) for c in self._chains.values()]
        return Sample(
            records, self.umk, self.signer, erasure_signer=self.erasure_signer, tips=tips,
            superseded=list(self.superseded),
        )  # fmt: skip


def _split(key_id: str) -> tuple[str, int]:
    _, d, v = key_id.split("#")
    return d, int(v)


def _dialogue(w: SampleWriter, dialogue_id: str, owner: str, title: str) -> str:
    """One dialogue with every entity type; returns its current key id."""
    key = w.new_key(dialogue_id, owner)
    w.entity(key, dialogue_id, EntityType.META, (), {"title": title, "owner": owner},
             {"status": {"S": "open"}})  # fmt: skip
    for slug, name in (("muffin", "Muffin"), ("scone", "Scone")):
        w.entity(key, dialogue_id, EntityType.EXPERT, (slug,), {"name": name, "persona": f"{name} argues"},
                 {"tier": {"S": "core"}})  # fmt: skip
    for r in ("01", "02"):
        w.entity(key, dialogue_id, EntityType.ROUND, (r,), {"summary": f"round {r}"},
                 {"status": {"S": "closed"}})  # fmt: skip
        for n in ("01", "02"):
            for et in (EntityType.PERSPECTIVE, EntityType.TENSION, EntityType.RECOMMENDATION,
                       EntityType.EVIDENCE, EntityType.CLAIM):  # fmt: skip
                w.entity(key, dialogue_id, et, (r, n), {"text": f"{et.value} {r}.{n} of {title}"},
                         {"score": {"N": str(int(r) * 10 + int(n))}})  # fmt: skip
            w.entity(key, dialogue_id, EntityType.MOVE, (r, "muffin", n), {"move": "concede"})
    w.entity(key, dialogue_id, EntityType.VERDICT, ("final",), {"verdict": f"{title}: adopt"},
             {"status": {"S": "final"}})  # fmt: skip
    w.entity(key, dialogue_id, EntityType.REF, ("P0101", "supports", "T0101"), {},
             {"source": {"S": "perspective#01#01"}})  # fmt: skip
    return key


def build_sample(seed: str = DEFAULT_SEED) -> Sample:
    """The demo dataset (see the module docstring); deterministic in ``seed``."""
    w = SampleWriter(seed)
    key1 = _dialogue(w, "dlg-2026-001", "user:ada", "Storage engine")
    # An update: a second version of a claim under the same key (the first is superseded).
    w.update(key1, Address.of("dlg-2026-001", EntityType.CLAIM, "01", "01"),
             {"text": "claim 01.01 of Storage engine, revised"}, {"score": {"N": "12"}})  # fmt: skip
    key = _dialogue(w, "dlg-2026-002", "user:grace", "Key rotation policy")
    # Rotation: new version; later writes use it, earlier records stay under v1.
    key2 = w.new_key("dlg-2026-002", "user:grace")
    w.entity(key2, "dlg-2026-002", EntityType.VERDICT, ("addendum",), {"verdict": "rotate yearly"})
    # An update after the rotation: the new version is under v2, the old one under retired v1.
    w.update(key2, Address.of("dlg-2026-002", EntityType.CLAIM, "01", "01"),
             {"text": "claim 01.01 of Key rotation policy, revised"}, {"score": {"N": "12"}})  # fmt: skip
    assert key != key2
    shredded = _dialogue(w, "dlg-2026-003", "user:linus", "Erased on request")
    w.shred(shredded)
    _dialogue(w, "dlg/2026#004 Zürich", "user:émile", "Ids that need escaping")
    _dialogue(w, "dlg-2026-005", "user:ada", "Migrated dialogue")
    w.boundary("dlg-2026-005", "dynamodb", "postgresql")
    key5 = format_key_id("dlg-2026-005", 1)
    w.entity(key5, "dlg-2026-005", EntityType.VERDICT, ("post-migration",), {"verdict": "kept"})
    sample = w.finish()
    sample.notes = [
        "dlg-2026-001, dlg-2026-002: claim 01#01 updated once (under key v1; after the "
        "rotation, under v2)",
        "dlg-2026-002: key rotated to version 2 (version 1 retired, still decrypts old records)",
        "dlg-2026-003: key destroyed (crypto-shredded) with a receipt signed by the erasure "
        "authority: records remain, cannot be decrypted",
        "dlg/2026#004 Zürich: an id with '/', '#', a space and non-ASCII, escaped in keys",
        "dlg-2026-005: lifecycle chain crosses a signed migration boundary (sha256 -> blake3)",
        "every record version is committed in its dialogue's lifecycle chain (docs/commitments.md)",
    ]
    return sample


def iter_records(sample: Sample) -> Iterator[Record]:
    """The sample's records (a convenience for writers that take an iterator)."""
    yield from sample.records
