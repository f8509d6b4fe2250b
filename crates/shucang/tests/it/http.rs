//! HTTP details a high-level client hides: chunked bodies without a length,
//! the fallback routes, the OpenAPI document, request ids.

use std::net::SocketAddr;

use reqwest::StatusCode;
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::harness::{TestApp, assert_error};
use crate::support::{assert_signed_out, header};

/// POSTs `body` as JSON with `Transfer-Encoding: chunked` over a raw socket;
/// returns the status code and the response body.
pub async fn chunked_post(addr: SocketAddr, path: &str, body: &[u8]) -> (u16, String) {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    let head = format!(
        "POST {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
    );
    let mut request = head.into_bytes();
    for chunk in body.chunks(64 * 1024) {
        request.extend_from_slice(format!("{:x}\r\n", chunk.len()).as_bytes());
        request.extend_from_slice(chunk);
        request.extend_from_slice(b"\r\n");
    }
    request.extend_from_slice(b"0\r\n\r\n");
    // The server may answer and close before reading everything; a failed
    // write is then expected, and the answer is still there to read.
    let _ = stream.write_all(&request).await;
    let mut response = Vec::new();
    let _ = stream.read_to_end(&mut response).await;
    let text = String::from_utf8_lossy(&response).into_owned();
    let status = text
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let body = text
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_owned())
        .unwrap_or_default();
    (status, body)
}

/// The `x-request-id` of an answer.
fn request_id(res: &reqwest::Response) -> String {
    header(res, "x-request-id")
}

#[tokio::test]
async fn healthz_and_request_ids() {
    let app = TestApp::spawn().await;
    let res = app.get("/healthz", None).await;
    assert_eq!(res.status(), StatusCode::OK);
    let id1 = request_id(&res);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["status"], "ok");
    let res = app.get("/healthz", None).await;
    let id2 = request_id(&res);
    assert_ne!(id1, id2);
    // A caller's own request id is kept.
    let res = app
        .get_with_header("/healthz", "x-request-id", "caller-7")
        .await;
    assert_eq!(res.headers().get("x-request-id").unwrap(), "caller-7");
    app.stop().await;
}

#[tokio::test]
async fn openapi_documents_every_route() {
    let app = TestApp::spawn().await;
    let res = app.get("/api/openapi.json", None).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert!(header(&res, "content-type").starts_with("application/json"));
    let doc: Value = res.json().await.unwrap();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    let expected = [
        ("/healthz", "get"),
        ("/api/v1/accounts/codes", "post"),
        ("/api/v1/accounts", "post"),
        ("/api/v1/sessions", "post"),
        ("/api/v1/sessions/current", "delete"),
        ("/api/v1/me", "get"),
        ("/api/v1/me/identity", "post"),
        ("/api/v1/me/collectibles", "get"),
        ("/api/v1/complaints", "post"),
        ("/api/v1/complaints/{ticket}", "get"),
        ("/api/v1/collectibles/{collection}/{token_id}", "get"),
        ("/api/v1/collectibles/{collection}/{token_id}/gifts", "post"),
        ("/api/v1/admin/works", "post"),
        ("/api/v1/admin/works", "get"),
        ("/api/v1/admin/works/{id}/review", "post"),
        ("/api/v1/works/{id}", "get"),
        ("/api/v1/works/{id}/image", "get"),
        ("/api/v1/works/{id}/metadata", "get"),
        ("/api/v1/admin/drops", "post"),
        ("/api/v1/drops", "get"),
        ("/api/v1/drops/{id}", "get"),
        ("/api/v1/drops/{id}/orders", "post"),
        ("/api/v1/orders/{id}", "get"),
        ("/api/v1/orders/{id}/payments", "post"),
        ("/api/v1/sandbox/payments/{payment_id}", "get"),
        ("/api/v1/sandbox/payments/{payment_id}/complete", "post"),
        ("/api/v1/payments/notify", "post"),
        ("/api/v1/chain/stats", "get"),
        ("/api/v1/chain/blocks", "get"),
        ("/api/v1/chain/blocks/{id}", "get"),
        ("/api/v1/chain/txs/{hash}", "get"),
        ("/api/v1/chain/txs/{hash}/proof", "get"),
        ("/api/v1/chain/addresses/{address}", "get"),
        ("/api/v1/chain/tokens/{collection}/{token_id}", "get"),
        ("/api/v1/chain/collections/{collection}", "get"),
        ("/api/v1/chain/checkpoint", "get"),
        ("/api/v1/chain/consistency", "get"),
    ];
    let paths = doc["paths"].as_object().unwrap();
    for (path, method) in expected {
        assert!(
            paths[path][method].is_object(),
            "{method} {path} is documented"
        );
    }
    let operations: usize = paths.values().map(|p| p.as_object().unwrap().len()).sum();
    assert_eq!(
        operations,
        expected.len(),
        "no undocumented extras: {:?}",
        paths.keys()
    );
    // Every documented route exists: it answers, and not with the fallback.
    for (path, method) in expected {
        let concrete = path
            .replace("{id}", "1")
            .replace("{hash}", &"0".repeat(64))
            .replace("{address}", &format!("0x{}", "0".repeat(40)))
            .replace("{collection}", "c")
            .replace("{token_id}", "1")
            .replace("{payment_id}", "sbx_0")
            .replace("{ticket}", "TS0");
        let res = app
            .client
            .request(method.to_uppercase().parse().unwrap(), app.url(&concrete))
            .send()
            .await
            .unwrap();
        let status = res.status();
        let body = res.text().await.unwrap();
        assert!(
            status != StatusCode::METHOD_NOT_ALLOWED && !body.contains("no such resource"),
            "{method} {path}: {status} {body}"
        );
    }
    assert!(doc["components"]["schemas"]["ErrorBody"].is_object());
    app.stop().await;
}

#[tokio::test]
async fn unauthenticated_requests_are_refused() {
    let app = TestApp::spawn().await;
    assert_error(
        app.get("/api/v1/me", None).await,
        StatusCode::UNAUTHORIZED,
        "unauthenticated",
    )
    .await;
    for token in ["forged-token".to_owned(), "x".repeat(5000)] {
        assert_signed_out(&app, &token).await;
    }
    let me = app.url("/api/v1/me");
    for req in [
        app.client
            .get(&me)
            .basic_auth("13800138000", Some("Shucang#2026")),
        app.client.get(&me).header("cookie", "shucang_session="),
    ] {
        let res = req.send().await.unwrap();
        assert_error(res, StatusCode::UNAUTHORIZED, "unauthenticated").await;
    }
    app.stop().await;
}

/// Every answer of both applications, pages, API and errors alike, tells
/// the browser: no framing, no inline or foreign scripts, no sniffing, no
/// referrer to other sites; the pages' scripts are served as files.
#[tokio::test]
async fn every_answer_carries_the_browser_defences_on_both_servers() {
    let app = TestApp::spawn().await;
    let reg = crate::registry::Reg::spawn(None).await;
    let http = reqwest::Client::new();
    let urls = [
        app.url("/"),
        app.url("/explorer"),
        app.url("/api/v1/drops"),
        app.url("/no/such/page"),
        format!("{}/", reg.base),
        format!("{}/login", reg.base),
        format!("{}/api/v1/public/filings", reg.base),
    ];
    for url in urls {
        let res = http
            .get(&url)
            .header("accept", "text/html")
            .send()
            .await
            .unwrap();
        let h = res.headers();
        let csp = h["content-security-policy"].to_str().unwrap();
        assert!(csp.contains("frame-ancestors 'none'"), "{url}: {csp}");
        assert!(csp.contains("script-src 'self'"), "{url}: {csp}");
        assert!(!csp.contains("unsafe-inline"), "{url}: {csp}");
        assert_eq!(h["x-frame-options"], "DENY", "{url}");
        assert_eq!(h["x-content-type-options"], "nosniff", "{url}");
        assert_eq!(h["referrer-policy"], "same-origin", "{url}");
        let body = res.text().await.unwrap();
        assert!(!body.contains("<script>"), "{url}: an inline script");
    }
    for name in ["home.js", "explorer.js"] {
        let res = http
            .get(app.url(&format!("/static/{name}")))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        assert!(header(&res, "content-type").starts_with("text/javascript"));
    }
    let missing = http.get(app.url("/static/other.js")).send().await.unwrap();
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
    app.stop().await;
    reg.stop().await;
}
