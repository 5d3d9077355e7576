"""The one-pass CHAIN-2 shape check agrees with the rule-by-rule one.

:func:`chainaudit.chain.events.shape_problem` first asks ``_well_formed`` (one pass,
exact types, ASCII) and only when it says no runs ``_shape_problem``, which
names the broken rule. The shortcut must never call an ill-formed event
well formed; this compares both on every event of the sample and on
mutations of each kind of event (audit log, lifecycle, boundary, commitment,
erasure receipt).
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chainaudit.chain.events import (
    HASH_ALGS,
    _shape_problem,
    _well_formed,
    chain_event_from_entity,
    event_hash,
    event_hash_well_formed,
    shape_problem,
)
from chainaudit.records.model import AuditEvent, EntityRecord
from chainaudit.sample import build_sample, iter_records

_EVENTS: list[AuditEvent] = []
for _r in iter_records(build_sample()):
    if isinstance(_r, AuditEvent):
        _EVENTS.append(_r)
    elif isinstance(_r, EntityRecord) and _r.address.entity_type.value == "event":
        _e = chain_event_from_entity(_r)
        if isinstance(_e, AuditEvent):
            _EVENTS.append(_e)


def _kinds() -> set[str]:
    out = set()
    for e in _EVENTS:
        out.add(str(e.fields.get("event_kind") or e.fields.get("event_type") or "audit"))
    return out


def test_the_sample_has_every_kind_of_event() -> None:
    assert {"audit", "migration_boundary", "record_commit", "erasure_receipt"} <= _kinds()


@pytest.mark.parametrize("event", _EVENTS, ids=lambda e: f"{e.chain_id}@{e.fields.get('seq')}")
def test_sample_events(event: AuditEvent) -> None:
    assert _well_formed(event.chain_id, event.fields)
    assert _shape_problem(event.chain_id, event.fields) is None


_VALUES = [
    None,
    True,
    False,
    0,
    1,
    -1,
    2**53 - 1,
    2**53,
    -(2**53),
    1.0,
    "",
    "x",
    "é",
    "\ud800",
    "0" * 64,
    "a" * 64,
    "A" * 64,
    "g" * 64,
    "0" * 63,
    "0" * 128,
    "0" * 127,
    "f" * 129,
    "2026-01-01T00:00:00Z",
    "2026-02-30T00:00:00Z",
    "0000-01-01T00:00:00Z",
    "migration_boundary",
    "other",
    "record_commit",
    "erasure_receipt",
    "put",
    "delete",
    "meta",
    "encrypt",
    "success",
    "dek#d#1",
    "dialogue:d/entity:claim/01#02",
    [],
    {},
]


@settings(max_examples=1500)
@given(
    st.sampled_from(range(len(_EVENTS))),
    st.lists(
        st.tuples(
            st.sampled_from(sorted({k for e in _EVENTS for k in e.fields} | {"event_kind", "zz"})),
            st.one_of(st.sampled_from(range(len(_VALUES))), st.none()),
        ),
        min_size=1,
        max_size=3,
    ),
    st.sampled_from(["", "dialogue:x/events", "crypto-audit"]),
)
def test_mutated_events(index: int, changes: list[tuple[str, int | None]], chain: str) -> None:
    event = _EVENTS[index]
    chain_id = chain or event.chain_id
    fields: dict[str, Any] = dict(event.fields)
    for name, value in changes:
        if value is None:
            fields.pop(name, None)
        else:
            fields[name] = _VALUES[value]
    problem = _shape_problem(chain_id, fields)
    if _well_formed(chain_id, fields):
        assert problem is None
    assert shape_problem(chain_id, fields) == problem
    if problem is None and fields["hash_alg"] in HASH_ALGS:
        assert event_hash_well_formed(fields) == event_hash(fields)
        named = {**fields, "zé": "x", "\U0001f600": 1}
        assert event_hash_well_formed(named) == event_hash(named)


def _reference_timestamp_ms(text: str) -> int | None:
    """CHAIN-2 timestamps the plain way: the regex, then calendar.timegm."""
    import calendar

    from chainaudit.chain.events import _TS

    m = _TS.match(text)
    if not m:
        return None
    y, mo, d, h, mi, s = (int(g) for g in m.groups()[:6])
    if y < 1 or not (1 <= mo <= 12 and 1 <= d <= calendar.monthrange(y, mo)[1]):
        return None
    if h > 23 or mi > 59 or s > 59:
        return None
    frac = (m.group(7) or "").ljust(3, "0")[:3]
    return calendar.timegm((y, mo, d, h, mi, s, 0, 0, 0)) * 1000 + int(frac)


@settings(max_examples=3000)
@given(
    st.sampled_from([0, 1, 1969, 1970, 2000, 2024, 2100, 9999]) | st.integers(0, 9999),
    st.integers(0, 13),
    st.integers(0, 32),
    st.integers(0, 25),
    st.integers(0, 61),
    st.integers(0, 61),
    st.sampled_from(["", ".", ".5", ".05", ".123", ".1234", ".123456789", ".1234567890"]),
    st.sampled_from(["Z", "z", "", "+00:00"]),
)
def test_timestamp_ms_is_the_calendar_arithmetic(
    y: int, mo: int, d: int, h: int, mi: int, s: int, frac: str, zone: str
) -> None:
    from chainaudit.chain.events import timestamp_ms

    text = f"{y:04d}-{mo:02d}-{d:02d}T{h:02d}:{mi:02d}:{s:02d}{frac}{zone}"
    assert timestamp_ms.__wrapped__(text) == _reference_timestamp_ms(text)
