//! [`shucang_platform::AccountStore`] for both back ends.
//!
//! The SQL is written once, in the dialect SQLite and PostgreSQL share
//! (`$N` parameters, `RETURNING`).

use shucang_notify::NewMessage;
use shucang_platform::{
    AccountRecord, AccountStore, CodePurpose, NewAccount, NewPhoneCode, SessionRecord, StoreError,
};
use shucang_types::{FailedLogin, Phone, Role, UnixMillis, WindowedEvent};

use crate::engine::Writer;
use crate::lockout::Logins;
use crate::query::{decode_one, unique_or};

/// Columns of `accounts`, in [`AccountRow`] order.
pub(crate) const ACCOUNT_COLUMNS: &str =
    "id, phone, password_hash, role, created_at, failed_logins, locked_until";

/// One `accounts` row as sqlx decodes it.
pub(crate) type AccountRow = (i64, String, String, String, i64, i32, Option<i64>);

/// One `sessions` row as sqlx decodes it.
type SessionRow = (String, i64, i64, i64);

/// Builds an [`AccountRecord`] from a stored row, refusing values the
/// domain types reject (a row written by something other than this code).
pub(crate) fn account_from_row(
    (id, phone, password_hash, role, created_at, failed_logins, locked_until): AccountRow,
) -> Result<AccountRecord, StoreError> {
    let corrupt =
        |what: &str| StoreError::Backend(format!("account {id}: stored {what} is invalid").into());
    Ok(AccountRecord {
        id,
        phone: Phone::parse(&phone).map_err(|_| corrupt("phone"))?,
        password_hash,
        role: Role::parse(&role).map_err(|_| corrupt("role"))?,
        created_at: UnixMillis(created_at),
        failed_logins: u32::try_from(failed_logins).map_err(|_| corrupt("failed_logins"))?,
        locked_until: locked_until.map(UnixMillis),
    })
}

#[async_trait::async_trait]
impl AccountStore for crate::SqlStore {
    async fn count_in_window(&self, e: &WindowedEvent) -> Result<bool, StoreError> {
        self.count_windowed(crate::windows::Windows::Platform, e)
            .await
    }

    async fn purge_windows(&self, before: UnixMillis) -> Result<u64, StoreError> {
        self.purge_windows_of(crate::windows::Windows::Platform, before)
            .await
    }

    async fn insert_account(&self, a: &NewAccount) -> Result<i64, StoreError> {
        let mut tx: Writer<StoreError> = self.write_tx().await?;
        let id = insert_account_in(&mut tx, a).await?;
        tx.commit().await?;
        Ok(id)
    }

    async fn account_by_phone(&self, phone: &Phone) -> Result<Option<AccountRecord>, StoreError> {
        let sql = format!("SELECT {ACCOUNT_COLUMNS} FROM accounts WHERE phone = $1");
        decode_one(self.one(&sql, phone.as_str()).await, account_from_row)
    }

    async fn account_by_id(&self, id: i64) -> Result<Option<AccountRecord>, StoreError> {
        let sql = format!("SELECT {ACCOUNT_COLUMNS} FROM accounts WHERE id = $1");
        decode_one(self.one(&sql, id).await, account_from_row)
    }

    async fn record_login_failure(
        &self,
        account_id: i64,
        failure: &FailedLogin,
    ) -> Result<Option<UnixMillis>, StoreError> {
        self.count_login_failure(Logins::Accounts, account_id, failure)
            .await
    }

    async fn admit_login(
        &self,
        account_id: i64,
        now: UnixMillis,
    ) -> Result<Option<UnixMillis>, StoreError> {
        self.admit_login_at(Logins::Accounts, account_id, now).await
    }

    async fn insert_session(&self, s: &SessionRecord) -> Result<(), StoreError> {
        let insert = sqlx::query(
            "INSERT INTO sessions (token_hash, account_id, created_at, last_seen_at) \
             VALUES ($1, $2, $3, $4)",
        )
        .bind(&s.token_hash)
        .bind(s.account_id)
        .bind(s.created_at.0)
        .bind(s.last_seen_at.0);
        self.run(insert).await
    }

    async fn session_by_token_hash(
        &self,
        token_hash: &str,
    ) -> Result<Option<SessionRecord>, StoreError> {
        let row = self
            .one(
                "SELECT token_hash, account_id, created_at, last_seen_at \
                 FROM sessions WHERE token_hash = $1",
                token_hash,
            )
            .await;
        decode_one(
            row,
            |(token_hash, account_id, created_at, last_seen_at): SessionRow| {
                Ok(SessionRecord {
                    token_hash,
                    account_id,
                    created_at: UnixMillis(created_at),
                    last_seen_at: UnixMillis(last_seen_at),
                })
            },
        )
    }

    async fn touch_session(&self, token_hash: &str, at: UnixMillis) -> Result<(), StoreError> {
        let update = sqlx::query(
            "UPDATE sessions SET last_seen_at = $2 \
             WHERE token_hash = $1 AND last_seen_at < $2",
        )
        .bind(token_hash)
        .bind(at.0);
        self.run(update).await
    }

    async fn delete_session(&self, token_hash: &str) -> Result<bool, StoreError> {
        let done = sqlx::query("DELETE FROM sessions WHERE token_hash = $1")
            .bind(token_hash)
            .execute(&self.pool)
            .await
            .map_err(crate::backend_error)?;
        Ok(done.rows_affected() > 0)
    }

    async fn delete_idle_sessions(&self, idle_before: UnixMillis) -> Result<u64, StoreError> {
        let delete = sqlx::query("DELETE FROM sessions WHERE last_seen_at < $1");
        self.changed(delete.bind(idle_before.0)).await
    }

    async fn issue_phone_code(
        &self,
        code: &NewPhoneCode,
        message: &NewMessage,
    ) -> Result<(), StoreError> {
        let mut tx: Writer<StoreError> = self.write_tx().await?;
        let upsert = sqlx::query(
            "INSERT INTO phone_codes (phone, purpose, code_hash, attempts, expires_at, created_at) \
             VALUES ($1, $2, $3, 0, $4, $5) \
             ON CONFLICT (phone, purpose) DO UPDATE SET code_hash = excluded.code_hash, \
             attempts = 0, expires_at = excluded.expires_at, created_at = excluded.created_at",
        )
        .bind(code.phone.as_str())
        .bind(code.purpose.code())
        .bind(&code.code_hash)
        .bind(code.expires_at.0)
        .bind(code.created_at.0);
        tx.run(upsert).await?;
        crate::outbox::enqueue(&mut tx, std::slice::from_ref(message), code.created_at).await?;
        tx.commit().await
    }

    async fn queue_messages(
        &self,
        messages: &[NewMessage],
        now: UnixMillis,
    ) -> Result<(), StoreError> {
        self.queue(messages, now).await
    }

    async fn spend_phone_code_attempt(
        &self,
        phone: &Phone,
        purpose: CodePurpose,
        attempts_max: u32,
        now: UnixMillis,
    ) -> Result<Option<String>, StoreError> {
        // Counted and checked in one statement: parallel guesses cannot
        // spend more than the limit between them.
        sqlx::query_scalar(
            "UPDATE phone_codes SET attempts = attempts + 1 \
             WHERE phone = $1 AND purpose = $2 AND attempts < $3 AND expires_at > $4 \
             RETURNING code_hash",
        )
        .bind(phone.as_str())
        .bind(purpose.code())
        .bind(i64::from(attempts_max))
        .bind(now.0)
        .fetch_optional(&self.pool)
        .await
        .map_err(crate::backend_error)
    }

    async fn insert_account_with_code(
        &self,
        account: &NewAccount,
        code_hash: &str,
    ) -> Result<Option<i64>, StoreError> {
        let mut tx: Writer<StoreError> = self.write_tx().await?;
        let used = sqlx::query(
            "DELETE FROM phone_codes WHERE phone = $1 AND purpose = $2 AND code_hash = $3",
        )
        .bind(account.phone.as_str())
        .bind(CodePurpose::Registration.code())
        .bind(code_hash);
        if tx.run(used).await? == 0 {
            return Ok(None);
        }
        let id = insert_account_in(&mut tx, account).await?;
        tx.commit().await?;
        Ok(Some(id))
    }

    async fn delete_expired_phone_codes(&self, now: UnixMillis) -> Result<u64, StoreError> {
        let delete = sqlx::query("DELETE FROM phone_codes WHERE expires_at <= $1");
        self.changed(delete.bind(now.0)).await
    }
}

/// Inserts an account inside a transaction; its id.
async fn insert_account_in(tx: &mut Writer<StoreError>, a: &NewAccount) -> Result<i64, StoreError> {
    let result = sqlx::query_scalar::<_, i64>(
        "INSERT INTO accounts (phone, password_hash, role, created_at) \
         VALUES ($1, $2, $3, $4) RETURNING id",
    )
    .bind(a.phone.as_str())
    .bind(&a.password_hash)
    .bind(a.role.as_str())
    .bind(a.created_at.0)
    .fetch_one(&mut **tx)
    .await;
    unique_or(result, StoreError::Conflict("accounts.phone"))
}
