//! Pages in a real headless Chromium: the DOM it builds and a screenshot at
//! phone and desktop widths. Skipped, with the reason printed, where no
//! Chromium is installed (`.ci/run` installs it).

use std::path::Path;
use std::process::Command;

use crate::chain::populate;
use crate::harness::TestApp;

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

    // A collectible bought and minted through the platform, for its
    // page and certificate.
    let (d, work, alice) = crate::payments::market(&app).await;
    crate::collectibles::buy_and_mint(&app, &alice, d, "k-browser", 1).await;
    let cert = format!("/collectibles/work-{work}/1/certificate");

    // Written where people look after a run (not committed: under target/).
    let shots = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/screenshots");
    std::fs::create_dir_all(&shots).unwrap();
    for (width, name, path) in [
        (375, "phone.png", "/explorer/tokens/feitian/2"),
        (1280, "desktop.png", "/complaints"),
        (375, "certificate-375.png", cert.as_str()),
        (1280, "certificate-1280.png", &format!("{cert}?lang=zh-CN")),
    ] {
        let file = shots.join(name);
        let (binary, args) = (
            binary.to_owned(),
            vec![
                format!("--window-size={width},900"),
                format!("--screenshot={}", file.display()),
                format!("{base}{path}"),
            ],
        );
        tokio::task::spawn_blocking(move || run(&binary, &args))
            .await
            .unwrap();
        let png = std::fs::read(&file).unwrap_or_default();
        assert!(
            png.starts_with(b"\x89PNG") && png.len() > 5_000,
            "{name}: {} bytes",
            png.len()
        );
    }
    app.stop().await;
}
