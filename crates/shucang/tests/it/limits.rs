//! The server's bounds, tried over raw TCP the way a slow or greedy client
//! would: unfinished headers, a body that never completes, a silent
//! connection, and more connections than the limit — on both servers.
//!
//! The timeouts under test are 1 second; each wait below is bounded by
//! `GIVE_UP` so that a regression fails the test rather than hangs it.

use std::net::SocketAddr;
use std::time::Duration;

use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::harness::TestApp;
use crate::registry::Reg;

/// Longer than any bound under test by far: reaching it is a failure.
const GIVE_UP: Duration = Duration::from_secs(20);

const HEALTH: &[u8] = b"GET /healthz HTTP/1.1\r\nHost: test\r\n\r\n";

/// Reads until the server closes the connection; what it sent, or `None`
/// if it was still open after `within`.
async fn until_closed(stream: &mut TcpStream, within: Duration) -> Option<Vec<u8>> {
    let mut got = Vec::new();
    let read = tokio::time::timeout(within, async {
        let mut buf = [0u8; 4096];
        loop {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => got.extend_from_slice(&buf[..n]),
            }
        }
    });
    read.await.ok().map(|()| got)
}

/// Reads one whole answer to `GET /healthz` (it is small and closes no
/// connection), or `None` if none came within `within`.
async fn one_answer(stream: &mut TcpStream, within: Duration) -> Option<String> {
    let mut got = Vec::new();
    let read = tokio::time::timeout(within, async {
        let mut buf = [0u8; 4096];
        while !String::from_utf8_lossy(&got).contains("\"ok\"") {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => got.extend_from_slice(&buf[..n]),
            }
        }
    });
    read.await.ok()?;
    Some(String::from_utf8_lossy(&got).into_owned())
}

async fn connect(addr: SocketAddr) -> TcpStream {
    TcpStream::connect(addr).await.unwrap()
}

/// A fresh connection asking for `/healthz` is answered 200.
async fn assert_served(addr: SocketAddr) {
    let mut c = connect(addr).await;
    c.write_all(HEALTH).await.unwrap();
    let answer = one_answer(&mut c, GIVE_UP).await.unwrap();
    assert!(answer.contains("200 OK"), "{answer}");
}

/// A connection that sends half a request head is closed by the header
/// deadline, without an answer to a request it never finished.
async fn unfinished_headers_are_cut(addr: SocketAddr) {
    let mut slow = connect(addr).await;
    slow.write_all(b"GET /healthz HTTP/1.1\r\nHost: te")
        .await
        .unwrap();
    let sent = until_closed(&mut slow, GIVE_UP).await;
    let sent = sent.expect("the header deadline closes the connection");
    assert!(!String::from_utf8_lossy(&sent).contains("200 OK"));
}

#[tokio::test]
async fn a_request_head_must_arrive_in_time_on_both_servers() {
    let app = TestApp::spawn_configured(|c| c.server.header_read_timeout_seconds = 1).await;
    unfinished_headers_are_cut(app.addr).await;
    // A client that finishes in time is served as before.
    assert_served(app.addr).await;
    app.stop().await;

    let reg = Reg::spawn_configured(|c| c.server.header_read_timeout_seconds = 1).await;
    unfinished_headers_are_cut(reg.base.trim_start_matches("http://").parse().unwrap()).await;
    reg.stop().await;
}

#[tokio::test]
async fn a_body_that_does_not_arrive_in_time_gets_408_and_changes_nothing() {
    let app = TestApp::spawn_configured(|c| c.server.body_read_timeout_seconds = 1).await;
    let mut slow = connect(app.addr).await;
    let head = "POST /api/v1/accounts HTTP/1.1\r\nHost: test\r\n\
        Content-Type: application/json\r\nContent-Length: 200\r\n\r\n";
    slow.write_all(head.as_bytes()).await.unwrap();
    slow.write_all(br#"{"phone":"13800138000","#).await.unwrap();
    let sent = until_closed(&mut slow, GIVE_UP)
        .await
        .expect("closed after the answer");
    let sent = String::from_utf8_lossy(&sent).into_owned();
    assert!(sent.starts_with("HTTP/1.1 408"), "{sent}");
    let body: Value = serde_json::from_str(sent.split("\r\n\r\n").nth(1).unwrap()).unwrap();
    assert_eq!(body["error"]["code"], "request_timeout", "{sent}");
    let phone = shucang_types::Phone::parse("13800138000").unwrap();
    assert!(app.store.account_by_phone(&phone).await.unwrap().is_none());
    app.stop().await;
}

#[tokio::test]
async fn silent_connections_are_closed_by_the_head_deadline() {
    let app = TestApp::spawn_configured(|c| c.server.header_read_timeout_seconds = 1).await;
    // Silent from the start.
    let mut silent = connect(app.addr).await;
    assert!(until_closed(&mut silent, GIVE_UP).await.is_some());
    // Silent after one answered request on a kept-alive connection.
    let mut kept = connect(app.addr).await;
    kept.write_all(HEALTH).await.unwrap();
    assert!(
        one_answer(&mut kept, GIVE_UP)
            .await
            .unwrap()
            .contains("200 OK")
    );
    assert!(until_closed(&mut kept, GIVE_UP).await.is_some());
    app.stop().await;
}

/// A client that asks for far more than the socket buffers hold and does
/// not read it: the stalled answer is given up after the send timeout and
/// the connection closed, instead of being held for ever.
#[tokio::test]
async fn an_answer_nobody_reads_is_given_up_after_the_send_timeout() {
    let app = TestApp::spawn_configured(|c| {
        c.server.send_timeout_seconds = 1;
        c.server.header_read_timeout_seconds = 60;
    })
    .await;
    let mut greedy = connect(app.addr).await;
    let request = b"GET /api/openapi.json HTTP/1.1\r\nHost: test\r\n\r\n";
    let asked = 400;
    // The requests are small; send them all, then stop reading for longer
    // than the send timeout.
    greedy.write_all(&request.repeat(asked)).await.unwrap();
    tokio::time::sleep(Duration::from_secs(3)).await;
    let got = until_closed(&mut greedy, GIVE_UP)
        .await
        .expect("the server closed the connection");
    let answers = String::from_utf8_lossy(&got)
        .matches("HTTP/1.1 200")
        .count();
    assert!(
        answers < asked,
        "{answers} of {asked} answers: nothing was given up"
    );
    // The server goes on serving others.
    assert_served(app.addr).await;
    app.stop().await;
}

#[tokio::test]
async fn connections_beyond_the_limit_wait_until_one_closes() {
    let app = TestApp::spawn_configured(|c| c.server.connections_max = 2).await;
    // Two connections hold both places (each proven served).
    let mut held = Vec::new();
    for _ in 0..2 {
        let mut c = connect(app.addr).await;
        c.write_all(HEALTH).await.unwrap();
        assert!(one_answer(&mut c, GIVE_UP).await.is_some());
        held.push(c);
    }
    // A third is not served while they stay open...
    let mut third = connect(app.addr).await;
    third.write_all(HEALTH).await.unwrap();
    assert!(
        one_answer(&mut third, Duration::from_millis(1500))
            .await
            .is_none_or(|got| got.is_empty()),
        "served beyond the limit"
    );
    // ...and is served as soon as one closes.
    drop(held.pop());
    let answer = one_answer(&mut third, GIVE_UP).await.unwrap();
    assert!(answer.contains("200 OK"), "{answer}");
    drop(held);
    app.stop().await;
}
