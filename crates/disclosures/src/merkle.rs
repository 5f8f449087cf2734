//! The RFC 6962 / RFC 9162 Merkle tree of the disclosure log: leaf and node hashing, the compact
//! frontier a writer appends to, the subtrees a proof needs, and proof verification.
//!
//! Storage keeps every perfect subtree's hash as a node `(level, index)`: level 0 holds the leaf
//! hashes, the node at level `l` and index `i` covers leaves `i·2^l .. (i+1)·2^l`. Any range the
//! RFC's recursion visits is a run of such nodes, so a proof needs O(log² n) node reads and never
//! the whole tree.

use std::ops::Range;

use sha2::{Digest, Sha256};

pub type Hash = [u8; 32];

/// `MTH({})`: the hash of the empty string.
pub fn empty_root() -> Hash {
    Sha256::digest([]).into()
}

/// `HASH(0x00 || data)`.
pub fn leaf_hash(data: &[u8]) -> Hash {
    let mut h = Sha256::new();
    h.update([0u8]);
    h.update(data);
    h.finalize().into()
}

/// `HASH(0x01 || left || right)`.
pub fn node_hash(left: &Hash, right: &Hash) -> Hash {
    let mut h = Sha256::new();
    h.update([1u8]);
    h.update(left);
    h.update(right);
    h.finalize().into()
}

/// A perfect subtree: `level` 0 is a leaf; it covers `index·2^level .. (index+1)·2^level`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct NodeId {
    pub level: u32,
    pub index: u64,
}

/// The largest power of two smaller than `n` (n ≥ 2): where the RFC splits a tree.
pub fn split(n: u64) -> u64 {
    debug_assert!(n >= 2);
    1 << (63 - (n - 1).leading_zeros())
}

/// The perfect subtrees that make up the leaves `range`, largest first. For every range the RFC's
/// recursion visits (and every prefix `0..n`), the range's hash is these folded from the right.
pub fn parts(range: Range<u64>) -> Vec<NodeId> {
    let mut out = Vec::new();
    let mut at = range.start;
    let len = range.end - range.start;
    for level in (0..64).rev() {
        if len & (1 << level) != 0 {
            out.push(NodeId {
                level,
                index: at >> level,
            });
            at += 1 << level;
        }
    }
    out
}

/// Folds a range's parts (largest first) into its hash.
pub fn fold(parts: &[Hash]) -> Hash {
    let mut iter = parts.iter().rev();
    let Some(last) = iter.next() else {
        return empty_root();
    };
    iter.fold(*last, |acc, p| node_hash(p, &acc))
}

/// The ranges whose hashes form the inclusion proof of leaf `index` in a tree of `size`, in proof
/// order (RFC 6962 §2.1.1, `PATH(m, D[n])`): bottom first.
pub fn inclusion_ranges(index: u64, size: u64) -> Vec<Range<u64>> {
    fn path(m: u64, range: Range<u64>, out: &mut Vec<Range<u64>>) {
        let n = range.end - range.start;
        if n <= 1 {
            return;
        }
        let k = split(n);
        let mid = range.start + k;
        if m < k {
            path(m, range.start..mid, out);
            out.push(mid..range.end);
        } else {
            path(m - k, mid..range.end, out);
            out.push(range.start..mid);
        }
    }
    let mut out = Vec::new();
    if index < size {
        path(index, 0..size, &mut out);
    }
    out
}

/// The ranges whose hashes form the consistency proof from a tree of `old` leaves to one of `new`
/// (RFC 6962 §2.1.2, `PROOF(m, D[n])`). Empty when `old` is 0 or equal to `new`.
pub fn consistency_ranges(old: u64, new: u64) -> Vec<Range<u64>> {
    fn subproof(m: u64, range: Range<u64>, complete: bool, out: &mut Vec<Range<u64>>) {
        let n = range.end - range.start;
        if m == n {
            if !complete {
                out.push(range);
            }
            return;
        }
        let k = split(n);
        let mid = range.start + k;
        if m <= k {
            subproof(m, range.start..mid, complete, out);
            out.push(mid..range.end);
        } else {
            subproof(m - k, mid..range.end, false, out);
            out.push(range.start..mid);
        }
    }
    let mut out = Vec::new();
    if old > 0 && old < new {
        subproof(old, 0..new, true, &mut out);
    }
    out
}

/// The right edge of a tree: the hashes of its perfect subtrees, largest first. Appending a leaf
/// needs only this, and it is all a writer keeps between appends.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Frontier {
    size: u64,
    peaks: Vec<Hash>,
}

impl Frontier {
    pub fn new() -> Self {
        Self::default()
    }

    /// A frontier as stored: `size` leaves and its peaks, largest first (one per set bit of size).
    pub fn from_parts(size: u64, peaks: Vec<Hash>) -> Option<Self> {
        (peaks.len() == size.count_ones() as usize).then_some(Self { size, peaks })
    }

    /// The stored form of the peaks: 32 bytes each, largest first.
    pub fn from_bytes(size: u64, bytes: &[u8]) -> Option<Self> {
        if !bytes.len().is_multiple_of(32) {
            return None;
        }
        let peaks = bytes
            .chunks_exact(32)
            .map(|c| c.try_into().expect("32 bytes"))
            .collect();
        Self::from_parts(size, peaks)
    }

    pub fn to_bytes(&self) -> Vec<u8> {
        self.peaks.concat()
    }

    pub fn size(&self) -> u64 {
        self.size
    }

    /// Appends a leaf hash; returns every node it completes, the leaf first (level 0), so that
    /// storage holds every perfect subtree.
    pub fn push(&mut self, leaf: Hash) -> Vec<(NodeId, Hash)> {
        let mut index = self.size;
        let mut hash = leaf;
        let mut level = 0;
        let mut completed = vec![(NodeId { level, index }, hash)];
        while (self.size >> level) & 1 == 1 {
            let left = self.peaks.pop().expect("a peak per set bit");
            hash = node_hash(&left, &hash);
            level += 1;
            index >>= 1;
            completed.push((NodeId { level, index }, hash));
        }
        self.peaks.push(hash);
        self.size += 1;
        completed
    }

    /// `MTH(D[size])`.
    pub fn root(&self) -> Hash {
        fold(&self.peaks)
    }
}

/// Why a proof does not hold.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProofError {
    #[error("leaf index {index} is not below the tree size {size}")]
    IndexOutOfRange { index: u64, size: u64 },
    #[error("the proof has the wrong number of hashes")]
    WrongLength,
    #[error("the proof does not lead to the expected root hash")]
    RootMismatch,
    #[error("the old tree ({old} leaves) is larger than the new one ({new})")]
    OldLargerThanNew { old: u64, new: u64 },
}

/// RFC 9162 §2.1.3.2: verifies that `leaf` is leaf `index` of the tree of `size` with `root`.
pub fn verify_inclusion(
    index: u64,
    size: u64,
    leaf: &Hash,
    proof: &[Hash],
    root: &Hash,
) -> Result<(), ProofError> {
    if index >= size {
        return Err(ProofError::IndexOutOfRange { index, size });
    }
    let (mut fnode, mut snode) = (index, size - 1);
    let mut r = *leaf;
    for p in proof {
        if snode == 0 {
            return Err(ProofError::WrongLength);
        }
        if fnode & 1 == 1 || fnode == snode {
            r = node_hash(p, &r);
            if fnode & 1 == 0 {
                while fnode & 1 == 0 && fnode != 0 {
                    fnode >>= 1;
                    snode >>= 1;
                }
            }
        } else {
            r = node_hash(&r, p);
        }
        fnode >>= 1;
        snode >>= 1;
    }
    if snode != 0 {
        return Err(ProofError::WrongLength);
    }
    if &r != root {
        return Err(ProofError::RootMismatch);
    }
    Ok(())
}

/// RFC 9162 §2.1.4.2: verifies that the tree of `old` leaves with `old_root` is a prefix of the
/// tree of `new` leaves with `new_root`.
pub fn verify_consistency(
    old: u64,
    new: u64,
    old_root: &Hash,
    new_root: &Hash,
    proof: &[Hash],
) -> Result<(), ProofError> {
    if old > new {
        return Err(ProofError::OldLargerThanNew { old, new });
    }
    if old == new {
        if !proof.is_empty() {
            return Err(ProofError::WrongLength);
        }
        return if old_root == new_root {
            Ok(())
        } else {
            Err(ProofError::RootMismatch)
        };
    }
    if old == 0 {
        // Every tree extends the empty one.
        return if proof.is_empty() {
            Ok(())
        } else {
            Err(ProofError::WrongLength)
        };
    }
    if proof.is_empty() {
        return Err(ProofError::WrongLength);
    }
    let mut path: Vec<Hash> = Vec::with_capacity(proof.len() + 1);
    if old.is_power_of_two() {
        path.push(*old_root);
    }
    path.extend_from_slice(proof);
    let (mut fnode, mut snode) = (old - 1, new - 1);
    while fnode & 1 == 1 {
        fnode >>= 1;
        snode >>= 1;
    }
    let (mut fr, mut sr) = (path[0], path[0]);
    for c in &path[1..] {
        if snode == 0 {
            return Err(ProofError::WrongLength);
        }
        if fnode & 1 == 1 || fnode == snode {
            fr = node_hash(c, &fr);
            sr = node_hash(c, &sr);
            if fnode & 1 == 0 {
                while fnode & 1 == 0 && fnode != 0 {
                    fnode >>= 1;
                    snode >>= 1;
                }
            }
        } else {
            sr = node_hash(&sr, c);
        }
        fnode >>= 1;
        snode >>= 1;
    }
    if snode != 0 {
        return Err(ProofError::WrongLength);
    }
    if &fr != old_root || &sr != new_root {
        return Err(ProofError::RootMismatch);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn unhex(s: &str) -> Vec<u8> {
        hex::decode(s).unwrap()
    }

    fn h(s: &str) -> Hash {
        unhex(s).try_into().unwrap()
    }

    /// The leaves and roots of the Certificate Transparency reference tests (also used by
    /// transparency-dev/merkle): published literals, independent of this code.
    const LEAVES: [&str; 8] = [
        "",
        "00",
        "10",
        "2021",
        "3031",
        "40414243",
        "5051525354555657",
        "606162636465666768696a6b6c6d6e6f",
    ];
    const ROOTS: [&str; 8] = [
        "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
        "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
        "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
        "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
        "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
        "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
    ];

    /// (leaf index, tree size, proof) from the same sources.
    fn inclusion_vectors() -> Vec<(u64, u64, Vec<Hash>)> {
        vec![
            (0, 1, vec![]),
            (
                0,
                8,
                vec![
                    h("96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7"),
                    h("5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e"),
                    h("6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"),
                ],
            ),
            (
                5,
                8,
                vec![
                    h("bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"),
                    h("ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0"),
                    h("d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"),
                ],
            ),
            (
                2,
                3,
                vec![h(
                    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
                )],
            ),
            (
                1,
                5,
                vec![
                    h("6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"),
                    h("5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e"),
                    h("bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"),
                ],
            ),
        ]
    }

    /// (old size, new size, proof).
    fn consistency_vectors() -> Vec<(u64, u64, Vec<Hash>)> {
        vec![
            (1, 1, vec![]),
            (
                1,
                8,
                vec![
                    h("96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7"),
                    h("5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e"),
                    h("6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"),
                ],
            ),
            (
                6,
                8,
                vec![
                    h("0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a"),
                    h("ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0"),
                    h("d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"),
                ],
            ),
            (
                2,
                5,
                vec![
                    h("5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e"),
                    h("bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"),
                ],
            ),
            (
                6,
                7,
                vec![
                    h("0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a"),
                    h("b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f"),
                    h("d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"),
                ],
            ),
        ]
    }

    /// Every node a frontier completes, as storage would keep them.
    struct Stored {
        nodes: HashMap<NodeId, Hash>,
        roots: Vec<Hash>,
    }

    fn build(leaves: &[Vec<u8>]) -> Stored {
        let mut frontier = Frontier::new();
        let mut nodes = HashMap::new();
        let mut roots = vec![frontier.root()];
        for leaf in leaves {
            nodes.extend(frontier.push(leaf_hash(leaf)));
            roots.push(frontier.root());
        }
        Stored { nodes, roots }
    }

    impl Stored {
        fn range(&self, r: Range<u64>) -> Hash {
            let hashes: Vec<Hash> = parts(r).iter().map(|id| self.nodes[id]).collect();
            fold(&hashes)
        }
        fn proof(&self, ranges: Vec<Range<u64>>) -> Vec<Hash> {
            ranges.into_iter().map(|r| self.range(r)).collect()
        }
    }

    fn reference_leaves() -> Vec<Vec<u8>> {
        LEAVES.iter().map(|l| unhex(l)).collect()
    }

    #[test]
    fn hashes_match_the_rfc_6962_vectors() {
        assert_eq!(
            hex::encode(empty_root()),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
        assert_eq!(
            hex::encode(leaf_hash(b"L123456")),
            "395aa064aa4c29f7010acfe3f25db9485bbd4b91897b6ad7ad547639252b4d56"
        );
        let n123: Vec<u8> = b"N123".to_vec();
        let n456: Vec<u8> = b"N456".to_vec();
        let mut hasher = Sha256::new();
        hasher.update([1u8]);
        hasher.update(&n123);
        hasher.update(&n456);
        assert_eq!(
            hex::encode(hasher.finalize()),
            "aa217fe888e47007fa15edab33c2b492a722cb106c64667fc2b044444de66bbb"
        );
    }

    #[test]
    fn roots_of_every_prefix_match_the_reference() {
        let stored = build(&reference_leaves());
        assert_eq!(stored.roots[0], empty_root());
        for (n, root) in ROOTS.iter().enumerate() {
            assert_eq!(
                hex::encode(stored.roots[n + 1]),
                *root,
                "root of {} leaves",
                n + 1
            );
            assert_eq!(
                stored.range(0..n as u64 + 1),
                h(root),
                "prefix 0..{}",
                n + 1
            );
        }
    }

    #[test]
    fn frontier_survives_its_stored_form() {
        let mut frontier = Frontier::new();
        for leaf in reference_leaves().iter().take(7) {
            frontier.push(leaf_hash(leaf));
        }
        let again = Frontier::from_bytes(7, &frontier.to_bytes()).unwrap();
        assert_eq!(again, frontier);
        assert!(Frontier::from_bytes(8, &frontier.to_bytes()).is_none());
        assert!(Frontier::from_bytes(7, &[0; 31]).is_none());
    }

    #[test]
    fn inclusion_proofs_match_the_reference_and_verify() {
        let leaves = reference_leaves();
        let stored = build(&leaves);
        for (index, size, want) in inclusion_vectors() {
            let got = stored.proof(inclusion_ranges(index, size));
            assert_eq!(got, want, "PATH({index}, D[{size}])");
            let root = stored.roots[size as usize];
            let leaf = leaf_hash(&leaves[index as usize]);
            verify_inclusion(index, size, &leaf, &got, &root).unwrap();
        }
    }

    #[test]
    fn consistency_proofs_match_the_reference_and_verify() {
        let stored = build(&reference_leaves());
        for (old, new, want) in consistency_vectors() {
            let got = stored.proof(consistency_ranges(old, new));
            assert_eq!(got, want, "PROOF({old}, D[{new}])");
            let (a, b) = (stored.roots[old as usize], stored.roots[new as usize]);
            verify_consistency(old, new, &a, &b, &got).unwrap();
        }
    }

    #[test]
    fn every_proof_of_a_larger_tree_verifies_and_a_changed_one_does_not() {
        let leaves: Vec<Vec<u8>> = (0..70u32).map(|i| i.to_be_bytes().to_vec()).collect();
        let stored = build(&leaves);
        for size in 1..=70u64 {
            let root = stored.roots[size as usize];
            for index in 0..size {
                let leaf = leaf_hash(&leaves[index as usize]);
                let proof = stored.proof(inclusion_ranges(index, size));
                verify_inclusion(index, size, &leaf, &proof, &root).unwrap();
                let other = leaf_hash(b"not this leaf");
                assert!(verify_inclusion(index, size, &other, &proof, &root).is_err());
                if index + 1 < size {
                    assert!(verify_inclusion(index + 1, size, &leaf, &proof, &root).is_err());
                }
                if let Some(first) = proof.first() {
                    let mut bent = proof.clone();
                    bent[0][0] ^= 8;
                    assert_ne!(&bent[0], first);
                    assert!(verify_inclusion(index, size, &leaf, &bent, &root).is_err());
                    assert!(
                        verify_inclusion(index, size, &leaf, &proof[1..], &root).is_err(),
                        "a shortened proof"
                    );
                }
            }
            for old in 1..=size {
                let proof = stored.proof(consistency_ranges(old, size));
                let old_root = stored.roots[old as usize];
                verify_consistency(old, size, &old_root, &root, &proof).unwrap();
                if old < size {
                    let wrong = stored.roots[old as usize - 1];
                    assert!(verify_consistency(old, size, &wrong, &root, &proof).is_err());
                    let mut extra = proof.clone();
                    extra.push(root);
                    assert!(verify_consistency(old, size, &old_root, &root, &extra).is_err());
                }
            }
        }
    }

    #[test]
    fn proofs_out_of_range_are_refused() {
        let root = empty_root();
        assert_eq!(
            verify_inclusion(3, 3, &root, &[], &root),
            Err(ProofError::IndexOutOfRange { index: 3, size: 3 })
        );
        assert!(inclusion_ranges(3, 3).is_empty());
        assert_eq!(
            verify_consistency(4, 3, &root, &root, &[]),
            Err(ProofError::OldLargerThanNew { old: 4, new: 3 })
        );
        assert!(consistency_ranges(0, 5).is_empty());
        verify_consistency(0, 5, &empty_root(), &root, &[]).unwrap();
    }
}
