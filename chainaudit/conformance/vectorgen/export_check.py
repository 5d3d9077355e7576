"""Checker of the export-format vectors (``chainaudit/export-vector``, EXP-12).

Plugged into :mod:`chainaudit.conformance.check` through ``VECTOR_CHECKERS`` in
:mod:`chainaudit.conformance.vectorgen.export`. A case names an input (relative to the
case file's directory) and either the record count and finding codes a
streaming reader yields, in order, or the line of the input error it raises.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from chainaudit.conformance.check import CaseResult
from chainaudit.errors import InputError
from chainaudit.findings import Finding
from chainaudit.sources.open import open_source

EXPORT_TYPE = "chainaudit/export-vector"
EXPORT_VERSIONS = frozenset({1})


def check_export_case(doc: Mapping[str, Any], path: str) -> list[CaseResult]:
    """Run the reader on the case's input and compare with ``expect``."""
    name = Path(path).stem
    problems: list[str] = []
    if doc.get("version") not in EXPORT_VERSIONS:
        return [CaseResult(name, path, [f"unsupported version {doc.get('version')!r}"])]
    try:
        target = Path(path).parent / str(doc["input"])
        expect = doc["expect"]
        if "error" in expect:
            _check_error(target, expect, problems)
        else:
            _check_outcome(target, expect, problems)
    except (KeyError, TypeError, ValueError) as exc:
        problems.append(f"malformed vector: {type(exc).__name__}: {exc}")
    return [CaseResult(name, path, problems)]


def _check_error(target: Path, expect: Mapping[str, Any], problems: list[str]) -> None:
    try:
        for _ in open_source(str(target)).read():
            pass
    except InputError as exc:
        if not exc.where.endswith(f":{expect['line']}"):
            problems.append(f"input error at {exc.where}, expected line {expect['line']}")
        if str(expect["reason_contains"]) not in exc.message:
            problems.append(f"input error {exc.message!r} lacks {expect['reason_contains']!r}")
        return
    problems.append("no input error raised")


def _check_outcome(target: Path, expect: Mapping[str, Any], problems: list[str]) -> None:
    try:
        out = list(open_source(str(target)).read())
    except InputError as exc:
        problems.append(f"unexpected input error: {exc}")
        return
    codes = [x.code.name for x in out if isinstance(x, Finding)]
    if codes != list(expect["findings"]):
        problems.append(f"findings {codes}, expected {expect['findings']}")
    n = sum(1 for x in out if not isinstance(x, Finding))
    if n != expect["records"]:
        problems.append(f"{n} records, expected {expect['records']}")
