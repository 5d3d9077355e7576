"""The fixed inputs of the manifest and report vectors: records, chains, keys,
and the signed sample manifest (used by :mod:`.manifest_cases`, the checks and
the tests).

Deterministic: records are fixed, the Ed25519 signing key derives from a
label (CHAIN-10), and ``created_at`` is a constant.
"""

from __future__ import annotations

import hashlib
import io
from typing import Any

import blake3
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from chainaudit.chain.events import genesis_hash, lifecycle_chain_id, seal
from chainaudit.keys import signing
from chainaudit.migration.manifest import ManifestBuilder, sign_manifest
from chainaudit.records.address import Address
from chainaudit.records.model import (
    AuditEvent,
    EntityRecord,
    Envelope,
    KeyState,
    Record,
    WrappedDek,
)

SIGNER_LABEL = "manifest-signer"
OTHER_LABEL = "someone-else"
CREATED_AT = "2026-01-02T03:04:05.000Z"
SOURCE = {"name": "dynamodb://blue_dialogues", "region": "eu-central-1"}


def vector_key(label: str) -> Ed25519PrivateKey:
    """The deterministic Ed25519 key of a label (CHAIN-10)."""
    return signing.private_key_from_label(label)


def _b(label: str, n: int) -> bytes:
    return blake3.blake3(b"chainaudit/vectors/manifest\x00" + label.encode()).digest(length=n)


def _entity(addr: str, attrs: dict[str, Any], encrypted: bool = True) -> EntityRecord:
    a = Address.parse(addr)
    env = None
    if encrypted:
        env = Envelope(
            ciphertext=_b(addr + "/ct", 48),
            nonce=_b(addr + "/nonce", 12),
            key_id=f"dek#{a.dialogue}#1",
            aad_hash=hashlib.sha256(a.to_bytes()).hexdigest(),
        )
    return EntityRecord(a, attrs, env, origin=f"sample:{addr}")


def _uuid7(n: int) -> str:
    return f"01890a5d-ac96-7{n:03x}-8000-{n:012x}"


def _lifecycle(dialogue: str, n: int) -> list[EntityRecord]:
    out: list[EntityRecord] = []
    prev = genesis_hash(lifecycle_chain_id(dialogue))
    for seq in range(n):
        ts = f"2026-01-01T00:00:{seq:02d}.000Z"
        fields = seal(
            {
                "event_id": _uuid7(100 + seq),
                "seq": seq,
                "timestamp": ts,
                "hash_alg": "sha256",
                "previous_hash": prev,
                "event_type": "created",
                "entity_type": "perspective",
                "entity_id": f"01#{seq + 1:02d}",
                "principal": "svc",
            }
        )
        prev = fields["event_hash"]
        attrs = {
            k: ({"N": str(v)} if isinstance(v, int) else {"S": v})
            for k, v in fields.items()
            if k not in ("entity_type", "entity_id", "timestamp")
        }
        addr = f"dialogue:{dialogue}/entity:event/perspective#01%23{seq + 1:02d}#{ts}"
        out.append(_entity(addr, attrs))
    return out


def audit_events(
    chain_id: str, n: int, start: int = 0, prev: str | None = None
) -> list[AuditEvent]:
    """``n`` sealed crypto-audit events of ``chain_id`` from position ``start``."""
    out = []
    prev = prev or genesis_hash(chain_id)
    for seq in range(start, start + n):
        fields = seal(
            {
                "event_id": _uuid7(seq + 1),
                "seq": seq,
                "timestamp": f"2026-01-01T00:01:{seq:02d}.000Z",
                "hash_alg": "sha256",
                "previous_hash": prev,
                "trace_id": f"t{seq}",
                "span_id": f"s{seq}",
                "operation": "encrypt",
                "key_id": "dek#d-1#1",
                "principal": "svc",
                "outcome": "success",
            }
        )
        prev = fields["event_hash"]
        out.append(AuditEvent(chain_id, fields, origin=f"sample:audit#{chain_id}@{seq}"))
    return out


def sample_records() -> list[Record]:
    """The fixed dataset every manifest vector is built from: two dialogues
    (one id needing escapes), every record kind, both chain kinds, a number
    in non-canonical form and a string set."""
    recs: list[Record] = []
    for d in ("d-1", "d%2F2"):
        recs += [
            _entity(f"dialogue:{d}/entity:meta", {"status": {"S": "open"}, "score": {"N": "1.50"}}),
            _entity(f"dialogue:{d}/entity:expert/ada", {"tier": {"N": "2"}}),
            _entity(
                f"dialogue:{d}/entity:perspective/01#01",
                {"tags": {"SS": ["b", "a"]}, "created_at": {"S": "2026-01-01T00:00:00Z"}},
            ),
            _entity(f"dialogue:{d}/entity:ref/p1#cites#e2", {"source": {"S": "p1"}}, False),
            WrappedDek(
                f"dek#{d}#1",
                d,
                1,
                "user-1",
                "aes-kw",
                _b(d + "/wrapped", 40),
                None,
                KeyState.ACTIVE,
                "2026-01-01T00:00:00Z",
                origin=f"sample:dek#{d}#1",
            ),
            *_lifecycle(d, 3),
        ]
    recs += audit_events("crypto", 4)
    return recs


def boundary_event(
    chain_id: str, source_count: int, source_tip: str, manifest_digest: str | None
) -> AuditEvent:
    """An (unsigned) migration-boundary event continuing ``chain_id`` (CHAIN-12).

    The signature is the chain verifier's business; the gate checks only the
    source count and tip it names (MAN-4.2).
    """
    fields = seal(
        {
            "event_id": _uuid7(900),
            "seq": source_count,
            "timestamp": "2026-01-03T00:00:00.000Z",
            "hash_alg": "blake3",
            "previous_hash": source_tip,
            "event_kind": "migration_boundary",
            "boundary_version": 1,
            "source_backend": "dynamodb:blue_dialogues",
            "target_backend": "postgres:blue",
            "source_chain_id": chain_id,
            "target_chain_id": chain_id,
            "source_count": source_count,
            "source_tip_hash": source_tip,
            "source_hash_alg": "sha256",
            "manifest_digest": manifest_digest,
            "signer_key_id": "00" * 32,
            "signature": "00" * 64,
        }
    )
    return AuditEvent(chain_id, fields, origin="sample:boundary")


def sample_manifest() -> tuple[dict[str, Any], bytes]:
    """The signed manifest of :func:`sample_records` and its leaves file."""

    buf = io.BytesIO()
    with ManifestBuilder() as b:
        b.add_all(sample_records())
        statement = b.statement(created_at=CREATED_AT, source=SOURCE, leaves_out=buf)
    return sign_manifest(statement, vector_key(SIGNER_LABEL)), buf.getvalue()

