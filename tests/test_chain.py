"""Chain event encoding and hashing (CHAIN-2..CHAIN-6), pinned by hand-written bytes."""

from __future__ import annotations

import hashlib

import blake3
import pytest

from chainaudit.chain import uuid7
from chainaudit.chain.events import (
    DOMAIN_EVENT,
    event_hash,
    genesis_hash,
    hashed_bytes,
    lifecycle_chain_id,
    order_lifecycle,
    seal,
    shape_problem,
    timestamp_ms,
)
from chainaudit.chain.events import chain_event_from_entity as adapt
from chainaudit.findings import Finding, codes
from chainaudit.records.address import Address
from chainaudit.records.model import AuditEvent, EntityRecord

EVENT = {
    "event_id": "019b7ca9-8c88-7000-8000-000000000000",
    "seq": 0,
    "timestamp": "2026-01-02T03:04:05.000Z",
    "trace_id": "t",
    "span_id": "s",
    "operation": "encrypt",
    "key_id": "dek#d#1",
    "principal": "svc",
    "outcome": "success",
    "hash_alg": "sha256",
    "previous_hash": "00" * 32,
}
#: CHAIN-3 by hand: members sorted by name, no whitespace, event_hash left out.
HAND_JSON = (
    '{"event_id":"019b7ca9-8c88-7000-8000-000000000000","hash_alg":"sha256",'
    '"key_id":"dek#d#1","operation":"encrypt","outcome":"success",'
    '"previous_hash":"' + "00" * 32 + '","principal":"svc","seq":0,"span_id":"s",'
    '"timestamp":"2026-01-02T03:04:05.000Z","trace_id":"t"}'
)


def test_hashed_bytes_are_domain_prefix_and_jcs_without_event_hash() -> None:
    sealed = seal(EVENT)
    assert hashed_bytes(sealed) == b"chainaudit/chain/v1/event\x00" + HAND_JSON.encode()
    assert sealed["event_hash"] == hashlib.sha256(DOMAIN_EVENT + HAND_JSON.encode()).hexdigest()


def test_blake3_is_named_by_the_event() -> None:
    ev = dict(EVENT, hash_alg="blake3")
    body = HAND_JSON.replace('"sha256"', '"blake3"').encode()
    assert event_hash(ev) == blake3.blake3(DOMAIN_EVENT + body).hexdigest()


def test_null_and_absent_fields_hash_differently_and_extras_are_hashed() -> None:
    assert event_hash(dict(EVENT, extra=None)) != event_hash(EVENT)
    assert event_hash(dict(EVENT, extra="x")) != event_hash(dict(EVENT, extra=None))


def test_genesis_is_bound_to_the_chain_id() -> None:
    g = genesis_hash("main")
    assert g == hashlib.sha256(b"chainaudit/chain/v1/genesis\x00main").hexdigest()
    assert g != genesis_hash("other")
    assert (
        genesis_hash("main", "blake3")
        == blake3.blake3(b"chainaudit/chain/v1/genesis\x00main").hexdigest()
    )


@pytest.mark.parametrize(
    "change",
    [
        {"seq": "0"},
        {"seq": True},
        {"seq": -1},
        {"seq": 2**53},
        {"previous_hash": "AA" * 32},
        {"previous_hash": "aa" * 31},
        {"timestamp": "2026-01-02 03:04:05Z"},
        {"timestamp": "2026-02-30T00:00:00Z"},
        {"operation": "rekey"},
        {"outcome": "ok"},
        {"event_kind": "other"},
        {"extra": 1.5},
        {"extra": [1]},
    ],
)
def test_shape_problems(change: dict[str, object]) -> None:
    assert shape_problem("main", seal(EVENT)) is None
    assert shape_problem("main", dict(seal(EVENT), **change)) is not None


def test_required_fields_depend_on_the_chain_kind() -> None:
    assert shape_problem("dialogue:d/events", seal(EVENT)) is not None  # lacks lifecycle fields
    for name in ("trace_id", "key_id", "outcome", "event_hash"):
        ev = {k: v for k, v in seal(EVENT).items() if k != name}
        assert shape_problem("main", ev) is not None


def test_timestamps() -> None:
    assert timestamp_ms("1970-01-01T00:00:01Z") == 1000
    assert timestamp_ms("1970-01-01T00:00:00.123456789Z") == 123
    assert timestamp_ms("1970-01-01T00:00:00.5Z") == 500
    assert timestamp_ms("1970-01-01T24:00:00Z") is None
    assert timestamp_ms("1970-01-01T00:00:00+00:00") is None
    assert timestamp_ms("0000-01-01T00:00:00Z") is None  # years 0001-9999
    assert timestamp_ms("2026-01-01T00:00:60Z") is None  # no leap second
    assert timestamp_ms("2023-02-29T00:00:00Z") is None
    assert timestamp_ms("2024-02-29T00:00:00.0009Z") is not None


def test_uuid7_parsing_is_strict() -> None:
    u = uuid7.make(1234, 5, 6)
    assert uuid7.parse(u) is not None and uuid7.unix_ms(uuid7.parse(u) or 0) == 1234
    assert uuid7.parse(u.upper()) is None
    assert uuid7.parse(u[:14] + "4" + u[15:]) is None  # version 4
    assert uuid7.parse(u[:19] + "c" + u[20:]) is None  # variant 110
    assert uuid7.parse(u.replace("-", "")) is None
    assert uuid7.parse(None) is None
    assert uuid7.make(1, 0, 0) < uuid7.make(2, 0, 0)
    with pytest.raises(ValueError):
        uuid7.make(1 << 48, 0, 0)


def _lifecycle_record(**attrs: dict[str, str]) -> EntityRecord:
    base = {
        "event_id": {"S": "019b7ca9-8c88-7000-8000-000000000000"},
        "seq": {"N": "0"},
        "event_type": {"S": "created"},
        "principal": {"S": "expert:a"},
        "hash_alg": {"S": "sha256"},
        "previous_hash": {"S": genesis_hash("dialogue:d%2F1/events")},
        "event_hash": {"S": "00" * 32},
        "status": {"S": "not part of the chain"},
    }
    base.update(attrs)
    addr = Address.of("d/1", "event", "claim", "c#1", "2026-01-02T03:04:05.000Z")
    return EntityRecord(addr, base, None, "item-1")


def test_lifecycle_adapter_takes_address_parts_and_listed_attributes() -> None:
    ev = adapt(_lifecycle_record())
    assert isinstance(ev, AuditEvent)
    assert ev.chain_id == lifecycle_chain_id("d%2F1") == "dialogue:d%2F1/events"
    assert ev.fields["entity_type"] == "claim"
    assert ev.fields["entity_id"] == "c#1"  # logical, escapes undone
    assert ev.fields["timestamp"] == "2026-01-02T03:04:05.000Z"
    assert ev.fields["seq"] == 0
    assert "status" not in ev.fields
    assert shape_problem(ev.chain_id, ev.fields) is None


@pytest.mark.parametrize(
    "attrs",
    [
        {"seq": {"S": "0"}},
        {"seq": {"N": "-1"}},
        {"seq": {"N": "01"}},
        {"seq": {"N": "1.0"}},
        {"principal": {"N": "1"}},
        {"event_id": {"NULL": True}},
    ],
)
def test_lifecycle_adapter_reports_malformed_attributes(attrs: dict[str, dict[str, str]]) -> None:
    got = adapt(_lifecycle_record(**attrs))
    assert isinstance(got, Finding) and got.code is codes.CHAIN_EVENT_MALFORMED
    assert got.extra["chain_id"] == "dialogue:d%2F1/events"


def test_lifecycle_events_are_ordered_by_seq() -> None:
    evs = [AuditEvent("x", {"seq": s, "event_id": f"{s}"}) for s in (2, 0, 1)]
    assert [e.fields["seq"] for e in order_lifecycle(evs)] == [0, 1, 2]


def test_lone_surrogates_are_malformed_not_a_crash() -> None:
    ev = dict(seal(EVENT), principal="\ud800")
    assert shape_problem("main", ev) is not None
    assert shape_problem("main", {**seal(EVENT), "\udc00": "x"}) is not None
