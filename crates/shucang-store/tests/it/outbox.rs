//! The registry's outbox on a real database: messages stored with the
//! step that produced them, delivered by the notifier, retried with
//! doubling back-off when a sender fails, given up after the last attempt
//! — and a failed send never touches what was decided.

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

use async_trait::async_trait;
use shucang_notify::{
    ATTEMPTS_MAX, Channel, NewMessage, Notifier, RETRY_DELAY_FIRST_MS, SandboxSender, SendError,
    Sender, Status,
};
use shucang_registry::{NewUser, UserRole};
use shucang_store::RegistryBackend;
use shucang_store::test_support::TempPgDatabase;
use shucang_types::{ManualClock, UnixMillis};

/// An SMS gateway that is down for its first `failures` calls (the
/// gateway is outside the project; this stands in for its answers).
struct FlakyGateway {
    failures: u32,
    calls: AtomicU32,
}

impl FlakyGateway {
    fn down_for(failures: u32) -> Arc<FlakyGateway> {
        Arc::new(FlakyGateway {
            failures,
            calls: AtomicU32::new(0),
        })
    }
}

#[async_trait]
impl Sender for FlakyGateway {
    async fn send(&self, _message: &NewMessage) -> Result<(), SendError> {
        let n = self.calls.fetch_add(1, Ordering::SeqCst);
        if n < self.failures {
            Err(SendError(format!("gateway unavailable (call {})", n + 1)))
        } else {
            Ok(())
        }
    }
}

async fn retries(store: Arc<dyn RegistryBackend>) {
    let t0 = UnixMillis(1_800_000_000_000);
    let clock = Arc::new(ManualClock::new(t0));
    let messages = [
        NewMessage {
            channel: Channel::Sms,
            recipient: "13912345678".into(),
            subject: String::new(),
            body: "验证码 123456".into(),
        },
        NewMessage {
            channel: Channel::Email,
            recipient: "a@example.cn".into(),
            subject: "确认".into(),
            body: "链接".into(),
        },
    ];
    let user = NewUser {
        role: UserRole::Filer,
        name: "张三".into(),
        phone: "13912345678".into(),
        email: "a@example.cn".into(),
        password_hash: "$argon2id$test".into(),
        phone_code_hash: Some("h".into()),
        email_token_hash: Some("e".into()),
        verify_expires_at: t0.plus_ms(60_000),
        confirmed: false,
        created_at: t0,
    };
    let id = store.insert_user(&user, &messages).await.unwrap();
    // Notifiers with this SMS gateway (e-mail always goes out).
    let notifier_with = |sms: Arc<FlakyGateway>| {
        Notifier::new(
            store.clone(),
            (sms, Arc::new(SandboxSender)),
            clock.clone(),
            shucang_notify::BodySeal::new(Arc::new(shucang_platform::PiiCipher::new(&[7; 32]))),
        )
    };

    // The SMS gateway fails twice, then works: retried after 30 s, then 60 s.
    let gateway = FlakyGateway::down_for(2);
    let notifier = notifier_with(gateway.clone());
    let pass = notifier.deliver_due().await.unwrap();
    assert_eq!((pass.sent, pass.retrying, pass.failed), (1, 1, 0));
    assert_eq!(notifier.deliver_due().await.unwrap().sent, 0, "not due yet");
    clock.advance_ms(RETRY_DELAY_FIRST_MS);
    assert_eq!(notifier.deliver_due().await.unwrap().retrying, 1);
    clock.advance_ms(RETRY_DELAY_FIRST_MS);
    assert_eq!(
        notifier.deliver_due().await.unwrap().sent,
        0,
        "the second delay doubles"
    );
    clock.advance_ms(RETRY_DELAY_FIRST_MS);
    assert_eq!(notifier.deliver_due().await.unwrap().sent, 1);
    let sms = notifier.recent(Some("13912345678"), 10).await.unwrap();
    assert_eq!((sms[0].status, sms[0].attempts), (Status::Sent, 3));
    assert!(sms[0].last_error.as_deref().unwrap().contains("call 2"));

    // A gateway that never works: the message is given up after the last
    // attempt; the user it was about is untouched.
    store
        .insert_user(
            &NewUser {
                phone: "13812345678".into(),
                email: "b@example.cn".into(),
                email_token_hash: Some("f".into()),
                ..user.clone()
            },
            &[NewMessage {
                recipient: "13812345678".into(),
                ..messages[0].clone()
            }],
        )
        .await
        .unwrap();
    let down = FlakyGateway::down_for(u32::MAX);
    let notifier = notifier_with(down.clone());
    let mut failed = 0;
    for _ in 0..ATTEMPTS_MAX * 2 {
        failed += notifier.deliver_due().await.unwrap().failed;
        clock.advance_ms(RETRY_DELAY_FIRST_MS << 10);
    }
    assert_eq!(failed, 1);
    assert_eq!(down.calls.load(Ordering::SeqCst), ATTEMPTS_MAX);
    let gone = notifier.recent(Some("13812345678"), 10).await.unwrap();
    assert_eq!(
        (gone[0].status, gone[0].attempts),
        (Status::Failed, ATTEMPTS_MAX)
    );
    assert!(store.user_by_id(id).await.unwrap().is_some());
    assert!(store.user_by_phone("13812345678").await.unwrap().is_some());
    store.close().await;
}

#[tokio::test]
async fn the_outbox_retries_with_back_off_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("registry.db").display());
    retries(shucang_store::open_registry(&url).await.unwrap()).await;
}

#[tokio::test]
async fn the_outbox_retries_with_back_off_on_postgres() {
    let Some(db) = TempPgDatabase::for_test("the outbox retries").await else {
        return;
    };
    retries(shucang_store::open_registry(&db.url).await.unwrap()).await;
    db.drop_database().await.unwrap();
}
