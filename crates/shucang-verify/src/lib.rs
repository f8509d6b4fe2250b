//! Offline verification of what the shucang chain publishes: the crypto
//! suites' hashes and signatures, RFC 9162 Merkle inclusion and consistency
//! proofs, and C2SP signed-note checkpoints.
//!
//! Anyone holding the node's public key can check, with this crate alone,
//! that a transaction is in the log the node signed, and that the log only
//! ever grew.
//!
//! **Architecture invariant:** this crate depends on nothing but hashing,
//! signature and base64 code. No I/O, no clock, no serde, no platform types —
//! so it can compile to WebAssembly for the browser.
//!
//! ```
//! use shucang_verify::{Suite, merkle};
//! let suite = Suite::Ed25519Sha256;
//! let leaf = merkle::leaf_hash(suite, b"tx");
//! // A one-leaf tree: the root is the leaf hash and the path is empty.
//! assert!(merkle::verify_inclusion(suite, 0, 1, &leaf, &[], &leaf).is_ok());
//! ```

pub mod bundle;
pub mod merkle;
pub mod note;
mod suite;
pub mod vkey;

pub use suite::{ADDRESS_LEN, Hash, SM2_DEFAULT_USER_ID, SignatureError, Suite};
