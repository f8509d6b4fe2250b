//! The staff console: the works review queue (reviewers) and creating drops
//! (system administrators). Every action checks the role on the server.

use axum::extract::{Form, Path, State};
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE, LOCATION};
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use minijinja::context;
use serde::Deserialize;
use shucang_platform::{Decision, DropDraft, DropError, OrderStatus, WorkError, WorkStatus};
use shucang_types::{Role, UnixMillis};

use crate::pages::{PageCtx, page_ctx, render_with};
use crate::{ApiError, AppState};

fn to_login(uri: &Uri) -> Response {
    let to = if uri.query().is_some_and(|q| q.contains("lang=en")) {
        "/login?lang=en"
    } else {
        "/login"
    };
    (
        StatusCode::SEE_OTHER,
        [(LOCATION, HeaderValue::from_static(to))],
    )
        .into_response()
}

fn is_staff(role: Role) -> bool {
    matches!(role, Role::Reviewer | Role::SystemAdmin)
}

async fn console(
    state: &AppState,
    c: &PageCtx,
    notice: Option<&str>,
    error: Option<&str>,
    detail: Option<String>,
    status: StatusCode,
) -> Response {
    let Some(role) = c.role.filter(|r| is_staff(*r)) else {
        return render_with(
            state,
            c,
            "staff.html",
            context! { forbidden => true },
            StatusCode::FORBIDDEN,
        );
    };
    let queue = match state
        .works
        .list(role, Some(WorkStatus::PendingReview), 100)
        .await
    {
        Ok(q) => q,
        Err(e) => return ApiError::from(e).into_page_response(),
    };
    let approved = match state
        .works
        .list(role, Some(WorkStatus::Approved), 200)
        .await
    {
        Ok(a) => a,
        Err(e) => return ApiError::from(e).into_page_response(),
    };
    let row = |w: &shucang_platform::WorkRecord| {
        context! {
            id => w.id, title => w.work.title.clone(), issuer => w.work.issuer.clone(),
            description => w.work.description.clone(), edition_size => w.work.edition_size, flags => w.work.flags.clone(),
        }
    };
    let extra = context! {
        can_review => role == Role::Reviewer,
        can_drop => role == Role::SystemAdmin,
        queue => queue.iter().map(row).collect::<Vec<_>>(),
        approved => approved.iter().map(row).collect::<Vec<_>>(),
        notice => notice, error => error, detail => detail,
    };
    render_with(state, c, "staff.html", extra, status)
}

/// `GET /staff`.
pub(crate) async fn index(State(state): State<AppState>, uri: Uri, headers: HeaderMap) -> Response {
    let c = page_ctx(&state, &uri, &headers).await;
    if c.account_id.is_none() {
        return to_login(&uri);
    }
    console(&state, &c, None, None, None, StatusCode::OK).await
}

/// `GET /staff/orders?status=`: the orders overview — counts by status and
/// the latest 100 orders, optionally one status only. Any staff role.
pub(crate) async fn orders(
    State(state): State<AppState>,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    let c = page_ctx(&state, &uri, &headers).await;
    if c.account_id.is_none() {
        return to_login(&uri);
    }
    if !c.role.is_some_and(is_staff) {
        let extra = context! { forbidden => true };
        return render_with(
            &state,
            &c,
            "staff_orders.html",
            extra,
            StatusCode::FORBIDDEN,
        );
    }
    let wanted = uri
        .query()
        .unwrap_or("")
        .split('&')
        .find_map(|kv| kv.strip_prefix("status="))
        .filter(|s| !s.is_empty());
    let status = match wanted.map(OrderStatus::from_code) {
        None => None,
        Some(Some(s)) => Some(s),
        Some(None) => {
            let extra = context! { error => "invalid_status" };
            return render_with(
                &state,
                &c,
                "staff_orders.html",
                extra,
                StatusCode::BAD_REQUEST,
            );
        }
    };
    let (orders, counts) =
        match tokio::try_join!(state.drops.orders(status, 100), state.drops.order_counts()) {
            Ok(found) => found,
            Err(e) => return ApiError::from(e).into_page_response(),
        };
    let mut titles = std::collections::BTreeMap::new();
    for o in &orders {
        if let std::collections::btree_map::Entry::Vacant(slot) = titles.entry(o.drop_id) {
            let title = match state.drops.drop_by_id(o.drop_id).await {
                Ok(d) => d.map(|d| d.drop.title).unwrap_or_default(),
                Err(e) => return ApiError::from(e).into_page_response(),
            };
            slot.insert(title);
        }
    }
    let rows: Vec<minijinja::Value> = orders
        .iter()
        .map(|o| {
            let editions: Vec<String> = o.editions.iter().map(|e| format!("#{e}")).collect();
            context! {
                id => o.id, drop_id => o.drop_id, drop_title => titles.get(&o.drop_id).cloned(),
                account_id => o.account_id, quantity => o.quantity, amount => o.amount.to_string(),
                status => o.status.code(), created => crate::pages::china_time(o.created_at),
                editions => editions.join(" "),
            }
        })
        .collect();
    let all = [
        OrderStatus::Reserved,
        OrderStatus::Paid,
        OrderStatus::Minted,
        OrderStatus::Expired,
    ];
    let total: u64 = counts.iter().map(|(_, n)| n).sum();
    let counts: Vec<minijinja::Value> = all
        .iter()
        .map(|s| {
            let n = counts.iter().find(|(k, _)| k == s).map_or(0, |(_, n)| *n);
            context! { status => s.code(), count => n }
        })
        .collect();
    let extra = context! {
        orders => rows, counts => counts, total => total, selected => status.map(OrderStatus::code),
    };
    render_with(&state, &c, "staff_orders.html", extra, StatusCode::OK)
}

/// `GET /staff/works/{id}/image`: any work's image, for staff (pending ones
/// are not public).
pub(crate) async fn work_image(
    State(state): State<AppState>,
    Path(id): Path<String>,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    let c = page_ctx(&state, &uri, &headers).await;
    if !c.role.is_some_and(is_staff) {
        return (StatusCode::FORBIDDEN, "forbidden").into_response();
    }
    let work = match id.parse::<i64>() {
        Ok(id) => state.works.work(id).await,
        Err(_) => Ok(None),
    };
    match work.and_then(|w| match w {
        Some(w) => state.works.image(&w),
        None => Ok(None),
    }) {
        Ok(Some((bytes, kind))) => (
            [
                (CONTENT_TYPE, kind.mime()),
                (CACHE_CONTROL, "private, max-age=3600"),
            ],
            bytes,
        )
            .into_response(),
        Ok(None) => (StatusCode::NOT_FOUND, "not found").into_response(),
        Err(e) => ApiError::from(e).into_page_response(),
    }
}

/// The review form's fields.
#[derive(Deserialize)]
pub(crate) struct ReviewForm {
    csrf: Option<String>,
    decision: Option<String>,
    reason: Option<String>,
}

/// `POST /staff/works/{id}/review`.
pub(crate) async fn review(
    State(state): State<AppState>,
    Path(id): Path<String>,
    uri: Uri,
    headers: HeaderMap,
    Form(f): Form<ReviewForm>,
) -> Response {
    let c = page_ctx(&state, &uri, &headers).await;
    let (Some(account_id), Some(role)) = (c.account_id, c.role) else {
        return to_login(&uri);
    };
    if !crate::forms::csrf_ok(&headers, f.csrf.as_deref()) {
        return console(
            &state,
            &c,
            None,
            Some("form_expired"),
            None,
            StatusCode::FORBIDDEN,
        )
        .await;
    }
    let decision = match f.decision.as_deref() {
        Some("approve") => Decision::Approve,
        _ => Decision::Reject {
            reason: f.reason.unwrap_or_default(),
        },
    };
    let Ok(id) = id.parse::<i64>() else {
        return console(
            &state,
            &c,
            None,
            Some("not_found"),
            None,
            StatusCode::NOT_FOUND,
        )
        .await;
    };
    match state.works.review(role, account_id, id, decision).await {
        Ok(_) => console(&state, &c, Some("reviewed"), None, None, StatusCode::OK).await,
        Err(WorkError::Forbidden) => render_with(
            &state,
            &c,
            "staff.html",
            context! { forbidden => true },
            StatusCode::FORBIDDEN,
        ),
        Err(WorkError::NotFound) => {
            console(
                &state,
                &c,
                None,
                Some("not_found"),
                None,
                StatusCode::NOT_FOUND,
            )
            .await
        }
        Err(WorkError::AlreadyReviewed) => {
            console(
                &state,
                &c,
                None,
                Some("work_already_reviewed"),
                None,
                StatusCode::CONFLICT,
            )
            .await
        }
        Err(WorkError::InvalidField(m)) => {
            console(
                &state,
                &c,
                None,
                Some("invalid_field"),
                Some(m),
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        Err(e) => ApiError::from(e).into_page_response(),
    }
}

/// The drop form's fields.
#[derive(Deserialize)]
pub(crate) struct DropForm {
    csrf: Option<String>,
    work_id: Option<String>,
    title: Option<String>,
    price: Option<String>,
    supply: Option<String>,
    per_user_limit: Option<String>,
    starts_at: Option<String>,
    ends_at: Option<String>,
}

/// Yuan with up to two decimals (`9.9`, `9.90`, `10`) to fen.
fn yuan_to_fen(s: &str) -> Option<i64> {
    let s = s.trim();
    let (whole, frac) = s.split_once('.').unwrap_or((s, ""));
    if whole.is_empty()
        || whole.len() > 9
        || frac.len() > 2
        || !whole
            .bytes()
            .chain(frac.bytes())
            .all(|b| b.is_ascii_digit())
    {
        return None;
    }
    let frac = format!("{frac:0<2}");
    Some(whole.parse::<i64>().ok()? * 100 + frac.parse::<i64>().ok()?)
}

/// A `datetime-local` value in Beijing time.
fn beijing(s: &str) -> Option<UnixMillis> {
    let s = s.trim();
    match s.len() {
        16 => UnixMillis::parse_rfc3339(&format!("{s}:00+08:00")),
        19 => UnixMillis::parse_rfc3339(&format!("{s}+08:00")),
        _ => None,
    }
}

/// `POST /staff/drops`.
pub(crate) async fn create_drop(
    State(state): State<AppState>,
    uri: Uri,
    headers: HeaderMap,
    Form(f): Form<DropForm>,
) -> Response {
    let c = page_ctx(&state, &uri, &headers).await;
    let (Some(account_id), Some(role)) = (c.account_id, c.role) else {
        return to_login(&uri);
    };
    if !crate::forms::csrf_ok(&headers, f.csrf.as_deref()) {
        return console(
            &state,
            &c,
            None,
            Some("form_expired"),
            None,
            StatusCode::FORBIDDEN,
        )
        .await;
    }
    let bad = |what: &str| Some(what.to_owned());
    let parsed = (|| {
        Some(DropDraft {
            work_id: f.work_id.as_deref()?.parse().ok()?,
            title: f.title.clone()?,
            price_fen: yuan_to_fen(f.price.as_deref()?)?,
            supply: f.supply.as_deref()?.trim().parse().ok()?,
            starts_at: beijing(f.starts_at.as_deref()?)?,
            ends_at: beijing(f.ends_at.as_deref()?)?,
            per_user_limit: f.per_user_limit.as_deref()?.trim().parse().ok()?,
        })
    })();
    let Some(draft) = parsed else {
        return console(
            &state,
            &c,
            None,
            Some("invalid_field"),
            bad("price, supply, limit or times"),
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    };
    match state.drops.create(role, account_id, draft).await {
        Ok(_) => console(&state, &c, Some("created"), None, None, StatusCode::CREATED).await,
        Err(DropError::Forbidden) => render_with(
            &state,
            &c,
            "staff.html",
            context! { forbidden => true },
            StatusCode::FORBIDDEN,
        ),
        Err(DropError::InvalidField(m)) => {
            console(
                &state,
                &c,
                None,
                Some("invalid_field"),
                Some(m),
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        Err(DropError::WorkNotApproved) => {
            console(
                &state,
                &c,
                None,
                Some("work_not_approved"),
                None,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        Err(DropError::EditionsExhausted) => {
            console(
                &state,
                &c,
                None,
                Some("editions_exhausted"),
                None,
                StatusCode::CONFLICT,
            )
            .await
        }
        Err(e) => ApiError::from(e).into_page_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn yuan_and_beijing_time() {
        assert_eq!(yuan_to_fen("9.9"), Some(990));
        assert_eq!(yuan_to_fen("9.90"), Some(990));
        assert_eq!(yuan_to_fen("10"), Some(1000));
        assert_eq!(yuan_to_fen("0.05"), Some(5));
        for bad in ["", ".5", "9.999", "-1", "1e3", "九"] {
            assert_eq!(yuan_to_fen(bad), None, "{bad}");
        }
        assert_eq!(
            beijing("2026-12-01T20:00"),
            UnixMillis::parse_rfc3339("2026-12-01T12:00:00Z")
        );
        assert_eq!(
            beijing("2026-12-01T20:00:30"),
            UnixMillis::parse_rfc3339("2026-12-01T12:00:30Z")
        );
        assert_eq!(beijing("tomorrow"), None);
    }
}
