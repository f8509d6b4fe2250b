//! Check-ins: a publisher opens a window, filers confirm their filings'
//! information inside it, and the filings that missed it are listed.

use axum::extract::Path;
use axum::response::Response;
use serde::Deserialize;
use shucang_registry::RegistryError;
use utoipa::ToSchema;

use super::views::{CheckinView, Confirmation};
use super::{RegUser, created, path_number};
use crate::ApiError;
use crate::error::ErrorBody;
use crate::kit::api::ApiJson;

/// A check-in window (dates inclusive).
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct CheckinBody {
    /// First day, `YYYY-MM-DD`.
    #[schema(example = "2026-12-01")]
    opens_on: String,
    /// Last day, `YYYY-MM-DD`.
    #[schema(example = "2026-12-31")]
    closes_on: String,
}

#[utoipa::path(post, path = "/api/v1/checkins", tag = "checkins",
    request_body = CheckinBody,
    responses((status = 201, description = "the window opened", body = CheckinView), (status = 422, body = ErrorBody), (status = 403, body = ErrorBody)),
    security(("bearer" = [])))]
pub(super) async fn open(
    RegUser { state, user }: RegUser,
    ApiJson(body): ApiJson<CheckinBody>,
) -> Result<Response, ApiError> {
    let c = state
        .registry
        .open_checkin(&user, &body.opens_on, &body.closes_on)
        .await?;
    Ok(created(CheckinView::from(&c)))
}

#[utoipa::path(get, path = "/api/v1/checkins/{id}", tag = "checkins",
    params(("id" = i64, Path)),
    responses((status = 200, description = "the window, confirmed filings, and the missing ones (missed, once closed)", body = CheckinView),
        (status = 404, description = "`checkin_not_found`", body = ErrorBody)),
    security(("bearer" = [])))]
pub(super) async fn checkin(
    RegUser { state, user }: RegUser,
    Path(id): Path<String>,
) -> Result<axum::Json<CheckinView>, ApiError> {
    let id = path_number(&id, RegistryError::CheckinNotFound)?;
    let c = state.registry.checkin(&user, id).await?;
    Ok(axum::Json(CheckinView::from(&c)))
}

/// A filer's confirmation of a filing's information.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct ConfirmBody {
    /// The filing number.
    number: String,
    /// An optional note, at most 500 characters.
    #[serde(default)]
    note: String,
}

#[utoipa::path(post, path = "/api/v1/checkins/{id}/confirmations", tag = "checkins",
    params(("id" = i64, Path)),
    request_body = ConfirmBody,
    responses((status = 201, description = "confirmed", body = Confirmation), (status = 409, description = "`checkin_closed`, `already_confirmed`, `wrong_state`", body = ErrorBody),
        (status = 404, body = ErrorBody)),
    security(("bearer" = [])))]
pub(super) async fn confirm(
    RegUser { state, user }: RegUser,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<ConfirmBody>,
) -> Result<Response, ApiError> {
    let id = path_number(&id, RegistryError::CheckinNotFound)?;
    let c = state
        .registry
        .confirm_checkin(&user, id, &body.number, &body.note)
        .await?;
    Ok(created(Confirmation {
        checkin: c.checkin_id,
        application_id: c.application_id,
        at: c.at.to_rfc3339_utc(),
    }))
}
