//! The registry's web pages, server-rendered in Simplified Chinese by
//! default (English with `?lang=en` or a browser preferring it), in the
//! platform's style and with the same [`kit`](crate::kit): the public
//! search ([`search`]), registration with the SMS code and login
//! ([`account`]), the filer's applications with the four-step form
//! ([`filer`], [`form`]), the reviewer's queue and decisions ([`review`]),
//! and the publisher's batches and check-ins ([`publication`]). Forms carry
//! the double-submit token; the session is an HttpOnly cookie.

mod account;
mod filer;
mod form;
mod notice;
mod outline;
mod publication;
mod review;
mod search;

use std::marker::PhantomData;
use std::sync::Arc;

use axum::Router;
use axum::extract::{DefaultBodyLimit, FromRequestParts, RawPathParams};
use axum::http::HeaderMap;
use axum::http::request::Parts;
use axum::response::Response;
use axum::routing::{get, post};
use minijinja::{Value, context};
use shucang_registry::{AppState, Application, NumberRecord, RegistryError, User, UserRole};

use super::RegistryState;
use crate::kit::cookies::{Cookie, SameSite};
use crate::kit::i18n::App;
use crate::kit::respond::stylesheet;
use crate::kit::{Admits, Page, Pages, SignedIn, WebApp};

/// The registry's session cookie.
pub const REGISTRY_SESSION_COOKIE: &str = "shucang_registry_session";

/// The session cookie: SameSite=Lax, like the platform's.
const SESSION: Cookie = Cookie::new(REGISTRY_SESSION_COOKIE, SameSite::Lax);

/// A registry page request.
type RegistryPage = Page<RegistryState>;

impl WebApp for RegistryState {
    type User = User;
    const APP: App = App::Registry;
    const SESSION: crate::kit::cookies::Cookie = SESSION;

    fn pages(&self) -> Arc<Pages> {
        self.pages.clone()
    }

    async fn visitor(&self, headers: &HeaderMap) -> Option<User> {
        let token = SESSION.read(headers)?;
        self.registry.authenticate(token).await.ok().flatten()
    }

    fn globals(&self, user: Option<&User>) -> Value {
        context! {
            user => user.map(|u| u.name.clone()),
            role => user.map(|u| u.role.code()),
        }
    }
}

/// A role that alone may open a page.
trait OneRole: Send + Sync + 'static {
    /// The role.
    const ROLE: UserRole;
}

impl<R: OneRole> Admits<RegistryState> for R {
    fn admits(user: &User) -> bool {
        user.role == R::ROLE
    }
}

/// Filers.
struct Filer;

impl OneRole for Filer {
    const ROLE: UserRole = UserRole::Filer;
}

/// Reviewers.
struct Reviewer;

impl OneRole for Reviewer {
    const ROLE: UserRole = UserRole::Reviewer;
}

/// Publishers.
struct Publisher;

impl OneRole for Publisher {
    const ROLE: UserRole = UserRole::Publisher;
}

/// Auditors.
struct Auditor;

impl OneRole for Auditor {
    const ROLE: UserRole = UserRole::Auditor;
}

/// A page request by a signed-in user of role `R`.
type Signed<R> = SignedIn<RegistryState, R>;

/// A page request by a user of role `R` about an application they may see
/// (its id the path's `{id}`). Someone else's application, or a malformed
/// id, is the 404 page.
struct Visible<R> {
    page: RegistryPage,
    user: User,
    app: Application,
    role: PhantomData<R>,
}

impl<R: Admits<RegistryState>> FromRequestParts<RegistryState> for Visible<R> {
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &RegistryState,
    ) -> Result<Self, Response> {
        let SignedIn { page, user, .. } = Signed::<R>::from_request_parts(parts, state).await?;
        let id = RawPathParams::from_request_parts(parts, state)
            .await
            .ok()
            .and_then(|params| {
                params
                    .iter()
                    .find(|(name, _)| *name == "id")
                    .and_then(|(_, id)| id.parse::<i64>().ok())
            });
        let Some(id) = id else {
            return Err(page.not_found());
        };
        match state.registry.application(&user, id).await {
            Ok(app) => Ok(Visible {
                page,
                user,
                app,
                role: PhantomData,
            }),
            Err(RegistryError::NotFound) => Err(page.not_found()),
            Err(e) => Err(page.failed(&e)),
        }
    }
}

/// Every page route of the registry.
pub(super) fn routes() -> Router<RegistryState> {
    let account = || get(account::page).post(account::submit);
    let upload_limit = DefaultBodyLimit::max(super::api::UPLOAD_REQUEST_BYTES_MAX);
    Router::new()
        .route("/static/site.css", get(stylesheet))
        .route("/", get(search::home))
        .route("/login", account())
        .route("/register", account())
        .route("/verify", account())
        .route("/logout", post(account::logout))
        .route("/filer", get(filer::home))
        .route("/filer/applications", post(filer::new_application))
        .route("/filer/confirmations", post(filer::resend_confirmations))
        .route(
            "/filer/applications/{id}/step/{step}",
            get(filer::step_get).post(filer::step_post),
        )
        .route(
            "/filer/applications/{id}/upload",
            post(filer::upload).layer(upload_limit),
        )
        .route(
            "/filer/applications/{id}/change/{step}",
            get(filer::change_get).post(filer::change_post),
        )
        .route("/filer/applications/{id}/cancel", post(filer::cancel))
        .route("/filer/checkins/{id}", post(filer::checkin_confirm))
        .route("/review", get(review::home))
        .route(
            "/review/applications/{id}",
            get(review::application).post(review::decide),
        )
        .route(
            "/review/applications/{id}/attachments/{a}",
            get(review::attachment),
        )
        .route(
            "/publication/batches/{n}",
            get(notice::page).post(notice::object),
        )
        .route("/audit", get(publication::audit))
        .route("/publish", get(publication::home))
        .route("/publish/gather", post(publication::gather))
        .route("/publish/checkins", post(publication::open_checkin))
        .route("/publish/{n}/{action}", post(publication::batch_action))
}

/// A published filing's public state: 审核通过, or 已注销 once its
/// application is cancelled.
pub(crate) fn filing_state(n: &NumberRecord) -> &'static str {
    n.app_state.public_name().unwrap_or("审核通过")
}

/// Whether the filer may edit the application's form.
fn editable(app: &Application) -> bool {
    matches!(app.record.state, AppState::Draft | AppState::Returned)
}
