//! Accounts and sessions over HTTP.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::harness::{MINUTE_MS, TestApp, assert_error};
use crate::support::{assert_signed_out, on_postgres};

const PHONE: &str = "13800138000";
const PASSWORD: &str = "Shucang#2026";

#[tokio::test]
async fn register_login_me_logout() {
    let app = TestApp::spawn().await;
    let res = app.register("+86 138-0013-8000", PASSWORD).await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let created: Value = res.json().await.unwrap();
    let id = created["id"].as_i64().unwrap();

    let res = app.login(PHONE, PASSWORD).await;
    assert_eq!(res.status(), StatusCode::OK);
    let cookie = res
        .headers()
        .get("set-cookie")
        .unwrap()
        .to_str()
        .unwrap()
        .to_owned();
    let body: Value = res.json().await.unwrap();
    let token = body["token"].as_str().unwrap().to_owned();
    assert!(token.len() >= 43, "256-bit token");
    assert_eq!(body["idle_timeout_seconds"], 1800);
    assert!(
        cookie.starts_with(&format!("shucang_session={token};")),
        "{cookie}"
    );
    assert!(cookie.contains("HttpOnly"), "{cookie}");
    assert!(cookie.contains("SameSite=Lax"), "{cookie}");
    assert!(cookie.contains("Path=/"), "{cookie}");

    // Bearer token.
    let res = app.get("/api/v1/me", Some(&token)).await;
    assert_eq!(res.status(), StatusCode::OK);
    let me: Value = res.json().await.unwrap();
    assert_eq!(me["id"], id);
    assert_eq!(me["phone"], PHONE);
    assert_eq!(me["role"], "collector");
    assert_eq!(me["created_at"], "2026-11-28T00:00:00.000Z");

    // The cookie works the same way.
    let res = app
        .client
        .get(app.url("/api/v1/me"))
        .header("cookie", format!("theme=dark; shucang_session={token}"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);

    // Logging in with any accepted spelling of the phone works.
    app.token("+8613800138000", PASSWORD).await;

    // Log out: the session is gone, the cookie is cleared.
    let res = logout(&app, &token).await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    let cleared = res.headers().get("set-cookie").unwrap().to_str().unwrap();
    assert!(cleared.contains("Max-Age=0"), "{cleared}");
    assert_signed_out(&app, &token).await;
    let res = logout(&app, &token).await;
    assert_error(res, StatusCode::UNAUTHORIZED, "unauthenticated").await;
    app.stop().await;
}

#[tokio::test]
async fn bad_phone_numbers_are_refused_and_change_nothing() {
    let app = TestApp::spawn().await;
    for phone in [
        "",
        "12345",
        "12800138000",
        "138001380001",
        "+85213800138000",
        "138-0013-800O",
        "１３８００１３８０００",
    ] {
        // Neither step takes it: no code is sent, no account made.
        let asks = app
            .post_json("/api/v1/accounts/codes", &json!({ "phone": phone }))
            .await;
        let registers = app
            .post_json(
                "/api/v1/accounts",
                &json!({ "phone": phone, "code": "123456", "password": PASSWORD }),
            )
            .await;
        for res in [asks, registers] {
            let body = assert_error(res, StatusCode::UNPROCESSABLE_ENTITY, "invalid_phone").await;
            assert!(
                body["error"]["message"]
                    .as_str()
                    .unwrap()
                    .contains("mobile")
            );
        }
    }
    assert_eq!(app.account_rows().await, 0);
    let sent = app.notifier.recent(None, 10).await.unwrap();
    assert!(sent.is_empty(), "{sent:?}");
    app.stop().await;
}

#[tokio::test]
async fn weak_passwords_are_refused_and_change_nothing() {
    let app = TestApp::spawn().await;
    // A weak password is refused before the code is looked at, so it
    // spends none of the code's five tries.
    let code = app.registration_code(PHONE).await.unwrap();
    for password in [
        "Ab1!",
        "abcdefgh",
        "abcd1234",
        "ABCD!@#$",
        "Ab13800138000",
        "x13800138000Y",
    ] {
        let res = app.register_with(PHONE, &code, password).await;
        assert_error(res, StatusCode::UNPROCESSABLE_ENTITY, "weak_password").await;
    }
    assert_eq!(app.account_rows().await, 0);
    let res = app.register_with(PHONE, &code, PASSWORD).await;
    assert_eq!(res.status(), StatusCode::CREATED);
    app.stop().await;
}

#[tokio::test]
async fn duplicate_phone_is_refused_and_keeps_the_first_password() {
    let app = TestApp::spawn().await;
    register(&app).await;
    // A registered number gets no code (the SMS says it is registered), so
    // registering it again fails as a wrong code does.
    assert_eq!(app.registration_code("+86 13800138000").await, None);
    let res = app
        .register_with("+86 13800138000", "123456", "Other#Pass99")
        .await;
    assert_error(res, StatusCode::UNPROCESSABLE_ENTITY, "invalid_code").await;
    assert_eq!(app.account_rows().await, 1);
    refused_login(&app, PHONE, "Other#Pass99", "invalid_credentials").await;
    app.token(PHONE, PASSWORD).await;
    app.stop().await;
}

#[tokio::test]
async fn malformed_requests_get_json_errors_and_change_nothing() {
    let app = TestApp::spawn().await;
    let url = app.url("/api/v1/accounts");
    let send = |body: &'static str, content_type: &'static str| {
        app.client
            .post(&url)
            .header("content-type", content_type)
            .body(body)
            .send()
    };
    const JSON: &str = "application/json";
    for (body, content_type, status, code) in [
        (
            "{\"phone\":",
            JSON,
            StatusCode::BAD_REQUEST,
            "malformed_json",
        ),
        ("not json", JSON, StatusCode::BAD_REQUEST, "malformed_json"),
        (
            "{\"phone\":\"13800138000\",\"password\":\"Shucang#2026\"}",
            "text/plain",
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
        ),
        (
            "{\"phone\":\"13800138000\"}",
            JSON,
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_body",
        ),
        (
            "{\"phone\":13800138000,\"password\":\"Shucang#2026\"}",
            JSON,
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_body",
        ),
        (
            "{\"phone\":\"13800138000\",\"password\":\"Shucang#2026\",\"role\":\"system_admin\"}",
            JSON,
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_body",
        ),
        ("[]", JSON, StatusCode::UNPROCESSABLE_ENTITY, "invalid_body"),
    ] {
        assert_error(send(body, content_type).await.unwrap(), status, code).await;
    }

    // Over 1 MiB: 413, whether or not the length is announced.
    let big = format!(
        "{{\"phone\":\"13800138000\",\"password\":\"{}\"}}",
        "A1a!".repeat(300_000)
    );
    let res = app
        .client
        .post(&url)
        .header("content-type", "application/json")
        .body(big.clone())
        .send()
        .await
        .unwrap();
    assert_error(res, StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large").await;
    let (status, body) =
        crate::http::chunked_post(app.addr, "/api/v1/accounts", big.as_bytes()).await;
    assert_eq!(status, 413, "{body}");
    assert!(body.contains("payload_too_large"), "{body}");

    // Unknown routes and wrong methods.
    for (path, status, code) in [
        ("/api/v1/nope", StatusCode::NOT_FOUND, "not_found"),
        (
            "/api/v1/accounts",
            StatusCode::METHOD_NOT_ALLOWED,
            "method_not_allowed",
        ),
    ] {
        assert_error(app.get(path, None).await, status, code).await;
    }

    assert_eq!(app.account_rows().await, 0);
    app.stop().await;
}

#[tokio::test]
async fn wrong_credentials_look_the_same_whether_or_not_the_phone_exists() {
    let app = TestApp::spawn().await;
    register(&app).await;
    let wrong_password = refused_login(&app, PHONE, "Wrong#Pass1", "invalid_credentials").await;
    let unknown_phone = refused_login(&app, "13900139000", PASSWORD, "invalid_credentials").await;
    let not_a_phone = refused_login(&app, "hello", PASSWORD, "invalid_credentials").await;
    assert_eq!(wrong_password, unknown_phone);
    assert_eq!(wrong_password, not_a_phone);
    assert_eq!(app.account_rows().await, 1);
    app.stop().await;
}

#[tokio::test]
async fn five_failures_lock_the_account_for_thirty_minutes() {
    let app = TestApp::spawn().await;
    register(&app).await;

    // A success resets the count: 4 failures, success, 4 failures, no lock.
    wrong_logins(&app, 4).await;
    app.token(PHONE, PASSWORD).await;
    wrong_logins(&app, 4).await;
    // The fifth consecutive failure locks.
    refused_login(&app, PHONE, "Wrong#Pass1", "account_locked").await;
    // While locked, even the right password is refused.
    let body = refused_login(&app, PHONE, PASSWORD, "account_locked").await;
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("2026-11-28T00:30:00.000Z"),
        "{body}"
    );
    app.clock.advance_ms(29 * MINUTE_MS);
    refused_login(&app, PHONE, PASSWORD, "account_locked").await;
    app.clock.advance_ms(MINUTE_MS);
    app.token(PHONE, PASSWORD).await;
    // After the lock the count starts again from zero.
    wrong_logins(&app, 4).await;
    app.token(PHONE, PASSWORD).await;
    app.stop().await;
}

#[tokio::test]
async fn sessions_expire_after_thirty_idle_minutes() {
    let app = TestApp::spawn().await;
    register(&app).await;
    let token = app.token(PHONE, PASSWORD).await;
    // Use keeps the session alive.
    for _ in 0..3 {
        app.clock.advance_ms(29 * MINUTE_MS);
        assert_eq!(
            app.get("/api/v1/me", Some(&token)).await.status(),
            StatusCode::OK
        );
    }
    // Thirty idle minutes end it, for good.
    app.clock.advance_ms(30 * MINUTE_MS);
    assert_signed_out(&app, &token).await;
    app.clock.advance_ms(-60 * MINUTE_MS);
    assert_signed_out(&app, &token).await;
    app.stop().await;
}

#[tokio::test]
async fn account_story_on_postgres() {
    on_postgres("account_story_on_postgres", |url| async move {
        let app = TestApp::spawn_with(Some(url)).await;
        register(&app).await;
        let again = app.register(PHONE, PASSWORD).await;
        assert_error(again, StatusCode::UNPROCESSABLE_ENTITY, "invalid_code").await;
        assert!(app.last_sms(PHONE).await.contains("该号码已注册"));
        wrong_logins(&app, 4).await;
        refused_login(&app, PHONE, "Wrong#Pass1", "account_locked").await;
        app.clock.advance_ms(30 * MINUTE_MS);
        let token = app.token(PHONE, PASSWORD).await;
        let me = app.me(&token).await;
        assert_eq!(me["phone"], PHONE);
        app.clock.advance_ms(30 * MINUTE_MS);
        assert_signed_out(&app, &token).await;
        app.stop().await;
    })
    .await;
}

#[tokio::test]
async fn concurrent_registrations_of_one_phone_create_one_account() {
    let app = TestApp::spawn().await;
    let code = app.registration_code(PHONE).await.unwrap();
    let mut tasks = Vec::new();
    for _ in 0..8 {
        let client = app.client.clone();
        let url = app.url("/api/v1/accounts");
        let body = json!({ "phone": PHONE, "code": code, "password": PASSWORD });
        tasks.push(tokio::spawn(async move {
            client.post(url).json(&body).send().await.unwrap().status()
        }));
    }
    let mut created = 0;
    for t in tasks {
        match t.await.unwrap() {
            StatusCode::CREATED => created += 1,
            // The code is used up by the first; a late one may still meet
            // the account's uniqueness rule.
            StatusCode::UNPROCESSABLE_ENTITY | StatusCode::CONFLICT => {}
            other => panic!("unexpected {other}"),
        }
    }
    assert_eq!(created, 1);
    assert_eq!(app.account_rows().await, 1);
    app.stop().await;
}

/// `n` logins with a wrong password, each answered 401 `invalid_credentials`.
async fn wrong_logins(app: &TestApp, n: usize) {
    for _ in 0..n {
        refused_login(app, PHONE, "Wrong#Pass1", "invalid_credentials").await;
    }
}

/// Registers [`PHONE`] with [`PASSWORD`]: answered 201.
async fn register(app: &TestApp) {
    assert_eq!(
        app.register(PHONE, PASSWORD).await.status(),
        StatusCode::CREATED
    );
}

/// A login refused with `code` (401, or 423 when the account is locked);
/// returns the answer's body.
async fn refused_login(app: &TestApp, phone: &str, password: &str, code: &str) -> Value {
    let status = match code {
        "account_locked" => StatusCode::LOCKED,
        _ => StatusCode::UNAUTHORIZED,
    };
    assert_error(app.login(phone, password).await, status, code).await
}

/// Logs out: `DELETE /api/v1/sessions/current` with `token`.
async fn logout(app: &TestApp, token: &str) -> reqwest::Response {
    app.client
        .delete(app.url("/api/v1/sessions/current"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn registration_answers_do_not_say_who_is_registered() {
    let app = TestApp::spawn().await;
    register(&app).await;
    const STRANGER: &str = "13900139000";
    // Asking for a code answers the same for both numbers.
    let mut answers = Vec::new();
    for phone in [PHONE, STRANGER] {
        let res = app
            .post_json("/api/v1/accounts/codes", &json!({ "phone": phone }))
            .await;
        assert_eq!(res.status(), StatusCode::ACCEPTED);
        answers.push(res.json::<Value>().await.unwrap());
    }
    assert_eq!(answers[0], answers[1]);
    assert_eq!(
        answers[0],
        json!({ "sent": true, "expires_in_seconds": 600 })
    );
    // The SMS tells the owner instead: a notice, no code.
    let notice = app.last_sms(PHONE).await;
    assert!(notice.contains("该号码已注册"), "{notice}");
    assert_eq!(crate::support::sms_code(&notice), None);
    let code = crate::support::sms_code(&app.last_sms(STRANGER).await).unwrap();
    // Registering either with a code not sent to it: the same refusal.
    let wrong = if code == "000000" { "111111" } else { "000000" };
    for phone in [PHONE, STRANGER] {
        let res = app.register_with(phone, wrong, "Other#Pass99").await;
        assert_error(res, StatusCode::UNPROCESSABLE_ENTITY, "invalid_code").await;
    }
    let res = app.register_with(STRANGER, &code, PASSWORD).await;
    assert_eq!(res.status(), StatusCode::CREATED);
    // A code works once.
    let res = app.register_with(STRANGER, &code, PASSWORD).await;
    assert_error(res, StatusCode::UNPROCESSABLE_ENTITY, "invalid_code").await;
    assert_eq!(app.account_rows().await, 2);
    app.stop().await;
}

#[tokio::test]
async fn registration_codes_expire_and_are_kept_only_as_keyed_hashes() {
    let app = TestApp::spawn().await;
    let code = app.registration_code(PHONE).await.unwrap();
    // At rest: the code is a keyed hash, the SMS body sealed.
    let (hash, attempts) = app.phone_code_row().await;
    assert_eq!(attempts, 0);
    assert_eq!(hash.len(), 64);
    assert!(!hash.contains(&code));
    let bodies = app.outbox_bodies_at_rest().await;
    assert_eq!(bodies.len(), 1);
    assert!(!bodies[0].contains(&code) && !bodies[0].contains("验证码"));
    // Ten minutes later it is refused; a new one works.
    app.clock.advance_ms(10 * MINUTE_MS);
    let res = app.register_with(PHONE, &code, PASSWORD).await;
    assert_error(res, StatusCode::UNPROCESSABLE_ENTITY, "invalid_code").await;
    assert_eq!(app.account_rows().await, 0);
    register(&app).await;
    app.stop().await;
}

#[tokio::test]
async fn registration_codes_are_limited_per_number_and_per_address() {
    let owned = TestApp::spawn_configured(|c| c.accounts.codes_per_ip_per_hour = 8).await;
    let app = &owned;
    let ask = |phone: &'static str| async move {
        app.post_json("/api/v1/accounts/codes", &json!({ "phone": phone }))
            .await
    };
    // Five codes an hour to one number (the sixth is refused, and no SMS
    // goes out for it), whether or not the number is registered.
    for _ in 0..5 {
        assert_eq!(ask(PHONE).await.status(), StatusCode::ACCEPTED);
    }
    assert_error(
        ask(PHONE).await,
        StatusCode::TOO_MANY_REQUESTS,
        "rate_limited",
    )
    .await;
    assert_eq!(app.notifier.recent(Some(PHONE), 20).await.unwrap().len(), 5);
    // Eight an hour from one address: two more numbers, then no more.
    for phone in ["13900000001", "13900000002"] {
        assert_eq!(ask(phone).await.status(), StatusCode::ACCEPTED);
    }
    assert_error(
        ask("13900000003").await,
        StatusCode::TOO_MANY_REQUESTS,
        "rate_limited",
    )
    .await;
    app.clock.advance_ms(60 * MINUTE_MS);
    assert_eq!(ask(PHONE).await.status(), StatusCode::ACCEPTED);
    owned.stop().await;
}
