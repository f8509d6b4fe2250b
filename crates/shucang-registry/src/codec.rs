//! How the registry's stored documents are written: the application form,
//! a decision and a pending change or cancellation as JSON, states by their
//! codes, dates as `YYYY-MM-DD`. The store maps columns through these
//! functions, so the domain and the storage trait see only typed values and
//! this is the one place that knows the stored encoding.
//!
//! Decoding refuses what this code never writes and says which document it
//! was, as a [`StoreError::Backend`] (a row written by something else).

use shucang_types::Date;

use crate::{AppState, ApplicationForm, Decision, Pending, StoreError};

fn corrupt(what: &str, e: impl std::fmt::Display) -> StoreError {
    StoreError::Backend(format!("stored {what} does not decode: {e}"))
}

/// The form as stored.
pub fn encode_form(form: &ApplicationForm) -> String {
    // A form holds only strings, numbers, booleans, lists and maps with
    // string keys: serialising it cannot fail.
    serde_json::to_string(form).expect("an application form serialises")
}

/// A stored form.
pub fn decode_form(json: &str) -> Result<ApplicationForm, StoreError> {
    serde_json::from_str(json).map_err(|e| corrupt("form", e))
}

/// A decision as stored (and as the audit trail's detail).
pub fn encode_decision(decision: &Decision) -> String {
    serde_json::to_string(decision).expect("a decision serialises")
}

/// A stored decision.
pub fn decode_decision(json: &str) -> Result<Decision, StoreError> {
    serde_json::from_str(json).map_err(|e| corrupt("decision", e))
}

/// A pending change or cancellation as stored.
pub fn encode_pending(pending: &Pending) -> String {
    serde_json::to_string(pending).expect("a pending request serialises")
}

/// A stored pending change or cancellation.
pub fn decode_pending(json: &str) -> Result<Pending, StoreError> {
    serde_json::from_str(json).map_err(|e| corrupt("pending request", e))
}

/// A stored state code.
pub fn decode_state(code: &str) -> Result<AppState, StoreError> {
    AppState::from_code(code).ok_or_else(|| corrupt("state", code))
}

/// A stored `YYYY-MM-DD`.
pub fn decode_date(s: &str) -> Result<Date, StoreError> {
    crate::ymd(s).ok_or_else(|| corrupt("date", s))
}

/// An audit detail: a JSON object of the given string fields.
pub fn detail(fields: &[(&str, String)]) -> String {
    let map: serde_json::Map<String, serde_json::Value> = fields
        .iter()
        .map(|(k, v)| ((*k).to_owned(), serde_json::Value::String(v.clone())))
        .collect();
    serde_json::Value::Object(map).to_string()
}

/// A review deadline's audit detail: the date and, when it is
/// provisional, the year whose holidays were not known.
pub fn deadline_detail(due: shucang_calendar::Reckoned<Date>) -> String {
    let mut detail = serde_json::json!({ "due_date": due.value.to_string() });
    if let Some(year) = due.provisional {
        detail["provisional_until_schedule_of"] = year.into();
    }
    detail.to_string()
}

/// A recorded change's audit detail: when it happened, the day it was due
/// to be recorded, and whether it came late.
pub fn change_detail(changed_on: Date, record_by: Date, late: bool) -> String {
    serde_json::json!({
        "changed_on": changed_on.to_string(),
        "record_by": record_by.to_string(),
        "late": late,
    })
    .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{DecisionKind, Reason};

    #[test]
    fn documents_read_back_as_written() {
        let form = ApplicationForm::default();
        assert_eq!(decode_form(&encode_form(&form)).unwrap(), form);
        let d = Decision {
            decision: DecisionKind::Reject,
            reasons: vec![Reason {
                field: Some("website".into()),
                reason: "打不开".into(),
            }],
            reviewer_id: 3,
            at_ms: 9,
        };
        assert_eq!(decode_decision(&encode_decision(&d)).unwrap(), d);
        let p = Pending::Cancellation {
            termination_date: "2027-01-05".into(),
            notice_provisional: Some(2027),
            notice_short: false,
        };
        assert_eq!(decode_pending(&encode_pending(&p)).unwrap(), p);
        // A row written before notices could be provisional reads as exact.
        let old = r#"{"kind":"cancellation","termination_date":"2027-01-05"}"#;
        let read = decode_pending(old).unwrap();
        assert_eq!(
            read,
            Pending::Cancellation {
                termination_date: "2027-01-05".into(),
                notice_provisional: None,
                notice_short: false,
            }
        );
        assert_eq!(encode_pending(&read), old, "and is written back unchanged");
        assert_eq!(decode_state("under_review").unwrap(), AppState::UnderReview);
        assert_eq!(decode_date("2026-11-03").unwrap().to_string(), "2026-11-03");
    }

    #[test]
    fn foreign_rows_are_refused_with_what_they_were() {
        let e = decode_form("[1]").unwrap_err().to_string();
        assert!(e.contains("stored form"), "{e}");
        assert!(decode_state("approvd").is_err());
        assert!(decode_date("2026-13-01").is_err());
        assert!(decode_pending("{\"kind\":\"other\"}").is_err());
    }

    #[test]
    fn details_are_json_objects() {
        assert_eq!(
            detail(&[("due_date", "2026-11-03".into())]),
            "{\"due_date\":\"2026-11-03\"}"
        );
        assert_eq!(detail(&[]), "{}");
    }
}
