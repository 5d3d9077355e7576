"""The full verification of one source: envelopes, keys, chains, key history.

This is what ``chainaudit verify`` runs. It wires the pure verifiers to a
:class:`~chainaudit.sources.Source` and returns one
:class:`~chainaudit.findings.Result` whose ``checked`` counters say what was
covered. No verifier here reads the clock or prints.

Passes (bounded memory throughout):

1. Read every item once: keep the source's own findings, check wrapped-DEK
   records and feed the key ring, feed the key-history check, spool chain
   events to disk (:mod:`chainaudit.spool`), and, without keys, run the
   keyless envelope checks.
2. With keys only: read the source again and run the envelope checks with
   the key ring, now that every wrapped DEK is known (stores return DEK
   items in no useful order relative to the records they open).
3. Verify every chain from the spool, in chain order, optionally split by
   chain across worker processes (CHAIN-8).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

from chainaudit import codes
from chainaudit.address import EntityType
from chainaudit.assurance import Anchor, Evidence
from chainaudit.chain import chain_event_from_entity
from chainaudit.checkpoint import ChainExpectation, verify_checkpoint
from chainaudit.findings import Finding, Result
from chainaudit.keyhistory import KeyHistory
from chainaudit.keyring import KeyRing
from chainaudit.keys import check_dek_record
from chainaudit.model import AuditEvent, EntityRecord, WrappedDek
from chainaudit.resolver import DekStatus
from chainaudit.signing import TrustStore
from chainaudit.sources import Source
from chainaudit.spool import EventSpool, read_spool
from chainaudit.umk import Umk
from chainaudit.verify_chain import ChainPolicy, ChainVerifier, Partial, resolve, verify_events
from chainaudit.verify_commit import CommitmentVerifier
from chainaudit.verify_envelope import EnvelopeVerifier

Progress = Callable[[int], None]


@dataclass
class AuditOptions:
    """What the user supplied: keys, pinned signers, checkpoints, parallelism."""

    umk: Umk | None = None
    trust: TrustStore = field(default_factory=TrustStore)
    checkpoints: list[tuple[str, dict[str, object]]] = field(default_factory=list)
    expectations: list[ChainExpectation] = field(default_factory=list)
    workers: int = 1
    key_history: bool = True


def audit(
    source: Source,
    options: AuditOptions,
    progress: Progress | None = None,
    evidence: Evidence | None = None,
) -> Result:
    """Verify everything in ``source``; see the module docstring for the passes.

    ``evidence``, when given, is filled with what the assurance statement
    (REP-7) needs beyond the result: whether envelopes were opened with
    keys, the anchors that verified, every chain's length, what the source
    offers against removal.

    ``result.checked`` says what was covered: ``records`` (every item read),
    ``entities``, ``deks``, ``audit_events``, ``unreadable``, ``dialogues``,
    ``chains``, ``keys``, and the verifiers' own counters (``envelopes``,
    ``decrypted``, ``chain_events``).
    """
    result = Result()
    kinds: Counter[str] = Counter()
    ring = KeyRing(options.umk) if options.umk is not None else None
    history = KeyHistory()
    dialogues: set[str] = set()
    keys: set[str] = set()
    expectations = list(options.expectations)
    ev = evidence if evidence is not None else Evidence()
    ev.umk_fingerprint = options.umk.fingerprint() if options.umk is not None else None
    ev.integrity_basis = getattr(source, "integrity_basis", ev.integrity_basis)
    for x in options.expectations:
        ev.anchors.append(Anchor(x.chain_id, x.count, x.kind, x.origin))
    for origin, doc in options.checkpoints:
        got = verify_checkpoint(doc, options.trust, origin)
        if isinstance(got, Finding):
            result.add(got)
        else:
            expectations.append(got)
            signer = doc.get("signer_key_id")
            ev.anchors.append(
                Anchor(got.chain_id, got.count, got.kind, origin, signer if isinstance(signer, str) else "")
            )

    envelopes = EnvelopeVerifier(None) if ring is None else None
    commits = CommitmentVerifier(options.trust, expectations)  # COMMIT-6, COMMIT-8
    with EventSpool() as spool, commits:
        seen = 0
        for item in source.read():
            seen += 1
            if progress is not None and seen % 10_000 == 0:
                progress(seen)
            if isinstance(item, Finding):
                if item.code in _ITEM_CODES:  # an item that did not map; not a file-level fact
                    kinds["unreadable"] += 1
                result.add(item)
                continue
            history.feed(item)
            commits.add(item)
            if isinstance(item, WrappedDek):
                kinds["dek"] += 1
                dialogues.add(item.dialogue)
                keys.add(item.key_id)
                result.extend(check_dek_record(item))
                if ring is not None:
                    ring.add(item)
            elif isinstance(item, AuditEvent):
                kinds["audit_event"] += 1
                spool.add(item)
                ev.note_event(item)  # REP-8: the HTML report's timeline
            else:
                kinds["entity"] += 1
                dialogues.add(item.address.dialogue)
                if item.envelope is not None:
                    keys.add(item.envelope.key_id)
                if envelopes is not None:
                    envelopes.add(item)
                if item.address.entity_type is EntityType.EVENT:
                    event = chain_event_from_entity(item)
                    if isinstance(event, Finding):
                        result.add(event)
                    else:
                        spool.add(event)
                        ev.note_event(event)  # REP-8: the HTML report's timeline
                        commits.add_event(event)
        if envelopes is not None:
            result.merge(envelopes.result())
        elif ring is not None:
            usable = _check_key_ring(ring, options.umk, result)
            ev.keyed = usable
            result.merge(_keyed_pass(source, ring if usable else None))
        ev.audit_log = kinds["audit_event"] > 0
        if options.key_history:
            if kinds["audit_event"]:
                result.extend(history.findings())
            elif keys:
                # A per-dialogue export carries no crypto audit log: the key
                # history cannot be checked here, which is not evidence of a gap.
                result.add(
                    Finding(
                        codes.KEY_HISTORY_UNCHECKED,
                        source.describe(),
                        f"no crypto audit log events in this source; the history of {len(keys)} key(s) was not checked",
                    )
                )
        spool.seal(max(1, options.workers))
        policy = ChainPolicy(trust=options.trust, expectations=tuple(expectations))
        chains = _verify_spooled(spool, policy, options.workers)
        chain_count = spool.chains()
        result.merge(chains)
        ev.chain_lengths.update(chains.chain_lengths)
        result.merge(commits.finish())  # COMMIT-6, COMMIT-8: records_committed, erasures_signed, ...
        ev.commitments_checked = True
    for name in ("entity", "dek", "audit_event", "unreadable"):
        result.checked[_PLURAL[name]] = kinds[name]
    result.checked["records"] = sum(kinds.values())
    result.checked["dialogues"] = len(dialogues)
    result.checked["keys"] = len(keys)
    result.checked["chains"] = chain_count
    if not options.trust.keys:
        _fold_untrusted(result)
    if result.checked["records"] == 0:
        result.add(Finding(codes.NOTHING_CHECKED, source.describe(), "the source holds no records"))
    return result


_PLURAL = {
    "entity": "entities",
    "dek": "deks",
    "audit_event": "audit_events",
    "unreadable": "unreadable",
}


_ITEM_CODES = frozenset({codes.RECORD_MALFORMED, codes.ADDRESS_INVALID})
_UNTRUSTED = frozenset(
    {
        codes.BOUNDARY_SIGNER_UNTRUSTED,
        codes.CHECKPOINT_SIGNER_UNTRUSTED,
        codes.ERASURE_SIGNER_UNTRUSTED,  # COMMIT-8: a receipt is a signature like the others
    }
)


def _check_key_ring(ring: KeyRing, umk: Umk | None, result: Result) -> bool:
    """Unwrap every wrapped DEK once, before any envelope is opened.

    A UMK that opens none of the wrapped keys is almost certainly the wrong
    UMK, not a store where every key was tampered with: say so once
    (UMK_MISMATCH, unverified) and check envelopes keylessly instead of
    reporting every record as unopenable. Otherwise each key that does not
    unwrap is named once, at its own record (KEY-4); the records sealed
    under it report it too.
    """
    failed: list[tuple[str, str]] = []
    found = 0
    for record in ring.records():
        location = f"dek#{record.dialogue}#{record.version}"
        lookup = ring.resolve(location)
        if lookup.status is DekStatus.FOUND:
            found += 1
        elif lookup.status is DekStatus.UNWRAP_FAILED:
            failed.append((location, record.origin))
    if failed and not found and umk is not None:
        result.add(
            Finding(
                codes.UMK_MISMATCH,
                f"umk:{umk.fingerprint()}",
                f"the UMK (fingerprint {umk.fingerprint()}) unwraps none of the {len(failed)} "
                "wrapped keys: it is probably not the UMK these keys were wrapped under; "
                "envelopes were checked without keys",
                extra={"keys": len(failed)},
            )
        )
        return False
    for location, origin in failed:
        result.add(
            Finding(
                codes.KEY_UNWRAP_FAILED,
                location,
                "this wrapped DEK does not unwrap under its owner's KEK while others do: "
                "the record was altered, or it belongs to another owner or UMK",
                source=origin or None,
            )
        )
    return True


def _fold_untrusted(result: Result) -> None:
    """With no key pinned at all, 'untrusted signer' is a missing option, not a
    forged signature: fold those findings into one SIGNATURES_UNCHECKED."""
    untrusted = [f for f in result.findings if f.code in _UNTRUSTED]
    if not untrusted:
        return
    result.findings = [f for f in result.findings if f.code not in _UNTRUSTED]
    signers = sorted({f.actual for f in untrusted if f.actual})
    result.add(
        Finding(
            codes.SIGNATURES_UNCHECKED,
            untrusted[0].where,
            f"no --trusted-keys given: {len(untrusted)} signature(s) on boundary events, "
            f"checkpoints or erasure receipts were not checked (signer key ids: {', '.join(signers) or 'unknown'})",
            extra={"signatures": len(untrusted), "first": [f.where for f in untrusted[:5]]},
        )
    )


def _keyed_pass(source: Source, ring: KeyRing | None) -> Result:
    """Pass 2: every envelope, checked and opened with the complete key ring."""
    with EnvelopeVerifier(ring) as verifier:
        for item in source.read():
            if isinstance(item, EntityRecord):
                verifier.add(item)
        return verifier.result()


def _verify_spooled(spool: EventSpool, policy: ChainPolicy, workers: int) -> Result:
    if workers <= 1 or len(spool) == 0:
        return verify_events(spool.events(), policy)
    import multiprocessing

    with multiprocessing.get_context("fork").Pool(workers) as pool:
        parts = pool.map(partial(_worker, spool.path, policy, workers), range(workers))
    return resolve(parts)


def _worker(path: Path, policy: ChainPolicy, n: int, index: int) -> Partial:
    """One worker process: verify the chains of partition ``index`` of ``n``."""
    verifier = ChainVerifier(policy, (index, n))
    for event in read_spool(path, index):
        verifier.feed(event)
    return verifier.finish_partial()
