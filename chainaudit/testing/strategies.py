"""Hypothesis strategies for chainaudit's data (needs ``pip install 'chainaudit[testing]'``).

Every strategy is a function returning a ``SearchStrategy``, in the style of
``hypothesis.strategies``:

* ids and addresses: :func:`ids` (valid logical ids, with ``%``, ``#``,
  ``/``, ``:``, spaces, bidi controls, accents, CJK and emoji, always NFC),
  :func:`long_ids` (at the 255-byte limit once escaped), :func:`non_nfc_ids`
  and :func:`hostile_ids` (raw input a writer must escape or refuse),
  :func:`addresses` (every entity type);
* values: :func:`json_values`, :func:`payloads` (what RFC 8785 encodes),
  :func:`typed_values` and :func:`attribute_maps` (DynamoDB-typed attributes);
* records: :func:`sealed_records` (validly sealed, with their DEK),
  :func:`entity_records`, :func:`wrapped_deks`, :func:`audit_events`,
  :func:`records` (any model record, not necessarily valid: for store round
  trips);
* chains: :func:`audit_chains`, :func:`lifecycle_chains` (written with
  :class:`chainaudit.ChainWriter`, optionally across a signed boundary);
* whole datasets: :func:`dialogues` (written by the reference writer,
  :class:`chainaudit.sample.SampleWriter`: DEKs per dialogue, rotations,
  updates, every version committed, shredding with signed erasure
  receipts, migration boundaries, with the UMK, pinned keys and a checkpoint
  of every chain), and :func:`mutations` (a dataset and one tampering of it).

Generated data is deterministic in what hypothesis draws (no clock, no OS
randomness), so a failing example replays.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple

from hypothesis import reject
from hypothesis import strategies as st

from chainaudit.chain import uuid7
from chainaudit.chain.events import HASH_ALGS, OPERATIONS, OUTCOMES
from chainaudit.envelope.seal import seal
from chainaudit.records.address import (
    MAX_COMPONENT_BYTES,
    SUBKEY_PARTS,
    Address,
    AddressError,
    EntityType,
    escape_component,
)
from chainaudit.records.model import (
    AttrValue,
    AuditEvent,
    EntityRecord,
    Envelope,
    KeyState,
    Record,
    WrappedDek,
)
from chainaudit.testing.builders import canonical_attrs
from chainaudit.testing.dataset import Dataset
from chainaudit.testing.mutators import MUTATORS, Mutation, NoTarget


def _warm_unicode_tables() -> None:
    """Build hypothesis's Unicode category tables now, at import (once per
    environment, then cached on disk). On a cold start they take a second
    or more, which would otherwise count against the first test's data
    generation and fail it as ``HealthCheck.too_slow``."""
    try:
        from hypothesis.internal.charmap import charmap
    except ImportError:  # pragma: no cover - a hypothesis that moved it: only slower
        return
    charmap()


_warm_unicode_tables()

#: Characters that separate, escape or confuse: every id strategy mixes them in.
HOSTILE_CHARACTERS = ("#", "/", "%", ":", " ", "%25", "é", "ß", "🦉", "対", "\u202e", "\u200b")
_CHAR = st.characters(exclude_categories=("Cc", "Cs"))
#: 2026-03-02T09:00:00Z, where generated time starts.
_START_MS = 1_772_442_000_000


# --- ids and addresses -------------------------------------------------------------


def ids(*, min_size: int = 1, max_size: int = 8) -> st.SearchStrategy[str]:
    """Valid logical ids (ADDR-3): any code point but controls and surrogates, with
    separators and Unicode mixed in, NFC, non-empty, at most ``max_size`` pieces."""
    return (
        st.lists(st.one_of(_CHAR, st.sampled_from(HOSTILE_CHARACTERS)), min_size=min_size, max_size=max_size)
        .map(lambda xs: unicodedata.normalize("NFC", "".join(xs)))
        .filter(lambda s: s != "")
    )


@st.composite
def long_ids(draw: st.DrawFn) -> str:
    """Valid ids at (or one piece below) the 255-byte limit of their escaped form."""
    piece = draw(st.sampled_from(["a", "é", "対", "🦉", "%", "#", "/"]))
    size = len(escape_component(piece).encode("utf-8"))
    text = piece * (MAX_COMPONENT_BYTES // size)
    text += "a" * (MAX_COMPONENT_BYTES - len(escape_component(text).encode("utf-8")))
    return text[: len(text) - draw(st.integers(0, 1))]


def non_nfc_ids() -> st.SearchStrategy[str]:
    """Ids that are not in Unicode NFC (a combining accent after a letter): ADDR-3
    refuses them, it never normalises."""
    return st.builds(lambda a, b: a + "e\u0301" + b, ids(max_size=3), ids(max_size=3)).filter(
        lambda s: not unicodedata.is_normalized("NFC", s)
    )


def hostile_ids() -> st.SearchStrategy[str]:
    """Raw ids as an application may hand them over: valid ones (:func:`ids`,
    :func:`long_ids`) and ones a writer must refuse (not NFC, a control
    character, empty, over the limit). ``Address.of`` escapes or refuses each."""
    return st.one_of(
        ids(),
        long_ids(),
        non_nfc_ids(),
        st.builds(lambda a: a + "\x00", ids(max_size=3)),
        st.just(""),
        long_ids().map(lambda s: s + "x"),
    )


_TWO_DIGITS = st.integers(0, 99).map(lambda n: f"{n:02d}")
_TIMESTAMPS = st.sampled_from(
    ["2026-01-02T03:04:05Z", "2026-03-02T09:00:00.000Z", "1999-12-31T23:59:59.999999999Z"]
)
_TARGETS = st.sampled_from([t.value for t in EntityType if t is not EntityType.EVENT])


def _part(kind: str, id_strategy: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    return {"nn": _TWO_DIGITS, "ts": _TIMESTAMPS, "type": _TARGETS}.get(kind, id_strategy)


@st.composite
def addresses(
    draw: st.DrawFn,
    *,
    enveloped: bool | None = None,
    entity_types: Sequence[EntityType] | None = None,
    dialogue_ids: st.SearchStrategy[str] | None = None,
    part_ids: st.SearchStrategy[str] | None = None,
) -> Address:
    """Addresses of every entity type (or of ``entity_types``): ``enveloped``
    True keeps the types whose items must carry an envelope (ENV-2: content,
    not ``ref``, not the lifecycle ``event``), False those that carry none
    (``ref``), None all. An address over the 1024-byte limit falls back to
    short ids."""
    types = list(entity_types or EntityType)
    if enveloped is True:
        types = [t for t in types if t not in (EntityType.REF, EntityType.EVENT)]
    elif enveloped is False:
        types = [t for t in types if t is EntityType.REF]
    et = draw(st.sampled_from(types))
    id_strategy = part_ids if part_ids is not None else ids()
    parts = [draw(_part(k, id_strategy)) for k in SUBKEY_PARTS[et]]
    try:
        return Address.of(draw(dialogue_ids if dialogue_ids is not None else ids()), et, *parts)
    except AddressError:  # over a limit: keep the shape, shorten the ids
        short = [p if k in ("nn", "ts", "type") else "x" for k, p in zip(SUBKEY_PARTS[et], parts, strict=True)]
        return Address.of("d", et, *short)


# --- values ----------------------------------------------------------------------------


def json_values() -> st.SearchStrategy[Any]:
    """JSON values RFC 8785 encodes and reads back as the same value (I-JSON:
    safe integers, finite doubles, strings without lone surrogates)."""
    return st.recursive(
        st.one_of(
            st.none(),
            st.booleans(),
            st.integers(-(2**53) + 1, 2**53 - 1),
            # JCS writes integral doubles as integers; keep them in the safe range
            # so that the value read back can be canonicalised again.
            st.floats(min_value=-(2.0**52), max_value=2.0**52, allow_nan=False),
            st.text(st.characters(exclude_categories=["Cs"]), max_size=10),
        ),
        lambda inner: st.one_of(
            st.lists(inner, max_size=4),
            st.dictionaries(
                st.text(st.characters(exclude_categories=["Cs"]), max_size=6), inner, max_size=4
            ),
        ),
        max_leaves=12,
    )


def payloads() -> st.SearchStrategy[dict[str, Any]]:
    """Envelope payloads: JSON objects (ENV-8)."""
    return st.dictionaries(
        st.text(st.characters(exclude_categories=["Cs"]), max_size=8), json_values(), max_size=6
    )


# Text a store can hold: no lone surrogates (not UTF-8).
_TEXT = st.text(st.characters(exclude_categories=["Cs"]), max_size=12)
_NUMBERS = st.one_of(
    st.integers(-(10**30), 10**30).map(str),
    st.decimals(allow_nan=False, allow_infinity=False, places=3).map(str),
)


def _scalars() -> st.SearchStrategy[AttrValue]:
    return st.one_of(
        _TEXT.map(lambda s: {"S": s}),
        _NUMBERS.map(lambda n: {"N": n}),
        st.binary(max_size=24).map(lambda b: {"B": b}),
        st.booleans().map(lambda b: {"BOOL": b}),
        st.just({"NULL": True}),
        st.lists(_TEXT, min_size=1, max_size=4, unique=True).map(lambda v: {"SS": v}),
        st.lists(st.integers(-999, 999).map(str), min_size=1, max_size=4, unique=True).map(
            lambda v: {"NS": v}
        ),
        st.lists(st.binary(max_size=8), min_size=1, max_size=4, unique=True).map(
            lambda v: {"BS": v}
        ),
    )


def typed_values() -> st.SearchStrategy[AttrValue]:
    """DynamoDB-typed attribute values (MODEL-3): every type tag, nested ``L``/``M``."""
    return st.recursive(
        _scalars(),
        lambda inner: st.one_of(
            st.lists(inner, max_size=3).map(lambda v: {"L": v}),
            st.dictionaries(_TEXT, inner, max_size=3).map(lambda v: {"M": v}),
        ),
        max_leaves=8,
    )


_RESERVED = frozenset(
    {"pk", "sk", "content_encrypted", "content_nonce", "key_id", "aad_hash", "envelope_version"}
)


def attribute_names() -> st.SearchStrategy[str]:
    """Cleartext attribute names: anything but the key and envelope attributes (ENV-2)."""
    return _TEXT.filter(lambda s: s != "" and s not in _RESERVED)


def attribute_maps(max_size: int = 4) -> st.SearchStrategy[dict[str, AttrValue]]:
    """Cleartext attributes in the canonical typed form a store reads back."""
    return st.dictionaries(attribute_names(), typed_values(), max_size=max_size).map(
        canonical_attrs
    )


# --- records -------------------------------------------------------------------------------


class SealedRecord(NamedTuple):
    """A validly sealed record and the key it was sealed with."""

    record: EntityRecord
    key_id: str
    dek: bytes


@st.composite
def sealed_records(
    draw: st.DrawFn,
    *,
    address: st.SearchStrategy[Address] | None = None,
    payload: st.SearchStrategy[Mapping[str, Any]] | None = None,
    version: int | None = None,
) -> SealedRecord:
    """A record sealed for its address under a drawn DEK and nonce (ENV-2..8),
    with cleartext attributes: ``chainaudit.check_record(record,
    chainaudit.DekMap({key_id: dek}))`` finds nothing."""
    a = draw(address if address is not None else addresses(enveloped=True))
    v = version or draw(st.integers(1, 3))
    key_id = f"dek#{a.dialogue}#{v}"
    dek = draw(st.binary(min_size=32, max_size=32))
    nonce = draw(st.binary(min_size=12, max_size=12))
    env = seal(a, draw(payload if payload is not None else payloads()), dek, key_id, nonce)
    return SealedRecord(EntityRecord(a, draw(attribute_maps()), env), key_id, dek)


@st.composite
def entity_records(draw: st.DrawFn) -> EntityRecord:
    """Entity records of any shape a store holds (envelopes of any version,
    random bytes): for round trips through stores, not for verification."""
    address = draw(addresses(entity_types=_STORE_TYPES, dialogue_ids=_STORE_IDS, part_ids=_STORE_IDS))
    attrs = draw(attribute_maps())
    envelope = None
    if address.has_envelope and draw(st.booleans()):
        version = draw(st.sampled_from([1, 1, 2]))
        envelope = Envelope(
            ciphertext=draw(st.binary(min_size=16, max_size=64)),
            nonce=draw(st.binary(min_size=12, max_size=12)),
            key_id=f"dek#{address.dialogue}#{draw(st.integers(1, 9))}",
            aad_hash=draw(st.binary(min_size=32, max_size=32)).hex(),
            version=version,
            explicit_version=version == 1 and draw(st.booleans()),
        )
    return EntityRecord(address, attrs, envelope)


# The store round trips' ids and types: text without controls (any code point
# otherwise), and the types whose subkeys differ in shape.
_STORE_IDS = (
    st.text(st.characters(exclude_categories=("Cc", "Cs")), min_size=1, max_size=10)
    .map(lambda s: unicodedata.normalize("NFC", s))
    .filter(lambda s: s != "")
)
_STORE_TYPES = tuple(EntityType(t) for t in ("meta", "expert", "perspective", "move", "ref", "verdict"))


@st.composite
def wrapped_deks(draw: st.DrawFn) -> WrappedDek:
    """Wrapped-DEK records of any state and algorithm, with random key material."""
    dialogue = draw(addresses(entity_types=_STORE_TYPES, dialogue_ids=_STORE_IDS)).dialogue
    version = draw(st.integers(1, 10**6))
    state = draw(st.sampled_from(list(KeyState)))
    destroyed = state is KeyState.DESTROYED
    return WrappedDek(
        key_id=f"dek#{dialogue}#{version}",
        dialogue=dialogue,
        version=version,
        owner=draw(_TEXT),
        wrap_alg=draw(st.sampled_from(["A256KW", "A256GCM"])),
        wrapped_key=None if destroyed else draw(st.binary(min_size=40, max_size=40)),
        wrap_nonce=draw(st.none() | st.binary(min_size=12, max_size=12)),
        state=state,
        created_at="2026-01-01T00:00:00Z",
        destroyed_at="2026-02-01T00:00:00Z" if destroyed else None,
    )


@st.composite
def audit_events(draw: st.DrawFn) -> AuditEvent:
    """Audit-log events with arbitrary fields (strings, integers, null)."""
    plain = st.one_of(st.none(), st.integers(-(2**63), 2**63), _TEXT)
    event_id = draw(_TEXT.filter(bool))
    fields: dict[str, Any] = draw(
        st.dictionaries(attribute_names().filter(lambda s: s != "event_id"), plain, max_size=5)
    )
    fields["event_id"] = event_id
    return AuditEvent(draw(_TEXT.filter(bool)), fields)


def records() -> st.SearchStrategy[Record]:
    """Any model record: an entity, a wrapped DEK or an audit event."""
    return st.one_of(entity_records(), wrapped_deks(), audit_events())


# --- chains ----------------------------------------------------------------------------------


def _ts(ms: int) -> str:
    from chainaudit.sample import ts

    return ts(ms)


def audit_chain_ids() -> st.SearchStrategy[str]:
    """Audit-log chain ids (CHAIN-1): any text not starting with ``dialogue:``."""
    return st.text(st.characters(exclude_categories=["Cs"]), min_size=1, max_size=16).filter(
        lambda s: not s.startswith("dialogue:")
    )


@st.composite
def audit_chains(
    draw: st.DrawFn,
    *,
    chain_id: str | None = None,
    min_size: int = 1,
    max_size: int = 8,
    boundary: bool | None = False,
) -> list[AuditEvent]:
    """A well-formed audit-log chain (CHAIN-2..6), written with
    :class:`chainaudit.ChainWriter`; ``boundary`` True (or None: maybe) puts a
    migration boundary in it, signed by the key of label ``chainaudit-testing``
    (:class:`chainaudit.testing.AuditKeys`)."""
    from chainaudit.chain.writer import ChainWriter
    from chainaudit.testing.dataset import AuditKeys

    cid = chain_id if chain_id is not None else draw(audit_chain_ids())
    w = ChainWriter(cid, hash_alg=draw(st.sampled_from(HASH_ALGS)))
    n = draw(st.integers(min_size, max_size))
    cut = draw(st.integers(0, n)) if boundary is not False else -1
    if boundary is None and not draw(st.booleans()):
        cut = -1
    ms = _START_MS + draw(st.integers(0, 10**9))
    out: list[AuditEvent] = []
    for i in range(n + (1 if cut >= 0 else 0)):
        ms += draw(st.integers(0, 120_000))
        event_id = uuid7.make(ms, 0, i)
        if i == cut:
            b = w.boundary(
                AuditKeys.from_label().signer,
                timestamp=_ts(ms),
                source_backend="dynamodb",
                target_backend="postgresql",
                hash_alg=draw(st.sampled_from(HASH_ALGS)),
                event_id=event_id,
            )
            assert isinstance(b, AuditEvent)
            out.append(b)
            continue
        fields = {
            "event_id": event_id,
            "timestamp": _ts(ms),
            "trace_id": draw(_TEXT),
            "span_id": draw(_TEXT),
            "operation": draw(st.sampled_from(sorted(OPERATIONS))),
            "key_id": draw(_TEXT),
            "principal": draw(_TEXT),
            "outcome": draw(st.sampled_from(sorted(OUTCOMES))),
        }
        out.append(w.append_event(fields))
    return out


@st.composite
def lifecycle_chains(
    draw: st.DrawFn, *, dialogue_id: str | None = None, min_size: int = 1, max_size: int = 8
) -> list[EntityRecord]:
    """A dialogue's well-formed lifecycle chain (CHAIN-5), as the stored ``event``
    entities, written with :class:`chainaudit.ChainWriter`."""
    from chainaudit.chain.writer import ChainWriter

    d = dialogue_id if dialogue_id is not None else draw(ids(max_size=6))
    w = ChainWriter.for_dialogue(escape_component(d), hash_alg=draw(st.sampled_from(HASH_ALGS)))
    ms = _START_MS + draw(st.integers(0, 10**9))
    out = []
    for i in range(draw(st.integers(min_size, max_size))):
        ms += draw(st.integers(1, 120_000))
        fields = {
            "event_id": uuid7.make(ms, 0, i),
            "timestamp": _ts(ms),
            "event_type": draw(st.sampled_from(["created", "updated", "closed"])),
            "entity_type": draw(_TARGETS),
            "entity_id": draw(ids(max_size=6)),
            "principal": draw(_TEXT),
        }
        out.append(w.append_lifecycle(fields))
    return out


# --- whole dialogues ------------------------------------------------------------------------------

_WRITABLE = tuple(t for t in EntityType if t is not EntityType.EVENT)


@st.composite
def dialogues(
    draw: st.DrawFn,
    *,
    min_dialogues: int = 1,
    max_dialogues: int = 2,
    max_entities: int = 5,
    rotations: bool = True,
    updates: bool = True,
    shredding: bool = True,
    boundaries: bool = True,
) -> Dataset:
    """A dataset written by the reference writer (:class:`chainaudit.sample.SampleWriter`,
    what ``chainaudit demo`` writes with): dialogues with hostile ids, entities
    of every type with drawn payloads and attributes, a DEK per dialogue,
    and, as drawn, key rotations, updates (the old version kept in
    ``superseded``), a crypto-shredding with an erasure receipt signed by the
    erasure authority, and a migration boundary; the crypto audit log; every
    record version committed; the UMK, both signers pinned, and a checkpoint
    of every chain. It verifies clean with all of it (exit 0)."""
    from chainaudit.sample import SampleWriter

    seed = draw(st.text("0123456789abcdef", min_size=1, max_size=6))
    w = SampleWriter(f"chainaudit-testing/{seed}")
    names = draw(
        st.lists(ids(max_size=6), min_size=min_dialogues, max_size=max_dialogues, unique=True)
    )
    for name in names:
        owner = draw(ids(max_size=6))
        key = w.new_key(name, owner)
        written: list[Address] = []
        for _ in range(draw(st.integers(1, max_entities))):
            if rotations and draw(st.integers(0, 4)) == 0:
                key = w.new_key(name, owner)
            if updates and written and draw(st.integers(0, 3)) == 0:
                target = draw(st.sampled_from(written))
                if target.has_envelope:
                    w.update(key, target, draw(payloads()), draw(attribute_maps(2)))
                    continue
            et = draw(st.sampled_from(_WRITABLE))
            parts = tuple(draw(_part(k, ids(max_size=5))) for k in SUBKEY_PARTS[et])
            try:
                address = Address.of(name, et, *parts)
            except AddressError:
                continue
            if address in written:
                continue
            w.entity(key, name, et, parts, draw(payloads()), draw(attribute_maps(2)))
            written.append(address)
        if shredding and draw(st.integers(0, 2)) == 0:
            w.shred(key, signed=True)
        elif boundaries and draw(st.integers(0, 2)) == 0:
            w.boundary(name, "dynamodb", "postgresql")
    return Dataset.from_sample(w.finish())


@st.composite
def mutations(
    draw: st.DrawFn,
    datasets: st.SearchStrategy[Dataset] | None = None,
    *,
    names: Sequence[str] | None = None,
) -> tuple[Dataset, Mutation]:
    """A dataset (default :func:`dialogues`) and one tampering of it by a mutator of
    :data:`chainaudit.testing.MUTATORS` (``names`` to restrict them) that finds a
    target; a dataset none of them can attack is rejected (drawn again)."""
    data = draw(datasets if datasets is not None else dialogues())
    pick = draw(st.integers(0, 1 << 16))
    for name in draw(st.permutations(sorted(names or MUTATORS))):
        try:
            return data, MUTATORS[name](data.records, pick=pick, superseded=data.superseded)
        except NoTarget:
            continue
    reject()  # nothing in this dataset to attack with these mutators: draw another


__all__ = [
    "HOSTILE_CHARACTERS",
    "SealedRecord",
    "addresses",
    "attribute_maps",
    "attribute_names",
    "audit_chain_ids",
    "audit_chains",
    "audit_events",
    "dialogues",
    "entity_records",
    "hostile_ids",
    "ids",
    "json_values",
    "lifecycle_chains",
    "long_ids",
    "mutations",
    "non_nfc_ids",
    "payloads",
    "records",
    "sealed_records",
    "typed_values",
    "wrapped_deks",
]
