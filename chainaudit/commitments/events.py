"""Record commitments and erasure receipts: the bytes and the events (COMMIT).

A **record commitment** is a lifecycle event (``event_type``
``record_commit``) in the dialogue's own chain ``dialogue:{D}/events`` that
names a record by its record key (MAN-1.1) and carries a digest of the whole
stored item, so the chain (and every checkpoint of it) fixes which version
of each record is current. An **erasure receipt** (``event_type``
``erasure_receipt``) is a lifecycle event signed by an erasure authority:
it states that key ``dek#{D}#{V}`` was destroyed at a time, with the chain
at a given tip. Specification: ``docs/commitments.md``.

One function computes the item digest for writers and verifier alike
(:func:`item_digest`). This module is pure: no I/O, no clock.

>>> from chainaudit.records.address import Address
>>> from chainaudit.records.model import EntityRecord
>>> r = EntityRecord(Address.parse("dialogue:d-1/entity:ref/a#cites#b"), {}, None)
>>> len(item_digest(r, "sha256"))
64
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

import blake3
import rfc8785
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from chainaudit.chain.events import (
    COMMIT_EVENT_TYPE,
    RECEIPT_EVENT_TYPE,
    UnknownHashAlgorithm,
    is_lifecycle,
)
from chainaudit.keys.signing import TrustStore, Verdict, key_id, public_bytes, sign
from chainaudit.records.digest import canonical_record_json, record_key
from chainaudit.records.model import AuditEvent, EntityRecord, Record, WrappedDek

#: COMMIT-3: domain separation of the item digest.
DOMAIN_COMMIT = b"chainaudit/commit/v1\x00"
#: COMMIT-7: domain separation and statement type of erasure receipts.
DOMAIN_RECEIPT = b"chainaudit/erasure-receipt/v1\x00"
RECEIPT_TYPE = "chainaudit/erasure-receipt"
#: COMMIT-7: receipt fields copied into the signed statement.
RECEIPT_STATEMENT_FIELDS = (
    "event_id",
    "timestamp",
    "hash_alg",
    "erased_key_id",
    "destroyed_at",
    "tip_count",
    "tip_hash",
    "signer_key_id",
)


def committable(record: Record) -> bool:
    """COMMIT-4: entity records other than lifecycle events, and wrapped DEKs."""
    if isinstance(record, EntityRecord):
        return record.address.entity_type.value != "event"
    return isinstance(record, WrappedDek)


def item_bytes(record: Record) -> bytes:
    """COMMIT-3: the exact bytes hashed: prefix || JCS(canonical item) (MAN-1.2/1.3)."""
    return DOMAIN_COMMIT + canonical_record_json(record)


def digest_bytes(alg: str, data: bytes) -> str:
    """Lowercase hex of ``data`` under a CHAIN-3 algorithm."""
    if alg == "sha256":
        return hashlib.sha256(data).hexdigest()
    if alg == "blake3":
        out: str = blake3.blake3(data).hexdigest()
        return out
    raise UnknownHashAlgorithm(f"unknown hash algorithm {alg!r}")


def item_digest(record: Record, alg: str) -> str:
    """COMMIT-3: the digest a commitment of ``record`` carries, under ``alg``."""
    return digest_bytes(alg, item_bytes(record))


def commit_fields(
    record: Record | None,
    *,
    op: str = "put",
    key: str | None = None,
    alg: str = "sha256",
    timestamp: str,
    principal: str,
    digest: str | None = None,
) -> dict[str, Any]:
    """The payload of a commitment event for a writer (COMMIT-2), without chain fields.

    ``record`` is the version written (``op`` put) or the version deleted
    (``op`` delete); ``key`` defaults to its record key. The writer adds
    ``event_id``, ``seq``, ``hash_alg`` (= ``alg``) and the hashes.
    """
    if record is None and (key is None or digest is None):
        raise ValueError("a commitment needs the record, or its key and digest")
    rkey = key if key is not None else record_key(record)  # type: ignore[arg-type]
    entity_type, entity_id = event_subject(record, rkey)
    return {
        "event_type": COMMIT_EVENT_TYPE,
        "entity_type": entity_type,
        "entity_id": entity_id,
        "timestamp": timestamp,
        "principal": principal,
        "record_key": rkey,
        "record_op": op,
        "record_digest": digest if digest is not None else item_digest(record, alg),  # type: ignore[arg-type]
    }


def event_subject(record: Record | None, rkey: str) -> tuple[str, str]:
    """COMMIT-2: the ``entity_type``/``entity_id`` a writer puts in a commitment's address."""
    if isinstance(record, EntityRecord):
        a = record.address
        return a.entity_type.value, (a.subkey if a.parts else a.dialogue_id)
    if isinstance(record, WrappedDek):
        return "meta", f"dek#{record.version}"
    return "meta", rkey


# --- erasure receipts (COMMIT-7) ----------------------------------------------


def receipt_statement(chain_id: str, fields: Mapping[str, Any]) -> dict[str, Any]:
    """COMMIT-7: the statement a receipt's signature covers."""
    out: dict[str, Any] = {"type": RECEIPT_TYPE, "version": 1, "chain_id": chain_id}
    out.update({name: fields[name] for name in RECEIPT_STATEMENT_FIELDS})
    return out


def receipt_message(chain_id: str, fields: Mapping[str, Any]) -> bytes:
    """COMMIT-7: the bytes signed: domain || JCS(statement)."""
    return DOMAIN_RECEIPT + rfc8785.dumps(receipt_statement(chain_id, fields))


def receipt_fields(
    private_key: Ed25519PrivateKey,
    chain_id: str,
    *,
    key: str,
    destroyed_at: str,
    tip_count: int,
    tip_hash: str,
    event_id: str,
    timestamp: str,
    hash_alg: str,
    principal: str,
    entity_id: str,
) -> dict[str, Any]:
    """A signed erasure receipt's fields (COMMIT-7), ready for the chain writer.

    The writer stores it at ``seq = tip_count`` with ``previous_hash =
    tip_hash`` and seals it (CHAIN-3); ``entity_id`` is the logical dialogue id.
    """
    fields: dict[str, Any] = {
        "event_type": RECEIPT_EVENT_TYPE,
        "entity_type": "meta",
        "entity_id": entity_id,
        "principal": principal,
        "event_id": event_id,
        "timestamp": timestamp,
        "hash_alg": hash_alg,
        "seq": tip_count,
        "previous_hash": tip_hash,
        "erased_key_id": key,
        "destroyed_at": destroyed_at,
        "tip_count": tip_count,
        "tip_hash": tip_hash,
        "signer_key_id": key_id(public_bytes(private_key)),
    }
    fields["signature"] = sign(private_key, receipt_message(chain_id, fields)).hex()
    return fields


def check_receipt_signature(chain_id: str, fields: Mapping[str, Any], trust: TrustStore) -> Verdict:
    """COMMIT-8 step 1: ``untrusted``, ``invalid`` or ``valid``."""
    return trust.check(
        fields["signer_key_id"],
        bytes.fromhex(fields["signature"]),
        receipt_message(chain_id, fields),
    )


def is_commitment(event: AuditEvent) -> bool:
    return is_lifecycle(event.chain_id) and event.fields.get("event_type") == COMMIT_EVENT_TYPE


def is_receipt(event: AuditEvent) -> bool:
    return is_lifecycle(event.chain_id) and event.fields.get("event_type") == RECEIPT_EVENT_TYPE


__all__ = [
    "DOMAIN_COMMIT",
    "DOMAIN_RECEIPT",
    "RECEIPT_TYPE",
    "check_receipt_signature",
    "commit_fields",
    "committable",
    "item_bytes",
    "item_digest",
    "receipt_fields",
    "receipt_message",
    "receipt_statement",
]
