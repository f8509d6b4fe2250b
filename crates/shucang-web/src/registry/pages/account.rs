//! Registration (with the SMS code), login and logout.

use std::collections::HashMap;

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::Response;
use minijinja::context;
use serde::de::IgnoredAny;
use shucang_registry::{Person, UserRole};

use super::{RegistryPage, SESSION};
use crate::kit::Posted;
use crate::kit::api::ClientIp;
use crate::registry::RegistryState;

/// Longest phone number carried from registration to the code page.
const PHONE_QUERY_LEN_MAX: usize = 32;

/// `GET /login`, `/register`, `/verify`.
pub(super) async fn page(uri: Uri, c: RegistryPage) -> Response {
    let mode = uri.path().trim_start_matches('/');
    let notice = uri
        .query()
        .is_some_and(|q| q.contains("verified=1"))
        .then(|| c.t("verified"));
    // `/verify?phone=…` comes from the registration: the number is filled in.
    let phone = uri.query().and_then(|q| {
        q.split('&')
            .find_map(|p| p.strip_prefix("phone="))
            .filter(|p| {
                p.len() <= PHONE_QUERY_LEN_MAX && p.bytes().all(|b| b.is_ascii_digit() || b == b'+')
            })
    });
    c.render(
        "account.html",
        context! { mode, notice, values => context! { phone } },
        StatusCode::OK,
    )
}

/// `POST /register`, `/verify`, `/login`.
pub(super) async fn submit(
    State(state): State<RegistryState>,
    uri: Uri,
    ClientIp(ip): ClientIp,
    Posted { page: c, form: f }: Posted<RegistryState, HashMap<String, String>>,
) -> Result<Response, Response> {
    let mode = uri.path().trim_start_matches('/');
    let get = |n: &str| f.get(n).map_or("", String::as_str);
    let registry = &state.registry;
    let result = match mode {
        "register" => registry
            .register_filer(
                &Person {
                    name: get("name"),
                    phone: get("phone"),
                    email: get("email"),
                    password: get("password"),
                },
                &ip,
            )
            .await
            .map(|_| c.redirect(&format!("/verify?phone={}", get("phone").trim()))),
        "verify" => registry
            .verify_phone(get("phone"), get("code"))
            .await
            .map(|()| c.redirect("/login?verified=1")),
        _ => registry
            .login(get("phone"), get("password"))
            .await
            .map(|s| {
                let home = match s.user.role {
                    UserRole::Filer => "/filer",
                    UserRole::Reviewer => "/review",
                    UserRole::Publisher => "/publish",
                    UserRole::Auditor => "/audit",
                };
                let mut res = c.redirect(home);
                SESSION.set_on(&mut res, &s.token);
                res
            }),
    };
    match result {
        Ok(res) => Ok(res),
        Err(e) => {
            let (status, error) = c.explain(&e)?;
            let values =
                context! { name => get("name"), phone => get("phone"), email => get("email") };
            Ok(c.render("account.html", context! { mode, values, error }, status))
        }
    }
}

/// `POST /logout`.
pub(super) async fn logout(
    State(state): State<RegistryState>,
    headers: HeaderMap,
    Posted { page: c, .. }: Posted<RegistryState, IgnoredAny>,
) -> Response {
    if let Some(token) = SESSION.read(&headers) {
        let _ = state.registry.logout(token).await;
    }
    let mut res = c.redirect("/");
    SESSION.clear_on(&mut res);
    res
}
