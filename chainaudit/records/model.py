"""The neutral record model every verifier consumes and every store produces.

Backends differ in how they lay rows out; verifiers must not care. Each
adapter in :mod:`chainaudit.sources` turns its rows into the records below,
and writes them back from the same records, so a migration copies these
objects verbatim: no decryption, no re-encryption.

Attribute values keep DynamoDB's typed form (``{"S": ...}``, ``{"N": "1.5"}``,
``{"B": b"..."}``, ``{"M": {...}}`` ...) because it is the one encoding that
is lossless for every store: numbers stay decimal strings, binary stays
bytes, sets stay sets. Specification: ``docs/model.md``.

This module is pure: it imports no backend library.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from chainaudit.records.address import Address

#: A DynamoDB-typed attribute value with binary as ``bytes``.
AttrValue = dict[str, Any]
#: A whole item: attribute name to typed value.
Item = dict[str, AttrValue]

#: Attribute names of the envelope inside an entity item (ENV-2).
ENVELOPE_ATTRS = ("content_encrypted", "content_nonce", "key_id", "aad_hash", "envelope_version")


@dataclass(frozen=True, slots=True)
class Envelope:
    """The encryption envelope of one entity (ENV-2).

    ``ciphertext`` is the GCM output with the 16-byte tag appended, exactly
    as stored in ``content_encrypted``. ``version`` is the envelope version
    (absent in stored items means 1; see MODEL-4 for ``explicit_version``).
    """

    ciphertext: bytes
    nonce: bytes
    key_id: str
    aad_hash: str
    version: int = 1
    #: True when the item stored ``envelope_version`` although it is 1
    #: (ENV-3 lets writers omit it); kept so the item round-trips exactly.
    explicit_version: bool = False


@dataclass(frozen=True, slots=True)
class EntityRecord:
    """One entity item at its canonical address.

    ``attributes`` are the cleartext attributes in typed form, without the
    physical key attributes and without the envelope attributes.
    ``origin`` says where the record was read from, for messages.
    """

    address: Address
    attributes: Mapping[str, AttrValue]
    envelope: Envelope | None
    origin: str = ""


class KeyState(StrEnum):
    """Lifecycle of a wrapped DEK (KEY-6)."""

    ACTIVE = "active"
    RETIRED = "retired"
    DESTROYED = "destroyed"


@dataclass(frozen=True, slots=True)
class WrappedDek:
    """A per-dialogue data key, stored only wrapped (KEY-4).

    ``dialogue`` is the escaped dialogue id as in addresses. After
    crypto-shredding, ``state`` is ``destroyed`` and ``wrapped_key`` is None.
    """

    key_id: str
    dialogue: str
    version: int
    owner: str
    wrap_alg: str
    wrapped_key: bytes | None
    wrap_nonce: bytes | None
    state: KeyState
    created_at: str
    destroyed_at: str | None = None
    origin: str = ""


@dataclass(frozen=True, slots=True)
class AuditEvent:
    """One event of a hash chain, as stored (CHAIN-2).

    ``chain_id`` names the chain; ``fields`` are the event's fields exactly as
    stored (JSON values), including ``previous_hash`` and ``event_hash``.
    Lifecycle ``event#...`` entities are turned into these by the chain layer;
    the crypto audit log is stored as these directly.
    """

    chain_id: str
    fields: Mapping[str, Any] = field(default_factory=dict)
    origin: str = ""


Record = EntityRecord | WrappedDek | AuditEvent
