//! `POST /api/v1/accounts/codes`, `POST /api/v1/accounts` and `GET /api/v1/me`.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use shucang_platform::{Account, Registration};
use shucang_types::{Phone, Role};
use utoipa::ToSchema;

use crate::auth::Authenticated;
use crate::error::ErrorBody;
use crate::kit::api::{ApiJson, ClientIp};
use crate::{ApiError, AppState};

/// A request for a registration code.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct CodeRequest {
    /// Mainland mobile number; `+86`, spaces and dashes are accepted.
    #[schema(example = "+86 138-0013-8000")]
    phone: String,
}

/// The answer to a code request: the same whether or not the number is
/// registered (the SMS says which).
#[derive(Serialize, ToSchema)]
pub(crate) struct CodeSent {
    /// Always true.
    sent: bool,
    /// How long the code is accepted, in seconds.
    #[schema(example = 600)]
    expires_in_seconds: i64,
}

/// A registration.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RegisterRequest {
    /// Mainland mobile number; `+86`, spaces and dashes are accepted.
    #[schema(example = "+86 138-0013-8000")]
    phone: String,
    /// The 6-digit code sent by SMS (`POST /api/v1/accounts/codes`).
    #[schema(example = "123456")]
    code: String,
    /// At least 8 characters, 3 of 4 classes (lower, upper, digit, symbol),
    /// not containing the phone number.
    #[schema(example = "Shucang#2026")]
    password: String,
}

/// The id of something just created.
#[derive(Serialize, ToSchema)]
pub(crate) struct CreatedId {
    /// The new id.
    id: i64,
}

/// An account as its owner sees it.
#[derive(Serialize, ToSchema)]
pub(crate) struct AccountView {
    /// The account id.
    id: i64,
    /// The normalised phone number.
    #[schema(example = "13800138000")]
    phone: String,
    /// The account's role.
    #[schema(example = "collector")]
    role: &'static str,
    /// Creation time, RFC 3339 UTC.
    created_at: String,
    /// The verified identity (masked), or null before real-name verification.
    real_name: Option<super::identity::IdentityResponse>,
}

impl From<&Account> for AccountView {
    fn from(a: &Account) -> AccountView {
        AccountView {
            id: a.id,
            phone: a.phone.as_str().to_owned(),
            role: a.role.as_str(),
            created_at: a.created_at.to_rfc3339_utc(),
            real_name: None,
        }
    }
}

/// Sends a registration code by SMS. The answer does not say whether the
/// number is registered: if it is, the SMS says so and carries no code.
#[utoipa::path(post, path = "/api/v1/accounts/codes", tag = "accounts",
    request_body = CodeRequest,
    responses((status = 202, description = "An SMS is on its way", body = CodeSent), (status = 422, description = "`invalid_phone` or `invalid_body`", body = ErrorBody), (status = 429, description = "`rate_limited`: 20 requests an hour from one address (`accounts.codes_per_ip_per_hour`), 5 codes an hour to one number (`accounts.codes_per_phone_per_hour`)", body = ErrorBody)))]
pub(crate) async fn send_code(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    ApiJson(req): ApiJson<CodeRequest>,
) -> Result<(StatusCode, Json<CodeSent>), ApiError> {
    let phone = Phone::parse(&req.phone)?;
    state.accounts.send_registration_code(&phone, &ip).await?;
    let sent = CodeSent {
        sent: true,
        expires_in_seconds: shucang_platform::accounts::CODE_VALID_MS / 1000,
    };
    Ok((StatusCode::ACCEPTED, Json(sent)))
}

/// Creates a collector account with the SMS code sent to its number.
#[utoipa::path(post, path = "/api/v1/accounts", tag = "accounts",
    request_body = RegisterRequest,
    responses((status = 201, description = "Created", body = CreatedId), (status = 409, description = "`phone_taken` (only when two registrations of one number race)", body = ErrorBody), (status = 422, description = "`invalid_code` (wrong, expired, used up after 5 tries, or never sent — as for a registered number), `invalid_phone`, `weak_password` or `invalid_body`", body = ErrorBody), (status = 429, description = "`rate_limited`: 10 registrations an hour from one address (`accounts.registrations_per_ip_per_hour`)", body = ErrorBody)))]
pub(crate) async fn register(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    ApiJson(req): ApiJson<RegisterRequest>,
) -> Result<(StatusCode, Json<CreatedId>), ApiError> {
    let phone = Phone::parse(&req.phone)?;
    let registration = Registration {
        phone,
        password: req.password,
        role: Role::Collector,
    };
    let id = state
        .accounts
        .register_with_code(registration, &req.code, &ip)
        .await?;
    Ok((StatusCode::CREATED, Json(CreatedId { id })))
}

/// The logged-in account.
#[utoipa::path(get, path = "/api/v1/me", tag = "accounts",
    security(("session" = [])),
    responses((status = 200, description = "The account", body = AccountView), (status = 401, description = "`unauthenticated`", body = ErrorBody)))]
pub(crate) async fn me(
    State(state): State<AppState>,
    auth: Authenticated,
) -> Result<Json<AccountView>, ApiError> {
    let mut view = AccountView::from(&auth.account);
    view.real_name = super::identity::identity_of(&state, auth.account.id).await?;
    Ok(Json(view))
}
