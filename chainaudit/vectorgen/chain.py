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
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from chainaudit import codes
from chainaudit.address import Address
from chainaudit.chain import genesis_hash, seal
from chainaudit.checkpoint import make_checkpoint
from chainaudit.findings import Code, Finding
from chainaudit.item import item_from_record, record_from_item, typed_from_json
from chainaudit.keyhistory import verify_key_history
from chainaudit.model import AuditEvent, EntityRecord, Envelope, KeyState, Record, WrappedDek
from chainaudit.signing import key_id, private_key_from_label, public_bytes
from chainaudit.uuid7 import make as make_uuid7
from chainaudit.vectorgen import derive, write_json
from chainaudit.vectorgen.chain_build import (
    CASE_TYPE,
    STORE_A,
    STORE_B,
    T0_MS,
    Ev,
    boundary_event,
    build_chain,
    case_events,
    check_case,
    event_from_item,
    rechain,
    ts_text,
    typed_to_json_item,
)

SUBDIR = "chain"
KEYS_TYPE = "chainaudit/chain-keys"
ACC_TYPE = "chainaudit/chain-accumulated"
KEYHISTORY_TYPE = "chainaudit/keyhistory-vector"
ACC_DOMAIN = b"chainaudit/vectors/chain/accumulated\x00"
ACC_N = 64

MIGRATOR, CHECKPOINTER, MALLORY = "migration-signer", "checkpoint-signer", "mallory"
TRUSTED = [public_bytes(private_key_from_label(k)).hex() for k in (MIGRATOR, CHECKPOINTER)]
AUDIT, OTHER = "main", "other"
LIFE, LIFE_OTHER = "dialogue:dlg-0001/events", "dialogue:dlg-0002/events"
BASE_LEN = 8
TARGET = 3  # the event most single-event mutations hit
CUT = 5  # where boundary scenarios cut the chain


# --- helpers ----------------------------------------------------------------------


def _case(name: str, description: str, events: list[Ev], **kw: Any) -> dict[str, Any]:
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
    doc["expect"] = expect
    return doc


def _neg(
    name: str, description: str, events: list[Ev], code: Code, chain_id: str, seq: int, **kw: Any
) -> dict[str, Any]:
    return _case(name, description, events, first=(code, chain_id, seq), **kw)


def _checkpoint(label: str, chain: list[Ev], count: int, chain_id: str) -> dict[str, Any]:
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
        from chainaudit.chain import timestamp_ms

        ms = timestamp_ms(value)
        assert ms is not None
        return ts_text(ms + 1)
    last = value[-1]
    if last in "0123456789abcdef":
        return value[:-1] + "0123456789abcdef"[(int(last, 16) + 1) % 16]
    return value[:-1] + ("y" if last == "x" else "x")


def _copy(events: list[Ev]) -> list[Ev]:
    return [e.copy() for e in events]


def _relabel(events: list[Ev], chain_id: str) -> list[Ev]:
    return [Ev(chain_id, e.store, dict(e.fields)) for e in events]


# --- positive cases ---------------------------------------------------------------


def _boundary_scenario(chain_id: str, alg_after: str = "blake3") -> tuple[list[Ev], Ev, list[Ev]]:
    src = build_chain(chain_id, CUT)
    b = boundary_event(MIGRATOR, src, chain_id, chain_id, T0_MS + CUT * 1000 + 500, alg_after)
    after = build_chain(chain_id, 3, alg_after, STORE_B, first_seq=CUT + 1, previous_hash=b.hash)
    return src, b, after


def positive_cases() -> list[dict[str, Any]]:
    a, a3 = build_chain(AUDIT, BASE_LEN), build_chain("main-b3", BASE_LEN, "blake3")
    life, life3 = build_chain(LIFE, BASE_LEN), build_chain(LIFE_OTHER, BASE_LEN, "blake3")
    out = [
        _case("audit-sha256", "an audit-log chain under SHA-256", a),
        _case("audit-blake3", "an audit-log chain under BLAKE3", a3),
        _case("lifecycle-sha256", "a dialogue lifecycle chain under SHA-256", life),
        _case("lifecycle-blake3", "a dialogue lifecycle chain under BLAKE3", life3),
    ]
    mixed = [e for pair in zip(a, life, a3, strict=True) for e in pair]
    out.append(_case("interleaved", "three chains whose events interleave", mixed))
    src, b, after = _boundary_scenario(AUDIT)
    out.append(
        _case(
            "boundary-sha256-to-blake3",
            "cut after 5 events, bridged, BLAKE3 after the boundary",
            [*src, b, *after],
        )
    )
    out.append(_case("boundary-target-only", "only the target store: boundary first", [b, *after]))
    lsrc, lb, lafter = _boundary_scenario(LIFE)
    out.append(
        _case("lifecycle-boundary", "a lifecycle chain bridged across stores", [*lsrc, lb, *lafter])
    )
    legacy = build_chain("legacy", 4)
    rb = boundary_event(MIGRATOR, legacy, "legacy", "main-pg", T0_MS + 4500, "sha256")
    rest = build_chain("main-pg", 2, first_seq=5, previous_hash=rb.hash, store=STORE_B)
    out.append(
        _case(
            "boundary-renamed-chain",
            "legacy (source) continues as main-pg (target)",
            [*legacy, rb, *rest],
        )
    )
    cps = [_checkpoint(CHECKPOINTER, a, n, AUDIT) for n in (0, 5, BASE_LEN)]
    manifest = [
        {"chain_id": AUDIT, "count": BASE_LEN, "tip_hash": a[-1].hash, "hash_alg": "sha256"}
    ]
    out.append(
        _case(
            "checkpoints-extended",
            "checkpoints at 0, 5 and 8 events, a manifest at 8",
            a + build_chain(AUDIT, 2, first_seq=8, previous_hash=a[-1].hash),
            checkpoints=cps,
            manifest=manifest,
        )
    )
    out.append(
        _case(
            "accumulated-base",
            "the 64-event chain of the accumulated vector",
            build_chain("acc", ACC_N),
        )
    )
    return out


# --- negative cases ---------------------------------------------------------------


def chain_mutations(prefix: str, chain_id: str, other_id: str) -> list[dict[str, Any]]:
    """Every single-mutation family on one base chain (both kinds)."""
    base = build_chain(chain_id, BASE_LEN)
    other = build_chain(other_id, BASE_LEN, start_ms=T0_MS + 500)
    out: list[dict[str, Any]] = []
    C = chain_id
    for name in sorted(base[TARGET].fields):
        ev = _copy(base)
        ev[TARGET].fields[name] = tweak(name, ev[TARGET].fields[name])
        at = TARGET + 1 if name == "seq" else TARGET  # reported at the seq the event claims
        out.append(
            _neg(
                f"{prefix}-edit-{name}@{TARGET}",
                f"field {name} of event {TARGET} edited",
                ev,
                codes.EVENT_HASH_MISMATCH,
                C,
                at,
            )
        )
    for i in range(BASE_LEN - 1):
        ev = _copy(base)
        del ev[i]
        code, at = (codes.CHAIN_BOUNDARY_MISSING, 1) if i == 0 else (codes.CHAIN_GAP, i)
        out.append(_neg(f"{prefix}-delete@{i}", f"event {i} deleted", ev, code, C, at))
    for i in range(1, BASE_LEN):
        ev = _copy(base)
        f = dict(ev[i].fields)
        f.update(event_id=make_uuid7(T0_MS + i * 1000 - 500, 0xA11, i), principal="mallory")
        f["timestamp"] = ts_text(T0_MS + i * 1000 - 500)
        ev.insert(i, Ev(C, STORE_A, seal(f)))
        out.append(
            _neg(
                f"{prefix}-insert@{i}",
                f"a linked event inserted before event {i}",
                ev,
                codes.CHAIN_FORK,
                C,
                i,
            )
        )
    for i in range(BASE_LEN - 1):
        ev = _copy(base)
        ev[i], ev[i + 1] = ev[i + 1], ev[i]
        out.append(
            _neg(
                f"{prefix}-swap@{i}",
                f"events {i} and {i + 1} stored swapped",
                ev,
                codes.CHAIN_OUT_OF_ORDER,
                C,
                i,
            )
        )
    for i in range(BASE_LEN):
        ev = _copy(base)
        ev.insert(i + 1, ev[i].copy())
        out.append(
            _neg(
                f"{prefix}-duplicate@{i}",
                f"event {i} stored twice",
                ev,
                codes.CHAIN_DUPLICATE,
                C,
                i,
            )
        )
        ev = _copy(base)
        ms = T0_MS + i * 1000 + 1
        sib = dict(ev[i].fields, principal="mallory", timestamp=ts_text(ms))
        sib["event_id"] = make_uuid7(ms, 0xF0F, i)
        ev.insert(i + 1, Ev(C, STORE_A, seal(sib)))
        out.append(
            _neg(
                f"{prefix}-fork@{i}", f"a sibling of event {i} after it", ev, codes.CHAIN_FORK, C, i
            )
        )
    cp = [_checkpoint(CHECKPOINTER, base, BASE_LEN, C)]
    for k in range(BASE_LEN):
        out.append(
            _neg(
                f"{prefix}-truncate-to-{k}",
                f"only the first {k} events vs a checkpoint at {BASE_LEN}",
                _copy(base[:k]),
                codes.CHAIN_TRUNCATED,
                C,
                k,
                checkpoints=cp,
            )
        )
    for k in range(1, BASE_LEN):
        ev = _copy(base[:k]) + _relabel(other[k:], C)
        out.append(
            _neg(
                f"{prefix}-splice@{k}",
                f"events from {k} on taken from another chain",
                ev,
                codes.CHAIN_LINK_BROKEN,
                C,
                k,
            )
        )
    out.append(
        _neg(
            f"{prefix}-replay-other-chain",
            "another chain stored under this chain's id",
            _relabel(other, C),
            codes.CHAIN_GENESIS_MISMATCH,
            C,
            0,
        )
    )
    rewritten = _copy(base)
    rewritten[2].fields["principal"] = "mallory"
    rechain(rewritten, 2)
    cps = [_checkpoint(CHECKPOINTER, base, n, C) for n in (5, BASE_LEN)]
    out.append(
        _neg(
            f"{prefix}-rewrite-vs-checkpoint",
            "event 2 edited and the tail rehashed",
            rewritten,
            codes.CHAIN_TIP_MISMATCH,
            C,
            4,
            checkpoints=cps,
        )
    )
    man = [{"chain_id": C, "count": BASE_LEN, "tip_hash": base[-1].hash, "hash_alg": "sha256"}]
    out.append(
        _neg(
            f"{prefix}-rewrite-vs-manifest",
            "event 2 edited and the tail rehashed",
            _copy(rewritten),
            codes.CHAIN_TIP_MISMATCH,
            C,
            7,
            manifest=man,
        )
    )
    out.append(
        _neg(
            f"{prefix}-truncate-vs-manifest",
            "two events cut vs the manifest's count",
            _copy(base[:6]),
            codes.CHAIN_TRUNCATED,
            C,
            6,
            manifest=man,
        )
    )
    out.extend(_rehashed(prefix, base))
    return out


def _rehashed(prefix: str, base: list[Ev]) -> list[dict[str, Any]]:
    """Mutations an attacker follows by rehashing the tail, so only the targeted rule fires."""
    C = base[0].chain_id
    t = TARGET
    ms_prev = T0_MS + (t - 1) * 1000
    edits: list[tuple[str, str, Callable[[dict[str, Any]], None], Code]] = [
        (
            "uuid-version-4",
            "event_id with version nibble 4",
            lambda f: f.update(event_id=f["event_id"][:14] + "4" + f["event_id"][15:]),
            codes.CHAIN_UUID_INVALID,
        ),
        (
            "uuid-uppercase",
            "event_id in upper case",
            lambda f: f.update(event_id=f["event_id"].upper()),
            codes.CHAIN_UUID_INVALID,
        ),
        (
            "uuid-backwards",
            "event_id and timestamp earlier than the previous event's",
            lambda f: f.update(
                event_id=make_uuid7(ms_prev - 1, 0, t), timestamp=ts_text(ms_prev - 1)
            ),
            codes.CHAIN_UUID_BACKWARDS,
        ),
        (
            "timestamp-skew",
            "timestamp 301 s after the event_id's time",
            lambda f: f.update(timestamp=ts_text(T0_MS + t * 1000 + 301_000)),
            codes.CHAIN_TIMESTAMP_SKEW,
        ),
        (
            "missing-principal",
            "the principal field removed",
            lambda f: f.pop("principal"),
            codes.CHAIN_EVENT_MALFORMED,
        ),
    ]
    if not C.startswith("dialogue:"):
        edits.append(
            (
                "unknown-operation",
                "operation 'rekey'",
                lambda f: f.update(operation="rekey"),
                codes.CHAIN_EVENT_MALFORMED,
            )
        )
    out = []
    for name, desc, edit, code in edits:
        ev = _copy(base)
        edit(ev[t].fields)
        rechain(ev, t)
        out.append(_neg(f"{prefix}-{name}@{t}", desc + ", tail rehashed", ev, code, C, t))
    ev = _copy(base)
    ev[t].fields["hash_alg"] = "md5"
    out.append(
        _neg(
            f"{prefix}-hash-alg-unknown@{t}",
            "hash_alg md5 (hash left as stored)",
            ev,
            codes.CHAIN_HASH_ALG_UNKNOWN,
            C,
            t,
        )
    )
    ev = _copy(base)
    for e in ev[t:]:
        e.fields["hash_alg"] = "blake3"
    rechain(ev, t)
    out.append(
        _neg(
            f"{prefix}-hash-alg-changed@{t}",
            "BLAKE3 from event 3 on, no boundary",
            ev,
            codes.CHAIN_HASH_ALG_CHANGED,
            C,
            t,
        )
    )
    return out


#: CHAIN-12: the first finding when one boundary field is changed and the hash recomputed.
RESEALED_BOUNDARY: dict[str, tuple[Code, int]] = {
    "event_id": (codes.BOUNDARY_SIGNATURE_INVALID, CUT),
    "seq": (codes.BOUNDARY_SOURCE_MISMATCH, CUT + 1),
    "timestamp": (codes.BOUNDARY_SIGNATURE_INVALID, CUT),
    "hash_alg": (codes.BOUNDARY_SIGNATURE_INVALID, CUT),
    "previous_hash": (codes.BOUNDARY_SOURCE_MISMATCH, CUT),
    "event_kind": (codes.CHAIN_EVENT_MALFORMED, CUT),
    "boundary_version": (codes.CHAIN_EVENT_MALFORMED, CUT),
    "source_backend": (codes.BOUNDARY_SIGNATURE_INVALID, CUT),
    "source_chain_id": (codes.BOUNDARY_SIGNATURE_INVALID, CUT),
    "source_count": (codes.BOUNDARY_SIGNATURE_INVALID, CUT),
    "source_tip_hash": (codes.BOUNDARY_SIGNATURE_INVALID, CUT),
    "source_hash_alg": (codes.BOUNDARY_SIGNATURE_INVALID, CUT),
    "target_backend": (codes.BOUNDARY_SIGNATURE_INVALID, CUT),
    "target_chain_id": (codes.BOUNDARY_REPLAYED, CUT),
    "manifest_digest": (codes.BOUNDARY_SIGNATURE_INVALID, CUT),
    "signer_key_id": (codes.BOUNDARY_SIGNER_UNTRUSTED, CUT),
    "signature": (codes.BOUNDARY_SIGNATURE_INVALID, CUT),
}


def boundary_mutations() -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    C = AUDIT
    src, b, after = _boundary_scenario(C)
    for chain_id, prefix in ((AUDIT, "audit"), (LIFE, "lifecycle")):
        s2, b2, a2 = _boundary_scenario(chain_id)
        for name in sorted(b2.fields):
            bx = b2.copy()
            bx.fields[name] = tweak(name, bx.fields[name])
            code = codes.EVENT_HASH_MISMATCH
            if name in ("event_kind", "boundary_version", "entity_type", "entity_id"):
                code = codes.CHAIN_EVENT_MALFORMED  # shape is judged before the hash
            out.append(
                _neg(
                    f"{prefix}-boundary-edit-{name}",
                    f"boundary field {name} edited",
                    [*_copy(s2), bx, *_copy(a2)],
                    code,
                    chain_id,
                    CUT + 1 if name == "seq" else CUT,
                )
            )
    for name, (code, at) in RESEALED_BOUNDARY.items():
        bx = b.copy()
        bx.fields[name] = tweak(name, bx.fields[name])
        bx.fields = seal(bx.fields)
        out.append(
            _neg(
                f"audit-boundary-reseal-{name}",
                f"boundary field {name} edited and event_hash recomputed",
                [*_copy(src), bx, *_copy(after)],
                code,
                C,
                at,
            )
        )
    unbridged = build_chain(C, 3, first_seq=CUT, previous_hash=src[-1].hash, store=STORE_B)
    out.append(
        _neg(
            "boundary-missing",
            "the chain continues in postgres without a boundary",
            _copy(src) + unbridged,
            codes.CHAIN_BOUNDARY_MISSING,
            C,
            CUT,
        )
    )
    out.append(
        _neg(
            "boundary-missing-target-only",
            "only the target store, no boundary",
            _copy(unbridged),
            codes.CHAIN_BOUNDARY_MISSING,
            C,
            CUT,
        )
    )
    forged = b.copy()
    sig = forged.fields["signature"]
    forged.fields["signature"] = ("1" if sig[0] == "0" else "0") + sig[1:]
    forged.fields = seal(forged.fields)
    out.append(
        _neg(
            "boundary-forged-signature",
            "first signature digit changed, hash recomputed",
            [*_copy(src), forged, *_copy(after)],
            codes.BOUNDARY_SIGNATURE_INVALID,
            C,
            CUT,
        )
    )

    def bridged(bx: Ev, n_src: list[Ev] = src) -> list[Ev]:
        rest = build_chain(
            C, 3, "blake3", STORE_B, first_seq=bx.fields["seq"] + 1, previous_hash=bx.hash
        )
        return [*_copy(n_src), bx, *rest]

    ms = T0_MS + CUT * 1000 + 500
    mal = boundary_event(MALLORY, src, C, C, ms, "blake3")
    out.append(
        _neg(
            "boundary-untrusted-signer",
            "signed by a key that is not pinned",
            bridged(mal),
            codes.BOUNDARY_SIGNER_UNTRUSTED,
            C,
            CUT,
        )
    )
    wc = boundary_event(MIGRATOR, src, C, C, ms, "blake3", source_count=CUT + 1)
    out.append(
        _neg(
            "boundary-wrong-count",
            "claims 6 source events; the source has 5",
            bridged(wc),
            codes.BOUNDARY_SOURCE_MISMATCH,
            C,
            CUT + 1,
        )
    )
    wt = boundary_event(MIGRATOR, src, C, C, ms, "blake3", source_tip=src[-2].hash)
    out.append(
        _neg(
            "boundary-wrong-tip",
            "claims event 3's hash as the source tip",
            bridged(wt),
            codes.BOUNDARY_SOURCE_MISMATCH,
            C,
            CUT,
        )
    )
    wa = boundary_event(MIGRATOR, src, C, C, ms, "blake3", source_alg="blake3")
    out.append(
        _neg(
            "boundary-wrong-source-alg",
            "claims the source used BLAKE3",
            bridged(wa),
            codes.BOUNDARY_SOURCE_MISMATCH,
            C,
            CUT,
        )
    )
    other = build_chain(OTHER, CUT, start_ms=T0_MS + 200)
    replay = Ev(OTHER, STORE_B, dict(b.fields))
    out.append(
        _neg(
            "boundary-replayed",
            "main's boundary stored into chain 'other'",
            [*other, replay],
            codes.BOUNDARY_REPLAYED,
            OTHER,
            CUT,
        )
    )
    legacy = build_chain("legacy", 4)
    short = boundary_event(MIGRATOR, legacy[:3], "legacy", "main-pg", T0_MS + 4500, "sha256")
    out.append(
        _neg(
            "boundary-renamed-wrong-count",
            "the boundary claims 3 of legacy's 4 events",
            [*legacy, short],
            codes.BOUNDARY_SOURCE_MISMATCH,
            "main-pg",
            3,
        )
    )
    grown = build_chain("legacy", 5)
    rb = boundary_event(MIGRATOR, grown[:4], "legacy", "main-pg", T0_MS + 4500, "sha256")
    out.append(
        _neg(
            "boundary-source-grew",
            "legacy got a 5th event after the cut at 4",
            [*grown, rb],
            codes.BOUNDARY_SOURCE_MISMATCH,
            "main-pg",
            4,
        )
    )
    return out


def checkpoint_mutations() -> list[dict[str, Any]]:
    a = build_chain(AUDIT, BASE_LEN)
    good = _checkpoint(CHECKPOINTER, a, BASE_LEN, AUDIT)
    forged = dict(good, tip_hash=tweak("tip_hash", good["tip_hash"]))
    untrusted = _checkpoint(MALLORY, a, BASE_LEN, AUDIT)
    malformed = dict(good, version=2)
    return [
        _neg(
            "checkpoint-forged-signature",
            "tip_hash changed after signing",
            a,
            codes.CHECKPOINT_SIGNATURE_INVALID,
            AUDIT,
            BASE_LEN,
            checkpoints=[forged],
        ),
        _neg(
            "checkpoint-untrusted-signer",
            "signed by a key that is not pinned",
            a,
            codes.CHECKPOINT_SIGNER_UNTRUSTED,
            AUDIT,
            BASE_LEN,
            checkpoints=[untrusted],
        ),
        _neg(
            "checkpoint-malformed",
            "version 2",
            a,
            codes.CHECKPOINT_MALFORMED,
            AUDIT,
            BASE_LEN,
            checkpoints=[malformed],
        ),
    ]


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
    return {"positive": positive_cases(), "negative": neg, "keyhistory": keyhistory_cases()}


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
    return written


# --- checking (chainaudit.vectorcheck plugs these in) ------------------------------


def _results(doc: Mapping[str, Any], path: str, problems: list[str]) -> list[Any]:
    from chainaudit.vectorcheck import CaseResult

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


VECTOR_CHECKERS = {
    CASE_TYPE: check_chain_doc,
    KEYHISTORY_TYPE: check_keyhistory_doc,
    ACC_TYPE: check_accumulated_doc,
    KEYS_TYPE: check_keys_doc,
}

__all__ = ["VECTOR_CHECKERS", "event_from_item", "generate"]
