//! Accounts and sessions (PRODUCT.md §5.1, without real-name verification).
//!
//! Rules kept here:
//! - passwords follow [`shucang_types::check_password`] and are stored as
//!   Argon2id PHC strings, hashed by `shucang-auth` (at most 4 at once,
//!   at most 64 waiting; beyond that [`LoginError::Busy`]);
//! - a wrong phone and a wrong password give the same answer, and cost the
//!   same (an unknown phone is checked against a dummy hash);
//! - [`LockoutPolicy::failures_max`] consecutive failures lock the account
//!   for [`LockoutPolicy::lockout_ms`], during which even the right password
//!   is refused;
//! - sessions live on the server (revocable); the bearer token is 256 random
//!   bits, and only its HMAC under the session key is stored;
//! - a session unused for `session_idle_ms` is gone;
//! - a stranger registers in two steps, so that the answers never say who
//!   is registered: asking for a code for a number always answers "sent"
//!   (the SMS carries a code, or, when the number has an account, a notice
//!   saying so); the code (6 digits, [`CODE_VALID_MS`], [`CODE_ATTEMPTS_MAX`]
//!   attempts, each spent atomically before comparing) then makes the
//!   account. A registered number never has a code, so registering it
//!   fails like a wrong code does.

use std::sync::Arc;

use shucang_auth::{
    Busy, HashingLimits, PasswordError, PasswordHasher, Refusal, SessionKey, StoredLogin,
};
pub use shucang_auth::{HashingParams, LockoutPolicy, SessionToken};
use shucang_notify::{BodySeal, Channel, NewMessage};
use shucang_types::{
    Clock, PasswordProblem, Phone, Role, UnixMillis, WindowedEvent, check_password,
};

use crate::store::{
    AccountRecord, AccountStore, CodePurpose, NewAccount, NewPhoneCode, SessionRecord, StoreError,
};

/// How long a registration code is accepted.
pub const CODE_VALID_MS: i64 = 10 * 60_000;
/// Guesses a registration code allows.
pub const CODE_ATTEMPTS_MAX: u32 = 5;

/// How often, at most, a session's last-use time is written back. Bounds the
/// writes caused by authenticated reads; a session may therefore expire up to
/// this much earlier than `session_idle_ms` after its very last use.
pub const SESSION_TOUCH_INTERVAL_MS: i64 = 60_000;

/// The tunable rules for accounts and sessions.
#[derive(Debug, Clone)]
pub struct AccountPolicy {
    /// A session unused this long is expired.
    pub session_idle_ms: i64,
    /// Failed logins that lock the account, and for how long.
    pub lockout: LockoutPolicy,
    /// Argon2id's costs.
    pub hashing: HashingParams,
    /// What a stranger may ask for in an hour.
    pub hourly: HourlyLimits,
    /// The name that signs SMS texts (【…】).
    pub sms_signature: String,
}

impl Default for AccountPolicy {
    /// PRODUCT.md §5.1 defaults (30 minutes idle; 5 failures lock for 30
    /// minutes); Argon2id at the OWASP-recommended 19 MiB, 2 iterations.
    fn default() -> AccountPolicy {
        AccountPolicy {
            session_idle_ms: 30 * 60_000,
            lockout: LockoutPolicy::default(),
            hashing: HashingParams::default(),
            hourly: HourlyLimits {
                registrations_per_ip: 10,
                codes_per_phone: 5,
                codes_per_ip: 20,
            },
            sms_signature: "数藏".to_owned(),
        }
    }
}

/// What a stranger may ask for in an hour (more: [`AccountError::RateLimited`]).
#[derive(Debug, Clone, Copy)]
pub struct HourlyLimits {
    /// Self-registrations from one address.
    pub registrations_per_ip: u32,
    /// Registration codes sent to one number.
    pub codes_per_phone: u32,
    /// Registration codes asked for from one address.
    pub codes_per_ip: u32,
}

/// An account as the rest of the platform sees it (no secrets).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    /// The account id.
    pub id: i64,
    /// The normalised phone number.
    pub phone: Phone,
    /// The account's one role.
    pub role: Role,
    /// When it was created.
    pub created_at: UnixMillis,
}

impl From<AccountRecord> for Account {
    fn from(r: AccountRecord) -> Account {
        Account {
            id: r.id,
            phone: r.phone,
            role: r.role,
            created_at: r.created_at,
        }
    }
}

/// A request to create an account.
#[derive(Debug, Clone)]
pub struct Registration {
    /// The validated phone number.
    pub phone: Phone,
    /// The password as typed.
    pub password: String,
    /// The role of the new account.
    pub role: Role,
}

/// A freshly opened session.
#[derive(Debug, Clone)]
pub struct NewSession {
    /// The bearer token to give the client (shown once, never stored).
    pub token: SessionToken,
    /// The account logged in.
    pub account: Account,
}

/// Why an account could not be created.
#[derive(Debug, thiserror::Error)]
pub enum AccountError {
    /// The password breaks the policy.
    #[error("{0}")]
    WeakPassword(PasswordProblem),
    /// Another account has this phone number.
    #[error("the phone number is already registered")]
    PhoneTaken,
    /// Too many registrations from this address in the last hour.
    #[error("too many registrations from this address; try again in an hour")]
    RateLimited,
    /// The SMS code is wrong, expired, used up or was never sent.
    #[error("the SMS code is wrong or has expired; ask for a new one")]
    InvalidCode,
    /// Storage failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Too many passwords are being checked; try again shortly.
    #[error("too many password checks at once; try again shortly")]
    Busy,
    /// The password hasher failed (a bug).
    #[error("password hashing failed: {0}")]
    Hashing(String),
}

impl From<PasswordError> for AccountError {
    fn from(e: PasswordError) -> AccountError {
        match e {
            PasswordError::Busy => AccountError::Busy,
            PasswordError::Hashing(e) => AccountError::Hashing(e),
        }
    }
}

/// Why a login was refused.
#[derive(Debug, thiserror::Error)]
pub enum LoginError {
    /// Unknown phone or wrong password; deliberately indistinguishable.
    #[error("wrong phone number or password")]
    InvalidCredentials,
    /// Too many failures; logins are refused until `until`.
    #[error("the account is locked after repeated failed logins")]
    Locked {
        /// When logins are accepted again.
        until: UnixMillis,
    },
    /// Too many passwords are being checked; try again shortly.
    #[error("too many password checks at once; try again shortly")]
    Busy,
    /// Storage failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Why a password could not be checked at all (as opposed to not matching).
#[derive(Debug, thiserror::Error)]
pub enum CheckError {
    /// Too many passwords are being checked; try again shortly.
    #[error("too many password checks at once; try again shortly")]
    Busy,
    /// Storage failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// How long counting windows are kept: a day.
const WINDOWS_KEPT_MS: i64 = 24 * 3_600_000;

/// Accounts and sessions.
pub struct AccountService {
    store: Arc<dyn AccountStore>,
    clock: Arc<dyn Clock>,
    policy: AccountPolicy,
    session_key: SessionKey,
    /// Argon2id under one cap and a bounded queue; an unknown phone is
    /// checked against its dummy hash.
    passwords: PasswordHasher,
    /// Seals the bodies of queued SMS (they carry codes).
    seal: BodySeal,
}

impl AccountService {
    /// Builds the service. `session_key` keys the hash under which session
    /// tokens and SMS codes are stored; `seal` encrypts queued SMS bodies.
    /// Computes one Argon2 hash (the dummy), so it takes a few tens of
    /// milliseconds.
    pub fn new(
        store: Arc<dyn AccountStore>,
        clock: Arc<dyn Clock>,
        policy: AccountPolicy,
        session_key: [u8; 32],
        seal: BodySeal,
    ) -> Result<AccountService, AccountError> {
        let passwords = PasswordHasher::new(policy.hashing, HashingLimits::default())?;
        Ok(AccountService {
            store,
            clock,
            policy,
            session_key: SessionKey::new(session_key),
            passwords,
            seal,
        })
    }

    /// The policy in force.
    pub fn policy(&self) -> &AccountPolicy {
        &self.policy
    }

    /// Creates an account; returns its id.
    pub async fn register(&self, registration: Registration) -> Result<i64, AccountError> {
        check_password(&registration.password, registration.phone.as_str())
            .map_err(AccountError::WeakPassword)?;
        let password_hash = self.passwords.hash(&registration.password).await?;
        let new = NewAccount {
            phone: registration.phone,
            password_hash,
            role: registration.role,
            created_at: self.clock.now(),
        };
        match self.store.insert_account(&new).await {
            Ok(id) => Ok(id),
            Err(StoreError::Conflict(_)) => Err(AccountError::PhoneTaken),
            Err(e) => Err(e.into()),
        }
    }

    /// Sends a registration code to `phone`, asked for from `ip`; each
    /// request counts against the hourly limits per address and per
    /// number first. The answer is the same whether or not the number has
    /// an account: if it has, the SMS says so instead of carrying a code.
    pub async fn send_registration_code(
        &self,
        phone: &Phone,
        ip: &str,
    ) -> Result<(), AccountError> {
        let now = self.clock.now();
        let limits = &self.policy.hourly;
        self.within_hour("code_ip", ip, limits.codes_per_ip).await?;
        self.within_hour("code_phone", phone.as_str(), limits.codes_per_phone)
            .await?;
        let sign = &self.policy.sms_signature;
        if self.store.account_by_phone(phone).await?.is_some() {
            let notice = self.sms(
                phone,
                format!(
                    "【{sign}】有人用本手机号申请注册。该号码已注册，请直接登录；如非本人操作，请忽略本短信。"
                ),
            );
            return Ok(self.store.queue_messages(&[notice], now).await?);
        }
        let code = shucang_auth::six_digit_code();
        let minutes = CODE_VALID_MS / 60_000;
        let message = self.sms(
            phone,
            format!("【{sign}】您的注册验证码是 {code}，{minutes} 分钟内有效。请勿告诉他人。"),
        );
        let new = NewPhoneCode {
            phone: phone.clone(),
            purpose: CodePurpose::Registration,
            code_hash: self.code_hash(phone, CodePurpose::Registration, &code),
            expires_at: now.plus_ms(CODE_VALID_MS),
            created_at: now,
        };
        Ok(self.store.issue_phone_code(&new, &message).await?)
    }

    /// A stranger's self-registration from `ip` with the SMS code sent to
    /// the number: counted against the hourly limit per address (in one
    /// atomic statement, before any hashing); the code's attempt is spent
    /// before it is compared; the account is made and the code used up in
    /// one transaction. Staff accounts and the demo seeding use
    /// [`AccountService::register`].
    pub async fn register_with_code(
        &self,
        registration: Registration,
        code: &str,
        ip: &str,
    ) -> Result<i64, AccountError> {
        check_password(&registration.password, registration.phone.as_str())
            .map_err(AccountError::WeakPassword)?;
        let limit = self.policy.hourly.registrations_per_ip;
        self.within_hour("register_ip", ip, limit).await?;
        let now = self.clock.now();
        let phone = &registration.phone;
        let purpose = CodePurpose::Registration;
        let Some(stored) = self
            .store
            .spend_phone_code_attempt(phone, purpose, CODE_ATTEMPTS_MAX, now)
            .await?
        else {
            return Err(AccountError::InvalidCode);
        };
        let given = self.code_hash(phone, purpose, code.trim());
        if !shucang_auth::hashes_equal(&stored, &given) {
            return Err(AccountError::InvalidCode);
        }
        let new = NewAccount {
            phone: registration.phone.clone(),
            password_hash: self.passwords.hash(&registration.password).await?,
            role: Role::Collector,
            created_at: now,
        };
        match self.store.insert_account_with_code(&new, &stored).await {
            Ok(Some(id)) => Ok(id),
            Ok(None) => Err(AccountError::InvalidCode),
            Err(StoreError::Conflict(_)) => Err(AccountError::PhoneTaken),
            Err(e) => Err(e.into()),
        }
    }

    /// Counts one request of `scope` by `subject` in the current hour, or
    /// [`AccountError::RateLimited`] once `max` were made.
    async fn within_hour(
        &self,
        scope: &'static str,
        subject: &str,
        max: u32,
    ) -> Result<(), AccountError> {
        match self.admit_hourly(scope, subject.to_owned(), max).await? {
            true => Ok(()),
            false => Err(AccountError::RateLimited),
        }
    }

    /// An SMS to `phone`, its body sealed for the outbox.
    fn sms(&self, phone: &Phone, body: String) -> NewMessage {
        self.seal.seal(NewMessage {
            channel: Channel::Sms,
            recipient: phone.as_str().to_owned(),
            subject: String::new(),
            body,
        })
    }

    /// The keyed hash a code is stored as, bound to its number and purpose.
    fn code_hash(&self, phone: &Phone, purpose: CodePurpose, code: &str) -> String {
        let text = format!("sms-code:{}:{phone}:{code}", purpose.code());
        self.session_key.keyed_hash(text.as_bytes())
    }

    /// Counts one attempt of `scope` by `subject` in the current hour:
    /// `false` (nothing counted) once `max` were made. For limits on what
    /// an account can try (gift attempts, which look recipients up).
    pub async fn admit_hourly(
        &self,
        scope: &'static str,
        subject: String,
        max: u32,
    ) -> Result<bool, StoreError> {
        let event = WindowedEvent::hourly(scope, subject, self.clock.now(), max);
        self.store.count_in_window(&event).await
    }

    /// Checks a phone number and password and opens a session.
    pub async fn login(&self, phone: &str, password: &str) -> Result<NewSession, LoginError> {
        let record = match Phone::parse(phone) {
            Ok(phone) => self.store.account_by_phone(&phone).await?,
            Err(_) => None,
        };
        let now = self.clock.now();
        let decision = self
            .decide::<LoginError>(record.as_ref(), password, now)
            .await?;
        let (Some(record), Ok(())) = (record, decision) else {
            return Err(match decision {
                Err(Refusal::Locked { until }) => LoginError::Locked { until },
                _ => LoginError::InvalidCredentials,
            });
        };
        let token = SessionToken::generate();
        let session = SessionRecord {
            token_hash: self.session_key.token_hash(&token),
            account_id: record.id,
            created_at: now,
            last_seen_at: now,
        };
        self.store.insert_session(&session).await?;
        Ok(NewSession {
            token,
            account: record.into(),
        })
    }

    /// The account behind a bearer token, if the session exists and has not
    /// been idle too long. Using a session keeps it alive.
    pub async fn authenticate(&self, token: &SessionToken) -> Result<Option<Account>, StoreError> {
        if !token.is_plausible() {
            return Ok(None);
        }
        let token_hash = self.session_key.token_hash(token);
        let Some(session) = self.store.session_by_token_hash(&token_hash).await? else {
            return Ok(None);
        };
        let now = self.clock.now();
        let idle_ms = now.ms_since(session.last_seen_at);
        if idle_ms >= self.policy.session_idle_ms {
            self.store.delete_session(&token_hash).await?;
            return Ok(None);
        }
        if idle_ms >= SESSION_TOUCH_INTERVAL_MS {
            self.store.touch_session(&token_hash, now).await?;
        }
        Ok(self
            .store
            .account_by_id(session.account_id)
            .await?
            .map(Account::from))
    }

    /// Confirms the signed-in account's password before a sensitive step
    /// (a gift). It counts with the login failures and obeys the same
    /// lock: a wrong password is a failure, five lock the account, and a
    /// locked account is refused even the right password.
    pub async fn confirm_password(
        &self,
        account_id: i64,
        password: &str,
    ) -> Result<Result<(), Refusal>, CheckError> {
        let record = self.store.account_by_id(account_id).await?;
        self.decide(record.as_ref(), password, self.clock.now())
            .await
    }

    /// The login decision ([`PasswordHasher::decide_login`]) for `record`
    /// (`None`: no such account) under this service's lockout policy, with
    /// this store counting failures and admitting atomically.
    async fn decide<E: From<Busy> + From<StoreError>>(
        &self,
        record: Option<&AccountRecord>,
        password: &str,
        now: UnixMillis,
    ) -> Result<Result<(), Refusal>, E> {
        let stored = record.map(|r| StoredLogin::new(r.id, &r.password_hash, r.locked_until));
        self.passwords
            .decide_login::<E>(
                stored,
                password,
                &self.policy.lockout,
                now,
                async |id, failure| Ok(self.store.record_login_failure(id, &failure).await?),
                async |id| Ok(self.store.admit_login(id, now).await?),
            )
            .await
    }

    /// The account with this phone number.
    pub async fn account_by_phone(&self, phone: &Phone) -> Result<Option<Account>, StoreError> {
        Ok(self.store.account_by_phone(phone).await?.map(Account::from))
    }

    /// Ends a session; returns whether it existed.
    pub async fn logout(&self, token: &SessionToken) -> Result<bool, StoreError> {
        self.store
            .delete_session(&self.session_key.token_hash(token))
            .await
    }

    /// Deletes sessions that have been idle too long; returns how many.
    pub async fn purge_idle_sessions(&self) -> Result<u64, StoreError> {
        let now = self.clock.now();
        // Counting windows (hourly) are of no use after a day.
        self.store
            .purge_windows(now.plus_ms(-WINDOWS_KEPT_MS))
            .await?;
        self.store.delete_expired_phone_codes(now).await?;
        let cutoff = now.plus_ms(-self.policy.session_idle_ms);
        self.store.delete_idle_sessions(cutoff).await
    }
}

impl From<Busy> for LoginError {
    fn from(_: Busy) -> LoginError {
        LoginError::Busy
    }
}

impl From<Busy> for CheckError {
    fn from(_: Busy) -> CheckError {
        CheckError::Busy
    }
}
