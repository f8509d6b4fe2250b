//! `shucang admin create-user`.

use reqwest::StatusCode;

use crate::harness::{TestApp, assert_error};
use crate::process::shucang;
use crate::support::assert_success;

/// `shucang admin create-user --data-dir DIR --phone … --password … --role …`.
async fn create_user(
    dir: &std::path::Path,
    phone: &str,
    password: &str,
    role: &str,
) -> std::process::Output {
    shucang()
        .args(["admin", "create-user", "--data-dir"])
        .arg(dir)
        .args(["--phone", phone, "--password", password, "--role", role])
        .output()
        .await
        .unwrap()
}

#[tokio::test]
async fn create_user_makes_a_staff_account_that_can_log_in() {
    let dir = tempfile::tempdir().unwrap();
    let out = create_user(dir.path(), "+86 139-0013-9000", "Review#2026", "reviewer").await;
    assert_success(&out);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("139****9000") && stdout.contains("reviewer"),
        "{stdout}"
    );
    assert!(!stdout.contains("Review#2026"));

    let app = TestApp::spawn_in(dir, None).await;
    let token = app.token("13900139000", "Review#2026").await;
    let me = app.me(&token).await;
    assert_eq!(me["role"], "reviewer");
    app.stop().await;
}

#[tokio::test]
async fn create_user_refuses_bad_input_and_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let ok = create_user(dir.path(), "13900139000", "Review#2026", "audit_admin").await;
    assert!(ok.status.success());
    for (args, expect) in [
        (["13900139001", "Review#2026", "superuser"], "unknown role"),
        (["12345", "Review#2026", "reviewer"], "--phone"),
        (["13900139001", "short", "reviewer"], "--password"),
        (
            ["13900139000", "Other#2026x", "system_admin"],
            "already exists",
        ),
    ] {
        let [phone, password, role] = args;
        let out = create_user(dir.path(), phone, password, role).await;
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(expect), "{args:?}: {err}");
    }
    let app = TestApp::spawn_in(dir, None).await;
    assert_eq!(app.account_rows().await, 1);
    let token = app.token("13900139000", "Review#2026").await;
    let me = app.me(&token).await;
    assert_eq!(
        me["role"], "audit_admin",
        "the duplicate did not change the role"
    );
    let res = app.login("13900139001", "Review#2026").await;
    assert_error(res, StatusCode::UNAUTHORIZED, "invalid_credentials").await;
    app.stop().await;
}
