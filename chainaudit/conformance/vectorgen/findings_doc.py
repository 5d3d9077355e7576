"""Render the finding-code registry: ``docs/findings.md`` and ``vectors/findings.json``.

The registry in :mod:`chainaudit.findings.codes` is the single source of truth; the
document and the machine-readable vector are generated so they can never
drift from it (``tests/test_vectors.py`` compares the committed document
with the rendering, and the vector regeneration test the JSON file).

``vectors/findings.json`` (type ``chainaudit/findings-registry``, REP-6) is
what another implementation reads instead of parsing the Markdown table:
every code with its severity, spec section, summary and advice, in registry
order. ``chainaudit vectors verify`` checks that this build registers
exactly those codes with those values.

Usage: ``python -m chainaudit.conformance.vectorgen.findings_doc docs/findings.md``
(or without an argument to print it); ``python -m chainaudit.conformance.vectorgen
vectors`` writes the JSON file with the other vectors.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from chainaudit.conformance.check import CaseResult
from chainaudit.conformance.vectorgen import write_json
from chainaudit.findings import Code, Severity, registry
from chainaudit.findings.threats import attackers_of, section_of
from chainaudit.outfile import write_output

#: REP-6: the vector type of ``vectors/findings.json``.
REGISTRY_TYPE = "chainaudit/findings-registry"
REGISTRY_VERSION = 1

#: Spec tag prefix -> document (docs/README.md).
SPEC_DOCS = {
    "ADDR": "address.md",
    "ENV": "envelope.md",
    "KEY": "keys.md",
    "MODEL": "model.md",
    "CHAIN": "chain.md",
    "EXP": "export.md",
    "STORE": "stores.md",
    "VEC": "vectors.md",
    "CLI": "cli.md",
    "MAN": "manifest.md",
    "MIG": "migration.md",
    "REP": "report.md",
    "COMMIT": "commitments.md",
}

_SEVERITY_TEXT = {
    Severity.ERROR: "integrity is broken; the run fails (exit 1)",
    Severity.UNVERIFIED: "something could not be checked, e.g. a missing key (exit 3)",
    Severity.NOTICE: "recorded state that is not a fault, e.g. a crypto-shredded record; "
    "does not fail a run",
}


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _spec_link(spec: str) -> str:
    prefix = spec.split("-", 1)[0]
    doc = SPEC_DOCS.get(prefix)
    return f"[{spec}]({doc})" if doc else spec


def _threat(code: Code) -> str:
    anchor = section_of(code)
    if anchor is None:
        return "—"
    who = ", ".join(attackers_of(code))
    return f"[{anchor}](threat-model.md#{anchor}) ({who})"


def _row(code: Code) -> str:
    return (
        f"| `{code.name}` | {code.severity.value} | {_spec_link(code.spec)} "
        f"| {_cell(code.summary)} | {_cell(code.advice)} | {_threat(code)} |"
    )


def render() -> str:
    """The full text of docs/findings.md for the current registry."""
    codes = registry()
    lines = [
        "# Finding codes",
        "",
        "<!-- Generated from chainaudit/findings/codes.py by "
        "`python -m chainaudit.conformance.vectorgen.findings_doc docs/findings.md`. Do not edit. -->",
        "",
        "Every check in chainaudit reports a finding with one of these codes. Names are",
        "stable across releases: reports, JUnit output and the golden vectors refer to",
        "them. Each finding also carries where it happened, the expected and actual",
        "values when there are any, and the spec section it enforces.",
        "The same registry, machine-readable: `vectors/findings.json` (REP-6).",
        "The last column links the section of [threat-model.md](threat-model.md) that says",
        "which attacker the code catches.",
        "",
        "Severities:",
        "",
    ]
    lines += [f"- `{s.value}`: {_SEVERITY_TEXT[s]}." for s in Severity]
    lines += [
        "",
        f"{len(codes)} codes, in registry order (grouped by the document that owns them):",
        "",
        "| code | severity | spec | meaning | what to do | threat (attackers) |",
        "|---|---|---|---|---|---|",
    ]
    lines += [_row(c) for c in codes.values()]
    return "\n".join(lines) + "\n"


def registry_json() -> dict[str, Any]:
    """The registry as the ``vectors/findings.json`` document (REP-6)."""
    return {
        "type": REGISTRY_TYPE,
        "version": REGISTRY_VERSION,
        "desc": "every finding code: name, severity, spec section, summary, advice",
        "severities": [s.value for s in Severity],
        "codes": [
            {
                "name": c.name,
                "severity": c.severity.value,
                "spec": c.spec,
                "summary": c.summary,
                "advice": c.advice,
            }
            for c in registry().values()
        ],
    }


def generate(out_dir: Path) -> list[Path]:
    """Write ``out_dir / "findings.json"`` (a vector generator, VEC)."""
    return [write_json(out_dir / "findings.json", registry_json())]


def check_registry(doc: Mapping[str, Any], path: str) -> list[CaseResult]:
    """Every code of the file is registered here with the same values, and no other."""
    problems: list[str] = []
    if doc.get("version") != REGISTRY_VERSION:
        return [CaseResult("findings", path, [f"unsupported version {doc.get('version')!r}"])]
    mine = registry_json()["codes"]
    theirs = doc.get("codes")
    if not isinstance(theirs, list):
        return [CaseResult("findings", path, ["malformed vector: codes must be a list"])]
    by_name = {c["name"]: c for c in mine}
    listed = {c.get("name") for c in theirs if isinstance(c, dict)}
    for c in theirs:
        want = by_name.get(c.get("name")) if isinstance(c, dict) else None
        if want is None:
            problems.append(f"code {c!r} is not registered")
        elif want != c:
            problems.append(f"code {want['name']} differs from the registry")
    problems += [f"code {n} is registered but not listed" for n in by_name if n not in listed]
    return [CaseResult("findings", path, problems)]


#: Plug-in for :mod:`chainaudit.conformance.check`.
VECTOR_CHECKERS = {REGISTRY_TYPE: check_registry}


def write(path: Path) -> Path:
    """Write the rendering to ``path`` (UTF-8, LF line endings)."""
    write_output(path, render().encode("utf-8"), "the findings page")
    return path


def main(argv: list[str]) -> int:
    if not argv:
        sys.stdout.write(render())
        return 0
    if len(argv) != 1:
        print("usage: python -m chainaudit.conformance.vectorgen.findings_doc [OUT.md]", file=sys.stderr)
        return 2
    write(Path(argv[0]))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
