//! The platform's JSON API, one module per resource (plus the health check
//! and the sandbox provider's pay page).

mod accounts;
pub(crate) mod chain;
pub(crate) mod collectibles;
pub(crate) mod complaints;
pub(crate) mod drops;
pub(crate) mod health;
pub(crate) mod identity;
pub(crate) mod payments;
mod sessions;
pub(crate) mod works;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{delete, get, post};

use crate::AppState;

pub(crate) use accounts::{AccountView, CodeRequest, CodeSent, CreatedId, RegisterRequest};
pub(crate) use health::Health;
pub(crate) use sessions::{LoginRequest, LoginResponse};

#[allow(unused_imports)] // the paths are read by the `OpenApi` derive
pub(crate) use accounts::{__path_me, __path_register, __path_send_code};
#[allow(unused_imports)]
pub(crate) use health::__path_healthz;
#[allow(unused_imports)]
pub(crate) use sessions::{__path_login, __path_logout};

/// Every API route of the platform.
pub(crate) fn api_routes() -> Router<AppState> {
    let collectible = "/api/v1/collectibles/{collection}/{token_id}";
    Router::new()
        .route("/healthz", get(health::healthz))
        .route("/sandbox/pay/{payment_id}", post(payments::pay_and_show))
        .route("/api/v1/complaints", post(complaints::file))
        .route("/api/v1/complaints/{ticket}", get(complaints::lookup))
        .route("/api/v1/accounts", post(accounts::register))
        .route("/api/v1/accounts/codes", post(accounts::send_code))
        .route("/api/v1/sessions", post(sessions::login))
        .route("/api/v1/sessions/current", delete(sessions::logout))
        .route("/api/v1/me", get(accounts::me))
        .route("/api/v1/me/identity", post(identity::verify_identity))
        .route("/api/v1/me/collectibles", get(collectibles::mine))
        .route(collectible, get(collectibles::get))
        .route(&format!("{collectible}/gifts"), post(collectibles::gift))
        .route(
            "/api/v1/admin/works",
            post(works::submit)
                .layer(DefaultBodyLimit::max(works::WORK_UPLOAD_BYTES_MAX))
                .get(works::list),
        )
        .route("/api/v1/admin/works/{id}/review", post(works::review))
        .route("/api/v1/admin/drops", post(drops::create))
        .route("/api/v1/drops", get(drops::list))
        .route("/api/v1/drops/{id}", get(drops::get))
        .route("/api/v1/drops/{id}/orders", post(drops::buy))
        .route("/api/v1/orders/{id}", get(drops::order))
        .route("/api/v1/orders/{id}/payments", post(payments::start))
        .route(
            "/api/v1/sandbox/payments/{payment_id}",
            get(payments::pay_page),
        )
        .route(
            "/api/v1/sandbox/payments/{payment_id}/complete",
            post(payments::complete),
        )
        .route("/api/v1/payments/notify", post(payments::notify))
        .route("/api/v1/works/{id}", get(works::public_work))
        .route("/api/v1/works/{id}/image", get(works::image))
        .route("/api/v1/works/{id}/metadata", get(works::metadata))
        .merge(chain::routes())
}
