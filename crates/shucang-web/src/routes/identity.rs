//! `POST /api/v1/me/identity`: real-name verification.

use axum::Json;
use axum::extract::State;
use serde::{Deserialize, Serialize};
use shucang_platform::{Consent, IdentityError, IdentityView, RealName};
use shucang_types::IdNumber;
use utoipa::ToSchema;

use crate::auth::Authenticated;
use crate::error::ErrorBody;
use crate::kit::api::ApiJson;
use crate::kit::api::ClientIp;
use crate::{ApiError, AppState};

/// Name, ID number and the separate consent to collecting the ID number.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct IdentityRequest {
    /// The real name as on the ID card.
    #[schema(example = "张三")]
    name: String,
    /// The 18-character resident ID number (upper-case X).
    #[schema(example = "11010519491231002X")]
    id_number: String,
    /// Consent to the ID-number notice; required.
    #[serde(default)]
    consent: bool,
}

/// A verified identity, masked.
#[derive(Serialize, ToSchema)]
pub(crate) struct IdentityResponse {
    /// Always true.
    verified: bool,
    /// `110105********002X`.
    masked_id: String,
    /// `张*`.
    masked_name: String,
    /// 18 or older today (China time).
    adult: bool,
    /// The custodial chain address, `0x…`.
    address: String,
}

impl From<IdentityView> for IdentityResponse {
    fn from(v: IdentityView) -> IdentityResponse {
        IdentityResponse {
            verified: true,
            masked_id: v.masked_id,
            masked_name: v.masked_name,
            adult: v.adult,
            address: v.address.to_string(),
        }
    }
}

/// Verifies the logged-in account's real name and creates its chain address.
#[utoipa::path(post, path = "/api/v1/me/identity", tag = "accounts",
    request_body = IdentityRequest,
    security(("session" = [])),
    responses((status = 200, description = "Verified", body = IdentityResponse), (status = 401, description = "`unauthenticated`", body = ErrorBody), (status = 409, description = "`identity_in_use`, `identity_already_verified`", body = ErrorBody), (status = 422, description = "`consent_required`, `invalid_id_number`, `invalid_name`, `identity_mismatch`", body = ErrorBody), (status = 429, description = "`rate_limited`: 5 attempts an hour", body = ErrorBody)))]
pub(crate) async fn verify_identity(
    State(state): State<AppState>,
    auth: Authenticated,
    ClientIp(ip): ClientIp,
    ApiJson(req): ApiJson<IdentityRequest>,
) -> Result<Json<IdentityResponse>, ApiError> {
    // Consent comes before the number is even looked at.
    if !req.consent {
        return Err(IdentityError::ConsentRequired.into());
    }
    let id = IdNumber::parse(&req.id_number, state.identity.today())?;
    let name = RealName::parse(&req.name)?;
    let view = state
        .identity
        .verify(auth.account.id, name, id, Consent { given: true, ip })
        .await?;
    tracing::info!(account_id = auth.account.id, "real-name verified");
    Ok(Json(view.into()))
}

/// The identity part of `GET /api/v1/me`.
pub(crate) async fn identity_of(
    state: &AppState,
    account_id: i64,
) -> Result<Option<IdentityResponse>, ApiError> {
    Ok(state
        .identity
        .identity(account_id)
        .await?
        .map(IdentityResponse::from))
}
