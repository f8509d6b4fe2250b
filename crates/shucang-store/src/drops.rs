//! [`shucang_platform::DropStore`] for both back ends.
//!
//! A purchase is one transaction that starts by taking the write lock
//! (`BEGIN IMMEDIATE` on SQLite; on PostgreSQL the conditional `UPDATE` of
//! the drop's row locks it until commit), so every purchase of one drop is
//! serialised: stock, the per-account counter, edition numbers, the order
//! and the idempotency record are written together or not at all. The
//! window, the per-account limit and the amount are the domain's
//! ([`shucang_platform::PurchaseTerms`]); this code only holds the purchase
//! to them. The table's `CHECK (sold <= supply)` holds the invariant even
//! against a bug.

use shucang_platform::{
    DropKind, DropRecord, DropStore, NewDrop, OrderRecord, OrderStatus, Reservation,
    ReserveOutcome, StoreError,
};
use shucang_types::{Fen, UnixMillis};

use crate::engine::Writer;
use crate::query::{decode_all, decode_one};

/// Columns of `drops`, in [`DropRow`] order.
pub(crate) const DROP_COLUMNS: &str = "id, work_id, title, price_fen, supply, edition_start, \
    starts_at, ends_at, per_user_limit, sold, created_by, created_at, kind";

pub(crate) type DropRow = (
    i64,
    i64,
    String,
    i64,
    i64,
    i64,
    i64,
    i64,
    i64,
    i64,
    i64,
    i64,
    String,
);

/// Columns of `orders`, in [`OrderRow`] order.
pub(crate) const ORDER_COLUMNS: &str =
    "id, drop_id, account_id, quantity, amount_fen, status, created_at, expires_at, editions";

pub(crate) type OrderRow = (i64, i64, i64, i64, i64, String, i64, i64, String);

fn corrupt(what: &str, id: i64) -> StoreError {
    StoreError::Backend(format!("{what} {id}: stored values are invalid").into())
}

pub(crate) fn drop_from_row(r: DropRow) -> Result<DropRecord, StoreError> {
    let u = |v: i64| u64::try_from(v).map_err(|_| corrupt("drop", r.0));
    Ok(DropRecord {
        id: r.0,
        drop: NewDrop {
            work_id: r.1,
            kind: DropKind::from_code(&r.12).ok_or_else(|| corrupt("drop", r.0))?,
            title: r.2,
            price: Fen::from_stored(r.3).ok_or_else(|| corrupt("drop", r.0))?,
            supply: u(r.4)?,
            starts_at: UnixMillis(r.6),
            ends_at: UnixMillis(r.7),
            per_user_limit: u32::try_from(r.8).map_err(|_| corrupt("drop", r.0))?,
            created_by: r.10,
            created_at: UnixMillis(r.11),
        },
        edition_start: u(r.5)?,
        sold: u(r.9)?,
    })
}

pub(crate) fn order_from_row(r: OrderRow) -> Result<OrderRecord, StoreError> {
    let editions =
        r.8.split(',')
            .filter(|e| !e.is_empty())
            .map(|e| e.parse::<u64>().map_err(|_| corrupt("order", r.0)))
            .collect::<Result<Vec<_>, _>>()?;
    Ok(OrderRecord {
        id: r.0,
        drop_id: r.1,
        account_id: r.2,
        quantity: u32::try_from(r.3).map_err(|_| corrupt("order", r.0))?,
        amount: Fen::from_stored(r.4).ok_or_else(|| corrupt("order", r.0))?,
        status: OrderStatus::from_code(&r.5).ok_or_else(|| corrupt("order", r.0))?,
        created_at: UnixMillis(r.6),
        expires_at: UnixMillis(r.7),
        editions,
    })
}

pub(crate) fn editions_text(editions: &[i64]) -> String {
    editions
        .iter()
        .map(i64::to_string)
        .collect::<Vec<_>>()
        .join(",")
}

#[async_trait::async_trait]
impl DropStore for crate::SqlStore {
    async fn insert_drop(&self, d: &NewDrop, edition_size: u64) -> Result<i64, StoreError> {
        use crate::backend_error as be;
        let mut tx: Writer<StoreError> = self.write_tx().await?;
        let allocated: i64 = sqlx::query_scalar(
            "SELECT CAST(COALESCE(SUM(supply), 0) AS BIGINT) FROM drops WHERE work_id = $1",
        )
        .bind(d.work_id)
        .fetch_one(&mut *tx)
        .await
        .map_err(be)?;
        let supply = i64::try_from(d.supply).unwrap_or(i64::MAX);
        let edition_start = allocated + 1;
        if allocated.saturating_add(supply) > i64::try_from(edition_size).unwrap_or(i64::MAX) {
            return Err(shucang_platform::StoreError::Conflict("drops.editions"));
        }
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO drops (work_id, title, price_fen, supply, edition_start, starts_at, ends_at, \
             per_user_limit, created_by, created_at, kind) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING id",
        )
        .bind(d.work_id)
        .bind(&d.title)
        .bind(i64::try_from(d.price.get()).unwrap_or(i64::MAX))
        .bind(supply)
        .bind(edition_start)
        .bind(d.starts_at.0)
        .bind(d.ends_at.0)
        .bind(i64::from(d.per_user_limit))
        .bind(d.created_by)
        .bind(d.created_at.0)
        .bind(d.kind.code())
        .fetch_one(&mut *tx)
        .await
        .map_err(be)?;
        let insert = sqlx::query(
            "INSERT INTO drop_editions (drop_id, edition) \
             WITH RECURSIVE seq(n) AS (SELECT CAST($2 AS BIGINT) UNION ALL SELECT n + 1 FROM seq WHERE n < $3) \
             SELECT $1, n FROM seq",
        )
        .bind(id)
        .bind(edition_start)
        .bind(edition_start + supply - 1);
        tx.run(insert).await?;
        tx.commit().await?;
        Ok(id)
    }

    async fn drop_by_id(&self, id: i64) -> Result<Option<DropRecord>, StoreError> {
        let sql = format!("SELECT {DROP_COLUMNS} FROM drops WHERE id = $1");
        decode_one(self.one(&sql, id).await, drop_from_row)
    }

    async fn list_drops(&self, limit: u32) -> Result<Vec<DropRecord>, StoreError> {
        let sql =
            format!("SELECT {DROP_COLUMNS} FROM drops ORDER BY starts_at DESC, id DESC LIMIT $1");
        decode_all(self.all(&sql, i64::from(limit)).await, drop_from_row)
    }

    async fn reserve(&self, r: &Reservation) -> Result<ReserveOutcome, StoreError> {
        use shucang_platform::ReserveOutcome as Out;
        let mut tx: Writer<StoreError> = self.write_tx().await?;
        // 1. A known key answers what it answered first.
        if let Some(answer) = replay(&mut tx, r).await? {
            return Ok(answer);
        }
        // 2. The drop, read in this transaction, and the terms its kind
        //    gives this purchase; then their window.
        let sql = format!("SELECT {DROP_COLUMNS} FROM drops WHERE id = $1");
        let row: Option<DropRow> = sqlx::query_as(&sql)
            .bind(r.drop_id)
            .fetch_optional(&mut *tx)
            .await
            .map_err(crate::backend_error)?;
        let Some(drop) = row.map(drop_from_row).transpose()? else {
            return Ok(Out::DropNotFound);
        };
        let Some(terms) = (r.terms)(&drop, r.quantity) else {
            return Err(StoreError::Backend(
                format!("drop {}: the order amount overflows", r.drop_id).into(),
            ));
        };
        if r.now < terms.opens_at || r.now >= terms.closes_at {
            return Ok(Out::NotOpen);
        }
        // 3. Stock and 4. the per-account limit.
        if let Some(refusal) = take_stock(&mut tx, r, terms.per_account_limit).await? {
            return Ok(refusal);
        }
        // 5. The order, its lowest free edition numbers, the key.
        let order = write_order(&mut tx, r, terms.amount).await?;
        tx.commit().await?;
        Ok(Out::Reserved(order))
    }

    async fn order_by_id(&self, id: i64) -> Result<Option<OrderRecord>, StoreError> {
        let sql = format!("SELECT {ORDER_COLUMNS} FROM orders WHERE id = $1");
        decode_one(self.one(&sql, id).await, order_from_row)
    }

    async fn list_orders(
        &self,
        status: Option<OrderStatus>,
        limit: u32,
    ) -> Result<Vec<OrderRecord>, StoreError> {
        let rows = match status {
            Some(s) => {
                let sql = format!(
                    "SELECT {ORDER_COLUMNS} FROM orders WHERE status = $1 ORDER BY id DESC LIMIT $2"
                );
                sqlx::query_as(&sql)
                    .bind(s.code())
                    .bind(i64::from(limit))
                    .fetch_all(&self.pool)
                    .await
            }
            None => {
                let sql = format!("SELECT {ORDER_COLUMNS} FROM orders ORDER BY id DESC LIMIT $1");
                self.all(&sql, i64::from(limit)).await
            }
        };
        decode_all(rows, order_from_row)
    }

    async fn order_counts(&self) -> Result<Vec<(OrderStatus, u64)>, StoreError> {
        let rows =
            sqlx::query_as("SELECT status, COUNT(*) FROM orders GROUP BY status ORDER BY status")
                .fetch_all(&self.pool)
                .await;
        decode_all(rows, |(code, n): (String, i64)| {
            let status = OrderStatus::from_code(&code).ok_or_else(|| {
                StoreError::Backend(format!("unknown order status {code:?}").into())
            })?;
            Ok((status, u64::try_from(n).unwrap_or(0)))
        })
    }

    async fn expire_due(&self, now: UnixMillis, limit: u32) -> Result<Vec<i64>, StoreError> {
        use crate::backend_error as be;
        let due: Vec<i64> = sqlx::query_scalar(
            "SELECT id FROM orders WHERE status = 'reserved' AND expires_at <= $1 ORDER BY expires_at, id LIMIT $2",
        )
        .bind(now.0)
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await
        .map_err(be)?;
        let mut expired = Vec::with_capacity(due.len());
        for id in due {
            let mut tx: Writer<StoreError> = self.write_tx().await?;
            // The status guard makes the return of stock happen once.
            let row: Option<(i64, i64, i64)> = sqlx::query_as(
                "UPDATE orders SET status = 'expired' WHERE id = $1 AND status = 'reserved' AND expires_at <= $2 \
                 RETURNING drop_id, account_id, quantity",
            )
            .bind(id)
            .bind(now.0)
            .fetch_optional(&mut *tx)
            .await
            .map_err(be)?;
            let Some((drop_id, account_id, quantity)) = row else {
                continue;
            };
            let update = sqlx::query("UPDATE drops SET sold = sold - $2 WHERE id = $1")
                .bind(drop_id)
                .bind(quantity);
            tx.run(update).await?;
            let update = sqlx::query("UPDATE drop_buyers SET quantity = quantity - $3 WHERE drop_id = $1 AND account_id = $2")
                .bind(drop_id)
                .bind(account_id)
                .bind(quantity);
            tx.run(update).await?;
            let free = "UPDATE drop_editions SET order_id = NULL WHERE order_id = $1";
            tx.run(sqlx::query(free).bind(id)).await?;
            tx.commit().await?;
            expired.push(id);
        }
        Ok(expired)
    }
}

/// The transaction a purchase runs in.
type WriteTx = Writer<StoreError>;

/// The first answer to a known idempotency key, or `None` for a new key.
async fn replay(tx: &mut WriteTx, r: &Reservation) -> Result<Option<ReserveOutcome>, StoreError> {
    use crate::backend_error as be;
    let seen: Option<(String, i64)> = sqlx::query_as(
        "SELECT request_hash, order_id FROM idempotency_keys WHERE account_id = $1 AND key = $2",
    )
    .bind(r.account_id)
    .bind(&r.idempotency_key)
    .fetch_optional(&mut **tx)
    .await
    .map_err(be)?;
    let Some((hash, order_id)) = seen else {
        return Ok(None);
    };
    if hash != r.request_hash {
        return Ok(Some(shucang_platform::ReserveOutcome::KeyReused));
    }
    let mut first = order_in(tx, order_id).await?;
    first.status = shucang_platform::OrderStatus::Reserved;
    Ok(Some(shucang_platform::ReserveOutcome::Replayed(first)))
}

/// Takes the stock with one conditional update (the row lock on
/// PostgreSQL) and counts the editions against the account's limit;
/// `Some(refusal)` when either says no.
async fn take_stock(
    tx: &mut WriteTx,
    r: &Reservation,
    per_account_limit: u32,
) -> Result<Option<ReserveOutcome>, StoreError> {
    use crate::backend_error as be;
    use shucang_platform::ReserveOutcome as Out;
    let q = i64::from(r.quantity);
    let take =
        sqlx::query("UPDATE drops SET sold = sold + $2 WHERE id = $1 AND sold + $2 <= supply")
            .bind(r.drop_id)
            .bind(q);
    if tx.run(take).await? != 1 {
        let exists: Option<i64> = sqlx::query_scalar("SELECT id FROM drops WHERE id = $1")
            .bind(r.drop_id)
            .fetch_optional(&mut **tx)
            .await
            .map_err(be)?;
        return Ok(Some(if exists.is_some() {
            Out::SoldOut
        } else {
            Out::DropNotFound
        }));
    }
    let held: Option<i64> = sqlx::query_scalar(
        "SELECT quantity FROM drop_buyers WHERE drop_id = $1 AND account_id = $2",
    )
    .bind(r.drop_id)
    .bind(r.account_id)
    .fetch_optional(&mut **tx)
    .await
    .map_err(be)?;
    if held.unwrap_or(0) + q > i64::from(per_account_limit) {
        return Ok(Some(Out::LimitReached));
    }
    let insert = sqlx::query(
        "INSERT INTO drop_buyers (drop_id, account_id, quantity) VALUES ($1, $2, $3) \
         ON CONFLICT (drop_id, account_id) DO UPDATE SET quantity = drop_buyers.quantity + excluded.quantity",
    )
    .bind(r.drop_id)
    .bind(r.account_id)
    .bind(q);
    tx.run(insert).await?;
    Ok(None)
}

/// Writes the order with its lowest free edition numbers and the key that
/// will answer a retry.
async fn write_order(
    tx: &mut WriteTx,
    r: &Reservation,
    amount: Fen,
) -> Result<OrderRecord, StoreError> {
    use crate::backend_error as be;
    let q = i64::from(r.quantity);
    let Ok(amount) = i64::try_from(amount.get()) else {
        return Err(shucang_platform::StoreError::Backend(
            "order amount overflows".into(),
        ));
    };
    let order_id: i64 = sqlx::query_scalar(
        "INSERT INTO orders (drop_id, account_id, quantity, amount_fen, status, created_at, expires_at) \
         VALUES ($1, $2, $3, $4, 'reserved', $5, $6) RETURNING id",
    )
    .bind(r.drop_id)
    .bind(r.account_id)
    .bind(q)
    .bind(amount)
    .bind(r.now.0)
    .bind(r.expires_at.0)
    .fetch_one(&mut **tx)
    .await
    .map_err(be)?;
    let editions: Vec<i64> = sqlx::query_scalar(
        "SELECT edition FROM drop_editions WHERE drop_id = $1 AND order_id IS NULL ORDER BY edition LIMIT $2",
    )
    .bind(r.drop_id)
    .bind(q)
    .fetch_all(&mut **tx)
    .await
    .map_err(be)?;
    if editions.len() != r.quantity as usize {
        // Stock said yes but editions disagree: never commit that.
        return Err(shucang_platform::StoreError::Backend(
            format!("drop {}: free editions do not match stock", r.drop_id).into(),
        ));
    }
    for edition in &editions {
        let update = sqlx::query(
            "UPDATE drop_editions SET order_id = $3 WHERE drop_id = $1 AND edition = $2 AND order_id IS NULL",
        )
        .bind(r.drop_id)
        .bind(*edition)
        .bind(order_id);
        tx.run(update).await?;
    }
    let update = sqlx::query("UPDATE orders SET editions = $2 WHERE id = $1")
        .bind(order_id)
        .bind(editions_text(&editions));
    tx.run(update).await?;
    let insert = sqlx::query(
        "INSERT INTO idempotency_keys (account_id, key, request_hash, order_id, created_at) \
         VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(r.account_id)
    .bind(&r.idempotency_key)
    .bind(&r.request_hash)
    .bind(order_id)
    .bind(r.now.0);
    tx.run(insert).await?;
    order_in(tx, order_id).await
}

/// An order, read inside the transaction.
async fn order_in(tx: &mut WriteTx, order_id: i64) -> Result<OrderRecord, StoreError> {
    let sql = format!("SELECT {ORDER_COLUMNS} FROM orders WHERE id = $1");
    let row: OrderRow = sqlx::query_as(&sql)
        .bind(order_id)
        .fetch_one(&mut **tx)
        .await
        .map_err(crate::backend_error)?;
    order_from_row(row)
}
