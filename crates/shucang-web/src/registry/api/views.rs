//! What the registry's API answers, typed so its OpenAPI document states
//! every field (the domain's records carry storage details and millisecond
//! times; these carry what a client reads, times in RFC 3339 UTC).

use serde::Serialize;
use serde_json::Value;
use shucang_registry::{
    AppState, Application, ApplicationForm, Batch, Checkin, CheckinEntry, DecisionKind,
    NumberRecord, Pending, Reason,
};
use utoipa::ToSchema;

use crate::registry::pages::filing_state;

/// An application.
#[derive(Serialize, ToSchema)]
pub(super) struct ApplicationView {
    id: i64,
    state: AppState,
    /// 未审核, 审核中, 审核通过 or 审核未通过 (absent for drafts).
    #[schema(value_type = Option<String>)]
    public_state: Option<&'static str>,
    /// Bumped by every change of the application.
    version: i64,
    /// When it was (last) submitted, RFC 3339 UTC.
    submitted_at: Option<String>,
    /// The reviewer's deadline, `YYYY-MM-DD` (20 working days after submission).
    due_date: Option<String>,
    /// Set while `due_date` is provisional (暂定): the year whose holiday
    /// schedule is not loaded yet (its weekdays were counted). It is
    /// recomputed, and the filer told, once that schedule is loaded.
    due_provisional: Option<i32>,
    /// Working days left until `due_date`, while under review.
    working_days_left: Option<u32>,
    /// The deadline has passed without a decision.
    overdue: bool,
    /// The last decision.
    decision: Option<DecisionView>,
    /// The filing numbers issued, one per service.
    numbers: Vec<NumberView>,
    /// The documents uploaded.
    attachments: Vec<AttachmentView>,
    /// What a reviewer should look at (the form is still accepted).
    warnings: Vec<ProblemView>,
    /// A change or cancellation under review.
    pending: Option<Pending>,
    form: ApplicationForm,
}

/// A reviewer's decision.
#[derive(Serialize, ToSchema)]
pub(super) struct DecisionView {
    decision: DecisionKind,
    reasons: Vec<Reason>,
    /// RFC 3339 UTC.
    at: String,
}

/// A filing number issued.
#[derive(Serialize, ToSchema)]
pub(super) struct NumberView {
    /// 区块链信息服务备案编号, e.g. `京网信备11010819638968820010号`.
    number: String,
    /// The service it was issued for (its index in `form.services`).
    service_index: i64,
}

/// An uploaded document.
#[derive(Serialize, ToSchema)]
pub(super) struct AttachmentView {
    id: i64,
    file_name: String,
    /// `image/png`, `image/jpeg` or `application/pdf`.
    mime: String,
    /// Bytes.
    size: i64,
    /// Lower-case hex SHA-256 of the content (in the upload's answer).
    #[serde(skip_serializing_if = "Option::is_none")]
    sha256: Option<String>,
}

/// A problem or warning about one field of the form.
#[derive(Serialize, ToSchema)]
pub(super) struct ProblemView {
    /// The field, e.g. `applicant.institution.credit_code`.
    path: String,
    /// Stable code.
    code: &'static str,
    /// In Chinese.
    message: String,
}

impl From<Application> for ApplicationView {
    fn from(a: Application) -> ApplicationView {
        ApplicationView {
            id: a.record.id,
            state: a.record.state,
            public_state: a.record.state.public_name(),
            version: a.record.version,
            submitted_at: a.record.submitted_at.map(|t| t.to_rfc3339_utc()),
            due_date: a.record.due_date.map(|d| d.to_string()),
            due_provisional: a.record.due_provisional,
            working_days_left: a.working_days_left,
            overdue: a.overdue,
            decision: a.record.decision.map(|d| DecisionView {
                decision: d.decision,
                reasons: d.reasons,
                at: shucang_types::UnixMillis(d.at_ms).to_rfc3339_utc(),
            }),
            numbers: a
                .numbers
                .iter()
                .map(|n| NumberView {
                    number: n.number.clone(),
                    service_index: n.service_index,
                })
                .collect(),
            attachments: a
                .attachments
                .into_iter()
                .map(|f| AttachmentView::of(f, false))
                .collect(),
            warnings: a
                .warnings
                .into_iter()
                .map(|p| ProblemView {
                    path: p.path,
                    code: p.code,
                    message: p.message,
                })
                .collect(),
            pending: a.record.pending,
            form: a.record.form,
        }
    }
}

impl AttachmentView {
    /// An attachment, with its hash when `with_hash`.
    pub(super) fn of(f: shucang_registry::AttachmentRecord, with_hash: bool) -> AttachmentView {
        AttachmentView {
            id: f.id,
            file_name: f.file_name,
            mime: f.mime,
            size: f.size,
            sha256: with_hash.then_some(f.sha256),
        }
    }
}

/// An application in the review queue.
#[derive(Serialize, ToSchema)]
pub(super) struct QueueEntry {
    id: i64,
    /// The applicant's name (person or institution).
    applicant: Option<String>,
    /// `individual` or `institution`, as the form says.
    kind: Option<String>,
    state: AppState,
    #[schema(value_type = Option<String>)]
    public_state: Option<&'static str>,
    submitted_at: Option<String>,
    due_date: Option<String>,
    /// The year that makes `due_date` provisional, if any.
    due_provisional: Option<i32>,
    working_days_left: Option<u32>,
    overdue: bool,
    /// How many services the application files.
    services: usize,
    /// How many warnings it carries.
    warnings: usize,
}

impl From<Application> for QueueEntry {
    fn from(a: Application) -> QueueEntry {
        QueueEntry {
            id: a.record.id,
            applicant: a.record.form.applicant_name().map(str::to_owned),
            kind: a.record.form.applicant.kind.clone(),
            state: a.record.state,
            public_state: a.record.state.public_name(),
            submitted_at: a.record.submitted_at.map(|t| t.to_rfc3339_utc()),
            due_date: a.record.due_date.map(|d| d.to_string()),
            due_provisional: a.record.due_provisional,
            working_days_left: a.working_days_left,
            overdue: a.overdue,
            services: a.record.form.services.len(),
            warnings: a.warnings.len(),
        }
    }
}

/// One step of an application's audit trail.
#[derive(Serialize, ToSchema)]
pub(super) struct AuditStep {
    /// RFC 3339 UTC.
    at: String,
    /// The user who acted.
    actor_id: i64,
    /// What was done, e.g. `submit`, `approve`.
    action: String,
    /// State code before.
    from: String,
    /// State code after.
    to: String,
    /// What the step recorded (reasons, numbers issued), when anything.
    #[schema(value_type = Option<Object>)]
    detail: Value,
}

impl From<shucang_registry::AuditEntry> for AuditStep {
    fn from(e: shucang_registry::AuditEntry) -> AuditStep {
        AuditStep {
            at: e.at.to_rfc3339_utc(),
            actor_id: e.actor_id,
            action: e.action,
            from: e.from_state,
            to: e.to_state,
            detail: serde_json::from_str(&e.detail).unwrap_or(Value::Null),
        }
    }
}

/// Who saw personal data unmasked.
#[derive(Serialize, ToSchema)]
pub(super) struct PersonalDataViewEntry {
    id: i64,
    /// RFC 3339 UTC.
    at: String,
    user_id: i64,
    user_name: String,
    /// The viewer's role code.
    user_role: &'static str,
    application_id: i64,
    /// `application` or `attachment <id>`.
    item: String,
}

impl From<shucang_registry::PersonalDataViewRecord> for PersonalDataViewEntry {
    fn from(r: shucang_registry::PersonalDataViewRecord) -> PersonalDataViewEntry {
        PersonalDataViewEntry {
            id: r.id,
            at: r.view.at.to_rfc3339_utc(),
            user_id: r.view.user_id,
            user_name: r.user_name,
            user_role: r.user_role.code(),
            application_id: r.view.application_id,
            item: r.view.item,
        }
    }
}

/// The working-day calendar as the review needs it.
#[derive(Serialize, ToSchema)]
pub(super) struct CalendarView {
    /// Years whose holidays are loaded.
    pub(super) years: Vec<i32>,
    /// Next year, when its holidays are not loaded yet.
    pub(super) missing_next_year: Option<i32>,
    /// What to do about it, in Chinese.
    pub(super) warning: Option<String>,
}

/// A filer's registration, acknowledged.
#[derive(Serialize, ToSchema)]
pub(super) struct Registered {
    pub(super) phone_verified: bool,
    pub(super) email_verified: bool,
    /// What to do next.
    pub(super) next: &'static str,
}

/// A mobile number confirmed.
#[derive(Serialize, ToSchema)]
pub(super) struct PhoneVerified {
    pub(super) phone_verified: bool,
}

/// Where a filer's confirmations stand.
#[derive(Serialize, ToSchema)]
pub(super) struct Unconfirmed {
    pub(super) phone_verified: bool,
    pub(super) email_verified: bool,
}

/// A session opened.
#[derive(Serialize, ToSchema)]
pub(super) struct SessionView {
    /// Send as `Authorization: Bearer <token>`.
    pub(super) token: String,
    /// `filer`, `reviewer`, `publisher` or `auditor`.
    pub(super) role: &'static str,
    pub(super) name: String,
    pub(super) phone_verified: bool,
    pub(super) email_verified: bool,
}

/// A filing in a check-in window.
#[derive(Serialize, ToSchema)]
pub(super) struct CheckinEntryView {
    application_id: i64,
    entity_name: String,
    numbers: Vec<String>,
    /// When it was confirmed, RFC 3339 UTC.
    confirmed_at: Option<String>,
}

/// A check-in window.
#[derive(Serialize, ToSchema)]
pub(super) struct CheckinView {
    id: i64,
    /// First day, `YYYY-MM-DD`.
    opens_on: String,
    /// Last day, `YYYY-MM-DD`.
    closes_on: String,
    closed: bool,
    confirmed: Vec<CheckinEntryView>,
    /// Not confirmed yet; once closed, the filings that missed it.
    missing: Vec<CheckinEntryView>,
}

impl From<&Checkin> for CheckinView {
    fn from(c: &Checkin) -> CheckinView {
        let entry = |e: &CheckinEntry| CheckinEntryView {
            application_id: e.application_id,
            entity_name: e.entity_name.clone(),
            numbers: e.numbers.clone(),
            confirmed_at: e.confirmed_at.map(|t| t.to_rfc3339_utc()),
        };
        CheckinView {
            id: c.record.id,
            opens_on: c.record.opens_on.to_string(),
            closes_on: c.record.closes_on.to_string(),
            closed: c.closed,
            confirmed: c.confirmed.iter().map(entry).collect(),
            missing: c.missing.iter().map(entry).collect(),
        }
    }
}

/// A filing's information confirmed in a check-in.
#[derive(Serialize, ToSchema)]
pub(super) struct Confirmation {
    pub(super) checkin: i64,
    pub(super) application_id: i64,
    /// RFC 3339 UTC.
    pub(super) at: String,
}

/// A published filing as the public search shows it.
#[derive(Serialize, ToSchema)]
pub(super) struct FilingView {
    entity_name: String,
    service_name: String,
    number: String,
    /// The publication batch it was in.
    batch: Option<i64>,
    /// 审核通过, 已注销 and so on, in Chinese.
    state: &'static str,
}

impl From<&NumberRecord> for FilingView {
    fn from(n: &NumberRecord) -> FilingView {
        FilingView {
            entity_name: n.entity_name.clone(),
            service_name: n.service_name.clone(),
            number: n.number.clone(),
            batch: n.batch,
            state: filing_state(n),
        }
    }
}

/// The public search's answer.
#[derive(Serialize, ToSchema)]
pub(super) struct SearchResults {
    pub(super) results: Vec<FilingView>,
}

/// A publication batch in the list.
#[derive(Serialize, ToSchema)]
pub(super) struct BatchSummary {
    batch: i64,
    /// 第N批.
    title: String,
    /// `gathered`, `objection` or `final`.
    state: &'static str,
    /// Last day objections are taken, `YYYY-MM-DD`.
    objection_window_ends: Option<String>,
}

impl From<&shucang_registry::BatchRecord> for BatchSummary {
    fn from(b: &shucang_registry::BatchRecord) -> BatchSummary {
        BatchSummary {
            batch: b.number,
            title: format!("第{}批", b.number),
            state: b.state.code(),
            objection_window_ends: b.window_ends.map(|d| d.to_string()),
        }
    }
}

/// A filing listed in a batch.
#[derive(Serialize, ToSchema)]
pub(super) struct BatchEntry {
    /// 序号, from 1.
    seq: usize,
    entity_name: String,
    service_name: String,
    number: String,
}

/// An objection raised against a filing of a batch.
#[derive(Serialize, ToSchema)]
pub(super) struct ObjectionView {
    number: String,
    text: String,
    /// RFC 3339 UTC.
    at: String,
}

/// A publication batch with its filings and objections.
#[derive(Serialize, ToSchema)]
pub(super) struct BatchView {
    batch: i64,
    /// 第N批.
    title: String,
    /// `gathered`, `objection` or `final`.
    state: &'static str,
    published_at: Option<String>,
    objection_window_ends: Option<String>,
    finalised_at: Option<String>,
    entries: Vec<BatchEntry>,
    objections: Vec<ObjectionView>,
}

impl From<&Batch> for BatchView {
    fn from(b: &Batch) -> BatchView {
        BatchView {
            batch: b.record.number,
            title: format!("第{}批", b.record.number),
            state: b.record.state.code(),
            published_at: b.record.published_at.map(|t| t.to_rfc3339_utc()),
            objection_window_ends: b.record.window_ends.map(|d| d.to_string()),
            finalised_at: b.record.finalised_at.map(|t| t.to_rfc3339_utc()),
            entries: b
                .entries
                .iter()
                .enumerate()
                .map(|(i, n)| BatchEntry {
                    seq: i + 1,
                    entity_name: n.entity_name.clone(),
                    service_name: n.service_name.clone(),
                    number: n.number.clone(),
                })
                .collect(),
            objections: b
                .objections
                .iter()
                .map(|o| ObjectionView {
                    number: o.number.clone(),
                    text: o.text.clone(),
                    at: o.at.to_rfc3339_utc(),
                })
                .collect(),
        }
    }
}

/// An objection recorded.
#[derive(Serialize, ToSchema)]
pub(super) struct ObjectionRecorded {
    pub(super) id: i64,
    pub(super) batch: i64,
    pub(super) number: String,
}
