//! The whole story, on SQLite and on PostgreSQL: a draft with its
//! problems, uploads, submission, return and approval with a number,
//! notifications and the trail, an institution's two numbers, publication
//! and the public search, and an overdue rejection.

use reqwest::StatusCode;
use serde_json::json;
use shucang_registry::UserRole;
use shucang_types::FilingNumber;

use super::forms::{individual_form, institution_form};
use super::{DAY_MS, Reg, documents, incomplete, json_of, pdf, png};
use crate::harness::assert_error;

#[tokio::test]
async fn a_filing_goes_from_registration_to_numbers() {
    crate::support::on_each_store("the registry story", story).await;
}

async fn story(url: Option<String>) {
    let reg = Reg::spawn(url).await;
    let filer = reg.filer("张三", "13912345678", "zhang@example.cn").await;
    let other = reg.filer("王五", "13812345678", "wang@example.cn").await;
    let reviewer = reg.staff(UserRole::Reviewer, "13600000001").await;
    let (id, ids) = draft_uploads_and_problems(&reg, &filer, &other).await;
    let (number, reviewer) = submit_return_and_approve(&reg, &filer, &reviewer, id, &ids).await;
    notified_and_audited(&reg, &reviewer, id, &number).await;
    let numbers = an_institution_gets_two_numbers(&reg, &reviewer).await;
    published_and_found(&reg, &reviewer, &number, &numbers).await;
    let other = reg.login("13812345678").await;
    an_overdue_rejection(&reg, &other).await;
    reg.stop().await;
}

/// A draft saved half-filled lists every problem by path on submission;
/// uploads are checked by content; others cannot see it; near misses in
/// the form are problems at their paths. Returns the draft and its
/// documents.
async fn draft_uploads_and_problems(reg: &Reg, filer: &str, other: &str) -> (i64, Vec<i64>) {
    // A draft saved half-filled; submitting lists every problem by path.
    let draft = json_of(
        reg.post(
            "/api/v1/applications",
            Some(filer),
            &json!({"applicant": {"kind": "individual"}}),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(draft["state"], "draft");
    let id = draft["id"].as_i64().unwrap();
    let res = reg.submit(filer, id).await;
    let body = incomplete(res).await;
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
    let still = reg.application(filer, id).await;
    assert_eq!(still["state"], "draft");

    // Uploads: checked by content; a PDF name on PNG content, and an
    // executable behind a PNG signature, are refused.
    let res = reg.upload(filer, id, "scan.pdf", png()).await;
    assert_error(
        res,
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "file_name_mismatch",
    )
    .await;
    let mut disguised = b"\x89PNG\r\n\x1a\n\x7fELF\x02\x01\x01\0".to_vec();
    disguised.extend_from_slice(&[0x90; 512]);
    let res = reg.upload(filer, id, "scan.pdf", disguised).await;
    assert_error(res, StatusCode::UNSUPPORTED_MEDIA_TYPE, "file_type_refused").await;
    let ids = documents(reg, filer, id).await;

    // Someone else's application does not exist for them.
    for path in [
        format!("/api/v1/applications/{id}"),
        format!("/api/v1/applications/{id}/attachments/{}", ids[0]),
    ] {
        let res = reg.get(&path, Some(other)).await;
        assert_error(res, StatusCode::NOT_FOUND, "application_not_found").await;
    }
    let res = reg.save(other, id, &individual_form(&ids)).await;
    assert_error(res, StatusCode::NOT_FOUND, "application_not_found").await;
    let file = reg.attachment(filer, id, ids[0]).await;
    assert_eq!(file.headers()["content-type"], "image/png");
    assert_eq!(file.bytes().await.unwrap().to_vec(), png());
    near_misses_are_problems(reg, filer, id, &ids).await;
    (id, ids)
}

/// Near misses in the form are problems at their paths; unknown fields
/// are refused outright.
async fn near_misses_are_problems(reg: &Reg, filer: &str, id: i64, ids: &[i64]) {
    let mut bad = individual_form(ids);
    bad["applicant"]["individual"]["id_number"] = json!("110105194912310021");
    bad["services"][0]["service_type"]["explorer"]["server_ip"] = json!("203.0.113.256");
    bad["services"][0]["service_type"]["explorer"]["annual_visits"] = json!(-1);
    bad["responsible"]["email"] = json!("zhang@example");
    bad["registered_place"]["district_code"] = json!("990101");
    assert_eq!(reg.save(filer, id, &bad).await.status(), StatusCode::OK);
    let res = reg.submit(filer, id).await;
    let body = incomplete(res).await;
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
    let res = reg.save(filer, id, &json!({"aplicant": {}})).await;
    assert_error(res, StatusCode::UNPROCESSABLE_ENTITY, "invalid_body").await;
}

/// The complete form submits (未审核, due 20 working days on, across
/// National Day); the reviewer returns it as incomplete; resubmitted on
/// 16 October it is approved with its number. Returns the number and the
/// reviewer's new session.
async fn submit_return_and_approve(
    reg: &Reg,
    filer: &str,
    reviewer: &str,
    id: i64,
    ids: &[i64],
) -> (String, String) {
    // The complete form submits: 未审核, due 20 working days on, counting
    // from 1 October across National Day and the adjusted 10 October.
    let res = reg.save(filer, id, &individual_form(ids)).await;
    assert_eq!(res.status(), StatusCode::OK);
    let submitted = json_of(reg.submit(filer, id).await, StatusCode::OK).await;
    assert_eq!(submitted["state"], "submitted");
    assert_eq!(submitted["public_state"], "未审核");
    assert_eq!(submitted["due_date"], "2026-11-03");
    assert_eq!(submitted["working_days_left"], 20);
    let res = reg.save(filer, id, &individual_form(ids)).await;
    assert_error(res, StatusCode::CONFLICT, "wrong_state").await;

    // The queue: filers may not see it; the reviewer sees days left.
    let res = reg.get("/api/v1/review/queue", Some(filer)).await;
    assert_error(res, StatusCode::FORBIDDEN, "forbidden").await;
    let queue = reg.queue(reviewer).await;
    assert_eq!(queue[0]["id"], id);
    assert_eq!(queue[0]["working_days_left"], 20);
    assert_eq!(queue[0]["overdue"], false);

    // Materials incomplete: back to the filer with the list.
    let res = reg
        .decide(
            reviewer,
            id,
            json!({"decision": "incomplete", "reasons": []}),
        )
        .await;
    assert_error(res, StatusCode::UNPROCESSABLE_ENTITY, "invalid_decision").await;
    let returned = json_of(
        reg.decide(reviewer, id, json!({"decision": "incomplete", "reasons": [{"field": "declaration.signed_scan", "reason": "承诺书未签字"}]}))
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
    let again = json_of(reg.submit(&filer, id).await, StatusCode::OK).await;
    assert_eq!(again["due_date"], "2026-11-13");
    let approved = json_of(
        reg.decide(&reviewer, id, json!({"decision": "approve"}))
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
        .decide(
            &reviewer,
            id,
            json!({"decision": "reject", "reasons": ["再次决定"]}),
        )
        .await;
    assert_error(res, StatusCode::CONFLICT, "wrong_state").await;
    (number, reviewer)
}

/// Every step notified the filer by SMS and by e-mail; the trail names
/// who did what, in order.
async fn notified_and_audited(reg: &Reg, reviewer: &str, id: i64, number: &str) {
    // Every step notified the filer by SMS and by e-mail.
    reg.assert_notified(
        "13912345678",
        &[
            "验证码",
            "未审核",
            "审核中",
            "材料不全",
            "承诺书未签字",
            number,
        ],
    )
    .await;
    let mails = reg.outbox("zhang@example.cn").await;
    assert!(mails.iter().any(|m| m.message.body.contains(number)));
    // And the trail names who did what, in order.
    let actions = reg.audit(reviewer, id).await;
    assert_eq!(
        actions,
        ["submit", "open", "incomplete", "submit", "open", "approve"]
    );
}

/// An institution with two services: two numbers, counters 001 and 002,
/// province 粤 from the Shenzhen district code. Returns the numbers.
async fn an_institution_gets_two_numbers(reg: &Reg, reviewer: &str) -> Vec<String> {
    let inst = reg.filer("李四", "13712345678", "li@example.cn").await;
    let aid = reg.new_application(&inst).await;
    let ids = documents(reg, &inst, aid).await;
    let mut wrong_code = institution_form(&ids);
    wrong_code["applicant"]["institution"]["credit_code"] = json!("91440300708461136U");
    reg.save(&inst, aid, &wrong_code).await;
    let res = reg.submit(&inst, aid).await;
    let body = incomplete(res).await;
    assert_eq!(
        body["error"]["problems"][0]["path"],
        "applicant.institution.credit_code"
    );
    reg.save(&inst, aid, &institution_form(&ids)).await;
    let sub = json_of(reg.submit(&inst, aid).await, StatusCode::OK).await;
    assert_eq!(sub["warnings"][0]["code"], "new_main_chain");
    let ok = json_of(
        reg.decide(reviewer, aid, json!({"decision": "approve"}))
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
    numbers
}

/// Publication: the approved filings gathered into 第1批, published with a
/// 10-working-day objection window, then final; the public finds them by
/// entity name or complete number only once published.
async fn published_and_found(reg: &Reg, reviewer: &str, number: &str, numbers: &[String]) {
    let publisher = reg.staff(UserRole::Publisher, "13600000002").await;
    let res = reg
        .post("/api/v1/publication/batches", Some(reviewer), &json!({}))
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
    let none = reg.search("张三").await;
    assert!(
        none["results"].as_array().unwrap().is_empty(),
        "unpublished filings are not public"
    );
    let published = json_of(
        reg.batch(&publisher, "publish", &json!({})).await,
        StatusCode::OK,
    )
    .await;
    // Published on Friday 16 October: 19–23 and 26–30 October.
    assert_eq!(published["objection_window_ends"], "2026-10-30");
    the_public_search_finds_published_filings(reg, number, numbers).await;
    objections_and_the_final_batch(reg, &publisher, number).await;
}

/// The public search: by entity name, complete number or part of a name;
/// never by wildcards or a number's prefix.
async fn the_public_search_finds_published_filings(reg: &Reg, number: &str, numbers: &[String]) {
    let by_name = reg.search("张三").await;
    assert_eq!(by_name["results"][0]["number"], number);
    assert_eq!(by_name["results"][0]["entity_name"], "张三");
    assert_eq!(by_name["results"][0]["service_name"], "张三的区块链浏览器");
    assert_eq!(
        (
            by_name["results"][0]["batch"].as_i64(),
            by_name["results"][0]["state"].as_str()
        ),
        (Some(1), Some("审核通过"))
    );
    let by_number = reg.search(&numbers[1]).await;
    assert_eq!(by_number["results"].as_array().unwrap().len(), 1);
    assert_eq!(
        by_number["results"][0]["entity_name"],
        "深圳某某链科技有限公司"
    );
    let part = reg.search("某某链科技").await;
    assert_eq!(part["results"].as_array().unwrap().len(), 2);
    for wild in ["%", "_", "京网信备"] {
        let r = reg.search(wild).await;
        assert!(
            r["results"].as_array().unwrap().is_empty(),
            "{wild} matched"
        );
    }
    let res = reg.get("/api/v1/public/filings?q=", None).await;
    assert_error(res, StatusCode::UNPROCESSABLE_ENTITY, "invalid_field").await;
}

/// An objection inside the window keeps the batch open; the CSV and the
/// page list the batch; after the window it is final and takes no more.
async fn objections_and_the_final_batch(reg: &Reg, publisher: &str, number: &str) {
    let objection = json!({"number": number, "text": "该主体已停止运营", "contact": "13500000000"});
    let res = reg.batch(publisher, "objections", &objection).await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let res = reg.batch(publisher, "finalise", &json!({})).await;
    assert_error(res, StatusCode::CONFLICT, "objection_window_open").await;
    let csv = reg.get("/api/v1/publication/batches/1/csv", None).await;
    assert!(crate::support::header(&csv, "content-type").starts_with("text/csv"));
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
    assert!(page.contains("第1批") && page.contains(number) && page.contains("2026-10-30"));
    reg.clock.advance_ms(15 * DAY_MS);
    let publisher = reg.login("13600000002").await;
    let fin = json_of(
        reg.batch(&publisher, "finalise", &json!({})).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(fin["state"], "final");
    assert_eq!(fin["objections"][0]["text"], "该主体已停止运营");
    let late = json!({"number": number, "text": "迟到的异议", "contact": "x"});
    let res = reg.batch(&publisher, "objections", &late).await;
    assert_error(res, StatusCode::CONFLICT, "wrong_state").await;
    let list = json_of(
        reg.get("/api/v1/publication/batches", None).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(list[0]["title"], "第1批");
}

/// A rejection carries its reasons; an overdue one is flagged.
async fn an_overdue_rejection(reg: &Reg, other: &str) {
    let cid = reg.new_application(other).await;
    let ids = documents(reg, other, cid).await;
    let mut form = individual_form(&ids);
    form["applicant"]["individual"]["name"] = json!("王五");
    reg.save(other, cid, &form).await;
    let sub = json_of(reg.submit(other, cid).await, StatusCode::OK).await;
    let due = sub["due_date"].as_str().unwrap().to_owned();
    reg.clock.advance_ms(40 * DAY_MS);
    let reviewer = reg.login("13600000001").await;
    let queue = reg.queue(&reviewer).await;
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
        reg.decide(
            &reviewer,
            cid,
            json!({"decision": "reject", "reasons": ["服务内容与所填类型不符"]}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(rejected["public_state"], "审核未通过");
    assert!(rejected["numbers"].as_array().unwrap().is_empty());
}
