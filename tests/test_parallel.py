"""Parallel verification that includes the read (issue 10): ``--workers N``
cuts an NDJSON export into parts at partition boundaries, each worker
process reads and verifies its part, and the merged result is the
one-process result exactly: findings (in order), counters, chain lengths and
evidence, with keys, without, with the wrong UMK, on intact and damaged
exports. The nonce-reuse check, which spans parts, is merged exactly too.
"""

from __future__ import annotations

import itertools
import random
import tempfile
from pathlib import Path
from typing import Any

import pytest
from test_one_pass import DAMAGE, MODES, T0, _damage, _options, _write

from chainaudit import audit as audit_mod
from chainaudit.audit import AuditOptions, audit
from chainaudit.envelope.nonces import NonceLedger, NonceLimits, merged_findings
from chainaudit.errors import InputError
from chainaudit.findings import Result
from chainaudit.report.assurance import Evidence
from chainaudit.sample import Sample, build_sample, iter_records
from chainaudit.sources import ndjson
from chainaudit.sources.ndjson import NdjsonSource, write_export
from chainaudit.spilllist import SpillList
from chainaudit.spillmap import SpillMap


@pytest.fixture(scope="module")
def sample() -> Sample:
    return build_sample()


@pytest.fixture(scope="module")
def lines(sample: Sample, tmp_path_factory: pytest.TempPathFactory) -> list[bytes]:
    path = tmp_path_factory.mktemp("parallel") / "sample.ndjson"
    write_export(path, iter_records(sample), source="test", created_at=T0)
    return path.read_bytes().splitlines(keepends=True)


@pytest.fixture(autouse=True)
def small_exports_are_cut(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ndjson, "PARALLEL_MIN_BYTES", 0)


def _outcome(path: Path, options: AuditOptions, workers: int) -> Any:
    options.workers = workers
    ev = Evidence()
    try:
        result = audit(NdjsonSource(path), options, evidence=ev)
    except InputError as exc:
        return ("InputError", str(exc))
    return _facts(result), ev


def _facts(result: Result) -> Any:
    return [f.to_json() for f in result.findings], dict(result.checked), result.chain_lengths


class _Merges:
    """Counts the parallel reads that really ran in parts."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.calls = 0
        original = audit_mod._merge_spans

        def counting(*args: Any) -> Result:
            self.calls += 1
            return original(*args)

        monkeypatch.setattr(audit_mod, "_merge_spans", counting)


@pytest.mark.parametrize("workers", [2, 3, 5])
@pytest.mark.parametrize("mode", MODES)
def test_intact_export_in_parts_equals_one_process(
    sample: Sample,
    lines: list[bytes],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    mode: str,
    workers: int,
) -> None:
    merges = _Merges(monkeypatch)
    path = _write(tmp_path, lines)
    assert len(NdjsonSource(path).spans(workers) or []) >= 2
    one = _outcome(path, _options(sample, mode), 1)
    assert _outcome(path, _options(sample, mode), workers) == one
    assert merges.calls == 1


@pytest.mark.parametrize("how", ["ciphertext-altered", "none"])
def test_workers_hand_back_spilled_parts_through_files_that_leave_nothing_behind(
    sample: Sample,
    lines: list[bytes],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    how: str,
) -> None:
    """Each worker's outcome (findings, maps, all on disk with a limit of 0)
    comes back through an anonymous file, not the pool's pipe, and arrives
    as spill maps and lists again: the merged result is the one-process
    result, and the temporary directory is left as it was."""
    path = _write(tmp_path, _damage(lines, how) if how != "none" else lines)
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    one = _outcome(path, _options(sample, "keyed"), 1)
    monkeypatch.setenv("CHAINAUDIT_SPILL_LIMIT", "0")
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    shipped: list[Any] = []
    original = audit_mod._merge

    def merge(*args: Any) -> Result:
        shipped.extend(args[4])  # the parts, as the parent unpickled them
        return original(*args)

    monkeypatch.setattr(audit_mod, "_merge", merge)
    assert _outcome(path, _options(sample, "keyed"), 2) == one
    assert len(shipped) == 2
    assert all(type(p.chains.tips) is SpillMap and p.chains.tips.limit == 0 for p in shipped)
    assert all(type(p.stream) is SpillList for p in shipped)
    del shipped[:]
    assert list(scratch.iterdir()) == []


@pytest.mark.parametrize("how", DAMAGE)
@pytest.mark.parametrize("mode", ["keyless", "keyed"])
def test_damaged_export_in_parts_equals_one_process(
    sample: Sample, lines: list[bytes], tmp_path: Path, how: str, mode: str
) -> None:
    path = _write(tmp_path, _damage(lines, how))
    one = _outcome(path, _options(sample, mode), 1)
    assert _outcome(path, _options(sample, mode), 3) == one


def _end_damage(lines: list[bytes], how: str) -> list[bytes]:
    out = list(lines)
    if how == "no-trailer":
        return out[:-1]
    if how == "cut-mid-line":
        return [*out[:-2], out[-2][:40]]
    if how == "trailing-data":
        return [*out, out[5], out[6]]
    if how == "trailer-in-the-middle":
        return [*out[:200], out[-1], *out[200:-1]]
    if how == "bad-line-late":
        return [*out[:-40], b'{"item":{"pk":\n', *out[-40:]]
    if how == "bad-line-after-the-trailer":
        return [*out[:100], out[-1], *out[100:-1], b"[" * 200 + b"\n"]
    if how == "long-line-after-the-trailer":
        return [*out, b"x" * (ndjson.MAX_LINE_BYTES + 5) + b"\n"]
    raise AssertionError(how)


@pytest.mark.parametrize(
    "how",
    [
        "no-trailer",
        "cut-mid-line",
        "trailing-data",
        "trailer-in-the-middle",
        "bad-line-late",
        "bad-line-after-the-trailer",
        "long-line-after-the-trailer",
    ],
)
def test_the_exports_end_in_parts_equals_one_process(
    sample: Sample, lines: list[bytes], tmp_path: Path, how: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = _write(tmp_path, _end_damage(lines, how))
    one = _outcome(path, _options(sample, "keyed"), 1)
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    assert _outcome(path, _options(sample, "keyed"), 4) == one
    assert list(scratch.iterdir()) == []  # every worker's spill removed, errors or not


def test_random_damage_in_parts_equals_one_process(
    sample: Sample, lines: list[bytes], tmp_path: Path
) -> None:
    rng = random.Random(20261207)
    for n in range(12):
        out = list(lines)
        for _ in range(rng.randint(1, 3)):
            i = rng.randrange(1, len(out) - 1)
            op = rng.choice(["del", "dup", "edit"])
            if op == "del":
                del out[i]
            elif op == "dup":
                out.insert(i, out[i])
            else:
                at = rng.randrange(len(out[i]) - 1)
                out[i] = out[i][:at] + b"A" + out[i][at + 1 :]
        path = _write(tmp_path, out, f"r{n}.ndjson")
        mode = MODES[n % len(MODES)]
        one = _outcome(path, _options(sample, mode), 1)
        assert _outcome(path, _options(sample, mode), 1 + n % 4 + 1) == one


def test_nonce_ledgers_of_parts_merge_into_the_one_ledger(tmp_path: Path) -> None:
    """ENV-5 across parts: the first occurrence and every repeat are the
    dataset's, and findings come in the order of the repeats, spilled or not."""
    rng = random.Random(5)
    entries = [
        (
            f"dek#d{rng.randrange(3)}#1",
            bytes([rng.randrange(6)]) * 12,
            f"dialogue:d/entity:claim/{rng.randrange(40):02d}#00",
            f"x.ndjson:{i}",
            bytes([rng.randrange(2)]),
        )
        for i in range(400)
    ]
    for limit in (1000, 17):
        one = NonceLedger(NonceLimits(max_in_memory=limit, partitions=4, tmp_dir=str(tmp_path)))
        for e in entries:
            one.add(*e)
        expected = [f.to_json() for f in one.findings()]
        one.close()
        assert expected
        for cuts in ([200], [1, 399], [50, 51, 300]):
            bounds = [0, *cuts, len(entries)]
            parts = []
            for a, b in itertools.pairwise(bounds):
                ledger = NonceLedger(
                    NonceLimits(partitions=4, tmp_dir=str(tmp_path)), keep_all=True
                )
                for e in entries[a:b]:
                    ledger.add(*e)
                parts.append(ledger.export())
            limits = NonceLimits(max_in_memory=limit, partitions=4, tmp_dir=str(tmp_path))
            assert [f.to_json() for f in merged_findings(parts, limits)] == expected
        assert list(tmp_path.iterdir()) == []
