"""The streaming verifier (CHAIN-7, CHAIN-8): interleaving, bounded state, parallel = serial."""

from __future__ import annotations

import functools
import itertools
import sys

from chainaudit.chain.verify import (
    ChainPolicy,
    ChainVerifier,
    EventInput,
    partition,
    verify_events,
    verify_parallel,
)
from chainaudit.conformance.vectorgen.chain_build import T0_MS, Ev, boundary_event, build_chain
from chainaudit.keys.signing import TrustStore, private_key_from_label, public_bytes
from chainaudit.records.model import AuditEvent

TRUST = TrustStore.of([public_bytes(private_key_from_label("m"))])


def _stream(chains: list[list[Ev]]) -> list[EventInput]:
    """Round-robin interleaving of several chains, each in its own order."""
    out: list[EventInput] = []
    for group in itertools.zip_longest(*chains):
        out.extend((AuditEvent(e.chain_id, e.fields), e.store) for e in group if e is not None)
    return out


def _mixed() -> list[EventInput]:
    chains = [build_chain(f"chain-{i}", 5 + i % 4) for i in range(12)]
    chains[1].pop(2)  # a gap
    chains[4].insert(3, chains[4][2].copy())  # a duplicate
    chains[7][1].fields["principal"] = "eve"  # an edit
    legacy = build_chain("legacy", 3)
    b = boundary_event("m", legacy[:2], "legacy", "moved", T0_MS + 9000, "blake3")  # wrong count
    chains.extend([legacy, [b]])
    chains.append(build_chain("dialogue:d/events", 6))
    return _stream(chains)


def _factory(items: list[EventInput]) -> list[EventInput]:
    return items


def test_parallel_run_with_two_workers_equals_the_serial_run() -> None:
    items = _mixed()
    policy = ChainPolicy(TRUST)
    serial = verify_events(items, policy)
    parallel = verify_parallel(functools.partial(_factory, items), policy, 2)
    assert [f.to_json() for f in parallel.findings] == [f.to_json() for f in serial.findings]
    assert parallel.checked == serial.checked
    names = {f.code.name for f in serial.findings}
    assert {
        "CHAIN_GAP",
        "CHAIN_DUPLICATE",
        "EVENT_HASH_MISMATCH",
        "BOUNDARY_SOURCE_MISMATCH",
    } <= names


def test_partition_is_stable_and_spreads_chains() -> None:
    ids = [f"chain-{i}" for i in range(200)]
    parts = [partition(c, 4) for c in ids]
    assert parts == [partition(c, 4) for c in ids]
    assert set(parts) == {0, 1, 2, 3}
    assert partition("main", 1) == 0


def test_state_is_per_chain_not_per_event() -> None:
    """Memory bound: one constant-size state per chain, whatever the length."""
    v = ChainVerifier(ChainPolicy())
    for e in build_chain("long", 2000):
        v.feed(AuditEvent(e.chain_id, e.fields))
    assert len(v._states) == 1
    st = v._states["long"]
    size = sum(sys.getsizeof(getattr(st, name)) for name in st.__dataclass_fields__)
    assert size < 4096 and st.findings == [] and st.n == 2000
    assert v.finish().ok


def test_interleaving_does_not_change_findings() -> None:
    a, b = build_chain("a", 6), build_chain("b", 6)
    b.pop(3)
    sequential = verify_events(_stream([a]) + _stream([b]), ChainPolicy())
    interleaved = verify_events(_stream([a, b]), ChainPolicy())
    assert [f.to_json() for f in sequential.findings] == [f.to_json() for f in interleaved.findings]
    assert sequential.codes() == ["CHAIN_GAP"]


def test_findings_carry_chain_position_event_and_values() -> None:
    evs = build_chain("main", 4)
    evs[2].fields["principal"] = "eve"
    (f,) = verify_events([AuditEvent(e.chain_id, e.fields) for e in evs], ChainPolicy()).findings
    assert f.where == "chain:main@2"
    assert f.extra == {"chain_id": "main", "seq": 2, "event_id": evs[2].fields["event_id"]}
    assert f.actual == evs[2].fields["event_hash"] and f.expected != f.actual


def test_skew_tolerance_is_a_parameter() -> None:
    from chainaudit.conformance.vectorgen.chain_build import rechain, ts_text

    evs = build_chain("c", 3)
    evs[1].fields["timestamp"] = ts_text(T0_MS + 1000 + 60_000)
    rechain(evs, 1)
    items = [AuditEvent(e.chain_id, e.fields) for e in evs]
    assert verify_events(items, ChainPolicy()).ok
    assert verify_events(items, ChainPolicy(skew_ms=59_999)).codes() == ["CHAIN_TIMESTAMP_SKEW"]
    assert verify_events(items, ChainPolicy(skew_ms=60_000)).ok  # the bound is inclusive


def test_an_unreadable_seq_is_located_without_a_position() -> None:
    evs = build_chain("c", 2)
    evs[1].fields["seq"] = "1"
    result = verify_events([AuditEvent("c", e.fields) for e in evs], ChainPolicy())
    (f,) = result.findings
    assert f.code.name == "CHAIN_EVENT_MALFORMED" and f.where == "chain:c"
    assert f.extra["seq"] is None


def test_a_malformed_event_leaves_a_held_event_held() -> None:
    evs = build_chain("c", 6)
    bad = AuditEvent("c", {k: v for k, v in evs[4].fields.items() if k != "principal"})
    stream = [AuditEvent("c", e.fields) for e in evs[:2]] + [AuditEvent("c", evs[3].fields), bad]
    stream.append(AuditEvent("c", evs[5].fields))
    got = verify_events(stream, ChainPolicy())
    assert [(f.code.name, f.extra["seq"]) for f in got.findings] == [
        ("CHAIN_EVENT_MALFORMED", 4),
        ("CHAIN_GAP", 2),
        ("CHAIN_GAP", 4),
    ]


def test_swapped_neighbours_at_the_end_and_a_trailing_gap() -> None:
    evs = build_chain("c", 5)
    swapped = [*evs[:3], evs[4], evs[3]]
    assert verify_events([AuditEvent("c", e.fields) for e in swapped], ChainPolicy()).codes() == [
        "CHAIN_OUT_OF_ORDER"
    ]
    gap = [*evs[:3], evs[4]]
    assert verify_events([AuditEvent("c", e.fields) for e in gap], ChainPolicy()).codes() == [
        "CHAIN_GAP"
    ]


def test_an_empty_stream_is_not_a_pass() -> None:
    assert not verify_events([], ChainPolicy()).ok
