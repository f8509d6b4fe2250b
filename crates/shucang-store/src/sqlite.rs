//! The SQLite back end: one file, WAL journal, `synchronous=FULL` so that a
//! committed transaction survives power loss, not only `kill -9`.

use std::str::FromStr;
use std::sync::Arc;

use std::time::Duration;
use tokio::sync::{Mutex, OwnedMutexGuard};

use async_trait::async_trait;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};

use crate::migrate::{Migration, migrations, run_migrations};
use crate::{Backend, OpenError, Store};

/// How long a writer waits for SQLite's write lock before failing.
const SQLITE_BUSY_TIMEOUT_MS: u64 = 5_000;
/// Connections in the pool; SQLite serialises writers, readers run in parallel.
const SQLITE_POOL_SIZE_MAX: u32 = 8;

const MIGRATIONS: &[Migration] = migrations!("sqlite");
const REGISTRY_MIGRATIONS: &[Migration] = crate::migrate::registry_migrations!("registry-sqlite");

/// The SQLite store.
#[derive(Debug, Clone)]
pub struct SqliteStore {
    pub(crate) pool: SqlitePool,
    writer: Arc<Mutex<()>>,
}

impl SqliteStore {
    /// Opens (creating if needed) the SQLite file named by `url` and migrates it.
    pub async fn open(url: &str) -> Result<SqliteStore, OpenError> {
        let store = SqliteStore::connect(url).await?;
        run_migrations!(&store.pool, MIGRATIONS, "")?;
        Ok(store)
    }

    /// Opens the filing registry's SQLite file and migrates it with the
    /// registry's migrations.
    pub async fn open_registry(url: &str) -> Result<SqliteStore, OpenError> {
        let store = SqliteStore::connect(url).await?;
        run_migrations!(
            &store.pool,
            REGISTRY_MIGRATIONS,
            "",
            "registry_schema_migrations"
        )?;
        Ok(store)
    }

    async fn connect(url: &str) -> Result<SqliteStore, OpenError> {
        let options = SqliteConnectOptions::from_str(url)
            .map_err(OpenError::InvalidUrl)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .foreign_keys(true)
            .busy_timeout(Duration::from_millis(SQLITE_BUSY_TIMEOUT_MS));
        if let Some(dir) = options.get_filename().parent()
            && !dir.as_os_str().is_empty()
        {
            std::fs::create_dir_all(dir).map_err(|source| OpenError::CreateDir {
                path: dir.display().to_string(),
                source,
            })?;
        }
        let pool = SqlitePoolOptions::new()
            .max_connections(SQLITE_POOL_SIZE_MAX)
            .connect_with(options)
            .await
            .map_err(OpenError::Connect)?;
        Ok(SqliteStore {
            pool,
            writer: Arc::new(Mutex::new(())),
        })
    }
}

impl SqliteStore {
    /// A transaction that will write. Writers queue on an in-process lock
    /// first (SQLite admits one writer; waiting in SQLite's busy handler
    /// means sleeping in growing steps of up to 100 ms), then take SQLite's
    /// write lock at once (`BEGIN IMMEDIATE`), so they never fail later on
    /// upgrading. Keep the guard until the transaction ends.
    pub(crate) async fn write_tx(
        &self,
    ) -> Result<
        (
            OwnedMutexGuard<()>,
            sqlx::Transaction<'static, sqlx::Sqlite>,
        ),
        sqlx::Error,
    > {
        let guard = self.writer.clone().lock_owned().await;
        let tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        Ok((guard, tx))
    }
}

#[async_trait]
impl Store for SqliteStore {
    fn backend(&self) -> Backend {
        Backend::Sqlite
    }

    async fn close(&self) {
        self.pool.close().await;
    }
}

crate::accounts::impl_account_store!(SqliteStore);
crate::identities::impl_identity_store!(SqliteStore);
crate::works::impl_work_store!(SqliteStore);
crate::drops::impl_drop_store!(SqliteStore);
crate::payments::impl_payment_store!(SqliteStore);
crate::gifts::impl_gift_store!(SqliteStore);
crate::complaints::impl_complaint_store!(SqliteStore);
crate::registry::impl_registry_store!(SqliteStore);

#[async_trait]
impl crate::RegistryBackend for SqliteStore {
    async fn close(&self) {
        self.pool.close().await;
    }
}
