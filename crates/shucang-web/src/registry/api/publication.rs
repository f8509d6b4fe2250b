//! Publication: batches (第N批) gathered, published with their objection
//! window, objections, finalisation, the printable notice and its CSV,
//! and the public search.

use crate::kit::api::ApiQuery;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use shucang_registry::Batch;
use utoipa::ToSchema;

use super::views::{BatchSummary, BatchView, FilingView, ObjectionRecorded, SearchResults};
use super::{RegUser, batch_no, created, is_publisher, optional_user};
use crate::ApiError;
use crate::error::ErrorBody;
use crate::kit::api::ApiJson;
use crate::registry::RegistryState;

#[utoipa::path(post, path = "/api/v1/publication/batches", tag = "publication",
    responses((status = 201, description = "the batch gathered", body = BatchView), (status = 409, description = "`nothing_to_gather`", body = ErrorBody), (status = 403, body = ErrorBody)),
    security(("bearer" = [])))]
pub(super) async fn gather(RegUser { state, user }: RegUser) -> Result<Response, ApiError> {
    let b = state.registry.gather_batch(&user).await?;
    Ok(created(BatchView::from(&b)))
}

#[utoipa::path(get, path = "/api/v1/publication/batches", tag = "publication",
    responses((status = 200, description = "published batches (every batch for a publisher), newest first", body = [BatchSummary])))]
pub(super) async fn batches(
    State(state): State<RegistryState>,
    headers: HeaderMap,
) -> Result<axum::Json<Vec<BatchSummary>>, ApiError> {
    let user = optional_user(&state, &headers).await?;
    let list = state.registry.batches(is_publisher(&user)).await?;
    Ok(axum::Json(list.iter().map(BatchSummary::from).collect()))
}

#[utoipa::path(get, path = "/api/v1/publication/batches/{n}", tag = "publication",
    params(("n" = i64, Path)), responses((status = 200, body = BatchView), (status = 404, description = "`batch_not_found`", body = ErrorBody)))]
pub(super) async fn batch(
    State(state): State<RegistryState>,
    headers: HeaderMap,
    Path(n): Path<String>,
) -> Result<axum::Json<BatchView>, ApiError> {
    let b = visible_batch(&state, &headers, &n).await?;
    Ok(axum::Json(BatchView::from(&b)))
}

#[utoipa::path(post, path = "/api/v1/publication/batches/{n}/publish", tag = "publication",
    params(("n" = i64, Path)), responses((status = 200, description = "published: the objection window runs", body = BatchView), (status = 409, body = ErrorBody), (status = 403, body = ErrorBody)),
    security(("bearer" = [])))]
pub(super) async fn publish(
    RegUser { state, user }: RegUser,
    Path(n): Path<String>,
) -> Result<axum::Json<BatchView>, ApiError> {
    let b = state.registry.publish_batch(&user, batch_no(&n)?).await?;
    Ok(axum::Json(BatchView::from(&b)))
}

/// An objection raised in a batch's window.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct ObjectionBody {
    /// The filing number objected to.
    number: String,
    /// The objection.
    text: String,
    /// How to reach who raised it.
    contact: String,
}

#[utoipa::path(post, path = "/api/v1/publication/batches/{n}/objections", tag = "publication",
    params(("n" = i64, Path)), request_body = ObjectionBody,
    responses((status = 201, description = "recorded", body = ObjectionRecorded), (status = 403, description = "`forbidden`: publishers only", body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
pub(super) async fn object(
    RegUser { state, user }: RegUser,
    Path(n): Path<String>,
    ApiJson(o): ApiJson<ObjectionBody>,
) -> Result<Response, ApiError> {
    let rec = state
        .registry
        .record_objection(&user, batch_no(&n)?, &o.number, &o.text, &o.contact)
        .await?;
    Ok(created(ObjectionRecorded {
        id: rec.id,
        batch: rec.batch,
        number: rec.number,
    }))
}

#[utoipa::path(post, path = "/api/v1/publication/batches/{n}/finalise", tag = "publication",
    params(("n" = i64, Path)), responses((status = 200, description = "final: the filings are in force", body = BatchView), (status = 403, description = "`forbidden`: publishers only", body = ErrorBody), (status = 409, description = "`objection_window_open`, `wrong_state`", body = ErrorBody)),
    security(("bearer" = [])))]
pub(super) async fn finalise(
    RegUser { state, user }: RegUser,
    Path(n): Path<String>,
) -> Result<axum::Json<BatchView>, ApiError> {
    let b = state.registry.finalise_batch(&user, batch_no(&n)?).await?;
    Ok(axum::Json(BatchView::from(&b)))
}

/// Batch `raw` as the caller may see it: any batch for a publisher, the
/// published ones for everyone else.
async fn visible_batch(
    state: &RegistryState,
    headers: &HeaderMap,
    raw: &str,
) -> Result<Batch, ApiError> {
    let n = batch_no(raw)?;
    let user = optional_user(state, headers).await?;
    Ok(if is_publisher(&user) {
        state.registry.batch(n).await?
    } else {
        state.registry.published_batch(n).await?
    })
}

/// One CSV field, quoted when it holds a separator, quote or line break,
/// and defused when a spreadsheet would read it as a formula: a leading
/// `=`, `+`, `-`, `@`, tab or carriage return gets a `'` before it.
pub(crate) fn csv_field(s: &str) -> String {
    let s = if s.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{s}")
    } else {
        s.to_owned()
    };
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s
    }
}

#[utoipa::path(get, path = "/api/v1/publication/batches/{n}/csv", tag = "publication",
    params(("n" = i64, Path)), responses((status = 200, description = "序号,主体名称,服务名称,备案编号", content_type = "text/csv"), (status = 404, body = ErrorBody)))]
pub(super) async fn batch_csv(
    State(state): State<RegistryState>,
    headers: HeaderMap,
    Path(n): Path<String>,
) -> Result<Response, ApiError> {
    let b = visible_batch(&state, &headers, &n).await?;
    let n = b.record.number;
    // A byte-order mark so spreadsheet programs read the UTF-8 as such.
    let mut out = String::from("\u{feff}序号,主体名称,服务名称,备案编号\r\n");
    for (i, e) in b.entries.iter().enumerate() {
        out.push_str(&format!(
            "{},{},{},{}\r\n",
            i + 1,
            csv_field(&e.entity_name),
            csv_field(&e.service_name),
            csv_field(&e.number)
        ));
    }
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"batch-{n}.csv\""),
            ),
        ],
        out,
    )
        .into_response())
}

#[derive(Deserialize)]
pub(super) struct SearchQuery {
    q: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/public/filings", tag = "public",
    params(("q" = String, Query, description = "a complete filing number or part of an entity name")),
    responses((status = 200, description = "the filings found", body = SearchResults), (status = 422, body = ErrorBody)))]
pub(super) async fn search(
    State(state): State<RegistryState>,
    ApiQuery(q): ApiQuery<SearchQuery>,
) -> Result<axum::Json<SearchResults>, ApiError> {
    state.registry.settle_cancellations_daily().await?;
    let found = state
        .registry
        .search_public(q.q.as_deref().unwrap_or(""))
        .await?;
    Ok(axum::Json(SearchResults {
        results: found.iter().map(FilingView::from).collect(),
    }))
}

#[cfg(test)]
mod tests {
    use super::csv_field;

    #[test]
    fn formulas_are_defused_and_separators_quoted() {
        for (raw, cell) in [
            ("=1+1", "'=1+1"),
            ("+86 10", "'+86 10"),
            ("-2", "'-2"),
            ("@SUM(A1)", "'@SUM(A1)"),
            ("\t=1", "'\t=1"),
            ("\r=1", "\"'\r=1\""),
            ("a,b", "\"a,b\""),
            ("say \"hi\"", "\"say \"\"hi\"\"\""),
            (
                "京网信备11010819638968820010号",
                "京网信备11010819638968820010号",
            ),
        ] {
            assert_eq!(csv_field(raw), cell, "{raw:?}");
        }
    }
}
