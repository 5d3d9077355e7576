"""Check another implementation's answers against the golden vectors (docs/conformance.md).

An implementation in any language proves it agrees with chainaudit by
writing, for every vector case file under ``vectors/``, an answer file at
the same relative path in its own output directory:

* for a case with expectation members (``expected``, ``expect``, or any
  member whose name starts with ``want``), the answer is a JSON object
  holding exactly those members, with the values the implementation
  computed from the case's inputs;
* for a computation case (none of those members: digests, Merkle roots,
  accumulated tips, KEK derivations), the answer is the whole case object,
  recomputed from its inputs.

Answers are compared as JSON values (member order and formatting are
irrelevant), so the implementation need not reproduce chainaudit's text
layout; a failed case names the JSON path of its first difference
(``$.expected.keyed.findings[0].code``). A family is a case's first path
component (``envelope``, ``keys``, ...; ``findings`` for
``findings.json``). Reports: text (a partial answer set is summarised per
family and directory), JSON and JUnit XML. Pure: reads files, returns
results and text; the CLI prints them.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from collections import Counter
from collections.abc import Collection, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from chainaudit.primitives import strictjson

CASE_TYPE_PREFIX = "chainaudit/"
COMPARISON_TYPE = "chainaudit/vectors-comparison"
#: A partial answer set lists its missing cases one by one up to this many.
MISSING_LISTED = 10
STATUSES = ("passed", "failed", "missing")


class _Absent:
    """A member or element one side does not have (shown as ``<absent>``)."""

    def __repr__(self) -> str:
        return "<absent>"


ABSENT: Any = _Absent()


@dataclass(frozen=True, slots=True)
class Comparison:
    """The verdict on one case: ``passed``, ``failed`` (with the first
    difference: its JSON ``path`` and the ``expected`` and ``actual`` values
    there, :data:`ABSENT` for a side that lacks it) or ``missing`` (no
    answer file)."""

    case: str
    status: str
    detail: str = ""
    path: str | None = None
    expected: Any = None
    actual: Any = None

    @property
    def family(self) -> str:
        return family_of(self.case)


def family_of(rel: str) -> str:
    """A case's family: its first path component, or the file stem at the top."""
    head, sep, _ = rel.partition("/")
    return head if sep else head.removesuffix(".json")


def expectation_members(case: dict[str, Any]) -> list[str]:
    """The members a case's answer must hold (empty for computation cases)."""
    return [k for k in case if k in ("expected", "expect") or k.startswith("want")]


def expected_answer(case: dict[str, Any]) -> dict[str, Any]:
    """What a conforming implementation answers for ``case``."""
    members = expectation_members(case)
    if not members:
        return case
    return {k: case[k] for k in members}


def case_files(root: Path, only: Collection[str] | None = None) -> Iterator[tuple[str, dict[str, Any]]]:
    """Every vector case below ``root`` as (relative path, case); fixtures skipped;
    with ``only``, the cases of those families."""
    for path in sorted(root.rglob("*.json")):
        rel = path.relative_to(root).as_posix()
        if only is not None and family_of(rel) not in only:
            continue
        try:
            doc = strictjson.loads(path.read_bytes(), unique=False)
        except ValueError:
            continue  # a fixture in another format (VEC-1)
        if isinstance(doc, dict) and str(doc.get("type", "")).startswith(CASE_TYPE_PREFIX):
            yield rel, doc


def families(root: Path) -> list[str]:
    """The families of the cases below ``root``, sorted."""
    return sorted({family_of(rel) for rel, _ in case_files(root)})


def compare_tree(
    vectors: Path, answers: Path, only: Collection[str] | None = None
) -> list[Comparison]:
    """Compare every case under ``vectors`` (of the families ``only``) with its
    answer under ``answers``."""
    out: list[Comparison] = []
    for rel, case in case_files(vectors, only):
        answer_path = answers / rel
        if not answer_path.exists():
            out.append(Comparison(rel, "missing"))
            continue
        try:
            got = strictjson.loads(answer_path.read_bytes(), unique=False)
        except ValueError as exc:
            out.append(Comparison(rel, "failed", f"answer is not JSON: {exc}"))
            continue
        want = expected_answer(case)
        out.append(_compare(rel, want, got))
    return out


def first_difference(want: Any, got: Any, path: str = "$") -> tuple[str, Any, Any] | None:
    """The JSON path of the first place ``got`` differs from ``want`` (members in
    code-point order, elements in order), with both values there; None if equal.

    JSON equality: member order is irrelevant, ``true`` is not ``1``, and an
    integer equals the same number written as a decimal (``1`` and ``1.0``).
    """
    if isinstance(want, dict) and isinstance(got, dict):
        for key in sorted(set(want) | set(got)):
            sub = f"{path}.{key}" if key.isidentifier() else f"{path}[{json.dumps(key, ensure_ascii=False)}]"
            found = first_difference(want.get(key, ABSENT), got.get(key, ABSENT), sub)
            if found is not None:
                return found
        return None
    if isinstance(want, list) and isinstance(got, list):
        for i in range(max(len(want), len(got))):
            found = first_difference(
                want[i] if i < len(want) else ABSENT, got[i] if i < len(got) else ABSENT, f"{path}[{i}]"
            )
            if found is not None:
                return found
        return None
    if isinstance(want, bool) != isinstance(got, bool) or (type(want) is not type(got) and not (
        isinstance(want, int | float) and isinstance(got, int | float)
    )):
        return path, want, got
    return None if want == got else (path, want, got)


def _compare(rel: str, want: dict[str, Any], got: Any) -> Comparison:
    if not isinstance(got, dict):
        return Comparison(rel, "failed", "answer is not a JSON object", "$", want, got)
    found = first_difference(want, got)
    if found is None:
        return Comparison(rel, "passed")
    path, expected, actual = found
    if actual is ABSENT:
        detail = f"{path}: answer lacks it (expected {_short(expected)})"
    elif expected is ABSENT:
        detail = f"{path}: unexpected in the answer (got {_short(actual)})"
    else:
        detail = f"{path}: expected {_short(expected)}, got {_short(actual)}"
    return Comparison(rel, "failed", detail, path, expected, actual)


def _short(value: Any, limit: int = 160) -> str:
    text = json.dumps(value, ensure_ascii=False, sort_keys=True)
    # A lone surrogate in an answer cannot be printed as UTF-8: show its escape.
    text = text.encode("utf-8", "backslashreplace").decode("utf-8")
    return text if len(text) <= limit else text[: limit - 3] + "..."


# --- reports ---------------------------------------------------------------------


def counts(results: Sequence[Comparison]) -> dict[str, int]:
    """``passed``, ``failed`` and ``missing`` totals."""
    c = Counter(r.status for r in results)
    return {s: c[s] for s in STATUSES}


def exit_code(results: Sequence[Comparison]) -> int:
    """1 when any case failed; 3 when any answer is missing or nothing was
    compared (partial coverage is never a pass); else 0."""
    c = counts(results)
    if c["failed"]:
        return 1
    return 3 if c["missing"] or not results else 0


def render_text(results: Sequence[Comparison], verbose: bool = False) -> str:
    """Failed cases with their first difference; missing ones listed when few
    (or ``verbose``), else summarised per family and directory; the totals."""
    lines = []
    for r in results:
        if r.status == "failed" or (r.status == "passed" and verbose):
            lines.append(f"{r.status:<7} {r.case}{': ' + r.detail if r.detail else ''}")
    missing = [r for r in results if r.status == "missing"]
    if verbose or len(missing) <= MISSING_LISTED:
        lines += [f"missing {r.case}" for r in missing]
    else:
        lines.append(f"missing {len(missing)} answer file(s) (-v lists them):")
        per_family = Counter(r.family for r in results)
        gone = Counter(r.family for r in missing)
        for fam in sorted(gone):
            dirs = Counter(r.case.rpartition("/")[0] or "." for r in missing if r.family == fam)
            where = ", ".join(f"{d}: {n}" for d, n in sorted(dirs.items()))
            lines.append(f"  {fam}: {gone[fam]} of {per_family[fam]} ({where})")
    c = counts(results)
    lines.append(f"{c['passed']} passed, {c['failed']} failed, {c['missing']} missing")
    return "\n".join(lines) + "\n"


def _families(results: Sequence[Comparison]) -> dict[str, dict[str, int]]:
    out: dict[str, Counter[str]] = {}
    for r in results:
        out.setdefault(r.family, Counter())[r.status] += 1
    return {f: {s: c[s] for s in STATUSES} for f, c in sorted(out.items())}


def _jsonable(value: Any) -> Any:
    return None if value is ABSENT else value


def report_json(
    results: Sequence[Comparison], *, vectors: str, only: Sequence[str] = (), tool: str = ""
) -> dict[str, Any]:
    """The comparison as a JSON object (docs/conformance.md CONF-1)."""
    cases = []
    for r in results:
        case: dict[str, Any] = {"case": r.case, "family": r.family, "status": r.status}
        if r.status == "failed":
            case.update(
                path=r.path,
                detail=r.detail,
                expected=_jsonable(r.expected),
                actual=_jsonable(r.actual),
                expected_absent=r.expected is ABSENT,
                actual_absent=r.actual is ABSENT,
            )
        cases.append(case)
    return {
        "type": COMPARISON_TYPE,
        "version": 1,
        "tool": tool,
        "vectors": vectors,
        "only": list(only),
        "exit_code": exit_code(results),
        "summary": counts(results),
        "families": _families(results),
        "cases": cases,
    }


def render_json(
    results: Sequence[Comparison], *, vectors: str, only: Sequence[str] = (), tool: str = ""
) -> str:
    obj = report_json(results, vectors=vectors, only=only, tool=tool)
    text = json.dumps(obj, ensure_ascii=False, indent=2, default=repr)
    return text.encode("utf-8", "backslashreplace").decode("utf-8") + "\n"


def render_junit(results: Sequence[Comparison], *, vectors: str) -> str:
    """JUnit XML: a test suite per family, a test case per vector case; a failed
    case is a ``<failure>`` naming its first difference, a missing answer an
    ``<error>`` (could not be checked, as REP-4 reports unverified checks)."""
    c = counts(results)
    root = ET.Element(
        "testsuites",
        {
            "name": f"chainaudit vectors compare {vectors}",
            "tests": str(len(results)),
            "failures": str(c["failed"]),
            "errors": str(c["missing"]),
        },
    )
    for fam, fc in _families(results).items():
        suite = ET.SubElement(
            root,
            "testsuite",
            {
                "name": fam,
                "tests": str(sum(fc.values())),
                "failures": str(fc["failed"]),
                "errors": str(fc["missing"]),
            },
        )
        for r in results:
            if r.family != fam:
                continue
            case = ET.SubElement(suite, "testcase", {"classname": f"vectors.{fam}", "name": r.case})
            if r.status == "failed":
                ET.SubElement(case, "failure", {"type": "MISMATCH", "message": r.detail}).text = (
                    f"first difference at {r.path}" if r.path else r.detail
                )
            elif r.status == "missing":
                ET.SubElement(case, "error", {"type": "MISSING", "message": "no answer file"})
    ET.indent(root)
    body = ET.tostring(root, encoding="unicode")
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + body + "\n"


def write_reference_answers(vectors: Path, out: Path) -> int:
    """Write chainaudit's own answers (the expected ones) under ``out``: a
    template for implementers and the self-test of :func:`compare_tree`."""
    n = 0
    for rel, case in case_files(vectors):
        target = out / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(
            json.dumps(expected_answer(case), ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
        )
        n += 1
    return n
