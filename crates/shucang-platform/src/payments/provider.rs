//! The seam between the platform and whoever takes the buyer's money.
//!
//! A [`PaymentProvider`] opens a payment (where the buyer pays), turns a
//! callback it sent — raw body and headers, verified before anything is
//! read — into a typed [`CallbackEvent`], answers what it knows of a
//! payment, refunds and closes. The platform's side (records, orders,
//! minting) stays in [`super::PaymentsService`]; a provider knows nothing of
//! orders beyond the id and amount it is handed, and nothing of HTTP: the
//! web crate hands it headers as plain name/value pairs and sends what it
//! asks to be sent.

use async_trait::async_trait;
use shucang_types::Fen;

/// What the platform asks a provider to collect.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PaymentRequest {
    /// The order paid for.
    pub order_id: i64,
    /// The amount to collect.
    pub amount: Fen,
}

/// A payment opened at a provider: its id and where the buyer pays.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checkout {
    /// The payment's id, chosen by the provider's adapter within the
    /// provider's rules for merchant order numbers; at most 64 ASCII
    /// letters, digits and `_`, unique across providers (a prefix of the
    /// provider's own does that). It is the key the callback names.
    pub payment_id: String,
    /// The page the buyer's browser is sent to: the provider's page, or the
    /// platform page that shows `qr_payload`.
    pub pay_url: String,
    /// For methods paid by scanning a code in the buyer's app, the text the
    /// QR code carries; `None` for page-only methods.
    pub qr_payload: Option<String>,
}

/// A callback as it arrived, before anything is trusted.
#[derive(Debug, Clone, Copy)]
pub struct RawCallback<'a> {
    /// The body, byte for byte (signatures are over these bytes).
    pub body: &'a [u8],
    /// The request's headers as (name, value) pairs, in any letter case.
    pub headers: &'a [(String, String)],
}

impl RawCallback<'_> {
    /// The first header called `name`, compared without regard to case.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// What a verified callback reports about a payment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CallbackStatus {
    /// The buyer paid.
    Succeeded,
    /// Anything but a success (failed, closed, still paying): acknowledged,
    /// nothing recorded.
    Unpaid,
}

/// A callback whose signature verified, parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallbackEvent {
    /// The payment it is about.
    pub payment_id: String,
    /// The amount the provider says was paid.
    pub amount: Fen,
    /// What happened.
    pub status: CallbackStatus,
}

/// A callback's signature does not verify.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the callback signature does not verify")]
pub struct BadSignature;

/// Why a callback was refused. Nothing was recorded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CallbackError {
    /// The signature is missing or does not verify.
    #[error(transparent)]
    BadSignature(#[from] BadSignature),
    /// Signed, but not a callback this provider sends; the message says why.
    #[error("{0}")]
    Malformed(String),
}

/// Where a payment stands at the provider.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProviderStatus {
    /// Opened, not paid.
    Pending,
    /// Paid (refunds, if any, in [`ProviderPayment::refunded`]).
    Paid,
    /// Closed unpaid; it can no longer be paid.
    Closed,
}

/// What a provider knows of a payment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProviderPayment {
    /// The payment.
    pub payment_id: String,
    /// The amount asked.
    pub amount: Fen,
    /// Where it stands.
    pub status: ProviderStatus,
    /// The sum refunded so far.
    pub refunded: Fen,
}

/// A refund to make.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefundRequest {
    /// The platform's id for this refund; asking again with the same id is
    /// the same refund, not a second one.
    pub refund_id: String,
    /// How much to give back (at most what was paid and not yet refunded).
    pub amount: Fen,
    /// Why, as the buyer will see it.
    pub reason: String,
}

/// A refund the provider accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefundReceipt {
    /// The platform's id for it.
    pub refund_id: String,
    /// The amount refunded.
    pub amount: Fen,
}

/// Why a provider could not do what was asked.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProviderError {
    /// The provider knows no such payment.
    #[error("the payment provider knows no such payment")]
    UnknownPayment,
    /// The payment's state does not allow it (closing a paid payment,
    /// refunding more than was paid…); the message says why.
    #[error("the payment provider refused: {0}")]
    Refused(String),
    /// The provider could not be reached or answered something unusable.
    #[error("the payment provider is unavailable: {0}")]
    Unavailable(String),
}

/// A payment provider (the sandbox now; WeChat Pay and Alipay next).
#[async_trait]
pub trait PaymentProvider: Send + Sync + 'static {
    /// The provider's stable code, stored with each payment it takes
    /// (`sandbox`, …).
    fn code(&self) -> &'static str;

    /// Opens a payment: its id and where the buyer pays.
    async fn start(&self, request: &PaymentRequest) -> Result<Checkout, ProviderError>;

    /// Verifies a callback's signature over its raw body and headers, then
    /// parses it. Nothing in it is trusted before the signature verifies.
    async fn verify_callback(
        &self,
        callback: &RawCallback<'_>,
    ) -> Result<CallbackEvent, CallbackError>;

    /// Asks the provider where a payment stands (a lost callback is found
    /// this way).
    async fn query(&self, payment_id: &str) -> Result<ProviderPayment, ProviderError>;

    /// Gives back part or all of a paid payment.
    async fn refund(
        &self,
        payment_id: &str,
        refund: &RefundRequest,
    ) -> Result<RefundReceipt, ProviderError>;

    /// Closes an unpaid payment so that it can no longer be paid; closing a
    /// closed one succeeds.
    async fn close(&self, payment_id: &str) -> Result<(), ProviderError>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_are_found_without_regard_to_case() {
        let headers = vec![
            ("Content-Type".to_owned(), "application/json".to_owned()),
            ("x-sig".to_owned(), "a".to_owned()),
            ("X-Sig".to_owned(), "b".to_owned()),
        ];
        let callback = RawCallback {
            body: b"",
            headers: &headers,
        };
        assert_eq!(callback.header("content-type"), Some("application/json"));
        assert_eq!(callback.header("X-SIG"), Some("a"));
        assert_eq!(callback.header("x-other"), None);
    }
}
