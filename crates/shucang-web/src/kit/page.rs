//! The one page context both applications render with, and the extractors
//! for what page handlers begin with: the page itself ([`Page`]), a posted
//! form whose token matched ([`Posted`]), and the signed-in user of a role
//! ([`SignedIn`]).

use std::convert::Infallible;
use std::marker::PhantomData;
use std::sync::Arc;

use axum::extract::{Form, FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{Html, IntoResponse, Response};
use minijinja::{Value, context};
use serde::Deserialize;
use serde::de::DeserializeOwned;

use super::csrf::CsrfToken;
use super::i18n::{App, Lang};
use super::respond::redirect;
use super::templates::Pages;
use crate::error::{DomainError, server_error_page};

/// What an application tells the kit about itself: its templates and
/// table, who is signed in, and what every one of its pages shows.
pub(crate) trait WebApp: Clone + Send + Sync + 'static {
    /// A signed-in user.
    type User: Clone + Send + Sync + 'static;
    /// Which templates and translation table.
    const APP: App;
    /// The cookie that carries a signed-in user's session.
    const SESSION: super::cookies::Cookie;
    /// The template engine.
    fn pages(&self) -> Arc<Pages>;
    /// The user whose session a request carries, if any.
    fn visitor(&self, headers: &HeaderMap) -> impl Future<Output = Option<Self::User>> + Send;
    /// The values every page of the application gets besides the kit's own
    /// (`t`, `lang`, `q`, `other_lang_url`, `csrf`).
    fn globals(&self, user: Option<&Self::User>) -> Value;
}

/// One page request: its language and path, the form token, the signed-in
/// user. Extracting it never fails.
pub(crate) struct Page<S: WebApp> {
    /// The page's language.
    pub(crate) lang: Lang,
    path: String,
    csrf: CsrfToken,
    /// The signed-in user.
    pub(crate) user: Option<S::User>,
    globals: Value,
    pages: Arc<Pages>,
}

impl<S: WebApp> Clone for Page<S> {
    fn clone(&self) -> Page<S> {
        Page {
            lang: self.lang,
            path: self.path.clone(),
            csrf: self.csrf.clone(),
            user: self.user.clone(),
            globals: self.globals.clone(),
            pages: self.pages.clone(),
        }
    }
}

impl<S: WebApp> Page<S> {
    /// The page context of a request.
    pub(crate) async fn of(state: &S, uri: &Uri, headers: &HeaderMap) -> Page<S> {
        let user = state.visitor(headers).await;
        // Signed in through the session cookie: the token is bound to it.
        let session = user.as_ref().and(S::SESSION.read(headers));
        Page {
            lang: Lang::of(uri.query(), headers),
            path: uri.path().to_owned(),
            csrf: CsrfToken::of(headers, session),
            globals: state.globals(user.as_ref()),
            user,
            pages: state.pages(),
        }
    }

    /// The query string that keeps the language on a link.
    pub(crate) fn q(&self) -> &'static str {
        self.lang.query()
    }

    /// One text of the application's table in the page's language.
    pub(crate) fn t<'a>(&'a self, key: &'a str) -> &'a str {
        self.pages.catalog().text(S::APP, self.lang, key)
    }

    /// Whether a submitted form token is the browser's own.
    pub(crate) fn accepts_csrf(&self, submitted: Option<&str>) -> bool {
        self.csrf.accepts(submitted)
    }

    /// Renders the application's template `name` with `extra` and the
    /// kit's values; hands the browser its form token if it has none.
    pub(crate) fn render(&self, name: &str, extra: Value, status: StatusCode) -> Response {
        let other_lang_url = match self.lang {
            Lang::ZhCn => format!("{}?lang=en", self.path),
            Lang::En => format!("{}?lang=zh-CN", self.path),
        };
        let base = context! {
            layout => format!("{}base.html", S::APP.template_prefix()),
            lang => self.lang.code(),
            q => self.q(),
            other_lang_url,
            csrf => self.csrf.value(),
            ..self.globals.clone()
        };
        let context = context! { ..extra, ..base };
        match self.pages.render(S::APP, self.lang, name, context) {
            Ok(html) => {
                let mut response = (status, Html(html)).into_response();
                self.csrf.hand_out(&mut response);
                response
            }
            Err(e) => {
                tracing::error!(error = %e, template = name, "page rendering failed");
                server_error_page()
            }
        }
    }

    /// The refusal of a form without the browser's token (403).
    pub(crate) fn form_expired(&self) -> Response {
        self.message(FORM_EXPIRED_KEY, StatusCode::FORBIDDEN)
    }

    /// What a form shown again after an expired submission says, and its
    /// status (403); the page hands out a fresh token with it.
    pub(crate) fn expired(&self) -> (StatusCode, String) {
        (StatusCode::FORBIDDEN, self.t(FORM_EXPIRED_KEY).to_owned())
    }

    /// A page that says one thing: the text of `key`.
    pub(crate) fn message(&self, key: &str, status: StatusCode) -> Response {
        let message = self.t(key).to_owned();
        self.render("message.html", context! { message }, status)
    }

    /// The application's 404 page.
    pub(crate) fn not_found(&self) -> Response {
        self.render("not_found.html", context! {}, StatusCode::NOT_FOUND)
    }

    /// The value of a lookup, or the answer instead: the 404 page when
    /// there is none, the 500 page (the error logged) when it failed.
    #[allow(clippy::result_large_err)] // the finished response, handed straight back to axum
    pub(crate) fn found<T, E: std::fmt::Display>(
        &self,
        lookup: Result<Option<T>, E>,
    ) -> Result<T, Response> {
        match lookup {
            Ok(Some(value)) => Ok(value),
            Ok(None) => Err(self.not_found()),
            Err(e) => Err(crate::ApiError::internal(&e).into_page_response()),
        }
    }

    /// 303 to `path` of this application, keeping the page's language.
    pub(crate) fn redirect(&self, path: &str) -> Response {
        let q = self.q();
        let q = match (path.contains('?'), q.strip_prefix('?')) {
            (true, Some(rest)) => format!("&{rest}"),
            _ => q.to_owned(),
        };
        redirect(&format!("{path}{q}"))
    }

    /// What the page says of a domain error it shows inline: the status and
    /// the translated message (with the error's detail). `Err` is the
    /// answer for a failure on our side: the 500 page (the error logged).
    #[allow(clippy::result_large_err)] // the finished response, handed straight back to axum
    pub(crate) fn explain(&self, e: &impl DomainError) -> Result<(StatusCode, String), Response> {
        match e.meaning() {
            Some(m) if !m.status.is_server_error() => {
                let text = self.t(m.key);
                Ok((
                    m.status,
                    match m.detail {
                        Some(detail) => format!("{text}{detail}"),
                        None => text.to_owned(),
                    },
                ))
            }
            Some(_) | None => Err(crate::ApiError::from_domain(e).into_page_response()),
        }
    }

    /// The answer for a domain error the page does not show inline: a page
    /// with its message, or the 500 page.
    pub(crate) fn failed(&self, e: &impl DomainError) -> Response {
        match self.explain(e) {
            Ok((status, text)) => self.render("message.html", context! { message => text }, status),
            Err(response) => response,
        }
    }

    /// The value of a domain call, or the answer for its error instead
    /// ([`Page::failed`]).
    #[allow(clippy::result_large_err)] // the finished response, handed straight back to axum
    pub(crate) fn ok<T, E: DomainError>(&self, result: Result<T, E>) -> Result<T, Response> {
        result.map_err(|e| self.failed(&e))
    }
}

impl<S: WebApp> FromRequestParts<S> for Page<S> {
    type Rejection = Infallible;

    /// Made once per request: the extractors below reuse it.
    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Page<S>, Infallible> {
        if let Some(page) = parts.extensions.get::<Page<S>>() {
            return Ok(page.clone());
        }
        let page = Page::of(state, &parts.uri, &parts.headers).await;
        parts.extensions.insert(page.clone());
        Ok(page)
    }
}

/// A role a page admits.
pub(crate) trait Admits<S: WebApp>: Send + Sync + 'static {
    /// Whether `user` may open the page.
    fn admits(user: &S::User) -> bool;
}

/// Any signed-in user.
pub(crate) struct Anyone;

impl<S: WebApp> Admits<S> for Anyone {
    fn admits(_: &S::User) -> bool {
        true
    }
}

/// A page request by a signed-in user `R` admits. Without a session the
/// answer is the login page (303); with another role, 403.
pub(crate) struct SignedIn<S: WebApp, R> {
    /// The page.
    pub(crate) page: Page<S>,
    /// The user.
    pub(crate) user: S::User,
    role: PhantomData<R>,
}

impl<S: WebApp, R: Admits<S>> FromRequestParts<S> for SignedIn<S, R> {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Response> {
        let Ok(page) = Page::<S>::from_request_parts(parts, state).await;
        match page.user.clone() {
            Some(user) if R::admits(&user) => Ok(SignedIn {
                page,
                user,
                role: PhantomData,
            }),
            Some(_) => Err(page.message(FORBIDDEN_KEY, StatusCode::FORBIDDEN)),
            None => Err(page.redirect("/login")),
        }
    }
}

/// The key of the text a page shows a user whose role may not open it
/// (each application's table has it).
const FORBIDDEN_KEY: &str = "error_forbidden";

/// The key of the text a form without the browser's token gets.
const FORM_EXPIRED_KEY: &str = "error_form_expired";

/// A posted form whose `csrf` field is the browser's form token; any other
/// submission is refused with 403 and a page saying the form expired.
pub(crate) struct Posted<S: WebApp, F> {
    /// The page.
    pub(crate) page: Page<S>,
    /// The form's other fields.
    pub(crate) form: F,
}

/// A form body: the token and the rest.
#[derive(Deserialize)]
struct WithToken<F> {
    csrf: Option<String>,
    #[serde(flatten)]
    form: F,
}

impl<S: WebApp, F: DeserializeOwned + Send + 'static> FromRequest<S> for Posted<S, F> {
    type Rejection = Response;

    async fn from_request(req: Request, state: &S) -> Result<Self, Response> {
        match Submission::from_request(req, state).await? {
            Submission::Fresh(posted) => Ok(posted),
            Submission::Expired(Posted { page, .. }) => Err(page.form_expired()),
        }
    }
}

/// A posted form that can be shown again. With the browser's form token it
/// is `Fresh`; without it (a page left open past its token, or another
/// site's form) it is `Expired`: nothing may be done with it, but the
/// handler shows the form again with what was typed and the message of
/// [`Page::expired`], so the user only has to send it once more.
pub(crate) enum Submission<S: WebApp, F> {
    /// The form carries the browser's token.
    Fresh(Posted<S, F>),
    /// It does not.
    Expired(Posted<S, F>),
}

impl<S: WebApp, F> Submission<S, F> {
    /// The fresh submission, or — for an expired one — what `again` shows:
    /// the form from the page and what was typed, with the message and
    /// status of [`Page::expired`].
    #[allow(clippy::result_large_err)] // the finished response, handed straight back to axum
    pub(crate) fn or_again(
        self,
        again: impl FnOnce(&Page<S>, F, StatusCode, String) -> Response,
    ) -> Result<Posted<S, F>, Response> {
        match self {
            Submission::Fresh(posted) => Ok(posted),
            Submission::Expired(Posted { page, form }) => {
                let (status, message) = page.expired();
                Err(again(&page, form, status, message))
            }
        }
    }
}

impl<S: WebApp, F: DeserializeOwned + Send + 'static> FromRequest<S> for Submission<S, F> {
    type Rejection = Response;

    async fn from_request(req: Request, state: &S) -> Result<Self, Response> {
        let (mut parts, body) = req.into_parts();
        let Ok(page) = Page::<S>::from_request_parts(&mut parts, state).await;
        let req = Request::from_parts(parts, body);
        let Form(WithToken { csrf, form }) = Form::<WithToken<F>>::from_request(req, state)
            .await
            .map_err(IntoResponse::into_response)?;
        let fresh = page.accepts_csrf(csrf.as_deref());
        let posted = Posted { page, form };
        Ok(if fresh {
            Submission::Fresh(posted)
        } else {
            Submission::Expired(posted)
        })
    }
}
