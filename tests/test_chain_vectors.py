"""The chain golden vectors: byte-for-byte regeneration, every case's verdict,
the accumulated constant, and that every chain finding code has a vector."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from chainaudit.conformance.vectorgen import chain as gen
from chainaudit.conformance.vectorgen.chain_build import check_case

ROOT = Path(__file__).resolve().parent.parent
VECTORS = ROOT / "vectors" / "chain"

#: The accumulated tips of the chains "acc" of lengths 0..64 (docs/vectors.md).
PINNED_ACCUMULATED_SHA256 = "2aca09fc4efa48a17a6cac9497ab59fd1d6e0afda8dabcf69a10c3d886754a85"
PINNED_ACCUMULATED_BLAKE3 = "9e75419d7cc320d317e6ebc0584878965fb8db1f7083fdb790d65ded283f3263"


def _files(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*.json"))}


def test_regenerating_reproduces_the_committed_chain_vectors(tmp_path: Path) -> None:
    written = gen.generate(tmp_path)
    assert all(p.is_relative_to(tmp_path / "chain") for p in written)
    fresh, committed = _files(tmp_path / "chain"), _files(VECTORS)
    assert sorted(fresh) == sorted(committed)
    differing = [name for name in fresh if fresh[name] != committed[name]]
    assert differing == []


def _cases(folder: str) -> list[Path]:
    return sorted((VECTORS / folder).glob("*.json"))


@pytest.mark.parametrize("path", _cases("positive") + _cases("negative"), ids=lambda p: p.stem)
def test_chain_vector_verdict(path: Path) -> None:
    doc = json.loads(path.read_text(encoding="utf-8"))
    assert doc["type"] == "chainaudit/chain-vector" and doc["version"] == 1
    assert check_case(doc) == []


@pytest.mark.parametrize("path", _cases("keyhistory"), ids=lambda p: p.stem)
def test_keyhistory_vector(path: Path) -> None:
    doc = json.loads(path.read_text(encoding="utf-8"))
    (result,) = gen.check_keyhistory_doc(doc, str(path))
    assert result.problems == []


@pytest.mark.parametrize("path", _cases("continuity"), ids=lambda p: p.stem)
def test_continuity_vector(path: Path) -> None:
    doc = json.loads(path.read_text(encoding="utf-8"))
    (result,) = gen.check_continuity_doc(doc, str(path))
    assert result.problems == []


def test_continuity_vectors_exist_and_a_wrong_list_fails() -> None:
    assert len(_cases("continuity")) >= 5
    doc = json.loads((VECTORS / "continuity" / "no-boundary.json").read_text(encoding="utf-8"))
    doc["expect"]["findings"].reverse()
    (result,) = gen.check_continuity_doc(doc, "no-boundary.json")
    assert result.problems != []


def test_partition_vector() -> None:
    doc = json.loads((VECTORS / "partition.json").read_text(encoding="utf-8"))
    (result,) = gen.check_partition_doc(doc, "partition.json")
    assert result.problems == [] and doc["partitions"]["1"] == [0] * len(doc["chain_ids"])
    doc["partitions"]["7"][0] += 1
    (result,) = gen.check_partition_doc(doc, "partition.json")
    assert result.problems != []


def test_a_wrong_full_list_fails_the_checker() -> None:
    """``expect.all`` is checked: dropping one finding from it fails the case."""
    path = VECTORS / "negative" / "audit-edit-seq@3.json"
    doc = json.loads(path.read_text(encoding="utf-8"))
    assert len(doc["expect"]["all"]) == 4
    doc["expect"]["all"].pop()
    assert check_case(doc) != []


def test_accumulated_vector_matches_the_pinned_constants() -> None:
    doc = json.loads((VECTORS / "accumulated.json").read_text(encoding="utf-8"))
    assert doc["n"] == 64
    assert doc["accumulated"] == {
        "sha256": PINNED_ACCUMULATED_SHA256,
        "blake3": PINNED_ACCUMULATED_BLAKE3,
    }
    assert gen.accumulated("sha256") == PINNED_ACCUMULATED_SHA256
    assert gen.accumulated("blake3") == PINNED_ACCUMULATED_BLAKE3


def test_keys_file_derives_from_labels() -> None:
    doc = json.loads((VECTORS / "keys.json").read_text(encoding="utf-8"))
    (result,) = gen.check_keys_doc(doc, "keys.json")
    assert result.problems == [] and len(doc["keys"]) == 3


def test_a_wrong_expectation_fails_the_checker() -> None:
    """The checker is a real test: a case expecting the wrong position fails."""
    doc = json.loads((VECTORS / "negative" / "audit-swap@2.json").read_text(encoding="utf-8"))
    doc["expect"]["first"]["seq"] = 3
    assert check_case(doc) != []
    doc = json.loads((VECTORS / "positive" / "audit-sha256.json").read_text(encoding="utf-8"))
    doc["expect"]["tips"]["main"]["count"] = 7
    assert check_case(doc) != []


def chain_codes() -> set[str]:
    """Every code of the chain section of the registry (spec CHAIN-n)."""
    from chainaudit.findings import registry

    return {name for name, code in registry().items() if code.spec.startswith("CHAIN-")}


def test_every_chain_code_is_produced_by_a_vector() -> None:
    seen: set[str] = set()
    for path in _cases("negative"):
        seen.add(json.loads(path.read_text(encoding="utf-8"))["expect"]["first"]["code"])
    for path in _cases("keyhistory"):
        for f in json.loads(path.read_text(encoding="utf-8"))["expect"]["findings"]:
            seen.add(f["code"])
    assert chain_codes() - seen == set()
    assert len(chain_codes()) == 26
