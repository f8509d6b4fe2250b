//! The platform's server-rendered pages, in Simplified Chinese by default
//! (English with `?lang=en` or a browser preferring it), made with the
//! [`kit`](crate::kit): the shop ([`shop`]), a collectible and its
//! certificate ([`collectible`]), the block explorer ([`explorer`]), log in
//! and registration ([`account`]), the account's own pages ([`me`]), the
//! staff console ([`staff`]) and the complaint form ([`complaints`]).

mod account;
mod collectible;
mod complaints;
mod explorer;
mod me;
mod shop;
mod staff;

use std::sync::Arc;

use axum::Router;
use axum::http::HeaderMap;
use axum::routing::{get, post};
use minijinja::{Value, context};
use serde::Serialize;
use shucang_chain::CollectionId;
use shucang_platform::{Account, IdentityView};
use shucang_types::{Role, UnixMillis};

use crate::AppState;
use crate::kit::i18n::App;
use crate::kit::respond::stylesheet;
use crate::kit::{Admits, Anyone, Page, SignedIn, WebApp};
pub use crate::kit::{Lang, Pages};

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
    /// The base URL certificates print: the configured public URL, else
    /// the bound address.
    pub public_url: Option<String>,
}

impl SiteInfo {
    /// The public-security filing number's 14 digits, which the ministry's
    /// site looks the filing up by (`京公网安备11010802012345号`).
    pub fn public_security_code(&self) -> Option<String> {
        let digits: String = self
            .public_security_filing_number
            .as_deref()?
            .chars()
            .filter(char::is_ascii_digit)
            .collect();
        (digits.len() == 14).then_some(digits)
    }
}

/// A platform page request.
pub(crate) type PlatformPage = Page<AppState>;

/// A page request by any signed-in account.
pub(crate) type Member = SignedIn<AppState, Anyone>;

/// Reviewers and system administrators.
pub(crate) struct Staff;

impl Admits<AppState> for Staff {
    fn admits(account: &Account) -> bool {
        is_staff(account.role)
    }
}

/// A page request by a staff member.
pub(crate) type StaffPage = SignedIn<AppState, Staff>;

/// Whether `role` works the staff console.
fn is_staff(role: Role) -> bool {
    matches!(role, Role::Reviewer | Role::SystemAdmin)
}

impl WebApp for AppState {
    type User = Account;
    const APP: App = App::Platform;
    const SESSION: crate::kit::cookies::Cookie = crate::auth::SESSION;

    fn pages(&self) -> Arc<Pages> {
        self.pages.clone()
    }

    fn visitor(&self, headers: &HeaderMap) -> impl Future<Output = Option<Account>> + Send {
        crate::auth::optional_account(self, headers)
    }

    fn globals(&self, user: Option<&Account>) -> Value {
        context! {
            site => &self.site,
            psb_code => self.site.public_security_code(),
            user => user.map(|a| a.phone.masked()),
            staff => user.is_some_and(|a| is_staff(a.role)),
        }
    }
}

/// Every page route of the platform.
pub(crate) fn routes() -> Router<AppState> {
    let token = "/collectibles/{collection}/{token_id}";
    Router::new()
        .route("/static/site.css", get(stylesheet))
        .route("/static/{name}", get(crate::kit::respond::script))
        .route("/", get(shop::home))
        .route("/drops/{id}", get(shop::drop_page))
        .route("/drops/{id}/buy", post(shop::buy))
        .route("/orders/{id}", get(shop::order_page))
        .route("/orders/{id}/pay", post(shop::pay_order))
        .route("/login", get(account::login_page).post(account::login))
        .route(
            "/register",
            get(account::register_page).post(account::register),
        )
        .route("/register/code", post(account::send_code))
        .route("/logout", post(account::logout))
        .route("/me/identity", get(me::identity_page).post(me::verify))
        .route("/me/collection", get(me::collection))
        .route("/staff", get(staff::index))
        .route("/staff/orders", get(staff::orders))
        .route("/staff/works/{id}/image", get(staff::work_image))
        .route("/staff/works/{id}/review", post(staff::review))
        .route("/staff/drops", post(staff::create_drop))
        .route(token, get(collectible::collectible))
        .route(&format!("{token}/gift"), post(collectible::gift))
        .route(
            &format!("{token}/certificate"),
            get(collectible::certificate),
        )
        .route(
            &format!("{token}/certificate.png"),
            get(collectible::certificate_png),
        )
        .route(
            "/complaints",
            get(complaints::form).post(complaints::submit),
        )
        .route("/complaints/lookup", get(complaints::lookup_form))
        .route("/complaints/{ticket}", get(complaints::status_page))
        .route("/explorer", get(explorer::explorer))
        .route("/explorer/search", get(explorer::search))
        .route("/explorer/blocks/{height}", get(explorer::block))
        .route("/explorer/txs/{hash}", get(explorer::tx))
        .route("/explorer/addresses/{address}", get(explorer::address))
        .route(
            "/explorer/tokens/{collection}/{token_id}",
            get(explorer::token),
        )
        .route(
            "/explorer/collections/{collection}",
            get(explorer::collection),
        )
}

/// The signed-in account's verified identity, if any.
async fn identity_of(state: &AppState, c: &PlatformPage) -> Option<IdentityView> {
    let account = c.user.as_ref()?;
    state.identity.identity(account.id).await.ok().flatten()
}

/// A stored instant as the pages show it (China time).
pub(crate) fn china_time(at: UnixMillis) -> String {
    time(u64::try_from(at.0).unwrap_or(0))
}

/// Chain milliseconds as the pages show them: China time, the UTC instant
/// plus eight hours.
fn time(ms: u64) -> String {
    let t = UnixMillis(i64::try_from(ms).unwrap_or(i64::MAX))
        .plus_ms(8 * 3_600_000)
        .to_rfc3339_utc();
    format!("{} {}", &t[..10], &t[11..19])
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
