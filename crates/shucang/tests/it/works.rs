//! Works: submission with an image, the content filter, review, the
//! collection on chain, and the public views.

use base64::Engine as _;
use reqwest::StatusCode;
use reqwest::multipart::{Form, Part};
use serde_json::{Value, json};
use shucang_types::Role;

use crate::harness::{TestApp, assert_error};
use crate::support::id_of;

/// A real 1×1 PNG.
pub fn png() -> Vec<u8> {
    base64::engine::general_purpose::STANDARD
        .decode("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==")
        .unwrap()
}

pub fn form(title: &str, description: &str, edition_size: &str, image: Vec<u8>) -> Form {
    Form::new()
        .text("title", title.to_owned())
        .text("description", description.to_owned())
        .text("edition_size", edition_size.to_owned())
        .text("issuer", "敦煌文创有限公司")
        .text("copyright_evidence", "国作登字-2026-F-00012345")
        .part("image", Part::bytes(image).file_name("feitian.png"))
}

pub async fn submit(app: &TestApp, token: &str, form: Form) -> reqwest::Response {
    app.client
        .post(app.url("/api/v1/admin/works"))
        .bearer_auth(token)
        .multipart(form)
        .send()
        .await
        .unwrap()
}

pub async fn review(app: &TestApp, token: &str, id: i64, body: Value) -> reqwest::Response {
    app.post_as(&format!("/api/v1/admin/works/{id}/review"), token, &body)
        .await
}

async fn queue(app: &TestApp, token: &str) -> Vec<Value> {
    let res = app
        .get("/api/v1/admin/works?status=pending_review", Some(token))
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    res.json().await.unwrap()
}

#[tokio::test]
async fn submit_review_approve_creates_the_collection_on_chain() {
    let app = TestApp::spawn().await;
    let reviewer = app.staff("13900000001", Role::Reviewer).await;
    let res = submit(
        &app,
        &reviewer,
        form("飞天", "敦煌壁画中的飞天，欢迎转售", "1000", png()),
    )
    .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let work: Value = res.json().await.unwrap();
    let id = work["id"].as_i64().unwrap();
    assert_eq!(work["status"], "pending_review");
    assert_eq!(work["flags"], json!(["转售"]));
    assert_eq!(queue(&app, &reviewer).await.len(), 1);

    // Not public yet.
    for path in [
        format!("/api/v1/works/{id}"),
        format!("/api/v1/works/{id}/image"),
    ] {
        let res = app.get(&path, None).await;
        assert_error(res, StatusCode::NOT_FOUND, "not_found").await;
    }

    // Four eyes: the reviewer who submitted it may not approve it alone.
    let res = review(&app, &reviewer, id, json!({"decision": "approve"})).await;
    assert_error(res, StatusCode::FORBIDDEN, "own_submission").await;
    assert_eq!(queue(&app, &reviewer).await.len(), 1, "still pending");
    let second = app.staff("13900000002", Role::Reviewer).await;
    let res = review(&app, &second, id, json!({"decision": "approve"})).await;
    assert_eq!(res.status(), StatusCode::OK);
    let approved: Value = res.json().await.unwrap();
    assert_eq!(approved["status"], "approved");
    assert_eq!(approved["collection_id"], format!("work-{id}"));
    assert!(queue(&app, &reviewer).await.is_empty());

    // The chain has the collection, committing to the metadata document.
    let collection = shucang_chain::CollectionId::parse(&format!("work-{id}")).unwrap();
    let on_chain = app.chain.collection(&collection).unwrap().unwrap();
    assert_eq!(
        (on_chain.spec.supply_cap, on_chain.spec.name.as_str()),
        (1000, "飞天")
    );
    let metadata = app
        .get(&format!("/api/v1/works/{id}/metadata"), None)
        .await
        .bytes()
        .await
        .unwrap();
    assert_eq!(
        on_chain.spec.metadata_hash,
        shucang_verify::Suite::Ed25519Sha256.hash(&metadata)
    );
    assert_eq!(
        hex::encode(on_chain.spec.metadata_hash),
        approved["metadata_hash"].as_str().unwrap()
    );
    let doc: Value = serde_json::from_slice(&metadata).unwrap();
    assert_eq!(doc["name"], "飞天");
    assert_eq!(doc["image"], format!("/api/v1/works/{id}/image"));
    let tx = app
        .get(
            &format!(
                "/api/v1/chain/txs/{}",
                approved["chain_tx"].as_str().unwrap()
            ),
            None,
        )
        .await;
    assert_eq!(tx.status(), StatusCode::OK);

    // Public now, with its image.
    let public = app.get_json(&format!("/api/v1/works/{id}"), None).await;
    assert_eq!(public["title"], "飞天");
    assert!(public.get("flags").is_none());
    let image = app.get(&format!("/api/v1/works/{id}/image"), None).await;
    assert_eq!(image.headers()["content-type"], "image/png");
    assert_eq!(image.bytes().await.unwrap().to_vec(), png());

    // Decided once.
    let again = review(
        &app,
        &reviewer,
        id,
        json!({"decision": "reject", "reason": "x"}),
    )
    .await;
    assert_error(again, StatusCode::CONFLICT, "work_already_reviewed").await;
    app.stop().await;
}

#[tokio::test]
async fn roles_rejections_and_bad_submissions() {
    let app = TestApp::spawn().await;
    let reviewer = app.staff("13900000002", Role::Reviewer).await;
    let sysadmin = app.staff("13900000003", Role::SystemAdmin).await;
    let auditor = app.staff("13900000004", Role::AuditAdmin).await;
    assert_eq!(
        app.register("13900000005", "Shucang#2026").await.status(),
        StatusCode::CREATED
    );
    let collector = app.token("13900000005", "Shucang#2026").await;

    // Who may submit and review.
    for token in [&collector, &auditor] {
        let res = submit(&app, token, form("a", "", "1", png())).await;
        assert_error(res, StatusCode::FORBIDDEN, "forbidden").await;
    }
    let res = app.get("/api/v1/admin/works", Some(&collector)).await;
    assert_error(res, StatusCode::FORBIDDEN, "forbidden").await;
    let res = submit(&app, &sysadmin, form("九色鹿", "", "20", png())).await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let id = crate::support::id_of(res).await;
    let approve = json!({"decision": "approve"});
    let res = review(&app, &sysadmin, id, approve.clone()).await;
    assert_error(res, StatusCode::FORBIDDEN, "forbidden").await;
    a_rejection_needs_a_reason(&app, &reviewer, id).await;
    bad_submissions_store_nothing(&app, &reviewer).await;
    let res = app
        .get("/api/v1/admin/works?status=done", Some(&reviewer))
        .await;
    assert_error(res, StatusCode::BAD_REQUEST, "invalid_status").await;
    let res = app.get("/api/v1/works/x", None).await;
    assert_error(res, StatusCode::BAD_REQUEST, "invalid_number").await;
    app.stop().await;
}

/// Rejection needs a reason; a rejected work is never public; unknown
/// works and ids that are not numbers are refused.
async fn a_rejection_needs_a_reason(app: &TestApp, reviewer: &str, id: i64) {
    for (decision, code) in [
        (json!({"decision": "reject"}), "invalid_field"),
        (json!({"decision": "maybe"}), "invalid_decision"),
    ] {
        let res = review(app, reviewer, id, decision).await;
        assert_error(res, StatusCode::UNPROCESSABLE_ENTITY, code).await;
    }
    let res = review(
        app,
        reviewer,
        id,
        json!({"decision": "reject", "reason": "版权证明不足"}),
    )
    .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(
        res.json::<Value>().await.unwrap()["review_reason"],
        "版权证明不足"
    );
    let res = app.get(&format!("/api/v1/works/{id}"), None).await;
    assert_error(res, StatusCode::NOT_FOUND, "not_found").await;
    let approve = json!({"decision": "approve"});
    let res = review(app, reviewer, 999, approve.clone()).await;
    assert_error(res, StatusCode::NOT_FOUND, "not_found").await;
    let res = app
        .post_as("/api/v1/admin/works/abc/review", reviewer, &approve)
        .await;
    assert_error(res, StatusCode::BAD_REQUEST, "invalid_number").await;
}

/// Bad submissions (blocked words, images that are not PNG or JPEG, bad
/// fields, extra or missing parts, JSON, too large) store nothing.
async fn bad_submissions_store_nothing(app: &TestApp, reviewer: &str) {
    let count = || async {
        app.get("/api/v1/admin/works", Some(reviewer))
            .await
            .json::<Vec<Value>>()
            .await
            .unwrap()
            .len()
    };
    let before = count().await;
    let blocked = submit(app, reviewer, form("赌 博 机", "", "10", png())).await;
    let body = assert_error(blocked, StatusCode::UNPROCESSABLE_ENTITY, "content_blocked").await;
    assert!(body["error"]["message"].as_str().unwrap().contains("赌博"));
    let no_image = Form::new()
        .text("title", "a")
        .text("edition_size", "1")
        .text("issuer", "x")
        .text("copyright_evidence", "y");
    for (form, code) in [
        (form("a", "", "10", b"GIF89a....".to_vec()), "invalid_image"),
        (
            form("a", "", "10", b"<svg onload=alert(1)>".to_vec()),
            "invalid_image",
        ),
        (form("a", "", "0", png()), "invalid_field"),
        (form("a", "", "ten", png()), "invalid_body"),
        (form("", "", "10", png()), "invalid_field"),
        (form(&"长".repeat(101), "", "10", png()), "invalid_field"),
        (
            form("a", "", "10", png()).text("price", "100"),
            "invalid_body",
        ),
        (no_image, "invalid_body"),
    ] {
        let res = submit(app, reviewer, form).await;
        assert_error(res, StatusCode::UNPROCESSABLE_ENTITY, code).await;
    }
    let res = app
        .post_as("/api/v1/admin/works", reviewer, &json!({}))
        .await;
    assert_error(
        res,
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "unsupported_media_type",
    )
    .await;
    let mut huge = png();
    huge.resize(12 * 1024 * 1024, 0);
    let res = submit(app, reviewer, form("a", "", "10", huge)).await;
    assert_error(res, StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large").await;
    let after = count().await;
    assert_eq!(before, after);
}

/// With `content.four_eyes = false` an operator lets one reviewer submit
/// and approve; rejecting one's own submission is always allowed.
#[tokio::test]
async fn the_four_eyes_rule_can_be_switched_off() {
    let app = TestApp::spawn_configured(|c| c.content.four_eyes = false).await;
    let reviewer = app.staff("13900000001", Role::Reviewer).await;
    let id = id_of(submit(&app, &reviewer, form("飞天", "", "10", png())).await).await;
    let res = review(&app, &reviewer, id, json!({"decision": "approve"})).await;
    assert_eq!(res.status(), StatusCode::OK);
    app.stop().await;

    let app = TestApp::spawn().await;
    let reviewer = app.staff("13900000001", Role::Reviewer).await;
    let id = id_of(submit(&app, &reviewer, form("飞天", "", "10", png())).await).await;
    let reject = json!({"decision": "reject", "reason": "重复提交"});
    assert_eq!(
        review(&app, &reviewer, id, reject).await.status(),
        StatusCode::OK
    );
    app.stop().await;
}
