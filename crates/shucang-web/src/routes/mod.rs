//! The routes, one module per resource.

mod accounts;
pub(crate) mod chain;
pub(crate) mod collectibles;
pub(crate) mod complaints;
pub(crate) mod drops;
mod health;
pub(crate) mod identity;
pub(crate) mod payments;
mod sessions;
pub(crate) mod web_auth;
pub(crate) mod web_me;
pub(crate) mod web_staff;
pub(crate) mod works;

use axum::Router;
use axum::extract::DefaultBodyLimit;
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
        .route("/static/site.css", get(crate::pages::stylesheet))
        .route("/", get(crate::pages::home))
        .route("/login", get(web_auth::login_page).post(web_auth::login))
        .route(
            "/register",
            get(web_auth::register_page).post(web_auth::register),
        )
        .route("/logout", post(web_auth::logout))
        .route(
            "/me/identity",
            get(web_me::identity_page).post(web_me::verify),
        )
        .route("/me/collection", get(web_me::collection))
        .route("/drops/{id}/buy", post(web_me::buy))
        .route("/staff", get(web_staff::index))
        .route("/staff/orders", get(web_staff::orders))
        .route("/staff/works/{id}/image", get(web_staff::work_image))
        .route("/staff/works/{id}/review", post(web_staff::review))
        .route("/staff/drops", post(web_staff::create_drop))
        .route(
            "/collectibles/{collection}/{token_id}/gift",
            post(web_me::gift),
        )
        .route("/orders/{id}", get(web_me::order_page))
        .route("/orders/{id}/pay", post(web_me::pay_order))
        .route("/sandbox/pay/{payment_id}", post(payments::pay_and_show))
        .route("/drops/{id}", get(crate::pages::drop_page))
        .route("/explorer", get(crate::pages::explorer))
        .route(
            "/complaints",
            get(complaints::form).post(complaints::submit),
        )
        .route("/complaints/lookup", get(complaints::lookup_form))
        .route("/complaints/{ticket}", get(complaints::status_page))
        .route("/api/v1/complaints", post(complaints::file))
        .route("/api/v1/complaints/{ticket}", get(complaints::lookup))
        .route(
            "/collectibles/{collection}/{token_id}",
            get(crate::pages::collectible),
        )
        .route(
            "/collectibles/{collection}/{token_id}/certificate",
            get(crate::pages::certificate),
        )
        .route(
            "/collectibles/{collection}/{token_id}/certificate.png",
            get(crate::pages::certificate_png),
        )
        .route("/explorer/search", get(crate::pages::search))
        .route("/explorer/blocks/{height}", get(crate::pages::block))
        .route("/explorer/txs/{hash}", get(crate::pages::tx))
        .route("/explorer/addresses/{address}", get(crate::pages::address))
        .route(
            "/explorer/tokens/{collection}/{token_id}",
            get(crate::pages::token),
        )
        .route(
            "/explorer/collections/{collection}",
            get(crate::pages::collection),
        )
        .route("/api/openapi.json", get(crate::openapi::serve_openapi))
        .route("/api/v1/accounts", post(accounts::register))
        .route("/api/v1/sessions", post(sessions::login))
        .route("/api/v1/sessions/current", delete(sessions::logout))
        .route("/api/v1/me", get(accounts::me))
        .route("/api/v1/me/identity", post(identity::verify_identity))
        .route("/api/v1/me/collectibles", get(collectibles::mine))
        .route(
            "/api/v1/collectibles/{collection}/{token_id}",
            get(collectibles::get),
        )
        .route(
            "/api/v1/collectibles/{collection}/{token_id}/gifts",
            post(collectibles::gift),
        )
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
        .route("/api/v1/chain/stats", get(chain::stats))
        .route("/api/v1/chain/blocks", get(chain::blocks))
        .route("/api/v1/chain/blocks/{id}", get(chain::block))
        .route("/api/v1/chain/txs/{hash}", get(chain::tx))
        .route("/api/v1/chain/txs/{hash}/proof", get(chain::proof))
        .route("/api/v1/chain/addresses/{address}", get(chain::address))
        .route(
            "/api/v1/chain/tokens/{collection}/{token_id}",
            get(chain::token),
        )
        .route(
            "/api/v1/chain/collections/{collection}",
            get(chain::collection),
        )
        .route("/api/v1/chain/checkpoint", get(chain::checkpoint))
        .route("/api/v1/chain/consistency", get(chain::consistency))
}
