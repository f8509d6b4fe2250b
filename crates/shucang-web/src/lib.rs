//! The HTTP face of the platform: axum routers, request parsing, the mapping
//! from domain errors to HTTP answers, and the OpenAPI document.
//!
//! Every answer that is not a success is `{"error":{"code","message"}}`
//! ([`ApiError`]), with a 4xx status for anything the caller did wrong; a 5xx
//! means a bug, whose details go to the log and never to the caller.
//!
//! **Architecture invariant:** this is the only crate that knows JSON and
//! HTML. It parses requests into validated domain values, calls the domain,
//! and renders the outcome; it holds no business rule of its own and never
//! touches storage except through domain services.

mod auth;
mod error;
mod kit;
mod openapi;
pub mod pages;
pub mod proof;
pub mod registry;
mod routes;

use std::sync::Arc;

use axum::Router;
use axum::routing::get;
use shucang_platform::AccountService;

pub use error::ApiError;
pub use kit::csrf::session_form_token;
pub use kit::layers::REQUEST_BODY_MAX_BYTES;
pub use kit::serve::{ClientAddr, SHUTDOWN_GRACE, ServeLimits, serve};
pub use openapi::openapi_json;

/// The name of the session cookie.
pub const SESSION_COOKIE: &str = "shucang_session";

/// What the handlers share.
#[derive(Clone)]
pub struct AppState {
    /// Accounts and sessions.
    pub accounts: Arc<AccountService>,
    /// The embedded chain.
    pub chain: Arc<shucang_chain::Chain>,
    /// Real-name verification and wallets.
    pub identity: Arc<shucang_platform::IdentityService>,
    /// Works and their review.
    pub works: Arc<shucang_platform::WorksService>,
    /// Drops and orders.
    pub drops: Arc<shucang_platform::DropsService>,
    /// Payments and minting.
    pub payments: Arc<shucang_platform::PaymentsService>,
    /// The sandbox payment provider, whose pay page and "complete" routes
    /// answer 404 when this is `None`.
    pub sandbox: Option<Arc<shucang_platform::SandboxProvider>>,
    /// Collections and gifts.
    pub collectibles: Arc<shucang_platform::CollectiblesService>,
    /// Complaint intake.
    pub complaints: Arc<shucang_platform::ComplaintsService>,
    /// This server's own base URL (`http://127.0.0.1:8080`), where the
    /// sandbox provider delivers its callbacks.
    pub self_url: String,
    /// An HTTP client (the sandbox provider's callbacks).
    pub http: reqwest::Client,
    /// Templates and translations.
    pub pages: Arc<pages::Pages>,
    /// What every page footer shows.
    pub site: pages::SiteInfo,
    /// The font for certificate images; `None` when none is configured or
    /// installed, and the PNG is then not offered.
    pub certificate_font: Option<shucang_certificate::LazyFont>,
    /// Only in demo mode (`serve --demo`): the outbox, so that the
    /// registration page can show the sandbox SMS it just queued (no SMS
    /// is really sent). `None` on a real site, where the page never shows
    /// what the SMS says.
    pub demo_outbox: Option<Arc<shucang_notify::Notifier>>,
    /// The application's clock (the explorer's 24-hour chart ends now).
    pub clock: Arc<dyn shucang_types::Clock>,
    /// The witnesses' cosignatures of the latest checkpoint they cosigned.
    pub cosigned: Arc<Cosigned>,
}

/// The latest checkpoint the witnesses cosigned, with their cosignature
/// lines; `GET /api/v1/chain/checkpoint` appends them while the checkpoint
/// is still the chain's latest.
#[derive(Debug, Default)]
pub struct Cosigned {
    latest: std::sync::RwLock<(String, Vec<String>)>,
}

impl Cosigned {
    /// Records the cosignature `lines` of `checkpoint`.
    pub fn set(&self, checkpoint: String, lines: Vec<String>) {
        *self.latest.write().unwrap_or_else(|e| e.into_inner()) = (checkpoint, lines);
    }

    /// `checkpoint` with the cosignatures recorded for it, if any.
    pub fn render(&self, checkpoint: String) -> String {
        let latest = self.latest.read().unwrap_or_else(|e| e.into_inner());
        if latest.0 == checkpoint {
            let mut text = checkpoint;
            latest.1.iter().for_each(|l| text.push_str(l));
            text
        } else {
            checkpoint
        }
    }
}

/// The whole platform application: API, pages, health check, OpenAPI
/// document, with request ids, tracing keyed by route template, a body
/// limit and a panic guard.
pub fn router(state: AppState) -> Router {
    let https = state
        .site
        .public_url
        .as_deref()
        .is_some_and(|u| u.starts_with("https://"));
    let routes = kit::cookies::secure_when(
        https,
        routes::api_routes()
            .merge(pages::routes())
            .route("/api/openapi.json", get(openapi::serve_openapi))
            .fallback(kit::layers::fallback::<AppState>)
            .with_state(state)
            .method_not_allowed_fallback(error::method_not_allowed),
    );
    kit::layers::guarded(routes)
}
