"""Negative chain vectors on one base chain: every single-mutation family (CHAIN-7).

Used for both chain kinds: edit every field, delete, insert, swap,
duplicate, fork, truncate at every length against a checkpoint, splice,
replay, rewrite against a checkpoint or manifest, and the mutations an
attacker follows by rehashing the tail (UUIDv7, skew, shape, algorithm).
Each case names the finding and the first position it must be reported at.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from chainaudit.chain.events import seal
from chainaudit.chain.uuid7 import make as make_uuid7
from chainaudit.conformance.vectorgen.chain_build import (
    STORE_A,
    T0_MS,
    Ev,
    build_chain,
    rechain,
    ts_text,
)
from chainaudit.conformance.vectorgen.chain_cases import (
    BASE_LEN,
    CHECKPOINTER,
    TARGET,
    checkpoint_doc,
    copy_events,
    neg,
    relabel,
    tweak,
)
from chainaudit.findings import Code, codes


def chain_mutations(prefix: str, chain_id: str, other_id: str) -> list[dict[str, Any]]:
    """Every single-mutation family on one base chain (both kinds)."""
    base = build_chain(chain_id, BASE_LEN)
    other = build_chain(other_id, BASE_LEN, start_ms=T0_MS + 500)
    out: list[dict[str, Any]] = []
    C = chain_id
    for name in sorted(base[TARGET].fields):
        ev = copy_events(base)
        ev[TARGET].fields[name] = tweak(name, ev[TARGET].fields[name])
        at = TARGET + 1 if name == "seq" else TARGET  # reported at the seq the event claims
        then = _edit_then(name, C)
        out.append(
            neg(
                f"{prefix}-edit-{name}@{TARGET}",
                f"field {name} of event {TARGET} edited",
                ev,
                codes.EVENT_HASH_MISMATCH,
                C,
                at,
                then=then,
            )
        )
    for i in range(BASE_LEN - 1):
        ev = copy_events(base)
        del ev[i]
        code, at = (codes.CHAIN_BOUNDARY_MISSING, 1) if i == 0 else (codes.CHAIN_GAP, i)
        out.append(neg(f"{prefix}-delete@{i}", f"event {i} deleted", ev, code, C, at))
    for i in range(1, BASE_LEN):
        ev = copy_events(base)
        f = dict(ev[i].fields)
        f.update(event_id=make_uuid7(T0_MS + i * 1000 - 500, 0xA11, i), principal="mallory")
        f["timestamp"] = ts_text(T0_MS + i * 1000 - 500)
        ev.insert(i, Ev(C, STORE_A, seal(f)))
        out.append(
            neg(
                f"{prefix}-insert@{i}",
                f"a linked event inserted before event {i}",
                ev,
                codes.CHAIN_FORK,
                C,
                i,
            )
        )
    for i in range(BASE_LEN - 1):
        ev = copy_events(base)
        ev[i], ev[i + 1] = ev[i + 1], ev[i]
        out.append(
            neg(
                f"{prefix}-swap@{i}",
                f"events {i} and {i + 1} stored swapped",
                ev,
                codes.CHAIN_OUT_OF_ORDER,
                C,
                i,
            )
        )
    for i in range(BASE_LEN):
        ev = copy_events(base)
        ev.insert(i + 1, ev[i].copy())
        out.append(
            neg(
                f"{prefix}-duplicate@{i}",
                f"event {i} stored twice",
                ev,
                codes.CHAIN_DUPLICATE,
                C,
                i,
            )
        )
        ev = copy_events(base)
        ms = T0_MS + i * 1000 + 1
        sib = dict(ev[i].fields, principal="mallory", timestamp=ts_text(ms))
        sib["event_id"] = make_uuid7(ms, 0xF0F, i)
        ev.insert(i + 1, Ev(C, STORE_A, seal(sib)))
        out.append(
            neg(
                f"{prefix}-fork@{i}", f"a sibling of event {i} after it", ev, codes.CHAIN_FORK, C, i
            )
        )
    cp = [checkpoint_doc(CHECKPOINTER, base, BASE_LEN, C)]
    for k in range(BASE_LEN):
        out.append(
            neg(
                f"{prefix}-truncate-to-{k}",
                f"only the first {k} events vs a checkpoint at {BASE_LEN}",
                copy_events(base[:k]),
                codes.CHAIN_TRUNCATED,
                C,
                k,
                checkpoints=cp,
            )
        )
    for k in range(1, BASE_LEN):
        ev = copy_events(base[:k]) + relabel(other[k:], C)
        out.append(
            neg(
                f"{prefix}-splice@{k}",
                f"events from {k} on taken from another chain",
                ev,
                codes.CHAIN_LINK_BROKEN,
                C,
                k,
            )
        )
    out.append(
        neg(
            f"{prefix}-replay-other-chain",
            "another chain stored under this chain's id",
            relabel(other, C),
            codes.CHAIN_GENESIS_MISMATCH,
            C,
            0,
        )
    )
    rewritten = copy_events(base)
    rewritten[2].fields["principal"] = "mallory"
    rechain(rewritten, 2)
    cps = [checkpoint_doc(CHECKPOINTER, base, n, C) for n in (5, BASE_LEN)]
    out.append(
        neg(
            f"{prefix}-rewrite-vs-checkpoint",
            "event 2 edited and the tail rehashed",
            rewritten,
            codes.CHAIN_TIP_MISMATCH,
            C,
            4,
            checkpoints=cps,
            then=[(codes.CHAIN_TIP_MISMATCH, C, 7)],  # each checkpoint is reported
        )
    )
    man = [{"chain_id": C, "count": BASE_LEN, "tip_hash": base[-1].hash, "hash_alg": "sha256"}]
    out.append(
        neg(
            f"{prefix}-rewrite-vs-manifest",
            "event 2 edited and the tail rehashed",
            copy_events(rewritten),
            codes.CHAIN_TIP_MISMATCH,
            C,
            7,
            manifest=man,
        )
    )
    out.append(
        neg(
            f"{prefix}-truncate-vs-manifest",
            "two events cut vs the manifest's count",
            copy_events(base[:6]),
            codes.CHAIN_TRUNCATED,
            C,
            6,
            manifest=man,
        )
    )
    out.extend(_rehashed(prefix, base))
    return out


def _edit_then(name: str, C: str) -> list[tuple[Code, str, int]]:
    """The findings after EVENT_HASH_MISMATCH when one field of event 3 is edited.

    The stored ``event_hash`` is what the next event links to, so an edited
    hash breaks the link of event 4 and an edited ``previous_hash`` breaks
    event 3's own. An edited ``hash_alg`` (a known one) changes the segment
    algorithm at 3 and back at 4. An edited ``seq`` makes the event look like
    event 4: it is held, the real event 4 then shows the gap at 3, is itself
    below the next expected seq, and event 5 no longer links.
    """
    t = TARGET
    table: dict[str, list[tuple[Code, str, int]]] = {
        "event_hash": [(codes.CHAIN_LINK_BROKEN, C, t + 1)],
        "previous_hash": [(codes.CHAIN_LINK_BROKEN, C, t)],
        "hash_alg": [
            (codes.CHAIN_HASH_ALG_CHANGED, C, t),
            (codes.CHAIN_HASH_ALG_CHANGED, C, t + 1),
        ],
        "seq": [
            (codes.CHAIN_GAP, C, t),
            (codes.CHAIN_OUT_OF_ORDER, C, t + 1),
            (codes.CHAIN_LINK_BROKEN, C, t + 2),
        ],
    }
    return table.get(name, [])


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
        ev = copy_events(base)
        edit(ev[t].fields)
        rechain(ev, t)
        # A malformed event is dropped, so the next event shows a gap where it was.
        then = [(codes.CHAIN_GAP, C, t)] if code is codes.CHAIN_EVENT_MALFORMED else []
        out.append(neg(f"{prefix}-{name}@{t}", desc + ", tail rehashed", ev, code, C, t, then=then))
    ev = copy_events(base)
    ev[t].fields["hash_alg"] = "md5"
    out.append(
        neg(
            f"{prefix}-hash-alg-unknown@{t}",
            "hash_alg md5 (hash left as stored)",
            ev,
            codes.CHAIN_HASH_ALG_UNKNOWN,
            C,
            t,
            then=[],  # no CHAIN_HASH_ALG_CHANGED: an unknown algorithm is not a change
        )
    )
    ev = copy_events(base)
    for e in ev[t:]:
        e.fields["hash_alg"] = "blake3"
    rechain(ev, t)
    out.append(
        neg(
            f"{prefix}-hash-alg-changed@{t}",
            "BLAKE3 from event 3 on, no boundary",
            ev,
            codes.CHAIN_HASH_ALG_CHANGED,
            C,
            t,
            then=[],  # one finding at the change; the new algorithm holds from there
        )
    )
    return out
