"""Findings as data: one registry of codes, and the result objects verifiers return.

A verifier never raises for bad data. It returns :class:`Finding` objects,
each carrying a code from :mod:`chainaudit.findings.codes`, where it happened (an
entity address, a chain position, a file and line), the expected and actual
values when there are any, and the spec section that the data breaks.
Exceptions (:class:`chainaudit.errors.ChainauditError`) are for misuse and
I/O only.

Values placed in ``expected``/``actual`` must never be key material or
decrypted payloads: they are printed in reports.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator, MutableMapping
from dataclasses import dataclass, field
from typing import Any

from chainaudit.findings.codes import Code, Severity
from chainaudit.spilllist import SpillList
from chainaudit.spillmap import JSON, SpillMap


@dataclass(frozen=True, slots=True)
class Finding:
    """One fact a verifier established about the data.

    ``where`` is the most precise location known: an entity address
    (``dialogue:…``), a chain position (``chain:ID@N``), a key id, or a
    ``file:line``. ``source`` names the physical origin (file and line,
    table and key) when the record came from a store.
    """

    code: Code
    where: str
    message: str
    expected: str | None = None
    actual: str | None = None
    source: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def severity(self) -> Severity:
        return self.code.severity

    def to_json(self) -> dict[str, Any]:
        """The finding as a JSON object (report schema, docs/report.md)."""
        out: dict[str, Any] = {
            "code": self.code.name,
            "severity": self.code.severity.value,
            "where": self.where,
            "message": self.message,
            "spec": self.code.spec,
        }
        if self.expected is not None:
            out["expected"] = self.expected
        if self.actual is not None:
            out["actual"] = self.actual
        if self.source is not None:
            out["source"] = self.source
        if self.extra:
            out["extra"] = self.extra
        return out

    def __reduce__(self) -> tuple[Any, ...]:
        """Pickled as its constructor's arguments: a finding in a spill file or
        a worker's result loads several times faster than through the
        dataclass's own state (its code by name, :meth:`Code.__reduce__`)."""
        return (
            Finding,
            (self.code, self.where, self.message, self.expected, self.actual, self.source, self.extra),
        )

    def __str__(self) -> str:
        s = f"{self.code.name} at {self.where}: {self.message}"
        if self.expected is not None or self.actual is not None:
            s += f" (expected {self.expected}, got {self.actual})"
        return s


class FindingList(SpillList[Finding]):
    """The findings of a result: a :class:`~chainaudit.spilllist.SpillList`
    that also counts its findings by code name as they are added, so the
    verdict and the report's tallies need no pass over findings that may be
    on disk (:func:`code_counts`)."""

    def __init__(self, items: Iterable[Finding] = (), **options: Any) -> None:
        self.counts: Counter[Code] = Counter()
        super().__init__(items, **options)

    def append(self, item: Finding) -> None:
        self.counts[item.code] += 1
        super().append(item)

    def extend(self, items: Iterable[Finding]) -> None:
        if isinstance(items, FindingList) and items is not self:
            self.counts.update(items.counts)  # its findings may be copied undecoded
            super().extend(items)
            return
        if isinstance(items, list):
            self.counts.update(f.code for f in items)
            super().extend(items)
            return
        for item in items:
            self.append(item)

    def __setitem__(self, index: int, item: Finding) -> None:
        old = self[index]
        super().__setitem__(index, item)
        self.counts[old.code] -= 1
        self.counts[item.code] += 1
        self.counts += Counter()  # drop a code whose count fell to zero


def code_counts(findings: Iterable[Finding]) -> Counter[Code]:
    """How many findings of each code (a :class:`FindingList` knows without
    reading its findings; any other iterable is counted)."""
    if isinstance(findings, FindingList):
        return Counter(findings.counts)
    return Counter(f.code for f in findings)


@dataclass
class Result:
    """Findings plus what was covered. ``ok`` is true only when something was
    checked and no finding is an error or left something unverified."""

    #: In order found; a list that moves to a private temporary file past a
    #: limit (:mod:`chainaudit.spilllist`), so a run that finds something in
    #: every one of millions of records still ends, and reports, in bounded memory.
    findings: FindingList = field(default_factory=FindingList)
    checked: Counter[str] = field(default_factory=Counter)
    #: Final length of every chain a chain verification saw (REP-7 anchoring);
    #: on disk past a limit (:mod:`chainaudit.spillmap`), so memory stays flat.
    chain_lengths: MutableMapping[str, int] = field(default_factory=lambda: SpillMap(JSON))

    def add(self, finding: Finding) -> None:
        self.findings.append(finding)

    def extend(self, findings: Iterable[Finding]) -> None:
        self.findings.extend(findings)

    def merge(self, other: Result) -> None:
        """Fold another result in (used to combine per-chain worker results)."""
        self.findings.extend(other.findings)
        self.checked.update(other.checked)
        self.chain_lengths.update(other.chain_lengths.items())

    def __iter__(self) -> Iterator[Finding]:
        return iter(self.findings)

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.findings if f.severity is Severity.ERROR]

    @property
    def unverified(self) -> list[Finding]:
        return [f for f in self.findings if f.severity is Severity.UNVERIFIED]

    def severities(self) -> Counter[Severity]:
        """How many findings of each severity (from :func:`code_counts`)."""
        out: Counter[Severity] = Counter()
        for code, n in code_counts(self.findings).items():
            out[code.severity] += n
        return out

    @property
    def ok(self) -> bool:
        """Something checked, and no finding an error or unverified (without
        building the lists :attr:`errors` and :attr:`unverified`)."""
        if sum(self.checked.values()) == 0:
            return False
        counts = self.severities()
        return not counts[Severity.ERROR] and not counts[Severity.UNVERIFIED]

    def __bool__(self) -> bool:
        return self.ok

    def codes(self) -> list[str]:
        """The code names of all findings, in order."""
        return [f.code.name for f in self.findings]
