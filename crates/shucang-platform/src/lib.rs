//! The collectibles platform's domain logic.
//!
//! So far: accounts and sessions ([`accounts`]). Each module owns its rules and
//! declares the storage it needs as a trait ([`store`]); the SQL back ends in
//! `shucang-store` implement those traits.
//!
//! **Architecture invariant:** this crate knows nothing of HTTP, JSON, HTML or
//! SQL. It receives validated values, decides, and writes through its storage
//! traits. Time comes from an injected [`shucang_types::Clock`].

pub mod accounts;
pub mod identity;
pub mod pii;
pub mod store;

pub use accounts::{
    Account, AccountError, AccountPolicy, AccountService, LoginError, NewSession, Registration,
    SessionToken,
};
pub use identity::{
    CONSENT_VERSION, Consent, IdentityError, IdentityService, IdentityVerifier, IdentityView,
    RealName, SandboxVerifier,
};
pub use pii::PiiCipher;
pub use store::{
    AccountRecord, AccountStore, IdentityRecord, IdentityStore, NewAccount, SessionRecord,
    StoreError,
};
