//! Filer registration: every field checked, nothing stored for a bad one;
//! an unconfirmed filer cannot submit; the published API contract.

use reqwest::StatusCode;
use serde_json::{Value, json};

use super::{PASSWORD, Reg, json_of};
use crate::harness::assert_error;

/// Unconfirmed filers cannot submit; bad registrations change nothing.
#[tokio::test]
async fn registration_checks_its_fields_and_confirmation_gates_submission() {
    let reg = Reg::spawn(None).await;
    for (body, code) in [
        (
            json!({"name": "张三", "phone": "12345", "email": "a@b.cn", "password": PASSWORD}),
            "invalid_phone",
        ),
        (
            json!({"name": "张三", "phone": "13912345678", "email": "a@b", "password": PASSWORD}),
            "invalid_email",
        ),
        (
            json!({"name": "张", "phone": "13912345678", "email": "a@b.cn", "password": PASSWORD}),
            "invalid_name",
        ),
        (
            json!({"name": "张三", "phone": "13912345678", "email": "a@b.cn", "password": "short"}),
            "weak_password",
        ),
    ] {
        let res = reg.post("/api/v1/filers", None, &body).await;
        assert_error(res, StatusCode::UNPROCESSABLE_ENTITY, code).await;
    }
    assert!(
        reg.outbox("13912345678").await.is_empty(),
        "nothing stored or sent"
    );
    let ok =
        json!({"name": "张三", "phone": "13912345678", "email": "a@b.cn", "password": PASSWORD});
    let registered = reg.post("/api/v1/filers", None, &ok).await;
    assert_eq!(registered.status(), StatusCode::CREATED);
    let registered: Value = registered.json().await.unwrap();
    // A number registered already: the same answer, so a stranger learns
    // nothing; its owner is told by SMS; nothing else changes.
    let again = json!({"name": "李四", "phone": "13912345678", "email": "x@y.cn",
        "password": "Other#2026pass"});
    let res = reg.post("/api/v1/filers", None, &again).await;
    assert_eq!(res.status(), StatusCode::CREATED);
    assert_eq!(res.json::<Value>().await.unwrap(), registered);
    let sms = reg.outbox("13912345678").await;
    assert!(sms.last().unwrap().message.body.contains("该号码已注册"));
    assert!(
        reg.outbox("x@y.cn").await.is_empty(),
        "no mail to the stranger's address"
    );
    let other = json!({"phone": "13912345678", "password": "Other#2026pass"});
    let res = reg.post("/api/v1/sessions", None, &other).await;
    assert_error(res, StatusCode::UNAUTHORIZED, "invalid_credentials").await;
    // Until both contacts are confirmed, a filer can make the registry
    // keep nothing: no draft (so no upload and no submission).
    let token = reg.login("13912345678").await;
    let res = reg
        .post("/api/v1/applications", Some(&token), &json!({}))
        .await;
    assert_error(res, StatusCode::FORBIDDEN, "contact_unconfirmed").await;
    let mine = json_of(
        reg.get("/api/v1/applications", Some(&token)).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(mine, json!([]), "nothing stored");
    let res = reg.get("/api/v1/applications/1", None).await;
    assert_error(res, StatusCode::UNAUTHORIZED, "unauthenticated").await;
    let res = reg.get("/api/v1/applications/abc", Some(&token)).await;
    assert_error(res, StatusCode::NOT_FOUND, "application_not_found").await;

    // The API contract is published, with every route of the issue.
    let doc = json_of(reg.get("/api/openapi.json", None).await, StatusCode::OK).await;
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    for path in [
        "/api/v1/filers",
        "/api/v1/sessions",
        "/api/v1/applications",
        "/api/v1/applications/{id}",
        "/api/v1/applications/{id}/attachments",
        "/api/v1/applications/{id}/submit",
        "/api/v1/review/queue",
        "/api/v1/review/applications/{id}/decision",
        "/api/v1/filings/{number}/changes",
        "/api/v1/filings/{number}/cancellation",
        "/api/v1/public/filings",
        "/api/v1/publication/batches",
        "/api/v1/publication/batches/{n}/publish",
    ] {
        assert!(
            doc["paths"][path].is_object(),
            "{path} missing from the OpenAPI document"
        );
    }
    assert!(doc["paths"]["/api/v1/applications/{id}"]["put"].is_object());
    reg.stop().await;
}

/// Sessions end 12 hours after login and are then purged, so the session
/// table holds only live ones however many logins there were.
#[tokio::test]
async fn expired_sessions_are_refused_and_purged() {
    let reg = Reg::spawn(None).await;
    let first = reg.filer("张三", "13912345678", "zhang@example.cn").await;
    let second = reg.login("13912345678").await;
    assert_eq!(reg.registry.purge_expired_sessions().await.unwrap(), 0);
    reg.clock
        .advance_ms(12 * 60 * crate::harness::MINUTE_MS + 1);
    assert_eq!(reg.registry.purge_expired_sessions().await.unwrap(), 2);
    assert_eq!(reg.registry.purge_expired_sessions().await.unwrap(), 0);
    for token in [&first, &second] {
        let res = reg.get("/api/v1/applications", Some(token)).await;
        assert_error(res, StatusCode::UNAUTHORIZED, "unauthenticated").await;
    }
    reg.stop().await;
}
