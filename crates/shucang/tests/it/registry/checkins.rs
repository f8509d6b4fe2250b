//! Check-ins over the API: a publisher opens a window; filers confirm
//! inside it; after it closes, the filings that did not confirm are listed.

use reqwest::StatusCode;
use serde_json::json;
use shucang_registry::UserRole;

use super::forms::individual_form;
use super::{DAY_MS, Reg, approved, json_of};
use crate::harness::assert_error;

/// Check-ins: a publisher opens a window; a filer confirms inside it;
/// outside it or twice is refused; after it closes, the filings that did
/// not confirm are listed as missed.
#[tokio::test]
async fn check_ins_list_who_confirmed_and_who_missed_it() {
    let reg = Reg::spawn(None).await;
    let a = reg.filer("张三", "13912345678", "zhang@example.cn").await;
    let b = reg.filer("王五", "13812345678", "wang@example.cn").await;
    let reviewer = reg.staff(UserRole::Reviewer, "13600000001").await;
    let publisher = reg.staff(UserRole::Publisher, "13600000002").await;
    let (a_id, a_number) = approved(&reg, &a, &reviewer, individual_form).await;
    let (b_id, _) = approved(&reg, &b, &reviewer, individual_form).await;

    for (body, code) in [
        (
            json!({"opens_on": "2026-09-29", "closes_on": "2026-10-20"}),
            "invalid_field",
        ),
        (
            json!({"opens_on": "2026-10-08", "closes_on": "2026-10-01"}),
            "invalid_field",
        ),
        (
            json!({"opens_on": "8 Oct", "closes_on": "2026-10-20"}),
            "invalid_field",
        ),
    ] {
        let res = reg.post("/api/v1/checkins", Some(&publisher), &body).await;
        assert_error(res, StatusCode::UNPROCESSABLE_ENTITY, code).await;
    }
    let res = reg
        .post(
            "/api/v1/checkins",
            Some(&a),
            &json!({"opens_on": "2026-10-08", "closes_on": "2026-10-20"}),
        )
        .await;
    assert_error(res, StatusCode::FORBIDDEN, "forbidden").await;
    let w = json_of(
        reg.post(
            "/api/v1/checkins",
            Some(&publisher),
            &json!({"opens_on": "2026-10-08", "closes_on": "2026-10-20"}),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    let id = w["id"].as_i64().unwrap();
    assert_eq!(w["missing"].as_array().unwrap().len(), 2);
    let confirm = |token: &str, number: &str| {
        let body = json!({"number": number, "note": "信息无变化"});
        let (reg, token) = (&reg, token.to_owned());
        async move {
            reg.post(
                &format!("/api/v1/checkins/{id}/confirmations"),
                Some(&token),
                &body,
            )
            .await
        }
    };
    // Before the window opens.
    assert_error(
        confirm(&a, &a_number).await,
        StatusCode::CONFLICT,
        "checkin_closed",
    )
    .await;
    reg.clock.advance_ms(9 * DAY_MS);
    let (a, b) = (
        reg.login("13912345678").await,
        reg.login("13812345678").await,
    );
    assert_error(
        confirm(&b, &a_number).await,
        StatusCode::NOT_FOUND,
        "application_not_found",
    )
    .await;
    assert_eq!(confirm(&a, &a_number).await.status(), StatusCode::CREATED);
    assert_error(
        confirm(&a, &a_number).await,
        StatusCode::CONFLICT,
        "already_confirmed",
    )
    .await;
    let res = reg
        .post(
            "/api/v1/checkins/99/confirmations",
            Some(&a),
            &json!({"number": a_number}),
        )
        .await;
    assert_error(res, StatusCode::NOT_FOUND, "checkin_not_found").await;

    reg.clock.advance_ms(20 * DAY_MS);
    let a = reg.login("13912345678").await;
    assert_error(
        confirm(&a, &a_number).await,
        StatusCode::CONFLICT,
        "checkin_closed",
    )
    .await;
    let publisher = reg.login("13600000002").await;
    let done = json_of(
        reg.get(&format!("/api/v1/checkins/{id}"), Some(&publisher))
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(done["closed"], true);
    assert_eq!(done["confirmed"][0]["application_id"], a_id);
    let missed: Vec<i64> = done["missing"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["application_id"].as_i64().unwrap())
        .collect();
    assert_eq!(missed, [b_id]);
    assert_eq!(done["missing"][0]["entity_name"], "张三");
    reg.stop().await;
}
