//! The filing registry's web face (`shucang registry serve`): its JSON API
//! ([`api`]: filers, applications, uploads, submission, review, decisions,
//! changes, cancellations, check-ins, publication, the public search and
//! the OpenAPI document) and its pages ([`pages`]), made with the same
//! [`kit`](crate::kit) and behind the same layers as the platform.

mod api;
mod pages;

use std::sync::Arc;

use axum::Router;
use shucang_registry::Registry;

use crate::kit::Pages;
use crate::kit::layers::{fallback, guarded};

pub use api::registry_openapi_json;
pub use pages::REGISTRY_SESSION_COOKIE;

/// What the registry's handlers share.
#[derive(Clone)]
pub struct RegistryState {
    /// The registry.
    pub registry: Arc<Registry>,
    /// Templates and translations of the pages.
    pub(crate) pages: Arc<Pages>,
}

impl RegistryState {
    /// The state for `registry`, with the compiled page templates.
    pub fn new(registry: Arc<Registry>) -> RegistryState {
        RegistryState {
            registry,
            pages: Arc::new(Pages::new()),
        }
    }
}

/// The registry application: API, pages and health check, with the same
/// layers (request ids, tracing, body limit, panic guard) as the platform.
pub fn registry_router(state: RegistryState) -> Router {
    let https = state.registry.base_url().starts_with("https://");
    guarded(crate::kit::cookies::secure_when(
        https,
        api::routes()
            .merge(pages::routes())
            .fallback(fallback::<RegistryState>)
            .with_state(state)
            .method_not_allowed_fallback(crate::error::method_not_allowed),
    ))
}
