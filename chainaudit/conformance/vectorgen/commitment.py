"""Generate ``vectors/commitment/``: record commitments and erasure receipts (COMMIT).

Every case is a small dataset written by
:class:`~chainaudit.conformance.vectorgen.commitment_build.DialogueWriter` (the way a
committing writer writes, COMMIT-9), optionally mutated the way an attacker
who can write the store but holds no key could, with the exact findings
docs/commitments.md requires. The expected findings are declared here from
the spec, case by case; :func:`check` runs the library and compares.
Formats: ``docs/vectors.md`` (Commitment vectors).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from chainaudit.chain.events import seal
from chainaudit.chain.uuid7 import make as make_uuid7
from chainaudit.commitments.events import receipt_fields
from chainaudit.commitments.verify import COUNTERS
from chainaudit.conformance.check import CaseResult
from chainaudit.conformance.vectorgen import write_json
from chainaudit.conformance.vectorgen.chain_build import ts_text
from chainaudit.conformance.vectorgen.commitment_build import (
    CASE_TYPE,
    SUBDIR,
    VERSION,
    DialogueWriter,
    check_case,
    dek,
    digests,
    event_item,
    json_item,
    pinned_keys,
    rechain,
    signer,
)
from chainaudit.envelope.seal import seal as seal_envelope
from chainaudit.keys.hierarchy import destroy
from chainaudit.records.address import Address, EntityType
from chainaudit.records.digest import record_key
from chainaudit.records.model import EntityRecord, Record, WrappedDek

D1 = "dlg-0001"
D2 = "dlg-0002"
C1 = f"dialogue:{D1}/events"
C2 = f"dialogue:{D2}/events"
CLAIM1 = f"dialogue:{D1}/entity:claim/01#01"
CLAIM2 = f"dialogue:{D1}/entity:claim/01#02"
CLAIM3 = f"dialogue:{D1}/entity:claim/01#03"
REF = f"dialogue:{D1}/entity:ref/c-0101#supports#c-0102"
VERDICT = f"dialogue:{D1}/entity:verdict/final"
META1 = f"dialogue:{D1}/entity:meta"
DEK1 = f"dek#{D1}#1"
DEK2 = f"dek#{D1}#2"
E_META = f"dialogue:{D2}/entity:meta"
E_CLAIM = f"dialogue:{D2}/entity:claim/01#01"
E_REF = f"dialogue:{D2}/entity:ref/c-0101#cites#c-0101"
E_DEK = f"dek#{D2}#1"


@dataclass
class Case:
    name: str
    group: str
    description: str
    writers: list[DialogueWriter]
    findings: list[tuple[str, str, int | None]] = field(default_factory=list)
    chain: list[tuple[str, str, int | None]] = field(default_factory=list)
    checked: dict[str, int] = field(default_factory=dict)
    checkpoints: list[dict[str, Any]] = field(default_factory=list)
    mutation: dict[str, Any] | None = None
    trusted: list[str] | None = None


# --- base datasets ---------------------------------------------------------------


@dataclass
class Base:
    """The base dialogue and the versions a mutation may put back."""

    w: DialogueWriter
    old: dict[str, Record]


def base(alg: str = "sha256") -> Base:
    """dlg-0001 (docs/vectors.md): 11 events, 7 records, a rotation, two versions of two claims.

    seq 0 dek#1 · 1 meta · 2 claim 01#01 v1 · 3 claim 01#02 v1 · 4 claim 01#02 v2 ·
    5 ref · 6 status_changed (not a commitment) · 7 dek#1 retired · 8 dek#2 ·
    9 claim 01#01 v2 (under dek#2) · 10 verdict.
    """
    w = DialogueWriter(D1, alg)
    old: dict[str, Record] = {}
    w.new_key(1)
    w.entity(EntityType.META, (), {"title": "Storage"}, {"status": {"S": "open"}})
    old[CLAIM1] = w.entity(
        EntityType.CLAIM, ("01", "01"), {"text": "first"}, {"score": {"N": "1"}}, label="v1"
    )
    old[CLAIM2] = w.entity(
        EntityType.CLAIM, ("01", "02"), {"text": "second"}, {"score": {"N": "2"}}, label="v1"
    )
    w.entity(
        EntityType.CLAIM, ("01", "02"), {"text": "second, revised"}, {"score": {"N": "3"}},
        label="v2",
    )  # fmt: skip
    w.entity(EntityType.REF, ("c-0101", "supports", "c-0102"), {}, {"source": {"S": "claim#01#01"}})
    w.note("status_changed", Address.parse(CLAIM1))
    w.new_key(2)
    w.entity(
        EntityType.CLAIM, ("01", "01"), {"text": "first, resealed"}, {"score": {"N": "4"}},
        version=2, label="v2",
    )  # fmt: skip
    w.entity(EntityType.VERDICT, ("final",), {"verdict": "adopt"}, {"status": {"S": "final"}}, 2)
    return Base(w, old)


def erased(authority: str | None = "erasure-authority") -> DialogueWriter:
    """dlg-0002: seq 0 dek#1 · 1 meta · 2 claim · 3 ref · 4 erasure receipt · 5 dek#1 destroyed."""
    w = DialogueWriter(D2, ms=base().w.ms + 60_000)
    w.new_key(1)
    w.entity(EntityType.META, (), {"title": "Erased on request"})
    w.entity(EntityType.CLAIM, ("01", "01"), {"text": "to be erased"}, {"score": {"N": "5"}})
    w.entity(EntityType.REF, ("c-0101", "cites", "c-0101"), {})
    w.shred(1, authority)
    return w


def counters(**values: int) -> dict[str, int]:
    return {name: values.get(name, 0) for name in COUNTERS}


def tweak_hex(text: str) -> str:
    """The last hex digit replaced by the next one (mod 16)."""
    return text[:-1] + "0123456789abcdef"[("0123456789abcdef".index(text[-1]) + 1) % 16]


# --- positive cases ----------------------------------------------------------------


def positive() -> list[Case]:
    out: list[Case] = []
    b = base()
    out.append(
        Case(
            "valid-committed-anchored", "positive",
            "every record matches its latest commitment, and a checkpoint at the chain's "
            "tip anchors them all (COMMIT-5, COMMIT-6)",
            [b.w], checked=counters(records_committed=7), checkpoints=[b.w.checkpoint()],
        )
    )  # fmt: skip
    b = base()
    out.append(
        Case(
            "valid-committed-unanchored", "positive",
            "the same dataset without a checkpoint: every record matches, none is anchored",
            [b.w], checked=counters(records_committed_unanchored=7),
        )
    )  # fmt: skip
    b = base()
    out.append(
        Case(
            "valid-checkpoint-prefix", "positive",
            "a checkpoint at count 8 anchors the commitments at seq 0..7 only: records "
            "whose latest commitment is at 8, 9 or 10 are counted unanchored",
            [b.w], checked=counters(records_committed=4, records_committed_unanchored=3),
            checkpoints=[b.w.checkpoint(8)],
        )
    )  # fmt: skip
    b = base("blake3")
    out.append(
        Case(
            "valid-blake3", "positive",
            "a BLAKE3 lifecycle chain: digests are BLAKE3 (COMMIT-3, the commitment's own hash_alg)",
            [b.w], checked=counters(records_committed=7), checkpoints=[b.w.checkpoint()],
        )
    )  # fmt: skip
    b = base()
    legacy = DialogueWriter(D1)
    legacy.records = dict(b.w.records)
    legacy.note("created", Address.parse(META1))
    out.append(
        Case(
            "valid-uncommitted-dialogue", "positive",
            "data written without commitments: no finding, every record counted uncommitted",
            [legacy], checked=counters(records_uncommitted=7),
        )
    )  # fmt: skip
    b = base()
    b.w.delete(CLAIM2)
    out.append(
        Case(
            "valid-delete-committed", "positive",
            "claim 01#02 deleted with a delete commitment at seq 11: its absence is not a finding",
            [b.w], checked=counters(records_committed=6), checkpoints=[b.w.checkpoint()],
        )
    )  # fmt: skip
    b = base()
    b.w.boundary()
    b.w.entity(EntityType.VERDICT, ("post",), {"verdict": "kept"}, None, 2)
    out.append(
        Case(
            "valid-boundary-anchors", "positive",
            "a pinned migration boundary at seq 11 anchors the commitments before it "
            "(COMMIT-5); the record committed after it (BLAKE3) is unanchored",
            [b.w], checked=counters(records_committed=7, records_committed_unanchored=1),
        )
    )  # fmt: skip
    w = erased()
    out.append(
        Case(
            "valid-erasure-signed", "positive",
            "dek#dlg-0002#1 destroyed with a receipt signed by the pinned erasure authority at "
            "seq 4; the receipt anchors the three records committed before it; the destroyed "
            "record's own commitment (seq 5) is unanchored (COMMIT-8)",
            [w], checked=counters(records_committed=3, records_committed_unanchored=1,
                                  erasures_signed=1),
        )
    )  # fmt: skip
    return out


# --- negative cases ----------------------------------------------------------------


def _set_record(w: DialogueWriter, record: Record) -> None:
    w.records[record_key(record)] = record


def _entity(r: Record) -> EntityRecord:
    assert isinstance(r, EntityRecord)
    return r


def negative() -> list[Case]:
    out: list[Case] = []
    ck = counters(records_committed=6)

    def case(
        name: str, description: str, mutate: Callable[[Base], object], method: str,
        findings: list[tuple[str, str, int | None]], chain: list[tuple[str, str, int | None]],
        checked: dict[str, int], checkpoint: bool = True,
    ) -> None:  # fmt: skip
        b = base()
        cps = [b.w.checkpoint()] if checkpoint else []
        mutate(b)
        out.append(
            Case(
                name,
                "negative",
                description,
                [b.w],
                findings,
                chain,
                checked,
                cps,
                {"method": method},
            )
        )

    case(
        "rollback-same-key",
        "claim 01#02 replaced by its first version (seq 3), validly sealed under the same key",
        lambda b: _set_record(b.w, b.old[CLAIM2]),
        "rollback", [("COMMIT_ROLLBACK", CLAIM2, 4)], [], ck,
    )  # fmt: skip
    case(
        "rollback-retired-key",
        "claim 01#01 replaced by its first version, sealed under the retired key dek#dlg-0001#1",
        lambda b: _set_record(b.w, b.old[CLAIM1]),
        "rollback", [("COMMIT_ROLLBACK", CLAIM1, 9)], [], ck,
    )  # fmt: skip

    def edit_score(b: Base) -> None:
        r = _entity(b.w.records[CLAIM2])
        _set_record(
            b.w, EntityRecord(r.address, {**r.attributes, "score": {"N": "30"}}, r.envelope)
        )

    case(
        "edit-cleartext-attribute",
        "the cleartext attribute score of claim 01#02 changed from 3 to 30 (no key needed)",
        edit_score, "edit-attribute", [("COMMIT_MISMATCH", CLAIM2, 4)], [], ck,
    )  # fmt: skip

    def add_attr(b: Base) -> None:
        r = _entity(b.w.records[VERDICT])
        _set_record(
            b.w, EntityRecord(r.address, {**r.attributes, "tier": {"S": "core"}}, r.envelope)
        )

    case(
        "add-cleartext-attribute",
        "an attribute tier added to the verdict",
        add_attr, "add-attribute", [("COMMIT_MISMATCH", VERDICT, 10)], [], ck,
    )  # fmt: skip

    def plant(b: Base) -> None:
        a = Address.parse(CLAIM3)
        env = seal_envelope(a, {"text": "planted"}, dek(DEK2), DEK2, bytes(12))
        _set_record(b.w, EntityRecord(a, {"entity_type": {"S": "claim"}}, env))

    case(
        "planted-record",
        "claim 01#03, validly sealed under the active key, added without a commitment",
        plant, "plant", [("COMMIT_MISSING", CLAIM3, None)], [], counters(records_committed=7),
    )  # fmt: skip
    case(
        "deleted-record",
        "claim 01#02 removed from the store; its latest commitment (seq 4) puts it",
        lambda b: b.w.records.pop(CLAIM2) and None,
        "delete", [("COMMIT_RECORD_MISSING", CLAIM2, 4)], [], counters(records_committed=6),
    )  # fmt: skip

    def restore(b: Base) -> None:
        kept = b.w.records[CLAIM2]
        b.w.delete(CLAIM2)
        _set_record(b.w, kept)

    case(
        "restored-after-delete",
        "claim 01#02 deleted with a commitment (seq 11), then put back",
        restore, "restore", [("COMMIT_ROLLBACK", CLAIM2, 11)], [],
        counters(records_committed_unanchored=6), checkpoint=False,
    )  # fmt: skip

    def forge(rehash: bool) -> Callable[[Base], None]:
        def f(b: Base) -> None:
            ev = dict(b.w.events[9])
            ev["record_digest"] = tweak_hex(ev["record_digest"])
            b.w.events[9] = seal(ev) if rehash else ev
            if rehash:
                rechain(b.w.events, 10, C1)

        return f

    case(
        "commitment-forged-digest",
        "the digest of claim 01#01's latest commitment (seq 9) edited, nothing rehashed",
        forge(False), "edit-commitment",
        [("COMMIT_MISMATCH", CLAIM1, 9)], [("EVENT_HASH_MISMATCH", C1, 9)], ck,
    )  # fmt: skip
    case(
        "commitment-forged-rehashed",
        "the same edit with the chain rehashed from seq 9: only the checkpoint at 11 sees the "
        "chain changed",
        forge(True), "edit-commitment-rehash",
        [("COMMIT_MISMATCH", CLAIM1, 9)], [("CHAIN_TIP_MISMATCH", C1, 10)], ck,
    )  # fmt: skip
    case(
        "commitment-dropped",
        "the ref's only commitment (seq 5) removed",
        lambda b: b.w.events.pop(5) and None, "drop-commitment",
        [("COMMIT_MISSING", REF, None)], [("CHAIN_GAP", C1, 5)], ck,
    )  # fmt: skip

    def drop_rehash(b: Base) -> None:
        b.w.events.pop(5)
        rechain(b.w.events, 5, C1)

    case(
        "commitment-dropped-rehashed",
        "the ref's commitment removed and the chain renumbered and rehashed: the checkpoint "
        "at 11 catches the shortened chain",
        drop_rehash, "drop-commitment-rehash",
        [("COMMIT_MISSING", REF, None)], [("CHAIN_TRUNCATED", C1, 10)], ck,
    )  # fmt: skip
    case(
        "commitment-duplicated",
        "the commitment at seq 3 stored twice: a chain finding only (both copies say the same)",
        lambda b: b.w.events.insert(4, dict(b.w.events[3])), "duplicate-commitment",
        [], [("CHAIN_DUPLICATE", C1, 3)], counters(records_committed=7),
    )  # fmt: skip

    def reorder(b: Base) -> None:
        first, second = b.w.events[3], b.w.events[4]
        b.w.events[3] = {**first, "record_digest": second["record_digest"]}
        b.w.events[4] = {**second, "record_digest": first["record_digest"]}
        rechain(b.w.events, 3, C1)

    case(
        "commitment-reordered",
        "claim 01#02's two commitments exchanged and the chain rehashed: the stored version "
        "is now the older committed one",
        reorder, "reorder-commitments",
        [("COMMIT_ROLLBACK", CLAIM2, 4)], [("CHAIN_TIP_MISMATCH", C1, 10)], ck,
    )  # fmt: skip

    def other_dialogue(b: Base) -> None:
        ev = dict(b.w.events[5])
        ev["record_key"] = REF.replace(D1, D2)
        b.w.events[5] = seal(ev)

    case(
        "commitment-key-of-other-dialogue",
        "the commitment at seq 5 names a record of dlg-0002 (COMMIT-2: malformed)",
        other_dialogue, "edit-commitment",
        [("COMMIT_MISSING", REF, None)],
        [("CHAIN_EVENT_MALFORMED", C1, 5), ("CHAIN_GAP", C1, 5)], ck,
    )  # fmt: skip

    def bad_op(b: Base) -> None:
        ev = dict(b.w.events[5])
        ev["record_op"] = "update"
        b.w.events[5] = seal(ev)

    case(
        "commitment-op-unknown",
        "record_op update (COMMIT-2 allows put and delete)",
        bad_op, "edit-commitment",
        [("COMMIT_MISSING", REF, None)],
        [("CHAIN_EVENT_MALFORMED", C1, 5), ("CHAIN_GAP", C1, 5)], ck,
    )  # fmt: skip

    def forge_erasure(recommit: bool) -> Callable[[Base], None]:
        def f(b: Base) -> None:
            r = b.w.records[DEK2]
            assert isinstance(r, WrappedDek)
            gone = destroy(r, "2026-01-02T03:05:00.000Z")
            if recommit:
                b.w.put(gone)
            else:
                _set_record(b.w, gone)

        return f

    case(
        "forged-erasure",
        "the active dek#dlg-0001#2 marked destroyed (key material removed) by a store writer: "
        "no receipt, and the key record no longer matches its commitment",
        forge_erasure(False), "forge-erasure",
        [("ERASURE_UNSIGNED", DEK2, None), ("COMMIT_MISMATCH", DEK2, 8)], [],
        counters(records_committed=6, erasures_unproven=1),
    )  # fmt: skip
    case(
        "forged-erasure-recommitted",
        "the same, with a commitment of the destroyed record appended after the checkpoint: "
        "still no receipt",
        forge_erasure(True), "forge-erasure",
        [("ERASURE_UNSIGNED", DEK2, None)], [],
        counters(records_committed=6, records_committed_unanchored=1, erasures_unproven=1),
    )  # fmt: skip
    out.extend(_erasure_negative())
    return out


def _erasure_case(
    name: str, description: str, w: DialogueWriter, method: str,
    findings: list[tuple[str, str, int | None]], checked: dict[str, int],
    chain: list[tuple[str, str, int | None]] | None = None,
    extra: list[DialogueWriter] | None = None,
) -> Case:  # fmt: skip
    return Case(
        name,
        "negative",
        description,
        [*(extra or []), w],
        findings,
        chain or [],
        checked,
        [],
        {"method": method},
    )


def _receipt_at(w: DialogueWriter) -> int:
    return next(i for i, e in enumerate(w.events) if e["event_type"] == "erasure_receipt")


def _erasure_negative() -> list[Case]:
    out: list[Case] = []
    unproven = counters(records_committed_unanchored=4, erasures_unproven=1)
    out.append(
        _erasure_case(
            "erasure-unsigned", "dek#dlg-0002#1 destroyed without an erasure receipt",
            erased(None), "no-receipt", [("ERASURE_UNSIGNED", E_DEK, None)], unproven,
        )
    )  # fmt: skip
    w = erased()
    i = _receipt_at(w)
    ev = dict(w.events[i])
    ev["signature"] = ("1" if ev["signature"][0] != "1" else "2") + ev["signature"][1:]
    w.events[i] = seal(ev)
    rechain(w.events, i + 1, C2)
    out.append(
        _erasure_case(
            "erasure-forged-signature",
            "the receipt's signature changed (event rehashed): forged",
            w, "edit-receipt", [("ERASURE_RECEIPT_INVALID", f"chain:{C2}@4", 4)], unproven,
        )
    )  # fmt: skip
    out.append(
        _erasure_case(
            "erasure-unpinned",
            "the receipt is signed by mallory, whose key is not pinned",
            erased("mallory"), "unpinned-receipt",
            [("ERASURE_SIGNER_UNTRUSTED", f"chain:{C2}@4", 4)], unproven,
        )
    )  # fmt: skip

    def rewrite_receipt(**changes: Any) -> DialogueWriter:
        """Receipt re-signed by the authority with some statement fields changed."""
        w = erased()
        i = _receipt_at(w)
        old = w.events[i]
        fields = receipt_fields(
            signer("erasure-authority"), C2,
            key=changes.get("key", old["erased_key_id"]),
            destroyed_at=changes.get("destroyed_at", old["destroyed_at"]),
            tip_count=old["tip_count"], tip_hash=old["tip_hash"], event_id=old["event_id"],
            timestamp=old["timestamp"], hash_alg=old["hash_alg"], principal=old["principal"],
            entity_id=D2,
        )  # fmt: skip
        w.events[i] = seal(fields)
        rechain(w.events, i + 1, C2)
        return w

    out.append(
        _erasure_case(
            "erasure-wrong-key",
            "the authority's receipt names dek#dlg-0002#2, which is not the destroyed key",
            rewrite_receipt(key=f"dek#{D2}#2"), "receipt-other-key",
            [("ERASURE_RECEIPT_MISMATCH", f"chain:{C2}@4", 4), ("ERASURE_UNSIGNED", E_DEK, None)],
            unproven,
        )
    )  # fmt: skip
    out.append(
        _erasure_case(
            "erasure-key-of-other-dialogue",
            "the authority's receipt in dlg-0002's chain names dek#dlg-0001#1",
            rewrite_receipt(key=DEK1), "receipt-other-dialogue",
            [("ERASURE_RECEIPT_MISMATCH", f"chain:{C2}@4", 4), ("ERASURE_UNSIGNED", E_DEK, None)],
            unproven,
        )
    )  # fmt: skip
    out.append(
        _erasure_case(
            "erasure-wrong-time",
            "the receipt's destroyed_at is not the key record's",
            rewrite_receipt(destroyed_at="2026-01-01T00:00:00.000Z"), "receipt-other-time",
            [("ERASURE_RECEIPT_MISMATCH", f"chain:{C2}@4", 4)], unproven,
        )
    )  # fmt: skip
    w = erased()
    i = _receipt_at(w)
    ms = w.ms - 1500  # half-way between the ref's commitment and the receipt
    w.events.insert(
        i,
        {
            "event_type": "updated",
            "entity_type": "meta",
            "entity_id": D2,
            "timestamp": ts_text(ms),
            "principal": "mallory",
            "event_id": make_uuid7(ms, 0xA11, i),
            "hash_alg": "sha256",
        },
    )
    rechain(w.events, i, C2)
    out.append(
        _erasure_case(
            "erasure-wrong-tip",
            "an event inserted before the receipt and the chain renumbered and rehashed: the "
            "receipt (still validly signed) no longer sits at the tip it names",
            w, "insert-before-receipt",
            [("ERASURE_RECEIPT_MISMATCH", f"chain:{C2}@5", 5)],
            counters(records_committed_unanchored=4, erasures_unproven=1),
        )
    )  # fmt: skip
    w = erased()
    i = _receipt_at(w)
    copied = dict(w.events[i])
    b = base()
    b.w.events.append(copied)
    rechain(b.w.events, len(b.w.events) - 1, C1)
    out.append(
        _erasure_case(
            "erasure-copied-to-other-dialogue",
            "dlg-0002's valid receipt appended to dlg-0001's chain: the statement names the "
            "chain it was signed for, so the signature fails there",
            w, "copy-receipt",
            [("ERASURE_RECEIPT_INVALID", f"chain:{C1}@11", 11)],
            counters(records_committed=3, records_committed_unanchored=8, erasures_signed=1),
            extra=[b.w],
        )
    )  # fmt: skip
    w = erased()
    a = Address.parse(f"dialogue:{D2}/entity:claim/01#02")
    env = seal_envelope(a, {"text": "late"}, dek(E_DEK), E_DEK, bytes(12))
    w.put(EntityRecord(a, {"entity_type": {"S": "claim"}}, env))
    out.append(
        _erasure_case(
            "erasure-record-after",
            "a record sealed under the destroyed key, committed after the receipt (seq 6)",
            w, "record-after-erasure",
            [("ERASURE_RECORD_AFTER", str(a), 6)],
            counters(records_committed=3, records_committed_unanchored=1, erasures_signed=1),
        )
    )  # fmt: skip
    w = erased()
    w.records[str(a)] = EntityRecord(a, {"entity_type": {"S": "claim"}}, env)
    out.append(
        _erasure_case(
            "erasure-record-planted",
            "a record sealed under the destroyed key, with no commitment at all",
            w, "record-after-erasure",
            [("ERASURE_RECORD_AFTER", str(a), None)],
            counters(records_committed=3, records_committed_unanchored=1, erasures_signed=1),
        )
    )  # fmt: skip
    w = erased()
    keep = [e for e in w.events if e["event_type"] == "erasure_receipt"]
    w.events = []
    receipt = dict(keep[0])
    w.events.append(
        seal(
            receipt_fields(
                signer("erasure-authority"), C2, key=E_DEK, destroyed_at=receipt["destroyed_at"],
                tip_count=0, tip_hash=_genesis(C2), event_id=receipt["event_id"],
                timestamp=receipt["timestamp"], hash_alg="sha256", principal=receipt["principal"],
                entity_id=D2,
            )
        )
    )  # fmt: skip
    out.append(
        _erasure_case(
            "erasure-without-commitments",
            "a valid receipt at seq 0 of a dialogue whose records were never committed: the "
            "receipt covers nothing, so every record under the key is uncovered",
            w, "no-commitments",
            [("ERASURE_RECORD_AFTER", E_CLAIM, None), ("ERASURE_RECORD_AFTER", E_META, None)],
            counters(records_uncommitted=2, erasures_signed=1),
        )
    )  # fmt: skip
    return out


def _genesis(chain_id: str) -> str:
    from chainaudit.chain.events import genesis_hash

    return genesis_hash(chain_id, "sha256")


# --- limits ----------------------------------------------------------------------


def limits() -> list[Case]:
    b = base()
    cp = b.w.checkpoint()
    b.w.put(b.old[CLAIM1])
    return [
        Case(
            "limit-rollback-recommitted-after-checkpoint", "limits",
            "claim 01#01 rolled back and a commitment of the old version appended after the "
            "last checkpoint: no finding; the record is counted unanchored (COMMIT-5 says "
            "why no keyless check can tell this from a real update)",
            [b.w], checked=counters(records_committed=6, records_committed_unanchored=1),
            checkpoints=[cp], mutation={"method": "rollback-and-recommit"},
        )
    ]  # fmt: skip


# --- rendering and checking ----------------------------------------------------------


def render(case: Case) -> dict[str, Any]:
    records: list[Record] = []
    events: list[dict[str, Any]] = []
    for w in case.writers:
        records.extend(sorted(w.records.values(), key=lambda r: record_key(r).encode("utf-8")))
        events.extend(event_item(w.dialogue, f) for f in w.events)
    doc: dict[str, Any] = {
        "type": CASE_TYPE,
        "version": VERSION,
        "name": case.name,
        "description": case.description,
        "mutation": case.mutation,
        "trusted_keys": case.trusted if case.trusted is not None else pinned_keys(),
        "checkpoints": case.checkpoints,
        "items": [json_item(r) for r in records] + events,
    }
    if case.group == "positive":
        doc["digests"] = digests(records, case.writers[-1].alg if case.writers else "sha256")
    doc["expect"] = {
        "ok": not case.findings and not case.chain,
        "findings": [{"code": c, "where": w, "seq": s} for c, w, s in case.findings],
        "chain_findings": [{"code": c, "chain_id": i, "seq": s} for c, i, s in case.chain],
        "checked": case.checked,
    }
    return doc


def cases() -> list[Case]:
    return positive() + negative() + limits()


def generate(out_dir: Path) -> list[Path]:
    root = Path(out_dir) / SUBDIR
    written = []
    for case in cases():
        written.append(write_json(root / case.group / f"{case.name}.json", render(case)))
    return written


def check(doc: Mapping[str, Any], path: str) -> list[CaseResult]:
    return [CaseResult(str(doc.get("name", path)), path, check_case(doc))]


VECTOR_CHECKERS = {CASE_TYPE: check}
