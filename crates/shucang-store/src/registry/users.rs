//! [`shucang_registry::UserStore`]: registry users and sessions.

#[async_trait::async_trait]
impl shucang_registry::UserStore for crate::SqlStore {
    async fn insert_user(
        &self,
        u: &shucang_registry::NewUser,
        messages: &[shucang_notify::NewMessage],
    ) -> Result<i64, shucang_registry::StoreError> {
        let e = crate::registry::reg_error;
        let (_writer, mut tx) = self.write_tx().await.map_err(e)?;
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
        let id = match inserted {
            Ok(id) => id,
            Err(err) if crate::registry::is_unique_violation(&err) => {
                return Err(shucang_registry::StoreError::PhoneTaken);
            }
            Err(err) => return Err(e(err)),
        };
        crate::registry::enqueue(&mut tx, messages, u.created_at)
            .await
            .map_err(e)?;
        tx.commit().await.map_err(e)?;
        Ok(id)
    }

    async fn user_by_phone(
        &self,
        phone: &str,
    ) -> Result<Option<shucang_registry::User>, shucang_registry::StoreError> {
        let row: Option<crate::registry::UserRow> = sqlx::query_as(&format!(
            "SELECT {} FROM reg_users WHERE phone = $1",
            crate::registry::USER_COLUMNS
        ))
        .bind(phone)
        .fetch_optional(&self.pool)
        .await
        .map_err(crate::registry::reg_error)?;
        row.map(crate::registry::user).transpose()
    }

    async fn user_by_id(
        &self,
        id: i64,
    ) -> Result<Option<shucang_registry::User>, shucang_registry::StoreError> {
        let row: Option<crate::registry::UserRow> = sqlx::query_as(&format!(
            "SELECT {} FROM reg_users WHERE id = $1",
            crate::registry::USER_COLUMNS
        ))
        .bind(id)
        .fetch_optional(&self.pool)
        .await
        .map_err(crate::registry::reg_error)?;
        row.map(crate::registry::user).transpose()
    }

    async fn set_login_state(
        &self,
        id: i64,
        failed_logins: u32,
        locked_until: Option<shucang_types::UnixMillis>,
    ) -> Result<(), shucang_registry::StoreError> {
        sqlx::query("UPDATE reg_users SET failed_logins = $2, locked_until = $3 WHERE id = $1")
            .bind(id)
            .bind(i64::from(failed_logins))
            .bind(locked_until.map(|t| t.0))
            .execute(&self.pool)
            .await
            .map_err(crate::registry::reg_error)?;
        Ok(())
    }

    async fn set_phone_verification(
        &self,
        id: i64,
        confirmed: bool,
    ) -> Result<(), shucang_registry::StoreError> {
        let sql = if confirmed {
            "UPDATE reg_users SET phone_verified = 1, phone_code_hash = NULL WHERE id = $1"
        } else {
            "UPDATE reg_users SET phone_code_attempts = phone_code_attempts + 1 WHERE id = $1"
        };
        sqlx::query(sql)
            .bind(id)
            .execute(&self.pool)
            .await
            .map_err(crate::registry::reg_error)?;
        Ok(())
    }

    async fn confirm_email(
        &self,
        token_hash: &str,
        now: shucang_types::UnixMillis,
    ) -> Result<Option<i64>, shucang_registry::StoreError> {
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
        expires_at: shucang_types::UnixMillis,
    ) -> Result<(), shucang_registry::StoreError> {
        sqlx::query(
            "INSERT INTO reg_sessions (token_hash, user_id, expires_at) VALUES ($1, $2, $3)",
        )
        .bind(token_hash)
        .bind(user_id)
        .bind(expires_at.0)
        .execute(&self.pool)
        .await
        .map_err(crate::registry::reg_error)?;
        Ok(())
    }

    async fn session(
        &self,
        token_hash: &str,
    ) -> Result<Option<(i64, shucang_types::UnixMillis)>, shucang_registry::StoreError> {
        let row: Option<(i64, i64)> =
            sqlx::query_as("SELECT user_id, expires_at FROM reg_sessions WHERE token_hash = $1")
                .bind(token_hash)
                .fetch_optional(&self.pool)
                .await
                .map_err(crate::registry::reg_error)?;
        Ok(row.map(|(u, e)| (u, shucang_types::UnixMillis(e))))
    }

    async fn delete_session(&self, token_hash: &str) -> Result<(), shucang_registry::StoreError> {
        sqlx::query("DELETE FROM reg_sessions WHERE token_hash = $1")
            .bind(token_hash)
            .execute(&self.pool)
            .await
            .map_err(crate::registry::reg_error)?;
        Ok(())
    }
}
