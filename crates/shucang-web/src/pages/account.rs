//! Log in, register and log out from the web pages: forms with the
//! session-bound token, errors shown inline in the page's language, the
//! session in the same HttpOnly cookie the API uses.
//!
//! Registration takes two steps, as the API does: the phone number (an SMS
//! code is sent, or a notice when the number is registered), then the code
//! and a password.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use minijinja::context;
use serde::Deserialize;
use shucang_platform::{Registration, SessionToken};
use shucang_types::{Phone, Role};

use super::PlatformPage;
use crate::AppState;
use crate::auth::{SESSION, token_from_headers};
use crate::kit::api::ClientIp;
use crate::kit::{Posted, Submission};

/// The fields of the login and registration forms.
#[derive(Deserialize)]
pub(crate) struct Credentials {
    phone: Option<String>,
    password: Option<String>,
    /// The SMS code (registration's second step).
    code: Option<String>,
}

/// The login or registration form (`mode`), with an error and the phone
/// number typed.
fn form(
    c: &PlatformPage,
    mode: &str,
    status: StatusCode,
    error: Option<String>,
    phone: Option<&str>,
) -> Response {
    c.render("login.html", context! { mode, error, phone }, status)
}

/// Registration's second step: the code and a password for `phone` (as
/// typed), with an error, the code typed, and in demo mode the sandbox SMS.
fn code_form(
    c: &PlatformPage,
    status: StatusCode,
    error: Option<String>,
    phone: &str,
    code: Option<&str>,
    sandbox_sms: Option<String>,
) -> Response {
    let masked = Phone::parse(phone).map(|p| p.masked()).unwrap_or_default();
    c.render(
        "login.html",
        context! { mode => "register", step => "code", error, phone, masked, code, sandbox_sms },
        status,
    )
}

/// Home (keeping the language), with the new session's cookie.
fn signed_in(c: &PlatformPage, token: &SessionToken) -> Response {
    let mut res = c.redirect("/");
    SESSION.set_on(&mut res, token.expose());
    res
}

/// `GET /login`.
pub(crate) async fn login_page(c: PlatformPage) -> Response {
    form(&c, "login", StatusCode::OK, None, None)
}

/// `GET /register`.
pub(crate) async fn register_page(c: PlatformPage) -> Response {
    form(&c, "register", StatusCode::OK, None, None)
}

/// `POST /login`.
pub(crate) async fn login(
    State(state): State<AppState>,
    submission: Submission<AppState, Credentials>,
) -> Result<Response, Response> {
    let Posted { page: c, form: f } = submission.or_again(|c, f, status, error| {
        form(c, "login", status, Some(error), f.phone.as_deref())
    })?;
    let phone = f.phone.unwrap_or_default();
    match state
        .accounts
        .login(&phone, &f.password.unwrap_or_default())
        .await
    {
        Ok(session) => Ok(signed_in(&c, &session.token)),
        Err(e) => {
            let (status, error) = c.explain(&e)?;
            Ok(form(&c, "login", status, Some(error), Some(&phone)))
        }
    }
}

/// `POST /register/code`: sends the SMS code (or, to a registered
/// number, a notice) and shows the second step.
pub(crate) async fn send_code(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    submission: Submission<AppState, Credentials>,
) -> Result<Response, Response> {
    let Posted { page: c, form: f } = submission.or_again(|c, f, status, error| {
        form(c, "register", status, Some(error), f.phone.as_deref())
    })?;
    let raw_phone = f.phone.unwrap_or_default();
    let sent = match Phone::parse(&raw_phone) {
        Ok(phone) => state
            .accounts
            .send_registration_code(&phone, &ip)
            .await
            .map(|()| phone),
        Err(e) => {
            let (status, error) = c.explain(&e)?;
            return Ok(form(&c, "register", status, Some(error), Some(&raw_phone)));
        }
    };
    match sent {
        Ok(phone) => {
            let sandbox_sms = demo_sms(&state, &phone).await;
            Ok(code_form(
                &c,
                StatusCode::OK,
                None,
                &raw_phone,
                None,
                sandbox_sms,
            ))
        }
        Err(e) => {
            let (status, error) = c.explain(&e)?;
            Ok(form(&c, "register", status, Some(error), Some(&raw_phone)))
        }
    }
}

/// In demo mode, the text of the newest SMS to `phone`.
async fn demo_sms(state: &AppState, phone: &Phone) -> Option<String> {
    let outbox = state.demo_outbox.as_ref()?;
    let newest = outbox.recent(Some(phone.as_str()), 1).await.ok()?;
    newest.into_iter().next().map(|m| m.message.body)
}

/// `POST /register`: with the SMS code, creates a collector account and
/// logs it in.
pub(crate) async fn register(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    submission: Submission<AppState, Credentials>,
) -> Result<Response, Response> {
    let Posted { page: c, form: f } = submission.or_again(|c, f, status, error| {
        let phone = f.phone.as_deref().unwrap_or_default();
        code_form(c, status, Some(error), phone, f.code.as_deref(), None)
    })?;
    let raw_phone = f.phone.unwrap_or_default();
    let password = f.password.unwrap_or_default();
    let code = f.code.unwrap_or_default();
    let phone = match Phone::parse(&raw_phone) {
        Ok(phone) => phone,
        Err(e) => {
            let (status, error) = c.explain(&e)?;
            return Ok(form(&c, "register", status, Some(error), Some(&raw_phone)));
        }
    };
    let registration = Registration {
        phone: phone.clone(),
        password: password.clone(),
        role: Role::Collector,
    };
    if let Err(e) = state
        .accounts
        .register_with_code(registration, &code, &ip)
        .await
    {
        let (status, error) = c.explain(&e)?;
        let again = code_form(&c, status, Some(error), &raw_phone, Some(&code), None);
        return Ok(again);
    }
    match state.accounts.login(phone.as_str(), &password).await {
        Ok(session) => Ok(signed_in(&c, &session.token)),
        Err(e) => Err(crate::ApiError::from(e).into_page_response()),
    }
}

/// The logout form (the token only).
#[derive(Deserialize)]
pub(crate) struct LogoutForm {}

/// `POST /logout`: ends the session and clears the cookie.
pub(crate) async fn logout(
    State(state): State<AppState>,
    headers: axum::http::HeaderMap,
    Posted { page: c, .. }: Posted<AppState, LogoutForm>,
) -> Response {
    if let Some(token) = token_from_headers(&headers)
        && let Err(e) = state.accounts.logout(&token).await
    {
        return crate::ApiError::from(e).into_page_response();
    }
    let mut res = c.redirect("/");
    SESSION.clear_on(&mut res);
    res
}
