"""RFC 6962 Merkle tree: the transparency-dev reference vectors and a naive re-implementation.

Vectors are copied from github.com/transparency-dev/merkle (testonly/constants.go
and proof/verify_test.go), the reference implementation of RFC 6962/9162.
"""

import hashlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from custos.ledger.merkle import (
    EMPTY_ROOT,
    MerkleTree,
    VerificationError,
    extend_frontier,
    frontier_root,
    hash_leaf,
    verify_consistency,
    verify_inclusion,
)

LEAVES = [
    bytes.fromhex(h)
    for h in (
        "",
        "00",
        "10",
        "2021",
        "3031",
        "40414243",
        "5051525354555657",
        "606162636465666768696a6b6c6d6e6f",
    )
]
ROOTS = [
    bytes.fromhex(h)
    for h in (
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
        "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
        "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
        "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
        "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
        "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
    )
]
# (leaf index, tree size, audit path); transparency-dev numbers leaves from 1, these from 0.
INCLUSION = [
    (0, 8, ["96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"]),
    (5, 8, ["bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"]),
    (2, 3, ["fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"]),
    (1, 5, ["6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"]),
]  # fmt: skip
CONSISTENCY = [
    (1, 1, []),
    (1, 8, ["96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"]),
    (6, 8, ["0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"]),
    (2, 5, ["5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"]),
    (6, 7, ["0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"]),
]  # fmt: skip
SOME_HASH = bytes.fromhex("abacaba000000000000000000000000000000000000000000060061e00123456")

TREE = MerkleTree(hash_leaf(leaf) for leaf in LEAVES)


# A naive implementation written straight from the RFC 6962 §2.1 definitions.
def _k(n: int) -> int:
    k = 1
    while k * 2 < n:
        k *= 2
    return k


def ref_mth(d: list[bytes]) -> bytes:
    if not d:
        return hashlib.sha256(b"").digest()
    if len(d) == 1:
        return hashlib.sha256(b"\x00" + d[0]).digest()
    k = _k(len(d))
    return hashlib.sha256(b"\x01" + ref_mth(d[:k]) + ref_mth(d[k:])).digest()


def ref_path(m: int, d: list[bytes]) -> list[bytes]:
    if len(d) == 1:
        return []
    k = _k(len(d))
    if m < k:
        return [*ref_path(m, d[:k]), ref_mth(d[k:])]
    return [*ref_path(m - k, d[k:]), ref_mth(d[:k])]


def ref_subproof(m: int, d: list[bytes], b: bool) -> list[bytes]:
    if m == len(d):
        return [] if b else [ref_mth(d)]
    k = _k(len(d))
    if m <= k:
        return [*ref_subproof(m, d[:k], b), ref_mth(d[k:])]
    return [*ref_subproof(m - k, d[k:], False), ref_mth(d[:k])]


@pytest.mark.parametrize("size", range(9))
def test_roots_match_the_reference_vectors(size: int) -> None:
    assert TREE.root(size) == ROOTS[size]
    assert ref_mth(LEAVES[:size]) == ROOTS[size]


def test_empty_tree_root_is_the_hash_of_nothing() -> None:
    assert MerkleTree().root() == EMPTY_ROOT == hashlib.sha256(b"").digest()


@pytest.mark.parametrize(("index", "size", "path"), INCLUSION)
def test_inclusion_proofs_match_the_reference_vectors(
    index: int, size: int, path: list[str]
) -> None:
    proof = TREE.inclusion_proof(index, size)
    assert [p.hex() for p in proof] == path
    verify_inclusion(hash_leaf(LEAVES[index]), index, size, proof, ROOTS[size])


@pytest.mark.parametrize(("old", "new", "path"), CONSISTENCY)
def test_consistency_proofs_match_the_reference_vectors(
    old: int, new: int, path: list[str]
) -> None:
    proof = TREE.consistency_proof(old, new)
    assert [p.hex() for p in proof] == path
    verify_consistency(old, new, proof, ROOTS[old], ROOTS[new])


def _inclusion_probes(index: int, size: int, proof: list[bytes], root: bytes, leaf: bytes):  # type: ignore[no-untyped-def]
    """The corruptions transparency-dev's verifier must reject (proof/verify_test.go)."""
    yield index - 1, size, proof, root, leaf
    yield index + 1, size, proof, root, leaf
    yield index ^ 2, size, proof, root, leaf
    yield index, size * 2, proof, root, leaf
    yield index, size // 2, proof, root, leaf
    yield index, size, proof, root, b"WrongLeaf"
    yield index, size, proof, ROOTS[0], leaf
    yield index, size, proof, SOME_HASH, leaf
    yield index, size, [*proof, b""], root, leaf
    yield index, size, [*proof, root], root, leaf
    yield index, size, [b"", *proof], root, leaf
    yield index, size, [root, *proof], root, leaf
    for i in range(len(proof)):
        flipped = bytearray(proof[i])
        flipped[0] ^= 8
        yield index, size, [*proof[:i], bytes(flipped), *proof[i + 1 :]], root, leaf
    if proof:
        yield index, size, proof[:-1], root, leaf
    if len(proof) > 1:
        yield index, size, [proof[0], SOME_HASH, *proof[1:]], root, leaf


@pytest.mark.parametrize(("index", "size", "path"), INCLUSION)
def test_corrupted_inclusion_proofs_are_rejected(index: int, size: int, path: list[str]) -> None:
    proof = [bytes.fromhex(p) for p in path]
    probes = list(_inclusion_probes(index, size, proof, ROOTS[size], hash_leaf(LEAVES[index])))
    for probe in probes:
        with pytest.raises(VerificationError):
            verify_inclusion(probe[4], probe[0], probe[1], probe[2], probe[3])


@pytest.mark.parametrize(("old", "new", "path"), [c for c in CONSISTENCY if c[2]])
def test_corrupted_consistency_proofs_are_rejected(old: int, new: int, path: list[str]) -> None:
    proof = [bytes.fromhex(p) for p in path]
    r1, r2 = ROOTS[old], ROOTS[new]
    probes = [
        (old - 1, new, proof, r1, r2), (old + 1, new, proof, r1, r2),
        (old ^ 2, new, proof, r1, r2), (old, new * 2, proof, r1, r2),
        (old, new // 2, proof, r1, r2), (old, new, proof, SOME_HASH, r2),
        (old, new, proof, r1, SOME_HASH), (old, new, proof, r2, r1), (old, new, [], r1, r2),
        (old, new, [*proof, b""], r1, r2), (old, new, [*proof, r1], r1, r2),
        (old, new, [*proof, r2], r1, r2), (old, new, [b"", *proof], r1, r2),
        (old, new, [r1, *proof], r1, r2), (old, new, [r2, *proof], r1, r2),
        (old, new, [proof[0], *proof], r1, r2), (old, new, proof[:-1], r1, r2),
    ]  # fmt: skip
    for i in range(len(proof)):
        flipped = bytearray(proof[i])
        flipped[0] ^= 16
        probes.append((old, new, [*proof[:i], bytes(flipped), *proof[i + 1 :]], r1, r2))
    for size1, size2, bad, root1, root2 in probes:
        if (size1, size2, root1, root2) == (old, new, r1, r2) and bad == proof:
            continue
        with pytest.raises(VerificationError):
            verify_consistency(size1, size2, bad, root1, root2)


@pytest.mark.parametrize(
    ("size1", "size2", "root1", "root2", "proof", "ok"),
    [
        (0, 0, b"1" * 32, b"2" * 32, [], False),
        (1, 1, b"1" * 32, b"2" * 32, [], False),
        (0, 0, b"1" * 32, b"1" * 32, [], True),
        (0, 1, b"1" * 32, b"2" * 32, [], True),
        (1, 1, b"2" * 32, b"2" * 32, [], True),
        (1, 0, b"1" * 32, b"2" * 32, [], False),
        (2, 1, b"1" * 32, b"2" * 32, [], False),
        (1, 2, b"1" * 32, b"2" * 32, [], False),
        (0, 0, EMPTY_ROOT, EMPTY_ROOT, [EMPTY_ROOT], False),
        (0, 1, EMPTY_ROOT, EMPTY_ROOT, [EMPTY_ROOT], False),
        (1, 1, EMPTY_ROOT, EMPTY_ROOT, [EMPTY_ROOT], False),
    ],
)
def test_trivial_consistency_cases(
    size1: int, size2: int, root1: bytes, root2: bytes, proof: list[bytes], ok: bool
) -> None:
    if ok:
        verify_consistency(size1, size2, proof, root1, root2)
    else:
        with pytest.raises(VerificationError):
            verify_consistency(size1, size2, proof, root1, root2)


@pytest.mark.parametrize(("index", "size"), [(0, 0), (0, 1), (1, 0), (2, 1)])
def test_inclusion_in_impossible_trees_is_rejected(index: int, size: int) -> None:
    for leaf, root in ((SOME_HASH, b""), (b"", EMPTY_ROOT), (SOME_HASH, EMPTY_ROOT)):
        with pytest.raises(VerificationError):
            verify_inclusion(leaf, index, size, [], root)


leaf_lists = st.lists(st.binary(max_size=8), min_size=1, max_size=70)


@given(leaf_lists, st.data())
def test_tree_agrees_with_the_naive_rfc_definitions(
    leaves: list[bytes], data: st.DataObject
) -> None:
    tree = MerkleTree(hash_leaf(x) for x in leaves)
    n = len(leaves)
    size = data.draw(st.integers(1, n), label="size")
    index = data.draw(st.integers(0, size - 1), label="index")
    old = data.draw(st.integers(1, size), label="old")
    assert tree.root(size) == ref_mth(leaves[:size])
    assert tree.inclusion_proof(index, size) == ref_path(index, leaves[:size])
    expected = [] if old == size else ref_subproof(old, leaves[:size], True)
    assert tree.consistency_proof(old, size) == expected
    verify_inclusion(
        hash_leaf(leaves[index]), index, size, tree.inclusion_proof(index, size), tree.root(size)
    )
    verify_consistency(
        old, size, tree.consistency_proof(old, size), tree.root(old), tree.root(size)
    )


@given(leaf_lists, st.integers(0, 70))
def test_growing_the_tree_leaf_by_leaf_gives_the_same_tree(leaves: list[bytes], cut: int) -> None:
    hashes = [hash_leaf(x) for x in leaves]
    grown = MerkleTree(hashes[:cut])
    for h in hashes[cut:]:
        grown.append(h)
    whole = MerkleTree(hashes)
    assert [grown.root(s) for s in range(len(hashes) + 1)] == [
        whole.root(s) for s in range(len(hashes) + 1)
    ]


@given(leaf_lists, st.integers(0, 70))
def test_frontiers_give_the_root_and_grow_like_the_tree(leaves: list[bytes], cut: int) -> None:
    hashes = [hash_leaf(x) for x in leaves]
    cut = min(cut, len(hashes))
    tree = MerkleTree(hashes)
    assert frontier_root(tree.frontier(cut)) == tree.root(cut)
    size, frontier = extend_frontier(cut, tree.frontier(cut), hashes[cut:])
    assert (size, frontier) == (len(hashes), tree.frontier())
    assert frontier_root(frontier) == tree.root()


def test_bad_arguments_are_value_errors() -> None:
    with pytest.raises(ValueError, match="not 9"):
        TREE.root(9)
    with pytest.raises(ValueError, match="not in a tree"):
        TREE.inclusion_proof(8, 8)
    with pytest.raises(ValueError, match="no consistency proof"):
        TREE.consistency_proof(5, 4)
    with pytest.raises(ValueError, match="32 bytes"):
        MerkleTree([b"short"])
    with pytest.raises(ValueError, match="frontier"):
        extend_frontier(3, [SOME_HASH], [])
