//! The web kit both applications (the platform and the registry) are made
//! of, so that each page and API handler holds only its own logic:
//!
//! - [`page`]: the one page context ([`Page`]) and the extractors for the
//!   prologues of page handlers — a posted form whose CSRF token matched
//!   ([`Posted`]), the signed-in user of a role ([`SignedIn`]); an
//!   application implements [`WebApp`] to say who is signed in and what
//!   its pages show.
//! - [`templates`] and [`i18n`]: the one template engine ([`Pages`]) with
//!   both applications' templates and translation tables.
//! - [`csrf`]: the double-submit form token; [`cookies`]: the one cookie
//!   reader and the `Set-Cookie` values; the bearer token.
//! - [`api`]: the JSON APIs' extractors; [`respond`]: redirects, the
//!   stylesheet, private files; [`layers`]: request ids, tracing, body
//!   limit and panic guard around either router; [`serve`]: the server
//!   loop with its connection limit and timeouts.
//!
//! The kit depends on [`crate::error`] (the error table) and on nothing
//! else of the crate; both applications depend on it.

pub(crate) mod api;
pub(crate) mod cookies;
pub(crate) mod csrf;
pub(crate) mod i18n;
pub(crate) mod layers;
pub(crate) mod openapi;
pub(crate) mod page;
pub(crate) mod respond;
pub mod serve;
pub(crate) mod templates;

pub use i18n::Lang;
pub(crate) use page::{Admits, Anyone, Page, Posted, SignedIn, Submission, WebApp};
pub use templates::Pages;
