"""Key resolution from data keys the caller already holds (docs/api.md).

:class:`~chainaudit.keys.keyring.KeyRing` resolves key ids through a UMK and the
wrapped-DEK records (KEY-5). A writer that keeps its DEKs elsewhere (its own
KMS, a test) hands them over directly: :class:`DekMap` maps key ids
(``dek#{D}#{V}``, KEY-2) to 32-byte DEKs and implements the same
:class:`~chainaudit.keys.resolver.DekResolver` protocol, so every envelope check
runs with it exactly as with a key ring.

Statuses: a key id whose wrapped-DEK record was seen destroyed (:meth:`add`,
KEY-6) is SHREDDED, whatever the map holds (KEY-5 step 3 comes before any
key material); a key id in the map is FOUND; anything else is MISSING.
Key material never appears in ``repr`` or messages. Pure: no I/O.

>>> keys = DekMap({"dek#d-1#1": bytes(32)})
>>> keys.resolve("dek#d-1#1").status.value, keys.resolve("dek#d-1#2").status.value
('found', 'missing')
>>> keys
DekMap(1 key ids)
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from chainaudit.keys.hierarchy import DEK_BYTES, parse_key_id
from chainaudit.keys.resolver import DekLookup, DekStatus
from chainaudit.records.model import KeyState, WrappedDek


class DekMap:
    """A :class:`~chainaudit.keys.resolver.DekResolver` over raw DEKs by key id.

    Raises ``ValueError`` for a key id that is not one (KEY-2) or a DEK that
    is not 32 bytes (the message names the key id, never the key).
    """

    def __init__(self, deks: Mapping[str, bytes] | None = None) -> None:
        self._deks: dict[str, bytes] = {}
        self._versions: dict[str, set[int]] = {}
        self._destroyed: dict[str, str | None] = {}
        self._records: dict[str, WrappedDek] = {}
        for key_id, dek in (deks or {}).items():
            self.put(key_id, dek)

    def __repr__(self) -> str:
        return f"DekMap({len(self._deks)} key ids)"

    def __len__(self) -> int:
        return len(self._deks)

    def __contains__(self, key_id: object) -> bool:
        return key_id in self._deks

    def put(self, key_id: str, dek: bytes) -> None:
        """Add (or replace) the DEK of ``key_id``."""
        dialogue, version = parse_key_id(key_id)
        if not isinstance(dek, bytes | bytearray) or len(dek) != DEK_BYTES:
            raise ValueError(f"the DEK of {key_id} must be {DEK_BYTES} bytes")
        self._deks[key_id] = bytes(dek)
        self._versions.setdefault(dialogue, set()).add(version)

    def add(self, record: WrappedDek) -> None:
        """Note a wrapped-DEK record read from the data (the audit feeds every
        one): its key id is then known, and SHREDDED when it is destroyed."""
        key_id = f"dek#{record.dialogue}#{record.version}"
        self._versions.setdefault(record.dialogue, set()).add(record.version)
        self._records.setdefault(key_id, record)
        if record.state is KeyState.DESTROYED:
            self._destroyed[key_id] = record.destroyed_at

    def forget(self, dialogue: str) -> None:
        """Drop what :meth:`add` noted for ``dialogue`` (escaped id); the DEKs
        given stay, so the data can be read again."""
        for key_id in [k for k in self._records if self._records[k].dialogue == dialogue]:
            self._records.pop(key_id, None)
            self._destroyed.pop(key_id, None)

    def records(self) -> list[WrappedDek]:
        """The wrapped-DEK records :meth:`add` noted, one per key id."""
        return list(self._records.values())

    def resolve(self, key_id: str) -> DekLookup:
        """SHREDDED, FOUND or MISSING (see the module docstring)."""
        if key_id in self._destroyed:
            when = self._destroyed[key_id] or "an unrecorded time"
            return DekLookup(DekStatus.SHREDDED, detail=f"{key_id} destroyed at {when}")
        dek = self._deks.get(key_id)
        if dek is None:
            return DekLookup(DekStatus.MISSING, detail=f"no DEK given for {key_id}")
        return DekLookup(DekStatus.FOUND, dek=dek)

    def versions(self, dialogue: str) -> Sequence[str]:
        """Known key ids of a dialogue (escaped id), oldest version first."""
        return [f"dek#{dialogue}#{v}" for v in sorted(self._versions.get(dialogue, ()))]


__all__ = ["DekMap"]
