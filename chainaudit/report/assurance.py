"""What a run proved, family by family, and the policy that can require it (REP-7).

A verdict of ``ok`` says "no finding"; it does not say what evidence stood
behind the checks. A keyless run authenticates no envelope, a chain with no
signed checkpoint can be rewritten from genesis, and an export's trailer
can be recomputed by whoever rewrote the file. Each *assurance family*
names one such property, and :func:`assess` states for each whether the
run proved it, for part of the data, or not at all, and on what evidence
(docs/threat-model.md says which attacker each one defeats):

``authenticated``
    every envelope was authenticated (AES-GCM tag) and decrypted under the
    dataset's keys, or is under a key whose erasure is proven.
``anchored``
    every hash chain, up to its last event, extends a signed checkpoint or
    manifest whose signer is pinned.
``committed``
    every entity record matches the latest anchored commitment of its
    dialogue's lifecycle chain (docs/commitments.md).
``complete``
    no record can have been removed unseen: by a signed manifest, or by
    anchored chains plus anchored commitments of every record.
``erasure``
    every destroyed key is covered by a destruction receipt signed by a
    pinned erasure authority.

:func:`policy_findings` turns each required family that is not proven into
one ``ASSURANCE_NOT_MET`` finding (unverified, so exit 3). Pure: no I/O.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, MutableMapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from chainaudit.findings import Code, Finding, Result, codes
from chainaudit.findings.result import code_counts
from chainaudit.records.model import AuditEvent
from chainaudit.spillmap import JSON, TUPLES, SpillMap, sorted_by_utf8

#: The assurance families in report order (REP-7).
FAMILIES = ("authenticated", "anchored", "committed", "complete", "erasure")
#: Threat-model section each family links to.
SECTIONS = {
    "authenticated": "docs/threat-model.md#edited-envelopes",
    "anchored": "docs/threat-model.md#anchoring",
    "committed": "docs/threat-model.md#rollback-and-edits",
    "complete": "docs/threat-model.md#removed-records",
    "erasure": "docs/threat-model.md#forged-erasure",
}


class Level(StrEnum):
    """How far a family was proven."""

    PROVEN = "proven"
    PARTIAL = "partial"
    NOT_PROVEN = "not_proven"
    #: Nothing in the data needs it (no envelopes, no chains, no destroyed key).
    NOT_APPLICABLE = "not_applicable"


@dataclass(frozen=True, slots=True)
class Assurance:
    """One family's standing: its level and the evidence (or its absence), in one sentence."""

    family: str
    level: Level
    basis: str

    @property
    def satisfied(self) -> bool:
        """True when a requirement on this family is met (proven, or nothing to prove)."""
        return self.level in (Level.PROVEN, Level.NOT_APPLICABLE)

    def to_json(self) -> dict[str, Any]:
        return {"level": self.level.value, "basis": self.basis, "see": SECTIONS[self.family]}


@dataclass(frozen=True, slots=True)
class Anchor:
    """A verified expectation a chain was held to: a checkpoint or a manifest entry."""

    chain_id: str
    count: int
    kind: str
    origin: str
    signer: str = ""


@dataclass
class Evidence:
    """What the run was given and saw, beyond the findings and counters.

    ``keyed`` is true when a UMK was given and it unwrapped at least one
    key; ``umk_fingerprint`` names it (never the key). ``anchors`` are the
    checkpoints (and manifest entries) that verified; ``chain_lengths`` the
    final length of every chain seen. ``integrity_basis`` says what the
    source itself offers against removal (e.g. an unsigned export trailer);
    ``manifest_signer`` is set when a signed manifest was checked against
    the data (``gate post``).
    """

    keyed: bool = False
    umk_fingerprint: str | None = None
    anchors: list[Anchor] = field(default_factory=list)
    chain_lengths: MutableMapping[str, int] = field(default_factory=lambda: SpillMap(JSON))
    integrity_basis: str = "nothing signed: the store's current contents only"
    manifest_signer: str | None = None
    audit_log: bool = True
    #: True when record commitments were checked (docs/commitments.md).
    commitments_checked: bool = False
    #: Filled once the statement is made (chainaudit.cli.common.conclude).
    assurance: dict[str, Assurance] | None = None
    #: Notable events per chain, for the HTML report's timelines (REP-8):
    #: chain id -> (seq, kind, label), kinds in :data:`TIMELINE_KINDS`, at
    #: most :data:`TIMELINE_CAP` per chain, filled by :meth:`note_event`.
    timeline: MutableMapping[str, list[tuple[int, str, str]]] = field(
        default_factory=lambda: SpillMap(TUPLES)
    )

    def note_event(self, event: AuditEvent) -> None:
        """Keep ``event`` for the timeline of its chain when it is notable
        (:func:`timeline_entry`); bounded: :data:`TIMELINE_CAP` per chain."""
        entry = timeline_entry(event)
        if entry is None:
            return
        # Stored again, not appended in place: the map may be on disk.
        kept = self.timeline.get(event.chain_id)
        if kept is None:
            self.timeline[event.chain_id] = [entry]
        elif len(kept) < TIMELINE_CAP:
            kept.append(entry)
            self.timeline[event.chain_id] = kept


#: REP-8: the kinds of notable chain event a timeline marks.
TIMELINE_KINDS = ("genesis", "rotate", "destroy", "boundary", "receipt")
#: REP-8: notable events kept per chain (memory stays bounded on hostile data).
TIMELINE_CAP = 200
#: REP-8: longest label kept (labels come from data: key ids, backends, times).
TIMELINE_LABEL_MAX = 160


def timeline_entry(event: AuditEvent) -> tuple[int, str, str] | None:
    """``(seq, kind, label)`` when ``event`` is notable for a timeline, else None.

    Notable: the genesis (``seq`` 0), a key rotation or destruction in the
    crypto audit log (``operation`` ``rotate_dek``/``destroy_dek``; label:
    the key id), a migration boundary (``event_kind``
    ``migration_boundary``; label: the backends it joins), and an erasure
    receipt (``event_type`` ``erasure_receipt``, docs/commitments.md
    COMMIT-7; label: the erased key id). Labels name keys, never hold them.

    >>> timeline_entry(AuditEvent("a", {"seq": 5, "operation": "rotate_dek", "key_id": "dek#d#1"}))
    (5, 'rotate', 'dek#d#1')
    >>> timeline_entry(AuditEvent("a", {"seq": 6, "operation": "decrypt"})) is None
    True
    """
    f = event.fields
    seq = f.get("seq")
    if not isinstance(seq, int) or isinstance(seq, bool) or seq < 0:
        return None

    def text(name: str) -> str:
        value = f.get(name)
        return value if isinstance(value, str) else "?"

    if f.get("event_kind") == "migration_boundary":
        kind, label = "boundary", f"from {text('source_backend')} to {text('target_backend')}"
    elif f.get("event_type") == "erasure_receipt":
        kind, label = "receipt", text("erased_key_id")
    elif f.get("operation") in ("rotate_dek", "destroy_dek"):
        kind = "rotate" if f["operation"] == "rotate_dek" else "destroy"
        label = text("key_id")
        if f.get("outcome", "success") != "success":
            label += f" ({text('outcome')})"
    elif seq == 0:
        kind, label = "genesis", text("timestamp")
    else:
        return None
    return seq, kind, label[:TIMELINE_LABEL_MAX]


def parse_require(text: str | None) -> tuple[str, ...]:
    """``--require`` as a tuple of families; ``all`` means every family, ``none`` none.

    >>> parse_require("anchored, authenticated")
    ('authenticated', 'anchored')
    """
    if text is None or not text.strip() or text.strip() == "none":
        return ()
    names = {n.strip() for n in text.split(",") if n.strip()}
    if "all" in names:
        return FAMILIES
    unknown = sorted(names - set(FAMILIES))
    if unknown:
        raise ValueError(
            f"unknown assurance {', '.join(unknown)}: choose from {', '.join(FAMILIES)}, all, none"
        )
    return tuple(f for f in FAMILIES if f in names)


def _count(result: Result, code: Code) -> int:
    return code_counts(result.findings)[code]


def _authenticated(result: Result, ev: Evidence, erasure: Assurance) -> Assurance:
    envelopes = result.checked.get("envelopes", 0)
    if envelopes == 0:
        return Assurance("authenticated", Level.NOT_APPLICABLE, "no envelope in the data")
    if not ev.keyed:
        why = (
            "the UMK given unwraps none of the keys (UMK_MISMATCH)"
            if ev.umk_fingerprint
            else "no keys given (--umk or --kms-umk-blob)"
        )
        return Assurance(
            "authenticated",
            Level.NOT_PROVEN,
            f"{why}: {envelopes} envelope(s) checked for structure, address binding and "
            "nonce reuse only; none authenticated",
        )
    opened = result.checked.get("decrypted", 0)
    shredded = _count(result, codes.KEY_SHREDDED)
    umk = f" under the UMK with fingerprint {ev.umk_fingerprint}" if ev.umk_fingerprint else ""
    if opened + shredded >= envelopes:
        if not shredded:
            return Assurance(
                "authenticated",
                Level.PROVEN,
                f"all {envelopes} envelope(s) authenticated and decrypted{umk}",
            )
        if erasure.satisfied:
            return Assurance(
                "authenticated",
                Level.PROVEN,
                f"{opened} of {envelopes} envelope(s) authenticated and decrypted{umk}; "
                f"{shredded} under keys whose erasure is proven by a signed receipt",
            )
        # A forged erasure is how a store writer would hide an edited record.
        return Assurance(
            "authenticated",
            Level.PARTIAL,
            f"{opened} of {envelopes} envelope(s) authenticated and decrypted{umk}; "
            f"{shredded} under destroyed keys whose erasure is not proven (see erasure)",
        )
    return Assurance(
        "authenticated",
        Level.PARTIAL if opened else Level.NOT_PROVEN,
        f"{opened} of {envelopes} envelope(s) authenticated{umk}; "
        f"{envelopes - opened - shredded} could not be (see the findings)",
    )


def chain_anchoring(ev: Evidence) -> dict[str, tuple[int, Anchor | None]]:
    """Per chain seen: (events after the anchor, the best anchor or None)."""
    return {cid: (tail, a) for cid, _, tail, a in _anchoring(ev)}


def _anchoring(
    ev: Evidence, *, ordered: bool = False
) -> Iterator[tuple[str, int, int, Anchor | None]]:
    """``(chain id, length, events after its best anchor, that anchor or None)``
    per chain seen, one at a time (the lengths may be on disk: a run's
    memory does not grow with its chains); ``ordered``: by the UTF-8 bytes of
    the chain ids, the order the report lists chains in."""
    best: dict[str, Anchor] = {}
    for a in ev.anchors:
        if a.chain_id not in best or a.count > best[a.chain_id].count:
            best[a.chain_id] = a
    lengths = ev.chain_lengths
    pairs = sorted_by_utf8(lengths) if ordered else lengths.items()
    for cid, n in pairs:
        anchor = best.get(cid)
        yield cid, n, (n if anchor is None else max(0, n - anchor.count)), anchor


def _anchored(result: Result, ev: Evidence) -> Assurance:
    if not ev.chain_lengths:
        return Assurance("anchored", Level.NOT_APPLICABLE, "no hash chain in the data")
    failed = (codes.CHAIN_TRUNCATED, codes.CHAIN_TIP_MISMATCH)
    counts = code_counts(result.findings)
    broken = (  # read only when there is one (the findings may be on disk)
        {f.extra.get("chain_id") for f in result.findings if f.code in failed}
        if any(counts[c] for c in failed)
        else set()
    )
    # An empty chain has nothing to anchor; a failed anchor anchors nothing.
    total = whole = prefix = tails = 0
    used: list[Anchor] = []
    for cid, _, tail, a in _anchoring(ev):
        total += 1
        if a is not None:
            used.append(a)
        if cid in broken:
            continue
        if tail == 0:
            whole += 1
        elif a is not None:
            prefix += 1
            tails += tail
    # A checkpoint file holding an array names each member FILE[i]: name the file.
    origins = sorted({a.origin.split("[", 1)[0] for a in used if a.origin})
    signers = sorted({a.signer[:16] for a in used if a.signer})
    by = ""
    if origins:
        by = f" by {', '.join(origins[:3])}{' ...' if len(origins) > 3 else ''}"
        if signers:
            by += f" (signer {', '.join(signers[:3])})"
    if whole == total:
        return Assurance(
            "anchored", Level.PROVEN, f"all {total} chain(s) anchored to their last event{by}"
        )
    if not whole and not prefix:
        return Assurance(
            "anchored",
            Level.NOT_PROVEN,
            f"none of {total} chain(s) is anchored: no signed checkpoint given for any "
            "(a chain rewritten from genesis or cut at its tail verifies the same)",
        )
    parts = [f"{whole} of {total} chain(s) anchored to their last event{by}"]
    if prefix:
        parts.append(f"{prefix} only up to a checkpoint ({tails} newer event(s) unanchored)")
    rest = total - whole - prefix
    if rest:
        parts.append(f"{rest} not anchored")
    return Assurance("anchored", Level.PARTIAL, "; ".join(parts))


def _committed(result: Result, ev: Evidence) -> Assurance:
    c = result.checked
    names = ("records_committed", "records_committed_unanchored", "records_uncommitted")
    if not any(n in c for n in names):
        if c.get("entities", 0) == 0:
            return Assurance("committed", Level.NOT_APPLICABLE, "no entity record in the data")
        return Assurance(
            "committed",
            Level.NOT_PROVEN,
            "record commitments were not checked: an older, validly sealed version of a "
            "record or an edited cleartext attribute would verify the same",
        )
    ok, loose, none = (c.get(n, 0) for n in names)
    total = ok + loose + none
    if total == 0:
        return Assurance("committed", Level.NOT_APPLICABLE, "no committable record in the data")
    if loose == 0 and none == 0:
        return Assurance(
            "committed",
            Level.PROVEN,
            f"all {total} record(s) match their latest commitment, each anchored (by a signed "
            "checkpoint, manifest, pinned boundary or erasure receipt)",
        )
    level = Level.PARTIAL if ok or loose else Level.NOT_PROVEN
    return Assurance(
        "committed",
        level,
        f"{ok} of {total} record(s) match an anchored commitment; {loose} match a commitment "
        f"newer than the last checkpoint (not anchored); {none} are not committed",
    )


def _complete(result: Result, ev: Evidence, anchored: Assurance, committed: Assurance) -> Assurance:
    if ev.manifest_signer is not None:
        return Assurance(
            "complete",
            Level.PROVEN,
            f"every record checked against a signed manifest (signer {ev.manifest_signer[:16]})",
        )
    if anchored.satisfied and committed.satisfied and anchored.level is Level.PROVEN:
        return Assurance(
            "complete",
            Level.PROVEN,
            "every chain is anchored and every record committed: a removed record or "
            "dialogue would be a finding",
        )
    return Assurance(
        "complete",
        Level.NOT_PROVEN,
        f"rests on {ev.integrity_basis}; a signed manifest (gate post), or anchored chains "
        "with committed records, would prove it",
    )


def _erasure(result: Result, ev: Evidence) -> Assurance:
    c = result.checked
    signed, unproven = c.get("erasures_signed", 0), c.get("erasures_unproven", 0)
    shredded = _count(result, codes.KEY_SHREDDED)
    if "erasures_signed" not in c and "erasures_unproven" not in c:
        if not shredded:
            return Assurance("erasure", Level.NOT_APPLICABLE, "no destroyed key met")
        return Assurance(
            "erasure",
            Level.NOT_PROVEN,
            f"{shredded} envelope(s) under destroyed keys; no destruction receipt was "
            "checked, so the erasure may have been forged by a store writer",
        )
    if signed + unproven == 0:
        return Assurance("erasure", Level.NOT_APPLICABLE, "no destroyed key met")
    if unproven == 0:
        return Assurance(
            "erasure",
            Level.PROVEN,
            f"all {signed} destroyed key(s) carry a receipt signed by a pinned erasure authority",
        )
    return Assurance(
        "erasure",
        Level.PARTIAL if signed else Level.NOT_PROVEN,
        f"{signed} of {signed + unproven} destroyed key(s) carry a signed, pinned receipt",
    )


def assess(result: Result, ev: Evidence) -> dict[str, Assurance]:
    """Every family's standing for ``result`` given the evidence ``ev``, in REP-7 order."""
    anchored = _anchored(result, ev)
    committed = _committed(result, ev)
    erasure = _erasure(result, ev)
    out = {
        "authenticated": _authenticated(result, ev, erasure),
        "anchored": anchored,
        "committed": committed,
        "complete": _complete(result, ev, anchored, committed),
        "erasure": erasure,
    }
    return {f: out[f] for f in FAMILIES}


def unanchored_findings(ev: Evidence, skip: Iterable[str] = ()) -> list[Finding]:
    """One ``CHAIN_UNANCHORED`` notice per chain that no verified anchor covers
    to its end, in the UTF-8 order of the chain ids."""
    skipped = set(skip)
    out: list[Finding] = []
    for cid, n, tail, a in _anchoring(ev, ordered=True):
        if tail == 0 or cid in skipped:
            continue
        if a is None:
            msg = f"no signed checkpoint anchors this chain of {n} event(s)"
        else:
            msg = (
                f"the {a.kind} {a.origin} anchors the first {a.count} event(s); "
                f"the {tail} newer one(s) are not anchored"
            )
        out.append(
            Finding(
                codes.CHAIN_UNANCHORED,
                f"chain:{cid}",
                msg,
                extra={"chain_id": cid, "events": n, "unanchored": tail},
            )
        )
    return out


def policy_findings(assurances: Mapping[str, Assurance], required: Sequence[str]) -> list[Finding]:
    """One ``ASSURANCE_NOT_MET`` (unverified) per required family that is not satisfied."""
    out = []
    for family in required:
        a = assurances[family]
        if not a.satisfied:
            out.append(
                Finding(
                    codes.ASSURANCE_NOT_MET,
                    f"assurance:{family}",
                    f"--require {family}: {a.level.value.replace('_', ' ')}: {a.basis}",
                    expected="proven",
                    actual=a.level.value,
                )
            )
    return out
