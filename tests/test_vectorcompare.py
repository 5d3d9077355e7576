"""`vectors compare`: another implementation's answers checked against the golden vectors."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from chainaudit.cli import main
from chainaudit.vectorcompare import case_files, compare_tree, write_reference_answers

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
