//! The storage story: every storage operation, on SQLite always and on
//! PostgreSQL when `SHUCANG_TEST_POSTGRES_URL` names a server.

mod name_index;
mod outbox;
mod schema;

use std::sync::Arc;

use shucang_notify::{Channel, NewMessage};
use shucang_platform::{
    AccountRecord, ComplaintRecord, DropKind, DropRecord, IdentityRecord, MintJob, Minted,
    NewAccount, NewDrop, NewWork, OrderRecord, OrderStatus, PaidOutcome, PaymentRecord,
    PurchaseTerms, Reservation, ReserveOutcome, ReviewRecord, SessionRecord, StoreError,
    WorkStatus,
};
use shucang_platform::{CodePurpose, NewPhoneCode};
use shucang_store::test_support::TempPgDatabase;
use shucang_store::{Backend, Store};
use shucang_types::{FailedLogin, Fen, Phone, Role, UnixMillis, WindowedEvent};

fn account(phone: &str, role: Role) -> NewAccount {
    NewAccount {
        phone: Phone::parse(phone).unwrap(),
        password_hash: format!("$argon2id$fake${phone}"),
        role,
        created_at: UnixMillis(1_000),
    }
}

/// The account registered with a phone number, if any.
async fn with_phone(store: &Arc<dyn Store>, phone: &str) -> Option<AccountRecord> {
    let phone = Phone::parse(phone).unwrap();
    store.account_by_phone(&phone).await.unwrap()
}

/// Runs every operation of the storage traits and checks each result.
async fn story(store: Arc<dyn Store>) {
    let (alice, bob) = accounts_and_sessions(&store).await;
    windows_and_phone_codes(&store).await;
    identities(&store, alice, bob).await;
    let w1 = works(&store, alice, bob).await;
    let (d1, first, second) = purchases(&store, alice, bob, w1).await;
    let third = expiry_and_overview(&store, bob, d1, &first, &second).await;
    payments(&store, &first, &third).await;
    complaints(&store, alice).await;
}

/// Accounts: insert, unique phone, lookups; login failures; sessions.
async fn accounts_and_sessions(store: &Arc<dyn Store>) -> (i64, i64) {
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

    let a = with_phone(store, "13800000001").await.unwrap();
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
    assert!(with_phone(store, "13700000000").await.is_none());

    // Login failures: counted, then a lock at the maximum; while it holds
    // a failure changes nothing and a right password is not admitted.
    let failed = |at: i64| FailedLogin {
        at: UnixMillis(at),
        failures_max: 3,
        lock_until: UnixMillis(at + 98_000),
    };
    let lock = UnixMillis(99_000);
    let login_state = |a: AccountRecord| (a.failed_logins, a.locked_until);
    for n in 1..=2 {
        let locked = store.record_login_failure(alice, &failed(1_000)).await;
        assert_eq!(locked.unwrap(), None);
        let a = store.account_by_id(alice).await.unwrap().unwrap();
        assert_eq!(a.failed_logins, n);
    }
    let locked = store.record_login_failure(alice, &failed(1_000)).await;
    assert_eq!(locked.unwrap(), Some(lock));
    let a = store.account_by_id(alice).await.unwrap().unwrap();
    assert_eq!(login_state(a), (0, Some(lock)));
    let again = store.record_login_failure(alice, &failed(2_000)).await;
    assert_eq!(
        again.unwrap(),
        Some(lock),
        "the lock neither moves nor counts"
    );
    let a = store.account_by_id(alice).await.unwrap().unwrap();
    assert_eq!(login_state(a), (0, Some(lock)));
    let early = store.admit_login(alice, UnixMillis(50_000)).await;
    assert_eq!(early.unwrap(), Some(lock), "not admitted while locked");
    let a = store.account_by_id(alice).await.unwrap().unwrap();
    assert_eq!(login_state(a), (0, Some(lock)));
    assert_eq!(store.admit_login(alice, lock).await.unwrap(), None);
    let a = store.account_by_id(alice).await.unwrap().unwrap();
    assert_eq!(login_state(a), (0, None));
    let nobody = store.record_login_failure(bob + 1000, &failed(1_000)).await;
    assert_eq!(nobody.unwrap(), None);

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

    (alice, bob)
}

/// Counting windows (count to the maximum, a new window, old windows
/// purged) and one-time codes (attempts spent in the row, a new code
/// resets them, expiry, used up once with the account made).
async fn windows_and_phone_codes(store: &Arc<dyn Store>) {
    const HOUR: i64 = 3_600_000;
    let counted = async |at: i64| {
        let event = WindowedEvent::hourly("test", "x".into(), UnixMillis(at), 2);
        store.count_in_window(&event).await.unwrap()
    };
    assert!(counted(0).await && counted(1).await);
    assert!(!counted(2).await, "the window is full");
    assert!(counted(HOUR).await, "a new window");
    assert_eq!(store.purge_windows(UnixMillis(HOUR)).await.unwrap(), 1);
    assert!(counted(3).await, "the old window was purged with its count");
    assert_eq!(store.purge_windows(UnixMillis(HOUR)).await.unwrap(), 1);

    let phone = Phone::parse("13700000001").unwrap();
    let issue = async |hash: &str, at: i64| {
        let code = NewPhoneCode {
            phone: phone.clone(),
            purpose: CodePurpose::Registration,
            code_hash: hash.into(),
            expires_at: UnixMillis(at + 100),
            created_at: UnixMillis(at),
        };
        let sms = NewMessage {
            channel: Channel::Sms,
            recipient: phone.as_str().into(),
            subject: String::new(),
            body: format!("sealed {hash}"),
        };
        store.issue_phone_code(&code, &sms).await.unwrap();
    };
    let spend = async |at: i64| {
        let purpose = CodePurpose::Registration;
        let spent = store.spend_phone_code_attempt(&phone, purpose, 2, UnixMillis(at));
        spent.await.unwrap()
    };
    issue("h1", 0).await;
    let queued = store
        .recent_messages(Some(phone.as_str()), 5)
        .await
        .unwrap();
    assert_eq!(queued.len(), 1, "the SMS is queued with the code");
    assert_eq!(queued[0].message.body, "sealed h1");
    assert_eq!(spend(1).await.as_deref(), Some("h1"));
    assert_eq!(spend(2).await.as_deref(), Some("h1"));
    assert_eq!(spend(3).await, None, "two attempts, then none");
    issue("h2", 10).await;
    assert_eq!(
        spend(11).await.as_deref(),
        Some("h2"),
        "a new code, new attempts"
    );
    assert_eq!(spend(110).await, None, "expired");
    issue("h3", 20).await;
    let new = account("13700000001", Role::Collector);
    assert_eq!(
        store.insert_account_with_code(&new, "h2").await.unwrap(),
        None
    );
    assert!(with_phone(store, "13700000001").await.is_none());
    let made = store.insert_account_with_code(&new, "h3").await.unwrap();
    assert!(made.is_some());
    assert_eq!(
        store.insert_account_with_code(&new, "h3").await.unwrap(),
        None,
        "used up"
    );
    issue("h4", 30).await;
    assert_eq!(
        store
            .delete_expired_phone_codes(UnixMillis(129))
            .await
            .unwrap(),
        0
    );
    assert_eq!(
        store
            .delete_expired_phone_codes(UnixMillis(130))
            .await
            .unwrap(),
        1
    );
}

async fn identities(store: &Arc<dyn Store>, alice: i64, bob: i64) {
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
    let conflicts = [
        (identity(bob, "hash-a", "0xbb"), "identities.id_number_hash"),
        (identity(alice, "hash-b", "0xcc"), "identities.account_id"),
    ];
    for (record, rule) in conflicts {
        let dup = store.insert_identity(&record).await;
        assert!(
            matches!(dup, Err(StoreError::Conflict(r)) if r == rule),
            "{dup:?}"
        );
    }
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
}

async fn works(store: &Arc<dyn Store>, alice: i64, bob: i64) -> i64 {
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
    let listed = async |status: WorkStatus| store.list_works(Some(status), 10).await.unwrap();
    let w1 = store.insert_work(&work("飞天")).await.unwrap();
    let w2 = store.insert_work(&work("九色鹿")).await.unwrap();
    let got = store.work_by_id(w1).await.unwrap().unwrap();
    assert_eq!(
        (got.status, got.work.edition_size, got.work.flags.len()),
        (WorkStatus::PendingReview, 1000, 2)
    );
    assert_eq!(got.work.title, "飞天");
    assert!(store.work_by_id(w2 + 10).await.unwrap().is_none());
    assert_eq!(listed(WorkStatus::PendingReview).await.len(), 2);
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
    assert_eq!(listed(WorkStatus::PendingReview).await.len(), 1);
    assert_eq!(listed(WorkStatus::Approved).await[0].id, w1);

    w1
}

async fn purchases(
    store: &Arc<dyn Store>,
    alice: i64,
    bob: i64,
    w1: i64,
) -> (i64, OrderRecord, OrderRecord) {
    // Drops: edition ranges per work, then the atomic purchase step.
    let new_drop = |supply: u64, limit: u32| NewDrop {
        work_id: w1,
        kind: DropKind::FirstCome,
        title: "首发".into(),
        price: Fen::price(990).unwrap(),
        supply,
        starts_at: UnixMillis(1_000),
        ends_at: UnixMillis(2_000),
        per_user_limit: limit,
        created_by: alice,
        created_at: UnixMillis(500),
    };
    let d1 = store.insert_drop(&new_drop(3, 2), 1000).await.unwrap();
    assert!(matches!(
        store.insert_drop(&new_drop(998, 1), 1000).await,
        Err(StoreError::Conflict("drops.editions"))
    ));
    let d2 = store.insert_drop(&new_drop(997, 1), 1000).await.unwrap();
    let drop1 = store.drop_by_id(d1).await.unwrap().unwrap();
    assert_eq!(
        (drop1.edition_start, drop1.sold, drop1.drop.supply),
        (1, 0, 3)
    );
    assert_eq!(drop1.drop.kind, DropKind::FirstCome);
    assert_eq!(
        store.drop_by_id(d2).await.unwrap().unwrap().edition_start,
        4
    );
    assert_eq!(store.list_drops(10).await.unwrap().len(), 2);

    let buy = async |account_id: i64, quantity: u32, key: &str, now: i64| {
        let r = reservation(d1, account_id, quantity, key, now);
        store.reserve(&r).await.unwrap()
    };
    for now in [999, 2_000] {
        assert_eq!(buy(alice, 1, "k0", now).await, ReserveOutcome::NotOpen);
    }
    let ReserveOutcome::Reserved(first) = buy(alice, 2, "k1", 1_100).await else {
        panic!("reserved")
    };
    assert_eq!(
        (first.editions.clone(), first.amount.get(), first.status),
        (vec![1, 2], 1980, OrderStatus::Reserved)
    );
    let refusals = [
        (
            alice,
            2,
            "k1",
            1_101,
            ReserveOutcome::Replayed(first.clone()),
        ),
        (alice, 1, "k1", 1_101, ReserveOutcome::KeyReused),
        (alice, 1, "k2", 1_102, ReserveOutcome::LimitReached),
        (bob, 2, "k3", 1_103, ReserveOutcome::SoldOut),
    ];
    for (account_id, quantity, key, now, outcome) in refusals {
        assert_eq!(buy(account_id, quantity, key, now).await, outcome);
    }
    let ReserveOutcome::Reserved(second) = buy(bob, 1, "k4", 1_104).await else {
        panic!("reserved")
    };
    assert_eq!(second.editions, vec![3]);
    assert_eq!(buy(bob, 1, "k5", 1_105).await, ReserveOutcome::SoldOut);
    assert_eq!(store.drop_by_id(d1).await.unwrap().unwrap().sold, 3);
    let mut missing = reservation(d1, bob, 1, "k6", 1_106);
    missing.drop_id = d2 + 100;
    assert_eq!(
        store.reserve(&missing).await.unwrap(),
        ReserveOutcome::DropNotFound
    );
    // The key is checked before the drop: a reused key is told so
    // whatever drop it names.
    missing.idempotency_key = "k1".into();
    missing.account_id = alice;
    assert_eq!(
        store.reserve(&missing).await.unwrap(),
        ReserveOutcome::KeyReused
    );

    (d1, first, second)
}

async fn expiry_and_overview(
    store: &Arc<dyn Store>,
    bob: i64,
    d1: i64,
    first: &OrderRecord,
    second: &OrderRecord,
) -> OrderRecord {
    let expire = async |now: i64| store.expire_due(UnixMillis(now), 10).await.unwrap();
    // Expiry returns stock once; the lowest free editions are sold again.
    assert!(expire(1_150).await.is_empty());
    let mut expired = expire(1_300).await;
    expired.sort_unstable();
    assert_eq!(expired, vec![first.id, second.id]);
    assert!(expire(1_300).await.is_empty());
    assert_eq!(store.drop_by_id(d1).await.unwrap().unwrap().sold, 0);
    let expired_order = store.order_by_id(first.id).await.unwrap().unwrap();
    assert_eq!(expired_order.status, OrderStatus::Expired);
    assert_eq!(
        expired_order.editions,
        vec![1, 2],
        "the record keeps what it held"
    );
    let ReserveOutcome::Reserved(third) = store
        .reserve(&reservation(d1, bob, 1, "k7", 1_400))
        .await
        .unwrap()
    else {
        panic!("reserved")
    };
    assert_eq!(third.editions, vec![1]);
    assert!(store.order_by_id(third.id + 100).await.unwrap().is_none());
    // The staff overview: newest first, by status, and counts.
    let all: Vec<i64> = store
        .list_orders(None, 10)
        .await
        .unwrap()
        .iter()
        .map(|o| o.id)
        .collect();
    assert_eq!(all, vec![third.id, second.id, first.id]);
    let expired: Vec<i64> = store
        .list_orders(Some(OrderStatus::Expired), 1)
        .await
        .unwrap()
        .iter()
        .map(|o| o.id)
        .collect();
    assert_eq!(expired, vec![second.id]);
    let mut counts = store.order_counts().await.unwrap();
    counts.sort_by_key(|(s, _)| s.code());
    assert_eq!(
        counts,
        vec![(OrderStatus::Expired, 2), (OrderStatus::Reserved, 1)]
    );
    third
}

async fn payments(store: &Arc<dyn Store>, first: &OrderRecord, third: &OrderRecord) {
    let pay = async |id: &str, amount: Fen, at: i64| {
        store.record_paid(id, amount, UnixMillis(at)).await.unwrap()
    };
    let status = async |order_id: i64| store.order_by_id(order_id).await.unwrap().unwrap().status;
    let due = async |at: i64| store.due_mint_jobs(UnixMillis(at), 10).await.unwrap();
    // Payments: recorded once, with the mint job in the same step.
    let payment = PaymentRecord {
        id: "sbx_1".into(),
        order_id: third.id,
        provider: "sandbox".into(),
        amount: third.amount,
        status: "created".into(),
        created_at: UnixMillis(1_401),
    };
    store.insert_payment(&payment).await.unwrap();
    assert_eq!(
        store.payment_by_id("sbx_1").await.unwrap(),
        Some(payment.clone())
    );
    assert!(store.payment_by_id("nope").await.unwrap().is_none());
    let refused = [
        ("nope", third.amount, PaidOutcome::UnknownPayment),
        ("sbx_1", Fen::price(1).unwrap(), PaidOutcome::AmountMismatch),
    ];
    for (id, amount, outcome) in refused {
        assert_eq!(pay(id, amount, 1_402).await, outcome);
    }
    assert!(due(2_000).await.is_empty());
    for (at, outcome) in [
        (1_403, PaidOutcome::Paid),
        (1_404, PaidOutcome::AlreadyRecorded),
    ] {
        assert_eq!(pay("sbx_1", third.amount, at).await, outcome);
    }
    assert_eq!(status(third.id).await, OrderStatus::Paid);
    assert_eq!(
        store.expire_due(UnixMillis(9_999), 10).await.unwrap(),
        Vec::<i64>::new(),
        "paid orders never expire"
    );
    let jobs = due(1_403).await;
    assert_eq!(
        jobs,
        vec![MintJob {
            order_id: third.id,
            attempts: 0
        }]
    );
    store
        .retry_mint(third.id, "chain busy", UnixMillis(5_000))
        .await
        .unwrap();
    assert!(due(4_999).await.is_empty());
    assert_eq!(due(5_000).await[0].attempts, 1);
    assert_eq!(store.mint_of_order(third.id).await.unwrap(), None);
    store
        .complete_mint(
            third.id,
            &Minted {
                tx_hash: "abcd".into(),
                height: 7,
                at: UnixMillis(5_001),
            },
        )
        .await
        .unwrap();
    assert_eq!(
        store.mint_of_order(third.id).await.unwrap(),
        Some(("abcd".to_owned(), 7))
    );
    assert_eq!(status(third.id).await, OrderStatus::Minted);
    assert!(due(9_000).await.is_empty());

    // A payment for a lapsed order is kept for refund and changes nothing else.
    let late = PaymentRecord {
        id: "sbx_2".into(),
        order_id: first.id,
        amount: first.amount,
        ..payment
    };
    store.insert_payment(&late).await.unwrap();
    assert_eq!(
        pay("sbx_2", first.amount, 9_001).await,
        PaidOutcome::RefundRequired
    );
    assert_eq!(status(first.id).await, OrderStatus::Expired);
    assert_eq!(
        store.payment_by_id("sbx_2").await.unwrap().unwrap().status,
        "refund_required"
    );
}

async fn complaints(store: &Arc<dyn Store>, alice: i64) {
    // Complaints: stored and found by ticket.
    let complaint = ComplaintRecord {
        ticket: "TS20261128-ABCDEF".into(),
        category: "fraud".into(),
        target: "某账号".into(),
        text: "冒充客服诈骗".into(),
        contact: None,
        account_id: Some(alice),
        ip: "127.0.0.1".into(),
        status: "received".into(),
        created_at: UnixMillis(42),
    };
    store.insert_complaint(&complaint).await.unwrap();
    assert_eq!(
        store
            .complaint_by_ticket("TS20261128-ABCDEF")
            .await
            .unwrap(),
        Some(complaint)
    );
    assert!(
        store
            .complaint_by_ticket("TS-NONE")
            .await
            .unwrap()
            .is_none()
    );
}

/// A purchase of `quantity` editions of the story's first drop, open from
/// 1,000 to 2,000 ms with a limit of 2 per account.
fn reservation(drop_id: i64, account_id: i64, quantity: u32, key: &str, now: i64) -> Reservation {
    Reservation {
        drop_id,
        account_id,
        quantity,
        now: UnixMillis(now),
        expires_at: UnixMillis(now + 100),
        idempotency_key: key.into(),
        request_hash: format!("q{quantity}"),
        terms: story_terms,
    }
}

/// The story's terms, whatever the drop: open from 1,000 to 2,000 ms, a
/// limit of 2 per account, 9.90 yuan each.
fn story_terms(drop: &DropRecord, quantity: u32) -> Option<PurchaseTerms> {
    assert!(
        drop.drop.supply > 0,
        "the store hands the rule the stored drop"
    );
    Some(PurchaseTerms {
        opens_at: UnixMillis(1_000),
        closes_at: UnixMillis(2_000),
        per_account_limit: 2,
        amount: Fen::price(990).unwrap().times(u64::from(quantity)).unwrap(),
    })
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
    assert!(with_phone(&store, "13800000001").await.is_some());
    store.close().await;
}

#[tokio::test]
async fn story_on_postgres() {
    let Some(db) = TempPgDatabase::for_test("story_on_postgres").await else {
        return;
    };
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
