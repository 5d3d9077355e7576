"""The interface between the envelope verifier and whatever holds the keys.

The envelope verifier asks a :class:`DekResolver` for the data key of a
``key_id``; :class:`chainaudit.keys.keyring.KeyRing` is the implementation backed by
a UMK and wrapped-DEK records. Keeping the interface here lets the envelope
code stay independent of how keys are stored or fetched (file, KMS).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol


class DekStatus(StrEnum):
    """Outcome of resolving one key_id (KEY-5)."""

    FOUND = "found"
    SHREDDED = "shredded"  # KEY-6: destroyed on purpose; not tampering
    MISSING = "missing"  # no wrapped-DEK record, or no UMK for its owner
    UNWRAP_FAILED = "unwrap_failed"  # a record exists but does not unwrap


@dataclass(frozen=True, slots=True)
class DekLookup:
    """The result of :meth:`DekResolver.resolve`. ``dek`` is set only when FOUND.

    ``repr`` hides the key so it cannot leak into logs.
    """

    status: DekStatus
    dek: bytes | None = None
    detail: str = ""

    def __repr__(self) -> str:
        return f"DekLookup(status={self.status.value!r}, detail={self.detail!r})"


class DekResolver(Protocol):
    """Resolves key ids to data keys, caching so each DEK is unwrapped once."""

    def resolve(self, key_id: str) -> DekLookup:
        """The DEK for ``key_id`` (grammar KEY-2), or why there is none."""
        ...

    def versions(self, dialogue: str) -> Sequence[str]:
        """All known key ids of a dialogue (escaped id), oldest version first;
        used to name WRONG_KEY_VERSION (ENV-7)."""
        ...
