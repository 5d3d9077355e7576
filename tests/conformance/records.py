"""Deterministic records of every kind for the store tests.

Entities are sealed with the real envelope (``chainaudit.envelope.seal.seal``)
under a fixed test DEK and counter nonces, so the bytes a store must keep
are real ciphertexts; the stores never decrypt them. Every kind the model
has appears: entities of each type (a ref without an envelope, an explicit
envelope version), wrapped DEKs (active, retired and destroyed) and audit
events. Attributes cover every DynamoDB type tag.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator

from chainaudit.envelope.seal import seal
from chainaudit.records.address import Address
from chainaudit.records.model import AuditEvent, EntityRecord, KeyState, Record, WrappedDek

TEST_DEK = hashlib.sha256(b"chainaudit conformance test DEK").digest()


def _nonce(counter: int) -> bytes:
    return counter.to_bytes(12, "big")


def _attributes(i: int) -> dict[str, dict[str, object]]:
    return {
        "status": {"S": "open" if i % 2 else "closed"},
        "created_at": {"S": f"2026-01-01T00:00:{i % 60:02d}Z"},
        "score": {"N": f"{i}.5"},
        "blob": {"B": bytes([i % 256, 0, 255, 10])},
        "flag": {"BOOL": i % 3 == 0},
        "nothing": {"NULL": True},
        "list": {"L": [{"S": "a"}, {"N": "-1"}, {"B": b"\x00\x01"}]},
        "map": {"M": {"k": {"S": "ünïcode ✓"}, "n": {"M": {"deep": {"N": "1000"}}}}},
        "tags": {"SS": ["alpha", "beta"]},
        "nums": {"NS": ["1", "2.5"]},
        "bins": {"BS": [b"\x01", b"\x02\x03"]},
        # Cleartext attributes named like SQL key columns (the service writes
        # entity_type): they are attributes, never confused with the columns.
        "entity_type": {"S": "claim"},
        "dialogue_id": {"S": "shadow"},
        "subkey": {"N": "7"},
        "attributes": {"M": {}},
    }


def dialogue_records(dialogue: str, n_claims: int = 3, counter: int = 0) -> list[Record]:
    """The records of one dialogue (escaped-safe logical id)."""
    key_id = f"dek#{dialogue}#1"
    out: list[Record] = []
    addresses = [
        Address.of(dialogue, "meta"),
        Address.of(dialogue, "expert", "ada#1/x%"),  # separators that need escaping
        Address.of(dialogue, "round", "01"),
        Address.of(dialogue, "perspective", "01", "02"),
        Address.of(dialogue, "move", "01", "ada", "03"),
        Address.of(dialogue, "event", "claim", "c1", "2026-01-01T00:00:00.123Z"),
    ]
    addresses += [Address.of(dialogue, "claim", "01", f"{n:02d}") for n in range(n_claims)]
    for i, address in enumerate(addresses):
        counter += 1
        env = seal(address, {"text": f"secret {i}", "n": i}, TEST_DEK, key_id, _nonce(counter))
        out.append(EntityRecord(address, _attributes(i), env))
    out.append(
        EntityRecord(
            Address.of(dialogue, "ref", "c1", "supports", "c2"), {"weight": {"N": "1"}}, None
        )
    )
    out.append(_dek(dialogue, 1, KeyState.ACTIVE))
    out.append(_dek(dialogue, 2, KeyState.DESTROYED))
    out.append(_dek(dialogue, 3, KeyState.RETIRED))
    return out


def _dek(dialogue: str, version: int, state: KeyState) -> WrappedDek:
    destroyed = state is KeyState.DESTROYED
    wrapped = hashlib.sha256(f"wrapped {dialogue} {version}".encode()).digest() + b"\x00" * 8
    return WrappedDek(
        key_id=f"dek#{dialogue}#{version}",
        dialogue=dialogue,
        version=version,
        owner="user-1",
        wrap_alg="A256KW",
        wrapped_key=None if destroyed else wrapped,
        wrap_nonce=None,
        state=state,
        created_at="2026-01-01T00:00:00Z",
        destroyed_at="2026-02-01T00:00:00Z" if destroyed else None,
    )


def audit_events(chain_id: str, n: int) -> list[Record]:
    """A short crypto-audit chain (hash values are placeholders: stores don't check them)."""
    out: list[Record] = []
    prev = "0" * 64
    for i in range(n):
        event_hash = hashlib.sha256(f"{chain_id}/{i}".encode()).hexdigest()
        out.append(
            AuditEvent(
                chain_id,
                {
                    "event_id": f"0190a000-0000-7000-8000-{i:012d}",
                    "timestamp": f"2026-01-01T00:00:{i % 60:02d}Z",
                    "operation": "encrypt",
                    "outcome": "success",
                    "key_id": "dek#d-0#1",
                    "seq": i,
                    "trace_id": None,
                    "previous_hash": prev,
                    "event_hash": event_hash,
                },
            )
        )
        prev = event_hash
    return out


def sample_records(n_dialogues: int = 3, n_events: int = 5) -> list[Record]:
    """A small dataset with every kind of record."""
    out: list[Record] = []
    for d in range(n_dialogues):
        out += dialogue_records(f"d-{d}", counter=d * 1000)
    out += audit_events("crypto-log", n_events)
    return out


def many_records(n: int) -> Iterator[Record]:
    """``n`` small sealed claim records across dialogues of 100 (for paging tests)."""
    for i in range(n):
        dialogue = f"bulk-{i // 100}"
        address = Address.of(dialogue, "claim", f"{(i // 100) % 100:02d}", f"{i % 100:02d}")
        env = seal(address, {"i": i}, TEST_DEK, f"dek#{dialogue}#1", _nonce(10**6 + i))
        yield EntityRecord(address, {"status": {"S": "open"}, "i": {"N": str(i)}}, env)
