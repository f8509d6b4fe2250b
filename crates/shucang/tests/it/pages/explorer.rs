//! The public block explorer's pages: both languages, search, the footer.

use reqwest::StatusCode;

use super::html;
use crate::chain::populate;
use crate::harness::TestApp;
use crate::support::{header, no_redirects};

#[tokio::test]
async fn explorer_pages_show_the_chain_in_both_languages() {
    let app = TestApp::spawn().await;
    let (_, bob, hashes) = populate(&app).await;
    let (status, zh) = html(&app, "/explorer").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        zh.contains("<html lang=\"zh-CN\">")
            && zh.contains("区块浏览器")
            && zh.contains("最新区块")
    );
    assert!(
        zh.contains("区块链信息服务备案编号：未配置"),
        "the footer says what is not configured"
    );
    assert!(
        zh.contains(&hashes[2][..10]),
        "the latest transaction is listed"
    );
    assert!(zh.contains("<svg class=\"chart\""));
    assert!(
        !zh.contains(" 1439,160.0\""),
        "the chart ends at the application's now, with the transactions just made"
    );
    let (_, en) = html(&app, "/explorer?lang=en").await;
    assert!(en.contains("<html lang=\"en\">") && en.contains("Latest blocks"));
    assert!(
        !en.contains("最新区块") && !en.contains("区块浏览器"),
        "no mixed-language page"
    );
    let res = app
        .get_with_header("/explorer", "accept-language", "en-GB,en;q=0.9")
        .await;
    assert!(res.text().await.unwrap().contains("Latest blocks"));

    let (s, block) = html(&app, "/explorer/blocks/3").await;
    assert_eq!(s, StatusCode::OK);
    assert!(block.contains("#3") && block.contains(&hashes[2][..10]));
    let (s, tx) = html(&app, &format!("/explorer/txs/{}", hashes[2])).await;
    assert_eq!(s, StatusCode::OK);
    assert!(tx.contains(&hashes[2]) && tx.contains(&bob.to_string()) && tx.contains("转赠"));
    assert!(
        tx.contains(&format!("/api/v1/chain/txs/{}/proof", hashes[2]))
            && tx.contains("shucang chain verify-proof")
    );
    let (s, address) = html(&app, &format!("/explorer/addresses/{bob}")).await;
    assert_eq!(s, StatusCode::OK);
    assert!(address.contains("/explorer/tokens/feitian/2"));
    let (s, token) = html(&app, "/explorer/tokens/feitian/2").await;
    assert_eq!(s, StatusCode::OK);
    assert!(token.contains("#2/10") && token.contains("铸造") && token.contains("转赠"));
    let (s, coll) = html(&app, "/explorer/collections/feitian?lang=en").await;
    assert_eq!(s, StatusCode::OK);
    assert!(
        coll.contains("飞天") && coll.contains("Supply cap"),
        "content in its own language, labels in English"
    );

    for path in [
        "/explorer/blocks/99",
        "/explorer/blocks/abc",
        "/explorer/txs/zz",
        "/explorer/addresses/0x12",
        "/explorer/tokens/feitian/99",
        "/explorer/collections/NOPE",
        "/no/such/page",
    ] {
        let (s, body) = html(&app, path).await;
        assert_eq!(s, StatusCode::NOT_FOUND, "{path}");
        assert!(body.contains("页面不存在"), "{path}");
    }
    let css = app.get("/static/site.css", None).await;
    assert!(header(&css, "cache-control").contains("max-age"));
    app.stop().await;
}

#[tokio::test]
async fn search_redirects_to_the_match_or_says_nothing_matched() {
    let app = TestApp::spawn().await;
    let (_, bob, hashes) = populate(&app).await;
    let go = |q: String| {
        let client = no_redirects();
        let url = app.url("/explorer/search");
        async move {
            client
                .get(url)
                .query(&[("q", q)])
                .header("accept", "text/html")
                .send()
                .await
                .unwrap()
        }
    };
    for (q, to) in [
        ("2".to_owned(), "/explorer/blocks/2".to_owned()),
        (hashes[1].clone(), format!("/explorer/txs/{}", hashes[1])),
        (bob.to_string(), format!("/explorer/addresses/{bob}")),
        (
            "feitian/2".to_owned(),
            "/explorer/tokens/feitian/2".to_owned(),
        ),
        (
            "feitian #3".to_owned(),
            "/explorer/tokens/feitian/3".to_owned(),
        ),
        (
            "feitian".to_owned(),
            "/explorer/collections/feitian".to_owned(),
        ),
    ] {
        let res = go(q.clone()).await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER, "{q}");
        assert_eq!(res.headers()["location"], to.as_str(), "{q}");
    }
    let res = go("<script>alert(1)</script>".to_owned()).await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    let body = res.text().await.unwrap();
    assert!(
        body.contains("&lt;script&gt;") && !body.contains("<script>alert"),
        "escaped"
    );
    assert_eq!(go("99".to_owned()).await.status(), StatusCode::NOT_FOUND);
    assert_eq!(go(String::new()).await.status(), StatusCode::NOT_FOUND);
    app.stop().await;
}

#[tokio::test]
async fn the_footer_shows_the_configured_numbers() {
    let app = TestApp::spawn_configured(|c| {
        c.site.blockchain_filing_number = Some("京网信备1101081963896882001X号".into());
        c.site.icp_number = Some("京ICP备00000000号".into());
        c.site.public_security_filing_number = Some("京公网安备11010802012345号".into());
        c.site.technical_provider = Some("某某数字科技有限公司".into());
    })
    .await;
    let (_, page) = html(&app, "/explorer").await;
    assert!(page.contains("京网信备1101081963896882001X号"));
    assert!(page.contains("京ICP备00000000号"));
    assert!(page.contains("某某数字科技有限公司"));
    // The numbers link to where anyone checks them, as Chinese sites do:
    // the ICP number to the ministry's filing system, the public-security
    // number (with its badge) to its own record.
    assert!(
        page.contains("href=\"https://beian.miit.gov.cn/\""),
        "{page}"
    );
    assert!(
        page.contains("webSearch?code=11010802012345") && page.contains("psb-badge"),
        "{page}"
    );
    app.stop().await;
    let app = TestApp::spawn().await;
    let (_, page) = html(&app, "/explorer").await;
    assert!(page.contains("公安机关备案号：未配置"));
    app.stop().await;
}
