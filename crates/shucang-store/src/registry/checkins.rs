//! [`shucang_registry::CheckinStore`]: check-ins and loaded holiday schedules.

use shucang_types::UnixMillis;

use shucang_registry::{CalendarLoad, CheckinRecord, CheckinStore, ConfirmationRecord, StoreError};

use super::{CHECKIN_COLUMNS, checkin};
use crate::query::{decode_all, decode_one};

#[async_trait::async_trait]
impl CheckinStore for crate::SqlStore {
    async fn insert_checkin(&self, c: &CheckinRecord) -> Result<i64, StoreError> {
        sqlx::query_scalar(
            "INSERT INTO reg_checkins (opens_on, closes_on, created_by, created_at) \
             VALUES ($1, $2, $3, $4) RETURNING id",
        )
        .bind(c.opens_on.to_string())
        .bind(c.closes_on.to_string())
        .bind(c.created_by)
        .bind(c.created_at.0)
        .fetch_one(&self.pool)
        .await
        .map_err(crate::registry::reg_error)
    }

    async fn checkins(&self) -> Result<Vec<CheckinRecord>, StoreError> {
        let rows = sqlx::query_as(&format!(
            "SELECT {CHECKIN_COLUMNS} FROM reg_checkins ORDER BY id DESC"
        ))
        .fetch_all(&self.pool)
        .await;
        decode_all(rows, checkin)
    }

    async fn checkin(&self, id: i64) -> Result<Option<CheckinRecord>, StoreError> {
        let sql = format!("SELECT {CHECKIN_COLUMNS} FROM reg_checkins WHERE id = $1");
        decode_one(self.one(&sql, id).await, checkin)
    }

    async fn insert_confirmation(&self, c: &ConfirmationRecord) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "INSERT INTO reg_checkin_confirmations (checkin_id, application_id, confirmed_by, note, at) \
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT (checkin_id, application_id) DO NOTHING",
        )
        .bind(c.checkin_id)
        .bind(c.application_id)
        .bind(c.confirmed_by)
        .bind(&c.note)
        .bind(c.at.0)
        .execute(&self.pool)
        .await
        .map_err(crate::registry::reg_error)?
        .rows_affected();
        Ok(done == 1)
    }

    async fn confirmations(&self, checkin_id: i64) -> Result<Vec<ConfirmationRecord>, StoreError> {
        let sql = "SELECT checkin_id, application_id, confirmed_by, note, at \
             FROM reg_checkin_confirmations WHERE checkin_id = $1 ORDER BY at, application_id";
        decode_all(
            self.all(sql, checkin_id).await,
            |r: (i64, i64, i64, String, i64)| {
                Ok(ConfirmationRecord {
                    checkin_id: r.0,
                    application_id: r.1,
                    confirmed_by: r.2,
                    note: r.3,
                    at: UnixMillis(r.4),
                })
            },
        )
    }

    async fn insert_calendar_load(&self, load: &CalendarLoad) -> Result<(), StoreError> {
        let insert = sqlx::query(
            "INSERT INTO reg_calendar_loads (year, schedule, loaded_by, loaded_at) VALUES ($1, $2, $3, $4)",
        )
        .bind(i64::from(load.year))
        .bind(&load.schedule)
        .bind(&load.loaded_by)
        .bind(load.at.0);
        self.run(insert).await
    }

    async fn calendar_loads(&self) -> Result<Vec<(i32, String)>, StoreError> {
        let rows: Vec<(i64, String)> = sqlx::query_as(
            "SELECT year, schedule FROM reg_calendar_loads l \
             WHERE id = (SELECT MAX(id) FROM reg_calendar_loads m WHERE m.year = l.year) ORDER BY year",
        )
        .fetch_all(&self.pool)
        .await
        .map_err(crate::registry::reg_error)?;
        Ok(rows
            .into_iter()
            .filter_map(|(y, s)| i32::try_from(y).ok().map(|y| (y, s)))
            .collect())
    }
}
