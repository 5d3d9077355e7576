"""Golden vectors (docs/vectors.md): regeneration is byte-exact, every committed
vector passes against the library, and the envelope vectors cover every
envelope finding code and every entity type. Also: docs/findings.md is the
rendering of the code registry."""

from __future__ import annotations

import base64
import copy
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from chainaudit.conformance.check import (
    ENVELOPE_TYPE,
    check_envelope_case,
    check_tree,
    vector_files,
)
from chainaudit.conformance.vectorgen import findings_doc
from chainaudit.envelope.verify import CODES
from chainaudit.records.address import Address, EntityType

ROOT = Path(__file__).resolve().parent.parent
VECTORS = ROOT / "vectors"
ENVELOPE = VECTORS / "envelope"


def _tree(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def _envelope_docs() -> list[dict[str, Any]]:
    return [json.loads(p.read_text(encoding="utf-8")) for p in vector_files(ENVELOPE)]


def test_regenerating_reproduces_the_committed_vectors_byte_for_byte(tmp_path: Path) -> None:
    run = subprocess.run(
        [sys.executable, "-m", "chainaudit.conformance.vectorgen", str(tmp_path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert run.returncode == 0, f"the generator failed:\n{run.stderr[-3000:]}"
    fresh, committed = _tree(tmp_path), _tree(VECTORS)
    assert sorted(set(committed) - set(fresh)) == [], "committed but no longer generated"
    assert sorted(set(fresh) - set(committed)) == [], "generated but not committed"
    differ = sorted(name for name in fresh if fresh[name] != committed[name])
    assert differ == [], "run `python -m chainaudit.conformance.vectorgen vectors` and review the diff"


def test_every_committed_vector_passes() -> None:
    results = check_tree(VECTORS)
    assert len(results) >= 300
    failing = [f"{r.path}: {r.name}: {'; '.join(r.problems)}" for r in results if not r.passed]
    assert failing == []


def test_envelope_vectors_produce_every_envelope_code() -> None:
    expected = set()
    for doc in _envelope_docs():
        for mode in ("keyless", "keyed"):
            expected.update(doc["expected"][mode]["findings"])
    assert CODES - expected == set()
    assert expected <= CODES


def test_positive_vectors_cover_every_entity_type_unicode_and_escaping() -> None:
    types, ids = set(), []
    for doc in _envelope_docs():
        if doc["mutation"] is not None:
            continue
        assert doc["name"].startswith("valid-")
        assert (
            doc["expected"]["keyless"]["outcome"] == doc["expected"]["keyed"]["outcome"] == "valid"
        )
        for rec in doc["records"]:
            a = Address.parse(rec["address"])
            types.add(a.entity_type)
            ids.extend([a.dialogue_id, *a.logical_parts()])
    assert types == set(EntityType)
    assert any(not i.isascii() for i in ids)
    assert any(any(ord(c) > 0xFFFF for c in i) for i in ids), "an astral (emoji) id"
    for sep in "#/%:":
        assert any(sep in i for i in ids), f"an id containing {sep!r}"


#: VEC-2: each tampering method and the prefix of the case names it produces.
NAME_PREFIX = {
    "flip-ciphertext-bit": "flip-ciphertext-bit-@",
    "flip-nonce-bit": "flip-nonce-bit-@",
    "truncate": "truncate-",
    "move": "moved-to-",
    "move-and-rewrite-aad-hash": "moved-to-",
    "swap-key-version": "key-version-swapped-",
    "legacy-aad": "legacy-aad",
    "legacy-aad-rewritten-hash": "legacy-aad-hash-rewritten",
    "aad-hash": "aad-hash-",
    "key-state": "key-",
    "key-id": "key-id-",
    "nonce-length": "nonce-length-@",
    "reuse-nonce": "nonce-reuse-",
    "envelope-version": "envelope-version-",
    "add-envelope": "envelope-on-",
    "remove-envelope": "envelope-missing-",
    "remove-attribute": "malformed-",
    "retype-attribute": "malformed-",
    "edit-attribute": "malformed-",
    "edit-pk": "address-invalid-",
    "seal-plaintext": "payload-",
    "edit-item": "malformed-",
    "edit-key": "address-invalid-",
    "legacy-hash-on-v1": "legacy-aad-hash-on-",
}


def test_negative_vectors_name_their_mutation_and_expect_a_finding() -> None:
    for doc in _envelope_docs():
        if doc["mutation"] is None:
            continue
        method = doc["mutation"]["method"]
        assert doc["name"].startswith(NAME_PREFIX[method]), (doc["name"], method)
        found = doc["expected"]["keyless"]["findings"] + doc["expected"]["keyed"]["findings"]
        assert found, f"{doc['name']} expects no finding"


def test_flip_and_truncate_cover_every_bit_and_length() -> None:
    names = {p.stem for p in (ENVELOPE / "negative").glob("*.json")}
    short = json.loads((ENVELOPE / "negative" / "truncate-@0.json").read_text(encoding="utf-8"))
    n = len(short["records"][0]["plaintext"]) // 2 + 16
    assert {f"flip-ciphertext-bit-@{i}" for i in range(8 * n)} <= names
    assert {f"flip-nonce-bit-@{i}" for i in range(96)} <= names
    assert {f"truncate-@{i}" for i in range(n)} <= names


def _one(name: str) -> dict[str, Any]:
    path = next(ENVELOPE.rglob(f"{name}.json"))
    doc: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return doc


@pytest.mark.parametrize(
    ("name", "tamper"),
    [
        ("valid-claim", lambda d: d["expected"]["keyed"].update(outcome="invalid")),
        ("valid-claim", lambda d: d["expected"]["keyless"]["findings"].append("NONCE_REUSE")),
        ("valid-claim", lambda d: d["records"][0].update(aad="00" * 32)),
        ("valid-claim", lambda d: d["records"][0].update(plaintext="00")),
        (
            "valid-claim",
            lambda d: d["records"][0]["item"]["content_nonce"].update(B="AAAAAAAAAAAAAAAA"),
        ),
        ("moved-to-sibling", lambda d: d["expected"]["keyed"]["findings"].remove("ADDRESS_MOVED")),
        ("valid-meta", lambda d: d.update(version=2)),
        ("valid-meta", lambda d: d.update(algorithm="A128GCM")),
        ("valid-meta", lambda d: d.pop("records")),
    ],
)
def test_vectorcheck_fails_a_tampered_vector(name: str, tamper: Any) -> None:
    doc = _one(name)
    assert doc["type"] == ENVELOPE_TYPE
    assert all(r.passed for r in check_envelope_case(doc, name))
    bad = copy.deepcopy(doc)
    tamper(bad)
    (result,) = check_envelope_case(bad, name)
    assert not result.passed and result.problems


def test_findings_doc_is_the_rendering_of_the_registry() -> None:
    committed = (ROOT / "docs" / "findings.md").read_text(encoding="utf-8")
    assert committed == findings_doc.render(), (
        "run `python -m chainaudit.conformance.vectorgen.findings_doc docs/findings.md`"
    )


def test_the_worked_example_in_the_spec_matches_its_vector() -> None:
    """docs/envelope.md ENV-11 quotes valid-escaped-verdict; keep the two in step."""
    doc = _one("valid-escaped-verdict")
    spec = (ROOT / "docs" / "envelope.md").read_text(encoding="utf-8")
    example = spec[spec.index("## ENV-11") :]
    rec = doc["records"][0]
    stored = base64.b64decode(rec["item"]["content_encrypted"]["B"])
    for value in (
        rec["address"],
        rec["aad"],
        rec["plaintext"],
        doc["keys"][0]["dek"],
        base64.b64decode(rec["item"]["content_nonce"]["B"]).hex(),
        stored[:-16].hex(),
        stored[-16:].hex(),
    ):
        assert value in example


def test_vectorcheck_command_reports_failures(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from chainaudit.conformance.check import main

    assert main([str(ENVELOPE / "positive")]) == 0
    bad = _one("valid-claim")
    bad["expected"]["keyless"]["findings"] = ["NONCE_REUSE"]
    (tmp_path / "valid-claim.json").write_text(json.dumps(bad), encoding="utf-8")
    (tmp_path / "fixture.json").write_text('{"not": "a case"}', encoding="utf-8")
    assert main([str(tmp_path)]) == 1
    out = capsys.readouterr().out
    assert "FAIL: " in out and "valid-claim" in out and "0 passed, 1 failed" in out
    assert main([str(tmp_path / "empty")]) == 1  # nothing checked is not a pass
