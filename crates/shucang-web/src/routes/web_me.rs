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
        Err(e) => ApiError::from(e).into_response(),
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
        Err(e) => ApiError::from(e).into_response(),
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
        Err(e) => ApiError::from(e).into_response(),
    }
}
