"""Record keys and record digests: the identity and the fingerprint of every record.

A migration manifest, a gate and a diff all compare stores record by record.
They need two things per record, both independent of the store it was read
from:

* a **record key** (MAN-1.1): the record's identity, a text string unique
  within a dataset, so "the same record" can be found on both sides;
* a **record digest** (MAN-1.2): BLAKE3-256 over a domain-separation prefix
  and the RFC 8785 canonical JSON of the record's physical item, so any
  change to any attribute changes the digest.

Specification: ``docs/manifest.md`` (MAN-1). This module is pure.

>>> from chainaudit.records.address import Address
>>> from chainaudit.records.model import EntityRecord
>>> r = EntityRecord(Address.parse("dialogue:d-1/entity:ref/a#cites#b"), {"n": {"N": "1.50"}}, None)
>>> record_key(r)
'dialogue:d-1/entity:ref/a#cites#b'
>>> len(record_digest(r))
32
"""

from __future__ import annotations

import json
import re
from base64 import b64encode
from decimal import Context, Decimal
from typing import Any

import blake3
import orjson
import rfc8785

from chainaudit.records.item import is_number, item_from_record, typed_to_json
from chainaudit.records.model import AttrValue, EntityRecord, Record, WrappedDek

#: MAN-1.2: domain separation, so a record digest can never equal any other
#: BLAKE3 value chainaudit computes (Merkle nodes, signatures, chain hashes).
RECORD_DIGEST_PREFIX = b"chainaudit/record/v1\x00"
#: The algorithm identifier written into manifests (MAN-3).
RECORD_DIGEST_ALG = "blake3-record-v1"
DIGEST_BYTES = 32

#: MAN-1.1: prefixes of the record keys of the two non-entity kinds.
DEK_KEY_PREFIX = "dek#"
AUDIT_KEY_PREFIX = "audit:"

# Numbers are canonicalised with enough precision for DynamoDB's 38 digits.
_DECIMAL_CONTEXT = Context(prec=200)
#: Characters above U+FFFF: in a member name they make the fast path of jcs() unsafe.
_ASTRAL = re.compile(r"[\U00010000-\U0010ffff]")
#: A number MAN-1.3 leaves as it is among the common ones: an unsigned integer
#: without leading zeros (and at most DynamoDB's 38 digits).
_CANONICAL_UINT = re.compile(r"(?:0|[1-9][0-9]{0,37})\Z")


def record_key(record: Record) -> str:
    """The record's identity (MAN-1.1), derived from where it is stored.

    * entity: its canonical address text (ADDR-1);
    * wrapped DEK: ``dek#{dialogue}#{version}`` from its physical key (the
      ``key_id`` grammar of KEY-2), so an edited ``key_id`` attribute shows
      as a *changed* record, not as one missing plus one extra;
    * audit event: ``audit:{chain}/{event_id}`` with ``%``, ``/`` and
      control characters of the chain id percent-escaped, so the first
      ``/`` always ends the chain id.
    """
    if isinstance(record, EntityRecord):
        return str(record.address)
    if isinstance(record, WrappedDek):
        return f"{DEK_KEY_PREFIX}{record.dialogue}#{record.version}"
    event_id = record.fields.get("event_id")
    if not isinstance(event_id, str):
        raise ValueError(f"audit event in chain {record.chain_id!r} has no string event_id")
    return audit_record_key(record.chain_id, event_id)


def audit_record_key(chain_id: str, event_id: str) -> str:
    """The record key of an audit event, from its chain id and event id (MAN-1.1)."""
    return f"{AUDIT_KEY_PREFIX}{_escape_chain_id(chain_id)}/{event_id}"


def record_dialogue(record: Record) -> str | None:
    """The escaped dialogue id a record belongs to, or None for audit events."""
    if isinstance(record, EntityRecord):
        return record.address.dialogue
    if isinstance(record, WrappedDek):
        return record.dialogue
    return None


def record_kind(record: Record) -> str:
    """``entity``, ``dek`` or ``audit_event`` (the manifest's count names, MAN-3)."""
    if isinstance(record, EntityRecord):
        return "entity"
    if isinstance(record, WrappedDek):
        return "dek"
    return "audit_event"


def canonical_record_json(record: Record) -> bytes:
    """The RFC 8785 bytes hashed by :func:`record_digest` (MAN-1.2).

    The JSON object maps every attribute name of the physical item (including
    ``pk`` and ``sk``, which for entities derive from the address) to its
    typed JSON form, after the two value canonicalisations of MAN-1.3.
    """
    item = item_from_record(record)
    fast = _fast_canonical(item)
    if fast is not None:
        return fast
    obj = {name: _canonical_typed(av) for name, av in item.items()}
    return jcs(obj)


def _fast_canonical(item: dict[str, AttrValue]) -> bytes | None:
    """:func:`canonical_record_json` of an item of strings, binaries and
    canonical unsigned integers (nearly every item), or None for the rest.

    Those values are already MAN-1.3 canonical, so the object is the item
    with binary as base64; it holds no JSON number, and for such an object
    :func:`jcs`'s fast path (``orjson``, sorted) gives the RFC 8785 bytes
    when no member name holds a character above U+FFFF. A lone surrogate
    makes ``orjson`` refuse, and the general path then decides.
    """
    obj: dict[str, Any] = {}
    for name, av in item.items():
        s = av.get("S")
        if type(s) is str:
            obj[name] = av
            continue
        b = av.get("B")
        if type(b) is bytes:
            obj[name] = {"B": b64encode(b).decode("ascii")}
            continue
        n = av.get("N")
        if type(n) is str and _CANONICAL_UINT.match(n):
            obj[name] = av
            continue
        return None
    names = "".join(obj)
    if not names.isascii() and _ASTRAL.search(names):
        return None
    try:
        return orjson.dumps(obj, option=orjson.OPT_SORT_KEYS)
    except orjson.JSONEncodeError:
        return None


def jcs(obj: Any) -> bytes:
    """RFC 8785 bytes of a JSON value.

    Fast path: for a value made only of objects, arrays, strings, booleans
    and null, RFC 8785 equals ``json.dumps`` with sorted keys and no
    whitespace, except that RFC 8785 sorts member names by UTF-16 code units
    where Python sorts by code points; the two orders differ only for names
    holding a character above U+FFFF. Anything else (numbers, such names)
    goes through the ``rfc8785`` library. ``tests/test_digest.py`` checks
    the equivalence property-wise.
    """
    if _plain(obj):
        try:  # the same bytes as json.dumps below (sorted, compact, UTF-8), faster
            return orjson.dumps(obj, option=orjson.OPT_SORT_KEYS)
        except orjson.JSONEncodeError:  # a lone surrogate: json.dumps's own error follows
            pass
        text = json.dumps(obj, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
        return text.encode("utf-8")
    return bytes(rfc8785.dumps(obj))


def _plain(obj: Any) -> bool:
    if isinstance(obj, str) or obj is None or isinstance(obj, bool):
        return True
    if isinstance(obj, dict):
        for k, v in obj.items():
            if not isinstance(k, str) or (not k.isascii() and _ASTRAL.search(k)):
                return False
            t = type(v)
            if not (t is str or v is None or t is bool or _plain(v)):
                return False
        return True
    if isinstance(obj, list):
        return all(_plain(v) for v in obj)
    return False


def record_digest(record: Record) -> bytes:
    """BLAKE3-256(prefix || RFC 8785 JSON of the item) (MAN-1.2): 32 bytes."""
    h = blake3.blake3(RECORD_DIGEST_PREFIX)
    h.update(canonical_record_json(record))
    return bytes(h.digest())


def keyed_digest(record: Record) -> tuple[str, bytes]:
    """``(record_key(record), record_digest(record))``: what indexes and trees consume."""
    return record_key(record), record_digest(record)


def canonical_number(text: str) -> str:
    """A DynamoDB number in canonical decimal form (MAN-1.3).

    Leading zeros, trailing fractional zeros and exponent notation are
    removed, a ``+`` sign dropped and ``-0`` becomes ``0``, because DynamoDB
    itself stores numbers that way: ``1.50`` written to DynamoDB reads back
    as ``1.5``, and a faithful migration must not look like a change. Every
    MODEL-3 number is rewritten (``+1``, ``.5`` and ``5.`` included); text
    that is not one (outside DynamoDB's syntax or range, which a record read
    from a store cannot hold) is returned unchanged, so the output is never
    longer than about 170 characters.

    >>> [canonical_number(t) for t in ("1.50", "+1", ".5", "5.", "1E+2", "-0.0", "1e999")]
    ['1.5', '1', '0.5', '5', '100', '0', '1e999']
    """
    if not is_number(text):
        return text
    d = Decimal(text)
    out = format(d.normalize(_DECIMAL_CONTEXT), "f")
    return "0" if out in ("-0", "0") else out


def _canonical_typed(av: AttrValue) -> dict[str, Any]:
    """typed_to_json plus MAN-1.3: numbers canonical, set members sorted."""
    ((tag, val),) = av.items()
    if tag == "S":
        return {"S": val}
    if tag == "N":
        return {"N": canonical_number(val)}
    if tag == "NS":
        return {"NS": sorted({canonical_number(v) for v in val}, key=_utf8)}
    if tag == "SS":
        return {"SS": sorted(set(val), key=_utf8)}
    if tag == "BS":
        members = sorted(set(bytes(b) for b in val))
        return typed_to_json({"BS": members})
    if tag == "L":
        return {"L": [_canonical_typed(v) for v in val]}
    if tag == "M":
        return {"M": {k: _canonical_typed(v) for k, v in val.items()}}
    return typed_to_json(av)


def _utf8(s: str) -> bytes:
    return s.encode("utf-8")


def _escape_chain_id(chain_id: str) -> str:
    out = []
    for ch in chain_id:
        if ch in "%/" or ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append("".join(f"%{b:02X}" for b in ch.encode("utf-8")))
        else:
            out.append(ch)
    return "".join(out)


__all__ = [
    "AUDIT_KEY_PREFIX",
    "DEK_KEY_PREFIX",
    "DIGEST_BYTES",
    "RECORD_DIGEST_ALG",
    "RECORD_DIGEST_PREFIX",
    "audit_record_key",
    "canonical_number",
    "canonical_record_json",
    "keyed_digest",
    "record_dialogue",
    "record_digest",
    "record_key",
    "record_kind",
]
