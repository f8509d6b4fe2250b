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
        let (status, code, key) = match self {
            E::Invalid { field, .. } => {
                let (code, key) = match *field {
                    "name" => ("invalid_name", "error_invalid_name"),
                    "phone" => ("invalid_phone", "error_invalid_phone"),
                    "email" => ("invalid_email", "error_invalid_email"),
                    "password" => ("weak_password", "error_weak_password"),
                    _ => ("invalid_field", "error_invalid_field"),
                };
                (S::UNPROCESSABLE_ENTITY, code, key)
            }
            E::PhoneTaken | E::Store(StoreError::PhoneTaken) => {
                (S::CONFLICT, "phone_taken", "error_phone_taken")
            }
            E::InvalidCredentials => (
                S::UNAUTHORIZED,
                "invalid_credentials",
                "error_invalid_credentials",
            ),
            E::Locked { .. } => (S::LOCKED, "account_locked", "error_account_locked"),
            E::VerificationFailed => (
                S::BAD_REQUEST,
                "verification_failed",
                "error_verification_failed",
            ),
            E::Unconfirmed => (
                S::FORBIDDEN,
                "contact_unconfirmed",
                "error_contact_unconfirmed",
            ),
            E::NotFound => (
                S::NOT_FOUND,
                "application_not_found",
                "error_application_not_found",
            ),
            E::WrongState { .. } => (S::CONFLICT, "wrong_state", "error_wrong_state"),
            E::Incomplete(_) => (
                S::UNPROCESSABLE_ENTITY,
                "application_incomplete",
                "error_application_incomplete",
            ),
            E::File(FileError::Size) => (
                S::PAYLOAD_TOO_LARGE,
                "file_too_large",
                "error_file_too_large",
            ),
            E::File(FileError::Type) => (
                S::UNSUPPORTED_MEDIA_TYPE,
                "file_type_refused",
                "error_file_type_refused",
            ),
            E::File(FileError::NameMismatch) => (
                S::UNSUPPORTED_MEDIA_TYPE,
                "file_name_mismatch",
                "error_file_name_mismatch",
            ),
            E::TooManyAttachments => (
                S::CONFLICT,
                "too_many_attachments",
                "error_too_many_attachments",
            ),
            E::BadDecision(_) => (
                S::UNPROCESSABLE_ENTITY,
                "invalid_decision",
                "error_invalid_decision",
            ),
            E::Forbidden(_) => (S::FORBIDDEN, "forbidden", "error_forbidden"),
            E::CheckinNotFound => (S::NOT_FOUND, "checkin_not_found", "error_checkin_not_found"),
            E::CheckinClosed(..) => (S::CONFLICT, "checkin_closed", "error_checkin_closed"),
            E::AlreadyConfirmed => (S::CONFLICT, "already_confirmed", "error_already_confirmed"),
            E::TooSoon(_) => (
                S::UNPROCESSABLE_ENTITY,
                "termination_too_soon",
                "error_termination_too_soon",
            ),
            E::NothingToGather => (S::CONFLICT, "nothing_to_gather", "error_nothing_to_gather"),
            E::BatchNotFound => (S::NOT_FOUND, "batch_not_found", "error_batch_not_found"),
            E::BatchWrongState(_) => (S::CONFLICT, "wrong_state", "error_batch_wrong_state"),
            E::WindowOpen(_) => (
                S::CONFLICT,
                "objection_window_open",
                "error_objection_window_open",
            ),
            E::Calendar(_) => (
                S::SERVICE_UNAVAILABLE,
                "holiday_schedule_missing",
                "error_holiday_schedule_missing",
            ),
            E::Busy => return Some(Meaning::busy()),
            E::Store(_) | E::Internal(_) => return None,
        };
        let row = Meaning::row(status, code, key);
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
            E::Invalid { .. }
            | E::WrongState { .. }
            | E::BadDecision(_)
            | E::BatchWrongState(_) => row.detail(self.to_string()),
            _ => row,
        })
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
        E::PhoneTaken,
        E::InvalidCredentials,
        E::Locked {
            until: shucang_types::UnixMillis(0),
        },
        E::VerificationFailed,
        E::Unconfirmed,
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
