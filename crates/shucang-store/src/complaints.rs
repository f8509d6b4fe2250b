//! [`shucang_platform::ComplaintStore`] for both back ends.

use shucang_types::UnixMillis;

use shucang_platform::{ComplaintRecord, ComplaintStore, StoreError};

use crate::query::decode_one;

/// One `complaints` row as sqlx decodes it.
pub(crate) type ComplaintRow = (
    String,
    String,
    String,
    String,
    Option<String>,
    Option<i64>,
    String,
    String,
    i64,
);

#[async_trait::async_trait]
impl ComplaintStore for crate::SqlStore {
    async fn insert_complaint(&self, c: &ComplaintRecord) -> Result<(), StoreError> {
        let insert = sqlx::query(
            "INSERT INTO complaints (ticket, category, target, text, contact, account_id, ip, status, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(&c.ticket)
        .bind(&c.category)
        .bind(&c.target)
        .bind(&c.text)
        .bind(&c.contact)
        .bind(c.account_id)
        .bind(&c.ip)
        .bind(&c.status)
        .bind(c.created_at.0);
        self.run(insert).await
    }

    async fn complaint_by_ticket(
        &self,
        ticket: &str,
    ) -> Result<Option<ComplaintRecord>, StoreError> {
        let row = self
            .one(
                "SELECT ticket, category, target, text, contact, account_id, ip, status, created_at \
                 FROM complaints WHERE ticket = $1",
                ticket,
            )
            .await;
        decode_one(row, |r: ComplaintRow| {
            Ok(ComplaintRecord {
                ticket: r.0,
                category: r.1,
                target: r.2,
                text: r.3,
                contact: r.4,
                account_id: r.5,
                ip: r.6,
                status: r.7,
                created_at: UnixMillis(r.8),
            })
        })
    }
}
