//! The application form as people read it. Every field of the form has a
//! label (the one its step shows) and a step where it is entered, so a
//! problem names the field as the form labels it, says how to fix it and
//! links to its step; and the reviewer reads an application as the
//! labelled form — names of types rather than codes, documents as links,
//! what is missing or suspicious marked next to the field — never as data.

use minijinja::{Value, context};
use shucang_registry::{Application, ApplicationForm, Problem, Service};

use super::RegistryPage;

/// Where each field of the form is entered: the path as the registry's
/// checks name it (services' and pre-approvals' indexes left out), the
/// label's key, and the step.
const FIELDS: &[(&str, &str, u32)] = &[
    ("applicant.kind", "kind", 1),
    ("applicant.individual", "kind_individual", 1),
    ("applicant.individual.name", "field_name", 1),
    ("applicant.individual.id_type", "id_type", 1),
    ("applicant.individual.id_number", "id_number", 1),
    ("applicant.individual.id_address", "id_address", 1),
    ("applicant.individual.mailing_address", "mailing_address", 1),
    ("applicant.individual.id_scan", "slot_applicant_scan", 4),
    ("applicant.institution", "kind_institution", 1),
    ("applicant.institution.name", "inst_name", 1),
    ("applicant.institution.credit_code", "credit_code", 1),
    (
        "applicant.institution.registered_address",
        "registered_address",
        1,
    ),
    (
        "applicant.institution.mailing_address",
        "mailing_address",
        1,
    ),
    (
        "applicant.institution.licence_scan",
        "slot_applicant_scan",
        4,
    ),
    ("registered_place.district_code", "district_code", 1),
    ("registered_place.address", "place_address", 1),
    ("website", "website", 1),
    ("responsible.name", "field_name", 2),
    ("responsible.office_phone", "office_phone", 2),
    ("responsible.id_type", "id_type", 2),
    ("responsible.id_number", "id_number", 2),
    ("responsible.mobile", "mobile", 2),
    ("responsible.email", "field_email", 2),
    ("responsible.id_scan", "slot_responsible_scan", 4),
    ("declaration.agreed", "declaration_label", 4),
    ("declaration.signed_scan", "slot_declaration_scan", 4),
    ("services", "step_3", 3),
    ("services.name", "service_name", 3),
    ("services.website_name", "website_name", 3),
    ("services.url_or_client", "url_or_client", 3),
    ("services.official_account", "official_account", 3),
    ("services.description", "description", 3),
    ("services.has_management_mechanism", "mechanism", 3),
    ("services.pre_approvals", "pre_item", 3),
    ("services.pre_approvals.item", "pre_item", 3),
    ("services.pre_approvals.certificate", "slot_pre_approval", 4),
    ("services.main_chain", "main_chain", 3),
    ("services.main_chain_other", "main_chain_other", 3),
    ("services.service_type.category", "service_type", 3),
    ("services.service_type.kind", "service_type", 3),
    ("services.service_type.explorer", "explorer_fields", 3),
    ("services.service_type.explorer.url", "explorer_url", 3),
    (
        "services.service_type.explorer.annual_visits",
        "annual_visits",
        3,
    ),
    (
        "services.service_type.explorer.average_daily_visits",
        "average_daily_visits",
        3,
    ),
    ("services.service_type.explorer.server_ip", "server_ip", 3),
    (
        "services.service_type.explorer.server_location",
        "server_location",
        3,
    ),
    ("services.service_type.baas", "baas_fields", 3),
    (
        "services.service_type.baas.service_count",
        "service_count",
        3,
    ),
    (
        "services.service_type.baas.service_objects",
        "service_objects",
        3,
    ),
    (
        "services.service_type.baas.hardware_software_separated",
        "hw_sw",
        3,
    ),
    (
        "services.service_type.baas.cloud_qualification",
        "cloud_qualification",
        3,
    ),
    (
        "services.service_type.baas.machine_room_location",
        "machine_room",
        3,
    ),
    ("services.service_type.technology_other", "tech_fields", 3),
    (
        "services.service_type.technology_other.services",
        "tech_services",
        3,
    ),
    (
        "services.service_type.technology_other.count",
        "tech_count",
        3,
    ),
    (
        "services.service_type.technology_other.open_source",
        "open_source",
        3,
    ),
    (
        "services.service_type.technology_other.source_code_url",
        "source_code_url",
        3,
    ),
    (
        "services.service_type.technology_other.white_paper",
        "slot_white_paper",
        4,
    ),
];

/// A field of the form as a person finds it.
#[derive(Debug, PartialEq, Eq)]
pub(super) struct Place {
    /// The label's key.
    pub(super) key: &'static str,
    /// The step it is entered in (1 to 4).
    pub(super) step: u32,
    /// The service it belongs to (from 0).
    pub(super) service: Option<usize>,
}

/// Where the field at `path` (`services[1].service_type.explorer.url`) is
/// entered; `None` for a path the form does not have.
pub(super) fn place(path: &str) -> Option<Place> {
    let mut service = None;
    let mut plain = String::with_capacity(path.len());
    let mut rest = path;
    while let Some(open) = rest.find('[') {
        let close = rest[open..].find(']')? + open;
        let index: usize = rest[open + 1..close].parse().ok()?;
        if rest[..open].ends_with("services") && service.is_none() {
            service = Some(index);
        }
        plain.push_str(&rest[..open]);
        rest = &rest[close + 1..];
    }
    plain.push_str(rest);
    let (_, key, step) = FIELDS.iter().find(|(p, _, _)| *p == plain)?;
    Some(Place {
        key,
        step: *step,
        service,
    })
}

/// The label of a place as the page shows it: services' fields carry the
/// service's number, the responsible person's fields the step's name
/// (their labels are the applicant's too).
fn label(c: &RegistryPage, place: &Place) -> String {
    let text = c.t(place.key);
    if place.step == 2 {
        return format!("{} · {text}", c.t("step_2"));
    }
    match place.service {
        Some(n) => {
            let number = (n + 1).to_string();
            let service = c.t("service_n").replace("{n}", &number);
            format!("{service} · {}", text.replace("{n}", &number))
        }
        None => text.to_owned(),
    }
}

/// One problem of a step's page: the field as labelled, what is wrong and
/// how to fix it, and a link to the step where it is entered (for a
/// field of another step). `message` is the page's own text for a
/// refusal that is not the form's (a date, an upload); `code` the form
/// check's code otherwise.
pub(super) fn problem(
    c: &RegistryPage,
    app_id: i64,
    path: &str,
    code: &str,
    message: Option<&str>,
) -> Value {
    let place = place(path);
    let what = match message {
        Some(m) => m.to_owned(),
        None => explain(c, place.as_ref().map(|p| p.key), code),
    };
    let label = match &place {
        Some(p) => Some(label(c, p)),
        // A field of a page of its own (a date, a document slot).
        None => [path.to_owned(), format!("slot_{path}")]
            .into_iter()
            .find(|k| c.t(k) != k)
            .map(|k| c.t(&k).to_owned()),
    };
    let (step, service) = (
        place.as_ref().map(|p| p.step),
        place.as_ref().and_then(|p| p.service),
    );
    let href = place.map(|p| {
        let mut query = Vec::new();
        if let Some(n) = p.service {
            query.push(format!("service={n}"));
        }
        if c.t("lang_code") == "en" {
            query.push("lang=en".to_owned());
        }
        let query = if query.is_empty() {
            String::new()
        } else {
            format!("?{}", query.join("&"))
        };
        format!("/filer/applications/{app_id}/step/{}{query}", p.step)
    });
    context! { label, what, href, step, service }
}

/// What is wrong with a field and how to fix it: the field's own advice
/// for a value in the wrong form, else what the code means.
fn explain(c: &RegistryPage, key: Option<&str>, code: &str) -> String {
    // A document is not filled in but uploaded.
    if code == "required" && key.is_some_and(|k| k.starts_with("slot_")) {
        return c.t("p_attachment").to_owned();
    }
    if code == "invalid"
        && let Some(key) = key
    {
        let advice = format!("fix_{key}");
        if c.t(&advice) != advice {
            return c.t(&advice).to_owned();
        }
    }
    let generic = format!("p_{code}");
    if c.t(&generic) != generic {
        c.t(&generic).to_owned()
    } else {
        c.t("p_invalid").to_owned()
    }
}

/// A warning about a field, in the page's language.
fn warning(c: &RegistryPage, w: &Problem) -> String {
    let key = format!("w_{}", w.code);
    if c.t(&key) != key {
        c.t(&key).to_owned()
    } else {
        c.t("warnings").to_owned()
    }
}

/// A warning as the top of the reviewer's page lists it: the field as
/// labelled, then what to check.
pub(super) fn warning_line(c: &RegistryPage, w: &Problem) -> String {
    let text = warning(c, w);
    match place(&w.path) {
        Some(p) => format!("{}：{text}", label(c, &p)),
        None => text,
    }
}

/// The rows of one section of the reviewer's reading of the form.
struct Rows<'a> {
    c: &'a RegistryPage,
    app: &'a Application,
    rows: Vec<Value>,
}

impl<'a> Rows<'a> {
    fn new(c: &'a RegistryPage, app: &'a Application) -> Rows<'a> {
        Rows {
            c,
            app,
            rows: Vec::new(),
        }
    }

    /// A row: the field at `path` labelled `key`, its value as read (`None`
    /// is shown as not filled in), and the warnings on it.
    fn row(&mut self, path: &str, key: &str, value: Option<String>) {
        self.push(path, key, value, false);
    }

    /// A row of a field the form does not require (left empty, it is not
    /// marked as missing).
    fn optional(&mut self, path: &str, key: &str, value: &Option<String>) {
        self.push(path, key, value.clone(), true);
    }

    fn push(&mut self, path: &str, key: &str, value: Option<String>, optional: bool) {
        let warnings: Vec<String> = self
            .app
            .warnings
            .iter()
            .filter(|w| w.path == path)
            .map(|w| warning(self.c, w))
            .collect();
        let value = value.filter(|v| !v.trim().is_empty());
        self.rows.push(context! {
            label => self.c.t(key),
            value,
            warnings,
            optional,
        });
    }

    /// A row for text.
    fn text(&mut self, path: &str, key: &str, value: &Option<String>) {
        self.row(path, key, value.clone());
    }

    /// A row for a translated choice (`prefix` + code).
    fn choice(&mut self, path: &str, key: &str, prefix: &str, value: &Option<String>) {
        let read = value.as_deref().map(|v| {
            let k = format!("{prefix}{v}");
            if self.c.t(&k) != k {
                self.c.t(&k).to_owned()
            } else {
                v.to_owned()
            }
        });
        self.row(path, key, read);
    }

    /// A row for yes or no.
    fn yes_no(&mut self, path: &str, key: &str, value: Option<bool>) {
        let read = value.map(|v| self.c.t(if v { "yes" } else { "no" }).to_owned());
        self.row(path, key, read);
    }

    /// A row for a number.
    fn number(&mut self, path: &str, key: &str, value: Option<i64>) {
        self.row(path, key, value.map(|n| n.to_string()));
    }

    /// A row for a document: its file name, linked.
    fn document(&mut self, label: String, id: Option<i64>) {
        let file = id.and_then(|id| self.app.attachments.iter().find(|a| a.id == id));
        let warnings: Vec<String> = Vec::new();
        self.rows.push(context! {
            label,
            value => file.map(|f| f.file_name.clone()),
            href => file.map(|f| format!("/review/applications/{}/attachments/{}", self.app.record.id, f.id)),
            warnings,
        });
    }

    /// The section, titled `title`.
    fn section(self, title: String) -> Value {
        context! { title, rows => self.rows }
    }
}

/// The application as the reviewer reads it: the applicant, the
/// responsible person, each service, and the documents.
pub(super) fn sections(c: &RegistryPage, app: &Application) -> Vec<Value> {
    let form = &app.record.form;
    let mut out = vec![applicant(c, app, form)];
    let mut r = Rows::new(c, app);
    let p = &form.responsible;
    r.text("responsible.name", "field_name", &p.name);
    r.text("responsible.office_phone", "office_phone", &p.office_phone);
    r.choice("responsible.id_type", "id_type", "id_", &p.id_type);
    r.text("responsible.id_number", "id_number", &p.id_number);
    r.text("responsible.mobile", "mobile", &p.mobile);
    r.text("responsible.email", "field_email", &p.email);
    out.push(r.section(c.t("step_2").to_owned()));
    for (n, s) in form.services.iter().enumerate() {
        out.push(service(c, app, n, s));
    }
    let mut r = Rows::new(c, app);
    let scan = match form.applicant.kind.as_deref() {
        Some("institution") => form
            .applicant
            .institution
            .as_ref()
            .and_then(|i| i.licence_scan),
        _ => form.applicant.individual.as_ref().and_then(|i| i.id_scan),
    };
    r.document(c.t("slot_applicant_scan").to_owned(), scan);
    r.document(c.t("slot_responsible_scan").to_owned(), p.id_scan);
    r.document(
        c.t("slot_declaration_scan").to_owned(),
        form.declaration.signed_scan,
    );
    r.yes_no(
        "declaration.agreed",
        "declaration_label",
        Some(form.declaration.agreed),
    );
    for (n, s) in form.services.iter().enumerate() {
        let number = (n + 1).to_string();
        let label = |key: &str| c.t(key).replace("{n}", &number);
        if let Some(pa) = s.pre_approvals.first() {
            r.document(label("slot_pre_approval"), pa.certificate);
        }
        if let Some(t) = &s.service_type.technology_other {
            r.document(label("slot_white_paper"), t.white_paper);
        }
    }
    out.push(r.section(c.t("uploads").to_owned()));
    out
}

/// The applicant's section: only the chosen kind's details.
fn applicant(c: &RegistryPage, app: &Application, form: &ApplicationForm) -> Value {
    let mut r = Rows::new(c, app);
    let a = &form.applicant;
    r.choice("applicant.kind", "kind", "kind_", &a.kind);
    match (a.kind.as_deref(), &a.individual, &a.institution) {
        (Some("institution"), _, Some(i)) => {
            let p = "applicant.institution";
            r.text(&format!("{p}.name"), "inst_name", &i.name);
            r.text(&format!("{p}.credit_code"), "credit_code", &i.credit_code);
            r.text(
                &format!("{p}.registered_address"),
                "registered_address",
                &i.registered_address,
            );
            r.text(
                &format!("{p}.mailing_address"),
                "mailing_address",
                &i.mailing_address,
            );
        }
        (_, Some(i), _) => {
            let p = "applicant.individual";
            r.text(&format!("{p}.name"), "field_name", &i.name);
            r.choice(&format!("{p}.id_type"), "id_type", "id_", &i.id_type);
            r.text(&format!("{p}.id_number"), "id_number", &i.id_number);
            r.text(&format!("{p}.id_address"), "id_address", &i.id_address);
            r.text(
                &format!("{p}.mailing_address"),
                "mailing_address",
                &i.mailing_address,
            );
        }
        _ => {}
    }
    let place = &form.registered_place;
    let district = place.district_code.as_deref().map(|code| {
        match shucang_types::province_abbreviation(code) {
            Some(province) => format!("{code}（{province}）"),
            None => code.to_owned(),
        }
    });
    r.row("registered_place.district_code", "district_code", district);
    r.text("registered_place.address", "place_address", &place.address);
    r.optional("website", "website", &form.website);
    r.section(c.t("step_1").to_owned())
}

/// One service's section, with only its type's details.
fn service(c: &RegistryPage, app: &Application, n: usize, s: &Service) -> Value {
    let mut r = Rows::new(c, app);
    let p = format!("services[{n}]");
    r.text(&format!("{p}.name"), "service_name", &s.name);
    r.text(
        &format!("{p}.website_name"),
        "website_name",
        &s.website_name,
    );
    r.text(
        &format!("{p}.url_or_client"),
        "url_or_client",
        &s.url_or_client,
    );
    r.optional(
        &format!("{p}.official_account"),
        "official_account",
        &s.official_account,
    );
    r.text(&format!("{p}.description"), "description", &s.description);
    r.yes_no(
        &format!("{p}.has_management_mechanism"),
        "mechanism",
        s.has_management_mechanism,
    );
    for (i, pa) in s.pre_approvals.iter().enumerate() {
        r.text(
            &format!("{p}.pre_approvals[{i}].item"),
            "pre_item",
            &pa.item,
        );
    }
    let chain = match s.main_chain.as_deref() {
        Some("other") => Some(format!(
            "{}：{}",
            c.t("main_chain_other_option"),
            s.main_chain_other.as_deref().unwrap_or("")
        )),
        other => other.map(str::to_owned),
    };
    let chain_path = if s.main_chain.as_deref() == Some("other") {
        format!("{p}.main_chain_other")
    } else {
        format!("{p}.main_chain")
    };
    r.row(&chain_path, "main_chain", chain);
    let t = &s.service_type;
    let kind = match (t.category.as_deref(), t.kind.as_deref()) {
        (Some(category), Some(kind)) => Some(format!("{category}_{kind}")),
        _ => None,
    };
    r.choice(
        &format!("{p}.service_type.kind"),
        "service_type",
        "type_",
        &kind,
    );
    let tp = format!("{p}.service_type");
    match (kind.as_deref(), t) {
        (Some("application_explorer"), t) if t.explorer.is_some() => {
            let e = t.explorer.as_ref().expect("checked");
            let ep = format!("{tp}.explorer");
            r.text(&format!("{ep}.url"), "explorer_url", &e.url);
            r.number(
                &format!("{ep}.annual_visits"),
                "annual_visits",
                e.annual_visits,
            );
            r.number(
                &format!("{ep}.average_daily_visits"),
                "average_daily_visits",
                e.average_daily_visits,
            );
            r.text(&format!("{ep}.server_ip"), "server_ip", &e.server_ip);
            r.text(
                &format!("{ep}.server_location"),
                "server_location",
                &e.server_location,
            );
        }
        (Some("technology_baas"), t) if t.baas.is_some() => {
            let b = t.baas.as_ref().expect("checked");
            let bp = format!("{tp}.baas");
            r.number(
                &format!("{bp}.service_count"),
                "service_count",
                b.service_count,
            );
            r.text(
                &format!("{bp}.service_objects"),
                "service_objects",
                &b.service_objects,
            );
            r.yes_no(
                &format!("{bp}.hardware_software_separated"),
                "hw_sw",
                b.hardware_software_separated,
            );
            r.text(
                &format!("{bp}.cloud_qualification"),
                "cloud_qualification",
                &b.cloud_qualification,
            );
            r.text(
                &format!("{bp}.machine_room_location"),
                "machine_room",
                &b.machine_room_location,
            );
        }
        (Some("technology_other"), t) if t.technology_other.is_some() => {
            let o = t.technology_other.as_ref().expect("checked");
            let op = format!("{tp}.technology_other");
            r.text(&format!("{op}.services"), "tech_services", &o.services);
            r.number(&format!("{op}.count"), "tech_count", o.count);
            r.yes_no(&format!("{op}.open_source"), "open_source", o.open_source);
            r.text(
                &format!("{op}.source_code_url"),
                "source_code_url",
                &o.source_code_url,
            );
        }
        _ => {}
    }
    r.section(c.t("service_n").replace("{n}", &(n + 1).to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_path_the_checks_name_has_a_place() {
        assert_eq!(
            place("services[2].service_type.explorer.url"),
            Some(Place {
                key: "explorer_url",
                step: 3,
                service: Some(2)
            })
        );
        assert_eq!(
            place("services[0].pre_approvals[3].certificate"),
            Some(Place {
                key: "slot_pre_approval",
                step: 4,
                service: Some(0)
            })
        );
        assert_eq!(
            place("applicant.institution.credit_code").map(|p| (p.key, p.step, p.service)),
            Some(("credit_code", 1, None))
        );
        assert_eq!(place("nonsense"), None);
        assert_eq!(place("services[x].name"), None);
        assert_eq!(place("services[1"), None);
        // Whatever an empty form is refused for, each problem has a place.
        let findings = shucang_registry::validate(
            &ApplicationForm {
                services: vec![Default::default()],
                ..Default::default()
            },
            &[],
            shucang_types::Date::new(2026, 12, 2).unwrap(),
        );
        for p in &findings.problems {
            assert!(place(&p.path).is_some(), "{} has no place", p.path);
        }
    }
}
