//! The registry's web pages, server-rendered in Simplified Chinese by
//! default (English with `?lang=en` or a browser preferring it), in the
//! platform's style: the public search, registration with the SMS code,
//! login, the filer's applications and the four-step application form
//! (each step saves the draft), the reviewer's queue and decision page,
//! and the publisher's batches. Forms carry the double-submit CSRF token;
//! the session is an HttpOnly cookie.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use axum::extract::{Multipart, Path, State};
use axum::http::header::{COOKIE, LOCATION, SET_COOKIE};
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri};
use axum::response::{Html, IntoResponse, Response};
use minijinja::{Environment, Value, context};
use shucang_registry::{
    AppState, Application, ApplicationForm, DecisionKind, MAIN_CHAINS, Reason, RegistryError, User,
    UserRole,
};

use crate::pages::{Lang, lang_of};
use crate::registry::RegistryState;

/// The registry's session cookie.
pub const REGISTRY_SESSION_COOKIE: &str = "shucang_registry_session";

/// Templates and translation tables of the registry's pages.
pub struct RegistryPages {
    env: Environment<'static>,
    zh: BTreeMap<String, String>,
    en: BTreeMap<String, String>,
}

const TEMPLATES: [(&str, &str); 8] = [
    ("base.html", include_str!("../templates/registry/base.html")),
    (
        "search.html",
        include_str!("../templates/registry/search.html"),
    ),
    (
        "account.html",
        include_str!("../templates/registry/account.html"),
    ),
    (
        "filer.html",
        include_str!("../templates/registry/filer.html"),
    ),
    ("step.html", include_str!("../templates/registry/step.html")),
    (
        "review.html",
        include_str!("../templates/registry/review.html"),
    ),
    (
        "review_app.html",
        include_str!("../templates/registry/review_app.html"),
    ),
    (
        "publish.html",
        include_str!("../templates/registry/publish.html"),
    ),
];

impl RegistryPages {
    /// Compiles the templates.
    pub fn new() -> RegistryPages {
        let mut env = Environment::new();
        for (name, source) in TEMPLATES {
            env.add_template(name, source)
                .expect("the registry templates compile (tested)");
        }
        let table = |json: &str| -> BTreeMap<String, String> {
            serde_json::from_str(json).expect("the registry translations are valid JSON (tested)")
        };
        RegistryPages {
            env,
            zh: table(include_str!("../i18n/registry.zh-CN.json")),
            en: table(include_str!("../i18n/registry.en.json")),
        }
    }

    fn text(&self, lang: Lang) -> &BTreeMap<String, String> {
        match lang {
            Lang::ZhCn => &self.zh,
            Lang::En => &self.en,
        }
    }
}

impl Default for RegistryPages {
    fn default() -> RegistryPages {
        RegistryPages::new()
    }
}

/// One request's page context.
struct Ctx {
    lang: Lang,
    path: String,
    user: Option<User>,
    csrf: String,
    csrf_is_new: bool,
}

impl Ctx {
    fn q(&self) -> &'static str {
        match self.lang {
            Lang::ZhCn => "",
            Lang::En => "?lang=en",
        }
    }

    fn t(&self, state: &RegistryState, key: &str) -> String {
        state
            .pages
            .text(self.lang)
            .get(key)
            .cloned()
            .unwrap_or_else(|| key.to_owned())
    }
}

fn session_token(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|p| p.trim().split_once('='))
        .find(|(n, _)| *n == REGISTRY_SESSION_COOKIE)
        .map(|(_, v)| v.to_owned())
}

async fn ctx(state: &RegistryState, uri: &Uri, headers: &HeaderMap) -> Ctx {
    let user = match session_token(headers) {
        Some(t) => state.registry.authenticate(&t).await.ok().flatten(),
        None => None,
    };
    let (csrf, csrf_is_new) = match crate::forms::csrf_from_cookie(headers) {
        Some(t) => (t, false),
        None => (crate::forms::new_csrf(), true),
    };
    Ctx {
        lang: lang_of(uri.query(), headers),
        path: uri.path().to_owned(),
        user,
        csrf,
        csrf_is_new,
    }
}

fn render(
    state: &RegistryState,
    c: &Ctx,
    name: &str,
    extra: Value,
    status: StatusCode,
) -> Response {
    let other = match c.lang {
        Lang::ZhCn => format!("{}?lang=en", c.path),
        Lang::En => format!("{}?lang=zh-CN", c.path),
    };
    let base = context! {
        t => Value::from_serialize(state.pages.text(c.lang)),
        lang => match c.lang { Lang::ZhCn => "zh-CN", Lang::En => "en" },
        q => c.q(),
        other_lang_url => other,
        csrf => c.csrf.clone(),
        user => c.user.as_ref().map(|u| u.name.clone()),
        role => c.user.as_ref().map(|u| u.role.code()),
    };
    let html = state
        .pages
        .env
        .get_template(name)
        .and_then(|t| t.render(context! { ..extra, ..base }));
    match html {
        Ok(html) => {
            let mut res = (status, Html(html)).into_response();
            if c.csrf_is_new
                && let Ok(v) = HeaderValue::from_str(&crate::forms::csrf_cookie(&c.csrf))
            {
                res.headers_mut().append(SET_COOKIE, v);
            }
            res
        }
        Err(e) => {
            tracing::error!(error = %e, template = name, "registry page rendering failed");
            crate::pages::server_error_page()
        }
    }
}

fn redirect(to: &str) -> Response {
    (
        StatusCode::SEE_OTHER,
        [(
            LOCATION,
            HeaderValue::from_str(to).unwrap_or(HeaderValue::from_static("/")),
        )],
    )
        .into_response()
}

/// A form body as fields (the last value of a repeated name wins).
type Fields = HashMap<String, String>;

fn field<'a>(f: &'a Fields, name: &str) -> Option<&'a str> {
    f.get(name).map(String::as_str)
}

/// A text field: `None` when empty.
fn opt(f: &Fields, name: &str) -> Option<String> {
    field(f, name)
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .map(str::to_owned)
}

fn opt_i64(f: &Fields, name: &str) -> Option<i64> {
    opt(f, name).and_then(|v| v.parse().ok())
}

fn opt_bool(f: &Fields, name: &str) -> Option<bool> {
    match field(f, name) {
        Some("yes") => Some(true),
        Some("no") => Some(false),
        _ => None,
    }
}

fn csrf_refused(state: &RegistryState, c: &Ctx) -> Response {
    let msg = c.t(state, "error");
    render(
        state,
        c,
        "search.html",
        context! { error => format!("{msg}: CSRF"), batches => Vec::<Value>::new() },
        StatusCode::FORBIDDEN,
    )
}

/// The page context of a submitted form, or the refusal when the form
/// lacks the browser's token.
#[allow(clippy::result_large_err)]
async fn posted(
    state: &RegistryState,
    uri: &Uri,
    headers: &HeaderMap,
    f: &Fields,
) -> Result<Ctx, Response> {
    let c = ctx(state, uri, headers).await;
    if !crate::forms::csrf_ok(headers, field(f, "csrf")) {
        return Err(csrf_refused(state, &c));
    }
    Ok(c)
}

/// As [`posted`], for a logged-in user of `role`.
#[allow(clippy::result_large_err)]
async fn posted_by(
    state: &RegistryState,
    uri: &Uri,
    headers: &HeaderMap,
    f: &Fields,
    role: UserRole,
) -> Result<(Ctx, User), Response> {
    let c = posted(state, uri, headers, f).await?;
    let user = need_user(&c, role)?;
    Ok((c, user))
}

/// `GET /`: the public search and the published batches.
pub(crate) async fn home(
    State(state): State<RegistryState>,
    uri: Uri,
    headers: HeaderMap,
    axum::extract::Query(q): axum::extract::Query<HashMap<String, String>>,
) -> Response {
    let c = ctx(&state, &uri, &headers).await;
    let query = q
        .get("q")
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty());
    let mut error = None;
    let mut results = Vec::new();
    if let Some(text) = &query {
        let _ = state.registry.settle_cancellations().await;
        match state.registry.search_public(text).await {
            Ok(found) => {
                results = found
                    .iter()
                    .map(|n| {
                        context! {
                            entity_name => n.entity_name, service_name => n.service_name,
                            number => n.number, batch => n.batch,
                            state => if n.app_state == "cancelled" { "已注销" } else { "审核通过" },
                        }
                    })
                    .collect();
            }
            Err(RegistryError::Invalid { .. }) => error = Some(c.t(&state, "search_hint")),
            Err(e) => return crate::ApiError::from(e).into_response(),
        }
    }
    let batches: Vec<Value> = match state.registry.batches(false).await {
        Ok(list) => list
            .iter()
            .map(|b| context! { number => b.number, state => b.state.code(), window_ends => b.window_ends })
            .collect(),
        Err(e) => return crate::ApiError::from(e).into_response(),
    };
    let status = if error.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    render(
        &state,
        &c,
        "search.html",
        context! { query, results, batches, error },
        status,
    )
}

/// `GET /login`, `/register`, `/verify`.
pub(crate) async fn account_page(
    State(state): State<RegistryState>,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    let c = ctx(&state, &uri, &headers).await;
    let mode = uri.path().trim_start_matches('/').to_owned();
    let notice = uri
        .query()
        .is_some_and(|q| q.contains("verified=1"))
        .then(|| c.t(&state, "verified"));
    // `/verify?phone=…` comes from the registration: the number is filled in.
    let phone = uri.query().and_then(|q| {
        q.split('&')
            .find_map(|p| p.strip_prefix("phone="))
            .filter(|p| p.len() <= 32 && p.bytes().all(|b| b.is_ascii_digit() || b == b'+'))
            .map(str::to_owned)
    });
    render(
        &state,
        &c,
        "account.html",
        context! { mode, notice, values => context! { phone } },
        StatusCode::OK,
    )
}

fn session_cookie(token: &str) -> String {
    format!("{REGISTRY_SESSION_COOKIE}={token}; Path=/; HttpOnly; SameSite=Lax")
}

/// `POST /register`, `/verify`, `/login`.
pub(crate) async fn account_submit(
    State(state): State<RegistryState>,
    uri: Uri,
    headers: HeaderMap,
    axum::Form(f): axum::Form<Fields>,
) -> Response {
    let c = match posted(&state, &uri, &headers, &f).await {
        Ok(c) => c,
        Err(r) => return r,
    };
    let mode = uri.path().trim_start_matches('/').to_owned();
    let get = |n: &str| field(&f, n).unwrap_or("").to_owned();
    let q = c.q();
    let result = match mode.as_str() {
        "register" => state
            .registry
            .register_filer(&get("name"), &get("phone"), &get("email"), &get("password"))
            .await
            .map(|_| {
                let sep = if q.is_empty() { "?" } else { "&" };
                redirect(&format!("/verify{q}{sep}phone={}", get("phone").trim()))
            }),
        "verify" => state
            .registry
            .verify_phone(&get("phone"), &get("code"))
            .await
            .map(|()| {
                let sep = if q.is_empty() { "?" } else { "&" };
                redirect(&format!("/login{q}{sep}verified=1"))
            }),
        _ => state
            .registry
            .login(&get("phone"), &get("password"))
            .await
            .map(|s| {
                let to = match s.user.role {
                    UserRole::Filer => "/filer",
                    UserRole::Reviewer => "/review",
                    UserRole::Publisher => "/publish",
                    UserRole::Auditor => "/",
                };
                let mut res = redirect(&format!("{to}{q}"));
                if let Ok(v) = HeaderValue::from_str(&session_cookie(&s.token)) {
                    res.headers_mut().append(SET_COOKIE, v);
                }
                res
            }),
    };
    match result {
        Ok(res) => res,
        Err(e) => {
            let error = e.to_string();
            // Caller mistakes answer 4xx; anything else is logged as 5xx.
            let status = crate::ApiError::from(e).status();
            let values =
                context! { name => get("name"), phone => get("phone"), email => get("email") };
            render(
                &state,
                &c,
                "account.html",
                context! { mode, values, error },
                status,
            )
        }
    }
}

/// `POST /logout`.
pub(crate) async fn logout(
    State(state): State<RegistryState>,
    uri: Uri,
    headers: HeaderMap,
    axum::Form(f): axum::Form<Fields>,
) -> Response {
    let c = match posted(&state, &uri, &headers, &f).await {
        Ok(c) => c,
        Err(r) => return r,
    };
    if let Some(t) = session_token(&headers) {
        let _ = state.registry.logout(&t).await;
    }
    let mut res = redirect(&format!("/{}", c.q()));
    res.headers_mut().append(
        SET_COOKIE,
        HeaderValue::from_static(
            "shucang_registry_session=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0",
        ),
    );
    res
}

/// The logged-in user of a page, or the redirect to the login page.
// The error is the finished response, handed straight back to axum (as in
// `pages::or_page`); boxing it would only add an allocation.
#[allow(clippy::result_large_err)]
fn need_user(c: &Ctx, role: UserRole) -> Result<User, Response> {
    match &c.user {
        Some(u) if u.role == role => Ok(u.clone()),
        Some(_) => Err((StatusCode::FORBIDDEN, Html("<!doctype html><meta charset=\"utf-8\"><title>403</title><h1>403 · 无权访问 · Forbidden</h1>")).into_response()),
        None => Err(redirect(&format!("/login{}", c.q()))),
    }
}

fn app_row(a: &Application) -> Value {
    context! {
        id => a.record.id, state => a.state.code(), entity => a.form.applicant_name(),
        due => a.record.due_date, numbers => a.numbers.iter().map(|n| n.number.clone()).collect::<Vec<_>>(),
        editable => matches!(a.state, AppState::Draft | AppState::Returned),
    }
}

/// `GET /filer`.
pub(crate) async fn filer_home(
    State(state): State<RegistryState>,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    let c = ctx(&state, &uri, &headers).await;
    let user = match need_user(&c, UserRole::Filer) {
        Ok(u) => u,
        Err(r) => return r,
    };
    let apps = match state.registry.applications_of(&user).await {
        Ok(apps) => apps,
        Err(e) => return crate::ApiError::from(e).into_response(),
    };
    // Open check-in windows, with this filer's valid filings in them.
    let mut checkins = Vec::new();
    for w in state.registry.open_checkins().await.unwrap_or_default() {
        // One read of the window's confirmations, not one per filing.
        let done = state
            .registry
            .confirmed_applications(w.id)
            .await
            .unwrap_or_default();
        let mut entries = Vec::new();
        for a in apps.iter().filter(|a| {
            matches!(
                a.state,
                AppState::Approved
                    | AppState::ChangePending
                    | AppState::CancellationPending
                    | AppState::CancellationApproved
            )
        }) {
            let confirmed = done.contains(&a.record.id);
            if let Some(n) = a.numbers.first() {
                entries.push(context! { number => n.number, confirmed });
            }
        }
        if !entries.is_empty() {
            checkins.push(
                context! { id => w.id, opens_on => w.opens_on, closes_on => w.closes_on, entries },
            );
        }
    }
    let apps: Vec<Value> = apps.iter().map(app_row).collect();
    render(
        &state,
        &c,
        "filer.html",
        context! { apps, checkins },
        StatusCode::OK,
    )
}

/// `POST /filer/applications`: a new draft, then its first step.
pub(crate) async fn new_application(
    State(state): State<RegistryState>,
    uri: Uri,
    headers: HeaderMap,
    axum::Form(f): axum::Form<Fields>,
) -> Response {
    let (c, user) = match posted_by(&state, &uri, &headers, &f, UserRole::Filer).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    match state
        .registry
        .create_draft(&user, &ApplicationForm::default())
        .await
    {
        Ok(app) => redirect(&format!(
            "/filer/applications/{}/step/1{}",
            app.record.id,
            c.q()
        )),
        Err(e) => crate::ApiError::from(e).into_response(),
    }
}

const SERVICE_TYPES: [&str; 8] = [
    "infrastructure/mining_pool",
    "infrastructure/cloud_mining",
    "infrastructure/node",
    "application/wallet",
    "application/explorer",
    "application/other",
    "technology/baas",
    "technology/other",
];

#[allow(clippy::too_many_arguments)]
fn step_page(
    state: &RegistryState,
    c: &Ctx,
    app: &Application,
    step: u32,
    service: usize,
    problems: Vec<Value>,
    notice: Option<String>,
    status: StatusCode,
) -> Response {
    step_view(
        state, c, app, step, service, problems, notice, status, false,
    )
}

/// A step page; in `change_mode` the fields of an approved filing are
/// edited into a recorded change.
#[allow(clippy::too_many_arguments)]
fn step_view(
    state: &RegistryState,
    c: &Ctx,
    app: &Application,
    step: u32,
    service: usize,
    problems: Vec<Value>,
    notice: Option<String>,
    status: StatusCode,
    change_mode: bool,
) -> Response {
    let attachment_name = |id: Option<i64>| {
        id.and_then(|id| app.attachments.iter().find(|a| a.id == id))
            .map(|a| a.file_name.clone())
    };
    // Every document the form asks for: the fixed three, then each
    // service's pre-approval certificate and white paper where they apply.
    let mut slots = vec![
        (
            "applicant_scan".to_owned(),
            c.t(state, "slot_applicant_scan"),
            match app.form.applicant.kind.as_deref() {
                Some("institution") => app
                    .form
                    .applicant
                    .institution
                    .as_ref()
                    .and_then(|i| i.licence_scan),
                _ => app
                    .form
                    .applicant
                    .individual
                    .as_ref()
                    .and_then(|i| i.id_scan),
            },
        ),
        (
            "responsible_scan".to_owned(),
            c.t(state, "slot_responsible_scan"),
            app.form.responsible.id_scan,
        ),
        (
            "declaration_scan".to_owned(),
            c.t(state, "slot_declaration_scan"),
            app.form.declaration.signed_scan,
        ),
    ];
    for (n, s) in app.form.services.iter().enumerate() {
        let label = |key: &str| c.t(state, key).replace("{n}", &(n + 1).to_string());
        if let Some(p) = s.pre_approvals.first() {
            slots.push((
                format!("pre_approval_{n}"),
                label("slot_pre_approval"),
                p.certificate,
            ));
        }
        if let Some(o) = &s.service_type.technology_other {
            slots.push((
                format!("white_paper_{n}"),
                label("slot_white_paper"),
                o.white_paper,
            ));
        }
    }
    let slots: Vec<Value> = slots
        .into_iter()
        .map(|(key, label, id)| context! { key, label, uploaded => attachment_name(id) })
        .collect();
    let decision: Vec<String> = app
        .decision
        .as_ref()
        .map(|d| {
            d.reasons
                .iter()
                .map(|r| match &r.field {
                    Some(f) => format!("{f}: {}", r.reason),
                    None => r.reason.clone(),
                })
                .collect()
        })
        .unwrap_or_default();
    let view = context! {
        id => app.record.id, state => app.state.code(), form => Value::from_serialize(&app.form),
        numbers => app.numbers.iter().map(|n| n.number.clone()).collect::<Vec<_>>(),
        due => app.record.due_date, decision,
        pending => app.pending.as_ref().map(|p| match p {
            shucang_registry::Pending::Change { changed_on, late, .. } => {
                format!("{} {changed_on}{}", c.t(state, "change_title"), if *late { " (!)" } else { "" })
            }
            shucang_registry::Pending::Cancellation { termination_date } => {
                format!("{} {termination_date}", c.t(state, "cancel_title"))
            }
        }),
    };
    render(
        state,
        c,
        "step.html",
        context! {
            app => view, step, problems, notice, slots, service,
            service_count => app.form.services.len(),
            service_q => match c.lang {
                Lang::ZhCn => format!("?service={service}"),
                Lang::En => format!("?service={service}&lang=en"),
            },
            editable => change_mode || matches!(app.state, AppState::Draft | AppState::Returned),
            change_mode,
            main_chains => MAIN_CHAINS, service_types => SERVICE_TYPES,
        },
        status,
    )
}

/// The service a step-3 page edits: `?service=N` (from 0), at most one
/// past the last (a new one), within the limit.
fn service_index(uri: &Uri, form: &ApplicationForm) -> Option<usize> {
    let n = match uri
        .query()
        .and_then(|q| q.split('&').find_map(|p| p.strip_prefix("service=")))
    {
        None => 0,
        Some(raw) => raw.parse::<usize>().ok()?,
    };
    (n <= form.services.len() && n < shucang_registry::SERVICES_MAX).then_some(n)
}

fn step_no(raw: &str) -> Option<u32> {
    raw.parse::<u32>().ok().filter(|n| (1..=4).contains(n))
}

#[allow(clippy::result_large_err)]
async fn filer_app(
    state: &RegistryState,
    c: &Ctx,
    id: &str,
) -> Result<(User, Application), Response> {
    let user = need_user(c, UserRole::Filer)?;
    let Ok(id) = id.parse::<i64>() else {
        return Err(not_found());
    };
    match state.registry.application(&user, id).await {
        Ok(app) => Ok((user, app)),
        Err(RegistryError::NotFound) => Err(not_found()),
        Err(e) => Err(crate::ApiError::from(e).into_response()),
    }
}

fn not_found() -> Response {
    (
        StatusCode::NOT_FOUND,
        Html("<!doctype html><meta charset=\"utf-8\"><title>404</title><h1>404 · 未找到 · Not found</h1>"),
    )
        .into_response()
}

/// `GET /filer/applications/{id}/step/{n}`.
pub(crate) async fn step_get(
    State(state): State<RegistryState>,
    Path((id, step)): Path<(String, String)>,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    let c = ctx(&state, &uri, &headers).await;
    let Some(step) = step_no(&step) else {
        return not_found();
    };
    match filer_app(&state, &c, &id).await {
        Ok((_, app)) => match service_index(&uri, &app.form) {
            Some(service) => step_page(
                &state,
                &c,
                &app,
                step,
                service,
                vec![],
                None,
                StatusCode::OK,
            ),
            None => not_found(),
        },
        Err(r) => r,
    }
}

/// Applies a step's fields to the form.
fn apply_step(form: &mut ApplicationForm, step: u32, service: usize, f: &Fields) {
    match step {
        1 => {
            form.applicant.kind = opt(f, "kind");
            let i = form
                .applicant
                .individual
                .get_or_insert_with(Default::default);
            i.name = opt(f, "ind_name");
            i.id_type = opt(f, "ind_id_type");
            i.id_number = opt(f, "ind_id_number");
            i.id_address = opt(f, "ind_id_address");
            i.mailing_address = opt(f, "ind_mailing_address");
            let o = form
                .applicant
                .institution
                .get_or_insert_with(Default::default);
            o.name = opt(f, "inst_name");
            o.credit_code = opt(f, "inst_credit_code");
            o.registered_address = opt(f, "inst_registered_address");
            o.mailing_address = opt(f, "inst_mailing_address");
            form.registered_place.district_code = opt(f, "district_code");
            form.registered_place.address = opt(f, "place_address");
            form.website = opt(f, "website");
        }
        2 => {
            let r = &mut form.responsible;
            r.name = opt(f, "name");
            r.office_phone = opt(f, "office_phone");
            r.id_type = opt(f, "id_type");
            r.id_number = opt(f, "id_number");
            r.mobile = opt(f, "mobile");
            r.email = opt(f, "email");
        }
        3 => {
            if service >= form.services.len() {
                form.services.push(Default::default());
            }
            let last = form.services.len() - 1;
            let s = &mut form.services[service.min(last)];
            s.name = opt(f, "name");
            s.website_name = opt(f, "website_name");
            s.url_or_client = opt(f, "url_or_client");
            s.official_account = opt(f, "official_account");
            s.description = opt(f, "description");
            s.has_management_mechanism = opt_bool(f, "mechanism");
            s.main_chain = opt(f, "main_chain");
            // One pre-approval item per service on the page (more through
            // the API); its certificate is uploaded in the last step.
            match opt(f, "pre_item") {
                Some(item) => {
                    if s.pre_approvals.is_empty() {
                        s.pre_approvals.push(Default::default());
                    }
                    s.pre_approvals[0].item = Some(item);
                }
                None => s.pre_approvals.truncate(0),
            }
            s.main_chain_other = opt(f, "main_chain_other");
            let (category, kind) = match opt(f, "service_type")
                .as_deref()
                .and_then(|t| t.split_once('/'))
            {
                Some((c, k)) => (Some(c.to_owned()), Some(k.to_owned())),
                None => (None, None),
            };
            let t = &mut s.service_type;
            t.category = category;
            t.kind = kind;
            let ex = t.explorer.get_or_insert_with(Default::default);
            ex.url = opt(f, "ex_url");
            ex.annual_visits = opt_i64(f, "ex_annual");
            ex.average_daily_visits = opt_i64(f, "ex_daily");
            ex.server_ip = opt(f, "ex_ip");
            ex.server_location = opt(f, "ex_location");
            let b = t.baas.get_or_insert_with(Default::default);
            b.service_count = opt_i64(f, "baas_count");
            b.service_objects = opt(f, "baas_objects");
            b.hardware_software_separated = opt_bool(f, "baas_separated");
            b.cloud_qualification = opt(f, "baas_cloud");
            b.machine_room_location = opt(f, "baas_room");
            let o = t.technology_other.get_or_insert_with(Default::default);
            o.services = opt(f, "tech_services");
            o.count = opt_i64(f, "tech_count");
            o.open_source = opt_bool(f, "tech_open");
            o.source_code_url = opt(f, "tech_source");
        }
        _ => {
            form.declaration.agreed = field(f, "agreed") == Some("yes");
        }
    }
    // Only the chosen kind's details are kept, so the stored document says
    // what the applicant is.
    match form.applicant.kind.as_deref() {
        Some("individual") => form.applicant.institution = None,
        Some("institution") => form.applicant.individual = None,
        _ => {}
    }
    for s in &mut form.services {
        let t = &mut s.service_type;
        let chosen = (t.category.clone(), t.kind.clone());
        if chosen != (Some("application".into()), Some("explorer".into())) {
            t.explorer = None;
        }
        if chosen != (Some("technology".into()), Some("baas".into())) {
            t.baas = None;
        }
        if chosen != (Some("technology".into()), Some("other".into())) {
            t.technology_other = None;
        }
    }
}

/// `POST /filer/applications/{id}/step/{n}`: saves the step; next step,
/// the same step (draft), or submission.
pub(crate) async fn step_post(
    State(state): State<RegistryState>,
    Path((id, step)): Path<(String, String)>,
    uri: Uri,
    headers: HeaderMap,
    axum::Form(f): axum::Form<Fields>,
) -> Response {
    let c = match posted(&state, &uri, &headers, &f).await {
        Ok(c) => c,
        Err(r) => return r,
    };
    let Some(step) = step_no(&step) else {
        return not_found();
    };
    let (user, app) = match filer_app(&state, &c, &id).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let Some(service) = service_index(&uri, &app.form) else {
        return not_found();
    };
    let mut form = app.form.clone();
    if step == 3 && field(&f, "action") == Some("remove") {
        if service < form.services.len() && form.services.len() > 1 {
            form.services.remove(service);
        }
    } else {
        apply_step(&mut form, step, service, &f);
    }
    let saved = match state
        .registry
        .update_draft(&user, app.record.id, &form)
        .await
    {
        Ok(a) => a,
        Err(e) => return crate::ApiError::from(e).into_response(),
    };
    match field(&f, "action") {
        Some("next") if step < 4 => redirect(&format!(
            "/filer/applications/{}/step/{}{}",
            saved.record.id,
            step + 1,
            c.q()
        )),
        Some("submit") => match state.registry.submit(&user, saved.record.id).await {
            Ok(done) => {
                let notice = format!(
                    "{} {}",
                    c.t(&state, "submitted"),
                    done.record.due_date.clone().unwrap_or_default()
                );
                step_page(
                    &state,
                    &c,
                    &done,
                    4,
                    0,
                    vec![],
                    Some(notice),
                    StatusCode::OK,
                )
            }
            Err(RegistryError::Incomplete(findings)) => {
                let problems = findings
                    .problems
                    .iter()
                    .map(|p| context! { path => p.path, code => p.code })
                    .collect();
                step_page(
                    &state,
                    &c,
                    &saved,
                    4,
                    0,
                    problems,
                    None,
                    StatusCode::UNPROCESSABLE_ENTITY,
                )
            }
            Err(e) => crate::ApiError::from(e).into_response(),
        },
        _ => {
            let notice = Some(c.t(&state, "saved"));
            let service = service.min(saved.form.services.len().saturating_sub(1));
            step_page(
                &state,
                &c,
                &saved,
                step,
                service,
                vec![],
                notice,
                StatusCode::OK,
            )
        }
    }
}

/// `POST /filer/applications/{id}/upload`: a document into one slot.
pub(crate) async fn upload(
    State(state): State<RegistryState>,
    Path(id): Path<String>,
    uri: Uri,
    headers: HeaderMap,
    mut multipart: Multipart,
) -> Response {
    let c = ctx(&state, &uri, &headers).await;
    let (user, app) = match filer_app(&state, &c, &id).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let (mut csrf, mut slot, mut file) = (None, None, None);
    while let Ok(Some(part)) = multipart.next_field().await {
        match part.name() {
            Some("csrf") => csrf = part.text().await.ok(),
            Some("slot") => slot = part.text().await.ok(),
            Some("file") => {
                let name = part.file_name().unwrap_or("").to_owned();
                file = part.bytes().await.ok().map(|b| (name, b));
            }
            _ => {}
        }
    }
    if !crate::forms::csrf_ok(&headers, csrf.as_deref()) {
        return csrf_refused(&state, &c);
    }
    let Some((name, bytes)) = file else {
        return step_page(
            &state,
            &c,
            &app,
            4,
            0,
            vec![],
            Some(c.t(&state, "not_uploaded")),
            StatusCode::BAD_REQUEST,
        );
    };
    let stored = match state
        .registry
        .add_attachment(&user, app.record.id, &name, &bytes)
        .await
    {
        Ok(a) => a,
        Err(e) => {
            let status = match &e {
                RegistryError::File(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
                _ => StatusCode::CONFLICT,
            };
            let problems =
                vec![context! { path => slot.unwrap_or_default(), code => e.to_string() }];
            return step_page(&state, &c, &app, 4, 0, problems, None, status);
        }
    };
    let mut form = app.form.clone();
    match slot.as_deref() {
        Some("applicant_scan") => match form.applicant.kind.as_deref() {
            Some("institution") => {
                form.applicant
                    .institution
                    .get_or_insert_with(Default::default)
                    .licence_scan = Some(stored.id)
            }
            _ => {
                form.applicant
                    .individual
                    .get_or_insert_with(Default::default)
                    .id_scan = Some(stored.id)
            }
        },
        Some("responsible_scan") => form.responsible.id_scan = Some(stored.id),
        Some("declaration_scan") => form.declaration.signed_scan = Some(stored.id),
        Some(other) => {
            let service = |prefix: &str| {
                other
                    .strip_prefix(prefix)
                    .and_then(|n| n.parse::<usize>().ok())
                    .filter(|n| *n < form.services.len())
            };
            if let Some(n) = service("pre_approval_") {
                if let Some(p) = form.services[n].pre_approvals.first_mut() {
                    p.certificate = Some(stored.id);
                }
            } else if let Some(n) = service("white_paper_")
                && let Some(o) = form.services[n].service_type.technology_other.as_mut()
            {
                o.white_paper = Some(stored.id);
            }
        }
        None => {}
    }
    match state
        .registry
        .update_draft(&user, app.record.id, &form)
        .await
    {
        Ok(saved) => step_page(
            &state,
            &c,
            &saved,
            4,
            0,
            vec![],
            Some(c.t(&state, "saved")),
            StatusCode::OK,
        ),
        Err(e) => crate::ApiError::from(e).into_response(),
    }
}

/// `GET /review`.
pub(crate) async fn review_home(
    State(state): State<RegistryState>,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    let c = ctx(&state, &uri, &headers).await;
    let user = match need_user(&c, UserRole::Reviewer) {
        Ok(u) => u,
        Err(r) => return r,
    };
    let queue = match state.registry.review_queue(&user).await {
        Ok(q) => q,
        Err(e) => return crate::ApiError::from(e).into_response(),
    };
    let calendar_warning = state
        .registry
        .calendar_warning(&user)
        .ok()
        .flatten()
        .map(|y| format!("{y}"));
    let queue: Vec<Value> = queue
        .iter()
        .map(|a| {
            context! {
                id => a.record.id, entity => a.form.applicant_name(), state => a.state.code(),
                due => a.record.due_date, days_left => a.working_days_left, overdue => a.overdue,
            }
        })
        .collect();
    render(
        &state,
        &c,
        "review.html",
        context! { queue, calendar_warning },
        StatusCode::OK,
    )
}

#[allow(clippy::result_large_err)]
async fn reviewer_app(
    state: &RegistryState,
    c: &Ctx,
    id: &str,
) -> Result<(User, Application), Response> {
    let user = need_user(c, UserRole::Reviewer)?;
    let Ok(id) = id.parse::<i64>() else {
        return Err(not_found());
    };
    match state.registry.application(&user, id).await {
        Ok(app) => Ok((user, app)),
        Err(RegistryError::NotFound) => Err(not_found()),
        Err(e) => Err(crate::ApiError::from(e).into_response()),
    }
}

fn review_page(
    state: &RegistryState,
    c: &Ctx,
    app: &Application,
    error: Option<String>,
    status: StatusCode,
) -> Response {
    let view = context! {
        id => app.record.id, state => app.state.code(), due => app.record.due_date,
        days_left => app.working_days_left, overdue => app.overdue,
        warnings => app.warnings.iter().map(|w| format!("{}: {}", w.path, w.message)).collect::<Vec<_>>(),
        form_json => serde_json::to_string_pretty(&app.form).unwrap_or_default(),
        attachments => app.attachments.iter().map(|a| context! { id => a.id, name => a.file_name, mime => a.mime }).collect::<Vec<_>>(),
        decidable => matches!(app.state, AppState::Submitted | AppState::UnderReview | AppState::ChangePending | AppState::CancellationPending),
    };
    render(
        state,
        c,
        "review_app.html",
        context! { app => view, error },
        status,
    )
}

/// `GET /review/applications/{id}`.
pub(crate) async fn review_get(
    State(state): State<RegistryState>,
    Path(id): Path<String>,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    let c = ctx(&state, &uri, &headers).await;
    match reviewer_app(&state, &c, &id).await {
        Ok((_, app)) => review_page(&state, &c, &app, None, StatusCode::OK),
        Err(r) => r,
    }
}

/// `POST /review/applications/{id}`: the decision.
pub(crate) async fn review_post(
    State(state): State<RegistryState>,
    Path(id): Path<String>,
    uri: Uri,
    headers: HeaderMap,
    axum::Form(f): axum::Form<Fields>,
) -> Response {
    let c = match posted(&state, &uri, &headers, &f).await {
        Ok(c) => c,
        Err(r) => return r,
    };
    let (user, app) = match reviewer_app(&state, &c, &id).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let kind = match field(&f, "decision") {
        Some("approve") => DecisionKind::Approve,
        Some("reject") => DecisionKind::Reject,
        Some("incomplete") => DecisionKind::Incomplete,
        _ => {
            return review_page(
                &state,
                &c,
                &app,
                Some(c.t(&state, "decision")),
                StatusCode::UNPROCESSABLE_ENTITY,
            );
        }
    };
    let reasons = field(&f, "reasons")
        .unwrap_or("")
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(|l| Reason {
            field: None,
            reason: l.to_owned(),
        })
        .collect();
    match state
        .registry
        .decide(&user, app.record.id, kind, reasons)
        .await
    {
        Ok(_) => redirect(&format!("/review{}", c.q())),
        Err(e @ (RegistryError::BadDecision(_) | RegistryError::WrongState { .. })) => review_page(
            &state,
            &c,
            &app,
            Some(e.to_string()),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        Err(e) => crate::ApiError::from(e).into_response(),
    }
}

/// `GET /publish`.
pub(crate) async fn publish_home(
    State(state): State<RegistryState>,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    let c = ctx(&state, &uri, &headers).await;
    if let Err(r) = need_user(&c, UserRole::Publisher) {
        return r;
    }
    publish_page(&state, &c, None, StatusCode::OK).await
}

async fn publish_page(
    state: &RegistryState,
    c: &Ctx,
    error: Option<String>,
    status: StatusCode,
) -> Response {
    match state.registry.batches(true).await {
        Ok(list) => {
            let batches: Vec<Value> = list
                .iter()
                .map(|b| context! { number => b.number, state => b.state.code(), window_ends => b.window_ends })
                .collect();
            // Every check-in window with who confirmed and who has not.
            let mut checkins = Vec::new();
            if let Some(user) = &c.user {
                for w in state.registry.checkins(user).await.unwrap_or_default() {
                    if let Ok(full) = state.registry.checkin(user, w.id).await {
                        let missing: Vec<Value> = full
                            .missing
                            .iter()
                            .map(|m| context! { entity => m.entity_name, numbers => m.numbers })
                            .collect();
                        checkins.push(context! {
                            opens_on => full.record.opens_on, closes_on => full.record.closes_on,
                            closed => full.closed, confirmed => full.confirmed.len(), missing,
                        });
                    }
                }
            }
            render(
                state,
                c,
                "publish.html",
                context! { batches, checkins, error },
                status,
            )
        }
        Err(e) => crate::ApiError::from(e).into_response(),
    }
}

/// `POST /publish/gather`, `/publish/{n}/publish`, `/publish/{n}/finalise`.
pub(crate) async fn publish_post(
    State(state): State<RegistryState>,
    uri: Uri,
    headers: HeaderMap,
    axum::Form(f): axum::Form<Fields>,
) -> Response {
    let (c, user) = match posted_by(&state, &uri, &headers, &f, UserRole::Publisher).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let parts: Vec<&str> = uri
        .path()
        .trim_start_matches("/publish/")
        .split('/')
        .collect();
    let result = match parts.as_slice() {
        ["gather"] => state.registry.gather_batch(&user).await.map(|_| ()),
        [n, "publish"] => match n.parse() {
            Ok(n) => state.registry.publish_batch(&user, n).await.map(|_| ()),
            Err(_) => return not_found(),
        },
        [n, "finalise"] => match n.parse() {
            Ok(n) => state.registry.finalise_batch(&user, n).await.map(|_| ()),
            Err(_) => return not_found(),
        },
        _ => return not_found(),
    };
    match result {
        Ok(()) => redirect(&format!("/publish{}", c.q())),
        Err(e) => publish_page(&state, &c, Some(e.to_string()), StatusCode::CONFLICT).await,
    }
}

/// `GET /review/applications/{id}/attachments/{a}`: a document for the
/// reviewer (the cookie session).
pub(crate) async fn review_attachment(
    State(state): State<RegistryState>,
    Path((id, a)): Path<(String, String)>,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    let c = ctx(&state, &uri, &headers).await;
    let (user, app) = match reviewer_app(&state, &c, &id).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let Ok(a) = a.parse::<i64>() else {
        return not_found();
    };
    match state
        .registry
        .attachment_file(&user, app.record.id, a)
        .await
    {
        Ok((bytes, mime)) => (
            [
                (axum::http::header::CONTENT_TYPE, mime),
                (
                    axum::http::header::CACHE_CONTROL,
                    "private, no-store".to_owned(),
                ),
                (
                    axum::http::header::HeaderName::from_static("x-content-type-options"),
                    "nosniff".to_owned(),
                ),
            ],
            bytes,
        )
            .into_response(),
        Err(_) => not_found(),
    }
}

/// The pages, shared with the router.
pub(crate) fn pages() -> Arc<RegistryPages> {
    Arc::new(RegistryPages::new())
}

/// `POST /filer/checkins/{id}`: the filer confirms a filing.
pub(crate) async fn checkin_confirm(
    State(state): State<RegistryState>,
    Path(id): Path<String>,
    uri: Uri,
    headers: HeaderMap,
    axum::Form(f): axum::Form<Fields>,
) -> Response {
    let (c, user) = match posted_by(&state, &uri, &headers, &f, UserRole::Filer).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let Ok(id) = id.parse::<i64>() else {
        return not_found();
    };
    match state
        .registry
        .confirm_checkin(&user, id, field(&f, "number").unwrap_or(""), "")
        .await
    {
        Ok(_) | Err(RegistryError::AlreadyConfirmed) => redirect(&format!("/filer{}", c.q())),
        Err(RegistryError::NotFound | RegistryError::CheckinNotFound) => not_found(),
        Err(e @ (RegistryError::CheckinClosed(..) | RegistryError::WrongState { .. })) => (
            StatusCode::CONFLICT,
            Html(format!(
                "<!doctype html><meta charset=\"utf-8\"><title>409</title><p>{}</p><p><a href=\"/filer\">←</a></p>",
                e.to_string().replace('<', "&lt;")
            )),
        )
            .into_response(),
        Err(e) => crate::ApiError::from(e).into_response(),
    }
}

/// `POST /publish/checkins` (open a window) and
/// `POST /publish/{n}/objection` (record an objection).
pub(crate) async fn publish_form(
    State(state): State<RegistryState>,
    uri: Uri,
    headers: HeaderMap,
    axum::Form(f): axum::Form<Fields>,
) -> Response {
    let (c, user) = match posted_by(&state, &uri, &headers, &f, UserRole::Publisher).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let get = |n: &str| field(&f, n).unwrap_or("").to_owned();
    let parts: Vec<&str> = uri
        .path()
        .trim_start_matches("/publish/")
        .split('/')
        .collect();
    let result = match parts.as_slice() {
        ["checkins"] => state
            .registry
            .open_checkin(&user, &get("opens_on"), &get("closes_on"))
            .await
            .map(|_| ()),
        [n, "objection"] => match n.parse() {
            Ok(n) => state
                .registry
                .record_objection(&user, n, &get("number"), &get("text"), &get("contact"))
                .await
                .map(|_| ()),
            Err(_) => return not_found(),
        },
        _ => return not_found(),
    };
    match result {
        Ok(()) => redirect(&format!("/publish{}", c.q())),
        Err(e) => {
            publish_page(
                &state,
                &c,
                Some(e.to_string()),
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
    }
}

/// `GET /filer/applications/{id}/change/{step}`: one part of an approved
/// filing, to record a change of it.
pub(crate) async fn change_get(
    State(state): State<RegistryState>,
    Path((id, step)): Path<(String, String)>,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    let c = ctx(&state, &uri, &headers).await;
    let Some(step) = step_no(&step).filter(|s| *s <= 3) else {
        return not_found();
    };
    let (_, app) = match filer_app(&state, &c, &id).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    match service_index(&uri, &app.form).filter(|n| *n < app.form.services.len().max(1)) {
        Some(service) if app.state == AppState::Approved => step_view(
            &state,
            &c,
            &app,
            step,
            service,
            vec![],
            None,
            StatusCode::OK,
            true,
        ),
        Some(_) => redirect(&format!(
            "/filer/applications/{}/step/4{}",
            app.record.id,
            c.q()
        )),
        None => not_found(),
    }
}

/// `POST /filer/applications/{id}/change/{step}`: records the change.
pub(crate) async fn change_post(
    State(state): State<RegistryState>,
    Path((id, step)): Path<(String, String)>,
    uri: Uri,
    headers: HeaderMap,
    axum::Form(f): axum::Form<Fields>,
) -> Response {
    let c = match posted(&state, &uri, &headers, &f).await {
        Ok(c) => c,
        Err(r) => return r,
    };
    let Some(step) = step_no(&step).filter(|s| *s <= 3) else {
        return not_found();
    };
    let (user, app) = match filer_app(&state, &c, &id).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let Some(service) = service_index(&uri, &app.form).filter(|n| *n < app.form.services.len())
    else {
        return not_found();
    };
    let Some(number) = app.numbers.first().map(|n| n.number.clone()) else {
        return not_found();
    };
    let mut form = app.form.clone();
    apply_step(&mut form, step, service, &f);
    match state
        .registry
        .record_change(&user, &number, field(&f, "changed_on").unwrap_or(""), &form)
        .await
    {
        Ok(_) => redirect(&format!(
            "/filer/applications/{}/step/4{}",
            app.record.id,
            c.q()
        )),
        Err(RegistryError::Incomplete(findings)) => {
            let problems = findings
                .problems
                .iter()
                .map(|p| context! { path => p.path, code => p.code })
                .collect();
            step_view(
                &state,
                &c,
                &app,
                step,
                service,
                problems,
                None,
                StatusCode::UNPROCESSABLE_ENTITY,
                true,
            )
        }
        Err(e @ (RegistryError::Invalid { .. } | RegistryError::WrongState { .. })) => {
            let problems = vec![context! { path => "changed_on", code => e.to_string() }];
            step_view(
                &state,
                &c,
                &app,
                step,
                service,
                problems,
                None,
                StatusCode::UNPROCESSABLE_ENTITY,
                true,
            )
        }
        Err(e) => crate::ApiError::from(e).into_response(),
    }
}

/// `POST /filer/applications/{id}/cancel`: files the cancellation.
pub(crate) async fn cancel_post(
    State(state): State<RegistryState>,
    Path(id): Path<String>,
    uri: Uri,
    headers: HeaderMap,
    axum::Form(f): axum::Form<Fields>,
) -> Response {
    let c = match posted(&state, &uri, &headers, &f).await {
        Ok(c) => c,
        Err(r) => return r,
    };
    let (user, app) = match filer_app(&state, &c, &id).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let Some(number) = app.numbers.first().map(|n| n.number.clone()) else {
        return not_found();
    };
    match state
        .registry
        .request_cancellation(&user, &number, field(&f, "termination_date").unwrap_or(""))
        .await
    {
        Ok(done) => step_page(&state, &c, &done, 4, 0, vec![], None, StatusCode::OK),
        Err(
            e @ (RegistryError::TooSoon(_)
            | RegistryError::Invalid { .. }
            | RegistryError::WrongState { .. }),
        ) => {
            let problems = vec![context! { path => "termination_date", code => e.to_string() }];
            step_page(
                &state,
                &c,
                &app,
                4,
                0,
                problems,
                None,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
        }
        Err(e) => crate::ApiError::from(e).into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registry_templates_compile_and_translations_match() {
        let pages = RegistryPages::new();
        assert_eq!(
            pages.zh.keys().collect::<Vec<_>>(),
            pages.en.keys().collect::<Vec<_>>()
        );
        for (name, _) in TEMPLATES {
            assert!(pages.env.get_template(name).is_ok(), "{name}");
        }
    }
}
