//! [`shucang_registry::RegistryStore`] and [`shucang_notify::OutboxStore`]
//! for both back ends, on the registry's own database.

use shucang_notify::{Channel, Failed, Message, NewMessage, OutboxError, OutboxStore, Status};
use shucang_registry::{
    ApplicationRecord, BatchRecord, CheckinRecord, NumberRecord, StoreError, User, UserRole, codec,
};
use shucang_types::UnixMillis;

use crate::engine::Writer;
use crate::query::decode_all;

mod applications;
mod checkins;
mod publication;
mod users;

pub(crate) fn reg_error(e: sqlx::Error) -> StoreError {
    StoreError::Backend(e.to_string())
}

pub(crate) fn outbox_error(e: sqlx::Error) -> OutboxError {
    OutboxError(e.to_string())
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

pub(crate) fn app(r: AppRow) -> Result<ApplicationRecord, StoreError> {
    Ok(ApplicationRecord {
        id: r.0,
        filer_id: r.1,
        state: codec::decode_state(&r.2)?,
        form: codec::decode_form(&r.3)?,
        version: r.4,
        submitted_at: r.5.map(UnixMillis),
        due_date: r.6.as_deref().map(codec::decode_date).transpose()?,
        decision: r.7.as_deref().map(codec::decode_decision).transpose()?,
        pending: r.8.as_deref().map(codec::decode_pending).transpose()?,
        created_at: UnixMillis(r.9),
        updated_at: UnixMillis(r.10),
    })
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
/// The search keys of an entity name: each character and each pair of
/// neighbouring characters, ASCII lower-cased (as the migration's
/// backfill computes them with SQL's `lower`).
pub(crate) fn name_grams(name: &str) -> std::collections::BTreeSet<String> {
    let chars: Vec<char> = name.chars().map(|c| c.to_ascii_lowercase()).collect();
    let singles = chars.iter().map(|c| c.to_string());
    let pairs = chars.windows(2).map(|w| w.iter().collect::<String>());
    singles.chain(pairs).collect()
}

/// The one key a search for `part` looks its candidates up by: its first
/// pair of characters, or its only character.
pub(crate) fn search_gram(part: &str) -> String {
    let chars: Vec<char> = part.chars().map(|c| c.to_ascii_lowercase()).collect();
    chars.iter().take(2).collect()
}

pub(crate) const NUMBER_SELECT: &str = "n.number, n.serial, n.application_id, n.service_index, \
     n.entity_name, n.service_name, n.issued_at, b.number, a.state \
     FROM reg_numbers n LEFT JOIN reg_batches b ON b.id = n.batch_id \
     JOIN reg_applications a ON a.id = n.application_id";

pub(crate) fn number(r: NumberRow) -> Result<NumberRecord, StoreError> {
    Ok(NumberRecord {
        number: r.0,
        serial: r.1,
        application_id: r.2,
        service_index: r.3,
        entity_name: r.4,
        service_name: r.5,
        issued_at: UnixMillis(r.6),
        batch: r.7,
        app_state: codec::decode_state(&r.8)?,
    })
}

pub(crate) type BatchRow = (i64, String, i64, Option<i64>, Option<String>, Option<i64>);

pub(crate) const BATCH_COLUMNS: &str =
    "number, state, created_at, published_at, window_ends, finalised_at";

pub(crate) fn batch(r: BatchRow) -> Result<BatchRecord, StoreError> {
    Ok(BatchRecord {
        number: r.0,
        state: shucang_registry::BatchState::from_code(&r.1)
            .ok_or_else(|| StoreError::Backend(format!("unknown batch state {}", r.1)))?,
        created_at: UnixMillis(r.2),
        published_at: r.3.map(UnixMillis),
        window_ends: r.4.as_deref().map(codec::decode_date).transpose()?,
        finalised_at: r.5.map(UnixMillis),
    })
}

pub(crate) type CheckinRow = (i64, String, String, i64, i64);

pub(crate) const CHECKIN_COLUMNS: &str = "id, opens_on, closes_on, created_by, created_at";

pub(crate) fn checkin(r: CheckinRow) -> Result<CheckinRecord, StoreError> {
    Ok(CheckinRecord {
        id: r.0,
        opens_on: codec::decode_date(&r.1)?,
        closes_on: codec::decode_date(&r.2)?,
        created_by: r.3,
        created_at: UnixMillis(r.4),
    })
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
    tx: &mut Writer<StoreError>,
    messages: &[NewMessage],
    now: UnixMillis,
) -> Result<(), StoreError> {
    for m in messages {
        let insert = sqlx::query(
            "INSERT INTO reg_outbox (channel, recipient, subject, body, status, attempts, \
             next_attempt_at, created_at) VALUES ($1, $2, $3, $4, 'pending', 0, $5, $5)",
        )
        .bind(m.channel.code())
        .bind(m.recipient.as_str())
        .bind(m.subject.as_str())
        .bind(m.body.as_str())
        .bind(now.0);
        tx.run(insert).await?;
    }
    Ok(())
}

#[async_trait::async_trait]
impl OutboxStore for crate::SqlStore {
    async fn due_messages(
        &self,
        now: UnixMillis,
        limit: usize,
    ) -> Result<Vec<Message>, OutboxError> {
        let rows = sqlx::query_as(&format!(
            "SELECT {MESSAGE_COLUMNS} FROM reg_outbox WHERE status = 'pending' AND next_attempt_at <= $1 \
             ORDER BY id LIMIT $2"
        ))
        .bind(now.0)
        .bind(limit as i64)
        .fetch_all(&self.pool)
        .await;
        decode_all(rows, message)
    }

    async fn mark_sent(&self, id: i64, at: UnixMillis) -> Result<(), OutboxError> {
        let update = sqlx::query(
            "UPDATE reg_outbox SET status = 'sent', attempts = attempts + 1, sent_at = $2 \
             WHERE id = $1",
        )
        .bind(id)
        .bind(at.0);
        self.run(update).await
    }

    async fn mark_attempt_failed(&self, id: i64, failed: &Failed) -> Result<(), OutboxError> {
        let (status, next) = match failed.next_attempt_at {
            Some(at) => ("pending", Some(at.0)),
            None => ("failed", None),
        };
        let update = sqlx::query(
            "UPDATE reg_outbox SET status = $2, attempts = $3, \
             next_attempt_at = COALESCE($4, next_attempt_at), last_error = $5 WHERE id = $1",
        )
        .bind(id)
        .bind(status)
        .bind(i64::from(failed.attempts))
        .bind(next)
        .bind(&failed.error);
        self.run(update).await
    }

    async fn recent_messages(
        &self,
        recipient: Option<&str>,
        limit: usize,
    ) -> Result<Vec<Message>, OutboxError> {
        let rows = sqlx::query_as(&format!(
            "SELECT {MESSAGE_COLUMNS} FROM reg_outbox WHERE ($1 IS NULL OR recipient = $1) \
             ORDER BY id DESC LIMIT $2"
        ))
        .bind(recipient)
        .bind(limit as i64)
        .fetch_all(&self.pool)
        .await;
        decode_all(rows, message)
    }
}

#[cfg(test)]
mod tests {
    use super::{name_grams, search_gram};

    #[test]
    fn names_are_keyed_by_characters_and_pairs() {
        let grams: Vec<String> = name_grams("链A科").into_iter().collect();
        let mut expected = vec!["a", "a科", "科", "链", "链a"];
        expected.sort();
        assert_eq!(grams, expected);
        assert_eq!(search_gram("深圳某某"), "深圳");
        assert_eq!(search_gram("X"), "x");
        assert!(name_grams("").is_empty());
        // Every search key of a part of a name is a key of the name.
        let name = "深圳某某链科技有限公司";
        let keys = name_grams(name);
        for start in 0..name.chars().count() {
            let part: String = name.chars().skip(start).collect();
            assert!(keys.contains(&search_gram(&part)), "{part}");
        }
    }
}
