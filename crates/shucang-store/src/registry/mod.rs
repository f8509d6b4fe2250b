//! [`shucang_registry::RegistryStore`] and [`shucang_notify::OutboxStore`]
//! for both back ends, on the registry's own database.

use shucang_notify::NewMessage;
use shucang_registry::{
    ApplicationRecord, BatchRecord, CheckinRecord, NumberRecord, StoreError, User, UserRole, codec,
};
use shucang_types::UnixMillis;

use crate::engine::Writer;

mod applications;
mod checkins;
mod publication;
mod users;

/// Queues messages in the registry's outbox inside a transaction.
pub(crate) async fn enqueue(
    tx: &mut Writer<StoreError>,
    messages: &[NewMessage],
    now: UnixMillis,
) -> Result<(), StoreError> {
    crate::outbox::enqueue(tx, messages, now).await
}

pub(crate) fn reg_error(e: sqlx::Error) -> StoreError {
    StoreError::Backend(e.to_string())
}

pub(crate) type UserRow = (
    i64,
    String,
    String,
    String,
    String,
    String,
    i64,
    i64,
    Option<String>,
    i64,
    i64,
    i64,
    Option<i64>,
);

pub(crate) const USER_COLUMNS: &str = "id, role, name, phone, email, password_hash, phone_verified, \
     email_verified, phone_code_hash, phone_code_attempts, verify_expires_at, failed_logins, locked_until";

pub(crate) fn user(r: UserRow) -> Result<User, StoreError> {
    Ok(User {
        id: r.0,
        role: UserRole::from_code(&r.1)
            .ok_or_else(|| StoreError::Backend(format!("unknown role {}", r.1)))?,
        name: r.2,
        phone: r.3,
        email: r.4,
        password_hash: r.5,
        phone_verified: r.6 != 0,
        email_verified: r.7 != 0,
        phone_code_hash: r.8,
        phone_code_attempts: u32::try_from(r.9).unwrap_or(u32::MAX),
        verify_expires_at: UnixMillis(r.10),
        failed_logins: u32::try_from(r.11).unwrap_or(u32::MAX),
        locked_until: r.12.map(UnixMillis),
    })
}

pub(crate) type AppRow = (
    i64,
    i64,
    String,
    String,
    i64,
    Option<i64>,
    Option<String>,
    Option<String>,
    Option<String>,
    i64,
    i64,
    Option<i64>,
);

pub(crate) const APP_COLUMNS: &str = "id, filer_id, state, form, version, submitted_at, due_date, \
     decision, pending, created_at, updated_at, due_provisional";

pub(crate) fn app(r: AppRow) -> Result<ApplicationRecord, StoreError> {
    Ok(ApplicationRecord {
        id: r.0,
        filer_id: r.1,
        state: codec::decode_state(&r.2)?,
        form: codec::decode_form(&r.3)?,
        version: r.4,
        submitted_at: r.5.map(UnixMillis),
        due_date: r.6.as_deref().map(codec::decode_date).transpose()?,
        due_provisional: r.11.and_then(|y| i32::try_from(y).ok()),
        decision: r.7.as_deref().map(codec::decode_decision).transpose()?,
        pending: r.8.as_deref().map(codec::decode_pending).transpose()?,
        created_at: UnixMillis(r.9),
        updated_at: UnixMillis(r.10),
    })
}

pub(crate) type NumberRow = (
    String,
    i64,
    i64,
    i64,
    String,
    String,
    i64,
    Option<i64>,
    String,
);

/// Numbers with their batch's number (a left join: not every number is in
/// a batch yet); callers append `WHERE …`.
/// The search keys of an entity name: each character and each pair of
/// neighbouring characters, ASCII lower-cased (as the migration's
/// backfill computes them with SQL's `lower`).
pub(crate) fn name_grams(name: &str) -> std::collections::BTreeSet<String> {
    let chars: Vec<char> = name.chars().map(|c| c.to_ascii_lowercase()).collect();
    let singles = chars.iter().map(|c| c.to_string());
    let pairs = chars.windows(2).map(|w| w.iter().collect::<String>());
    singles.chain(pairs).collect()
}

/// The one key a search for `part` looks its candidates up by: its first
/// pair of characters, or its only character.
pub(crate) fn search_gram(part: &str) -> String {
    let chars: Vec<char> = part.chars().map(|c| c.to_ascii_lowercase()).collect();
    chars.iter().take(2).collect()
}

pub(crate) const NUMBER_SELECT: &str = "n.number, n.serial, n.application_id, n.service_index, \
     n.entity_name, n.service_name, n.issued_at, b.number, a.state \
     FROM reg_numbers n LEFT JOIN reg_batches b ON b.id = n.batch_id \
     JOIN reg_applications a ON a.id = n.application_id";

pub(crate) fn number(r: NumberRow) -> Result<NumberRecord, StoreError> {
    Ok(NumberRecord {
        number: r.0,
        serial: r.1,
        application_id: r.2,
        service_index: r.3,
        entity_name: r.4,
        service_name: r.5,
        issued_at: UnixMillis(r.6),
        batch: r.7,
        app_state: codec::decode_state(&r.8)?,
    })
}

pub(crate) type BatchRow = (i64, String, i64, Option<i64>, Option<String>, Option<i64>);

pub(crate) const BATCH_COLUMNS: &str =
    "number, state, created_at, published_at, window_ends, finalised_at";

pub(crate) fn batch(r: BatchRow) -> Result<BatchRecord, StoreError> {
    Ok(BatchRecord {
        number: r.0,
        state: shucang_registry::BatchState::from_code(&r.1)
            .ok_or_else(|| StoreError::Backend(format!("unknown batch state {}", r.1)))?,
        created_at: UnixMillis(r.2),
        published_at: r.3.map(UnixMillis),
        window_ends: r.4.as_deref().map(codec::decode_date).transpose()?,
        finalised_at: r.5.map(UnixMillis),
    })
}

pub(crate) type CheckinRow = (i64, String, String, i64, i64);

pub(crate) const CHECKIN_COLUMNS: &str = "id, opens_on, closes_on, created_by, created_at";

pub(crate) fn checkin(r: CheckinRow) -> Result<CheckinRecord, StoreError> {
    Ok(CheckinRecord {
        id: r.0,
        opens_on: codec::decode_date(&r.1)?,
        closes_on: codec::decode_date(&r.2)?,
        created_by: r.3,
        created_at: UnixMillis(r.4),
    })
}

#[cfg(test)]
mod tests {
    use super::{name_grams, search_gram};

    #[test]
    fn names_are_keyed_by_characters_and_pairs() {
        let grams: Vec<String> = name_grams("链A科").into_iter().collect();
        let mut expected = vec!["a", "a科", "科", "链", "链a"];
        expected.sort();
        assert_eq!(grams, expected);
        assert_eq!(search_gram("深圳某某"), "深圳");
        assert_eq!(search_gram("X"), "x");
        assert!(name_grams("").is_empty());
        // Every search key of a part of a name is a key of the name.
        let name = "深圳某某链科技有限公司";
        let keys = name_grams(name);
        for start in 0..name.chars().count() {
            let part: String = name.chars().skip(start).collect();
            assert!(keys.contains(&search_gram(&part)), "{part}");
        }
    }
}
