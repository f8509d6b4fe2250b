//! Real-name verification over HTTP.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::harness::{TestApp, assert_error};

/// A valid ID number from its first 17 digits.
pub fn id_number(first17: &str) -> String {
    let c = shucang_types::id_check_character(first17.as_bytes());
    format!("{first17}{}", c as char)
}

/// Registers and logs in; returns the token.
pub async fn user(app: &TestApp, phone: &str) -> String {
    assert_eq!(
        app.register(phone, "Shucang#2026").await.status(),
        StatusCode::CREATED
    );
    app.token(phone, "Shucang#2026").await
}

pub async fn post_identity(app: &TestApp, token: &str, body: &Value) -> reqwest::Response {
    app.post_as("/api/v1/me/identity", token, body).await
}

/// A new account of `phone` verified as `name` with the ID number whose
/// first 17 digits are `id17`; its token.
pub async fn verified_user(app: &TestApp, phone: &str, name: &str, id17: &str) -> String {
    let token = user(app, phone).await;
    let body = json!({"name": name, "id_number": id_number(id17), "consent": true});
    let res = post_identity(app, &token, &body).await;
    assert_eq!(res.status(), StatusCode::OK);
    token
}

#[tokio::test]
async fn an_adult_is_verified_and_gets_a_chain_address() {
    let app = TestApp::spawn().await;
    let token = user(&app, "13800138001").await;
    assert!(app.me(&token).await["real_name"].is_null());
    let id = id_number("11010519900307123");
    let res = post_identity(
        &app,
        &token,
        &json!({"name": "张三", "id_number": id, "consent": true}),
    )
    .await;
    assert_eq!(res.status(), StatusCode::OK);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["verified"], true);
    assert_eq!(body["adult"], true);
    assert_eq!(body["masked_id"], format!("110105********{}", &id[14..]));
    assert_eq!(body["masked_name"], "张*");
    let address = body["address"].as_str().unwrap();
    assert!(address.starts_with("0x") && address.len() == 42);
    let me = app.me(&token).await;
    assert_eq!(me["real_name"]["address"], address);
    assert_eq!(me["real_name"]["adult"], true);

    // Stored encrypted, consent recorded.
    let (id_enc, name_enc, version, ip) = app.identity_row().await;
    assert!(!id_enc.windows(8).any(|w| w == &id.as_bytes()[..8]));
    assert!(!name_enc.windows(3).any(|w| w == "张".as_bytes()));
    assert_eq!(
        (version.as_str(), ip.as_str()),
        (shucang_platform::CONSENT_VERSION, "127.0.0.1")
    );

    // Once is enough.
    let again = post_identity(
        &app,
        &token,
        &json!({"name": "张三", "id_number": id, "consent": true}),
    )
    .await;
    assert_error(again, StatusCode::CONFLICT, "identity_already_verified").await;
    app.stop().await;
}

#[tokio::test]
async fn bad_requests_are_refused_and_store_nothing() {
    let app = TestApp::spawn().await;
    let token = user(&app, "13800138002").await;
    let good = id_number("11010519900307123");
    let cases = [
        (
            json!({"name": "张三", "id_number": good}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "consent_required",
        ),
        (
            json!({"name": "张三", "id_number": good, "consent": false}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "consent_required",
        ),
        (
            json!({"name": "张三", "id_number": "garbage", "consent": false}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "consent_required",
        ),
        (
            json!({"name": "张三", "id_number": "11010519491231002x", "consent": true}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_id_number",
        ),
        (
            json!({"name": "张三", "id_number": "110105199003071230", "consent": true}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_id_number",
        ),
        (
            json!({"name": "张三", "id_number": id_number("11010520300307123"), "consent": true}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_id_number",
        ),
        (
            json!({"name": "张三", "id_number": id_number("99010519900307123"), "consent": true}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_id_number",
        ),
        (
            json!({"name": "张三", "id_number": id_number("11010519900230123"), "consent": true}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_id_number",
        ),
        (
            json!({"name": "张", "id_number": good, "consent": true}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_name",
        ),
        (
            json!({"name": "<b>x</b>", "id_number": good, "consent": true}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_name",
        ),
        (
            json!({"name": "张三", "id_number": good, "consent": true, "price": 1}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_body",
        ),
    ];
    for (body, status, code) in cases {
        assert_error(post_identity(&app, &token, &body).await, status, code).await;
    }
    assert!(app.me(&token).await["real_name"].is_null());
    let res = app
        .client
        .post(app.url("/api/v1/me/identity"))
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_error(res, StatusCode::UNAUTHORIZED, "unauthenticated").await;
    app.stop().await;
}

#[tokio::test]
async fn one_id_number_backs_one_account_and_minors_are_marked() {
    let app = TestApp::spawn().await;
    let first = user(&app, "13800138003").await;
    let second = user(&app, "13800138004").await;
    let id = id_number("44030419851111222");
    let body = json!({"name": "李四", "id_number": id, "consent": true});
    assert_eq!(
        post_identity(&app, &first, &body).await.status(),
        StatusCode::OK
    );
    assert_error(
        post_identity(&app, &second, &body).await,
        StatusCode::CONFLICT,
        "identity_in_use",
    )
    .await;
    assert!(app.me(&second).await["real_name"].is_null());

    // Born 2010: a minor on 2026-11-28 (the test clock).
    let minor =
        json!({"name": "王小明", "id_number": id_number("44030420100601333"), "consent": true});
    let res = post_identity(&app, &second, &minor).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.json::<Value>().await.unwrap()["adult"], false);
    app.stop().await;
}
