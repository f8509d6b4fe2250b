//! `shucang admin create-user`.

use reqwest::StatusCode;
use serde_json::Value;

use crate::harness::{TestApp, assert_error};
use crate::process::shucang;

async fn create_user(dir: &std::path::Path, args: &[&str]) -> std::process::Output {
    shucang()
        .args(["admin", "create-user", "--data-dir"])
        .arg(dir)
        .args(args)
        .output()
        .await
        .unwrap()
}

#[tokio::test]
async fn create_user_makes_a_staff_account_that_can_log_in() {
    let dir = tempfile::tempdir().unwrap();
    let out = create_user(
        dir.path(),
        &[
            "--phone",
            "+86 139-0013-9000",
            "--password",
            "Review#2026",
            "--role",
            "reviewer",
        ],
    )
    .await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("139****9000") && stdout.contains("reviewer"),
        "{stdout}"
    );
    assert!(!stdout.contains("Review#2026"));

    let app = TestApp::spawn_in(dir, None).await;
    let token = app.token("13900139000", "Review#2026").await;
    let me: Value = app
        .get("/api/v1/me", Some(&token))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(me["role"], "reviewer");
    app.stop().await;
}

#[tokio::test]
async fn create_user_refuses_bad_input_and_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let ok = create_user(
        dir.path(),
        &[
            "--phone",
            "13900139000",
            "--password",
            "Review#2026",
            "--role",
            "audit_admin",
        ],
    )
    .await;
    assert!(ok.status.success());
    let cases: [(&[&str], &str); 4] = [
        (
            &[
                "--phone",
                "13900139001",
                "--password",
                "Review#2026",
                "--role",
                "superuser",
            ],
            "unknown role",
        ),
        (
            &[
                "--phone",
                "12345",
                "--password",
                "Review#2026",
                "--role",
                "reviewer",
            ],
            "--phone",
        ),
        (
            &[
                "--phone",
                "13900139001",
                "--password",
                "short",
                "--role",
                "reviewer",
            ],
            "--password",
        ),
        (
            &[
                "--phone",
                "13900139000",
                "--password",
                "Other#2026x",
                "--role",
                "system_admin",
            ],
            "already exists",
        ),
    ];
    for (args, expect) in cases {
        let out = create_user(dir.path(), args).await;
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(expect), "{args:?}: {err}");
    }
    let app = TestApp::spawn_in(dir, None).await;
    assert_eq!(app.account_rows().await, 1);
    let token = app.token("13900139000", "Review#2026").await;
    let me: Value = app
        .get("/api/v1/me", Some(&token))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        me["role"], "audit_admin",
        "the duplicate did not change the role"
    );
    assert_error(
        app.login("13900139001", "Review#2026").await,
        StatusCode::UNAUTHORIZED,
        "invalid_credentials",
    )
    .await;
    app.stop().await;
}
