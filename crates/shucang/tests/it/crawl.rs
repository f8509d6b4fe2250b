//! Every page, as each kind of user reaches it, in real Chromium at a
//! phone's width: a crawl of both applications that follows the links a
//! person can follow and holds each page to the rules for pages — it fits
//! 375 px, it shows no JSON, and a Chinese page shows no English from our
//! own translation tables (every rendered text node checked against every
//! English phrase the tables hold). Skipped, with the reason printed,
//! where no Chromium or ChromeDriver is installed.

use std::collections::{BTreeSet, VecDeque};

use serde_json::Value;
use shucang_registry::UserRole;
use shucang_types::Role;

use crate::harness::TestApp;
use crate::registry::{PASSWORD, Reg};
use crate::webdriver::{Driver, Session};

/// Pages one crawl visits at most.
const PAGES_MAX: usize = 60;

/// The phone's width every page must fit.
const PHONE: u32 = 375;

/// English phrases of our own texts: every value of the English tables
/// that differs from the Chinese one, cut at its placeholders, kept where
/// a piece is long enough to be a phrase rather than a name or a code.
fn english_phrases() -> Vec<String> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../shucang-web/i18n");
    let table = |name: &str| -> serde_json::Map<String, Value> {
        let text = std::fs::read_to_string(dir.join(name)).unwrap();
        serde_json::from_str(&text).unwrap()
    };
    let mut phrases = BTreeSet::new();
    for (en, zh) in [
        ("en.json", "zh-CN.json"),
        ("registry.en.json", "registry.zh-CN.json"),
    ] {
        let (en, zh) = (table(en), table(zh));
        for (key, value) in &en {
            let (Some(english), Some(chinese)) = (value.as_str(), zh[key].as_str()) else {
                continue;
            };
            if english == chinese {
                continue;
            }
            for piece in english.split(['{', '}']) {
                let piece = piece.trim_matches(|c: char| !c.is_alphanumeric());
                let words = piece.split_whitespace().count();
                if words >= 2 && piece.len() >= 8 {
                    phrases.insert(piece.to_owned());
                }
            }
        }
    }
    phrases.into_iter().collect()
}

/// What a page is, as the browser rendered it.
struct Seen {
    url: String,
    text: String,
    lang: String,
    width: u64,
    links: Vec<String>,
}

/// Reads the page the browser is on.
async fn look(browser: &Session) -> Seen {
    let v = browser
        .script(
            "return {url: location.href, text: document.body ? document.body.innerText : '', \
             lang: document.documentElement.lang, \
             width: document.documentElement.scrollWidth, \
             links: Array.from(document.querySelectorAll('a[href]')).map(a => a.href)};",
        )
        .await;
    Seen {
        url: v["url"].as_str().unwrap_or("").to_owned(),
        text: v["text"].as_str().unwrap_or("").to_owned(),
        lang: v["lang"].as_str().unwrap_or("").to_owned(),
        width: v["width"].as_u64().unwrap_or(0),
        links: v["links"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|l| l.as_str().map(str::to_owned))
            .collect(),
    }
}

/// Whether the crawl follows `url` from `base`: a page of this server,
/// not a download, a file, the API, the other language, or logging out.
fn followed(base: &str, url: &str) -> bool {
    let Some(path) = url.strip_prefix(base) else {
        return false;
    };
    let path = path.split('#').next().unwrap_or("");
    ![
        "/api/",
        "/static/",
        "/logout",
        "lang=en",
        "/attachments/",
        "/certificate",
        "/image",
        "/metadata",
        "/csv",
        "/proof",
    ]
    .iter()
    .any(|skip| path.contains(skip))
        && !path.is_empty()
}

/// Crawls from `start` as the browser's user; returns the problems found
/// and how many pages were seen.
async fn crawl(
    browser: &Session,
    base: &str,
    start: &[&str],
    phrases: &[String],
) -> (Vec<String>, usize) {
    let mut queue: VecDeque<String> = start.iter().map(|p| format!("{base}{p}")).collect();
    let mut seen = BTreeSet::new();
    let mut problems = Vec::new();
    while let Some(url) = queue.pop_front() {
        // One page per path and query shape is enough (the tenth
        // collectible reads like the first).
        let shape: String = url
            .chars()
            .map(|c| if c.is_ascii_digit() { '0' } else { c })
            .collect();
        if seen.len() >= PAGES_MAX || !seen.insert(shape) {
            continue;
        }
        browser.goto(&url).await;
        let page = look(browser).await;
        let at = page.url.clone();
        if page.width > u64::from(PHONE) + 1 {
            problems.push(format!("{at}: {} px wide at {PHONE} px", page.width));
        }
        for json in ["{\"", "\":", "null,"] {
            if page.text.contains(json) {
                problems.push(format!("{at}: shows JSON ({json})"));
            }
        }
        if page.lang == "zh-CN" {
            for phrase in phrases {
                if page.text.contains(phrase.as_str()) {
                    problems.push(format!("{at}: English on a Chinese page: {phrase:?}"));
                }
            }
        }
        for link in page.links {
            if followed(base, &link) {
                queue.push_back(link.split('#').next().unwrap_or("").to_owned());
            }
        }
    }
    (problems, seen.len())
}

#[tokio::test]
async fn every_page_fits_a_phone_shows_no_json_and_speaks_only_chinese() {
    if let Some(reason) = crate::webdriver::unavailable() {
        eprintln!("skipping the page crawl: {reason}");
        return;
    }
    let phrases = english_phrases();
    assert!(
        phrases.len() > 100,
        "the tables hold phrases: {}",
        phrases.len()
    );
    let driver = Driver::start().await;
    let mut problems = Vec::new();
    let mut report = Vec::new();

    // The platform: a visitor, a collector, a reviewer.
    let app = TestApp::spawn_demo().await;
    let base = app.url("");
    app.register("13712345678", "Crawl#2026pass").await;
    app.staff("13600000001", Role::Reviewer).await;
    for (who, phone, password, start) in [
        ("visitor", None, "", &["/", "/explorer", "/complaints"][..]),
        (
            "collector",
            Some("13712345678"),
            "Crawl#2026pass",
            &["/", "/me/identity", "/me/collection"][..],
        ),
        (
            "reviewer",
            Some("13600000001"),
            "Staff#2026pass",
            &["/staff"][..],
        ),
    ] {
        let profile = tempfile::tempdir().unwrap();
        let browser = driver.session(profile.path(), PHONE).await;
        browser.viewport(PHONE, 800).await;
        if let Some(phone) = phone {
            browser.goto(&format!("{base}/login")).await;
            browser.fill("input[name=phone]", phone).await;
            browser.fill("input[name=password]", password).await;
            browser.click_on("form.form button").await;
            browser.find("nav .user").await;
        }
        let (found, pages) = crawl(&browser, &base, start, &phrases).await;
        report.push(format!("platform {who}: {pages} pages"));
        problems.extend(found);
        browser.quit().await;
    }
    app.stop().await;

    // The registry: the public, a filer with an approved and published
    // filing, and each member of staff.
    let reg = Reg::spawn(None).await;
    let (filer, _, _, _) = crate::registry::an_approved_filing(&reg).await;
    // A second application waits in the reviewer's queue.
    let (id, _) = reg.drafted(&filer, crate::registry::institution_form).await;
    assert!(reg.submit(&filer, id).await.status().is_success());
    let publisher = reg.staff(UserRole::Publisher, "13600000002").await;
    reg.gather_and_publish(&publisher).await;
    reg.staff(UserRole::Auditor, "13600000003").await;
    for (who, phone, start) in [
        ("public", None, &["/", "/publication/batches/1"][..]),
        ("filer", Some("13912345678"), &["/filer"][..]),
        (
            "reviewer",
            Some("13600000001"),
            &["/review", "/review/applications/2"][..],
        ),
        ("publisher", Some("13600000002"), &["/publish"][..]),
        ("auditor", Some("13600000003"), &["/audit"][..]),
    ] {
        let profile = tempfile::tempdir().unwrap();
        let browser = driver.session(profile.path(), PHONE).await;
        browser.viewport(PHONE, 800).await;
        if let Some(phone) = phone {
            browser.goto(&format!("{}/login", reg.base)).await;
            browser.fill("input[name=phone]", phone).await;
            browser.fill("input[name=password]", PASSWORD).await;
            browser.click_on("form.form button").await;
            browser.wait_until("location.pathname !== '/login'").await;
        }
        let (found, pages) = crawl(&browser, &reg.base, start, &phrases).await;
        report.push(format!("registry {who}: {pages} pages"));
        problems.extend(found);
        browser.quit().await;
    }
    reg.stop().await;
    eprintln!("crawled: {}", report.join("; "));
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
