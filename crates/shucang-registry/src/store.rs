//! What the registry stores, and the storage trait `shucang-store`
//! implements on SQLite and PostgreSQL. Each method is one atomic step.

use async_trait::async_trait;
use shucang_notify::{NewMessage, OutboxStore};
use shucang_types::{Date, FailedLogin, UnixMillis, WindowedEvent};

use crate::{AppState, ApplicationForm, Decision, Pending, Transition};

/// A storage failure.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A user with this mobile number exists.
    #[error("the mobile number is registered already")]
    PhoneTaken,
    /// A filing number's serial is taken (the caller draws another).
    #[error("the filing number serial is taken")]
    SerialTaken,
    /// The back end failed.
    #[error("storage: {0}")]
    Backend(String),
}

/// Who a registry user is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UserRole {
    /// Files applications.
    Filer,
    /// Reviews them.
    Reviewer,
    /// Publishes batches and runs check-ins.
    Publisher,
    /// Reads the audit trail.
    Auditor,
}

impl UserRole {
    /// The stable code.
    pub fn code(self) -> &'static str {
        match self {
            UserRole::Filer => "filer",
            UserRole::Reviewer => "reviewer",
            UserRole::Publisher => "publisher",
            UserRole::Auditor => "auditor",
        }
    }

    /// The role with this code.
    pub fn from_code(code: &str) -> Option<UserRole> {
        [
            UserRole::Filer,
            UserRole::Reviewer,
            UserRole::Publisher,
            UserRole::Auditor,
        ]
        .into_iter()
        .find(|r| r.code() == code)
    }
}

/// A user to create.
#[derive(Debug, Clone)]
pub struct NewUser {
    /// Role.
    pub role: UserRole,
    /// Real name.
    pub name: String,
    /// Mobile number (unique).
    pub phone: String,
    /// E-mail.
    pub email: String,
    /// Argon2id PHC string.
    pub password_hash: String,
    /// Keyed hash of the SMS code, until confirmed.
    pub phone_code_hash: Option<String>,
    /// Keyed hash of the e-mail link's token, until confirmed.
    pub email_token_hash: Option<String>,
    /// When the code and token expire.
    pub verify_expires_at: UnixMillis,
    /// Whether the mobile and e-mail count as confirmed (staff accounts).
    pub confirmed: bool,
    /// When.
    pub created_at: UnixMillis,
}

/// A stored user.
#[derive(Debug, Clone)]
pub struct User {
    /// Id.
    pub id: i64,
    /// Role.
    pub role: UserRole,
    /// Real name.
    pub name: String,
    /// Mobile.
    pub phone: String,
    /// E-mail.
    pub email: String,
    /// Argon2id PHC string.
    pub password_hash: String,
    /// Whether the mobile is confirmed.
    pub phone_verified: bool,
    /// Whether the e-mail is confirmed.
    pub email_verified: bool,
    /// Keyed hash of the pending SMS code.
    pub phone_code_hash: Option<String>,
    /// Wrong codes tried.
    pub phone_code_attempts: u32,
    /// When the code and token expire.
    pub verify_expires_at: UnixMillis,
    /// Consecutive failed logins.
    pub failed_logins: u32,
    /// Locked until, after too many failures.
    pub locked_until: Option<UnixMillis>,
}

/// An application as stored.
#[derive(Debug, Clone)]
pub struct ApplicationRecord {
    /// Id.
    pub id: i64,
    /// The filer.
    pub filer_id: i64,
    /// Where it stands.
    pub state: AppState,
    /// The form.
    pub form: ApplicationForm,
    /// Increments on every change.
    pub version: i64,
    /// When submitted (last time).
    pub submitted_at: Option<UnixMillis>,
    /// The review deadline (China date).
    pub due_date: Option<Date>,
    /// Set while `due_date` is provisional: the year whose holidays were
    /// not known when it was reckoned (its weekdays were counted).
    pub due_provisional: Option<i32>,
    /// The last decision.
    pub decision: Option<Decision>,
    /// A pending change or cancellation.
    pub pending: Option<Pending>,
    /// When created.
    pub created_at: UnixMillis,
    /// When last changed.
    pub updated_at: UnixMillis,
}

/// An uploaded file.
#[derive(Debug, Clone)]
pub struct AttachmentRecord {
    /// Id.
    pub id: i64,
    /// The application.
    pub application_id: i64,
    /// The name the filer gave it.
    pub file_name: String,
    /// `image/png`, `image/jpeg` or `application/pdf`.
    pub mime: String,
    /// Hex SHA-256 of the content (its file name on disk).
    pub sha256: String,
    /// Bytes.
    pub size: i64,
    /// When.
    pub created_at: UnixMillis,
}

/// An issued filing number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NumberRecord {
    /// The number.
    pub number: String,
    /// Its 8-digit serial (unique, never reused).
    pub serial: i64,
    /// The application.
    pub application_id: i64,
    /// Which service of the form (0-based).
    pub service_index: i64,
    /// The applicant's name (主体名称), for the public search.
    pub entity_name: String,
    /// The service's name (服务名称).
    pub service_name: String,
    /// When issued.
    pub issued_at: UnixMillis,
    /// The publication batch's number (第N批), once gathered.
    pub batch: Option<i64>,
    /// The state of its application (a cancelled one is 已注销).
    pub app_state: AppState,
}

/// Where a publication batch stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BatchState {
    /// Gathered, not yet published.
    Gathered,
    /// Published; objections may be raised until the window ends.
    Objection,
    /// Final.
    Final,
}

impl BatchState {
    /// The stable code.
    pub fn code(self) -> &'static str {
        match self {
            BatchState::Gathered => "gathered",
            BatchState::Objection => "objection",
            BatchState::Final => "final",
        }
    }

    /// The state with this code.
    pub fn from_code(code: &str) -> Option<BatchState> {
        [
            BatchState::Gathered,
            BatchState::Objection,
            BatchState::Final,
        ]
        .into_iter()
        .find(|s| s.code() == code)
    }
}

/// A batch moving from one state to the next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BatchStep {
    /// The state it must be in.
    pub from: BatchState,
    /// The state it moves to.
    pub to: BatchState,
    /// When (published or finalised at).
    pub at: UnixMillis,
    /// The last day of the objection window, when the step opens one.
    pub window_ends: Option<Date>,
}

/// An administrator's load of one year's holiday schedule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CalendarLoad {
    /// The year.
    pub year: i32,
    /// The data-file lines of that year.
    pub schedule: String,
    /// Who loaded it.
    pub loaded_by: String,
    /// When.
    pub at: UnixMillis,
}

/// A publication batch.
#[derive(Debug, Clone)]
pub struct BatchRecord {
    /// Its number: 第N批.
    pub number: i64,
    /// Where it stands.
    pub state: BatchState,
    /// When gathered.
    pub created_at: UnixMillis,
    /// When published.
    pub published_at: Option<UnixMillis>,
    /// The last day of the objection window (China date).
    pub window_ends: Option<Date>,
    /// When made final.
    pub finalised_at: Option<UnixMillis>,
}

/// A check-in window.
#[derive(Debug, Clone)]
pub struct CheckinRecord {
    /// Id.
    pub id: i64,
    /// First day (China date).
    pub opens_on: Date,
    /// Last day.
    pub closes_on: Date,
    /// Who opened it.
    pub created_by: i64,
    /// When.
    pub created_at: UnixMillis,
}

/// A filer's confirmation inside a check-in window.
#[derive(Debug, Clone)]
pub struct ConfirmationRecord {
    /// The window.
    pub checkin_id: i64,
    /// The filing's application.
    pub application_id: i64,
    /// Who confirmed.
    pub confirmed_by: i64,
    /// What they noted (may be empty).
    pub note: String,
    /// When.
    pub at: UnixMillis,
}

/// An objection to a published filing.
#[derive(Debug, Clone)]
pub struct ObjectionRecord {
    /// Id.
    pub id: i64,
    /// The batch's number.
    pub batch: i64,
    /// The filing number objected to.
    pub number: String,
    /// What is objected.
    pub text: String,
    /// How to reach the objector.
    pub contact: String,
    /// Who recorded it (user id).
    pub recorded_by: i64,
    /// When.
    pub at: UnixMillis,
}

/// One audit entry.
#[derive(Debug, Clone)]
pub struct AuditEntry {
    /// Id, in order.
    pub id: i64,
    /// When.
    pub at: UnixMillis,
    /// Who (user id).
    pub actor_id: i64,
    /// The application.
    pub application_id: i64,
    /// What.
    pub action: String,
    /// From state.
    pub from_state: String,
    /// To state.
    pub to_state: String,
    /// Details (JSON).
    pub detail: String,
}

/// The registry's storage: one trait per area, all on one back end.
pub trait RegistryStore:
    OutboxStore + UserStore + ApplicationStore + CheckinStore + PublicationStore + Send + Sync
{
}

impl<T> RegistryStore for T where
    T: OutboxStore + UserStore + ApplicationStore + CheckinStore + PublicationStore + Send + Sync
{
}

/// New confirmations for an unconfirmed user (keyed hashes).
#[derive(Debug, Clone, Copy)]
pub struct Reissue<'a> {
    /// The new SMS code's hash, when the mobile is unconfirmed.
    pub phone_code_hash: Option<&'a str>,
    /// The new e-mail token's hash, when the address is unconfirmed.
    pub email_token_hash: Option<&'a str>,
    /// When both stop working.
    pub expires_at: UnixMillis,
}

/// Registry users: filers and staff, their confirmations and sessions.
#[async_trait]
pub trait UserStore: Send + Sync {
    /// Creates a user and queues `messages` with it.
    async fn insert_user(&self, user: &NewUser, messages: &[NewMessage])
    -> Result<i64, StoreError>;
    /// Counts one event in its window, in one statement: `false` (and
    /// nothing counted) when the window holds `max` already.
    async fn count_in_window(&self, event: &WindowedEvent) -> Result<bool, StoreError>;
    /// Removes the counting windows that began before `before`; how many.
    async fn purge_windows(&self, before: UnixMillis) -> Result<u64, StoreError>;
    /// Queues `messages` on their own (no decision goes with them).
    async fn queue_messages(
        &self,
        messages: &[NewMessage],
        now: UnixMillis,
    ) -> Result<(), StoreError>;
    /// The user with this mobile number.
    async fn user_by_phone(&self, phone: &str) -> Result<Option<User>, StoreError>;
    /// The user with this id.
    async fn user_by_id(&self, id: i64) -> Result<Option<User>, StoreError>;
    /// Counts one failed login atomically (see [`FailedLogin`]); the lock
    /// in force after it, if any.
    async fn record_login_failure(
        &self,
        id: i64,
        failure: &FailedLogin,
    ) -> Result<Option<UnixMillis>, StoreError>;
    /// After a right password: clears the failure count unless a lock holds
    /// at `now`, in one statement; the lock in force when one does.
    async fn admit_login(&self, id: i64, now: UnixMillis)
    -> Result<Option<UnixMillis>, StoreError>;
    /// Spends one attempt at the SMS code, atomically and before the code
    /// is compared: succeeds only while the mobile is unconfirmed, a code is
    /// pending, unexpired at `now` and fewer than `attempts_max` attempts
    /// were spent. Returns the code's keyed hash to compare against.
    async fn spend_phone_code_attempt(
        &self,
        id: i64,
        attempts_max: u32,
        now: UnixMillis,
    ) -> Result<Option<String>, StoreError>;
    /// Marks the mobile confirmed, if the pending code is still the one
    /// with this hash (clearing it).
    async fn confirm_phone(&self, id: i64, code_hash: &str) -> Result<bool, StoreError>;
    /// Replaces an unconfirmed user's pending confirmations (the SMS code,
    /// its attempts started again, where the mobile is unconfirmed; the
    /// e-mail token where the address is) and queues `messages`, in one
    /// transaction; false when the user has confirmed both meanwhile.
    async fn reissue_confirmations(
        &self,
        id: i64,
        reissue: &Reissue<'_>,
        messages: &[NewMessage],
        now: UnixMillis,
    ) -> Result<bool, StoreError>;
    /// Confirms the e-mail of the user whose pending token hash this is,
    /// if it has not expired at `now`; returns that user's id.
    async fn confirm_email(
        &self,
        token_hash: &str,
        now: UnixMillis,
    ) -> Result<Option<i64>, StoreError>;
    /// Stores a session.
    async fn insert_session(
        &self,
        token_hash: &str,
        user_id: i64,
        expires_at: UnixMillis,
    ) -> Result<(), StoreError>;
    /// The user id and expiry of a session.
    async fn session(&self, token_hash: &str) -> Result<Option<(i64, UnixMillis)>, StoreError>;
    /// Ends a session.
    async fn delete_session(&self, token_hash: &str) -> Result<(), StoreError>;
    /// Deletes the sessions that expired before `now`; how many.
    async fn delete_expired_sessions(&self, now: UnixMillis) -> Result<u64, StoreError>;
    /// Records that a member of staff saw personal data unmasked.
    async fn record_personal_data_view(&self, view: &PersonalDataView) -> Result<(), StoreError>;
    /// The records of unmasked views, newest first: at most `limit`, with
    /// ids below `before` when given.
    async fn personal_data_views(
        &self,
        before: Option<i64>,
        limit: usize,
    ) -> Result<Vec<PersonalDataViewRecord>, StoreError>;
}

/// A member of staff saw an application's personal data unmasked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PersonalDataView {
    /// Who.
    pub user_id: i64,
    /// Which application.
    pub application_id: i64,
    /// What: `application`, or `attachment <id>`.
    pub item: String,
    /// When.
    pub at: UnixMillis,
}

/// A recorded [`PersonalDataView`] with the viewer's name and role.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PersonalDataViewRecord {
    /// The record's id (increasing).
    pub id: i64,
    /// What was seen.
    pub view: PersonalDataView,
    /// The viewer's name.
    pub user_name: String,
    /// The viewer's role.
    pub user_role: UserRole,
}

/// Applications, their workflow transitions (with numbers, audit and outbox in one transaction), attachments and issued numbers.
#[async_trait]
pub trait ApplicationStore: Send + Sync {
    /// Creates a draft unless the filer holds `drafts_max` drafts already
    /// (`None`); decided under a lock on the filer's row, so parallel
    /// requests cannot pass the limit.
    async fn insert_application(
        &self,
        filer_id: i64,
        form: &ApplicationForm,
        now: UnixMillis,
        drafts_max: u32,
    ) -> Result<Option<i64>, StoreError>;
    /// An application.
    async fn application(&self, id: i64) -> Result<Option<ApplicationRecord>, StoreError>;
    /// Replaces the form of an application in one of the states where the
    /// filer may edit it ([`AppState::EDITABLE`]); false if it is not (any
    /// more) in one.
    async fn update_form(
        &self,
        id: i64,
        form: &ApplicationForm,
        at: UnixMillis,
    ) -> Result<bool, StoreError>;
    /// Applies a transition; false if the application was not in `from`.
    async fn transition(&self, t: &Transition) -> Result<bool, StoreError>;
    /// Applications in `states`, oldest submission first.
    async fn applications_in(
        &self,
        states: &[AppState],
    ) -> Result<Vec<ApplicationRecord>, StoreError>;
    /// A filer's applications, newest first.
    async fn applications_of(&self, filer_id: i64) -> Result<Vec<ApplicationRecord>, StoreError>;
    /// The bytes of all the files a filer has uploaded.
    async fn storage_of_filer(&self, filer_id: i64) -> Result<i64, StoreError>;
    /// Records an uploaded file of `filer_id`'s unless their files would
    /// then hold more than `bytes_max` (`None`); decided under a lock on
    /// the filer's row, like [`ApplicationStore::insert_application`].
    async fn insert_attachment(
        &self,
        a: &AttachmentRecord,
        filer_id: i64,
        bytes_max: i64,
    ) -> Result<Option<i64>, StoreError>;
    /// An application's files.
    async fn attachments(&self, application_id: i64) -> Result<Vec<AttachmentRecord>, StoreError>;
    /// An issued number.
    async fn number(&self, number: &str) -> Result<Option<NumberRecord>, StoreError>;
    /// Numbers issued to an application.
    async fn numbers_of(&self, application_id: i64) -> Result<Vec<NumberRecord>, StoreError>;
    /// Numbers issued to all of a filer's applications.
    async fn number_count_of_filer(&self, filer_id: i64) -> Result<i64, StoreError>;
    /// An application's audit trail, oldest first.
    async fn audit_of(&self, application_id: i64) -> Result<Vec<AuditEntry>, StoreError>;
}

/// Check-in windows and confirmations, and the holiday schedules administrators load.
#[async_trait]
pub trait CheckinStore: Send + Sync {
    /// Opens a check-in window.
    async fn insert_checkin(&self, c: &CheckinRecord) -> Result<i64, StoreError>;
    /// Every check-in window, newest first.
    async fn checkins(&self) -> Result<Vec<CheckinRecord>, StoreError>;
    /// A check-in window.
    async fn checkin(&self, id: i64) -> Result<Option<CheckinRecord>, StoreError>;
    /// Records a confirmation; false if that filing confirmed already.
    async fn insert_confirmation(&self, c: &ConfirmationRecord) -> Result<bool, StoreError>;
    /// A window's confirmations.
    async fn confirmations(&self, checkin_id: i64) -> Result<Vec<ConfirmationRecord>, StoreError>;
    /// Records an administrator's load of one year's holiday schedule.
    async fn insert_calendar_load(&self, load: &CalendarLoad) -> Result<(), StoreError>;
    /// The schedule in force for each loaded year (the latest load).
    async fn calendar_loads(&self) -> Result<Vec<(i32, String)>, StoreError>;
}

/// Publication batches, objections and the public search.
#[async_trait]
pub trait PublicationStore: Send + Sync {
    /// Gathers every issued number not yet in a batch into a new batch
    /// numbered one above the last; `None` if there is nothing to gather.
    async fn gather_batch(&self, now: UnixMillis) -> Result<Option<i64>, StoreError>;
    /// A batch by its number.
    async fn batch(&self, number: i64) -> Result<Option<BatchRecord>, StoreError>;
    /// All batches, newest first.
    async fn batches(&self) -> Result<Vec<BatchRecord>, StoreError>;
    /// The filings of a batch, in number order.
    async fn batch_entries(&self, number: i64) -> Result<Vec<NumberRecord>, StoreError>;
    /// Moves a batch a step on, setting the publication or finalisation
    /// fields; false if it was not in the step's `from` state.
    async fn set_batch_state(&self, number: i64, step: &BatchStep) -> Result<bool, StoreError>;
    /// Records an objection.
    async fn insert_objection(&self, o: &ObjectionRecord) -> Result<i64, StoreError>;
    /// A batch's objections.
    async fn objections(&self, batch: i64) -> Result<Vec<ObjectionRecord>, StoreError>;
    /// Published filings (in a batch past `gathered`) whose entity name
    /// contains `name_part` or whose number is `number`, at most `limit`.
    async fn search_published(
        &self,
        name_part: &str,
        number: &str,
        limit: usize,
    ) -> Result<Vec<NumberRecord>, StoreError>;
}
