//! `GET /`: the public search of published filings, and the published
//! batches.

use std::collections::HashMap;

use axum::extract::State;

use crate::kit::api::ApiQuery;
use axum::http::StatusCode;
use axum::response::Response;
use minijinja::{Value, context};
use shucang_registry::RegistryError;

use super::{RegistryPage, filing_state};
use crate::registry::RegistryState;

/// `GET /`: the public search and the published batches.
pub(super) async fn home(
    State(state): State<RegistryState>,
    query: Result<ApiQuery<HashMap<String, String>>, crate::ApiError>,
    c: RegistryPage,
) -> Response {
    let Ok(ApiQuery(q)) = query else {
        return c.failed(&crate::error::InvalidQuery);
    };
    let query = q
        .get("q")
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty());
    let mut error = None;
    let mut results = Vec::new();
    if let Some(text) = &query {
        let _ = state.registry.settle_cancellations_daily().await;
        match state.registry.search_public(text).await {
            Ok(found) => {
                results = found
                    .iter()
                    .map(|n| {
                        context! {
                            entity_name => n.entity_name, service_name => n.service_name,
                            number => n.number, batch => n.batch, state => filing_state(n),
                        }
                    })
                    .collect();
            }
            Err(RegistryError::Invalid { .. }) => error = Some(c.t("search_hint")),
            Err(e) => return c.failed(&e),
        }
    }
    let batches: Vec<Value> = match state.registry.batches(false).await {
        Ok(list) => list
            .iter()
            .map(|b| context! { number => b.number, state => b.state.code(), window_ends => b.window_ends.map(|d| d.to_string()) })
            .collect(),
        Err(e) => return c.failed(&e),
    };
    let status = if error.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    c.render(
        "search.html",
        context! { query, results, batches, error },
        status,
    )
}
