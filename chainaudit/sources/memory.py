"""Records held in memory as a :class:`~chainaudit.sources.Source` (docs/api.md).

A writer under test, a test suite or a service that already holds its
records verifies them without writing an export first:
``chainaudit.verify(RecordsSource(records))``, or simply
``chainaudit.verify(records)``. Records are taken as they are: nothing is
copied, sorted or mapped, so what is verified is exactly what was given.
Pure: no I/O.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence

from chainaudit.sources import SourceItem


class RecordsSource:
    """A :class:`~chainaudit.sources.Source` over records (and findings) in memory.

    ``records`` may be a sequence (read as often as asked) or any other
    iterable (read once: a second :meth:`read` raises ``RuntimeError``).
    ``name`` is what reports call the source.
    """

    #: REP-4: which export checks apply (none: there is no export file).
    kind = "records"
    #: REP-7: what the source itself offers against a removed record.
    integrity_basis = "nothing signed: records handed over in memory"
    #: CLI-5: no promise about order, so the audit spools (any order is fine).
    grouped = False

    def __init__(self, records: Iterable[SourceItem], *, name: str = "records") -> None:
        self._records = records
        self._name = name
        self._read_once = False

    def __repr__(self) -> str:
        size = len(self._records) if isinstance(self._records, Sequence) else "?"
        return f"RecordsSource({self._name!r}, {size} records)"

    def describe(self) -> str:
        return self._name

    def read(self) -> Iterator[SourceItem]:
        if not isinstance(self._records, Sequence):
            if self._read_once:
                raise RuntimeError(
                    f"{self._name}: an iterator of records can be read once; pass a list"
                )
            self._read_once = True
        return iter(self._records)


__all__ = ["RecordsSource"]
