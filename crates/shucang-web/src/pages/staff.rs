//! The staff console: the works review queue (reviewers), creating drops
//! (system administrators) and the orders overview (any staff role). Every
//! action checks the role on the server: the pages admit staff only, and
//! the domain checks each action's own role.

use std::collections::BTreeMap;
use std::collections::btree_map::Entry;

use axum::extract::{Path, State};
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use axum::http::{StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use minijinja::{Value, context};
use serde::Deserialize;
use shucang_platform::{
    Account, Decision, DropDraft, DropError, OrderStatus, WorkError, WorkRecord, WorkStatus,
};
use shucang_types::{Role, UnixMillis};

use super::{PlatformPage, StaffPage, china_time, is_staff};
use crate::AppState;
use crate::error::{DomainError, failure_page};
use crate::kit::{Posted, Submission};

/// Works in the review queue, at most.
const QUEUE_WORKS_MAX: u32 = 100;
/// Approved works offered for a new drop, at most.
const APPROVED_WORKS_MAX: u32 = 200;
/// Orders in the overview, at most.
const ORDERS_MAX: u32 = 100;

/// What the console says above its sections.
enum Said {
    /// Nothing.
    Nothing,
    /// A notice (`staff_<key>`).
    Notice(&'static str),
    /// An error, translated.
    Error(String),
}

/// The console for `account`: the review queue for reviewers, the drop
/// form for system administrators.
async fn console(
    state: &AppState,
    c: &PlatformPage,
    account: &Account,
    said: Said,
    status: StatusCode,
) -> Response {
    let role = account.role;
    let works = tokio::try_join!(
        state
            .works
            .list(role, Some(WorkStatus::PendingReview), QUEUE_WORKS_MAX),
        state
            .works
            .list(role, Some(WorkStatus::Approved), APPROVED_WORKS_MAX),
    );
    let (queue, approved) = match works {
        Ok(found) => found,
        Err(e) => return c.failed(&e),
    };
    let row = |w: &WorkRecord| {
        context! {
            id => w.id, title => w.work.title.clone(), issuer => w.work.issuer.clone(),
            description => w.work.description.clone(), edition_size => w.work.edition_size, flags => w.work.flags.clone(),
        }
    };
    let (notice, error) = match said {
        Said::Nothing => (None, None),
        Said::Notice(key) => (Some(key), None),
        Said::Error(text) => (None, Some(text)),
    };
    let extra = context! {
        can_review => role == Role::Reviewer,
        can_drop => role == Role::SystemAdmin,
        queue => queue.iter().map(row).collect::<Vec<_>>(),
        approved => approved.iter().map(row).collect::<Vec<_>>(),
        notice, error,
    };
    c.render("staff.html", extra, status)
}

/// The console after an action: its notice, or what went wrong.
async fn after<E: DomainError>(
    state: &AppState,
    c: &PlatformPage,
    account: &Account,
    done: Result<&'static str, E>,
    status: StatusCode,
) -> Response {
    match done {
        Ok(notice) => console(state, c, account, Said::Notice(notice), status).await,
        Err(e) => match c.explain(&e) {
            Ok((status, text)) => console(state, c, account, Said::Error(text), status).await,
            Err(response) => response,
        },
    }
}

/// The submitted form, or — when it came without the browser's token —
/// the console again: nothing done, the message, 403, and a fresh token
/// for the next try.
async fn fresh<F>(
    state: &AppState,
    account: &Account,
    submission: Submission<AppState, F>,
) -> Result<Posted<AppState, F>, Response> {
    match submission {
        Submission::Fresh(posted) => Ok(posted),
        Submission::Expired(Posted { page: c, .. }) => {
            let (status, text) = c.expired();
            Err(console(state, &c, account, Said::Error(text), status).await)
        }
    }
}

/// `GET /staff`.
pub(crate) async fn index(
    State(state): State<AppState>,
    StaffPage { page: c, user, .. }: StaffPage,
) -> Response {
    console(&state, &c, &user, Said::Nothing, StatusCode::OK).await
}

/// `GET /staff/orders?status=`: the orders overview — counts by status and
/// the latest 100 orders, optionally one status only. Any staff role.
pub(crate) async fn orders(
    State(state): State<AppState>,
    uri: Uri,
    StaffPage { page: c, .. }: StaffPage,
) -> Response {
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
            let error = c.t("error_invalid_status");
            return c.render(
                "staff_orders.html",
                context! { error },
                StatusCode::BAD_REQUEST,
            );
        }
    };
    let overview = tokio::try_join!(
        state.drops.orders(status, ORDERS_MAX),
        state.drops.order_counts()
    );
    let (orders, counts) = match overview {
        Ok(found) => found,
        Err(e) => return c.failed(&e),
    };
    let mut titles = BTreeMap::new();
    for o in &orders {
        if let Entry::Vacant(slot) = titles.entry(o.drop_id) {
            match state.drops.drop_by_id(o.drop_id).await {
                Ok(d) => slot.insert(d.map(|d| d.drop.title).unwrap_or_default()),
                Err(e) => return c.failed(&e),
            };
        }
    }
    let rows: Vec<Value> = orders
        .iter()
        .map(|o| {
            let editions: Vec<String> = o.editions.iter().map(|e| format!("#{e}")).collect();
            context! {
                id => o.id, drop_id => o.drop_id, drop_title => titles.get(&o.drop_id).cloned(),
                account_id => o.account_id, quantity => o.quantity, amount => o.amount.to_string(),
                status => o.status.code(), created => china_time(o.created_at),
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
    let counts: Vec<Value> = all
        .iter()
        .map(|s| {
            let n = counts.iter().find(|(k, _)| k == s).map_or(0, |(_, n)| *n);
            context! { status => s.code(), count => n }
        })
        .collect();
    let extra = context! {
        orders => rows, counts, total, selected => status.map(OrderStatus::code),
    };
    c.render("staff_orders.html", extra, StatusCode::OK)
}

/// `GET /staff/works/{id}/image`: any work's image, for staff (pending ones
/// are not public).
pub(crate) async fn work_image(
    State(state): State<AppState>,
    Path(id): Path<String>,
    c: PlatformPage,
) -> Response {
    if !c.user.as_ref().is_some_and(|a| is_staff(a.role)) {
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
        Err(e) => failure_page(&e),
    }
}

/// The review form's fields.
#[derive(Deserialize)]
pub(crate) struct ReviewForm {
    decision: Option<String>,
    reason: Option<String>,
}

/// `POST /staff/works/{id}/review`.
pub(crate) async fn review(
    State(state): State<AppState>,
    Path(id): Path<String>,
    staff: StaffPage,
    submission: Submission<AppState, ReviewForm>,
) -> Result<Response, Response> {
    let account = &staff.user;
    let Posted { page: c, form: f } = fresh(&state, account, submission).await?;
    let decision = match f.decision.as_deref() {
        Some("approve") => Decision::Approve,
        _ => Decision::Reject {
            reason: f.reason.unwrap_or_default(),
        },
    };
    let done = match id.parse::<i64>() {
        Ok(id) => state
            .works
            .review(account.role, account.id, id, decision)
            .await
            .map(|_| "reviewed"),
        Err(_) => Err(WorkError::NotFound),
    };
    Ok(after(&state, &c, account, done, StatusCode::OK).await)
}

/// The drop form's fields.
#[derive(Deserialize)]
pub(crate) struct DropForm {
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
    staff: StaffPage,
    submission: Submission<AppState, DropForm>,
) -> Result<Response, Response> {
    let account = &staff.user;
    let Posted { page: c, form: f } = fresh(&state, account, submission).await?;
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
    let done = match parsed {
        Some(draft) => state
            .drops
            .create(account.role, account.id, draft)
            .await
            .map(|_| "created"),
        None => Err(DropError::InvalidField(
            "price, supply, limit or times".into(),
        )),
    };
    Ok(after(&state, &c, account, done, StatusCode::CREATED).await)
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
