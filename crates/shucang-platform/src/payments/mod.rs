//! Payment and minting (PRODUCT.md §5.4).
//!
//! A buyer starts a payment for a reserved order at a [`PaymentProvider`]
//! ([`provider`]: the seam; [`sandbox`]: the one provider so far); the
//! provider later calls back, signed. The provider verifies and parses the
//! callback; a success marks the payment succeeded, the order paid, and
//! queues the mint, in one transaction (the outbox). The mint worker turns
//! each queued order into one chain transaction whose content (and so hash)
//! is fixed by the order, retries failures with backoff, and records the
//! transaction; a retry after a crash finds its own transaction already on
//! chain instead of minting twice.

pub mod provider;
pub mod sandbox;

use std::sync::Arc;

use shucang_chain::{
    Address, Chain, MintItem, Operation, Rejection, SigningKey, SubmitError, Transaction,
};
use shucang_types::{Clock, Fen, UnixMillis};

use crate::identity::IdentityService;
use crate::store::{
    DropStore, MintJob, Minted, OrderRecord, OrderStatus, PaidOutcome, PaymentRecord, PaymentStore,
    StoreError, WorkStore,
};

pub use provider::{
    BadSignature, CallbackError, CallbackEvent, CallbackStatus, Checkout, PaymentProvider,
    PaymentRequest, ProviderError, ProviderPayment, ProviderStatus, RawCallback, RefundReceipt,
    RefundRequest,
};
pub use sandbox::{SandboxProvider, SignedCallback};

/// Most mint jobs handled in one pass.
pub const MINT_BATCH_MAX: u32 = 100;
/// Longest wait between mint attempts.
pub const MINT_BACKOFF_MAX_MS: i64 = 5 * 60_000;

/// Why a payment could not be started.
#[derive(Debug, thiserror::Error)]
pub enum PaymentError {
    /// No such order of the caller's.
    #[error("no such order")]
    OrderNotFound,
    /// The order is not awaiting payment.
    #[error("the order is not awaiting payment (paid, minted or expired)")]
    NotPayable,
    /// No such payment.
    #[error("no such payment")]
    PaymentNotFound,
    /// The payment provider failed.
    #[error(transparent)]
    Provider(#[from] ProviderError),
    /// Storage failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// A payment started: where the buyer pays.
#[derive(Debug, Clone)]
pub struct StartedPayment {
    /// The payment.
    pub payment: PaymentRecord,
    /// Where the buyer pays (see [`Checkout::pay_url`]).
    pub pay_url: String,
    /// The QR code's text, for methods paid by scanning.
    pub qr_payload: Option<String>,
}

/// What a callback that verified came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CallbackOutcome {
    /// A success, recorded (or found already recorded, or refused by the
    /// store: unknown payment, different amount).
    Recorded(PaidOutcome),
    /// The callback reports no success; nothing was recorded.
    Ignored,
}

/// Why a callback was not recorded.
#[derive(Debug, thiserror::Error)]
pub enum NotifyError {
    /// The provider refused it (bad signature, malformed).
    #[error(transparent)]
    Refused(#[from] CallbackError),
    /// Storage failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// What a [`PaymentsService`] is built from.
pub struct PaymentsDeps {
    /// Storage.
    pub store: Arc<dyn PaymentStore>,
    /// Drops and orders, as stored.
    pub drops: Arc<dyn DropStore>,
    /// Works, as stored.
    pub works: Arc<dyn WorkStore>,
    /// Real-name identities and wallets.
    pub identity: Arc<IdentityService>,
    /// The embedded chain.
    pub chain: Arc<Chain>,
    /// An operator key of the chain, which signs what the platform writes to it.
    pub operator: SigningKey,
    /// The payment provider that takes every payment and its callbacks.
    pub provider: Arc<dyn PaymentProvider>,
    /// The clock.
    pub clock: Arc<dyn Clock>,
}

/// Payments, callbacks and the mint worker.
pub struct PaymentsService {
    deps: PaymentsDeps,
    wake: Arc<tokio::sync::Notify>,
}

impl PaymentsService {
    /// Builds the service.
    pub fn new(deps: PaymentsDeps) -> PaymentsService {
        PaymentsService {
            deps,
            wake: Arc::new(tokio::sync::Notify::new()),
        }
    }

    /// Starts a payment for the caller's reserved order.
    pub async fn start(
        &self,
        account_id: i64,
        order_id: i64,
    ) -> Result<StartedPayment, PaymentError> {
        let order = self
            .deps
            .drops
            .order_by_id(order_id)
            .await?
            .filter(|o| o.account_id == account_id)
            .ok_or(PaymentError::OrderNotFound)?;
        let now = self.deps.clock.now();
        if order.status != OrderStatus::Reserved || now >= order.expires_at {
            return Err(PaymentError::NotPayable);
        }
        let checkout = self
            .deps
            .provider
            .start(&PaymentRequest {
                order_id,
                amount: order.amount,
            })
            .await?;
        let payment = PaymentRecord {
            id: checkout.payment_id,
            order_id,
            provider: self.deps.provider.code().to_owned(),
            amount: order.amount,
            status: "created".into(),
            created_at: now,
        };
        self.deps.store.insert_payment(&payment).await?;
        Ok(StartedPayment {
            payment,
            pay_url: checkout.pay_url,
            qr_payload: checkout.qr_payload,
        })
    }

    /// A payment.
    pub async fn payment(&self, id: &str) -> Result<Option<PaymentRecord>, StoreError> {
        self.deps.store.payment_by_id(id).await
    }

    /// A provider's callback, as it arrived: the provider verifies and
    /// parses it; a success is recorded. Repeated callbacks change nothing.
    pub async fn notify(&self, callback: &RawCallback<'_>) -> Result<CallbackOutcome, NotifyError> {
        let event = match self.deps.provider.verify_callback(callback).await {
            Ok(event) => event,
            Err(e) => {
                tracing::warn!(provider = self.deps.provider.code(), error = %e, "refused a payment callback");
                return Err(e.into());
            }
        };
        if event.status != CallbackStatus::Succeeded {
            return Ok(CallbackOutcome::Ignored);
        }
        Ok(CallbackOutcome::Recorded(
            self.paid(&event.payment_id, event.amount).await?,
        ))
    }

    /// Records a verified success: the payment succeeded with `amount`.
    async fn paid(&self, payment_id: &str, amount: Fen) -> Result<PaidOutcome, StoreError> {
        let outcome = self
            .deps
            .store
            .record_paid(payment_id, amount, self.deps.clock.now())
            .await?;
        match outcome {
            PaidOutcome::Paid => {
                tracing::info!(payment_id, "payment recorded; mint queued");
                self.wake.notify_one();
            }
            PaidOutcome::RefundRequired => {
                tracing::warn!(
                    payment_id,
                    "payment arrived for an order no longer awaiting it; refund required"
                );
            }
            _ => {}
        }
        Ok(outcome)
    }

    /// Waits until a payment queues a mint (or `timeout_ms` passes).
    pub async fn wait_for_work(&self, timeout_ms: u64) {
        let _ = tokio::time::timeout(
            std::time::Duration::from_millis(timeout_ms),
            self.wake.notified(),
        )
        .await;
    }

    /// Handles every mint job due now; returns how many were completed.
    pub async fn process_mint_jobs(&self) -> Result<usize, StoreError> {
        let now = self.deps.clock.now();
        let jobs = self.deps.store.due_mint_jobs(now, MINT_BATCH_MAX).await?;
        let mut done = 0;
        for job in jobs {
            match self.mint(&job).await {
                Ok((tx_hash, height)) => {
                    let minted = Minted {
                        tx_hash,
                        height,
                        at: self.deps.clock.now(),
                    };
                    self.deps.store.complete_mint(job.order_id, &minted).await?;
                    tracing::info!(order_id = job.order_id, height, "order minted");
                    done += 1;
                }
                Err(reason) => {
                    let backoff = (1_000_i64 << job.attempts.min(20)).min(MINT_BACKOFF_MAX_MS);
                    tracing::warn!(order_id = job.order_id, attempts = job.attempts + 1, %reason, "mint failed; will retry");
                    self.deps
                        .store
                        .retry_mint(job.order_id, &reason, now.plus_ms(backoff))
                        .await?;
                }
            }
        }
        Ok(done)
    }

    /// The mint transaction for one order; the same order always gives the
    /// same transaction, so a repeat is recognised by the chain.
    async fn mint(&self, job: &MintJob) -> Result<(String, u64), String> {
        let order = self.order(job.order_id).await?;
        let drop = needed(
            self.deps.drops.drop_by_id(order.drop_id).await,
            "the order's drop is missing",
        )?;
        let work = needed(
            self.deps.works.work_by_id(drop.drop.work_id).await,
            "the drop's work is missing",
        )?;
        let collection = crate::works::collection_of(work.id);
        let content_hash: [u8; 32] = work
            .metadata_hash
            .as_deref()
            .and_then(|h| hex::decode(h).ok())
            .and_then(|b| b.try_into().ok())
            .ok_or("the work has no metadata hash")?;
        let identity = needed(
            self.deps.identity.identity(order.account_id).await,
            "the buyer has no wallet",
        )?;
        let owner: Address = identity.address;
        let items = order
            .editions
            .iter()
            .map(|&e| MintItem::edition(e, owner, content_hash))
            .collect();
        let tx = Transaction {
            suite: self.deps.operator.suite(),
            nonce: u64::try_from(order.id).map_err(|_| "negative order id")?,
            signer: self.deps.operator.public_key(),
            operation: Operation::Mint { collection, items },
        }
        .sign(&self.deps.operator);
        let hash = tx.tx.hash();
        let height = match self.deps.chain.submit(tx).await {
            Ok(receipt) => receipt.height,
            Err(SubmitError::Rejected(Rejection::Replayed)) => {
                // Minted before a crash or a lost answer: find it.
                needed(
                    self.deps.chain.tx(&hash),
                    "the chain says replayed but has no such transaction",
                )?
                .info
                .height
            }
            Err(e) => return Err(e.to_string()),
        };
        Ok((hex::encode(hash), height))
    }

    async fn order(&self, id: i64) -> Result<OrderRecord, String> {
        needed(
            self.deps.drops.order_by_id(id).await,
            "the order is missing",
        )
    }

    /// The mint transaction of an order (hash hex, height), once minted.
    pub async fn mint_of_order(&self, order_id: i64) -> Result<Option<(String, u64)>, StoreError> {
        self.deps.store.mint_of_order(order_id).await
    }

    /// Now, by the injected clock.
    pub fn now(&self) -> UnixMillis {
        self.deps.clock.now()
    }
}

/// A lookup's value, or why the mint cannot go on (kept as its retry
/// reason): the lookup failed, or found nothing (`missing`).
fn needed<T, E: std::fmt::Display>(
    lookup: Result<Option<T>, E>,
    missing: &str,
) -> Result<T, String> {
    lookup
        .map_err(|e| e.to_string())?
        .ok_or_else(|| missing.to_owned())
}
