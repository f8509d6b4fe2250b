//! The public block explorer: the chain's figures and latest blocks and
//! transactions with a chart of the last day, a block, a transaction, an
//! address, a token, a collection, and the search box.

use axum::extract::{Path, State};

use crate::kit::api::ApiQuery;
use axum::http::{StatusCode, Uri};
use axum::response::{IntoResponse, Redirect, Response};
use minijinja::{Value, context};
use serde::{Deserialize, Serialize};
use shucang_chain::{Address, CollectionId, Operation, TxRecord};

use super::{PlatformPage, parse_token, time, token_state};
use crate::AppState;
use crate::error::failure_page;

/// Blocks shown on the explorer's front page.
const FRONT_BLOCKS: usize = 20;
/// Longest search query looked at, in bytes.
const SEARCH_QUERY_MAX: usize = 200;

/// A transaction as the templates show it.
#[derive(Serialize)]
struct TxRow {
    hash: String,
    kind: &'static str,
    collection: Option<String>,
    height: u64,
    time: String,
    leaf: u64,
    signer: String,
    to: Option<String>,
    tokens: Vec<TokenRow>,
}

/// A token a transaction touches.
#[derive(Serialize)]
struct TokenRow {
    token_id: u64,
    owner: Option<String>,
}

fn tx_row(r: &TxRecord) -> TxRow {
    // One token touched, its owner unchanged by the operation.
    let one = |token_id: &u64| {
        vec![TokenRow {
            token_id: *token_id,
            owner: None,
        }]
    };
    let (kind, collection, to, tokens) = match &r.tx.tx.operation {
        Operation::CreateCollection(c) => ("create_collection", &c.collection, None, vec![]),
        Operation::Mint { collection, items } => {
            let minted = items
                .iter()
                .map(|i| TokenRow {
                    token_id: i.token_id,
                    owner: Some(i.owner.to_string()),
                })
                .collect();
            ("mint", collection, None, minted)
        }
        Operation::Transfer {
            collection,
            token_id,
            to,
        } => ("transfer", collection, Some(to.to_string()), one(token_id)),
        Operation::Freeze {
            collection,
            token_id,
            ..
        } => ("freeze", collection, None, one(token_id)),
        Operation::Unfreeze {
            collection,
            token_id,
            ..
        } => ("unfreeze", collection, None, one(token_id)),
        Operation::Burn {
            collection,
            token_id,
        } => ("burn", collection, None, one(token_id)),
    };
    TxRow {
        hash: hex::encode(r.info.tx_hash),
        kind,
        collection: Some(collection.as_str().to_owned()),
        height: r.info.height,
        time: time(r.timestamp_ms),
        leaf: r.leaf,
        signer: r.tx.tx.signer_address().to_string(),
        to,
        tokens,
    }
}

/// Transactions per minute over the 24 hours before `now_ms`: the SVG
/// (its labels are the page's, in HTML, so a phone's narrow chart does
/// not squash them) and the busiest minute's count.
fn chart(state: &AppState, now_ms: u64) -> (String, u64) {
    let since = now_ms.saturating_sub(86_400_000);
    let per_minute = state
        .chain
        .tx_per_minute(since, 1440)
        .unwrap_or_else(|_| vec![0; 1440]);
    let max = per_minute.iter().copied().max().unwrap_or(0).max(1);
    let (w, h) = (1440.0, 160.0);
    let points: Vec<String> = per_minute
        .iter()
        .enumerate()
        .map(|(i, n)| format!("{},{:.1}", i, h - (*n as f64 / max as f64) * (h - 10.0)))
        .collect();
    let peak = per_minute.iter().copied().max().unwrap_or(0);
    let svg = format!(
        "<svg class=\"chart\" viewBox=\"0 0 {w} {h}\" aria-hidden=\"true\" preserveAspectRatio=\"none\">\
         <polyline fill=\"none\" stroke=\"#b4232a\" stroke-width=\"2\" vector-effect=\"non-scaling-stroke\" points=\"{}\"/></svg>",
        points.join(" ")
    );
    (svg, peak)
}

/// `GET /explorer`.
pub(crate) async fn explorer(State(state): State<AppState>, c: PlatformPage) -> Response {
    let (stats, blocks) = match (state.chain.stats(), state.chain.blocks(None, FRONT_BLOCKS)) {
        (Ok(s), Ok(b)) => (s, b),
        (Err(e), _) | (_, Err(e)) => return failure_page(&e),
    };
    let mut leaves = Vec::new();
    for b in &blocks {
        let first = b.first_leaf;
        for i in (0..u64::from(b.header.tx_count)).rev() {
            if leaves.len() < FRONT_BLOCKS {
                leaves.push(first + i);
            }
        }
    }
    let txs = match state.chain.txs_at(&leaves) {
        Ok(t) => t.iter().map(tx_row).collect::<Vec<_>>(),
        Err(e) => return failure_page(&e),
    };
    let now = u64::try_from(state.clock.now().0)
        .unwrap_or(0)
        .max(blocks.first().map_or(0, |b| b.header.timestamp_ms));
    let block_rows: Vec<Value> = blocks
        .iter()
        .map(|b| {
            context! { height => b.header.height, hash => hex::encode(b.hash), tx_count => b.header.tx_count, time => time(b.header.timestamp_ms) }
        })
        .collect();
    let (svg, peak) = chart(&state, now);
    let extra = context! {
        stats => context! {
            height => stats.height, tx_count => stats.tx_count, token_count => stats.token_count,
            tps => format!("{:.1}", stats.recent_tps), suite => stats.suite.name(),
            node_key => hex::encode(&stats.node_key), genesis => hex::encode(stats.genesis_hash),
            vkey => state.chain.vkey().to_string(),
        },
        blocks => block_rows,
        txs => txs,
        chart => svg, chart_peak => peak,
    };
    c.render("explorer.html", extra, StatusCode::OK)
}

/// The 404 page, saying what the search did not find.
fn not_found(c: &PlatformPage, query: Option<&str>) -> Response {
    c.render(
        "not_found.html",
        context! { query => query },
        StatusCode::NOT_FOUND,
    )
}

/// `GET /explorer/blocks/{height}`.
pub(crate) async fn block(
    State(state): State<AppState>,
    Path(height): Path<String>,
    uri: Uri,
    c: PlatformPage,
) -> Result<Response, Response> {
    let Ok(height) = height.parse::<u64>() else {
        return Err(c.not_found());
    };
    let (meta, hashes) = c.found(state.chain.block(height))?;
    // A block of thousands of transactions shows them a page at a time.
    let paging = Paging::of(&uri, BLOCK_PAGE_TXS).ok_or_else(|| c.not_found())?;
    let pages = paging.pages(hashes.len()).ok_or_else(|| c.not_found())?;
    let page_no = paging.page;
    let first = paging.offset();
    let leaves: Vec<u64> = (first..hashes.len().min(first + BLOCK_PAGE_TXS))
        .map(|i| meta.first_leaf + i as u64)
        .collect();
    let txs = match state.chain.txs_at(&leaves) {
        Ok(t) => t.iter().map(tx_row).collect::<Vec<_>>(),
        Err(e) => return Err(failure_page(&e)),
    };
    let h = &meta.header;
    let extra = context! {
        b => context! {
            height => h.height, hash => hex::encode(meta.hash), prev_hash => hex::encode(h.prev_hash),
            time => time(h.timestamp_ms), tx_root => hex::encode(h.tx_root), log_size => h.log_size,
            log_root => hex::encode(h.log_root), proposer => hex::encode(&h.proposer),
            signature => hex::encode(meta.signature), tx_count => h.tx_count,
            page => page_no, pages => pages,
        },
        txs => txs,
    };
    Ok(c.render("block.html", extra, StatusCode::OK))
}

fn parse_hash(s: &str) -> Option<[u8; 32]> {
    let digits = s.strip_prefix("0x").unwrap_or(s);
    hex::decode(digits).ok()?.try_into().ok()
}

/// `GET /explorer/txs/{hash}`.
pub(crate) async fn tx(
    State(state): State<AppState>,
    Path(hash): Path<String>,
    c: PlatformPage,
) -> Result<Response, Response> {
    let Some(hash) = parse_hash(&hash) else {
        return Err(c.not_found());
    };
    let record = c.found(state.chain.tx(&hash))?;
    let extra = context! { tx => tx_row(&record), node_key => hex::encode(&state.chain.genesis().node_key) };
    Ok(c.render("tx.html", extra, StatusCode::OK))
}

/// `GET /explorer/addresses/{address}`.
pub(crate) async fn address(
    State(state): State<AppState>,
    Path(address): Path<String>,
    uri: Uri,
    c: PlatformPage,
) -> Result<Response, Response> {
    let Ok(address) = Address::parse(&address) else {
        return Err(c.not_found());
    };
    let paging = Paging::of(&uri, ADDRESS_PAGE_TOKENS).ok_or_else(|| c.not_found())?;
    let page = c.found(
        state
            .chain
            .address(&address, paging.offset(), ADDRESS_PAGE_TOKENS),
    )?;
    let pages = paging
        .pages(page.holdings_total)
        .ok_or_else(|| c.not_found())?;
    let holdings: Vec<Value> = page
        .holdings
        .iter()
        .map(|(coll, id)| context! { collection => coll.as_str(), token_id => id })
        .collect();
    let extra = context! {
        address => address.to_string(), holdings => holdings, holdings_total => page.holdings_total,
        page => paging.page, pages => pages,
        txs => page.history.iter().map(tx_row).collect::<Vec<_>>(),
    };
    Ok(c.render("address.html", extra, StatusCode::OK))
}

/// `GET /explorer/tokens/{collection}/{token_id}`.
pub(crate) async fn token(
    State(state): State<AppState>,
    Path((collection, token_id)): Path<(String, String)>,
    c: PlatformPage,
) -> Result<Response, Response> {
    let Some((coll, id)) = parse_token(&collection, &token_id) else {
        return Err(c.not_found());
    };
    let (tok, history) = c.found(state.chain.token(&coll, id))?;
    let cap = state
        .chain
        .collection_page(&coll, 0, 0)
        .ok()
        .flatten()
        .map_or(0, |c| c.spec.supply_cap);
    let st = token_state(tok.burned, tok.frozen.is_some());
    let extra = context! {
        tok => context! { collection => coll.as_str(), token_id => id, edition => tok.edition, supply_cap => cap, owner => tok.owner.to_string(), state => st },
        txs => history.iter().map(tx_row).collect::<Vec<_>>(),
    };
    Ok(c.render("token.html", extra, StatusCode::OK))
}

/// `GET /explorer/collections/{collection}`.
pub(crate) async fn collection(
    State(state): State<AppState>,
    Path(collection): Path<String>,
    uri: Uri,
    c: PlatformPage,
) -> Result<Response, Response> {
    let Ok(id) = CollectionId::parse(&collection) else {
        return Err(c.not_found());
    };
    let paging = Paging::of(&uri, COLLECTION_PAGE_TOKENS).ok_or_else(|| c.not_found())?;
    let coll = c.found(state.chain.collection_page(
        &id,
        paging.offset(),
        COLLECTION_PAGE_TOKENS,
    ))?;
    let minted = usize::try_from(coll.minted).unwrap_or(usize::MAX);
    let pages = paging.pages(minted).ok_or_else(|| c.not_found())?;
    let page_no = paging.page;
    let extra = context! {
        c => context! {
            id => coll.spec.collection.as_str(), name => coll.spec.name, issuer => coll.spec.issuer,
            address => id.address(state.chain.genesis().suite).to_string(),
            supply_cap => coll.spec.supply_cap, minted => coll.minted, token_ids => coll.tokens,
            page => page_no, pages => pages,
        },
    };
    Ok(c.render("collection.html", extra, StatusCode::OK))
}

/// Token ids per collection page.
const COLLECTION_PAGE_TOKENS: usize = 200;
/// Holdings per address page.
const ADDRESS_PAGE_TOKENS: usize = 200;
/// Transactions per block page.
const BLOCK_PAGE_TXS: usize = 100;

/// The page of a list shown `per_page` items at a time that `?page=N`
/// asks for.
struct Paging {
    /// From 1.
    page: usize,
    per_page: usize,
}

impl Paging {
    /// The `?page=N` of `uri` (1 when absent); `None` when it is not a
    /// number of at least 1.
    fn of(uri: &Uri, per_page: usize) -> Option<Paging> {
        let page = uri
            .query()
            .and_then(|q| q.split('&').find_map(|p| p.strip_prefix("page=")))
            .map_or(Some(1), |p| p.parse::<usize>().ok().filter(|n| *n >= 1))?;
        Some(Paging { page, per_page })
    }

    /// How many items come before this page.
    fn offset(&self) -> usize {
        (self.page - 1).saturating_mul(self.per_page)
    }

    /// How many pages `len` items fill (at least one); `None` when this
    /// page is past the last.
    fn pages(&self, len: usize) -> Option<usize> {
        let pages = len.div_ceil(self.per_page).max(1);
        (self.page <= pages).then_some(pages)
    }
}

/// The search box's query.
#[derive(Deserialize)]
pub(crate) struct SearchQuery {
    q: Option<String>,
    lang: Option<String>,
}

/// `GET /explorer/search?q=`: redirects to the match, or says nothing
/// matched (404, in the page).
pub(crate) async fn search(
    State(state): State<AppState>,
    query: Result<ApiQuery<SearchQuery>, crate::ApiError>,
    c: PlatformPage,
) -> Response {
    let Ok(ApiQuery(sq)) = query else {
        return c.failed(&crate::error::InvalidQuery);
    };
    let suffix = if sq.lang.as_deref() == Some("en") {
        "?lang=en"
    } else {
        ""
    };
    let query = sq.q.unwrap_or_default();
    let q = query.trim();
    if q.is_empty() || q.len() > SEARCH_QUERY_MAX {
        return not_found(&c, Some(q));
    }
    let found: Option<String> = (|| {
        if let Ok(h) = q.parse::<u64>() {
            return state
                .chain
                .block(h)
                .ok()
                .flatten()
                .map(|_| format!("/explorer/blocks/{h}"));
        }
        if let Some(hash) = parse_hash(q) {
            if state.chain.tx(&hash).ok().flatten().is_some() {
                return Some(format!("/explorer/txs/{}", hex::encode(hash)));
            }
            return state
                .chain
                .block_height(&hash)
                .ok()
                .flatten()
                .map(|h| format!("/explorer/blocks/{h}"));
        }
        if let Ok(a) = Address::parse(q) {
            return state
                .chain
                .address_known(&a)
                .unwrap_or(false)
                .then(|| format!("/explorer/addresses/{a}"));
        }
        let (coll, token) = match q.split_once(['/', '#', ' ']) {
            Some((c, t)) => (c.trim(), Some(t.trim().trim_start_matches('#'))),
            None => (q, None),
        };
        let coll = CollectionId::parse(coll).ok()?;
        match token {
            Some(t) => {
                let id = t.parse::<u64>().ok()?;
                state
                    .chain
                    .token(&coll, id)
                    .ok()
                    .flatten()
                    .map(|_| format!("/explorer/tokens/{}/{id}", coll.as_str()))
            }
            None => state
                .chain
                .collection_page(&coll, 0, 0)
                .ok()
                .flatten()
                .map(|_| format!("/explorer/collections/{}", coll.as_str())),
        }
    })();
    match found {
        Some(to) => Redirect::to(&format!("{to}{suffix}")).into_response(),
        None => not_found(&c, Some(q)),
    }
}
