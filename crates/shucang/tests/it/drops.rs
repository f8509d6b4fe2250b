//! Drops and orders over HTTP: the purchase rules, idempotency, expiry, and
//! never overselling under concurrency.

use reqwest::StatusCode;
use serde_json::{Value, json};
use shucang_types::{Role, UnixMillis};

use crate::harness::{MINUTE_MS, T0, TestApp, assert_error};
use crate::identity::{id_number, post_identity, user, verified_user};
use crate::support::{id_of, on_each_store};
use crate::works::{form, png, review, submit};

const HOUR_MS: i64 = 60 * MINUTE_MS;

fn at(ms: i64) -> String {
    UnixMillis(T0.0 + ms).to_rfc3339_utc()
}

/// A work with `edition_size` editions submitted by `submitter` (a system
/// administrator, so that the reviewer is a second person) and approved by
/// `reviewer`; returns its id.
pub async fn approved_work(
    app: &TestApp,
    [submitter, reviewer]: [&str; 2],
    edition_size: u64,
) -> i64 {
    let res = submit(
        app,
        submitter,
        form("飞天", "敦煌", &edition_size.to_string(), png()),
    )
    .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let id = id_of(res).await;
    let res = review(app, reviewer, id, json!({"decision": "approve"})).await;
    assert_eq!(res.status(), StatusCode::OK);
    id
}

/// A reviewer and an administrator (on these phones) and an approved work
/// of `edition_size`; returns their tokens and the work's id.
pub async fn staff_and_work(
    app: &TestApp,
    [reviewer, admin]: [&str; 2],
    edition_size: u64,
) -> (String, String, i64) {
    let reviewer = app.staff(reviewer, Role::Reviewer).await;
    let admin = app.staff(admin, Role::SystemAdmin).await;
    let work = approved_work(app, [&admin, &reviewer], edition_size).await;
    (reviewer, admin, work)
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
    let d = app
        .get_json(&format!("/api/v1/drops/{drop_id}"), None)
        .await;
    d["remaining"].as_u64().unwrap()
}

/// `{"quantity": n}`.
fn quantity(n: i64) -> Value {
    json!({ "quantity": n })
}

#[tokio::test]
async fn buying_follows_every_rule_and_failures_change_nothing() {
    let app = TestApp::spawn().await;
    let (_, admin, work) = staff_and_work(&app, ["13900000011", "13900000012"], 1000).await;
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
    let upcoming = id_of(upcoming).await;
    let list: Vec<Value> = app.get("/api/v1/drops", None).await.json().await.unwrap();
    assert_eq!(
        list.iter()
            .map(|d| d["status"].as_str().unwrap())
            .collect::<Vec<_>>(),
        vec!["upcoming", "on_sale"]
    );
    only_verified_adults_buy(&app, d).await;

    let alice = buyer(&app, 1).await;
    for key in [None, Some("k".repeat(129))] {
        let res = buy(&app, &alice, d, key.as_deref(), quantity(1)).await;
        assert_error(res, StatusCode::BAD_REQUEST, "invalid_idempotency_key").await;
    }
    assert_eq!(remaining(&app, d).await, 5);

    // A purchase, and its replay.
    let res = buy(&app, &alice, d, Some("alice-1"), quantity(2)).await;
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
    let replay = buy(&app, &alice, d, Some("alice-1"), quantity(2)).await;
    assert_eq!(replay.status(), StatusCode::CREATED);
    assert_eq!(replay.json::<Value>().await.unwrap(), order);
    let res = buy(&app, &alice, d, Some("alice-1"), quantity(1)).await;
    assert_error(
        res,
        StatusCode::UNPROCESSABLE_ENTITY,
        "idempotency_key_reused",
    )
    .await;
    assert_eq!(remaining(&app, d).await, 3);
    refusals_change_no_stock(&app, &alice, d, upcoming).await;

    let order_id = order["order_id"].as_i64().unwrap();
    let bob = orders_belong_to_their_buyer(&app, &alice, order_id).await;
    selling_out(&app, &bob, d).await;
    reservations_lapse_and_return_their_editions(&app, &alice, d, order_id).await;
    app.stop().await;
}

/// Who may buy: not the unverified, not minors, not the anonymous.
async fn only_verified_adults_buy(app: &TestApp, d: i64) {
    let unverified = user(app, "13600000001").await;
    let res = buy(app, &unverified, d, Some("k"), quantity(1)).await;
    assert_error(res, StatusCode::FORBIDDEN, "identity_required").await;
    let minor = verified_user(app, "13600000002", "小明", "11010520100101001").await;
    let res = buy(app, &minor, d, Some("k"), quantity(1)).await;
    assert_error(res, StatusCode::FORBIDDEN, "minor_not_allowed").await;
    let res = app
        .client
        .post(app.url(&format!("/api/v1/drops/{d}/orders")))
        .json(&quantity(1))
        .send()
        .await
        .unwrap();
    assert_error(res, StatusCode::UNAUTHORIZED, "unauthenticated").await;
}

/// Refusals, none of which changes stock: the limit, bad quantities and
/// bodies, a drop not open yet, no such drop, an id that is not a number.
async fn refusals_change_no_stock(app: &TestApp, alice: &str, d: i64, upcoming: i64) {
    for (drop, key, body, status, code) in [
        (
            d,
            "a2",
            quantity(1),
            StatusCode::CONFLICT,
            "purchase_limit_reached",
        ),
        (
            d,
            "a3",
            quantity(0),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_quantity",
        ),
        (
            d,
            "a4",
            quantity(101),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_quantity",
        ),
        (
            d,
            "a5",
            json!({"quantity": 1, "price_fen": 1}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_body",
        ),
        (
            d,
            "a6",
            quantity(-1),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_body",
        ),
        (
            upcoming,
            "a7",
            quantity(1),
            StatusCode::CONFLICT,
            "drop_not_open",
        ),
        (999, "a8", quantity(1), StatusCode::NOT_FOUND, "not_found"),
    ] {
        assert_error(buy(app, alice, drop, Some(key), body).await, status, code).await;
    }
    let res = app
        .client
        .post(app.url("/api/v1/drops/x/orders"))
        .bearer_auth(alice)
        .header("Idempotency-Key", "a9")
        .json(&quantity(1))
        .send()
        .await
        .unwrap();
    assert_error(res, StatusCode::BAD_REQUEST, "invalid_number").await;
    assert_eq!(remaining(app, d).await, 3);
}

/// Orders belong to their buyer: another buyer, or no one, cannot read
/// one. Returns the other buyer.
async fn orders_belong_to_their_buyer(app: &TestApp, alice: &str, order_id: i64) -> String {
    let path = format!("/api/v1/orders/{order_id}");
    let bob = buyer(app, 2).await;
    assert_eq!(app.get(&path, Some(alice)).await.status(), StatusCode::OK);
    let res = app.get(&path, Some(&bob)).await;
    assert_error(res, StatusCode::NOT_FOUND, "not_found").await;
    let res = app.get(&path, None).await;
    assert_error(res, StatusCode::UNAUTHORIZED, "unauthenticated").await;
    bob
}

/// Selling out: what is left is sold, then nothing more.
async fn selling_out(app: &TestApp, bob: &str, d: i64) {
    let res = buy(app, bob, d, Some("b1"), quantity(2)).await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let carol = buyer(app, 3).await;
    let res = buy(app, &carol, d, Some("c1"), quantity(2)).await;
    assert_error(res, StatusCode::CONFLICT, "sold_out").await;
    let res = buy(app, &carol, d, Some("c2"), quantity(1)).await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let res = buy(app, &carol, d, Some("c3"), quantity(1)).await;
    assert_error(res, StatusCode::CONFLICT, "sold_out").await;
    let status = app.get_json(&format!("/api/v1/drops/{d}"), None).await;
    assert_eq!(
        (status["remaining"].as_u64(), status["status"].as_str()),
        (Some(0), Some("sold_out"))
    );
}

/// Unpaid reservations lapse after ten minutes and return their editions.
async fn reservations_lapse_and_return_their_editions(
    app: &TestApp,
    alice: &str,
    d: i64,
    order_id: i64,
) {
    app.clock.advance_ms(10 * MINUTE_MS - 1);
    assert_eq!(app.drops.expire_due().await.unwrap(), 0);
    app.clock.advance_ms(1);
    assert_eq!(app.drops.expire_due().await.unwrap(), 3);
    assert_eq!(app.drops.expire_due().await.unwrap(), 0, "once");
    assert_eq!(remaining(app, d).await, 5);
    let expired = app.order(alice, order_id).await;
    assert_eq!(expired["status"], "expired");
    let again = buy(app, alice, d, Some("alice-2"), quantity(2)).await;
    assert_eq!(again.status(), StatusCode::CREATED);
    assert_eq!(
        again.json::<Value>().await.unwrap()["editions"],
        json!([1, 2])
    );
}

#[tokio::test]
async fn drop_creation_is_checked() {
    let app = TestApp::spawn().await;
    let (reviewer, admin, work) = staff_and_work(&app, ["13900000021", "13900000022"], 100).await;
    let pending = id_of(submit(&app, &reviewer, form("九色鹿", "", "10", png())).await).await;
    let res = create_drop(&app, &reviewer, drop_body(work, 10, 1, 0, HOUR_MS)).await;
    assert_error(res, StatusCode::FORBIDDEN, "forbidden").await;
    let mut bad_time = drop_body(work, 10, 1, 0, HOUR_MS);
    bad_time["starts_at"] = json!("tomorrow");
    let mut negative = drop_body(work, 10, 1, 0, HOUR_MS);
    negative["price_fen"] = json!(-1);
    for (body, code) in [
        (drop_body(pending, 10, 1, 0, HOUR_MS), "work_not_approved"),
        (drop_body(999, 10, 1, 0, HOUR_MS), "work_not_approved"),
        (drop_body(work, 101, 1, 0, HOUR_MS), "invalid_field"),
        (drop_body(work, 0, 1, 0, HOUR_MS), "invalid_field"),
        (drop_body(work, 10, 0, 0, HOUR_MS), "invalid_field"),
        (drop_body(work, 10, 1, HOUR_MS, 0), "invalid_field"),
        (bad_time, "invalid_field"),
        (negative, "invalid_field"),
    ] {
        let res = create_drop(&app, &admin, body).await;
        assert_error(res, StatusCode::UNPROCESSABLE_ENTITY, code).await;
    }
    let res = create_drop(&app, &admin, drop_body(work, 60, 1, 0, HOUR_MS)).await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let res = create_drop(&app, &admin, drop_body(work, 41, 1, 0, HOUR_MS)).await;
    assert_error(res, StatusCode::CONFLICT, "editions_exhausted").await;
    let res = create_drop(&app, &admin, drop_body(work, 40, 1, 0, HOUR_MS)).await;
    assert_eq!(res.status(), StatusCode::CREATED);
    app.stop().await;
}

#[tokio::test]
async fn two_hundred_buyers_five_attempts_each_never_oversell() {
    on_each_store("never_oversell", never_oversell).await;
}

/// 200 buyers × 5 attempts against a drop of 100 with a limit of 1.
async fn never_oversell(url: Option<String>) {
    let app = TestApp::spawn_with(url).await;
    let (_, admin, work) = staff_and_work(&app, ["13900000031", "13900000032"], 100).await;
    let d =
        id_of(create_drop(&app, &admin, drop_body(work, 100, 1, -HOUR_MS, HOUR_MS)).await).await;
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
                    .json(&quantity(1))
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
    let (_, admin, work) = staff_and_work(&app, ["13900000051", "13900000052"], 100).await;
    let d = id_of(create_drop(&app, &admin, drop_body(work, 10, 5, -HOUR_MS, 24 * HOUR_MS)).await)
        .await;
    let alice = buyer(&app, 50).await;
    assert_eq!(
        buy(&app, &alice, d, Some("r1"), quantity(4)).await.status(),
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
    let again = buy(&app, &alice, d, Some("r2"), quantity(5)).await;
    assert_eq!(
        again.status(),
        StatusCode::CREATED,
        "the per-account count was returned too"
    );
    app.stop().await;
}
