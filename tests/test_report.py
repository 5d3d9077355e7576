"""REP: the exit-code rule, and the text, JSON and JUnit renderings."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chainaudit.conformance.check import check_tree
from chainaudit.conformance.vectorgen.manifest import generate
from chainaudit.conformance.vectorgen.report_cases import cases
from chainaudit.findings import Finding, Result, Severity, codes
from chainaudit.report.render import (
    REPORT_TYPE,
    Summary,
    _json_default,
    exit_code_for,
    finding_from_json,
    render_json,
    render_json_chunks,
    render_junit,
    render_text,
    report_json,
    verdict_for,
)

ROOT = Path(__file__).resolve().parent.parent
SUMMARY = Summary("gate post", "postgresql://db/blue")
BY_SEVERITY = {
    Severity.ERROR: codes.MANIFEST_RECORD_MISSING,
    Severity.UNVERIFIED: codes.MANIFEST_SIGNER_UNTRUSTED,
    Severity.NOTICE: codes.MANIFEST_CHAIN_BRIDGED,
}


def result_of(checked: int, severities: list[Severity]) -> Result:
    r = Result()
    r.checked["records"] = checked
    r.extend(
        Finding(BY_SEVERITY[s], f"dialogue:d/entity:round/{i:02d}", "m")
        for i, s in enumerate(severities)
    )
    return r


@given(st.integers(0, 3), st.lists(st.sampled_from(list(Severity)), max_size=6))
def test_exit_code_rule(checked: int, severities: list[Severity]) -> None:
    r = result_of(checked, severities)
    if Severity.ERROR in severities:
        want = 1
    elif Severity.UNVERIFIED in severities or checked == 0:
        want = 3
    else:
        want = 0
    assert exit_code_for(r) == want
    assert verdict_for(r) == {0: "ok", 1: "findings", 3: "unverified"}[want]
    assert (want == 0) == r.ok


def test_zero_records_is_never_ok_even_with_other_counters() -> None:
    r = Result()
    r.checked["records"] = 0
    r.checked["chains"] = 5
    assert exit_code_for(r) == 3
    proof = Result()
    proof.checked["proofs"] = 1
    assert exit_code_for(proof) == 0


def _documented_fields() -> set[str]:
    """Top-level report members from the REP-3 table of docs/report.md."""
    text = (ROOT / "docs" / "report.md").read_text(encoding="utf-8")
    section = text.split("## REP-3", 1)[1].split("### REP-3.1", 1)[0]
    return set(re.findall(r"^\| `([a-z_]+)` \|", section, flags=re.M))


def _documented_finding_fields() -> set[str]:
    text = (ROOT / "docs" / "report.md").read_text(encoding="utf-8")
    section = text.split("### REP-3.1", 1)[1].split("\n## ", 1)[0]
    return set(re.findall(r"^\| `([a-z_]+)` \|", section, flags=re.M))


def test_json_has_exactly_the_documented_fields() -> None:
    _, r = cases()["findings"]
    doc = json.loads(render_json(r, SUMMARY))
    assert doc["type"] == REPORT_TYPE and doc["version"] == 2
    assert set(doc) == _documented_fields()
    assert doc["exit_code"] == 1 and doc["verdict"] == "findings"
    assert doc["counts"] == {"error": 3, "unverified": 1, "notice": 1}
    assert list(doc["by_code"]) == [
        "MANIFEST_RECORD_CHANGED",
        "MANIFEST_RECORD_MISSING",
        "MANIFEST_ROOT_MISMATCH",
        "MANIFEST_SIGNER_UNTRUSTED",
        "MANIFEST_CHAIN_BRIDGED",
    ]
    for f in doc["findings"]:
        assert set(f) <= _documented_finding_fields()
        assert finding_from_json(f).to_json() == f
    truncated = json.loads(render_json(r, SUMMARY, max_findings=2))
    assert truncated["findings_truncated"] is True and len(truncated["findings"]) == 2
    assert truncated["findings_total"] == 5


def test_text_has_summary_findings_and_advice() -> None:
    _, r = cases()["findings"]
    text = render_text(r, SUMMARY, limit=2)
    assert text.startswith("chainaudit gate post postgresql://db/blue: FINDINGS (exit 1)\n")
    for row in ("records", "dialogues", "chains", "keys"):
        assert re.search(rf"^  {row} +\d+$", text, flags=re.M), row
    assert re.search(r"^  MANIFEST_RECORD_MISSING +error +1  MAN-4$", text, flags=re.M)
    assert "First 2 of 5 finding group(s) (5 finding(s)):" in text
    assert "dialogue:d-1/entity:perspective/01#01" in text
    assert codes.MANIFEST_RECORD_MISSING.advice in text
    assert "MANIFEST_SIGNER_UNTRUSTED at" not in text  # beyond the limit


def test_text_for_nothing_checked_and_escapes_controls() -> None:
    text = render_text(Result(), Summary("verify", "empty.ndjson"))
    assert "UNVERIFIED (exit 3)" in text and "nothing was checked" in text
    r = result_of(1, [Severity.ERROR])
    r.findings[0] = Finding(codes.MANIFEST_RECORD_MISSING, "audit:c/\x1b[2Jx", "msg\nnext")
    text = render_text(r, SUMMARY)
    assert "\x1b" not in text and "\\x1b[2Jx" in text and "msg\\x0anext" in text


def test_junit_one_case_per_code() -> None:
    _, r = cases()["findings"]
    applicable = ["MANIFEST_RECORD_MISSING", "MANIFEST_RECORD_EXTRA", "PROOF_INVALID"]
    root = ET.fromstring(render_junit(r, SUMMARY, applicable))
    (suite,) = root.findall("testsuite")
    names = [c.get("name") for c in suite.findall("testcase")]
    # applicable codes plus every code that has findings, each once, sorted
    assert names == sorted(set(applicable) | {f.code.name for f in r})
    cases_ = {c.get("name"): c for c in suite.findall("testcase")}
    assert cases_["MANIFEST_RECORD_EXTRA"].find("failure") is None
    failure = cases_["MANIFEST_RECORD_MISSING"].find("failure")
    assert failure is not None and "dialogue:d-1/entity:perspective/01#01" in (failure.text or "")
    assert cases_["MANIFEST_SIGNER_UNTRUSTED"].find("error") is not None
    assert cases_["MANIFEST_CHAIN_BRIDGED"].find("system-out") is not None
    assert suite.get("tests") == str(len(names))
    assert suite.get("failures") == "3" and suite.get("errors") == "1"
    props = {p.get("name"): p.get("value") for p in suite.iter("property")}
    assert props["exit_code"] == "1" and props["checked.records"] == "20"


def test_junit_default_lists_every_registered_code() -> None:
    from chainaudit.findings import registry

    root = ET.fromstring(render_junit(result_of(1, []), SUMMARY))
    assert len(root.findall("testsuite/testcase")) == len(registry())


# --- the committed vectors (MAN-7, REP-5) --------------------------------------


def test_manifest_and_report_vectors_regenerate_byte_for_byte(tmp_path: Path) -> None:
    generate(tmp_path)
    for sub in ("manifest", "report"):
        fresh = {p.name: p.read_bytes() for p in (tmp_path / sub).iterdir()}
        committed = {p.name: p.read_bytes() for p in (ROOT / "vectors" / sub).iterdir()}
        assert sorted(fresh) == sorted(committed)
        assert [n for n in fresh if fresh[n] != committed[n]] == []


def test_manifest_and_report_vectors_pass() -> None:
    results = check_tree(ROOT / "vectors" / "manifest") + check_tree(ROOT / "vectors" / "report")
    assert len(results) >= 74
    assert [(r.path, r.name, r.problems) for r in results if not r.passed] == []


def test_vector_checkers_detect_a_wrong_expectation(tmp_path: Path) -> None:
    src = ROOT / "vectors" / "manifest"
    for i, (name, mutate) in enumerate(
        (
            ("gate-record-deleted.json", lambda d: d["want"].pop()),
            ("inclusion-n7-i3-truncated-path.json", lambda d: d.__setitem__("want", "valid")),
            ("merkle-roots.json", lambda d: d.__setitem__("accumulated", "00" * 32)),
            ("records.json", lambda d: d["records"][0].__setitem__("record_digest", "00" * 32)),
            ("proof-valid.json", lambda d: d["proof"]["path"].pop()),
        )
    ):
        case = tmp_path / str(i)
        case.mkdir()
        for sibling in ("manifest.json", "records.json"):
            (case / sibling).write_bytes((src / sibling).read_bytes())
        doc = json.loads((src / name).read_text())
        mutate(doc)
        (case / name).write_text(json.dumps(doc))
        assert any(not r.passed for r in check_tree(case)), name
    doc = json.loads((ROOT / "vectors" / "report" / "findings.json").read_text())
    doc["want_exit_code"] = 0
    only = tmp_path / "report"
    only.mkdir()
    (only / "r.json").write_text(json.dumps(doc))
    assert [r.passed for r in check_tree(only)] == [False]


def test_passwords_in_subjects_are_redacted() -> None:
    s = Summary("verify", "postgresql://alice:s3cret@db:5432/blue")
    assert s.subject == "postgresql://alice:***@db:5432/blue"
    assert "s3cret" not in render_json(Result(), s) + render_text(Result(), s) + render_junit(
        Result(), s
    )
    assert Summary("verify", "dynamodb://blue_dialogues").subject == "dynamodb://blue_dialogues"


def test_extra_values_that_json_cannot_hold() -> None:
    r = result_of(1, [Severity.NOTICE])
    r.findings[0] = Finding(codes.MANIFEST_CHAIN_BRIDGED, "chain:c@1", "m", extra={"b": b"\x01"})
    assert json.loads(render_json(r, SUMMARY))["findings"][0]["extra"] == {"b": "01"}


def test_junit_rejects_unknown_applicable_codes() -> None:
    import pytest

    with pytest.raises(ValueError, match="NOT_A_CODE"):
        render_junit(Result(), SUMMARY, ["NOT_A_CODE"])


def test_text_lists_errors_before_notices() -> None:
    result = Result()
    result.checked["records"] = 3
    for i in range(25):
        result.add(Finding(codes.KEY_SHREDDED, f"dialogue:d/entity:claim/01#{i:02d}", "shredded"))
    result.add(
        Finding(codes.AUTHENTICATION_FAILED, "dialogue:d/entity:meta", "tag does not verify")
    )
    out = render_text(result, Summary(command="verify", subject="x"))
    first = out.split("First 2 of 2 finding group(s) (26 finding(s)):")[1]
    assert first.index("AUTHENTICATION_FAILED") < first.index("KEY_SHREDDED")
    assert "(+24 more like it)" in first  # 25 identical notices are one group


def test_findings_group_by_code_message_and_values() -> None:
    from chainaudit.report.render import group_findings

    a = Finding(codes.KEY_SHREDDED, "x#1", "key k1 destroyed")
    b = Finding(codes.KEY_SHREDDED, "x#2", "key k1 destroyed")
    c = Finding(codes.KEY_SHREDDED, "x#3", "key k2 destroyed")
    d = Finding(codes.AUTHENTICATION_FAILED, "x#4", "key k1 destroyed")
    e = Finding(codes.KEY_SHREDDED, "x#5", "key k1 destroyed", expected="1")
    groups = group_findings([a, b, c, d, e])
    assert [(g.where, n) for g, n in groups] == [("x#4", 1), ("x#1", 2), ("x#3", 1), ("x#5", 1)]


_GROUPABLE = st.builds(
    Finding,
    st.sampled_from([codes.KEY_SHREDDED, codes.AUTHENTICATION_FAILED, codes.CHAIN_LINK_BROKEN]),
    st.sampled_from(["x#1", "x#2"]),
    st.sampled_from(["m", "n", "m\ud800"]),
    st.sampled_from([None, "1", ""]),
    st.sampled_from([None, "2"]),
)


@given(st.lists(_GROUPABLE, max_size=40), st.integers(0, 12), st.sampled_from([0, 1, 4096]))
def test_the_first_groups_in_bounded_memory_are_the_first_of_all_groups(
    findings: list[Finding], limit: int, spill: int
) -> None:
    """What the text and HTML reports list (first_groups, its sizes on disk
    past a limit) is exactly the first ``limit`` of group_findings."""
    from chainaudit.report.render import first_groups, group_findings

    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("CHAINAUDIT_SPILL_LIMIT", str(spill))
        listed, total = first_groups(findings, limit)
    groups = group_findings(findings)
    assert listed == groups[:limit] and total == len(groups)


def test_passwords_holding_at_or_slash_are_hidden_whole() -> None:
    """REP-3: the userinfo ends at the URL token's last '@'; password= parameters too."""
    for subject, secret in (
        ("postgresql://alice:p@ss@db/blue", "p@ss"),
        ("postgresql://alice:pa/ss@db/blue", "pa/ss"),
        ("postgresql://db/blue?user=a&password=hunter2&x=1", "hunter2"),
        ("host=db PASSWORD=hunter2 dbname=blue", "hunter2"),
        ("postgresql://a:one@db/x vs postgresql://b:two@db/y", "one"),
    ):
        shown = Summary("verify", subject).subject
        assert secret not in shown and "***" in shown, shown
    assert Summary("diff", "a:b@c vs dynamodb://t").subject == "a:b@c vs dynamodb://t"


def test_code_points_above_latin1_are_escaped_unambiguously() -> None:
    """REP-2: line and paragraph separators, bidi overrides and tag characters
    are escaped as \\uNNNN / \\UNNNNNNNN, never as an ambiguous \\xNNNN."""
    r = result_of(1, [Severity.ERROR])
    r.findings[0] = Finding(codes.MANIFEST_RECORD_MISSING, "a\u2028b\u202ec\U000e0041", "m\u00a0")
    text = render_text(r, SUMMARY)
    assert "a\\u2028b\\u202ec\\U000e0041" in text and "m\\xa0" in text
    for ch in "\u2028\u202e\U000e0041\u00a0":
        assert ch not in text


_texts = st.text(st.characters(blacklist_categories=("Cs",)), max_size=12)
_extras = st.dictionaries(
    _texts,
    st.recursive(
        st.none() | st.booleans() | st.integers() | _texts | st.binary(max_size=4),
        lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_texts, inner, max_size=3),
        max_leaves=6,
    ),
    max_size=3,
)


@given(
    st.lists(
        st.tuples(st.sampled_from(list(BY_SEVERITY.values())), _texts, _texts, _extras),
        max_size=6,
    ),
    st.none() | st.integers(0, 7),
)
def test_the_streamed_json_report_is_the_one_document_byte_for_byte(
    found: list[tuple[Any, str, str, dict[str, Any]]], max_findings: int | None
) -> None:
    """render_json is written a finding at a time (render_json_chunks): the
    text equals json.dumps of report_json, 2-space indent, for all findings."""
    r = result_of(1, [])
    r.extend(Finding(code, where, message, extra=extra) for code, where, message, extra in found)
    chunks = list(render_json_chunks(r, SUMMARY, max_findings))
    whole = json.dumps(
        report_json(r, SUMMARY, max_findings), indent=2, ensure_ascii=False, default=_json_default
    )
    assert "".join(chunks) == render_json(r, SUMMARY, max_findings) == whole + "\n"
    listed = len(found) if max_findings is None else min(len(found), max_findings)
    assert len(chunks) == listed + 2  # the head, one piece per finding, the tail
