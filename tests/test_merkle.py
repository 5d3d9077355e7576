"""MAN-2: the BLAKE3 RFC 9162 tree, inclusion proofs, and the on-disk sorted index."""

from __future__ import annotations

import random
import tracemalloc

import blake3
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chainaudit.migration.index import LeafIndex
from chainaudit.primitives.merkle import (
    EMPTY_ROOT,
    ProofError,
    TreeBuilder,
    inclusion_proof,
    leaf_hash,
    node_hash,
    proof_ranges,
    root_from_inclusion_proof,
    root_of,
    verify_inclusion,
)


def mth(leaves: list[bytes]) -> bytes:
    """RFC 9162 §2.1.1 MTH, written recursively as the RFC states it."""
    if not leaves:
        return blake3.blake3(b"").digest()
    if len(leaves) == 1:
        return leaves[0]
    k = 1
    while k * 2 < len(leaves):
        k *= 2
    return blake3.blake3(b"\x01" + mth(leaves[:k]) + mth(leaves[k:])).digest()


def leaves_of(n: int) -> list[bytes]:
    return [leaf_hash(f"k{i:05d}", blake3.blake3(str(i).encode()).digest()) for i in range(n)]


def test_hash_prefixes_are_the_rfc_ones() -> None:
    assert blake3.blake3(b"").digest() == EMPTY_ROOT
    d = bytes(range(32))
    assert leaf_hash("ab", d) == blake3.blake3(b"\x00\x00\x00\x00\x02ab" + d).digest()
    assert (
        node_hash(b"L" * 32, b"R" * 32) == blake3.blake3(b"\x01" + b"L" * 32 + b"R" * 32).digest()
    )
    with pytest.raises(ValueError):
        leaf_hash("a", b"short")


@given(st.integers(min_value=0, max_value=300))
def test_streaming_root_equals_recursive_definition(n: int) -> None:
    leaves = leaves_of(n)
    assert root_of(iter(leaves)) == mth(leaves)


@settings(max_examples=200)
@given(st.data())
def test_every_proof_verifies(data: st.DataObject) -> None:
    n = data.draw(st.integers(min_value=1, max_value=200))
    m = data.draw(st.integers(min_value=0, max_value=n - 1))
    leaves = leaves_of(n)
    proof = inclusion_proof(iter(leaves), n, m)
    assert len(proof) == len(proof_ranges(m, n))
    check = verify_inclusion(m, n, leaves[m], proof, mth(leaves))
    assert check.ok, check.reason
    assert check.calculated_root == check.expected_root


@settings(max_examples=200)
@given(st.data())
def test_any_single_bit_change_fails(data: st.DataObject) -> None:
    n = data.draw(st.integers(min_value=2, max_value=80))
    m = data.draw(st.integers(min_value=0, max_value=n - 1))
    leaves = leaves_of(n)
    proof = inclusion_proof(leaves, n, m)
    root = mth(leaves)
    target = data.draw(st.sampled_from(["leaf", "root", *[f"p{i}" for i in range(len(proof))]]))
    bit = data.draw(st.integers(min_value=0, max_value=255))

    def flip(b: bytes) -> bytes:
        x = bytearray(b)
        x[bit // 8] ^= 1 << (bit % 8)
        return bytes(x)

    leaf = leaves[m]
    if target == "leaf":
        leaf = flip(leaf)
    elif target == "root":
        root = flip(root)
    else:
        i = int(target[1:])
        proof = [*proof[:i], flip(proof[i]), *proof[i + 1 :]]
    check = verify_inclusion(m, n, leaf, proof, root)
    assert not check.ok
    assert check.calculated_root != root


@given(st.data())
def test_wrong_index_size_or_length_fails(data: st.DataObject) -> None:
    n = data.draw(st.integers(min_value=2, max_value=100))
    m = data.draw(st.integers(min_value=0, max_value=n - 1))
    leaves = leaves_of(n)
    proof = inclusion_proof(leaves, n, m)
    root = mth(leaves)
    other = data.draw(st.integers(min_value=0, max_value=n - 1).filter(lambda x: x != m))
    assert not verify_inclusion(other, n, leaves[m], proof, root).ok
    # A proof binds the tree size only through its path's shape (a leaf in
    # the left perfect subtree has the same path in some other sizes), which
    # is why the manifest signs tree_size (MAN-2.4). Any size with another
    # path length must fail.
    size = data.draw(st.integers(min_value=m + 1, max_value=300).filter(lambda x: x != n))
    if len(proof_ranges(m, size)) != len(proof):
        assert not verify_inclusion(m, size, leaves[m], proof, root).ok
    assert not verify_inclusion(
        n - 1, n + 1, leaves[n - 1], inclusion_proof(leaves, n, n - 1), root
    ).ok
    if proof:
        assert not verify_inclusion(m, n, leaves[m], proof[:-1], root).ok
    assert not verify_inclusion(m, n, leaves[m], [*proof, root], root).ok


def test_index_outside_tree_is_a_proof_error() -> None:
    with pytest.raises(ProofError):
        root_from_inclusion_proof(5, 5, b"\x00" * 32, [])
    with pytest.raises(ProofError):
        inclusion_proof([], 0, 0)
    assert verify_inclusion(0, 1, b"\x00" * 32, [], b"\x00" * 32).ok


@given(
    st.sets(st.text(min_size=1, max_size=8), min_size=0, max_size=20),
    st.sets(st.text(min_size=1, max_size=8), min_size=0, max_size=20),
)
def test_different_leaf_sets_have_different_roots(a: set[str], b: set[str]) -> None:
    d = bytes(32)
    ra = root_of(leaf_hash(k, d) for k in sorted(a, key=str.encode))
    rb = root_of(leaf_hash(k, d) for k in sorted(b, key=str.encode))
    assert (ra == rb) == (a == b)


def test_builder_counts() -> None:
    b = TreeBuilder()
    for leaf in leaves_of(7):
        b.add(leaf)
    assert b.size == 7
    assert b.root() == mth(leaves_of(7))


# --- the on-disk index (MAN-2.3) ------------------------------------------


@given(st.lists(st.tuples(st.text(max_size=6), st.binary(min_size=32, max_size=32)), max_size=40))
@settings(max_examples=50, deadline=None)
def test_index_sorts_by_utf8_bytes_and_keeps_first_arrival(pairs: list[tuple[str, bytes]]) -> None:
    with LeafIndex() as ix:
        ix.add_all(pairs)
        first: dict[str, bytes] = {}
        for k, d in pairs:
            first.setdefault(k, d)
        want = sorted(first.items(), key=lambda kv: kv[0].encode("utf-8"))
        assert list(ix.sorted_leaves()) == want
        assert len(ix) == len(first)
        assert ix.added == len(pairs)
        assert len(list(ix.duplicates())) == len(pairs) - len(first)
        assert ix.root() == mth([leaf_hash(k, d) for k, d in want])
        for i, (k, d) in enumerate(want):
            assert ix.position(k) == (i, d)
            assert ix.position("\uffff-absent") is None or "\uffff-absent" in first


def test_utf8_order_differs_from_utf16_order() -> None:
    # U+FF61 sorts before U+1F600 in UTF-8 but after it in UTF-16 code units.
    with LeafIndex() as ix:
        ix.add("\U0001f600", bytes(32))
        ix.add("\uff61", bytes(32))
        assert [k for k, _ in ix.sorted_leaves()] == ["\uff61", "\U0001f600"]


def test_index_memory_is_bounded() -> None:
    rnd = random.Random(7)
    n = 60_000
    tracemalloc.start()
    try:
        with LeafIndex() as ix:
            for _ in range(n):
                ix.add(f"dialogue:d{rnd.randrange(10**12)}/entity:meta", bytes(32))
            b = TreeBuilder()
            for leaf in ix.leaf_hashes():
                b.add(leaf)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert b.size > n - 10
    assert peak < 4_000_000, peak
