//! Steps the platform's tests share, so that each test reads as what it
//! checks: JSON answers, the order and payment steps, pages with cookies,
//! PostgreSQL when configured, and the binary's exit status.
//!
//! None of these asserts anything a test did not assert before: they send,
//! read and unwrap; the two `assert_` helpers make the one check their
//! callers each made.

use std::future::Future;

use reqwest::{Client, Response, StatusCode};
use serde_json::{Value, json};
use shucang_chain::{CollectionId, NewCollection, Operation, Receipt, SigningKey, Transaction};
use shucang_verify::Suite;

use crate::harness::{TestApp, assert_error};

impl TestApp {
    /// GETs `path` (as `token`) and reads the JSON body, whatever the status.
    pub async fn get_json(&self, path: &str, token: Option<&str>) -> Value {
        self.get(path, token).await.json().await.unwrap()
    }

    /// `GET /api/v1/me` as `token`.
    pub async fn me(&self, token: &str) -> Value {
        self.get_json("/api/v1/me", Some(token)).await
    }

    /// `GET /api/v1/orders/{order_id}` as `token`.
    pub async fn order(&self, token: &str, order_id: i64) -> Value {
        self.get_json(&format!("/api/v1/orders/{order_id}"), Some(token))
            .await
    }

    /// Orders `quantity` editions of drop `drop_id` under idempotency key
    /// `key`; returns the answer's JSON, whatever the status.
    pub async fn reserve(&self, token: &str, drop_id: i64, key: &str, quantity: u32) -> Value {
        crate::drops::buy(
            self,
            token,
            drop_id,
            Some(key),
            json!({"quantity": quantity}),
        )
        .await
        .json()
        .await
        .unwrap()
    }

    /// `POST /api/v1/orders/{order_id}/payments` as `token`.
    pub async fn start_payment(&self, token: &str, order_id: i64) -> Response {
        self.client
            .post(self.url(&format!("/api/v1/orders/{order_id}/payments")))
            .bearer_auth(token)
            .send()
            .await
            .unwrap()
    }

    /// Starts paying for order `order_id` as `token`; the new payment's JSON.
    pub async fn payment(&self, token: &str, order_id: i64) -> Value {
        self.start_payment(token, order_id)
            .await
            .json()
            .await
            .unwrap()
    }

    /// `POST {path}` of the JSON `body` as `token`.
    pub async fn post_as(&self, path: &str, token: &str, body: &Value) -> Response {
        self.client
            .post(self.url(path))
            .bearer_auth(token)
            .json(body)
            .send()
            .await
            .unwrap()
    }

    /// The sandbox's "pay" button: `POST {pay_url}/complete`.
    pub async fn complete_payment(&self, pay_url: &str) -> Response {
        self.client
            .post(self.url(&format!("{pay_url}/complete")))
            .send()
            .await
            .unwrap()
    }

    /// The node's signing key (the chain's operator).
    pub fn node_key(&self) -> SigningKey {
        SigningKey::from_secret(Suite::Ed25519Sha256, self.secrets.node.expose()).unwrap()
    }

    /// Signs `operation` with `key` as transaction `nonce` and commits it.
    pub async fn commit(&self, key: &SigningKey, nonce: u64, operation: Operation) -> Receipt {
        let tx = Transaction::signed_by(key, nonce, operation);
        self.chain.submit(tx).await.unwrap()
    }

    /// Grows the chain by one node-signed transaction (nonce `nonce`)
    /// creating the collection `id`.
    pub async fn grow_chain(&self, nonce: u64, id: &str) -> Receipt {
        let operation = Operation::CreateCollection(NewCollection {
            collection: CollectionId::parse(id).unwrap(),
            name: format!("集合 {id}"),
            symbol: "GROW".into(),
            supply_cap: 3,
            issuer: "敦煌文创".into(),
            metadata_uri: format!("https://example.cn/{id}.json"),
            metadata_hash: [nonce as u8; 32],
        });
        self.commit(&self.node_key(), nonce, operation).await
    }

    /// The node's latest checkpoint as served (with any cosignatures).
    pub async fn checkpoint_text(&self) -> String {
        let res = self.get("/api/v1/chain/checkpoint", None).await;
        assert_eq!(res.status(), StatusCode::OK);
        res.text().await.unwrap()
    }

    /// GETs `path` as a browser asking for a page would.
    pub async fn page(&self, path: &str) -> Response {
        self.client
            .get(self.url(path))
            .header("accept", "text/html")
            .send()
            .await
            .unwrap()
    }
}

/// The `"id"` of a JSON answer.
pub async fn id_of(res: Response) -> i64 {
    res.json::<Value>().await.unwrap()["id"].as_i64().unwrap()
}

/// The numbers in `array` (a JSON array of objects) under `field`.
pub fn u64s(array: &Value, field: &str) -> Vec<u64> {
    array
        .as_array()
        .unwrap()
        .iter()
        .map(|item| item[field].as_u64().unwrap())
        .collect()
}

/// A client that shows redirects instead of following them, as the pages'
/// tests need.
pub fn no_redirects() -> Client {
    Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// A header of an answer, as text.
pub fn header(res: &Response, name: &str) -> String {
    res.headers()[name].to_str().unwrap().to_owned()
}

/// The `name=value` pair of the cookie an answer sets.
pub fn set_cookie(res: &Response) -> String {
    header(res, "set-cookie")
        .split(';')
        .next()
        .unwrap()
        .to_owned()
}

/// The value of the cookie an answer sets (`name=value; …` → `value`).
pub fn set_cookie_value(res: &Response) -> String {
    set_cookie(res).split_once('=').unwrap().1.to_owned()
}

/// The editions of an order (its JSON).
pub fn editions(order: &Value) -> Vec<u64> {
    order["editions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e.as_u64().unwrap())
        .collect()
}

/// Runs `test` with the URL of a fresh PostgreSQL database when
/// `SHUCANG_TEST_POSTGRES_URL` names a server (else says it is skipped),
/// and drops the database afterwards.
pub async fn on_postgres<F, Fut>(what: &str, test: F)
where
    F: FnOnce(String) -> Fut,
    Fut: Future<Output = ()>,
{
    let Some(admin) = shucang_store::test_support::postgres_url_or_skip(what) else {
        return;
    };
    let db = shucang_store::test_support::TempPgDatabase::create(&admin)
        .await
        .unwrap();
    test(db.url.clone()).await;
    db.drop_database().await.unwrap();
}

/// Runs `test` on SQLite (`None`), then on a fresh PostgreSQL database when
/// one is configured (printing why not otherwise): one test, both stores.
pub async fn on_each_store<F, Fut>(what: &str, test: F)
where
    F: Fn(Option<String>) -> Fut,
    Fut: Future<Output = ()>,
{
    test(None).await;
    on_postgres(what, |url| test(Some(url))).await;
}

/// How many answers had each status (of a parallel burst).
pub fn tally(statuses: &[StatusCode]) -> std::collections::BTreeMap<u16, usize> {
    let mut t = std::collections::BTreeMap::new();
    for s in statuses {
        *t.entry(s.as_u16()).or_default() += 1;
    }
    t
}

/// `GET /api/v1/me` with `token` is refused: 401 `unauthenticated`.
pub async fn assert_signed_out(app: &TestApp, token: &str) {
    assert_error(
        app.get("/api/v1/me", Some(token)).await,
        StatusCode::UNAUTHORIZED,
        "unauthenticated",
    )
    .await;
}

/// Asserts that a process exited with success, showing its stderr if not.
pub fn assert_success(out: &std::process::Output) {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// `shucang chain check --data-dir DIR`.
pub async fn chain_check(data_dir: &std::path::Path) -> std::process::Output {
    crate::process::shucang()
        .args(["chain", "check", "--data-dir"])
        .arg(data_dir)
        .output()
        .await
        .unwrap()
}

/// Runs `futures` at once on this task and returns their outputs in order:
/// a burst of requests that all borrow the test's server (no `futures`
/// crate for one function).
pub async fn join_all<F: Future>(futures: impl IntoIterator<Item = F>) -> Vec<F::Output> {
    let mut pending: Vec<std::pin::Pin<Box<F>>> = futures.into_iter().map(Box::pin).collect();
    let mut done: Vec<Option<F::Output>> = pending.iter().map(|_| None).collect();
    std::future::poll_fn(|cx| {
        let mut all = true;
        for (future, out) in pending.iter_mut().zip(done.iter_mut()) {
            if out.is_none() {
                match future.as_mut().poll(cx) {
                    std::task::Poll::Ready(v) => *out = Some(v),
                    std::task::Poll::Pending => all = false,
                }
            }
        }
        if all {
            std::task::Poll::Ready(())
        } else {
            std::task::Poll::Pending
        }
    })
    .await;
    done.into_iter().flatten().collect()
}

/// The one-time code an SMS carries (the first run of six digits after
/// "验证码是"), or `None` for a text without one (a notice).
pub fn sms_code(text: &str) -> Option<String> {
    let after = text.split("验证码是").nth(1)?.trim_start();
    let code: String = after.chars().take_while(char::is_ascii_digit).collect();
    (code.len() == 6).then_some(code)
}
