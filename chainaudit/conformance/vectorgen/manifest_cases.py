"""Manifest vectors (``vectors/manifest/``, MAN-7): digests, Merkle roots and
proofs, the signed sample manifest, manifest checks, gates, diffs and
inclusion-proof documents. One JSON file per case, named after what it
holds or the mutation it applies, each naming the finding codes it must
produce.
"""

from __future__ import annotations

import copy
import dataclasses
from pathlib import Path
from typing import Any

import blake3

from chainaudit.conformance.vectorgen import write_json
from chainaudit.conformance.vectorgen.manifest_build import (
    OTHER_LABEL,
    SIGNER_LABEL,
    audit_events,
    boundary_event,
    sample_manifest,
    sample_records,
    vector_key,
)
from chainaudit.findings import Result
from chainaudit.migration.diff import diff_sources
from chainaudit.migration.gate import gate_post
from chainaudit.migration.manifest import (
    manifest_digest,
    public_key_bytes,
    sign_manifest,
    signing_input,
    verify_manifest,
)
from chainaudit.migration.proof import make_proof, verify_proof
from chainaudit.primitives.merkle import (
    EMPTY_ROOT,
    inclusion_proof,
    leaf_hash,
    root_of,
    verify_inclusion,
)
from chainaudit.records.address import Address
from chainaudit.records.digest import canonical_record_json, record_digest, record_key, record_kind
from chainaudit.records.item import item_from_record, typed_to_json
from chainaudit.records.model import EntityRecord, Record

#: MAN-7.2: leaf i of the Merkle vectors.
MERKLE_DIGEST_DOMAIN = b"chainaudit/vectors/merkle\x00"
MAX_ACCUMULATED = 64
INCLUSION_CASES = ((1, 0), (2, 1), (3, 2), (5, 3), (7, 0), (7, 3), (8, 7), (64, 33), (65, 64))


def merkle_leaf(i: int) -> tuple[str, bytes]:
    """Record key and digest of Merkle-vector leaf ``i`` (MAN-7.2)."""
    return f"k{i:04d}", blake3.blake3(MERKLE_DIGEST_DOMAIN + i.to_bytes(4, "big")).digest()


def merkle_leaves(n: int) -> list[bytes]:
    return [leaf_hash(*merkle_leaf(i)) for i in range(n)]


def item_json(record: Record) -> dict[str, Any]:
    """A record as its typed JSON item (the form export files use)."""
    return {k: typed_to_json(v) for k, v in item_from_record(record).items()}


def _want(result: Result) -> list[dict[str, str]]:
    return [{"code": f.code.name, "where": f.where} for f in result]


def _hexs(bs: list[bytes]) -> list[str]:
    return [b.hex() for b in bs]


def _merkle(out: Path) -> list[Path]:
    files = []
    roots = []
    acc = bytes(32)
    for n in range(MAX_ACCUMULATED + 1):
        r = root_of(merkle_leaves(n))
        roots.append(r.hex())
        acc = blake3.blake3(acc + r).digest()
    assert roots[0] == EMPTY_ROOT.hex()
    files.append(
        write_json(
            out / "merkle-roots.json",
            {
                "type": "chainaudit/merkle-roots-vector",
                "version": 1,
                "desc": "roots of the trees over leaves 0..n-1 for n = 0..64, and the "
                "accumulated hash acc(n+1) = BLAKE3(acc(n) || root(n)), acc(0) = 32 zero bytes",
                "leaves": [
                    {"record_key": k, "record_digest": d.hex(), "leaf_hash": leaf_hash(k, d).hex()}
                    for k, d in map(merkle_leaf, range(MAX_ACCUMULATED))
                ],
                "roots": roots,
                "accumulated": acc.hex(),
            },
        )
    )
    for n, m in INCLUSION_CASES:
        leaves = merkle_leaves(n)
        path = inclusion_proof(leaves, n, m)
        case = {
            "leaf_index": m,
            "tree_size": n,
            "leaf_hash": leaves[m].hex(),
            "path": _hexs(path),
            "root": root_of(leaves).hex(),
        }
        files.append(
            _inclusion(out / f"inclusion-n{n}-i{m}.json", f"valid proof of leaf {m} of {n}", case)
        )
    n, m = 7, 3
    leaves = merkle_leaves(n)
    base: dict[str, Any] = {
        "leaf_index": m,
        "tree_size": n,
        "leaf_hash": leaves[m].hex(),
        "path": _hexs(inclusion_proof(leaves, n, m)),
        "root": root_of(leaves).hex(),
    }

    def flip(h: str, bit: int) -> str:
        b = bytearray(bytes.fromhex(h))
        b[bit // 8] ^= 1 << (bit % 8)
        return b.hex()

    tampered: dict[str, dict[str, Any]] = {}
    for i in range(len(base["path"])):
        p = list(base["path"])
        p[i] = flip(p[i], 3)
        tampered[f"modified-path[{i}]-bit-@3"] = {**base, "path": p}
    tampered["modified-leaf-bit-@0"] = {**base, "leaf_hash": flip(base["leaf_hash"], 0)}
    tampered["modified-root-bit-@255"] = {**base, "root": flip(base["root"], 255)}
    tampered["wrong-index-2"] = {**base, "leaf_index": 2}
    tampered["index-equals-size"] = {**base, "leaf_index": 7}
    tampered["wrong-size-4"] = {**base, "tree_size": 4}
    # Not a tampering that fails: RFC 9162 paths bind the size only through
    # their shape, so leaf 3 has the same path in trees of 5..8 leaves. This
    # case pins that fact; it is why the manifest signs tree_size (MAN-2.4).
    tampered["same-path-shape-size-8"] = {**base, "tree_size": 8}
    tampered["truncated-path"] = {**base, "path": base["path"][:-1]}
    tampered["extended-path"] = {**base, "path": [*base["path"], base["root"]]}
    tampered["empty-path"] = {**base, "path": []}
    for name, case in tampered.items():
        files.append(_inclusion(out / f"inclusion-n7-i3-{name}.json", name, case))
    return files


def _inclusion(path: Path, desc: str, case: dict[str, Any]) -> Path:
    check = verify_inclusion(
        case["leaf_index"],
        case["tree_size"],
        bytes.fromhex(case["leaf_hash"]),
        [bytes.fromhex(p) for p in case["path"]],
        bytes.fromhex(case["root"]),
    )
    obj = {
        "type": "chainaudit/merkle-inclusion-vector",
        "version": 1,
        "desc": desc,
        **case,
        "want": "valid" if check.ok else "PROOF_INVALID",
    }
    return write_json(path, obj)


def _records(out: Path) -> list[Path]:
    rows = []
    for r in sample_records():
        key, digest = record_key(r), record_digest(r)
        rows.append(
            {
                "record_key": key,
                "kind": record_kind(r),
                "item": item_json(r),
                "canonical_json": canonical_record_json(r).decode("utf-8"),
                "record_digest": digest.hex(),
                "leaf_hash": leaf_hash(key, digest).hex(),
            }
        )
    return [
        write_json(
            out / "records.json",
            {
                "type": "chainaudit/record-digest-vector",
                "version": 1,
                "desc": "the sample dataset: record keys, canonical JSON, digests and leaf hashes (MAN-1, MAN-2)",
                "records": rows,
            },
        )
    ]


def _manifests(out: Path) -> list[Path]:
    m, leaves = sample_manifest()
    signer = public_key_bytes(vector_key(SIGNER_LABEL))
    files = [
        write_json(
            out / "manifest.json",
            {
                "type": "chainaudit/manifest-vector",
                "version": 1,
                "desc": "the signed manifest of records.json, its leaves file and digest (MAN-3)",
                "signer_label": SIGNER_LABEL,
                "public_key": signer.hex(),
                "signing_input": signing_input(m).hex(),
                "manifest": m,
                "manifest_digest": manifest_digest(m),
                "leaves_file": leaves.decode("utf-8"),
            },
        )
    ]
    negatives: dict[str, tuple[dict[str, Any], list[bytes]]] = {}
    for path in (
        ("totals", "records"),
        ("merkle", "root"),
        ("chains", "crypto", "tip"),
        ("created_at",),
    ):
        bad = copy.deepcopy(m)
        node = bad
        for p in path[:-1]:
            node = node[p]
        v = node[path[-1]]
        node[path[-1]] = v + 1 if isinstance(v, int) else ("0" if v[0] != "0" else "1") + v[1:]
        negatives["altered-" + ".".join(path)] = (bad, [signer])
    negatives["signature-bit-flipped"] = (
        {**m, "signature": ("1" if m["signature"][0] == "0" else "0") + m["signature"][1:]},
        [signer],
    )
    negatives["untrusted-signer"] = (sign_manifest(m, vector_key(OTHER_LABEL)), [signer])
    negatives["no-pinned-keys"] = (m, [])
    negatives["version-2"] = ({**m, "version": 2}, [signer])
    negatives["unknown-merkle-algorithm"] = (
        {**m, "algorithms": {**m["algorithms"], "merkle": "sha256-rfc9162"}},
        [signer],
    )
    for name, (bad, pinned) in negatives.items():
        found = verify_manifest(bad, pinned)
        files.append(
            write_json(
                out / f"manifest-{name}.json",
                {
                    "type": "chainaudit/manifest-check-vector",
                    "version": 1,
                    "desc": name,
                    "manifest": bad,
                    "pinned": [k.hex() for k in pinned],
                    "want": [f.code.name for f in found],
                },
            )
        )
    return files


def _flip_ct(r: Record) -> Record:
    assert isinstance(r, EntityRecord) and r.envelope is not None
    ct = bytearray(r.envelope.ciphertext)
    ct[0] ^= 1
    return dataclasses.replace(r, envelope=dataclasses.replace(r.envelope, ciphertext=bytes(ct)))


def _gates(out: Path) -> list[Path]:
    m, leaves = sample_manifest()
    lines = leaves.splitlines(keepends=True)
    pinned = [public_key_bytes(vector_key(SIGNER_LABEL))]
    base = sample_records()
    tip = m["chains"]["crypto"]["tip"]
    bridge = boundary_event("crypto", 4, tip, manifest_digest(m))
    ada = base[1]
    assert isinstance(ada, EntityRecord)
    extra = dataclasses.replace(ada, address=Address.parse("dialogue:d-1/entity:expert/eve"))
    cases: dict[str, tuple[str, list[Record], list[bytes] | None]] = {
        "exact-copy": ("the target holds exactly the manifest's records", base, lines),
        "record-deleted": ("one entity deleted", base[:2] + base[3:], lines),
        "record-added": ("one entity added", [*base, extra], lines),
        "ciphertext-bit-flipped": (
            "one ciphertext bit flipped",
            [*base[:2], _flip_ct(base[2]), *base[3:]],
            lines,
        ),
        "ciphertext-bit-flipped-no-leaves": (
            "the same, without the leaves file",
            [*base[:2], _flip_ct(base[2]), *base[3:]],
            None,
        ),
        "leaves-line-dropped": (
            "the leaves file lost its first line; the target is intact: no record is named",
            base,
            lines[1:],
        ),
        "leaves-line-dropped-record-deleted": (
            "the leaves file lost its first line and one entity was deleted: detected by the "
            "root and counts, not named from the untrustworthy leaves file",
            base[:2] + base[3:],
            lines[1:],
        ),
        "chain-bridged": (
            "the crypto chain continues through a boundary naming the manifest's tip",
            [*base, bridge, *audit_events("crypto", 1, 5, bridge.fields["event_hash"])],
            lines,
        ),
        "chain-appended-without-boundary": (
            "an ordinary event appended after the manifest's tip",
            [*base, *audit_events("crypto", 1, 4, tip)],
            lines,
        ),
        "boundary-wrong-tip": (
            "a boundary naming another source tip",
            [*base, boundary_event("crypto", 4, "ab" * 32, None)],
            lines,
        ),
    }
    files = []
    for name, (desc, target, lv) in cases.items():
        result = gate_post(m, iter(target), pinned=pinned, leaves=lv)
        files.append(
            write_json(
                out / f"gate-{name}.json",
                {
                    "type": "chainaudit/gate-vector",
                    "version": 1,
                    "desc": desc,
                    "manifest": "manifest.json",
                    "leaves_file": None if lv is None else b"".join(lv).decode("utf-8"),
                    "target_items": [item_json(r) for r in target],
                    "want": _want(result),
                },
            )
        )
    a = base[1:]
    b = [*base[:5], _flip_ct(base[6]), *base[7:]]
    result = diff_sources(a, b, label_a="A", label_b="B")
    files.append(
        write_json(
            out / "diff-dual-write.json",
            {
                "type": "chainaudit/diff-vector",
                "version": 1,
                "desc": "A lost its first record, B lost one and holds another changed",
                "a_items": [item_json(r) for r in a],
                "b_items": [item_json(r) for r in b],
                "want": _want(result),
                "want_checked": dict(sorted(result.checked.items())),
            },
        )
    )
    return files


def _proofs(out: Path) -> list[Path]:
    m, leaves = sample_manifest()
    pinned = [public_key_bytes(vector_key(SIGNER_LABEL))]
    doc = make_proof(m, lambda: leaves.splitlines(keepends=True), "dek#d-1#1")
    assert doc is not None
    docs: dict[str, dict[str, Any]] = {"valid": doc}
    docs["path[0]-replaced"] = {**doc, "path": ["00" * 32, *doc["path"][1:]]}
    docs["wrong-leaf-index"] = {**doc, "leaf_index": doc["leaf_index"] + 1}
    docs["record-digest-changed"] = {**doc, "record_digest": "11" * 32}
    docs["truncated-path"] = {**doc, "path": doc["path"][:-1]}
    docs["tree-size-changed"] = {**doc, "tree_size": doc["tree_size"] + 1}
    docs["other-manifest"] = {**doc, "manifest_digest": "22" * 32}
    files = []
    for name, d in docs.items():
        result = verify_proof(d, m, pinned)
        files.append(
            write_json(
                out / f"proof-{name}.json",
                {
                    "type": "chainaudit/proof-vector",
                    "version": 1,
                    "desc": name,
                    "manifest": "manifest.json",
                    "proof": d,
                    "want": sorted({f.code.name for f in result}),
                },
            )
        )
    return files


def generate(out_dir: Path) -> list[Path]:
    """Write every manifest vector under ``out_dir`` (the ``manifest`` directory)."""
    return (
        _records(out_dir)
        + _merkle(out_dir)
        + _manifests(out_dir)
        + _gates(out_dir)
        + _proofs(out_dir)
    )
