"""Render ``docs/findings.md`` from the finding-code registry.

The registry in :mod:`chainaudit.codes` is the single source of truth; the
document is generated so it can never drift from it
(``tests/test_vectors.py`` compares the committed file with the rendering).

Usage: ``python -m chainaudit.vectorgen.findings_doc docs/findings.md``
(or without an argument to print it).
"""

from __future__ import annotations

import sys
from pathlib import Path

from chainaudit.findings import Code, Severity, registry

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


def _row(code: Code) -> str:
    return (
        f"| `{code.name}` | {code.severity.value} | {_spec_link(code.spec)} "
        f"| {_cell(code.summary)} | {_cell(code.advice)} |"
    )


def render() -> str:
    """The full text of docs/findings.md for the current registry."""
    codes = registry()
    lines = [
        "# Finding codes",
        "",
        "<!-- Generated from chainaudit/codes.py by "
        "`python -m chainaudit.vectorgen.findings_doc docs/findings.md`. Do not edit. -->",
        "",
        "Every check in chainaudit reports a finding with one of these codes. Names are",
        "stable across releases: reports, JUnit output and the golden vectors refer to",
        "them. Each finding also carries where it happened, the expected and actual",
        "values when there are any, and the spec section it enforces.",
        "",
        "Severities:",
        "",
    ]
    lines += [f"- `{s.value}`: {_SEVERITY_TEXT[s]}." for s in Severity]
    lines += [
        "",
        f"{len(codes)} codes, in registry order (grouped by the document that owns them):",
        "",
        "| code | severity | spec | meaning | what to do |",
        "|---|---|---|---|---|",
    ]
    lines += [_row(c) for c in codes.values()]
    return "\n".join(lines) + "\n"


def write(path: Path) -> Path:
    """Write the rendering to ``path`` (UTF-8, LF line endings)."""
    path.write_bytes(render().encode("utf-8"))
    return path


def main(argv: list[str]) -> int:
    if not argv:
        sys.stdout.write(render())
        return 0
    if len(argv) != 1:
        print("usage: python -m chainaudit.vectorgen.findings_doc [OUT.md]", file=sys.stderr)
        return 2
    write(Path(argv[0]))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
