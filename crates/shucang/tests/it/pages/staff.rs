//! The staff console: reviewing works, creating drops, and the orders
//! overview, each for the roles that may.

use reqwest::StatusCode;
use serde_json::Value;
use shucang_types::Role;

use super::Visitor;
use crate::harness::TestApp;

#[tokio::test]
async fn the_staff_console_reviews_works_and_creates_drops() {
    let app = TestApp::spawn().await;
    let reviewer = app.staff("13900000061", Role::Reviewer).await;
    let admin = app.staff("13900000062", Role::SystemAdmin).await;
    let res = crate::works::submit(
        &app,
        &admin,
        crate::works::form("飞天", "转售请联系", "100", crate::works::png()),
    )
    .await;
    let work = crate::support::id_of(res).await;
    let csrf = "e".repeat(32);
    let as_ = |session: &str| Visitor::signed_in(&app, &csrf, session);
    let collector = crate::identity::user(&app, "13812347777").await;
    assert_eq!(
        as_(&collector).get("/staff").await.status(),
        StatusCode::FORBIDDEN
    );
    let image = format!("/staff/works/{work}/image");
    let res = Visitor::new(&app, format!("shucang_session={collector}"))
        .get(&image)
        .await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);

    let page = as_(&reviewer).text("/staff").await;
    assert!(
        page.contains("作品审核队列") && page.contains("飞天") && page.contains("转售"),
        "the queue with the filter's flag"
    );
    let res = Visitor::new(&app, format!("shucang_session={reviewer}"))
        .get(&image)
        .await;
    assert_eq!(res.headers()["content-type"], "image/png");
    let review = format!("/staff/works/{work}/review");
    let res = as_(&reviewer)
        .submit(
            &review,
            &[("decision", "reject".into()), ("reason", String::new())],
        )
        .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let res = as_(&admin)
        .submit(&review, &[("decision", "approve".into())])
        .await;
    assert_eq!(
        res.status(),
        StatusCode::FORBIDDEN,
        "system admins do not review"
    );
    let res = as_(&reviewer)
        .submit(&review, &[("decision", "approve".into())])
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert!(res.text().await.unwrap().contains("没有待审核的作品"));
    let public = app.get(&format!("/api/v1/works/{work}"), None).await;
    assert_eq!(public.status(), StatusCode::OK);
    drops_from_the_console(&app, &as_(&admin), &as_(&reviewer), work).await;
    app.stop().await;
}

/// An administrator creates a drop of the approved work from the console
/// (a price in more than fen refused); a reviewer may not.
async fn drops_from_the_console(
    app: &TestApp,
    admin: &Visitor<'_>,
    reviewer: &Visitor<'_>,
    work: i64,
) {
    let page = admin.text("/staff").await;
    assert!(page.contains("创建发售") && page.contains(&format!("value=\"{work}\"")));
    let fields = |price: &str| {
        vec![
            ("work_id", work.to_string()),
            ("title", "飞天 · 网页创建".into()),
            ("price", price.to_owned()),
            ("supply", "10".into()),
            ("per_user_limit", "2".into()),
            ("starts_at", "2026-11-28T08:00".into()),
            ("ends_at", "2026-12-28T20:00".into()),
        ]
    };
    let res = admin.submit("/staff/drops", &fields("9.999")).await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let res = reviewer.submit("/staff/drops", &fields("9.90")).await;
    assert_eq!(
        res.status(),
        StatusCode::FORBIDDEN,
        "reviewers do not create drops"
    );
    let res = admin.submit("/staff/drops", &fields("9.90")).await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let drops: Vec<Value> = app.get("/api/v1/drops", None).await.json().await.unwrap();
    assert_eq!(drops.len(), 1);
    assert_eq!(
        (
            drops[0]["price_fen"].as_u64(),
            drops[0]["starts_at"].as_str()
        ),
        (Some(990), Some("2026-11-28T00:00:00.000Z"))
    );
}

#[tokio::test]
async fn the_orders_overview_counts_and_lists_orders_for_staff_only() {
    let app = TestApp::spawn().await;
    let (d, _work, alice) = crate::payments::market(&app).await;
    crate::collectibles::buy_and_mint(&app, &alice, d, "k1", 1).await;
    let reserved = app.reserve(&alice, d, "k2", 1).await["order_id"]
        .as_i64()
        .unwrap();
    let staff = app.staff("13900000071", Role::Reviewer).await;
    let get = |session: Option<&str>, path: &str| {
        let visitor = Visitor::new(
            &app,
            session.map_or(String::new(), |s| format!("shucang_session={s}")),
        );
        let path = path.to_owned();
        async move {
            let res = visitor.get(&path).await;
            (res.status(), res.text().await.unwrap())
        }
    };
    let (status, page) = get(Some(&staff), "/staff/orders").await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("订单概览") && page.contains(&format!("href=\"/drops/{d}\"")));
    assert!(page.contains(&format!("#{reserved}")) && page.contains(&format!("#{}", reserved - 1)));
    assert!(
        page.contains("已铸造上链") && page.contains("待支付"),
        "{page}"
    );
    // Counts: two in all, one each reserved and minted.
    let stat = |label: &str| {
        let at = page.find(label).unwrap();
        let rest = &page[at..];
        let dd = rest.find("<dd>").unwrap() + 4;
        rest[dd..dd + rest[dd..].find('<').unwrap()].to_owned()
    };
    assert_eq!(stat("全部订单"), "2");
    let (_, minted) = get(Some(&staff), "/staff/orders?status=minted").await;
    assert!(!minted.contains(&format!("<td>#{reserved}</td>")));
    assert!(minted.contains(&format!("<td>#{}</td>", reserved - 1)));
    let (_, expired) = get(Some(&staff), "/staff/orders?status=expired&lang=en").await;
    assert!(expired.contains("No orders yet."));
    let (status, bad) = get(Some(&staff), "/staff/orders?status=lost").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(bad.contains("没有这种订单状态"));
    let (status, _) = get(Some(&alice), "/staff/orders").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = get(None, "/staff/orders").await;
    assert!(status.is_redirection());
    app.stop().await;
}
