//! Protection for HTML forms against cross-site submission: a double-submit
//! token. Every page sets an HttpOnly, SameSite=Strict cookie with a random
//! value (if the browser has none yet) and puts the same value in its
//! forms' hidden `csrf` field; a submission counts only if both are there
//! and equal — a page on another site can read neither. Both applications
//! use this one mechanism (and the same cookie).

use axum::http::HeaderMap;
use axum::response::Response;

use super::cookies::{Cookie, SameSite};

/// The cookie holding the form token.
pub(crate) const CSRF_COOKIE: Cookie = Cookie::new("shucang_csrf", SameSite::Strict);

/// Length of a token: 16 random bytes in hex.
const TOKEN_HEX_LEN: usize = 32;

/// The form token of one request: the browser's, or a fresh one it is yet
/// to receive.
#[derive(Debug, Clone)]
pub(crate) struct CsrfToken {
    value: String,
    is_new: bool,
}

impl CsrfToken {
    /// The browser's token, or a fresh one when it sent none (or a
    /// malformed one).
    pub(crate) fn of(headers: &HeaderMap) -> CsrfToken {
        match CSRF_COOKIE
            .read(headers)
            .filter(|v| v.len() == TOKEN_HEX_LEN && v.bytes().all(|b| b.is_ascii_hexdigit()))
        {
            Some(v) => CsrfToken {
                value: v.to_owned(),
                is_new: false,
            },
            None => CsrfToken {
                value: random_token(),
                is_new: true,
            },
        }
    }

    /// The value the page's forms carry.
    pub(crate) fn value(&self) -> &str {
        &self.value
    }

    /// Whether a submitted form's token is the browser's own.
    pub(crate) fn accepts(&self, submitted: Option<&str>) -> bool {
        !self.is_new && submitted == Some(self.value.as_str())
    }

    /// Gives the browser its token with `response`, when it has none yet.
    pub(crate) fn hand_out(&self, response: &mut Response) {
        if self.is_new {
            CSRF_COOKIE.set_on(response, &self.value);
        }
    }
}

/// 16 random bytes in hex: a form token, or a form's idempotency key.
pub(crate) fn random_token() -> String {
    use rand::RngCore as _;
    let mut bytes = [0u8; TOKEN_HEX_LEN / 2];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    hex::encode(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::header::COOKIE;

    #[test]
    fn only_the_browsers_own_token_is_accepted() {
        let fresh = CsrfToken::of(&HeaderMap::new());
        assert!(!fresh.accepts(Some(fresh.value())), "no cookie yet");
        let mut h = HeaderMap::new();
        let token = "a".repeat(32);
        h.insert(COOKIE, format!("shucang_csrf={token}").parse().unwrap());
        let known = CsrfToken::of(&h);
        assert!(known.accepts(Some(&token)));
        assert!(!known.accepts(Some(&"b".repeat(32))));
        assert!(!known.accepts(None));
        h.insert(COOKIE, "shucang_csrf=short".parse().unwrap());
        assert!(!CsrfToken::of(&h).accepts(Some("short")), "malformed");
    }
}
