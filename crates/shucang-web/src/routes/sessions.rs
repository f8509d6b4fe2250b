//! `POST /api/v1/sessions` (log in) and `DELETE /api/v1/sessions/current`
//! (log out).

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::auth::{Authenticated, SESSION};
use crate::error::ErrorBody;
use crate::kit::api::ApiJson;
use crate::{ApiError, AppState};

/// Credentials.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct LoginRequest {
    /// The registered phone number (any accepted spelling).
    #[schema(example = "13800138000")]
    phone: String,
    /// The password.
    password: String,
}

/// A new session.
#[derive(Serialize, ToSchema)]
pub(crate) struct LoginResponse {
    /// Send as `Authorization: Bearer <token>`; the same value is set as the
    /// HttpOnly session cookie.
    token: String,
    /// The session ends after this many seconds without use.
    idle_timeout_seconds: i64,
}

/// Logs in: checks the phone number and password, opens a session.
#[utoipa::path(post, path = "/api/v1/sessions", tag = "sessions",
    request_body = LoginRequest,
    responses((status = 200, description = "Logged in; also sets the session cookie", body = LoginResponse), (status = 401, description = "`invalid_credentials` (unknown phone and wrong password alike)", body = ErrorBody), (status = 423, description = "`account_locked` after repeated failures", body = ErrorBody)))]
pub(crate) async fn login(
    State(state): State<AppState>,
    ApiJson(req): ApiJson<LoginRequest>,
) -> Result<impl IntoResponse, ApiError> {
    let session = state.accounts.login(&req.phone, &req.password).await?;
    let idle_timeout_seconds = state.accounts.policy().session_idle_ms / 1000;
    let cookie = SESSION
        .set(session.token.expose())
        .ok_or_else(|| ApiError::internal(&"a session token is not a header value"))?;
    Ok((
        [cookie],
        Json(LoginResponse {
            token: session.token.expose().to_owned(),
            idle_timeout_seconds,
        }),
    ))
}

/// Logs out: ends the current session and clears the cookie.
#[utoipa::path(delete, path = "/api/v1/sessions/current", tag = "sessions",
    security(("session" = [])),
    responses((status = 204, description = "Logged out"), (status = 401, description = "`unauthenticated`", body = ErrorBody)))]
pub(crate) async fn logout(
    State(state): State<AppState>,
    auth: Authenticated,
) -> Result<impl IntoResponse, ApiError> {
    state.accounts.logout(&auth.token).await?;
    Ok((StatusCode::NO_CONTENT, [SESSION.clear()]))
}
