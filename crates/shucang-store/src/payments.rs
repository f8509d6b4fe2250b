//! [`shucang_platform::PaymentStore`] for both back ends.

#[async_trait::async_trait]
impl shucang_platform::PaymentStore for crate::SqlStore {
    async fn insert_payment(
        &self,
        p: &shucang_platform::PaymentRecord,
    ) -> Result<(), shucang_platform::StoreError> {
        sqlx::query(
            "INSERT INTO payments (id, order_id, provider, amount_fen, status, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(&p.id)
        .bind(p.order_id)
        .bind(&p.provider)
        .bind(i64::try_from(p.amount.get()).unwrap_or(i64::MAX))
        .bind(&p.status)
        .bind(p.created_at.0)
        .execute(&self.pool)
        .await
        .map_err(crate::backend_error)?;
        Ok(())
    }

    async fn payment_by_id(
        &self,
        id: &str,
    ) -> Result<Option<shucang_platform::PaymentRecord>, shucang_platform::StoreError> {
        let row: Option<(String, i64, String, i64, String, i64)> = sqlx::query_as(
            "SELECT id, order_id, provider, amount_fen, status, created_at FROM payments WHERE id = $1",
        )
        .bind(id)
        .fetch_optional(&self.pool)
        .await
        .map_err(crate::backend_error)?;
        row.map(|(id, order_id, provider, amount, status, created_at)| {
            Ok(shucang_platform::PaymentRecord {
                amount: shucang_types::Fen::from_stored(amount).ok_or_else(|| {
                    shucang_platform::StoreError::Backend(
                        format!("payment {id}: bad amount").into(),
                    )
                })?,
                id,
                order_id,
                provider,
                status,
                created_at: shucang_types::UnixMillis(created_at),
            })
        })
        .transpose()
    }

    async fn record_paid(
        &self,
        payment_id: &str,
        amount: shucang_types::Fen,
        at: shucang_types::UnixMillis,
    ) -> Result<shucang_platform::PaidOutcome, shucang_platform::StoreError> {
        use crate::backend_error as be;
        use shucang_platform::PaidOutcome as Out;
        let (_writer, mut tx) = self.write_tx().await.map_err(be)?;
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
        let paid =
            sqlx::query("UPDATE orders SET status = 'paid' WHERE id = $1 AND status = 'reserved'")
                .bind(order_id)
                .execute(&mut *tx)
                .await
                .map_err(be)?;
        let outcome = if paid.rows_affected() == 1 {
            Out::Paid
        } else {
            Out::RefundRequired
        };
        let new_status = if outcome == Out::Paid {
            "succeeded"
        } else {
            "refund_required"
        };
        sqlx::query("UPDATE payments SET status = $2, paid_at = $3 WHERE id = $1")
            .bind(payment_id)
            .bind(new_status)
            .bind(at.0)
            .execute(&mut *tx)
            .await
            .map_err(be)?;
        if outcome == Out::Paid {
            sqlx::query(
                "INSERT INTO mint_jobs (order_id, status, attempts, next_attempt_at, created_at) \
                 VALUES ($1, 'pending', 0, $2, $2)",
            )
            .bind(order_id)
            .bind(at.0)
            .execute(&mut *tx)
            .await
            .map_err(be)?;
        }
        tx.commit().await.map_err(be)?;
        Ok(outcome)
    }

    async fn due_mint_jobs(
        &self,
        now: shucang_types::UnixMillis,
        limit: u32,
    ) -> Result<Vec<shucang_platform::MintJob>, shucang_platform::StoreError> {
        let rows: Vec<(i64, i64)> = sqlx::query_as(
            "SELECT order_id, attempts FROM mint_jobs WHERE status = 'pending' AND next_attempt_at <= $1 \
             ORDER BY next_attempt_at, order_id LIMIT $2",
        )
        .bind(now.0)
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await
        .map_err(crate::backend_error)?;
        Ok(rows
            .into_iter()
            .map(|(order_id, attempts)| shucang_platform::MintJob {
                order_id,
                attempts: u32::try_from(attempts).unwrap_or(u32::MAX),
            })
            .collect())
    }

    async fn complete_mint(
        &self,
        order_id: i64,
        tx_hash: &str,
        height: u64,
        at: shucang_types::UnixMillis,
    ) -> Result<(), shucang_platform::StoreError> {
        use crate::backend_error as be;
        let (_writer, mut tx) = self.write_tx().await.map_err(be)?;
        sqlx::query(
            "UPDATE mint_jobs SET status = 'done', attempts = attempts + 1, tx_hash = $2, block_height = $3, \
             done_at = $4, last_error = NULL WHERE order_id = $1 AND status = 'pending'",
        )
        .bind(order_id)
        .bind(tx_hash)
        .bind(i64::try_from(height).unwrap_or(i64::MAX))
        .bind(at.0)
        .execute(&mut *tx)
        .await
        .map_err(be)?;
        sqlx::query("UPDATE orders SET status = 'minted' WHERE id = $1 AND status = 'paid'")
            .bind(order_id)
            .execute(&mut *tx)
            .await
            .map_err(be)?;
        tx.commit().await.map_err(be)?;
        Ok(())
    }

    async fn retry_mint(
        &self,
        order_id: i64,
        error: &str,
        next_attempt_at: shucang_types::UnixMillis,
    ) -> Result<(), shucang_platform::StoreError> {
        sqlx::query(
            "UPDATE mint_jobs SET attempts = attempts + 1, last_error = $2, next_attempt_at = $3 \
             WHERE order_id = $1 AND status = 'pending'",
        )
        .bind(order_id)
        .bind(error)
        .bind(next_attempt_at.0)
        .execute(&self.pool)
        .await
        .map_err(crate::backend_error)?;
        Ok(())
    }

    async fn mint_of_order(
        &self,
        order_id: i64,
    ) -> Result<Option<(String, u64)>, shucang_platform::StoreError> {
        let row: Option<(Option<String>, Option<i64>)> = sqlx::query_as(
            "SELECT tx_hash, block_height FROM mint_jobs WHERE order_id = $1 AND status = 'done'",
        )
        .bind(order_id)
        .fetch_optional(&self.pool)
        .await
        .map_err(crate::backend_error)?;
        Ok(match row {
            Some((Some(hash), Some(height))) => Some((hash, u64::try_from(height).unwrap_or(0))),
            _ => None,
        })
    }
}
