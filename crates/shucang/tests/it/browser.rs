//! Pages in a real headless Chromium: the DOM it builds, the whole journey
//! of a collector driven through ChromeDriver, and screenshots at phone and
//! desktop widths. Skipped, with the reason printed, where no Chromium or
//! ChromeDriver is installed (`.ci/run` installs both).

use std::path::Path;
use std::process::Command;

use serde_json::json;
use shucang_types::Role;

use crate::chain::populate;
use crate::harness::TestApp;
use crate::webdriver::{Driver, Session};

fn chromium() -> Option<&'static str> {
    ["/usr/bin/chromium", "/usr/bin/chromium-browser"]
        .into_iter()
        .find(|p| Path::new(p).exists())
}

/// Runs headless Chromium with a fresh profile; returns stdout.
fn run(binary: &str, args: &[String]) -> String {
    let profile = tempfile::tempdir().unwrap();
    let out = Command::new(binary)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            "--lang=zh-CN",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .args(args)
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[tokio::test]
async fn chromium_renders_the_explorer_and_a_collectible() {
    let Some(binary) = chromium() else {
        eprintln!("skipping the browser test: no Chromium at /usr/bin/chromium");
        return;
    };
    let app = TestApp::spawn().await;
    let (_, _, hashes) = populate(&app).await;
    let base = app.url("");
    let dom = tokio::task::spawn_blocking({
        let (binary, url) = (binary.to_owned(), format!("{base}/explorer?lang=zh-CN"));
        move || run(&binary, &["--dump-dom".into(), url])
    })
    .await
    .unwrap();
    assert!(
        dom.contains("区块浏览器") && dom.contains("最新交易"),
        "{}",
        &dom[..dom.len().min(500)]
    );
    assert!(dom.contains(&hashes[2][..10]));
    assert!(dom.contains("区块链信息服务备案编号"));

    app.stop().await;
}

/// Where screenshots go (not committed: under `target/`).
fn screenshots() -> std::path::PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/screenshots");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Takes the screenshot and checks the page fits its width (nothing
/// overflowing sideways).
async fn shoot(browser: &Session, name: &str, width: u32) {
    let file = screenshots().join(format!("{name}-{width}.png"));
    let size = browser.full_screenshot(&file, width).await;
    assert!(size > 5_000, "{name} at {width}: {size} bytes");
    let overflow = browser
        .script(
            "return document.documentElement.scrollWidth - document.documentElement.clientWidth;",
        )
        .await;
    assert_eq!(overflow, 0, "{name} overflows sideways at {width} px");
}

/// A checksum-valid ID number of an adult.
fn id_number(body17: &str) -> String {
    format!(
        "{body17}{}",
        shucang_types::id_check_character(body17.as_bytes()) as char
    )
}

/// A work, drop and collectible whose texts carry markup: every page must
/// show it as text.
const INJECTED_TITLE: &str = "<script>window.__xss=1</script>飞天";
const INJECTED_DESCRIPTION: &str = "<img src=x onerror=\"window.__xss=2\">敦煌";

/// The collector's journey in a real browser: register, real name, buy in
/// the demo drop, pay in the sandbox, the collectible with its chain
/// block, the explorer from the transaction link, the certificate, English;
/// then no page runs markup injected through a work's texts.
#[tokio::test]
async fn a_collector_buys_in_the_demo_drop_and_follows_it_onto_the_chain() {
    if let Some(reason) = crate::webdriver::unavailable() {
        eprintln!("skipping the browser journey: {reason}");
        return;
    }
    let app = TestApp::spawn_demo().await;
    let base = app.url("");
    let driver = Driver::start().await;
    let profile = tempfile::tempdir().unwrap();
    let browser = driver.session(profile.path(), 1280).await;

    // Home, in Chinese by default, with the demo drops.
    browser.goto(&format!("{base}/")).await;
    let home = browser.source().await;
    assert!(home.contains("<html lang=\"zh-CN\"") && home.contains("飞天 · 首发"));
    shoot(&browser, "home", 1280).await;

    // Register (the form logs the new account in) and give the real name.
    browser.click_on("a[href='/register']").await;
    browser.fill("input[name=phone]", "13712345678").await;
    browser.fill("input[name=password]", "Journey#2026pw").await;
    browser.click_on("form.form button").await;
    browser.find("nav .user").await;
    browser.goto(&format!("{base}/me/identity")).await;
    browser.fill("input[name=name]", "张三").await;
    browser
        .fill("input[name=id_number]", &id_number("32010219880808456"))
        .await;
    browser.click_on("input[name=consent]").await;
    browser.click_on("form.form button").await;
    browser.find(".notice").await;
    let identity = browser.source().await;
    assert!(
        identity.contains("张*"),
        "real name not recorded: {identity}"
    );

    // The demo drop: buy one, pay on the sandbox page, follow the order.
    browser.goto(&format!("{base}/")).await;
    browser.click_link("飞天 · 首发").await;
    browser.find("form.buy").await;
    let drop = browser.source().await;
    assert!(drop.contains("¥9.90"), "price shown in yuan: {drop}");
    // Buying reserves the edition and goes straight to the provider's page.
    browser.click_on("form.buy button").await;
    browser.wait_url("/sandbox/payments/").await;
    browser
        .click_on("form[action^='/sandbox/pay/'] button")
        .await;
    // The order page refreshes itself until the collectible is minted.
    browser.click_on("ul.tokens a").await;
    let url = browser.wait_url("/collectibles/work-").await;
    let collectible = browser.source().await;
    assert!(collectible.contains("链上信息") && collectible.contains("#1/1000"));
    shoot(&browser, "collectible", 1280).await;

    // The mint transaction's link opens its explorer page.
    let tx_link = browser.find("a[href^='/explorer/txs/']").await;
    let hash = browser.text(&tx_link).await;
    browser.click(&tx_link).await;
    let tx_url = browser.wait_url("/explorer/txs/").await;
    assert!(
        tx_url.ends_with(&format!("/explorer/txs/{hash}")),
        "{tx_url}"
    );
    browser.find("pre").await;
    let tx = browser.source().await;
    assert!(tx.contains(&hash) && tx.contains("verify-proof"), "tx page");
    browser.goto(&format!("{base}/explorer")).await;
    shoot(&browser, "explorer", 1280).await;

    // The certificate, from the collectible page, and in English.
    browser.goto(&url).await;
    browser.click_on("a[href$='/certificate']").await;
    browser.find(".qr svg").await;
    let cert = browser.source().await;
    assert!(cert.contains("数字藏品证书") && cert.contains(&hash));
    shoot(&browser, "certificate", 1280).await;
    browser.click_on("nav a[lang=en]").await;
    browser.find("html[lang=en]").await;
    let english = browser.source().await;
    assert!(
        english.contains("<html lang=\"en\"")
            && english.contains("Digital Collectible Certificate")
    );
    assert!(!english.contains("数字藏品证书"), "mixed languages");

    // Phone width: the same pages at 375 px.
    let phone_profile = tempfile::tempdir().unwrap();
    let phone = driver.session(phone_profile.path(), 375).await;
    let cert_path = url.trim_start_matches(&base).to_owned() + "/certificate";
    for (name, path) in [
        ("home", "/".to_owned()),
        ("collectible", url.trim_start_matches(&base).to_owned()),
        ("certificate", cert_path),
        ("explorer", "/explorer".to_owned()),
    ] {
        phone.goto(&format!("{base}{path}")).await;
        shoot(&phone, name, 375).await;
    }
    phone.quit().await;

    // Markup injected through a work's title and description, and a drop's
    // title, shows as text everywhere and never runs.
    let reviewer = app.staff("13900000051", Role::Reviewer).await;
    let admin = app.staff("13900000052", Role::SystemAdmin).await;
    let res = crate::works::submit(
        &app,
        &reviewer,
        crate::works::form(
            INJECTED_TITLE,
            INJECTED_DESCRIPTION,
            "10",
            crate::works::png(),
        ),
    )
    .await;
    assert_eq!(res.status(), 201);
    let work = res.json::<serde_json::Value>().await.unwrap()["id"]
        .as_i64()
        .unwrap();
    let res = crate::works::review(&app, &reviewer, work, json!({"decision": "approve"})).await;
    assert_eq!(res.status(), 200);
    let mut body = crate::drops::drop_body(work, 10, 2, -60_000, 86_400_000);
    body["title"] = json!(INJECTED_TITLE);
    let res = crate::drops::create_drop(&app, &admin, body).await;
    assert_eq!(res.status(), 201);
    let d = res.json::<serde_json::Value>().await.unwrap()["id"]
        .as_i64()
        .unwrap();
    let buyer = crate::drops::buyer(&app, 77).await;
    crate::collectibles::buy_and_mint(&app, &buyer, d, "xss", 1).await;
    for path in [
        "/".to_owned(),
        format!("/drops/{d}"),
        format!("/collectibles/work-{work}/1"),
        format!("/collectibles/work-{work}/1/certificate"),
        format!("/explorer/tokens/work-{work}/1"),
        format!("/explorer/collections/work-{work}"),
        "/me/collection".to_owned(),
    ] {
        browser.goto(&format!("{base}{path}")).await;
        let ran = browser.script("return window.__xss === undefined;").await;
        assert_eq!(ran, json!(true), "injected markup ran on {path}");
        let scripts = browser
            .script(
                "return Array.from(document.scripts).some(s => s.textContent.includes('__xss'));",
            )
            .await;
        assert_eq!(scripts, json!(false), "injected <script> element on {path}");
        let images = browser
            .script("return document.querySelectorAll('img[onerror]').length;")
            .await;
        assert_eq!(images, json!(0), "injected <img> on {path}");
    }
    browser.goto(&format!("{base}/drops/{d}")).await;
    assert!(
        browser
            .source()
            .await
            .contains("&lt;script&gt;window.__xss=1&lt;/script&gt;")
    );

    browser.quit().await;
    app.stop().await;
}
