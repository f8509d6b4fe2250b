//! Works: submission and review under `/api/v1/admin/works` (staff), the
//! public work, its image and its metadata document.

use crate::kit::api::ApiQuery;
use axum::Json;
use axum::extract::{Multipart, Path, State};
use axum::http::StatusCode;
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use shucang_platform::{Decision, WorkDraft, WorkError, WorkRecord, WorkStatus};
use utoipa::{IntoParams, ToSchema};

use crate::auth::Authenticated;
use crate::error::ErrorBody;
use crate::kit::api::{ApiJson, positive_id};
use crate::{ApiError, AppState};

/// Largest work submission (image plus fields), in bytes.
pub const WORK_UPLOAD_BYTES_MAX: usize = 11 * 1024 * 1024;
/// Longest text field in a submission, in bytes (before the domain's checks).
const FORM_FIELD_BYTES_MAX: usize = 16 * 1024;

/// A work as staff see it.
#[derive(Serialize, ToSchema)]
pub(crate) struct WorkView {
    id: i64,
    title: String,
    description: String,
    edition_size: u64,
    issuer: String,
    copyright_evidence: String,
    image_url: String,
    image_sha256: String,
    /// `pending_review`, `approved` or `rejected`.
    status: &'static str,
    /// Words the content filter flagged for the reviewer.
    flags: Vec<String>,
    review_reason: Option<String>,
    /// The chain collection, once approved.
    collection_id: Option<String>,
    /// The transaction that created the collection.
    chain_tx: Option<String>,
    /// Hash of the metadata document the collection commits to.
    metadata_hash: Option<String>,
    created_at: String,
    reviewed_at: Option<String>,
}

impl From<&WorkRecord> for WorkView {
    fn from(w: &WorkRecord) -> WorkView {
        WorkView {
            id: w.id,
            title: w.work.title.clone(),
            description: w.work.description.clone(),
            edition_size: w.work.edition_size,
            issuer: w.work.issuer.clone(),
            copyright_evidence: w.work.copyright_evidence.clone(),
            image_url: format!("/api/v1/works/{}/image", w.id),
            image_sha256: w.work.image_sha256.clone(),
            status: w.status.code(),
            flags: w.work.flags.clone(),
            review_reason: w.review_reason.clone(),
            collection_id: w.collection_id.clone(),
            chain_tx: w.chain_tx.clone(),
            metadata_hash: w.metadata_hash.clone(),
            created_at: w.work.created_at.to_rfc3339_utc(),
            reviewed_at: w.reviewed_at.map(|t| t.to_rfc3339_utc()),
        }
    }
}

/// A work as the public sees it (approved works only).
#[derive(Serialize, ToSchema)]
pub(crate) struct PublicWorkView {
    id: i64,
    title: String,
    description: String,
    edition_size: u64,
    issuer: String,
    image_url: String,
    metadata_url: String,
    metadata_hash: Option<String>,
    collection_id: Option<String>,
    chain_tx: Option<String>,
}

/// The multipart submission, as documented (fields of the form).
#[derive(ToSchema)]
#[allow(dead_code)] // documents the form for OpenAPI; parsed by hand below
pub(crate) struct WorkForm {
    title: String,
    description: String,
    edition_size: u64,
    issuer: String,
    copyright_evidence: String,
    #[schema(value_type = String, format = Binary)]
    image: Vec<u8>,
}

fn field_error(message: String) -> ApiError {
    ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_body", message)
}

fn multipart_error(e: axum::extract::multipart::MultipartError) -> ApiError {
    crate::kit::api::multipart_failure(e, || {
        let message = "the upload is larger than 11 MiB";
        ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large", message)
    })
}

async fn parse_form(mut form: Multipart) -> Result<WorkDraft, ApiError> {
    let mut fields: std::collections::HashMap<String, String> = std::collections::HashMap::new();
    let mut image: Option<Vec<u8>> = None;
    while let Some(field) = form.next_field().await.map_err(multipart_error)? {
        let name = field.name().unwrap_or_default().to_owned();
        match name.as_str() {
            "image" => {
                if image.is_some() {
                    return Err(field_error("image is given twice".into()));
                }
                image = Some(field.bytes().await.map_err(multipart_error)?.to_vec());
            }
            "title" | "description" | "edition_size" | "issuer" | "copyright_evidence" => {
                let bytes = field.bytes().await.map_err(multipart_error)?;
                if bytes.len() > FORM_FIELD_BYTES_MAX {
                    return Err(field_error(format!("{name} is too long")));
                }
                let text = String::from_utf8(bytes.to_vec())
                    .map_err(|_| field_error(format!("{name} is not UTF-8 text")))?;
                if fields.insert(name.clone(), text).is_some() {
                    return Err(field_error(format!("{name} is given twice")));
                }
            }
            other => return Err(field_error(format!("unknown field {other:?}"))),
        }
    }
    let mut take = |name: &str| {
        fields
            .remove(name)
            .ok_or_else(|| field_error(format!("missing field {name}")))
    };
    let title = take("title")?;
    let description = take("description").unwrap_or_default();
    let edition_size = take("edition_size")?
        .trim()
        .parse::<u64>()
        .map_err(|_| field_error("edition_size must be a positive integer".into()))?;
    let issuer = take("issuer")?;
    let copyright_evidence = take("copyright_evidence")?;
    let image = image.ok_or_else(|| field_error("missing field image".into()))?;
    Ok(WorkDraft {
        title,
        description,
        edition_size,
        issuer,
        copyright_evidence,
        image,
    })
}

/// Submits a work for review (reviewer or system admin).
#[utoipa::path(post, path = "/api/v1/admin/works", tag = "works",
    request_body(content = WorkForm, content_type = "multipart/form-data"),
    security(("session" = [])),
    responses((status = 201, description = "Submitted, pending review", body = WorkView), (status = 403, description = "`forbidden`", body = ErrorBody), (status = 413, description = "`payload_too_large`, `image_too_large`", body = ErrorBody), (status = 422, description = "`invalid_body`, `invalid_field`, `invalid_image`, `content_blocked`", body = ErrorBody)))]
pub(crate) async fn submit(
    State(state): State<AppState>,
    auth: Authenticated,
    form: Result<Multipart, axum::extract::multipart::MultipartRejection>,
) -> Result<(StatusCode, Json<WorkView>), ApiError> {
    if !matches!(
        auth.account.role,
        shucang_types::Role::Reviewer | shucang_types::Role::SystemAdmin
    ) {
        return Err(WorkError::Forbidden.into());
    }
    let form = form.map_err(crate::kit::api::multipart_rejection)?;
    let draft = parse_form(form).await?;
    let work = state
        .works
        .submit(auth.account.role, auth.account.id, draft)
        .await?;
    Ok((StatusCode::CREATED, Json(WorkView::from(&work))))
}

/// Filters for the staff listing.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct WorksQuery {
    /// `pending_review` (the review queue), `approved` or `rejected`; all when absent.
    status: Option<String>,
    /// 1–200, default 50.
    limit: Option<u32>,
}

/// Lists works for staff, oldest first (the review queue with `status=pending_review`).
#[utoipa::path(get, path = "/api/v1/admin/works", tag = "works", params(WorksQuery),
    security(("session" = [])),
    responses((status = 200, body = [WorkView]), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub(crate) async fn list(
    State(state): State<AppState>,
    auth: Authenticated,
    ApiQuery(q): ApiQuery<WorksQuery>,
) -> Result<Json<Vec<WorkView>>, ApiError> {
    let status = match q.status.as_deref() {
        None => None,
        Some(s) => Some(WorkStatus::from_code(s).ok_or_else(|| {
            ApiError::new(
                StatusCode::BAD_REQUEST,
                "invalid_status",
                "status is pending_review, approved or rejected",
            )
        })?),
    };
    let limit = q.limit.unwrap_or(50);
    if !(1..=200).contains(&limit) {
        let message = "limit must be between 1 and 200";
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid_number",
            message,
        ));
    }
    let works = state.works.list(auth.account.role, status, limit).await?;
    Ok(Json(works.iter().map(WorkView::from).collect()))
}

/// A review decision.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ReviewRequest {
    /// `approve` or `reject`.
    decision: String,
    /// Required when rejecting.
    reason: Option<String>,
}

/// Approves (creating the collection on chain) or rejects a pending work (reviewers).
#[utoipa::path(post, path = "/api/v1/admin/works/{id}/review", tag = "works",
    params(("id" = i64, Path)), request_body = ReviewRequest,
    security(("session" = [])),
    responses((status = 200, body = WorkView), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, description = "`work_already_reviewed`", body = ErrorBody), (status = 422, description = "`invalid_decision`, `invalid_field`", body = ErrorBody)))]
pub(crate) async fn review(
    State(state): State<AppState>,
    auth: Authenticated,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<ReviewRequest>,
) -> Result<Json<WorkView>, ApiError> {
    let id = positive_id(&id, "a work id")?;
    let decision = match req.decision.as_str() {
        "approve" => Decision::Approve,
        "reject" => Decision::Reject {
            reason: req.reason.unwrap_or_default(),
        },
        _ => {
            return Err(ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_decision",
                "decision is approve or reject",
            ));
        }
    };
    let work = state
        .works
        .review(auth.account.role, auth.account.id, id, decision)
        .await?;
    Ok(Json(WorkView::from(&work)))
}

async fn approved(state: &AppState, id: &str) -> Result<WorkRecord, ApiError> {
    let id = positive_id(id, "a work id")?;
    state
        .works
        .work(id)
        .await?
        .filter(|w| w.status == WorkStatus::Approved)
        .ok_or_else(|| WorkError::NotFound.into())
}

/// An approved work.
#[utoipa::path(get, path = "/api/v1/works/{id}", tag = "works", params(("id" = i64, Path)),
    responses((status = 200, body = PublicWorkView), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub(crate) async fn public_work(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<PublicWorkView>, ApiError> {
    let w = approved(&state, &id).await?;
    Ok(Json(PublicWorkView {
        id: w.id,
        title: w.work.title.clone(),
        description: w.work.description.clone(),
        edition_size: w.work.edition_size,
        issuer: w.work.issuer.clone(),
        image_url: format!("/api/v1/works/{}/image", w.id),
        metadata_url: format!("/api/v1/works/{}/metadata", w.id),
        metadata_hash: w.metadata_hash.clone(),
        collection_id: w.collection_id.clone(),
        chain_tx: w.chain_tx.clone(),
    }))
}

/// An approved work's image.
#[utoipa::path(get, path = "/api/v1/works/{id}/image", tag = "works", params(("id" = i64, Path)),
    responses((status = 200, description = "The image", content_type = "image/*"), (status = 404, body = ErrorBody)))]
pub(crate) async fn image(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let w = approved(&state, &id).await?;
    let (bytes, kind) = state
        .works
        .image(&w)?
        .ok_or_else(|| ApiError::from(WorkError::NotFound))?;
    Ok((
        [
            (CONTENT_TYPE, kind.mime()),
            (CACHE_CONTROL, "public, max-age=31536000, immutable"),
        ],
        bytes,
    )
        .into_response())
}

/// The metadata document, as documented (the bytes come from the domain,
/// which the chain's hash commits to).
#[derive(ToSchema)]
#[allow(dead_code)] // documents the answer for OpenAPI
pub(crate) struct MetadataDoc {
    /// The work's title.
    name: String,
    description: String,
    /// The image's path on this server.
    image: String,
    /// `edition_size` (a number), `issuer`, `image_sha256` and
    /// `copyright_evidence` (text).
    attributes: Vec<MetadataAttributeDoc>,
}

/// One attribute of the metadata document.
#[derive(ToSchema)]
#[allow(dead_code)] // documents the answer for OpenAPI
pub(crate) struct MetadataAttributeDoc {
    trait_type: String,
    value: AttributeValueDoc,
}

/// An attribute's value: a number or text.
#[derive(serde::Serialize, ToSchema)]
#[serde(untagged)]
#[allow(dead_code)] // documents the answer for OpenAPI
pub(crate) enum AttributeValueDoc {
    Number(u64),
    Text(String),
}

/// An approved work's ERC-721 metadata document: exactly the bytes whose
/// hash the collection commits to on chain.
#[utoipa::path(get, path = "/api/v1/works/{id}/metadata", tag = "works", params(("id" = i64, Path)),
    responses((status = 200, description = "ERC-721 metadata JSON: name, description, image, attributes", body = MetadataDoc, content_type = "application/json"), (status = 404, body = ErrorBody)))]
pub(crate) async fn metadata(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let w = approved(&state, &id).await?;
    Ok((
        [(CONTENT_TYPE, "application/json")],
        state.works.metadata_bytes(&w),
    )
        .into_response())
}
