//! Helpers for tests that run against a real PostgreSQL server: a uniquely
//! named database per test, created from an administrative URL and dropped
//! afterwards. Used by this crate's and other crates' integration tests.

use std::str::FromStr;
use std::sync::atomic::{AtomicU32, Ordering};

use sqlx::ConnectOptions;
use sqlx::postgres::PgConnectOptions;

/// The environment variable naming the PostgreSQL server for tests.
pub const POSTGRES_URL_ENV: &str = "SHUCANG_TEST_POSTGRES_URL";

/// The PostgreSQL URL for tests, or `None` after printing why the test is skipped.
pub fn postgres_url_or_skip(test: &str) -> Option<String> {
    match std::env::var(POSTGRES_URL_ENV) {
        Ok(url) if !url.is_empty() => Some(url),
        _ => {
            eprintln!("skipping {test} on PostgreSQL: {POSTGRES_URL_ENV} is not set");
            None
        }
    }
}

/// A database created for one test; call [`TempPgDatabase::drop_database`] at the end.
pub struct TempPgDatabase {
    admin: PgConnectOptions,
    name: String,
    /// The URL of the new database.
    pub url: String,
}

impl TempPgDatabase {
    /// Creates `shucang_test_<pid>_<n>_<nanos>` on the server `admin_url` points at.
    pub async fn create(admin_url: &str) -> Result<TempPgDatabase, sqlx::Error> {
        static COUNTER: AtomicU32 = AtomicU32::new(0);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0);
        let name = format!(
            "shucang_test_{}_{}_{nanos}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed)
        );
        let admin = PgConnectOptions::from_str(admin_url)?;
        let mut conn = admin.connect().await?;
        sqlx::raw_sql(&format!("CREATE DATABASE {name}"))
            .execute(&mut conn)
            .await?;
        let url = admin.clone().database(&name).to_url_lossy().to_string();
        Ok(TempPgDatabase { admin, name, url })
    }

    /// A database for `test` on the server [`POSTGRES_URL_ENV`] names, or
    /// `None` after printing why the test is skipped.
    pub async fn for_test(test: &str) -> Option<TempPgDatabase> {
        let admin_url = postgres_url_or_skip(test)?;
        Some(TempPgDatabase::create(&admin_url).await.unwrap())
    }

    /// Drops the database, disconnecting anyone still connected.
    pub async fn drop_database(self) -> Result<(), sqlx::Error> {
        let mut conn = self.admin.connect().await?;
        sqlx::raw_sql(&format!(
            "DROP DATABASE IF EXISTS {} WITH (FORCE)",
            self.name
        ))
        .execute(&mut conn)
        .await?;
        Ok(())
    }
}
