//! The filing registry over real HTTP on port 0: filer accounts confirmed
//! through the outbox, drafts, uploads checked by content, submission with
//! every problem listed, the review queue and its working-day deadline,
//! decisions, filing numbers, notifications and the audit trail — on
//! SQLite, and on PostgreSQL when `SHUCANG_TEST_POSTGRES_URL` is set.

use std::sync::Arc;

use reqwest::{Client, StatusCode, multipart};
use serde_json::{Value, json};
use shucang::registry::{RegistryApp, RegistryConfig};
use shucang_registry::{Registry, UserRole};
use shucang_types::{FilingNumber, ManualClock, UnixMillis};
use tokio::sync::oneshot;

use crate::harness::assert_error;

/// 2026-09-30 10:00 in China: the last working day before National Day.
const SEPT_30: &str = "2026-09-30T02:00:00Z";
const DAY_MS: i64 = 86_400_000;

pub(crate) struct Reg {
    pub(crate) base: String,
    http: Client,
    clock: Arc<ManualClock>,
    pub(crate) registry: Arc<Registry>,
    notifier: Arc<shucang_notify::Notifier>,
    stop: Option<oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<anyhow::Result<()>>>,
    _dir: tempfile::TempDir,
}

impl Reg {
    pub(crate) async fn spawn(database_url: Option<String>) -> Reg {
        Reg::spawn_in(tempfile::tempdir().unwrap(), database_url, SEPT_30).await
    }

    /// Starts on `dir` (a restart when it has data) with the clock at `at`.
    async fn spawn_in(dir: tempfile::TempDir, database_url: Option<String>, at: &str) -> Reg {
        let mut config = RegistryConfig::new();
        config.listen = "127.0.0.1:0".parse().unwrap();
        config.data_dir = dir.path().to_owned();
        config.database_url = database_url;
        let clock = Arc::new(ManualClock::new(UnixMillis::parse_rfc3339(at).unwrap()));
        let app = RegistryApp::build(&config, clock.clone()).await.unwrap();
        let base = format!("http://{}", app.local_addr());
        let registry = app.services().registry.clone();
        let notifier = app.services().notifier.clone();
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(app.run_until(async {
            let _ = stopped.await;
        }));
        Reg {
            base,
            http: Client::new(),
            clock,
            registry,
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

    /// The messages to `recipient`, oldest first (delivered by the worker
    /// or not: the outbox keeps them either way).
    pub(crate) async fn outbox(&self, recipient: &str) -> Vec<shucang_notify::Message> {
        let mut m = self.notifier.recent(Some(recipient), 100).await.unwrap();
        m.reverse();
        m
    }

    /// Registers, confirms mobile (code from the SMS) and e-mail (link
    /// from the e-mail), logs in; returns the token.
    pub(crate) async fn filer(&self, name: &str, phone: &str, email: &str) -> String {
        let res = self
            .post(
                "/api/v1/filers",
                None,
                &json!({"name": name, "phone": phone, "email": email, "password": "Filer#2026pass"}),
            )
            .await;
        assert_eq!(res.status(), StatusCode::CREATED);
        let sms = self.outbox(phone).await;
        let code = sms[0].message.body.split("验证码是 ").nth(1).unwrap()[..6].to_owned();
        let wrong = if code == "000000" { "111111" } else { "000000" };
        let res = self
            .post(
                "/api/v1/filers/verify-phone",
                None,
                &json!({"phone": phone, "code": wrong}),
            )
            .await;
        assert_error(res, StatusCode::BAD_REQUEST, "verification_failed").await;
        let res = self
            .post(
                "/api/v1/filers/verify-phone",
                None,
                &json!({"phone": phone, "code": code}),
            )
            .await;
        assert_eq!(res.status(), StatusCode::OK);
        let mail = self.outbox(email).await;
        let link = mail[0]
            .message
            .body
            .lines()
            .find(|l| l.contains("/filers/verify-email?token="))
            .unwrap()
            .to_owned();
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
                &json!({"phone": phone, "password": "Filer#2026pass"}),
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
                "审核员甲",
                phone,
                "reviewer@cac.example.cn",
                "Filer#2026pass",
            )
            .await
            .unwrap();
        self.login(phone).await
    }
}

/// A real (tiny) PNG and PDF.
pub(crate) fn png() -> Vec<u8> {
    crate::works::png()
}

pub(crate) fn pdf() -> Vec<u8> {
    b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n".to_vec()
}

pub(crate) fn resident_id(body17: &str) -> String {
    format!(
        "{body17}{}",
        shucang_types::id_check_character(body17.as_bytes()) as char
    )
}

/// A complete individual application whose documents are `ids`.
fn individual_form(ids: &[i64]) -> Value {
    json!({
        "applicant": {"kind": "individual", "individual": {
            "name": "张三", "id_type": "resident_id", "id_number": resident_id("11010519491231002"),
            "id_address": "北京市海淀区中关村大街1号", "mailing_address": "北京市海淀区中关村大街1号",
            "id_scan": ids[0],
        }},
        "registered_place": {"district_code": "110108", "address": "北京市海淀区中关村大街1号"},
        "responsible": {
            "name": "张三", "office_phone": "010-62345678", "id_type": "resident_id",
            "id_number": resident_id("11010519491231002"), "mobile": "13912345678",
            "email": "zhang@example.cn", "id_scan": ids[0],
        },
        "declaration": {"agreed": true, "signed_scan": ids[1]},
        "services": [{
            "name": "张三的区块链浏览器", "website_name": "链上查", "url_or_client": "https://explorer.example.cn",
            "description": "为公众提供区块、交易与地址查询。", "has_management_mechanism": true,
            "service_type": {"category": "application", "kind": "explorer", "explorer": {
                "url": "https://explorer.example.cn", "annual_visits": 100000, "average_daily_visits": 2000,
                "server_ip": "203.0.113.7", "server_location": "北京市",
            }},
            "main_chain": "长安链 ChainMaker",
        }],
    })
}

fn institution_form(ids: &[i64]) -> Value {
    json!({
        "applicant": {"kind": "institution", "institution": {
            "name": "深圳某某链科技有限公司", "credit_code": "91440300708461136T",
            "registered_address": "深圳市南山区科技园", "mailing_address": "深圳市南山区科技园",
            "licence_scan": ids[0],
        }},
        "registered_place": {"district_code": "440305", "address": "深圳市南山区科技园"},
        "website": "https://chain.example.cn",
        "responsible": {
            "name": "李四", "office_phone": "0755-86001234", "id_type": "hk_macau_permit",
            "id_number": "H12345678", "mobile": "13712345678", "email": "li@example.cn", "id_scan": ids[0],
        },
        "declaration": {"agreed": true, "signed_scan": ids[1]},
        "services": [
            {
                "name": "区块链即服务平台", "website_name": "某某云链", "url_or_client": "https://baas.example.cn",
                "description": "面向企业的区块链即服务。", "has_management_mechanism": true,
                "pre_approvals": [{"item": "增值电信业务经营许可", "certificate": ids[1]}],
                "service_type": {"category": "technology", "kind": "baas", "baas": {
                    "service_count": 12, "service_objects": "企业", "hardware_software_separated": true,
                    "cloud_qualification": "云服务能力评估", "machine_room_location": "广东省深圳市",
                }},
                "main_chain": "FISCO BCOS",
            },
            {
                "name": "开源联盟链", "website_name": "某某链", "url_or_client": "某某链客户端",
                "description": "开源联盟链底层。", "has_management_mechanism": false,
                "service_type": {"category": "technology", "kind": "other", "technology_other": {
                    "services": "底层链", "count": 1, "open_source": true,
                    "source_code_url": "https://code.example.cn/chain", "white_paper": ids[1],
                }},
                "main_chain": "other", "main_chain_other": "某某链",
            },
        ],
    })
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

async fn json_of(res: reqwest::Response, status: StatusCode) -> Value {
    let got = res.status();
    let body: Value = res.json().await.unwrap();
    assert_eq!(got, status, "{body}");
    body
}

async fn story(reg: Reg) {
    let filer = reg.filer("张三", "13912345678", "zhang@example.cn").await;
    let other = reg.filer("王五", "13812345678", "wang@example.cn").await;
    let reviewer = reg.staff(UserRole::Reviewer, "13600000001").await;

    // A draft saved half-filled; submitting lists every problem by path.
    let draft = json_of(
        reg.post(
            "/api/v1/applications",
            Some(&filer),
            &json!({"applicant": {"kind": "individual"}}),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(draft["state"], "draft");
    let id = draft["id"].as_i64().unwrap();
    let res = reg
        .post(
            &format!("/api/v1/applications/{id}/submit"),
            Some(&filer),
            &json!({}),
        )
        .await;
    let body = assert_error(
        res,
        StatusCode::UNPROCESSABLE_ENTITY,
        "application_incomplete",
    )
    .await;
    let paths: Vec<&str> = body["error"]["problems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["path"].as_str().unwrap())
        .collect();
    for p in [
        "applicant.individual",
        "registered_place.district_code",
        "responsible.mobile",
        "declaration.agreed",
        "services",
    ] {
        assert!(paths.contains(&p), "{p} not in {paths:?}");
    }
    let still = json_of(
        reg.get(&format!("/api/v1/applications/{id}"), Some(&filer))
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(still["state"], "draft");

    // Uploads: checked by content; a PDF name on PNG content, and an
    // executable behind a PNG signature, are refused.
    let res = reg.upload(&filer, id, "scan.pdf", png()).await;
    assert_error(
        res,
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "file_name_mismatch",
    )
    .await;
    let mut disguised = b"\x89PNG\r\n\x1a\n\x7fELF\x02\x01\x01\0".to_vec();
    disguised.extend_from_slice(&[0x90; 512]);
    let res = reg.upload(&filer, id, "scan.pdf", disguised).await;
    assert_error(res, StatusCode::UNSUPPORTED_MEDIA_TYPE, "file_type_refused").await;
    let ids = documents(&reg, &filer, id).await;

    // Someone else's application does not exist for them.
    for path in [
        format!("/api/v1/applications/{id}"),
        format!("/api/v1/applications/{id}/attachments/{}", ids[0]),
    ] {
        let res = reg.get(&path, Some(&other)).await;
        assert_error(res, StatusCode::NOT_FOUND, "application_not_found").await;
    }
    let res = reg
        .put(
            &format!("/api/v1/applications/{id}"),
            &other,
            &individual_form(&ids),
        )
        .await;
    assert_error(res, StatusCode::NOT_FOUND, "application_not_found").await;
    let file = reg
        .get(
            &format!("/api/v1/applications/{id}/attachments/{}", ids[0]),
            Some(&filer),
        )
        .await;
    assert_eq!(file.headers()["content-type"], "image/png");
    assert_eq!(file.bytes().await.unwrap().to_vec(), png());

    // Near misses in the form are problems at their paths.
    let mut bad = individual_form(&ids);
    bad["applicant"]["individual"]["id_number"] = json!("110105194912310021");
    bad["services"][0]["service_type"]["explorer"]["server_ip"] = json!("203.0.113.256");
    bad["services"][0]["service_type"]["explorer"]["annual_visits"] = json!(-1);
    bad["responsible"]["email"] = json!("zhang@example");
    bad["registered_place"]["district_code"] = json!("990101");
    assert_eq!(
        reg.put(&format!("/api/v1/applications/{id}"), &filer, &bad)
            .await
            .status(),
        StatusCode::OK
    );
    let res = reg
        .post(
            &format!("/api/v1/applications/{id}/submit"),
            Some(&filer),
            &json!({}),
        )
        .await;
    let body = assert_error(
        res,
        StatusCode::UNPROCESSABLE_ENTITY,
        "application_incomplete",
    )
    .await;
    let problems: Vec<(String, String)> = body["error"]["problems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["path"].as_str().unwrap().to_owned(),
                p["code"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    for path in [
        "applicant.individual.id_number",
        "services[0].service_type.explorer.server_ip",
        "services[0].service_type.explorer.annual_visits",
        "responsible.email",
        "registered_place.district_code",
    ] {
        assert!(
            problems.contains(&(path.to_owned(), "invalid".to_owned())),
            "{path}: {problems:?}"
        );
    }
    // Unknown fields are refused outright.
    let res = reg
        .put(
            &format!("/api/v1/applications/{id}"),
            &filer,
            &json!({"aplicant": {}}),
        )
        .await;
    assert_error(res, StatusCode::UNPROCESSABLE_ENTITY, "invalid_body").await;

    // The complete form submits: 未审核, due 20 working days on, counting
    // from 1 October across National Day and the adjusted 10 October.
    let res = reg
        .put(
            &format!("/api/v1/applications/{id}"),
            &filer,
            &individual_form(&ids),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let submitted = json_of(
        reg.post(
            &format!("/api/v1/applications/{id}/submit"),
            Some(&filer),
            &json!({}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(submitted["state"], "submitted");
    assert_eq!(submitted["public_state"], "未审核");
    assert_eq!(submitted["due_date"], "2026-11-03");
    assert_eq!(submitted["working_days_left"], 20);
    let res = reg
        .put(
            &format!("/api/v1/applications/{id}"),
            &filer,
            &individual_form(&ids),
        )
        .await;
    assert_error(res, StatusCode::CONFLICT, "wrong_state").await;

    // The queue: filers may not see it; the reviewer sees days left.
    let res = reg.get("/api/v1/review/queue", Some(&filer)).await;
    assert_error(res, StatusCode::FORBIDDEN, "forbidden").await;
    let queue = json_of(
        reg.get("/api/v1/review/queue", Some(&reviewer)).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(queue[0]["id"], id);
    assert_eq!(queue[0]["working_days_left"], 20);
    assert_eq!(queue[0]["overdue"], false);

    // Materials incomplete: back to the filer with the list.
    let res = reg
        .post(
            &format!("/api/v1/review/applications/{id}/decision"),
            Some(&reviewer),
            &json!({"decision": "incomplete", "reasons": []}),
        )
        .await;
    assert_error(res, StatusCode::UNPROCESSABLE_ENTITY, "invalid_decision").await;
    let returned = json_of(
        reg.post(
            &format!("/api/v1/review/applications/{id}/decision"),
            Some(&reviewer),
            &json!({"decision": "incomplete", "reasons": [{"field": "declaration.signed_scan", "reason": "承诺书未签字"}]}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(returned["state"], "returned");
    assert_eq!(returned["decision"]["reasons"][0]["reason"], "承诺书未签字");

    // Resubmitted on 16 October; approved within the deadline.
    reg.clock.advance_ms(16 * DAY_MS);
    // Sessions last 12 hours: log in again.
    let (filer, reviewer) = (
        reg.login("13912345678").await,
        reg.login("13600000001").await,
    );
    let res = reg
        .upload(&filer, id, "declaration-signed.pdf", pdf())
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let again = json_of(
        reg.post(
            &format!("/api/v1/applications/{id}/submit"),
            Some(&filer),
            &json!({}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(again["due_date"], "2026-11-13");
    let approved = json_of(
        reg.post(
            &format!("/api/v1/review/applications/{id}/decision"),
            Some(&reviewer),
            &json!({"decision": "approve"}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(approved["state"], "approved");
    assert_eq!(approved["public_state"], "审核通过");
    let number = approved["numbers"][0]["number"]
        .as_str()
        .unwrap()
        .to_owned();
    let parsed = FilingNumber::parse(&number).unwrap();
    assert!(
        number.starts_with("京网信备11010826") && number.ends_with('号'),
        "{number}"
    );
    assert_eq!(&parsed.body()[16..19], "001");
    let res = reg
        .post(
            &format!("/api/v1/review/applications/{id}/decision"),
            Some(&reviewer),
            &json!({"decision": "reject", "reasons": ["再次决定"]}),
        )
        .await;
    assert_error(res, StatusCode::CONFLICT, "wrong_state").await;

    // Every step notified the filer by SMS and by e-mail.
    let texts: Vec<String> = reg
        .outbox("13912345678")
        .await
        .into_iter()
        .map(|m| m.message.body)
        .collect();
    for needle in [
        "验证码",
        "未审核",
        "审核中",
        "材料不全",
        "承诺书未签字",
        &number,
    ] {
        assert!(
            texts.iter().any(|t| t.contains(needle)),
            "no SMS with {needle}: {texts:#?}"
        );
    }
    let mails = reg.outbox("zhang@example.cn").await;
    assert!(mails.iter().any(|m| m.message.body.contains(&number)));
    // And the trail names who did what, in order.
    let trail = json_of(
        reg.get(&format!("/api/v1/applications/{id}/audit"), Some(&reviewer))
            .await,
        StatusCode::OK,
    )
    .await;
    let actions: Vec<&str> = trail
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions,
        ["submit", "open", "incomplete", "submit", "open", "approve"]
    );

    // An institution with two services: two numbers, counters 001 and 002,
    // province 粤 from the Shenzhen district code.
    let inst = reg.filer("李四", "13712345678", "li@example.cn").await;
    let a = json_of(
        reg.post("/api/v1/applications", Some(&inst), &json!({}))
            .await,
        StatusCode::CREATED,
    )
    .await;
    let aid = a["id"].as_i64().unwrap();
    let ids = documents(&reg, &inst, aid).await;
    let mut wrong_code = institution_form(&ids);
    wrong_code["applicant"]["institution"]["credit_code"] = json!("91440300708461136U");
    reg.put(&format!("/api/v1/applications/{aid}"), &inst, &wrong_code)
        .await;
    let res = reg
        .post(
            &format!("/api/v1/applications/{aid}/submit"),
            Some(&inst),
            &json!({}),
        )
        .await;
    let body = assert_error(
        res,
        StatusCode::UNPROCESSABLE_ENTITY,
        "application_incomplete",
    )
    .await;
    assert_eq!(
        body["error"]["problems"][0]["path"],
        "applicant.institution.credit_code"
    );
    reg.put(
        &format!("/api/v1/applications/{aid}"),
        &inst,
        &institution_form(&ids),
    )
    .await;
    let sub = json_of(
        reg.post(
            &format!("/api/v1/applications/{aid}/submit"),
            Some(&inst),
            &json!({}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(sub["warnings"][0]["code"], "new_main_chain");
    let ok = json_of(
        reg.post(
            &format!("/api/v1/review/applications/{aid}/decision"),
            Some(&reviewer),
            &json!({"decision": "approve"}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    let numbers: Vec<String> = ok["numbers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["number"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(numbers.len(), 2);
    for (n, counter) in numbers.iter().zip(["001", "002"]) {
        let parsed = FilingNumber::parse(n).unwrap();
        assert!(n.starts_with("粤网信备44030526"), "{n}");
        assert_eq!(&parsed.body()[16..19], counter);
    }

    // Publication: the approved filings gathered into 第1批, published
    // with a 10-working-day objection window, then final; the public finds
    // them by entity name or complete number only once published.
    let publisher = reg.staff(UserRole::Publisher, "13600000002").await;
    let res = reg
        .post("/api/v1/publication/batches", Some(&reviewer), &json!({}))
        .await;
    assert_error(res, StatusCode::FORBIDDEN, "forbidden").await;
    let batch = json_of(
        reg.post("/api/v1/publication/batches", Some(&publisher), &json!({}))
            .await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(
        (batch["batch"].as_i64(), batch["state"].as_str()),
        (Some(1), Some("gathered"))
    );
    assert_eq!(batch["entries"].as_array().unwrap().len(), 3);
    let res = reg
        .post("/api/v1/publication/batches", Some(&publisher), &json!({}))
        .await;
    assert_error(res, StatusCode::CONFLICT, "nothing_to_gather").await;
    let res = reg.get("/api/v1/publication/batches/1", None).await;
    assert_error(res, StatusCode::NOT_FOUND, "batch_not_found").await;
    let none = json_of(
        reg.get("/api/v1/public/filings?q=%E5%BC%A0%E4%B8%89", None)
            .await,
        StatusCode::OK,
    )
    .await;
    assert!(
        none["results"].as_array().unwrap().is_empty(),
        "unpublished filings are not public"
    );
    let published = json_of(
        reg.post(
            "/api/v1/publication/batches/1/publish",
            Some(&publisher),
            &json!({}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    // Published on Friday 16 October: 19–23 and 26–30 October.
    assert_eq!(published["objection_window_ends"], "2026-10-30");
    let by_name = json_of(
        reg.get("/api/v1/public/filings?q=%E5%BC%A0%E4%B8%89", None)
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(by_name["results"][0]["number"], number.as_str());
    assert_eq!(by_name["results"][0]["entity_name"], "张三");
    assert_eq!(by_name["results"][0]["service_name"], "张三的区块链浏览器");
    assert_eq!(
        (
            by_name["results"][0]["batch"].as_i64(),
            by_name["results"][0]["state"].as_str()
        ),
        (Some(1), Some("审核通过"))
    );
    let by_number = json_of(
        reg.http
            .get(format!("{}/api/v1/public/filings", reg.base))
            .query(&[("q", numbers[1].as_str())])
            .send()
            .await
            .unwrap(),
        StatusCode::OK,
    )
    .await;
    assert_eq!(by_number["results"].as_array().unwrap().len(), 1);
    assert_eq!(
        by_number["results"][0]["entity_name"],
        "深圳某某链科技有限公司"
    );
    let part = json_of(
        reg.http
            .get(format!("{}/api/v1/public/filings", reg.base))
            .query(&[("q", "某某链科技")])
            .send()
            .await
            .unwrap(),
        StatusCode::OK,
    )
    .await;
    assert_eq!(part["results"].as_array().unwrap().len(), 2);
    for wild in ["%", "_", "京网信备"] {
        let r = json_of(
            reg.http
                .get(format!("{}/api/v1/public/filings", reg.base))
                .query(&[("q", wild)])
                .send()
                .await
                .unwrap(),
            StatusCode::OK,
        )
        .await;
        assert!(
            r["results"].as_array().unwrap().is_empty(),
            "{wild} matched"
        );
    }
    let res = reg.get("/api/v1/public/filings?q=", None).await;
    assert_error(res, StatusCode::UNPROCESSABLE_ENTITY, "invalid_field").await;
    let res = reg
        .post(
            "/api/v1/publication/batches/1/objections",
            Some(&publisher),
            &json!({"number": number, "text": "该主体已停止运营", "contact": "13500000000"}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let res = reg
        .post(
            "/api/v1/publication/batches/1/finalise",
            Some(&publisher),
            &json!({}),
        )
        .await;
    assert_error(res, StatusCode::CONFLICT, "objection_window_open").await;
    let csv = reg.get("/api/v1/publication/batches/1/csv", None).await;
    assert!(
        csv.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/csv")
    );
    let csv = csv.text().await.unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines[0], "\u{feff}序号,主体名称,服务名称,备案编号");
    assert_eq!(lines.len(), 4);
    assert!(csv.contains(&format!("张三,张三的区块链浏览器,{number}")));
    let page = reg
        .get("/publication/batches/1", None)
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains("第1批") && page.contains(&number) && page.contains("2026-10-30"));
    reg.clock.advance_ms(15 * DAY_MS);
    let publisher = reg.login("13600000002").await;
    let fin = json_of(
        reg.post(
            "/api/v1/publication/batches/1/finalise",
            Some(&publisher),
            &json!({}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(fin["state"], "final");
    assert_eq!(fin["objections"][0]["text"], "该主体已停止运营");
    let res = reg
        .post(
            "/api/v1/publication/batches/1/objections",
            Some(&publisher),
            &json!({"number": number, "text": "迟到的异议", "contact": "x"}),
        )
        .await;
    assert_error(res, StatusCode::CONFLICT, "wrong_state").await;
    let list = json_of(
        reg.get("/api/v1/publication/batches", None).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(list[0]["title"], "第1批");
    let other = reg.login("13812345678").await;

    // A rejection carries its reasons; an overdue one is flagged.
    let c = json_of(
        reg.post("/api/v1/applications", Some(&other), &json!({}))
            .await,
        StatusCode::CREATED,
    )
    .await;
    let cid = c["id"].as_i64().unwrap();
    let ids = documents(&reg, &other, cid).await;
    let mut form = individual_form(&ids);
    form["applicant"]["individual"]["name"] = json!("王五");
    reg.put(&format!("/api/v1/applications/{cid}"), &other, &form)
        .await;
    let sub = json_of(
        reg.post(
            &format!("/api/v1/applications/{cid}/submit"),
            Some(&other),
            &json!({}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    let due = sub["due_date"].as_str().unwrap().to_owned();
    reg.clock.advance_ms(40 * DAY_MS);
    let reviewer = reg.login("13600000001").await;
    let queue = json_of(
        reg.get("/api/v1/review/queue", Some(&reviewer)).await,
        StatusCode::OK,
    )
    .await;
    let late = queue
        .as_array()
        .unwrap()
        .iter()
        .find(|q| q["id"] == cid)
        .unwrap();
    assert_eq!(
        (late["overdue"].as_bool(), late["due_date"].as_str()),
        (Some(true), Some(due.as_str()))
    );
    let rejected = json_of(
        reg.post(
            &format!("/api/v1/review/applications/{cid}/decision"),
            Some(&reviewer),
            &json!({"decision": "reject", "reasons": ["服务内容与所填类型不符"]}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(rejected["public_state"], "审核未通过");
    assert!(rejected["numbers"].as_array().unwrap().is_empty());
    reg.stop().await;
}

#[tokio::test]
async fn a_filing_goes_from_registration_to_numbers_on_sqlite() {
    story(Reg::spawn(None).await).await;
}

#[tokio::test]
async fn a_filing_goes_from_registration_to_numbers_on_postgres() {
    let Some(admin) = shucang_store::test_support::postgres_url_or_skip("the registry story")
    else {
        return;
    };
    let db = shucang_store::test_support::TempPgDatabase::create(&admin)
        .await
        .unwrap();
    story(Reg::spawn(Some(db.url.clone())).await).await;
    db.drop_database().await.unwrap();
}

/// Spring Festival: a submission on Friday 13 February 2026 counts the
/// adjusted working days 14 and 28 February and skips 15–23 February.
#[tokio::test]
async fn the_deadline_crosses_the_spring_festival() {
    let reg = Reg::spawn(None).await;
    let feb_13 = UnixMillis::parse_rfc3339("2026-02-13T02:00:00Z").unwrap();
    let sept_30 = UnixMillis::parse_rfc3339(SEPT_30).unwrap();
    reg.clock.advance_ms(feb_13.0 - sept_30.0);
    let filer = reg.filer("张三", "13912345678", "zhang@example.cn").await;
    let a = json_of(
        reg.post("/api/v1/applications", Some(&filer), &json!({}))
            .await,
        StatusCode::CREATED,
    )
    .await;
    let id = a["id"].as_i64().unwrap();
    let ids = documents(&reg, &filer, id).await;
    reg.put(
        &format!("/api/v1/applications/{id}"),
        &filer,
        &individual_form(&ids),
    )
    .await;
    let sub = json_of(
        reg.post(
            &format!("/api/v1/applications/{id}/submit"),
            Some(&filer),
            &json!({}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(sub["due_date"], "2026-03-19");
    reg.stop().await;
}

/// Unconfirmed filers cannot submit; bad registrations change nothing.
#[tokio::test]
async fn registration_checks_its_fields_and_confirmation_gates_submission() {
    let reg = Reg::spawn(None).await;
    for (body, code) in [
        (
            json!({"name": "张三", "phone": "12345", "email": "a@b.cn", "password": "Filer#2026pass"}),
            "invalid_phone",
        ),
        (
            json!({"name": "张三", "phone": "13912345678", "email": "a@b", "password": "Filer#2026pass"}),
            "invalid_email",
        ),
        (
            json!({"name": "张", "phone": "13912345678", "email": "a@b.cn", "password": "Filer#2026pass"}),
            "invalid_name",
        ),
        (
            json!({"name": "张三", "phone": "13912345678", "email": "a@b.cn", "password": "short"}),
            "weak_password",
        ),
    ] {
        let res = reg.post("/api/v1/filers", None, &body).await;
        assert_error(res, StatusCode::UNPROCESSABLE_ENTITY, code).await;
    }
    assert!(
        reg.outbox("13912345678").await.is_empty(),
        "nothing stored or sent"
    );
    let ok = json!({"name": "张三", "phone": "13912345678", "email": "a@b.cn", "password": "Filer#2026pass"});
    assert_eq!(
        reg.post("/api/v1/filers", None, &ok).await.status(),
        StatusCode::CREATED
    );
    let res = reg.post("/api/v1/filers", None, &ok).await;
    assert_error(res, StatusCode::CONFLICT, "phone_taken").await;
    let token = reg.login("13912345678").await;
    let a = json_of(
        reg.post("/api/v1/applications", Some(&token), &json!({}))
            .await,
        StatusCode::CREATED,
    )
    .await;
    let id = a["id"].as_i64().unwrap();
    let res = reg
        .post(
            &format!("/api/v1/applications/{id}/submit"),
            Some(&token),
            &json!({}),
        )
        .await;
    assert_error(res, StatusCode::FORBIDDEN, "contact_unconfirmed").await;
    let res = reg.get("/api/v1/applications/1", None).await;
    assert_error(res, StatusCode::UNAUTHORIZED, "unauthenticated").await;
    let res = reg.get("/api/v1/applications/abc", Some(&token)).await;
    assert_error(res, StatusCode::NOT_FOUND, "application_not_found").await;

    // The API contract is published, with every route of the issue.
    let doc = json_of(reg.get("/api/openapi.json", None).await, StatusCode::OK).await;
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    for path in [
        "/api/v1/filers",
        "/api/v1/sessions",
        "/api/v1/applications",
        "/api/v1/applications/{id}",
        "/api/v1/applications/{id}/attachments",
        "/api/v1/applications/{id}/submit",
        "/api/v1/review/queue",
        "/api/v1/review/applications/{id}/decision",
        "/api/v1/filings/{number}/changes",
        "/api/v1/filings/{number}/cancellation",
        "/api/v1/public/filings",
        "/api/v1/publication/batches",
        "/api/v1/publication/batches/{n}/publish",
    ] {
        assert!(
            doc["paths"][path].is_object(),
            "{path} missing from the OpenAPI document"
        );
    }
    assert!(doc["paths"]["/api/v1/applications/{id}"]["put"].is_object());
    reg.stop().await;
}

/// Approves an individual filing for `filer`; returns its id and number.
async fn approved(
    reg: &Reg,
    filer: &str,
    reviewer: &str,
    form: fn(&[i64]) -> Value,
) -> (i64, String) {
    let a = json_of(
        reg.post("/api/v1/applications", Some(filer), &json!({}))
            .await,
        StatusCode::CREATED,
    )
    .await;
    let id = a["id"].as_i64().unwrap();
    let ids = documents(reg, filer, id).await;
    reg.put(&format!("/api/v1/applications/{id}"), filer, &form(&ids))
        .await;
    json_of(
        reg.post(
            &format!("/api/v1/applications/{id}/submit"),
            Some(filer),
            &json!({}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    let ok = json_of(
        reg.post(
            &format!("/api/v1/review/applications/{id}/decision"),
            Some(reviewer),
            &json!({"decision": "approve"}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    (id, ok["numbers"][0]["number"].as_str().unwrap().to_owned())
}

/// Changes (on time and late, rejected and approved) keep the number
/// valid; a cancellation needs 30 working days' notice and makes the
/// filing 已注销 on its termination date.
#[tokio::test]
async fn changes_and_cancellation_follow_their_deadlines_for_an_individual() {
    lifecycle(individual_form).await;
}

#[tokio::test]
async fn changes_and_cancellation_follow_their_deadlines_for_an_institution() {
    lifecycle(institution_form).await;
}

async fn lifecycle(form: fn(&[i64]) -> Value) {
    let reg = Reg::spawn(None).await;
    let filer = reg.filer("张三", "13912345678", "zhang@example.cn").await;
    let stranger = reg.filer("王五", "13812345678", "wang@example.cn").await;
    let reviewer = reg.staff(UserRole::Reviewer, "13600000001").await;
    let (id, number) = approved(&reg, &filer, &reviewer, form).await;
    let ids: Vec<i64> = json_of(
        reg.get(&format!("/api/v1/applications/{id}"), Some(&filer))
            .await,
        StatusCode::OK,
    )
    .await["attachments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["id"].as_i64().unwrap())
        .collect();
    let path = |what: &str| format!("/api/v1/filings/{number}/{what}");
    let original = form(&ids);
    let mut renamed = form(&ids);
    renamed["services"][0]["name"] = json!("链上查 2.0");

    // Recorded the day after: on time (5 working days from 29 September
    // run to 12 October, across National Day).
    let res = reg
        .post(
            &path("changes"),
            Some(&stranger),
            &json!({"changed_on": "2026-09-29", "form": renamed}),
        )
        .await;
    assert_error(res, StatusCode::NOT_FOUND, "application_not_found").await;
    for (day, code) in [
        ("2026-10-01", "invalid_field"),
        ("29/09/2026", "invalid_field"),
    ] {
        let res = reg
            .post(
                &path("changes"),
                Some(&filer),
                &json!({"changed_on": day, "form": renamed}),
            )
            .await;
        assert_error(res, StatusCode::UNPROCESSABLE_ENTITY, code).await;
    }
    let mut two = renamed.clone();
    two["services"] = json!([
        renamed["services"][0],
        renamed["services"][0],
        renamed["services"][0]
    ]);
    let res = reg
        .post(
            &path("changes"),
            Some(&filer),
            &json!({"changed_on": "2026-09-29", "form": two}),
        )
        .await;
    assert_error(res, StatusCode::UNPROCESSABLE_ENTITY, "invalid_field").await;
    let pending = json_of(
        reg.post(
            &path("changes"),
            Some(&filer),
            &json!({"changed_on": "2026-09-29", "form": renamed}),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(pending["state"], "change_pending");
    assert_eq!(pending["public_state"], "审核通过");
    assert_eq!(pending["pending"]["record_by"], "2026-10-12");
    assert_eq!(pending["pending"]["late"], false);
    assert_eq!(pending["numbers"][0]["number"], number.as_str());
    let res = reg
        .post(
            &path("changes"),
            Some(&filer),
            &json!({"changed_on": "2026-09-29", "form": renamed}),
        )
        .await;
    assert_error(res, StatusCode::CONFLICT, "wrong_state").await;
    let queue = json_of(
        reg.get("/api/v1/review/queue", Some(&reviewer)).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(queue[0]["state"], "change_pending");
    let kept = json_of(
        reg.post(
            &format!("/api/v1/review/applications/{id}/decision"),
            Some(&reviewer),
            &json!({"decision": "reject", "reasons": ["未附变更证明"]}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(kept["state"], "approved");
    assert_eq!(
        kept["form"]["services"][0]["name"],
        original["services"][0]["name"]
    );

    // A change of 1 September recorded on 30 September is late, flagged,
    // and still reviewed; approved, the form is updated.
    let late = json_of(
        reg.post(
            &path("changes"),
            Some(&filer),
            &json!({"changed_on": "2026-09-01", "form": renamed}),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(
        (
            late["pending"]["late"].as_bool(),
            late["pending"]["record_by"].as_str()
        ),
        (Some(true), Some("2026-09-08"))
    );
    let changed = json_of(
        reg.post(
            &format!("/api/v1/review/applications/{id}/decision"),
            Some(&reviewer),
            &json!({"decision": "approve"}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(changed["state"], "approved");
    assert_eq!(changed["form"]["services"][0]["name"], "链上查 2.0");
    assert_eq!(changed["pending"], Value::Null);

    // Published, so the public search shows the state.
    let publisher = reg.staff(UserRole::Publisher, "13600000002").await;
    reg.post("/api/v1/publication/batches", Some(&publisher), &json!({}))
        .await;
    reg.post(
        "/api/v1/publication/batches/1/publish",
        Some(&publisher),
        &json!({}),
    )
    .await;

    // Cancellation: 30 working days' notice from 30 September is
    // 17 November; earlier dates are refused naming it.
    let res = reg
        .post(
            &path("cancellation"),
            Some(&filer),
            &json!({"termination_date": "2026-11-16"}),
        )
        .await;
    let body = assert_error(
        res,
        StatusCode::UNPROCESSABLE_ENTITY,
        "termination_too_soon",
    )
    .await;
    assert_eq!(body["error"]["earliest_termination_date"], "2026-11-17");
    let res = reg
        .post(
            &path("cancellation"),
            Some(&filer),
            &json!({"termination_date": "tomorrow"}),
        )
        .await;
    assert_error(res, StatusCode::UNPROCESSABLE_ENTITY, "invalid_field").await;
    let c = json_of(
        reg.post(
            &path("cancellation"),
            Some(&filer),
            &json!({"termination_date": "2026-11-17"}),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(c["state"], "cancellation_pending");
    let ok = json_of(
        reg.post(
            &format!("/api/v1/review/applications/{id}/decision"),
            Some(&reviewer),
            &json!({"decision": "approve"}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(
        (ok["state"].as_str(), ok["public_state"].as_str()),
        (Some("cancellation_approved"), Some("审核通过"))
    );
    let search = |q: String| {
        let reg = &reg;
        async move {
            json_of(
                reg.http
                    .get(format!("{}/api/v1/public/filings", reg.base))
                    .query(&[("q", q)])
                    .send()
                    .await
                    .unwrap(),
                StatusCode::OK,
            )
            .await
        }
    };
    assert_eq!(
        search(number.clone()).await["results"][0]["state"],
        "审核通过"
    );

    // On 17 November the filing is cancelled: 已注销, audited, notified.
    let nov_17 = UnixMillis::parse_rfc3339("2026-11-17T00:30:00Z").unwrap();
    reg.clock
        .advance_ms(nov_17.0 - UnixMillis::parse_rfc3339(SEPT_30).unwrap().0);
    assert_eq!(
        search(number.clone()).await["results"][0]["state"],
        "已注销"
    );
    let filer = reg.login("13912345678").await;
    let gone = json_of(
        reg.get(&format!("/api/v1/applications/{id}"), Some(&filer))
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(
        (gone["state"].as_str(), gone["public_state"].as_str()),
        (Some("cancelled"), Some("已注销"))
    );
    let res = reg
        .post(
            &path("changes"),
            Some(&filer),
            &json!({"changed_on": "2026-11-16", "form": renamed}),
        )
        .await;
    assert_error(res, StatusCode::CONFLICT, "wrong_state").await;
    let texts: Vec<String> = reg
        .outbox("13912345678")
        .await
        .into_iter()
        .map(|m| m.message.body)
        .collect();
    for needle in [
        "变更已报备",
        "逾期",
        "变更审核未通过",
        "变更审核通过",
        "注销申请已提交",
        "将于 2026-11-17 注销",
        "已注销",
    ] {
        assert!(
            texts.iter().any(|t| t.contains(needle)),
            "no SMS with {needle}"
        );
    }
    let reviewer = reg.login("13600000001").await;
    let trail = json_of(
        reg.get(&format!("/api/v1/applications/{id}/audit"), Some(&reviewer))
            .await,
        StatusCode::OK,
    )
    .await;
    let actions: Vec<&str> = trail
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions,
        [
            "submit",
            "open",
            "approve",
            "change",
            "reject_change",
            "change",
            "approve_change",
            "cancel",
            "approve_cancellation",
            "cancelled"
        ]
    );
    reg.stop().await;
}

/// A made-up 2027 schedule in the data-file format (a test fixture, not
/// the State Council's notice): every statutory holiday named.
const FIXTURE_2027: &str = "\
2027 notice test fixture, not an official schedule
2027 元旦 off 01-01
2027 春节 off 02-06 02-07 02-08 02-09 02-10 02-11 02-12
2027 清明节 off 04-05
2027 劳动节 off 05-01 05-02 05-03
2027 端午节 off 06-09
2027 中秋节 off 09-15
2027 国庆节 off 10-01 10-02 10-03 10-04 10-05 10-06 10-07
";

/// From 1 November the reviewer console warns that next year's schedule
/// is missing; a deadline reaching that year is an error naming it; an
/// administrator loads the year (checked, recorded) and after a restart
/// the deadline is computed.
#[tokio::test]
async fn a_missing_year_is_named_until_an_administrator_loads_it() {
    let dec_10 = "2026-12-10T02:00:00Z";
    let reg = Reg::spawn_in(tempfile::tempdir().unwrap(), None, dec_10).await;
    let filer = reg.filer("张三", "13912345678", "zhang@example.cn").await;
    let reviewer = reg.staff(UserRole::Reviewer, "13600000001").await;
    let cal = json_of(
        reg.get("/api/v1/review/calendar", Some(&reviewer)).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(cal["missing_next_year"], 2027);
    assert!(cal["warning"].as_str().unwrap().contains("2027"));
    let res = reg.get("/api/v1/review/calendar", Some(&filer)).await;
    assert_error(res, StatusCode::FORBIDDEN, "forbidden").await;
    let a = json_of(
        reg.post("/api/v1/applications", Some(&filer), &json!({}))
            .await,
        StatusCode::CREATED,
    )
    .await;
    let id = a["id"].as_i64().unwrap();
    let ids = documents(&reg, &filer, id).await;
    reg.put(
        &format!("/api/v1/applications/{id}"),
        &filer,
        &individual_form(&ids),
    )
    .await;
    let res = reg
        .post(
            &format!("/api/v1/applications/{id}/submit"),
            Some(&filer),
            &json!({}),
        )
        .await;
    let body = assert_error(
        res,
        StatusCode::SERVICE_UNAVAILABLE,
        "holiday_schedule_missing",
    )
    .await;
    assert!(
        body["error"]["message"].as_str().unwrap().contains("2027"),
        "{body}"
    );
    let still = json_of(
        reg.get(&format!("/api/v1/applications/{id}"), Some(&filer))
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(still["state"], "draft");
    let dir = reg.stop().await;

    // Bad files are refused with the reason and record nothing.
    let file = dir.path().join("holidays.txt");
    let load = |text: String| {
        let (dir, file) = (dir.path().to_owned(), file.clone());
        async move {
            std::fs::write(&file, text).unwrap();
            crate::process::shucang()
                .arg("--data-dir")
                .arg(&dir)
                .args([
                    "registry",
                    "admin",
                    "load-holidays",
                    "--by",
                    "管理员甲",
                    "--file",
                ])
                .arg(&file)
                .output()
                .await
                .unwrap()
        }
    };
    for (text, reason) in [
        (
            FIXTURE_2027.replace(
                "2027 国庆节 off 10-01 10-02 10-03 10-04 10-05 10-06 10-07\n",
                "",
            ),
            "国庆",
        ),
        (
            FIXTURE_2027.replace("2027 元旦 off 01-01", "2027 元旦 off 12-32"),
            "not a date",
        ),
        (FIXTURE_2027.replace("2027", "2026"), "built in"),
    ] {
        let out = load(text).await;
        assert!(!out.status.success());
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(reason), "{reason}: {err}");
    }
    let out = load(FIXTURE_2027.to_owned()).await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("loaded the 2027 holiday schedule"));

    // After a restart: no warning, and the deadline runs into January 2027
    // (1 January off).
    let reg = Reg::spawn_in(dir, None, dec_10).await;
    let (filer, reviewer) = (
        reg.login("13912345678").await,
        reg.login("13600000001").await,
    );
    let cal = json_of(
        reg.get("/api/v1/review/calendar", Some(&reviewer)).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(cal["missing_next_year"], Value::Null);
    let sub = json_of(
        reg.post(
            &format!("/api/v1/applications/{id}/submit"),
            Some(&filer),
            &json!({}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(sub["due_date"], "2027-01-08");
    reg.stop().await;
}

/// Check-ins: a publisher opens a window; a filer confirms inside it;
/// outside it or twice is refused; after it closes, the filings that did
/// not confirm are listed as missed.
#[tokio::test]
async fn check_ins_list_who_confirmed_and_who_missed_it() {
    let reg = Reg::spawn(None).await;
    let a = reg.filer("张三", "13912345678", "zhang@example.cn").await;
    let b = reg.filer("王五", "13812345678", "wang@example.cn").await;
    let reviewer = reg.staff(UserRole::Reviewer, "13600000001").await;
    let publisher = reg.staff(UserRole::Publisher, "13600000002").await;
    let (a_id, a_number) = approved(&reg, &a, &reviewer, individual_form).await;
    let (b_id, _) = approved(&reg, &b, &reviewer, individual_form).await;

    for (body, code) in [
        (
            json!({"opens_on": "2026-09-29", "closes_on": "2026-10-20"}),
            "invalid_field",
        ),
        (
            json!({"opens_on": "2026-10-08", "closes_on": "2026-10-01"}),
            "invalid_field",
        ),
        (
            json!({"opens_on": "8 Oct", "closes_on": "2026-10-20"}),
            "invalid_field",
        ),
    ] {
        let res = reg.post("/api/v1/checkins", Some(&publisher), &body).await;
        assert_error(res, StatusCode::UNPROCESSABLE_ENTITY, code).await;
    }
    let res = reg
        .post(
            "/api/v1/checkins",
            Some(&a),
            &json!({"opens_on": "2026-10-08", "closes_on": "2026-10-20"}),
        )
        .await;
    assert_error(res, StatusCode::FORBIDDEN, "forbidden").await;
    let w = json_of(
        reg.post(
            "/api/v1/checkins",
            Some(&publisher),
            &json!({"opens_on": "2026-10-08", "closes_on": "2026-10-20"}),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    let id = w["id"].as_i64().unwrap();
    assert_eq!(w["missing"].as_array().unwrap().len(), 2);
    let confirm = |token: &str, number: &str| {
        let body = json!({"number": number, "note": "信息无变化"});
        let (reg, token) = (&reg, token.to_owned());
        async move {
            reg.post(
                &format!("/api/v1/checkins/{id}/confirmations"),
                Some(&token),
                &body,
            )
            .await
        }
    };
    // Before the window opens.
    assert_error(
        confirm(&a, &a_number).await,
        StatusCode::CONFLICT,
        "checkin_closed",
    )
    .await;
    reg.clock.advance_ms(9 * DAY_MS);
    let (a, b) = (
        reg.login("13912345678").await,
        reg.login("13812345678").await,
    );
    assert_error(
        confirm(&b, &a_number).await,
        StatusCode::NOT_FOUND,
        "application_not_found",
    )
    .await;
    assert_eq!(confirm(&a, &a_number).await.status(), StatusCode::CREATED);
    assert_error(
        confirm(&a, &a_number).await,
        StatusCode::CONFLICT,
        "already_confirmed",
    )
    .await;
    let res = reg
        .post(
            "/api/v1/checkins/99/confirmations",
            Some(&a),
            &json!({"number": a_number}),
        )
        .await;
    assert_error(res, StatusCode::NOT_FOUND, "checkin_not_found").await;

    reg.clock.advance_ms(20 * DAY_MS);
    let a = reg.login("13912345678").await;
    assert_error(
        confirm(&a, &a_number).await,
        StatusCode::CONFLICT,
        "checkin_closed",
    )
    .await;
    let publisher = reg.login("13600000002").await;
    let done = json_of(
        reg.get(&format!("/api/v1/checkins/{id}"), Some(&publisher))
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(done["closed"], true);
    assert_eq!(done["confirmed"][0]["application_id"], a_id);
    let missed: Vec<i64> = done["missing"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["application_id"].as_i64().unwrap())
        .collect();
    assert_eq!(missed, [b_id]);
    assert_eq!(done["missing"][0]["entity_name"], "张三");
    reg.stop().await;
}

/// A browser without the browser: keeps the cookies the pages set and
/// sends the form token back, over real HTTP.
struct WebClient {
    http: Client,
    base: String,
    cookies: std::collections::BTreeMap<String, String>,
}

impl WebClient {
    fn new(base: &str) -> WebClient {
        WebClient {
            http: Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
            base: base.to_owned(),
            cookies: Default::default(),
        }
    }

    fn cookie_header(&self) -> String {
        self.cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    fn keep(&mut self, res: &reqwest::Response) {
        for v in res.headers().get_all("set-cookie") {
            let v = v.to_str().unwrap();
            if let Some((k, rest)) = v.split_once('=') {
                let value = rest.split(';').next().unwrap_or("").to_owned();
                self.cookies.insert(k.to_owned(), value);
            }
        }
    }

    async fn get(&mut self, path: &str) -> (StatusCode, String) {
        let res = self
            .http
            .get(format!("{}{path}", self.base))
            .header("cookie", self.cookie_header())
            .send()
            .await
            .unwrap();
        self.keep(&res);
        (res.status(), res.text().await.unwrap())
    }

    /// Posts a form with the page token; returns the status and Location.
    async fn post(&mut self, path: &str, fields: &[(&str, &str)]) -> (StatusCode, String) {
        if !self.cookies.contains_key("shucang_csrf") {
            self.get("/").await;
        }
        let mut form: Vec<(&str, &str)> = fields.to_vec();
        let token = self.cookies["shucang_csrf"].clone();
        form.push(("csrf", &token));
        let res = self
            .http
            .post(format!("{}{path}", self.base))
            .header("cookie", self.cookie_header())
            .form(&form)
            .send()
            .await
            .unwrap();
        self.keep(&res);
        let location = res
            .headers()
            .get("location")
            .map(|l| l.to_str().unwrap().to_owned())
            .unwrap_or_default();
        (res.status(), location)
    }
}

impl WebClient {
    /// Uploads a document into a slot of the step-4 page.
    async fn upload(&mut self, app: i64, slot: &str, name: &str, bytes: Vec<u8>) -> StatusCode {
        let token = self.cookies["shucang_csrf"].clone();
        let form = multipart::Form::new()
            .text("csrf", token)
            .text("slot", slot.to_owned())
            .part(
                "file",
                multipart::Part::bytes(bytes).file_name(name.to_owned()),
            );
        let res = self
            .http
            .post(format!("{}/filer/applications/{app}/upload", self.base))
            .header("cookie", self.cookie_header())
            .multipart(form)
            .send()
            .await
            .unwrap();
        res.status()
    }
}

/// The service step takes a pre-approval item; the last step then asks
/// for its certificate, and for a technology provider's white paper.
#[tokio::test]
async fn the_pages_ask_for_each_service_documents() {
    let reg = Reg::spawn(None).await;
    let filer = reg.filer("李四", "13712345678", "li@example.cn").await;
    let mut web = WebClient::new(&reg.base);
    web.post(
        "/login",
        &[("phone", "13712345678"), ("password", "Filer#2026pass")],
    )
    .await;
    let (status, to) = web.post("/filer/applications", &[]).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let id: i64 = to.split('/').nth(3).unwrap().parse().unwrap();
    let (status, _) = web
        .post(
            &format!("/filer/applications/{id}/step/3?service=0"),
            &[
                ("name", "开源联盟链"),
                ("pre_item", "增值电信业务经营许可"),
                ("service_type", "technology/other"),
                ("tech_services", "底层链"),
                ("tech_count", "1"),
                ("tech_open", "no"),
                ("action", "next"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let (_, page) = web.get(&format!("/filer/applications/{id}/step/4")).await;
    assert!(
        page.contains("服务 1 前置审批证明") && page.contains("服务 1 白皮书"),
        "{page}"
    );
    assert_eq!(
        web.upload(id, "pre_approval_0", "licence.pdf", pdf()).await,
        StatusCode::OK
    );
    assert_eq!(
        web.upload(id, "white_paper_0", "paper.pdf", pdf()).await,
        StatusCode::OK
    );
    assert_eq!(
        web.upload(id, "white_paper_0", "paper.pdf", png()).await,
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "a PDF name on PNG content"
    );
    let app = json_of(
        reg.get(&format!("/api/v1/applications/{id}"), Some(&filer))
            .await,
        StatusCode::OK,
    )
    .await;
    let svc = &app["form"]["services"][0];
    assert_eq!(svc["pre_approvals"][0]["item"], "增值电信业务经营许可");
    assert!(svc["pre_approvals"][0]["certificate"].is_i64());
    assert!(svc["service_type"]["technology_other"]["white_paper"].is_i64());
    assert_eq!(app["attachments"].as_array().unwrap().len(), 2);
    reg.stop().await;
}

/// The publisher's pages open a check-in window and record an objection;
/// the filer's page confirms; forms without the token change nothing.
#[tokio::test]
async fn check_ins_and_objections_through_the_pages() {
    let reg = Reg::spawn(None).await;
    let filer = reg.filer("张三", "13912345678", "zhang@example.cn").await;
    let reviewer = reg.staff(UserRole::Reviewer, "13600000001").await;
    let (_, number) = approved(&reg, &filer, &reviewer, individual_form).await;
    reg.staff(UserRole::Publisher, "13600000002").await;

    let mut publisher = WebClient::new(&reg.base);
    let (status, to) = publisher
        .post(
            "/login",
            &[("phone", "13600000002"), ("password", "Filer#2026pass")],
        )
        .await;
    assert_eq!((status, to.as_str()), (StatusCode::SEE_OTHER, "/publish"));
    // Without the form token: refused, nothing opened.
    let res = publisher
        .http
        .post(format!("{}/publish/checkins", reg.base))
        .header("cookie", publisher.cookie_header())
        .form(&[("opens_on", "2026-09-30"), ("closes_on", "2026-10-20")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let (status, _) = publisher
        .post(
            "/publish/checkins",
            &[("opens_on", "2026-09-30"), ("closes_on", "2026-10-20")],
        )
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let (_, page) = publisher.get("/publish").await;
    assert!(
        page.contains("2026-09-30 – 2026-10-20") && page.contains(&number),
        "{page}"
    );
    assert_eq!(
        publisher.post("/publish/gather", &[]).await.0,
        StatusCode::SEE_OTHER
    );
    assert_eq!(
        publisher.post("/publish/1/publish", &[]).await.0,
        StatusCode::SEE_OTHER
    );
    let (status, _) = publisher
        .post(
            "/publish/1/objection",
            &[
                ("number", &number),
                ("text", "主体信息有误"),
                ("contact", "13500000000"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let (status, _) = publisher
        .post(
            "/publish/1/objection",
            &[
                ("number", "京网信备1101081963896882001X号"),
                ("text", "x"),
                ("contact", "y"),
            ],
        )
        .await;
    assert_eq!(
        status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "not a filing of the batch"
    );

    let mut web = WebClient::new(&reg.base);
    web.post(
        "/login",
        &[("phone", "13912345678"), ("password", "Filer#2026pass")],
    )
    .await;
    let (_, page) = web.get("/filer").await;
    assert!(page.contains("确认信息无变化") && page.contains(&number));
    let (status, to) = web.post("/filer/checkins/1", &[("number", &number)]).await;
    assert_eq!((status, to.as_str()), (StatusCode::SEE_OTHER, "/filer"));
    let (_, page) = web.get("/filer").await;
    assert!(page.contains("已确认") && !page.contains("确认信息无变化"));
    let (_, page) = publisher.get("/publish").await;
    assert!(page.contains("已确认：1"), "{page}");
    let api = reg.login("13600000002").await;
    let batch = json_of(
        reg.get("/api/v1/publication/batches/1", Some(&api)).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(batch["objections"][0]["text"], "主体信息有误");
    // A reviewer's session does not open the publisher's pages.
    let mut other = WebClient::new(&reg.base);
    other
        .post(
            "/login",
            &[("phone", "13600000001"), ("password", "Filer#2026pass")],
        )
        .await;
    assert_eq!(other.get("/publish").await.0, StatusCode::FORBIDDEN);
    assert_eq!(
        other.post("/publish/gather", &[]).await.0,
        StatusCode::FORBIDDEN
    );
    reg.stop().await;
}

/// A filer records a change of one part and files a cancellation from the
/// pages of an approved filing.
#[tokio::test]
async fn changes_and_cancellation_through_the_pages() {
    let reg = Reg::spawn(None).await;
    let filer = reg.filer("张三", "13912345678", "zhang@example.cn").await;
    let reviewer = reg.staff(UserRole::Reviewer, "13600000001").await;
    let (id, _) = approved(&reg, &filer, &reviewer, individual_form).await;
    let mut web = WebClient::new(&reg.base);
    web.post(
        "/login",
        &[("phone", "13912345678"), ("password", "Filer#2026pass")],
    )
    .await;
    let (status, page) = web.get(&format!("/filer/applications/{id}/step/4")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("办理变更") && page.contains("注销备案"));
    let (status, page) = web.get(&format!("/filer/applications/{id}/change/2")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("name=\"changed_on\""));
    let id_number = resident_id("11010519491231002");
    let mut fields = vec![
        ("name", "李四"),
        ("office_phone", "010-62345679"),
        ("id_type", "resident_id"),
        ("id_number", id_number.as_str()),
        ("mobile", "13912345678"),
        ("email", "li@example.cn"),
        ("changed_on", "2026-09-31"),
    ];
    let path = format!("/filer/applications/{id}/change/2");
    let (status, _) = web.post(&path, &fields).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "not a date");
    fields.pop();
    fields.push(("changed_on", "2026-09-29"));
    let (status, to) = web.post(&path, &fields).await;
    assert_eq!(
        (status, to),
        (
            StatusCode::SEE_OTHER,
            format!("/filer/applications/{id}/step/4")
        )
    );
    let app = json_of(
        reg.get(&format!("/api/v1/applications/{id}"), Some(&filer))
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(app["state"], "change_pending");
    assert_eq!(app["pending"]["form"]["responsible"]["name"], "李四");
    assert_eq!(
        app["form"]["responsible"]["name"], "张三",
        "the filed form stands until approved"
    );
    json_of(
        reg.post(
            &format!("/api/v1/review/applications/{id}/decision"),
            Some(&reviewer),
            &json!({"decision": "approve"}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    let cancel = format!("/filer/applications/{id}/cancel");
    let res = web
        .post(&cancel, &[("termination_date", "2026-11-16")])
        .await;
    assert_eq!(res.0, StatusCode::UNPROCESSABLE_ENTITY);
    let (_, page) = web.get(&format!("/filer/applications/{id}/step/4")).await;
    assert!(!page.contains("注销审核中"));
    let (status, _) = web
        .post(&cancel, &[("termination_date", "2026-11-17")])
        .await;
    assert_eq!(status, StatusCode::OK);
    let app = json_of(
        reg.get(&format!("/api/v1/applications/{id}"), Some(&filer))
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(
        (
            app["state"].as_str(),
            app["form"]["responsible"]["name"].as_str()
        ),
        (Some("cancellation_pending"), Some("李四"))
    );
    reg.stop().await;
}
