//! [`shucang_platform::PaymentStore`] for both back ends.

use shucang_platform::{
    ChainRecordKind, MintJob, Minted, PaidOutcome, PaymentRecord, PaymentStore, StoreError,
};
use shucang_types::{Fen, UnixMillis};

use crate::engine::Writer;
use crate::query::{decode_all, decode_one};

/// One `payments` row as sqlx decodes it.
type PaymentRow = (String, i64, String, i64, String, i64);

fn payment_from_row(
    (id, order_id, provider, amount, status, created_at): PaymentRow,
) -> Result<PaymentRecord, StoreError> {
    Ok(PaymentRecord {
        amount: Fen::from_stored(amount)
            .ok_or_else(|| StoreError::Backend(format!("payment {id}: bad amount").into()))?,
        id,
        order_id,
        provider,
        status,
        created_at: UnixMillis(created_at),
    })
}

#[async_trait::async_trait]
impl PaymentStore for crate::SqlStore {
    async fn insert_payment(&self, p: &PaymentRecord) -> Result<(), StoreError> {
        let insert = sqlx::query(
            "INSERT INTO payments (id, order_id, provider, amount_fen, status, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(&p.id)
        .bind(p.order_id)
        .bind(&p.provider)
        .bind(i64::try_from(p.amount.get()).unwrap_or(i64::MAX))
        .bind(&p.status)
        .bind(p.created_at.0);
        self.run(insert).await
    }

    async fn payment_by_id(&self, id: &str) -> Result<Option<PaymentRecord>, StoreError> {
        let row = self
            .one(
                "SELECT id, order_id, provider, amount_fen, status, created_at FROM payments WHERE id = $1",
                id,
            )
            .await;
        decode_one(row, payment_from_row)
    }

    async fn record_paid(
        &self,
        payment_id: &str,
        amount: Fen,
        at: UnixMillis,
    ) -> Result<PaidOutcome, StoreError> {
        use crate::backend_error as be;
        use shucang_platform::PaidOutcome as Out;
        let mut tx: Writer<StoreError> = self.write_tx().await?;
        let row: Option<(i64, i64, String)> =
            sqlx::query_as("SELECT order_id, amount_fen, status FROM payments WHERE id = $1")
                .bind(payment_id)
                .fetch_optional(&mut *tx)
                .await
                .map_err(be)?;
        let Some((order_id, expected, status)) = row else {
            return Ok(Out::UnknownPayment);
        };
        if status != "created" {
            return Ok(Out::AlreadyRecorded);
        }
        if i64::try_from(amount.get()).ok() != Some(expected) {
            return Ok(Out::AmountMismatch);
        }
        let pay =
            sqlx::query("UPDATE orders SET status = 'paid' WHERE id = $1 AND status = 'reserved'")
                .bind(order_id);
        let outcome = if tx.run(pay).await? == 1 {
            Out::Paid
        } else {
            Out::RefundRequired
        };
        let new_status = if outcome == Out::Paid {
            "succeeded"
        } else {
            "refund_required"
        };
        let update = sqlx::query("UPDATE payments SET status = $2, paid_at = $3 WHERE id = $1")
            .bind(payment_id)
            .bind(new_status)
            .bind(at.0);
        tx.run(update).await?;
        if outcome == Out::Paid {
            let insert = sqlx::query(
                "INSERT INTO mint_jobs (order_id, status, attempts, next_attempt_at, created_at) \
                 VALUES ($1, 'pending', 0, $2, $2)",
            )
            .bind(order_id)
            .bind(at.0);
            tx.run(insert).await?;
        }
        tx.commit().await?;
        Ok(outcome)
    }

    async fn due_mint_jobs(&self, now: UnixMillis, limit: u32) -> Result<Vec<MintJob>, StoreError> {
        let rows = sqlx::query_as(
            "SELECT order_id, attempts FROM mint_jobs WHERE status = 'pending' AND next_attempt_at <= $1 \
             ORDER BY next_attempt_at, order_id LIMIT $2",
        )
        .bind(now.0)
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await;
        decode_all(rows, |(order_id, attempts): (i64, i64)| {
            Ok(MintJob {
                order_id,
                attempts: u32::try_from(attempts).unwrap_or(u32::MAX),
            })
        })
    }

    async fn complete_mint(&self, order_id: i64, minted: &Minted) -> Result<(), StoreError> {
        let mut tx: Writer<StoreError> = self.write_tx().await?;
        let update = sqlx::query(
            "UPDATE mint_jobs SET status = 'done', attempts = attempts + 1, tx_hash = $2, block_height = $3, \
             done_at = $4, last_error = NULL WHERE order_id = $1 AND status = 'pending'",
        )
        .bind(order_id)
        .bind(&minted.tx_hash)
        .bind(i64::try_from(minted.height).unwrap_or(i64::MAX))
        .bind(minted.at.0);
        tx.run(update).await?;
        let minted = "UPDATE orders SET status = 'minted' WHERE id = $1 AND status = 'paid'";
        tx.run(sqlx::query(minted).bind(order_id)).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn retry_mint(
        &self,
        order_id: i64,
        error: &str,
        next_attempt_at: UnixMillis,
    ) -> Result<(), StoreError> {
        let update = sqlx::query(
            "UPDATE mint_jobs SET attempts = attempts + 1, last_error = $2, next_attempt_at = $3 \
             WHERE order_id = $1 AND status = 'pending'",
        )
        .bind(order_id)
        .bind(error)
        .bind(next_attempt_at.0);
        self.run(update).await
    }

    async fn recorded_chain_txs(
        &self,
        kind: ChainRecordKind,
        after: i64,
        limit: usize,
    ) -> Result<Vec<(i64, String)>, StoreError> {
        let sql = match kind {
            ChainRecordKind::Mint => {
                "SELECT order_id, tx_hash FROM mint_jobs WHERE status = 'done' AND order_id > $1 \
                 AND tx_hash IS NOT NULL ORDER BY order_id LIMIT $2"
            }
            ChainRecordKind::Collection => {
                "SELECT id, chain_tx FROM works WHERE chain_tx IS NOT NULL AND id > $1 \
                 ORDER BY id LIMIT $2"
            }
            ChainRecordKind::Gift => {
                "SELECT id, tx_hash FROM gifts WHERE status = 'done' AND id > $1 ORDER BY id LIMIT $2"
            }
        };
        sqlx::query_as(sql)
            .bind(after)
            .bind(limit as i64)
            .fetch_all(&self.pool)
            .await
            .map_err(crate::backend_error)
    }

    async fn mint_of_order(&self, order_id: i64) -> Result<Option<(String, u64)>, StoreError> {
        let row: Option<(Option<String>, Option<i64>)> = self
            .one(
                "SELECT tx_hash, block_height FROM mint_jobs WHERE order_id = $1 AND status = 'done'",
                order_id,
            )
            .await
            .map_err(crate::backend_error)?;
        Ok(match row {
            Some((Some(hash), Some(height))) => Some((hash, u64::try_from(height).unwrap_or(0))),
            _ => None,
        })
    }
}
