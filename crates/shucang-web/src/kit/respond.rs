//! Answers every application gives the same way: redirects, the
//! stylesheet, private downloads.

use axum::http::header::{CACHE_CONTROL, CONTENT_DISPOSITION, CONTENT_TYPE, HeaderName, LOCATION};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

/// 303 See Other to `to` (the site's root if `to` cannot be a header).
pub(crate) fn redirect(to: &str) -> Response {
    let location = HeaderValue::from_str(to).unwrap_or(HeaderValue::from_static("/"));
    (StatusCode::SEE_OTHER, [(LOCATION, location)]).into_response()
}

/// `GET /static/site.css`: both applications' stylesheet.
pub(crate) async fn stylesheet() -> Response {
    (
        [
            (CONTENT_TYPE, "text/css; charset=utf-8"),
            (CACHE_CONTROL, "public, max-age=86400"),
        ],
        include_str!("../../static/site.css"),
    )
        .into_response()
}

/// `GET /static/{name}.js`: the pages' scripts (progressive enhancement
/// only), as files so that no inline script is needed.
pub(crate) async fn script(axum::extract::Path(name): axum::extract::Path<String>) -> Response {
    let body = match name.as_str() {
        "home.js" => include_str!("../../static/home.js"),
        "explorer.js" => include_str!("../../static/explorer.js"),
        _ => return StatusCode::NOT_FOUND.into_response(),
    };
    (
        [
            (CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (CACHE_CONTROL, "public, max-age=3600"),
        ],
        body,
    )
        .into_response()
}

/// How a private file is handed over.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Disposition {
    /// Shown in the browser.
    Inline,
    /// Saved as a file.
    Attachment,
}

/// A private file (an uploaded document): never cached, never sniffed as
/// another type than its own, sandboxed when shown.
pub(crate) fn private_file(bytes: Vec<u8>, mime: String, disposition: Disposition) -> Response {
    let mut response = (
        [
            (CONTENT_TYPE, mime),
            (CACHE_CONTROL, "private, no-store".to_owned()),
            (
                HeaderName::from_static("x-content-type-options"),
                "nosniff".to_owned(),
            ),
            // Even shown in the browser, it runs nothing and loads nothing.
            (
                HeaderName::from_static("content-security-policy"),
                "sandbox; default-src 'none'".to_owned(),
            ),
        ],
        bytes,
    )
        .into_response();
    if disposition == Disposition::Attachment {
        response
            .headers_mut()
            .insert(CONTENT_DISPOSITION, HeaderValue::from_static("attachment"));
    }
    response
}
