//! The shop: the home page (drops on sale and upcoming, featured works),
//! a drop with its buy form, buying (reserve, start the payment, go to the
//! provider's pay page), and the buyer's order.

use std::collections::BTreeSet;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use minijinja::{Value, context};
use serde::Deserialize;
use shucang_chain::CollectionId;
use shucang_platform::{DropPhase, DropRecord, PaymentError, WorkRecord};
use shucang_types::UnixMillis;

use super::{Member, PlatformPage, china_time, identity_of, time};
use crate::AppState;
use crate::error::failure_page;
use crate::kit::csrf::random_token;
use crate::kit::{Posted, Submission};

/// Drops read for the home page, at most.
const HOME_DROPS_MAX: u32 = 100;
/// Works shown on the home page, at most.
const FEATURED_WORKS_MAX: usize = 6;

/// A drop as its card shows it, with the countdown to its start.
fn drop_card(state: &AppState, c: &PlatformPage, d: &DropRecord, now_ms: i64) -> Value {
    let phase = state.drops.phase(d);
    let left = d.drop.starts_at.ms_since(UnixMillis(now_ms)).max(0);
    let countdown = format!(
        "{} {} {} {} {} {}",
        left / 86_400_000,
        c.t("days"),
        left / 3_600_000 % 24,
        c.t("hours"),
        left / 60_000 % 60,
        c.t("minutes")
    );
    context! {
        id => d.id, work_id => d.drop.work_id, title => d.drop.title.clone(),
        price => d.drop.price.to_string(), supply => d.drop.supply,
        remaining => d.drop.supply.saturating_sub(d.sold), per_user_limit => d.drop.per_user_limit,
        phase => phase.code(), starts => time(u64::try_from(d.drop.starts_at.0).unwrap_or(0)),
        ends => time(u64::try_from(d.drop.ends_at.0).unwrap_or(0)), countdown => countdown,
        starts_ms => d.drop.starts_at.0,
    }
}

/// `GET /`: drops on sale and upcoming.
pub(crate) async fn home(State(state): State<AppState>, c: PlatformPage) -> Response {
    let drops = match state.drops.list(HOME_DROPS_MAX).await {
        Ok(d) => d,
        Err(e) => return failure_page(&e),
    };
    let now = state.payments.now().0;
    let mut on_sale = Vec::new();
    let mut upcoming = Vec::new();
    for d in &drops {
        match state.drops.phase(d) {
            DropPhase::OnSale | DropPhase::SoldOut => on_sale.push(drop_card(&state, &c, d, now)),
            DropPhase::Upcoming => upcoming.push(drop_card(&state, &c, d, now)),
            DropPhase::Ended => {}
        }
    }
    let featured = featured(&state, &drops).await;
    c.render(
        "home.html",
        context! { on_sale, upcoming, featured, now_ms => now },
        StatusCode::OK,
    )
}

/// Featured works: the works of the drops, newest first, each with its
/// collection on the chain (address and editions minted so far).
async fn featured(state: &AppState, drops: &[DropRecord]) -> Vec<Value> {
    let mut featured = Vec::new();
    let mut seen = BTreeSet::new();
    for d in drops {
        if featured.len() == FEATURED_WORKS_MAX || !seen.insert(d.drop.work_id) {
            continue;
        }
        let Ok(Some(work)) = state.works.work(d.drop.work_id).await else {
            continue;
        };
        let Some(collection) = work.collection_id.as_deref() else {
            continue;
        };
        let minted = CollectionId::parse(collection)
            .ok()
            .and_then(|id| state.chain.collection_page(&id, 0, 0).ok().flatten())
            .map_or(0, |c| c.minted);
        featured.push(context! {
            id => work.id, title => work.work.title, issuer => work.work.issuer,
            edition_size => work.work.edition_size, minted, collection,
        });
    }
    featured
}

/// A drop and its work, as a `/drops/{id}` path names them.
struct Offer {
    drop: DropRecord,
    work: WorkRecord,
}

impl Offer {
    /// The drop, or the page to answer instead (404 for a malformed or
    /// unknown one).
    async fn find(state: &AppState, c: &PlatformPage, id: &str) -> Result<Offer, Response> {
        let Ok(id) = id.parse::<i64>() else {
            return Err(c.not_found());
        };
        let drop = c.found(state.drops.drop_by_id(id).await)?;
        let work = c.found(state.works.work(drop.drop.work_id).await)?;
        Ok(Offer { drop, work })
    }

    /// Its page, with the buy form for a verified adult.
    async fn view(
        &self,
        state: &AppState,
        c: &PlatformPage,
        error: Option<String>,
        status: StatusCode,
    ) -> Response {
        let now = state.payments.now().0;
        let card = drop_card(state, c, &self.drop, now);
        let verified = identity_of(state, c).await.is_some_and(|v| v.adult);
        let work = &self.work.work;
        let extra = context! {
            d => context! { issuer => work.issuer.clone(), description => work.description.clone(), ..card },
            verified,
            key => random_token(),
            error,
        };
        c.render("drop.html", extra, status)
    }
}

/// `GET /drops/{id}`: one drop.
pub(crate) async fn drop_page(
    State(state): State<AppState>,
    Path(id): Path<String>,
    c: PlatformPage,
) -> Result<Response, Response> {
    let offer = Offer::find(&state, &c, &id).await?;
    Ok(offer.view(&state, &c, None, StatusCode::OK).await)
}

/// The buy form's fields.
#[derive(Deserialize)]
pub(crate) struct BuyForm {
    key: Option<String>,
    quantity: Option<String>,
}

/// `POST /drops/{id}/buy`: reserves, starts the payment, and goes to the
/// provider's pay page.
pub(crate) async fn buy(
    State(state): State<AppState>,
    Path(id): Path<String>,
    member: Member,
    submission: Submission<AppState, BuyForm>,
) -> Result<Response, Response> {
    let (fresh, Posted { page: c, form: f }) = match submission {
        Submission::Fresh(posted) => (true, posted),
        Submission::Expired(posted) => (false, posted),
    };
    let offer = Offer::find(&state, &c, &id).await?;
    if !fresh {
        let (status, error) = c.expired();
        return Ok(offer.view(&state, &c, Some(error), status).await);
    }
    let quantity = f
        .quantity
        .as_deref()
        .unwrap_or("1")
        .parse::<u32>()
        .unwrap_or(0);
    let key = format!("web-{}", f.key.unwrap_or_default());
    match state
        .drops
        .purchase(member.user.id, offer.drop.id, quantity, &key)
        .await
    {
        Ok((order, _)) => Ok(pay(&state, member.user.id, order.id).await),
        Err(e) => {
            let (status, error) = c.explain(&e)?;
            Ok(offer.view(&state, &c, Some(error), status).await)
        }
    }
}

/// Starts paying `order_id` and goes to the pay page (or to the order
/// when it needs no payment).
async fn pay(state: &AppState, account_id: i64, order_id: i64) -> Response {
    match state.payments.start(account_id, order_id).await {
        Ok(started) => Redirect::to(&started.pay_url).into_response(),
        Err(PaymentError::NotPayable) => {
            Redirect::to(&format!("/orders/{order_id}")).into_response()
        }
        Err(e) => crate::ApiError::from(e).into_page_response(),
    }
}

/// The pay button's form (the token only).
#[derive(Deserialize)]
pub(crate) struct PayForm {}

/// `POST /orders/{id}/pay`: starts a payment for a reserved order.
pub(crate) async fn pay_order(
    State(state): State<AppState>,
    Path(id): Path<String>,
    member: Member,
    Posted { page: c, .. }: Posted<AppState, PayForm>,
) -> Response {
    let Ok(order_id) = id.parse::<i64>() else {
        return c.not_found();
    };
    pay(&state, member.user.id, order_id).await
}

/// `GET /orders/{id}`: the buyer's order, refreshing until it is minted.
pub(crate) async fn order_page(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Member { page: c, user, .. }: Member,
) -> Result<Response, Response> {
    let order = match id.parse::<i64>() {
        Ok(order_id) => state.drops.order(user.id, order_id).await,
        Err(_) => Ok(None),
    };
    let order = c.found(order)?;
    let collection = match state.drops.drop_by_id(order.drop_id).await {
        Ok(Some(d)) => shucang_platform::works::collection_of(d.drop.work_id)
            .as_str()
            .to_owned(),
        _ => String::new(),
    };
    let o = context! {
        id => order.id, status => order.status.code(), amount => order.amount.to_string(),
        editions => order.editions, collection => collection,
        expires => china_time(order.expires_at),
    };
    Ok(c.render("order.html", context! { o }, StatusCode::OK))
}
