//! [`shucang_registry::CheckinStore`]: check-ins and loaded holiday schedules.

#[async_trait::async_trait]
impl shucang_registry::CheckinStore for crate::SqlStore {
    async fn insert_checkin(
        &self,
        c: &shucang_registry::CheckinRecord,
    ) -> Result<i64, shucang_registry::StoreError> {
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

    async fn checkins(
        &self,
    ) -> Result<Vec<shucang_registry::CheckinRecord>, shucang_registry::StoreError> {
        let rows: Vec<crate::registry::CheckinRow> = sqlx::query_as(
            "SELECT id, opens_on, closes_on, created_by, created_at FROM reg_checkins ORDER BY id DESC",
        )
        .fetch_all(&self.pool)
        .await
        .map_err(crate::registry::reg_error)?;
        rows.into_iter().map(crate::registry::checkin).collect()
    }

    async fn checkin(
        &self,
        id: i64,
    ) -> Result<Option<shucang_registry::CheckinRecord>, shucang_registry::StoreError> {
        let row: Option<crate::registry::CheckinRow> = sqlx::query_as(
            "SELECT id, opens_on, closes_on, created_by, created_at FROM reg_checkins WHERE id = $1",
        )
        .bind(id)
        .fetch_optional(&self.pool)
        .await
        .map_err(crate::registry::reg_error)?;
        row.map(crate::registry::checkin).transpose()
    }

    async fn insert_confirmation(
        &self,
        c: &shucang_registry::ConfirmationRecord,
    ) -> Result<bool, shucang_registry::StoreError> {
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

    async fn confirmations(
        &self,
        checkin_id: i64,
    ) -> Result<Vec<shucang_registry::ConfirmationRecord>, shucang_registry::StoreError> {
        let rows: Vec<(i64, i64, i64, String, i64)> = sqlx::query_as(
            "SELECT checkin_id, application_id, confirmed_by, note, at \
             FROM reg_checkin_confirmations WHERE checkin_id = $1 ORDER BY at, application_id",
        )
        .bind(checkin_id)
        .fetch_all(&self.pool)
        .await
        .map_err(crate::registry::reg_error)?;
        Ok(rows
            .into_iter()
            .map(|r| shucang_registry::ConfirmationRecord {
                checkin_id: r.0,
                application_id: r.1,
                confirmed_by: r.2,
                note: r.3,
                at: shucang_types::UnixMillis(r.4),
            })
            .collect())
    }

    async fn insert_calendar_load(
        &self,
        year: i32,
        schedule: &str,
        loaded_by: &str,
        at: shucang_types::UnixMillis,
    ) -> Result<(), shucang_registry::StoreError> {
        sqlx::query(
            "INSERT INTO reg_calendar_loads (year, schedule, loaded_by, loaded_at) VALUES ($1, $2, $3, $4)",
        )
        .bind(i64::from(year))
        .bind(schedule)
        .bind(loaded_by)
        .bind(at.0)
        .execute(&self.pool)
        .await
        .map_err(crate::registry::reg_error)?;
        Ok(())
    }

    async fn calendar_loads(&self) -> Result<Vec<(i32, String)>, shucang_registry::StoreError> {
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
