//! A small migration runner: each back end lists its migrations in order;
//! applied versions are recorded in `schema_migrations`; each migration runs
//! in its own transaction, so a failed one leaves the schema as it was.
//!
//! Written here rather than with sqlx's `migrate!` macro to keep sqlx's
//! proc-macro stack (and a second build of both drivers) out of the build.

/// One schema change.
pub(crate) struct Migration {
    /// Strictly increasing, starting at 1.
    pub version: i64,
    /// A short name, for messages.
    pub name: &'static str,
    /// The SQL, possibly several statements.
    pub sql: &'static str,
}

/// The migrations of one engine, from `migrations/<engine>/`: both engines
/// list the same versions and names, so a migration is added in one place.
macro_rules! migrations {
    ($engine:literal) => {
        &[
            crate::migrate::Migration {
                version: 1,
                name: "accounts",
                sql: include_str!(concat!("../migrations/", $engine, "/0001_accounts.sql")),
            },
            crate::migrate::Migration {
                version: 2,
                name: "identities",
                sql: include_str!(concat!("../migrations/", $engine, "/0002_identities.sql")),
            },
            crate::migrate::Migration {
                version: 3,
                name: "works",
                sql: include_str!(concat!("../migrations/", $engine, "/0003_works.sql")),
            },
            crate::migrate::Migration {
                version: 4,
                name: "drops",
                sql: include_str!(concat!("../migrations/", $engine, "/0004_drops.sql")),
            },
            crate::migrate::Migration {
                version: 5,
                name: "payments",
                sql: include_str!(concat!("../migrations/", $engine, "/0005_payments.sql")),
            },
            crate::migrate::Migration {
                version: 6,
                name: "gifts",
                sql: include_str!(concat!("../migrations/", $engine, "/0006_gifts.sql")),
            },
            crate::migrate::Migration {
                version: 7,
                name: "complaints",
                sql: include_str!(concat!("../migrations/", $engine, "/0007_complaints.sql")),
            },
        ]
    };
}

pub(crate) use migrations;

/// The filing registry's migrations, from `migrations/registry-<engine>/`.
macro_rules! registry_migrations {
    ($dir:literal) => {
        &[crate::migrate::Migration {
            version: 1,
            name: "registry",
            sql: include_str!(concat!("../migrations/", $dir, "/0001_registry.sql")),
        }]
    };
}

pub(crate) use registry_migrations;

/// The highest version in a list.
pub(crate) fn latest(migrations: &[Migration]) -> i64 {
    migrations.iter().map(|m| m.version).max().unwrap_or(0)
}

/// Runs the migrations of one back end. `$db` is the sqlx database type,
/// `$pool` a pool of it, `$lock` SQL run first inside each transaction to
/// serialise concurrent migrators (empty for SQLite, whose write lock
/// already does).
macro_rules! run_migrations {
    ($pool:expr, $migrations:expr, $lock:expr) => {
        crate::migrate::run_migrations!($pool, $migrations, $lock, "schema_migrations")
    };
    ($pool:expr, $migrations:expr, $lock:expr, $table:literal) => {{
        use crate::OpenError;
        let pool = $pool;
        let migrations: &[crate::migrate::Migration] = $migrations;
        sqlx::raw_sql(concat!(
            "CREATE TABLE IF NOT EXISTS ",
            $table,
            " (version BIGINT PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)"
        ))
        .execute(pool)
        .await
        .map_err(OpenError::Connect)?;
        let known = crate::migrate::latest(migrations);
        let found: Option<i64> = sqlx::query_scalar(concat!("SELECT MAX(version) FROM ", $table))
            .fetch_one(pool)
            .await
            .map_err(OpenError::Connect)?;
        if let Some(found) = found {
            if found > known {
                return Err(OpenError::SchemaTooNew { found, known });
            }
        }
        for m in migrations {
            let fail = |source| OpenError::Migration {
                version: m.version,
                name: m.name,
                source,
            };
            let mut tx = pool.begin().await.map_err(fail)?;
            if !$lock.is_empty() {
                sqlx::raw_sql($lock).execute(&mut *tx).await.map_err(fail)?;
            }
            let done: Option<i64> = sqlx::query_scalar(concat!(
                "SELECT version FROM ",
                $table,
                " WHERE version = $1"
            ))
            .bind(m.version)
            .fetch_optional(&mut *tx)
            .await
            .map_err(fail)?;
            if done.is_some() {
                continue;
            }
            sqlx::raw_sql(m.sql).execute(&mut *tx).await.map_err(fail)?;
            let now_ms = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_millis() as i64)
                .unwrap_or(0);
            sqlx::query(concat!(
                "INSERT INTO ",
                $table,
                " (version, name, applied_at) VALUES ($1, $2, $3)"
            ))
            .bind(m.version)
            .bind(m.name)
            .bind(now_ms)
            .execute(&mut *tx)
            .await
            .map_err(fail)?;
            tx.commit().await.map_err(fail)?;
            tracing::info!(version = m.version, name = m.name, "applied migration");
        }
        Ok::<(), OpenError>(())
    }};
}

pub(crate) use run_migrations;
