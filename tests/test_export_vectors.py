"""vectors/export/ (EXP-11): the committed files are what the generator writes,
and every case produces exactly the outcome it declares."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from chainaudit.conformance.check import check_tree
from chainaudit.conformance.vectorgen.export import generate
from chainaudit.errors import InputError
from chainaudit.findings import Finding
from chainaudit.sources.open import open_source

VECTORS = Path(__file__).resolve().parent.parent / "vectors" / "export"
CASES = sorted(VECTORS.glob("*.json"))


def _tree(root: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()
    }


def test_generator_reproduces_committed_vectors(tmp_path: Path) -> None:
    generate(tmp_path)
    fresh, committed = _tree(tmp_path / "export"), _tree(VECTORS)
    assert sorted(fresh) == sorted(committed)
    changed = [name for name in fresh if fresh[name] != committed[name]]
    assert changed == []


def test_there_are_cases() -> None:
    assert len(CASES) >= 20


@pytest.mark.parametrize("case_path", CASES, ids=[p.stem for p in CASES])
def test_case(case_path: Path) -> None:
    case = json.loads(case_path.read_text("utf-8"))
    assert case["type"] == "chainaudit/export-vector" and case["version"] == 1
    target = VECTORS / case["input"]
    expect = case["expect"]
    if "error" in expect:
        with pytest.raises(InputError) as exc:
            list(open_source(str(target)).read())
        assert exc.value.where.endswith(f":{expect['line']}"), exc.value
        assert expect["reason_contains"] in exc.value.message
        return
    out = list(open_source(str(target)).read())
    findings = [x.code.name for x in out if isinstance(x, Finding)]
    assert findings == expect["findings"], case["desc"]
    assert sum(1 for x in out if not isinstance(x, Finding)) == expect["records"]


def test_vectorcheck_passes_every_export_case() -> None:
    results = check_tree(VECTORS)
    assert len(results) == len(CASES)
    assert [(r.name, r.problems) for r in results if not r.passed] == []


def test_vectorcheck_notices_a_wrong_expectation(tmp_path: Path) -> None:
    generate(tmp_path)
    case = tmp_path / "export" / "ndjson-edited-value.json"
    doc = json.loads(case.read_text())
    doc["expect"]["findings"] = []
    case.write_text(json.dumps(doc))
    failed = [r for r in check_tree(tmp_path / "export") if not r.passed]
    assert [r.name for r in failed] == ["ndjson-edited-value"]
