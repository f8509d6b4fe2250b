//! The registry's pages over real HTTP, with a client that keeps cookies
//! and sends the form token back: the documents each service asks for,
//! check-ins and objections, changes and a cancellation.

use reqwest::{Client, StatusCode, multipart};
use serde_json::json;
use shucang_registry::UserRole;

use super::{PASSWORD, Reg, an_approved_filing, json_of, pdf, png, resident_id};

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

    /// The token a page's forms carry: bound to the session once signed
    /// in, else the double-submit cookie's.
    fn form_token(&self) -> String {
        match self
            .cookies
            .get(shucang_web::registry::REGISTRY_SESSION_COOKIE)
        {
            Some(session) if !session.is_empty() => shucang_web::session_form_token(session),
            _ => self.cookies["shucang_csrf"].clone(),
        }
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
        let res = self.send_form(path, fields).await;
        let location = res
            .headers()
            .get("location")
            .map(|l| l.to_str().unwrap().to_owned())
            .unwrap_or_default();
        (res.status(), location)
    }

    /// Posts a form (with the form token); the page answered.
    async fn post_page(&mut self, path: &str, fields: &[(&str, &str)]) -> (StatusCode, String) {
        let res = self.send_form(path, fields).await;
        (res.status(), res.text().await.unwrap())
    }

    /// Posts a form with the form token, keeping the cookies set.
    async fn send_form(&mut self, path: &str, fields: &[(&str, &str)]) -> reqwest::Response {
        if !self.cookies.contains_key("shucang_csrf") {
            self.get("/").await;
        }
        let mut form: Vec<(&str, &str)> = fields.to_vec();
        let token = self.form_token();
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
        res
    }
}

impl WebClient {
    /// A client signed in as `phone`.
    async fn signed_in(base: &str, phone: &str) -> WebClient {
        let mut web = WebClient::new(base);
        web.login(phone).await;
        web
    }

    /// Logs in through the page; returns the status and Location.
    async fn login(&mut self, phone: &str) -> (StatusCode, String) {
        self.post("/login", &[("phone", phone), ("password", PASSWORD)])
            .await
    }

    /// Uploads a document into a slot of the step-4 page.
    async fn upload(&mut self, app: i64, slot: &str, name: &str, bytes: Vec<u8>) -> StatusCode {
        let token = self.form_token();
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
    let mut web = WebClient::signed_in(&reg.base, "13712345678").await;
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
    let app = reg.application(&filer, id).await;
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
    let (_, _, _, number) = an_approved_filing(&reg).await;
    reg.staff(UserRole::Publisher, "13600000002").await;

    let mut publisher = WebClient::new(&reg.base);
    let (status, to) = publisher.login("13600000002").await;
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

    let mut web = WebClient::signed_in(&reg.base, "13912345678").await;
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
    let mut other = WebClient::signed_in(&reg.base, "13600000001").await;
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
    let (filer, reviewer, id, _) = an_approved_filing(&reg).await;
    let mut web = WebClient::signed_in(&reg.base, "13912345678").await;
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
    let app = reg.application(&filer, id).await;
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
    let app = reg.application(&filer, id).await;
    assert_eq!(
        (
            app["state"].as_str(),
            app["form"]["responsible"]["name"].as_str()
        ),
        (Some("cancellation_pending"), Some("李四"))
    );
    reg.stop().await;
}

/// A filer who has not confirmed mobile and e-mail gets no draft from the
/// page's "新建备案申请": a page that says what to do, and nothing stored.
#[tokio::test]
async fn an_unconfirmed_filer_is_told_to_confirm_before_a_draft() {
    let reg = Reg::spawn(None).await;
    let body = serde_json::json!({"name": "王五", "phone": "13712345670",
        "email": "wang@example.cn", "password": PASSWORD});
    let res = reg.post("/api/v1/filers", None, &body).await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let mut web = WebClient::new(&reg.base);
    let (status, _) = web.login("13712345670").await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let (status, page) = web.post_page("/filer/applications", &[]).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(
        page.contains("请先确认手机号和电子邮箱") && !page.contains("{\"error\""),
        "{page}"
    );
    // The page says what to do next: confirm, or have both sent again.
    assert!(
        page.contains("action=\"/filer/confirmations\"")
            && page.contains("重新发送验证码和确认邮件"),
        "{page}"
    );
    let user = reg
        .store
        .user_by_phone("13712345670")
        .await
        .unwrap()
        .unwrap();
    let drafts = reg.store.applications_of(user.id).await.unwrap();
    assert!(drafts.is_empty(), "{drafts:?}");

    // Sent again: a new code and link; the old ones stop working.
    let old_code = reg.sms_code("13712345670").await;
    let old_link = reg.email_link("wang@example.cn").await;
    let (status, sent) = web.post_page("/filer/confirmations", &[]).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        sent.contains("新的短信验证码已发送") && sent.contains("新的确认邮件已发送"),
        "{sent}"
    );
    let sms = reg.outbox("13712345670").await;
    let mail = reg.outbox("wang@example.cn").await;
    assert_eq!((sms.len(), mail.len()), (2, 2));
    let new_code = crate::support::sms_code(&sms[1].message.body).unwrap();
    let link = |body: &str| {
        body.lines()
            .find(|l| l.contains("/filers/verify-email?token="))
            .unwrap()
            .to_owned()
    };
    let new_link = link(&mail[1].message.body);
    let path = |l: &str| l[l.find("/filers/").unwrap()..].to_owned();
    let (status, page) = web.get(&path(&old_link)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        page.contains("重新发送确认邮件") && page.contains("区块链信息服务备案管理系统"),
        "{page}"
    );
    assert!(
        !page.contains("This link"),
        "no English on the Chinese page: {page}"
    );
    let (status, page) = web.get(&path(&new_link)).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        page.contains("电子邮箱已确认") && !page.contains("confirmed"),
        "{page}"
    );
    if old_code != new_code {
        let body = serde_json::json!({"phone": "13712345670", "code": old_code});
        let res = reg.post("/api/v1/filers/verify-phone", None, &body).await;
        assert_eq!(
            res.status(),
            StatusCode::BAD_REQUEST,
            "the old code is spent"
        );
    }
    let body = serde_json::json!({"phone": "13712345670", "code": new_code});
    let res = reg.post("/api/v1/filers/verify-phone", None, &body).await;
    assert_eq!(res.status(), StatusCode::OK);
    // Both confirmed: nothing more is sent, and the draft is made.
    let (_, sent) = web.post_page("/filer/confirmations", &[]).await;
    assert!(sent.contains("均已确认"), "{sent}");
    assert_eq!(reg.outbox("13712345670").await.len(), 2);
    let (status, _) = web.post("/filer/applications", &[]).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    reg.stop().await;
}

/// Sending the code and link again is bounded: three times an hour, then
/// 429 `rate_limited`, through the API as through the page.
#[tokio::test]
async fn confirmations_are_sent_again_at_most_three_times_an_hour() {
    let reg = Reg::spawn(None).await;
    let body = serde_json::json!({"name": "王五", "phone": "13712345670",
        "email": "wang@example.cn", "password": PASSWORD});
    reg.post("/api/v1/filers", None, &body).await;
    let token = reg.login("13712345670").await;
    for _ in 0..3 {
        let res = reg
            .post(
                "/api/v1/filers/confirmations",
                Some(&token),
                &serde_json::json!({}),
            )
            .await;
        assert_eq!(res.status(), StatusCode::ACCEPTED);
        let body: serde_json::Value = res.json().await.unwrap();
        assert_eq!(
            body,
            serde_json::json!({"phone_verified": false, "email_verified": false})
        );
    }
    let res = reg
        .post(
            "/api/v1/filers/confirmations",
            Some(&token),
            &serde_json::json!({}),
        )
        .await;
    crate::harness::assert_error(res, StatusCode::TOO_MANY_REQUESTS, "rate_limited").await;
    assert_eq!(reg.outbox("13712345670").await.len(), 4, "registration + 3");
    reg.stop().await;
}

/// Submitting lists each problem by the field's label on the form, says
/// how to fix it and links to the step it is on — never a field path.
#[tokio::test]
async fn problems_name_the_field_say_how_to_fix_it_and_link_to_its_step() {
    let reg = Reg::spawn(None).await;
    reg.filer("李四", "13712345678", "li@example.cn").await;
    let mut web = WebClient::signed_in(&reg.base, "13712345678").await;
    let (_, to) = web.post("/filer/applications", &[]).await;
    let id: i64 = to.split('/').nth(3).unwrap().parse().unwrap();
    // Saving a step with values in the wrong form keeps the filer there
    // and says so at once (what is merely missing waits for submission).
    let (status, saved) = web
        .post_page(
            &format!("/filer/applications/{id}/step/1"),
            &[
                ("kind", "institution"),
                ("inst_name", "某某科技有限公司"),
                ("inst_credit_code", "91110108MA00000000"),
                ("district_code", "110108"),
                ("website", "www.example.cn"),
                ("action", "next"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let saved = saved.replace("&#x2f;", "/");
    assert!(
        saved.contains("草稿已保存，但以下内容格式不正确")
            && saved.contains("<strong>网站首页（如有）</strong>")
            && saved.contains("value=\"www.example.cn\"")
            && !saved.contains("必填"),
        "{saved}"
    );
    let (status, page) = web
        .post_page(
            &format!("/filer/applications/{id}/step/4"),
            &[("agreed", "yes"), ("action", "submit")],
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let page = page.replace("&#x2f;", "/");
    for shown in [
        "<strong>负责人 · 真实姓名</strong>：必填",
        "<strong>网站首页（如有）</strong>：请填写以 https:// 或 http:// 开头的完整网址",
        "<strong>统一社会信用代码</strong>：统一社会信用代码为 18 位",
        "<strong>服务信息</strong>：必填",
        "<strong>主体证件 / 营业执照扫描件</strong>：请上传材料",
        &format!("href=\"/filer/applications/{id}/step/1\""),
        &format!("href=\"/filer/applications/{id}/step/2\""),
    ] {
        assert!(page.contains(shown), "{shown}: {page}");
    }
    for hidden in ["website —", "applicant.", "registered_place", "credit_code"] {
        assert!(!page.contains(hidden), "{hidden}: {page}");
    }
    // The English page says the same in English.
    let (_, en) = web
        .post_page(
            &format!("/filer/applications/{id}/step/4?lang=en"),
            &[("agreed", "yes"), ("action", "submit")],
        )
        .await;
    let en = en.replace("&#x2f;", "/");
    assert!(
        en.contains("<strong>Website (if any)</strong>") && en.contains("step/1?lang=en"),
        "{en}"
    );
    reg.stop().await;
}

/// Anyone raises an objection on a batch's public notice while its window
/// is open: refused input keeps what was typed; the objection reaches the
/// reviewers' page and the batch; five an hour from one address.
#[tokio::test]
async fn anyone_objects_on_the_public_notice_and_the_reviewers_see_it() {
    let reg = Reg::spawn(None).await;
    let (_, _, _, number) = an_approved_filing(&reg).await;
    let publisher = reg.staff(UserRole::Publisher, "13600000002").await;
    reg.gather_and_publish(&publisher).await;
    let mut public = WebClient::new(&reg.base);
    let (status, page) = public.get("/publication/batches/1").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        page.contains("提出异议") && page.contains(&format!("<option value=\"{number}\"")),
        "{page}"
    );
    let (status, page) = public
        .post_page(
            "/publication/batches/1",
            &[
                ("number", &number),
                ("text", " "),
                ("contact", "13800000000"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        page.contains("请填写异议内容") && page.contains("value=\"13800000000\""),
        "the reason, and what was typed: {page}"
    );
    let (status, page) = public
        .post_page(
            "/publication/batches/1",
            &[
                ("number", &number),
                ("text", "该主体已停止运营"),
                ("contact", "13800000000"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("您的异议已提交"), "{page}");
    let mut reviewer = WebClient::signed_in(&reg.base, "13600000001").await;
    let (_, queue) = reviewer.get("/review").await;
    assert!(
        queue.contains("公示异议") && queue.contains("该主体已停止运营"),
        "{queue}"
    );
    let batch = json_of(
        reg.get("/api/v1/publication/batches/1", Some(&publisher))
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(batch["objections"][0]["text"], "该主体已停止运营");
    // Five an hour from one address (the refused one counted too).
    let fields = [
        ("number", number.as_str()),
        ("text", "再次异议"),
        ("contact", "x"),
    ];
    for _ in 0..3 {
        let (status, _) = public.post_page("/publication/batches/1", &fields).await;
        assert_eq!(status, StatusCode::OK);
    }
    let (status, page) = public.post_page("/publication/batches/1", &fields).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    assert!(page.contains("再次异议"), "the text is kept: {page}");
    let batch = json_of(
        reg.get("/api/v1/publication/batches/1", Some(&publisher))
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(batch["objections"].as_array().unwrap().len(), 4);
    reg.stop().await;
}
