//! [`shucang_platform::WorkStore`] for both back ends.

use shucang_platform::{NewWork, ReviewRecord, StoreError, WorkRecord, WorkStatus, WorkStore};
use shucang_types::UnixMillis;

use crate::query::{decode_all, decode_one};

/// Columns of `works`, in [`WorkRow`] order.
pub(crate) const WORK_COLUMNS: &str = "id, title, description, edition_size, issuer, \
    copyright_evidence, image_sha256, image_type, flags, created_by, created_at, status, \
    review_reason, reviewed_by, reviewed_at, collection_id, chain_tx, metadata_hash";

/// The values of one `works` row, in column order.
pub(crate) type WorkValues = (
    i64,
    String,
    String,
    i64,
    String,
    String,
    String,
    String,
    String,
    i64,
    i64,
    String,
    Option<String>,
    Option<i64>,
    Option<i64>,
    Option<String>,
    Option<String>,
    Option<String>,
);

/// Flags are stored one per line (words never contain newlines: the filter
/// normalises them to letters and digits).
pub(crate) fn flags_to_text(flags: &[String]) -> String {
    flags.join("\n")
}

/// One `works` row as sqlx decodes it (by hand: the tuple is wider than
/// sqlx's tuple decoding goes).
pub(crate) struct WorkRow(WorkValues);

impl<'r> sqlx::FromRow<'r, sqlx::any::AnyRow> for WorkRow {
    fn from_row(r: &'r sqlx::any::AnyRow) -> Result<Self, sqlx::Error> {
        use sqlx::Row as _;
        Ok(WorkRow((
            r.try_get(0)?,
            r.try_get(1)?,
            r.try_get(2)?,
            r.try_get(3)?,
            r.try_get(4)?,
            r.try_get(5)?,
            r.try_get(6)?,
            r.try_get(7)?,
            r.try_get(8)?,
            r.try_get(9)?,
            r.try_get(10)?,
            r.try_get(11)?,
            r.try_get(12)?,
            r.try_get(13)?,
            r.try_get(14)?,
            r.try_get(15)?,
            r.try_get(16)?,
            r.try_get(17)?,
        )))
    }
}

pub(crate) fn work_from_row(WorkRow(r): WorkRow) -> Result<WorkRecord, StoreError> {
    let corrupt =
        |what: &str| StoreError::Backend(format!("work {}: stored {what} is invalid", r.0).into());
    let status = WorkStatus::from_code(&r.11).ok_or_else(|| corrupt("status"))?;
    let edition_size = u64::try_from(r.3).map_err(|_| corrupt("edition_size"))?;
    Ok(WorkRecord {
        id: r.0,
        work: NewWork {
            title: r.1,
            description: r.2,
            edition_size,
            issuer: r.4,
            copyright_evidence: r.5,
            image_sha256: r.6,
            image_type: r.7,
            flags: r
                .8
                .split('\n')
                .filter(|f| !f.is_empty())
                .map(str::to_owned)
                .collect(),
            created_by: r.9,
            created_at: UnixMillis(r.10),
        },
        status,
        review_reason: r.12,
        reviewed_by: r.13,
        reviewed_at: r.14.map(UnixMillis),
        collection_id: r.15,
        chain_tx: r.16,
        metadata_hash: r.17,
    })
}

#[async_trait::async_trait]
impl WorkStore for crate::SqlStore {
    async fn insert_work(&self, w: &NewWork) -> Result<i64, StoreError> {
        sqlx::query_scalar::<_, i64>(
            "INSERT INTO works (title, description, edition_size, issuer, copyright_evidence, \
             image_sha256, image_type, flags, created_by, created_at, status) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 'pending_review') RETURNING id",
        )
        .bind(&w.title)
        .bind(&w.description)
        .bind(i64::try_from(w.edition_size).unwrap_or(i64::MAX))
        .bind(&w.issuer)
        .bind(&w.copyright_evidence)
        .bind(&w.image_sha256)
        .bind(&w.image_type)
        .bind(flags_to_text(&w.flags))
        .bind(w.created_by)
        .bind(w.created_at.0)
        .fetch_one(&self.pool)
        .await
        .map_err(crate::backend_error)
    }

    async fn work_by_id(&self, id: i64) -> Result<Option<WorkRecord>, StoreError> {
        let sql = format!("SELECT {WORK_COLUMNS} FROM works WHERE id = $1");
        decode_one(self.one(&sql, id).await, work_from_row)
    }

    async fn list_works(
        &self,
        status: Option<WorkStatus>,
        limit: u32,
    ) -> Result<Vec<WorkRecord>, StoreError> {
        let sql = format!(
            "SELECT {WORK_COLUMNS} FROM works WHERE ($1 IS NULL OR status = $1) ORDER BY id LIMIT $2"
        );
        let rows = sqlx::query_as(&sql)
            .bind(status.map(|s| s.code()))
            .bind(i64::from(limit))
            .fetch_all(&self.pool)
            .await;
        decode_all(rows, work_from_row)
    }

    async fn record_review(&self, id: i64, r: &ReviewRecord) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "UPDATE works SET status = $2, review_reason = $3, reviewed_by = $4, reviewed_at = $5, \
             collection_id = $6, chain_tx = $7, metadata_hash = $8 \
             WHERE id = $1 AND status = 'pending_review'",
        )
        .bind(id)
        .bind(r.status.code())
        .bind(&r.reason)
        .bind(r.reviewed_by)
        .bind(r.reviewed_at.0)
        .bind(&r.collection_id)
        .bind(&r.chain_tx)
        .bind(&r.metadata_hash)
        .execute(&self.pool)
        .await
        .map_err(crate::backend_error)?;
        Ok(done.rows_affected() == 1)
    }
}
