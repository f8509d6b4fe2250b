//! Complaints and reports (投诉举报): the JSON API and the public form.
//!
//! The form is protected against cross-site submission by a double-submit
//! token: the page sets an HttpOnly, SameSite=Strict cookie and puts the
//! same random value in a hidden field; a submission must carry both, equal.

use axum::Json;
use axum::extract::{Form, Path, Query, State};
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use minijinja::context;
use serde::{Deserialize, Serialize};
use shucang_platform::complaints::COMPLAINT_CATEGORIES;
use shucang_platform::{ComplaintError, NewComplaint, SessionToken};
use utoipa::ToSchema;

use crate::auth::ClientIp;
use crate::error::ErrorBody;
use crate::extract::ApiJson;
use crate::{ApiError, AppState};

impl From<ComplaintError> for ApiError {
    fn from(e: ComplaintError) -> ApiError {
        match &e {
            ComplaintError::InvalidField(_) => ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_field",
                e.to_string(),
            ),
            ComplaintError::RateLimited => {
                ApiError::new(StatusCode::TOO_MANY_REQUESTS, "rate_limited", e.to_string())
            }
            ComplaintError::Store(_) => ApiError::internal(&e),
        }
    }
}

/// The logged-in account's id, if the request carries a valid session.
async fn optional_account(state: &AppState, headers: &HeaderMap) -> Option<i64> {
    let token = crate::auth::token_from_headers(headers)?;
    state
        .accounts
        .authenticate(&SessionToken::from_client(token.expose()))
        .await
        .ok()
        .flatten()
        .map(|a| a.id)
}

/// A complaint.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ComplaintRequest {
    /// `infringement`, `illegal_content`, `fraud`, `personal_information` or `other`.
    category: String,
    /// What it is about (a collectible, work, account or page address).
    target: String,
    /// The complaint, 10–2000 characters.
    text: String,
    /// How to reach the complainant; required when not logged in.
    contact: Option<String>,
}

/// A received complaint.
#[derive(Serialize, ToSchema)]
pub(crate) struct ComplaintView {
    /// Keep it to look the complaint up.
    ticket: String,
    category: String,
    /// `received` until handled.
    status: String,
    created_at: String,
}

/// Files a complaint or report (anyone; logged in or with a contact).
#[utoipa::path(post, path = "/api/v1/complaints", tag = "complaints", request_body = ComplaintRequest,
    responses(
        (status = 201, body = ComplaintView),
        (status = 422, description = "`invalid_field`", body = ErrorBody),
        (status = 429, description = "`rate_limited` (5 per hour per address)", body = ErrorBody),
    ))]
pub(crate) async fn file(
    State(state): State<AppState>,
    headers: HeaderMap,
    ClientIp(ip): ClientIp,
    ApiJson(req): ApiJson<ComplaintRequest>,
) -> Result<(StatusCode, Json<ComplaintView>), ApiError> {
    let account = optional_account(&state, &headers).await;
    let complaint = NewComplaint {
        category: req.category,
        target: req.target,
        text: req.text,
        contact: req.contact,
    };
    let r = state.complaints.file(complaint, account, &ip).await?;
    Ok((
        StatusCode::CREATED,
        Json(ComplaintView {
            ticket: r.ticket,
            category: r.category,
            status: r.status,
            created_at: r.created_at.to_rfc3339_utc(),
        }),
    ))
}

/// A complaint's handling status, by ticket number.
#[utoipa::path(get, path = "/api/v1/complaints/{ticket}", tag = "complaints", params(("ticket" = String, Path)),
    responses((status = 200, body = ComplaintView), (status = 404, body = ErrorBody)))]
pub(crate) async fn lookup(
    State(state): State<AppState>,
    Path(ticket): Path<String>,
) -> Result<Json<ComplaintView>, ApiError> {
    let r = state
        .complaints
        .lookup(&ticket)
        .await?
        .ok_or_else(|| ApiError::new(StatusCode::NOT_FOUND, "not_found", "no such ticket"))?;
    Ok(Json(ComplaintView {
        ticket: r.ticket,
        category: r.category,
        status: r.status,
        created_at: r.created_at.to_rfc3339_utc(),
    }))
}

async fn form_page(
    state: &AppState,
    uri: &Uri,
    headers: &HeaderMap,
    status: StatusCode,
    extra: minijinja::Value,
) -> Response {
    let extra = context! { categories => COMPLAINT_CATEGORIES, ..extra };
    crate::pages::render_page(state, uri, headers, "complaints.html", extra, status).await
}

/// `GET /complaints`: the public form.
pub(crate) async fn form(State(state): State<AppState>, uri: Uri, headers: HeaderMap) -> Response {
    form_page(
        &state,
        &uri,
        &headers,
        StatusCode::OK,
        context! { form => context! {} },
    )
    .await
}

/// The form's fields.
#[derive(Deserialize)]
pub(crate) struct ComplaintForm {
    csrf: Option<String>,
    category: Option<String>,
    target: Option<String>,
    text: Option<String>,
    contact: Option<String>,
}

/// `POST /complaints`: files the form's complaint, or shows the form again
/// with the problem.
pub(crate) async fn submit(
    State(state): State<AppState>,
    uri: Uri,
    headers: HeaderMap,
    ClientIp(ip): ClientIp,
    Form(f): Form<ComplaintForm>,
) -> Response {
    let filled = context! { category => f.category.clone(), target => f.target.clone(), text => f.text.clone(), contact => f.contact.clone() };
    let token_ok = crate::forms::csrf_ok(&headers, f.csrf.as_deref());
    if !token_ok {
        return form_page(
            &state,
            &uri,
            &headers,
            StatusCode::FORBIDDEN,
            context! { error => "form_expired", form => filled },
        )
        .await;
    }
    let account = optional_account(&state, &headers).await;
    let complaint = NewComplaint {
        category: f.category.unwrap_or_default(),
        target: f.target.unwrap_or_default(),
        text: f.text.unwrap_or_default(),
        contact: f.contact,
    };
    match state.complaints.file(complaint, account, &ip).await {
        Ok(r) => {
            form_page(
                &state,
                &uri,
                &headers,
                StatusCode::CREATED,
                context! { ticket => r.ticket, form => context! {} },
            )
            .await
        }
        Err(ComplaintError::RateLimited) => {
            form_page(
                &state,
                &uri,
                &headers,
                StatusCode::TOO_MANY_REQUESTS,
                context! { error => "rate_limited", form => filled },
            )
            .await
        }
        Err(ComplaintError::InvalidField(message)) => {
            let error = ["category", "target", "text", "contact"]
                .into_iter()
                .find(|f| message.starts_with(*f) || message.contains(&format!("{f} ")))
                .map_or("invalid_text", |f| match f {
                    "category" => "invalid_category",
                    "target" => "invalid_target",
                    "contact" => "invalid_contact",
                    _ => "invalid_text",
                });
            form_page(
                &state,
                &uri,
                &headers,
                StatusCode::UNPROCESSABLE_ENTITY,
                context! { error => error, form => filled },
            )
            .await
        }
        Err(e) => ApiError::from(e).into_response(),
    }
}

/// The lookup form's field.
#[derive(Deserialize)]
pub(crate) struct LookupQuery {
    ticket: Option<String>,
    lang: Option<String>,
}

/// `GET /complaints/lookup?ticket=`: redirects to the ticket's page.
pub(crate) async fn lookup_form(Query(q): Query<LookupQuery>) -> Response {
    let ticket = q.ticket.unwrap_or_default();
    let ticket: String = ticket
        .trim()
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '-')
        .take(32)
        .collect();
    let suffix = if q.lang.as_deref() == Some("en") {
        "?lang=en"
    } else {
        ""
    };
    axum::response::Redirect::to(&format!("/complaints/{ticket}{suffix}")).into_response()
}

/// `GET /complaints/{ticket}`: a complaint's status page.
pub(crate) async fn status_page(
    State(state): State<AppState>,
    Path(ticket): Path<String>,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    match state.complaints.lookup(&ticket).await {
        Ok(Some(r)) => {
            let time = r.created_at.plus_ms(8 * 3_600_000).to_rfc3339_utc();
            let c = context! { ticket => r.ticket, category => r.category, status => r.status, time => format!("{} {}", &time[..10], &time[11..19]) };
            crate::pages::render_page(
                &state,
                &uri,
                &headers,
                "complaint.html",
                context! { c => c },
                StatusCode::OK,
            )
            .await
        }
        Ok(None) => crate::pages::html_not_found(&state, &uri, &headers).await,
        Err(e) => ApiError::from(e).into_response(),
    }
}
