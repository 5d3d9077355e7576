"""Inclusion proofs for one record against a signed manifest (MAN-6).

``prove`` turns the manifest's leaves file into a small self-contained
document: the record's key and digest, its leaf index, the tree size, the
audit path and which manifest it belongs to. ``verify-proof`` checks that
document with only the manifest and the pinned public key, without the rest
of the data: the signed root vouches for the path.

>>> from chainaudit.conformance.vectorgen.manifest_build import SIGNER_LABEL, sample_manifest, vector_key
>>> from chainaudit.migration.manifest import public_key_bytes
>>> m, leaves = sample_manifest()
>>> doc = make_proof(m, lambda: leaves.splitlines(keepends=True), "dek#d-1#1")
>>> verify_proof(doc, m, [public_key_bytes(vector_key(SIGNER_LABEL))]).ok
True
"""

from __future__ import annotations

import contextlib
import hmac
import os
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any

from chainaudit.errors import InputError
from chainaudit.findings import Finding, Result, codes
from chainaudit.migration.manifest import (
    LeavesError,
    Pinned,
    check_shape,
    manifest_digest,
    read_leaves,
    verify_manifest,
)
from chainaudit.primitives.merkle import (
    ProofError,
    TreeBuilder,
    inclusion_proof,
    leaf_hash,
    root_from_inclusion_proof,
)
from chainaudit.records.digest import keyed_digest
from chainaudit.records.model import Record

PROOF_TYPE = "chainaudit/inclusion-proof"
PROOF_VERSION = 1
_MEMBERS = (
    "type",
    "version",
    "record_key",
    "record_digest",
    "leaf_index",
    "tree_size",
    "path",
    "merkle_root",
    "manifest_digest",
)


#: The leaves file: a path, or a function returning its lines afresh.
LeavesSource = str | os.PathLike[str] | Callable[[], Iterable[bytes]]


@contextlib.contextmanager
def _lines(leaves: LeavesSource) -> Iterator[Iterable[bytes]]:
    if callable(leaves):
        yield leaves()
        return
    try:
        with open(leaves, "rb") as fp:
            yield fp
    except OSError as exc:
        raise InputError(str(leaves), f"cannot read the leaves file: {exc}") from None


def make_proof(
    manifest: Mapping[str, Any],
    leaves: LeavesSource,
    record_key: str,
) -> dict[str, Any] | None:
    """The inclusion-proof document for ``record_key``, or None if the manifest
    does not list it.

    ``leaves`` is the leaves file's path (or a function returning its lines
    afresh). It is read twice (find the index, then build the path),
    streaming, so memory stays O(log n). Raises InputError when the leaves
    file is malformed or does not hash to the manifest's root.
    """
    check_shape(manifest)
    root = bytes.fromhex(manifest["merkle"]["root"])
    size = int(manifest["merkle"]["tree_size"])
    found: tuple[int, bytes] | None = None
    tree = TreeBuilder()
    where = "leaves" if callable(leaves) else str(leaves)
    try:
        with _lines(leaves) as lines:
            for i, (key, digest) in enumerate(read_leaves(lines, where)):
                tree.add(leaf_hash(key, digest))
                if key == record_key:
                    found = (i, digest)
    except LeavesError as exc:
        raise InputError(exc.where, exc.message) from None
    if tree.size != size or not hmac.compare_digest(tree.root(), root):
        raise InputError(where, "the leaves file does not hash to the manifest's Merkle root")
    if found is None:
        return None
    index, digest = found
    with _lines(leaves) as lines:
        path = inclusion_proof((leaf_hash(k, d) for k, d in read_leaves(lines)), size, index)
    return {
        "type": PROOF_TYPE,
        "version": PROOF_VERSION,
        "record_key": record_key,
        "record_digest": digest.hex(),
        "leaf_index": index,
        "tree_size": size,
        "path": [p.hex() for p in path],
        "merkle_root": root.hex(),
        "manifest_digest": manifest_digest(manifest),
    }


def _parse(doc: Mapping[str, Any]) -> tuple[str, bytes, int, int, list[bytes], str, str]:
    def need(cond: bool, what: str) -> None:
        if not cond:
            raise InputError("proof", f"malformed: {what}")

    need(doc.get("type") == PROOF_TYPE, f"type must be {PROOF_TYPE!r}")
    need(doc.get("version") == PROOF_VERSION, f"version must be {PROOF_VERSION}")
    need(set(doc) == set(_MEMBERS), "members must be exactly " + ", ".join(_MEMBERS))
    need(isinstance(doc["record_key"], str), "record_key")
    for name in ("leaf_index", "tree_size"):
        v = doc[name]
        need(isinstance(v, int) and not isinstance(v, bool) and v >= 0, name)
    need(isinstance(doc["path"], list), "path must be a list")
    try:
        digest = bytes.fromhex(doc["record_digest"])
        path = [bytes.fromhex(p) for p in doc["path"]]
        bytes.fromhex(doc["merkle_root"])
        bytes.fromhex(doc["manifest_digest"])
    except (TypeError, ValueError):
        raise InputError("proof", "malformed: hex members") from None
    return (
        doc["record_key"],
        digest,
        doc["leaf_index"],
        doc["tree_size"],
        path,
        doc["merkle_root"],
        doc["manifest_digest"],
    )


def verify_proof(
    doc: Mapping[str, Any],
    manifest: Mapping[str, Any],
    pinned: Pinned,
    record: Record | None = None,
) -> Result:
    """Check an inclusion proof against a signed manifest (MAN-6).

    With ``record``, also check that it is the record proven (same key and
    digest). ``checked["proofs"]`` is 1. Raises InputError for a malformed
    proof or manifest.
    """
    result = Result()
    key, digest, index, size, path, root_hex, mdigest = _parse(doc)
    result.extend(verify_manifest(manifest, pinned))
    try:
        check_shape(manifest)
    except InputError:
        if any(f.code == codes.MANIFEST_VERSION_UNSUPPORTED for f in result):
            return result  # not a manifest this verifier can read: that finding says so
        raise
    where = key
    want = {
        "manifest_digest": manifest_digest(manifest),
        "merkle_root": manifest["merkle"]["root"],
        "tree_size": str(manifest["merkle"]["tree_size"]),
    }
    got = {"manifest_digest": mdigest, "merkle_root": root_hex, "tree_size": str(size)}
    for name in want:
        if not hmac.compare_digest(want[name].encode(), got[name].encode()):
            result.add(
                Finding(
                    codes.PROOF_MANIFEST_MISMATCH,
                    where,
                    f"the proof's {name} is not the manifest's",
                    expected=want[name],
                    actual=got[name],
                )
            )
    if record is not None:
        rkey, rdigest = keyed_digest(record)
        if rkey != key or not hmac.compare_digest(rdigest, digest):
            result.add(
                Finding(
                    codes.PROOF_INVALID,
                    where,
                    "the record given is not the record the proof is for",
                    expected=f"{key} {digest.hex()}",
                    actual=f"{rkey} {rdigest.hex()}",
                )
            )
    root = bytes.fromhex(want["merkle_root"])
    try:
        calculated = root_from_inclusion_proof(
            index, int(want["tree_size"]), leaf_hash(key, digest), path
        )
    except (ProofError, ValueError) as exc:
        result.add(Finding(codes.PROOF_INVALID, where, str(exc), expected=root.hex()))
    else:
        if not hmac.compare_digest(calculated, root):
            result.add(
                Finding(
                    codes.PROOF_INVALID,
                    where,
                    "the path does not lead to the manifest's Merkle root",
                    expected=root.hex(),
                    actual=calculated.hex(),
                )
            )
    result.checked["proofs"] = 1
    return result
