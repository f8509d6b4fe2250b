//! RFC 9162 (Certificate Transparency v2) Merkle tree hashing and proof
//! verification, with the suite's hash function.
//!
//! Leaf hash `H(0x00 ‖ data)`, node hash `H(0x01 ‖ left ‖ right)`; inclusion
//! proofs are verified by the algorithm of RFC 9162 §2.1.3.2 and consistency
//! proofs by that of §2.1.4.2.

use crate::{Hash, Suite};

/// Longest proof accepted: a tree of 2^64 leaves needs at most 64 hashes for
/// inclusion and 2 × 64 for consistency.
pub const PROOF_LEN_MAX: usize = 128;

/// Why a proof does not verify.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ProofError {
    /// The leaf index is not below the tree size.
    #[error("leaf index {index} is outside a tree of size {size}")]
    IndexOutOfRange {
        /// The index given.
        index: u64,
        /// The tree size given.
        size: u64,
    },
    /// The sizes do not describe an older and a newer tree.
    #[error("cannot prove consistency from size {from} to size {to}")]
    BadSizes {
        /// The older size.
        from: u64,
        /// The newer size.
        to: u64,
    },
    /// The proof has the wrong number of hashes for the sizes.
    #[error("the proof has the wrong number of hashes")]
    WrongLength,
    /// The proof is well-formed but does not lead to the expected root(s).
    #[error("the proof does not lead to the expected root hash")]
    RootMismatch,
}

/// `H(0x00 ‖ data)`.
pub fn leaf_hash(suite: Suite, data: &[u8]) -> Hash {
    suite.hash_parts(&[&[0x00], data])
}

/// `H(0x01 ‖ left ‖ right)`.
pub fn node_hash(suite: Suite, left: &Hash, right: &Hash) -> Hash {
    suite.hash_parts(&[&[0x01], left, right])
}

/// The hash of the empty tree, `H()`.
pub fn empty_root(suite: Suite) -> Hash {
    suite.hash(&[])
}

/// The two counters both RFC 9162 verifications climb the tree with:
/// `fn` (the node's index at the current level) and `sn` (the last node's).
struct Walk {
    fn_: u64,
    sn: u64,
}

impl Walk {
    /// Up one level.
    fn up(&mut self) {
        self.fn_ >>= 1;
        self.sn >>= 1;
    }

    /// Takes the next path node and climbs past it: `true` when that node
    /// is the left sibling (hashed before the running value). A path
    /// longer than the tree is tall fails.
    fn next(&mut self) -> Result<bool, ProofError> {
        if self.sn == 0 {
            return Err(ProofError::WrongLength);
        }
        let left = self.fn_ & 1 == 1 || self.fn_ == self.sn;
        if left {
            // The right edge: climb until `fn` is a right child or the root.
            while self.fn_ & 1 == 0 && self.fn_ != 0 {
                self.up();
            }
        }
        self.up();
        Ok(left)
    }

    /// A path shorter than the tree is tall fails.
    fn finish(self) -> Result<(), ProofError> {
        if self.sn != 0 {
            return Err(ProofError::WrongLength);
        }
        Ok(())
    }
}

/// Checks that `leaf` is leaf number `index` of the tree of `size` leaves
/// whose root is `root` (RFC 9162 §2.1.3.2).
pub fn verify_inclusion(
    suite: Suite,
    index: u64,
    size: u64,
    leaf: &Hash,
    path: &[Hash],
    root: &Hash,
) -> Result<(), ProofError> {
    if index >= size {
        return Err(ProofError::IndexOutOfRange { index, size });
    }
    if path.len() > PROOF_LEN_MAX {
        return Err(ProofError::WrongLength);
    }
    let mut walk = Walk {
        fn_: index,
        sn: size - 1,
    };
    let mut r = *leaf;
    for p in path {
        r = if walk.next()? {
            node_hash(suite, p, &r)
        } else {
            node_hash(suite, &r, p)
        };
    }
    walk.finish()?;
    if r != *root {
        return Err(ProofError::RootMismatch);
    }
    Ok(())
}

/// Checks that the tree of `from` leaves with root `from_root` is a prefix
/// of the tree of `to` leaves with root `to_root` (RFC 9162 §2.1.4.2).
/// `from` must be at least 1 (every tree extends the empty one trivially).
pub fn verify_consistency(
    suite: Suite,
    from: u64,
    to: u64,
    proof: &[Hash],
    from_root: &Hash,
    to_root: &Hash,
) -> Result<(), ProofError> {
    if from == 0 || from > to {
        return Err(ProofError::BadSizes { from, to });
    }
    if proof.len() > PROOF_LEN_MAX {
        return Err(ProofError::WrongLength);
    }
    if from == to {
        if !proof.is_empty() {
            return Err(ProofError::WrongLength);
        }
        return if from_root == to_root {
            Ok(())
        } else {
            Err(ProofError::RootMismatch)
        };
    }
    // When `from` is a power of two, the old root is itself the first node
    // of the path and is not sent.
    let mut path: Vec<Hash> = Vec::with_capacity(proof.len() + 1);
    if from.is_power_of_two() {
        path.push(*from_root);
    }
    path.extend_from_slice(proof);
    let Some((first, rest)) = path.split_first() else {
        return Err(ProofError::WrongLength);
    };
    let mut walk = Walk {
        fn_: from - 1,
        sn: to - 1,
    };
    while walk.fn_ & 1 == 1 {
        walk.up();
    }
    let (mut fr, mut sr) = (*first, *first);
    for c in rest {
        if walk.next()? {
            fr = node_hash(suite, c, &fr);
            sr = node_hash(suite, c, &sr);
        } else {
            sr = node_hash(suite, &sr, c);
        }
    }
    walk.finish()?;
    if fr != *from_root || sr != *to_root {
        return Err(ProofError::RootMismatch);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    //! Checked against a direct transcription of RFC 9162's recursive
    //! definitions (MTH, PATH, PROOF/SUBPROOF), for every index and size.

    use super::*;

    const S: Suite = Suite::Ed25519Sha256;

    fn mth(leaves: &[Hash]) -> Hash {
        match leaves.len() {
            0 => empty_root(S),
            1 => leaves[0],
            n => {
                let k = split(n);
                node_hash(S, &mth(&leaves[..k]), &mth(&leaves[k..]))
            }
        }
    }

    /// The largest power of two smaller than n.
    fn split(n: usize) -> usize {
        let mut k = 1;
        while k * 2 < n {
            k *= 2;
        }
        k
    }

    fn path(m: usize, leaves: &[Hash]) -> Vec<Hash> {
        let n = leaves.len();
        if n <= 1 {
            return vec![];
        }
        let k = split(n);
        if m < k {
            let mut p = path(m, &leaves[..k]);
            p.push(mth(&leaves[k..]));
            p
        } else {
            let mut p = path(m - k, &leaves[k..]);
            p.push(mth(&leaves[..k]));
            p
        }
    }

    fn subproof(m: usize, leaves: &[Hash], b: bool) -> Vec<Hash> {
        let n = leaves.len();
        if m == n {
            return if b { vec![] } else { vec![mth(leaves)] };
        }
        let k = split(n);
        if m <= k {
            let mut p = subproof(m, &leaves[..k], b);
            p.push(mth(&leaves[k..]));
            p
        } else {
            let mut p = subproof(m - k, &leaves[k..], false);
            p.push(mth(&leaves[..k]));
            p
        }
    }

    fn leaves(n: usize) -> Vec<Hash> {
        (0..n)
            .map(|i| leaf_hash(S, &(i as u64).to_be_bytes()))
            .collect()
    }

    #[test]
    fn inclusion_for_every_index_and_size() {
        let all = leaves(70);
        for n in 1..=all.len() {
            let root = mth(&all[..n]);
            for m in 0..n {
                let p = path(m, &all[..n]);
                verify_inclusion(S, m as u64, n as u64, &all[m], &p, &root).unwrap();
                // Any change fails.
                let mut bad = p.clone();
                if let Some(h) = bad.first_mut() {
                    h[0] ^= 1;
                    assert!(verify_inclusion(S, m as u64, n as u64, &all[m], &bad, &root).is_err());
                }
                assert!(
                    verify_inclusion(S, m as u64, n as u64, &all[(m + 1) % n], &p, &root).is_err()
                        || n == 1
                );
                assert!(
                    verify_inclusion(S, (m + 1) as u64, n as u64, &all[m], &p, &root).is_err()
                        || n == 1
                );
            }
        }
    }

    #[test]
    fn consistency_for_every_pair_of_sizes() {
        let all = leaves(40);
        for n in 1..=all.len() {
            let to_root = mth(&all[..n]);
            for m in 1..=n {
                let from_root = mth(&all[..m]);
                let p = subproof(m, &all[..n], true);
                verify_consistency(S, m as u64, n as u64, &p, &from_root, &to_root).unwrap();
                if m < n {
                    let mut bad = p.clone();
                    bad[0][5] ^= 0x80;
                    assert!(
                        verify_consistency(S, m as u64, n as u64, &bad, &from_root, &to_root)
                            .is_err()
                    );
                    let mut wrong_root = from_root;
                    wrong_root[31] ^= 1;
                    assert!(
                        verify_consistency(S, m as u64, n as u64, &p, &wrong_root, &to_root)
                            .is_err()
                    );
                }
            }
        }
    }

    #[test]
    fn malformed_inputs_are_errors_not_panics() {
        let h = [0u8; 32];
        assert_eq!(
            verify_inclusion(S, 3, 3, &h, &[], &h),
            Err(ProofError::IndexOutOfRange { index: 3, size: 3 })
        );
        assert_eq!(
            verify_inclusion(S, 0, 4, &h, &[], &h),
            Err(ProofError::WrongLength)
        );
        assert_eq!(
            verify_inclusion(S, 0, 1, &h, &[h], &h),
            Err(ProofError::WrongLength)
        );
        assert_eq!(
            verify_inclusion(S, 0, u64::MAX, &h, &[h; 129], &h),
            Err(ProofError::WrongLength)
        );
        assert_eq!(
            verify_consistency(S, 0, 4, &[], &h, &h),
            Err(ProofError::BadSizes { from: 0, to: 4 })
        );
        assert_eq!(
            verify_consistency(S, 5, 4, &[], &h, &h),
            Err(ProofError::BadSizes { from: 5, to: 4 })
        );
        assert_eq!(
            verify_consistency(S, 3, 3, &[h], &h, &h),
            Err(ProofError::WrongLength)
        );
        assert_eq!(
            verify_consistency(S, 3, 7, &[], &h, &h),
            Err(ProofError::WrongLength)
        );
        assert!(verify_consistency(S, 1, u64::MAX, &[h; 64], &h, &h).is_err());
    }

    proptest::proptest! {
        #[test]
        fn random_proofs_never_panic(index in 0u64..u64::MAX, size in 0u64..u64::MAX, n in 0usize..70, from in 0u64..1000, to in 0u64..1000) {
            let h = [9u8; 32];
            let path = vec![h; n];
            let _ = verify_inclusion(S, index, size, &h, &path, &h);
            let _ = verify_consistency(S, from, to, &path, &h, &h);
        }
    }
}
