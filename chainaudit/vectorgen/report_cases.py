"""Report vectors (``vectors/report/``, REP-5): fixed results rendered three ways.

Each case file holds the input (summary, checked counters, findings as
:meth:`Finding.to_json`), the expected exit code and verdict, and the exact
JSON report, text report and JUnit XML this implementation renders.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from chainaudit import codes
from chainaudit.findings import Finding, Result
from chainaudit.report import (
    Summary,
    exit_code_for,
    render_junit,
    render_text,
    report_json,
    verdict_for,
)
from chainaudit.vectorgen import write_json

#: JUnit test cases rendered in vectors: an explicit list, so that codes
#: registered later do not change the committed files.
APPLICABLE = (
    "MANIFEST_RECORD_MISSING",
    "MANIFEST_RECORD_CHANGED",
    "MANIFEST_ROOT_MISMATCH",
    "MANIFEST_SIGNER_UNTRUSTED",
    "MANIFEST_CHAIN_BRIDGED",
)
SUMMARY = Summary("gate post", "postgresql://db/blue", "2026-01-03T00:00:00.000Z")


def _result(checked: dict[str, int], findings: list[Finding]) -> Result:
    r = Result()
    r.checked.update(checked)
    r.extend(findings)
    return r


def cases() -> dict[str, tuple[str, Result]]:
    """Name -> (description, result)."""
    checked = {"records": 20, "dialogues": 2, "chains": 3, "keys": 2}
    missing = Finding(
        codes.MANIFEST_RECORD_MISSING,
        "dialogue:d-1/entity:perspective/01#01",
        "listed in the manifest, absent from target",
        expected="8f" * 32,
        source="manifest",
    )
    changed = Finding(
        codes.MANIFEST_RECORD_CHANGED,
        "dialogue:d-1/entity:expert/ada",
        "the record in target differs from the one the manifest lists",
        expected="aa" * 32,
        actual="bb" * 32,
        source="postgresql://db/blue dialogue_items(d-1, expert, ada)",
    )
    root = Finding(
        codes.MANIFEST_ROOT_MISMATCH,
        "merkle",
        "the target's records do not hash to the manifest's Merkle root",
        expected="20 leaves, root " + "10" * 32,
        actual="19 leaves, root " + "20" * 32,
    )
    untrusted = Finding(
        codes.MANIFEST_SIGNER_UNTRUSTED,
        "manifest",
        "the signer's key is not pinned",
        actual="ed" * 32,
    )
    bridged = Finding(
        codes.MANIFEST_CHAIN_BRIDGED,
        "chain:crypto@4",
        "continues through a boundary event naming the manifest's tip (3 new event(s))",
        expected="count=4 tip=" + "ce" * 32,
        actual="count=4 tip=" + "ce" * 32,
        source="audit:crypto/01890a5d-ac96-7384-8000-000000000384",
        extra={"chain_id": "crypto", "appended": 3},
    )
    # 21 notices reported before one unverified finding and one error: the
    # text report's first 20 findings put the error and the unverified first
    # (REP-2 item 4), and its header says "First 20 of 23".
    many_notices = [
        Finding(
            codes.MANIFEST_CHAIN_BRIDGED,
            f"chain:c{i:02d}@1",
            "continues through a boundary event naming the manifest's tip (1 new event(s))",
            source=f"audit:c{i:02d}/e1",
            extra={"chain_id": f"c{i:02d}", "appended": 1},
        )
        for i in range(21)
    ]
    return {
        "ok": ("records checked, no findings: exit 0", _result(checked, [])),
        "nothing-checked": ("zero records checked is never 0: exit 3", _result({"records": 0}, [])),
        "notice-only": ("a notice does not fail a run: exit 0", _result(checked, [bridged])),
        "unverified-only": (
            "an unpinned signer leaves the run unverified: exit 3",
            _result(checked, [untrusted, bridged]),
        ),
        "findings": (
            "errors dominate: exit 1",
            _result(checked, [missing, changed, root, untrusted, bridged]),
        ),
        "severity-order": (
            "reported notices first: the text lists errors, then unverified, then notices, "
            "and shows the first 20 of 23",
            _result(checked, [*many_notices, untrusted, missing]),
        ),
    }


def generate(out_dir: Path) -> list[Path]:
    """Write one file per case under ``out_dir`` (the ``report`` directory)."""
    written = []
    for name, (desc, result) in cases().items():
        obj: dict[str, Any] = {
            "type": "chainaudit/report-vector",
            "version": 1,
            "desc": desc,
            "summary": {
                "command": SUMMARY.command,
                "subject": SUMMARY.subject,
                "generated_at": SUMMARY.generated_at,
            },
            "checked": dict(sorted(result.checked.items())),
            "findings": [f.to_json() for f in result],
            "junit_applicable": list(APPLICABLE),
            "want_exit_code": exit_code_for(result),
            "want_verdict": verdict_for(result),
            "want_json": report_json(result, SUMMARY),
            "want_text": render_text(result, SUMMARY),
            "want_junit": render_junit(result, SUMMARY, APPLICABLE),
        }
        written.append(write_json(out_dir / f"{name}.json", obj))
    return written
