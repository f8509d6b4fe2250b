//! Password hashing, the lockout policy and session tokens, shared by the
//! platform's accounts and the filing registry's users.
//!
//! - [`PasswordHasher`]: Argon2id ([`HashingParams`], OWASP's 19 MiB and 2
//!   iterations by default) on tokio's blocking pool, at most
//!   [`HASHING_CONCURRENCY_MAX`] hashes at once and at most
//!   [`HASHING_QUEUE_MAX`] callers waiting; one more is refused with
//!   [`Busy`] at once, so a burst of logins can take neither
//!   the process's memory nor its async threads. An unknown user is checked
//!   against a dummy hash, so that they cost the same as a wrong password.
//! - [`LockoutPolicy`]: consecutive failures that lock an account, and for
//!   how long.
//! - [`SessionToken`] and [`SessionKey`]: a 256-bit random bearer token,
//!   of which only the HMAC-SHA-256 under the session key is ever stored.
//! - [`PiiCipher`]: personal data at rest, AES-256-GCM bound to the record
//!   it belongs to, and keyed hashes for lookups; both applications use it.
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() {
//! use shucang_auth::{HashingLimits, HashingParams, PasswordHasher};
//!
//! let hasher = PasswordHasher::new(HashingParams::default(), HashingLimits::default()).unwrap();
//! let stored = hasher.hash("Correct#Horse9").await.unwrap();
//! assert!(hasher.verify(Some(&stored), "Correct#Horse9").await.unwrap());
//! // An unknown user: the dummy hash is checked, and the answer is no.
//! assert!(!hasher.verify(None, "Correct#Horse9").await.unwrap());
//! # }
//! ```
//!
//! **Architecture invariant:** no HTTP and no SQL: callers keep their
//! accounts in their own storage and hand this crate hashes and counts. Time
//! comes in as [`shucang_types::UnixMillis`], never from a clock read here.

mod lockout;
mod passwords;
mod pii;
mod tokens;

pub use lockout::{LockoutPolicy, LoginCheck, Refusal, StoredLogin};
pub use passwords::{
    BUSY_RETRY_AFTER_S, Busy, HASHING_CONCURRENCY_MAX, HASHING_QUEUE_MAX, HashingLimits,
    HashingParams, PasswordError, PasswordHasher,
};
pub use pii::{PiiCipher, PiiError};
pub use tokens::{SESSION_TOKEN_LEN_MAX, SessionKey, SessionToken, hashes_equal, six_digit_code};
