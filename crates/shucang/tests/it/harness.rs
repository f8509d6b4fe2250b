//! Starting the application for a test and talking to it.

use std::net::SocketAddr;
use std::sync::Arc;

use reqwest::{Client, Response, StatusCode};
use serde_json::{Value, json};
use shucang::Application;
use shucang_config::{Config, Secrets};
use shucang_types::{ManualClock, UnixMillis};
use tokio::sync::oneshot;

/// A running application with its own data directory and a manual clock.
pub struct TestApp {
    pub addr: SocketAddr,
    pub client: Client,
    pub clock: Arc<ManualClock>,
    _dir: tempfile::TempDir,
    pub config: Config,
    pub chain: Arc<shucang_chain::Chain>,
    pub accounts: Arc<shucang_platform::AccountService>,
    /// The store the server runs on (SQLite or PostgreSQL), to read what a
    /// request left behind.
    pub store: Arc<dyn shucang_store::Store>,
    pub drops: Arc<shucang_platform::DropsService>,
    pub payments: Arc<shucang_platform::PaymentsService>,
    pub sandbox: Arc<shucang_platform::SandboxProvider>,
    /// The outbox, where the sandbox SMS sender leaves registration codes.
    pub notifier: Arc<shucang_notify::Notifier>,
    /// The witnessing of checkpoints, when witnesses are configured.
    pub witnessing: Option<Arc<shucang::witnessing::Witnessing>>,
    pub secrets: Secrets,
    stop: Option<oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<anyhow::Result<()>>>,
}

/// 2026-11-28T00:00:00Z.
pub const T0: UnixMillis = UnixMillis(1_795_824_000_000);
pub const MINUTE_MS: i64 = 60_000;

impl TestApp {
    /// Starts the app on SQLite in a fresh directory.
    pub async fn spawn() -> TestApp {
        TestApp::spawn_with(None).await
    }

    /// Starts the app on the given database URL (SQLite in the data
    /// directory when `None`).
    pub async fn spawn_with(database_url: Option<String>) -> TestApp {
        TestApp::spawn_in(tempfile::tempdir().unwrap(), database_url).await
    }

    /// Starts the app with a configuration changed by `change`.
    pub async fn spawn_configured(change: impl FnOnce(&mut Config)) -> TestApp {
        TestApp::spawn_configured_with(None, change).await
    }

    /// Starts the app on `database_url` with a configuration changed by
    /// `change`.
    pub async fn spawn_configured_with(
        database_url: Option<String>,
        change: impl FnOnce(&mut Config),
    ) -> TestApp {
        TestApp::start(tempfile::tempdir().unwrap(), database_url, change, false).await
    }

    /// Starts the app with the demo data of `serve --demo` seeded.
    pub async fn spawn_demo() -> TestApp {
        TestApp::start(tempfile::tempdir().unwrap(), None, |_| {}, true).await
    }

    /// Starts the app on an existing data directory with a configuration
    /// changed by `change`.
    pub async fn spawn_in_configured(
        dir: tempfile::TempDir,
        change: impl FnOnce(&mut Config),
    ) -> TestApp {
        TestApp::start(dir, None, change, false).await
    }

    /// Starts the app on an existing data directory.
    pub async fn spawn_in(dir: tempfile::TempDir, database_url: Option<String>) -> TestApp {
        TestApp::start(dir, database_url, |_| {}, false).await
    }

    /// Builds the application on an existing data directory as `start`
    /// does, without serving: the start-up's own answer.
    pub async fn build_in(dir: &std::path::Path) -> anyhow::Result<Application> {
        let mut config = Config::load(None, std::iter::empty()).unwrap();
        config.listen = "127.0.0.1:0".parse().unwrap();
        config.data_dir = dir.to_owned();
        let secrets = Secrets::load_or_create(dir, std::iter::empty()).unwrap();
        Application::build(&config, &secrets, Arc::new(ManualClock::new(T0))).await
    }

    async fn start(
        dir: tempfile::TempDir,
        database_url: Option<String>,
        change: impl FnOnce(&mut Config),
        demo: bool,
    ) -> TestApp {
        let mut config = Config::load(None, std::iter::empty()).unwrap();
        config.listen = "127.0.0.1:0".parse().unwrap();
        config.data_dir = dir.path().to_owned();
        config.database_url = database_url;
        // Every test's users register from loopback; the per-address limit
        // has its own test (`races`) at the default.
        config.accounts.registrations_per_ip_per_hour = 10_000;
        config.accounts.codes_per_ip_per_hour = 10_000;
        change(&mut config);
        let secrets = Secrets::load_or_create(dir.path(), std::iter::empty()).unwrap();
        let clock = Arc::new(ManualClock::new(T0));
        let mut app = Application::build(&config, &secrets, clock.clone())
            .await
            .unwrap();
        if demo {
            // As `serve --demo` does.
            app.show_sandbox_sms_on_pages();
            shucang::demo::seed(&app).await.unwrap();
        }
        let addr = app.local_addr();
        let chain = app.chain().clone();
        let accounts = app.services().accounts.clone();
        let store = app.services().store.clone();
        let notifier = app.services().notifier.clone();
        let witnessing = app.witnessing().cloned();
        let drops = app.drops().clone();
        let payments = app.payments().clone();
        let sandbox = app
            .sandbox()
            .expect("the test server offers the sandbox provider")
            .clone();
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(app.run_until(async {
            let _ = stopped.await;
        }));
        let client = Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        TestApp {
            addr,
            client,
            clock,
            _dir: dir,
            config,
            chain,
            accounts,
            store,
            drops,
            payments,
            sandbox,
            notifier,
            witnessing,
            secrets,
            stop: Some(stop),
            task: Some(task),
        }
    }

    /// Stops the server gracefully and waits for it; returns the data
    /// directory (deleted when dropped).
    pub async fn stop(mut self) -> tempfile::TempDir {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            task.await.unwrap().unwrap();
        }
        self._dir
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    pub async fn post_json(&self, path: &str, body: &Value) -> Response {
        self.client
            .post(self.url(path))
            .json(body)
            .send()
            .await
            .unwrap()
    }

    pub async fn get(&self, path: &str, token: Option<&str>) -> Response {
        let mut req = self.client.get(self.url(path));
        if let Some(token) = token {
            req = req.bearer_auth(token);
        }
        req.send().await.unwrap()
    }

    /// A `GET` of `path` with one request header set.
    pub async fn get_with_header(&self, path: &str, name: &str, value: &str) -> Response {
        let req = self.client.get(self.url(path)).header(name, value);
        req.send().await.unwrap()
    }

    /// Registers as a stranger does: asks for the SMS code, reads it from
    /// the outbox, and registers with it (with no code when the SMS was the
    /// notice to a registered number); the answer of the last step.
    pub async fn register(&self, phone: &str, password: &str) -> Response {
        let code = self.registration_code(phone).await.unwrap_or_default();
        self.register_with(phone, &code, password).await
    }

    /// Registration's second step: `POST /api/v1/accounts` with `code`.
    pub async fn register_with(&self, phone: &str, code: &str, password: &str) -> Response {
        let body = json!({ "phone": phone, "code": code, "password": password });
        self.post_json("/api/v1/accounts", &body).await
    }

    /// Asks for a registration code for `phone` and returns what the SMS
    /// carries: the code, or `None` when it is the notice to a registered
    /// number.
    pub async fn registration_code(&self, phone: &str) -> Option<String> {
        let res = self
            .post_json("/api/v1/accounts/codes", &json!({ "phone": phone }))
            .await;
        assert_eq!(res.status(), StatusCode::ACCEPTED);
        crate::support::sms_code(&self.last_sms(phone).await)
    }

    /// The text of the newest SMS to `phone` (normalised as the outbox
    /// holds it).
    pub async fn last_sms(&self, phone: &str) -> String {
        let phone = shucang_types::Phone::parse(phone).unwrap();
        let newest = self.notifier.recent(Some(phone.as_str()), 1).await.unwrap();
        newest
            .into_iter()
            .next()
            .expect("an SMS to this number")
            .message
            .body
    }

    pub async fn login(&self, phone: &str, password: &str) -> Response {
        self.post_json(
            "/api/v1/sessions",
            &json!({ "phone": phone, "password": password }),
        )
        .await
    }

    /// Logs in and returns the token; panics unless the login succeeds.
    pub async fn token(&self, phone: &str, password: &str) -> String {
        let res = self.login(phone, password).await;
        assert_eq!(res.status(), StatusCode::OK);
        let body: Value = res.json().await.unwrap();
        body["token"].as_str().unwrap().to_owned()
    }

    /// Creates an account with `role` directly and logs it in; returns the token.
    pub async fn staff(&self, phone: &str, role: shucang_types::Role) -> String {
        let registration = shucang_platform::Registration {
            phone: shucang_types::Phone::parse(phone).unwrap(),
            password: "Staff#2026pass".into(),
            role,
        };
        self.accounts.register(registration).await.unwrap();
        self.token(phone, "Staff#2026pass").await
    }

    /// Rows in `accounts`, read straight from the SQLite file.
    pub async fn account_rows(&self) -> i64 {
        let sql = "SELECT COUNT(*) FROM accounts";
        self.read_file(async |pool| sqlx::query_scalar(sql).fetch_one(pool).await)
            .await
    }

    /// The one row of `identities` as stored: the encrypted ID number and
    /// name, the consent version and address.
    pub async fn identity_row(&self) -> (Vec<u8>, Vec<u8>, String, String) {
        let sql = "SELECT id_number_enc, name_enc, consent_version, consent_ip FROM identities";
        self.read_file(async |pool| sqlx::query_as(sql).fetch_one(pool).await)
            .await
    }

    /// An order's mint job as stored: attempts, next attempt (ms), last error.
    pub async fn mint_job(&self, order_id: i64) -> (i64, i64, Option<String>) {
        let sql = "SELECT attempts, next_attempt_at, last_error FROM mint_jobs WHERE order_id = $1";
        let query = async |pool: &sqlx::SqlitePool| {
            sqlx::query_as(sql).bind(order_id).fetch_one(pool).await
        };
        self.read_file(query).await
    }

    /// The one row of `phone_codes` as stored: the code's keyed hash and
    /// the attempts spent.
    pub async fn phone_code_row(&self) -> (String, i64) {
        let sql = "SELECT code_hash, attempts FROM phone_codes";
        self.read_file(async |pool| sqlx::query_as(sql).fetch_one(pool).await)
            .await
    }

    /// The bodies of the outbox's messages as stored.
    pub async fn outbox_bodies_at_rest(&self) -> Vec<String> {
        let sql = "SELECT body FROM outbox ORDER BY id";
        self.read_file(async |pool| sqlx::query_scalar(sql).fetch_all(pool).await)
            .await
    }

    /// Runs `read` on the SQLite file, opened for it and closed after.
    async fn read_file<T>(
        &self,
        read: impl AsyncFnOnce(&sqlx::SqlitePool) -> Result<T, sqlx::Error>,
    ) -> T {
        let pool = self.sqlite().await;
        let out = read(&pool).await.unwrap();
        pool.close().await;
        out
    }

    /// The SQLite file, opened as an outsider would: what the tests read
    /// here is what is on disk (personal data encrypted, jobs recorded).
    async fn sqlite(&self) -> sqlx::SqlitePool {
        sqlx::SqlitePool::connect(&self.config.database_url())
            .await
            .unwrap()
    }
}

/// Asserts an error answer: status, JSON body with this code and a message.
pub async fn assert_error(res: Response, status: StatusCode, code: &str) -> Value {
    assert_eq!(res.status(), status, "expected {status} {code}");
    let ct = res
        .headers()
        .get("content-type")
        .unwrap()
        .to_str()
        .unwrap()
        .to_owned();
    assert!(ct.starts_with("application/json"), "content type {ct}");
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["error"]["code"], code, "body {body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .is_some_and(|m| !m.is_empty()),
        "body {body}"
    );
    body
}
