//! The login lockout, written once for both applications' user tables
//! (`accounts` and `reg_users`, each with `failed_logins` and
//! `locked_until`): every decision is one conditional statement, so
//! parallel requests cannot lose a failure, slip a guess past a lock, or
//! clear a lock set after their password was checked.

use shucang_types::{FailedLogin, UnixMillis};

use crate::SqlStore;
use crate::query::FromSqlx;

/// A table that holds login failures and locks.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Logins {
    /// The platform's `accounts`.
    Accounts,
    /// The registry's `reg_users`.
    RegistryUsers,
}

impl Logins {
    fn table(self) -> &'static str {
        match self {
            Logins::Accounts => "accounts",
            Logins::RegistryUsers => "reg_users",
        }
    }
}

impl SqlStore {
    /// Counts a failed login (see [`FailedLogin`]); the lock in force after
    /// it, if any. A failure while a lock holds changes nothing, so a burst
    /// of guesses cannot extend or reset a lock.
    pub(crate) async fn count_login_failure<E: FromSqlx>(
        &self,
        logins: Logins,
        id: i64,
        f: &FailedLogin,
    ) -> Result<Option<UnixMillis>, E> {
        let sql = format!(
            "UPDATE {} SET \
               failed_logins = CASE WHEN locked_until > $2 THEN failed_logins \
                 WHEN failed_logins + 1 >= $3 THEN 0 ELSE failed_logins + 1 END, \
               locked_until = CASE WHEN locked_until > $2 THEN locked_until \
                 WHEN failed_logins + 1 >= $3 THEN $4 ELSE locked_until END \
             WHERE id = $1 RETURNING locked_until",
            logins.table()
        );
        let until: Option<Option<i64>> = sqlx::query_scalar(&sql)
            .bind(id)
            .bind(f.at.0)
            .bind(i64::from(f.failures_max))
            .bind(f.lock_until.0)
            .fetch_optional(&self.pool)
            .await
            .map_err(E::from_sqlx)?;
        Ok(lock_in_force(until.flatten(), f.at))
    }

    /// Clears the failures after a right password unless a lock holds at
    /// `now`; the lock in force when one does.
    pub(crate) async fn admit_login_at<E: FromSqlx>(
        &self,
        logins: Logins,
        id: i64,
        now: UnixMillis,
    ) -> Result<Option<UnixMillis>, E> {
        let table = logins.table();
        let clear = format!(
            "UPDATE {table} SET failed_logins = 0, locked_until = NULL \
             WHERE id = $1 AND (locked_until IS NULL OR locked_until <= $2) RETURNING id"
        );
        let cleared: Option<i64> = sqlx::query_scalar(&clear)
            .bind(id)
            .bind(now.0)
            .fetch_optional(&self.pool)
            .await
            .map_err(E::from_sqlx)?;
        if cleared.is_some() {
            return Ok(None);
        }
        // Not cleared: a lock holds (or the row is gone, which admits no
        // one either: the caller's session insert then fails on its key).
        let until: Option<Option<i64>> =
            sqlx::query_scalar(&format!("SELECT locked_until FROM {table} WHERE id = $1"))
                .bind(id)
                .fetch_optional(&self.pool)
                .await
                .map_err(E::from_sqlx)?;
        Ok(lock_in_force(until.flatten(), now))
    }
}

fn lock_in_force(until: Option<i64>, now: UnixMillis) -> Option<UnixMillis> {
    until.map(UnixMillis).filter(|u| *u > now)
}
