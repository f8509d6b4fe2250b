//! SQL back ends for the platform's storage traits: SQLite (the embedded
//! default, WAL, `synchronous=FULL`) and PostgreSQL.
//!
//! [`open`] looks at the database URL once, connects, applies the
//! migrations (written once under `migrations/<database>/` in SQLite's
//! dialect, translated for PostgreSQL) and returns one [`Store`] that the
//! rest of the program uses without knowing which engine is underneath.
//!
//! One module per storage area (`accounts`, `identities`, `works`, `drops`,
//! `payments`, `gifts`, `complaints`, and the registry's `registry`), each a
//! plain `impl <Area>Store for SqlStore`; why one type serves both engines
//! is said in `engine`.
//!
//! **Architecture invariant:** this crate knows SQL and nothing of HTTP, JSON
//! or the chain. Domain rules live in `shucang-platform`; this crate only
//! makes each storage operation one atomic step.
//!
//! ```no_run
//! # async fn demo() -> Result<(), shucang_store::OpenError> {
//! let store = shucang_store::open("sqlite://./data/shucang.db").await?;
//! assert_eq!(store.backend(), shucang_store::Backend::Sqlite);
//! # Ok(()) }
//! ```

mod accounts;
mod complaints;
mod drops;
mod engine;
mod gifts;
mod identities;
mod lockout;
mod migrate;
mod outbox;
mod payments;
mod query;
mod registry;
mod schema;
pub mod test_support;
mod windows;
mod works;

use std::sync::Arc;

use async_trait::async_trait;
use shucang_platform::{
    AccountStore, ComplaintStore, DropStore, GiftStore, IdentityStore, PaymentStore, StoreError,
    WorkStore,
};

pub use engine::SqlStore;
pub use schema::{Column, ColumnType, Index, Schema};

/// Which engine a [`Store`] runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// An SQLite file (the embedded default).
    Sqlite,
    /// A PostgreSQL server.
    Postgres,
}

/// Everything the platform stores, on one back end.
#[async_trait]
pub trait Store:
    AccountStore
    + IdentityStore
    + WorkStore
    + DropStore
    + PaymentStore
    + GiftStore
    + ComplaintStore
    + shucang_notify::OutboxStore
{
    /// The engine underneath.
    fn backend(&self) -> Backend;
    /// Waits for in-flight work and closes the connections.
    async fn close(&self);
}

/// Why a database could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    /// The URL names no supported engine.
    #[error(
        "unsupported database URL (expected sqlite://PATH or postgres://USER@HOST:PORT/DB): {0}"
    )]
    UnsupportedUrl(String),
    /// The URL could not be parsed by the driver.
    #[error("invalid database URL: {0}")]
    InvalidUrl(#[source] sqlx::Error),
    /// The SQLite file or its directory could not be created or made
    /// private (mode 0600 / 0700).
    #[error("cannot create the database file or directory {path}: {source}")]
    CreateDir {
        /// The file or directory.
        path: String,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// Connecting failed.
    #[error("cannot connect to the database: {0}")]
    Connect(#[source] sqlx::Error),
    /// A migration failed.
    #[error("migration {version} ({name}) failed: {source}")]
    Migration {
        /// The migration's version.
        version: i64,
        /// The migration's name.
        name: &'static str,
        /// The database error.
        #[source]
        source: sqlx::Error,
    },
    /// The database was migrated by a newer shucang.
    #[error(
        "the database schema is at version {found}, newer than this binary knows ({known}); upgrade shucang"
    )]
    SchemaTooNew {
        /// The highest version applied in the database.
        found: i64,
        /// The highest version this binary knows.
        known: i64,
    },
}

/// Opens the database a URL names and brings its schema up to date.
///
/// `sqlite://PATH` (or `sqlite:PATH`) opens or creates an SQLite file,
/// creating its directory; `postgres://…` / `postgresql://…` connects to a
/// PostgreSQL database that must already exist.
pub async fn open(url: &str) -> Result<Arc<dyn Store>, OpenError> {
    Ok(Arc::new(SqlStore::open(url).await?))
}

/// The filing registry's storage on one back end.
#[async_trait]
pub trait RegistryBackend: shucang_registry::RegistryStore {
    /// Waits for in-flight work and closes the connections.
    async fn close(&self);
}

/// Opens the filing registry's database (its own, never the platform's)
/// and brings its schema up to date; URLs as for [`open`].
pub async fn open_registry(url: &str) -> Result<Arc<dyn RegistryBackend>, OpenError> {
    Ok(Arc::new(SqlStore::open_registry(url).await?))
}

/// A URL with any password replaced, safe to print.
pub fn redact_url(url: &str) -> String {
    if let Some((scheme, rest)) = url.split_once("://")
        && let Some((userinfo, host)) = rest.split_once('@')
        && let Some((user, _password)) = userinfo.split_once(':')
    {
        return format!("{scheme}://{user}:***@{host}");
    }
    url.to_owned()
}

pub(crate) fn backend_error(e: sqlx::Error) -> StoreError {
    StoreError::Backend(Box::new(e))
}

#[cfg(test)]
mod tests {
    use super::redact_url;

    #[test]
    fn passwords_are_redacted() {
        assert_eq!(
            redact_url("postgres://u:secret@h:5432/db"),
            "postgres://u:***@h:5432/db"
        );
        assert_eq!(redact_url("postgres://u@h/db"), "postgres://u@h/db");
        assert_eq!(redact_url("sqlite://./x.db"), "sqlite://./x.db");
    }
}
