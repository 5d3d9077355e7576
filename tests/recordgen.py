"""Hypothesis strategies and sample records shared by the export/source tests."""

from __future__ import annotations

import dataclasses
import unicodedata
from typing import Any

from hypothesis import strategies as st

from chainaudit.address import Address, AddressError
from chainaudit.item import canonical_typed
from chainaudit.model import (
    AttrValue,
    AuditEvent,
    EntityRecord,
    Envelope,
    KeyState,
    Record,
    WrappedDek,
)

# Text a store can hold: no lone surrogates (not UTF-8).
text = st.text(st.characters(exclude_categories=("Cs",)), max_size=12)
numbers = st.one_of(
    st.integers(-(10**30), 10**30).map(str),
    st.decimals(allow_nan=False, allow_infinity=False, places=3).map(str),
)

scalars: st.SearchStrategy[AttrValue] = st.one_of(
    text.map(lambda s: {"S": s}),
    numbers.map(lambda n: {"N": n}),
    st.binary(max_size=24).map(lambda b: {"B": b}),
    st.booleans().map(lambda b: {"BOOL": b}),
    st.just({"NULL": True}),
    st.lists(text, min_size=1, max_size=4, unique=True).map(lambda v: {"SS": v}),
    st.lists(st.integers(-999, 999).map(str), min_size=1, max_size=4, unique=True).map(
        lambda v: {"NS": v}
    ),
    st.lists(st.binary(max_size=8), min_size=1, max_size=4, unique=True).map(lambda v: {"BS": v}),
)

typed_values: st.SearchStrategy[AttrValue] = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3).map(lambda v: {"L": v}),
        st.dictionaries(text, inner, max_size=3).map(lambda v: {"M": v}),
    ),
    max_leaves=8,
)

_RESERVED = {"pk", "sk", "content_encrypted", "content_nonce", "key_id", "aad_hash"}
_RESERVED |= {"envelope_version"}
attr_names = text.filter(lambda s: s != "" and s not in _RESERVED)

ids = (
    st.text(st.characters(exclude_categories=("Cc", "Cs")), min_size=1, max_size=10)
    .map(lambda s: unicodedata.normalize("NFC", s))
    .filter(lambda s: s != "")
)
two_digits = st.integers(0, 99).map(lambda n: f"{n:02d}")


@st.composite
def addresses(draw: st.DrawFn) -> Address:
    dialogue = draw(ids)
    kind = draw(st.sampled_from(["meta", "expert", "perspective", "move", "ref", "verdict"]))
    parts: tuple[str, ...]
    if kind == "meta":
        parts = ()
    elif kind in ("expert", "verdict"):
        parts = (draw(ids),)
    elif kind == "perspective":
        parts = (draw(two_digits), draw(two_digits))
    elif kind == "move":
        parts = (draw(two_digits), draw(ids), draw(two_digits))
    else:
        parts = (draw(ids), draw(ids), draw(ids))
    try:
        return Address.of(dialogue, kind, *parts)
    except AddressError:
        return Address.of("d", kind, *(p if len(p) == 2 and p.isdigit() else "x" for p in parts))


@st.composite
def entity_records(draw: st.DrawFn) -> EntityRecord:
    address = draw(addresses())
    attrs = draw(st.dictionaries(attr_names, typed_values, max_size=4))
    envelope = None
    if address.has_envelope and draw(st.booleans()):
        version = draw(st.sampled_from([1, 1, 2]))
        envelope = Envelope(
            ciphertext=draw(st.binary(min_size=16, max_size=64)),
            nonce=draw(st.binary(min_size=12, max_size=12)),
            key_id=f"dek#{address.dialogue}#{draw(st.integers(1, 9))}",
            aad_hash=draw(st.binary(min_size=32, max_size=32)).hex(),
            version=version,
            explicit_version=version == 1 and draw(st.booleans()),
        )
    return EntityRecord(address, canonical_attrs(attrs), envelope)


@st.composite
def wrapped_deks(draw: st.DrawFn) -> WrappedDek:
    dialogue = draw(addresses()).dialogue
    version = draw(st.integers(1, 10**6))
    state = draw(st.sampled_from(list(KeyState)))
    destroyed = state is KeyState.DESTROYED
    return WrappedDek(
        key_id=f"dek#{dialogue}#{version}",
        dialogue=dialogue,
        version=version,
        owner=draw(text),
        wrap_alg=draw(st.sampled_from(["A256KW", "A256GCM"])),
        wrapped_key=None if destroyed else draw(st.binary(min_size=40, max_size=40)),
        wrap_nonce=draw(st.none() | st.binary(min_size=12, max_size=12)),
        state=state,
        created_at="2026-01-01T00:00:00Z",
        destroyed_at="2026-02-01T00:00:00Z" if destroyed else None,
    )


plain = st.one_of(st.none(), st.integers(-(2**63), 2**63), text)


@st.composite
def audit_events(draw: st.DrawFn) -> AuditEvent:
    event_id = draw(text.filter(bool))
    fields: dict[str, Any] = draw(
        st.dictionaries(attr_names.filter(lambda s: s != "event_id"), plain, max_size=5)
    )
    fields["event_id"] = event_id
    return AuditEvent(draw(text.filter(bool)), fields)


records: st.SearchStrategy[Record] = st.one_of(entity_records(), wrapped_deks(), audit_events())


def canonical_attrs(attrs: dict[str, AttrValue]) -> dict[str, AttrValue]:
    return {k: canonical_typed(v, k) for k, v in attrs.items()}


def without_origin(record: Any) -> Any:
    """The record with an empty origin, for comparing records from different reads."""
    return dataclasses.replace(record, origin="")


def sample_records() -> list[Record]:
    """A small fixed set covering every kind, binary, sets, nested maps and unicode."""
    d = Address.of("d-1", "meta")
    p = Address.of("d-1", "perspective", "01", "02")
    r = Address.of("d-1", "ref", "p#1", "supports", "c/2")
    recs: list[Record] = [
        EntityRecord(
            d, {"status": {"S": "open"}, "created_at": {"S": "2026-01-01T00:00:00Z"}}, None
        ),
        EntityRecord(
            p,
            {
                "score": {"N": "1.5"},
                "tags": {"SS": ["β", "a"]},
                "blob": {"B": b"\x00\xff"},
                "nested": {"M": {"k": {"L": [{"NULL": True}, {"BS": [b"\x01", b"\x00"]}]}}},
            },
            Envelope(bytes(range(40)), bytes(12), "dek#d-1#1", "ab" * 32),
        ),
        EntityRecord(r, {"ref_type": {"S": "supports"}}, None),
        WrappedDek(
            "dek#d-1#1",
            "d-1",
            1,
            "user-1",
            "A256KW",
            bytes(range(40)),
            None,
            KeyState.ACTIVE,
            "2026-01-01T00:00:00Z",
        ),
        AuditEvent(
            "crypto",
            {"event_id": "0190a", "operation": "encrypt", "seq": 1, "previous_hash": None},
        ),
        AuditEvent(
            "crypto",
            {"event_id": "0190b", "operation": "decrypt", "seq": 2, "previous_hash": "00" * 32},
        ),
    ]
    return [
        dataclasses.replace(r, attributes=canonical_attrs(dict(r.attributes)))
        if isinstance(r, EntityRecord)
        else r
        for r in recs
    ]
