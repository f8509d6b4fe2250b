//! The one error type at the HTTP boundary and the mapping of domain errors
//! to statuses and stable codes.

use std::any::Any;

use axum::Json;
use axum::http::{StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use shucang_platform::{AccountError, LoginError, StoreError};
use utoipa::ToSchema;

/// An error answer: a status, a stable snake_case code, a human message.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    code: &'static str,
    message: String,
    /// Seconds for the `Retry-After` header of a 503, if any.
    retry_after_s: Option<u64>,
}

/// The error body: `{"error":{"code","message"}}`.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    error: ErrorDetail,
}

/// The inside of [`ErrorBody`].
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorDetail {
    /// Stable machine-readable code, e.g. `invalid_phone`.
    #[schema(example = "invalid_phone")]
    code: &'static str,
    /// Human-readable explanation.
    message: String,
}

impl ApiError {
    /// An error with this status, code and message.
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            code,
            message: message.into(),
            retry_after_s: None,
        }
    }

    /// 503 `busy` with `Retry-After`: too many password checks at once
    /// (`shucang-auth`'s bounded queue is full).
    pub fn busy() -> ApiError {
        ApiError {
            retry_after_s: Some(shucang_auth::BUSY_RETRY_AFTER_S),
            ..ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "busy",
                "too many password checks at once; try again shortly",
            )
        }
    }

    /// 401 `unauthenticated`.
    pub fn unauthenticated() -> ApiError {
        ApiError::new(
            StatusCode::UNAUTHORIZED,
            "unauthenticated",
            "log in first: send a session token as `Authorization: Bearer …` or the session cookie",
        )
    }

    /// A 500 for a bug or an outage. The details are logged here and not
    /// shown to the caller.
    pub fn internal(detail: &dyn std::fmt::Display) -> ApiError {
        tracing::error!(error = %detail, "internal error");
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal_error",
            "internal error; it has been logged",
        )
    }

    /// The status.
    pub fn status(&self) -> StatusCode {
        self.status
    }
}

impl ApiError {
    /// The answer for a page (HTML) request: the site's 500 page for a
    /// server-side failure (already logged), the JSON error otherwise.
    pub(crate) fn into_page_response(self) -> Response {
        if self.status.is_server_error() {
            crate::pages::server_error_page()
        } else {
            self.into_response()
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = ErrorBody {
            error: ErrorDetail {
                code: self.code,
                message: self.message,
            },
        };
        let mut response = (self.status, Json(body)).into_response();
        if let Some(seconds) = self.retry_after_s {
            response
                .headers_mut()
                .insert(axum::http::header::RETRY_AFTER, seconds.into());
        }
        response
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> ApiError {
        ApiError::internal(&e)
    }
}

impl From<AccountError> for ApiError {
    fn from(e: AccountError) -> ApiError {
        match e {
            AccountError::WeakPassword(problem) => ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "weak_password",
                problem.to_string(),
            ),
            AccountError::PhoneTaken => ApiError::new(
                StatusCode::CONFLICT,
                "phone_taken",
                "this phone number is already registered",
            ),
            AccountError::Store(e) => e.into(),
            AccountError::Busy => ApiError::busy(),
            AccountError::Hashing(e) => ApiError::internal(&e),
        }
    }
}

impl From<LoginError> for ApiError {
    fn from(e: LoginError) -> ApiError {
        match e {
            LoginError::InvalidCredentials => ApiError::new(
                StatusCode::UNAUTHORIZED,
                "invalid_credentials",
                "wrong phone number or password",
            ),
            LoginError::Locked { until } => ApiError::new(
                StatusCode::LOCKED,
                "account_locked",
                format!(
                    "too many failed logins; the account is locked until {}",
                    until.to_rfc3339_utc()
                ),
            ),
            LoginError::Busy => ApiError::busy(),
            LoginError::Store(e) => e.into(),
        }
    }
}

/// The fallback for unknown routes: 404 `not_found`.
pub(crate) async fn not_found(uri: Uri) -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "not_found",
        format!("no such resource: {}", uri.path()),
    )
}

/// The fallback for a known route with the wrong method: 405.
pub(crate) async fn method_not_allowed() -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        "this resource does not support that method",
    )
}

/// Marks the answer to a request whose handler panicked.
#[derive(Clone, Copy)]
pub(crate) struct Panicked;

/// Turns a panic in a handler into a logged 500 with the usual body.
pub(crate) fn panic_response(panic: Box<dyn Any + Send + 'static>) -> Response {
    let detail = panic
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".to_owned());
    let mut response = ApiError::internal(&format!("handler panicked: {detail}")).into_response();
    response.extensions_mut().insert(Panicked);
    response
}
