"""Convert between physical items (DynamoDB-typed attribute maps) and records.

Every store reduces its rows to an :data:`~chainaudit.model.Item` first (the
DynamoDB low-level shape, binary as ``bytes``), and this module is the one
place that decides which record an item is and how its attributes map:

* ``pk = dialogue#D``, ``sk = dek#V``  -> :class:`~chainaudit.model.WrappedDek`
* ``pk = audit#C``,    ``sk = event#E`` -> :class:`~chainaudit.model.AuditEvent`
* any other ``pk = dialogue#D``        -> :class:`~chainaudit.model.EntityRecord`

An item that cannot become a record is returned as a :class:`Finding`
(ADDRESS_INVALID or RECORD_MALFORMED) naming its origin: bad data is
reported, never raised. Specification: ``docs/model.md``.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from typing import Any

from chainaudit import codes
from chainaudit.address import Address, AddressError, unescape_component
from chainaudit.findings import Finding
from chainaudit.model import (
    ENVELOPE_ATTRS,
    AttrValue,
    AuditEvent,
    EntityRecord,
    Envelope,
    Item,
    KeyState,
    Record,
    WrappedDek,
)

DEK_SK_PREFIX = "dek#"
AUDIT_PK_PREFIX = "audit#"
AUDIT_SK_PREFIX = "event#"

_TYPE_TAGS = frozenset({"S", "N", "B", "BOOL", "NULL", "L", "M", "SS", "NS", "BS"})


class _Malformed(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def record_from_item(item: Mapping[str, AttrValue], origin: str) -> Record | Finding:
    """Classify one physical item and build its record, or a finding saying why not."""
    try:
        pk = _get_s(item, "pk")
        sk = _get_s(item, "sk")
    except _Malformed as exc:
        return Finding(codes.RECORD_MALFORMED, origin, exc.message, source=origin)
    where = f"pk={pk!r} sk={sk!r}"
    try:
        if pk.startswith(AUDIT_PK_PREFIX):
            return _audit_event(item, pk, sk, origin)
        if pk.startswith("dialogue#") and sk.startswith(DEK_SK_PREFIX):
            return _wrapped_dek(item, pk, sk, origin)
        return _entity(item, pk, sk, origin)
    except AddressError as exc:
        return Finding(codes.ADDRESS_INVALID, where, str(exc), source=origin)
    except _Malformed as exc:
        return Finding(codes.RECORD_MALFORMED, where, exc.message, source=origin)


def _entity(item: Mapping[str, AttrValue], pk: str, sk: str, origin: str) -> EntityRecord:
    address = Address.from_dynamodb(pk, sk)
    present = [a for a in ENVELOPE_ATTRS[:4] if a in item]
    envelope: Envelope | None = None
    if present:
        if len(present) != 4:
            missing = [a for a in ENVELOPE_ATTRS[:4] if a not in item]
            raise _Malformed(f"envelope attribute(s) missing: {', '.join(missing)}")
        version = 1
        if "envelope_version" in item:
            version = _get_int(item, "envelope_version")
        envelope = Envelope(
            ciphertext=_get_b(item, "content_encrypted"),
            nonce=_get_b(item, "content_nonce"),
            key_id=_get_s(item, "key_id"),
            aad_hash=_get_s(item, "aad_hash"),
            version=version,
        )
    attrs = {k: v for k, v in item.items() if k not in ("pk", "sk") and k not in ENVELOPE_ATTRS}
    return EntityRecord(address, attrs, envelope, origin)


def _wrapped_dek(item: Mapping[str, AttrValue], pk: str, sk: str, origin: str) -> WrappedDek:
    dialogue = pk[len("dialogue#") :]
    unescape_component(dialogue)
    version_text = sk[len(DEK_SK_PREFIX) :]
    if not version_text.isdigit() or version_text.startswith("0"):
        raise _Malformed(
            f"sort key {sk!r}: version must be a positive decimal without leading zeros"
        )
    state_text = _get_s(item, "state")
    try:
        state = KeyState(state_text)
    except ValueError:
        raise _Malformed(f"unknown key state {state_text!r}") from None
    return WrappedDek(
        key_id=_get_s(item, "key_id"),
        dialogue=dialogue,
        version=int(version_text),
        owner=_get_s(item, "owner"),
        wrap_alg=_get_s(item, "wrap_alg"),
        wrapped_key=_get_b(item, "wrapped_key") if "wrapped_key" in item else None,
        wrap_nonce=_get_b(item, "wrap_nonce") if "wrap_nonce" in item else None,
        state=state,
        created_at=_get_s(item, "created_at"),
        destroyed_at=_get_s(item, "destroyed_at") if "destroyed_at" in item else None,
        origin=origin,
    )


def _audit_event(item: Mapping[str, AttrValue], pk: str, sk: str, origin: str) -> AuditEvent:
    chain_id = pk[len(AUDIT_PK_PREFIX) :]
    if not chain_id:
        raise _Malformed("empty audit chain id in pk")
    if not sk.startswith(AUDIT_SK_PREFIX):
        raise _Malformed(f"audit event sort key {sk!r} does not start with 'event#'")
    fields = {k: plain_from_typed(v) for k, v in item.items() if k not in ("pk", "sk")}
    return AuditEvent(chain_id, fields, origin)


def item_from_record(record: Record) -> Item:
    """The physical item of a record: the exact inverse of :func:`record_from_item`."""
    if isinstance(record, EntityRecord):
        pk, sk = record.address.to_dynamodb()
        item: Item = {"pk": {"S": pk}, "sk": {"S": sk}}
        item.update(record.attributes)
        env = record.envelope
        if env is not None:
            item["content_encrypted"] = {"B": env.ciphertext}
            item["content_nonce"] = {"B": env.nonce}
            item["key_id"] = {"S": env.key_id}
            item["aad_hash"] = {"S": env.aad_hash}
            if env.version != 1:
                item["envelope_version"] = {"N": str(env.version)}
        return item
    if isinstance(record, WrappedDek):
        item = {
            "pk": {"S": f"dialogue#{record.dialogue}"},
            "sk": {"S": f"{DEK_SK_PREFIX}{record.version}"},
            "key_id": {"S": record.key_id},
            "owner": {"S": record.owner},
            "wrap_alg": {"S": record.wrap_alg},
            "state": {"S": record.state.value},
            "created_at": {"S": record.created_at},
        }
        if record.wrapped_key is not None:
            item["wrapped_key"] = {"B": record.wrapped_key}
        if record.wrap_nonce is not None:
            item["wrap_nonce"] = {"B": record.wrap_nonce}
        if record.destroyed_at is not None:
            item["destroyed_at"] = {"S": record.destroyed_at}
        return item
    event_id = record.fields.get("event_id")
    if not isinstance(event_id, str):
        raise ValueError("an audit event needs a string event_id to be stored")
    item = {
        "pk": {"S": f"{AUDIT_PK_PREFIX}{record.chain_id}"},
        "sk": {"S": f"{AUDIT_SK_PREFIX}{event_id}"},
    }
    item.update({k: typed_from_plain(v) for k, v in record.fields.items()})
    return item


# --- typed values <-> JSON ------------------------------------------------


def typed_to_json(av: AttrValue) -> dict[str, Any]:
    """A typed value as JSON: binary (``B``, ``BS``) becomes standard padded base64."""
    ((tag, val),) = av.items()
    if tag == "B":
        return {"B": base64.b64encode(val).decode("ascii")}
    if tag == "BS":
        return {"BS": [base64.b64encode(b).decode("ascii") for b in val]}
    if tag == "L":
        return {"L": [typed_to_json(v) for v in val]}
    if tag == "M":
        return {"M": {k: typed_to_json(v) for k, v in val.items()}}
    return {tag: val}


def typed_from_json(obj: Any, where: str = "value") -> AttrValue:
    """Parse a typed value from JSON, strictly; raises ValueError naming the problem."""
    if not isinstance(obj, dict) or len(obj) != 1:
        raise ValueError(f"{where}: a typed value is an object with exactly one type tag")
    ((tag, val),) = obj.items()
    if tag not in _TYPE_TAGS:
        raise ValueError(f"{where}: unknown type tag {tag!r}")
    if tag in ("S", "N"):
        if not isinstance(val, str):
            raise ValueError(f"{where}: {tag} value must be a string")
        return {tag: val}
    if tag == "B":
        return {"B": _b64(val, where)}
    if tag == "BOOL":
        if not isinstance(val, bool):
            raise ValueError(f"{where}: BOOL value must be true or false")
        return {"BOOL": val}
    if tag == "NULL":
        if val is not True:
            raise ValueError(f"{where}: NULL value must be true")
        return {"NULL": True}
    if tag in ("SS", "NS"):
        if not isinstance(val, list) or not all(isinstance(v, str) for v in val):
            raise ValueError(f"{where}: {tag} value must be a list of strings")
        return {tag: list(val)}
    if tag == "BS":
        if not isinstance(val, list):
            raise ValueError(f"{where}: BS value must be a list")
        return {"BS": [_b64(v, where) for v in val]}
    if tag == "L":
        if not isinstance(val, list):
            raise ValueError(f"{where}: L value must be a list")
        return {"L": [typed_from_json(v, f"{where}[{i}]") for i, v in enumerate(val)]}
    if not isinstance(val, dict):
        raise ValueError(f"{where}: M value must be an object")
    return {"M": {k: typed_from_json(v, f"{where}.{k}") for k, v in val.items()}}


def _b64(val: Any, where: str) -> bytes:
    if not isinstance(val, str):
        raise ValueError(f"{where}: binary value must be a base64 string")
    try:
        raw = base64.b64decode(val, validate=True)
    except (binascii.Error, ValueError):
        raise ValueError(f"{where}: invalid standard padded base64") from None
    if base64.b64encode(raw).decode("ascii") != val:
        raise ValueError(f"{where}: base64 is not in canonical padded form")
    return raw


def plain_from_typed(av: AttrValue) -> Any:
    """Audit-event fields are strings and integers only: unwrap ``S``/``N``/``NULL``."""
    ((tag, val),) = av.items()
    if tag == "S":
        return val
    if tag == "N":
        if not val.lstrip("-").isdigit():
            raise _Malformed(f"audit event number {val!r} is not an integer")
        return int(val)
    if tag == "NULL":
        return None
    raise _Malformed(f"audit event field of type {tag} (only S, N and NULL are allowed)")


def typed_from_plain(value: Any) -> AttrValue:
    """The inverse of :func:`plain_from_typed`."""
    if value is None:
        return {"NULL": True}
    if isinstance(value, bool):
        raise ValueError("audit event fields may not be booleans")
    if isinstance(value, int):
        return {"N": str(value)}
    if isinstance(value, str):
        return {"S": value}
    raise ValueError(f"audit event field of Python type {type(value).__name__} cannot be stored")


def _get_s(item: Mapping[str, AttrValue], name: str) -> str:
    val = _get(item, name, "S")
    if not isinstance(val, str):
        raise _Malformed(f"attribute {name} must be a string")
    return val


def _get_b(item: Mapping[str, AttrValue], name: str) -> bytes:
    val = _get(item, name, "B")
    if not isinstance(val, bytes | bytearray):
        raise _Malformed(f"attribute {name} must be binary")
    return bytes(val)


def _get_int(item: Mapping[str, AttrValue], name: str) -> int:
    val = _get(item, name, "N")
    if not isinstance(val, str) or not val.isdigit():
        raise _Malformed(f"attribute {name} must be a non-negative integer")
    return int(val)


def _get(item: Mapping[str, AttrValue], name: str, tag: str) -> Any:
    if name not in item:
        raise _Malformed(f"attribute {name} is missing")
    av = item[name]
    if not isinstance(av, dict) or list(av) != [tag]:
        got = ",".join(av) if isinstance(av, dict) else type(av).__name__
        raise _Malformed(f"attribute {name} must be of type {tag}, got {got}")
    return av[tag]
