//! [`shucang_platform::IdentityStore`] for both back ends.

/// Columns of `identities`, in [`IdentityRow`] order.
pub(crate) const IDENTITY_COLUMNS: &str = "account_id, name_enc, id_number_enc, id_number_hash, \
    consent_version, consent_at, consent_ip, verified_at, wallet_public_key, wallet_address, \
    wallet_secret_enc";

/// One `identities` row as sqlx decodes it.
pub(crate) type IdentityRow = (
    i64,
    Vec<u8>,
    Vec<u8>,
    String,
    String,
    i64,
    String,
    i64,
    Vec<u8>,
    String,
    Vec<u8>,
);

pub(crate) fn identity_from_row(r: IdentityRow) -> shucang_platform::IdentityRecord {
    shucang_platform::IdentityRecord {
        account_id: r.0,
        name_enc: r.1,
        id_number_enc: r.2,
        id_number_hash: r.3,
        consent_version: r.4,
        consent_at: shucang_types::UnixMillis(r.5),
        consent_ip: r.6,
        verified_at: shucang_types::UnixMillis(r.7),
        wallet_public_key: r.8,
        wallet_address: r.9,
        wallet_secret_enc: r.10,
    }
}

#[async_trait::async_trait]
impl shucang_platform::IdentityStore for crate::SqlStore {
    async fn insert_identity(
        &self,
        i: &shucang_platform::IdentityRecord,
    ) -> Result<(), shucang_platform::StoreError> {
        let sql = format!(
            "INSERT INTO identities ({}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
            crate::identities::IDENTITY_COLUMNS
        );
        let result = sqlx::query(&sql)
            .bind(i.account_id)
            .bind(&i.name_enc)
            .bind(&i.id_number_enc)
            .bind(&i.id_number_hash)
            .bind(&i.consent_version)
            .bind(i.consent_at.0)
            .bind(&i.consent_ip)
            .bind(i.verified_at.0)
            .bind(&i.wallet_public_key)
            .bind(&i.wallet_address)
            .bind(&i.wallet_secret_enc)
            .execute(&self.pool)
            .await;
        match result {
            Ok(_) => Ok(()),
            Err(sqlx::Error::Database(e)) if e.is_unique_violation() => {
                // Which rule? Ask, rather than parse engine messages.
                let taken: Option<i64> = sqlx::query_scalar(
                    "SELECT account_id FROM identities WHERE id_number_hash = $1",
                )
                .bind(&i.id_number_hash)
                .fetch_optional(&self.pool)
                .await
                .map_err(crate::backend_error)?;
                Err(shucang_platform::StoreError::Conflict(match taken {
                    Some(_) => "identities.id_number_hash",
                    None => "identities.account_id",
                }))
            }
            Err(e) => Err(crate::backend_error(e)),
        }
    }

    async fn identity_by_account(
        &self,
        account_id: i64,
    ) -> Result<Option<shucang_platform::IdentityRecord>, shucang_platform::StoreError> {
        let sql = format!(
            "SELECT {} FROM identities WHERE account_id = $1",
            crate::identities::IDENTITY_COLUMNS
        );
        let row = sqlx::query_as::<_, crate::identities::IdentityRow>(&sql)
            .bind(account_id)
            .fetch_optional(&self.pool)
            .await
            .map_err(crate::backend_error)?;
        Ok(row.map(crate::identities::identity_from_row))
    }

    async fn identity_by_address(
        &self,
        address: &str,
    ) -> Result<Option<shucang_platform::IdentityRecord>, shucang_platform::StoreError> {
        let sql = format!(
            "SELECT {} FROM identities WHERE wallet_address = $1",
            crate::identities::IDENTITY_COLUMNS
        );
        let row = sqlx::query_as::<_, crate::identities::IdentityRow>(&sql)
            .bind(address)
            .fetch_optional(&self.pool)
            .await
            .map_err(crate::backend_error)?;
        Ok(row.map(crate::identities::identity_from_row))
    }
}
