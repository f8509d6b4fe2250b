//! The registry's name index: numbers issued before it existed are indexed
//! by the migration's backfill, on both engines, so the public search
//! finds them by part of a name through the index.

use shucang_store::RegistryBackend;
use shucang_store::test_support::TempPgDatabase;

/// The backfill statement of the migration that made the index.
fn backfill() -> &'static str {
    let migration = include_str!("../../migrations/registry/0002_limits.sql");
    let at = migration
        .find("INSERT INTO reg_name_grams")
        .expect("the migration fills the index");
    &migration[at..]
}

/// Rows as a registry from before the index would have written them: a
/// filer, an approved application, a published batch and one number.
const OLD_ROWS: [&str; 4] = [
    "INSERT INTO reg_users (id, role, name, phone, email, password_hash, phone_verified, \
     email_verified, verify_expires_at, created_at) \
     VALUES (1, 'filer', '张三', '13912345678', 'a@b.cn', 'x', 1, 1, 0, 0)",
    "INSERT INTO reg_applications (id, filer_id, state, form, created_at, updated_at) \
     VALUES (1, 1, 'approved', '{}', 0, 0)",
    "INSERT INTO reg_batches (id, number, state, created_at) VALUES (1, 1, 'objection', 0)",
    "INSERT INTO reg_numbers (number, serial, application_id, filer_id, service_index, \
     entity_name, service_name, issued_at, batch_id) \
     VALUES ('京网信备1101081963896882001X号', 12345678, 1, 1, 0, '深圳某某ABC链科技有限公司', \
     '链上查', 0, 1)",
];

async fn backfilled(store: std::sync::Arc<dyn RegistryBackend>, url: &str) {
    sqlx::any::install_default_drivers();
    let pool = sqlx::AnyPool::connect(url).await.unwrap();
    for row in OLD_ROWS {
        sqlx::query(row).execute(&pool).await.unwrap();
    }
    // Before the backfill the search finds nothing by name …
    assert!(
        store
            .search_published("某某", "", 10)
            .await
            .unwrap()
            .is_empty()
    );
    sqlx::query(backfill()).execute(&pool).await.unwrap();
    // … after it, any part of the name, in either case for ASCII.
    for part in ["某某", "深圳", "公司", "abc链", "ABC", "科"] {
        let found = store.search_published(part, "", 10).await.unwrap();
        assert_eq!(found.len(), 1, "{part}");
    }
    assert!(
        store
            .search_published("某乙", "", 10)
            .await
            .unwrap()
            .is_empty()
    );
    pool.close().await;
    store.close().await;
}

#[tokio::test]
async fn numbers_from_before_the_index_are_found_by_name_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("registry.db").display());
    let store = shucang_store::open_registry(&url).await.unwrap();
    backfilled(store, &url).await;
}

#[tokio::test]
async fn numbers_from_before_the_index_are_found_by_name_on_postgres() {
    let Some(db) = TempPgDatabase::for_test("the name index backfill").await else {
        return;
    };
    let store = shucang_store::open_registry(&db.url).await.unwrap();
    backfilled(store, &db.url).await;
    db.drop_database().await.unwrap();
}
