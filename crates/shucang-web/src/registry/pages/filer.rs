//! The filer's pages: the applications and open check-ins, a new draft,
//! the four steps (each saves the draft; the last submits), uploads into
//! the document slots, a change of an approved filing, a cancellation, and
//! confirming a filing in a check-in.

use axum::extract::{Multipart, Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use minijinja::{Value, context};
use serde::de::IgnoredAny;
use shucang_registry::{AppState, Application, ApplicationForm, RegistryError};

use super::form::{self, Fields, Part, Step, apply_step};
use super::outline;
use super::{Filer, Signed, Visible, editable};
use crate::kit::Posted;
use crate::registry::RegistryState;

/// A filer's page about one of their applications.
type FilerApp = Visible<Filer>;

/// The states in which a filing's number is valid (and confirmable in a
/// check-in).
fn number_valid(state: AppState) -> bool {
    matches!(
        state,
        AppState::Approved
            | AppState::ChangePending
            | AppState::CancellationPending
            | AppState::CancellationApproved
    )
}

/// `GET /filer`: the filer's applications, and the open check-in windows
/// with their valid filings.
pub(super) async fn home(
    State(state): State<RegistryState>,
    Signed { page: c, user, .. }: Signed<Filer>,
) -> Result<Response, Response> {
    home_page(&state, &c, &user, None, StatusCode::OK).await
}

/// The filer's home page, with an error of what they just tried.
async fn home_page(
    state: &RegistryState,
    c: &super::RegistryPage,
    user: &shucang_registry::User,
    error: Option<String>,
    status: StatusCode,
) -> Result<Response, Response> {
    let apps = c.ok(state.registry.applications_of(user).await)?;
    let mut checkins = Vec::new();
    for w in state.registry.open_checkins().await.unwrap_or_default() {
        // One read of the window's confirmations, not one per filing.
        let done = state
            .registry
            .confirmed_applications(w.id)
            .await
            .unwrap_or_default();
        let entries: Vec<Value> = apps
            .iter()
            .filter(|a| number_valid(a.record.state))
            .filter_map(|a| {
                let n = a.numbers.first()?;
                Some(context! { number => n.number, confirmed => done.contains(&a.record.id) })
            })
            .collect();
        if !entries.is_empty() {
            checkins.push(
                context! { id => w.id, opens_on => w.opens_on.to_string(), closes_on => w.closes_on.to_string(), entries },
            );
        }
    }
    let apps: Vec<Value> = apps.iter().map(app_row).collect();
    // Until both are confirmed no application can be filed: say so, and
    // offer to send the code and the link again.
    let unconfirmed = !(user.phone_verified && user.email_verified);
    Ok(c.render(
        "filer.html",
        context! { apps, checkins, unconfirmed, error, phone_verified => user.phone_verified, email_verified => user.email_verified, phone => user.phone.clone() },
        status,
    ))
}

/// `POST /filer/confirmations`: the SMS code and the e-mail link again,
/// for what is not confirmed yet.
pub(super) async fn resend_confirmations(
    State(state): State<RegistryState>,
    filer: Signed<Filer>,
    Posted { page: c, .. }: Posted<RegistryState, IgnoredAny>,
) -> Response {
    match state.registry.resend_confirmations(&filer.user).await {
        Ok((phone, email)) => {
            let mut said = Vec::new();
            if phone {
                said.push(c.t("resent_sms").to_owned());
            }
            if email {
                said.push(c.t("resent_email").to_owned());
            }
            if said.is_empty() {
                said.push(c.t("nothing_to_confirm").to_owned());
            }
            let lang = if c.t("lang_code") == "en" {
                "&lang=en"
            } else {
                ""
            };
            let (next_href, next_text) = if phone {
                let href = format!("/verify?phone={}{lang}", filer.user.phone);
                (href, c.t("enter_code").to_owned())
            } else {
                (format!("/filer{}", c.q()), c.t("filer_title").to_owned())
            };
            c.render(
                "message.html",
                context! { message => said.join(""), ok => true, next_href, next_text },
                StatusCode::OK,
            )
        }
        Err(e) => c.failed(&e),
    }
}

/// An application in the filer's list.
fn app_row(a: &Application) -> Value {
    context! {
        id => a.record.id, state => a.record.state.code(), entity => a.record.form.applicant_name(),
        due => a.record.due_date.map(|d| d.to_string()), due_provisional => a.record.due_provisional,
        numbers => a.numbers.iter().map(|n| n.number.clone()).collect::<Vec<_>>(),
        editable => editable(a),
    }
}

/// `POST /filer/applications`: a new draft, then its first step.
pub(super) async fn new_application(
    State(state): State<RegistryState>,
    filer: Signed<Filer>,
    Posted { page: c, .. }: Posted<RegistryState, IgnoredAny>,
) -> Response {
    match state
        .registry
        .create_draft(&filer.user, &ApplicationForm::default())
        .await
    {
        Ok(app) => c.redirect(&format!("/filer/applications/{}/step/1", app.record.id)),
        // The home page says what to do (confirm, or send the code and
        // link again), rather than a bare refusal.
        Err(e @ RegistryError::Unconfirmed) => {
            let error = c.explain(&e).map(|(_, text)| text).ok();
            home_page(&state, &c, &filer.user, error, StatusCode::FORBIDDEN)
                .await
                .unwrap_or_else(|r| r)
        }
        Err(e) => c.failed(&e),
    }
}

/// `GET /filer/applications/{id}/step/{n}`.
pub(super) async fn step_get(part: Part, FilerApp { page: c, app, .. }: FilerApp) -> Response {
    match part.of_draft(&app.record.form) {
        Some((step, service)) => {
            Step::draft(&app, step, service).render(&c, vec![], None, StatusCode::OK)
        }
        None => c.not_found(),
    }
}

/// `POST /filer/applications/{id}/step/{n}`: saves the step; next step,
/// the same step (draft), or submission.
pub(super) async fn step_post(
    State(state): State<RegistryState>,
    part: Part,
    FilerApp { user, app, .. }: FilerApp,
    Posted { page: c, form: f }: Posted<RegistryState, Fields>,
) -> Response {
    let Some((step, service)) = part.of_draft(&app.record.form) else {
        return c.not_found();
    };
    let fields = form::Posted(&f);
    let action = fields.raw("action");
    let mut form = app.record.form.clone();
    if step == 3 && action == Some("remove") {
        if service < form.services.len() && form.services.len() > 1 {
            form.services.remove(service);
        }
    } else {
        apply_step(&mut form, step, service, &fields);
    }
    let saved = match state
        .registry
        .update_draft(&user, app.record.id, &form)
        .await
    {
        Ok(a) => a,
        Err(e) => return c.failed(&e),
    };
    // Saved either way; a value in the wrong form on this step is said at
    // once (a missing one waits for the submission).
    let wrong = wrong_values(&c, &saved, step, service, state.registry.today());
    if !wrong.is_empty() && action != Some("submit") {
        let notice = Some(c.t("saved_with_problems").to_owned());
        return Step::draft(&saved, step, service).render(&c, wrong, notice, StatusCode::OK);
    }
    match action {
        Some("next") if step < 4 => c.redirect(&format!(
            "/filer/applications/{}/step/{}",
            saved.record.id,
            step + 1
        )),
        Some("submit") => match state.registry.submit(&user, saved.record.id).await {
            Ok(done) => {
                let due = done
                    .record
                    .due_date
                    .map(|d| d.to_string())
                    .unwrap_or_default();
                let notice = format!("{} {due}", c.t("submitted"));
                Step::documents(&done).render(&c, vec![], Some(notice), StatusCode::OK)
            }
            Err(e) => refused(&c, Step::documents(&saved), "", &e),
        },
        _ => {
            let notice = Some(c.t("saved").to_owned());
            let service = service.min(saved.record.form.services.len().saturating_sub(1));
            Step::draft(&saved, step, service).render(&c, vec![], notice, StatusCode::OK)
        }
    }
}

/// The values of step `step` (service `service`) that are filled in but
/// in the wrong form, as the page lists problems.
fn wrong_values(
    c: &super::RegistryPage,
    app: &Application,
    step: u32,
    service: usize,
    today: shucang_types::Date,
) -> Vec<Value> {
    let ids: Vec<i64> = app.attachments.iter().map(|a| a.id).collect();
    shucang_registry::validate(&app.record.form, &ids, today)
        .problems
        .iter()
        .filter(|p| p.code != "required")
        .filter(|p| {
            outline::place(&p.path)
                .is_some_and(|at| at.step == step && at.service.is_none_or(|n| n == service))
        })
        .map(|p| outline::problem(c, app.record.id, &p.path, p.code, None))
        .collect()
}

/// A step page again, listing why the domain refused: the form's problems
/// for an incomplete application, else the error at the field `path`. A
/// failure on our side is the 500 page.
fn refused(c: &super::RegistryPage, page: Step<'_>, path: &str, e: &RegistryError) -> Response {
    let (status, text) = match c.explain(e) {
        Ok(explained) => explained,
        Err(response) => return response,
    };
    let id = page.app.record.id;
    let problems = match e {
        RegistryError::Incomplete(findings) => findings
            .problems
            .iter()
            .map(|p| outline::problem(c, id, &p.path, p.code, None))
            .collect(),
        _ => vec![outline::problem(c, id, path, "", Some(&text))],
    };
    page.render(c, problems, None, status)
}

/// `POST /filer/applications/{id}/upload`: a document into one slot.
pub(super) async fn upload(
    State(state): State<RegistryState>,
    FilerApp {
        page: c, user, app, ..
    }: FilerApp,
    mut multipart: Multipart,
) -> Response {
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
    if !c.accepts_csrf(csrf.as_deref()) {
        return c.form_expired();
    }
    let page = Step::documents(&app);
    let Some((name, bytes)) = file else {
        let notice = Some(c.t("not_uploaded").to_owned());
        return page.render(&c, vec![], notice, StatusCode::BAD_REQUEST);
    };
    let slot = slot.unwrap_or_default();
    let stored = match state
        .registry
        .add_attachment(&user, app.record.id, &name, &bytes)
        .await
    {
        Ok(a) => a,
        Err(e) => return refused(&c, page, &slot, &e),
    };
    let mut form = app.record.form.clone();
    form::attach(&mut form, &slot, stored.id);
    match state
        .registry
        .update_draft(&user, app.record.id, &form)
        .await
    {
        Ok(saved) => {
            let notice = Some(c.t("saved").to_owned());
            Step::documents(&saved).render(&c, vec![], notice, StatusCode::OK)
        }
        Err(e) => c.failed(&e),
    }
}

/// `GET /filer/applications/{id}/change/{step}`: one part of an approved
/// filing, to record a change of it.
pub(super) async fn change_get(part: Part, FilerApp { page: c, app, .. }: FilerApp) -> Response {
    match part.of_filing(&app.record.form) {
        Some((step, service)) if app.record.state == AppState::Approved => {
            Step::change(&app, step, service).render(&c, vec![], None, StatusCode::OK)
        }
        Some(_) => c.redirect(&format!("/filer/applications/{}/step/4", app.record.id)),
        None => c.not_found(),
    }
}

/// `POST /filer/applications/{id}/change/{step}`: records the change.
pub(super) async fn change_post(
    State(state): State<RegistryState>,
    part: Part,
    FilerApp { user, app, .. }: FilerApp,
    Posted { page: c, form: f }: Posted<RegistryState, Fields>,
) -> Response {
    let number = app.numbers.first().map(|n| n.number.clone());
    let (Some((step, service)), Some(number)) = (part.of_filing(&app.record.form), number) else {
        return c.not_found();
    };
    let fields = form::Posted(&f);
    let mut form = app.record.form.clone();
    apply_step(&mut form, step, service, &fields);
    let changed_on = fields.raw("changed_on").unwrap_or("");
    match state
        .registry
        .record_change(&user, &number, changed_on, &form)
        .await
    {
        Ok(_) => c.redirect(&format!("/filer/applications/{}/step/4", app.record.id)),
        Err(e) => refused(&c, Step::change(&app, step, service), "changed_on", &e),
    }
}

/// `POST /filer/applications/{id}/cancel`: files the cancellation.
pub(super) async fn cancel(
    State(state): State<RegistryState>,
    FilerApp { user, app, .. }: FilerApp,
    Posted { page: c, form: f }: Posted<RegistryState, Fields>,
) -> Response {
    let Some(number) = app.numbers.first().map(|n| n.number.clone()) else {
        return c.not_found();
    };
    let termination_date = form::Posted(&f).raw("termination_date").unwrap_or("");
    match state
        .registry
        .request_cancellation(&user, &number, termination_date)
        .await
    {
        Ok(done) => Step::documents(&done).render(&c, vec![], None, StatusCode::OK),
        Err(e) => refused(&c, Step::documents(&app), "termination_date", &e),
    }
}

/// `POST /filer/checkins/{id}`: the filer confirms a filing.
pub(super) async fn checkin_confirm(
    State(state): State<RegistryState>,
    Path(id): Path<String>,
    filer: Signed<Filer>,
    Posted { page: c, form: f }: Posted<RegistryState, Fields>,
) -> Response {
    let Ok(id) = id.parse::<i64>() else {
        return c.not_found();
    };
    let number = form::Posted(&f).raw("number").unwrap_or("");
    match state
        .registry
        .confirm_checkin(&filer.user, id, number, "")
        .await
    {
        Ok(_) | Err(RegistryError::AlreadyConfirmed) => c.redirect("/filer"),
        Err(RegistryError::NotFound | RegistryError::CheckinNotFound) => c.not_found(),
        Err(e) => c.failed(&e),
    }
}
