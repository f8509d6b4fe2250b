//! The PostgreSQL back end.

use std::str::FromStr;
use std::time::Duration;

use async_trait::async_trait;
use sqlx::ConnectOptions;
use sqlx::Connection;
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};

use crate::migrate::{Migration, migrations, run_migrations};
use crate::{Backend, OpenError, Store};

/// Connections in the pool.
const PG_POOL_SIZE_MAX: u32 = 16;
/// How long to wait for a free connection before failing a request.
const PG_ACQUIRE_TIMEOUT_MS: u64 = 10_000;
/// Serialises concurrent migrators (two servers starting at once).
const PG_MIGRATION_LOCK: &str = "SELECT pg_advisory_xact_lock(7284910352)";

const MIGRATIONS: &[Migration] = migrations!("postgres");
const REGISTRY_MIGRATIONS: &[Migration] = crate::migrate::registry_migrations!("registry-postgres");

/// The PostgreSQL store.
#[derive(Debug, Clone)]
pub struct PgStore {
    pub(crate) pool: PgPool,
}

impl PgStore {
    /// Connects to the database named by `url` and migrates it.
    pub async fn open(url: &str) -> Result<PgStore, OpenError> {
        let store = PgStore::connect(url).await?;
        run_migrations!(&store.pool, MIGRATIONS, PG_MIGRATION_LOCK)?;
        Ok(store)
    }

    /// Connects to the filing registry's database and migrates it with the
    /// registry's migrations.
    pub async fn open_registry(url: &str) -> Result<PgStore, OpenError> {
        let store = PgStore::connect(url).await?;
        run_migrations!(
            &store.pool,
            REGISTRY_MIGRATIONS,
            PG_MIGRATION_LOCK,
            "registry_schema_migrations"
        )?;
        Ok(store)
    }

    async fn connect(url: &str) -> Result<PgStore, OpenError> {
        let options = PgConnectOptions::from_str(url).map_err(OpenError::InvalidUrl)?;
        // One direct connection first: an unreachable server fails at once
        // with its own error instead of after the pool's acquire timeout.
        options
            .connect()
            .await
            .map_err(OpenError::Connect)?
            .close()
            .await
            .map_err(OpenError::Connect)?;
        let pool = PgPoolOptions::new()
            .max_connections(PG_POOL_SIZE_MAX)
            .acquire_timeout(Duration::from_millis(PG_ACQUIRE_TIMEOUT_MS))
            .connect_with(options)
            .await
            .map_err(OpenError::Connect)?;
        Ok(PgStore { pool })
    }
}

impl PgStore {
    /// A transaction that will write (PostgreSQL needs no in-process
    /// queue: row locks order writers; the unit is the SQLite twin's guard).
    pub(crate) async fn write_tx(
        &self,
    ) -> Result<((), sqlx::Transaction<'static, sqlx::Postgres>), sqlx::Error> {
        Ok(((), self.pool.begin().await?))
    }
}

#[async_trait]
impl Store for PgStore {
    fn backend(&self) -> Backend {
        Backend::Postgres
    }

    async fn close(&self) {
        self.pool.close().await;
    }
}

crate::accounts::impl_account_store!(PgStore);
crate::identities::impl_identity_store!(PgStore);
crate::works::impl_work_store!(PgStore);
crate::drops::impl_drop_store!(PgStore);
crate::payments::impl_payment_store!(PgStore);
crate::gifts::impl_gift_store!(PgStore);
crate::complaints::impl_complaint_store!(PgStore);
crate::registry::impl_registry_store!(PgStore);

#[async_trait]
impl crate::RegistryBackend for PgStore {
    async fn close(&self) {
        self.pool.close().await;
    }
}
