//! Who is calling: the session token from `Authorization: Bearer …` or from
//! the session cookie, resolved to an account.

use axum::extract::FromRequestParts;
use axum::http::header::{AUTHORIZATION, COOKIE, SET_COOKIE};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue};
use shucang_platform::{Account, SessionToken};

use crate::{ApiError, AppState, SESSION_COOKIE};

/// A request made by a logged-in account. Extracting it fails with 401
/// `unauthenticated` when there is no valid, unexpired session.
pub struct Authenticated {
    /// The account.
    pub account: Account,
    /// The token the request carried.
    pub token: SessionToken,
}

impl FromRequestParts<AppState> for Authenticated {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let token = token_from_headers(&parts.headers).ok_or_else(ApiError::unauthenticated)?;
        let account = state
            .accounts
            .authenticate(&token)
            .await?
            .ok_or_else(ApiError::unauthenticated)?;
        Ok(Authenticated { account, token })
    }
}

/// The client's IP address (from the TCP connection), or `unknown` when the
/// server was not started with connection info.
pub(crate) struct ClientIp(pub String);

impl<S: Send + Sync> FromRequestParts<S> for ClientIp {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        let ip = parts
            .extensions
            .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
            .map_or_else(|| "unknown".to_owned(), |c| c.0.ip().to_string());
        Ok(ClientIp(ip))
    }
}

/// The token a request carries: the `Authorization` header if present (and
/// then only a Bearer token), else the session cookie.
pub(crate) fn token_from_headers(headers: &HeaderMap) -> Option<SessionToken> {
    if let Some(value) = headers.get(AUTHORIZATION) {
        let value = value.to_str().ok()?;
        let (scheme, token) = value.split_once(' ')?;
        if !scheme.eq_ignore_ascii_case("bearer") {
            return None;
        }
        return Some(SessionToken::from_client(token.trim()));
    }
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == SESSION_COOKIE)
        .map(|(_, token)| SessionToken::from_client(token))
}

/// `Set-Cookie` for a new session: HttpOnly (scripts cannot read it),
/// SameSite=Lax (not sent on cross-site POSTs), for the whole site, until the
/// browser closes; the server expires it after idling.
pub(crate) fn session_cookie(token: &SessionToken) -> (axum::http::HeaderName, HeaderValue) {
    let value = format!(
        "{SESSION_COOKIE}={}; Path=/; HttpOnly; SameSite=Lax",
        token.expose()
    );
    // A token is base64url, so the header value is always valid.
    let value = HeaderValue::from_str(&value).expect("base64url tokens are valid header values");
    (SET_COOKIE, value)
}

/// `Set-Cookie` that removes the session cookie.
pub(crate) fn clear_session_cookie() -> (axum::http::HeaderName, HeaderValue) {
    (
        SET_COOKIE,
        HeaderValue::from_static("shucang_session=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0"),
    )
}
