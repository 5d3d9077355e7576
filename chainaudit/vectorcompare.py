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
layout. Pure: reads files, returns results; the CLI prints them.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from chainaudit import strictjson

CASE_TYPE_PREFIX = "chainaudit/"


@dataclass(frozen=True, slots=True)
class Comparison:
    """The verdict on one case: ``passed``, ``failed`` (with the first
    differing member) or ``missing`` (no answer file)."""

    case: str
    status: str
    detail: str = ""


def expectation_members(case: dict[str, Any]) -> list[str]:
    """The members a case's answer must hold (empty for computation cases)."""
    return [k for k in case if k in ("expected", "expect") or k.startswith("want")]


def expected_answer(case: dict[str, Any]) -> dict[str, Any]:
    """What a conforming implementation answers for ``case``."""
    members = expectation_members(case)
    if not members:
        return case
    return {k: case[k] for k in members}


def case_files(root: Path) -> Iterator[tuple[str, dict[str, Any]]]:
    """Every vector case below ``root`` as (relative path, case); fixtures skipped."""
    for path in sorted(root.rglob("*.json")):
        try:
            doc = strictjson.loads(path.read_bytes(), unique=False)
        except ValueError:
            continue  # a fixture in another format (VEC-1)
        if isinstance(doc, dict) and str(doc.get("type", "")).startswith(CASE_TYPE_PREFIX):
            yield path.relative_to(root).as_posix(), doc


def compare_tree(vectors: Path, answers: Path) -> list[Comparison]:
    """Compare every case under ``vectors`` with its answer under ``answers``."""
    out: list[Comparison] = []
    for rel, case in case_files(vectors):
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


def _compare(rel: str, want: dict[str, Any], got: Any) -> Comparison:
    if not isinstance(got, dict):
        return Comparison(rel, "failed", "answer is not a JSON object")
    for key in sorted(set(want) | set(got)):
        if key not in got:
            return Comparison(rel, "failed", f"answer lacks member {key!r}")
        if key not in want:
            return Comparison(rel, "failed", f"answer has unexpected member {key!r}")
        if want[key] != got[key]:
            return Comparison(
                rel, "failed", f"{key}: expected {_short(want[key])}, got {_short(got[key])}"
            )
    return Comparison(rel, "passed")


def _short(value: Any, limit: int = 160) -> str:
    text = json.dumps(value, ensure_ascii=False, sort_keys=True)
    # A lone surrogate in an answer cannot be printed as UTF-8: show its escape.
    text = text.encode("utf-8", "backslashreplace").decode("utf-8")
    return text if len(text) <= limit else text[: limit - 3] + "..."


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
