//! The public complaint form (投诉举报), its answer with the ticket number,
//! and a ticket's status page. (The JSON API is `routes::complaints`.)

use axum::extract::{Path, State};

use crate::kit::api::ApiQuery;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use minijinja::{Value, context};
use serde::Deserialize;
use shucang_platform::NewComplaint;
use shucang_platform::complaints::COMPLAINT_CATEGORIES;

use super::{PlatformPage, china_time};
use crate::AppState;
use crate::auth::optional_account;
use crate::kit::api::ClientIp;
use crate::kit::{Posted, Submission};

/// Longest ticket number looked up, in characters.
const TICKET_CHARS_MAX: usize = 32;

/// The form, with `extra` (the fields typed, an error or the ticket).
fn form_page(c: &PlatformPage, status: StatusCode, extra: Value) -> Response {
    let extra = context! { categories => COMPLAINT_CATEGORIES, ..extra };
    c.render("complaints.html", extra, status)
}

/// `GET /complaints`: the public form.
pub(crate) async fn form(c: PlatformPage) -> Response {
    form_page(&c, StatusCode::OK, context! { form => context! {} })
}

/// The form's fields.
#[derive(Deserialize)]
pub(crate) struct ComplaintForm {
    category: Option<String>,
    target: Option<String>,
    text: Option<String>,
    contact: Option<String>,
}

/// `POST /complaints`: files the form's complaint, or shows the form again
/// with the problem.
pub(crate) async fn submit(
    State(state): State<AppState>,
    headers: HeaderMap,
    ClientIp(ip): ClientIp,
    submission: Submission<AppState, ComplaintForm>,
) -> Result<Response, Response> {
    let typed = |f: &ComplaintForm| context! { category => f.category.clone(), target => f.target.clone(), text => f.text.clone(), contact => f.contact.clone() };
    let Posted { page: c, form: f } = submission.or_again(|c, f, status, error| {
        form_page(c, status, context! { error, form => typed(&f) })
    })?;
    let filled = typed(&f);
    let account = optional_account(&state, &headers).await.map(|a| a.id);
    let complaint = NewComplaint {
        category: f.category.unwrap_or_default(),
        target: f.target.unwrap_or_default(),
        text: f.text.unwrap_or_default(),
        contact: f.contact,
    };
    match state.complaints.file(complaint, account, &ip).await {
        Ok(r) => Ok(form_page(
            &c,
            StatusCode::CREATED,
            context! { ticket => r.ticket, form => context! {} },
        )),
        Err(e) => {
            let (status, error) = c.explain(&e)?;
            Ok(form_page(&c, status, context! { error, form => filled }))
        }
    }
}

/// The lookup form's field.
#[derive(Deserialize)]
pub(crate) struct LookupQuery {
    ticket: Option<String>,
}

/// `GET /complaints/lookup?ticket=`: redirects to the ticket's page.
pub(crate) async fn lookup_form(
    query: Result<ApiQuery<LookupQuery>, crate::ApiError>,
    c: PlatformPage,
) -> Response {
    let Ok(ApiQuery(q)) = query else {
        return c.failed(&crate::error::InvalidQuery);
    };
    let ticket: String = q
        .ticket
        .unwrap_or_default()
        .trim()
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '-')
        .take(TICKET_CHARS_MAX)
        .collect();
    Redirect::to(&format!("/complaints/{ticket}{}", c.q())).into_response()
}

/// `GET /complaints/{ticket}`: a complaint's status page.
pub(crate) async fn status_page(
    State(state): State<AppState>,
    Path(ticket): Path<String>,
    c: PlatformPage,
) -> Result<Response, Response> {
    let r = c.found(state.complaints.lookup(&ticket).await)?;
    let complaint = context! { ticket => r.ticket, category => r.category, status => r.status, time => china_time(r.created_at) };
    Ok(c.render(
        "complaint.html",
        context! { c => complaint },
        StatusCode::OK,
    ))
}
