//! The steps every storage area repeats, written once: a read with one
//! bound parameter ([`SqlStore::one`], [`SqlStore::all`]), decoding the
//! rows with the area's own function ([`decode_one`], [`decode_all`]), and
//! the one place where a unique violation becomes the caller's conflict
//! ([`unique_or`]).
//!
//! The helpers return or take `sqlx::Error`; each area's error type says
//! how it carries a database failure through [`FromSqlx`], so the platform,
//! the registry and the outbox share the helpers and keep their errors.

use sqlx::any::AnyRow;
use sqlx::{Any, Encode, FromRow, Type};

use crate::SqlStore;

/// How an area's error type carries a failure of the database.
pub(crate) trait FromSqlx {
    /// The failure, as this error type reports it.
    fn from_sqlx(e: sqlx::Error) -> Self;
}

impl FromSqlx for shucang_platform::StoreError {
    fn from_sqlx(e: sqlx::Error) -> Self {
        crate::backend_error(e)
    }
}

impl FromSqlx for shucang_registry::StoreError {
    fn from_sqlx(e: sqlx::Error) -> Self {
        crate::registry::reg_error(e)
    }
}

impl FromSqlx for shucang_notify::OutboxError {
    fn from_sqlx(e: sqlx::Error) -> Self {
        crate::registry::outbox_error(e)
    }
}

impl SqlStore {
    /// The first row `sql` returns with `param` bound to `$1`, if any.
    pub(crate) async fn one<'q, R, P>(
        &self,
        sql: &'q str,
        param: P,
    ) -> Result<Option<R>, sqlx::Error>
    where
        R: for<'r> FromRow<'r, AnyRow> + Send + Unpin,
        P: 'q + Encode<'q, Any> + Type<Any> + Send,
    {
        sqlx::query_as::<_, R>(sql)
            .bind(param)
            .fetch_optional(&self.pool)
            .await
    }

    /// Every row `sql` returns with `param` bound to `$1`.
    pub(crate) async fn all<'q, R, P>(&self, sql: &'q str, param: P) -> Result<Vec<R>, sqlx::Error>
    where
        R: for<'r> FromRow<'r, AnyRow> + Send + Unpin,
        P: 'q + Encode<'q, Any> + Type<Any> + Send,
    {
        sqlx::query_as::<_, R>(sql)
            .bind(param)
            .fetch_all(&self.pool)
            .await
    }
}

/// A fetched row, if any, decoded by `decode`.
pub(crate) fn decode_one<R, T, E: FromSqlx>(
    fetched: Result<Option<R>, sqlx::Error>,
    decode: impl FnOnce(R) -> Result<T, E>,
) -> Result<Option<T>, E> {
    fetched.map_err(E::from_sqlx)?.map(decode).transpose()
}

/// Fetched rows, each decoded by `decode`; the first that does not decode
/// fails them all.
pub(crate) fn decode_all<R, T, E: FromSqlx>(
    fetched: Result<Vec<R>, sqlx::Error>,
    decode: impl FnMut(R) -> Result<T, E>,
) -> Result<Vec<T>, E> {
    fetched
        .map_err(E::from_sqlx)?
        .into_iter()
        .map(decode)
        .collect()
}

/// Whether the statement broke a unique constraint.
pub(crate) fn is_unique_violation(e: &sqlx::Error) -> bool {
    e.as_database_error()
        .is_some_and(|d| d.is_unique_violation())
}

/// `result`, with a broken unique constraint answered by `conflict` and any
/// other failure as a failure of the database.
pub(crate) fn unique_or<T, E: FromSqlx>(
    result: Result<T, sqlx::Error>,
    conflict: E,
) -> Result<T, E> {
    match result {
        Err(e) if is_unique_violation(&e) => Err(conflict),
        other => other.map_err(E::from_sqlx),
    }
}
