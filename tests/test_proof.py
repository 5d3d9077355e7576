"""MAN-6: inclusion-proof documents verify with only the manifest and the pinned key."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest

from chainaudit.conformance.vectorgen.manifest_build import (
    SIGNER_LABEL,
    sample_manifest,
    sample_records,
    vector_key,
)
from chainaudit.errors import InputError
from chainaudit.findings import codes
from chainaudit.migration.manifest import public_key_bytes
from chainaudit.migration.proof import make_proof, verify_proof
from chainaudit.records.digest import record_key

PINNED = [public_key_bytes(vector_key(SIGNER_LABEL))]
MANIFEST, LEAVES = sample_manifest()


def lines() -> list[bytes]:
    return LEAVES.splitlines(keepends=True)


def test_every_record_has_a_verifying_proof() -> None:
    for r in sample_records():
        doc = make_proof(MANIFEST, lines, record_key(r))
        assert doc is not None
        result = verify_proof(doc, MANIFEST, PINNED, record=r)
        assert result.ok, result.findings


def test_absent_key_has_no_proof() -> None:
    assert make_proof(MANIFEST, lines, "dialogue:nope/entity:meta") is None


def test_leaves_that_do_not_match_the_root_are_refused() -> None:
    with pytest.raises(InputError):
        make_proof(MANIFEST, lambda: lines()[1:], "dek#d-1#1")


@pytest.mark.parametrize(
    ("mutate", "code"),
    [
        (lambda d: d["path"].__setitem__(0, "00" * 32), codes.PROOF_INVALID),
        (lambda d: d.__setitem__("leaf_index", d["leaf_index"] ^ 1), codes.PROOF_INVALID),
        (lambda d: d.__setitem__("record_digest", "11" * 32), codes.PROOF_INVALID),
        (lambda d: d["path"].pop(), codes.PROOF_INVALID),
        (lambda d: d.__setitem__("tree_size", 21), codes.PROOF_MANIFEST_MISMATCH),
        (lambda d: d.__setitem__("manifest_digest", "22" * 32), codes.PROOF_MANIFEST_MISMATCH),
    ],
)
def test_tampered_proofs(mutate: object, code: object) -> None:
    doc = make_proof(MANIFEST, lines, "dek#d-1#1")
    assert doc is not None
    bad = copy.deepcopy(doc)
    mutate(bad)  # type: ignore[operator]
    result = verify_proof(bad, MANIFEST, PINNED)
    assert code in {f.code for f in result}
    assert not result.ok


def test_wrong_record_and_untrusted_manifest() -> None:
    recs = sample_records()
    doc = make_proof(MANIFEST, lines, record_key(recs[0]))
    assert doc is not None
    assert [f.code for f in verify_proof(doc, MANIFEST, PINNED, record=recs[1])] == [
        codes.PROOF_INVALID
    ]
    assert [f.code for f in verify_proof(doc, MANIFEST, [])] == [codes.MANIFEST_SIGNER_UNTRUSTED]


def test_malformed_proof_is_input_error() -> None:
    doc = make_proof(MANIFEST, lines, "dek#d-1#1")
    assert doc is not None
    for bad in (
        {**doc, "type": "x"},
        {**doc, "extra": 1},
        {**doc, "path": ["zz"]},
        {**doc, "leaf_index": -1},
    ):
        with pytest.raises(InputError):
            verify_proof(bad, MANIFEST, PINNED)


def test_proof_from_a_leaves_file_path(tmp_path: Path) -> None:
    path = tmp_path / "m.leaves"
    path.write_bytes(LEAVES)
    doc = make_proof(MANIFEST, path, "dek#d-1#1")
    assert doc == make_proof(MANIFEST, lines, "dek#d-1#1")
    with pytest.raises(InputError):
        make_proof(MANIFEST, tmp_path / "absent", "dek#d-1#1")
