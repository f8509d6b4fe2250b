//! The public, read-only chain API under `/api/v1/chain`: what the block
//! explorer and offline verifiers need.

use crate::kit::api::ApiQuery;
use axum::Json;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::http::header::CONTENT_TYPE;
use axum::response::IntoResponse;
use axum::routing::get;
use serde::{Deserialize, Serialize};
use shucang_chain::{Address, BlockMeta, CollectionId, Operation, TxRecord};
use shucang_verify::Hash;
use utoipa::{IntoParams, ToSchema};

use crate::error::ErrorBody;
use crate::proof::ProofBundleJson;
use crate::{ApiError, AppState};

/// Default page of blocks.
const BLOCKS_PAGE_DEFAULT: usize = 20;
/// Largest page of blocks.
const BLOCKS_PAGE_MAX: usize = 100;

/// The routes of the chain API.
pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/chain/stats", get(stats))
        .route("/api/v1/chain/blocks", get(blocks))
        .route("/api/v1/chain/blocks/{id}", get(block))
        .route("/api/v1/chain/txs/{hash}", get(tx))
        .route("/api/v1/chain/txs/{hash}/proof", get(proof))
        .route("/api/v1/chain/addresses/{address}", get(address))
        .route("/api/v1/chain/tokens/{collection}/{token_id}", get(token))
        .route("/api/v1/chain/collections/{collection}", get(collection))
        .route("/api/v1/chain/checkpoint", get(checkpoint))
        .route("/api/v1/chain/consistency", get(consistency))
}

fn bad(code: &'static str, message: &str) -> ApiError {
    ApiError::new(StatusCode::BAD_REQUEST, code, message)
}

fn missing(what: &str) -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "not_found",
        format!("no such {what} on the chain"),
    )
}

fn parse_hash(s: &str) -> Result<Hash, ApiError> {
    let digits = s.strip_prefix("0x").unwrap_or(s);
    hex::decode(digits)
        .ok()
        .and_then(|b| b.try_into().ok())
        .ok_or_else(|| bad("invalid_hash", "a hash is 64 hexadecimal digits"))
}

/// What `lookup` finds of the transaction whose hash `raw` spells: 400 for
/// a malformed hash, 404 for an unknown one.
fn transaction<T, E>(
    raw: &str,
    lookup: impl FnOnce(&Hash) -> Result<Option<T>, E>,
) -> Result<T, ApiError>
where
    ApiError: From<E>,
{
    let hash = parse_hash(raw)?;
    lookup(&hash)?.ok_or_else(|| missing("transaction"))
}

fn parse_address(s: &str) -> Result<Address, ApiError> {
    Address::parse(s).map_err(|e| bad("invalid_address", &e.to_string()))
}

fn parse_collection(s: &str) -> Result<CollectionId, ApiError> {
    CollectionId::parse(s).map_err(|e| bad("invalid_collection", &e.to_string()))
}

/// A count or height as the API documents it: 0 to 2^63 − 1 (int64).
fn parse_u64(s: &str, what: &'static str) -> Result<u64, ApiError> {
    s.parse::<u64>()
        .ok()
        .filter(|n| i64::try_from(*n).is_ok())
        .ok_or_else(|| {
            let message = format!("{what} must be an integer from 0 to 9223372036854775807");
            bad("invalid_number", &message)
        })
}

fn ms_to_rfc3339(ms: u64) -> String {
    shucang_types::UnixMillis(i64::try_from(ms).unwrap_or(i64::MAX)).to_rfc3339_utc()
}

/// Chain-wide figures, and what a verifier needs.
#[derive(Serialize, ToSchema)]
pub(crate) struct StatsView {
    /// Height of the last block.
    height: u64,
    /// Committed transactions.
    tx_count: u64,
    /// Tokens minted and not burned.
    token_count: u64,
    /// Collections.
    collection_count: u64,
    /// Transactions per second over the last 100 blocks.
    recent_tps: f64,
    /// `ed25519-sha256` or `sm2-sm3`.
    suite: &'static str,
    /// The chain name (checkpoint origin and key name).
    origin: String,
    /// The genesis hash, hex.
    genesis_hash: String,
    /// The node's public key, hex: verify checkpoints and proofs with it.
    node_public_key: String,
    /// The node's C2SP verifier key, `origin+key id+base64(type ‖ key)`:
    /// the same key for any signed-note verifier (`shucang chain verify-proof
    /// --vkey`, `verify-note`).
    #[schema(
        example = "shucang.local/chain+4a1e9b2c+AYo2ixSnJHbJ2Gbg7HoXqVdHlvRt1vZ5GUwoP7Nh9oZk"
    )]
    node_vkey: String,
}

/// A block header.
#[derive(Serialize, ToSchema)]
pub(crate) struct BlockView {
    height: u64,
    hash: String,
    prev_hash: String,
    /// RFC 3339, UTC.
    timestamp: String,
    tx_count: u32,
    tx_root: String,
    log_size: u64,
    log_root: String,
    proposer: String,
    signature: String,
}

impl From<&BlockMeta> for BlockView {
    fn from(b: &BlockMeta) -> BlockView {
        let h = &b.header;
        BlockView {
            height: h.height,
            hash: hex::encode(b.hash),
            prev_hash: hex::encode(h.prev_hash),
            timestamp: ms_to_rfc3339(h.timestamp_ms),
            tx_count: h.tx_count,
            tx_root: hex::encode(h.tx_root),
            log_size: h.log_size,
            log_root: hex::encode(h.log_root),
            proposer: hex::encode(&h.proposer),
            signature: hex::encode(b.signature),
        }
    }
}

/// A page of blocks, newest first.
#[derive(Serialize, ToSchema)]
pub(crate) struct BlocksPage {
    blocks: Vec<BlockView>,
    /// Pass as `before` for the next page; absent on the last page.
    next_before: Option<u64>,
}

/// A block with the hashes of its transactions.
#[derive(Serialize, ToSchema)]
pub(crate) struct BlockDetail {
    #[serde(flatten)]
    block: BlockView,
    tx_hashes: Vec<String>,
}

/// A committed transaction.
#[derive(Serialize, ToSchema)]
pub(crate) struct TxView {
    hash: String,
    block_height: u64,
    index: u32,
    leaf_index: u64,
    /// The block's time, RFC 3339 UTC.
    timestamp: String,
    nonce: u64,
    signer: String,
    signer_address: String,
    signature: String,
    /// What it did: `type` is create_collection, mint, transfer, freeze,
    /// unfreeze or burn, with that operation's fields.
    operation: OperationView,
}

impl From<&TxRecord> for TxView {
    fn from(r: &TxRecord) -> TxView {
        let t = &r.tx.tx;
        TxView {
            hash: hex::encode(r.info.tx_hash),
            block_height: r.info.height,
            index: r.info.index,
            leaf_index: r.leaf,
            timestamp: ms_to_rfc3339(r.timestamp_ms),
            nonce: t.nonce,
            signer: hex::encode(&t.signer),
            signer_address: t.signer_address().to_string(),
            signature: hex::encode(r.tx.signature),
            operation: OperationView::of(&t.operation, t.signer_address()),
        }
    }
}

/// What a transaction did.
#[derive(Serialize, ToSchema)]
#[serde(tag = "type", rename_all = "snake_case")]
pub(crate) enum OperationView {
    /// A work's collection created (approval of the work).
    CreateCollection {
        collection: String,
        name: String,
        symbol: String,
        supply_cap: u64,
        issuer: String,
        metadata_uri: String,
        /// Hex SHA-256 (or SM3) of the metadata document.
        metadata_hash: String,
    },
    /// Tokens minted.
    Mint {
        collection: String,
        items: Vec<MintedView>,
    },
    /// A token given to another address.
    Transfer {
        collection: String,
        token_id: u64,
        from: String,
        to: String,
    },
    /// A token frozen (it cannot move).
    Freeze {
        collection: String,
        token_id: u64,
        /// The platform's reason code.
        reason: u16,
    },
    /// A token released.
    Unfreeze {
        collection: String,
        token_id: u64,
        /// The platform's reason code.
        reason: u16,
    },
    /// A token destroyed.
    Burn { collection: String, token_id: u64 },
}

/// One token of a mint.
#[derive(Serialize, ToSchema)]
pub(crate) struct MintedView {
    token_id: u64,
    edition: u64,
    owner: String,
    /// Hex hash of the token's content.
    content_hash: String,
}

impl OperationView {
    fn of(op: &Operation, signer: Address) -> OperationView {
        match op {
            Operation::CreateCollection(c) => OperationView::CreateCollection {
                collection: c.collection.as_str().to_owned(),
                name: c.name.clone(),
                symbol: c.symbol.clone(),
                supply_cap: c.supply_cap,
                issuer: c.issuer.clone(),
                metadata_uri: c.metadata_uri.clone(),
                metadata_hash: hex::encode(c.metadata_hash),
            },
            Operation::Mint { collection, items } => OperationView::Mint {
                collection: collection.as_str().to_owned(),
                items: items
                    .iter()
                    .map(|i| MintedView {
                        token_id: i.token_id,
                        edition: i.edition,
                        owner: i.owner.to_string(),
                        content_hash: hex::encode(i.content_hash),
                    })
                    .collect(),
            },
            Operation::Transfer {
                collection,
                token_id,
                to,
            } => OperationView::Transfer {
                collection: collection.as_str().to_owned(),
                token_id: *token_id,
                from: signer.to_string(),
                to: to.to_string(),
            },
            Operation::Freeze {
                collection,
                token_id,
                reason,
            } => OperationView::Freeze {
                collection: collection.as_str().to_owned(),
                token_id: *token_id,
                reason: *reason,
            },
            Operation::Unfreeze {
                collection,
                token_id,
                reason,
            } => OperationView::Unfreeze {
                collection: collection.as_str().to_owned(),
                token_id: *token_id,
                reason: *reason,
            },
            Operation::Burn {
                collection,
                token_id,
            } => OperationView::Burn {
                collection: collection.as_str().to_owned(),
                token_id: *token_id,
            },
        }
    }
}

/// A token reference.
#[derive(Serialize, ToSchema)]
pub(crate) struct TokenRef {
    collection: String,
    token_id: u64,
}

/// An address: holdings and recent history.
#[derive(Serialize, ToSchema)]
pub(crate) struct AddressView {
    address: String,
    /// `limit` of its tokens from `offset`, in collection and token order.
    holdings: Vec<TokenRef>,
    /// How many tokens it holds in all.
    holdings_total: u64,
    /// The position of the first token in `holdings`.
    offset: u64,
    /// The `offset` of the next page, when there is one.
    next_offset: Option<u64>,
    /// Up to 100 transactions, newest first.
    history: Vec<TxView>,
}

/// A token: owner, state and full history.
#[derive(Serialize, ToSchema)]
pub(crate) struct TokenView {
    collection: String,
    token_id: u64,
    edition: u64,
    supply_cap: u64,
    owner: String,
    content_hash: String,
    frozen: bool,
    frozen_reason: Option<u16>,
    burned: bool,
    /// Every transaction that touched it, oldest first.
    history: Vec<TxView>,
}

/// A collection.
#[derive(Serialize, ToSchema)]
pub(crate) struct CollectionView {
    collection: String,
    name: String,
    symbol: String,
    supply_cap: u64,
    issuer: String,
    metadata_uri: String,
    metadata_hash: String,
    minted: u64,
    burned: u64,
    created_by_tx: String,
    /// Token ids in mint order, `limit` of them from `offset`.
    token_ids: Vec<u64>,
    /// The position of the first id in `token_ids`.
    offset: u64,
    /// The `offset` of the next page, when there is one.
    next_offset: Option<u64>,
}

/// `offset` and `limit` for a collection's token ids or an address's
/// holdings.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct TokensQuery {
    /// Tokens to skip (default 0).
    offset: Option<String>,
    /// Tokens to return, 1–10000 (default 1000).
    limit: Option<String>,
}

impl TokensQuery {
    /// The offset and limit asked for, or the error naming the bad one.
    fn window(&self) -> Result<(usize, usize), ApiError> {
        let offset = match self.offset.as_deref() {
            None => 0,
            Some(o) => usize::try_from(parse_u64(o, "offset")?).unwrap_or(usize::MAX),
        };
        let limit = match self.limit.as_deref() {
            None => TOKENS_PAGE_DEFAULT,
            Some(l) => match usize::try_from(parse_u64(l, "limit")?) {
                Ok(n) if (1..=TOKENS_PAGE_MAX).contains(&n) => n,
                _ => return Err(bad("invalid_number", "limit must be between 1 and 10000")),
            },
        };
        Ok((offset, limit))
    }
}

/// Token ids per collection answer, by default and at most.
const TOKENS_PAGE_DEFAULT: usize = 1000;
const TOKENS_PAGE_MAX: usize = 10_000;

/// A consistency proof between two log sizes.
#[derive(Serialize, ToSchema)]
pub(crate) struct ConsistencyView {
    from: u64,
    to: u64,
    from_root: String,
    to_root: String,
    /// RFC 9162 §2.1.4 proof, hex hashes.
    proof: Vec<String>,
}

/// `before` and `limit` for block pages.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct BlocksQuery {
    /// Only blocks below this height.
    before: Option<String>,
    /// Page size, 1–100 (default 20).
    limit: Option<String>,
}

/// `from` and `to` log sizes.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct ConsistencyQuery {
    /// The older size (≥ 1).
    from: Option<String>,
    /// The newer size.
    to: Option<String>,
}

/// Chain statistics and the node's public key.
#[utoipa::path(get, path = "/api/v1/chain/stats", tag = "chain",
    responses((status = 200, body = StatsView)))]
pub(crate) async fn stats(State(state): State<AppState>) -> Result<Json<StatsView>, ApiError> {
    let s = state.chain.stats()?;
    Ok(Json(StatsView {
        height: s.height,
        tx_count: s.tx_count,
        token_count: s.token_count,
        collection_count: s.collection_count,
        recent_tps: (s.recent_tps * 10.0).round() / 10.0,
        suite: s.suite.name(),
        origin: s.origin,
        genesis_hash: hex::encode(s.genesis_hash),
        node_public_key: hex::encode(s.node_key),
        node_vkey: state.chain.vkey().to_string(),
    }))
}

/// The latest blocks, newest first.
#[utoipa::path(get, path = "/api/v1/chain/blocks", tag = "chain", params(BlocksQuery),
    responses((status = 200, body = BlocksPage), (status = 400, body = ErrorBody)))]
pub(crate) async fn blocks(
    State(state): State<AppState>,
    ApiQuery(q): ApiQuery<BlocksQuery>,
) -> Result<Json<BlocksPage>, ApiError> {
    let before = q
        .before
        .as_deref()
        .map(|b| parse_u64(b, "before"))
        .transpose()?;
    let limit = match q.limit.as_deref() {
        None => BLOCKS_PAGE_DEFAULT,
        Some(l) => match usize::try_from(parse_u64(l, "limit")?) {
            Ok(n) if (1..=BLOCKS_PAGE_MAX).contains(&n) => n,
            _ => return Err(bad("invalid_number", "limit must be between 1 and 100")),
        },
    };
    let blocks = state.chain.blocks(before, limit)?;
    let next_before = blocks
        .last()
        .filter(|b| b.header.height > 1 && blocks.len() == limit)
        .map(|b| b.header.height);
    Ok(Json(BlocksPage {
        blocks: blocks.iter().map(BlockView::from).collect(),
        next_before,
    }))
}

/// A block by height, or by hash (64 hex digits).
#[utoipa::path(get, path = "/api/v1/chain/blocks/{id}", tag = "chain",
    params(("id" = String, Path, description = "height or block hash")),
    responses((status = 200, body = BlockDetail), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub(crate) async fn block(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<BlockDetail>, ApiError> {
    let height = if id.len() >= 64 {
        let hash = parse_hash(&id)?;
        state
            .chain
            .block_height(&hash)?
            .ok_or_else(|| missing("block"))?
    } else {
        parse_u64(&id, "the block height")?
    };
    let (meta, hashes) = state.chain.block(height)?.ok_or_else(|| missing("block"))?;
    Ok(Json(BlockDetail {
        block: BlockView::from(&meta),
        tx_hashes: hashes.iter().map(hex::encode).collect(),
    }))
}

/// A transaction by hash.
#[utoipa::path(get, path = "/api/v1/chain/txs/{hash}", tag = "chain",
    params(("hash" = String, Path, description = "transaction hash, hex")),
    responses((status = 200, body = TxView), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub(crate) async fn tx(
    State(state): State<AppState>,
    Path(hash): Path<String>,
) -> Result<Json<TxView>, ApiError> {
    let record = transaction(&hash, |h| state.chain.tx(h))?;
    Ok(Json(TxView::from(&record)))
}

/// A transaction's inclusion proof bundle, verifiable offline.
#[utoipa::path(get, path = "/api/v1/chain/txs/{hash}/proof", tag = "chain",
    params(("hash" = String, Path, description = "transaction hash, hex")),
    responses((status = 200, body = ProofBundleJson), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub(crate) async fn proof(
    State(state): State<AppState>,
    Path(hash): Path<String>,
) -> Result<Json<ProofBundleJson>, ApiError> {
    let bundle = transaction(&hash, |h| state.chain.proof(h))?;
    Ok(Json(ProofBundleJson::from(&bundle)))
}

/// An address's holdings and history.
#[utoipa::path(get, path = "/api/v1/chain/addresses/{address}", tag = "chain",
    params(("address" = String, Path, description = "0x + 40 hex digits"), TokensQuery),
    responses((status = 200, body = AddressView), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub(crate) async fn address(
    State(state): State<AppState>,
    Path(address): Path<String>,
    ApiQuery(q): ApiQuery<TokensQuery>,
) -> Result<Json<AddressView>, ApiError> {
    let address = parse_address(&address)?;
    let (offset, limit) = q.window()?;
    let page = state
        .chain
        .address(&address, offset, limit)?
        .ok_or_else(|| missing("address"))?;
    let end = offset.saturating_add(page.holdings.len());
    let next_offset = (end < page.holdings_total).then_some(end as u64);
    Ok(Json(AddressView {
        address: address.to_string(),
        holdings: page
            .holdings
            .into_iter()
            .map(|(c, id)| TokenRef {
                collection: c.as_str().to_owned(),
                token_id: id,
            })
            .collect(),
        holdings_total: page.holdings_total as u64,
        offset: offset as u64,
        next_offset,
        history: page.history.iter().map(TxView::from).collect(),
    }))
}

/// A token's owner, state and full history.
#[utoipa::path(get, path = "/api/v1/chain/tokens/{collection}/{token_id}", tag = "chain",
    params(("collection" = String, Path), ("token_id" = u64, Path)),
    responses((status = 200, body = TokenView), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub(crate) async fn token(
    State(state): State<AppState>,
    Path((collection, token_id)): Path<(String, String)>,
) -> Result<Json<TokenView>, ApiError> {
    let collection = parse_collection(&collection)?;
    let token_id = parse_u64(&token_id, "the token id")?;
    let (token, history) = state
        .chain
        .token(&collection, token_id)?
        .ok_or_else(|| missing("token"))?;
    let supply_cap = state
        .chain
        .collection_page(&collection, 0, 0)?
        .map_or(0, |c| c.spec.supply_cap);
    Ok(Json(TokenView {
        collection: collection.as_str().to_owned(),
        token_id,
        edition: token.edition,
        supply_cap,
        owner: token.owner.to_string(),
        content_hash: hex::encode(token.content_hash),
        frozen: token.frozen.is_some(),
        frozen_reason: token.frozen,
        burned: token.burned,
        history: history.iter().map(TxView::from).collect(),
    }))
}

/// A collection.
#[utoipa::path(get, path = "/api/v1/chain/collections/{collection}", tag = "chain",
    params(("collection" = String, Path), TokensQuery),
    responses((status = 200, body = CollectionView), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub(crate) async fn collection(
    State(state): State<AppState>,
    Path(collection): Path<String>,
    ApiQuery(q): ApiQuery<TokensQuery>,
) -> Result<Json<CollectionView>, ApiError> {
    let id = parse_collection(&collection)?;
    let (offset, limit) = q.window()?;
    let c = state
        .chain
        .collection_page(&id, offset, limit)?
        .ok_or_else(|| missing("collection"))?;
    let end = offset.saturating_add(c.tokens.len()) as u64;
    let next_offset = (end < c.minted && c.tokens.len() == limit).then_some(end);
    let created_by_tx = state
        .chain
        .txs_at(&[c.created_by])?
        .first()
        .map(|t| hex::encode(t.info.tx_hash))
        .unwrap_or_default();
    Ok(Json(CollectionView {
        collection: c.spec.collection.as_str().to_owned(),
        name: c.spec.name,
        symbol: c.spec.symbol,
        supply_cap: c.spec.supply_cap,
        issuer: c.spec.issuer,
        metadata_uri: c.spec.metadata_uri,
        metadata_hash: hex::encode(c.spec.metadata_hash),
        minted: c.minted,
        burned: c.burned,
        created_by_tx,
        token_ids: c.tokens,
        offset: offset as u64,
        next_offset,
    }))
}

/// The latest signed checkpoint (C2SP signed-note text), with the
/// configured witnesses' cosignatures once they have cosigned it.
#[utoipa::path(get, path = "/api/v1/chain/checkpoint", tag = "chain",
    responses((status = 200, content_type = "text/plain", body = String)))]
pub(crate) async fn checkpoint(
    State(state): State<AppState>,
) -> Result<impl IntoResponse, ApiError> {
    let text = state.cosigned.render(state.chain.checkpoint()?);
    Ok(([(CONTENT_TYPE, "text/plain; charset=utf-8")], text))
}

/// A consistency proof between two log sizes.
#[utoipa::path(get, path = "/api/v1/chain/consistency", tag = "chain", params(ConsistencyQuery),
    responses((status = 200, body = ConsistencyView), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub(crate) async fn consistency(
    State(state): State<AppState>,
    ApiQuery(q): ApiQuery<ConsistencyQuery>,
) -> Result<Json<ConsistencyView>, ApiError> {
    let (Some(from), Some(to)) = (q.from.as_deref(), q.to.as_deref()) else {
        return Err(bad("invalid_number", "give both from and to"));
    };
    let (from, to) = (parse_u64(from, "from")?, parse_u64(to, "to")?);
    if from == 0 || from > to {
        return Err(bad("invalid_number", "need 1 <= from <= to"));
    }
    let (proof, from_root, to_root) = state
        .chain
        .consistency(from, to)?
        .ok_or_else(|| missing("log size (to is beyond the log)"))?;
    Ok(Json(ConsistencyView {
        from,
        to,
        from_root: hex::encode(from_root),
        to_root: hex::encode(to_root),
        proof: proof.iter().map(hex::encode).collect(),
    }))
}
