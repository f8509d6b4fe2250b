//! The one SQL store type, [`SqlStore`], on either engine.
//!
//! Both engines run the same code through sqlx's runtime-generic `Any`
//! driver: every query is written once in the dialect SQLite and PostgreSQL
//! share (`$N` parameters, `RETURNING`, `ON CONFLICT`), and the few places
//! where the engines differ (connection set-up, how a writer starts its
//! transaction, the migration lock, DDL type names) branch on [`Backend`]
//! here and in `migrate`. We chose this over one implementation per engine
//! (the storage code would be written twice) and over functions generic over
//! `sqlx::Database` (each needs a dozen `Encode`/`Decode`/`Executor` bounds
//! that would drown the SQL): with `Any`, each storage area is a plain
//! `impl Trait for SqlStore` that rust-analyzer can navigate and check.
//! The values we store are integers, text and bytes only, which `Any`
//! carries without loss.

use std::marker::PhantomData;
use std::ops::{Deref, DerefMut};
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::sqlite::SqliteConnectOptions;
use sqlx::{Any, AnyConnection, AnyPool, ConnectOptions, Connection, Executor};
use tokio::sync::{Mutex, OwnedMutexGuard};

use crate::migrate::{self, MigrationSet};
use crate::query::{FromSqlx, Statement};
use crate::{Backend, OpenError, Store};

/// SQLite connections in the pool; SQLite serialises writers, readers run in parallel.
const SQLITE_POOL_SIZE_MAX: u32 = 8;
/// PostgreSQL connections in the pool.
const PG_POOL_SIZE_MAX: u32 = 16;
/// How long to wait for a free connection before failing a request.
const POOL_ACQUIRE_TIMEOUT_MS: u64 = 10_000;

/// Set on every SQLite connection: WAL, `synchronous=FULL` (a committed
/// transaction survives power loss, not only `kill -9`), foreign keys on,
/// and 5 s of waiting for the write lock before failing.
const SQLITE_PRAGMAS: &str = "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; \
     PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 5000;";

/// The SQL store, on SQLite or PostgreSQL.
#[derive(Debug, Clone)]
pub struct SqlStore {
    pub(crate) pool: AnyPool,
    backend: Backend,
    /// SQLite admits one writer: writers queue here first (see [`SqlStore::write_tx`]).
    writer: Arc<Mutex<()>>,
    /// The outbox table of this database (`outbox` or `reg_outbox`).
    outbox_table: &'static str,
}

/// A write transaction (see [`SqlStore::write_tx`]) that reports failures
/// as `E`, the storage area's error. It reads as the connection it runs on;
/// dropped without [`Writer::commit`], it rolls back.
pub(crate) struct Writer<E> {
    tx: sqlx::Transaction<'static, Any>,
    /// SQLite's writer queue, held until the transaction has ended (fields
    /// drop in order: the transaction first).
    _queue: Option<OwnedMutexGuard<()>>,
    outbox_table: &'static str,
    error: PhantomData<fn() -> E>,
}

impl<E: FromSqlx> Writer<E> {
    /// Runs a statement in the transaction; the number of rows it changed.
    pub(crate) async fn run(&mut self, statement: Statement<'_>) -> Result<u64, E> {
        let done = statement
            .execute(&mut *self.tx)
            .await
            .map_err(E::from_sqlx)?;
        Ok(done.rows_affected())
    }

    /// The outbox table of the database written to.
    pub(crate) fn outbox_table(&self) -> &'static str {
        self.outbox_table
    }

    /// Commits, then lets the next writer in.
    pub(crate) async fn commit(self) -> Result<(), E> {
        self.tx.commit().await.map_err(E::from_sqlx)
    }
}

impl<E> Deref for Writer<E> {
    type Target = AnyConnection;

    fn deref(&self) -> &AnyConnection {
        &self.tx
    }
}

impl<E> DerefMut for Writer<E> {
    fn deref_mut(&mut self) -> &mut AnyConnection {
        &mut self.tx
    }
}

impl SqlStore {
    /// Connects to the platform's database named by `url` and migrates it.
    pub async fn open(url: &str) -> Result<SqlStore, OpenError> {
        let store = SqlStore::connect(url, "outbox").await?;
        migrate::run(&store, MigrationSet::Platform).await?;
        Ok(store)
    }

    /// Connects to the filing registry's database and migrates it with the
    /// registry's migrations.
    pub async fn open_registry(url: &str) -> Result<SqlStore, OpenError> {
        let store = SqlStore::connect(url, "reg_outbox").await?;
        migrate::run(&store, MigrationSet::Registry).await?;
        Ok(store)
    }

    /// The engine underneath.
    pub fn engine(&self) -> Backend {
        self.backend
    }

    /// Waits for in-flight work and closes the connections.
    pub async fn close(&self) {
        self.pool.close().await;
    }

    /// The outbox table of this database.
    pub(crate) fn outbox_table(&self) -> &'static str {
        self.outbox_table
    }

    async fn connect(url: &str, outbox_table: &'static str) -> Result<SqlStore, OpenError> {
        sqlx::any::install_default_drivers();
        let backend = if url.starts_with("sqlite:") {
            Backend::Sqlite
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Backend::Postgres
        } else {
            return Err(OpenError::UnsupportedUrl(crate::redact_url(url)));
        };
        let pool = match backend {
            Backend::Sqlite => connect_sqlite(url).await?,
            Backend::Postgres => connect_postgres(url).await?,
        };
        Ok(SqlStore {
            pool,
            backend,
            writer: Arc::new(Mutex::new(())),
            outbox_table,
        })
    }

    /// A transaction that will write. On SQLite, writers queue on an
    /// in-process lock first (SQLite admits one writer; waiting in its busy
    /// handler means sleeping in growing steps of up to 100 ms), then take
    /// SQLite's write lock at once (`BEGIN IMMEDIATE`), so they never fail
    /// later on upgrading. PostgreSQL needs no queue: row locks order
    /// writers.
    pub(crate) async fn write_tx<E: FromSqlx>(&self) -> Result<Writer<E>, E> {
        let (queue, tx) = match self.backend {
            Backend::Sqlite => {
                let queue = self.writer.clone().lock_owned().await;
                (Some(queue), self.pool.begin_with("BEGIN IMMEDIATE").await)
            }
            Backend::Postgres => (None, self.pool.begin().await),
        };
        Ok(Writer {
            tx: tx.map_err(E::from_sqlx)?,
            _queue: queue,
            outbox_table: self.outbox_table,
            error: PhantomData,
        })
    }
}

async fn connect_sqlite(url: &str) -> Result<AnyPool, OpenError> {
    // Parsed with the SQLite driver only to find the file's directory and
    // to refuse a malformed URL with the driver's own reason.
    let options = SqliteConnectOptions::from_str(url).map_err(OpenError::InvalidUrl)?;
    let file = options.get_filename();
    if file.as_os_str() != ":memory:" && !file.as_os_str().is_empty() {
        private_database_file(file)?;
    }
    let any = AnyConnectOptions::from_str(&with_create_mode(url)).map_err(OpenError::InvalidUrl)?;
    AnyPoolOptions::new()
        .max_connections(SQLITE_POOL_SIZE_MAX)
        .acquire_timeout(Duration::from_millis(POOL_ACQUIRE_TIMEOUT_MS))
        .after_connect(|conn, _meta| {
            Box::pin(async move {
                conn.execute(SQLITE_PRAGMAS).await?;
                Ok(())
            })
        })
        .connect_with(any)
        .await
        .map_err(OpenError::Connect)
}

/// Keeps a SQLite database private: its directory is created with mode
/// 0700, and the file is created (or tightened) to 0600 before SQLite opens
/// it, so that the journal files SQLite derives from it (`-wal`, `-shm`)
/// get the same mode; those of an older run are tightened too.
fn private_database_file(file: &std::path::Path) -> Result<(), OpenError> {
    use std::os::unix::fs::{DirBuilderExt as _, OpenOptionsExt as _, PermissionsExt as _};
    let failed = |path: &std::path::Path| {
        let path = path.display().to_string();
        move |source| OpenError::CreateDir { path, source }
    };
    if let Some(dir) = file.parent()
        && !dir.as_os_str().is_empty()
    {
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)
            .map_err(failed(dir))?;
    }
    std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .mode(0o600)
        .open(file)
        .map_err(failed(file))?;
    for suffix in ["", "-wal", "-shm", "-journal"] {
        let mut name = file.as_os_str().to_owned();
        name.push(suffix);
        let path = std::path::PathBuf::from(name);
        if path.exists() {
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600))
                .map_err(failed(&path))?;
        }
    }
    Ok(())
}

/// The SQLite URL with `mode=rwc` (create the file if missing) unless it
/// names a mode itself.
fn with_create_mode(url: &str) -> String {
    if url.contains("mode=") {
        url.to_owned()
    } else if url.contains('?') {
        format!("{url}&mode=rwc")
    } else {
        format!("{url}?mode=rwc")
    }
}

async fn connect_postgres(url: &str) -> Result<AnyPool, OpenError> {
    let any = AnyConnectOptions::from_str(url).map_err(OpenError::InvalidUrl)?;
    // One direct connection first: an unreachable server fails at once
    // with its own error instead of after the pool's acquire timeout.
    any.connect()
        .await
        .map_err(OpenError::Connect)?
        .close()
        .await
        .map_err(OpenError::Connect)?;
    AnyPoolOptions::new()
        .max_connections(PG_POOL_SIZE_MAX)
        .acquire_timeout(Duration::from_millis(POOL_ACQUIRE_TIMEOUT_MS))
        .connect_with(any)
        .await
        .map_err(OpenError::Connect)
}

#[async_trait]
impl Store for SqlStore {
    fn backend(&self) -> Backend {
        self.backend
    }

    async fn close(&self) {
        self.pool.close().await;
    }
}

#[async_trait]
impl crate::RegistryBackend for SqlStore {
    async fn close(&self) {
        self.pool.close().await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn sqlite_connections_are_durable_and_check_foreign_keys() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("a/b.db").display());
        let store = SqlStore::open(&url).await.unwrap();
        let mode: String = sqlx::query_scalar("PRAGMA journal_mode")
            .fetch_one(&store.pool)
            .await
            .unwrap();
        assert_eq!(mode, "wal");
        let synchronous: i64 = sqlx::query_scalar("PRAGMA synchronous")
            .fetch_one(&store.pool)
            .await
            .unwrap();
        assert_eq!(synchronous, 2, "FULL");
        let foreign_keys: i64 = sqlx::query_scalar("PRAGMA foreign_keys")
            .fetch_one(&store.pool)
            .await
            .unwrap();
        assert_eq!(foreign_keys, 1);
        store.close().await;
    }

    #[test]
    fn the_create_mode_is_added_once() {
        assert_eq!(with_create_mode("sqlite://x.db"), "sqlite://x.db?mode=rwc");
        assert_eq!(
            with_create_mode("sqlite://x.db?a=b"),
            "sqlite://x.db?a=b&mode=rwc"
        );
        assert_eq!(
            with_create_mode("sqlite://x.db?mode=ro"),
            "sqlite://x.db?mode=ro"
        );
    }
}
