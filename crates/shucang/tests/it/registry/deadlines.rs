//! Review deadlines in working days: across the Spring Festival, and a
//! year without a holiday schedule, named until an administrator loads it.

use reqwest::StatusCode;
use serde_json::Value;
use shucang_registry::UserRole;
use shucang_types::UnixMillis;

use super::forms::individual_form;
use super::{Reg, SEPT_30, json_of};
use crate::harness::assert_error;

/// Spring Festival: a submission on Friday 13 February 2026 counts the
/// adjusted working days 14 and 28 February and skips 15–23 February.
#[tokio::test]
async fn the_deadline_crosses_the_spring_festival() {
    let reg = Reg::spawn(None).await;
    let feb_13 = UnixMillis::parse_rfc3339("2026-02-13T02:00:00Z").unwrap();
    let sept_30 = UnixMillis::parse_rfc3339(SEPT_30).unwrap();
    reg.clock.advance_ms(feb_13.0 - sept_30.0);
    let filer = reg.filer("张三", "13912345678", "zhang@example.cn").await;
    let (id, _) = reg.drafted(&filer, individual_form).await;
    let sub = json_of(reg.submit(&filer, id).await, StatusCode::OK).await;
    assert_eq!(sub["due_date"], "2026-03-19");
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
/// is missing, but no work stops: a submission and a cancellation whose
/// dates reach that year are accepted with provisional (暂定) dates,
/// weekdays counted, marked with the year. An administrator loads the
/// year (checked, recorded); the dates are recomputed at once, the filers
/// told, and a notice that turns out short is flagged for the reviewer.
#[tokio::test]
async fn a_missing_year_never_stops_the_work_and_its_dates_are_settled_when_loaded() {
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

    // Submitted on Thursday 10 December: 15 working days left in 2026,
    // then 1 and 4–7 January 2027 counted as weekdays.
    let (id, _) = reg.drafted(&filer, individual_form).await;
    let sub = json_of(reg.submit(&filer, id).await, StatusCode::OK).await;
    assert_eq!(sub["state"], "submitted");
    assert_eq!(sub["due_date"], "2027-01-07");
    assert_eq!(sub["due_provisional"], 2027);
    let sms = reg.outbox("13912345678").await;
    assert!(
        sms.iter().any(|m| m.message.body.contains("暂定")),
        "the filer is told the date is provisional"
    );
    let queue = json_of(
        reg.get("/api/v1/review/queue", Some(&reviewer)).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(queue[0]["due_provisional"], 2027, "{queue}");

    // An approved filing cancelled on 21 January 2027: 30 working days
    // on with 1 January counted — accepted, the notice provisional.
    let (other, number) = super::approved(&reg, &filer, &reviewer, individual_form).await;
    let c = json_of(
        reg.post(
            &format!("/api/v1/filings/{number}/cancellation"),
            Some(&filer),
            &serde_json::json!({"termination_date": "2027-01-21"}),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(c["state"], "cancellation_pending");
    assert_eq!(c["pending"]["notice_provisional"], 2027, "{c}");
    assert_eq!(c["due_provisional"], 2027);
    let dir = reg.stop().await;
    an_administrator_loads_the_year(dir.path()).await;

    // With 1 January off: the review is due 8 January, exact; the
    // cancellation's earliest date was 22 January, so its notice is short.
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
    let app = reg.application(&filer, id).await;
    assert_eq!(app["due_date"], "2027-01-08");
    assert_eq!(app["due_provisional"], Value::Null);
    let c = reg.application(&filer, other).await;
    assert_eq!(c["state"], "cancellation_pending");
    assert_eq!(c["pending"]["notice_short"], true, "{c}");
    assert_eq!(c["pending"]["notice_provisional"], Value::Null);
    let sms = reg.outbox("13912345678").await;
    assert!(
        sms.iter()
            .any(|m| m.message.body.contains(&format!("编号 {id}"))
                && m.message.body.contains("2027-01-08")),
        "the filer is told the new date"
    );
    assert!(
        sms.iter().any(|m| m.message.body.contains("2027-01-22")),
        "and that the notice is short"
    );
    let trail = json_of(
        reg.get(&format!("/api/v1/applications/{id}/audit"), Some(&filer))
            .await,
        StatusCode::OK,
    )
    .await;
    let last = trail.as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["action"], "deadline", "{trail}");
    assert_eq!(last["detail"]["due_date"], "2027-01-08");
    // Settling again changes nothing.
    assert_eq!(
        reg.registry.settle_provisional_deadlines().await.unwrap(),
        0
    );
    reg.stop().await;
}

/// `registry admin load-holidays` refuses bad files with the reason and
/// records nothing, then loads the 2027 fixture.
async fn an_administrator_loads_the_year(dir: &std::path::Path) {
    let file = dir.join("holidays.txt");
    let load = |text: String| {
        let (dir, file) = (dir.to_owned(), file.clone());
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
    // Bad files are refused with the reason and record nothing.
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
    let out = String::from_utf8_lossy(&out.stdout);
    assert!(out.contains("loaded the 2027 holiday schedule"), "{out}");
    assert!(
        out.contains("recomputed 2 provisional deadline(s)"),
        "{out}"
    );
}
