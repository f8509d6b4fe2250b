//! Protection for HTML forms against cross-site submission. For a
//! signed-in visitor the form token is bound to the session: it is derived
//! from the session token (SHA-256 under a fixed label, 128 bits), which
//! only the browser holding that HttpOnly cookie can present, so a cookie
//! planted by someone else cannot make a token they know valid. Before
//! signing in (login and registration forms) it is a double-submit token:
//! an HttpOnly, SameSite=Strict cookie with a random value (set if the
//! browser has none yet) and the same value in the forms' hidden `csrf`
//! field; a submission counts only if both are there and equal — a page on
//! another site can read neither. Both applications use this one
//! mechanism.

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
    /// The token of a signed-in visitor's `session` (its cookie value), or
    /// else the browser's double-submit token, or a fresh one when it sent
    /// none (or a malformed one).
    pub(crate) fn of(headers: &HeaderMap, session: Option<&str>) -> CsrfToken {
        if let Some(session) = session {
            return CsrfToken {
                value: session_form_token(session),
                is_new: false,
            };
        }
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

/// The form token bound to a session: the first 128 bits of SHA-256 over a
/// fixed label and the session token, in hex. It reveals nothing of the
/// session token, and changes with every new session.
pub fn session_form_token(session: &str) -> String {
    use sha2::{Digest as _, Sha256};
    let digest = Sha256::new()
        .chain_update(b"shucang/csrf/v1\0")
        .chain_update(session.as_bytes())
        .finalize();
    hex::encode(&digest[..TOKEN_HEX_LEN / 2])
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
        let fresh = CsrfToken::of(&HeaderMap::new(), None);
        assert!(!fresh.accepts(Some(fresh.value())), "no cookie yet");
        let mut h = HeaderMap::new();
        let token = "a".repeat(32);
        h.insert(COOKIE, format!("shucang_csrf={token}").parse().unwrap());
        let known = CsrfToken::of(&h, None);
        assert!(known.accepts(Some(&token)));
        assert!(!known.accepts(Some(&"b".repeat(32))));
        assert!(!known.accepts(None));
        h.insert(COOKIE, "shucang_csrf=short".parse().unwrap());
        assert!(!CsrfToken::of(&h, None).accepts(Some("short")), "malformed");
    }

    #[test]
    fn a_signed_in_visitors_token_is_bound_to_the_session() {
        let mut h = HeaderMap::new();
        h.insert(
            COOKIE,
            format!("shucang_csrf={}", "a".repeat(32)).parse().unwrap(),
        );
        let bound = CsrfToken::of(&h, Some("session-one"));
        assert_eq!(bound.value(), session_form_token("session-one"));
        assert_eq!(bound.value().len(), 32);
        // The double-submit cookie no longer counts once signed in.
        assert!(!bound.accepts(Some(&"a".repeat(32))));
        assert!(bound.accepts(Some(&session_form_token("session-one"))));
        assert_ne!(
            session_form_token("session-one"),
            session_form_token("session-two")
        );
        // Nothing to hand out: the token comes from the session.
        let mut response = Response::new(axum::body::Body::empty());
        bound.hand_out(&mut response);
        assert!(response.headers().get("set-cookie").is_none());
    }
}
