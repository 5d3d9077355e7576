"""Resolving key ids to DEKs, unwrapping each key once (KEY-5).

:class:`KeyRing` implements :class:`chainaudit.keys.resolver.DekResolver`. It is
built from the UMK(s) and the wrapped-DEK records, which may stream in with
:meth:`KeyRing.add` while entity records are verified. Each KEK is derived
once per owner and each DEK unwrapped once per key id, so verifying a
million records costs one unwrap per key, not per record. Memory is bounded
by the number of keys, not of records.

>>> from chainaudit.keys.umk import Umk
>>> from chainaudit.keys.hierarchy import derive_kek, wrap_dek
>>> umk = Umk.from_hex("00" * 32)
>>> rec = wrap_dek(derive_kek(umk, "alice"), bytes(32), "dek#d#1", "alice", "d", 1,
...                bytes(12), "2026-01-01T00:00:00Z")
>>> ring = KeyRing(umk, [rec])
>>> ring.resolve("dek#d#1")
DekLookup(status='found', detail='')
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from chainaudit.keys.hierarchy import check_dek_record, derive_kek, parse_key_id, unwrap_dek
from chainaudit.keys.resolver import DekLookup, DekStatus
from chainaudit.keys.umk import Kek, Umk
from chainaudit.primitives import crypto
from chainaudit.records.model import KeyState, WrappedDek

#: The UMK source of a key ring: one UMK for every owner, or one per owner.
UmkSource = Umk | Mapping[str, Umk] | None


@dataclass
class KeyRingStats:
    """How much work the ring did; lets tests and reports show the caching."""

    kek_derivations: int = 0
    unwraps: int = 0
    unwrap_failures: int = 0


def _material(record: WrappedDek) -> tuple[object, ...]:
    """The fields that decide what a record unwraps to (origin/state aside)."""
    return (
        record.key_id,
        record.dialogue,
        record.version,
        record.owner,
        record.wrap_alg,
        record.wrapped_key,
        record.wrap_nonce,
        record.state is KeyState.DESTROYED,
    )


class KeyRing:
    """A :class:`~chainaudit.keys.resolver.DekResolver` backed by UMKs and wrapped-DEK records.

    Statuses (KEY-5): FOUND (active or retired key, unwrapped), SHREDDED
    (state destroyed, KEY-6; known without any UMK), MISSING (no record for
    the key id, or no UMK for its owner), UNWRAP_FAILED (the record is
    malformed, conflicts with another record for the same key id, or does
    not authenticate under the owner's KEK).
    """

    def __init__(self, umks: UmkSource, records: Iterable[WrappedDek] = ()) -> None:
        self._umks = umks
        self._records: dict[str, WrappedDek] = {}
        self._conflicts: set[str] = set()
        self._by_dialogue: dict[str, set[int]] = {}
        self._keks: dict[str, Kek] = {}
        self._cache: dict[str, DekLookup] = {}
        self.stats = KeyRingStats()
        for record in records:
            self.add(record)

    def __repr__(self) -> str:
        return f"KeyRing({len(self._records)} wrapped DEKs, {len(self._cache)} resolved)"

    def add(self, record: WrappedDek) -> None:
        """Add one wrapped-DEK record; it is indexed by where it is stored
        (``dek#{dialogue}#{version}``), which its ``key_id`` must match.

        A second record for the same key id that differs in key material makes
        that key id UNWRAP_FAILED: the ring will not guess which one is true.
        """
        key_id = f"dek#{record.dialogue}#{record.version}"
        self._by_dialogue.setdefault(record.dialogue, set()).add(record.version)
        known = self._records.get(key_id)
        if known is None:
            self._records[key_id] = record
        elif _material(known) != _material(record):
            self._conflicts.add(key_id)
        self._cache.pop(key_id, None)

    def resolve(self, key_id: str) -> DekLookup:
        """The DEK for ``key_id`` or why there is none; each key unwraps once."""
        cached = self._cache.get(key_id)
        if cached is not None:
            return cached
        lookup = self._resolve_uncached(key_id)
        if lookup.status is not DekStatus.MISSING:  # a later add() may supply it
            self._cache[key_id] = lookup
        return lookup

    def versions(self, dialogue: str) -> Sequence[str]:
        """Known key ids of a dialogue (escaped id), oldest version first."""
        return [f"dek#{dialogue}#{v}" for v in sorted(self._by_dialogue.get(dialogue, ()))]

    def forget(self, dialogue: str) -> None:
        """Drop every key of ``dialogue`` (escaped id): records, conflicts, unwrapped
        DEKs. For a reader that is done with the dialogue, so that the ring holds
        one dialogue's keys at a time, not every key of the source."""
        for version in self._by_dialogue.pop(dialogue, ()):
            key_id = f"dek#{dialogue}#{version}"
            self._records.pop(key_id, None)
            self._cache.pop(key_id, None)
            self._conflicts.discard(key_id)

    def records(self) -> list[WrappedDek]:
        """The records held, one per key id (the first seen on conflict)."""
        return list(self._records.values())

    # -- internals ----------------------------------------------------------

    def _resolve_uncached(self, key_id: str) -> DekLookup:
        try:
            parse_key_id(key_id)
        except ValueError as exc:
            return DekLookup(DekStatus.MISSING, detail=str(exc))
        record = self._records.get(key_id)
        if record is None:
            return DekLookup(DekStatus.MISSING, detail=f"no wrapped-DEK record for {key_id}")
        if key_id in self._conflicts:
            return DekLookup(
                DekStatus.UNWRAP_FAILED,
                detail=f"conflicting wrapped-DEK records for {key_id}",
            )
        if record.state is KeyState.DESTROYED:
            return DekLookup(
                DekStatus.SHREDDED,
                detail=f"{key_id} destroyed at {record.destroyed_at or 'an unrecorded time'}",
            )
        findings = check_dek_record(record)
        if findings:
            return DekLookup(
                DekStatus.UNWRAP_FAILED,
                detail=f"wrapped-DEK record {key_id} is invalid: {findings[0].message}",
            )
        kek = self._kek(record.owner)
        if kek is None:
            return DekLookup(DekStatus.MISSING, detail=f"no UMK for owner {record.owner!r}")
        self.stats.unwraps += 1
        try:
            dek = unwrap_dek(kek, record)
        except (crypto.AuthenticationError, ValueError):
            self.stats.unwrap_failures += 1
            return DekLookup(
                DekStatus.UNWRAP_FAILED,
                detail=f"{key_id} does not unwrap under the KEK of owner {record.owner!r}",
            )
        return DekLookup(DekStatus.FOUND, dek=dek)

    def _kek(self, owner: str) -> Kek | None:
        kek = self._keks.get(owner)
        if kek is not None:
            return kek
        umk = self._umks if isinstance(self._umks, Umk) else None
        if isinstance(self._umks, Mapping):
            umk = self._umks.get(owner)
        if umk is None:
            return None
        self.stats.kek_derivations += 1
        kek = derive_kek(umk, owner)
        self._keks[owner] = kek
        return kek
