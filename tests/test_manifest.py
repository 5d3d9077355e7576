"""MAN-3: the manifest statement, its signature, the leaves file and the digest."""

from __future__ import annotations

import copy
import io
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chainaudit.conformance.vectorgen.manifest_build import (
    OTHER_LABEL,
    SIGNER_LABEL,
    sample_manifest,
    sample_records,
    vector_key,
)
from chainaudit.errors import InputError
from chainaudit.findings import codes
from chainaudit.migration.manifest import (
    LeavesError,
    ManifestBuilder,
    dump_manifest,
    leaves_line,
    load_manifest,
    manifest_digest,
    public_key_bytes,
    read_leaves,
    sign_manifest,
    signer_key_id,
    verify_manifest,
)
from chainaudit.primitives.merkle import leaf_hash, root_of
from chainaudit.records.digest import keyed_digest

PINNED = [public_key_bytes(vector_key(SIGNER_LABEL))]


def test_statement_counts_and_root() -> None:
    m, leaves = sample_manifest()
    assert m["type"] == "chainaudit/manifest" and m["version"] == 1
    assert m["totals"] == {
        "records": 20,
        "entities": 14,
        "deks": 2,
        "audit_events": 4,
        "dialogues": 2,
        "chains": 3,
    }
    assert m["dialogues"]["d%2F2"] == {"records": 8, "entities": 7, "deks": 1}
    assert m["chains"]["crypto"]["count"] == 4
    assert m["chains"]["dialogue:d-1/events"]["count"] == 3
    pairs = sorted((keyed_digest(r) for r in sample_records()), key=lambda kv: kv[0].encode())
    assert leaves == b"".join(leaves_line(k, d) for k, d in pairs)
    assert m["merkle"]["root"] == root_of(leaf_hash(k, d) for k, d in pairs).hex()
    assert m["merkle"]["tree_size"] == 20


def test_order_of_records_does_not_matter() -> None:
    recs = sample_records()
    random.Random(3).shuffle(recs)
    with ManifestBuilder() as b:
        b.add_all(recs)
        shuffled = b.statement(created_at="t", source={})
    with ManifestBuilder() as b:
        b.add_all(sample_records())
        ordered = b.statement(created_at="t", source={})
    assert shuffled == ordered


def test_signature_verifies_only_under_the_pinned_key() -> None:
    m, _ = sample_manifest()
    assert verify_manifest(m, PINNED) == []
    assert m["signer_key_id"] == signer_key_id(PINNED[0])
    other = [public_key_bytes(vector_key(OTHER_LABEL))]
    (f,) = verify_manifest(m, other)
    assert f.code is codes.MANIFEST_SIGNER_UNTRUSTED
    assert verify_manifest(m, [])[0].code is codes.MANIFEST_SIGNER_UNTRUSTED


def test_signed_by_another_key_is_untrusted() -> None:
    m, _ = sample_manifest()
    resigned = sign_manifest(m, vector_key(OTHER_LABEL))
    assert verify_manifest(resigned, PINNED)[0].code is codes.MANIFEST_SIGNER_UNTRUSTED


@pytest.mark.parametrize(
    "path",
    [
        ("totals", "records"),
        ("merkle", "tree_size"),
        ("dialogues", "d-1", "entities"),
        ("chains", "crypto", "count"),
        ("created_at",),
        ("source", "name"),
    ],
)
def test_any_altered_field_breaks_the_signature(path: tuple[str, ...]) -> None:
    m, _ = sample_manifest()
    bad = copy.deepcopy(m)
    node = bad
    for p in path[:-1]:
        node = node[p]
    node[path[-1]] = node[path[-1]] + 1 if isinstance(node[path[-1]], int) else node[path[-1]] + "x"
    (f,) = verify_manifest(bad, PINNED)
    assert f.code is codes.MANIFEST_SIGNATURE_INVALID


def test_altered_root_or_signer_id() -> None:
    m, _ = sample_manifest()
    bad = copy.deepcopy(m)
    bad["merkle"]["root"] = "00" * 32
    assert verify_manifest(bad, PINNED)[0].code is codes.MANIFEST_SIGNATURE_INVALID
    bad = copy.deepcopy(m)
    bad["signature"] = "00" * 64
    assert verify_manifest(bad, PINNED)[0].code is codes.MANIFEST_SIGNATURE_INVALID


def test_unsupported_version_and_algorithm() -> None:
    m, _ = sample_manifest()
    for mutate in ({"version": 2}, {"type": "x"}, {"algorithms": {"record_digest": "sha256"}}):
        bad = {**m, **mutate}
        assert verify_manifest(bad, PINNED)[0].code is codes.MANIFEST_VERSION_UNSUPPORTED


def test_malformed_manifest_is_input_error() -> None:
    m, _ = sample_manifest()
    bad = copy.deepcopy(m)
    bad["merkle"]["root"] = "zz"
    with pytest.raises(InputError):
        verify_manifest(bad, PINNED)
    with pytest.raises(InputError):
        load_manifest(b"[1]")
    with pytest.raises(InputError):
        load_manifest(b"\xff")


def test_file_round_trip_and_digest() -> None:
    m, _ = sample_manifest()
    again = load_manifest(dump_manifest(m))
    assert again == m
    assert verify_manifest(again, PINNED) == []
    assert manifest_digest(again) == manifest_digest(m)
    assert len(manifest_digest(m)) == 64


def test_duplicate_keys_are_findings() -> None:
    recs = sample_records()
    with ManifestBuilder() as b:
        b.add_all([*recs, recs[0], recs[3]])
        st_ = b.statement(created_at="t", source={})
        dups = b.duplicate_findings()
    assert st_["totals"]["records"] == 20
    assert sorted(f.where for f in dups) == sorted(
        [keyed_digest(recs[0])[0], keyed_digest(recs[3])[0]]
    )
    assert {f.code for f in dups} == {codes.RECORD_KEY_DUPLICATE}


def test_chain_tips_can_be_supplied() -> None:
    from chainaudit.migration.manifest import ChainTip

    with ManifestBuilder() as b:
        b.add_all(sample_records())
        s = b.statement(
            created_at="t", source={}, chains={"crypto": ChainTip(9, "ab" * 32, "blake3")}
        )
    assert s["chains"]["crypto"] == {"count": 9, "tip": "ab" * 32, "hash_alg": "blake3"}


def test_leaves_reader_is_strict() -> None:
    _, leaves = sample_manifest()
    lines = leaves.splitlines(keepends=True)
    assert len(list(read_leaves(lines))) == 20
    for bad in (
        [lines[1], lines[0]],  # unsorted
        [lines[0], lines[0]],  # duplicate
        [lines[0].replace(b'","', b'", "')],  # not canonical
        [lines[0][:-1]],  # no LF
        [b'["k","00"]\n'],  # short digest
        [b"{}\n"],
    ):
        with pytest.raises(LeavesError):
            list(read_leaves(bad))


@settings(max_examples=50)
@given(st.text(max_size=30), st.binary(min_size=32, max_size=32))
def test_leaves_line_round_trips(key: str, digest: bytes) -> None:
    assert list(read_leaves([leaves_line(key, digest)])) == [(key, digest)]
    assert leaves_line(key, digest).count(b"\n") == 1


def test_leaves_written_while_building() -> None:
    buf = io.BytesIO()
    with ManifestBuilder() as b:
        b.add_all(sample_records())
        b.statement(created_at="t", source={}, leaves_out=buf)
    assert buf.getvalue() == sample_manifest()[1]


def test_build_manifest_in_one_call_and_trust_store() -> None:
    from chainaudit.keys.signing import TrustStore
    from chainaudit.migration.manifest import build_manifest

    buf = io.BytesIO()
    recs = sample_records()
    m, dups = build_manifest(
        [*recs, recs[0]],
        private_key=vector_key(SIGNER_LABEL),
        created_at="2026-01-02T03:04:05.000Z",
        source={"name": "dynamodb://blue_dialogues", "region": "eu-central-1"},
        leaves_out=buf,
    )
    assert (m, buf.getvalue()) == sample_manifest()
    assert [f.code for f in dups] == [codes.RECORD_KEY_DUPLICATE]
    assert verify_manifest(m, TrustStore.of(PINNED)) == []


def test_findings_table_in_docs_matches_the_registry() -> None:
    import re
    from pathlib import Path

    from chainaudit.findings import registry

    doc = (Path(__file__).resolve().parent.parent / "docs" / "manifest.md").read_text(
        encoding="utf-8"
    )
    table = doc.split("## MAN-8", 1)[1]
    rows = re.findall(
        r"^\| `([A-Z_]+)`(?: / `([A-Z_]+)`)? \| (\w+) \| (MAN-[\d.]+) \|", table, re.M
    )
    documented = {}
    for first, second, severity, spec in rows:
        for name in filter(None, (first, second)):
            documented[name] = (severity, spec)
    section = (
        Path(codes.__file__)
        .read_text(encoding="utf-8")
        .split("# --- Manifests, gates and diffs")[1]
        .split("\n# --- ")[0]
    )
    ours = set(re.findall(r'register\(\n    "([A-Z_]+)"', section))
    assert set(documented) == ours
    for name, (severity, spec) in documented.items():
        code = registry()[name]
        assert (code.severity.value, code.spec) == (severity, spec), name
