//! `GET /healthz`.

use axum::Json;
use serde::Serialize;
use utoipa::ToSchema;

/// The health answer.
#[derive(Serialize, ToSchema)]
pub(crate) struct Health {
    /// Always `ok` while the process serves requests.
    status: &'static str,
}

/// Liveness: answers while the process serves requests. It does not touch
/// the database, so it stays cheap under load.
#[utoipa::path(get, path = "/healthz", tag = "operations",
    responses((status = 200, description = "The server is up", body = Health)))]
pub(crate) async fn healthz() -> Json<Health> {
    Json(Health { status: "ok" })
}
