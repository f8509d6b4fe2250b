//! The publisher's pages: the batches (gather, publish, record an
//! objection, finalise) and the check-in windows with who confirmed and
//! who has not.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use minijinja::{Value, context};
use serde::de::IgnoredAny;
use shucang_registry::{RegistryError, User};

use super::form::Fields;
use super::{Auditor, Publisher, RegistryPage, Signed};
use crate::kit::Posted;
use crate::registry::RegistryState;

/// A publisher's form: the page, the user and the fields.
type PublisherForm<F> = (Signed<Publisher>, Posted<RegistryState, F>);

/// `GET /audit`: for auditors, who saw personal data unmasked (newest
/// first): reviewers opening applications and their documents.
pub(super) async fn audit(
    State(state): State<RegistryState>,
    Signed { page: c, user, .. }: Signed<Auditor>,
) -> Response {
    let limit = shucang_registry::PERSONAL_DATA_VIEWS_PAGE_MAX;
    let views = match state.registry.personal_data_views(&user, None, limit).await {
        Ok(views) => views,
        Err(e) => return c.failed(&e),
    };
    let rows: Vec<Value> = views
        .iter()
        .map(|r| {
            let document = r.view.item.strip_prefix("attachment ");
            context! {
                at => china_minute(r.view.at), name => r.user_name, role => r.user_role.code(),
                application => r.view.application_id, document,
            }
        })
        .collect();
    c.render("audit.html", context! { rows }, StatusCode::OK)
}

/// A time as Beijing time to the minute: `2026-12-02 18:05`.
fn china_minute(at: shucang_types::UnixMillis) -> String {
    let shifted = shucang_types::UnixMillis(at.0 + 8 * 3_600_000).to_rfc3339_utc();
    shifted.get(..16).unwrap_or_default().replace('T', " ")
}

/// `GET /publish`.
pub(super) async fn home(
    State(state): State<RegistryState>,
    Signed { page: c, user, .. }: Signed<Publisher>,
) -> Response {
    page(&state, &c, &user, None, StatusCode::OK).await
}

/// The batches and check-ins, with an error of the last action.
async fn page(
    state: &RegistryState,
    c: &RegistryPage,
    user: &User,
    error: Option<String>,
    status: StatusCode,
) -> Response {
    let list = match state.registry.batches(true).await {
        Ok(list) => list,
        Err(e) => return c.failed(&e),
    };
    let batches: Vec<Value> = list
        .iter()
        .map(|b| context! { number => b.number, state => b.state.code(), window_ends => b.window_ends.map(|d| d.to_string()) })
        .collect();
    // Every check-in window with who confirmed and who has not.
    let mut checkins = Vec::new();
    for w in state.registry.checkins(user).await.unwrap_or_default() {
        if let Ok(full) = state.registry.checkin(user, w.id).await {
            let missing: Vec<Value> = full
                .missing
                .iter()
                .map(|m| context! { entity => m.entity_name, numbers => m.numbers })
                .collect();
            checkins.push(context! {
                opens_on => full.record.opens_on.to_string(), closes_on => full.record.closes_on.to_string(),
                closed => full.closed, confirmed => full.confirmed.len(), missing,
            });
        }
    }
    c.render(
        "publish.html",
        context! { batches, checkins, error },
        status,
    )
}

/// Back to the publisher's page after an action: the list, or the list
/// with what went wrong.
async fn after<T>(
    state: &RegistryState,
    c: &RegistryPage,
    user: &User,
    done: Result<T, RegistryError>,
) -> Response {
    match done {
        Ok(_) => c.redirect("/publish"),
        Err(e) => match c.explain(&e) {
            Ok((status, error)) => page(state, c, user, Some(error), status).await,
            Err(response) => response,
        },
    }
}

/// A batch number in a path (`None`: the 404 page).
fn batch_no(raw: &str) -> Option<i64> {
    raw.parse().ok()
}

/// `POST /publish/gather`.
pub(super) async fn gather(
    State(state): State<RegistryState>,
    (publisher, Posted { page: c, .. }): PublisherForm<IgnoredAny>,
) -> Response {
    let done = state.registry.gather_batch(&publisher.user).await;
    after(&state, &c, &publisher.user, done).await
}

/// `POST /publish/{n}/publish`, `/publish/{n}/finalise`, and
/// `/publish/{n}/objection` (records an objection to a filing of it).
pub(super) async fn batch_action(
    State(state): State<RegistryState>,
    Path((n, action)): Path<(String, String)>,
    (publisher, Posted { page: c, form: f }): PublisherForm<Fields>,
) -> Response {
    let Some(n) = batch_no(&n) else {
        return c.not_found();
    };
    let (registry, user) = (&state.registry, &publisher.user);
    let get = |n: &str| f.get(n).map_or("", String::as_str);
    let done = match action.as_str() {
        "publish" => registry.publish_batch(user, n).await.map(|_| ()),
        "finalise" => registry.finalise_batch(user, n).await.map(|_| ()),
        "objection" => registry
            .record_objection(user, n, get("number"), get("text"), get("contact"))
            .await
            .map(|_| ()),
        _ => return c.not_found(),
    };
    after(&state, &c, user, done).await
}

/// `POST /publish/checkins`: opens a check-in window.
pub(super) async fn open_checkin(
    State(state): State<RegistryState>,
    (publisher, Posted { page: c, form: f }): PublisherForm<Fields>,
) -> Response {
    let get = |n: &str| f.get(n).map_or("", String::as_str);
    let done = state
        .registry
        .open_checkin(&publisher.user, get("opens_on"), get("closes_on"))
        .await;
    after(&state, &c, &publisher.user, done).await
}
