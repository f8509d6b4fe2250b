//! A small W3C WebDriver client for the browser tests: ChromeDriver drives
//! Debian's headless Chromium; the test talks to ChromeDriver over HTTP.
//!
//! Why our own: the tests need a dozen endpoints of the W3C protocol
//! (navigate, find, click, type, read, run a script, screenshot), which are
//! plain JSON over HTTP with the `reqwest` client the tests already use; a
//! WebDriver crate would add its own HTTP stack and protocol types to every
//! test build for no gain.

use std::path::Path;
use std::time::{Duration, Instant};

use base64::Engine as _;
use serde_json::{Value, json};

/// The key under which W3C WebDriver returns an element reference.
const ELEMENT_KEY: &str = "element-6066-11e4-a52e-4f735466cecf";

/// How long to wait for a page to show what a test waits for.
pub const WAIT_MAX: Duration = Duration::from_secs(20);

/// How every test runs Chromium: headless, quiet, with no first-run
/// noise, in Chinese.
pub const CHROMIUM_FLAGS: [&str; 8] = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--lang=zh-CN",
];

/// A running ChromeDriver and the browsers it started; all killed when
/// dropped, also when a test fails half-way.
pub struct Driver {
    process: tokio::process::Child,
    base: String,
    http: reqwest::Client,
    chromium: &'static str,
}

/// Why the browser tests cannot run here (printed when they skip).
pub fn unavailable() -> Option<String> {
    if chromium().is_none() {
        return Some("no Chromium at /usr/bin/chromium (apt-get install chromium)".into());
    }
    if !Path::new("/usr/bin/chromedriver").exists() {
        return Some(
            "no ChromeDriver at /usr/bin/chromedriver (apt-get install chromium-driver)".into(),
        );
    }
    None
}

/// Where Debian installs Chromium, if it does here.
pub fn chromium() -> Option<&'static str> {
    ["/usr/bin/chromium", "/usr/bin/chromium-browser"]
        .into_iter()
        .find(|p| Path::new(p).exists())
}

impl Driver {
    /// Starts ChromeDriver on a free port and waits until it answers.
    pub async fn start() -> Driver {
        let chromium = chromium().expect("checked by unavailable()");
        let port = {
            let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            listener.local_addr().unwrap().port()
        };
        let process = tokio::process::Command::new("/usr/bin/chromedriver")
            .arg(format!("--port={port}"))
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .kill_on_drop(true)
            // Its own process group, which the browsers it starts join, so
            // that dropping the driver can end them all.
            .process_group(0)
            .spawn()
            .expect("starting chromedriver");
        let base = format!("http://127.0.0.1:{port}");
        let http = reqwest::Client::new();
        let started = Instant::now();
        loop {
            if let Ok(res) = http.get(format!("{base}/status")).send().await
                && res.status().is_success()
            {
                break;
            }
            assert!(
                started.elapsed() < WAIT_MAX,
                "chromedriver did not start on port {port}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        Driver {
            process,
            base,
            http,
            chromium,
        }
    }

    /// A new browser with a fresh profile in `profile`, `width` pixels wide.
    pub async fn session(&self, profile: &Path, width: u32) -> Session {
        let args = CHROMIUM_FLAGS
            .into_iter()
            .chain(["--disable-quic"])
            .map(str::to_owned)
            .chain([
                format!("--user-data-dir={}", profile.display()),
                format!("--window-size={width},900"),
            ])
            .collect::<Vec<_>>();
        let caps = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": self.chromium,
                "args": args,
                // What the browser sends as Accept-Language.
                "prefs": {"intl.accept_languages": "zh-CN,zh"},
            },
        }}});
        let res = post_json(&self.http, format!("{}/session", self.base), &caps).await;
        let id = res["value"]["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("no WebDriver session: {res}"));
        Session {
            http: self.http.clone(),
            url: format!("{}/session/{id}", self.base),
        }
    }
}

/// POSTs `body` to `url` and returns the JSON answer, whatever its status.
async fn post_json(http: &reqwest::Client, url: String, body: &Value) -> Value {
    http.post(url)
        .json(body)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

impl Drop for Driver {
    fn drop(&mut self) {
        if let Some(pid) = self.process.id() {
            let _ = std::process::Command::new("kill")
                .args(["-KILL", "--", &format!("-{pid}")])
                .status();
        }
    }
}

/// Tries `attempt` every `interval_ms` until it gives a value, for at most
/// [`WAIT_MAX`]; `None` when it never did.
async fn poll<T, F, Fut>(interval_ms: u64, mut attempt: F) -> Option<T>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let started = Instant::now();
    loop {
        if let Some(found) = attempt().await {
            return Some(found);
        }
        if started.elapsed() > WAIT_MAX {
            return None;
        }
        tokio::time::sleep(Duration::from_millis(interval_ms)).await;
    }
}

/// One browser window.
pub struct Session {
    http: reqwest::Client,
    url: String,
}

/// An element on the current page.
pub struct Element(String);

impl Session {
    async fn call(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Value {
        let mut req = self.http.request(method, format!("{}{path}", self.url));
        if let Some(body) = body {
            req = req.json(&body);
        }
        let res: Value = req.send().await.unwrap().json().await.unwrap();
        if let Some(error) = res["value"].get("error") {
            panic!(
                "WebDriver {path}: {error}: {}",
                res["value"]["message"].as_str().unwrap_or("")
            );
        }
        res["value"].clone()
    }

    /// The text a `GET` of `path` answers.
    async fn get_text(&self, path: &str) -> String {
        let value = self.call(reqwest::Method::GET, path, None).await;
        value.as_str().unwrap().to_owned()
    }

    async fn try_find(&self, css: &str) -> Option<Element> {
        self.try_find_by("css selector", css).await
    }

    /// POSTs `body` to the session's `path` and returns the whole answer,
    /// errors included (for the calls that retry).
    async fn post_raw(&self, path: &str, body: Value) -> Value {
        post_json(&self.http, format!("{}{path}", self.url), &body).await
    }

    async fn try_find_by(&self, using: &str, value: &str) -> Option<Element> {
        let res = self
            .post_raw("/element", json!({"using": using, "value": value}))
            .await;
        res["value"][ELEMENT_KEY]
            .as_str()
            .map(|id| Element(id.to_owned()))
    }

    /// Opens `url` and waits for it to load.
    pub async fn goto(&self, url: &str) {
        self.call(reqwest::Method::POST, "/url", Some(json!({"url": url})))
            .await;
    }

    /// The address of the page shown.
    pub async fn current_url(&self) -> String {
        self.get_text("/url").await
    }

    /// Waits until the address shown contains `part`; returns it.
    pub async fn wait_url(&self, part: &str) -> String {
        let found = poll(50, || async {
            let url = self.current_url().await;
            url.contains(part).then_some(url)
        })
        .await;
        match found {
            Some(url) => url,
            None => panic!("still on {}, not {part}", self.current_url().await),
        }
    }

    /// Waits until `condition` (a script expression) is true in the page,
    /// across navigations.
    pub async fn wait_until(&self, condition: &str) {
        let script = format!("return Boolean({condition});");
        let body = json!({"script": script, "args": []});
        // A page in the middle of navigating may refuse scripts: retry.
        let became_true = poll(100, || async {
            let res = self.post_raw("/execute/sync", body.clone()).await;
            (res["value"] == json!(true)).then_some(())
        })
        .await;
        assert!(became_true.is_some(), "never true: {condition}");
    }

    /// The page's serialised DOM.
    pub async fn source(&self) -> String {
        self.get_text("/source").await
    }

    /// The first element matching `css`, waiting up to [`WAIT_MAX`] for it.
    pub async fn find(&self, css: &str) -> Element {
        if let Some(found) = poll(100, || self.try_find(css)).await {
            return found;
        }
        let url = self.current_url().await;
        let source = self.source().await;
        panic!(
            "no element {css:?} on {url}: {}",
            &source[..source.len().min(3000)]
        );
    }

    /// Clicks the first link whose text contains `text`.
    pub async fn click_link(&self, text: &str) {
        let link = poll(100, || self.try_find_by("partial link text", text))
            .await
            .unwrap_or_else(|| panic!("no link with {text:?}"));
        self.click(&link).await;
    }

    /// Clicks an element (following any navigation it starts).
    pub async fn click(&self, element: &Element) {
        let path = format!("/element/{}/click", element.0);
        self.call(reqwest::Method::POST, &path, Some(json!({})))
            .await;
    }

    /// Types `text` into an input.
    pub async fn type_into(&self, element: &Element, text: &str) {
        let path = format!("/element/{}/value", element.0);
        self.call(reqwest::Method::POST, &path, Some(json!({"text": text})))
            .await;
    }

    /// Fills the input matching `css`.
    pub async fn fill(&self, css: &str, text: &str) {
        let input = self.find(css).await;
        self.type_into(&input, text).await;
    }

    /// Fills the inputs named in `fields` with their values.
    pub async fn fill_inputs(&self, fields: &[(&str, &str)]) {
        for (name, value) in fields {
            self.fill(&format!("input[name={name}]"), value).await;
        }
    }

    /// Clicks the element matching `css`.
    pub async fn click_on(&self, css: &str) {
        let element = self.find(css).await;
        self.click(&element).await;
    }

    /// The element's rendered text.
    pub async fn text(&self, element: &Element) -> String {
        let path = format!("/element/{}/text", element.0);
        self.call(reqwest::Method::GET, &path, None)
            .await
            .as_str()
            .unwrap_or("")
            .to_owned()
    }

    /// Runs `script` (a function body) in the page and returns its result.
    pub async fn script(&self, script: &str) -> Value {
        self.call(
            reqwest::Method::POST,
            "/execute/sync",
            Some(json!({"script": script, "args": []})),
        )
        .await
    }

    /// Resizes the window to `width` and the page's full height (at most
    /// 5000 px), then saves a screenshot as PNG; returns its size.
    pub async fn full_screenshot(&self, file: &Path, width: u32) -> usize {
        self.viewport(width, 900).await;
        let height = self
            .script("return document.documentElement.scrollHeight;")
            .await
            .as_u64()
            .unwrap_or(900)
            .clamp(300, 5000);
        self.viewport(width, height as u32).await;
        self.screenshot(file).await
    }

    /// Sets the page's viewport exactly (Chrome's device emulation; a
    /// window cannot be made phone-narrow), as a phone below 600 px.
    pub async fn viewport(&self, width: u32, height: u32) {
        let params = json!({
            "width": width, "height": height, "deviceScaleFactor": 1, "mobile": width < 600,
        });
        self.call(
            reqwest::Method::POST,
            "/goog/cdp/execute",
            Some(json!({"cmd": "Emulation.setDeviceMetricsOverride", "params": params})),
        )
        .await;
    }

    /// Saves a screenshot of the viewport as PNG; returns its size.
    pub async fn screenshot(&self, file: &Path) -> usize {
        let b64 = self.call(reqwest::Method::GET, "/screenshot", None).await;
        let png = base64::engine::general_purpose::STANDARD
            .decode(b64.as_str().unwrap())
            .unwrap();
        std::fs::write(file, &png).unwrap();
        png.len()
    }

    /// Closes the window and ends the session.
    pub async fn quit(self) {
        let _ = self.http.delete(&self.url).send().await;
    }
}
