//! Drops and orders over HTTP: the purchase rules, idempotency, expiry, and
//! never overselling under concurrency.

use reqwest::StatusCode;
use serde_json::{Value, json};
use shucang_types::{Role, UnixMillis};

use crate::harness::{MINUTE_MS, T0, TestApp, assert_error};
use crate::identity::{id_number, post_identity, user};
use crate::works::{form, png, review, submit};

const HOUR_MS: i64 = 60 * MINUTE_MS;

fn at(ms: i64) -> String {
    UnixMillis(T0.0 + ms).to_rfc3339_utc()
}

/// An approved work with `edition_size` editions; returns its id.
pub async fn approved_work(app: &TestApp, reviewer: &str, edition_size: u64) -> i64 {
    let res = submit(
        app,
        reviewer,
        form("飞天", "敦煌", &edition_size.to_string(), png()),
    )
    .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let id = res.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
    let res = review(app, reviewer, id, json!({"decision": "approve"})).await;
    assert_eq!(res.status(), StatusCode::OK);
    id
}

pub async fn create_drop(app: &TestApp, admin: &str, body: Value) -> reqwest::Response {
    app.client
        .post(app.url("/api/v1/admin/drops"))
        .bearer_auth(admin)
        .json(&body)
        .send()
        .await
        .unwrap()
}

pub fn drop_body(work_id: i64, supply: u64, limit: u32, starts: i64, ends: i64) -> Value {
    json!({
        "work_id": work_id, "title": "飞天 · 首发", "price_fen": 990, "supply": supply,
        "starts_at": at(starts), "ends_at": at(ends), "per_user_limit": limit,
    })
}

/// A registered, logged-in, real-name-verified adult (the `n`th such user).
pub async fn buyer(app: &TestApp, n: u32) -> String {
    let token = user(app, &format!("137{n:08}")).await;
    let id = id_number(&format!(
        "110105199{}{:02}{:02}{:03}",
        n % 10,
        1 + n % 12,
        1 + n % 28,
        n % 1000
    ));
    let res = post_identity(
        app,
        &token,
        &json!({"name": "买家", "id_number": id, "consent": true}),
    )
    .await;
    assert_eq!(res.status(), StatusCode::OK, "buyer {n}");
    token
}

pub async fn buy(
    app: &TestApp,
    token: &str,
    drop_id: i64,
    key: Option<&str>,
    body: Value,
) -> reqwest::Response {
    let mut req = app
        .client
        .post(app.url(&format!("/api/v1/drops/{drop_id}/orders")))
        .bearer_auth(token)
        .json(&body);
    if let Some(key) = key {
        req = req.header("Idempotency-Key", key);
    }
    req.send().await.unwrap()
}

async fn remaining(app: &TestApp, drop_id: i64) -> u64 {
    let d: Value = app
        .get(&format!("/api/v1/drops/{drop_id}"), None)
        .await
        .json()
        .await
        .unwrap();
    d["remaining"].as_u64().unwrap()
}

#[tokio::test]
async fn buying_follows_every_rule_and_failures_change_nothing() {
    let app = TestApp::spawn().await;
    let reviewer = app.staff("13900000011", Role::Reviewer).await;
    let admin = app.staff("13900000012", Role::SystemAdmin).await;
    let work = approved_work(&app, &reviewer, 1000).await;
    let res = create_drop(&app, &admin, drop_body(work, 5, 2, -HOUR_MS, 24 * HOUR_MS)).await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let drop: Value = res.json().await.unwrap();
    let d = drop["id"].as_i64().unwrap();
    assert_eq!(
        (
            drop["status"].as_str(),
            drop["price"].as_str(),
            drop["remaining"].as_u64()
        ),
        (Some("on_sale"), Some("¥9.90"), Some(5))
    );
    let upcoming = create_drop(
        &app,
        &admin,
        drop_body(work, 10, 1, 24 * HOUR_MS, 48 * HOUR_MS),
    )
    .await;
    let upcoming = upcoming.json::<Value>().await.unwrap()["id"]
        .as_i64()
        .unwrap();
    let list: Vec<Value> = app.get("/api/v1/drops", None).await.json().await.unwrap();
    assert_eq!(
        list.iter()
            .map(|d| d["status"].as_str().unwrap())
            .collect::<Vec<_>>(),
        vec!["upcoming", "on_sale"]
    );

    // Who may buy.
    let unverified = user(&app, "13600000001").await;
    assert_error(
        buy(&app, &unverified, d, Some("k"), json!({"quantity": 1})).await,
        StatusCode::FORBIDDEN,
        "identity_required",
    )
    .await;
    let minor = user(&app, "13600000002").await;
    let res = post_identity(
        &app,
        &minor,
        &json!({"name": "小明", "id_number": id_number("11010520100101001"), "consent": true}),
    )
    .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_error(
        buy(&app, &minor, d, Some("k"), json!({"quantity": 1})).await,
        StatusCode::FORBIDDEN,
        "minor_not_allowed",
    )
    .await;
    let res = app
        .client
        .post(app.url(&format!("/api/v1/drops/{d}/orders")))
        .json(&json!({"quantity": 1}))
        .send()
        .await
        .unwrap();
    assert_error(res, StatusCode::UNAUTHORIZED, "unauthenticated").await;

    let alice = buyer(&app, 1).await;
    assert_error(
        buy(&app, &alice, d, None, json!({"quantity": 1})).await,
        StatusCode::BAD_REQUEST,
        "invalid_idempotency_key",
    )
    .await;
    assert_error(
        buy(
            &app,
            &alice,
            d,
            Some(&"k".repeat(129)),
            json!({"quantity": 1}),
        )
        .await,
        StatusCode::BAD_REQUEST,
        "invalid_idempotency_key",
    )
    .await;
    assert_eq!(remaining(&app, d).await, 5);

    // A purchase, and its replay.
    let res = buy(&app, &alice, d, Some("alice-1"), json!({"quantity": 2})).await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let order: Value = res.json().await.unwrap();
    assert_eq!(
        (
            order["status"].as_str(),
            order["amount_fen"].as_u64(),
            order["amount"].as_str()
        ),
        (Some("reserved"), Some(1980), Some("¥19.80"))
    );
    assert_eq!(order["editions"], json!([1, 2]));
    assert_eq!(order["expires_at"], at(10 * MINUTE_MS));
    let replay = buy(&app, &alice, d, Some("alice-1"), json!({"quantity": 2})).await;
    assert_eq!(replay.status(), StatusCode::CREATED);
    assert_eq!(replay.json::<Value>().await.unwrap(), order);
    assert_error(
        buy(&app, &alice, d, Some("alice-1"), json!({"quantity": 1})).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "idempotency_key_reused",
    )
    .await;
    assert_eq!(remaining(&app, d).await, 3);

    // Refusals, none of which changes stock.
    for (key, body, status, code) in [
        (
            "a2",
            json!({"quantity": 1}),
            StatusCode::CONFLICT,
            "purchase_limit_reached",
        ),
        (
            "a3",
            json!({"quantity": 0}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_quantity",
        ),
        (
            "a4",
            json!({"quantity": 101}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_quantity",
        ),
        (
            "a5",
            json!({"quantity": 1, "price_fen": 1}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_body",
        ),
        (
            "a6",
            json!({"quantity": -1}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_body",
        ),
    ] {
        assert_error(buy(&app, &alice, d, Some(key), body).await, status, code).await;
    }
    assert_error(
        buy(&app, &alice, upcoming, Some("a7"), json!({"quantity": 1})).await,
        StatusCode::CONFLICT,
        "drop_not_open",
    )
    .await;
    assert_error(
        buy(&app, &alice, 999, Some("a8"), json!({"quantity": 1})).await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
    let res = app
        .client
        .post(app.url("/api/v1/drops/x/orders"))
        .bearer_auth(&alice)
        .header("Idempotency-Key", "a9")
        .json(&json!({"quantity": 1}))
        .send()
        .await
        .unwrap();
    assert_error(res, StatusCode::BAD_REQUEST, "invalid_number").await;
    assert_eq!(remaining(&app, d).await, 3);

    // Orders belong to their buyer.
    let order_id = order["order_id"].as_i64().unwrap();
    let bob = buyer(&app, 2).await;
    assert_eq!(
        app.get(&format!("/api/v1/orders/{order_id}"), Some(&alice))
            .await
            .status(),
        StatusCode::OK
    );
    assert_error(
        app.get(&format!("/api/v1/orders/{order_id}"), Some(&bob))
            .await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
    assert_error(
        app.get(&format!("/api/v1/orders/{order_id}"), None).await,
        StatusCode::UNAUTHORIZED,
        "unauthenticated",
    )
    .await;

    // Selling out.
    assert_eq!(
        buy(&app, &bob, d, Some("b1"), json!({"quantity": 2}))
            .await
            .status(),
        StatusCode::CREATED
    );
    let carol = buyer(&app, 3).await;
    assert_error(
        buy(&app, &carol, d, Some("c1"), json!({"quantity": 2})).await,
        StatusCode::CONFLICT,
        "sold_out",
    )
    .await;
    assert_eq!(
        buy(&app, &carol, d, Some("c2"), json!({"quantity": 1}))
            .await
            .status(),
        StatusCode::CREATED
    );
    assert_error(
        buy(&app, &carol, d, Some("c3"), json!({"quantity": 1})).await,
        StatusCode::CONFLICT,
        "sold_out",
    )
    .await;
    let status: Value = app
        .get(&format!("/api/v1/drops/{d}"), None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        (status["remaining"].as_u64(), status["status"].as_str()),
        (Some(0), Some("sold_out"))
    );

    // Unpaid reservations lapse after ten minutes and return their editions.
    app.clock.advance_ms(10 * MINUTE_MS - 1);
    assert_eq!(app.drops.expire_due().await.unwrap(), 0);
    app.clock.advance_ms(1);
    assert_eq!(app.drops.expire_due().await.unwrap(), 3);
    assert_eq!(app.drops.expire_due().await.unwrap(), 0, "once");
    assert_eq!(remaining(&app, d).await, 5);
    let expired: Value = app
        .get(&format!("/api/v1/orders/{order_id}"), Some(&alice))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(expired["status"], "expired");
    let again = buy(&app, &alice, d, Some("alice-2"), json!({"quantity": 2})).await;
    assert_eq!(again.status(), StatusCode::CREATED);
    assert_eq!(
        again.json::<Value>().await.unwrap()["editions"],
        json!([1, 2])
    );
    app.stop().await;
}

#[tokio::test]
async fn drop_creation_is_checked() {
    let app = TestApp::spawn().await;
    let reviewer = app.staff("13900000021", Role::Reviewer).await;
    let admin = app.staff("13900000022", Role::SystemAdmin).await;
    let work = approved_work(&app, &reviewer, 100).await;
    let pending = submit(&app, &reviewer, form("九色鹿", "", "10", png()))
        .await
        .json::<Value>()
        .await
        .unwrap()["id"]
        .as_i64()
        .unwrap();
    assert_error(
        create_drop(&app, &reviewer, drop_body(work, 10, 1, 0, HOUR_MS)).await,
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;
    assert_error(
        create_drop(&app, &admin, drop_body(pending, 10, 1, 0, HOUR_MS)).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "work_not_approved",
    )
    .await;
    assert_error(
        create_drop(&app, &admin, drop_body(999, 10, 1, 0, HOUR_MS)).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "work_not_approved",
    )
    .await;
    assert_error(
        create_drop(&app, &admin, drop_body(work, 101, 1, 0, HOUR_MS)).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_field",
    )
    .await;
    assert_error(
        create_drop(&app, &admin, drop_body(work, 0, 1, 0, HOUR_MS)).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_field",
    )
    .await;
    assert_error(
        create_drop(&app, &admin, drop_body(work, 10, 0, 0, HOUR_MS)).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_field",
    )
    .await;
    assert_error(
        create_drop(&app, &admin, drop_body(work, 10, 1, HOUR_MS, 0)).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_field",
    )
    .await;
    let mut bad_time = drop_body(work, 10, 1, 0, HOUR_MS);
    bad_time["starts_at"] = json!("tomorrow");
    assert_error(
        create_drop(&app, &admin, bad_time).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_field",
    )
    .await;
    let mut negative = drop_body(work, 10, 1, 0, HOUR_MS);
    negative["price_fen"] = json!(-1);
    assert_error(
        create_drop(&app, &admin, negative).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_field",
    )
    .await;
    assert_eq!(
        create_drop(&app, &admin, drop_body(work, 60, 1, 0, HOUR_MS))
            .await
            .status(),
        StatusCode::CREATED
    );
    assert_error(
        create_drop(&app, &admin, drop_body(work, 41, 1, 0, HOUR_MS)).await,
        StatusCode::CONFLICT,
        "editions_exhausted",
    )
    .await;
    assert_eq!(
        create_drop(&app, &admin, drop_body(work, 40, 1, 0, HOUR_MS))
            .await
            .status(),
        StatusCode::CREATED
    );
    app.stop().await;
}

#[tokio::test]
async fn two_hundred_buyers_five_attempts_each_never_oversell() {
    never_oversell(TestApp::spawn().await).await;
}

#[tokio::test]
async fn two_hundred_buyers_five_attempts_each_never_oversell_on_postgres() {
    let Some(admin_url) = shucang_store::test_support::postgres_url_or_skip("never_oversell")
    else {
        return;
    };
    let db = shucang_store::test_support::TempPgDatabase::create(&admin_url)
        .await
        .unwrap();
    never_oversell(TestApp::spawn_with(Some(db.url.clone())).await).await;
    db.drop_database().await.unwrap();
}

/// 200 buyers × 5 attempts against a drop of 100 with a limit of 1.
async fn never_oversell(app: TestApp) {
    let reviewer = app.staff("13900000031", Role::Reviewer).await;
    let admin = app.staff("13900000032", Role::SystemAdmin).await;
    let work = approved_work(&app, &reviewer, 100).await;
    let d = create_drop(&app, &admin, drop_body(work, 100, 1, -HOUR_MS, HOUR_MS))
        .await
        .json::<Value>()
        .await
        .unwrap()["id"]
        .as_i64()
        .unwrap();
    let mut buyers = Vec::new();
    for n in 0..200 {
        buyers.push(buyer(&app, 100 + n).await);
    }
    let mut tasks = Vec::new();
    for (n, token) in buyers.into_iter().enumerate() {
        let (client, url) = (
            app.client.clone(),
            app.url(&format!("/api/v1/drops/{d}/orders")),
        );
        tasks.push(tokio::spawn(async move {
            let mut got = Vec::new();
            for attempt in 0..5 {
                let res = client
                    .post(&url)
                    .bearer_auth(&token)
                    .header("Idempotency-Key", format!("{n}-{attempt}"))
                    .json(&json!({"quantity": 1}))
                    .send()
                    .await
                    .unwrap();
                match res.status() {
                    StatusCode::CREATED => got.push(
                        res.json::<Value>().await.unwrap()["editions"][0]
                            .as_u64()
                            .unwrap(),
                    ),
                    StatusCode::CONFLICT => {
                        let code = res.json::<Value>().await.unwrap()["error"]["code"]
                            .as_str()
                            .unwrap()
                            .to_owned();
                        assert!(
                            code == "sold_out" || code == "purchase_limit_reached",
                            "{code}"
                        );
                    }
                    other => panic!("unexpected {other}"),
                }
            }
            got
        }));
    }
    let mut editions = Vec::new();
    for t in tasks {
        let got = t.await.unwrap();
        assert!(
            got.len() <= 1,
            "an account bought {} editions with a limit of 1",
            got.len()
        );
        editions.extend(got);
    }
    editions.sort_unstable();
    assert_eq!(
        editions,
        (1..=100).collect::<Vec<u64>>(),
        "exactly 100 distinct editions 1..=100"
    );
    assert_eq!(remaining(&app, d).await, 0);
    app.stop().await;
}

#[tokio::test]
async fn expiry_survives_a_restart_and_returns_stock_once() {
    let app = TestApp::spawn().await;
    let reviewer = app.staff("13900000051", Role::Reviewer).await;
    let admin = app.staff("13900000052", Role::SystemAdmin).await;
    let work = approved_work(&app, &reviewer, 100).await;
    let d = create_drop(&app, &admin, drop_body(work, 10, 5, -HOUR_MS, 24 * HOUR_MS))
        .await
        .json::<Value>()
        .await
        .unwrap()["id"]
        .as_i64()
        .unwrap();
    let alice = buyer(&app, 50).await;
    assert_eq!(
        buy(&app, &alice, d, Some("r1"), json!({"quantity": 4}))
            .await
            .status(),
        StatusCode::CREATED
    );
    assert_eq!(remaining(&app, d).await, 6);
    // Stop before the window ends; start again on the same data after it.
    let dir = app.stop().await;
    let app = TestApp::spawn_in(dir, None).await;
    app.clock.advance_ms(10 * MINUTE_MS);
    let expired = app.drops.expire_due().await.unwrap();
    assert!(
        expired <= 1,
        "at most this one (the background sweep may have been first)"
    );
    assert_eq!(app.drops.expire_due().await.unwrap(), 0);
    assert_eq!(remaining(&app, d).await, 10, "returned once, not twice");
    let alice = app.token("13700000050", "Shucang#2026").await;
    let again = buy(&app, &alice, d, Some("r2"), json!({"quantity": 5})).await;
    assert_eq!(
        again.status(),
        StatusCode::CREATED,
        "the per-account count was returned too"
    );
    app.stop().await;
}
