//! Who is calling the platform: the session token from
//! `Authorization: Bearer …` or from the session cookie, resolved to an
//! account.

use axum::extract::FromRequestParts;
use axum::http::HeaderMap;
use axum::http::request::Parts;
use shucang_platform::{Account, SessionToken};

use crate::kit::cookies::{Cookie, SameSite, authorization};
use crate::{ApiError, AppState};

/// The platform's session cookie: SameSite=Lax (not sent on cross-site
/// POSTs); the server expires the session after idling.
pub(crate) const SESSION: Cookie = Cookie::new(crate::SESSION_COOKIE, SameSite::Lax);

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

/// The token a request carries: the `Authorization` header if present (and
/// then only a Bearer token), else the session cookie.
pub(crate) fn token_from_headers(headers: &HeaderMap) -> Option<SessionToken> {
    match authorization(headers) {
        Some(bearer) => bearer.map(SessionToken::from_client),
        None => SESSION.read(headers).map(SessionToken::from_client),
    }
}

/// The account of a request's session, if it carries a valid one.
pub(crate) async fn optional_account(state: &AppState, headers: &HeaderMap) -> Option<Account> {
    let token = token_from_headers(headers)?;
    state.accounts.authenticate(&token).await.ok().flatten()
}
