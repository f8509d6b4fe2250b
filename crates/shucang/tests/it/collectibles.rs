//! The whole story: buy, pay, mint, see the chain evidence, verify the proof
//! offline, gift under the holding-period rules.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::drops::buyer;
use crate::harness::{MINUTE_MS, TestApp, assert_error};
use crate::identity::{user, verified_user};
use crate::payments::market;

const DAY_MS: i64 = 24 * 60 * MINUTE_MS;

/// Buys `quantity` editions and drives payment and minting to the end;
/// returns the editions.
pub async fn buy_and_mint(
    app: &TestApp,
    token: &str,
    drop_id: i64,
    key: &str,
    quantity: u32,
) -> Vec<u64> {
    let order = app.reserve(token, drop_id, key, quantity).await;
    let order_id = order["order_id"].as_i64().unwrap();
    let payment = app.payment(token, order_id).await;
    let pay_url = payment["pay_url"].as_str().unwrap();
    let res = app.complete_payment(pay_url).await;
    assert_eq!(res.status(), StatusCode::OK);
    app.payments.process_mint_jobs().await.unwrap();
    let order = app.order(token, order_id).await;
    assert_eq!(order["status"], "minted");
    crate::support::editions(&order)
}

async fn gift(app: &TestApp, token: &str, path: &str, body: Value) -> reqwest::Response {
    app.post_as(&format!("{path}/gifts"), token, &body).await
}

#[tokio::test]
async fn buy_mint_show_prove_and_gift() {
    crate::support::on_each_store("the story", story).await;
}

/// Register → real-name → buy → pay → minted → the collectible shows its
/// chain evidence → the mint's proof verifies offline → a gift is refused
/// in the holding period and accepted after it → the recipient holds it.
async fn story(url: Option<String>) {
    let app = TestApp::spawn_with(url).await;
    let (d, work, alice) = market(&app).await;
    let editions = buy_and_mint(&app, &alice, d, "k1", 1).await;
    let path = format!("/api/v1/collectibles/work-{work}/{}", editions[0]);

    // The collection and the collectible show the chain evidence.
    let mine: Vec<Value> = app
        .get("/api/v1/me/collectibles", Some(&alice))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(mine.len(), 1);
    let c = app.get_json(&path, None).await;
    assert_eq!(c["edition"], "1/1000");
    assert_eq!(c["owner_name"], "买*");
    assert_eq!(c["state"], "active");
    let alice_address = app.me(&alice).await["real_name"]["address"].clone();
    assert_eq!(c["chain"]["owner_address"], alice_address);
    assert_eq!(c["chain"]["chain_name"], "shucang.local/chain");
    assert!(
        c["chain"]["collection_address"]
            .as_str()
            .unwrap()
            .starts_with("0x")
    );
    assert_eq!(c["history"].as_array().unwrap().len(), 1);
    assert_eq!(c["history"][0]["kind"], "mint");
    let mint_hash = c["chain"]["mint_tx_hash"].as_str().unwrap().to_owned();
    assert_eq!(
        app.get(c["history"][0]["tx_url"].as_str().unwrap(), None)
            .await
            .status(),
        StatusCode::OK
    );

    // The mint's proof verifies offline with the node key.
    let proof = app
        .get(c["chain"]["proof_url"].as_str().unwrap(), None)
        .await
        .text()
        .await
        .unwrap();
    let stats = app.get_json("/api/v1/chain/stats", None).await;
    // With the verifier key the node publishes (C2SP), as with the hex key.
    let vkey = shucang_web::proof::NodeKey::Vkey(stats["node_vkey"].as_str().unwrap().to_owned());
    let (_, verified) = shucang_web::proof::verify_bundle_json(&proof, &vkey).unwrap();
    assert_eq!(hex::encode(verified.tx_hash), mint_hash);

    // A gift inside the 180-day holding period is refused.
    buyer(&app, 901).await;
    let bob_phone = "13700000901";
    let body = json!({"to_phone": bob_phone, "password": "Shucang#2026"});
    let refused = assert_error(
        gift(&app, &alice, &path, body.clone()).await,
        StatusCode::CONFLICT,
        "holding_period",
    )
    .await;
    assert!(
        refused["error"]["message"]
            .as_str()
            .unwrap()
            .contains("2027-"),
        "{refused}"
    );
    app.clock.advance_ms(180 * DAY_MS);
    // Sessions idle out over half a year: log in again.
    let alice = app.token("13700000900", "Shucang#2026").await;
    let bob = app.token(bob_phone, "Shucang#2026").await;
    let res = gift(&app, &alice, &path, body.clone()).await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let receipt: Value = res.json().await.unwrap();
    let bob_address = app.me(&bob).await["real_name"]["address"].clone();
    assert_eq!(receipt["to_address"], bob_address);

    // Bob's collection has it; the history has both transactions.
    let bobs: Vec<Value> = app
        .get("/api/v1/me/collectibles", Some(&bob))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(bobs.len(), 1);
    assert!(
        app.get("/api/v1/me/collectibles", Some(&alice))
            .await
            .json::<Vec<Value>>()
            .await
            .unwrap()
            .is_empty()
    );
    let c = app.get_json(&path, None).await;
    let kinds: Vec<&str> = c["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, vec!["mint", "gift"]);
    assert_eq!(c["history"][1]["tx_hash"], receipt["tx_hash"]);
    assert_eq!(c["history"][1]["from"], alice_address);
    assert_eq!(c["chain"]["owner_address"], bob_address);

    // A received gift waits 720 days before it moves again.
    let back = json!({"to_address": alice_address, "password": "Shucang#2026"});
    assert_error(
        gift(&app, &bob, &path, back.clone()).await,
        StatusCode::CONFLICT,
        "holding_period",
    )
    .await;
    app.clock.advance_ms(720 * DAY_MS);
    let bob = app.token(bob_phone, "Shucang#2026").await;
    assert_eq!(
        gift(&app, &bob, &path, back).await.status(),
        StatusCode::CREATED
    );
    app.stop().await;
}

#[tokio::test]
async fn every_gift_rule_has_its_answer_and_changes_nothing() {
    let app = TestApp::spawn().await;
    let (d, work, alice) = market(&app).await;
    let mut editions = buy_and_mint(&app, &alice, d, "k1", 2).await;
    let bob = buyer(&app, 901).await;
    editions.extend(buy_and_mint(&app, &bob, d, "k2", 2).await);
    app.clock.advance_ms(180 * DAY_MS);
    let alice = app.token("13700000900", "Shucang#2026").await;
    let bob = app.token("13700000901", "Shucang#2026").await;
    let path = |e: u64| format!("/api/v1/collectibles/work-{work}/{e}");
    let to_bob = json!({"to_phone": "13700000901", "password": "Shucang#2026"});

    // Not the holder: 404, as for anything that does not exist.
    for (token, p, status, code) in [
        (&bob, path(editions[0]), StatusCode::NOT_FOUND, "not_found"),
        (&alice, path(999), StatusCode::NOT_FOUND, "not_found"),
        (
            &alice,
            format!("/api/v1/collectibles/nope/{}", editions[0]),
            StatusCode::NOT_FOUND,
            "not_found",
        ),
        (
            &alice,
            "/api/v1/collectibles/BAD/1".to_owned(),
            StatusCode::BAD_REQUEST,
            "invalid_collection",
        ),
    ] {
        assert_error(gift(&app, token, &p, to_bob.clone()).await, status, code).await;
    }
    the_body_and_the_recipient_are_checked(&app, &alice, &path(editions[0])).await;
    frozen_tokens_do_not_move(&app, &alice, work, editions[1], &to_bob).await;
    three_gifts_a_day(&app, work, &bob).await;
    app.stop().await;
}

/// The body: one recipient, the password, and never a price; the
/// recipient must be real-named and an adult. Nothing moves.
async fn the_body_and_the_recipient_are_checked(app: &TestApp, alice: &str, p: &str) {
    // The body: one recipient, the password, and never a price.
    for (body, status, code) in [
        (
            json!({"to_phone": "13700000901", "password": "Shucang#2026", "price_fen": 100}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_body",
        ),
        (
            json!({"password": "Shucang#2026"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "recipient_required",
        ),
        (
            json!({"to_phone": "13700000901", "to_address": "0x00", "password": "x"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "recipient_required",
        ),
        (
            json!({"to_phone": "12345", "password": "Shucang#2026"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_phone",
        ),
        (
            json!({"to_address": "0x12", "password": "Shucang#2026"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_address",
        ),
        (
            json!({"to_phone": "13700000901", "password": "Wrong#pass1"}),
            StatusCode::FORBIDDEN,
            "wrong_password",
        ),
        (
            json!({"to_phone": "13500000000", "password": "Shucang#2026"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "recipient_not_found",
        ),
        (
            json!({"to_address": format!("0x{}", "ab".repeat(20)), "password": "Shucang#2026"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "recipient_not_found",
        ),
        (
            json!({"to_phone": "13700000900", "password": "Shucang#2026"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "cannot_gift_to_self",
        ),
    ] {
        assert_error(gift(app, alice, p, body).await, status, code).await;
    }
    let unverified = user(app, "13600000009").await;
    drop(unverified);
    assert_error(
        gift(
            app,
            alice,
            p,
            json!({"to_phone": "13600000009", "password": "Shucang#2026"}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "recipient_not_verified",
    )
    .await;
    verified_user(app, "13600000010", "小红", "11010520120101002").await;
    assert_error(
        gift(
            app,
            alice,
            p,
            json!({"to_phone": "13600000010", "password": "Shucang#2026"}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "recipient_minor",
    )
    .await;
    let c = app.get_json(p, None).await;
    assert_eq!(c["history"].as_array().unwrap().len(), 1, "nothing moved");
}

/// Frozen tokens do not move (an operator freezes on chain).
async fn frozen_tokens_do_not_move(
    app: &TestApp,
    alice: &str,
    work: i64,
    token_id: u64,
    to_bob: &Value,
) {
    let path = format!("/api/v1/collectibles/work-{work}/{token_id}");
    let node = app.node_key();
    let collection = shucang_chain::CollectionId::parse(&format!("work-{work}")).unwrap();
    let freeze = shucang_chain::Operation::Freeze {
        collection,
        token_id,
        reason: 1,
    };
    app.commit(&node, 77, freeze).await;
    assert_error(
        gift(app, alice, &path, to_bob.clone()).await,
        StatusCode::CONFLICT,
        "token_frozen",
    )
    .await;
    let frozen = app.get_json(&path, None).await;
    assert_eq!(frozen["state"], "frozen");
}

/// Three gifts a day per account (China time), then the next day again.
async fn three_gifts_a_day(app: &TestApp, work: i64, bob: &str) {
    let path = |e: u64| format!("/api/v1/collectibles/work-{work}/{e}");
    let admin = app.token("13900000042", "Staff#2026pass").await;
    let body = crate::drops::drop_body(work, 10, 5, 179 * DAY_MS, 200 * DAY_MS);
    let second = crate::support::id_of(crate::drops::create_drop(app, &admin, body).await).await;
    let many = buy_and_mint(app, bob, second, "k9", 5).await;
    app.clock.advance_ms(180 * DAY_MS);
    let bob = app.token("13700000901", "Shucang#2026").await;
    let _carol = buyer(app, 902).await;
    let to_carol = json!({"to_phone": "13700000902", "password": "Shucang#2026"});
    for e in &many[..3] {
        assert_eq!(
            gift(app, &bob, &path(*e), to_carol.clone()).await.status(),
            StatusCode::CREATED
        );
    }
    assert_error(
        gift(app, &bob, &path(many[3]), to_carol.clone()).await,
        StatusCode::CONFLICT,
        "daily_gift_limit_reached",
    )
    .await;
    let still = app.get_json(&path(many[3]), None).await;
    assert_eq!(
        still["history"].as_array().unwrap().len(),
        1,
        "refused gifts move nothing"
    );
    app.clock.advance_ms(DAY_MS);
    let bob = app.token("13700000901", "Shucang#2026").await;
    assert_eq!(
        gift(app, &bob, &path(many[3]), to_carol).await.status(),
        StatusCode::CREATED
    );
}

/// Copies the chain's files (not its lock) from one directory to another.
fn copy_chain(from: &std::path::Path, to: &std::path::Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let path = entry.unwrap().path();
        if path.file_name().unwrap() != "LOCK" {
            std::fs::copy(&path, to.join(path.file_name().unwrap())).unwrap();
        }
    }
}

/// A chain directory older than the database (an old backup put back):
/// the server refuses to start and names the order minted since, rather
/// than serving collectibles whose tokens do not exist; with the right
/// chain back it starts.
#[tokio::test]
async fn a_chain_older_than_the_database_stops_the_start_naming_the_orders() {
    let app = TestApp::spawn().await;
    let (d, _, alice) = market(&app).await;
    let dir = app.stop().await;
    let chain = dir.path().join("chain");
    let old = tempfile::tempdir().unwrap();
    copy_chain(&chain, old.path());
    let app = TestApp::spawn_in(dir, None).await;
    buy_and_mint(&app, &alice, d, "k1", 1).await;
    let dir = app.stop().await;
    let current = tempfile::tempdir().unwrap();
    copy_chain(&chain, current.path());

    copy_chain(old.path(), &chain);
    let Err(refused) = TestApp::build_in(dir.path()).await else {
        panic!("started on a chain that lacks a mint");
    };
    let said = format!("{refused:#}");
    assert!(
        said.contains("order 1 (transaction ") && said.contains("refusing to start"),
        "{said}"
    );
    copy_chain(current.path(), &chain);
    let app = TestApp::spawn_in(dir, None).await;
    app.stop().await;
}
