//! [`shucang_registry::PublicationStore`]: publication batches, objections and the public search.

use shucang_types::UnixMillis;

use shucang_registry::{
    BatchRecord, BatchStep, NumberRecord, ObjectionRecord, PublicationStore, StoreError,
};

use super::{BATCH_COLUMNS, NUMBER_SELECT, batch};
use crate::engine::Writer;
use crate::query::{decode_all, decode_one};

/// One objection with its batch's number, as sqlx decodes it.
type ObjectionRow = (i64, i64, String, String, String, i64, i64);

#[async_trait::async_trait]
impl PublicationStore for crate::SqlStore {
    async fn gather_batch(&self, now: UnixMillis) -> Result<Option<i64>, StoreError> {
        let e = crate::registry::reg_error;
        let mut tx: Writer<StoreError> = self.write_tx().await?;
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
        let update =
            sqlx::query("UPDATE reg_numbers SET batch_id = $1 WHERE batch_id IS NULL").bind(id);
        tx.run(update).await?;
        tx.commit().await?;
        Ok(Some(next))
    }

    async fn batch(&self, number: i64) -> Result<Option<BatchRecord>, StoreError> {
        let sql = format!("SELECT {BATCH_COLUMNS} FROM reg_batches WHERE number = $1");
        decode_one(self.one(&sql, number).await, batch)
    }

    async fn batches(&self) -> Result<Vec<BatchRecord>, StoreError> {
        let sql = format!("SELECT {BATCH_COLUMNS} FROM reg_batches ORDER BY number DESC");
        decode_all(sqlx::query_as(&sql).fetch_all(&self.pool).await, batch)
    }

    async fn batch_entries(&self, number: i64) -> Result<Vec<NumberRecord>, StoreError> {
        let sql = format!("SELECT {NUMBER_SELECT} WHERE b.number = $1 ORDER BY n.number");
        decode_all(self.all(&sql, number).await, super::number)
    }

    async fn set_batch_state(&self, number: i64, step: &BatchStep) -> Result<bool, StoreError> {
        let sql = match step.to {
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
            .bind(step.from.code())
            .bind(step.to.code())
            .bind(step.at.0)
            .bind(step.window_ends.map(|d| d.to_string()))
            .execute(&self.pool)
            .await
            .map_err(crate::registry::reg_error)?
            .rows_affected();
        Ok(done == 1)
    }

    async fn insert_objection(&self, o: &ObjectionRecord) -> Result<i64, StoreError> {
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

    async fn objections(&self, batch: i64) -> Result<Vec<ObjectionRecord>, StoreError> {
        let sql = "SELECT o.id, b.number, o.number, o.text, o.contact, o.recorded_by, o.at \
             FROM reg_objections o JOIN reg_batches b ON b.id = o.batch_id \
             WHERE b.number = $1 ORDER BY o.id";
        decode_all(self.all(sql, batch).await, |r: ObjectionRow| {
            Ok(ObjectionRecord {
                id: r.0,
                batch: r.1,
                number: r.2,
                text: r.3,
                contact: r.4,
                recorded_by: r.5,
                at: UnixMillis(r.6),
            })
        })
    }

    async fn search_published(
        &self,
        name_part: &str,
        number: &str,
        limit: usize,
    ) -> Result<Vec<NumberRecord>, StoreError> {
        // LIKE with the caller's text escaped: % and _ match themselves;
        // ASCII letters match either case on both engines.
        let pattern = format!(
            "%{}%",
            name_part
                .to_ascii_lowercase()
                .replace('\\', "\\\\")
                .replace('%', "\\%")
                .replace('_', "\\_")
        );
        // Candidates come from the name index (the filings whose name has
        // the part's first character pair), then LIKE checks the whole
        // part: the work follows the matches, not the number of filings.
        let rows = sqlx::query_as(&format!(
            "SELECT {NUMBER_SELECT} WHERE b.state <> 'gathered' AND \
             (($1 <> '' AND n.number IN (SELECT number FROM reg_name_grams WHERE gram = $5) \
               AND lower(n.entity_name) LIKE $2 ESCAPE '\\') OR n.number = $3) \
             ORDER BY n.number LIMIT $4"
        ))
        .bind(name_part)
        .bind(pattern)
        .bind(number)
        .bind(limit as i64)
        .bind(super::search_gram(name_part))
        .fetch_all(&self.pool)
        .await;
        decode_all(rows, super::number)
    }
}
