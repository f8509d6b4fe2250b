//! [`shucang_registry::RegistryStore`] and [`shucang_notify::OutboxStore`]
//! for both back ends, on the registry's own database.

use shucang_notify::{Channel, Message, NewMessage, OutboxError, Status};
use shucang_registry::{ApplicationRecord, StoreError, User, UserRole};
use shucang_types::UnixMillis;

pub(crate) fn reg_error(e: sqlx::Error) -> StoreError {
    StoreError::Backend(e.to_string())
}

pub(crate) fn outbox_error(e: sqlx::Error) -> OutboxError {
    OutboxError(e.to_string())
}

pub(crate) fn is_unique_violation(e: &sqlx::Error) -> bool {
    e.as_database_error()
        .is_some_and(|d| d.is_unique_violation())
}

pub(crate) type UserRow = (
    i64,
    String,
    String,
    String,
    String,
    String,
    i64,
    i64,
    Option<String>,
    i64,
    i64,
    i64,
    Option<i64>,
);

pub(crate) const USER_COLUMNS: &str = "id, role, name, phone, email, password_hash, phone_verified, \
     email_verified, phone_code_hash, phone_code_attempts, verify_expires_at, failed_logins, locked_until";

pub(crate) fn user(r: UserRow) -> Result<User, StoreError> {
    Ok(User {
        id: r.0,
        role: UserRole::from_code(&r.1)
            .ok_or_else(|| StoreError::Backend(format!("unknown role {}", r.1)))?,
        name: r.2,
        phone: r.3,
        email: r.4,
        password_hash: r.5,
        phone_verified: r.6 != 0,
        email_verified: r.7 != 0,
        phone_code_hash: r.8,
        phone_code_attempts: u32::try_from(r.9).unwrap_or(u32::MAX),
        verify_expires_at: UnixMillis(r.10),
        failed_logins: u32::try_from(r.11).unwrap_or(u32::MAX),
        locked_until: r.12.map(UnixMillis),
    })
}

pub(crate) type AppRow = (
    i64,
    i64,
    String,
    String,
    i64,
    Option<i64>,
    Option<String>,
    Option<String>,
    Option<String>,
    i64,
    i64,
);

pub(crate) const APP_COLUMNS: &str = "id, filer_id, state, form, version, submitted_at, due_date, \
     decision, pending, created_at, updated_at";

pub(crate) fn app(r: AppRow) -> ApplicationRecord {
    ApplicationRecord {
        id: r.0,
        filer_id: r.1,
        state: r.2,
        form: r.3,
        version: r.4,
        submitted_at: r.5.map(UnixMillis),
        due_date: r.6,
        decision: r.7,
        pending: r.8,
        created_at: UnixMillis(r.9),
        updated_at: UnixMillis(r.10),
    }
}

pub(crate) type NumberRow = (
    String,
    i64,
    i64,
    i64,
    String,
    String,
    i64,
    Option<i64>,
    String,
);

/// Numbers with their batch's number (a left join: not every number is in
/// a batch yet); callers append `WHERE …`.
pub(crate) const NUMBER_SELECT: &str = "n.number, n.serial, n.application_id, n.service_index, \
     n.entity_name, n.service_name, n.issued_at, b.number, a.state \
     FROM reg_numbers n LEFT JOIN reg_batches b ON b.id = n.batch_id \
     JOIN reg_applications a ON a.id = n.application_id";

pub(crate) fn number(r: NumberRow) -> shucang_registry::NumberRecord {
    shucang_registry::NumberRecord {
        number: r.0,
        serial: r.1,
        application_id: r.2,
        service_index: r.3,
        entity_name: r.4,
        service_name: r.5,
        issued_at: UnixMillis(r.6),
        batch: r.7,
        app_state: r.8,
    }
}

pub(crate) type BatchRow = (i64, String, i64, Option<i64>, Option<String>, Option<i64>);

pub(crate) const BATCH_COLUMNS: &str =
    "number, state, created_at, published_at, window_ends, finalised_at";

pub(crate) fn batch(r: BatchRow) -> Result<shucang_registry::BatchRecord, StoreError> {
    Ok(shucang_registry::BatchRecord {
        number: r.0,
        state: shucang_registry::BatchState::from_code(&r.1)
            .ok_or_else(|| StoreError::Backend(format!("unknown batch state {}", r.1)))?,
        created_at: UnixMillis(r.2),
        published_at: r.3.map(UnixMillis),
        window_ends: r.4,
        finalised_at: r.5.map(UnixMillis),
    })
}

pub(crate) type CheckinRow = (i64, String, String, i64, i64);

pub(crate) fn checkin(r: CheckinRow) -> shucang_registry::CheckinRecord {
    shucang_registry::CheckinRecord {
        id: r.0,
        opens_on: r.1,
        closes_on: r.2,
        created_by: r.3,
        created_at: UnixMillis(r.4),
    }
}

pub(crate) type MessageRow = (
    i64,
    String,
    String,
    String,
    String,
    String,
    i64,
    i64,
    Option<String>,
    i64,
    Option<i64>,
);

pub(crate) const MESSAGE_COLUMNS: &str = "id, channel, recipient, subject, body, status, attempts, \
     next_attempt_at, last_error, created_at, sent_at";

pub(crate) fn message(r: MessageRow) -> Result<Message, OutboxError> {
    Ok(Message {
        id: r.0,
        message: NewMessage {
            channel: Channel::from_code(&r.1)
                .ok_or_else(|| OutboxError(format!("unknown channel {}", r.1)))?,
            recipient: r.2,
            subject: r.3,
            body: r.4,
        },
        status: Status::from_code(&r.5)
            .ok_or_else(|| OutboxError(format!("unknown status {}", r.5)))?,
        attempts: u32::try_from(r.6).unwrap_or(u32::MAX),
        next_attempt_at: UnixMillis(r.7),
        last_error: r.8,
        created_at: UnixMillis(r.9),
        sent_at: r.10.map(UnixMillis),
    })
}

/// Queues messages inside a transaction.
pub(crate) async fn enqueue(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    messages: &[NewMessage],
    now: UnixMillis,
) -> Result<(), sqlx::Error> {
    for m in messages {
        sqlx::query(
            "INSERT INTO reg_outbox (channel, recipient, subject, body, status, attempts, \
             next_attempt_at, created_at) VALUES ($1, $2, $3, $4, 'pending', 0, $5, $5)",
        )
        .bind(m.channel.code())
        .bind(m.recipient.as_str())
        .bind(m.subject.as_str())
        .bind(m.body.as_str())
        .bind(now.0)
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}

#[async_trait::async_trait]
impl shucang_notify::OutboxStore for crate::SqlStore {
    async fn due_messages(
        &self,
        now: shucang_types::UnixMillis,
        limit: usize,
    ) -> Result<Vec<shucang_notify::Message>, shucang_notify::OutboxError> {
        let rows: Vec<crate::registry::MessageRow> = sqlx::query_as(&format!(
            "SELECT {} FROM reg_outbox WHERE status = 'pending' AND next_attempt_at <= $1 \
             ORDER BY id LIMIT $2",
            crate::registry::MESSAGE_COLUMNS
        ))
        .bind(now.0)
        .bind(limit as i64)
        .fetch_all(&self.pool)
        .await
        .map_err(crate::registry::outbox_error)?;
        rows.into_iter().map(crate::registry::message).collect()
    }

    async fn mark_sent(
        &self,
        id: i64,
        at: shucang_types::UnixMillis,
    ) -> Result<(), shucang_notify::OutboxError> {
        sqlx::query(
            "UPDATE reg_outbox SET status = 'sent', attempts = attempts + 1, sent_at = $2 \
             WHERE id = $1",
        )
        .bind(id)
        .bind(at.0)
        .execute(&self.pool)
        .await
        .map_err(crate::registry::outbox_error)?;
        Ok(())
    }

    async fn mark_attempt_failed(
        &self,
        id: i64,
        attempts: u32,
        next_attempt_at: Option<shucang_types::UnixMillis>,
        error: &str,
    ) -> Result<(), shucang_notify::OutboxError> {
        let (status, next) = match next_attempt_at {
            Some(at) => ("pending", Some(at.0)),
            None => ("failed", None),
        };
        sqlx::query(
            "UPDATE reg_outbox SET status = $2, attempts = $3, \
             next_attempt_at = COALESCE($4, next_attempt_at), last_error = $5 WHERE id = $1",
        )
        .bind(id)
        .bind(status)
        .bind(i64::from(attempts))
        .bind(next)
        .bind(error)
        .execute(&self.pool)
        .await
        .map_err(crate::registry::outbox_error)?;
        Ok(())
    }

    async fn recent_messages(
        &self,
        recipient: Option<&str>,
        limit: usize,
    ) -> Result<Vec<shucang_notify::Message>, shucang_notify::OutboxError> {
        let rows: Vec<crate::registry::MessageRow> = sqlx::query_as(&format!(
            "SELECT {} FROM reg_outbox WHERE ($1 IS NULL OR recipient = $1) \
             ORDER BY id DESC LIMIT $2",
            crate::registry::MESSAGE_COLUMNS
        ))
        .bind(recipient)
        .bind(limit as i64)
        .fetch_all(&self.pool)
        .await
        .map_err(crate::registry::outbox_error)?;
        rows.into_iter().map(crate::registry::message).collect()
    }
}

#[async_trait::async_trait]
impl shucang_registry::RegistryStore for crate::SqlStore {
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

    async fn insert_application(
        &self,
        filer_id: i64,
        form: &str,
        now: shucang_types::UnixMillis,
    ) -> Result<i64, shucang_registry::StoreError> {
        sqlx::query_scalar(
            "INSERT INTO reg_applications (filer_id, state, form, version, created_at, updated_at) \
             VALUES ($1, 'draft', $2, 1, $3, $3) RETURNING id",
        )
        .bind(filer_id)
        .bind(form)
        .bind(now.0)
        .fetch_one(&self.pool)
        .await
        .map_err(crate::registry::reg_error)
    }

    async fn application(
        &self,
        id: i64,
    ) -> Result<Option<shucang_registry::ApplicationRecord>, shucang_registry::StoreError> {
        let row: Option<crate::registry::AppRow> = sqlx::query_as(&format!(
            "SELECT {} FROM reg_applications WHERE id = $1",
            crate::registry::APP_COLUMNS
        ))
        .bind(id)
        .fetch_optional(&self.pool)
        .await
        .map_err(crate::registry::reg_error)?;
        Ok(row.map(crate::registry::app))
    }

    async fn update_form(
        &self,
        id: i64,
        editable: &[&str],
        form: &str,
        now: shucang_types::UnixMillis,
    ) -> Result<bool, shucang_registry::StoreError> {
        let e = crate::registry::reg_error;
        let (_writer, mut tx) = self.write_tx().await.map_err(e)?;
        let state: Option<String> =
            sqlx::query_scalar("SELECT state FROM reg_applications WHERE id = $1")
                .bind(id)
                .fetch_optional(&mut *tx)
                .await
                .map_err(e)?;
        if !state.is_some_and(|s| editable.contains(&s.as_str())) {
            return Ok(false);
        }
        sqlx::query(
            "UPDATE reg_applications SET form = $2, version = version + 1, updated_at = $3 \
             WHERE id = $1",
        )
        .bind(id)
        .bind(form)
        .bind(now.0)
        .execute(&mut *tx)
        .await
        .map_err(e)?;
        tx.commit().await.map_err(e)?;
        Ok(true)
    }

    async fn transition(
        &self,
        t: &shucang_registry::Transition,
    ) -> Result<bool, shucang_registry::StoreError> {
        let e = crate::registry::reg_error;
        let (_writer, mut tx) = self.write_tx().await.map_err(e)?;
        let (set_pending, pending) = match &t.pending {
            shucang_registry::PendingUpdate::Keep => (0i64, None),
            shucang_registry::PendingUpdate::Set(p) => (1, Some(p.as_str())),
            shucang_registry::PendingUpdate::Clear => (1, None),
        };
        let updated = sqlx::query(
            "UPDATE reg_applications SET state = $3, version = version + 1, updated_at = $4, \
             submitted_at = COALESCE($5, submitted_at), due_date = COALESCE($6, due_date), \
             decision = COALESCE($7, decision), form = COALESCE($8, form), \
             pending = CASE WHEN $9 = 1 THEN $10 ELSE pending END \
             WHERE id = $1 AND state = $2",
        )
        .bind(t.application_id)
        .bind(&t.from)
        .bind(&t.to)
        .bind(t.at.0)
        .bind(t.submitted_at.map(|s| s.0))
        .bind(&t.due_date)
        .bind(&t.decision)
        .bind(&t.form)
        .bind(set_pending)
        .bind(pending)
        .execute(&mut *tx)
        .await
        .map_err(e)?
        .rows_affected();
        if updated == 0 {
            return Ok(false);
        }
        for n in &t.numbers {
            let inserted = sqlx::query(
                "INSERT INTO reg_numbers (number, serial, application_id, filer_id, service_index, \
                 entity_name, service_name, issued_at) \
                 SELECT $1, $2, $3, filer_id, $4, $5, $6, $7 FROM reg_applications WHERE id = $3",
            )
            .bind(&n.number)
            .bind(n.serial)
            .bind(n.application_id)
            .bind(n.service_index)
            .bind(&n.entity_name)
            .bind(&n.service_name)
            .bind(n.issued_at.0)
            .execute(&mut *tx)
            .await;
            match inserted {
                Ok(_) => {}
                Err(err) if crate::registry::is_unique_violation(&err) => {
                    return Err(shucang_registry::StoreError::SerialTaken);
                }
                Err(err) => return Err(e(err)),
            }
        }
        sqlx::query(
            "INSERT INTO reg_audit (at, actor_id, application_id, action, from_state, to_state, detail) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(t.at.0)
        .bind(t.actor_id)
        .bind(t.application_id)
        .bind(&t.action)
        .bind(&t.from)
        .bind(&t.to)
        .bind(&t.detail)
        .execute(&mut *tx)
        .await
        .map_err(e)?;
        crate::registry::enqueue(&mut tx, &t.messages, t.at)
            .await
            .map_err(e)?;
        tx.commit().await.map_err(e)?;
        Ok(true)
    }

    async fn applications_in(
        &self,
        states: &[&str],
    ) -> Result<Vec<shucang_registry::ApplicationRecord>, shucang_registry::StoreError> {
        let mut out = Vec::new();
        for state in states {
            let rows: Vec<crate::registry::AppRow> = sqlx::query_as(&format!(
                "SELECT {} FROM reg_applications WHERE state = $1 ORDER BY submitted_at, id",
                crate::registry::APP_COLUMNS
            ))
            .bind(*state)
            .fetch_all(&self.pool)
            .await
            .map_err(crate::registry::reg_error)?;
            out.extend(rows.into_iter().map(crate::registry::app));
        }
        Ok(out)
    }

    async fn applications_of(
        &self,
        filer_id: i64,
    ) -> Result<Vec<shucang_registry::ApplicationRecord>, shucang_registry::StoreError> {
        let rows: Vec<crate::registry::AppRow> = sqlx::query_as(&format!(
            "SELECT {} FROM reg_applications WHERE filer_id = $1 ORDER BY id DESC",
            crate::registry::APP_COLUMNS
        ))
        .bind(filer_id)
        .fetch_all(&self.pool)
        .await
        .map_err(crate::registry::reg_error)?;
        Ok(rows.into_iter().map(crate::registry::app).collect())
    }

    async fn insert_attachment(
        &self,
        a: &shucang_registry::AttachmentRecord,
    ) -> Result<i64, shucang_registry::StoreError> {
        sqlx::query_scalar(
            "INSERT INTO reg_attachments (application_id, file_name, mime, sha256, size, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
        )
        .bind(a.application_id)
        .bind(&a.file_name)
        .bind(&a.mime)
        .bind(&a.sha256)
        .bind(a.size)
        .bind(a.created_at.0)
        .fetch_one(&self.pool)
        .await
        .map_err(crate::registry::reg_error)
    }

    async fn attachments(
        &self,
        application_id: i64,
    ) -> Result<Vec<shucang_registry::AttachmentRecord>, shucang_registry::StoreError> {
        let rows: Vec<(i64, i64, String, String, String, i64, i64)> = sqlx::query_as(
            "SELECT id, application_id, file_name, mime, sha256, size, created_at \
             FROM reg_attachments WHERE application_id = $1 ORDER BY id",
        )
        .bind(application_id)
        .fetch_all(&self.pool)
        .await
        .map_err(crate::registry::reg_error)?;
        Ok(rows
            .into_iter()
            .map(|r| shucang_registry::AttachmentRecord {
                id: r.0,
                application_id: r.1,
                file_name: r.2,
                mime: r.3,
                sha256: r.4,
                size: r.5,
                created_at: shucang_types::UnixMillis(r.6),
            })
            .collect())
    }

    async fn numbers_of(
        &self,
        application_id: i64,
    ) -> Result<Vec<shucang_registry::NumberRecord>, shucang_registry::StoreError> {
        let rows: Vec<crate::registry::NumberRow> = sqlx::query_as(&format!(
            "SELECT {} WHERE n.application_id = $1 ORDER BY n.service_index",
            crate::registry::NUMBER_SELECT
        ))
        .bind(application_id)
        .fetch_all(&self.pool)
        .await
        .map_err(crate::registry::reg_error)?;
        Ok(rows.into_iter().map(crate::registry::number).collect())
    }

    async fn insert_checkin(
        &self,
        c: &shucang_registry::CheckinRecord,
    ) -> Result<i64, shucang_registry::StoreError> {
        sqlx::query_scalar(
            "INSERT INTO reg_checkins (opens_on, closes_on, created_by, created_at) \
             VALUES ($1, $2, $3, $4) RETURNING id",
        )
        .bind(&c.opens_on)
        .bind(&c.closes_on)
        .bind(c.created_by)
        .bind(c.created_at.0)
        .fetch_one(&self.pool)
        .await
        .map_err(crate::registry::reg_error)
    }

    async fn checkins(
        &self,
    ) -> Result<Vec<shucang_registry::CheckinRecord>, shucang_registry::StoreError> {
        let rows: Vec<crate::registry::CheckinRow> = sqlx::query_as(
            "SELECT id, opens_on, closes_on, created_by, created_at FROM reg_checkins ORDER BY id DESC",
        )
        .fetch_all(&self.pool)
        .await
        .map_err(crate::registry::reg_error)?;
        Ok(rows.into_iter().map(crate::registry::checkin).collect())
    }

    async fn checkin(
        &self,
        id: i64,
    ) -> Result<Option<shucang_registry::CheckinRecord>, shucang_registry::StoreError> {
        let row: Option<crate::registry::CheckinRow> = sqlx::query_as(
            "SELECT id, opens_on, closes_on, created_by, created_at FROM reg_checkins WHERE id = $1",
        )
        .bind(id)
        .fetch_optional(&self.pool)
        .await
        .map_err(crate::registry::reg_error)?;
        Ok(row.map(crate::registry::checkin))
    }

    async fn insert_confirmation(
        &self,
        c: &shucang_registry::ConfirmationRecord,
    ) -> Result<bool, shucang_registry::StoreError> {
        let done = sqlx::query(
            "INSERT INTO reg_checkin_confirmations (checkin_id, application_id, confirmed_by, note, at) \
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT (checkin_id, application_id) DO NOTHING",
        )
        .bind(c.checkin_id)
        .bind(c.application_id)
        .bind(c.confirmed_by)
        .bind(&c.note)
        .bind(c.at.0)
        .execute(&self.pool)
        .await
        .map_err(crate::registry::reg_error)?
        .rows_affected();
        Ok(done == 1)
    }

    async fn confirmations(
        &self,
        checkin_id: i64,
    ) -> Result<Vec<shucang_registry::ConfirmationRecord>, shucang_registry::StoreError> {
        let rows: Vec<(i64, i64, i64, String, i64)> = sqlx::query_as(
            "SELECT checkin_id, application_id, confirmed_by, note, at \
             FROM reg_checkin_confirmations WHERE checkin_id = $1 ORDER BY at, application_id",
        )
        .bind(checkin_id)
        .fetch_all(&self.pool)
        .await
        .map_err(crate::registry::reg_error)?;
        Ok(rows
            .into_iter()
            .map(|r| shucang_registry::ConfirmationRecord {
                checkin_id: r.0,
                application_id: r.1,
                confirmed_by: r.2,
                note: r.3,
                at: shucang_types::UnixMillis(r.4),
            })
            .collect())
    }

    async fn insert_calendar_load(
        &self,
        year: i32,
        schedule: &str,
        loaded_by: &str,
        at: shucang_types::UnixMillis,
    ) -> Result<(), shucang_registry::StoreError> {
        sqlx::query(
            "INSERT INTO reg_calendar_loads (year, schedule, loaded_by, loaded_at) VALUES ($1, $2, $3, $4)",
        )
        .bind(i64::from(year))
        .bind(schedule)
        .bind(loaded_by)
        .bind(at.0)
        .execute(&self.pool)
        .await
        .map_err(crate::registry::reg_error)?;
        Ok(())
    }

    async fn calendar_loads(&self) -> Result<Vec<(i32, String)>, shucang_registry::StoreError> {
        let rows: Vec<(i64, String)> = sqlx::query_as(
            "SELECT year, schedule FROM reg_calendar_loads l \
             WHERE id = (SELECT MAX(id) FROM reg_calendar_loads m WHERE m.year = l.year) ORDER BY year",
        )
        .fetch_all(&self.pool)
        .await
        .map_err(crate::registry::reg_error)?;
        Ok(rows
            .into_iter()
            .filter_map(|(y, s)| i32::try_from(y).ok().map(|y| (y, s)))
            .collect())
    }

    async fn number(
        &self,
        number: &str,
    ) -> Result<Option<shucang_registry::NumberRecord>, shucang_registry::StoreError> {
        let row: Option<crate::registry::NumberRow> = sqlx::query_as(&format!(
            "SELECT {} WHERE n.number = $1",
            crate::registry::NUMBER_SELECT
        ))
        .bind(number)
        .fetch_optional(&self.pool)
        .await
        .map_err(crate::registry::reg_error)?;
        Ok(row.map(crate::registry::number))
    }

    async fn gather_batch(
        &self,
        now: shucang_types::UnixMillis,
    ) -> Result<Option<i64>, shucang_registry::StoreError> {
        let e = crate::registry::reg_error;
        let (_writer, mut tx) = self.write_tx().await.map_err(e)?;
        let waiting: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM reg_numbers WHERE batch_id IS NULL")
                .fetch_one(&mut *tx)
                .await
                .map_err(e)?;
        if waiting == 0 {
            return Ok(None);
        }
        let next: i64 = sqlx::query_scalar("SELECT COALESCE(MAX(number), 0) + 1 FROM reg_batches")
            .fetch_one(&mut *tx)
            .await
            .map_err(e)?;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO reg_batches (number, state, created_at) VALUES ($1, 'gathered', $2) RETURNING id",
        )
        .bind(next)
        .bind(now.0)
        .fetch_one(&mut *tx)
        .await
        .map_err(e)?;
        sqlx::query("UPDATE reg_numbers SET batch_id = $1 WHERE batch_id IS NULL")
            .bind(id)
            .execute(&mut *tx)
            .await
            .map_err(e)?;
        tx.commit().await.map_err(e)?;
        Ok(Some(next))
    }

    async fn batch(
        &self,
        number: i64,
    ) -> Result<Option<shucang_registry::BatchRecord>, shucang_registry::StoreError> {
        let row: Option<crate::registry::BatchRow> = sqlx::query_as(&format!(
            "SELECT {} FROM reg_batches WHERE number = $1",
            crate::registry::BATCH_COLUMNS
        ))
        .bind(number)
        .fetch_optional(&self.pool)
        .await
        .map_err(crate::registry::reg_error)?;
        row.map(crate::registry::batch).transpose()
    }

    async fn batches(
        &self,
    ) -> Result<Vec<shucang_registry::BatchRecord>, shucang_registry::StoreError> {
        let rows: Vec<crate::registry::BatchRow> = sqlx::query_as(&format!(
            "SELECT {} FROM reg_batches ORDER BY number DESC",
            crate::registry::BATCH_COLUMNS
        ))
        .fetch_all(&self.pool)
        .await
        .map_err(crate::registry::reg_error)?;
        rows.into_iter().map(crate::registry::batch).collect()
    }

    async fn batch_entries(
        &self,
        number: i64,
    ) -> Result<Vec<shucang_registry::NumberRecord>, shucang_registry::StoreError> {
        let rows: Vec<crate::registry::NumberRow> = sqlx::query_as(&format!(
            "SELECT {} WHERE b.number = $1 ORDER BY n.number",
            crate::registry::NUMBER_SELECT
        ))
        .bind(number)
        .fetch_all(&self.pool)
        .await
        .map_err(crate::registry::reg_error)?;
        Ok(rows.into_iter().map(crate::registry::number).collect())
    }

    async fn set_batch_state(
        &self,
        number: i64,
        from: shucang_registry::BatchState,
        to: shucang_registry::BatchState,
        at: shucang_types::UnixMillis,
        window_ends: Option<&str>,
    ) -> Result<bool, shucang_registry::StoreError> {
        let sql = match to {
            shucang_registry::BatchState::Objection => {
                "UPDATE reg_batches SET state = $3, published_at = $4, window_ends = $5 \
                 WHERE number = $1 AND state = $2"
            }
            _ => {
                "UPDATE reg_batches SET state = $3, finalised_at = $4, \
                  window_ends = COALESCE($5, window_ends) WHERE number = $1 AND state = $2"
            }
        };
        let done = sqlx::query(sql)
            .bind(number)
            .bind(from.code())
            .bind(to.code())
            .bind(at.0)
            .bind(window_ends)
            .execute(&self.pool)
            .await
            .map_err(crate::registry::reg_error)?
            .rows_affected();
        Ok(done == 1)
    }

    async fn insert_objection(
        &self,
        o: &shucang_registry::ObjectionRecord,
    ) -> Result<i64, shucang_registry::StoreError> {
        sqlx::query_scalar(
            "INSERT INTO reg_objections (batch_id, number, text, contact, recorded_by, at) \
             SELECT id, $2, $3, $4, $5, $6 FROM reg_batches WHERE number = $1 RETURNING id",
        )
        .bind(o.batch)
        .bind(&o.number)
        .bind(&o.text)
        .bind(&o.contact)
        .bind(o.recorded_by)
        .bind(o.at.0)
        .fetch_one(&self.pool)
        .await
        .map_err(crate::registry::reg_error)
    }

    async fn objections(
        &self,
        batch: i64,
    ) -> Result<Vec<shucang_registry::ObjectionRecord>, shucang_registry::StoreError> {
        let rows: Vec<(i64, i64, String, String, String, i64, i64)> = sqlx::query_as(
            "SELECT o.id, b.number, o.number, o.text, o.contact, o.recorded_by, o.at \
             FROM reg_objections o JOIN reg_batches b ON b.id = o.batch_id \
             WHERE b.number = $1 ORDER BY o.id",
        )
        .bind(batch)
        .fetch_all(&self.pool)
        .await
        .map_err(crate::registry::reg_error)?;
        Ok(rows
            .into_iter()
            .map(|r| shucang_registry::ObjectionRecord {
                id: r.0,
                batch: r.1,
                number: r.2,
                text: r.3,
                contact: r.4,
                recorded_by: r.5,
                at: shucang_types::UnixMillis(r.6),
            })
            .collect())
    }

    async fn search_published(
        &self,
        name_part: &str,
        number: &str,
        limit: usize,
    ) -> Result<Vec<shucang_registry::NumberRecord>, shucang_registry::StoreError> {
        // LIKE with the caller's text escaped: % and _ match themselves.
        let pattern = format!(
            "%{}%",
            name_part
                .replace('\\', "\\\\")
                .replace('%', "\\%")
                .replace('_', "\\_")
        );
        let rows: Vec<crate::registry::NumberRow> = sqlx::query_as(&format!(
            "SELECT {} WHERE b.state <> 'gathered' AND \
             (($1 <> '' AND n.entity_name LIKE $2 ESCAPE '\\') OR n.number = $3) \
             ORDER BY n.number LIMIT $4",
            crate::registry::NUMBER_SELECT
        ))
        .bind(name_part)
        .bind(pattern)
        .bind(number)
        .bind(limit as i64)
        .fetch_all(&self.pool)
        .await
        .map_err(crate::registry::reg_error)?;
        Ok(rows.into_iter().map(crate::registry::number).collect())
    }

    async fn number_count_of_filer(
        &self,
        filer_id: i64,
    ) -> Result<i64, shucang_registry::StoreError> {
        sqlx::query_scalar("SELECT COUNT(*) FROM reg_numbers WHERE filer_id = $1")
            .bind(filer_id)
            .fetch_one(&self.pool)
            .await
            .map_err(crate::registry::reg_error)
    }

    async fn audit_of(
        &self,
        application_id: i64,
    ) -> Result<Vec<shucang_registry::AuditEntry>, shucang_registry::StoreError> {
        let rows: Vec<(i64, i64, i64, i64, String, String, String, String)> = sqlx::query_as(
            "SELECT id, at, actor_id, application_id, action, from_state, to_state, detail \
             FROM reg_audit WHERE application_id = $1 ORDER BY id",
        )
        .bind(application_id)
        .fetch_all(&self.pool)
        .await
        .map_err(crate::registry::reg_error)?;
        Ok(rows
            .into_iter()
            .map(|r| shucang_registry::AuditEntry {
                id: r.0,
                at: shucang_types::UnixMillis(r.1),
                actor_id: r.2,
                application_id: r.3,
                action: r.4,
                from_state: r.5,
                to_state: r.6,
                detail: r.7,
            })
            .collect())
    }
}
