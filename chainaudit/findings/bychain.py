"""Findings kept by chain until the end of a run, in bounded memory.

The chain and commitment verifiers report each chain's findings together,
chains in the UTF-8 byte order of their ids (CHAIN-8, COMMIT-6), but find
them chain by chain in the order the source delivers them, and the parts of
a parallel run find them apart. :class:`ByChain` holds them meanwhile: every
finding in one :class:`~chainaudit.spilllist.SpillList`, in the order added,
and for each chain the ranges of that list that are its own, in a
:class:`~chainaudit.spillmap.SpillMap`. Both move to private scratch files
past their limits, so an export whose every chain is broken is reported in
the same bounded memory as an intact one.

It reads as a mapping from chain id to that chain's findings (a list built
when asked for), which is what the verifiers and their tests compare.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Iterator, Mapping

from chainaudit.findings.result import Finding
from chainaudit.spilllist import SpillList
from chainaudit.spillmap import TUPLES, SpillMap, sorted_by_utf8


class ByChain(Mapping[str, list[Finding]]):
    """Chain id to its findings, in the order added; see the module docstring.

    A chain may be present with no finding (a verifier that keeps an entry
    for every chain it ended)."""

    def __init__(self) -> None:
        self._all: SpillList[Finding] = SpillList()
        #: Chain id to its ranges ``(start, stop)`` of ``_all``, in order.
        self._ranges: SpillMap[str, list[tuple[int, int]]] = SpillMap(TUPLES)

    def add(self, chain_id: str, findings: Iterable[Finding]) -> None:
        """Append ``findings`` to the chain's (the chain is present even when
        there are none)."""
        start = len(self._all)
        self._all.extend(findings)
        stop = len(self._all)
        ranges = self._ranges.get(chain_id)
        if stop > start:
            self._ranges[chain_id] = [
                *(ranges or ()),
                (start, stop),
            ]  # stored again: may be on disk
        elif ranges is None:
            self._ranges[chain_id] = []

    def __getitem__(self, chain_id: str) -> list[Finding]:
        return [f for a, b in self._ranges[chain_id] for f in self._all.iter_range(a, b)]

    def __contains__(self, chain_id: object) -> bool:
        return chain_id in self._ranges

    def __iter__(self) -> Iterator[str]:
        return iter(self._ranges)

    def __len__(self) -> int:
        return len(self._ranges)

    @property
    def total(self) -> int:
        """How many findings, over every chain."""
        return len(self._all)

    def sorted_chains(self) -> Iterator[tuple[str, Iterator[Finding]]]:
        """``(chain id, its findings)`` in the UTF-8 byte order of the ids,
        each chain's findings streamed in the order added (consume them
        before the next chain)."""
        for chain_id, ranges in sorted_by_utf8(self._ranges):
            yield chain_id, self._stream(ranges)

    def _stream(self, ranges: list[tuple[int, int]]) -> Iterator[Finding]:
        for a, b in ranges:
            yield from self._all.iter_range(a, b)


def merged_by_chain(
    parts: Iterable[Mapping[str, Iterable[Finding]]],
) -> Iterator[tuple[str, Iterator[Finding]]]:
    """``(chain id, findings)`` of several parts: chains in the UTF-8 byte
    order of their ids and, for a chain in several parts, the parts in the
    order of ``parts`` (consecutive pairs with the same id). Together, what
    one :class:`ByChain` holding every part's findings would list. Streamed:
    a k-way merge of the parts' own orders, nothing copied; consume each
    chain's findings before asking for the next pair."""
    # Code-point order of str is the UTF-8 byte order of their encodings (lone
    # surrogates, which surrogatepass encodes as 0xED 0xA0..0xBF, included), and
    # heapq.merge is stable: of equal ids, the earlier part's pair comes first.
    for chain_id, found in heapq.merge(*map(_ordered, parts), key=lambda pair: pair[0]):
        yield chain_id, iter(found)


def _ordered(part: Mapping[str, Iterable[Finding]]) -> Iterator[tuple[str, Iterable[Finding]]]:
    if isinstance(part, ByChain):
        yield from part.sorted_chains()
        return
    yield from sorted_by_utf8(part)
