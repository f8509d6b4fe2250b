//! The one error type at the HTTP boundary, and the one table of what each
//! domain error means there: a status, a stable code for the JSON API, and
//! the translation key of the message the pages show (in the table of the
//! page's application, in the page's language).
//!
//! Every `?` on a domain error in a JSON handler goes through
//! [`DomainError::meaning`]; so does every page that shows an error
//! ([`crate::kit::Page::explain`]). A 5xx is a failure on our side: its
//! details are logged, never shown, and pages answer it with the static
//! 500 page.

use std::any::Any;

use axum::Json;
use axum::http::{StatusCode, Uri};
use axum::response::{Html, IntoResponse, Response};
use serde::Serialize;
use serde_json::{Map, Value};
use utoipa::ToSchema;

/// The row of `code` whose translation key is `error_<code>`, as most rows
/// are: `row!(S::CONFLICT, "phone_taken")`.
macro_rules! row {
    ($status:expr, $code:literal) => {
        Meaning::row($status, $code, concat!("error_", $code))
    };
}

mod platform;
mod registry;

/// An error answer: a status, a stable snake_case code, a human message.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    code: &'static str,
    message: String,
    extra: Map<String, Value>,
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
    /// What some errors add: `problems` of an incomplete application,
    /// `earliest_termination_date` of a cancellation filed too soon.
    #[serde(flatten)]
    #[schema(ignore)]
    extra: Map<String, Value>,
}

impl ApiError {
    /// An error with this status, code and message.
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            code,
            message: message.into(),
            extra: Map::new(),
            retry_after_s: None,
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

    /// A domain error by its row of the table (a 500 when it has none).
    pub(crate) fn from_domain(e: &(impl DomainError + ?Sized)) -> ApiError {
        match e.meaning() {
            Some(m) => ApiError {
                status: m.status,
                code: m.code,
                message: m.message.unwrap_or_else(|| e.to_string()),
                extra: m.extra,
                retry_after_s: m.retry_after_s,
            },
            None => ApiError::internal(&e.to_string()),
        }
    }

    /// The status.
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The answer for a page (HTML) request: the site's 500 page for a
    /// server-side failure (already logged), the JSON error otherwise.
    pub(crate) fn into_page_response(self) -> Response {
        if self.status.is_server_error() {
            server_error_page()
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
                extra: self.extra,
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

/// A domain error's row of the table.
#[derive(Debug, Clone)]
pub(crate) struct Meaning {
    /// The HTTP status.
    pub(crate) status: StatusCode,
    /// The stable code of the JSON body.
    pub(crate) code: &'static str,
    /// The translation key of the message pages show.
    pub(crate) key: &'static str,
    /// The JSON message when it is not the error's own text.
    pub(crate) message: Option<String>,
    /// What pages show after the translated message (the field's problem,
    /// a date), if anything.
    pub(crate) detail: Option<String>,
    /// Fields the JSON error body adds.
    pub(crate) extra: Map<String, Value>,
    /// Seconds for the `Retry-After` header, if any.
    pub(crate) retry_after_s: Option<u64>,
}

impl Meaning {
    /// The row `(status, code, key)`.
    pub(crate) fn row(status: StatusCode, code: &'static str, key: &'static str) -> Meaning {
        Meaning {
            status,
            code,
            key,
            message: None,
            detail: None,
            extra: Map::new(),
            retry_after_s: None,
        }
    }

    /// 503 `busy` with `Retry-After`: too many password checks at once
    /// (`shucang-auth`'s bounded queue is full).
    pub(crate) fn busy() -> Meaning {
        Meaning {
            retry_after_s: Some(shucang_auth::BUSY_RETRY_AFTER_S),
            ..Meaning::row(StatusCode::SERVICE_UNAVAILABLE, "busy", "error_busy")
        }
    }

    /// With this JSON message instead of the error's own text.
    pub(crate) fn message(mut self, message: impl Into<String>) -> Meaning {
        self.message = Some(message.into());
        self
    }

    /// With this detail after the page's message.
    pub(crate) fn detail(mut self, detail: impl Into<String>) -> Meaning {
        self.detail = Some(detail.into());
        self
    }

    /// With this field added to the JSON error body.
    pub(crate) fn extra(mut self, name: &str, value: Value) -> Meaning {
        self.extra.insert(name.to_owned(), value);
        self
    }
}

/// A domain error with a row in the table.
pub(crate) trait DomainError: std::fmt::Display {
    /// Its row, or `None` for a failure on our side (logged; 500).
    fn meaning(&self) -> Option<Meaning>;
}

impl<E: DomainError> From<E> for ApiError {
    fn from(e: E) -> ApiError {
        ApiError::from_domain(&e)
    }
}

/// A query string a page cannot read (a repeated or malformed parameter):
/// the page's 400 in its language.
#[derive(Debug)]
pub(crate) struct InvalidQuery;

impl std::fmt::Display for InvalidQuery {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("the query string is malformed or repeats a parameter")
    }
}

impl DomainError for InvalidQuery {
    fn meaning(&self) -> Option<Meaning> {
        Some(row!(StatusCode::BAD_REQUEST, "invalid_query"))
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

/// The 500 page: static, in both languages, in the site's style, with no
/// detail of the failure (that goes to the log). Static so that it still
/// shows when templates or storage are what failed.
pub(crate) fn server_error_page() -> Response {
    (
        StatusCode::INTERNAL_SERVER_ERROR,
        Html(include_str!("../static/500.html")),
    )
        .into_response()
}

/// The answer to a page request that failed on our side: the 500 page,
/// the failure logged.
pub(crate) fn failure_page(detail: &dyn std::fmt::Display) -> Response {
    ApiError::internal(detail).into_page_response()
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

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_500_page_is_styled_bilingual_and_tells_nothing() {
        let res =
            ApiError::internal(&"database is locked at /srv/data/shucang.db").into_page_response();
        assert_eq!(res.status(), StatusCode::INTERNAL_SERVER_ERROR);
        assert!(
            res.headers()["content-type"]
                .to_str()
                .unwrap()
                .starts_with("text/html")
        );
        let body = axum::body::to_bytes(res.into_body(), 1 << 20)
            .await
            .unwrap();
        let html = String::from_utf8(body.to_vec()).unwrap();
        assert!(html.contains("/static/site.css") && html.contains("服务暂时出错"));
        assert!(html.contains("Server error") && html.contains("/complaints"));
        assert!(!html.contains("database") && !html.contains("/srv"));
    }

    /// Every key a row of the table names is in its application's tables.
    #[test]
    fn every_key_of_the_table_is_translated() {
        use crate::kit::Lang;
        use crate::kit::i18n::{App, Catalog};
        let catalog = Catalog::built_in();
        for (app, keys) in [
            (App::Platform, platform::sample_keys()),
            (App::Registry, registry::sample_keys()),
        ] {
            assert!(keys.len() > 20, "{app:?}");
            for key in keys
                .into_iter()
                .chain(["error_forbidden", "error_form_expired"])
            {
                assert!(
                    catalog.table(app, Lang::ZhCn).contains_key(key),
                    "{app:?} lacks {key}"
                );
            }
        }
    }

    #[tokio::test]
    async fn extra_fields_join_the_error_body() {
        let e = ApiError::from_domain(&shucang_registry::RegistryError::TooSoon(
            "2026-11-17".into(),
        ));
        let body = axum::body::to_bytes(e.into_response().into_body(), 1 << 20)
            .await
            .unwrap();
        let json: Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(json["error"]["code"], "termination_too_soon");
        assert_eq!(json["error"]["earliest_termination_date"], "2026-11-17");
    }
}
