//! Real-name verification (实名认证, PRODUCT.md §5.1) and the custodial
//! wallet each verified account gets.
//!
//! Rules kept here: consent to the separate ID-number notice is recorded
//! (version, time, address) before the number is used; the number is
//! validated (by its type), checked by a [`IdentityVerifier`], encrypted at
//! rest and found only by keyed hash; one ID number backs one account; the
//! account's chain key is generated now and stored encrypted.

use std::sync::Arc;

use async_trait::async_trait;
use rand::RngCore;
use rand::rngs::OsRng;
use shucang_chain::{Address, SigningKey};
use shucang_types::{Clock, IdNumber, UnixMillis, WindowedEvent};
use shucang_verify::Suite;

use crate::store::{IdentityRecord, IdentityStore, StoreError};
use shucang_auth::{PiiCipher, PiiError};

/// The version of the ID-number consent text shown to users.
pub const CONSENT_VERSION: &str = "2026-11-v1";
/// Longest real name, in characters.
const NAME_CHARS_MAX: usize = 40;

/// A real name: 2–40 characters of Chinese characters, letters, spaces and
/// the middle dot used in transliterated names.
#[derive(Clone, PartialEq, Eq)]
pub struct RealName(String);

/// Why a name is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("a real name is 2 to 40 Chinese characters or letters (spaces and · allowed)")]
pub struct RealNameError;

impl RealName {
    /// Parses a name.
    pub fn parse(s: &str) -> Result<RealName, RealNameError> {
        let s = s.trim();
        let n = s.chars().count();
        let ok = (2..=NAME_CHARS_MAX).contains(&n)
            && s.chars().all(|c| {
                matches!(c, '\u{4e00}'..='\u{9fff}' | '\u{3400}'..='\u{4dbf}' | '·' | ' ')
                    || c.is_ascii_alphabetic()
            });
        if ok {
            Ok(RealName(s.to_owned()))
        } else {
            Err(RealNameError)
        }
    }

    /// The name with all but its first character hidden: `张**`.
    pub fn masked(&self) -> String {
        let mut chars = self.0.chars();
        let first = chars.next().unwrap_or('*');
        format!("{first}{}", "*".repeat(chars.count()))
    }
}

impl std::fmt::Debug for RealName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "RealName({})", self.masked())
    }
}

/// What an identity provider says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Name and number belong together.
    Match,
    /// They do not.
    Mismatch,
}

/// The provider could not be asked.
#[derive(Debug, Clone, thiserror::Error)]
#[error("identity provider unavailable: {0}")]
pub struct VerifierUnavailable(pub String);

/// Checks a name against an ID number (公安二要素 through a provider).
#[async_trait]
pub trait IdentityVerifier: Send + Sync + 'static {
    /// Asks the provider.
    async fn verify(&self, name: &RealName, id: &IdNumber) -> Result<Verdict, VerifierUnavailable>;
}

/// The sandbox provider: accepts every valid number with any valid name.
#[derive(Debug, Default)]
pub struct SandboxVerifier;

#[async_trait]
impl IdentityVerifier for SandboxVerifier {
    async fn verify(&self, _: &RealName, _: &IdNumber) -> Result<Verdict, VerifierUnavailable> {
        Ok(Verdict::Match)
    }
}

/// Consent given to the ID-number notice.
#[derive(Debug, Clone)]
pub struct Consent {
    /// Whether the user ticked the consent box.
    pub given: bool,
    /// The client's address.
    pub ip: String,
}

/// A verified identity as the owner sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdentityView {
    /// `110105********002X`.
    pub masked_id: String,
    /// `张**`.
    pub masked_name: String,
    /// 18 or older today.
    pub adult: bool,
    /// The custodial chain address.
    pub address: Address,
    /// When it was verified.
    pub verified_at: UnixMillis,
}

/// Why verification failed.
#[derive(Debug, thiserror::Error)]
pub enum IdentityError {
    /// Consent to the ID-number notice is missing.
    #[error("consent to the collection of the ID number is required")]
    ConsentRequired,
    /// The account is already verified.
    #[error("this account is already real-name verified")]
    AlreadyVerified,
    /// The ID number backs another account.
    #[error("this ID number is already verified for another account")]
    IdentityInUse,
    /// Too many verification attempts by this account in the last hour.
    #[error("too many real-name attempts; try again in an hour")]
    RateLimited,
    /// The provider says name and number do not match.
    #[error("the name does not match the ID number")]
    Mismatch,
    /// The provider is unavailable.
    #[error(transparent)]
    Unavailable(#[from] VerifierUnavailable),
    /// Stored personal data does not decrypt.
    #[error(transparent)]
    Pii(#[from] PiiError),
    /// Storage failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Real-name verification attempts one account may make per hour.
pub const IDENTITY_ATTEMPTS_PER_HOUR: u32 = 5;

/// Real-name verification and custodial wallets.
pub struct IdentityService {
    store: Arc<dyn IdentityStore>,
    clock: Arc<dyn Clock>,
    cipher: Arc<PiiCipher>,
    verifier: Arc<dyn IdentityVerifier>,
    suite: Suite,
}

fn id_context(account_id: i64) -> String {
    format!("identity.id_number:{account_id}")
}

fn name_context(account_id: i64) -> String {
    format!("identity.name:{account_id}")
}

fn wallet_context(account_id: i64) -> String {
    format!("wallet.secret:{account_id}")
}

const ID_LOOKUP_CONTEXT: &str = "identity.id_number";

impl IdentityService {
    /// Builds the service; wallets are keys of the chain's `suite`.
    pub fn new(
        store: Arc<dyn IdentityStore>,
        clock: Arc<dyn Clock>,
        cipher: Arc<PiiCipher>,
        verifier: Arc<dyn IdentityVerifier>,
        suite: Suite,
    ) -> IdentityService {
        IdentityService {
            store,
            clock,
            cipher,
            verifier,
            suite,
        }
    }

    /// Today in China, by the injected clock.
    pub fn today(&self) -> shucang_types::Date {
        self.clock.now().china_date()
    }

    /// Verifies an account's real name and creates its wallet.
    pub async fn verify(
        &self,
        account_id: i64,
        name: RealName,
        id: IdNumber,
        consent: Consent,
    ) -> Result<IdentityView, IdentityError> {
        if !consent.given {
            return Err(IdentityError::ConsentRequired);
        }
        if self.store.identity_by_account(account_id).await?.is_some() {
            return Err(IdentityError::AlreadyVerified);
        }
        // Each attempt asks the provider (a paid call) and may say an ID
        // number is in use: bounded per account.
        let attempt = WindowedEvent::hourly(
            "identity_attempt",
            account_id.to_string(),
            self.clock.now(),
            IDENTITY_ATTEMPTS_PER_HOUR,
        );
        if !self.store.count_attempt(&attempt).await? {
            return Err(IdentityError::RateLimited);
        }
        match self.verifier.verify(&name, &id).await? {
            Verdict::Match => {}
            Verdict::Mismatch => return Err(IdentityError::Mismatch),
        }
        let key = self.new_wallet_key();
        let mut secret = [0u8; 32];
        secret.copy_from_slice(&key.1);
        let public_key = key.0.public_key();
        let address = Address::of_public_key(self.suite, &public_key);
        let now = self.clock.now();
        let record = IdentityRecord {
            account_id,
            name_enc: self
                .cipher
                .encrypt(&name_context(account_id), name.0.as_bytes()),
            id_number_enc: self
                .cipher
                .encrypt(&id_context(account_id), id.expose().as_bytes()),
            id_number_hash: self.cipher.lookup_hash(ID_LOOKUP_CONTEXT, id.expose()),
            consent_version: CONSENT_VERSION.to_owned(),
            consent_at: now,
            consent_ip: consent.ip,
            verified_at: now,
            wallet_public_key: public_key,
            wallet_address: address.to_string(),
            wallet_secret_enc: self.cipher.encrypt(&wallet_context(account_id), &secret),
        };
        match self.store.insert_identity(&record).await {
            Ok(()) => {}
            Err(StoreError::Conflict("identities.id_number_hash")) => {
                return Err(IdentityError::IdentityInUse);
            }
            Err(StoreError::Conflict(_)) => return Err(IdentityError::AlreadyVerified),
            Err(e) => return Err(e.into()),
        }
        Ok(IdentityView {
            masked_id: id.masked(),
            masked_name: name.masked(),
            adult: id.is_adult_on(now.china_date()),
            address,
            verified_at: now,
        })
    }

    /// The account's verified identity, if any.
    pub async fn identity(&self, account_id: i64) -> Result<Option<IdentityView>, IdentityError> {
        let Some(r) = self.store.identity_by_account(account_id).await? else {
            return Ok(None);
        };
        self.view(&r).map(Some)
    }

    fn view(&self, r: &IdentityRecord) -> Result<IdentityView, IdentityError> {
        let id_text = self
            .cipher
            .decrypt(&id_context(r.account_id), &r.id_number_enc)?;
        let name_text = self
            .cipher
            .decrypt(&name_context(r.account_id), &r.name_enc)?;
        let today = self.today();
        let id = std::str::from_utf8(&id_text)
            .ok()
            .and_then(|s| IdNumber::parse(s, today).ok())
            .ok_or(PiiError)?;
        let name = std::str::from_utf8(&name_text)
            .ok()
            .and_then(|s| RealName::parse(s).ok())
            .ok_or(PiiError)?;
        let address = Address::parse(&r.wallet_address).map_err(|_| PiiError)?;
        Ok(IdentityView {
            masked_id: id.masked(),
            masked_name: name.masked(),
            adult: id.is_adult_on(today),
            address,
            verified_at: r.verified_at,
        })
    }

    /// The account behind a wallet address and its identity, if any.
    pub async fn by_address(
        &self,
        address: &Address,
    ) -> Result<Option<(i64, IdentityView)>, IdentityError> {
        let Some(r) = self.store.identity_by_address(&address.to_string()).await? else {
            return Ok(None);
        };
        let view = self.view(&r)?;
        Ok(Some((r.account_id, view)))
    }

    /// The account's wallet signing key (to sign its transfers).
    pub async fn wallet_key(&self, account_id: i64) -> Result<Option<SigningKey>, IdentityError> {
        let Some(r) = self.store.identity_by_account(account_id).await? else {
            return Ok(None);
        };
        let secret = self
            .cipher
            .decrypt(&wallet_context(account_id), &r.wallet_secret_enc)?;
        let secret: [u8; 32] = secret.try_into().map_err(|_| PiiError)?;
        let key = SigningKey::from_secret(self.suite, &secret).map_err(|_| PiiError)?;
        if key.public_key() != r.wallet_public_key {
            return Err(PiiError.into());
        }
        Ok(Some(key))
    }

    fn new_wallet_key(&self) -> (SigningKey, [u8; 32]) {
        loop {
            let mut secret = [0u8; 32];
            OsRng.fill_bytes(&mut secret);
            // For SM2 a random 256-bit string is a valid scalar except with
            // negligible probability; draw again in that case.
            if let Ok(key) = SigningKey::from_secret(self.suite, &secret) {
                return (key, secret);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert!(RealName::parse("张三").is_ok());
        assert!(RealName::parse("阿依古丽·买买提").is_ok());
        assert!(RealName::parse("John Smith").is_ok());
        assert_eq!(RealName::parse("张三丰").unwrap().masked(), "张**");
        for bad in ["张", "", "张3", "<script>", &"张".repeat(41)] {
            assert!(RealName::parse(bad).is_err(), "{bad}");
        }
    }
}
