//! The embedded permissioned chain of PRODUCT.md §4.
//!
//! So far: transactions with their canonical encoding, hash and signature
//! ([`SignedTransaction`]), signing keys of both suites ([`SigningKey`]), and
//! the append-only Merkle log ([`MerkleLog`]) over every accepted
//! transaction, in the RFC 9162 shape, with inclusion and consistency proof
//! generation. Proofs are checked with `shucang-verify`, the same code an
//! offline verifier runs.
//!
//! **Architecture invariant:** this crate knows nothing of HTTP, SQL, JSON or
//! platform users. It speaks in keys, addresses, tokens and bytes.
//!
//! ```
//! use shucang_chain::MerkleLog;
//! use shucang_verify::{Suite, merkle};
//! let mut log = MerkleLog::new(Suite::Ed25519Sha256);
//! for tx in [b"a", b"b", b"c"] {
//!     log.append(tx);
//! }
//! let path = log.inclusion_proof(1, 3).unwrap();
//! let leaf = merkle::leaf_hash(Suite::Ed25519Sha256, b"b");
//! assert!(merkle::verify_inclusion(Suite::Ed25519Sha256, 1, 3, &leaf, &path, &log.root()).is_ok());
//! ```

mod block;
mod chain;
mod codec;
mod keys;
mod ledger;
mod merkle_log;
pub mod storage;
mod tx;

pub use block::{
    BLOCK_TXS_MAX, Block, BlockHeader, Genesis, OPERATORS_MAX, ORIGIN_LEN_MAX, TX_BYTES_MAX,
    TxSpan, tx_root,
};
pub use chain::{
    AddressPage, BlockMeta, Chain, ChainConfig, ChainError, ChainStats, CheckReport, LeafInfo,
    OpenReport, ProofBundle, Receipt, SubmitError, TxRecord, check, verify_parallel,
};
pub use codec::DecodeError;
pub use keys::{InvalidSecret, SigningKey};
pub use ledger::{CollectionState, Ledger, Rejection, TokenState};
pub use merkle_log::MerkleLog;
pub use tx::{
    Address, AddressError, COLLECTION_ID_LEN_MAX, CollectionId, CollectionIdError,
    MINT_BATCH_LEN_MAX, MintItem, NAME_LEN_MAX, NewCollection, Operation, SYMBOL_LEN_MAX,
    SignedTransaction, Transaction, URI_LEN_MAX, tx_hash_of_encoded,
};
