"""Assertions for tests of a writer: its records verify clean; a tampering is detected.

Both run :func:`chainaudit.verify` (the whole ``chainaudit verify``) with the
evidence given (``umk`` or ``deks`` for a keyed run, ``trusted_keys``,
``checkpoints``), and fail with an ``AssertionError`` whose message lists the
findings, one per line, code first: a failing property test names the fault.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from chainaudit.findings import Finding, Result, Severity
from chainaudit.keys.dekmap import DekMap
from chainaudit.keys.signing import TrustStore
from chainaudit.keys.umk import Umk
from chainaudit.records.model import Record
from chainaudit.testing.mutators import Mutation

#: Findings at most this many are listed in a failure message.
SHOWN = 20


def describe(findings: Iterable[Finding], limit: int = SHOWN) -> str:
    """Findings as text, one per line (``CODE at WHERE: message``), errors first."""
    rank = {Severity.ERROR: 0, Severity.UNVERIFIED: 1, Severity.NOTICE: 2}
    ordered = sorted(findings, key=lambda f: rank[f.severity])
    lines = [f"  {f.code.severity.value:<10} {f}" for f in ordered[:limit]]
    if len(ordered) > limit:
        lines.append(f"  ... and {len(ordered) - limit} more")
    return "\n".join(lines) if lines else "  (no finding)"


def _verify(
    records: Iterable[Record],
    umk: Umk | None,
    deks: DekMap | Mapping[str, bytes] | None,
    trusted_keys: TrustStore | Iterable[bytes],
    checkpoints: Iterable[Mapping[str, Any]],
    require: str | Sequence[str],
) -> Result:
    from chainaudit.api import verify

    return verify(
        list(records),
        umk=umk,
        deks=deks,
        trusted_keys=trusted_keys,
        checkpoints=checkpoints,
        require=require,
    )


#: The notices a conformant writer's data may carry: they describe its state
#: (a lawfully erased key, no audit log in the source, a chain no checkpoint
#: covers), not a fault. ``PAYLOAD_NOT_CANONICAL`` is a notice to a reader
#: but a writer's fault (ENV-8), so it is not here.
STATE_NOTICES = frozenset({"KEY_SHREDDED", "KEY_HISTORY_UNCHECKED", "CHAIN_UNANCHORED"})


def assert_verifies_clean(
    records: Iterable[Record],
    *,
    umk: Umk | None = None,
    deks: DekMap | Mapping[str, bytes] | None = None,
    trusted_keys: TrustStore | Iterable[bytes] = (),
    checkpoints: Iterable[Mapping[str, Any]] = (),
    require: str | Sequence[str] = (),
    allow: Iterable[str] = STATE_NOTICES,
) -> Result:
    """Verify ``records`` and fail unless something was checked and every
    finding's code is in ``allow`` (default :data:`STATE_NOTICES`: then the
    run exits 0 and the writer made no mistake a reader would tolerate,
    such as a non-canonical payload). ``require`` adds assurance families
    that must be proven (REP-7). Returns the result."""
    __tracebackhide__ = True
    result = _verify(records, umk, deks, trusted_keys, checkpoints, require)
    allowed = set(allow)
    bad = [f for f in result.findings if f.code.name not in allowed]
    checked = result.checked.get("records", 0)
    if bad or not checked:
        what = "nothing was checked" if not checked else f"{len(bad)} finding(s)"
        raise AssertionError(
            f"the records do not verify clean: {what}\n{describe(bad or result.findings)}"
        )
    return result


def assert_detects(
    records: Iterable[Record],
    code: str,
    where: str | None = None,
    *,
    umk: Umk | None = None,
    deks: DekMap | Mapping[str, bytes] | None = None,
    trusted_keys: TrustStore | Iterable[bytes] = (),
    checkpoints: Iterable[Mapping[str, Any]] = (),
    require: str | Sequence[str] = (),
) -> Result:
    """Verify ``records`` and fail unless a finding ``code`` is reported at
    ``where`` (any location when None), and the run does not exit 0.
    Returns the result."""
    __tracebackhide__ = True
    result = _verify(records, umk, deks, trusted_keys, checkpoints, require)
    hits = [f for f in result.findings if f.code.name == code and (where is None or f.where == where)]
    at = f" at {where}" if where is not None else ""
    if not hits:
        raise AssertionError(f"{code}{at} was not reported; the findings:\n{describe(result)}")
    if result.ok:
        raise AssertionError(f"{code}{at} was reported, but the run passes (exit 0)")
    return result


def assert_mutation_detected(
    mutation: Mutation,
    *,
    umk: Umk | None = None,
    deks: DekMap | Mapping[str, bytes] | None = None,
    trusted_keys: TrustStore | Iterable[bytes] = (),
    checkpoints: Iterable[Mapping[str, Any]] = (),
) -> Result:
    """:func:`assert_detects` of a mutator's :class:`Mutation` (its records, code
    and location), with the message naming the attack."""
    __tracebackhide__ = True
    try:
        return assert_detects(
            mutation.records,
            mutation.code,
            mutation.where,
            umk=umk,
            deks=deks,
            trusted_keys=trusted_keys,
            checkpoints=checkpoints,
        )
    except AssertionError as exc:
        raise AssertionError(f"{mutation.name} ({mutation.description}): {exc}") from None


__all__ = [
    "STATE_NOTICES",
    "assert_detects",
    "assert_mutation_detected",
    "assert_verifies_clean",
    "describe",
]
