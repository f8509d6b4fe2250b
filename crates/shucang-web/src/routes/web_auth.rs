//! Log in, register and log out from the web pages: forms with the
//! double-submit token, errors shown inline in the page's language, the
//! session in the same HttpOnly cookie the API uses.

use axum::extract::{Form, State};
use axum::http::header::LOCATION;
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use minijinja::context;
use serde::Deserialize;
use shucang_platform::{AccountError, LoginError, Registration};
use shucang_types::{PasswordProblem, Phone, Role};

use crate::auth::{clear_session_cookie, session_cookie, token_from_headers};
use crate::{ApiError, AppState};

/// The fields of both forms.
#[derive(Deserialize)]
pub(crate) struct Credentials {
    csrf: Option<String>,
    phone: Option<String>,
    password: Option<String>,
}

async fn form(
    state: &AppState,
    uri: &Uri,
    headers: &HeaderMap,
    mode: &str,
    status: StatusCode,
    error: Option<&str>,
    phone: Option<&str>,
) -> Response {
    let extra = context! { mode => mode, error => error, phone => phone };
    crate::pages::render_page(state, uri, headers, "login.html", extra, status).await
}

/// A redirect home (keeping the language), with extra `Set-Cookie`s.
fn home(uri: &Uri, cookies: &[(axum::http::HeaderName, HeaderValue)]) -> Response {
    let to = if uri.query().is_some_and(|q| q.contains("lang=en")) {
        "/?lang=en"
    } else {
        "/"
    };
    let mut res = (
        StatusCode::SEE_OTHER,
        [(LOCATION, HeaderValue::from_static(to))],
    )
        .into_response();
    for (name, value) in cookies {
        res.headers_mut().append(name, value.clone());
    }
    res
}

/// `GET /login`.
pub(crate) async fn login_page(
    State(state): State<AppState>,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    form(&state, &uri, &headers, "login", StatusCode::OK, None, None).await
}

/// `GET /register`.
pub(crate) async fn register_page(
    State(state): State<AppState>,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    form(
        &state,
        &uri,
        &headers,
        "register",
        StatusCode::OK,
        None,
        None,
    )
    .await
}

/// `POST /login`.
pub(crate) async fn login(
    State(state): State<AppState>,
    uri: Uri,
    headers: HeaderMap,
    Form(f): Form<Credentials>,
) -> Response {
    let phone = f.phone.unwrap_or_default();
    if !crate::forms::csrf_ok(&headers, f.csrf.as_deref()) {
        return form(
            &state,
            &uri,
            &headers,
            "login",
            StatusCode::FORBIDDEN,
            Some("form_expired"),
            Some(&phone),
        )
        .await;
    }
    match state
        .accounts
        .login(&phone, &f.password.unwrap_or_default())
        .await
    {
        Ok(session) => home(&uri, &[session_cookie(&session.token)]),
        Err(LoginError::InvalidCredentials) => {
            form(
                &state,
                &uri,
                &headers,
                "login",
                StatusCode::UNAUTHORIZED,
                Some("invalid_credentials"),
                Some(&phone),
            )
            .await
        }
        Err(LoginError::Locked { .. }) => {
            form(
                &state,
                &uri,
                &headers,
                "login",
                StatusCode::LOCKED,
                Some("account_locked"),
                Some(&phone),
            )
            .await
        }
        Err(e @ (LoginError::Busy | LoginError::Store(_))) => {
            ApiError::from(e).into_page_response()
        }
    }
}

/// `POST /register`: creates a collector account and logs it in.
pub(crate) async fn register(
    State(state): State<AppState>,
    uri: Uri,
    headers: HeaderMap,
    Form(f): Form<Credentials>,
) -> Response {
    let raw_phone = f.phone.unwrap_or_default();
    let password = f.password.unwrap_or_default();
    if !crate::forms::csrf_ok(&headers, f.csrf.as_deref()) {
        return form(
            &state,
            &uri,
            &headers,
            "register",
            StatusCode::FORBIDDEN,
            Some("form_expired"),
            Some(&raw_phone),
        )
        .await;
    }
    let Ok(phone) = Phone::parse(&raw_phone) else {
        return form(
            &state,
            &uri,
            &headers,
            "register",
            StatusCode::UNPROCESSABLE_ENTITY,
            Some("invalid_phone"),
            Some(&raw_phone),
        )
        .await;
    };
    let registration = Registration {
        phone: phone.clone(),
        password: password.clone(),
        role: Role::Collector,
    };
    let error = match state.accounts.register(registration).await {
        Ok(_) => None,
        Err(AccountError::WeakPassword(p)) => Some(match p {
            PasswordProblem::TooShort => "weak_password_short",
            PasswordProblem::TooLong => "weak_password_long",
            PasswordProblem::TooFewClasses => "weak_password_classes",
            PasswordProblem::ContainsPhone => "weak_password_phone",
        }),
        Err(AccountError::PhoneTaken) => Some("phone_taken"),
        Err(e) => return ApiError::from(e).into_page_response(),
    };
    if let Some(error) = error {
        let status = if error == "phone_taken" {
            StatusCode::CONFLICT
        } else {
            StatusCode::UNPROCESSABLE_ENTITY
        };
        return form(
            &state,
            &uri,
            &headers,
            "register",
            status,
            Some(error),
            Some(&raw_phone),
        )
        .await;
    }
    match state.accounts.login(phone.as_str(), &password).await {
        Ok(session) => home(&uri, &[session_cookie(&session.token)]),
        Err(e) => ApiError::from(e).into_page_response(),
    }
}

/// The logout form's field.
#[derive(Deserialize)]
pub(crate) struct LogoutForm {
    csrf: Option<String>,
}

/// `POST /logout`: ends the session and clears the cookie.
pub(crate) async fn logout(
    State(state): State<AppState>,
    uri: Uri,
    headers: HeaderMap,
    Form(f): Form<LogoutForm>,
) -> Response {
    if !crate::forms::csrf_ok(&headers, f.csrf.as_deref()) {
        return form(
            &state,
            &uri,
            &headers,
            "login",
            StatusCode::FORBIDDEN,
            Some("form_expired"),
            None,
        )
        .await;
    }
    if let Some(token) = token_from_headers(&headers)
        && let Err(e) = state.accounts.logout(&token).await
    {
        return ApiError::from(e).into_page_response();
    }
    let (name, value) = clear_session_cookie();
    home(&uri, &[(name, value)])
}
