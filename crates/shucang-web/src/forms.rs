//! Protection for HTML forms against cross-site submission: a double-submit
//! token. Every page sets an HttpOnly, SameSite=Strict cookie with a random
//! value (if the browser has none yet) and puts the same value in its
//! forms' hidden `csrf` field; a submission counts only if both are there
//! and equal — a page on another site can read neither.

use axum::http::HeaderMap;
use axum::http::header::COOKIE;

/// The cookie holding the form token.
pub(crate) const CSRF_COOKIE: &str = "shucang_csrf";

/// The form token the browser already holds, if well-formed.
pub(crate) fn csrf_from_cookie(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|p| p.trim().split_once('='))
        .find(|(n, _)| *n == CSRF_COOKIE)
        .map(|(_, v)| v.to_owned())
        .filter(|v| v.len() == 32 && v.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// A fresh form token.
pub(crate) fn new_csrf() -> String {
    use rand::RngCore as _;
    let mut bytes = [0u8; 16];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    hex::encode(bytes)
}

/// Whether a submitted form carries the browser's token.
pub(crate) fn csrf_ok(headers: &HeaderMap, submitted: Option<&str>) -> bool {
    matches!((csrf_from_cookie(headers), submitted), (Some(a), Some(b)) if a == b)
}

/// The `Set-Cookie` value for a token.
pub(crate) fn csrf_cookie(token: &str) -> String {
    format!("{CSRF_COOKIE}={token}; Path=/; HttpOnly; SameSite=Strict")
}
