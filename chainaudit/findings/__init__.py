"""Findings as data: the registry of codes, the result objects verifiers return,
and the threat each code catches.

- :mod:`chainaudit.findings.codes`: every finding code, its severity, spec
  section and advice (the one registry; names are stable).
- :mod:`chainaudit.findings.result`: :class:`Finding` and :class:`Result`.
- :mod:`chainaudit.findings.threats`: which attacker each code catches
  (docs/threat-model.md).

The names below are re-exported so that ``from chainaudit.findings import
Finding, Result`` reads as it always did.
"""

from chainaudit.findings.codes import Code, Severity, lookup, register, registry
from chainaudit.findings.result import Finding, Result

__all__ = ["Code", "Finding", "Result", "Severity", "lookup", "register", "registry"]
