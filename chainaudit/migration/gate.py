"""``gate post``: prove a target holds exactly what a signed manifest recorded (MAN-4).

Given the manifest written by ``gate pre``, the public keys the user pinned,
the manifest's leaves file and a stream of the target's records, the gate
establishes, in one pass over the target and one merge pass:

1. the manifest is trusted: known type/version/algorithms and a valid
   Ed25519 signature by a pinned key (MAN-3.3);
2. nothing is missing, extra or changed, by record key: the target's sorted
   leaves are merged with the manifest's leaves file (MAN-4.1);
3. the Merkle root over the target equals the signed root, and the leaves
   file itself hashes to that root (so it can be trusted to name records);
4. every count (totals, per dialogue) matches;
5. every chain the manifest lists ends, in the target, at the manifest's
   tip, and anything appended after that tip starts with a
   migration-boundary event naming exactly that count and tip (MAN-4.2).

Events appended after a chain's manifest tip are not "extra" records: they
are the continued chain and are judged by rule 5 instead. The boundary
event's signature and the links after it are the chain verifier's
(CHAIN-12); this module checks what the manifest can vouch for.

Specification: ``docs/manifest.md`` (MAN-4). Findings as data; InputError
only for a manifest that cannot be read as one.

>>> from chainaudit.conformance.vectorgen.manifest_build import SIGNER_LABEL, sample_manifest, sample_records, vector_key
>>> from chainaudit.migration.manifest import public_key_bytes
>>> manifest, leaves = sample_manifest()
>>> target = sample_records()[1:]            # the migration lost one record
>>> result = gate_post(manifest, target, pinned=[public_key_bytes(vector_key(SIGNER_LABEL))],
...                    leaves=leaves.splitlines(keepends=True))
>>> [(f.code.name, f.where) for f in result][:2]
[('MANIFEST_RECORD_MISSING', 'dialogue:d-1/entity:meta'), ('MANIFEST_ROOT_MISMATCH', 'merkle')]
"""

from __future__ import annotations

import hmac
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from chainaudit.chain.tips import ChainEvent, chain_event_of
from chainaudit.findings import Finding, Result, codes
from chainaudit.migration.diff import merge_sorted, report_duplicates
from chainaudit.migration.index import LeafIndex
from chainaudit.migration.manifest import (
    LeavesError,
    Pinned,
    check_shape,
    key_dialogue,
    key_kind,
    manifest_digest,
    read_leaves,
    verify_manifest,
)
from chainaudit.primitives.merkle import TreeBuilder, leaf_hash
from chainaudit.records.digest import keyed_digest
from chainaudit.sources import SourceItem

BOUNDARY_KIND = "migration_boundary"


@dataclass
class _ChainWatch:
    """What the target shows of one manifest chain: the base segment (seq <
    count) and what was appended after it."""

    count: int
    tip: str | None
    base: int = 0
    at_tip: Mapping[str, Any] | None = None
    first_appended: ChainEvent | None = None
    appended: int = 0


@dataclass
class _Side:
    """Root and counts accumulated while a sorted stream passes by."""

    tree: TreeBuilder = field(default_factory=TreeBuilder)
    totals: Counter[str] = field(default_factory=Counter)
    dialogues: dict[str, Counter[str]] = field(default_factory=dict)

    def see(self, key: str, digest: bytes) -> None:
        self.tree.add(leaf_hash(key, digest))
        kind = key_kind(key)
        self.totals[kind] += 1
        d = key_dialogue(key)
        if d is not None:
            self.dialogues.setdefault(d, Counter())[kind] += 1


def gate_post(
    manifest: Mapping[str, Any],
    target: Iterable[SourceItem],
    *,
    pinned: Pinned,
    leaves: Iterable[bytes] | None = None,
    label: str = "target",
    index_dir: str | None = None,
    require_bridge: bool = False,
) -> Result:
    """Compare a target with a signed manifest (MAN-4); see the module docstring.

    ``leaves`` is the manifest's leaves file as lines (an open binary file
    works); without it, differences are detected by root and counts but not
    named. ``checked`` counts ``records``, ``dialogues`` and ``chains``.
    ``require_bridge`` makes a chain that merely ends at the manifest's tip a
    finding: a migrated chain must be bridged (MAN-4.2 step 2; the CLI's
    ``gate post`` sets it unless told ``--allow-unbridged``).
    Raises :class:`~chainaudit.errors.InputError` for a malformed manifest.
    """
    result = Result()
    trust = verify_manifest(manifest, pinned)
    result.extend(trust)
    if trust and trust[0].code is codes.MANIFEST_VERSION_UNSUPPORTED:
        return result
    check_shape(manifest)
    watches = {c: _ChainWatch(int(v["count"]), v["tip"]) for c, v in manifest["chains"].items()}
    with LeafIndex(index_dir) as index:
        _index_target(target, index, watches, result, label)
        side = _Side()
        entries = _tap(index.sorted_entries(), side)
        if leaves is None:
            for _ in entries:
                pass
        else:
            _compare_leaves(manifest, entries, leaves, result, label)
        for _ in entries:  # drain, if the leaves file ended the merge early
            pass
    _compare_root(manifest, side, result, named=leaves is not None)
    _compare_counts(manifest, side, result)
    for chain_id, w in sorted(watches.items(), key=lambda kv: kv[0].encode()):
        _compare_chain(chain_id, w, manifest, result, require_bridge)
    result.checked["records"] = side.tree.size + sum(w.appended for w in watches.values())
    result.checked["dialogues"] = len(side.dialogues)
    result.checked["chains"] = len(watches)
    return result


def _index_target(
    target: Iterable[SourceItem],
    index: LeafIndex,
    watches: dict[str, _ChainWatch],
    result: Result,
    label: str,
) -> None:
    for item in target:
        if isinstance(item, Finding):
            result.add(item)
            continue
        key, digest = keyed_digest(item)
        ev = chain_event_of(item, key)
        w = watches.get(ev.chain_id) if ev is not None else None
        if ev is not None and w is not None and ev.seq is not None:
            if ev.seq >= w.count:
                w.appended += 1
                if w.first_appended is None or ev.seq < (w.first_appended.seq or 0):
                    w.first_appended = ev
                continue
            w.base += 1
            if ev.seq == w.count - 1:
                w.at_tip = ev.fields
        index.add(key, digest, item.origin or label)
    report_duplicates(index, result, label)


def _tap(
    entries: Iterator[tuple[str, bytes, str]], side: _Side
) -> Iterator[tuple[str, bytes, str]]:
    for key, digest, origin in entries:
        side.see(key, digest)
        yield key, digest, origin


def _compare_leaves(
    manifest: Mapping[str, Any],
    entries: Iterator[tuple[str, bytes, str]],
    leaves: Iterable[bytes],
    result: Result,
    label: str,
) -> None:
    """MAN-4.1: one merge pass of target entries against the leaves file.

    The record findings are reported only when the leaves file turns out
    well-formed and hashing to the signed root (MAN-3.4): a file that does
    not can name records falsely (a dropped line would make a record the
    signed root does contain look extra), so then MANIFEST_LEAVES_INVALID
    alone stands in for them and the root comparison (MAN-4 step 4) says
    whether the target differs. Held findings cost no more memory than the
    result that would hold them anyway.
    """
    source_tree = TreeBuilder()
    named: list[Finding] = []

    def manifest_side() -> Iterator[tuple[str, bytes]]:
        for key, digest in read_leaves(leaves, "leaves"):
            source_tree.add(leaf_hash(key, digest))
            yield key, digest

    target_side = ((k, (d, o)) for k, d, o in entries)
    try:
        for key, m, t in merge_sorted(manifest_side(), target_side):
            if t is None:
                assert m is not None
                named.append(
                    Finding(
                        codes.MANIFEST_RECORD_MISSING,
                        key,
                        f"listed in the manifest, absent from {label}",
                        expected=m.hex(),
                        source="manifest",
                    )
                )
            elif m is None:
                named.append(
                    Finding(
                        codes.MANIFEST_RECORD_EXTRA,
                        key,
                        f"present in {label}, not listed in the manifest",
                        actual=t[0].hex(),
                        source=t[1] or label,
                    )
                )
            elif not hmac.compare_digest(m, t[0]):
                named.append(
                    Finding(
                        codes.MANIFEST_RECORD_CHANGED,
                        key,
                        f"the record in {label} differs from the one the manifest lists",
                        expected=m.hex(),
                        actual=t[0].hex(),
                        source=t[1] or label,
                    )
                )
    except LeavesError as exc:
        result.add(
            Finding(
                codes.MANIFEST_LEAVES_INVALID,
                "leaves",
                f"{exc}; the record differences it would name are not reported",
                extra={"unreported": len(named)},
            )
        )
        return
    root = bytes.fromhex(manifest["merkle"]["root"])
    size = int(manifest["merkle"]["tree_size"])
    if source_tree.size != size or not hmac.compare_digest(source_tree.root(), root):
        result.add(
            Finding(
                codes.MANIFEST_LEAVES_INVALID,
                "leaves",
                "the leaves file does not hash to the manifest's signed Merkle root; "
                "the record differences it would name are not reported",
                expected=f"{size} leaves, root {root.hex()}",
                actual=f"{source_tree.size} leaves, root {source_tree.root().hex()}",
                extra={"unreported": len(named)},
            )
        )
        return
    result.extend(named)


def _compare_root(manifest: Mapping[str, Any], side: _Side, result: Result, *, named: bool) -> None:
    root = bytes.fromhex(manifest["merkle"]["root"])
    size = int(manifest["merkle"]["tree_size"])
    got = side.tree.root()
    if side.tree.size == size and hmac.compare_digest(got, root):
        return
    result.add(
        Finding(
            codes.MANIFEST_ROOT_MISMATCH,
            "merkle",
            "the target's records do not hash to the manifest's Merkle root",
            expected=f"{size} leaves, root {root.hex()}",
            actual=f"{side.tree.size} leaves, root {got.hex()}",
        )
    )
    if not named:
        result.add(
            Finding(
                codes.MANIFEST_LEAVES_ABSENT,
                "leaves",
                "pass the manifest's leaves file to name the differing records",
            )
        )


def _fmt(c: Mapping[str, int], names: Iterable[str]) -> str:
    return " ".join(f"{n}={c.get(n, 0)}" for n in names)


def _compare_counts(manifest: Mapping[str, Any], side: _Side, result: Result) -> None:
    kinds = ("entities", "deks", "audit_events")
    want = {k: int(manifest["totals"][k]) for k in kinds}
    got = {k: side.totals[k] for k in kinds}
    if want != got:
        result.add(
            Finding(
                codes.MANIFEST_COUNT_MISMATCH,
                "totals",
                "record counts by kind differ from the manifest's",
                expected=_fmt(want, kinds),
                actual=_fmt(got, kinds),
            )
        )
    mdial: Mapping[str, Mapping[str, int]] = manifest["dialogues"]
    for d in sorted(set(mdial) | set(side.dialogues), key=str.encode):
        w = {k: int(mdial.get(d, {}).get(k, 0)) for k in ("entities", "deks")}
        g = {k: side.dialogues.get(d, Counter())[k] for k in ("entities", "deks")}
        if w != g:
            result.add(
                Finding(
                    codes.MANIFEST_COUNT_MISMATCH,
                    f"dialogue:{d}",
                    "the dialogue's record counts differ from the manifest's",
                    expected=_fmt(w, ("entities", "deks")),
                    actual=_fmt(g, ("entities", "deks")),
                )
            )


def _compare_chain(
    chain_id: str,
    w: _ChainWatch,
    manifest: Mapping[str, Any],
    result: Result,
    require_bridge: bool = False,
) -> None:
    """MAN-4.2 for one chain the manifest lists."""
    expected = f"count={w.count} tip={w.tip}"
    if w.base < w.count:
        result.add(
            Finding(
                codes.MANIFEST_COUNT_MISMATCH,
                f"chain:{chain_id}",
                "the chain has fewer events up to the manifest's tip than the manifest recorded",
                expected=str(w.count),
                actual=str(w.base),
                extra={"chain_id": chain_id},
            )
        )
    elif w.count > 0 and w.tip is not None:  # a null tip in the manifest: nothing to compare
        got = w.at_tip.get("event_hash") if w.at_tip is not None else None
        if not isinstance(got, str) or not _same(got, w.tip):
            result.add(
                Finding(
                    codes.MANIFEST_CHAIN_TIP_MISMATCH,
                    f"chain:{chain_id}@{w.count - 1}",
                    "the event at the manifest's tip position has another event_hash",
                    expected=w.tip,
                    actual=got if isinstance(got, str) else None,
                    extra={"chain_id": chain_id},
                )
            )
    if w.appended == 0:
        if require_bridge and w.count > 0:
            result.add(
                Finding(
                    codes.MANIFEST_CHAIN_UNBRIDGED,
                    f"chain:{chain_id}@{w.count}",
                    "the chain ends at the manifest's tip: no boundary event bridges it into this store",
                    expected=f"a migration_boundary event at seq {w.count}",
                    actual="no event",
                    extra={"chain_id": chain_id, "appended": 0},
                )
            )
        return
    first = w.first_appended
    assert first is not None
    where = f"chain:{chain_id}@{first.seq}"
    extra = {"chain_id": chain_id, "appended": w.appended, "first_record": first.record_key}
    f = first.fields
    if first.seq != w.count or f.get("event_kind") != BOUNDARY_KIND:
        result.add(
            Finding(
                codes.MANIFEST_CHAIN_UNBRIDGED,
                where,
                f"{w.appended} event(s) follow the manifest's tip without a boundary event first",
                expected=f"a migration_boundary event at seq {w.count}",
                actual=str(f.get("event_kind") or "an ordinary event"),
                source=first.record_key,
                extra=extra,
            )
        )
        return
    claimed = f"count={f.get('source_count')} tip={f.get('source_tip_hash')}"
    named_tip = f.get("source_tip_hash")
    tip_ok = w.tip is None or (isinstance(named_tip, str) and _same(named_tip, w.tip))
    if f.get("source_count") != w.count or not tip_ok:
        result.add(
            Finding(
                codes.MANIFEST_CHAIN_TIP_MISMATCH,
                where,
                "the boundary event bridges from another source state than the manifest's",
                expected=expected,
                actual=claimed,
                source=first.record_key,
                extra=extra,
            )
        )
        return
    named = f.get("manifest_digest")
    if isinstance(named, str) and not _same(named, manifest_digest(manifest)):
        result.add(
            Finding(
                codes.MANIFEST_CHAIN_TIP_MISMATCH,
                where,
                "the boundary event names another manifest",
                expected=manifest_digest(manifest),
                actual=named,
                source=first.record_key,
                extra=extra,
            )
        )
        return
    result.add(
        Finding(
            codes.MANIFEST_CHAIN_BRIDGED,
            where,
            f"continues through a boundary event naming the manifest's tip ({w.appended} new event(s))",
            expected=expected,
            actual=claimed,
            source=first.record_key,
            extra=extra,
        )
    )


def _same(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode(), b.encode())
