//! [`shucang_platform::IdentityStore`] for both back ends.

use shucang_types::UnixMillis;

use shucang_platform::{IdentityRecord, IdentityStore, StoreError};

use crate::query::{decode_one, is_unique_violation};

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

pub(crate) fn identity_from_row(r: IdentityRow) -> IdentityRecord {
    IdentityRecord {
        account_id: r.0,
        name_enc: r.1,
        id_number_enc: r.2,
        id_number_hash: r.3,
        consent_version: r.4,
        consent_at: UnixMillis(r.5),
        consent_ip: r.6,
        verified_at: UnixMillis(r.7),
        wallet_public_key: r.8,
        wallet_address: r.9,
        wallet_secret_enc: r.10,
    }
}

#[async_trait::async_trait]
impl IdentityStore for crate::SqlStore {
    async fn count_attempt(&self, e: &shucang_types::WindowedEvent) -> Result<bool, StoreError> {
        self.count_windowed(crate::windows::Windows::Platform, e)
            .await
    }

    async fn insert_identity(&self, i: &IdentityRecord) -> Result<(), StoreError> {
        let sql = format!(
            "INSERT INTO identities ({IDENTITY_COLUMNS}) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)"
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
        if !result.as_ref().is_err_and(is_unique_violation) {
            return result.map(drop).map_err(crate::backend_error);
        }
        // Which rule? Ask, rather than parse engine messages.
        let taken: Option<(i64,)> = self
            .one(
                "SELECT account_id FROM identities WHERE id_number_hash = $1",
                &i.id_number_hash,
            )
            .await
            .map_err(crate::backend_error)?;
        Err(shucang_platform::StoreError::Conflict(match taken {
            Some(_) => "identities.id_number_hash",
            None => "identities.account_id",
        }))
    }

    async fn identity_by_account(
        &self,
        account_id: i64,
    ) -> Result<Option<IdentityRecord>, StoreError> {
        let sql = format!("SELECT {IDENTITY_COLUMNS} FROM identities WHERE account_id = $1");
        decode_one(self.one(&sql, account_id).await, |r| {
            Ok(identity_from_row(r))
        })
    }

    async fn identity_by_address(
        &self,
        address: &str,
    ) -> Result<Option<IdentityRecord>, StoreError> {
        let sql = format!("SELECT {IDENTITY_COLUMNS} FROM identities WHERE wallet_address = $1");
        decode_one(self.one(&sql, address).await, |r| Ok(identity_from_row(r)))
    }
}
