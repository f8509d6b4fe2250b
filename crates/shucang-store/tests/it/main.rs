//! The storage story: every storage operation, on SQLite always and on
//! PostgreSQL when `SHUCANG_TEST_POSTGRES_URL` names a server.

use std::sync::Arc;

use shucang_platform::{
    IdentityRecord, NewAccount, NewWork, ReviewRecord, SessionRecord, StoreError, WorkStatus,
};
use shucang_store::test_support::{TempPgDatabase, postgres_url_or_skip};
use shucang_store::{Backend, Store};
use shucang_types::{Phone, Role, UnixMillis};

fn account(phone: &str, role: Role) -> NewAccount {
    NewAccount {
        phone: Phone::parse(phone).unwrap(),
        password_hash: format!("$argon2id$fake${phone}"),
        role,
        created_at: UnixMillis(1_000),
    }
}

/// Runs every operation of the storage traits and checks each result.
async fn story(store: Arc<dyn Store>) {
    // Accounts: insert, unique phone, lookups.
    let alice = store
        .insert_account(&account("13800000001", Role::Collector))
        .await
        .unwrap();
    let bob = store
        .insert_account(&account("13900000002", Role::AuditAdmin))
        .await
        .unwrap();
    assert_ne!(alice, bob);
    let dup = store
        .insert_account(&account("13800000001", Role::Reviewer))
        .await;
    assert!(
        matches!(dup, Err(StoreError::Conflict("accounts.phone"))),
        "{dup:?}"
    );

    let a = store
        .account_by_phone(&Phone::parse("13800000001").unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(a.id, alice);
    assert_eq!(
        a.role,
        Role::Collector,
        "the conflicting insert changed nothing"
    );
    assert_eq!(a.password_hash, "$argon2id$fake$13800000001");
    assert_eq!(a.created_at, UnixMillis(1_000));
    assert_eq!((a.failed_logins, a.locked_until), (0, None));
    let b = store.account_by_id(bob).await.unwrap().unwrap();
    assert_eq!(b.phone.as_str(), "13900000002");
    assert_eq!(b.role, Role::AuditAdmin);
    assert!(store.account_by_id(bob + 1000).await.unwrap().is_none());
    assert!(
        store
            .account_by_phone(&Phone::parse("13700000000").unwrap())
            .await
            .unwrap()
            .is_none()
    );

    // Login failures: counted, then a lock at the maximum, then cleared.
    let lock = UnixMillis(99_000);
    for n in 1..=2 {
        assert_eq!(
            store.record_login_failure(alice, 3, lock).await.unwrap(),
            None
        );
        assert_eq!(
            store
                .account_by_id(alice)
                .await
                .unwrap()
                .unwrap()
                .failed_logins,
            n
        );
    }
    assert_eq!(
        store.record_login_failure(alice, 3, lock).await.unwrap(),
        Some(lock)
    );
    let a = store.account_by_id(alice).await.unwrap().unwrap();
    assert_eq!((a.failed_logins, a.locked_until), (0, Some(lock)));
    assert_eq!(
        store
            .record_login_failure(alice, 3, UnixMillis(1))
            .await
            .unwrap(),
        None
    );
    store.clear_login_failures(alice).await.unwrap();
    let a = store.account_by_id(alice).await.unwrap().unwrap();
    assert_eq!((a.failed_logins, a.locked_until), (0, None));
    assert_eq!(
        store
            .record_login_failure(bob + 1000, 3, lock)
            .await
            .unwrap(),
        None
    );

    // Sessions: insert, read, touch (never backwards), delete, purge idle.
    let s1 = SessionRecord {
        token_hash: "h1".into(),
        account_id: alice,
        created_at: UnixMillis(10),
        last_seen_at: UnixMillis(10),
    };
    let s2 = SessionRecord {
        token_hash: "h2".into(),
        account_id: bob,
        ..s1.clone()
    };
    store.insert_session(&s1).await.unwrap();
    store.insert_session(&s2).await.unwrap();
    assert_eq!(
        store.session_by_token_hash("h1").await.unwrap(),
        Some(s1.clone())
    );
    assert_eq!(store.session_by_token_hash("nope").await.unwrap(), None);
    store.touch_session("h1", UnixMillis(500)).await.unwrap();
    store.touch_session("h1", UnixMillis(400)).await.unwrap();
    let got = store.session_by_token_hash("h1").await.unwrap().unwrap();
    assert_eq!(got.last_seen_at, UnixMillis(500));
    assert_eq!(
        store.delete_idle_sessions(UnixMillis(100)).await.unwrap(),
        1,
        "h2 was idle"
    );
    assert_eq!(store.session_by_token_hash("h2").await.unwrap(), None);
    assert!(store.delete_session("h1").await.unwrap());
    assert!(!store.delete_session("h1").await.unwrap());
    assert_eq!(store.session_by_token_hash("h1").await.unwrap(), None);

    // Identities: one per account, one account per ID number, found by
    // account and by wallet address.
    let identity = |account_id: i64, hash: &str, address: &str| IdentityRecord {
        account_id,
        name_enc: vec![1, 2, 3],
        id_number_enc: vec![4, 5, 6],
        id_number_hash: hash.into(),
        consent_version: "v1".into(),
        consent_at: UnixMillis(5),
        consent_ip: "127.0.0.1".into(),
        verified_at: UnixMillis(6),
        wallet_public_key: vec![7; 32],
        wallet_address: address.into(),
        wallet_secret_enc: vec![8; 60],
    };
    store
        .insert_identity(&identity(alice, "hash-a", "0xaa"))
        .await
        .unwrap();
    let dup_id = store
        .insert_identity(&identity(bob, "hash-a", "0xbb"))
        .await;
    assert!(
        matches!(
            dup_id,
            Err(StoreError::Conflict("identities.id_number_hash"))
        ),
        "{dup_id:?}"
    );
    let dup_account = store
        .insert_identity(&identity(alice, "hash-b", "0xcc"))
        .await;
    assert!(
        matches!(
            dup_account,
            Err(StoreError::Conflict("identities.account_id"))
        ),
        "{dup_account:?}"
    );
    let got = store.identity_by_account(alice).await.unwrap().unwrap();
    assert_eq!(
        (got.id_number_hash.as_str(), got.wallet_address.as_str()),
        ("hash-a", "0xaa")
    );
    assert_eq!(
        (got.name_enc, got.consent_at, got.wallet_secret_enc.len()),
        (vec![1, 2, 3], UnixMillis(5), 60)
    );
    assert!(store.identity_by_account(bob).await.unwrap().is_none());
    assert_eq!(
        store
            .identity_by_address("0xaa")
            .await
            .unwrap()
            .unwrap()
            .account_id,
        alice
    );
    assert!(store.identity_by_address("0xbb").await.unwrap().is_none());

    // Works: insert pending, list by status, review once.
    let work = |title: &str| NewWork {
        title: title.into(),
        description: "敦煌".into(),
        edition_size: 1000,
        issuer: "发行方".into(),
        copyright_evidence: "国作登字-2026-F-00000001".into(),
        image_sha256: "ab".repeat(32),
        image_type: "png".into(),
        flags: vec!["转售".into(), "炒作".into()],
        created_by: bob,
        created_at: UnixMillis(9),
    };
    let w1 = store.insert_work(&work("飞天")).await.unwrap();
    let w2 = store.insert_work(&work("九色鹿")).await.unwrap();
    let got = store.work_by_id(w1).await.unwrap().unwrap();
    assert_eq!(
        (got.status, got.work.edition_size, got.work.flags.len()),
        (WorkStatus::PendingReview, 1000, 2)
    );
    assert_eq!(got.work.title, "飞天");
    assert!(store.work_by_id(w2 + 10).await.unwrap().is_none());
    assert_eq!(
        store
            .list_works(Some(WorkStatus::PendingReview), 10)
            .await
            .unwrap()
            .len(),
        2
    );
    assert_eq!(store.list_works(None, 1).await.unwrap().len(), 1);
    let approve = ReviewRecord {
        status: WorkStatus::Approved,
        reason: None,
        reviewed_by: alice,
        reviewed_at: UnixMillis(10),
        collection_id: Some(format!("work-{w1}")),
        chain_tx: Some("cd".repeat(32)),
        metadata_hash: Some("ef".repeat(32)),
    };
    assert!(store.record_review(w1, &approve).await.unwrap());
    assert!(
        !store.record_review(w1, &approve).await.unwrap(),
        "a decision is made once"
    );
    let got = store.work_by_id(w1).await.unwrap().unwrap();
    assert_eq!(
        (got.status, got.reviewed_by),
        (WorkStatus::Approved, Some(alice))
    );
    assert_eq!(got.collection_id, Some(format!("work-{w1}")));
    assert_eq!(
        store
            .list_works(Some(WorkStatus::PendingReview), 10)
            .await
            .unwrap()
            .len(),
        1
    );
    assert_eq!(
        store
            .list_works(Some(WorkStatus::Approved), 10)
            .await
            .unwrap()[0]
            .id,
        w1
    );
}

#[tokio::test]
async fn story_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!(
        "sqlite://{}",
        dir.path().join("nested/dir/shucang.db").display()
    );
    let store = shucang_store::open(&url).await.unwrap();
    assert_eq!(store.backend(), Backend::Sqlite);
    story(store.clone()).await;
    store.close().await;
    // Reopening applies no migration twice and keeps the data.
    let store = shucang_store::open(&url).await.unwrap();
    assert!(
        store
            .account_by_phone(&Phone::parse("13800000001").unwrap())
            .await
            .unwrap()
            .is_some()
    );
    store.close().await;
}

#[tokio::test]
async fn story_on_postgres() {
    let Some(admin_url) = postgres_url_or_skip("story_on_postgres") else {
        return;
    };
    let db = TempPgDatabase::create(&admin_url).await.unwrap();
    let store = shucang_store::open(&db.url).await.unwrap();
    assert_eq!(store.backend(), Backend::Postgres);
    story(store.clone()).await;
    store.close().await;
    let store = shucang_store::open(&db.url).await.unwrap();
    assert!(store.account_by_id(1).await.unwrap().is_some());
    store.close().await;
    db.drop_database().await.unwrap();
}

#[tokio::test]
async fn bad_urls_are_refused_with_a_reason() {
    let e = shucang_store::open("mysql://root@localhost/x")
        .await
        .err()
        .unwrap();
    assert!(e.to_string().contains("unsupported database URL"), "{e}");
    let e = shucang_store::open("postgres://u:hunter2@127.0.0.1:1/x")
        .await
        .err()
        .unwrap();
    assert!(!format!("{e:#}").contains("hunter2"), "{e:#}");
}

#[tokio::test]
async fn a_newer_schema_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("s.db").display());
    let store = shucang_store::open(&url).await.unwrap();
    store.close().await;
    let pool = sqlx::SqlitePool::connect(&url).await.unwrap();
    sqlx::query(
        "INSERT INTO schema_migrations (version, name, applied_at) VALUES (999, 'future', 0)",
    )
    .execute(&pool)
    .await
    .unwrap();
    pool.close().await;
    let e = shucang_store::open(&url).await.err().unwrap();
    assert!(e.to_string().contains("newer"), "{e}");
}
