"""Report vectors (``vectors/report/``, REP-5): fixed results rendered three ways.

Each case file holds the input (summary, checked counters, findings as
:meth:`Finding.to_json`), the expected exit code and verdict, and the exact
JSON report, text report and JUnit XML this implementation renders.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from chainaudit.conformance.vectorgen import write_json
from chainaudit.findings import Finding, Result, codes
from chainaudit.report.assurance import Assurance, Level
from chainaudit.report.render import (
    Summary,
    render_junit,
    render_text,
    report_exit_code,
    report_json,
    summary_to_json,
)

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


#: REP-7 cases: a keyless verify of an export, as the CLI states it.
VERIFY = Summary("verify", "ndjson:export.ndjson", "2026-01-03T00:00:00.000Z")
_KEYLESS = {
    "authenticated": Assurance(
        "authenticated",
        Level.NOT_PROVEN,
        "no keys given (--umk or --kms-umk-blob): 6 envelope(s) checked for structure, "
        "address binding and nonce reuse only; none authenticated",
    ),
    "anchored": Assurance(
        "anchored",
        Level.PARTIAL,
        "1 of 2 chain(s) anchored to their last event by checkpoint.json (signer "
        "7fd2475867b9aa16); 1 not anchored",
    ),
    "committed": Assurance(
        "committed",
        Level.NOT_PROVEN,
        "record commitments were not checked: an older, validly sealed version of a record "
        "or an edited cleartext attribute would verify the same",
    ),
    "complete": Assurance(
        "complete",
        Level.NOT_PROVEN,
        "rests on the export's trailer (counts and a digest of every line), which is not "
        "signed: whoever rewrote the file could recompute it",
    ),
    "erasure": Assurance("erasure", Level.NOT_APPLICABLE, "no destroyed key met"),
}
#: The JUnit plan of a keyless verify of an export with a checkpoint (REP-4):
#: the keyed checks are skipped with their reason, the rest ran.
KEYLESS_PLAN: dict[str, str | None] = {
    "AAD_HASH_MISMATCH": None,
    "AUTHENTICATION_FAILED": "no keys given (--umk or --kms-umk-blob): envelopes were not "
    "authenticated",
    "CHAIN_LINK_BROKEN": None,
    "CHAIN_TRUNCATED": None,
    "CHAIN_UNANCHORED": None,
    "EXPORT_DIGEST_MISMATCH": None,
    "NONCE_REUSE": None,
    "WRONG_KEY_VERSION": "no keys given (--umk or --kms-umk-blob): envelopes were not "
    "authenticated",
}


def summaries() -> dict[str, Summary]:
    """Name -> the summary a case is rendered with (REP-7 cases differ)."""
    out = dict.fromkeys(cases(), SUMMARY)
    keyless = Summary(VERIFY.command, VERIFY.subject, VERIFY.generated_at, mode="keyless",
                      assurance=_KEYLESS)  # fmt: skip
    out["assurance-keyless"] = keyless
    out["assurance-required"] = Summary(
        VERIFY.command,
        VERIFY.subject,
        VERIFY.generated_at,
        mode="keyless",
        assurance=_KEYLESS,
        required=("authenticated", "anchored", "erasure"),
    )
    out["error-store"] = Summary(
        VERIFY.command,
        "dynamodb://blue_dialogues",
        VERIFY.generated_at,
        error="dynamodb://blue_dialogues: read timed out after 20 s (--read-timeout)",
        error_exit=3,
    )
    out["error-input"] = Summary(
        VERIFY.command,
        "ndjson:export.ndjson",
        VERIFY.generated_at,
        error="export.ndjson:7: a record line is an object with exactly 'kind' and 'item'",
        error_exit=2,
    )
    return out


def plans() -> dict[str, dict[str, str | None]]:
    """Name -> the JUnit plan of a case."""
    out: dict[str, dict[str, str | None]] = {n: dict.fromkeys(APPLICABLE) for n in cases()}
    out["assurance-keyless"] = dict(KEYLESS_PLAN)
    out["assurance-required"] = dict(KEYLESS_PLAN)
    out["error-store"] = {}
    out["error-input"] = {}
    return out


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
    vchecked = {"records": 24, "dialogues": 1, "chains": 2, "keys": 1, "envelopes": 6}
    unanchored = Finding(
        codes.CHAIN_UNANCHORED,
        "chain:dialogue:d-1/events",
        "no signed checkpoint anchors this chain of 9 event(s)",
        extra={"chain_id": "dialogue:d-1/events", "events": 9, "unanchored": 9},
    )
    not_met = [
        Finding(
            codes.ASSURANCE_NOT_MET,
            f"assurance:{fam}",
            f"--require {fam}: {_KEYLESS[fam].level.value.replace('_', ' ')}: "
            f"{_KEYLESS[fam].basis}",
            expected="proven",
            actual=_KEYLESS[fam].level.value,
        )
        for fam in ("authenticated", "anchored")
    ]
    return {
        "assurance-keyless": (
            "REP-7: a keyless pass says so on its first line, states each assurance, and "
            "JUnit skips the keyed checks: exit 0",
            _result(vchecked, [unanchored]),
        ),
        "assurance-required": (
            "REP-7: --require authenticated,anchored,erasure on a keyless, partly anchored "
            "run: one ASSURANCE_NOT_MET per family not proven (erasure is n/a): exit 3",
            _result(vchecked, [unanchored, *not_met]),
        ),
        "error-store": (
            "REP-3: a run that ends in exit 3 by an error (a stalled store) still reports, "
            "carrying the error",
            Result(),
        ),
        "error-input": (
            "REP-3: a run that ends in exit 2 (unreadable input) still reports, carrying the error",
            Result(),
        ),
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
    summaries_, plans_ = summaries(), plans()
    for name, (desc, result) in cases().items():
        summary, plan = summaries_[name], plans_[name]
        want_json = report_json(result, summary)
        obj: dict[str, Any] = {
            "type": "chainaudit/report-vector",
            "version": 2,
            "desc": desc,
            "summary": summary_to_json(summary),
            "checked": dict(sorted(result.checked.items())),
            "findings": [f.to_json() for f in result],
            "junit_plan": plan,
            "want_exit_code": report_exit_code(result, summary),
            "want_verdict": want_json["verdict"],
            "want_json": want_json,
            "want_text": render_text(result, summary),
            "want_junit": render_junit(result, summary, plan),
        }
        written.append(write_json(out_dir / f"{name}.json", obj))
    return written
