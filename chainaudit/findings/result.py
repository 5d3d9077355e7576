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

    def __str__(self) -> str:
        s = f"{self.code.name} at {self.where}: {self.message}"
        if self.expected is not None or self.actual is not None:
            s += f" (expected {self.expected}, got {self.actual})"
        return s


@dataclass
class Result:
    """Findings plus what was covered. ``ok`` is true only when something was
    checked and no finding is an error or left something unverified."""

    findings: list[Finding] = field(default_factory=list)
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

    @property
    def ok(self) -> bool:
        return sum(self.checked.values()) > 0 and not self.errors and not self.unverified

    def __bool__(self) -> bool:
        return self.ok

    def codes(self) -> list[str]:
        """The code names of all findings, in order."""
        return [f.code.name for f in self.findings]
