//! The application form (PRODUCT.md §6): applicant, registered place,
//! responsible person, authenticity declaration and services.
//!
//! Every field is optional while the application is a draft, so a filer can
//! save half a form; [`validate`] lists every problem by field path before
//! a submission is accepted. The form is the document the registry stores
//! (as JSON, hence `serde` here, deliberately), and unknown fields are
//! refused so a typo is never silently dropped.

use std::net::IpAddr;

use serde::{Deserialize, Serialize};
use shucang_types::{CreditCode, Date, Email, IdNumber, Phone, WebUrl, province_abbreviation};

/// Services one application may hold.
pub const SERVICES_MAX: usize = 20;
/// Pre-approval items per service.
pub const PRE_APPROVALS_MAX: usize = 10;
/// Longest short text (names, addresses), in characters.
pub const SHORT_TEXT_CHARS_MAX: usize = 200;
/// Longest description, in characters.
pub const LONG_TEXT_CHARS_MAX: usize = 2000;
/// The visits sanity check's margin: average daily visits × 90 may exceed
/// the annual cumulative figure by this fraction before a warning.
pub const VISITS_MARGIN: f64 = 0.10;

/// Main chains the registry lists; anything else is "other" with a name,
/// which the reviewer sees flagged.
pub const MAIN_CHAINS: &[&str] = &[
    "长安链 ChainMaker",
    "FISCO BCOS",
    "Hyperledger Fabric",
    "蚂蚁链 AntChain",
    "至信链",
    "BSN 开放联盟链",
    "星火·链网",
    "XuperChain 百度超级链",
    "Ethereum 以太坊",
];

/// The whole form.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(default, deny_unknown_fields)]
pub struct ApplicationForm {
    /// Who files: an individual or an institution.
    #[serde(deserialize_with = "crate::strict::object")]
    pub applicant: Applicant,
    /// The registered place (注册地): district code and address.
    #[serde(deserialize_with = "crate::strict::object")]
    pub registered_place: RegisteredPlace,
    /// The applicant's website home page, if any.
    pub website: Option<String>,
    /// The person responsible for the service (负责人).
    #[serde(deserialize_with = "crate::strict::object")]
    pub responsible: Responsible,
    /// The signed authenticity declaration.
    #[serde(deserialize_with = "crate::strict::object")]
    pub declaration: Declaration,
    /// One or more services.
    #[serde(deserialize_with = "crate::strict::objects")]
    pub services: Vec<Service>,
}

/// The applicant.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(default, deny_unknown_fields)]
pub struct Applicant {
    /// `individual` or `institution`.
    pub kind: Option<String>,
    /// An individual's details (kind `individual`).
    #[serde(deserialize_with = "crate::strict::optional_object")]
    pub individual: Option<Individual>,
    /// An institution's details (kind `institution`).
    #[serde(deserialize_with = "crate::strict::optional_object")]
    pub institution: Option<Institution>,
}

/// An individual applicant.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(default, deny_unknown_fields)]
pub struct Individual {
    /// Full name.
    pub name: Option<String>,
    /// `resident_id`, `passport`, `taiwan_permit` or `hk_macau_permit`.
    pub id_type: Option<String>,
    /// The document's number.
    pub id_number: Option<String>,
    /// The address on the ID document.
    pub id_address: Option<String>,
    /// Mailing address.
    pub mailing_address: Option<String>,
    /// The uploaded ID scan (attachment id).
    pub id_scan: Option<i64>,
}

/// An institution applicant.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(default, deny_unknown_fields)]
pub struct Institution {
    /// The registered name.
    pub name: Option<String>,
    /// Unified social credit code.
    pub credit_code: Option<String>,
    /// Registered address.
    pub registered_address: Option<String>,
    /// Mailing address.
    pub mailing_address: Option<String>,
    /// The uploaded business licence scan (attachment id).
    pub licence_scan: Option<i64>,
}

/// The registered place.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(default, deny_unknown_fields)]
pub struct RegisteredPlace {
    /// 6-digit district code (GB/T 2260).
    pub district_code: Option<String>,
    /// Address within the district.
    pub address: Option<String>,
}

/// The responsible person.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(default, deny_unknown_fields)]
pub struct Responsible {
    /// Full name.
    pub name: Option<String>,
    /// Office telephone.
    pub office_phone: Option<String>,
    /// ID type (as for individuals).
    pub id_type: Option<String>,
    /// ID number.
    pub id_number: Option<String>,
    /// Mobile number.
    pub mobile: Option<String>,
    /// E-mail.
    pub email: Option<String>,
    /// The uploaded ID scan (attachment id).
    pub id_scan: Option<i64>,
}

/// The authenticity declaration (真实性承诺).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(default, deny_unknown_fields)]
pub struct Declaration {
    /// The box "the information is true" is ticked.
    pub agreed: bool,
    /// The uploaded signed scan (attachment id).
    pub signed_scan: Option<i64>,
}

/// One service.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(default, deny_unknown_fields)]
pub struct Service {
    /// Service name.
    pub name: Option<String>,
    /// Website name.
    pub website_name: Option<String>,
    /// URL or client (app) name.
    pub url_or_client: Option<String>,
    /// Official account name, if any.
    pub official_account: Option<String>,
    /// What the service does.
    pub description: Option<String>,
    /// Whether an information-service management mechanism exists.
    pub has_management_mechanism: Option<bool>,
    /// Pre-approval items (前置审批) with their certificates.
    #[serde(deserialize_with = "crate::strict::objects")]
    pub pre_approvals: Vec<PreApproval>,
    /// The service type and its conditional fields.
    #[serde(deserialize_with = "crate::strict::object")]
    pub service_type: ServiceType,
    /// The main chain: one of [`MAIN_CHAINS`], or `other` with a name.
    pub main_chain: Option<String>,
    /// The name of an unlisted main chain (main_chain `other`).
    pub main_chain_other: Option<String>,
}

/// A pre-approval item.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(default, deny_unknown_fields)]
pub struct PreApproval {
    /// The item approved.
    pub item: Option<String>,
    /// The certificate scan (attachment id).
    pub certificate: Option<i64>,
}

/// The service type tree: a category, a kind within it, and the fields
/// that kind asks for.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(default, deny_unknown_fields)]
pub struct ServiceType {
    /// `infrastructure`, `application` or `technology`.
    pub category: Option<String>,
    /// infrastructure: `mining_pool`, `cloud_mining`, `node`;
    /// application: `wallet`, `explorer`, `other`;
    /// technology: `baas`, `other`.
    pub kind: Option<String>,
    /// Block explorer fields (application / explorer).
    #[serde(deserialize_with = "crate::strict::optional_object")]
    pub explorer: Option<ExplorerFields>,
    /// BaaS fields (technology / baas).
    #[serde(deserialize_with = "crate::strict::optional_object")]
    pub baas: Option<BaasFields>,
    /// Other technology fields (technology / other).
    #[serde(deserialize_with = "crate::strict::optional_object")]
    pub technology_other: Option<TechnologyOtherFields>,
}

/// A block explorer's fields.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(default, deny_unknown_fields)]
pub struct ExplorerFields {
    /// The explorer's URL.
    pub url: Option<String>,
    /// Cumulative visits over the last year.
    pub annual_visits: Option<i64>,
    /// Average daily visits over the last three months.
    pub average_daily_visits: Option<i64>,
    /// Server IP address (IPv4 or IPv6).
    pub server_ip: Option<String>,
    /// Where the server stands.
    pub server_location: Option<String>,
}

/// BaaS fields.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(default, deny_unknown_fields)]
pub struct BaasFields {
    /// Services offered.
    pub service_count: Option<i64>,
    /// Who the services are for.
    pub service_objects: Option<String>,
    /// Whether hardware and software are separated.
    pub hardware_software_separated: Option<bool>,
    /// The cloud qualification held.
    pub cloud_qualification: Option<String>,
    /// Where the machine room is.
    pub machine_room_location: Option<String>,
}

/// Other technology provider fields.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(default, deny_unknown_fields)]
pub struct TechnologyOtherFields {
    /// The services offered.
    pub services: Option<String>,
    /// How many.
    pub count: Option<i64>,
    /// Whether it is open source.
    pub open_source: Option<bool>,
    /// Where the source code is (URL), when open source.
    pub source_code_url: Option<String>,
    /// The white paper (attachment id), if any.
    pub white_paper: Option<i64>,
}

/// One problem with a field, by its path (`services[0].name`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// The field's path in the form.
    pub path: String,
    /// A stable code: `required`, `invalid`, `too_long`, `attachment`, …
    pub code: &'static str,
    /// What is wrong, for people.
    pub message: String,
}

/// What validation found: problems stop a submission; warnings do not.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Findings {
    /// Missing or invalid fields.
    pub problems: Vec<Problem>,
    /// Things a reviewer should look at.
    pub warnings: Vec<Problem>,
}

struct Check<'a> {
    findings: Findings,
    today: Date,
    /// The ids of the application's attachments.
    attachments: &'a [i64],
}

impl Check<'_> {
    fn problem(&mut self, path: impl Into<String>, code: &'static str, message: impl Into<String>) {
        self.findings.problems.push(Problem {
            path: path.into(),
            code,
            message: message.into(),
        });
    }

    fn warn(&mut self, path: impl Into<String>, code: &'static str, message: impl Into<String>) {
        self.findings.warnings.push(Problem {
            path: path.into(),
            code,
            message: message.into(),
        });
    }

    /// A required text of at most `max` characters; returns it trimmed.
    fn text<'v>(&mut self, path: &str, value: &'v Option<String>, max: usize) -> Option<&'v str> {
        match value.as_deref().map(str::trim) {
            None | Some("") => {
                self.problem(path, "required", "this field is required");
                None
            }
            Some(v) if v.chars().count() > max => {
                self.problem(path, "too_long", format!("at most {max} characters"));
                None
            }
            Some(v) if v.chars().any(char::is_control) => {
                self.problem(path, "invalid", "control characters are not allowed");
                None
            }
            Some(v) => Some(v),
        }
    }

    /// An optional text: checked only when given.
    fn optional_text(&mut self, path: &str, value: &Option<String>, max: usize) {
        if value.as_deref().is_some_and(|v| !v.trim().is_empty()) {
            self.text(path, value, max);
        }
    }

    fn attachment(&mut self, path: &str, value: Option<i64>) {
        match value {
            None => self.problem(path, "required", "upload this document"),
            Some(id) if !self.attachments.contains(&id) => {
                self.problem(path, "attachment", "no such attachment on this application")
            }
            Some(_) => {}
        }
    }

    fn flag(&mut self, path: &str, value: Option<bool>) {
        if value.is_none() {
            self.problem(path, "required", "answer yes or no");
        }
    }

    fn count(&mut self, path: &str, value: Option<i64>) -> Option<i64> {
        match value {
            None => {
                self.problem(path, "required", "this field is required");
                None
            }
            Some(n) if n < 0 => {
                self.problem(path, "invalid", "a non-negative whole number");
                None
            }
            Some(n) => Some(n),
        }
    }

    fn url(&mut self, path: &str, value: &Option<String>) {
        if let Some(v) = self.text(path, value, shucang_types::URL_LEN_MAX)
            && WebUrl::parse(v).is_err()
        {
            self.problem(
                path,
                "invalid",
                "a web address starting with http:// or https://",
            );
        }
    }

    fn id_document(&mut self, base: &str, id_type: &Option<String>, number: &Option<String>) {
        let type_path = format!("{base}.id_type");
        let number_path = format!("{base}.id_number");
        let Some(kind) = self.text(&type_path, id_type, 32) else {
            self.text(&number_path, number, 32);
            return;
        };
        let Some(n) = self.text(&number_path, number, 32) else {
            return;
        };
        let ok = match kind {
            "resident_id" => match IdNumber::parse(n, self.today) {
                Ok(_) => true,
                Err(e) => {
                    self.problem(&number_path, "invalid", e.to_string());
                    return;
                }
            },
            "passport" => {
                (5..=17).contains(&n.len()) && n.bytes().all(|b| b.is_ascii_alphanumeric())
            }
            // 港澳居民来往内地通行证: H or M and 8 or 10 digits.
            "hk_macau_permit" => {
                let b = n.as_bytes();
                (b.len() == 9 || b.len() == 11)
                    && matches!(b[0], b'H' | b'M')
                    && b[1..].iter().all(u8::is_ascii_digit)
            }
            // 台湾居民来往大陆通行证: 8 digits (10 with a re-issue suffix).
            "taiwan_permit" => {
                (n.len() == 8 || n.len() == 10) && n.bytes().all(|b| b.is_ascii_digit())
            }
            _ => {
                self.problem(
                    &type_path,
                    "invalid",
                    "one of resident_id, passport, taiwan_permit, hk_macau_permit",
                );
                return;
            }
        };
        if !ok {
            self.problem(
                &number_path,
                "invalid",
                format!("not a valid {kind} number"),
            );
        }
    }
}

/// Validates a form for submission: every problem by field path, and the
/// warnings a reviewer should see. `attachments` are the ids uploaded to
/// this application; `today` bounds birth dates in ID numbers.
pub fn validate(form: &ApplicationForm, attachments: &[i64], today: Date) -> Findings {
    let mut c = Check {
        findings: Findings::default(),
        today,
        attachments,
    };
    let s = SHORT_TEXT_CHARS_MAX;
    let a = &form.applicant;
    match a.kind.as_deref() {
        Some("individual") => match &a.individual {
            None => c.problem(
                "applicant.individual",
                "required",
                "the individual's details",
            ),
            Some(i) => {
                c.text("applicant.individual.name", &i.name, 50);
                c.id_document("applicant.individual", &i.id_type, &i.id_number);
                c.text("applicant.individual.id_address", &i.id_address, s);
                c.text(
                    "applicant.individual.mailing_address",
                    &i.mailing_address,
                    s,
                );
                c.attachment("applicant.individual.id_scan", i.id_scan);
            }
        },
        Some("institution") => match &a.institution {
            None => c.problem(
                "applicant.institution",
                "required",
                "the institution's details",
            ),
            Some(i) => {
                c.text("applicant.institution.name", &i.name, 100);
                if let Some(code) = c.text("applicant.institution.credit_code", &i.credit_code, 18)
                    && let Err(e) = CreditCode::parse(code)
                {
                    c.problem(
                        "applicant.institution.credit_code",
                        "invalid",
                        e.to_string(),
                    );
                }
                c.text(
                    "applicant.institution.registered_address",
                    &i.registered_address,
                    s,
                );
                c.text(
                    "applicant.institution.mailing_address",
                    &i.mailing_address,
                    s,
                );
                c.attachment("applicant.institution.licence_scan", i.licence_scan);
            }
        },
        Some(_) => c.problem("applicant.kind", "invalid", "individual or institution"),
        None => c.problem("applicant.kind", "required", "individual or institution"),
    }
    if let Some(code) = c.text(
        "registered_place.district_code",
        &form.registered_place.district_code,
        6,
    ) && (code.len() != 6
        || !code.bytes().all(|b| b.is_ascii_digit())
        || province_abbreviation(code).is_none())
    {
        c.problem(
            "registered_place.district_code",
            "invalid",
            "a 6-digit district code of a province-level region",
        );
    }
    c.text(
        "registered_place.address",
        &form.registered_place.address,
        s,
    );
    if form
        .website
        .as_deref()
        .is_some_and(|w| !w.trim().is_empty())
    {
        c.url("website", &form.website);
    }

    let r = &form.responsible;
    c.text("responsible.name", &r.name, 50);
    if let Some(phone) = c.text("responsible.office_phone", &r.office_phone, 32) {
        let digits = phone.bytes().filter(u8::is_ascii_digit).count();
        if !(7..=20).contains(&digits)
            || !phone
                .bytes()
                .all(|b| b.is_ascii_digit() || b"+-() ".contains(&b))
        {
            c.problem(
                "responsible.office_phone",
                "invalid",
                "a telephone number such as 010-12345678",
            );
        }
    }
    c.id_document("responsible", &r.id_type, &r.id_number);
    if let Some(m) = c.text("responsible.mobile", &r.mobile, 32)
        && let Err(e) = Phone::parse(m)
    {
        c.problem("responsible.mobile", "invalid", e.to_string());
    }
    if let Some(e) = c.text("responsible.email", &r.email, shucang_types::EMAIL_LEN_MAX)
        && let Err(err) = Email::parse(e)
    {
        c.problem("responsible.email", "invalid", err.to_string());
    }
    c.attachment("responsible.id_scan", r.id_scan);

    if !form.declaration.agreed {
        c.problem(
            "declaration.agreed",
            "required",
            "confirm that the information is true",
        );
    }
    c.attachment("declaration.signed_scan", form.declaration.signed_scan);

    if form.services.is_empty() {
        c.problem("services", "required", "at least one service");
    }
    if form.services.len() > SERVICES_MAX {
        c.problem(
            "services",
            "too_many",
            format!("at most {SERVICES_MAX} services"),
        );
    }
    for (n, svc) in form.services.iter().enumerate().take(SERVICES_MAX) {
        service(&mut c, &format!("services[{n}]"), svc);
    }
    c.findings
}

fn service(c: &mut Check<'_>, p: &str, svc: &Service) {
    let s = SHORT_TEXT_CHARS_MAX;
    c.text(&format!("{p}.name"), &svc.name, 100);
    c.text(&format!("{p}.website_name"), &svc.website_name, 100);
    c.text(
        &format!("{p}.url_or_client"),
        &svc.url_or_client,
        shucang_types::URL_LEN_MAX,
    );
    c.optional_text(&format!("{p}.official_account"), &svc.official_account, 100);
    c.text(
        &format!("{p}.description"),
        &svc.description,
        LONG_TEXT_CHARS_MAX,
    );
    c.flag(
        &format!("{p}.has_management_mechanism"),
        svc.has_management_mechanism,
    );
    if svc.pre_approvals.len() > PRE_APPROVALS_MAX {
        c.problem(
            format!("{p}.pre_approvals"),
            "too_many",
            format!("at most {PRE_APPROVALS_MAX}"),
        );
    }
    for (i, pa) in svc.pre_approvals.iter().enumerate().take(PRE_APPROVALS_MAX) {
        c.text(&format!("{p}.pre_approvals[{i}].item"), &pa.item, s);
        c.attachment(
            &format!("{p}.pre_approvals[{i}].certificate"),
            pa.certificate,
        );
    }
    main_chain(c, p, svc);
    service_type(c, p, &svc.service_type);
}

/// The main chain: one from the list, or `other` with its name (a warning
/// for the reviewer).
fn main_chain(c: &mut Check<'_>, p: &str, svc: &Service) {
    match svc.main_chain.as_deref() {
        None | Some("") => c.problem(
            format!("{p}.main_chain"),
            "required",
            "choose the main chain",
        ),
        Some("other") => {
            if c.text(&format!("{p}.main_chain_other"), &svc.main_chain_other, 100)
                .is_some()
            {
                c.warn(
                    format!("{p}.main_chain_other"),
                    "new_main_chain",
                    "a main chain not on the list: review its name",
                );
            }
        }
        Some(name) if MAIN_CHAINS.contains(&name) => {}
        Some(_) => c.problem(
            format!("{p}.main_chain"),
            "invalid",
            "a chain from the list, or other",
        ),
    }
}

/// The service type's category, kind and the details that kind needs.
fn service_type(c: &mut Check<'_>, p: &str, t: &ServiceType) {
    let s = SHORT_TEXT_CHARS_MAX;
    let tp = format!("{p}.service_type");
    let kinds: &[&str] = match t.category.as_deref() {
        Some("infrastructure") => &["mining_pool", "cloud_mining", "node"],
        Some("application") => &["wallet", "explorer", "other"],
        Some("technology") => &["baas", "other"],
        Some(_) => {
            c.problem(
                format!("{tp}.category"),
                "invalid",
                "infrastructure, application or technology",
            );
            return;
        }
        None => {
            c.problem(
                format!("{tp}.category"),
                "required",
                "infrastructure, application or technology",
            );
            return;
        }
    };
    let kind = match t.kind.as_deref() {
        Some(k) if kinds.contains(&k) => k,
        Some(_) => {
            c.problem(
                format!("{tp}.kind"),
                "invalid",
                format!("one of {}", kinds.join(", ")),
            );
            return;
        }
        None => {
            c.problem(
                format!("{tp}.kind"),
                "required",
                format!("one of {}", kinds.join(", ")),
            );
            return;
        }
    };
    match (t.category.as_deref(), kind) {
        (Some("application"), "explorer") => match &t.explorer {
            None => c.problem(
                format!("{tp}.explorer"),
                "required",
                "the block explorer's details",
            ),
            Some(e) => {
                let ep = format!("{tp}.explorer");
                c.url(&format!("{ep}.url"), &e.url);
                let annual = c.count(&format!("{ep}.annual_visits"), e.annual_visits);
                let daily = c.count(
                    &format!("{ep}.average_daily_visits"),
                    e.average_daily_visits,
                );
                if let (Some(annual), Some(daily)) = (annual, daily)
                    && daily as f64 * 90.0 > annual as f64 * (1.0 + VISITS_MARGIN)
                {
                    c.warn(
                        format!("{ep}.average_daily_visits"),
                        "visits_implausible",
                        "average daily visits × 90 exceed the annual cumulative visits",
                    );
                }
                if let Some(ip) = c.text(&format!("{ep}.server_ip"), &e.server_ip, 45)
                    && ip.parse::<IpAddr>().is_err()
                {
                    c.problem(
                        format!("{ep}.server_ip"),
                        "invalid",
                        "an IPv4 or IPv6 address",
                    );
                }
                c.text(&format!("{ep}.server_location"), &e.server_location, s);
            }
        },
        (Some("technology"), "baas") => match &t.baas {
            None => c.problem(format!("{tp}.baas"), "required", "the BaaS details"),
            Some(b) => {
                let bp = format!("{tp}.baas");
                c.count(&format!("{bp}.service_count"), b.service_count);
                c.text(&format!("{bp}.service_objects"), &b.service_objects, s);
                c.flag(
                    &format!("{bp}.hardware_software_separated"),
                    b.hardware_software_separated,
                );
                c.text(
                    &format!("{bp}.cloud_qualification"),
                    &b.cloud_qualification,
                    s,
                );
                c.text(
                    &format!("{bp}.machine_room_location"),
                    &b.machine_room_location,
                    s,
                );
            }
        },
        (Some("technology"), "other") => match &t.technology_other {
            None => c.problem(
                format!("{tp}.technology_other"),
                "required",
                "the technology details",
            ),
            Some(o) => {
                let op = format!("{tp}.technology_other");
                c.text(&format!("{op}.services"), &o.services, s);
                c.count(&format!("{op}.count"), o.count);
                c.flag(&format!("{op}.open_source"), o.open_source);
                if o.open_source == Some(true) {
                    c.url(&format!("{op}.source_code_url"), &o.source_code_url);
                }
                if let Some(id) = o.white_paper {
                    c.attachment(&format!("{op}.white_paper"), Some(id));
                }
            }
        },
        _ => {}
    }
}

impl ApplicationForm {
    /// The applicant's name (individual or institution), if given.
    pub fn applicant_name(&self) -> Option<&str> {
        let a = &self.applicant;
        match a.kind.as_deref() {
            Some("institution") => a.institution.as_ref()?.name.as_deref(),
            _ => a.individual.as_ref()?.name.as_deref(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) fn today() -> Date {
        Date::new(2026, 9, 30).unwrap()
    }

    fn paths(f: &Findings) -> Vec<&str> {
        f.problems.iter().map(|p| p.path.as_str()).collect()
    }

    #[test]
    fn an_empty_form_lists_what_is_missing() {
        let f = validate(&ApplicationForm::default(), &[], today());
        let p = paths(&f);
        for needed in [
            "applicant.kind",
            "registered_place.district_code",
            "registered_place.address",
            "responsible.name",
            "responsible.mobile",
            "responsible.id_scan",
            "declaration.agreed",
            "declaration.signed_scan",
            "services",
        ] {
            assert!(p.contains(&needed), "{needed} missing from {p:?}");
        }
    }

    /// A service of each type with exactly the fields that type asks for
    /// validates; dropping any one of them is a problem at its path.
    #[test]
    fn each_service_type_asks_for_its_own_fields() {
        let base = |category: &str, kind: &str, extra: serde_json::Value| {
            let mut svc = serde_json::json!({
                "name": "服务", "website_name": "网站", "url_or_client": "https://s.example.cn",
                "description": "说明", "has_management_mechanism": true, "main_chain": "FISCO BCOS",
                "service_type": {"category": category, "kind": kind},
            });
            if let serde_json::Value::Object(extra) = extra {
                for (k, v) in extra {
                    svc["service_type"][k] = v;
                }
            }
            serde_json::from_value::<Service>(svc).unwrap()
        };
        let explorer = serde_json::json!({"explorer": {"url": "https://e.example.cn", "annual_visits": 9000,
            "average_daily_visits": 100, "server_ip": "2001:db8::1", "server_location": "上海"}});
        let baas = serde_json::json!({"baas": {"service_count": 3, "service_objects": "企业",
            "hardware_software_separated": false, "cloud_qualification": "资质", "machine_room_location": "杭州"}});
        let other = serde_json::json!({"technology_other": {"services": "底层链", "count": 1, "open_source": false}});
        let cases = [
            (
                "infrastructure",
                "mining_pool",
                serde_json::json!({}),
                vec![],
            ),
            (
                "infrastructure",
                "cloud_mining",
                serde_json::json!({}),
                vec![],
            ),
            ("infrastructure", "node", serde_json::json!({}), vec![]),
            ("application", "wallet", serde_json::json!({}), vec![]),
            ("application", "other", serde_json::json!({}), vec![]),
            (
                "application",
                "explorer",
                explorer,
                vec![
                    "url",
                    "annual_visits",
                    "average_daily_visits",
                    "server_ip",
                    "server_location",
                ],
            ),
            (
                "technology",
                "baas",
                baas,
                vec![
                    "service_count",
                    "service_objects",
                    "hardware_software_separated",
                    "cloud_qualification",
                    "machine_room_location",
                ],
            ),
            (
                "technology",
                "other",
                other,
                vec!["services", "count", "open_source"],
            ),
        ];
        let service_problems = |svc: &Service| {
            let mut c = Check {
                findings: Findings::default(),
                today: today(),
                attachments: &[],
            };
            service(&mut c, "services[0]", svc);
            c.findings.problems
        };
        for (category, kind, extra, fields) in cases {
            let svc = base(category, kind, extra.clone());
            assert!(
                service_problems(&svc).is_empty(),
                "{category}/{kind}: {:?}",
                service_problems(&svc)
            );
            let group = extra.as_object().and_then(|o| o.keys().next().cloned());
            for f in fields {
                let mut without = extra.clone();
                let g = group.clone().unwrap();
                without[&g].as_object_mut().unwrap().remove(f);
                let problems = service_problems(&base(category, kind, without));
                let path = format!("services[0].service_type.{g}.{f}");
                assert!(
                    problems.iter().any(|p| p.path == path),
                    "{path}: {problems:?}"
                );
            }
        }
        // An open-source project must say where its code is.
        let open = base(
            "technology",
            "other",
            serde_json::json!({"technology_other": {"services": "链", "count": 1, "open_source": true}}),
        );
        assert!(
            service_problems(&open)
                .iter()
                .any(|p| p.path.ends_with("source_code_url"))
        );
        // Kinds outside the category, and unknown categories, are refused.
        for (category, kind, path) in [
            ("infrastructure", "wallet", "kind"),
            ("application", "baas", "kind"),
            ("finance", "bank", "category"),
        ] {
            let problems = service_problems(&base(category, kind, serde_json::json!({})));
            assert!(
                problems
                    .iter()
                    .any(|p| p.path == format!("services[0].service_type.{path}")),
                "{category}/{kind}"
            );
        }
    }

    #[test]
    fn unknown_fields_are_refused() {
        let r: Result<ApplicationForm, _> = serde_json::from_str(r#"{"aplicant": {}}"#);
        assert!(r.is_err());
    }
}
