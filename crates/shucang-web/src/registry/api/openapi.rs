//! The registry API's OpenAPI document, generated from the handlers'
//! annotations.

use axum::http::header;
use axum::response::{IntoResponse, Response};

use super::{applications, checkins, filers, publication, review};
use crate::kit::openapi::StandardAnswers;

#[derive(utoipa::OpenApi)]
#[openapi(
    info(title = "shucang filing registry API", description = "区块链信息服务备案管理系统 — filers, applications, review, numbers, publication."),
    paths(crate::routes::health::healthz, filers::register, filers::verify_phone, filers::verify_email, filers::resend_confirmations, filers::login, filers::logout,
        applications::create_draft, applications::mine, applications::application, applications::update_draft,
        applications::upload, applications::download, applications::submit, applications::audit,
        applications::personal_data_views,
        review::queue, review::calendar, review::decide,
        publication::gather, publication::batches, publication::batch, publication::publish, publication::object,
        publication::finalise, publication::batch_csv, publication::search,
        applications::change, applications::cancel, checkins::open, checkins::checkin, checkins::confirm),
    components(schemas(crate::error::ErrorBody, crate::error::ErrorDetail)),
    modifiers(&BearerAuth, &StandardAnswers),
)]
struct RegistryApiDoc;

struct BearerAuth;

impl utoipa::Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

/// The registry's OpenAPI document, as JSON.
pub fn registry_openapi_json() -> String {
    use utoipa::OpenApi as _;
    RegistryApiDoc::openapi()
        .to_json()
        .expect("the OpenAPI document serialises")
}

/// `GET /api/openapi.json`.
pub(super) async fn serve() -> Response {
    (
        [(header::CONTENT_TYPE, "application/json")],
        registry_openapi_json(),
    )
        .into_response()
}
