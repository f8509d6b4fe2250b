//! Server-rendered pages: templates (minijinja, auto-escaped by the `.html`
//! name), translations (one table per language, zh-CN by default, English
//! with `?lang=en` or an `Accept-Language` preferring English), and the
//! public block explorer.

use std::collections::BTreeMap;

use axum::extract::{Path, Query, State};
use axum::http::header::{ACCEPT_LANGUAGE, CACHE_CONTROL, CONTENT_TYPE};
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{Html, IntoResponse, Redirect, Response};
use minijinja::{Environment, Value, context};
use serde::{Deserialize, Serialize};
use shucang_chain::{Address, CollectionId, Operation, TxRecord};
use shucang_types::UnixMillis;

use crate::AppState;

/// Blocks shown on the explorer's front page.
const FRONT_BLOCKS: usize = 20;
/// Blocks read to draw the last day's chart, at most.
const CHART_BLOCKS_MAX: usize = 20_000;
/// Longest search query looked at, in bytes.
const SEARCH_QUERY_MAX: usize = 200;

/// The site information every footer shows.
#[derive(Debug, Clone, Default, Serialize)]
pub struct SiteInfo {
    /// The site's name.
    pub name: Option<String>,
    /// 区块链信息服务备案编号.
    pub blockchain_filing_number: Option<String>,
    /// ICP number.
    pub icp_number: Option<String>,
    /// Public-security filing number.
    pub public_security_filing_number: Option<String>,
    /// The technical provider's full name.
    pub technical_provider: Option<String>,
    /// The public base URL for certificates, when configured.
    pub public_url: Option<String>,
}

/// A page language.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    /// Simplified Chinese, the default.
    ZhCn,
    /// English.
    En,
}

impl Lang {
    fn code(self) -> &'static str {
        match self {
            Lang::ZhCn => "zh-CN",
            Lang::En => "en",
        }
    }
}

/// The compiled templates and the translation tables.
pub struct Pages {
    env: Environment<'static>,
    zh: BTreeMap<String, String>,
    en: BTreeMap<String, String>,
}

fn table(json: &str) -> BTreeMap<String, String> {
    serde_json::from_str(json).expect("the translation tables are valid JSON (tested)")
}

impl Pages {
    /// Compiles the built-in templates.
    pub fn new() -> Pages {
        let mut env = Environment::new();
        let templates = [
            ("base.html", include_str!("../templates/base.html")),
            ("macros.html", include_str!("../templates/macros.html")),
            ("explorer.html", include_str!("../templates/explorer.html")),
            ("block.html", include_str!("../templates/block.html")),
            ("tx.html", include_str!("../templates/tx.html")),
            ("address.html", include_str!("../templates/address.html")),
            ("token.html", include_str!("../templates/token.html")),
            (
                "collection.html",
                include_str!("../templates/collection.html"),
            ),
            (
                "not_found.html",
                include_str!("../templates/not_found.html"),
            ),
            (
                "collectible.html",
                include_str!("../templates/collectible.html"),
            ),
            (
                "complaints.html",
                include_str!("../templates/complaints.html"),
            ),
            (
                "complaint.html",
                include_str!("../templates/complaint.html"),
            ),
            ("home.html", include_str!("../templates/home.html")),
            ("login.html", include_str!("../templates/login.html")),
            ("identity.html", include_str!("../templates/identity.html")),
            ("order.html", include_str!("../templates/order.html")),
            ("staff.html", include_str!("../templates/staff.html")),
            (
                "my_collection.html",
                include_str!("../templates/my_collection.html"),
            ),
            ("drop.html", include_str!("../templates/drop.html")),
            (
                "certificate.html",
                include_str!("../templates/certificate.html"),
            ),
            (
                "staff_orders.html",
                include_str!("../templates/staff_orders.html"),
            ),
        ];
        for (name, source) in templates {
            env.add_template(name, source)
                .expect("the built-in templates compile (tested)");
        }
        Pages {
            env,
            zh: table(include_str!("../i18n/zh-CN.json")),
            en: table(include_str!("../i18n/en.json")),
        }
    }

    fn render(&self, name: &str, page: &PageCtx, extra: Value) -> Result<String, minijinja::Error> {
        let t = match page.lang {
            Lang::ZhCn => &self.zh,
            Lang::En => &self.en,
        };
        let base = context! {
            t => t,
            lang => page.lang.code(),
            q => page.q(),
            other_lang_url => page.other_lang_url(),
            site => &page.site,
            user => &page.user,
            staff => page.role.is_some_and(|r| matches!(r, shucang_types::Role::Reviewer | shucang_types::Role::SystemAdmin)),
            csrf => &page.csrf,
        };
        self.env
            .get_template(name)?
            .render(context! { ..extra, ..base })
    }
}

impl Pages {
    /// One translated string (the key itself if missing, which the
    /// translation test rules out for built-in keys).
    pub(crate) fn text<'a>(&'a self, lang: Lang, key: &'a str) -> &'a str {
        let table = match lang {
            Lang::ZhCn => &self.zh,
            Lang::En => &self.en,
        };
        table.get(key).map_or(key, String::as_str)
    }
}

impl Default for Pages {
    fn default() -> Pages {
        Pages::new()
    }
}

/// Per-request page context: language, path, site information.
pub(crate) struct PageCtx {
    lang: Lang,
    path: String,
    site: SiteInfo,
    /// The logged-in account's masked phone number.
    user: Option<String>,
    /// The logged-in account.
    pub(crate) account_id: Option<i64>,
    /// Its role.
    pub(crate) role: Option<shucang_types::Role>,
    /// The form token for this browser.
    csrf: String,
    /// Whether the browser has yet to receive it.
    csrf_is_new: bool,
}

impl PageCtx {
    fn q(&self) -> &'static str {
        match self.lang {
            Lang::ZhCn => "",
            Lang::En => "?lang=en",
        }
    }

    fn other_lang_url(&self) -> String {
        match self.lang {
            Lang::ZhCn => format!("{}?lang=en", self.path),
            Lang::En => format!("{}?lang=zh-CN", self.path),
        }
    }
}

/// The language a request asks for.
pub(crate) fn lang_of(query: Option<&str>, headers: &HeaderMap) -> Lang {
    if let Some(q) = query {
        for pair in q.split('&') {
            match pair {
                "lang=en" => return Lang::En,
                "lang=zh-CN" | "lang=zh" => return Lang::ZhCn,
                _ => {}
            }
        }
    }
    let accept = headers
        .get(ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    match accept.split(',').next().map(str::trim) {
        Some(first) if first.to_ascii_lowercase().starts_with("en") => Lang::En,
        _ => Lang::ZhCn,
    }
}

async fn ctx(state: &AppState, uri: &Uri, headers: &HeaderMap) -> PageCtx {
    let account = match crate::auth::token_from_headers(headers) {
        Some(token) => state.accounts.authenticate(&token).await.ok().flatten(),
        None => None,
    };
    let user = account.as_ref().map(|a| a.phone.masked());
    let role = account.as_ref().map(|a| a.role);
    let account_id = account.map(|a| a.id);
    let (csrf, csrf_is_new) = match crate::forms::csrf_from_cookie(headers) {
        Some(token) => (token, false),
        None => (crate::forms::new_csrf(), true),
    };
    PageCtx {
        lang: lang_of(uri.query(), headers),
        path: uri.path().to_owned(),
        site: state.site.clone(),
        user,
        account_id,
        role,
        csrf,
        csrf_is_new,
    }
}

fn page(state: &AppState, c: &PageCtx, name: &str, extra: Value, status: StatusCode) -> Response {
    match state.pages.render(name, c, extra) {
        Ok(html) => {
            let mut res = (status, Html(html)).into_response();
            if c.csrf_is_new
                && let Ok(v) =
                    axum::http::HeaderValue::from_str(&crate::forms::csrf_cookie(&c.csrf))
            {
                res.headers_mut().append(axum::http::header::SET_COOKIE, v);
            }
            res
        }
        Err(e) => {
            tracing::error!(error = %e, template = name, "page rendering failed");
            server_error_page()
        }
    }
}

/// The page context of a request (language, logged-in account, form token).
pub(crate) async fn page_ctx(state: &AppState, uri: &Uri, headers: &HeaderMap) -> PageCtx {
    ctx(state, uri, headers).await
}

/// Renders a template with a context already made.
pub(crate) fn render_with(
    state: &AppState,
    c: &PageCtx,
    name: &str,
    extra: Value,
    status: StatusCode,
) -> Response {
    page(state, c, name, extra, status)
}

/// Renders a page template for a request (language from the request).
pub(crate) async fn render_page(
    state: &AppState,
    uri: &Uri,
    headers: &HeaderMap,
    name: &str,
    extra: Value,
    status: StatusCode,
) -> Response {
    let c = ctx(state, uri, headers).await;
    page(state, &c, name, extra, status)
}

fn not_found(state: &AppState, c: &PageCtx, query: Option<&str>) -> Response {
    page(
        state,
        c,
        "not_found.html",
        context! { query => query },
        StatusCode::NOT_FOUND,
    )
}

/// The value, or the page's answer when there is none (404) or it failed (500).
// The error is the finished response, handed straight back to axum; boxing
// it would only add an allocation to every miss.
#[allow(clippy::result_large_err)]
fn or_page<T, E: std::fmt::Display>(
    r: Result<Option<T>, E>,
    state: &AppState,
    c: &PageCtx,
) -> Result<T, Response> {
    match r {
        Ok(Some(v)) => Ok(v),
        Ok(None) => Err(not_found(state, c, None)),
        Err(e) => Err(internal(e)),
    }
}

/// A stored instant as the pages show it (China time).
pub(crate) fn china_time(at: UnixMillis) -> String {
    time(u64::try_from(at.0).unwrap_or(0))
}

fn time(ms: u64) -> String {
    // Shown in China time: the UTC instant plus eight hours, labelled.
    let t = UnixMillis(i64::try_from(ms).unwrap_or(i64::MAX))
        .plus_ms(8 * 3_600_000)
        .to_rfc3339_utc();
    format!("{} {}", &t[..10], &t[11..19])
}

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

#[derive(Serialize)]
struct TokenRow {
    token_id: u64,
    owner: Option<String>,
}

fn tx_row(r: &TxRecord) -> TxRow {
    let op = &r.tx.tx.operation;
    let (kind, collection, to, tokens) = match op {
        Operation::CreateCollection { collection, .. } => {
            ("create_collection", Some(collection), None, vec![])
        }
        Operation::Mint { collection, items } => (
            "mint",
            Some(collection),
            None,
            items
                .iter()
                .map(|i| TokenRow {
                    token_id: i.token_id,
                    owner: Some(i.owner.to_string()),
                })
                .collect(),
        ),
        Operation::Transfer {
            collection,
            token_id,
            to,
        } => (
            "transfer",
            Some(collection),
            Some(to.to_string()),
            vec![TokenRow {
                token_id: *token_id,
                owner: None,
            }],
        ),
        Operation::Freeze {
            collection,
            token_id,
            ..
        } => (
            "freeze",
            Some(collection),
            None,
            vec![TokenRow {
                token_id: *token_id,
                owner: None,
            }],
        ),
        Operation::Unfreeze {
            collection,
            token_id,
            ..
        } => (
            "unfreeze",
            Some(collection),
            None,
            vec![TokenRow {
                token_id: *token_id,
                owner: None,
            }],
        ),
        Operation::Burn {
            collection,
            token_id,
        } => (
            "burn",
            Some(collection),
            None,
            vec![TokenRow {
                token_id: *token_id,
                owner: None,
            }],
        ),
    };
    TxRow {
        hash: hex::encode(r.info.tx_hash),
        kind,
        collection: collection.map(|c| c.as_str().to_owned()),
        height: r.info.height,
        time: time(r.timestamp_ms),
        leaf: r.leaf,
        signer: r.tx.tx.signer_address().to_string(),
        to,
        tokens,
    }
}

fn internal(e: impl std::fmt::Display) -> Response {
    tracing::error!(error = %e, "page failed");
    server_error_page()
}

/// The 500 page: static, in both languages, in the site's style, with no
/// detail of the failure (that goes to the log). Static so that it still
/// shows when templates or storage are what failed.
pub(crate) fn server_error_page() -> Response {
    (
        StatusCode::INTERNAL_SERVER_ERROR,
        Html(include_str!("../static/500.html")),
    )
        .into_response()
}

/// Transactions per minute over the 24 hours before `now_ms`, as an SVG.
fn chart(state: &AppState, now_ms: u64) -> String {
    let since = now_ms.saturating_sub(86_400_000);
    let mut per_minute = vec![0u64; 1440];
    if let Ok(blocks) = state.chain.blocks(None, CHART_BLOCKS_MAX) {
        for b in blocks.iter().take_while(|b| b.header.timestamp_ms >= since) {
            let minute = ((b.header.timestamp_ms - since) / 60_000).min(1439) as usize;
            per_minute[minute] += u64::from(b.header.tx_count);
        }
    }
    let max = per_minute.iter().copied().max().unwrap_or(0).max(1);
    let (w, h) = (1440.0, 160.0);
    let points: Vec<String> = per_minute
        .iter()
        .enumerate()
        .map(|(i, n)| format!("{},{:.1}", i, h - (*n as f64 / max as f64) * (h - 10.0)))
        .collect();
    format!(
        "<svg class=\"chart\" viewBox=\"0 0 {w} {h}\" role=\"img\" aria-label=\"tx/min\" preserveAspectRatio=\"none\">\
         <polyline fill=\"none\" stroke=\"#b4232a\" stroke-width=\"2\" points=\"{}\"/>\
         <text x=\"4\" y=\"14\" font-size=\"12\" fill=\"#59636e\">max {max}/min</text></svg>",
        points.join(" ")
    )
}

/// `GET /explorer`.
pub(crate) async fn explorer(
    State(state): State<AppState>,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    let c = ctx(&state, &uri, &headers).await;
    let (stats, blocks) = match (state.chain.stats(), state.chain.blocks(None, FRONT_BLOCKS)) {
        (Ok(s), Ok(b)) => (s, b),
        (Err(e), _) | (_, Err(e)) => return internal(e),
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
        Err(e) => return internal(e),
    };
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
        .max(blocks.first().map_or(0, |b| b.header.timestamp_ms));
    let block_rows: Vec<Value> = blocks
        .iter()
        .map(|b| {
            context! { height => b.header.height, hash => hex::encode(b.hash), tx_count => b.header.tx_count, time => time(b.header.timestamp_ms) }
        })
        .collect();
    let extra = context! {
        stats => context! {
            height => stats.height, tx_count => stats.tx_count, token_count => stats.token_count,
            tps => format!("{:.1}", stats.recent_tps), suite => stats.suite.name(),
            node_key => hex::encode(&stats.node_key), genesis => hex::encode(stats.genesis_hash),
        },
        blocks => block_rows,
        txs => txs,
        chart => chart(&state, now),
    };
    page(&state, &c, "explorer.html", extra, StatusCode::OK)
}

/// `GET /explorer/blocks/{height}`.
pub(crate) async fn block(
    State(state): State<AppState>,
    Path(height): Path<String>,
    uri: Uri,
    headers: HeaderMap,
) -> Result<Response, Response> {
    let c = ctx(&state, &uri, &headers).await;
    let Ok(height) = height.parse::<u64>() else {
        return Err(not_found(&state, &c, None));
    };
    let (meta, hashes) = or_page(state.chain.block(height), &state, &c)?;
    // A block of thousands of transactions shows them a page at a time.
    let pages = hashes.len().div_ceil(BLOCK_PAGE_TXS).max(1);
    let Some(page_no) = page_param(&uri).filter(|p| *p <= pages) else {
        return Err(not_found(&state, &c, None));
    };
    let first = (page_no - 1) * BLOCK_PAGE_TXS;
    let leaves: Vec<u64> = (first..hashes.len().min(first + BLOCK_PAGE_TXS))
        .map(|i| meta.first_leaf + i as u64)
        .collect();
    let txs = match state.chain.txs_at(&leaves) {
        Ok(t) => t.iter().map(tx_row).collect::<Vec<_>>(),
        Err(e) => return Err(internal(e)),
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
    Ok(page(&state, &c, "block.html", extra, StatusCode::OK))
}

fn parse_hash(s: &str) -> Option<[u8; 32]> {
    let digits = s.strip_prefix("0x").unwrap_or(s);
    hex::decode(digits).ok()?.try_into().ok()
}

/// `GET /explorer/txs/{hash}`.
pub(crate) async fn tx(
    State(state): State<AppState>,
    Path(hash): Path<String>,
    uri: Uri,
    headers: HeaderMap,
) -> Result<Response, Response> {
    let c = ctx(&state, &uri, &headers).await;
    let Some(hash) = parse_hash(&hash) else {
        return Err(not_found(&state, &c, None));
    };
    let record = or_page(state.chain.tx(&hash), &state, &c)?;
    let extra = context! { tx => tx_row(&record), node_key => hex::encode(&state.chain.genesis().node_key) };
    Ok(page(&state, &c, "tx.html", extra, StatusCode::OK))
}

/// `GET /explorer/addresses/{address}`.
pub(crate) async fn address(
    State(state): State<AppState>,
    Path(address): Path<String>,
    uri: Uri,
    headers: HeaderMap,
) -> Result<Response, Response> {
    let c = ctx(&state, &uri, &headers).await;
    let Ok(address) = Address::parse(&address) else {
        return Err(not_found(&state, &c, None));
    };
    let (holdings, history) = or_page(state.chain.address(&address), &state, &c)?;
    let holdings: Vec<Value> = holdings
        .iter()
        .map(|(coll, id)| context! { collection => coll.as_str(), token_id => id })
        .collect();
    let extra = context! { address => address.to_string(), holdings => holdings, txs => history.iter().map(tx_row).collect::<Vec<_>>() };
    Ok(page(&state, &c, "address.html", extra, StatusCode::OK))
}

/// `GET /explorer/tokens/{collection}/{token_id}`.
pub(crate) async fn token(
    State(state): State<AppState>,
    Path((collection, token_id)): Path<(String, String)>,
    uri: Uri,
    headers: HeaderMap,
) -> Result<Response, Response> {
    let c = ctx(&state, &uri, &headers).await;
    let Some((coll, id)) = parse_token(&collection, &token_id) else {
        return Err(not_found(&state, &c, None));
    };
    let (tok, history) = or_page(state.chain.token(&coll, id), &state, &c)?;
    let cap = state
        .chain
        .collection_page(&coll, 0, 0)
        .ok()
        .flatten()
        .map_or(0, |c| c.supply_cap);
    let st = token_state(tok.burned, tok.frozen.is_some());
    let extra = context! {
        tok => context! { collection => coll.as_str(), token_id => id, edition => tok.edition, supply_cap => cap, owner => tok.owner.to_string(), state => st },
        txs => history.iter().map(tx_row).collect::<Vec<_>>(),
    };
    Ok(page(&state, &c, "token.html", extra, StatusCode::OK))
}

/// The collection and token id of a `{collection}/{token_id}` path.
fn parse_token(collection: &str, token_id: &str) -> Option<(CollectionId, u64)> {
    Some((
        CollectionId::parse(collection).ok()?,
        token_id.parse().ok()?,
    ))
}

/// A token's state code as the pages show it.
fn token_state(burned: bool, frozen: bool) -> &'static str {
    if burned {
        "burned"
    } else if frozen {
        "frozen"
    } else {
        "active"
    }
}

/// `GET /explorer/collections/{collection}`.
pub(crate) async fn collection(
    State(state): State<AppState>,
    Path(collection): Path<String>,
    uri: Uri,
    headers: HeaderMap,
) -> Result<Response, Response> {
    let c = ctx(&state, &uri, &headers).await;
    let Ok(id) = CollectionId::parse(&collection) else {
        return Err(not_found(&state, &c, None));
    };
    let Some(page_no) = page_param(&uri) else {
        return Err(not_found(&state, &c, None));
    };
    let offset = (page_no - 1).saturating_mul(COLLECTION_PAGE_TOKENS);
    let coll = or_page(
        state
            .chain
            .collection_page(&id, offset, COLLECTION_PAGE_TOKENS),
        &state,
        &c,
    )?;
    let pages = usize::try_from(coll.minted)
        .unwrap_or(usize::MAX)
        .div_ceil(COLLECTION_PAGE_TOKENS)
        .max(1);
    if page_no > pages {
        return Err(not_found(&state, &c, None));
    }
    let extra = context! {
        c => context! {
            id => coll.id.as_str(), name => coll.name, issuer => coll.issuer,
            address => id.address(state.chain.genesis().suite).to_string(),
            supply_cap => coll.supply_cap, minted => coll.minted, token_ids => coll.tokens,
            page => page_no, pages => pages,
        },
    };
    Ok(page(&state, &c, "collection.html", extra, StatusCode::OK))
}

/// Token ids per collection page.
const COLLECTION_PAGE_TOKENS: usize = 200;
/// Transactions per block page.
const BLOCK_PAGE_TXS: usize = 100;

/// The `?page=N` of a paged list (from 1; 1 when absent); `None` when it
/// is not a number of at least 1.
fn page_param(uri: &Uri) -> Option<usize> {
    uri.query()
        .and_then(|q| q.split('&').find_map(|p| p.strip_prefix("page=")))
        .map_or(Some(1), |p| p.parse::<usize>().ok().filter(|n| *n >= 1))
}

/// `GET /collectibles/{collection}/{token_id}`: the collectible page with
/// its on-chain record, each part linked to the explorer.
pub(crate) async fn collectible(
    State(state): State<AppState>,
    Path((collection, token_id)): Path<(String, String)>,
    uri: Uri,
    headers: HeaderMap,
) -> Result<Response, Response> {
    let c = ctx(&state, &uri, &headers).await;
    let (coll, id, found) = find_collectible(&state, &c, &collection, &token_id).await?;
    let done = uri.query().is_some_and(|q| q.contains("gifted=1"));
    Ok(collectible_view(&state, &c, &coll, id, found, None, done, StatusCode::OK).await)
}

/// Renders a collectible page; the gift form shows for its holder.
#[allow(clippy::too_many_arguments)]
pub(crate) async fn collectible_view(
    state: &AppState,
    c: &PageCtx,
    coll: &CollectionId,
    id: u64,
    found: shucang_platform::Collectible,
    error: Option<&str>,
    done: bool,
    status: StatusCode,
) -> Response {
    let is_holder = match c.account_id {
        Some(account) => state
            .identity
            .identity(account)
            .await
            .ok()
            .flatten()
            .is_some_and(|v| v.address == found.owner && !found.burned),
        None => false,
    };
    let policy = state.collectibles.policy();
    let day = 86_400_000;
    let t = match c.lang {
        Lang::ZhCn => &state.pages.zh,
        Lang::En => &state.pages.en,
    };
    let gift_rules = t
        .get("gift_rules")
        .map(|r| {
            r.replace("{purchase}", &(policy.after_purchase_ms / day).to_string())
                .replace("{gift}", &(policy.after_gift_ms / day).to_string())
                .replace("{daily}", &policy.daily_limit.to_string())
        })
        .unwrap_or_default();
    let history: Vec<Value> = found
        .history
        .iter()
        .map(|h| {
            context! {
                kind => h.kind, time => time(h.tx.timestamp_ms), hash => hex::encode(h.tx.info.tx_hash),
                from => h.from.map(|a| a.to_string()), to => h.to.map(|a| a.to_string()),
            }
        })
        .collect();
    let giftable = state.collectibles.giftable_from(&found);
    let extra = context! {
        c => context! {
            state => token_state(found.burned, found.frozen.is_some()),
            giftable_from => time(u64::try_from(giftable.0).unwrap_or(0)),
            history => history,
            ..collectible_fields(state, coll, id, &found)
        },
        gift_rules => gift_rules,
    };
    let extra = context! { is_holder => is_holder, error => error, done => done, ..extra };
    page(state, c, "collectible.html", extra, status)
}

/// The collectible a `/collectibles/{collection}/{token_id}` path names, or
/// the page to answer instead (404 for a malformed or unknown one).
async fn find_collectible(
    state: &AppState,
    c: &PageCtx,
    collection: &str,
    token_id: &str,
) -> Result<(CollectionId, u64, shucang_platform::Collectible), Response> {
    let Some((coll, id)) = parse_token(collection, token_id) else {
        return Err(not_found(state, c, None));
    };
    let found = or_page(state.collectibles.collectible(&coll, id).await, state, c)?;
    Ok((coll, id, found))
}

/// What the collectible page and its certificate both show: the work, the
/// edition, the holder and the on-chain record.
fn collectible_fields(
    state: &AppState,
    coll: &CollectionId,
    id: u64,
    found: &shucang_platform::Collectible,
) -> Value {
    let mint = found.history.first();
    context! {
        title => found.work.work.title, issuer => found.work.work.issuer,
        image_url => format!("/api/v1/works/{}/image", found.work.id),
        edition => found.edition, edition_size => found.edition_size,
        owner_name => found.owner_name, owner => found.owner.to_string(),
        chain_name => state.chain.genesis().origin.clone(),
        collection => coll.as_str(), collection_address => found.collection_address.to_string(),
        token_id => id,
        mint_tx => mint.map(|m| hex::encode(m.tx.info.tx_hash)),
        mint_height => mint.map(|m| m.tx.info.height),
    }
}

/// `GET /collectibles/{collection}/{token_id}/certificate`: the
/// certificate (数字藏品证书), printable, with a QR code that opens the
/// token's explorer page.
pub(crate) async fn certificate(
    State(state): State<AppState>,
    Path((collection, token_id)): Path<(String, String)>,
    uri: Uri,
    headers: HeaderMap,
) -> Result<Response, Response> {
    let c = ctx(&state, &uri, &headers).await;
    let (coll, id, found) = find_collectible(&state, &c, &collection, &token_id).await?;
    let explorer_url = token_explorer_url(&state, &headers, &coll, id);
    let qr = qr_svg(&explorer_url);
    let mint = found.history.first();
    let last = found.history.last();
    let extra = context! {
        c => context! {
            burned => found.burned,
            mint_time => mint.map(|m| time(m.tx.timestamp_ms)),
            owned_since => last.map(|m| time(m.tx.timestamp_ms)),
            explorer_url => explorer_url,
            ..collectible_fields(&state, &coll, id, &found)
        },
        qr_svg => Value::from_safe_string(qr),
        png_available => state.certificate_font.is_some(),
    };
    Ok(page(&state, &c, "certificate.html", extra, StatusCode::OK))
}

/// `GET /collectibles/{collection}/{token_id}/certificate.png`: the same
/// certificate as a downloadable image, in the request's language. Needs a
/// CJK font (`site.certificate_font` or an installed system one); without
/// one the answer is 503 `certificate_font_missing` and the certificate
/// page does not offer the link.
pub(crate) async fn certificate_png(
    State(state): State<AppState>,
    Path((collection, token_id)): Path<(String, String)>,
    uri: Uri,
    headers: HeaderMap,
) -> Result<Response, Response> {
    let c = ctx(&state, &uri, &headers).await;
    let (coll, id, found) = find_collectible(&state, &c, &collection, &token_id).await?;
    let Some(font) = state.certificate_font.clone() else {
        return Err(crate::ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "certificate_font_missing",
            "certificate images need a Chinese font; set site.certificate_font",
        )
        .into_response());
    };
    let t = |key: &'static str| state.pages.text(c.lang, key).to_owned();
    let explorer_url = token_explorer_url(&state, &headers, &coll, id);
    let mint = found.history.first();
    let at = |ms: Option<u64>| {
        ms.map_or_else(
            || t("none"),
            |ms| format!("{} {}", time(ms), t("china_time")),
        )
    };
    let mut rows = vec![
        (t("cert_work"), found.work.work.title.clone()),
        (
            t("cert_edition"),
            format!("#{}/{}", found.edition, found.edition_size),
        ),
        (t("collectible_issuer"), found.work.work.issuer.clone()),
        (
            t("collectible_owner"),
            found.owner_name.clone().unwrap_or_else(|| t("none")),
        ),
        (t("owner_address"), found.owner.to_string()),
        (t("chain_name"), state.chain.genesis().origin.clone()),
        (t("collection_addr"), found.collection_address.to_string()),
        (t("token_id"), format!("{} / {id}", coll.as_str())),
        (
            t("mint_tx"),
            mint.map_or_else(|| t("none"), |m| hex::encode(m.tx.info.tx_hash)),
        ),
        (
            t("mint_height"),
            mint.map_or_else(|| t("none"), |m| m.tx.info.height.to_string()),
        ),
        (t("cert_mint_time"), at(mint.map(|m| m.tx.timestamp_ms))),
        (
            t("cert_owned_since"),
            at(found.history.last().map(|m| m.tx.timestamp_ms)),
        ),
    ];
    if found.burned {
        rows.push((t("cert_state"), t("state_burned")));
    }
    let filing = state
        .site
        .blockchain_filing_number
        .clone()
        .unwrap_or_else(|| t("not_configured"));
    let cert = shucang_certificate::Certificate {
        site: state.site.name.clone().unwrap_or_else(|| t("site_name")),
        heading: t("cert_title"),
        intro: t("cert_intro"),
        rows,
        qr_url: explorer_url,
        qr_caption: t("cert_scan"),
        footer: vec![
            format!("{}{}{filing}", t("footer_filing"), t("sep")),
            t("footer_no_trading"),
        ],
    };
    // Drawing and compressing takes some milliseconds of CPU: off the
    // request threads.
    let png = tokio::task::spawn_blocking(move || {
        font.get()
            .and_then(|f| shucang_certificate::render(f, &cert))
    })
    .await
    .map_err(internal)?
    .map_err(internal)?;
    let filename = format!("certificate-{}-{id}.png", coll.as_str());
    Ok((
        [
            (axum::http::header::CONTENT_TYPE, "image/png".to_owned()),
            (axum::http::header::CACHE_CONTROL, "no-cache".to_owned()),
            (
                axum::http::header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{filename}\""),
            ),
        ],
        png,
    )
        .into_response())
}

/// The token's explorer page as printed on its certificate and in its QR
/// code.
fn token_explorer_url(
    state: &AppState,
    headers: &HeaderMap,
    coll: &CollectionId,
    id: u64,
) -> String {
    format!(
        "{}/explorer/tokens/{}/{id}",
        public_base(state, headers),
        coll.as_str()
    )
}

/// The base URL printed on certificates: the configured public URL, or the
/// host the browser asked for when it is a plain host name.
fn public_base(state: &AppState, headers: &HeaderMap) -> String {
    if let Some(url) = &state.site.public_url {
        return url.clone();
    }
    let host = headers
        .get(axum::http::header::HOST)
        .and_then(|h| h.to_str().ok())
        .filter(|h| {
            !h.is_empty()
                && h.len() <= 253
                && h.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b".-:[]".contains(&b))
        })
        .unwrap_or("localhost");
    format!("http://{host}")
}

/// The QR code for `url` as inline SVG (black modules on white, with the
/// standard four-module quiet zone).
fn qr_svg(url: &str) -> String {
    match qrcode::QrCode::with_error_correction_level(url.as_bytes(), qrcode::EcLevel::M) {
        Ok(code) => {
            let svg = code
                .render::<qrcode::render::svg::Color<'_>>()
                .min_dimensions(160, 160)
                .quiet_zone(true)
                .build();
            // Inline in HTML: drop the XML declaration before `<svg`.
            match svg.find("<svg") {
                Some(at) => svg[at..].to_owned(),
                None => String::new(),
            }
        }
        // Only a URL longer than a QR code holds fails; the base URL is
        // bounded to 200 bytes, so this shows nothing rather than erring.
        Err(_) => String::new(),
    }
}

fn drop_card(
    state: &AppState,
    d: &shucang_platform::DropRecord,
    now_ms: i64,
    t: &BTreeMap<String, String>,
) -> Value {
    let phase = state.drops.phase(d);
    let left = d.drop.starts_at.ms_since(UnixMillis(now_ms)).max(0);
    let word = |k: &str| t.get(k).cloned().unwrap_or_default();
    let countdown = format!(
        "{} {} {} {} {} {}",
        left / 86_400_000,
        word("days"),
        left / 3_600_000 % 24,
        word("hours"),
        left / 60_000 % 60,
        word("minutes")
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

/// Works shown on the home page, at most.
const FEATURED_WORKS_MAX: usize = 6;

fn table_of<'a>(state: &'a AppState, c: &PageCtx) -> &'a BTreeMap<String, String> {
    match c.lang {
        Lang::ZhCn => &state.pages.zh,
        Lang::En => &state.pages.en,
    }
}

/// `GET /`: drops on sale and upcoming.
pub(crate) async fn home(State(state): State<AppState>, uri: Uri, headers: HeaderMap) -> Response {
    let c = ctx(&state, &uri, &headers).await;
    let drops = match state.drops.list(100).await {
        Ok(d) => d,
        Err(e) => return internal(e),
    };
    let now = state.payments.now().0;
    let t = table_of(&state, &c);
    let mut on_sale = Vec::new();
    let mut upcoming = Vec::new();
    for d in &drops {
        match state.drops.phase(d) {
            shucang_platform::DropPhase::OnSale | shucang_platform::DropPhase::SoldOut => {
                on_sale.push(drop_card(&state, d, now, t))
            }
            shucang_platform::DropPhase::Upcoming => upcoming.push(drop_card(&state, d, now, t)),
            shucang_platform::DropPhase::Ended => {}
        }
    }
    // Featured works: the works of the drops, newest first, each with its
    // collection on the chain (address and editions minted so far).
    let mut featured = Vec::new();
    let mut seen = std::collections::BTreeSet::new();
    for d in &drops {
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
    page(
        &state,
        &c,
        "home.html",
        context! { on_sale => on_sale, upcoming => upcoming, featured => featured, now_ms => now },
        StatusCode::OK,
    )
}

/// `GET /drops/{id}`: one drop.
pub(crate) async fn drop_page(
    State(state): State<AppState>,
    Path(id): Path<String>,
    uri: Uri,
    headers: HeaderMap,
) -> Result<Response, Response> {
    let c = ctx(&state, &uri, &headers).await;
    let Ok(id) = id.parse::<i64>() else {
        return Err(not_found(&state, &c, None));
    };
    let d = or_page(state.drops.drop_by_id(id).await, &state, &c)?;
    let work = or_page(state.works.work(d.drop.work_id).await, &state, &c)?;
    Ok(drop_view(&state, &c, &d, &work, None, StatusCode::OK).await)
}

/// Renders a drop page, with the buy form for a verified adult.
pub(crate) async fn drop_view(
    state: &AppState,
    c: &PageCtx,
    d: &shucang_platform::DropRecord,
    work: &shucang_platform::WorkRecord,
    error: Option<&str>,
    status: StatusCode,
) -> Response {
    let now = state.payments.now().0;
    let card = drop_card(state, d, now, table_of(state, c));
    let verified = match c.account_id {
        Some(id) => state
            .identity
            .identity(id)
            .await
            .ok()
            .flatten()
            .is_some_and(|v| v.adult),
        None => false,
    };
    let extra = context! {
        d => context! { issuer => work.work.issuer.clone(), description => work.work.description.clone(), ..card },
        verified => verified,
        key => crate::forms::new_csrf(),
        error => error,
    };
    page(state, c, "drop.html", extra, status)
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
    Query(sq): Query<SearchQuery>,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    let c = ctx(&state, &uri, &headers).await;
    let suffix = if sq.lang.as_deref() == Some("en") {
        "?lang=en"
    } else {
        ""
    };
    let query = sq.q.unwrap_or_default();
    let q = query.trim();
    if q.is_empty() || q.len() > SEARCH_QUERY_MAX {
        return not_found(&state, &c, Some(q));
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
                .address(&a)
                .ok()
                .flatten()
                .map(|_| format!("/explorer/addresses/{a}"));
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
        None => not_found(&state, &c, Some(q)),
    }
}

/// `GET /static/site.css`.
pub(crate) async fn stylesheet() -> Response {
    (
        [
            (CONTENT_TYPE, "text/css; charset=utf-8"),
            (CACHE_CONTROL, "public, max-age=86400"),
        ],
        include_str!("../static/site.css"),
    )
        .into_response()
}

/// The 404 page for browsers (the JSON fallback serves everyone else).
pub(crate) async fn html_not_found(state: &AppState, uri: &Uri, headers: &HeaderMap) -> Response {
    let c = ctx(state, uri, headers).await;
    not_found(state, &c, None)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates_compile_and_translations_match() {
        let pages = Pages::new();
        assert_eq!(
            pages.zh.keys().collect::<Vec<_>>(),
            pages.en.keys().collect::<Vec<_>>(),
            "one table per language, same keys"
        );
        for name in [
            "explorer.html",
            "block.html",
            "tx.html",
            "address.html",
            "token.html",
            "collection.html",
            "not_found.html",
            "collectible.html",
            "complaints.html",
            "complaint.html",
            "home.html",
            "drop.html",
            "login.html",
            "identity.html",
            "my_collection.html",
            "order.html",
            "staff.html",
            "certificate.html",
            "staff_orders.html",
        ] {
            assert!(pages.env.get_template(name).is_ok(), "{name}");
        }
    }

    #[tokio::test]
    async fn the_500_page_is_styled_bilingual_and_tells_nothing() {
        let res = super::internal("database is locked at /srv/data/shucang.db");
        assert_eq!(res.status(), StatusCode::INTERNAL_SERVER_ERROR);
        assert!(
            res.headers()["content-type"]
                .to_str()
                .unwrap()
                .starts_with("text/html")
        );
        let body = axum::body::to_bytes(res.into_body(), 1 << 20)
            .await
            .unwrap();
        let html = String::from_utf8(body.to_vec()).unwrap();
        assert!(html.contains("/static/site.css") && html.contains("服务暂时出错"));
        assert!(html.contains("Server error") && html.contains("/complaints"));
        assert!(!html.contains("database") && !html.contains("/srv"));
    }

    #[test]
    fn language_choice() {
        let mut h = HeaderMap::new();
        assert_eq!(lang_of(None, &h), Lang::ZhCn);
        assert_eq!(lang_of(Some("lang=en"), &h), Lang::En);
        h.insert(ACCEPT_LANGUAGE, "en-US,en;q=0.9".parse().unwrap());
        assert_eq!(lang_of(None, &h), Lang::En);
        assert_eq!(lang_of(Some("lang=zh-CN"), &h), Lang::ZhCn);
        h.insert(ACCEPT_LANGUAGE, "zh-CN,zh;q=0.9,en;q=0.8".parse().unwrap());
        assert_eq!(lang_of(None, &h), Lang::ZhCn);
    }
}
