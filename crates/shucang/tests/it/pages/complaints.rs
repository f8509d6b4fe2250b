//! Complaints (投诉举报): the API, the form with its CSRF token, and the
//! rate limit per address.

use reqwest::StatusCode;
use serde_json::{Value, json};

use super::{Visitor, html};
use crate::harness::{TestApp, assert_error};
use crate::support::{header, set_cookie_value};

#[tokio::test]
async fn complaints_api_and_form_with_csrf_and_a_rate_limit() {
    let app = TestApp::spawn().await;
    // The API: anonymous with a contact, or logged in.
    let res = app
        .post_json("/api/v1/complaints", &json!({"category": "infringement", "target": "/collectibles/work-1/1", "text": "这件作品抄袭了我的原创插画。", "contact": "13900000000"}))
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let filed: Value = res.json().await.unwrap();
    let ticket = filed["ticket"].as_str().unwrap().to_owned();
    assert!(ticket.starts_with("TS20261128-"), "{ticket}");
    let looked = app
        .get_json(&format!("/api/v1/complaints/{ticket}"), None)
        .await;
    assert_eq!(
        (looked["status"].as_str(), looked["category"].as_str()),
        (Some("received"), Some("infringement"))
    );
    assert!(
        looked.get("text").is_none() && looked.get("contact").is_none(),
        "the lookup shows no personal data"
    );
    for (body, code) in [
        (
            json!({"category": "spam", "target": "x", "text": "0123456789", "contact": "c"}),
            "invalid_field",
        ),
        (
            json!({"category": "fraud", "target": "", "text": "0123456789", "contact": "c"}),
            "invalid_field",
        ),
        (
            json!({"category": "fraud", "target": "x", "text": "short", "contact": "c"}),
            "invalid_field",
        ),
        (
            json!({"category": "fraud", "target": "x", "text": "0123456789"}),
            "invalid_field",
        ),
        (
            json!({"category": "fraud", "target": "x", "text": "0123456789", "contact": "c".repeat(101)}),
            "invalid_field",
        ),
    ] {
        assert_error(
            app.post_json("/api/v1/complaints", &body).await,
            StatusCode::UNPROCESSABLE_ENTITY,
            code,
        )
        .await;
    }
    assert_error(
        app.get("/api/v1/complaints/TS-NOPE", None).await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;

    // The form: a GET gives the token (cookie + hidden field); a POST needs both.
    let anonymous = Visitor::new(&app, "");
    let page = anonymous.get("/complaints").await;
    let cookie = header(&page, "set-cookie");
    assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"));
    let token = set_cookie_value(&page);
    let body = page.text().await.unwrap();
    assert!(body.contains(&format!("value=\"{token}\"")) && body.contains("投诉举报"));
    let fields = |csrf: &str, text: &str| {
        vec![
            ("csrf", csrf.to_owned()),
            ("category", "fraud".to_owned()),
            ("target", "某账号".to_owned()),
            ("text", text.to_owned()),
            ("contact", "a@b.cn".to_owned()),
        ]
    };
    let res = anonymous
        .post("/complaints", &fields(&token, "有人冒充平台客服诈骗钱财。"))
        .await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN, "no cookie: refused");
    let with_token = Visitor::new(&app, format!("shucang_csrf={token}"));
    // A token mismatch and a too-short text: the form again, with the
    // problem and what was typed.
    let mismatch = "0".repeat(32);
    for (csrf, text, status, problem) in [
        (
            &mismatch,
            "有人冒充平台客服诈骗钱财。",
            StatusCode::FORBIDDEN,
            "表单已过期",
        ),
        (
            &token,
            "太短",
            StatusCode::UNPROCESSABLE_ENTITY,
            "投诉内容需为 10 至 2000 字",
        ),
    ] {
        let res = with_token.post("/complaints", &fields(csrf, text)).await;
        assert_eq!(res.status(), status, "{problem}");
        let page = res.text().await.unwrap();
        assert!(page.contains(problem), "{problem}");
        assert!(
            page.contains(text) && page.contains("某账号"),
            "{problem}: fields kept"
        );
    }
    let res = with_token
        .post("/complaints", &fields(&token, "有人冒充平台客服诈骗钱财。"))
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let page = res.text().await.unwrap();
    let ticket2 = page
        .split("<span class=\"mono\">")
        .nth(1)
        .unwrap()
        .split('<')
        .next()
        .unwrap()
        .to_owned();
    let (status, status_page) = html(&app, &format!("/complaints/{ticket2}")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(status_page.contains("已接收，待处理"));

    // Five per hour per address: two so far, three more pass, the sixth is refused.
    let another = json!({"category": "other", "target": "x", "text": "0123456789", "contact": "c"});
    for _ in 0..3 {
        let res = app.post_json("/api/v1/complaints", &another).await;
        assert_eq!(res.status(), StatusCode::CREATED);
    }
    let res = app.post_json("/api/v1/complaints", &another).await;
    assert_error(res, StatusCode::TOO_MANY_REQUESTS, "rate_limited").await;
    app.clock.advance_ms(60 * 60_000);
    let res = app.post_json("/api/v1/complaints", &another).await;
    assert_eq!(res.status(), StatusCode::CREATED);
    app.stop().await;
}
