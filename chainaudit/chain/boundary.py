"""Migration-boundary events: the signed bridge of a chain across stores (CHAIN-12).

A migration cuts a chain. The boundary event is the first event of the
continued segment in the target: it continues the numbering
(``seq = source_count``), links to the source's last event
(``previous_hash = source_tip_hash``), names both stores and chain ids, and
is signed by a pinned key. Every field except the keyless ``event_hash`` and
the signature itself is covered by the signature. A boundary may switch the
hash algorithm of the segment it starts.

This module builds boundary events and runs the checks that need only the
event itself (CHAIN-12 steps 1–3); the verifier adds the checks against the
source chain (steps 4–5). Pure: no I/O, no clock.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import rfc8785
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from chainaudit.chain.events import BOUNDARY_KIND, seal
from chainaudit.findings import Finding, codes
from chainaudit.keys.signing import TrustStore, key_id, public_bytes, sign
from chainaudit.primitives.crypto import equal

BOUNDARY_TYPE = "chainaudit/migration-boundary"
#: CHAIN-12: domain separation of boundary signatures.
DOMAIN_BOUNDARY = b"chainaudit/migration-boundary/v1\x00"
#: CHAIN-12: event fields copied into the signed statement.
STATEMENT_FIELDS = (
    "event_id",
    "timestamp",
    "hash_alg",
    "source_backend",
    "source_chain_id",
    "source_count",
    "source_tip_hash",
    "source_hash_alg",
    "target_backend",
    "target_chain_id",
    "manifest_digest",
    "signer_key_id",
)


def statement(fields: Mapping[str, Any]) -> dict[str, Any]:
    """CHAIN-12: the statement a boundary's signature covers."""
    out: dict[str, Any] = {"type": BOUNDARY_TYPE, "version": 1}
    out.update({name: fields[name] for name in STATEMENT_FIELDS})
    return out


def message(fields: Mapping[str, Any]) -> bytes:
    """CHAIN-12: the bytes signed: domain || JCS(statement)."""
    return DOMAIN_BOUNDARY + rfc8785.dumps(statement(fields))


def make_boundary(
    private_key: Ed25519PrivateKey,
    *,
    event_id: str,
    timestamp: str,
    hash_alg: str,
    source_backend: str,
    source_chain_id: str,
    source_count: int,
    source_tip_hash: str,
    source_hash_alg: str,
    target_backend: str,
    target_chain_id: str,
    manifest_digest: str | None = None,
    extra: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """A signed, sealed boundary event (CHAIN-12).

    ``extra`` adds unsigned but hashed fields, e.g. ``entity_type``/
    ``entity_id`` of a lifecycle boundary (CHAIN-5).
    """
    fields: dict[str, Any] = dict(extra or {})
    fields.update(
        {
            "event_id": event_id,
            "seq": source_count,
            "timestamp": timestamp,
            "hash_alg": hash_alg,
            "previous_hash": source_tip_hash,
            "event_kind": BOUNDARY_KIND,
            "boundary_version": 1,
            "source_backend": source_backend,
            "source_chain_id": source_chain_id,
            "source_count": source_count,
            "source_tip_hash": source_tip_hash,
            "source_hash_alg": source_hash_alg,
            "target_backend": target_backend,
            "target_chain_id": target_chain_id,
            "manifest_digest": manifest_digest,
            "signer_key_id": key_id(public_bytes(private_key)),
        }
    )
    fields["signature"] = sign(private_key, message(fields)).hex()
    return seal(fields)


def check_boundary(
    chain_id: str, fields: Mapping[str, Any], trust: TrustStore, where: str, extra: dict[str, Any]
) -> list[Finding]:
    """CHAIN-12 steps 1–3 for a well-formed boundary event of chain ``chain_id``."""
    out: list[Finding] = []
    if fields["target_chain_id"] != chain_id:
        out.append(
            Finding(
                codes.BOUNDARY_REPLAYED,
                where,
                "the boundary was made for another chain",
                expected=chain_id,
                actual=fields["target_chain_id"],
                extra=extra,
            )
        )
    verdict = trust.check(
        fields["signer_key_id"], bytes.fromhex(fields["signature"]), message(fields)
    )
    if verdict == "untrusted":
        out.append(
            Finding(
                codes.BOUNDARY_SIGNER_UNTRUSTED,
                where,
                "the boundary's signer is not a pinned key",
                actual=fields["signer_key_id"],
                extra=extra,
            )
        )
    elif verdict == "invalid":
        out.append(
            Finding(
                codes.BOUNDARY_SIGNATURE_INVALID,
                where,
                "the boundary's signature does not verify under the pinned key",
                actual=fields["signer_key_id"],
                extra=extra,
            )
        )
    if fields["seq"] != fields["source_count"]:
        out.append(
            Finding(
                codes.BOUNDARY_SOURCE_MISMATCH,
                where,
                "the boundary's seq is not its source_count",
                expected=str(fields["source_count"]),
                actual=str(fields["seq"]),
                extra=extra,
            )
        )
    if not equal(fields["previous_hash"], fields["source_tip_hash"]):
        out.append(
            Finding(
                codes.BOUNDARY_SOURCE_MISMATCH,
                where,
                "the boundary's previous_hash is not its source_tip_hash",
                expected=fields["source_tip_hash"],
                actual=fields["previous_hash"],
                extra=extra,
            )
        )
    return out

