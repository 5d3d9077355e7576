"""Checkers for the manifest and report vectors (MAN-7, REP-5).

Each checker reads one vector file's inputs, runs this implementation and
compares with the file's expectations, returning one
:class:`~chainaudit.conformance.check.CaseResult` per case. ``vectors verify``
reaches them through ``VECTOR_CHECKERS`` in
:mod:`chainaudit.conformance.vectorgen.manifest`.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import blake3

from chainaudit.conformance.check import CaseResult
from chainaudit.findings import Finding, Result
from chainaudit.migration.diff import diff_sources
from chainaudit.migration.gate import gate_post
from chainaudit.migration.manifest import (
    ManifestBuilder,
    manifest_digest,
    read_leaves,
    signing_input,
    verify_manifest,
)
from chainaudit.migration.proof import verify_proof
from chainaudit.primitives.merkle import leaf_hash, root_of, verify_inclusion
from chainaudit.records.digest import canonical_record_json, record_digest, record_key
from chainaudit.records.item import record_from_item, typed_from_json
from chainaudit.records.model import Record
from chainaudit.report.render import (
    finding_from_json,
    render_junit,
    render_text,
    report_exit_code,
    report_json,
    summary_from_json,
)

Doc = Mapping[str, Any]


def _records(items: list[dict[str, Any]], where: str) -> list[Record | Finding]:
    out: list[Record | Finding] = []
    for i, item in enumerate(items):
        typed = {k: typed_from_json(v, f"{where}[{i}].{k}") for k, v in item.items()}
        out.append(record_from_item(typed, f"{where}[{i}]"))
    return out


def _wants(result: Result) -> list[dict[str, str]]:
    return [{"code": f.code.name, "where": f.where} for f in result]


def _sibling(path: str, name: str) -> Doc:
    doc: Doc = json.loads((Path(path).parent / name).read_text(encoding="utf-8"))
    return doc


def _pinned_of(manifest_doc: Doc) -> list[bytes]:
    return [bytes.fromhex(manifest_doc["public_key"])]


def _one(doc: Doc, path: str, problems: list[str]) -> list[CaseResult]:
    return [CaseResult(str(doc.get("desc", Path(path).name)), path, problems)]


def check_records(doc: Doc, path: str) -> list[CaseResult]:
    out = []
    for i, row in enumerate(doc["records"]):
        problems = []
        (rec,) = _records([row["item"]], f"records[{i}]")
        if isinstance(rec, Finding):
            problems.append(f"item does not map to a record: {rec}")
        else:
            if record_key(rec) != row["record_key"]:
                problems.append(f"record key {record_key(rec)!r}")
            if canonical_record_json(rec).decode() != row["canonical_json"]:
                problems.append("canonical JSON differs")
            d = record_digest(rec)
            if d.hex() != row["record_digest"]:  # ct-ok: both sides are public golden-vector values
                problems.append(f"digest {d.hex()}")
            if leaf_hash(row["record_key"], d).hex() != row["leaf_hash"]:  # ct-ok: both sides are public golden-vector values
                problems.append("leaf hash differs")
        out.append(CaseResult(row["record_key"], path, problems))
    return out


def check_roots(doc: Doc, path: str) -> list[CaseResult]:
    problems = []
    leaves = [leaf_hash(x["record_key"], bytes.fromhex(x["record_digest"])) for x in doc["leaves"]]
    if [h.hex() for h in leaves] != [x["leaf_hash"] for x in doc["leaves"]]:
        problems.append("leaf hashes differ")
    acc = bytes(32)
    for n, want in enumerate(doc["roots"]):
        if n > len(leaves):
            problems.append(f"root {n} needs more leaves than the file lists")
            break
        r = root_of(leaves[:n])
        if r.hex() != want:
            problems.append(f"root of size {n} differs")
        acc = blake3.blake3(acc + r).digest()
    if acc.hex() != doc["accumulated"]:
        problems.append(f"accumulated {acc.hex()} != {doc['accumulated']}")
    return _one(doc, path, problems)


def check_inclusion(doc: Doc, path: str) -> list[CaseResult]:
    check = verify_inclusion(
        doc["leaf_index"],
        doc["tree_size"],
        bytes.fromhex(doc["leaf_hash"]),
        [bytes.fromhex(p) for p in doc["path"]],
        bytes.fromhex(doc["root"]),
    )
    got = "valid" if check.ok else "PROOF_INVALID"
    return _one(doc, path, [] if got == doc["want"] else [f"got {got}, want {doc['want']}"])


def check_manifest(doc: Doc, path: str) -> list[CaseResult]:
    problems = []
    m = doc["manifest"]
    found = verify_manifest(m, _pinned_of(doc))
    if found:
        problems.append(f"manifest does not verify: {[str(f) for f in found]}")
    if signing_input(m).hex() != doc["signing_input"]:
        problems.append("signing input differs")
    if manifest_digest(m) != doc["manifest_digest"]:  # ct-ok: both sides are public golden-vector values
        problems.append("manifest digest differs")
    lines = doc["leaves_file"].encode("utf-8").splitlines(keepends=True)
    pairs = list(read_leaves(lines))
    if root_of(leaf_hash(k, d) for k, d in pairs).hex() != m["merkle"]["root"]:  # ct-ok: both sides are public golden-vector values
        problems.append("leaves file does not hash to the root")
    rows = _sibling(path, "records.json")["records"]
    records = _records([r["item"] for r in rows], "records")
    with ManifestBuilder() as b:
        b.add_all(r for r in records if not isinstance(r, Finding))
        statement = b.statement(created_at=m["created_at"], source=m["source"])
    unsigned = {k: v for k, v in m.items() if k not in ("signer_key_id", "signature")}
    if statement != unsigned:
        problems.append("rebuilding the manifest from records.json gives another statement")
    return _one(doc, path, problems)


def check_manifest_case(doc: Doc, path: str) -> list[CaseResult]:
    got = [
        f.code.name
        for f in verify_manifest(doc["manifest"], [bytes.fromhex(k) for k in doc["pinned"]])
    ]
    return _one(doc, path, [] if got == doc["want"] else [f"got {got}, want {doc['want']}"])


def check_gate(doc: Doc, path: str) -> list[CaseResult]:
    mdoc = _sibling(path, doc["manifest"])
    leaves = doc["leaves_file"]
    result = gate_post(
        mdoc["manifest"],
        iter(_records(doc["target_items"], "target")),
        pinned=_pinned_of(mdoc),
        leaves=None if leaves is None else leaves.encode("utf-8").splitlines(keepends=True),
    )
    got = _wants(result)
    return _one(doc, path, [] if got == doc["want"] else [f"got {got}, want {doc['want']}"])


def check_diff(doc: Doc, path: str) -> list[CaseResult]:
    result = diff_sources(_records(doc["a_items"], "a"), _records(doc["b_items"], "b"))
    got = _wants(result)
    problems = [] if got == doc["want"] else [f"got {got}, want {doc['want']}"]
    checked = dict(result.checked)
    if "want_checked" in doc and checked != doc["want_checked"]:
        problems.append(f"checked {checked}, want {doc['want_checked']}")
    return _one(doc, path, problems)


def check_proof(doc: Doc, path: str) -> list[CaseResult]:
    mdoc = _sibling(path, doc["manifest"])
    result = verify_proof(doc["proof"], mdoc["manifest"], _pinned_of(mdoc))
    got = sorted({f.code.name for f in result})
    return _one(doc, path, [] if got == doc["want"] else [f"got {got}, want {doc['want']}"])


def check_report(doc: Doc, path: str) -> list[CaseResult]:
    result = Result()
    result.checked.update(doc["checked"])
    result.extend(finding_from_json(f) for f in doc["findings"])
    summary = summary_from_json(doc["summary"])
    problems = []
    code = report_exit_code(result, summary)
    if code != doc["want_exit_code"]:
        problems.append(f"exit code {code}")
    if report_json(result, summary)["verdict"] != doc["want_verdict"]:
        problems.append(f"verdict {report_json(result, summary)['verdict']}")
    want_json = dict(doc["want_json"])
    got_json = report_json(result, summary)
    want_json.pop("tool", None)  # the tool's own version is not part of the format
    got_json.pop("tool", None)
    if got_json != want_json:
        problems.append("JSON report differs")
    if render_text(result, summary) != doc["want_text"]:
        problems.append("text report differs")
    if render_junit(result, summary, doc["junit_plan"]) != doc["want_junit"]:
        problems.append("JUnit XML differs")
    return _one(doc, path, problems)


CHECKERS: dict[str, Callable[[Doc, str], list[CaseResult]]] = {
    "chainaudit/record-digest-vector": check_records,
    "chainaudit/merkle-roots-vector": check_roots,
    "chainaudit/merkle-inclusion-vector": check_inclusion,
    "chainaudit/manifest-vector": check_manifest,
    "chainaudit/manifest-check-vector": check_manifest_case,
    "chainaudit/gate-vector": check_gate,
    "chainaudit/diff-vector": check_diff,
    "chainaudit/proof-vector": check_proof,
    "chainaudit/report-vector": check_report,
}
