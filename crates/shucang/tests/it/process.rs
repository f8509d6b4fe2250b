//! The real binary as a process: start-up, `kill -9`, SIGTERM, `--demo`.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, BufReader, Lines};
use tokio::process::{Child, ChildStdout, Command};

use crate::support::{assert_success, chain_check};

/// How long a test waits for the server to start or stop.
const PROCESS_WAIT_MS: u64 = 30_000;

pub fn shucang() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_shucang"));
    cmd.env_remove("SHUCANG_DATABASE_URL")
        .env_remove("SHUCANG_LISTEN")
        .env_remove("SHUCANG_DATA_DIR")
        .env("SHUCANG_LOG", "warn");
    cmd
}

/// Starts `cmd` with its stdout piped (stderr shown), killed when dropped;
/// returns the process and its stdout's lines.
pub fn spawn_piped(mut cmd: Command) -> (Child, Lines<BufReader<ChildStdout>>) {
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let lines = BufReader::new(child.stdout.take().unwrap()).lines();
    (child, lines)
}

/// A `shucang serve` process and the base URL it announced.
pub struct Server {
    pub child: Child,
    pub base: String,
    pub stdout: Vec<String>,
}

/// Starts `shucang serve` on port 0 in `data_dir` and waits for its
/// "listening on" line.
pub async fn start_server(data_dir: &Path, extra: &[&str]) -> Server {
    let mut cmd = shucang();
    cmd.args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(data_dir)
        .args(extra)
        // The tests' buyers all register from loopback.
        .env("SHUCANG_ACCOUNTS__REGISTRATIONS_PER_IP_PER_HOUR", "10000")
        .env("SHUCANG_ACCOUNTS__CODES_PER_IP_PER_HOUR", "10000");
    let (child, mut lines) = spawn_piped(cmd);
    let mut stdout = Vec::new();
    let base = tokio::time::timeout(Duration::from_millis(PROCESS_WAIT_MS), async {
        while let Some(line) = lines.next_line().await.unwrap() {
            if let Some(url) = line.strip_prefix("shucang listening on ") {
                return url.to_owned();
            }
            stdout.push(line);
        }
        panic!("server exited before listening; stdout: {stdout:?}");
    })
    .await
    .expect("server started in time");
    Server {
        child,
        base,
        stdout,
    }
}

/// A running server seen from outside: a client and the base URL.
#[derive(Clone)]
pub struct Remote {
    client: reqwest::Client,
    base: String,
}

impl Remote {
    pub fn new(base: &str) -> Remote {
        Remote {
            client: reqwest::Client::new(),
            base: base.to_owned(),
        }
    }

    fn with(&self, req: reqwest::RequestBuilder, token: Option<&str>) -> reqwest::RequestBuilder {
        match token {
            Some(token) => req.bearer_auth(token),
            None => req,
        }
    }

    /// POSTs `body` as JSON to `path` (as `token`).
    pub async fn post(&self, path: &str, token: Option<&str>, body: &Value) -> reqwest::Response {
        let req = self.client.post(format!("{}{path}", self.base)).json(body);
        self.with(req, token).send().await.unwrap()
    }

    /// GETs `path` (as `token`).
    pub async fn get(&self, path: &str, token: Option<&str>) -> reqwest::Response {
        let req = self.client.get(format!("{}{path}", self.base));
        self.with(req, token).send().await.unwrap()
    }

    /// GETs `path` (as `token`) and reads the JSON body, whatever the status.
    pub async fn get_json(&self, path: &str, token: Option<&str>) -> Value {
        self.get(path, token).await.json().await.unwrap()
    }

    /// Registers as a stranger does: asks for the SMS code, reads it with
    /// `shucang outbox` from the server's data directory, registers with
    /// it; the answer of the last step.
    pub async fn register(
        &self,
        data_dir: &Path,
        phone: &str,
        password: &str,
    ) -> reqwest::Response {
        let res = self
            .post("/api/v1/accounts/codes", None, &json!({"phone": phone}))
            .await;
        assert_eq!(res.status(), StatusCode::ACCEPTED);
        let out = shucang()
            .args(["outbox", "--limit", "1", "--to", phone, "--data-dir"])
            .arg(data_dir)
            .output()
            .await
            .unwrap();
        assert_success(&out);
        let printed = String::from_utf8(out.stdout).unwrap();
        let code = crate::support::sms_code(&printed).expect("the SMS carries a code");
        let body = json!({"phone": phone, "code": code, "password": password});
        self.post("/api/v1/accounts", None, &body).await
    }

    /// The token of a login with `phone` and `password` (answer unchecked).
    pub async fn token(&self, phone: &str, password: &str) -> String {
        let login: Value = self
            .post(
                "/api/v1/sessions",
                None,
                &json!({"phone": phone, "password": password}),
            )
            .await
            .json()
            .await
            .unwrap();
        login["token"].as_str().unwrap().to_owned()
    }
}

#[tokio::test]
async fn an_acknowledged_account_survives_kill_9() {
    let dir = tempfile::tempdir().unwrap();
    let credentials = json!({ "phone": "13700137000", "password": "Durable#2026" });
    let mut server = start_server(dir.path(), &[]).await;
    let res = Remote::new(&server.base)
        .register(dir.path(), "13700137000", "Durable#2026")
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    // SIGKILL right after the 201: no chance to flush anything.
    server.child.kill().await.unwrap();

    let mut server = start_server(dir.path(), &[]).await;
    let res = Remote::new(&server.base)
        .post("/api/v1/sessions", None, &credentials)
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    server.child.kill().await.unwrap();
}

#[tokio::test]
async fn sigterm_shuts_down_gracefully() {
    let dir = tempfile::tempdir().unwrap();
    let mut server = start_server(dir.path(), &[]).await;
    let res = reqwest::get(format!("{}/healthz", server.base))
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let pid = server.child.id().unwrap().to_string();
    let killed = std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap();
    assert!(killed.success());
    let status = tokio::time::timeout(Duration::from_millis(PROCESS_WAIT_MS), server.child.wait())
        .await
        .expect("stopped in time")
        .unwrap();
    assert!(status.success(), "graceful exit, got {status}");
}

#[tokio::test]
async fn demo_seeds_one_account_per_role_and_secrets_are_0600() {
    let dir = tempfile::tempdir().unwrap();
    let mut server = start_server(dir.path(), &["--demo"]).await;
    assert!(
        server
            .stdout
            .iter()
            .any(|l| l.contains("13800000005") && l.contains("system_admin")),
        "{:?}",
        server.stdout
    );
    let remote = Remote::new(&server.base);
    for (phone, role) in [("13800000001", "collector"), ("13800000007", "audit_admin")] {
        let res = remote
            .post(
                "/api/v1/sessions",
                None,
                &json!({ "phone": phone, "password": shucang::DEMO_PASSWORD }),
            )
            .await;
        assert_eq!(res.status(), StatusCode::OK);
        let token = res.json::<Value>().await.unwrap()["token"]
            .as_str()
            .unwrap()
            .to_owned();
        let me = remote.get_json("/api/v1/me", Some(&token)).await;
        assert_eq!(me["role"], role);
    }
    // The catalogue: three approved works and three drops, told apart by
    // their fields; the demo collector is real-named and can buy.
    let drops = remote.get_json("/api/v1/drops", None).await;
    let shape: Vec<(u64, u64, &str)> = drops
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            (
                d["supply"].as_u64().unwrap(),
                d["per_user_limit"].as_u64().unwrap(),
                d["status"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        shape,
        vec![
            (500, 2, "upcoming"),
            (20, 1, "on_sale"),
            (1000, 5, "on_sale")
        ]
    );
    let image = remote.get("/api/v1/works/1/image", None).await;
    assert_eq!(image.headers()["content-type"], "image/png");
    server.child.kill().await.unwrap();
    // Seeding again on restart adds nothing.
    let mut server = start_server(dir.path(), &["--demo"]).await;
    let drops: Vec<Value> = Remote::new(&server.base)
        .get("/api/v1/drops", None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(drops.len(), 3);
    server.child.kill().await.unwrap();

    for name in ["session.key", "pii.key"] {
        let meta = std::fs::metadata(dir.path().join("secrets").join(name)).unwrap();
        assert_eq!(meta.permissions().mode() & 0o777, 0o600, "{name}");
    }
    // The database and its journal are private, in a private directory.
    for name in ["shucang.db", "shucang.db-wal"] {
        let path = dir.path().join(name);
        if name == "shucang.db" || path.exists() {
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600, "{name}");
        }
    }
    let mode = std::fs::metadata(dir.path()).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o700, "the data directory");
}

/// `shucang serve --data-dir DIR` with `args` and `env`; its stderr,
/// after it failed to start.
async fn refused_start(dir: &Path, args: &[&str], env: Option<(&str, &str)>) -> String {
    let mut cmd = shucang();
    cmd.args(["serve", "--data-dir"]).arg(dir).args(args);
    if let Some((name, value)) = env {
        cmd.env(name, value);
    }
    let out = cmd.output().await.unwrap();
    assert!(!out.status.success());
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[tokio::test]
async fn bad_configuration_stops_start_up_with_a_message() {
    let dir = tempfile::tempdir().unwrap();
    for (args, env, expect) in [
        (
            &["--config", "/nonexistent/shucang.toml"][..],
            None,
            "cannot read configuration file",
        ),
        (
            &[],
            Some(("SHUCANG_ACCOUNTS__SESSION_IDLE_MINUTES", "never")),
            "invalid configuration",
        ),
        (
            &["--database-url", "mysql://root@localhost/x"],
            None,
            "unsupported database URL",
        ),
    ] {
        let err = refused_start(dir.path(), args, env).await;
        assert!(err.contains(expect), "{err}");
    }

    // A certificate font that is missing, or is not a font.
    for (font, expect) in [
        ("/nonexistent/font.ttc", "cannot read the font"),
        ("/etc/hostname", "no usable font face"),
    ] {
        let font = Some(("SHUCANG_SITE__CERTIFICATE_FONT", font));
        let err = refused_start(dir.path(), &[], font).await;
        assert!(
            err.contains("site.certificate_font") && err.contains(expect),
            "{err}"
        );
    }
}

/// Registers, logs in and real-name-verifies a buyer on a running server.
async fn remote_buyer(remote: &Remote, data_dir: &Path, n: u32) -> String {
    let phone = format!("135{n:08}");
    let res = remote.register(data_dir, &phone, "Crash#2026x").await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let token = remote.token(&phone, "Crash#2026x").await;
    let id = crate::identity::id_number(&format!(
        "3201021985{:02}{:02}{:03}",
        1 + n % 12,
        1 + n % 28,
        n
    ));
    let res = remote
        .post(
            "/api/v1/me/identity",
            Some(&token),
            &json!({"name": "压测用户", "id_number": id, "consent": true}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    token
}

/// An order the server acknowledged: the buyer's token, the order and its
/// editions.
type AckedOrder = (String, i64, Vec<u64>);
/// A payment the server acknowledged: the buyer's token and the order.
type AckedPayment = (String, i64);

#[tokio::test]
async fn kill_9_during_purchases_and_payments_loses_nothing_and_mints_once() {
    let dir = tempfile::tempdir().unwrap();
    let mut server = start_server(dir.path(), &["--demo"]).await;
    let remote = Remote::new(&server.base);
    let mut tokens = Vec::new();
    for n in 0..24 {
        tokens.push(remote_buyer(&remote, dir.path(), n).await);
    }
    let (orders, paid) = buy_and_pay_until_killed(&remote, &tokens, &mut server).await;
    assert!(
        paid.len() >= 4,
        "payments were acknowledged before the kill"
    );

    // Restart: every acknowledged order is there; nothing is oversold; every
    // acknowledged payment ends minted, exactly once.
    let mut server = start_server(dir.path(), &["--demo"]).await;
    let remote = Remote::new(&server.base);
    acknowledged_orders_are_kept(&remote, &orders).await;
    acknowledged_payments_end_minted(&remote, &paid).await;
    minted_exactly_once(&remote, &orders).await;
    server.child.kill().await.unwrap();
    assert_success(&chain_check(dir.path()).await);
}

/// A burst: every buyer buys 3 editions of drop 1, then pays. What the
/// server acknowledged is recorded as it arrives; the server is killed
/// mid-burst, once some payments were acknowledged.
async fn buy_and_pay_until_killed(
    remote: &Remote,
    tokens: &[String],
    server: &mut Server,
) -> (Vec<AckedOrder>, Vec<AckedPayment>) {
    let acked_orders = Arc::new(Mutex::new(Vec::<AckedOrder>::new()));
    let acked_paid = Arc::new(Mutex::new(Vec::<AckedPayment>::new()));
    let mut tasks = Vec::new();
    for (n, token) in tokens.iter().enumerate() {
        let (remote, token) = (remote.clone(), token.clone());
        let (orders, paid) = (acked_orders.clone(), acked_paid.clone());
        tasks.push(tokio::spawn(async move {
            let Some((order_id, editions)) = try_to_buy(&remote, &token, n).await else {
                return;
            };
            orders
                .lock()
                .unwrap()
                .push((token.clone(), order_id, editions));
            if try_to_pay(&remote, &token, order_id).await {
                paid.lock().unwrap().push((token, order_id));
            }
        }));
    }
    // Kill the server mid-burst, once some payments were acknowledged.
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    while acked_paid.lock().unwrap().len() < 4 && std::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    server.child.kill().await.unwrap();
    for t in tasks {
        let _ = t.await;
    }
    let orders = acked_orders.lock().unwrap().clone();
    let paid = acked_paid.lock().unwrap().clone();
    (orders, paid)
}

/// Buys 3 editions of drop 1; the order and its editions when the server
/// acknowledged it (anything else, the kill included, is `None`).
async fn try_to_buy(remote: &Remote, token: &str, n: usize) -> Option<(i64, Vec<u64>)> {
    let res = remote
        .client
        .post(format!("{}/api/v1/drops/1/orders", remote.base))
        .bearer_auth(token)
        .header("Idempotency-Key", format!("crash-{n}"))
        .json(&json!({"quantity": 3}))
        .send()
        .await
        .ok()?;
    if res.status() != StatusCode::CREATED {
        return None;
    }
    let order = res.json::<Value>().await.ok()?;
    let order_id = order["order_id"].as_i64().unwrap();
    Some((order_id, crate::support::editions(&order)))
}

/// Pays for an order in the sandbox; whether the server acknowledged the
/// payment.
async fn try_to_pay(remote: &Remote, token: &str, order_id: i64) -> bool {
    let start = format!("{}/api/v1/orders/{order_id}/payments", remote.base);
    let Some(payment) = json_answer(remote.client.post(start).bearer_auth(token)).await else {
        return false;
    };
    let Some(pay_url) = payment["pay_url"].as_str() else {
        return false;
    };
    let complete = format!("{}{pay_url}/complete", remote.base);
    json_answer(remote.client.post(complete))
        .await
        .is_some_and(|delivery| delivery["notify_response"]["result"] == "paid")
}

/// The JSON a request is answered with; `None` when there is none (the
/// server may be killed at any moment).
async fn json_answer(request: reqwest::RequestBuilder) -> Option<Value> {
    request.send().await.ok()?.json().await.ok()
}

/// Every acknowledged order is there with its editions; nothing is
/// oversold.
async fn acknowledged_orders_are_kept(remote: &Remote, orders: &[AckedOrder]) {
    let mut editions = Vec::new();
    for (token, order_id, held) in orders {
        let res = remote
            .get(&format!("/api/v1/orders/{order_id}"), Some(token))
            .await;
        assert_eq!(
            res.status(),
            StatusCode::OK,
            "acknowledged order {order_id} is missing"
        );
        let order: Value = res.json().await.unwrap();
        assert_eq!(&crate::support::editions(&order), held);
        editions.extend(held.iter().copied());
    }
    let drop = remote.get_json("/api/v1/drops/1", None).await;
    let sold = 1000 - drop["remaining"].as_u64().unwrap();
    assert!(
        sold >= editions.len() as u64,
        "acknowledged editions are still sold"
    );
    assert!(sold <= 1000);
    let distinct: std::collections::HashSet<u64> = editions.iter().copied().collect();
    assert_eq!(distinct.len(), editions.len(), "no edition sold twice");
}

/// Every acknowledged payment ends minted (the worker retries after the
/// restart).
async fn acknowledged_payments_end_minted(remote: &Remote, paid: &[AckedPayment]) {
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    for (token, order_id) in paid {
        loop {
            let order = remote
                .get_json(&format!("/api/v1/orders/{order_id}"), Some(token))
                .await;
            if order["status"] == "minted" {
                break;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "order {order_id} was paid but is {}",
                order["status"]
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

/// Exactly once: every minted edition has one mint in its history, and
/// the chain holds no more tokens of the work than minted editions.
async fn minted_exactly_once(remote: &Remote, orders: &[AckedOrder]) {
    let mut minted = 0;
    for (token, order_id, held) in orders {
        let order = remote
            .get_json(&format!("/api/v1/orders/{order_id}"), Some(token))
            .await;
        if order["status"] != "minted" {
            continue;
        }
        for e in held {
            let t = remote
                .get_json(&format!("/api/v1/chain/tokens/work-1/{e}"), None)
                .await;
            let mints = t["history"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|h| h["operation"]["type"] == "mint")
                .count();
            assert_eq!(mints, 1, "edition {e}");
            minted += 1;
        }
    }
    let collection = remote
        .get_json("/api/v1/chain/collections/work-1", None)
        .await;
    assert_eq!(
        collection["minted"].as_u64().unwrap(),
        minted,
        "no token beyond the minted orders"
    );
}

/// Starts `shucang registry serve` on port 0 in `data_dir`; returns the
/// process and its base URL.
async fn start_registry(data_dir: &Path) -> (Child, String) {
    let mut cmd = shucang();
    cmd.args(["--data-dir"])
        .arg(data_dir)
        .args(["registry", "serve", "--listen", "127.0.0.1:0"]);
    let (child, mut lines) = spawn_piped(cmd);
    let base = tokio::time::timeout(Duration::from_millis(PROCESS_WAIT_MS), async {
        while let Some(line) = lines.next_line().await.unwrap() {
            if let Some(url) = line.strip_prefix("shucang registry listening on ") {
                return url.to_owned();
            }
        }
        panic!("the registry exited before listening");
    })
    .await
    .expect("the registry started in time");
    (child, base)
}

/// The `len` characters after `marker` in what `registry outbox --to
/// recipient` prints for the registry under `dir` (the server may be down).
async fn outbox_after(dir: &Path, recipient: &str, marker: &str, len: usize) -> String {
    let out = shucang()
        .arg("--data-dir")
        .arg(dir)
        .args(["registry", "outbox", "--to", recipient])
        .output()
        .await
        .unwrap();
    assert!(out.status.success());
    let printed = String::from_utf8_lossy(&out.stdout).into_owned();
    let after = printed.split(marker).nth(1);
    after.unwrap_or_else(|| panic!("{marker} not in the outbox of {recipient}"))[..len].to_owned()
}

/// The registry keeps what it acknowledged through `kill -9`: a filer, the
/// SMS code and e-mail link queued with it (read with `registry outbox`), a
/// draft and an uploaded document.
#[tokio::test]
async fn the_registry_keeps_what_it_acknowledged_through_kill_9() {
    let dir = tempfile::tempdir().unwrap();
    let (mut child, base) = start_registry(dir.path()).await;
    let res = Remote::new(&base)
        .post("/api/v1/filers", None, &json!({"name": "张三", "phone": "13912345678", "email": "zhang@example.cn", "password": "Filer#2026pass"}))
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    child.kill().await.unwrap();

    // The code was queued with the registration, so it is there after the
    // kill; `registry outbox` reads it (the server is down).
    let code = outbox_after(dir.path(), "13912345678", "验证码是 ", 6).await;
    let email_token = outbox_after(dir.path(), "zhang@example.cn", "verify-email?token=", 64).await;

    let (mut child, base) = start_registry(dir.path()).await;
    let remote = Remote::new(&base);
    let res = remote
        .post(
            "/api/v1/filers/verify-phone",
            None,
            &json!({"phone": "13912345678", "code": code}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let confirmed = remote
        .client
        .get(format!("{base}/filers/verify-email?token={email_token}"))
        .send()
        .await
        .unwrap();
    assert_eq!(confirmed.status(), StatusCode::OK);
    let token = remote.token("13912345678", "Filer#2026pass").await;
    let draft: Value = remote
        .post(
            "/api/v1/applications",
            Some(&token),
            &json!({"applicant": {"kind": "institution"}}),
        )
        .await
        .json()
        .await
        .unwrap();
    let id = draft["id"].as_i64().unwrap();
    let png = crate::works::png();
    let form = reqwest::multipart::Form::new().part(
        "file",
        reqwest::multipart::Part::bytes(png.clone()).file_name("licence.png"),
    );
    let res = remote
        .client
        .post(format!("{base}/api/v1/applications/{id}/attachments"))
        .bearer_auth(&token)
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    let attachment = crate::support::id_of(res).await;
    child.kill().await.unwrap();

    let (_child, base) = start_registry(dir.path()).await;
    let remote = Remote::new(&base);
    let app = remote
        .get_json(&format!("/api/v1/applications/{id}"), Some(&token))
        .await;
    assert_eq!(app["form"]["applicant"]["kind"], "institution");
    let file = remote
        .get(
            &format!("/api/v1/applications/{id}/attachments/{attachment}"),
            Some(&token),
        )
        .await;
    assert_eq!(file.status(), StatusCode::OK);
    assert_eq!(file.bytes().await.unwrap().to_vec(), png);
}

/// The registry's CLI refuses bad arguments with the reason and records
/// nothing; a good staff account can then log in.
#[tokio::test]
async fn registry_cli_refuses_bad_input_and_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let create = |args: Vec<&'static str>| {
        let dir = dir.path().to_owned();
        async move {
            shucang()
                .arg("--data-dir")
                .arg(&dir)
                .args(["registry", "admin", "create-user"])
                .args(args)
                .output()
                .await
                .unwrap()
        }
    };
    let good = [
        "--name",
        "审核员甲",
        "--phone",
        "13600000001",
        "--email",
        "r@example.cn",
        "--password",
        "Review#2026pass",
    ];
    for (role, swap, expect) in [
        ("filer", None, "--role"),
        ("judge", None, "--role"),
        ("reviewer", Some(("13600000001", "12345")), "--phone"),
        ("reviewer", Some(("r@example.cn", "r@example")), "--email"),
        ("reviewer", Some(("Review#2026pass", "short")), "--password"),
        ("reviewer", Some(("审核员甲", "甲")), "--name"),
    ] {
        let mut args = vec!["--role", role];
        args.extend(good.iter().map(|a| match swap {
            Some((from, to)) if *a == from => to,
            _ => *a,
        }));
        let out = create(args).await;
        assert!(!out.status.success());
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(expect), "{expect}: {err}");
    }
    let mut args = vec!["--role", "reviewer"];
    args.extend(good);
    assert!(create(args.clone()).await.status.success());
    let again = create(args).await;
    assert!(
        String::from_utf8_lossy(&again.stderr).contains("--phone"),
        "taken"
    );
    for limit in ["0", "1001", "many"] {
        let out = shucang()
            .arg("--data-dir")
            .arg(dir.path())
            .args(["registry", "outbox", "--limit", limit])
            .output()
            .await
            .unwrap();
        assert!(!out.status.success(), "--limit {limit}");
        assert!(String::from_utf8_lossy(&out.stderr).contains("limit"));
    }
    let (_child, base) = start_registry(dir.path()).await;
    let res = Remote::new(&base)
        .post(
            "/api/v1/sessions",
            None,
            &json!({"phone": "13600000001", "password": "Review#2026pass"}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let login: Value = res.json().await.unwrap();
    assert_eq!(login["role"], "reviewer");
}
