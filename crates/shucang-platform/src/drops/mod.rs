//! Drops (primary issuance) and their orders (PRODUCT.md §5.3–5.4).
//!
//! The rule that matters most: editions sold never exceed supply. A drop's
//! [`DropKind`] works out what a purchase may be — the window, the
//! per-account limit, the amount ([`PurchaseTerms`]) — and the store holds
//! the purchase to those terms in one database transaction
//! ([`DropStore::reserve`]): idempotency, window, stock, limit, edition
//! numbers, order and key. Unpaid reservations lapse after the payment
//! window and return their editions, each exactly once, even across
//! restarts ([`DropStore::expire_due`]).
//!
//! A new way of selling is a variant of [`DropKind`] ([`kind`]) and a module
//! of its own with its terms function, as [`first_come`] is.

pub mod first_come;
pub mod kind;

use std::sync::Arc;

use sha2::{Digest, Sha256};
use shucang_types::{Clock, Fen, Role, UnixMillis};

use crate::identity::{IdentityError, IdentityService};
use crate::store::{
    DropRecord, DropStore, NewDrop, OrderRecord, OrderStatus, Reservation, ReserveOutcome,
    StoreError, WorkStatus, WorkStore,
};

pub use kind::{DropKind, purchase_terms};

/// Longest drop title, in characters.
pub const DROP_TITLE_CHARS_MAX: usize = 100;
/// Largest per-account limit.
pub const PER_USER_LIMIT_MAX: u32 = 1000;
/// Most editions in one order.
pub const ORDER_QUANTITY_MAX: u32 = 100;
/// Longest idempotency key, in bytes.
pub const IDEMPOTENCY_KEY_LEN_MAX: usize = 128;
/// Most orders expired in one sweep.
pub const EXPIRY_BATCH_MAX: u32 = 500;

/// A drop as an administrator types it.
#[derive(Debug, Clone)]
pub struct DropDraft {
    /// The approved work.
    pub work_id: i64,
    /// Name shown to buyers.
    pub title: String,
    /// Price of one edition, in fen.
    pub price_fen: i64,
    /// Editions on sale.
    pub supply: u64,
    /// Opens at.
    pub starts_at: UnixMillis,
    /// Closes at.
    pub ends_at: UnixMillis,
    /// Editions one account may buy.
    pub per_user_limit: u32,
}

/// Where a drop is, from the buyer's point of view.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DropPhase {
    /// Not open yet.
    Upcoming,
    /// Open with editions left.
    OnSale,
    /// Open, nothing left (reservations may still lapse and return stock).
    SoldOut,
    /// Closed.
    Ended,
}

impl DropPhase {
    /// The stable code.
    pub fn code(self) -> &'static str {
        match self {
            DropPhase::Upcoming => "upcoming",
            DropPhase::OnSale => "on_sale",
            DropPhase::SoldOut => "sold_out",
            DropPhase::Ended => "ended",
        }
    }
}

/// Why a drop could not be created.
#[derive(Debug, thiserror::Error)]
pub enum DropError {
    /// Only system administrators create drops.
    #[error("only system administrators create drops")]
    Forbidden,
    /// A field is out of range; the message names it.
    #[error("{0}")]
    InvalidField(String),
    /// The work does not exist or is not approved.
    #[error("the work does not exist or is not approved")]
    WorkNotApproved,
    /// The work has no editions left for this supply.
    #[error("the work has fewer unallocated editions than this supply")]
    EditionsExhausted,
    /// Storage failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Why a purchase was refused.
#[derive(Debug, thiserror::Error)]
pub enum PurchaseError {
    /// The buyer is not real-name verified.
    #[error("real-name verification is required before buying")]
    IdentityRequired,
    /// The buyer is under 18.
    #[error("buyers must be 18 or older")]
    MinorNotAllowed,
    /// Quantity outside 1..=100.
    #[error("quantity must be between 1 and 100")]
    InvalidQuantity,
    /// The idempotency key is missing or malformed.
    #[error("send an Idempotency-Key header of 1 to 128 visible ASCII characters")]
    InvalidKey,
    /// The key was used for a different request.
    #[error("this Idempotency-Key was used for a different request")]
    KeyReused,
    /// No such drop.
    #[error("no such drop")]
    DropNotFound,
    /// Not open now.
    #[error("the drop is not open")]
    NotOpen,
    /// Not enough editions left.
    #[error("sold out")]
    SoldOut,
    /// Over the per-account limit.
    #[error("this would exceed the drop's purchase limit per account")]
    LimitReached,
    /// Identity data could not be read.
    #[error(transparent)]
    Identity(#[from] IdentityError),
    /// Storage failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// What a [`DropsService`] is built from.
pub struct DropsDeps {
    /// Storage.
    pub store: Arc<dyn DropStore>,
    /// Works, as stored.
    pub works: Arc<dyn WorkStore>,
    /// Real-name identities and wallets.
    pub identity: Arc<IdentityService>,
    /// The clock.
    pub clock: Arc<dyn Clock>,
    /// How long a reserved order waits for its payment, in milliseconds.
    pub payment_window_ms: i64,
}

/// Drops and orders.
pub struct DropsService {
    deps: DropsDeps,
}

impl DropsService {
    /// Builds the service.
    pub fn new(deps: DropsDeps) -> DropsService {
        DropsService { deps }
    }

    /// Creates a drop of an approved work (system administrators).
    pub async fn create(
        &self,
        role: Role,
        account_id: i64,
        d: DropDraft,
    ) -> Result<DropRecord, DropError> {
        if role != Role::SystemAdmin {
            return Err(DropError::Forbidden);
        }
        let title = d.title.trim().to_owned();
        let title_chars = title.chars().count();
        if title_chars == 0
            || title_chars > DROP_TITLE_CHARS_MAX
            || title.chars().any(char::is_control)
        {
            return Err(DropError::InvalidField(
                "title is 1 to 100 characters".into(),
            ));
        }
        let price = Fen::price(d.price_fen)
            .map_err(|e| DropError::InvalidField(format!("price_fen: {e}")))?;
        if d.ends_at <= d.starts_at {
            return Err(DropError::InvalidField(
                "ends_at must be after starts_at".into(),
            ));
        }
        if !(1..=PER_USER_LIMIT_MAX).contains(&d.per_user_limit) {
            return Err(DropError::InvalidField(
                "per_user_limit is 1 to 1000".into(),
            ));
        }
        let work = self
            .deps
            .works
            .work_by_id(d.work_id)
            .await?
            .filter(|w| w.status == WorkStatus::Approved)
            .ok_or(DropError::WorkNotApproved)?;
        if d.supply == 0 || d.supply > work.work.edition_size {
            return Err(DropError::InvalidField(format!(
                "supply is 1 to the work's edition size ({})",
                work.work.edition_size
            )));
        }
        let drop = NewDrop {
            work_id: d.work_id,
            kind: DropKind::FirstCome,
            title,
            price,
            supply: d.supply,
            starts_at: d.starts_at,
            ends_at: d.ends_at,
            per_user_limit: d.per_user_limit,
            created_by: account_id,
            created_at: self.deps.clock.now(),
        };
        let id = match self
            .deps
            .store
            .insert_drop(&drop, work.work.edition_size)
            .await
        {
            Ok(id) => id,
            Err(StoreError::Conflict(_)) => return Err(DropError::EditionsExhausted),
            Err(e) => return Err(e.into()),
        };
        tracing::info!(
            drop_id = id,
            work_id = d.work_id,
            supply = d.supply,
            "drop created"
        );
        self.deps
            .store
            .drop_by_id(id)
            .await?
            .ok_or_else(|| StoreError::Backend("a created drop is missing".into()).into())
    }

    /// A drop.
    pub async fn drop_by_id(&self, id: i64) -> Result<Option<DropRecord>, StoreError> {
        self.deps.store.drop_by_id(id).await
    }

    /// Drops, newest start first.
    pub async fn list(&self, limit: u32) -> Result<Vec<DropRecord>, StoreError> {
        self.deps.store.list_drops(limit).await
    }

    /// Orders, newest first, for the staff overview.
    pub async fn orders(
        &self,
        status: Option<OrderStatus>,
        limit: u32,
    ) -> Result<Vec<OrderRecord>, StoreError> {
        self.deps.store.list_orders(status, limit).await
    }

    /// How many orders are in each status.
    pub async fn order_counts(&self) -> Result<Vec<(OrderStatus, u64)>, StoreError> {
        self.deps.store.order_counts().await
    }

    /// Where a drop is now.
    pub fn phase(&self, d: &DropRecord) -> DropPhase {
        let now = self.deps.clock.now();
        if now < d.drop.starts_at {
            DropPhase::Upcoming
        } else if now >= d.drop.ends_at {
            DropPhase::Ended
        } else if d.sold >= d.drop.supply {
            DropPhase::SoldOut
        } else {
            DropPhase::OnSale
        }
    }

    /// Buys `quantity` editions. Returns the order and whether it is the
    /// replay of an earlier request with the same key.
    pub async fn purchase(
        &self,
        account_id: i64,
        drop_id: i64,
        quantity: u32,
        idempotency_key: &str,
    ) -> Result<(OrderRecord, bool), PurchaseError> {
        let key_ok = !idempotency_key.is_empty()
            && idempotency_key.len() <= IDEMPOTENCY_KEY_LEN_MAX
            && idempotency_key.bytes().all(|b| b.is_ascii_graphic());
        if !key_ok {
            return Err(PurchaseError::InvalidKey);
        }
        let identity = self
            .deps
            .identity
            .identity(account_id)
            .await?
            .ok_or(PurchaseError::IdentityRequired)?;
        if !identity.adult {
            return Err(PurchaseError::MinorNotAllowed);
        }
        if !(1..=ORDER_QUANTITY_MAX).contains(&quantity) {
            return Err(PurchaseError::InvalidQuantity);
        }
        let now = self.deps.clock.now();
        let request_hash = hex::encode(Sha256::digest(format!(
            "drop:{drop_id}\nquantity:{quantity}"
        )));
        let reservation = Reservation {
            drop_id,
            account_id,
            quantity,
            now,
            expires_at: now.plus_ms(self.deps.payment_window_ms),
            idempotency_key: idempotency_key.to_owned(),
            request_hash,
            terms: purchase_terms,
        };
        match self.deps.store.reserve(&reservation).await? {
            ReserveOutcome::Reserved(order) => {
                tracing::info!(order_id = order.id, drop_id, quantity, "editions reserved");
                Ok((order, false))
            }
            ReserveOutcome::Replayed(order) => Ok((order, true)),
            ReserveOutcome::KeyReused => Err(PurchaseError::KeyReused),
            ReserveOutcome::DropNotFound => Err(PurchaseError::DropNotFound),
            ReserveOutcome::NotOpen => Err(PurchaseError::NotOpen),
            ReserveOutcome::SoldOut => Err(PurchaseError::SoldOut),
            ReserveOutcome::LimitReached => Err(PurchaseError::LimitReached),
        }
    }

    /// An order, to its owner only.
    pub async fn order(
        &self,
        account_id: i64,
        order_id: i64,
    ) -> Result<Option<OrderRecord>, StoreError> {
        Ok(self
            .deps
            .store
            .order_by_id(order_id)
            .await?
            .filter(|o| o.account_id == account_id))
    }

    /// Expires lapsed reservations (all that are due, in batches); returns how many.
    pub async fn expire_due(&self) -> Result<usize, StoreError> {
        let now = self.deps.clock.now();
        let mut total = 0;
        loop {
            let expired = self.deps.store.expire_due(now, EXPIRY_BATCH_MAX).await?;
            total += expired.len();
            if expired.len() < EXPIRY_BATCH_MAX as usize {
                return Ok(total);
            }
        }
    }
}
