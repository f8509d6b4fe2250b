//! The append-only Merkle log, kept in memory as the hashes of every
//! complete, aligned subtree, so that proofs need few hashes to build.

use shucang_verify::merkle::{empty_root, leaf_hash, node_hash};
use shucang_verify::{Hash, Suite};

/// An RFC 9162 Merkle tree that only grows.
///
/// `levels[k][i]` is the hash of the complete subtree of `2^k` leaves that
/// starts at leaf `i · 2^k`; `levels[0]` holds the leaf hashes. Any subtree
/// a proof needs is then either one stored hash or, on the right edge of a
/// tree, a combination of `O(log n)` of them. Memory: about two hashes
/// (64 bytes) per leaf.
#[derive(Debug, Clone)]
pub struct MerkleLog {
    suite: Suite,
    levels: Vec<Vec<Hash>>,
}

impl MerkleLog {
    /// An empty log.
    pub fn new(suite: Suite) -> MerkleLog {
        MerkleLog {
            suite,
            levels: vec![Vec::new()],
        }
    }

    /// The suite whose hash the log uses.
    pub fn suite(&self) -> Suite {
        self.suite
    }

    /// Leaves in the log.
    pub fn size(&self) -> u64 {
        self.levels[0].len() as u64
    }

    /// Appends a leaf with these data; returns its index.
    pub fn append(&mut self, data: &[u8]) -> u64 {
        self.append_leaf_hash(leaf_hash(self.suite, data))
    }

    /// Appends a leaf by its leaf hash; returns its index.
    pub fn append_leaf_hash(&mut self, leaf: Hash) -> u64 {
        let index = self.size();
        self.levels[0].push(leaf);
        // Each completed pair at one level completes a node one level up.
        let mut level = 0;
        while self.levels[level].len().is_multiple_of(2) {
            let n = self.levels[level].len();
            let parent = node_hash(
                self.suite,
                &self.levels[level][n - 2],
                &self.levels[level][n - 1],
            );
            if self.levels.len() == level + 1 {
                self.levels.push(Vec::new());
            }
            self.levels[level + 1].push(parent);
            level += 1;
        }
        index
    }

    /// The leaf hash at `index`, if it exists.
    pub fn leaf(&self, index: u64) -> Option<Hash> {
        self.levels[0].get(usize::try_from(index).ok()?).copied()
    }

    /// The root hash of the whole log.
    pub fn root(&self) -> Hash {
        self.root_at(self.size())
            .expect("the current size is always known")
    }

    /// The root hash the log had when it held `size` leaves.
    pub fn root_at(&self, size: u64) -> Option<Hash> {
        if size > self.size() {
            return None;
        }
        if size == 0 {
            return Some(empty_root(self.suite));
        }
        Some(self.subtree(0, size))
    }

    /// The inclusion proof of leaf `index` in the tree of `size` leaves
    /// (RFC 9162 §2.1.3.1), or `None` if `index >= size` or `size` is larger
    /// than the log.
    pub fn inclusion_proof(&self, index: u64, size: u64) -> Option<Vec<Hash>> {
        if index >= size || size > self.size() {
            return None;
        }
        let mut out = Vec::with_capacity(64);
        self.path(index, 0, size, &mut out);
        Some(out)
    }

    /// The consistency proof from the tree of `from` leaves to the tree of
    /// `to` leaves (RFC 9162 §2.1.4.1), or `None` unless
    /// `1 <= from <= to <= size`.
    pub fn consistency_proof(&self, from: u64, to: u64) -> Option<Vec<Hash>> {
        if from == 0 || from > to || to > self.size() {
            return None;
        }
        let mut out = Vec::with_capacity(64);
        self.subproof(from, 0, to, true, &mut out);
        Some(out)
    }

    /// MTH of the `n` leaves starting at `start`, where `start` is a multiple
    /// of the largest power of two not above `n` (always true in the
    /// recursions below).
    fn subtree(&self, start: u64, n: u64) -> Hash {
        if n.is_power_of_two() {
            let level = n.trailing_zeros() as usize;
            return self.levels[level][(start >> level) as usize];
        }
        let k = split(n);
        node_hash(
            self.suite,
            &self.subtree(start, k),
            &self.subtree(start + k, n - k),
        )
    }

    fn path(&self, m: u64, start: u64, n: u64, out: &mut Vec<Hash>) {
        if n <= 1 {
            return;
        }
        let k = split(n);
        if m < k {
            self.path(m, start, k, out);
            out.push(self.subtree(start + k, n - k));
        } else {
            self.path(m - k, start + k, n - k, out);
            out.push(self.subtree(start, k));
        }
    }

    fn subproof(&self, m: u64, start: u64, n: u64, complete: bool, out: &mut Vec<Hash>) {
        if m == n {
            if !complete {
                out.push(self.subtree(start, n));
            }
            return;
        }
        let k = split(n);
        if m <= k {
            self.subproof(m, start, k, complete, out);
            out.push(self.subtree(start + k, n - k));
        } else {
            self.subproof(m - k, start + k, n - k, false, out);
            out.push(self.subtree(start, k));
        }
    }
}

/// The largest power of two smaller than `n` (`n >= 2`).
fn split(n: u64) -> u64 {
    debug_assert!(n >= 2);
    1 << (63 - (n - 1).leading_zeros())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use shucang_verify::merkle::{verify_consistency, verify_inclusion};

    fn log_of(suite: Suite, n: u64) -> MerkleLog {
        let mut log = MerkleLog::new(suite);
        for i in 0..n {
            assert_eq!(log.append(&i.to_be_bytes()), i);
        }
        log
    }

    #[test]
    fn split_is_the_largest_smaller_power_of_two() {
        for (n, k) in [
            (2, 1),
            (3, 2),
            (4, 2),
            (5, 4),
            (8, 4),
            (9, 8),
            (1 << 40, 1 << 39),
        ] {
            assert_eq!(split(n), k, "n = {n}");
        }
    }

    #[test]
    fn known_roots() {
        let log = MerkleLog::new(Suite::Ed25519Sha256);
        // The empty tree's root is SHA-256 of nothing.
        assert_eq!(log.root()[..4], [0xe3, 0xb0, 0xc4, 0x42],);
        let one = log_of(Suite::Ed25519Sha256, 1);
        assert_eq!(
            one.root(),
            leaf_hash(Suite::Ed25519Sha256, &0u64.to_be_bytes())
        );
    }

    /// Checks the log's inclusion proof of `index` in its tree of `size`
    /// leaves, whose root is `root`.
    fn check_inclusion(suite: Suite, log: &MerkleLog, index: u64, size: u64, root: &Hash) {
        let path = log.inclusion_proof(index, size).unwrap();
        let leaf = log.leaf(index).unwrap();
        verify_inclusion(suite, index, size, &leaf, &path, root).unwrap();
    }

    /// Checks the log's consistency proof from its tree of `from` leaves to
    /// that of `to`.
    fn check_consistency(suite: Suite, log: &MerkleLog, from: u64, to: u64) {
        let proof = log.consistency_proof(from, to).unwrap();
        let (old, new) = (log.root_at(from).unwrap(), log.root_at(to).unwrap());
        verify_consistency(suite, from, to, &proof, &old, &new).unwrap();
    }

    #[test]
    fn every_inclusion_proof_verifies_for_both_suites() {
        for suite in Suite::ALL {
            let log = log_of(suite, 300);
            for size in 1..=log.size() {
                let root = log.root_at(size).unwrap();
                for index in 0..size {
                    check_inclusion(suite, &log, index, size, &root);
                }
            }
        }
    }

    #[test]
    fn every_index_of_large_trees_verifies() {
        let suite = Suite::Ed25519Sha256;
        let log = log_of(suite, 4097);
        for size in [1000, 2047, 2048, 2049, 3001, 4096, 4097] {
            let root = log.root_at(size).unwrap();
            for index in 0..size {
                check_inclusion(suite, &log, index, size, &root);
            }
            for from in (1..=size).step_by(97) {
                check_consistency(suite, &log, from, size);
            }
        }
    }

    #[test]
    fn every_consistency_proof_verifies() {
        let suite = Suite::Ed25519Sha256;
        let log = log_of(suite, 90);
        for to in 1..=log.size() {
            for from in 1..=to {
                check_consistency(suite, &log, from, to);
            }
        }
    }

    #[test]
    fn out_of_range_requests_are_none() {
        let log = log_of(Suite::Ed25519Sha256, 5);
        assert!(log.inclusion_proof(5, 5).is_none());
        assert!(log.inclusion_proof(0, 6).is_none());
        assert!(log.consistency_proof(0, 3).is_none());
        assert!(log.consistency_proof(4, 3).is_none());
        assert!(log.consistency_proof(2, 6).is_none());
        assert!(log.root_at(6).is_none());
        assert!(log.leaf(5).is_none());
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        #[test]
        fn large_trees_prove_and_a_changed_bit_fails(
            size in 1u64..4000,
            pick in any::<u64>(),
            bit in 0usize..256,
        ) {
            let suite = Suite::Ed25519Sha256;
            let log = log_of(suite, size);
            let index = pick % size;
            let root = log.root();
            let path = log.inclusion_proof(index, size).unwrap();
            let leaf = log.leaf(index).unwrap();
            prop_assert!(verify_inclusion(suite, index, size, &leaf, &path, &root).is_ok());
            if !path.is_empty() {
                let mut bad = path.clone();
                let which = (pick as usize / 7) % bad.len();
                bad[which][bit / 8] ^= 1 << (bit % 8);
                prop_assert!(verify_inclusion(suite, index, size, &leaf, &bad, &root).is_err());
            }
            let mut bad_leaf = leaf;
            bad_leaf[bit / 8] ^= 1 << (bit % 8);
            prop_assert!(verify_inclusion(suite, index, size, &bad_leaf, &path, &root).is_err());

            let from = 1 + pick % size;
            let proof = log.consistency_proof(from, size).unwrap();
            let old = log.root_at(from).unwrap();
            prop_assert!(verify_consistency(suite, from, size, &proof, &old, &root).is_ok());
        }
    }
}
