//! The real binary as a process: start-up, `kill -9`, SIGTERM, `--demo`.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

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

/// A `shucang serve` process and the base URL it announced.
pub struct Server {
    pub child: Child,
    pub base: String,
    pub stdout: Vec<String>,
}

/// Starts `shucang serve` on port 0 in `data_dir` and waits for its
/// "listening on" line.
pub async fn start_server(data_dir: &Path, extra: &[&str]) -> Server {
    let mut child = shucang()
        .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(data_dir)
        .args(extra)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
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

#[tokio::test]
async fn an_acknowledged_account_survives_kill_9() {
    let dir = tempfile::tempdir().unwrap();
    let client = reqwest::Client::new();
    let mut server = start_server(dir.path(), &[]).await;
    let res = client
        .post(format!("{}/api/v1/accounts", server.base))
        .json(&json!({ "phone": "13700137000", "password": "Durable#2026" }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    // SIGKILL right after the 201: no chance to flush anything.
    server.child.kill().await.unwrap();

    let mut server = start_server(dir.path(), &[]).await;
    let res = client
        .post(format!("{}/api/v1/sessions", server.base))
        .json(&json!({ "phone": "13700137000", "password": "Durable#2026" }))
        .send()
        .await
        .unwrap();
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
    let client = reqwest::Client::new();
    for (phone, role) in [("13800000001", "collector"), ("13800000007", "audit_admin")] {
        let res = client
            .post(format!("{}/api/v1/sessions", server.base))
            .json(&json!({ "phone": phone, "password": shucang::DEMO_PASSWORD }))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        let token = res.json::<Value>().await.unwrap()["token"]
            .as_str()
            .unwrap()
            .to_owned();
        let me: Value = client
            .get(format!("{}/api/v1/me", server.base))
            .bearer_auth(token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(me["role"], role);
    }
    // The catalogue: three approved works and three drops, told apart by
    // their fields; the demo collector is real-named and can buy.
    let drops: Vec<Value> = client
        .get(format!("{}/api/v1/drops", server.base))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let shape: Vec<(u64, u64, &str)> = drops
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
    let image = client
        .get(format!("{}/api/v1/works/1/image", server.base))
        .send()
        .await
        .unwrap();
    assert_eq!(image.headers()["content-type"], "image/png");
    server.child.kill().await.unwrap();
    // Seeding again on restart adds nothing.
    let mut server = start_server(dir.path(), &["--demo"]).await;
    let drops: Vec<Value> = client
        .get(format!("{}/api/v1/drops", server.base))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(drops.len(), 3);
    server.child.kill().await.unwrap();

    for name in ["session.key", "pii.key"] {
        let meta = std::fs::metadata(dir.path().join("secrets").join(name)).unwrap();
        assert_eq!(meta.permissions().mode() & 0o777, 0o600, "{name}");
    }
    assert!(dir.path().join("shucang.db").exists());
}

#[tokio::test]
async fn bad_configuration_stops_start_up_with_a_message() {
    let dir = tempfile::tempdir().unwrap();
    let out = shucang()
        .args([
            "serve",
            "--config",
            "/nonexistent/shucang.toml",
            "--data-dir",
        ])
        .arg(dir.path())
        .output()
        .await
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("cannot read configuration file"), "{err}");

    let out = shucang()
        .args(["serve", "--data-dir"])
        .arg(dir.path())
        .env("SHUCANG_ACCOUNTS__SESSION_IDLE_MINUTES", "never")
        .output()
        .await
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("invalid configuration"), "{err}");

    let out = shucang()
        .args(["serve", "--data-dir"])
        .arg(dir.path())
        .args(["--database-url", "mysql://root@localhost/x"])
        .output()
        .await
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("unsupported database URL"), "{err}");

    // A certificate font that is missing, or is not a font.
    for (font, expect) in [
        ("/nonexistent/font.ttc", "cannot read the font"),
        ("/etc/hostname", "no usable font face"),
    ] {
        let out = shucang()
            .args(["serve", "--data-dir"])
            .arg(dir.path())
            .env("SHUCANG_SITE__CERTIFICATE_FONT", font)
            .output()
            .await
            .unwrap();
        assert!(!out.status.success());
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains("site.certificate_font") && err.contains(expect),
            "{err}"
        );
    }
}

/// Registers, logs in and real-name-verifies a buyer on a running server.
async fn remote_buyer(client: &reqwest::Client, base: &str, n: u32) -> String {
    let phone = format!("135{n:08}");
    let res = client
        .post(format!("{base}/api/v1/accounts"))
        .json(&json!({"phone": phone, "password": "Crash#2026x"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    let login: Value = client
        .post(format!("{base}/api/v1/sessions"))
        .json(&json!({"phone": phone, "password": "Crash#2026x"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = login["token"].as_str().unwrap().to_owned();
    let id = crate::identity::id_number(&format!(
        "3201021985{:02}{:02}{:03}",
        1 + n % 12,
        1 + n % 28,
        n
    ));
    let res = client
        .post(format!("{base}/api/v1/me/identity"))
        .bearer_auth(&token)
        .json(&json!({"name": "压测用户", "id_number": id, "consent": true}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    token
}

#[tokio::test]
async fn kill_9_during_purchases_and_payments_loses_nothing_and_mints_once() {
    let dir = tempfile::tempdir().unwrap();
    let client = reqwest::Client::new();
    let mut server = start_server(dir.path(), &["--demo"]).await;
    let base = server.base.clone();
    let mut tokens = Vec::new();
    for n in 0..24 {
        tokens.push(remote_buyer(&client, &base, n).await);
    }

    // A burst: every buyer buys 3 editions of drop 1, then pays. What the
    // server acknowledged is recorded as it arrives.
    let acked_orders =
        std::sync::Arc::new(std::sync::Mutex::new(Vec::<(String, i64, Vec<u64>)>::new()));
    let acked_paid = std::sync::Arc::new(std::sync::Mutex::new(Vec::<(String, i64)>::new()));
    let mut tasks = Vec::new();
    for (n, token) in tokens.iter().enumerate() {
        let (client, base, token) = (client.clone(), base.clone(), token.clone());
        let (orders, paid) = (acked_orders.clone(), acked_paid.clone());
        tasks.push(tokio::spawn(async move {
            let res = client
                .post(format!("{base}/api/v1/drops/1/orders"))
                .bearer_auth(&token)
                .header("Idempotency-Key", format!("crash-{n}"))
                .json(&json!({"quantity": 3}))
                .send()
                .await;
            let Ok(res) = res else { return };
            if res.status() != StatusCode::CREATED {
                return;
            }
            let Ok(order) = res.json::<Value>().await else {
                return;
            };
            let order_id = order["order_id"].as_i64().unwrap();
            let editions = order["editions"]
                .as_array()
                .unwrap()
                .iter()
                .map(|e| e.as_u64().unwrap())
                .collect();
            orders
                .lock()
                .unwrap()
                .push((token.clone(), order_id, editions));
            let Ok(res) = client
                .post(format!("{base}/api/v1/orders/{order_id}/payments"))
                .bearer_auth(&token)
                .send()
                .await
            else {
                return;
            };
            let Ok(payment) = res.json::<Value>().await else {
                return;
            };
            let Some(pay_url) = payment["pay_url"].as_str() else {
                return;
            };
            let Ok(res) = client
                .post(format!("{base}{pay_url}/complete"))
                .send()
                .await
            else {
                return;
            };
            let Ok(delivery) = res.json::<Value>().await else {
                return;
            };
            if delivery["notify_response"]["result"] == "paid" {
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
    assert!(
        paid.len() >= 4,
        "payments were acknowledged before the kill"
    );

    // Restart: every acknowledged order is there; nothing is oversold; every
    // acknowledged payment ends minted, exactly once.
    let mut server = start_server(dir.path(), &["--demo"]).await;
    let base = server.base.clone();
    let mut editions = Vec::new();
    for (token, order_id, held) in &orders {
        let res = client
            .get(format!("{base}/api/v1/orders/{order_id}"))
            .bearer_auth(token)
            .send()
            .await
            .unwrap();
        assert_eq!(
            res.status(),
            StatusCode::OK,
            "acknowledged order {order_id} is missing"
        );
        let order: Value = res.json().await.unwrap();
        assert_eq!(
            &order["editions"]
                .as_array()
                .unwrap()
                .iter()
                .map(|e| e.as_u64().unwrap())
                .collect::<Vec<_>>(),
            held
        );
        editions.extend(held.iter().copied());
    }
    let drop: Value = client
        .get(format!("{base}/api/v1/drops/1"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let sold = 1000 - drop["remaining"].as_u64().unwrap();
    assert!(
        sold >= editions.len() as u64,
        "acknowledged editions are still sold"
    );
    assert!(sold <= 1000);
    let distinct: std::collections::HashSet<u64> = editions.iter().copied().collect();
    assert_eq!(distinct.len(), editions.len(), "no edition sold twice");

    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    for (token, order_id) in &paid {
        loop {
            let order: Value = client
                .get(format!("{base}/api/v1/orders/{order_id}"))
                .bearer_auth(token)
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
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
    // Exactly once: every minted edition has one mint in its history, and
    // the chain holds no more tokens of the work than minted editions.
    let mut minted = 0;
    for (token, order_id, held) in &orders {
        let order: Value = client
            .get(format!("{base}/api/v1/orders/{order_id}"))
            .bearer_auth(token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        if order["status"] != "minted" {
            continue;
        }
        for e in held {
            let t: Value = client
                .get(format!("{base}/api/v1/chain/tokens/work-1/{e}"))
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
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
    let collection: Value = client
        .get(format!("{base}/api/v1/chain/collections/work-1"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        collection["minted"].as_u64().unwrap(),
        minted,
        "no token beyond the minted orders"
    );
    server.child.kill().await.unwrap();
    let out = shucang()
        .args(["chain", "check", "--data-dir"])
        .arg(dir.path())
        .output()
        .await
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Starts `shucang registry serve` on port 0 in `data_dir`; returns the
/// process and its base URL.
async fn start_registry(data_dir: &Path) -> (Child, String) {
    let mut child = shucang()
        .args(["--data-dir"])
        .arg(data_dir)
        .args(["registry", "serve", "--listen", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
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

/// The registry keeps what it acknowledged through `kill -9`: a filer, the
/// SMS code queued with it (read with `registry outbox`), a draft and an
/// uploaded document.
#[tokio::test]
async fn the_registry_keeps_what_it_acknowledged_through_kill_9() {
    let dir = tempfile::tempdir().unwrap();
    let http = reqwest::Client::new();
    let (mut child, base) = start_registry(dir.path()).await;
    let res = http
        .post(format!("{base}/api/v1/filers"))
        .json(&json!({"name": "张三", "phone": "13912345678", "email": "zhang@example.cn", "password": "Filer#2026pass"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    child.kill().await.unwrap();

    // The code was queued with the registration, so it is there after the
    // kill; `registry outbox` reads it (the server is down).
    let out = shucang()
        .arg("--data-dir")
        .arg(dir.path())
        .args(["registry", "outbox", "--to", "13912345678"])
        .output()
        .await
        .unwrap();
    assert!(out.status.success());
    let printed = String::from_utf8_lossy(&out.stdout).into_owned();
    let code = printed
        .split("验证码是 ")
        .nth(1)
        .expect("the SMS code is in the outbox")[..6]
        .to_owned();

    let (mut child, base) = start_registry(dir.path()).await;
    let res = http
        .post(format!("{base}/api/v1/filers/verify-phone"))
        .json(&json!({"phone": "13912345678", "code": code}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let login: Value = http
        .post(format!("{base}/api/v1/sessions"))
        .json(&json!({"phone": "13912345678", "password": "Filer#2026pass"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = login["token"].as_str().unwrap().to_owned();
    let draft: Value = http
        .post(format!("{base}/api/v1/applications"))
        .bearer_auth(&token)
        .json(&json!({"applicant": {"kind": "institution"}}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = draft["id"].as_i64().unwrap();
    let png = crate::works::png();
    let form = reqwest::multipart::Form::new().part(
        "file",
        reqwest::multipart::Part::bytes(png.clone()).file_name("licence.png"),
    );
    let res = http
        .post(format!("{base}/api/v1/applications/{id}/attachments"))
        .bearer_auth(&token)
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    let attachment = res.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
    child.kill().await.unwrap();

    let (_child, base) = start_registry(dir.path()).await;
    let app: Value = http
        .get(format!("{base}/api/v1/applications/{id}"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(app["form"]["applicant"]["kind"], "institution");
    let file = http
        .get(format!(
            "{base}/api/v1/applications/{id}/attachments/{attachment}"
        ))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
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
    let res = reqwest::Client::new()
        .post(format!("{base}/api/v1/sessions"))
        .json(&json!({"phone": "13600000001", "password": "Review#2026pass"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    let login: Value = res.json().await.unwrap();
    assert_eq!(login["role"], "reviewer");
}
