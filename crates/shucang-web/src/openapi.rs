//! The OpenAPI 3 document, generated from the handlers' annotations.

use axum::http::header::CONTENT_TYPE;
use axum::response::IntoResponse;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use crate::error::{ErrorBody, ErrorDetail};
use crate::kit::openapi::StandardAnswers;
use crate::routes::{
    self, AccountView, CodeRequest, CodeSent, CreatedId, Health, LoginRequest, LoginResponse,
    RegisterRequest,
};

#[derive(OpenApi)]
#[openapi(
    info(title = "shucang platform API", description = "数藏 — compliance-native digital-collectibles platform."),
    paths(
        routes::healthz,
        routes::send_code,
        routes::register,
        routes::me,
        routes::login,
        routes::logout,
        routes::identity::verify_identity,
        routes::works::submit,
        routes::works::list,
        routes::works::review,
        routes::works::public_work,
        routes::works::image,
        routes::works::metadata,
        routes::drops::create,
        routes::drops::list,
        routes::drops::get,
        routes::drops::buy,
        routes::drops::order,
        routes::payments::start,
        routes::payments::pay_page,
        routes::payments::complete,
        routes::payments::notify,
        routes::collectibles::mine,
        routes::collectibles::get,
        routes::collectibles::gift,
        routes::complaints::file,
        routes::complaints::lookup,
        routes::chain::stats,
        routes::chain::blocks,
        routes::chain::block,
        routes::chain::tx,
        routes::chain::proof,
        routes::chain::address,
        routes::chain::token,
        routes::chain::collection,
        routes::chain::checkpoint,
        routes::chain::consistency,
    ),
    components(schemas(crate::proof::ProofBundleJson, ErrorBody, ErrorDetail, Health, CodeRequest, CodeSent, RegisterRequest, CreatedId, AccountView, LoginRequest, LoginResponse)),
    modifiers(&SessionAuth, &StandardAnswers),
)]
struct ApiDoc;

struct SessionAuth;

impl Modify for SessionAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "session",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

/// The OpenAPI document as JSON text.
pub fn openapi_json() -> String {
    ApiDoc::openapi()
        .to_pretty_json()
        .expect("the OpenAPI document always serialises")
}

/// `GET /api/openapi.json`.
pub(crate) async fn serve_openapi() -> impl IntoResponse {
    static DOC: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    let doc = DOC.get_or_init(openapi_json).clone();
    ([(CONTENT_TYPE, "application/json")], doc)
}
