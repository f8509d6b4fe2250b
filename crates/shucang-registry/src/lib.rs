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
//! let person = shucang_registry::Person {
//!     name: "张三",
//!     phone: "13912345678",
//!     email: "zhang@example.cn",
//!     password: "Filer#2026pass",
//! };
//! let registered = registry.register_filer(&person, "203.0.113.7").await?;
//! # Ok(()) }
//! ```

mod accounts;
mod applications;
pub use applications::PERSONAL_DATA_VIEWS_PAGE_MAX;
mod checkins;
pub mod codec;
mod files;
mod form;
mod lifecycle;
mod publication;
mod review;
mod sealed;
mod store;
pub mod strict;
mod workflow;

use std::path::Path;
use std::sync::Arc;

use rand::RngCore;
use rand::rngs::OsRng;
use shucang_auth::{
    Busy, HashingLimits, HashingParams, LockoutPolicy, PasswordError, PasswordHasher, SessionKey,
};
use shucang_calendar::{Calendar, CalendarError};
use shucang_notify::{BodySeal, Channel, NewMessage};
use shucang_types::{Clock, Date, UnixMillis};

pub use accounts::{Person, Registered};
pub use checkins::{Checkin, CheckinEntry};
pub use files::{FileError, FileStore, FileType, UPLOAD_BYTES_MAX, sniff};
pub use form::{ApplicationForm, Findings, MAIN_CHAINS, Problem, SERVICES_MAX, Service, validate};
pub use lifecycle::{
    BUILT_IN_LAST_YEAR, CANCELLATION_NOTICE_WORKING_DAYS, CHANGE_RECORD_WORKING_DAYS, Pending,
    calendar_with_loads, load_holiday_schedules,
};
pub use publication::{
    Batch, OBJECTION_CHARS_MAX, OBJECTION_WORKING_DAYS, PUBLIC_OBJECTIONS_PER_IP_PER_HOUR,
    SEARCH_RESULTS_MAX,
};
pub use shucang_types::WindowedEvent;
pub use store::{
    ApplicationRecord, ApplicationStore, AttachmentRecord, AuditEntry, BatchRecord, BatchState,
    BatchStep, CalendarLoad, CheckinRecord, CheckinStore, ConfirmationRecord, NewUser,
    NumberRecord, ObjectionRecord, PersonalDataView, PersonalDataViewRecord, PublicationStore,
    RegistryStore, Reissue, StoreError, User, UserRole, UserStore,
};
pub use workflow::{
    Action, Actor, AppState, Decision, DecisionKind, PendingUpdate, Reason, STEPS, Step,
    Transition, find_step,
};

/// Working days a review may take (PRODUCT.md §6).
pub const REVIEW_WORKING_DAYS: u32 = 20;
/// Minutes an SMS code and an e-mail link stay valid.
pub const VERIFICATION_MINUTES: i64 = 30;
/// How often an hour a filer may have the SMS code and e-mail link sent
/// again.
pub const CONFIRMATION_RESENDS_PER_HOUR: u32 = 3;
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
    /// Too many requests of this kind from this address (or for this
    /// recipient) in the last hour.
    #[error("too many requests; try again in an hour")]
    RateLimited,
    /// The filer holds as many drafts as allowed.
    #[error("you hold as many drafts as allowed; submit or finish one first")]
    DraftQuota,
    /// The filer's uploads hold as many bytes as allowed.
    #[error("your uploads hold as much as allowed")]
    StorageQuota,
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

/// An application as the API shows it: its record (state, form, last
/// decision, pending request) and what is derived from the rest of the
/// store and the calendar.
#[derive(Debug, Clone)]
pub struct Application {
    /// The stored record.
    pub record: ApplicationRecord,
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
}

impl Application {
    /// The transition `action` makes from this application's state, by
    /// `user` (see [`Transition::step`]).
    pub fn step(
        &self,
        action: Action,
        user: Option<&User>,
        at: UnixMillis,
    ) -> Result<Transition, RegistryError> {
        Transition::step(self.record.id, self.record.state, action, user, at)
    }
}

/// The registry's services.
pub struct Registry {
    store: Arc<dyn RegistryStore>,
    clock: Arc<dyn Clock>,
    calendar: Calendar,
    files: FileStore,
    /// Keys the stored hashes of session tokens, SMS codes and e-mail tokens.
    key: SessionKey,
    /// Seals the personal fields of stored forms.
    seal: sealed::FormSeal,
    /// Seals the bodies of queued messages (codes, links, details).
    bodies: BodySeal,
    /// Argon2id under one cap and a bounded queue; an unknown mobile number
    /// is checked against its dummy hash.
    passwords: PasswordHasher,
    /// The registry's public base URL, for e-mail links.
    base_url: String,
    /// Quotas and rate limits.
    limits: FilerLimits,
    /// The China day cancellations were last settled for (see
    /// [`Registry::settle_cancellations_daily`]).
    settled_on: std::sync::Mutex<Option<Date>>,
}

/// The registry's secret keys (32 bytes each).
pub struct RegistryKeys {
    /// Keys the stored hashes of session tokens, SMS codes and e-mail
    /// tokens.
    pub session: [u8; 32],
    /// Encrypts personal data at rest.
    pub pii: [u8; 32],
}

/// What one filer, or one stranger, may make the registry keep or send.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FilerLimits {
    /// Drafts (never submitted) one filer may hold.
    pub drafts_max: u32,
    /// Bytes of uploads one filer may hold, over all applications.
    pub storage_bytes_max: i64,
    /// Registrations from one address per hour.
    pub registrations_per_ip_per_hour: u32,
    /// Registrations naming one e-mail address per hour (each sends it a
    /// message).
    pub registrations_per_email_per_hour: u32,
}

impl Default for FilerLimits {
    fn default() -> FilerLimits {
        FilerLimits {
            drafts_max: 5,
            storage_bytes_max: 200 * 1024 * 1024,
            registrations_per_ip_per_hour: 5,
            registrations_per_email_per_hour: 3,
        }
    }
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

fn invalid(field: &'static str, message: impl Into<String>) -> RegistryError {
    RegistryError::Invalid {
        field,
        message: message.into(),
    }
}

impl Registry {
    /// Builds the registry over `store`, keeping uploads under
    /// `uploads_dir`. `keys.session` keys the hashes of session tokens, SMS
    /// codes and e-mail tokens, `keys.pii` encrypts personal data;
    /// `base_url` starts the links in e-mails.
    pub fn new(
        store: Arc<dyn RegistryStore>,
        clock: Arc<dyn Clock>,
        calendar: Calendar,
        uploads_dir: &Path,
        keys: &RegistryKeys,
        base_url: String,
        limits: FilerLimits,
    ) -> Result<Registry, RegistryError> {
        // The platform's password hashing parameters and limits.
        let passwords = PasswordHasher::new(HashingParams::default(), HashingLimits::default())?;
        // One cipher under the PII key for forms, files and messages.
        let pii = Arc::new(shucang_auth::PiiCipher::new(&keys.pii));
        Ok(Registry {
            store,
            clock,
            calendar,
            files: FileStore::new(uploads_dir, pii.clone()),
            key: SessionKey::new(keys.session),
            seal: sealed::FormSeal::new(pii.clone()),
            bodies: BodySeal::new(pii),
            passwords,
            base_url,
            limits,
            settled_on: std::sync::Mutex::new(None),
        })
    }

    /// The registry's public base URL (links in e-mails).
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// Today in China.
    pub fn today(&self) -> Date {
        self.clock.now().china_date()
    }

    /// The working-day calendar in use.
    pub fn calendar(&self) -> &Calendar {
        &self.calendar
    }

    /// An SMS and an e-mail to a filer with the same text.
    pub(crate) fn notify(&self, filer: &User, text: &str) -> Vec<NewMessage> {
        self.sealed(vec![
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
        ])
    }

    /// Messages as they are queued: bodies sealed.
    pub(crate) fn sealed(&self, messages: Vec<NewMessage>) -> Vec<NewMessage> {
        messages.into_iter().map(|m| self.bodies.seal(m)).collect()
    }
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

/// A `YYYY-MM-DD` inside a stored document (a cancellation's date).
pub(crate) fn parse_date(s: &str) -> Result<Date, RegistryError> {
    Ok(codec::decode_date(s)?)
}

/// What a message or page adds to a provisional date: empty for an exact
/// one.
pub fn provisional_note(year: Option<i32>) -> String {
    match year {
        None => String::new(),
        Some(y) => format!(
            "（暂定：{y} 年节假日安排尚未公布，按周一至周五计算；安排载入后自动重算并通知您）"
        ),
    }
}
