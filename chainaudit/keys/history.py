"""The crypto audit log checked against the data it describes (CHAIN-9).

Every key a record uses must have been created through the audited path (a
successful ``wrap_dek`` or ``rotate_dek`` event naming it), and every
rotation and destruction recorded in wrapped-DEK states must itself be in
the log. One pass over records in any order; memory holds sets of key ids
only, and keys are far fewer than records. Pure: no I/O, no clock.
"""

from __future__ import annotations

from collections.abc import Iterable, MutableMapping
from dataclasses import dataclass, field

from chainaudit.chain.events import is_lifecycle
from chainaudit.findings import Finding, Result, codes
from chainaudit.findings.result import FindingList
from chainaudit.records.model import AuditEvent, EntityRecord, KeyState, Record, WrappedDek
from chainaudit.spillmap import FROZENSET, JSON, SpillMap, sorted_by_utf8

#: CHAIN-9: operations that create a key in the log.
CREATING_OPERATIONS = frozenset({"wrap_dek", "rotate_dek"})
_NONE: frozenset[str] = frozenset()
#: The distinct operation sets met so far (bounded: past the bound, not shared).
_SETS: dict[frozenset[str], frozenset[str]] = {}
_RECENT_MAX = 1024


@dataclass
class KeyHistory:
    """Accumulates what the log says and what the data needs, then compares.

    Kept small, one entry per key: ``logged`` maps a key to the (shared,
    interned) set of operations the log names for it; ``used``, ``retired``
    and ``destroyed`` map a key to where it was first met, or to None when
    the log already satisfied it then (the log only grows, so such a key
    never makes a finding and its origin is not needed). Each map moves to
    disk past a limit (:mod:`chainaudit.spillmap`): memory does not grow with
    the number of keys; consecutive records of one key look it up once.
    """

    logged: MutableMapping[str, frozenset[str]] = field(default_factory=lambda: SpillMap(FROZENSET))
    used: MutableMapping[str, str | None] = field(default_factory=lambda: SpillMap(JSON))
    retired: MutableMapping[str, str | None] = field(default_factory=lambda: SpillMap(JSON))
    destroyed: MutableMapping[str, str | None] = field(default_factory=lambda: SpillMap(JSON))
    records: int = 0
    #: The key of the last envelope fed, already in ``used`` (records of a
    #: dialogue come together: one lookup per key, not per record).
    _last_used: str | None = field(default=None, repr=False, compare=False)
    #: ``logged`` of the keys the log named last (see :meth:`_remember`).
    _recent: dict[str, frozenset[str]] = field(default_factory=dict, repr=False, compare=False)

    def feed(self, record: Record) -> None:
        """Take one record of any kind; other kinds than the three below are ignored."""
        self.records += 1
        if isinstance(record, AuditEvent):
            if is_lifecycle(record.chain_id):
                return
            op, key, outcome = (record.fields.get(k) for k in ("operation", "key_id", "outcome"))
            if isinstance(op, str) and isinstance(key, str) and outcome == "success":
                self._log(key, frozenset((op,)))
        elif isinstance(record, EntityRecord):
            env = record.envelope
            if env is None or env.key_id == self._last_used:
                return
            if env.key_id not in self.used:
                created = self.logged.get(env.key_id, _NONE) & CREATING_OPERATIONS
                self.used[env.key_id] = None if created else record.origin or str(record.address)
            self._last_used = env.key_id
        elif isinstance(record, WrappedDek):
            key = record.key_id
            ops = self.logged.get(key, _NONE)
            where = record.origin or f"dialogue#{record.dialogue}/dek#{record.version}"
            if key not in self.used:
                self.used[key] = None if ops & CREATING_OPERATIONS else where
            if record.state is KeyState.RETIRED and key not in self.retired:
                self.retired[key] = None if "rotate_dek" in ops else where
            elif record.state is KeyState.DESTROYED and key not in self.destroyed:
                self.destroyed[key] = None if "destroy_dek" in ops else where

    def _log(self, key: str, ops: frozenset[str]) -> None:
        known = self._recent.get(key)
        if known is None:
            known = self.logged.get(key)
        if known is not None and ops <= known:
            self._remember(key, known)
            return
        both = (known or _NONE) | ops
        # Keys share their operation sets: a few distinct sets, not one per key.
        both = _SETS.setdefault(both, both) if len(_SETS) < 4096 else both
        self.logged[key] = both
        self._remember(key, both)

    def _remember(self, key: str, ops: frozenset[str]) -> None:
        """``logged[key]`` for the next events of the same key (the log names a
        key several times in a row; ``logged`` may be on disk). Bounded."""
        if len(self._recent) >= _RECENT_MAX:
            self._recent.clear()
        self._recent[key] = ops

    def merge(self, other: KeyHistory) -> None:
        """Add what ``other`` saw of the records that follow this one's (a later
        part of the same source): the same as feeding them here."""
        for key, ops in other.logged.items():
            self._log(key, ops)
        for mine, theirs in (
            (self.used, other.used),
            (self.retired, other.retired),
            (self.destroyed, other.destroyed),
        ):
            for key, where in theirs.items():
                if key not in mine:
                    mine[key] = where
        self.records += other.records

    def findings(self) -> FindingList:
        """CHAIN-9: one finding per key and requirement broken, sorted by key id
        (a list that spills: a log that lost every event names every key)."""
        out = FindingList()
        for table, op, code in (
            (self.used, "", codes.KEY_NOT_IN_AUDIT_LOG),
            (self.retired, "rotate_dek", codes.KEY_ROTATION_UNLOGGED),
            (self.destroyed, "destroy_dek", codes.KEY_DESTRUCTION_UNLOGGED),
        ):
            for key, where in sorted_by_utf8(table):
                logged = self.logged.get(key, _NONE)
                if (logged & CREATING_OPERATIONS) if not op else (op in logged):
                    continue
                if not op:
                    message = "no successful wrap_dek or rotate_dek event names this key"
                else:
                    message = f"the key's state is recorded, but no successful {op} event names it"
                out.append(
                    Finding(
                        code,
                        key,
                        message,
                        expected=op or "wrap_dek or rotate_dek",
                        actual=",".join(sorted(logged)) or "none",
                        source=where,
                    )
                )
        return out


def verify_key_history(records: Iterable[Record]) -> Result:
    """CHAIN-9 over a stream of records of any kind, in any order."""
    history = KeyHistory()
    for record in records:
        history.feed(record)
    result = Result()
    result.extend(history.findings())
    result.checked["key_history_keys"] += len(history.used)
    return result
