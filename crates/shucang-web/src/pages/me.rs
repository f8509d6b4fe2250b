//! The signed-in account's own pages: real-name verification (with the
//! separate consent to processing the ID number) and the collection.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use minijinja::{Value, context};
use serde::Deserialize;
use shucang_platform::{Consent, IdentityError, RealName};
use shucang_types::IdNumber;

use super::{Member, token_state};
use crate::AppState;
use crate::kit::api::ClientIp;
use crate::kit::{Posted, Submission};

/// `GET /me/identity`: the form, or the verified identity (masked).
pub(crate) async fn identity_page(
    State(state): State<AppState>,
    Member { page: c, user, .. }: Member,
) -> Result<Response, Response> {
    let identity = c.ok(state.identity.identity(user.id).await)?.map(|v| {
        context! { masked_name => v.masked_name, masked_id => v.masked_id, adult => v.adult, address => v.address.to_string() }
    });
    Ok(c.render("identity.html", context! { identity }, StatusCode::OK))
}

/// The real-name form's fields.
#[derive(Deserialize)]
pub(crate) struct IdentityForm {
    name: Option<String>,
    id_number: Option<String>,
    consent: Option<String>,
}

/// `POST /me/identity`.
pub(crate) async fn verify(
    State(state): State<AppState>,
    member: Member,
    ClientIp(ip): ClientIp,
    submission: Submission<AppState, IdentityForm>,
) -> Result<Response, Response> {
    let Posted { page: c, form: f } = submission.or_again(|c, f, status, error| {
        c.render("identity.html", context! { error, name => f.name }, status)
    })?;
    let name = f.name.unwrap_or_default();
    // Consent comes first: without it the number is not even read.
    let verified = if f.consent.as_deref() != Some("yes") {
        Err(c.explain(&IdentityError::ConsentRequired))
    } else {
        match (
            IdNumber::parse(&f.id_number.unwrap_or_default(), state.identity.today()),
            RealName::parse(&name),
        ) {
            (Err(e), _) => Err(c.explain(&e)),
            (_, Err(e)) => Err(c.explain(&e)),
            (Ok(id), Ok(real_name)) => match state
                .identity
                .verify(member.user.id, real_name, id, Consent { given: true, ip })
                .await
            {
                Ok(_) | Err(IdentityError::AlreadyVerified) => Ok(()),
                Err(e) => Err(c.explain(&e)),
            },
        }
    };
    match verified {
        Ok(()) => Ok(c.redirect("/me/identity")),
        Err(explained) => {
            let (status, error) = explained?;
            Ok(c.render("identity.html", context! { error, name }, status))
        }
    }
}

/// `GET /me/collection`: what the account holds.
pub(crate) async fn collection(
    State(state): State<AppState>,
    Member { page: c, user, .. }: Member,
) -> Result<Response, Response> {
    let held = c.ok(state.collectibles.holdings(user.id).await)?;
    let items: Vec<Value> = held
        .iter()
        .map(|h| {
            context! {
                collection => h.collection.as_str(), token_id => h.token_id, title => h.work.work.title.clone(),
                image_url => format!("/api/v1/works/{}/image", h.work.id), edition => h.edition,
                edition_size => h.edition_size,
                state => token_state(h.burned, h.frozen.is_some()),
            }
        })
        .collect();
    Ok(c.render("my_collection.html", context! { items }, StatusCode::OK))
}
