//! The sandbox payment provider: a simulation of a remote provider, for
//! demos and tests. Nobody pays anybody.
//!
//! It behaves as a real provider does from the platform's side: it opens
//! payments with ids of its own (`sbx_…`) and a pay page, signs its
//! callbacks (HMAC-SHA-256 over the body, hex, in `X-Sandbox-Signature`),
//! and answers queries, refunds and closes from the state it keeps. That
//! state is the simulated provider's memory, in this process only: after a
//! restart it knows the payments it has opened or been paid for since, and
//! at most [`SANDBOX_PAYMENTS_MAX`] of them (the oldest are forgotten).
//! Paying, on the sandbox's page, takes the payment as the platform stored
//! it, so a page opened before a restart still pays.

use std::collections::{HashMap, VecDeque};
use std::sync::{Mutex, PoisonError};

use async_trait::async_trait;
use hmac::{Hmac, Mac};
use rand::RngCore;
use rand::rngs::OsRng;
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use shucang_types::Fen;

use super::provider::{
    BadSignature, CallbackError, CallbackEvent, CallbackStatus, Checkout, PaymentProvider,
    PaymentRequest, ProviderError, ProviderPayment, ProviderStatus, RawCallback, RefundReceipt,
    RefundRequest,
};

/// The sandbox's provider code.
pub const CODE: &str = "sandbox";
/// The header carrying the sandbox's signature.
pub const SIGNATURE_HEADER: &str = "x-sandbox-signature";
/// Most payments the simulation remembers.
pub const SANDBOX_PAYMENTS_MAX: usize = 100_000;

/// The sandbox payment provider (see the module documentation).
pub struct SandboxProvider {
    key: [u8; 32],
    state: Mutex<Simulation>,
}

/// What the simulated provider remembers.
struct Simulation {
    payments: HashMap<String, SimulatedPayment>,
    /// Payment ids, oldest first, for forgetting.
    age: VecDeque<String>,
    remembered_max: usize,
}

struct SimulatedPayment {
    amount: Fen,
    status: ProviderStatus,
    refunds: Vec<RefundReceipt>,
}

impl SimulatedPayment {
    fn refunded(&self) -> u64 {
        self.refunds.iter().map(|r| r.amount.get()).sum()
    }
}

/// The callback the sandbox sends, as JSON.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct CallbackBody {
    payment_id: String,
    amount_fen: u64,
    /// `success`; anything else reports an unpaid payment.
    status: String,
}

/// A callback the sandbox asks to be delivered to the platform's notify
/// endpoint (the web crate sends it over HTTP).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedCallback {
    /// The JSON body.
    pub body: Vec<u8>,
    /// The headers to send with it (content type and signature).
    pub headers: Vec<(String, String)>,
}

impl SandboxProvider {
    /// A provider signing with `key`.
    pub fn new(key: [u8; 32]) -> SandboxProvider {
        SandboxProvider::remembering(key, SANDBOX_PAYMENTS_MAX)
    }

    fn remembering(key: [u8; 32], remembered_max: usize) -> SandboxProvider {
        SandboxProvider {
            key,
            state: Mutex::new(Simulation {
                payments: HashMap::new(),
                age: VecDeque::new(),
                remembered_max,
            }),
        }
    }

    fn mac(&self) -> Hmac<Sha256> {
        <Hmac<Sha256> as Mac>::new_from_slice(&self.key).expect("HMAC takes any key length")
    }

    /// The signature (hex) of a callback body.
    pub fn sign(&self, body: &[u8]) -> String {
        let mut mac = self.mac();
        mac.update(body);
        hex::encode(mac.finalize().into_bytes())
    }

    /// Checks a callback's signature (constant time).
    pub fn verify(&self, body: &[u8], signature_hex: &str) -> Result<(), BadSignature> {
        let signature = hex::decode(signature_hex.trim()).map_err(|_| BadSignature)?;
        let mut mac = self.mac();
        mac.update(body);
        mac.verify_slice(&signature).map_err(|_| BadSignature)
    }

    /// The buyer pays on the sandbox's page: the payment (as the platform
    /// stored it) is paid, and the signed success callback to deliver is
    /// returned. Paying a paid payment returns the same callback again, as
    /// a provider repeats a callback; a closed payment cannot be paid.
    pub fn pay(&self, payment_id: &str, amount: Fen) -> Result<SignedCallback, ProviderError> {
        let amount = {
            let mut sim = self.simulation();
            let payment = sim.remember(payment_id, amount);
            if payment.status == ProviderStatus::Closed {
                return Err(ProviderError::Refused("the payment is closed".into()));
            }
            payment.status = ProviderStatus::Paid;
            payment.amount
        };
        let body = serde_json::to_vec(&CallbackBody {
            payment_id: payment_id.to_owned(),
            amount_fen: amount.get(),
            status: "success".into(),
        })
        .expect("a callback body serialises");
        let signature = self.sign(&body);
        Ok(SignedCallback {
            body,
            headers: vec![
                ("content-type".into(), "application/json".into()),
                (SIGNATURE_HEADER.into(), signature),
            ],
        })
    }

    fn simulation(&self) -> std::sync::MutexGuard<'_, Simulation> {
        // The state is plain data, consistent after every statement.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl Simulation {
    /// The payment, learnt as `amount` if unknown.
    fn remember(&mut self, payment_id: &str, amount: Fen) -> &mut SimulatedPayment {
        if !self.payments.contains_key(payment_id) {
            while self.age.len() >= self.remembered_max {
                let Some(oldest) = self.age.pop_front() else {
                    break;
                };
                self.payments.remove(&oldest);
            }
            self.age.push_back(payment_id.to_owned());
            self.payments.insert(
                payment_id.to_owned(),
                SimulatedPayment {
                    amount,
                    status: ProviderStatus::Pending,
                    refunds: Vec::new(),
                },
            );
        }
        self.payments
            .get_mut(payment_id)
            .expect("remembered just now")
    }

    fn known(&mut self, payment_id: &str) -> Result<&mut SimulatedPayment, ProviderError> {
        self.payments
            .get_mut(payment_id)
            .ok_or(ProviderError::UnknownPayment)
    }
}

#[async_trait]
impl PaymentProvider for SandboxProvider {
    fn code(&self) -> &'static str {
        CODE
    }

    async fn start(&self, request: &PaymentRequest) -> Result<Checkout, ProviderError> {
        let mut random = [0u8; 12];
        OsRng.fill_bytes(&mut random);
        let payment_id = format!("sbx_{}", hex::encode(random));
        self.simulation().remember(&payment_id, request.amount);
        Ok(Checkout {
            pay_url: format!("/api/v1/sandbox/payments/{payment_id}"),
            payment_id,
            qr_payload: None,
        })
    }

    async fn verify_callback(
        &self,
        callback: &RawCallback<'_>,
    ) -> Result<CallbackEvent, CallbackError> {
        let signature = callback.header(SIGNATURE_HEADER).unwrap_or("");
        self.verify(callback.body, signature)?;
        let parsed: CallbackBody = serde_json::from_slice(callback.body)
            .map_err(|e| CallbackError::Malformed(e.to_string()))?;
        let amount = i64::try_from(parsed.amount_fen)
            .ok()
            .and_then(Fen::from_stored)
            .ok_or_else(|| CallbackError::Malformed("amount out of range".into()))?;
        Ok(CallbackEvent {
            payment_id: parsed.payment_id,
            amount,
            status: if parsed.status == "success" {
                CallbackStatus::Succeeded
            } else {
                CallbackStatus::Unpaid
            },
        })
    }

    async fn query(&self, payment_id: &str) -> Result<ProviderPayment, ProviderError> {
        let mut sim = self.simulation();
        let payment = sim.known(payment_id)?;
        Ok(ProviderPayment {
            payment_id: payment_id.to_owned(),
            amount: payment.amount,
            status: payment.status,
            refunded: Fen::from_stored(i64::try_from(payment.refunded()).unwrap_or(i64::MAX))
                .expect("a sum of refunds is not negative"),
        })
    }

    async fn refund(
        &self,
        payment_id: &str,
        refund: &RefundRequest,
    ) -> Result<RefundReceipt, ProviderError> {
        let mut sim = self.simulation();
        let payment = sim.known(payment_id)?;
        if let Some(done) = payment
            .refunds
            .iter()
            .find(|r| r.refund_id == refund.refund_id)
        {
            return if done.amount == refund.amount {
                Ok(done.clone())
            } else {
                Err(ProviderError::Refused(
                    "this refund id was used for another amount".into(),
                ))
            };
        }
        if payment.status != ProviderStatus::Paid {
            return Err(ProviderError::Refused("the payment is not paid".into()));
        }
        if refund.amount.get() == 0 {
            return Err(ProviderError::Refused("a refund is more than ¥0.00".into()));
        }
        let left = payment.amount.get() - payment.refunded();
        if refund.amount.get() > left {
            return Err(ProviderError::Refused(format!(
                "only {} is left to refund",
                Fen::from_stored(i64::try_from(left).unwrap_or(i64::MAX))
                    .expect("what is left is not negative")
            )));
        }
        let receipt = RefundReceipt {
            refund_id: refund.refund_id.clone(),
            amount: refund.amount,
        };
        payment.refunds.push(receipt.clone());
        Ok(receipt)
    }

    async fn close(&self, payment_id: &str) -> Result<(), ProviderError> {
        let mut sim = self.simulation();
        let payment = sim.known(payment_id)?;
        match payment.status {
            ProviderStatus::Paid => Err(ProviderError::Refused(
                "the payment is paid; refund it instead".into(),
            )),
            ProviderStatus::Pending | ProviderStatus::Closed => {
                payment.status = ProviderStatus::Closed;
                Ok(())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fen(n: i64) -> Fen {
        Fen::price(n).unwrap()
    }

    fn headers(signature: &str) -> Vec<(String, String)> {
        vec![("X-Sandbox-Signature".to_owned(), signature.to_owned())]
    }

    async fn started(p: &SandboxProvider, amount: i64) -> Checkout {
        p.start(&PaymentRequest {
            order_id: 7,
            amount: fen(amount),
        })
        .await
        .unwrap()
    }

    fn refund(id: &str, amount: i64) -> RefundRequest {
        RefundRequest {
            refund_id: id.into(),
            amount: fen(amount),
            reason: "售后".into(),
        }
    }

    #[test]
    fn callback_signatures() {
        let p = SandboxProvider::new([9; 32]);
        let sig = p.sign(b"{\"payment_id\":\"sbx_1\"}");
        assert_eq!(p.verify(b"{\"payment_id\":\"sbx_1\"}", &sig), Ok(()));
        assert_eq!(
            p.verify(b"{\"payment_id\":\"sbx_2\"}", &sig),
            Err(BadSignature)
        );
        assert_eq!(p.verify(b"{}", "zz"), Err(BadSignature));
        assert_eq!(
            SandboxProvider::new([8; 32]).verify(b"{\"payment_id\":\"sbx_1\"}", &sig),
            Err(BadSignature)
        );
    }

    #[tokio::test]
    async fn start_opens_a_pending_payment_with_a_pay_page() {
        let p = SandboxProvider::new([1; 32]);
        let a = started(&p, 990).await;
        let b = started(&p, 990).await;
        assert_ne!(a.payment_id, b.payment_id);
        assert!(a.payment_id.starts_with("sbx_"));
        assert_eq!(a.payment_id.len(), 28);
        assert_eq!(
            a.pay_url,
            format!("/api/v1/sandbox/payments/{}", a.payment_id)
        );
        assert_eq!(a.qr_payload, None);
        assert_eq!(p.code(), "sandbox");
        assert_eq!(
            p.query(&a.payment_id).await.unwrap(),
            ProviderPayment {
                payment_id: a.payment_id.clone(),
                amount: fen(990),
                status: ProviderStatus::Pending,
                refunded: fen(0),
            }
        );
    }

    #[tokio::test]
    async fn paying_sends_a_callback_that_verifies_and_parses() {
        let p = SandboxProvider::new([2; 32]);
        let a = started(&p, 1980).await;
        // The amount the platform shows is not the simulation's to change.
        let sent = p.pay(&a.payment_id, fen(1)).unwrap();
        let event = p
            .verify_callback(&RawCallback {
                body: &sent.body,
                headers: &sent.headers,
            })
            .await
            .unwrap();
        assert_eq!(
            event,
            CallbackEvent {
                payment_id: a.payment_id.clone(),
                amount: fen(1980),
                status: CallbackStatus::Succeeded,
            }
        );
        assert_eq!(
            p.query(&a.payment_id).await.unwrap().status,
            ProviderStatus::Paid
        );
        assert_eq!(p.pay(&a.payment_id, fen(1980)).unwrap(), sent, "repeated");
    }

    #[tokio::test]
    async fn callbacks_are_verified_before_they_are_read() {
        let p = SandboxProvider::new([3; 32]);
        let check = |body: &'static [u8], headers: Vec<(String, String)>| {
            let p = &p;
            async move {
                p.verify_callback(&RawCallback {
                    body,
                    headers: &headers,
                })
                .await
            }
        };
        let body = br#"{"payment_id":"sbx_1","amount_fen":990,"status":"success"}"#;
        assert_eq!(
            check(body, vec![]).await,
            Err(CallbackError::BadSignature(BadSignature))
        );
        assert_eq!(
            check(body, headers(&SandboxProvider::new([4; 32]).sign(body))).await,
            Err(CallbackError::BadSignature(BadSignature))
        );
        assert_eq!(
            check(body, headers(&p.sign(body))).await.unwrap().status,
            CallbackStatus::Succeeded
        );
        let failed = br#"{"payment_id":"sbx_1","amount_fen":990,"status":"failed"}"#;
        assert_eq!(
            check(failed, headers(&p.sign(failed)))
                .await
                .unwrap()
                .status,
            CallbackStatus::Unpaid
        );
        for malformed in [
            &br#"{"payment_id":"sbx_1","amount_fen":990,"status":"success","x":1}"#[..],
            br#"{"payment_id":"sbx_1","amount_fen":-1,"status":"success"}"#,
            br#"{"payment_id":"sbx_1","amount_fen":9223372036854775808,"status":"success"}"#,
            b"not json",
        ] {
            assert!(
                matches!(
                    check(malformed, headers(&p.sign(malformed))).await,
                    Err(CallbackError::Malformed(_))
                ),
                "{}",
                String::from_utf8_lossy(malformed)
            );
        }
    }

    #[tokio::test]
    async fn refunds_up_to_what_was_paid_once_per_refund_id() {
        let p = SandboxProvider::new([5; 32]);
        let a = started(&p, 1000).await;
        assert!(matches!(
            p.refund(&a.payment_id, &refund("r1", 100)).await,
            Err(ProviderError::Refused(_))
        ));
        p.pay(&a.payment_id, fen(1000)).unwrap();
        let first = p.refund(&a.payment_id, &refund("r1", 600)).await.unwrap();
        assert_eq!(first.amount, fen(600));
        assert_eq!(
            p.refund(&a.payment_id, &refund("r1", 600)).await.unwrap(),
            first,
            "the same refund again"
        );
        assert!(matches!(
            p.refund(&a.payment_id, &refund("r1", 500)).await,
            Err(ProviderError::Refused(_))
        ));
        assert!(matches!(
            p.refund(&a.payment_id, &refund("r2", 401)).await,
            Err(ProviderError::Refused(_))
        ));
        assert!(matches!(
            p.refund(&a.payment_id, &refund("r2", 0)).await,
            Err(ProviderError::Refused(_))
        ));
        p.refund(&a.payment_id, &refund("r2", 400)).await.unwrap();
        let state = p.query(&a.payment_id).await.unwrap();
        assert_eq!(
            (state.status, state.refunded),
            (ProviderStatus::Paid, fen(1000))
        );
        assert_eq!(
            p.refund("sbx_nope", &refund("r3", 1)).await,
            Err(ProviderError::UnknownPayment)
        );
    }

    #[tokio::test]
    async fn closing_stops_payment_but_not_a_paid_one() {
        let p = SandboxProvider::new([6; 32]);
        let a = started(&p, 990).await;
        p.close(&a.payment_id).await.unwrap();
        p.close(&a.payment_id).await.unwrap();
        assert_eq!(
            p.query(&a.payment_id).await.unwrap().status,
            ProviderStatus::Closed
        );
        assert!(matches!(
            p.pay(&a.payment_id, fen(990)),
            Err(ProviderError::Refused(_))
        ));
        let b = started(&p, 990).await;
        p.pay(&b.payment_id, fen(990)).unwrap();
        assert!(matches!(
            p.close(&b.payment_id).await,
            Err(ProviderError::Refused(_))
        ));
        assert_eq!(
            p.close("sbx_nope").await,
            Err(ProviderError::UnknownPayment)
        );
        assert_eq!(
            p.query("sbx_nope").await,
            Err(ProviderError::UnknownPayment)
        );
    }

    #[tokio::test]
    async fn a_payment_from_before_a_restart_is_learnt_when_paid_and_the_oldest_forgotten() {
        let p = SandboxProvider::remembering([7; 32], 2);
        let sent = p.pay("sbx_old", fen(500)).unwrap();
        assert!(
            String::from_utf8(sent.body)
                .unwrap()
                .contains("\"amount_fen\":500")
        );
        assert_eq!(
            p.query("sbx_old").await.unwrap().status,
            ProviderStatus::Paid
        );
        let a = started(&p, 1).await;
        let b = started(&p, 2).await;
        assert_eq!(p.query("sbx_old").await, Err(ProviderError::UnknownPayment));
        assert!(p.query(&a.payment_id).await.is_ok());
        assert!(p.query(&b.payment_id).await.is_ok());
    }
}
