//! The public block explorer pages over HTTP, in Chinese and English.

use reqwest::StatusCode;

use crate::chain::populate;
use crate::harness::TestApp;

async fn html(app: &TestApp, path: &str) -> (StatusCode, String) {
    let res = app
        .client
        .get(app.url(path))
        .header("accept", "text/html")
        .send()
        .await
        .unwrap();
    let status = res.status();
    let ct = res.headers()["content-type"].to_str().unwrap().to_owned();
    assert!(ct.starts_with("text/html"), "{path}: {ct}");
    (status, res.text().await.unwrap())
}

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
    let (_, en) = html(&app, "/explorer?lang=en").await;
    assert!(en.contains("<html lang=\"en\">") && en.contains("Latest blocks"));
    assert!(
        !en.contains("最新区块") && !en.contains("区块浏览器"),
        "no mixed-language page"
    );
    let res = app
        .client
        .get(app.url("/explorer"))
        .header("accept-language", "en-GB,en;q=0.9")
        .send()
        .await
        .unwrap();
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
    assert!(
        css.headers()["cache-control"]
            .to_str()
            .unwrap()
            .contains("max-age")
    );
    app.stop().await;
}

#[tokio::test]
async fn search_redirects_to_the_match_or_says_nothing_matched() {
    let app = TestApp::spawn().await;
    let (_, bob, hashes) = populate(&app).await;
    let go = |q: String| {
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
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
        c.site.technical_provider = Some("某某数字科技有限公司".into());
    })
    .await;
    let (_, page) = html(&app, "/explorer").await;
    assert!(page.contains("京网信备1101081963896882001X号"));
    assert!(page.contains("京ICP备00000000号"));
    assert!(page.contains("某某数字科技有限公司"));
    assert!(page.contains("公安机关备案号：未配置"));
    app.stop().await;
}

#[tokio::test]
async fn the_certificate_shows_the_record_and_a_qr_code_for_the_explorer_page() {
    let app = TestApp::spawn().await;
    let (d, work, alice) = crate::payments::market(&app).await;
    crate::collectibles::buy_and_mint(&app, &alice, d, "k1", 1).await;
    let api: serde_json::Value = app
        .get(&format!("/api/v1/collectibles/work-{work}/1"), None)
        .await
        .json()
        .await
        .unwrap();
    let mint = api["chain"]["mint_tx_hash"].as_str().unwrap();
    let owner = api["chain"]["owner_address"].as_str().unwrap();
    let path = format!("/collectibles/work-{work}/1/certificate");
    let (status, page) = html(&app, &path).await;
    assert_eq!(status, StatusCode::OK);
    let explorer = format!("http://{}/explorer/tokens/work-{work}/1", app.addr);
    for needle in [
        "数字藏品证书".to_owned(),
        "#1/1000".to_owned(),
        "买*".to_owned(),
        mint.to_owned(),
        owner.to_owned(),
        "（北京时间）".to_owned(),
        "区块链信息服务备案编号".to_owned(),
    ] {
        assert!(page.contains(&needle), "missing {needle}");
    }
    // The link under the code and the code itself carry the explorer URL:
    // the page's SVG is exactly what encoding that URL produces.
    assert!(page.contains(&explorer.replace('/', "&#x2f;")));
    let expected =
        qrcode::QrCode::with_error_correction_level(explorer.as_bytes(), qrcode::EcLevel::M)
            .unwrap()
            .render::<qrcode::render::svg::Color<'_>>()
            .min_dimensions(160, 160)
            .quiet_zone(true)
            .build();
    let svg = &expected[expected.find("<svg").unwrap()..];
    assert!(page.contains(svg), "the QR code does not encode {explorer}");
    let (_, en) = html(&app, &format!("{path}?lang=en")).await;
    assert!(en.contains("Digital Collectible Certificate") && !en.contains("数字藏品证书"));
    let (_, coll) = html(&app, &format!("/collectibles/work-{work}/1")).await;
    assert!(coll.contains(&format!("href=\"{path}\"")));
    for bad in [
        "/collectibles/work-999/1/certificate",
        "/collectibles/nope!/1/certificate",
        "/collectibles/work-1/x/certificate",
    ] {
        let (status, _) = html(&app, bad).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{bad}");
    }
}

/// The certificate image: a PNG whose QR code, read back by a QR decoder,
/// opens the token's explorer page. Needs a CJK font (CI installs
/// fonts-noto-cjk); skipped with the reason printed without one.
#[tokio::test]
async fn the_certificate_png_carries_a_qr_code_that_opens_the_explorer_page() {
    if shucang_certificate::FontSource::detect().is_none() {
        eprintln!("skipping the certificate PNG test: no CJK font installed (fonts-noto-cjk)");
        return;
    }
    let app = TestApp::spawn().await;
    let (d, work, alice) = crate::payments::market(&app).await;
    crate::collectibles::buy_and_mint(&app, &alice, d, "k1", 1).await;
    let path = format!("/collectibles/work-{work}/1/certificate");
    let (_, page) = html(&app, &path).await;
    assert!(
        page.contains(&format!("href=\"{path}.png\"")),
        "no PNG link"
    );
    for query in ["", "?lang=en"] {
        let res = app.get(&format!("{path}.png{query}"), None).await;
        assert_eq!(res.status(), StatusCode::OK);
        assert_eq!(res.headers()["content-type"], "image/png");
        assert_eq!(
            res.headers()["content-disposition"],
            format!("attachment; filename=\"certificate-work-{work}-1.png\"")
        );
        let bytes = res.bytes().await.unwrap();
        let mut reader = png::Decoder::new(&bytes[..]).read_info().unwrap();
        let mut rgb = vec![0; reader.output_buffer_size()];
        let info = reader.next_frame(&mut rgb).unwrap();
        let (w, h) = (info.width as usize, info.height as usize);
        let grey = |x: usize, y: usize| {
            let at = (y * w + x) * 3;
            ((u16::from(rgb[at]) + u16::from(rgb[at + 1]) + u16::from(rgb[at + 2])) / 3) as u8
        };
        let mut img = rqrr::PreparedImage::prepare_from_greyscale(w, h, grey);
        let grids = img.detect_grids();
        assert_eq!(grids.len(), 1, "one QR code in the image");
        let (_, content) = grids[0].decode().unwrap();
        assert_eq!(
            content,
            format!("http://{}/explorer/tokens/work-{work}/1", app.addr)
        );
        // The image is written where people look after a run.
        let shots =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/screenshots");
        std::fs::create_dir_all(&shots).unwrap();
        let name = if query.is_empty() {
            "certificate-zh.png"
        } else {
            "certificate-en.png"
        };
        std::fs::write(shots.join(name), &bytes).unwrap();
    }
    for bad in [
        "/collectibles/work-999/1/certificate.png",
        "/collectibles/nope!/1/certificate.png",
    ] {
        let (status, _) = html(&app, bad).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{bad}");
    }
    app.stop().await;
}

#[tokio::test]
async fn the_collectible_page_shows_the_on_chain_record_linked_to_the_explorer() {
    let app = TestApp::spawn().await;
    let (d, work, alice) = crate::payments::market(&app).await;
    let editions = crate::collectibles::buy_and_mint(&app, &alice, d, "k1", 1).await;
    let api: serde_json::Value = app
        .get(
            &format!("/api/v1/collectibles/work-{work}/{}", editions[0]),
            None,
        )
        .await
        .json()
        .await
        .unwrap();
    let mint = api["chain"]["mint_tx_hash"].as_str().unwrap();
    let owner = api["chain"]["owner_address"].as_str().unwrap();
    let height = api["chain"]["mint_block_height"].as_u64().unwrap();
    let (status, page) = html(&app, &format!("/collectibles/work-{work}/{}", editions[0])).await;
    assert_eq!(status, StatusCode::OK);
    for needle in [
        "链上信息".to_owned(),
        "#1/1000".to_owned(),
        "买*".to_owned(),
        "shucang.local&#x2f;chain".to_owned(), // HTML-escaped "/"
        format!("/explorer/txs/{mint}"),
        format!("/explorer/blocks/{height}"),
        format!("/explorer/addresses/{owner}"),
        format!("/explorer/tokens/work-{work}/1"),
        format!("/api/v1/chain/txs/{mint}/proof"),
        "购买后满 180 天".to_owned(),
    ] {
        assert!(page.contains(&needle), "missing {needle}");
    }
    let (_, en) = html(&app, &format!("/collectibles/work-{work}/1?lang=en")).await;
    assert!(en.contains("On-chain record") && !en.contains("链上信息"));
    let (status, _) = html(&app, &format!("/collectibles/work-{work}/999")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let mine = app
        .client
        .get(app.url("/me/collection"))
        .header("cookie", format!("shucang_session={alice}"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(mine.contains(&format!("/collectibles/work-{work}/1")) && mine.contains("#1/1000"));
    app.stop().await;
}

#[tokio::test]
async fn complaints_api_and_form_with_csrf_and_a_rate_limit() {
    let app = TestApp::spawn().await;
    // The API: anonymous with a contact, or logged in.
    let res = app
        .post_json("/api/v1/complaints", &serde_json::json!({"category": "infringement", "target": "/collectibles/work-1/1", "text": "这件作品抄袭了我的原创插画。", "contact": "13900000000"}))
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let filed: serde_json::Value = res.json().await.unwrap();
    let ticket = filed["ticket"].as_str().unwrap().to_owned();
    assert!(ticket.starts_with("TS20261128-"), "{ticket}");
    let looked: serde_json::Value = app
        .get(&format!("/api/v1/complaints/{ticket}"), None)
        .await
        .json()
        .await
        .unwrap();
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
            serde_json::json!({"category": "spam", "target": "x", "text": "0123456789", "contact": "c"}),
            "invalid_field",
        ),
        (
            serde_json::json!({"category": "fraud", "target": "", "text": "0123456789", "contact": "c"}),
            "invalid_field",
        ),
        (
            serde_json::json!({"category": "fraud", "target": "x", "text": "short", "contact": "c"}),
            "invalid_field",
        ),
        (
            serde_json::json!({"category": "fraud", "target": "x", "text": "0123456789"}),
            "invalid_field",
        ),
        (
            serde_json::json!({"category": "fraud", "target": "x", "text": "0123456789", "contact": "c".repeat(101)}),
            "invalid_field",
        ),
    ] {
        crate::harness::assert_error(
            app.post_json("/api/v1/complaints", &body).await,
            StatusCode::UNPROCESSABLE_ENTITY,
            code,
        )
        .await;
    }
    crate::harness::assert_error(
        app.get("/api/v1/complaints/TS-NOPE", None).await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;

    // The form: a GET gives the token (cookie + hidden field); a POST needs both.
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let page = client.get(app.url("/complaints")).send().await.unwrap();
    let cookie = page.headers()["set-cookie"].to_str().unwrap().to_owned();
    assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"));
    let token = cookie
        .split(';')
        .next()
        .unwrap()
        .split_once('=')
        .unwrap()
        .1
        .to_owned();
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
    let res = client
        .post(app.url("/complaints"))
        .form(&fields(&token, "有人冒充平台客服诈骗钱财。"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN, "no cookie: refused");
    let res = client
        .post(app.url("/complaints"))
        .header("cookie", format!("shucang_csrf={token}"))
        .form(&fields(&"0".repeat(32), "有人冒充平台客服诈骗钱财。"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN, "mismatch: refused");
    assert!(res.text().await.unwrap().contains("表单已过期"));
    let res = client
        .post(app.url("/complaints"))
        .header("cookie", format!("shucang_csrf={token}"))
        .form(&fields(&token, "太短"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let page = res.text().await.unwrap();
    assert!(
        page.contains("投诉内容需为 10 至 2000 字") && page.contains("某账号"),
        "inline error, fields kept"
    );
    let res = client
        .post(app.url("/complaints"))
        .header("cookie", format!("shucang_csrf={token}"))
        .form(&fields(&token, "有人冒充平台客服诈骗钱财。"))
        .send()
        .await
        .unwrap();
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
    for _ in 0..3 {
        let res = app.post_json("/api/v1/complaints", &serde_json::json!({"category": "other", "target": "x", "text": "0123456789", "contact": "c"})).await;
        assert_eq!(res.status(), StatusCode::CREATED);
    }
    let res = app.post_json("/api/v1/complaints", &serde_json::json!({"category": "other", "target": "x", "text": "0123456789", "contact": "c"})).await;
    crate::harness::assert_error(res, StatusCode::TOO_MANY_REQUESTS, "rate_limited").await;
    app.clock.advance_ms(60 * 60_000);
    let res = app.post_json("/api/v1/complaints", &serde_json::json!({"category": "other", "target": "x", "text": "0123456789", "contact": "c"})).await;
    assert_eq!(res.status(), StatusCode::CREATED);
    app.stop().await;
}

#[tokio::test]
async fn the_home_and_drop_pages_show_what_is_on_sale() {
    let app = TestApp::spawn().await;
    let (d, _, _) = crate::payments::market(&app).await;
    let admin = app.token("13900000042", "Staff#2026pass").await;
    let reviewer = app.token("13900000041", "Staff#2026pass").await;
    let work = crate::drops::approved_work(&app, &reviewer, 50).await;
    let day = 24 * 60 * 60_000;
    let later = crate::drops::create_drop(
        &app,
        &admin,
        crate::drops::drop_body(work, 10, 1, day + 90 * 60_000, 3 * day),
    )
    .await;
    let later = later.json::<serde_json::Value>().await.unwrap()["id"]
        .as_i64()
        .unwrap();

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
async fn register_log_in_and_out_on_the_web() {
    let app = TestApp::spawn().await;
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let page = client.get(app.url("/register")).send().await.unwrap();
    let cookie = page.headers()["set-cookie"].to_str().unwrap().to_owned();
    let csrf = cookie
        .split(';')
        .next()
        .unwrap()
        .split_once('=')
        .unwrap()
        .1
        .to_owned();
    assert!(page.text().await.unwrap().contains("注册并登录"));
    let jar = format!("shucang_csrf={csrf}");
    let post = |path: &'static str, fields: Vec<(&'static str, String)>, cookie: String| {
        let (client, url) = (client.clone(), app.url(path));
        async move {
            client
                .post(url)
                .header("cookie", cookie)
                .form(&fields)
                .send()
                .await
                .unwrap()
        }
    };

    // Errors in the page, in Chinese, nothing created.
    let res = post(
        "/register",
        vec![
            ("csrf", csrf.clone()),
            ("phone", "12345".into()),
            ("password", "Shucang#2026".into()),
        ],
        jar.clone(),
    )
    .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(res.text().await.unwrap().contains("请输入中国大陆手机号"));
    let res = post(
        "/register",
        vec![
            ("csrf", csrf.clone()),
            ("phone", "13812345678".into()),
            ("password", "abcdefgh".into()),
        ],
        jar.clone(),
    )
    .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(res.text().await.unwrap().contains("至少三类"));
    let res = post(
        "/register",
        vec![
            ("phone", "13812345678".into()),
            ("password", "Shucang#2026".into()),
        ],
        jar.clone(),
    )
    .await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN, "no token in the form");
    assert_eq!(app.account_rows().await, 0);

    // Register: logged in at once.
    let res = post(
        "/register",
        vec![
            ("csrf", csrf.clone()),
            ("phone", "138 1234 5678".into()),
            ("password", "Shucang#2026".into()),
        ],
        jar.clone(),
    )
    .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let session = res.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    assert!(session.starts_with("shucang_session="));
    let logged_in = format!("{jar}; {session}");
    let home = client
        .get(app.url("/"))
        .header("cookie", &logged_in)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(home.contains("138****5678") && home.contains("退出"));
    let res = post(
        "/register",
        vec![
            ("csrf", csrf.clone()),
            ("phone", "13812345678".into()),
            ("password", "Shucang#2026".into()),
        ],
        jar.clone(),
    )
    .await;
    assert_eq!(res.status(), StatusCode::CONFLICT);

    // Log out: the session is gone for the API too.
    let res = post("/logout", vec![("csrf", csrf.clone())], logged_in.clone()).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert!(
        res.headers()["set-cookie"]
            .to_str()
            .unwrap()
            .contains("Max-Age=0")
    );
    let me = client
        .get(app.url("/api/v1/me"))
        .header("cookie", &logged_in)
        .send()
        .await
        .unwrap();
    assert_eq!(me.status(), StatusCode::UNAUTHORIZED);

    // Log in: a wrong password is said in the page; the right one logs in.
    let res = post(
        "/login",
        vec![
            ("csrf", csrf.clone()),
            ("phone", "13812345678".into()),
            ("password", "Wrong#pass1".into()),
        ],
        jar.clone(),
    )
    .await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    assert!(res.text().await.unwrap().contains("手机号或密码错误"));
    let res = post(
        "/login",
        vec![
            ("csrf", "f".repeat(32)),
            ("phone", "13812345678".into()),
            ("password", "Shucang#2026".into()),
        ],
        jar.clone(),
    )
    .await;
    assert_eq!(
        res.status(),
        StatusCode::FORBIDDEN,
        "a token that is not the cookie's"
    );
    let res = post(
        "/login",
        vec![
            ("csrf", csrf.clone()),
            ("phone", "13812345678".into()),
            ("password", "Shucang#2026".into()),
        ],
        jar.clone(),
    )
    .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let session = res.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    let me = client
        .get(app.url("/api/v1/me"))
        .header("cookie", format!("{jar}; {session}"))
        .send()
        .await
        .unwrap();
    assert_eq!(me.status(), StatusCode::OK);
    app.stop().await;
}

#[tokio::test]
async fn real_name_and_collection_pages_for_the_logged_in_account() {
    let app = TestApp::spawn().await;
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    // Not logged in: sent to the login page.
    let res = client.get(app.url("/me/identity")).send().await.unwrap();
    assert_eq!(
        (res.status(), res.headers()["location"].to_str().unwrap()),
        (StatusCode::SEE_OTHER, "/login")
    );
    let res = client.get(app.url("/me/collection")).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);

    let token = crate::identity::user(&app, "13812340000").await;
    let csrf = "a".repeat(32);
    let cookie = format!("shucang_csrf={csrf}; shucang_session={token}");
    let page = client
        .get(app.url("/me/identity"))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("个人信息处理告知与同意") && page.contains("name=\"consent\""));
    let id = crate::identity::id_number("11010519900307123");
    let post = |fields: Vec<(&'static str, String)>| {
        let (client, url, cookie) = (client.clone(), app.url("/me/identity"), cookie.clone());
        async move {
            client
                .post(url)
                .header("cookie", cookie)
                .form(&fields)
                .send()
                .await
                .unwrap()
        }
    };
    let res = post(vec![
        ("csrf", csrf.clone()),
        ("name", "张三".into()),
        ("id_number", id.clone()),
    ])
    .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        res.text().await.unwrap().contains("请先勾选同意"),
        "consent first"
    );
    let res = post(vec![
        ("csrf", csrf.clone()),
        ("name", "张三".into()),
        ("id_number", "110105199003071230".into()),
        ("consent", "yes".into()),
    ])
    .await;
    assert!(res.text().await.unwrap().contains("身份证号码无效"));
    let res = post(vec![
        ("csrf", "b".repeat(32)),
        ("name", "张三".into()),
        ("id_number", id.clone()),
        ("consent", "yes".into()),
    ])
    .await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let me: serde_json::Value = app
        .get("/api/v1/me", Some(&token))
        .await
        .json()
        .await
        .unwrap();
    assert!(me["real_name"].is_null(), "nothing stored by the refusals");
    let res = post(vec![
        ("csrf", csrf.clone()),
        ("name", "张三".into()),
        ("id_number", id.clone()),
        ("consent", "yes".into()),
    ])
    .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let page = client
        .get(app.url("/me/identity"))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("已完成实名认证") && page.contains("110105********"));
    assert!(!page.contains(&id), "never the full number");

    let page = client
        .get(app.url("/me/collection"))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("还没有藏品"));
    app.stop().await;
}

#[tokio::test]
async fn buying_on_the_web_from_the_drop_page_to_the_minted_order() {
    let app = TestApp::spawn().await;
    let (d, work, alice) = crate::payments::market(&app).await;
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let csrf = "c".repeat(32);
    let cookie = format!("shucang_csrf={csrf}; shucang_session={alice}");

    let (_, anonymous) = html(&app, &format!("/drops/{d}")).await;
    assert!(anonymous.contains("登录后购买") && !anonymous.contains("立即购买"));
    let unverified = crate::identity::user(&app, "13812349999").await;
    let page = client
        .get(app.url(&format!("/drops/{d}")))
        .header("cookie", format!("shucang_session={unverified}"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("完成实名认证后购买"));

    let page = client
        .get(app.url(&format!("/drops/{d}")))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("立即购买"));
    let buy = |quantity: &'static str, key: &'static str| {
        let (client, url, cookie, csrf) = (
            client.clone(),
            app.url(&format!("/drops/{d}/buy")),
            cookie.clone(),
            csrf.clone(),
        );
        async move {
            client
                .post(url)
                .header("cookie", cookie)
                .form(&[
                    ("csrf", csrf),
                    ("key", key.to_owned()),
                    ("quantity", quantity.to_owned()),
                ])
                .send()
                .await
                .unwrap()
        }
    };
    let res = buy("3", "k1").await;
    assert_eq!(res.status(), StatusCode::CONFLICT);
    assert!(res.text().await.unwrap().contains("已达到每人限购数量"));
    let res = buy("2", "k2").await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let pay_url = res.headers()["location"].to_str().unwrap().to_owned();
    assert!(pay_url.starts_with("/api/v1/sandbox/payments/sbx_"));
    let pay_page = client
        .get(app.url(&pay_url))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let payment_id = pay_url.rsplit('/').next().unwrap();
    assert!(pay_page.contains(&format!("action=\"/sandbox/pay/{payment_id}\"")));
    let res = client
        .post(app.url(&format!("/sandbox/pay/{payment_id}")))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let order_url = res.headers()["location"].to_str().unwrap().to_owned();
    let paid = client
        .get(app.url(&order_url))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    // The mint worker, woken by the payment, may already have minted it.
    assert!(
        (paid.contains("正在上链铸造") && paid.contains("http-equiv=\"refresh\""))
            || paid.contains("已铸造上链"),
        "{paid}"
    );
    app.payments.process_mint_jobs().await.unwrap();
    let minted = client
        .get(app.url(&order_url))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        minted.contains("已铸造上链") && minted.contains(&format!("/collectibles/work-{work}/1"))
    );
    // Someone else's order is not found.
    let bob = crate::drops::buyer(&app, 903).await;
    let res = client
        .get(app.url(&order_url))
        .header("cookie", format!("shucang_session={bob}"))
        .header("accept", "text/html")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    app.stop().await;
}

#[tokio::test]
async fn gifting_from_the_collectible_page() {
    let app = TestApp::spawn().await;
    let (d, work, alice) = crate::payments::market(&app).await;
    crate::collectibles::buy_and_mint(&app, &alice, d, "k1", 1).await;
    crate::drops::buyer(&app, 904).await;
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let csrf = "d".repeat(32);
    let path = format!("/collectibles/work-{work}/1");
    let view = |session: String| {
        let (client, url, csrf) = (client.clone(), app.url(&path), csrf.clone());
        async move {
            client
                .get(url)
                .header(
                    "cookie",
                    format!("shucang_csrf={csrf}; shucang_session={session}"),
                )
                .send()
                .await
                .unwrap()
                .text()
                .await
                .unwrap()
        }
    };
    let gift = |session: String, phone: &'static str, password: &'static str| {
        let (client, url, csrf) = (
            client.clone(),
            app.url(&format!("{path}/gift")),
            csrf.clone(),
        );
        async move {
            client
                .post(url)
                .header(
                    "cookie",
                    format!("shucang_csrf={csrf}; shucang_session={session}"),
                )
                .form(&[
                    ("csrf", csrf.clone()),
                    ("to_phone", phone.to_owned()),
                    ("password", password.to_owned()),
                ])
                .send()
                .await
                .unwrap()
        }
    };
    assert!(
        view(alice.clone()).await.contains("确认转赠"),
        "the holder sees the gift form"
    );
    let stranger = crate::identity::user(&app, "13812348888").await;
    assert!(
        !view(stranger.clone()).await.contains("确认转赠"),
        "others do not"
    );

    let res = gift(alice.clone(), "13700000904", "Shucang#2026").await;
    assert_eq!(res.status(), StatusCode::CONFLICT);
    assert!(res.text().await.unwrap().contains("尚在持有期内"));
    app.clock.advance_ms(180 * 24 * 60 * 60_000);
    let alice = app.token("13700000900", "Shucang#2026").await;
    let res = gift(alice.clone(), "13700000904", "Wrong#pass1").await;
    assert!(res.text().await.unwrap().contains("密码错误"));
    let res = gift(alice.clone(), "13500000000", "Shucang#2026").await;
    assert!(res.text().await.unwrap().contains("受赠人未注册"));
    let res = gift(alice.clone(), "13700000904", "Shucang#2026").await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let done = client
        .get(app.url(res.headers()["location"].to_str().unwrap()))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        done.contains("转赠成功") && done.contains("转赠</strong>"),
        "done, and the history shows the gift"
    );
    app.stop().await;
}

#[tokio::test]
async fn the_staff_console_reviews_works_and_creates_drops() {
    let app = TestApp::spawn().await;
    let reviewer = app
        .staff("13900000061", shucang_types::Role::Reviewer)
        .await;
    let admin = app
        .staff("13900000062", shucang_types::Role::SystemAdmin)
        .await;
    let res = crate::works::submit(
        &app,
        &reviewer,
        crate::works::form("飞天", "转售请联系", "100", crate::works::png()),
    )
    .await;
    let work = res.json::<serde_json::Value>().await.unwrap()["id"]
        .as_i64()
        .unwrap();
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let csrf = "e".repeat(32);
    let get = |session: String| {
        let (client, url, csrf) = (client.clone(), app.url("/staff"), csrf.clone());
        async move {
            client
                .get(url)
                .header(
                    "cookie",
                    format!("shucang_csrf={csrf}; shucang_session={session}"),
                )
                .send()
                .await
                .unwrap()
        }
    };
    let post = |session: String, path: String, fields: Vec<(&'static str, String)>| {
        let (client, url, csrf) = (client.clone(), app.url(&path), csrf.clone());
        async move {
            let mut fields = fields;
            fields.push(("csrf", csrf.clone()));
            client
                .post(url)
                .header(
                    "cookie",
                    format!("shucang_csrf={csrf}; shucang_session={session}"),
                )
                .form(&fields)
                .send()
                .await
                .unwrap()
        }
    };
    let collector = crate::identity::user(&app, "13812347777").await;
    assert_eq!(get(collector.clone()).await.status(), StatusCode::FORBIDDEN);
    let image = client
        .get(app.url(&format!("/staff/works/{work}/image")))
        .header("cookie", format!("shucang_session={collector}"))
        .send()
        .await
        .unwrap();
    assert_eq!(image.status(), StatusCode::FORBIDDEN);

    let page = get(reviewer.clone()).await.text().await.unwrap();
    assert!(
        page.contains("作品审核队列") && page.contains("飞天") && page.contains("转售"),
        "the queue with the filter's flag"
    );
    let image = client
        .get(app.url(&format!("/staff/works/{work}/image")))
        .header("cookie", format!("shucang_session={reviewer}"))
        .send()
        .await
        .unwrap();
    assert_eq!(image.headers()["content-type"], "image/png");
    let res = post(
        reviewer.clone(),
        format!("/staff/works/{work}/review"),
        vec![("decision", "reject".into()), ("reason", String::new())],
    )
    .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let res = post(
        admin.clone(),
        format!("/staff/works/{work}/review"),
        vec![("decision", "approve".into())],
    )
    .await;
    assert_eq!(
        res.status(),
        StatusCode::FORBIDDEN,
        "system admins do not review"
    );
    let res = post(
        reviewer.clone(),
        format!("/staff/works/{work}/review"),
        vec![("decision", "approve".into())],
    )
    .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert!(res.text().await.unwrap().contains("没有待审核的作品"));
    let public = app.get(&format!("/api/v1/works/{work}"), None).await;
    assert_eq!(public.status(), StatusCode::OK);

    let page = get(admin.clone()).await.text().await.unwrap();
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
    let res = post(admin.clone(), "/staff/drops".into(), fields("9.999")).await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let res = post(reviewer.clone(), "/staff/drops".into(), fields("9.90")).await;
    assert_eq!(
        res.status(),
        StatusCode::FORBIDDEN,
        "reviewers do not create drops"
    );
    let res = post(admin.clone(), "/staff/drops".into(), fields("9.90")).await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let drops: Vec<serde_json::Value> = app.get("/api/v1/drops", None).await.json().await.unwrap();
    assert_eq!(drops.len(), 1);
    assert_eq!(
        (
            drops[0]["price_fen"].as_u64(),
            drops[0]["starts_at"].as_str()
        ),
        (Some(990), Some("2026-11-28T00:00:00.000Z"))
    );
    app.stop().await;
}

#[tokio::test]
async fn the_orders_overview_counts_and_lists_orders_for_staff_only() {
    let app = TestApp::spawn().await;
    let (d, _work, alice) = crate::payments::market(&app).await;
    crate::collectibles::buy_and_mint(&app, &alice, d, "k1", 1).await;
    let res = crate::drops::buy(
        &app,
        &alice,
        d,
        Some("k2"),
        serde_json::json!({"quantity": 1}),
    )
    .await;
    let reserved = res.json::<serde_json::Value>().await.unwrap()["order_id"]
        .as_i64()
        .unwrap();
    let staff = app
        .staff("13900000071", shucang_types::Role::Reviewer)
        .await;
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let get = |session: Option<String>, path: &str| {
        let mut req = client.get(app.url(path));
        if let Some(s) = session {
            req = req.header("cookie", format!("shucang_session={s}"));
        }
        async move {
            let res = req.send().await.unwrap();
            (res.status(), res.text().await.unwrap())
        }
    };
    let (status, page) = get(Some(staff.clone()), "/staff/orders").await;
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
    let (_, minted) = get(Some(staff.clone()), "/staff/orders?status=minted").await;
    assert!(!minted.contains(&format!("<td>#{reserved}</td>")));
    assert!(minted.contains(&format!("<td>#{}</td>", reserved - 1)));
    let (_, expired) = get(Some(staff.clone()), "/staff/orders?status=expired&lang=en").await;
    assert!(expired.contains("No orders yet."));
    let (status, bad) = get(Some(staff.clone()), "/staff/orders?status=lost").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(bad.contains("没有这种订单状态"));
    let (status, _) = get(Some(alice.clone()), "/staff/orders").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = get(None, "/staff/orders").await;
    assert!(status.is_redirection());
    app.stop().await;
}
