//! Fixed-window counters, written once for both applications' tables
//! (`rate_counts` and `reg_rate_counts`, each keyed by scope, subject and
//! window start): one upsert counts an event and refuses it at the limit,
//! so parallel requests cannot pass the limit; windows a day old are
//! removed by each application's periodic purge, not on the way.

use shucang_types::WindowedEvent;

use crate::SqlStore;
use crate::query::FromSqlx;

/// A table of windowed counts.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Windows {
    /// The platform's `rate_counts`.
    Platform,
    /// The registry's `reg_rate_counts`.
    Registry,
}

impl Windows {
    fn table(self) -> &'static str {
        match self {
            Windows::Platform => "rate_counts",
            Windows::Registry => "reg_rate_counts",
        }
    }
}

impl SqlStore {
    /// Counts `e` in its window: `false` (and nothing counted) when the
    /// window holds `e.max` already.
    pub(crate) async fn count_windowed<E: FromSqlx>(
        &self,
        windows: Windows,
        e: &WindowedEvent,
    ) -> Result<bool, E> {
        // Inserting the window's first event, or adding one while under
        // the limit, returns a row; at the limit the update's condition
        // fails and nothing is returned or changed.
        let table = windows.table();
        let upsert = format!(
            "INSERT INTO {table} (scope, subject, window_start, count) VALUES ($1, $2, $3, 1) \
             ON CONFLICT (scope, subject, window_start) DO UPDATE \
             SET count = {table}.count + 1 WHERE {table}.count < $4 RETURNING count"
        );
        let counted: Option<i64> = sqlx::query_scalar(&upsert)
            .bind(e.scope)
            .bind(&e.subject)
            .bind(e.window_start.0)
            .bind(i64::from(e.max))
            .fetch_optional(&self.pool)
            .await
            .map_err(E::from_sqlx)?;
        Ok(counted.is_some_and(|n| n <= i64::from(e.max)))
    }

    /// Removes the windows that began before `before`; how many.
    pub(crate) async fn purge_windows_of<E: FromSqlx>(
        &self,
        windows: Windows,
        before: shucang_types::UnixMillis,
    ) -> Result<u64, E> {
        let sql = format!("DELETE FROM {} WHERE window_start < $1", windows.table());
        let done = sqlx::query(&sql)
            .bind(before.0)
            .execute(&self.pool)
            .await
            .map_err(E::from_sqlx)?;
        Ok(done.rows_affected())
    }
}
