"""Convert between physical items (DynamoDB-typed attribute maps) and records.

Every store reduces its rows to an :data:`~chainaudit.records.model.Item` first (the
DynamoDB low-level shape, binary as ``bytes``), and this module is the one
place that decides which record an item is and how its attributes map:

* ``pk = dialogue#D``, ``sk = dek#V``  -> :class:`~chainaudit.records.model.WrappedDek`
* ``pk = audit#C``,    ``sk = event#E`` -> :class:`~chainaudit.records.model.AuditEvent`
* any other ``pk = dialogue#D``        -> :class:`~chainaudit.records.model.EntityRecord`

An item that cannot become a record is returned as a :class:`Finding`
(ADDRESS_INVALID or RECORD_MALFORMED) naming its origin: bad data is
reported, never raised. Specification: ``docs/model.md`` (MODEL-n).

The mapping is lossless: ``item_from_record(record_from_item(i))`` is ``i``
for every item that maps, up to the order of set members (sets are
unordered; records hold them in the canonical order of MODEL-3).
"""

from __future__ import annotations

import base64
import binascii
import itertools
import re
from collections.abc import Mapping
from typing import Any

from chainaudit.findings import Finding, codes
from chainaudit.records.address import Address, AddressError, unescape_component
from chainaudit.records.model import (
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

#: MODEL-3: the number syntax DynamoDB accepts in ``N`` (and ``NS`` members).
NUMBER_SYNTAX = re.compile(
    r"[+-]?(?:(?P<int>[0-9]+)(?:\.(?P<frac>[0-9]*))?|\.(?P<frac2>[0-9]+))(?:[eE](?P<exp>[+-]?[0-9]+))?\Z"
)
#: MODEL-3: DynamoDB's number range: at most 38 significant digits, and a
#: non-zero magnitude from 1E-130 up to below 1E+126.
MAX_NUMBER_DIGITS = 38
MIN_NUMBER_EXPONENT = -130
MAX_NUMBER_EXPONENT = 125


def is_number(text: str) -> bool:
    """MODEL-3: whether ``text`` is a number DynamoDB accepts (syntax and range).

    >>> [is_number(t) for t in ("1.50", "+1", ".5", "5.", "1e126", "1e-131", "0e999")]
    [True, True, True, True, False, False, True]
    """
    m = NUMBER_SYNTAX.match(text)
    if m is None:
        return False
    if len(text) <= MAX_NUMBER_DIGITS and m.group("exp") is None:
        return True  # fast path: no exponent, at most 38 digits: always in range
    digits = (m.group("int") or "") + (m.group("frac") or m.group("frac2") or "")
    significant = digits.lstrip("0")
    if not significant:
        return True  # zero, whatever its exponent
    exp_text = m.group("exp") or "0"
    if len(exp_text.lstrip("+-").lstrip("0")) > 6:
        return False  # |exponent| >= 10**6: far outside the range
    # Exponent of the leading significant digit (scientific notation).
    leading = int(exp_text) + len(m.group("int") or "") - (len(digits) - len(significant)) - 1
    trimmed = significant.rstrip("0")
    return (
        len(trimmed) <= MAX_NUMBER_DIGITS and MIN_NUMBER_EXPONENT <= leading <= MAX_NUMBER_EXPONENT
    )


#: MODEL-5/MODEL-6: canonical decimal integers (no sign for counts, no leading zeros).
_UNSIGNED = re.compile(r"(?:0|[1-9][0-9]*)\Z")
_SIGNED = re.compile(r"(?:0|-?[1-9][0-9]*)\Z")

#: MODEL-5: the attributes a wrapped-DEK item may carry; anything else cannot
#: be represented in a WrappedDek and would be lost in a migration.
_DEK_ATTRS = frozenset(
    {
        "pk",
        "sk",
        "key_id",
        "owner",
        "wrap_alg",
        "wrapped_key",
        "wrap_nonce",
        "state",
        "created_at",
        "destroyed_at",
    }
)


class _Malformed(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def record_from_item(
    item: Mapping[str, AttrValue], origin: str, *, canonical: bool = False
) -> Record | Finding:
    """Classify one physical item and build its record, or a finding saying why not.

    ``canonical=True`` is the caller's promise that every value already is
    the canonical form :func:`typed_from_json` returns and that ``item`` is
    its own fresh dict, handed over: an entity's attributes are then taken
    as they are (the item itself, less its key and envelope attributes)
    instead of being validated and copied a second time (MODEL-3). The
    result is equal either way.
    """
    pkv, skv = item.get("pk"), item.get("sk")
    if (
        type(pkv) is dict
        and type(skv) is dict
        and len(pkv) == 1
        and len(skv) == 1
        and type(pkv.get("S")) is str
        and type(skv.get("S")) is str
    ):  # fast path: both keys plain strings, what _get_s returns
        pk, sk = pkv["S"], skv["S"]
    else:
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
        return _entity(item, pk, sk, origin, canonical)
    except AddressError as exc:
        return Finding(codes.ADDRESS_INVALID, where, str(exc), source=origin)
    except _Malformed as exc:
        return Finding(codes.RECORD_MALFORMED, where, exc.message, source=origin)


def _entity(
    item: Mapping[str, AttrValue], pk: str, sk: str, origin: str, canonical: bool = False
) -> EntityRecord:
    address = Address.from_dynamodb(pk, sk)
    if canonical:
        fast = _canonical_entity(item, address, origin)
        if fast is not None:
            return fast
    present = [a for a in ENVELOPE_ATTRS[:4] if a in item]
    envelope: Envelope | None = None
    if present:
        if len(present) != 4:
            missing = [a for a in ENVELOPE_ATTRS[:4] if a not in item]
            raise _Malformed(f"envelope attribute(s) missing: {', '.join(missing)}")
        version = 1
        explicit = "envelope_version" in item
        if explicit:
            version = _get_int(item, "envelope_version")
        envelope = Envelope(
            ciphertext=_get_b(item, "content_encrypted"),
            nonce=_get_b(item, "content_nonce"),
            key_id=_get_s(item, "key_id"),
            aad_hash=_get_s(item, "aad_hash"),
            version=version,
            explicit_version=explicit and version == 1,
        )
    elif "envelope_version" in item:
        # MODEL-4: a version without an envelope cannot be represented (and
        # would silently vanish on the way back to an item).
        raise _Malformed("envelope_version without the envelope attributes")
    attrs: dict[str, AttrValue] = {}
    for name, value in item.items():
        if name in ("pk", "sk") or name in ENVELOPE_ATTRS:
            continue
        if canonical:
            attrs[name] = value
            continue
        try:
            attrs[name] = canonical_typed(value, name)
        except ValueError as exc:
            raise _Malformed(str(exc)) from None
    return EntityRecord(address, attrs, envelope, origin)


_NOT_ATTRIBUTES = frozenset(("pk", "sk", *ENVELOPE_ATTRS))


def _canonical_entity(
    item: Mapping[str, AttrValue], address: Address, origin: str
) -> EntityRecord | None:
    """:func:`_entity` of a canonical item with no envelope or a complete
    version-1 envelope without ``envelope_version``; None for anything else
    (then :func:`_entity` decides, with its own messages)."""
    ciphertext = item.get("content_encrypted")
    envelope: Envelope | None = None
    if ciphertext is None:
        if "content_nonce" in item or "key_id" in item or "aad_hash" in item:
            return None
    else:
        nonce, key_id, aad = item.get("content_nonce"), item.get("key_id"), item.get("aad_hash")
        if nonce is None or key_id is None or aad is None:
            return None
        ct, nc, kid, ah = ciphertext.get("B"), nonce.get("B"), key_id.get("S"), aad.get("S")
        if type(ct) is not bytes or type(nc) is not bytes or type(kid) is not str:
            return None
        if type(ah) is not str:
            return None
        envelope = Envelope(ct, nc, kid, ah)
    if "envelope_version" in item or type(item) is not dict:
        return None
    # The caller handed the item over (canonical=True): it becomes the attributes.
    for name in _NOT_ATTRIBUTES:
        item.pop(name, None)
    return EntityRecord(address, item, envelope, origin)


def _wrapped_dek(item: Mapping[str, AttrValue], pk: str, sk: str, origin: str) -> WrappedDek:
    dialogue = pk[len("dialogue#") :]
    unescape_component(dialogue)
    version_text = sk[len(DEK_SK_PREFIX) :]
    if not _UNSIGNED.match(version_text) or version_text == "0":
        raise _Malformed(
            f"sort key {sk!r}: version must be a positive decimal without leading zeros"
        )
    unknown = sorted(set(item) - _DEK_ATTRS)
    if unknown:
        raise _Malformed(f"wrapped-DEK item has attribute(s) outside MODEL-5: {', '.join(unknown)}")
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
    # MODEL-6: the sort key is derived from event_id; a disagreement could not
    # be written back and would move the event.
    event_id = _get_s(item, "event_id")
    if sk != AUDIT_SK_PREFIX + event_id:
        raise _Malformed(f"audit event sort key {sk!r} does not match event_id {event_id!r}")
    fields = {}
    for k, v in item.items():
        if k in ("pk", "sk"):
            continue
        if type(v) is dict and len(v) == 1:
            text = v.get("S")
            if type(text) is str:  # fast path: plain_from_typed of a string
                fields[k] = text
                continue
        if not isinstance(v, dict) or len(v) != 1:
            raise _Malformed(f"attribute {k} is not a typed value")
        fields[k] = plain_from_typed(v)
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
            if env.version != 1 or env.explicit_version:
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
        return {"BS": [base64.b64encode(b).decode("ascii") for b in sorted(val)]}
    if tag in ("SS", "NS"):
        return {tag: sorted(val, key=_utf8)}
    if tag == "L":
        return {"L": [typed_to_json(v) for v in val]}
    if tag == "M":
        return {"M": {k: typed_to_json(v) for k, v in val.items()}}
    return {tag: val}


def typed_from_json(obj: Any, where: str = "value") -> AttrValue:
    """Parse a typed value from JSON, strictly; raises ValueError naming the problem.

    The result is canonical (MODEL-3): set members sorted, binary as bytes.
    """
    if type(obj) is dict and len(obj) == 1:
        ((tag, val),) = obj.items()
        if type(val) is str:  # fast paths: strings, unsigned integers, binary
            if tag == "S":
                return {"S": val}
            if tag == "N" and len(val) <= MAX_NUMBER_DIGITS and val.isascii() and val.isdigit():
                return {"N": val}  # what is_number accepts without an exponent
            if tag == "B":
                return {"B": _b64(val, where)}
    return _typed_from_json(obj, where)


def _typed_from_json(obj: Any, where: str) -> AttrValue:
    if not isinstance(obj, dict) or len(obj) != 1:
        raise ValueError(f"{where}: a typed value is an object with exactly one type tag")
    ((tag, val),) = obj.items()
    if tag not in _TYPE_TAGS:
        raise ValueError(f"{where}: unknown type tag {tag!r}")
    if tag in ("S", "N"):
        if not isinstance(val, str):
            raise ValueError(f"{where}: {tag} value must be a string")
        if tag == "N" and not is_number(val):
            raise ValueError(f"{where}: N value must be a number DynamoDB accepts (MODEL-3)")
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
        return {tag: _canonical_set(tag, val, where)}
    if tag == "BS":
        if not isinstance(val, list):
            raise ValueError(f"{where}: BS value must be a list")
        return {"BS": _canonical_set("BS", [_b64(v, where) for v in val], where)}
    if tag == "L":
        if not isinstance(val, list):
            raise ValueError(f"{where}: L value must be a list")
        return {"L": [_typed_from_json(v, f"{where}[{i}]") for i, v in enumerate(val)]}
    if not isinstance(val, dict):
        raise ValueError(f"{where}: M value must be an object")
    return {"M": {k: _typed_from_json(v, f"{where}.{k}") for k, v in val.items()}}


def canonical_typed(av: Any, where: str = "value") -> AttrValue:
    """Validate a typed value (binary as ``bytes``) and return its canonical form.

    MODEL-3: exactly one known type tag; ``S`` a string; ``N`` a DynamoDB
    number string; ``B`` bytes; sets non-empty, without duplicates, members
    sorted (``SS``/``NS`` by UTF-8 bytes, ``BS`` by bytes) because sets are
    unordered and every store must produce the same bytes. Raises ValueError.
    """
    if not isinstance(av, dict) or len(av) != 1:
        raise ValueError(f"{where}: a typed value is an object with exactly one type tag")
    ((tag, val),) = av.items()
    if tag == "S":
        if not isinstance(val, str):
            raise ValueError(f"{where}: S value must be a string")
        return {"S": val}
    if tag == "N":
        if not isinstance(val, str) or not is_number(val):
            raise ValueError(f"{where}: N value must be a number DynamoDB accepts (MODEL-3)")
        return {"N": val}
    if tag == "B":
        if not isinstance(val, bytes | bytearray):
            raise ValueError(f"{where}: B value must be bytes")
        return {"B": bytes(val)}
    if tag == "BOOL":
        if not isinstance(val, bool):
            raise ValueError(f"{where}: BOOL value must be true or false")
        return {"BOOL": val}
    if tag == "NULL":
        if val is not True:
            raise ValueError(f"{where}: NULL value must be true")
        return {"NULL": True}
    if tag in ("SS", "NS", "BS"):
        return {tag: _canonical_set(tag, val, where)}
    if tag == "L":
        if not isinstance(val, list | tuple):
            raise ValueError(f"{where}: L value must be a list")
        return {"L": [canonical_typed(v, f"{where}[{i}]") for i, v in enumerate(val)]}
    if tag == "M":
        if not isinstance(val, dict) or not all(isinstance(k, str) for k in val):
            raise ValueError(f"{where}: M value must be an object with string keys")
        return {"M": {k: canonical_typed(v, f"{where}.{k}") for k, v in val.items()}}
    raise ValueError(f"{where}: unknown type tag {tag!r}")


def _canonical_set(tag: str, val: Any, where: str) -> list[Any]:
    if not isinstance(val, list | tuple | set | frozenset) or not val:
        raise ValueError(f"{where}: {tag} value must be a non-empty list")
    if tag == "BS":
        if not all(isinstance(v, bytes | bytearray) for v in val):
            raise ValueError(f"{where}: BS members must be bytes")
        members: list[Any] = sorted(bytes(v) for v in val)
    else:
        if not all(isinstance(v, str) for v in val):
            raise ValueError(f"{where}: {tag} members must be strings")
        if tag == "NS" and not all(is_number(v) for v in val):
            raise ValueError(f"{where}: NS members must be numbers DynamoDB accepts (MODEL-3)")
        members = sorted(val, key=_utf8)
    if any(a == b for a, b in itertools.pairwise(members)):
        raise ValueError(f"{where}: {tag} holds a duplicate member")
    return members


def _utf8(s: str) -> bytes:
    return s.encode("utf-8", "surrogatepass")


def _b64(val: Any, where: str) -> bytes:
    if not isinstance(val, str):
        raise ValueError(f"{where}: binary value must be a base64 string")
    if val.isascii():  # fast path: the decoded bytes re-encode to exactly this text
        try:
            raw = binascii.a2b_base64(val, strict_mode=True)
        except binascii.Error:
            pass
        else:
            if binascii.b2a_base64(raw, newline=False) == val.encode("ascii"):
                return raw
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
        if not isinstance(val, str):
            raise _Malformed("audit event S value is not a string")
        return val
    if tag == "N":
        # MODEL-6: canonical integers only, so int -> str gives the stored text back.
        if not isinstance(val, str) or not _SIGNED.match(val):
            raise _Malformed(f"audit event number {val!r} is not a canonical integer")
        return int(val)
    if tag == "NULL":
        if val is not True:
            raise _Malformed("audit event NULL value must be true")
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
    if not isinstance(val, str) or not _UNSIGNED.match(val):
        raise _Malformed(f"attribute {name} must be a non-negative integer in canonical form")
    return int(val)


def _get(item: Mapping[str, AttrValue], name: str, tag: str) -> Any:
    av = item.get(name)
    if type(av) is dict and len(av) == 1 and tag in av:  # fast path: the one tag wanted
        return av[tag]
    if name not in item:
        raise _Malformed(f"attribute {name} is missing")
    av = item[name]
    if not isinstance(av, dict) or list(av) != [tag]:
        got = ",".join(av) if isinstance(av, dict) else type(av).__name__
        raise _Malformed(f"attribute {name} must be of type {tag}, got {got}")
    return av[tag]
