//! The filing registry over real HTTP on port 0: filer accounts confirmed
//! through the outbox, drafts, uploads checked by content, submission with
//! every problem listed, the review queue and its working-day deadline,
//! decisions, filing numbers, notifications and the audit trail — on
//! SQLite, and on PostgreSQL when `SHUCANG_TEST_POSTGRES_URL` is set.
//!
//! This module holds the harness ([`Reg`]: the registry started in-process,
//! with one method per API step the tests repeat) and the shared steps;
//! the tests live in one submodule per topic.

mod accounts;
mod at_rest;
mod checkins;
mod deadlines;
mod forms;
mod lifecycle;
mod limits;
mod pages;
mod story;

use std::sync::Arc;

use reqwest::{Client, StatusCode, multipart};
use serde_json::{Value, json};
use shucang::registry::{RegistryApp, RegistryConfig};
use shucang_registry::{Registry, UserRole};
use shucang_types::{ManualClock, UnixMillis};
use tokio::sync::oneshot;

pub(crate) use forms::{institution_form, pdf, png, resident_id};

use crate::harness::assert_error;

/// 2026-09-30 10:00 in China: the last working day before National Day.
const SEPT_30: &str = "2026-09-30T02:00:00Z";
const DAY_MS: i64 = 86_400_000;
/// Every registry account's password in these tests.
pub(crate) const PASSWORD: &str = "Filer#2026pass";

pub(crate) struct Reg {
    pub(crate) base: String,
    pub(crate) http: Client,
    pub(crate) clock: Arc<ManualClock>,
    pub(crate) registry: Arc<Registry>,
    /// The store the server runs on, to read what a request left behind.
    pub(crate) store: Arc<dyn shucang_store::RegistryBackend>,
    notifier: Arc<shucang_notify::Notifier>,
    stop: Option<oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<anyhow::Result<()>>>,
    _dir: tempfile::TempDir,
}

impl Reg {
    pub(crate) async fn spawn(database_url: Option<String>) -> Reg {
        Reg::spawn_in(tempfile::tempdir().unwrap(), database_url, SEPT_30).await
    }

    /// Starts on SQLite with a configuration changed by `change`.
    pub(crate) async fn spawn_configured(change: impl FnOnce(&mut RegistryConfig)) -> Reg {
        Reg::spawn_with(None, change).await
    }

    /// Starts on `database_url` with a configuration changed by `change`.
    pub(crate) async fn spawn_with(
        database_url: Option<String>,
        change: impl FnOnce(&mut RegistryConfig),
    ) -> Reg {
        Reg::start(tempfile::tempdir().unwrap(), database_url, SEPT_30, change).await
    }

    /// Starts on `dir` (a restart when it has data) with the clock at `at`.
    async fn spawn_in(dir: tempfile::TempDir, database_url: Option<String>, at: &str) -> Reg {
        Reg::start(dir, database_url, at, |_| {}).await
    }

    async fn start(
        dir: tempfile::TempDir,
        database_url: Option<String>,
        at: &str,
        change: impl FnOnce(&mut RegistryConfig),
    ) -> Reg {
        let mut config = RegistryConfig::new();
        config.listen = "127.0.0.1:0".parse().unwrap();
        config.data_dir = dir.path().to_owned();
        config.database_url = database_url;
        change(&mut config);
        let clock = Arc::new(ManualClock::new(UnixMillis::parse_rfc3339(at).unwrap()));
        let app = RegistryApp::build(&config, clock.clone()).await.unwrap();
        let base = format!("http://{}", app.local_addr());
        let registry = app.services().registry.clone();
        let notifier = app.services().notifier.clone();
        let store = app.services().store.clone();
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(app.run_until(async {
            let _ = stopped.await;
        }));
        Reg {
            base,
            http: Client::new(),
            clock,
            registry,
            store,
            notifier,
            stop: Some(stop),
            task: Some(task),
            _dir: dir,
        }
    }

    /// Stops the server; returns its data directory.
    pub(crate) async fn stop(mut self) -> tempfile::TempDir {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            task.await.unwrap().unwrap();
        }
        self._dir
    }

    pub(crate) async fn post(
        &self,
        path: &str,
        token: Option<&str>,
        body: &Value,
    ) -> reqwest::Response {
        let mut req = self.http.post(format!("{}{path}", self.base)).json(body);
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        req.send().await.unwrap()
    }

    pub(crate) async fn put(&self, path: &str, token: &str, body: &Value) -> reqwest::Response {
        self.http
            .put(format!("{}{path}", self.base))
            .bearer_auth(token)
            .json(body)
            .send()
            .await
            .unwrap()
    }

    pub(crate) async fn get(&self, path: &str, token: Option<&str>) -> reqwest::Response {
        let mut req = self.http.get(format!("{}{path}", self.base));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        req.send().await.unwrap()
    }

    pub(crate) async fn upload(
        &self,
        token: &str,
        app: i64,
        name: &str,
        bytes: Vec<u8>,
    ) -> reqwest::Response {
        let form = multipart::Form::new().part(
            "file",
            multipart::Part::bytes(bytes).file_name(name.to_owned()),
        );
        self.http
            .post(format!(
                "{}/api/v1/applications/{app}/attachments",
                self.base
            ))
            .bearer_auth(token)
            .multipart(form)
            .send()
            .await
            .unwrap()
    }

    /// The download of attachment `attachment` of application `app`, as
    /// `token`.
    pub(crate) async fn attachment(
        &self,
        token: &str,
        app: i64,
        attachment: i64,
    ) -> reqwest::Response {
        let path = format!("/api/v1/applications/{app}/attachments/{attachment}");
        self.get(&path, Some(token)).await
    }

    /// The messages to `recipient`, oldest first (delivered by the worker
    /// or not: the outbox keeps them either way).
    pub(crate) async fn outbox(&self, recipient: &str) -> Vec<shucang_notify::Message> {
        let mut m = self.notifier.recent(Some(recipient), 100).await.unwrap();
        m.reverse();
        m
    }

    /// Checks that, for each of `needles`, some message to `recipient`
    /// contains it.
    async fn assert_notified(&self, recipient: &str, needles: &[&str]) {
        let texts: Vec<String> = self
            .outbox(recipient)
            .await
            .into_iter()
            .map(|m| m.message.body)
            .collect();
        for needle in needles {
            assert!(
                texts.iter().any(|t| t.contains(needle)),
                "no message to {recipient} with {needle}: {texts:#?}"
            );
        }
    }

    /// The code of the first SMS to `phone` (the registration's).
    pub(crate) async fn sms_code(&self, phone: &str) -> String {
        let sms = self.outbox(phone).await;
        crate::support::sms_code(&sms[0].message.body).expect("the SMS carries a code")
    }

    /// The confirmation link of the first e-mail to `email`.
    pub(crate) async fn email_link(&self, email: &str) -> String {
        let mail = self.outbox(email).await;
        mail[0]
            .message
            .body
            .lines()
            .find(|l| l.contains("/filers/verify-email?token="))
            .unwrap()
            .to_owned()
    }

    /// Registers, confirms mobile (code from the SMS) and e-mail (link
    /// from the e-mail), logs in; returns the token.
    pub(crate) async fn filer(&self, name: &str, phone: &str, email: &str) -> String {
        let res = self
            .post(
                "/api/v1/filers",
                None,
                &json!({"name": name, "phone": phone, "email": email, "password": PASSWORD}),
            )
            .await;
        assert_eq!(res.status(), StatusCode::CREATED);
        let code = self.sms_code(phone).await;
        let wrong = if code == "000000" { "111111" } else { "000000" };
        let verify = |code: &str| {
            let body = json!({"phone": phone, "code": code});
            async move { self.post("/api/v1/filers/verify-phone", None, &body).await }
        };
        assert_error(
            verify(wrong).await,
            StatusCode::BAD_REQUEST,
            "verification_failed",
        )
        .await;
        assert_eq!(verify(&code).await.status(), StatusCode::OK);
        let link = self.email_link(email).await;
        let page = self.http.get(&link).send().await.unwrap();
        assert_eq!(page.status(), StatusCode::OK);
        assert!(page.text().await.unwrap().contains("邮箱已确认"));
        let again = self.http.get(&link).send().await.unwrap();
        assert_eq!(again.status(), StatusCode::BAD_REQUEST, "a link works once");
        self.login(phone).await
    }

    pub(crate) async fn login(&self, phone: &str) -> String {
        let res = self
            .post(
                "/api/v1/sessions",
                None,
                &json!({"phone": phone, "password": PASSWORD}),
            )
            .await;
        assert_eq!(res.status(), StatusCode::CREATED);
        res.json::<Value>().await.unwrap()["token"]
            .as_str()
            .unwrap()
            .to_owned()
    }

    pub(crate) async fn staff(&self, role: UserRole, phone: &str) -> String {
        self.registry
            .create_staff(
                role,
                &shucang_registry::Person {
                    name: "审核员甲",
                    phone,
                    email: "reviewer@cac.example.cn",
                    password: PASSWORD,
                },
            )
            .await
            .unwrap();
        self.login(phone).await
    }

    /// Opens an empty draft; returns its id.
    async fn new_application(&self, token: &str) -> i64 {
        let a = json_of(
            self.post("/api/v1/applications", Some(token), &json!({}))
                .await,
            StatusCode::CREATED,
        )
        .await;
        a["id"].as_i64().unwrap()
    }

    /// Opens a draft, uploads its documents and saves `form` over them
    /// (the answer unchecked); returns the draft's id and the documents'.
    pub(crate) async fn drafted(&self, token: &str, form: fn(&[i64]) -> Value) -> (i64, Vec<i64>) {
        let id = self.new_application(token).await;
        let ids = documents(self, token, id).await;
        self.save(token, id, &form(&ids)).await;
        (id, ids)
    }

    /// Saves the form of application `id`.
    async fn save(&self, token: &str, id: i64, form: &Value) -> reqwest::Response {
        self.put(&format!("/api/v1/applications/{id}"), token, form)
            .await
    }

    /// Submits application `id`.
    pub(crate) async fn submit(&self, token: &str, id: i64) -> reqwest::Response {
        self.post(
            &format!("/api/v1/applications/{id}/submit"),
            Some(token),
            &json!({}),
        )
        .await
    }

    /// A reviewer's decision on application `id`.
    async fn decide(&self, token: &str, id: i64, decision: Value) -> reqwest::Response {
        self.post(
            &format!("/api/v1/review/applications/{id}/decision"),
            Some(token),
            &decision,
        )
        .await
    }

    /// Application `id` as `token` sees it (answered 200).
    async fn application(&self, token: &str, id: i64) -> Value {
        json_of(
            self.get(&format!("/api/v1/applications/{id}"), Some(token))
                .await,
            StatusCode::OK,
        )
        .await
    }

    /// The review queue as `token` sees it (answered 200).
    async fn queue(&self, token: &str) -> Value {
        json_of(
            self.get("/api/v1/review/queue", Some(token)).await,
            StatusCode::OK,
        )
        .await
    }

    /// The actions of application `id`'s audit trail, in order.
    async fn audit(&self, token: &str, id: i64) -> Vec<String> {
        let trail = json_of(
            self.get(&format!("/api/v1/applications/{id}/audit"), Some(token))
                .await,
            StatusCode::OK,
        )
        .await;
        trail
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["action"].as_str().unwrap().to_owned())
            .collect()
    }

    /// The public search for `q` (answered 200).
    async fn search(&self, q: &str) -> Value {
        json_of(
            self.http
                .get(format!("{}/api/v1/public/filings", self.base))
                .query(&[("q", q)])
                .send()
                .await
                .unwrap(),
            StatusCode::OK,
        )
        .await
    }

    /// A publisher's step on batch 1: `publish`, `finalise`, `objections`.
    async fn batch(&self, publisher: &str, step: &str, body: &Value) -> reqwest::Response {
        let path = format!("/api/v1/publication/batches/1/{step}");
        self.post(&path, Some(publisher), body).await
    }

    /// Gathers the approved filings into the next batch and publishes it
    /// (the answers unchecked).
    pub(crate) async fn gather_and_publish(&self, publisher: &str) {
        self.post("/api/v1/publication/batches", Some(publisher), &json!({}))
            .await;
        self.batch(publisher, "publish", &json!({})).await;
    }
}

/// Uploads an ID scan (PNG) and a signed declaration (PDF); returns ids.
async fn documents(reg: &Reg, token: &str, app: i64) -> Vec<i64> {
    let mut ids = Vec::new();
    for (name, bytes) in [("id.png", png()), ("declaration.pdf", pdf())] {
        let res = reg.upload(token, app, name, bytes).await;
        assert_eq!(res.status(), StatusCode::CREATED, "{name}");
        ids.push(res.json::<Value>().await.unwrap()["id"].as_i64().unwrap());
    }
    ids
}

/// A submission refused for what the form lacks; returns the body with
/// its `problems`.
async fn incomplete(res: reqwest::Response) -> Value {
    assert_error(
        res,
        StatusCode::UNPROCESSABLE_ENTITY,
        "application_incomplete",
    )
    .await
}

async fn json_of(res: reqwest::Response, status: StatusCode) -> Value {
    let got = res.status();
    let body: Value = res.json().await.unwrap();
    assert_eq!(got, status, "{body}");
    body
}

/// 张三 (a confirmed filer) and a reviewer, and 张三's approved individual
/// filing; returns the filer's and reviewer's tokens and the filing's id
/// and number.
pub(crate) async fn an_approved_filing(reg: &Reg) -> (String, String, i64, String) {
    let filer = reg.filer("张三", "13912345678", "zhang@example.cn").await;
    let reviewer = reg.staff(UserRole::Reviewer, "13600000001").await;
    let (id, number) = approved(reg, &filer, &reviewer, forms::individual_form).await;
    (filer, reviewer, id, number)
}

/// Approves a filing of `form` for `filer`; returns its id and number.
async fn approved(
    reg: &Reg,
    filer: &str,
    reviewer: &str,
    form: fn(&[i64]) -> Value,
) -> (i64, String) {
    let (id, _) = reg.drafted(filer, form).await;
    json_of(reg.submit(filer, id).await, StatusCode::OK).await;
    let ok = json_of(
        reg.decide(reviewer, id, json!({"decision": "approve"}))
            .await,
        StatusCode::OK,
    )
    .await;
    (id, ok["numbers"][0]["number"].as_str().unwrap().to_owned())
}
