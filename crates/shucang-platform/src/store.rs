//! The storage the platform domain needs, as a trait.
//!
//! Implemented by `shucang-store` for SQLite and PostgreSQL. Every method is
//! one atomic step on the database; the domain never holds a transaction open
//! across an `await` of its own.

use async_trait::async_trait;
use shucang_notify::NewMessage;
use shucang_types::{FailedLogin, Phone, Role, UnixMillis, WindowedEvent};

/// A failure of the storage back end.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A uniqueness rule refused the write; the string names the rule
    /// (for example `"accounts.phone"`). Nothing was written.
    #[error("conflict on {0}")]
    Conflict(&'static str),
    /// The back end failed (connection lost, disk full, corrupt row…).
    /// Always a bug or an outage, never the caller's fault.
    #[error("storage back end failed: {0}")]
    Backend(#[source] Box<dyn std::error::Error + Send + Sync>),
}

/// An account to be created.
#[derive(Debug, Clone)]
pub struct NewAccount {
    /// The normalised phone number (unique).
    pub phone: Phone,
    /// The Argon2id PHC string.
    pub password_hash: String,
    /// The account's one role.
    pub role: Role,
    /// When it was created.
    pub created_at: UnixMillis,
}

/// An account as stored.
#[derive(Debug, Clone)]
pub struct AccountRecord {
    /// The account id.
    pub id: i64,
    /// The normalised phone number.
    pub phone: Phone,
    /// The Argon2id PHC string.
    pub password_hash: String,
    /// The account's one role.
    pub role: Role,
    /// When it was created.
    pub created_at: UnixMillis,
    /// Consecutive failed logins since the last success or lock.
    pub failed_logins: u32,
    /// Logins are refused until this time, if set.
    pub locked_until: Option<UnixMillis>,
}

/// A server-side session. The token itself is never stored, only its keyed hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionRecord {
    /// HMAC-SHA-256 of the bearer token under the session key, hex.
    pub token_hash: String,
    /// The account the session belongs to.
    pub account_id: i64,
    /// When the session was created.
    pub created_at: UnixMillis,
    /// The last time the session was used (sliding idle expiry).
    pub last_seen_at: UnixMillis,
}

/// What the account and session rules need from storage.
#[async_trait]
pub trait AccountStore: Send + Sync + 'static {
    /// Inserts an account; [`StoreError::Conflict`]`("accounts.phone")` if the
    /// phone number is taken. Returns the new id.
    async fn insert_account(&self, account: &NewAccount) -> Result<i64, StoreError>;

    /// Counts one event in its window, in one statement: `false` (and
    /// nothing counted) when the window holds `max` already.
    async fn count_in_window(&self, event: &WindowedEvent) -> Result<bool, StoreError>;

    /// Removes the counting windows that began before `before`; how many.
    async fn purge_windows(&self, before: UnixMillis) -> Result<u64, StoreError>;

    /// The account with this phone number, if any.
    async fn account_by_phone(&self, phone: &Phone) -> Result<Option<AccountRecord>, StoreError>;

    /// The account with this id, if any.
    async fn account_by_id(&self, id: i64) -> Result<Option<AccountRecord>, StoreError>;

    /// Counts one failed login atomically (see [`FailedLogin`]). Returns
    /// the lock in force after it, if any: set by this failure or by an
    /// earlier one.
    async fn record_login_failure(
        &self,
        account_id: i64,
        failure: &FailedLogin,
    ) -> Result<Option<UnixMillis>, StoreError>;

    /// After a right password: clears the failure count, in the same
    /// statement that checks no lock holds at `now`. Returns the lock in
    /// force instead when one does (set by a parallel failure after the
    /// password was checked); the login must then be refused.
    async fn admit_login(
        &self,
        account_id: i64,
        now: UnixMillis,
    ) -> Result<Option<UnixMillis>, StoreError>;

    /// Stores a new session.
    async fn insert_session(&self, session: &SessionRecord) -> Result<(), StoreError>;

    /// The session with this token hash, if any.
    async fn session_by_token_hash(
        &self,
        token_hash: &str,
    ) -> Result<Option<SessionRecord>, StoreError>;

    /// Records use of a session at `at`.
    async fn touch_session(&self, token_hash: &str, at: UnixMillis) -> Result<(), StoreError>;

    /// Deletes one session; returns whether it existed.
    async fn delete_session(&self, token_hash: &str) -> Result<bool, StoreError>;

    /// Deletes every session last used before `idle_before`; returns how many.
    async fn delete_idle_sessions(&self, idle_before: UnixMillis) -> Result<u64, StoreError>;

    /// Stores a one-time code for its phone number and purpose (replacing
    /// an earlier one, with no attempts spent) and queues `message` (which
    /// carries it), in one transaction.
    async fn issue_phone_code(
        &self,
        code: &NewPhoneCode,
        message: &NewMessage,
    ) -> Result<(), StoreError>;

    /// Queues messages that carry no code (a notice).
    async fn queue_messages(
        &self,
        messages: &[NewMessage],
        now: UnixMillis,
    ) -> Result<(), StoreError>;

    /// Spends one attempt on the live code of `phone` for `purpose`, in one
    /// statement, before the caller compares: the code's keyed hash, or
    /// `None` when no code is live (none sent, expired, used) or its
    /// `attempts_max` attempts are spent.
    async fn spend_phone_code_attempt(
        &self,
        phone: &Phone,
        purpose: CodePurpose,
        attempts_max: u32,
        now: UnixMillis,
    ) -> Result<Option<String>, StoreError>;

    /// Uses up the registration code whose keyed hash is `code_hash` and
    /// inserts the account, in one transaction: `None` (nothing written)
    /// when the code was used meanwhile; [`StoreError::Conflict`] as for
    /// [`AccountStore::insert_account`].
    async fn insert_account_with_code(
        &self,
        account: &NewAccount,
        code_hash: &str,
    ) -> Result<Option<i64>, StoreError>;

    /// Deletes the codes that expired before `now`; how many.
    async fn delete_expired_phone_codes(&self, now: UnixMillis) -> Result<u64, StoreError>;
}

/// What a one-time SMS code proves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CodePurpose {
    /// The caller holds the number an account is being made for.
    Registration,
}

impl CodePurpose {
    /// The stable code stored with a code.
    pub fn code(self) -> &'static str {
        match self {
            CodePurpose::Registration => "registration",
        }
    }
}

/// A one-time SMS code to store: only its keyed hash.
#[derive(Debug, Clone)]
pub struct NewPhoneCode {
    /// The number it was sent to.
    pub phone: Phone,
    /// What it proves.
    pub purpose: CodePurpose,
    /// The keyed hash of the phone number and the code.
    pub code_hash: String,
    /// When it stops being accepted.
    pub expires_at: UnixMillis,
    /// When it was sent.
    pub created_at: UnixMillis,
}

/// A verified identity with its custodial wallet, as stored. Personal data
/// is encrypted; the ID number is findable only through its keyed hash.
#[derive(Debug, Clone)]
pub struct IdentityRecord {
    /// The account.
    pub account_id: i64,
    /// The real name, encrypted.
    pub name_enc: Vec<u8>,
    /// The ID number, encrypted.
    pub id_number_enc: Vec<u8>,
    /// Keyed hash of the ID number (unique: one ID number, one account).
    pub id_number_hash: String,
    /// Version of the consent text the user accepted.
    pub consent_version: String,
    /// When consent was given.
    pub consent_at: UnixMillis,
    /// From which address consent was given.
    pub consent_ip: String,
    /// When the identity was verified.
    pub verified_at: UnixMillis,
    /// The custodial wallet's public key.
    pub wallet_public_key: Vec<u8>,
    /// The wallet's chain address, `0x…`.
    pub wallet_address: String,
    /// The wallet's private key, encrypted.
    pub wallet_secret_enc: Vec<u8>,
}

/// What real-name verification needs from storage.
#[async_trait]
pub trait IdentityStore: Send + Sync + 'static {
    /// Counts one verification attempt in its window, in one statement:
    /// `false` (nothing counted) when the window holds `max` already.
    async fn count_attempt(&self, event: &WindowedEvent) -> Result<bool, StoreError>;

    /// Stores an identity; [`StoreError::Conflict`] with
    /// `"identities.account_id"` if the account already has one, or
    /// `"identities.id_number_hash"` if the ID number backs another account.
    async fn insert_identity(&self, identity: &IdentityRecord) -> Result<(), StoreError>;

    /// The identity of an account.
    async fn identity_by_account(
        &self,
        account_id: i64,
    ) -> Result<Option<IdentityRecord>, StoreError>;

    /// The identity behind a wallet address.
    async fn identity_by_address(
        &self,
        address: &str,
    ) -> Result<Option<IdentityRecord>, StoreError>;
}

/// Where a work is in review.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WorkStatus {
    /// Waiting for a reviewer.
    PendingReview,
    /// Approved; its collection exists on chain.
    Approved,
    /// Rejected with a reason.
    Rejected,
}

impl WorkStatus {
    /// The stable code.
    pub fn code(self) -> &'static str {
        match self {
            WorkStatus::PendingReview => "pending_review",
            WorkStatus::Approved => "approved",
            WorkStatus::Rejected => "rejected",
        }
    }

    /// The status with this code.
    pub fn from_code(code: &str) -> Option<WorkStatus> {
        [
            WorkStatus::PendingReview,
            WorkStatus::Approved,
            WorkStatus::Rejected,
        ]
        .into_iter()
        .find(|s| s.code() == code)
    }
}

/// A work to be stored.
#[derive(Debug, Clone)]
pub struct NewWork {
    /// Title.
    pub title: String,
    /// Description.
    pub description: String,
    /// Editions that may ever be sold.
    pub edition_size: u64,
    /// The issuer's name.
    pub issuer: String,
    /// Copyright registration number or authorisation reference.
    pub copyright_evidence: String,
    /// SHA-256 of the stored image.
    pub image_sha256: String,
    /// `png`, `jpeg` or `webp`.
    pub image_type: String,
    /// Words the content filter flagged.
    pub flags: Vec<String>,
    /// Who submitted it.
    pub created_by: i64,
    /// When.
    pub created_at: UnixMillis,
}

/// A work as stored.
#[derive(Debug, Clone)]
pub struct WorkRecord {
    /// The id.
    pub id: i64,
    /// What was submitted.
    pub work: NewWork,
    /// Review state.
    pub status: WorkStatus,
    /// The reviewer's reason (rejections).
    pub review_reason: Option<String>,
    /// The reviewer.
    pub reviewed_by: Option<i64>,
    /// When it was reviewed.
    pub reviewed_at: Option<UnixMillis>,
    /// The chain collection id once approved.
    pub collection_id: Option<String>,
    /// The creating transaction's hash (hex) once approved.
    pub chain_tx: Option<String>,
    /// The metadata document's hash (hex) once approved.
    pub metadata_hash: Option<String>,
}

/// A review decision to record.
#[derive(Debug, Clone)]
pub struct ReviewRecord {
    /// Approved or rejected.
    pub status: WorkStatus,
    /// The reason.
    pub reason: Option<String>,
    /// The reviewer.
    pub reviewed_by: i64,
    /// When.
    pub reviewed_at: UnixMillis,
    /// The chain collection id (approvals).
    pub collection_id: Option<String>,
    /// The creating transaction (approvals).
    pub chain_tx: Option<String>,
    /// The metadata hash (approvals).
    pub metadata_hash: Option<String>,
}

/// What works and their review need from storage.
#[async_trait]
pub trait WorkStore: Send + Sync + 'static {
    /// Stores a new work pending review; returns its id.
    async fn insert_work(&self, work: &NewWork) -> Result<i64, StoreError>;

    /// A work.
    async fn work_by_id(&self, id: i64) -> Result<Option<WorkRecord>, StoreError>;

    /// Works with a status (all when `None`), oldest first, at most `limit`.
    async fn list_works(
        &self,
        status: Option<WorkStatus>,
        limit: u32,
    ) -> Result<Vec<WorkRecord>, StoreError>;

    /// Records a decision if the work is still pending; returns whether it was.
    async fn record_review(&self, id: i64, review: &ReviewRecord) -> Result<bool, StoreError>;
}

/// A drop to be created.
#[derive(Debug, Clone)]
pub struct NewDrop {
    /// The approved work whose editions it sells.
    pub work_id: i64,
    /// How it sells (decides each purchase's terms).
    pub kind: crate::drops::DropKind,
    /// The drop's name.
    pub title: String,
    /// Price of one edition.
    pub price: shucang_types::Fen,
    /// Editions on sale.
    pub supply: u64,
    /// Sales open at.
    pub starts_at: UnixMillis,
    /// Sales close at.
    pub ends_at: UnixMillis,
    /// Editions one account may buy.
    pub per_user_limit: u32,
    /// Who created it.
    pub created_by: i64,
    /// When.
    pub created_at: UnixMillis,
}

/// A drop as stored.
#[derive(Debug, Clone)]
pub struct DropRecord {
    /// The id.
    pub id: i64,
    /// What was created.
    pub drop: NewDrop,
    /// First edition number of the drop's range (the range is
    /// `edition_start .. edition_start + supply`).
    pub edition_start: u64,
    /// Editions reserved or sold (returns when reservations expire).
    pub sold: u64,
}

/// Where an order is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OrderStatus {
    /// Editions held, awaiting payment.
    Reserved,
    /// Paid; minting pending.
    Paid,
    /// Tokens minted on chain.
    Minted,
    /// Unpaid in time; editions returned.
    Expired,
}

impl OrderStatus {
    /// The stable code.
    pub fn code(self) -> &'static str {
        match self {
            OrderStatus::Reserved => "reserved",
            OrderStatus::Paid => "paid",
            OrderStatus::Minted => "minted",
            OrderStatus::Expired => "expired",
        }
    }

    /// The status with this code.
    pub fn from_code(code: &str) -> Option<OrderStatus> {
        [
            OrderStatus::Reserved,
            OrderStatus::Paid,
            OrderStatus::Minted,
            OrderStatus::Expired,
        ]
        .into_iter()
        .find(|s| s.code() == code)
    }
}

/// An order as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderRecord {
    /// The id.
    pub id: i64,
    /// The drop.
    pub drop_id: i64,
    /// The buyer.
    pub account_id: i64,
    /// Editions bought.
    pub quantity: u32,
    /// Total price.
    pub amount: shucang_types::Fen,
    /// Where the order is.
    pub status: OrderStatus,
    /// When it was made.
    pub created_at: UnixMillis,
    /// When an unpaid reservation lapses.
    pub expires_at: UnixMillis,
    /// The edition numbers held (ascending).
    pub editions: Vec<u64>,
}

/// What the drop's kind allows one purchase, worked out by the domain's
/// rule ([`TermsRule`]) and enforced by the store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PurchaseTerms {
    /// The purchase may be made from this time…
    pub opens_at: UnixMillis,
    /// …until before this one.
    pub closes_at: UnixMillis,
    /// Most editions the account may hold in the drop, this purchase
    /// included.
    pub per_account_limit: u32,
    /// What the order costs.
    pub amount: shucang_types::Fen,
}

/// One purchase attempt, all of whose checks and writes are one atomic step.
#[derive(Debug, Clone)]
pub struct Reservation {
    /// The drop.
    pub drop_id: i64,
    /// The buyer.
    pub account_id: i64,
    /// Editions wanted (≥ 1).
    pub quantity: u32,
    /// Now.
    pub now: UnixMillis,
    /// When the reservation lapses unpaid.
    pub expires_at: UnixMillis,
    /// The client's idempotency key.
    pub idempotency_key: String,
    /// Hash of what was asked (drop and quantity), to detect a reused key.
    pub request_hash: String,
    /// The domain's rule for the window, limit and amount, which the store
    /// applies to the drop as it reads it inside the purchase's
    /// transaction (so a purchase reads the drop once).
    pub terms: TermsRule,
}

/// How a drop's kind works out a purchase's terms from the drop and the
/// quantity: a pure domain rule ([`crate::drops::purchase_terms`]); `None`
/// when the amount does not fit.
pub type TermsRule = fn(&DropRecord, u32) -> Option<PurchaseTerms>;

/// What a purchase attempt came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReserveOutcome {
    /// Editions reserved: the new order.
    Reserved(OrderRecord),
    /// The same key and request were seen: the first answer's order, as first answered.
    Replayed(OrderRecord),
    /// The key was used for a different request.
    KeyReused,
    /// No such drop.
    DropNotFound,
    /// Outside the terms' window.
    NotOpen,
    /// Not enough editions left.
    SoldOut,
    /// The account would pass the terms' per-account limit.
    LimitReached,
}

/// What drops and orders need from storage.
#[async_trait]
pub trait DropStore: Send + Sync + 'static {
    /// Creates a drop, assigning it the next free edition range of its
    /// work; [`StoreError::Conflict`]`("drops.editions")` if the work's
    /// `edition_size` would be exceeded.
    async fn insert_drop(&self, drop: &NewDrop, edition_size: u64) -> Result<i64, StoreError>;

    /// A drop.
    async fn drop_by_id(&self, id: i64) -> Result<Option<DropRecord>, StoreError>;

    /// Drops, newest start first, at most `limit`.
    async fn list_drops(&self, limit: u32) -> Result<Vec<DropRecord>, StoreError>;

    /// One atomic purchase step: a known idempotency key answers as it
    /// first answered; otherwise the terms' window, stock, the terms'
    /// per-account limit, the lowest free edition numbers, the order (at the
    /// terms' amount) and the key, all or nothing. No rule of its own.
    async fn reserve(&self, reservation: &Reservation) -> Result<ReserveOutcome, StoreError>;

    /// An order.
    async fn order_by_id(&self, id: i64) -> Result<Option<OrderRecord>, StoreError>;

    /// Orders, newest first, at most `limit`; only those in `status` when
    /// given.
    async fn list_orders(
        &self,
        status: Option<OrderStatus>,
        limit: u32,
    ) -> Result<Vec<OrderRecord>, StoreError>;

    /// How many orders are in each status (codes absent have none).
    async fn order_counts(&self) -> Result<Vec<(OrderStatus, u64)>, StoreError>;

    /// Expires up to `limit` reserved orders whose time is up, returning
    /// their editions to stock, each exactly once; returns their ids.
    async fn expire_due(&self, now: UnixMillis, limit: u32) -> Result<Vec<i64>, StoreError>;
}

/// A payment as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PaymentRecord {
    /// The provider's payment id.
    pub id: String,
    /// The order it pays.
    pub order_id: i64,
    /// The code of the provider that took it ([`crate::PaymentProvider::code`]).
    pub provider: String,
    /// The amount asked.
    pub amount: shucang_types::Fen,
    /// `created`, `succeeded` or `refund_required` (paid after the order lapsed).
    pub status: String,
    /// When it was created.
    pub created_at: UnixMillis,
}

/// What recording a successful payment came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PaidOutcome {
    /// The order is now paid and its mint job queued.
    Paid,
    /// This payment was already recorded (a repeated callback).
    AlreadyRecorded,
    /// The order had lapsed or was paid otherwise: money to refund.
    RefundRequired,
    /// No such payment.
    UnknownPayment,
    /// The amount differs from what was asked.
    AmountMismatch,
}

/// The chain transaction that minted an order's tokens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Minted {
    /// The transaction hash, hex.
    pub tx_hash: String,
    /// The block it is in.
    pub height: u64,
    /// When the platform saw it committed.
    pub at: UnixMillis,
}

/// A queued mint (the outbox row written with the payment).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MintJob {
    /// The order to mint.
    pub order_id: i64,
    /// Attempts so far.
    pub attempts: u32,
}

/// What the database says was written to the chain.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChainRecordKind {
    /// A finished mint: the order's id, its mint transaction.
    Mint,
    /// An approved work: the work's id, its collection-creating transaction.
    Collection,
    /// A finished gift: the gift's id, its transfer transaction.
    Gift,
}

/// What payments and minting need from storage.
#[async_trait]
pub trait PaymentStore: Send + Sync + 'static {
    /// Transactions the database records as on the chain, of one kind:
    /// `(id, transaction hash in hex)` with ids above `after`, in id order,
    /// at most `limit` (to compare the database with the chain at start).
    async fn recorded_chain_txs(
        &self,
        kind: ChainRecordKind,
        after: i64,
        limit: usize,
    ) -> Result<Vec<(i64, String)>, StoreError>;

    /// Stores a new payment for an order.
    async fn insert_payment(&self, payment: &PaymentRecord) -> Result<(), StoreError>;

    /// A payment.
    async fn payment_by_id(&self, id: &str) -> Result<Option<PaymentRecord>, StoreError>;

    /// In one transaction: the payment succeeds, its order goes from
    /// reserved to paid, and a mint job is queued.
    async fn record_paid(
        &self,
        payment_id: &str,
        amount: shucang_types::Fen,
        at: UnixMillis,
    ) -> Result<PaidOutcome, StoreError>;

    /// Mint jobs due at `now`, oldest first.
    async fn due_mint_jobs(&self, now: UnixMillis, limit: u32) -> Result<Vec<MintJob>, StoreError>;

    /// In one transaction: the job is done and its order minted by the
    /// chain transaction `minted` names.
    async fn complete_mint(&self, order_id: i64, minted: &Minted) -> Result<(), StoreError>;

    /// Records a failed attempt and when to try again.
    async fn retry_mint(
        &self,
        order_id: i64,
        error: &str,
        next_attempt_at: UnixMillis,
    ) -> Result<(), StoreError>;

    /// The mint transaction of an order (hash hex, block height), once minted.
    async fn mint_of_order(&self, order_id: i64) -> Result<Option<(String, u64)>, StoreError>;
}

/// A gift as stored. Written (pending) before the transfer is submitted,
/// with the transfer's hash, so a crash in between can be settled from the
/// chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GiftRecord {
    /// The id.
    pub id: i64,
    /// The giver.
    pub from_account: i64,
    /// The recipient.
    pub to_account: i64,
    /// The token's collection.
    pub collection: String,
    /// The token.
    pub token_id: u64,
    /// The transfer's hash (hex).
    pub tx_hash: String,
    /// The day in China it counts against (YYYYMMDD).
    pub day: i64,
    /// `pending`, `done` or `failed`.
    pub status: String,
    /// When.
    pub created_at: UnixMillis,
}

/// What gifting needs from storage.
#[async_trait]
pub trait GiftStore: Send + Sync + 'static {
    /// Records a pending gift unless the giver already has `daily_limit`
    /// gifts (pending or done) that day; returns its id, or `None` at the limit.
    async fn insert_pending_gift(
        &self,
        gift: &GiftRecord,
        daily_limit: u32,
    ) -> Result<Option<i64>, StoreError>;

    /// Settles a gift as `done` or `failed`.
    async fn finish_gift(&self, id: i64, status: &str) -> Result<(), StoreError>;

    /// Gifts still pending (after a crash).
    async fn pending_gifts(&self) -> Result<Vec<GiftRecord>, StoreError>;
}

/// A complaint or report (投诉举报, Art. 18) as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ComplaintRecord {
    /// The public ticket number.
    pub ticket: String,
    /// The category code.
    pub category: String,
    /// What it is about (a work, a collectible, an account, a page).
    pub target: String,
    /// The complaint.
    pub text: String,
    /// How to reach the complainant.
    pub contact: Option<String>,
    /// The logged-in complainant, if any.
    pub account_id: Option<i64>,
    /// The client's address.
    pub ip: String,
    /// `received` (handling comes with the service console).
    pub status: String,
    /// When.
    pub created_at: UnixMillis,
}

/// What complaint intake needs from storage.
#[async_trait]
pub trait ComplaintStore: Send + Sync + 'static {
    /// Stores a complaint.
    async fn insert_complaint(&self, complaint: &ComplaintRecord) -> Result<(), StoreError>;

    /// A complaint by ticket.
    async fn complaint_by_ticket(
        &self,
        ticket: &str,
    ) -> Result<Option<ComplaintRecord>, StoreError>;
}
