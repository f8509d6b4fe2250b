//! The four-step application form: each step's page (also used to record
//! a change of an approved filing), reading a step's posted fields into
//! the form, and the document slots of the last step.

use std::collections::HashMap;

use std::convert::Infallible;

use axum::extract::{FromRequestParts, RawPathParams};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::Response;
use minijinja::{Value, context};
use shucang_registry::{AppState, Application, ApplicationForm, MAIN_CHAINS, Pending};

use super::{RegistryPage, editable};

/// A form body as fields (the last value of a repeated name wins).
pub(super) type Fields = HashMap<String, String>;

/// The kinds of service the form offers, as `category/kind`.
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

/// The steps: applicant, responsible person, services, documents.
const STEPS: u32 = 4;

/// Which part of an application's form a step or change page shows: the
/// path's `{step}` and the query's `service=N` (from 0).
pub(super) struct Part {
    step: Option<u32>,
    service: Option<Result<usize, ()>>,
}

impl<S: Send + Sync> FromRequestParts<S> for Part {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Part, Infallible> {
        let step = RawPathParams::from_request_parts(parts, state)
            .await
            .ok()
            .and_then(|params| {
                let (_, raw) = params.iter().find(|(name, _)| *name == "step")?;
                raw.parse::<u32>().ok().filter(|n| (1..=STEPS).contains(n))
            });
        let service = parts
            .uri
            .query()
            .and_then(|q| q.split('&').find_map(|p| p.strip_prefix("service=")))
            .map(|raw| raw.parse::<usize>().map_err(drop));
        Ok(Part { step, service })
    }
}

impl Part {
    /// The service's index; `None` when the query's is not a number.
    fn service(&self) -> Option<usize> {
        match self.service {
            None => Some(0),
            Some(parsed) => parsed.ok(),
        }
    }

    /// A step of the draft `form`: 1 to 4, and a service at most one past
    /// the last (a new one), within the limit.
    pub(super) fn of_draft(&self, form: &ApplicationForm) -> Option<(u32, usize)> {
        let service = self
            .service()
            .filter(|n| *n <= form.services.len() && *n < shucang_registry::SERVICES_MAX)?;
        Some((self.step?, service))
    }

    /// A part of a filed application's `form` to change: steps 1 to 3 (the
    /// documents stay), and one of its services.
    pub(super) fn of_filing(&self, form: &ApplicationForm) -> Option<(u32, usize)> {
        let step = self.step.filter(|s| *s < STEPS)?;
        let service = self.service().filter(|n| *n < form.services.len())?;
        Some((step, service))
    }
}

/// One step's page of an application.
pub(super) struct Step<'a> {
    /// The application.
    pub(super) app: &'a Application,
    /// Which step (1 to 4).
    pub(super) step: u32,
    /// Which service step 3 edits.
    pub(super) service: usize,
    /// Whether the fields of an approved filing are edited into a
    /// recorded change (rather than the draft).
    pub(super) change_mode: bool,
}

impl<'a> Step<'a> {
    /// Step `step` of the draft `app`.
    pub(super) fn draft(app: &'a Application, step: u32, service: usize) -> Step<'a> {
        Step {
            app,
            step,
            service,
            change_mode: false,
        }
    }

    /// Part `step` of the approved filing `app`, to record a change of it.
    pub(super) fn change(app: &'a Application, step: u32, service: usize) -> Step<'a> {
        Step {
            change_mode: true,
            ..Step::draft(app, step, service)
        }
    }

    /// The last step, with the documents, numbers and decision.
    pub(super) fn documents(app: &'a Application) -> Step<'a> {
        Step::draft(app, STEPS, 0)
    }

    /// The page, with the form's problems and a notice.
    pub(super) fn render(
        &self,
        c: &RegistryPage,
        problems: Vec<Value>,
        notice: Option<String>,
        status: StatusCode,
    ) -> Response {
        let app = self.app;
        let service = self.service;
        c.render(
            "step.html",
            context! {
                app => self.view(c), step => self.step, problems, notice,
                slots => slots(c, app), service,
                service_count => app.record.form.services.len(),
                service_q => format!("?service={service}{}", c.q().replace('?', "&")),
                editable => self.change_mode || editable(app),
                change_mode => self.change_mode,
                main_chains => MAIN_CHAINS, service_types => SERVICE_TYPES,
            },
            status,
        )
    }

    /// The application as the page shows it.
    fn view(&self, c: &RegistryPage) -> Value {
        let app = self.app;
        let decision: Vec<String> = app
            .record
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
        let pending = app.record.pending.as_ref().map(|p| match p {
            Pending::Change {
                changed_on, late, ..
            } => {
                let late = if *late { " (!)" } else { "" };
                format!("{} {changed_on}{late}", c.t("change_title"))
            }
            Pending::Cancellation {
                termination_date,
                notice_short,
                ..
            } => {
                let short = if *notice_short {
                    format!("（{}）", c.t("notice_short"))
                } else {
                    String::new()
                };
                format!("{} {termination_date}{short}", c.t("cancel_title"))
            }
        });
        context! {
            id => app.record.id, state => app.record.state.code(), form => Value::from_serialize(&app.record.form),
            numbers => app.numbers.iter().map(|n| n.number.clone()).collect::<Vec<_>>(),
            due => app.record.due_date.map(|d| d.to_string()), due_provisional => app.record.due_provisional,
            decision, pending,
            changeable => app.record.state == AppState::Approved,
        }
    }
}

/// Every document the form asks for: the fixed three, then each service's
/// pre-approval certificate and white paper where they apply; with the
/// name of the file uploaded into each.
fn slots(c: &RegistryPage, app: &Application) -> Vec<Value> {
    let form = &app.record.form;
    let mut slots = vec![
        (
            "applicant_scan".to_owned(),
            c.t("slot_applicant_scan").to_owned(),
            applicant_scan(form),
        ),
        (
            "responsible_scan".to_owned(),
            c.t("slot_responsible_scan").to_owned(),
            form.responsible.id_scan,
        ),
        (
            "declaration_scan".to_owned(),
            c.t("slot_declaration_scan").to_owned(),
            form.declaration.signed_scan,
        ),
    ];
    for (n, s) in form.services.iter().enumerate() {
        let label = |key: &str| c.t(key).replace("{n}", &(n + 1).to_string());
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
    let file_name = |id: Option<i64>| {
        id.and_then(|id| app.attachments.iter().find(|a| a.id == id))
            .map(|a| a.file_name.clone())
    };
    slots
        .into_iter()
        .map(|(key, label, id)| context! { key, label, uploaded => file_name(id) })
        .collect()
}

/// The scan of the applicant's identity document: the institution's
/// licence or the individual's ID.
fn applicant_scan(form: &ApplicationForm) -> Option<i64> {
    let applicant = &form.applicant;
    match applicant.kind.as_deref() {
        Some("institution") => applicant.institution.as_ref().and_then(|i| i.licence_scan),
        _ => applicant.individual.as_ref().and_then(|i| i.id_scan),
    }
}

/// Puts the uploaded document `id` into the form's `slot`.
pub(super) fn attach(form: &mut ApplicationForm, slot: &str, id: i64) {
    match slot {
        "applicant_scan" => match form.applicant.kind.as_deref() {
            Some("institution") => {
                form.applicant
                    .institution
                    .get_or_insert_with(Default::default)
                    .licence_scan = Some(id)
            }
            _ => {
                form.applicant
                    .individual
                    .get_or_insert_with(Default::default)
                    .id_scan = Some(id)
            }
        },
        "responsible_scan" => form.responsible.id_scan = Some(id),
        "declaration_scan" => form.declaration.signed_scan = Some(id),
        other => {
            let service = |prefix: &str| {
                other
                    .strip_prefix(prefix)
                    .and_then(|n| n.parse::<usize>().ok())
                    .filter(|n| *n < form.services.len())
            };
            if let Some(n) = service("pre_approval_") {
                if let Some(p) = form.services[n].pre_approvals.first_mut() {
                    p.certificate = Some(id);
                }
            } else if let Some(n) = service("white_paper_")
                && let Some(o) = form.services[n].service_type.technology_other.as_mut()
            {
                o.white_paper = Some(id);
            }
        }
    }
}

/// A posted form's fields, read as the application form's values.
pub(super) struct Posted<'a>(pub(super) &'a Fields);

impl<'a> Posted<'a> {
    /// A field as sent.
    pub(super) fn raw(&self, name: &str) -> Option<&'a str> {
        self.0.get(name).map(String::as_str)
    }

    /// A text field: `None` when empty.
    fn text(&self, name: &str) -> Option<String> {
        self.raw(name)
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .map(str::to_owned)
    }

    /// A number field: `None` when empty or not a number.
    fn number(&self, name: &str) -> Option<i64> {
        self.text(name).and_then(|v| v.parse().ok())
    }

    /// A yes/no field.
    fn yes_no(&self, name: &str) -> Option<bool> {
        match self.raw(name) {
            Some("yes") => Some(true),
            Some("no") => Some(false),
            _ => None,
        }
    }
}

/// Applies a step's fields to the form.
pub(super) fn apply_step(form: &mut ApplicationForm, step: u32, service: usize, f: &Posted<'_>) {
    match step {
        1 => apply_applicant(form, f),
        2 => {
            let r = &mut form.responsible;
            r.name = f.text("name");
            r.office_phone = f.text("office_phone");
            r.id_type = f.text("id_type");
            r.id_number = f.text("id_number");
            r.mobile = f.text("mobile");
            r.email = f.text("email");
        }
        3 => {
            if service >= form.services.len() {
                form.services.push(Default::default());
            }
            let last = form.services.len() - 1;
            apply_service(form, service.min(last), f);
        }
        _ => form.declaration.agreed = f.raw("agreed") == Some("yes"),
    }
    keep_chosen_kinds(form);
}

/// Step 1: the applicant and where it is registered.
fn apply_applicant(form: &mut ApplicationForm, f: &Posted<'_>) {
    form.applicant.kind = f.text("kind");
    let i = form
        .applicant
        .individual
        .get_or_insert_with(Default::default);
    i.name = f.text("ind_name");
    i.id_type = f.text("ind_id_type");
    i.id_number = f.text("ind_id_number");
    i.id_address = f.text("ind_id_address");
    i.mailing_address = f.text("ind_mailing_address");
    let o = form
        .applicant
        .institution
        .get_or_insert_with(Default::default);
    o.name = f.text("inst_name");
    o.credit_code = f.text("inst_credit_code");
    o.registered_address = f.text("inst_registered_address");
    o.mailing_address = f.text("inst_mailing_address");
    form.registered_place.district_code = f.text("district_code");
    form.registered_place.address = f.text("place_address");
    form.website = f.text("website");
}

/// Step 3: service `index`.
fn apply_service(form: &mut ApplicationForm, index: usize, f: &Posted<'_>) {
    let s = &mut form.services[index];
    s.name = f.text("name");
    s.website_name = f.text("website_name");
    s.url_or_client = f.text("url_or_client");
    s.official_account = f.text("official_account");
    s.description = f.text("description");
    s.has_management_mechanism = f.yes_no("mechanism");
    s.main_chain = f.text("main_chain");
    // One pre-approval item per service on the page (more through the
    // API); its certificate is uploaded in the last step.
    match f.text("pre_item") {
        Some(item) => {
            if s.pre_approvals.is_empty() {
                s.pre_approvals.push(Default::default());
            }
            s.pre_approvals[0].item = Some(item);
        }
        None => s.pre_approvals.truncate(0),
    }
    s.main_chain_other = f.text("main_chain_other");
    // The service's type and the details of its kind.
    let t = &mut s.service_type;
    let (category, kind) = match f
        .text("service_type")
        .as_deref()
        .and_then(|t| t.split_once('/'))
    {
        Some((c, k)) => (Some(c.to_owned()), Some(k.to_owned())),
        None => (None, None),
    };
    t.category = category;
    t.kind = kind;
    let ex = t.explorer.get_or_insert_with(Default::default);
    ex.url = f.text("ex_url");
    ex.annual_visits = f.number("ex_annual");
    ex.average_daily_visits = f.number("ex_daily");
    ex.server_ip = f.text("ex_ip");
    ex.server_location = f.text("ex_location");
    let b = t.baas.get_or_insert_with(Default::default);
    b.service_count = f.number("baas_count");
    b.service_objects = f.text("baas_objects");
    b.hardware_software_separated = f.yes_no("baas_separated");
    b.cloud_qualification = f.text("baas_cloud");
    b.machine_room_location = f.text("baas_room");
    let o = t.technology_other.get_or_insert_with(Default::default);
    o.services = f.text("tech_services");
    o.count = f.number("tech_count");
    o.open_source = f.yes_no("tech_open");
    o.source_code_url = f.text("tech_source");
}

/// Keeps only the chosen kind's details, so the stored document says what
/// the applicant and each service are.
fn keep_chosen_kinds(form: &mut ApplicationForm) {
    match form.applicant.kind.as_deref() {
        Some("individual") => form.applicant.institution = None,
        Some("institution") => form.applicant.individual = None,
        _ => {}
    }
    for s in &mut form.services {
        let t = &mut s.service_type;
        let chosen = (t.category.as_deref(), t.kind.as_deref());
        if chosen != (Some("application"), Some("explorer")) {
            t.explorer = None;
        }
        if chosen != (Some("technology"), Some("baas")) {
            t.baas = None;
        }
        if chosen != (Some("technology"), Some("other")) {
            t.technology_other = None;
        }
    }
}
