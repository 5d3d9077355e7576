"""Tamper mutators: one named function per attack class (docs/threat-model.md).

Each mutator takes a dataset's records (as a writer wrote them, clean) and
returns a :class:`Mutation`: the tampered records, and the finding the
verifier must report (``code``) at which location (``where``: an address,
a key id, or ``chain:{id}@{seq}``). It plays an attacker who can write the
store (a ``writer`` in the threat model): everything it recomputes is
unkeyed (event hashes, ``aad_hash``), nothing it produces is signed.

``pick`` chooses the target among the candidates (modulo their number), so
a property test can draw it; a dataset with no candidate raises
:class:`NoTarget`. ``superseded`` (older committed versions of records) is
used by :func:`roll_back_record` only. ``needs`` says what evidence the
detection rests on (docs/threat-model.md "Evidence"): ``keys`` (a UMK),
``trusted_keys`` (the pinned signers), ``checkpoints`` (signed checkpoints
of the clean dataset's chains). A dataset verified with all of it must
report ``(code, where)``; other findings may come with it (a flipped
ciphertext byte also breaks the record's commitment).

>>> from chainaudit.testing import sample_dataset
>>> data = sample_dataset()
>>> m = flip_ciphertext_byte(data.records)
>>> m.code, m.where.startswith("dialogue:")
('AUTHENTICATION_FAILED', True)
>>> (m.code, m.where) in [(f.code.name, f.where) for f in data.verify(m.records)]
True
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from chainaudit.chain.events import (
    COMMIT_EVENT_TYPE,
    RECEIPT_EVENT_TYPE,
    chain_event_from_entity,
    is_boundary,
    seal,
)
from chainaudit.envelope.seal import aad_hash
from chainaudit.keys.hierarchy import destroy
from chainaudit.records.address import SUBKEY_PARTS, Address, AddressError, EntityType
from chainaudit.records.digest import record_key
from chainaudit.records.item import typed_from_plain
from chainaudit.records.model import (
    AuditEvent,
    EntityRecord,
    Envelope,
    KeyState,
    Record,
    WrappedDek,
)

TAMPERED = "2026-12-31T23:59:59.000Z"


class NoTarget(ValueError):
    """The dataset holds nothing this mutator can attack (e.g. no boundary)."""


@dataclass(frozen=True)
class Mutation:
    """A tampered dataset and the finding that must name the tampering."""

    name: str
    records: list[Record]
    code: str
    where: str
    needs: frozenset[str]
    description: str

    def __repr__(self) -> str:
        return f"Mutation({self.name}: {self.code} at {self.where})"


class Mutator(Protocol):
    """The signature every mutator has."""

    __name__: str

    def __call__(
        self,
        records: Sequence[Record],
        *,
        pick: int = 0,
        superseded: Sequence[EntityRecord] = (),
    ) -> Mutation: ...


# --- what the records hold ------------------------------------------------------------


@dataclass(frozen=True)
class _Event:
    index: int
    chain_id: str
    fields: dict[str, Any]


def _events(records: Sequence[Record]) -> dict[str, list[_Event]]:
    """Every well-formed chain event by chain, in chain order (seq, event id)."""
    out: dict[str, list[_Event]] = {}
    for i, r in enumerate(records):
        if isinstance(r, AuditEvent):
            ev: AuditEvent | None = r
        elif isinstance(r, EntityRecord) and r.address.entity_type is EntityType.EVENT:
            got = chain_event_from_entity(r)
            ev = got if isinstance(got, AuditEvent) else None
        else:
            ev = None
        if ev is not None and isinstance(ev.fields.get("seq"), int):
            out.setdefault(ev.chain_id, []).append(_Event(i, ev.chain_id, dict(ev.fields)))
    for chain in out.values():
        chain.sort(key=lambda e: (e.fields["seq"], str(e.fields.get("event_id"))))
    return out


def _where(event: _Event) -> str:
    return f"chain:{event.chain_id}@{event.fields['seq']}"


def _store(records: list[Record], event: _Event, fields: dict[str, Any]) -> None:
    """Write an event's new fields back where it is stored, as the writer stored it."""
    old = records[event.index]
    if isinstance(old, AuditEvent):
        records[event.index] = dataclasses.replace(old, fields=fields)
        return
    assert isinstance(old, EntityRecord)
    attrs = dict(old.attributes)
    for name, value in fields.items():
        if name not in ("entity_type", "entity_id", "timestamp"):
            attrs[name] = typed_from_plain(value) if value is not None else {"NULL": True}
    records[event.index] = dataclasses.replace(old, attributes=attrs)


def _reseal(records: list[Record], chain: list[_Event], start: int, first: dict[str, Any]) -> None:
    """Rehash ``chain`` from position ``start`` (whose new fields are ``first``), every
    link intact: keyless, so always in a writer's power."""
    fields = seal(first)
    _store(records, chain[start], fields)
    prev = fields["event_hash"]
    for ev in chain[start + 1 :]:
        f = dict(ev.fields)
        f["previous_hash"] = prev
        f = seal(f)
        _store(records, ev, f)
        prev = f["event_hash"]


def _destroyed(records: Sequence[Record]) -> set[str]:
    return {
        r.key_id for r in records if isinstance(r, WrappedDek) and r.state is KeyState.DESTROYED
    }


def _sealed(records: Sequence[Record], min_bytes: int = 16) -> list[int]:
    """Enveloped v1 records under a key that is not destroyed (a keyed run opens them)."""
    gone = _destroyed(records)
    return [
        i
        for i, r in enumerate(records)
        if isinstance(r, EntityRecord)
        and r.envelope is not None
        and r.envelope.version == 1
        and r.address.entity_type is not EntityType.EVENT
        and r.envelope.key_id not in gone
        and len(r.envelope.ciphertext) >= min_bytes
    ]


def _latest_commitments(records: Sequence[Record]) -> dict[str, dict[str, Any]]:
    """record key -> its latest commitment's fields (COMMIT-6)."""
    latest: dict[str, dict[str, Any]] = {}
    for chain_id, chain in _events(records).items():
        if not chain_id.startswith("dialogue:"):
            continue
        for ev in chain:
            if ev.fields.get("event_type") == COMMIT_EVENT_TYPE:
                latest[str(ev.fields.get("record_key"))] = ev.fields
    return latest


def _committed(records: Sequence[Record]) -> list[int]:
    """Records (entities other than events, wrapped DEKs) whose latest commitment puts them."""
    latest = _latest_commitments(records)
    out = []
    for i, r in enumerate(records):
        if isinstance(r, EntityRecord) and r.address.entity_type is EntityType.EVENT:
            continue
        if isinstance(r, AuditEvent):
            continue
        c = latest.get(record_key(r))
        if c is not None and c.get("record_op") == "put":
            out.append(i)
    return out


def _choose(candidates: Sequence[Any], pick: int, what: str) -> Any:
    if not candidates:
        raise NoTarget(f"no {what} in the dataset")
    return candidates[pick % len(candidates)]


def _fresh_address(like: Address, taken: set[str], entity_type: EntityType | None = None) -> Address:
    """An address of ``like``'s dialogue no record holds (same type unless given)."""
    et = entity_type or like.entity_type
    kinds = SUBKEY_PARTS[et]
    for n in range(1, 100):
        parts = []
        for k in kinds:
            if k == "nn":
                parts.append(f"{(n * 37) % 100:02d}")
            elif k == "ts":
                parts.append(TAMPERED)
            elif k == "type":
                parts.append("claim")
            else:
                parts.append(f"planted-{n}")
        try:
            a = Address(like.dialogue, et, tuple(parts))
        except AddressError:
            continue
        if str(a) not in taken:
            return a
    if et is not EntityType.CLAIM:  # e.g. a dialogue's one meta address: a claim will do
        return _fresh_address(like, taken, EntityType.CLAIM)
    raise NoTarget(f"no free address in dialogue {like.dialogue}")


def _mutation(
    name: str, records: list[Record], code: str, where: str, needs: set[str], description: str
) -> Mutation:
    return Mutation(name, records, code, where, frozenset(needs), description)


def _with_envelope(r: EntityRecord, **changes: Any) -> EntityRecord:
    assert r.envelope is not None
    return dataclasses.replace(r, envelope=dataclasses.replace(r.envelope, **changes))


# --- edited envelopes (threat model: edited-envelopes) --------------------------------


def flip_ciphertext_byte(
    records: Sequence[Record], *, pick: int = 0, superseded: Sequence[EntityRecord] = ()
) -> Mutation:
    """One bit of a stored ciphertext flipped: GCM refuses it (ENV-6)."""
    out = list(records)
    i = _choose(_sealed(out), pick, "sealed record")
    r = out[i]
    assert isinstance(r, EntityRecord) and r.envelope is not None
    ct = r.envelope.ciphertext
    at = pick % len(ct)
    out[i] = _with_envelope(r, ciphertext=ct[:at] + bytes([ct[at] ^ 0x01]) + ct[at + 1 :])
    return _mutation(
        "flip_ciphertext_byte", out, "AUTHENTICATION_FAILED", str(r.address), {"keys"},
        f"bit 0 of ciphertext byte {at} flipped",
    )  # fmt: skip


def flip_nonce_byte(
    records: Sequence[Record], *, pick: int = 0, superseded: Sequence[EntityRecord] = ()
) -> Mutation:
    """One bit of a stored nonce flipped: GCM refuses the ciphertext (ENV-5, ENV-6)."""
    out = list(records)
    i = _choose(_sealed(out), pick, "sealed record")
    r = out[i]
    assert isinstance(r, EntityRecord) and r.envelope is not None
    n = r.envelope.nonce
    out[i] = _with_envelope(r, nonce=bytes([n[0] ^ 0x80]) + n[1:])
    return _mutation(
        "flip_nonce_byte", out, "AUTHENTICATION_FAILED", str(r.address), {"keys"},
        "the first bit of the nonce flipped",
    )  # fmt: skip


def truncate_tag(
    records: Sequence[Record], *, pick: int = 0, superseded: Sequence[EntityRecord] = ()
) -> Mutation:
    """The GCM tag cut to 12 bytes: diagnosed, never accepted (ENV-6)."""
    out = list(records)
    i = _choose(_sealed(out, min_bytes=20), pick, "sealed record with a payload of 4+ bytes")
    r = out[i]
    assert isinstance(r, EntityRecord) and r.envelope is not None
    out[i] = _with_envelope(r, ciphertext=r.envelope.ciphertext[:-4])
    return _mutation(
        "truncate_tag", out, "TAG_TRUNCATED", str(r.address), {"keys"},
        "the last 4 bytes of the tag removed",
    )  # fmt: skip


def strip_envelope(
    records: Sequence[Record], *, pick: int = 0, superseded: Sequence[EntityRecord] = ()
) -> Mutation:
    """An envelope removed (content replaced by cleartext attributes) (ENV-2)."""
    out = list(records)
    i = _choose(
        [
            j
            for j, r in enumerate(out)
            if isinstance(r, EntityRecord) and r.envelope is not None and r.address.envelope_required
        ],
        pick,
        "record that must carry an envelope",
    )
    r = out[i]
    assert isinstance(r, EntityRecord)
    out[i] = dataclasses.replace(r, envelope=None, attributes={**r.attributes, "text": {"S": "x"}})
    return _mutation(
        "strip_envelope", out, "ENVELOPE_MISSING", str(r.address), set(),
        "the envelope removed and the content stored in clear",
    )  # fmt: skip


def reuse_nonce(
    records: Sequence[Record], *, pick: int = 0, superseded: Sequence[EntityRecord] = ()
) -> Mutation:
    """A later envelope given an earlier one's nonce under the same key (ENV-5)."""
    out = list(records)
    first: dict[str, int] = {}
    pairs = []
    for j, r in enumerate(out):
        if isinstance(r, EntityRecord) and r.envelope is not None and r.envelope.version == 1:
            k = r.envelope.key_id
            if k in first:
                pairs.append((first[k], j))
            else:
                first[k] = j
    a, b = _choose(pairs, pick, "pair of envelopes under one key")
    ra, rb = out[a], out[b]
    assert isinstance(ra, EntityRecord) and isinstance(rb, EntityRecord) and ra.envelope
    out[b] = _with_envelope(rb, nonce=ra.envelope.nonce)
    return _mutation(
        "reuse_nonce", out, "NONCE_REUSE", str(rb.address), set(),
        f"the nonce of {ra.address} copied into {rb.address}",
    )  # fmt: skip


# --- moved records (threat model: moved-records) --------------------------------------


def move_record(
    records: Sequence[Record], *, pick: int = 0, superseded: Sequence[EntityRecord] = ()
) -> Mutation:
    """A sealed record cut and pasted to another address of its dialogue, its
    ``aad_hash`` recomputed for the new address (ENV-4): only a keyed run sees it."""
    out = list(records)
    i = _choose(_sealed(out), pick, "sealed record")
    r = out[i]
    assert isinstance(r, EntityRecord) and r.envelope is not None
    taken = {str(x.address) for x in out if isinstance(x, EntityRecord)}
    new = _fresh_address(r.address, taken)
    out[i] = EntityRecord(new, r.attributes, dataclasses.replace(r.envelope, aad_hash=aad_hash(new)))
    return _mutation(
        "move_record", out, "AUTHENTICATION_FAILED", str(new), {"keys"},
        f"{r.address} moved to {new} with its aad_hash recomputed",
    )  # fmt: skip


def copy_record(
    records: Sequence[Record], *, pick: int = 0, superseded: Sequence[EntityRecord] = ()
) -> Mutation:
    """A sealed record copied, as stored (its ``aad_hash`` too), to another address:
    a keyed run names where it came from (ENV-4 ``ADDRESS_MOVED``)."""
    out = list(records)
    i = _choose(_sealed(out), pick, "sealed record")
    r = out[i]
    assert isinstance(r, EntityRecord) and r.envelope is not None
    taken = {str(x.address) for x in out if isinstance(x, EntityRecord)}
    new = _fresh_address(r.address, taken)
    out.append(EntityRecord(new, r.attributes, r.envelope))
    return _mutation(
        "copy_record", out, "ADDRESS_MOVED", str(new), {"keys"},
        f"{r.address} copied to {new}",
    )  # fmt: skip


# --- keys (threat model: keys) ---------------------------------------------------------


def tamper_wrapped_key(
    records: Sequence[Record], *, pick: int = 0, superseded: Sequence[EntityRecord] = ()
) -> Mutation:
    """One bit of a live wrapped DEK flipped: the key no longer unwraps (KEY-4, KEY-5)."""
    out = list(records)
    live = [
        j
        for j, r in enumerate(out)
        if isinstance(r, WrappedDek) and r.state is not KeyState.DESTROYED and r.wrapped_key
    ]
    # With no other key left to unwrap, the verifier blames the UMK (UMK_MISMATCH), not the key.
    i = _choose(live if len(live) > 1 else [], pick, "live wrapped-DEK record next to another")
    r = out[i]
    assert isinstance(r, WrappedDek) and r.wrapped_key is not None
    out[i] = dataclasses.replace(r, wrapped_key=bytes([r.wrapped_key[0] ^ 1]) + r.wrapped_key[1:])
    return _mutation(
        "tamper_wrapped_key", out, "KEY_UNWRAP_FAILED", r.key_id, {"keys"},
        f"bit 0 of the wrapped key of {r.key_id} flipped",
    )  # fmt: skip


def roll_back_record(
    records: Sequence[Record], *, pick: int = 0, superseded: Sequence[EntityRecord] = ()
) -> Mutation:
    """A record replaced by an older version of itself, validly sealed and once
    committed (COMMIT-6 ``COMMIT_ROLLBACK``). Needs ``superseded`` versions."""
    out = list(records)
    at = {record_key(r): j for j, r in enumerate(out) if isinstance(r, EntityRecord)}
    olds = [old for old in superseded if str(old.address) in at]
    old = _choose(olds, pick, "superseded version of a stored record")
    out[at[str(old.address)]] = old
    return _mutation(
        "roll_back_record", out, "COMMIT_ROLLBACK", str(old.address), set(),
        f"{old.address} rolled back to an older committed version",
    )  # fmt: skip


def edit_cleartext_attribute(
    records: Sequence[Record], *, pick: int = 0, superseded: Sequence[EntityRecord] = ()
) -> Mutation:
    """A cleartext attribute of a committed record edited (COMMIT-6 ``COMMIT_MISMATCH``)."""
    out = list(records)
    i = _choose(
        [j for j in _committed(out) if isinstance(out[j], EntityRecord)],
        pick,
        "committed entity record",
    )
    r = out[i]
    assert isinstance(r, EntityRecord)
    name = sorted(r.attributes)[0] if r.attributes else "status"
    value = {"S": "tampered"} if r.attributes.get(name) != {"S": "tampered"} else {"S": "edited"}
    out[i] = dataclasses.replace(r, attributes={**r.attributes, name: value})
    return _mutation(
        "edit_cleartext_attribute", out, "COMMIT_MISMATCH", str(r.address), set(),
        f"attribute {name!r} of {r.address} edited",
    )  # fmt: skip


def plant_record(
    records: Sequence[Record], *, pick: int = 0, superseded: Sequence[EntityRecord] = ()
) -> Mutation:
    """A record no commitment names planted in a committed dialogue (``COMMIT_MISSING``)."""
    out = list(records)
    committed = [out[j] for j in _committed(out) if isinstance(out[j], EntityRecord)]
    like = _choose(committed, pick, "committed dialogue")
    assert isinstance(like, EntityRecord)
    taken = {str(x.address) for x in out if isinstance(x, EntityRecord)}
    new = _fresh_address(like.address, taken, EntityType.REF)
    out.append(EntityRecord(new, {"ref_type": {"S": "supports"}}, None))
    return _mutation(
        "plant_record", out, "COMMIT_MISSING", str(new), set(),
        f"a ref planted at {new}",
    )  # fmt: skip


def delete_record(
    records: Sequence[Record], *, pick: int = 0, superseded: Sequence[EntityRecord] = ()
) -> Mutation:
    """A committed record deleted without a delete commitment (``COMMIT_RECORD_MISSING``)."""
    out = list(records)
    i = _choose(_committed(out), pick, "committed record")
    key = record_key(out[i])
    del out[i]
    return _mutation(
        "delete_record", out, "COMMIT_RECORD_MISSING", key, set(), f"{key} deleted",
    )  # fmt: skip


# --- forged erasure (threat model: forged-erasure) -------------------------------------


def forge_erasure(
    records: Sequence[Record], *, pick: int = 0, superseded: Sequence[EntityRecord] = ()
) -> Mutation:
    """A live key marked destroyed without a signed receipt: the data made unreadable
    and passed off as a lawful erasure (COMMIT-8 ``ERASURE_UNSIGNED``)."""
    out = list(records)
    i = _choose(
        [j for j, r in enumerate(out) if isinstance(r, WrappedDek) and r.state is not KeyState.DESTROYED],
        pick,
        "live wrapped-DEK record",
    )
    r = out[i]
    assert isinstance(r, WrappedDek)
    out[i] = destroy(r, TAMPERED)
    return _mutation(
        "forge_erasure", out, "ERASURE_UNSIGNED", r.key_id, set(),
        f"{r.key_id} marked destroyed without a receipt",
    )  # fmt: skip


def _valid_receipts(records: Sequence[Record]) -> list[_Event]:
    gone = _destroyed(records)
    return [
        ev
        for chain in _events(records).values()
        for ev in chain
        if ev.fields.get("event_type") == RECEIPT_EVENT_TYPE
        and ev.fields.get("erased_key_id") in gone
    ]


def forge_erasure_receipt(
    records: Sequence[Record], *, pick: int = 0, superseded: Sequence[EntityRecord] = ()
) -> Mutation:
    """An erasure receipt's destruction time edited and its chain rehashed: the
    signature no longer covers it (COMMIT-8 ``ERASURE_RECEIPT_INVALID``)."""
    out = list(records)
    ev = _choose(_valid_receipts(out), pick, "erasure receipt")
    chain = _events(out)[ev.chain_id]
    pos = chain.index(ev)
    fields = {**ev.fields, "destroyed_at": _later(str(ev.fields["destroyed_at"]))}
    _reseal(out, chain, pos, fields)
    return _mutation(
        "forge_erasure_receipt", out, "ERASURE_RECEIPT_INVALID", _where(ev), {"trusted_keys"},
        f"the destruction time of the receipt at {_where(ev)} edited",
    )  # fmt: skip


def plant_after_erasure(
    records: Sequence[Record], *, pick: int = 0, superseded: Sequence[EntityRecord] = ()
) -> Mutation:
    """A record under an erased key planted after the erasure, its ``aad_hash``
    right (COMMIT-8 ``ERASURE_RECORD_AFTER``): never a shredded notice."""
    out = list(records)
    ev = _choose(_valid_receipts(out), pick, "erasure receipt")
    key_id = str(ev.fields["erased_key_id"])
    dialogue = ev.chain_id[len("dialogue:") : -len("/events")]
    taken = {str(x.address) for x in out if isinstance(x, EntityRecord)}
    new = _fresh_address(Address(dialogue, EntityType.CLAIM, ("01", "01")), taken)
    junk = hashlib.sha256(f"planted/{new}".encode()).digest()
    out.append(EntityRecord(new, {}, Envelope(junk + junk[:8], junk[:12], key_id, aad_hash(new))))
    return _mutation(
        "plant_after_erasure", out, "ERASURE_RECORD_AFTER", str(new), {"trusted_keys"},
        f"a record under erased key {key_id} planted at {new}",
    )  # fmt: skip


# --- chain tampering (threat model: chain-tampering, anchoring) -------------------------


def _ordinary(chain: list[_Event]) -> list[_Event]:
    return [e for e in chain if not is_boundary(e.fields)]


def _all_events(records: Sequence[Record]) -> list[tuple[list[_Event], int]]:
    return [(c, i) for c in _events(records).values() for i in range(len(c))]


def edit_chain_event(
    records: Sequence[Record], *, pick: int = 0, superseded: Sequence[EntityRecord] = ()
) -> Mutation:
    """A field of a chain event edited, its hash not recomputed (``EVENT_HASH_MISMATCH``)."""
    out = list(records)
    chain, pos = _choose(
        [(c, i) for c, i in _all_events(out) if not is_boundary(c[i].fields)],
        pick,
        "chain event",
    )
    ev = chain[pos]
    _store(out, ev, {**ev.fields, "principal": "mallory"})
    return _mutation(
        "edit_chain_event", out, "EVENT_HASH_MISMATCH", _where(ev), set(),
        f"the principal of {_where(ev)} edited",
    )  # fmt: skip


def drop_chain_event(
    records: Sequence[Record], *, pick: int = 0, superseded: Sequence[EntityRecord] = ()
) -> Mutation:
    """An event deleted from the middle of a chain (``CHAIN_GAP`` at its seq)."""
    out = list(records)
    chain, pos = _choose(
        [
            (c, i)
            for c, i in _all_events(out)
            if 0 < i < len(c) - 1 and not is_boundary(c[i].fields) and not is_boundary(c[i + 1].fields)
        ],
        pick,
        "event inside a chain",
    )
    ev = chain[pos]
    del out[ev.index]
    return _mutation(
        "drop_chain_event", out, "CHAIN_GAP", _where(ev), set(), f"{_where(ev)} deleted",
    )  # fmt: skip


def duplicate_chain_event(
    records: Sequence[Record], *, pick: int = 0, superseded: Sequence[EntityRecord] = ()
) -> Mutation:
    """A second, rehashed event at a taken position, linked to the same predecessor:
    two events claim one place (``CHAIN_FORK``)."""
    out = list(records)
    chain, pos = _choose(
        [(c, i) for c, i in _all_events(out) if i > 0 and not is_boundary(c[i].fields)],
        pick,
        "chain event after genesis",
    )
    ev = chain[pos]
    twin = seal({**ev.fields, "principal": "mallory", "timestamp": _later(str(ev.fields["timestamp"]))})
    original = out[ev.index]
    if isinstance(original, AuditEvent):
        twin["event_id"] = _next_id(str(twin["event_id"]))
        out.append(AuditEvent(original.chain_id, seal(twin)))
    else:
        from chainaudit.chain.events import lifecycle_record

        assert isinstance(original, EntityRecord)
        out.append(lifecycle_record(original.address.dialogue, twin))
    return _mutation(
        "duplicate_chain_event", out, "CHAIN_FORK", _where(ev), set(),
        f"a second event at {_where(ev)}",
    )  # fmt: skip


def reorder_chain_events(
    records: Sequence[Record], *, pick: int = 0, superseded: Sequence[EntityRecord] = ()
) -> Mutation:
    """Two neighbouring events exchange places (their ``seq``), each rehashed:
    the chain no longer links (``CHAIN_LINK_BROKEN`` at the first of them)."""
    out = list(records)
    chain, pos = _choose(
        [
            (c, i)
            for c, i in _all_events(out)
            if 0 < i < len(c) - 1
            and not is_boundary(c[i].fields)
            and not is_boundary(c[i + 1].fields)
        ],
        pick,
        "pair of neighbouring events",
    )
    a, b = chain[pos], chain[pos + 1]
    fa = seal({**a.fields, "seq": b.fields["seq"]})
    fb = seal({**b.fields, "seq": a.fields["seq"]})
    if not a.chain_id.startswith("dialogue:"):  # stored (event id) order decides: swap ids too
        fa, fb = (
            seal({**fa, "event_id": b.fields["event_id"], "timestamp": b.fields["timestamp"]}),
            seal({**fb, "event_id": a.fields["event_id"], "timestamp": a.fields["timestamp"]}),
        )
    _store(out, a, fa)
    _store(out, b, fb)
    return _mutation(
        "reorder_chain_events", out, "CHAIN_LINK_BROKEN", _where(a), set(),
        f"{_where(a)} and the next event exchanged",
    )  # fmt: skip


def truncate_chain(
    records: Sequence[Record], *, pick: int = 0, superseded: Sequence[EntityRecord] = ()
) -> Mutation:
    """A chain's last event deleted: only a checkpoint knows it existed (``CHAIN_TRUNCATED``)."""
    out = list(records)
    chain = _choose(
        [c for c in _events(out).values() if len(c) > 1 and not is_boundary(c[-1].fields)],
        pick,
        "chain of two or more events",
    )
    last = chain[-1]
    del out[last.index]
    where = f"chain:{last.chain_id}@{last.fields['seq']}"
    return _mutation(
        "truncate_chain", out, "CHAIN_TRUNCATED", where, {"checkpoints"},
        f"the last event of {last.chain_id} deleted",
    )  # fmt: skip


def rewrite_chain_from_genesis(
    records: Sequence[Record], *, pick: int = 0, superseded: Sequence[EntityRecord] = ()
) -> Mutation:
    """A chain rewritten from its first event on, every hash and link recomputed: a
    valid chain, which only a checkpoint tells from the original (``CHAIN_TIP_MISMATCH``)."""
    out = list(records)
    chain = _choose(
        [
            c
            for c in _events(out).values()
            if not any(is_boundary(e.fields) or e.fields.get("event_type") == RECEIPT_EVENT_TYPE for e in c)
        ],
        pick,
        "chain without boundary or receipt",
    )
    _reseal(out, chain, 0, {**chain[0].fields, "principal": "mallory"})
    last = chain[-1]
    where = f"chain:{last.chain_id}@{last.fields['seq']}"
    return _mutation(
        "rewrite_chain_from_genesis", out, "CHAIN_TIP_MISMATCH", where, {"checkpoints"},
        f"{last.chain_id} rewritten from genesis",
    )  # fmt: skip


def forge_boundary(
    records: Sequence[Record], *, pick: int = 0, superseded: Sequence[EntityRecord] = ()
) -> Mutation:
    """A migration boundary's signed statement edited and the chain rehashed
    (CHAIN-12 ``BOUNDARY_SIGNATURE_INVALID``)."""
    out = list(records)
    chain, pos = _choose(
        [(c, i) for c, i in _all_events(out) if is_boundary(c[i].fields)], pick, "migration boundary"
    )
    ev = chain[pos]
    _reseal(out, chain, pos, {**ev.fields, "target_backend": "mallory-db"})
    return _mutation(
        "forge_boundary", out, "BOUNDARY_SIGNATURE_INVALID", _where(ev), {"trusted_keys"},
        f"the boundary at {_where(ev)} edited",
    )  # fmt: skip


def _later(timestamp: str) -> str:
    """The same instant plus one millisecond (CHAIN-2 form with 3 fraction digits)."""
    from chainaudit.chain.events import timestamp_ms
    from chainaudit.sample import ts

    ms = timestamp_ms(timestamp)
    return ts((ms or 0) + 1)


def _next_id(event_id: str) -> str:
    from chainaudit.chain import uuid7

    value = uuid7.parse(event_id)
    if value is None:
        return event_id + "-2"
    ms, ra, rb = value >> 80, (value >> 64) & 0xFFF, value & ((1 << 62) - 1)
    return uuid7.make(ms + 1, ra, rb)


#: Every mutator, by attack class, in threat-model order.
MUTATORS: dict[str, Mutator] = {
    m.__name__: m
    for m in (
        flip_ciphertext_byte,
        flip_nonce_byte,
        truncate_tag,
        strip_envelope,
        reuse_nonce,
        move_record,
        copy_record,
        tamper_wrapped_key,
        roll_back_record,
        edit_cleartext_attribute,
        plant_record,
        delete_record,
        forge_erasure,
        forge_erasure_receipt,
        plant_after_erasure,
        edit_chain_event,
        drop_chain_event,
        duplicate_chain_event,
        reorder_chain_events,
        truncate_chain,
        rewrite_chain_from_genesis,
        forge_boundary,
    )
}

__all__ = [
    "MUTATORS",
    "Mutation",
    "Mutator",
    "NoTarget",
    "copy_record",
    "delete_record",
    "drop_chain_event",
    "duplicate_chain_event",
    "edit_chain_event",
    "edit_cleartext_attribute",
    "flip_ciphertext_byte",
    "flip_nonce_byte",
    "forge_boundary",
    "forge_erasure",
    "forge_erasure_receipt",
    "move_record",
    "plant_after_erasure",
    "plant_record",
    "reorder_chain_events",
    "reuse_nonce",
    "rewrite_chain_from_genesis",
    "roll_back_record",
    "strip_envelope",
    "tamper_wrapped_key",
    "truncate_chain",
]
