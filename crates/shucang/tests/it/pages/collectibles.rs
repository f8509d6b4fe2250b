//! A collectible's pages: the on-chain record, the certificate (HTML and
//! PNG, with a QR code for the explorer page) and the gift form.

use reqwest::StatusCode;

use super::{Visitor, html};
use crate::collectibles::buy_and_mint;
use crate::harness::TestApp;
use crate::payments::market;

#[tokio::test]
async fn the_certificate_shows_the_record_and_a_qr_code_for_the_explorer_page() {
    let app = TestApp::spawn().await;
    let (d, work, alice) = market(&app).await;
    buy_and_mint(&app, &alice, d, "k1", 1).await;
    let api = app
        .get_json(&format!("/api/v1/collectibles/work-{work}/1"), None)
        .await;
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
    // A request naming another host gets the same code: the address comes
    // from the configuration or the bound socket, never from `Host`.
    let forged = app
        .get_with_header(&path, "host", "evil.example")
        .await
        .text()
        .await
        .unwrap();
    assert!(!forged.contains("evil.example"));
    assert!(forged.contains(svg));
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
    let (d, work, alice) = market(&app).await;
    buy_and_mint(&app, &alice, d, "k1", 1).await;
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
    let (d, work, alice) = market(&app).await;
    let editions = buy_and_mint(&app, &alice, d, "k1", 1).await;
    let api = app
        .get_json(
            &format!("/api/v1/collectibles/work-{work}/{}", editions[0]),
            None,
        )
        .await;
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
    let mine = Visitor::new(&app, format!("shucang_session={alice}"))
        .text("/me/collection")
        .await;
    assert!(mine.contains(&format!("/collectibles/work-{work}/1")) && mine.contains("#1/1000"));
    app.stop().await;
}

#[tokio::test]
async fn gifting_from_the_collectible_page() {
    let app = TestApp::spawn().await;
    let (d, work, alice) = market(&app).await;
    buy_and_mint(&app, &alice, d, "k1", 1).await;
    crate::drops::buyer(&app, 904).await;
    let csrf = "d".repeat(32);
    let path = format!("/collectibles/work-{work}/1");
    let as_ = |session: &str| Visitor::signed_in(&app, &csrf, session);
    let gift = |phone: &str, password: &str| {
        [
            ("to_phone", phone.to_owned()),
            ("password", password.to_owned()),
        ]
    };
    let gift_path = format!("{path}/gift");
    assert!(
        as_(&alice).text(&path).await.contains("确认转赠"),
        "the holder sees the gift form"
    );
    let stranger = crate::identity::user(&app, "13812348888").await;
    assert!(
        !as_(&stranger).text(&path).await.contains("确认转赠"),
        "others do not"
    );

    let res = as_(&alice)
        .submit(&gift_path, &gift("13700000904", "Shucang#2026"))
        .await;
    assert_eq!(res.status(), StatusCode::CONFLICT);
    assert!(res.text().await.unwrap().contains("尚在持有期内"));
    app.clock.advance_ms(180 * 24 * 60 * 60_000);
    let alice = app.token("13700000900", "Shucang#2026").await;
    let holder = as_(&alice);
    let res = holder
        .submit(&gift_path, &gift("13700000904", "Wrong#pass1"))
        .await;
    assert!(res.text().await.unwrap().contains("密码错误"));
    let res = holder
        .submit(&gift_path, &gift("13500000000", "Shucang#2026"))
        .await;
    assert!(res.text().await.unwrap().contains("受赠人未注册"));
    let res = holder
        .submit(&gift_path, &gift("13700000904", "Shucang#2026"))
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let done = Visitor::new(&app, "")
        .text(res.headers()["location"].to_str().unwrap())
        .await;
    assert!(
        done.contains("转赠成功") && done.contains("转赠</strong>"),
        "done, and the history shows the gift"
    );
    app.stop().await;
}
