//! The logged-in account's pages: real-name verification (with the separate
//! consent to processing the ID number) and the collection.

use axum::extract::{Form, State};
use axum::http::header::LOCATION;
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use minijinja::context;
use serde::Deserialize;
use shucang_platform::{Consent, IdentityError, RealName};
use shucang_types::IdNumber;

use crate::auth::ClientIp;
use crate::pages::{page_ctx, render_with};
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

/// `GET /me/identity`: the form, or the verified identity (masked).
pub(crate) async fn identity_page(
    State(state): State<AppState>,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    let c = page_ctx(&state, &uri, &headers).await;
    let Some(account_id) = c.account_id else {
        return to_login(&uri);
    };
    match state.identity.identity(account_id).await {
        Ok(identity) => {
            let identity = identity.map(|v| {
                context! { masked_name => v.masked_name, masked_id => v.masked_id, adult => v.adult, address => v.address.to_string() }
            });
            render_with(
                &state,
                &c,
                "identity.html",
                context! { identity => identity },
                StatusCode::OK,
            )
        }
        Err(e) => ApiError::from(e).into_page_response(),
    }
}

/// The real-name form's fields.
#[derive(Deserialize)]
pub(crate) struct IdentityForm {
    csrf: Option<String>,
    name: Option<String>,
    id_number: Option<String>,
    consent: Option<String>,
}

/// `POST /me/identity`.
pub(crate) async fn verify(
    State(state): State<AppState>,
    uri: Uri,
    headers: HeaderMap,
    ClientIp(ip): ClientIp,
    Form(f): Form<IdentityForm>,
) -> Response {
    let c = page_ctx(&state, &uri, &headers).await;
    let Some(account_id) = c.account_id else {
        return to_login(&uri);
    };
    let name = f.name.unwrap_or_default();
    let again = |status, error: &str| {
        render_with(
            &state,
            &c,
            "identity.html",
            context! { error => error, name => &name },
            status,
        )
    };
    if !crate::forms::csrf_ok(&headers, f.csrf.as_deref()) {
        return again(StatusCode::FORBIDDEN, "form_expired");
    }
    // Consent comes first: without it the number is not even read.
    if f.consent.as_deref() != Some("yes") {
        return again(StatusCode::UNPROCESSABLE_ENTITY, "consent_required");
    }
    let Ok(id) = IdNumber::parse(&f.id_number.unwrap_or_default(), state.identity.today()) else {
        return again(StatusCode::UNPROCESSABLE_ENTITY, "invalid_id_number");
    };
    let Ok(real_name) = RealName::parse(&name) else {
        return again(StatusCode::UNPROCESSABLE_ENTITY, "invalid_name");
    };
    match state
        .identity
        .verify(account_id, real_name, id, Consent { given: true, ip })
        .await
    {
        Ok(_) | Err(IdentityError::AlreadyVerified) => {
            let to = if uri.query().is_some_and(|q| q.contains("lang=en")) {
                "/me/identity?lang=en"
            } else {
                "/me/identity"
            };
            (
                StatusCode::SEE_OTHER,
                [(LOCATION, HeaderValue::from_static(to))],
            )
                .into_response()
        }
        Err(IdentityError::IdentityInUse) => again(StatusCode::CONFLICT, "identity_in_use"),
        Err(IdentityError::Mismatch) => {
            again(StatusCode::UNPROCESSABLE_ENTITY, "identity_mismatch")
        }
        Err(e) => ApiError::from(e).into_page_response(),
    }
}

/// `GET /me/collection`: what the account holds.
pub(crate) async fn collection(
    State(state): State<AppState>,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    let c = page_ctx(&state, &uri, &headers).await;
    let Some(account_id) = c.account_id else {
        return to_login(&uri);
    };
    match state.collectibles.holdings(account_id).await {
        Ok(held) => {
            let items: Vec<minijinja::Value> = held
                .iter()
                .map(|h| {
                    context! {
                        collection => h.collection.as_str(), token_id => h.token_id, title => h.work.work.title.clone(),
                        image_url => format!("/api/v1/works/{}/image", h.work.id), edition => h.edition,
                        edition_size => h.edition_size,
                        state => if h.burned { "burned" } else if h.frozen.is_some() { "frozen" } else { "active" },
                    }
                })
                .collect();
            render_with(
                &state,
                &c,
                "my_collection.html",
                context! { items => items },
                StatusCode::OK,
            )
        }
        Err(e) => ApiError::from(e).into_page_response(),
    }
}

/// The buy form's fields.
#[derive(Deserialize)]
pub(crate) struct BuyForm {
    csrf: Option<String>,
    key: Option<String>,
    quantity: Option<String>,
}

/// `POST /drops/{id}/buy`: reserves, starts the payment, and goes to the
/// provider's pay page.
pub(crate) async fn buy(
    State(state): State<AppState>,
    axum::extract::Path(id): axum::extract::Path<String>,
    uri: Uri,
    headers: HeaderMap,
    Form(f): Form<BuyForm>,
) -> Response {
    let c = page_ctx(&state, &uri, &headers).await;
    let Some(account_id) = c.account_id else {
        return to_login(&uri);
    };
    let Ok(drop_id) = id.parse::<i64>() else {
        return crate::pages::html_not_found(&state, &uri, &headers).await;
    };
    let (Ok(Some(d)), Some(work_id)) = (state.drops.drop_by_id(drop_id).await, Some(drop_id))
    else {
        return crate::pages::html_not_found(&state, &uri, &headers).await;
    };
    let _ = work_id;
    let Ok(Some(work)) = state.works.work(d.drop.work_id).await else {
        return crate::pages::html_not_found(&state, &uri, &headers).await;
    };
    let again = |error: &'static str, status| {
        let (state, c, d, work) = (&state, &c, &d, &work);
        async move { crate::pages::drop_view(state, c, d, work, Some(error), status).await }
    };
    if !crate::forms::csrf_ok(&headers, f.csrf.as_deref()) {
        return again("form_expired", StatusCode::FORBIDDEN).await;
    }
    let quantity = f
        .quantity
        .as_deref()
        .unwrap_or("1")
        .parse::<u32>()
        .unwrap_or(0);
    let key = format!("web-{}", f.key.unwrap_or_default());
    use shucang_platform::PurchaseError as P;
    let order = match state
        .drops
        .purchase(account_id, drop_id, quantity, &key)
        .await
    {
        Ok((order, _)) => order,
        Err(P::SoldOut) => return again("sold_out", StatusCode::CONFLICT).await,
        Err(P::LimitReached) => return again("purchase_limit_reached", StatusCode::CONFLICT).await,
        Err(P::NotOpen) => return again("drop_not_open", StatusCode::CONFLICT).await,
        Err(P::IdentityRequired) => return again("identity_required", StatusCode::FORBIDDEN).await,
        Err(P::MinorNotAllowed) => return again("minor_not_allowed", StatusCode::FORBIDDEN).await,
        Err(P::InvalidQuantity | P::InvalidKey | P::KeyReused) => {
            return again("invalid_quantity", StatusCode::UNPROCESSABLE_ENTITY).await;
        }
        Err(e) => return ApiError::from(e).into_page_response(),
    };
    pay(&state, account_id, order.id).await
}

async fn pay(state: &AppState, account_id: i64, order_id: i64) -> Response {
    match state.payments.start(account_id, order_id).await {
        Ok(started) => axum::response::Redirect::to(&started.pay_url).into_response(),
        Err(shucang_platform::PaymentError::NotPayable) => {
            axum::response::Redirect::to(&format!("/orders/{order_id}")).into_response()
        }
        Err(e) => ApiError::from(e).into_page_response(),
    }
}

/// The pay button's field.
#[derive(Deserialize)]
pub(crate) struct PayForm {
    csrf: Option<String>,
}

/// `POST /orders/{id}/pay`: starts a payment for a reserved order.
pub(crate) async fn pay_order(
    State(state): State<AppState>,
    axum::extract::Path(id): axum::extract::Path<String>,
    uri: Uri,
    headers: HeaderMap,
    Form(f): Form<PayForm>,
) -> Response {
    let c = page_ctx(&state, &uri, &headers).await;
    let Some(account_id) = c.account_id else {
        return to_login(&uri);
    };
    let Ok(order_id) = id.parse::<i64>() else {
        return crate::pages::html_not_found(&state, &uri, &headers).await;
    };
    if !crate::forms::csrf_ok(&headers, f.csrf.as_deref()) {
        return (StatusCode::FORBIDDEN, "form expired").into_response();
    }
    pay(&state, account_id, order_id).await
}

/// `GET /orders/{id}`: the buyer's order, refreshing until it is minted.
pub(crate) async fn order_page(
    State(state): State<AppState>,
    axum::extract::Path(id): axum::extract::Path<String>,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    let c = page_ctx(&state, &uri, &headers).await;
    let Some(account_id) = c.account_id else {
        return to_login(&uri);
    };
    let order = match id.parse::<i64>() {
        Ok(order_id) => state.drops.order(account_id, order_id).await,
        Err(_) => Ok(None),
    };
    let order = match order {
        Ok(Some(o)) => o,
        Ok(None) => return crate::pages::html_not_found(&state, &uri, &headers).await,
        Err(e) => return ApiError::from(e).into_page_response(),
    };
    let collection = match state.drops.drop_by_id(order.drop_id).await {
        Ok(Some(d)) => shucang_platform::works::collection_of(d.drop.work_id)
            .as_str()
            .to_owned(),
        _ => String::new(),
    };
    let expires = order.expires_at.plus_ms(8 * 3_600_000).to_rfc3339_utc();
    let o = context! {
        id => order.id, status => order.status.code(), amount => order.amount.to_string(),
        editions => order.editions, collection => collection,
        expires => format!("{} {}", &expires[..10], &expires[11..19]),
    };
    render_with(
        &state,
        &c,
        "order.html",
        context! { o => o },
        StatusCode::OK,
    )
}

/// The gift form's fields.
#[derive(Deserialize)]
pub(crate) struct GiftForm {
    csrf: Option<String>,
    to_phone: Option<String>,
    password: Option<String>,
}

/// `POST /collectibles/{collection}/{token_id}/gift`: the holder gifts it.
pub(crate) async fn gift(
    State(state): State<AppState>,
    axum::extract::Path((collection, token_id)): axum::extract::Path<(String, String)>,
    uri: Uri,
    headers: HeaderMap,
    Form(f): Form<GiftForm>,
) -> Response {
    use shucang_platform::CollectibleError as E;
    let c = page_ctx(&state, &uri, &headers).await;
    let Some(account_id) = c.account_id else {
        return to_login(&uri);
    };
    let (Ok(coll), Ok(id)) = (
        shucang_chain::CollectionId::parse(&collection),
        token_id.parse::<u64>(),
    ) else {
        return crate::pages::html_not_found(&state, &uri, &headers).await;
    };
    let Ok(Some(found)) = state.collectibles.collectible(&coll, id).await else {
        return crate::pages::html_not_found(&state, &uri, &headers).await;
    };
    let again = |error: &'static str, status: StatusCode| {
        let (state, c, coll, found) = (&state, &c, &coll, found.clone());
        async move {
            crate::pages::collectible_view(state, c, coll, id, found, Some(error), false, status)
                .await
        }
    };
    if !crate::forms::csrf_ok(&headers, f.csrf.as_deref()) {
        return again("form_expired", StatusCode::FORBIDDEN).await;
    }
    let Ok(phone) = shucang_types::Phone::parse(&f.to_phone.unwrap_or_default()) else {
        return again("invalid_phone", StatusCode::UNPROCESSABLE_ENTITY).await;
    };
    let service = state.collectibles.clone();
    let password = f.password.unwrap_or_default();
    let gift_coll = coll.clone();
    // Run to completion even if the browser goes away (see the API handler).
    let result = tokio::spawn(async move {
        service
            .gift(
                account_id,
                &gift_coll,
                id,
                shucang_platform::Recipient::Phone(phone),
                &password,
            )
            .await
    })
    .await;
    let error = match result {
        Ok(Ok(_)) => {
            let lang = if uri.query().is_some_and(|q| q.contains("lang=en")) {
                "&lang=en"
            } else {
                ""
            };
            let to = format!("/collectibles/{}/{id}?gifted=1{lang}", coll.as_str());
            return axum::response::Redirect::to(&to).into_response();
        }
        Ok(Err(e)) => e,
        Err(e) => return ApiError::internal(&e).into_page_response(),
    };
    let (code, status) = match error {
        E::NotFound => ("not_found", StatusCode::NOT_FOUND),
        E::WrongPassword => ("wrong_password", StatusCode::FORBIDDEN),
        E::RecipientNotFound => ("recipient_not_found", StatusCode::UNPROCESSABLE_ENTITY),
        E::RecipientNotVerified => ("recipient_not_verified", StatusCode::UNPROCESSABLE_ENTITY),
        E::RecipientMinor => ("recipient_minor", StatusCode::UNPROCESSABLE_ENTITY),
        E::SelfGift => ("cannot_gift_to_self", StatusCode::UNPROCESSABLE_ENTITY),
        E::Frozen => ("token_frozen", StatusCode::CONFLICT),
        E::HoldingPeriod(_) => ("holding_period", StatusCode::CONFLICT),
        E::DailyLimit => ("daily_gift_limit_reached", StatusCode::CONFLICT),
        E::IdentityRequired => ("identity_required", StatusCode::FORBIDDEN),
        other => return ApiError::from(other).into_page_response(),
    };
    again(code, status).await
}
