//! What counts attempts holds under parallel requests, over real HTTP, on
//! SQLite and PostgreSQL: a burst of wrong passwords with the right one
//! among them cannot log in past the lock, and a burst of SMS-code guesses
//! gets no more tries than the limit.

use std::collections::BTreeMap;

use reqwest::StatusCode;
use serde_json::json;
use shucang_types::Phone;

use crate::harness::{MINUTE_MS, TestApp, assert_error};
use crate::registry::{PASSWORD as FILER_PASSWORD, Reg};
use crate::support::{join_all, on_each_store, tally};

const PHONE: &str = "13800138000";
const PASSWORD: &str = "Shucang#2026";
/// Wrong passwords in one burst (the review's reproduction: 39 and the
/// right one).
const WRONG: usize = 39;
/// The right password's place in the burst.
const RIGHT_AT: usize = 20;
/// Failures that lock, in both applications.
const FAILURES_MAX: usize = 5;

/// What a burst of `WRONG` wrong passwords and the right one may answer,
/// however the requests interleave: the right one logs in only if it was
/// decided before the fifth failure, so at most one success and at most
/// twice four plain refusals; every other answer is "locked".
fn assert_burst_held(statuses: &[StatusCode], ok: StatusCode) {
    let t = tally(statuses);
    let count = |s: StatusCode| t.get(&s.as_u16()).copied().unwrap_or(0);
    let (wins, refused, locked) = (
        count(ok),
        count(StatusCode::UNAUTHORIZED),
        count(StatusCode::LOCKED),
    );
    assert_eq!(
        wins + refused + locked,
        WRONG + 1,
        "only these answers: {t:?}"
    );
    assert!(wins <= 1, "{t:?}");
    assert!(refused <= 2 * (FAILURES_MAX - 1), "{t:?}");
    assert!(locked >= WRONG + 1 - 2 * (FAILURES_MAX - 1) - 1, "{t:?}");
}

/// The passwords of one burst: `WRONG` wrong ones and `right` at
/// `RIGHT_AT`.
fn burst(right: &'static str) -> impl Iterator<Item = &'static str> {
    (0..=WRONG).map(move |i| if i == RIGHT_AT { right } else { "Wrong#Pass12" })
}

/// Three rounds of a burst, each after the previous lock ended, on the
/// database at `url` (SQLite when `None`).
async fn platform_lockout_holds(url: Option<String>) {
    let owned = TestApp::spawn_with(url).await;
    let app = &owned;
    assert_eq!(
        app.register(PHONE, PASSWORD).await.status(),
        StatusCode::CREATED
    );
    let phone = Phone::parse(PHONE).unwrap();
    for round in 0..3 {
        let attempts = burst(PASSWORD).map(|p| async move { app.login(PHONE, p).await.status() });
        let statuses = join_all(attempts).await;
        assert_burst_held(&statuses, StatusCode::OK);
        // After any burst the account is locked, and stays locked for the
        // right password too.
        let after = app.login(PHONE, PASSWORD).await;
        assert_error(after, StatusCode::LOCKED, "account_locked").await;
        let row = app.store.account_by_phone(&phone).await.unwrap().unwrap();
        assert!(row.locked_until.is_some(), "round {round}");
        assert!(row.failed_logins < FAILURES_MAX as u32, "round {round}");
        app.clock.advance_ms(30 * MINUTE_MS);
    }
    // Once the lock has ended, the right password works again.
    assert_eq!(app.login(PHONE, PASSWORD).await.status(), StatusCode::OK);
    owned.stop().await;
}

#[tokio::test]
async fn parallel_guesses_cannot_log_in_past_the_platform_lockout() {
    on_each_store("platform lockout race", platform_lockout_holds).await;
}

const FILER_PHONE: &str = "13912345678";

async fn registry_lockout_holds(url: Option<String>) {
    let owned = Reg::spawn(url).await;
    let reg = &owned;
    reg.filer("张三", FILER_PHONE, "zhangsan@example.cn").await;
    for round in 0..3 {
        let attempts = burst(FILER_PASSWORD).map(|password| async move {
            let body = json!({"phone": FILER_PHONE, "password": password});
            reg.post("/api/v1/sessions", None, &body).await.status()
        });
        let statuses = join_all(attempts).await;
        assert_burst_held(&statuses, StatusCode::CREATED);
        let body = json!({"phone": FILER_PHONE, "password": FILER_PASSWORD});
        let after = reg.post("/api/v1/sessions", None, &body).await;
        assert_error(after, StatusCode::LOCKED, "account_locked").await;
        let user = reg.store.user_by_phone(FILER_PHONE).await.unwrap().unwrap();
        assert!(user.locked_until.is_some(), "round {round}");
        assert!(user.failed_logins < FAILURES_MAX as u32, "round {round}");
        reg.clock.advance_ms(30 * MINUTE_MS);
    }
    reg.login(FILER_PHONE).await;
    owned.stop().await;
}

#[tokio::test]
async fn parallel_guesses_cannot_log_in_past_the_registry_lockout() {
    on_each_store("registry lockout race", registry_lockout_holds).await;
}

/// 30 code guesses sent at once through `send`, the right `code` tenth:
/// every answer is either `accepted` or `refused`, and at most one is
/// `accepted`. How many were, and the tally.
async fn code_burst(
    code: &str,
    (accepted, refused): (u16, u16),
    send: impl AsyncFn(&str) -> StatusCode,
) -> (usize, BTreeMap<u16, usize>) {
    let wrong = if code == "000000" { "111111" } else { "000000" };
    let send = &send;
    let guesses = (0..30).map(|i| async move { send(if i == 9 { code } else { wrong }).await });
    let t = tally(&join_all(guesses).await);
    let ok = t.get(&accepted).copied().unwrap_or(0);
    assert!(ok <= 1, "{t:?}");
    assert_eq!(t.get(&refused).copied().unwrap_or(0) + ok, 30, "{t:?}");
    (ok, t)
}

/// 30 guesses at once, the right code tenth: no more than five are ever
/// compared, so the attempts stop at five and the number is confirmed
/// only if the right code was among them; otherwise even the right code is
/// refused afterwards.
async fn sms_code_limit_holds(url: Option<String>) {
    let owned = Reg::spawn(url).await;
    let reg = &owned;
    for (n, phone) in ["13900000001", "13900000002", "13900000003"]
        .into_iter()
        .enumerate()
    {
        let body = json!({"name": "李四", "phone": phone,
            "email": format!("lisi{n}@example.cn"), "password": FILER_PASSWORD});
        let res = reg.post("/api/v1/filers", None, &body).await;
        assert_eq!(res.status(), StatusCode::CREATED);
        let code = reg.sms_code(phone).await;
        let (ok, t) = code_burst(&code, (200, 400), async |guess| {
            let body = json!({"phone": phone, "code": guess});
            let res = reg.post("/api/v1/filers/verify-phone", None, &body).await;
            res.status()
        })
        .await;
        let user = reg.store.user_by_phone(phone).await.unwrap().unwrap();
        // Only the five counted attempts were compared; once the right code
        // has confirmed the number, no code is accepted any more.
        assert_eq!(user.phone_verified, ok == 1, "{t:?}");
        if !user.phone_verified {
            assert_eq!(user.phone_code_attempts, 5, "{t:?}");
            let late = json!({"phone": phone, "code": code});
            let res = reg.post("/api/v1/filers/verify-phone", None, &late).await;
            assert_error(res, StatusCode::BAD_REQUEST, "verification_failed").await;
        } else {
            assert!(user.phone_code_attempts <= 5, "{t:?}");
        }
    }
    owned.stop().await;
}

#[tokio::test]
async fn parallel_sms_code_guesses_get_no_more_than_five_tries() {
    on_each_store("SMS-code race", sms_code_limit_holds).await;
}

/// The platform's registration code under the same burst: 30 attempts at
/// once, the right code tenth. Each attempt is spent before the code is
/// compared, so the account is made only if the right code was among the
/// first five; otherwise even the right code is refused afterwards.
async fn registration_code_limit_holds(url: Option<String>) {
    let owned = TestApp::spawn_with(url).await;
    let app = &owned;
    for phone in ["13900000001", "13900000002", "13900000003"] {
        let code = app.registration_code(phone).await.unwrap();
        let (created, t) = code_burst(&code, (201, 422), async |guess| {
            app.register_with(phone, guess, PASSWORD).await.status()
        })
        .await;
        let phone = Phone::parse(phone).unwrap();
        let account = app.accounts.account_by_phone(&phone).await.unwrap();
        assert_eq!(account.is_some(), created == 1, "{t:?}");
        if created == 0 {
            let res = app.register_with(phone.as_str(), &code, PASSWORD).await;
            assert_error(res, StatusCode::UNPROCESSABLE_ENTITY, "invalid_code").await;
        }
    }
    owned.stop().await;
}

#[tokio::test]
async fn parallel_registration_code_guesses_get_no_more_than_five_tries() {
    on_each_store("registration-code race", registration_code_limit_holds).await;
}

/// A verified buyer holding one minted collectible: its gift path and the
/// buyer's token (phone 13700000900, password `Shucang#2026`).
async fn holder(app: &TestApp) -> (String, String) {
    let (d, work, alice) = crate::payments::market(app).await;
    let editions = crate::collectibles::buy_and_mint(app, &alice, d, "k1", 1).await;
    let path = format!("/api/v1/collectibles/work-{work}/{}/gifts", editions[0]);
    (path, alice)
}

/// Wrong gift confirmations count with the login failures: a burst of 15
/// at once locks the account (at most twice four refused as wrong, the
/// rest locked), after which the right password neither confirms a gift
/// nor logs in until the lock ends.
async fn gift_confirmations_hold(url: Option<String>) {
    let owned = TestApp::spawn_with(url).await;
    let app = &owned;
    let (path, alice) = holder(app).await;
    let wrong = json!({"to_phone": "13700000901", "password": "Wrong#Pass12"});
    let burst = (0..15).map(|_| async { app.post_as(&path, &alice, &wrong).await.status() });
    let t = tally(&join_all(burst).await);
    let refused = t.get(&403).copied().unwrap_or(0);
    let locked = t.get(&423).copied().unwrap_or(0);
    assert_eq!(refused + locked, 15, "{t:?}");
    assert!(refused <= 2 * (FAILURES_MAX - 1), "{t:?}");
    let right = json!({"to_phone": "13700000901", "password": "Shucang#2026"});
    let res = app.post_as(&path, &alice, &right).await;
    assert_error(res, StatusCode::LOCKED, "account_locked").await;
    let login = app.login("13700000900", "Shucang#2026").await;
    assert_error(login, StatusCode::LOCKED, "account_locked").await;
    owned.stop().await;
}

#[tokio::test]
async fn parallel_wrong_gift_confirmations_lock_the_account_like_logins() {
    on_each_store("gift confirmation race", gift_confirmations_hold).await;
}

/// Self-registrations from one address are limited per hour (10 by
/// default), decided in one atomic statement: 16 at once make 10.
async fn registrations_per_address_hold(url: Option<String>) {
    let owned = TestApp::spawn_configured_with(url, |c| {
        c.accounts.registrations_per_ip_per_hour = 10;
    })
    .await;
    let app = &owned;
    let burst = (0..16).map(|n| async move {
        let res = app.register(&format!("1370000{n:04}"), PASSWORD).await;
        res.status()
    });
    let t = tally(&join_all(burst).await);
    assert_eq!(t, BTreeMap::from([(201, 10), (429, 6)]), "{t:?}");
    let res = app.register("13700009999", PASSWORD).await;
    assert_error(res, StatusCode::TOO_MANY_REQUESTS, "rate_limited").await;
    // An hour later the address may register again.
    app.clock.advance_ms(60 * MINUTE_MS);
    let res = app.register("13700009999", PASSWORD).await;
    assert_eq!(res.status(), StatusCode::CREATED);
    owned.stop().await;
}

#[tokio::test]
async fn self_registrations_are_limited_per_address() {
    on_each_store("registration limit", registrations_per_address_hold).await;
}

/// Gift attempts are bounded per account (20 an hour), so gifting cannot
/// probe who is registered: 30 attempts at once at numbers nobody holds
/// get 20 answers and 10 refusals.
async fn gift_attempts_hold(url: Option<String>) {
    let owned = TestApp::spawn_with(url).await;
    let app = &owned;
    let (path, alice) = holder(app).await;
    let (path, alice) = (&path, &alice);
    let burst = (0..30).map(|n| async move {
        let body = json!({"to_phone": format!("1360000{n:04}"), "password": "Shucang#2026"});
        app.post_as(path, alice, &body).await.status()
    });
    let t = tally(&join_all(burst).await);
    assert_eq!(t, BTreeMap::from([(422, 20), (429, 10)]), "{t:?}");
    owned.stop().await;
}

#[tokio::test]
async fn gift_attempts_are_limited_per_account() {
    on_each_store("gift attempt limit", gift_attempts_hold).await;
}

/// Real-name attempts are bounded per account (5 an hour): each asks the
/// provider and may say that an ID number backs another account. Eight at
/// once with a number in use get five answers and three refusals.
async fn identity_attempts_hold(url: Option<String>) {
    let owned = TestApp::spawn_with(url).await;
    let app = &owned;
    crate::identity::verified_user(app, "13800138001", "张三", "11010519900307123").await;
    let other = crate::identity::user(app, "13800138002").await;
    let body = json!({"name": "张三", "consent": true,
        "id_number": crate::identity::id_number("11010519900307123")});
    let (other, body) = (&other, &body);
    let burst = (0..8).map(|_| async move {
        crate::identity::post_identity(app, other, body)
            .await
            .status()
    });
    let t = tally(&join_all(burst).await);
    assert_eq!(t, BTreeMap::from([(409, 5), (429, 3)]), "{t:?}");
    owned.stop().await;
}

#[tokio::test]
async fn real_name_attempts_are_limited_per_account() {
    on_each_store("real-name attempt limit", identity_attempts_hold).await;
}
