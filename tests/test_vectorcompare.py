"""`vectors compare`: another implementation's answers checked against the golden vectors."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from chainaudit.cli import main
from chainaudit.conformance.compare import case_files, compare_tree, write_reference_answers

VECTORS = Path(__file__).resolve().parent.parent / "vectors"


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("answers")
    n = write_reference_answers(VECTORS, out)
    assert n > 500  # every family is covered, not a handful of files
    return out


def test_every_family_has_cases() -> None:
    types = {case["type"] for _, case in case_files(VECTORS)}
    for family in (
        "envelope-vector",
        "keys-vector",
        "chain-vector",
        "export-vector",
        "report-vector",
    ):
        assert f"chainaudit/{family}" in types


def test_conforming_answers_pass(reference: Path) -> None:
    results = compare_tree(VECTORS, reference)
    assert results and all(r.status == "passed" for r in results)


def test_one_wrong_verdict_fails_and_is_named(reference: Path, tmp_path: Path) -> None:
    answers = tmp_path / "a"
    shutil.copytree(reference, answers)
    rel, _ = next(
        (r, c)
        for r, c in case_files(VECTORS)
        if c["type"] == "chainaudit/envelope-vector" and "negative" in r
    )
    doc = json.loads((answers / rel).read_text())
    doc["expected"]["keyed"]["findings"] = []
    (answers / rel).write_text(json.dumps(doc))
    bad = [r for r in compare_tree(VECTORS, answers) if r.status != "passed"]
    assert [(r.case, r.status) for r in bad] == [(rel, "failed")]
    assert "expected" in bad[0].detail


def test_formatting_and_member_order_do_not_matter(reference: Path, tmp_path: Path) -> None:
    answers = tmp_path / "a"
    shutil.copytree(reference, answers)
    rel, _ = next(iter(case_files(VECTORS)))
    doc = json.loads((answers / rel).read_text())
    (answers / rel).write_text(json.dumps(dict(reversed(list(doc.items()))), separators=(",", ":")))
    assert all(r.status == "passed" for r in compare_tree(VECTORS, answers))


def test_cli_exit_codes(reference: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    ok = runner.invoke(main, ["vectors", "compare", str(reference), "--vectors", str(VECTORS)])
    assert ok.exit_code == 0, ok.output
    assert ", 0 failed, 0 missing" in ok.output
    partial = tmp_path / "partial"
    shutil.copytree(reference, partial)
    victim = next(partial.rglob("*.json"))
    victim.unlink()
    missing = runner.invoke(main, ["vectors", "compare", str(partial), "--vectors", str(VECTORS)])
    assert missing.exit_code == 3
    assert "missing " in missing.output and ", 1 missing" in missing.output
    victim.write_text("{}")
    failed = runner.invoke(main, ["vectors", "compare", str(partial), "--vectors", str(VECTORS)])
    assert failed.exit_code == 1


# --- issue 11: --only, --format, first difference, partial answer sets, no checkout ---


def test_first_difference_is_a_json_path() -> None:
    from chainaudit.conformance.compare import ABSENT, first_difference

    want = {"expected": {"keyed": {"findings": [{"code": "A", "where": "x"}], "ok": False}}}
    got = {"expected": {"keyed": {"findings": [{"code": "B", "where": "x"}], "ok": False}}}
    assert first_difference(want, got) == ("$.expected.keyed.findings[0].code", "A", "B")
    assert first_difference(want, want) is None
    assert first_difference({"a": [1, 2]}, {"a": [1]}) == ("$.a[1]", 2, ABSENT)
    assert first_difference({"a": 1}, {"a": 1, "b-c": 2}) == ('$["b-c"]', ABSENT, 2)
    assert first_difference({"a": True}, {"a": 1}) == ("$.a", True, 1)  # true is not 1
    assert first_difference({"a": 1}, {"a": 1.0}) is None  # the same JSON number


def test_a_failed_case_names_the_path_not_the_whole_object(reference: Path, tmp_path: Path) -> None:
    answers = tmp_path / "a"
    shutil.copytree(reference, answers)
    rel = "envelope/positive/" + sorted(p.name for p in (answers / "envelope/positive").iterdir())[0]
    doc = json.loads((answers / rel).read_text())
    doc["expected"]["keyless"]["outcome"] = "tampered"
    (answers / rel).write_text(json.dumps(doc))
    run = CliRunner().invoke(
        main, ["vectors", "compare", str(answers), "--vectors", str(VECTORS), "--only", "envelope"]
    )
    assert run.exit_code == 1, run.output
    (line,) = [x for x in run.output.splitlines() if x.startswith("failed")]
    assert line.startswith(f"failed  {rel}: $.expected.keyless.outcome: expected ")
    assert line.endswith(', got "tampered"') and len(line) < 300


def test_a_partial_answer_set_is_summarised(reference: Path, tmp_path: Path) -> None:
    answers = tmp_path / "a"
    shutil.copytree(reference, answers)
    shutil.rmtree(answers / "keys")
    shutil.rmtree(answers / "envelope" / "negative")
    run = CliRunner().invoke(main, ["vectors", "compare", str(answers), "--vectors", str(VECTORS)])
    assert run.exit_code == 3
    lines = run.output.splitlines()
    assert not [x for x in lines if x.startswith("missing envelope/")]  # no per-file flood
    assert any(x.startswith("  keys: ") and "(keys/negative: " in x for x in lines)
    assert any(x.startswith("  envelope: ") and "(envelope/negative: " in x for x in lines)
    assert len(lines) < 10
    listed = CliRunner().invoke(
        main, ["vectors", "compare", str(answers), "--vectors", str(VECTORS), "-v"]
    )
    assert sum(x.startswith("missing keys/") for x in listed.output.splitlines()) > 50


def test_only_restricts_to_families_and_names_unknown_ones(reference: Path) -> None:
    from chainaudit.conformance.compare import compare_tree

    only = compare_tree(VECTORS, reference, {"keys", "report"})
    assert only and {r.family for r in only} == {"keys", "report"}
    run = CliRunner().invoke(
        main, ["vectors", "compare", str(reference), "--vectors", str(VECTORS), "--only", "nope"]
    )
    assert run.exit_code == 2 and "choose from chain, commitment, envelope" in run.output


def test_json_and_junit_reports(reference: Path, tmp_path: Path) -> None:
    import xml.etree.ElementTree as ET

    answers = tmp_path / "a"
    shutil.copytree(reference, answers)
    (answers / "findings.json").unlink()
    base = ["vectors", "compare", str(answers), "--vectors", str(VECTORS), "--only", "findings"]
    run = CliRunner().invoke(main, [*base, "--only", "report", "--format", "json"])
    assert run.exit_code == 3
    doc = json.loads(run.output)
    assert doc["type"] == "chainaudit/vectors-comparison" and doc["exit_code"] == 3
    assert doc["only"] == ["findings", "report"] and doc["families"]["findings"]["missing"] == 1
    assert doc["summary"]["missing"] == 1 and doc["summary"]["passed"] > 5
    xml = CliRunner().invoke(main, [*base, "--format", "junit"])
    root = ET.fromstring(xml.output.encode())
    assert root.tag == "testsuites" and root.get("errors") == "1"
    (suite,) = root
    assert suite.get("name") == "findings"
    assert suite[0].get("name") == "findings.json" and suite[0][0].get("type") == "MISSING"


def test_compare_without_a_checkout_regenerates_the_vectors(
    reference: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # no vectors/ here
    run = CliRunner().invoke(main, ["vectors", "compare", str(reference), "--only", "keys"])
    assert run.exit_code == 0, run.output
    assert ", 0 failed, 0 missing" in run.output
