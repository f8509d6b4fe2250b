//! Filers: registration, the SMS code, the e-mail link (a small page),
//! and the sessions of every registry user.

use axum::extract::State;

use crate::kit::api::ApiQuery;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use minijinja::context;
use serde::Deserialize;
use shucang_registry::{Person, RegistryError};
use utoipa::ToSchema;

use super::views::{PhoneVerified, Registered, SessionView, Unconfirmed};
use super::{RegUser, bearer, created};
use crate::ApiError;
use crate::error::ErrorBody;
use crate::kit::Page;
use crate::kit::api::{ApiJson, ClientIp};
use crate::registry::RegistryState;

/// A filer's registration.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct Registration {
    /// The real name, 2 to 50 characters.
    #[schema(example = "张三")]
    name: String,
    /// Mainland mobile number.
    #[schema(example = "13912345678")]
    phone: String,
    /// E-mail address.
    #[schema(example = "zhang@example.cn")]
    email: String,
    /// At least 8 characters, 3 of 4 classes, not containing the phone number.
    password: String,
}

#[utoipa::path(post, path = "/api/v1/filers", tag = "filers",
    request_body = Registration,
    responses((status = 201, description = "registered: an SMS code and an e-mail link are queued; the same answer for a number registered already, whose owner is told by SMS", body = Registered),
        (status = 422, description = "`invalid_name`, `invalid_phone`, `invalid_email`, `weak_password`", body = ErrorBody),
        (status = 429, description = "`rate_limited`: 5 registrations an hour from one address, 3 naming one e-mail address", body = ErrorBody)))]
pub(super) async fn register(
    State(state): State<RegistryState>,
    ClientIp(ip): ClientIp,
    ApiJson(r): ApiJson<Registration>,
) -> Result<Response, ApiError> {
    let person = Person {
        name: &r.name,
        phone: &r.phone,
        email: &r.email,
        password: &r.password,
    };
    // The same answer whether or not the number was registered already
    // (its owner is told by SMS), so it tells a stranger nothing.
    state.registry.register_filer(&person, &ip).await?;
    Ok(created(Registered {
        phone_verified: false,
        email_verified: false,
        next: "confirm the mobile with the SMS code (POST /api/v1/filers/verify-phone) and open the e-mail link",
    }))
}

/// The SMS code for a number.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct PhoneCode {
    /// The mobile number registered.
    phone: String,
    /// The 6-digit code from the SMS.
    #[schema(example = "123456")]
    code: String,
}

#[utoipa::path(post, path = "/api/v1/filers/verify-phone", tag = "filers",
    request_body = PhoneCode,
    responses((status = 200, body = PhoneVerified), (status = 400, description = "`verification_failed`", body = ErrorBody)))]
pub(super) async fn verify_phone(
    State(state): State<RegistryState>,
    ApiJson(p): ApiJson<PhoneCode>,
) -> Result<axum::Json<PhoneVerified>, ApiError> {
    state.registry.verify_phone(&p.phone, &p.code).await?;
    Ok(axum::Json(PhoneVerified {
        phone_verified: true,
    }))
}

#[derive(Deserialize)]
pub(super) struct TokenQuery {
    token: Option<String>,
}

/// The e-mail link, opened in a browser: a page either way, in the
/// registry's style and the browser's language.
#[utoipa::path(get, path = "/filers/verify-email", tag = "filers",
    params(("token" = String, Query, description = "from the e-mail link")),
    responses((status = 200, description = "a page: confirmed", content_type = "text/html"), (status = 400, description = "a page: wrong, used or expired, with what to do", content_type = "text/html")))]
pub(super) async fn verify_email(
    State(state): State<RegistryState>,
    c: Page<RegistryState>,
    query: Result<ApiQuery<TokenQuery>, ApiError>,
) -> Response {
    let token = query.ok().and_then(|ApiQuery(q)| q.token);
    match state
        .registry
        .verify_email(token.as_deref().unwrap_or(""))
        .await
    {
        Ok(_) => {
            let message = c.t("email_confirmed").to_owned();
            let next_text = c.t("nav_filer").to_owned();
            let next_href = format!("/filer{}", c.q());
            c.render(
                "message.html",
                context! { message, ok => true, next_href, next_text },
                StatusCode::OK,
            )
        }
        Err(RegistryError::VerificationFailed) => {
            let message = c.t("email_link_invalid").to_owned();
            let next_text = c.t("nav_login").to_owned();
            let next_href = format!("/login{}", c.q());
            c.render(
                "message.html",
                context! { message, next_href, next_text },
                StatusCode::BAD_REQUEST,
            )
        }
        Err(e) => c.failed(&e),
    }
}

/// What is still to confirm after the code and link were sent again.
#[utoipa::path(post, path = "/api/v1/filers/confirmations", tag = "filers",
    responses((status = 202, description = "a new SMS code and/or e-mail link sent for what is unconfirmed (nothing when both are confirmed)", body = Unconfirmed),
        (status = 429, description = "`rate_limited`: 3 times an hour", body = ErrorBody)),
    security(("bearer" = [])))]
pub(super) async fn resend_confirmations(
    RegUser { state, user }: RegUser,
) -> Result<Response, ApiError> {
    let (phone, email) = state.registry.resend_confirmations(&user).await?;
    let body = Unconfirmed {
        phone_verified: !phone,
        email_verified: !email,
    };
    Ok((StatusCode::ACCEPTED, axum::Json(body)).into_response())
}

/// A login.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct Login {
    /// The mobile number.
    phone: String,
    /// The password.
    password: String,
}

#[utoipa::path(post, path = "/api/v1/sessions", tag = "filers",
    request_body = Login,
    responses((status = 201, description = "a session", body = SessionView),
        (status = 401, description = "`invalid_credentials`", body = ErrorBody), (status = 423, description = "`account_locked`", body = ErrorBody)))]
pub(super) async fn login(
    State(state): State<RegistryState>,
    ApiJson(l): ApiJson<Login>,
) -> Result<Response, ApiError> {
    let session = state.registry.login(&l.phone, &l.password).await?;
    Ok(created(SessionView {
        token: session.token,
        role: session.user.role.code(),
        name: session.user.name,
        phone_verified: session.user.phone_verified,
        email_verified: session.user.email_verified,
    }))
}

#[utoipa::path(delete, path = "/api/v1/sessions/current", tag = "filers",
    responses((status = 204), (status = 401, body = ErrorBody)), security(("bearer" = [])))]
pub(super) async fn logout(
    headers: HeaderMap,
    RegUser { state, .. }: RegUser,
) -> Result<StatusCode, ApiError> {
    if let Some(token) = bearer(&headers) {
        state.registry.logout(token).await?;
    }
    Ok(StatusCode::NO_CONTENT)
}
