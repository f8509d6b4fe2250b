//! Pages in a real headless Chromium: the DOM it builds, the whole journey
//! of a collector driven through ChromeDriver, and screenshots at phone and
//! desktop widths. Skipped, with the reason printed, where no Chromium or
//! ChromeDriver is installed (`.ci/run` installs both).

use std::path::Path;
use std::process::Command;

use serde_json::json;
use shucang_registry::UserRole;
use shucang_types::Role;

use crate::chain::populate;
use crate::harness::TestApp;
use crate::registry::{PASSWORD, Reg, pdf, png, resident_id};
use crate::webdriver::{CHROMIUM_FLAGS, Driver, Session, chromium};

/// Runs headless Chromium with a fresh profile; returns stdout.
fn run(binary: &str, args: &[String]) -> String {
    let profile = tempfile::tempdir().unwrap();
    let out = Command::new(binary)
        .args(CHROMIUM_FLAGS)
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

    register_and_give_the_real_name(&app, &browser, &base).await;
    let url = buy_in_the_demo_drop(&browser, &base).await;
    let hash = the_explorer_shows_the_mint(&app, &browser, &base).await;
    the_certificate_in_both_languages(&browser, &url, &hash).await;
    phone_width(&driver, &base, &url).await;
    injected_markup_never_runs(&app, &browser, &base).await;
    browser.quit().await;
    app.stop().await;
}

/// Register (the number, then the SMS code the demo shows on the page and
/// a password; the form logs the new account in) and give the real name.
async fn register_and_give_the_real_name(app: &TestApp, browser: &Session, base: &str) {
    browser.click_on("a[href='/register']").await;
    browser.fill("input[name=phone]", "13712345678").await;
    browser.click_on("form.form button").await;
    browser.find("input[name=code]").await;
    let code = crate::support::sms_code(&app.last_sms("13712345678").await).unwrap();
    assert!(
        browser.source().await.contains(&code),
        "the demo shows the SMS"
    );
    shoot(browser, "register-code", 375).await;
    browser.viewport(1280, 900).await;
    browser.fill("input[name=code]", &code).await;
    browser.fill("input[name=password]", "Journey#2026pw").await;
    browser.click_on("form.form button").await;
    browser.find("nav .user").await;
    browser.goto(&format!("{base}/me/identity")).await;
    browser.fill("input[name=name]", "张三").await;
    browser
        .fill(
            "input[name=id_number]",
            &crate::identity::id_number("32010219880808456"),
        )
        .await;
    browser.click_on("input[name=consent]").await;
    browser.click_on("form.form button").await;
    browser.find(".notice").await;
    let identity = browser.source().await;
    assert!(
        identity.contains("张*"),
        "real name not recorded: {identity}"
    );
}

/// The demo drop: buy one, pay on the sandbox page, follow the order to
/// the collectible; returns the collectible's URL.
async fn buy_in_the_demo_drop(browser: &Session, base: &str) -> String {
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
    shoot(browser, "collectible", 1280).await;

    url
}

/// The mint transaction's link opens its explorer page; the explorer's
/// latest lists update in place. Returns the mint's hash.
async fn the_explorer_shows_the_mint(app: &TestApp, browser: &Session, base: &str) -> String {
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
    shoot(browser, "explorer", 1280).await;
    // The latest lists update in place: a block committed after the page
    // loaded appears without a reload.
    let before = browser.script("return document.querySelectorAll('#live-latest a[href^=\"/explorer/blocks/\"]').length;").await;
    let marker = browser
        .script("window.__same_page = true; return true;")
        .await;
    assert_eq!(marker, json!(true));
    let height = app.chain.stats().unwrap().height;
    populate(app).await;
    browser
        .find(&format!(
            "#live-latest a[href='/explorer/blocks/{}']",
            height + 1
        ))
        .await;
    assert_eq!(
        browser.script("return window.__same_page === true;").await,
        json!(true),
        "updated in place, not reloaded"
    );
    assert!(before.as_u64().unwrap() > 0);

    hash
}

/// The certificate, from the collectible page, and in English.
async fn the_certificate_in_both_languages(browser: &Session, url: &str, hash: &str) {
    browser.goto(url).await;
    browser.click_on("a[href$='/certificate']").await;
    browser.find(".qr svg").await;
    let cert = browser.source().await;
    assert!(cert.contains("数字藏品证书") && cert.contains(hash));
    shoot(browser, "certificate", 1280).await;
    browser.click_on("nav a[lang=en]").await;
    browser.find("html[lang=en]").await;
    let english = browser.source().await;
    assert!(
        english.contains("<html lang=\"en\"")
            && english.contains("Digital Collectible Certificate")
    );
    assert!(!english.contains("数字藏品证书"), "mixed languages");
}

/// Phone width: the same pages at 375 px.
async fn phone_width(driver: &Driver, base: &str, url: &str) {
    let phone_profile = tempfile::tempdir().unwrap();
    let phone = driver.session(phone_profile.path(), 375).await;
    let cert_path = url.trim_start_matches(base).to_owned() + "/certificate";
    for (name, path) in [
        ("home", "/".to_owned()),
        ("collectible", url.trim_start_matches(base).to_owned()),
        ("certificate", cert_path),
        ("explorer", "/explorer".to_owned()),
    ] {
        phone.goto(&format!("{base}{path}")).await;
        shoot(&phone, name, 375).await;
    }
    phone.quit().await;
}

/// Markup injected through a work's title and description, and a drop's
/// title, shows as text everywhere and never runs.
async fn injected_markup_never_runs(app: &TestApp, browser: &Session, base: &str) {
    let reviewer = app.staff("13900000051", Role::Reviewer).await;
    let admin = app.staff("13900000052", Role::SystemAdmin).await;
    let res = crate::works::submit(
        app,
        &admin,
        crate::works::form(
            INJECTED_TITLE,
            INJECTED_DESCRIPTION,
            "10",
            crate::works::png(),
        ),
    )
    .await;
    assert_eq!(res.status(), 201);
    let work = crate::support::id_of(res).await;
    let res = crate::works::review(app, &reviewer, work, json!({"decision": "approve"})).await;
    assert_eq!(res.status(), 200);
    let mut body = crate::drops::drop_body(work, 10, 2, -60_000, 86_400_000);
    body["title"] = json!(INJECTED_TITLE);
    let res = crate::drops::create_drop(app, &admin, body).await;
    assert_eq!(res.status(), 201);
    let d = crate::support::id_of(res).await;
    let buyer = crate::drops::buyer(app, 77).await;
    crate::collectibles::buy_and_mint(app, &buyer, d, "xss", 1).await;
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
}

/// The registry in a real browser: a filer registers (SMS code and e-mail
/// link from the outbox), fills the four-step form and uploads the
/// documents, submits; a reviewer approves from the queue; a publisher
/// gathers and publishes the batch; the public search shows the number.
#[tokio::test]
async fn a_filer_files_in_the_browser_and_the_public_search_finds_the_number() {
    if let Some(reason) = crate::webdriver::unavailable() {
        eprintln!("skipping the registry browser test: {reason}");
        return;
    }
    let reg = Reg::spawn(None).await;
    let driver = Driver::start().await;
    let profile = tempfile::tempdir().unwrap();
    let browser = driver.session(profile.path(), 1280).await;
    a_filer_registers_from_the_outbox(&reg, &browser).await;
    the_four_steps(&browser).await;
    documents_and_submission(&browser).await;

    // The reviewer approves from the queue.
    let (reviewer, _reviewer_profile) = staff_session(
        &reg,
        &driver,
        (
            UserRole::Reviewer,
            "审核员甲",
            "13600000001",
            "r@cac.example.cn",
        ),
        "/review",
    )
    .await;
    let queue = reviewer.source().await;
    assert!(queue.contains("张三") && queue.contains("2026-11-03") && queue.contains(">20<"));
    shoot(&reviewer, "registry-review", 1280).await;
    reviewer.click_on("a[href^='/review/applications/']").await;
    reviewer.find("dl.fields").await;
    // The application reads as the labelled form: names of types, the
    // documents as links, nothing of the stored data's shape.
    let read = reviewer.source().await;
    for shown in [
        "真实姓名",
        "张三",
        "居民身份证",
        "应用运营 · 区块链浏览器",
        "签字的真实性承诺书",
    ] {
        assert!(read.contains(shown), "{shown} on the reviewer's page");
    }
    for hidden in [
        "\"applicant\"",
        "null",
        "id_type",
        "resident_id",
        "application/pdf",
    ] {
        assert!(!read.contains(hidden), "{hidden} on the reviewer's page");
    }
    shoot(&reviewer, "registry-review-app", 1280).await;
    shoot(&reviewer, "registry-review-app", 375).await;
    reviewer
        .click_on("input[name=decision][value=approve]")
        .await;
    reviewer.click_on("form.form button").await;
    // Back on the queue (not still on the application, whose address
    // also starts with /review).
    reviewer.wait_until("location.pathname === '/review'").await;
    // It says what was decided, with the numbers issued.
    let confirmed = reviewer
        .text(&reviewer.find("p.notice[role=status]").await)
        .await;
    assert!(
        confirmed.contains("已审核通过，签发备案编号：") && confirmed.contains("网信备"),
        "{confirmed}"
    );

    // The publisher gathers and publishes the batch.
    let (publisher, _publisher_profile) = staff_session(
        &reg,
        &driver,
        (
            UserRole::Publisher,
            "公示员",
            "13600000002",
            "p@cac.example.cn",
        ),
        "/publish",
    )
    .await;
    publisher
        .click_on("form[action^='/publish/gather'] button")
        .await;
    publisher.click_on("form[action$='/publish'] button").await;
    publisher.find("form[action$='/finalise']").await;

    // The auditor lands on the record of who saw personal data unmasked:
    // the reviewer's view of the application is in it, in Chinese.
    let (auditor, _auditor_profile) = staff_session(
        &reg,
        &driver,
        (
            UserRole::Auditor,
            "审计员",
            "13600000003",
            "a@cac.example.cn",
        ),
        "/audit",
    )
    .await;
    let record = auditor.source().await;
    assert!(
        record.contains("个人信息查看记录") && record.contains("审核员甲 · 审核员"),
        "{record}"
    );
    let views = record.matches("审核员甲 · 审核员").count();
    assert_eq!(
        views, 1,
        "one page view; the decision posted after it shows nothing new"
    );
    shoot(&auditor, "registry-audit", 375).await;

    let public_profile = tempfile::tempdir().unwrap();
    let public = driver.session(public_profile.path(), 1280).await;
    the_public_search_finds_the_number(&reg, &public).await;
    for b in [browser, reviewer, publisher, auditor, public] {
        b.quit().await;
    }
    reg.stop().await;
}

/// Logs in through the registry's page as `phone`; waits for `lands_on`.
async fn sign_in(browser: &Session, base: &str, phone: &str, lands_on: &str) {
    browser.goto(&format!("{base}/login")).await;
    browser.fill("input[name=phone]", phone).await;
    browser.fill("input[name=password]", PASSWORD).await;
    browser.click_on("form.form button").await;
    browser.wait_url(lands_on).await;
}

/// A staff account (role, name, phone, e-mail) signed in in a browser of
/// its own; returns the browser and its profile directory.
async fn staff_session(
    reg: &Reg,
    driver: &Driver,
    (role, name, phone, email): (UserRole, &str, &str, &str),
    lands_on: &str,
) -> (Session, tempfile::TempDir) {
    reg.registry
        .create_staff(
            role,
            &shucang_registry::Person {
                name,
                phone,
                email,
                password: PASSWORD,
            },
        )
        .await
        .unwrap();
    let profile = tempfile::tempdir().unwrap();
    let browser = driver.session(profile.path(), 1280).await;
    sign_in(&browser, &reg.base, phone, lands_on).await;
    (browser, profile)
}

/// Registration, the SMS code, the e-mail link, login.
async fn a_filer_registers_from_the_outbox(reg: &Reg, browser: &Session) {
    let base = &reg.base;
    browser.goto(&format!("{base}/")).await;
    shoot(browser, "registry-search", 1280).await;
    browser.click_on("a[href='/register']").await;
    browser
        .fill_inputs(&[
            ("name", "张三"),
            ("phone", "13912345678"),
            ("email", "zhang@example.cn"),
            ("password", PASSWORD),
        ])
        .await;
    browser.click_on("form.form button").await;
    browser.wait_url("/verify").await;
    let code = reg.sms_code("13912345678").await;
    browser.fill("input[name=code]", &code).await;
    browser.click_on("form.form button").await;
    browser.wait_url("/login").await;
    let link = reg.email_link("zhang@example.cn").await;
    browser.goto(&link).await;
    assert!(browser.source().await.contains("邮箱已确认"));
    sign_in(browser, base, "13912345678", "/filer").await;
}

/// The four steps; each saves the draft.
async fn the_four_steps(browser: &Session) {
    browser
        .click_on("form[action^='/filer/applications'] button")
        .await;
    browser.wait_url("/step/1").await;
    browser.click_on("input[name=kind][value=individual]").await;
    let id = resident_id("11010519491231002");
    browser
        .fill_inputs(&[
            ("ind_name", "张三"),
            ("ind_id_number", id.as_str()),
            ("ind_id_address", "北京市海淀区中关村大街1号"),
            ("ind_mailing_address", "北京市海淀区中关村大街1号"),
            ("district_code", "110108"),
            ("place_address", "北京市海淀区中关村大街1号"),
        ])
        .await;
    shoot(browser, "registry-step1", 375).await;
    browser.click_on("button[value=next]").await;
    browser.wait_url("/step/2").await;
    browser
        .fill_inputs(&[
            ("name", "张三"),
            ("office_phone", "010-62345678"),
            ("id_number", id.as_str()),
            ("mobile", "13912345678"),
            ("email", "zhang@example.cn"),
        ])
        .await;
    browser.click_on("button[value=next]").await;
    browser.wait_url("/step/3").await;
    // The explorer's own questions appear once the type is chosen.
    let description = "为公众提供区块、交易与地址查询。";
    describe_service(browser, description, 2, "application/explorer").await;
    browser
        .fill_inputs(&[
            ("name", "张三的区块链浏览器"),
            ("website_name", "链上查"),
            ("url_or_client", "https://explorer.example.cn"),
            ("ex_url", "https://explorer.example.cn"),
            ("ex_annual", "100000"),
            ("ex_daily", "2000"),
            ("ex_ip", "203.0.113.7"),
            ("ex_location", "北京市"),
        ])
        .await;
    shoot(browser, "registry-step3", 1280).await;
    // Saved as a draft, then a second service (a wallet: no extra fields).
    browser.click_on("button[value=draft]").await;
    browser.find(".notice").await;
    browser.click_link("添加服务").await;
    browser.wait_url("service=1").await;
    browser
        .fill_inputs(&[
            ("name", "链上钱包"),
            ("website_name", "钱包"),
            ("url_or_client", "链上钱包 App"),
        ])
        .await;
    describe_service(browser, "数字藏品的托管钱包。", 3, "application/wallet").await;
    browser.click_on("button[value=next]").await;
    browser.wait_url("/step/4").await;
}

/// Answers the rest of a service's questions in step 3: its description,
/// a management mechanism, the `chain`-th main chain of the list and the
/// service type.
async fn describe_service(browser: &Session, description: &str, chain: usize, service_type: &str) {
    browser
        .fill("textarea[name=description]", description)
        .await;
    browser.click_on("input[name=mechanism][value=yes]").await;
    let chain = format!("select[name=main_chain] option:nth-child({chain})");
    browser.click_on(&chain).await;
    let service_type = format!("select[name=service_type] option[value='{service_type}']");
    browser.click_on(&service_type).await;
}

/// Documents: one upload form per slot; then the declaration agreed and
/// the application submitted, due 20 working days on.
async fn documents_and_submission(browser: &Session) {
    // Submitted before the documents: each missing one is named as the
    // form labels it, in Chinese, with no field path.
    browser.click_on("input[name=agreed]").await;
    browser.click_on("button[value=submit]").await;
    browser.find("div.error[role=alert]").await;
    let refused = browser
        .text(&browser.find("div.error[role=alert]").await)
        .await;
    assert!(
        refused.contains("主体证件 / 营业执照扫描件") && refused.contains("请上传材料"),
        "{refused}"
    );
    assert!(!refused.contains("applicant."), "{refused}");
    shoot(browser, "registry-problems", 375).await;
    // The file path is typed into the file input, as WebDriver does.
    let files = tempfile::tempdir().unwrap();
    let png_file = files.path().join("id.png");
    let pdf_file = files.path().join("declaration.pdf");
    std::fs::write(&png_file, png()).unwrap();
    std::fs::write(&pdf_file, pdf()).unwrap();
    for (n, file) in [(1, &png_file), (2, &png_file), (3, &pdf_file)] {
        let input = browser
            .find(&format!("main form:nth-of-type({n}) input[type=file]"))
            .await;
        browser.type_into(&input, &file.display().to_string()).await;
        browser
            .click_on(&format!("main form:nth-of-type({n}) button"))
            .await;
        // The old page has a notice too: wait for this upload's result.
        browser
            .wait_until(&format!(
                "document.body.innerText.split('已上传').length - 1 === {n}"
            ))
            .await;
    }
    let page = browser.source().await;
    assert_eq!(
        page.matches("已上传").count(),
        3,
        "three documents uploaded"
    );
    // Still agreed from the refused submission: the page kept it.
    browser
        .wait_until("document.querySelector('input[name=agreed]').checked")
        .await;
    browser.click_on("button[value=submit]").await;
    browser
        .wait_until("document.querySelector('.notice') && document.querySelector('.notice').innerText.includes('已提交')")
        .await;
    let done = browser.find(".notice").await;
    let notice = browser.text(&done).await;
    assert!(
        notice.contains("已提交") && notice.contains("2026-11-03"),
        "{notice}"
    );
    shoot(browser, "registry-submitted", 375).await;
}

/// The public search finds the number, in Chinese and in English.
async fn the_public_search_finds_the_number(reg: &Reg, public: &Session) {
    let token = reg.login("13912345678").await;
    let apps: serde_json::Value = reg
        .get("/api/v1/applications", Some(&token))
        .await
        .json()
        .await
        .unwrap();
    let number = apps[0]["numbers"][0]["number"].as_str().unwrap().to_owned();
    assert!(shucang_types::FilingNumber::parse(&number).is_ok());
    assert_eq!(
        apps[0]["numbers"].as_array().unwrap().len(),
        2,
        "one number per service"
    );
    public.goto(&format!("{}/", reg.base)).await;
    public.fill("input[name=q]", "张三").await;
    public.click_on("form.form button").await;
    public.wait_url("q=").await;
    let found = public.source().await;
    assert!(
        found.contains(&number)
            && found.contains("张三的区块链浏览器")
            && found.contains("审核通过")
    );
    shoot(public, "registry-search-found", 375).await;
    public
        .goto(&format!("{}/?lang=en&q={}", reg.base, number))
        .await;
    let en = public.source().await;
    assert!(
        en.contains("<html lang=\"en\"") && en.contains(&number) && en.contains("Filing number")
    );
}
