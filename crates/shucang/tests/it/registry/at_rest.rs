//! The registry keeps personal data encrypted at rest and private on disk,
//! on SQLite: after a filer has registered (SMS code and e-mail link
//! queued), saved an individual application (ID numbers) and uploaded an
//! ID scan, no file under the data directory holds any of them in the
//! clear, yet the filer and the outbox read them back;
//! the database and uploads are 0600 in 0700 directories.

use std::os::unix::fs::PermissionsExt as _;
use std::path::{Path, PathBuf};

use reqwest::StatusCode;

use super::forms::{individual_form, resident_id};
use shucang_registry::UserRole;

use super::{Reg, json_of};

/// Every file below `dir`.
fn files_below(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(files_below(&path));
        } else {
            out.push(path);
        }
    }
    out
}

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

/// The files below `dir` that contain `needle`.
fn holding(dir: &Path, needle: &[u8]) -> Vec<PathBuf> {
    files_below(dir)
        .into_iter()
        .filter(|p| {
            let bytes = std::fs::read(p).unwrap();
            bytes.windows(needle.len()).any(|w| w == needle)
        })
        .collect()
}

#[tokio::test]
async fn personal_data_is_encrypted_at_rest_and_private_on_disk() {
    let reg = Reg::spawn(None).await;
    let token = reg.filer("张三", "13912345678", "zhang@example.cn").await;
    let code_text = format!("验证码是 {}", reg.sms_code("13912345678").await);
    let link = reg.email_link("zhang@example.cn").await;
    let email_token = link.split("token=").nth(1).unwrap().to_owned();
    let (id, _) = reg.drafted(&token, individual_form).await;
    // The filer reads back what they wrote.
    let app = json_of(
        reg.get(&format!("/api/v1/applications/{id}"), Some(&token))
            .await,
        StatusCode::OK,
    )
    .await;
    let id_number = resident_id("11010519491231002");
    assert_eq!(
        app["form"]["applicant"]["individual"]["id_number"],
        id_number.as_str()
    );
    assert_eq!(app["form"]["responsible"]["id_number"], id_number.as_str());
    let scan = app["attachments"][0]["id"].as_i64().unwrap();
    let file = reg.attachment(&token, id, scan).await;
    assert_eq!(file.status(), StatusCode::OK);
    assert_eq!(file.bytes().await.unwrap().to_vec(), crate::works::png());
    let dir = reg.stop().await;

    let secrets = [
        id_number.as_bytes(),
        code_text.as_bytes(),
        email_token.as_bytes(),
        b"IHDR",
    ];
    for secret in secrets {
        let found = holding(dir.path(), secret);
        assert!(
            found.is_empty(),
            "{} found in the clear in {found:?}",
            String::from_utf8_lossy(secret)
        );
    }
    let db = dir.path().join("registry.db");
    assert_eq!(mode(&db), 0o600);
    assert_eq!(mode(dir.path()), 0o700);
    let uploads = dir.path().join("uploads");
    assert_eq!(mode(&uploads), 0o700);
    let stored = files_below(&uploads);
    assert!(!stored.is_empty());
    for f in stored.iter().chain(files_below(dir.path()).iter()) {
        assert_eq!(mode(f), 0o600, "{}", f.display());
    }
}

/// Staff see identities only where their task needs them: reviewers see
/// the ID numbers in full; publishers and auditors see them masked and
/// cannot open the documents (ID scans).
#[tokio::test]
async fn publishers_and_auditors_see_identities_masked() {
    let reg = Reg::spawn(None).await;
    let token = reg.filer("张三", "13912345678", "zhang@example.cn").await;
    let (id, ids) = reg.drafted(&token, individual_form).await;
    let id_number = resident_id("11010519491231002");
    let masked = format!("110105********{}", &id_number[14..]);
    let reviewer = reg.staff(UserRole::Reviewer, "13600000001").await;
    let publisher = reg.staff(UserRole::Publisher, "13600000002").await;
    let auditor = reg.staff(UserRole::Auditor, "13600000003").await;
    for (who, shown) in [
        (&reviewer, &id_number),
        (&publisher, &masked),
        (&auditor, &masked),
    ] {
        let app = json_of(
            reg.get(&format!("/api/v1/applications/{id}"), Some(who))
                .await,
            StatusCode::OK,
        )
        .await;
        let form = &app["form"];
        assert_eq!(form["applicant"]["individual"]["id_number"], shown.as_str());
        assert_eq!(form["responsible"]["id_number"], shown.as_str());
    }
    for who in [&publisher, &auditor] {
        let path = format!("/api/v1/applications/{id}/attachments/{}", ids[0]);
        let res = reg.get(&path, Some(who)).await;
        crate::harness::assert_error(res, StatusCode::FORBIDDEN, "forbidden").await;
    }
    let path = format!("/api/v1/applications/{id}/attachments/{}", ids[0]);
    assert_eq!(
        reg.get(&path, Some(&reviewer)).await.status(),
        StatusCode::OK
    );

    // Each unmasked view is recorded for the auditors (the reviewer's
    // two; the masked ones and the filer's own are not), newest first.
    let views_path = "/api/v1/audit/personal-data-views";
    let views = json_of(reg.get(views_path, Some(&auditor)).await, StatusCode::OK).await;
    let items: Vec<(&str, &str, i64)> = views
        .as_array()
        .unwrap()
        .iter()
        .map(|v| {
            let item = v["item"].as_str().unwrap();
            (
                v["user_role"].as_str().unwrap(),
                item,
                v["application_id"].as_i64().unwrap(),
            )
        })
        .collect();
    let attachment = format!("attachment {}", ids[0]);
    assert_eq!(
        items,
        [
            ("reviewer", attachment.as_str(), id),
            ("reviewer", "application", id)
        ]
    );
    // Paged: one older than the newest.
    let newest = views[0]["id"].as_i64().unwrap();
    let older = json_of(
        reg.get(
            &format!("{views_path}?before={newest}&limit=1"),
            Some(&auditor),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(older.as_array().unwrap().len(), 1);
    assert_eq!(older[0]["item"], "application");
    // Only auditors read the record.
    for who in [&reviewer, &publisher, &token] {
        let res = reg.get(views_path, Some(who)).await;
        crate::harness::assert_error(res, StatusCode::FORBIDDEN, "forbidden").await;
    }
    // The auditor's page shows it, in Chinese.
    let cookie = format!(
        "{}={auditor}",
        shucang_web::registry::REGISTRY_SESSION_COOKIE
    );
    let res = reg
        .http
        .get(format!("{}/audit", reg.base))
        .header("cookie", cookie)
        .send()
        .await
        .unwrap();
    let status = res.status();
    let page = res.text().await.unwrap();
    assert_eq!(status, StatusCode::OK, "{page}");
    assert!(
        page.contains("个人信息查看记录") && page.contains("证件材料"),
        "{page}"
    );
    reg.stop().await;
}
