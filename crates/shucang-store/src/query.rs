//! The steps every storage area repeats, written once: a read with one
//! bound parameter ([`SqlStore::one`], [`SqlStore::all`]), a write that
//! answers only whether it worked ([`SqlStore::run`]), decoding the
//! rows with the area's own function ([`decode_one`], [`decode_all`]), and
//! the one place where a unique violation becomes the caller's conflict
//! ([`unique_or`]).
//!
//! The helpers return or take `sqlx::Error`; each area's error type says
//! how it carries a database failure through [`FromSqlx`], so the platform,
//! the registry and the outbox share the helpers and keep their errors.

use sqlx::any::{AnyArguments, AnyRow};
use sqlx::query::{Query, QueryAs};
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
        shucang_notify::OutboxError(e.to_string())
    }
}

/// A row type sqlx decodes from either engine (a tuple, or a type that
/// decodes itself).
pub(crate) trait Row: for<'r> FromRow<'r, AnyRow> + Send + Unpin {}

impl<R: for<'r> FromRow<'r, AnyRow> + Send + Unpin> Row for R {}

/// A value bound to a statement's parameter.
pub(crate) trait Param<'q>: 'q + Encode<'q, Any> + Type<Any> + Send {}

impl<'q, P: 'q + Encode<'q, Any> + Type<Any> + Send> Param<'q> for P {}

/// A statement that returns no rows, its parameters bound.
pub(crate) type Statement<'q> = Query<'q, Any, AnyArguments<'q>>;

impl SqlStore {
    /// The first row `sql` returns with `p` bound to `$1`, if any.
    pub(crate) async fn one<'q, R: Row>(&self, sql: &'q str, p: impl Param<'q>) -> Rows<Option<R>> {
        select(sql, p).fetch_optional(&self.pool).await
    }

    /// Every row `sql` returns with `p` bound to `$1`.
    pub(crate) async fn all<'q, R: Row>(&self, sql: &'q str, p: impl Param<'q>) -> Rows<Vec<R>> {
        select(sql, p).fetch_all(&self.pool).await
    }

    /// Runs a statement on the pool; the number of rows it changed.
    pub(crate) async fn changed<E: FromSqlx>(&self, statement: Statement<'_>) -> Result<u64, E> {
        let done = statement.execute(&self.pool).await.map_err(E::from_sqlx)?;
        Ok(done.rows_affected())
    }

    /// Runs a statement on the pool, as the last step of a storage
    /// operation that answers only whether it worked.
    pub(crate) async fn run<E: FromSqlx>(&self, statement: Statement<'_>) -> Result<(), E> {
        statement.execute(&self.pool).await.map_err(E::from_sqlx)?;
        Ok(())
    }
}

/// What a read returns before its rows are decoded.
pub(crate) type Rows<T> = Result<T, sqlx::Error>;

fn select<'q, R: Row>(
    sql: &'q str,
    param: impl Param<'q>,
) -> QueryAs<'q, Any, R, AnyArguments<'q>> {
    sqlx::query_as(sql).bind(param)
}

/// A fetched row, if any, decoded by `decode`.
pub(crate) fn decode_one<R, T, E: FromSqlx>(
    fetched: Rows<Option<R>>,
    decode: impl FnOnce(R) -> Result<T, E>,
) -> Result<Option<T>, E> {
    fetched.map_err(E::from_sqlx)?.map(decode).transpose()
}

/// Fetched rows, each decoded by `decode`; the first that does not decode
/// fails them all.
pub(crate) fn decode_all<R, T, E: FromSqlx>(
    fetched: Rows<Vec<R>>,
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
