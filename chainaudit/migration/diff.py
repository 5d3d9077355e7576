"""What differs between two stores, record by record (MAN-5).

During a dual-write period two stores each hold part of the truth. ``diff``
reads both, sorts each side's (record key, digest) pairs on disk
(:class:`~chainaudit.migration.index.LeafIndex`) and walks the two sorted streams
once, side by side: a key on one side only is DIFF_ONLY_IN_A or
DIFF_ONLY_IN_B, a key on both sides with different digests is DIFF_CHANGED.
Memory stays bounded by the index page cache, whatever the store sizes.

The same merge (:func:`merge_sorted`) serves ``gate post`` (MAN-4).
Specification: ``docs/manifest.md`` (MAN-5).

>>> list(merge_sorted(iter([("a", b"1"), ("b", b"2")]), iter([("b", b"3"), ("c", b"4")])))
[('a', b'1', None), ('b', b'2', b'3'), ('c', None, b'4')]
"""

from __future__ import annotations

import hmac
from collections.abc import Iterable, Iterator
from typing import TypeVar

from chainaudit.chain.events import BOUNDARY_KIND
from chainaudit.findings import Finding, Result, codes
from chainaudit.migration.index import LeafIndex
from chainaudit.migration.manifest import key_dialogue
from chainaudit.records.address import EntityType
from chainaudit.records.digest import keyed_digest
from chainaudit.records.model import AuditEvent, EntityRecord, Record
from chainaudit.sources import SourceItem

A = TypeVar("A")
B = TypeVar("B")


def merge_sorted(
    a: Iterator[tuple[str, A]], b: Iterator[tuple[str, B]]
) -> Iterator[tuple[str, A | None, B | None]]:
    """Walk two streams sorted by key (UTF-8 bytes) in one pass.

    Yields ``(key, value_a, value_b)``, with None for the side that lacks
    the key. Both inputs must be strictly increasing; memory is O(1).
    """
    x = next(a, None)
    y = next(b, None)
    while x is not None or y is not None:
        if y is None or (x is not None and x[0].encode() < y[0].encode()):
            assert x is not None
            yield x[0], x[1], None
            x = next(a, None)
        elif x is None or y[0].encode() < x[0].encode():
            yield y[0], None, y[1]
            y = next(b, None)
        else:
            yield x[0], x[1], y[1]
            x, y = next(a, None), next(b, None)


def index_source(
    items: Iterable[SourceItem],
    index: LeafIndex,
    result: Result,
    label: str,
    boundaries: set[str] | None = None,
) -> None:
    """Add every record of a source to ``index``; source findings go to ``result``.

    Duplicate record keys are reported as RECORD_KEY_DUPLICATE (MAN-1.1).
    The record keys of migration-boundary events go to ``boundaries`` (few:
    at most one per chain and migration).
    """
    for item in items:
        if isinstance(item, Finding):
            result.add(item)
            continue
        key, digest = keyed_digest(item)
        index.add(key, digest, item.origin or label)
        if boundaries is not None and is_boundary_record(item):
            boundaries.add(key)
    report_duplicates(index, result, label)


def report_duplicates(index: LeafIndex, result: Result, label: str) -> None:
    """RECORD_KEY_DUPLICATE for every record key ``label`` holds more than once (MAN-1.1)."""
    for key, digest, origin in index.duplicates():
        result.add(
            Finding(
                codes.RECORD_KEY_DUPLICATE,
                key,
                f"{label} holds more than one record with this record key",
                actual=digest.hex(),
                source=origin or label,
            )
        )


def diff_sources(
    a: Iterable[SourceItem],
    b: Iterable[SourceItem],
    *,
    label_a: str = "A",
    label_b: str = "B",
    index_dir: str | None = None,
) -> Result:
    """Compare two stores by record key (MAN-5): a :class:`Result` whose
    findings are DIFF_ONLY_IN_A, DIFF_ONLY_IN_B and DIFF_CHANGED, in key order.

    ``checked`` counts ``records`` (distinct keys over both sides),
    ``records_a``, ``records_b`` and ``dialogues``.
    """
    result = Result()
    boundaries: set[str] = set()
    with LeafIndex(index_dir) as ia, LeafIndex(index_dir) as ib:
        index_source(a, ia, result, label_a, boundaries)
        index_source(b, ib, result, label_b, boundaries)
        result.checked["records_a"] = len(ia)
        result.checked["records_b"] = len(ib)
        dialogues: set[str] = set()
        total = 0
        for key, ea, eb in merge_sorted(_entries(ia), _entries(ib)):
            total += 1
            d = key_dialogue(key)
            if d is not None:
                dialogues.add(d)
            finding = compare_entry(key, ea, eb, label_a, label_b)
            if finding is not None and key in boundaries and (ea is None or eb is None):
                # MAN-5: a boundary on one side only is the migration itself
                # (the target bridged the chain), not a lost dual write.
                finding = Finding(
                    codes.DIFF_BOUNDARY_ONE_SIDE,
                    key,
                    f"a migration-boundary event present only in {label_a if eb is None else label_b}: "
                    "the chain was bridged there",
                    expected=finding.expected,
                    actual=finding.actual,
                    source=finding.source,
                )
            if finding is not None:
                result.add(finding)
        result.checked["records"] = total
        result.checked["dialogues"] = len(dialogues)
    return result


def is_boundary_record(record: Record) -> bool:
    """Whether a record is a migration-boundary event (CHAIN-12), in either chain kind."""
    if isinstance(record, AuditEvent):
        return record.fields.get("event_kind") == BOUNDARY_KIND
    if isinstance(record, EntityRecord) and record.address.entity_type is EntityType.EVENT:
        return record.attributes.get("event_kind") == {"S": BOUNDARY_KIND}
    return False


def _entries(ix: LeafIndex) -> Iterator[tuple[str, tuple[bytes, str]]]:
    for key, digest, origin in ix.sorted_entries():
        yield key, (digest, origin)


def compare_entry(
    key: str,
    ea: tuple[bytes, str] | None,
    eb: tuple[bytes, str] | None,
    label_a: str,
    label_b: str,
) -> Finding | None:
    """The finding for one merged key, or None when both sides agree."""
    if eb is None:
        assert ea is not None
        return Finding(
            codes.DIFF_ONLY_IN_A,
            key,
            f"present in {label_a}, absent from {label_b}",
            expected=ea[0].hex(),
            actual=None,
            source=ea[1] or label_a,
        )
    if ea is None:
        return Finding(
            codes.DIFF_ONLY_IN_B,
            key,
            f"present in {label_b}, absent from {label_a}",
            expected=None,
            actual=eb[0].hex(),
            source=eb[1] or label_b,
        )
    if hmac.compare_digest(ea[0], eb[0]):
        return None
    return Finding(
        codes.DIFF_CHANGED,
        key,
        f"the record differs between {label_a} and {label_b}",
        expected=ea[0].hex(),
        actual=eb[0].hex(),
        source=eb[1] or label_b,
        extra={"source_a": ea[1] or label_a},
    )
