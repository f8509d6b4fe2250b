//! [`shucang_platform::GiftStore`] for both back ends.

use shucang_types::UnixMillis;

use crate::engine::Writer;
use shucang_platform::{GiftRecord, GiftStore, StoreError};

pub(crate) type GiftRow = (i64, i64, i64, String, i64, String, i64, String, i64);

pub(crate) fn gift_from_row(r: GiftRow) -> GiftRecord {
    GiftRecord {
        id: r.0,
        from_account: r.1,
        to_account: r.2,
        collection: r.3,
        token_id: u64::try_from(r.4).unwrap_or(0),
        tx_hash: r.5,
        day: r.6,
        status: r.7,
        created_at: UnixMillis(r.8),
    }
}

#[async_trait::async_trait]
impl GiftStore for crate::SqlStore {
    async fn insert_pending_gift(
        &self,
        g: &GiftRecord,
        daily_limit: u32,
    ) -> Result<Option<i64>, StoreError> {
        use crate::backend_error as be;
        // Count and insert in one write transaction, so concurrent
        // gifts cannot pass the limit together.
        let mut tx: Writer<StoreError> = self.write_tx().await?;
        // Serialise this giver's gifts on PostgreSQL too.
        let update = sqlx::query("UPDATE accounts SET failed_logins = failed_logins WHERE id = $1")
            .bind(g.from_account);
        tx.run(update).await?;
        let today: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM gifts WHERE from_account = $1 AND day = $2 AND status <> 'failed'",
        )
        .bind(g.from_account)
        .bind(g.day)
        .fetch_one(&mut *tx)
        .await
        .map_err(be)?;
        if today >= i64::from(daily_limit) {
            return Ok(None);
        }
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO gifts (from_account, to_account, collection, token_id, tx_hash, day, status, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, 'pending', $7) RETURNING id",
        )
        .bind(g.from_account)
        .bind(g.to_account)
        .bind(&g.collection)
        .bind(i64::try_from(g.token_id).unwrap_or(i64::MAX))
        .bind(&g.tx_hash)
        .bind(g.day)
        .bind(g.created_at.0)
        .fetch_one(&mut *tx)
        .await
        .map_err(be)?;
        tx.commit().await?;
        Ok(Some(id))
    }

    async fn finish_gift(&self, id: i64, status: &str) -> Result<(), StoreError> {
        let update =
            sqlx::query("UPDATE gifts SET status = $2 WHERE id = $1 AND status = 'pending'")
                .bind(id)
                .bind(status);
        self.run(update).await
    }

    async fn pending_gifts(&self) -> Result<Vec<GiftRecord>, StoreError> {
        let rows: Vec<GiftRow> = sqlx::query_as(
            "SELECT id, from_account, to_account, collection, token_id, tx_hash, day, status, created_at \
             FROM gifts WHERE status = 'pending' ORDER BY id",
        )
        .fetch_all(&self.pool)
        .await
        .map_err(crate::backend_error)?;
        Ok(rows.into_iter().map(gift_from_row).collect())
    }
}
