//! The outbox of [`shucang_notify`] on both back ends: one table of the
//! same shape in each database that has one (the platform's `outbox`, the
//! registry's `reg_outbox`); messages are queued inside the transaction of
//! the decision they report.

use shucang_notify::{Channel, Failed, Message, NewMessage, OutboxError, OutboxStore, Status};
use shucang_types::UnixMillis;

use crate::engine::Writer;
use crate::query::{FromSqlx, decode_all};

type MessageRow = (
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

const MESSAGE_COLUMNS: &str = "id, channel, recipient, subject, body, status, attempts, \
     next_attempt_at, last_error, created_at, sent_at";

fn message(r: MessageRow) -> Result<Message, OutboxError> {
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

/// Queues messages inside a transaction, in the outbox of the database
/// the transaction writes to.
pub(crate) async fn enqueue<E: FromSqlx>(
    tx: &mut Writer<E>,
    messages: &[NewMessage],
    now: UnixMillis,
) -> Result<(), E> {
    let table = tx.outbox_table();
    let sql = format!(
        "INSERT INTO {table} (channel, recipient, subject, body, status, attempts, \
         next_attempt_at, created_at) VALUES ($1, $2, $3, $4, 'pending', 0, $5, $5)"
    );
    for m in messages {
        let insert = sqlx::query(&sql)
            .bind(m.channel.code())
            .bind(m.recipient.as_str())
            .bind(m.subject.as_str())
            .bind(m.body.as_str())
            .bind(now.0);
        tx.run(insert).await?;
    }
    Ok(())
}

impl crate::SqlStore {
    /// Queues messages in a transaction of their own (a notice that
    /// reports no decision).
    pub(crate) async fn queue<E: FromSqlx>(
        &self,
        messages: &[NewMessage],
        now: UnixMillis,
    ) -> Result<(), E> {
        let mut tx: Writer<E> = self.write_tx().await?;
        enqueue(&mut tx, messages, now).await?;
        tx.commit().await
    }
}

#[async_trait::async_trait]
impl OutboxStore for crate::SqlStore {
    async fn due_messages(
        &self,
        now: UnixMillis,
        limit: usize,
    ) -> Result<Vec<Message>, OutboxError> {
        let table = self.outbox_table();
        let rows = sqlx::query_as(&format!(
            "SELECT {MESSAGE_COLUMNS} FROM {table} WHERE status = 'pending' AND next_attempt_at <= $1 \
             ORDER BY id LIMIT $2"
        ))
        .bind(now.0)
        .bind(limit as i64)
        .fetch_all(&self.pool)
        .await;
        decode_all(rows, message)
    }

    async fn mark_sent(&self, id: i64, at: UnixMillis) -> Result<(), OutboxError> {
        let table = self.outbox_table();
        let sql = format!(
            "UPDATE {table} SET status = 'sent', attempts = attempts + 1, sent_at = $2 \
             WHERE id = $1"
        );
        let update = sqlx::query(&sql).bind(id).bind(at.0);
        self.run(update).await
    }

    async fn mark_attempt_failed(&self, id: i64, failed: &Failed) -> Result<(), OutboxError> {
        let (status, next) = match failed.next_attempt_at {
            Some(at) => ("pending", Some(at.0)),
            None => ("failed", None),
        };
        let table = self.outbox_table();
        let sql = format!(
            "UPDATE {table} SET status = $2, attempts = $3, \
             next_attempt_at = COALESCE($4, next_attempt_at), last_error = $5 WHERE id = $1"
        );
        let update = sqlx::query(&sql)
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
        let table = self.outbox_table();
        let rows = sqlx::query_as(&format!(
            "SELECT {MESSAGE_COLUMNS} FROM {table} WHERE ($1 IS NULL OR recipient = $1) \
             ORDER BY id DESC LIMIT $2"
        ))
        .bind(recipient)
        .bind(limit as i64)
        .fetch_all(&self.pool)
        .await;
        decode_all(rows, message)
    }
}
