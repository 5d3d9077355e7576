"""Canonical entity addresses and their one-to-one mapping to physical keys.

The address is the engine-independent name of an entity: the GCM additional
data is derived from it, so a ciphertext stays valid wherever the row lives.
This module is pure (no I/O) and strict: anything that could make two
entities share an address, or one address map to two physical keys, is
rejected with :class:`AddressError` naming the reason.

Specification: ``docs/address.md`` (section numbers are cited as ``ADDR-n``).

>>> a = Address.parse("dialogue:d-1/entity:perspective/01#02")
>>> a.to_dynamodb()
('dialogue#d-1', 'perspective#01#02')
>>> Address.from_sql("d-1", "perspective", "01#02") == a
True
"""

from __future__ import annotations

import functools
import re
import unicodedata
from dataclasses import dataclass, field
from enum import StrEnum

SPEC_VERSION = 1

#: ADDR-3: the only characters escaped inside a component, and their escapes.
_ESCAPES = {"%": "%25", "#": "%23", "/": "%2F"}
_UNESCAPES = {v: k for k, v in _ESCAPES.items()}
_ESCAPE_RE = re.compile(r"%(?:25|23|2F)")

#: ADDR-5: limits, in UTF-8 bytes of the escaped form.
MAX_COMPONENT_BYTES = 255
MAX_ADDRESS_BYTES = 1024

_TWO_DIGITS = re.compile(r"[0-9]{2}\Z")
_TIMESTAMP = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]{1,9})?Z\Z"
)


class AddressError(ValueError):
    """An address, physical key or component that the spec does not allow."""


class EntityType(StrEnum):
    """ADDR-2: every entity type of the layout, with its subkey grammar."""

    META = "meta"
    EXPERT = "expert"
    ROUND = "round"
    VERDICT = "verdict"
    PERSPECTIVE = "perspective"
    TENSION = "tension"
    RECOMMENDATION = "recommendation"
    EVIDENCE = "evidence"
    CLAIM = "claim"
    MOVE = "move"
    REF = "ref"
    EVENT = "event"


#: ADDR-2: the kind of each subkey part, per entity type.
#: "nn" = exactly two ASCII digits, "id" = a free component,
#: "type" = an entity type name (not event), "ts" = an RFC 3339 UTC timestamp.
SUBKEY_PARTS: dict[EntityType, tuple[str, ...]] = {
    EntityType.META: (),
    EntityType.EXPERT: ("id",),
    EntityType.ROUND: ("nn",),
    EntityType.VERDICT: ("id",),
    EntityType.PERSPECTIVE: ("nn", "nn"),
    EntityType.TENSION: ("nn", "nn"),
    EntityType.RECOMMENDATION: ("nn", "nn"),
    EntityType.EVIDENCE: ("nn", "nn"),
    EntityType.CLAIM: ("nn", "nn"),
    EntityType.MOVE: ("nn", "id", "nn"),
    EntityType.REF: ("id", "id", "id"),
    EntityType.EVENT: ("type", "id", "ts"),
}

#: Entity types whose items carry no encrypted fields (ADDR-2).
CLEARTEXT_ONLY = frozenset({EntityType.REF})
#: Entity types whose envelope is optional (ENV-2): a lifecycle event's chain
#: fields are cleartext, and a migration-boundary event is written by the
#: migration tool, which holds no keys.
ENVELOPE_OPTIONAL = frozenset({EntityType.EVENT})


def escape_component(value: str) -> str:
    """Return the escaped (wire) form of one logical id (ADDR-3).

    Validates the logical value first: non-empty, NFC, no control or
    surrogate code points. Raises :class:`AddressError` otherwise.
    """
    _check_logical(value)
    escaped = "".join(_ESCAPES.get(ch, ch) for ch in value)
    _check_length(escaped)
    return escaped


@functools.lru_cache(maxsize=4096)
def unescape_component(escaped: str) -> str:
    """Return the logical id of an escaped component, rejecting non-canonical forms.

    Cached (a pure function of the text; a rejected component raises every
    time, exceptions are not cached): a dialogue id and most subkey parts
    recur on every record of a dialogue, and the Unicode checks are costly.
    The cache is bounded, so memory stays flat however large the source.
    """
    if not escaped:
        raise AddressError("empty component")
    for ch in "#/":
        if ch in escaped:
            raise AddressError(f"unescaped {ch!r} inside component {escaped!r}")
    # Every '%' must start one of the three canonical escapes (upper-case hex).
    stripped = _ESCAPE_RE.sub("", escaped)
    if "%" in stripped:
        raise AddressError(f"'%' in component {escaped!r} is not one of the escapes %25 %23 %2F")
    value = _ESCAPE_RE.sub(lambda m: _UNESCAPES[m.group(0)], escaped)
    # Logical checks first: a lone surrogate has no UTF-8 length to measure.
    _check_logical(value)
    _check_length(escaped)
    return value


def _check_logical(value: str) -> None:
    if not value:
        raise AddressError("empty component")
    for ch in value:
        cat = unicodedata.category(ch)
        if cat == "Cc":
            raise AddressError(f"control character U+{ord(ch):04X} in component")
        if cat == "Cs":
            raise AddressError(f"lone surrogate U+{ord(ch):04X} in component")
    if not unicodedata.is_normalized("NFC", value):
        raise AddressError(f"component {value!r} is not in Unicode NFC")


def _check_length(escaped: str) -> None:
    n = len(escaped.encode("utf-8"))
    if n > MAX_COMPONENT_BYTES:
        raise AddressError(f"component is {n} bytes, over the limit of {MAX_COMPONENT_BYTES}")


def _check_part(kind: str, escaped: str) -> None:
    """Validate one escaped subkey part against its kind (ADDR-2)."""
    if kind == "nn":
        if not _TWO_DIGITS.match(escaped):
            raise AddressError(f"{escaped!r} is not a two-digit number")
    elif kind == "ts":
        if not _TIMESTAMP.match(escaped):
            raise AddressError(
                f"{escaped!r} is not an RFC 3339 UTC timestamp (YYYY-MM-DDThh:mm:ss[.f]Z)"
            )
    elif kind == "type":
        if escaped not in _EVENT_TARGET_TYPES:
            raise AddressError(f"{escaped!r} is not an entity type an event can describe")
    else:
        unescape_component(escaped)


_EVENT_TARGET_TYPES = frozenset(t.value for t in EntityType if t is not EntityType.EVENT)


@dataclass(frozen=True, slots=True, order=True)
class Address:
    """A validated canonical entity address.

    ``dialogue`` and ``parts`` hold the escaped (wire) forms; use
    :meth:`logical_parts` for the ids as the application sees them.
    """

    dialogue: str
    entity_type: EntityType
    parts: tuple[str, ...]
    #: ``str(self)`` once rendered: every record's address is rendered for its
    #: AAD, its record key and its findings, so it is rendered once.
    _text: str = field(default="", init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        # Accept a plain type name or a list of parts from callers, but store
        # the canonical forms so equal addresses render and hash identically.
        object.__setattr__(self, "entity_type", _entity_type(self.entity_type))
        object.__setattr__(self, "parts", tuple(self.parts))
        if not isinstance(self.dialogue, str) or not all(isinstance(p, str) for p in self.parts):
            raise AddressError("dialogue and subkey parts must be strings")
        unescape_component(self.dialogue)
        kinds = SUBKEY_PARTS[self.entity_type]
        if len(self.parts) != len(kinds):
            raise AddressError(
                f"entity type {self.entity_type.value!r} takes {len(kinds)} subkey part(s), "
                f"got {len(self.parts)}"
            )
        for kind, part in zip(kinds, self.parts, strict=True):
            _check_part(kind, part)
        n = len(str(self).encode("utf-8"))
        if n > MAX_ADDRESS_BYTES:
            raise AddressError(f"address is {n} bytes, over the limit of {MAX_ADDRESS_BYTES}")

    # -- construction -------------------------------------------------------

    @classmethod
    def of(cls, dialogue_id: str, entity_type: EntityType | str, *logical_parts: str) -> Address:
        """Build an address from logical (unescaped) ids."""
        et = _entity_type(entity_type)
        kinds = SUBKEY_PARTS[et]
        if len(logical_parts) != len(kinds):
            raise AddressError(
                f"entity type {et.value!r} takes {len(kinds)} subkey part(s), "
                f"got {len(logical_parts)}"
            )
        parts = tuple(
            p if kind in ("nn", "ts", "type") else escape_component(p)
            for kind, p in zip(kinds, logical_parts, strict=True)
        )
        return cls(escape_component(dialogue_id), et, parts)

    @classmethod
    def parse(cls, text: str) -> Address:
        """Parse the canonical text form (ADDR-1); the inverse of ``str()``."""
        fast = _fast_parse(text)
        if fast is not None:
            return fast
        if not text.startswith("dialogue:"):
            raise AddressError(f"address {text!r} does not start with 'dialogue:'")
        rest = text[len("dialogue:") :]
        dialogue, sep, rest = rest.partition("/entity:")
        if not sep:
            raise AddressError(f"address {text!r} has no '/entity:' part")
        if "/" in dialogue:
            raise AddressError(f"dialogue id in {text!r} contains an unescaped '/'")
        type_name, slash, subkey = rest.partition("/")
        et = _entity_type(type_name)
        if et is EntityType.META:
            if slash:
                raise AddressError(f"a meta address takes no subkey: {text!r}")
            return cls(dialogue, et, ())
        if not slash:
            raise AddressError(f"address {text!r} lacks the subkey of {et.value!r}")
        return cls(dialogue, et, _split_subkey(subkey))

    @classmethod
    def from_dynamodb(cls, pk: str, sk: str) -> Address:
        """Map a DynamoDB ``pk``/``sk`` pair to its address (ADDR-4)."""
        fast = _fast_from_dynamodb(pk, sk)
        if fast is not None:
            return fast
        if not pk.startswith("dialogue#"):
            raise AddressError(f"partition key {pk!r} does not start with 'dialogue#'")
        dialogue = pk[len("dialogue#") :]
        if sk == "meta":
            return cls(dialogue, EntityType.META, ())
        type_name, sep, subkey = sk.partition("#")
        if not sep:
            raise AddressError(f"sort key {sk!r} has no '#'")
        et = _entity_type(type_name)
        if et is EntityType.META:
            raise AddressError(f"sort key {sk!r}: meta takes no subkey")
        return cls(dialogue, et, _split_subkey(subkey))

    @classmethod
    def from_sql(cls, dialogue_id: str, entity_type: str, subkey: str) -> Address:
        """Map SQL columns ``(dialogue_id, entity_type, subkey)`` to the address (ADDR-4)."""
        et = _entity_type(entity_type)
        if et is EntityType.META:
            if subkey != "":
                raise AddressError("meta row must have an empty subkey")
            return cls(dialogue_id, et, ())
        return cls(dialogue_id, et, _split_subkey(subkey))

    # -- rendering ----------------------------------------------------------

    @property
    def subkey(self) -> str:
        """The escaped parts joined by '#': identical in sk, SQL and the address."""
        return "#".join(self.parts)

    def __str__(self) -> str:
        text = self._text
        if not text:
            text = f"dialogue:{self.dialogue}/entity:{self.entity_type.value}"
            if self.entity_type is not EntityType.META:
                text = f"{text}/{self.subkey}"
            _set(self, "_text", text)
        return text

    def to_bytes(self) -> bytes:
        """The exact bytes hashed for ``aad_hash`` (ADDR-1): UTF-8 of ``str(self)``."""
        return str(self).encode("utf-8")

    def to_dynamodb(self) -> tuple[str, str]:
        """The DynamoDB ``(pk, sk)`` of this address (ADDR-4)."""
        pk = f"dialogue#{self.dialogue}"
        if self.entity_type is EntityType.META:
            return pk, "meta"
        return pk, f"{self.entity_type.value}#{self.subkey}"

    def to_sql(self) -> tuple[str, str, str]:
        """The SQL ``(dialogue_id, entity_type, subkey)`` of this address (ADDR-4)."""
        return self.dialogue, self.entity_type.value, self.subkey

    @property
    def dialogue_id(self) -> str:
        """The logical (unescaped) dialogue id."""
        return unescape_component(self.dialogue)

    def logical_parts(self) -> tuple[str, ...]:
        """The subkey parts as logical ids (escapes undone)."""
        return tuple(unescape_component(p) for p in self.parts)

    @property
    def has_envelope(self) -> bool:
        """Whether items at this address may carry an encryption envelope."""
        return self.entity_type not in CLEARTEXT_ONLY

    @property
    def envelope_required(self) -> bool:
        """Whether items at this address must carry an encryption envelope (ENV-2)."""
        return self.has_envelope and self.entity_type not in ENVELOPE_OPTIONAL


#: Sort keys already validated, with their type and parts: an entity's sort
#: key (``claim#01#02``) recurs in every dialogue. Event sort keys carry a
#: timestamp and never recur, so they are not kept. Bounded: cleared when full.
_SORT_KEYS: dict[str, tuple[EntityType, tuple[str, ...]]] = {}
_SORT_KEYS_MAX = 1024
_new = object.__new__
_set = object.__setattr__


def _fast_from_dynamodb(pk: str, sk: str) -> Address | None:
    """:meth:`Address.from_dynamodb` for a valid key, validating each part once
    (components through :func:`unescape_component`'s cache, sort keys through
    :data:`_SORT_KEYS`); None for anything else, which the full path then
    rejects with its own message. The result equals the full path's."""
    if not pk.startswith("dialogue#"):
        return None
    dialogue = pk[9:]
    parsed = _SORT_KEYS.get(sk)
    if parsed is None:
        parsed = _sort_key(sk)
        if parsed is None:
            return None
        if parsed[0] is not EntityType.EVENT:
            if len(_SORT_KEYS) >= _SORT_KEYS_MAX:
                _SORT_KEYS.clear()
            _SORT_KEYS[sk] = parsed
    try:
        unescape_component(dialogue)
    except AddressError:
        return None
    # str(address) is "dialogue:" D "/entity:" sk with sk's first '#' as '/'.
    if 17 + len(dialogue.encode("utf-8")) + len(sk.encode("utf-8")) > MAX_ADDRESS_BYTES:
        return None
    address: Address = _new(Address)
    _set(address, "dialogue", dialogue)
    _set(address, "entity_type", parsed[0])
    _set(address, "parts", parsed[1])
    _set(address, "_text", "")  # rendered by __str__ when first asked for
    return address


def _fast_parse(text: str) -> Address | None:
    """:meth:`Address.parse` of a valid address through the cached checks of
    :func:`_fast_from_dynamodb` (the text form is ``dialogue:D/entity:T/S``
    for ``pk = dialogue#D``, ``sk = T#S``); None for anything else."""
    if not text.startswith("dialogue:"):
        return None
    dialogue, sep, rest = text[9:].partition("/entity:")
    if not sep or "/" in dialogue:
        return None
    type_name, slash, subkey = rest.partition("/")
    if "#" in type_name or (type_name == "meta") == bool(slash):
        return None
    return _fast_from_dynamodb("dialogue#" + dialogue, f"{type_name}#{subkey}" if slash else "meta")


def _sort_key(sk: str) -> tuple[EntityType, tuple[str, ...]] | None:
    """The type and validated parts of a sort key, or None when it is not valid."""
    if sk == "meta":
        return EntityType.META, ()
    type_name, sep, subkey = sk.partition("#")
    et = _TYPES.get(type_name)
    if not sep or et is None or et is EntityType.META or not subkey or "/" in subkey:
        return None
    parts = tuple(subkey.split("#"))
    kinds = SUBKEY_PARTS[et]
    if len(parts) != len(kinds):
        return None
    try:
        for kind, part in zip(kinds, parts, strict=True):
            _check_part(kind, part)
    except AddressError:
        return None
    return et, parts


_TYPES = {t.value: t for t in EntityType}


def _split_subkey(subkey: str) -> tuple[str, ...]:
    if subkey == "":
        raise AddressError("empty subkey")
    if "/" in subkey:
        raise AddressError(f"subkey {subkey!r} contains an unescaped '/'")
    return tuple(subkey.split("#"))


def _entity_type(name: EntityType | str) -> EntityType:
    if isinstance(name, EntityType):
        return name
    try:
        return EntityType(name)
    except ValueError:
        raise AddressError(f"unknown entity type {name!r}") from None


def legacy_aad_bytes(pk: str, sk: str) -> bytes:
    """The pre-v1 draft's AAD input: UTF-8 of ``pk`` immediately followed by ``sk``.

    Not portable and ambiguous (``"ab"+"c" == "a"+"bc"``); kept only so the
    verifier can recognise records sealed that way (ENV-9).
    """
    return (pk + sk).encode("utf-8")
