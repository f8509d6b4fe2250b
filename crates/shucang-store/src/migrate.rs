//! A small migration runner: the migrations are listed in order, each
//! written once in SQLite's dialect and translated for PostgreSQL by
//! [`postgres_ddl`]; applied versions are recorded in a table of their own;
//! each migration runs in its own transaction, so a failed one leaves the
//! schema as it was.
//!
//! Written here rather than with sqlx's `migrate!` macro to keep sqlx's
//! proc-macro stack (and a second build of both drivers) out of the build.

use crate::{Backend, OpenError, SqlStore};

/// One schema change.
pub(crate) struct Migration {
    /// Strictly increasing, starting at 1.
    pub version: i64,
    /// A short name, for messages.
    pub name: &'static str,
    /// The SQL in SQLite's dialect, possibly several statements.
    pub sql: &'static str,
}

/// One migration from its version, name and SQL (a `const fn`, so the
/// lists below stay one line a migration).
const fn migration(version: i64, name: &'static str, sql: &'static str) -> Migration {
    Migration { version, name, sql }
}

/// The platform's migrations, from `migrations/platform/`.
#[rustfmt::skip]
pub(crate) const PLATFORM: &[Migration] = &[
    migration(1, "accounts", include_str!("../migrations/platform/0001_accounts.sql")),
    migration(2, "identities", include_str!("../migrations/platform/0002_identities.sql")),
    migration(3, "works", include_str!("../migrations/platform/0003_works.sql")),
    migration(4, "drops", include_str!("../migrations/platform/0004_drops.sql")),
    migration(5, "payments", include_str!("../migrations/platform/0005_payments.sql")),
    migration(6, "gifts", include_str!("../migrations/platform/0006_gifts.sql")),
    migration(7, "complaints", include_str!("../migrations/platform/0007_complaints.sql")),
    migration(8, "payment provider, drop kind",
        include_str!("../migrations/platform/0008_payment_provider_drop_kind.sql")),
    migration(9, "rate counts", include_str!("../migrations/platform/0009_rate_counts.sql")),
    migration(10, "phone codes, outbox", include_str!("../migrations/platform/0010_phone_codes.sql")),
];

/// The filing registry's migrations, from `migrations/registry/`.
pub(crate) const REGISTRY: &[Migration] = &[
    migration(
        1,
        "registry",
        include_str!("../migrations/registry/0001_registry.sql"),
    ),
    migration(
        2,
        "limits",
        include_str!("../migrations/registry/0002_limits.sql"),
    ),
    migration(
        3,
        "personal data views",
        include_str!("../migrations/registry/0003_personal_data_views.sql"),
    ),
    migration(
        4,
        "provisional deadlines",
        include_str!("../migrations/registry/0004_provisional_deadlines.sql"),
    ),
];

/// Which database a store holds.
#[derive(Debug, Clone, Copy)]
pub(crate) enum MigrationSet {
    /// The platform's, versions in `schema_migrations`.
    Platform,
    /// The registry's own, versions in `registry_schema_migrations`.
    Registry,
}

impl MigrationSet {
    pub(crate) fn migrations(self) -> &'static [Migration] {
        match self {
            MigrationSet::Platform => PLATFORM,
            MigrationSet::Registry => REGISTRY,
        }
    }

    fn table(self) -> &'static str {
        match self {
            MigrationSet::Platform => "schema_migrations",
            MigrationSet::Registry => "registry_schema_migrations",
        }
    }
}

/// Serialises concurrent PostgreSQL migrators (two servers starting at
/// once); SQLite's write lock already does.
const PG_MIGRATION_LOCK: &str = "SELECT pg_advisory_xact_lock(7284910352)";

/// A migration's SQL for PostgreSQL: SQLite's `INTEGER PRIMARY KEY
/// AUTOINCREMENT` becomes `BIGSERIAL PRIMARY KEY`, `INTEGER` `BIGINT`,
/// `BLOB` `BYTEA`, and `STRICT` tables plain ones. Nothing else differs
/// (the schema test checks the result on both engines).
pub(crate) fn postgres_ddl(sql: &str) -> String {
    sql.replace("INTEGER PRIMARY KEY AUTOINCREMENT", "BIGSERIAL PRIMARY KEY")
        .replace(") STRICT;", ");")
        .replace("INTEGER", "BIGINT")
        .replace("BLOB", "BYTEA")
}

/// The highest version in a list.
pub(crate) fn latest(migrations: &[Migration]) -> i64 {
    migrations.iter().map(|m| m.version).max().unwrap_or(0)
}

/// Brings a store's schema up to date.
pub(crate) async fn run(store: &SqlStore, set: MigrationSet) -> Result<(), OpenError> {
    let pool = &store.pool;
    let table = set.table();
    let migrations = set.migrations();
    sqlx::raw_sql(&format!(
        "CREATE TABLE IF NOT EXISTS {table} \
         (version BIGINT PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)"
    ))
    .execute(pool)
    .await
    .map_err(OpenError::Connect)?;
    let known = latest(migrations);
    let found: Option<i64> = sqlx::query_scalar(&format!("SELECT MAX(version) FROM {table}"))
        .fetch_one(pool)
        .await
        .map_err(OpenError::Connect)?;
    if let Some(found) = found
        && found > known
    {
        return Err(OpenError::SchemaTooNew { found, known });
    }
    for m in migrations {
        apply(store, table, m)
            .await
            .map_err(|source| OpenError::Migration {
                version: m.version,
                name: m.name,
                source,
            })?;
    }
    Ok(())
}

/// Applies one migration unless it is recorded as applied.
async fn apply(store: &SqlStore, table: &str, m: &Migration) -> Result<(), sqlx::Error> {
    let mut tx = store.pool.begin().await?;
    if store.engine() == Backend::Postgres {
        sqlx::raw_sql(PG_MIGRATION_LOCK).execute(&mut *tx).await?;
    }
    let done: Option<i64> =
        sqlx::query_scalar(&format!("SELECT version FROM {table} WHERE version = $1"))
            .bind(m.version)
            .fetch_optional(&mut *tx)
            .await?;
    if done.is_some() {
        return Ok(());
    }
    let sql = match store.engine() {
        Backend::Sqlite => m.sql.to_owned(),
        Backend::Postgres => postgres_ddl(m.sql),
    };
    sqlx::raw_sql(&sql).execute(&mut *tx).await?;
    let now_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0);
    sqlx::query(&format!(
        "INSERT INTO {table} (version, name, applied_at) VALUES ($1, $2, $3)"
    ))
    .bind(m.version)
    .bind(m.name)
    .bind(now_ms)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    tracing::info!(version = m.version, name = m.name, "applied migration");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_are_consecutive_from_one() {
        for set in [PLATFORM, REGISTRY] {
            for (i, m) in set.iter().enumerate() {
                assert_eq!(m.version, i as i64 + 1, "{}", m.name);
            }
        }
    }

    #[test]
    fn postgres_ddl_translates_the_sqlite_types() {
        assert_eq!(
            postgres_ddl(
                "CREATE TABLE t (\n id INTEGER PRIMARY KEY AUTOINCREMENT,\n b BLOB NOT NULL,\n n INTEGER\n) STRICT;"
            ),
            "CREATE TABLE t (\n id BIGSERIAL PRIMARY KEY,\n b BYTEA NOT NULL,\n n BIGINT\n);"
        );
    }
}
