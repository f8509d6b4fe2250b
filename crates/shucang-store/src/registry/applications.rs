//! [`shucang_registry::ApplicationStore`]: applications, transitions, attachments, numbers and the audit trail.

use shucang_types::UnixMillis;

use shucang_registry::{
    AppState, ApplicationForm, ApplicationRecord, ApplicationStore, AttachmentRecord, AuditEntry,
    NumberRecord, StoreError, Transition, codec,
};

use super::{APP_COLUMNS, NUMBER_SELECT, app};
use crate::engine::Writer;
use crate::query::{decode_all, decode_one, unique_or};

/// The bytes of a filer's uploads.
const FILER_BYTES: &str = "SELECT CAST(COALESCE(SUM(f.size), 0) AS BIGINT) FROM reg_attachments f \
     JOIN reg_applications a ON a.id = f.application_id WHERE a.filer_id = $1";

/// A query answering one number: a count, a sum, a new row's id.
type NumberQuery<'q> = sqlx::query::QueryScalar<'q, sqlx::Any, i64, sqlx::any::AnyArguments<'q>>;

impl crate::SqlStore {
    /// Runs `insert` (which returns the new row's id) when `fits` says what
    /// the filer holds, as `held` measures it, leaves room for it; `None`
    /// when it does not. The check and the insert it admits run in one
    /// write transaction holding the filer's row, so that a filer's quota
    /// checks happen one at a time (on SQLite the writer queue does this
    /// already; on PostgreSQL the row lock does).
    async fn insert_within_quota(
        &self,
        filer_id: i64,
        held: NumberQuery<'_>,
        fits: impl FnOnce(i64) -> bool,
        insert: NumberQuery<'_>,
    ) -> Result<Option<i64>, StoreError> {
        use crate::registry::reg_error;
        let mut tx: Writer<StoreError> = self.write_tx().await?;
        sqlx::query("UPDATE reg_users SET id = id WHERE id = $1")
            .bind(filer_id)
            .execute(&mut *tx)
            .await
            .map_err(reg_error)?;
        if !fits(held.fetch_one(&mut *tx).await.map_err(reg_error)?) {
            return Ok(None);
        }
        let id = insert.fetch_one(&mut *tx).await.map_err(reg_error)?;
        tx.commit().await?;
        Ok(Some(id))
    }
}

/// One `reg_attachments` row as sqlx decodes it.
type AttachmentRow = (i64, i64, String, String, String, i64, i64);

/// One `reg_audit` row as sqlx decodes it.
type AuditRow = (i64, i64, i64, i64, String, String, String, String);

#[async_trait::async_trait]
impl ApplicationStore for crate::SqlStore {
    async fn insert_application(
        &self,
        filer_id: i64,
        form: &ApplicationForm,
        now: UnixMillis,
        drafts_max: u32,
    ) -> Result<Option<i64>, StoreError> {
        let form = codec::encode_form(form);
        let held = sqlx::query_scalar(
            "SELECT COUNT(*) FROM reg_applications WHERE filer_id = $1 AND state = 'draft'",
        )
        .bind(filer_id);
        let insert = sqlx::query_scalar(
            "INSERT INTO reg_applications (filer_id, state, form, version, created_at, updated_at) \
             VALUES ($1, 'draft', $2, 1, $3, $3) RETURNING id",
        )
        .bind(filer_id)
        .bind(&form)
        .bind(now.0);
        let fits = |drafts: i64| drafts < i64::from(drafts_max);
        self.insert_within_quota(filer_id, held, fits, insert).await
    }

    async fn application(&self, id: i64) -> Result<Option<ApplicationRecord>, StoreError> {
        let sql = format!("SELECT {APP_COLUMNS} FROM reg_applications WHERE id = $1");
        decode_one(self.one(&sql, id).await, app)
    }

    async fn update_form(
        &self,
        id: i64,
        form: &ApplicationForm,
        at: UnixMillis,
    ) -> Result<bool, StoreError> {
        let e = crate::registry::reg_error;
        let mut tx: Writer<StoreError> = self.write_tx().await?;
        let state: Option<String> =
            sqlx::query_scalar("SELECT state FROM reg_applications WHERE id = $1")
                .bind(id)
                .fetch_optional(&mut *tx)
                .await
                .map_err(e)?;
        if !state.is_some_and(|s| AppState::EDITABLE.iter().any(|e| e.code() == s)) {
            return Ok(false);
        }
        let update = sqlx::query(
            "UPDATE reg_applications SET form = $2, version = version + 1, updated_at = $3 \
             WHERE id = $1",
        )
        .bind(id)
        .bind(codec::encode_form(form))
        .bind(at.0);
        tx.run(update).await?;
        tx.commit().await?;
        Ok(true)
    }

    async fn transition(&self, t: &Transition) -> Result<bool, StoreError> {
        let e = crate::registry::reg_error;
        let mut tx: Writer<StoreError> = self.write_tx().await?;
        let (set_pending, pending) = match &t.pending {
            shucang_registry::PendingUpdate::Keep => (0i64, None),
            shucang_registry::PendingUpdate::Set(p) => (1, Some(codec::encode_pending(p))),
            shucang_registry::PendingUpdate::Clear => (1, None),
        };
        let updated = sqlx::query(
            "UPDATE reg_applications SET state = $3, version = version + 1, updated_at = $4, \
             submitted_at = COALESCE($5, submitted_at), due_date = COALESCE($6, due_date), \
             due_provisional = CASE WHEN $6 IS NULL THEN due_provisional ELSE $11 END, \
             decision = COALESCE($7, decision), form = COALESCE($8, form), \
             pending = CASE WHEN $9 = 1 THEN $10 ELSE pending END \
             WHERE id = $1 AND state = $2",
        )
        .bind(t.application_id)
        .bind(t.from.code())
        .bind(t.to.code())
        .bind(t.at.0)
        .bind(t.submitted.map(|d| d.submitted_at.0))
        .bind(t.submitted.map(|d| d.due.to_string()))
        .bind(t.decision.as_ref().map(codec::encode_decision))
        .bind(t.form.as_ref().map(codec::encode_form))
        .bind(set_pending)
        .bind(pending)
        .bind(t.submitted.and_then(|d| d.provisional).map(i64::from))
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
            unique_or(inserted, StoreError::SerialTaken)?;
            for gram in super::name_grams(&n.entity_name) {
                let insert = sqlx::query(
                    "INSERT INTO reg_name_grams (gram, number) VALUES ($1, $2) \
                     ON CONFLICT (gram, number) DO NOTHING",
                )
                .bind(gram)
                .bind(&n.number);
                tx.run(insert).await?;
            }
        }
        let insert = sqlx::query(
            "INSERT INTO reg_audit (at, actor_id, application_id, action, from_state, to_state, detail) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(t.at.0)
        .bind(t.actor_id)
        .bind(t.application_id)
        .bind(t.action.code())
        .bind(t.from.code())
        .bind(t.to.code())
        .bind(&t.detail);
        tx.run(insert).await?;
        crate::registry::enqueue(&mut tx, &t.messages, t.at).await?;
        tx.commit().await?;
        Ok(true)
    }

    async fn applications_in(
        &self,
        states: &[AppState],
    ) -> Result<Vec<ApplicationRecord>, StoreError> {
        let sql = format!(
            "SELECT {APP_COLUMNS} FROM reg_applications WHERE state = $1 ORDER BY submitted_at, id"
        );
        let mut out = Vec::new();
        for state in states {
            out.extend(decode_all(self.all(&sql, state.code()).await, app)?);
        }
        Ok(out)
    }

    async fn applications_of(&self, filer_id: i64) -> Result<Vec<ApplicationRecord>, StoreError> {
        let sql = format!(
            "SELECT {APP_COLUMNS} FROM reg_applications WHERE filer_id = $1 ORDER BY id DESC"
        );
        decode_all(self.all(&sql, filer_id).await, app)
    }

    async fn storage_of_filer(&self, filer_id: i64) -> Result<i64, StoreError> {
        sqlx::query_scalar(FILER_BYTES)
            .bind(filer_id)
            .fetch_one(&self.pool)
            .await
            .map_err(crate::registry::reg_error)
    }

    async fn insert_attachment(
        &self,
        a: &AttachmentRecord,
        filer_id: i64,
        bytes_max: i64,
    ) -> Result<Option<i64>, StoreError> {
        let held = sqlx::query_scalar(FILER_BYTES).bind(filer_id);
        let insert = sqlx::query_scalar(
            "INSERT INTO reg_attachments (application_id, file_name, mime, sha256, size, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
        )
        .bind(a.application_id)
        .bind(&a.file_name)
        .bind(&a.mime)
        .bind(&a.sha256)
        .bind(a.size)
        .bind(a.created_at.0);
        let fits = |held: i64| held.saturating_add(a.size) <= bytes_max;
        self.insert_within_quota(filer_id, held, fits, insert).await
    }

    async fn attachments(&self, application_id: i64) -> Result<Vec<AttachmentRecord>, StoreError> {
        let sql = "SELECT id, application_id, file_name, mime, sha256, size, created_at \
             FROM reg_attachments WHERE application_id = $1 ORDER BY id";
        decode_all(self.all(sql, application_id).await, |r: AttachmentRow| {
            Ok(AttachmentRecord {
                id: r.0,
                application_id: r.1,
                file_name: r.2,
                mime: r.3,
                sha256: r.4,
                size: r.5,
                created_at: UnixMillis(r.6),
            })
        })
    }

    async fn numbers_of(&self, application_id: i64) -> Result<Vec<NumberRecord>, StoreError> {
        let sql =
            format!("SELECT {NUMBER_SELECT} WHERE n.application_id = $1 ORDER BY n.service_index");
        decode_all(self.all(&sql, application_id).await, super::number)
    }

    async fn number(&self, number: &str) -> Result<Option<NumberRecord>, StoreError> {
        let sql = format!("SELECT {NUMBER_SELECT} WHERE n.number = $1");
        decode_one(self.one(&sql, number).await, super::number)
    }

    async fn number_count_of_filer(&self, filer_id: i64) -> Result<i64, StoreError> {
        sqlx::query_scalar("SELECT COUNT(*) FROM reg_numbers WHERE filer_id = $1")
            .bind(filer_id)
            .fetch_one(&self.pool)
            .await
            .map_err(crate::registry::reg_error)
    }

    async fn audit_of(&self, application_id: i64) -> Result<Vec<AuditEntry>, StoreError> {
        let sql = "SELECT id, at, actor_id, application_id, action, from_state, to_state, detail \
             FROM reg_audit WHERE application_id = $1 ORDER BY id";
        decode_all(self.all(sql, application_id).await, |r: AuditRow| {
            Ok(AuditEntry {
                id: r.0,
                at: UnixMillis(r.1),
                actor_id: r.2,
                application_id: r.3,
                action: r.4,
                from_state: r.5,
                to_state: r.6,
                detail: r.7,
            })
        })
    }
}
