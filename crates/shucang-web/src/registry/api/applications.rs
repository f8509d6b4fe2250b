//! Applications: drafts, uploads, submission, the audit trail, and the
//! changes and cancellations of approved filings.

use axum::extract::multipart::MultipartRejection;

use crate::kit::api::{ApiQuery, multipart_failure, multipart_rejection};
use axum::extract::{Multipart, Path};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;
use shucang_registry::{ApplicationForm, FileError, RegistryError};
use utoipa::ToSchema;

use super::views::{ApplicationView, AttachmentView, AuditStep, PersonalDataViewEntry};
use super::{AppId, RegUser, app_id, created};
use crate::ApiError;
use crate::error::ErrorBody;
use crate::kit::api::ApiJson;
use crate::kit::respond::{Disposition, private_file};

#[utoipa::path(post, path = "/api/v1/applications", tag = "applications",
    request_body(content = ApplicationForm, description = "the application form (any part of it)"),
    responses((status = 201, description = "the draft", body = ApplicationView), (status = 403, description = "`contact_unconfirmed` until mobile and e-mail are confirmed; `forbidden` for staff", body = ErrorBody),
        (status = 409, description = "`draft_quota`: the filer holds as many drafts as allowed (5 by default)", body = ErrorBody), (status = 422, description = "`invalid_body`", body = ErrorBody)),
    security(("bearer" = [])))]
pub(super) async fn create_draft(
    RegUser { state, user }: RegUser,
    ApiJson(form): ApiJson<ApplicationForm>,
) -> Result<Response, ApiError> {
    let app = state.registry.create_draft(&user, &form).await?;
    Ok(created(ApplicationView::from(app)))
}

#[utoipa::path(get, path = "/api/v1/applications", tag = "applications",
    responses((status = 200, description = "the filer's applications, newest first", body = [ApplicationView]), (status = 401, body = ErrorBody)),
    security(("bearer" = [])))]
pub(super) async fn mine(
    RegUser { state, user }: RegUser,
) -> Result<axum::Json<Vec<ApplicationView>>, ApiError> {
    let apps = state.registry.applications_of(&user).await?;
    Ok(axum::Json(
        apps.into_iter().map(ApplicationView::from).collect(),
    ))
}

#[utoipa::path(get, path = "/api/v1/applications/{id}", tag = "applications",
    params(("id" = i64, Path)),
    responses((status = 200, description = "state, public state, deadline, working days left, decision, numbers, attachments, warnings, pending request, form", body = ApplicationView),
        (status = 404, description = "`application_not_found` (also someone else's)", body = ErrorBody)),
    security(("bearer" = [])))]
pub(super) async fn application(
    RegUser { state, user }: RegUser,
    AppId(id): AppId,
) -> Result<axum::Json<ApplicationView>, ApiError> {
    let app = state.registry.view_application(&user, id).await?;
    Ok(axum::Json(ApplicationView::from(app)))
}

#[utoipa::path(put, path = "/api/v1/applications/{id}", tag = "applications",
    params(("id" = i64, Path)), request_body(content = ApplicationForm, description = "the whole form"),
    responses((status = 200, body = ApplicationView), (status = 404, body = ErrorBody), (status = 409, description = "`wrong_state`", body = ErrorBody), (status = 422, description = "`invalid_body`", body = ErrorBody)),
    security(("bearer" = [])))]
pub(super) async fn update_draft(
    RegUser { state, user }: RegUser,
    AppId(id): AppId,
    ApiJson(form): ApiJson<ApplicationForm>,
) -> Result<axum::Json<ApplicationView>, ApiError> {
    let app = state.registry.update_draft(&user, id, &form).await?;
    Ok(axum::Json(ApplicationView::from(app)))
}

/// The upload's multipart form, as documented.
#[derive(ToSchema)]
#[allow(dead_code)] // documents the form for OpenAPI; read field by field below
pub(super) struct UploadForm {
    /// PNG, JPEG or PDF, at most 10 MiB; the name's extension must match
    /// the content.
    #[schema(value_type = String, format = Binary)]
    file: Vec<u8>,
}

#[utoipa::path(post, path = "/api/v1/applications/{id}/attachments", tag = "applications",
    params(("id" = i64, Path)), request_body(content = UploadForm, content_type = "multipart/form-data"),
    responses((status = 201, description = "the document stored", body = AttachmentView), (status = 413, description = "`file_too_large`", body = ErrorBody),
        (status = 403, description = "`contact_unconfirmed`", body = ErrorBody), (status = 409, description = "`storage_quota`: the filer's uploads would exceed their quota (200 MiB by default); `too_many_attachments`", body = ErrorBody),
        (status = 415, description = "`file_type_refused`, `file_name_mismatch`", body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("bearer" = [])))]
pub(super) async fn upload(
    RegUser { state, user }: RegUser,
    AppId(id): AppId,
    multipart: Result<Multipart, MultipartRejection>,
) -> Result<Response, ApiError> {
    let mut multipart = multipart.map_err(multipart_rejection)?;
    let bad = |m: &str| ApiError::new(StatusCode::BAD_REQUEST, "invalid_upload", m.to_owned());
    let failed = |e| multipart_failure(e, || RegistryError::File(FileError::Size).into());
    while let Some(field) = multipart.next_field().await.map_err(failed)? {
        if field.name() != Some("file") {
            continue;
        }
        let name = field.file_name().unwrap_or("").to_owned();
        let bytes = field.bytes().await.map_err(failed)?;
        let a = state
            .registry
            .add_attachment(&user, id, &name, &bytes)
            .await?;
        return Ok(created(AttachmentView::of(a, true)));
    }
    Err(bad("send the document in a multipart field named `file`"))
}

#[utoipa::path(get, path = "/api/v1/applications/{id}/attachments/{attachment}", tag = "applications",
    params(("id" = i64, Path), ("attachment" = i64, Path)),
    responses((status = 200, description = "the file: PNG, JPEG or PDF, as a download", content(("image/png"), ("image/jpeg"), ("application/pdf"))), (status = 404, body = ErrorBody)),
    security(("bearer" = [])))]
pub(super) async fn download(
    RegUser { state, user }: RegUser,
    AppId(id): AppId,
    Path((_, attachment)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let attachment = app_id(&attachment)?;
    let (bytes, mime) = state
        .registry
        .attachment_file(&user, id, attachment)
        .await?;
    Ok(private_file(bytes, mime, Disposition::Attachment))
}

#[utoipa::path(post, path = "/api/v1/applications/{id}/submit", tag = "applications",
    params(("id" = i64, Path)),
    responses((status = 200, description = "submitted: 未审核, due 20 working days later", body = ApplicationView),
        (status = 422, description = "`application_incomplete` with `problems: [{path, code, message}]`", body = ErrorBody),
        (status = 403, description = "`contact_unconfirmed`", body = ErrorBody), (status = 409, description = "`wrong_state`", body = ErrorBody),
        (status = 503, description = "`holiday_schedule_missing`", body = ErrorBody)),
    security(("bearer" = [])))]
pub(super) async fn submit(
    RegUser { state, user }: RegUser,
    AppId(id): AppId,
) -> Result<axum::Json<ApplicationView>, ApiError> {
    let app = state.registry.submit(&user, id).await?;
    Ok(axum::Json(ApplicationView::from(app)))
}

#[utoipa::path(get, path = "/api/v1/applications/{id}/audit", tag = "applications",
    params(("id" = i64, Path)), responses((status = 200, description = "every step, oldest first", body = [AuditStep]), (status = 404, body = ErrorBody)),
    security(("bearer" = [])))]
pub(super) async fn audit(
    RegUser { state, user }: RegUser,
    AppId(id): AppId,
) -> Result<axum::Json<Vec<AuditStep>>, ApiError> {
    let trail = state.registry.audit_trail(&user, id).await?;
    Ok(axum::Json(trail.into_iter().map(AuditStep::from).collect()))
}

/// Paging of the personal-data views.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct ViewsQuery {
    /// Only records older than this one.
    before: Option<i64>,
    /// How many, 1 to 200 (default 50).
    limit: Option<usize>,
}

#[utoipa::path(get, path = "/api/v1/audit/personal-data-views", tag = "audit",
    params(("before" = Option<i64>, Query, description = "only records with a smaller id"),
        ("limit" = Option<usize>, Query, description = "1–200, default 50")),
    responses((status = 200, description = "who saw personal data unmasked, newest first", body = [PersonalDataViewEntry]),
        (status = 401, body = ErrorBody), (status = 403, description = "`forbidden`: auditors only", body = ErrorBody)),
    security(("bearer" = [])))]
pub(super) async fn personal_data_views(
    RegUser { state, user }: RegUser,
    ApiQuery(q): ApiQuery<ViewsQuery>,
) -> Result<axum::Json<Vec<PersonalDataViewEntry>>, ApiError> {
    let limit = q.limit.unwrap_or(50);
    let max = shucang_registry::PERSONAL_DATA_VIEWS_PAGE_MAX;
    if !(1..=max).contains(&limit) || q.before.is_some_and(|b| b < 0) {
        let message = format!("limit is 1 to {max}; before is a record id");
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid_number",
            message,
        ));
    }
    let views = state
        .registry
        .personal_data_views(&user, q.before, limit)
        .await?;
    Ok(axum::Json(
        views.into_iter().map(PersonalDataViewEntry::from).collect(),
    ))
}

/// A change of an approved filing.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct ChangeBody {
    /// When the information changed, `YYYY-MM-DD`.
    #[schema(example = "2026-12-01")]
    changed_on: String,
    /// The whole form as it is now.
    #[serde(deserialize_with = "shucang_registry::strict::object")]
    form: ApplicationForm,
}

#[utoipa::path(post, path = "/api/v1/filings/{number}/changes", tag = "filings",
    params(("number" = String, Path)), request_body = ChangeBody,
    responses((status = 201, description = "the change, under review", body = ApplicationView), (status = 403, description = "`forbidden`: filers only", body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
pub(super) async fn change(
    RegUser { state, user }: RegUser,
    Path(number): Path<String>,
    ApiJson(body): ApiJson<ChangeBody>,
) -> Result<Response, ApiError> {
    let app = state
        .registry
        .record_change(&user, &number, &body.changed_on, &body.form)
        .await?;
    Ok(created(ApplicationView::from(app)))
}

/// A cancellation of an approved filing.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct CancellationBody {
    /// The last day of service, `YYYY-MM-DD` (at least 20 working days on).
    #[schema(example = "2027-02-01")]
    termination_date: String,
}

#[utoipa::path(post, path = "/api/v1/filings/{number}/cancellation", tag = "filings",
    params(("number" = String, Path)), request_body = CancellationBody,
    responses((status = 201, description = "the cancellation, under review", body = ApplicationView), (status = 403, description = "`forbidden`: filers only", body = ErrorBody), (status = 422, description = "`termination_too_soon` with `earliest_termination_date`", body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)),
    security(("bearer" = [])))]
pub(super) async fn cancel(
    RegUser { state, user }: RegUser,
    Path(number): Path<String>,
    ApiJson(body): ApiJson<CancellationBody>,
) -> Result<Response, ApiError> {
    let app = state
        .registry
        .request_cancellation(&user, &number, &body.termination_date)
        .await?;
    Ok(created(ApplicationView::from(app)))
}
