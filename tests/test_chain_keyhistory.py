"""Key history (CHAIN-9): the crypto audit log against the keys the data uses."""

from __future__ import annotations

from chainaudit.keys.history import KeyHistory, verify_key_history
from chainaudit.records.address import Address
from chainaudit.records.model import (
    AuditEvent,
    EntityRecord,
    Envelope,
    KeyState,
    Record,
    WrappedDek,
)


def dek(key: str, state: KeyState) -> WrappedDek:
    d, v = key.split("#")[1], int(key.split("#")[2])
    return WrappedDek(key, d, v, "u", "A256KW", None, None, state, "2026-01-01T00:00:00Z")


def log(op: str, key: str, outcome: str = "success", chain: str = "main") -> AuditEvent:
    return AuditEvent(chain, {"operation": op, "key_id": key, "outcome": outcome})


def entity(key: str) -> EntityRecord:
    addr = Address.of("d", "claim", "01", "02")
    return EntityRecord(addr, {}, Envelope(b"\x00" * 32, b"\x00" * 12, key, "0" * 64))


def found(records: list[Record]) -> list[tuple[str, str]]:
    return [(f.code.name, f.where) for f in verify_key_history(records).findings]


def test_complete_history_has_no_finding_in_any_order() -> None:
    recs: list[Record] = [
        entity("dek#d#2"), dek("dek#d#1", KeyState.RETIRED), dek("dek#d#2", KeyState.ACTIVE),
        log("wrap_dek", "dek#d#1"), log("rotate_dek", "dek#d#1"), log("wrap_dek", "dek#d#2"),
    ]  # fmt: skip
    assert found(recs) == [] and found(list(reversed(recs))) == []
    assert verify_key_history(recs).ok


def test_rotation_event_also_counts_as_creation() -> None:
    assert found([entity("dek#d#3"), log("rotate_dek", "dek#d#3")]) == []


def test_each_gap_is_one_finding_per_key() -> None:
    recs: list[Record] = [entity("dek#d#1"), entity("dek#d#1"), dek("dek#d#1", KeyState.ACTIVE)]
    assert found(recs) == [("KEY_NOT_IN_AUDIT_LOG", "dek#d#1")]
    assert found([dek("dek#d#1", KeyState.RETIRED), log("wrap_dek", "dek#d#1")]) == [
        ("KEY_ROTATION_UNLOGGED", "dek#d#1")
    ]
    assert found([dek("dek#d#1", KeyState.DESTROYED), log("wrap_dek", "dek#d#1")]) == [
        ("KEY_DESTRUCTION_UNLOGGED", "dek#d#1")
    ]


def test_failed_or_denied_events_and_lifecycle_chains_do_not_count() -> None:
    base: list[Record] = [dek("dek#d#1", KeyState.DESTROYED), log("wrap_dek", "dek#d#1")]
    for ev in (
        log("destroy_dek", "dek#d#1", "failure"),
        log("destroy_dek", "dek#d#1", "denied"),
        log("destroy_dek", "dek#d#1", chain="dialogue:d/events"),
        log("destroy_dek", "dek#d#2"),
    ):
        assert found([*base, ev]) == [("KEY_DESTRUCTION_UNLOGGED", "dek#d#1")]
    assert found([*base, log("destroy_dek", "dek#d#1")]) == []


def test_memory_holds_key_ids_not_records() -> None:
    h = KeyHistory()
    for _ in range(5000):
        h.feed(entity("dek#d#1"))
    assert h.records == 5000 and len(h.used) == 1
