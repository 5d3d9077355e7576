"""Building blocks of the envelope vectors: fixed key material, cases, items.

Shared by :mod:`chainaudit.conformance.vectorgen.envelope` (positive cases, rendering)
and :mod:`chainaudit.conformance.vectorgen.envelope_tamper` (negative cases). DEKs and
nonces are SHA-256 of fixed labels (VEC-3): no clock, no randomness.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from chainaudit.conformance.vectorgen import derive
from chainaudit.envelope.seal import aad_for, aad_hash, encode_payload
from chainaudit.primitives import crypto
from chainaudit.records.address import Address, EntityType
from chainaudit.records.item import item_from_record, typed_to_json
from chainaudit.records.model import AttrValue, EntityRecord, Envelope

TYPE = "chainaudit/envelope-vector"
VERSION = 1
SUBDIR = "envelope"
DEK_DOMAIN = b"chainaudit/vectors/envelope/dek/"
NONCE_DOMAIN = b"chainaudit/vectors/envelope/nonce/"

D = "dlg-0001"  # the dialogue most cases live in
OTHER_D = "dlg-0002"
TS = "2026-01-02T03:04:05Z"


def key_id(dialogue: str = D, version: int = 1) -> str:
    return f"dek#{dialogue}#{version}"


def dek_for(kid: str) -> bytes:
    """The DEK of a key id in the vectors: SHA-256(DEK_DOMAIN || key_id)."""
    return derive(DEK_DOMAIN, kid, 32)


def nonce_for(label: str) -> bytes:
    """A nonce for the vectors: the first 12 bytes of SHA-256(NONCE_DOMAIN || label)."""
    return derive(NONCE_DOMAIN, label, 12)


@dataclass
class Rec:
    """One record of a case: the physical item plus what it was made from."""

    item: dict[str, Any]  # JSON form (typed values, binary as base64)
    address: Address | None
    plaintext: bytes | None = None
    payload: Mapping[str, Any] | None = None
    nonce_fp: bool = False  # write the ENV-5 nonce fingerprint (nonce cases)


@dataclass
class Case:
    name: str
    description: str
    records: list[Rec]
    keyless: list[str] = field(default_factory=list)
    keyed: list[str] | None = None  # None: same as keyless
    keys: list[dict[str, str]] | None = None  # None: every key id used, found
    mutation: dict[str, Any] | None = None

    @property
    def group(self) -> str:
        return "negative" if self.mutation is not None else "positive"


# --- building records --------------------------------------------------------


def cleartext(address: Address) -> dict[str, AttrValue]:
    """Typical cleartext attributes of an item (not covered by the envelope)."""
    attrs: dict[str, AttrValue] = {
        "entity_type": {"S": address.entity_type.value},
        "created_at": {"S": TS},
    }
    if address.entity_type in (EntityType.TENSION, EntityType.VERDICT):
        attrs["status"] = {"S": "open"}
    if address.entity_type is EntityType.EVIDENCE:
        attrs["score"] = {"N": "0.75"}
    return attrs


def to_json_item(record: EntityRecord) -> dict[str, Any]:
    return {k: typed_to_json(v) for k, v in item_from_record(record).items()}


def make_envelope(
    address: Address,
    plaintext: bytes,
    kid: str,
    nonce: bytes,
    *,
    aad: bytes | None = None,
    stored_hash: str | None = None,
    dek: bytes | None = None,
) -> Envelope:
    """Seal exact bytes; ``aad``/``stored_hash``/``dek`` override for legacy and swaps."""
    ct = crypto.gcm_encrypt(
        dek if dek is not None else dek_for(kid),
        nonce,
        aad if aad is not None else aad_for(address),
        plaintext,
    )
    return Envelope(ct, nonce, kid, stored_hash if stored_hash is not None else aad_hash(address))


def sealed(
    address: Address,
    payload: Mapping[str, Any],
    label: str,
    kid: str | None = None,
    **overrides: Any,
) -> tuple[EntityRecord, Rec]:
    """A v1-sealed record and its vector form."""
    pt = encode_payload(payload)
    env = make_envelope(address, pt, kid or key_id(address.dialogue), nonce_for(label), **overrides)
    record = EntityRecord(address, cleartext(address), env)
    return record, Rec(to_json_item(record), address, pt, payload)


def rec_of(record: EntityRecord, plaintext: bytes | None, payload: Mapping[str, Any] | None) -> Rec:
    return Rec(to_json_item(record), record.address, plaintext, payload)


def with_env(record: EntityRecord, **changes: Any) -> EntityRecord:
    assert record.envelope is not None
    return dataclasses.replace(record, envelope=dataclasses.replace(record.envelope, **changes))


def _found(*kids: str) -> list[dict[str, str]]:
    return [{"key_id": k, "status": "found", "dek": dek_for(k).hex()} for k in kids]


def mutation(method: str, **params: Any) -> dict[str, Any]:
    """The ``mutation`` object of a negative case (VEC-2)."""
    return {"method": method, **params}


A = Address.of


#: The short record every bit-level and rule case starts from (one address,
#: one payload, shared by envelope_tamper and envelope_rules).
SHORT_ADDR = A(D, "claim", "01", "02")
SHORT_PAYLOAD = {"n": 1}
