//! The reviewer's pages: the queue (nearest deadline first, with the
//! calendar's warning), an application with its documents, and the
//! decision.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use minijinja::{Value, context};
use shucang_registry::{AppState, Application, DecisionKind, Reason};

use super::form::Fields;
use super::{RegistryPage, Reviewer, Signed, Visible};
use crate::error::InvalidQuery;
use crate::kit::Posted;
use crate::kit::api::ApiQuery;
use crate::kit::respond::{Disposition, private_file};
use crate::registry::RegistryState;

/// A reviewer's page about an application.
type ReviewerApp = Visible<Reviewer>;

/// The query of the queue after a decision: `?decided=<id>`.
#[derive(serde::Deserialize)]
pub(super) struct Decided {
    decided: Option<i64>,
}

/// `GET /review`; after a decision (`?decided=<id>`), what was decided,
/// with the numbers an approval issued.
pub(super) async fn home(
    State(state): State<RegistryState>,
    Signed { page: c, user, .. }: Signed<Reviewer>,
    query: Result<ApiQuery<Decided>, crate::ApiError>,
) -> Result<Response, Response> {
    let Ok(ApiQuery(Decided { decided })) = query else {
        return Err(c.failed(&InvalidQuery));
    };
    let notice = match decided {
        Some(id) => match state.registry.application(&user, id).await {
            Ok(app) => decided_notice(&c, &app),
            Err(_) => None,
        },
        None => None,
    };
    let queue = c.ok(state.registry.review_queue(&user).await)?;
    // Objections raised on open public notices reach the reviewers here.
    let objections: Vec<Value> = c
        .ok(state.registry.open_objections(&user).await)?
        .iter()
        .map(|o| context! { batch => o.batch, number => o.number, text => o.text, contact => o.contact, at => o.at.china_date().to_string() })
        .collect();
    let calendar_warning = state
        .registry
        .calendar_warning(&user)
        .ok()
        .flatten()
        .map(|y| format!("{y}"));
    let provisional_count = queue
        .iter()
        .filter(|a| a.record.due_provisional.is_some())
        .count();
    let queue: Vec<Value> = queue
        .iter()
        .map(|a| {
            context! {
                id => a.record.id, entity => a.record.form.applicant_name(), state => a.record.state.code(),
                due => a.record.due_date.map(|d| d.to_string()), due_provisional => a.record.due_provisional,
                days_left => a.working_days_left, overdue => a.overdue,
            }
        })
        .collect();
    Ok(c.render(
        "review.html",
        context! { queue, calendar_warning, provisional_count, notice, objections },
        StatusCode::OK,
    ))
}

/// What the queue says after a decision on `app`: approved with its
/// numbers, rejected, or returned (nothing for an undecided one).
fn decided_notice(c: &RegistryPage, app: &Application) -> Option<String> {
    let id = app.record.id.to_string();
    let key = match app.record.decision.as_ref()?.decision {
        DecisionKind::Approve => "decided_approve",
        DecisionKind::Reject => "decided_reject",
        DecisionKind::Incomplete => "decided_incomplete",
    };
    let numbers: Vec<&str> = app.numbers.iter().map(|n| n.number.as_str()).collect();
    Some(
        c.t(key)
            .replace("{id}", &id)
            .replace("{numbers}", &numbers.join("、")),
    )
}

/// Whether a decision can be made on an application in `state`.
fn decidable(state: AppState) -> bool {
    matches!(
        state,
        AppState::Submitted
            | AppState::UnderReview
            | AppState::ChangePending
            | AppState::CancellationPending
    )
}

/// An application's page for the reviewer, with an error of the decision.
fn page(
    c: &RegistryPage,
    app: &Application,
    error: Option<String>,
    status: StatusCode,
) -> Response {
    let view = context! {
        id => app.record.id, state => app.record.state.code(), due => app.record.due_date.map(|d| d.to_string()),
        due_provisional => app.record.due_provisional,
        days_left => app.working_days_left, overdue => app.overdue,
        warnings => app.warnings.iter().map(|w| super::outline::warning_line(c, w)).collect::<Vec<_>>(),
        sections => super::outline::sections(c, app),
        attachments => app.attachments.iter().map(|a| context! { id => a.id, name => a.file_name, mime => a.mime }).collect::<Vec<_>>(),
        decidable => decidable(app.record.state),
    };
    c.render("review_app.html", context! { app => view, error }, status)
}

/// `GET /review/applications/{id}`: the application, unmasked (the view
/// is recorded for the auditors).
pub(super) async fn application(
    State(state): State<RegistryState>,
    ReviewerApp {
        page: c, user, app, ..
    }: ReviewerApp,
) -> Response {
    let id = app.record.id;
    if let Err(e) = state.registry.record_application_shown(&user, id).await {
        return c.failed(&e);
    }
    page(&c, &app, None, StatusCode::OK)
}

/// `POST /review/applications/{id}`: the decision.
pub(super) async fn decide(
    State(state): State<RegistryState>,
    ReviewerApp { user, app, .. }: ReviewerApp,
    Posted { page: c, form: f }: Posted<RegistryState, Fields>,
) -> Result<Response, Response> {
    let kind = match f.get("decision").map(String::as_str) {
        Some("approve") => DecisionKind::Approve,
        Some("reject") => DecisionKind::Reject,
        Some("incomplete") => DecisionKind::Incomplete,
        _ => {
            let error = c.t("decision").to_owned();
            return Ok(page(
                &c,
                &app,
                Some(error),
                StatusCode::UNPROCESSABLE_ENTITY,
            ));
        }
    };
    let reasons = f
        .get("reasons")
        .map_or("", String::as_str)
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
        Ok(done) => {
            let lang = if c.t("lang_code") == "en" {
                "&lang=en"
            } else {
                ""
            };
            Ok(c.redirect(&format!("/review?decided={}{lang}", done.record.id)))
        }
        Err(e) => {
            let (status, error) = c.explain(&e)?;
            Ok(page(&c, &app, Some(error), status))
        }
    }
}

/// `GET /review/applications/{id}/attachments/{a}`: a document for the
/// reviewer (the cookie session).
pub(super) async fn attachment(
    State(state): State<RegistryState>,
    Path((_, a)): Path<(String, String)>,
    ReviewerApp {
        page: c, user, app, ..
    }: ReviewerApp,
) -> Response {
    let Ok(a) = a.parse::<i64>() else {
        return c.not_found();
    };
    match state
        .registry
        .attachment_file(&user, app.record.id, a)
        .await
    {
        // Images are shown (they cannot run anything); a PDF, which a
        // viewer might run scripts in, is only ever downloaded.
        Ok((bytes, mime)) => {
            let disposition = if mime.starts_with("image/") {
                Disposition::Inline
            } else {
                Disposition::Attachment
            };
            private_file(bytes, mime, disposition)
        }
        Err(_) => c.not_found(),
    }
}
