"""Signed checkpoints, and the expectations the chain verifier checks (CHAIN-11).

A checkpoint is an Ed25519-signed statement "chain C had ``count`` events
and its last event hashed to ``tip_hash``". A later verification proves the
chain only grew since: event ``count-1`` still hashes to ``tip_hash``. This
module parses, signs and verifies checkpoints; a checkpoint that passes
becomes a :class:`ChainExpectation`, which is also what a migration
manifest's per-chain count and tip turn into. Pure: no I/O, no clock.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import rfc8785
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from chainaudit.chain.events import HASH_ALGS, MAX_INT, timestamp_ms
from chainaudit.findings import Finding, codes
from chainaudit.keys.signing import TrustStore, key_id, public_bytes, sign

CHECKPOINT_TYPE = "chainaudit/checkpoint"
#: CHAIN-11: domain separation of checkpoint signatures.
DOMAIN_CHECKPOINT = b"chainaudit/checkpoint/v1\x00"
STATEMENT_FIELDS = (
    "type",
    "version",
    "chain_id",
    "count",
    "tip_hash",
    "hash_alg",
    "time",
    "signer_key_id",
)
_HEX64 = re.compile(r"[0-9a-f]{64}\Z")
_HEX128 = re.compile(r"[0-9a-f]{128}\Z")


@dataclass(frozen=True, slots=True)
class ChainExpectation:
    """What a chain must hold: event ``count-1`` hashes to ``tip_hash`` (CHAIN-11).

    ``kind`` is ``checkpoint`` or ``manifest``; ``origin`` names where the
    expectation came from, for messages. ``hash_alg`` None means not stated.
    """

    chain_id: str
    count: int
    tip_hash: str
    hash_alg: str | None = None
    kind: str = "checkpoint"
    origin: str = ""


def message(statement: Mapping[str, Any]) -> bytes:
    """CHAIN-11: the bytes signed: domain || JCS(statement)."""
    return DOMAIN_CHECKPOINT + rfc8785.dumps(dict(statement))


def make_checkpoint(
    private_key: Ed25519PrivateKey,
    chain_id: str,
    count: int,
    tip_hash: str,
    hash_alg: str,
    time: str,
) -> dict[str, Any]:
    """A signed checkpoint document (CHAIN-11); ``time`` is given, never read."""
    statement: dict[str, Any] = {
        "type": CHECKPOINT_TYPE,
        "version": 1,
        "chain_id": chain_id,
        "count": count,
        "tip_hash": tip_hash,
        "hash_alg": hash_alg,
        "time": time,
        "signer_key_id": key_id(public_bytes(private_key)),
    }
    return {**statement, "signature": sign(private_key, message(statement)).hex()}


def _shape_problem(doc: Mapping[str, Any]) -> str | None:
    version = doc.get("version")
    if doc.get("type") != CHECKPOINT_TYPE or type(version) is not int or version != 1:
        return f"not a {CHECKPOINT_TYPE} version 1 document"
    extra = set(doc) - set(STATEMENT_FIELDS) - {"signature"}
    if extra:
        return f"unknown member(s): {', '.join(sorted(extra))}"
    if not isinstance(doc.get("chain_id"), str) or not doc["chain_id"]:
        return "chain_id must be a non-empty string"
    count = doc.get("count")
    if isinstance(count, bool) or not isinstance(count, int) or not 0 <= count <= MAX_INT:
        return "count must be a non-negative integer"
    for name, pattern in (("tip_hash", _HEX64), ("signer_key_id", _HEX64), ("signature", _HEX128)):
        value = doc.get(name)
        if not isinstance(value, str) or not pattern.match(value):
            return f"{name} must be lowercase hex of the right length"
    if doc.get("hash_alg") not in HASH_ALGS:
        return f"hash_alg {doc.get('hash_alg')!r} is not one of {', '.join(HASH_ALGS)}"
    time = doc.get("time")
    if not isinstance(time, str) or timestamp_ms(time) is None:
        return "time must be an RFC 3339 UTC timestamp"
    return None


def verify_checkpoint(
    doc: Mapping[str, Any], trust: TrustStore, origin: str = "checkpoint"
) -> ChainExpectation | Finding:
    """CHAIN-11: the expectation a checkpoint establishes, or the finding why it cannot."""
    if not isinstance(doc, Mapping):
        return Finding(codes.CHECKPOINT_MALFORMED, origin, "a checkpoint is a JSON object")
    problem = _shape_problem(doc)
    if problem:
        # CHAIN-11: locate it by whichever of chain_id and count are themselves valid.
        cid, count = doc.get("chain_id"), doc.get("count")
        extra = {
            "chain_id": cid if isinstance(cid, str) and cid else None,
            "seq": count if type(count) is int and 0 <= count <= MAX_INT else None,
            "event_id": None,
        }
        return Finding(codes.CHECKPOINT_MALFORMED, origin, problem, source=origin, extra=extra)
    statement = {k: doc[k] for k in STATEMENT_FIELDS}
    verdict = trust.check(doc["signer_key_id"], bytes.fromhex(doc["signature"]), message(statement))
    where = f"chain:{doc['chain_id']}@{doc['count']}"
    extra = {"chain_id": doc["chain_id"], "seq": doc["count"], "event_id": None}
    if verdict == "untrusted":
        return Finding(
            codes.CHECKPOINT_SIGNER_UNTRUSTED,
            where,
            "the checkpoint's signer is not a pinned key",
            actual=doc["signer_key_id"],
            source=origin,
            extra=extra,
        )
    if verdict == "invalid":
        return Finding(
            codes.CHECKPOINT_SIGNATURE_INVALID,
            where,
            "the checkpoint's signature does not verify under the pinned key",
            actual=doc["signer_key_id"],
            source=origin,
            extra=extra,
        )
    return ChainExpectation(
        doc["chain_id"], doc["count"], doc["tip_hash"], doc["hash_alg"], "checkpoint", origin
    )
