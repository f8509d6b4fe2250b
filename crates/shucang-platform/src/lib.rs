//! The collectibles platform's domain logic.
//!
//! So far: accounts and sessions ([`accounts`]), real-name identity and
//! custodial wallets ([`identity`], [`pii`]), works with the content filter,
//! media and review ([`works`], [`content`], [`media`]), drops of each
//! [`DropKind`] ([`drops`]), payments behind the [`PaymentProvider`] seam
//! and minting ([`payments`]), collections and gifts ([`collectibles`]).
//! Each module owns its rules and declares the storage it needs as a trait
//! ([`store`]); the SQL back ends in `shucang-store` implement those traits.
//!
//! **Architecture invariant:** this crate knows nothing of HTTP, HTML or SQL,
//! and JSON only for the ERC-721 metadata document a collection commits to
//! on chain and for a payment provider's own messages (in that provider's
//! module). It receives validated values, decides, and writes through its storage
//! traits. Time comes from an injected [`shucang_types::Clock`].

pub mod accounts;
pub mod collectibles;
pub mod complaints;
pub mod content;
pub mod drops;
pub mod identity;
pub mod media;
pub mod payments;
pub mod reconcile;
pub mod store;
pub mod works;

pub use accounts::{
    Account, AccountError, AccountPolicy, AccountService, CheckError, LoginError, NewSession,
    Registration, SessionToken,
};
pub use collectibles::{
    Collectible, CollectibleError, CollectiblesDeps, CollectiblesService, GiftPolicy, GiftReceipt,
    HistoryEntry, Recipient, TradingFeature, trading_allowed,
};
pub use complaints::{ComplaintError, ComplaintsService, NewComplaint};
pub use drops::{
    DropDraft, DropError, DropKind, DropPhase, DropsDeps, DropsService, PurchaseError,
};
pub use identity::{
    CONSENT_VERSION, Consent, IdentityError, IdentityService, IdentityVerifier, IdentityView,
    RealName, SandboxVerifier,
};
pub use payments::{
    BadSignature, CallbackError, CallbackEvent, CallbackOutcome, CallbackStatus, Checkout,
    NotifyError, PaymentError, PaymentProvider, PaymentRequest, PaymentsDeps, PaymentsService,
    ProviderError, ProviderPayment, ProviderStatus, RawCallback, RefundReceipt, RefundRequest,
    SandboxProvider, SignedCallback, StartedPayment,
};
pub use shucang_auth::PiiCipher;
pub use store::{
    AccountRecord, AccountStore, ChainRecordKind, CodePurpose, ComplaintRecord, ComplaintStore,
    DropRecord, DropStore, GiftRecord, GiftStore, IdentityRecord, IdentityStore, MintJob, Minted,
    NewAccount, NewDrop, NewPhoneCode, NewWork, OrderRecord, OrderStatus, PaidOutcome,
    PaymentRecord, PaymentStore, PurchaseTerms, Reservation, ReserveOutcome, ReviewRecord,
    SessionRecord, StoreError, TermsRule, WorkRecord, WorkStatus, WorkStore,
};
pub use works::{Decision, WorkDraft, WorkError, WorksDeps, WorksService};
