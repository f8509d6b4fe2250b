//! Drops and orders: `/api/v1/admin/drops` (create), `/api/v1/drops`
//! (public), `POST /api/v1/drops/{id}/orders` (buy) and
//! `GET /api/v1/orders/{id}` (the buyer's own order).

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use serde::{Deserialize, Serialize};
use shucang_platform::{DropDraft, DropRecord, OrderRecord};
use shucang_types::UnixMillis;
use utoipa::ToSchema;

use crate::auth::Authenticated;
use crate::error::ErrorBody;
use crate::kit::api::{ApiJson, positive_id};
use crate::{ApiError, AppState};

/// Most drops listed.
const DROPS_PAGE_MAX: u32 = 100;

fn parse_time(s: &str, field: &str) -> Result<UnixMillis, ApiError> {
    UnixMillis::parse_rfc3339(s).ok_or_else(|| {
        ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_field",
            format!("{field} is an RFC 3339 time with an offset, e.g. 2026-12-01T20:00:00+08:00"),
        )
    })
}

/// A new drop (first come, first served).
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct DropRequest {
    /// An approved work.
    work_id: i64,
    /// The name buyers see.
    #[schema(example = "飞天 · 首发")]
    title: String,
    /// Price of one edition in fen (RMB), e.g. 990 for ¥9.90.
    price_fen: i64,
    /// Editions on sale.
    supply: u64,
    /// RFC 3339 with offset.
    #[schema(example = "2026-12-01T20:00:00+08:00")]
    starts_at: String,
    /// RFC 3339 with offset.
    ends_at: String,
    /// Editions one account may buy.
    per_user_limit: u32,
}

/// A drop as buyers see it.
#[derive(Serialize, ToSchema)]
pub(crate) struct DropView {
    id: i64,
    work_id: i64,
    title: String,
    /// In fen.
    price_fen: u64,
    /// `¥9.90`.
    price: String,
    supply: u64,
    /// Editions not reserved or sold.
    remaining: u64,
    per_user_limit: u32,
    starts_at: String,
    ends_at: String,
    /// `upcoming`, `on_sale`, `sold_out` or `ended`.
    status: &'static str,
    /// Mode of sale; only `first_come` in this version.
    mode: &'static str,
}

fn drop_view(state: &AppState, d: &DropRecord) -> DropView {
    DropView {
        id: d.id,
        work_id: d.drop.work_id,
        title: d.drop.title.clone(),
        price_fen: d.drop.price.get(),
        price: d.drop.price.to_string(),
        supply: d.drop.supply,
        remaining: d.drop.supply.saturating_sub(d.sold),
        per_user_limit: d.drop.per_user_limit,
        starts_at: d.drop.starts_at.to_rfc3339_utc(),
        ends_at: d.drop.ends_at.to_rfc3339_utc(),
        status: state.drops.phase(d).code(),
        mode: "first_come",
    }
}

/// Creates a drop (system administrators).
#[utoipa::path(post, path = "/api/v1/admin/drops", tag = "drops", request_body = DropRequest,
    security(("session" = [])),
    responses((status = 201, body = DropView), (status = 403, body = ErrorBody), (status = 409, description = "`editions_exhausted`", body = ErrorBody), (status = 422, description = "`invalid_field`, `work_not_approved`", body = ErrorBody)))]
pub(crate) async fn create(
    State(state): State<AppState>,
    auth: Authenticated,
    ApiJson(req): ApiJson<DropRequest>,
) -> Result<(StatusCode, Json<DropView>), ApiError> {
    let draft = DropDraft {
        work_id: req.work_id,
        title: req.title,
        price_fen: req.price_fen,
        supply: req.supply,
        starts_at: parse_time(&req.starts_at, "starts_at")?,
        ends_at: parse_time(&req.ends_at, "ends_at")?,
        per_user_limit: req.per_user_limit,
    };
    let drop = state
        .drops
        .create(auth.account.role, auth.account.id, draft)
        .await?;
    Ok((StatusCode::CREATED, Json(drop_view(&state, &drop))))
}

/// Drops, newest start first.
#[utoipa::path(get, path = "/api/v1/drops", tag = "drops", responses((status = 200, body = [DropView])))]
pub(crate) async fn list(State(state): State<AppState>) -> Result<Json<Vec<DropView>>, ApiError> {
    let drops = state.drops.list(DROPS_PAGE_MAX).await?;
    Ok(Json(drops.iter().map(|d| drop_view(&state, d)).collect()))
}

/// One drop, with its remaining supply and status.
#[utoipa::path(get, path = "/api/v1/drops/{id}", tag = "drops", params(("id" = i64, Path)),
    responses((status = 200, body = DropView), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub(crate) async fn get(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<DropView>, ApiError> {
    let id = positive_id(&id, "a drop id")?;
    let drop = state
        .drops
        .drop_by_id(id)
        .await?
        .ok_or_else(|| ApiError::new(StatusCode::NOT_FOUND, "not_found", "no such drop"))?;
    Ok(Json(drop_view(&state, &drop)))
}

/// A purchase.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct OrderRequest {
    /// Editions to buy (1–100, within the drop's per-account limit).
    quantity: u32,
}

/// An order.
#[derive(Serialize, ToSchema)]
pub(crate) struct OrderView {
    order_id: i64,
    drop_id: i64,
    /// `reserved`, `paid`, `minted` or `expired`.
    status: &'static str,
    quantity: u32,
    amount_fen: u64,
    /// `¥19.80`.
    amount: String,
    created_at: String,
    /// Unpaid reservations lapse at this time.
    expires_at: String,
    /// Edition numbers held by the order.
    editions: Vec<u64>,
}

impl From<&OrderRecord> for OrderView {
    fn from(o: &OrderRecord) -> OrderView {
        OrderView {
            order_id: o.id,
            drop_id: o.drop_id,
            status: o.status.code(),
            quantity: o.quantity,
            amount_fen: o.amount.get(),
            amount: o.amount.to_string(),
            created_at: o.created_at.to_rfc3339_utc(),
            expires_at: o.expires_at.to_rfc3339_utc(),
            editions: o.editions.clone(),
        }
    }
}

/// Buys editions in a drop. Send an `Idempotency-Key` header: retrying with
/// the same key and body returns the first answer; the same key with another
/// body is refused.
#[utoipa::path(post, path = "/api/v1/drops/{id}/orders", tag = "drops",
    params(("id" = i64, Path), ("Idempotency-Key" = String, Header, description = "1–128 visible ASCII characters")),
    request_body = OrderRequest,
    security(("session" = [])),
    responses((status = 201, description = "Editions reserved (or the first answer again)", body = OrderView), (status = 400, description = "`invalid_idempotency_key`", body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, description = "`identity_required`, `minor_not_allowed`", body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, description = "`drop_not_open`, `sold_out`, `purchase_limit_reached`", body = ErrorBody), (status = 422, description = "`invalid_quantity`, `idempotency_key_reused`, `invalid_body`", body = ErrorBody)))]
pub(crate) async fn buy(
    State(state): State<AppState>,
    auth: Authenticated,
    Path(id): Path<String>,
    headers: HeaderMap,
    ApiJson(req): ApiJson<OrderRequest>,
) -> Result<(StatusCode, Json<OrderView>), ApiError> {
    let drop_id = positive_id(&id, "a drop id")?;
    let key = headers
        .get("idempotency-key")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let (order, _replayed) = state
        .drops
        .purchase(auth.account.id, drop_id, req.quantity, key)
        .await?;
    Ok((StatusCode::CREATED, Json(OrderView::from(&order))))
}

/// The caller's own order (anyone else's is 404).
#[utoipa::path(get, path = "/api/v1/orders/{id}", tag = "drops", params(("id" = i64, Path)),
    security(("session" = [])),
    responses((status = 200, body = OrderView), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub(crate) async fn order(
    State(state): State<AppState>,
    auth: Authenticated,
    Path(id): Path<String>,
) -> Result<Json<OrderView>, ApiError> {
    let id = positive_id(&id, "an order id")?;
    let order = state
        .drops
        .order(auth.account.id, id)
        .await?
        .ok_or_else(|| ApiError::new(StatusCode::NOT_FOUND, "not_found", "no such order"))?;
    Ok(Json(OrderView::from(&order)))
}
