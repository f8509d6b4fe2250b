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
//! - a session unused for `session_idle_ms` is gone.

use std::sync::Arc;

use shucang_auth::{
    Busy, HashingLimits, PasswordError, PasswordHasher, Refusal, SessionKey, StoredLogin,
};
pub use shucang_auth::{HashingParams, LockoutPolicy, SessionToken};
use shucang_types::{
    Clock, PasswordProblem, Phone, Role, UnixMillis, WindowedEvent, check_password,
};

use crate::store::{AccountRecord, AccountStore, NewAccount, SessionRecord, StoreError};

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
    /// Self-registrations from one address per hour.
    pub registrations_per_ip_per_hour: u32,
}

impl Default for AccountPolicy {
    /// PRODUCT.md §5.1 defaults (30 minutes idle; 5 failures lock for 30
    /// minutes); Argon2id at the OWASP-recommended 19 MiB, 2 iterations.
    fn default() -> AccountPolicy {
        AccountPolicy {
            session_idle_ms: 30 * 60_000,
            lockout: LockoutPolicy::default(),
            hashing: HashingParams::default(),
            registrations_per_ip_per_hour: 10,
        }
    }
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
}

impl AccountService {
    /// Builds the service. `session_key` keys the hash under which session
    /// tokens are stored. Computes one Argon2 hash (the dummy), so it takes a
    /// few tens of milliseconds.
    pub fn new(
        store: Arc<dyn AccountStore>,
        clock: Arc<dyn Clock>,
        policy: AccountPolicy,
        session_key: [u8; 32],
    ) -> Result<AccountService, AccountError> {
        let passwords = PasswordHasher::new(policy.hashing, HashingLimits::default())?;
        Ok(AccountService {
            store,
            clock,
            policy,
            session_key: SessionKey::new(session_key),
            passwords,
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

    /// A stranger's self-registration from `ip`: counted against the
    /// hourly limit per address (in one atomic statement, before any
    /// hashing), then [`AccountService::register`]. Staff accounts and the
    /// demo seeding register directly.
    pub async fn register_from(
        &self,
        registration: Registration,
        ip: &str,
    ) -> Result<i64, AccountError> {
        check_password(&registration.password, registration.phone.as_str())
            .map_err(AccountError::WeakPassword)?;
        let event = WindowedEvent::hourly(
            "register_ip",
            ip.to_owned(),
            self.clock.now(),
            self.policy.registrations_per_ip_per_hour,
        );
        if !self.store.count_in_window(&event).await? {
            return Err(AccountError::RateLimited);
        }
        self.register(registration).await
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
