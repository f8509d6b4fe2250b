//! A batch's public notice (公示), printable: the objection window, the
//! filings, and — while the window is open — a form through which anyone
//! raises an objection, which reaches the reviewers and publishers.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use minijinja::context;
use shucang_registry::{Batch, BatchState, RegistryError};

use super::RegistryPage;
use super::form::Fields;
use crate::kit::Posted;
use crate::kit::api::ClientIp;
use crate::registry::RegistryState;

/// `GET /publication/batches/{n}`: the notice.
pub(super) async fn page(
    State(state): State<RegistryState>,
    Path(n): Path<String>,
    c: RegistryPage,
) -> Response {
    match published(&state, &n).await {
        Ok(b) => render(&c, &b, None, None, StatusCode::OK),
        Err(e) => refused(&c, &e),
    }
}

/// `POST /publication/batches/{n}`: an objection from the public.
pub(super) async fn object(
    State(state): State<RegistryState>,
    Path(n): Path<String>,
    ClientIp(ip): ClientIp,
    Posted { page: c, form: f }: Posted<RegistryState, Fields>,
) -> Response {
    let b = match published(&state, &n).await {
        Ok(b) => b,
        Err(e) => return refused(&c, &e),
    };
    let get = |k: &str| f.get(k).map_or("", String::as_str);
    match state
        .registry
        .raise_objection(
            b.record.number,
            get("number"),
            get("text"),
            get("contact"),
            &ip,
        )
        .await
    {
        Ok(_) => {
            let done = c.t("objection_received").to_owned();
            render(&c, &b, Some(done), None, StatusCode::OK)
        }
        Err(e) => match c.explain(&e) {
            // The form again, as it was typed, with what to change.
            Ok((status, error)) => render(&c, &b, None, Some((error, &f)), status),
            Err(response) => response,
        },
    }
}

/// The published batch `raw` names.
async fn published(state: &RegistryState, raw: &str) -> Result<Batch, RegistryError> {
    match raw.parse::<i64>() {
        Ok(n) if n > 0 => state.registry.published_batch(n).await,
        _ => Err(RegistryError::BatchNotFound),
    }
}

/// The 404 page for an unknown batch; another error's page.
fn refused(c: &RegistryPage, e: &RegistryError) -> Response {
    match e {
        RegistryError::BatchNotFound => c.not_found(),
        e => c.failed(e),
    }
}

/// The notice, with what the objection form answered.
fn render(
    c: &RegistryPage,
    b: &Batch,
    done: Option<String>,
    error: Option<(String, &Fields)>,
    status: StatusCode,
) -> Response {
    let open = b.record.state == BatchState::Objection;
    let entries: Vec<_> = b
        .entries
        .iter()
        .enumerate()
        .map(|(i, e)| context! { seq => i + 1, entity => e.entity_name, service => e.service_name, number => e.number })
        .collect();
    let (error, typed) = match error {
        Some((text, f)) => (
            Some(text),
            Some(context! {
                number => f.get("number"), text => f.get("text"), contact => f.get("contact"),
            }),
        ),
        None => (None, None),
    };
    c.render(
        "notice.html",
        context! {
            n => b.record.number, open, entries, done, error, typed,
            window_ends => b.record.window_ends.map(|d| d.to_string()),
        },
        status,
    )
}
