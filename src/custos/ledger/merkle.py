"""The RFC 6962 Merkle tree over the ledger's leaf hashes, with its proofs.

`MerkleTree` keeps every complete (power-of-two, aligned) subtree hash, level
by level in flat byte arrays, so the root of any prefix, an audit path or a
consistency proof costs O(log² n) hashes after the tree is built, and a
million-event tree takes about 64 MB. Roots and proofs follow RFC 6962 §2.1
exactly (MTH, PATH, PROOF/SUBPROOF); verification is RFC 9162's, in the
stand-alone verifier module, which this module re-exports.

The compact form of a tree (its *frontier*: the roots of the complete
subtrees that make up a prefix, left to right) is what a checkpoint stores so
the next checkpoint only reads the events appended since.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from custos.ledger.verifier import (
    EMPTY_ROOT,
    HASH_SIZE,
    VerificationError,
    hash_children,
    hash_leaf,
    verify_consistency,
    verify_inclusion,
)

__all__ = [
    "EMPTY_ROOT",
    "MerkleTree",
    "VerificationError",
    "extend_frontier",
    "frontier_root",
    "hash_children",
    "hash_leaf",
    "largest_power_of_two_below",
    "verify_consistency",
    "verify_inclusion",
]


def largest_power_of_two_below(n: int) -> int:
    """The k of RFC 6962: the largest power of two strictly less than n (n > 1)."""
    return 1 << ((n - 1).bit_length() - 1)


class MerkleTree:
    """An append-only RFC 6962 tree of leaf hashes."""

    def __init__(self, leaf_hashes: Iterable[bytes] = ()) -> None:
        self._levels: list[bytearray] = [bytearray()]
        self.extend(leaf_hashes)

    @property
    def size(self) -> int:
        return len(self._levels[0]) // HASH_SIZE

    def leaf(self, index: int) -> bytes:
        self._check_range(index, index + 1)
        return bytes(self._levels[0][index * HASH_SIZE : (index + 1) * HASH_SIZE])

    def append(self, leaf_hash: bytes) -> None:
        self.extend((leaf_hash,))

    def extend(self, leaf_hashes: Iterable[bytes]) -> None:
        """Add leaves (already hashed with `hash_leaf`) and every subtree they complete."""
        base = self._levels[0]
        for h in leaf_hashes:
            if len(h) != HASH_SIZE:
                raise ValueError("a leaf hash is 32 bytes")
            base += h
        level = 0
        while len(self._levels[level]) >= 2 * HASH_SIZE:
            if len(self._levels) == level + 1:
                self._levels.append(bytearray())
            below, above = self._levels[level], self._levels[level + 1]
            done = len(above) // HASH_SIZE
            complete = len(below) // (2 * HASH_SIZE)
            view = memoryview(below)
            for i in range(done, complete):
                start = 2 * i * HASH_SIZE
                above += hash_children(
                    bytes(view[start : start + HASH_SIZE]),
                    bytes(view[start + HASH_SIZE : start + 2 * HASH_SIZE]),
                )
            view.release()
            level += 1

    def root(self, size: int | None = None) -> bytes:
        """MTH of the first `size` leaves (default: all)."""
        size = self.size if size is None else size
        self._check_range(0, size)
        return EMPTY_ROOT if size == 0 else self._hash(0, size)

    def inclusion_proof(self, index: int, size: int | None = None) -> list[bytes]:
        """PATH(index, D[0:size]) of RFC 6962 §2.1.1."""
        size = self.size if size is None else size
        self._check_range(0, size)
        if not 0 <= index < size:
            raise ValueError(f"leaf {index} is not in a tree of size {size}")
        return self._path(index, 0, size)

    def consistency_proof(self, old_size: int, new_size: int | None = None) -> list[bytes]:
        """PROOF(old_size, D[0:new_size]) of RFC 6962 §2.1.2; empty when old is 0 or equal."""
        new_size = self.size if new_size is None else new_size
        self._check_range(0, new_size)
        if not 0 <= old_size <= new_size:
            raise ValueError(f"no consistency proof from size {old_size} to {new_size}")
        if old_size in (0, new_size):
            return []
        return self._subproof(old_size, 0, new_size, True)

    def frontier(self, size: int | None = None) -> list[bytes]:
        """Roots of the complete subtrees that make up the first `size` leaves, left first."""
        size = self.size if size is None else size
        self._check_range(0, size)
        hashes, start = [], 0
        for height in reversed(range(size.bit_length())):
            if size >> height & 1:
                hashes.append(self._node(height, start >> height))
                start += 1 << height
        return hashes

    def _hash(self, start: int, end: int) -> bytes:
        n = end - start
        if n & (n - 1) == 0 and start % n == 0:
            return self._node(n.bit_length() - 1, start // n)
        k = largest_power_of_two_below(n)
        return hash_children(self._hash(start, start + k), self._hash(start + k, end))

    def _node(self, height: int, index: int) -> bytes:
        level = self._levels[height]
        return bytes(level[index * HASH_SIZE : (index + 1) * HASH_SIZE])

    def _path(self, m: int, start: int, end: int) -> list[bytes]:
        n = end - start
        if n == 1:
            return []
        k = largest_power_of_two_below(n)
        if m < k:
            return [*self._path(m, start, start + k), self._hash(start + k, end)]
        return [*self._path(m - k, start + k, end), self._hash(start, start + k)]

    def _subproof(self, m: int, start: int, end: int, whole: bool) -> list[bytes]:
        n = end - start
        if m == n:
            return [] if whole else [self._hash(start, end)]
        k = largest_power_of_two_below(n)
        if m <= k:
            return [*self._subproof(m, start, start + k, whole), self._hash(start + k, end)]
        return [*self._subproof(m - k, start + k, end, False), self._hash(start, start + k)]

    def _check_range(self, start: int, end: int) -> None:
        if start < 0 or end > self.size:
            raise ValueError(f"the tree has {self.size} leaves, not {end}")


def extend_frontier(
    size: int, frontier: Sequence[bytes], leaf_hashes: Iterable[bytes]
) -> tuple[int, list[bytes]]:
    """Grow a prefix's frontier by more leaves; returns the new size and frontier.

    Appending leaf number `size` merges one pair of subtrees per trailing one
    bit of `size`, exactly as the complete subtrees of the tree combine.
    """
    if len(frontier) != size.bit_count():
        raise ValueError(f"a frontier of {size} leaves has {size.bit_count()} hashes")
    stack = list(frontier)
    for leaf in leaf_hashes:
        stack.append(leaf)
        carry = size
        while carry & 1:
            right = stack.pop()
            stack.append(hash_children(stack.pop(), right))
            carry >>= 1
        size += 1
    return size, stack


def frontier_root(frontier: Sequence[bytes]) -> bytes:
    """MTH of a prefix from its frontier: the subtrees folded together from the right."""
    if not frontier:
        return EMPTY_ROOT
    root = frontier[-1]
    for h in reversed(frontier[:-1]):
        root = hash_children(h, root)
    return root
