//! [`shucang_registry::UserStore`]: registry users and sessions.

use shucang_notify::NewMessage;

use shucang_types::{FailedLogin, UnixMillis};

use shucang_registry::{
    NewUser, PersonalDataView, PersonalDataViewRecord, StoreError, User, UserRole, UserStore,
    WindowedEvent,
};

use super::{USER_COLUMNS, user};
use crate::engine::Writer;
use crate::lockout::Logins;
use crate::query::{decode_all, decode_one, unique_or};
use crate::windows::Windows;

#[async_trait::async_trait]
impl UserStore for crate::SqlStore {
    async fn insert_user(&self, u: &NewUser, messages: &[NewMessage]) -> Result<i64, StoreError> {
        let mut tx: Writer<StoreError> = self.write_tx().await?;
        let inserted: Result<i64, sqlx::Error> = sqlx::query_scalar(
            "INSERT INTO reg_users (role, name, phone, email, password_hash, phone_verified, \
             email_verified, phone_code_hash, phone_code_attempts, email_token_hash, \
             verify_expires_at, failed_logins, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $6, $7, 0, $8, $9, 0, $10) RETURNING id",
        )
        .bind(u.role.code())
        .bind(&u.name)
        .bind(&u.phone)
        .bind(&u.email)
        .bind(&u.password_hash)
        .bind(i64::from(u.confirmed))
        .bind(&u.phone_code_hash)
        .bind(&u.email_token_hash)
        .bind(u.verify_expires_at.0)
        .bind(u.created_at.0)
        .fetch_one(&mut *tx)
        .await;
        let id = unique_or(inserted, StoreError::PhoneTaken)?;
        crate::registry::enqueue(&mut tx, messages, u.created_at).await?;
        tx.commit().await?;
        Ok(id)
    }

    async fn count_in_window(&self, e: &WindowedEvent) -> Result<bool, StoreError> {
        self.count_windowed(Windows::Registry, e).await
    }

    async fn purge_windows(&self, before: UnixMillis) -> Result<u64, StoreError> {
        self.purge_windows_of(Windows::Registry, before).await
    }

    async fn queue_messages(
        &self,
        messages: &[NewMessage],
        now: UnixMillis,
    ) -> Result<(), StoreError> {
        self.queue(messages, now).await
    }

    async fn user_by_phone(&self, phone: &str) -> Result<Option<User>, StoreError> {
        let sql = format!("SELECT {USER_COLUMNS} FROM reg_users WHERE phone = $1");
        decode_one(self.one(&sql, phone).await, user)
    }

    async fn user_by_id(&self, id: i64) -> Result<Option<User>, StoreError> {
        let sql = format!("SELECT {USER_COLUMNS} FROM reg_users WHERE id = $1");
        decode_one(self.one(&sql, id).await, user)
    }

    async fn record_login_failure(
        &self,
        id: i64,
        failure: &FailedLogin,
    ) -> Result<Option<UnixMillis>, StoreError> {
        self.count_login_failure(Logins::RegistryUsers, id, failure)
            .await
    }

    async fn admit_login(
        &self,
        id: i64,
        now: UnixMillis,
    ) -> Result<Option<UnixMillis>, StoreError> {
        self.admit_login_at(Logins::RegistryUsers, id, now).await
    }

    async fn spend_phone_code_attempt(
        &self,
        id: i64,
        attempts_max: u32,
        now: UnixMillis,
    ) -> Result<Option<String>, StoreError> {
        let pending: Option<Option<String>> = sqlx::query_scalar(
            "UPDATE reg_users SET phone_code_attempts = phone_code_attempts + 1 \
             WHERE id = $1 AND phone_verified = 0 AND phone_code_hash IS NOT NULL \
               AND phone_code_attempts < $2 AND verify_expires_at > $3 \
             RETURNING phone_code_hash",
        )
        .bind(id)
        .bind(i64::from(attempts_max))
        .bind(now.0)
        .fetch_optional(&self.pool)
        .await
        .map_err(crate::registry::reg_error)?;
        Ok(pending.flatten())
    }

    async fn confirm_phone(&self, id: i64, code_hash: &str) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "UPDATE reg_users SET phone_verified = 1, phone_code_hash = NULL \
             WHERE id = $1 AND phone_code_hash = $2",
        )
        .bind(id)
        .bind(code_hash)
        .execute(&self.pool)
        .await
        .map_err(crate::registry::reg_error)?;
        Ok(done.rows_affected() == 1)
    }

    async fn reissue_confirmations(
        &self,
        id: i64,
        r: &shucang_registry::Reissue<'_>,
        messages: &[NewMessage],
        now: UnixMillis,
    ) -> Result<bool, StoreError> {
        let mut tx: Writer<StoreError> = self.write_tx().await?;
        // Only what is unconfirmed changes: a confirmed mobile keeps no
        // code, a confirmed address no token.
        let updated = sqlx::query(
            "UPDATE reg_users SET \
             phone_code_hash = CASE WHEN phone_verified = 0 THEN $2 ELSE phone_code_hash END, \
             phone_code_attempts = CASE WHEN phone_verified = 0 THEN 0 ELSE phone_code_attempts END, \
             email_token_hash = CASE WHEN email_verified = 0 THEN $3 ELSE email_token_hash END, \
             verify_expires_at = $4 \
             WHERE id = $1 AND (phone_verified = 0 OR email_verified = 0)",
        )
        .bind(id)
        .bind(r.phone_code_hash)
        .bind(r.email_token_hash)
        .bind(r.expires_at.0)
        .execute(&mut *tx)
        .await
        .map_err(crate::registry::reg_error)?
        .rows_affected();
        if updated == 0 {
            return Ok(false);
        }
        crate::registry::enqueue(&mut tx, messages, now).await?;
        tx.commit().await?;
        Ok(true)
    }

    async fn confirm_email(
        &self,
        token_hash: &str,
        now: UnixMillis,
    ) -> Result<Option<i64>, StoreError> {
        let id: Option<i64> = sqlx::query_scalar(
            "UPDATE reg_users SET email_verified = 1, email_token_hash = NULL \
             WHERE email_token_hash = $1 AND verify_expires_at > $2 RETURNING id",
        )
        .bind(token_hash)
        .bind(now.0)
        .fetch_optional(&self.pool)
        .await
        .map_err(crate::registry::reg_error)?;
        Ok(id)
    }

    async fn insert_session(
        &self,
        token_hash: &str,
        user_id: i64,
        expires_at: UnixMillis,
    ) -> Result<(), StoreError> {
        let insert = sqlx::query(
            "INSERT INTO reg_sessions (token_hash, user_id, expires_at) VALUES ($1, $2, $3)",
        )
        .bind(token_hash)
        .bind(user_id)
        .bind(expires_at.0);
        self.run(insert).await
    }

    async fn session(&self, token_hash: &str) -> Result<Option<(i64, UnixMillis)>, StoreError> {
        let sql = "SELECT user_id, expires_at FROM reg_sessions WHERE token_hash = $1";
        decode_one(self.one(sql, token_hash).await, |(u, e): (i64, i64)| {
            Ok((u, UnixMillis(e)))
        })
    }

    async fn delete_session(&self, token_hash: &str) -> Result<(), StoreError> {
        let delete = sqlx::query("DELETE FROM reg_sessions WHERE token_hash = $1").bind(token_hash);
        self.run(delete).await
    }

    async fn delete_expired_sessions(&self, now: UnixMillis) -> Result<u64, StoreError> {
        let delete = sqlx::query("DELETE FROM reg_sessions WHERE expires_at < $1");
        self.changed(delete.bind(now.0)).await
    }

    async fn record_personal_data_view(&self, v: &PersonalDataView) -> Result<(), StoreError> {
        let insert = sqlx::query(
            "INSERT INTO reg_personal_data_views (user_id, application_id, item, viewed_at) \
             VALUES ($1, $2, $3, $4)",
        )
        .bind(v.user_id)
        .bind(v.application_id)
        .bind(&v.item)
        .bind(v.at.0);
        self.run(insert).await
    }

    async fn personal_data_views(
        &self,
        before: Option<i64>,
        limit: usize,
    ) -> Result<Vec<PersonalDataViewRecord>, StoreError> {
        type Row = (i64, i64, i64, String, i64, String, String);
        let rows: Result<Vec<Row>, sqlx::Error> = sqlx::query_as(
            "SELECT v.id, v.user_id, v.application_id, v.item, v.viewed_at, u.name, u.role \
             FROM reg_personal_data_views v JOIN reg_users u ON u.id = v.user_id \
             WHERE ($1 IS NULL OR v.id < $1) ORDER BY v.id DESC LIMIT $2",
        )
        .bind(before)
        .bind(limit as i64)
        .fetch_all(&self.pool)
        .await;
        decode_all(
            rows,
            |(id, user_id, application_id, item, at, name, role): Row| {
                Ok(PersonalDataViewRecord {
                    id,
                    view: PersonalDataView {
                        user_id,
                        application_id,
                        item,
                        at: UnixMillis(at),
                    },
                    user_name: name,
                    user_role: UserRole::from_code(&role)
                        .ok_or_else(|| StoreError::Backend(format!("unknown role {role}")))?,
                })
            },
        )
    }
}
