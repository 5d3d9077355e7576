"""A BLAKE3 Merkle tree in the shape of RFC 9162, with inclusion proofs.

The manifest commits to every record of a dataset with one root (MAN-2).
The tree is RFC 9162 §2.1.1's: a tree of n > 1 leaves splits at k, the
largest power of two smaller than n, so every size has exactly one shape;
leaf and interior hashes carry distinct one-byte prefixes (0x00, 0x01) so a
leaf can never be passed off as a node (second-preimage attack). Only the
hash differs: BLAKE3-256 instead of SHA-256.

Compute is kept apart from compare: :func:`root_from_inclusion_proof`
computes a root (raising :class:`ProofError` when the proof's shape cannot
fit the tree), :func:`verify_inclusion` compares it with the expected root
and reports both values.

Everything here streams: :class:`TreeBuilder` folds leaves in order with an
O(log n) stack, and :func:`inclusion_proof` reads the leaf hashes once.
Specification: ``docs/manifest.md`` (MAN-2). Pure: no I/O.

>>> leaves = [leaf_hash(f"k{i}", bytes(32)) for i in range(5)]
>>> root = root_of(leaves)
>>> proof = inclusion_proof(leaves, 5, 3)
>>> verify_inclusion(3, 5, leaves[3], proof, root).ok
True
"""

from __future__ import annotations

import hmac
import itertools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import blake3

#: The algorithm identifier written into manifests (MAN-3).
MERKLE_ALG = "blake3-rfc9162-v1"
HASH_BYTES = 32
#: MAN-2.1: RFC 9162 domain-separation prefixes.
LEAF_PREFIX = b"\x00"
NODE_PREFIX = b"\x01"


def _h(data: bytes) -> bytes:
    return bytes(blake3.blake3(data).digest())


#: MAN-2.2: the root of the empty tree is the hash of the empty string.
EMPTY_ROOT = _h(b"")


class ProofError(ValueError):
    """An inclusion proof whose shape cannot belong to the stated tree."""


def leaf_hash(record_key: str, record_digest: bytes) -> bytes:
    """MAN-2.1: BLAKE3(0x00 || u32be(len(key)) || key UTF-8 || record digest).

    The key is inside the leaf so the root commits to *which* record has
    each digest; its length prefix keeps (key, digest) pairs unambiguous.
    """
    if len(record_digest) != HASH_BYTES:
        raise ValueError(f"a record digest is {HASH_BYTES} bytes, got {len(record_digest)}")
    key = record_key.encode("utf-8")
    return _h(LEAF_PREFIX + len(key).to_bytes(4, "big") + key + record_digest)


def node_hash(left: bytes, right: bytes) -> bytes:
    """MAN-2.1: BLAKE3(0x01 || left || right)."""
    return _h(NODE_PREFIX + left + right)


class TreeBuilder:
    """Fold leaf hashes, in order, into the RFC 9162 root with O(log n) memory.

    The stack holds the roots of complete subtrees of strictly decreasing
    size (the binary digits of the count); equal sizes merge at once. At the
    end the stack folds right to left, which is exactly the RFC 9162 split
    rule (the left part is always the largest power of two).
    """

    def __init__(self) -> None:
        self._stack: list[tuple[int, bytes]] = []
        self.size = 0

    def add(self, leaf: bytes) -> None:
        """Append one leaf hash."""
        size, node = 1, leaf
        while self._stack and self._stack[-1][0] == size:
            _, left = self._stack.pop()
            node = node_hash(left, node)
            size *= 2
        self._stack.append((size, node))
        self.size += 1

    def root(self) -> bytes:
        """The root of the leaves added so far (EMPTY_ROOT for none)."""
        if not self._stack:
            return EMPTY_ROOT
        acc = self._stack[-1][1]
        for _, left in reversed(self._stack[:-1]):
            acc = node_hash(left, acc)
        return acc


def root_of(leaves: Iterable[bytes]) -> bytes:
    """The root over leaf hashes given in tree order."""
    b = TreeBuilder()
    for leaf in leaves:
        b.add(leaf)
    return b.root()


def _largest_power_of_two_below(n: int) -> int:
    return 1 << ((n - 1).bit_length() - 1)


def proof_ranges(index: int, size: int) -> list[tuple[int, int]]:
    """The leaf ranges ``[lo, hi)`` whose subtree roots form PATH(index, D[size]).

    Listed in proof order (nearest the leaf first), per RFC 9162 §2.1.3.1.
    """
    if not 0 <= index < size:
        raise ProofError(f"leaf index {index} is outside a tree of size {size}")
    out: list[tuple[int, int]] = []
    lo, hi = 0, size
    while hi - lo > 1:
        k = _largest_power_of_two_below(hi - lo)
        if index < lo + k:
            out.append((lo + k, hi))
            hi = lo + k
        else:
            out.append((lo, lo + k))
            lo = lo + k
    out.reverse()
    return out


def inclusion_proof(leaves: Iterable[bytes], size: int, index: int) -> list[bytes]:
    """The audit path for leaf ``index`` in the tree of the first ``size`` leaves.

    Reads the leaf hashes once, in order, keeping only O(log n) builders.
    Raises :class:`ProofError` when the index is outside the tree, and
    ValueError when fewer than ``size`` leaves arrive.
    """
    ranges = proof_ranges(index, size)
    roots: dict[tuple[int, int], bytes] = {}
    it = iter(leaves)
    pos = 0
    for lo, hi in sorted(ranges):
        for _ in range(lo - pos):  # the proven leaf itself is skipped
            next(it, None)
        builder = TreeBuilder()
        for leaf in itertools.islice(it, hi - lo):
            builder.add(leaf)
        if builder.size != hi - lo:
            raise ValueError(f"expected {size} leaves, the input ended early")
        roots[(lo, hi)] = builder.root()
        pos = hi
    return [roots[r] for r in ranges]


def root_from_inclusion_proof(index: int, size: int, leaf: bytes, proof: Sequence[bytes]) -> bytes:
    """Compute the root implied by a leaf hash and its proof (RFC 9162 §2.1.3.2).

    Raises :class:`ProofError` when the index is outside the tree, a proof
    element is not 32 bytes, or the proof has the wrong number of elements.
    """
    if not 0 <= index < size:
        raise ProofError(f"leaf index {index} is outside a tree of size {size}")
    if len(leaf) != HASH_BYTES:
        raise ProofError(f"leaf hash is {len(leaf)} bytes, not {HASH_BYTES}")
    fn, sn, r = index, size - 1, leaf
    for i, p in enumerate(proof):
        if len(p) != HASH_BYTES:
            raise ProofError(f"proof element {i} is {len(p)} bytes, not {HASH_BYTES}")
        if sn == 0:
            raise ProofError(f"proof has {len(proof)} elements, more than the tree needs")
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            if not fn & 1:
                while not fn & 1 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise ProofError(f"proof has {len(proof)} elements, fewer than the tree needs")
    return r


@dataclass(frozen=True, slots=True)
class InclusionCheck:
    """The outcome of :func:`verify_inclusion`: both roots, and why it failed."""

    ok: bool
    expected_root: bytes
    calculated_root: bytes | None
    reason: str = ""

    def __bool__(self) -> bool:
        return self.ok


def verify_inclusion(
    index: int, size: int, leaf: bytes, proof: Sequence[bytes], root: bytes
) -> InclusionCheck:
    """Compare the computed root with ``root`` in constant time."""
    try:
        calculated = root_from_inclusion_proof(index, size, leaf, proof)
    except ProofError as exc:
        return InclusionCheck(False, root, None, str(exc))
    if hmac.compare_digest(calculated, root):
        return InclusionCheck(True, root, calculated)
    return InclusionCheck(False, root, calculated, "the proof leads to a different root")
