"""A run whose per-chain maps are on disk is the run whose maps are in memory.

``chainaudit.spillmap`` moves a run's per-chain and per-key maps (chain
tips and lengths, timelines, the partitions met, the key history) to a
scratch file past ``CHAINAUDIT_SPILL_LIMIT`` entries. Here every golden
export vector, the built-in sample in every key mode and damaged, and the
CLI's reports are produced three ways: the default limit (all in memory at
this size), 0 (every map on disk from its first entry) and 1 (the move
from memory to disk in the middle of each map). Findings, counters, chain
lengths, evidence (timelines included), the assurance statement and the
report bytes must be the same.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
from test_dask import CASES, VECTORS, _outcome
from test_one_pass import DAMAGE, T0, _damage, _options

from chainaudit.audit import AuditOptions, audit
from chainaudit.report.assurance import Evidence
from chainaudit.sample import Sample, build_sample, iter_records
from chainaudit.sources.ndjson import NdjsonSource, write_export
from chainaudit.sources.open import open_source
from chainaudit.spillmap import LIMIT_ENV, SpillMap

LIMITS = ("0", "1")


def _three_ways(monkeypatch: pytest.MonkeyPatch, run: Any) -> Any:
    monkeypatch.delenv(LIMIT_ENV, raising=False)
    in_memory = _outcome(run)
    for limit in LIMITS:
        monkeypatch.setenv(LIMIT_ENV, limit)
        assert _outcome(run) == in_memory, f"{LIMIT_ENV}={limit}"
    return in_memory


@pytest.fixture(scope="module")
def sample() -> Sample:
    return build_sample()


@pytest.fixture(scope="module")
def export(sample: Sample, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("spill") / "sample.ndjson"
    write_export(path, iter_records(sample), source="test", created_at=T0)
    return path


def test_a_run_keeps_its_per_chain_maps_on_disk(
    monkeypatch: pytest.MonkeyPatch, sample: Sample, export: Path
) -> None:
    """With a limit of 0 every per-chain map of the run, the evidence's
    included (audit() works on a deep copy of it), is on disk."""
    monkeypatch.setenv(LIMIT_ENV, "0")
    ev = Evidence()
    result = audit(NdjsonSource(export), _options(sample, "keyed"), evidence=ev)
    for name, m in (
        ("result.chain_lengths", result.chain_lengths),
        ("evidence.chain_lengths", ev.chain_lengths),
        ("evidence.timeline", ev.timeline),
    ):
        assert isinstance(m, SpillMap) and m.spilled and len(m) > 1, name


@pytest.mark.parametrize("case", CASES, ids=[p.stem for p in CASES])
def test_every_golden_export_vector(monkeypatch: pytest.MonkeyPatch, case: Path) -> None:
    target = str(VECTORS / json.loads(case.read_text("utf-8"))["input"])
    _three_ways(monkeypatch, lambda ev: audit(open_source(target), AuditOptions(), evidence=ev))


@pytest.mark.parametrize("mode", ["keyless", "keyed", "wrong-umk", "unpinned"])
def test_the_sample_in_every_key_mode(
    monkeypatch: pytest.MonkeyPatch, sample: Sample, export: Path, mode: str
) -> None:
    out = _three_ways(
        monkeypatch, lambda ev: audit(NdjsonSource(export), _options(sample, mode), evidence=ev)
    )
    assert len(out[2]) > 1  # chains: more than a limit of 1 holds in memory


@pytest.mark.parametrize("damage", sorted(DAMAGE))
def test_the_sample_damaged(
    monkeypatch: pytest.MonkeyPatch, sample: Sample, export: Path, tmp_path: Path, damage: str
) -> None:
    lines = export.read_bytes().splitlines(keepends=True)
    damaged = tmp_path / "damaged.ndjson"
    damaged.write_bytes(b"".join(_damage(lines, damage)))
    _three_ways(
        monkeypatch,
        lambda ev: audit(NdjsonSource(damaged), _options(sample, "keyed"), evidence=ev),
    )


@pytest.mark.parametrize("fmt", ["json", "html", "text"])
def test_the_reports_are_the_same_bytes(tmp_path: Path, export: Path, fmt: str) -> None:
    """The CLI's report (the JSON one written a finding at a time) with every
    map on disk, and in two worker processes, is the in-memory one."""
    def report(limit: str | None, *extra: str) -> str:
        env = {k: v for k, v in os.environ.items() if k != LIMIT_ENV}
        if limit is not None:
            env[LIMIT_ENV] = limit
        out = tmp_path / f"report-{limit}-{len(extra)}.{fmt}"
        run = subprocess.run(
            ["chainaudit", "verify", str(export), "--format", fmt, "-o", str(out), *extra],
            env=env, capture_output=True, text=True, timeout=300,
        )  # fmt: skip
        assert run.returncode == 3, run.stderr  # keyless, no checkpoint: unanchored
        # The time of the run is the one thing that differs: every timestamp blanked.
        return re.sub(r"\d{4}-\d\d-\d\dT[\d:.]+Z", "T", out.read_text("utf-8"))

    base = report(None)
    assert "CHAIN_UNANCHORED" in base
    assert report("0") == base
    assert report("1") == base
    assert report("0", "--workers", "2") == base


def test_the_evidence_keeps_its_own_chain_lengths(
    monkeypatch: pytest.MonkeyPatch, sample: Sample, export: Path, tmp_path: Path
) -> None:
    """A result's chain lengths are not the evidence's object: changing one,
    or reusing the evidence for another run, leaves the other as it was."""
    for limit in ("0", "4096"):
        monkeypatch.setenv(LIMIT_ENV, limit)
        ev = Evidence()
        first = audit(NdjsonSource(export), _options(sample, "keyless"), evidence=ev)
        assert first.chain_lengths is not ev.chain_lengths
        before = dict(first.chain_lengths.items())
        assert dict(ev.chain_lengths.items()) == before
        lines = export.read_bytes().splitlines(keepends=True)
        half = tmp_path / f"half-{limit}.ndjson"
        half.write_bytes(b"".join(_damage(lines, "line-removed")))
        audit(NdjsonSource(half), _options(sample, "keyless"), evidence=ev)
        assert dict(first.chain_lengths.items()) == before
