"""Negative chain vectors around boundaries and checkpoints (CHAIN-11, CHAIN-12).

Every boundary field edited (with and without the hash recomputed), missing
boundaries, forged and untrusted signatures, wrong source count, tip or
algorithm, a boundary replayed into another chain, a renamed source chain
that does not match or grew after the cut; forged, untrusted and malformed
checkpoints.
"""

from __future__ import annotations

from typing import Any

from chainaudit.chain.events import seal
from chainaudit.conformance.vectorgen.chain_build import (
    STORE_B,
    T0_MS,
    Ev,
    boundary_event,
    build_chain,
)
from chainaudit.conformance.vectorgen.chain_cases import (
    AUDIT,
    BASE_LEN,
    CHECKPOINTER,
    CUT,
    LIFE,
    MALLORY,
    MIGRATOR,
    OTHER,
    boundary_scenario,
    checkpoint_doc,
    copy_events,
    neg,
    tweak,
)
from chainaudit.findings import Code, codes

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


#: The findings after the first, pinned for the resealed cases (docs/vectors.md).
#: A resealed seq 6 is crossed (source_count 5 still matches the chain), so
#: event 6 arrives below the next expected seq and event 7 no longer links;
#: a resealed previous_hash leaves event 6 linking to the original boundary.
#: Other resealed fields change the event_hash too, so event 6 does not link
#: (their full lists are not pinned).
RESEALED_THEN: dict[str, list[tuple[Code, str, int]]] = {
    "seq": [
        (codes.CHAIN_OUT_OF_ORDER, AUDIT, CUT + 1),
        (codes.CHAIN_LINK_BROKEN, AUDIT, CUT + 2),
    ],
    "previous_hash": [(codes.CHAIN_LINK_BROKEN, AUDIT, CUT + 1)],
    # Not a boundary any more, the event is dropped; event 6 arrives from the
    # other store, is held, then accepted after the gap at 5 with BLAKE3.
    "event_kind": [
        (codes.CHAIN_BOUNDARY_MISSING, AUDIT, CUT + 1),
        (codes.CHAIN_GAP, AUDIT, CUT),
        (codes.CHAIN_HASH_ALG_CHANGED, AUDIT, CUT + 1),
    ],
}


def boundary_mutations() -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    C = AUDIT
    src, b, after = boundary_scenario(C)
    for chain_id, prefix in ((AUDIT, "audit"), (LIFE, "lifecycle")):
        s2, b2, a2 = boundary_scenario(chain_id)
        for name in sorted(b2.fields):
            bx = b2.copy()
            bx.fields[name] = tweak(name, bx.fields[name])
            code = codes.EVENT_HASH_MISMATCH
            if name in ("event_kind", "boundary_version", "entity_type", "entity_id"):
                code = codes.CHAIN_EVENT_MALFORMED  # shape is judged before the hash
            out.append(
                neg(
                    f"{prefix}-boundary-edit-{name}",
                    f"boundary field {name} edited",
                    [*copy_events(s2), bx, *copy_events(a2)],
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
            neg(
                f"audit-boundary-reseal-{name}",
                f"boundary field {name} edited and event_hash recomputed",
                [*copy_events(src), bx, *copy_events(after)],
                code,
                C,
                at,
                then=RESEALED_THEN.get(name),
            )
        )
    unbridged = build_chain(C, 3, first_seq=CUT, previous_hash=src[-1].hash, store=STORE_B)
    out.append(
        neg(
            "boundary-missing",
            "the chain continues in postgres without a boundary",
            copy_events(src) + unbridged,
            codes.CHAIN_BOUNDARY_MISSING,
            C,
            CUT,
        )
    )
    out.append(
        neg(
            "boundary-missing-target-only",
            "only the target store, no boundary",
            copy_events(unbridged),
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
        neg(
            "boundary-forged-signature",
            "first signature digit changed, hash recomputed",
            [*copy_events(src), forged, *copy_events(after)],
            codes.BOUNDARY_SIGNATURE_INVALID,
            C,
            CUT,
        )
    )

    def bridged(bx: Ev, n_src: list[Ev] = src) -> list[Ev]:
        rest = build_chain(
            C, 3, "blake3", STORE_B, first_seq=bx.fields["seq"] + 1, previous_hash=bx.hash
        )
        return [*copy_events(n_src), bx, *rest]

    ms = T0_MS + CUT * 1000 + 500
    mal = boundary_event(MALLORY, src, C, C, ms, "blake3")
    out.append(
        neg(
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
        neg(
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
        neg(
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
        neg(
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
        neg(
            "boundary-replayed",
            "main's boundary stored into chain 'other'",
            [*other, replay],
            codes.BOUNDARY_REPLAYED,
            OTHER,
            CUT,
            # 'other' holds 5 events of its own: step 4 compares them too.
            then=[(codes.BOUNDARY_SOURCE_MISMATCH, OTHER, CUT)],
        )
    )
    legacy = build_chain("legacy", 4)
    short = boundary_event(MIGRATOR, legacy[:3], "legacy", "main-pg", T0_MS + 4500, "sha256")
    out.append(
        neg(
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
        neg(
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
    good = checkpoint_doc(CHECKPOINTER, a, BASE_LEN, AUDIT)
    forged = dict(good, tip_hash=tweak("tip_hash", good["tip_hash"]))
    untrusted = checkpoint_doc(MALLORY, a, BASE_LEN, AUDIT)
    malformed = dict(good, version=2)
    return [
        neg(
            "checkpoint-forged-signature",
            "tip_hash changed after signing",
            a,
            codes.CHECKPOINT_SIGNATURE_INVALID,
            AUDIT,
            BASE_LEN,
            checkpoints=[forged],
        ),
        neg(
            "checkpoint-untrusted-signer",
            "signed by a key that is not pinned",
            a,
            codes.CHECKPOINT_SIGNER_UNTRUSTED,
            AUDIT,
            BASE_LEN,
            checkpoints=[untrusted],
        ),
        neg(
            "checkpoint-malformed",
            "version 2",
            a,
            codes.CHECKPOINT_MALFORMED,
            AUDIT,
            BASE_LEN,
            checkpoints=[malformed],
        ),
    ]
