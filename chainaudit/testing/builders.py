"""Deterministic building blocks for tests: keys, nonces, sealed records, resolvers.

Everything here is derived from labels (SHA-256 of a label), so a failing
test shows the same bytes on every run. Test material only: real writers
draw keys and nonces from the OS CSPRNG (``chainaudit.new_dek``,
``chainaudit.seal_envelope`` without a nonce). No hypothesis needed.
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Mapping
from typing import Any, TypeVar

from chainaudit.envelope.seal import seal
from chainaudit.keys.resolver import DekResolver, DekStatus
from chainaudit.records.address import Address, EntityType
from chainaudit.records.item import canonical_typed
from chainaudit.records.model import (
    AttrValue,
    AuditEvent,
    EntityRecord,
    Envelope,
    KeyState,
    Record,
    WrappedDek,
)

R = TypeVar("R", EntityRecord, WrappedDek, AuditEvent)


def dek(label: str) -> bytes:
    """A 32-byte test DEK derived from ``label``."""
    return hashlib.sha256(b"test-dek/" + label.encode()).digest()


def nonce(label: str) -> bytes:
    """A 12-byte test nonce derived from ``label`` (distinct labels, distinct nonces)."""
    return hashlib.sha256(b"test-nonce/" + label.encode()).digest()[:12]


def key_id_for(address: Address, version: int = 1) -> str:
    """The key id ``dek#{D}#{version}`` of the address's dialogue (KEY-2)."""
    return f"dek#{address.dialogue}#{version}"


def sealed_record(
    address: Address,
    payload: Mapping[str, Any] | None = None,
    version: int = 1,
    label: str = "",
    attributes: Mapping[str, AttrValue] | None = None,
) -> EntityRecord:
    """A correctly sealed record at ``address`` under the dialogue's test key
    ``version`` (:func:`dek` of its key id), nonce from the address and ``label``."""
    k = key_id_for(address, version)
    env = seal(address, payload or {"t": "x"}, dek(k), k, nonce(f"{address}/{label}"))
    return EntityRecord(address, dict(attributes or {}), env)


def resolver_for(
    *addresses: Address, versions: int = 1, states: Mapping[str, DekStatus] | None = None
) -> DekResolver:
    """A resolver holding the test keys 1..``versions`` of each address's dialogue
    (FOUND), with ``states`` overriding any key id (SHREDDED, MISSING, UNWRAP_FAILED)."""
    from chainaudit.conformance.check import StaticResolver

    table: dict[str, bytes | DekStatus] = {}
    for a in addresses:
        for v in range(1, versions + 1):
            table[key_id_for(a, v)] = dek(key_id_for(a, v))
    table.update(states or {})
    return StaticResolver(table)


def canonical_attrs(attrs: Mapping[str, AttrValue]) -> dict[str, AttrValue]:
    """Attributes in the canonical typed form a store reads back (MODEL-3)."""
    return {k: canonical_typed(v, k) for k, v in attrs.items()}


def without_origin(record: R) -> R:
    """The record with an empty origin, for comparing records from different reads."""
    return dataclasses.replace(record, origin="")


def sample_records() -> list[Record]:
    """A small fixed set covering every record kind, binary, sets, nested maps and Unicode."""
    d = Address.of("d-1", EntityType.META)
    p = Address.of("d-1", EntityType.PERSPECTIVE, "01", "02")
    r = Address.of("d-1", EntityType.REF, "p#1", "supports", "c/2")
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
        dataclasses.replace(r, attributes=canonical_attrs(r.attributes))
        if isinstance(r, EntityRecord)
        else r
        for r in recs
    ]


__all__ = [
    "canonical_attrs",
    "dek",
    "key_id_for",
    "nonce",
    "resolver_for",
    "sample_records",
    "sealed_record",
    "without_origin",
]
