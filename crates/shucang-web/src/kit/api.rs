//! Extractors of the JSON APIs, whose failures are [`ApiError`]s: the body,
//! the query and the caller's address.

use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::StatusCode;
use axum::http::request::Parts;
use serde::de::{DeserializeOwned, IgnoredAny};

use crate::ApiError;

/// A JSON body. Like `axum::Json`, but every way it can be wrong becomes our
/// error body: wrong content type → 415 `unsupported_media_type`, bad syntax
/// → 400 `malformed_json`, wrong shape → 422 `invalid_body`, too large → 413
/// `payload_too_large`, too slow → 408 `request_timeout`.
pub struct ApiJson<T>(pub T);

impl<S, T> FromRequest<S> for ApiJson<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        if !json_content_type(req.headers()) {
            return Err(json_rejection(JsonRejection::MissingJsonContentType(
                Default::default(),
            )));
        }
        let bytes = axum::body::Bytes::from_request(req, state)
            .await
            .map_err(|e| json_rejection(e.into()))?;
        // A body is an object: serde would fill a struct from an array by
        // position, which no client means.
        let first = bytes.iter().find(|b| !b.is_ascii_whitespace());
        if first != Some(&b'{') {
            return Err(match serde_json::from_slice::<IgnoredAny>(&bytes) {
                Ok(_) => ApiError::new(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "invalid_body",
                    "the body must be a JSON object",
                ),
                Err(e) => ApiError::new(StatusCode::BAD_REQUEST, "malformed_json", e.to_string()),
            });
        }
        match axum::Json::<T>::from_bytes(&bytes) {
            Ok(axum::Json(value)) => Ok(ApiJson(value)),
            Err(rejection) => Err(json_rejection(rejection)),
        }
    }
}

/// A multipart request whose content type is not multipart with a
/// boundary: 415 `unsupported_media_type`.
pub(crate) fn multipart_rejection(_: axum::extract::multipart::MultipartRejection) -> ApiError {
    ApiError::new(
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "unsupported_media_type",
        "send the body as multipart/form-data with a boundary",
    )
}

/// Why a multipart body could not be read, each way with its own code:
/// larger than the route allows → `too_large`; too slow → 408
/// `request_timeout`; cut short or not multipart inside → 400
/// `malformed_multipart`.
pub(crate) fn multipart_failure(
    e: axum::extract::multipart::MultipartError,
    too_large: impl FnOnce() -> ApiError,
) -> ApiError {
    if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
        too_large()
    } else if super::serve::is_body_timeout(&e) {
        ApiError::new(
            StatusCode::REQUEST_TIMEOUT,
            "request_timeout",
            "the request body did not arrive in time; send it again",
        )
    } else {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "malformed_multipart",
            e.body_text(),
        )
    }
}

/// Whether the request says its body is JSON (`application/json` or
/// `application/…+json`, with any parameters).
fn json_content_type(headers: &axum::http::HeaderMap) -> bool {
    let Some(value) = headers
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
    else {
        return false;
    };
    let essence = value
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    essence == "application/json"
        || essence
            .strip_prefix("application/")
            .is_some_and(|sub| sub.ends_with("+json"))
}

/// Query parameters. Like `axum::extract::Query`, but what is wrong is our
/// error body: a repeated parameter (which value counts would be a guess)
/// or a malformed one is 400 `invalid_query`.
pub struct ApiQuery<T>(pub T);

impl<S, T> FromRequestParts<S> for ApiQuery<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        let query = parts.uri.query().unwrap_or("");
        let invalid =
            |message: String| ApiError::new(StatusCode::BAD_REQUEST, "invalid_query", message);
        let pairs: Vec<(String, String)> = serde_urlencoded::from_str(query)
            .map_err(|e| invalid(format!("the query string is malformed: {e}")))?;
        let mut seen = std::collections::HashSet::new();
        if let Some((name, _)) = pairs.iter().find(|(name, _)| !seen.insert(name.as_str())) {
            return Err(invalid(format!(
                "the parameter `{name}` is given more than once"
            )));
        }
        serde_urlencoded::from_str(query)
            .map(ApiQuery)
            .map_err(|e| invalid(e.to_string()))
    }
}

fn json_rejection(rejection: JsonRejection) -> ApiError {
    match rejection {
        JsonRejection::MissingJsonContentType(_) => ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "send the body as JSON with `Content-Type: application/json`",
        ),
        JsonRejection::JsonSyntaxError(e) => {
            ApiError::new(StatusCode::BAD_REQUEST, "malformed_json", e.body_text())
        }
        JsonRejection::JsonDataError(e) => ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_body",
            e.body_text(),
        ),
        JsonRejection::BytesRejection(e) if super::serve::is_body_timeout(&e) => ApiError::new(
            StatusCode::REQUEST_TIMEOUT,
            "request_timeout",
            "the request body did not arrive in time; send it again",
        ),
        other if other.status() == StatusCode::PAYLOAD_TOO_LARGE => ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
            format!(
                "the request body is larger than {} bytes",
                super::layers::REQUEST_BODY_MAX_BYTES
            ),
        ),
        other => ApiError::new(StatusCode::BAD_REQUEST, "bad_request", other.body_text()),
    }
}

/// The client's IP address as [`crate::kit::serve`] established it (the TCP
/// peer, or behind a trusted proxy the forwarded address), or `unknown`
/// when the server was not started by it.
pub(crate) struct ClientIp(pub String);

impl<S: Send + Sync> FromRequestParts<S> for ClientIp {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        let ip = parts
            .extensions
            .get::<super::serve::ClientAddr>()
            .map_or_else(|| "unknown".to_owned(), |c| c.0.to_string());
        Ok(ClientIp(ip))
    }
}

/// A resource's id in a path: a positive integer, else 400
/// `invalid_number` saying what it names (`"a drop id"`).
pub(crate) fn positive_id(raw: &str, what: &str) -> Result<i64, ApiError> {
    raw.parse::<i64>().ok().filter(|id| *id > 0).ok_or_else(|| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid_number",
            format!("{what} is a positive integer"),
        )
    })
}
