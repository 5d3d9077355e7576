"""Store adapters: each turns its backend's rows into neutral records and back.

Every adapter implements :class:`Source` (streaming read with bounded memory)
and, where the store is writable, :class:`Sink` (idempotent import of
verbatim records). The verifiers never import this package's backends.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import Protocol

from chainaudit.findings import Finding
from chainaudit.records.model import Record

#: What a source yields: a record, or a finding for an item it could not map.
SourceItem = Record | Finding


class Source(Protocol):
    """A readable store or export."""

    def describe(self) -> str:
        """A short human name for messages, e.g. ``dynamodb://blue_dialogues``."""
        ...

    def read(self) -> Iterator[SourceItem]:
        """Stream every item once. Raises :class:`~chainaudit.errors.StoreError`
        (or :class:`~chainaudit.errors.InputError`) rather than end early."""
        ...


class Splittable(Source, Protocol):
    """A grouped source that can be read in parts by several processes
    (``verify --workers N``, docs/cli.md CLI-5).

    ``split(n)`` is a context manager giving at most ``n`` part sources, or
    None when this source cannot be split now. Parts are consecutive in the
    source's own order, every partition lies in exactly one part, and each
    part is itself grouped. The parts are read in processes forked inside
    the ``with`` block: a part connects on its own when it is read, and the
    context holds whatever keeps the parts consistent (a PostgreSQL snapshot)
    until the block ends.
    """

    def split(self, n: int) -> AbstractContextManager[list[Source] | None]: ...


@dataclass
class ImportReport:
    """What an import did. Re-running an import yields ``written == 0``."""

    written: int = 0
    unchanged: int = 0
    conflicts: list[Finding] = field(default_factory=list)


class Sink(Protocol):
    """A writable store: imports records verbatim, idempotently."""

    def describe(self) -> str: ...

    def import_records(self, records: Iterable[Record]) -> ImportReport:
        """Write records that are absent, skip identical ones, report differing
        ones as conflicts without overwriting them."""
        ...
