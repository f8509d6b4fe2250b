//! The shop's pages: the home page and a drop's page, and buying from the
//! drop page through the sandbox payment to the minted order.

use reqwest::StatusCode;

use super::{Visitor, html};
use crate::harness::TestApp;
use crate::payments::market;
use crate::support::header;

#[tokio::test]
async fn the_home_and_drop_pages_show_what_is_on_sale() {
    let app = TestApp::spawn().await;
    let (d, _, _) = market(&app).await;
    let admin = app.token("13900000042", "Staff#2026pass").await;
    let reviewer = app.token("13900000041", "Staff#2026pass").await;
    let work = crate::drops::approved_work(&app, [&admin, &reviewer], 50).await;
    let day = 24 * 60 * 60_000;
    let later = crate::drops::create_drop(
        &app,
        &admin,
        crate::drops::drop_body(work, 10, 1, day + 90 * 60_000, 3 * day),
    )
    .await;
    let later = crate::support::id_of(later).await;

    let (status, home) = html(&app, "/").await;
    assert_eq!(status, StatusCode::OK);
    assert!(home.contains("正在发售") && home.contains("即将开售"));
    assert!(home.contains(&format!("/drops/{d}")) && home.contains(&format!("/drops/{later}")));
    assert!(home.contains("¥9.90") && home.contains("发售中"));
    // The upcoming drop counts down (and ticks in the browser); the works
    // are featured with their collection on the chain.
    assert!(home.contains("距开售 1 天 1 小时 30 分钟") && home.contains("class=\"countdown\""));
    assert!(home.contains("精选作品"));
    assert!(
        home.contains(&format!("collections&#x2f;work-{work}"))
            || home.contains(&format!("collections/work-{work}"))
    );
    assert!(
        home.contains("已铸造 0 份，共 50 份"),
        "minted count of the new work: {}",
        &home[home.find("精选作品").unwrap_or(0)..]
    );
    let (status, page) = html(&app, &format!("/drops/{d}")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        page.contains("每人限购") && page.contains("先到先得") && page.contains("敦煌文创有限公司")
    );
    let (_, upcoming) = html(&app, &format!("/drops/{later}")).await;
    assert!(upcoming.contains("距开售 1 天 1 小时 30 分钟"), "countdown");
    let (_, en) = html(&app, &format!("/drops/{d}?lang=en")).await;
    assert!(en.contains("Limit per account") && !en.contains("每人限购"));
    for path in ["/drops/999", "/drops/x"] {
        assert_eq!(html(&app, path).await.0, StatusCode::NOT_FOUND, "{path}");
    }
    app.stop().await;
}

#[tokio::test]
async fn buying_on_the_web_from_the_drop_page_to_the_minted_order() {
    let app = TestApp::spawn().await;
    let (d, work, alice) = market(&app).await;
    let csrf = "c".repeat(32);
    let buyer = Visitor::signed_in(&app, &csrf, &alice);
    let nobody = Visitor::new(&app, "");

    let (_, anonymous) = html(&app, &format!("/drops/{d}")).await;
    assert!(anonymous.contains("登录后购买") && !anonymous.contains("立即购买"));
    let unverified = crate::identity::user(&app, "13812349999").await;
    let page = Visitor::new(&app, format!("shucang_session={unverified}"))
        .text(&format!("/drops/{d}"))
        .await;
    assert!(page.contains("完成实名认证后购买"));

    let page = buyer.text(&format!("/drops/{d}")).await;
    assert!(page.contains("立即购买"));
    let buy =
        |quantity: &str, key: &str| [("key", key.to_owned()), ("quantity", quantity.to_owned())];
    let res = buyer
        .submit(&format!("/drops/{d}/buy"), &buy("3", "k1"))
        .await;
    assert_eq!(res.status(), StatusCode::CONFLICT);
    assert!(res.text().await.unwrap().contains("已达到每人限购数量"));
    let res = buyer
        .submit(&format!("/drops/{d}/buy"), &buy("2", "k2"))
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let pay_url = header(&res, "location");
    assert!(pay_url.starts_with("/api/v1/sandbox/payments/sbx_"));
    let pay_page = nobody.text(&pay_url).await;
    let payment_id = pay_url.rsplit('/').next().unwrap();
    assert!(pay_page.contains(&format!("action=\"/sandbox/pay/{payment_id}\"")));
    let res = nobody
        .client
        .post(app.url(&format!("/sandbox/pay/{payment_id}")))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let order_url = header(&res, "location");
    let paid = buyer.text(&order_url).await;
    // The mint worker, woken by the payment, may already have minted it.
    assert!(
        (paid.contains("正在上链铸造") && paid.contains("http-equiv=\"refresh\""))
            || paid.contains("已铸造上链"),
        "{paid}"
    );
    app.payments.process_mint_jobs().await.unwrap();
    let minted = buyer.text(&order_url).await;
    assert!(
        minted.contains("已铸造上链") && minted.contains(&format!("/collectibles/work-{work}/1"))
    );
    // Someone else's order is not found.
    let bob = crate::drops::buyer(&app, 903).await;
    let res = Visitor::new(&app, format!("shucang_session={bob}"))
        .request(nobody.client.get(app.url(&order_url)))
        .header("accept", "text/html")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    app.stop().await;
}
