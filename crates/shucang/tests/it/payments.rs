//! Paying for an order in the sandbox, the signed callback, and minting.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::drops::{buyer, create_drop, drop_body, staff_and_work};
use crate::harness::{MINUTE_MS, TestApp, assert_error};
use crate::support::header;

const HOUR_MS: i64 = 60 * MINUTE_MS;

async fn notify(app: &TestApp, body: &Value, signature: &str) -> reqwest::Response {
    app.client
        .post(app.url("/api/v1/payments/notify"))
        .header("x-sandbox-signature", signature)
        .json(body)
        .send()
        .await
        .unwrap()
}

/// The callback `body` as the sandbox provider signs it.
async fn signed_notify(app: &TestApp, body: &Value) -> reqwest::Response {
    let signature = app.sandbox.sign(&serde_json::to_vec(body).unwrap());
    notify(app, body, &signature).await
}

/// A drop on sale (supply 10, limit 2) and a verified buyer; returns (drop id, work id, buyer token).
pub async fn market(app: &TestApp) -> (i64, i64, String) {
    let (_, admin, work) = staff_and_work(app, ["13900000041", "13900000042"], 1000).await;
    let d = create_drop(app, &admin, drop_body(work, 10, 2, -HOUR_MS, 24 * HOUR_MS)).await;
    let d = crate::support::id_of(d).await;
    (d, work, buyer(app, 900).await)
}

/// The [`market`]'s buyer has reserved `quantity` editions (key `k1`);
/// returns the work, the buyer's token and the order.
async fn reserved(app: &TestApp, quantity: u32) -> (i64, String, i64) {
    let (d, work, alice) = market(app).await;
    let order = app.reserve(&alice, d, "k1", quantity).await;
    (work, alice, order["order_id"].as_i64().unwrap())
}

#[tokio::test]
async fn pay_in_the_sandbox_then_the_order_is_minted_once() {
    let app = TestApp::spawn().await;
    let (work, alice, order_id) = reserved(&app, 2).await;

    let res = app.start_payment(&alice, order_id).await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let payment: Value = res.json().await.unwrap();
    assert_eq!(payment["amount_fen"], 1980);
    let pay_url = payment["pay_url"].as_str().unwrap().to_owned();
    let page = app.get(&pay_url, None).await;
    assert!(header(&page, "content-type").starts_with("text/html"));
    assert!(page.text().await.unwrap().contains("¥19.80"));

    // The provider's signed callback arrives over HTTP; the order is paid.
    let res = app.complete_payment(&pay_url).await;
    assert_eq!(res.status(), StatusCode::OK);
    let delivery: Value = res.json().await.unwrap();
    assert_eq!(
        (
            delivery["notify_status"].as_u64(),
            delivery["notify_response"]["result"].as_str()
        ),
        (Some(200), Some("paid"))
    );
    // A repeated callback changes nothing.
    let again: Value = app.complete_payment(&pay_url).await.json().await.unwrap();
    assert_eq!(again["notify_response"]["result"], "already_recorded");

    // The mint worker mints it; driving it again does nothing more.
    app.payments.process_mint_jobs().await.unwrap();
    assert_eq!(app.payments.process_mint_jobs().await.unwrap(), 0);
    let order = app.order(&alice, order_id).await;
    assert_eq!(order["status"], "minted");
    let me = app.me(&alice).await;
    let address = me["real_name"]["address"].as_str().unwrap().to_owned();
    for edition in [1, 2] {
        let token = app
            .get_json(&format!("/api/v1/chain/tokens/work-{work}/{edition}"), None)
            .await;
        assert_eq!(token["owner"], address);
        assert_eq!(token["history"].as_array().unwrap().len(), 1);
    }
    let stats = app.get_json("/api/v1/chain/stats", None).await;
    assert_eq!(stats["token_count"], 2);

    // A second payment for a paid order is refused.
    assert_error(
        app.start_payment(&alice, order_id).await,
        StatusCode::CONFLICT,
        "order_not_payable",
    )
    .await;
    app.stop().await;
}

#[tokio::test]
async fn forged_or_wrong_callbacks_change_nothing() {
    let app = TestApp::spawn().await;
    let (_, alice, order_id) = reserved(&app, 1).await;
    let payment = app.payment(&alice, order_id).await;
    let payment_id = payment["payment_id"].as_str().unwrap();

    let body = json!({"payment_id": payment_id, "amount_fen": 990, "status": "success"});
    for signature in ["00", ""] {
        let res = notify(&app, &body, signature).await;
        assert_error(res, StatusCode::BAD_REQUEST, "invalid_signature").await;
    }
    let wrong_amount = json!({"payment_id": payment_id, "amount_fen": 1, "status": "success"});
    let unknown = json!({"payment_id": "sbx_nope", "amount_fen": 990, "status": "success"});
    let extra = json!({"payment_id": payment_id, "amount_fen": 990, "status": "success", "x": 1});
    for (callback, code) in [
        (wrong_amount, "amount_mismatch"),
        (unknown, "unknown_payment"),
        (extra, "malformed_callback"),
    ] {
        let res = signed_notify(&app, &callback).await;
        assert_error(res, StatusCode::BAD_REQUEST, code).await;
    }
    let failed = json!({"payment_id": payment_id, "amount_fen": 990, "status": "failed"});
    let res: Value = signed_notify(&app, &failed).await.json().await.unwrap();
    assert_eq!(res["result"], "ignored");
    let order = app.order(&alice, order_id).await;
    assert_eq!(order["status"], "reserved", "nothing changed");

    // Others cannot pay someone's order; unknown payments have no page.
    let bob = buyer(&app, 901).await;
    for res in [
        app.start_payment(&bob, order_id).await,
        app.get("/api/v1/sandbox/payments/sbx_nope", None).await,
        app.complete_payment("/api/v1/sandbox/payments/..%2F").await,
    ] {
        assert_error(res, StatusCode::NOT_FOUND, "not_found").await;
    }

    // After the payment window the order cannot be paid; a late callback is kept for refund.
    app.clock.advance_ms(10 * MINUTE_MS);
    assert_error(
        app.start_payment(&alice, order_id).await,
        StatusCode::CONFLICT,
        "order_not_payable",
    )
    .await;
    app.drops.expire_due().await.unwrap();
    let res: Value = signed_notify(&app, &body).await.json().await.unwrap();
    assert_eq!(res["result"], "refund_required");
    let order = app.order(&alice, order_id).await;
    assert_eq!(order["status"], "expired");
    assert_eq!(app.payments.process_mint_jobs().await.unwrap(), 0);
    app.stop().await;
}

#[tokio::test]
async fn a_failed_mint_is_retried_later_and_the_order_stays_paid() {
    let app = TestApp::spawn().await;
    let (_, alice, order_id) = reserved(&app, 1).await;
    // The chain goes away before the mint worker runs.
    app.chain.close();
    let payment = app.payment(&alice, order_id).await;
    let pay_url = payment["pay_url"].as_str().unwrap().to_owned();
    assert_eq!(
        app.complete_payment(&pay_url).await.status(),
        StatusCode::OK
    );
    assert_eq!(app.payments.process_mint_jobs().await.unwrap(), 0);
    let order = app.order(&alice, order_id).await;
    assert_eq!(order["status"], "paid");
    let (attempts, next, error) = app.mint_job(order_id).await;
    assert!(attempts >= 1, "attempted");
    assert!(next > app.payments.now().0, "retried later, with backoff");
    assert!(error.unwrap().contains("not accepting"));
    // Not due yet: nothing is attempted before the backoff ends.
    assert_eq!(app.payments.process_mint_jobs().await.unwrap(), 0);
    app.stop().await;
}
