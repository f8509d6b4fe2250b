//! What a filer or a stranger can make the registry keep or send is
//! bounded, and each bound holds under parallel requests, on SQLite and
//! PostgreSQL: drafts per filer, upload bytes per filer, registrations per
//! address and per e-mail address.

use std::collections::BTreeMap;

use reqwest::StatusCode;
use serde_json::{Value, json};

use super::{PASSWORD, Reg, json_of};
use crate::support::{join_all, on_each_store, tally};

/// An answer's status, having checked that a 409 carries `code`.
async fn status_refused_with(res: reqwest::Response, code: &str) -> StatusCode {
    let status = res.status();
    if status == StatusCode::CONFLICT {
        let e: Value = res.json().await.unwrap();
        assert_eq!(e["error"]["code"], code);
    }
    status
}

/// A PDF of about `size` bytes whose content depends on `n`.
fn pdf_of(size: usize, n: usize) -> Vec<u8> {
    let mut doc = format!("%PDF-1.4\n%{n:08}").into_bytes();
    doc.resize(size, b'x');
    doc.extend_from_slice(
        b"\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n",
    );
    doc
}

/// 20 drafts at once from a filer with 2 already: 3 more are made, the
/// rest are refused with `draft_quota`; submitting one frees no place
/// until it leaves the draft state (it does not here: it is incomplete).
async fn drafts_are_capped(url: Option<String>) {
    let reg = Reg::spawn_with(url, |_| {}).await;
    let token = reg.filer("张三", "13912345678", "zhang@example.cn").await;
    for _ in 0..2 {
        let res = reg
            .post("/api/v1/applications", Some(&token), &json!({}))
            .await;
        assert_eq!(res.status(), StatusCode::CREATED);
    }
    let body = json!({});
    let burst = (0..20).map(|_| async {
        let res = reg.post("/api/v1/applications", Some(&token), &body).await;
        status_refused_with(res, "draft_quota").await
    });
    let t = tally(&join_all(burst).await);
    assert_eq!(t, BTreeMap::from([(201, 3), (409, 17)]), "{t:?}");
    let mine = json_of(
        reg.get("/api/v1/applications", Some(&token)).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(mine.as_array().unwrap().len(), 5);
    reg.stop().await;
}

#[tokio::test]
async fn a_filer_holds_at_most_five_drafts_however_many_are_asked_for_at_once() {
    on_each_store("the drafts quota", drafts_are_capped).await;
}

/// With a 1 MiB quota, 12 uploads of 200 KB at once: the five that fit
/// are stored, the rest refused with `storage_quota`, and the filer's
/// bytes stay within the quota.
async fn upload_bytes_are_capped(url: Option<String>) {
    let reg = Reg::spawn_with(url, |c| c.limits.storage_mib_per_filer = 1).await;
    let token = reg.filer("张三", "13912345678", "zhang@example.cn").await;
    let app = json_of(
        reg.post("/api/v1/applications", Some(&token), &json!({}))
            .await,
        StatusCode::CREATED,
    )
    .await;
    let id = app["id"].as_i64().unwrap();
    let burst = (0..12).map(|n| {
        let (reg, token) = (&reg, &token);
        async move {
            let res = reg.upload(token, id, "scan.pdf", pdf_of(200_000, n)).await;
            status_refused_with(res, "storage_quota").await
        }
    });
    let t = tally(&join_all(burst).await);
    assert_eq!(t, BTreeMap::from([(201, 5), (409, 7)]), "{t:?}");
    let app = json_of(
        reg.get(&format!("/api/v1/applications/{id}"), Some(&token))
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(app["attachments"].as_array().unwrap().len(), 5);
    reg.stop().await;
}

#[tokio::test]
async fn a_filers_uploads_stay_within_the_storage_quota_under_parallel_uploads() {
    on_each_store("the storage quota", upload_bytes_are_capped).await;
}

/// Ten registrations at once from one address: five are made (and only
/// they are sent an SMS), five refused with 429 `rate_limited`; with the
/// address limit raised, six naming one e-mail address make three.
async fn registrations_are_rate_limited(url: Option<String>) {
    let reg = Reg::spawn_with(url.clone(), |_| {}).await;
    let phones: Vec<String> = (0..10).map(|n| format!("1391234{n:04}")).collect();
    let burst = phones.iter().enumerate().map(|(n, phone)| {
        let body = json!({"name": "张三", "phone": phone,
            "email": format!("z{n}@example.cn"), "password": PASSWORD});
        let reg = &reg;
        async move { reg.post("/api/v1/filers", None, &body).await.status() }
    });
    let t = tally(&join_all(burst).await);
    assert_eq!(t, BTreeMap::from([(201, 5), (429, 5)]), "{t:?}");
    let mut sent = 0;
    for phone in &phones {
        sent += reg.outbox(phone).await.len();
    }
    assert_eq!(
        sent, 5,
        "one SMS per registration made, none for the refused"
    );
    let res = reg
        .post(
            "/api/v1/filers",
            None,
            &json!({"name": "李四", "phone": "13800000000",
            "email": "l@example.cn", "password": PASSWORD}),
        )
        .await;
    crate::harness::assert_error(res, StatusCode::TOO_MANY_REQUESTS, "rate_limited").await;
    reg.stop().await;

    let reg = Reg::spawn_with(url, |c| c.limits.registrations_per_ip_per_hour = 100).await;
    let burst = (0..6).map(|n| {
        let body = json!({"name": "张三", "phone": format!("1381234{n:04}"),
            "email": "victim@example.cn", "password": PASSWORD});
        let reg = &reg;
        async move { reg.post("/api/v1/filers", None, &body).await.status() }
    });
    let t = tally(&join_all(burst).await);
    assert_eq!(t, BTreeMap::from([(201, 3), (429, 3)]), "{t:?}");
    assert_eq!(reg.outbox("victim@example.cn").await.len(), 3);
    reg.stop().await;
}

#[tokio::test]
async fn registrations_are_limited_per_address_and_per_email_under_parallel_requests() {
    on_each_store("the registration limits", registrations_are_rate_limited).await;
}

/// Behind a trusted reverse proxy each client has its own limit (the
/// forwarded address counts); a forwarded address from anyone else is
/// ignored, so a client cannot dodge the limit by writing the header.
#[tokio::test]
async fn the_limits_key_on_the_forwarded_address_only_behind_a_trusted_proxy() {
    let register = |reg: &Reg, n: usize, forwarded: String| {
        let body = json!({"name": "张三", "phone": format!("1391234{n:04}"),
            "email": format!("z{n}@example.cn"), "password": PASSWORD});
        let req = reg
            .http
            .post(format!("{}/api/v1/filers", reg.base))
            .header("x-forwarded-for", forwarded)
            .json(&body);
        async move { req.send().await.unwrap().status() }
    };
    let behind = Reg::spawn_with(None, |c| {
        c.server.trusted_proxies = vec!["127.0.0.1".parse().unwrap()];
    })
    .await;
    let burst = (0..8).map(|n| register(&behind, n, format!("203.0.113.{n}")));
    let t = tally(&join_all(burst).await);
    assert_eq!(t, BTreeMap::from([(201, 8)]), "one each: {t:?}");
    let same = (8..16).map(|n| register(&behind, n, "198.51.100.1".to_owned()));
    let t = tally(&join_all(same).await);
    assert_eq!(t, BTreeMap::from([(201, 5), (429, 3)]), "{t:?}");
    behind.stop().await;

    let direct = Reg::spawn_with(None, |_| {}).await;
    let burst = (0..8).map(|n| register(&direct, n, format!("203.0.113.{n}")));
    let t = tally(&join_all(burst).await);
    assert_eq!(t, BTreeMap::from([(201, 5), (429, 3)]), "{t:?}");
    direct.stop().await;
}
