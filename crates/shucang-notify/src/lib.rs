//! Notifications by SMS and e-mail through a durable outbox.
//!
//! A domain that must tell someone something hands [`NewMessage`]s to its
//! own storage with the decision they report, which writes them to the
//! outbox in the same transaction (so a decision is never without its
//! message, and a failed send never undoes a decision). [`Notifier::deliver_due`] — run by a worker — hands due
//! messages to the [`Sender`] of their channel; a failure is retried with
//! doubling back-off up to [`ATTEMPTS_MAX`] times, then the message is
//! marked failed for an operator to see.
//!
//! The default senders are [`SandboxSender`]s: they deliver nowhere, and
//! the message stays in the outbox marked sent, where `shucang registry
//! outbox` prints it — what a test or a demo needs to read an SMS code or
//! follow an e-mail link.
//!
//! **Architecture invariant:** knows no domain, no HTTP and no SQL; storage
//! is the [`OutboxStore`] trait, implemented by `shucang-store`.

use std::sync::Arc;

use async_trait::async_trait;
use shucang_auth::PiiCipher;
use shucang_types::{Clock, UnixMillis};

/// Attempts before a message is marked failed.
pub const ATTEMPTS_MAX: u32 = 8;
/// The first retry's delay; each later one doubles it.
pub const RETRY_DELAY_FIRST_MS: i64 = 30_000;
/// Messages handed to senders per pass.
pub const DELIVER_BATCH_MAX: usize = 100;

/// How a message travels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Channel {
    /// A text message to a mobile number.
    Sms,
    /// An e-mail.
    Email,
}

impl Channel {
    /// The stable code stored with a message.
    pub fn code(self) -> &'static str {
        match self {
            Channel::Sms => "sms",
            Channel::Email => "email",
        }
    }

    /// The channel with this code.
    pub fn from_code(code: &str) -> Option<Channel> {
        match code {
            "sms" => Some(Channel::Sms),
            "email" => Some(Channel::Email),
            _ => None,
        }
    }
}

/// Where a message stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// Waiting for (another) attempt.
    Pending,
    /// Handed to the sender successfully.
    Sent,
    /// Given up after [`ATTEMPTS_MAX`] attempts.
    Failed,
}

impl Status {
    /// The stable code stored with a message.
    pub fn code(self) -> &'static str {
        match self {
            Status::Pending => "pending",
            Status::Sent => "sent",
            Status::Failed => "failed",
        }
    }

    /// The status with this code.
    pub fn from_code(code: &str) -> Option<Status> {
        match code {
            "pending" => Some(Status::Pending),
            "sent" => Some(Status::Sent),
            "failed" => Some(Status::Failed),
            _ => None,
        }
    }
}

/// A message to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewMessage {
    /// SMS or e-mail.
    pub channel: Channel,
    /// The mobile number or e-mail address.
    pub recipient: String,
    /// The e-mail subject; empty for SMS.
    pub subject: String,
    /// The text.
    pub body: String,
}

/// Keeps message bodies encrypted at rest: they carry one-time codes,
/// confirmation links and personal details. A body is sealed before it is
/// queued (AES-256-GCM under the PII key, bound to its channel and
/// recipient) and opened only to be sent or shown to an operator.
#[derive(Clone)]
pub struct BodySeal {
    cipher: Arc<PiiCipher>,
}

impl std::fmt::Debug for BodySeal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("BodySeal(…)")
    }
}

impl BodySeal {
    /// A seal with the PII cipher.
    pub fn new(cipher: Arc<PiiCipher>) -> BodySeal {
        BodySeal { cipher }
    }

    fn context(m: &NewMessage) -> String {
        format!("outbox.body:{}:{}", m.channel.code(), m.recipient)
    }

    /// `m` as it is queued: its body sealed.
    pub fn seal(&self, m: NewMessage) -> NewMessage {
        NewMessage {
            body: self.cipher.seal_text(&Self::context(&m), &m.body),
            ..m
        }
    }

    /// Opens a queued message's body; a body queued before sealing
    /// existed is left as it is.
    pub fn open(&self, m: &mut NewMessage) -> Result<(), OutboxError> {
        m.body = self
            .cipher
            .open_text(&Self::context(m), &m.body)
            .map_err(|_| {
                OutboxError("a queued message does not decrypt (wrong key or damaged)".into())
            })?;
        Ok(())
    }
}

/// A failed attempt to send a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failed {
    /// Attempts made so far, this one included.
    pub attempts: u32,
    /// When to try again; `None` gives up (the message is failed).
    pub next_attempt_at: Option<UnixMillis>,
    /// What went wrong.
    pub error: String,
}

/// A message in the outbox.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    /// Its id, in order of enqueueing.
    pub id: i64,
    /// What was enqueued.
    pub message: NewMessage,
    /// Where it stands.
    pub status: Status,
    /// Attempts made.
    pub attempts: u32,
    /// When the next attempt is due (pending messages).
    pub next_attempt_at: UnixMillis,
    /// The last sender error, if any.
    pub last_error: Option<String>,
    /// When it was enqueued.
    pub created_at: UnixMillis,
    /// When it was sent.
    pub sent_at: Option<UnixMillis>,
}

/// A storage failure (the back end's message).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("outbox storage: {0}")]
pub struct OutboxError(pub String);

/// The outbox's storage.
#[async_trait]
pub trait OutboxStore: Send + Sync {
    /// Pending messages due at `now`, oldest first, at most `limit`.
    async fn due_messages(
        &self,
        now: UnixMillis,
        limit: usize,
    ) -> Result<Vec<Message>, OutboxError>;
    /// Records a successful send.
    async fn mark_sent(&self, id: i64, at: UnixMillis) -> Result<(), OutboxError>;
    /// Records a failed attempt.
    async fn mark_attempt_failed(&self, id: i64, failed: &Failed) -> Result<(), OutboxError>;
    /// The newest messages first, at most `limit`, optionally only those
    /// to `recipient`.
    async fn recent_messages(
        &self,
        recipient: Option<&str>,
        limit: usize,
    ) -> Result<Vec<Message>, OutboxError>;
}

/// Why a sender could not deliver.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct SendError(pub String);

/// Delivers messages of one channel (an SMS gateway, an SMTP relay).
#[async_trait]
pub trait Sender: Send + Sync {
    /// Delivers one message.
    async fn send(&self, message: &NewMessage) -> Result<(), SendError>;
}

/// Delivers nowhere and always succeeds: the message stays readable in
/// the outbox (the default, for demos and tests).
#[derive(Debug, Default, Clone, Copy)]
pub struct SandboxSender;

#[async_trait]
impl Sender for SandboxSender {
    async fn send(&self, _message: &NewMessage) -> Result<(), SendError> {
        Ok(())
    }
}

/// What one delivery pass did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct DeliveryPass {
    /// Messages sent.
    pub sent: usize,
    /// Attempts that failed and will be retried.
    pub retrying: usize,
    /// Messages given up.
    pub failed: usize,
}

/// The outbox and its senders.
pub struct Notifier {
    store: Arc<dyn OutboxStore>,
    sms: Arc<dyn Sender>,
    email: Arc<dyn Sender>,
    clock: Arc<dyn Clock>,
    seal: BodySeal,
}

impl Notifier {
    /// A notifier over `store` with a sender per channel, opening bodies
    /// sealed with `seal`.
    pub fn new(
        store: Arc<dyn OutboxStore>,
        (sms, email): (Arc<dyn Sender>, Arc<dyn Sender>),
        clock: Arc<dyn Clock>,
        seal: BodySeal,
    ) -> Notifier {
        Notifier {
            store,
            sms,
            email,
            clock,
            seal,
        }
    }

    /// One pass: sends what is due; returns what happened.
    pub async fn deliver_due(&self) -> Result<DeliveryPass, OutboxError> {
        let now = self.clock.now();
        let mut pass = DeliveryPass::default();
        for mut m in self.store.due_messages(now, DELIVER_BATCH_MAX).await? {
            self.seal.open(&mut m.message)?;
            let sender = match m.message.channel {
                Channel::Sms => &self.sms,
                Channel::Email => &self.email,
            };
            match sender.send(&m.message).await {
                Ok(()) => {
                    self.store.mark_sent(m.id, self.clock.now()).await?;
                    pass.sent += 1;
                }
                Err(e) => {
                    let attempts = m.attempts + 1;
                    let next = (attempts < ATTEMPTS_MAX)
                        .then(|| now.plus_ms(RETRY_DELAY_FIRST_MS << (attempts - 1).min(20)));
                    tracing::warn!(id = m.id, attempts, error = %e, "notification not sent");
                    let failed = Failed {
                        attempts,
                        next_attempt_at: next,
                        error: e.0,
                    };
                    self.store.mark_attempt_failed(m.id, &failed).await?;
                    if next.is_some() {
                        pass.retrying += 1;
                    } else {
                        pass.failed += 1;
                    }
                }
            }
        }
        Ok(pass)
    }

    /// The newest messages, optionally to one recipient.
    pub async fn recent(
        &self,
        recipient: Option<&str>,
        limit: usize,
    ) -> Result<Vec<Message>, OutboxError> {
        let mut messages = self.store.recent_messages(recipient, limit).await?;
        for m in &mut messages {
            self.seal.open(&mut m.message)?;
        }
        Ok(messages)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip() {
        for c in [Channel::Sms, Channel::Email] {
            assert_eq!(Channel::from_code(c.code()), Some(c));
        }
        for s in [Status::Pending, Status::Sent, Status::Failed] {
            assert_eq!(Status::from_code(s.code()), Some(s));
        }
        assert_eq!(Channel::from_code("fax"), None);
    }

    #[test]
    fn bodies_are_sealed_to_their_recipient_and_open_again() {
        let seal = BodySeal::new(Arc::new(PiiCipher::new(&[9; 32])));
        let m = NewMessage {
            channel: Channel::Sms,
            recipient: "13912345678".into(),
            subject: String::new(),
            body: "您的验证码是 123456".into(),
        };
        let sealed = seal.seal(m.clone());
        assert!(!sealed.body.contains("123456"), "{}", sealed.body);
        assert_eq!(seal.seal(sealed.clone()), sealed, "sealed once");
        let mut opened = sealed.clone();
        seal.open(&mut opened).unwrap();
        assert_eq!(opened, m);
        // Moved to another recipient, it does not open.
        let mut moved = NewMessage {
            recipient: "13800000000".into(),
            ..sealed.clone()
        };
        assert!(seal.open(&mut moved).is_err());
        // A body queued before sealing existed reads as it is.
        let mut legacy = m.clone();
        seal.open(&mut legacy).unwrap();
        assert_eq!(legacy, m);
    }
}
