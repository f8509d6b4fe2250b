//! After approval: changes (on time and late, rejected and approved) keep
//! the number valid; a cancellation needs 30 working days' notice and
//! makes the filing 已注销 on its termination date.

use reqwest::StatusCode;
use serde_json::{Value, json};
use shucang_registry::UserRole;
use shucang_types::UnixMillis;

use super::forms::{individual_form, institution_form};
use super::{Reg, SEPT_30, approved, json_of};
use crate::harness::assert_error;

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

/// An approved filing with its parties and the paths of its changes.
struct Filing<'a> {
    reg: &'a Reg,
    filer: String,
    reviewer: String,
    id: i64,
    number: String,
}

impl Filing<'_> {
    /// `/api/v1/filings/{number}/{what}`.
    fn path(&self, what: &str) -> String {
        format!("/api/v1/filings/{}/{what}", self.number)
    }

    /// Posts `body` to the filing's `what` as `token`.
    async fn post(&self, what: &str, token: &str, body: Value) -> reqwest::Response {
        self.reg.post(&self.path(what), Some(token), &body).await
    }

    /// Records a change, made on `day`, to `form` as `token`.
    async fn change(&self, token: &str, day: &str, form: &Value) -> reqwest::Response {
        let body = json!({"changed_on": day, "form": form});
        self.post("changes", token, body).await
    }

    /// Files the filer's cancellation, terminating on `day`.
    async fn cancel(&self, day: &str) -> reqwest::Response {
        let body = json!({"termination_date": day});
        self.post("cancellation", &self.filer, body).await
    }

    /// The reviewer's decision (answered 200).
    async fn decided(&self, decision: Value) -> Value {
        json_of(
            self.reg.decide(&self.reviewer, self.id, decision).await,
            StatusCode::OK,
        )
        .await
    }
}

async fn lifecycle(form: fn(&[i64]) -> Value) {
    let reg = Reg::spawn(None).await;
    let filer = reg.filer("张三", "13912345678", "zhang@example.cn").await;
    let stranger = reg.filer("王五", "13812345678", "wang@example.cn").await;
    let reviewer = reg.staff(UserRole::Reviewer, "13600000001").await;
    let (id, number) = approved(&reg, &filer, &reviewer, form).await;
    let ids: Vec<i64> = reg.application(&filer, id).await["attachments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["id"].as_i64().unwrap())
        .collect();
    let filing = Filing {
        reg: &reg,
        filer,
        reviewer,
        id,
        number,
    };
    let original = form(&ids);
    let mut renamed = form(&ids);
    renamed["services"][0]["name"] = json!("链上查 2.0");
    changes_keep_the_number(&filing, &stranger, &original, &renamed).await;

    // Published, so the public search shows the state.
    let publisher = reg.staff(UserRole::Publisher, "13600000002").await;
    reg.gather_and_publish(&publisher).await;
    a_cancellation_needs_notice(&filing).await;
    cancelled_on_its_date(&filing, &renamed).await;
    reg.stop().await;
}

/// Recorded on time, a change is reviewed and may be rejected (the form
/// stays); recorded late, it is flagged, still reviewed, and approved.
async fn changes_keep_the_number(
    filing: &Filing<'_>,
    stranger: &str,
    original: &Value,
    renamed: &Value,
) {
    let (reg, filer) = (filing.reg, filing.filer.as_str());
    // Recorded the day after: on time (5 working days from 29 September
    // run to 12 October, across National Day).
    let res = filing.change(stranger, "2026-09-29", renamed).await;
    assert_error(res, StatusCode::NOT_FOUND, "application_not_found").await;
    for (day, code) in [
        ("2026-10-01", "invalid_field"),
        ("29/09/2026", "invalid_field"),
    ] {
        let res = filing.change(filer, day, renamed).await;
        assert_error(res, StatusCode::UNPROCESSABLE_ENTITY, code).await;
    }
    let mut two = renamed.clone();
    two["services"] = json!([
        renamed["services"][0],
        renamed["services"][0],
        renamed["services"][0]
    ]);
    let res = filing.change(filer, "2026-09-29", &two).await;
    assert_error(res, StatusCode::UNPROCESSABLE_ENTITY, "invalid_field").await;
    let on_time = json!({"changed_on": "2026-09-29", "form": renamed});
    let pending = json_of(
        filing.post("changes", filer, on_time.clone()).await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(pending["state"], "change_pending");
    assert_eq!(pending["public_state"], "审核通过");
    assert_eq!(pending["pending"]["record_by"], "2026-10-12");
    assert_eq!(pending["pending"]["late"], false);
    assert_eq!(pending["numbers"][0]["number"], filing.number.as_str());
    let res = filing.post("changes", filer, on_time).await;
    assert_error(res, StatusCode::CONFLICT, "wrong_state").await;
    let queue = reg.queue(&filing.reviewer).await;
    assert_eq!(queue[0]["state"], "change_pending");
    let kept = filing
        .decided(json!({"decision": "reject", "reasons": ["未附变更证明"]}))
        .await;
    assert_eq!(kept["state"], "approved");
    assert_eq!(
        kept["form"]["services"][0]["name"],
        original["services"][0]["name"]
    );

    // A change of 1 September recorded on 30 September is late, flagged,
    // and still reviewed; approved, the form is updated.
    let late = json_of(
        filing.change(filer, "2026-09-01", renamed).await,
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
    let changed = filing.decided(json!({"decision": "approve"})).await;
    assert_eq!(changed["state"], "approved");
    assert_eq!(changed["form"]["services"][0]["name"], "链上查 2.0");
    assert_eq!(changed["pending"], Value::Null);
}

/// Cancellation: 30 working days' notice from 30 September is
/// 17 November; earlier dates are refused naming it; approved, the filing
/// stays 审核通过 until then.
async fn a_cancellation_needs_notice(filing: &Filing<'_>) {
    let res = filing.cancel("2026-11-16").await;
    let body = assert_error(
        res,
        StatusCode::UNPROCESSABLE_ENTITY,
        "termination_too_soon",
    )
    .await;
    assert_eq!(body["error"]["earliest_termination_date"], "2026-11-17");
    let res = filing.cancel("tomorrow").await;
    assert_error(res, StatusCode::UNPROCESSABLE_ENTITY, "invalid_field").await;
    let c = json_of(filing.cancel("2026-11-17").await, StatusCode::CREATED).await;
    assert_eq!(c["state"], "cancellation_pending");
    let ok = filing.decided(json!({"decision": "approve"})).await;
    assert_eq!(
        (ok["state"].as_str(), ok["public_state"].as_str()),
        (Some("cancellation_approved"), Some("审核通过"))
    );
    assert_eq!(
        filing.reg.search(&filing.number).await["results"][0]["state"],
        "审核通过"
    );
}

/// On 17 November the filing is cancelled: 已注销, audited, notified; it
/// takes no more changes.
async fn cancelled_on_its_date(filing: &Filing<'_>, renamed: &Value) {
    let reg = filing.reg;
    let nov_17 = UnixMillis::parse_rfc3339("2026-11-17T00:30:00Z").unwrap();
    reg.clock
        .advance_ms(nov_17.0 - UnixMillis::parse_rfc3339(SEPT_30).unwrap().0);
    assert_eq!(
        reg.search(&filing.number).await["results"][0]["state"],
        "已注销"
    );
    let filer = reg.login("13912345678").await;
    let gone = reg.application(&filer, filing.id).await;
    assert_eq!(
        (gone["state"].as_str(), gone["public_state"].as_str()),
        (Some("cancelled"), Some("已注销"))
    );
    let res = filing.change(&filer, "2026-11-16", renamed).await;
    assert_error(res, StatusCode::CONFLICT, "wrong_state").await;
    reg.assert_notified(
        "13912345678",
        &[
            "变更已报备",
            "逾期",
            "变更审核未通过",
            "变更审核通过",
            "注销申请已提交",
            "将于 2026-11-17 注销",
            "已注销",
        ],
    )
    .await;
    let reviewer = reg.login("13600000001").await;
    let actions = reg.audit(&reviewer, filing.id).await;
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
}
