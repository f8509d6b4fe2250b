//! The collection (`/api/v1/me/collectibles`), the public collectible page
//! data with its chain evidence, and gifting.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use shucang_chain::{Address, CollectionId};
use shucang_platform::{Collectible, CollectibleError, Recipient};
use shucang_types::{Phone, UnixMillis};
use utoipa::ToSchema;

use crate::auth::Authenticated;
use crate::error::ErrorBody;
use crate::kit::api::ApiJson;
use crate::{ApiError, AppState};

/// One event of a collectible's history.
#[derive(Serialize, ToSchema)]
pub(crate) struct HistoryView {
    /// `mint` or `gift` (or `freeze`, `unfreeze`, `burn`).
    kind: &'static str,
    tx_hash: String,
    block_height: u64,
    /// RFC 3339 UTC.
    time: String,
    from: Option<String>,
    to: Option<String>,
    /// The transaction in the chain API.
    tx_url: String,
}

/// The chain evidence the filing review looks for.
#[derive(Serialize, ToSchema)]
pub(crate) struct ChainEvidence {
    /// The chain's name (checkpoint origin).
    chain_name: String,
    /// `ed25519-sha256` or `sm2-sm3`.
    suite: &'static str,
    collection_id: String,
    /// The collection's contract-style address.
    collection_address: String,
    token_id: u64,
    owner_address: String,
    mint_tx_hash: String,
    mint_block_height: u64,
    /// The token in the chain API.
    token_url: String,
    /// The mint's offline-verifiable proof bundle.
    proof_url: String,
}

/// A collectible.
#[derive(Serialize, ToSchema)]
pub(crate) struct CollectibleView {
    work_id: i64,
    title: String,
    image_url: String,
    /// `12/1000`.
    edition: String,
    edition_number: u64,
    edition_size: u64,
    issuer: String,
    /// The owner's masked real name (`张*`).
    owner_name: Option<String>,
    /// `active`, `frozen` or `burned`.
    state: &'static str,
    /// When the current holder may first gift it (holding period).
    giftable_from: String,
    chain: ChainEvidence,
    /// Oldest first.
    history: Vec<HistoryView>,
}

fn view(state: &AppState, c: &Collectible) -> CollectibleView {
    let stats_origin = state.chain.genesis().origin.clone();
    let suite = state.chain.genesis().suite;
    let mint = c.history.first();
    let history = c
        .history
        .iter()
        .map(|h| {
            let hash = hex::encode(h.tx.info.tx_hash);
            HistoryView {
                kind: h.kind,
                tx_url: format!("/api/v1/chain/txs/{hash}"),
                tx_hash: hash,
                block_height: h.tx.info.height,
                time: UnixMillis(i64::try_from(h.tx.timestamp_ms).unwrap_or(i64::MAX))
                    .to_rfc3339_utc(),
                from: h.from.map(|a| a.to_string()),
                to: h.to.map(|a| a.to_string()),
            }
        })
        .collect();
    let mint_hash = mint
        .map(|m| hex::encode(m.tx.info.tx_hash))
        .unwrap_or_default();
    CollectibleView {
        work_id: c.work.id,
        title: c.work.work.title.clone(),
        image_url: format!("/api/v1/works/{}/image", c.work.id),
        edition: format!("{}/{}", c.edition, c.edition_size),
        edition_number: c.edition,
        edition_size: c.edition_size,
        issuer: c.work.work.issuer.clone(),
        owner_name: c.owner_name.clone(),
        state: if c.burned {
            "burned"
        } else if c.frozen.is_some() {
            "frozen"
        } else {
            "active"
        },
        giftable_from: state.collectibles.giftable_from(c).to_rfc3339_utc(),
        chain: ChainEvidence {
            chain_name: stats_origin,
            suite: suite.name(),
            collection_id: c.collection.as_str().to_owned(),
            collection_address: c.collection_address.to_string(),
            token_id: c.token_id,
            owner_address: c.owner.to_string(),
            token_url: format!(
                "/api/v1/chain/tokens/{}/{}",
                c.collection.as_str(),
                c.token_id
            ),
            proof_url: format!("/api/v1/chain/txs/{mint_hash}/proof"),
            mint_tx_hash: mint_hash,
            mint_block_height: mint.map_or(0, |m| m.tx.info.height),
        },
        history,
    }
}

fn parse_token(collection: &str, token_id: &str) -> Result<(CollectionId, u64), ApiError> {
    let c = CollectionId::parse(collection)
        .map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, "invalid_collection", e.to_string()))?;
    let id = token_id.parse::<u64>().map_err(|_| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid_number",
            "a token id is a non-negative integer",
        )
    })?;
    Ok((c, id))
}

/// What the logged-in account holds.
#[utoipa::path(get, path = "/api/v1/me/collectibles", tag = "collectibles",
    security(("session" = [])),
    responses((status = 200, body = [CollectibleView]), (status = 401, body = ErrorBody)))]
pub(crate) async fn mine(
    State(state): State<AppState>,
    auth: Authenticated,
) -> Result<Json<Vec<CollectibleView>>, ApiError> {
    let held = state.collectibles.holdings(auth.account.id).await?;
    Ok(Json(held.iter().map(|c| view(&state, c)).collect()))
}

/// A collectible, publicly: the work, the edition, the owner (masked) and
/// the chain evidence with the full history.
#[utoipa::path(get, path = "/api/v1/collectibles/{collection}/{token_id}", tag = "collectibles",
    params(("collection" = String, Path), ("token_id" = u64, Path)),
    responses((status = 200, body = CollectibleView), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub(crate) async fn get(
    State(state): State<AppState>,
    Path((collection, token_id)): Path<(String, String)>,
) -> Result<Json<CollectibleView>, ApiError> {
    let (c, id) = parse_token(&collection, &token_id)?;
    let found = state
        .collectibles
        .collectible(&c, id)
        .await?
        .ok_or(CollectibleError::NotFound)?;
    Ok(Json(view(&state, &found)))
}

/// A gift: one recipient, and the giver's password. There is no price.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct GiftRequest {
    /// The recipient's registered phone number…
    to_phone: Option<String>,
    /// …or their chain address.
    to_address: Option<String>,
    /// The giver's password, as confirmation.
    password: String,
}

/// A completed gift.
#[derive(Serialize, ToSchema)]
pub(crate) struct GiftView {
    tx_hash: String,
    block_height: u64,
    to_address: String,
}

/// Gifts the caller's collectible to another real-named adult, after the
/// holding period, within the daily limit. Recorded on chain.
#[utoipa::path(post, path = "/api/v1/collectibles/{collection}/{token_id}/gifts", tag = "collectibles",
    params(("collection" = String, Path), ("token_id" = u64, Path)),
    request_body = GiftRequest,
    security(("session" = [])),
    responses((status = 201, body = GiftView), (status = 403, description = "`wrong_password`, `identity_required`", body = ErrorBody), (status = 404, description = "not the caller's", body = ErrorBody), (status = 409, description = "`holding_period`, `daily_gift_limit_reached`, `token_frozen`", body = ErrorBody), (status = 422, description = "`recipient_required`, `recipient_not_found`, `recipient_not_verified`, `recipient_minor`, `cannot_gift_to_self`, `invalid_phone`, `invalid_address`, `invalid_body` (e.g. a price)", body = ErrorBody), (status = 423, description = "`account_locked`: wrong confirmations count with login failures", body = ErrorBody), (status = 429, description = "`rate_limited`: 20 gift attempts an hour", body = ErrorBody)))]
pub(crate) async fn gift(
    State(state): State<AppState>,
    auth: Authenticated,
    Path((collection, token_id)): Path<(String, String)>,
    ApiJson(req): ApiJson<GiftRequest>,
) -> Result<(StatusCode, Json<GiftView>), ApiError> {
    let (c, id) = parse_token(&collection, &token_id)?;
    let unprocessable =
        |code, message: String| ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, code, message);
    let recipient = match (req.to_phone, req.to_address) {
        (Some(phone), None) => Recipient::Phone(Phone::parse(&phone)?),
        (None, Some(address)) => Recipient::Address(
            Address::parse(&address)
                .map_err(|e| unprocessable("invalid_address", e.to_string()))?,
        ),
        _ => {
            return Err(unprocessable(
                "recipient_required",
                "give exactly one of to_phone and to_address".into(),
            ));
        }
    };
    // Run to completion even if the client goes away: a gift half-done
    // (recorded, not yet on chain) is settled only at the next start.
    let service = state.collectibles.clone();
    let account_id = auth.account.id;
    let receipt = tokio::spawn(async move {
        service
            .gift(account_id, &c, id, recipient, &req.password)
            .await
    })
    .await
    .map_err(|e| ApiError::internal(&e))??;
    Ok((
        StatusCode::CREATED,
        Json(GiftView {
            tx_hash: hex::encode(receipt.tx_hash),
            block_height: receipt.height,
            to_address: receipt.to.to_string(),
        }),
    ))
}
