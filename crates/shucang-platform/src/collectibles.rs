//! A holder's collection, the collectible with its chain evidence, and
//! gifting (转赠) under the holding-period rules (PRODUCT.md §5.5–5.6).
//!
//! There is no secondary market: no listing, offer, auction or consignment
//! exists, and [`trading_allowed`] says so. Gifts carry no price anywhere.

use std::sync::Arc;

use rand::RngCore;
use rand::rngs::OsRng;
use shucang_chain::{Address, Chain, CollectionId, Operation, SubmitError, Transaction, TxRecord};
use shucang_types::{Clock, Phone, UnixMillis};

use shucang_auth::Refusal;

use crate::accounts::{AccountService, CheckError};
use crate::identity::{IdentityError, IdentityService};
use crate::store::{GiftRecord, GiftStore, StoreError, WorkRecord, WorkStore};

/// A trading feature: none exists in this version.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TradingFeature {
    /// Listing a collectible for sale.
    Listing,
    /// Offers between users.
    Offer,
    /// Auctions.
    Auction,
    /// Consignment sale (寄售).
    Consignment,
}

/// The compliance gate for trading: secondary trading needs an exchange
/// approval and auctions an auction licence, which the compliance centre
/// does not record in this version — so every trading feature is refused.
/// No endpoint for any of them exists.
pub fn trading_allowed(_feature: TradingFeature) -> bool {
    false
}

/// Holding periods and the daily limit for gifts.
#[derive(Debug, Clone)]
pub struct GiftPolicy {
    /// After buying, before a token may be gifted.
    pub after_purchase_ms: i64,
    /// After receiving a gift, before gifting it on.
    pub after_gift_ms: i64,
    /// Gifts one account may make per day (China time).
    pub daily_limit: u32,
}

const DAY_MS: i64 = 86_400_000;

impl Default for GiftPolicy {
    /// 180 days after purchase, 720 days after a gift, 3 gifts a day.
    fn default() -> GiftPolicy {
        GiftPolicy {
            after_purchase_ms: 180 * DAY_MS,
            after_gift_ms: 720 * DAY_MS,
            daily_limit: 3,
        }
    }
}

/// One event in a token's life.
#[derive(Debug, Clone)]
pub struct HistoryEntry {
    /// `mint`, `gift`, `freeze`, `unfreeze` or `burn`.
    pub kind: &'static str,
    /// The chain transaction.
    pub tx: TxRecord,
    /// The owner before (gifts).
    pub from: Option<Address>,
    /// The owner after (mints and gifts).
    pub to: Option<Address>,
}

/// A collectible: the work, the edition and its chain evidence.
#[derive(Debug, Clone)]
pub struct Collectible {
    /// The work.
    pub work: WorkRecord,
    /// The collection on chain.
    pub collection: CollectionId,
    /// The collection's contract-style address.
    pub collection_address: Address,
    /// The token id.
    pub token_id: u64,
    /// Edition number.
    pub edition: u64,
    /// Editions of the work.
    pub edition_size: u64,
    /// The owner's address.
    pub owner: Address,
    /// The owner's masked real name (`张*`), if the owner is a user here.
    pub owner_name: Option<String>,
    /// The freeze reason code while frozen.
    pub frozen: Option<u16>,
    /// Burned.
    pub burned: bool,
    /// Every event, oldest first (the first is the mint).
    pub history: Vec<HistoryEntry>,
}

/// Who receives a gift.
#[derive(Debug, Clone)]
pub enum Recipient {
    /// A registered phone number.
    Phone(Phone),
    /// A chain address of a user here.
    Address(Address),
}

/// A completed gift.
#[derive(Debug, Clone)]
pub struct GiftReceipt {
    /// The transfer's hash.
    pub tx_hash: [u8; 32],
    /// Its block.
    pub height: u64,
    /// The recipient's address.
    pub to: Address,
}

/// Gift attempts one account may make per hour (each checks its password
/// and looks a recipient up).
pub const GIFT_ATTEMPTS_PER_HOUR: u32 = 20;

/// Why a collectible could not be shown or gifted.
#[derive(Debug, thiserror::Error)]
pub enum CollectibleError {
    /// No such collectible here, or (gifting) not the caller's.
    #[error("no such collectible")]
    NotFound,
    /// The confirmation password is wrong.
    #[error("wrong password")]
    WrongPassword,
    /// Too many gift attempts from this account in the last hour.
    #[error("too many gift attempts; try again in an hour")]
    RateLimited,
    /// Wrong confirmations and logins together locked the account.
    #[error("the account is locked after failed password attempts until {}", until.to_rfc3339_utc())]
    AccountLocked {
        /// When the lock ends.
        until: UnixMillis,
    },
    /// Too many passwords are being checked to confirm this one now.
    #[error("too many password checks at once; try again shortly")]
    Busy,
    /// The recipient is not a registered user.
    #[error("the recipient is not registered")]
    RecipientNotFound,
    /// The recipient is not real-name verified.
    #[error("the recipient is not real-name verified")]
    RecipientNotVerified,
    /// The recipient is under 18.
    #[error("the recipient is under 18")]
    RecipientMinor,
    /// Gifting to oneself.
    #[error("a gift needs another recipient")]
    SelfGift,
    /// The token is frozen.
    #[error("the collectible is frozen")]
    Frozen,
    /// Inside the holding period; the time when it ends.
    #[error("the holding period ends at {}", .0.to_rfc3339_utc())]
    HoldingPeriod(UnixMillis),
    /// The daily gift limit is reached.
    #[error("the daily gift limit is reached")]
    DailyLimit,
    /// The gifter is not real-name verified (no wallet).
    #[error("real-name verification is required")]
    IdentityRequired,
    /// The chain refused or is unavailable.
    #[error("the chain refused the transfer: {0}")]
    Chain(String),
    /// Identity data could not be read.
    #[error(transparent)]
    Identity(#[from] IdentityError),
    /// Storage failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// What a [`CollectiblesService`] is built from.
pub struct CollectiblesDeps {
    /// Works, as stored.
    pub works: Arc<dyn WorkStore>,
    /// Gifts, as stored.
    pub gifts: Arc<dyn GiftStore>,
    /// Accounts.
    pub accounts: Arc<AccountService>,
    /// Real-name identities and wallets.
    pub identity: Arc<IdentityService>,
    /// The embedded chain.
    pub chain: Arc<Chain>,
    /// The clock.
    pub clock: Arc<dyn Clock>,
    /// The gift rules.
    pub policy: GiftPolicy,
}

/// Collections and gifts.
pub struct CollectiblesService {
    deps: CollectiblesDeps,
}

fn work_id_of(collection: &CollectionId) -> Option<i64> {
    collection.as_str().strip_prefix("work-")?.parse().ok()
}

fn chain_err(e: impl std::fmt::Display) -> CollectibleError {
    CollectibleError::Chain(e.to_string())
}

impl CollectiblesService {
    /// Builds the service.
    pub fn new(deps: CollectiblesDeps) -> CollectiblesService {
        CollectiblesService { deps }
    }

    /// The gift rules in force.
    pub fn policy(&self) -> &GiftPolicy {
        &self.deps.policy
    }

    /// What the account holds: (collection, token id) pairs.
    pub async fn holdings(&self, account_id: i64) -> Result<Vec<Collectible>, CollectibleError> {
        let Some(identity) = self.deps.identity.identity(account_id).await? else {
            return Ok(Vec::new());
        };
        let held = match self
            .deps
            .chain
            .address(&identity.address, 0, usize::MAX)
            .map_err(chain_err)?
        {
            Some(page) => page.holdings,
            None => Vec::new(),
        };
        let mut out = Vec::with_capacity(held.len());
        for (collection, token_id) in held {
            if let Some(c) = self.collectible(&collection, token_id).await? {
                out.push(c);
            }
        }
        Ok(out)
    }

    /// A collectible with its full history, if it is a token of a work here.
    pub async fn collectible(
        &self,
        collection: &CollectionId,
        token_id: u64,
    ) -> Result<Option<Collectible>, CollectibleError> {
        let Some(work_id) = work_id_of(collection) else {
            return Ok(None);
        };
        let Some(work) = self.deps.works.work_by_id(work_id).await? else {
            return Ok(None);
        };
        let Some((token, txs)) = self
            .deps
            .chain
            .token(collection, token_id)
            .map_err(chain_err)?
        else {
            return Ok(None);
        };
        let suite = self.deps.chain.genesis().suite;
        let history = txs
            .into_iter()
            .map(|tx| {
                let (kind, from, to) = match &tx.tx.tx.operation {
                    Operation::Mint { items, .. } => (
                        "mint",
                        None,
                        items
                            .iter()
                            .find(|i| i.token_id == token_id)
                            .map(|i| i.owner),
                    ),
                    Operation::Transfer { to, .. } => {
                        ("gift", Some(tx.tx.tx.signer_address()), Some(*to))
                    }
                    Operation::Freeze { .. } => ("freeze", None, None),
                    Operation::Unfreeze { .. } => ("unfreeze", None, None),
                    Operation::Burn { .. } => ("burn", None, None),
                    Operation::CreateCollection(_) => ("create_collection", None, None),
                };
                HistoryEntry { kind, tx, from, to }
            })
            .collect();
        let owner_name = self
            .deps
            .identity
            .by_address(&token.owner)
            .await?
            .map(|(_, v)| v.masked_name);
        Ok(Some(Collectible {
            edition_size: work.work.edition_size,
            work,
            collection_address: collection.address(suite),
            collection: collection.clone(),
            token_id,
            edition: token.edition,
            owner: token.owner,
            owner_name,
            frozen: token.frozen,
            burned: token.burned,
            history,
        }))
    }

    /// When the current holder may first gift this collectible.
    pub fn giftable_from(&self, c: &Collectible) -> UnixMillis {
        let acquired = c.history.iter().rev().find(|h| h.to == Some(c.owner));
        match acquired {
            Some(h) if h.kind == "gift" => {
                UnixMillis(h.tx.timestamp_ms as i64).plus_ms(self.deps.policy.after_gift_ms)
            }
            Some(h) => {
                UnixMillis(h.tx.timestamp_ms as i64).plus_ms(self.deps.policy.after_purchase_ms)
            }
            None => UnixMillis(i64::MAX),
        }
    }

    /// Gifts the caller's collectible, after every rule, with the caller's
    /// password as confirmation.
    pub async fn gift(
        &self,
        account_id: i64,
        collection: &CollectionId,
        token_id: u64,
        recipient: Recipient,
        password: &str,
    ) -> Result<GiftReceipt, CollectibleError> {
        let (identity, accounts) = (&self.deps.identity, &self.deps.accounts);
        let giver = identity
            .identity(account_id)
            .await?
            .ok_or(CollectibleError::NotFound)?;
        let c = self
            .collectible(collection, token_id)
            .await?
            .filter(|c| !c.burned && c.owner == giver.address)
            .ok_or(CollectibleError::NotFound)?;
        // Each attempt checks a password and looks a recipient up: bounded
        // per account, so gifting cannot be used to probe who is
        // registered.
        let subject = account_id.to_string();
        if !accounts
            .admit_hourly("gift_attempt", subject, GIFT_ATTEMPTS_PER_HOUR)
            .await?
        {
            return Err(CollectibleError::RateLimited);
        }
        match accounts.confirm_password(account_id, password).await {
            Ok(Ok(())) => {}
            Ok(Err(Refusal::InvalidCredentials)) => return Err(CollectibleError::WrongPassword),
            Ok(Err(Refusal::Locked { until })) => {
                return Err(CollectibleError::AccountLocked { until });
            }
            Err(CheckError::Busy) => return Err(CollectibleError::Busy),
            Err(CheckError::Store(e)) => return Err(e.into()),
        }
        let (to_account, to) = self.recipient(recipient).await?;
        if to_account == account_id {
            return Err(CollectibleError::SelfGift);
        }
        if c.frozen.is_some() {
            return Err(CollectibleError::Frozen);
        }
        let now = self.deps.clock.now();
        let from = self.giftable_from(&c);
        if now < from {
            return Err(CollectibleError::HoldingPeriod(from));
        }
        let key = identity
            .wallet_key(account_id)
            .await?
            .ok_or(CollectibleError::IdentityRequired)?;
        let tx = Transaction {
            suite: key.suite(),
            nonce: OsRng.next_u64(),
            signer: key.public_key(),
            operation: Operation::Transfer {
                collection: collection.clone(),
                token_id,
                to,
            },
        }
        .sign(&key);
        let tx_hash = tx.tx.hash();
        let today = now.china_date();
        let gift = GiftRecord {
            id: 0,
            from_account: account_id,
            to_account,
            collection: collection.as_str().to_owned(),
            token_id,
            tx_hash: hex::encode(tx_hash),
            day: i64::from(today.year) * 10_000
                + i64::from(today.month) * 100
                + i64::from(today.day),
            status: "pending".into(),
            created_at: now,
        };
        let gift_id = self
            .deps
            .gifts
            .insert_pending_gift(&gift, self.deps.policy.daily_limit)
            .await?
            .ok_or(CollectibleError::DailyLimit)?;
        match self.deps.chain.submit(tx).await {
            Ok(receipt) => {
                self.deps.gifts.finish_gift(gift_id, "done").await?;
                tracing::info!(gift_id, token_id, "gift recorded on chain");
                Ok(GiftReceipt {
                    tx_hash,
                    height: receipt.height,
                    to,
                })
            }
            Err(e) => {
                self.deps.gifts.finish_gift(gift_id, "failed").await?;
                Err(match e {
                    SubmitError::Rejected(shucang_chain::Rejection::TokenFrozen) => {
                        CollectibleError::Frozen
                    }
                    SubmitError::Rejected(shucang_chain::Rejection::NotOwner) => {
                        CollectibleError::NotFound
                    }
                    other => chain_err(other),
                })
            }
        }
    }

    async fn recipient(&self, recipient: Recipient) -> Result<(i64, Address), CollectibleError> {
        let (account_id, view) = match recipient {
            Recipient::Phone(phone) => {
                let account = self
                    .deps
                    .accounts
                    .account_by_phone(&phone)
                    .await?
                    .ok_or(CollectibleError::RecipientNotFound)?;
                let view = self
                    .deps
                    .identity
                    .identity(account.id)
                    .await?
                    .ok_or(CollectibleError::RecipientNotVerified)?;
                (account.id, view)
            }
            Recipient::Address(address) => self
                .deps
                .identity
                .by_address(&address)
                .await?
                .ok_or(CollectibleError::RecipientNotFound)?,
        };
        if !view.adult {
            return Err(CollectibleError::RecipientMinor);
        }
        Ok((account_id, view.address))
    }

    /// Settles gifts left pending by a crash, from what the chain holds.
    pub async fn settle_pending_gifts(&self) -> Result<usize, CollectibleError> {
        let pending = self.deps.gifts.pending_gifts().await?;
        for g in &pending {
            let hash: Option<[u8; 32]> =
                hex::decode(&g.tx_hash).ok().and_then(|b| b.try_into().ok());
            let on_chain = match hash {
                Some(h) => self.deps.chain.tx(&h).map_err(chain_err)?.is_some(),
                None => false,
            };
            self.deps
                .gifts
                .finish_gift(g.id, if on_chain { "done" } else { "failed" })
                .await?;
        }
        Ok(pending.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_trading_feature_is_allowed() {
        for f in [
            TradingFeature::Listing,
            TradingFeature::Offer,
            TradingFeature::Auction,
            TradingFeature::Consignment,
        ] {
            assert!(!trading_allowed(f), "{f:?}");
        }
    }
}
