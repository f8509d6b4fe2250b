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
}
