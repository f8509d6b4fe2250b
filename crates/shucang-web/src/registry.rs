//! The filing registry's HTTP API (`shucang registry serve`): filer
//! accounts, applications, uploads, submission, the review queue and
//! decisions. Same conventions as the platform: JSON under `/api/v1`,
//! `{"error":{"code","message"}}` errors with 4xx for caller mistakes,
//! bearer tokens, `/healthz`.

use std::sync::Arc;

use axum::Router;
use axum::extract::{FromRequestParts, Multipart, Path, Query, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{delete, get, post};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use shucang_registry::{
    Application, ApplicationForm, DecisionKind, FileError, Reason, Registry, RegistryError,
    StoreError, User,
};

use crate::ApiError;
use crate::extract::ApiJson;

/// What the registry's handlers share.
#[derive(Clone)]
pub struct RegistryState {
    /// The registry.
    pub registry: Arc<Registry>,
    /// Templates and translations of the web pages.
    pub(crate) pages: Arc<crate::registry_web::RegistryPages>,
}

impl RegistryState {
    /// The state for `registry`, with the compiled page templates.
    pub fn new(registry: Arc<Registry>) -> RegistryState {
        RegistryState {
            registry,
            pages: crate::registry_web::pages(),
        }
    }
}

/// The registry application: API and health check, with the same layers
/// (request ids, tracing, body limit, panic guard) as the platform.
pub fn registry_router(state: RegistryState) -> Router {
    let api = Router::new()
        .route(
            "/healthz",
            get(|| async { axum::Json(json!({"status": "ok"})) }),
        )
        .route("/api/v1/filers", post(register))
        .route("/api/v1/filers/verify-phone", post(verify_phone))
        .route("/filers/verify-email", get(verify_email))
        .route("/api/v1/sessions", post(login))
        .route("/api/v1/sessions/current", delete(logout))
        .route(
            "/api/v1/applications",
            post(create_draft).get(my_applications),
        )
        .route(
            "/api/v1/applications/{id}",
            get(application).put(update_draft),
        )
        .route(
            "/api/v1/applications/{id}/attachments",
            post(upload).layer(axum::extract::DefaultBodyLimit::max(
                shucang_registry::UPLOAD_BYTES_MAX + 64 * 1024,
            )),
        )
        .route(
            "/api/v1/applications/{id}/attachments/{attachment}",
            get(download),
        )
        .route("/api/v1/applications/{id}/submit", post(submit))
        .route("/api/v1/applications/{id}/audit", get(audit))
        .route("/api/v1/review/queue", get(queue))
        .route("/api/v1/review/calendar", get(calendar))
        .route("/api/v1/review/applications/{id}/decision", post(decide))
        .route("/api/v1/publication/batches", post(gather).get(batches))
        .route("/api/v1/publication/batches/{n}", get(batch))
        .route("/api/v1/publication/batches/{n}/publish", post(publish))
        .route("/api/v1/publication/batches/{n}/objections", post(object))
        .route("/api/v1/publication/batches/{n}/finalise", post(finalise))
        .route("/api/v1/publication/batches/{n}/csv", get(batch_csv))
        .route("/publication/batches/{n}", get(batch_page))
        .route("/api/v1/public/filings", get(search))
        .route("/api/v1/filings/{number}/changes", post(change))
        .route("/api/v1/filings/{number}/cancellation", post(cancel))
        .route("/api/openapi.json", get(openapi))
        .route("/api/v1/checkins", post(open_checkin))
        .route("/api/v1/checkins/{id}", get(checkin))
        .route("/api/v1/checkins/{id}/confirmations", post(confirm))
        .route("/static/site.css", get(crate::pages::stylesheet))
        .route("/", get(crate::registry_web::home))
        .route(
            "/login",
            get(crate::registry_web::account_page).post(crate::registry_web::account_submit),
        )
        .route(
            "/register",
            get(crate::registry_web::account_page).post(crate::registry_web::account_submit),
        )
        .route(
            "/verify",
            get(crate::registry_web::account_page).post(crate::registry_web::account_submit),
        )
        .route("/logout", post(crate::registry_web::logout))
        .route("/filer", get(crate::registry_web::filer_home))
        .route(
            "/filer/applications",
            post(crate::registry_web::new_application),
        )
        .route(
            "/filer/applications/{id}/step/{step}",
            get(crate::registry_web::step_get).post(crate::registry_web::step_post),
        )
        .route(
            "/filer/applications/{id}/upload",
            post(crate::registry_web::upload).layer(axum::extract::DefaultBodyLimit::max(
                shucang_registry::UPLOAD_BYTES_MAX + 64 * 1024,
            )),
        )
        .route("/review", get(crate::registry_web::review_home))
        .route(
            "/review/applications/{id}",
            get(crate::registry_web::review_get).post(crate::registry_web::review_post),
        )
        .route(
            "/review/applications/{id}/attachments/{a}",
            get(crate::registry_web::review_attachment),
        )
        .route("/publish", get(crate::registry_web::publish_home))
        .route("/publish/gather", post(crate::registry_web::publish_post))
        .route(
            "/publish/{n}/publish",
            post(crate::registry_web::publish_post),
        )
        .route(
            "/publish/{n}/finalise",
            post(crate::registry_web::publish_post),
        )
        .route("/publish/checkins", post(crate::registry_web::publish_form))
        .route(
            "/publish/{n}/objection",
            post(crate::registry_web::publish_form),
        )
        .route(
            "/filer/checkins/{id}",
            post(crate::registry_web::checkin_confirm),
        )
        .route(
            "/filer/applications/{id}/change/{step}",
            get(crate::registry_web::change_get).post(crate::registry_web::change_post),
        )
        .route(
            "/filer/applications/{id}/cancel",
            post(crate::registry_web::cancel_post),
        )
        .fallback(|uri: axum::http::Uri| async move { crate::error::not_found(uri).await })
        .with_state(state)
        .method_not_allowed_fallback(crate::error::method_not_allowed);
    crate::guarded(api)
}

impl From<RegistryError> for ApiError {
    fn from(e: RegistryError) -> ApiError {
        use RegistryError as E;
        let (status, code) = match &e {
            E::Invalid { field, .. } => (
                StatusCode::UNPROCESSABLE_ENTITY,
                match *field {
                    "name" => "invalid_name",
                    "phone" => "invalid_phone",
                    "email" => "invalid_email",
                    "password" => "weak_password",
                    _ => "invalid_field",
                },
            ),
            E::PhoneTaken => (StatusCode::CONFLICT, "phone_taken"),
            E::InvalidCredentials => (StatusCode::UNAUTHORIZED, "invalid_credentials"),
            E::Locked { .. } => (StatusCode::LOCKED, "account_locked"),
            E::VerificationFailed => (StatusCode::BAD_REQUEST, "verification_failed"),
            E::Unconfirmed => (StatusCode::FORBIDDEN, "contact_unconfirmed"),
            E::NotFound => (StatusCode::NOT_FOUND, "application_not_found"),
            E::WrongState { .. } => (StatusCode::CONFLICT, "wrong_state"),
            E::Incomplete(_) => (StatusCode::UNPROCESSABLE_ENTITY, "application_incomplete"),
            E::File(FileError::Size) => (StatusCode::PAYLOAD_TOO_LARGE, "file_too_large"),
            E::File(FileError::Type) => (StatusCode::UNSUPPORTED_MEDIA_TYPE, "file_type_refused"),
            E::File(FileError::NameMismatch) => {
                (StatusCode::UNSUPPORTED_MEDIA_TYPE, "file_name_mismatch")
            }
            E::TooManyAttachments => (StatusCode::CONFLICT, "too_many_attachments"),
            E::BadDecision(_) => (StatusCode::UNPROCESSABLE_ENTITY, "invalid_decision"),
            E::Forbidden(_) => (StatusCode::FORBIDDEN, "forbidden"),
            E::CheckinNotFound => (StatusCode::NOT_FOUND, "checkin_not_found"),
            E::CheckinClosed(..) => (StatusCode::CONFLICT, "checkin_closed"),
            E::AlreadyConfirmed => (StatusCode::CONFLICT, "already_confirmed"),
            E::TooSoon(_) => (StatusCode::UNPROCESSABLE_ENTITY, "termination_too_soon"),
            E::NothingToGather => (StatusCode::CONFLICT, "nothing_to_gather"),
            E::BatchNotFound => (StatusCode::NOT_FOUND, "batch_not_found"),
            E::BatchWrongState(_) => (StatusCode::CONFLICT, "wrong_state"),
            E::WindowOpen(_) => (StatusCode::CONFLICT, "objection_window_open"),
            E::Calendar(_) => (StatusCode::SERVICE_UNAVAILABLE, "holiday_schedule_missing"),
            E::Store(StoreError::PhoneTaken) => (StatusCode::CONFLICT, "phone_taken"),
            E::Busy => return ApiError::busy(),
            E::Store(_) | E::Internal(_) => return ApiError::internal(&e),
        };
        ApiError::new(status, code, e.to_string())
    }
}

/// A failed registry call as a response: the usual error body, plus the
/// list of problems for an incomplete application.
fn fail(e: RegistryError) -> Response {
    if let RegistryError::TooSoon(earliest) = &e {
        return (
            StatusCode::UNPROCESSABLE_ENTITY,
            axum::Json(json!({"error": {
                "code": "termination_too_soon",
                "message": e.to_string(),
                "earliest_termination_date": earliest,
            }})),
        )
            .into_response();
    }
    if let RegistryError::Incomplete(findings) = &e {
        let problems: Vec<Value> = findings
            .problems
            .iter()
            .map(|p| json!({"path": p.path, "code": p.code, "message": p.message}))
            .collect();
        return (
            StatusCode::UNPROCESSABLE_ENTITY,
            axum::Json(json!({"error": {
                "code": "application_incomplete",
                "message": e.to_string(),
                "problems": problems,
            }})),
        )
            .into_response();
    }
    ApiError::from(e).into_response()
}

/// The logged-in registry user (bearer token).
pub struct RegUser(User);

impl FromRequestParts<RegistryState> for RegUser {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &RegistryState,
    ) -> Result<Self, Self::Rejection> {
        let token = bearer(&parts.headers).ok_or_else(ApiError::unauthenticated)?;
        match state.registry.authenticate(token).await {
            Ok(Some(user)) => Ok(RegUser(user)),
            Ok(None) => Err(ApiError::unauthenticated()),
            Err(e) => Err(e.into()),
        }
    }
}

fn bearer(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(header::AUTHORIZATION)?
        .to_str()
        .ok()?
        .strip_prefix("Bearer ")
        .map(str::trim)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Registration {
    name: String,
    phone: String,
    email: String,
    password: String,
}

#[utoipa::path(post, path = "/api/v1/filers", tag = "filers",
    request_body(content = Object, description = "`{\"name\",\"phone\",\"email\",\"password\"}`"),
    responses((status = 201, description = "registered; an SMS code and an e-mail link are queued", body = Object),
        (status = 409, description = "`phone_taken`", body = crate::error::ErrorBody),
        (status = 422, description = "`invalid_name`, `invalid_phone`, `invalid_email`, `weak_password`", body = crate::error::ErrorBody)))]
async fn register(
    State(state): State<RegistryState>,
    ApiJson(r): ApiJson<Registration>,
) -> Result<Response, ApiError> {
    let id = state
        .registry
        .register_filer(&r.name, &r.phone, &r.email, &r.password)
        .await?;
    Ok((
        StatusCode::CREATED,
        axum::Json(json!({
            "id": id,
            "phone_verified": false,
            "email_verified": false,
            "next": "confirm the mobile with the SMS code (POST /api/v1/filers/verify-phone) and open the e-mail link",
        })),
    )
        .into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PhoneCode {
    phone: String,
    code: String,
}

#[utoipa::path(post, path = "/api/v1/filers/verify-phone", tag = "filers",
    request_body(content = Object, description = "`{\"phone\",\"code\"}`"),
    responses((status = 200, body = Object), (status = 400, description = "`verification_failed`", body = crate::error::ErrorBody)))]
async fn verify_phone(
    State(state): State<RegistryState>,
    ApiJson(p): ApiJson<PhoneCode>,
) -> Result<axum::Json<Value>, ApiError> {
    state.registry.verify_phone(&p.phone, &p.code).await?;
    Ok(axum::Json(json!({"phone_verified": true})))
}

#[derive(Deserialize)]
struct TokenQuery {
    token: Option<String>,
}

/// The e-mail link: a small page either way (it is opened in a browser).
#[utoipa::path(get, path = "/filers/verify-email", tag = "filers",
    params(("token" = String, Query, description = "from the e-mail link")),
    responses((status = 200, description = "a page: confirmed", content_type = "text/html"), (status = 400, description = "a page: wrong, used or expired", content_type = "text/html")))]
async fn verify_email(State(state): State<RegistryState>, Query(q): Query<TokenQuery>) -> Response {
    let page = |status: StatusCode, zh: &str, en: &str| {
        (
            status,
            Html(format!(
                "<!doctype html><html lang=\"zh-CN\"><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>{zh}</title><body style=\"font-family:sans-serif;max-width:40rem;margin:3rem auto;padding:0 1rem\"><h1>{zh}</h1><p lang=\"en\">{en}</p></body></html>"
            )),
        )
            .into_response()
    };
    match state
        .registry
        .verify_email(q.token.as_deref().unwrap_or(""))
        .await
    {
        Ok(_) => page(
            StatusCode::OK,
            "邮箱已确认",
            "Your e-mail address is confirmed.",
        ),
        Err(RegistryError::VerificationFailed) => page(
            StatusCode::BAD_REQUEST,
            "链接无效或已过期",
            "This link is wrong, used or expired.",
        ),
        Err(e) => ApiError::from(e).into_response(),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Login {
    phone: String,
    password: String,
}

#[utoipa::path(post, path = "/api/v1/sessions", tag = "filers",
    request_body(content = Object, description = "`{\"phone\",\"password\"}`"),
    responses((status = 201, description = "`{token, role, name, phone_verified, email_verified}`", body = Object),
        (status = 401, description = "`invalid_credentials`", body = crate::error::ErrorBody), (status = 423, description = "`account_locked`", body = crate::error::ErrorBody)))]
async fn login(
    State(state): State<RegistryState>,
    ApiJson(l): ApiJson<Login>,
) -> Result<Response, ApiError> {
    let session = state.registry.login(&l.phone, &l.password).await?;
    Ok((
        StatusCode::CREATED,
        axum::Json(json!({
            "token": session.token,
            "role": session.user.role.code(),
            "name": session.user.name,
            "phone_verified": session.user.phone_verified,
            "email_verified": session.user.email_verified,
        })),
    )
        .into_response())
}

#[utoipa::path(delete, path = "/api/v1/sessions/current", tag = "filers",
    responses((status = 204), (status = 401, body = crate::error::ErrorBody)), security(("bearer" = [])))]
async fn logout(
    State(state): State<RegistryState>,
    headers: HeaderMap,
    RegUser(_): RegUser,
) -> Result<StatusCode, ApiError> {
    if let Some(token) = bearer(&headers) {
        state.registry.logout(token).await?;
    }
    Ok(StatusCode::NO_CONTENT)
}

/// An application as JSON.
#[derive(Serialize)]
struct ApplicationView {
    id: i64,
    state: &'static str,
    /// 未审核, 审核中, 审核通过 or 审核未通过 (absent for drafts).
    public_state: Option<&'static str>,
    version: i64,
    submitted_at: Option<String>,
    due_date: Option<String>,
    working_days_left: Option<u32>,
    overdue: bool,
    decision: Option<Value>,
    numbers: Vec<Value>,
    attachments: Vec<Value>,
    warnings: Vec<Value>,
    /// A change or cancellation under review.
    pending: Option<shucang_registry::Pending>,
    form: ApplicationForm,
}

fn view(a: Application) -> ApplicationView {
    ApplicationView {
        id: a.record.id,
        state: a.state.code(),
        public_state: a.state.public_name(),
        version: a.record.version,
        submitted_at: a.record.submitted_at.map(|t| t.to_rfc3339_utc()),
        due_date: a.record.due_date.clone(),
        working_days_left: a.working_days_left,
        overdue: a.overdue,
        decision: a.decision.map(|d| {
            json!({
                "decision": d.decision,
                "reasons": d.reasons,
                "at": shucang_types::UnixMillis(d.at_ms).to_rfc3339_utc(),
            })
        }),
        numbers: a
            .numbers
            .iter()
            .map(|n| json!({"number": n.number, "service_index": n.service_index}))
            .collect(),
        attachments: a
            .attachments
            .iter()
            .map(|f| json!({"id": f.id, "file_name": f.file_name, "mime": f.mime, "size": f.size}))
            .collect(),
        warnings: a
            .warnings
            .iter()
            .map(|p| json!({"path": p.path, "code": p.code, "message": p.message}))
            .collect(),
        pending: a.pending,
        form: a.form,
    }
}

#[utoipa::path(post, path = "/api/v1/applications", tag = "applications",
    request_body(content = Object, description = "the application form (any part of it)"),
    responses((status = 201, description = "the draft", body = Object), (status = 403, body = crate::error::ErrorBody), (status = 422, description = "`invalid_body`", body = crate::error::ErrorBody)),
    security(("bearer" = [])))]
async fn create_draft(
    State(state): State<RegistryState>,
    RegUser(user): RegUser,
    ApiJson(form): ApiJson<ApplicationForm>,
) -> Result<Response, ApiError> {
    let app = state.registry.create_draft(&user, &form).await?;
    Ok((StatusCode::CREATED, axum::Json(view(app))).into_response())
}

#[utoipa::path(get, path = "/api/v1/applications", tag = "applications",
    responses((status = 200, description = "the filer's applications, newest first", body = [Object]), (status = 401, body = crate::error::ErrorBody)),
    security(("bearer" = [])))]
async fn my_applications(
    State(state): State<RegistryState>,
    RegUser(user): RegUser,
) -> Result<axum::Json<Vec<ApplicationView>>, ApiError> {
    let apps = state.registry.applications_of(&user).await?;
    Ok(axum::Json(apps.into_iter().map(view).collect()))
}

fn app_id(raw: &str) -> Result<i64, ApiError> {
    raw.parse::<i64>()
        .ok()
        .filter(|n| *n > 0)
        .ok_or_else(|| ApiError::from(RegistryError::NotFound))
}

#[utoipa::path(get, path = "/api/v1/applications/{id}", tag = "applications",
    params(("id" = i64, Path)),
    responses((status = 200, description = "state, public state, deadline, working days left, decision, numbers, attachments, warnings, pending request, form", body = Object),
        (status = 404, description = "`application_not_found` (also someone else's)", body = crate::error::ErrorBody)),
    security(("bearer" = [])))]
async fn application(
    State(state): State<RegistryState>,
    RegUser(user): RegUser,
    Path(id): Path<String>,
) -> Result<axum::Json<ApplicationView>, ApiError> {
    let app = state.registry.application(&user, app_id(&id)?).await?;
    Ok(axum::Json(view(app)))
}

#[utoipa::path(put, path = "/api/v1/applications/{id}", tag = "applications",
    params(("id" = i64, Path)), request_body(content = Object, description = "the whole form"),
    responses((status = 200, body = Object), (status = 404, body = crate::error::ErrorBody), (status = 409, description = "`wrong_state`", body = crate::error::ErrorBody), (status = 422, description = "`invalid_body`", body = crate::error::ErrorBody)),
    security(("bearer" = [])))]
async fn update_draft(
    State(state): State<RegistryState>,
    RegUser(user): RegUser,
    Path(id): Path<String>,
    ApiJson(form): ApiJson<ApplicationForm>,
) -> Result<axum::Json<ApplicationView>, ApiError> {
    let app = state
        .registry
        .update_draft(&user, app_id(&id)?, &form)
        .await?;
    Ok(axum::Json(view(app)))
}

#[utoipa::path(post, path = "/api/v1/applications/{id}/attachments", tag = "applications",
    params(("id" = i64, Path)), request_body(content = Object, content_type = "multipart/form-data", description = "field `file`: PNG, JPEG or PDF, ≤ 10 MiB"),
    responses((status = 201, body = Object), (status = 413, description = "`file_too_large`", body = crate::error::ErrorBody),
        (status = 415, description = "`file_type_refused`, `file_name_mismatch`", body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody)),
    security(("bearer" = [])))]
async fn upload(
    State(state): State<RegistryState>,
    RegUser(user): RegUser,
    Path(id): Path<String>,
    mut multipart: Multipart,
) -> Result<Response, ApiError> {
    let id = app_id(&id)?;
    let bad = |m: &str| ApiError::new(StatusCode::BAD_REQUEST, "invalid_upload", m.to_owned());
    while let Some(field) = multipart
        .next_field()
        .await
        .map_err(|_| bad("the body is not valid multipart/form-data"))?
    {
        if field.name() != Some("file") {
            continue;
        }
        let name = field.file_name().unwrap_or("").to_owned();
        let bytes = field
            .bytes()
            .await
            .map_err(|_| ApiError::from(RegistryError::File(FileError::Size)))?;
        let a = state
            .registry
            .add_attachment(&user, id, &name, &bytes)
            .await?;
        return Ok((
            StatusCode::CREATED,
            axum::Json(json!({"id": a.id, "file_name": a.file_name, "mime": a.mime, "size": a.size, "sha256": a.sha256})),
        )
            .into_response());
    }
    Err(bad("send the document in a multipart field named `file`"))
}

#[utoipa::path(get, path = "/api/v1/applications/{id}/attachments/{attachment}", tag = "applications",
    params(("id" = i64, Path), ("attachment" = i64, Path)),
    responses((status = 200, description = "the file"), (status = 404, body = crate::error::ErrorBody)),
    security(("bearer" = [])))]
async fn download(
    State(state): State<RegistryState>,
    RegUser(user): RegUser,
    Path((id, attachment)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let attachment = app_id(&attachment)?;
    let (bytes, mime) = state
        .registry
        .attachment_file(&user, app_id(&id)?, attachment)
        .await?;
    Ok((
        [
            (header::CONTENT_TYPE, mime),
            (header::CACHE_CONTROL, "private, no-store".to_owned()),
            (header::CONTENT_DISPOSITION, "attachment".to_owned()),
            (
                header::HeaderName::from_static("x-content-type-options"),
                "nosniff".to_owned(),
            ),
        ],
        bytes,
    )
        .into_response())
}

#[utoipa::path(post, path = "/api/v1/applications/{id}/submit", tag = "applications",
    params(("id" = i64, Path)),
    responses((status = 200, description = "submitted: 未审核, due 20 working days later", body = Object),
        (status = 422, description = "`application_incomplete` with `problems: [{path, code, message}]`", body = crate::error::ErrorBody),
        (status = 403, description = "`contact_unconfirmed`", body = crate::error::ErrorBody), (status = 409, description = "`wrong_state`", body = crate::error::ErrorBody),
        (status = 503, description = "`holiday_schedule_missing`", body = crate::error::ErrorBody)),
    security(("bearer" = [])))]
async fn submit(
    State(state): State<RegistryState>,
    RegUser(user): RegUser,
    Path(id): Path<String>,
) -> Response {
    let id = match app_id(&id) {
        Ok(id) => id,
        Err(e) => return e.into_response(),
    };
    match state.registry.submit(&user, id).await {
        Ok(app) => axum::Json(view(app)).into_response(),
        Err(e) => fail(e),
    }
}

#[utoipa::path(get, path = "/api/v1/applications/{id}/audit", tag = "applications",
    params(("id" = i64, Path)), responses((status = 200, body = [Object]), (status = 404, body = crate::error::ErrorBody)),
    security(("bearer" = [])))]
async fn audit(
    State(state): State<RegistryState>,
    RegUser(user): RegUser,
    Path(id): Path<String>,
) -> Result<axum::Json<Vec<Value>>, ApiError> {
    let trail = state.registry.audit_trail(&user, app_id(&id)?).await?;
    Ok(axum::Json(
        trail
            .into_iter()
            .map(|e| {
                json!({
                    "at": e.at.to_rfc3339_utc(), "actor_id": e.actor_id, "action": e.action,
                    "from": e.from_state, "to": e.to_state,
                    "detail": serde_json::from_str::<Value>(&e.detail).unwrap_or(Value::Null),
                })
            })
            .collect(),
    ))
}

#[utoipa::path(get, path = "/api/v1/review/queue", tag = "review",
    responses((status = 200, description = "nearest deadline first, with `working_days_left` and `overdue`", body = [Object]), (status = 403, body = crate::error::ErrorBody)),
    security(("bearer" = [])))]
async fn queue(
    State(state): State<RegistryState>,
    RegUser(user): RegUser,
) -> Result<axum::Json<Vec<Value>>, ApiError> {
    let apps = state.registry.review_queue(&user).await?;
    Ok(axum::Json(
        apps.into_iter()
            .map(|a| {
                json!({
                    "id": a.record.id,
                    "applicant": a.form.applicant_name(),
                    "kind": a.form.applicant.kind,
                    "state": a.state.code(),
                    "public_state": a.state.public_name(),
                    "submitted_at": a.record.submitted_at.map(|t| t.to_rfc3339_utc()),
                    "due_date": a.record.due_date,
                    "working_days_left": a.working_days_left,
                    "overdue": a.overdue,
                    "services": a.form.services.len(),
                    "warnings": a.warnings.len(),
                })
            })
            .collect(),
    ))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DecisionBody {
    decision: DecisionKind,
    #[serde(default)]
    reasons: Vec<ReasonBody>,
}

/// A reason: a plain string, or `{"field", "reason"}`.
#[derive(Deserialize)]
#[serde(untagged)]
enum ReasonBody {
    Text(String),
    Field {
        field: Option<String>,
        reason: String,
    },
}

#[utoipa::path(post, path = "/api/v1/review/applications/{id}/decision", tag = "review",
    params(("id" = i64, Path)),
    request_body(content = Object, description = "`{\"decision\": \"approve\"|\"reject\"|\"incomplete\", \"reasons\": [\"…\" or {\"field\",\"reason\"}]}`"),
    responses((status = 200, body = Object), (status = 409, description = "`wrong_state`", body = crate::error::ErrorBody),
        (status = 422, description = "`invalid_decision`", body = crate::error::ErrorBody), (status = 403, body = crate::error::ErrorBody)),
    security(("bearer" = [])))]
async fn decide(
    State(state): State<RegistryState>,
    RegUser(user): RegUser,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<DecisionBody>,
) -> Result<axum::Json<ApplicationView>, ApiError> {
    let reasons = body
        .reasons
        .into_iter()
        .map(|r| match r {
            ReasonBody::Text(reason) => Reason {
                field: None,
                reason,
            },
            ReasonBody::Field { field, reason } => Reason { field, reason },
        })
        .collect();
    let app = state
        .registry
        .decide(&user, app_id(&id)?, body.decision, reasons)
        .await?;
    Ok(axum::Json(view(app)))
}

/// The public name of a filing's state.
const FILED: &str = "审核通过";

fn filing_json(n: &shucang_registry::NumberRecord) -> Value {
    let state = match n.app_state.as_str() {
        "cancelled" => "已注销",
        _ => FILED,
    };
    json!({
        "entity_name": n.entity_name,
        "service_name": n.service_name,
        "number": n.number,
        "batch": n.batch,
        "state": state,
    })
}

fn batch_json(b: &shucang_registry::Batch) -> Value {
    json!({
        "batch": b.record.number,
        "title": format!("第{}批", b.record.number),
        "state": b.record.state.code(),
        "published_at": b.record.published_at.map(|t| t.to_rfc3339_utc()),
        "objection_window_ends": b.record.window_ends,
        "finalised_at": b.record.finalised_at.map(|t| t.to_rfc3339_utc()),
        "entries": b.entries.iter().enumerate().map(|(i, n)| json!({
            "seq": i + 1, "entity_name": n.entity_name, "service_name": n.service_name, "number": n.number,
        })).collect::<Vec<_>>(),
        "objections": b.objections.iter().map(|o| json!({
            "number": o.number, "text": o.text, "at": o.at.to_rfc3339_utc(),
        })).collect::<Vec<_>>(),
    })
}

fn batch_no(raw: &str) -> Result<i64, ApiError> {
    raw.parse::<i64>()
        .ok()
        .filter(|n| *n > 0)
        .ok_or_else(|| ApiError::from(RegistryError::BatchNotFound))
}

/// The user behind a bearer token, when one is sent.
async fn optional_user(
    state: &RegistryState,
    headers: &HeaderMap,
) -> Result<Option<User>, ApiError> {
    match bearer(headers) {
        Some(token) => Ok(state.registry.authenticate(token).await?),
        None => Ok(None),
    }
}

fn is_publisher(user: &Option<User>) -> bool {
    user.as_ref()
        .is_some_and(|u| u.role == shucang_registry::UserRole::Publisher)
}

#[utoipa::path(post, path = "/api/v1/publication/batches", tag = "publication",
    responses((status = 201, body = Object), (status = 409, description = "`nothing_to_gather`", body = crate::error::ErrorBody), (status = 403, body = crate::error::ErrorBody)),
    security(("bearer" = [])))]
async fn gather(
    State(state): State<RegistryState>,
    RegUser(user): RegUser,
) -> Result<Response, ApiError> {
    let b = state.registry.gather_batch(&user).await?;
    Ok((StatusCode::CREATED, axum::Json(batch_json(&b))).into_response())
}

#[utoipa::path(get, path = "/api/v1/publication/batches", tag = "publication",
    responses((status = 200, body = [Object])))]
async fn batches(
    State(state): State<RegistryState>,
    headers: HeaderMap,
) -> Result<axum::Json<Vec<Value>>, ApiError> {
    let user = optional_user(&state, &headers).await?;
    let list = state.registry.batches(is_publisher(&user)).await?;
    Ok(axum::Json(
        list.iter()
            .map(|b| {
                json!({
                    "batch": b.number, "title": format!("第{}批", b.number), "state": b.state.code(),
                    "objection_window_ends": b.window_ends,
                })
            })
            .collect(),
    ))
}

#[utoipa::path(get, path = "/api/v1/publication/batches/{n}", tag = "publication",
    params(("n" = i64, Path)), responses((status = 200, body = Object), (status = 404, description = "`batch_not_found`", body = crate::error::ErrorBody)))]
async fn batch(
    State(state): State<RegistryState>,
    headers: HeaderMap,
    Path(n): Path<String>,
) -> Result<axum::Json<Value>, ApiError> {
    let n = batch_no(&n)?;
    let user = optional_user(&state, &headers).await?;
    let b = if is_publisher(&user) {
        state.registry.batch(n).await?
    } else {
        state.registry.published_batch(n).await?
    };
    Ok(axum::Json(batch_json(&b)))
}

#[utoipa::path(post, path = "/api/v1/publication/batches/{n}/publish", tag = "publication",
    params(("n" = i64, Path)), responses((status = 200, body = Object), (status = 409, body = crate::error::ErrorBody), (status = 403, body = crate::error::ErrorBody)),
    security(("bearer" = [])))]
async fn publish(
    State(state): State<RegistryState>,
    RegUser(user): RegUser,
    Path(n): Path<String>,
) -> Result<axum::Json<Value>, ApiError> {
    let b = state.registry.publish_batch(&user, batch_no(&n)?).await?;
    Ok(axum::Json(batch_json(&b)))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ObjectionBody {
    number: String,
    text: String,
    contact: String,
}

#[utoipa::path(post, path = "/api/v1/publication/batches/{n}/objections", tag = "publication",
    params(("n" = i64, Path)), request_body(content = Object, description = "`{\"number\",\"text\",\"contact\"}`"),
    responses((status = 201, body = Object), (status = 409, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)),
    security(("bearer" = [])))]
async fn object(
    State(state): State<RegistryState>,
    RegUser(user): RegUser,
    Path(n): Path<String>,
    ApiJson(o): ApiJson<ObjectionBody>,
) -> Result<Response, ApiError> {
    let rec = state
        .registry
        .record_objection(&user, batch_no(&n)?, &o.number, &o.text, &o.contact)
        .await?;
    Ok((
        StatusCode::CREATED,
        axum::Json(json!({"id": rec.id, "batch": rec.batch, "number": rec.number})),
    )
        .into_response())
}

#[utoipa::path(post, path = "/api/v1/publication/batches/{n}/finalise", tag = "publication",
    params(("n" = i64, Path)), responses((status = 200, body = Object), (status = 409, description = "`objection_window_open`, `wrong_state`", body = crate::error::ErrorBody)),
    security(("bearer" = [])))]
async fn finalise(
    State(state): State<RegistryState>,
    RegUser(user): RegUser,
    Path(n): Path<String>,
) -> Result<axum::Json<Value>, ApiError> {
    let b = state.registry.finalise_batch(&user, batch_no(&n)?).await?;
    Ok(axum::Json(batch_json(&b)))
}

/// One CSV field, quoted when it holds a separator, quote or line break,
/// and defused when a spreadsheet would read it as a formula.
fn csv_field(s: &str) -> String {
    let s = if s.starts_with(['=', '+', '-', '@']) {
        format!("'{s}")
    } else {
        s.to_owned()
    };
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s
    }
}

#[utoipa::path(get, path = "/api/v1/publication/batches/{n}/csv", tag = "publication",
    params(("n" = i64, Path)), responses((status = 200, description = "序号,主体名称,服务名称,备案编号", content_type = "text/csv"), (status = 404, body = crate::error::ErrorBody)))]
async fn batch_csv(
    State(state): State<RegistryState>,
    headers: HeaderMap,
    Path(n): Path<String>,
) -> Result<Response, ApiError> {
    let n = batch_no(&n)?;
    let user = optional_user(&state, &headers).await?;
    let b = if is_publisher(&user) {
        state.registry.batch(n).await?
    } else {
        state.registry.published_batch(n).await?
    };
    // A byte-order mark so spreadsheet programs read the UTF-8 as such.
    let mut out = String::from("\u{feff}序号,主体名称,服务名称,备案编号\r\n");
    for (i, e) in b.entries.iter().enumerate() {
        out.push_str(&format!(
            "{},{},{},{}\r\n",
            i + 1,
            csv_field(&e.entity_name),
            csv_field(&e.service_name),
            csv_field(&e.number)
        ));
    }
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"batch-{n}.csv\""),
            ),
        ],
        out,
    )
        .into_response())
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

/// The public notice of a batch, printable: window, then the table.
#[utoipa::path(get, path = "/publication/batches/{n}", tag = "publication",
    params(("n" = i64, Path)), responses((status = 200, description = "the printable notice", content_type = "text/html"), (status = 404, content_type = "text/html")))]
async fn batch_page(State(state): State<RegistryState>, Path(n): Path<String>) -> Response {
    let page = match batch_no(&n) {
        Ok(n) => state.registry.published_batch(n).await,
        Err(_) => Err(RegistryError::BatchNotFound),
    };
    let b = match page {
        Ok(b) => b,
        Err(RegistryError::BatchNotFound) => {
            return (
                StatusCode::NOT_FOUND,
                Html("<!doctype html><html lang=\"zh-CN\"><meta charset=\"utf-8\"><title>未找到</title><h1>没有这一批公示</h1></html>".to_owned()),
            )
                .into_response();
        }
        Err(e) => return ApiError::from(e).into_response(),
    };
    let status = match b.record.state {
        shucang_registry::BatchState::Objection => format!(
            "公示中：如有异议，请于 {} 前（含）提出。",
            esc(b.record.window_ends.as_deref().unwrap_or(""))
        ),
        _ => "公示期满，本批备案信息已生效。".to_owned(),
    };
    let rows: String = b
        .entries
        .iter()
        .enumerate()
        .map(|(i, e)| {
            format!(
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                i + 1,
                esc(&e.entity_name),
                esc(&e.service_name),
                esc(&e.number)
            )
        })
        .collect();
    let title = format!("境内区块链信息服务备案清单（第{}批）", b.record.number);
    Html(format!(
        "<!doctype html><html lang=\"zh-CN\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>{title}</title>\
         <style>body{{font-family:sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem}}\
         table{{border-collapse:collapse;width:100%}}td,th{{border:1px solid #999;padding:.3rem .5rem;text-align:left}}\
         @media print{{a{{display:none}}}}</style></head><body><h1>{title}</h1><p>{status}</p>\
         <table><thead><tr><th>序号</th><th>主体名称</th><th>服务名称</th><th>备案编号</th></tr></thead>\
         <tbody>{rows}</tbody></table><p><a href=\"/api/v1/publication/batches/{n}/csv\">CSV</a></p></body></html>",
        n = b.record.number
    ))
    .into_response()
}

#[derive(Deserialize)]
struct SearchQuery {
    q: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/public/filings", tag = "public",
    params(("q" = String, Query, description = "a complete filing number or part of an entity name")),
    responses((status = 200, description = "`{results: [{entity_name, service_name, number, batch, state}]}`", body = Object), (status = 422, body = crate::error::ErrorBody)))]
async fn search(
    State(state): State<RegistryState>,
    Query(q): Query<SearchQuery>,
) -> Result<axum::Json<Value>, ApiError> {
    state.registry.settle_cancellations().await?;
    let found = state
        .registry
        .search_public(q.q.as_deref().unwrap_or(""))
        .await?;
    Ok(axum::Json(json!({
        "results": found.iter().map(filing_json).collect::<Vec<_>>(),
    })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ChangeBody {
    changed_on: String,
    form: ApplicationForm,
}

#[utoipa::path(post, path = "/api/v1/filings/{number}/changes", tag = "filings",
    params(("number" = String, Path)), request_body(content = Object, description = "`{\"changed_on\":\"YYYY-MM-DD\",\"form\":{…}}`"),
    responses((status = 201, body = Object), (status = 404, body = crate::error::ErrorBody), (status = 409, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)),
    security(("bearer" = [])))]
async fn change(
    State(state): State<RegistryState>,
    RegUser(user): RegUser,
    Path(number): Path<String>,
    ApiJson(body): ApiJson<ChangeBody>,
) -> Response {
    match state
        .registry
        .record_change(&user, &number, &body.changed_on, &body.form)
        .await
    {
        Ok(app) => (StatusCode::CREATED, axum::Json(view(app))).into_response(),
        Err(e) => fail(e),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CancellationBody {
    termination_date: String,
}

#[utoipa::path(post, path = "/api/v1/filings/{number}/cancellation", tag = "filings",
    params(("number" = String, Path)), request_body(content = Object, description = "`{\"termination_date\":\"YYYY-MM-DD\"}`"),
    responses((status = 201, body = Object), (status = 422, description = "`termination_too_soon` with `earliest_termination_date`", body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody), (status = 409, body = crate::error::ErrorBody)),
    security(("bearer" = [])))]
async fn cancel(
    State(state): State<RegistryState>,
    RegUser(user): RegUser,
    Path(number): Path<String>,
    ApiJson(body): ApiJson<CancellationBody>,
) -> Response {
    match state
        .registry
        .request_cancellation(&user, &number, &body.termination_date)
        .await
    {
        Ok(app) => (StatusCode::CREATED, axum::Json(view(app))).into_response(),
        Err(e) => fail(e),
    }
}

#[derive(utoipa::OpenApi)]
#[openapi(
    info(title = "shucang filing registry API", description = "区块链信息服务备案管理系统 — filers, applications, review, numbers, publication."),
    paths(register, verify_phone, verify_email, login, logout, create_draft, my_applications, application,
        update_draft, upload, download, submit, audit, queue, calendar, decide, gather, batches, batch, publish, object,
        finalise, batch_csv, batch_page, search, change, cancel, open_checkin, checkin, confirm),
    components(schemas(crate::error::ErrorBody, crate::error::ErrorDetail)),
    modifiers(&BearerAuth),
)]
struct RegistryApiDoc;

struct BearerAuth;

impl utoipa::Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

/// The registry's OpenAPI document, as JSON.
pub fn registry_openapi_json() -> String {
    use utoipa::OpenApi as _;
    RegistryApiDoc::openapi()
        .to_json()
        .expect("the OpenAPI document serialises")
}

async fn openapi() -> Response {
    (
        [(header::CONTENT_TYPE, "application/json")],
        registry_openapi_json(),
    )
        .into_response()
}

#[utoipa::path(get, path = "/api/v1/review/calendar", tag = "review",
    responses((status = 200, description = "`{years, missing_next_year, warning}`", body = Object), (status = 403, body = crate::error::ErrorBody)),
    security(("bearer" = [])))]
async fn calendar(
    State(state): State<RegistryState>,
    RegUser(user): RegUser,
) -> Result<axum::Json<Value>, ApiError> {
    let missing = state.registry.calendar_warning(&user)?;
    Ok(axum::Json(json!({
        "years": state.registry.calendar().years().collect::<Vec<_>>(),
        "missing_next_year": missing,
        "warning": missing.map(|y| format!(
            "{y} 年节假日安排尚未载入：到期日落在 {y} 年的审核期限无法计算。请用 `shucang registry admin load-holidays` 载入国务院办公厅通知。"
        )),
    })))
}

fn checkin_json(c: &shucang_registry::Checkin) -> Value {
    let entry = |e: &shucang_registry::CheckinEntry| {
        json!({
            "application_id": e.application_id, "entity_name": e.entity_name, "numbers": e.numbers,
            "confirmed_at": e.confirmed_at.map(|t| t.to_rfc3339_utc()),
        })
    };
    json!({
        "id": c.record.id,
        "opens_on": c.record.opens_on,
        "closes_on": c.record.closes_on,
        "closed": c.closed,
        "confirmed": c.confirmed.iter().map(entry).collect::<Vec<_>>(),
        // Once closed, these are the filings that missed it.
        "missing": c.missing.iter().map(entry).collect::<Vec<_>>(),
    })
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CheckinBody {
    opens_on: String,
    closes_on: String,
}

#[utoipa::path(post, path = "/api/v1/checkins", tag = "checkins",
    request_body(content = Object, description = "`{\"opens_on\",\"closes_on\"}` (YYYY-MM-DD, inclusive)"),
    responses((status = 201, body = Object), (status = 422, body = crate::error::ErrorBody), (status = 403, body = crate::error::ErrorBody)),
    security(("bearer" = [])))]
async fn open_checkin(
    State(state): State<RegistryState>,
    RegUser(user): RegUser,
    ApiJson(body): ApiJson<CheckinBody>,
) -> Result<Response, ApiError> {
    let c = state
        .registry
        .open_checkin(&user, &body.opens_on, &body.closes_on)
        .await?;
    Ok((StatusCode::CREATED, axum::Json(checkin_json(&c))).into_response())
}

#[utoipa::path(get, path = "/api/v1/checkins/{id}", tag = "checkins",
    params(("id" = i64, Path)),
    responses((status = 200, description = "the window, confirmed filings, and the missing ones (missed, once closed)", body = Object),
        (status = 404, description = "`checkin_not_found`", body = crate::error::ErrorBody)),
    security(("bearer" = [])))]
async fn checkin(
    State(state): State<RegistryState>,
    RegUser(user): RegUser,
    Path(id): Path<String>,
) -> Result<axum::Json<Value>, ApiError> {
    let id = id
        .parse::<i64>()
        .map_err(|_| ApiError::from(RegistryError::CheckinNotFound))?;
    let c = state.registry.checkin(&user, id).await?;
    Ok(axum::Json(checkin_json(&c)))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ConfirmBody {
    number: String,
    #[serde(default)]
    note: String,
}

#[utoipa::path(post, path = "/api/v1/checkins/{id}/confirmations", tag = "checkins",
    params(("id" = i64, Path)),
    request_body(content = Object, description = "`{\"number\",\"note\"}`: the filer confirms a filing's information"),
    responses((status = 201, body = Object), (status = 409, description = "`checkin_closed`, `already_confirmed`, `wrong_state`", body = crate::error::ErrorBody),
        (status = 404, body = crate::error::ErrorBody)),
    security(("bearer" = [])))]
async fn confirm(
    State(state): State<RegistryState>,
    RegUser(user): RegUser,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<ConfirmBody>,
) -> Result<Response, ApiError> {
    let id = id
        .parse::<i64>()
        .map_err(|_| ApiError::from(RegistryError::CheckinNotFound))?;
    let c = state
        .registry
        .confirm_checkin(&user, id, &body.number, &body.note)
        .await?;
    Ok((
        StatusCode::CREATED,
        axum::Json(json!({"checkin": c.checkin_id, "application_id": c.application_id, "at": c.at.to_rfc3339_utc()})),
    )
        .into_response())
}
