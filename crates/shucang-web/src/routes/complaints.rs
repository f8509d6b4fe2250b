//! Complaints and reports (投诉举报): the JSON API. (The public form is
//! `pages::complaints`.)

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use serde::{Deserialize, Serialize};
use shucang_platform::{ComplaintRecord, NewComplaint};
use utoipa::ToSchema;

use crate::auth::optional_account;
use crate::error::ErrorBody;
use crate::kit::api::{ApiJson, ClientIp};
use crate::{ApiError, AppState};

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

impl From<ComplaintRecord> for ComplaintView {
    fn from(r: ComplaintRecord) -> ComplaintView {
        ComplaintView {
            ticket: r.ticket,
            category: r.category,
            status: r.status,
            created_at: r.created_at.to_rfc3339_utc(),
        }
    }
}

/// Files a complaint or report (anyone; logged in or with a contact).
#[utoipa::path(post, path = "/api/v1/complaints", tag = "complaints", request_body = ComplaintRequest,
    responses((status = 201, body = ComplaintView), (status = 422, description = "`invalid_field`", body = ErrorBody), (status = 429, description = "`rate_limited` (5 per hour per address)", body = ErrorBody)))]
pub(crate) async fn file(
    State(state): State<AppState>,
    headers: HeaderMap,
    ClientIp(ip): ClientIp,
    ApiJson(req): ApiJson<ComplaintRequest>,
) -> Result<(StatusCode, Json<ComplaintView>), ApiError> {
    let account = optional_account(&state, &headers).await.map(|a| a.id);
    let complaint = NewComplaint {
        category: req.category,
        target: req.target,
        text: req.text,
        contact: req.contact,
    };
    let r = state.complaints.file(complaint, account, &ip).await?;
    Ok((StatusCode::CREATED, Json(ComplaintView::from(r))))
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
    Ok(Json(ComplaintView::from(r)))
}
