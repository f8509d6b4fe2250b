//! The SQLite and PostgreSQL schemas agree: the same tables, columns (in
//! order, with the same type family and nullability) and indexes, for the
//! platform's database and the registry's.

use shucang_store::test_support::{TempPgDatabase, postgres_url_or_skip};
use shucang_store::{ColumnType, Schema, SqlStore};

async fn sqlite_schemas() -> (Schema, Schema) {
    let dir = tempfile::tempdir().unwrap();
    let platform = SqlStore::open(&format!("sqlite://{}", dir.path().join("p.db").display()))
        .await
        .unwrap();
    let registry =
        SqlStore::open_registry(&format!("sqlite://{}", dir.path().join("r.db").display()))
            .await
            .unwrap();
    let schemas = (
        platform.schema().await.unwrap(),
        registry.schema().await.unwrap(),
    );
    platform.close().await;
    registry.close().await;
    schemas
}

fn assert_same(sqlite: &Schema, postgres: &Schema, what: &str) {
    assert_eq!(
        sqlite.columns.keys().collect::<Vec<_>>(),
        postgres.columns.keys().collect::<Vec<_>>(),
        "{what}: the tables differ"
    );
    for (table, columns) in &sqlite.columns {
        assert_eq!(
            columns, &postgres.columns[table],
            "{what}: columns of {table}"
        );
    }
    assert_eq!(sqlite.indexes, postgres.indexes, "{what}: indexes");
}

#[tokio::test]
async fn sqlite_schema_is_read_back_whole() {
    let (platform, registry) = sqlite_schemas().await;
    // Spot checks that the reader sees what the migrations wrote, so the
    // comparison below cannot pass on two empty readings.
    let accounts = &platform.columns["accounts"];
    assert_eq!(accounts[0].name, "id");
    assert!(accounts[0].not_null, "primary keys refuse NULL");
    assert_eq!(accounts[0].kind, ColumnType::Integer);
    let phone = accounts.iter().find(|c| c.name == "phone").unwrap();
    assert_eq!((phone.kind, phone.not_null), (ColumnType::Text, true));
    let locked = accounts.iter().find(|c| c.name == "locked_until").unwrap();
    assert!(!locked.not_null);
    let identities = &platform.columns["identities"];
    assert!(identities.iter().any(|c| c.kind == ColumnType::Bytes));
    assert!(
        platform.indexes["accounts"]
            .iter()
            .any(|i| i.unique && i.columns == ["phone"])
    );
    assert!(
        platform.indexes["sessions"]
            .iter()
            .any(|i| !i.unique && i.columns == ["last_seen_at"])
    );
    assert!(registry.columns.contains_key("reg_applications"));
    assert!(!registry.columns.contains_key("accounts"));
    for schema in [&platform, &registry] {
        for columns in schema.columns.values() {
            assert!(columns.iter().all(|c| c.kind != ColumnType::Other));
        }
    }
}

#[tokio::test]
async fn sqlite_and_postgres_schemas_agree() {
    let Some(admin_url) = postgres_url_or_skip("sqlite_and_postgres_schemas_agree") else {
        return;
    };
    let (sqlite_platform, sqlite_registry) = sqlite_schemas().await;
    for (sqlite, registry) in [(&sqlite_platform, false), (&sqlite_registry, true)] {
        let db = TempPgDatabase::create(&admin_url).await.unwrap();
        let store = if registry {
            SqlStore::open_registry(&db.url).await.unwrap()
        } else {
            SqlStore::open(&db.url).await.unwrap()
        };
        let postgres = store.schema().await.unwrap();
        store.close().await;
        assert_same(
            sqlite,
            &postgres,
            if registry { "registry" } else { "platform" },
        );
        db.drop_database().await.unwrap();
    }
}
