//! A collectible: its page with the on-chain record (each part linked to
//! the explorer) and the holder's gift form, its certificate (数字藏品证书)
//! as a printable page with a QR code and as a PNG, and the gift itself.

use axum::extract::{FromRequestParts, Path, State};
use axum::http::header::{CACHE_CONTROL, CONTENT_DISPOSITION, CONTENT_TYPE};
use axum::http::request::Parts;
use axum::http::{StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use minijinja::{Value, context};
use serde::Deserialize;
use shucang_chain::CollectionId;
use shucang_platform::{Collectible, Recipient};
use shucang_types::Phone;

use super::{Member, PlatformPage, identity_of, parse_token, time, token_state};
use crate::error::{DomainError, failure_page};
use crate::kit::{Posted, Submission};
use crate::{ApiError, AppState};

/// A collectible a `/collectibles/{collection}/{token_id}` path names.
pub(crate) struct Token {
    collection: CollectionId,
    id: u64,
    found: Collectible,
}

impl FromRequestParts<AppState> for Token {
    type Rejection = Response;

    /// The token, or the page to answer instead (404 for a malformed or
    /// unknown one).
    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Token, Response> {
        let Ok(c) = PlatformPage::from_request_parts(parts, state).await;
        let path = Path::<(String, String)>::from_request_parts(parts, state).await;
        let Some((collection, id)) = path
            .ok()
            .and_then(|Path((collection, id))| parse_token(&collection, &id))
        else {
            return Err(c.not_found());
        };
        let found = c.found(state.collectibles.collectible(&collection, id).await)?;
        Ok(Token {
            collection,
            id,
            found,
        })
    }
}

impl Token {
    /// What the collectible page and its certificate both show: the work,
    /// the edition, the holder and the on-chain record.
    fn fields(&self, state: &AppState) -> Value {
        let found = &self.found;
        let mint = found.history.first();
        context! {
            title => found.work.work.title, issuer => found.work.work.issuer,
            image_url => format!("/api/v1/works/{}/image", found.work.id),
            edition => found.edition, edition_size => found.edition_size,
            owner_name => found.owner_name, owner => found.owner.to_string(),
            chain_name => state.chain.genesis().origin.clone(),
            collection => self.collection.as_str(),
            collection_address => found.collection_address.to_string(),
            token_id => self.id,
            mint_tx => mint.map(|m| hex::encode(m.tx.info.tx_hash)),
            mint_height => mint.map(|m| m.tx.info.height),
        }
    }

    /// Its explorer page as printed on its certificate and in its QR code.
    fn explorer_url(&self, state: &AppState) -> String {
        format!(
            "{}/explorer/tokens/{}/{}",
            public_base(state),
            self.collection.as_str(),
            self.id
        )
    }
}

/// `GET /collectibles/{collection}/{token_id}`: the collectible page with
/// its on-chain record, each part linked to the explorer.
pub(crate) async fn collectible(
    State(state): State<AppState>,
    uri: Uri,
    c: PlatformPage,
    token: Token,
) -> Response {
    let done = uri.query().is_some_and(|q| q.contains("gifted=1"));
    view(&state, &c, &token, None, done, StatusCode::OK).await
}

/// Renders a collectible page; the gift form shows for its holder.
async fn view(
    state: &AppState,
    c: &PlatformPage,
    token: &Token,
    error: Option<String>,
    done: bool,
    status: StatusCode,
) -> Response {
    let found = &token.found;
    let is_holder = identity_of(state, c)
        .await
        .is_some_and(|v| v.address == found.owner && !found.burned);
    let policy = state.collectibles.policy();
    let day = 86_400_000;
    let gift_rules = c
        .t("gift_rules")
        .replace("{purchase}", &(policy.after_purchase_ms / day).to_string())
        .replace("{gift}", &(policy.after_gift_ms / day).to_string())
        .replace("{daily}", &policy.daily_limit.to_string());
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
    let giftable = state.collectibles.giftable_from(found);
    let extra = context! {
        c => context! {
            state => token_state(found.burned, found.frozen.is_some()),
            giftable_from => time(u64::try_from(giftable.0).unwrap_or(0)),
            history => history,
            ..token.fields(state)
        },
        gift_rules, is_holder, error, done,
    };
    c.render("collectible.html", extra, status)
}

/// `GET /collectibles/{collection}/{token_id}/certificate`: the
/// certificate (数字藏品证书), printable, with a QR code that opens the
/// token's explorer page.
pub(crate) async fn certificate(
    State(state): State<AppState>,
    c: PlatformPage,
    token: Token,
) -> Response {
    let explorer_url = token.explorer_url(&state);
    let qr = qr_svg(&explorer_url);
    let history = &token.found.history;
    let extra = context! {
        c => context! {
            burned => token.found.burned,
            mint_time => history.first().map(|m| time(m.tx.timestamp_ms)),
            owned_since => history.last().map(|m| time(m.tx.timestamp_ms)),
            explorer_url => explorer_url,
            ..token.fields(&state)
        },
        qr_svg => Value::from_safe_string(qr),
        png_available => state.certificate_font.is_some(),
        vkey => state.chain.vkey().to_string(),
    };
    c.render("certificate.html", extra, StatusCode::OK)
}

/// `GET /collectibles/{collection}/{token_id}/certificate.png`: the same
/// certificate as a downloadable image, in the request's language. Needs a
/// CJK font (`site.certificate_font` or an installed system one); without
/// one the answer is 503 `certificate_font_missing` and the certificate
/// page does not offer the link.
pub(crate) async fn certificate_png(
    State(state): State<AppState>,
    c: PlatformPage,
    token: Token,
) -> Result<Response, Response> {
    let Some(font) = state.certificate_font.clone() else {
        return Err(ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "certificate_font_missing",
            "certificate images need a Chinese font; set site.certificate_font",
        )
        .into_response());
    };
    let cert = certificate_drawing(&state, &c, &token, token.explorer_url(&state));
    // Drawing and compressing takes some milliseconds of CPU: off the
    // request threads.
    let png = tokio::task::spawn_blocking(move || {
        font.get()
            .and_then(|f| shucang_certificate::render(f, &cert))
    })
    .await
    .map_err(|e| failure_page(&e))?
    .map_err(|e| failure_page(&e))?;
    let filename = format!("certificate-{}-{}.png", token.collection.as_str(), token.id);
    Ok((
        [
            (CONTENT_TYPE, "image/png".to_owned()),
            (CACHE_CONTROL, "no-cache".to_owned()),
            (
                CONTENT_DISPOSITION,
                format!("attachment; filename=\"{filename}\""),
            ),
        ],
        png,
    )
        .into_response())
}

/// The certificate's texts in the page's language, for drawing.
fn certificate_drawing(
    state: &AppState,
    c: &PlatformPage,
    token: &Token,
    explorer_url: String,
) -> shucang_certificate::Certificate {
    let t = |key: &'static str| c.t(key).to_owned();
    let found = &token.found;
    let mint = found.history.first();
    let at = |ms: Option<u64>| {
        ms.map_or_else(
            || t("none"),
            |ms| format!("{} {}", time(ms), t("china_time")),
        )
    };
    let or_none = |v: Option<String>| v.unwrap_or_else(|| t("none"));
    let mut rows = vec![
        (t("cert_work"), found.work.work.title.clone()),
        (
            t("cert_edition"),
            format!("#{}/{}", found.edition, found.edition_size),
        ),
        (t("collectible_issuer"), found.work.work.issuer.clone()),
        (t("collectible_owner"), or_none(found.owner_name.clone())),
        (t("owner_address"), found.owner.to_string()),
        (t("chain_name"), state.chain.genesis().origin.clone()),
        (t("collection_addr"), found.collection_address.to_string()),
        (
            t("token_id"),
            format!("{} / {}", token.collection.as_str(), token.id),
        ),
        (
            t("mint_tx"),
            or_none(mint.map(|m| hex::encode(m.tx.info.tx_hash))),
        ),
        (
            t("mint_height"),
            or_none(mint.map(|m| m.tx.info.height.to_string())),
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
    shucang_certificate::Certificate {
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
    }
}

/// The base URL printed on certificates: the configured public URL, or the
/// address the server is bound to — never the request's `Host` header,
/// which a stranger chooses.
fn public_base(state: &AppState) -> String {
    state
        .site
        .public_url
        .clone()
        .unwrap_or_else(|| "http://localhost".to_owned())
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

/// The gift form's fields.
#[derive(Deserialize)]
pub(crate) struct GiftForm {
    to_phone: Option<String>,
    password: Option<String>,
}

/// `POST /collectibles/{collection}/{token_id}/gift`: the holder gifts it.
pub(crate) async fn gift(
    State(state): State<AppState>,
    member: Member,
    token: Token,
    submission: Submission<AppState, GiftForm>,
) -> Result<Response, Response> {
    let Posted { page: c, form: f } = match submission {
        Submission::Fresh(posted) => posted,
        Submission::Expired(Posted { page: c, .. }) => {
            let (status, error) = c.expired();
            return Ok(view(&state, &c, &token, Some(error), false, status).await);
        }
    };
    let phone = match Phone::parse(&f.to_phone.unwrap_or_default()) {
        Ok(phone) => phone,
        Err(e) => return refused(&state, &c, &token, &e).await,
    };
    let service = state.collectibles.clone();
    let (account_id, coll, id) = (member.user.id, token.collection.clone(), token.id);
    let password = f.password.unwrap_or_default();
    // Run to completion even if the browser goes away (see the API handler).
    let gifted = tokio::spawn(async move {
        service
            .gift(account_id, &coll, id, Recipient::Phone(phone), &password)
            .await
    })
    .await
    .map_err(|e| failure_page(&e))?;
    match gifted {
        Ok(_) => {
            let (coll, id) = (token.collection.as_str(), token.id);
            Ok(c.redirect(&format!("/collectibles/{coll}/{id}?gifted=1")))
        }
        Err(e) => refused(&state, &c, &token, &e).await,
    }
}

/// The collectible's page again, saying why the gift was refused.
async fn refused(
    state: &AppState,
    c: &PlatformPage,
    token: &Token,
    e: &impl DomainError,
) -> Result<Response, Response> {
    let (status, error) = c.explain(e)?;
    Ok(view(state, c, token, Some(error), false, status).await)
}
