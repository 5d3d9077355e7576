"""Chain events: their fields, the exact bytes hashed, genesis, and the lifecycle adapter.

One generic definition serves both chains of the system (CHAIN-1): the
crypto audit log (stored as :class:`~chainaudit.records.model.AuditEvent` directly)
and each dialogue's lifecycle chain (``event#...`` entity items, turned into
``AuditEvent`` by :func:`chain_event_from_entity`). This module is pure: no
I/O, no clock. Specification: ``docs/chain.md`` (sections ``CHAIN-n``).

>>> e = seal({"event_id": "01890a5d-ac96-774b-bcce-b302099a8057", "seq": 0,
...           "timestamp": "2023-06-27T07:15:50.038Z", "hash_alg": "sha256",
...           "previous_hash": genesis_hash("main", "sha256")})
>>> event_hash(e) == e["event_hash"]
True
"""

from __future__ import annotations

import calendar
import functools
import hashlib
import re
from collections.abc import Iterable, Mapping
from typing import Any

import blake3
import orjson
import rfc8785

from chainaudit.findings import Finding, codes
from chainaudit.records.address import (
    Address,
    AddressError,
    EntityType,
    escape_component,
    unescape_component,
)
from chainaudit.records.model import AttrValue, AuditEvent, EntityRecord

SPEC_VERSION = 1

#: CHAIN-3 / CHAIN-4: domain-separation prefixes.
DOMAIN_EVENT = b"chainaudit/chain/v1/event\x00"
DOMAIN_GENESIS = b"chainaudit/chain/v1/genesis\x00"

#: CHAIN-3: the algorithms version 1 allows; sha256 is the default.
HASH_ALGS = ("sha256", "blake3")
DEFAULT_HASH_ALG = "sha256"

#: CHAIN-2: I-JSON integer range.
MAX_INT = 2**53 - 1

LIFECYCLE_PREFIX = "dialogue:"
LIFECYCLE_SUFFIX = "/events"
BOUNDARY_KIND = "migration_boundary"

#: CHAIN-2: fields every event carries (name -> "str" | "int" | "hash").
CORE_FIELDS: dict[str, str] = {
    "event_id": "str",
    "seq": "int",
    "timestamp": "ts",
    "hash_alg": "str",
    "previous_hash": "hash",
    "event_hash": "hash",
}
AUDIT_FIELDS: dict[str, str] = {
    "trace_id": "str",
    "span_id": "str",
    "operation": "str",
    "key_id": "str",
    "principal": "str",
    "outcome": "str",
}
LIFECYCLE_FIELDS: dict[str, str] = {
    "event_type": "str",
    "entity_type": "str",
    "entity_id": "str",
    "principal": "str",
}
#: COMMIT-2 / COMMIT-7 (docs/commitments.md): the lifecycle event types that
#: carry fields of their own, and those fields (CHAIN-5).
COMMIT_EVENT_TYPE = "record_commit"
RECEIPT_EVENT_TYPE = "erasure_receipt"
COMMIT_OPS = frozenset({"put", "delete"})
COMMIT_FIELDS: dict[str, str] = {
    "record_key": "str",
    "record_op": "str",
    "record_digest": "hash",
}
RECEIPT_FIELDS: dict[str, str] = {
    "erased_key_id": "str",
    "destroyed_at": "ts",
    "tip_count": "int",
    "tip_hash": "hash",
    "signer_key_id": "hash",
    "signature": "sig",
}
#: CHAIN-12: fields of a boundary event beyond the core ones.
BOUNDARY_FIELDS: dict[str, str] = {
    "event_kind": "str",
    "boundary_version": "int",
    "source_backend": "str",
    "source_chain_id": "str",
    "source_count": "int",
    "source_tip_hash": "hash",
    "source_hash_alg": "str",
    "target_backend": "str",
    "target_chain_id": "str",
    "manifest_digest": "hash?",
    "signer_key_id": "hash",
    "signature": "sig",
}

OPERATIONS = frozenset(
    {"encrypt", "decrypt", "derive_kek", "wrap_dek", "unwrap_dek", "rotate_dek", "destroy_dek"}
)
OUTCOMES = frozenset({"success", "failure", "denied"})

_HEX64 = re.compile(r"[0-9a-f]{64}\Z")
_HEX128 = re.compile(r"[0-9a-f]{128}\Z")
#: CHAIN-5: an `N` attribute of a lifecycle item is a canonical non-negative integer.
_CANONICAL_UINT = re.compile(r"(?:0|[1-9][0-9]*)\Z")
_TS = re.compile(
    r"([0-9]{4})-([0-9]{2})-([0-9]{2})T([0-9]{2}):([0-9]{2}):([0-9]{2})(?:\.([0-9]{1,9}))?Z\Z"
)


class UnknownHashAlgorithm(ValueError):
    """``hash_alg`` is not one version 1 allows (CHAIN-3)."""


# --- hashing (CHAIN-3, CHAIN-4) --------------------------------------------


def digest(alg: str, data: bytes) -> bytes:
    """The 32-byte digest of ``data`` under a CHAIN-3 algorithm name."""
    if alg == "sha256":
        return hashlib.sha256(data).digest()
    if alg == "blake3":
        out: bytes = blake3.blake3(data).digest()
        return out
    raise UnknownHashAlgorithm(f"unknown hash algorithm {alg!r}")


def hashed_bytes(fields: Mapping[str, Any]) -> bytes:
    """CHAIN-3: the exact bytes hashed for ``event_hash``: prefix || JCS(fields − event_hash)."""
    body = dict(fields)
    body.pop("event_hash", None)
    return DOMAIN_EVENT + _jcs(body)


def event_hash_well_formed(fields: Mapping[str, Any]) -> str:
    """:func:`event_hash` of an event :func:`shape_problem` found nothing in.

    Its values are then strings of Unicode scalar values, null or integers
    of magnitude at most 2^53-1, so :func:`_jcs`'s test reduces to its names
    being ASCII; the bytes are the same.
    """
    body = dict(fields)
    body.pop("event_hash", None)
    alg = fields["hash_alg"]
    if "".join(body).isascii():
        return digest(alg, DOMAIN_EVENT + orjson.dumps(body, option=orjson.OPT_SORT_KEYS)).hex()
    return digest(alg, DOMAIN_EVENT + _jcs(body)).hex()


def _jcs(body: dict[Any, Any]) -> bytes:
    """RFC 8785 bytes of ``body``; a fast path for the flat objects events are.

    For an object whose keys are ASCII strings and whose values are strings,
    null or integers of magnitude at most 2^53-1, ``orjson``'s sorted compact
    output (the same bytes as Python's compact encoder, faster) is exactly
    the RFC 8785 bytes: code-point key order equals UTF-16
    order for ASCII keys, strings escape only ``"``, ``\\`` and controls
    (``\\b\\t\\n\\f\\r``, else ``\\u00xx`` lower-case), and such
    integers print as their decimal digits. Anything else (and a lone
    surrogate, which has no UTF-8) goes through ``rfc8785`` itself, so errors
    are unchanged. ``tests/test_fast_jcs.py`` checks the equality for all
    such objects.
    """
    for k, v in body.items():
        if type(k) is not str or not k.isascii():
            return rfc8785.dumps(body)
        t = type(v)
        if t is str or v is None:
            continue
        if t is not int or not -MAX_INT <= v <= MAX_INT:
            return rfc8785.dumps(body)
    try:
        return orjson.dumps(body, option=orjson.OPT_SORT_KEYS)
    except orjson.JSONEncodeError:  # a lone surrogate: rfc8785 raises its own error
        return rfc8785.dumps(body)


def event_hash(fields: Mapping[str, Any]) -> str:
    """The ``event_hash`` an event must carry, as lowercase hex (CHAIN-3)."""
    alg = fields.get("hash_alg")
    if not isinstance(alg, str):
        raise UnknownHashAlgorithm("hash_alg is missing")
    return digest(alg, hashed_bytes(fields)).hex()


def genesis_hash(chain_id: str, alg: str = DEFAULT_HASH_ALG) -> str:
    """CHAIN-4: the ``previous_hash`` of a chain's first event, bound to its id."""
    return digest(alg, DOMAIN_GENESIS + chain_id.encode("utf-8")).hex()


def seal(fields: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of ``fields`` with its ``event_hash`` set (for writers and generators)."""
    out = {k: v for k, v in fields.items() if k != "event_hash"}
    out["event_hash"] = event_hash(out)
    return out


# --- chain ids (CHAIN-1) ----------------------------------------------------


def is_lifecycle(chain_id: str) -> bool:
    """Whether a chain id names a dialogue lifecycle chain (CHAIN-1)."""
    return chain_id.startswith(LIFECYCLE_PREFIX)


def lifecycle_chain_id(dialogue: str) -> str:
    """The chain id of a dialogue's lifecycle chain; ``dialogue`` is the escaped id."""
    return f"{LIFECYCLE_PREFIX}{dialogue}{LIFECYCLE_SUFFIX}"


def is_boundary(fields: Mapping[str, Any]) -> bool:
    """Whether an event claims to be a migration boundary (CHAIN-12)."""
    return fields.get("event_kind") == BOUNDARY_KIND


# --- shape (CHAIN-2) --------------------------------------------------------


@functools.lru_cache(maxsize=256)
def timestamp_ms(text: str) -> int | None:
    """Unix milliseconds (floored) of a CHAIN-2 timestamp, or None if malformed.

    Cached (a pure function of the text, bounded): an event's timestamp is
    parsed by the shape check and again by the skew check (CHAIN-7).
    """
    m = _TS.match(text)
    if not m:
        return None
    # The date's day number is cached: one day's events share it.
    date = text[:10]
    day: int | None = _DAYS.get(date, -1)
    if day == -1 and date not in _DAYS:
        day = _day_number(*map(int, m.groups()[:3]))
        if len(_DAYS) >= 4096:
            _DAYS.clear()
        _DAYS[date] = day
    if day is None:
        return None
    h, mi, s = int(text[11:13]), int(text[14:16]), int(text[17:19])
    if h > 23 or mi > 59 or s > 59:
        return None
    frac = m.group(7)
    frac_ms = int(frac[:3].ljust(3, "0")) if frac else 0
    return ((day * 24 + h) * 60 + mi) * 60_000 + s * 1000 + frac_ms


_DAYS: dict[str, int | None] = {}


def _day_number(y: int, mo: int, d: int) -> int | None:
    """Days from 1970-01-01 to a valid date (CHAIN-2), or None."""
    if y < 1:  # CHAIN-2: years 0001-9999 (year 0 has no date in most libraries)
        return None
    if not (1 <= mo <= 12 and 1 <= d <= calendar.monthrange(y, mo)[1]):
        return None
    return calendar.timegm((y, mo, d, 0, 0, 0, 0, 0, 0)) // 86400


def _check_value(name: str, kind: str, value: Any) -> str | None:
    if kind == "int":
        if isinstance(value, bool) or not isinstance(value, int):
            return f"{name} must be an integer"
        if not 0 <= value <= MAX_INT:
            return f"{name} must be between 0 and 2^53-1"
        return None
    if kind == "hash?" and value is None:
        return None
    if not isinstance(value, str):
        return f"{name} must be a string"
    if kind in ("hash", "hash?") and not _HEX64.match(value):
        return f"{name} must be 64 lowercase hex digits"
    if kind == "sig" and not _HEX128.match(value):
        return f"{name} must be 128 lowercase hex digits"
    if kind == "ts" and timestamp_ms(value) is None:
        return f"{name} {value!r} is not an RFC 3339 UTC timestamp YYYY-MM-DDThh:mm:ss[.f]Z"
    return None


def _is_utf8(text: str) -> bool:
    """JCS hashes UTF-8; a lone surrogate has no UTF-8 form (RFC 8785 §3.2.2.2)."""
    if text.isascii():  # the common case, without building the bytes
        return True
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def shape_problem(chain_id: str, fields: Mapping[str, Any]) -> str | None:
    """Why an event is not well formed for its chain (CHAIN-2), or None.

    The value of ``hash_alg`` and the form of ``event_id`` are not judged
    here: they have their own findings (CHAIN-3, CHAIN-6).
    """
    if _well_formed(chain_id, fields):
        return None
    return _shape_problem(chain_id, fields)


#: _well_formed's value checks, one small int per CHAIN-2 kind.
_K_STR, _K_INT, _K_HASH, _K_HASH_OR_NULL, _K_SIG, _K_TS = range(6)
_KIND_CODES = {"str": _K_STR, "int": _K_INT, "hash": _K_HASH, "hash?": _K_HASH_OR_NULL}
_KIND_CODES.update(sig=_K_SIG, ts=_K_TS)
_HEX_DIGITS = "0123456789abcdef"


def _table(*tables: dict[str, str]) -> tuple[tuple[str, int], ...]:
    merged: dict[str, str] = {}
    for t in tables:
        merged.update(t)
    return tuple((name, _KIND_CODES[kind]) for name, kind in merged.items())


_AUDIT_TABLE = _table(CORE_FIELDS, AUDIT_FIELDS)
_BOUNDARY_TABLE = _table(CORE_FIELDS, BOUNDARY_FIELDS)
_LIFECYCLE_TABLE = _table(CORE_FIELDS, LIFECYCLE_FIELDS)
_LIFECYCLE_TABLES: dict[Any, tuple[tuple[str, int], ...]] = {
    COMMIT_EVENT_TYPE: _table(CORE_FIELDS, LIFECYCLE_FIELDS, COMMIT_FIELDS),
    RECEIPT_EVENT_TYPE: _table(CORE_FIELDS, LIFECYCLE_FIELDS, RECEIPT_FIELDS),
}


def _well_formed(chain_id: str, fields: Mapping[str, Any]) -> bool:
    """True only when :func:`_shape_problem` finds nothing; False when it may.

    The same rules, in one pass with exact types (what JSON gives), so
    that checking an event costs a few dictionary lookups; anything else is
    left to :func:`_shape_problem`, which then names the problem.
    ``tests/test_chain_shape.py`` compares the two on generated and mutated
    events.
    """
    for name, value in fields.items():
        if type(name) is not str or not (name.isascii() or _is_utf8(name)):
            return False
        t = type(value)
        if t is str:
            if not (value.isascii() or _is_utf8(value)):
                return False
        elif t is int:
            if not -MAX_INT <= value <= MAX_INT:
                return False
        elif value is not None:
            return False
    kind = fields.get("event_kind", _ABSENT)
    if kind is not _ABSENT:
        if kind != BOUNDARY_KIND:
            return False
        table = _BOUNDARY_TABLE
    elif chain_id.startswith(LIFECYCLE_PREFIX):
        table = _LIFECYCLE_TABLES.get(fields.get("event_type"), _LIFECYCLE_TABLE)
    else:
        table = _AUDIT_TABLE
    for name, check in table:
        value = fields.get(name, _ABSENT)
        if check == _K_STR:
            if type(value) is not str:
                return False
        elif check == _K_INT:
            if type(value) is not int or value < 0:
                return False
        elif check == _K_TS:
            if type(value) is not str or timestamp_ms(value) is None:
                return False
        elif value is None and check == _K_HASH_OR_NULL:
            continue
        elif (
            type(value) is not str
            or len(value) != (128 if check == _K_SIG else 64)
            or value.strip(_HEX_DIGITS)
        ):
            return False
    if table is _BOUNDARY_TABLE:
        if fields["boundary_version"] != 1:
            return False
        return not chain_id.startswith(LIFECYCLE_PREFIX) or fields.get("entity_type") == "meta"
    if table is _AUDIT_TABLE:
        return fields["operation"] in OPERATIONS and fields["outcome"] in OUTCOMES
    return _typed_problem(chain_id, fields) is None


_ABSENT: Any = object()


def _shape_problem(chain_id: str, fields: Mapping[str, Any]) -> str | None:
    """:func:`shape_problem` in full: every rule in turn, naming the first broken."""
    for name, value in fields.items():
        if not isinstance(name, str) or not _is_utf8(name):
            return "field names must be strings of Unicode scalar values"
        if isinstance(value, str):
            if not _is_utf8(value):
                return f"field {name} holds a lone surrogate (not encodable as UTF-8)"
            continue
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, int) or abs(value) > MAX_INT:
            return f"field {name} is not a string, an I-JSON integer or null"
    required = dict(CORE_FIELDS)
    boundary = is_boundary(fields)
    if boundary:
        required.update(BOUNDARY_FIELDS)
    elif "event_kind" in fields:
        return f"unknown event_kind {fields['event_kind']!r}"
    elif is_lifecycle(chain_id):
        required.update(LIFECYCLE_FIELDS)
        required.update(_TYPED_FIELDS.get(fields.get("event_type"), {}))
    else:
        required.update(AUDIT_FIELDS)
    for name, kind in required.items():
        if name not in fields:
            return f"required field {name} is missing"
        problem = _check_value(name, kind, fields[name])
        if problem:
            return problem
    if boundary:
        if fields["boundary_version"] != 1:
            return f"boundary_version {fields['boundary_version']} is not 1"
        if is_lifecycle(chain_id) and fields.get("entity_type") != EntityType.META.value:
            return "a lifecycle boundary event must be stored under entity type meta"
    elif is_lifecycle(chain_id):
        return _typed_problem(chain_id, fields)
    else:
        if fields["operation"] not in OPERATIONS:
            return f"unknown operation {fields['operation']!r}"
        if fields["outcome"] not in OUTCOMES:
            return f"unknown outcome {fields['outcome']!r}"
    return None


_TYPED_FIELDS: dict[object, dict[str, str]] = {
    COMMIT_EVENT_TYPE: COMMIT_FIELDS,
    RECEIPT_EVENT_TYPE: RECEIPT_FIELDS,
}


def _typed_problem(chain_id: str, fields: Mapping[str, Any]) -> str | None:
    """COMMIT-2 / COMMIT-7: what a commitment or an erasure receipt adds to CHAIN-2."""
    event_type = fields.get("event_type")
    if event_type == COMMIT_EVENT_TYPE:
        if fields["record_op"] not in COMMIT_OPS:
            return f"record_op {fields['record_op']!r} is not put or delete"
        dialogue = chain_id[len(LIFECYCLE_PREFIX) : -len(LIFECYCLE_SUFFIX)]
        if committed_dialogue(fields["record_key"]) != dialogue:
            return (
                f"record_key {fields['record_key']!r} is not the record key of an entity "
                "(other than an event) or a wrapped DEK of this chain's dialogue"
            )
    elif event_type == RECEIPT_EVENT_TYPE:
        from chainaudit.keys.hierarchy import parse_key_id

        try:
            parse_key_id(fields["erased_key_id"])
        except ValueError as exc:
            return str(exc)
    return None


@functools.lru_cache(maxsize=4096)
def committed_dialogue(record_key: str) -> str | None:
    """COMMIT-2: the escaped dialogue of a committable record key, or None.

    A committable key is the canonical address of an entity whose type is
    not ``event`` (MAN-1.1), or a wrapped DEK's ``dek#{D}#{V}`` (KEY-2).
    """
    if record_key.startswith(LIFECYCLE_PREFIX):
        try:
            addr = Address.parse(record_key)
        except AddressError:
            return None
        return None if addr.entity_type is EntityType.EVENT else addr.dialogue
    from chainaudit.keys.hierarchy import parse_key_id

    try:
        dialogue, _ = parse_key_id(record_key)
    except ValueError:
        return None
    return dialogue


# --- lifecycle events (CHAIN-5) -------------------------------------------

#: CHAIN-5: typed attributes read from a lifecycle item, and their type tags.
LIFECYCLE_ATTRS: dict[str, str] = {
    "event_id": "S",
    "seq": "N",
    "event_type": "S",
    "principal": "S",
    "hash_alg": "S",
    "previous_hash": "S",
    "event_hash": "S",
}
BOUNDARY_ATTRS: dict[str, str] = {
    name: ("N" if kind == "int" else "S") for name, kind in BOUNDARY_FIELDS.items()
}
#: CHAIN-5 / COMMIT-2 / COMMIT-7: further attributes of an ordinary item, by ``event_type``.
TYPED_ATTRS: dict[str, dict[str, str]] = {
    event_type: {name: ("N" if kind == "int" else "S") for name, kind in table.items()}
    for event_type, table in (
        (COMMIT_EVENT_TYPE, COMMIT_FIELDS),
        (RECEIPT_EVENT_TYPE, RECEIPT_FIELDS),
    )
}


def chain_event_from_entity(record: EntityRecord) -> AuditEvent | Finding:
    """CHAIN-5: the chain event of a lifecycle ``event#...`` entity, or a finding why not."""
    addr = record.address
    if addr.entity_type is not EntityType.EVENT:
        raise ValueError(f"{addr} is not a lifecycle event entity")
    parts = addr.parts
    try:
        entity_id = unescape_component(parts[1])
        dialogue_id = addr.dialogue_id
    except AddressError as exc:  # pragma: no cover - Address already validated
        return Finding(codes.CHAIN_EVENT_MALFORMED, str(addr), str(exc), source=record.origin)
    attrs = record.attributes
    chain_id = lifecycle_chain_id(addr.dialogue)
    boundary = "event_kind" in attrs
    wanted = _WANTED_PLAIN
    if boundary:
        wanted = _WANTED_BOUNDARY
    else:
        event_type = attrs.get("event_type")
        if isinstance(event_type, dict) and list(event_type) == ["S"]:
            wanted = _WANTED_TYPED.get(event_type["S"], _WANTED_PLAIN)
    fields: dict[str, Any] = {
        "entity_type": parts[0],
        "entity_id": entity_id,
        "timestamp": parts[2],
    }
    for name, tag in wanted:
        av = attrs.get(name)
        if type(av) is dict and len(av) == 1:  # fast path: a value of the right type
            value = av.get(tag, _ABSENT)
            if tag == "S" and value is not _ABSENT:
                fields[name] = value
                continue
            if type(value) is str and _CANONICAL_UINT.match(value):
                fields[name] = int(value)
                continue
        if name == "manifest_digest" and av == {"NULL": True}:
            fields[name] = None
            continue
        if not isinstance(av, dict) or list(av) != [tag]:
            return _event_malformed(record, chain_id, f"attribute {name} must be present with type {tag}")
        value = av[tag]
        if tag == "N":
            if not isinstance(value, str) or not _CANONICAL_UINT.match(value):
                return _event_malformed(
                    record, chain_id, f"attribute {name} must be a canonical non-negative integer"
                )
            value = int(value)
        fields[name] = value
    if boundary and entity_id != dialogue_id:
        return _event_malformed(
            record, chain_id, "a lifecycle boundary event's entity id must be its dialogue id"
        )
    return AuditEvent(chain_id, fields, record.origin or str(addr))


#: CHAIN-5: the attributes read from a lifecycle item, in order: an ordinary
#: event, a boundary, and an ordinary event of a type with fields of its own.
_WANTED_PLAIN = tuple(LIFECYCLE_ATTRS.items())
_WANTED_BOUNDARY = tuple(
    {
        **{k: v for k, v in LIFECYCLE_ATTRS.items() if k not in ("event_type", "principal")},
        **BOUNDARY_ATTRS,
    }.items()
)
_WANTED_TYPED = {
    event_type: tuple({**LIFECYCLE_ATTRS, **table}.items())
    for event_type, table in TYPED_ATTRS.items()
}


def _event_malformed(record: EntityRecord, chain_id: str, message: str) -> Finding:
    attrs = record.attributes
    seq_av, id_av = attrs.get("seq", {}), attrs.get("event_id", {})
    seq_text = seq_av.get("N") if isinstance(seq_av, dict) else None
    extra: dict[str, Any] = {
        "chain_id": chain_id,
        "seq": int(seq_text)
        if isinstance(seq_text, str) and _CANONICAL_UINT.match(seq_text)
        else None,
        "event_id": id_av.get("S") if isinstance(id_av, dict) else None,
    }
    return Finding(
        codes.CHAIN_EVENT_MALFORMED, str(record.address), message, source=record.origin, extra=extra
    )


def lifecycle_order_key(event: AuditEvent) -> tuple[int, str]:
    """CHAIN-6: sort key that puts one dialogue's lifecycle events in chain order."""
    seq = event.fields.get("seq")
    eid = event.fields.get("event_id")
    return (seq if isinstance(seq, int) and not isinstance(seq, bool) else -1, str(eid))


def order_lifecycle(events: Iterable[AuditEvent]) -> list[AuditEvent]:
    """One dialogue's lifecycle events in chain order (memory: one dialogue)."""
    return sorted(events, key=lifecycle_order_key)


def lifecycle_record(dialogue: str, fields: Mapping[str, Any]) -> EntityRecord:
    """The ``event#...`` entity of a lifecycle chain event (CHAIN-5): the
    inverse of :func:`chain_event_from_entity`.

    ``dialogue`` is the escaped id; ``entity_type``, ``entity_id`` and
    ``timestamp`` go into the address, every other field into a cleartext
    attribute (strings as S, integers as N, null as NULL).
    """
    address = Address(
        dialogue,
        EntityType.EVENT,
        (
            str(fields["entity_type"]),
            escape_component(str(fields["entity_id"])),
            str(fields["timestamp"]),
        ),
    )
    attrs: dict[str, AttrValue] = {}
    for name, value in fields.items():
        if name in ("entity_type", "entity_id", "timestamp"):
            continue
        if value is None:
            attrs[name] = {"NULL": True}
        elif isinstance(value, int) and not isinstance(value, bool):
            attrs[name] = {"N": str(value)}
        else:
            attrs[name] = {"S": str(value)}
    return EntityRecord(address, attrs, None)
