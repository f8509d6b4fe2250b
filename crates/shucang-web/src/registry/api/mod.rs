//! The registry's JSON API. Same conventions as the platform: JSON under
//! `/api/v1`, `{"error":{"code","message"}}` errors with 4xx for caller
//! mistakes (an incomplete application adds its `problems`), bearer
//! tokens, `/healthz`.

mod applications;
mod checkins;
mod filers;
mod openapi;
mod publication;
mod review;
mod views;

use axum::Router;
use axum::extract::{DefaultBodyLimit, FromRequestParts, RawPathParams};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use serde::Serialize;
use shucang_registry::{RegistryError, User, UserRole};

use super::RegistryState;
use crate::ApiError;
use crate::kit::cookies::authorization;

pub use openapi::registry_openapi_json;

/// 201 with `body` as JSON.
fn created(body: impl Serialize) -> Response {
    (StatusCode::CREATED, axum::Json(body)).into_response()
}

/// Largest upload request: a document and the form's other fields.
pub(super) const UPLOAD_REQUEST_BYTES_MAX: usize = shucang_registry::UPLOAD_BYTES_MAX + 64 * 1024;

/// Every API route of the registry.
pub(super) fn routes() -> Router<RegistryState> {
    let upload_limit = DefaultBodyLimit::max(UPLOAD_REQUEST_BYTES_MAX);
    Router::new()
        .route("/healthz", get(crate::routes::health::healthz))
        .route("/api/openapi.json", get(openapi::serve))
        .route("/api/v1/filers", post(filers::register))
        .route("/api/v1/filers/verify-phone", post(filers::verify_phone))
        .route(
            "/api/v1/filers/confirmations",
            post(filers::resend_confirmations),
        )
        .route("/filers/verify-email", get(filers::verify_email))
        .route("/api/v1/sessions", post(filers::login))
        .route("/api/v1/sessions/current", delete(filers::logout))
        .route(
            "/api/v1/applications",
            post(applications::create_draft).get(applications::mine),
        )
        .route(
            "/api/v1/applications/{id}",
            get(applications::application).put(applications::update_draft),
        )
        .route(
            "/api/v1/applications/{id}/attachments",
            post(applications::upload).layer(upload_limit),
        )
        .route(
            "/api/v1/applications/{id}/attachments/{attachment}",
            get(applications::download),
        )
        .route(
            "/api/v1/applications/{id}/submit",
            post(applications::submit),
        )
        .route("/api/v1/applications/{id}/audit", get(applications::audit))
        .route(
            "/api/v1/audit/personal-data-views",
            get(applications::personal_data_views),
        )
        .route(
            "/api/v1/filings/{number}/changes",
            post(applications::change),
        )
        .route(
            "/api/v1/filings/{number}/cancellation",
            post(applications::cancel),
        )
        .route("/api/v1/review/queue", get(review::queue))
        .route("/api/v1/review/calendar", get(review::calendar))
        .route(
            "/api/v1/review/applications/{id}/decision",
            post(review::decide),
        )
        .route(
            "/api/v1/publication/batches",
            post(publication::gather).get(publication::batches),
        )
        .route("/api/v1/publication/batches/{n}", get(publication::batch))
        .route(
            "/api/v1/publication/batches/{n}/publish",
            post(publication::publish),
        )
        .route(
            "/api/v1/publication/batches/{n}/objections",
            post(publication::object),
        )
        .route(
            "/api/v1/publication/batches/{n}/finalise",
            post(publication::finalise),
        )
        .route(
            "/api/v1/publication/batches/{n}/csv",
            get(publication::batch_csv),
        )
        .route("/api/v1/public/filings", get(publication::search))
        .route("/api/v1/checkins", post(checkins::open))
        .route("/api/v1/checkins/{id}", get(checkins::checkin))
        .route(
            "/api/v1/checkins/{id}/confirmations",
            post(checkins::confirm),
        )
}

/// A call by a logged-in registry user (bearer token), with the state.
pub(super) struct RegUser {
    state: RegistryState,
    user: User,
}

impl FromRequestParts<RegistryState> for RegUser {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &RegistryState,
    ) -> Result<Self, Self::Rejection> {
        let user = optional_user(state, &parts.headers)
            .await?
            .ok_or_else(ApiError::unauthenticated)?;
        Ok(RegUser {
            state: state.clone(),
            user,
        })
    }
}

/// The application a path's `{id}` names (404 `application_not_found`
/// when it is not an id).
pub(super) struct AppId(i64);

impl FromRequestParts<RegistryState> for AppId {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &RegistryState,
    ) -> Result<Self, Self::Rejection> {
        let params = RawPathParams::from_request_parts(parts, state).await.ok();
        let raw = params
            .as_ref()
            .and_then(|p| p.iter().find(|(name, _)| *name == "id").map(|(_, v)| v));
        path_number(raw.unwrap_or(""), RegistryError::NotFound).map(AppId)
    }
}

/// The bearer token a request carries.
fn bearer(headers: &HeaderMap) -> Option<&str> {
    authorization(headers).flatten()
}

/// The user behind a bearer token, when one is sent.
async fn optional_user(
    state: &RegistryState,
    headers: &HeaderMap,
) -> Result<Option<User>, ApiError> {
    match bearer(headers) {
        Some(token) => Ok(state.registry.authenticate(token).await?),
        None => Ok(None),
    }
}

/// Whether the caller is a publisher (who also sees unpublished batches).
fn is_publisher(user: &Option<User>) -> bool {
    user.as_ref().is_some_and(|u| u.role == UserRole::Publisher)
}

/// A positive number of a path, or `missing` (the 404 of what it names).
fn path_number(raw: &str, missing: RegistryError) -> Result<i64, ApiError> {
    raw.parse::<i64>()
        .ok()
        .filter(|n| *n > 0)
        .ok_or_else(|| ApiError::from(missing))
}

/// An application's id in a path (404 `application_not_found` when it is
/// not one).
fn app_id(raw: &str) -> Result<i64, ApiError> {
    path_number(raw, RegistryError::NotFound)
}

/// A batch's number in a path (404 `batch_not_found` when it is not one).
fn batch_no(raw: &str) -> Result<i64, ApiError> {
    path_number(raw, RegistryError::BatchNotFound)
}
