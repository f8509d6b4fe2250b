//! Complaint and report intake (投诉举报, Art. 18): anyone may file one,
//! logged in or with a contact; each gets a ticket number to look it up.
//! Handling by staff comes with the service console.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};

use rand::Rng;
use shucang_types::{Clock, UnixMillis};

use crate::store::{ComplaintRecord, ComplaintStore, StoreError};

/// Complaint categories, by stable code.
pub const COMPLAINT_CATEGORIES: [&str; 5] = [
    "infringement",
    "illegal_content",
    "fraud",
    "personal_information",
    "other",
];
/// Longest target description, in characters.
pub const TARGET_CHARS_MAX: usize = 200;
/// Shortest and longest complaint text, in characters.
pub const TEXT_CHARS_MIN: usize = 10;
/// Longest complaint text, in characters.
pub const TEXT_CHARS_MAX: usize = 2000;
/// Longest contact, in characters.
pub const CONTACT_CHARS_MAX: usize = 100;
/// Complaints one IP address may file per hour.
pub const COMPLAINTS_PER_IP_PER_HOUR: usize = 5;

/// A complaint as filed.
#[derive(Debug, Clone)]
pub struct NewComplaint {
    /// One of [`COMPLAINT_CATEGORIES`].
    pub category: String,
    /// What it is about.
    pub target: String,
    /// The complaint.
    pub text: String,
    /// How to reach the complainant (required when not logged in).
    pub contact: Option<String>,
}

/// Why a complaint was refused.
#[derive(Debug, thiserror::Error)]
pub enum ComplaintError {
    /// A field is missing or out of bounds; names it.
    #[error("{0}")]
    InvalidField(String),
    /// Too many complaints from this address in the last hour.
    #[error("too many complaints from this address; try again later")]
    RateLimited,
    /// Storage failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Complaint intake.
pub struct ComplaintsService {
    store: Arc<dyn ComplaintStore>,
    clock: Arc<dyn Clock>,
    recent: Mutex<HashMap<String, VecDeque<UnixMillis>>>,
}

fn bounded(name: &str, value: &str, min: usize, max: usize) -> Result<String, ComplaintError> {
    let v = value.trim();
    let n = v.chars().count();
    if n < min || n > max || v.chars().any(|c| c.is_control() && c != '\n' && c != '\r') {
        return Err(ComplaintError::InvalidField(format!(
            "{name} must be {min} to {max} characters"
        )));
    }
    Ok(v.to_owned())
}

impl ComplaintsService {
    /// Builds the service.
    pub fn new(store: Arc<dyn ComplaintStore>, clock: Arc<dyn Clock>) -> ComplaintsService {
        ComplaintsService {
            store,
            clock,
            recent: Mutex::new(HashMap::new()),
        }
    }

    /// Files a complaint; returns its record (with the ticket number).
    pub async fn file(
        &self,
        c: NewComplaint,
        account_id: Option<i64>,
        ip: &str,
    ) -> Result<ComplaintRecord, ComplaintError> {
        if !COMPLAINT_CATEGORIES.contains(&c.category.as_str()) {
            return Err(ComplaintError::InvalidField(format!(
                "category is one of {}",
                COMPLAINT_CATEGORIES.join(", ")
            )));
        }
        let target = bounded("target", &c.target, 1, TARGET_CHARS_MAX)?;
        let text = bounded("text", &c.text, TEXT_CHARS_MIN, TEXT_CHARS_MAX)?;
        let contact = match c
            .contact
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
        {
            Some(contact) => Some(bounded("contact", contact, 1, CONTACT_CHARS_MAX)?),
            None if account_id.is_none() => {
                return Err(ComplaintError::InvalidField(
                    "contact is required when not logged in".into(),
                ));
            }
            None => None,
        };
        let now = self.clock.now();
        self.admit(ip, now)?;
        let date = now.china_date();
        let suffix: String = {
            const ALPHABET: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZ23456789";
            let mut rng = rand::thread_rng();
            (0..6)
                .map(|_| ALPHABET[rng.gen_range(0..ALPHABET.len())] as char)
                .collect()
        };
        let record = ComplaintRecord {
            ticket: format!(
                "TS{:04}{:02}{:02}-{suffix}",
                date.year, date.month, date.day
            ),
            category: c.category,
            target,
            text,
            contact,
            account_id,
            ip: ip.to_owned(),
            status: "received".into(),
            created_at: now,
        };
        self.store.insert_complaint(&record).await?;
        tracing::info!(ticket = %record.ticket, category = %record.category, "complaint received");
        Ok(record)
    }

    /// A complaint by ticket.
    pub async fn lookup(&self, ticket: &str) -> Result<Option<ComplaintRecord>, StoreError> {
        if ticket.len() > 32
            || !ticket
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-')
        {
            return Ok(None);
        }
        self.store.complaint_by_ticket(ticket).await
    }

    /// Counts a complaint from `ip`, refusing past the hourly limit.
    fn admit(&self, ip: &str, now: UnixMillis) -> Result<(), ComplaintError> {
        let mut recent = self.recent.lock().expect("rate limiter lock");
        let hour_ago = now.plus_ms(-3_600_000);
        recent.retain(|_, times| {
            while times.front().is_some_and(|t| *t <= hour_ago) {
                times.pop_front();
            }
            !times.is_empty()
        });
        let times = recent.entry(ip.to_owned()).or_default();
        if times.len() >= COMPLAINTS_PER_IP_PER_HOUR {
            return Err(ComplaintError::RateLimited);
        }
        times.push_back(now);
        Ok(())
    }
}
