"""Hypothesis properties of the chain verifier (CHAIN-7, CHAIN-12).

For random valid chains of both kinds and both algorithms, every single
mutation of each kind is detected and located at the right event; a chain
cut anywhere and bridged by a valid boundary verifies as one chain, and the
same cut without the boundary, or with any boundary field changed, does not.
Runs through the full item path (typed items -> records -> adapter -> verifier).
"""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from chainaudit.chain.checkpoint import make_checkpoint
from chainaudit.chain.events import seal
from chainaudit.chain.uuid7 import make as make_uuid7
from chainaudit.conformance.vectorgen.chain import tweak
from chainaudit.conformance.vectorgen.chain_build import (
    STORE_A,
    STORE_B,
    T0_MS,
    Ev,
    boundary_event,
    build_chain,
    case_events,
    run_case,
)
from chainaudit.keys.signing import private_key_from_label, public_bytes

SIGNER = "prop-signer"
TRUSTED = [public_bytes(private_key_from_label(SIGNER)).hex()]
IDS = st.text("abcdefghijklmnopqrstuvwxyz0123456789-_", min_size=1, max_size=12)


@st.composite
def chains(draw: st.DrawFn, min_len: int = 2) -> list[Ev]:
    lifecycle = draw(st.booleans())
    name = draw(IDS)
    chain_id = f"dialogue:{name}/events" if lifecycle else name
    n = draw(st.integers(min_len, 10))
    alg = draw(st.sampled_from(["sha256", "blake3"]))
    start = T0_MS + draw(st.integers(0, 10**9))
    step = draw(st.integers(2, 100_000))
    return build_chain(chain_id, n, alg, start_ms=start, step_ms=step)


def first(events: list[Ev], checkpoints: list[dict[str, Any]] | None = None) -> tuple[Any, ...]:
    doc = {"trusted_keys": TRUSTED, "events": case_events(events), "checkpoints": checkpoints or []}
    run = run_case(doc)
    if not run.findings:
        return ("OK",)
    f = run.findings[0]
    return (f.code.name, f.extra.get("seq"))


def ok(events: list[Ev]) -> bool:
    return first(events) == ("OK",)


@settings(max_examples=40, deadline=None)
@given(chains())
def test_valid_chains_verify(chain: list[Ev]) -> None:
    assert ok(chain)


@settings(max_examples=60, deadline=None)
@given(chains(), st.data())
def test_every_field_edit_is_found_at_the_event(chain: list[Ev], data: st.DataObject) -> None:
    i = data.draw(st.integers(0, len(chain) - 1))
    name = data.draw(st.sampled_from(sorted(chain[i].fields)))
    evs = [e.copy() for e in chain]
    evs[i].fields[name] = tweak(name, evs[i].fields[name])
    assert first(evs) == ("EVENT_HASH_MISMATCH", i + 1 if name == "seq" else i)


@settings(max_examples=80, deadline=None)
@given(chains(min_len=3), st.data())
def test_every_structural_mutation_is_found_at_the_event(
    chain: list[Ev], data: st.DataObject
) -> None:
    n = len(chain)
    kind = data.draw(
        st.sampled_from(["delete", "swap", "duplicate", "fork", "insert", "truncate", "splice"])
    )
    evs = [e.copy() for e in chain]
    cps: list[dict[str, Any]] = []
    if kind == "delete":
        i = data.draw(st.integers(0, n - 2))
        del evs[i]
        want = ("CHAIN_BOUNDARY_MISSING", 1) if i == 0 else ("CHAIN_GAP", i)
    elif kind == "swap":
        i = data.draw(st.integers(0, n - 2))
        evs[i], evs[i + 1] = evs[i + 1], evs[i]
        want = ("CHAIN_OUT_OF_ORDER", i)
    elif kind == "duplicate":
        i = data.draw(st.integers(0, n - 1))
        evs.insert(i + 1, evs[i].copy())
        want = ("CHAIN_DUPLICATE", i)
    elif kind == "fork":
        i = data.draw(st.integers(0, n - 1))
        sib = dict(evs[i].fields, principal="mallory")
        evs.insert(i + 1, Ev(evs[i].chain_id, STORE_A, seal(sib)))
        want = ("CHAIN_FORK", i)
    elif kind == "insert":
        i = data.draw(st.integers(1, n - 1))
        f = dict(evs[i].fields, principal="mallory")
        from chainaudit.chain.uuid7 import parse, unix_ms

        lo = unix_ms(parse(evs[i - 1].fields["event_id"]) or 0)
        f["event_id"] = make_uuid7(lo + 1, 0xA11, 1)
        from chainaudit.conformance.vectorgen.chain_build import ts_text

        f["timestamp"] = ts_text(lo + 1)
        evs.insert(i, Ev(evs[i].chain_id, STORE_A, seal(f)))
        want = ("CHAIN_FORK", i)
    elif kind == "splice":
        k = data.draw(st.integers(1, n - 1))
        cid = chain[0].chain_id
        other_id = cid.replace("/events", "-x/events") if "/events" in cid else cid + "-x"
        alg = str(chain[0].fields["hash_alg"])
        other = build_chain(other_id, n, alg, start_ms=T0_MS + 7)
        evs = evs[:k] + [Ev(cid, STORE_A, dict(e.fields)) for e in other[k:]]
        want = ("CHAIN_LINK_BROKEN", k)
    else:
        k = data.draw(st.integers(0, n - 1))
        cps = [make_checkpoint(private_key_from_label(SIGNER), chain[0].chain_id, n,
                               chain[-1].hash, str(chain[-1].fields["hash_alg"]),
                               "2026-01-03T00:00:00.000Z")]  # fmt: skip
        evs = evs[:k]
        want = ("CHAIN_TRUNCATED", k)
    assert first(evs, cps) == want


def _bridge(chain: list[Ev], cut: int, alg: str, extra: int) -> tuple[list[Ev], Ev, list[Ev]]:
    cid = chain[0].chain_id
    src = chain[:cut]
    last_ms = T0_MS if not src else T0_MS + 10**10
    b = boundary_event(SIGNER, src, cid, cid, last_ms + 10**10, alg)
    rest = build_chain(cid, extra, alg, STORE_B, start_ms=last_ms + 10**10 + 1,
                       first_seq=cut + 1, previous_hash=b.hash)  # fmt: skip
    # build_chain puts event k at start + k*step; keep ids increasing after the boundary.
    return src, b, rest


@settings(max_examples=40, deadline=None)
@given(chains(), st.data())
def test_a_cut_bridged_by_a_valid_boundary_verifies_as_one_chain(
    chain: list[Ev], data: st.DataObject
) -> None:
    cut = data.draw(st.integers(0, len(chain)))
    alg = data.draw(st.sampled_from(["sha256", "blake3"]))
    extra = data.draw(st.integers(0, 4))
    src, b, rest = _bridge(chain, cut, alg, extra)
    assert ok([*src, b, *rest])
    assert ok([b, *rest])  # the target store alone


@settings(max_examples=40, deadline=None)
@given(chains(), st.data())
def test_the_same_cut_without_the_boundary_does_not_verify(
    chain: list[Ev], data: st.DataObject
) -> None:
    cut = data.draw(st.integers(1, len(chain) - 1))
    moved = [Ev(e.chain_id, STORE_B, dict(e.fields)) for e in chain[cut:]]
    assert first([*chain[:cut], *moved]) == ("CHAIN_BOUNDARY_MISSING", cut)


@settings(max_examples=80, deadline=None)
@given(chains(), st.data())
def test_any_changed_boundary_field_does_not_verify(chain: list[Ev], data: st.DataObject) -> None:
    cut = data.draw(st.integers(0, len(chain)))
    src, b, rest = _bridge(chain, cut, "blake3", data.draw(st.integers(0, 2)))
    name = data.draw(st.sampled_from(sorted(b.fields)))
    reseal = data.draw(st.booleans()) and name != "event_hash"
    bx = b.copy()
    bx.fields[name] = tweak(name, bx.fields[name])
    if reseal:
        bx.fields = seal(bx.fields)
    assert not ok([*src, bx, *rest])
