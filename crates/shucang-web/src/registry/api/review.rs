//! The review: the queue (nearest deadline first), the working-day
//! calendar's warning, and decisions.

use serde::Deserialize;
use shucang_registry::{DecisionKind, Reason};
use utoipa::ToSchema;

use super::views::{ApplicationView, CalendarView, QueueEntry};
use super::{AppId, RegUser};
use crate::ApiError;
use crate::error::ErrorBody;
use crate::kit::api::ApiJson;

#[utoipa::path(get, path = "/api/v1/review/queue", tag = "review",
    responses((status = 200, description = "nearest deadline first, with `working_days_left` and `overdue`", body = [QueueEntry]), (status = 403, body = ErrorBody)),
    security(("bearer" = [])))]
pub(super) async fn queue(
    RegUser { state, user }: RegUser,
) -> Result<axum::Json<Vec<QueueEntry>>, ApiError> {
    let apps = state.registry.review_queue(&user).await?;
    Ok(axum::Json(apps.into_iter().map(QueueEntry::from).collect()))
}

/// A reviewer's decision.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct DecisionBody {
    /// `approve`, `reject` or `incomplete`.
    #[schema(value_type = String, pattern = "^(approve|reject|incomplete)$")]
    decision: DecisionKind,
    /// Why (needed to reject or return): text, or `{"field", "reason"}`.
    #[serde(default)]
    reasons: Vec<ReasonBody>,
}

/// A reason: a plain string, or `{"field", "reason"}`.
#[derive(Deserialize, ToSchema)]
#[serde(untagged)]
pub(super) enum ReasonBody {
    Text(String),
    Field(#[serde(deserialize_with = "shucang_registry::strict::object")] FieldReason),
}

/// A reason about one field of the form.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct FieldReason {
    /// The field's path, e.g. `website`.
    field: Option<String>,
    /// What is wrong with it.
    reason: String,
}

#[utoipa::path(post, path = "/api/v1/review/applications/{id}/decision", tag = "review",
    params(("id" = i64, Path)),
    request_body = DecisionBody,
    responses((status = 200, description = "the application decided", body = ApplicationView), (status = 409, description = "`wrong_state`", body = ErrorBody),
        (status = 422, description = "`invalid_decision`", body = ErrorBody), (status = 403, body = ErrorBody)),
    security(("bearer" = [])))]
pub(super) async fn decide(
    RegUser { state, user }: RegUser,
    AppId(id): AppId,
    ApiJson(body): ApiJson<DecisionBody>,
) -> Result<axum::Json<ApplicationView>, ApiError> {
    let reasons = body
        .reasons
        .into_iter()
        .map(|r| match r {
            ReasonBody::Text(reason) => Reason {
                field: None,
                reason,
            },
            ReasonBody::Field(FieldReason { field, reason }) => Reason { field, reason },
        })
        .collect();
    let app = state
        .registry
        .decide(&user, id, body.decision, reasons)
        .await?;
    Ok(axum::Json(ApplicationView::from(app)))
}

#[utoipa::path(get, path = "/api/v1/review/calendar", tag = "review",
    responses((status = 200, description = "the years loaded and what is missing", body = CalendarView), (status = 403, body = ErrorBody)),
    security(("bearer" = [])))]
pub(super) async fn calendar(
    RegUser { state, user }: RegUser,
) -> Result<axum::Json<CalendarView>, ApiError> {
    let missing = state.registry.calendar_warning(&user)?;
    Ok(axum::Json(CalendarView {
        years: state.registry.calendar().years().collect(),
        missing_next_year: missing,
        warning: missing.map(|y| format!(
            "{y} 年节假日安排尚未载入：落在 {y} 年的期限暂按周一至周五计算（due_provisional），载入后自动重算并通知申请人。请用 `shucang registry admin load-holidays` 载入国务院办公厅通知。"
        )),
    }))
}
