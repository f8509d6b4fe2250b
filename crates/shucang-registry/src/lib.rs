//! The filing registry (区块链信息服务备案管理系统, PRODUCT.md §6): filer
//! accounts confirmed by SMS code and e-mail link, applications saved as
//! drafts and validated field by field on submission, uploads checked by
//! content, a review queue ordered by the 20-working-day deadline, decisions
//! (approve, reject, materials incomplete) with reasons, and filing numbers
//! issued on approval — every step audited and notified through the
//! outbox in the same storage transaction as the step itself.
//!
//! **Architecture invariant:** shares infrastructure (types, calendar,
//! notifier) with the platform but no domain code; knows no HTTP and no
//! SQL — storage is [`RegistryStore`], implemented by `shucang-store`.
//!
//! ```no_run
//! # async fn demo(registry: &shucang_registry::Registry) -> Result<(), shucang_registry::RegistryError> {
//! let id = registry
//!     .register_filer("张三", "13912345678", "zhang@example.cn", "Filer#2026pass")
//!     .await?;
//! # Ok(()) }
//! ```

mod checkins;
mod files;
mod form;
mod lifecycle;
mod publication;
mod store;

use std::path::Path;
use std::sync::Arc;

use rand::RngCore;
use rand::rngs::OsRng;
use serde::{Deserialize, Serialize};
use shucang_auth::{
    Busy, HashingLimits, HashingParams, LockoutPolicy, PasswordError, PasswordHasher, SessionKey,
    SessionToken,
};
use shucang_calendar::{Calendar, CalendarError};
use shucang_notify::{Channel, NewMessage};
use shucang_types::{Clock, Date, Email, FilingNumber, FilingNumberParts, Phone, UnixMillis};

pub use checkins::{Checkin, CheckinEntry};
pub use files::{FileError, FileStore, FileType, UPLOAD_BYTES_MAX, sniff};
pub use form::{ApplicationForm, Findings, MAIN_CHAINS, Problem, SERVICES_MAX, validate};
pub use lifecycle::{
    BUILT_IN_LAST_YEAR, CANCELLATION_NOTICE_WORKING_DAYS, CHANGE_RECORD_WORKING_DAYS, Pending,
    calendar_with_loads, load_holiday_schedules,
};
pub use publication::{Batch, OBJECTION_WORKING_DAYS, SEARCH_RESULTS_MAX};
pub use store::{
    ApplicationRecord, AttachmentRecord, AuditEntry, BatchRecord, BatchState, CheckinRecord,
    ConfirmationRecord, NewUser, NumberRecord, ObjectionRecord, PendingUpdate, RegistryStore,
    StoreError, Transition, User, UserRole,
};

/// Working days a review may take (PRODUCT.md §6).
pub const REVIEW_WORKING_DAYS: u32 = 20;
/// Minutes an SMS code and an e-mail link stay valid.
pub const VERIFICATION_MINUTES: i64 = 30;
/// Wrong SMS codes before a code is spent.
pub const PHONE_CODE_ATTEMPTS_MAX: u32 = 5;
/// Consecutive failed logins that lock an account.
pub const LOGIN_FAILURES_MAX: u32 = 5;
/// Minutes an account stays locked.
pub const LOCKOUT_MINUTES: i64 = 30;
/// Hours a session lasts.
pub const SESSION_HOURS: i64 = 12;
/// Reasons one decision may carry.
pub const REASONS_MAX: usize = 50;
/// Longest reason text, in characters.
pub const REASON_CHARS_MAX: usize = 500;
/// Attachments per application.
pub const ATTACHMENTS_MAX: usize = 50;

const MINUTE_MS: i64 = 60_000;

/// Where an application stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AppState {
    /// Being written by the filer (草稿).
    Draft,
    /// Submitted, not yet opened by a reviewer (未审核).
    Submitted,
    /// A reviewer is on it (审核中).
    UnderReview,
    /// Approved, numbers issued (审核通过).
    Approved,
    /// Rejected with reasons (审核未通过).
    Rejected,
    /// Returned for missing materials: the filer completes and resubmits.
    Returned,
    /// Approved, with a recorded change under review (the number stays valid).
    ChangePending,
    /// Approved, with a cancellation under review.
    CancellationPending,
    /// Cancellation approved; cancelled on the termination date.
    CancellationApproved,
    /// Cancelled (已注销); its numbers are never issued again.
    Cancelled,
}

impl AppState {
    /// The stable code.
    pub fn code(self) -> &'static str {
        match self {
            AppState::Draft => "draft",
            AppState::Submitted => "submitted",
            AppState::UnderReview => "under_review",
            AppState::Approved => "approved",
            AppState::Rejected => "rejected",
            AppState::Returned => "returned",
            AppState::ChangePending => "change_pending",
            AppState::CancellationPending => "cancellation_pending",
            AppState::CancellationApproved => "cancellation_approved",
            AppState::Cancelled => "cancelled",
        }
    }

    /// The state with this code.
    pub fn from_code(code: &str) -> Option<AppState> {
        use AppState::*;
        [
            Draft,
            Submitted,
            UnderReview,
            Approved,
            Rejected,
            Returned,
            ChangePending,
            CancellationPending,
            CancellationApproved,
            Cancelled,
        ]
        .into_iter()
        .find(|s| s.code() == code)
    }

    /// The public name of the four review states.
    pub fn public_name(self) -> Option<&'static str> {
        match self {
            AppState::Submitted => Some("未审核"),
            AppState::UnderReview => Some("审核中"),
            AppState::Approved
            | AppState::ChangePending
            | AppState::CancellationPending
            | AppState::CancellationApproved => Some("审核通过"),
            AppState::Rejected => Some("审核未通过"),
            AppState::Cancelled => Some("已注销"),
            AppState::Draft | AppState::Returned => None,
        }
    }

    /// States in which the filer may edit the form.
    const EDITABLE: [&'static str; 2] = ["draft", "returned"];
}

/// A reviewer's decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DecisionKind {
    /// Approve: numbers are issued.
    Approve,
    /// Reject, with reasons.
    Reject,
    /// Materials incomplete: back to the filer with the list.
    Incomplete,
}

/// One reason, optionally tied to a field.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reason {
    /// The field's path, if the reason is about one.
    #[serde(default)]
    pub field: Option<String>,
    /// The reason.
    pub reason: String,
}

/// A decision as recorded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Decision {
    /// What was decided.
    pub decision: DecisionKind,
    /// Why.
    pub reasons: Vec<Reason>,
    /// By whom (user id).
    pub reviewer_id: i64,
    /// When (UTC milliseconds).
    pub at_ms: i64,
}

/// Why a registry operation failed.
#[derive(Debug, thiserror::Error)]
pub enum RegistryError {
    /// A field of a registration or login is invalid.
    #[error("{field}: {message}")]
    Invalid {
        /// The field.
        field: &'static str,
        /// What is wrong.
        message: String,
    },
    /// The mobile number is registered already.
    #[error("the mobile number is registered already")]
    PhoneTaken,
    /// Wrong mobile or password.
    #[error("wrong mobile number or password")]
    InvalidCredentials,
    /// Locked after failed logins.
    #[error("the account is locked after failed logins until {}", until.to_rfc3339_utc())]
    Locked {
        /// Until when.
        until: UnixMillis,
    },
    /// Too many passwords are being checked; try again shortly.
    #[error("too many password checks at once; try again shortly")]
    Busy,
    /// A code or link is wrong, spent or expired.
    #[error("the code or link is wrong, spent or expired")]
    VerificationFailed,
    /// The filer must confirm mobile and e-mail first.
    #[error("confirm your mobile number and e-mail address first")]
    Unconfirmed,
    /// No such application for this user (also: someone else's).
    #[error("no such application")]
    NotFound,
    /// The application's state does not allow this.
    #[error("the application is {state}; {action} is not possible")]
    WrongState {
        /// Its state.
        state: &'static str,
        /// What was tried.
        action: &'static str,
    },
    /// The form has problems (listed).
    #[error("the application has {} problem(s)", .0.problems.len())]
    Incomplete(Findings),
    /// An upload was refused.
    #[error(transparent)]
    File(#[from] FileError),
    /// Too many attachments.
    #[error("at most {ATTACHMENTS_MAX} attachments per application")]
    TooManyAttachments,
    /// A decision is malformed.
    #[error("{0}")]
    BadDecision(&'static str),
    /// The user's role may not do this.
    #[error("this needs the {0} role")]
    Forbidden(&'static str),
    /// Nothing approved is waiting for a batch.
    #[error("no approved filing is waiting to be published")]
    NothingToGather,
    /// No such batch (or not yet published, for the public).
    #[error("no such batch")]
    BatchNotFound,
    /// The batch's state does not allow this.
    #[error("the batch is {0}")]
    BatchWrongState(&'static str),
    /// A cancellation's termination date is too early.
    #[error("the termination date must be {0} or later (30 working days from today)")]
    TooSoon(String),
    /// No such check-in window.
    #[error("no such check-in")]
    CheckinNotFound,
    /// Outside the check-in window.
    #[error("the check-in window runs from {0} to {1}")]
    CheckinClosed(String, String),
    /// This filing confirmed already in this window.
    #[error("this filing has confirmed in this check-in already")]
    AlreadyConfirmed,
    /// The objection window is still open.
    #[error("the objection window is open until {0}")]
    WindowOpen(String),
    /// The working-day calendar lacks a year.
    #[error(transparent)]
    Calendar(#[from] CalendarError),
    /// Storage failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Something that cannot happen did (a bug): hashing, file I/O.
    #[error("internal: {0}")]
    Internal(String),
}

/// A new session's bearer token (shown once) and its user.
#[derive(Debug)]
pub struct NewSession {
    /// The token.
    pub token: String,
    /// The user.
    pub user: User,
}

/// An application as the API shows it.
#[derive(Debug, Clone)]
pub struct Application {
    /// The stored record.
    pub record: ApplicationRecord,
    /// Its state.
    pub state: AppState,
    /// The form.
    pub form: ApplicationForm,
    /// The last decision.
    pub decision: Option<Decision>,
    /// Numbers issued.
    pub numbers: Vec<NumberRecord>,
    /// Uploaded files.
    pub attachments: Vec<AttachmentRecord>,
    /// Working days left to the deadline (0 on the day), while in review.
    pub working_days_left: Option<u32>,
    /// Whether the deadline has passed while in review.
    pub overdue: bool,
    /// What validation warns about (for reviewers).
    pub warnings: Vec<Problem>,
    /// A pending change or cancellation.
    pub pending: Option<Pending>,
}

/// The registry's services.
pub struct Registry {
    store: Arc<dyn RegistryStore>,
    clock: Arc<dyn Clock>,
    calendar: Calendar,
    files: FileStore,
    /// Keys the stored hashes of session tokens, SMS codes and e-mail tokens.
    key: SessionKey,
    /// Argon2id under one cap and a bounded queue; an unknown mobile number
    /// is checked against its dummy hash.
    passwords: PasswordHasher,
    /// The registry's public base URL, for e-mail links.
    base_url: String,
}

/// [`LOGIN_FAILURES_MAX`] failures lock for [`LOCKOUT_MINUTES`].
const LOCKOUT: LockoutPolicy = LockoutPolicy {
    failures_max: LOGIN_FAILURES_MAX,
    lockout_ms: LOCKOUT_MINUTES * MINUTE_MS,
};

/// An e-mail link's token: 256 random bits, hex (64 digits).
fn email_token() -> String {
    let mut b = [0u8; 32];
    OsRng.fill_bytes(&mut b);
    hex::encode(b)
}

impl From<Busy> for RegistryError {
    fn from(_: Busy) -> RegistryError {
        RegistryError::Busy
    }
}

impl From<PasswordError> for RegistryError {
    fn from(e: PasswordError) -> RegistryError {
        match e {
            PasswordError::Busy => RegistryError::Busy,
            PasswordError::Hashing(e) => RegistryError::Internal(e),
        }
    }
}

fn six_digits() -> String {
    format!("{:06}", OsRng.next_u32() % 1_000_000)
}

fn invalid(field: &'static str, message: impl Into<String>) -> RegistryError {
    RegistryError::Invalid {
        field,
        message: message.into(),
    }
}

impl Registry {
    /// Builds the registry over `store`, keeping uploads under
    /// `uploads_dir`. `key` keys the hashes of session tokens, SMS codes
    /// and e-mail tokens; `base_url` starts the links in e-mails.
    pub fn new(
        store: Arc<dyn RegistryStore>,
        clock: Arc<dyn Clock>,
        calendar: Calendar,
        uploads_dir: &Path,
        key: [u8; 32],
        base_url: String,
    ) -> Result<Registry, RegistryError> {
        // The platform's password hashing parameters and limits.
        let passwords = PasswordHasher::new(HashingParams::default(), HashingLimits::default())?;
        Ok(Registry {
            store,
            clock,
            calendar,
            files: FileStore::new(uploads_dir),
            key: SessionKey::new(key),
            passwords,
            base_url,
        })
    }

    /// Today in China.
    pub fn today(&self) -> Date {
        self.clock.now().china_date()
    }

    /// The working-day calendar in use.
    pub fn calendar(&self) -> &Calendar {
        &self.calendar
    }

    /// Registers a filer; queues the SMS code and the e-mail link.
    pub async fn register_filer(
        &self,
        name: &str,
        phone: &str,
        email: &str,
        password: &str,
    ) -> Result<i64, RegistryError> {
        let (name, phone, email) = self.check_person(name, phone, email, password)?;
        let code = six_digits();
        let token = email_token();
        let now = self.clock.now();
        let user = NewUser {
            role: UserRole::Filer,
            name: name.clone(),
            phone: phone.as_str().to_owned(),
            email: email.as_str().to_owned(),
            password_hash: self.passwords.hash(password).await?,
            phone_code_hash: Some(
                self.key
                    .keyed_hash(format!("sms:{phone}:{code}").as_bytes()),
            ),
            email_token_hash: Some(self.key.keyed_hash(format!("email:{token}").as_bytes())),
            verify_expires_at: now.plus_ms(VERIFICATION_MINUTES * MINUTE_MS),
            confirmed: false,
            created_at: now,
        };
        let messages = [
            NewMessage {
                channel: Channel::Sms,
                recipient: phone.as_str().to_owned(),
                subject: String::new(),
                body: format!(
                    "【区块链信息服务备案】您的验证码是 {code}，{VERIFICATION_MINUTES} 分钟内有效。"
                ),
            },
            NewMessage {
                channel: Channel::Email,
                recipient: email.as_str().to_owned(),
                subject: "确认您的电子邮箱 · 区块链信息服务备案管理系统".into(),
                body: format!(
                    "{name}，您好：\n请在 {VERIFICATION_MINUTES} 分钟内打开下面的链接确认邮箱：\n{}/filers/verify-email?token={token}\n",
                    self.base_url
                ),
            },
        ];
        match self.store.insert_user(&user, &messages).await {
            Ok(id) => Ok(id),
            Err(StoreError::PhoneTaken) => Err(RegistryError::PhoneTaken),
            Err(e) => Err(e.into()),
        }
    }

    /// Creates a staff account (reviewer, publisher, auditor), confirmed.
    pub async fn create_staff(
        &self,
        role: UserRole,
        name: &str,
        phone: &str,
        email: &str,
        password: &str,
    ) -> Result<i64, RegistryError> {
        if role == UserRole::Filer {
            return Err(invalid(
                "role",
                "staff roles are reviewer, publisher and auditor",
            ));
        }
        let (name, phone, email) = self.check_person(name, phone, email, password)?;
        let now = self.clock.now();
        let user = NewUser {
            role,
            name,
            phone: phone.as_str().to_owned(),
            email: email.as_str().to_owned(),
            password_hash: self.passwords.hash(password).await?,
            phone_code_hash: None,
            email_token_hash: None,
            verify_expires_at: now,
            confirmed: true,
            created_at: now,
        };
        match self.store.insert_user(&user, &[]).await {
            Ok(id) => Ok(id),
            Err(StoreError::PhoneTaken) => Err(RegistryError::PhoneTaken),
            Err(e) => Err(e.into()),
        }
    }

    fn check_person(
        &self,
        name: &str,
        phone: &str,
        email: &str,
        password: &str,
    ) -> Result<(String, Phone, Email), RegistryError> {
        let name = name.trim();
        let chars = name.chars().count();
        if !(2..=50).contains(&chars) || name.chars().any(char::is_control) {
            return Err(invalid("name", "a real name of 2 to 50 characters"));
        }
        let phone = Phone::parse(phone).map_err(|e| invalid("phone", e.to_string()))?;
        let email = Email::parse(email).map_err(|e| invalid("email", e.to_string()))?;
        shucang_types::check_password(password, phone.as_str())
            .map_err(|e| invalid("password", e.to_string()))?;
        Ok((name.to_owned(), phone, email))
    }

    /// Confirms a filer's mobile with the SMS code.
    pub async fn verify_phone(&self, phone: &str, code: &str) -> Result<(), RegistryError> {
        let Ok(phone) = Phone::parse(phone) else {
            return Err(RegistryError::VerificationFailed);
        };
        let Some(user) = self.store.user_by_phone(phone.as_str()).await? else {
            return Err(RegistryError::VerificationFailed);
        };
        if user.phone_verified {
            return Ok(());
        }
        let live = user.phone_code_hash.is_some()
            && user.phone_code_attempts < PHONE_CODE_ATTEMPTS_MAX
            && user.verify_expires_at > self.clock.now();
        let expected = self
            .key
            .keyed_hash(format!("sms:{phone}:{}", code.trim()).as_bytes());
        let matches = user.phone_code_hash.as_deref() == Some(expected.as_str());
        if live && matches {
            self.store.set_phone_verification(user.id, true).await?;
            return Ok(());
        }
        if live {
            self.store.set_phone_verification(user.id, false).await?;
        }
        Err(RegistryError::VerificationFailed)
    }

    /// Confirms an e-mail address with the link's token.
    pub async fn verify_email(&self, token: &str) -> Result<i64, RegistryError> {
        let token = token.trim();
        if token.len() != 64 || !token.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(RegistryError::VerificationFailed);
        }
        let hash = self.key.keyed_hash(format!("email:{token}").as_bytes());
        self.store
            .confirm_email(&hash, self.clock.now())
            .await?
            .ok_or(RegistryError::VerificationFailed)
    }

    /// Logs in by mobile and password.
    pub async fn login(&self, phone: &str, password: &str) -> Result<NewSession, RegistryError> {
        let user = match Phone::parse(phone) {
            Ok(p) => self.store.user_by_phone(p.as_str()).await?,
            Err(_) => None,
        };
        let now = self.clock.now();
        let lock = user.as_ref().and_then(|u| u.locked_until);
        if let Some(until) = LockoutPolicy::lock_in_force(lock, now) {
            return Err(RegistryError::Locked { until });
        }
        let stored = user.as_ref().map(|u| u.password_hash.as_str());
        let valid = self.passwords.verify(stored, password).await?;
        let Some(user) = user else {
            return Err(RegistryError::InvalidCredentials);
        };
        if !valid {
            let failure = LOCKOUT.after_failure(user.failed_logins, now);
            self.store
                .set_login_state(user.id, failure.failures, failure.locked_until)
                .await?;
            return Err(match failure.locked_until {
                Some(until) => RegistryError::Locked { until },
                None => RegistryError::InvalidCredentials,
            });
        }
        if user.failed_logins > 0 || user.locked_until.is_some() {
            self.store.set_login_state(user.id, 0, None).await?;
        }
        let token = SessionToken::generate();
        self.store
            .insert_session(
                &self.key.token_hash(&token),
                user.id,
                now.plus_ms(SESSION_HOURS * 60 * MINUTE_MS),
            )
            .await?;
        Ok(NewSession {
            token: token.expose().to_owned(),
            user,
        })
    }

    /// The user behind a bearer token.
    pub async fn authenticate(&self, token: &str) -> Result<Option<User>, RegistryError> {
        let token = SessionToken::from_client(token);
        if !token.is_plausible() {
            return Ok(None);
        }
        let hash = self.key.token_hash(&token);
        let Some((user_id, expires_at)) = self.store.session(&hash).await? else {
            return Ok(None);
        };
        if expires_at <= self.clock.now() {
            self.store.delete_session(&hash).await?;
            return Ok(None);
        }
        Ok(self.store.user_by_id(user_id).await?)
    }

    /// Ends a session.
    pub async fn logout(&self, token: &str) -> Result<(), RegistryError> {
        Ok(self
            .store
            .delete_session(&self.key.token_hash(&SessionToken::from_client(token)))
            .await?)
    }

    pub(crate) fn filer_only(user: &User) -> Result<(), RegistryError> {
        if user.role != UserRole::Filer {
            return Err(RegistryError::Forbidden("filer"));
        }
        Ok(())
    }

    /// Starts a draft.
    pub async fn create_draft(
        &self,
        user: &User,
        form: &ApplicationForm,
    ) -> Result<Application, RegistryError> {
        Self::filer_only(user)?;
        let json = form_json(form)?;
        let id = self
            .store
            .insert_application(user.id, &json, self.clock.now())
            .await?;
        self.application(user, id).await
    }

    /// Replaces a draft's (or returned application's) form.
    pub async fn update_draft(
        &self,
        user: &User,
        id: i64,
        form: &ApplicationForm,
    ) -> Result<Application, RegistryError> {
        let app = self.application(user, id).await?;
        Self::filer_only(user)?;
        let json = form_json(form)?;
        if !self
            .store
            .update_form(id, &AppState::EDITABLE, &json, self.clock.now())
            .await?
        {
            return Err(RegistryError::WrongState {
                state: app.state.code(),
                action: "editing",
            });
        }
        self.application(user, id).await
    }

    /// An application: filers see only their own (others: not found);
    /// staff see all.
    pub async fn application(&self, user: &User, id: i64) -> Result<Application, RegistryError> {
        let record = self
            .store
            .application(id)
            .await?
            .ok_or(RegistryError::NotFound)?;
        if user.role == UserRole::Filer && record.filer_id != user.id {
            return Err(RegistryError::NotFound);
        }
        self.load(record).await
    }

    async fn load(&self, record: ApplicationRecord) -> Result<Application, RegistryError> {
        let state = AppState::from_code(&record.state)
            .ok_or_else(|| RegistryError::Internal(format!("unknown state {}", record.state)))?;
        let form: ApplicationForm = serde_json::from_str(&record.form)
            .map_err(|e| RegistryError::Internal(format!("stored form: {e}")))?;
        let decision = match &record.decision {
            Some(d) => Some(
                serde_json::from_str(d)
                    .map_err(|e| RegistryError::Internal(format!("stored decision: {e}")))?,
            ),
            None => None,
        };
        let attachments = self.store.attachments(record.id).await?;
        let numbers = self.store.numbers_of(record.id).await?;
        let (working_days_left, overdue) = match (&record.due_date, state) {
            (
                Some(due),
                AppState::Submitted
                | AppState::UnderReview
                | AppState::ChangePending
                | AppState::CancellationPending,
            ) => {
                let due = parse_date(due)?;
                let today = self.today();
                if today > due {
                    (Some(0), true)
                } else {
                    (Some(self.calendar.working_days_between(today, due)?), false)
                }
            }
            _ => (None, false),
        };
        let ids: Vec<i64> = attachments.iter().map(|a| a.id).collect();
        let warnings = validate(&form, &ids, self.today()).warnings;
        let pending = match &record.pending {
            Some(p) => Some(
                serde_json::from_str(p)
                    .map_err(|e| RegistryError::Internal(format!("stored pending: {e}")))?,
            ),
            None => None,
        };
        Ok(Application {
            record,
            state,
            form,
            decision,
            numbers,
            attachments,
            working_days_left,
            overdue,
            warnings,
            pending,
        })
    }

    /// A filer's applications, newest first.
    pub async fn applications_of(&self, user: &User) -> Result<Vec<Application>, RegistryError> {
        let mut out = Vec::new();
        for r in self.store.applications_of(user.id).await? {
            out.push(self.load(r).await?);
        }
        Ok(out)
    }

    /// Stores an upload for an application in an editable state.
    pub async fn add_attachment(
        &self,
        user: &User,
        id: i64,
        file_name: &str,
        bytes: &[u8],
    ) -> Result<AttachmentRecord, RegistryError> {
        let app = self.application(user, id).await?;
        Self::filer_only(user)?;
        // Drafts take documents, and approved filings for a change.
        if !AppState::EDITABLE.contains(&app.state.code()) && app.state != AppState::Approved {
            return Err(RegistryError::WrongState {
                state: app.state.code(),
                action: "uploading",
            });
        }
        if app.attachments.len() >= ATTACHMENTS_MAX {
            return Err(RegistryError::TooManyAttachments);
        }
        let kind = sniff(file_name, bytes)?;
        let name: String = file_name
            .chars()
            .filter(|c| !c.is_control() && !matches!(c, '/' | '\\'))
            .take(200)
            .collect();
        let files = self.files.clone();
        let data = bytes.to_vec();
        let sha256 = tokio::task::spawn_blocking(move || files.put(&data))
            .await
            .map_err(|e| RegistryError::Internal(e.to_string()))?
            .map_err(|e| RegistryError::Internal(format!("writing an upload: {e}")))?;
        let mut record = AttachmentRecord {
            id: 0,
            application_id: id,
            file_name: if name.is_empty() {
                "upload".into()
            } else {
                name
            },
            mime: kind.mime().to_owned(),
            sha256,
            size: bytes.len() as i64,
            created_at: self.clock.now(),
        };
        record.id = self.store.insert_attachment(&record).await?;
        Ok(record)
    }

    /// An attachment's bytes and MIME type, for the filer and staff.
    pub async fn attachment_file(
        &self,
        user: &User,
        id: i64,
        attachment_id: i64,
    ) -> Result<(Vec<u8>, String), RegistryError> {
        let app = self.application(user, id).await?;
        let a = app
            .attachments
            .iter()
            .find(|a| a.id == attachment_id)
            .ok_or(RegistryError::NotFound)?;
        let bytes = self
            .files
            .get(&a.sha256)
            .map_err(|e| RegistryError::Internal(format!("reading an upload: {e}")))?;
        Ok((bytes, a.mime.clone()))
    }

    /// Submits a draft (or a returned application): every problem is
    /// listed and it stays editable; otherwise it is 未审核 with a deadline
    /// 20 working days on.
    pub async fn submit(&self, user: &User, id: i64) -> Result<Application, RegistryError> {
        let app = self.application(user, id).await?;
        Self::filer_only(user)?;
        if !user.phone_verified || !user.email_verified {
            return Err(RegistryError::Unconfirmed);
        }
        if !AppState::EDITABLE.contains(&app.state.code()) {
            return Err(RegistryError::WrongState {
                state: app.state.code(),
                action: "submitting",
            });
        }
        let ids: Vec<i64> = app.attachments.iter().map(|a| a.id).collect();
        let findings = validate(&app.form, &ids, self.today());
        if !findings.problems.is_empty() {
            return Err(RegistryError::Incomplete(findings));
        }
        let now = self.clock.now();
        let due = self
            .calendar
            .add_working_days(now.china_date(), REVIEW_WORKING_DAYS)?;
        let t = Transition {
            application_id: id,
            from: app.state.code().into(),
            to: AppState::Submitted.code().into(),
            at: now,
            actor_id: user.id,
            action: "submit".into(),
            detail: serde_json::json!({ "due_date": due.to_string() }).to_string(),
            submitted_at: Some(now),
            due_date: Some(due.to_string()),
            decision: None,
            numbers: vec![],
            form: None,
            pending: PendingUpdate::Keep,
            messages: self.notify(
                user,
                &format!(
                    "您的备案申请（编号 {id}）已提交，状态：未审核。审核期限：{due}（20 个工作日）。"
                ),
            ),
        };
        if !self.store.transition(&t).await? {
            return Err(RegistryError::WrongState {
                state: app.state.code(),
                action: "submitting",
            });
        }
        self.application(user, id).await
    }

    pub(crate) fn staff(user: &User, role: UserRole) -> Result<(), RegistryError> {
        if user.role != role {
            return Err(RegistryError::Forbidden(role.code()));
        }
        Ok(())
    }

    /// The review queue: submitted and in-review applications, the nearest
    /// deadline first.
    pub async fn review_queue(&self, user: &User) -> Result<Vec<Application>, RegistryError> {
        Self::staff(user, UserRole::Reviewer)?;
        let mut out = Vec::new();
        for r in self
            .store
            .applications_in(&[
                AppState::Submitted.code(),
                AppState::UnderReview.code(),
                AppState::ChangePending.code(),
                AppState::CancellationPending.code(),
            ])
            .await?
        {
            out.push(self.load(r).await?);
        }
        out.sort_by(|a, b| {
            (&a.record.due_date, a.record.id).cmp(&(&b.record.due_date, b.record.id))
        });
        Ok(out)
    }

    /// What the reviewer console warns about: from 1 November, a missing
    /// schedule for next year (deadlines reaching it cannot be computed).
    pub fn calendar_warning(&self, user: &User) -> Result<Option<i32>, RegistryError> {
        Self::staff(user, UserRole::Reviewer)?;
        Ok(self.calendar.missing_next_year(self.today()))
    }

    /// A reviewer opens an application: 未审核 becomes 审核中 (audited and
    /// notified); opening one already in review changes nothing.
    pub async fn open_for_review(
        &self,
        user: &User,
        id: i64,
    ) -> Result<Application, RegistryError> {
        Self::staff(user, UserRole::Reviewer)?;
        let app = self.application(user, id).await?;
        if app.state != AppState::Submitted {
            return Ok(app);
        }
        let filer = self.filer_of(&app).await?;
        let t = Transition {
            application_id: id,
            from: AppState::Submitted.code().into(),
            to: AppState::UnderReview.code().into(),
            at: self.clock.now(),
            actor_id: user.id,
            action: "open".into(),
            detail: "{}".into(),
            submitted_at: None,
            due_date: None,
            decision: None,
            numbers: vec![],
            form: None,
            pending: PendingUpdate::Keep,
            messages: self.notify(&filer, &format!("您的备案申请（编号 {id}）状态：审核中。")),
        };
        self.store.transition(&t).await?;
        self.application(user, id).await
    }

    /// Records a decision. Approval issues one number per service;
    /// rejection and "materials incomplete" need at least one reason.
    pub async fn decide(
        &self,
        user: &User,
        id: i64,
        kind: DecisionKind,
        reasons: Vec<Reason>,
    ) -> Result<Application, RegistryError> {
        Self::staff(user, UserRole::Reviewer)?;
        if reasons.len() > REASONS_MAX {
            return Err(RegistryError::BadDecision("too many reasons (at most 50)"));
        }
        if reasons.iter().any(|r| {
            r.reason.trim().is_empty()
                || r.reason.chars().count() > REASON_CHARS_MAX
                || r.field.as_ref().is_some_and(|f| f.len() > 200)
        }) {
            return Err(RegistryError::BadDecision(
                "every reason needs a text of 1 to 500 characters",
            ));
        }
        if kind != DecisionKind::Approve && reasons.is_empty() {
            return Err(RegistryError::BadDecision(
                "a rejection or a return for materials needs at least one reason",
            ));
        }
        let current = self.application(user, id).await?;
        if matches!(
            current.state,
            AppState::ChangePending | AppState::CancellationPending
        ) {
            return self.decide_pending(user, current, kind, reasons).await;
        }
        // Opening is part of deciding: a decision on a 未审核 application
        // passes through 审核中 first, so the trail shows both.
        let app = self.open_for_review(user, id).await?;
        if app.state != AppState::UnderReview {
            return Err(RegistryError::WrongState {
                state: app.state.code(),
                action: "deciding",
            });
        }
        let filer = self.filer_of(&app).await?;
        let now = self.clock.now();
        let decision = Decision {
            decision: kind,
            reasons: reasons.clone(),
            reviewer_id: user.id,
            at_ms: now.0,
        };
        let decision_json =
            serde_json::to_string(&decision).map_err(|e| RegistryError::Internal(e.to_string()))?;
        let reasons_text = reasons
            .iter()
            .map(|r| match &r.field {
                Some(f) => format!("{f}：{}", r.reason),
                None => r.reason.clone(),
            })
            .collect::<Vec<_>>()
            .join("；");
        // A serial may collide with one already issued: draw again.
        for _ in 0..8 {
            let (to, numbers, text, action) = match kind {
                DecisionKind::Approve => {
                    let numbers = self.new_numbers(&app, &filer, now).await?;
                    let list = numbers
                        .iter()
                        .map(|n| n.number.clone())
                        .collect::<Vec<_>>()
                        .join("、");
                    (
                        AppState::Approved,
                        numbers,
                        format!("您的备案申请（编号 {id}）审核通过，备案编号：{list}。"),
                        "approve",
                    )
                }
                DecisionKind::Reject => (
                    AppState::Rejected,
                    vec![],
                    format!("您的备案申请（编号 {id}）审核未通过。原因：{reasons_text}"),
                    "reject",
                ),
                DecisionKind::Incomplete => (
                    AppState::Returned,
                    vec![],
                    format!("您的备案申请（编号 {id}）材料不全，已退回补正：{reasons_text}"),
                    "incomplete",
                ),
            };
            let t = Transition {
                application_id: id,
                from: AppState::UnderReview.code().into(),
                to: to.code().into(),
                at: now,
                actor_id: user.id,
                action: action.into(),
                detail: decision_json.clone(),
                submitted_at: None,
                due_date: None,
                decision: Some(decision_json.clone()),
                numbers,
                form: None,
                pending: PendingUpdate::Keep,
                messages: self.notify(&filer, &text),
            };
            match self.store.transition(&t).await {
                Ok(true) => return self.application(user, id).await,
                Ok(false) => {
                    let now = self.application(user, id).await?;
                    return Err(RegistryError::WrongState {
                        state: now.state.code(),
                        action: "deciding",
                    });
                }
                Err(StoreError::SerialTaken) => continue,
                Err(e) => return Err(e.into()),
            }
        }
        Err(RegistryError::Internal(
            "no free filing number serial after 8 draws".into(),
        ))
    }

    pub(crate) async fn filer_of(&self, app: &Application) -> Result<User, RegistryError> {
        self.store
            .user_by_id(app.record.filer_id)
            .await?
            .ok_or_else(|| RegistryError::Internal("an application without its filer".into()))
    }

    /// One number per service: the registered district, this year, a
    /// random unused 8-digit serial, and the filer's next service counters.
    async fn new_numbers(
        &self,
        app: &Application,
        filer: &User,
        now: UnixMillis,
    ) -> Result<Vec<NumberRecord>, RegistryError> {
        let district = app
            .form
            .registered_place
            .district_code
            .clone()
            .unwrap_or_default();
        let issued = self.store.number_count_of_filer(filer.id).await?;
        let year = now.china_date().year;
        let mut out = Vec::new();
        for (i, _) in app.form.services.iter().enumerate() {
            let serial = 10_000_000 + OsRng.next_u32() % 90_000_000;
            let service = u16::try_from(issued + i as i64 + 1)
                .ok()
                .filter(|n| *n <= 999)
                .ok_or_else(|| {
                    RegistryError::Internal("a filer's 999 service numbers are used up".into())
                })?;
            let number = FilingNumber::compose(&FilingNumberParts {
                district: district.trim().to_owned(),
                year: u16::try_from(year).unwrap_or(0),
                serial,
                service,
            })
            .ok_or_else(|| RegistryError::Internal("an approved form's district code".into()))?;
            out.push(NumberRecord {
                number: number.as_str().to_owned(),
                serial: i64::from(serial),
                application_id: app.record.id,
                service_index: i as i64,
                entity_name: app.form.applicant_name().unwrap_or("").trim().to_owned(),
                service_name: app.form.services[i]
                    .name
                    .clone()
                    .unwrap_or_default()
                    .trim()
                    .to_owned(),
                issued_at: now,
                batch: None,
                app_state: AppState::Approved.code().to_owned(),
            });
        }
        Ok(out)
    }

    /// An SMS and an e-mail to a filer with the same text.
    pub(crate) fn notify(&self, filer: &User, text: &str) -> Vec<NewMessage> {
        vec![
            NewMessage {
                channel: Channel::Sms,
                recipient: filer.phone.clone(),
                subject: String::new(),
                body: format!("【区块链信息服务备案】{text}"),
            },
            NewMessage {
                channel: Channel::Email,
                recipient: filer.email.clone(),
                subject: "备案申请状态通知 · 区块链信息服务备案管理系统".into(),
                body: format!("{}，您好：\n{text}\n", filer.name),
            },
        ]
    }

    /// An application's audit trail (staff, or its filer).
    pub async fn audit_trail(
        &self,
        user: &User,
        id: i64,
    ) -> Result<Vec<AuditEntry>, RegistryError> {
        self.application(user, id).await?;
        Ok(self.store.audit_of(id).await?)
    }
}

pub(crate) fn form_json(form: &ApplicationForm) -> Result<String, RegistryError> {
    serde_json::to_string(form).map_err(|e| RegistryError::Internal(e.to_string()))
}

/// A stored `YYYY-MM-DD`.
pub(crate) fn parse_date(s: &str) -> Result<Date, RegistryError> {
    ymd(s).ok_or_else(|| RegistryError::Internal(format!("stored date {s:?}")))
}

/// A strict `YYYY-MM-DD` (surrounding spaces ignored), if a real date.
pub(crate) fn ymd(s: &str) -> Option<Date> {
    let b = s.trim().as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let num = |r: std::ops::Range<usize>| {
        std::str::from_utf8(&b[r])
            .ok()
            .filter(|t| t.bytes().all(|c| c.is_ascii_digit()))
            .and_then(|t| t.parse::<u32>().ok())
    };
    Date::new(num(0..4)? as i32, num(5..7)?, num(8..10)?)
}
