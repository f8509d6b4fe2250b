//! The routes, one module per resource.

mod accounts;
mod health;
mod sessions;

use axum::Router;
use axum::routing::{delete, get, post};

use crate::AppState;

pub(crate) use accounts::{AccountView, CreatedId, RegisterRequest};
pub(crate) use health::Health;
pub(crate) use sessions::{LoginRequest, LoginResponse};

#[allow(unused_imports)] // the paths are read by the `OpenApi` derive
pub(crate) use accounts::{__path_me, __path_register};
#[allow(unused_imports)]
pub(crate) use health::__path_healthz;
#[allow(unused_imports)]
pub(crate) use sessions::{__path_login, __path_logout};

/// Every route of the platform application.
pub(crate) fn api_routes() -> Router<AppState> {
    Router::new()
        .route("/healthz", get(health::healthz))
        .route("/api/openapi.json", get(crate::openapi::serve_openapi))
        .route("/api/v1/accounts", post(accounts::register))
        .route("/api/v1/sessions", post(sessions::login))
        .route("/api/v1/sessions/current", delete(sessions::logout))
        .route("/api/v1/me", get(accounts::me))
}
