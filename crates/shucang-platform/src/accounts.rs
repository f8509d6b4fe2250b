//! Accounts and sessions (PRODUCT.md §5.1, without real-name verification).
//!
//! Rules kept here:
//! - passwords follow [`shucang_types::check_password`] and are stored as
//!   Argon2id PHC strings;
//! - a wrong phone and a wrong password give the same answer, and cost the
//!   same (an unknown phone is checked against a dummy hash);
//! - `login_failures_max` consecutive failures lock the account for
//!   `lockout_ms`, during which even the right password is refused;
//! - sessions live on the server (revocable); the bearer token is 256 random
//!   bits, and only its HMAC under the session key is stored;
//! - a session unused for `session_idle_ms` is gone.

use std::sync::Arc;

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use rand::RngCore;
use rand::rngs::OsRng;
use sha2::Sha256;
use shucang_types::{Clock, PasswordProblem, Phone, Role, UnixMillis, check_password};
use tokio::sync::Semaphore;

use crate::store::{AccountRecord, AccountStore, NewAccount, SessionRecord, StoreError};

/// How often, at most, a session's last-use time is written back. Bounds the
/// writes caused by authenticated reads; a session may therefore expire up to
/// this much earlier than `session_idle_ms` after its very last use.
pub const SESSION_TOUCH_INTERVAL_MS: i64 = 60_000;

/// Password hashes computed at once, at most. Each Argon2id run holds
/// `argon2_memory_kib` of memory (19 MiB by default), so without this bound a
/// burst of logins could take the process's memory.
pub const PASSWORD_HASHING_CONCURRENCY_MAX: usize = 4;

/// Longest bearer token we look at; real ones are 43 characters.
const SESSION_TOKEN_LEN_MAX: usize = 128;

/// The tunable rules for accounts and sessions.
#[derive(Debug, Clone)]
pub struct AccountPolicy {
    /// A session unused this long is expired.
    pub session_idle_ms: i64,
    /// Consecutive failed logins that lock the account.
    pub login_failures_max: u32,
    /// How long a lock lasts.
    pub lockout_ms: i64,
    /// Argon2id memory cost in KiB.
    pub argon2_memory_kib: u32,
    /// Argon2id iterations.
    pub argon2_iterations: u32,
}

impl Default for AccountPolicy {
    /// PRODUCT.md §5.1 defaults; Argon2id at the OWASP-recommended
    /// 19 MiB, 2 iterations.
    fn default() -> AccountPolicy {
        AccountPolicy {
            session_idle_ms: 30 * 60_000,
            login_failures_max: 5,
            lockout_ms: 30 * 60_000,
            argon2_memory_kib: 19 * 1024,
            argon2_iterations: 2,
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

/// A bearer token. Its `Debug` output hides it.
#[derive(Clone, PartialEq, Eq)]
pub struct SessionToken(String);

impl SessionToken {
    /// Wraps a token received from a client.
    pub fn from_client(token: &str) -> SessionToken {
        SessionToken(token.to_owned())
    }

    /// The token as sent to the client.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for SessionToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SessionToken(…)")
    }
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
    /// Storage failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The password hasher failed (a bug).
    #[error("password hashing failed: {0}")]
    Hashing(String),
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
    /// Storage failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Accounts and sessions.
pub struct AccountService {
    store: Arc<dyn AccountStore>,
    clock: Arc<dyn Clock>,
    policy: AccountPolicy,
    session_key: [u8; 32],
    hasher: Argon2<'static>,
    /// Bounds concurrent hashing to [`PASSWORD_HASHING_CONCURRENCY_MAX`].
    hashing: Arc<Semaphore>,
    /// A valid hash of a random password, verified against when the phone is
    /// unknown so that both failures take the same time.
    dummy_hash: String,
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
        let params = Params::new(policy.argon2_memory_kib, policy.argon2_iterations, 1, None)
            .map_err(|e| AccountError::Hashing(e.to_string()))?;
        let hasher = Argon2::new(Algorithm::Argon2id, Version::V0x13, params);
        let mut random = [0u8; 16];
        OsRng.fill_bytes(&mut random);
        let dummy_hash = hash_password(&hasher, &hex::encode(random))?;
        Ok(AccountService {
            store,
            clock,
            policy,
            session_key,
            hasher,
            hashing: Arc::new(Semaphore::new(PASSWORD_HASHING_CONCURRENCY_MAX)),
            dummy_hash,
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
        let hasher = self.hasher.clone();
        let password = registration.password;
        let permit = self.hashing.clone().acquire_owned().await;
        let password_hash = tokio::task::spawn_blocking(move || {
            let _permit = permit;
            hash_password(&hasher, &password)
        })
        .await
        .map_err(|e| AccountError::Hashing(e.to_string()))??;
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

    /// Checks a phone number and password and opens a session.
    pub async fn login(&self, phone: &str, password: &str) -> Result<NewSession, LoginError> {
        let record = match Phone::parse(phone) {
            Ok(phone) => self.store.account_by_phone(&phone).await?,
            Err(_) => None,
        };
        let now = self.clock.now();
        if let Some(until) = record.as_ref().and_then(|r| r.locked_until)
            && until > now
        {
            return Err(LoginError::Locked { until });
        }
        let hash = match &record {
            Some(r) => r.password_hash.clone(),
            None => self.dummy_hash.clone(),
        };
        let valid = self.verify(hash, password).await;
        let Some(record) = record else {
            return Err(LoginError::InvalidCredentials);
        };
        if !valid {
            let lock_until = now.plus_ms(self.policy.lockout_ms);
            let locked = self
                .store
                .record_login_failure(record.id, self.policy.login_failures_max, lock_until)
                .await?;
            return Err(match locked {
                Some(until) => {
                    tracing::warn!(account_id = record.id, "account locked after failed logins");
                    LoginError::Locked { until }
                }
                None => LoginError::InvalidCredentials,
            });
        }
        if record.failed_logins > 0 || record.locked_until.is_some() {
            self.store.clear_login_failures(record.id).await?;
        }
        let token = new_token();
        let session = SessionRecord {
            token_hash: self.token_hash(&token),
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
        if token.0.is_empty() || token.0.len() > SESSION_TOKEN_LEN_MAX {
            return Ok(None);
        }
        let token_hash = self.token_hash(token);
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

    /// Whether `password` is the account's (a confirmation for sensitive
    /// actions such as gifting). Takes as long as a login check.
    pub async fn confirm_password(
        &self,
        account_id: i64,
        password: &str,
    ) -> Result<bool, StoreError> {
        let hash = match self.store.account_by_id(account_id).await? {
            Some(r) => r.password_hash,
            None => self.dummy_hash.clone(),
        };
        Ok(self.verify(hash, password).await)
    }

    /// The account with this phone number.
    pub async fn account_by_phone(&self, phone: &Phone) -> Result<Option<Account>, StoreError> {
        Ok(self.store.account_by_phone(phone).await?.map(Account::from))
    }

    /// Ends a session; returns whether it existed.
    pub async fn logout(&self, token: &SessionToken) -> Result<bool, StoreError> {
        self.store.delete_session(&self.token_hash(token)).await
    }

    /// Deletes sessions that have been idle too long; returns how many.
    pub async fn purge_idle_sessions(&self) -> Result<u64, StoreError> {
        let cutoff = self.clock.now().plus_ms(-self.policy.session_idle_ms);
        self.store.delete_idle_sessions(cutoff).await
    }

    fn token_hash(&self, token: &SessionToken) -> String {
        // HMAC accepts keys of any length; 32 bytes can never be refused.
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&self.session_key)
            .expect("HMAC takes a key of any length");
        mac.update(token.0.as_bytes());
        hex::encode(mac.finalize().into_bytes())
    }

    async fn verify(&self, hash: String, password: &str) -> bool {
        let hasher = self.hasher.clone();
        let password = password.to_owned();
        let permit = self.hashing.clone().acquire_owned().await;
        tokio::task::spawn_blocking(move || {
            let _permit = permit;
            PasswordHash::new(&hash)
                .map(|parsed| hasher.verify_password(password.as_bytes(), &parsed).is_ok())
                .unwrap_or(false)
        })
        .await
        .unwrap_or(false)
    }
}

fn hash_password(hasher: &Argon2<'_>, password: &str) -> Result<String, AccountError> {
    let salt = SaltString::generate(&mut OsRng);
    hasher
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| AccountError::Hashing(e.to_string()))
}

fn new_token() -> SessionToken {
    let mut bytes = [0u8; 32];
    OsRng.fill_bytes(&mut bytes);
    SessionToken(URL_SAFE_NO_PAD.encode(bytes))
}
