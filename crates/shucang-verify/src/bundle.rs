//! Verifying one transaction's proof bundle: the transaction's own
//! signature, its inclusion in the log, and the node's signature on the
//! checkpoint the inclusion is proved against.

use crate::merkle::{ProofError, leaf_hash, verify_inclusion};
use crate::note::{Checkpoint, NoteError, verify_checkpoint};
use crate::{ADDRESS_LEN, Hash, Suite};

/// Domain tag before the transaction hash in what a transaction's signer signs.
pub const TX_SIGNING_DOMAIN: &[u8] = b"shucang/tx/v1\n";
/// Offset of the signer's public key in an encoded transaction
/// (after the version byte, the suite byte and the 8-byte nonce).
const TX_SIGNER_OFFSET: usize = 10;
/// Version byte of encoded transactions this verifier understands.
const TX_VERSION: u8 = 1;

/// The parts of a proof bundle.
#[derive(Debug, Clone)]
pub struct Bundle<'a> {
    /// The encoded signed transaction (the Merkle leaf data).
    pub tx: &'a [u8],
    /// The transaction hash the bundle claims, if it states one.
    pub tx_hash: Option<Hash>,
    /// The leaf index.
    pub leaf_index: u64,
    /// The tree size the bundle claims, if it states one.
    pub tree_size: Option<u64>,
    /// The inclusion path.
    pub path: &'a [Hash],
    /// The signed checkpoint text.
    pub checkpoint: &'a str,
}

/// What a valid bundle proves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    /// The transaction hash.
    pub tx_hash: Hash,
    /// The signer's address.
    pub signer: [u8; ADDRESS_LEN],
    /// The leaf index.
    pub leaf_index: u64,
    /// The checkpoint the transaction is included in.
    pub checkpoint: Checkpoint,
}

/// Why a bundle is not valid.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BundleError {
    /// The checkpoint is malformed or not signed by the given key.
    #[error("checkpoint: {0}")]
    Checkpoint(#[from] NoteError),
    /// The transaction bytes are not a transaction of this suite.
    #[error("transaction: {0}")]
    Transaction(&'static str),
    /// The transaction's signature does not verify.
    #[error("transaction: the signer's signature does not verify")]
    TransactionSignature,
    /// The stated hash or tree size contradicts the proof.
    #[error("{0}")]
    Mismatch(&'static str),
    /// The inclusion proof fails.
    #[error("inclusion: {0}")]
    Inclusion(#[from] ProofError),
}

/// Verifies a bundle under the node's `public_key`.
pub fn verify_bundle(
    suite: Suite,
    public_key: &[u8],
    bundle: &Bundle<'_>,
) -> Result<Verified, BundleError> {
    let checkpoint = verify_checkpoint(suite, public_key, bundle.checkpoint)?;
    if bundle.tree_size.is_some_and(|s| s != checkpoint.size) {
        return Err(BundleError::Mismatch(
            "the stated tree size is not the checkpoint's",
        ));
    }
    let tx = bundle.tx;
    let key_len = suite.public_key_len();
    let sig_len = suite.signature_len();
    if tx.len() < TX_SIGNER_OFFSET + key_len + 1 + sig_len {
        return Err(BundleError::Transaction("too short"));
    }
    if tx[0] != TX_VERSION {
        return Err(BundleError::Transaction("unknown version"));
    }
    if tx[1] != suite.code() {
        return Err(BundleError::Transaction("another suite"));
    }
    let signer_key = &tx[TX_SIGNER_OFFSET..TX_SIGNER_OFFSET + key_len];
    let (unsigned, signature) = tx.split_at(tx.len() - sig_len);
    let tx_hash = suite.hash(unsigned);
    let mut message = TX_SIGNING_DOMAIN.to_vec();
    message.extend_from_slice(&tx_hash);
    suite
        .verify(signer_key, &message, signature)
        .map_err(|_| BundleError::TransactionSignature)?;
    if bundle.tx_hash.is_some_and(|h| h != tx_hash) {
        return Err(BundleError::Mismatch(
            "the stated transaction hash is not the transaction's",
        ));
    }
    verify_inclusion(
        suite,
        bundle.leaf_index,
        checkpoint.size,
        &leaf_hash(suite, tx),
        bundle.path,
        &checkpoint.root,
    )?;
    Ok(Verified {
        tx_hash,
        signer: suite.address(signer_key),
        leaf_index: bundle.leaf_index,
        checkpoint,
    })
}
