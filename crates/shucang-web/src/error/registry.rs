//! The registry's rows of the error table. Keys are in
//! `i18n/registry.<lang>.json`; where the domain's words carry a field or
//! a date, pages show them after the translated message.

use axum::http::StatusCode as S;
use serde_json::{Value, json};
use shucang_registry::{FileError, RegistryError, StoreError};

use super::{DomainError, Meaning};

impl DomainError for RegistryError {
    fn meaning(&self) -> Option<Meaning> {
        use RegistryError as E;
        let row = match self {
            E::Invalid { field, .. } => match *field {
                "name" => row!(S::UNPROCESSABLE_ENTITY, "invalid_name"),
                "phone" => row!(S::UNPROCESSABLE_ENTITY, "invalid_phone"),
                "email" => row!(S::UNPROCESSABLE_ENTITY, "invalid_email"),
                "password" => row!(S::UNPROCESSABLE_ENTITY, "weak_password"),
                // Pages say what each field needs in their language (the
                // domain's words, in English, are the API's message).
                field => Meaning::row(S::UNPROCESSABLE_ENTITY, "invalid_field", invalid_key(field)),
            },
            E::PhoneTaken | E::Store(StoreError::PhoneTaken) => row!(S::CONFLICT, "phone_taken"),
            E::InvalidCredentials => row!(S::UNAUTHORIZED, "invalid_credentials"),
            E::Locked { .. } => row!(S::LOCKED, "account_locked"),
            E::VerificationFailed => row!(S::BAD_REQUEST, "verification_failed"),
            E::Unconfirmed => row!(S::FORBIDDEN, "contact_unconfirmed"),
            E::RateLimited => row!(S::TOO_MANY_REQUESTS, "rate_limited"),
            E::DraftQuota => row!(S::CONFLICT, "draft_quota"),
            E::StorageQuota => row!(S::CONFLICT, "storage_quota"),
            E::NotFound => row!(S::NOT_FOUND, "application_not_found"),
            E::WrongState { .. } => row!(S::CONFLICT, "wrong_state"),
            E::Incomplete(_) => row!(S::UNPROCESSABLE_ENTITY, "application_incomplete"),
            E::File(FileError::Size) => row!(S::PAYLOAD_TOO_LARGE, "file_too_large"),
            E::File(FileError::Type) => row!(S::UNSUPPORTED_MEDIA_TYPE, "file_type_refused"),
            E::File(FileError::NameMismatch) => {
                row!(S::UNSUPPORTED_MEDIA_TYPE, "file_name_mismatch")
            }
            E::TooManyAttachments => row!(S::CONFLICT, "too_many_attachments"),
            E::BadDecision(_) => row!(S::UNPROCESSABLE_ENTITY, "invalid_decision"),
            E::Forbidden(_) => row!(S::FORBIDDEN, "forbidden"),
            E::CheckinNotFound => row!(S::NOT_FOUND, "checkin_not_found"),
            E::CheckinClosed(..) => row!(S::CONFLICT, "checkin_closed"),
            E::AlreadyConfirmed => row!(S::CONFLICT, "already_confirmed"),
            E::TooSoon(_) => row!(S::UNPROCESSABLE_ENTITY, "termination_too_soon"),
            E::NothingToGather => row!(S::CONFLICT, "nothing_to_gather"),
            E::BatchNotFound => row!(S::NOT_FOUND, "batch_not_found"),
            E::BatchWrongState(_) => {
                Meaning::row(S::CONFLICT, "wrong_state", "error_batch_wrong_state")
            }
            E::WindowOpen(_) => row!(S::CONFLICT, "objection_window_open"),
            E::Calendar(_) => row!(S::SERVICE_UNAVAILABLE, "holiday_schedule_missing"),
            E::Busy => return Some(Meaning::busy()),
            E::Store(_) | E::Internal(_) => return None,
        };
        Some(match self {
            E::Incomplete(findings) => {
                let problems: Vec<Value> = findings
                    .problems
                    .iter()
                    .map(|p| json!({"path": p.path, "code": p.code, "message": p.message}))
                    .collect();
                row.extra("problems", Value::Array(problems))
            }
            E::TooSoon(earliest) => row
                .detail(earliest.clone())
                .extra("earliest_termination_date", Value::from(earliest.clone())),
            E::Locked { until } => row.detail(until.to_rfc3339_utc()),
            E::CheckinClosed(opens, closes) => row.detail(format!("{opens} – {closes}")),
            E::WindowOpen(until) => row.detail(until.clone()),
            _ => row,
        })
    }
}

/// The page's message for a field the domain refused: what the field
/// needs, in the page's language.
fn invalid_key(field: &str) -> &'static str {
    match field {
        "changed_on" => "error_invalid_changed_on",
        "termination_date" => "error_invalid_date",
        "services" => "error_invalid_services",
        "opens_on" => "error_invalid_opens_on",
        "closes_on" => "error_invalid_closes_on",
        "note" => "error_invalid_note",
        "number" => "error_invalid_number",
        "text" => "error_invalid_text",
        "contact" => "error_invalid_contact",
        "q" => "error_invalid_q",
        _ => "error_invalid_field",
    }
}

/// Every row's key with an example error, for the test that the tables
/// hold each key.
#[cfg(test)]
pub(super) fn sample_keys() -> Vec<&'static str> {
    use RegistryError as E;
    let field = |field| E::Invalid {
        field,
        message: String::new(),
    };
    [
        field("name"),
        field("phone"),
        field("email"),
        field("password"),
        field("opens_on"),
        field("closes_on"),
        field("changed_on"),
        field("termination_date"),
        field("services"),
        field("note"),
        field("number"),
        field("text"),
        field("contact"),
        field("q"),
        E::PhoneTaken,
        E::InvalidCredentials,
        E::Locked {
            until: shucang_types::UnixMillis(0),
        },
        E::VerificationFailed,
        E::Unconfirmed,
        E::RateLimited,
        E::DraftQuota,
        E::StorageQuota,
        E::NotFound,
        E::WrongState {
            state: "approved",
            action: "editing",
        },
        E::Incomplete(Default::default()),
        E::File(FileError::Size),
        E::File(FileError::Type),
        E::File(FileError::NameMismatch),
        E::TooManyAttachments,
        E::BadDecision("x"),
        E::Forbidden("reviewer"),
        E::CheckinNotFound,
        E::CheckinClosed(String::new(), String::new()),
        E::AlreadyConfirmed,
        E::TooSoon(String::new()),
        E::NothingToGather,
        E::BatchNotFound,
        E::BatchWrongState("published"),
        E::WindowOpen(String::new()),
    ]
    .iter()
    .filter_map(DomainError::meaning)
    .map(|m| m.key)
    .collect()
}
